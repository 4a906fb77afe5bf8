/*
 * lessonview.h - a model lesson's steps that show their own trace.
 *
 * A lesson with `model:` may give a step its own model, layer or
 * sentence (lesson.h, LessonStep.trace; the lesson builds and owns those
 * traces). Arriving at such a step puts its trace on screen in place of
 * the lesson's own (app->original); leaving it puts the lesson's back.
 * With `compare: yes` the composer shows the focused tensor of both, each
 * labelled by its model and layer, and no value is marked as changed.
 * Only state and questions here; the drawing is compose.c's.
 */
#ifndef ATTN_LESSONVIEW_H
#define ATTN_LESSONVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

typedef struct App App;

/* Puts the lesson's own trace back on screen (and its formats), when a
 * step's own trace is there. app_go calls it before it follows the
 * walked step's experiment. */
void app_lesson_trace_leave(App *app);

/* Puts the walked step's own trace on screen, when it has one: the
 * learner's experiment changes are undone first (they change the lesson's
 * trace), app->step becomes the step's index in that trace, and the
 * step's selection starts over when it last belonged to another trace.
 * Called by app_go after app_lesson_trace_leave. */
void app_lesson_trace_follow(App *app);

/* o on a compare view of a step's own trace: where the screen has room
 * for one panel only (both_shown false), shows the lesson trace's
 * instead of the step's (or back); either way says so in a note.
 * app_lesson_trace_follow resets it. */
void app_lesson_trace_other_side(App *app, bool both_shown);

/* True while a step's own trace is on screen. */
bool view_own_trace(const App *app);

/* True when the step on screen shows its own trace with `compare: yes`
 * and the lesson's trace has a tensor of the focused one's name there. */
bool view_comparing_own(const App *app);

/* The lesson trace's side of that compare view: the step's index in it
 * (*step) and its tensor named as the focused one (*tensor). False when
 * there is none. */
bool view_own_compare_base(const App *app, int *step, int *tensor);

/* The label of the trace on screen in a model lesson ("tiny-untrained,
 * layer 1"), or of the lesson's own trace when base; "" otherwise. */
void view_trace_label(const App *app, bool base, char *buf, size_t size);

#endif
