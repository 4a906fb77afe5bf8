/*
 * trace.h - the article's computation as an ordered list of steps.
 *
 * trace_build runs every step of the walk-through for a Config and keeps
 * every tensor it makes. Each step records what it shows: its tensors (some
 * made by it, some made earlier and shown again as inputs), a title, a
 * formula with shapes and a short explanation. Printers and the UI only read
 * a Trace; they never compute.
 *
 * Part 1 (single_head) follows one token, the focus, with the W·x
 * convention; part 2 (multi_head) uses x·W and einsum, as the article does.
 */
#ifndef ATTN_TRACE_H
#define ATTN_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"
#include "attn_limits.h"
#include "tensor.h"

typedef enum TracePart {
    PART_SINGLE_HEAD,   /* "single_head" */
    PART_MULTI_HEAD     /* "multi_head" */
} TracePart;

/* What a dimension of a shown tensor runs over; the UI labels sequence
 * dimensions with the token words. */
typedef enum DimKind {
    DIM_OTHER,     /* no special meaning */
    DIM_SEQ,       /* tokens of the sentence (s) */
    DIM_MODEL,     /* embedding width (d) */
    DIM_HEAD,      /* heads (h) */
    DIM_HEAD_DIM,  /* width of one head (d_k, the article's e) */
    DIM_VOCAB      /* vocabulary (V) */
} DimKind;

/* One tensor as shown in a step. The tensor itself belongs to the Trace. */
typedef struct TraceTensor {
    char name[TRACE_NAME_BYTES];         /* as in the article's code: "query_1", "a1" */
    const Tensor *tensor;                /* owned by the Trace */
    DimKind dims[TENSOR_MAX_DIMS];       /* meaning of each dimension */
    bool is_output;                      /* made by this step (else an input shown again) */
    bool is_integer;                     /* holds whole numbers (token ids) */
} TraceTensor;

typedef struct TraceStep {
    const char *id;          /* stable id: "scores", "mh_softmax" */
    TracePart part;
    char title[96];          /* one line */
    char formula[160];       /* one line, with shapes, UTF-8 */
    const char *explanation; /* a short paragraph, static text */
    const char *einsum;      /* the einsum equation of the step, or NULL */
    int n_tensors;
    TraceTensor tensors[TRACE_MAX_STEP_TENSORS];
} TraceStep;

typedef struct Trace {
    Config config;                   /* copy of what it was built from */
    int n_steps;
    TraceStep steps[TRACE_MAX_STEPS];
    int n_owned;                     /* tensors owned, freed by trace_free */
    Tensor *owned[64];
} Trace;

/* Computes the whole walk-through for cfg (validated first). Returns a new
 * Trace (free with trace_free) or NULL with err set. */
Trace *trace_build(const Config *cfg, Error *err);

/* Frees the trace and every tensor in it. NULL is a no-op. */
void trace_free(Trace *trace);

/* "single_head" or "multi_head". */
const char *trace_part_name(TracePart part);

/* The index of the step named by id ("softmax") or by its 1-based number
 * ("8"), or -1 with err set (STATUS_USAGE) naming the valid ids. */
int trace_find_step(const Trace *trace, const char *id_or_number, Error *err);

/* The first tensor named name in part, or NULL. */
const TraceTensor *trace_find_tensor(const Trace *trace, TracePart part, const char *name);

#endif
