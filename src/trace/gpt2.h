/*
 * gpt2.h - a GPT-2-layout checkpoint, and its forward pass kept stage by
 * stage for the trace.
 *
 * A checkpoint is a directory in the layout Hugging Face writes for GPT-2
 * models: model.safetensors and config.json (vocab.json and merges.txt are
 * the tokenizer's, not read here). gpt2_open reads config.json, maps the
 * safetensors file and checks every tensor the forward pass needs against
 * the config (names, with or without the "transformer." prefix; shapes;
 * dtypes F32, F16 or BF16); nothing of the weights is read yet.
 *
 * A Gpt2Trace is one traced forward pass for some token ids and a layer L:
 * the embeddings, blocks 0..L-1 run in full (attention, MLP with GPT-2's
 * tanh GELU, residuals, LayerNorms), then block L's attention stage by
 * stage with every intermediate tensor kept under the names of issue 18
 * (token_embed, ..., attn_output), and finally the model's next-token
 * prediction after all blocks, ln_f and logits = x . wte^T. A future trace
 * step calls gpt2_trace_stage once per stage, in order, and shows what it
 * made; gpt2_trace_run does them all.
 *
 * Memory: gpt2_trace_bytes counts everything a trace allocates (its
 * tensors, two blocks' float32 weights, the working buffers), and
 * gpt2_trace_begin refuses before allocating when that passes the caller's
 * budget. Weights are converted to float32 one block at a time, only for
 * the blocks used, and the mapped pages of each block (and of wte while
 * the logits stream through it) are released after use, so the resident
 * set stays near two blocks' weights whatever the file's size.
 *
 * Numbers: float32 throughout, with the reference kernels (tensor.h,
 * nn.h), in PyTorch's order of operations; see nn.h for which results are
 * bit-identical to PyTorch's and which within 1 ulp.
 *
 * Errors are values: STATUS_NOINPUT for a file that cannot be read,
 * STATUS_DATAERR for everything a file or the request gets wrong, each one
 * line starting with the file it is about.
 */
#ifndef ATTN_GPT2_H
#define ATTN_GPT2_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "safetensors.h"
#include "tensor.h"

/* The most likely next tokens a trace keeps. */
#define GPT2_TOP_K 5

/* What config.json says. */
typedef struct Gpt2Config {
    size_t n_embd;            /* d, the width of the residual stream */
    size_t n_head;            /* h; d_k = n_embd / n_head */
    size_t n_layer;           /* blocks */
    size_t n_positions;       /* rows of wpe: the most tokens */
    size_t vocab_size;        /* rows of wte */
    float layer_norm_epsilon; /* eps of every LayerNorm (default 1e-5) */
} Gpt2Config;

/* The tensors of one block, in the order of GPT2_BLOCK_NAMES. */
typedef enum Gpt2BlockTensor {
    GPT2_LN_1_WEIGHT,      /* h.N.ln_1.weight          [d] */
    GPT2_LN_1_BIAS,        /* h.N.ln_1.bias            [d] */
    GPT2_C_ATTN_WEIGHT,    /* h.N.attn.c_attn.weight   [d, 3d], x . W (Conv1D) */
    GPT2_C_ATTN_BIAS,      /* h.N.attn.c_attn.bias     [3d] */
    GPT2_ATTN_PROJ_WEIGHT, /* h.N.attn.c_proj.weight   [d, d] */
    GPT2_ATTN_PROJ_BIAS,   /* h.N.attn.c_proj.bias     [d] */
    GPT2_LN_2_WEIGHT,      /* h.N.ln_2.weight          [d] */
    GPT2_LN_2_BIAS,        /* h.N.ln_2.bias            [d] */
    GPT2_FC_WEIGHT,        /* h.N.mlp.c_fc.weight      [d, 4d] */
    GPT2_FC_BIAS,          /* h.N.mlp.c_fc.bias        [4d] */
    GPT2_MLP_PROJ_WEIGHT,  /* h.N.mlp.c_proj.weight    [4d, d] */
    GPT2_MLP_PROJ_BIAS,    /* h.N.mlp.c_proj.bias      [d] */
    GPT2_BLOCK_TENSORS
} Gpt2BlockTensor;

/* The name of tensor `which` of a block after "h.N." ("ln_1.weight",
 * "attn.c_attn.weight", ...). */
const char *gpt2_block_tensor_name(Gpt2BlockTensor which);

/* One block's weights as float32: each points into storage (converted
 * from F16 or BF16, or F32 on a big-endian host or at an odd offset) or
 * straight into the file's read-only mapping (F32, aligned, on a
 * little-endian host: nothing is copied). */
typedef struct Gpt2Block {
    const float *w[GPT2_BLOCK_TENSORS]; /* w[GPT2_C_ATTN_WEIGHT] is [d, 3d] row-major, as in the file */
    float *storage;                     /* room for all of them: gpt2_block_floats(d) floats; owned by the trace */
    size_t layer;                       /* which block they are (SIZE_MAX: none yet) */
} Gpt2Block;

/* Floats one block's weights take: 12 d^2 + 13 d. */
size_t gpt2_block_floats(size_t d);

/* An open checkpoint. Read the fields; change none. */
typedef struct Gpt2Model {
    char *dir;         /* the directory, as given */
    char *config_path; /* DIR/config.json */
    Gpt2Config config;
    SafeTensors *file;  /* DIR/model.safetensors, mapped */
    const char *prefix; /* "" or "transformer." */
    SafeDtype dtype;    /* of wte; the others are F32, F16 or BF16 too */
    bool mixed_dtypes;  /* true when not every tensor has that dtype */
    const SafeTensor *wte, *wpe, *ln_f_weight, *ln_f_bias;
    const SafeTensor *(*blocks)[GPT2_BLOCK_TENSORS]; /* n_layer rows */
} Gpt2Model;

/* Opens the checkpoint in dir: reads DIR/config.json, maps
 * DIR/model.safetensors (safetensors.h checks the file) and checks it
 * against the config. Returns the model (free with gpt2_close) or NULL with
 * err set. Errors, each "FILE: message":
 *   STATUS_NOINPUT  dir, config.json or model.safetensors cannot be read;
 *   STATUS_DATAERR  config.json not JSON, not an object, model_type other
 *                   than "gpt2" (naming the one expected), n_embd, n_head,
 *                   n_layer, n_positions or vocab_size missing, not a
 *                   positive integer or over its limit, n_embd not a
 *                   multiple of n_head, layer_norm_epsilon not in (0, 1);
 *                   a bad safetensors file; a checkpoint of another
 *                   architecture (its tell-tale tensor named, and GPT-2's
 *                   names expected); a missing tensor (named, with the
 *                   names expected); a tensor whose shape disagrees with
 *                   the config (both shapes given); a dtype other than
 *                   F32, F16 and BF16; a block beyond n_layer. */
Gpt2Model *gpt2_open(const char *dir, Error *err);

/* Unmaps and frees model. NULL is a no-op. */
void gpt2_close(Gpt2Model *model);

/* Makes block `layer`'s weights readable as float32 through block->w:
 * F32 tensors aligned in the mapping (on a little-endian host) are used in
 * place; the others are converted into block->storage (which has
 * gpt2_block_floats(d) floats) and their mapped pages released at once.
 * Fails only for a layer out of range (STATUS_DATAERR). */
bool gpt2_block_load(const Gpt2Model *model, size_t layer, Gpt2Block *block, Error *err);

/* Releases the mapped pages of block's tensors (safetensors_release), so
 * that a block used in place leaves the resident set; reading block->w
 * afterwards is still valid (the pages come back from the page cache). */
void gpt2_block_release(const Gpt2Model *model, const Gpt2Block *block);

/* Which third of qkv (and of c_attn.weight's columns) a value is in. */
typedef enum Gpt2QkvPart {
    GPT2_PART_QUERY, /* columns 0 .. d-1 */
    GPT2_PART_KEY,   /* columns d .. 2d-1 */
    GPT2_PART_VALUE  /* columns 2d .. 3d-1 */
} Gpt2QkvPart;

/* The column of qkv [s, 3d], and so of c_attn.weight [d, 3d] and
 * c_attn.bias [3d], that element j (0 <= j < d_k) of head `head` of
 * `part` comes from: part * d + head * d_k + j. queries[head][i][j] is
 * qkv[i][that column] = c_attn.bias[c] + ln_1[i] . c_attn.weight[:, c]. */
size_t gpt2_qkv_column(const Gpt2Config *cfg, Gpt2QkvPart part, size_t head, size_t j);

/* The stages of a trace, in the order they run. */
typedef enum Gpt2Stage {
    GPT2_STAGE_EMBED,        /* token_embed, position_embed (rows of wte and wpe) */
    GPT2_STAGE_BLOCKS,       /* block_input: their sum, through blocks 0..L-1 in full */
    GPT2_STAGE_LN_1,         /* ln_1 = LayerNorm(block_input) */
    GPT2_STAGE_QKV,          /* qkv = ln_1 . c_attn.weight + c_attn.bias   [s, 3d] */
    GPT2_STAGE_SPLIT_HEADS,  /* queries, keys, values                      [h, s, d_k] */
    GPT2_STAGE_SCORES,       /* scores = q . k^T / sqrt(d_k), masked       [h, s, s] */
    GPT2_STAGE_SOFTMAX,      /* attention_weights = softmax(scores)        [h, s, s] */
    GPT2_STAGE_HEAD_OUTPUTS, /* head_outputs = attention_weights . values  [h, s, d_k] */
    GPT2_STAGE_CONCAT,       /* concat_heads                               [s, d] */
    GPT2_STAGE_C_PROJ,       /* attn_output = concat . c_proj.weight + bias [s, d] */
    GPT2_STAGE_RESIDUAL,     /* attn_residual = block_input + attn_output  [s, d] */
    GPT2_STAGE_NEXT_TOKEN,   /* the rest of the model, ln_f, logits, top 5 */
    GPT2_STAGE_COUNT
} Gpt2Stage;

/* "embed", "blocks", "ln_1", ... */
const char *gpt2_stage_name(Gpt2Stage stage);

/* One traced forward pass. Every Tensor is owned; NULL until its stage ran. */
typedef struct Gpt2Trace {
    size_t layer;                    /* L, the block traced */
    size_t n_tokens;                 /* s */
    Gpt2Stage next;                  /* the stage gpt2_trace_stage runs next (GPT2_STAGE_COUNT: done) */
    long *token_ids;                 /* [s] */
    Tensor *token_embed;             /* [s, d]  rows of wte */
    Tensor *position_embed;          /* [s, d]  rows 0..s-1 of wpe */
    Tensor *block_input;             /* [s, d]  the residual stream entering block L */
    Tensor *ln_1;                    /* [s, d] */
    float *ln_1_mean, *ln_1_rstd;    /* [s] each: the rows' mean and 1/sqrt(var + eps), for an inspector */
    Tensor *qkv;                     /* [s, 3d] */
    Tensor *queries, *keys, *values; /* [h, s, d_k] */
    Tensor *scores;                  /* [h, s, s] scaled by 1/sqrt(d_k), -inf above the diagonal */
    Tensor *attention_weights;       /* [h, s, s] */
    Tensor *head_outputs;            /* [h, s, d_k] */
    Tensor *concat_heads;            /* [s, d] */
    Tensor *attn_output;             /* [s, d]  after c_proj and its bias */
    Tensor *attn_residual;           /* [s, d]  block_input + attn_output */
    Tensor *ln_f;                    /* [s, d]  after every block and ln_f */
    Tensor *next_token_probs;        /* [vocab] softmax of the last token's logits */
    long top_ids[GPT2_TOP_K];        /* the most likely next tokens, most likely first */
    float top_probs[GPT2_TOP_K];
    float scale;           /* the divisor of the scores: sqrtf(d_k) as PyTorch rounds it */
    Gpt2Block block;       /* block L's weights (float32), for an inspector */
    Gpt2Block scratch;     /* the other blocks', one at a time */
    struct Gpt2Work *work; /* private: the working buffers */
} Gpt2Trace;

/* Bytes a trace of n_tokens tokens of cfg's sizes allocates (all its
 * tensors, two blocks of weights, the working buffers); ULLONG_MAX for
 * sizes past LIMIT_MAX_D_MODEL, LIMIT_MAX_HEADS, LIMIT_MAX_VOCAB or
 * LIMIT_MAX_TOKENS tokens. */
unsigned long long gpt2_trace_bytes(const Gpt2Config *cfg, size_t n_tokens);

/* Starts a trace of ids (n_tokens of them) at block `layer`: checks the
 * request (1 <= n_tokens <= n_positions, every id below vocab_size, layer
 * below n_layer) and the budget (gpt2_trace_bytes against max_bytes; 0
 * means LIMIT_DEFAULT_MAX_BYTES) before allocating, then allocates. trace
 * is initialised here (free with gpt2_trace_free, also after a failure).
 * Errors (STATUS_DATAERR, "DIR: message"): "layer L is out of range: the
 * checkpoint has N layers (0..N-1)", "N tokens are more than n_positions
 * (P)", a token id out of range, the budget; STATUS_FAILURE: no memory. */
bool gpt2_trace_begin(const Gpt2Model *model, const long *ids, size_t n_tokens, size_t layer,
                      unsigned long long max_bytes, Gpt2Trace *trace, Error *err);

/* Runs stage `stage`, which must be trace->next (anything else is refused
 * with STATUS_FAILURE: a caller's bug), fills its tensors and advances
 * trace->next. */
bool gpt2_trace_stage(const Gpt2Model *model, Gpt2Trace *trace, Gpt2Stage stage, Error *err);

/* gpt2_trace_begin, then every stage. */
bool gpt2_trace_run(const Gpt2Model *model, const long *ids, size_t n_tokens, size_t layer,
                    unsigned long long max_bytes, Gpt2Trace *trace, Error *err);

/* Frees everything trace holds and clears it. NULL is a no-op. */
void gpt2_trace_free(Gpt2Trace *trace);

/* The tensor of trace called name (issue 18's names: "token_embed",
 * "block_input", "ln_1", "qkv", "queries", "keys", "values", "scores",
 * "attention_weights", "head_outputs", "concat_heads", "attn_output",
 * "attn_residual", "ln_f", "next_token_probs"), or NULL when there is no
 * such name or its stage has not run. */
const Tensor *gpt2_trace_tensor(const Gpt2Trace *trace, const char *name);

#endif
