#!/usr/bin/python3
"""Times the article's PyTorch code at a given size, for `make bench`.

    /usr/bin/python3 tests/bench_torch.py TOKENS D_MODEL HEADS RUNS THREADS

Runs part 1 and part 2 exactly as tests/make_fixtures.py does (the code
the fixtures come from, so the same work attn-trace's trace does: the
seeding, the random weights, every intermediate), once to warm up and then
RUNS times, on THREADS threads (torch.set_num_threads; make bench also sets
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS). The tokens are the article's ids
repeated, as `attn-trace --tokens N` repeats them. It also times
torch.nn.MultiheadAttention(d, h) on the same sentence (one forward pass,
query = key = value, the layer made once beforehand): the library's fused
attention, which keeps no intermediate and draws no weights, as the
lower bound of what attention costs in PyTorch. Prints one line:

    torch: median X ms over RUNS runs (s=.. d=.. h=..) blas=NAME threads=T mha=Y ms
"""

import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures  # noqa: E402  (the article's code)

ARTICLE_IDS = [2, 6, 8, 3, 1]
ARTICLE_VOCAB = 10


def blas_name():
    """The BLAS library torch's matrix products went to, from the maps:
    "openblas", "reference" (Debian's libblas3) or "unknown"."""
    names = set()
    with open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path):
                names.add(path)
    if any("openblas" in n for n in names):
        return "openblas"
    return "reference" if any("libblas.so" in n for n in names) else "unknown"


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: bench_torch.py TOKENS D_MODEL HEADS RUNS THREADS")
    s, d, h, runs, threads = (int(a) for a in sys.argv[1:])
    torch.set_num_threads(threads)
    ids = [ARTICLE_IDS[i % len(ARTICLE_IDS)] for i in range(s)]
    cfg = dict(seed=0, vocab_size=ARTICLE_VOCAB, d=d, heads=h, focus=1,
               causal=0)

    def run():
        with torch.no_grad():
            make_fixtures.single_head(cfg, ids, check=False)
            make_fixtures.multi_head(cfg, ids)

    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(d, h)
    x = torch.nn.Embedding(ARTICLE_VOCAB, d)(torch.tensor(ids)).unsqueeze(1)

    def run_mha():
        with torch.no_grad():
            mha(x, x, x, need_weights=False)

    print("torch: median %.2f ms over %d runs (s=%d d=%d h=%d) blas=%s "
          "threads=%d mha=%.2f ms" % (median_ms(run, runs), runs, s, d, h,
                                      blas_name(), torch.get_num_threads(),
                                      median_ms(run_mha, runs)))


def median_ms(run, runs):
    """The median wall time of run() in ms over runs calls, after one."""
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


if __name__ == "__main__":
    main()
