/*
 * diffview.h - experiments in the tracer: a changed trace kept beside the
 * original, and what differs between them.
 *
 * The learner types a change (x, as the flags spell it: no-scale,
 * zero-head=1, set=NAME[i,j]=VALUE; experiment.h parses it), or a lesson
 * step names one (`experiment:`). The App then holds two traces: the
 * original it was given and the changed one it builds and owns. One of
 * them is on screen (app->trace); o swaps them, X drops the changes. The
 * composer marks every value that differs from the other trace
 * (ROLE_CHANGED, and a mark after the number), the status area counts
 * them per tensor, and the inspector writes out both computations. No
 * drawing here, only the state and the questions the composer asks.
 */
#ifndef ATTN_DIFFVIEW_H
#define ATTN_DIFFVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "strbuf.h"

typedef struct App App;

/* Parses text (one change, or several separated by commas or spaces, as
 * the flags spell them) and adds it to the changes in force, then builds
 * the changed trace and counts what differs. Returns true when it did;
 * false, with the reason in app->note (note_is_error) and nothing
 * changed, when the text does not parse, does not fit the trace (a head
 * that does not exist, an unknown tensor) or the build fails. */
bool app_experiment_add(App *app, const char *text);

/* Undoes every change: only the original trace is left, on screen. */
void app_experiment_reset(App *app);

/* Puts the other trace on screen (the original, or back to the changed
 * one); nothing when nothing is changed. */
void app_experiment_toggle(App *app);

/* Follows the walked step's `experiment:` (lessons): arriving at such a
 * step puts its changes in force, changed trace on screen; leaving it for
 * a step without one undoes them. The learner's own changes (x) stay
 * across steps that name none. Called by app_go. */
void app_experiment_follow_lesson(App *app);

/* Frees what the App owns (the changed trace). The App may be used again
 * only after app_init. NULL is a no-op. */
void app_release(App *app);

/* True while what differs must not show: changes are in force and the
 * open quiz, not yet answered, revealed or skipped, has a `=changed(...)`
 * answer, which the marks and counts would give away. view_value_changed
 * is then false for every value (no marks, no "was" value, one
 * computation in the inspector) and view_diff_summary says the counts
 * are hidden. */
bool view_diff_hidden(const App *app);

/* True when changes are in force (a changed trace exists). */
bool view_has_changes(const App *app);

/* True when the trace on screen is the original while changes are in
 * force (o). */
bool view_on_original(const App *app);

/* True when value `offset` of tensor `tensor` of step `step` differs
 * between the two traces (false when nothing is changed, on a step only
 * the changed trace has, and while view_diff_hidden). */
bool view_value_changed(const App *app, int step, int tensor, size_t offset);

/* The compare view of the step on screen: its lesson step says
 * `compare: yes` and its changes are in force. */
bool view_comparing(const App *app);

/* The set= change that wrote value `offset` of tensor `tensor` of step
 * `step` ("set=a1[2]=0.5"), or NULL when none did: the changed trace
 * holds the value set, while its recorded arithmetic is the original's. */
const char *view_set_by(const App *app, int step, int tensor, size_t offset);

/* Appends how the changes read ("no-scale, zero-head=1") to out. */
void view_changes_text(const App *app, StrBuf *out);

/* Appends the status area's line about the changes to out: which trace is
 * on screen, and per tensor of the step on screen how many of its values
 * differ ("a1 5/5"), or that they are hidden (view_diff_hidden); on a
 * step only the changed trace has (the KV-cache decode), whether
 * kv_output equals the full attention's row bit for bit. */
void view_diff_summary(const App *app, StrBuf *out);

#endif
