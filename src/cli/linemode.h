/*
 * linemode.h - --line-mode: the trace read as plain lines, driven by
 * typed commands (next, back, step ID, show TENSOR, row N, explain
 * TENSOR[i][j], answer, hint, reveal, skip, help, quit), for screen
 * readers and pipes. It walks a lesson as the tracer does: the lesson's
 * text, its quizzes asked at the same points ("before" ones keep the
 * step's outputs hidden until answered), and its progress kept through
 * the App's progress callback. It never writes an escape sequence:
 * everything it prints is the trace's and the lesson's text and numbers,
 * with control characters already refused by the input checks.
 */
#ifndef ATTN_LINEMODE_H
#define ATTN_LINEMODE_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "view.h"

/* Reads commands from in, one a line, until "quit" or the end of in, and
 * writes the answers to out: first where app is (its step, and the quiz
 * app_go opened there, if any), then one answer per command, each command
 * echoed after a "> " prompt when echo is set (a pipe, so that the
 * transcript reads as a dialogue). app (set up by app_init, perhaps
 * resumed, with on_progress set when progress is kept) is changed as the
 * tracer's keys change it, and on_progress is called after each change
 * of step or quiz. Numbers are written with app->options.precision
 * digits. Returns false with err set only when out cannot be written. */
bool line_mode_run(App *app, bool echo, FILE *in, FILE *out, Error *err);

#endif
