/*
 * check_experiment.c - the experiments of issue 13 (experiment.h): the
 * spellings of a change, the checks against a configuration, every tensor
 * of the changed traces against PyTorch (tests/fixtures/experiments, made
 * by tests/make_experiment_fixtures.py), trace_diff's counts, the KV-cache
 * decode bit for bit, a recompute in place, and the rebuild that shares
 * what no change reaches (trace_rebuild) against the full build, bit for
 * bit, for every change kind on the article's trace and a model's.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "experiment.h"
#include "fixture.h"
#include "suites.h"
#include "trace.h"

#define EXP_ABS_TOL 1e-5
#define EXP_REL_TOL 1e-5

/* The article's configuration, causal or not. */
static void article(Config *cfg, bool causal)
{
    Error err;
    error_clear(&err);
    ck_assert_msg(config_default(cfg, &err), "%s", err.message);
    cfg->causal = causal;
}

/* set with the changes of text (experiment_parse_list), which must parse. */
static void changes(ExperimentSet *set, const char *text)
{
    Error err;
    error_clear(&err);
    experiment_set_init(set);
    ck_assert_msg(experiment_parse_list(set, text, &err), "%s: %s", text, err.message);
}

/* The tensor of trace named name in part (owned, shown or not), or NULL. */
static const Tensor *owned(const Trace *t, const char *part, const char *name)
{
    for (int i = 0; i < t->n_owned; i++)
        if (strcmp(trace_part_name(t->owned[i].part), part) == 0 && strcmp(t->owned[i].name, name) == 0)
            return t->owned[i].tensor;
    return NULL;
}

/* ------------------------------------------------------------------------
 * Spellings
 * ---------------------------------------------------------------------- */

START_TEST(test_parse_spellings)
{
    static const struct {
        const char *spec, *canonical;
    } good[] = {
        {"no-scale", "no-scale"},
        {"scale=8", "scale=8"},
        {"scale=2.5e0", "scale=2.5"},
        {"no-mask", "no-mask"},
        {"causal", "causal"},
        {"zero-head=1", "zero-head=1"},
        {"swap-tokens=1,3", "swap-tokens=1,3"},
        {"no-positions", "no-positions"},
        {"set=w_key[0,1]=5", "set=w_key[0,1]=5"},
        {"set=multi_head:scores[0][1][2]=-inf", "set=multi_head:scores[0,1,2]=-inf"},
        {"kv-cache", "kv-cache"},
        {"kv-cache=3", "kv-cache=3"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ExperimentSet set;
        Error err;
        error_clear(&err);
        experiment_set_init(&set);
        ck_assert_msg(experiment_parse(&set, good[i].spec, &err), "%s: %s", good[i].spec, err.message);
        ck_assert_int_eq(set.n, 1);
        ck_assert_str_eq(set.items[0].spec, good[i].canonical);
    }
    ExperimentSet set;
    changes(&set, "set=multi_head:scores[0,1,2]=3; zero-head=2");
    ck_assert_int_eq(set.n, 2);
    ck_assert(set.items[0].has_part && set.items[0].part == PART_MULTI_HEAD);
    ck_assert_int_eq(set.items[0].n_index, 3);
    ck_assert(set.items[0].index[2] == 2 && set.items[0].value == 3.0f);
    ck_assert(set.items[1].head == 2);
}
END_TEST

START_TEST(test_parse_errors_point_at_the_bad_part)
{
    static const struct {
        const char *spec;
        size_t at; /* byte offset of the bad part */
        const char *says;
    } bad[] = {
        {"no-scales", 0, "unknown change"},
        {"scale=x", 6, "number other than 0"},
        {"scale=0", 6, "number other than 0"},
        {"no-mask=1", 7, "takes no value"},
        {"zero-head", 9, "needs a value"},
        {"zero-head=a", 10, "head number"},
        {"swap-tokens=1", 13, "two token positions"},
        {"swap-tokens=2,2", 12, "two different"},
        {"set=w_key[0,1]=five", 15, "not a number"},
        {"set=w_key[0;1]=5", 11, "expected ',' or ']'"},
        {"set=w_key=5", 9, "expected '['"},
        {"set=[0]=5", 4, "tensor name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ExperimentSet set;
        Error err;
        error_clear(&err);
        experiment_set_init(&set);
        ck_assert_msg(!experiment_parse(&set, bad[i].spec, &err), "%s parsed", bad[i].spec);
        ck_assert_int_eq(err.status, STATUS_USAGE);
        ck_assert_int_eq(set.n, 0);
        ck_assert_msg(err.at == bad[i].at, "%s: error at %zu, expected %zu (%s)", bad[i].spec, err.at, bad[i].at,
                      err.message);
        ck_assert_msg(strstr(err.message, bad[i].says) != NULL, "%s: '%s' does not say '%s'", bad[i].spec, err.message,
                      bad[i].says);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Checks against a configuration
 * ---------------------------------------------------------------------- */

START_TEST(test_check_refuses_what_makes_no_sense)
{
    static const struct {
        const char *spec;
        bool causal;
        const char *says;
    } bad[] = {
        {"zero-head=4", false, "no head 4"},
        {"swap-tokens=0,5", false, "no token 5"},
        {"no-positions", false, "needs --model"},
        {"kv-cache", false, "causal"},
        {"kv-cache=7", true, "no token 7"},
        {"set=w_nothing[0]=1", false, "no tensor w_nothing"},
        {"set=model:scores[0,0,0]=1", false, "no part model"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Config cfg;
        ExperimentSet set;
        Error err;
        error_clear(&err);
        article(&cfg, bad[i].causal);
        changes(&set, bad[i].spec);
        ck_assert_msg(!experiment_check(&set, &cfg, &err), "%s passed the check", bad[i].spec);
        ck_assert_int_eq(err.status, STATUS_USAGE);
        ck_assert_msg(strstr(err.message, bad[i].says) != NULL, "%s: '%s' does not say '%s'", bad[i].spec, err.message,
                      bad[i].says);
        config_free(&cfg);
    }
    /* an index out of range is found when the tensor is made */
    Config cfg;
    ExperimentSet set;
    Error err;
    error_clear(&err);
    article(&cfg, false);
    changes(&set, "set=w_key[0,16]=1");
    ck_assert_ptr_null(trace_build_experiments(&cfg, NULL, &set, &err));
    ck_assert_int_eq(err.status, STATUS_USAGE);
    ck_assert_msg(strstr(err.message, "index 16 is out of range") != NULL, "%s", err.message);
    config_free(&cfg);
}
END_TEST

/* ------------------------------------------------------------------------
 * Every tensor against PyTorch
 * ---------------------------------------------------------------------- */

/* The fixtures of tests/fixtures/experiments and the change each holds,
 * on the article's configuration (causal or not before the change). */
static const struct {
    const char *file;
    bool causal;
    const char *changes;
} CASES[] = {
    {"no_scale.txt", false, "no-scale"},
    {"scale_8.txt", false, "scale=8"},
    {"no_mask.txt", true, "no-mask"},
    {"causal.txt", false, "causal"},
    {"zero_head_1.txt", false, "zero-head=1"},
    {"set_weight.txt", false, "set=w_key[0,1]=5"},
    {"set_score.txt", false, "set=multi_head:scores[0,1,2]=3"},
    {"swap_1_3.txt", false, "swap-tokens=1,3"},
    {"kv_cache.txt", true, "kv-cache"},
};

/* Compares got with PyTorch's want within the tolerance (-inf exactly). */
static void compare(const char *file, const FixtureTensor *want, const Tensor *got)
{
    ck_assert_msg(got != NULL, "%s: the trace has no %s %s", file, want->part, want->name);
    ck_assert_msg(got->ndim == want->ndim && got->size == want->size, "%s: %s %s: another shape", file, want->part,
                  want->name);
    for (int d = 0; d < want->ndim; d++)
        ck_assert_msg(got->shape[d] == want->shape[d], "%s: %s: dimension %d differs", file, want->name, d);
    for (size_t i = 0; i < want->size; i++) {
        double w = want->data[i], g = got->data[i];
        if (isinf(w)) {
            ck_assert_msg(g == w, "%s: %s %s[%zu]: got %g, PyTorch has %g", file, want->part, want->name, i, g, w);
            continue;
        }
        ck_assert_msg(fabs(g - w) <= EXP_ABS_TOL + EXP_REL_TOL * fabs(w), "%s: %s %s[%zu]: got %.9g, PyTorch %.9g",
                      file, want->part, want->name, i, g, w);
    }
}

START_TEST(test_changed_traces_match_pytorch)
{
    size_t compared = 0;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char path[256], why[256];
        snprintf(path, sizeof path, "tests/fixtures/experiments/%s", CASES[c].file);
        Fixture *fx = fixture_load(path, why, sizeof why);
        ck_assert_msg(fx != NULL, "%s", why);
        Config cfg;
        ExperimentSet set;
        Error err;
        error_clear(&err);
        article(&cfg, CASES[c].causal);
        changes(&set, CASES[c].changes);
        Trace *trace = trace_build_experiments(&cfg, NULL, &set, &err);
        ck_assert_msg(trace != NULL, "%s: %s", CASES[c].file, err.message);
        ck_assert_int_eq(trace->config.causal, fx->causal);
        for (size_t i = 0; i < fx->n_tensors; i++) {
            const FixtureTensor *want = &fx->tensors[i];
            compare(CASES[c].file, want, owned(trace, want->part, want->name));
            compared++;
        }
        /* and every tensor a step shows is in the fixture */
        for (int s = 0; s < trace->n_steps; s++)
            for (int j = 0; j < trace->steps[s].n_tensors; j++)
                ck_assert_msg(fixture_find(fx, trace_part_name(trace->steps[s].part), trace->steps[s].tensors[j].name),
                              "%s: %s is not in the fixture", CASES[c].file, trace->steps[s].tensors[j].name);
        trace_free(trace);
        config_free(&cfg);
        fixture_free(fx);
    }
    ck_assert_uint_ge(compared, 9 * 30);
}
END_TEST

/* ------------------------------------------------------------------------
 * trace_diff
 * ---------------------------------------------------------------------- */

START_TEST(test_diff_counts_what_changed)
{
    Config cfg;
    ExperimentSet set;
    Error err;
    error_clear(&err);
    article(&cfg, false);
    changes(&set, "no-scale");
    Trace *a = trace_build(&cfg, &err), *b = trace_build_experiments(&cfg, NULL, &set, &err);
    ck_assert(a != NULL && b != NULL);
    TraceDiff diff;
    ck_assert(trace_diff(a, b, &diff, &err));
    const TensorDiff *d = trace_diff_find(&diff, PART_SINGLE_HEAD, "scores_1");
    ck_assert(d != NULL && d->changed == 0 && d->same_shape); /* before the division */
    d = trace_diff_find(&diff, PART_SINGLE_HEAD, "scaled_scores_1");
    ck_assert(d != NULL && d->changed == 5 && d->cells == 5);
    /* the largest change, checked against the scores themselves: x - x/4 */
    const Tensor *raw = owned(a, "single_head", "scores_1");
    double want = 0;
    for (size_t i = 0; i < 5; i++)
        if (fabs(raw->data[i] - raw->data[i] / 4.0f) > want)
            want = fabs((double)raw->data[i] - (double)(raw->data[i] / 4.0f));
    ck_assert_double_eq_tol(d->max_change, want, 1e-9);
    ck_assert(trace_diff_cell_changed(d, d->max_at));
    ck_assert(trace_diff_cell_changed(trace_diff_for_tensor(&diff, owned(b, "multi_head", "scores")), 0));
    ck_assert_int_eq(trace_diff_find(&diff, PART_MULTI_HEAD, "w_output")->changed, 0);
    ck_assert_int_eq(diff.tensors_changed, 11);
    trace_diff_free(&diff);

    trace_free(a);
    trace_free(b);

    /* -0 and +0 count as the same value, and so do two NaNs of other bits */
    ExperimentSet plus, minus;
    changes(&plus, "set=w_key[0,0]=0 set=scores_1[0]=nan");
    changes(&minus, "set=w_key[0,0]=-0 set=scores_1[0]=-nan");
    a = trace_build_experiments(&cfg, NULL, &plus, &err);
    b = trace_build_experiments(&cfg, NULL, &minus, &err);
    ck_assert(a != NULL && b != NULL);
    ck_assert(memcmp(owned(a, "single_head", "w_key")->data, owned(b, "single_head", "w_key")->data, 4) != 0);
    ck_assert(memcmp(owned(a, "single_head", "scores_1")->data, owned(b, "single_head", "scores_1")->data, 4) != 0);
    ck_assert(trace_diff(a, b, &diff, &err));
    ck_assert_int_eq(trace_diff_find(&diff, PART_SINGLE_HEAD, "w_key")->changed, 0);
    ck_assert_int_eq(trace_diff_find(&diff, PART_SINGLE_HEAD, "scores_1")->changed, 0);
    trace_diff_free(&diff);
    trace_free(a);
    trace_free(b);
    config_free(&cfg);
}
END_TEST

/* trace_diff's counts, largest change and its first cell, and
 * trace_diff_cell_changed for every cell, against a plain loop written
 * from the rule (bits equal, both zeros or both NaN count as the same; an
 * infinite or NaN side is an infinite change), over changes that alter a
 * few cells, half of them (the mask's -inf) and nearly all (a swap), on
 * the article's sizes and on 64 tokens, unmasked and masked. */
START_TEST(test_diff_matches_a_plain_loop)
{
    static const struct {
        int tokens;
        bool causal; /* the original masked too: -inf on both sides counts as the same */
        const char *changes;
    } DIFF_CASES[] = {{0, false, "no-scale"},
                      {0, false, "causal"},
                      {0, true, "no-scale"},
                      {0, false, "swap-tokens=0,4"},
                      {0, false, "set=scores_1[2]=inf set=w_key[1,1]=nan"},
                      {64, false, "causal zero-head=1"},
                      {64, true, "swap-tokens=3,60"}};
    long cells_checked = 0;
    for (size_t c = 0; c < sizeof DIFF_CASES / sizeof DIFF_CASES[0]; c++) {
        Config cfg;
        ExperimentSet set;
        Error err;
        error_clear(&err);
        article(&cfg, DIFF_CASES[c].causal);
        if (DIFF_CASES[c].tokens > 0)
            ck_assert(config_repeat_tokens(&cfg, (size_t)DIFF_CASES[c].tokens, &err));
        changes(&set, DIFF_CASES[c].changes);
        Trace *a = trace_build(&cfg, &err), *b = trace_build_experiments(&cfg, NULL, &set, &err);
        ck_assert_msg(a != NULL && b != NULL, "%s: %s", DIFF_CASES[c].changes, err.message);
        TraceDiff diff;
        ck_assert(trace_diff(a, b, &diff, &err));
        for (int t = 0; t < diff.n; t++) {
            const TensorDiff *d = &diff.tensors[t];
            if (!d->same_shape)
                continue;
            size_t changed = 0, at = 0;
            double largest = 0.0;
            for (size_t i = 0; i < d->cells; i++) {
                float x = d->a->data[i], y = d->b->data[i];
                bool same = memcmp(&x, &y, sizeof x) == 0 || (x == 0.0f && y == 0.0f) || (isnan(x) && isnan(y));
                ck_assert_msg(trace_diff_cell_changed(d, i) == !same, "%s: %s[%zu]", DIFF_CASES[c].changes, d->name, i);
                if (same)
                    continue;
                double change = isfinite(x) && isfinite(y) ? fabs((double)y - (double)x) : INFINITY;
                if (changed == 0 || change > largest) {
                    largest = change;
                    at = i;
                }
                changed++;
            }
            ck_assert_msg(d->changed == changed, "%s: %s: %zu changed, want %zu", DIFF_CASES[c].changes, d->name,
                          d->changed, changed);
            ck_assert_msg(d->max_change == largest && d->max_at == at, "%s: %s: largest %g at %zu, want %g at %zu",
                          DIFF_CASES[c].changes, d->name, d->max_change, d->max_at, largest, at);
            cells_checked += (long)d->cells;
        }
        trace_diff_free(&diff);
        trace_free(a);
        trace_free(b);
        config_free(&cfg);
    }
    ck_assert_int_gt(cells_checked, 100000);
}
END_TEST

/* A change at one step leaves the random draws of every other step as
 * they were: part 1's w_query and part 2's weights keep their bits. */
START_TEST(test_a_change_leaves_the_draws)
{
    Config cfg;
    ExperimentSet set;
    Error err;
    error_clear(&err);
    article(&cfg, false);
    changes(&set, "set=w_key[3,3]=100 zero-head=0");
    Trace *a = trace_build(&cfg, &err), *b = trace_build_experiments(&cfg, NULL, &set, &err);
    ck_assert(a != NULL && b != NULL);
    static const char *const same[][2] = {{"single_head", "w_query"}, {"single_head", "w_value"},
                                          {"multi_head", "w_query"},  {"multi_head", "w_key"},
                                          {"multi_head", "w_output"}, {"single_head", "embedding"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        const Tensor *x = owned(a, same[i][0], same[i][1]), *y = owned(b, same[i][0], same[i][1]);
        ck_assert_msg(memcmp(x->data, y->data, x->size * sizeof(float)) == 0, "%s %s changed", same[i][0], same[i][1]);
    }
    ck_assert(owned(b, "single_head", "w_key")->data[3 * 16 + 3] == 100.0f);
    ck_assert(owned(a, "single_head", "w_key")->data[3 * 16 + 3] != 100.0f);
    trace_free(a);
    trace_free(b);
    config_free(&cfg);
}
END_TEST

/* ------------------------------------------------------------------------
 * The KV cache, and a recompute in place
 * ---------------------------------------------------------------------- */

START_TEST(test_kv_decode_is_the_full_row_bit_for_bit)
{
    static const KernelChoice kernels[] = {KERNELS_AUTO, KERNELS_REFERENCE};
    for (size_t k = 0; k < 2; k++)
        for (size_t p = 0; p < 40; p += 13) {
            Config cfg;
            ExperimentSet set;
            Error err;
            error_clear(&err);
            article(&cfg, true);
            ck_assert(config_repeat_tokens(&cfg, 40, &err));
            cfg.d_model = 48;
            cfg.heads = 4;
            cfg.kernels = kernels[k];
            char spec[32];
            snprintf(spec, sizeof spec, "kv-cache=%zu", p);
            changes(&set, spec);
            Trace *t = trace_build_experiments(&cfg, NULL, &set, &err);
            ck_assert_msg(t != NULL, "%s", err.message);
            ck_assert_msg(experiment_kv_mismatches(t) == 0, "token %zu: %zu values differ", p,
                          experiment_kv_mismatches(t));
            /* and the decode is not trivially any row: row p+1 differs */
            const Tensor *out = owned(t, "multi_head", "kv_output"), *full = owned(t, "multi_head", "head_outputs");
            if (p + 1 < 40)
                ck_assert(memcmp(out->data, full->data + (p + 1) * 12, 12 * sizeof(float)) != 0);
            ck_assert_int_eq(t->steps[t->n_steps - 1].tensors[t->steps[t->n_steps - 1].main_tensor].tensor->size, 48);
            trace_free(t);
            config_free(&cfg);
        }
}
END_TEST

START_TEST(test_recompute_equals_a_fresh_build)
{
    Config cfg;
    ExperimentSet first, second;
    Error err;
    error_clear(&err);
    article(&cfg, false);
    changes(&first, "swap-tokens=0,4 no-scale");
    changes(&second, "zero-head=3 scale=2");
    Trace *t = trace_build_experiments(&cfg, NULL, &first, &err);
    Trace *want = trace_build_experiments(&cfg, NULL, &second, &err);
    ck_assert(t != NULL && want != NULL);
    ck_assert_str_eq(t->config.tokens[0], "politi");
    ck_assert_msg(trace_recompute(t, NULL, &second, &err), "%s", err.message);
    ck_assert_str_eq(t->config.tokens[0], "my"); /* the swap is undone */
    TraceDiff diff;
    ck_assert(trace_diff(want, t, &diff, &err));
    ck_assert_uint_eq(diff.changed, 0);
    ck_assert_int_eq(diff.n, want->n_owned);
    trace_diff_free(&diff);
    trace_free(t);
    trace_free(want);
    config_free(&cfg);
}
END_TEST

/* ------------------------------------------------------------------------
 * Rebuilding only what a change reaches (trace_rebuild)
 * ---------------------------------------------------------------------- */

/* Fails unless the derivations x and y are field for field the same. */
static void same_derivation(const Derivation *x, const Derivation *y, const char *what)
{
    ck_assert_msg(x->op == y->op && x->divisor == y->divisor && x->causal == y->causal &&
                      x->query_row == y->query_row && x->row == y->row && x->in1_transposed == y->in1_transposed &&
                      x->qkv_part == y->qkv_part && memcmp(x->in, y->in, sizeof x->in) == 0,
                  "%s: the derivations differ", what);
    ck_assert_msg((x->equation == NULL) == (y->equation == NULL) &&
                      (x->equation == NULL || strcmp(x->equation, y->equation) == 0),
                  "%s: the einsum equations differ", what);
}

/* Fails unless tensors x and y have the same shape and the same bits. */
static void same_bits(const Tensor *x, const Tensor *y, const char *what)
{
    ck_assert_msg(x != NULL && y != NULL, "%s: a tensor is missing", what);
    ck_assert_msg(x->ndim == y->ndim && memcmp(x->shape, y->shape, sizeof x->shape[0] * (size_t)x->ndim) == 0,
                  "%s: the shapes differ", what);
    ck_assert_msg(memcmp(x->data, y->data, x->size * sizeof(float)) == 0, "%s: the values differ", what);
}

/* Fails unless got is want, bit for bit: the same steps with the same
 * text and tensors (shape, data, derivation) and the same owned tensors,
 * by part and name, in the same order. */
static void same_trace(const Trace *got, const Trace *want, const char *label)
{
    char what[160];
    ck_assert_msg(got->n_steps == want->n_steps, "%s: %d steps, want %d", label, got->n_steps, want->n_steps);
    ck_assert_msg(got->n_owned == want->n_owned, "%s: %d tensors, want %d", label, got->n_owned, want->n_owned);
    for (int i = 0; i < want->n_owned; i++) {
        snprintf(what, sizeof what, "%s: owned %s %s", label, trace_part_name(want->owned[i].part),
                 want->owned[i].name);
        ck_assert_msg(got->owned[i].part == want->owned[i].part && strcmp(got->owned[i].name, want->owned[i].name) == 0,
                      "%s: got %s there", what, got->owned[i].name);
        same_bits(got->owned[i].tensor, want->owned[i].tensor, what);
    }
    for (int s = 0; s < want->n_steps; s++) {
        const TraceStep *g = &got->steps[s], *w = &want->steps[s];
        snprintf(what, sizeof what, "%s: step %s", label, w->id);
        ck_assert_msg(strcmp(g->id, w->id) == 0 && strcmp(g->title, w->title) == 0 &&
                          strcmp(g->formula, w->formula) == 0 && strcmp(g->explanation, w->explanation) == 0 &&
                          strcmp(g->torch, w->torch) == 0 && g->n_tensors == w->n_tensors &&
                          g->main_tensor == w->main_tensor,
                      "%s: its text or layout differs (title '%s', want '%s'; formula '%s', want '%s')", what, g->title,
                      w->title, g->formula, w->formula);
        for (int t = 0; t < w->n_tensors; t++) {
            const TraceTensor *gt = &g->tensors[t], *wt = &w->tensors[t];
            char tensor_what[200];
            snprintf(tensor_what, sizeof tensor_what, "%s, %s", what, wt->name);
            ck_assert_msg(strcmp(gt->name, wt->name) == 0 && gt->is_output == wt->is_output &&
                              gt->loaded == wt->loaded && gt->made_in == wt->made_in &&
                              memcmp(gt->dims, wt->dims, sizeof gt->dims) == 0,
                          "%s: its name, role or made_in differs", tensor_what);
            same_bits(gt->tensor, wt->tensor, tensor_what);
            same_derivation(&gt->how, &wt->how, tensor_what);
        }
    }
}

/* How many of got's owned tensors are the very tensor from holds under
 * the same part and name (shared, not computed again). */
static int shared_with(const Trace *got, const Trace *from)
{
    int n = 0;
    for (int i = 0; i < got->n_owned; i++)
        n += owned(from, trace_part_name(got->owned[i].part), got->owned[i].name) == got->owned[i].tensor;
    return n;
}

/* One rebuild: from the trace of cfg under `before` to the changes
 * `after`, compared with the full build of cfg under `after`; from is
 * freed before the comparison when free_first (the shared tensors must
 * outlive it). Returns how many tensors the rebuild shared with from. */
static int check_rebuild(const Config *cfg, const char *before, const char *after, bool free_first)
{
    ExperimentSet from_set, to_set;
    Error err;
    error_clear(&err);
    changes(&from_set, before);
    changes(&to_set, after);
    Trace *from = trace_build_experiments(cfg, NULL, &from_set, &err);
    ck_assert_msg(from != NULL, "'%s': %s", before, err.message);
    Trace *want = trace_build_experiments(cfg, NULL, &to_set, &err);
    ck_assert_msg(want != NULL, "'%s': %s", after, err.message);
    Trace *got = trace_rebuild(from, NULL, &to_set, &err);
    ck_assert_msg(got != NULL, "'%s' -> '%s': %s", before, after, err.message);
    int shared = shared_with(got, from);
    if (free_first)
        trace_free(from);
    char label[128];
    snprintf(label, sizeof label, "'%s' -> '%s'", before, after);
    same_trace(got, want, label);
    char got_spec[256], want_spec[256];
    experiment_describe(got->config.experiments, got_spec, sizeof got_spec);
    experiment_describe(want->config.experiments, want_spec, sizeof want_spec);
    ck_assert_str_eq(got_spec, want_spec);
    ck_assert_int_eq(got->config.causal, want->config.causal);
    trace_free(got);
    if (!free_first)
        trace_free(from);
    trace_free(want);
    return shared;
}

/* Each change kind, two combined, and every change undone, on the
 * article's trace (causal where the change needs it): the rebuild is the
 * full build bit for bit, and it shares what the change cannot reach. */
START_TEST(test_rebuild_equals_the_full_build)
{
    static const struct {
        bool causal;
        const char *before, *after;
        int min_shared; /* tensors the rebuild must share with the trace it starts from */
    } cases[] = {
        {false, "", "no-scale", 12}, /* part 1 up to the scores, part 2's weights and projections */
        {false, "", "scale=8", 12},
        {true, "", "no-mask", 12},
        {false, "", "causal", 12},
        {false, "", "zero-head=3", 28},      /* all but head_outputs, concat_heads, multihead_output */
        {false, "", "swap-tokens=0,4", 4},   /* the weights */
        {false, "", "set=w_key[0,1]=5", 14}, /* a weight of part 1: part 2 whole */
        {false, "", "set=multi_head:w_query[1,2,3]=0.5", 20},
        {false, "", "set=embedding[3,2]=7", 14}, /* an embedding row: part 1's table; part 2 draws its own */
        {false, "", "set=multi_head:scores[0,1,2]=3", 27},
        {false, "", "set=scores[1,0]=-inf", 20},
        {true, "", "kv-cache", 33}, /* the decode alone is new */
        {true, "", "kv-cache=2 no-scale", 12},
        {false, "", "no-scale zero-head=1", 12},
        {false, "no-scale zero-head=1 set=w_key[0,1]=5", "", 4}, /* every change undone */
        {true, "kv-cache swap-tokens=1,2 set=multi_head:scores[0,1,2]=3", "", 0},
        {false, "scale=8", "no-scale", 12}, /* one change for another */
        {false, "zero-head=1", "zero-head=1 zero-head=2", 28},
        {false, "set=w_key[0,1]=5", "set=w_key[0,1]=6", 14},
        {false, "no-scale", "no-scale", 33}, /* the same changes: everything shared */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Config cfg;
        article(&cfg, cases[i].causal);
        int shared = check_rebuild(&cfg, cases[i].before, cases[i].after, i % 2 == 0);
        ck_assert_msg(shared >= cases[i].min_shared, "'%s' -> '%s': shared %d tensors, want at least %d",
                      cases[i].before, cases[i].after, shared, cases[i].min_shared);
        config_free(&cfg);
    }
}
END_TEST

/* The same on a larger trace with two threads, where the products are
 * blocked and split (d = 64, 4 heads, 24 tokens), on each kernel: the
 * changes that alter a few rows of sentence_embed (swapped tokens, one
 * value set in it or in the embedding row of a word seen 5 times) make
 * only those rows of the projections again (rows_again in trace.c), and
 * must still give the full product's bits. */
START_TEST(test_rebuild_equals_the_full_build_on_threads)
{
    static const char *const after[] = {"no-scale",
                                        "zero-head=2",
                                        "swap-tokens=3,17",
                                        "set=w_value[5,6]=0",
                                        "set=multi_head:attention_weights[1,2,3]=1",
                                        "set=sentence_embed[7,9]=0.25",
                                        "set=multi_head:sentence_embed[23,0]=-3",
                                        "set=embedding[2,5]=4",
                                        "swap-tokens=0,1 swap-tokens=5,6 set=multi_head:sentence_embed[2,2]=1",
                                        "causal kv-cache=20"};
    static const KernelChoice kernels[] = {KERNELS_AUTO, KERNELS_FAST, KERNELS_REFERENCE};
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
        for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
            Config cfg;
            Error err;
            error_clear(&err);
            article(&cfg, false);
            cfg.d_model = 64;
            cfg.heads = 4;
            cfg.threads = 2;
            cfg.kernels = kernels[k];
            ck_assert_msg(config_repeat_tokens(&cfg, 24, &err), "%s", err.message);
            check_rebuild(&cfg, "", after[i], i % 2 == 1);
            config_free(&cfg);
        }
}
END_TEST

/* A model trace (lessons/models/tiny, both layers): each change a model
 * takes, rebuilt and compared with the full build bit for bit. */
START_TEST(test_rebuild_of_a_model_trace)
{
    static const char *const after[] = {"no-scale",
                                        "scale=2",
                                        "zero-head=1",
                                        "no-positions",
                                        "swap-tokens=0,2",
                                        "set=model:qkv[0,1]=3",
                                        "set=model:token_embed[1,2]=4",
                                        "set=model:scores[0,2,1]=5",
                                        "no-scale zero-head=3"};
    for (int layer = 0; layer < 2; layer++)
        for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
            char prog[] = "attn-trace", model[] = "--model", dir[] = "lessons/models/tiny", layer_flag[] = "--layer",
                 print[] = "--print";
            char layer_text[16];
            snprintf(layer_text, sizeof layer_text, "%d", layer);
            char *argv[] = {prog, model, dir, layer_flag, layer_text, print, NULL};
            Options opts;
            Error err;
            error_clear(&err);
            ck_assert_msg(cli_parse(6, argv, &opts, &err), "%s", err.message);
            check_rebuild(&opts.config, "", after[i], i % 2 == 0);
            check_rebuild(&opts.config, after[i], "", i % 2 == 1);
            cli_options_free(&opts);
        }
}
END_TEST

/* Two traces sharing tensors, each freed first in turn, and a recompute
 * in place that hands its tensors on: no tensor is freed while a trace
 * still holds it (ASan and valgrind see a use after free otherwise). */
START_TEST(test_shared_tensors_outlive_either_trace)
{
    Config cfg;
    ExperimentSet set;
    Error err;
    error_clear(&err);
    article(&cfg, false);
    changes(&set, "zero-head=0");
    Trace *original = trace_build(&cfg, &err);
    Trace *a = trace_rebuild(original, NULL, &set, &err);
    Trace *b = trace_rebuild(a, NULL, NULL, &err); /* back to no change, from the changed one */
    ck_assert(original != NULL && a != NULL && b != NULL);
    const Tensor *w = owned(original, "multi_head", "w_output");
    ck_assert_ptr_eq(owned(a, "multi_head", "w_output"), w);
    ck_assert_ptr_eq(owned(b, "multi_head", "w_output"), w);
    ck_assert_ptr_ne(owned(a, "multi_head", "head_outputs"), owned(original, "multi_head", "head_outputs"));
    trace_free(original);
    ck_assert_msg(trace_recompute(a, NULL, NULL, &err), "%s", err.message);
    same_trace(a, b, "recomputed in place");
    trace_free(b);
    ck_assert_float_eq(owned(a, "multi_head", "w_output")->data[0], w->data[0]);
    trace_free(a);
    config_free(&cfg);
}
END_TEST

Suite *experiment_suite(void)
{
    Suite *s = suite_create("experiment");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_spellings);
    tcase_add_test(tc, test_parse_errors_point_at_the_bad_part);
    tcase_add_test(tc, test_check_refuses_what_makes_no_sense);
    suite_add_tcase(s, tc);
    tc = tcase_create("traces");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_changed_traces_match_pytorch);
    tcase_add_test(tc, test_diff_counts_what_changed);
    tcase_add_test(tc, test_diff_matches_a_plain_loop);
    tcase_add_test(tc, test_a_change_leaves_the_draws);
    tcase_add_test(tc, test_kv_decode_is_the_full_row_bit_for_bit);
    tcase_add_test(tc, test_recompute_equals_a_fresh_build);
    tcase_add_test(tc, test_rebuild_equals_the_full_build);
    tcase_add_test(tc, test_rebuild_equals_the_full_build_on_threads);
    tcase_add_test(tc, test_rebuild_of_a_model_trace);
    tcase_add_test(tc, test_shared_tensors_outlive_either_trace);
    suite_add_tcase(s, tc);
    return s;
}
