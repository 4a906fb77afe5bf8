/*
 * check_lessonmodel.c - lessons that walk a model (docs/lesson-format.md,
 * "Lessons that walk a model"): the header's model: and layer:, the step
 * block's layer:, model: and sentence:, and their compare view.
 *
 * The parser's rows, good and bad, with the message and status each
 * gives; `=` answers of a step with its own trace against the value read
 * straight from a trace that the command line builds of the same model,
 * layer and tokens (those traces are checked against PyTorch in
 * check_model_trace and check_tiny); one trace per distinct (model,
 * layer, tokens); the App putting a step's own trace on screen and
 * taking it back; and the golden screens of the compare view
 * (tests/screens/lessonmodel-*.txt).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "compose.h"
#include "diffview.h"
#include "frame.h"
#include "keys.h"
#include "fixture.h"
#include "lesson.h"
#include "lessonview.h"
#include "strbuf.h"
#include "suites.h"
#include "trace.h"
#include "view.h"

/* Lessons are parsed under this name, so that model: paths are relative
 * to tests/lessons-model (which holds models/twin). */
#define LESSON_NAME "tests/lessons-model/test.lesson"

/* The header every good model lesson below starts with. */
#define HEAD "attn-lesson: 1\ntitle: t\nmodel: tiny\n"
#define SENTENCE "The old farmer paints a green boat near the river."
#define D16 "../fixtures/gpt2/d16_h2_l2_f32"

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* Parses text as LESSON_NAME; fails the test on an error. */
static void parse_ok(const char *text, Lesson *lesson)
{
    LessonErrors errors;
    bool ok = lesson_parse(text, strlen(text), LESSON_NAME, lesson, &errors);
    ck_assert_msg(ok, "expected no error, got:\n%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
}

/* Runs argv (a NULL-terminated list after the program's name) through
 * cli_parse and trace_build, as main does for a model trace. */
static Trace *trace_of_args(const char *const *args)
{
    static char program[] = "attn-trace";
    char *argv[16] = {program};
    int argc = 1;
    for (; args[argc - 1] != NULL && argc < 16; argc++)
        argv[argc] = (char *)args[argc - 1];
    Options opts;
    Error err;
    error_clear(&err);
    ck_assert_msg(cli_parse(argc, argv, &opts, &err), "%s", err.message);
    Trace *trace = trace_build(&opts.config, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    cli_options_free(&opts);
    return trace;
}

/* The value at flat offset of tensor name of step id in trace. */
static float value_at(const Trace *trace, const char *id, const char *name, size_t offset)
{
    int s = trace_find_step(trace, id, NULL);
    ck_assert_msg(s >= 0, "no step %s", id);
    for (int t = 0; t < trace->steps[s].n_tensors; t++)
        if (strcmp(trace->steps[s].tensors[t].name, name) == 0) {
            const Tensor *x = trace->steps[s].tensors[t].tensor;
            ck_assert_msg(offset < x->size, "%s has %zu values", name, x->size);
            return x->data[offset];
        }
    ck_abort_msg("step %s shows no %s", id, name);
    return 0.0f;
}

/* ------------------------------------------------------------------------
 * The parser: good and bad rows
 * ---------------------------------------------------------------------- */

typedef struct ParseRow {
    const char *what;
    const char *text;
    int status;           /* STATUS_OK, STATUS_DATAERR or STATUS_NOINPUT */
    const char *expected; /* the first error line (after "LESSON_NAME:"), or the walk's step count as text */
} ParseRow;

static const ParseRow ROWS[] = {
    {"the default walk at layer 0", HEAD "sentence: " SENTENCE "\n", STATUS_OK, "12"},
    {"the default walk at layer 1 has gpt2_blocks", HEAD "layer: 1\nsentence: " SENTENCE "\n", STATUS_OK, "13"},
    {"token ids have no gpt2_bpe", HEAD "token-ids: 5 9 12\n", STATUS_OK, "11"},
    {"a model found relative to the lesson", "attn-lesson: 1\ntitle: t\nmodel: models/twin\n", STATUS_OK, "12"},
    {"a step block with its own layer",
     HEAD "steps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nlayer: 1\ncompare: yes\n:::\n", STATUS_OK, "1"},
    {"an unknown model", "attn-lesson: 1\ntitle: t\nmodel: nope\n", STATUS_NOINPUT, "3:8: model: nope: no such model"},
    {"the header's layer out of range", HEAD "layer: 5\n", STATUS_DATAERR,
     "4:8: layer 5 is out of range: tiny has n_layer 2 (layers 0 to 1)"},
    {"a layer that is not a number", HEAD "layer: one\n", STATUS_DATAERR,
     "4:8: layer must be a whole number, got 'one'"},
    {"an article key with model", HEAD "d-model: 8\n", STATUS_DATAERR,
     "4:1: 'd-model:' sets the article's computation: with 'model:' the checkpoint decides it"},
    {"seed with model", HEAD "seed: 3\n", STATUS_DATAERR, "4:1: 'seed:' sets the article's computation"},
    {"a model step without model", "attn-lesson: 1\ntitle: t\nsteps: gpt2_softmax\n", STATUS_DATAERR,
     "3:8: step 'gpt2_softmax' is a model's step: a lesson walks it with 'model:' in its header"},
    {"an article step with model", HEAD "steps: softmax\n", STATUS_DATAERR,
     "4:8: step 'softmax' is the article's: a lesson with 'model:' walks the model's steps (gpt2_bpe, ...)"},
    {"an article section with model", HEAD "\n## softmax\n", STATUS_DATAERR, "5:4: step 'softmax' is the article's"},
    {"layer without model", "attn-lesson: 1\ntitle: t\nlayer: 1\n", STATUS_DATAERR, "3:1: 'layer:' goes with 'model:'"},
    {"gpt2_blocks at layer 0", HEAD "steps: gpt2_blocks\n", STATUS_DATAERR,
     "4:8: step 'gpt2_blocks' shows the blocks before the layer traced: it needs 'layer: 1' or more in the header"},
    {"sentence and token-ids together", HEAD "sentence: a b\ntoken-ids: 1 2\n", STATUS_DATAERR,
     "5:1: give 'sentence:' or 'token-ids:' with 'model:', not both"},
    {"a token id past the vocabulary", HEAD "token-ids: 5 600\n", STATUS_DATAERR, "4:12: "},
    {"a step's layer out of range", HEAD "steps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nlayer: 2\n:::\n",
     STATUS_DATAERR, "8:8: layer 2 is out of range: tiny has n_layer 2 (layers 0 to 1)"},
    {"a step's unknown model", HEAD "steps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nmodel: tiny-nope\n:::\n",
     STATUS_NOINPUT, "8:8: model: tiny-nope: no such model"},
    {"a step block's layer in an article lesson",
     "attn-lesson: 1\ntitle: t\nsteps: softmax\n\n## softmax\n::: step\nlayer: 1\n:::\n", STATUS_DATAERR,
     "7:1: 'layer:' in a step block goes with 'model:' in the header"},
    {"a step's own trace without the step",
     HEAD "layer: 1\nsteps: gpt2_blocks\n\n## gpt2_blocks\n::: step\nlayer: 0\n:::\n", STATUS_DATAERR,
     "9:8: this step's own trace has no step 'gpt2_blocks' (layer 0 has no blocks before it)"},
    {"an own trace and an experiment",
     HEAD "steps: gpt2_softmax\n\n## gpt2_softmax\nexperiment: no-scale\n::: step\nlayer: 1\n:::\n", STATUS_DATAERR,
     "9:8: a step with its own 'model:', 'layer:' or 'sentence:' cannot also run the experiment of line 7"},
    {"compare: yes naming no trace", HEAD "steps: gpt2_softmax\n\n## gpt2_softmax\n::: step\ncompare: yes\n:::\n",
     STATUS_DATAERR, "8:1: 'compare: yes' in a step block sets the step's own trace"},
    {"a step's tokens past another model's vocabulary",
     HEAD "token-ids: 5 100\nsteps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nmodel: " D16 "\n:::\n", STATUS_DATAERR,
     "9:8: token id "},
    {"a step's text longer than another model's positions",
     HEAD "sentence: " SENTENCE " " SENTENCE "\nsteps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nmodel: " D16
          "\n:::\n",
     STATUS_DATAERR, "9:8: 27 tokens are more than d16_h2_l2_f32's n_positions (16)"},
    {"an answer that does not fit the step's trace",
     HEAD "token-ids: 5 9 12\nsteps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nmodel: " D16 "\n:::\n"
          "::: quiz\nkind: number\nquestion: q\nanswer: =attention_weights[2][0][0]\n:::\n",
     STATUS_DATAERR, "14:28: index 2 is out of range: dimension 1 of attention_weights runs from 0 to 1"},
};

START_TEST(test_parse_rows)
{
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        const ParseRow *row = &ROWS[i];
        static Lesson lesson;
        LessonErrors errors;
        bool ok = lesson_parse(row->text, strlen(row->text), LESSON_NAME, &lesson, &errors);
        if (row->status == STATUS_OK) {
            ck_assert_msg(ok, "%s: expected no error, got:\n%s", row->what, strbuf_text(&errors.text));
            char count[16];
            snprintf(count, sizeof count, "%d", lesson.n_steps);
            ck_assert_msg(strcmp(count, row->expected) == 0, "%s: %s steps, expected %s", row->what, count,
                          row->expected);
            lesson_free(&lesson);
        } else {
            char want[512];
            snprintf(want, sizeof want, "%s:%s", LESSON_NAME, row->expected);
            ck_assert_msg(!ok, "%s: parsed, expected an error", row->what);
            ck_assert_msg(strncmp(errors.first.message, want, strlen(want)) == 0, "%s:\n expected %s\n got      %s",
                          row->what, want, errors.first.message);
            ck_assert_msg(errors.first.status == row->status, "%s: status %d, expected %d", row->what,
                          errors.first.status, row->status);
        }
        lesson_errors_free(&errors);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Answers against each step's own trace
 * ---------------------------------------------------------------------- */

/* A lesson whose steps trace the header's layer 0, layer 1, another text,
 * and a second checkpoint (tests/fixtures/gpt2/d16_h2_l2_f32, through
 * token ids below its vocabulary). */
static const char ANSWERS[] = HEAD
    "token-ids: 5 9 12 5 9 12 7\n"
    "steps: gpt2_scores gpt2_softmax gpt2_weighted_sum gpt2_next_token\n"
    "\n## gpt2_scores\n"
    "::: quiz\nkind: number\nquestion: q\nanswer: =scores[3][6][2]\n:::\n"
    "\n## gpt2_softmax\n::: step\nlayer: 1\ncompare: yes\n:::\n"
    "::: quiz\nkind: number\nquestion: q\nanswer: =attention_weights[1][5][2]\n:::\n"
    "::: quiz\nkind: number\nquestion: q\nanswer: =argmax(attention_weights[2][6])\n:::\n"
    "::: quiz\nkind: token\nquestion: q\nanswer: =argmax(attention_weights[2][6])\n:::\n"
    "\n## gpt2_weighted_sum\n::: step\nlayer: 1\n:::\n"
    "::: quiz\nkind: number\nquestion: q\nanswer: =head_outputs[0][4][3]\n:::\n"
    "\n## gpt2_next_token\n::: step\nmodel: " D16
    "\n:::\n"
    "::: quiz\nkind: number\nquestion: q\nanswer: =max(next_token_probs)\n:::\n";

/* The position of the largest of a row of n values (the first of a tie). */
static size_t argmax_of(const Trace *trace, const char *id, const char *name, size_t start, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (value_at(trace, id, name, start + i) > value_at(trace, id, name, start + best))
            best = i;
    return best;
}

START_TEST(test_answers_read_each_steps_trace)
{
    static Lesson lesson;
    parse_ok(ANSWERS, &lesson);
    const char *ids = "5 9 12 5 9 12 7";
    const char *l0[] = {"--model", "tiny", "--token-ids", ids, NULL};
    const char *l1[] = {"--model", "tiny", "--layer", "1", "--token-ids", ids, NULL};
    const char *d16[] = {"--model", "tests/fixtures/gpt2/d16_h2_l2_f32", "--token-ids", ids, NULL};
    Trace *t0 = trace_of_args(l0), *t1 = trace_of_args(l1), *t16 = trace_of_args(d16);
    const size_t s = 7; /* tokens */

    /* the header's trace: layer 0 */
    ck_assert_ptr_null(lesson_step_trace(&lesson, 0));
    ck_assert_float_eq((float)lesson.steps[0].quizzes[0].number,
                       value_at(t0, "gpt2_scores", "scores", (3 * s + 6) * s + 2));
    /* layer 1, read from the step's own trace */
    const Trace *own = lesson_step_trace(&lesson, 1);
    ck_assert_ptr_nonnull(own);
    ck_assert_uint_eq(own->config.layer, 1);
    float w = value_at(t1, "gpt2_softmax", "attention_weights", (1 * s + 5) * s + 2);
    ck_assert_float_eq((float)lesson.steps[1].quizzes[0].number, w);
    ck_assert_float_ne(w, value_at(t0, "gpt2_softmax", "attention_weights", (1 * s + 5) * s + 2));
    size_t best_key = argmax_of(t1, "gpt2_softmax", "attention_weights", (2 * s + 6) * s, s);
    ck_assert_double_eq(lesson.steps[1].quizzes[1].number, (double)best_key);
    /* as a token: the ids repeat, so the word carries its position from 1 */
    ck_assert_uint_lt(best_key, 6);
    char want[128];
    snprintf(want, sizeof want, "%s(%zu)", t1->config.tokens[best_key], best_key + 1);
    ck_assert_str_eq(lesson.steps[1].quizzes[2].answer, want);
    /* the second layer-1 step shares the first's trace */
    ck_assert_ptr_eq(lesson_step_trace(&lesson, 2), own);
    ck_assert_float_eq((float)lesson.steps[2].quizzes[0].number,
                       value_at(t1, "gpt2_weighted_sum", "head_outputs", (0 * s + 4) * 16 + 3));
    /* another checkpoint: d 16, 2 heads, vocabulary 64 */
    const Trace *other = lesson_step_trace(&lesson, 3);
    ck_assert_ptr_nonnull(other);
    ck_assert_uint_eq(other->config.d_model, 16);
    ck_assert_int_eq(lesson.n_traces, 2);
    int top = trace_find_step(t16, "gpt2_next_token", NULL);
    float best = 0.0f;
    for (int t = 0; t < t16->steps[top].n_tensors; t++)
        if (strcmp(t16->steps[top].tensors[t].name, "next_token_probs") == 0)
            for (size_t i = 0; i < t16->steps[top].tensors[t].tensor->size; i++)
                if (t16->steps[top].tensors[t].tensor->data[i] > best)
                    best = t16->steps[top].tensors[t].tensor->data[i];
    ck_assert_float_eq((float)lesson.steps[3].quizzes[0].number, best);

    /* the labels of a compare view */
    char label[64];
    lesson_trace_label(&lesson, -1, t0, label, sizeof label);
    ck_assert_str_eq(label, "tiny, layer 0");
    lesson_trace_label(&lesson, 3, other, label, sizeof label);
    ck_assert_str_eq(label, "d16_h2_l2_f32, layer 0");

    /* bound again to a trace of the command line's --layer 1: the steps
     * without their own layer follow it, the others keep theirs */
    Error err;
    error_clear(&err);
    ck_assert_msg(lesson_bind_answers(&lesson, LESSON_NAME, t1, NULL, &err), "%s", err.message);
    ck_assert_float_eq((float)lesson.steps[0].quizzes[0].number,
                       value_at(t1, "gpt2_scores", "scores", (3 * s + 6) * s + 2));
    ck_assert_uint_eq(lesson_step_trace(&lesson, 3)->config.layer, 1);
    ck_assert_int_eq(lesson.n_traces, 2);

    trace_free(t0);
    trace_free(t1);
    trace_free(t16);
    lesson_free(&lesson);
}
END_TEST

/* A step's sentence: goes through the step's model's tokenizer. */
START_TEST(test_step_sentence_is_tokenized)
{
    static Lesson lesson;
    parse_ok(HEAD
             "sentence: " SENTENCE
             "\nsteps: gpt2_tokens gpt2_scores\n\n## gpt2_scores\n::: step\nsentence: red cat "
             "blue dog red cat blue dog\n:::\n::: quiz\nkind: number\nquestion: q\nanswer: =scores[0][7][0]\n:::\n",
             &lesson);
    const char *args[] = {"--model", "tiny", "--sentence", "red cat blue dog red cat blue dog", NULL};
    Trace *t = trace_of_args(args);
    const Trace *own = lesson_step_trace(&lesson, 1);
    ck_assert_ptr_nonnull(own);
    ck_assert_uint_eq(own->config.n_tokens, t->config.n_tokens);
    ck_assert_int_eq(memcmp(own->config.token_ids, t->config.token_ids, t->config.n_tokens * sizeof(long)), 0);
    size_t s = t->config.n_tokens;
    ck_assert_float_eq((float)lesson.steps[1].quizzes[0].number, value_at(t, "gpt2_scores", "scores", 7 * s + 0));
    trace_free(t);
    lesson_free(&lesson);
}
END_TEST

/* ------------------------------------------------------------------------
 * The tracer: a step's own trace on screen, and the compare view
 * ---------------------------------------------------------------------- */

static const ViewOptions VIEW = {4, false, false, "A model lesson, every key", NULL};

/* The screen of app at rows x cols, as --dump-screen writes it, into out. */
static void screen_text(const App *app, int rows, int cols, StrBuf *out)
{
    Frame frame;
    ck_assert(frame_init(&frame, rows, cols));
    app_compose(app, &frame);
    frame_to_text(&frame, out);
    frame_free(&frame);
}

/* Compares text with tests/screens/NAME.txt, or writes it when updating. */
static void check_golden(const char *name, const char *text)
{
    char path[512];
    const char *dir = getenv("ATTN_SCREENS_DIR");
    snprintf(path, sizeof path, "%s/%s.txt", dir != NULL && *dir != '\0' ? dir : "tests/screens", name);
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

/* Loads tests/lessons-model/walk.lesson and its header trace. */
static Trace *load_walk(Lesson *lesson)
{
    LessonErrors errors;
    ck_assert_msg(lesson_load("tests/lessons-model/walk.lesson", lesson, &errors), "%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    Error err;
    error_clear(&err);
    Trace *trace = trace_build(&lesson->config, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    return trace;
}

START_TEST(test_app_follows_the_steps_trace)
{
    static Lesson lesson;
    static App app;
    Trace *trace = load_walk(&lesson);
    app_init(&app, trace, &lesson, &VIEW);
    ck_assert_ptr_eq(app.trace, trace);
    app_go(&app, 3); /* gpt2_softmax, layer 1 */
    ck_assert_ptr_eq(app.trace, lesson_step_trace(&lesson, 3));
    ck_assert(view_own_trace(&app));
    ck_assert(view_comparing_own(&app));
    ck_assert_str_eq(app.trace->steps[app.step].id, "gpt2_softmax");
    /* select: attention_weights[0][3] opens on row 3 of head 0 */
    ck_assert_uint_eq(app.cursor[app.step][app.focus[app.step]], 3 * app.trace->config.n_tokens);
    /* x is refused there: experiments change the lesson's trace */
    ck_assert(app_handle_key(&app, (KeyCode)'x', 24, 80));
    ck_assert(app.overlay != OVERLAY_EXPERIMENT);
    ck_assert(strstr(app.note, "tiny, layer 1") != NULL);
    /* o with both panels on screen says so and switches nothing */
    ck_assert(app_handle_key(&app, (KeyCode)'o', 24, 80));
    ck_assert_msg(strstr(app.note, "Both traces are on screen") != NULL, "note: %s", app.note);
    ck_assert(!app.own_compare_base);
    app_go(&app, 1); /* back to the header's trace */
    ck_assert_ptr_eq(app.trace, trace);
    ck_assert(!view_own_trace(&app));
    app_go(&app, 4); /* the twin at layer 1: another trace, one more step in it */
    ck_assert_ptr_eq(app.trace, lesson_step_trace(&lesson, 4));
    ck_assert_str_eq(app.trace->steps[app.step].id, "gpt2_next_token");
    ck_assert(!view_comparing_own(&app));
    app_release(&app);
    trace_free(trace);
    lesson_free(&lesson);
}
END_TEST

typedef struct Screen {
    const char *name; /* tests/screens/NAME.txt */
    int pos;          /* walk position */
    int cols, rows;
    bool other; /* o pressed: the lesson trace's panel where only one fits */
} Screen;

static const Screen SCREENS[] = {
    {"lessonmodel-compare", 3, 80, 24, false},
    {"lessonmodel-compare-50x12", 3, 50, 12, false},
    {"lessonmodel-compare-50x12-o", 3, 50, 12, true},
    {"lessonmodel-sentence", 2, 80, 24, false},
};

START_TEST(test_golden_screens)
{
    static Lesson lesson;
    static App app;
    Trace *trace = load_walk(&lesson);
    for (size_t i = 0; i < sizeof SCREENS / sizeof SCREENS[0]; i++) {
        app_init(&app, trace, &lesson, &VIEW);
        app_go(&app, SCREENS[i].pos);
        if (SCREENS[i].other)
            ck_assert(app_handle_key(&app, (KeyCode)'o', SCREENS[i].rows, SCREENS[i].cols));
        StrBuf text = {0};
        screen_text(&app, SCREENS[i].rows, SCREENS[i].cols, &text);
        check_golden(SCREENS[i].name, strbuf_text(&text));
        if (SCREENS[i].other)
            ck_assert(strstr(strbuf_text(&text), "tiny, layer 0") != NULL);
        if (SCREENS[i].pos == 3 && SCREENS[i].cols == 80) {
            ck_assert(strstr(strbuf_text(&text), "tiny, layer 0") != NULL);
            ck_assert(strstr(strbuf_text(&text), "tiny, layer 1") != NULL);
            ck_assert(strstr(strbuf_text(&text), "original") == NULL);
        }
        strbuf_free(&text);
        app_release(&app);
    }
    trace_free(trace);
    lesson_free(&lesson);
}
END_TEST

Suite *lessonmodel_suite(void)
{
    Suite *s = suite_create("lessonmodel");
    TCase *tc = tcase_create("lessonmodel");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_parse_rows);
    tcase_add_test(tc, test_answers_read_each_steps_trace);
    tcase_add_test(tc, test_step_sentence_is_tokenized);
    tcase_add_test(tc, test_app_follows_the_steps_trace);
    tcase_add_test(tc, test_golden_screens);
    suite_add_tcase(s, tc);
    return s;
}
