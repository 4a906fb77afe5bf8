/*
 * weights.h - the embedding and weight matrices read from .npy files
 * (--weights DIR) instead of drawn by the random generator.
 *
 * The files have the names --export-npy writes, so an exported directory
 * reads straight back:
 *
 *   single_head.embedding.npy                           [V, d]
 *   single_head.w_key.npy, .w_query.npy, .w_value.npy   [d, d]
 *   multi_head.w_query.npy, .w_key.npy, .w_value.npy    [h, d, d_k]
 *   multi_head.w_output.npy                             [d, d]
 *
 * Any of them may be missing: those are drawn as usual, and in the usual
 * order, so the others come out as they would without --weights. Part 2
 * re-embeds with the same table as part 1, loaded or drawn. Other files in
 * the directory are ignored.
 */
#ifndef ATTN_WEIGHTS_H
#define ATTN_WEIGHTS_H

#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "npy.h"
#include "tensor.h"

/* The tensors that can be loaded, in the order the trace draws them. */
typedef enum WeightId {
    WEIGHT_EMBEDDING, /* single_head.embedding [V, d]; part 2 uses it too */
    WEIGHT_KEY,       /* single_head.w_key [d, d] */
    WEIGHT_QUERY,     /* single_head.w_query [d, d] */
    WEIGHT_VALUE,     /* single_head.w_value [d, d] */
    WEIGHT_MH_QUERY,  /* multi_head.w_query [h, d, d_k] */
    WEIGHT_MH_KEY,    /* multi_head.w_key [h, d, d_k] */
    WEIGHT_MH_VALUE,  /* multi_head.w_value [h, d, d_k] */
    WEIGHT_MH_OUTPUT, /* multi_head.w_output [d, d] */
    WEIGHT_COUNT
} WeightId;

/* Which sizes the command line fixed, so the files may not change them. */
enum {
    WEIGHTS_FIXED_VOCAB = 1,   /* --vocab-size */
    WEIGHTS_FIXED_D_MODEL = 2, /* --d-model */
    WEIGHTS_FIXED_HEADS = 4    /* --heads */
};

/* WEIGHTS_SHOWN_DIR_BYTES (the directory's name as formulas show it) is in attn_limits.h. */

typedef struct Weights {
    bool present[WEIGHT_COUNT];              /* read from a file (else drawn) */
    NpyArray arrays[WEIGHT_COUNT];           /* float32 values where present; owned */
    char shown_dir[WEIGHTS_SHOWN_DIR_BYTES]; /* the directory, printable and short ("…" + its end when long) */
} Weights;

/* The tensor's name as the trace shows it: "embedding", "w_key", ... */
const char *weights_tensor_name(WeightId id);

/* The file's name in the directory: "single_head.embedding.npy", ... */
const char *weights_file_name(WeightId id);

/* Reads the weights in dir into weights (which it initialises; free with
 * weights_free) and fits cfg to them. Sizes not fixed by the command line
 * (fixed: WEIGHTS_FIXED_*) come from the files: V and d from the
 * embedding, d from any of the others, h from the multi-head projections;
 * then cfg is validated and every file is checked against it. Nothing but
 * the headers is read until the sizes fit and the memory guard
 * (the bytes trace_need reports for the fitted cfg, plus the files,
 * against cfg->max_bytes) allows them. trace_need is the trace's own
 * count (trace_bytes in trace.h); the caller passes it, so this module
 * does not depend on the one that uses it.
 * Errors name the file: STATUS_NOINPUT when dir or a file cannot be read
 * or no known file is there (the message lists the names);
 * STATUS_DATAERR for a file that is not float32 .npy (float64 files are
 * told to convert with arr.astype(np.float32)), a rank or shape that does
 * not fit (the message gives the shape found and the one needed), a token
 * id not below the embedding's rows, sizes that do not fit together, or
 * the memory guard. */
/* How many bytes a trace of cfg's sizes keeps (trace_bytes). */
typedef unsigned long long (*WeightsTraceNeed)(const Config *cfg);

bool weights_load(const char *dir, unsigned fixed, WeightsTraceNeed trace_need, Config *cfg, Weights *weights,
                  Error *err);

/* Frees what weights holds and clears it. NULL is a no-op. */
void weights_free(Weights *weights);

/* True when weights (which may be NULL) holds the tensor id. */
bool weights_has(const Weights *weights, WeightId id);

/* The trace's hook: when weights (which may be NULL) holds id, copies its
 * values over t (just drawn, of the shape checked by weights_load).
 * Fails (STATUS_DATAERR) only if the shapes differ. */
bool weights_apply(const Weights *weights, WeightId id, Tensor *t, Error *err);

/* A step's formula that says where the tensors first..last (a run of
 * WeightId) come from, followed by `after` (the shapes): "w_key, w_query,
 * w_value = torch.rand(16, 16)" + after when all are drawn (drawn_as is
 * "torch.rand(16, 16)"), else e.g. "w_key, w_value loaded from DIR,
 * w_query = torch.rand(16, 16)" + after. Written into buf, cut on a whole
 * UTF-8 character when it does not fit, always NUL-terminated. */
void weights_describe(const Weights *weights, WeightId first, WeightId last, const char *drawn_as, const char *after,
                      char *buf, size_t size);

#endif
