/*
 * bench_gemm.c - GFLOP/s of one matrix product on each set of kernels, for
 * tests/bench_gemm.sh (a benchmark, never part of make check).
 *
 *     bench_gemm M K N THREADS RUNS
 *
 * Times out (M, N) = A (M, K) · B (K, N) with kernels_gemm_exact and
 * kernels_gemm (A·Bᵀ layout too: B stored (N, K), as x·Wᵀ reads it) and
 * prints the best of RUNS for each, in GFLOP/s (2 M K N flops per product).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels.h"

/* Seconds on a monotonic clock. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The best time of runs products on the given kernels, in seconds. */
static double best_time(bool exact, float *out, MatrixView a, MatrixView b, size_t M, size_t K, size_t N, int threads,
                        int runs)
{
    double best = 1e30;
    Error err;
    error_clear(&err);
    for (int r = 0; r < runs; r++) {
        double start = now_s();
        bool ok = exact ? kernels_gemm_exact(out, a, b, 1, M, K, N, threads, &err)
                        : kernels_gemm(out, a, b, 1, M, K, N, threads, &err);
        double took = now_s() - start;
        if (!ok) {
            fprintf(stderr, "bench_gemm: %s\n", err.message);
            exit(1);
        }
        if (took < best)
            best = took;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_gemm M K N THREADS RUNS\n");
        return 2;
    }
    size_t M = strtoul(argv[1], NULL, 10), K = strtoul(argv[2], NULL, 10), N = strtoul(argv[3], NULL, 10);
    int threads = atoi(argv[4]), runs = atoi(argv[5]);
    float *a = malloc(M * K * sizeof *a), *b = malloc(K * N * sizeof *b), *out = malloc(M * N * sizeof *out);
    if (a == NULL || b == NULL || out == NULL)
        return 1;
    for (size_t i = 0; i < M * K; i++)
        a[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < K * N; i++)
        b[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
    double flop = 2.0 * (double)M * (double)K * (double)N;
    MatrixView va = {a, K, 1, 0}, vb = {b, N, 1, 0}, vbt = {b, 1, K, 0};
    printf("gemm %zu x %zu x %zu, %d thread%s: exact (%s) %.1f GFLOP/s, x.Wt %.1f; fast (%s) %.1f GFLOP/s, x.Wt %.1f\n",
           M, K, N, threads, threads == 1 ? "" : "s", kernels_exact_isa(),
           flop / best_time(true, out, va, vb, M, K, N, threads, runs) / 1e9,
           flop / best_time(true, out, va, vbt, M, K, N, threads, runs) / 1e9, kernels_isa(),
           flop / best_time(false, out, va, vb, M, K, N, threads, runs) / 1e9,
           flop / best_time(false, out, va, vbt, M, K, N, threads, runs) / 1e9);
    free(a);
    free(b);
    free(out);
    return 0;
}
