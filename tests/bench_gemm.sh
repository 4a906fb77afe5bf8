#!/bin/sh
# bench_gemm.sh - GFLOP/s of the exact and the fast matrix products at the
# trace's sizes (d 768, s 512), on 1 and 2 threads. A benchmark: it prints
# figures and never fails on them. Run after `make build-bin`:
#
#     tests/bench_gemm.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-10}
BIN=build/bench-gemm
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off -O2 -pthread -Isrc/base -Isrc/math \
    -o "$BIN" tests/bench_gemm.c build/obj/math/kernels.o build/obj/math/torchmath.o build/obj/math/tensor.o \
    build/obj/base/error.o build/obj/base/utf8.o -lm
for threads in 1 2; do
    "$BIN" 512 768 768 "$threads" "$RUNS"   # a projection: (s, d) x (d, d)
    "$BIN" 512 64 512 "$threads" "$RUNS"    # one head's scores: (s, d_k) x (d_k, s)
    "$BIN" 512 512 64 "$threads" "$RUNS"    # one head's weighted sum: (s, s) x (s, d_k)
done
