/*
 * check_view.c - the key table, the key parser, the tracer's state
 * changes, and its screens against golden files.
 *
 * Golden screens live in tests/screens/NAME.txt: the plain text of a frame
 * composed headless, exactly what `attn-trace --dump-screen` writes. To
 * regenerate them after an intended change, run the suite with
 * ATTN_UPDATE_SCREENS=1 (make screens) and review the diff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "explain.h"
#include "numfmt.h"
#include "strbuf.h"
#include "builtin.h"
#include "frame.h"
#include "lesson.h"
#include "keys.h"
#include "fixture.h"
#include "suites.h"
#include "trace.h"
#include "tui.h"
#include "view.h"

/* ------------------------------------------------------------------------
 * Keys
 * ---------------------------------------------------------------------- */

START_TEST(test_every_action_has_a_key_and_help)
{
    size_t count;
    const KeyBinding *table = keys_table(&count);
    for (Action a = ACTION_QUIT; a < ACTION_COUNT; a++) {
        bool bound = false;
        for (size_t i = 0; i < count; i++)
            bound |= table[i].action == a;
        ck_assert_msg(bound, "action %d has no key", a);
        ck_assert_msg(keys_action_help(a)[0] != '\0', "action %d has no help line", a);
    }
    /* no key is bound twice */
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++)
            ck_assert_msg(table[i].key != table[j].key, "%s is bound twice", table[i].key_name);
    /* the habits the issue asks for */
    ck_assert_int_eq(keys_action(' '), ACTION_NEXT_STEP);
    ck_assert_int_eq(keys_action('g'), ACTION_FIRST_STEP);
    ck_assert_int_eq(keys_action('G'), ACTION_LAST_STEP);
    ck_assert_int_eq(keys_action('j'), ACTION_DOWN);
    ck_assert_int_eq(keys_action(KEY_CODE_LEFT), ACTION_LEFT);
    ck_assert_int_eq(keys_action(KEY_CODE_F1), ACTION_HELP);
    ck_assert_int_eq(keys_action('?'), ACTION_HELP);
    ck_assert_int_eq(keys_action(KEY_CODE_ESCAPE), ACTION_CLOSE);
    ck_assert_int_eq(keys_action(KEY_CTRL('l')), ACTION_REDRAW);
    ck_assert_int_eq(keys_action('q'), ACTION_QUIT);
    ck_assert_int_eq(keys_action('w'), ACTION_NONE);
}
END_TEST

START_TEST(test_keys_parse)
{
    KeyCode keys[16];
    size_t n;
    Error err;
    error_clear(&err);
    ck_assert(keys_parse("ab<Right><enter><ESC><C-l><lt><Space><S-Tab>é", keys, 16, &n, &err));
    static const KeyCode want[] =
        {'a', 'b', KEY_CODE_RIGHT, KEY_CODE_ENTER, KEY_CODE_ESCAPE, KEY_CTRL('l'), '<', ' ', KEY_CODE_BACK_TAB, 0xe9};
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(keys[i] == want[i], "key %zu: got %u", i, keys[i]);
    ck_assert(keys_parse("", keys, 16, &n, &err));
    ck_assert_uint_eq(n, 0);
    ck_assert(keys_parse("a<b", keys, 16, &n, &err)); /* a lone '<' is the key '<' */
    ck_assert_uint_eq(n, 3);
    ck_assert(!keys_parse("<Nope>", keys, 16, &n, &err));
    ck_assert_int_eq(err.status, STATUS_USAGE);
    ck_assert_msg(strstr(err.message, "<Nope>") != NULL, "%s", err.message);
    ck_assert(!keys_parse("a\x1b", keys, 16, &n, &err));
    ck_assert(!keys_parse("abc", keys, 2, &n, &err));
}
END_TEST

/* ------------------------------------------------------------------------
 * State
 * ---------------------------------------------------------------------- */


static const ViewOptions DEFAULT_VIEW = {4, false, false, "my name is Marcello Politi", NULL};

START_TEST(test_step_keys)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &DEFAULT_VIEW);
    ck_assert_int_eq(app.step, 0);
    app_handle_key(&app, 'b', 24, 80); /* stays at the first step */
    ck_assert_int_eq(app.step, 0);
    for (int i = 0; i < 30; i++)
        app_handle_key(&app, ' ', 24, 80);
    ck_assert_int_eq(app.step, trace->n_steps - 1); /* stops at the last */
    app_handle_key(&app, 'g', 24, 80);
    ck_assert_int_eq(app.step, 0);
    app_handle_key(&app, 'G', 24, 80);
    ck_assert_int_eq(app.step, 16);
    app_handle_key(&app, 'p', 24, 80);
    ck_assert_int_eq(app.step, 15);
    /* the step list: open, move, jump */
    app_handle_key(&app, 's', 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_STEPS);
    app_handle_key(&app, 'g', 24, 80);
    app_handle_key(&app, 'j', 24, 80);
    app_handle_key(&app, 'j', 24, 80);
    app_handle_key(&app, KEY_CODE_ENTER, 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_NONE);
    ck_assert_int_eq(app.step, 2);
    /* q closes an overlay first, then quits */
    app_handle_key(&app, '?', 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_HELP);
    ck_assert(app_handle_key(&app, 'q', 24, 80));
    ck_assert_int_eq(app.overlay, OVERLAY_NONE);
    ck_assert(!app_handle_key(&app, 'q', 24, 80));
    trace_free(trace);
}
END_TEST

START_TEST(test_selection_moves_and_clamps)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &DEFAULT_VIEW);
    int s = trace_find_step(trace, "all_tokens", NULL);
    app_go(&app, s);
    ck_assert_str_eq(trace->steps[s].tensors[app.focus[s]].name, "attention_weights"); /* the step's main tensor */
    for (int i = 0; i < trace->steps[s].n_tensors; i++)                                /* move to queries, a [5, 16] */
        if (strcmp(trace->steps[s].tensors[i].name, "queries") == 0)
            app.focus[s] = i;
    int t = app.focus[s];
    app_handle_key(&app, 'j', 24, 80);
    app_handle_key(&app, 'l', 24, 80);
    app_handle_key(&app, 'l', 24, 80);
    ck_assert_uint_eq(app.cursor[s][t], 1 * 16 + 2);
    for (int i = 0; i < 40; i++)
        app_handle_key(&app, KEY_CODE_RIGHT, 24, 80);
    ck_assert_uint_eq(app.cursor[s][t], 1 * 16 + 15); /* clamps at the row end */
    app_handle_key(&app, '0', 24, 80);
    ck_assert_uint_eq(app.cursor[s][t], 16);
    app_handle_key(&app, '$', 24, 80);
    ck_assert_uint_eq(app.cursor[s][t], 31);
    for (int i = 0; i < 10; i++)
        app_handle_key(&app, KEY_CODE_DOWN, 24, 80);
    ck_assert_uint_eq(app.cursor[s][t], 4 * 16 + 15);
    /* Tab cycles the panels; each remembers its selection */
    app_handle_key(&app, KEY_CODE_TAB, 24, 80);
    ck_assert_int_eq(app.focus[s], t + 1);
    app_handle_key(&app, KEY_CODE_BACK_TAB, 24, 80);
    ck_assert_uint_eq(app.cursor[s][app.focus[s]], 4 * 16 + 15);
    /* a step away and back keeps it too */
    app_handle_key(&app, ' ', 24, 80);
    app_handle_key(&app, 'b', 24, 80);
    ck_assert_uint_eq(app.cursor[s][t], 4 * 16 + 15);
    /* ] and [ change the head of a 3-D tensor, keeping the position */
    int m = trace_find_step(trace, "mh_softmax", NULL);
    app_go(&app, m);
    int w = app.focus[m];
    app_handle_key(&app, 'j', 24, 80);
    app_handle_key(&app, ']', 24, 80);
    ck_assert_uint_eq(app.cursor[m][w], 1 * 25 + 1 * 5);
    app_handle_key(&app, '[', 24, 80);
    app_handle_key(&app, '[', 24, 80);
    ck_assert_uint_eq(app.cursor[m][w], 3 * 25 + 1 * 5); /* wraps around */
    trace_free(trace);
}
END_TEST

/* Autoplay walks the selection over the step's outputs, then moves on;
 * any key stops it (and does nothing else). */
START_TEST(test_autoplay)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &DEFAULT_VIEW);
    ck_assert_int_eq(app_tick_ms(&app), -1); /* off: wait for keys */
    app_start_autoplay(&app, 2000);
    ck_assert_int_eq(app_tick_ms(&app), 2000 / VIEW_AUTOPLAY_MOVES);
    size_t seen[VIEW_AUTOPLAY_MOVES];
    for (int i = 0; i < VIEW_AUTOPLAY_MOVES; i++) {
        app_tick(&app, 24, 80);
        ck_assert_int_eq(app.step, 0);
        seen[i] = app.cursor[0][app.focus[0]];
    }
    ck_assert_msg(seen[VIEW_AUTOPLAY_MOVES - 1] != seen[0], "the selection did not move");
    app_tick(&app, 24, 80);
    ck_assert_int_eq(app.step, 1); /* on to the next step */
    app_handle_key(&app, ' ', 24, 80);
    ck_assert_int_eq(app_tick_ms(&app), -1); /* stopped by the key ... */
    ck_assert_int_eq(app.step, 1);           /* ... which did nothing else */
    /* on every step, whatever its number of outputs, the selection stays
     * inside its tensor (the fuzzer found 256 of 256 on a 3-output step) */
    for (int k = 0; k < app.n_walk; k++) {
        app_go(&app, k);
        app_start_autoplay(&app, 800);
        for (int i = 0; i < VIEW_AUTOPLAY_MOVES; i++) {
            app_tick(&app, 24, 80);
            int t = app.focus[app.step];
            ck_assert_msg(app.cursor[app.step][t] < trace->steps[app.step].tensors[t].tensor->size,
                          "step %d move %d: selection %zu of %zu", app.step, i, app.cursor[app.step][t],
                          trace->steps[app.step].tensors[t].tensor->size);
        }
    }
    app.autoplay_ms = 0;
    /* at the last step autoplay ends by itself */
    app_go(&app, app.n_walk - 1);
    app_start_autoplay(&app, 800);
    for (int i = 0; i <= VIEW_AUTOPLAY_MOVES; i++)
        app_tick(&app, 24, 80);
    ck_assert_int_eq(app_tick_ms(&app), -1);
    ck_assert_int_eq(app.pos, app.n_walk - 1);
    /* issue 12: with a lesson, autoplay pauses at a quiz; keys answer it, then the walk goes on */
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors));
    lesson_errors_free(&errors);
    app_init(&app, trace, &lesson, &DEFAULT_VIEW);
    app_start_autoplay(&app, 800);
    for (int i = 0; i <= VIEW_AUTOPLAY_MOVES; i++)
        app_tick(&app, 24, 80);
    ck_assert_int_eq(app.pos, 1); /* embed, with its "before" quiz open */
    ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
    for (int i = 0; i < 3 * VIEW_AUTOPLAY_MOVES; i++)
        app_tick(&app, 24, 80);
    ck_assert_int_eq(app.pos, 1); /* paused */
    KeyCode answer[] = {'5', 'x', '1', '6', KEY_CODE_ENTER, KEY_CODE_ENTER};
    for (size_t i = 0; i < sizeof answer / sizeof answer[0]; i++)
        app_handle_key(&app, answer[i], 24, 80);
    ck_assert_int_eq(app.quiz[1][0].status, QUIZ_RIGHT);
    ck_assert_int_gt(app_tick_ms(&app), 0); /* still playing */
    for (int i = 0; i <= VIEW_AUTOPLAY_MOVES; i++)
        app_tick(&app, 24, 80);
    ck_assert_int_eq(app.pos, 2);
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Nothing a user can press or any size can crash the state machine. */
START_TEST(test_every_key_at_every_size)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &DEFAULT_VIEW);
    static const int sizes[][2] = {{1, 1}, {3, 10}, {12, 50}, {24, 80}, {40, 120}, {60, 200}};
    size_t count;
    const KeyBinding *table = keys_table(&count);
    Frame frame;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        ck_assert(frame_init(&frame, sizes[z][0], sizes[z][1]));
        for (int round = 0; round < 3; round++)
            for (size_t k = 0; k < count; k++) {
                if (table[k].action == ACTION_QUIT)
                    continue;
                app_handle_key(&app, table[k].key, sizes[z][0], sizes[z][1]);
                app_compose(&app, &frame);
            }
        frame_free(&frame);
    }
    trace_free(trace);
}
END_TEST

/* ------------------------------------------------------------------------
 * Golden screens
 * ---------------------------------------------------------------------- */

typedef struct ScreenCase {
    const char *name; /* tests/screens/NAME.txt */
    bool lesson;      /* walk the built-in lesson (else no lesson) */
    const char *step; /* step id to open on, or NULL */
    const char *keys; /* vim notation, or NULL */
    int cols, rows;
    bool no_color, ascii;
    const char *theme; /* "default" or "colorblind": the file adds the cells' marks at 256 colours; NULL: text only */
} ScreenCase;

static const ScreenCase SCREENS[] = {
    {"too-small", false, NULL, NULL, 40, 10, false, false, NULL},
    {"help", false, NULL, "?", 80, 24, false, false, NULL},
    /* c: the step's PyTorch line under the formula, wrapped between statements; cc hides it again */
    {"torch-all-tokens", false, "all_tokens", "c", 80, 24, false, false, NULL},
    {"torch-project-token-narrow", false, "project_token", "c", 60, 24, false, false, NULL},
    {"torch-shown-then-hidden", false, "softmax", "cc", 80, 24, false, false, NULL},
    {"steps", false, NULL, "s<Down><Down>", 80, 24, false, false, NULL},
    {"no-color-softmax", false, "softmax", NULL, 80, 24, true, false, NULL},
    {"ascii-mh-scores", false, "mh_scores", NULL, 80, 24, false, true, NULL},
    {"inspect-scores", false, "scores", "jj<Enter>", 80, 24, false, false, NULL},
    {"inspect-scale", false, "scale", "j<Enter>", 80, 24, false, false, NULL},
    {"inspect-softmax", false, "softmax", "j<Enter>", 80, 24, false, false, NULL},
    {"inspect-weighted-sum", false, "weighted_sum", "<Enter>", 80, 24, false, false, NULL},
    {"inspect-embed", false, "embed", "<Tab>j<Enter>", 80, 24, false, false, NULL},
    {"inspect-mh-project", false, "mh_project", "]jl<Enter>", 80, 24, false, false, NULL},
    {"inspect-mh-scores", false, "mh_scores", "jl<Enter>", 80, 24, false, false, NULL},
    {"inspect-mh-weighted-sum", false, "mh_weighted_sum", "<Enter>", 100, 30, false, false, NULL},
    {"inspect-mh-concat", false, "mh_concat", "$<Enter>", 80, 24, false, false, NULL},
    {"inspect-tokenize", false, "tokenize", "jj<Enter>", 80, 24, false, false, NULL},
    {"inspect-weights", false, "weights", "jl<Enter>", 80, 24, false, false, NULL},
    {"inspect-project-token", false, "project_token", "j<Enter>", 80, 24, false, false, NULL},
    {"inspect-keys-values", false, "keys_values", "jjl<Enter>", 80, 24, false, false, NULL},
    {"inspect-all-tokens-z", false, "all_tokens", "<S-Tab><S-Tab><S-Tab>jl<Enter>", 80, 24, false, false, NULL},
    {"inspect-mh-output", false, "mh_output", "jj<Enter>", 80, 24, false, false, NULL},
    {"inspect-input-shown-again", false, "scores", "<Tab><Tab><Enter>", 80, 24, false, false, NULL},
    {"inspect-scrolled", false, "mh_project", "<Enter>jjjj", 80, 16, false, false, NULL},
    /* the built-in lesson: a predict-first quiz, wrong then right, and the handout-style text */
    {"lesson-quiz-before", true, NULL, "<Space>", 80, 24, false, false, NULL},
    {"lesson-quiz-wrong", true, NULL, "<Space>[16,5]<Enter>", 80, 24, false, false, NULL},
    {"lesson-quiz-right", true, NULL, "<Space>[16,5]<Enter>5x16<Enter>", 80, 24, false, false, NULL},
    {"lesson-quiz-revealed-then-tensors", true, NULL, "<Space><C-r><Enter>", 80, 24, false, false, NULL},
    /* issue 12: a before quiz shows inputs only, an after quiz sits in a bottom pane, both answerable at 50x12 */
    {"lesson-quiz-before-50x12", true, NULL, "<Space>", 50, 12, false, false, NULL},
    {"lesson-quiz-wrong-50x12", true, NULL, "<Space>[16,5]<Enter>", 50, 12, false, false, NULL},
    {"lesson-quiz-after-navigate", true, "softmax", "<Space><Down><Down>ma", 80, 24, false, false, NULL},
    {"lesson-quiz-after-50x12", true, "softmax", "<Space>politi<Enter>", 50, 12, false, false, NULL},
    {"lesson-quiz-not-a-token-50x12", true, "softmax", "<Space>ma<Enter>", 50, 12, false, false, NULL},
    {"lesson-explanation", true, NULL, "e", 80, 24, false, false, NULL},
    /* issue 15: the pictures of attention (v), the recap at the end */
    {"bars-all-tokens", false, "all_tokens", "v", 80, 24, false, false, NULL},
    {"links-mh-softmax", false, "mh_softmax", "vv]", 80, 24, false, false, NULL},
    {"links-mh-softmax-ascii", false, "mh_softmax", "vv", 80, 24, false, true, NULL},
    {"links-all-tokens-50x12", false, "all_tokens", "vvjj", 50, 12, false, false, NULL},
    {"recap", false, "mh_output", "<Space>", 80, 24, false, false, NULL},
    /* issue 14: the themes, each screen followed by what its cells show besides colour (tui_frame_marks);
     * colorblind adds the size glyph after each value (no_color true) and keeps its colours */
    {"theme-default-scores", false, "scores", "jj", 80, 24, false, false, "default"},
    {"theme-colorblind-scores", false, "scores", "jj", 80, 24, true, false, "colorblind"},
    {"theme-colorblind-scores-50x12", false, "scores", "jj", 50, 12, true, false, "colorblind"},
    {"theme-default-steps", false, NULL, "s<Down><Down>", 80, 24, false, false, "default"},
    {"theme-colorblind-steps", false, NULL, "s<Down><Down>", 80, 24, true, false, "colorblind"},
    {"theme-colorblind-quiz-wrong", true, NULL, "<Space>[16,5]<Enter>", 80, 24, true, false, "colorblind"},
    {"theme-colorblind-quiz-wrong-50x12", true, NULL, "<Space>[16,5]<Enter>", 50, 12, true, false, "colorblind"},
    {"theme-colorblind-explanation", true, NULL, "e", 80, 24, true, false, "colorblind"},
};

/* The backend's options for a theme's name (NULL: the default). */
static TuiOptions theme_options(const char *theme)
{
    TuiOptions tui = {false, false, false, false};
    tui.colorblind = theme != NULL && strcmp(theme, "colorblind") == 0;
    return tui;
}

static const char *screens_dir(void)
{
    const char *dir = getenv("ATTN_SCREENS_DIR");
    return dir != NULL && *dir != '\0' ? dir : "tests/screens";
}

/* Composes a screen the way --dump-screen does; with theme (not NULL),
 * then a line naming it and the cells' marks at 256 colours. */
static void compose_screen(const Trace *trace, const Lesson *lesson, const char *step, const char *keys, int cols,
                           int rows, bool no_color, bool ascii, const char *theme, StrBuf *out)
{
    static App app;
    ViewOptions view = DEFAULT_VIEW;
    view.no_color = no_color;
    view.ascii = ascii;
    if (lesson != NULL)
        view.title = lesson->title;
    app_init(&app, trace, lesson, &view);
    if (step != NULL)
        app_go(&app, trace_find_step(trace, step, NULL));
    KeyCode codes[64];
    size_t n = 0;
    Error err;
    error_clear(&err);
    if (keys != NULL)
        ck_assert_msg(keys_parse(keys, codes, 64, &n, &err), "%s", err.message);
    for (size_t i = 0; i < n; i++)
        app_handle_key(&app, codes[i], rows, cols);
    Frame frame;
    ck_assert(frame_init(&frame, rows, cols));
    app_compose(&app, &frame);
    frame_to_text(&frame, out);
    if (theme != NULL) {
        TuiOptions tui = theme_options(theme);
        strbuf_printf(out,
                      "-- marks, theme %s, 256 colours: 1 bold, 2 underline, 4 reverse, 8 dim (their sum in hex)\n",
                      theme);
        tui_frame_marks(&frame, &tui, 256, out);
    }
    frame_free(&frame);
}

/* Compares text with the golden file path, or writes it when updating. */
static void check_golden(const char *path, const char *text)
{
    if (getenv("ATTN_UPDATE_SCREENS") != NULL) {
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "cannot write %s", path);
        fputs(text, f);
        fclose(f);
        return;
    }
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s (make screens writes it)", path, strerror(errno));
    static char want[1 << 20];
    size_t n = fread(want, 1, sizeof want - 1, f);
    fclose(f);
    want[n] = '\0';
    if (strcmp(want, text) != 0) {
        /* name the first line that differs */
        int line = 1;
        const char *a = want, *b = text;
        while (*a != '\0' && *a == *b) {
            line += *a == '\n';
            a++, b++;
        }
        ck_assert_msg(0, "%s differs from the composed screen at line %d", path, line);
    }
}

START_TEST(test_golden_screens)
{
    Trace *trace = fixture_article_trace();
    char path[512];
    /* every step, at the smallest comfortable size and a larger one */
    static const int sizes[][2] = {{80, 24}, {120, 40}};
    for (int i = 0; i < trace->n_steps; i++)
        for (size_t z = 0; z < 2; z++) {
            StrBuf text = {0};
            compose_screen(trace, NULL, trace->steps[i].id, NULL, sizes[z][0], sizes[z][1], false, false, NULL, &text);
            snprintf(path, sizeof path, "%s/step%02d-%s-%dx%d.txt", screens_dir(), i + 1, trace->steps[i].id,
                     sizes[z][0], sizes[z][1]);
            check_golden(path, strbuf_text(&text));
            strbuf_free(&text);
        }
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert_msg(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson,
                               &errors),
                  "the built-in lesson: %s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    for (size_t c = 0; c < sizeof SCREENS / sizeof SCREENS[0]; c++) {
        const ScreenCase *sc = &SCREENS[c];
        StrBuf text = {0};
        compose_screen(trace, sc->lesson ? &lesson : NULL, sc->step, sc->keys, sc->cols, sc->rows, sc->no_color,
                       sc->ascii, sc->theme, &text);
        snprintf(path, sizeof path, "%s/%s.txt", screens_dir(), sc->name);
        check_golden(path, strbuf_text(&text));
        strbuf_free(&text);
    }
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* The marks (TUI_MARK_*) a cell of role and heat gets. */
static unsigned marks_of(Role role, int heat, const TuiOptions *tui, int colors)
{
    Cell cell = {' ', (uint8_t)role, (int8_t)heat, 0};
    return tui_cell_marks(&cell, tui, colors);
}

/* Every distinction the colours make is also made by something that is
 * not hue, in the default theme and the colour-blind one, at 256, 8 and 0
 * colours: the selection is in reverse video, sources are underlined and
 * differ from both, the strongest heat is bold, code differs from plain
 * and from bold text, a list's selected line from the others, warnings
 * from text; with colorblind the focused panel's title is underlined too
 * (both themes mark it with a glyph as well, see the golden screens). */
START_TEST(test_theme_marks)
{
    static const int levels[] = {256, 8, 0};
    for (int t = 0; t < 2; t++) {
        const char *name = t == 0 ? "default" : "colorblind";
        TuiOptions tui = theme_options(name);
        for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
            int colors = levels[l];
            for (int heat = -FRAME_HEAT_LEVELS; heat <= FRAME_HEAT_LEVELS; heat++) {
                unsigned value = marks_of(ROLE_VALUE, heat, &tui, colors);
                unsigned cursor = marks_of(ROLE_CURSOR, heat, &tui, colors);
                unsigned source = marks_of(ROLE_SOURCE, heat, &tui, colors);
                ck_assert_msg((cursor & TUI_MARK_REVERSE) && !(value & TUI_MARK_REVERSE),
                              "%s at %d colours, heat %d: the cursor is not reversed", name, colors, heat);
                ck_assert_msg((source & TUI_MARK_UNDERLINE) && source != value && source != cursor,
                              "%s at %d colours, heat %d: sources are not marked", name, colors, heat);
                ck_assert_msg(abs(heat) < 3 || (value & TUI_MARK_BOLD), "%s at %d colours: heat %d is not bold", name,
                              colors, heat);
            }
            unsigned text = marks_of(ROLE_TEXT, 0, &tui, colors), code = marks_of(ROLE_CODE, 0, &tui, colors);
            ck_assert_msg(code != text && code != marks_of(ROLE_STRONG, 0, &tui, colors),
                          "%s at %d colours: code looks like text or bold text", name, colors);
            ck_assert_msg(marks_of(ROLE_OVERLAY_SELECT, 0, &tui, colors) != marks_of(ROLE_OVERLAY, 0, &tui, colors),
                          "%s at %d colours: a list's selected line is marked by colour only", name, colors);
            ck_assert_msg(marks_of(ROLE_WARNING, 0, &tui, colors) != text, "%s at %d colours: warnings", name, colors);
            /* changed cells (experiments): bold, never a source's underline; their Δ glyph is
             * checked in check_diffview */
            unsigned changed = marks_of(ROLE_CHANGED, 0, &tui, colors);
            ck_assert_msg((changed & TUI_MARK_BOLD) && !(changed & TUI_MARK_UNDERLINE),
                          "%s at %d colours: changed cells are not bold, or look like sources", name, colors);
            if (t == 1)
                ck_assert_msg(marks_of(ROLE_PANEL_FOCUS, 0, &tui, colors) & TUI_MARK_UNDERLINE,
                              "colorblind at %d colours: the focused panel's title is not underlined", colors);
        }
    }
}
END_TEST

/* Screen properties that hold whatever the golden files say. */
START_TEST(test_screen_invariants)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &DEFAULT_VIEW);
    Frame frame;
    ck_assert(frame_init(&frame, 24, 80));
    for (int i = 0; i < trace->n_steps; i++) {
        app_go(&app, i);
        app_compose(&app, &frame);
        StrBuf text = {0};
        frame_to_text(&frame, &text);
        char header[32];
        snprintf(header, sizeof header, "step %d/17", i + 1);
        ck_assert_msg(strstr(strbuf_text(&text), header) != NULL, "no '%s' in the header", header);
        ck_assert_msg(strstr(strbuf_text(&text), trace->steps[i].title) != NULL, "step %d: no title", i + 1);
        ck_assert_msg(strstr(strbuf_text(&text), "q quit") != NULL, "step %d: the footer lacks q", i + 1);
        /* exactly one cursor cell, and it is on the selected tensor's value */
        int cursors = 0;
        for (int k = 0; k < frame.rows * frame.cols; k++)
            cursors += frame.cells[k].role == ROLE_CURSOR;
        ck_assert_msg(cursors >= 1, "step %d: no selected value on screen", i + 1);
        strbuf_free(&text);
    }
    /* the selection's sources are highlighted: scores_1[0] comes from query_1 and keys row 0 */
    app_go(&app, trace_find_step(trace, "scores", NULL));
    app_compose(&app, &frame);
    int sources = 0;
    for (int k = 0; k < frame.rows * frame.cols; k++)
        sources += frame.cells[k].role == ROLE_SOURCE;
    ck_assert_msg(sources > 0, "no value is highlighted as a source of scores_1[0]");
    frame_free(&frame);
    trace_free(trace);
}
END_TEST

/* ------------------------------------------------------------------------
 * Issue 15: what the screen promises
 * ---------------------------------------------------------------------- */

/* Opens step `step` (no lesson), replays keys at cols x rows and composes
 * into frame (initialised here; the caller frees it). */
static void screen_at(App *app, Frame *frame, const Trace *trace, const char *step, const char *keys, int cols,
                      int rows)
{
    app_init(app, trace, NULL, &DEFAULT_VIEW);
    if (step != NULL)
        app_go(app, trace_find_step(trace, step, NULL));
    KeyCode codes[64];
    size_t n = 0;
    Error err;
    error_clear(&err);
    ck_assert_msg(keys_parse(keys, codes, 64, &n, &err), "%s", err.message);
    for (size_t i = 0; i < n; i++)
        app_handle_key(app, codes[i], rows, cols);
    ck_assert(frame_init(frame, rows, cols));
    app_compose(app, frame);
}

/* Cells of role `role` on rows top..top+rows-1 of frame. */
static int count_role(const Frame *frame, Role role, int top, int rows)
{
    int n = 0;
    for (int r = top; r < top + rows && r < frame->rows; r++)
        for (int c = 0; c < frame->cols; c++)
            n += frame->cells[r * frame->cols + c].role == role;
    return n;
}

/* The text of row `row` of frame, into buf. */
static const char *row_text(const Frame *frame, int row, char *buf, size_t size)
{
    StrBuf text = {0};
    frame_to_text(frame, &text);
    const char *p = strbuf_text(&text);
    for (int r = 0; r < row && p != NULL; r++) {
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    size_t len = p != NULL ? strcspn(p, "\n") : 0;
    snprintf(buf, size, "%.*s", (int)len, p != NULL ? p : "");
    strbuf_free(&text);
    return buf;
}

/* True when tensor `tensor` of the step on screen holds some value the
 * selection is computed from (searching every value: the test's own
 * reference, not the composer's shortcut). */
static bool holds_source(const App *app, int tensor)
{
    int s = app->step, f = app->focus[s];
    const Tensor *t = app->trace->steps[s].tensors[tensor].tensor;
    for (size_t i = 0; i < t->size; i++)
        if (explain_is_source(app->trace, s, f, app->cursor[s][f], tensor, i))
            return true;
    return false;
}

/* Defect 1: every panel that holds a source of the selection shows one lit
 * up, on every step as it opens and after the issue's moves, at 80x24;
 * and at 50x12 wherever the rows allow a panel per related tensor. */
START_TEST(test_sources_are_on_screen)
{
    Trace *trace = fixture_article_trace();
    static App app;
    static const struct {
        const char *step, *keys;
    } CASES[] = {{"embed", "j"},
                 {"embed", "jjjj"},
                 {"scores", "jjjj"},
                 {"scores", "jjj"},
                 {"weighted_sum", "l"},
                 {"weighted_sum", "jl"},
                 {"all_tokens", ""},
                 {"all_tokens", "jjjj"},
                 {"project_token", "jjj"},
                 {"mh_project", "jjj"},
                 {"mh_scores", "jj"},
                 {"mh_concat", "llll"},
                 {"mh_weighted_sum", "]]jj"},
                 {"mh_output", "jjl"}};
    static const int sizes[][2] = {{80, 24}, {120, 40}, {50, 12}};
    for (size_t z = 0; z < 3; z++) {
        for (int i = 0; i < trace->n_steps; i++) {
            Frame frame;
            screen_at(&app, &frame, trace, trace->steps[i].id, "", sizes[z][0], sizes[z][1]);
            ViewLayout layout;
            view_layout(&app, frame.rows, frame.cols, &layout);
            for (int t = 0; t < trace->steps[i].n_tensors; t++) {
                if (t == app.focus[i] || !holds_source(&app, t) || (z == 2 && layout.panel_rows[t] < 3))
                    continue;
                ck_assert_msg(count_role(&frame, ROLE_SOURCE, layout.panel_top[t], layout.panel_rows[t]) > 0,
                              "step %s at %dx%d opens without the sources in %s on screen", trace->steps[i].id,
                              sizes[z][0], sizes[z][1], trace->steps[i].tensors[t].name);
            }
            frame_free(&frame);
        }
        for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
            Frame frame;
            screen_at(&app, &frame, trace, CASES[c].step, CASES[c].keys, sizes[z][0], sizes[z][1]);
            ViewLayout layout;
            view_layout(&app, frame.rows, frame.cols, &layout);
            const TraceStep *step = &trace->steps[app.step];
            for (int t = 0; t < step->n_tensors; t++) {
                if (t == app.focus[app.step] || !holds_source(&app, t) || (z == 2 && layout.panel_rows[t] < 3))
                    continue;
                ck_assert_msg(count_role(&frame, ROLE_SOURCE, layout.panel_top[t], layout.panel_rows[t]) > 0,
                              "%s after \"%s\" at %dx%d: no source of the selection in %s on screen", CASES[c].step,
                              CASES[c].keys, sizes[z][0], sizes[z][1], step->tensors[t].name);
            }
            frame_free(&frame);
        }
    }
    /* the issue's cases by name: politi's key (the second-best match) and politi's value row */
    Frame frame;
    char buf[256];
    screen_at(&app, &frame, trace, "scores", "jjjj", 80, 24);
    int found = 0;
    for (int r = 0; r < frame.rows; r++)
        found += strncmp(row_text(&frame, r, buf, sizeof buf), "politi ", 7) == 0 &&
                 count_role(&frame, ROLE_SOURCE, r, 1) > 0;
    ck_assert_msg(found == 1, "step 6, scores_1[politi]: politi's key is not lit on screen");
    frame_free(&frame);
    /* step 10 at 80x24 opens with scores, attention_weights and z all showing values */
    screen_at(&app, &frame, trace, "all_tokens", "", 80, 24);
    ViewLayout layout;
    view_layout(&app, 24, 80, &layout);
    const TraceStep *all = &trace->steps[app.step];
    for (int t = 0; t < all->n_tensors; t++) {
        const char *name = all->tensors[t].name;
        if (strcmp(name, "scores") == 0 || strcmp(name, "attention_weights") == 0 || strcmp(name, "z") == 0)
            ck_assert_msg(layout.panel_rows[t] >= 3, "step 10 at 80x24: %s gets %d rows", name, layout.panel_rows[t]);
    }
    frame_free(&frame);
    trace_free(trace);
}
END_TEST

/* Defect 2: the head shown follows the selection across the step. */
START_TEST(test_heads_follow_the_selection)
{
    Trace *trace = fixture_article_trace();
    static App app;
    Frame frame;
    char buf[256];
    /* step 14, ]: scores moves to head 1 with attention_weights, and lights up */
    screen_at(&app, &frame, trace, "mh_softmax", "]", 80, 24);
    ck_assert_msg(strstr(row_text(&frame, 3, buf, sizeof buf), "scores [4, 5, 5] (input), head 1") != NULL, "%s", buf);
    ck_assert_int_gt(count_role(&frame, ROLE_SOURCE, 0, 24), 0);
    frame_free(&frame);
    /* the other way: the focus on scores (an input), ] moves the weights too */
    screen_at(&app, &frame, trace, "mh_softmax", "<S-Tab>]]", 80, 24);
    int heads2 = 0;
    for (int r = 0; r < 24; r++)
        heads2 += strstr(row_text(&frame, r, buf, sizeof buf), ", head 2 (heads 0-3)") != NULL;
    ck_assert_int_eq(heads2, 2);
    frame_free(&frame);
    /* step 16, llll: concat_heads[my][4] is head_outputs[1][my][0], and that panel shows head 1 */
    screen_at(&app, &frame, trace, "mh_concat", "llll", 80, 24);
    ck_assert_msg(strstr(row_text(&frame, 4, buf, sizeof buf), "head_outputs [4, 5, 4] (input), head 1") != NULL, "%s",
                  buf);
    ck_assert_int_eq(count_role(&frame, ROLE_SOURCE, 0, 24), 7); /* the one value copied, "2.9243" */
    frame_free(&frame);
    trace_free(trace);
}
END_TEST

/* Defect 4: the inspector covers neither the selected value nor its
 * sources, in the issue's case (a1, "sums to 1") and over every step. */
START_TEST(test_inspector_covers_nothing_it_explains)
{
    Trace *trace = fixture_article_trace();
    static App app;
    static const char *const KEYS[] = {"", "j", "jj", "l"};
    for (int i = 0; i < trace->n_steps; i++)
        for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++) {
            Frame plain, inspected;
            screen_at(&app, &plain, trace, trace->steps[i].id, KEYS[k], 80, 24);
            app_handle_key(&app, KEY_CODE_ENTER, 24, 80);
            ck_assert(frame_init(&inspected, 24, 80));
            app_compose(&app, &inspected);
            int cursor_before = count_role(&plain, ROLE_CURSOR, 0, 24);
            int cursor_after = count_role(&inspected, ROLE_CURSOR, 0, 24);
            ck_assert_msg(cursor_after == cursor_before, "step %s \"%s\": the inspector hides the selected value",
                          trace->steps[i].id, KEYS[k]);
            frame_free(&plain);
            frame_free(&inspected);
        }
    /* the issue's screen: softmax, a1[my], every source still on screen */
    Frame plain, inspected;
    screen_at(&app, &plain, trace, "softmax", "", 80, 24);
    app_handle_key(&app, KEY_CODE_ENTER, 24, 80);
    ck_assert(frame_init(&inspected, 24, 80));
    app_compose(&app, &inspected);
    ck_assert_int_eq(count_role(&inspected, ROLE_SOURCE, 0, 24), count_role(&plain, ROLE_SOURCE, 0, 24));
    ck_assert_int_gt(count_role(&plain, ROLE_SOURCE, 0, 24), 0);
    frame_free(&plain);
    frame_free(&inspected);
    /* a tall box scrolls rather than cover the sources (issue 15, point 4:
     * scores[0][name][name] used to hide the query row it is made from;
     * the README's GPT-2 screen hid its row of scores the same way) */
    static const char *const SCROLLS[][2] = {{"mh_scores", "jl"}, {"softmax", "jj"}, {"mh_softmax", "jjjl"}};
    for (size_t k = 0; k < sizeof SCROLLS / sizeof SCROLLS[0]; k++) {
        screen_at(&app, &plain, trace, SCROLLS[k][0], SCROLLS[k][1], 80, 24);
        app_handle_key(&app, KEY_CODE_ENTER, 24, 80);
        ck_assert(frame_init(&inspected, 24, 80));
        app_compose(&app, &inspected);
        ck_assert_msg(count_role(&inspected, ROLE_SOURCE, 0, 24) == count_role(&plain, ROLE_SOURCE, 0, 24),
                      "%s \"%s\": the inspector covers %d of the %d sources", SCROLLS[k][0], SCROLLS[k][1],
                      count_role(&plain, ROLE_SOURCE, 0, 24) - count_role(&inspected, ROLE_SOURCE, 0, 24),
                      count_role(&plain, ROLE_SOURCE, 0, 24));
        frame_free(&plain);
        frame_free(&inspected);
    }
    trace_free(trace);
}
END_TEST

/* Defect 6: rows, columns and heads count from 0 in the panel titles, as
 * their labels do, and the help says so. */
START_TEST(test_indices_count_from_zero)
{
    Trace *trace = fixture_article_trace();
    static App app;
    Frame frame;
    char buf[256], next[256];
    /* embedding [10, 16] scrolled to row 6 for sentence_embed[name][0] */
    screen_at(&app, &frame, trace, "embed", "j", 80, 24);
    int checked = 0;
    for (int r = 0; r + 2 < 24; r++) {
        const char *title = strstr(row_text(&frame, r, buf, sizeof buf), "embedding [10, 16], rows ");
        if (title == NULL)
            continue;
        unsigned first, last;
        ck_assert_int_eq(sscanf(title, "embedding [10, 16], rows %u-%u of 10", &first, &last), 2);
        unsigned label;
        ck_assert_int_eq(sscanf(row_text(&frame, r + 2, next, sizeof next), "%u", &label), 1);
        ck_assert_uint_eq(first, label); /* the title's first row is the first label shown */
        ck_assert_uint_le(first, 6);
        ck_assert_uint_ge(last, 6);
        ck_assert_msg(strstr(title, "cols 0-") != NULL, "%s", title);
        checked++;
    }
    ck_assert_int_eq(checked, 1);
    frame_free(&frame);
    screen_at(&app, &frame, trace, "mh_softmax", "", 80, 24);
    ck_assert_msg(strstr(row_text(&frame, 3, buf, sizeof buf), "head 0 (heads 0-3)") != NULL, "%s", buf);
    frame_free(&frame);
    screen_at(&app, &frame, trace, NULL, "?jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj", 80, 24);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "count from 0") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    trace_free(trace);
}
END_TEST

/* Defect 3: weights read as 3 fixed decimals whatever their smallest
 * value; other tensors in fixed notation despite a tiny value; the status
 * line writes the selected value as its panel does. */
START_TEST(test_numbers_by_role)
{
    /* the writer, against values worked out by hand */
    static const float probs[] = {0.58394f, 7.9161e-05f, 0.99993f, 0.0f, 1.0f, 0.0329f, 0.0005f};
    static const char *const want[] = {"0.584", "<0.001", ">0.999", "0.000", "1.000", "0.033", "0.001"};
    NumFormat fmt = numfmt_choose_probability(probs, 7);
    ck_assert_int_eq(fmt.width, 6);
    for (int i = 0; i < 7; i++) {
        char buf[NUMFMT_BUF];
        numfmt_write(&fmt, probs[i], buf);
        ck_assert_msg(strcmp(buf, want[i]) == 0, "%g: got %s, want %s", probs[i], buf, want[i]);
    }
    static const float acts[] = {2.0805f, -9.9382e-04f, -3.5272f};
    fmt = numfmt_choose_fixed(acts, 3, 4);
    ck_assert_int_eq(fmt.notation, NUM_FIXED);
    char buf[NUMFMT_BUF];
    numfmt_write_padded(&fmt, acts[1], buf);
    ck_assert_str_eq(buf, "-0.0010");
    static const float huge[] = {2.5e7f, 1.0f};
    ck_assert_int_eq(numfmt_choose_fixed(huge, 2, 4).notation, NUM_SCIENTIFIC);
    /* on screen: no scientific notation on the article's part 1 and 2 weights */
    Trace *trace = fixture_article_trace();
    static App app;
    static const char *const STEPS[] = {"embed",      "softmax",    "weighted_sum",
                                        "all_tokens", "mh_softmax", "mh_weighted_sum"};
    for (size_t k = 0; k < sizeof STEPS / sizeof STEPS[0]; k++) {
        Frame frame;
        screen_at(&app, &frame, trace, STEPS[k], "", 80, 24);
        StrBuf text = {0};
        frame_to_text(&frame, &text);
        ck_assert_msg(strstr(strbuf_text(&text), "e-0") == NULL && strstr(strbuf_text(&text), "e+0") == NULL,
                      "%s shows scientific notation:\n%s", STEPS[k], strbuf_text(&text));
        strbuf_free(&text);
        frame_free(&frame);
    }
    Frame frame;
    char line[256];
    screen_at(&app, &frame, trace, "weighted_sum", "<S-Tab><S-Tab>", 80, 24);
    ck_assert_msg(strstr(row_text(&frame, 4, line, sizeof line), "my        0.584") != NULL, "%s", line);
    ck_assert_msg(strstr(row_text(&frame, 5, line, sizeof line), "name     <0.001") != NULL, "%s", line);
    ck_assert_msg(strstr(row_text(&frame, 22, line, sizeof line), "a1[my] = 0.584 ") != NULL, "%s", line);
    frame_free(&frame);
    trace_free(trace);
}
END_TEST

/* Defect 5 (part): a cut text ends in "…"; the explanation takes the rows
 * the panels leave free. */
START_TEST(test_cut_text_says_so)
{
    Trace *trace = fixture_article_trace();
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors));
    lesson_errors_free(&errors);
    StrBuf text = {0};
    compose_screen(trace, &lesson, "mh_softmax", "<Esc>", 80, 24, false, false, NULL, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "scratc part") == NULL, "%s", strbuf_text(&text));
    ck_assert_msg(strstr(strbuf_text(&text), "… part 2: multi-head") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    /* the help wraps a long line instead of cutting it, at 80x24 and 50x12 */
    static const int sizes[][2] = {{80, 24}, {50, 12}};
    for (size_t z = 0; z < 2; z++) {
        bool seen = false;
        for (int down = 0; down < 60 && !seen; down += 4) {
            char keys[80] = "?";
            for (int k = 0; k < down; k++)
                strcat(keys, "j");
            compose_screen(trace, NULL, NULL, keys, sizes[z][0], sizes[z][1], false, false, NULL, &text);
            seen = strstr(strbuf_text(&text), "have them)") != NULL;
            strbuf_free(&text);
        }
        ck_assert_msg(seen, "the help for N is cut at %dx%d", sizes[z][0], sizes[z][1]);
    }
    /* step 1 at 80x24: the whole explanation, with no "read it all" */
    compose_screen(trace, NULL, "tokenize", NULL, 80, 24, false, false, NULL, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "e: read it all") == NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Defect 10 (part): the --no-color marks have a legend; --causal says to
 * move the focus off token 1. */
START_TEST(test_small_things)
{
    Trace *trace = fixture_article_trace();
    static App app;
    Frame frame;
    screen_at(&app, &frame, trace, NULL, "?jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj", 80, 24);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "--no-color") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    trace_free(trace);
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    cfg.causal = true;
    trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    config_free(&cfg);
    const char *scale = trace->steps[trace_find_step(trace, "scale", NULL)].explanation;
    ck_assert_msg(strstr(scale, "--focus 1") != NULL && strstr(scale, "--focus 3") != NULL, "%s", scale);
    trace_free(trace);
}
END_TEST

/* Defect 8 (part): Space on the last step ends the walk with a recap: every
 * step's tensor and shape, where attention sits, and in a lesson the
 * questions' score. Space or Esc closes it. */
START_TEST(test_the_end_has_a_recap)
{
    Trace *trace = fixture_article_trace();
    static App app;
    Frame frame;
    screen_at(&app, &frame, trace, "mh_output", "<Space>jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj", 80, 24);
    ck_assert_int_eq(app.overlay, OVERLAY_RECAP);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "The end of the walk") != NULL, "%s", strbuf_text(&text));
    ck_assert_msg(strstr(strbuf_text(&text), "residual") != NULL, "%s", strbuf_text(&text));
    ck_assert_msg(strstr(strbuf_text(&text), "next token") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    app_handle_key(&app, ' ', 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_NONE);
    ck_assert_int_eq(app.pos, app.n_walk - 1);
    /* the shapes: the last step's tensor with its shape, found on the first page */
    screen_at(&app, &frame, trace, "mh_output", "<Space>", 100, 30);
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "multihead_output [5, 16]") != NULL, "%s", strbuf_text(&text));
    ck_assert_msg(strstr(strbuf_text(&text), "sentence_embed [5, 16]") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    /* in the built-in lesson, the questions' score: one answered right at once */
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors));
    lesson_errors_free(&errors);
    compose_screen(trace, &lesson, NULL, "<Space>[5,16]<Enter><Enter>Gj<Space>jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj", 80, 24,
                   false, false, NULL, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "Questions: 1 of ") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Defect 3 (the pictures): v draws weights as bars, then as the words
 * each query looks at, thickest first, in Unicode and ASCII; a third v
 * brings the numbers back. */
START_TEST(test_attention_pictures)
{
    Trace *trace = fixture_article_trace();
    static App app;
    Frame frame;
    char buf[256];
    screen_at(&app, &frame, trace, "all_tokens", "v", 80, 24);
    int weights_title = -1;
    for (int r = 0; r < 24 && weights_title < 0; r++)
        if (strstr(row_text(&frame, r, buf, sizeof buf), "attention_weights [5, 5], as bars (v)") != NULL)
            weights_title = r;
    ck_assert_int_ge(weights_title, 0);
    row_text(&frame, weights_title + 2, buf, sizeof buf); /* the "my" row: 0.584 is 3.5 of 6 blocks */
    ck_assert_msg(strncmp(buf, "my       ███▌", strlen("my       ███▌")) == 0, "%s", buf);
    ck_assert_msg(strstr(buf, "0.584") == NULL, "%s", buf);
    ck_assert_msg(strstr(row_text(&frame, 22, buf, sizeof buf), "= 0.584") != NULL, "%s", buf);
    frame_free(&frame);
    /* head 0 of step 14, row my: my 0.492, marcello 0.319, politi 0.159, is 0.022 (name 0.008 is left out) */
    for (int ascii = 0; ascii < 2; ascii++) {
        ViewOptions view = DEFAULT_VIEW;
        view.ascii = ascii == 1;
        app_init(&app, trace, NULL, &view);
        app_go(&app, trace_find_step(trace, "mh_softmax", NULL));
        app_handle_key(&app, 'v', 24, 80);
        app_handle_key(&app, 'v', 24, 80);
        ck_assert(frame_init(&frame, 24, 80));
        app_compose(&app, &frame);
        const char *my = NULL;
        for (int r = 0; r < 24 && my == NULL; r++)
            if (strncmp(row_text(&frame, r, buf, sizeof buf), "my       my ", 12) == 0)
                my = buf;
        ck_assert_msg(my != NULL, "no who-looks-at-whom row for my");
        const char *a = strstr(my, "my "), *b = strstr(my, "marcello "), *c = strstr(my, "politi "),
                   *d = strstr(my, "is ");
        ck_assert_msg(a != NULL && b != NULL && c != NULL && d != NULL && a < b && b < c && c < d, "%s", my);
        ck_assert_msg(strstr(my, "name") == NULL, "%s", my);
        ck_assert_msg(strstr(my, ascii ? "#####" : "████▉") != NULL, "%s", my); /* 0.492 of 10 columns */
        ck_assert_msg(strchr(my, '?') == NULL, "%s", my);
        frame_free(&frame);
    }
    screen_at(&app, &frame, trace, "mh_softmax", "vvv", 80, 24);
    ck_assert_int_eq(app.picture, PICTURE_NUMBERS);
    ck_assert_msg(strstr(row_text(&frame, 12, buf, sizeof buf), "0.492") != NULL, "%s", buf);
    frame_free(&frame);
    trace_free(trace);
}
END_TEST

/* Defect 8 (the UI's half): a walk reopened with app_resume says where,
 * and how to start over, until the next key. */
START_TEST(test_resuming_says_so)
{
    Trace *trace = fixture_article_trace();
    static App app;
    app_init(&app, trace, NULL, &DEFAULT_VIEW);
    app_resume(&app, 16);
    Frame frame;
    ck_assert(frame_init(&frame, 24, 80));
    app_compose(&app, &frame);
    char buf[256];
    ck_assert_msg(strstr(row_text(&frame, 22, buf, sizeof buf), "Resumed at step 17 of 17") != NULL, "%s", buf);
    app_handle_key(&app, 'k', 24, 80);
    app_compose(&app, &frame);
    ck_assert_msg(strstr(row_text(&frame, 22, buf, sizeof buf), "Resumed") == NULL, "%s", buf);
    app_resume(&app, 0); /* at the start there is nothing to say */
    app_compose(&app, &frame);
    ck_assert_msg(strstr(row_text(&frame, 22, buf, sizeof buf), "Resumed") == NULL, "%s", buf);
    frame_free(&frame);
    trace_free(trace);
}
END_TEST

/* Reads a whole file into out (tests run from the source tree). */
static void read_text(const char *path, StrBuf *out)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_printf(out, "%.*s", (int)n, buf);
    fclose(f);
}

/* The issue's wrong sentences, each pinned by what it must now say. */
START_TEST(test_fixed_sentences)
{
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_load("lessons/causal-mask.lesson", &lesson, &errors));
    lesson_errors_free(&errors);
    bool quiz_seen = false, note_seen = false;
    for (int i = 0; i < lesson.n_steps; i++) {
        const LessonStep *ls = &lesson.steps[i];
        for (int q = 0; q < ls->n_quizzes; q++)
            if (strstr(ls->quizzes[q].question, "scaled_scores_3") != NULL) {
                /* token 3 is the query, the two after it are masked */
                ck_assert_msg(strstr(ls->quizzes[q].question, "is masked") == NULL, "%s", ls->quizzes[q].question);
                ck_assert_msg(strstr(ls->quizzes[q].question, "is the query") != NULL, "%s", ls->quizzes[q].question);
                quiz_seen = true;
            }
        if (ls->notes != NULL && strstr(ls->notes, "produces \"marcello\"") != NULL) {
            ck_assert_msg(strstr(ls->notes, "Rows 1\nto 3") != NULL || strstr(ls->notes, "Rows 1 to 3") != NULL, "%s",
                          ls->notes);
            note_seen = true;
        }
    }
    ck_assert(quiz_seen && note_seen);
    lesson_free(&lesson);
    StrBuf article = {0};
    read_text("lessons/article.lesson", &article);
    const char *a = strbuf_text(&article);
    ck_assert(strstr(a, "exactly the dot products of part 1") == NULL);
    ck_assert(strstr(a, "[16, 4] matrix") != NULL);
    ck_assert(strstr(a, "The multi-head lesson runs") == NULL);
    ck_assert(strstr(a, "not normalised") != NULL);
    strbuf_free(&article);
    /* step 6's built-in text: length matters too */
    Trace *trace = fixture_article_trace();
    ck_assert(strstr(trace->steps[trace_find_step(trace, "scores", NULL)].explanation, "not normalised") != NULL);
    /* the softmax inspector says why the max is taken away */
    int s = trace_find_step(trace, "softmax", NULL);
    StrBuf cell = {0};
    explain_cell(trace, s, trace->steps[s].main_tensor, 0, 4, NULL, 76, &cell);
    ck_assert_msg(strstr(strbuf_text(&cell), "changes nothing") != NULL, "%s", strbuf_text(&cell));
    strbuf_free(&cell);
    trace_free(trace);
}
END_TEST

/* The colour index of the first cell of row `row` that holds `letter` in
 * ROLE_LETTER, from column `from` on, or -1 when none does. */
static int letter_colour_at(const Frame *frame, int row, int from, char letter)
{
    for (int c = from; c < frame->cols; c++) {
        const Cell *cell = &frame->cells[row * frame->cols + c];
        if (cell->role == ROLE_LETTER && cell->ch == (uint32_t)letter)
            return cell->letter;
    }
    return -1;
}

/* The first row whose text contains needle, or -1. */
static int row_with(const Frame *frame, const char *needle)
{
    char buf[512];
    for (int r = 0; r < frame->rows; r++)
        if (strstr(row_text(frame, r, buf, sizeof buf), needle) != NULL)
            return r;
    return -1;
}

/* Defect 7: every einsum names what each letter runs over, 'k' (the key
 * token in step 13, the value width in step 15) included; one axis has
 * one colour in the letters line, the panel titles and the labels,
 * whatever letter spells it; and the corner above the labels names the
 * rows' and columns' letters, also without colour. */
START_TEST(test_einsum_letters_named)
{
    Trace *trace = fixture_article_trace();
    static App app;
    Frame f13, f15;
    screen_at(&app, &f13, trace, "mh_scores", "", 80, 24);
    int letters13 = row_with(&f13, "letters: h=4 head, s=5 query token, e=4 head dim, k=5 key token; summed: e");
    ck_assert_msg(letters13 >= 0, "step 13 names its letters");
    int key13 = letter_colour_at(&f13, letters13, 10, 'k');
    ck_assert_int_ge(key13, 0);
    /* the scores panel: title [h=4, s=5, k=5], corner s\k, key words over the columns */
    int title = row_with(&f13, "scores [h=4, s=5, k=5]");
    ck_assert_int_ge(title, 0);
    ck_assert_int_eq(letter_colour_at(&f13, title, 0, 'k'), key13);
    char buf[512];
    ck_assert_msg(strncmp(row_text(&f13, title + 1, buf, sizeof buf), "s\\k", 3) == 0, "corner: '%s'", buf);
    int name_col = (int)(strstr(buf, "name") - buf);
    const Cell *label = &f13.cells[(title + 1) * f13.cols + name_col];
    ck_assert_msg(label->role == ROLE_LETTER && label->letter == key13, "the key words take the key colour");
    ck_assert_int_ge(row_with(&f13, "keys [h=4, k=5, e=4] (input)"), 0);
    frame_free(&f13);

    screen_at(&app, &f15, trace, "mh_weighted_sum", "", 80, 24);
    int letters15 = row_with(&f15, "letters: h=4 head, i=5 query token, j=5 key token, k=4 value dim; summed: j");
    ck_assert_msg(letters15 >= 0, "step 15 names its letters");
    ck_assert_int_eq(letter_colour_at(&f15, letters15, 10, 'j'), key13); /* same axis, other letter */
    ck_assert_int_ne(letter_colour_at(&f15, letters15, 10, 'k'), key13); /* same letter, other axis */
    ck_assert_int_eq(letter_colour_at(&f15, letters15, 10, 'i'), letter_colour_at(&f15, letters15, 10, 'i'));
    ck_assert_int_ge(row_with(&f15, "i\\j"), 0);
    frame_free(&f15);

    /* 50x12: the names shorten but stay, and the formula is not cut silently */
    screen_at(&app, &f13, trace, "mh_scores", "", 50, 12);
    ck_assert_int_ge(row_with(&f13, "h=4 head s=5 query e=4 dim k=5 key; sums e"), 0);
    ck_assert_int_ge(row_with(&f13, "/ √4"), 0);
    frame_free(&f13);
    screen_at(&app, &f15, trace, "mh_weighted_sum", "", 50, 12);
    ck_assert_int_ge(row_with(&f15, "k=4 value"), 0);
    ck_assert_int_ge(row_with(&f15, "attention_weights, values)"), 0);
    frame_free(&f15);

    /* without colour the letters still say it */
    ViewOptions view = DEFAULT_VIEW;
    view.no_color = true;
    app_init(&app, trace, NULL, &view);
    app_go(&app, trace_find_step(trace, "mh_weighted_sum", NULL));
    ck_assert(frame_init(&f15, 24, 80));
    app_compose(&app, &f15);
    ck_assert_int_ge(row_with(&f15, "i\\k"), 0);
    ck_assert_int_ge(row_with(&f15, "head_outputs [h=4, i=5, k=4]"), 0);
    frame_free(&f15);
    trace_free(trace);
}
END_TEST

/* ------------------------------------------------------------------------
 * The composer's contract: it reads the App and writes only the frame
 * ---------------------------------------------------------------------- */

/* Composing changes nothing in the App, whatever is open and however far
 * an overlay was scrolled, at every size. */
START_TEST(test_compose_is_pure)
{
    Trace *trace = fixture_article_trace();
    static App app, before;
    static const char *const KEYS[] = {"", "?", "s<Down>", "jj<Enter>", "e", "?jjjjjjjjjjjjjjjjjjjjjjjjjjjjjj"};
    static const int sizes[][2] = {{24, 80}, {16, 60}, {40, 120}, {10, 40}};
    for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            app_init(&app, trace, NULL, &DEFAULT_VIEW);
            KeyCode codes[64];
            size_t n = 0;
            Error err;
            error_clear(&err);
            ck_assert_msg(keys_parse(KEYS[k], codes, 64, &n, &err), "%s", err.message);
            for (size_t i = 0; i < n; i++)
                app_handle_key(&app, codes[i], 24, 80);
            app.overlay_scroll += 1000; /* far past any text: the composer must clamp, not store */
            memcpy(&before, &app, sizeof app);
            Frame frame;
            ck_assert(frame_init(&frame, sizes[z][0], sizes[z][1]));
            app_compose(&app, &frame);
            frame_free(&frame);
            ck_assert_msg(memcmp(&before, &app, sizeof app) == 0, "composing \"%s\" at %dx%d changed the App", KEYS[k],
                          sizes[z][1], sizes[z][0]);
        }
    trace_free(trace);
}
END_TEST

/* Reads "lines A-B of N" from the overlay's note on a composed screen;
 * false when the screen has no such note. */
static bool overlay_note(const App *app, int rows, int cols, int *a, int *b, int *n)
{
    Frame frame;
    ck_assert(frame_init(&frame, rows, cols));
    app_compose(app, &frame);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    frame_free(&frame);
    bool found = false;
    for (const char *at = strstr(strbuf_text(&text), " lines "); at != NULL && !found; at = strstr(at + 1, " lines "))
        found = sscanf(at, " lines %d-%d of %d", a, b, n) == 3;
    strbuf_free(&text);
    return found;
}

/* Applies keys (vim notation) to app on a rows x cols screen, composing
 * nothing in between (as --dump-screen does), then `repeat` times the key
 * `more` (none when 0). */
static void press(App *app, const char *keys, KeyCode more, int repeat, int rows, int cols)
{
    KeyCode codes[16];
    size_t n = 0;
    Error err;
    error_clear(&err);
    ck_assert_msg(keys_parse(keys, codes, 16, &n, &err), "%s", err.message);
    for (size_t i = 0; i < n; i++)
        app_handle_key(app, codes[i], rows, cols);
    for (int i = 0; i < repeat; i++)
        app_handle_key(app, i % 2 == 0 ? more : KEY_CODE_PAGE_DOWN, rows, cols);
}

/* Issue 12, rendering: --ascii spells "√d_k" as "sqrt(d_k)" (not
 * "sqrtd_k"), and the "read it all" note is whole in ASCII too. */
START_TEST(test_ascii_spellings)
{
    Frame frame;
    ck_assert(frame_init(&frame, 2, 40));
    frame_clear(&frame);
    frame.ascii = true;
    frame_put(&frame, 0, 0, "scores / √d_k and / √16", ROLE_TEXT, 40);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "scores / sqrt(d_k) and / sqrt(16)") != NULL, "%s", strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    Trace *trace = fixture_article_trace();
    StrBuf screen = {0};
    compose_screen(trace, NULL, "weights", NULL, 80, 24, false, true, NULL, &screen);
    ck_assert_msg(strstr(strbuf_text(&screen), "... e: read it all") != NULL, "%s", strbuf_text(&screen));
    strbuf_free(&screen);
    trace_free(trace);
}
END_TEST

/* Whether a composed screen shows a quiz's answer line ("> " at the start
 * of the pane's text, boxed or not). */
static bool answer_line(const char *screen)
{
    return strstr(screen, "│ >") != NULL || strstr(screen, "\n >") != NULL;
}

/* Issue 12: a "before" quiz shows no trace of the step's outputs (the
 * formula's right-hand side, the status value, the explanation, their
 * panels), keeps its inputs on screen, and its prompt's example is not an
 * answer; an "after" quiz leaves the panels above it and lets the
 * navigation keys through while letters type; at 50x12 the answer line
 * and the feedback show; Enter after the last after-quiz moves on. */
START_TEST(test_quizzes_teach)
{
    Trace *trace = fixture_article_trace();
    static App app;
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors));
    lesson_errors_free(&errors);
    static const int SIZES[][2] = {{24, 80}, {12, 50}};
    for (size_t z = 0; z < 2; z++) {
        int rows = SIZES[z][0], cols = SIZES[z][1];
        app_init(&app, trace, &lesson, &DEFAULT_VIEW);
        press(&app, "<Space>", 0, 0, rows, cols); /* embed: "What is the shape of sentence_embed?" [5, 16] */
        ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
        StrBuf text = {0};
        Frame frame;
        ck_assert(frame_init(&frame, rows, cols));
        app_compose(&app, &frame);
        frame_to_text(&frame, &text);
        const char *screen = strbuf_text(&text);
        ck_assert_msg(strstr(screen, "5, 16") == NULL && strstr(screen, "5x16") == NULL, "%dx%d: the answer shows:\n%s",
                      cols, rows, screen);
        ck_assert_msg(strstr(screen, "sentence_embed[") == NULL, "the status line shows an output:\n%s", screen);
        ck_assert_msg(strstr(screen, "tokenized_sentence") != NULL, "the input is hidden:\n%s", screen);
        ck_assert_msg(strstr(screen, "such as [2, 3]") != NULL && answer_line(screen), "%s", screen);
        ck_assert_msg(strstr(screen, "The embedding table") == NULL, "the explanation shows:\n%s", screen);
        strbuf_free(&text);
        /* a wrong answer: said back with the feedback, the answer line still there */
        press(&app, "[16,5]<Enter>", 0, 0, rows, cols);
        app_compose(&app, &frame);
        StrBuf wrong = {0};
        frame_to_text(&frame, &wrong);
        ck_assert_msg(strstr(strbuf_text(&wrong), "Not quite: [16,5]") != NULL && answer_line(strbuf_text(&wrong)),
                      "%dx%d:\n%s", cols, rows, strbuf_text(&wrong));
        strbuf_free(&wrong);
        frame_free(&frame);
    }
    /* after: softmax's "which token" quiz; Down moves the selection, letters type, the pane is below a1 */
    app_init(&app, trace, &lesson, &DEFAULT_VIEW);
    app_go(&app, trace_find_step(trace, "softmax", NULL));
    int s = app.step, t = app.focus[s];
    press(&app, "<Space>", 0, 0, 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
    press(&app, "mine<Enter>", 0, 0, 24, 80); /* not a word of the sentence: said so, no try used */
    ck_assert_int_eq(app.quiz_feedback, FEEDBACK_NOT_A_TOKEN);
    ck_assert_int_eq(app.quiz[app.pos][0].tries, 0);
    size_t before = app.cursor[s][t];
    press(&app, "<Down>my", 0, 0, 24, 80);
    ck_assert_uint_eq(app.cursor[s][t], before + 1);
    ck_assert_str_eq(app.quiz_input, "my");
    ViewLayout layout;
    view_layout(&app, 24, 80, &layout);
    ck_assert_int_gt(layout.quiz_rows, 0);
    ck_assert_int_le(layout.panel_top[t] + layout.panel_rows[t], layout.quiz_top);
    ck_assert_int_ge(layout.panel_rows[t], 6); /* the title and a1's five values */
    int pos = app.pos;
    press(&app, "<Enter><Enter>", 0, 0, 24, 80); /* right, then Enter: on to the next step */
    ck_assert_int_eq(app.pos, pos + 1);
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Parses the lesson text (a NUL-terminated literal) as name, failing the
 * test on an error, and opens app on trace with it. */
static void open_lesson(App *app, Lesson *lesson, Trace *trace, const char *text, const char *name)
{
    LessonErrors errors = {0};
    ck_assert_msg(lesson_parse(text, strlen(text), name, lesson, &errors), "%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    app_init(app, trace, lesson, &DEFAULT_VIEW);
}

/* A token answer may be typed as a label shows a repeated word, "the(5)",
 * and a position that holds another word is a slip (no try used), as a
 * word not in the sentence is. An answer that is one copy of a repeated
 * word takes that copy alone; the word alone asks which (no try used). */
START_TEST(test_token_answer_as_a_label)
{
    static const char TEXT[] =
        "attn-lesson: 1\ntitle: labels\nsentence: the cat sat on the mat\nsteps: softmax\n\n"
        "## softmax\n\nText.\n\n"
        "::: quiz\nkind: token\nquestion: Which?\nanswer: the\n:::\n\n"
        "::: quiz\nkind: token\nquestion: And now?\nanswer: the(5)\n:::\n";
    Trace *trace = fixture_sentence_trace("the cat sat on the mat");
    static App app;
    static Lesson lesson;
    open_lesson(&app, &lesson, trace, TEXT, "labels.lesson");
    press(&app, "<Space>", 0, 0, 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
    press(&app, "the(3)<Enter>", 0, 0, 24, 80); /* token 3 is "sat" */
    ck_assert_int_eq(app.quiz_feedback, FEEDBACK_NOT_A_TOKEN);
    ck_assert_int_eq(app.quiz[app.pos][0].tries, 0);
    press(&app, "the(7)<Enter>", 0, 0, 24, 80); /* there are 6 tokens */
    ck_assert_int_eq(app.quiz_feedback, FEEDBACK_NOT_A_TOKEN);
    press(&app, "cat(2)<Enter>", 0, 0, 24, 80); /* a token, the wrong one */
    ck_assert_int_eq(app.quiz_feedback, FEEDBACK_WRONG);
    ck_assert_int_eq(app.quiz[app.pos][0].tries, 1);
    press(&app, " THE(5) <Enter>", 0, 0, 24, 80); /* the answer is the word alone: either copy */
    ck_assert_int_eq(app.quiz[app.pos][0].status, QUIZ_RIGHT);
    /* the answer is one copy, the(5): the word alone asks which, the other copy is wrong */
    press(&app, "<Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz_index, 1);
    press(&app, "the<Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz_feedback, FEEDBACK_WHICH_TOKEN);
    ck_assert_int_eq(app.quiz[app.pos][1].tries, 0);
    Frame frame;
    ck_assert(frame_init(&frame, 24, 80));
    app_compose(&app, &frame);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text),
                         "\"the\" is more than one token: the(1), the(5). Type the one you mean.") != NULL,
                  "%s", strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    press(&app, "the(1)<Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz_feedback, FEEDBACK_WRONG);
    ck_assert_int_eq(app.quiz[app.pos][1].tries, 1);
    press(&app, "the(5)<Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz[app.pos][1].status, QUIZ_RIGHT);
    /* the lesson's only step: Enter closes the question, and says so */
    ck_assert(frame_init(&frame, 24, 80));
    app_compose(&app, &frame);
    frame_to_text(&frame, &text);
    ck_assert_msg(strstr(strbuf_text(&text), "Enter: close it (this is the last step)") != NULL, "%s",
                  strbuf_text(&text));
    strbuf_free(&text);
    frame_free(&frame);
    press(&app, "<Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_NONE);
    ck_assert_int_eq(app.pos, 0);
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Enter after an answered "after" quiz opens the step's next question,
 * and the selection stays on the input the lesson's select: names
 * (issue 19: a lesson about weights shown as a step's input). */
START_TEST(test_next_question_keeps_the_select)
{
    static const char TEXT[] =
        "attn-lesson: 1\ntitle: two questions\nsteps: softmax\n\n## softmax\n\n"
        "::: step\nselect: scaled_scores_1[name]\n:::\n\nText.\n\n"
        "::: quiz\nkind: number\nquestion: One?\nanswer: 1\n:::\n\n"
        "::: quiz\nkind: number\nquestion: Two?\nanswer: 2\n:::\n";
    Trace *trace = fixture_article_trace();
    static App app;
    static Lesson lesson;
    open_lesson(&app, &lesson, trace, TEXT, "two.lesson");
    int s = app.step, tensor;
    size_t at;
    ck_assert(lesson_step_select(&lesson.steps[0], trace, s, &tensor, &at));
    ck_assert(!trace->steps[s].tensors[tensor].is_output);
    ck_assert_int_eq(app.focus[s], tensor);
    press(&app, "<Space>1<Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz[app.pos][0].status, QUIZ_RIGHT);
    press(&app, "<Enter>", 0, 0, 24, 80); /* "Enter: the next question" */
    ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
    ck_assert_int_eq(app.quiz_index, 1);
    press(&app, "<Down>2<Enter><Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz[app.pos][1].status, QUIZ_RIGHT);
    ck_assert_int_eq(app.overlay, OVERLAY_NONE);
    ck_assert_int_eq(app.focus[s], tensor);           /* not the step's main tensor, a1 */
    ck_assert_uint_eq(app.cursor[s][tensor], at + 1); /* the learner's Down kept */
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Scrolling an overlay past its end stops at the end, so the first key
 * back scrolls back at once: with no frame composed in between (headless
 * replay) exactly as in the terminal, which composes after every key. */
START_TEST(test_overlay_scroll_stops_at_the_end)
{
    Trace *trace = fixture_article_trace();
    static App app, ended;
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors));
    lesson_errors_free(&errors);
    static const struct {
        const char *open; /* the keys that open the overlay */
        bool lesson;      /* on the built-in lesson's first step (its text is long), else on scores */
        int rows, cols;
    } CASES[] = {{"?", false, 24, 80}, {"?", false, 16, 60}, {"jj<Enter>", false, 16, 80}, {"e", true, 12, 50}};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        int rows = CASES[c].rows, cols = CASES[c].cols, a, b, total;
        App *both[] = {&app, &ended};
        for (int k = 0; k < 2; k++) {
            app_init(both[k], trace, CASES[c].lesson ? &lesson : NULL, &DEFAULT_VIEW);
            if (!CASES[c].lesson)
                app_go(both[k], trace_find_step(trace, "scores", NULL));
        }
        press(&app, CASES[c].open, 0, 0, rows, cols);
        ck_assert_msg(overlay_note(&app, rows, cols, &a, &b, &total), "case %zu: the overlay does not scroll here", c);
        ck_assert_int_eq(a, 1);
        /* far past the end: the note says the last lines */
        press(&ended, CASES[c].open, 'j', 200, rows, cols);
        ck_assert(overlay_note(&ended, rows, cols, &a, &b, &total));
        ck_assert_msg(b == total, "case %zu: after scrolling down the note says lines %d-%d of %d", c, a, b, total);
        ck_assert_int_eq(ended.overlay_scroll, a - 1);
        /* the same, then one k: one line back */
        int end_a = a;
        press(&app, "", 'j', 200, rows, cols);
        press(&app, "k", 0, 0, rows, cols);
        ck_assert(overlay_note(&app, rows, cols, &a, &b, &total));
        ck_assert_msg(a == end_a - 1, "case %zu: one k after the end shows from line %d, expected %d", c, a, end_a - 1);
    }
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Counts the progress saves app_handle_key asks for. */
static void count_saves(App *app, void *context)
{
    (void)app;
    (*(int *)context)++;
}

/* Issue 12, item 5: Ctrl-T asks a settled quiz again, its result (and
 * its wrong tries) forgotten; on an open quiz it does nothing and types
 * nothing. */
START_TEST(test_quiz_try_again)
{
    Trace *trace = fixture_article_trace();
    static App app;
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors));
    lesson_errors_free(&errors);
    app_init(&app, trace, &lesson, &DEFAULT_VIEW);
    press(&app, "<Space>[16,5]<Enter><C-t>", 0, 0, 24, 80); /* step 2's before quiz */
    ck_assert_int_eq(app.pos, 1);
    ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
    ck_assert_int_eq(app.quiz[1][0].status, QUIZ_OPEN);
    ck_assert_int_eq(app.quiz[1][0].tries, 1); /* open: Ctrl-T changes nothing */
    ck_assert_str_eq(app.quiz_input, "");
    press(&app, "<C-r>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz[1][0].status, QUIZ_SHOWN);
    int saves = 0;
    app.on_progress = count_saves;
    app.progress_context = &saves;
    press(&app, "<C-t>", 0, 0, 24, 80);
    ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
    ck_assert_int_eq(app.quiz[1][0].status, QUIZ_OPEN);
    ck_assert_int_eq(app.quiz[1][0].tries, 0);
    ck_assert_int_eq(app.quiz_feedback, FEEDBACK_NONE);
    ck_assert_int_eq(saves, 1);          /* the forgotten result is saved */
    ck_assert(app_tensors_hidden(&app)); /* a before quiz again: the outputs hide again */
    press(&app, "[5,16]<Enter>", 0, 0, 24, 80);
    ck_assert_int_eq(app.quiz[1][0].status, QUIZ_RIGHT);
    ck_assert_int_eq(app.quiz[1][0].tries, 0);
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Issue 12, item 8: the quiz pane keeps its top row and its height from
 * the prompt through a wrong answer with its hint, a word that is not a
 * token, to the revealed answer, at 80x24. At 50x12 a panel row stays
 * above it at the prompt, and what each answer says stays on screen (the
 * pane may take that row to show it whole). */
START_TEST(test_quiz_pane_keeps_its_place)
{
    Trace *trace = fixture_article_trace();
    static App app;
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors));
    lesson_errors_free(&errors);
    static const struct {
        const char *step; /* NULL: the lesson's first quiz (shape, before), else an after quiz */
        const char *open;
        const char *states[3]; /* keys pressed one after the other */
        const char *says[3];   /* what the pane then says */
    } CASES[] = {{NULL,
                  "<Space>",
                  {"[16,5]<Enter>", "[1]<Enter>", "<C-r>"},
                  {"Not quite: [16,5]", "Not quite: [1]", "The answer: [5, 16]"}},
                 {"softmax",
                  "<Space>",
                  {"mine<Enter>", "name<Enter>", "<C-r>"},
                  {"\"mine\" is not a word", "Not quite: name", "The answer: my"}}};
    static const int SIZES[][2] = {{24, 80}, {12, 50}};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++)
        for (size_t z = 0; z < 2; z++) {
            int rows = SIZES[z][0], cols = SIZES[z][1];
            app_init(&app, trace, &lesson, &DEFAULT_VIEW);
            if (CASES[c].step != NULL)
                app_go(&app, trace_find_step(trace, CASES[c].step, NULL));
            press(&app, CASES[c].open, 0, 0, rows, cols);
            ck_assert_int_eq(app.overlay, OVERLAY_QUIZ);
            ViewLayout first, now;
            view_layout(&app, rows, cols, &first);
            ck_assert_msg(first.panels_rows >= 1, "case %zu at %dx%d: no panel row above the pane", c, cols, rows);
            for (int k = 0; k < 3; k++) {
                press(&app, CASES[c].states[k], 0, 0, rows, cols);
                view_layout(&app, rows, cols, &now);
                Frame frame;
                StrBuf text = {0};
                ck_assert(frame_init(&frame, rows, cols));
                app_compose(&app, &frame);
                frame_to_text(&frame, &text);
                frame_free(&frame);
                ck_assert_msg(strstr(strbuf_text(&text), CASES[c].says[k]) != NULL,
                              "case %zu at %dx%d, after '%s': '%s' is not on screen:\n%s", c, cols, rows,
                              CASES[c].states[k], CASES[c].says[k], strbuf_text(&text));
                strbuf_free(&text);
                ck_assert_msg(cols < 80 || (now.quiz_top == first.quiz_top && now.quiz_rows == first.quiz_rows),
                              "case %zu at %dx%d, after '%s': the pane moved from row %d (%d rows) to row %d (%d rows)",
                              c, cols, rows, CASES[c].states[k], first.quiz_top, first.quiz_rows, now.quiz_top,
                              now.quiz_rows);
            }
        }
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

Suite *view_suite(void)
{
    Suite *s = suite_create("view");
    TCase *tc = tcase_create("view");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_every_action_has_a_key_and_help);
    tcase_add_test(tc, test_keys_parse);
    tcase_add_test(tc, test_quiz_pane_keeps_its_place);
    tcase_add_test(tc, test_quiz_try_again);
    tcase_add_test(tc, test_step_keys);
    tcase_add_test(tc, test_selection_moves_and_clamps);
    tcase_add_test(tc, test_autoplay);
    tcase_add_test(tc, test_every_key_at_every_size);
    tcase_add_test(tc, test_golden_screens);
    tcase_add_test(tc, test_theme_marks);
    tcase_add_test(tc, test_screen_invariants);
    tcase_add_test(tc, test_compose_is_pure);
    tcase_add_test(tc, test_overlay_scroll_stops_at_the_end);
    tcase_add_test(tc, test_sources_are_on_screen);
    tcase_add_test(tc, test_heads_follow_the_selection);
    tcase_add_test(tc, test_inspector_covers_nothing_it_explains);
    tcase_add_test(tc, test_indices_count_from_zero);
    tcase_add_test(tc, test_numbers_by_role);
    tcase_add_test(tc, test_cut_text_says_so);
    tcase_add_test(tc, test_small_things);
    tcase_add_test(tc, test_fixed_sentences);
    tcase_add_test(tc, test_the_end_has_a_recap);
    tcase_add_test(tc, test_attention_pictures);
    tcase_add_test(tc, test_resuming_says_so);
    tcase_add_test(tc, test_quizzes_teach);
    tcase_add_test(tc, test_token_answer_as_a_label);
    tcase_add_test(tc, test_next_question_keeps_the_select);
    tcase_add_test(tc, test_ascii_spellings);
    tcase_add_test(tc, test_einsum_letters_named);
    suite_add_tcase(s, tc);
    return s;
}
