/*
 * trace.c - runs the article's computation step by step and records what
 * each step shows (see trace.h).
 *
 * The steps are rows of one table, STEP_DEFS, near the end of the building
 * code: each row names its step, its text and the tensors it shows, and
 * points to a short function that computes them. trace_build runs the rows
 * in order. A step finds the tensors it needs by name among those its part
 * has made (the Trace owns every tensor under its name), so a function
 * depends on names, never on another function's locals.
 *
 * Part 1 follows the article's single-head code: W·x for one token, then
 * the same for every token with matrices. Part 2 re-seeds the generator as
 * the article does and computes four heads at once with einsum (x·W).
 */
#include "trace.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bpe.h"
#include "fatal.h"
#include "floatfmt.h"
#include "gpt2.h"
#include "numfmt.h"
#include "einsum.h"
#include "experiment.h"
#include "kernels.h"
#include "rng.h"
#include "strbuf.h"
#include "utf8.h"
#include "weights.h"

/* ------------------------------------------------------------------------
 * Step explanations: short, plain, our own words.
 * ---------------------------------------------------------------------- */

static const char EXPLAIN_TOKENIZE[] =
    "A model cannot read words, only numbers. Each word of the sentence is "
    "replaced by its position in a vocabulary, a fixed list of every word "
    "the model knows. (The article types its ids in by hand; attn-trace "
    "makes them from any sentence you give it.)";

static const char EXPLAIN_EMBED[] =
    "The embedding table has one row of numbers per vocabulary entry. Looking "
    "up each token's id picks its row, so the sentence becomes a matrix with "
    "one row per token. The table starts random here; training would shape it.";

static const char EXPLAIN_WEIGHTS[] =
    "Attention gives every token three new vectors, each made by multiplying "
    "its embedding by a matrix: a key (what this token offers), a query (what "
    "it is looking for) and a value (what it passes on). The three matrices "
    "are drawn at random, in the order the article draws them.";

static const char EXPLAIN_PROJECT_TOKEN[] =
    "Part 1 follows one token. Its embedding x is multiplied by each matrix "
    "(matrix times vector, W·x) to give its key, query and value. Each output "
    "number is the dot product of one matrix row with x.";

static const char EXPLAIN_KEYS_VALUES[] =
    "To compare the query with every token we need every token's key and "
    "value. Multiplying the whole embedding matrix by the transposed weight "
    "matrix does all tokens at once: row j of the result is token j's key.";

static const char EXPLAIN_SCORES[] =
    "How well does the query match each key? Their dot product says: it "
    "grows when the two vectors point the same way and with their lengths "
    "(they are not normalised), and is negative when they point apart. One "
    "score per token of the sentence.";

static const char EXPLAIN_SCALE[] =
    "Dot products grow with the vector width, and large scores make softmax "
    "pick one token almost alone. Dividing by the square root of the width "
    "is the standard correction: for vectors whose components have mean 0 "
    "and variance 1 it keeps the scores' standard deviation near 1. The "
    "article's weights are all positive, so its scores "
    "stay large and softmax stays sharp: look at the weights next.";

static const char EXPLAIN_SCALE_CAUSAL[] =
    "Dot products grow with the vector width, so they are divided by its "
    "square root, the standard correction. With the causal mask on, scores "
    "of tokens after this one become -inf: a decoder may not look at words "
    "it has not produced yet. Token 1 has nothing before it, so with "
    "--focus 1 its whole weight goes to itself; --focus 3 shows the mask at "
    "work.";

static const char EXPLAIN_SOFTMAX[] =
    "Softmax turns the scores into weights between 0 and 1 that sum to 1: "
    "exponentiate each score, then divide by the total. The largest score "
    "gets the largest share. A score of -inf gets exactly 0.";

static const char EXPLAIN_WEIGHTED_SUM[] =
    "The token's new vector is a blend of every token's value, each weighted "
    "by its attention weight. Tokens that matched the query well contribute "
    "most. This is the output of attention for one token.";

static const char EXPLAIN_ALL_TOKENS[] =
    "The same recipe for every token at once: all queries against all keys "
    "give a square matrix of scores, softmax runs along each row, and each "
    "row of weights blends the values. Row i of z is token i's new vector.";

static const char EXPLAIN_MH_WEIGHTS[] =
    "Multi-head attention runs several smaller attentions side by side, so "
    "each can learn a different kind of relation. Instead of separate "
    "matrices, each projection is one tensor with a head dimension in front. "
    "The generator is re-seeded first, so the embedding is the same as before.";

static const char EXPLAIN_MH_PROJECT[] =
    "One einsum projects every token for every head. The letters name the "
    "dimensions: s tokens, d embedding width, h heads, e the width of one "
    "head. The d letter is missing from the output, so it is summed over.";

static const char EXPLAIN_MH_SCORES[] =
    "Each head compares its own queries with its own keys. The keys are "
    "transposed so that e is shared, and e is summed away, leaving one "
    "score matrix per head, scaled by the square root of the head width.";

static const char EXPLAIN_MH_SOFTMAX[] =
    "Softmax runs along the last dimension: for each head and each query "
    "token, the weights over the key tokens sum to 1.";

static const char EXPLAIN_MH_WEIGHTED_SUM[] =
    "Each head blends its own values with its own weights. The shared letter "
    "j (the key token) is summed away.";

static const char EXPLAIN_MH_CONCAT[] =
    "The heads' outputs for a token are laid side by side in one row, "
    "giving back a vector of the full embedding width per token.";

static const char EXPLAIN_MH_OUTPUT[] =
    "A last matrix mixes the heads' results together, so each output number "
    "can draw on every head. This is what the attention layer returns.";

static const char EXPLAIN_MH_KV_DECODE[] =
    "A decoder writes one token at a time. Under the causal mask the keys "
    "and values of the earlier tokens never change once made, so a model "
    "stores them (the KV cache) and computes only the new token's query, "
    "key and value, from its embedding row alone. Its query meets the "
    "cached keys and its own key, and the weights blend the cached values "
    "and its own: one row of attention, without the full matrix. The title "
    "says whether it matches that token's row of head_outputs.";

/* Part 3, a GPT-2 checkpoint (--model). */

static const char EXPLAIN_MODEL_TOKENS[] =
    "A trained model comes with its own tokenizer. GPT-2 reads bytes: the "
    "sentence is cut into words by a fixed pattern (a space stays at the "
    "front of the word after it, shown as Ġ), and each word's bytes are "
    "merged pairwise in the order merges.txt ranks them, until no listed "
    "pair is left. Each piece's number in vocab.json is its id.";

static const char EXPLAIN_MODEL_IDS[] =
    "The ids were given as they are (--token-ids), so no tokenizer ran: "
    "each id is simply a row number of the checkpoint's vocabulary, below "
    "its vocab_size.";

static const char EXPLAIN_MODEL_EMBED[] =
    "Each id picks its row of the checkpoint's token table wte, and each "
    "position picks its row of wpe, a second table the model learned for "
    "positions (no sine waves here). Their sum is the vector each token "
    "starts with, the residual stream that runs through every block.";

static const char EXPLAIN_MODEL_BLOCKS[] =
    "The block traced here does not see the embeddings themselves: every "
    "earlier block has added its attention and its MLP (with GPT-2's tanh "
    "GELU) onto the stream, each after its own LayerNorm. This is the "
    "stream as it arrives at the block traced.";

static const char EXPLAIN_MODEL_LN_1[] =
    "Before attention, each token's vector is normalized on its own: its "
    "mean is subtracted and it is multiplied by rstd, one over the square "
    "root of its variance plus a small epsilon (config.json's "
    "layer_norm_epsilon), then every component is scaled and shifted by "
    "the block's learned gamma and beta (ln_1.weight and ln_1.bias).";

static const char EXPLAIN_MODEL_QKV[] =
    "GPT-2 keeps the query, key and value matrices side by side in one "
    "fused matrix, c_attn, stored as [d, 3d] to multiply from the right "
    "(x · W, a Conv1D layer), plus a bias. One product gives every token "
    "all three at once: columns 0 to d-1 are queries, d to 2d-1 keys, 2d "
    "to 3d-1 values.";

static const char EXPLAIN_MODEL_HEADS[] =
    "The three thirds of qkv are split apart, and each is cut into heads: "
    "head h takes d_k consecutive columns of its third. Nothing is "
    "computed here; the numbers are the ones of qkv, rearranged.";

static const char EXPLAIN_MODEL_SCORES[] =
    "Each head compares every query with every key by a dot product, "
    "divided by the square root of the head width. GPT-2 is a decoder, "
    "so a token may only look at itself and the tokens before it: the "
    "scores above the diagonal are -inf.";

static const char EXPLAIN_MODEL_SOFTMAX[] =
    "Softmax turns each row of scores into weights that sum to 1. The -inf "
    "scores get exactly 0, so the first token can only attend to itself "
    "and always gives itself weight 1.";

static const char EXPLAIN_MODEL_WEIGHTED_SUM[] =
    "Each head blends the value vectors of the tokens each query may see, "
    "weighted by its attention weights.";

static const char EXPLAIN_MODEL_CONCAT[] =
    "The heads' outputs for a token are laid side by side, head 0 first, "
    "giving back one vector of the model's width per token.";

static const char EXPLAIN_MODEL_C_PROJ[] =
    "The projection c_proj (x · W plus a bias) mixes the heads together; "
    "its result is what the attention layer returns. It is added onto the "
    "stream that entered the block (the residual connection), so "
    "attention only ever adds to what the token already carried.";

static const char EXPLAIN_MODEL_BPE[] =
    "GPT-2 reads bytes, not letters. Each byte of the text stands for one "
    "character of a 256-character alphabet, the pre-split cuts the text "
    "into words, and each word's characters are merged pair by pair, the "
    "pair with the lowest rank in merges.txt first, until no pair of the "
    "word is in merges.txt. What is left are tokens of vocab.json: their "
    "ids are the model's input.";

static const char EXPLAIN_MODEL_NEXT_TOKEN[] =
    "To see the model at work, the rest of it runs too: this block's MLP, "
    "the later blocks and the final LayerNorm ln_f. The last token's "
    "vector times every row of wte gives one score per vocabulary entry, "
    "and softmax makes them the model's probabilities for the next token. "
    "The five most likely are listed with their ids.";

/* ------------------------------------------------------------------------
 * Owning tensors, and showing them in steps
 * ---------------------------------------------------------------------- */

Tensor *trace_keep(Trace *trace, TracePart part, const char *name, Tensor *t, Error *err)
{
    if (t == NULL)
        return NULL;
    if (trace->n_owned >= TRACE_MAX_VALUES) {
        tensor_free(t);
        error_set(err, STATUS_FAILURE, "a trace keeps at most %d tensors (TRACE_MAX_VALUES)", TRACE_MAX_VALUES);
        return NULL;
    }
    int *holders = malloc(sizeof *holders);
    if (holders == NULL) {
        tensor_free(t);
        error_oom(err, "a trace's tensor");
        return NULL;
    }
    *holders = 1;
    TraceValue *value = &trace->owned[trace->n_owned++];
    value->tensor = t;
    value->holders = holders;
    value->part = part;
    snprintf(value->name, sizeof value->name, "%s", name);
    return t;
}

int trace_step_show(TraceStep *step, const TraceTensorDef *def, const char *name, const Tensor *t)
{
    if (step->n_tensors >= TRACE_MAX_STEP_TENSORS)
        ATTN_FATAL("step %s shows more than %d tensors (TRACE_MAX_STEP_TENSORS)", step->id ? step->id : "?",
                   TRACE_MAX_STEP_TENSORS);
    ATTN_ASSERT(def->ndim >= 0 && def->ndim <= TENSOR_MAX_DIMS);
    int index = step->n_tensors++;
    TraceTensor *tt = &step->tensors[index];
    memset(tt, 0, sizeof *tt);
    snprintf(tt->name, sizeof tt->name, "%s", name);
    tt->tensor = t;
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        tt->dims[i] = i < def->ndim ? def->dims[i] : DIM_OTHER;
    tt->is_output = def->is_output;
    tt->is_integer = def->is_integer;
    tt->how = (Derivation){OP_SHOWN, {-1, -1, -1, -1, -1}, 1.0f, false, 0, 0, NULL, false, 0};
    return index;
}

/* A monotonic clock in milliseconds. */
static double clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------------
 * The kernels: the exact ones (the default), the reference or the fast ones
 * ---------------------------------------------------------------------- */

bool trace_uses_fast_kernels(const Config *cfg)
{
    return cfg->kernels == KERNELS_FAST;
}

bool trace_uses_exact_kernels(const Config *cfg)
{
    return cfg->kernels == KERNELS_AUTO;
}

int trace_threads(const Config *cfg)
{
    if (cfg->threads > 0)
        return cfg->threads;
    int cpus = kernels_cpu_count();
    return cpus < KERNELS_DEFAULT_MAX_THREADS ? cpus : KERNELS_DEFAULT_MAX_THREADS;
}

/* out (M, N) = a (M, K) · b (N, K)ᵀ. */
static bool product_bt(const Trace *trace, float *out, const float *a, const float *b, size_t M, size_t K, size_t N,
                       Error *err)
{
    if (!trace->fast_kernels && !trace->exact_kernels) {
        matmul_bt_forward(out, a, b, M, K, N);
        return true;
    }
    MatrixView va = {a, K, 1, 0}, vb = {b, 1, K, 0};
    if (trace->exact_kernels)
        return kernels_gemm_exact(out, va, vb, 1, M, K, N, trace->threads, err);
    return kernels_gemm(out, va, vb, 1, M, K, N, trace->threads, err);
}

/* tensor_matmul, on the exact or the fast kernels when the trace uses
 * them: (M, K) @ (K, N), (M, K) @ (K) and (K) @ (K, N). */
static Tensor *product(const Trace *trace, const Tensor *a, const Tensor *b, Error *err)
{
    if ((!trace->fast_kernels && !trace->exact_kernels) || a->ndim < 1 || a->ndim > 2 || b->ndim < 1 || b->ndim > 2 ||
        (a->ndim == 1 && b->ndim == 1) || a->shape[a->ndim - 1] != b->shape[0])
        return tensor_matmul(a, b, err);
    const size_t M = a->ndim == 2 ? a->shape[0] : 1, K = b->shape[0], N = b->ndim == 2 ? b->shape[1] : 1;
    Tensor *out = a->ndim == 2 && b->ndim == 2 ? tensor_new2(M, N, err) : tensor_new1(a->ndim == 2 ? M : N, err);
    MatrixView va = {a->data, K, 1, 0}, vb = {b->data, N, 1, 0};
    bool (*gemm)(float *, MatrixView, MatrixView, size_t, size_t, size_t, size_t, int,
                 Error *) = trace->exact_kernels ? kernels_gemm_exact : kernels_gemm;
    if (out != NULL && !gemm(out->data, va, vb, 1, M, K, N, trace->threads, err)) {
        tensor_free(out);
        return NULL;
    }
    return out;
}

/* tensor_softmax_last, eight lanes at a time (bit-identical) when the
 * trace uses the exact or the fast kernels. */
static Tensor *softmax_last(const Trace *trace, const Tensor *a, Error *err)
{
    if ((!trace->fast_kernels && !trace->exact_kernels) || a->ndim < 1)
        return tensor_softmax_last(a, err);
    Tensor *out = tensor_new(a->ndim, a->shape, err);
    if (out != NULL) {
        size_t cols = a->shape[a->ndim - 1];
        kernels_softmax_rows(out->data, a->data, a->size / cols, cols, trace->threads);
    }
    return out;
}

/* einsum, on the exact or the fast kernels when the trace uses them. */
static Tensor *trace_einsum(const Trace *trace, const char *equation, const Tensor *const *ops, Error *err)
{
    if (trace->exact_kernels)
        return einsum_exact(equation, ops, 2, trace->threads, err);
    if (!trace->fast_kernels)
        return einsum(equation, ops, 2, err);
    return einsum_fast(equation, ops, 2, trace->threads, err);
}

/* True when a and b are the same tensor, or equal copies of it (part 2
 * embeds the sentence again after re-seeding, with the same result). */
static bool same_tensor(const Tensor *a, const Tensor *b)
{
    return a == b || (tensor_same_shape(a, b) && memcmp(a->data, b->data, a->size * sizeof *a->data) == 0);
}

/* Fills in made_in for every tensor: the step whose output it is. Runs
 * once the trace is complete. */
static void link_inputs(Trace *trace)
{
    for (int i = 0; i < trace->n_steps; i++)
        for (int j = 0; j < trace->steps[i].n_tensors; j++) {
            TraceTensor *tt = &trace->steps[i].tensors[j];
            tt->made_in = i;
            if (tt->is_output)
                continue;
            for (int k = 0; k < trace->n_steps; k++)
                for (int m = 0; m < trace->steps[k].n_tensors; m++)
                    if (trace->steps[k].tensors[m].is_output && k < tt->made_in &&
                        same_tensor(trace->steps[k].tensors[m].tensor, tt->tensor))
                        tt->made_in = k;
        }
}

/* ------------------------------------------------------------------------
 * Drawing, and small in-place operations
 * ---------------------------------------------------------------------- */

/* The embedding table as nn.Embedding(V, d) initialises it after
 * torch.manual_seed(seed), leaving rng ready for the next draw. */
static Tensor *draw_embedding(Rng *rng, const Config *cfg, Error *err)
{
    rng_seed(rng, cfg->seed);
    Tensor *table = tensor_new2(cfg->vocab_size, cfg->d_model, err);
    if (table != NULL)
        rng_fill_normal(rng, table->data, table->size, 0.0, 1.0);
    return table;
}

/* A new tensor of the given shape filled as torch.rand(shape). */
static Tensor *draw_uniform(Rng *rng, int ndim, const size_t *shape, Error *err)
{
    Tensor *t = tensor_new(ndim, shape, err);
    if (t != NULL)
        rng_fill_uniform(rng, t->data, t->size);
    return t;
}

/* Divides every value of t by divisor in place, as PyTorch's `t / divisor`. */
static void divide_in_place(Tensor *t, float divisor)
{
    kernels_divide(t->data, t->size, divisor); /* each element / divisor, rounded once */
}


/* ------------------------------------------------------------------------
 * Building a step: the helpers every step function uses
 * ---------------------------------------------------------------------- */

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

struct TraceBuild {
    Trace *trace;                   /* the trace being built */
    const Config *cfg;              /* &trace->config */
    const Weights *loaded;          /* tensors that replace the draws (weights.h), or NULL */
    Rng rng;                        /* the generator, carried from step to step; a part's first draw seeds it */
    TraceStep *step;                /* the step being built */
    Gpt2Model *model;               /* a model trace's checkpoint (cfg->model), open while the rows run; else NULL */
    Gpt2Trace gpt2;                 /* its forward pass, one stage per row */
    const ExperimentSet *changes;   /* cfg->experiments: the changes the trace runs under, or NULL */
    bool settled[TRACE_MAX_VALUES]; /* owned value i has had its set= changes made (settle) */
    bool model_set_done[EXPERIMENT_MAX]; /* a model trace: change i made on the forward pass's own tensor */
    Error change_err;                    /* the first change that could not be made (an index out of range) */
    int step_first_owned;                /* trace->n_owned when the step being built began */
    const Trace *from;                   /* a rebuild's earlier trace, whose unchanged tensors it shares; or NULL */
    unsigned uses_changed;               /* a rebuild: the TraceUses that differ between from's config and cfg */
};

/* Aborts unless the row of the step being built declares, in .uses, that
 * its function consults `flag` (TraceUses): a rebuild runs a step again
 * only when what its row declares differs. */
static void consults(const TraceBuild *b, unsigned flag)
{
    if ((b->step->def->uses & flag) == 0)
        ATTN_FATAL("step %s consults a part of the config (TraceUses %u) its row's .uses does not list", b->step->id,
                   flag);
}

/* Whether the trace is causal; the step's row must declare TRACE_USES_MASK. */
static bool causal(const TraceBuild *b)
{
    consults(b, TRACE_USES_MASK);
    return b->cfg->causal;
}

/* The token ids of the trace; the step's row must declare TRACE_USES_TOKENS. */
static const long *token_ids(const TraceBuild *b)
{
    consults(b, TRACE_USES_TOKENS);
    return b->cfg->token_ids;
}

/* pattern with each '#' replaced by focus (the 1-based focus token), into
 * out. A name that does not fit is a broken table: it aborts. */
static void expand_name(char out[TRACE_NAME_BYTES], const char *pattern, size_t focus)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = pattern; *p != '\0'; p++) {
        int n = *p == '#' ? snprintf(out + used, TRACE_NAME_BYTES - used, "%zu", focus)
                          : snprintf(out + used, TRACE_NAME_BYTES - used, "%c", *p);
        if (n < 0 || used + (size_t)n >= TRACE_NAME_BYTES)
            ATTN_FATAL("tensor name '%s' does not fit in TRACE_NAME_BYTES", pattern);
        used += (size_t)n;
    }
}

/* Whether def lists the tensor `name` (expanded for focus): among the
 * tensors it shows or in .reads. */
static bool row_names(const TraceStepDef *def, const char *name, size_t focus)
{
    char listed[TRACE_NAME_BYTES];
    for (int i = 0; i < TRACE_MAX_STEP_TENSORS && def->tensors[i].name != NULL; i++) {
        expand_name(listed, def->tensors[i].name, focus);
        if (strcmp(listed, name) == 0)
            return true;
    }
    for (int i = 0; i < TRACE_MAX_STEP_READS && def->reads[i] != NULL; i++) {
        expand_name(listed, def->reads[i], focus);
        if (strcmp(listed, name) == 0)
            return true;
    }
    return false;
}

/* Makes the set= changes of the trace on owned value i, once: after its
 * step has finished it and before anything reads it (value() and step_end
 * call this). A change that cannot be made is kept in b->change_err. */
static void settle(TraceBuild *b, int i)
{
    if (b->settled[i])
        return;
    b->settled[i] = true;
    const TraceValue *v = &b->trace->owned[i];
    if (b->changes != NULL && b->change_err.status == STATUS_OK)
        experiment_apply_sets(b->changes, b->cfg, v->part, v->name, v->tensor, &b->change_err);
}

/* The tensor named pattern among those the part of the step being built
 * has made so far (shown or not). Aborts when there is none: the table
 * lists a step before the one that makes what it needs. */
static const Tensor *value(TraceBuild *b, const char *pattern)
{
    char name[TRACE_NAME_BYTES];
    expand_name(name, pattern, b->cfg->focus);
    if (!row_names(b->step->def, name, b->cfg->focus))
        ATTN_FATAL("step %s reads %s, which its row lists neither in .tensors nor in .reads", b->step->id, name);
    for (int i = 0; i < b->trace->n_owned; i++)
        if (b->trace->owned[i].part == b->step->part && strcmp(b->trace->owned[i].name, name) == 0) {
            settle(b, i);
            return b->trace->owned[i].tensor;
        }
    ATTN_FATAL("step %s needs %s, which no earlier step of its part made", b->step->id, name);
}

/* The index of the tensor named pattern in the step being built. Aborts
 * when the step's row does not list it. */
static int slot(const TraceBuild *b, const char *pattern)
{
    char name[TRACE_NAME_BYTES];
    expand_name(name, pattern, b->cfg->focus);
    for (int i = 0; i < b->step->n_tensors; i++)
        if (strcmp(b->step->tensors[i].name, name) == 0)
            return i;
    ATTN_FATAL("step %s shows no tensor %s (see its row of STEP_DEFS)", b->step->id, name);
}

/* Hands t, just made by the step being built, to the trace under
 * pattern's name in the step's part, and fills the step's output of that
 * name when its row lists one (else the part keeps t unshown, for later
 * steps). Returns t, or NULL with err set (t was NULL after a failed call,
 * or the trace is full). A name made twice in a part aborts. */
static Tensor *put(TraceBuild *b, const char *pattern, Tensor *t, Error *err)
{
    char name[TRACE_NAME_BYTES];
    expand_name(name, pattern, b->cfg->focus);
    for (int i = 0; t != NULL && i < b->trace->n_owned; i++)
        if (b->trace->owned[i].part == b->step->part && strcmp(b->trace->owned[i].name, name) == 0)
            ATTN_FATAL("step %s makes %s again", b->step->id, name);
    if (trace_keep(b->trace, b->step->part, name, t, err) == NULL)
        return NULL;
    for (int i = 0; i < b->step->n_tensors; i++) {
        TraceTensor *tt = &b->step->tensors[i];
        if (strcmp(tt->name, name) != 0)
            continue;
        if (!tt->is_output)
            ATTN_FATAL("step %s makes %s, which its row lists as an input", b->step->id, name);
        tt->tensor = t;
    }
    return t;
}

/* Records how the step's output `out` was made from its tensors in0 and
 * in1 (names; NULL when unused). Returns the derivation, for the fields
 * an op needs besides (divisor, row, equation). */
static Derivation *derive(TraceBuild *b, const char *out, OpKind op, const char *in0, const char *in1)
{
    Derivation *how = &b->step->tensors[slot(b, out)].how;
    how->op = op;
    how->in[0] = in0 != NULL ? slot(b, in0) : -1;
    how->in[1] = in1 != NULL ? slot(b, in1) : -1;
    return how;
}

/* Sets the step's formula, printf-style (cut to fit). */
static void PRINTF_LIKE(2, 3) formula(TraceBuild *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->step->formula, sizeof b->step->formula, fmt, ap);
    va_end(ap);
}

/* Replaces the row's title with one about this trace, printf-style. */
static void PRINTF_LIKE(2, 3) title(TraceBuild *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->step->title, sizeof b->step->title, fmt, ap);
    va_end(ap);
}

/* Marks the step's tensor named as weight id as read from --weights, when
 * it was. */
static void mark_loaded(TraceBuild *b, WeightId id)
{
    b->step->tensors[slot(b, weights_tensor_name(id))].loaded = weights_has(b->loaded, id);
}

/* The step's output named as weight id: drawn as torch.rand(shape), then
 * replaced by the loaded tensor when there is one. NULL with err set. */
static Tensor *draw_weight(TraceBuild *b, WeightId id, int ndim, const size_t *shape, Error *err)
{
    const char *name = weights_tensor_name(id);
    Tensor *t = put(b, name, draw_uniform(&b->rng, ndim, shape, err), err);
    if (t == NULL || !weights_apply(b->loaded, id, t, err))
        return NULL;
    derive(b, name, OP_RAND_UNIFORM, NULL, NULL);
    mark_loaded(b, id);
    return t;
}

/* In a rebuild, from's tensor `pattern` of the step being built, now also
 * this trace's (shared, shown in the step), when it can stand for what
 * the step would compute again: a product of in0 and in1 alone (in1 may
 * be NULL), both unchanged, with the same set= changes. Else NULL.
 * Defined with the rebuild below. */
static const Tensor *shared_output(TraceBuild *b, const char *pattern, const char *in0, const char *in1);

/* In a rebuild, shares from's draws of the weights ids[0..n) (all of them
 * or none) and leaves the generator as from's was after this step; true
 * when it did. Only for a step whose draws cannot depend on what changed
 * (it re-seeds before them, or draws before anything reads the tokens)
 * and which draws nothing after them. Defined with the rebuild below. */
static bool share_draws(TraceBuild *b, const WeightId *ids, int n);

/* The products rows_again can make a few rows of: out = in0 · in1ᵀ
 * (OP_DOT_ROWS, out [M, N]) and einsum('sd,hde->hse', in0, in1) (out
 * [H, M, E]), where row m of out (of each head) reads row m of in0 and in1
 * alone. */
typedef enum RowsProduct { ROWS_DOT, ROWS_PER_HEAD } RowsProduct;

/* What rows_again did: not taken (nothing made, err untouched), the output
 * made, or failed with err set. */
typedef enum RowsResult { ROWS_NOT_TAKEN, ROWS_MADE, ROWS_FAILED } RowsResult;

/* In a rebuild, makes the step's output out (product `how` of in0, a
 * matrix, and in1) from from's output when in1 is unchanged and at most
 * half of in0's rows differ from from's: a copy of from's output with
 * those rows computed again. Defined with the rebuild below. */
static RowsResult rows_again(TraceBuild *b, const char *out, RowsProduct how, const char *in0, const char *in1,
                             Error *err);

/* The make_* helpers below make one output of the step from one or two
 * tensors of the part and nothing else; in a rebuild they share from's
 * output when its inputs did not change (shared_output), which is why
 * they return it const. A step that changes an output after making it
 * (scaling, zeroing heads) makes it with a *_fresh form instead. */

/* The step's output out = in0 @ in1 (tensors of the part; tensor_matmul's
 * shapes), made by op (OP_MATVEC or OP_MATMUL). NULL with err set. */
static const Tensor *make_product(TraceBuild *b, const char *out, OpKind op, const char *in0, const char *in1,
                                  Error *err)
{
    const Tensor *t = shared_output(b, out, in0, in1);
    if (t == NULL)
        t = put(b, out, product(b->trace, value(b, in0), value(b, in1), err), err);
    if (t != NULL)
        derive(b, out, op, in0, in1);
    return t;
}

/* The step's output out (M, N) = in0 (M, K) · in1 (N, K)ᵀ: every row of
 * in0 against every row of in1 (OP_DOT_ROWS), always computed: the
 * caller may change it. NULL with err set. */
static Tensor *make_dot_rows_fresh(TraceBuild *b, const char *out, const char *in0, const char *in1, Error *err)
{
    const Tensor *x = value(b, in0), *w = value(b, in1);
    const size_t M = x->shape[0], K = x->shape[1], N = w->shape[0];
    Tensor *t = put(b, out, tensor_new2(M, N, err), err);
    if (t == NULL || !product_bt(b->trace, t->data, x->data, w->data, M, K, N, err))
        return NULL;
    derive(b, out, OP_DOT_ROWS, in0, in1);
    return t;
}

/* make_dot_rows_fresh, or in a rebuild from's output when it can stand
 * for it (shared_output). NULL with err set. */
static const Tensor *make_dot_rows(TraceBuild *b, const char *out, const char *in0, const char *in1, Error *err)
{
    const Tensor *t = shared_output(b, out, in0, in1);
    if (t == NULL) {
        RowsResult rows = rows_again(b, out, ROWS_DOT, in0, in1, err);
        if (rows == ROWS_FAILED)
            return NULL;
        if (rows == ROWS_NOT_TAKEN)
            return make_dot_rows_fresh(b, out, in0, in1, err);
        t = value(b, out);
    }
    derive(b, out, OP_DOT_ROWS, in0, in1);
    return t;
}

/* The step's output out = einsum(equation, in0, in1), tensors of the part
 * (OP_EINSUM), always computed: the caller may change it. NULL with err
 * set. */
static Tensor *make_einsum_fresh(TraceBuild *b, const char *out, const char *equation, const char *in0, const char *in1,
                                 Error *err)
{
    const Tensor *ops[2] = {value(b, in0), value(b, in1)};
    Tensor *t = put(b, out, trace_einsum(b->trace, equation, ops, err), err);
    if (t != NULL)
        derive(b, out, OP_EINSUM, in0, in1)->equation = equation;
    return t;
}

/* make_einsum_fresh, or in a rebuild from's output when it can stand for
 * it (shared_output). NULL with err set. */
static const Tensor *make_einsum(TraceBuild *b, const char *out, const char *equation, const char *in0, const char *in1,
                                 Error *err)
{
    const Tensor *t = shared_output(b, out, in0, in1);
    if (t == NULL) {
        RowsResult rows = strcmp(equation, "sd,hde->hse") == 0 ? rows_again(b, out, ROWS_PER_HEAD, in0, in1, err)
                                                               : ROWS_NOT_TAKEN;
        if (rows == ROWS_FAILED)
            return NULL;
        if (rows == ROWS_NOT_TAKEN)
            return make_einsum_fresh(b, out, equation, in0, in1, err);
        t = value(b, out);
    }
    derive(b, out, OP_EINSUM, in0, in1)->equation = equation;
    return t;
}

/* The step's output out = softmax of in along its last dimension, or in a
 * rebuild from's when it can stand for it (shared_output). NULL with err
 * set. */
static const Tensor *make_softmax(TraceBuild *b, const char *out, const char *in, Error *err)
{
    const Tensor *t = shared_output(b, out, in, NULL);
    if (t == NULL)
        t = put(b, out, softmax_last(b->trace, value(b, in), err), err);
    if (t != NULL)
        derive(b, out, OP_SOFTMAX, in, NULL);
    return t;
}

/* The divisor of the scores: standard (√width), or what a no-scale or
 * scale= change asks for. Writes how the formula spells it into text
 * ("√16", "1 (no-scale)", "8 (scale=8)"). */
static float divisor_of(const TraceBuild *b, float standard, size_t width, char *text, size_t size)
{
    consults(b, TRACE_USES_DIVISOR);
    const Experiment *e = experiment_scale(b->changes);
    if (e == NULL) {
        snprintf(text, size, "√%zu", width);
        return standard;
    }
    char num[32];
    floatfmt_shortest(experiment_divisor(e, standard), num);
    if (e->kind == EXP_NO_SCALE)
        snprintf(text, size, "1 (no-scale)");
    else
        snprintf(text, size, "%s (scale=%s)", num, num);
    return experiment_divisor(e, standard);
}

/* Divides the step's score matrices `name` (t, [.., s, s]) by divisor and,
 * in a causal trace, masks every key after its query; the derivation
 * records both. */
static void scale_scores(TraceBuild *b, const char *name, Tensor *t, float divisor)
{
    divide_in_place(t, divisor);
    if (causal(b))
        tensor_causal_mask(t);
    Derivation *how = &b->step->tensors[slot(b, name)].how;
    how->divisor = divisor;
    how->causal = causal(b);
}

/* ------------------------------------------------------------------------
 * The steps of part 1: one head, following the focus token (W·x)
 * ---------------------------------------------------------------------- */

static bool build_tokenize(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens;
    Tensor *ids = put(b, "tokenized_sentence", tensor_new1(S, err), err);
    if (ids == NULL)
        return false;
    for (size_t i = 0; i < S; i++)
        ids->data[i] = (float)token_ids(b)[i];
    formula(b, "tokenized_sentence = ids of %zu words → [%zu]", S, S);
    derive(b, "tokenized_sentence", OP_TOKENIZE, NULL, NULL);
    return true;
}

/* Seeds the generator and draws the table: the first draw of part 1. */
static bool build_embed(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    const size_t S = cfg->n_tokens, D = cfg->d_model, V = cfg->vocab_size;
    /* a rebuild under other tokens draws the same table: it shares it */
    static const WeightId drawn[] = {WEIGHT_EMBEDDING};
    if (!share_draws(b, drawn, 1)) {
        Tensor *table = put(b, "embedding", draw_embedding(&b->rng, cfg, err), err);
        if (table == NULL || !weights_apply(b->loaded, WEIGHT_EMBEDDING, table, err))
            return false;
        derive(b, "embedding", OP_RAND_NORMAL, NULL, NULL);
        mark_loaded(b, WEIGHT_EMBEDDING);
    }
    if (put(b, "sentence_embed", tensor_gather_rows(value(b, "embedding"), token_ids(b), S, err), err) == NULL)
        return false;
    bool loaded = weights_has(b->loaded, WEIGHT_EMBEDDING);
    formula(b, "sentence_embed = embedding[tokenized_sentence]   [%zu, %zu][%zu] → [%zu, %zu]%s%s", V, D, S, S, D,
            loaded ? "; embedding loaded from " : "", loaded ? b->loaded->shown_dir : "");
    derive(b, "sentence_embed", OP_GATHER_ROWS, "embedding", "tokenized_sentence");
    return true;
}

/* Draws in the article's order: key, query, value. */
static bool build_weights(TraceBuild *b, Error *err)
{
    const size_t D = b->cfg->d_model, dd[] = {D, D};
    if (draw_weight(b, WEIGHT_KEY, 2, dd, err) == NULL || draw_weight(b, WEIGHT_QUERY, 2, dd, err) == NULL ||
        draw_weight(b, WEIGHT_VALUE, 2, dd, err) == NULL)
        return false;
    char drawn_as[64], shapes[64];
    snprintf(drawn_as, sizeof drawn_as, "torch.rand(%zu, %zu)", D, D);
    snprintf(shapes, sizeof shapes, "   → [%zu, %zu] each", D, D);
    weights_describe(b->loaded, WEIGHT_KEY, WEIGHT_VALUE, drawn_as, shapes, b->step->formula, sizeof b->step->formula);
    return true;
}

/* W·x for the focus token. */
static bool build_project_token(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    const size_t D = cfg->d_model, f = cfg->focus - 1, n = cfg->focus;
    if (put(b, "x_#", tensor_row(value(b, "sentence_embed"), f, err), err) == NULL ||
        make_product(b, "key_#", OP_MATVEC, "w_key", "x_#", err) == NULL ||
        make_product(b, "query_#", OP_MATVEC, "w_query", "x_#", err) == NULL ||
        make_product(b, "value_#", OP_MATVEC, "w_value", "x_#", err) == NULL)
        return false;
    consults(b, TRACE_USES_TOKENS); /* the title names the token */
    title(b, "Key, query and value of token %zu (\"%s\")", n, cfg->tokens[f]);
    formula(b, "key_%zu = w_key · x_%zu   [%zu, %zu] · [%zu] → [%zu]   (query, value alike)", n, n, D, D, D, D);
    derive(b, "x_#", OP_PICK_ROW, "sentence_embed", NULL)->row = f;
    return true;
}

/* Every token at once, x·Wᵀ. */
static bool build_keys_values(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model;
    if (make_dot_rows(b, "keys", "sentence_embed", "w_key", err) == NULL ||
        make_dot_rows(b, "values", "sentence_embed", "w_value", err) == NULL)
        return false;
    formula(b, "keys = sentence_embed · w_keyᵀ   [%zu, %zu] · [%zu, %zu]ᵀ → [%zu, %zu]", S, D, D, D, S, D);
    return true;
}

/* query · keysᵀ, unscaled, on the reference loop whatever the kernels. */
static bool build_scores(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, n = b->cfg->focus;
    Tensor *scores = put(b, "scores_#", tensor_new1(S, err), err);
    if (scores == NULL)
        return false;
    matmul_bt_forward(scores->data, value(b, "query_#")->data, value(b, "keys")->data, 1, D, S);
    title(b, "Score token %zu's query against every key", n);
    formula(b, "scores_%zu = query_%zu · keysᵀ   [%zu] · [%zu, %zu]ᵀ → [%zu]", n, n, D, S, D, S);
    derive(b, "scores_#", OP_DOT_ROWS, "query_#", "keys");
    return true;
}

/* Divides by √d and, in a causal trace, masks the keys after the focus. */
static bool build_scale(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    const size_t S = cfg->n_tokens, D = cfg->d_model, f = cfg->focus - 1, n = cfg->focus;
    char by[80];
    const float sqrt_d = divisor_of(b, (float)sqrt((double)D), D, by, sizeof by);
    Tensor *scaled = put(b, "scaled_scores_#", tensor_copy(value(b, "scores_#"), err), err);
    if (scaled == NULL)
        return false;
    divide_in_place(scaled, sqrt_d);
    char mask_note[48] = "";
    if (causal(b)) {
        tensor_causal_mask_row(scaled, f);
        b->step->explanation = EXPLAIN_SCALE_CAUSAL;
        title(b, "Scale the scores and mask the future");
        snprintf(mask_note, sizeof mask_note, ", masked after token %zu", n);
    }
    formula(b, "scaled_scores_%zu = scores_%zu / %s%s   [%zu] → [%zu]", n, n, by, mask_note, S, S);
    Derivation *how = derive(b, "scaled_scores_#", OP_SCALE, "scores_#", NULL);
    how->divisor = sqrt_d;
    how->causal = causal(b);
    how->query_row = f;
    return true;
}

/* The focus token's weights, on the reference softmax whatever the kernels. */
static bool build_softmax(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, n = b->cfg->focus;
    if (put(b, "a#", tensor_softmax_last(value(b, "scaled_scores_#"), err), err) == NULL)
        return false;
    formula(b, "a%zu = softmax(scaled_scores_%zu)   [%zu] → [%zu], sums to 1", n, n, S, S);
    derive(b, "a#", OP_SOFTMAX, "scaled_scores_#", NULL);
    return true;
}

static bool build_weighted_sum(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, n = b->cfg->focus;
    if (make_product(b, "z#", OP_MATMUL, "a#", "values", err) == NULL)
        return false;
    formula(b, "z%zu = a%zu · values   [%zu] · [%zu, %zu] → [%zu]", n, n, S, S, D, D);
    return true;
}

/* The matrix form: every query against every key. */
static bool build_all_tokens(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    const size_t S = cfg->n_tokens, D = cfg->d_model;
    Tensor *scores; /* scaled and masked below: always computed */
    if (make_dot_rows(b, "queries", "sentence_embed", "w_query", err) == NULL ||
        (scores = make_dot_rows_fresh(b, "scores", "queries", "keys", err)) == NULL)
        return false;
    char by[80];
    scale_scores(b, "scores", scores, divisor_of(b, (float)sqrt((double)D), D, by, sizeof by));
    if (make_softmax(b, "attention_weights", "scores", err) == NULL ||
        make_product(b, "z", OP_MATMUL, "attention_weights", "values", err) == NULL)
        return false;
    formula(b, "z = softmax(queries · keysᵀ / %s%s) · values   [%zu, %zu] → [%zu, %zu]", by,
            causal(b) ? ", masked" : "", S, D, S, D);
    return true;
}

/* ------------------------------------------------------------------------
 * The steps of part 2: every head at once with einsum (x·W)
 * ---------------------------------------------------------------------- */

/* Part 2's sentence_embed, which the part keeps without showing it: the
 * generator re-seeded as the article does, the table drawn again (or
 * loaded) and freed once its rows are gathered. */
static bool embed_again(TraceBuild *b, Error *err)
{
    Tensor *table = draw_embedding(&b->rng, b->cfg, err);
    if (table == NULL)
        return false;
    if (!weights_apply(b->loaded, WEIGHT_EMBEDDING, table, err)) {
        tensor_free(table);
        return false;
    }
    Tensor *x = put(b, "sentence_embed", tensor_gather_rows(table, token_ids(b), b->cfg->n_tokens, err), err);
    tensor_free(table);
    return x != NULL;
}

/* Re-seeds, embeds again, then draws the stacked matrices. */
static bool build_mh_weights(TraceBuild *b, Error *err)
{
    const size_t D = b->cfg->d_model, H = b->cfg->heads, E = config_d_k(b->cfg);
    const size_t hde[] = {H, D, E}, dd[] = {D, D};
    /* a rebuild under other tokens draws the same matrices: it shares them */
    static const WeightId drawn[] = {WEIGHT_MH_QUERY, WEIGHT_MH_KEY, WEIGHT_MH_VALUE, WEIGHT_MH_OUTPUT};
    if (!embed_again(b, err))
        return false;
    if (!share_draws(b, drawn, 4) &&
        (draw_weight(b, WEIGHT_MH_QUERY, 3, hde, err) == NULL || draw_weight(b, WEIGHT_MH_KEY, 3, hde, err) == NULL ||
         draw_weight(b, WEIGHT_MH_VALUE, 3, hde, err) == NULL || draw_weight(b, WEIGHT_MH_OUTPUT, 2, dd, err) == NULL))
        return false;
    title(b, "Stacked weights for %zu heads", H);
    char shapes[128];
    snprintf(shapes, sizeof shapes, "   → [%zu, %zu, %zu] each; w_output%s → [%zu, %zu]", H, D, E,
             weights_has(b->loaded, WEIGHT_MH_OUTPUT) ? " (loaded)" : "", D, D);
    weights_describe(b->loaded, WEIGHT_MH_QUERY, WEIGHT_MH_VALUE, "torch.rand(h, d, d_k)", shapes, b->step->formula,
                     sizeof b->step->formula);
    return true;
}

static bool build_mh_project(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, H = b->cfg->heads, E = config_d_k(b->cfg);
    if (make_einsum(b, "queries", "sd,hde->hse", "sentence_embed", "w_query", err) == NULL ||
        make_einsum(b, "keys", "sd,hde->hse", "sentence_embed", "w_key", err) == NULL ||
        make_einsum(b, "values", "sd,hde->hse", "sentence_embed", "w_value", err) == NULL)
        return false;
    formula(b,
            "queries = einsum('sd,hde->hse', sentence_embed, w_query)   [%zu, %zu], [%zu, %zu, %zu] → [%zu, %zu, %zu]",
            S, D, H, D, E, H, S, E);
    return true;
}

/* 'hse,hek->hsk' with the keys transposed (keysᵀ, freed once the scores
 * are made: the derivation reads the keys themselves), then scaled by
 * √d_k. */
static bool build_mh_scores(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    const size_t S = cfg->n_tokens, H = cfg->heads, E = config_d_k(cfg);
    Tensor *keys_t = tensor_transpose_last(value(b, "keys"), err);
    if (keys_t == NULL)
        return false;
    const Tensor *ops[2] = {value(b, "queries"), keys_t};
    Tensor *scores = put(b, "scores", trace_einsum(b->trace, "hse,hek->hsk", ops, err), err);
    tensor_free(keys_t);
    if (scores == NULL)
        return false;
    char by[80];
    scale_scores(b, "scores", scores, divisor_of(b, (float)sqrt((double)E), E, by, sizeof by));
    Derivation *how = derive(b, "scores", OP_EINSUM, "queries", "keys");
    how->equation = "hse,hek->hsk";
    how->in1_transposed = true;
    formula(b,
            "scores = einsum('hse,hek->hsk', queries, keysᵀ) / %s%s   [%zu, %zu, %zu], [%zu, %zu, %zu] → "
            "[%zu, %zu, %zu]",
            by, causal(b) ? ", masked" : "", H, S, E, H, E, S, H, S, S);
    return true;
}

static bool build_mh_softmax(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, H = b->cfg->heads;
    if (make_softmax(b, "attention_weights", "scores", err) == NULL)
        return false;
    formula(b, "attention_weights = softmax(scores, dim=-1)   [%zu, %zu, %zu] → [%zu, %zu, %zu]", H, S, S, H, S, S);
    return true;
}

static bool build_mh_weighted_sum(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, H = b->cfg->heads, E = config_d_k(b->cfg);
    Tensor *heads = make_einsum_fresh(b, "head_outputs", "hij,hjk->hik", "attention_weights", "values", err);
    if (heads == NULL)
        return false;
    char zeroed[48] = "";
    consults(b, TRACE_USES_HEADS);
    experiment_zero_heads(b->changes, heads, zeroed, sizeof zeroed);
    formula(b,
            "head_outputs = einsum('hij,hjk->hik', attention_weights, values)%s   [%zu, %zu, %zu], [%zu, %zu, %zu] → "
            "[%zu, %zu, %zu]",
            zeroed, H, S, S, H, S, E, H, S, E);
    return true;
}

static bool build_mh_concat(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, H = b->cfg->heads, E = config_d_k(b->cfg);
    if (put(b, "concat_heads", tensor_concat_heads(value(b, "head_outputs"), err), err) == NULL)
        return false;
    formula(b, "concat_heads = head_outputs.permute(1, 0, 2).reshape(%zu, -1)   [%zu, %zu, %zu] → [%zu, %zu]", S, H, S,
            E, S, D);
    derive(b, "concat_heads", OP_CONCAT_HEADS, "head_outputs", NULL);
    return true;
}

static bool build_mh_output(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model;
    if (make_product(b, "multihead_output", OP_MATMUL, "concat_heads", "w_output", err) == NULL)
        return false;
    formula(b, "multihead_output = concat_heads · w_output   [%zu, %zu] · [%zu, %zu] → [%zu, %zu]", S, D, D, D, S, D);
    return true;
}

/* ------------------------------------------------------------------------
 * An experiment's step: the one-token decode with a KV cache (kv-cache)
 * ---------------------------------------------------------------------- */

/* A new [n0, n1] (or [n0, n1, n2] when n2 > 0) tensor holding a copy of
 * t's floats (t has exactly that many). NULL with err set. */
static Tensor *reshaped(const Tensor *t, size_t n0, size_t n1, size_t n2, Error *err)
{
    Tensor *out = n2 > 0 ? tensor_new3(n0, n1, n2, err) : tensor_new2(n0, n1, err);
    if (out != NULL) {
        ATTN_ASSERT(out->size == t->size);
        memcpy(out->data, t->data, t->size * sizeof *t->data);
    }
    return out;
}

/* The decoded token's own query, key or value, [h, 1, e]: its embedding
 * row alone through the part's einsum projection. NULL with err set. */
static Tensor *decode_project(TraceBuild *b, const Tensor *x_p, const char *weight, Error *err)
{
    const Tensor *ops[2] = {x_p, value(b, weight)};
    return trace_einsum(b->trace, "sd,hde->hse", ops, err);
}

/* The cache [h, p + 1, e]: rows 0..p-1 of the part's `name` ([h, s, e]),
 * computed for the earlier tokens, then the new token's row `fresh`
 * ([h, 1, e]). NULL with err set. */
static Tensor *decode_cache(TraceBuild *b, const char *name, const Tensor *fresh, size_t p, Error *err)
{
    const Tensor *all = value(b, name);
    const size_t H = all->shape[0], S = all->shape[1], E = all->shape[2];
    Tensor *cache = tensor_new3(H, p + 1, E, err);
    if (cache == NULL)
        return NULL;
    for (size_t h = 0; h < H; h++) {
        memcpy(cache->data + h * (p + 1) * E, all->data + h * S * E, p * E * sizeof(float));
        memcpy(cache->data + (h * (p + 1) + p) * E, fresh->data + h * E, E * sizeof(float));
    }
    return cache;
}

/* The decode's attention, as einsum runs it on [h, 1, ...] operands:
 * scores of the new query against the cache, their softmax, and the blend
 * of the cached values. Each is handed to the step, reshaped without its
 * 1. False with err set. */
static bool decode_attend(TraceBuild *b, const Tensor *q, const Tensor *keys, const Tensor *vals, float divisor,
                          Error *err)
{
    const size_t H = keys->shape[0], P1 = keys->shape[1], E = keys->shape[2];
    Tensor *keys_t = tensor_transpose_last(keys, err);
    if (keys_t == NULL)
        return false;
    const Tensor *ops[2] = {q, keys_t};
    Tensor *scores = trace_einsum(b->trace, "hse,hek->hsk", ops, err), *weights = NULL, *out = NULL;
    tensor_free(keys_t);
    if (scores != NULL) {
        divide_in_place(scores, divisor);
        weights = softmax_last(b->trace, scores, err);
    }
    const Tensor *ops2[2] = {weights, vals};
    if (weights != NULL)
        out = trace_einsum(b->trace, "hij,hjk->hik", ops2, err);
    bool ok = out != NULL && put(b, "kv_scores", reshaped(scores, H, P1, 0, err), err) != NULL &&
              put(b, "kv_weights", reshaped(weights, H, P1, 0, err), err) != NULL &&
              put(b, "kv_output", reshaped(out, H, E, 0, err), err) != NULL;
    tensor_free(scores);
    tensor_free(weights);
    tensor_free(out);
    return ok;
}

/* Token p decoded alone: its query, key and value from its embedding row,
 * the keys and values of tokens 0..p-1 taken from the cache (the part's
 * keys and values), then one row of attention over the p + 1 of them. */
static bool build_mh_kv_decode(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    const size_t S = cfg->n_tokens, D = cfg->d_model, H = cfg->heads, E = config_d_k(cfg);
    consults(b, TRACE_USES_KV);
    const Experiment *kv = experiment_find(b->changes, EXP_KV_CACHE);
    const size_t p = kv->token == SIZE_MAX ? S - 1 : kv->token;
    Tensor *x_p = tensor_new2(1, D, err), *q = NULL, *k = NULL, *v = NULL;
    if (x_p != NULL)
        memcpy(x_p->data, value(b, "sentence_embed")->data + p * D, D * sizeof(float));
    bool ok = x_p != NULL && (q = decode_project(b, x_p, "w_query", err)) != NULL &&
              (k = decode_project(b, x_p, "w_key", err)) != NULL &&
              (v = decode_project(b, x_p, "w_value", err)) != NULL;
    const Tensor *keys = NULL, *vals = NULL;
    char by[80];
    const float divisor = divisor_of(b, (float)sqrt((double)E), E, by, sizeof by);
    ok = ok && put(b, "kv_query", reshaped(q, H, E, 0, err), err) != NULL &&
         (keys = put(b, "kv_keys", decode_cache(b, "keys", k, p, err), err)) != NULL &&
         (vals = put(b, "kv_values", decode_cache(b, "values", v, p, err), err)) != NULL &&
         decode_attend(b, q, value(b, "kv_keys"), value(b, "kv_values"), divisor, err);
    tensor_free(x_p);
    tensor_free(q);
    tensor_free(k);
    tensor_free(v);
    if (!ok)
        return false;
    const Tensor *full = value(b, "head_outputs"), *got = value(b, "kv_output");
    size_t differ = 0;
    for (size_t h = 0; h < H; h++)
        differ += memcmp(got->data + h * E, full->data + (h * S + p) * E, E * sizeof(float)) != 0;
    if (differ == 0)
        title(b, "Token %zu decoded alone with a KV cache: head_outputs[:, %zu], bit for bit", p, p);
    else
        title(b, "Token %zu decoded alone with a KV cache: %zu heads differ from head_outputs[:, %zu]", p, differ, p);
    formula(b, "kv_output = softmax(kv_query · kv_keysᵀ / %s) · kv_values, cache = tokens 0..%zu   → [%zu, %zu]", by,
            p == 0 ? 0 : p - 1, H, E);
    const char *names[] = {"kv_query", "kv_keys", "kv_values", "kv_scores", "kv_weights", "kv_output"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        derive(b, names[i], OP_STAGE, i == 1 ? "keys" : i == 2 ? "values" : NULL, NULL);
    return true;
}

/* Whether cfg's trace decodes one token with a KV cache (an article
 * trace with a kv-cache change). */
static bool is_kv_decode(const Config *cfg)
{
    return cfg->model == NULL && experiment_kv_cache(cfg);
}

/* ------------------------------------------------------------------------
 * The steps of part 3: a GPT-2 checkpoint's block (--model)
 *
 * Each function runs the checkpoint's next stage (gpt2.h), in the stage
 * order, and keeps a copy of what the stage made under its issue-18 name.
 * The Gpt2Trace itself lives in TraceBuild for the length of the build.
 * ---------------------------------------------------------------------- */

/* Whether cfg's trace walks the article (no --model) or a model. */
static bool is_article(const Config *cfg)
{
    return cfg->model == NULL;
}

static bool is_model(const Config *cfg)
{
    return cfg->model != NULL;
}

/* A model trace of a text the checkpoint's tokenizer encoded (not of
 * --token-ids): its BPE can be replayed. */
static bool is_model_of_text(const Config *cfg)
{
    return cfg->model != NULL && cfg->sentence != NULL;
}

/* A model trace of a block after the first: the blocks before it run. */
static bool is_model_after_block_0(const Config *cfg)
{
    return cfg->model != NULL && cfg->layer > 0;
}

/* A model trace's scores again, from its queries and keys, divided by
 * divisor instead of √d_k and masked, as gpt2.c's scores stage makes them. */
static void model_rescore(TraceBuild *b, float divisor)
{
    Gpt2Trace *g = &b->gpt2;
    const size_t S = b->cfg->n_tokens, H = b->cfg->heads, E = config_d_k(b->cfg);
    for (size_t h = 0; h < H; h++) {
        float *sc = g->scores->data + h * S * S;
        matmul_bt_forward(sc, g->queries->data + h * S * E, g->keys->data + h * S * E, S, E, S);
        for (size_t i = 0; i < S * S; i++)
            sc[i] = sc[i] / divisor;
    }
    tensor_causal_mask(g->scores);
}

/* Makes the changes that belong to the stage just run on the forward
 * pass's own tensors, so that the later stages compute from them:
 * no-positions after the embeddings, another divisor after the scores, a
 * zeroed head after the head outputs, and each set= once its tensor is
 * made. The forward pass belongs to the build, so its tensors may be
 * written. False with err set when a set='s index is out of range. */
static bool model_changes(TraceBuild *b, Gpt2Stage stage, Error *err)
{
    const ExperimentSet *set = b->changes;
    if (set == NULL)
        return true;
    if (stage == GPT2_STAGE_EMBED)
        consults(b, TRACE_USES_POSITIONS);
    if (stage == GPT2_STAGE_HEAD_OUTPUTS)
        consults(b, TRACE_USES_HEADS);
    if (stage == GPT2_STAGE_EMBED && experiment_find(set, EXP_NO_POSITIONS) != NULL)
        memset(b->gpt2.position_embed->data, 0, b->gpt2.position_embed->size * sizeof(float));
    const Experiment *scale = experiment_scale(set);
    if (stage == GPT2_STAGE_SCORES && scale != NULL)
        model_rescore(b, experiment_divisor(scale, b->gpt2.scale));
    if (stage == GPT2_STAGE_HEAD_OUTPUTS)
        experiment_zero_heads(set, b->gpt2.head_outputs, NULL, 0);
    for (int i = 0; i < set->n; i++) {
        const Experiment *e = &set->items[i];
        Tensor *t = (Tensor *)gpt2_trace_tensor(&b->gpt2, e->tensor); /* the build's own forward pass */
        if (e->kind != EXP_SET || b->model_set_done[i] || t == NULL)
            continue;
        b->model_set_done[i] = true;
        if (!experiment_apply_one(e, t, err))
            return false;
    }
    return true;
}

/* Runs stage `stage` of the checkpoint's forward pass, then the changes
 * that belong to it. False with err set. */
static bool model_stage(TraceBuild *b, Gpt2Stage stage, Error *err)
{
    return gpt2_trace_stage(b->model, &b->gpt2, stage, err) && model_changes(b, stage, err);
}

/* The step's output `name`: a copy of the stage's tensor of that name (as
 * `as`, or the same name when as is NULL). NULL with err set. */
static Tensor *put_model(TraceBuild *b, const char *name, const char *as, Error *err)
{
    const Tensor *made = gpt2_trace_tensor(&b->gpt2, name);
    ATTN_ASSERT(made != NULL);
    return put(b, as != NULL ? as : name, tensor_copy(made, err), err);
}

/* The step's output out = in0 + in1, element by element (OP_ADD). */
static Tensor *make_sum(TraceBuild *b, const char *out, const char *in0, const char *in1, Error *err)
{
    const Tensor *x = value(b, in0), *y = value(b, in1);
    Tensor *t = put(b, out, tensor_new(x->ndim, x->shape, err), err);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = x->data[i] + y->data[i];
    derive(b, out, OP_ADD, in0, in1);
    return t;
}

static bool build_model_tokens(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens;
    Tensor *ids = put(b, "token_ids", tensor_new1(S, err), err);
    if (ids == NULL)
        return false;
    for (size_t i = 0; i < S; i++)
        ids->data[i] = (float)token_ids(b)[i];
    if (b->cfg->sentence != NULL) {
        char name[LIMIT_PATH_BYTES];
        config_model_name(b->cfg->model, name, sizeof name);
        formula(b, "token_ids = GPT-2 BPE(sentence), by %s/vocab.json and merges.txt   → [%zu]", name, S);
    } else {
        formula(b, "token_ids = the ids given (--token-ids), each below vocab_size %zu   → [%zu]", b->cfg->vocab_size,
                S);
        b->step->explanation = EXPLAIN_MODEL_IDS;
    }
    derive(b, "token_ids", OP_TOKENIZE, NULL, NULL);
    return true;
}

/* Rows of wte and wpe, and their sum (block 0's input). */
static bool build_model_embed(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, V = b->cfg->vocab_size;
    if (!model_stage(b, GPT2_STAGE_EMBED, err) || put_model(b, "token_embed", NULL, err) == NULL ||
        put_model(b, "position_embed", NULL, err) == NULL ||
        make_sum(b, "embed_sum", "token_embed", "position_embed", err) == NULL)
        return false;
    /* at layer 0 the sum is what enters the block; the blocks stage only passes it on */
    if (b->cfg->layer == 0 &&
        (!model_stage(b, GPT2_STAGE_BLOCKS, err) || put_model(b, "block_input", NULL, err) == NULL))
        return false;
    formula(b, "embed_sum = wte[token_ids] + wpe[0..%zu]%s   [%zu, %zu][%zu] + [%zu, %zu] → [%zu, %zu]", S - 1,
            experiment_find(b->changes, EXP_NO_POSITIONS) != NULL ? ", wpe rows zeroed (no-positions)" : "", V, D, S, S,
            D, S, D);
    derive(b, "token_embed", OP_STAGE, NULL, NULL);
    derive(b, "position_embed", OP_STAGE, NULL, NULL);
    return true;
}

static bool build_model_blocks(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, L = b->cfg->layer;
    if (!model_stage(b, GPT2_STAGE_BLOCKS, err) || put_model(b, "block_input", NULL, err) == NULL)
        return false;
    char blocks[48];
    snprintf(blocks, sizeof blocks, L == 1 ? "block 0" : "blocks 0..%zu", L - 1);
    title(b, "The residual stream entering block %zu", L);
    formula(b, "block_input = %s(embed_sum), each x += attn(ln_1(x)); x += mlp(ln_2(x))   [%zu, %zu] → [%zu, %zu]",
            blocks, S, D, S, D);
    derive(b, "block_input", OP_STAGE, "embed_sum", NULL);
    return true;
}

/* The step's output `name`: a copy of floats[0..n), as a vector. */
static Tensor *put_floats(TraceBuild *b, const char *name, const float *floats, size_t n, Error *err)
{
    Tensor *t = put(b, name, tensor_new1(n, err), err);
    if (t != NULL)
        memcpy(t->data, floats, n * sizeof *floats);
    return t;
}

/* LayerNorm with its parts shown: each row's mean and 1/√(var + ε), and
 * the block's scale and shift, so the inspector can redo any value. */
static bool build_model_ln_1(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, L = b->cfg->layer;
    const Gpt2Trace *g = &b->gpt2;
    if (!model_stage(b, GPT2_STAGE_LN_1, err) || put_floats(b, "ln_1_mean", g->ln_1_mean, S, err) == NULL ||
        put_floats(b, "ln_1_rstd", g->ln_1_rstd, S, err) == NULL ||
        put_floats(b, "ln_1.weight", g->block.w[GPT2_LN_1_WEIGHT], D, err) == NULL ||
        put_floats(b, "ln_1.bias", g->block.w[GPT2_LN_1_BIAS], D, err) == NULL ||
        put_model(b, "ln_1", NULL, err) == NULL)
        return false;
    formula(b, "ln_1 = (x − mean) · rstd · γ + β per row, γ, β = h.%zu.ln_1.weight, .bias   [%zu, %zu] → [%zu, %zu]", L,
            S, D, S, D);
    derive(b, "ln_1_mean", OP_STAGE, "block_input", NULL);
    derive(b, "ln_1_rstd", OP_STAGE, "block_input", NULL);
    derive(b, "ln_1.weight", OP_STAGE, NULL, NULL);
    derive(b, "ln_1.bias", OP_STAGE, NULL, NULL);
    Derivation *how = derive(b, "ln_1", OP_LAYERNORM, "block_input", "ln_1_mean");
    how->in[2] = slot(b, "ln_1_rstd");
    how->in[3] = slot(b, "ln_1.weight");
    how->in[4] = slot(b, "ln_1.bias");
    return true;
}

/* A block weight as the step's output `name`: a copy of the [rows, cols]
 * float32 matrix w (cols 0: a vector of rows). */
static Tensor *put_weight(TraceBuild *b, const char *name, const float *w, size_t rows, size_t cols, Error *err)
{
    Tensor *t = put(b, name, cols == 0 ? tensor_new1(rows, err) : tensor_new2(rows, cols, err), err);
    if (t != NULL)
        memcpy(t->data, w, t->size * sizeof *w);
    return t;
}

/* The c_attn product, with its weight and bias shown, so the inspector
 * can add up any value of qkv as addmm_forward did. */
static bool build_model_qkv(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, L = b->cfg->layer;
    const float *const *w = b->gpt2.block.w;
    if (!model_stage(b, GPT2_STAGE_QKV, err) ||
        put_weight(b, "c_attn.weight", w[GPT2_C_ATTN_WEIGHT], D, 3 * D, err) == NULL ||
        put_weight(b, "c_attn.bias", w[GPT2_C_ATTN_BIAS], 3 * D, 0, err) == NULL ||
        put_model(b, "qkv", NULL, err) == NULL)
        return false;
    formula(b, "qkv = ln_1 · W + b, W = h.%zu.attn.c_attn.weight [%zu, %zu], b = .bias [%zu]   [%zu, %zu] → [%zu, %zu]",
            L, D, 3 * D, 3 * D, S, D, S, 3 * D);
    derive(b, "c_attn.weight", OP_STAGE, NULL, NULL);
    derive(b, "c_attn.bias", OP_STAGE, NULL, NULL);
    Derivation *how = derive(b, "qkv", OP_ADDMM, "ln_1", "c_attn.weight");
    how->in[2] = slot(b, "c_attn.bias");
    return true;
}

static bool build_model_heads(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, H = b->cfg->heads, E = config_d_k(b->cfg);
    if (!model_stage(b, GPT2_STAGE_SPLIT_HEADS, err) || put_model(b, "queries", NULL, err) == NULL ||
        put_model(b, "keys", NULL, err) == NULL || put_model(b, "values", NULL, err) == NULL)
        return false;
    title(b, "Split qkv into q, k, v and into %zu heads of %zu", H, E);
    formula(b,
            "queries[h] = qkv[:, h·%zu : (h+1)·%zu], keys at + %zu, values at + %zu   "
            "[%zu, %zu] → 3 × [%zu, %zu, %zu]",
            E, E, D, 2 * D, S, 3 * D, H, S, E);
    derive(b, "queries", OP_SPLIT_QKV, "qkv", NULL)->qkv_part = 0;
    derive(b, "keys", OP_SPLIT_QKV, "qkv", NULL)->qkv_part = 1;
    derive(b, "values", OP_SPLIT_QKV, "qkv", NULL)->qkv_part = 2;
    return true;
}

static bool build_model_scores(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, H = b->cfg->heads, E = config_d_k(b->cfg);
    if (!model_stage(b, GPT2_STAGE_SCORES, err) || put_model(b, "scores", NULL, err) == NULL)
        return false;
    char by[80];
    const float divisor = divisor_of(b, b->gpt2.scale, E, by, sizeof by);
    formula(b, "scores = einsum('hse,hek->hsk', queries, keysᵀ) / %s, masked   [%zu, %zu, %zu] → [%zu, %zu, %zu]", by,
            H, S, E, H, S, S);
    Derivation *how = derive(b, "scores", OP_EINSUM, "queries", "keys");
    how->equation = "hse,hek->hsk";
    how->in1_transposed = true;
    how->divisor = divisor;
    how->causal = true;
    return true;
}

static bool build_model_softmax(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, H = b->cfg->heads;
    if (!model_stage(b, GPT2_STAGE_SOFTMAX, err) || put_model(b, "attention_weights", NULL, err) == NULL)
        return false;
    formula(b, "attention_weights = softmax(scores, dim=-1)   [%zu, %zu, %zu] → [%zu, %zu, %zu]", H, S, S, H, S, S);
    derive(b, "attention_weights", OP_SOFTMAX, "scores", NULL);
    return true;
}

static bool build_model_weighted_sum(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, H = b->cfg->heads, E = config_d_k(b->cfg);
    if (!model_stage(b, GPT2_STAGE_HEAD_OUTPUTS, err) || put_model(b, "head_outputs", NULL, err) == NULL)
        return false;
    formula(b, "head_outputs = einsum('hij,hjk->hik', attention_weights, values)   [%zu, %zu, %zu] → [%zu, %zu, %zu]",
            H, S, S, H, S, E);
    derive(b, "head_outputs", OP_EINSUM, "attention_weights", "values")->equation = "hij,hjk->hik";
    return true;
}

static bool build_model_concat(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, H = b->cfg->heads, E = config_d_k(b->cfg);
    if (!model_stage(b, GPT2_STAGE_CONCAT, err) || put_model(b, "concat_heads", NULL, err) == NULL)
        return false;
    formula(b, "concat_heads = head_outputs.permute(1, 0, 2).reshape(%zu, -1)   [%zu, %zu, %zu] → [%zu, %zu]", S, H, S,
            E, S, D);
    derive(b, "concat_heads", OP_CONCAT_HEADS, "head_outputs", NULL);
    return true;
}

/* c_proj and its bias, then the residual add. */
static bool build_model_c_proj(TraceBuild *b, Error *err)
{
    const size_t S = b->cfg->n_tokens, D = b->cfg->d_model, L = b->cfg->layer;
    const float *const *w = b->gpt2.block.w;
    if (!model_stage(b, GPT2_STAGE_C_PROJ, err) ||
        put_weight(b, "c_proj.weight", w[GPT2_ATTN_PROJ_WEIGHT], D, D, err) == NULL ||
        put_weight(b, "c_proj.bias", w[GPT2_ATTN_PROJ_BIAS], D, 0, err) == NULL ||
        put_model(b, "attn_output", NULL, err) == NULL || !model_stage(b, GPT2_STAGE_RESIDUAL, err) ||
        make_sum(b, "attn_residual", "block_input", "attn_output", err) == NULL)
        return false;
    formula(b,
            "attn_output = concat_heads · W + b, W = h.%zu.attn.c_proj.weight [%zu, %zu]; attn_residual = "
            "block_input + attn_output   → [%zu, %zu]",
            L, D, D, S, D);
    derive(b, "c_proj.weight", OP_STAGE, NULL, NULL);
    derive(b, "c_proj.bias", OP_STAGE, NULL, NULL);
    Derivation *how = derive(b, "attn_output", OP_ADDMM, "concat_heads", "c_proj.weight");
    how->in[2] = slot(b, "c_proj.bias");
    return true;
}

/* The escaped form of the character or byte at bytes[0..len) into piece
 * (8 bytes); returns how many bytes it used (see trace_token_display). */
static size_t display_piece(const unsigned char *bytes, size_t len, char piece[8])
{
    char one[5] = {0};
    memcpy(one, bytes, len < 4 ? len : 4);
    uint32_t cp;
    int got = bytes[0] == 0 ? 0 : utf8_decode(one, &cp);
    if (got > 0 && cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f) && cp != '\\') {
        memcpy(piece, bytes, (size_t)got);
        piece[got] = '\0';
        return (size_t)got;
    }
    if (bytes[0] == '\\' || bytes[0] == '\n' || bytes[0] == '\t' || bytes[0] == '\r')
        snprintf(piece, 8, "\\%c", bytes[0] == '\\' ? '\\' : bytes[0] == '\n' ? 'n' : bytes[0] == '\t' ? 't' : 'r');
    else
        snprintf(piece, 8, "\\x%02X", bytes[0]);
    return 1;
}

/* Writes the pieces of bytes into out while they fit in size; with
 * reserve, keeps room for "..." and ends in it when they do not all fit.
 * Returns false (without reserve) when they do not all fit. */
static bool display_pieces(const unsigned char *bytes, size_t len, char *out, size_t size, bool reserve)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < len;) {
        char piece[8];
        size_t step = display_piece(bytes + i, len - i, piece), plen = strlen(piece);
        if (used + plen + (reserve ? 4 : 1) > size) {
            if (reserve)
                snprintf(out + used, size - used, "...");
            return reserve;
        }
        memcpy(out + used, piece, plen + 1);
        used += plen;
        i += step;
    }
    return true;
}

void trace_token_display(const unsigned char *bytes, size_t len, char *out, size_t size)
{
    if (!display_pieces(bytes, len, out, size, false))
        display_pieces(bytes, len, out, size, true);
}

/* The tokenizer of a model trace's checkpoint (DIR/vocab.json and
 * merges.txt), or NULL when it has none or they do not load: the next
 * tokens are then shown by their ids alone. The caller frees it with
 * bpe_free. Reading GPT-2's takes about 20 ms. */
static Bpe *model_tokenizer(const Config *cfg)
{
    char vocab[LIMIT_PATH_BYTES], merges[LIMIT_PATH_BYTES];
    if (snprintf(vocab, sizeof vocab, "%s/vocab.json", cfg->model) >= (int)sizeof vocab ||
        snprintf(merges, sizeof merges, "%s/merges.txt", cfg->model) >= (int)sizeof merges)
        return NULL;
    return bpe_load(vocab, merges, NULL);
}

/* Fills trace->next_tokens from the stage's top 5, naming each by its
 * bytes when bpe is not NULL, and writes the step's explanation: the five
 * with their probabilities and ids, then the paragraph. */
static void fill_next_tokens(TraceBuild *b, const Bpe *bpe)
{
    Trace *trace = b->trace;
    trace->n_next_tokens = GPT2_TOP_K;
    char list[TRACE_NEXT_EXPLAIN_BYTES / 2] = ""; /* five entries of at most 80 bytes of text and their numbers */
    size_t used = 0;
    for (size_t k = 0; k < GPT2_TOP_K; k++) {
        TraceNextToken *nt = &trace->next_tokens[k];
        memset(nt, 0, sizeof *nt);
        nt->id = b->gpt2.top_ids[k];
        nt->probability = b->gpt2.top_probs[k];
        size_t len = 0;
        const char *bytes = bpe != NULL && nt->id >= 0 && nt->id <= INT32_MAX
                                ? bpe_token_bytes(bpe, (int32_t)nt->id, &len)
                                : NULL;
        if (bytes != NULL) {
            nt->has_text = true;
            nt->n_bytes = len < TRACE_TOKEN_BYTES ? len : TRACE_TOKEN_BYTES;
            memcpy(nt->bytes, bytes, nt->n_bytes);
            trace_token_display((const unsigned char *)bytes, len, nt->text, sizeof nt->text);
        }
        int n = nt->has_text ? snprintf(list + used, sizeof list - used, "%s\"%.80s\" %.4f (id %ld)", k > 0 ? ", " : "",
                                        nt->text, (double)nt->probability, nt->id)
                             : snprintf(list + used, sizeof list - used, "%sid %ld %.4f", k > 0 ? ", " : "", nt->id,
                                        (double)nt->probability);
        if (n > 0 && used + (size_t)n < sizeof list)
            used += (size_t)n;
    }
    snprintf(trace->next_explanation, sizeof trace->next_explanation, "The five most likely next tokens%s: %s.\n\n%s",
             bpe != NULL ? "" : " (by id: the checkpoint has no vocab.json to name them)", list,
             EXPLAIN_MODEL_NEXT_TOKEN);
    b->step->explanation = trace->next_explanation;
}

/* The rest of the model, ln_f, the logits of the last token and the top 5. */
static bool build_model_next_token(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    const size_t S = cfg->n_tokens, D = cfg->d_model, V = cfg->vocab_size;
    Tensor *ids, *probs;
    if (!model_stage(b, GPT2_STAGE_NEXT_TOKEN, err) || put_model(b, "ln_f", NULL, err) == NULL ||
        put_model(b, "next_token_probs", NULL, err) == NULL ||
        (ids = put(b, "top_ids", tensor_new1(GPT2_TOP_K, err), err)) == NULL ||
        (probs = put(b, "top_probs", tensor_new1(GPT2_TOP_K, err), err)) == NULL)
        return false;
    for (size_t k = 0; k < GPT2_TOP_K; k++) {
        ids->data[k] = (float)b->gpt2.top_ids[k];
        probs->data[k] = b->gpt2.top_probs[k];
    }
    Bpe *bpe = model_tokenizer(cfg);
    fill_next_tokens(b, bpe);
    consults(b, TRACE_USES_TOKENS); /* the title quotes the last token */
    const char *top = cfg->sentence != NULL && bpe != NULL && b->gpt2.top_ids[0] >= 0 && b->gpt2.top_ids[0] <= INT32_MAX
                          ? bpe_token_text(bpe, (int32_t)b->gpt2.top_ids[0], NULL)
                          : NULL;
    if (top != NULL)
        title(b, "The model's next token after \"%.24s\": \"%.24s\" (id %ld, p %.3f)", cfg->tokens[S - 1], top,
              b->gpt2.top_ids[0], (double)b->gpt2.top_probs[0]);
    else
        title(b, "The model's next token after \"%.24s\": id %ld (p %.3f)", cfg->tokens[S - 1], b->gpt2.top_ids[0],
              (double)b->gpt2.top_probs[0]);
    bpe_free(bpe);
    char rest[64] = "";
    if (cfg->layer + 1 < cfg->n_layer)
        snprintf(rest, sizeof rest, " and blocks %zu..%zu", cfg->layer + 1, cfg->n_layer - 1);
    formula(b,
            "next_token_probs = softmax(ln_f[%zu] · wteᵀ); ln_f after block %zu's MLP%s   [%zu] · [%zu, %zu]ᵀ → [%zu]",
            S - 1, cfg->layer, rest, D, V, D, V);
    derive(b, "ln_f", OP_STAGE, NULL, NULL);
    derive(b, "next_token_probs", OP_STAGE, NULL, NULL);
    derive(b, "top_ids", OP_STAGE, "next_token_probs", NULL);
    derive(b, "top_probs", OP_STAGE, "next_token_probs", NULL);
    return true;
}

/* The text of a StrBuf as an owned string (the caller frees it), or NULL
 * when it ran out of memory; sb is left empty. */
static char *strbuf_take(StrBuf *sb)
{
    char *text = sb->failed ? NULL : strdup(strbuf_text(sb));
    strbuf_free(sb);
    return text;
}

/* Appends bytes[0..len) as GPT-2's byte-level characters ("Ġcapital"). */
static void put_byte_chars(StrBuf *out, const char *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char utf8[8];
        utf8_encode(bpe_byte_char((unsigned char)bytes[i]), utf8);
        strbuf_puts(out, utf8);
    }
}

/* Appends pieces ids[0..n) as vocab.json writes them, a space between. */
static void put_pieces(StrBuf *out, const Bpe *bpe, const int32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *text = bpe_token_text(bpe, ids[i], NULL);
        strbuf_printf(out, "%s%s", i > 0 ? " " : "", text != NULL ? text : "?");
    }
}

/* Word w (bytes word[0..len)) replayed, as lines: its bytes, its
 * characters, each merge in the order applied with the pieces after it,
 * and its ids. Returns an owned string, or NULL with err set. */
static char *replay_text(const Bpe *bpe, const char *word, size_t len, size_t w, Error *err)
{
    StrBuf out = {0};
    strbuf_printf(&out, "word %zu: bytes", w);
    for (size_t i = 0; i < len && i < 64; i++)
        strbuf_printf(&out, " %02X", (unsigned char)word[i]);
    strbuf_puts(&out, len > 64 ? " ...\nas characters: " : "\nas characters: ");
    put_byte_chars(&out, word, len);
    if (len > LIMIT_BPE_REPLAY_BYTES) {
        strbuf_printf(&out, "\n(%zu bytes: longer than the %d a replay shows)", len, LIMIT_BPE_REPLAY_BYTES);
        return strbuf_take(&out);
    }
    BpeReplay *r = bpe_replay(bpe, word, len, err);
    if (r == NULL) {
        strbuf_free(&out);
        return NULL;
    }
    size_t n;
    const int32_t *state = bpe_replay_state(r, 0, &n);
    strbuf_printf(&out, "\nstart, one piece a byte (%zu):\n  ", n);
    put_pieces(&out, bpe, state, n);
    for (size_t k = 0; k < r->n_steps; k++) {
        const BpeStep *st = &r->steps[k];
        strbuf_printf(&out, "\nmerge %zu: rank %zu, %s + %s → %s", k + 1, st->rank, bpe_token_text(bpe, st->left, NULL),
                      bpe_token_text(bpe, st->right, NULL), bpe_token_text(bpe, st->merged, NULL));
        if (st->count > 1)
            strbuf_printf(&out, " (%zu times)", st->count);
        state = bpe_replay_state(r, k + 1, &n);
        strbuf_puts(&out, "\n  ");
        put_pieces(&out, bpe, state, n);
    }
    strbuf_printf(&out, "\n%s %zu merge%s, no pair left in merges.txt; ids:", r->n_steps > 0 ? "after" : "no merge:",
                  r->n_steps, r->n_steps == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&out, " %d", state[i]);
    bpe_replay_free(r);
    return strbuf_take(&out);
}

/* The gpt2_bpe step's explanation for enc: the byte map's rule, the
 * words, and what each became, then the paragraph. */
static char *bpe_explanation(const Config *cfg, const BpeEncoding *enc)
{
    StrBuf out = {0};
    strbuf_printf(&out,
                  "The text's %zu bytes are read as characters: the 188 printable bytes stand for themselves and "
                  "the other 68 (controls, the space, a few more) for U+0100 on, in order, so a space (byte 0x20) "
                  "becomes Ġ (U+0120). GPT-2's pattern cuts it into %zu word%s:",
                  enc->text_len, enc->n_words, enc->n_words == 1 ? "" : "s");
    for (size_t w = 0; w < enc->n_words; w++) {
        strbuf_printf(&out, "%s %zu ", w > 0 ? "," : "", w);
        put_byte_chars(&out, enc->text + enc->words[w].start, enc->words[w].len);
        strbuf_printf(&out, " (%zu token%s)", enc->words[w].n_tokens, enc->words[w].n_tokens == 1 ? "" : "s");
    }
    strbuf_printf(&out, "; %zu tokens in all", enc->n_tokens);
    if (enc->replaced > 0)
        strbuf_printf(&out, " (%zu invalid UTF-8 sequence%s became U+FFFD first)", enc->replaced,
                      enc->replaced == 1 ? "" : "s");
    if (cfg->n_tokens != enc->n_tokens)
        strbuf_printf(&out, ", repeated to %zu by --tokens", cfg->n_tokens);
    strbuf_printf(&out, ". Select a word in word_pieces and press Enter to see its merges.\n\n%s", EXPLAIN_MODEL_BPE);
    return strbuf_take(&out);
}

/* Byte-level BPE replayed: the text's bytes, and per word of the
 * pre-split the pieces it ends in (the inspector shows its merges). */
static bool build_model_bpe(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    Trace *trace = b->trace;
    consults(b, TRACE_USES_TOKENS); /* the sentence's words */
    Bpe *bpe = model_tokenizer(cfg);
    if (bpe == NULL)
        return error_set(err, STATUS_NOINPUT, "%s: vocab.json and merges.txt cannot be read again", cfg->model);
    BpeEncoding *enc = bpe_encode(bpe, cfg->sentence, strlen(cfg->sentence), err);
    Tensor *bytes = NULL, *pieces = NULL;
    bool ok = enc != NULL && enc->n_words > 0 &&
              (bytes = put(b, "text_bytes", tensor_new1(enc->text_len, err), err)) != NULL &&
              (pieces = put(b, "word_pieces", tensor_new1(enc->n_words, err), err)) != NULL &&
              (trace->bpe_words = calloc(enc->n_words, sizeof *trace->bpe_words)) != NULL &&
              (trace->bpe_explanation = bpe_explanation(cfg, enc)) != NULL;
    for (size_t w = 0; ok && w < enc->n_words; w++) {
        pieces->data[w] = (float)enc->words[w].n_tokens;
        ok = (trace->bpe_words[w] = replay_text(bpe, enc->text + enc->words[w].start, enc->words[w].len, w, err)) !=
             NULL;
        trace->n_bpe_words = w + 1;
    }
    for (size_t i = 0; ok && i < enc->text_len; i++)
        bytes->data[i] = (float)(unsigned char)enc->text[i];
    if (ok) {
        b->step->explanation = trace->bpe_explanation;
        formula(b, "word_pieces = BPE(pre-split(text_bytes)), by merges.txt   [%zu] bytes → [%zu] words → %zu ids",
                enc->text_len, enc->n_words, enc->n_tokens);
        derive(b, "text_bytes", OP_BPE_BYTE, NULL, NULL);
        derive(b, "word_pieces", OP_BPE_WORD, NULL, NULL);
    } else if (enc != NULL && err->status == STATUS_OK) {
        error_set(err, STATUS_FAILURE, "out of memory replaying the BPE");
    }
    bpe_encoding_free(enc);
    bpe_free(bpe);
    return ok;
}

/* ------------------------------------------------------------------------
 * The step table
 *
 * One row per step, in the order a trace makes them. A row's tensors are
 * what the step shows, in order: IN names a tensor an earlier step of the
 * part made, OUT one this step's function makes (through put). DIMS_*
 * say what each dimension runs over. How to add a row: "How to add a
 * step" in docs/architecture.md.
 * ---------------------------------------------------------------------- */

#define DIMS_S                                                                                                         \
    1,                                                                                                                 \
    {                                                                                                                  \
        DIM_SEQ                                                                                                        \
    }
#define DIMS_D                                                                                                         \
    1,                                                                                                                 \
    {                                                                                                                  \
        DIM_MODEL                                                                                                      \
    }
#define DIMS_SD                                                                                                        \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_SEQ, DIM_MODEL                                                                                             \
    }
#define DIMS_SS                                                                                                        \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_SEQ, DIM_SEQ                                                                                               \
    }
#define DIMS_DD                                                                                                        \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_MODEL, DIM_MODEL                                                                                           \
    }
#define DIMS_VD                                                                                                        \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_VOCAB, DIM_MODEL                                                                                           \
    }
#define DIMS_HDE                                                                                                       \
    3,                                                                                                                 \
    {                                                                                                                  \
        DIM_HEAD, DIM_MODEL, DIM_HEAD_DIM                                                                              \
    }
#define DIMS_HSE                                                                                                       \
    3,                                                                                                                 \
    {                                                                                                                  \
        DIM_HEAD, DIM_SEQ, DIM_HEAD_DIM                                                                                \
    }
#define DIMS_HSS                                                                                                       \
    3,                                                                                                                 \
    {                                                                                                                  \
        DIM_HEAD, DIM_SEQ, DIM_SEQ                                                                                     \
    }
#define DIMS_S3D                                                                                                       \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_SEQ, DIM_OTHER                                                                                             \
    }
#define DIMS_D3D                                                                                                       \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_MODEL, DIM_OTHER                                                                                           \
    }
#define DIMS_V                                                                                                         \
    1,                                                                                                                 \
    {                                                                                                                  \
        DIM_VOCAB                                                                                                      \
    }
#define DIMS_K                                                                                                         \
    1,                                                                                                                 \
    {                                                                                                                  \
        DIM_OTHER                                                                                                      \
    }

#define DIMS_HE                                                                                                        \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_HEAD, DIM_HEAD_DIM                                                                                         \
    }
#define DIMS_HS                                                                                                        \
    2,                                                                                                                 \
    {                                                                                                                  \
        DIM_HEAD, DIM_SEQ                                                                                              \
    }

#define IN(name, dims)                                                                                                 \
    {                                                                                                                  \
        name, dims, false, false                                                                                       \
    }
#define OUT(name, dims)                                                                                                \
    {                                                                                                                  \
        name, dims, true, false                                                                                        \
    }
#define IN_IDS(name, dims)                                                                                             \
    {                                                                                                                  \
        name, dims, false, true                                                                                        \
    }
#define OUT_IDS(name, dims)                                                                                            \
    {                                                                                                                  \
        name, dims, true, true                                                                                         \
    }

static const TraceStepDef STEP_DEFS[] = {
    /* part 1 */
    {.id = "tokenize",
     .part = PART_SINGLE_HEAD,
     .uses = TRACE_USES_TOKENS,
     .applies = is_article,
     .title = "Turn the words into token ids",
     .torch = "tokenized_sentence = torch.tensor(token_ids)",
     .explanation = EXPLAIN_TOKENIZE,
     .build = build_tokenize,
     .tensors = {OUT_IDS("tokenized_sentence", DIMS_S)}},
    {.id = "embed",
     .part = PART_SINGLE_HEAD,
     .uses = TRACE_USES_TOKENS,
     .applies = is_article,
     .title = "Look up each token's embedding",
     .torch = "torch.manual_seed(seed); embed = torch.nn.Embedding(vocab_size, d); "
              "embedding = embed.weight.detach(); sentence_embed = embed(tokenized_sentence).detach()",
     .explanation = EXPLAIN_EMBED,
     .build = build_embed,
     .tensors = {IN_IDS("tokenized_sentence", DIMS_S), OUT("embedding", DIMS_VD), OUT("sentence_embed", DIMS_SD)}},
    {.id = "weights",
     .part = PART_SINGLE_HEAD,
     .applies = is_article,
     .title = "Draw the key, query and value matrices",
     .torch = "w_key = torch.rand(d, d); w_query = torch.rand(d, d); w_value = torch.rand(d, d)",
     .explanation = EXPLAIN_WEIGHTS,
     .build = build_weights,
     .main = "w_key",
     .tensors = {OUT("w_key", DIMS_DD), OUT("w_query", DIMS_DD), OUT("w_value", DIMS_DD)}},
    {.id = "project_token",
     .part = PART_SINGLE_HEAD,
     .uses = TRACE_USES_TOKENS,
     .applies = is_article,
     .title = "Key, query and value of the focus token",
     .torch = "x_# = sentence_embed[# - 1]; key_# = w_key.matmul(x_#); query_# = w_query.matmul(x_#); "
              "value_# = w_value.matmul(x_#)",
     .explanation = EXPLAIN_PROJECT_TOKEN,
     .build = build_project_token,
     .main = "key_#",
     .tensors = {IN("sentence_embed", DIMS_SD), OUT("x_#", DIMS_D), IN("w_key", DIMS_DD), IN("w_query", DIMS_DD),
                 IN("w_value", DIMS_DD), OUT("key_#", DIMS_D), OUT("query_#", DIMS_D), OUT("value_#", DIMS_D)}},
    {.id = "keys_values",
     .part = PART_SINGLE_HEAD,
     .applies = is_article,
     .title = "Keys and values of every token",
     .torch = "keys = sentence_embed.matmul(w_key.T); values = sentence_embed.matmul(w_value.T)",
     .explanation = EXPLAIN_KEYS_VALUES,
     .build = build_keys_values,
     .main = "keys",
     .tensors = {IN("sentence_embed", DIMS_SD), IN("w_key", DIMS_DD), IN("w_value", DIMS_DD), OUT("keys", DIMS_SD),
                 OUT("values", DIMS_SD)}},
    {.id = "scores",
     .part = PART_SINGLE_HEAD,
     .applies = is_article,
     .title = "Score the focus token's query against every key",
     .torch = "scores_# = query_#.matmul(keys.T)",
     .explanation = EXPLAIN_SCORES,
     .build = build_scores,
     .tensors = {IN("query_#", DIMS_D), IN("keys", DIMS_SD), OUT("scores_#", DIMS_S)}},
    {.id = "scale",
     .part = PART_SINGLE_HEAD,
     .uses = TRACE_USES_MASK | TRACE_USES_DIVISOR,
     .applies = is_article,
     .title = "Scale the scores",
     .torch = "scaled_scores_# = scores_# / d ** 0.5",
     .explanation = EXPLAIN_SCALE,
     .build = build_scale,
     .tensors = {IN("scores_#", DIMS_S), OUT("scaled_scores_#", DIMS_S)}},
    {.id = "softmax",
     .part = PART_SINGLE_HEAD,
     .applies = is_article,
     .title = "Softmax: scores become attention weights",
     .torch = "a# = F.softmax(scaled_scores_#, dim=0)",
     .explanation = EXPLAIN_SOFTMAX,
     .build = build_softmax,
     .tensors = {IN("scaled_scores_#", DIMS_S), OUT("a#", DIMS_S)}},
    {.id = "weighted_sum",
     .part = PART_SINGLE_HEAD,
     .applies = is_article,
     .title = "Blend the values by the weights",
     .torch = "z# = a#.matmul(values)",
     .explanation = EXPLAIN_WEIGHTED_SUM,
     .build = build_weighted_sum,
     .tensors = {IN("a#", DIMS_S), IN("values", DIMS_SD), OUT("z#", DIMS_D)}},
    {.id = "all_tokens",
     .part = PART_SINGLE_HEAD,
     .uses = TRACE_USES_MASK | TRACE_USES_DIVISOR,
     .applies = is_article,
     .title = "Every token at once",
     .torch = "queries = sentence_embed.matmul(w_query.T); scores = queries.matmul(keys.T) / d ** 0.5; "
              "attention_weights = F.softmax(scores, dim=-1); z = attention_weights.matmul(values)",
     .explanation = EXPLAIN_ALL_TOKENS,
     .build = build_all_tokens,
     .main = "attention_weights",
     .tensors = {IN("sentence_embed", DIMS_SD), IN("w_query", DIMS_DD), OUT("queries", DIMS_SD), IN("keys", DIMS_SD),
                 IN("values", DIMS_SD), OUT("scores", DIMS_SS), OUT("attention_weights", DIMS_SS), OUT("z", DIMS_SD)}},
    /* part 2 */
    {.id = "mh_weights",
     .part = PART_MULTI_HEAD,
     .uses = TRACE_USES_TOKENS,
     .applies = is_article,
     .title = "Stacked weights for every head",
     .torch = "torch.manual_seed(seed); "
              "sentence_embed = torch.nn.Embedding(vocab_size, d)(tokenized_sentence).detach(); "
              "w_query = torch.rand(h, d, d_k); w_key = torch.rand(h, d, d_k); "
              "w_value = torch.rand(h, d, d_k); w_output = torch.rand(d, d)",
     .explanation = EXPLAIN_MH_WEIGHTS,
     .build = build_mh_weights,
     .main = "w_query",
     .tensors = {OUT("w_query", DIMS_HDE), OUT("w_key", DIMS_HDE), OUT("w_value", DIMS_HDE), OUT("w_output", DIMS_DD)}},
    {.id = "mh_project",
     .part = PART_MULTI_HEAD,
     .applies = is_article,
     .title = "Queries, keys and values for every head",
     .torch = "queries = torch.einsum(\"sd,hde->hse\", sentence_embed, w_query); "
              "keys = torch.einsum(\"sd,hde->hse\", sentence_embed, w_key); "
              "values = torch.einsum(\"sd,hde->hse\", sentence_embed, w_value)",
     .explanation = EXPLAIN_MH_PROJECT,
     .einsum = "sd,hde->hse",
     .build = build_mh_project,
     .main = "queries",
     .tensors = {IN("sentence_embed", DIMS_SD), IN("w_query", DIMS_HDE), IN("w_key", DIMS_HDE), IN("w_value", DIMS_HDE),
                 OUT("queries", DIMS_HSE), OUT("keys", DIMS_HSE), OUT("values", DIMS_HSE)}},
    {.id = "mh_scores",
     .part = PART_MULTI_HEAD,
     .uses = TRACE_USES_MASK | TRACE_USES_DIVISOR,
     .applies = is_article,
     .title = "Scores of every head",
     .torch = "scores = torch.einsum(\"hse,hek->hsk\", queries, keys.transpose(-2, -1)) / d_k ** 0.5",
     .explanation = EXPLAIN_MH_SCORES,
     .einsum = "hse,hek->hsk",
     .build = build_mh_scores,
     .tensors = {IN("queries", DIMS_HSE), IN("keys", DIMS_HSE), OUT("scores", DIMS_HSS)}},
    {.id = "mh_softmax",
     .part = PART_MULTI_HEAD,
     .applies = is_article,
     .title = "Softmax in every head",
     .torch = "attention_weights = F.softmax(scores, dim=-1)",
     .explanation = EXPLAIN_MH_SOFTMAX,
     .build = build_mh_softmax,
     .default_picture = true,
     .tensors = {IN("scores", DIMS_HSS), OUT("attention_weights", DIMS_HSS)}},
    {.id = "mh_weighted_sum",
     .part = PART_MULTI_HEAD,
     .uses = TRACE_USES_HEADS,
     .applies = is_article,
     .title = "Every head blends its values",
     .torch = "head_outputs = torch.einsum(\"hij,hjk->hik\", attention_weights, values)",
     .explanation = EXPLAIN_MH_WEIGHTED_SUM,
     .einsum = "hij,hjk->hik",
     .build = build_mh_weighted_sum,
     .tensors = {IN("attention_weights", DIMS_HSS), IN("values", DIMS_HSE), OUT("head_outputs", DIMS_HSE)}},
    {.id = "mh_concat",
     .part = PART_MULTI_HEAD,
     .applies = is_article,
     .title = "Put the heads side by side",
     .torch = "concat_heads = head_outputs.permute(1, 0, 2).reshape(s, -1)",
     .explanation = EXPLAIN_MH_CONCAT,
     .build = build_mh_concat,
     .tensors = {IN("head_outputs", DIMS_HSE), OUT("concat_heads", DIMS_SD)}},
    {.id = "mh_output",
     .part = PART_MULTI_HEAD,
     .applies = is_article,
     .title = "Mix the heads with the output matrix",
     .torch = "multihead_output = concat_heads.matmul(w_output)",
     .explanation = EXPLAIN_MH_OUTPUT,
     .build = build_mh_output,
     .tensors = {IN("concat_heads", DIMS_SD), IN("w_output", DIMS_DD), OUT("multihead_output", DIMS_SD)}},
    /* part 3: a GPT-2 checkpoint (--model), the only part of a model trace */
    {.id = "gpt2_bpe",
     .part = PART_MODEL,
     .uses = TRACE_USES_TOKENS,
     .applies = is_model_of_text,
     .title = "Byte-level BPE: the text becomes token ids",
     .explanation = EXPLAIN_MODEL_BPE,
     .build = build_model_bpe,
     .main = "word_pieces",
     .tensors = {OUT_IDS("text_bytes", DIMS_K), OUT_IDS("word_pieces", DIMS_K)}},
    {.id = "gpt2_tokens",
     .part = PART_MODEL,
     .uses = TRACE_USES_TOKENS,
     .applies = is_model,
     .title = "The checkpoint's token ids",
     .explanation = EXPLAIN_MODEL_TOKENS,
     .build = build_model_tokens,
     .tensors = {OUT_IDS("token_ids", DIMS_S)}},
    {.id = "gpt2_embed",
     .part = PART_MODEL,
     .uses = TRACE_USES_TOKENS | TRACE_USES_POSITIONS,
     .applies = is_model,
     .title = "Token and position embeddings, summed",
     .explanation = EXPLAIN_MODEL_EMBED,
     .build = build_model_embed,
     .main = "embed_sum",
     .tensors = {IN_IDS("token_ids", DIMS_S), OUT("token_embed", DIMS_SD), OUT("position_embed", DIMS_SD),
                 OUT("embed_sum", DIMS_SD)}},
    {.id = "gpt2_blocks",
     .part = PART_MODEL,
     .applies = is_model_after_block_0,
     .title = "The residual stream entering the block",
     .explanation = EXPLAIN_MODEL_BLOCKS,
     .build = build_model_blocks,
     .tensors = {IN("embed_sum", DIMS_SD), OUT("block_input", DIMS_SD)}},
    {.id = "gpt2_ln_1",
     .part = PART_MODEL,
     .applies = is_model,
     .title = "LayerNorm ln_1",
     .explanation = EXPLAIN_MODEL_LN_1,
     .build = build_model_ln_1,
     .main = "ln_1",
     .tensors = {IN("block_input", DIMS_SD), OUT("ln_1_mean", DIMS_S), OUT("ln_1_rstd", DIMS_S),
                 OUT("ln_1.weight", DIMS_D), OUT("ln_1.bias", DIMS_D), OUT("ln_1", DIMS_SD)}},
    {.id = "gpt2_qkv",
     .part = PART_MODEL,
     .applies = is_model,
     .title = "c_attn: queries, keys and values in one product",
     .explanation = EXPLAIN_MODEL_QKV,
     .build = build_model_qkv,
     .main = "qkv",
     .tensors = {IN("ln_1", DIMS_SD), OUT("c_attn.weight", DIMS_D3D), OUT("c_attn.bias", DIMS_K),
                 OUT("qkv", DIMS_S3D)}},
    {.id = "gpt2_heads",
     .part = PART_MODEL,
     .applies = is_model,
     .title = "Split qkv into queries, keys, values and heads",
     .explanation = EXPLAIN_MODEL_HEADS,
     .build = build_model_heads,
     .main = "queries",
     .tensors = {IN("qkv", DIMS_S3D), OUT("queries", DIMS_HSE), OUT("keys", DIMS_HSE), OUT("values", DIMS_HSE)}},
    {.id = "gpt2_scores",
     .part = PART_MODEL,
     .uses = TRACE_USES_DIVISOR,
     .applies = is_model,
     .title = "Scaled, masked scores of every head",
     .explanation = EXPLAIN_MODEL_SCORES,
     .einsum = "hse,hek->hsk",
     .build = build_model_scores,
     .tensors = {IN("queries", DIMS_HSE), IN("keys", DIMS_HSE), OUT("scores", DIMS_HSS)}},
    {.id = "gpt2_softmax",
     .part = PART_MODEL,
     .applies = is_model,
     .title = "Attention weights of every head",
     .explanation = EXPLAIN_MODEL_SOFTMAX,
     .build = build_model_softmax,
     .default_picture = true,
     .tensors = {IN("scores", DIMS_HSS), OUT("attention_weights", DIMS_HSS)}},
    {.id = "gpt2_weighted_sum",
     .part = PART_MODEL,
     .uses = TRACE_USES_HEADS,
     .applies = is_model,
     .title = "Every head blends its values",
     .explanation = EXPLAIN_MODEL_WEIGHTED_SUM,
     .einsum = "hij,hjk->hik",
     .build = build_model_weighted_sum,
     .tensors = {IN("attention_weights", DIMS_HSS), IN("values", DIMS_HSE), OUT("head_outputs", DIMS_HSE)}},
    {.id = "gpt2_concat",
     .part = PART_MODEL,
     .applies = is_model,
     .title = "Put the heads side by side",
     .explanation = EXPLAIN_MODEL_CONCAT,
     .build = build_model_concat,
     .tensors = {IN("head_outputs", DIMS_HSE), OUT("concat_heads", DIMS_SD)}},
    {.id = "gpt2_c_proj",
     .part = PART_MODEL,
     .applies = is_model,
     .title = "c_proj, and the residual add",
     .explanation = EXPLAIN_MODEL_C_PROJ,
     .build = build_model_c_proj,
     .main = "attn_output",
     .tensors = {IN("concat_heads", DIMS_SD), OUT("c_proj.weight", DIMS_DD), OUT("c_proj.bias", DIMS_D),
                 OUT("attn_output", DIMS_SD), IN("block_input", DIMS_SD), OUT("attn_residual", DIMS_SD)}},
    {.id = "gpt2_next_token",
     .part = PART_MODEL,
     .uses = TRACE_USES_TOKENS,
     .applies = is_model,
     .title = "The model's prediction of the next token",
     .explanation = EXPLAIN_MODEL_NEXT_TOKEN,
     .build = build_model_next_token,
     .main = "top_probs",
     .tensors = {OUT("ln_f", DIMS_SD), OUT("next_token_probs", DIMS_V), OUT_IDS("top_ids", DIMS_K),
                 OUT("top_probs", DIMS_K)}},
    /* a change's own step, after every part (not in --list-steps): the KV-cache decode of part 2 */
    {.id = "mh_kv_decode",
     .part = PART_MULTI_HEAD,
     .uses = TRACE_USES_DIVISOR | TRACE_USES_KV,
     .reads = {"sentence_embed", "w_query", "w_key", "w_value", "head_outputs"},
     .applies = is_kv_decode,
     .experiment = true,
     .title = "Decode one token alone against the KV cache",
     .explanation = EXPLAIN_MH_KV_DECODE,
     .build = build_mh_kv_decode,
     .main = "kv_output",
     .tensors = {IN("keys", DIMS_HSE), IN("values", DIMS_HSE), OUT("kv_query", DIMS_HE), OUT("kv_keys", DIMS_HSE),
                 OUT("kv_values", DIMS_HSE), OUT("kv_scores", DIMS_HS), OUT("kv_weights", DIMS_HS),
                 OUT("kv_output", DIMS_HE)}},
};

#define N_STEP_DEFS (sizeof STEP_DEFS / sizeof STEP_DEFS[0])
_Static_assert(N_STEP_DEFS <= TRACE_MAX_STEPS, "more rows in STEP_DEFS than a Trace has steps (TRACE_MAX_STEPS)");

size_t trace_step_def_count(void)
{
    return N_STEP_DEFS;
}

size_t trace_article_step_count(void)
{
    size_t n = 0;
    while (n < N_STEP_DEFS && STEP_DEFS[n].part != PART_MODEL)
        n++;
    return n;
}

const TraceStepDef *trace_step_def(size_t i)
{
    return i < N_STEP_DEFS ? &STEP_DEFS[i] : NULL;
}

const TraceStepDef *trace_step_def_find(const char *id)
{
    for (size_t i = 0; i < N_STEP_DEFS; i++)
        if (strcmp(STEP_DEFS[i].id, id) == 0)
            return &STEP_DEFS[i];
    return NULL;
}

int trace_step_def_tensors(const TraceStepDef *def)
{
    int n = 0;
    while (n < TRACE_MAX_STEP_TENSORS && def->tensors[n].name != NULL)
        n++;
    return n;
}

/* The ids as one array, for the callers that match a name against a list
 * (the lesson parser). Filled once, under pthread_once, from the table. */
static const char *step_ids[N_STEP_DEFS];
static pthread_once_t step_ids_once = PTHREAD_ONCE_INIT;

static void fill_step_ids(void)
{
    for (size_t i = 0; i < N_STEP_DEFS; i++)
        step_ids[i] = STEP_DEFS[i].id;
}

const char *const *trace_step_ids(void)
{
    pthread_once(&step_ids_once, fill_step_ids);
    return step_ids;
}

/* ------------------------------------------------------------------------
 * Running the table
 * ---------------------------------------------------------------------- */

/* Writes code (a row's PyTorch line, or NULL for "") into out
 * (TRACE_TORCH_BYTES), each '#' replaced by focus; aborts when it does not
 * fit, which only a row too long can cause. */
static void expand_torch(char out[TRACE_TORCH_BYTES], const char *code, size_t focus)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = code; p != NULL && *p != '\0'; p++) {
        int w = *p == '#' ? snprintf(out + n, TRACE_TORCH_BYTES - n, "%zu", focus)
                          : snprintf(out + n, TRACE_TORCH_BYTES - n, "%c", *p);
        if (w < 0 || (size_t)w >= TRACE_TORCH_BYTES - n)
            ATTN_FATAL("a step's PyTorch line does not fit in %d bytes", TRACE_TORCH_BYTES);
        n += (size_t)w;
    }
}

/* Starts the step of row def: its text from the row, its tensors laid out
 * as the row lists them, each input found by name among the part's
 * tensors, each output empty until the row's function makes it. */
static void step_begin(TraceBuild *b, const TraceStepDef *def)
{
    Trace *trace = b->trace;
    if (trace->n_steps >= TRACE_MAX_STEPS)
        ATTN_FATAL("more than %d steps (TRACE_MAX_STEPS)", TRACE_MAX_STEPS);
    TraceStep *step = &trace->steps[trace->n_steps++];
    memset(step, 0, sizeof *step);
    step->id = def->id;
    step->def = def;
    step->part = def->part;
    snprintf(step->title, sizeof step->title, "%s", def->title);
    step->explanation = def->explanation;
    step->einsum = def->einsum;
    expand_torch(step->torch, def->torch, b->cfg->focus);
    b->step = step;
    b->step_first_owned = trace->n_owned;
    for (int i = 0; i < trace_step_def_tensors(def); i++) {
        const TraceTensorDef *tdef = &def->tensors[i];
        char name[TRACE_NAME_BYTES];
        expand_name(name, tdef->name, b->cfg->focus);
        trace_step_show(step, tdef, name, tdef->is_output ? NULL : value(b, name));
    }
}

/* Checks that the function made every output its row lists, of the rank
 * the row gives, and chooses the main tensor: the row's, or the last
 * output. */
static void step_end(TraceBuild *b)
{
    TraceStep *step = b->step;
    for (int i = b->step_first_owned; i < b->trace->n_owned; i++)
        settle(b, i);
    for (int i = 0; i < step->n_tensors; i++) {
        const TraceTensor *tt = &step->tensors[i];
        if (tt->tensor == NULL)
            ATTN_FATAL("step %s did not make %s", step->id, tt->name);
        if (tt->tensor->ndim != step->def->tensors[i].ndim)
            ATTN_FATAL("step %s: %s has %d dimensions, its row says %d", step->id, tt->name, tt->tensor->ndim,
                       step->def->tensors[i].ndim);
        if (tt->is_output)
            step->main_tensor = i;
    }
    if (step->def->main != NULL)
        step->main_tensor = slot(b, step->def->main);
    ATTN_ASSERT(step->tensors[step->main_tensor].is_output);
}

/* A model trace's start: opens cfg->model, checks that the config's sizes
 * are the checkpoint's (cli.c copies them from config.json) and begins the
 * forward pass (gpt2_trace_begin checks the layer, the tokens and the
 * budget). False with err set; b->model is then closed by the caller. */
static bool model_begin(TraceBuild *b, Error *err)
{
    const Config *cfg = b->cfg;
    if ((b->model = gpt2_open(cfg->model, err)) == NULL)
        return false;
    const Gpt2Config *m = &b->model->config;
    if (m->n_embd != cfg->d_model || m->n_head != cfg->heads || m->vocab_size != cfg->vocab_size ||
        m->n_layer != cfg->n_layer)
        return error_set(err, STATUS_DATAERR,
                         "%s: the trace's sizes (d_model %zu, heads %zu, vocab %zu, %zu layers) are not the "
                         "checkpoint's (%zu, %zu, %zu, %zu)",
                         cfg->model, cfg->d_model, cfg->heads, cfg->vocab_size, cfg->n_layer, m->n_embd, m->n_head,
                         m->vocab_size, m->n_layer);
    return gpt2_trace_begin(b->model, cfg->token_ids, cfg->n_tokens, cfg->layer, cfg->max_bytes, &b->gpt2, err);
}

/* ------------------------------------------------------------------------
 * Rebuilding: the steps a change cannot reach are shared, not run
 * ---------------------------------------------------------------------- */

/* The owned value of t named name in part, among owned[from..to), or -1. */
static int owned_index(const Trace *t, TracePart part, const char *name, int from, int to)
{
    for (int i = from; i < to; i++)
        if (t->owned[i].part == part && strcmp(t->owned[i].name, name) == 0)
            return i;
    return -1;
}

/* The index in t->owned just past the tensors step i made. */
static int step_owned_end(const Trace *t, int i)
{
    return i + 1 < t->n_steps ? t->step_owned[i + 1] : t->n_owned;
}

/* Whether the value of part and name is the same tensor in the trace
 * being built and in b->from (shared, so unchanged), or neither has it. */
static bool unchanged_value(const TraceBuild *b, TracePart part, const char *name)
{
    int mine = owned_index(b->trace, part, name, 0, b->trace->n_owned);
    int theirs = owned_index(b->from, part, name, 0, b->from->n_owned);
    if (mine < 0 || theirs < 0)
        return mine == theirs;
    return b->trace->owned[mine].tensor == b->from->owned[theirs].tensor;
}

/* Whether every tensor def reads (its shown inputs and .reads) is
 * unchanged, by unchanged_value. */
static bool inputs_unchanged(const TraceBuild *b, const TraceStepDef *def)
{
    char name[TRACE_NAME_BYTES];
    for (int i = 0; i < TRACE_MAX_STEP_TENSORS && def->tensors[i].name != NULL; i++) {
        expand_name(name, def->tensors[i].name, b->cfg->focus);
        if (!def->tensors[i].is_output && !unchanged_value(b, def->part, name))
            return false;
    }
    for (int i = 0; i < TRACE_MAX_STEP_READS && def->reads[i] != NULL; i++) {
        expand_name(name, def->reads[i], b->cfg->focus);
        if (!unchanged_value(b, def->part, name))
            return false;
    }
    return true;
}

/* Whether the next step of the trace being built, of row def, can be
 * taken whole from b->from: from made it at the same place, nothing of
 * the config it consults (.uses) differs, every tensor it reads is
 * unchanged, and the set= changes of each tensor it made are the same in
 * both traces. */
static bool step_reusable(const TraceBuild *b, const TraceStepDef *def)
{
    const Trace *from = b->from;
    const int i = b->trace->n_steps;
    /* a model's steps run the forward pass stage by stage (gpt2.c keeps
     * its state between them), so none is skipped */
    if (from == NULL || b->model != NULL || i >= from->n_steps || from->steps[i].def != def ||
        (def->uses & b->uses_changed) != 0 || !inputs_unchanged(b, def))
        return false;
    for (int k = from->step_owned[i]; k < step_owned_end(from, i); k++)
        if (from->owned[k].holders == NULL ||
            !experiment_sets_same(&from->config, b->cfg, from->owned[k].part, from->owned[k].name))
            return false;
    return b->trace->n_owned + (step_owned_end(from, i) - from->step_owned[i]) <= TRACE_MAX_VALUES;
}

/* In a rebuild, the index in from->owned of from's output `name` of the
 * step being built when it may stand for this trace's: the same row at
 * the same place, not a model trace, a tensor from still holds, and the
 * same set= changes on it. Else -1. Whether its inputs are unchanged is
 * the caller's to check. */
static int shareable_index(const TraceBuild *b, const char *name)
{
    const Trace *from = b->from;
    const int i = b->trace->n_steps - 1; /* the step being built */
    if (from == NULL || b->model != NULL || i >= from->n_steps || from->steps[i].def != b->step->def ||
        b->trace->n_owned >= TRACE_MAX_VALUES)
        return -1;
    const TracePart part = b->step->part;
    int k = owned_index(from, part, name, from->step_owned[i], step_owned_end(from, i));
    if (k < 0 || from->owned[k].holders == NULL || !experiment_sets_same(&from->config, b->cfg, part, name))
        return -1;
    return k;
}

/* Makes from->owned[k] (shareable_index) this trace's value `name` too, as
 * the step's tensor of that name, and returns it. */
static const Tensor *share_index(TraceBuild *b, const char *name, int k)
{
    const Trace *from = b->from;
    const TracePart part = b->step->part;
    for (int j = 0; j < b->trace->n_owned; j++)
        if (b->trace->owned[j].part == part && strcmp(b->trace->owned[j].name, name) == 0)
            ATTN_FATAL("step %s makes %s again", b->step->id, name);
    b->settled[b->trace->n_owned] = true; /* its set= changes are in it already */
    b->trace->owned[b->trace->n_owned++] = from->owned[k];
    (*from->owned[k].holders)++;
    for (int t = 0; t < b->step->n_tensors; t++)
        if (strcmp(b->step->tensors[t].name, name) == 0)
            b->step->tensors[t].tensor = from->owned[k].tensor;
    return from->owned[k].tensor;
}

static const Tensor *shared_output(TraceBuild *b, const char *pattern, const char *in0, const char *in1)
{
    char name[TRACE_NAME_BYTES];
    expand_name(name, pattern, b->cfg->focus);
    int k = shareable_index(b, name);
    char in_name[TRACE_NAME_BYTES];
    for (int n = 0; n < 2 && k >= 0; n++) {
        const char *in = n == 0 ? in0 : in1;
        if (in == NULL)
            continue;
        expand_name(in_name, in, b->cfg->focus);
        value(b, in); /* settles it, and checks that the row lists it */
        if (!unchanged_value(b, b->step->part, in_name))
            k = -1;
    }
    return k >= 0 ? share_index(b, name, k) : NULL;
}

static bool share_draws(TraceBuild *b, const WeightId *ids, int n)
{
    int k[WEIGHT_COUNT];
    ATTN_ASSERT(n <= WEIGHT_COUNT);
    for (int i = 0; i < n; i++)
        if ((k[i] = shareable_index(b, weights_tensor_name(ids[i]))) < 0 || b->trace->n_owned + n > TRACE_MAX_VALUES)
            return false;
    for (int i = 0; i < n; i++) {
        share_index(b, weights_tensor_name(ids[i]), k[i]);
        derive(b, weights_tensor_name(ids[i]), ids[i] == WEIGHT_EMBEDDING ? OP_RAND_NORMAL : OP_RAND_UNIFORM, NULL,
               NULL);
        mark_loaded(b, ids[i]);
    }
    b->rng = b->from->rng_after[b->trace->n_steps - 1];
    return true;
}

/* rows_again's product of the rows x (r of in0's) and in1, as the full
 * product would compute them, on the trace's kernels. NULL with err set. */
static Tensor *rows_product(const TraceBuild *b, RowsProduct how, const Tensor *x, const Tensor *w, Error *err)
{
    if (how == ROWS_PER_HEAD) {
        const Tensor *ops[2] = {x, w};
        return trace_einsum(b->trace, "sd,hde->hse", ops, err);
    }
    Tensor *t = tensor_new2(x->shape[0], w->shape[0], err);
    if (t != NULL && !product_bt(b->trace, t->data, x->data, w->data, x->shape[0], x->shape[1], w->shape[0], err)) {
        tensor_free(t);
        return NULL;
    }
    return t;
}

/* Each row of these products is one row of in0 against in1, summed in k
 * order on every kernel (the reference loops; the blocked kernels keep a
 * row in a lane of its own and walk k in the same blocks whatever rows are
 * beside it), so computing a few rows alone gives the full product's bits;
 * test_rebuild_equals_the_full_build_on_threads checks it on each kernel. */
static RowsResult rows_again(TraceBuild *b, const char *out, RowsProduct how, const char *in0, const char *in1,
                             Error *err)
{
    if (b->from == NULL)
        return ROWS_NOT_TAKEN;
    char name[TRACE_NAME_BYTES], in0_name[TRACE_NAME_BYTES], in1_name[TRACE_NAME_BYTES];
    expand_name(name, out, b->cfg->focus);
    expand_name(in0_name, in0, b->cfg->focus);
    expand_name(in1_name, in1, b->cfg->focus);
    const TracePart part = b->step->part;
    const int k = shareable_index(b, name);
    const Tensor *x = value(b, in0), *w = value(b, in1);
    const int j = owned_index(b->from, part, in0_name, 0, b->from->n_owned);
    if (k < 0 || j < 0 || !unchanged_value(b, part, in1_name) || x->ndim != 2 ||
        !tensor_same_shape(x, b->from->owned[j].tensor))
        return ROWS_NOT_TAKEN;
    const Tensor *was = b->from->owned[j].tensor, *old = b->from->owned[k].tensor;
    const size_t M = x->shape[0], K = x->shape[1];
    const size_t heads = how == ROWS_PER_HEAD ? old->shape[0] : 1, width = old->shape[old->ndim - 1];
    if (how == ROWS_PER_HEAD ? old->ndim != 3 || old->shape[1] != M : old->ndim != 2 || old->shape[0] != M)
        ATTN_FATAL("step %s: %s has not the rows of %s", b->step->id, name, in0_name);
    size_t *rows = malloc(M * sizeof *rows);
    if (rows == NULL) {
        error_oom(err, "a list of rows");
        return ROWS_FAILED;
    }
    size_t r = 0;
    for (size_t m = 0; m < M; m++)
        if (memcmp(&x->data[m * K], &was->data[m * K], K * sizeof(float)) != 0)
            rows[r++] = m;
    if (r * 2 > M) {
        free(rows);
        return ROWS_NOT_TAKEN; /* the whole product costs little more */
    }
    Tensor *changed = r > 0 ? tensor_new2(r, K, err) : NULL, *fresh = NULL;
    for (size_t q = 0; changed != NULL && q < r; q++)
        memcpy(&changed->data[q * K], &x->data[rows[q] * K], K * sizeof(float));
    Tensor *t = (r == 0 || (changed != NULL && (fresh = rows_product(b, how, changed, w, err)) != NULL))
                    ? tensor_copy(old, err)
                    : NULL;
    for (size_t h = 0; t != NULL && h < heads; h++)
        for (size_t q = 0; q < r; q++)
            memcpy(&t->data[(h * M + rows[q]) * width], &fresh->data[(h * r + q) * width], width * sizeof(float));
    free(rows);
    tensor_free(changed);
    tensor_free(fresh);
    return t != NULL && put(b, out, t, err) != NULL ? ROWS_MADE : ROWS_FAILED;
}

/* Takes the next step whole from b->from (step_reusable said it may): its
 * text and tensors, every tensor it made shared (one more holder each),
 * and the generator as from's was after it. */
static void step_reuse(TraceBuild *b)
{
    Trace *trace = b->trace;
    const Trace *from = b->from;
    const int i = trace->n_steps++;
    trace->steps[i] = from->steps[i];
    ATTN_ASSERT(trace->steps[i].explanation != from->next_explanation); /* a model's step is never reused */
    trace->step_owned[i] = trace->n_owned;
    for (int k = from->step_owned[i]; k < step_owned_end(from, i); k++) {
        b->settled[trace->n_owned] = true; /* its set= changes are in it already */
        trace->owned[trace->n_owned++] = from->owned[k];
        (*from->owned[k].holders)++;
    }
    b->rng = from->rng_after[i];
}

/* After step i ran again in a rebuild: each tensor it made that is bit for
 * bit from's tensor of the same part and name (made by from's step i) is
 * freed and from's shared in its place, so later steps see it unchanged. */
static void share_equal_outputs(TraceBuild *b)
{
    Trace *trace = b->trace;
    const Trace *from = b->from;
    const int i = trace->n_steps - 1;
    if (from == NULL || i >= from->n_steps || from->steps[i].def != trace->steps[i].def)
        return;
    for (int k = trace->step_owned[i]; k < trace->n_owned; k++) {
        TraceValue *mine = &trace->owned[k];
        int j = owned_index(from, mine->part, mine->name, from->step_owned[i], step_owned_end(from, i));
        const TraceValue *theirs = j >= 0 ? &from->owned[j] : NULL;
        if (theirs == NULL || theirs->tensor == mine->tensor || theirs->holders == NULL ||
            !tensor_same_shape(mine->tensor, theirs->tensor) ||
            memcmp(mine->tensor->data, theirs->tensor->data, mine->tensor->size * sizeof(float)) != 0)
            continue;
        for (int t = 0; t < trace->steps[i].n_tensors; t++)
            if (trace->steps[i].tensors[t].tensor == mine->tensor)
                trace->steps[i].tensors[t].tensor = theirs->tensor;
        tensor_free(mine->tensor);
        free(mine->holders);
        mine->tensor = theirs->tensor;
        mine->holders = theirs->holders;
        (*mine->holders)++;
    }
}

/* Runs row def as the next step: its function, then the checks of
 * step_end, the set= change that could not be made, and in a rebuild the
 * sharing of outputs equal to from's. False with err set. */
static bool step_run(TraceBuild *b, const TraceStepDef *def, Error *err)
{
    step_begin(b, def);
    b->trace->step_owned[b->trace->n_steps - 1] = b->trace->n_owned;
    bool ok = def->build(b, err);
    if (ok)
        step_end(b);
    else if (err != NULL && err->status == STATUS_OK)
        ATTN_FATAL("step %s failed without saying why", def->id);
    if (ok && b->change_err.status != STATUS_OK) { /* a set= whose index does not fit */
        if (err != NULL)
            *err = b->change_err;
        ok = false;
    }
    if (ok)
        share_equal_outputs(b);
    return ok;
}

/* Runs every row of the table that applies to the trace's config, in
 * order, timing each; in a rebuild (from not NULL) the rows step_reusable
 * allows are taken from from instead. Keeps the generator after each step
 * (trace->rng_after). Returns false with err set when a step fails. */
static bool run_steps(Trace *trace, const Weights *weights, const Trace *from, Error *err)
{
    TraceBuild *b = calloc(1, sizeof *b); /* the generator's state is a few KB */
    if (b == NULL || (trace->rng_after = calloc(TRACE_MAX_STEPS, sizeof *trace->rng_after)) == NULL) {
        free(b);
        return error_oom(err, "a trace");
    }
    b->trace = trace;
    b->cfg = &trace->config;
    b->loaded = weights;
    b->changes = b->cfg->experiments;
    b->from = from;
    b->uses_changed = from != NULL ? experiment_uses_changed(&from->config, b->cfg) : 0;
    bool ok = b->cfg->model == NULL || model_begin(b, err);
    for (size_t i = 0; ok && i < N_STEP_DEFS; i++) {
        const TraceStepDef *def = &STEP_DEFS[i];
        if (def->applies != NULL && !def->applies(b->cfg))
            continue;
        double started = clock_ms();
        if (step_reusable(b, def))
            step_reuse(b);
        else
            ok = step_run(b, def, err);
        trace->step_ms[trace->n_steps - 1] = clock_ms() - started;
        trace->rng_after[trace->n_steps - 1] = b->rng;
    }
    if (b->model != NULL) {
        gpt2_trace_free(&b->gpt2);
        gpt2_close(b->model);
    }
    free(b);
    return ok;
}

/* a * b, or ULLONG_MAX when that overflows. */
static unsigned long long mul_sat(unsigned long long a, unsigned long long b)
{
    return a != 0 && b > ULLONG_MAX / a ? ULLONG_MAX : a * b;
}

/* a + b, or ULLONG_MAX when that overflows. */
static unsigned long long add_sat(unsigned long long a, unsigned long long b)
{
    return b > ULLONG_MAX - a ? ULLONG_MAX : a + b;
}

/* The bytes of a model trace: the checkpoint's forward pass
 * (gpt2_trace_bytes) and the trace's copies of what it shows. */
static unsigned long long model_trace_bytes(const Config *cfg)
{
    Gpt2Config sizes = {cfg->d_model, cfg->heads, cfg->n_layer, cfg->n_tokens, cfg->vocab_size, 1e-5f};
    unsigned long long S = cfg->n_tokens, D = cfg->d_model, H = cfg->heads;
    /* nine [s, d] copies (embeddings and their sum, block_input, ln_1, concat_heads, attn_output,
     * attn_residual, ln_f), qkv [s, 3d], q, k, v and head_outputs (d each) */
    unsigned long long floats = mul_sat(16, mul_sat(S, D));
    floats = add_sat(floats, mul_sat(2 * H, mul_sat(S, S)));                            /* scores, attention_weights */
    floats = add_sat(floats, add_sat(cfg->vocab_size, 3 * S + 2 * D + 2 * GPT2_TOP_K)); /* probs, ids, ln_1's parts */
    floats = add_sat(floats, add_sat(mul_sat(4, mul_sat(D, D)), 4 * D)); /* c_attn's and c_proj's weights and biases */
    return add_sat(gpt2_trace_bytes(&sizes, cfg->n_tokens), mul_sat(floats, sizeof(float)));
}

unsigned long long trace_bytes(const Config *cfg)
{
    if (cfg->model != NULL)
        return model_trace_bytes(cfg);
    unsigned long long S = cfg->n_tokens, D = cfg->d_model, V = cfg->vocab_size, H = cfg->heads;
    /* the floats each part keeps, from the shapes its steps make (the
     * build_* functions): [V, D] tables (part 2's is freed, but both live at
     * once for a moment), [D, D] weights, [S, D] activations, [S, S] and
     * [H, S, S] scores and weights, and the short vectors */
    unsigned long long floats = 0;
    floats = add_sat(floats, mul_sat(2, mul_sat(V, D))); /* embedding tables */
    floats = add_sat(floats, mul_sat(8, mul_sat(D, D))); /* 3 + 3 weights, [h, d, e] as d*d, w_output... */
    floats = add_sat(
        floats,
        mul_sat(14,
                mul_sat(S,
                        D))); /* sentence_embed twice, keys, values, queries, z, q/k/v, keysᵀ, heads, concat, output */
    floats = add_sat(floats, mul_sat(2 + 2 * H, mul_sat(S, S)));     /* scores and weights, per head in part 2 */
    floats = add_sat(floats, add_sat(mul_sat(5, S), mul_sat(5, D))); /* ids, scores_f, scaled, a_f; x_f, k/q/v, z_f */
    return mul_sat(floats, sizeof(float));
}

Trace *trace_build(const Config *cfg, Error *err)
{
    return trace_build_weights(cfg, NULL, err);
}

/* The memory guard: true when a trace of cfg fits its cap (cfg->max_bytes,
 * or LIMIT_DEFAULT_MAX_BYTES) and the process's limit (ulimit -v); else
 * false with err set, before anything is allocated. */
static bool trace_fits(const Config *cfg, Error *err)
{
    unsigned long long need = trace_bytes(cfg);
    unsigned long long cap = cfg->max_bytes != 0 ? cfg->max_bytes : LIMIT_DEFAULT_MAX_BYTES;
    char need_text[32], limit_text[32];
    numfmt_bytes(need, need_text, sizeof need_text);
    if (need > cap) {
        numfmt_bytes(cap, limit_text, sizeof limit_text);
        unsigned long long gib = need / ((unsigned long long)1 << 30) + 1;
        if (need == ULLONG_MAX)
            return error_set(err, STATUS_DATAERR,
                             "these sizes need more memory than can be counted; make them smaller");
        return error_set(err, STATUS_DATAERR,
                         "these sizes need %s for the trace's tensors, over the %s cap; --max-memory %lluG allows it",
                         need_text, limit_text, gib);
    }
    /* and a limit on the process's memory (ulimit -v) is respected before
     * the first allocation, not discovered at the last one */
    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        need > (unsigned long long)limit.rlim_cur) {
        numfmt_bytes((unsigned long long)limit.rlim_cur, limit_text, sizeof limit_text);
        return error_set(err, STATUS_FAILURE,
                         "these sizes need %s for the trace's tensors, more than the %s this process may use (ulimit "
                         "-v)",
                         need_text, limit_text);
    }
    return true;
}

/* Whether a trace of cfg can reuse steps of from (trace_build_from): a
 * trace of the same sizes, seed, focus, kernels and threads (and model and
 * layer), which kept its generator's states. The tokens, the causal flag
 * and the changes may differ: the rows' .uses say which steps that
 * reaches. (A model trace runs every step, and only shares the outputs
 * equal to from's: see step_reusable.) */
static bool can_reuse(const Config *cfg, const Trace *from)
{
    const Config *old = from != NULL ? &from->config : NULL;
    if (old == NULL || (cfg->model == NULL) != (old->model == NULL) ||
        (cfg->model != NULL && (strcmp(cfg->model, old->model) != 0 || cfg->layer != old->layer)))
        return false;
    return from->rng_after != NULL && cfg->n_tokens == old->n_tokens && cfg->vocab_size == old->vocab_size &&
           cfg->d_model == old->d_model && cfg->heads == old->heads && cfg->focus == old->focus &&
           cfg->seed == old->seed && cfg->kernels == old->kernels && cfg->threads == old->threads &&
           cfg->max_bytes == old->max_bytes;
}

/* trace_build_weights and trace_build_from: validates cfg, checks its
 * memory, copies it and runs the rows (from: see run_steps; NULL or one
 * can_reuse refuses for a full build). */
static Trace *build(const Config *cfg, const Weights *weights, const Trace *from, Error *err)
{
    if (!config_validate(cfg, err) || !trace_fits(cfg, err))
        return NULL;
    Trace *trace = calloc(1, sizeof *trace);
    if (trace == NULL) {
        error_oom(err, "a trace");
        return NULL;
    }
    if (!config_copy(&trace->config, cfg, err)) {
        free(trace);
        return NULL;
    }
    /* a model trace runs gpt2.c's reference kernels, whatever the size */
    trace->fast_kernels = cfg->model == NULL && trace_uses_fast_kernels(cfg);
    trace->exact_kernels = cfg->model == NULL && trace_uses_exact_kernels(cfg);
    trace->threads = trace->fast_kernels || trace->exact_kernels ? trace_threads(cfg) : 1;
    if (!run_steps(trace, weights, can_reuse(cfg, from) ? from : NULL, err)) {
        trace_free(trace);
        return NULL;
    }
    link_inputs(trace);
    return trace;
}

Trace *trace_build_weights(const Config *cfg, const Weights *weights, Error *err)
{
    return build(cfg, weights, NULL, err);
}

Trace *trace_build_from(const Config *cfg, const Weights *weights, const Trace *from, Error *err)
{
    return build(cfg, weights, from, err);
}

void trace_free(Trace *trace)
{
    if (trace == NULL)
        return;
    for (int i = 0; i < trace->n_owned; i++) {
        int *holders = trace->owned[i].holders;
        if (holders != NULL && --*holders > 0)
            continue; /* another trace still holds it */
        tensor_free(trace->owned[i].tensor);
        free(holders);
    }
    free(trace->rng_after);
    config_free(&trace->config);
    for (size_t w = 0; w < trace->n_bpe_words; w++)
        free(trace->bpe_words[w]);
    free(trace->bpe_words);
    free(trace->bpe_explanation);
    free(trace);
}

const char *trace_part_name(TracePart part)
{
    switch (part) {
    case PART_SINGLE_HEAD:
        return "single_head";
    case PART_MULTI_HEAD:
        return "multi_head";
    case PART_MODEL:
        return "model";
    }
    return "?";
}

int trace_find_step(const Trace *trace, const char *id_or_number, Error *err)
{
    size_t digits = strspn(id_or_number, "0123456789");
    if (digits > 0 && id_or_number[digits] == '\0') {
        long number = digits <= 4 ? strtol(id_or_number, NULL, 10) : 0;
        if (number >= 1 && number <= trace->n_steps)
            return (int)number - 1;
        error_set(err, STATUS_USAGE, "step %.20s does not exist: steps are numbered 1 to %d", id_or_number,
                  trace->n_steps);
        return -1;
    }
    for (int i = 0; i < trace->n_steps; i++)
        if (strcmp(trace->steps[i].id, id_or_number) == 0)
            return i;
    char ids[TRACE_MAX_STEPS * 20] =
        ""; /* room for every id and its ", ": the longest, gpt2_weighted_sum, is 17 bytes */
    size_t used = 0;
    for (int i = 0; i < trace->n_steps && used < sizeof ids; i++)
        used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%s", i ? ", " : "", trace->steps[i].id);
    error_set(err, STATUS_USAGE, "unknown step '%.40s' (steps: %s)", id_or_number, ids);
    return -1;
}

const TraceTensor *trace_find_tensor(const Trace *trace, TracePart part, const char *name)
{
    for (int i = 0; i < trace->n_steps; i++) {
        const TraceStep *step = &trace->steps[i];
        if (step->part != part)
            continue;
        for (int j = 0; j < step->n_tensors; j++)
            if (strcmp(step->tensors[j].name, name) == 0)
                return &step->tensors[j];
    }
    return NULL;
}
