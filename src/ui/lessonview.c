/*
 * lessonview.c - a model lesson's steps that show their own trace (see
 * lessonview.h).
 *
 * The App's per-step rows (focus, cursor) are indexed by the step's index
 * in the trace on screen. A step's own trace may number its steps
 * differently (a layer past 0 has gpt2_blocks), so each row remembers
 * which own trace (NULL: the lesson's) it was last set for, and a row
 * set for another starts over on arrival.
 */
#include "lessonview.h"

#include <stdio.h>
#include <string.h>

#include "diffview.h"
#include "view.h"

void app_lesson_trace_leave(App *app)
{
    if (app->own == NULL)
        return;
    app->trace = app->original;
    app->formats = app->base_formats;
    memcpy(app->max_abs, app->base_max_abs, sizeof app->max_abs);
    app->own = NULL;
}

/* Sets the focus and cursor row of the step on screen as app_init does:
 * the step's main tensor, every cursor at 0, then the lesson's select:. */
static void reset_row(App *app)
{
    int s = app->step;
    const TraceStep *step = &app->trace->steps[s];
    app->focus[s] = step->main_tensor;
    memset(app->cursor[s], 0, sizeof app->cursor[s]);
    int tensor;
    size_t at;
    if (lesson_step_select(app_lesson_step(app), app->trace, s, &tensor, &at)) {
        app->focus[s] = tensor;
        app->cursor[s][tensor] = at;
    }
    app->row_own[s] = app->own;
}

void app_lesson_trace_follow(App *app)
{
    const Trace *own = lesson_step_trace(app->lesson, app->pos);
    app->own_compare_base = false;
    if (own != NULL) {
        int s = trace_find_step(own, app->lesson->steps[app->pos].id, NULL);
        if (s < 0) /* the parser refused such a step: stay on the lesson's trace */
            own = NULL;
        else {
            if (app->changed != NULL)
                app_experiment_reset(app); /* changes are of the lesson's trace */
            app->base_formats = app->formats;
            memcpy(app->base_max_abs, app->max_abs, sizeof app->max_abs);
            view_trace_formats(own, app->options.precision, &app->formats, app->max_abs);
            app->trace = own;
            app->own = own;
            app->step = s;
        }
    }
    if (app->row_own[app->step] != app->own)
        reset_row(app);
}

void app_lesson_trace_other_side(App *app, bool both_shown)
{
    char label[96], other[96];
    app->note_is_error = false;
    if (both_shown) {
        view_trace_label(app, true, label, sizeof label);
        view_trace_label(app, false, other, sizeof other);
        snprintf(app->note, sizeof app->note, "Both traces are on screen: %s and %s.", label, other);
        return;
    }
    app->own_compare_base = !app->own_compare_base;
    view_trace_label(app, app->own_compare_base, label, sizeof label);
    snprintf(app->note, sizeof app->note, "Shown: %s (o: the other)", label);
}

bool view_own_trace(const App *app)
{
    return app->own != NULL;
}

bool view_own_compare_base(const App *app, int *step, int *tensor)
{
    const LessonStep *ls = app_lesson_step(app);
    if (app->own == NULL || ls == NULL || !ls->compare)
        return false;
    int s = trace_find_step(app->original, ls->id, NULL);
    if (s < 0)
        return false;
    const char *name = app->trace->steps[app->step].tensors[app->focus[app->step]].name;
    const TraceStep *base = &app->original->steps[s];
    for (int t = 0; t < base->n_tensors; t++)
        if (strcmp(base->tensors[t].name, name) == 0) {
            *step = s;
            *tensor = t;
            return true;
        }
    return false;
}

bool view_comparing_own(const App *app)
{
    int s, t;
    return view_own_compare_base(app, &s, &t);
}

void view_trace_label(const App *app, bool base, char *buf, size_t size)
{
    if (app->lesson == NULL) {
        snprintf(buf, size, "%s", "");
        return;
    }
    if (base || app->own == NULL)
        lesson_trace_label(app->lesson, -1, app->original, buf, size);
    else
        lesson_trace_label(app->lesson, app->pos, app->own, buf, size);
}
