/*
 * check_trace.c - the structure of the trace: steps, names, shapes, and the
 * relations between tensors that must hold whatever the numbers are.
 * (The numbers themselves are checked against PyTorch in check_golden.c.)
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "suites.h"
#include "trace.h"

static Trace *build(size_t focus, bool causal)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    cfg.focus = focus;
    cfg.causal = causal;
    Trace *trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    config_free(&cfg);
    return trace;
}

static const Tensor *get(const Trace *trace, TracePart part, const char *name)
{
    const TraceTensor *tt = trace_find_tensor(trace, part, name);
    ck_assert_msg(tt != NULL, "no tensor %s in %s", name, trace_part_name(part));
    return tt->tensor;
}

START_TEST(test_steps_in_order)
{
    static const char *const ids[] = {"tokenize", "embed", "weights", "project_token", "keys_values", "scores",
                                      "scale", "softmax", "weighted_sum", "all_tokens", "mh_weights", "mh_project",
                                      "mh_scores", "mh_softmax", "mh_weighted_sum", "mh_concat", "mh_output"};
    Trace *trace = build(1, false);
    ck_assert_int_eq(trace->n_steps, (int)(sizeof ids / sizeof ids[0]));
    for (int i = 0; i < trace->n_steps; i++) {
        const TraceStep *step = &trace->steps[i];
        ck_assert_str_eq(step->id, ids[i]);
        ck_assert_int_eq(step->part, i < 10 ? PART_SINGLE_HEAD : PART_MULTI_HEAD);
        ck_assert_msg(step->title[0] && step->formula[0] && step->explanation[0], "step %s lacks text", step->id);
        ck_assert_msg(strchr(step->formula, '[') != NULL, "step %s: formula has no shapes: %s", step->id,
                      step->formula);
        ck_assert_int_gt(step->n_tensors, 0);
        bool has_output = false;
        for (int j = 0; j < step->n_tensors; j++)
            has_output |= step->tensors[j].is_output;
        ck_assert_msg(has_output, "step %s makes nothing", step->id);
    }
    trace_free(trace);
}
END_TEST

/* A name means one tensor within a part, wherever it is shown. */
START_TEST(test_names_are_unique_within_a_part)
{
    Trace *trace = build(1, false);
    for (int a = 0; a < trace->n_steps; a++)
        for (int i = 0; i < trace->steps[a].n_tensors; i++)
            for (int b = 0; b < trace->n_steps; b++)
                for (int j = 0; j < trace->steps[b].n_tensors; j++) {
                    const TraceTensor *x = &trace->steps[a].tensors[i], *y = &trace->steps[b].tensors[j];
                    if (trace->steps[a].part == trace->steps[b].part && strcmp(x->name, y->name) == 0)
                        ck_assert_msg(x->tensor == y->tensor, "%s names two tensors", x->name);
                }
    trace_free(trace);
}
END_TEST

START_TEST(test_focus_names_and_agreement)
{
    for (size_t focus = 1; focus <= 5; focus++) {
        Trace *trace = build(focus, false);
        char name[32];
        snprintf(name, sizeof name, "a%zu", focus);
        const Tensor *a = get(trace, PART_SINGLE_HEAD, name);
        snprintf(name, sizeof name, "z%zu", focus);
        const Tensor *z_f = get(trace, PART_SINGLE_HEAD, name);
        snprintf(name, sizeof name, "scaled_scores_%zu", focus);
        get(trace, PART_SINGLE_HEAD, name);
        snprintf(name, sizeof name, "query_%zu", focus);
        const Tensor *q = get(trace, PART_SINGLE_HEAD, name);
        const Tensor *queries = get(trace, PART_SINGLE_HEAD, "queries");
        const Tensor *weights = get(trace, PART_SINGLE_HEAD, "attention_weights");
        const Tensor *z = get(trace, PART_SINGLE_HEAD, "z");
        size_t S = weights->shape[0], D = z->shape[1];
        /* W·x for one token equals that token's row of x·Wᵀ */
        for (size_t d = 0; d < D; d++)
            ck_assert(fabsf(q->data[d] - queries->data[(focus - 1) * D + d]) <= 1e-5f);
        /* the one-token path is row `focus` of the all-token path */
        for (size_t j = 0; j < S; j++)
            ck_assert(fabsf(a->data[j] - weights->data[(focus - 1) * S + j]) <= 1e-6f);
        for (size_t d = 0; d < D; d++)
            ck_assert(fabsf(z_f->data[d] - z->data[(focus - 1) * D + d]) <= 1e-5f);
        trace_free(trace);
    }
}
END_TEST

START_TEST(test_causal_zeros_and_rows_sum_to_one)
{
    Trace *trace = build(3, true);
    const Tensor *a3 = get(trace, PART_SINGLE_HEAD, "a3");
    const Tensor *s3 = get(trace, PART_SINGLE_HEAD, "scaled_scores_3");
    const Tensor *raw3 = get(trace, PART_SINGLE_HEAD, "scores_3");
    for (size_t j = 0; j < 5; j++) {
        ck_assert((j > 2) == (a3->data[j] == 0.0f));
        ck_assert((j > 2) == (isinf(s3->data[j]) != 0));
        ck_assert(isfinite(raw3->data[j])); /* the unscaled scores are not masked */
    }
    TracePart parts[] = {PART_SINGLE_HEAD, PART_MULTI_HEAD};
    for (size_t p = 0; p < 2; p++) {
        const Tensor *w = get(trace, parts[p], "attention_weights");
        size_t S = w->shape[w->ndim - 1];
        for (size_t r = 0; r < w->size / S; r++) {
            double sum = 0;
            for (size_t j = 0; j < S; j++) {
                float v = w->data[r * S + j];
                if (j > r % S)
                    ck_assert_msg(v == 0.0f, "%s row %zu key %zu is %g under the mask", trace_part_name(parts[p]),
                                  r, j, (double)v);
                sum += v;
            }
            ck_assert_msg(fabs(sum - 1.0) < 1e-5, "row %zu sums to %.9g", r, sum);
        }
    }
    trace_free(trace);
}
END_TEST

START_TEST(test_multi_head_shapes_and_concat)
{
    Trace *trace = build(1, false);
    static const struct {
        const char *name;
        int ndim;
        size_t shape[3];
    } shapes[] = {
        {"w_query", 3, {4, 16, 4}}, {"queries", 3, {4, 5, 4}},           {"scores", 3, {4, 5, 5}},
        {"attention_weights", 3, {4, 5, 5}}, {"head_outputs", 3, {4, 5, 4}}, {"concat_heads", 2, {5, 16}},
        {"multihead_output", 2, {5, 16}},    {"w_output", 2, {16, 16}},      {"sentence_embed", 2, {5, 16}},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const Tensor *t = get(trace, PART_MULTI_HEAD, shapes[i].name);
        ck_assert_int_eq(t->ndim, shapes[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            ck_assert_msg(t->shape[d] == shapes[i].shape[d], "%s dim %d", shapes[i].name, d);
    }
    const Tensor *heads = get(trace, PART_MULTI_HEAD, "head_outputs");
    const Tensor *concat = get(trace, PART_MULTI_HEAD, "concat_heads");
    for (size_t h = 0; h < 4; h++)
        for (size_t s = 0; s < 5; s++)
            for (size_t e = 0; e < 4; e++)
                ck_assert(concat->data[s * 16 + h * 4 + e] == heads->data[(h * 5 + s) * 4 + e]);
    /* part 2 re-seeds: its embeddings equal part 1's */
    const Tensor *x1 = get(trace, PART_SINGLE_HEAD, "sentence_embed");
    const Tensor *x2 = get(trace, PART_MULTI_HEAD, "sentence_embed");
    ck_assert(memcmp(x1->data, x2->data, x1->size * sizeof(float)) == 0);
    trace_free(trace);
}
END_TEST

START_TEST(test_find_step)
{
    Trace *trace = build(1, false);
    Error err;
    error_clear(&err);
    ck_assert_int_eq(trace_find_step(trace, "softmax", &err), 7);
    ck_assert_int_eq(trace_find_step(trace, "8", &err), 7);
    ck_assert_int_eq(trace_find_step(trace, "17", &err), 16);
    ck_assert_int_eq(trace_find_step(trace, "0", &err), -1);
    ck_assert_int_eq(err.status, STATUS_USAGE);
    ck_assert_int_eq(trace_find_step(trace, "18", &err), -1);
    ck_assert_int_eq(trace_find_step(trace, "softmaks", &err), -1);
    ck_assert_msg(strstr(err.message, "mh_output") != NULL, "the error lists the ids: %s", err.message);
    trace_free(trace);
}
END_TEST

/* The memory guard's estimate covers what a trace really allocates (the
 * tensors it keeps, plus part 2's embedding table, freed after use), and
 * not by much more; over the cap nothing is built. */
START_TEST(test_memory_estimate_and_cap)
{
    static const struct {
        const char *sentence;
        size_t d_model, heads;
    } cases[] = {
        {"my name is Marcello Politi", 16, 4},
        {"a b c d e f g h i j k l m n o p q r s t u v w x y z", 64, 8},
        {"one", 8, 1},
        {"the cat sat on the mat and looked at the other cat", 96, 12},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        ck_assert(config_set_sentence(&cfg, cases[c].sentence, &err));
        cfg.d_model = cases[c].d_model;
        cfg.heads = cases[c].heads;
        Trace *trace = trace_build(&cfg, &err);
        ck_assert_msg(trace != NULL, "%s", err.message);
        unsigned long long kept = 0;
        for (int i = 0; i < trace->n_owned; i++)
            kept += trace->owned[i].tensor->size * sizeof(float);
        kept += cfg.vocab_size * cfg.d_model * sizeof(float); /* part 2's table, while it lives */
        unsigned long long estimate = trace_bytes(&cfg);
        ck_assert_msg(estimate >= kept, "case %zu: estimate %llu below the %llu bytes allocated", c, estimate, kept);
        ck_assert_msg(estimate <= kept + kept / 2, "case %zu: estimate %llu far above the %llu allocated", c, estimate,
                      kept);
        trace_free(trace);
        /* just under the estimate: refused, with the size and the flag */
        cfg.max_bytes = estimate - 1;
        ck_assert_ptr_null(trace_build(&cfg, &err));
        ck_assert_int_eq(err.status, STATUS_DATAERR);
        ck_assert_msg(strstr(err.message, "--max-memory") != NULL, "%s", err.message);
        cfg.max_bytes = estimate;
        trace = trace_build(&cfg, &err);
        ck_assert_ptr_nonnull(trace);
        trace_free(trace);
        config_free(&cfg);
    }
    /* sizes whose product overflows saturate instead of wrapping */
    Config big;
    Error err;
    ck_assert(config_default(&big, &err));
    big.d_model = (size_t)1 << 40;
    big.vocab_size = (size_t)1 << 40;
    ck_assert_uint_eq(trace_bytes(&big), ULLONG_MAX);
    config_free(&big);
}
END_TEST

START_TEST(test_invalid_config_is_refused)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    cfg.heads = 5;
    ck_assert_ptr_null(trace_build(&cfg, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    config_free(&cfg);
    trace_free(NULL);
}
END_TEST

Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("structure");
    tcase_add_test(tc, test_steps_in_order);
    tcase_add_test(tc, test_names_are_unique_within_a_part);
    tcase_add_test(tc, test_focus_names_and_agreement);
    tcase_add_test(tc, test_causal_zeros_and_rows_sum_to_one);
    tcase_add_test(tc, test_multi_head_shapes_and_concat);
    tcase_add_test(tc, test_find_step);
    tcase_add_test(tc, test_memory_estimate_and_cap);
    tcase_add_test(tc, test_invalid_config_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
