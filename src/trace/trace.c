/*
 * trace.c - runs the article's computation step by step and records what
 * each step shows (see trace.h).
 *
 * Part 1 follows the article's single-head code: W·x for one token, then
 * the same for every token with matrices. Part 2 re-seeds the generator as
 * the article does and computes four heads at once with einsum (x·W).
 */
#include "trace.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "numfmt.h"
#include "einsum.h"
#include "kernels.h"
#include "rng.h"
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
    "How well does the query match each key? Their dot product says: large "
    "when the two vectors point the same way, small or negative when they do "
    "not. One score per token of the sentence.";

static const char EXPLAIN_SCALE[] =
    "Dot products grow with the vector width, and large scores make softmax "
    "pick one token almost alone. Dividing by the square root of the width "
    "is the standard correction: it keeps the scores of zero-mean random "
    "vectors near 1. The article's weights are all positive, so its scores "
    "stay large and softmax stays sharp: look at the weights next.";

static const char EXPLAIN_SCALE_CAUSAL[] =
    "Dot products grow with the vector width, so they are divided by its "
    "square root, the standard correction. With the causal mask on, scores "
    "of tokens after this one become -inf: a decoder may not look at words "
    "it has not produced yet.";

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

/* ------------------------------------------------------------------------
 * Building
 * ---------------------------------------------------------------------- */

/* Takes ownership of t (which may be NULL after a failed call). */
static Tensor *keep(Trace *trace, Tensor *t)
{
    if (t == NULL)
        return NULL;
    if (trace->n_owned == (int)(sizeof trace->owned / sizeof trace->owned[0])) {
        tensor_free(t);
        return NULL;
    }
    trace->owned[trace->n_owned++] = t;
    return t;
}

/* A monotonic clock in milliseconds. */
static double clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------------
 * The kernels: the reference ones, or the fast ones for a large trace
 * ---------------------------------------------------------------------- */

bool trace_uses_fast_kernels(const Config *cfg)
{
    if (cfg->kernels != KERNELS_AUTO)
        return cfg->kernels == KERNELS_FAST;
    /* multiply-adds of the six projections and the four s x s products */
    double S = (double)cfg->n_tokens, D = (double)cfg->d_model;
    return S * D * D * 7.0 + S * S * D * 4.0 > (double)TRACE_FAST_MIN_WORK;
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
    if (!trace->fast_kernels) {
        matmul_bt_forward(out, a, b, M, K, N);
        return true;
    }
    MatrixView va = {a, K, 1, 0}, vb = {b, 1, K, 0};
    return kernels_gemm(out, va, vb, 1, M, K, N, trace->threads, err);
}

/* tensor_matmul, on the fast kernels for a large trace: (M, K) @ (K, N),
 * (M, K) @ (K) and (K) @ (K, N). */
static Tensor *product(const Trace *trace, const Tensor *a, const Tensor *b, Error *err)
{
    if (!trace->fast_kernels || a->ndim < 1 || a->ndim > 2 || b->ndim < 1 || b->ndim > 2 || (a->ndim == 1 && b->ndim == 1) ||
        a->shape[a->ndim - 1] != b->shape[0])
        return tensor_matmul(a, b, err);
    const size_t M = a->ndim == 2 ? a->shape[0] : 1, K = b->shape[0], N = b->ndim == 2 ? b->shape[1] : 1;
    Tensor *out = a->ndim == 2 && b->ndim == 2 ? tensor_new2(M, N, err) : tensor_new1(a->ndim == 2 ? M : N, err);
    MatrixView va = {a->data, K, 1, 0}, vb = {b->data, N, 1, 0};
    if (out != NULL && !kernels_gemm(out->data, va, vb, 1, M, K, N, trace->threads, err)) {
        tensor_free(out);
        return NULL;
    }
    return out;
}

/* tensor_softmax_last, on the fast kernels (bit-identical) for a large
 * trace. */
static Tensor *softmax_last(const Trace *trace, const Tensor *a, Error *err)
{
    if (!trace->fast_kernels || a->ndim < 1)
        return tensor_softmax_last(a, err);
    Tensor *out = tensor_new(a->ndim, a->shape, err);
    if (out != NULL) {
        size_t cols = a->shape[a->ndim - 1];
        kernels_softmax_rows(out->data, a->data, a->size / cols, cols, trace->threads);
    }
    return out;
}

/* einsum, on the fast kernels for a large trace. */
static Tensor *trace_einsum(const Trace *trace, const char *equation, const Tensor *const *ops, Error *err)
{
    if (!trace->fast_kernels)
        return einsum(equation, ops, 2, err);
    return einsum_fast(equation, ops, 2, trace->threads, err);
}

static TraceStep *step_begin(Trace *trace, const char *id, TracePart part, const char *explanation)
{
    trace->step_ms[trace->n_steps] = clock_ms(); /* made relative by trace_build */
    TraceStep *step = &trace->steps[trace->n_steps++];
    memset(step, 0, sizeof *step);
    step->id = id;
    step->part = part;
    step->explanation = explanation;
    return step;
}

/* Adds tensor t to step under name, with dimension kinds dims. Returns its
 * index in the step. */
static int show(TraceStep *step, const char *name, const Tensor *t, const DimKind *dims, bool is_output)
{
    int index = step->n_tensors++;
    TraceTensor *tt = &step->tensors[index];
    memset(tt, 0, sizeof *tt);
    snprintf(tt->name, sizeof tt->name, "%s", name);
    tt->tensor = t;
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        tt->dims[i] = i < t->ndim ? dims[i] : DIM_OTHER;
    tt->is_output = is_output;
    tt->how = (Derivation){OP_SHOWN, {-1, -1}, 1.0f, false, 0, 0, NULL, false};
    return index;
}

/* Records how the step's tensor `out` was made from its tensors in0, in1. */
static void derive(TraceStep *step, int out, OpKind op, int in0, int in1)
{
    Derivation *how = &step->tensors[out].how;
    how->op = op;
    how->in[0] = in0;
    how->in[1] = in1;
}

/* As derive, for a result divided by divisor and, when causal, masked. */
static void derive_scaled(TraceStep *step, int out, OpKind op, int in0, int in1, float divisor, bool causal)
{
    derive(step, out, op, in0, in1);
    step->tensors[out].how.divisor = divisor;
    step->tensors[out].how.causal = causal;
}

/* True when a and b are the same tensor, or equal copies of it (part 2
 * embeds the sentence again after re-seeding, with the same result). */
static bool same_tensor(const Tensor *a, const Tensor *b)
{
    return a == b || (tensor_same_shape(a, b) && memcmp(a->data, b->data, a->size * sizeof *a->data) == 0);
}

/* The step's main tensor: the one named name (the UI opens on it). */
static void set_main(Trace *trace, const char *step_id, const char *name)
{
    for (int i = 0; i < trace->n_steps; i++) {
        TraceStep *step = &trace->steps[i];
        if (strcmp(step->id, step_id) != 0)
            continue;
        for (int j = 0; j < step->n_tensors; j++)
            if (strcmp(step->tensors[j].name, name) == 0 && step->tensors[j].is_output)
                step->main_tensor = j;
    }
}

/* Chooses each step's main tensor: its last output, but for the steps
 * whose point is an earlier one. */
static void choose_main_tensors(Trace *trace)
{
    for (int i = 0; i < trace->n_steps; i++) {
        TraceStep *step = &trace->steps[i];
        for (int j = 0; j < step->n_tensors; j++)
            if (step->tensors[j].is_output)
                step->main_tensor = j;
    }
    char name[TRACE_NAME_BYTES];
    snprintf(name, sizeof name, "key_%zu", trace->config.focus);
    set_main(trace, "project_token", name);
    set_main(trace, "weights", "w_key");
    set_main(trace, "keys_values", "keys");
    set_main(trace, "all_tokens", "attention_weights");
    set_main(trace, "mh_weights", "w_query");
    set_main(trace, "mh_project", "queries");
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

static const DimKind DIMS_S[] = {DIM_SEQ};
static const DimKind DIMS_D[] = {DIM_MODEL};
static const DimKind DIMS_SD[] = {DIM_SEQ, DIM_MODEL};
static const DimKind DIMS_SS[] = {DIM_SEQ, DIM_SEQ};
static const DimKind DIMS_DD[] = {DIM_MODEL, DIM_MODEL};
static const DimKind DIMS_VD[] = {DIM_VOCAB, DIM_MODEL};
static const DimKind DIMS_HDE[] = {DIM_HEAD, DIM_MODEL, DIM_HEAD_DIM};
static const DimKind DIMS_HSE[] = {DIM_HEAD, DIM_SEQ, DIM_HEAD_DIM};
static const DimKind DIMS_HSS[] = {DIM_HEAD, DIM_SEQ, DIM_SEQ};

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

/* Part 1: one head, following token `focus`; the tensors `loaded` holds
 * replace the ones drawn. */
static bool build_single_head(Trace *trace, const Weights *loaded, Error *err)
{
    const Config *cfg = &trace->config;
    const size_t S = cfg->n_tokens, D = cfg->d_model, V = cfg->vocab_size;
    const size_t f = cfg->focus - 1; /* 0-based focus */
    const size_t n = cfg->focus;     /* 1-based, for names */
    const float sqrt_d = (float)sqrt((double)D);
    char name[4][TRACE_NAME_BYTES];
    Rng rng;
    TraceStep *step;

    /* tokenize */
    Tensor *ids = keep(trace, tensor_new1(S, err));
    if (ids == NULL)
        return false;
    for (size_t i = 0; i < S; i++)
        ids->data[i] = (float)cfg->token_ids[i];
    step = step_begin(trace, "tokenize", PART_SINGLE_HEAD, EXPLAIN_TOKENIZE);
    snprintf(step->title, sizeof step->title, "Turn the words into token ids");
    snprintf(step->formula, sizeof step->formula, "tokenized_sentence = ids of %zu words → [%zu]", S, S);
    derive(step, show(step, "tokenized_sentence", ids, DIMS_S, true), OP_TOKENIZE, -1, -1);
    step->tensors[0].is_integer = true;

    /* embed */
    Tensor *table = keep(trace, draw_embedding(&rng, cfg, err));
    if (table == NULL || !weights_apply(loaded, WEIGHT_EMBEDDING, table, err))
        return false;
    Tensor *x = keep(trace, tensor_gather_rows(table, cfg->token_ids, S, err));
    if (x == NULL)
        return false;
    step = step_begin(trace, "embed", PART_SINGLE_HEAD, EXPLAIN_EMBED);
    snprintf(step->title, sizeof step->title, "Look up each token's embedding");
    snprintf(step->formula, sizeof step->formula,
             "sentence_embed = embedding[tokenized_sentence]   [%zu, %zu][%zu] → [%zu, %zu]%s%s", V, D, S, S, D,
             weights_has(loaded, WEIGHT_EMBEDDING) ? "; embedding loaded from " : "",
             weights_has(loaded, WEIGHT_EMBEDDING) ? loaded->shown_dir : "");
    int t_ids = show(step, "tokenized_sentence", ids, DIMS_S, false);
    step->tensors[t_ids].is_integer = true;
    int t_table = show(step, "embedding", table, DIMS_VD, true);
    derive(step, t_table, OP_RAND_NORMAL, -1, -1);
    step->tensors[t_table].loaded = weights_has(loaded, WEIGHT_EMBEDDING);
    derive(step, show(step, "sentence_embed", x, DIMS_SD, true), OP_GATHER_ROWS, t_table, t_ids);

    /* weights: drawn in the article's order */
    const size_t dd[] = {D, D};
    Tensor *w_key = keep(trace, draw_uniform(&rng, 2, dd, err));
    Tensor *w_query = w_key ? keep(trace, draw_uniform(&rng, 2, dd, err)) : NULL;
    Tensor *w_value = w_query ? keep(trace, draw_uniform(&rng, 2, dd, err)) : NULL;
    if (w_value == NULL || !weights_apply(loaded, WEIGHT_KEY, w_key, err) ||
        !weights_apply(loaded, WEIGHT_QUERY, w_query, err) || !weights_apply(loaded, WEIGHT_VALUE, w_value, err))
        return false;
    step = step_begin(trace, "weights", PART_SINGLE_HEAD, EXPLAIN_WEIGHTS);
    snprintf(step->title, sizeof step->title, "Draw the key, query and value matrices");
    char drawn_as[64], shapes[64];
    snprintf(drawn_as, sizeof drawn_as, "torch.rand(%zu, %zu)", D, D);
    snprintf(shapes, sizeof shapes, "   → [%zu, %zu] each", D, D);
    weights_describe(loaded, WEIGHT_KEY, WEIGHT_VALUE, drawn_as, shapes, step->formula, sizeof step->formula);
    derive(step, show(step, "w_key", w_key, DIMS_DD, true), OP_RAND_UNIFORM, -1, -1);
    derive(step, show(step, "w_query", w_query, DIMS_DD, true), OP_RAND_UNIFORM, -1, -1);
    derive(step, show(step, "w_value", w_value, DIMS_DD, true), OP_RAND_UNIFORM, -1, -1);
    for (int i = 0; i < 3; i++)
        step->tensors[i].loaded = weights_has(loaded, (WeightId)(WEIGHT_KEY + i));

    /* project_token: W·x for the focus token */
    Tensor *x_f = keep(trace, tensor_row(x, f, err));
    Tensor *key_f = x_f ? keep(trace, product(trace, w_key, x_f, err)) : NULL;
    Tensor *query_f = key_f ? keep(trace, product(trace, w_query, x_f, err)) : NULL;
    Tensor *value_f = query_f ? keep(trace, product(trace, w_value, x_f, err)) : NULL;
    if (value_f == NULL)
        return false;
    step = step_begin(trace, "project_token", PART_SINGLE_HEAD, EXPLAIN_PROJECT_TOKEN);
    snprintf(step->title, sizeof step->title, "Key, query and value of token %zu (\"%s\")", n, cfg->tokens[f]);
    snprintf(step->formula, sizeof step->formula, "key_%zu = w_key · x_%zu   [%zu, %zu] · [%zu] → [%zu]   (query, value alike)",
             n, n, D, D, D, D);
    int t_x = show(step, "sentence_embed", x, DIMS_SD, false);
    snprintf(name[0], sizeof name[0], "x_%zu", n);
    int t_xf = show(step, name[0], x_f, DIMS_D, true);
    derive(step, t_xf, OP_PICK_ROW, t_x, -1);
    step->tensors[t_xf].how.row = f;
    int t_wk = show(step, "w_key", w_key, DIMS_DD, false);
    int t_wq = show(step, "w_query", w_query, DIMS_DD, false);
    int t_wv = show(step, "w_value", w_value, DIMS_DD, false);
    snprintf(name[1], sizeof name[1], "key_%zu", n);
    snprintf(name[2], sizeof name[2], "query_%zu", n);
    snprintf(name[3], sizeof name[3], "value_%zu", n);
    derive(step, show(step, name[1], key_f, DIMS_D, true), OP_MATVEC, t_wk, t_xf);
    derive(step, show(step, name[2], query_f, DIMS_D, true), OP_MATVEC, t_wq, t_xf);
    derive(step, show(step, name[3], value_f, DIMS_D, true), OP_MATVEC, t_wv, t_xf);

    /* keys_values: every token at once, x·Wᵀ */
    Tensor *keys = keep(trace, tensor_new2(S, D, err));
    Tensor *values = keys ? keep(trace, tensor_new2(S, D, err)) : NULL;
    if (values == NULL)
        return false;
    if (!product_bt(trace, keys->data, x->data, w_key->data, S, D, D, err) ||
        !product_bt(trace, values->data, x->data, w_value->data, S, D, D, err))
        return false;
    step = step_begin(trace, "keys_values", PART_SINGLE_HEAD, EXPLAIN_KEYS_VALUES);
    snprintf(step->title, sizeof step->title, "Keys and values of every token");
    snprintf(step->formula, sizeof step->formula, "keys = sentence_embed · w_keyᵀ   [%zu, %zu] · [%zu, %zu]ᵀ → [%zu, %zu]",
             S, D, D, D, S, D);
    t_x = show(step, "sentence_embed", x, DIMS_SD, false);
    t_wk = show(step, "w_key", w_key, DIMS_DD, false);
    t_wv = show(step, "w_value", w_value, DIMS_DD, false);
    derive(step, show(step, "keys", keys, DIMS_SD, true), OP_DOT_ROWS, t_x, t_wk);
    derive(step, show(step, "values", values, DIMS_SD, true), OP_DOT_ROWS, t_x, t_wv);

    /* scores: query · keysᵀ, unscaled */
    Tensor *scores_f = keep(trace, tensor_new1(S, err));
    if (scores_f == NULL)
        return false;
    matmul_bt_forward(scores_f->data, query_f->data, keys->data, 1, D, S);
    step = step_begin(trace, "scores", PART_SINGLE_HEAD, EXPLAIN_SCORES);
    snprintf(step->title, sizeof step->title, "Score token %zu's query against every key", n);
    snprintf(step->formula, sizeof step->formula, "scores_%zu = query_%zu · keysᵀ   [%zu] · [%zu, %zu]ᵀ → [%zu]", n, n,
             D, S, D, S);
    int t_q = show(step, name[2], query_f, DIMS_D, false);
    int t_keys = show(step, "keys", keys, DIMS_SD, false);
    snprintf(name[0], sizeof name[0], "scores_%zu", n);
    derive(step, show(step, name[0], scores_f, DIMS_S, true), OP_DOT_ROWS, t_q, t_keys);

    /* scale (and mask) */
    Tensor *scaled_f = keep(trace, tensor_copy(scores_f, err));
    if (scaled_f == NULL)
        return false;
    divide_in_place(scaled_f, sqrt_d);
    if (cfg->causal)
        tensor_causal_mask_row(scaled_f, f);
    step = step_begin(trace, "scale", PART_SINGLE_HEAD, cfg->causal ? EXPLAIN_SCALE_CAUSAL : EXPLAIN_SCALE);
    snprintf(step->title, sizeof step->title, cfg->causal ? "Scale the scores and mask the future" : "Scale the scores");
    char mask_note[48] = "";
    if (cfg->causal)
        snprintf(mask_note, sizeof mask_note, ", masked after token %zu", n);
    snprintf(step->formula, sizeof step->formula, "scaled_scores_%zu = scores_%zu / √%zu%s   [%zu] → [%zu]", n, n, D,
             mask_note, S, S);
    int t_scores = show(step, name[0], scores_f, DIMS_S, false);
    snprintf(name[1], sizeof name[1], "scaled_scores_%zu", n);
    int t_scaled = show(step, name[1], scaled_f, DIMS_S, true);
    derive_scaled(step, t_scaled, OP_SCALE, t_scores, -1, sqrt_d, cfg->causal);
    step->tensors[t_scaled].how.query_row = f;

    /* softmax */
    Tensor *a_f = keep(trace, tensor_softmax_last(scaled_f, err));
    if (a_f == NULL)
        return false;
    step = step_begin(trace, "softmax", PART_SINGLE_HEAD, EXPLAIN_SOFTMAX);
    snprintf(step->title, sizeof step->title, "Softmax: scores become attention weights");
    snprintf(step->formula, sizeof step->formula, "a%zu = softmax(scaled_scores_%zu)   [%zu] → [%zu], sums to 1", n, n, S,
             S);
    t_scaled = show(step, name[1], scaled_f, DIMS_S, false);
    snprintf(name[2], sizeof name[2], "a%zu", n);
    derive(step, show(step, name[2], a_f, DIMS_S, true), OP_SOFTMAX, t_scaled, -1);

    /* weighted_sum */
    Tensor *z_f = keep(trace, product(trace, a_f, values, err));
    if (z_f == NULL)
        return false;
    step = step_begin(trace, "weighted_sum", PART_SINGLE_HEAD, EXPLAIN_WEIGHTED_SUM);
    snprintf(step->title, sizeof step->title, "Blend the values by the weights");
    snprintf(step->formula, sizeof step->formula, "z%zu = a%zu · values   [%zu] · [%zu, %zu] → [%zu]", n, n, S, S, D, D);
    int t_a = show(step, name[2], a_f, DIMS_S, false);
    int t_values = show(step, "values", values, DIMS_SD, false);
    snprintf(name[3], sizeof name[3], "z%zu", n);
    derive(step, show(step, name[3], z_f, DIMS_D, true), OP_MATMUL, t_a, t_values);

    /* all_tokens: the matrix form */
    Tensor *queries = keep(trace, tensor_new2(S, D, err));
    Tensor *scores = queries ? keep(trace, tensor_new2(S, S, err)) : NULL;
    if (scores == NULL)
        return false;
    if (!product_bt(trace, queries->data, x->data, w_query->data, S, D, D, err) ||
        !product_bt(trace, scores->data, queries->data, keys->data, S, D, S, err))
        return false;
    divide_in_place(scores, sqrt_d);
    if (cfg->causal)
        tensor_causal_mask(scores);
    Tensor *weights = keep(trace, softmax_last(trace, scores, err));
    Tensor *z = weights ? keep(trace, product(trace, weights, values, err)) : NULL;
    if (z == NULL)
        return false;
    step = step_begin(trace, "all_tokens", PART_SINGLE_HEAD, EXPLAIN_ALL_TOKENS);
    snprintf(step->title, sizeof step->title, "Every token at once");
    snprintf(step->formula, sizeof step->formula, "z = softmax(queries · keysᵀ / √%zu%s) · values   [%zu, %zu] → [%zu, %zu]", D,
             cfg->causal ? ", masked" : "", S, D, S, D);
    t_x = show(step, "sentence_embed", x, DIMS_SD, false);
    t_wq = show(step, "w_query", w_query, DIMS_DD, false);
    int t_queries = show(step, "queries", queries, DIMS_SD, true);
    derive(step, t_queries, OP_DOT_ROWS, t_x, t_wq);
    t_keys = show(step, "keys", keys, DIMS_SD, false);
    t_values = show(step, "values", values, DIMS_SD, false);
    t_scores = show(step, "scores", scores, DIMS_SS, true);
    derive_scaled(step, t_scores, OP_DOT_ROWS, t_queries, t_keys, sqrt_d, cfg->causal);
    int t_weights = show(step, "attention_weights", weights, DIMS_SS, true);
    derive(step, t_weights, OP_SOFTMAX, t_scores, -1);
    derive(step, show(step, "z", z, DIMS_SD, true), OP_MATMUL, t_weights, t_values);
    return true;
}

/* Part 2: h heads at once with einsum; the tensors `loaded` holds replace
 * the ones drawn. */
static bool build_multi_head(Trace *trace, const Weights *loaded, Error *err)
{
    const Config *cfg = &trace->config;
    const size_t S = cfg->n_tokens, D = cfg->d_model, H = cfg->heads, E = config_d_k(cfg);
    const float sqrt_e = (float)sqrt((double)E);
    Rng rng;
    TraceStep *step;

    /* mh_weights: re-seed, embed again, then draw the stacked matrices */
    Tensor *table = draw_embedding(&rng, cfg, err);
    if (table == NULL)
        return false;
    if (!weights_apply(loaded, WEIGHT_EMBEDDING, table, err)) {
        tensor_free(table);
        return false;
    }
    Tensor *x = keep(trace, tensor_gather_rows(table, cfg->token_ids, S, err));
    tensor_free(table);
    if (x == NULL)
        return false;
    const size_t hde[] = {H, D, E}, dd[] = {D, D};
    Tensor *w_query = keep(trace, draw_uniform(&rng, 3, hde, err));
    Tensor *w_key = w_query ? keep(trace, draw_uniform(&rng, 3, hde, err)) : NULL;
    Tensor *w_value = w_key ? keep(trace, draw_uniform(&rng, 3, hde, err)) : NULL;
    Tensor *w_output = w_value ? keep(trace, draw_uniform(&rng, 2, dd, err)) : NULL;
    if (w_output == NULL || !weights_apply(loaded, WEIGHT_MH_QUERY, w_query, err) ||
        !weights_apply(loaded, WEIGHT_MH_KEY, w_key, err) || !weights_apply(loaded, WEIGHT_MH_VALUE, w_value, err) ||
        !weights_apply(loaded, WEIGHT_MH_OUTPUT, w_output, err))
        return false;
    step = step_begin(trace, "mh_weights", PART_MULTI_HEAD, EXPLAIN_MH_WEIGHTS);
    snprintf(step->title, sizeof step->title, "Stacked weights for %zu heads", H);
    char shapes[128];
    snprintf(shapes, sizeof shapes, "   → [%zu, %zu, %zu] each; w_output%s → [%zu, %zu]", H, D, E,
             weights_has(loaded, WEIGHT_MH_OUTPUT) ? " (loaded)" : "", D, D);
    weights_describe(loaded, WEIGHT_MH_QUERY, WEIGHT_MH_VALUE, "torch.rand(h, d, d_k)", shapes, step->formula,
                     sizeof step->formula);
    derive(step, show(step, "w_query", w_query, DIMS_HDE, true), OP_RAND_UNIFORM, -1, -1);
    derive(step, show(step, "w_key", w_key, DIMS_HDE, true), OP_RAND_UNIFORM, -1, -1);
    derive(step, show(step, "w_value", w_value, DIMS_HDE, true), OP_RAND_UNIFORM, -1, -1);
    derive(step, show(step, "w_output", w_output, DIMS_DD, true), OP_RAND_UNIFORM, -1, -1);
    for (int i = 0; i < 4; i++)
        step->tensors[i].loaded = weights_has(loaded, (WeightId)(WEIGHT_MH_QUERY + i));

    /* mh_project: 'sd,hde->hse' */
    const Tensor *ops[2] = {x, w_query};
    Tensor *queries = keep(trace, trace_einsum(trace, "sd,hde->hse", ops, err));
    ops[1] = w_key;
    Tensor *keys = queries ? keep(trace, trace_einsum(trace, "sd,hde->hse", ops, err)) : NULL;
    ops[1] = w_value;
    Tensor *values = keys ? keep(trace, trace_einsum(trace, "sd,hde->hse", ops, err)) : NULL;
    if (values == NULL)
        return false;
    step = step_begin(trace, "mh_project", PART_MULTI_HEAD, EXPLAIN_MH_PROJECT);
    step->einsum = "sd,hde->hse";
    snprintf(step->title, sizeof step->title, "Queries, keys and values for every head");
    snprintf(step->formula, sizeof step->formula,
             "queries = einsum('sd,hde->hse', sentence_embed, w_query)   [%zu, %zu], [%zu, %zu, %zu] → [%zu, %zu, %zu]", S,
             D, H, D, E, H, S, E);
    int m_x = show(step, "sentence_embed", x, DIMS_SD, false);
    int m_wq = show(step, "w_query", w_query, DIMS_HDE, false);
    int m_wk = show(step, "w_key", w_key, DIMS_HDE, false);
    int m_wv = show(step, "w_value", w_value, DIMS_HDE, false);
    int m_out[3];
    m_out[0] = show(step, "queries", queries, DIMS_HSE, true);
    m_out[1] = show(step, "keys", keys, DIMS_HSE, true);
    m_out[2] = show(step, "values", values, DIMS_HSE, true);
    derive(step, m_out[0], OP_EINSUM, m_x, m_wq);
    derive(step, m_out[1], OP_EINSUM, m_x, m_wk);
    derive(step, m_out[2], OP_EINSUM, m_x, m_wv);
    for (int i = 0; i < 3; i++)
        step->tensors[m_out[i]].how.equation = "sd,hde->hse";

    /* mh_scores: 'hse,hek->hsk' with the keys transposed, then scaled */
    Tensor *keys_t = keep(trace, tensor_new3(H, E, S, err));
    if (keys_t == NULL)
        return false;
    for (size_t h = 0; h < H; h++)
        for (size_t s = 0; s < S; s++)
            for (size_t e = 0; e < E; e++)
                keys_t->data[(h * E + e) * S + s] = keys->data[(h * S + s) * E + e];
    ops[0] = queries;
    ops[1] = keys_t;
    Tensor *scores = keep(trace, trace_einsum(trace, "hse,hek->hsk", ops, err));
    if (scores == NULL)
        return false;
    divide_in_place(scores, sqrt_e);
    if (cfg->causal)
        tensor_causal_mask(scores);
    step = step_begin(trace, "mh_scores", PART_MULTI_HEAD, EXPLAIN_MH_SCORES);
    step->einsum = "hse,hek->hsk";
    snprintf(step->title, sizeof step->title, "Scores of every head");
    snprintf(step->formula, sizeof step->formula,
             "scores = einsum('hse,hek->hsk', queries, keysᵀ) / √%zu%s   [%zu, %zu, %zu], [%zu, %zu, %zu] → [%zu, %zu, %zu]", E,
             cfg->causal ? ", masked" : "", H, S, E, H, E, S, H, S, S);
    int m_q = show(step, "queries", queries, DIMS_HSE, false);
    int m_k = show(step, "keys", keys, DIMS_HSE, false);
    int m_scores = show(step, "scores", scores, DIMS_HSS, true);
    derive_scaled(step, m_scores, OP_EINSUM, m_q, m_k, sqrt_e, cfg->causal);
    step->tensors[m_scores].how.equation = "hse,hek->hsk";
    step->tensors[m_scores].how.in1_transposed = true;

    /* mh_softmax */
    Tensor *weights = keep(trace, softmax_last(trace, scores, err));
    if (weights == NULL)
        return false;
    step = step_begin(trace, "mh_softmax", PART_MULTI_HEAD, EXPLAIN_MH_SOFTMAX);
    snprintf(step->title, sizeof step->title, "Softmax in every head");
    snprintf(step->formula, sizeof step->formula, "attention_weights = softmax(scores, dim=-1)   [%zu, %zu, %zu] → [%zu, %zu, %zu]",
             H, S, S, H, S, S);
    m_scores = show(step, "scores", scores, DIMS_HSS, false);
    derive(step, show(step, "attention_weights", weights, DIMS_HSS, true), OP_SOFTMAX, m_scores, -1);

    /* mh_weighted_sum: 'hij,hjk->hik' */
    ops[0] = weights;
    ops[1] = values;
    Tensor *head_outputs = keep(trace, trace_einsum(trace, "hij,hjk->hik", ops, err));
    if (head_outputs == NULL)
        return false;
    step = step_begin(trace, "mh_weighted_sum", PART_MULTI_HEAD, EXPLAIN_MH_WEIGHTED_SUM);
    step->einsum = "hij,hjk->hik";
    snprintf(step->title, sizeof step->title, "Every head blends its values");
    snprintf(step->formula, sizeof step->formula,
             "head_outputs = einsum('hij,hjk->hik', attention_weights, values)   [%zu, %zu, %zu], [%zu, %zu, %zu] → [%zu, %zu, %zu]",
             H, S, S, H, S, E, H, S, E);
    int m_w = show(step, "attention_weights", weights, DIMS_HSS, false);
    int m_v = show(step, "values", values, DIMS_HSE, false);
    int m_heads = show(step, "head_outputs", head_outputs, DIMS_HSE, true);
    derive(step, m_heads, OP_EINSUM, m_w, m_v);
    step->tensors[m_heads].how.equation = "hij,hjk->hik";

    /* mh_concat */
    Tensor *concat = keep(trace, tensor_concat_heads(head_outputs, err));
    if (concat == NULL)
        return false;
    step = step_begin(trace, "mh_concat", PART_MULTI_HEAD, EXPLAIN_MH_CONCAT);
    snprintf(step->title, sizeof step->title, "Put the heads side by side");
    snprintf(step->formula, sizeof step->formula,
             "concat_heads = head_outputs.permute(1, 0, 2).reshape(%zu, -1)   [%zu, %zu, %zu] → [%zu, %zu]", S, H, S, E, S, D);
    m_heads = show(step, "head_outputs", head_outputs, DIMS_HSE, false);
    derive(step, show(step, "concat_heads", concat, DIMS_SD, true), OP_CONCAT_HEADS, m_heads, -1);

    /* mh_output */
    Tensor *output = keep(trace, product(trace, concat, w_output, err));
    if (output == NULL)
        return false;
    step = step_begin(trace, "mh_output", PART_MULTI_HEAD, EXPLAIN_MH_OUTPUT);
    snprintf(step->title, sizeof step->title, "Mix the heads with the output matrix");
    snprintf(step->formula, sizeof step->formula, "multihead_output = concat_heads · w_output   [%zu, %zu] · [%zu, %zu] → [%zu, %zu]",
             S, D, D, D, S, D);
    int m_concat = show(step, "concat_heads", concat, DIMS_SD, false);
    int m_wo = show(step, "w_output", w_output, DIMS_DD, false);
    derive(step, show(step, "multihead_output", output, DIMS_SD, true), OP_MATMUL, m_concat, m_wo);
    return true;
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

unsigned long long trace_bytes(const Config *cfg)
{
    unsigned long long S = cfg->n_tokens, D = cfg->d_model, V = cfg->vocab_size, H = cfg->heads;
    /* the floats each part keeps, from the shapes in build_single_head and
     * build_multi_head: [V, D] tables (part 2's is freed, but both live at
     * once for a moment), [D, D] weights, [S, D] activations, [S, S] and
     * [H, S, S] scores and weights, and the short vectors */
    unsigned long long floats = 0;
    floats = add_sat(floats, mul_sat(2, mul_sat(V, D)));             /* embedding tables */
    floats = add_sat(floats, mul_sat(8, mul_sat(D, D)));             /* 3 + 3 weights, [h, d, e] as d*d, w_output... */
    floats = add_sat(floats, mul_sat(14, mul_sat(S, D)));            /* sentence_embed twice, keys, values, queries, z, q/k/v, keysᵀ, heads, concat, output */
    floats = add_sat(floats, mul_sat(2 + 2 * H, mul_sat(S, S)));     /* scores and weights, per head in part 2 */
    floats = add_sat(floats, add_sat(mul_sat(5, S), mul_sat(5, D))); /* ids, scores_f, scaled, a_f; x_f, k/q/v, z_f */
    return mul_sat(floats, sizeof(float));
}

Trace *trace_build(const Config *cfg, Error *err)
{
    return trace_build_weights(cfg, NULL, err);
}

Trace *trace_build_weights(const Config *cfg, const Weights *weights, Error *err)
{
    if (!config_validate(cfg, err))
        return NULL;
    /* the memory guard: refuse before allocating anything */
    unsigned long long need = trace_bytes(cfg);
    unsigned long long cap = cfg->max_bytes != 0 ? cfg->max_bytes : LIMIT_DEFAULT_MAX_BYTES;
    if (need > cap) {
        char need_text[32], cap_text[32];
        numfmt_bytes(need, need_text, sizeof need_text);
        numfmt_bytes(cap, cap_text, sizeof cap_text);
        unsigned long long gib = need / ((unsigned long long)1 << 30) + 1;
        if (need == ULLONG_MAX)
            error_set(err, STATUS_DATAERR, "these sizes need more memory than can be counted; make them smaller");
        else
            error_set(err, STATUS_DATAERR,
                      "these sizes need %s for the trace's tensors, over the %s cap; --max-memory %lluG allows it",
                      need_text, cap_text, gib);
        return NULL;
    }
    /* and a limit on the process's memory (ulimit -v) is respected before
     * the first allocation, not discovered at the last one */
    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && need > (unsigned long long)limit.rlim_cur) {
        char need_text[32], limit_text[32];
        numfmt_bytes(need, need_text, sizeof need_text);
        numfmt_bytes((unsigned long long)limit.rlim_cur, limit_text, sizeof limit_text);
        error_set(err, STATUS_FAILURE, "these sizes need %s for the trace's tensors, more than the %s this process may use (ulimit -v)",
                  need_text, limit_text);
        return NULL;
    }
    Trace *trace = calloc(1, sizeof *trace);
    if (trace == NULL) {
        error_oom(err, "a trace");
        return NULL;
    }
    if (!config_copy(&trace->config, cfg, err)) {
        free(trace);
        return NULL;
    }
    trace->fast_kernels = trace_uses_fast_kernels(cfg);
    trace->threads = trace->fast_kernels ? trace_threads(cfg) : 1;
    double started = clock_ms();
    if (!build_single_head(trace, weights, err) || !build_multi_head(trace, weights, err)) {
        if (err != NULL && err->status == STATUS_OK)
            error_oom(err, "the trace's tensors");
        trace_free(trace);
        return NULL;
    }
    /* each step's time: from the previous step's start (or the build's) */
    for (int i = 0; i < trace->n_steps; i++) {
        double at = trace->step_ms[i];
        trace->step_ms[i] = at - started;
        started = at;
    }
    link_inputs(trace);
    choose_main_tensors(trace);
    return trace;
}

void trace_free(Trace *trace)
{
    if (trace == NULL)
        return;
    for (int i = 0; i < trace->n_owned; i++)
        tensor_free(trace->owned[i]);
    config_free(&trace->config);
    free(trace);
}

const char *trace_part_name(TracePart part)
{
    switch (part) {
    case PART_SINGLE_HEAD:
        return "single_head";
    case PART_MULTI_HEAD:
        return "multi_head";
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
    char ids[TRACE_MAX_STEPS * 20] = ""; /* room for every id: the longest is 15 bytes */
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
