/*
 * view.c - the tracer's state, its layout and its key handling (see view.h
 * and docs/keys.md).
 */
#include "view.h"

#include <math.h>
#include <string.h>

#include "strbuf.h"

/* ------------------------------------------------------------------------
 * Set-up
 * ---------------------------------------------------------------------- */

/* The first output tensor of a step, where the selection starts. */
static int first_output(const TraceStep *step)
{
    for (int i = 0; i < step->n_tensors; i++)
        if (step->tensors[i].is_output)
            return i;
    return 0;
}

void app_init(App *app, const Trace *trace, const ViewOptions *options)
{
    memset(app, 0, sizeof *app);
    app->trace = trace;
    app->options = *options;
    for (int s = 0; s < trace->n_steps; s++) {
        const TraceStep *step = &trace->steps[s];
        app->focus[s] = first_output(step);
        for (int t = 0; t < step->n_tensors; t++) {
            const TraceTensor *tt = &step->tensors[t];
            const Tensor *x = tt->tensor;
            app->formats[s][t] = tt->is_integer ? numfmt_choose_integer(x->data, x->size)
                                                : numfmt_choose(x->data, x->size, options->precision);
            float max_abs = 0.0f;
            for (size_t i = 0; i < x->size; i++)
                if (isfinite(x->data[i]) && fabsf(x->data[i]) > max_abs)
                    max_abs = fabsf(x->data[i]);
            app->max_abs[s][t] = max_abs;
        }
    }
}

/* ------------------------------------------------------------------------
 * Grids
 * ---------------------------------------------------------------------- */

int view_cell_width(const App *app, int step, int tensor)
{
    return app->formats[step][tensor].width + 1 + (app->options.no_color ? 1 : 0);
}

int view_label_width(const App *app, int step, int tensor)
{
    const TraceTensor *tt = &app->trace->steps[step].tensors[tensor];
    const Tensor *t = tt->tensor;
    DimKind row_dim = t->ndim >= 2 ? tt->dims[t->ndim - 2] : tt->dims[0];
    size_t rows = t->ndim >= 2 ? t->shape[t->ndim - 2] : t->shape[0];
    if (t->ndim == 0)
        return 0;
    if (row_dim == DIM_SEQ) {
        size_t width = 1;
        const Config *cfg = &app->trace->config;
        for (size_t i = 0; i < rows && i < cfg->n_tokens; i++)
            if (utf8_width(cfg->tokens[i]) > width)
                width = utf8_width(cfg->tokens[i]);
        return (int)(width > VIEW_LABEL_MAX ? VIEW_LABEL_MAX : width) + 1;
    }
    /* row numbers: as many digits as the largest index */
    int digits = 1;
    for (size_t n = rows > 0 ? rows - 1 : 0; n >= 10; n /= 10)
        digits++;
    return digits + 1;
}

TensorGrid view_grid(const App *app, int step, int tensor, int width)
{
    const TraceTensor *tt = &app->trace->steps[step].tensors[tensor];
    const Tensor *t = tt->tensor;
    TensorGrid grid = {1, 1, 1, false, false, DIM_OTHER, DIM_OTHER, DIM_OTHER};
    if (t->ndim == 0)
        return grid;
    if (t->ndim == 1) {
        if (tt->dims[0] == DIM_SEQ) {
            grid.vertical = true;
            grid.rows = t->shape[0];
            grid.row_dim = DIM_SEQ;
            return grid;
        }
        int room = width - view_label_width(app, step, tensor);
        int per_row = room / view_cell_width(app, step, tensor);
        grid.cols = per_row < 1 ? 1 : (size_t)per_row;
        if (grid.cols > t->shape[0])
            grid.cols = t->shape[0];
        grid.rows = (t->shape[0] + grid.cols - 1) / grid.cols;
        grid.wrapped = true;
        grid.col_dim = tt->dims[0];
        return grid;
    }
    grid.rows = t->shape[t->ndim - 2];
    grid.cols = t->shape[t->ndim - 1];
    grid.slices = t->size / (grid.rows * grid.cols);
    grid.row_dim = tt->dims[t->ndim - 2];
    grid.col_dim = tt->dims[t->ndim - 1];
    grid.slice_dim = t->ndim == 3 ? tt->dims[0] : DIM_OTHER;
    return grid;
}

size_t view_grid_offset(const TensorGrid *grid, size_t slice, size_t row, size_t col)
{
    if (grid->vertical)
        return row;
    if (grid->wrapped) {
        size_t offset = row * grid->cols + col;
        /* the last wrapped row may be short: rows * cols can pass the size */
        return offset;
    }
    return (slice * grid->rows + row) * grid->cols + col;
}

void view_grid_locate(const TensorGrid *grid, size_t offset, size_t *slice, size_t *row, size_t *col)
{
    if (grid->vertical) {
        *slice = 0, *row = offset, *col = 0;
    } else if (grid->wrapped) {
        *slice = 0, *row = offset / grid->cols, *col = offset % grid->cols;
    } else {
        *slice = offset / (grid->rows * grid->cols);
        *row = offset / grid->cols % grid->rows;
        *col = offset % grid->cols;
    }
}

/* ------------------------------------------------------------------------
 * Layout
 * ---------------------------------------------------------------------- */

int view_panel_natural_rows(const App *app, int step, int tensor, int width)
{
    TensorGrid grid = view_grid(app, step, tensor, width);
    bool header = !grid.vertical && !grid.wrapped && app->trace->steps[step].tensors[tensor].tensor->ndim >= 2;
    size_t rows = 1 + (header ? 1 : 0) + grid.rows;
    return rows > 10000 ? 10000 : (int)rows;
}

/* Lines the explanation needs at width columns. */
static int explanation_lines(const char *text, int width)
{
    int lines = 0, col = 0;
    const char *p = text;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end != '\0' && *end != ' ')
            end++;
        int word = (int)(end - p);
        if (word == 0)
            break;
        if (col == 0) {
            lines++;
            col = word;
        } else if (col + 1 + word > width) {
            lines++;
            col = word;
        } else {
            col += 1 + word;
        }
        p = end;
    }
    return lines;
}

void view_layout(const App *app, int rows, int cols, ViewLayout *layout)
{
    memset(layout, 0, sizeof *layout);
    if (rows < VIEW_MIN_ROWS || cols < VIEW_MIN_COLS) {
        layout->too_small = true;
        return;
    }
    const TraceStep *step = &app->trace->steps[app->step];
    /* a formula too long for the line goes on two: expression, then shapes */
    int formula_lines = (int)utf8_width(step->formula) > cols - 2 && strstr(step->formula, "   ") != NULL ? 2 : 1;
    layout->formula_rows = formula_lines + (step->einsum != NULL ? 1 : 0);
    int top = 2 + layout->formula_rows; /* header, title, formula lines */
    layout->status_row = rows - 2;
    bool side = cols >= 120;
    if (side) {
        /* wide screens: the explanation in a column at the right */
        layout->explain_width = 36;
        layout->explain_col = cols - layout->explain_width;
        layout->explain_top = top;
        layout->explain_rows = layout->status_row - top;
        layout->panels_width = cols - layout->explain_width - 2;
    } else {
        int wanted = explanation_lines(step->explanation, cols - 2);
        int cap = rows >= 30 ? 8 : rows >= 20 ? 4 : 2;
        layout->explain_rows = wanted < cap ? wanted : cap;
        layout->explain_col = 1;
        layout->explain_width = cols - 2;
        layout->explain_top = layout->status_row - layout->explain_rows;
        layout->panels_width = cols;
    }
    layout->panels_top = top;
    layout->panels_rows = (side ? layout->status_row : layout->explain_top) - top;

    /* Panels: each gets its whole height when everything fits; otherwise
     * the focused one comes first, the others shrink, down to their title
     * line alone. */
    int n = step->n_tensors, focus = app->focus[app->step];
    int natural[TRACE_MAX_STEP_TENSORS] = {0}, total = 0;
    for (int i = 0; i < n; i++) {
        natural[i] = view_panel_natural_rows(app, app->step, i, layout->panels_width);
        total += natural[i];
        layout->panel_rows[i] = 1;
    }
    int room = layout->panels_rows;
    if (total <= room) {
        for (int i = 0; i < n; i++)
            layout->panel_rows[i] = natural[i];
    } else {
        room -= n; /* every panel keeps its title line */
        int extra = natural[focus] - 1 < room ? natural[focus] - 1 : room;
        layout->panel_rows[focus] += extra;
        room -= extra;
        for (int i = 0; i < n && room > 0; i++) {
            if (i == focus)
                continue;
            int more = natural[i] - 1 < room ? natural[i] - 1 : room;
            /* a shrunk panel needs at least a few rows to be worth showing */
            if (more < natural[i] - 1 && more < 3)
                continue;
            layout->panel_rows[i] += more;
            room -= more;
        }
    }
    int row = top;
    for (int i = 0; i < n; i++) {
        layout->panel_top[i] = row;
        row += layout->panel_rows[i];
    }
}

/* ------------------------------------------------------------------------
 * Keys
 * ---------------------------------------------------------------------- */

/* Moves the selection of the focused tensor by (d_row, d_col), or to the
 * row's start or end, within its slice. */
static void move_selection(App *app, long d_row, long d_col, int to_edge, int cols)
{
    int s = app->step, t = app->focus[s];
    const Tensor *tensor = app->trace->steps[s].tensors[t].tensor;
    TensorGrid grid = view_grid(app, s, t, cols >= 120 ? cols - 38 : cols);
    size_t slice, row, col;
    view_grid_locate(&grid, app->cursor[s][t], &slice, &row, &col);
    long new_row = (long)row + d_row, new_col = (long)col + d_col;
    if (to_edge < 0)
        new_col = 0;
    if (to_edge > 0)
        new_col = (long)grid.cols - 1;
    if (new_row < 0)
        new_row = 0;
    if (new_row >= (long)grid.rows)
        new_row = (long)grid.rows - 1;
    if (new_col < 0)
        new_col = 0;
    if (new_col >= (long)grid.cols)
        new_col = (long)grid.cols - 1;
    size_t offset = view_grid_offset(&grid, slice, (size_t)new_row, (size_t)new_col);
    if (offset >= tensor->size) /* the short last row of a wrapped tensor */
        offset = tensor->size - 1;
    app->cursor[s][t] = offset;
}

/* Moves the focused tensor's selection to another slice (head). */
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

/* Handles a key while the step list is open. */
static void steps_overlay_key(App *app, Action action)
{
    int n = app->trace->n_steps;
    switch (action) {
    case ACTION_UP:
    case ACTION_PREV_STEP:
        if (app->list_selected > 0)
            app->list_selected--;
        break;
    case ACTION_DOWN:
    case ACTION_NEXT_STEP:
        if (app->list_selected < n - 1)
            app->list_selected++;
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
        app->step = app->list_selected;
        app->overlay = OVERLAY_NONE;
        break;
    case ACTION_CLOSE:
    case ACTION_STEP_LIST:
    case ACTION_QUIT:
        app->overlay = OVERLAY_NONE;
        break;
    case ACTION_NONE:
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

bool app_handle_key(App *app, KeyCode key, int rows, int cols)
{
    Action action = keys_action(key);
    if (action == ACTION_REDRAW || key == KEY_CODE_RESIZE)
        return true;

    /* Overlays take keys first. */
    if (app->overlay == OVERLAY_STEPS) {
        steps_overlay_key(app, action);
        return true;
    }
    if (app->overlay != OVERLAY_NONE) {
        if (action == ACTION_CLOSE || action == ACTION_QUIT || action == ACTION_HELP ||
            (app->overlay == OVERLAY_INSPECT && action == ACTION_INSPECT))
            app->overlay = OVERLAY_NONE;
        else if (action == ACTION_DOWN || action == ACTION_PAGE_DOWN)
            app->overlay_scroll += action == ACTION_DOWN ? 1 : rows / 2;
        else if ((action == ACTION_UP || action == ACTION_PAGE_UP) && app->overlay_scroll > 0)
            app->overlay_scroll -= action == ACTION_UP ? 1 : rows / 2;
        if (app->overlay_scroll < 0)
            app->overlay_scroll = 0;
        return true;
    }

    int s = app->step;
    int n_tensors = app->trace->steps[s].n_tensors;
    ViewLayout layout;
    view_layout(app, rows, cols, &layout);
    int page = layout.too_small ? 1 : layout.panel_rows[app->focus[s]] - 2;
    if (page < 1)
        page = 1;
    switch (action) {
    case ACTION_QUIT:
        return false;
    case ACTION_NEXT_STEP:
        if (app->step < app->trace->n_steps - 1)
            app->step++;
        break;
    case ACTION_PREV_STEP:
        if (app->step > 0)
            app->step--;
        break;
    case ACTION_FIRST_STEP:
        app->step = 0;
        break;
    case ACTION_LAST_STEP:
        app->step = app->trace->n_steps - 1;
        break;
    case ACTION_STEP_LIST:
        app->overlay = OVERLAY_STEPS;
        app->list_selected = app->step;
        break;
    case ACTION_UP:
        move_selection(app, -1, 0, 0, cols);
        break;
    case ACTION_DOWN:
        move_selection(app, 1, 0, 0, cols);
        break;
    case ACTION_LEFT:
        move_selection(app, 0, -1, 0, cols);
        break;
    case ACTION_RIGHT:
        move_selection(app, 0, 1, 0, cols);
        break;
    case ACTION_ROW_START:
        move_selection(app, 0, 0, -1, cols);
        break;
    case ACTION_ROW_END:
        move_selection(app, 0, 0, 1, cols);
        break;
    case ACTION_PAGE_UP:
        move_selection(app, -page, 0, 0, cols);
        break;
    case ACTION_PAGE_DOWN:
        move_selection(app, page, 0, 0, cols);
        break;
    case ACTION_NEXT_PANEL:
        app->focus[s] = (app->focus[s] + 1) % n_tensors;
        break;
    case ACTION_PREV_PANEL:
        app->focus[s] = (app->focus[s] + n_tensors - 1) % n_tensors;
        break;
    case ACTION_NEXT_SLICE:
        move_slice(app, 1, layout.panels_width);
        break;
    case ACTION_PREV_SLICE:
        move_slice(app, -1, layout.panels_width);
        break;
    case ACTION_INSPECT:
        app->overlay = OVERLAY_INSPECT;
        app->overlay_scroll = 0;
        break;
    case ACTION_HELP:
        app->overlay = OVERLAY_HELP;
        app->overlay_scroll = 0;
        break;
    case ACTION_NONE:
    case ACTION_CLOSE:
    case ACTION_REDRAW:
    case ACTION_COUNT:
        break;
    }
    return true;
}
