/*
 * linemode.h - --line-mode: the trace read as plain lines, driven by
 * typed commands (next, back, step ID, show TENSOR, row N, explain
 * TENSOR[i][j], help, quit), for screen readers and pipes. It never
 * writes an escape sequence: everything it prints is the trace's text and
 * numbers, with control characters already refused by the input checks.
 */
#ifndef ATTN_LINEMODE_H
#define ATTN_LINEMODE_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "trace.h"

/* Reads commands from in, one a line, until "quit" or the end of in, and
 * writes the answers to out: first the step first_step (0-based) opens
 * on, then one answer per command, each command echoed after a "> "
 * prompt when echo is set (a pipe, so that the transcript reads as a
 * dialogue). Numbers are written with precision digits. Returns false with
 * err set only when out cannot be written. */
bool line_mode_run(const Trace *trace, int first_step, int precision, bool echo, FILE *in, FILE *out, Error *err);

#endif
