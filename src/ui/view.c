/*
 * view.c - the tracer's state and its layout (see view.h). How keys change
 * the state is in input.c.
 */
#include "view.h"
#include "compose.h"
#include "diffview.h"
#include "lessonview.h"
#include "utf8.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "frame.h"

/* ------------------------------------------------------------------------
 * Set-up
 * ---------------------------------------------------------------------- */

/* view_choose_format, with the largest finite |value| of the tensor in
 * *max_abs, from the same pass over its values where the format has one. */
static NumFormat choose_format_max(const TraceTensor *tt, int precision, float *max_abs)
{
    const Tensor *x = tt->tensor;
    if (tt->is_integer) { /* token ids: a few thousand values at most */
        *max_abs = 0.0f;
        for (size_t i = 0; i < x->size; i++)
            if (isfinite(x->data[i]) && fabsf(x->data[i]) > *max_abs)
                *max_abs = fabsf(x->data[i]);
        return numfmt_choose_integer(x->data, x->size);
    }
    if (tt->is_output && tt->how.op == OP_SOFTMAX)
        return numfmt_choose_probability_max(x->data, x->size, max_abs);
    return numfmt_choose_fixed_max(x->data, x->size, precision, max_abs);
}

NumFormat view_choose_format(const TraceTensor *tt, int precision)
{
    float max_abs;
    return choose_format_max(tt, precision, &max_abs);
}

/* A monotonic clock in milliseconds. */
static double view_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

void view_trace_formats(const Trace *trace, int precision, ExplainFormats *formats,
                        float max_abs[TRACE_MAX_STEPS][TRACE_MAX_STEP_TENSORS])
{
    for (int s = 0; s < trace->n_steps; s++) {
        const TraceStep *step = &trace->steps[s];
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
                formats->of[s][t] = formats->of[s0][t0];
                max_abs[s][t] = max_abs[s0][t0];
                continue;
            }
            formats->of[s][t] = choose_format_max(tt, precision, &max_abs[s][t]); /* one pass for both */
        }
    }
}

void app_init(App *app, const Trace *trace, const Lesson *lesson, const ViewOptions *options)
{
    double start = view_clock_ms();
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
        /* a lesson's select: picks the panel and the cell a step opens on */
        int t_sel;
        size_t at;
        if (app->lesson != NULL && lesson_step_select(lesson_find_step(app->lesson, step->id), trace, s, &t_sel, &at)) {
            app->focus[s] = t_sel;
            app->cursor[s][t_sel] = at;
        }
    }
    view_trace_formats(trace, options->precision, &app->formats, app->max_abs);
    app->original = trace;
    experiment_set_init(&app->changes);
    app_go(app, 0);
    if (app->lesson != NULL && app->lesson->intro != NULL) { /* the intro first; closing it opens the step */
        app->overlay = OVERLAY_INTRO;
        app->overlay_scroll = 0;
    }
    app->init_ms = view_clock_ms() - start;
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
    return app_first_open_quiz(app, true) >= 0;
}

bool view_tensor_hidden(const App *app, int tensor)
{
    return app->trace->steps[app->step].tensors[tensor].is_output && app_tensors_hidden(app);
}

/* While a "before" quiz hides the outputs, the selection goes to the
 * step's first input (when it has one); once they show, back to its main
 * tensor if the selection is still on an input. */
static void focus_visible(App *app)
{
    const TraceStep *step = &app->trace->steps[app->step];
    int *focus = &app->focus[app->step];
    if (app_tensors_hidden(app)) {
        for (int t = 0; t < step->n_tensors && view_tensor_hidden(app, *focus); t++)
            if (!step->tensors[t].is_output)
                *focus = t;
    } else if (!step->tensors[*focus].is_output) {
        /* outputs shown again: back to what the lesson selects, else the main tensor */
        int tensor;
        size_t at;
        if (lesson_step_select(app_lesson_step(app), app->trace, app->step, &tensor, &at)) {
            if (*focus != tensor) /* on the selected input already: the learner's cursor stays */
                app->cursor[app->step][tensor] = at;
            *focus = tensor;
        } else {
            *focus = step->main_tensor;
        }
    }
}

void app_start_autoplay(App *app, int ms)
{
    app->autoplay_ms = ms > 0 ? ms : 1;
    app->autoplay_move = 0;
    if (app->overlay != OVERLAY_QUIZ) /* a quiz open at the start: autoplay waits for it */
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
    if (app->autoplay_ms == 0 || app->overlay == OVERLAY_QUIZ)
        return; /* off, or paused at a quiz until it closes */
    if (app->autoplay_move >= VIEW_AUTOPLAY_MOVES) {
        int q = app_first_open_quiz(app, false);
        if (q >= 0) { /* the step's "after" quizzes first: the room answers, then the walk goes on */
            app_open_quiz(app, q);
            return;
        }
        if (app->pos + 1 >= app->n_walk) {
            app->autoplay_ms = 0; /* the end of the walk */
            return;
        }
        app->autoplay_move = 0;
        app_go(app, app->pos + 1); /* opens its first "before" quiz, if any: a pause */
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

void app_resume(App *app, int pos)
{
    app_go(app, pos);
    app->resumed = app->pos > 0;
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
    app_lesson_trace_leave(app);
    app_experiment_follow_lesson(app);
    app_lesson_trace_follow(app);
    int q = app_first_open_quiz(app, true);
    if (q >= 0) {
        app_open_quiz(app, q);
        focus_visible(app);
    }
}

void app_quiz_closed(App *app)
{
    if (!app_tensors_hidden(app))
        focus_visible(app);
}

/* ------------------------------------------------------------------------
 * Grids
 * ---------------------------------------------------------------------- */

int view_cell_width(const App *app, int step, int tensor)
{
    /* with changes in force, one more column for the mark of a changed value */
    return app->formats.of[step][tensor].width + 1 + (app->options.no_color ? 1 : 0) + (view_has_changes(app) ? 1 : 0);
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
        char label[64];
        for (size_t i = 0; i < rows && i < cfg->n_tokens; i++) {
            size_t w = utf8_width(explain_token_label(cfg, i, VIEW_LABEL_MAX, label, sizeof label));
            if (w > width)
                width = w;
        }
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

bool view_panel_related(const App *app, int step, int tensor)
{
    const TraceStep *st = &app->trace->steps[step];
    int focus = app->focus[step];
    if (tensor == focus)
        return true;
    const TraceTensor *f = &st->tensors[focus], *t = &st->tensors[tensor];
    bool feeds = f->is_output && f->how.op != OP_SHOWN && (f->how.in[0] == tensor || f->how.in[1] == tensor);
    bool fed = t->is_output && t->how.op != OP_SHOWN && (t->how.in[0] == focus || t->how.in[1] == focus);
    return feeds || fed;
}

/* The order panels get room in: the focused one, the ones its selection
 * is computed from or that are computed from it, the step's main tensor,
 * its other outputs, then its inputs. Fills order[] and returns its
 * length (the step's tensor count). */
static int panel_order(const App *app, int *order)
{
    const TraceStep *step = &app->trace->steps[app->step];
    int n = step->n_tensors, n_order = 0;
    bool placed[TRACE_MAX_STEP_TENSORS] = {false};
    for (int pass = 0; pass < 5; pass++)
        for (int i = 0; i < n; i++) {
            bool take = pass == 0   ? i == app->focus[app->step]
                        : pass == 1 ? view_panel_related(app, app->step, i)
                        : pass == 2 ? i == step->main_tensor
                        : pass == 3 ? step->tensors[i].is_output
                                    : true;
            if (take && !placed[i]) {
                placed[i] = true;
                order[n_order++] = i;
            }
        }
    return n_order;
}

/* Every title shows; the panels grow in `order`, the focused one first,
 * each by what it needs while the room lasts (a sliver of a panel is
 * worth less than its title). Returns false when a panel related to the
 * focus is left with fewer than 3 rows of the ones it needs. */
static bool share_all_titles(const int *natural, const int *order, int n, int room, int *rows, const bool *related)
{
    for (int i = 0; i < n; i++)
        rows[i] = 1;
    room -= n;
    for (int k = 0; k < n && room > 0; k++) {
        int i = order[k];
        int more = natural[i] - 1 < room ? natural[i] - 1 : room;
        if (k > 0 && more < natural[i] - 1 && more < 3)
            continue;
        rows[i] += more;
        room -= more;
    }
    for (int i = 0; i < n; i++)
        if (related[i] && rows[i] < (natural[i] < 3 ? natural[i] : 3))
            return false;
    return true;
}

/* The compact layout: only the panels related to the focus, the others
 * summed up in one "+N more" line below them. Each related panel gets its
 * title, then rows go one at a time to whichever still needs some, the
 * focused panel first, so every one shows some values. */
static void share_compact(const App *app, const int *natural, const int *order, int n, int room, ViewLayout *layout)
{
    bool related[TRACE_MAX_STEP_TENSORS] = {false};
    int n_related = 0;
    for (int i = 0; i < n; i++)
        if ((related[i] = view_panel_related(app, app->step, i)))
            n_related++;
    layout->more_panels = n - n_related;
    room -= (layout->more_panels > 0 ? 1 : 0) + n_related;
    for (int i = 0; i < n; i++)
        layout->panel_rows[i] = related[i] ? 1 : 0;
    int focus = app->focus[app->step];
    /* the focused panel whole if the others keep 2 rows each (labels, one row) */
    int others = 2 * (n_related - 1), grow = natural[focus] - 1;
    if (grow > room - others)
        grow = room - others > 0 ? room - others : 0;
    layout->panel_rows[focus] += grow;
    room -= grow;
    for (bool grew = true; room > 0 && grew;) {
        grew = false;
        for (int k = 0; k < n && room > 0; k++) {
            int i = order[k];
            if (related[i] && layout->panel_rows[i] < natural[i]) {
                layout->panel_rows[i]++;
                room--;
                grew = true;
            }
        }
    }
}

/* Cuts row r (0-based) of the PyTorch line wrapped at width columns into
 * out: "PyTorch: " and as many whole statements ("a = ...; ") as fit, the
 * next rows indented under the code; a statement wider than a row is cut.
 * Returns the number of rows the whole line takes (out is "" past them).
 * The code is ASCII, so a byte is a column. */
static int torch_wrap(const char *code, int width, int r, char *out, size_t size)
{
    const size_t indent = strlen(VIEW_TORCH_PREFIX);
    size_t len = strlen(code), pos = 0;
    int rows = 0;
    out[0] = '\0';
    while (pos < len && width > (int)indent + 8) {
        size_t room = (size_t)width - indent, take = len - pos;
        if (take > room) {
            take = room;
            for (size_t k = room; k > 1; k--)
                if (code[pos + k - 1] == ' ' && code[pos + k - 2] == ';') {
                    take = k;
                    break;
                }
        }
        if (rows == r)
            snprintf(out, size, "%-*s%.*s", (int)indent, rows == 0 ? VIEW_TORCH_PREFIX : "", (int)take, code + pos);
        pos += take;
        rows++;
    }
    return rows;
}

int view_torch_rows(const App *app, int cols)
{
    const char *code = app->trace->steps[app->step].torch;
    if (!app->show_torch || code[0] == '\0')
        return 0;
    char unused[1];
    int rows = torch_wrap(code, cols - 2, -1, unused, sizeof unused);
    return rows < VIEW_TORCH_MAX_ROWS ? rows : VIEW_TORCH_MAX_ROWS;
}

void view_torch_row(const App *app, int cols, int r, char *out, size_t size)
{
    torch_wrap(app->trace->steps[app->step].torch, cols - 2, r, out, size);
}

/* Shares the panels' rows (layout->panels_top, panels_rows, panels_width
 * already set) among the tensors of the step on screen. Each gets its
 * whole height when everything fits. Otherwise every title shows and room
 * goes by panel_order, as long as that leaves the panels related to the
 * focus (view_panel_related) 3 rows; if not, the compact layout shows
 * only those. With too few rows even for that, the focused panel and a
 * "+N more" line. Fills panel_top, panel_rows, more_panels, more_row. */
static void layout_panels(const App *app, ViewLayout *layout)
{
    const TraceStep *step = &app->trace->steps[app->step];
    int n = step->n_tensors, focus = app->focus[app->step];
    int natural[TRACE_MAX_STEP_TENSORS] = {0}, total = 0, order[TRACE_MAX_STEP_TENSORS];
    bool related[TRACE_MAX_STEP_TENSORS] = {false};
    for (int i = 0; i < n; i++) {
        natural[i] = view_tensor_hidden(app, i) ? 0 : view_panel_natural_rows(app, app->step, i, layout->panels_width);
        total += natural[i];
        layout->panel_rows[i] = 0;
        related[i] = view_panel_related(app, app->step, i);
    }
    panel_order(app, order);
    int room = layout->panels_rows, top = layout->panels_top;
    int n_related = 0;
    for (int i = 0; i < n; i++)
        n_related += related[i];
    if (total <= room) {
        for (int i = 0; i < n; i++)
            layout->panel_rows[i] = natural[i];
    } else if (room >= n + 3 && share_all_titles(natural, order, n, room, layout->panel_rows, related)) {
        /* done: every title, the related panels with rows of values */
    } else if (room >= 3 * n_related + 1) {
        share_compact(app, natural, order, n, room, layout);
    } else if (room > 0) {
        /* too few rows for every title: the focused panel, then a line
         * saying how many more there are */
        for (int i = 0; i < n; i++)
            layout->panel_rows[i] = 0;
        layout->panel_rows[focus] = room > 1 ? room - 1 : 1;
        layout->more_panels = room > 1 ? n - 1 : 0;
    }
    int row = top;
    for (int i = 0; i < n; i++) {
        layout->panel_top[i] = row;
        row += layout->panel_rows[i];
    }
    layout->more_row = row;
}

int view_compare_entropy_cols(const App *app)
{
    int s = app->step, t = app->focus[s];
    const TraceTensor *tt = &app->trace->steps[s].tensors[t];
    bool rows = !(tt->tensor->ndim == 1 && tt->dims[0] == DIM_SEQ) && tt->tensor->ndim >= 2;
    return app->formats.of[s][t].notation == NUM_PROBABILITY && rows ? VIEW_ENTROPY_COLS : 0;
}

bool view_compare_side_by_side(const App *app, int cols)
{
    int s = app->step, t = app->focus[s], half = (cols - 1) / 2;
    TensorGrid grid = view_grid(app, s, t, half);
    int need = view_label_width(app, s, t) +
               (int)(grid.wrapped || grid.vertical ? 1 : grid.cols) * view_cell_width(app, s, t) + 1 +
               view_compare_entropy_cols(app);
    return need <= half && half >= VIEW_COMPARE_MIN_HALF;
}

/* Rows the step's panels need to show whole at `width` columns (in the
 * compare view, the focused tensor's two panels). */
static int view_panels_need(const App *app, int width)
{
    const TraceStep *step = &app->trace->steps[app->step];
    if (view_comparing(app) || view_comparing_own(app)) {
        int one = view_panel_natural_rows(app, app->step, app->focus[app->step], width);
        return view_compare_side_by_side(app, width) ? one : 2 * one;
    }
    int need = 0;
    for (int i = 0; i < step->n_tensors; i++)
        need += view_tensor_hidden(app, i) ? 0 : view_panel_natural_rows(app, app->step, i, width);
    return need;
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
    layout->torch_rows = view_torch_rows(app, cols);
    layout->formula_rows = formula_lines + (step->einsum != NULL ? 1 : 0) + layout->torch_rows;
    int top = 2 + layout->formula_rows; /* header, title, formula lines */
    layout->status_row = rows - 2;
    if (view_has_changes(app)) { /* the line that counts the changed values, under the selected value's */
        layout->diff_row = rows - 2;
        layout->status_row = rows - 3;
    }
    bool side = cols >= 120;
    if (side) {
        /* wide screens: the explanation in a column at the right */
        layout->explain_width = 36;
        layout->explain_col = cols - layout->explain_width;
        layout->explain_top = top;
        layout->explain_rows = layout->status_row - top;
        layout->panels_width = cols - layout->explain_width - 2;
    } else {
        /* the explanation takes the rows the panels leave free, and at
         * least `floor` of them (then "… e: read it all" says it goes on) */
        int wanted = frame_markup_lines(app_explanation(app), cols - 2, app->options.ascii);
        int floor = rows >= 30 ? 4 : rows >= 20 ? 3 : 2;
        int free = layout->status_row - top - view_panels_need(app, cols);
        int cap = free > floor ? free : floor;
        layout->explain_rows = wanted < cap ? wanted : cap;
        layout->explain_col = 1;
        layout->explain_width = cols - 2;
        layout->explain_top = layout->status_row - layout->explain_rows;
        layout->panels_width = cols;
    }
    if (app->overlay == OVERLAY_QUIZ) {
        /* the quiz takes a pane at the bottom, in place of the explanation
         * (hidden until it closes); the panels keep the rows above. When
         * the pane wants more than there is, the panels keep one row (a
         * before quiz's input stays in view) as long as the quiz's text
         * as it is now still fits under the pane's title rule; else the
         * pane takes them all, so that the feedback is never cut */
        int room = layout->status_row - top;
        int want = compose_quiz_rows(app, cols);
        bool fits = compose_quiz_lines_now(app, cols) + 1 <= room - 1;
        layout->quiz_rows = want < room ? want : room >= 2 && fits ? room - 1 : room;
        layout->quiz_top = layout->status_row - layout->quiz_rows;
        layout->explain_rows = 0;
        layout->explain_top = layout->quiz_top;
        if (side) {
            layout->explain_col = 1;
            layout->explain_width = cols - 2;
            layout->panels_width = cols;
        }
        side = false;
    }
    layout->panels_top = top;
    layout->panels_rows = (side ? layout->status_row : layout->explain_top) - top;
    layout_panels(app, layout);
}
