/*
 * check_kernels.c - the exact and the fast kernels against the reference
 * ones.
 *
 * The exact products (kernels_gemm_exact, einsum_exact, a trace on
 * --kernels auto) must give the plain in-order loop's bits: every shape
 * below is compared with memcmp, at 1, 2 and 3 threads, on the AVX2 path
 * and with the portable C path forced.
 *
 * The matrix products are compared with the plain in-order loops of
 * tensor.c over many shapes (tiny, odd, past every cache block, strided,
 * transposed, batched with a shared operand) and thread counts. Two float
 * sums of the same K products added in different orders differ by at most
 * about K * FLT_EPSILON * sum_k |a_k b_k|; the tolerance is
 *
 *     |fast - reference| <= 1e-6 + 2 K FLT_EPSILON sum_k |a_k b_k|
 *
 * (an absolute part, and a part relative to the magnitude of the terms).
 * The thread count must not change a single bit. The softmax and exp of
 * the fast path must equal the reference bit for bit.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einsum.h"
#include "explain.h"
#include "kernels.h"
#include "suites.h"
#include "tensor.h"
#include "torchmath.h"
#include "trace.h"

#define KERNEL_ABS_TOL 1e-6

/* A small deterministic generator for test data (xorshift32). */
static uint32_t test_state = 2463534242u;

static float test_uniform(void)
{
    test_state ^= test_state << 13;
    test_state ^= test_state >> 17;
    test_state ^= test_state << 5;
    return (float)(test_state >> 8) / 16777216.0f * 2.0f - 1.0f; /* [-1, 1) */
}

static float *random_floats(size_t n)
{
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        v[i] = test_uniform();
    return v;
}

/* Element (b, i, j) of a view. */
static float view_at(MatrixView v, size_t b, size_t i, size_t j)
{
    return v.data[b * v.batch_stride + i * v.row_stride + j * v.col_stride];
}

/* Checks out (batch, M, N) against in-order sums of the views, with the
 * tolerance above; returns the worst ratio of error to tolerance. */
static double check_product(const float *out, MatrixView a, MatrixView b, size_t batch, size_t M, size_t K, size_t N,
                            const char *what)
{
    double worst = 0.0;
    for (size_t t = 0; t < batch; t++)
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                float sum = 0.0f;
                double magnitude = 0.0;
                for (size_t k = 0; k < K; k++) {
                    float product = view_at(a, t, i, k) * view_at(b, t, k, j);
                    sum += product;
                    magnitude += fabs((double)product);
                }
                double tol = KERNEL_ABS_TOL + 2.0 * (double)K * FLT_EPSILON * magnitude;
                double got = out[(t * M + i) * N + j];
                double ratio = fabs(got - (double)sum) / tol;
                ck_assert_msg(ratio <= 1.0, "%s: [%zu][%zu][%zu] = %.9g, in order %.9g (tolerance %.3g)", what, t, i, j,
                              got, (double)sum, tol);
                if (ratio > worst)
                    worst = ratio;
            }
    return worst;
}

/* The plain loop, written here on its own: want (batch, M, N) gets, for
 * every output, sum = 0 and then sum += a_k * b_k for k in order, each
 * product and sum rounded to float (the build has -ffp-contract=off). */
static void in_order_product(float *want, MatrixView a, MatrixView b, size_t batch, size_t M, size_t K, size_t N)
{
    for (size_t t = 0; t < batch; t++)
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                float sum = 0.0f;
                for (size_t k = 0; k < K; k++)
                    sum += view_at(a, t, i, k) * view_at(b, t, k, j);
                want[(t * M + i) * N + j] = sum;
            }
}

/* The number of products kernels_gemm_exact was compared on, bit for bit
 * (the tests below check that it covers their shapes). */
static size_t exact_values_checked;

/* kernels_gemm_exact on one layout at 1, 2 and 3 threads, on the path this
 * machine takes and (when it has AVX2) on the forced portable path: every
 * output must be the in-order loop's float, bit for bit. */
static void check_exact(MatrixView va, MatrixView vb, size_t batch, size_t M, size_t K, size_t N, const char *what)
{
    size_t n_out = batch * M * N;
    float *want = malloc(n_out * sizeof *want), *got = malloc(n_out * sizeof *got);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    in_order_product(want, va, vb, batch, M, K, N);
    Error err;
    error_clear(&err);
    const bool was_portable = !torchmath_have_avx2(); /* restored at the end */
    for (int portable = 0; portable <= 1; portable++) {
        torchmath_force_portable(portable == 1 || was_portable);
        for (int threads = 1; threads <= 3; threads++) {
            memset(got, 0xff, n_out * sizeof *got); /* NaN: every element must be written */
            ck_assert_msg(kernels_gemm_exact(got, va, vb, batch, M, K, N, threads, &err), "%s: %s", what, err.message);
            for (size_t i = 0; i < n_out; i++)
                ck_assert_msg(memcmp(&got[i], &want[i], sizeof got[i]) == 0,
                              "%s, exact (%s), %d threads: [%zu] = %a, the in-order loop gives %a", what,
                              kernels_exact_isa(), threads, i, (double)got[i], (double)want[i]);
            exact_values_checked += n_out;
        }
    }
    torchmath_force_portable(was_portable);
    free(want);
    free(got);
}

/* One product of the given layout, at 1, 2 and 3 threads: the fast kernels
 * within the tolerance, and bit-identical across thread counts; the exact
 * kernels bit-identical to the in-order loop (check_exact). */
static void check_layout(size_t batch, size_t M, size_t K, size_t N, bool a_transposed, bool b_transposed,
                         bool shared_a, bool shared_b)
{
    float *a = random_floats((shared_a ? 1 : batch) * M * K);
    float *b = random_floats((shared_b ? 1 : batch) * K * N);
    MatrixView va = a_transposed ? (MatrixView){a, 1, M, M * K} : (MatrixView){a, K, 1, M * K};
    MatrixView vb = b_transposed ? (MatrixView){b, 1, K, K * N} : (MatrixView){b, N, 1, K * N};
    if (shared_a)
        va.batch_stride = 0;
    if (shared_b)
        vb.batch_stride = 0;
    size_t n_out = batch * M * N;
    float *first = malloc(n_out * sizeof *first), *out = malloc(n_out * sizeof *out);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(out);
    char what[160];
    snprintf(what, sizeof what, "batch %zu, (%zu, %zu) x (%zu, %zu)%s%s%s%s", batch, M, K, K, N,
             a_transposed ? ", A transposed" : "", b_transposed ? ", B transposed" : "", shared_a ? ", A shared" : "",
             shared_b ? ", B shared" : "");
    Error err;
    error_clear(&err);
    for (int threads = 1; threads <= 3; threads++) {
        float *dst = threads == 1 ? first : out;
        memset(dst, 0xff, n_out * sizeof *dst); /* NaN: every element must be written */
        ck_assert_msg(kernels_gemm(dst, va, vb, batch, M, K, N, threads, &err), "%s: %s", what, err.message);
        if (threads == 1)
            check_product(first, va, vb, batch, M, K, N, what);
        else
            ck_assert_msg(memcmp(first, out, n_out * sizeof *out) == 0, "%s: %d threads changed the result", what,
                          threads);
    }
    check_exact(va, vb, batch, M, K, N, what);
    free(a);
    free(b);
    free(first);
    free(out);
}

/* Shapes around every edge: the 6 x 16 tile, the 96-row, 256-deep and
 * 1024-wide cache blocks, and 1. */
START_TEST(test_gemm_shapes)
{
    static const size_t sizes[] = {1, 2, 5, 6, 7, 16, 17, 33, 97};
    size_t count = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j += 2)
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k += 3) {
                check_layout(1, sizes[i], sizes[k], sizes[j], false, false, false, false);
                count++;
            }
    /* past the blocks: K over 256 (two passes added up), M over 96, N over 1024 */
    check_layout(1, 100, 300, 40, false, false, false, false);
    check_layout(1, 200, 513, 17, false, false, false, false);
    check_layout(1, 7, 3, 1100, false, false, false, false);
    check_layout(1, 13, 260, 1030, false, false, false, false);
    check_layout(1, 6, 1024, 16, false, false, false, false); /* whole tiles, four blocks of k */
    check_layout(2, 12, 768, 64, false, true, false, false);  /* one head's scores at GPT-2's width */
    ck_assert_uint_ge(count, 100);
    ck_assert_uint_gt(exact_values_checked, 500000);
}
END_TEST

START_TEST(test_gemm_layouts)
{
    for (int mask = 0; mask < 4; mask++) {
        check_layout(1, 37, 70, 45, mask & 1, mask & 2, false, false);
        check_layout(3, 20, 33, 18, mask & 1, mask & 2, false, false);
    }
    /* batches sharing one operand: A shared is done as one wide product */
    check_layout(12, 31, 48, 16, false, false, true, false);
    check_layout(5, 19, 40, 21, false, false, true, false); /* N not a multiple of the tile */
    check_layout(4, 9, 300, 700, false, true, true, false); /* wider than a block, B transposed */
    check_layout(6, 23, 17, 35, false, false, false, true);
    check_layout(1, 64, 64, 64, true, true, false, false);
}
END_TEST

/* The three equations of the trace take the fast path; others fall back
 * to einsum_eval and give its exact bits. */
START_TEST(test_einsum_fast)
{
    const size_t H = 3, S = 11, D = 24, E = 8;
    Error err;
    error_clear(&err);
    Tensor *x = tensor_new2(S, D, &err), *w = tensor_new3(H, D, E, &err);
    Tensor *q = tensor_new3(H, S, E, &err), *kt = tensor_new3(H, E, S, &err), *p = tensor_new3(H, S, S, &err);
    Tensor *all[] = {x, w, q, kt, p};
    for (size_t t = 0; t < 5; t++) {
        ck_assert_ptr_nonnull(all[t]);
        for (size_t i = 0; i < all[t]->size; i++)
            all[t]->data[i] = test_uniform();
    }
    static const struct {
        const char *equation;
        int in0, in1;
        bool matrix;
    } cases[] = {
        {"sd,hde->hse", 0, 1, true},  {"hse,hek->hsk", 2, 3, true},
        {"hij,hjk->hik", 4, 2, true}, {"hse,hek->hks", 2, 3, false}, /* output not in (batch, m, n) order */
        {"sd,hde->hes", 0, 1, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const Tensor *ops[2] = {all[cases[c].in0], all[cases[c].in1]};
        Tensor *want = einsum(cases[c].equation, ops, 2, &err);
        ck_assert_msg(want != NULL, "%s: %s", cases[c].equation, err.message);
        for (int threads = 1; threads <= 3; threads++) {
            Tensor *exact = einsum_exact(cases[c].equation, ops, 2, threads, &err);
            ck_assert_msg(exact != NULL, "%s: %s", cases[c].equation, err.message);
            ck_assert(tensor_same_shape(exact, want));
            ck_assert_msg(memcmp(exact->data, want->data, want->size * sizeof *want->data) == 0,
                          "%s on the exact kernels, %d threads: not einsum_eval's bits", cases[c].equation, threads);
            tensor_free(exact);
        }
        for (int threads = 1; threads <= 2; threads++) {
            Tensor *got = einsum_fast(cases[c].equation, ops, 2, threads, &err);
            ck_assert_msg(got != NULL, "%s: %s", cases[c].equation, err.message);
            ck_assert(tensor_same_shape(got, want));
            for (size_t i = 0; i < want->size; i++) {
                if (!cases[c].matrix) {
                    ck_assert_msg(memcmp(&got->data[i], &want->data[i], sizeof(float)) == 0,
                                  "%s falls back to einsum_eval: [%zu] %.9g vs %.9g", cases[c].equation, i,
                                  (double)got->data[i], (double)want->data[i]);
                    continue;
                }
                /* inputs in [-1, 1): every product is at most 1 in size */
                size_t K = cases[c].in0 == 0 ? D : cases[c].in0 == 2 ? E : S;
                double tol = KERNEL_ABS_TOL + 2.0 * (double)K * FLT_EPSILON * (double)K;
                ck_assert_msg(fabs((double)got->data[i] - (double)want->data[i]) <= tol, "%s: [%zu] %.9g vs %.9g",
                              cases[c].equation, i, (double)got->data[i], (double)want->data[i]);
            }
            tensor_free(got);
        }
        tensor_free(want);
    }
    for (size_t t = 0; t < 5; t++)
        tensor_free(all[t]);
}
END_TEST

/* The fast softmax is the reference's arithmetic: the same bits, for every
 * row length around the 8 lanes, with masked entries and a fully masked
 * row, at 1 and 2 threads. */
START_TEST(test_softmax_bit_identical)
{
    for (size_t cols = 1; cols <= 41; cols++) {
        const size_t rows = 9;
        float *in = random_floats(rows * cols);
        for (size_t i = 0; i < rows * cols; i++)
            in[i] *= 30.0f; /* scores of many sizes */
        for (size_t c = 0; c < cols; c++)
            in[2 * cols + c] = -INFINITY; /* a fully masked row */
        for (size_t r = 3; r < rows; r++)
            for (size_t c = r; c < cols; c++)
                in[r * cols + c] = -INFINITY; /* causal-style masking */
        float *want = malloc(rows * cols * sizeof *want), *got = malloc(rows * cols * sizeof *got);
        ck_assert_ptr_nonnull(want);
        ck_assert_ptr_nonnull(got);
        softmax_rows(want, in, rows, cols);
        for (int threads = 1; threads <= 2; threads++) {
            kernels_softmax_rows(got, in, rows, cols, threads);
            ck_assert_msg(memcmp(got, want, rows * cols * sizeof *got) == 0, "softmax of %zu columns, %d threads", cols,
                          threads);
        }
        kernels_softmax_rows(in, in, rows, cols, 2); /* in place */
        ck_assert_msg(memcmp(in, want, rows * cols * sizeof *in) == 0, "in-place softmax of %zu columns", cols);
        free(in);
        free(want);
        free(got);
    }
}
END_TEST

/* kernels_divide is a true division, element by element: the same bits as
 * the scalar loop, for every length around the 8 lanes. */
START_TEST(test_divide_bit_identical)
{
    for (size_t n = 1; n <= 37; n++) {
        float *v = random_floats(n), *want = malloc(n * sizeof *want);
        ck_assert_ptr_nonnull(want);
        v[0] = -INFINITY;
        for (size_t i = 0; i < n; i++)
            want[i] = v[i] / 27.712812921102035f; /* sqrt(768) as a float */
        kernels_divide(v, n, 27.712812921102035f);
        ck_assert_msg(memcmp(v, want, n * sizeof *v) == 0, "division of %zu values", n);
        free(v);
        free(want);
    }
}
END_TEST

/* torchmath_expf_array equals torchmath_expf lane for lane: a sweep of
 * 2^19 inputs over the whole useful range, the limits and the specials. */
START_TEST(test_exp_array_bit_identical)
{
    enum { N = 1 << 19 };
    float *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < N; i++)
        in[i] = -110.0f + 220.0f * (float)i / (float)N;
    static const float specials[] = {0.0f,        -0.0f,   INFINITY,   -INFINITY, NAN,      -104.0f,
                                     -103.99999f, 100.0f,  100.00001f, 88.72283f, 88.7229f, -87.3f,
                                     1e-30f,      -1e-30f, FLT_MIN,    -FLT_MIN};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        in[i * 7 + 3] = specials[i];
    for (size_t i = 0; i < 4096; i++) {
        uint32_t bits = (uint32_t)i * 2654435761u;
        memcpy(&in[N - 1 - i], &bits, sizeof bits); /* arbitrary bit patterns */
    }
    torchmath_expf_array(out, in, N);
    for (size_t i = 0; i < N; i++) {
        float want = torchmath_expf(in[i]);
        ck_assert_msg(memcmp(&out[i], &want, sizeof want) == 0 || (isnan(out[i]) && isnan(want)),
                      "exp(%a): array %a, scalar %a", (double)in[i], (double)out[i], (double)want);
    }
    free(in);
    free(out);
}
END_TEST

/* A whole trace on the fast kernels against the same trace on the
 * reference ones: every tensor of every step within tolerance (weights
 * and ids exactly), for an unmasked and a masked configuration. */
START_TEST(test_trace_fast_against_reference)
{
    for (int causal = 0; causal <= 1; causal++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        ck_assert(
            config_set_sentence(&cfg, "every word of this longer sentence looks at every other word of it", &err));
        cfg.d_model = 48;
        cfg.heads = 6;
        cfg.focus = 4;
        cfg.causal = causal;
        cfg.kernels = KERNELS_REFERENCE;
        Trace *ref = trace_build(&cfg, &err);
        ck_assert_msg(ref != NULL, "%s", err.message);
        cfg.kernels = KERNELS_FAST;
        cfg.threads = 2;
        Trace *fast = trace_build(&cfg, &err);
        ck_assert_msg(fast != NULL, "%s", err.message);
        ck_assert(!ref->fast_kernels && fast->fast_kernels);
        ck_assert_int_eq(ref->n_steps, fast->n_steps);
        size_t compared = 0;
        for (int s = 0; s < ref->n_steps; s++)
            for (int t = 0; t < ref->steps[s].n_tensors; t++) {
                const Tensor *want = ref->steps[s].tensors[t].tensor, *got = fast->steps[s].tensors[t].tensor;
                ck_assert(tensor_same_shape(want, got));
                for (size_t i = 0; i < want->size; i++, compared++) {
                    double w = want->data[i], g = got->data[i];
                    if (isinf(w)) {
                        ck_assert_msg(g == w, "%s %s[%zu]: %g vs %g", ref->steps[s].id, ref->steps[s].tensors[t].name,
                                      i, g, w);
                        continue;
                    }
                    ck_assert_msg(fabs(g - w) <= 1e-4 + 1e-4 * fabs(w), "%s %s[%zu]: fast %.9g, reference %.9g",
                                  ref->steps[s].id, ref->steps[s].tensors[t].name, i, g, w);
                }
            }
        ck_assert_uint_gt(compared, 20000);
        trace_free(ref);
        trace_free(fast);
        config_free(&cfg);
    }
}
END_TEST

/* A whole trace on the exact kernels (--kernels auto) is the reference
 * trace bit for bit: every tensor of every step, unmasked and masked, at
 * 1 and 3 threads, and with the portable path forced. */
START_TEST(test_trace_exact_equals_reference)
{
    for (int causal = 0; causal <= 1; causal++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        ck_assert(config_repeat_tokens(&cfg, 37, &err));
        cfg.d_model = 96;
        cfg.heads = 6;
        cfg.causal = causal;
        cfg.kernels = KERNELS_REFERENCE;
        Trace *ref = trace_build(&cfg, &err);
        ck_assert_msg(ref != NULL, "%s", err.message);
        cfg.kernels = KERNELS_AUTO;
        for (int run = 0; run < 3; run++) {
            cfg.threads = run == 0 ? 1 : 3;
            torchmath_force_portable(run == 2);
            Trace *exact = trace_build(&cfg, &err);
            torchmath_force_portable(false);
            ck_assert_msg(exact != NULL, "%s", err.message);
            ck_assert(exact->exact_kernels && !exact->fast_kernels && !ref->exact_kernels);
            size_t compared = 0;
            for (int s = 0; s < ref->n_steps; s++)
                for (int t = 0; t < ref->steps[s].n_tensors; t++) {
                    const Tensor *want = ref->steps[s].tensors[t].tensor, *got = exact->steps[s].tensors[t].tensor;
                    ck_assert(tensor_same_shape(want, got));
                    for (size_t i = 0; i < want->size; i++, compared++)
                        ck_assert_msg(memcmp(&got->data[i], &want->data[i], sizeof(float)) == 0,
                                      "%s %s[%zu], run %d: exact %a, reference %a", ref->steps[s].id,
                                      ref->steps[s].tensors[t].name, i, run, (double)got->data[i],
                                      (double)want->data[i]);
                }
            ck_assert_uint_gt(compared, 50000);
            trace_free(exact);
        }
        trace_free(ref);
        config_free(&cfg);
    }
}
END_TEST

/* auto takes the exact kernels at every size (bit-identical to PyTorch),
 * fast and reference only when asked for. */
START_TEST(test_auto_choice)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    ck_assert(!trace_uses_fast_kernels(&cfg) && trace_uses_exact_kernels(&cfg));
    cfg.d_model = 64;
    ck_assert(config_repeat_tokens(&cfg, 40, &err));
    ck_assert(!trace_uses_fast_kernels(&cfg) && trace_uses_exact_kernels(&cfg));
    cfg.d_model = 768;
    cfg.heads = 12;
    ck_assert(!trace_uses_fast_kernels(&cfg) && trace_uses_exact_kernels(&cfg));
    cfg.kernels = KERNELS_REFERENCE;
    ck_assert(!trace_uses_fast_kernels(&cfg) && !trace_uses_exact_kernels(&cfg));
    cfg.kernels = KERNELS_FAST;
    cfg.d_model = 4;
    ck_assert(trace_uses_fast_kernels(&cfg) && !trace_uses_exact_kernels(&cfg));
    cfg.threads = 3;
    ck_assert_int_eq(trace_threads(&cfg), 3);
    cfg.threads = 0;
    ck_assert_int_ge(trace_threads(&cfg), 1);
    ck_assert_int_le(trace_threads(&cfg), KERNELS_DEFAULT_MAX_THREADS);
    config_free(&cfg);
}
END_TEST


/* On a trace computed by the fast kernels the inspector still adds the
 * products in order, and says so, with the in-order sum, exactly where the
 * fast kernels' blocks rounded differently; elsewhere it adds nothing. */
START_TEST(test_inspector_notes_fast_rounding)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    ck_assert(config_repeat_tokens(&cfg, 24, &err));
    cfg.d_model = 64;
    cfg.heads = 4;
    cfg.kernels = KERNELS_FAST;
    Trace *trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    int step = trace_find_step(trace, "keys_values", &err);
    ck_assert_int_ge(step, 0);
    int tensor = -1;
    for (int t = 0; t < trace->steps[step].n_tensors; t++)
        if (strcmp(trace->steps[step].tensors[t].name, "keys") == 0)
            tensor = t;
    ck_assert_int_ge(tensor, 0);
    const Tensor *keys = trace->steps[step].tensors[tensor].tensor;
    size_t noted = 0, plain = 0;
    for (size_t i = 0; i < keys->size; i++) {
        float in_order = explain_recompute(trace, step, tensor, i);
        bool differs = memcmp(&in_order, &keys->data[i], sizeof in_order) != 0;
        if ((differs && noted >= 3) || (!differs && plain >= 3))
            continue;
        StrBuf text = {0};
        explain_cell(trace, step, tensor, i, 4, NULL, 72, &text);
        bool has_note = strstr(strbuf_text(&text), "(added in order: ") != NULL;
        ck_assert_msg(has_note == differs, "keys[%zu]: note %d, differs %d:\n%s", i, has_note, differs,
                      strbuf_text(&text));
        if (differs) {
            char expect[64];
            snprintf(expect, sizeof expect, "(added in order: %.9g;", (double)in_order);
            ck_assert_msg(strstr(strbuf_text(&text), expect) != NULL, "keys[%zu] lacks %s", i, expect);
            noted++;
        } else {
            plain++;
        }
        strbuf_free(&text);
    }
    ck_assert_msg(noted >= 1 && plain >= 1, "expected cells of both kinds (noted %zu, plain %zu)", noted, plain);
    trace_free(trace);
    config_free(&cfg);
}
END_TEST

/* The portable C paths, forced on this machine: the random draws give the
 * same bits as the AVX2 ones (so a machine without AVX2 traces the same
 * weights), exp, softmax and division the same bits, and the portable
 * micro-kernel's products stay within the tolerance. */
START_TEST(test_portable_paths)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    ck_assert(config_repeat_tokens(&cfg, 12, &err));
    cfg.d_model = 40;
    cfg.heads = 5;
    cfg.kernels = KERNELS_FAST;
    Trace *simd = trace_build(&cfg, &err);
    ck_assert_msg(simd != NULL, "%s", err.message);
    torchmath_force_portable(true);
    ck_assert(!torchmath_have_avx2());
    ck_assert_str_eq(kernels_isa(), "portable C");
    ck_assert_str_eq(kernels_exact_isa(), "portable C");
    Trace *plain = trace_build(&cfg, &err);
    ck_assert_msg(plain != NULL, "%s", err.message);
    check_layout(3, 20, 33, 18, false, true, false, false);
    check_layout(4, 9, 300, 40, false, false, true, false);
    float in[37], want[37], got[37];
    for (size_t i = 0; i < 37; i++)
        in[i] = test_uniform() * 90.0f;
    torchmath_expf_array(got, in, 37);
    torchmath_force_portable(false);
    torchmath_expf_array(want, in, 37);
    ck_assert(memcmp(got, want, sizeof got) == 0);
    for (int s = 0; s < simd->n_steps; s++)
        for (int t = 0; t < simd->steps[s].n_tensors; t++) {
            const TraceTensor *a = &simd->steps[s].tensors[t], *b = &plain->steps[s].tensors[t];
            bool drawn = a->is_output && (a->how.op == OP_RAND_UNIFORM || a->how.op == OP_RAND_NORMAL);
            for (size_t i = 0; i < a->tensor->size; i++) {
                double x = a->tensor->data[i], y = b->tensor->data[i];
                if (drawn || isinf(x))
                    ck_assert_msg(memcmp(&a->tensor->data[i], &b->tensor->data[i], sizeof(float)) == 0,
                                  "%s %s[%zu]: AVX2 %.9g, portable %.9g", simd->steps[s].id, a->name, i, x, y);
                else
                    ck_assert_msg(fabs(x - y) <= 1e-4 + 1e-4 * fabs(x), "%s %s[%zu]: AVX2 %.9g, portable %.9g",
                                  simd->steps[s].id, a->name, i, x, y);
            }
        }
    trace_free(simd);
    trace_free(plain);
    config_free(&cfg);
}
END_TEST

Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("fast");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gemm_shapes);
    tcase_add_test(tc, test_gemm_layouts);
    tcase_add_test(tc, test_einsum_fast);
    tcase_add_test(tc, test_softmax_bit_identical);
    tcase_add_test(tc, test_divide_bit_identical);
    tcase_add_test(tc, test_exp_array_bit_identical);
    tcase_add_test(tc, test_trace_fast_against_reference);
    tcase_add_test(tc, test_trace_exact_equals_reference);
    tcase_add_test(tc, test_auto_choice);
    tcase_add_test(tc, test_inspector_notes_fast_rounding);
    tcase_add_test(tc, test_portable_paths);
    suite_add_tcase(s, tc);
    return s;
}
