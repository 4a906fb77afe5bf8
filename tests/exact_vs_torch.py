#!/usr/bin/python3
"""Shows a trace at GPT-2's width equal to PyTorch's, bit for bit.

    /usr/bin/python3 tests/exact_vs_torch.py [ATTN_TRACE] [TOKENS D_MODEL HEADS [OPTION...]]

(defaults: build/attn-trace, 512 768 12; OPTIONs go to attn-trace, so
`... 64 64 4 --kernels fast` shows what the fused kernels change). Runs

    attn-trace --export-npy DIR --tokens TOKENS --d-model D_MODEL --heads HEADS

with its default kernels (--kernels auto: the exact vectorized ones), then
the article's code (the functions of tests/make_fixtures.py, which wrote
the fixtures) in Debian's python3-torch at the same size, with the
article's ids repeated as --tokens repeats them, seed 0, focus 1. Every
exported tensor is compared with torch's by its bits (as uint32; -inf and
every other value must match exactly).

torch must run on the reference BLAS (Debian's libblas3), whose products
add each output's terms in order with separate roundings: the script
re-executes itself with LD_LIBRARY_PATH pointing at that BLAS when it is
not already there, and checks /proc/self/maps for which BLAS was loaded.

The last line is the verdict:

    exact_vs_torch: BIT-IDENTICAL: T tensors, N values (s=.. d=.. h=..) blas=reference
or
    exact_vs_torch: DIFFERENT: K of N values in J of T tensors ...

and the exit status is 0 only for the first.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_BLAS = "/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack"
MARK = "ATTN_EXACT_VS_TORCH_REEXEC"

if os.environ.get(MARK) != "1":
    # Load the reference BLAS before torch does (it reads libblas.so.3).
    env = dict(os.environ)
    env[MARK] = "1"
    env["LD_LIBRARY_PATH"] = REFERENCE_BLAS + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, HERE)
import bench_torch  # noqa: E402  (the article's ids)
import make_fixtures  # noqa: E402  (the article's code)


def torch_tensors(s, d, h):
    """Every tensor of the article's code, by file name: part.name.npy."""
    ids = [bench_torch.ARTICLE_IDS[i % len(bench_torch.ARTICLE_IDS)] for i in range(s)]
    cfg = dict(seed=0, vocab_size=bench_torch.ARTICLE_VOCAB, d=d, heads=h, focus=1, causal=0)
    out = {}
    with torch.no_grad():
        for part, tensors in (("single_head", make_fixtures.single_head(cfg, ids, check=False)),
                              ("multi_head", make_fixtures.multi_head(cfg, ids))):
            for name, t in tensors:
                out["%s.%s.npy" % (part, name)] = t.detach().contiguous().numpy()
    return out


def blas_name():
    """Which BLAS library this process loaded (torch's products go to it):
    "openblas", "reference" (Debian's libblas3, in .../blas/) or "unknown"."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line}
    if any("openblas" in p for p in paths):
        return "openblas"
    if any("/blas/libblas.so" in p for p in paths):
        return "reference"
    return "unknown"


def bits(a):
    """The raw bits of an array, to compare exactly (float32 as uint32)."""
    a = np.ascontiguousarray(a)
    if a.dtype == np.float32:
        return a.view(np.uint32)
    return a.astype(np.int64)


def main():
    args = sys.argv[1:]
    binary = args.pop(0) if args and not args[0].isdigit() else os.path.join(HERE, "..", "build", "attn-trace")
    s, d, h = (int(a) for a in args[:3]) if len(args) >= 3 else (512, 768, 12)
    extra = args[3:]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([binary, "--export-npy", folder, "--tokens", str(s), "--d-model", str(d), "--heads", str(h)] + extra,
                       check=True, stdout=subprocess.DEVNULL)
        ours = {name: np.load(os.path.join(folder, name)) for name in sorted(os.listdir(folder))}
    theirs = torch_tensors(s, d, h)
    blas = blas_name()
    values = differ = 0
    bad = []
    for name, mine in ours.items():
        if name not in theirs:
            bad.append("%s: not in torch's computation" % name)
            continue
        want = theirs[name]
        if mine.shape != want.shape:
            bad.append("%s: shape %s, torch %s" % (name, mine.shape, want.shape))
            continue
        n = int(np.count_nonzero(bits(mine) != bits(want.astype(mine.dtype))))
        values += mine.size
        if n:
            differ += n
            worst = float(np.max(np.abs(mine.astype(np.float64) - want.astype(np.float64))))
            bad.append("%s: %d of %d values differ (at most %.3g)" % (name, n, mine.size, worst))
    for line in bad:
        print("  " + line)
    where = "(s=%d d=%d h=%d%s) blas=%s torch=%s" % (s, d, h, "".join(" " + e for e in extra), blas,
                                                     torch.__version__)
    if bad or blas != "reference":
        print("exact_vs_torch: DIFFERENT: %d of %d values in %d of %d tensors %s"
              % (differ, values, len(bad), len(ours), where))
        return 1
    print("exact_vs_torch: BIT-IDENTICAL: %d tensors, %d values %s" % (len(ours), values, where))
    return 0


if __name__ == "__main__":
    sys.exit(main())
