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
#include "builtin.h"
#include "frame.h"
#include "lesson.h"
#include "keys.h"
#include "suites.h"
#include "trace.h"
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
    ck_assert_int_eq(keys_action('x'), ACTION_NONE);
}
END_TEST

START_TEST(test_keys_parse)
{
    KeyCode keys[16];
    size_t n;
    Error err;
    error_clear(&err);
    ck_assert(keys_parse("ab<Right><enter><ESC><C-l><lt><Space><S-Tab>é", keys, 16, &n, &err));
    static const KeyCode want[] = {'a', 'b', KEY_CODE_RIGHT, KEY_CODE_ENTER, KEY_CODE_ESCAPE, KEY_CTRL('l'), '<', ' ',
                                   KEY_CODE_BACK_TAB, 0xe9};
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

static Trace *article_trace(void)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    Trace *trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    config_free(&cfg);
    return trace;
}

static const ViewOptions DEFAULT_VIEW = {4, false, false, "my name is Marcello Politi"};

START_TEST(test_step_keys)
{
    Trace *trace = article_trace();
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
    Trace *trace = article_trace();
    static App app;
    app_init(&app, trace, NULL, &DEFAULT_VIEW);
    int s = trace_find_step(trace, "all_tokens", NULL);
    app_go(&app, s);
    ck_assert_str_eq(trace->steps[s].tensors[app.focus[s]].name, "attention_weights"); /* the step's main tensor */
    for (int i = 0; i < trace->steps[s].n_tensors; i++) /* move to queries, a [5, 16] */
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
    Trace *trace = article_trace();
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
    trace_free(trace);
}
END_TEST

/* Nothing a user can press or any size can crash the state machine. */
START_TEST(test_every_key_at_every_size)
{
    Trace *trace = article_trace();
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
    const char *name;   /* tests/screens/NAME.txt */
    bool lesson;        /* walk the built-in lesson (else no lesson) */
    const char *step;   /* step id to open on, or NULL */
    const char *keys;   /* vim notation, or NULL */
    int cols, rows;
    bool no_color, ascii;
} ScreenCase;

static const ScreenCase SCREENS[] = {
    {"too-small", false, NULL, NULL, 40, 10, false, false},
    {"help", false, NULL, "?", 80, 24, false, false},
    {"steps", false, NULL, "s<Down><Down>", 80, 24, false, false},
    {"no-color-softmax", false, "softmax", NULL, 80, 24, true, false},
    {"ascii-mh-scores", false, "mh_scores", NULL, 80, 24, false, true},
    {"inspect-scores", false, "scores", "jj<Enter>", 80, 24, false, false},
    {"inspect-scale", false, "scale", "j<Enter>", 80, 24, false, false},
    {"inspect-softmax", false, "softmax", "j<Enter>", 80, 24, false, false},
    {"inspect-weighted-sum", false, "weighted_sum", "<Enter>", 80, 24, false, false},
    {"inspect-embed", false, "embed", "<Tab>j<Enter>", 80, 24, false, false},
    {"inspect-mh-project", false, "mh_project", "]jl<Enter>", 80, 24, false, false},
    {"inspect-mh-scores", false, "mh_scores", "jl<Enter>", 80, 24, false, false},
    {"inspect-mh-weighted-sum", false, "mh_weighted_sum", "<Enter>", 100, 30, false, false},
    {"inspect-mh-concat", false, "mh_concat", "$<Enter>", 80, 24, false, false},
    {"inspect-tokenize", false, "tokenize", "jj<Enter>", 80, 24, false, false},
    {"inspect-weights", false, "weights", "jl<Enter>", 80, 24, false, false},
    {"inspect-project-token", false, "project_token", "j<Enter>", 80, 24, false, false},
    {"inspect-keys-values", false, "keys_values", "jjl<Enter>", 80, 24, false, false},
    {"inspect-all-tokens-z", false, "all_tokens", "<S-Tab><S-Tab><S-Tab>jl<Enter>", 80, 24, false, false},
    {"inspect-mh-output", false, "mh_output", "jj<Enter>", 80, 24, false, false},
    {"inspect-input-shown-again", false, "scores", "<Tab><Tab><Enter>", 80, 24, false, false},
    {"inspect-scrolled", false, "mh_project", "<Enter>jjjj", 80, 16, false, false},
    /* the built-in lesson: a predict-first quiz, wrong then right, and the handout-style text */
    {"lesson-quiz-before", true, NULL, "<Space>", 80, 24, false, false},
    {"lesson-quiz-wrong", true, NULL, "<Space>[16,5]<Enter>", 80, 24, false, false},
    {"lesson-quiz-right", true, NULL, "<Space>[16,5]<Enter>5x16<Enter>", 80, 24, false, false},
    {"lesson-quiz-revealed-then-tensors", true, NULL, "<Space><Tab><Enter>", 80, 24, false, false},
    {"lesson-explanation", true, NULL, "e", 80, 24, false, false},
};

static const char *screens_dir(void)
{
    const char *dir = getenv("ATTN_SCREENS_DIR");
    return dir != NULL && *dir != '\0' ? dir : "tests/screens";
}

/* Composes a screen the way --dump-screen does. */
static void compose_screen(const Trace *trace, const Lesson *lesson, const char *step, const char *keys, int cols,
                           int rows, bool no_color, bool ascii, StrBuf *out)
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
    Trace *trace = article_trace();
    char path[512];
    /* every step, at the smallest comfortable size and a larger one */
    static const int sizes[][2] = {{80, 24}, {120, 40}};
    for (int i = 0; i < trace->n_steps; i++)
        for (size_t z = 0; z < 2; z++) {
            StrBuf text = {0};
            compose_screen(trace, NULL, trace->steps[i].id, NULL, sizes[z][0], sizes[z][1], false, false, &text);
            snprintf(path, sizeof path, "%s/step%02d-%s-%dx%d.txt", screens_dir(), i + 1, trace->steps[i].id,
                     sizes[z][0], sizes[z][1]);
            check_golden(path, strbuf_text(&text));
            strbuf_free(&text);
        }
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert_msg(lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, &lesson, &errors),
                  "the built-in lesson: %s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    for (size_t c = 0; c < sizeof SCREENS / sizeof SCREENS[0]; c++) {
        const ScreenCase *sc = &SCREENS[c];
        StrBuf text = {0};
        compose_screen(trace, sc->lesson ? &lesson : NULL, sc->step, sc->keys, sc->cols, sc->rows, sc->no_color,
                       sc->ascii, &text);
        snprintf(path, sizeof path, "%s/%s.txt", screens_dir(), sc->name);
        check_golden(path, strbuf_text(&text));
        strbuf_free(&text);
    }
    lesson_free(&lesson);
    trace_free(trace);
}
END_TEST

/* Screen properties that hold whatever the golden files say. */
START_TEST(test_screen_invariants)
{
    Trace *trace = article_trace();
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
 * The composer's contract: it reads the App and writes only the frame
 * ---------------------------------------------------------------------- */

/* Composing changes nothing in the App, whatever is open and however far
 * an overlay was scrolled, at every size. */
START_TEST(test_compose_is_pure)
{
    Trace *trace = article_trace();
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
            ck_assert_msg(memcmp(&before, &app, sizeof app) == 0, "composing \"%s\" at %dx%d changed the App",
                          KEYS[k], sizes[z][1], sizes[z][0]);
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

/* Scrolling an overlay past its end stops at the end, so the first key
 * back scrolls back at once: with no frame composed in between (headless
 * replay) exactly as in the terminal, which composes after every key. */
START_TEST(test_overlay_scroll_stops_at_the_end)
{
    Trace *trace = article_trace();
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
        ck_assert_msg(a == end_a - 1, "case %zu: one k after the end shows from line %d, expected %d", c, a,
                      end_a - 1);
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
    tcase_add_test(tc, test_step_keys);
    tcase_add_test(tc, test_selection_moves_and_clamps);
    tcase_add_test(tc, test_autoplay);
    tcase_add_test(tc, test_every_key_at_every_size);
    tcase_add_test(tc, test_golden_screens);
    tcase_add_test(tc, test_screen_invariants);
    tcase_add_test(tc, test_compose_is_pure);
    tcase_add_test(tc, test_overlay_scroll_stops_at_the_end);
    suite_add_tcase(s, tc);
    return s;
}
