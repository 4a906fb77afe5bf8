/*
 * diffview.c - experiments in the tracer (see diffview.h): the changes in
 * force, the changed trace built from them, which of the two is on
 * screen, and what differs.
 *
 * The App's trace, formats and max_abs always describe the trace on
 * screen, so the composer draws whichever it is without knowing; `other`
 * and other_* describe the one beside it. Toggling swaps the two sets.
 */
#include "diffview.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "experiment.h"
#include "view.h"

/* ------------------------------------------------------------------------
 * The two traces
 * ---------------------------------------------------------------------- */

/* Swaps what describes the trace on screen with what describes the other
 * (trace, formats, heat scale). */
static void swap_sides(App *app)
{
    const Trace *t = app->trace;
    app->trace = app->other;
    app->other = t;
    ExplainFormats f = app->formats;
    app->formats = app->other_formats;
    app->other_formats = f;
    for (int s = 0; s < TRACE_MAX_STEPS; s++)
        for (int k = 0; k < TRACE_MAX_STEP_TENSORS; k++) {
            float m = app->max_abs[s][k];
            app->max_abs[s][k] = app->other_max_abs[s][k];
            app->other_max_abs[s][k] = m;
        }
}

static void sync_walk(App *app);

/* Drops the changed trace and its diff: the original alone, on screen. */
static void drop_changed(App *app)
{
    if (app->changed == NULL)
        return;
    if (app->trace != app->original)
        swap_sides(app);
    trace_diff_free(app->diff);
    free(app->diff);
    app->diff = NULL;
    trace_free(app->changed);
    app->changed = NULL;
    app->other = NULL;
    experiment_set_init(&app->changes);
    app->changes_from_lesson = false;
    sync_walk(app);
}

/* Whether b has a's steps, in a's order, then only steps a change adds
 * (the KV-cache decode, trace.h's `experiment`): the walk and every
 * per-step array of the App then fit both, the extra steps at the end. */
static bool extends_steps(const Trace *a, const Trace *b)
{
    if (b->n_steps < a->n_steps)
        return false;
    for (int s = 0; s < a->n_steps; s++)
        if (strcmp(a->steps[s].id, b->steps[s].id) != 0 || a->steps[s].n_tensors != b->steps[s].n_tensors)
            return false;
    for (int s = a->n_steps; s < b->n_steps; s++)
        if (b->steps[s].def == NULL || !b->steps[s].def->experiment)
            return false;
    return true;
}

/* Keeps the walk's tail in step with the trace on screen: the steps only
 * the changed trace has (those at or past the original's n_steps) are
 * walked, after the last one, while the changed trace is on screen, and
 * not otherwise. Clamps the position when its step left the walk. */
static void sync_walk(App *app)
{
    int n = 0;
    for (int i = 0; i < app->n_walk; i++)
        if (app->walk[i] < app->original->n_steps)
            app->walk[n++] = app->walk[i];
    if (app->changed != NULL && app->trace == app->changed)
        for (int s = app->original->n_steps; s < app->changed->n_steps && n < TRACE_MAX_STEPS; s++)
            app->walk[n++] = s;
    app->n_walk = n;
    if (app->pos >= n) {
        app->pos = n - 1;
        app->progress_dirty = true;
    }
    app->step = app->walk[app->pos];
}

/* The largest finite |value| of t (0 when none), for heat. */
static float largest_magnitude(const Tensor *t)
{
    float largest = 0.0f;
    for (size_t i = 0; i < t->size; i++)
        if (isfinite(t->data[i]) && fabsf(t->data[i]) > largest)
            largest = fabsf(t->data[i]);
    return largest;
}

/* Fills other_formats and other_max_abs for the changed trace (app->other,
 * the original on screen): a tensor with no changed value keeps the
 * original's, so only what changed is read again (at GPT-2's size each
 * pass over a tensor reads millions of values). */
static void changed_formats(App *app)
{
    const Trace *changed = app->other;
    for (int s = 0; s < changed->n_steps; s++)
        for (int t = 0; t < changed->steps[s].n_tensors; t++) {
            const TraceTensor *tt = &changed->steps[s].tensors[t];
            const TensorDiff *d = trace_diff_for_tensor(app->diff, tt->tensor);
            const TraceTensor *made = tt->is_output ? NULL : &changed->steps[tt->made_in].tensors[0];
            int k = made != NULL ? 0 : -1; /* shown again: the step that made it already looked */
            for (; made != NULL && k < changed->steps[tt->made_in].n_tensors && made[k].tensor != tt->tensor; k++)
                ;
            if (made != NULL && k < changed->steps[tt->made_in].n_tensors && tt->made_in < s) {
                app->other_formats.of[s][t] = app->other_formats.of[tt->made_in][k];
                app->other_max_abs[s][t] = app->other_max_abs[tt->made_in][k];
            } else if (d != NULL && d->changed == 0) {
                app->other_formats.of[s][t] = app->formats.of[s][t];
                app->other_max_abs[s][t] = app->max_abs[s][t];
            } else {
                app->other_formats.of[s][t] = view_choose_format(tt, app->options.precision);
                app->other_max_abs[s][t] = largest_magnitude(tt->tensor);
            }
        }
}

/* Builds the trace of the original's configuration under set (the
 * original's own changes, from the flags, come first in set) and its diff
 * against the original, and puts it on screen. False with err set and the
 * App unchanged when the build fails or the changed trace has other
 * steps (a decode with a cache). */
static bool build_changed(App *app, const ExperimentSet *set, Error *err)
{
    /* the steps no change reaches are shared with the original, not run again */
    Trace *changed = trace_rebuild(app->original, app->options.weights, set, err);
    if (changed == NULL)
        return false;
    if (!extends_steps(app->original, changed)) { /* trace.c puts a change's own steps last */
        trace_free(changed);
        return error_set(err, STATUS_USAGE, "this change reorders the steps: run it from the command line");
    }
    TraceDiff *diff = calloc(1, sizeof *diff);
    if (diff == NULL || !trace_diff(app->original, changed, diff, err)) {
        if (diff == NULL)
            error_oom(err, "the diff");
        free(diff);
        trace_free(changed);
        return false;
    }
    int had_steps = app->changed != NULL ? app->changed->n_steps : app->original->n_steps, was_on = app->step;
    drop_changed(app);
    app->changed = changed;
    app->diff = diff;
    app->changes = *set;
    /* the changed trace goes on screen; the original is the other */
    app->other = app->changed;
    changed_formats(app);
    swap_sides(app);
    for (int s = had_steps; s < changed->n_steps; s++) { /* a step only the change adds, new: its main tensor */
        app->focus[s] = changed->steps[s].main_tensor;
        memset(app->cursor[s], 0, sizeof app->cursor[s]);
    }
    sync_walk(app);
    for (int i = 0; i < app->n_walk; i++) /* rebuilt while on such a step: stay on it */
        if (app->walk[i] == was_on && was_on >= app->original->n_steps)
            app->pos = i, app->step = was_on;
    return true;
}

/* The set the original was built with (its flags' changes), empty when
 * none. */
static void original_changes(const App *app, ExperimentSet *set)
{
    experiment_set_init(set);
    const ExperimentSet *given = app->original->config.experiments;
    if (given != NULL)
        *set = *given;
}

/* ------------------------------------------------------------------------
 * Changes from the learner and from the lesson
 * ---------------------------------------------------------------------- */

/* Sets the status row's note (an error when is_error), printf-style. */
static void set_note(App *app, bool is_error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_note(App *app, bool is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->note, sizeof app->note, fmt, ap);
    va_end(ap);
    app->note_is_error = is_error;
}

/* Whether a trace of cfg under set is causal: the last causal or no-mask
 * change of set decides, else cfg's own flag. */
static bool causal_under(const ExperimentSet *set, const Config *cfg)
{
    bool causal = cfg->causal;
    for (int i = 0; i < set->n; i++)
        if (set->items[i].kind == EXP_CAUSAL || set->items[i].kind == EXP_NO_MASK)
            causal = set->items[i].kind == EXP_CAUSAL;
    return causal;
}

/* Appends what the KV-cache decode of the trace on screen found to out:
 * whether kv_output equals the full causal attention's row, bit for bit.
 * Nothing when the trace has no decode. */
static void kv_verdict(const App *app, StrBuf *out)
{
    size_t differ = experiment_kv_mismatches(app->trace);
    const Experiment *kv = experiment_find(app->trace->config.experiments, EXP_KV_CACHE);
    if (differ == SIZE_MAX || kv == NULL)
        return;
    size_t p = kv->token == SIZE_MAX ? app->trace->config.n_tokens - 1 : kv->token;
    const Tensor *t = trace_find_tensor(app->trace, PART_MULTI_HEAD, "kv_output")->tensor;
    if (differ == 0)
        strbuf_printf(out, "kv_output = head_outputs[:,%zu,:], bit for bit", p);
    else
        strbuf_printf(out, "kv_output differs from head_outputs[:,%zu,:] in %zu of %zu values", p, differ, t->size);
}

bool app_experiment_add(App *app, const char *text)
{
    ExperimentSet set;
    if (app->changed != NULL)
        set = app->changes;
    else
        original_changes(app, &set);
    Error err;
    error_clear(&err);
    bool parsed = experiment_parse_list(&set, text, &err);
    if (parsed && experiment_find(&set, EXP_KV_CACHE) != NULL && app->original->config.model == NULL &&
        !causal_under(&set, &app->original->config)) {
        set_note(app, true, "%s", "kv-cache decodes on the causal trace only: type causal kv-cache");
        return false;
    }
    if (!parsed || !experiment_check(&set, &app->original->config, &err) || !build_changed(app, &set, &err)) {
        set_note(app, true, "%s", err.message); /* it names the change */
        return false;
    }
    app->changes_from_lesson = false;
    char spelled[VIEW_NOTE_BYTES];
    experiment_describe(&app->changes, spelled, sizeof spelled);
    if (experiment_kv_mismatches(app->changed) != SIZE_MAX)
        set_note(app, false, "Recomputed under %s. G: the cache's decode, o: the original, X: undo", spelled);
    else
        set_note(app, false, "Recomputed under %s. o: the original, X: undo every change", spelled);
    return true;
}

void app_experiment_reset(App *app)
{
    if (app->changed == NULL)
        return;
    drop_changed(app);
    set_note(app, false, "%s", "Every change undone: the original trace.");
}

void app_experiment_toggle(App *app)
{
    if (app->changed == NULL) {
        set_note(app, false, "%s", "Nothing is changed yet: x makes a change (no-scale, zero-head=1, ...).");
        return;
    }
    if (app->step >= app->original->n_steps) {
        set_note(app, false, "The original trace has no step %s: go back a step (b) to compare.",
                 app->trace->steps[app->step].id);
        return;
    }
    swap_sides(app);
    sync_walk(app);
}

void app_experiment_follow_lesson(App *app)
{
    const LessonStep *ls = app_lesson_step(app);
    const char *wanted = ls != NULL ? ls->experiment : "";
    if (wanted[0] == '\0') {
        if (app->changes_from_lesson && app->step < app->original->n_steps) /* not on the change's own step */
            drop_changed(app);
        return;
    }
    ExperimentSet set;
    original_changes(app, &set);
    Error err;
    error_clear(&err);
    if (!experiment_parse_list(&set, wanted, &err) || !experiment_check(&set, &app->original->config, &err)) {
        set_note(app, true, "this step's experiment: %s", err.message); /* --check reports it first */
        return;
    }
    char now[EXPERIMENT_MAX * EXPERIMENT_SPEC_BYTES], next[sizeof now];
    experiment_describe(&app->changes, now, sizeof now);
    experiment_describe(&set, next, sizeof next);
    if (app->changed != NULL && app->changes_from_lesson && strcmp(now, next) == 0) {
        if (app->trace != app->changed) {
            swap_sides(app); /* the same change as the step before: the changed trace on screen */
            sync_walk(app);
        }
        return;
    }
    if (!build_changed(app, &set, &err)) {
        set_note(app, true, "this step's experiment: %s", err.message);
        return;
    }
    app->changes_from_lesson = true;
}

void app_release(App *app)
{
    if (app != NULL)
        drop_changed(app);
}

/* ------------------------------------------------------------------------
 * Questions the composer asks
 * ---------------------------------------------------------------------- */

bool view_diff_hidden(const App *app)
{
    const LessonStep *ls = app_lesson_step(app);
    if (app->changed == NULL || app->overlay != OVERLAY_QUIZ || ls == NULL || app->quiz_index < 0 ||
        app->quiz_index >= ls->n_quizzes)
        return false;
    return app->quiz[app->pos][app->quiz_index].status == QUIZ_OPEN &&
           answer_uses_changed(ls->quizzes[app->quiz_index].expr);
}

bool view_has_changes(const App *app)
{
    return app->changed != NULL;
}

bool view_on_original(const App *app)
{
    return app->changed != NULL && app->trace == app->original;
}

bool view_value_changed(const App *app, int step, int tensor, size_t offset)
{
    if (app->diff == NULL || step >= app->other->n_steps || view_diff_hidden(app)) /* see diffview.h */
        return false;
    const TensorDiff *d = trace_diff_for_tensor(app->diff, app->trace->steps[step].tensors[tensor].tensor);
    return d != NULL && trace_diff_cell_changed(d, offset);
}

bool view_comparing(const App *app)
{
    const LessonStep *ls = app_lesson_step(app);
    return ls != NULL && ls->compare && app->changed != NULL && app->changes_from_lesson;
}

const char *view_set_by(const App *app, int step, int tensor, size_t offset)
{
    if (app->changed == NULL)
        return NULL;
    const TraceStep *st = &app->changed->steps[step];
    const TraceTensor *tt = &st->tensors[tensor];
    for (int i = app->changes.n - 1; i >= 0; i--) {
        const Experiment *e = &app->changes.items[i];
        if (e->kind != EXP_SET || strcmp(e->tensor, tt->name) != 0 || (e->has_part && e->part != st->part) ||
            e->n_index != tt->tensor->ndim)
            continue;
        size_t flat = 0;
        for (int d = 0; d < e->n_index; d++)
            flat = flat * tt->tensor->shape[d] + e->index[d];
        if (flat == offset)
            return e->spec;
    }
    return NULL;
}

void view_changes_text(const App *app, StrBuf *out)
{
    char spelled[EXPERIMENT_MAX * EXPERIMENT_SPEC_BYTES];
    experiment_describe(&app->changes, spelled, sizeof spelled);
    strbuf_puts(out, spelled);
}

void view_diff_summary(const App *app, StrBuf *out)
{
    if (app->changed == NULL)
        return;
    if (app->step >= app->original->n_steps) { /* the change's own step: nothing to compare it with */
        kv_verdict(app, out); /* first: the fact the step is there for, before a narrow screen cuts the line */
        strbuf_puts(out, "; changed by ");
        view_changes_text(app, out);
        return;
    }
    const TraceStep *step = &app->trace->steps[app->step];
    strbuf_puts(out, view_on_original(app) ? "original (o: changed by " : "changed by ");
    view_changes_text(app, out);
    if (view_diff_hidden(app)) {
        strbuf_puts(out, view_on_original(app) ? "); no marks until answered" : "; no marks until answered");
        return;
    }
    strbuf_puts(out, view_on_original(app) ? "); values that differ:" : "; values that differ:");
    int same = 0, listed = 0; /* tensors with no value changed are counted, not listed */
    for (int t = 0; t < step->n_tensors; t++) {
        if (view_tensor_hidden(app, t))
            continue;
        const TensorDiff *d = trace_diff_for_tensor(app->diff, step->tensors[t].tensor);
        size_t changed = d != NULL ? d->changed : 0;
        if (changed == 0) {
            same++;
            continue;
        }
        strbuf_printf(out, "%s %s %zu/%zu", listed++ > 0 ? "," : "", step->tensors[t].name, changed,
                      step->tensors[t].tensor->size);
    }
    if (same > 0)
        strbuf_printf(out, "%s none in the %s%d %s", listed > 0 ? ";" : "", listed > 0 ? "other " : "", same,
                      same == 1 ? "tensor" : "tensors");
}
