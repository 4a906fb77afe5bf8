/*
 * fuzz_lesson.c - the lesson parser (lesson.c) on arbitrary bytes.
 *
 * Parses the input as a lesson file and checks what lesson.h promises:
 * on failure at least one error, each a printable line naming the file,
 * and the lesson released; on success a lesson within its limits whose
 * configuration validates and whose every quiz accepts its own answer
 * (as written, and as quiz_answer_text spells it where that is meant to
 * be typed back). A lesson that parses and whose trace is small is then
 * used the way the program uses one: traced, printed as a handout, and
 * walked in the tracer with every quiz, notes and explanation drawn.
 */
#include <stdbool.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "diffview.h"
#include "fuzz.h"
#include "frame.h"
#include "lesson.h"
#include "print.h"
#include "strbuf.h"
#include "trace.h"
#include "view.h"

#define FUZZ_NAME "fuzz.lesson"

/* Traces whose tensors take more than this are not built (speed). */
#define DEEP_MAX_TRACE_BYTES (64u * 1024u)

/* Each line of errors starts with the file's name and holds no control
 * character; there are errors->count of them. */
static void check_errors(const LessonErrors *errors)
{
    const char *text = strbuf_text(&errors->text);
    size_t len = strlen(text);
    FUZZ_CHECK(errors->count >= 1, "a failed parse gave %d errors", errors->count);
    FUZZ_CHECK(errors->count <= LESSON_MAX_ERRORS + 2, "%d errors", errors->count);
    FUZZ_CHECK(len > 0 && text[len - 1] == '\n', "errors text does not end in a newline");
    int lines = 0;
    const char *line = text;
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        FUZZ_CHECK(nl != NULL, "an error line without its newline");
        FUZZ_CHECK(strncmp(line, FUZZ_NAME ":", strlen(FUZZ_NAME) + 1) == 0, "error line '%.*s' does not name the file",
                   (int)(nl - line), line);
        for (const char *c = line; c < nl; c++) {
            unsigned char b = (unsigned char)*c;
            FUZZ_CHECK(b >= 0x20 && b != 0x7f, "control byte 0x%02x in error line '%.*s'", b, (int)(nl - line), line);
        }
        lines++;
        line = nl + 1;
    }
    FUZZ_CHECK(lines == errors->count, "%d error lines but count %d", lines, errors->count);
    /* the first error, as an Error: the status of a bad file and the first line */
    /* (66 when a model: names a checkpoint that cannot be read, as for a missing file) */
    FUZZ_CHECK(errors->first.status == STATUS_DATAERR ||
                   (errors->first.status == STATUS_NOINPUT && strstr(text, ": model: ") != NULL),
               "status %d for a bad file", errors->first.status);
    size_t first_len = strlen(errors->first.message);
    FUZZ_CHECK(first_len > 0 && first_len <= strcspn(text, "\n"), "first error '%s' is not the first line",
               errors->first.message);
}

/* The invariants of one parsed quiz. */
static void check_quiz(const Quiz *q, int step, int index)
{
    FUZZ_CHECK(q->question != NULL && q->answer != NULL, "step %d quiz %d: no question or answer", step, index);
    FUZZ_CHECK(q->n_hints >= 0 && q->n_hints <= LESSON_MAX_HINTS, "step %d quiz %d: %d hints", step, index, q->n_hints);
    for (int h = 0; h < q->n_hints; h++)
        FUZZ_CHECK(q->hints[h] != NULL, "step %d quiz %d: hint %d is NULL", step, index, h);

    /* the answer as written is right */
    FUZZ_CHECK(quiz_check(q, q->answer), "step %d quiz %d (kind %d): its own answer '%s' is not accepted", step, index,
               (int)q->kind, q->answer);

    static char shown[8192];
    quiz_answer_text(q, shown, sizeof shown);
    switch (q->kind) {
    case QUIZ_SHAPE:
        FUZZ_CHECK(q->shape_ndim >= 0 && q->shape_ndim <= 4, "shape rank %d", q->shape_ndim);
        for (int i = 0; i < q->shape_ndim; i++)
            FUZZ_CHECK(q->shape[i] >= 1, "shape answer '%s' has a zero dimension", q->answer);
        FUZZ_CHECK(quiz_check(q, shown), "step %d quiz %d: shape answer shown as '%s' is not accepted", step, index,
                   shown);
        break;
    case QUIZ_NUMBER:
        FUZZ_CHECK(q->tolerance >= 0, "tolerance %g", q->tolerance);
        if (strlen(q->answer) < sizeof shown - 1)
            FUZZ_CHECK(quiz_check(q, shown), "step %d quiz %d: number answer shown as '%s' is not accepted", step,
                       index, shown);
        break;
    case QUIZ_TOKEN:
        if (strlen(q->answer) < sizeof shown - 1)
            FUZZ_CHECK(quiz_check(q, shown), "step %d quiz %d: token answer shown as '%s' is not accepted", step, index,
                       shown);
        break;
    case QUIZ_CHOICE:
        FUZZ_CHECK(q->n_choices >= 2 && q->n_choices <= LESSON_MAX_CHOICES, "%d choices", q->n_choices);
        FUZZ_CHECK(q->answer_choice >= 0 && q->answer_choice < q->n_choices, "answer_choice %d of %d", q->answer_choice,
                   q->n_choices);
        for (int c = 0; c < q->n_choices; c++)
            FUZZ_CHECK(q->choices[c] != NULL, "choice %d is NULL", c);
        /* typing the right choice's text is right */
        FUZZ_CHECK(quiz_check(q, q->choices[q->answer_choice]),
                   "step %d quiz %d: the right choice's own text '%s' is not accepted", step, index,
                   q->choices[q->answer_choice]);
        break;
    }
}

/* The invariants of a parsed lesson. */
static void check_lesson(const Lesson *lesson)
{
    FUZZ_CHECK(lesson->title != NULL && lesson->author != NULL, "no title or author");
    FUZZ_CHECK(lesson->precision >= 0 && lesson->precision <= 9, "precision %d", lesson->precision);
    FUZZ_CHECK(lesson->n_steps >= 1 && lesson->n_steps <= LESSON_MAX_STEPS, "%d steps", lesson->n_steps);
    Error err;
    error_clear(&err);
    FUZZ_CHECK(config_validate(&lesson->config, &err), "the lesson's config does not validate: %s", err.message);
    for (int s = 0; s < lesson->n_steps; s++) {
        const LessonStep *step = &lesson->steps[s];
        FUZZ_CHECK(step->id[0] != '\0' && memchr(step->id, '\0', sizeof step->id) != NULL, "step %d: bad id", s);
        FUZZ_CHECK(lesson_find_step(lesson, step->id) == step, "step %d: id '%s' not unique", s, step->id);
        FUZZ_CHECK(step->n_quizzes >= 0 && step->n_quizzes <= LESSON_MAX_QUIZZES, "step %d: %d quizzes", s,
                   step->n_quizzes);
        for (int q = 0; q < step->n_quizzes; q++)
            check_quiz(&step->quizzes[q], s, q);
    }
}

/* Composes the app at rows x cols (a frame per call, freed). */
static void compose_at(App *app, int rows, int cols)
{
    Frame frame;
    if (!frame_init(&frame, rows, cols))
        return;
    app_compose(app, &frame);
    frame_free(&frame);
}

/* Uses a good lesson as the program would: trace, handout, tracer. */
static void use_lesson(const Lesson *lesson)
{
    if (trace_bytes(&lesson->config) > DEEP_MAX_TRACE_BYTES)
        return;
    Error err;
    error_clear(&err);
    Trace *trace = trace_build(&lesson->config, &err);
    FUZZ_CHECK(trace != NULL, "a good lesson's small trace failed: %s", err.message);

    /* the handouts: the plain one, the teacher's copy, the student's */
    for (int kind = 0; kind < 3; kind++) {
        StrBuf out = {0};
        PrintOptions print = {lesson->precision, -1, lesson, kind == 1, kind == 2};
        print_trace_text(&out, trace, &print);
        strbuf_free(&out);
    }

    /* the tracer: every step, its quizzes shown with their answers, its
     * notes and its explanation, at 80x24 and at a narrow size */
    static App app;
    ViewOptions view = {lesson->precision, false, false, lesson->title, NULL};
    app_init(&app, trace, lesson, &view);
    for (int guard = 0; guard < 4 * LESSON_MAX_STEPS * (LESSON_MAX_QUIZZES + 2); guard++) {
        compose_at(&app, 24, 80);
        if (app.overlay == OVERLAY_QUIZ) {
            app_handle_key(&app, KEY_CODE_TAB, 24, 80); /* show the answer */
            compose_at(&app, 24, 80);
            compose_at(&app, 12, 50);
            app_handle_key(&app, KEY_CODE_ENTER, 24, 80); /* close it */
            continue;
        }
        app_handle_key(&app, 'N', 24, 80);
        if (app.overlay == OVERLAY_NOTES)
            compose_at(&app, 24, 80);
        app_handle_key(&app, KEY_CODE_ESCAPE, 24, 80);
        app_handle_key(&app, 'e', 24, 80);
        compose_at(&app, 12, 50);
        app_handle_key(&app, KEY_CODE_ESCAPE, 24, 80);
        int pos = app.pos;
        app_handle_key(&app, ' ', 24, 80);
        if (app.pos == pos && app.overlay != OVERLAY_QUIZ)
            break; /* the last step */
    }
    app_release(&app); /* a step's experiment */
    trace_free(trace);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Lesson lesson; /* large: off the stack */
    LessonErrors errors;
    bool ok = lesson_parse((const char *)data, size, FUZZ_NAME, &lesson, &errors);
    if (ok) {
        FUZZ_CHECK(errors.count == 0, "a good lesson with %d errors", errors.count);
        check_lesson(&lesson);
        use_lesson(&lesson);
        lesson_free(&lesson);
    } else {
        check_errors(&errors);
        FUZZ_CHECK(lesson.title == NULL && lesson.n_steps == 0, "a failed lesson was not released");
    }
    lesson_errors_free(&errors);
    return 0;
}
