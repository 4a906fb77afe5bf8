/*
 * fuzz_linemode.c - typed commands against --line-mode (linemode.c) and,
 * through it, the tracer's walk, quizzes and inspector (view.c, input.c,
 * explain.c, print.c).
 *
 * Input layout:
 *   byte 0  flags: bit 0 walk the built-in lesson (its quizzes), bit 1
 *           echo the commands, bits 4-7 precision (mod 10)
 *   rest    the commands, as a pipe would give them (any bytes)
 * line_mode_run reads them from a memory stream and writes its answers to
 * another; then the transcript holds no control byte but the newline (so
 * no escape sequence ever reaches a terminal), and the App is still
 * consistent: its walk position, its step and its quiz input. The trace
 * (config_default) and lesson (the built-in one) are made once.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "fuzz.h"
#include "lesson.h"
#include "linemode.h"
#include "strbuf.h"
#include "trace.h"
#include "view.h"

/* The article's trace, built once. */
static const Trace *the_trace(void)
{
    static Trace *trace;
    if (trace == NULL) {
        Config cfg;
        Error err;
        error_clear(&err);
        FUZZ_CHECK(config_default(&cfg, &err), "config_default: %s", err.message);
        trace = trace_build(&cfg, &err);
        FUZZ_CHECK(trace != NULL, "trace_build: %s", err.message);
        config_free(&cfg);
    }
    return trace;
}

/* The built-in lesson, parsed once. */
static const Lesson *the_lesson(void)
{
    static Lesson lesson;
    static bool parsed;
    if (!parsed) {
        LessonErrors errors;
        FUZZ_CHECK(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson,
                                &errors),
                   "the built-in lesson: %s", strbuf_text(&errors.text));
        parsed = true;
    }
    return &lesson;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static App app; /* large: not on the stack */
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    ViewOptions view = {(flags >> 4) % 10, false, false, "fuzz", NULL};
    app_init(&app, the_trace(), (flags & 1) ? the_lesson() : NULL, &view);
    FILE *in = fmemopen(size > 1 ? (void *)(data + 1) : (void *)"", size > 1 ? size - 1 : 1, "r");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FUZZ_CHECK(in != NULL && out != NULL, "cannot open the memory streams");
    Error err;
    error_clear(&err);
    FUZZ_CHECK(line_mode_run(&app, (flags & 2) != 0, in, out, &err), "line_mode_run: %s", err.message);
    fclose(in);
    fclose(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f), "byte %zu of the transcript is 0x%02x", i, c);
    }
    free(text);
    FUZZ_CHECK(app.pos >= 0 && app.pos < app.n_walk, "pos %d of %d", app.pos, app.n_walk);
    FUZZ_CHECK(app.step == app.walk[app.pos], "step %d is not walk[%d]", app.step, app.pos);
    FUZZ_CHECK(memchr(app.quiz_input, '\0', sizeof app.quiz_input) != NULL, "quiz input not terminated");
    return 0;
}
