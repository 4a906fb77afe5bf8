/*
 * bench.h - timing the trace (--bench N) and the frames (--bench-frames):
 * the statistics and the report, with no terminal in it.
 */
#ifndef ATTN_BENCH_H
#define ATTN_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"
#include "strbuf.h"

struct Weights;

typedef struct BenchStats {
    size_t n;      /* samples */
    double median; /* the middle sample (the mean of the two middle ones for an even n) */
    double p99;    /* the sample 99% of the others are at most: the ceil(0.99 n)-th smallest */
    double min, max;
} BenchStats;

/* The statistics of samples[0..n) (sorted in place). n = 0 gives zeros. */
BenchStats bench_stats(double *samples, size_t n);

/* The floating-point operations of cfg's trace: 2 per multiply-add of
 * every matrix product, and 5 per softmax element (compare for the
 * maximum, subtract, exp counted as one, add, multiply). */
double bench_trace_flops(const Config *cfg);

/* Builds cfg's trace once to warm up, then `runs` times, and writes the
 * report to out:
 *
 *   bench: trace median X ms over N runs (s=S d=D h=H)
 *   bench: kernels K (ISA), T threads; G GFLOP, R GFLOP/s; peak RSS M MiB for B MiB of tensors
 *     step  1 tokenize           0.01 ms
 *     ...
 *
 * Each step's time is its median over the runs. weights: as
 * trace_build_weights (NULL for the generator's). Fails as trace_build. */
bool bench_trace(const Config *cfg, const struct Weights *weights, int runs, StrBuf *out, Error *err);

struct Trace;

/* Times recomputing trace under each change of a fixed list, one at a
 * time (those experiment_check refuses for the trace's config are left
 * out): no-scale, scale=8, no-mask or causal, zero-head of the last head,
 * swap-tokens of the first and last tokens, no-positions, set= on a
 * weight, on an embedding row a token uses and on a score, kv-cache (with
 * causal), and no-scale with zero-head=0. For each, `runs` times (after
 * one warm-up), trace_rebuild(trace, weights, change) and the trace_diff
 * of the two, as the tracer's `x` does, and writes the medians:
 *
 *   bench-frames: recompute no-scale 30.12 ms (rebuild 28.90, the longest step all_tokens 15.20;
 *     diff 1.22; 12 of 33 tensors shared)
 *
 * weights: those trace was built with (NULL for none). False with err set
 * when a rebuild fails. */
bool bench_recompute(const struct Trace *trace, const struct Weights *weights, int runs, StrBuf *out, Error *err);

/* The peak resident memory of this process so far, in bytes (0 when the
 * system does not say). */
unsigned long long bench_peak_rss(void);

#endif
