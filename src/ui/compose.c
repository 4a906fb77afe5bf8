/*
 * compose.c - draws the tracer's screens into a Frame (see compose.h,
 * view.h).
 *
 * A pure function of the App and the frame's size: header, step title,
 * formula (with einsum letters), one panel per tensor, the explanation,
 * the selected value's line and a footer of keys; then any overlay (help,
 * step list, cell inspector) on top. Only visible cells are visited, so a
 * frame costs the same at d_model 16 and 768.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"

#include "diffview.h"
#include "lessonview.h"
#include "entropy.h"
#include "explain.h"
#include "frame.h"
#include "headsview.h"
#include "keys.h"
#include "scroll.h"
#include "strbuf.h"
#include "utf8.h"
#include "view.h"

/* The mark after a value that differs from the other trace's (x, o):
 * the non-colour half of ROLE_CHANGED, so --no-color and --ascii show it. */
#define DIFF_MARK "Δ"
#define DIFF_MARK_ASCII "*"

/* Each axis role of an einsum letter (explain.h's AxisRole) gets one
 * colour, so an axis looks the same in the equation, the panel titles and
 * the row and column labels whichever letter spells it; the backend has
 * LETTER_COLOURS of them. The query token shares the token's colour: it is
 * the same axis, seen as the one doing the looking. */
#define LETTER_COLOURS 6
static const uint8_t AXIS_COLOUR[AXIS_ROLE_COUNT] =
    {[AXIS_OTHER] = 5, [AXIS_TOKEN] = 0, [AXIS_QUERY] = 0,    [AXIS_KEY] = 1,
     [AXIS_MODEL] = 3, [AXIS_HEAD] = 2,  [AXIS_HEAD_DIM] = 4, [AXIS_VALUE_DIM] = 4};

static bool compose_step_screen(const App *app, Frame *frame);

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

/* The colour index of einsum letter `letter` of axes (the last colour for
 * a letter axes does not have). */
static uint8_t letter_colour(const EinsumAxes *axes, char letter)
{
    for (int l = 0; l < axes->n; l++)
        if (axes->axis[l].letter == letter)
            return AXIS_COLOUR[axes->axis[l].role];
    return LETTER_COLOURS - 1;
}

/* Gives the cells of row from col on (at most width of them) that hold
 * one of the einsum's letters standing alone (not inside a word: "h=4",
 * "summed: j", "i\\j") the colour of its axis, in ROLE_LETTER. */
static void colour_letters(Frame *frame, const EinsumAxes *axes, int row, int col, int width)
{
    for (int x = col; x < col + width; x++) {
        Cell *cell = frame_at(frame, row, x);
        if (cell == NULL || cell->ch > 0x7f)
            continue;
        char c = (char)cell->ch;
        bool known = false;
        for (int l = 0; l < axes->n; l++)
            known |= axes->axis[l].letter == c;
        Cell *before = frame_at(frame, row, x - 1), *after = frame_at(frame, row, x + 1);
        bool alone = (before == NULL || !((before->ch >= 'a' && before->ch <= 'z') || before->ch == '_')) &&
                     (after == NULL || after->ch == '=' || after->ch == ' ' || after->ch == ',' || after->ch == ';' ||
                      after->ch == ']' || after->ch == '\\');
        if (known && alone) {
            cell->role = ROLE_LETTER;
            cell->letter = letter_colour(axes, c);
        }
    }
}
/* The label of index i along a dimension of kind dim, in about max_cols
 * columns: a token word for a sequence dimension, with its position when
 * the word is repeated (explain_token_label), else the number. */
static void index_label(const App *app, DimKind dim, size_t i, int max_cols, char *buf, size_t size)
{
    const Config *cfg = &app->trace->config;
    if (dim == DIM_SEQ && i < cfg->n_tokens)
        explain_token_label(cfg, i, max_cols, buf, size);
    else
        snprintf(buf, size, "%zu", i);
}

/* Writes text at (row, col) in at most max_cols columns, as frame_put does,
 * but a text too long ends in "…" ("~" in ASCII) at the last column, so
 * a cut is never silent. Returns the columns written. */
static int put_cut(Frame *frame, int row, int col, const char *text, Role role, int max_cols)
{
    if (max_cols <= 0)
        return 0;
    if ((int)utf8_width(text) <= max_cols)
        return frame_put(frame, row, col, text, role, max_cols);
    int w = frame_put(frame, row, col, text, role, max_cols - 1);
    return w + frame_put(frame, row, col + w, frame->ascii ? "~" : "…", role, 1);
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
    char right[160], label[96];
    view_trace_label(app, false, label, sizeof label); /* a model lesson names the model and layer on screen */
    int n = snprintf(right, sizeof right, "%s  step %d/%d ",
                     label[0] != '\0'                 ? label
                     : step->part == PART_SINGLE_HEAD ? "part 1: one head"
                     : step->part == PART_MULTI_HEAD  ? "part 2: multi-head"
                                                      : "part 3: GPT-2",
                     app->pos + 1, app->n_walk);
    int right_col = frame->cols - n;
    char left[256];
    snprintf(left, sizeof left, " attn-trace %s %s", app->options.ascii ? "-" : "·", app->options.title);
    put_cut(frame, 0, 0, left, ROLE_HEADER, right_col - 1);
    frame_put(frame, 0, right_col, right, ROLE_HEADER, n);
}

/* The einsum's letters line at row: each letter with its size and the
 * axis it runs over, in that axis's colour, and the letters summed away;
 * the names shorten, then go, when the width is short (the panel titles
 * still name each tensor's letters). */
static void compose_letters(Frame *frame, int row, const EinsumAxes *axes)
{
    char text[512];
    int width = frame->cols - 2;
    for (int detail = 0; detail < 4; detail++) {
        explain_letters_text(axes, detail, text, sizeof text);
        if ((int)strlen(text) <= width)
            break;
    }
    int w = put_cut(frame, row, 1, text, ROLE_DIM, width);
    colour_letters(frame, axes, row, 1, w);
}

/* The step's PyTorch line (c) on the layout's torch rows, just above the
 * panels: "PyTorch: " dim, the code in the code role, wrapped between
 * statements (view_torch_row); the last row ends in "..." when the line
 * needs more rows than VIEW_TORCH_MAX_ROWS. */
static void compose_torch(const App *app, Frame *frame, const ViewLayout *layout)
{
    int width = frame->cols - 2, top = layout->panels_top - layout->torch_rows;
    char row[TRACE_TORCH_BYTES + sizeof VIEW_TORCH_PREFIX];
    for (int r = 0; r < layout->torch_rows; r++) {
        view_torch_row(app, frame->cols, r, row, sizeof row);
        char more[sizeof row];
        more[0] = '\0';
        if (r == layout->torch_rows - 1)
            view_torch_row(app, frame->cols, r + 1, more, sizeof more);
        if (more[0] != '\0' && width > 3)
            snprintf(row + (strlen(row) < (size_t)width - 3 ? strlen(row) : (size_t)width - 3), 4, "...");
        frame_put(frame, top + r, 1, row, ROLE_CODE, width);
        if (r == 0)
            frame_put(frame, top, 1, VIEW_TORCH_PREFIX, ROLE_DIM, width);
    }
}

const char *compose_formula_before(const char *formula, char *buf, size_t size)
{
    StrBuf out = {0};
    const char *arrow = strstr(formula, " → ");
    size_t len = arrow != NULL ? (size_t)(arrow - formula) : strlen(formula);
    const char *masked = strstr(formula, " after token ");
    if (masked != NULL && masked < formula + len) {
        strbuf_append(&out, formula, (size_t)(masked - formula));
        const char *rest = masked + strlen(" after token ");
        while (*rest >= '0' && *rest <= '9')
            rest++;
        strbuf_append(&out, rest, len - (size_t)(rest - formula));
    } else {
        strbuf_append(&out, formula, len);
    }
    snprintf(buf, size, "%s%s", strbuf_text(&out), arrow != NULL ? " → ?" : "");
    strbuf_free(&out);
    return buf;
}

/* The formula line, with einsum letters coloured, and for einsum steps a
 * second line binding each letter to its size. */
static void compose_formula(const App *app, Frame *frame, int row)
{
    const TraceStep *step = &app->trace->steps[app->step];
    char redacted[sizeof step->formula];
    const char *formula = step->formula;
    if (app_tensors_hidden(app))
        formula = compose_formula_before(step->formula, redacted, sizeof redacted);
    const LessonStep *ls = app->lesson != NULL ? lesson_find_step(app->lesson, step->id) : NULL;
    put_cut(frame, 1, 1, ls != NULL && ls->headline != NULL ? ls->headline : step->title, ROLE_TITLE, frame->cols - 2);
    const char *gap = strstr(formula, "   ");
    int letters_row = row + 1;
    size_t line1_bytes = strlen(formula); /* the part of the formula on the first line */
    if ((int)utf8_width(formula) > frame->cols - 2) {
        /* two lines: the expression, then its shapes, indented; without
         * that gap, break at the last space that fits */
        size_t cut;
        const char *rest;
        if (gap != NULL) {
            cut = (size_t)(gap - formula);
            rest = gap + 3;
        } else {
            cut = 0;
            for (size_t i = 0; formula[i] != '\0'; i++)
                if (formula[i] == ' ' && (int)utf8_width_n(formula, i) <= frame->cols - 2)
                    cut = i;
            rest = formula + cut + (cut > 0 ? 1 : 0);
        }
        /* an expression still too long breaks at its last space that
         * fits, the rest opening the second line; what does not fit
         * there ends in an ellipsis */
        size_t first = cut;
        if ((int)utf8_width_n(formula, cut) > frame->cols - 2)
            for (size_t i = 0; i < cut; i++)
                if (formula[i] == ' ' && (int)utf8_width_n(formula, i) <= frame->cols - 2)
                    first = i;
        char expression[160], second[320];
        snprintf(expression, sizeof expression, "%.*s", (int)first, formula);
        if (first < cut)
            snprintf(second, sizeof second, "%.*s   %s", (int)(cut - first - 1), formula + first + 1, rest);
        else
            snprintf(second, sizeof second, "%s", rest);
        line1_bytes = first;
        put_cut(frame, row, 1, expression, ROLE_FORMULA, frame->cols - 2);
        put_cut(frame, row + 1, 5, second, ROLE_FORMULA, frame->cols - 6);
        letters_row = row + 2;
    } else {
        frame_put(frame, row, 1, formula, ROLE_FORMULA, frame->cols - 2);
    }
    if (step->einsum == NULL)
        return;
    /* colour the letters of the equation where it appears in the formula */
    EinsumAxes axes;
    explain_einsum_axes(app->trace, app->step, &axes);
    const char *at = strstr(formula, step->einsum);
    if (at != NULL && (size_t)(at - formula) + strlen(step->einsum) <= line1_bytes) {
        int col = 1 + (int)utf8_width_n(formula, (size_t)(at - formula));
        for (const char *c = step->einsum; *c != '\0'; c++, col++) {
            Cell *cell = frame_at(frame, row, col);
            if (cell != NULL && *c >= 'a' && *c <= 'z') {
                cell->role = ROLE_LETTER;
                cell->letter = letter_colour(&axes, *c);
            }
        }
    }
    compose_letters(frame, letters_row, &axes);
}

/* What part of a tensor's grid a panel shows. */
typedef struct PanelView {
    TensorGrid grid;
    size_t slice, cur_row, cur_col; /* where the tensor's selected value is in the grid */
    int label_w, cell_w;            /* columns of the row labels and of one value */
    bool header;                    /* a line of column labels above the values */
    int body_rows, visible_cols;    /* rows and columns of values that fit */
    size_t top_row, left_col;       /* first row and column shown: the selection kept in view */
} PanelView;

/* Most candidate positions panel_anchor tries before giving up on finding
 * a source: bounds the cost of a frame whatever the tensors' sizes. */
#define ANCHOR_MAX_TRIES 4096

/* Most candidate indices kept for one dimension. */
#define ANCHOR_MAX_CANDIDATES 24

/* Adds index i to the list (of *n entries) when it is below limit and not
 * there yet. */
static void add_candidate(size_t *list, int *n, size_t i, size_t limit)
{
    if (i >= limit || *n >= ANCHOR_MAX_CANDIDATES)
        return;
    for (int k = 0; k < *n; k++)
        if (list[k] == i)
            return;
    list[(*n)++] = i;
}

/* The index of the selected value along its first DIM_HEAD dimension, or
 * -1 when the selected tensor has none. */
static long selected_head(const App *app)
{
    int s = app->step, sel = app->focus[s];
    const TraceTensor *tt = &app->trace->steps[s].tensors[sel];
    size_t index[TENSOR_MAX_DIMS] = {0}, offset = app->cursor[s][sel];
    for (int d = tt->tensor->ndim - 1; d >= 0; d--) {
        index[d] = offset % tt->tensor->shape[d];
        offset /= tt->tensor->shape[d];
    }
    for (int d = 0; d < tt->tensor->ndim; d++)
        if (tt->dims[d] == DIM_HEAD)
            return (long)index[d];
    return -1;
}

/* Looks for a value of input panel `tensor` that the selection is computed
 * from, trying likely positions only: along each dimension the panel's own
 * cursor, the selection's indices (and their quotients and remainders by
 * the panel's sizes, which is how heads are laid side by side), the token
 * id a looked-up row stands for, and 0. Sets *found and returns true when
 * one is a source. */
static bool find_source(const App *app, int tensor, size_t *found)
{
    int s = app->step, sel = app->focus[s];
    const TraceStep *step = &app->trace->steps[s];
    const TraceTensor *st = &step->tensors[sel];
    const Tensor *t = step->tensors[tensor].tensor, *o = st->tensor;
    if (t->ndim == 0 || t->ndim > TENSOR_MAX_DIMS)
        return false;
    size_t sel_index[TENSOR_MAX_DIMS] = {0}, own[TENSOR_MAX_DIMS] = {0};
    for (size_t d = (size_t)o->ndim, off = app->cursor[s][sel]; d-- > 0; off /= o->shape[d])
        sel_index[d] = off % o->shape[d];
    for (size_t d = (size_t)t->ndim, off = app->cursor[s][tensor]; d-- > 0; off /= t->shape[d])
        own[d] = off % t->shape[d];
    size_t cand[TENSOR_MAX_DIMS][ANCHOR_MAX_CANDIDATES];
    int n_cand[TENSOR_MAX_DIMS] = {0};
    for (int d = 0; d < t->ndim; d++) {
        size_t n = t->shape[d];
        add_candidate(cand[d], &n_cand[d], own[d], n);
        for (int k = 0; k < o->ndim; k++)
            add_candidate(cand[d], &n_cand[d], sel_index[k], n);
        for (int k = 0; k < 2; k++) { /* a looked-up row: the id the selection's row holds */
            const TraceTensor *in = st->how.in[k] >= 0 ? &step->tensors[st->how.in[k]] : NULL;
            if (in != NULL && in->is_integer && o->ndim > 0 && sel_index[0] < in->tensor->size &&
                in->tensor->data[sel_index[0]] >= 0.0f)
                add_candidate(cand[d], &n_cand[d], (size_t)in->tensor->data[sel_index[0]], n);
        }
        if (st->how.op == OP_PICK_ROW)
            add_candidate(cand[d], &n_cand[d], st->how.row, n);
        for (int k = 0; k < o->ndim; k++)
            for (int m = 0; m < t->ndim; m++) {
                add_candidate(cand[d], &n_cand[d], sel_index[k] / t->shape[m], n);
                add_candidate(cand[d], &n_cand[d], sel_index[k] % t->shape[m], n);
            }
        add_candidate(cand[d], &n_cand[d], 0, n);
    }
    /* every combination of the candidates, the first dimension slowest */
    int pick[TENSOR_MAX_DIMS] = {0};
    for (int tries = 0; tries < ANCHOR_MAX_TRIES; tries++) {
        size_t offset = 0;
        for (int d = 0; d < t->ndim; d++)
            offset = offset * t->shape[d] + cand[d][pick[d]];
        if (explain_is_source(app->trace, s, sel, app->cursor[s][sel], tensor, offset)) {
            *found = offset;
            return true;
        }
        int d = t->ndim - 1;
        while (d >= 0 && ++pick[d] == n_cand[d])
            pick[d--] = 0;
        if (d < 0)
            break;
    }
    return false;
}

/* The value panel `tensor` keeps in view: the selection in its own panel;
 * in a panel holding values the selection is computed from, one of them
 * (so they light up on screen, in the right head); in any other panel
 * sliced by heads, its own selection moved to the head of the selected
 * value; else its own selection. Derived each time, never stored. */
static size_t panel_anchor(const App *app, int tensor)
{
    int s = app->step, sel = app->focus[s];
    const TraceStep *step = &app->trace->steps[s];
    const TraceTensor *st = &step->tensors[sel];
    size_t own = app->cursor[s][tensor], found;
    if (tensor == sel)
        return own;
    if (st->is_output && st->how.op != OP_SHOWN && (st->how.in[0] == tensor || st->how.in[1] == tensor) &&
        find_source(app, tensor, &found))
        return found;
    const TraceTensor *tt = &step->tensors[tensor];
    long head = selected_head(app);
    const Tensor *t = tt->tensor;
    if (head < 0 || t->ndim != 3 || tt->dims[0] != DIM_HEAD || (size_t)head >= t->shape[0])
        return own;
    size_t slice_size = t->shape[1] * t->shape[2];
    return (size_t)head * slice_size + own % slice_size;
}

/* The view of tensor `tensor` of the step on screen in a panel of rows x
 * width (its title line included). */
static PanelView panel_view(const App *app, int tensor, int rows, int width)
{
    int s = app->step;
    PanelView pv;
    pv.grid = view_grid(app, s, tensor, width);
    view_grid_locate(&pv.grid, panel_anchor(app, tensor), &pv.slice, &pv.cur_row, &pv.cur_col);
    pv.label_w = view_label_width(app, s, tensor);
    pv.cell_w = view_cell_width(app, s, tensor);
    pv.header = !pv.grid.vertical && !pv.grid.wrapped && app->trace->steps[s].tensors[tensor].tensor->ndim >= 2;
    pv.body_rows = rows - 1 - (pv.header ? 1 : 0);
    pv.visible_cols = (width - 1 - pv.label_w) / pv.cell_w;
    if (pv.visible_cols < 1)
        pv.visible_cols = 1;
    pv.top_row = (size_t)scroll_follow(0, (long)pv.cur_row, pv.body_rows);
    pv.left_col = (size_t)scroll_follow(0, (long)pv.cur_col, pv.visible_cols);
    if (pv.grid.vertical || pv.grid.wrapped)
        pv.left_col = 0;
    return pv;
}

static Picture panel_picture(const App *app, int tensor, const TensorGrid *grid);

/* tt's shape into buf: "[4, 5, 5]", or with letters (one per dimension,
 * not NULL) each size after its einsum letter: "[h=4, i=5, j=5]". */
static void shape_with_letters(const TraceTensor *tt, const char *letters, char *buf, size_t size)
{
    if (letters == NULL) {
        tensor_shape_str(tt->tensor, buf, size);
        return;
    }
    StrBuf out = {0};
    strbuf_printf(&out, "[");
    for (int d = 0; d < tt->tensor->ndim; d++)
        strbuf_printf(&out, "%s%c=%zu", d > 0 ? ", " : "", letters[d] != 0 ? letters[d] : '?', tt->tensor->shape[d]);
    strbuf_printf(&out, "]");
    snprintf(buf, size, "%s", strbuf_text(&out));
    strbuf_free(&out);
}

/* A panel's title line at row top: the tensor's name and shape, the head
 * shown, and which rows and columns are in view. */
static void panel_title(const App *app, Frame *frame, int tensor, const PanelView *pv, int top, int rows, int width)
{
    const BoxChars *box = frame_box_chars(app->options.ascii);
    const TraceTensor *tt = &app->trace->steps[app->step].tensors[tensor];
    const TensorGrid *grid = &pv->grid;
    bool focused = app->focus[app->step] == tensor;
    Role title_role = focused ? ROLE_PANEL_FOCUS : ROLE_BORDER;
    frame_fill(frame, top, 0, 1, width, box->horizontal, title_role);
    char shape[96], title[240];
    EinsumAxes axes;
    bool lettered = explain_einsum_axes(app->trace, app->step, &axes) && axes.dim_letter[tensor][0] != 0;
    shape_with_letters(tt, lettered ? axes.dim_letter[tensor] : NULL, shape, sizeof shape);
    const char *marker = focused ? (app->options.ascii ? "> " : "▶ ") : "";
    int n = snprintf(title, sizeof title, " %s%s %s%s", marker, tt->name, shape, tt->is_output ? "" : " (input)");
    int shape_col = 1 + (int)utf8_width(marker) + 1 + (int)utf8_width(tt->name) + 1;
    if (grid->slices > 1 && n > 0 && (size_t)n < sizeof title) {
        char label[64];
        index_label(app, grid->slice_dim, pv->slice, 64, label, sizeof label);
        n += snprintf(title + n, sizeof title - (size_t)n, ", head %s (heads 0-%zu)", label, grid->slices - 1);
    }
    if (rows > 1 && n > 0 && (size_t)n < sizeof title) {
        size_t shown_rows = pv->body_rows > 0 ? (size_t)pv->body_rows : 0;
        size_t top_row = pv->top_row, left_col = pv->left_col;
        size_t fit = shown_rows < grid->rows - top_row ? shown_rows : grid->rows - top_row;
        size_t last_row = fit > 0 ? top_row + fit - 1 : top_row;
        if (fit == 0) /* no room for a row: say so rather than count backwards */
            n += snprintf(title + n, sizeof title - (size_t)n, ", no room for its %zu rows", grid->rows);
        else if (grid->rows > shown_rows && last_row == top_row)
            n += snprintf(title + n, sizeof title - (size_t)n, ", row %zu of %zu", top_row, grid->rows);
        else if (grid->rows > shown_rows)
            n += snprintf(title + n, sizeof title - (size_t)n, ", rows %zu-%zu of %zu", top_row, last_row, grid->rows);
        if (!grid->wrapped && !grid->vertical && grid->cols > (size_t)pv->visible_cols)
            n += snprintf(title + n, sizeof title - (size_t)n, ", cols %zu-%zu of %zu", left_col,
                          left_col + (size_t)pv->visible_cols - 1, grid->cols);
    }
    Picture picture = panel_picture(app, tensor, grid);
    if (picture != PICTURE_NUMBERS && n > 0 && (size_t)n < sizeof title)
        n += snprintf(title + n, sizeof title - (size_t)n, "%s",
                      picture == PICTURE_BARS ? ", as bars (v)" : ", who looks at whom (v)");
    if (rows == 1 && (size_t)n < sizeof title)
        snprintf(title + n, sizeof title - (size_t)n, "%s", focused ? "" : "  (Tab shows it)");
    strcat(title, " ");
    int written = put_cut(frame, top, 1, title, focused ? ROLE_PANEL_FOCUS : ROLE_PANEL_TITLE, width - 2);
    if (lettered && shape_col + (int)strlen(shape) < 1 + written)
        colour_letters(frame, &axes, top, shape_col, (int)strlen(shape));
}

/* The einsum letters of panel `tensor`'s rows and columns as pv lays them
 * out, into *row_letter and *col_letter (0 where a dimension has none: a
 * tensor outside the step's einsum, a 1-D one), and whether it has any;
 * axes is filled as explain_einsum_axes does. */
static bool grid_letters(const App *app, int tensor, const PanelView *pv, EinsumAxes *axes, char *row_letter,
                         char *col_letter)
{
    *row_letter = *col_letter = 0;
    int ndim = app->trace->steps[app->step].tensors[tensor].tensor->ndim;
    if (pv->grid.vertical || pv->grid.wrapped || ndim < 2 || !explain_einsum_axes(app->trace, app->step, axes))
        return false;
    *row_letter = axes->dim_letter[tensor][ndim - 2];
    *col_letter = axes->dim_letter[tensor][ndim - 1];
    return *row_letter != 0 && *col_letter != 0;
}

/* Gives w cells of row from col the colour of the einsum axis `letter`
 * of axes (a row or column label), unless the screen has no colour. */
static void tint_label(const App *app, Frame *frame, const EinsumAxes *axes, char letter, int row, int col, int w)
{
    if (app->options.no_color || letter == 0)
        return;
    for (int x = col; x < col + w; x++) {
        Cell *cell = frame_at(frame, row, x);
        if (cell != NULL && cell->ch != ' ') {
            cell->role = ROLE_LETTER;
            cell->letter = letter_colour(axes, letter);
        }
    }
}

/* The column labels of a panel at row; in an einsum step the corner above
 * the row labels names the rows' and columns' letters ("i\\j": rows run
 * over i, columns over j), in colour or not, and the labels take their
 * axis's colour. */
static void panel_column_labels(const App *app, Frame *frame, int tensor, const PanelView *pv, int row)
{
    EinsumAxes axes;
    char row_letter, col_letter;
    if (grid_letters(app, tensor, pv, &axes, &row_letter, &col_letter) && pv->label_w - 1 >= 3) {
        char corner[4] = {row_letter, '\\', col_letter, '\0'};
        frame_put(frame, row, 0, corner, ROLE_DIM, 3);
        colour_letters(frame, &axes, row, 0, 3);
    }
    for (int c = 0; c < pv->visible_cols && pv->left_col + (size_t)c < pv->grid.cols; c++) {
        char label[64];
        int fit = pv->cell_w - 1;
        index_label(app, pv->grid.col_dim, pv->left_col + (size_t)c, fit, label, sizeof label);
        int x = pv->label_w + c * pv->cell_w;
        int w = (int)utf8_width(label);
        /* right-aligned over the numbers, cut to the column */
        int at = x + (w < fit ? fit - w : 0);
        tint_label(app, frame, &axes, col_letter, row, at, put_cut(frame, row, at, label, ROLE_LABEL, fit));
    }
}

/* The role of value `offset` of panel `tensor`: the selection, one of its
 * sources, or a plain value. */
static Role value_role(const App *app, int tensor, size_t offset)
{
    int s = app->step;
    const TraceStep *step = &app->trace->steps[s];
    int sel_tensor = app->focus[s];
    size_t sel_offset = app->cursor[s][sel_tensor];
    bool show_sources = step->tensors[sel_tensor].is_output && step->tensors[sel_tensor].how.op != OP_SHOWN;
    if (tensor == sel_tensor && offset == sel_offset)
        return ROLE_CURSOR;
    if (show_sources && tensor != sel_tensor &&
        explain_is_source(app->trace, s, sel_tensor, sel_offset, tensor, offset))
        return ROLE_SOURCE;
    return ROLE_VALUE;
}

/* How panel `tensor` of the step on screen, laid out as grid, draws its
 * values: numbers unless it holds weights (a softmax output) and v asked
 * for a picture; who-looks-at-whom only for rows over key tokens, bars
 * for any other weights. */
static Picture panel_picture(const App *app, int tensor, const TensorGrid *grid)
{
    if (app->picture == PICTURE_NUMBERS || app->formats.of[app->step][tensor].notation != NUM_PROBABILITY)
        return PICTURE_NUMBERS;
    bool rows_of_keys = !grid->vertical && !grid->wrapped && grid->col_dim == DIM_SEQ &&
                        app->trace->steps[app->step].tensors[tensor].tensor->ndim >= 2;
    return app->picture == PICTURE_LINKS && rows_of_keys ? PICTURE_LINKS : PICTURE_BARS;
}

/* A weight v (0..1) as a bar over `width` columns at (row, x) in role and
 * heat: eighths of a block in Unicode, '#' in ASCII; a weight that is not
 * 0 keeps at least a hair, an exact 0 draws nothing. With fill the whole
 * width takes the role, so the selection's cell shows as wide as a
 * number. Returns the columns the bar's ink takes. */
static int put_bar(Frame *frame, int row, int x, float v, int width, bool fill, Role role, int8_t heat)
{
    static const char *const EIGHTHS[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    if (fill)
        frame_fill(frame, row, x, 1, width, ' ', role);
    float w = isfinite(v) ? (v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v) : 0.0f;
    int col = x;
    if (frame->ascii) {
        long full = lroundf(w * (float)width);
        for (long k = 0; k < full; k++)
            col += frame_put(frame, row, col, "#", role, 1);
        if (full == 0 && w > 0.0f)
            col += frame_put(frame, row, col, ".", role, 1);
    } else {
        long units = lroundf(w * (float)width * 8.0f);
        if (units == 0 && w > 0.0f)
            units = 1;
        for (long k = 0; k < units / 8; k++)
            col += frame_put(frame, row, col, "█", role, 1);
        if (units % 8 != 0)
            col += frame_put(frame, row, col, EIGHTHS[units % 8], role, 1);
    }
    for (int k = x; k < col; k++)
        frame_at(frame, row, k)->heat = heat;
    return col - x;
}

/* One value of a panel at (row, x): its number with its heat, in the role
 * that says whether it is selected or a source of the selection, and
 * without colour a glyph after it for its size. */
static void panel_value(const App *app, Frame *frame, int tensor, size_t offset, int row, int x, int cell_w)
{
    static const char *const GLYPHS_UNICODE[] = {" ", "·", "∘", "•", "●"};
    static const char *const GLYPHS_ASCII[] = {" ", ".", "-", "+", "#"};
    int s = app->step;
    float v = app->trace->steps[s].tensors[tensor].tensor->data[offset];
    Role role = value_role(app, tensor, offset);
    int mark_w = view_has_changes(app) ? 1 : 0; /* the column of the changed mark (view_cell_width) */
    bool changed = mark_w > 0 && view_value_changed(app, s, tensor, offset);
    if (changed && role == ROLE_VALUE)
        role = ROLE_CHANGED;
    if (app->picture != PICTURE_NUMBERS && app->formats.of[s][tensor].notation == NUM_PROBABILITY) {
        put_bar(frame, row, x, v, cell_w - 1 - mark_w, true, role, heat_of(v, app->max_abs[s][tensor]));
        if (changed)
            frame_put(frame, row, x + cell_w - 1 - mark_w, app->options.ascii ? DIFF_MARK_ASCII : DIFF_MARK,
                      ROLE_CHANGED, 1);
        return;
    }
    char buf[NUMFMT_BUF];
    numfmt_write_padded(&app->formats.of[s][tensor], v, buf);
    int8_t heat = heat_of(v, app->max_abs[s][tensor]);
    int w = frame_put(frame, row, x, buf, role, cell_w - 1 - mark_w);
    for (int k = 0; k < w; k++)
        frame_at(frame, row, x + k)->heat = heat;
    if (app->options.no_color) {
        int level = heat < 0 ? -heat : heat;
        frame_put(frame, row, x + w, app->options.ascii ? GLYPHS_ASCII[level] : GLYPHS_UNICODE[level],
                  role == ROLE_CURSOR ? ROLE_CURSOR : ROLE_DIM, 1);
        w++;
    }
    if (changed)
        frame_put(frame, row, x + w, app->options.ascii ? DIFF_MARK_ASCII : DIFF_MARK, ROLE_CHANGED, 1);
}

/* The rows of a panel's values from row on: each with its label. */
static void panel_values(const App *app, Frame *frame, int tensor, const PanelView *pv, int row)
{
    const TensorGrid *grid = &pv->grid;
    const Tensor *t = app->trace->steps[app->step].tensors[tensor].tensor;
    EinsumAxes axes;
    char row_letter, col_letter;
    grid_letters(app, tensor, pv, &axes, &row_letter, &col_letter);
    for (int r = 0; r < pv->body_rows && pv->top_row + (size_t)r < grid->rows; r++) {
        size_t grid_row = pv->top_row + (size_t)r;
        char label[64];
        if (grid->wrapped)
            snprintf(label, sizeof label, "%zu", grid_row * grid->cols);
        else
            index_label(app, grid->row_dim, grid_row, pv->label_w - 1, label, sizeof label);
        if (pv->label_w > 0) {
            int w = (int)utf8_width(label);
            int fit = pv->label_w - 1;
            int at = w < fit && !(grid->row_dim == DIM_SEQ) ? fit - w : 0;
            tint_label(app, frame, &axes, row_letter, row + r, at, put_cut(frame, row + r, at, label, ROLE_LABEL, fit));
        }
        for (int c = 0; c < pv->visible_cols && pv->left_col + (size_t)c < grid->cols; c++) {
            size_t offset = view_grid_offset(grid, pv->slice, grid_row, pv->left_col + (size_t)c);
            if (offset >= t->size)
                break;
            panel_value(app, frame, tensor, offset, row + r, pv->label_w + c * pv->cell_w, pv->cell_w);
        }
    }
}

/* Longest bar of the who-looks-at-whom picture, for a weight of 1. */
#define LINK_BAR_COLS 10

/* One word of the who-looks-at-whom picture at (row, x): the key word
 * and a bar of its weight (value `offset` of panel `tensor`), in the
 * role of that value. Returns the column after it and a gap. */
static int link_entry(const App *app, Frame *frame, int tensor, size_t offset, const char *word, int row, int x,
                      int width)
{
    float v = app->trace->steps[app->step].tensors[tensor].tensor->data[offset];
    Role role = value_role(app, tensor, offset);
    x += frame_put(frame, row, x, word, role == ROLE_VALUE ? ROLE_LABEL : role, width - 1 - x);
    x += frame_put(frame, row, x, " ", role, width - 1 - x);
    if (x < width - 1)
        x += put_bar(frame, row, x, v, LINK_BAR_COLS, false, role, heat_of(v, app->max_abs[app->step][tensor]));
    return x + 2;
}

/* The who-looks-at-whom picture of a weights panel from row on: for each
 * query row in view, its label, then the key words it gives a weight of
 * 0.01 or more, thickest first, each with a bar of its weight (the
 * selection and its sources in their roles), as many as the width holds. */
static void panel_links(const App *app, Frame *frame, int tensor, const PanelView *pv, int row, int width)
{
    const TensorGrid *grid = &pv->grid;
    const Tensor *t = app->trace->steps[app->step].tensors[tensor].tensor;
    frame_put(frame, row - 1, pv->label_w, "looks at, thickest first", ROLE_DIM, width - pv->label_w - 1);
    for (int r = 0; r < pv->body_rows && pv->top_row + (size_t)r < grid->rows; r++) {
        size_t grid_row = pv->top_row + (size_t)r, first = view_grid_offset(grid, pv->slice, grid_row, 0);
        char label[64];
        index_label(app, grid->row_dim, grid_row, pv->label_w - 1, label, sizeof label);
        put_cut(frame, row + r, 0, label, ROLE_LABEL, pv->label_w - 1);
        /* the next thickest after (prev_v, prev_c): weights down, then keys
         * left to right; one pass a word, and few words fit */
        float prev_v = INFINITY;
        size_t prev_c = 0;
        bool started = false;
        int x = pv->label_w;
        while (x < width - 1) {
            size_t best = grid->cols;
            for (size_t c = 0; c < grid->cols; c++) {
                float v = t->data[first + c];
                bool after = !started || v < prev_v || (v == prev_v && c > prev_c);
                if (after && (best == grid->cols || v > t->data[first + best]))
                    best = c;
            }
            if (best == grid->cols || !(t->data[first + best] >= 0.01f))
                break;
            float v = t->data[first + best];
            prev_v = v, prev_c = best, started = true;
            char word[64];
            index_label(app, grid->col_dim, best, VIEW_LABEL_MAX, word, sizeof word);
            int bar = (int)ceilf(v * LINK_BAR_COLS);
            if (x + (int)utf8_width(word) + 1 + bar > width - 1)
                break;
            x = link_entry(app, frame, tensor, first + best, word, row + r, x, width);
        }
        /* the selection, too thin to be listed, still shows at the end */
        size_t sel = app->cursor[app->step][tensor];
        if (app->focus[app->step] == tensor && sel >= first && sel < first + grid->cols && !(t->data[sel] >= 0.01f)) {
            char word[64];
            index_label(app, grid->col_dim, sel - first, VIEW_LABEL_MAX, word, sizeof word);
            link_entry(app, frame, tensor, sel, word, row + r, x, width);
        }
    }
}

/* One tensor panel: a title line, then (space allowing) column labels and
 * the rows of the slice that hold the selection, scrolled to keep it in
 * view. */
static void compose_panel(const App *app, Frame *frame, int tensor, int top, int rows, int width)
{
    PanelView pv = panel_view(app, tensor, rows, width);
    panel_title(app, frame, tensor, &pv, top, rows, width);
    if (rows <= 1)
        return;
    int row = top + 1;
    if (panel_picture(app, tensor, &pv.grid) == PICTURE_LINKS) {
        panel_links(app, frame, tensor, &pv, row + 1, width);
        return;
    }
    if (pv.header) {
        panel_column_labels(app, frame, tensor, &pv, row);
        row++;
    }
    panel_values(app, frame, tensor, &pv, row);
}

/* The experiment prompt (x) on the status row: what is typed, the
 * terminal cursor after it. */
static void compose_prompt(const App *app, Frame *frame, int row)
{
    int col = 1 + frame_put(frame, row, 1, "experiment: ", ROLE_STRONG, frame->cols - 2);
    int w = frame_put(frame, row, col, app->prompt, ROLE_TEXT, frame->cols - col - 1);
    frame->cursor_row = row;
    frame->cursor_col = col + w < frame->cols ? col + w : frame->cols - 1;
}

/* The footer under the experiment prompt: the keys, then the changes
 * this trace takes, as the flags spell them, most useful first, each that
 * fits the width (an ellipsis when some did not; docs/experiments.md has
 * them all). A model always masks and takes no-positions; an article's
 * trace takes the mask it lacks and, once causal, kv-cache. */
static void compose_prompt_footer(const App *app, Frame *frame, int row)
{
    const Config *cfg = &app->original->config;
    const bool model = cfg->model != NULL;
    const char *const changes[] = {
        "no-scale",        model ? NULL : cfg->causal ? "no-mask" : "causal",        "zero-head=H", "set=NAME[i,j]=V",
        "swap-tokens=I,J", model ? "no-positions" : cfg->causal ? "kv-cache" : NULL, "scale=N",
    };
    enum { N_CHANGES = sizeof changes / sizeof changes[0] };
    const char *keys = "Enter apply  Esc cancel ";
    const char *more = app->options.ascii ? " ..." : " …";
    const int room = frame->cols - 2, more_cols = app->options.ascii ? 4 : 2;
    int used = (int)strlen(keys);
    bool shown[N_CHANGES] = {false}, dropped = false;
    for (int i = 0; i < N_CHANGES; i++) {
        if (changes[i] == NULL)
            continue;
        const int w = 1 + (int)strlen(changes[i]);
        if (used + w <= room - more_cols) { /* the columns of more kept */
            shown[i] = true;
            used += w;
        } else {
            dropped = true;
        }
    }
    StrBuf text = {0};
    strbuf_printf(&text, "%s", keys);
    for (int i = 0; i < N_CHANGES; i++)
        if (shown[i])
            strbuf_printf(&text, " %s", changes[i]);
    if (dropped)
        strbuf_printf(&text, "%s", more);
    put_cut(frame, row, 1, strbuf_text(&text), ROLE_FOOTER, room);
    strbuf_free(&text);
}

/* The line under the selected value's while changes are in force: which
 * trace is on screen, and how many values of each tensor shown differ. */
static void compose_diff_line(const App *app, Frame *frame, int row)
{
    StrBuf text = {0};
    view_diff_summary(app, &text);
    put_cut(frame, row, 1, strbuf_text(&text), ROLE_TEXT, frame->cols - 2);
    /* the words before the counts in the changed role, so the line reads as the marks do */
    const char *colon = strchr(strbuf_text(&text), ';');
    int label = colon != NULL ? (int)utf8_width_n(strbuf_text(&text), (size_t)(colon - strbuf_text(&text))) : 0;
    frame_set_role(frame, row, 1, 1, label < frame->cols - 2 ? label : frame->cols - 2, ROLE_CHANGED);
    strbuf_free(&text);
}

/* ------------------------------------------------------------------------
 * The compare view (a lesson step's `compare: yes`)
 * ---------------------------------------------------------------------- */

/* Columns of a compare panel's title kept for the tensor's name before
 * the tag that names its trace. */
#define COMPARE_TITLE_COLS 12

/* Fewest rows each of two stacked compare panels needs (view.h). */
#define COMPARE_MIN_ROWS VIEW_COMPARE_MIN_ROWS

/* A copy of app with `trace` on screen (the original or the changed one),
 * its formats and heat scale with it; the caller frees it. NULL when out
 * of memory. The copy is only read. */
static App *app_showing(const App *app, const Trace *trace)
{
    App *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return NULL;
    *copy = *app;
    if (trace != app->trace) {
        copy->trace = app->other;
        copy->other = app->trace;
        copy->formats = app->other_formats;
        copy->other_formats = app->formats;
        memcpy(copy->max_abs, app->other_max_abs, sizeof copy->max_abs);
        memcpy(copy->other_max_abs, app->max_abs, sizeof copy->other_max_abs);
    }
    return copy;
}

/* The entropy of each row in view of a panel of weights composed at
 * (top, x) `width` columns wide, in the VIEW_ENTROPY_COLS after it: "H"
 * over them, then each row's in bits. */
static void compare_entropy(const App *view, Frame *frame, int tensor, int top, int rows, int x, int width)
{
    PanelView pv = panel_view(view, tensor, rows, width);
    const Tensor *t = view->trace->steps[view->step].tensors[tensor].tensor;
    if (pv.header)
        frame_put(frame, top + 1, x + 1, "H bits", ROLE_LABEL, VIEW_ENTROPY_COLS - 1);
    int first = top + 1 + (pv.header ? 1 : 0);
    for (int r = 0; r < pv.body_rows && pv.top_row + (size_t)r < pv.grid.rows; r++) {
        size_t start = view_grid_offset(&pv.grid, pv.slice, pv.top_row + (size_t)r, 0);
        frame_printf(frame, first + r, x + 1, ROLE_DIM, VIEW_ENTROPY_COLS - 1, "%6.3f",
                     entropy_bits(t->data + start, pv.grid.cols));
    }
}

/* A copy of app with the lesson's own trace on screen at its step of
 * the step on screen, focused on the tensor of the same name and, when
 * the shapes agree, on the same value: the other side of a model lesson's
 * compare view (lessonview.h). The caller frees it; NULL when there is
 * no such tensor or memory runs out. The copy is only read. */
static App *app_showing_base(const App *app)
{
    int s, t;
    if (!view_own_compare_base(app, &s, &t))
        return NULL;
    App *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return NULL;
    *copy = *app;
    copy->trace = app->original;
    copy->own = NULL;
    copy->step = s;
    copy->formats = app->base_formats;
    memcpy(copy->max_abs, app->base_max_abs, sizeof copy->max_abs);
    copy->focus[s] = t;
    const Tensor *mine = app->trace->steps[app->step].tensors[app->focus[app->step]].tensor;
    const Tensor *theirs = app->original->steps[s].tensors[t].tensor;
    bool same = mine->ndim == theirs->ndim;
    for (int d = 0; same && d < mine->ndim; d++)
        same = mine->shape[d] == theirs->shape[d];
    copy->cursor[s][t] = same ? app->cursor[app->step][app->focus[app->step]] : 0;
    return copy;
}

/* One of the compare view's panels: the focused tensor of view (an App
 * copy with the trace to show on screen) at (top, x), rows x width,
 * tagged at the right of its title with label (in label_role) and, for a
 * vector of weights, its entropy. */
static void compare_panel_of(const App *view, Frame *frame, int top, int x, int rows, int width, const char *label,
                             Role label_role)
{
    Frame part;
    if (rows < 1 || width < 8 || !frame_init(&part, rows, width))
        return;
    part.ascii = frame->ascii;
    int s = view->step, tensor = view->focus[s], entropy_cols = view_compare_entropy_cols(view);
    int values_w = width - entropy_cols; /* the values, then the entropies right after them */
    if (entropy_cols > 0) {
        TensorGrid grid = view_grid(view, s, tensor, values_w);
        int natural = view_label_width(view, s, tensor) + (int)grid.cols * view_cell_width(view, s, tensor) + 1;
        values_w = natural < values_w ? natural : values_w;
    }
    compose_panel(view, &part, tensor, 0, rows, values_w);
    if (entropy_cols > 0) { /* the entropies right after the values; the title's rule goes on over them */
        frame_fill(&part, 0, values_w, 1, width - values_w, frame_box_chars(frame->ascii)->horizontal,
                   frame_at(&part, 0, 0)->role);
        compare_entropy(view, &part, tensor, 0, rows, values_w, values_w + entropy_cols);
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < width; c++) {
            Cell *to = frame_at(frame, top + r, x + c);
            if (to != NULL)
                *to = part.cells[r * width + c];
        }
    frame_free(&part);
    StrBuf tag = {0};
    strbuf_printf(&tag, " %s", label);
    const Tensor *t = view->trace->steps[s].tensors[tensor].tensor;
    if (view->formats.of[s][tensor].notation == NUM_PROBABILITY && entropy_cols == 0)
        strbuf_printf(&tag, " · H %.3f", entropy_bits(t->data, t->size));
    strbuf_puts(&tag, " ");
    int w = (int)utf8_width(strbuf_text(&tag));
    int at = x + width - w - 1 > x + COMPARE_TITLE_COLS ? x + width - w - 1 : x + COMPARE_TITLE_COLS;
    put_cut(frame, top, at, strbuf_text(&tag), label_role, x + width - 1 - at);
    strbuf_free(&tag);
}

/* One of an experiment's compare panels: the focused tensor of the trace
 * `which` (the original or the changed one), tagged "original" or with
 * the changes (compare_panel_of). */
static void compare_panel(const App *app, Frame *frame, const Trace *which, int top, int x, int rows, int width)
{
    App *view = app_showing(app, which);
    if (view == NULL)
        return;
    StrBuf label = {0};
    if (which == app->original)
        strbuf_puts(&label, "original");
    else
        view_changes_text(app, &label);
    compare_panel_of(view, frame, top, x, rows, width, strbuf_text(&label),
                     which == app->original ? ROLE_PANEL_TITLE : ROLE_CHANGED);
    strbuf_free(&label);
    free(view);
}

/* A model lesson's compare view: the lesson's trace's tensor beside (or
 * above) the step's own trace's, each tagged with its model and layer,
 * no value marked (every one may differ). */
static void compose_own_compare(const App *app, Frame *frame, const ViewLayout *layout)
{
    int top = layout->panels_top, rows = layout->panels_rows, width = layout->panels_width;
    App *base = app_showing_base(app);
    if (base == NULL)
        return;
    char base_label[96], own_label[96];
    view_trace_label(app, true, base_label, sizeof base_label);
    view_trace_label(app, false, own_label, sizeof own_label);
    if (view_compare_side_by_side(app, width) && view_compare_side_by_side(base, width)) {
        int half = (width - 1) / 2;
        compare_panel_of(base, frame, top, 0, rows, half, base_label, ROLE_PANEL_TITLE);
        compare_panel_of(app, frame, top, half + 1, rows, width - half - 1, own_label, ROLE_STRONG);
    } else if (rows < 2 * COMPARE_MIN_ROWS && app->own_compare_base) { /* no room for two: the one o chose */
        compare_panel_of(base, frame, top, 0, rows, width, base_label, ROLE_PANEL_TITLE);
    } else if (rows < 2 * COMPARE_MIN_ROWS) { /* no room for two: the step's own, tagged */
        compare_panel_of(app, frame, top, 0, rows, width, own_label, ROLE_STRONG);
    } else {
        int upper = rows / 2;
        compare_panel_of(base, frame, top, 0, upper, width, base_label, ROLE_PANEL_TITLE);
        compare_panel_of(app, frame, top + upper, 0, rows - upper, width, own_label, ROLE_STRONG);
    }
    free(base);
}

/* The compare view's panels area: the focused tensor of the original
 * trace beside (or above) the same tensor of the changed one. */
static void compose_compare(const App *app, Frame *frame, const ViewLayout *layout)
{
    int top = layout->panels_top, rows = layout->panels_rows, width = layout->panels_width;
    const Trace *changed = app->changed;
    if (view_compare_side_by_side(app, width)) {
        int half = (width - 1) / 2;
        compare_panel(app, frame, app->original, top, 0, rows, half);
        compare_panel(app, frame, changed, top, half + 1, rows, width - half - 1);
        return;
    }
    if (rows < 2 * COMPARE_MIN_ROWS) { /* no room for two: the one on screen, tagged */
        compare_panel(app, frame, app->trace, top, 0, rows, width);
        return;
    }
    int upper = rows / 2;
    compare_panel(app, frame, app->original, top, 0, upper, width);
    compare_panel(app, frame, changed, top + upper, 0, rows - upper, width);
}

/* The selected value's line: its name, its value, and what Enter shows. */
static void compose_status(const App *app, Frame *frame, int row)
{
    int s = app->step, t = app->focus[s];
    if (app->overlay == OVERLAY_EXPERIMENT) {
        compose_prompt(app, frame, row);
        return;
    }
    if (app->note[0] != '\0') {
        put_cut(frame, row, 1, app->note, app->note_is_error ? ROLE_WARNING : ROLE_STRONG, frame->cols - 2);
        return;
    }
    if (app->resumed) {
        char note[160];
        snprintf(note, sizeof note, "Resumed at step %d of %d. g: the first step; --restart: start over", app->pos + 1,
                 app->n_walk);
        put_cut(frame, row, 1, note, ROLE_STRONG, frame->cols - 2);
        return;
    }
    if (view_tensor_hidden(app, t)) { /* a "before" quiz: no value of the outputs yet */
        put_cut(frame, row, 1, "Predict first: the step's outputs appear once you answer.", ROLE_DIM, frame->cols - 2);
        return;
    }
    const TraceTensor *tt = &app->trace->steps[s].tensors[t];
    size_t offset = app->cursor[s][t];
    char name[160], value[NUMFMT_BUF];
    explain_element_name(app->trace, tt, offset, name, sizeof name);
    numfmt_write(&app->formats.of[s][t], tt->tensor->data[offset], value); /* as its panel writes it */
    int col = 1;
    col += frame_put(frame, row, col, name, ROLE_STRONG, frame->cols - 2);
    col += frame_printf(frame, row, col, ROLE_TEXT, frame->cols - col - 1, " = %s", value);
    if (view_value_changed(app, s, t, offset)) { /* the other trace's value, as its panel writes it */
        numfmt_write(&app->other_formats.of[s][t], app->other->steps[s].tensors[t].tensor->data[offset], value);
        col += frame_printf(frame, row, col, ROLE_CHANGED, frame->cols - col - 1, " (%s %s)",
                            view_on_original(app) ? "changed:" : "was", value);
    }
    const char *hint = tt->is_output ? "   Enter: how it was computed" : "   Enter: where it comes from";
    put_cut(frame, row, col, hint, ROLE_DIM, frame->cols - col - 1);
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
        {ACTION_NEXT_STEP, "next", 2},    {ACTION_PREV_STEP, "back", 5},  {ACTION_UP, "select", 7},
        {ACTION_NEXT_PANEL, "tensor", 6}, {ACTION_NEXT_SLICE, "head", 4}, {ACTION_INSPECT, "inspect", 3},
        {ACTION_HELP, "help", 1},         {ACTION_QUIT, "quit", 0},       {ACTION_STEP_LIST, "steps", 8},
    };
    enum { N_SHOWN = sizeof SHOWN / sizeof SHOWN[0] };
    int row = frame->rows - 1;
    frame_fill(frame, row, 0, 1, frame->cols, ' ', ROLE_FOOTER);
    if (app->overlay == OVERLAY_QUIZ) { /* the quiz's keys: letters type, the others look around */
        bool settled = app->quiz[app->pos][app->quiz_index].status != QUIZ_OPEN;
        const char *keys = settled ? frame->cols >= 80
                                         ? "Enter continue  Esc close  Ctrl-T try it again  arrows/Tab look"
                                         : "Enter continue  Esc close  ^T try again"
                           : frame->cols >= 80
                               ? "Enter check  Esc skip  Ctrl-R answer  arrows/PgUp/PgDn/Tab look  Ctrl-N/P head"
                               : "Enter check  Esc skip  ^R answer  arrows/Tab look";
        put_cut(frame, row, 1, keys, ROLE_FOOTER, frame->cols - 2);
        return;
    }
    if (app->overlay == OVERLAY_EXPERIMENT) {
        compose_prompt_footer(app, frame, row);
        return;
    }
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

/* Lines of text an overlay box shows when it holds want_rows of them on a
 * frame of frame_rows rows (the box takes two more for its frame and
 * leaves a row free above and below). */
static int overlay_inner_rows(int want_rows, int frame_rows)
{
    int h = want_rows + 2 < frame_rows - 2 ? want_rows + 2 : frame_rows - 2;
    return h - 2;
}

/* Columns of an overlay box (frame included) that holds lines want_cols
 * wide on a frame cols wide. */
static int overlay_box_width(int want_cols, int cols)
{
    return want_cols + 4 < cols - 2 ? want_cols + 4 : cols - 2;
}

static void overlay_box_at(const App *app, Frame *frame, int y, int x, int h, int w, const char *title, int *top,
                           int *left, int *rows, int *cols);

/* A centred box of at most rows x cols with a title; returns its inner
 * area through the pointers. */
static void overlay_box(const App *app, Frame *frame, int want_rows, int want_cols, const char *title, int *top,
                        int *left, int *rows, int *cols)
{
    int h = overlay_inner_rows(want_rows, frame->rows) + 2;
    int w = overlay_box_width(want_cols, frame->cols);
    overlay_box_at(app, frame, (frame->rows - h) / 2, (frame->cols - w) / 2, h, w, title, top, left, rows, cols);
}

/* The box of overlay_box at (y, x), h x w cells frame included. */
static void overlay_box_at(const App *app, Frame *frame, int y, int x, int h, int w, const char *title, int *top,
                           int *left, int *rows, int *cols)
{
    frame_fill(frame, y, x, h, w, ' ', ROLE_OVERLAY);
    frame_box(frame, y, x, h, w, frame_box_chars(app->options.ascii), ROLE_BORDER);
    char t[128];
    snprintf(t, sizeof t, " %s ", title);
    frame_put(frame, y, x + 2, t, ROLE_PANEL_FOCUS, w - 4);
    *top = y + 1, *left = x + 2, *rows = h - 2, *cols = w - 4;
}

/* The number of lines of text (separated by '\n'; a last '\n' ends a line
 * rather than starting one), and through widest the widest in columns. */
static int count_lines(const char *text, int *widest)
{
    int n_lines = 0;
    *widest = 0;
    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        int w = (int)utf8_width_n(p, len);
        if (w > *widest)
            *widest = w;
        n_lines++;
        p = end != NULL ? end + 1 : p + len;
    }
    return n_lines;
}

/* The "lines a-b of n" note under a scrolled overlay's text, when it does
 * not all fit. */
static void overlay_more(Frame *frame, int row, int left, int cols, int scroll, int rows, int n_lines)
{
    if (n_lines <= rows)
        return;
    char more[64];
    snprintf(more, sizeof more, " lines %d-%d of %d, j/k scroll ", scroll + 1, scroll + rows, n_lines);
    frame_put(frame, row, left, more, ROLE_DIM, cols);
}

/* Where an overlay box goes: its first row and column and its size,
 * frame included. */
typedef struct BoxPlace {
    int y, x, h, w;
} BoxPlace;

/* Text lines an inspector box may lose to stay off the values it
 * explains, at most: below this many shown, covering them is better. */
#define INSPECT_MIN_LINES 5

/* Marked cells (the selected value, 1000 each; a source, 1 each) that a
 * box of rows y..y+h-1, columns x..x+w-1 covers, from per-row prefix
 * counts (`stride` entries a row). */
static long covered(const long *prefix, int stride, int y, int h, int x, int w)
{
    long sum = 0;
    for (int r = y; r < y + h; r++)
        sum += prefix[r * stride + x + w] - prefix[r * stride + x];
    return sum;
}

/* Places the inspector's box on the composed step screen in frame: the
 * box of n_lines lines widest columns wide, moved up or down, left or
 * right, and if it must, made shorter (its text scrolls), so that it
 * covers neither the selected value nor, as far as it can, the values it
 * is computed from. Ties go to the taller box, then to the centre. */
static BoxPlace inspector_place(const Frame *frame, int n_lines, int widest)
{
    int full = overlay_inner_rows(n_lines, frame->rows) + 2, w = overlay_box_width(widest, frame->cols);
    BoxPlace best = {(frame->rows - full) / 2, (frame->cols - w) / 2, full, w};
    int stride = frame->cols + 1;
    long *prefix = calloc((size_t)frame->rows * (size_t)stride, sizeof *prefix);
    if (prefix == NULL || w < 1)
        return free(prefix), best;
    for (int r = 0; r < frame->rows; r++)
        for (int c = 0; c < frame->cols; c++) {
            Role role = frame->cells[r * frame->cols + c].role;
            prefix[r * stride + c + 1] = prefix[r * stride + c] + (role == ROLE_CURSOR   ? 1000
                                                                   : role == ROLE_SOURCE ? 1
                                                                                         : 0);
        }
    const int xs[] = {(frame->cols - w) / 2, 1, frame->cols - 1 - w};
    long best_score = -1;
    int shortest = full - 2 < INSPECT_MIN_LINES ? full : INSPECT_MIN_LINES + 2;
    for (int h = full; h >= shortest; h--)
        for (int y = 1; y + h <= frame->rows - 1; y++)
            for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
                if (xs[k] < 0 || xs[k] + w > frame->cols)
                    continue;
                /* a covered value weighs two hidden lines of text: the
                 * box scrolls rather than hide what it explains */
                long score = covered(prefix, stride, y, h, xs[k], w) * 1200 + (long)(full - h) * 600 +
                             labs((long)(2 * y + h - frame->rows)) + labs((long)(2 * xs[k] + w - frame->cols));
                if (best_score < 0 || score < best_score) {
                    best_score = score;
                    best = (BoxPlace){y, xs[k], h, w};
                }
            }
    free(prefix);
    return best;
}

/* Draws lines (separated by '\n') into an overlay, from line `scroll`
 * clamped to the text (the clamped value is not kept: see compose.h). */
static void overlay_lines_at(const App *app, Frame *frame, const char *text, const char *title, int scroll,
                             const BoxPlace *place);

static void overlay_lines(const App *app, Frame *frame, const char *text, const char *title, int scroll)
{
    overlay_lines_at(app, frame, text, title, scroll, NULL);
}

/* overlay_lines in the box `place` (NULL: centred, as tall as fits). */
static void overlay_lines_at(const App *app, Frame *frame, const char *text, const char *title, int scroll,
                             const BoxPlace *place)
{
    StrBuf ascii = {0};
    if (frame->ascii) { /* measure the text as it will be written */
        ascii_transliterate(text, &ascii);
        text = strbuf_text(&ascii);
    }
    int widest;
    int n_lines = count_lines(text, &widest);
    int top, left, rows, cols;
    if (place != NULL)
        overlay_box_at(app, frame, place->y, place->x, place->h, place->w, title, &top, &left, &rows, &cols);
    else
        overlay_box(app, frame, n_lines, widest, title, &top, &left, &rows, &cols);
    scroll = (int)scroll_clamp(scroll, n_lines, rows);
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
    overlay_more(frame, top + rows, left, cols, scroll, rows, n_lines);
    strbuf_free(&ascii);
}

/* Appends the words of text to out, wrapped at width columns: the first
 * line continues what out already holds on its line (`used` columns of
 * it), the others start with `indent` spaces; ends with a '\n'. */
static void wrap_words(const char *text, int width, int used, int indent, StrBuf *out)
{
    int x = used;
    bool first = true;
    for (const char *w = text; *w != '\0';) {
        while (*w == ' ')
            w++;
        size_t wl = strcspn(w, " ");
        if (wl == 0)
            break;
        int ww = (int)utf8_width_n(w, wl);
        if (!first && x + 1 + ww > width) {
            strbuf_printf(out, "\n%*s", indent, "");
            x = indent;
        } else if (!first) {
            strbuf_puts(out, " ");
            x++;
        }
        strbuf_printf(out, "%.*s", (int)wl, w);
        x += ww;
        first = false;
        w += wl;
    }
    strbuf_puts(out, "\n");
}

/* Columns the help overlay's text wraps to on a frame cols wide. */
static int help_width(int cols)
{
    return cols - 6 < 74 ? (cols - 6 > 30 ? cols - 6 : 30) : 74;
}

/* Appends the help overlay's text to text, wrapped at width columns: the
 * key table by group (a long description goes on under itself), then how
 * to read the screen. */
static void help_text(StrBuf *text, int width)
{
    size_t count;
    const KeyBinding *table = keys_table(&count);
    static const char *const GROUPS[] = {"Steps", "Selection", "Views", "Experiments"};
    for (size_t g = 0; g < sizeof GROUPS / sizeof GROUPS[0]; g++) {
        strbuf_printf(text, "%s%s\n", g > 0 ? "\n" : "", GROUPS[g]);
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
            strbuf_printf(text, "  %s%*s", keys, (int)pad, "");
            wrap_words(keys_action_help(a), width, 2 + (int)utf8_width(keys) + (int)pad, 20, text);
        }
    }
    static const char *const READING[] = {
        "Selecting a computed value highlights the values it is made from; every panel holding one scrolls to it "
        "and shows its head.",
        "Rows, columns, heads and positions count from 0, as in the article's code (steps are numbered 1 to the "
        "last).",
        "Weights and probabilities have 3 decimals (<0.001: not 0, but less than 0.0005); other values have 4.",
        "Without colour (--no-color) a mark after each value shows its size against the tensor's largest: none, "
        "· ∘ • ● (ASCII none, . - + #), from small to large.",
        "After a change (x), a value that differs from the other trace's is marked Δ and drawn in a colour of "
        "its own; the line under the selected value counts them per tensor.",
    };
    strbuf_puts(text, "\n");
    for (size_t k = 0; k < sizeof READING / sizeof READING[0]; k++)
        wrap_words(READING[k], width, 0, 0, text);
}

static void compose_help(const App *app, Frame *frame)
{
    StrBuf text = {0};
    help_text(&text, help_width(frame->cols));
    overlay_lines(app, frame, strbuf_text(&text), "Keys (Esc closes)", app->overlay_scroll);
    strbuf_free(&text);
}

static void compose_steps(const App *app, Frame *frame)
{
    const Trace *trace = app->original; /* the walk holds its step indices */
    int id_width = 0, widest = 0;
    for (int k = 0; k < app->n_walk; k++) {
        int w = (int)utf8_width(trace->steps[app->walk[k]].id);
        if (w > id_width)
            id_width = w;
    }
    for (int k = 0; k < app->n_walk; k++) {
        /* "> 12 * " + the id column + " " + title */
        int w = 7 + id_width + 1 + (int)utf8_width(trace->steps[app->walk[k]].title);
        if (w > widest)
            widest = w;
    }
    int top, left, rows, cols;
    overlay_box(app, frame, app->n_walk, widest, "Steps (Enter goes, Esc closes)", &top, &left, &rows, &cols);
    int first = (int)scroll_follow(0, app->list_selected, rows);
    for (int r = 0; r < rows && first + r < app->n_walk; r++) {
        int k = first + r;
        const TraceStep *step = &trace->steps[app->walk[k]];
        Role role = k == app->list_selected ? ROLE_OVERLAY_SELECT : ROLE_OVERLAY;
        frame_fill(frame, top + r, left, 1, cols, ' ', role);
        /* ">" marks the highlighted line (visible without colour), "*" the
         * step on screen; a title too long for the box ends in "…" */
        char line[sizeof step->title + 64]; /* ids are under 20 bytes (trace_find_step); snprintf cuts */
        snprintf(line, sizeof line, "%c %2d %c %-*s %s", k == app->list_selected ? '>' : ' ', k + 1,
                 k == app->pos ? '*' : ' ', id_width, step->id, step->title);
        put_cut(frame, top + r, left, line, role, cols);
    }
}

/* Appends the recap that ends a walk to text: every step's main tensor
 * and its shape in one table, where attention sits in a transformer
 * block, and in a lesson how its questions went. */
static void recap_text(const App *app, StrBuf *text)
{
    const Trace *trace = app->own != NULL ? app->original : app->trace; /* the walk holds the lesson trace's indices */
    strbuf_printf(text, "You have walked all %d steps. The whole computation:\n\n", app->n_walk);
    strbuf_puts(text, "  step  what                                  tensor and shape\n");
    for (int k = 0; k < app->n_walk; k++) {
        const TraceStep *step = &trace->steps[app->walk[k]];
        const TraceTensor *tt = &step->tensors[step->main_tensor];
        char shape[64], title[40];
        tensor_shape_str(tt->tensor, shape, sizeof shape);
        snprintf(title, sizeof title, "%s", step->title);
        if (utf8_width(step->title) > 36) { /* cut at a character's start, and say so */
            size_t cut = 32;
            while (cut > 0 && ((unsigned char)title[cut] & 0xC0) == 0x80)
                cut--;
            snprintf(title + cut, sizeof title - cut, "…");
        }
        int pad = 36 - (int)utf8_width(title);
        strbuf_printf(text, "  %4d  %s%*s  %s %s\n", k + 1, title, pad > 0 ? pad : 0, "", tt->name, shape);
    }
    strbuf_puts(text,
                "\nWhere attention sits: in a transformer block, attention's output is\n"
                "added back to the block's input (the residual connection); an MLP\n"
                "then reworks each token's vector on its own, and is added back too,\n"
                "with a layer norm before each. Blocks are stacked, and the last\n"
                "vector at each position becomes scores over the vocabulary: the\n"
                "prediction of the next token.\n");
    const Lesson *lesson = app->lesson;
    if (lesson != NULL) {
        int asked = 0, first = 0, later = 0, shown = 0, skipped = 0;
        for (int k = 0; k < lesson->n_steps && k < LESSON_MAX_STEPS; k++)
            for (int q = 0; q < lesson->steps[k].n_quizzes && q < LESSON_MAX_QUIZZES; q++) {
                const QuizState *state = &app->quiz[k][q];
                asked++;
                first += state->status == QUIZ_RIGHT && state->tries == 0;
                later += state->status == QUIZ_RIGHT && state->tries > 0;
                shown += state->status == QUIZ_SHOWN;
                skipped += state->status == QUIZ_PASSED;
            }
        strbuf_printf(text,
                      "\nQuestions: %d of %d right at the first try, %d after a wrong answer,\n"
                      "%d answers shown, %d skipped, %d not reached.\n",
                      first, asked, later, shown, skipped, asked - first - later - shown - skipped);
    }
    strbuf_puts(text, "\nEsc or Space closes this page; then b goes back a step, g to the first.");
}

/* Appends the cell inspector's text for the selected value to text,
 * wrapped for the step screen `screen` (composed, no overlay): at most 76
 * columns and what the frame allows, and narrower when that lets the box
 * stand to the right of every value it explains (at least 44 columns). */
static void inspector_text(const App *app, const Frame *screen, StrBuf *text)
{
    int s = app->step, t = app->focus[s], cols = screen->cols;
    int width = cols - 6 < 76 ? cols - 6 : 76;
    int right = 0; /* one past the last column holding the selection or a source */
    for (int k = 0; k < screen->rows * screen->cols; k++)
        if ((screen->cells[k].role == ROLE_CURSOR || screen->cells[k].role == ROLE_SOURCE) && k % cols + 1 > right)
            right = k % cols + 1;
    if (cols - right - 6 >= 44 && cols - right - 6 < width)
        width = cols - right - 6;
    if (app->options.ascii) /* room for the ASCII spellings, longer than "√4" or "ᵀ" */
        width -= 8;
    if (width < 40)
        width = 40;
    size_t offset = app->cursor[s][t];
    if (!view_value_changed(app, s, t, offset)) {
        explain_cell(app->trace, s, t, offset, app->options.precision, &app->formats, width, text);
        return;
    }
    /* a changed value: the computation on screen, then the other trace's, term by term */
    StrBuf changes = {0};
    view_changes_text(app, &changes);
    bool original = view_on_original(app);
    if (original)
        strbuf_puts(text, "In the original trace (on screen):\n");
    else
        strbuf_printf(text, "Changed by %s (on screen):\n", strbuf_text(&changes));
    explain_cell(app->trace, s, t, offset, app->options.precision, &app->formats, width, text);
    if (original)
        strbuf_printf(text, "\nChanged by %s (o shows it):\n", strbuf_text(&changes));
    else
        strbuf_puts(text, "\nIn the original trace (o shows it):\n");
    explain_cell(app->other, s, t, offset, app->options.precision, &app->other_formats, width, text);
    strbuf_free(&changes);
    const char *set = view_set_by(app, s, t, offset);
    if (set != NULL)
        strbuf_printf(text,
                      "\n%s put this value in the changed trace; the sums above\nare what its inputs give without "
                      "that edit.\n",
                      set);
}

/* The inspector's box for text on frame, which holds the step screen
 * (inspector_place), measured as overlay_lines measures it. */
static BoxPlace inspector_box(const App *app, const Frame *frame, const char *text)
{
    StrBuf ascii = {0};
    if (app->options.ascii) {
        ascii_transliterate(text, &ascii);
        text = strbuf_text(&ascii);
    }
    int widest, n_lines = count_lines(text, &widest);
    strbuf_free(&ascii);
    return inspector_place(frame, n_lines, widest);
}

static void compose_inspector(const App *app, Frame *frame)
{
    int s = app->step, t = app->focus[s];
    StrBuf text = {0};
    inspector_text(app, frame, &text);
    char title[200];
    explain_element_name(app->trace, &app->trace->steps[s].tensors[t], app->cursor[s][t], title, sizeof title);
    BoxPlace place = inspector_box(app, frame, strbuf_text(&text));
    overlay_lines_at(app, frame, strbuf_text(&text), title, app->overlay_scroll, &place);
    strbuf_free(&text);
}

/* Columns a text overlay (explanation, notes) wraps its text to on a
 * frame cols wide. */
static int text_overlay_width(int cols)
{
    return cols - 6 < 72 ? cols - 6 : 72;
}

/* The text (with markup) of the open text overlay: the presenter notes or
 * the step's whole explanation; NULL for any other overlay. */
static const char *text_overlay_text(const App *app)
{
    if (app->overlay == OVERLAY_NOTES)
        return app_lesson_step(app)->notes;
    if (app->overlay == OVERLAY_EXPLAIN)
        return app_explanation(app);
    if (app->overlay == OVERLAY_INTRO)
        return app->lesson->intro;
    return NULL;
}

/* Text with markup (an explanation, presenter notes) in a scrollable box,
 * rewrapped to the box. */
static void compose_text_overlay(const App *app, Frame *frame, const char *text, const char *title)
{
    int width = text_overlay_width(frame->cols);
    int lines = frame_markup_lines(text, width, app->options.ascii);
    int top, left, rows, cols;
    overlay_box(app, frame, lines, width, title, &top, &left, &rows, &cols);
    int scroll = (int)scroll_clamp(app->overlay_scroll, lines, rows);
    frame_markup(frame, top, left, rows, cols, text, scroll, app->options.ascii);
    overlay_more(frame, top + rows, left, cols, scroll, rows, lines);
}

bool compose_overlay_extent(const App *app, int rows, int cols, int *lines, int *window)
{
    if (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS)
        return false; /* the too-small screen shows no overlay */
    StrBuf text = {0};
    int n = 0, widest;
    switch (app->overlay) {
    case OVERLAY_HELP:
        help_text(&text, help_width(cols));
        n = count_lines(strbuf_text(&text), &widest);
        break;
    case OVERLAY_INSPECT: {
        Frame screen; /* the box's width and height depend on what it must not cover */
        if (!frame_init(&screen, rows, cols))
            return false;
        compose_step_screen(app, &screen);
        inspector_text(app, &screen, &text);
        n = count_lines(strbuf_text(&text), &widest);
        BoxPlace place = inspector_box(app, &screen, strbuf_text(&text));
        frame_free(&screen);
        strbuf_free(&text);
        *lines = n;
        *window = place.h - 2;
        return true;
    }
    case OVERLAY_NOTES:
    case OVERLAY_EXPLAIN:
    case OVERLAY_INTRO:
        n = frame_markup_lines(text_overlay_text(app), text_overlay_width(cols), app->options.ascii);
        break;
    case OVERLAY_RECAP:
        recap_text(app, &text);
        n = count_lines(strbuf_text(&text), &widest);
        break;
    case OVERLAY_NONE:
    case OVERLAY_STEPS:
    case OVERLAY_QUIZ:
    case OVERLAY_HEADS:
    case OVERLAY_EXPERIMENT:
        return false;
    }
    strbuf_free(&text);
    *lines = n;
    *window = overlay_inner_rows(n, rows);
    return true;
}

/* A neutral example for a quiz's prompt: one that is not a right answer
 * of that quiz, so the prompt never gives the answer away. */
static const char *quiz_example(const Quiz *quiz)
{
    static const char *const SHAPES[] = {"[2, 3]", "[3, 2]", "[7]"};
    static const char *const NUMBERS[] = {"0.5", "2.5", "7"};
    const char *const *pick = quiz->kind == QUIZ_SHAPE ? SHAPES : NUMBERS;
    for (int i = 0; i < 3; i++)
        if (!quiz_check(quiz, pick[i]))
            return pick[i];
    return pick[2];
}

/* One state of the open quiz, as the pane shows it: what the last Enter
 * said, where the quiz stands, and the last wrong answer typed. The pane
 * is sized for the tallest of its states (quiz_rows_needed), so that it
 * keeps its place while the learner answers. */
typedef struct QuizLook {
    QuizFeedback feedback;
    QuizState state;
    const char *last; /* FEEDBACK_WRONG, FEEDBACK_NOT_A_TOKEN: what was typed */
} QuizLook;

/* The open quiz's state now. */
static QuizLook quiz_look_now(const App *app)
{
    QuizLook look = {app->quiz_feedback, app->quiz[app->pos][app->quiz_index], app->quiz_last};
    return look;
}

/* Appends a quiz's text to text, as it looks in state look: the question,
 * choices (labelled a, b, ...), what the last try said, and what Enter
 * does once it is settled; a line "> " stands for the answer being
 * typed. The keys are on the footer line. */
static void quiz_text(const App *app, const QuizLook *look, StrBuf *text)
{
    const Quiz *quiz = &app_lesson_step(app)->quizzes[app->quiz_index];
    const QuizState *state = &look->state;
    strbuf_printf(text, "%s\n", quiz->question);
    for (int c = 0; c < quiz->n_choices; c++) {
        char label[8];
        quiz_choice_label(quiz, c, label, sizeof label);
        strbuf_printf(text, "\t%s %s\n", label, quiz->choices[c]);
    }
    char answer[128];
    quiz_answer_text(quiz, answer, sizeof answer);
    switch (look->feedback) {
    case FEEDBACK_NONE:
        if (quiz->kind == QUIZ_SHAPE || quiz->kind == QUIZ_NUMBER)
            strbuf_printf(text, "Type %s, such as %s, then Enter.\n", quiz->kind == QUIZ_SHAPE ? "a shape" : "a number",
                          quiz_example(quiz));
        else
            strbuf_printf(text, "Type %s, then Enter.\n",
                          quiz->kind == QUIZ_TOKEN ? "a word of the sentence" : "the label or the text of a choice");
        break;
    case FEEDBACK_WRONG: {
        strbuf_printf(text, "Not quite: %s.", look->last);
        int hint = state->tries - 1 < quiz->n_hints ? state->tries - 1 : quiz->n_hints - 1;
        if (hint >= 0)
            strbuf_printf(text, " Hint: %s", quiz->hints[hint]);
        strbuf_puts(text, "\n");
        break;
    }
    case FEEDBACK_RIGHT:
        strbuf_printf(text, "Right%s: %s%s\n", state->tries == 0 ? ", first try" : "", answer,
                      quiz_sentence_end(answer));
        break;
    case FEEDBACK_SHOWN:
        strbuf_printf(text, "The answer: %s%s\n", answer, quiz_sentence_end(answer));
        break;
    case FEEDBACK_NOT_A_TOKEN: {
        strbuf_printf(text, "\"%s\" is not a word of the sentence (", look->last);
        quiz_token_list(&app->trace->config, text);
        strbuf_puts(text, "). Try again.\n");
        break;
    }
    case FEEDBACK_WHICH_TOKEN:
        strbuf_printf(text, "\"%s\" is more than one token: ", look->last);
        quiz_token_copies(&app->trace->config, look->last, text);
        strbuf_puts(text, ". Type the one you mean.\n");
        break;
    }
    bool settled = state->status != QUIZ_OPEN;
    if (settled && quiz->explain != NULL)
        strbuf_printf(text, "%s\n", quiz->explain);
    if (!settled)
        strbuf_puts(text, "> \n");
    else if (app_first_open_quiz(app, quiz->before) >= 0)
        strbuf_puts(text, "Enter: the next question\n");
    else if (quiz->before)
        strbuf_puts(text, "Enter: see the step's tensors\n");
    else /* quiz_enter goes on only when there is a step to go to */
        strbuf_puts(text, app->pos + 1 < app->n_walk ? "Enter: on to the next step\n"
                                                     : "Enter: close it (this is the last step)\n");
}

/* Appends line (one line, no '\n') to out word-wrapped at width columns,
 * ending with a '\n'. */
static void wrap_line(const char *line, int width, StrBuf *out)
{
    int x = 0;
    for (const char *w = line; *w != '\0';) {
        const char *we = strchr(w, ' ');
        size_t wl = we != NULL ? (size_t)(we - w) : strlen(w);
        char word[256];
        snprintf(word, sizeof word, "%.*s", (int)(wl < sizeof word - 1 ? wl : sizeof word - 1), w);
        int ww = (int)utf8_width(word);
        if (x > 0 && x + 1 + ww > width) {
            strbuf_puts(out, "\n");
            x = 0;
        }
        if (x > 0) {
            strbuf_puts(out, " ");
            x++;
        }
        strbuf_puts(out, word);
        x += ww;
        w = we != NULL ? we + 1 : w + wl;
    }
    strbuf_puts(out, "\n");
}

/* Rests the terminal cursor after the typed answer: on the overlay's
 * "> " line, kept inside the frame when the answer fills the line. */
static void place_quiz_cursor(const App *app, Frame *frame)
{
    for (int r = 0; r < frame->rows; r++)
        for (int c = 0; c + 1 < frame->cols; c++) {
            Cell *a = frame_at(frame, r, c), *b = frame_at(frame, r, c + 1);
            if (a->ch == '>' && b->ch == ' ' && a->role == ROLE_OVERLAY && c > 0 &&
                frame_at(frame, r, c - 1)->ch == ' ' && frame_at(frame, r, c - 1)->role == ROLE_OVERLAY) {
                int col = c + 2 + (int)utf8_width(app->quiz_input);
                frame->cursor_row = r;
                frame->cursor_col = col < frame->cols ? col : frame->cols - 1;
            }
        }
}

/* The open quiz's text wrapped to width columns into out, the answer
 * line holding what was typed, a choice's later lines indented under its
 * text. Returns the lines. */
static int quiz_wrapped(const App *app, const QuizLook *look, int width, StrBuf *out)
{
    StrBuf text = {0};
    quiz_text(app, look, &text);
    int n = 0;
    for (const char *p = strbuf_text(&text); *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
        if (strcmp(line, "> ") == 0) {
            strbuf_printf(out, "> %s\n", app->quiz_input);
            n++;
        } else {
            StrBuf one = {0};
            if (line[0] == '\t') { /* a choice: "a) " then its text, wrapped under itself */
                strbuf_puts(&one, "  ");
                wrap_words(line + 1, width, 2, 5, &one);
            } else {
                wrap_line(line, width, &one);
            }
            int widest;
            n += count_lines(strbuf_text(&one), &widest);
            strbuf_puts(out, strbuf_text(&one));
            strbuf_free(&one);
        }
        p = eol != NULL ? eol + 1 : p + len;
    }
    strbuf_free(&text);
    return n;
}

/* The lines of the open quiz in state look, wrapped to width. */
static int quiz_lines(const App *app, const QuizLook *look, int width)
{
    StrBuf wrapped = {0};
    int n = quiz_wrapped(app, look, width, &wrapped);
    strbuf_free(&wrapped);
    return n;
}

/* The lines of the tallest state of the open quiz: the prompt, each hint
 * after a wrong try, a word that is not a token, and the settled quiz
 * (right or revealed, with its explanation), so that the pane keeps its
 * height from the prompt to the feedback. A wrong answer is sized as the
 * longer of the typed text and the last one. */
static int quiz_rows_needed(const App *app, int width)
{
    const Quiz *quiz = &app_lesson_step(app)->quizzes[app->quiz_index];
    QuizLook now = quiz_look_now(app);
    int most = quiz_lines(app, &now, width);
    const char *typed = strlen(app->quiz_input) > strlen(app->quiz_last) ? app->quiz_input : app->quiz_last;
    QuizLook looks[] = {
        {FEEDBACK_NONE, {QUIZ_OPEN, 0}, typed},
        {FEEDBACK_WRONG, {QUIZ_OPEN, 1}, typed},
        {FEEDBACK_RIGHT, {QUIZ_RIGHT, 1}, typed},
        {FEEDBACK_SHOWN, {QUIZ_SHOWN, 0}, typed},
        {quiz->kind == QUIZ_TOKEN ? FEEDBACK_NOT_A_TOKEN : FEEDBACK_NONE, {QUIZ_OPEN, 0}, typed},
        {quiz->kind == QUIZ_TOKEN ? FEEDBACK_WHICH_TOKEN : FEEDBACK_NONE, {QUIZ_OPEN, 0}, typed},
    };
    for (size_t i = 0; i < sizeof looks / sizeof looks[0]; i++) {
        for (int hint = 1; hint <= (looks[i].feedback == FEEDBACK_WRONG ? quiz->n_hints : 1); hint++) {
            looks[i].state.tries = looks[i].feedback == FEEDBACK_WRONG ? hint : looks[i].state.tries;
            int n = quiz_lines(app, &looks[i], width);
            most = n > most ? n : most;
        }
    }
    return most;
}

int compose_quiz_rows(const App *app, int cols)
{
    return quiz_rows_needed(app, cols - 4) + 2;
}

int compose_quiz_lines_now(const App *app, int cols)
{
    QuizLook now = quiz_look_now(app);
    return quiz_lines(app, &now, cols - 4);
}

/* A quiz: a full-width pane at the bottom of the screen (view_layout
 * leaves the panels the rows above it), holding the question, choices,
 * the typed answer and what the last try said. When the pane is shorter
 * than its text, the end shows: the answer line and the feedback. */
static void compose_quiz(const App *app, Frame *frame)
{
    const LessonStep *ls = app_lesson_step(app);
    ViewLayout layout;
    view_layout(app, frame->rows, frame->cols, &layout);
    char title[64];
    snprintf(title, sizeof title, "Question %d of %d", app->quiz_index + 1, ls->n_quizzes);
    StrBuf wrapped = {0};
    QuizLook now = quiz_look_now(app);
    int n = quiz_wrapped(app, &now, frame->cols - 4, &wrapped);
    if (n + 2 <= layout.quiz_rows) {
        BoxPlace place = {layout.quiz_top, 0, layout.quiz_rows, frame->cols};
        overlay_lines_at(app, frame, strbuf_text(&wrapped), title, 0, &place);
    } else { /* too short for a box: a rule with the title, then the text's last lines (the answer line) */
        frame_fill(frame, layout.quiz_top, 0, layout.quiz_rows, frame->cols, ' ', ROLE_OVERLAY);
        frame_fill(frame, layout.quiz_top, 0, 1, frame->cols, frame_box_chars(app->options.ascii)->horizontal,
                   ROLE_BORDER);
        char t[128];
        snprintf(t, sizeof t, " %s%s ", title, n + 1 > layout.quiz_rows ? " (its start is cut)" : "");
        frame_put(frame, layout.quiz_top, 2, t, ROLE_PANEL_FOCUS, frame->cols - 4);
        int skip = n + 1 > layout.quiz_rows ? n + 1 - layout.quiz_rows : 0, line = 0;
        for (const char *p = strbuf_text(&wrapped); *p != '\0'; line++) {
            const char *eol = strchr(p, '\n');
            size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
            char buf[512];
            snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), p);
            if (line >= skip)
                frame_put(frame, layout.quiz_top + 1 + line - skip, 1, buf, ROLE_OVERLAY, frame->cols - 2);
            p = eol != NULL ? eol + 1 : p + len;
        }
    }
    if (app->quiz[app->pos][app->quiz_index].status == QUIZ_OPEN)
        place_quiz_cursor(app, frame);
    strbuf_free(&wrapped);
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

/* The open overlay, drawn on top of the step screen. */
static void compose_overlay(const App *app, Frame *frame)
{
    switch (app->overlay) {
    case OVERLAY_HELP:
        compose_help(app, frame);
        break;
    case OVERLAY_STEPS:
        compose_steps(app, frame);
        break;
    case OVERLAY_INSPECT:
        compose_inspector(app, frame);
        break;
    case OVERLAY_QUIZ:
        compose_quiz(app, frame);
        break;
    case OVERLAY_NOTES:
        compose_text_overlay(app, frame, text_overlay_text(app), "Presenter notes (Esc closes)");
        break;
    case OVERLAY_EXPLAIN: {
        char title[160];
        snprintf(title, sizeof title, "%s (Esc closes)", app->trace->steps[app->step].title);
        compose_text_overlay(app, frame, text_overlay_text(app), title);
        break;
    }
    case OVERLAY_INTRO: {
        char title[160];
        snprintf(title, sizeof title, "%s (Space or Esc starts)", app->lesson->title);
        compose_text_overlay(app, frame, text_overlay_text(app), title);
        break;
    }
    case OVERLAY_RECAP: {
        StrBuf text = {0};
        recap_text(app, &text);
        overlay_lines(app, frame, strbuf_text(&text), "The end of the walk (Esc closes)", app->overlay_scroll);
        strbuf_free(&text);
        break;
    }
    case OVERLAY_HEADS:
        compose_heads(app, frame);
        break;
    case OVERLAY_EXPERIMENT: /* on the status row (compose_status) */
    case OVERLAY_NONE:
        break;
    }
}

/* The step's explanation in its place of the layout, with a note when it
 * does not all fit. */
static void compose_explanation(const App *app, Frame *frame, const ViewLayout *layout)
{
    const BoxChars *box = frame_box_chars(app->options.ascii);
    if (layout->explain_col > 1) /* at the side: a rule between panels and text */
        frame_fill(frame, layout->explain_top, layout->explain_col - 2, layout->explain_rows, 1, box->vertical,
                   ROLE_BORDER);
    int text_lines = frame_markup(frame, layout->explain_top, layout->explain_col, layout->explain_rows,
                                  layout->explain_width, app_explanation(app), 0, app->options.ascii);
    if (text_lines > layout->explain_rows && layout->explain_rows > 0) {
        /* more than fits: say where the rest is */
        const char *more = app->options.ascii ? " ... e: read it all " : " … e: read it all ";
        int w = (int)utf8_width(more);
        int row = layout->explain_top + layout->explain_rows - 1;
        int at = layout->explain_col + layout->explain_width - w;
        frame_fill(frame, row, at, 1, w, ' ', ROLE_TEXT);
        frame_put(frame, row, at, more, ROLE_DIM, w);
    }
}

void app_compose(const App *app, Frame *frame)
{
    if (compose_step_screen(app, frame))
        compose_overlay(app, frame);
}

/* Everything but the overlay into frame: the step screen, or the note
 * that the terminal is too small (then false: no overlay goes on it). */
static bool compose_step_screen(const App *app, Frame *frame)
{
    frame_clear(frame);
    frame->ascii = app->options.ascii;
    ViewLayout layout;
    view_layout(app, frame->rows, frame->cols, &layout);
    if (layout.too_small) {
        compose_too_small(frame);
        return false;
    }
    const TraceStep *step = &app->trace->steps[app->step];
    compose_header(app, frame);
    compose_formula(app, frame, 2);
    if (layout.torch_rows > 0)
        compose_torch(app, frame, &layout);
    bool own_compare = view_comparing_own(app) && !app_tensors_hidden(app);
    bool any = false, comparing = (view_comparing(app) && !app_tensors_hidden(app)) || own_compare;
    if (own_compare)
        compose_own_compare(app, frame, &layout);
    else if (comparing)
        compose_compare(app, frame, &layout);
    for (int i = 0; i < step->n_tensors && !comparing; i++)
        if (layout.panel_rows[i] > 0 && !view_tensor_hidden(app, i)) {
            compose_panel(app, frame, i, layout.panel_top[i], layout.panel_rows[i], layout.panels_width);
            any = true;
        }
    if (app_tensors_hidden(app) && !any && layout.panels_rows > 0)
        frame_put(frame, layout.panels_top, 2, "Predict first: the outputs appear once you answer.", ROLE_DIM,
                  layout.panels_width - 4);
    if (layout.more_panels > 0 && !comparing)
        frame_printf(frame, layout.more_row, 1, ROLE_DIM, layout.panels_width - 2, "+%d more tensor%s: Tab shows %s",
                     layout.more_panels, layout.more_panels == 1 ? "" : "s", layout.more_panels == 1 ? "it" : "them");
    compose_explanation(app, frame, &layout);
    compose_status(app, frame, layout.status_row);
    if (layout.diff_row > 0)
        compose_diff_line(app, frame, layout.diff_row);
    compose_footer(app, frame);
    return true;
}
