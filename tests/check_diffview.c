/*
 * check_diffview.c - experiments in the tracer (src/ui/diffview.c): the
 * keys x, o and X, the changed values the screen marks and counts, the
 * inspector's two computations, the lesson keys `experiment:` and
 * `compare:`, the compare view's entropies, lessons/why-scale.lesson, and
 * the golden screens of the diff and compare views (tests/screens/diff-*,
 * compare-*; ATTN_UPDATE_SCREENS=1 rewrites them, as make screens does).
 *
 * References are independent of the code under test: the changed trace's
 * softmax is checked against a float64 softmax of the unscaled scores, and
 * an entropy against hand-worked cases and against the float64 identity
 * H = ln Z - Σ p x for p = softmax(x).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "compose.h"
#include "diffview.h"
#include "entropy.h"
#include "experiment.h"
#include "frame.h"
#include "keys.h"
#include "lesson.h"
#include "strbuf.h"
#include "fixture.h"
#include "suites.h"
#include "trace.h"
#include "view.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */


static const ViewOptions VIEW = {4, false, false, "my name is Marcello Politi", NULL};

/* Replays keys (vim notation) on app at rows x cols. */
static void press(App *app, const char *keys, int rows, int cols)
{
    KeyCode codes[256];
    size_t n;
    Error err;
    error_clear(&err);
    ck_assert_msg(keys_parse(keys, codes, 256, &n, &err), "%s", err.message);
    for (size_t i = 0; i < n; i++)
        app_handle_key(app, codes[i], rows, cols);
}

/* The screen of app at rows x cols, as --dump-screen writes it, into out. */
static void screen_text(const App *app, int rows, int cols, StrBuf *out)
{
    Frame frame;
    ck_assert(frame_init(&frame, rows, cols));
    app_compose(app, &frame);
    frame_to_text(&frame, out);
    frame_free(&frame);
}

/* The step index of id in trace. */
static int step_of(const Trace *trace, const char *id)
{
    int s = trace_find_step(trace, id, NULL);
    ck_assert_msg(s >= 0, "no step %s", id);
    return s;
}

/* The index of tensor name in step s. */
static int tensor_of(const Trace *trace, int s, const char *name)
{
    for (int t = 0; t < trace->steps[s].n_tensors; t++)
        if (strcmp(trace->steps[s].tensors[t].name, name) == 0)
            return t;
    ck_abort_msg("step %s shows no %s", trace->steps[s].id, name);
    return -1;
}

/* Parses a lesson from text; fails the test on an error. */
static void parse_lesson(const char *text, Lesson *lesson)
{
    LessonErrors errors;
    bool ok = lesson_parse(text, strlen(text), "test.lesson", lesson, &errors);
    ck_assert_msg(ok, "%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
}

static const char *screens_dir(void)
{
    const char *dir = getenv("ATTN_SCREENS_DIR");
    return dir != NULL && *dir != '\0' ? dir : "tests/screens";
}

/* Compares text with tests/screens/NAME.txt, or writes it when updating. */
static void check_golden(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.txt", screens_dir(), name);
    if (getenv("ATTN_UPDATE_SCREENS") != NULL) {
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "cannot write %s", path);
        fputs(text, f);
        fclose(f);
        return;
    }
    char *want = fixture_read_text(path);
    ck_assert_msg(want != NULL, "%s: %s (make screens writes it)", path, strerror(errno));
    int line = 1;
    const char *a = want, *b = text;
    while (*a != '\0' && *a == *b)
        line += *a++ == '\n', b++;
    ck_assert_msg(*a == *b, "%s differs from the composed screen at line %d", path, line);
    free(want);
}

/* ------------------------------------------------------------------------
 * Entropy
 * ---------------------------------------------------------------------- */

START_TEST(test_entropy_hand_cases)
{
    static const float uniform[5] = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
    static const float halves[3] = {0.5f, 0.5f, 0.0f};
    static const float one_hot[4] = {0.0f, 1.0f, 0.0f, 0.0f};
    static const float quarters[3] = {0.5f, 0.25f, 0.25f};
    ck_assert_double_eq_tol(entropy_bits(uniform, 5), log2(5.0), 1e-6); /* 0.2f is not exactly 1/5 */
    ck_assert_double_eq_tol(entropy_bits(halves, 3), 1.0, 1e-12);
    ck_assert_double_eq_tol(entropy_bits(one_hot, 4), 0.0, 1e-12);
    ck_assert_double_eq_tol(entropy_bits(quarters, 3), 1.5, 1e-12);
    ck_assert_double_eq_tol(entropy_bits(uniform, 0), 0.0, 1e-12);
    ck_assert_double_eq_tol(entropy_max_bits(5), log2(5.0), 1e-12);
    ck_assert_double_eq_tol(entropy_max_bits(1), 0.0, 1e-12);
}
END_TEST

/* H(softmax(x)) in bits by the identity H = ln Z + m - Σ p x (Z the sum
 * of exp(x - m)), all in float64: another route to the same number. */
static double softmax_entropy_reference(const float *x, size_t n)
{
    double m = -INFINITY, z = 0.0, px = 0.0;
    for (size_t i = 0; i < n; i++)
        m = x[i] > m ? x[i] : m;
    for (size_t i = 0; i < n; i++)
        z += exp((double)x[i] - m);
    for (size_t i = 0; i < n; i++)
        px += exp((double)x[i] - m) / z * (double)x[i];
    return (log(z) + m - px) / log(2.0);
}

START_TEST(test_entropy_of_the_article_softmax)
{
    Trace *trace = fixture_article_trace();
    const TraceTensor *a1 = trace_find_tensor(trace, PART_SINGLE_HEAD, "a1");
    const TraceTensor *x = trace_find_tensor(trace, PART_SINGLE_HEAD, "scaled_scores_1");
    ck_assert_ptr_nonnull(a1);
    ck_assert_ptr_nonnull(x);
    double h = entropy_bits(a1->tensor->data, a1->tensor->size);
    ck_assert_double_eq_tol(h, softmax_entropy_reference(x->tensor->data, x->tensor->size), 1e-5);
    ck_assert(h > 0.0 && h < log2(5.0));
    trace_free(trace);
}
END_TEST

/* ------------------------------------------------------------------------
 * The keys
 * ---------------------------------------------------------------------- */

START_TEST(test_keys_are_bound)
{
    ck_assert_int_eq(keys_action('x'), ACTION_EXPERIMENT);
    ck_assert_int_eq(keys_action('o'), ACTION_ORIGINAL);
    ck_assert_int_eq(keys_action('X'), ACTION_RESET);
    ck_assert_str_eq(keys_action_group(ACTION_EXPERIMENT), "Experiments");
}
END_TEST

/* x no-scale on the softmax step: a changed trace whose a1 is the float64
 * softmax of the unscaled scores, every value of a1 marked and counted,
 * o and X as documented. */
START_TEST(test_no_scale_from_the_key)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &VIEW);
    int s = step_of(trace, "softmax");
    app_go(&app, s);
    press(&app, "xno-scale<Enter>", 24, 80);
    ck_assert_msg(view_has_changes(&app), "note: %s", app.note);
    ck_assert(!app.note_is_error);
    ck_assert_ptr_eq(app.trace, app.changed);
    ck_assert_ptr_eq(app.other, trace);
    /* the changed a1 against a float64 softmax of scores_1, undivided */
    const TraceTensor *scores = trace_find_tensor(trace, PART_SINGLE_HEAD, "scores_1");
    int t = tensor_of(app.trace, s, "a1");
    const Tensor *a1 = app.trace->steps[s].tensors[t].tensor;
    double m = -INFINITY, z = 0.0;
    for (size_t i = 0; i < 5; i++)
        m = scores->tensor->data[i] > m ? scores->tensor->data[i] : m;
    for (size_t i = 0; i < 5; i++)
        z += exp((double)scores->tensor->data[i] - m);
    size_t differ = 0;
    for (size_t i = 0; i < 5; i++) {
        ck_assert_double_eq_tol(a1->data[i], exp((double)scores->tensor->data[i] - m) / z, 1e-6);
        bool changed = a1->data[i] != trace->steps[s].tensors[t].tensor->data[i];
        differ += changed;
        ck_assert_int_eq(view_value_changed(&app, s, t, i), changed);
    }
    ck_assert_uint_eq(differ, 5);
    /* on screen: each changed value's mark, in the changed role */
    Frame frame;
    ck_assert(frame_init(&frame, 24, 80));
    app_compose(&app, &frame);
    int marks = 0;
    for (int k = 0; k < frame.rows * frame.cols; k++)
        marks += frame.cells[k].ch == 0x394 && frame.cells[k].role == ROLE_CHANGED;
    frame_free(&frame);
    ck_assert_int_eq(marks, 10); /* scaled_scores_1 and a1, 5 each */
    /* the status area counts them */
    StrBuf text = {0};
    view_diff_summary(&app, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "a1 5/5") != NULL, "%s", strbuf_text(&text));
    ck_assert_msg(strstr(strbuf_text(&text), "changed by no-scale") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    /* o: the original on screen; o again: the changed one; X: all undone */
    press(&app, "o", 24, 80);
    ck_assert_ptr_eq(app.trace, trace);
    ck_assert(view_on_original(&app));
    press(&app, "o", 24, 80);
    ck_assert_ptr_eq(app.trace, app.changed);
    press(&app, "X", 24, 80);
    ck_assert(!view_has_changes(&app));
    ck_assert_ptr_eq(app.trace, trace);
    app_release(&app);
    trace_free(trace);
}
END_TEST

/* x kv-cache in the tracer: on a causal trace the decode step joins the
 * walk after the last one, its status line says whether kv_output equals
 * the full causal attention's row bit for bit (checked here against the
 * head_outputs of a causal trace built without the cache), o is refused on
 * it and X leaves it; on the article's (not causal) trace the prompt says
 * why in one line and changes nothing. */
START_TEST(test_kv_cache_from_the_key)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &VIEW);
    int n_walk = app.n_walk;
    press(&app, "xkv-cache<Enter>", 24, 80);
    ck_assert(!view_has_changes(&app));
    ck_assert(app.note_is_error);
    ck_assert_msg(strstr(app.note, "causal kv-cache") != NULL && strchr(app.note, '\n') == NULL, "%s", app.note);
    ck_assert_int_eq(app.n_walk, n_walk);

    press(&app, "xcausal kv-cache=3<Enter>", 24, 80);
    ck_assert_msg(view_has_changes(&app) && !app.note_is_error, "%s", app.note);
    ck_assert_int_eq(app.n_walk, n_walk + 1);
    press(&app, "G", 24, 80);
    ck_assert_str_eq(app.trace->steps[app.step].id, "mh_kv_decode");
    /* the reference: head_outputs[:, 3, :] of a causal trace, no cache */
    ExperimentSet set;
    experiment_set_init(&set);
    Error err;
    error_clear(&err);
    ck_assert(experiment_parse(&set, "causal", &err));
    Trace *causal = trace_build_experiments(&trace->config, NULL, &set, &err);
    ck_assert_msg(causal != NULL, "%s", err.message);
    const Tensor *full = trace_find_tensor(causal, PART_MULTI_HEAD, "head_outputs")->tensor;
    const Tensor *kv = app.trace->steps[app.step].tensors[tensor_of(app.trace, app.step, "kv_output")].tensor;
    size_t H = full->shape[0], S = full->shape[1], E = full->shape[2];
    ck_assert_uint_eq(kv->size, H * E);
    for (size_t h = 0; h < H; h++)
        ck_assert_msg(memcmp(kv->data + h * E, full->data + (h * S + 3) * E, E * sizeof(float)) == 0, "head %zu", h);
    trace_free(causal);
    StrBuf text = {0};
    view_diff_summary(&app, &text);
    ck_assert_str_eq(strbuf_text(&text), "kv_output = head_outputs[:,3,:], bit for bit; changed by causal kv-cache=3");
    strbuf_free(&text);
    /* the decode's values have nothing to be compared with: no marks */
    ck_assert(!view_value_changed(&app, app.step, tensor_of(app.trace, app.step, "kv_output"), 0));
    press(&app, "o", 24, 80);
    ck_assert_ptr_eq(app.trace, app.changed);
    ck_assert_msg(strstr(app.note, "no step mh_kv_decode") != NULL, "%s", app.note);
    press(&app, "<Enter>", 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_INSPECT);
    press(&app, "<Esc>bo", 24, 80);
    ck_assert(view_on_original(&app));
    ck_assert_int_eq(app.n_walk, n_walk); /* the original has no decode to walk to */
    press(&app, "oGX", 24, 80);
    ck_assert(!view_has_changes(&app));
    ck_assert_int_eq(app.n_walk, n_walk);
    ck_assert_int_eq(app.pos, n_walk - 1);
    ck_assert_int_lt(app.step, trace->n_steps);
    app_release(&app);
    trace_free(trace);
}
END_TEST

/* The changed marks drawn on app's screen at rows x cols. */
static int changed_marks(const App *app, int rows, int cols)
{
    Frame frame;
    ck_assert(frame_init(&frame, rows, cols));
    app_compose(app, &frame);
    int marks = 0;
    for (int k = 0; k < frame.rows * frame.cols; k++)
        marks += frame.cells[k].ch == 0x394 && frame.cells[k].role == ROLE_CHANGED;
    frame_free(&frame);
    return marks;
}

/* While a quiz whose answer is =changed(...) is open, the marks, the "was"
 * value and the counts are hidden; a wrong answer keeps them hidden, and
 * they come back once the quiz is answered, revealed or skipped. */
START_TEST(test_quiz_hides_what_changed)
{
    static Lesson lesson;
    LessonErrors errors;
    ck_assert_msg(lesson_load("lessons/why-scale.lesson", &lesson, &errors), "%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    Error err;
    error_clear(&err);
    Trace *trace = trace_build(&lesson.config, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    static const char *const CLOSE[] = {"5<Enter>", "<C-r>", "<Esc>"}; /* answered, revealed, skipped */
    for (size_t c = 0; c < sizeof CLOSE / sizeof CLOSE[0]; c++) {
        static App app;
        ViewOptions view = VIEW;
        view.title = lesson.title;
        app_init(&app, trace, &lesson, &view);
        app_go(&app, 1); /* scale: no-scale, compare: yes, one =changed quiz after */
        ck_assert_int_eq(changed_marks(&app, 24, 80), 10);
        press(&app, "<Space>", 24, 80);
        ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
        ck_assert(view_diff_hidden(&app));
        ck_assert_int_eq(changed_marks(&app, 24, 80), 0);
        StrBuf text = {0};
        view_diff_summary(&app, &text);
        ck_assert_msg(strstr(strbuf_text(&text), "no marks until answered") != NULL &&
                          strstr(strbuf_text(&text), "5/5") == NULL,
                      "%s", strbuf_text(&text));
        strbuf_free(&text);
        screen_text(&app, 24, 80, &text);
        ck_assert_msg(strstr(strbuf_text(&text), "(was ") == NULL, "%s", strbuf_text(&text));
        strbuf_free(&text);
        press(&app, "4<Enter>", 24, 80); /* wrong: still open, still hidden */
        ck_assert(view_diff_hidden(&app));
        ck_assert_int_eq(changed_marks(&app, 24, 80), 0);
        press(&app, "<BS>", 24, 80);
        press(&app, CLOSE[c], 24, 80);
        ck_assert_msg(!view_diff_hidden(&app), "after %s", CLOSE[c]);
        ck_assert_int_gt(changed_marks(&app, 24, 80), 0);
        view_diff_summary(&app, &text);
        ck_assert_msg(strstr(strbuf_text(&text), "scaled_scores_1 5/5") != NULL, "%s", strbuf_text(&text));
        strbuf_free(&text);
        app_release(&app);
    }
    /* a quiz with another answer hides nothing: the token quiz of all_tokens */
    static App app;
    app_init(&app, trace, &lesson, &VIEW);
    app_go(&app, 3);
    press(&app, "<Space>", 24, 80);
    ck_assert(view_diff_hidden(&app)); /* =changed(attention_weights) */
    press(&app, "<Esc><Space>", 24, 80);
    ck_assert(view_diff_hidden(&app)); /* =changed(attention_weights[marcello]) */
    press(&app, "<Esc><Space>", 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
    ck_assert(!view_diff_hidden(&app)); /* the token quiz */
    ck_assert_int_gt(changed_marks(&app, 24, 80), 0);
    app_release(&app);
    trace_free(trace);
    lesson_free(&lesson);
}
END_TEST

/* A change that does not fit the trace is refused on the status line; the
 * tracer goes on, unchanged. */
START_TEST(test_bad_change_on_the_status_line)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &VIEW);
    static const char *const BAD[] = {"xzero-head=9<Enter>", "xset=nothing[0]=1<Enter>", "xno-sclae<Enter>",
                                      "xset=a1[7]=1<Enter>"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        press(&app, BAD[i], 24, 80);
        ck_assert_msg(app.note_is_error && app.note[0] != '\0', "%s: no error", BAD[i]);
        ck_assert(!view_has_changes(&app));
        StrBuf text = {0};
        screen_text(&app, 24, 80, &text);
        char start[24];
        memcpy(start, app.note, sizeof start - 1);
        start[sizeof start - 1] = '\0';
        ck_assert_msg(strstr(strbuf_text(&text), start) != NULL, "%s: the note is not on screen", BAD[i]);
        strbuf_free(&text);
    }
    press(&app, "xno-scale<Esc>", 24, 80); /* Esc: nothing applied */
    ck_assert(!view_has_changes(&app));
    app_release(&app);
    trace_free(trace);
}
END_TEST

/* The inspector of a changed value writes both computations. */
START_TEST(test_inspector_shows_both)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &VIEW);
    app_go(&app, step_of(trace, "scale"));
    press(&app, "xno-scale<Enter><Enter>", 24, 80);
    StrBuf text = {0};
    screen_text(&app, 24, 80, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "Changed by no-scale (on screen)") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    int lines, window;
    ck_assert(compose_overlay_extent(&app, 24, 80, &lines, &window));
    press(&app, "<PageDown><PageDown><PageDown>", 24, 80);
    StrBuf end = {0};
    screen_text(&app, 24, 80, &end);
    ck_assert_msg(strstr(strbuf_text(&end), "In the original trace") != NULL, "%s", strbuf_text(&end));
    strbuf_free(&end);
    app_release(&app);
    trace_free(trace);
}
END_TEST

/* ------------------------------------------------------------------------
 * Lessons
 * ---------------------------------------------------------------------- */

static const char COMPARE_LESSON[] =
    "attn-lesson: 1\n"
    "title: Compare\n"
    "steps: scale softmax all_tokens\n"
    "\n"
    "## softmax\n"
    "experiment: no-scale\n"
    "compare: yes\n"
    "\n"
    "Text.\n"
    "\n"
    "## all_tokens\n"
    "experiment: no-scale\n"
    "compare: yes\n"
    "\n"
    "More text.\n";

START_TEST(test_lesson_keys_parse)
{
    static Lesson lesson;
    parse_lesson(COMPARE_LESSON, &lesson);
    ck_assert_str_eq(lesson.steps[0].experiment, "");
    ck_assert(!lesson.steps[0].compare);
    ck_assert_str_eq(lesson.steps[1].experiment, "no-scale");
    ck_assert(lesson.steps[1].compare);
    ck_assert_int_eq(lesson.steps[1].experiment_line, 6);
    ck_assert_str_eq(lesson.steps[1].text, "Text.");
    lesson_free(&lesson);
    /* bad values: exit 65 with file:line:col */
    static const struct {
        const char *body, *want;
    } BAD[] = {
        {"experiment: zero-head=4\n", "test.lesson:6:13: experiment: "},
        {"experiment: no-scael\n", "test.lesson:6:13: experiment: "},
        {"compare: perhaps\n", "test.lesson:6:10: 'compare:' is 'yes' or 'no'"},
        {"experimnt: no-scale\n", "test.lesson:6:1: unknown section key 'experimnt' (did you mean 'experiment'?)"},
        {"experiment: no-scale\nexperiment: no-mask\n", "test.lesson:7:1: repeated section key 'experiment'"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "attn-lesson: 1\ntitle: T\nsteps: softmax\n\n## softmax\n%s\nText.\n", BAD[i].body);
        LessonErrors errors;
        ck_assert(!lesson_parse(text, strlen(text), "test.lesson", &lesson, &errors));
        ck_assert_int_eq(errors.first.status, STATUS_DATAERR);
        ck_assert_msg(strstr(strbuf_text(&errors.text), BAD[i].want) != NULL, "case %zu: %s", i,
                      strbuf_text(&errors.text));
        lesson_errors_free(&errors);
    }
}
END_TEST

/* The lesson's step runs under its change, shown beside the original;
 * the next step without one is the original again. */
START_TEST(test_lesson_compare_view)
{
    Trace *trace = fixture_article_trace();
    static Lesson lesson;
    parse_lesson(COMPARE_LESSON, &lesson);
    static App app;
    app_init(&app, trace, &lesson, &VIEW);
    ck_assert(!view_has_changes(&app)); /* scale: no experiment */
    press(&app, "<Space>", 24, 80);
    ck_assert(view_has_changes(&app));
    ck_assert(view_comparing(&app));
    StrBuf text = {0};
    screen_text(&app, 24, 80, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "original") != NULL && strstr(strbuf_text(&text), "no-scale") != NULL,
                  "%s", strbuf_text(&text));
    strbuf_free(&text);
    press(&app, "b", 24, 80);
    ck_assert(!view_has_changes(&app));
    app_release(&app);
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* lessons/why-scale.lesson: parses, walks its steps under no-scale, and
 * its "how many changed" answers are the counts trace_diff finds. */
START_TEST(test_why_scale_lesson)
{
    static Lesson lesson;
    LessonErrors errors;
    ck_assert_msg(lesson_load("lessons/why-scale.lesson", &lesson, &errors), "%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    Error err;
    error_clear(&err);
    Trace *trace = trace_build(&lesson.config, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    int compared = 0, rows_checked = 0;
    for (int k = 0; k < lesson.n_steps; k++) {
        const LessonStep *ls = &lesson.steps[k];
        compared += ls->compare;
        if (ls->experiment[0] == '\0')
            continue;
        ExperimentSet set;
        experiment_set_init(&set);
        ck_assert(experiment_parse_list(&set, ls->experiment, &err));
        Trace *changed = trace_build_experiments(&lesson.config, NULL, &set, &err);
        ck_assert_msg(changed != NULL, "%s", err.message);
        TraceDiff diff;
        ck_assert(trace_diff(trace, changed, &diff, &err));
        /* a number quiz whose question asks how many values of NAME changed */
        for (int q = 0; q < ls->n_quizzes; q++) {
            const Quiz *quiz = &ls->quizzes[q];
            if (quiz->expr != NULL && strcmp(quiz->expr, "changed(attention_weights[marcello])") == 0) {
                const TensorDiff *w = trace_diff_find(&diff, PART_SINGLE_HEAD, "attention_weights");
                size_t row = 0; /* marcello is token 3: cells 15..19 */
                for (size_t i = 15; i < 20; i++)
                    row += trace_diff_cell_changed(w, i);
                char count[32];
                snprintf(count, sizeof count, "%zu", row);
                ck_assert_msg(quiz_check(quiz, count), "%s: the row changes %zu", quiz->question, row);
                rows_checked++;
            }
            const char *of = strstr(quiz->question, "values of ");
            if (quiz->kind != QUIZ_NUMBER || of == NULL || strstr(quiz->question, "changed") == NULL)
                continue;
            char name[TRACE_NAME_BYTES];
            ck_assert(sscanf(of + strlen("values of "), "%31[a-z_0-9]", name) == 1);
            const TensorDiff *d = trace_diff_find(&diff, trace->steps[step_of(trace, ls->id)].part, name);
            ck_assert_msg(d != NULL, "no tensor %s", name);
            ck_assert_msg(quiz_check(quiz, "0") == (d->changed == 0), "%s", quiz->question);
            char count[32];
            snprintf(count, sizeof count, "%zu", d->changed);
            ck_assert_msg(quiz_check(quiz, count), "%s: the trace changes %zu", quiz->question, d->changed);
        }
        trace_diff_free(&diff);
        trace_free(changed);
    }
    ck_assert_int_ge(compared, 2);
    ck_assert_int_eq(rows_checked, 1);
    trace_free(trace);
    lesson_free(&lesson);
}
END_TEST

/* The last row of app's screen at rows x cols, into line. */
static void footer_of(const App *app, int rows, int cols, char *line, size_t size)
{
    StrBuf text = {0};
    screen_text(app, rows, cols, &text);
    const char *all = strbuf_text(&text), *last = all;
    for (const char *p = all; *p != '\0'; p++)
        if (*p == '\n' && p[1] != '\0')
            last = p + 1;
    snprintf(line, size, "%s", last);
    strbuf_free(&text);
}

/* The footer under the experiment prompt lists the changes this trace
 * takes, whole, with an ellipsis when some had no room: causal on an
 * unmasked trace, no-mask and kv-cache on a masked one, never
 * no-positions on the article's trace. */
START_TEST(test_prompt_footer_fits_the_trace)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    for (int causal = 0; causal <= 1; causal++) {
        cfg.causal = causal;
        Trace *trace = trace_build(&cfg, &err);
        ck_assert_msg(trace != NULL, "%s", err.message);
        static App app;
        app_init(&app, trace, NULL, &VIEW);
        press(&app, "x", 24, 120);
        char line[1024];
        footer_of(&app, 24, 120, line, sizeof line);
        ck_assert_msg(strstr(line, causal ? " no-mask " : " causal ") != NULL, "%s", line);
        ck_assert_msg((strstr(line, "kv-cache") != NULL) == causal, "%s", line);
        ck_assert_msg(strstr(line, "no-positions") == NULL && strstr(line, "…") == NULL, "%s", line);
        ck_assert_msg(strstr(line, "swap-tokens=I,J") != NULL && strstr(line, "set=NAME[i,j]=V") != NULL, "%s", line);
        footer_of(&app, 12, 50, line, sizeof line);
        ck_assert_msg(strstr(line, "Enter apply  Esc cancel  no-scale") != NULL, "%s", line);
        ck_assert_msg(strstr(line, " …") != NULL && strstr(line, "set=NAME") == NULL, "%s", line);
        app_release(&app);
        trace_free(trace);
    }
    config_free(&cfg);
}
END_TEST

/* ------------------------------------------------------------------------
 * Golden screens
 * ---------------------------------------------------------------------- */

typedef struct DiffScreen {
    const char *name;   /* tests/screens/NAME.txt */
    const char *lesson; /* a lesson file, or NULL for the article's steps */
    const char *step;   /* step id to open on, or NULL */
    const char *keys;   /* replayed first */
    int cols, rows;
    bool no_color, ascii;
} DiffScreen;

static const DiffScreen SCREENS[] = {
    {"diff-softmax-no-scale", NULL, "softmax", "xno-scale<Enter>j", 80, 24, false, false},
    {"diff-softmax-no-scale-50x12", NULL, "softmax", "xno-scale<Enter>j", 50, 12, false, false},
    {"diff-softmax-original", NULL, "softmax", "xno-scale<Enter>o", 80, 24, false, false},
    {"diff-no-color-ascii", NULL, "mh_concat", "xzero-head=1<Enter>l", 80, 24, true, true},
    {"diff-inspect-scale", NULL, "scale", "xno-scale<Enter><Enter>", 80, 24, false, false},
    {"diff-prompt", NULL, "scores", "xzero-he", 80, 24, false, false},
    {"diff-error", NULL, "scores", "xzero-head=7<Enter>", 80, 24, false, false},
    {"diff-kv-decode", NULL, NULL, "xcausal kv-cache<Enter>G", 80, 24, false, false},
    {"diff-kv-decode-50x12", NULL, NULL, "xcausal kv-cache<Enter>G", 50, 12, false, false},
    {"diff-kv-refused", NULL, "mh_softmax", "xkv-cache<Enter>", 80, 24, false, false},
    {"quiz-changed-hidden", "lessons/why-scale.lesson", "scale", "<Space>", 80, 24, false, false},
    {"quiz-changed-hidden-50x12", "lessons/why-scale.lesson", "scale", "<Space>", 50, 12, false, false},
    {"quiz-changed-revealed", "lessons/why-scale.lesson", "scale", "<Space><C-r>", 80, 24, false, false},
    {"compare-softmax", "lessons/why-scale.lesson", "softmax", "", 80, 24, false, false},
    {"compare-softmax-50x12", "lessons/why-scale.lesson", "softmax", "", 50, 12, false, false},
    {"compare-all-tokens", "lessons/why-scale.lesson", "all_tokens", "", 80, 24, false, false},
    {"compare-all-tokens-50x12", "lessons/why-scale.lesson", "all_tokens", "", 50, 12, false, false},
};

START_TEST(test_golden_diff_screens)
{
    Trace *article = fixture_article_trace();
    for (size_t c = 0; c < sizeof SCREENS / sizeof SCREENS[0]; c++) {
        const DiffScreen *sc = &SCREENS[c];
        static Lesson lesson;
        Trace *trace = article;
        if (sc->lesson != NULL) {
            LessonErrors errors;
            ck_assert_msg(lesson_load(sc->lesson, &lesson, &errors), "%s", strbuf_text(&errors.text));
            lesson_errors_free(&errors);
            Error err;
            error_clear(&err);
            trace = trace_build(&lesson.config, &err);
            ck_assert_msg(trace != NULL, "%s", err.message);
        }
        static App app;
        ViewOptions view = VIEW;
        view.no_color = sc->no_color;
        view.ascii = sc->ascii;
        if (sc->lesson != NULL)
            view.title = lesson.title;
        app_init(&app, trace, sc->lesson != NULL ? &lesson : NULL, &view);
        if (sc->step != NULL) {
            int s = step_of(trace, sc->step);
            for (int k = 0; k < app.n_walk; k++)
                if (app.walk[k] == s)
                    app_go(&app, k);
        }
        press(&app, sc->keys, sc->rows, sc->cols);
        StrBuf text = {0};
        screen_text(&app, sc->rows, sc->cols, &text);
        check_golden(sc->name, strbuf_text(&text));
        strbuf_free(&text);
        app_release(&app);
        if (sc->lesson != NULL) {
            trace_free(trace);
            lesson_free(&lesson);
        }
    }
    trace_free(article);
}
END_TEST

Suite *diffview_suite(void)
{
    Suite *s = suite_create("diffview");
    TCase *tc = tcase_create("diffview");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_entropy_hand_cases);
    tcase_add_test(tc, test_entropy_of_the_article_softmax);
    tcase_add_test(tc, test_keys_are_bound);
    tcase_add_test(tc, test_no_scale_from_the_key);
    tcase_add_test(tc, test_kv_cache_from_the_key);
    tcase_add_test(tc, test_bad_change_on_the_status_line);
    tcase_add_test(tc, test_inspector_shows_both);
    tcase_add_test(tc, test_lesson_keys_parse);
    tcase_add_test(tc, test_lesson_compare_view);
    tcase_add_test(tc, test_why_scale_lesson);
    tcase_add_test(tc, test_quiz_hides_what_changed);
    tcase_add_test(tc, test_golden_diff_screens);
    tcase_add_test(tc, test_prompt_footer_fits_the_trace);
    suite_add_tcase(s, tc);
    return s;
}
