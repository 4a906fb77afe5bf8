/*
 * compose.c - draws the tracer's screens into a Frame (see app.h, view.h).
 *
 * A pure function of the App and the frame's size: header, step title,
 * formula (with einsum letters), one panel per tensor, the explanation,
 * the selected value's line and a footer of keys; then any overlay (help,
 * step list, cell inspector) on top. Only visible cells are visited, so a
 * frame costs the same at d_model 16 and 768.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "utf8.h"
#include "explain.h"
#include "frame.h"
#include "keys.h"
#include "strbuf.h"
#include "view.h"

/* Letters of the article's einsums get fixed colours, so a letter looks the
 * same on every screen it appears on. */
static const char LETTER_ORDER[] = "sdhekij";
#define LETTER_COLOURS 6

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

/* The colour index of an einsum letter. */
static uint8_t letter_colour(char letter)
{
    const char *at = strchr(LETTER_ORDER, letter);
    size_t index = at != NULL ? (size_t)(at - LETTER_ORDER) : (size_t)(unsigned char)letter;
    return (uint8_t)(index % LETTER_COLOURS);
}

/* The label of index i along a dimension of kind dim: a token word for a
 * sequence dimension, else the number. */
static void index_label(const App *app, DimKind dim, size_t i, char *buf, size_t size)
{
    const Config *cfg = &app->trace->config;
    if (dim == DIM_SEQ && i < cfg->n_tokens)
        snprintf(buf, size, "%s", cfg->tokens[i]);
    else
        snprintf(buf, size, "%zu", i);
}

/* Heat level of v for a tensor whose largest magnitude is max_abs. */
static int8_t heat_of(float v, float max_abs)
{
    if (!isfinite(v) || max_abs <= 0.0f)
        return 0;
    long level = lroundf(v / max_abs * FRAME_HEAT_LEVELS);
    if (level > FRAME_HEAT_LEVELS)
        level = FRAME_HEAT_LEVELS;
    if (level < -FRAME_HEAT_LEVELS)
        level = -FRAME_HEAT_LEVELS;
    return (int8_t)level;
}

/* ------------------------------------------------------------------------
 * The parts of a step screen
 * ---------------------------------------------------------------------- */

static void compose_header(const App *app, Frame *frame)
{
    const TraceStep *step = &app->trace->steps[app->step];
    frame_fill(frame, 0, 0, 1, frame->cols, ' ', ROLE_HEADER);
    char right[96];
    int n = snprintf(right, sizeof right, "%s  step %d/%d ",
                     step->part == PART_SINGLE_HEAD ? "part 1: one head" : "part 2: multi-head", app->pos + 1,
                     app->n_walk);
    int right_col = frame->cols - n;
    char left[256];
    snprintf(left, sizeof left, " attn-trace %s %s", app->options.ascii ? "-" : "·", app->options.title);
    frame_put(frame, 0, 0, left, ROLE_HEADER, right_col - 1);
    frame_put(frame, 0, right_col, right, ROLE_HEADER, n);
}

/* The formula line, with einsum letters coloured, and for einsum steps a
 * second line binding each letter to its size. */
static void compose_formula(const App *app, Frame *frame, int row)
{
    const TraceStep *step = &app->trace->steps[app->step];
    frame_put(frame, 1, 1, step->title, ROLE_TITLE, frame->cols - 2);
    const char *gap = strstr(step->formula, "   ");
    int letters_row = row + 1;
    if ((int)utf8_width(step->formula) > frame->cols - 2) {
        /* two lines: the expression, then its shapes, indented; without
         * that gap, break at the last space that fits */
        size_t cut;
        const char *rest;
        if (gap != NULL) {
            cut = (size_t)(gap - step->formula);
            rest = gap + 3;
        } else {
            cut = 0;
            for (size_t i = 0; step->formula[i] != '\0'; i++)
                if (step->formula[i] == ' ' && (int)utf8_width_n(step->formula, i) <= frame->cols - 2)
                    cut = i;
            rest = step->formula + cut + (cut > 0 ? 1 : 0);
        }
        char expression[160];
        snprintf(expression, sizeof expression, "%.*s", (int)cut, step->formula);
        frame_put(frame, row, 1, expression, ROLE_FORMULA, frame->cols - 2);
        frame_put(frame, row + 1, 5, rest, ROLE_FORMULA, frame->cols - 6);
        letters_row = row + 2;
    } else {
        frame_put(frame, row, 1, step->formula, ROLE_FORMULA, frame->cols - 2);
    }
    if (step->einsum == NULL)
        return;
    /* colour the letters of the equation where it appears in the formula */
    const char *at = strstr(step->formula, step->einsum);
    if (at != NULL) {
        int col = 1 + (int)utf8_width_n(step->formula, (size_t)(at - step->formula));
        for (const char *c = step->einsum; *c != '\0'; c++, col++) {
            Cell *cell = frame_at(frame, row, col);
            if (cell != NULL && *c >= 'a' && *c <= 'z') {
                cell->role = ROLE_LETTER;
                cell->letter = letter_colour(*c);
            }
        }
    }
    /* the letters line: each letter, its size, and which are summed */
    const Config *cfg = &app->trace->config;
    const char *eq = step->einsum;
    const char *arrow = strstr(eq, "->");
    row = letters_row - 1;
    int col = 1;
    col += frame_put(frame, row + 1, col, "letters:", ROLE_DIM, frame->cols - col);
    char seen[32] = "";
    for (const char *c = eq; *c != '\0'; c++) {
        if (*c < 'a' || *c > 'z' || strchr(seen, *c) != NULL)
            continue;
        size_t len = strlen(seen);
        seen[len] = *c;
        seen[len + 1] = '\0';
        size_t size = *c == 's' || *c == 'i' || *c == 'j' || *c == 'k' ? cfg->n_tokens
                      : *c == 'd'                                       ? cfg->d_model
                      : *c == 'h'                                       ? cfg->heads
                                                                        : config_d_k(cfg);
        /* in 'hij,hjk->hik' k runs over the head width, in 'hse,hek->hsk' over tokens */
        if (*c == 'k' && strstr(eq, "hjk") != NULL)
            size = config_d_k(cfg);
        col += 1;
        Cell *cell = frame_at(frame, row + 1, col);
        if (cell != NULL) {
            *cell = (Cell){(uint32_t)*c, ROLE_LETTER, 0, letter_colour(*c)};
        }
        col += 1;
        col += frame_printf(frame, row + 1, col, ROLE_DIM, frame->cols - col, "=%zu", size);
    }
    col += frame_put(frame, row + 1, col, app->options.ascii ? "  - summed:" : "  · summed:", ROLE_DIM,
                     frame->cols - col);
    for (const char *c = eq; arrow != NULL && c < arrow; c++) {
        if (*c < 'a' || *c > 'z' || strchr(arrow, *c) != NULL)
            continue;
        bool repeated = false;
        for (const char *b = eq; b < c; b++)
            repeated |= *b == *c;
        if (repeated)
            continue;
        col += 1;
        Cell *cell = frame_at(frame, row + 1, col);
        if (cell != NULL)
            *cell = (Cell){(uint32_t)*c, ROLE_LETTER, 0, letter_colour(*c)};
        col += 1;
    }
}

/* One tensor panel: a title line, then (space allowing) column labels and
 * the rows of the slice that hold the selection, scrolled to keep it in
 * view. */
static void compose_panel(const App *app, Frame *frame, int tensor, int top, int rows, int width)
{
    const BoxChars *box = frame_box_chars(app->options.ascii);
    int s = app->step;
    const TraceStep *step = &app->trace->steps[s];
    const TraceTensor *tt = &step->tensors[tensor];
    const Tensor *t = tt->tensor;
    bool focused = app->focus[s] == tensor;
    TensorGrid grid = view_grid(app, s, tensor, width);
    size_t cursor = app->cursor[s][tensor];
    size_t slice, cur_row, cur_col;
    view_grid_locate(&grid, cursor, &slice, &cur_row, &cur_col);

    int label_w = view_label_width(app, s, tensor);
    int cell_w = view_cell_width(app, s, tensor);
    bool header = !grid.vertical && !grid.wrapped && t->ndim >= 2;
    int body_rows = rows - 1 - (header ? 1 : 0);
    int visible_cols = (width - 1 - label_w) / cell_w;
    if (visible_cols < 1)
        visible_cols = 1;
    size_t top_row = body_rows > 0 && cur_row >= (size_t)body_rows ? cur_row - (size_t)body_rows + 1 : 0;
    size_t left_col = cur_col >= (size_t)visible_cols ? cur_col - (size_t)visible_cols + 1 : 0;
    if (grid.vertical || grid.wrapped)
        left_col = 0;

    /* title line */
    Role title_role = focused ? ROLE_PANEL_FOCUS : ROLE_BORDER;
    frame_fill(frame, top, 0, 1, width, box->horizontal, title_role);
    char shape[64], title[200];
    tensor_shape_str(t, shape, sizeof shape);
    const char *marker = focused ? (app->options.ascii ? "> " : "▶ ") : "";
    int n = snprintf(title, sizeof title, " %s%s %s%s", marker, tt->name, shape, tt->is_output ? "" : " (input)");
    if (grid.slices > 1 && n > 0 && (size_t)n < sizeof title) {
        char label[64];
        index_label(app, grid.slice_dim, slice, label, sizeof label);
        n += snprintf(title + n, sizeof title - (size_t)n, ", head %s of %zu", label, grid.slices);
    }
    if (rows > 1 && n > 0 && (size_t)n < sizeof title) {
        size_t shown_rows = body_rows > 0 ? (size_t)body_rows : 0;
        if (grid.rows > shown_rows)
            n += snprintf(title + n, sizeof title - (size_t)n, ", rows %zu-%zu of %zu", top_row + 1,
                          top_row + (shown_rows < grid.rows - top_row ? shown_rows : grid.rows - top_row), grid.rows);
        if (!grid.wrapped && !grid.vertical && grid.cols > (size_t)visible_cols)
            n += snprintf(title + n, sizeof title - (size_t)n, ", cols %zu-%zu of %zu", left_col + 1,
                          left_col + (size_t)visible_cols, grid.cols);
    }
    if (rows == 1 && (size_t)n < sizeof title)
        snprintf(title + n, sizeof title - (size_t)n, "%s", focused ? "" : "  (Tab shows it)");
    strcat(title, " ");
    int used = frame_put(frame, top, 1, title, focused ? ROLE_PANEL_FOCUS : ROLE_PANEL_TITLE, width - 2);
    (void)used;
    if (rows <= 1)
        return;

    /* column labels */
    int row = top + 1;
    if (header) {
        for (int c = 0; c < visible_cols && left_col + (size_t)c < grid.cols; c++) {
            char label[64];
            index_label(app, grid.col_dim, left_col + (size_t)c, label, sizeof label);
            int x = label_w + c * cell_w;
            int w = (int)utf8_width(label);
            int fit = cell_w - 1;
            /* right-aligned over the numbers, cut to the column */
            frame_put(frame, row, x + (w < fit ? fit - w : 0), label, ROLE_LABEL, fit);
        }
        row++;
    }

    /* the values */
    const NumFormat *fmt = &app->formats.of[s][tensor];
    float max_abs = app->max_abs[s][tensor];
    int sel_tensor = app->focus[s];
    size_t sel_offset = app->cursor[s][sel_tensor];
    bool show_sources = step->tensors[sel_tensor].is_output && step->tensors[sel_tensor].how.op != OP_SHOWN;
    static const char *const GLYPHS_UNICODE[] = {" ", "·", "∘", "•", "●"};
    static const char *const GLYPHS_ASCII[] = {" ", ".", "-", "+", "#"};
    for (int r = 0; r < body_rows && top_row + (size_t)r < grid.rows; r++) {
        size_t grid_row = top_row + (size_t)r;
        char label[64];
        if (grid.wrapped)
            snprintf(label, sizeof label, "%zu", grid_row * grid.cols);
        else
            index_label(app, grid.row_dim, grid_row, label, sizeof label);
        if (label_w > 0) {
            int w = (int)utf8_width(label);
            int fit = label_w - 1;
            frame_put(frame, row + r, w < fit && !(grid.row_dim == DIM_SEQ) ? fit - w : 0, label, ROLE_LABEL, fit);
        }
        for (int c = 0; c < visible_cols && left_col + (size_t)c < grid.cols; c++) {
            size_t offset = view_grid_offset(&grid, slice, grid_row, left_col + (size_t)c);
            if (offset >= t->size)
                break;
            float v = t->data[offset];
            Role role = ROLE_VALUE;
            if (focused && offset == cursor)
                role = ROLE_CURSOR;
            else if (show_sources && tensor != sel_tensor &&
                     explain_is_source(app->trace, s, sel_tensor, sel_offset, tensor, offset))
                role = ROLE_SOURCE;
            char buf[NUMFMT_BUF];
            numfmt_write_padded(fmt, v, buf);
            int x = label_w + c * cell_w;
            int8_t heat = heat_of(v, max_abs);
            int w = frame_put(frame, row + r, x, buf, role, cell_w - 1);
            for (int k = 0; k < w; k++)
                frame_at(frame, row + r, x + k)->heat = heat;
            if (app->options.no_color) {
                int level = heat < 0 ? -heat : heat;
                frame_put(frame, row + r, x + w, app->options.ascii ? GLYPHS_ASCII[level] : GLYPHS_UNICODE[level],
                          role == ROLE_CURSOR ? ROLE_CURSOR : ROLE_DIM, 1);
            }
        }
    }
}

/* The selected value's line: its name, its value, and what Enter shows. */
static void compose_status(const App *app, Frame *frame, int row)
{
    int s = app->step, t = app->focus[s];
    const TraceTensor *tt = &app->trace->steps[s].tensors[t];
    size_t offset = app->cursor[s][t];
    char name[160], value[NUMFMT_BUF];
    explain_element_name(app->trace, tt, offset, name, sizeof name);
    numfmt_write_exact(tt->tensor->data[offset], value);
    int col = 1;
    col += frame_put(frame, row, col, name, ROLE_STRONG, frame->cols - 2);
    col += frame_printf(frame, row, col, ROLE_TEXT, frame->cols - col - 1, " = %s", value);
    const char *hint = tt->is_output ? "   Enter: how it was computed" : "   Enter: where it comes from";
    frame_put(frame, row, col, hint, ROLE_DIM, frame->cols - col - 1);
}

/* The footer: the keys that matter on a step screen, from the key table.
 * When they do not all fit, the least needed are left out (the order of
 * SHOWN is the order on screen; `rank` says what goes first). */
static void compose_footer(const App *app, Frame *frame)
{
    static const struct {
        Action action;
        const char *label;
        int rank; /* 0 is kept longest */
    } SHOWN[] = {
        {ACTION_NEXT_STEP, "next", 2}, {ACTION_PREV_STEP, "back", 5},     {ACTION_UP, "select", 7},
        {ACTION_NEXT_PANEL, "tensor", 6}, {ACTION_NEXT_SLICE, "head", 4}, {ACTION_INSPECT, "inspect", 3},
        {ACTION_HELP, "help", 1},      {ACTION_QUIT, "quit", 0},         {ACTION_STEP_LIST, "steps", 8},
    };
    enum { N_SHOWN = sizeof SHOWN / sizeof SHOWN[0] };
    int row = frame->rows - 1;
    frame_fill(frame, row, 0, 1, frame->cols, ' ', ROLE_FOOTER);
    TensorGrid grid = view_grid(app, app->step, app->focus[app->step], frame->cols);
    size_t count;
    const KeyBinding *table = keys_table(&count);

    /* pass 1: each entry's key name and width */
    const char *key[N_SHOWN];
    int need[N_SHOWN];
    bool keep[N_SHOWN];
    for (int i = 0; i < N_SHOWN; i++) {
        key[i] = NULL;
        for (size_t k = 0; k < count && key[i] == NULL; k++)
            if (table[k].action == SHOWN[i].action)
                key[i] = table[k].key_name;
        if (SHOWN[i].action == ACTION_UP)
            key[i] = app->options.ascii ? "arrows" : "←↑↓→";
        if (SHOWN[i].action == ACTION_NEXT_SLICE)
            key[i] = "[ ]";
        need[i] = (int)utf8_width(key[i]) + 1 + (int)strlen(SHOWN[i].label) + 2;
        keep[i] = false;
    }
    /* pass 2: keep entries by rank while they fit */
    int room = frame->cols - 1;
    for (int rank = 0; rank < N_SHOWN; rank++)
        for (int i = 0; i < N_SHOWN; i++) {
            if (SHOWN[i].rank != rank || (SHOWN[i].action == ACTION_NEXT_SLICE && grid.slices <= 1))
                continue;
            if (need[i] <= room) {
                keep[i] = true;
                room -= need[i];
            }
        }
    /* pass 3: draw the kept ones in screen order */
    int col = 1;
    for (int i = 0; i < N_SHOWN; i++) {
        if (!keep[i])
            continue;
        col += frame_put(frame, row, col, key[i], ROLE_FOOTER_KEY, frame->cols - col);
        col += frame_put(frame, row, col, " ", ROLE_FOOTER, 1);
        col += frame_put(frame, row, col, SHOWN[i].label, ROLE_FOOTER, frame->cols - col);
        col += frame_put(frame, row, col, "  ", ROLE_FOOTER, 2);
    }
}

/* ------------------------------------------------------------------------
 * Overlays
 * ---------------------------------------------------------------------- */

/* A centred box of at most rows x cols with a title; returns its inner
 * area through the pointers. */
static void overlay_box(const App *app, Frame *frame, int want_rows, int want_cols, const char *title, int *top,
                        int *left, int *rows, int *cols)
{
    int h = want_rows + 2 < frame->rows - 2 ? want_rows + 2 : frame->rows - 2;
    int w = want_cols + 4 < frame->cols - 2 ? want_cols + 4 : frame->cols - 2;
    int y = (frame->rows - h) / 2, x = (frame->cols - w) / 2;
    frame_fill(frame, y, x, h, w, ' ', ROLE_OVERLAY);
    frame_box(frame, y, x, h, w, frame_box_chars(app->options.ascii), ROLE_BORDER);
    char t[128];
    snprintf(t, sizeof t, " %s ", title);
    frame_put(frame, y, x + 2, t, ROLE_PANEL_FOCUS, w - 4);
    *top = y + 1, *left = x + 2, *rows = h - 2, *cols = w - 4;
}

/* Draws lines (separated by '\n') into an overlay, from line `scroll`
 * (clamped to the text); returns the scroll used. */
static int overlay_lines(const App *app, Frame *frame, const char *text, const char *title, int scroll)
{
    StrBuf ascii = {0};
    if (frame->ascii) { /* measure the text as it will be written */
        ascii_transliterate(text, &ascii);
        text = strbuf_text(&ascii);
    }
    int n_lines = 0, widest = 0;
    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        int w = (int)utf8_width_n(p, len);
        if (w > widest)
            widest = w;
        n_lines++;
        p = end != NULL ? end + 1 : p + len;
    }
    int top, left, rows, cols;
    overlay_box(app, frame, n_lines, widest, title, &top, &left, &rows, &cols);
    if (scroll > n_lines - rows)
        scroll = n_lines - rows > 0 ? n_lines - rows : 0;
    int line = 0;
    for (const char *p = text; *p != '\0' && line - scroll < rows;) {
        const char *end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (line >= scroll) {
            char buf[512];
            snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), p);
            frame_put(frame, top + line - scroll, left, buf, ROLE_OVERLAY, cols);
        }
        line++;
        p = end != NULL ? end + 1 : p + len;
    }
    if (n_lines > rows) {
        char more[64];
        snprintf(more, sizeof more, " lines %d-%d of %d, j/k scroll ", scroll + 1, scroll + rows, n_lines);
        frame_put(frame, top + rows, left, more, ROLE_DIM, cols);
    }
    strbuf_free(&ascii);
    return scroll;
}

static int compose_help(const App *app, Frame *frame)
{
    StrBuf text = {0};
    size_t count;
    const KeyBinding *table = keys_table(&count);
    static const char *const GROUPS[] = {"Steps", "Selection", "Views"};
    for (size_t g = 0; g < 3; g++) {
        strbuf_printf(&text, "%s%s\n", g > 0 ? "\n" : "", GROUPS[g]);
        for (Action a = ACTION_QUIT; a < ACTION_COUNT; a++) {
            if (strcmp(keys_action_group(a), GROUPS[g]) != 0)
                continue;
            char keys[64] = "";
            size_t used = 0;
            for (size_t k = 0; k < count; k++)
                if (table[k].action == a && used < sizeof keys)
                    used += (size_t)snprintf(keys + used, sizeof keys - used, "%s%s", used > 0 ? ", " : "",
                                             table[k].key_name);
            size_t pad = utf8_width(keys) < 18 ? 18 - utf8_width(keys) : 1;
            strbuf_printf(&text, "  %s%*s%s\n", keys, (int)pad, "", keys_action_help(a));
        }
    }
    strbuf_puts(&text, "\nSelecting a computed value highlights the values it is made from.");
    int scroll = overlay_lines(app, frame, strbuf_text(&text), "Keys (Esc closes)", app->overlay_scroll);
    strbuf_free(&text);
    return scroll;
}

static void compose_steps(const App *app, Frame *frame)
{
    const Trace *trace = app->trace;
    int widest = 0;
    for (int k = 0; k < app->n_walk; k++) {
        int w = 24 + (int)utf8_width(trace->steps[app->walk[k]].title); /* "> 12 * mh_weighted_sum   " + title */
        if (w > widest)
            widest = w;
    }
    int top, left, rows, cols;
    overlay_box(app, frame, app->n_walk, widest, "Steps (Enter goes, Esc closes)", &top, &left, &rows, &cols);
    int first = app->list_selected >= rows ? app->list_selected - rows + 1 : 0;
    for (int r = 0; r < rows && first + r < app->n_walk; r++) {
        int k = first + r;
        const TraceStep *step = &trace->steps[app->walk[k]];
        Role role = k == app->list_selected ? ROLE_OVERLAY_SELECT : ROLE_OVERLAY;
        frame_fill(frame, top + r, left, 1, cols, ' ', role);
        /* ">" marks the highlighted line (visible without colour), "*" the step on screen */
        frame_printf(frame, top + r, left, role, cols, "%c %2d %c %-16s %s", k == app->list_selected ? '>' : ' ',
                     k + 1, k == app->pos ? '*' : ' ', step->id, step->title);
    }
}

static int compose_inspector(const App *app, Frame *frame)
{
    int s = app->step, t = app->focus[s];
    StrBuf text = {0};
    int width = frame->cols - 6 < 76 ? frame->cols - 6 : 76;
    if (app->options.ascii) /* room for the ASCII spellings, longer than "√4" or "ᵀ" */
        width -= 8;
    if (width < 40)
        width = 40;
    explain_cell(app->trace, s, t, app->cursor[s][t], app->options.precision, &app->formats, width, &text);
    char title[200];
    explain_element_name(app->trace, &app->trace->steps[s].tensors[t], app->cursor[s][t], title, sizeof title);
    int scroll = overlay_lines(app, frame, strbuf_text(&text), title, app->overlay_scroll);
    strbuf_free(&text);
    return scroll;
}

/* Text with markup (an explanation, presenter notes) in a scrollable box,
 * rewrapped to the box. */
static int compose_text_overlay(const App *app, Frame *frame, const char *text, const char *title)
{
    int width = frame->cols - 6 < 72 ? frame->cols - 6 : 72;
    int lines = frame_markup(NULL, 0, 0, 0, width, text, 0, app->options.ascii);
    int top, left, rows, cols;
    overlay_box(app, frame, lines, width, title, &top, &left, &rows, &cols);
    int scroll = app->overlay_scroll > lines - rows ? (lines - rows > 0 ? lines - rows : 0) : app->overlay_scroll;
    frame_markup(frame, top, left, rows, cols, text, scroll, app->options.ascii);
    if (lines > rows) {
        char more[64];
        snprintf(more, sizeof more, " lines %d-%d of %d, j/k scroll ", scroll + 1, scroll + rows, lines);
        frame_put(frame, top + rows, left, more, ROLE_DIM, cols);
    }
    return scroll;
}

/* A quiz: the question, choices, the typed answer, and what the last try
 * said. */
static void compose_quiz(App *app, Frame *frame)
{
    const LessonStep *ls = app_lesson_step(app);
    const Quiz *quiz = &ls->quizzes[app->quiz_index];
    const QuizState *state = &app->quiz[app->pos][app->quiz_index];
    StrBuf text = {0};
    strbuf_printf(&text, "%s\n", quiz->question);
    for (int c = 0; c < quiz->n_choices; c++)
        strbuf_printf(&text, "  %d. %s\n", c + 1, quiz->choices[c]);
    static const char *const KIND_HINT[] = {"a shape, such as [5, 16]", "a number", "a token of the sentence",
                                            "the number or the text of a choice"};
    char answer[128];
    quiz_answer_text(quiz, answer, sizeof answer);
    switch (app->quiz_feedback) {
    case FEEDBACK_NONE:
        strbuf_printf(&text, "\nType %s, then Enter.\n", KIND_HINT[quiz->kind]);
        break;
    case FEEDBACK_WRONG: {
        strbuf_puts(&text, "\nNot quite.");
        int hint = state->tries - 1 < quiz->n_hints ? state->tries - 1 : quiz->n_hints - 1;
        if (hint >= 0)
            strbuf_printf(&text, " Hint: %s", quiz->hints[hint]);
        strbuf_puts(&text, "\n");
        break;
    }
    case FEEDBACK_RIGHT:
        strbuf_printf(&text, "\nRight%s: %s.\n", state->tries == 0 ? ", first try" : "", answer);
        break;
    case FEEDBACK_SHOWN:
        strbuf_printf(&text, "\nThe answer: %s.\n", answer);
        break;
    }
    bool settled = state->status != QUIZ_OPEN;
    if (settled && quiz->explain != NULL)
        strbuf_printf(&text, "%s\n", quiz->explain);
    strbuf_puts(&text, settled ? "\nEnter: continue" : "\n> \n\nEnter: check   Tab: show the answer   Esc: skip");
    char title[64];
    snprintf(title, sizeof title, "Question %d of %d", app->quiz_index + 1, ls->n_quizzes);
    /* word-wrapped into the box, the answer line holding what was typed */
    int width = frame->cols - 8 < 70 ? frame->cols - 8 : 70;
    StrBuf wrapped = {0};
    for (const char *p = strbuf_text(&text); *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
        if (strcmp(line, "> ") == 0) {
            strbuf_printf(&wrapped, "> %s\n", app->quiz_input);
        } else {
            /* wrap at width */
            int x = 0;
            for (const char *w = line; *w != '\0';) {
                const char *we = strchr(w, ' ');
                size_t wl = we != NULL ? (size_t)(we - w) : strlen(w);
                char word[256];
                snprintf(word, sizeof word, "%.*s", (int)(wl < sizeof word - 1 ? wl : sizeof word - 1), w);
                int ww = (int)utf8_width(word);
                if (x > 0 && x + 1 + ww > width) {
                    strbuf_puts(&wrapped, "\n");
                    x = 0;
                }
                if (x > 0) {
                    strbuf_puts(&wrapped, " ");
                    x++;
                }
                strbuf_puts(&wrapped, word);
                x += ww;
                w = we != NULL ? we + 1 : w + wl;
            }
            strbuf_puts(&wrapped, "\n");
        }
        p = eol != NULL ? eol + 1 : p + len;
    }
    overlay_lines(app, frame, strbuf_text(&wrapped), title, 0);
    /* the terminal cursor rests after the typed answer */
    for (int r = 0; r < frame->rows && !settled; r++) {
        Cell *c0 = frame_at(frame, r, 0);
        (void)c0;
        for (int c = 0; c + 1 < frame->cols; c++) {
            Cell *a = frame_at(frame, r, c), *b = frame_at(frame, r, c + 1);
            if (a->ch == '>' && b->ch == ' ' && a->role == ROLE_OVERLAY && c > 0 &&
                frame_at(frame, r, c - 1)->ch == ' ' && frame_at(frame, r, c - 1)->role == ROLE_OVERLAY) {
                /* after the typed answer, kept inside the frame when the
                 * answer fills the line */
                int col = c + 2 + (int)utf8_width(app->quiz_input);
                frame->cursor_row = r;
                frame->cursor_col = col < frame->cols ? col : frame->cols - 1;
            }
        }
    }
    strbuf_free(&wrapped);
    strbuf_free(&text);
}

/* ------------------------------------------------------------------------
 * The screen
 * ---------------------------------------------------------------------- */

static void compose_too_small(Frame *frame)
{
    char lines[4][64];
    snprintf(lines[0], sizeof lines[0], "Terminal too small.");
    snprintf(lines[1], sizeof lines[1], "attn-trace needs %dx%d;", VIEW_MIN_COLS, VIEW_MIN_ROWS);
    snprintf(lines[2], sizeof lines[2], "this one is %dx%d.", frame->cols, frame->rows);
    snprintf(lines[3], sizeof lines[3], "Enlarge it, or press q.");
    for (int i = 0; i < 4 && i < frame->rows; i++)
        frame_put(frame, i, 0, lines[i], i == 0 ? ROLE_WARNING : ROLE_TEXT, frame->cols);
}

void app_compose(App *app, Frame *frame)
{
    frame_clear(frame);
    frame->ascii = app->options.ascii;
    ViewLayout layout;
    view_layout(app, frame->rows, frame->cols, &layout);
    if (layout.too_small) {
        compose_too_small(frame);
        return;
    }
    const TraceStep *step = &app->trace->steps[app->step];
    compose_header(app, frame);
    compose_formula(app, frame, 2);
    if (app_tensors_hidden(app)) {
        frame_put(frame, layout.panels_top + 1, 2, "Predict first: the tensors of this step appear once you have",
                  ROLE_DIM, layout.panels_width - 4);
        frame_put(frame, layout.panels_top + 2, 2, "answered the question (or skipped it with Esc).", ROLE_DIM,
                  layout.panels_width - 4);
    } else {
        for (int i = 0; i < step->n_tensors; i++)
            if (layout.panel_rows[i] > 0)
                compose_panel(app, frame, i, layout.panel_top[i], layout.panel_rows[i], layout.panels_width);
        if (layout.more_panels > 0)
            frame_printf(frame, layout.more_row, 1, ROLE_DIM, layout.panels_width - 2,
                         "+%d more tensor%s: Tab shows %s", layout.more_panels, layout.more_panels == 1 ? "" : "s",
                         layout.more_panels == 1 ? "it" : "them");
    }
    const BoxChars *box = frame_box_chars(app->options.ascii);
    if (layout.explain_col > 1) /* at the side: a rule between panels and text */
        frame_fill(frame, layout.explain_top, layout.explain_col - 2, layout.explain_rows, 1, box->vertical,
                   ROLE_BORDER);
    int text_lines = frame_markup(frame, layout.explain_top, layout.explain_col, layout.explain_rows,
                                layout.explain_width, app_explanation(app), 0, app->options.ascii);
    if (text_lines > layout.explain_rows && layout.explain_rows > 0) {
        /* more than fits: say where the rest is */
        const char *more = " … e: read it all ";
        int w = (int)utf8_width(more);
        int row = layout.explain_top + layout.explain_rows - 1;
        int at = layout.explain_col + layout.explain_width - w;
        frame_fill(frame, row, at, 1, w, ' ', ROLE_TEXT);
        frame_put(frame, row, at, more, ROLE_DIM, w);
    }
    compose_status(app, frame, layout.status_row);
    compose_footer(app, frame);
    /* Overlays on top. A scrolled overlay reports the scroll it could use,
     * which is kept so that scrolling back answers at once. */
    switch (app->overlay) {
    case OVERLAY_HELP:
        app->overlay_scroll = compose_help(app, frame);
        break;
    case OVERLAY_STEPS:
        compose_steps(app, frame);
        break;
    case OVERLAY_INSPECT:
        app->overlay_scroll = compose_inspector(app, frame);
        break;
    case OVERLAY_QUIZ:
        compose_quiz(app, frame);
        break;
    case OVERLAY_NOTES:
        app->overlay_scroll =
            compose_text_overlay(app, frame, app_lesson_step(app)->notes, "Presenter notes (Esc closes)");
        break;
    case OVERLAY_EXPLAIN: {
        char title[160];
        snprintf(title, sizeof title, "%s (Esc closes)", step->title);
        app->overlay_scroll = compose_text_overlay(app, frame, app_explanation(app), title);
        break;
    }
    case OVERLAY_NONE:
        break;
    }
}
