/*
 * app.h - what the terminal backend needs from the tracer.
 *
 * The backend (tui.c) owns the terminal: it starts and stops curses, reads
 * keys, tracks the size, and paints Frames. Everything else is here, pure:
 * app_compose draws the current state into a frame of any size, and
 * app_handle_key changes the state. The headless mode (--keys,
 * --dump-screen) drives the same two functions without a terminal.
 */
#ifndef ATTN_APP_H
#define ATTN_APP_H

#include <stdbool.h>

#include "frame.h"
#include "keys.h"

typedef struct App App;

/* Draws the current screen into frame (already sized to the terminal).
 * Its only change to app: an overlay's scroll is clamped to its text. */
void app_compose(App *app, Frame *frame);

/* Applies one key. Returns false when the user asked to quit. rows and
 * cols are the current terminal size (page movements depend on it). */
bool app_handle_key(App *app, KeyCode key, int rows, int cols);

/* Milliseconds until app_tick wants to run (autoplay), or -1 to wait for
 * a key however long it takes. */
int app_tick_ms(const App *app);

/* Advances autoplay by one move (the selection, or the step). */
void app_tick(App *app, int rows, int cols);

/* The trace step on screen (an index into the trace's steps). */
int app_step(const App *app);

/* Options the backend reads. */
typedef struct TuiOptions {
    bool no_color;   /* --no-color or NO_COLOR set: attributes and glyphs only */
    bool ascii;      /* --ascii or a non-UTF-8 locale: no box drawing */
    bool presenter;  /* --theme presenter: high contrast for a projector */
} TuiOptions;

/* Runs the interactive UI on the terminal until the user quits. Returns
 * the exit status (0, or STATUS_FAILURE with err set when the terminal
 * could not be set up). Restores the terminal on every exit path,
 * including SIGINT, SIGTERM, SIGHUP and crash signals. */
int tui_run(App *app, const TuiOptions *opts, Error *err);

/* The frame benchmark (--bench-frames): a curses screen of rows x cols
 * whose output goes to /dev/null (terminal type $TERM when terminfo knows
 * it, else xterm-256color). Paints the first frame, then for each key
 * applies it, composes the frame and paints it, recording in frame_ms[i]
 * the milliseconds from the key to the painted frame (frame_ms[0] is the
 * first frame) and in frame_step[i] the step it showed. Both arrays hold
 * n_keys + 1 entries. Stops early when a key quits. Returns the number of
 * frames timed, or -1 with err set when curses cannot start. */
long tui_bench_frames(App *app, const TuiOptions *opts, const KeyCode *keys, size_t n_keys, int rows, int cols,
                      double *frame_ms, int *frame_step, Error *err);

#endif
