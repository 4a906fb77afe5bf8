/*
 * check_trace.c - the structure of the trace: steps, names, shapes, and the
 * relations between tensors that must hold whatever the numbers are.
 * (The numbers themselves are checked against PyTorch in check_golden.c.)
 */
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fatal.h"
#include "steps_expected.h"
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
    ExpectedSteps want;
    expected_steps_load(&want);
    Trace *trace = build(1, false);
    ck_assert_int_eq(trace->n_steps, want.n);
    for (int i = 0; i < trace->n_steps; i++) {
        const TraceStep *step = &trace->steps[i];
        ck_assert_str_eq(step->id, want.id[i]);
        ck_assert_int_eq(step->part, strncmp(step->id, "mh_", 3) != 0 ? PART_SINGLE_HEAD : PART_MULTI_HEAD);
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

/* The table: its ids are unique; the article's rows (the first ones, all
 * but part 3's) are, in order, the tests' own list (tests/steps.expected,
 * what --list-steps prints), titles too; every way of reading it agrees.
 * The model's rows follow them (check_model_trace.c checks which). */
START_TEST(test_step_table_is_the_expected_list)
{
    ExpectedSteps want;
    expected_steps_load(&want);
    ck_assert_int_eq((int)trace_article_step_count(), want.n);
    ck_assert_int_le((int)trace_step_def_count(), TRACE_MAX_STEPS);
    const char *const *ids = trace_step_ids();
    ck_assert_ptr_eq(ids, trace_step_ids());
    for (size_t i = 0; i < trace_step_def_count(); i++) {
        const TraceStepDef *def = trace_step_def(i);
        ck_assert_ptr_nonnull(def);
        ck_assert_ptr_eq(trace_step_def_find(def->id), def);
        ck_assert_str_eq(ids[i], def->id);
        if (!def->experiment) /* a change's own step comes after every part */
            ck_assert_int_eq(def->part == PART_MODEL, i >= trace_article_step_count());
        if (i < trace_article_step_count()) {
            ck_assert_str_eq(def->id, want.id[i]);
            ck_assert_str_eq(def->title, want.title[i]);
        }
        ck_assert_msg(def->build != NULL && def->explanation != NULL && def->explanation[0], "row %s lacks text",
                      def->id);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(trace_step_def(j)->id, def->id) != 0, "id %s is in the table twice", def->id);
    }
    ck_assert_ptr_null(trace_step_def(trace_step_def_count()));
    ck_assert_ptr_null(trace_step_def_find("softmaks"));
    ck_assert_ptr_null(trace_step_def_find(""));
}
END_TEST

/* name with every '#' replaced by focus: the table's naming rule, written
 * again here. */
static void focus_name(char *out, size_t size, const char *name, size_t focus)
{
    const char *hash = strchr(name, '#');
    if (hash == NULL)
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "%.*s%zu%s", (int)(hash - name), name, focus, hash + 1);
}

/* Checks that every step of trace shows exactly what its row lists: as
 * many tensors (within TRACE_MAX_STEP_TENSORS), each made, named, of the
 * rank and dimension kinds declared, owned by the trace, and derived from
 * tensors of the same step. */
static void check_steps_fill_their_rows(const Trace *trace, const char *label)
{
    ck_assert_int_le(trace->n_steps, TRACE_MAX_STEPS);
    ck_assert_int_le(trace->n_owned, TRACE_MAX_VALUES);
    for (int i = 0; i < trace->n_steps; i++) {
        const TraceStep *step = &trace->steps[i];
        const TraceStepDef *def = step->def;
        ck_assert_msg(def != NULL && step->id == def->id && step->part == def->part, "%s: step %d has no row", label,
                      i);
        int n = trace_step_def_tensors(def);
        ck_assert_msg(step->n_tensors == n && n >= 1 && n <= TRACE_MAX_STEP_TENSORS, "%s: %s shows %d tensors, row %d",
                      label, step->id, step->n_tensors, n);
        ck_assert_msg(step->main_tensor >= 0 && step->main_tensor < n && step->tensors[step->main_tensor].is_output,
                      "%s: %s opens on tensor %d", label, step->id, step->main_tensor);
        for (int j = 0; j < n; j++) {
            const TraceTensor *tt = &step->tensors[j];
            const TraceTensorDef *td = &def->tensors[j];
            char name[TRACE_NAME_BYTES];
            focus_name(name, sizeof name, td->name, trace->config.focus);
            ck_assert_msg(strcmp(tt->name, name) == 0, "%s: %s tensor %d is %s, row says %s", label, step->id, j,
                          tt->name, name);
            ck_assert_msg(tt->tensor != NULL && tt->tensor->ndim == td->ndim, "%s: %s.%s rank", label, step->id, name);
            ck_assert(tt->is_output == td->is_output && tt->is_integer == td->is_integer);
            for (int d = 0; d < TENSOR_MAX_DIMS; d++)
                ck_assert_msg(tt->dims[d] == (d < td->ndim ? td->dims[d] : DIM_OTHER), "%s: %s.%s dim %d", label,
                              step->id, name, d);
            bool owned = false;
            for (int k = 0; k < trace->n_owned; k++)
                owned |= trace->owned[k].tensor == tt->tensor;
            ck_assert_msg(owned, "%s: %s.%s is not the trace's", label, step->id, name);
            for (int k = 0; k < TRACE_MAX_OP_INPUTS; k++)
                ck_assert_msg(tt->how.in[k] >= -1 && tt->how.in[k] < n, "%s: %s.%s input %d", label, step->id, name, k);
            ck_assert_msg(tt->is_output == (tt->how.op != OP_SHOWN), "%s: %s.%s derivation", label, step->id, name);
            ck_assert_msg(tt->made_in >= 0 && tt->made_in <= i, "%s: %s.%s made in %d", label, step->id, name,
                          tt->made_in);
        }
    }
}

/* Every step's function fills its row, within the bounds, whatever the
 * configuration: focus, mask, heads, sizes, kernels, loaded weights. */
START_TEST(test_every_step_fills_its_row)
{
    static const struct {
        size_t focus, d_model, heads, tokens;
        bool causal;
        KernelChoice kernels;
    } cases[] = {
        {1, 16, 4, 0, false, KERNELS_AUTO},  {5, 16, 4, 0, true, KERNELS_AUTO},
        {3, 8, 1, 0, false, KERNELS_AUTO},   {2, 16, 16, 0, true, KERNELS_AUTO},
        {40, 32, 4, 40, true, KERNELS_FAST}, {7, 64, 8, 9, false, KERNELS_REFERENCE},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        if (cases[c].tokens != 0)
            ck_assert_msg(config_repeat_tokens(&cfg, cases[c].tokens, &err), "%s", err.message);
        cfg.focus = cases[c].focus;
        cfg.d_model = cases[c].d_model;
        cfg.heads = cases[c].heads;
        cfg.causal = cases[c].causal;
        cfg.kernels = cases[c].kernels;
        Trace *trace = trace_build(&cfg, &err);
        ck_assert_msg(trace != NULL, "case %zu: %s", c, err.message);
        char label[32];
        snprintf(label, sizeof label, "case %zu", c);
        ck_assert_int_eq(trace->n_steps, (int)trace_article_step_count()); /* every article row applies to these */
        check_steps_fill_their_rows(trace, label);
        trace_free(trace);
        config_free(&cfg);
    }
    /* a model trace (part 3 alone) of a fixture checkpoint, at its two layers */
    for (size_t layer = 0; layer < 2; layer++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        ck_assert_msg(config_set_token_ids(&cfg, "5 17 3 60", &err), "%s", err.message);
        cfg.model = strdup("tests/fixtures/gpt2/d16_h2_l2_f32");
        cfg.vocab_size = 64;
        cfg.heads = 2;
        cfg.n_layer = 2;
        cfg.layer = layer;
        cfg.causal = true;
        Trace *trace = trace_build(&cfg, &err);
        ck_assert_msg(trace != NULL, "model layer %zu: %s", layer, err.message);
        /* every model row but gpt2_blocks at layer 0, gpt2_bpe (a text's only: these are ids) and the kv decode */
        ck_assert_int_eq(trace->n_steps,
                         (int)(trace_step_def_count() - trace_article_step_count()) - (layer == 0) - 1 - 1);
        check_steps_fill_their_rows(trace, layer == 0 ? "model layer 0" : "model layer 1");
        trace_free(trace);
        config_free(&cfg);
    }
}
END_TEST

/* A step holds TRACE_MAX_STEP_TENSORS tensors; one more stops the
 * program (SIGABRT) instead of writing past the array. */
START_TEST(test_show_past_the_bound_aborts)
{
    static TraceStep step;
    const TraceTensorDef def = {"t", 1, {DIM_SEQ}, true, false};
    memset(&step, 0, sizeof step);
    step.id = "test";
    for (int i = 0; i < TRACE_MAX_STEP_TENSORS; i++)
        ck_assert_int_eq(trace_step_show(&step, &def, "t", NULL), i);
    ck_assert_int_eq(step.n_tensors, TRACE_MAX_STEP_TENSORS);
    ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr)); /* this child's message is not the run's */
    trace_step_show(&step, &def, "t", NULL);                  /* aborts */
    ck_abort_msg("showing a tensor past TRACE_MAX_STEP_TENSORS returned");
}
END_TEST

/* fatal.h's promise: one line on stderr, "attn-trace: internal error at
 * FILE:LINE: " and the message, then SIGABRT. Checked in a child of its
 * own, whose stderr is a pipe. */
START_TEST(test_fatal_says_where)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        volatile int two = 2;
        ATTN_ASSERT(two + two == 5);
        _exit(0);
    }
    close(fds[1]);
    char got[256] = "";
    size_t used = 0;
    ssize_t n;
    while (used < sizeof got - 1 && (n = read(fds[0], got + used, sizeof got - 1 - used)) > 0)
        used += (size_t)n;
    close(fds[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the child ended with status %d", status);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "attn-trace: internal error at %s:", __FILE__);
    const char suffix[] = ": assertion failed: two + two == 5\n";
    ck_assert_msg(strncmp(got, prefix, strlen(prefix)) == 0, "stderr: %s", got);
    ck_assert_msg(strspn(got + strlen(prefix), "0123456789") > 0, "no line number: %s", got);
    ck_assert_msg(used > strlen(suffix) && strcmp(got + used - strlen(suffix), suffix) == 0, "stderr: %s", got);
}
END_TEST

/* A trace owns TRACE_MAX_VALUES tensors; one more is freed and refused
 * with an error that says why, and a NULL (a failed call) passes through
 * without touching the error. */
START_TEST(test_keep_when_full_sets_the_error)
{
    Trace *trace = calloc(1, sizeof *trace);
    ck_assert_ptr_nonnull(trace);
    Error err;
    error_clear(&err);
    ck_assert_ptr_null(trace_keep(trace, PART_SINGLE_HEAD, "x", NULL, &err));
    ck_assert_int_eq(err.status, STATUS_OK);
    for (int i = 0; i < TRACE_MAX_VALUES; i++) {
        Tensor *t = tensor_new1(1, &err);
        ck_assert_ptr_eq(trace_keep(trace, PART_MULTI_HEAD, "", t, &err), t);
    }
    ck_assert_int_eq(err.status, STATUS_OK);
    ck_assert_ptr_null(trace_keep(trace, PART_MULTI_HEAD, "one_more", tensor_new1(1, &err), &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    ck_assert_msg(strstr(err.message, "TRACE_MAX_VALUES") != NULL, "%s", err.message);
    ck_assert_int_eq(trace->n_owned, TRACE_MAX_VALUES);
    trace_free(trace); /* frees the 64; the refused one was freed already (valgrind, ASan) */
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
                    ck_assert_msg(v == 0.0f, "%s row %zu key %zu is %g under the mask", trace_part_name(parts[p]), r, j,
                                  (double)v);
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
        {"w_query", 3, {4, 16, 4}},          {"queries", 3, {4, 5, 4}},      {"scores", 3, {4, 5, 5}},
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
    tcase_add_test(tc, test_step_table_is_the_expected_list);
    tcase_add_test(tc, test_every_step_fills_its_row);
    tcase_add_test(tc, test_keep_when_full_sets_the_error);
    tcase_add_test(tc, test_names_are_unique_within_a_part);
    tcase_add_test(tc, test_focus_names_and_agreement);
    tcase_add_test(tc, test_causal_zeros_and_rows_sum_to_one);
    tcase_add_test(tc, test_multi_head_shapes_and_concat);
    tcase_add_test(tc, test_find_step);
    tcase_add_test(tc, test_memory_estimate_and_cap);
    tcase_add_test(tc, test_invalid_config_is_refused);
    suite_add_tcase(s, tc);
    /* an abort can only be expected of a child process: not under
     * CK_FORK=no (make valgrind), where every test runs in the runner */
    const char *fork_mode = getenv("CK_FORK");
    if (fork_mode == NULL || strcmp(fork_mode, "no") != 0) {
        TCase *fatal = tcase_create("fatal");
        tcase_add_test_raise_signal(fatal, test_show_past_the_bound_aborts, SIGABRT);
        tcase_add_test(fatal, test_fatal_says_where);
        suite_add_tcase(s, fatal);
    }
    return s;
}
