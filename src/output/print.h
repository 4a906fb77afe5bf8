/*
 * print.h - the trace as plain text (--print) and as JSON (--json).
 *
 * Both append to a StrBuf; the caller writes it out. Neither computes:
 * they read a finished Trace.
 */
#ifndef ATTN_PRINT_H
#define ATTN_PRINT_H

#include <stddef.h>

#include "lesson.h"
#include "strbuf.h"
#include "trace.h"

/* Line width the text output wraps at, as PyTorch's default linewidth. */
#define PRINT_LINE_WIDTH 80
/* Tensors with more values than this are summarized (PyTorch's threshold). */
#define PRINT_SUMMARY_THRESHOLD 1000
/* Values kept at each end of a summarized dimension (PyTorch's edgeitems). */
#define PRINT_EDGE_ITEMS 3
/* Widest token label in the text output, in columns; longer ones are cut. */
#define PRINT_LABEL_WIDTH 12

typedef struct PrintOptions {
    int precision;        /* digits after the point; NUMFMT_DEFAULT_PRECISION by default */
    int only_step;        /* index of the one step to print, or -1 for all */
    const Lesson *lesson; /* the lesson walked (its steps, texts and quizzes), or NULL */
    bool notes;           /* the teacher's copy: presenter notes, and each `=` answer's expression */
    bool no_answers;      /* the student's handout: questions without answers or explanations */
} PrintOptions;

/* The walk-through as readable text: a header with the configuration, then
 * per step its number, id, title, formula, explanation and tensors (name,
 * shape, values in aligned columns, token words beside sequence rows;
 * large tensors summarized with "..." as PyTorch does). With a lesson, a
 * handout: the lesson's title, its steps in its order with its texts, and
 * at the end its questions with their answers (presenter notes are left
 * out, unless opts->notes; opts->no_answers leaves the answers out). */
void print_trace_text(StrBuf *out, const Trace *trace, const PrintOptions *opts);

/* One tensor as the text output shows it, each line starting with indent. */
void print_tensor_text(StrBuf *out, const TraceTensor *tt, const Config *cfg, int precision, const char *indent);

/* A lesson's text (a LessonStep's, with its markup) as plain paragraphs:
 * the markup marks (** and `) removed, paragraphs rewrapped at
 * PRINT_LINE_WIDTH with a two-space indent, "- " bullets kept. */
void print_lesson_text(StrBuf *out, const char *text);

/* The JSON document described in docs/json.md ("format": "attn-trace/1"). */
void print_trace_json(StrBuf *out, const Trace *trace, const PrintOptions *opts);

#endif
