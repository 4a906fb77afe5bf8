#!/usr/bin/python3
"""Writes the GPT-2 checkpoint fixtures of attn-trace: tests/fixtures/gpt2/.

Run by hand, with Debian's PyTorch (python3-torch) on the reference BLAS:

    /usr/bin/python3 tests/make_gpt2_fixtures.py            # the fixtures
    /usr/bin/python3 tests/make_gpt2_fixtures.py --bench    # the GPT-2-small benchmark

(With OpenBLAS selected as libblas.so.3, prefix the command with
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack
as for tests/make_fixtures.py.)

Each fixture is a directory tests/fixtures/gpt2/NAME/ holding a small
checkpoint in the layout Hugging Face writes for GPT-2 models, with random
weights drawn from a fixed seed:

  model.safetensors  written here by hand (no safetensors package): an
                     8-byte little-endian header length, the JSON header
                     (dtype, shape, data_offsets of each tensor, and
                     __metadata__), padded with spaces to a multiple of 8,
                     then the tensors' bytes back to back in name order.
                     Names as transformers' GPT2Model saves them (wte.weight,
                     h.N.attn.c_attn.weight [d, 3d] in Conv1D's x.W layout,
                     ...), or with the "transformer." prefix that
                     GPT2LMHeadModel's files carry.
  config.json        n_embd, n_head, n_layer, n_positions, vocab_size,
                     layer_norm_epsilon, model_type "gpt2".
  ref/               what PyTorch computes for the fixture's token ids,
                     as .npy files (float32, token ids int64):
                       token_ids, token_embed, position_embed,
                       L<l>.<name> for every layer l and every name of
                       issue 18's list: block_input, ln_1, qkv, queries,
                       keys, values, scores, attention_weights,
                       head_outputs, concat_heads, attn_output,
                       attn_residual (block_input + attn_output),
                       ln_f (after all blocks), top5_ids, top5_probs
                       (the next token after the last one).
                     The prefixed checkpoints also carry h.N.attn.bias
                     [1, 1, P, P] and h.N.attn.masked_bias [] (a scalar), the
                     buffers transformers' GPT2LMHeadModel files hold.

The computation follows the GPT-2 architecture (transformers' GPT2Block)
with torch.nn.functional and torch.addmm, written out here: it never calls
attn-trace. F16 and BF16 weights are rounded to their dtype, stored, and
widened back to float32 for the computation, as attn-trace does.

The outputs are committed; `make check` never runs Python
(tests/check_model.c reads them).

--bench writes a GPT-2-small-shaped checkpoint (d 768, 12 heads, 12
layers, vocabulary 50257, 1024 positions, random F32 weights, about 500 MB)
into a temporary directory, runs the model suite's benchmark case on it
(build/run-tests must be built) and removes the directory.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures", "gpt2")

# name, d, heads, layers, vocab, positions, dtype, prefix, seed, token ids
FIXTURES = [
    ("d16_h2_l2_f32", 16, 2, 2, 64, 16, "F32", "", 1,
     [5, 17, 3, 60, 42, 42, 0, 9, 33, 1, 63, 12, 7, 28, 50, 2]),     # exactly n_positions tokens
    ("d16_h2_l2_f16_prefix", 16, 2, 2, 64, 16, "F16", "transformer.", 2,
     [11, 4, 38, 20, 57]),
    ("d16_h2_l2_bf16", 16, 2, 2, 64, 16, "BF16", "", 3,
     [63, 0, 31, 8, 8, 19, 44]),
    ("d32_h4_l3_f32_prefix", 32, 4, 3, 100, 32, "F32", "transformer.", 4,
     [99, 12, 45, 7, 81, 23, 0, 64, 3, 50]),
    ("d32_h4_l3_bf16", 32, 4, 3, 100, 32, "BF16", "", 5,
     [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 44]),
    ("d48_h3_l2_f16", 48, 3, 2, 80, 24, "F16", "", 6,
     [70, 3, 66, 12, 49, 21, 5, 33, 79]),
    ("d16_h2_l2_f32_one_token", 16, 2, 2, 64, 16, "F32", "", 7,
     [42]),
]

EPS = 1e-5

DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2}


# ---------------------------------------------------------------------------
# Checkpoints

def tensor_names(n_layer):
    """Every tensor of a GPT-2 checkpoint, without a prefix, with its shape
    as a function of (d, vocab, positions)."""
    names = [("wte.weight", lambda d, v, p: (v, d)),
             ("wpe.weight", lambda d, v, p: (p, d))]
    for l in range(n_layer):
        h = "h.%d." % l
        names += [
            (h + "ln_1.weight", lambda d, v, p: (d,)),
            (h + "ln_1.bias", lambda d, v, p: (d,)),
            (h + "attn.c_attn.weight", lambda d, v, p: (d, 3 * d)),
            (h + "attn.c_attn.bias", lambda d, v, p: (3 * d,)),
            (h + "attn.c_proj.weight", lambda d, v, p: (d, d)),
            (h + "attn.c_proj.bias", lambda d, v, p: (d,)),
            (h + "ln_2.weight", lambda d, v, p: (d,)),
            (h + "ln_2.bias", lambda d, v, p: (d,)),
            (h + "mlp.c_fc.weight", lambda d, v, p: (d, 4 * d)),
            (h + "mlp.c_fc.bias", lambda d, v, p: (4 * d,)),
            (h + "mlp.c_proj.weight", lambda d, v, p: (4 * d, d)),
            (h + "mlp.c_proj.bias", lambda d, v, p: (d,)),
        ]
    names += [("ln_f.weight", lambda d, v, p: (d,)), ("ln_f.bias", lambda d, v, p: (d,))]
    return names


def draw_weights(rng, d, n_layer, vocab, positions):
    """float32 arrays for every tensor: LayerNorm scales near 1, biases
    and matrices of a size that keeps the attention weights and the
    next-token probabilities away from one-hot and from ties."""
    out = {}
    for name, shape_of in tensor_names(n_layer):
        shape = shape_of(d, vocab, positions)
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            a = 1.0 + 0.2 * rng.standard_normal(shape)
        elif name.endswith(".bias"):
            a = 0.1 * rng.standard_normal(shape)
        elif name in ("wte.weight", "wpe.weight"):
            a = 0.5 * rng.standard_normal(shape)
        else:
            a = rng.standard_normal(shape) / np.sqrt(shape[0])
        out[name] = a.astype(np.float32)
    return out


def to_dtype_bytes(a, dtype):
    """The little-endian bytes of float32 array a in dtype, and a as
    float32 after that rounding (what a reader widens it back to)."""
    import torch
    if dtype == "F32":
        return a.astype("<f4").tobytes(), a
    if dtype == "F16":
        h = a.astype("<f2")
        return h.tobytes(), h.astype(np.float32)
    t = torch.from_numpy(a).to(torch.bfloat16)                 # round to nearest even
    raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
    return raw, t.to(torch.float32).numpy()


def write_safetensors(path, tensors, dtype, prefix, metadata=None):
    """Writes tensors (name -> float32 array) as a .safetensors file in
    dtype, every name with prefix in front. Returns name -> the float32
    values after rounding to dtype."""
    header = {}
    blobs = []
    rounded = {}
    offset = 0
    for name in sorted(tensors):
        raw, back = to_dtype_bytes(tensors[name], dtype)
        rounded[name] = back
        header[prefix + name] = {"dtype": dtype, "shape": list(tensors[name].shape),
                                 "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata if metadata is not None else {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    return rounded


def write_config(path, d, heads, n_layer, vocab, positions):
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": d, "n_head": heads,
              "n_layer": n_layer, "n_positions": positions, "n_ctx": positions, "vocab_size": vocab,
              "layer_norm_epsilon": EPS, "activation_function": "gelu_new"}
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------
# The reference computation: GPT-2's forward pass, every stage kept

def reference(w, d, heads, n_layer, ids):
    """Runs GPT-2 on ids with the float32 weights w (name -> array).
    Returns name -> numpy array of every tensor the fixtures keep."""
    import torch
    import torch.nn.functional as F
    T = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in w.items()}
    s = len(ids)
    d_k = d // heads
    ids_t = torch.tensor(ids, dtype=torch.long)
    out = {"token_ids": np.array(ids, dtype=np.int64)}
    token_embed = F.embedding(ids_t, T["wte.weight"])
    position_embed = F.embedding(torch.arange(s), T["wpe.weight"])
    out["token_embed"] = token_embed
    out["position_embed"] = position_embed
    hidden = token_embed + position_embed
    causal = torch.ones(s, s, dtype=torch.bool).tril()
    for l in range(n_layer):
        p = "h.%d." % l
        out["L%d.block_input" % l] = hidden
        ln_1 = F.layer_norm(hidden, (d,), T[p + "ln_1.weight"], T[p + "ln_1.bias"], EPS)
        qkv = torch.addmm(T[p + "attn.c_attn.bias"], ln_1, T[p + "attn.c_attn.weight"])   # Conv1D: b + x.W
        q, k, v = qkv.split(d, dim=1)
        queries = q.reshape(s, heads, d_k).transpose(0, 1)      # [h, s, d_k]
        keys = k.reshape(s, heads, d_k).transpose(0, 1)
        values = v.reshape(s, heads, d_k).transpose(0, 1)
        scores = torch.matmul(queries, keys.transpose(-1, -2)) / torch.full([], d_k ** 0.5)
        scores = scores.masked_fill(~causal, float("-inf"))
        weights = F.softmax(scores, dim=-1)
        head_outputs = torch.matmul(weights, values)             # [h, s, d_k]
        concat = head_outputs.transpose(0, 1).contiguous().view(s, d)
        attn_output = torch.addmm(T[p + "attn.c_proj.bias"], concat, T[p + "attn.c_proj.weight"])
        hidden = hidden + attn_output
        for name, value in (("ln_1", ln_1), ("qkv", qkv), ("queries", queries), ("keys", keys),
                            ("values", values), ("scores", scores), ("attention_weights", weights),
                            ("head_outputs", head_outputs), ("concat_heads", concat),
                            ("attn_output", attn_output), ("attn_residual", hidden)):
            out["L%d.%s" % (l, name)] = value
        ln_2 = F.layer_norm(hidden, (d,), T[p + "ln_2.weight"], T[p + "ln_2.bias"], EPS)
        fc = torch.addmm(T[p + "mlp.c_fc.bias"], ln_2, T[p + "mlp.c_fc.weight"])
        act = F.gelu(fc, approximate="tanh")
        mlp = torch.addmm(T[p + "mlp.c_proj.bias"], act, T[p + "mlp.c_proj.weight"])
        hidden = hidden + mlp
    ln_f = F.layer_norm(hidden, (d,), T["ln_f.weight"], T["ln_f.bias"], EPS)
    out["ln_f"] = ln_f
    logits = torch.matmul(ln_f[-1:], T["wte.weight"].t())[0]   # [vocab]: the last token's next
    probs = F.softmax(logits, dim=-1)
    top = torch.topk(probs, 6)
    gaps = (top.values[:-1] - top.values[1:]) / top.values[:-1]
    assert float(gaps.min()) > 1e-4, "near tie in the top 6 next tokens: pick another seed"
    out["top5_ids"] = top.indices[:5].numpy().astype(np.int64)
    out["top5_probs"] = top.values[:5]
    return {k: (v.contiguous().numpy() if hasattr(v, "numpy") else v) for k, v in out.items()}


def write_fixture(name, d, heads, n_layer, vocab, positions, dtype, prefix, seed, ids):
    rng = np.random.default_rng(seed)
    directory = os.path.join(OUT_DIR, name)
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    os.makedirs(os.path.join(directory, "ref"))
    weights = draw_weights(rng, d, n_layer, vocab, positions)
    stored = dict(weights)
    if prefix:
        # the buffers GPT2LMHeadModel's own files carry beside the weights
        # (the causal mask and its fill value): a reader must skip them
        for l in range(n_layer):
            stored["h.%d.attn.bias" % l] = np.tril(np.ones((positions, positions), np.float32))[None, None]
            stored["h.%d.attn.masked_bias" % l] = np.array(-1e4, np.float32)
    rounded = write_safetensors(os.path.join(directory, "model.safetensors"), stored, dtype, prefix)
    write_config(os.path.join(directory, "config.json"), d, heads, n_layer, vocab, positions)
    ref = reference(rounded, d, heads, n_layer, ids)
    for key, value in ref.items():
        arr = np.ascontiguousarray(value)
        arr = arr.astype("<i8") if arr.dtype == np.int64 else arr.astype("<f4")
        np.save(os.path.join(directory, "ref", key + ".npy"), arr)
    size = os.path.getsize(os.path.join(directory, "model.safetensors"))
    print("%s: d %d, %d heads, %d layers, vocabulary %d, %d positions, %s%s, %d tokens, %d bytes" %
          (name, d, heads, n_layer, vocab, positions, dtype, ", prefix" if prefix else "", len(ids), size))


# ---------------------------------------------------------------------------
# The GPT-2-small benchmark

def write_big_checkpoint(directory):
    """GPT-2 small's shapes with random F32 weights (about 500 MB),
    streamed to disk one tensor at a time."""
    d, heads, n_layer, vocab, positions = 768, 12, 12, 50257, 1024
    rng = np.random.default_rng(124)
    names = tensor_names(n_layer)
    header = {}
    offset = 0
    for name, shape_of in sorted(names, key=lambda x: x[0]):
        shape = shape_of(d, vocab, positions)
        nbytes = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    shapes = dict(names)
    with open(os.path.join(directory, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in sorted(shapes):
            shape = shapes[name](d, vocab, positions)
            scale = 1.0 if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") else 0.05
            a = (scale * rng.standard_normal(shape, dtype=np.float32)).astype("<f4")
            if scale == 1.0:
                a = np.abs(a) + 0.5
            f.write(a.tobytes())
    write_config(os.path.join(directory, "config.json"), d, heads, n_layer, vocab, positions)
    return os.path.getsize(os.path.join(directory, "model.safetensors"))


def bench():
    runner = os.path.join(HERE, "..", "build", "run-tests")
    if not os.path.exists(runner):
        sys.exit("make_gpt2_fixtures.py --bench: build build/run-tests first (make build-tests)")
    directory = tempfile.mkdtemp(prefix="attn-gpt2-bench-")
    try:
        size = write_big_checkpoint(directory)
        print("wrote %s/model.safetensors: %d bytes" % (directory, size))
        env = dict(os.environ, ATTN_GPT2_BENCH_DIR=directory, CK_RUN_SUITE="model", CK_RUN_CASE="bench")
        status = subprocess.call([runner], env=env)
    finally:
        shutil.rmtree(directory)
        print("removed %s" % directory)
    sys.exit(status)


def main():
    if sys.argv[1:] == ["--bench"]:
        bench()
    import torch
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    for fixture in FIXTURES:
        write_fixture(*fixture)


if __name__ == "__main__":
    main()
