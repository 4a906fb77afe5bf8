/*
 * app.h - what the terminal backend needs from the tracer.
 *
 * The backend (src/tui/tui.c, declared in tui.h) owns the terminal: it
 * starts and stops curses, reads keys, tracks the size, and paints Frames.
 * Everything else is here, pure: app_compose (compose.h) draws the
 * current state into a frame of any size, and app_handle_key (input.c)
 * changes the state; the autoplay clock and the step on screen are view.c.
 * The headless mode (--keys, --dump-screen) drives the same functions
 * without a terminal.
 */
#ifndef ATTN_APP_H
#define ATTN_APP_H

#include <stdbool.h>

#include "compose.h"
#include "frame.h"
#include "keys.h"

typedef struct App App;

/* Applies one key. Returns false when the user asked to quit. rows and
 * cols are the current terminal size: page movements depend on it, and an
 * open overlay's scroll is kept inside its text at that size. */
bool app_handle_key(App *app, KeyCode key, int rows, int cols);

/* Milliseconds until app_tick wants to run (autoplay), or -1 to wait for
 * a key however long it takes. */
int app_tick_ms(const App *app);

/* Advances autoplay by one move (the selection, or the step). */
void app_tick(App *app, int rows, int cols);

/* The trace step on screen (an index into the trace's steps). */
int app_step(const App *app);

#endif
