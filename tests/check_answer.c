/*
 * check_answer.c - the `=` answers that read a changed trace
 * (src/lesson/answer.c's changed(), and lesson.c evaluating the answers of
 * a step with `experiment:` on its changed trace).
 *
 * References are independent of answer.c: each changed trace is built here
 * with trace_build_experiments (whose traces tests/check_experiment.c
 * compares with the PyTorch fixtures of tests/fixtures/experiments), and
 * what changed() must count is counted twice: by trace_diff, and by a loop
 * of this file that compares the floats' bits itself (+0 and -0 the same,
 * two NaNs the same).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "experiment.h"
#include "fixture.h"
#include "floatfmt.h"
#include "lesson.h"
#include "suites.h"
#include "trace.h"

/* The trace of the article's configuration under spec (one change or a
 * list); fails the test when it does not build. */
static Trace *changed_trace(const Trace *original, const char *spec)
{
    ExperimentSet set;
    experiment_set_init(&set);
    Error err;
    error_clear(&err);
    ck_assert_msg(experiment_parse_list(&set, spec, &err), "%s: %s", spec, err.message);
    Trace *changed = trace_build_experiments(&original->config, NULL, &set, &err);
    ck_assert_msg(changed != NULL, "%s: %s", spec, err.message);
    return changed;
}

/* Whether two floats count as one value: the same bits, two zeros, or two
 * NaNs. */
static bool same_value(float a, float b)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    return ua == ub || (a == 0.0f && b == 0.0f) || (isnan(a) && isnan(b));
}

/* Elements first..first+count-1 of tensor name (in part) that differ
 * between a and b, counted by this file's own loop. */
static size_t count_differ(const Trace *a, const Trace *b, TracePart part, const char *name, size_t first, size_t count)
{
    const Tensor *ta = trace_find_tensor(a, part, name)->tensor, *tb = trace_find_tensor(b, part, name)->tensor;
    ck_assert_uint_eq(ta->size, tb->size);
    size_t n = 0;
    for (size_t i = first; i < first + count; i++)
        n += !same_value(ta->data[i], tb->data[i]);
    return n;
}

/* changed(NAME) evaluated on changed (against original), as a count. */
static size_t eval_changed(const Trace *changed, const Trace *original, TracePart part, const char *expr)
{
    AnswerValue v;
    Error err;
    error_clear(&err);
    ck_assert_msg(answer_eval_changed(changed, original, part, expr, &v, &err), "%s: %s", expr, err.message);
    ck_assert_int_eq(v.kind, ANSWER_NUMBER);
    ck_assert(v.number >= 0 && v.number == floor(v.number));
    return (size_t)v.number;
}

/* changed(X) over whole tensors, for several changes: trace_diff's count
 * and this file's own. */
START_TEST(test_changed_counts_whole_tensors)
{
    static const struct {
        const char *spec;
        TracePart part;
        const char *tensor;
    } CASES[] = {
        {"no-scale", PART_SINGLE_HEAD, "a1"},
        {"no-scale", PART_SINGLE_HEAD, "scores_1"},
        {"no-scale", PART_SINGLE_HEAD, "scaled_scores_1"},
        {"no-scale", PART_MULTI_HEAD, "attention_weights"},
        {"zero-head=1", PART_MULTI_HEAD, "head_outputs"},
        {"zero-head=1", PART_MULTI_HEAD, "concat_heads"},
        {"zero-head=1", PART_MULTI_HEAD, "attention_weights"},
        {"causal", PART_MULTI_HEAD, "attention_weights"},
        {"set=w_query[0,1]=2", PART_SINGLE_HEAD, "query_1"},
        {"set=w_query[0,1]=2", PART_SINGLE_HEAD, "a1"},
    };
    Trace *original = fixture_article_trace();
    size_t nonzero = 0, partial = 0;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        Trace *changed = changed_trace(original, CASES[c].spec);
        TraceDiff diff;
        Error err;
        error_clear(&err);
        ck_assert(trace_diff(original, changed, &diff, &err));
        const TensorDiff *d = trace_diff_find(&diff, CASES[c].part, CASES[c].tensor);
        ck_assert_msg(d != NULL, "%s", CASES[c].tensor);
        size_t size = trace_find_tensor(changed, CASES[c].part, CASES[c].tensor)->tensor->size;
        size_t own = count_differ(original, changed, CASES[c].part, CASES[c].tensor, 0, size);
        char expr[64];
        snprintf(expr, sizeof expr, "changed(%s)", CASES[c].tensor);
        size_t got = eval_changed(changed, original, CASES[c].part, expr);
        ck_assert_msg(got == d->changed && got == own, "%s under %s: changed() %zu, trace_diff %zu, own loop %zu",
                      CASES[c].tensor, CASES[c].spec, got, d->changed, own);
        nonzero += got > 0;
        partial += got > 0 && got < size;
        trace_diff_free(&diff);
        trace_free(changed);
    }
    ck_assert_uint_ge(nonzero, 8); /* the cases do change something */
    ck_assert_uint_ge(partial, 2); /* and not always every value */
    trace_free(original);
}
END_TEST

/* changed(X[i]): only the elements the indexes leave, per head and row. */
START_TEST(test_changed_counts_a_slice)
{
    Trace *original = fixture_article_trace();
    Trace *changed = changed_trace(original, "causal");
    const Tensor *w = trace_find_tensor(changed, PART_MULTI_HEAD, "attention_weights")->tensor;
    size_t S = w->shape[1], sum = 0;
    for (size_t h = 0; h < w->shape[0]; h++)
        for (size_t r = 0; r < S; r++) {
            char expr[96];
            snprintf(expr, sizeof expr, "changed(attention_weights[%zu][%zu])", h, r);
            size_t got = eval_changed(changed, original, PART_MULTI_HEAD, expr);
            ck_assert_uint_eq(got, count_differ(original, changed, PART_MULTI_HEAD, "attention_weights",
                                                (h * S + r) * S, S));
            sum += got;
        }
    ck_assert_uint_eq(sum, eval_changed(changed, original, PART_MULTI_HEAD, "changed(attention_weights)"));
    /* the causal mask: the last query row sees every key, so nothing in it changes */
    ck_assert_uint_eq(eval_changed(changed, original, PART_MULTI_HEAD, "changed(attention_weights[0][4])"), 0);
    trace_free(changed);
    trace_free(original);
}
END_TEST

/* Bad uses of changed(): with no original (no experiment:), an unknown
 * tensor, and count_changed, each an error at its place. */
START_TEST(test_changed_errors)
{
    Trace *original = fixture_article_trace();
    Trace *changed = changed_trace(original, "no-scale");
    AnswerValue v;
    Error err;
    error_clear(&err);
    ck_assert(!answer_eval_changed(changed, NULL, PART_SINGLE_HEAD, "changed(a1)", &v, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_uint_eq(err.at, 0);
    ck_assert_msg(strstr(err.message, "experiment:") != NULL, "%s", err.message);
    ck_assert(!answer_eval(original, PART_SINGLE_HEAD, " changed(a1)", &v, &err));
    ck_assert_uint_eq(err.at, 1);
    ck_assert(!answer_eval_changed(changed, original, PART_SINGLE_HEAD, "changed(a9)", &v, &err));
    ck_assert_uint_eq(err.at, 8);
    ck_assert_msg(strstr(err.message, "'a9' is not a tensor") != NULL, "%s", err.message);
    ck_assert(!answer_eval_changed(changed, original, PART_SINGLE_HEAD, "count_changed(a1)", &v, &err));
    ck_assert_msg(strstr(err.message, "changed()") != NULL, "%s", err.message);
    trace_free(changed);
    trace_free(original);
}
END_TEST

/* A repeated word names one token by its label's position, counted from 1
 * ("the(5)" is token 4); the word alone is refused, naming both labels. */
START_TEST(test_token_labels_index)
{
    Trace *trace = fixture_sentence_trace("the cat sat on the mat");
    const Config *cfg = &trace->config;
    Error err;
    error_clear(&err);
    ck_assert_int_eq(quiz_token_named(cfg, "cat", 3), 1);
    ck_assert_int_eq(quiz_token_named(cfg, "CAT(2)", 6), 1);
    ck_assert_int_eq(quiz_token_named(cfg, "the", 3), TOKEN_TWICE);
    ck_assert_int_eq(quiz_token_named(cfg, "the(1)", 6), 0);
    ck_assert_int_eq(quiz_token_named(cfg, "the(5)", 6), 4);
    ck_assert_int_eq(quiz_token_named(cfg, "the(05)", 7), TOKEN_NOT_NAMED); /* as no label writes it */
    ck_assert_int_eq(quiz_token_named(cfg, "the(3)", 6), TOKEN_NOT_NAMED);  /* token 3 is sat */
    ck_assert_int_eq(quiz_token_named(cfg, "the(7)", 6), TOKEN_NOT_NAMED);  /* 6 tokens */
    ck_assert_int_eq(quiz_token_named(cfg, "the(99999999999999999999)", 25), TOKEN_NOT_NAMED);
    ck_assert_int_eq(quiz_token_named(cfg, "(5)", 3), TOKEN_NOT_NAMED);
    ck_assert_int_eq(quiz_token_named(cfg, "the()", 5), TOKEN_NOT_NAMED);
    ck_assert_int_eq(quiz_token_named(cfg, "the5)", 5), TOKEN_NOT_NAMED);
    ck_assert_int_eq(quiz_token_named(cfg, "dog", 3), TOKEN_NOT_NAMED);

    const Tensor *a1 = trace_find_tensor(trace, PART_SINGLE_HEAD, "a1")->tensor;
    AnswerValue v;
    ck_assert_msg(answer_eval(trace, PART_SINGLE_HEAD, "a1[the(5)]", &v, &err), "%s", err.message);
    ck_assert_int_eq(v.kind, ANSWER_NUMBER);
    ck_assert_float_eq((float)v.number, a1->data[4]);
    ck_assert(answer_eval(trace, PART_SINGLE_HEAD, "a1[mat]", &v, &err));
    ck_assert_float_eq((float)v.number, a1->data[5]);
    ck_assert(!answer_eval(trace, PART_SINGLE_HEAD, "a1[the]", &v, &err));
    ck_assert_uint_eq(err.at, 3);
    ck_assert_msg(strstr(err.message, "the(1) or the(5)") != NULL, "%s", err.message);
    trace_free(trace);
}
END_TEST

static const char LESSON[] =
    "attn-lesson: 1\n"
    "title: changed answers\n"
    "steps: softmax mh_softmax\n"
    "\n"
    "## softmax\n"
    "experiment: no-scale\n"
    "\n"
    "Text.\n"
    "\n"
    "::: quiz\nkind: number\nquestion: How many values of a1 changed?\nanswer: =changed(a1)\n:::\n"
    "\n"
    "::: quiz\nkind: number\nquestion: a1 for my?\nanswer: =a1[my]\n:::\n"
    "\n"
    "## mh_softmax\n"
    "\n"
    "Text.\n"
    "\n"
    "::: quiz\nkind: number\nquestion: head 0, my on my?\nanswer: =attention_weights[0][my][my]\n"
    ":::\n";

/* A lesson's answers: in a step with experiment:, changed() is the count
 * and every other `=` answer reads the changed trace; in a step without
 * one, the original. */
START_TEST(test_lesson_answers_read_the_changed_trace)
{
    static Lesson lesson;
    LessonErrors errors;
    ck_assert_msg(lesson_parse(LESSON, strlen(LESSON), "test.lesson", &lesson, &errors), "%s",
                  strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    Error err;
    error_clear(&err);
    Trace *original = trace_build(&lesson.config, &err);
    ck_assert_msg(original != NULL, "%s", err.message);
    Trace *changed = changed_trace(original, "no-scale");
    size_t own = count_differ(original, changed, PART_SINGLE_HEAD, "a1", 0, 5);
    char count[32], want[FLOATFMT_BUF], was[FLOATFMT_BUF];
    snprintf(count, sizeof count, "%zu", own);
    ck_assert_str_eq(lesson.steps[0].quizzes[0].answer, count);
    floatfmt_shortest(trace_find_tensor(changed, PART_SINGLE_HEAD, "a1")->tensor->data[0], want);
    floatfmt_shortest(trace_find_tensor(original, PART_SINGLE_HEAD, "a1")->tensor->data[0], was);
    ck_assert_str_ne(want, was);
    ck_assert_str_eq(lesson.steps[0].quizzes[1].answer, want);
    floatfmt_shortest(trace_find_tensor(original, PART_MULTI_HEAD, "attention_weights")->tensor->data[0], was);
    ck_assert_str_eq(lesson.steps[1].quizzes[0].answer, was);
    /* bound again to a trace built from the command line: the same */
    ck_assert_msg(lesson_bind_answers(&lesson, "test.lesson", original, NULL, &err), "%s", err.message);
    ck_assert_str_eq(lesson.steps[0].quizzes[0].answer, count);
    ck_assert_str_eq(lesson.steps[0].quizzes[1].answer, want);
    trace_free(changed);
    trace_free(original);
    lesson_free(&lesson);
}
END_TEST

Suite *answer_suite(void)
{
    Suite *s = suite_create("answer");
    TCase *tc = tcase_create("changed");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_changed_counts_whole_tensors);
    tcase_add_test(tc, test_changed_counts_a_slice);
    tcase_add_test(tc, test_changed_errors);
    tcase_add_test(tc, test_token_labels_index);
    tcase_add_test(tc, test_lesson_answers_read_the_changed_trace);
    suite_add_tcase(s, tc);
    return s;
}
