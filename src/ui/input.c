/*
 * input.c - how keys change the tracer's state: app_handle_key (see
 * app.h and docs/keys.md).
 *
 * keys.c turns a key into an Action (its one table binds keys, actions and
 * their help); here each Action gets what it does: on the step screen
 * through STEP_ACTIONS, a table of Action -> handler, and in an open
 * overlay through that overlay's own small function. Scrolling and moving
 * within bounds go through scroll.h. No drawing: the composer reads the
 * state afterwards.
 */
#include "app.h"

#include <string.h>

#include "answer.h"
#include "compose.h"
#include "headsview.h"
#include "diffview.h"
#include "lessonview.h"
#include "keys.h"
#include "scroll.h"
#include "utf8.h"
#include "view.h"

/* ------------------------------------------------------------------------
 * Moving the selection
 * ---------------------------------------------------------------------- */

/* Moves the selection of the focused tensor by (d_row, d_col), or to the
 * row's start (to_edge < 0) or end (to_edge > 0), within its slice, laid
 * out in a panel panels_width columns wide. */
static void move_selection(App *app, long d_row, long d_col, int to_edge, int panels_width)
{
    int s = app->step, t = app->focus[s];
    const Tensor *tensor = app->trace->steps[s].tensors[t].tensor;
    TensorGrid grid = view_grid(app, s, t, panels_width);
    size_t slice, row, col;
    view_grid_locate(&grid, app->cursor[s][t], &slice, &row, &col);
    long new_row = scroll_move((long)row, d_row, (long)grid.rows);
    long new_col = to_edge < 0   ? 0
                   : to_edge > 0 ? scroll_move(0, (long)grid.cols - 1, (long)grid.cols)
                                 : scroll_move((long)col, d_col, (long)grid.cols);
    size_t offset = view_grid_offset(&grid, slice, (size_t)new_row, (size_t)new_col);
    if (offset >= tensor->size) /* the short last row of a wrapped tensor */
        offset = tensor->size - 1;
    app->cursor[s][t] = offset;
}

/* Moves the focused tensor's selection to another slice (head), wrapping
 * around. */
static void move_slice(App *app, long delta, int cols)
{
    int s = app->step, t = app->focus[s];
    TensorGrid grid = view_grid(app, s, t, cols);
    if (grid.slices <= 1)
        return;
    size_t slice, row, col;
    view_grid_locate(&grid, app->cursor[s][t], &slice, &row, &col);
    long next = ((long)slice + delta + (long)grid.slices) % (long)grid.slices;
    app->cursor[s][t] = view_grid_offset(&grid, (size_t)next, row, col);
}

/* ------------------------------------------------------------------------
 * Keys in overlays
 * ---------------------------------------------------------------------- */

/* Handles a key while the step list is open. */
static void steps_overlay_key(App *app, Action action)
{
    int n = app->n_walk;
    switch (action) {
    case ACTION_UP:
    case ACTION_PREV_STEP:
        app->list_selected = (int)scroll_move(app->list_selected, -1, n);
        break;
    case ACTION_DOWN:
    case ACTION_NEXT_STEP:
        app->list_selected = (int)scroll_move(app->list_selected, 1, n);
        break;
    case ACTION_FIRST_STEP:
    case ACTION_ROW_START:
        app->list_selected = 0;
        break;
    case ACTION_LAST_STEP:
    case ACTION_ROW_END:
        app->list_selected = n - 1;
        break;
    case ACTION_INSPECT: /* Enter: go there */
        app_go(app, app->list_selected);
        break;
    case ACTION_CLOSE:
    case ACTION_STEP_LIST:
    case ACTION_QUIT:
        app->overlay = OVERLAY_NONE;
        break;
    case ACTION_NONE:
    case ACTION_NOTES:
    case ACTION_EXPLAIN:
    case ACTION_PICTURE:
    case ACTION_TORCH:
    case ACTION_HEADS:
    case ACTION_RETRY_QUIZ:
    case ACTION_EXPERIMENT:
    case ACTION_ORIGINAL:
    case ACTION_RESET:
    case ACTION_LEFT:
    case ACTION_RIGHT:
    case ACTION_PAGE_UP:
    case ACTION_PAGE_DOWN:
    case ACTION_NEXT_PANEL:
    case ACTION_PREV_PANEL:
    case ACTION_NEXT_SLICE:
    case ACTION_PREV_SLICE:
    case ACTION_HELP:
    case ACTION_REDRAW:
    case ACTION_COUNT:
        break;
    }
}

/* A right answer or a revealed one settles the quiz: the answer line goes. */
static void settle_quiz(App *app, QuizState *state, QuizStatus status, QuizFeedback feedback)
{
    state->status = status;
    app->quiz_feedback = feedback;
    app->progress_dirty = true;
}

/* Enter on a quiz: checks the typed answer, or, once it is settled,
 * closes it. After an "after" quiz the step's next open quiz opens
 * straight away, and closing its last one goes on to the next step (the
 * learner pressed Space to leave it); a "before" quiz's successor is
 * opened by quiz_key. */
static void quiz_enter(App *app, const Quiz *quiz, QuizState *state)
{
    if (state->status != QUIZ_OPEN) {
        app->overlay = OVERLAY_NONE;
        if (quiz->before)
            return;
        int next = app_first_open_quiz(app, false);
        if (next >= 0)
            app_open_quiz(app, next);
        else if (app->pos + 1 < app->n_walk)
            app_go(app, app->pos + 1);
        return;
    }
    if (app->quiz_input[0] == '\0')
        return;
    QuizTokenVerdict verdict = TOKEN_VERDICT_WRONG;
    if (quiz->kind == QUIZ_TOKEN)
        verdict = quiz_check_token(quiz, &app->trace->config, app->quiz_input);
    else if (quiz_check(quiz, app->quiz_input))
        verdict = TOKEN_VERDICT_RIGHT;
    if (verdict == TOKEN_VERDICT_RIGHT) {
        settle_quiz(app, state, QUIZ_RIGHT, FEEDBACK_RIGHT);
    } else if (verdict == TOKEN_VERDICT_NOT_A_TOKEN || verdict == TOKEN_VERDICT_WHICH) {
        /* a slip, not a wrong answer */
        app->quiz_feedback = verdict == TOKEN_VERDICT_WHICH ? FEEDBACK_WHICH_TOKEN : FEEDBACK_NOT_A_TOKEN;
        snprintf(app->quiz_last, sizeof app->quiz_last, "%s", app->quiz_input);
        app->quiz_input[0] = '\0';
    } else {
        state->tries++;
        app->quiz_feedback = FEEDBACK_WRONG;
        snprintf(app->quiz_last, sizeof app->quiz_last, "%s", app->quiz_input); /* said back to the learner */
        app->quiz_input[0] = '\0';
    }
}

/* Handles a key while a quiz is open: typing edits the answer, Enter
 * checks it (or, once settled, closes), Ctrl-R shows the answer, Esc
 * skips, Ctrl-T on a settled quiz asks it again (its result is
 * forgotten, and saved so). The keys that type nothing keep looking around the step: the
 * arrows, Page Up/Down, Home/End, Tab/Shift-Tab (returns false for them:
 * the step screen handles them); Ctrl-N and Ctrl-P change head. */
static bool quiz_key(App *app, KeyCode key)
{
    const LessonStep *ls = app_lesson_step(app);
    if (ls == NULL || app->quiz_index >= ls->n_quizzes) {
        app->overlay = OVERLAY_NONE;
        return true;
    }
    const Quiz *quiz = &ls->quizzes[app->quiz_index];
    QuizState *state = &app->quiz[app->pos][app->quiz_index];
    bool settled = state->status != QUIZ_OPEN;
    size_t len = strlen(app->quiz_input);
    int pos = app->pos;
    if (key == KEY_CODE_ESCAPE) {
        if (state->status == QUIZ_OPEN) {
            state->status = QUIZ_PASSED;
            app->progress_dirty = true;
        }
        app->overlay = OVERLAY_NONE;
    } else if (key == KEY_CODE_ENTER) {
        quiz_enter(app, quiz, state);
    } else if (key == KEY_CTRL('r') && !settled) {
        settle_quiz(app, state, QUIZ_SHOWN, FEEDBACK_SHOWN);
    } else if (key == KEY_CTRL('t') && settled) { /* try it again: the quiz as new, its result forgotten */
        *state = (QuizState){QUIZ_OPEN, 0};
        app->quiz_feedback = FEEDBACK_NONE;
        app->quiz_input[0] = app->quiz_last[0] = '\0';
        app->progress_dirty = true;
    } else if (key == KEY_CODE_BACKSPACE && !settled) {
        while (len > 0 && ((unsigned char)app->quiz_input[len - 1] & 0xc0) == 0x80)
            len--; /* continuation bytes of the last character */
        if (len > 0)
            len--;
        app->quiz_input[len] = '\0';
    } else if (key >= 0x20 && key < KEY_CODE_BASE && key != 0x7f) {
        char utf8[8];
        int n = utf8_encode(key, utf8);
        if (!settled && len + (size_t)n < sizeof app->quiz_input) {
            memcpy(app->quiz_input + len, utf8, (size_t)n + 1);
        }
    } else if (key != KEY_CTRL('r') && key != KEY_CTRL('t') && key != KEY_CODE_BACKSPACE) {
        return false; /* a key that types nothing: the step screen's */
    }
    /* a quiz closed on its step: the next open "before" one follows */
    if (app->overlay == OVERLAY_NONE && app->pos == pos) {
        int next = app_first_open_quiz(app, true);
        if (next >= 0)
            app_open_quiz(app, next);
        else
            app_quiz_closed(app);
    }
    return true;
}

/* Handles a key while the experiment prompt (x) is open on the status
 * line: characters type, Backspace edits, Enter applies what is typed
 * (diffview.h; an error stays on the status line), Esc closes it. */
static void experiment_key(App *app, KeyCode key)
{
    size_t len = strlen(app->prompt);
    if (key == KEY_CODE_ESCAPE) {
        app->overlay = OVERLAY_NONE;
    } else if (key == KEY_CODE_ENTER) {
        app->overlay = OVERLAY_NONE;
        if (len > 0)
            app_experiment_add(app, app->prompt);
    } else if (key == KEY_CODE_BACKSPACE) {
        while (len > 0 && ((unsigned char)app->prompt[len - 1] & 0xc0) == 0x80)
            len--;
        if (len > 0)
            len--;
        app->prompt[len] = '\0';
    } else if (key >= 0x20 && key < KEY_CODE_BASE && key != 0x7f) {
        char utf8[8];
        int n = utf8_encode(key, utf8);
        if (len + (size_t)n < sizeof app->prompt)
            memcpy(app->prompt + len, utf8, (size_t)n + 1);
    }
}

/* Handles a key while a text overlay (help, inspector, notes, the whole
 * explanation) is open: Esc, q or the key that opened it closes it, j/k
 * and the arrows scroll a line, Page Up/Down half a screen of `rows`. The
 * scroll only stays at or above 0 here; app_handle_key keeps it inside the
 * text. */
static void text_overlay_key(App *app, Action action, int rows)
{
    if (app->overlay == OVERLAY_INTRO &&
        (action == ACTION_CLOSE || action == ACTION_QUIT || action == ACTION_NEXT_STEP || action == ACTION_INSPECT ||
         action == ACTION_HELP)) {
        app_go(app, app->pos); /* the first step, and its "before" quiz if it has one */
        return;
    }
    if (action == ACTION_CLOSE || action == ACTION_QUIT || action == ACTION_HELP ||
        (app->overlay == OVERLAY_INSPECT && action == ACTION_INSPECT) ||
        (app->overlay == OVERLAY_RECAP && action == ACTION_NEXT_STEP)) {
        app->overlay = OVERLAY_NONE;
        return;
    }
    long page = rows / 2;
    long delta = action == ACTION_DOWN        ? 1
                 : action == ACTION_PAGE_DOWN ? page
                 : action == ACTION_UP        ? -1
                 : action == ACTION_PAGE_UP   ? -page
                                              : 0;
    long scroll = app->overlay_scroll + delta;
    app->overlay_scroll = scroll > 0 ? (int)scroll : 0;
}

/* Handles a key while the heads view is open: the arrows, [ ] and the
 * page keys move the selected head (up and down by a row of tiles, a page
 * by the heads a page holds at rows x cols), Home/End and g/G go to the
 * first and last; Enter opens the selected head in the step (the focus on
 * the weights, the selection moved to that head, same row and column);
 * Esc, q and H go back to the step as it was. */
static void heads_overlay_key(App *app, Action action, int rows, int cols)
{
    int s = app->step, t = app->heads_tensor;
    const Tensor *x = app->trace->steps[s].tensors[t].tensor;
    long n = (long)x->shape[0];
    size_t per_head = x->shape[1] * x->shape[2];
    HeadsLayout lay;
    heads_layout(rows, cols, x->shape[0], x->shape[1], &lay);
    long across = lay.too_small ? 1 : lay.per_row, page = lay.too_small ? 1 : lay.per_page;
    long sel = app->heads_selected;
    if (action == ACTION_INSPECT) {
        app->focus[s] = t;
        app->cursor[s][t] = (size_t)sel * per_head + app->cursor[s][t] % per_head;
    }
    if (action == ACTION_INSPECT || action == ACTION_CLOSE || action == ACTION_QUIT || action == ACTION_HEADS) {
        app->overlay = OVERLAY_NONE;
        return;
    }
    long delta = action == ACTION_LEFT || action == ACTION_PREV_SLICE        ? -1
                 : action == ACTION_RIGHT || action == ACTION_NEXT_SLICE     ? 1
                 : action == ACTION_UP                                       ? -across
                 : action == ACTION_DOWN                                     ? across
                 : action == ACTION_PAGE_UP                                  ? -page
                 : action == ACTION_PAGE_DOWN                                ? page
                 : action == ACTION_ROW_START || action == ACTION_FIRST_STEP ? -n
                 : action == ACTION_ROW_END || action == ACTION_LAST_STEP    ? n
                                                                             : 0;
    app->heads_selected = (int)scroll_move(sel, delta, n);
}

/* Keeps an open overlay's first line inside its text as shown on a rows x
 * cols screen (compose_overlay_extent says how long the text is and how
 * much of it the box shows); nothing to do at line 0 or where no overlay
 * scrolls. */
static void keep_overlay_scroll(App *app, int rows, int cols)
{
    int lines, window;
    if (app->overlay_scroll > 0 && compose_overlay_extent(app, rows, cols, &lines, &window))
        app->overlay_scroll = (int)scroll_clamp(app->overlay_scroll, lines, window);
}

/* ------------------------------------------------------------------------
 * Keys on the step screen: one handler per action
 * ---------------------------------------------------------------------- */

/* What a step-screen handler knows of the screen besides the state. */
typedef struct KeyContext {
    int panels_width; /* columns of the tensor panels (view_layout) */
    int panels_rows;  /* rows of the tensor panels (view_layout) */
    long page;        /* rows Page Up and Page Down move the selection */
} KeyContext;

typedef void (*StepAction)(App *app, Action action, const KeyContext *ctx);

/* Space, n: the next step, unless a quiz of this one is still open (it
 * stops the walk until it is answered or skipped). */
static void next_step(App *app, Action action, const KeyContext *ctx)
{
    (void)action, (void)ctx;
    int q = app_first_open_quiz(app, false);
    if (q >= 0) {
        app_open_quiz(app, q);
    } else if (app->pos + 1 >= app->n_walk) { /* the end of the walk: its recap */
        app->overlay = OVERLAY_RECAP;
        app->overlay_scroll = 0;
    } else {
        app_go(app, app->pos + 1);
    }
}

/* Ctrl-T on the step screen: the step's quiz asked again, as new (its
 * result forgotten, and saved so): a skipped one first, else the first
 * one settled; an open one is just opened. A step without a quiz says so
 * on the status line. */
static void retry_quiz(App *app, Action action, const KeyContext *ctx)
{
    (void)action, (void)ctx;
    const LessonStep *ls = app_lesson_step(app);
    if (ls == NULL || ls->n_quizzes == 0) {
        snprintf(app->note, sizeof app->note, "this step has no quiz to ask again");
        app->note_is_error = false;
        return;
    }
    int pick = -1;
    for (int q = 0; q < ls->n_quizzes && pick < 0; q++)
        if (app->quiz[app->pos][q].status == QUIZ_PASSED)
            pick = q;
    for (int q = 0; q < ls->n_quizzes && pick < 0; q++)
        if (app->quiz[app->pos][q].status != QUIZ_OPEN)
            pick = q;
    if (pick < 0)
        pick = app_first_open_quiz(app, false);
    if (pick < 0)
        return;
    if (app->quiz[app->pos][pick].status != QUIZ_OPEN) {
        app->quiz[app->pos][pick] = (QuizState){QUIZ_OPEN, 0};
        app->progress_dirty = true;
    }
    app->quiz_feedback = FEEDBACK_NONE;
    app->quiz_input[0] = app->quiz_last[0] = '\0';
    app_open_quiz(app, pick);
}

/* v: the next way of drawing weights (numbers, bars, who looks at whom),
 * for every step. */
static void next_picture(App *app, Action action, const KeyContext *ctx)
{
    (void)action, (void)ctx;
    app->picture = (Picture)((app->picture + 1) % PICTURE_COUNT);
}

/* c: shows or hides the PyTorch line of every step, under the formula. */
static void toggle_torch(App *app, Action action, const KeyContext *ctx)
{
    (void)action, (void)ctx;
    app->show_torch = !app->show_torch;
}

/* x: opens the experiment prompt on the status line, empty. */
/* Refuses x, o and X on a step that shows its own trace (a model
 * lesson's: lessonview.h), with a note; true when it did. */
static bool experiment_refused(App *app)
{
    if (!view_own_trace(app))
        return false;
    char label[96];
    view_trace_label(app, false, label, sizeof label);
    snprintf(app->note, sizeof app->note,
             "This step shows its own trace (%s): experiments change the lesson's, on its other steps.", label);
    app->note_is_error = false;
    return true;
}

static void open_experiment(App *app, Action action, const KeyContext *ctx)
{
    (void)action, (void)ctx;
    if (experiment_refused(app))
        return;
    app->overlay = OVERLAY_EXPERIMENT;
    app->prompt[0] = '\0';
}

/* o and X: the original trace or the changed one on screen; every change
 * undone (diffview.h). */
static void experiment_view(App *app, Action action, const KeyContext *ctx)
{
    if (action == ACTION_ORIGINAL && view_comparing_own(app)) { /* a compare view with room for one panel: the other */
        bool both = view_compare_side_by_side(app, ctx->panels_width) || ctx->panels_rows >= 2 * VIEW_COMPARE_MIN_ROWS;
        app_lesson_trace_other_side(app, both);
        return;
    }
    if (experiment_refused(app))
        return;
    if (action == ACTION_ORIGINAL)
        app_experiment_toggle(app);
    else
        app_experiment_reset(app);
}

/* b, g, G: back one step, to the first, to the last. */
static void go_step(App *app, Action action, const KeyContext *ctx)
{
    (void)ctx;
    app_go(app, action == ACTION_PREV_STEP ? app->pos - 1 : action == ACTION_FIRST_STEP ? 0 : app->n_walk - 1);
}

/* s: the step list, the step on screen highlighted. */
static void open_step_list(App *app, Action action, const KeyContext *ctx)
{
    (void)action, (void)ctx;
    app->overlay = OVERLAY_STEPS;
    app->list_selected = app->pos;
}

/* Enter, ?, e, p: the inspector, help, the whole explanation, the
 * presenter notes (when the lesson has notes for this step); each opens at
 * its first line. */
static void open_text_overlay(App *app, Action action, const KeyContext *ctx)
{
    (void)ctx;
    if (action == ACTION_NOTES) {
        const LessonStep *ls = app_lesson_step(app);
        if (ls == NULL || ls->notes == NULL)
            return;
    }
    app->overlay = action == ACTION_INSPECT ? OVERLAY_INSPECT
                   : action == ACTION_HELP  ? OVERLAY_HELP
                   : action == ACTION_NOTES ? OVERLAY_NOTES
                                            : OVERLAY_EXPLAIN;
    app->overlay_scroll = 0;
}

/* The walk position nearest to the step on screen (itself first, then
 * the steps after it, then those before) whose step shows weights cut
 * into heads, or -1. */
static int heads_position(const App *app)
{
    /* the walk holds the lesson trace's indices: on a step's own trace only its step is known */
    for (int pos = app->pos; pos < app->n_walk; pos++)
        if (heads_tensor_of(app, pos == app->pos ? app->step : app->walk[pos]) >= 0 && (pos == app->pos || !app->own))
            return pos;
    for (int pos = app->pos - 1; pos >= 0 && !app->own; pos--)
        if (heads_tensor_of(app, app->walk[pos]) >= 0)
            return pos;
    return -1;
}

/* H: the heads view (headsview.h) of the step on screen, or of the
 * nearest step that has weights cut into heads (heads_position), opened
 * on the head of that tensor's selected value. Nothing when no step of the
 * walk has such weights, or when going there opens a "before" quiz. */
static void open_heads(App *app, Action action, const KeyContext *ctx)
{
    (void)action, (void)ctx;
    int pos = heads_position(app);
    if (pos < 0)
        return;
    if (pos != app->pos) {
        app_go(app, pos);
        if (app->overlay == OVERLAY_QUIZ)
            return;
    }
    int s = app->step, t = heads_tensor_of(app, s);
    if (t < 0)
        return;
    const Tensor *x = app->trace->steps[s].tensors[t].tensor;
    app->heads_tensor = t;
    app->heads_selected = (int)(app->cursor[s][t] / (x->shape[1] * x->shape[2]));
    app->overlay = OVERLAY_HEADS;
}

/* How each movement action moves the selection. */
static const struct {
    long d_row, d_col; /* rows (in pages when paged) and columns to move */
    int to_edge;       /* -1: the row's start, 1: its end, 0: neither */
    bool paged;
} MOVES[ACTION_COUNT] = {
    [ACTION_UP] = {-1, 0, 0, false},     [ACTION_DOWN] = {1, 0, 0, false},       [ACTION_LEFT] = {0, -1, 0, false},
    [ACTION_RIGHT] = {0, 1, 0, false},   [ACTION_ROW_START] = {0, 0, -1, false}, [ACTION_ROW_END] = {0, 0, 1, false},
    [ACTION_PAGE_UP] = {-1, 0, 0, true}, [ACTION_PAGE_DOWN] = {1, 0, 0, true},
};

/* The arrows, h/j/k/l, 0/$ and the page keys: moves the selection (MOVES). */
static void move(App *app, Action action, const KeyContext *ctx)
{
    long d_row = MOVES[action].paged ? MOVES[action].d_row * ctx->page : MOVES[action].d_row;
    move_selection(app, d_row, MOVES[action].d_col, MOVES[action].to_edge, ctx->panels_width);
}

/* Tab, Shift-Tab: the focus to the next or previous panel, wrapping. */
static void switch_panel(App *app, Action action, const KeyContext *ctx)
{
    (void)ctx;
    int s = app->step, n = app->trace->steps[s].n_tensors;
    app->focus[s] = (app->focus[s] + (action == ACTION_NEXT_PANEL ? 1 : n - 1)) % n;
}

/* Tab, Shift-Tab while a quiz is open: as switch_panel, skipping the
 * panels a "before" quiz hides. */
static void switch_visible_panel(App *app, Action action)
{
    int s = app->step, n = app->trace->steps[s].n_tensors;
    for (int tries = 0; tries < n; tries++) {
        app->focus[s] = (app->focus[s] + (action == ACTION_NEXT_PANEL ? 1 : n - 1)) % n;
        if (!view_tensor_hidden(app, app->focus[s]))
            return;
    }
}

/* ] and [: the selection to the next or previous head. */
static void switch_slice(App *app, Action action, const KeyContext *ctx)
{
    move_slice(app, action == ACTION_NEXT_SLICE ? 1 : -1, ctx->panels_width);
}

/* What each action does on the step screen; NULL: nothing there. Quitting
 * is handled before the table (it is the one action that ends the loop). */
static const StepAction STEP_ACTIONS[ACTION_COUNT] = {
    [ACTION_NEXT_STEP] = next_step,
    [ACTION_PREV_STEP] = go_step,
    [ACTION_FIRST_STEP] = go_step,
    [ACTION_LAST_STEP] = go_step,
    [ACTION_STEP_LIST] = open_step_list,
    [ACTION_UP] = move,
    [ACTION_DOWN] = move,
    [ACTION_LEFT] = move,
    [ACTION_RIGHT] = move,
    [ACTION_ROW_START] = move,
    [ACTION_ROW_END] = move,
    [ACTION_PAGE_UP] = move,
    [ACTION_PAGE_DOWN] = move,
    [ACTION_NEXT_PANEL] = switch_panel,
    [ACTION_PREV_PANEL] = switch_panel,
    [ACTION_NEXT_SLICE] = switch_slice,
    [ACTION_PREV_SLICE] = switch_slice,
    [ACTION_INSPECT] = open_text_overlay,
    [ACTION_NOTES] = open_text_overlay,
    [ACTION_EXPLAIN] = open_text_overlay,
    [ACTION_HELP] = open_text_overlay,
    [ACTION_PICTURE] = next_picture,
    [ACTION_TORCH] = toggle_torch,
    [ACTION_HEADS] = open_heads,
    [ACTION_RETRY_QUIZ] = retry_quiz,
    [ACTION_EXPERIMENT] = open_experiment,
    [ACTION_ORIGINAL] = experiment_view,
    [ACTION_RESET] = experiment_view,
};

/* ------------------------------------------------------------------------
 * One key
 * ---------------------------------------------------------------------- */

/* Applies one key (see app_handle_key), without the progress callback and
 * the overlay's scroll bound. Returns false to quit. */
/* The actions a quiz lets through to the step screen: moving the
 * selection and changing head (panels go by switch_visible_panel). */
#define MOVES_OR_SLICE(a)                                                                                              \
    ((a) == ACTION_UP || (a) == ACTION_DOWN || (a) == ACTION_LEFT || (a) == ACTION_RIGHT || (a) == ACTION_ROW_START || \
     (a) == ACTION_ROW_END || (a) == ACTION_PAGE_UP || (a) == ACTION_PAGE_DOWN || (a) == ACTION_NEXT_SLICE ||          \
     (a) == ACTION_PREV_SLICE)

static bool handle_key(App *app, KeyCode key, int rows, int cols)
{
    if (app->autoplay_ms > 0 && key != KEY_CODE_RESIZE && app->overlay != OVERLAY_QUIZ) {
        /* any key stops autoplay, and only that; at a quiz (autoplay pauses there) keys answer it */
        app->autoplay_ms = 0;
        return true;
    }
    Action action = keys_action(key);
    if (app->overlay == OVERLAY_QUIZ) { /* typing goes to the answer; the other keys look around the step */
        if (key == KEY_CODE_RESIZE || key == KEY_CTRL('l') || quiz_key(app, key))
            return true;
        if (key == KEY_CTRL('n') || key == KEY_CTRL('p'))
            action = key == KEY_CTRL('n') ? ACTION_NEXT_SLICE : ACTION_PREV_SLICE;
        else if (action == ACTION_CLOSE || action == ACTION_INSPECT || action == ACTION_QUIT || action == ACTION_NONE)
            return true;
        ViewLayout quiz_layout;
        view_layout(app, rows, cols, &quiz_layout);
        KeyContext quiz_ctx = {quiz_layout.panels_width, quiz_layout.panels_rows,
                               scroll_page(quiz_layout.panel_rows[app->focus[app->step]] - 2)};
        if (action == ACTION_NEXT_PANEL || action == ACTION_PREV_PANEL)
            switch_visible_panel(app, action);
        else if (action != ACTION_NEXT_STEP && STEP_ACTIONS[action] != NULL && MOVES_OR_SLICE(action))
            STEP_ACTIONS[action](app, action, &quiz_ctx);
        return true;
    }
    if (action == ACTION_REDRAW || key == KEY_CODE_RESIZE)
        return true;
    if (action == ACTION_QUIT && (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS))
        return false; /* the too-small screen says q quits, overlay or not */

    /* Overlays take keys first. */
    if (app->overlay == OVERLAY_EXPERIMENT) {
        experiment_key(app, key);
        return true;
    }
    if (app->overlay == OVERLAY_STEPS) {
        steps_overlay_key(app, action);
        return true;
    }
    if (app->overlay == OVERLAY_HEADS) {
        heads_overlay_key(app, action, rows, cols);
        return true;
    }
    if (app->overlay != OVERLAY_NONE) {
        text_overlay_key(app, action, rows);
        return true;
    }
    if (action == ACTION_QUIT)
        return false;
    ViewLayout layout;
    view_layout(app, rows, cols, &layout);
    KeyContext ctx = {layout.panels_width, layout.panels_rows,
                      scroll_page(layout.panel_rows[app->focus[app->step]] - 2)};
    if (STEP_ACTIONS[action] != NULL)
        STEP_ACTIONS[action](app, action, &ctx);
    return true;
}

bool app_handle_key(App *app, KeyCode key, int rows, int cols)
{
    if (key != KEY_CODE_RESIZE) {
        app->resumed = false; /* the notes last until the learner does something */
        app->note[0] = '\0';
    }
    bool go_on = handle_key(app, key, rows, cols);
    keep_overlay_scroll(app, rows, cols);
    if (app->progress_dirty && app->on_progress != NULL)
        app->on_progress(app, app->progress_context);
    app->progress_dirty = false;
    return go_on;
}
