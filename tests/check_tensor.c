/*
 * check_tensor.c - the Tensor type and the reference kernels.
 *
 * Each kernel is compared with a separate loop written here in double
 * precision, and its error paths are exercised. Element-wise results use a
 * tolerance of 1e-6 absolute + 1e-6 relative. Dot products accumulate in
 * float, as PyTorch's BLAS does, so they are held to the standard bound for
 * a float sum of K products: 1e-6 + K * 2^-23 * sum(|a_k * b_k|).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "tensor.h"

#define TOL_ABS 1e-6
#define TOL_REL 1e-6

static void fill_pattern(Tensor *t, double phase)
{
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = (float)sin((double)i * 0.37 + phase) * 2.0f;
}

/* Checks a float dot product of K terms whose absolute products sum to
 * magnitude against its exact value want. */
static void assert_dot_close(const char *what, size_t i, double got, double want, size_t K, double magnitude)
{
    double bound = 1e-6 + (double)K * 0x1p-23 * magnitude;
    ck_assert_msg(fabs(got - want) <= bound, "%s[%zu]: got %.9g, want %.9g (bound %.3g)", what, i, got, want, bound);
}

static void assert_close(const char *what, size_t i, double got, double want)
{
    ck_assert_msg(fabs(got - want) <= TOL_ABS + TOL_REL * fabs(want), "%s[%zu]: got %.9g, want %.9g", what, i, got,
                  want);
}

START_TEST(test_new_and_shape)
{
    Error err;
    error_clear(&err);
    Tensor *t = tensor_new3(4, 5, 6, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->ndim, 3);
    ck_assert_uint_eq(t->size, 120);
    for (size_t i = 0; i < t->size; i++)
        ck_assert(t->data[i] == 0.0f);
    char buf[32];
    ck_assert_str_eq(tensor_shape_str(t, buf, sizeof buf), "[4, 5, 6]");
    ck_assert_uint_eq(tensor_offset(t, (size_t[]){2, 3, 4}), (2 * 5 + 3) * 6 + 4);
    tensor_free(t);

    Tensor *scalar = tensor_new(0, NULL, &err);
    ck_assert_ptr_nonnull(scalar);
    ck_assert_uint_eq(scalar->size, 1);
    ck_assert_str_eq(tensor_shape_str(scalar, buf, sizeof buf), "[]");
    tensor_free(scalar);
    tensor_free(NULL); /* a no-op */
}
END_TEST

/* A large tensor freed and made again reuses its mapping (tensor.c's
 * cache) and still comes back all zeros; a different length after it
 * works too and is zero as well. */
START_TEST(test_reused_mapping_is_zeroed)
{
    const size_t rows = 1024, cols = 2048; /* 8 MiB: a mapping of its own */
    Error err = {0};
    Tensor *t = tensor_new2(rows, cols, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_ne(t->mapped_bytes, 0);
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = (float)i + 1.0f;
    tensor_free(t);
    for (int round = 0; round < 3; round++) {
        Tensor *u = tensor_new2(rows + (size_t)round * 512, cols, &err);
        ck_assert_ptr_nonnull(u);
        size_t nonzero = 0;
        for (size_t i = 0; i < u->size; i++)
            nonzero += u->data[i] != 0.0f;
        ck_assert_msg(nonzero == 0, "round %d: %zu of %zu values not zero", round, nonzero, u->size);
        for (size_t i = 0; i < u->size; i++)
            u->data[i] = -1.0f;
        tensor_free(u);
    }
}
END_TEST

START_TEST(test_new_rejects_bad_shapes)
{
    Error err;
    error_clear(&err);
    ck_assert_ptr_null(tensor_new2(3, 0, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_ptr_null(tensor_new(5, (size_t[]){1, 1, 1, 1, 1}, &err));
    ck_assert_ptr_null(tensor_new(-1, NULL, &err));
    error_clear(&err);
    ck_assert_ptr_null(tensor_new3(SIZE_MAX / 2, 4, 4, &err));
    ck_assert_msg(strstr(err.message, "too large") != NULL, "message: %s", err.message);
}
END_TEST

START_TEST(test_shape_str_truncates_safely)
{
    Error err;
    Tensor *t = tensor_new3(100, 200, 300, &err);
    char tiny[6];
    tensor_shape_str(t, tiny, sizeof tiny);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny);
    tensor_free(t);
}
END_TEST

/* matmul for every rank pairing PyTorch allows, odd sizes included. */
START_TEST(test_matmul_against_naive)
{
    static const size_t sizes[][3] = {{1, 1, 1}, {2, 3, 4}, {5, 16, 16}, {7, 1, 9}, {3, 17, 2}};
    Error err;
    error_clear(&err);
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        size_t M = sizes[c][0], K = sizes[c][1], N = sizes[c][2];
        Tensor *a = tensor_new2(M, K, &err), *b = tensor_new2(K, N, &err);
        fill_pattern(a, 0.1);
        fill_pattern(b, 1.3);
        Tensor *out = tensor_matmul(a, b, &err);
        ck_assert_ptr_nonnull(out);
        ck_assert_uint_eq(out->shape[0], M);
        ck_assert_uint_eq(out->shape[1], N);
        for (size_t m = 0; m < M; m++)
            for (size_t n = 0; n < N; n++) {
                double want = 0, magnitude = 0;
                for (size_t k = 0; k < K; k++) {
                    want += (double)a->data[m * K + k] * b->data[k * N + n];
                    magnitude += fabs((double)a->data[m * K + k] * b->data[k * N + n]);
                }
                assert_dot_close("matmul", m * N + n, out->data[m * N + n], want, K, magnitude);
            }
        /* (M, K) @ (K) -> (M), as W·x in part 1 */
        Tensor *x = tensor_new1(K, &err);
        fill_pattern(x, 2.0);
        Tensor *wx = tensor_matmul(a, x, &err);
        ck_assert_int_eq(wx->ndim, 1);
        for (size_t m = 0; m < M; m++) {
            double want = 0, magnitude = 0;
            for (size_t k = 0; k < K; k++) {
                want += (double)a->data[m * K + k] * x->data[k];
                magnitude += fabs((double)a->data[m * K + k] * x->data[k]);
            }
            assert_dot_close("matvec", m, wx->data[m], want, K, magnitude);
        }
        /* (K) @ (K, N) -> (N) */
        Tensor *xb = tensor_matmul(x, b, &err);
        ck_assert_int_eq(xb->ndim, 1);
        ck_assert_uint_eq(xb->shape[0], N);
        for (size_t n = 0; n < N; n++) {
            double want = 0, magnitude = 0;
            for (size_t k = 0; k < K; k++) {
                want += (double)x->data[k] * b->data[k * N + n];
                magnitude += fabs((double)x->data[k] * b->data[k * N + n]);
            }
            assert_dot_close("vecmat", n, xb->data[n], want, K, magnitude);
        }
        /* matmul_bt: a (M, K) against the rows of bt (N, K) */
        Tensor *bt = tensor_transpose(b, &err);
        float *out_bt = calloc(M * N, sizeof *out_bt);
        matmul_bt_forward(out_bt, a->data, bt->data, M, K, N);
        for (size_t i = 0; i < M * N; i++)
            ck_assert_msg(out_bt[i] == out->data[i], "matmul_bt differs from matmul at %zu", i);
        free(out_bt);
        tensor_free(a), tensor_free(b), tensor_free(out), tensor_free(x), tensor_free(wx), tensor_free(xb);
        tensor_free(bt);
    }
}
END_TEST

START_TEST(test_matmul_rejects_mismatch)
{
    Error err;
    error_clear(&err);
    Tensor *a = tensor_new2(2, 3, &err), *b = tensor_new2(4, 5, &err);
    ck_assert_ptr_null(tensor_matmul(a, b, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_msg(strstr(err.message, "[2, 3]") && strstr(err.message, "[4, 5]"), "message: %s", err.message);
    Tensor *c = tensor_new3(2, 3, 4, &err);
    ck_assert_ptr_null(tensor_matmul(c, a, &err));
    ck_assert_ptr_null(tensor_transpose(c, &err));
    tensor_free(a), tensor_free(b), tensor_free(c);
}
END_TEST

/* Softmax: against exp(x)/sum(exp(x)) in double, and its edge cases. */
START_TEST(test_softmax_values_and_edges)
{
    static const struct {
        const char *what;
        float in[4];
        double want[4];
    } cases[] = {
        {"plain", {1.0f, 2.0f, 3.0f, 4.0f}, {0.0320586, 0.0871443, 0.2368828, 0.6439142}},
        {"large values do not overflow",
         {1000.0f, 1001.0f, 1002.0f, 1003.0f},
         {0.0320586, 0.0871443, 0.2368828, 0.6439142}},
        {"very negative values do not underflow to nothing",
         {-1000.0f, -1001.0f, -1002.0f, -1003.0f},
         {0.6439142, 0.2368828, 0.0871443, 0.0320586}},
        {"-inf gets exactly 0", {0.5f, -INFINITY, 0.5f, -INFINITY}, {0.5, 0.0, 0.5, 0.0}},
        {"a fully masked row is all 0", {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, {0, 0, 0, 0}},
        {"equal values share equally", {7.0f, 7.0f, 7.0f, 7.0f}, {0.25, 0.25, 0.25, 0.25}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float out[4];
        softmax_rows(out, cases[c].in, 1, 4);
        for (size_t i = 0; i < 4; i++) {
            ck_assert_msg(fabs(out[i] - cases[c].want[i]) <= 1e-6, "%s: [%zu] = %.9g, want %.9g", cases[c].what, i,
                          (double)out[i], cases[c].want[i]);
            if (cases[c].want[i] == 0.0)
                ck_assert_msg(out[i] == 0.0f, "%s: [%zu] must be exactly 0", cases[c].what, i);
        }
    }
}
END_TEST

START_TEST(test_softmax_last_rows_sum_to_one)
{
    Error err;
    error_clear(&err);
    Tensor *t = tensor_new3(3, 4, 7, &err);
    fill_pattern(t, 0.7);
    for (size_t i = 0; i < t->size; i++)
        t->data[i] *= 10.0f;
    Tensor *p = tensor_softmax_last(t, &err);
    for (size_t r = 0; r < 12; r++) {
        double sum = 0, denom = 0, max = -INFINITY;
        for (size_t c = 0; c < 7; c++)
            max = fmax(max, t->data[r * 7 + c]);
        for (size_t c = 0; c < 7; c++) {
            sum += p->data[r * 7 + c];
            denom += exp(t->data[r * 7 + c] - max);
        }
        ck_assert_msg(fabs(sum - 1.0) < 1e-6, "row %zu sums to %.9g", r, sum);
        for (size_t c = 0; c < 7; c++)
            assert_close("softmax", r * 7 + c, p->data[r * 7 + c], exp(t->data[r * 7 + c] - max) / denom);
    }
    tensor_free(t), tensor_free(p);
}
END_TEST

START_TEST(test_causal_masks)
{
    Error err;
    error_clear(&err);
    Tensor *s = tensor_new3(2, 4, 4, &err);
    fill_pattern(s, 0.0);
    tensor_causal_mask(s);
    for (size_t h = 0; h < 2; h++)
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 4; j++) {
                float v = s->data[(h * 4 + i) * 4 + j];
                ck_assert_msg((j > i) == (isinf(v) && v < 0), "head %zu [%zu][%zu] = %g", h, i, j, (double)v);
            }
    Tensor *row = tensor_new1(5, &err);
    tensor_causal_mask_row(row, 2);
    for (size_t j = 0; j < 5; j++)
        ck_assert((j > 2) == (isinf(row->data[j]) != 0));
    tensor_free(s), tensor_free(row);
}
END_TEST

START_TEST(test_concat_heads_is_permute_then_reshape)
{
    Error err;
    error_clear(&err);
    Tensor *heads = tensor_new3(3, 5, 2, &err);
    fill_pattern(heads, 0.2);
    Tensor *out = tensor_concat_heads(heads, &err);
    ck_assert_uint_eq(out->shape[0], 5);
    ck_assert_uint_eq(out->shape[1], 6);
    for (size_t h = 0; h < 3; h++)
        for (size_t s = 0; s < 5; s++)
            for (size_t e = 0; e < 2; e++)
                ck_assert(out->data[s * 6 + h * 2 + e] == heads->data[(h * 5 + s) * 2 + e]);
    tensor_free(heads), tensor_free(out);
}
END_TEST

START_TEST(test_gather_rows_and_row)
{
    Error err;
    error_clear(&err);
    Tensor *table = tensor_new2(4, 3, &err);
    fill_pattern(table, 0.0);
    long ids[] = {2, 0, 2};
    Tensor *rows = tensor_gather_rows(table, ids, 3, &err);
    for (size_t s = 0; s < 3; s++)
        for (size_t d = 0; d < 3; d++)
            ck_assert(rows->data[s * 3 + d] == table->data[(size_t)ids[s] * 3 + d]);
    long bad[] = {1, 4};
    ck_assert_ptr_null(tensor_gather_rows(table, bad, 2, &err));
    ck_assert_msg(strstr(err.message, "token id 4") != NULL, "message: %s", err.message);
    Tensor *r = tensor_row(table, 3, &err);
    ck_assert(r->data[1] == table->data[10]);
    ck_assert_ptr_null(tensor_row(table, 4, &err));
    Tensor *scaled = tensor_scale(table, 0.5f, &err);
    ck_assert(scaled->data[5] == table->data[5] * 0.5f);
    tensor_free(table), tensor_free(rows), tensor_free(r), tensor_free(scaled);
}
END_TEST

/* Every value of the transposed tensor is the one the index rule names,
 * on shapes smaller than, equal to and past the 16 x 16 tiles; a 2-D
 * tensor is refused. */
START_TEST(test_transpose_last_by_index)
{
    static const size_t shapes[][3] = {{1, 1, 1}, {2, 17, 33}, {3, 16, 16}, {1, 40, 5}, {4, 5, 40}, {2, 32, 48}};
    Error err;
    error_clear(&err);
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const size_t B = shapes[c][0], M = shapes[c][1], N = shapes[c][2];
        Tensor *a = tensor_new3(B, M, N, &err);
        fill_pattern(a, 0.3);
        Tensor *t = tensor_transpose_last(a, &err);
        ck_assert_msg(t != NULL, "%s", err.message);
        ck_assert(t->ndim == 3 && t->shape[0] == B && t->shape[1] == N && t->shape[2] == M);
        for (size_t b = 0; b < B; b++)
            for (size_t m = 0; m < M; m++)
                for (size_t n = 0; n < N; n++)
                    ck_assert_msg(t->data[(b * N + n) * M + m] == a->data[(b * M + m) * N + n],
                                  "[%zu, %zu, %zu]: (%zu, %zu, %zu)", B, M, N, b, m, n);
        tensor_free(a), tensor_free(t);
    }
    Tensor *flat = tensor_new2(3, 4, &err);
    ck_assert_ptr_null(tensor_transpose_last(flat, &err));
    ck_assert_msg(strstr(err.message, "3-D") != NULL, "message: %s", err.message);
    tensor_free(flat);
}
END_TEST

Suite *tensor_suite(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, test_new_and_shape);
    tcase_add_test(tc, test_new_rejects_bad_shapes);
    tcase_add_test(tc, test_shape_str_truncates_safely);
    tcase_add_test(tc, test_matmul_against_naive);
    tcase_add_test(tc, test_matmul_rejects_mismatch);
    tcase_add_test(tc, test_softmax_values_and_edges);
    tcase_add_test(tc, test_softmax_last_rows_sum_to_one);
    tcase_add_test(tc, test_causal_masks);
    tcase_add_test(tc, test_concat_heads_is_permute_then_reshape);
    tcase_add_test(tc, test_gather_rows_and_row);
    tcase_add_test(tc, test_transpose_last_by_index);
    tcase_add_test(tc, test_reused_mapping_is_zeroed);
    suite_add_tcase(s, tc);
    return s;
}
