#!/usr/bin/python3
"""Writes the PyTorch references of attn-trace's experiments (issue 13):
tests/fixtures/experiments/*.txt.

Run by hand, with real PyTorch (Debian's python3-torch, on the reference
BLAS as tests/make_fixtures.py explains):

    /usr/bin/python3 tests/make_experiment_fixtures.py

Each fixture is the article's configuration traced under one change, and
the change is made here in plain torch, independently of the C code: the
two parts of the article are written again below with a hook that sees
every tensor right after it is made (where a set= replaces a value), a
divisor for the scores, a mask switch and a head to zero. The one-token
decode with a KV cache is computed from the token's embedding row alone
against the keys and values of the tokens before it.

The format is tests/make_fixtures.py's (read by tests/fixture.c); the
header's causal line is the trace's own, after the change. Which change
each file holds is listed in tests/check_experiment.c, by file name.
"""
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures as mf  # noqa: E402  (the format writer and helpers)

OUT_DIR = os.path.join(HERE, "fixtures", "experiments")

ARTICLE = {"seed": 0, "sentence": "my name is Marcello Politi",
           "ids": [2, 6, 8, 3, 1], "vocab_size": 10, "d": 16, "heads": 4,
           "focus": 1, "causal": 0}


def no_hook(part, name, t):
    return t


def part_one(cfg, ids, divisor, causal, hook):
    """Part 1 (W.x) with the scores divided by divisor (None: sqrt(d))."""
    V, d, N = cfg["vocab_size"], cfg["d"], cfg["focus"]
    out = []

    def keep(name, t):
        t = hook("single_head", name, t)
        out.append((name, t))
        return t

    div = d ** 0.5 if divisor is None else divisor
    torch.manual_seed(cfg["seed"])
    embed = torch.nn.Embedding(V, d)
    embedding = keep("embedding", embed.weight.detach().clone())
    tok = keep("tokenized_sentence", torch.tensor(ids))
    x = keep("sentence_embed", embedding[tok])
    s = x.shape[0]
    w_key = keep("w_key", torch.rand(d, d))
    w_query = keep("w_query", torch.rand(d, d))
    w_value = keep("w_value", torch.rand(d, d))
    f = N - 1
    x_f = keep("x_%d" % N, x[f].clone())
    keep("key_%d" % N, w_key.matmul(x_f))
    query_f = keep("query_%d" % N, w_query.matmul(x_f))
    keep("value_%d" % N, w_value.matmul(x_f))
    keys = keep("keys", x.matmul(w_key.T))
    values = keep("values", x.matmul(w_value.T))
    scores_f = keep("scores_%d" % N, query_f.matmul(keys.T))
    scaled = scores_f / div
    if causal:
        scaled = scaled.masked_fill(torch.arange(s) > f, float("-inf"))
    scaled = keep("scaled_scores_%d" % N, scaled)
    a_f = keep("a%d" % N, F.softmax(scaled, dim=0))
    keep("z%d" % N, a_f.matmul(values))
    queries = keep("queries", x.matmul(w_query.T))
    scores = queries.matmul(keys.T) / div
    if causal:
        scores = scores.masked_fill(mf.causal_mask(s), float("-inf"))
    scores = keep("scores", scores)
    weights = keep("attention_weights", F.softmax(scores, dim=-1))
    keep("z", weights.matmul(values))
    return out


def part_two(cfg, ids, divisor, causal, zero_head, hook, kv_token):
    """Part 2 (x.W, re-seeded), head zero_head (or None) zeroed, and the
    one-token decode of token kv_token (or None)."""
    V, d, h = cfg["vocab_size"], cfg["d"], cfg["heads"]
    d_k = d // h
    out = []

    def keep(name, t):
        t = hook("multi_head", name, t)
        out.append((name, t))
        return t

    div = d_k ** 0.5 if divisor is None else divisor
    torch.manual_seed(cfg["seed"])
    embed = torch.nn.Embedding(V, d)
    x = keep("sentence_embed", embed(torch.tensor(ids)).detach())
    s = x.shape[0]
    w_query = keep("w_query", torch.rand(h, d, d_k))
    w_key = keep("w_key", torch.rand(h, d, d_k))
    w_value = keep("w_value", torch.rand(h, d, d_k))
    w_output = keep("w_output", torch.rand(d, d))
    queries = keep("queries", torch.einsum("sd,hde->hse", x, w_query))
    keys = keep("keys", torch.einsum("sd,hde->hse", x, w_key))
    values = keep("values", torch.einsum("sd,hde->hse", x, w_value))
    scores = torch.einsum("hse,hek->hsk", queries, keys.transpose(-2, -1)) / div
    if causal:
        scores = scores.masked_fill(mf.causal_mask(s), float("-inf"))
    scores = keep("scores", scores)
    weights = keep("attention_weights", F.softmax(scores, dim=-1))
    heads = torch.einsum("hij,hjk->hik", weights, values)
    if zero_head is not None:
        heads[zero_head] = 0.0
    heads = keep("head_outputs", heads)
    concat = keep("concat_heads", heads.permute(1, 0, 2).reshape(s, -1))
    keep("multihead_output", concat.matmul(w_output))
    if kv_token is not None:
        p = kv_token
        x_p = x[p:p + 1]
        q = torch.einsum("sd,hde->hse", x_p, w_query)
        k_new = torch.einsum("sd,hde->hse", x_p, w_key)
        v_new = torch.einsum("sd,hde->hse", x_p, w_value)
        kv_keys = torch.cat([keys[:, :p], k_new], dim=1)
        kv_values = torch.cat([values[:, :p], v_new], dim=1)
        sc = torch.einsum("hse,hek->hsk", q, kv_keys.transpose(-2, -1)) / div
        w = F.softmax(sc, dim=-1)
        o = torch.einsum("hij,hjk->hik", w, kv_values)
        keep("kv_query", q.reshape(h, d_k))
        keep("kv_keys", kv_keys)
        keep("kv_values", kv_values)
        keep("kv_scores", sc.reshape(h, p + 1))
        keep("kv_weights", w.reshape(h, p + 1))
        keep("kv_output", o.reshape(h, d_k))
        # the point of the cache: the decode is the full trace's row p
        assert torch.equal(o.reshape(h, d_k), heads[:, p]), "kv decode"
    return out


def setter(changes):
    """A hook making each (part, name, index, value) of changes."""
    def hook(part, name, t):
        for c_part, c_name, index, val in changes:
            if (c_part, c_name) == (part, name):
                t = t.clone()
                t[index] = val
        return t
    return hook


# file name, then the change as keyword arguments of trace()
CASES = [
    ("no_scale", dict(divisor=1.0)),
    ("scale_8", dict(divisor=8.0)),
    ("no_mask", dict(base_causal=1, causal=0)),
    ("causal", dict(causal=1)),
    ("zero_head_1", dict(zero_head=1)),
    ("set_weight", dict(sets=[("single_head", "w_key", (0, 1), 5.0)])),
    ("set_score", dict(sets=[("multi_head", "scores", (0, 1, 2), 3.0)])),
    ("swap_1_3", dict(swap=(1, 3))),
    ("kv_cache", dict(base_causal=1, causal=1, kv=4)),
]


def trace(name, version, divisor=None, base_causal=0, causal=None,
          zero_head=None, sets=(), swap=None, kv=None):
    cfg = dict(ARTICLE)
    cfg["name"] = "exp_" + name
    ids = list(cfg["ids"])
    words = cfg["sentence"].split()
    if swap is not None:
        i, j = swap
        ids[i], ids[j] = ids[j], ids[i]
        words[i], words[j] = words[j], words[i]
    eff_causal = base_causal if causal is None else causal
    hook = setter(sets)
    p1 = part_one(cfg, ids, divisor, eff_causal, hook)
    p2 = part_two(cfg, ids, divisor, eff_causal, zero_head, hook, kv)
    lines = ["# attn-trace experiment fixture: made by "
             "tests/make_experiment_fixtures.py with torch %s; do not edit"
             % version,
             "name %s" % cfg["name"], "seed %d" % cfg["seed"],
             "sentence %s" % " ".join(words),
             "token_ids %s" % " ".join(str(i) for i in ids),
             "vocab_size %d" % cfg["vocab_size"], "d_model %d" % cfg["d"],
             "heads %d" % cfg["heads"], "focus %d" % cfg["focus"],
             "causal %d" % eff_causal]
    for n, t in p1:
        mf.write_tensor(lines, "single_head", n, t)
    for n, t in p2:
        mf.write_tensor(lines, "multi_head", n, t)
    lines.append("end")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# no-positions on a GPT-2 checkpoint: the rows of wpe zeroed, so nothing
# tells the blocks where a token stands. The checkpoint is the F32 one
# tests/make_gpt2_fixtures.py writes; its forward pass (reference()) is that
# script's, written from the GPT-2 architecture with torch.nn.functional.

GPT2_DIR = os.path.join(HERE, "fixtures", "gpt2")
NO_POSITIONS_OF = "d16_h2_l2_f32"


def read_f32_safetensors(path):
    """name -> float32 array of an F32 safetensors file."""
    import json
    import struct
    import numpy as np
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        lo, hi = info["data_offsets"]
        out[name] = np.frombuffer(blob[8 + n + lo:8 + n + hi], dtype="<f4").reshape(info["shape"]).copy()
    return out


def write_no_positions():
    import numpy as np
    import make_gpt2_fixtures as g
    src = os.path.join(GPT2_DIR, NO_POSITIONS_OF)
    with open(os.path.join(src, "config.json")) as f:
        import json
        cfg = json.load(f)
    weights = read_f32_safetensors(os.path.join(src, "model.safetensors"))
    weights["wpe.weight"] = np.zeros_like(weights["wpe.weight"])
    ids = [int(i) for i in np.load(os.path.join(src, "ref", "token_ids.npy"))]
    ref = g.reference(weights, cfg["n_embd"], cfg["n_head"], cfg["n_layer"], ids)
    out = os.path.join(OUT_DIR, "model_no_positions")
    os.makedirs(out, exist_ok=True)
    for key, value in ref.items():
        arr = np.ascontiguousarray(value)
        arr = arr.astype("<i8") if arr.dtype == np.int64 else arr.astype("<f4")
        np.save(os.path.join(out, key + ".npy"), arr)
    print("wrote", out, "(%d tensors)" % len(ref))


def main():
    version = mf.torch_version()
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, kwargs in CASES:
        path = os.path.join(OUT_DIR, name + ".txt")
        with open(path, "w") as f:
            f.write(trace(name, version, **kwargs))
        print("wrote", path)
    write_no_positions()


if __name__ == "__main__":
    main()
