#!/usr/bin/python3
"""Writes the PyTorch reference fixtures of attn-trace: tests/fixtures/*.txt.

Run by hand, with real PyTorch:

    /usr/bin/python3 tests/make_fixtures.py

The fixtures are bit-identical to attn-trace's reference kernels when torch
runs on the reference BLAS (Debian's libblas3). With OpenBLAS selected as
libblas.so.3 (libopenblas0-pthread, which make bench wants for a fair
timing) torch's matrix products round differently; select the reference
BLAS for the run:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack \
        /usr/bin/python3 tests/make_fixtures.py

Its output is committed; `make check` never runs Python. Each fixture holds
one configuration (seed, sentence or token ids, sizes, focus, causal) and
every tensor of the article's computation as real torch computes it:

  part 1 (single_head, convention W.x): the embedding table, the token ids,
  the sentence's embeddings, w_key, w_query, w_value (drawn in that order),
  then for the focus token N: x_N, key_N, query_N, value_N, keys, values,
  scores_N (unscaled), scaled_scores_N (scaled, then masked when causal),
  aN, zN, and for all tokens at once: queries, scores (scaled, masked when
  causal), attention_weights, z.

  part 2 (multi_head, convention x.W, re-seeded): sentence_embed, w_query,
  w_key, w_value (each [h, d, d_k]), w_output, queries, keys, values,
  scores, attention_weights, head_outputs, concat_heads, multihead_output.

Format (read by tests/fixture.c):

    # comment lines
    name NAME
    seed N
    sentence WORDS...          (absent when only ids were given)
    token_ids ID...
    vocab_size V
    d_model D
    heads H
    focus F                    (1-based)
    causal 0|1
    tensor PART NAME NDIM DIM...
    <one line per innermost row, values separated by single spaces>
    ...
    end

Values are float32, written with format(float(v), '.9g') (9 significant
digits: enough for strtof to give back the exact float32); -inf is "-inf".
"""

import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")


def torch_version():
    """torch's own version, with the Debian package's when there is one
    (Debian's python3-torch 1.13.1 calls itself 1.13.0a0)."""
    version = torch.__version__
    try:
        deb = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "python3-torch"],
            capture_output=True, text=True, check=True).stdout.strip()
        if deb:
            version = "%s (Debian python3-torch %s)" % (version, deb)
    except (OSError, subprocess.CalledProcessError):
        pass
    return version


# ---------------------------------------------------------------------------
# Configurations. A sentence without ids is tokenized; ids given with a
# sentence (and a vocab_size) replace tokenization, the sentence only labels.
CONFIGS = [
    dict(name="article", seed=0, sentence="my name is Marcello Politi",
         ids=[2, 6, 8, 3, 1], vocab_size=10, d=16, heads=4, focus=1,
         causal=0),
    dict(name="article_causal_focus3", seed=0,
         sentence="my name is Marcello Politi", ids=[2, 6, 8, 3, 1],
         vocab_size=10, d=16, heads=4, focus=3, causal=1),
    dict(name="cat_d32_h8", seed=42,
         sentence="the cat sat on the mat because it was tired",
         d=32, heads=8, focus=4, causal=0),
    dict(name="need_d64_h1_causal", seed=7,
         sentence="attention is all you need", d=64, heads=1, focus=2,
         causal=1),
    dict(name="long_d64_h2", seed=123,
         sentence="a small model reads a long sentence and every word looks "
                  "at every other word",
         d=64, heads=2, focus=5, causal=0),
    # V*d = 8 < 16: torch fills the embedding with its scalar normal path.
    dict(name="tiny_scalar_even", seed=3, sentence="a b a", d=4, heads=2,
         focus=3, causal=0),
    # V*d = 15: scalar normal path with an odd count of values.
    dict(name="tiny_scalar_odd", seed=11, sentence="hello world again", d=5,
         heads=5, focus=1, causal=1),
    dict(name="ids_v50_d24_h3", seed=2024, sentence=None,
         ids=[49, 0, 17, 17, 3, 28], vocab_size=50, d=24, heads=3, focus=6,
         causal=1),
    # V*d = 18: >= 16 but not a multiple of 16 (the vectorized normal path
    # redoes its last 16 values).
    dict(name="tail_d6_h3", seed=5, sentence="x y z", d=6, heads=3, focus=2,
         causal=0),
    # V*d = 16 exactly: the smallest count on the vectorized normal path.
    dict(name="boundary16_d8_h2", seed=9, sentence="one two", d=8, heads=2,
         focus=2, causal=1),
    # A seed >= 2**32. torch 1.13's CPU generator seeds its mt19937 with the
    # low 32 bits only, so this must equal tail_d6_h3 (seed 5) tensor for
    # tensor; the script checks that. torch.initial_seed() still reports
    # the full 64-bit value.
    dict(name="seed64_2p32plus5", seed=2**32 + 5, sentence="x y z", d=6,
         heads=3, focus=2, causal=0),
]


def tokenize(sentence):
    """ASCII-only lowercase, split on white space, sorted distinct words."""
    lowered = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c
                      for c in sentence)
    words = lowered.split()
    vocab = sorted(set(words), key=lambda w: w.encode("utf-8"))
    index = {w: i for i, w in enumerate(vocab)}
    return [index[w] for w in words], len(vocab)


def causal_mask(s):
    return torch.triu(torch.ones(s, s), diagonal=1).bool()


def single_head(cfg, ids, check=True):
    """Part 1: one head, W.x, with per-token names for the focus token.
    With check, asserts that the all-tokens rows agree with the focus
    token's own (true at the fixtures' small sizes; tests/bench_torch.py
    times the same code at GPT-2's size without it)."""
    V, d, N = cfg["vocab_size"], cfg["d"], cfg["focus"]
    out = []

    torch.manual_seed(cfg["seed"])
    embed = torch.nn.Embedding(V, d)
    embedding = embed.weight.detach()
    tokenized_sentence = torch.tensor(ids)
    sentence_embed = embed(tokenized_sentence).detach()
    s = sentence_embed.shape[0]
    out += [("embedding", embedding),
            ("tokenized_sentence", tokenized_sentence),
            ("sentence_embed", sentence_embed)]

    w_key = torch.rand(d, d)
    w_query = torch.rand(d, d)
    w_value = torch.rand(d, d)
    out += [("w_key", w_key), ("w_query", w_query), ("w_value", w_value)]

    f = N - 1
    x_f = sentence_embed[f]
    key_f = w_key.matmul(x_f)
    query_f = w_query.matmul(x_f)
    value_f = w_value.matmul(x_f)
    keys = sentence_embed.matmul(w_key.T)
    values = sentence_embed.matmul(w_value.T)
    scores_f = query_f.matmul(keys.T)
    scaled_scores_f = scores_f / d ** 0.5
    if cfg["causal"]:
        scaled_scores_f = scaled_scores_f.masked_fill(
            torch.arange(s) > f, float("-inf"))
    a_f = F.softmax(scaled_scores_f, dim=0)
    z_f = a_f.matmul(values)
    out += [("x_%d" % N, x_f), ("key_%d" % N, key_f),
            ("query_%d" % N, query_f), ("value_%d" % N, value_f),
            ("keys", keys), ("values", values),
            ("scores_%d" % N, scores_f),
            ("scaled_scores_%d" % N, scaled_scores_f),
            ("a%d" % N, a_f), ("z%d" % N, z_f)]

    queries = sentence_embed.matmul(w_query.T)
    scores = queries.matmul(keys.T) / d ** 0.5
    if cfg["causal"]:
        scores = scores.masked_fill(causal_mask(s), float("-inf"))
    attention_weights = F.softmax(scores, dim=-1)
    z = attention_weights.matmul(values)
    out += [("queries", queries), ("scores", scores),
            ("attention_weights", attention_weights), ("z", z)]

    if not check:
        return out
    # The focus token's row of the all-at-once computation is its own.
    assert torch.allclose(attention_weights[f], a_f, rtol=1e-5, atol=1e-6)
    assert torch.allclose(z[f], z_f, rtol=1e-4, atol=1e-5)
    assert torch.allclose(queries[f], query_f, rtol=1e-5, atol=1e-5)
    return out


def multi_head(cfg, ids):
    """Part 2: h heads, x.W, re-seeded."""
    V, d, h = cfg["vocab_size"], cfg["d"], cfg["heads"]
    assert d % h == 0
    d_k = d // h
    out = []

    torch.manual_seed(cfg["seed"])
    embed = torch.nn.Embedding(V, d)
    tokenized_sentence = torch.tensor(ids)
    sentence_embed = embed(tokenized_sentence).detach()
    s = sentence_embed.shape[0]
    out.append(("sentence_embed", sentence_embed))

    w_query = torch.rand(h, d, d_k)
    w_key = torch.rand(h, d, d_k)
    w_value = torch.rand(h, d, d_k)
    w_output = torch.rand(d, d)
    out += [("w_query", w_query), ("w_key", w_key), ("w_value", w_value),
            ("w_output", w_output)]

    queries = torch.einsum("sd,hde->hse", sentence_embed, w_query)
    keys = torch.einsum("sd,hde->hse", sentence_embed, w_key)
    values = torch.einsum("sd,hde->hse", sentence_embed, w_value)
    scores = torch.einsum("hse,hek->hsk", queries,
                          keys.transpose(-2, -1)) / (d_k ** 0.5)
    if cfg["causal"]:
        scores = scores.masked_fill(causal_mask(s), float("-inf"))
    attention_weights = F.softmax(scores, dim=-1)
    head_outputs = torch.einsum("hij,hjk->hik", attention_weights, values)
    concat_heads = head_outputs.permute(1, 0, 2).reshape(s, -1)
    multihead_output = concat_heads.matmul(w_output)
    out += [("queries", queries), ("keys", keys), ("values", values),
            ("scores", scores), ("attention_weights", attention_weights),
            ("head_outputs", head_outputs), ("concat_heads", concat_heads),
            ("multihead_output", multihead_output)]
    return out


def fmt(v):
    return format(float(v), ".9g")


def write_tensor(lines, part, name, t):
    t = t.detach().contiguous()
    shape = list(t.shape)
    assert 1 <= len(shape) <= 4, (name, shape)
    lines.append("tensor %s %s %d %s" % (part, name, len(shape),
                                         " ".join(str(n) for n in shape)))
    rows = t.reshape(-1, shape[-1])
    if t.dtype == torch.int64:
        for row in rows.tolist():
            lines.append(" ".join(str(int(v)) for v in row))
    else:
        assert t.dtype == torch.float32, (name, t.dtype)
        for row in rows.numpy():
            text = " ".join(fmt(v) for v in row)
            # 9 significant digits give back the exact float32.
            back = np.array([float(x) for x in text.split()],
                            dtype=np.float32)
            assert np.array_equal(back, row) or np.array_equal(
                np.isnan(back), np.isnan(row)), name
            lines.append(text)


def build(cfg, version):
    cfg = dict(cfg)
    if cfg.get("ids") is None:
        cfg["ids"], cfg["vocab_size"] = tokenize(cfg["sentence"])
    ids = cfg["ids"]
    assert all(0 <= i < cfg["vocab_size"] for i in ids)
    assert 1 <= cfg["focus"] <= len(ids)

    part1 = single_head(cfg, ids)
    part2 = multi_head(cfg, ids)

    lines = ["# attn-trace reference fixture: made by tests/make_fixtures.py "
             "with torch %s; do not edit" % version,
             "name %s" % cfg["name"],
             "seed %d" % cfg["seed"]]
    if cfg.get("sentence") is not None:
        lines.append("sentence %s" % cfg["sentence"])
    lines += ["token_ids %s" % " ".join(str(i) for i in ids),
              "vocab_size %d" % cfg["vocab_size"],
              "d_model %d" % cfg["d"],
              "heads %d" % cfg["heads"],
              "focus %d" % cfg["focus"],
              "causal %d" % cfg["causal"]]
    for name, t in part1:
        write_tensor(lines, "single_head", name, t)
    for name, t in part2:
        write_tensor(lines, "multi_head", name, t)
    lines.append("end")
    return "\n".join(lines) + "\n", dict(part1), dict(part2)


def check_article(p1, p2):
    """The values real torch prints for the article's configuration."""
    def near(got, want, rel=2e-4, abs_=1e-6):
        got = [float(v) for v in got]
        ok = all(abs(g - w) <= max(abs_, rel * abs(w))
                 for g, w in zip(got, want))
        assert ok and len(got) == len(want), (got, want)

    near(p1["a1"], [0.5839, 7.9161e-05, 4.5719e-04, 0.032865, 0.38266])
    near(p1["z1"][:4], [2.2656, -0.0438, 0.0197, -0.2403], rel=5e-4,
         abs_=1e-4)
    near(p2["attention_weights"][0][0],
         [0.4915, 0.0082, 0.0225, 0.3192, 0.1586], rel=5e-4, abs_=1e-4)
    near(p2["multihead_output"][0][:4], [11.1806, 11.2682, 14.4613, 12.2492],
         rel=1e-5)
    print("article a1 =", [float(v) for v in p1["a1"]])
    print("article z1 =", [float(v) for v in p1["z1"]])
    print("article multihead_output[0] =",
          [float(v) for v in p2["multihead_output"][0]])


def main():
    if len(sys.argv) > 1:
        sys.exit("usage: make_fixtures.py (no arguments)")
    torch.set_num_threads(1)
    version = torch_version()
    os.makedirs(OUT_DIR, exist_ok=True)
    results = {}
    for cfg in CONFIGS:
        text, p1, p2 = build(cfg, version)
        results[cfg["name"]] = (p1, p2)
        path = os.path.join(OUT_DIR, cfg["name"] + ".txt")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        print("wrote %s (%d bytes)" % (os.path.relpath(path), len(text)))

    check_article(*results["article"])

    # torch.manual_seed(2**32 + 5) draws what torch.manual_seed(5) draws.
    for a, b in zip(results["tail_d6_h3"], results["seed64_2p32plus5"]):
        for name in a:
            assert torch.equal(a[name], b[name]), name
    print("seed 2**32+5 gives the same tensors as seed 5")


if __name__ == "__main__":
    main()
