/*
 * check_einsum.c - tests for einsum.c: parsing, binding, the reference
 * evaluation (against naive loops written out here, one per equation), the
 * error messages, and the cell inspector's terms.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einsum.h"
#include "suites.h"
#include "tensor.h"

/* Most operands any case below uses. */
#define CASE_MAX_OPERANDS 3

/* Room for the expected values of the largest output below. */
#define CASE_MAX_OUTPUT 256

/* Letters in the order the generated equations use them. */
static const char LETTERS[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* ---------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------- */

/* A new tensor of the given shape whose element i (row-major) is
 * sin(i * 0.37 + phase): deterministic, varied and never all alike. */
static Tensor *tensor_filled(int ndim, const size_t *shape, double phase)
{
    Error err;
    error_clear(&err);
    Tensor *t = tensor_new(ndim, shape, &err);
    ck_assert_msg(t != NULL, "tensor_new failed: %s", err.message);
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = (float)sin((double)i * 0.37 + phase);
    return t;
}

/* Fails the test unless got is within 1e-6 absolute plus 1e-6 relative of want. */
static void assert_close(float got, double want, const char *equation, size_t index)
{
    double tolerance = 1e-6 + 1e-6 * fabs(want);
    ck_assert_msg(fabs((double)got - want) <= tolerance, "%s: element %zu is %.9g, expected %.9g (tolerance %.3g)",
                  equation, index, (double)got, want, tolerance);
}

/* Fails the test unless message contains part. */
static void assert_contains(const char *message, const char *part)
{
    ck_assert_msg(strstr(message, part) != NULL, "expected the message to contain \"%s\", got \"%s\"", part, message);
}

/* Fails the test unless err is a STATUS_DATAERR error whose one-line
 * message contains every non-NULL string of parts. */
static void assert_dataerr(const Error *err, const char *const *parts, int n_parts)
{
    ck_assert_msg(err->status == STATUS_DATAERR, "expected status %d (STATUS_DATAERR), got %d: \"%s\"", STATUS_DATAERR,
                  err->status, err->message);
    ck_assert_msg(strchr(err->message, '\n') == NULL, "message is not one line: \"%s\"", err->message);
    for (int i = 0; i < n_parts; i++)
        if (parts[i] != NULL)
            assert_contains(err->message, parts[i]);
}

/* The slot of letter in spec->letters, failing the test when absent. */
static int slot_of(const EinsumSpec *spec, char letter)
{
    for (int i = 0; i < spec->n_letters; i++)
        if (spec->letters[i] == letter)
            return i;
    ck_abort_msg("letter '%c' is not in the spec", letter);
    return -1;
}

/* Writes n distinct letters (a-z, then A-Z) into buf as operands of up to
 * TENSOR_MAX_DIMS letters separated by ',' ("abcd,efgh,i"). Returns the
 * number of operands written. */
static int write_distinct_operands(int n, char *buf)
{
    int operands = 0;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        if (i % TENSOR_MAX_DIMS == 0) {
            if (i > 0)
                buf[used++] = ',';
            operands++;
        }
        buf[used++] = LETTERS[i];
    }
    buf[used] = '\0';
    return operands;
}

/* ---------------------------------------------------------------------
 * Naive references, one per equation, written out as nested loops.
 * Each reads its operands from in and writes the output, row-major, in
 * double into want.
 * ------------------------------------------------------------------- */

typedef void (*ReferenceFn)(const Tensor *const *in, double *want);

/* 'sd,hde->hse': x (S, D), w (H, D, E) -> (H, S, E), the article's
 * per-head projection: out[h][s][e] = sum_d x[s][d] * w[h][d][e]. */
static void ref_sd_hde_hse(const Tensor *const *in, double *want)
{
    const Tensor *x = in[0], *w = in[1];
    size_t S = x->shape[0], D = x->shape[1], H = w->shape[0], E = w->shape[2];
    for (size_t h = 0; h < H; h++)
        for (size_t s = 0; s < S; s++)
            for (size_t e = 0; e < E; e++) {
                double sum = 0.0;
                for (size_t d = 0; d < D; d++)
                    sum += (double)x->data[s * D + d] * (double)w->data[(h * D + d) * E + e];
                want[(h * S + s) * E + e] = sum;
            }
}

/* 'hse,hek->hsk': q (H, S, E), kt (H, E, K) -> (H, S, K), the article's
 * scores: out[h][s][k] = sum_e q[h][s][e] * kt[h][e][k]. */
static void ref_hse_hek_hsk(const Tensor *const *in, double *want)
{
    const Tensor *q = in[0], *kt = in[1];
    size_t H = q->shape[0], S = q->shape[1], E = q->shape[2], K = kt->shape[2];
    for (size_t h = 0; h < H; h++)
        for (size_t s = 0; s < S; s++)
            for (size_t k = 0; k < K; k++) {
                double sum = 0.0;
                for (size_t e = 0; e < E; e++)
                    sum += (double)q->data[(h * S + s) * E + e] * (double)kt->data[(h * E + e) * K + k];
                want[(h * S + s) * K + k] = sum;
            }
}

/* 'hij,hjk->hik': a (H, I, J), b (H, J, K) -> (H, I, K), the article's
 * weights times values: out[h][i][k] = sum_j a[h][i][j] * b[h][j][k]. */
static void ref_hij_hjk_hik(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0], *b = in[1];
    size_t H = a->shape[0], I = a->shape[1], J = a->shape[2], K = b->shape[2];
    for (size_t h = 0; h < H; h++)
        for (size_t i = 0; i < I; i++)
            for (size_t k = 0; k < K; k++) {
                double sum = 0.0;
                for (size_t j = 0; j < J; j++)
                    sum += (double)a->data[(h * I + i) * J + j] * (double)b->data[(h * J + j) * K + k];
                want[(h * I + i) * K + k] = sum;
            }
}

/* 'ij,jk->ik': a (I, J), b (J, K) -> (I, K), the matrix product. */
static void ref_matmul(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0], *b = in[1];
    size_t I = a->shape[0], J = a->shape[1], K = b->shape[1];
    for (size_t i = 0; i < I; i++)
        for (size_t k = 0; k < K; k++) {
            double sum = 0.0;
            for (size_t j = 0; j < J; j++)
                sum += (double)a->data[i * J + j] * (double)b->data[j * K + k];
            want[i * K + k] = sum;
        }
}

/* 'jk,ij->ik': b (J, K), a (I, J) -> (I, K), the matrix product a @ b with
 * the operands swapped, so the letters are first seen in the order j, k, i. */
static void ref_matmul_swapped(const Tensor *const *in, double *want)
{
    const Tensor *b = in[0], *a = in[1];
    size_t I = a->shape[0], J = a->shape[1], K = b->shape[1];
    for (size_t i = 0; i < I; i++)
        for (size_t k = 0; k < K; k++) {
            double sum = 0.0;
            for (size_t j = 0; j < J; j++)
                sum += (double)a->data[i * J + j] * (double)b->data[j * K + k];
            want[i * K + k] = sum;
        }
}

/* 'ij->ji': a (I, J) -> (J, I), the transpose. */
static void ref_transpose(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0];
    size_t I = a->shape[0], J = a->shape[1];
    for (size_t j = 0; j < J; j++)
        for (size_t i = 0; i < I; i++)
            want[j * I + i] = a->data[i * J + j];
}

/* 'i,i->': a (I), b (I) -> scalar, the dot product. */
static void ref_dot(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0], *b = in[1];
    double sum = 0.0;
    for (size_t i = 0; i < a->shape[0]; i++)
        sum += (double)a->data[i] * (double)b->data[i];
    want[0] = sum;
}

/* 'ij->': a (I, J) -> scalar, the sum of every element. */
static void ref_sum_all(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0];
    double sum = 0.0;
    for (size_t i = 0; i < a->shape[0]; i++)
        for (size_t j = 0; j < a->shape[1]; j++)
            sum += a->data[i * a->shape[1] + j];
    want[0] = sum;
}

/* 'bhqd,bhkd->bhqk': q (B, H, Q, D), k (B, H, K, D) -> (B, H, Q, K), batched
 * attention scores: out[b][h][q][k] = sum_d q[b][h][q][d] * k[b][h][k][d]. */
static void ref_bhqd_bhkd_bhqk(const Tensor *const *in, double *want)
{
    const Tensor *qt = in[0], *kt = in[1];
    size_t B = qt->shape[0], H = qt->shape[1], Q = qt->shape[2], D = qt->shape[3];
    size_t K = kt->shape[2];
    for (size_t b = 0; b < B; b++)
        for (size_t h = 0; h < H; h++)
            for (size_t q = 0; q < Q; q++)
                for (size_t k = 0; k < K; k++) {
                    double sum = 0.0;
                    for (size_t d = 0; d < D; d++)
                        sum += (double)qt->data[((b * H + h) * Q + q) * D + d] *
                               (double)kt->data[((b * H + h) * K + k) * D + d];
                    want[((b * H + h) * Q + q) * K + k] = sum;
                }
}

/* 'i,j->ij': a (I), b (J) -> (I, J), the outer product. */
static void ref_outer(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0], *b = in[1];
    size_t I = a->shape[0], J = b->shape[0];
    for (size_t i = 0; i < I; i++)
        for (size_t j = 0; j < J; j++)
            want[i * J + j] = (double)a->data[i] * (double)b->data[j];
}

/* 'ij,ij->ij': a (I, J), b (I, J) -> (I, J), the elementwise product. */
static void ref_hadamard(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0], *b = in[1];
    for (size_t i = 0; i < a->size; i++)
        want[i] = (double)a->data[i] * (double)b->data[i];
}

/* 'ij,jk,kl->il': a (I, J), b (J, K), c (K, L) -> (I, L), a chain of two
 * matrix products: out[i][l] = sum_j sum_k a[i][j] * b[j][k] * c[k][l]. */
static void ref_chain(const Tensor *const *in, double *want)
{
    const Tensor *a = in[0], *b = in[1], *c = in[2];
    size_t I = a->shape[0], J = a->shape[1], K = b->shape[1], L = c->shape[1];
    for (size_t i = 0; i < I; i++)
        for (size_t l = 0; l < L; l++) {
            double sum = 0.0;
            for (size_t j = 0; j < J; j++)
                for (size_t k = 0; k < K; k++)
                    sum += (double)a->data[i * J + j] * (double)b->data[j * K + k] * (double)c->data[k * L + l];
            want[i * L + l] = sum;
        }
}

/* ---------------------------------------------------------------------
 * Evaluation against the references.
 * ------------------------------------------------------------------- */

typedef struct EquationCase {
    const char *equation;
    int n;                                            /* operands */
    int ndim[CASE_MAX_OPERANDS];                      /* each operand's rank */
    size_t shape[CASE_MAX_OPERANDS][TENSOR_MAX_DIMS]; /* each operand's shape */
    int out_ndim;                                     /* expected result rank */
    size_t out_shape[TENSOR_MAX_DIMS];                /* expected result shape */
    ReferenceFn reference;
} EquationCase;

/* The article's three equations. Every size differs from the others, so
 * mixing up two letters cannot go unnoticed. */
static const EquationCase ARTICLE_CASES[] = {
    {"sd,hde->hse", 2, {2, 3}, {{3, 4}, {2, 4, 5}}, 3, {2, 3, 5}, ref_sd_hde_hse},
    {"hse,hek->hsk", 2, {3, 3}, {{2, 3, 4}, {2, 4, 5}}, 3, {2, 3, 5}, ref_hse_hek_hsk},
    {"hij,hjk->hik", 2, {3, 3}, {{2, 3, 4}, {2, 4, 5}}, 3, {2, 3, 5}, ref_hij_hjk_hik},
};

/* Other shapes of equation. */
static const EquationCase OTHER_CASES[] = {
    {"ij,jk->ik", 2, {2, 2}, {{3, 4}, {4, 5}}, 2, {3, 5}, ref_matmul},
    {"jk,ij->ik", 2, {2, 2}, {{4, 5}, {3, 4}}, 2, {3, 5}, ref_matmul_swapped},
    {"ij->ji", 1, {2}, {{3, 4}}, 2, {4, 3}, ref_transpose},
    {"i,i->", 2, {1, 1}, {{5}, {5}}, 0, {0}, ref_dot},
    {"ij->", 1, {2}, {{3, 4}}, 0, {0}, ref_sum_all},
    {"bhqd,bhkd->bhqk", 2, {4, 4}, {{2, 3, 4, 5}, {2, 3, 6, 5}}, 4, {2, 3, 4, 6}, ref_bhqd_bhkd_bhqk},
    {"i,j->ij", 2, {1, 1}, {{3}, {4}}, 2, {3, 4}, ref_outer},
    {"ij,ij->ij", 2, {2, 2}, {{3, 4}, {3, 4}}, 2, {3, 4}, ref_hadamard},
    {"ij,jk,kl->il", 3, {2, 2, 2}, {{2, 3}, {3, 4}, {4, 5}}, 2, {2, 5}, ref_chain},
    {" i j , j k -> i k ", 2, {2, 2}, {{3, 4}, {4, 5}}, 2, {3, 5}, ref_matmul},
    {"ij,jk->ik   ", 2, {2, 2}, {{3, 4}, {4, 5}}, 2, {3, 5}, ref_matmul},
    {"IJ,JK->IK", 2, {2, 2}, {{3, 4}, {4, 5}}, 2, {3, 5}, ref_matmul},
    {"aB,Bc->ac", 2, {2, 2}, {{3, 4}, {4, 5}}, 2, {3, 5}, ref_matmul},
    {"a,A->aA", 2, {1, 1}, {{3}, {4}}, 2, {3, 4}, ref_outer},
};

/* Evaluates c with einsum and compares shape and every element with its
 * naive reference. */
static void check_equation_case(const EquationCase *c)
{
    Tensor *in[CASE_MAX_OPERANDS] = {NULL};
    const Tensor *operands[CASE_MAX_OPERANDS] = {NULL};
    for (int k = 0; k < c->n; k++) {
        in[k] = tensor_filled(c->ndim[k], c->shape[k], 0.1 + 1.3 * k);
        operands[k] = in[k];
    }

    Error err;
    error_clear(&err);
    Tensor *out = einsum(c->equation, operands, c->n, &err);
    ck_assert_msg(out != NULL, "'%s': expected a result, got the error \"%s\"", c->equation, err.message);

    ck_assert_msg(out->ndim == c->out_ndim, "'%s': result has rank %d, expected %d", c->equation, out->ndim,
                  c->out_ndim);
    size_t expected_size = 1;
    for (int d = 0; d < c->out_ndim; d++) {
        ck_assert_msg(out->shape[d] == c->out_shape[d], "'%s': result dimension %d is %zu, expected %zu", c->equation,
                      d, out->shape[d], c->out_shape[d]);
        expected_size *= c->out_shape[d];
    }
    ck_assert_msg(out->size == expected_size, "'%s': result has %zu elements, expected %zu", c->equation, out->size,
                  expected_size);
    ck_assert_msg(expected_size <= CASE_MAX_OUTPUT, "'%s': case too large for the test", c->equation);

    double want[CASE_MAX_OUTPUT];
    c->reference(operands, want);
    for (size_t i = 0; i < out->size; i++)
        assert_close(out->data[i], want[i], c->equation, i);

    tensor_free(out);
    for (int k = 0; k < c->n; k++)
        tensor_free(in[k]);
}

START_TEST(test_article_equation)
{
    check_equation_case(&ARTICLE_CASES[_i]);
}
END_TEST

START_TEST(test_other_equation)
{
    check_equation_case(&OTHER_CASES[_i]);
}
END_TEST

/* einsum_parse, einsum_bind and einsum_eval called one by one give the same
 * floats as einsum, and evaluating twice gives the same floats again. */
START_TEST(test_stages_match_one_call)
{
    size_t a_shape[3] = {2, 3, 4}, b_shape[3] = {2, 4, 5};
    Tensor *a = tensor_filled(3, a_shape, 0.2), *b = tensor_filled(3, b_shape, 0.9);
    const Tensor *operands[2] = {a, b};
    Error err;
    error_clear(&err);
    EinsumSpec spec;
    ck_assert_msg(einsum_parse("hij,hjk->hik", &spec, &err), "parse: %s", err.message);
    ck_assert_msg(!spec.bound, "a parsed spec must not be bound yet");
    ck_assert_msg(einsum_bind(&spec, operands, 2, &err), "bind: %s", err.message);
    ck_assert_msg(spec.bound, "a bound spec must say so");
    Tensor *staged = einsum_eval(&spec, operands, 2, &err);
    Tensor *again = einsum_eval(&spec, operands, 2, &err);
    Tensor *whole = einsum("hij,hjk->hik", operands, 2, &err);
    ck_assert_msg(staged != NULL && again != NULL && whole != NULL, "eval: %s", err.message);
    for (size_t i = 0; i < whole->size; i++) {
        ck_assert_msg(staged->data[i] == whole->data[i] && again->data[i] == whole->data[i],
                      "element %zu: staged %.9g, again %.9g, one call %.9g", i, (double)staged->data[i],
                      (double)again->data[i], (double)whole->data[i]);
    }
    tensor_free(staged);
    tensor_free(again);
    tensor_free(whole);
    tensor_free(a);
    tensor_free(b);
}
END_TEST

/* ---------------------------------------------------------------------
 * What einsum_parse fills in.
 * ------------------------------------------------------------------- */

typedef struct ParseCase {
    const char *equation;
    const char *operands[EINSUM_MAX_OPERANDS]; /* expected letters of each operand */
    const char *output;                        /* expected output letters */
    const char *letters;                       /* expected distinct letters, first-seen order */
    const char *summed;                        /* which of them are summed over */
} ParseCase;

static const ParseCase PARSE_CASES[] = {
    {"sd,hde->hse", {"sd", "hde"}, "hse", "sdhe", "d"},
    {"hse,hek->hsk", {"hse", "hek"}, "hsk", "hsek", "e"},
    {"ij,jk,kl->il", {"ij", "jk", "kl"}, "il", "ijkl", "jk"},
    {"i,i->", {"i", "i"}, "", "i", "i"},
    {"ij->ji", {"ij"}, "ji", "ij", ""},
    {" A b , b C -> A C ", {"Ab", "bC"}, "AC", "AbC", "b"},
    {"a,A->aA", {"a", "A"}, "aA", "aA", ""},
    {"abcd,efgh,ijkl,mnop->ap", {"abcd", "efgh", "ijkl", "mnop"}, "ap", "abcdefghijklmnop", "bcdefghijklmno"},
};

START_TEST(test_parse_fills_spec)
{
    const ParseCase *c = &PARSE_CASES[_i];
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert_msg(einsum_parse(c->equation, &spec, &err), "'%s': expected to parse, got \"%s\"", c->equation,
                  err.message);
    ck_assert_msg(err.status == STATUS_OK, "'%s': status %d after success", c->equation, err.status);
    ck_assert_msg(!spec.bound, "'%s': bound after parsing only", c->equation);

    int n_expected = 0;
    while (n_expected < EINSUM_MAX_OPERANDS && c->operands[n_expected] != NULL)
        n_expected++;
    ck_assert_msg(spec.n_operands == n_expected, "'%s': %d operands, expected %d", c->equation, spec.n_operands,
                  n_expected);
    for (int k = 0; k < n_expected; k++) {
        int rank = (int)strlen(c->operands[k]);
        ck_assert_msg(spec.rank[k] == rank && memcmp(spec.labels[k], c->operands[k], (size_t)rank) == 0,
                      "'%s': operand %d is '%.*s', expected '%s'", c->equation, k + 1, spec.rank[k], spec.labels[k],
                      c->operands[k]);
    }
    int out_rank = (int)strlen(c->output);
    ck_assert_msg(spec.out_rank == out_rank && memcmp(spec.out_labels, c->output, (size_t)out_rank) == 0,
                  "'%s': output is '%.*s', expected '%s'", c->equation, spec.out_rank, spec.out_labels, c->output);
    int n_letters = (int)strlen(c->letters);
    ck_assert_msg(spec.n_letters == n_letters && memcmp(spec.letters, c->letters, (size_t)n_letters) == 0,
                  "'%s': letters are '%.*s', expected '%s'", c->equation, spec.n_letters, spec.letters, c->letters);
    for (int l = 0; l < spec.n_letters; l++) {
        bool expected = strchr(c->summed, spec.letters[l]) != NULL;
        ck_assert_msg(spec.summed[l] == expected, "'%s': letter '%c' summed is %d, expected %d", c->equation,
                      spec.letters[l], spec.summed[l], expected);
    }
}
END_TEST

/* einsum_bind fixes every letter's size from the operands. */
START_TEST(test_bind_sets_sizes)
{
    size_t x_shape[2] = {5, 16}, w_shape[3] = {2, 16, 8};
    Tensor *x = tensor_filled(2, x_shape, 0.0), *w = tensor_filled(3, w_shape, 0.0);
    const Tensor *operands[2] = {x, w};
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert_msg(einsum_parse("sd,hde->hse", &spec, &err), "parse: %s", err.message);
    ck_assert_msg(einsum_bind(&spec, operands, 2, &err), "bind: %s", err.message);
    const struct {
        char letter;
        size_t size;
    } expected[] = {{'s', 5}, {'d', 16}, {'h', 2}, {'e', 8}};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        int l = slot_of(&spec, expected[i].letter);
        ck_assert_msg(spec.size[l] == expected[i].size, "letter '%c' has size %zu, expected %zu", expected[i].letter,
                      spec.size[l], expected[i].size);
    }
    ck_assert_msg(einsum_term_count(&spec) == 16, "term count %zu, expected 16 (the size of d)",
                  einsum_term_count(&spec));
    tensor_free(x);
    tensor_free(w);
}
END_TEST

/* ---------------------------------------------------------------------
 * Parse errors.
 * ------------------------------------------------------------------- */

typedef struct ParseErrorCase {
    const char *equation;
    const char *expect[3]; /* parts the message must contain */
} ParseErrorCase;

static const ParseErrorCase PARSE_ERROR_CASES[] = {
    {"ij,jk", {"einsum 'ij,jk': column 6: missing '->'", "explicit output"}},
    {"ij", {"einsum 'ij': column 3: missing '->'"}},
    {"ii->i", {"column 2:", "letter 'i' appears twice in operand 1", "diagonals"}},
    {" i i -> i", {"column 4:", "letter 'i' appears twice in operand 1"}},
    {"ij,jkk->ik", {"column 6:", "letter 'k' appears twice in operand 2"}},
    {"ij->ii", {"column 6:", "letter 'i' appears twice in the output"}},
    {"ij->ik", {"column 6:", "output letter 'k' is in no operand"}},
    {"ij,jk->iz", {"column 9:", "output letter 'z' is in no operand"}},
    {"i*j->ij", {"column 2:", "'*' is not a letter", "a-z or A-Z"}},
    {"ij,jk->i1", {"column 9:", "'1' is not a letter"}},
    {"ij_->i", {"column 3:", "'_' is not a letter"}},
    {"i\tj->ij", {"einsum 'i?j->ij': column 2:", "byte 0x09 is not a letter"}},
    {"i\xc3\xa9->i", {"column 2:", "byte 0xC3 is not a letter"}},
    {",ij->i", {"column 1:", "operand 1 is empty"}},
    {"ij,->i", {"column 4:", "operand 2 is empty"}},
    {"ij, ,jk->ik", {"column 5:", "operand 2 is empty"}},
    {"->", {"column 1:", "operand 1 is empty"}},
    {"->i", {"column 1:", "operand 1 is empty"}},
    {"ij,", {"column 4:", "operand 2 is empty"}},
    {"", {"einsum '': column 1:", "the equation is empty"}},
    {"   ", {"column 1:", "the equation is empty"}},
    {"ij->i->j", {"column 6:", "a second '->'"}},
    {"ij->i,j", {"column 6:", "',' after '->'"}},
    {"i-j->ij", {"column 2:", "'-' without '>'"}},
    {"ij - > ij", {"column 4:", "'-' without '>'"}},
    {"ij-", {"column 3:", "'-' without '>'"}},
    {"i>j", {"column 2:", "'>' without '-'"}},
};

START_TEST(test_parse_error)
{
    const ParseErrorCase *c = &PARSE_ERROR_CASES[_i];
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert_msg(!einsum_parse(c->equation, &spec, &err), "'%s': expected a parse error, it parsed", c->equation);
    assert_dataerr(&err, c->expect, 3);

    /* The one-call form reports the same error. */
    Error again;
    error_clear(&again);
    ck_assert_msg(einsum(c->equation, NULL, 0, &again) == NULL, "'%s': einsum gave a result", c->equation);
    ck_assert_msg(strcmp(again.message, err.message) == 0, "einsum said \"%s\", einsum_parse \"%s\"", again.message,
                  err.message);
}
END_TEST

/* The brief's example message, whole. */
START_TEST(test_parse_error_exact_message)
{
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(!einsum_parse("ij,jk", &spec, &err));
    ck_assert_str_eq(err.message,
                     "einsum 'ij,jk': column 6: missing '->' (attn-trace needs an "
                     "explicit output, e.g. 'ij,jk->ik')");
    ck_assert_int_eq(err.status, STATUS_DATAERR);
}
END_TEST

START_TEST(test_parse_null_equation)
{
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(!einsum_parse(NULL, &spec, &err));
    const char *parts[] = {"no equation"};
    assert_dataerr(&err, parts, 1);
}
END_TEST

/* A long equation is quoted cut short, but its column is still exact. */
START_TEST(test_parse_error_long_equation)
{
    char equation[256];
    memset(equation, ' ', 200);
    strcpy(equation + 200, "i!->i");
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(!einsum_parse(equation, &spec, &err));
    const char *parts[] = {"column 202:", "'!' is not a letter", "..."};
    assert_dataerr(&err, parts, 3);
}
END_TEST

/* Parses equation expecting failure, a STATUS_DATAERR error at column,
 * whose message contains what. */
static void assert_parse_fails_at(const char *equation, size_t column, const char *what)
{
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert_msg(!einsum_parse(equation, &spec, &err), "'%s': expected a parse error, it parsed", equation);
    char where[32];
    snprintf(where, sizeof where, "column %zu:", column);
    const char *parts[] = {where, what};
    assert_dataerr(&err, parts, 2);
}

/* One operand more than EINSUM_MAX_OPERANDS: "a,a,...,a->a". */
START_TEST(test_parse_too_many_operands)
{
    char equation[64];
    size_t used = 0;
    for (int k = 0; k <= EINSUM_MAX_OPERANDS; k++) {
        if (k > 0)
            equation[used++] = ',';
        equation[used++] = 'a';
    }
    strcpy(equation + used, "->a");
    char what[64];
    snprintf(what, sizeof what, "more than %d operands (EINSUM_MAX_OPERANDS)", EINSUM_MAX_OPERANDS);
    assert_parse_fails_at(equation, 2 * EINSUM_MAX_OPERANDS, what); /* the ',' before the extra one */
}
END_TEST

/* One letter more than TENSOR_MAX_DIMS in an operand: "abcde->a". */
START_TEST(test_parse_too_many_operand_letters)
{
    char equation[64];
    memcpy(equation, LETTERS, TENSOR_MAX_DIMS + 1);
    strcpy(equation + TENSOR_MAX_DIMS + 1, "->a");
    char what[64];
    snprintf(what, sizeof what, "operand 1 has more than %d letters (TENSOR_MAX_DIMS)", TENSOR_MAX_DIMS);
    assert_parse_fails_at(equation, TENSOR_MAX_DIMS + 1, what);
}
END_TEST

/* One letter more than TENSOR_MAX_DIMS in the output: "abcd,e->abcde". */
START_TEST(test_parse_too_many_output_letters)
{
    char equation[128];
    int operands = write_distinct_operands(TENSOR_MAX_DIMS + 1, equation);
    ck_assert_msg(operands <= EINSUM_MAX_OPERANDS, "the limits leave no room for this case");
    strcat(equation, "->");
    size_t prefix = strlen(equation);
    memcpy(equation + prefix, LETTERS, TENSOR_MAX_DIMS + 1);
    equation[prefix + TENSOR_MAX_DIMS + 1] = '\0';
    char what[64];
    snprintf(what, sizeof what, "the output has more than %d letters (TENSOR_MAX_DIMS)", TENSOR_MAX_DIMS);
    assert_parse_fails_at(equation, prefix + TENSOR_MAX_DIMS + 1, what);
}
END_TEST

/* EINSUM_MAX_LETTERS distinct letters are fine; one more is not. With
 * today's limits (4 operands of 4 letters, 16 letters) the operand limit
 * stops the extra letter first; with roomier operands the letter limit does. */
START_TEST(test_parse_distinct_letter_limit)
{
    char equation[256];
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    if (write_distinct_operands(EINSUM_MAX_LETTERS, equation) <= EINSUM_MAX_OPERANDS) {
        strcat(equation, "->a");
        ck_assert_msg(einsum_parse(equation, &spec, &err), "'%s': expected to parse, got \"%s\"", equation,
                      err.message);
        ck_assert_int_eq(spec.n_letters, EINSUM_MAX_LETTERS);
    }

    int operands = write_distinct_operands(EINSUM_MAX_LETTERS + 1, equation);
    strcat(equation, "->a");
    char extra[2] = {LETTERS[EINSUM_MAX_LETTERS], '\0'};
    size_t column = (size_t)(strstr(equation, extra) - equation) + 1;
    char what[96];
    if (operands <= EINSUM_MAX_OPERANDS) {
        snprintf(what, sizeof what, "more than %d (EINSUM_MAX_LETTERS)", EINSUM_MAX_LETTERS);
        assert_parse_fails_at(equation, column, what);
    } else {
        snprintf(what, sizeof what, "more than %d operands", EINSUM_MAX_OPERANDS);
        assert_parse_fails_at(equation, column - 1, what);
    }
}
END_TEST

/* ---------------------------------------------------------------------
 * Bind errors.
 * ------------------------------------------------------------------- */

typedef struct BindErrorCase {
    const char *equation;
    int n; /* operands passed */
    int ndim[EINSUM_MAX_OPERANDS];
    size_t shape[EINSUM_MAX_OPERANDS][TENSOR_MAX_DIMS];
    const char *expect; /* the whole message */
} BindErrorCase;

static const BindErrorCase BIND_ERROR_CASES[] = {
    {"sd,hde->hse",
     2,
     {2, 3},
     {{5, 16}, {2, 8, 4}},
     "einsum 'sd,hde->hse': letter 'd' is 16 in operand 1 but 8 in operand 2"},
    {"ij,ij->ij", 2, {2, 2}, {{2, 3}, {2, 4}}, "einsum 'ij,ij->ij': letter 'j' is 3 in operand 1 but 4 in operand 2"},
    {"ij,jk,kl->il",
     3,
     {2, 2, 2},
     {{2, 3}, {3, 4}, {5, 6}},
     "einsum 'ij,jk,kl->il': letter 'k' is 4 in operand 2 but 5 in operand 3"},
    {" i j , j k -> i k ",
     2,
     {2, 2},
     {{2, 3}, {4, 5}},
     "einsum 'ij,jk->ik': letter 'j' is 3 in operand 1 but 4 in operand 2"},
    {"ij,jk->ik", 3, {2, 2, 2}, {{2, 3}, {3, 4}, {4, 5}}, "einsum 'ij,jk->ik': expects 2 operands, got 3"},
    {"ij,jk->ik", 1, {2}, {{2, 3}}, "einsum 'ij,jk->ik': expects 2 operands, got 1"},
    {"ij->ji", 2, {2, 2}, {{2, 3}, {2, 3}}, "einsum 'ij->ji': expects 1 operand, got 2"},
    {"sd,hde->hse",
     2,
     {2, 2},
     {{5, 16}, {16, 4}},
     "einsum 'sd,hde->hse': operand 2 has 3 letters 'hde' but the tensor has 2 dimensions [16, 4]"},
    {"i,i->",
     2,
     {2, 1},
     {{2, 3}, {3}},
     "einsum 'i,i->': operand 1 has 1 letter 'i' but the tensor has 2 dimensions [2, 3]"},
    {"bhqd,bhkd->bhqk",
     2,
     {4, 3},
     {{1, 2, 3, 4}, {2, 3, 4}},
     "einsum 'bhqd,bhkd->bhqk': operand 2 has 4 letters 'bhkd' but the tensor has 3 dimensions "
     "[2, 3, 4]"},
    {"ij->",
     1,
     {1},
     {{7}},
     "einsum 'ij->': operand 1 has 2 letters 'ij' but the tensor has 1 "
     "dimension [7]"},
};

START_TEST(test_bind_error)
{
    const BindErrorCase *c = &BIND_ERROR_CASES[_i];
    Tensor *in[EINSUM_MAX_OPERANDS] = {NULL};
    const Tensor *operands[EINSUM_MAX_OPERANDS] = {NULL};
    for (int k = 0; k < c->n; k++) {
        in[k] = tensor_filled(c->ndim[k], c->shape[k], 0.0);
        operands[k] = in[k];
    }
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert_msg(einsum_parse(c->equation, &spec, &err), "'%s': parse: %s", c->equation, err.message);
    ck_assert_msg(!einsum_bind(&spec, operands, c->n, &err), "'%s': expected a bind error", c->equation);
    ck_assert_msg(!spec.bound, "'%s': bound after a failed bind", c->equation);
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_str_eq(err.message, c->expect);

    /* The one-call form reports the same error. */
    Error again;
    error_clear(&again);
    ck_assert_msg(einsum(c->equation, operands, c->n, &again) == NULL, "'%s': einsum gave a result", c->equation);
    ck_assert_int_eq(again.status, STATUS_DATAERR);
    ck_assert_str_eq(again.message, c->expect);

    for (int k = 0; k < c->n; k++)
        tensor_free(in[k]);
}
END_TEST

START_TEST(test_bind_null_operand)
{
    size_t shape[2] = {2, 3};
    Tensor *a = tensor_filled(2, shape, 0.0);
    const Tensor *operands[2] = {a, NULL};
    Error err;
    error_clear(&err);
    ck_assert(einsum("ij,jk->ik", operands, 2, &err) == NULL);
    const char *parts[] = {"einsum 'ij,jk->ik': operand 2 is missing (NULL)"};
    assert_dataerr(&err, parts, 1);
    error_clear(&err);
    ck_assert(einsum("ij->ji", NULL, 1, &err) == NULL);
    const char *parts_all[] = {"operand 1 is missing (NULL)"};
    assert_dataerr(&err, parts_all, 1);
    tensor_free(a);
}
END_TEST

/* Four letters of 65536 each multiply to 2^64 combinations: more than
 * size_t counts, so binding must refuse rather than wrap around. */
START_TEST(test_bind_size_overflow)
{
    Error err;
    error_clear(&err);
    Tensor *v = tensor_new1(65536, &err);
    ck_assert_msg(v != NULL, "tensor_new1: %s", err.message);
    const Tensor *operands[4] = {v, v, v, v};
    const char *equations[] = {"a,b,c,d->abcd", "a,b,c,d->", "a,b,c,d->da"};
    for (size_t i = 0; i < sizeof equations / sizeof equations[0]; i++) {
        EinsumSpec spec;
        error_clear(&err);
        ck_assert_msg(einsum_parse(equations[i], &spec, &err), "parse: %s", err.message);
        ck_assert_msg(!einsum_bind(&spec, operands, 4, &err), "'%s': expected an overflow error", equations[i]);
        ck_assert_msg(!spec.bound, "'%s': bound after a failed bind", equations[i]);
        const char *parts[] = {"too large", "SIZE_MAX"};
        assert_dataerr(&err, parts, 2);
    }
    tensor_free(v);
}
END_TEST

/* A tensor with a zero dimension breaks Tensor's own rules; bind still
 * refuses it rather than divide by zero. */
START_TEST(test_bind_zero_dimension)
{
    float data[1] = {0.0f};
    Tensor broken = {.ndim = 2, .shape = {2, 0, 1, 1}, .size = 0, .data = data};
    const Tensor *operands[1] = {&broken};
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(einsum_parse("ij->i", &spec, &err));
    ck_assert(!einsum_bind(&spec, operands, 1, &err));
    const char *parts[] = {"letter 'j' is 0 in operand 1"};
    assert_dataerr(&err, parts, 1);
}
END_TEST

/* ---------------------------------------------------------------------
 * einsum_eval misuse.
 * ------------------------------------------------------------------- */

START_TEST(test_eval_unbound)
{
    size_t shape[2] = {2, 3};
    Tensor *a = tensor_filled(2, shape, 0.0);
    const Tensor *operands[1] = {a};
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(einsum_parse("ij->ji", &spec, &err));
    ck_assert(einsum_eval(&spec, operands, 1, &err) == NULL);
    ck_assert_msg(err.status == STATUS_FAILURE, "expected STATUS_FAILURE, got %d: %s", err.status, err.message);
    assert_contains(err.message, "einsum_bind");
    tensor_free(a);
}
END_TEST

START_TEST(test_eval_other_operands)
{
    size_t a_shape[2] = {2, 4}, b_shape[2] = {4, 3}, c_shape[2] = {2, 5}, d_shape[2] = {5, 3};
    Tensor *a = tensor_filled(2, a_shape, 0.0), *b = tensor_filled(2, b_shape, 0.0);
    Tensor *c = tensor_filled(2, c_shape, 0.0), *d = tensor_filled(2, d_shape, 0.0);
    const Tensor *bound_to[2] = {a, b}, *other[2] = {c, d}, *mismatched[2] = {a, d};
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(einsum_parse("ij,jk->ik", &spec, &err));
    ck_assert_msg(einsum_bind(&spec, bound_to, 2, &err), "bind: %s", err.message);

    ck_assert(einsum_eval(&spec, other, 2, &err) == NULL);
    const char *parts[] = {"einsum 'ij,jk->ik': letter 'j' was bound as 4 but is 5"};
    assert_dataerr(&err, parts, 1);

    error_clear(&err);
    ck_assert(einsum_eval(&spec, mismatched, 2, &err) == NULL);
    const char *parts_mismatch[] = {"letter 'j' is 4 in operand 1 but 5 in operand 2"};
    assert_dataerr(&err, parts_mismatch, 1);

    error_clear(&err);
    ck_assert(einsum_eval(&spec, bound_to, 1, &err) == NULL);
    const char *parts_count[] = {"expects 2 operands, got 1"};
    assert_dataerr(&err, parts_count, 1);

    tensor_free(a);
    tensor_free(b);
    tensor_free(c);
    tensor_free(d);
}
END_TEST

/* ---------------------------------------------------------------------
 * einsum_terms and einsum_term_count.
 * ------------------------------------------------------------------- */

typedef struct TermCountCase {
    const char *equation;
    int n;
    int ndim[CASE_MAX_OPERANDS];
    size_t shape[CASE_MAX_OPERANDS][TENSOR_MAX_DIMS];
    size_t count; /* the product of the summed letters' sizes */
} TermCountCase;

static const TermCountCase TERM_COUNT_CASES[] = {
    {"hij,hjk->hik", 2, {3, 3}, {{2, 3, 4}, {2, 4, 5}}, 4},
    {"sd,hde->hse", 2, {2, 3}, {{3, 7}, {2, 7, 5}}, 7},
    {"bhqd,bhkd->bhqk", 2, {4, 4}, {{2, 3, 4, 5}, {2, 3, 6, 5}}, 5},
    {"ij,jk,kl->il", 3, {2, 2, 2}, {{2, 3}, {3, 4}, {4, 5}}, 12},
    {"ij->", 1, {2}, {{3, 4}}, 12},
    {"i,i->", 2, {1, 1}, {{6}, {6}}, 6},
    {"ij->ji", 1, {2}, {{3, 4}}, 1},
    {"i,j->ij", 2, {1, 1}, {{3}, {4}}, 1},
};

START_TEST(test_term_count)
{
    const TermCountCase *c = &TERM_COUNT_CASES[_i];
    Tensor *in[CASE_MAX_OPERANDS] = {NULL};
    const Tensor *operands[CASE_MAX_OPERANDS] = {NULL};
    for (int k = 0; k < c->n; k++) {
        in[k] = tensor_filled(c->ndim[k], c->shape[k], 0.5 * k);
        operands[k] = in[k];
    }
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert_msg(einsum_parse(c->equation, &spec, &err), "parse: %s", err.message);
    ck_assert_msg(einsum_term_count(&spec) == 0, "'%s': an unbound spec counts %zu terms, expected 0", c->equation,
                  einsum_term_count(&spec));
    ck_assert_msg(einsum_bind(&spec, operands, c->n, &err), "bind: %s", err.message);
    ck_assert_msg(einsum_term_count(&spec) == c->count, "'%s': %zu terms, expected %zu", c->equation,
                  einsum_term_count(&spec), c->count);

    /* einsum_terms agrees, for the first output element. */
    size_t out_index[TENSOR_MAX_DIMS] = {0};
    EinsumTerm terms[16];
    float sum = -1.0f;
    size_t written = einsum_terms(&spec, operands, out_index, terms, 16, &sum);
    ck_assert_msg(written == c->count, "'%s': einsum_terms wrote %zu, expected %zu", c->equation, written, c->count);
    for (int k = 0; k < c->n; k++)
        tensor_free(in[k]);
}
END_TEST

/* For every element of 'hij,hjk->hik': one term per j, in order; offsets,
 * factors and products are the operands' values; the sum is the element
 * einsum_eval stored, exactly. */
START_TEST(test_terms_hij_hjk_hik)
{
    enum { H = 2, I = 3, J = 4, K = 5 };
    size_t a_shape[3] = {H, I, J}, b_shape[3] = {H, J, K};
    Tensor *a = tensor_filled(3, a_shape, 0.3), *b = tensor_filled(3, b_shape, 1.7);
    const Tensor *operands[2] = {a, b};
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(einsum_parse("hij,hjk->hik", &spec, &err));
    ck_assert_msg(einsum_bind(&spec, operands, 2, &err), "bind: %s", err.message);
    Tensor *out = einsum_eval(&spec, operands, 2, &err);
    ck_assert_msg(out != NULL, "eval: %s", err.message);
    int j_slot = slot_of(&spec, 'j');

    for (size_t h = 0; h < H; h++)
        for (size_t i = 0; i < I; i++)
            for (size_t k = 0; k < K; k++) {
                size_t out_index[3] = {h, i, k};
                EinsumTerm terms[J];
                float sum = 0.0f;
                size_t written = einsum_terms(&spec, operands, out_index, terms, J, &sum);
                ck_assert_msg(written == J, "[%zu,%zu,%zu]: %zu terms, expected %d", h, i, k, written, J);
                float total = 0.0f; /* float, in order, as einsum_eval sums */
                for (size_t j = 0; j < J; j++) {
                    const EinsumTerm *term = &terms[j];
                    size_t a_index[3] = {h, i, j}, b_index[3] = {h, j, k};
                    size_t a_offset = tensor_offset(a, a_index), b_offset = tensor_offset(b, b_index);
                    ck_assert_msg(term->summed_index[j_slot] == j, "[%zu,%zu,%zu] term %zu: j is %zu, expected %zu", h,
                                  i, k, j, term->summed_index[j_slot], j);
                    ck_assert_msg(term->offset[0] == a_offset && term->offset[1] == b_offset,
                                  "[%zu,%zu,%zu] term %zu: offsets %zu, %zu, expected %zu, %zu", h, i, k, j,
                                  term->offset[0], term->offset[1], a_offset, b_offset);
                    ck_assert_msg(term->factor[0] == a->data[a_offset] && term->factor[1] == b->data[b_offset],
                                  "[%zu,%zu,%zu] term %zu: factors %.9g, %.9g, expected %.9g, %.9g", h, i, k, j,
                                  (double)term->factor[0], (double)term->factor[1], (double)a->data[a_offset],
                                  (double)b->data[b_offset]);
                    float product = term->factor[0] * term->factor[1];
                    ck_assert_msg(term->product == product,
                                  "[%zu,%zu,%zu] term %zu: product %.9g, factors multiply to %.9g", h, i, k, j,
                                  (double)term->product, (double)product);
                    total += term->product;
                }
                size_t flat = tensor_offset(out, out_index);
                ck_assert_msg(sum == out->data[flat], "[%zu,%zu,%zu]: terms sum to %.9g, einsum_eval stored %.9g", h, i,
                              k, (double)sum, (double)out->data[flat]);
                ck_assert_msg(total == sum, "[%zu,%zu,%zu]: the listed products add up to %.9g, *sum is %.9g", h, i, k,
                              (double)total, (double)sum);
            }
    tensor_free(out);
    tensor_free(a);
    tensor_free(b);
}
END_TEST

/* Three operands, two summed letters: the terms run row-major over (j, k),
 * k fastest, and each product is the three factors multiplied in order. */
START_TEST(test_terms_three_operands)
{
    enum { I = 2, J = 3, K = 4, L = 5 };
    size_t a_shape[2] = {I, J}, b_shape[2] = {J, K}, c_shape[2] = {K, L};
    Tensor *a = tensor_filled(2, a_shape, 0.1), *b = tensor_filled(2, b_shape, 1.1);
    Tensor *c = tensor_filled(2, c_shape, 2.1);
    const Tensor *operands[3] = {a, b, c};
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(einsum_parse("ij,jk,kl->il", &spec, &err));
    ck_assert_msg(einsum_bind(&spec, operands, 3, &err), "bind: %s", err.message);
    Tensor *out = einsum_eval(&spec, operands, 3, &err);
    ck_assert_msg(out != NULL, "eval: %s", err.message);
    int j_slot = slot_of(&spec, 'j'), k_slot = slot_of(&spec, 'k');

    for (size_t i = 0; i < I; i++)
        for (size_t l = 0; l < L; l++) {
            size_t out_index[2] = {i, l};
            EinsumTerm terms[J * K];
            float sum = 0.0f;
            size_t written = einsum_terms(&spec, operands, out_index, terms, J * K, &sum);
            ck_assert_msg(written == J * K, "[%zu,%zu]: %zu terms, expected %d", i, l, written, J * K);
            for (size_t t = 0; t < written; t++) {
                size_t j = t / K, k = t % K;
                ck_assert_msg(terms[t].summed_index[j_slot] == j && terms[t].summed_index[k_slot] == k,
                              "[%zu,%zu] term %zu: (j, k) = (%zu, %zu), expected (%zu, %zu)", i, l, t,
                              terms[t].summed_index[j_slot], terms[t].summed_index[k_slot], j, k);
                float fa = a->data[i * J + j], fb = b->data[j * K + k], fc = c->data[k * L + l];
                ck_assert_msg(terms[t].factor[0] == fa && terms[t].factor[1] == fb && terms[t].factor[2] == fc,
                              "[%zu,%zu] term %zu: factors differ from a[i][j], b[j][k], c[k][l]", i, l, t);
                float product = fa * fb * fc;
                ck_assert_msg(terms[t].product == product, "[%zu,%zu] term %zu: product %.9g, factors multiply to %.9g",
                              i, l, t, (double)terms[t].product, (double)product);
            }
            ck_assert_msg(sum == out->data[i * L + l], "[%zu,%zu]: *sum %.9g, einsum_eval %.9g", i, l, (double)sum,
                          (double)out->data[i * L + l]);
        }
    tensor_free(out);
    tensor_free(a);
    tensor_free(b);
    tensor_free(c);
}
END_TEST

/* Room for fewer terms than there are: the list is cut, the sum is not. */
START_TEST(test_terms_truncated)
{
    enum { H = 2, I = 3, J = 6, K = 2 };
    size_t a_shape[3] = {H, I, J}, b_shape[3] = {H, J, K};
    Tensor *a = tensor_filled(3, a_shape, 0.4), *b = tensor_filled(3, b_shape, 2.2);
    const Tensor *operands[2] = {a, b};
    EinsumSpec spec;
    Error err;
    error_clear(&err);
    ck_assert(einsum_parse("hij,hjk->hik", &spec, &err));
    ck_assert_msg(einsum_bind(&spec, operands, 2, &err), "bind: %s", err.message);
    Tensor *out = einsum_eval(&spec, operands, 2, &err);
    ck_assert_msg(out != NULL, "eval: %s", err.message);

    size_t out_index[3] = {1, 2, 1};
    float expected = out->data[tensor_offset(out, out_index)];
    EinsumTerm all[J];
    float full_sum = 0.0f;
    ck_assert_int_eq(einsum_terms(&spec, operands, out_index, all, J, &full_sum), J);
    ck_assert_msg(full_sum == expected, "full list: *sum %.9g, expected %.9g", (double)full_sum, (double)expected);

    const size_t rooms[] = {0, 1, 2, J - 1, J, J + 3};
    for (size_t r = 0; r < sizeof rooms / sizeof rooms[0]; r++) {
        size_t room = rooms[r];
        EinsumTerm terms[J + 4];
        memset(terms, 0xAB, sizeof terms);
        float sum = 0.0f;
        size_t written = einsum_terms(&spec, operands, out_index, terms, room, &sum);
        size_t expected_written = room < J ? room : J;
        ck_assert_msg(written == expected_written, "room for %zu: wrote %zu, expected %zu", room, written,
                      expected_written);
        ck_assert_msg(sum == expected, "room for %zu: *sum %.9g, expected %.9g (the full sum)", room, (double)sum,
                      (double)expected);
        for (size_t t = 0; t < written; t++)
            ck_assert_msg(terms[t].product == all[t].product && terms[t].offset[0] == all[t].offset[0] &&
                              terms[t].offset[1] == all[t].offset[1],
                          "room for %zu: term %zu differs from the full list", room, t);
        const unsigned char *rest = (const unsigned char *)&terms[written];
        for (size_t byte = 0; byte < (sizeof terms[0]) * (J + 4 - written); byte++)
            ck_assert_msg(rest[byte] == 0xAB, "room for %zu: wrote past term %zu", room, written);
    }

    /* No room and no array at all: still the full sum. */
    float sum = 0.0f;
    ck_assert_int_eq(einsum_terms(&spec, operands, out_index, NULL, 0, &sum), 0);
    ck_assert_msg(sum == expected, "no room: *sum %.9g, expected %.9g", (double)sum, (double)expected);

    tensor_free(out);
    tensor_free(a);
    tensor_free(b);
}
END_TEST

/* A scalar output ('i,i->') has one element, the dot product. */
START_TEST(test_terms_scalar_output)
{
    size_t shape[1] = {7};
    Tensor *a = tensor_filled(1, shape, 0.0), *b = tensor_filled(1, shape, 1.0);
    const Tensor *operands[2] = {a, b};
    Error err;
    error_clear(&err);
    EinsumSpec spec;
    ck_assert(einsum_parse("i,i->", &spec, &err));
    ck_assert(einsum_bind(&spec, operands, 2, &err));
    Tensor *out = einsum_eval(&spec, operands, 2, &err);
    ck_assert_msg(out != NULL, "eval: %s", err.message);
    ck_assert_int_eq(out->ndim, 0);
    ck_assert_uint_eq(out->size, 1);
    size_t no_index[1] = {0};
    EinsumTerm terms[7];
    float sum = 0.0f;
    ck_assert_uint_eq(einsum_terms(&spec, operands, no_index, terms, 7, &sum), 7);
    ck_assert_msg(sum == out->data[0], "*sum %.9g, einsum_eval %.9g", (double)sum, (double)out->data[0]);
    for (size_t i = 0; i < 7; i++)
        ck_assert_msg(terms[i].offset[0] == i && terms[i].offset[1] == i,
                      "term %zu: offsets %zu, %zu, expected %zu, %zu", i, terms[i].offset[0], terms[i].offset[1], i, i);
    tensor_free(out);
    tensor_free(a);
    tensor_free(b);
}
END_TEST

/* An unbound spec or an index outside the output lists nothing. */
START_TEST(test_terms_refused)
{
    size_t a_shape[2] = {2, 3}, b_shape[2] = {3, 4};
    Tensor *a = tensor_filled(2, a_shape, 0.0), *b = tensor_filled(2, b_shape, 0.0);
    const Tensor *operands[2] = {a, b};
    Error err;
    error_clear(&err);
    EinsumSpec spec;
    ck_assert(einsum_parse("ij,jk->ik", &spec, &err));
    EinsumTerm terms[3];
    size_t inside[2] = {1, 3}, outside[2] = {2, 0};
    float sum = 1.0f;
    ck_assert_uint_eq(einsum_terms(&spec, operands, inside, terms, 3, &sum), 0);
    ck_assert_msg(sum == 0.0f, "unbound: *sum %.9g, expected 0", (double)sum);
    ck_assert(einsum_bind(&spec, operands, 2, &err));
    ck_assert_uint_eq(einsum_terms(&spec, operands, inside, terms, 3, &sum), 3);
    sum = 1.0f;
    ck_assert_uint_eq(einsum_terms(&spec, operands, outside, terms, 3, &sum), 0);
    ck_assert_msg(sum == 0.0f, "outside: *sum %.9g, expected 0", (double)sum);
    tensor_free(a);
    tensor_free(b);
}
END_TEST

/* ---------------------------------------------------------------------
 * The suite.
 * ------------------------------------------------------------------- */

#define COUNT_OF(array) ((int)(sizeof(array) / sizeof((array)[0])))

Suite *einsum_suite(void)
{
    Suite *suite = suite_create("einsum");

    TCase *eval = tcase_create("eval");
    tcase_add_loop_test(eval, test_article_equation, 0, COUNT_OF(ARTICLE_CASES));
    tcase_add_loop_test(eval, test_other_equation, 0, COUNT_OF(OTHER_CASES));
    tcase_add_test(eval, test_stages_match_one_call);
    suite_add_tcase(suite, eval);

    TCase *parse = tcase_create("parse");
    tcase_add_loop_test(parse, test_parse_fills_spec, 0, COUNT_OF(PARSE_CASES));
    tcase_add_test(parse, test_bind_sets_sizes);
    suite_add_tcase(suite, parse);

    TCase *errors = tcase_create("errors");
    tcase_add_loop_test(errors, test_parse_error, 0, COUNT_OF(PARSE_ERROR_CASES));
    tcase_add_test(errors, test_parse_error_exact_message);
    tcase_add_test(errors, test_parse_null_equation);
    tcase_add_test(errors, test_parse_error_long_equation);
    tcase_add_test(errors, test_parse_too_many_operands);
    tcase_add_test(errors, test_parse_too_many_operand_letters);
    tcase_add_test(errors, test_parse_too_many_output_letters);
    tcase_add_test(errors, test_parse_distinct_letter_limit);
    tcase_add_loop_test(errors, test_bind_error, 0, COUNT_OF(BIND_ERROR_CASES));
    tcase_add_test(errors, test_bind_null_operand);
    tcase_add_test(errors, test_bind_size_overflow);
    tcase_add_test(errors, test_bind_zero_dimension);
    tcase_add_test(errors, test_eval_unbound);
    tcase_add_test(errors, test_eval_other_operands);
    suite_add_tcase(suite, errors);

    TCase *terms = tcase_create("terms");
    tcase_add_loop_test(terms, test_term_count, 0, COUNT_OF(TERM_COUNT_CASES));
    tcase_add_test(terms, test_terms_hij_hjk_hik);
    tcase_add_test(terms, test_terms_three_operands);
    tcase_add_test(terms, test_terms_truncated);
    tcase_add_test(terms, test_terms_scalar_output);
    tcase_add_test(terms, test_terms_refused);
    suite_add_tcase(suite, terms);

    return suite;
}
