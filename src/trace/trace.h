/*
 * trace.h - the article's computation as an ordered list of steps.
 *
 * trace_build runs every step of the walk-through for a Config and keeps
 * every tensor it makes. Each step records what it shows: its tensors (some
 * made by it, some made earlier and shown again as inputs), a title, a
 * formula with shapes and a short explanation. Printers and the UI only read
 * a Trace; they never compute.
 *
 * The steps are one table (TraceStepDef, trace_step_def): each row names
 * a step, its part, its text, the tensors it shows with what each of their
 * dimensions runs over, and the function that computes it. Everything else
 * that needs the steps (lessons, --step, --list-steps, the completion, the
 * tests) reads that table; docs/architecture.md ("How to add a step") says how to add a row.
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
#include "rng.h"
#include "tensor.h"

typedef enum TracePart {
    PART_SINGLE_HEAD, /* "single_head" */
    PART_MULTI_HEAD,  /* "multi_head" */
    PART_MODEL        /* "model": a GPT-2 checkpoint's block (--model); a model trace is this part alone */
} TracePart;

/* What a dimension of a shown tensor runs over; the UI labels sequence
 * dimensions with the token words. */
typedef enum DimKind {
    DIM_OTHER,    /* no special meaning */
    DIM_SEQ,      /* tokens of the sentence (s) */
    DIM_MODEL,    /* embedding width (d) */
    DIM_HEAD,     /* heads (h) */
    DIM_HEAD_DIM, /* width of one head (d_k, the article's e) */
    DIM_VOCAB     /* vocabulary (V) */
} DimKind;

/* How a step computed one of its output tensors. The inputs are other
 * tensors of the same step (indices into TraceStep.tensors). */
#define TRACE_MAX_OP_INPUTS 5 /* OP_LAYERNORM's x, mean, rstd, gamma, beta; the other ops use one or two */
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
    OP_CONCAT_HEADS, /* out[s][h*E + e] = in0[h][s][e] */
    OP_ADD,          /* out = in0 + in1, element by element (same shapes) */
    OP_SPLIT_QKV,    /* out[h][s][e] = in0[s][part*H*E + h*E + e]: one third of a fused qkv [s, 3d], cut into heads */
    OP_LAYERNORM,    /* out[s][j] = fmaf(fmaf(in0[s][j], rstd, -rstd * mean), gamma[j], beta[j]), with mean = in1[s],
                        rstd = in2[s], gamma = in3, beta = in4 (nn.h's layernorm_forward) */
    OP_BPE_BYTE,     /* a byte of the text, shown with the byte-level character GPT-2's BPE reads it as */
    OP_BPE_WORD,     /* a word of the pre-split: its merges, replayed (Trace.bpe_words) */
    OP_ADDMM,        /* out[i][j] = in2[j] + sum_k in0[i][k] * in1[k][j]: bias first, then each product in k order
                        (torch.addmm, nn.h's addmm_forward) */
    OP_STAGE         /* computed as the step's formula says, by an operation the inspector does not spell out */
} OpKind;

typedef struct Derivation {
    OpKind op;
    int in[TRACE_MAX_OP_INPUTS]; /* input tensors in the same step, -1 when unused */
    float divisor;               /* the result is divided by this (1 when not scaled) */
    bool causal;                 /* after scaling, entries with key > query are -inf */
    size_t query_row;            /* for a 1-D masked result: the query's position (0-based) */
    size_t row;                  /* OP_PICK_ROW: which row */
    const char *equation;        /* OP_EINSUM: the equation */
    bool in1_transposed;         /* OP_EINSUM: in1 enters with its last two dimensions swapped (keysᵀ) */
    size_t qkv_part;             /* OP_SPLIT_QKV: the third of qkv, 0 queries, 1 keys, 2 values */
} Derivation;

/* One tensor as shown in a step. The tensor itself belongs to the Trace. */
typedef struct TraceTensor {
    char name[TRACE_NAME_BYTES];   /* as in the article's code: "query_1", "a1" */
    const Tensor *tensor;          /* owned by the Trace */
    DimKind dims[TENSOR_MAX_DIMS]; /* meaning of each dimension */
    bool is_output;                /* made by this step (else an input shown again) */
    bool is_integer;               /* holds whole numbers (token ids) */
    bool loaded;    /* read from a --weights file instead of drawn (how.op still names the draw it replaced) */
    Derivation how; /* how it was made, when is_output */
    int made_in;    /* index of the step that made it */
} TraceTensor;

/* ------------------------------------------------------------------------
 * The step table
 * ---------------------------------------------------------------------- */

/* The state of a trace being built (trace.c): the trace, the step being
 * made, the generator. A step's build function gets it. */
typedef struct TraceBuild TraceBuild;

/* Computes one step: reads earlier tensors of its part by name, makes its
 * outputs and fills the step's formula. Returns false with err set when an
 * allocation or a loaded tensor fails. */
typedef bool (*TraceStepBuildFn)(TraceBuild *build, Error *err);

/* One tensor a step shows, as its table row declares it. */
typedef struct TraceTensorDef {
    const char *name;              /* "keys"; '#' is the focus token's number ("key_#": "key_1"); NULL ends the list */
    int ndim;                      /* dimensions the tensor has */
    DimKind dims[TENSOR_MAX_DIMS]; /* what each of them runs over */
    bool is_output;                /* made by the step; else a tensor of the part made earlier, shown again */
    bool is_integer;               /* holds whole numbers (token ids) */
} TraceTensorDef;

/* What a step's function consults besides the tensors it reads: the
 * parts of the Config a change can alter (TraceStepDef.uses). A rebuild
 * (trace_rebuild) runs a step again when one of them differs between the
 * two traces, or when a tensor it reads changed; the build functions
 * assert that their row declares what they consult. */
typedef enum TraceUses {
    TRACE_USES_TOKENS = 1u << 0,    /* the token ids or words (swap-tokens) */
    TRACE_USES_MASK = 1u << 1,      /* whether the trace is causal (causal, no-mask) */
    TRACE_USES_DIVISOR = 1u << 2,   /* the divisor of the scores (no-scale, scale=N) */
    TRACE_USES_HEADS = 1u << 3,     /* the heads zeroed (zero-head) */
    TRACE_USES_POSITIONS = 1u << 4, /* whether position embeddings are kept (no-positions) */
    TRACE_USES_KV = 1u << 5         /* the token a KV cache decodes (kv-cache) */
} TraceUses;

/* Room for a row's unshown inputs (TraceStepDef.reads). */
#define TRACE_MAX_STEP_READS 6

/* One row of the step table. */
typedef struct TraceStepDef {
    const char *id;          /* stable id: "scores", "mh_softmax"; unique in the table */
    TracePart part;          /* the part of the walk it belongs to */
    const char *title;       /* one line, true of every trace (--list-steps); the build may refine it */
    const char *explanation; /* a short paragraph, static text; the build may choose another for its config */
    const char *einsum;      /* the step's einsum equation, or NULL */
    const char *torch;       /* the article's PyTorch code for it, one line ('#' as in names), or NULL */
    const char *main;        /* the output the UI opens on ('#' as in names), or NULL for the last output */
    bool (*applies)(const Config *cfg); /* whether cfg's trace has the step; NULL: every trace has it */
    bool default_picture;               /* the step --svg draws when no step is named (the trace's last such step) */
    bool experiment; /* a step only a change adds (experiment.h's kv-cache), after every part; not in --list-steps */
    unsigned uses;   /* TraceUses: what of the Config besides its tensors the build consults */
    const char *reads[TRACE_MAX_STEP_READS];        /* tensors of the part it reads but does not show; NULL ends */
    TraceStepBuildFn build;                         /* computes it */
    TraceTensorDef tensors[TRACE_MAX_STEP_TENSORS]; /* what it shows, in order; unused entries have a NULL name */
} TraceStepDef;

/* The steps the table defines (whether or not a given trace has them). */
size_t trace_step_def_count(void);

/* Row i of the table (0-based, in the order a trace makes them), or NULL
 * when i >= trace_step_def_count(). The row is static. */
const TraceStepDef *trace_step_def(size_t i);

/* The rows of the article's two parts, which come first in the table
 * (the model's rows follow them): what lessons walk and --list-steps lists
 * without --model. */
size_t trace_article_step_count(void);

/* The row whose id is id, or NULL. */
const TraceStepDef *trace_step_def_find(const char *id);

/* The ids of the table's rows, in order: trace_step_def_count() strings,
 * static, the same array on every call (safe from any thread). */
const char *const *trace_step_ids(void);

/* How many tensors the row shows (its entries before the first NULL name),
 * at most TRACE_MAX_STEP_TENSORS. */
int trace_step_def_tensors(const TraceStepDef *def);

/* ------------------------------------------------------------------------
 * A trace
 * ---------------------------------------------------------------------- */

/* Room for a step's PyTorch line (TraceStep.torch), with '#' expanded. */
#define TRACE_TORCH_BYTES 240

typedef struct TraceStep {
    const char *id;          /* stable id: "scores", "mh_softmax" (the table's) */
    const TraceStepDef *def; /* its row of the table */
    TracePart part;
    char title[96];                /* one line */
    char formula[160];             /* one line, with shapes, UTF-8 */
    const char *explanation;       /* a short paragraph, static text */
    const char *einsum;            /* the einsum equation of the step, or NULL */
    char torch[TRACE_TORCH_BYTES]; /* the row's PyTorch line, '#' replaced by the focus token's number; "" for none */
    int n_tensors;
    TraceTensor tensors[TRACE_MAX_STEP_TENSORS];
    int main_tensor; /* the output the step is about (the UI opens on it) */
} TraceStep;

/* A tensor the Trace owns, under its name in its part. Steps find their
 * inputs here, by name; the tensors a step shows point here. */
typedef struct TraceValue {
    Tensor *tensor; /* owned, maybe with other traces (holders); never written once its step ended */
    int *holders;   /* the traces holding tensor (a count shared by them, owned by them all); NULL: this one */
    TracePart part; /* the part it belongs to */
    char name[TRACE_NAME_BYTES]; /* "keys", "key_1", unique within the part; "" for an unnamed one */
} TraceValue;

/* The most likely next tokens a model trace ends with, most likely first. */
#define TRACE_TOP_K 5
/* Bytes kept of a next token: its bytes, and their text shown safely. */
#define TRACE_TOKEN_BYTES 64
#define TRACE_TOKEN_TEXT_BYTES (4 * TRACE_TOKEN_BYTES + 8)
/* Room for the next-token step's explanation (its top 5, then the paragraph). */
#define TRACE_NEXT_EXPLAIN_BYTES 2048

/* One of a model trace's most likely next tokens. */
typedef struct TraceNextToken {
    long id;                                /* its id in the vocabulary */
    float probability;                      /* next_token_probs[id] */
    bool has_text;                          /* the checkpoint's vocab.json names it (else bytes and text are empty) */
    unsigned char bytes[TRACE_TOKEN_BYTES]; /* the bytes it stands for (" the"), the first TRACE_TOKEN_BYTES */
    size_t n_bytes;                         /* how many of them bytes holds */
    char text[TRACE_TOKEN_TEXT_BYTES];      /* those bytes as trace_token_display writes them */
} TraceNextToken;

typedef struct Trace {
    Config config; /* copy of what it was built from */
    int n_steps;
    TraceStep steps[TRACE_MAX_STEPS];
    bool fast_kernels;                  /* computed by the fused (fast) kernels (kernels.h) */
    bool exact_kernels;                 /* computed by the exact kernels (kernels_gemm_exact): the reference's bits */
    int threads;                        /* threads the fast or exact kernels used */
    double step_ms[TRACE_MAX_STEPS];    /* milliseconds each step took to compute */
    int n_owned;                        /* tensors owned, freed by trace_free */
    int step_owned[TRACE_MAX_STEPS];    /* the index in owned of the first tensor step i made (its last: i+1's - 1) */
    Rng *rng_after;                     /* the generator after each step (n_steps states), owned; NULL when not kept */
    TraceValue owned[TRACE_MAX_VALUES]; /* every tensor made, by part and name */
    int n_next_tokens;                  /* a model trace: TRACE_TOP_K; else 0 */
    TraceNextToken next_tokens[TRACE_TOP_K];
    char next_explanation[TRACE_NEXT_EXPLAIN_BYTES]; /* the gpt2_next_token step's explanation points here */
    char **bpe_words;      /* a model trace of a sentence: each word's merges replayed, as lines of text; owned */
    size_t n_bpe_words;    /* entries of bpe_words (the gpt2_bpe step's word_pieces) */
    char *bpe_explanation; /* the gpt2_bpe step's explanation (it points here); owned */
} Trace;

/* Writes bytes[0..len) as text that is safe to show on a terminal or in
 * JSON, into out (size >= 8 bytes, NUL-terminated): each valid UTF-8
 * character from U+0020 on (except U+007F..U+009F) as it is, a backslash
 * as \\, newline, tab and carriage return as \n \t \r, and any other
 * byte (a control, a byte of a broken or partial multi-byte character) as
 * \xNN. When it does not fit, it ends in "..." after the last whole
 * character that does. */
void trace_token_display(const unsigned char *bytes, size_t len, char *out, size_t size);

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

/* Whether cfg's trace runs on the fused (fast) kernels: only with
 * KERNELS_FAST. KERNELS_AUTO takes the exact kernels at every size (their
 * numbers are the reference's, bit for bit) and KERNELS_REFERENCE the plain
 * loops. */
bool trace_uses_fast_kernels(const Config *cfg);

/* Whether cfg's trace runs on the exact vectorized kernels: with
 * KERNELS_AUTO, the default. */
bool trace_uses_exact_kernels(const Config *cfg);

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

/* As trace_build_weights(cfg, weights), reusing what it can of `from`: a
 * trace built by these functions from a config that differs from cfg at
 * most in its changes (cfg->experiments), the causal flag and the order of
 * the tokens (experiment_config's differences), with the same weights.
 * A step whose row (its tensors, .reads and .uses) shows that nothing it
 * depends on differs is not run again: the new trace shares its tensors
 * with from. A step that runs again and makes a tensor bit for bit equal
 * to from's shares from's instead of keeping its own. The result is the
 * full build's, bit for bit, tensor for tensor. A from of other sizes, a
 * model trace or NULL gives a full build (model traces: see
 * docs/architecture.md, "Recomputing only what a change reaches"). from
 * is not changed, except that its tensors count one more holder each time
 * they are shared; either trace
 * may be freed first. Returns a new Trace or NULL with err set. Traces
 * that share tensors are built and freed on one thread. */
Trace *trace_build_from(const Config *cfg, const struct Weights *weights, const Trace *from, Error *err);

/* Frees the trace and every tensor it alone holds (a tensor shared with
 * other traces is freed with the last of them). NULL is a no-op. */
void trace_free(Trace *trace);

/* "single_head", "multi_head" or "model". */
const char *trace_part_name(TracePart part);

/* The index of the step named by id ("softmax") or by its 1-based number
 * ("8"), or -1 with err set (STATUS_USAGE) naming the valid ids. */
int trace_find_step(const Trace *trace, const char *id_or_number, Error *err);

/* The first tensor named name in part, or NULL. */
const TraceTensor *trace_find_tensor(const Trace *trace, TracePart part, const char *name);

/* Adds tensor t (owned by the trace, or NULL to be filled in later) to
 * step's tensors, as def describes it, under name (def's name with '#'
 * replaced). Returns its index in the step. Aborts the program
 * (ATTN_FATAL) when the step already holds TRACE_MAX_STEP_TENSORS tensors:
 * the table guarantees it never does. */
int trace_step_show(TraceStep *step, const TraceTensorDef *def, const char *name, const Tensor *t);

/* Hands t to trace, which frees it with trace_free, under name in part
 * (name may be "" for a tensor no step finds by name). Returns t. When t is
 * NULL (the call that made it failed and set err), returns NULL. When the
 * trace already owns TRACE_MAX_VALUES tensors, frees t, sets err
 * (STATUS_FAILURE) and returns NULL. */
Tensor *trace_keep(Trace *trace, TracePart part, const char *name, Tensor *t, Error *err);

#endif
