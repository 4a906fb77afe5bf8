/*
 * bench.c - timing the trace and the frames (see bench.h).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "experiment.h"
#include "fatal.h"
#include "kernels.h"
#include "trace.h"

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

BenchStats bench_stats(double *samples, size_t n)
{
    BenchStats stats = {0};
    if (n == 0)
        return stats;
    qsort(samples, n, sizeof *samples, compare_doubles);
    stats.n = n;
    stats.min = samples[0];
    stats.max = samples[n - 1];
    stats.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
    size_t rank = (n * 99 + 99) / 100; /* ceil(0.99 n), 1-based */
    stats.p99 = samples[rank - 1];
    return stats;
}

double bench_trace_flops(const Config *cfg)
{
    double S = (double)cfg->n_tokens, D = (double)cfg->d_model, H = (double)cfg->heads;
    /* part 1: keys, values, queries (3 S D D), one token's three W·x and
     * its scores and weighted sum (3 D D + 2 S D), scores and z (2 S S D);
     * part 2: the three einsum projections (3 S D D), scores and weighted
     * sums (2 S S D), the output matrix (S D D) */
    double madds = 7.0 * S * D * D + 3.0 * D * D + 2.0 * S * D + 4.0 * S * S * D;
    double softmax = S + S * S + H * S * S;
    return 2.0 * madds + 5.0 * softmax;
}

unsigned long long bench_peak_rss(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0;
    return (unsigned long long)usage.ru_maxrss * 1024ull; /* Linux reports KiB */
}

/* The index of the first tensor kept before owned[i] in trace that holds
 * the same values in the same shape (a copy kept twice), or -1. */
static int kept_copy_of(const Trace *trace, int i)
{
    const Tensor *t = trace->owned[i].tensor;
    for (int j = 0; j < i; j++) {
        const Tensor *u = trace->owned[j].tensor;
        if (tensor_same_shape(t, u) && memcmp(t->data, u->data, t->size * sizeof *t->data) == 0)
            return j;
    }
    return -1;
}

/* Writes what trace keeps to out, one line a tensor (its part, name,
 * shape and bytes, and the earlier tensor it copies, if it does), then
 * the sum beside the peak resident memory so far:
 *
 *   bench: kept   multi_head   [12, 512, 512]         12.000 MiB   scores
 *   bench: kept 33 tensors, 70.1 MiB (copies kept twice: 0 bytes); peak RSS 71.2 MiB, 1.02x the kept bytes */
static void bench_kept(const Trace *trace, StrBuf *out)
{
    const double mib = 1024.0 * 1024.0;
    unsigned long long total = 0, twice = 0;
    for (int i = 0; i < trace->n_owned; i++) {
        const TraceValue *v = &trace->owned[i];
        char shape[64];
        unsigned long long bytes = (unsigned long long)v->tensor->size * sizeof(float);
        int copy = kept_copy_of(trace, i);
        total += bytes;
        twice += copy >= 0 ? bytes : 0;
        strbuf_printf(out, "bench: kept   %-12s %-18s %10.3f MiB   %s", trace_part_name(v->part),
                      tensor_shape_str(v->tensor, shape, sizeof shape), (double)bytes / mib, v->name);
        if (copy >= 0)
            strbuf_printf(out, "   (the same values as %s %s)", trace_part_name(trace->owned[copy].part),
                          trace->owned[copy].name);
        strbuf_printf(out, "\n");
    }
    double rss = (double)bench_peak_rss();
    strbuf_printf(out,
                  "bench: kept %d tensors, %.1f MiB (copies kept twice: %.1f MiB); peak RSS %.1f MiB, %.3fx the kept "
                  "bytes\n",
                  trace->n_owned, (double)total / mib, (double)twice / mib, rss / mib,
                  total > 0 ? rss / (double)total : 0.0);
}

/* Builds cfg's trace `runs` times, writing run r's total into total[r]
 * and step i's time into step[i * runs + r]. False with err as
 * trace_build_weights. */
static bool bench_runs(const Config *cfg, const struct Weights *weights, int runs, int n_steps, double *total,
                       double *step, Error *err)
{
    for (int r = 0; r < runs; r++) {
        Trace *trace = trace_build_weights(cfg, weights, err);
        if (trace == NULL)
            return false;
        for (int i = 0; i < n_steps; i++) {
            step[(size_t)i * (size_t)runs + (size_t)r] = trace->step_ms[i];
            total[r] += trace->step_ms[i];
        }
        trace_free(trace);
    }
    return true;
}

bool bench_trace(const Config *cfg, const struct Weights *weights, int runs, StrBuf *out, Error *err)
{
    Trace *trace = trace_build_weights(cfg, weights, err); /* the warm-up */
    if (trace == NULL)
        return false;
    const int n_steps = trace->n_steps;
    const char *ids[TRACE_MAX_STEPS];
    for (int i = 0; i < n_steps; i++)
        ids[i] = trace->steps[i].id;
    const char *kernels = trace->fast_kernels ? "fast" : trace->exact_kernels ? "exact" : "reference";
    const char *isa = trace->fast_kernels ? kernels_isa() : trace->exact_kernels ? kernels_exact_isa() : "in order";
    const int threads = trace->threads;
    StrBuf kept = {0}; /* what the warm-up kept, while it is there */
    bench_kept(trace, &kept);
    trace_free(trace);

    double *total = calloc((size_t)runs, sizeof *total);
    double *step = calloc((size_t)runs * (size_t)n_steps, sizeof *step);
    bool ok = total != NULL && step != NULL ? bench_runs(cfg, weights, runs, n_steps, total, step, err)
                                            : error_oom(err, "the benchmark's samples");
    if (ok) {
        BenchStats all = bench_stats(total, (size_t)runs);
        double flops = bench_trace_flops(cfg);
        double mib = 1024.0 * 1024.0;
        strbuf_printf(out, "bench: trace median %.2f ms over %d runs (s=%zu d=%zu h=%zu)\n", all.median, runs,
                      cfg->n_tokens, cfg->d_model, cfg->heads);
        strbuf_printf(out,
                      "bench: kernels %s (%s), %d thread%s; %.3f GFLOP, %.1f GFLOP/s; min %.2f ms, max %.2f ms; "
                      "peak RSS %.1f MiB for %.1f MiB of tensors\n",
                      kernels, isa, threads, threads == 1 ? "" : "s", flops / 1e9,
                      all.median > 0 ? flops / (all.median * 1e6) : 0.0, all.min, all.max,
                      (double)bench_peak_rss() / mib, (double)trace_bytes(cfg) / mib);
        for (int i = 0; i < n_steps; i++) {
            BenchStats s = bench_stats(step + (size_t)i * (size_t)runs, (size_t)runs);
            strbuf_printf(out, "  step %2d %-16s %9.3f ms\n", i + 1, ids[i], s.median);
        }
        strbuf_printf(out, "%s", strbuf_text(&kept));
    }
    strbuf_free(&kept);
    free(total);
    free(step);
    return ok;
}

/* ------------------------------------------------------------------------
 * Recomputing under a change (--bench-frames)
 * ---------------------------------------------------------------------- */

/* A monotonic clock in milliseconds. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The changes bench_recompute times, spelled for cfg's sizes into
 * specs[n][size]; returns how many (at most max). */
static int recompute_specs(const Config *cfg, char specs[][64], int max)
{
    const size_t S = cfg->n_tokens, H = cfg->heads;
    int n = 0;
    snprintf(specs[n++], 64, "no-scale");
    snprintf(specs[n++], 64, "scale=8");
    snprintf(specs[n++], 64, cfg->causal ? "no-mask" : "causal");
    snprintf(specs[n++], 64, "zero-head=%zu", H - 1);
    snprintf(specs[n++], 64, "swap-tokens=0,%zu", S - 1);
    snprintf(specs[n++], 64, "no-positions");
    if (cfg->model != NULL) {
        snprintf(specs[n++], 64, "set=model:qkv[0,1]=2");
        snprintf(specs[n++], 64, "set=model:token_embed[0,1]=2");
        snprintf(specs[n++], 64, "set=model:scores[0,%zu,0]=0", S - 1);
    } else {
        snprintf(specs[n++], 64, "set=w_query[0,1]=2");
        snprintf(specs[n++], 64, "set=embedding[%ld,0]=2", cfg->token_ids[0]);
        snprintf(specs[n++], 64, "set=multi_head:scores[0,%zu,0]=0", S - 1);
    }
    snprintf(specs[n++], 64, "%skv-cache", cfg->causal ? "" : "causal ");
    snprintf(specs[n++], 64, "no-scale zero-head=0");
    ATTN_ASSERT(n <= max);
    return n;
}

/* Times one change (set, parsed from spec) `runs` times after a warm-up
 * and writes its line; rebuild, diff, total and longest_ms are scratch of
 * `runs` samples each (longest_ms zeroed). False with err set when a rebuild fails. */
static bool recompute_one(const Trace *trace, const struct Weights *weights, const ExperimentSet *set, const char *spec,
                          int runs, double *rebuild, double *diff, double *total, double *longest_ms, StrBuf *out,
                          Error *err)
{
    int shared = 0, kept = 0;
    const char *longest_id = "";
    for (int r = -1; r < runs; r++) {
        int longest = -1;
        double started = now_ms();
        Trace *changed = trace_rebuild(trace, weights, set, err);
        if (changed == NULL)
            return false;
        double built = now_ms();
        TraceDiff *d = calloc(1, sizeof *d);
        bool ok = d != NULL ? trace_diff(trace, changed, d, err) : error_oom(err, "a diff");
        double compared = now_ms();
        if (r >= 0) {
            rebuild[r] = built - started;
            diff[r] = compared - built;
        }
        kept = changed->n_owned;
        for (int i = 0; r >= 0 && i < changed->n_steps; i++)
            if (changed->step_ms[i] > longest_ms[r] || longest < 0) {
                longest = i;
                longest_ms[r] = changed->step_ms[i];
            }
        if (longest >= 0)
            longest_id = changed->steps[longest].id; /* static: the table's */
        shared = 0;
        for (int i = 0; i < changed->n_owned; i++)
            for (int j = 0; j < trace->n_owned; j++)
                shared += changed->owned[i].tensor == trace->owned[j].tensor;
        trace_diff_free(d);
        free(d);
        trace_free(changed);
        if (!ok)
            return false;
    }
    for (int r = 0; r < runs; r++)
        total[r] = rebuild[r] + diff[r];
    BenchStats t = bench_stats(total, (size_t)runs), b = bench_stats(rebuild, (size_t)runs),
               c = bench_stats(diff, (size_t)runs), l = bench_stats(longest_ms, (size_t)runs);
    strbuf_printf(out,
                  "bench-frames: recompute %s %.2f ms (rebuild %.2f, the longest step %s %.2f; diff %.2f; %d of %d "
                  "tensors shared)\n",
                  spec, t.median, b.median, longest_id, l.median, c.median, shared, kept);
    return true;
}

bool bench_recompute(const Trace *trace, const struct Weights *weights, int runs, StrBuf *out, Error *err)
{
    Config base;
    if (!experiment_base_config(&base, &trace->config, err))
        return false;
    char specs[16][64];
    const int n = recompute_specs(&base, specs, 16);
    double *rebuild = calloc((size_t)runs, sizeof *rebuild), *diff = calloc((size_t)runs, sizeof *diff),
           *total = calloc((size_t)runs, sizeof *total), *longest = calloc((size_t)runs, sizeof *longest);
    bool ok = rebuild != NULL && diff != NULL && total != NULL && longest != NULL
                  ? true
                  : error_oom(err, "the benchmark's samples");
    for (int i = 0; ok && i < n; i++) {
        ExperimentSet set;
        Error skip;
        error_clear(&skip);
        experiment_set_init(&set);
        if (!experiment_parse_list(&set, specs[i], &skip) || !experiment_check(&set, &base, &skip))
            continue; /* a change this trace does not take */
        memset(longest, 0, (size_t)runs * sizeof *longest);
        ok = recompute_one(trace, weights, &set, specs[i], runs, rebuild, diff, total, longest, out, err);
    }
    free(longest);
    free(total);
    free(rebuild);
    free(diff);
    config_free(&base);
    return ok;
}
