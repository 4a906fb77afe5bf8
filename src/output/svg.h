/*
 * svg.h - attention as heat maps, in a standalone SVG document (--svg).
 *
 * One step's scores or weights are drawn as one heat map per head: rows
 * are queries, columns keys, each labelled with its token's word. A title
 * gives the step, its formula and the configuration; a colour scale gives
 * the range (0 to 1 for weights, the data's range for scores) and how a
 * masked cell looks. Small maps (up to SVG_MAX_VECTOR_TOKENS tokens) are
 * a rectangle per cell carrying its value as a tooltip; larger ones are
 * embedded as PNG images (png.h) with every k-th token labelled.
 *
 * Like the printers in print.h, it appends to a StrBuf (streamed when the
 * StrBuf has a sink) and only reads a finished Trace.
 */
#ifndef ATTN_SVG_H
#define ATTN_SVG_H

#include <stddef.h>

#include "error.h"
#include "strbuf.h"
#include "trace.h"

/* The SVG limits (SVG_MAX_VECTOR_TOKENS, SVG_LABEL_COLS,
 * SVG_SENTENCE_COLS, SVG_MAX_IMAGE_BYTES, SVG_RASTER_LEVELS) are in
 * attn_limits.h. */

/* The tensor of step that --svg draws: an output whose dimensions are
 * [s, s] or [h, s, s] (or [s] for one token's scores or weights), the
 * softmax output when there are several. Returns its index in
 * step->tensors, or -1 when the step has none. */
int svg_tensor(const TraceStep *step);

/* The step to draw: step (an index, as trace_find_step returns), or
 * mh_softmax when step is -1. Returns the index, or -1 with err set
 * (STATUS_USAGE) naming the steps that can be drawn. */
int svg_pick_step(const Trace *trace, int step, Error *err);

/* Writes the SVG document for step (one that svg_tensor can draw) to out,
 * numbers with precision digits as the text output writes them. When
 * memory runs out, sets out->failed, as any StrBuf append does. */
void svg_write(StrBuf *out, const Trace *trace, int step, int precision);

/* Appends text escaped for XML character data and attribute values (&,
 * <, >, " and '); control characters, invalid UTF-8 and other characters
 * XML 1.0 forbids become '?'. */
void svg_put_text(StrBuf *out, const char *text);

/* Copies text into buf (size bytes), cut to at most max_cols columns
 * (max_cols >= 1) with "…" as the last column when it had to be cut, and
 * to whole characters that fit in buf. */
void svg_shorten(const char *text, size_t max_cols, char *buf, size_t size);

/* The colour of t on the sequential scale: t = 0 (low) is nearly white,
 * t = 1 (high) dark blue; t is clamped to [0, 1]. */
void svg_color(double t, unsigned char rgb[3]);

#endif
