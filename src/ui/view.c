/*
 * view.c - the tracer's state and its layout (see view.h). How keys change
 * the state is in input.c.
 */
#include "view.h"
#include "utf8.h"

#include <math.h>
#include <string.h>

#include "frame.h"

/* ------------------------------------------------------------------------
 * Set-up
 * ---------------------------------------------------------------------- */

void app_init(App *app, const Trace *trace, const Lesson *lesson, const ViewOptions *options)
{
    memset(app, 0, sizeof *app);
    app->trace = trace;
    app->lesson = lesson;
    app->options = *options;
    /* the walk: the lesson's steps in its order, or every step */
    if (lesson != NULL) {
        for (int i = 0; i < lesson->n_steps && app->n_walk < TRACE_MAX_STEPS; i++) {
            int index = trace_find_step(trace, lesson->steps[i].id, NULL);
            if (index >= 0)
                app->walk[app->n_walk++] = index;
        }
    }
    if (app->n_walk == 0) {
        app->lesson = NULL;
        for (int i = 0; i < trace->n_steps; i++)
            app->walk[app->n_walk++] = i;
    }
    for (int s = 0; s < trace->n_steps; s++) {
        const TraceStep *step = &trace->steps[s];
        app->focus[s] = step->main_tensor;
        for (int t = 0; t < step->n_tensors; t++) {
            const TraceTensor *tt = &step->tensors[t];
            const Tensor *x = tt->tensor;
            /* a tensor shown again (an input of a later step) keeps what
             * was found for it: at GPT-2's size each pass reads millions */
            int s0 = -1, t0 = -1;
            for (int ps = 0; ps <= s && s0 < 0; ps++)
                for (int pt = 0; pt < (ps < s ? trace->steps[ps].n_tensors : t); pt++)
                    if (trace->steps[ps].tensors[pt].tensor == x &&
                        trace->steps[ps].tensors[pt].is_integer == tt->is_integer) {
                        s0 = ps;
                        t0 = pt;
                        break;
                    }
            if (s0 >= 0) {
                app->formats.of[s][t] = app->formats.of[s0][t0];
                app->max_abs[s][t] = app->max_abs[s0][t0];
                continue;
            }
            app->formats.of[s][t] = tt->is_integer ? numfmt_choose_integer(x->data, x->size)
                                                   : numfmt_choose(x->data, x->size, options->precision);
            float max_abs = 0.0f;
            for (size_t i = 0; i < x->size; i++)
                if (isfinite(x->data[i]) && fabsf(x->data[i]) > max_abs)
                    max_abs = fabsf(x->data[i]);
            app->max_abs[s][t] = max_abs;
        }
    }
    app_go(app, 0);
}

const LessonStep *app_lesson_step(const App *app)
{
    if (app->lesson == NULL || app->pos >= app->lesson->n_steps)
        return NULL;
    return &app->lesson->steps[app->pos];
}

int app_first_open_quiz(const App *app, bool before_only)
{
    const LessonStep *ls = app_lesson_step(app);
    if (ls == NULL)
        return -1;
    for (int q = 0; q < ls->n_quizzes; q++)
        if (app->quiz[app->pos][q].status == QUIZ_OPEN && (!before_only || ls->quizzes[q].before))
            return q;
    return -1;
}

const char *app_explanation(const App *app)
{
    const LessonStep *ls = app_lesson_step(app);
    if (ls != NULL && ls->text != NULL)
        return ls->text;
    return app->trace->steps[app->step].explanation;
}

bool app_tensors_hidden(const App *app)
{
    return app->autoplay_ms == 0 && app_first_open_quiz(app, true) >= 0;
}

void app_start_autoplay(App *app, int ms)
{
    app->autoplay_ms = ms > 0 ? ms : 1;
    app->autoplay_move = 0;
    app->overlay = OVERLAY_NONE;
}

int app_tick_ms(const App *app)
{
    return app->autoplay_ms > 0 ? app->autoplay_ms / VIEW_AUTOPLAY_MOVES : -1;
}

int app_step(const App *app)
{
    return app->step;
}

void app_tick(App *app, int rows, int cols)
{
    (void)rows;
    (void)cols;
    if (app->autoplay_ms == 0)
        return;
    if (app->autoplay_move >= VIEW_AUTOPLAY_MOVES) {
        if (app->pos + 1 >= app->n_walk) {
            app->autoplay_ms = 0; /* the end of the walk */
            return;
        }
        app->autoplay_move = 0;
        app_go(app, app->pos + 1);
        app->overlay = OVERLAY_NONE; /* no quizzes while presenting */
        return;
    }
    /* spread the moves over the step's outputs: each output gets its share,
     * the selection visiting evenly spaced values of it */
    const TraceStep *step = &app->trace->steps[app->step];
    int outputs[TRACE_MAX_STEP_TENSORS], n = 0;
    for (int t = 0; t < step->n_tensors; t++)
        if (step->tensors[t].is_output)
            outputs[n++] = t;
    if (n == 0) {
        app->autoplay_move = VIEW_AUTOPLAY_MOVES;
        return;
    }
    int per = VIEW_AUTOPLAY_MOVES / n > 0 ? VIEW_AUTOPLAY_MOVES / n : 1;
    int which = app->autoplay_move / per < n ? app->autoplay_move / per : n - 1;
    /* the last output takes the moves left over, so it spreads over those */
    int moves_here = which == n - 1 ? VIEW_AUTOPLAY_MOVES - which * per : per;
    int t = outputs[which];
    size_t size = step->tensors[t].tensor->size;
    size_t k = (size_t)(app->autoplay_move - which * per);
    app->focus[app->step] = t;
    app->cursor[app->step][t] = size * k / (size_t)(moves_here > 0 ? moves_here : 1); /* k < moves_here: in range */
    app->autoplay_move++;
}

void app_open_quiz(App *app, int q)
{
    app->overlay = OVERLAY_QUIZ;
    app->quiz_index = q;
    app->quiz_input[0] = '\0';
    app->quiz_feedback = FEEDBACK_NONE;
}

void app_go(App *app, int pos)
{
    if (pos < 0)
        pos = 0;
    if (pos >= app->n_walk)
        pos = app->n_walk - 1;
    if (pos != app->pos)
        app->progress_dirty = true;
    app->pos = pos;
    app->step = app->walk[pos];
    app->overlay = OVERLAY_NONE;
    int q = app->autoplay_ms == 0 ? app_first_open_quiz(app, true) : -1;
    if (q >= 0)
        app_open_quiz(app, q);
}

/* ------------------------------------------------------------------------
 * Grids
 * ---------------------------------------------------------------------- */

int view_cell_width(const App *app, int step, int tensor)
{
    return app->formats.of[step][tensor].width + 1 + (app->options.no_color ? 1 : 0);
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

/* Shares the panels' rows (layout->panels_top, panels_rows, panels_width
 * already set) among the tensors of the step on screen. Each gets its
 * whole height when everything fits. Otherwise room goes by priority: the
 * focused panel, the step's main tensor, its other outputs, then its
 * inputs. Every panel keeps at least its title line while there is room
 * for all titles; when there is not, the ones left over are summed up in
 * one "+N more" line. Fills panel_top, panel_rows, more_panels, more_row. */
static void layout_panels(const App *app, ViewLayout *layout)
{
    const TraceStep *step = &app->trace->steps[app->step];
    int n = step->n_tensors, focus = app->focus[app->step];
    int natural[TRACE_MAX_STEP_TENSORS] = {0}, total = 0;
    int order[TRACE_MAX_STEP_TENSORS], n_order = 0;
    for (int i = 0; i < n; i++) {
        natural[i] = view_panel_natural_rows(app, app->step, i, layout->panels_width);
        total += natural[i];
        layout->panel_rows[i] = 0;
    }
    order[n_order++] = focus;
    if (step->main_tensor != focus)
        order[n_order++] = step->main_tensor;
    for (int pass = 0; pass < 2; pass++) /* outputs, then inputs */
        for (int i = 0; i < n; i++)
            if (i != focus && i != step->main_tensor && step->tensors[i].is_output == (pass == 0))
                order[n_order++] = i;
    int room = layout->panels_rows, top = layout->panels_top;
    if (total <= room) {
        for (int i = 0; i < n; i++)
            layout->panel_rows[i] = natural[i];
    } else if (room >= n + 3) {
        /* every title shows; the focused panel grows first, then the rest */
        for (int i = 0; i < n; i++)
            layout->panel_rows[i] = 1;
        room -= n;
        for (int k = 0; k < n_order && room > 0; k++) {
            int i = order[k];
            int more = natural[i] - 1 < room ? natural[i] - 1 : room;
            if (k > 0 && more < natural[i] - 1 && more < 3)
                continue; /* a sliver of a panel is worth less than its title */
            layout->panel_rows[i] += more;
            room -= more;
        }
    } else if (room > 0) {
        /* too few rows for every title: the focused panel, then a line
         * saying how many more there are */
        layout->panel_rows[focus] = room > 1 ? room - 1 : 1;
        layout->more_panels = n - 1;
        layout->more_row = top + layout->panel_rows[focus];
        if (room == 1)
            layout->more_panels = 0;
    }
    int row = top;
    for (int i = 0; i < n; i++) {
        layout->panel_top[i] = row;
        row += layout->panel_rows[i];
    }
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
    int formula_lines = (int)utf8_width(step->formula) > cols - 2 ? 2 : 1;
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
        int wanted = frame_markup_lines(app_explanation(app), cols - 2, app->options.ascii);
        int cap = rows >= 30 ? 8 : rows >= 20 ? 4 : 2;
        layout->explain_rows = wanted < cap ? wanted : cap;
        layout->explain_col = 1;
        layout->explain_width = cols - 2;
        layout->explain_top = layout->status_row - layout->explain_rows;
        layout->panels_width = cols;
    }
    layout->panels_top = top;
    layout->panels_rows = (side ? layout->status_row : layout->explain_top) - top;
    layout_panels(app, layout);
}
