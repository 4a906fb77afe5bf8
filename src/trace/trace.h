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

/* How a step computed one of its output tensors. The inputs are other
 * tensors of the same step (indices into TraceStep.tensors). */
typedef enum OpKind {
    OP_SHOWN,        /* not made here: an input shown again (see made_in) */
    OP_TOKENIZE,     /* ids of the words (no tensor inputs) */
    OP_RAND_NORMAL,  /* drawn by nn.Embedding's normal_ initialisation */
    OP_RAND_UNIFORM, /* drawn by torch.rand */
    OP_GATHER_ROWS,  /* out[s][d] = in0[in1[s]][d]          (embedding, token ids) */
    OP_PICK_ROW,     /* out[d] = in0[row][d] */
    OP_MATVEC,       /* out[j] = sum_k in0[j][k] * in1[k]    (W·x) */
    OP_DOT_ROWS,     /* out[i][j] = sum_k in0[i][k] * in1[j][k], / divisor, masked; in0 may be 1-D (then out is 1-D) */
    OP_MATMUL,       /* out[i][j] = sum_k in0[i][k] * in1[k][j]; in0 may be 1-D (then out is 1-D) */
    OP_SCALE,        /* out = in0 / divisor, masked */
    OP_SOFTMAX,      /* softmax of in0 along its last dimension */
    OP_EINSUM,       /* einsum(equation, in0, in1), / divisor, masked */
    OP_CONCAT_HEADS  /* out[s][h*E + e] = in0[h][s][e] */
} OpKind;

typedef struct Derivation {
    OpKind op;
    int in[2];             /* input tensors in the same step, -1 when unused */
    float divisor;         /* the result is divided by this (1 when not scaled) */
    bool causal;           /* after scaling, entries with key > query are -inf */
    size_t query_row;      /* for a 1-D masked result: the query's position (0-based) */
    size_t row;            /* OP_PICK_ROW: which row */
    const char *equation;  /* OP_EINSUM: the equation */
    bool in1_transposed;   /* OP_EINSUM: in1 enters with its last two dimensions swapped (keysᵀ) */
} Derivation;

/* One tensor as shown in a step. The tensor itself belongs to the Trace. */
typedef struct TraceTensor {
    char name[TRACE_NAME_BYTES];         /* as in the article's code: "query_1", "a1" */
    const Tensor *tensor;                /* owned by the Trace */
    DimKind dims[TENSOR_MAX_DIMS];       /* meaning of each dimension */
    bool is_output;                      /* made by this step (else an input shown again) */
    bool is_integer;                     /* holds whole numbers (token ids) */
    bool loaded;                         /* read from a --weights file instead of drawn (how.op still names the draw it replaced) */
    Derivation how;                      /* how it was made, when is_output */
    int made_in;                         /* index of the step that made it */
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
    int main_tensor;         /* the output the step is about (the UI opens on it) */
} TraceStep;

typedef struct Trace {
    Config config;                   /* copy of what it was built from */
    int n_steps;
    TraceStep steps[TRACE_MAX_STEPS];
    bool fast_kernels;               /* computed by the fast kernels (kernels.h), not the reference ones */
    int threads;                     /* threads the fast kernels used */
    double step_ms[TRACE_MAX_STEPS]; /* milliseconds each step took to compute */
    int n_owned;                     /* tensors owned, freed by trace_free */
    Tensor *owned[64];
} Trace;

/* The bytes the tensors of a trace of cfg take (cfg validated), computed
 * from the sizes alone, before anything is allocated; saturates at
 * ULLONG_MAX instead of overflowing. */
unsigned long long trace_bytes(const Config *cfg);

/* Computes the whole walk-through for cfg (validated first). A
 * configuration whose tensors would take more than its cap
 * (cfg->max_bytes, or LIMIT_DEFAULT_MAX_BYTES) is refused before anything
 * is allocated, with STATUS_DATAERR and a message giving the size needed
 * and the --max-memory value that allows it. Returns a new Trace (free
 * with trace_free) or NULL with err set. */
Trace *trace_build(const Config *cfg, Error *err);

/* Whether cfg's trace runs on the fast kernels: always with
 * KERNELS_FAST, never with KERNELS_REFERENCE, and with KERNELS_AUTO when its
 * products are large enough (over TRACE_FAST_MIN_WORK multiply-adds) that
 * the reference loops would keep the learner waiting. Below that the trace
 * is bit-identical to PyTorch's reference-BLAS numbers. */
bool trace_uses_fast_kernels(const Config *cfg);
#define TRACE_FAST_MIN_WORK (1ull << 24)

/* The threads cfg's fast kernels use: cfg->threads, or by default the CPUs
 * online, at most KERNELS_DEFAULT_MAX_THREADS. */
int trace_threads(const Config *cfg);
struct Weights;

/* As trace_build, with the embedding and weight matrices that weights
 * holds (weights.h; NULL for none) in place of the generator's: the draws
 * still happen, in their order, and a loaded tensor replaces the one
 * drawn, so the tensors not loaded are the same as without weights. The
 * steps that show loaded tensors say so in their formulas. weights must
 * fit cfg (weights_load checks that) and is not kept. */
Trace *trace_build_weights(const Config *cfg, const struct Weights *weights, Error *err);

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
