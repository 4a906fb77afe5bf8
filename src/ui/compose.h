/*
 * compose.h - the composer: draws the tracer's state into a Frame.
 *
 * The composer is a pure function of (App, frame size): it reads the App
 * and writes only the frame, so the same state draws the same screen every
 * time, in the terminal, in --dump-screen and in the golden screen tests.
 * Whatever scrolls is derived while composing (scroll.h): a panel from its
 * selection, an overlay from app->overlay_scroll clamped to its text,
 * never stored back. app_handle_key uses compose_overlay_extent to keep
 * app->overlay_scroll inside the text, so scrolling back after the end
 * answers at once.
 */
#ifndef ATTN_COMPOSE_H
#define ATTN_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "frame.h"

typedef struct App App;

/* Draws the current screen into frame (already sized to the terminal; its
 * cells are cleared first). Changes nothing but the frame. */
void app_compose(const App *app, Frame *frame);

/* How the open overlay scrolls on a rows x cols screen: sets *lines to the
 * lines of its text and *window to the lines its box shows, and returns
 * true. Returns false (leaving both alone) when nothing scrolls there: no
 * overlay, the step list or a quiz (which scroll on their own terms), or a
 * screen too small to show any overlay. */
bool compose_overlay_extent(const App *app, int rows, int cols, int *lines, int *window);

/* Rows (its box included) the open quiz's pane wants on a screen cols
 * wide: its question, choices, feedback and answer line, wrapped, in the
 * tallest state the quiz can reach (so the pane keeps its height while
 * the learner answers). */
int compose_quiz_rows(const App *app, int cols);

/* The formula as a "before" quiz shows it, into buf (size bytes): its
 * right-hand side (from " → ") becomes "→ ?", and a mask's "after token
 * N" (which says where the -inf entries go) is left out. Returns buf. The
 * tracer's formula line and --line-mode both use it. */
const char *compose_formula_before(const char *formula, char *buf, size_t size);

/* Lines of the open quiz's text as it is now, wrapped for a screen cols
 * wide (no box): what a cramped pane must still show whole. */
int compose_quiz_lines_now(const App *app, int cols);

#endif
