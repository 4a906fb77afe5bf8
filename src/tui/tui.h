/*
 * tui.h - the terminal backend: the only module that includes curses.
 *
 * It starts and stops curses, reads keys, tracks the terminal's size and
 * paints the Frames that the composer (app.h) draws. It sits above the
 * screen layer (src/ui) and below the command line (src/cli).
 */
#ifndef ATTN_TUI_H
#define ATTN_TUI_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "error.h"
#include "frame.h"
#include "strbuf.h"

/* Options the backend reads. */
typedef struct TuiOptions {
    bool no_color;   /* --no-color or NO_COLOR set: attributes and glyphs only */
    bool ascii;      /* --ascii or a non-UTF-8 locale: no box drawing */
    bool presenter;  /* --theme presenter: high contrast for a projector */
    bool colorblind; /* --theme colorblind: blue-orange heat, every distinction also by weight, line or reverse */
} TuiOptions;

/* What a cell's look shows besides its colours, as bits. */
#define TUI_MARK_BOLD 1u
#define TUI_MARK_UNDERLINE 2u
#define TUI_MARK_REVERSE 4u
#define TUI_MARK_DIM 8u

/* The marks (TUI_MARK_* bits) cell gets in the theme opts names, on a
 * terminal of `colors` colours (256, 8, or 0 for none). Needs no
 * terminal. */
unsigned tui_cell_marks(const Cell *cell, const TuiOptions *opts, int colors);

/* Appends to out the marks of every cell of frame, as tui_cell_marks
 * gives them: one line per row, one character per cell, '.' for none,
 * else the hex digit of the bits (1 bold, 2 underline, 4 reverse, 8
 * dim). For golden screens: the colours change with the terminal, these
 * marks are what every learner gets. */
void tui_frame_marks(const Frame *frame, const TuiOptions *opts, int colors, StrBuf *out);

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
