/*
 * gpt2.c - opening a GPT-2-layout checkpoint and running its forward pass
 * stage by stage (see gpt2.h).
 */
#include "gpt2.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nn.h"
#include "numfmt.h"

/* Rows of wte converted at a time while the logits stream through it. */
#define GPT2_LOGIT_CHUNK_ROWS 512

/* Longest tensor name built here ("transformer.h.255.attn.c_attn.weight"). */
#define GPT2_NAME_BYTES 96

/* ------------------------------------------------------------------------
 * Names and shapes
 * ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    size_t rows_d, cols_d; /* shape in multiples of d: [rows_d * d, cols_d * d]; cols_d 0 for a vector */
} BLOCK_TENSORS[GPT2_BLOCK_TENSORS] = {
    [GPT2_LN_1_WEIGHT] = {"ln_1.weight", 1, 0},
    [GPT2_LN_1_BIAS] = {"ln_1.bias", 1, 0},
    [GPT2_C_ATTN_WEIGHT] = {"attn.c_attn.weight", 1, 3},
    [GPT2_C_ATTN_BIAS] = {"attn.c_attn.bias", 3, 0},
    [GPT2_ATTN_PROJ_WEIGHT] = {"attn.c_proj.weight", 1, 1},
    [GPT2_ATTN_PROJ_BIAS] = {"attn.c_proj.bias", 1, 0},
    [GPT2_LN_2_WEIGHT] = {"ln_2.weight", 1, 0},
    [GPT2_LN_2_BIAS] = {"ln_2.bias", 1, 0},
    [GPT2_FC_WEIGHT] = {"mlp.c_fc.weight", 1, 4},
    [GPT2_FC_BIAS] = {"mlp.c_fc.bias", 4, 0},
    [GPT2_MLP_PROJ_WEIGHT] = {"mlp.c_proj.weight", 4, 1},
    [GPT2_MLP_PROJ_BIAS] = {"mlp.c_proj.bias", 1, 0},
};

const char *gpt2_block_tensor_name(Gpt2BlockTensor which)
{
    return (unsigned)which < GPT2_BLOCK_TENSORS ? BLOCK_TENSORS[which].name : "?";
}

size_t gpt2_block_floats(size_t d)
{
    return 12 * d * d + 13 * d;
}

/* Elements of block tensor `which` for width d. */
static size_t block_tensor_floats(Gpt2BlockTensor which, size_t d)
{
    size_t n = BLOCK_TENSORS[which].rows_d * d;
    return BLOCK_TENSORS[which].cols_d == 0 ? n : n * BLOCK_TENSORS[which].cols_d * d;
}

static const char *STAGE_NAMES[GPT2_STAGE_COUNT] = {
    [GPT2_STAGE_EMBED] = "embed",
    [GPT2_STAGE_BLOCKS] = "blocks",
    [GPT2_STAGE_LN_1] = "ln_1",
    [GPT2_STAGE_QKV] = "qkv",
    [GPT2_STAGE_SPLIT_HEADS] = "split_heads",
    [GPT2_STAGE_SCORES] = "scores",
    [GPT2_STAGE_SOFTMAX] = "softmax",
    [GPT2_STAGE_HEAD_OUTPUTS] = "head_outputs",
    [GPT2_STAGE_CONCAT] = "concat_heads",
    [GPT2_STAGE_C_PROJ] = "c_proj",
    [GPT2_STAGE_RESIDUAL] = "residual",
    [GPT2_STAGE_NEXT_TOKEN] = "next_token",
};

const char *gpt2_stage_name(Gpt2Stage stage)
{
    return (unsigned)stage < GPT2_STAGE_COUNT ? STAGE_NAMES[stage] : "?";
}

/* Writes a shape as "[768, 2304]". */
static void shape_text(const uint64_t *shape, int rank, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", i > 0 ? ", " : "", (unsigned long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* ------------------------------------------------------------------------
 * config.json
 * ---------------------------------------------------------------------- */

/* Reads config member key as an integer in 1..max into *out. */
static bool config_size(const JsonDoc *doc, const char *key, long long max, size_t *out, Error *err)
{
    const JsonValue *root = json_root(doc);
    const JsonValue *v = json_get(root, key);
    if (v == NULL)
        return error_set(err, STATUS_DATAERR,
                         "%s: %s is missing (a GPT-2 config.json has n_embd, n_head, n_layer, "
                         "n_positions and vocab_size)",
                         json_name(doc), key);
    int64_t n;
    if (!json_int64(doc, v, key, &n, err))
        return false;
    if (n < 1 || n > max)
        return json_error_at(doc, v->offset, err, "%s is %lld, outside 1..%lld", key, (long long)n, max);
    *out = (size_t)n;
    return true;
}

static bool read_config(const char *path, Gpt2Config *cfg, Error *err)
{
    JsonDoc *doc = json_read_file(path, err);
    if (doc == NULL)
        return false;
    bool ok = false;
    const JsonValue *root = json_root(doc);
    if (!json_expect(doc, root, JSON_OBJECT, "config", err))
        goto done;
    const JsonValue *type = json_get(root, "model_type");
    if (type != NULL) {
        if (!json_expect(doc, type, JSON_STRING, "model_type", err))
            goto done;
        if (strcmp(type->u.string, "gpt2") != 0) {
            json_error_at(doc, type->offset, err,
                          "model_type is \"%.40s\": attn-trace reads GPT-2 checkpoints (model_type \"gpt2\")",
                          type->u.string);
            goto done;
        }
    }
    if (!config_size(doc, "n_embd", LIMIT_MAX_D_MODEL, &cfg->n_embd, err) ||
        !config_size(doc, "n_head", LIMIT_MAX_HEADS, &cfg->n_head, err) ||
        !config_size(doc, "n_layer", LIMIT_MAX_LAYERS, &cfg->n_layer, err) ||
        !config_size(doc, "vocab_size", LIMIT_MAX_VOCAB, &cfg->vocab_size, err))
        goto done;
    /* n_positions, or the older n_ctx */
    const char *positions_key = json_get(root, "n_positions") != NULL || json_get(root, "n_ctx") == NULL ? "n_positions"
                                                                                                         : "n_ctx";
    if (!config_size(doc, positions_key, LIMIT_MAX_TOKENS, &cfg->n_positions, err))
        goto done;
    if (cfg->n_embd % cfg->n_head != 0) {
        json_error_at(doc, json_get(root, "n_head")->offset, err,
                      "n_embd %zu is not a multiple of n_head %zu (each head takes n_embd / n_head columns)",
                      cfg->n_embd, cfg->n_head);
        goto done;
    }
    cfg->layer_norm_epsilon = 1e-5f;
    const JsonValue *eps = json_get(root, "layer_norm_epsilon");
    if (eps != NULL) {
        double e;
        if (!json_double(doc, eps, "layer_norm_epsilon", &e, err))
            goto done;
        if (!(e > 0.0 && e < 1.0)) {
            json_error_at(doc, eps->offset, err, "layer_norm_epsilon %g is outside (0, 1)", e);
            goto done;
        }
        cfg->layer_norm_epsilon = (float)e;
    }
    ok = true;
done:
    json_free(doc);
    return ok;
}

/* ------------------------------------------------------------------------
 * Opening
 * ---------------------------------------------------------------------- */

/* Tell-tale tensors of other architectures, for a helpful refusal. */
static const struct {
    const char *tensor;
    const char *what;
} OTHER_ARCHITECTURES[] = {
    {"model.embed_tokens.weight", "a LLaMA/Mistral-style checkpoint"},
    {"embed_tokens.weight", "a LLaMA/Mistral-style checkpoint"},
    {"gpt_neox.embed_in.weight", "a GPT-NeoX/Pythia checkpoint"},
    {"transformer.word_embeddings.weight", "a BLOOM checkpoint"},
    {"model.decoder.embed_tokens.weight", "an OPT checkpoint"},
    {"embeddings.word_embeddings.weight", "a BERT-style checkpoint"},
    {"bert.embeddings.word_embeddings.weight", "a BERT checkpoint"},
    {"transformer.wte.weight.T", "a transposed export"},
};

/* Finds prefix + name in the file. */
static const SafeTensor *find_prefixed(const Gpt2Model *m, const char *name)
{
    char full[GPT2_NAME_BYTES];
    snprintf(full, sizeof full, "%s%s", m->prefix, name);
    return safetensors_find(m->file, full);
}

/* Checks t (called name) against the expected shape and dtype. */
static bool check_tensor(const Gpt2Model *m, const char *name, const SafeTensor *t, int rank, uint64_t rows,
                         uint64_t cols, Error *err)
{
    const char *file = m->file->name;
    if (t == NULL)
        return error_set(err, STATUS_DATAERR,
                         "%s: missing tensor %s%s (a GPT-2 checkpoint has %swte.weight, wpe.weight, h.N.ln_1.*, "
                         "h.N.attn.c_attn.*, h.N.attn.c_proj.*, h.N.ln_2.*, h.N.mlp.c_fc.*, h.N.mlp.c_proj.*, "
                         "ln_f.* for N = 0..n_layer-1)",
                         file, m->prefix, name, m->prefix);
    if (t->dtype != SAFE_F32 && t->dtype != SAFE_F16 && t->dtype != SAFE_BF16)
        return error_set(err, STATUS_DATAERR, "%s: tensor %s has dtype %s: attn-trace reads F32, F16 and BF16", file,
                         t->name, safetensors_dtype_name(t->dtype));
    uint64_t want[2] = {rows, cols};
    bool same = t->rank == rank && t->shape[0] == rows && (rank == 1 || t->shape[1] == cols);
    if (!same) {
        char got_text[96], want_text[96];
        shape_text(t->shape, t->rank, got_text, sizeof got_text);
        shape_text(want, rank, want_text, sizeof want_text);
        return error_set(err, STATUS_DATAERR,
                         "%s: tensor %s is %s, but %s (n_embd %zu, n_positions %zu, vocab_size %zu) needs %s", file,
                         t->name, got_text, m->config_path, m->config.n_embd, m->config.n_positions,
                         m->config.vocab_size, want_text);
    }
    return true;
}

/* Pass 1 of gpt2_open: sets m->prefix to "" or "transformer." by where
 * wte.weight is in m's checkpoint (st_path, for messages). False with a
 * STATUS_DATAERR error naming the architecture when it is another known
 * one, or saying it is not GPT-2. */
static bool find_prefix(Gpt2Model *m, const char *st_path, Error *err)
{
    if (safetensors_find(m->file, "wte.weight") != NULL)
        return true;
    if (safetensors_find(m->file, "transformer.wte.weight") != NULL) {
        m->prefix = "transformer.";
        return true;
    }
    for (size_t i = 0; i < sizeof OTHER_ARCHITECTURES / sizeof OTHER_ARCHITECTURES[0]; i++)
        if (safetensors_find(m->file, OTHER_ARCHITECTURES[i].tensor) != NULL)
            return error_set(err, STATUS_DATAERR,
                             "%s: this is %s (it has %s), not GPT-2: attn-trace expected a GPT-2 checkpoint "
                             "(wte.weight, wpe.weight, h.N.attn.c_attn.weight, ...)",
                             st_path, OTHER_ARCHITECTURES[i].what, OTHER_ARCHITECTURES[i].tensor);
    return error_set(err, STATUS_DATAERR,
                     "%s: no tensor wte.weight (nor transformer.wte.weight): attn-trace expected a GPT-2 checkpoint "
                     "(wte.weight, wpe.weight, h.N.attn.c_attn.weight, ...)",
                     st_path);
}

/* Pass 2: finds and checks the tensors outside the blocks (wte, wpe, ln_f)
 * against m's config, and sets m->dtype (wte's) and m->mixed_dtypes. False
 * with err set when one is missing or the wrong shape or dtype. */
static bool find_globals(Gpt2Model *m, Error *err)
{
    const Gpt2Config *c = &m->config;
    size_t d = c->n_embd;
    m->wte = find_prefixed(m, "wte.weight");
    m->wpe = find_prefixed(m, "wpe.weight");
    m->ln_f_weight = find_prefixed(m, "ln_f.weight");
    m->ln_f_bias = find_prefixed(m, "ln_f.bias");
    if (!check_tensor(m, "wte.weight", m->wte, 2, c->vocab_size, d, err) ||
        !check_tensor(m, "wpe.weight", m->wpe, 2, c->n_positions, d, err) ||
        !check_tensor(m, "ln_f.weight", m->ln_f_weight, 1, d, 0, err) ||
        !check_tensor(m, "ln_f.bias", m->ln_f_bias, 1, d, 0, err))
        return false;
    m->dtype = m->wte->dtype;
    m->mixed_dtypes = m->wpe->dtype != m->dtype || m->ln_f_weight->dtype != m->dtype || m->ln_f_bias->dtype != m->dtype;
    return true;
}

/* Pass 3: allocates m->blocks and finds and checks every tensor of the
 * config's n_layer blocks, noting a dtype other than m->dtype; then refuses
 * a block past n_layer (config.json describes another model). False with
 * err set (st_path names the checkpoint) otherwise; gpt2_close frees
 * m->blocks. */
static bool find_blocks(Gpt2Model *m, const char *st_path, Error *err)
{
    const Gpt2Config *c = &m->config;
    size_t d = c->n_embd;
    m->blocks = calloc(c->n_layer, sizeof *m->blocks);
    if (m->blocks == NULL)
        return error_oom(err, "the model's table");
    for (size_t l = 0; l < c->n_layer; l++) {
        for (int w = 0; w < GPT2_BLOCK_TENSORS; w++) {
            char name[GPT2_NAME_BYTES];
            snprintf(name, sizeof name, "h.%zu.%s", l, BLOCK_TENSORS[w].name);
            const SafeTensor *t = find_prefixed(m, name);
            int rank = BLOCK_TENSORS[w].cols_d == 0 ? 1 : 2;
            if (!check_tensor(m, name, t, rank, BLOCK_TENSORS[w].rows_d * d, BLOCK_TENSORS[w].cols_d * d, err))
                return false;
            m->blocks[l][w] = t;
            if (t->dtype != m->dtype)
                m->mixed_dtypes = true;
        }
    }
    char extra[GPT2_NAME_BYTES];
    snprintf(extra, sizeof extra, "h.%zu.ln_1.weight", c->n_layer);
    if (find_prefixed(m, extra) != NULL)
        return error_set(err, STATUS_DATAERR, "%s: %s says n_layer %zu, but the checkpoint has a block %zu (%s%s)",
                         st_path, m->config_path, c->n_layer, c->n_layer, m->prefix, extra);
    return true;
}

Gpt2Model *gpt2_open(const char *dir, Error *err)
{
    Gpt2Model *m = calloc(1, sizeof *m);
    size_t dir_len = strlen(dir);
    char *st_path = malloc(dir_len + 32);
    if (m != NULL) {
        m->dir = strdup(dir);
        m->config_path = malloc(dir_len + 32);
    }
    if (m == NULL || st_path == NULL || m->dir == NULL || m->config_path == NULL) {
        free(st_path);
        gpt2_close(m);
        error_oom(err, "a model");
        return NULL;
    }
    snprintf(m->config_path, dir_len + 32, "%s/config.json", dir);
    snprintf(st_path, dir_len + 32, "%s/model.safetensors", dir);
    m->prefix = "";
    if (!read_config(m->config_path, &m->config, err))
        goto fail;
    m->file = safetensors_open(st_path, err);
    if (m->file == NULL)
        goto fail;
    if (!find_prefix(m, st_path, err) || !find_globals(m, err) || !find_blocks(m, st_path, err))
        goto fail;
    free(st_path);
    return m;
fail:
    free(st_path);
    gpt2_close(m);
    return NULL;
}

void gpt2_close(Gpt2Model *model)
{
    if (model == NULL)
        return;
    safetensors_close(model->file);
    free(model->blocks);
    free(model->config_path);
    free(model->dir);
    free(model);
}

/* True when t's F32 values can be read in place: a little-endian host and
 * a float-aligned address. */
static bool usable_in_place(const SafeTensor *t)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return t->dtype == SAFE_F32 && first == 1 && (uintptr_t)t->data % _Alignof(float) == 0;
}

bool gpt2_block_load(const Gpt2Model *model, size_t layer, Gpt2Block *block, Error *err)
{
    if (layer >= model->config.n_layer)
        return error_set(err, STATUS_DATAERR, "%s: layer %zu is out of range: the checkpoint has %zu layers (0..%zu)",
                         model->dir, layer, model->config.n_layer, model->config.n_layer - 1);
    size_t d = model->config.n_embd;
    float *at = block->storage;
    for (int w = 0; w < GPT2_BLOCK_TENSORS; w++) {
        const SafeTensor *t = model->blocks[layer][w];
        safetensors_prefetch(model->file, t, 0, t->shape[0]);
        if (usable_in_place(t)) {
            block->w[w] = (const float *)(const void *)t->data;
        } else {
            if (!safetensors_read_f32(model->file, t, 0, t->shape[0], at, err))
                return false;
            safetensors_release(model->file, t, 0, t->shape[0]);
            block->w[w] = at;
        }
        at += block_tensor_floats((Gpt2BlockTensor)w, d);
    }
    block->layer = layer;
    return true;
}

void gpt2_block_release(const Gpt2Model *model, const Gpt2Block *block)
{
    if (block->layer >= model->config.n_layer)
        return;
    for (int w = 0; w < GPT2_BLOCK_TENSORS; w++) {
        const SafeTensor *t = model->blocks[block->layer][w];
        safetensors_release(model->file, t, 0, t->shape[0]);
    }
}

/* ------------------------------------------------------------------------
 * The budget
 * ---------------------------------------------------------------------- */

/* Adds a * b floats to *total (in floats), saturating at ULLONG_MAX. */
static void count(unsigned long long *total, unsigned long long a, unsigned long long b)
{
    if (*total == ULLONG_MAX)
        return;
    if (a != 0 && b > ULLONG_MAX / a) {
        *total = ULLONG_MAX;
        return;
    }
    unsigned long long add = a * b;
    *total = add > ULLONG_MAX - *total ? ULLONG_MAX : *total + add;
}

/* Floats of the working buffers for s tokens: a hidden state, its
 * LayerNorm, qkv, one head's q/k/v, scores and output, the concat, the
 * MLP's two [s, 4d] activations and one chunk of wte. */
static unsigned long long work_floats(const Gpt2Config *cfg, size_t s)
{
    unsigned long long n = 0, d = cfg->n_embd;
    count(&n, s, d * 4); /* x, ln, concat, attn/mlp out */
    count(&n, s, d * 3); /* qkv */
    count(&n, s, d * 3); /* one head's q, k, v (at most d each) */
    count(&n, s, d);     /* one head's output */
    count(&n, s, s);     /* one head's scores */
    count(&n, s, d * 8); /* c_fc and the GELU */
    count(&n, GPT2_LOGIT_CHUNK_ROWS, d);
    return n;
}

unsigned long long gpt2_trace_bytes(const Gpt2Config *cfg, size_t s)
{
    /* sizes past the limits are not counted (gpt2_open never makes them);
     * within them no product below can overflow */
    if (cfg->n_embd > LIMIT_MAX_D_MODEL || cfg->n_head > LIMIT_MAX_HEADS || cfg->vocab_size > LIMIT_MAX_VOCAB ||
        s > LIMIT_MAX_TOKENS)
        return ULLONG_MAX;
    unsigned long long floats = 0, d = cfg->n_embd, h = cfg->n_head;
    count(&floats, s, d * 8);     /* token, position, block_input, ln_1, concat, attn_output, attn_residual, ln_f */
    count(&floats, s, d * 3);     /* qkv */
    count(&floats, s, d * 4);     /* queries, keys, values, head_outputs */
    count(&floats, 2 * h * s, s); /* scores, attention_weights */
    count(&floats, cfg->vocab_size, 1);
    count(&floats, s, 2); /* ln_1's mean and rstd */
    count(&floats, 2, gpt2_block_floats(cfg->n_embd));
    unsigned long long work = work_floats(cfg, s);
    count(&floats, work, 1);
    if (floats == ULLONG_MAX)
        return ULLONG_MAX;
    unsigned long long bytes = 0;
    count(&bytes, floats, sizeof(float));
    count(&bytes, s, sizeof(long));
    return bytes;
}

/* ------------------------------------------------------------------------
 * The block's math, on raw buffers
 * ---------------------------------------------------------------------- */

/* Working memory for running a block in full. */
struct Gpt2Work {
    float *x;         /* [s, d] the residual stream */
    float *ln;        /* [s, d] */
    float *qkv;       /* [s, 3d] */
    float *q, *k, *v; /* [s, d_k] one head */
    float *scores;    /* [s, s] one head */
    float *head;      /* [s, d_k] */
    float *concat;    /* [s, d] */
    float *out;       /* [s, d] */
    float *fc;        /* [s, 4d] */
    float *act;       /* [s, 4d] */
    float *chunk;     /* [GPT2_LOGIT_CHUNK_ROWS, d] */
    float *storage;
};
typedef struct Gpt2Work Work;

size_t gpt2_qkv_column(const Gpt2Config *cfg, Gpt2QkvPart part, size_t head, size_t j)
{
    size_t d = cfg->n_embd, d_k = d / cfg->n_head;
    return (size_t)part * d + head * d_k + j;
}

/* Copies head h's columns of part (0 q, 1 k, 2 v) of qkv [s, 3d] into
 * out [s, d_k]: qkv[i][part * d + h * d_k + j]. */
static void split_head(float *out, const float *qkv, size_t s, size_t d, size_t d_k, size_t part, size_t h)
{
    for (size_t i = 0; i < s; i++)
        memcpy(out + i * d_k, qkv + i * 3 * d + part * d + h * d_k, d_k * sizeof *out);
}

/* One head's attention: scores [s, s] = q [s, d_k] . k^T / scale, -inf
 * above the diagonal, softmax in place, out [s, d_k] = weights . v. */
static void head_attention(float *out, float *scores, const float *q, const float *k, const float *v, size_t s,
                           size_t d_k, float scale)
{
    matmul_bt_forward(scores, q, k, s, d_k, s);
    for (size_t i = 0; i < s; i++)
        for (size_t j = 0; j < s; j++)
            scores[i * s + j] = j > i ? -INFINITY : scores[i * s + j] / scale;
    softmax_rows(scores, scores, s, s);
    matmul_forward(out, scores, v, s, s, d_k);
}

/* x [s, d] += the attention of block b on it. */
static void run_attention(const Gpt2Config *c, const Gpt2Block *b, float *x, size_t s, float scale, Work *w)
{
    size_t d = c->n_embd, h = c->n_head, d_k = d / h;
    layernorm_forward(w->ln, x, b->w[GPT2_LN_1_WEIGHT], b->w[GPT2_LN_1_BIAS], s, d, c->layer_norm_epsilon, NULL, NULL);
    addmm_forward(w->qkv, b->w[GPT2_C_ATTN_BIAS], w->ln, b->w[GPT2_C_ATTN_WEIGHT], s, d, 3 * d);
    for (size_t hh = 0; hh < h; hh++) {
        split_head(w->q, w->qkv, s, d, d_k, 0, hh);
        split_head(w->k, w->qkv, s, d, d_k, 1, hh);
        split_head(w->v, w->qkv, s, d, d_k, 2, hh);
        head_attention(w->head, w->scores, w->q, w->k, w->v, s, d_k, scale);
        for (size_t i = 0; i < s; i++)
            memcpy(w->concat + i * d + hh * d_k, w->head + i * d_k, d_k * sizeof *w->concat);
    }
    addmm_forward(w->out, b->w[GPT2_ATTN_PROJ_BIAS], w->concat, b->w[GPT2_ATTN_PROJ_WEIGHT], s, d, d);
    for (size_t i = 0; i < s * d; i++)
        x[i] = x[i] + w->out[i];
}

/* x [s, d] += the MLP of block b on it. */
static void run_mlp(const Gpt2Config *c, const Gpt2Block *b, float *x, size_t s, Work *w)
{
    size_t d = c->n_embd;
    layernorm_forward(w->ln, x, b->w[GPT2_LN_2_WEIGHT], b->w[GPT2_LN_2_BIAS], s, d, c->layer_norm_epsilon, NULL, NULL);
    addmm_forward(w->fc, b->w[GPT2_FC_BIAS], w->ln, b->w[GPT2_FC_WEIGHT], s, d, 4 * d);
    gelu_tanh_forward(w->act, w->fc, s * 4 * d);
    addmm_forward(w->out, b->w[GPT2_MLP_PROJ_BIAS], w->act, b->w[GPT2_MLP_PROJ_WEIGHT], s, 4 * d, d);
    for (size_t i = 0; i < s * d; i++)
        x[i] = x[i] + w->out[i];
}

/* ------------------------------------------------------------------------
 * The trace
 * ---------------------------------------------------------------------- */

void gpt2_trace_free(Gpt2Trace *t)
{
    if (t == NULL)
        return;
    free(t->token_ids);
    Tensor *all[] = {t->token_embed, t->position_embed,    t->block_input,  t->ln_1,
                     t->qkv,         t->queries,           t->keys,         t->values,
                     t->scores,      t->attention_weights, t->head_outputs, t->concat_heads,
                     t->attn_output, t->attn_residual,     t->ln_f,         t->next_token_probs};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        tensor_free(all[i]);
    free(t->ln_1_mean);
    free(t->ln_1_rstd);
    free(t->block.storage);
    free(t->scratch.storage);
    if (t->work != NULL)
        free(t->work->storage);
    free(t->work);
    memset(t, 0, sizeof *t);
}

/* Allocates w's buffers for s tokens (one block of work_floats floats). */
static bool work_alloc(const Gpt2Config *c, size_t s, Work *w, Error *err)
{
    size_t d = c->n_embd;
    w->storage = calloc((size_t)work_floats(c, s), sizeof(float));
    if (w->storage == NULL)
        return error_oom(err, "the trace's working memory");
    float *at = w->storage;
    w->ln = at, at += s * d;
    w->concat = at, at += s * d;
    w->out = at, at += s * d;
    w->x = at, at += s * d;
    w->qkv = at, at += s * 3 * d;
    w->q = at, at += s * d;
    w->k = at, at += s * d;
    w->v = at, at += s * d;
    w->head = at, at += s * d;
    w->scores = at, at += s * s;
    w->fc = at, at += s * 4 * d;
    w->act = at, at += s * 4 * d;
    w->chunk = at;
    return true;
}

bool gpt2_trace_begin(const Gpt2Model *model, const long *ids, size_t n_tokens, size_t layer,
                      unsigned long long max_bytes, Gpt2Trace *t, Error *err)
{
    memset(t, 0, sizeof *t);
    const Gpt2Config *c = &model->config;
    /* 1. the request */
    if (layer >= c->n_layer)
        return error_set(err, STATUS_DATAERR, "%s: layer %zu is out of range: the checkpoint has %zu layers (0..%zu)",
                         model->dir, layer, c->n_layer, c->n_layer - 1);
    if (n_tokens == 0)
        return error_set(err, STATUS_DATAERR, "%s: no tokens to trace", model->dir);
    if (n_tokens > c->n_positions)
        return error_set(err, STATUS_DATAERR, "%s: %zu tokens are more than the model's n_positions (%zu)", model->dir,
                         n_tokens, c->n_positions);
    for (size_t i = 0; i < n_tokens; i++)
        if (ids[i] < 0 || (unsigned long)ids[i] >= c->vocab_size)
            return error_set(err, STATUS_DATAERR, "%s: token id %ld (token %zu) is not below vocab_size %zu",
                             model->dir, ids[i], i + 1, c->vocab_size);
    /* 2. the budget, before any allocation */
    unsigned long long need = gpt2_trace_bytes(c, n_tokens);
    unsigned long long cap = max_bytes != 0 ? max_bytes : LIMIT_DEFAULT_MAX_BYTES;
    if (need > cap) {
        char need_text[32], cap_text[32];
        numfmt_bytes(need, need_text, sizeof need_text);
        numfmt_bytes(cap, cap_text, sizeof cap_text);
        return error_set(err, STATUS_DATAERR,
                         "%s: a trace of %zu tokens needs %s, over the %s cap; --max-memory %lluG allows it",
                         model->dir, n_tokens, need_text, cap_text, need / ((unsigned long long)1 << 30) + 1);
    }
    /* 3. everything, at once */
    size_t s = n_tokens, d = c->n_embd, h = c->n_head, d_k = d / h;
    t->layer = layer;
    t->n_tokens = s;
    t->next = GPT2_STAGE_EMBED;
    t->scale = (float)sqrt((double)d_k);
    t->token_ids = malloc(s * sizeof *t->token_ids);
    t->ln_1_mean = malloc(s * sizeof(float));
    t->ln_1_rstd = malloc(s * sizeof(float));
    t->block.storage = malloc(gpt2_block_floats(d) * sizeof(float));
    t->scratch.storage = malloc(gpt2_block_floats(d) * sizeof(float));
    t->block.layer = t->scratch.layer = SIZE_MAX;
    t->work = calloc(1, sizeof *t->work);
    if (t->token_ids == NULL || t->ln_1_mean == NULL || t->ln_1_rstd == NULL || t->block.storage == NULL ||
        t->scratch.storage == NULL || t->work == NULL || !work_alloc(c, s, t->work, err)) {
        gpt2_trace_free(t);
        return error_oom(err, "a GPT-2 trace");
    }
    memcpy(t->token_ids, ids, s * sizeof *ids);
    Tensor **sd[] = {&t->token_embed,  &t->position_embed, &t->block_input,   &t->ln_1,
                     &t->concat_heads, &t->attn_output,    &t->attn_residual, &t->ln_f};
    for (size_t i = 0; i < sizeof sd / sizeof sd[0]; i++)
        if ((*sd[i] = tensor_new2(s, d, err)) == NULL)
            goto oom;
    Tensor **hsk[] = {&t->queries, &t->keys, &t->values, &t->head_outputs};
    for (size_t i = 0; i < sizeof hsk / sizeof hsk[0]; i++)
        if ((*hsk[i] = tensor_new3(h, s, d_k, err)) == NULL)
            goto oom;
    if ((t->qkv = tensor_new2(s, 3 * d, err)) == NULL || (t->scores = tensor_new3(h, s, s, err)) == NULL ||
        (t->attention_weights = tensor_new3(h, s, s, err)) == NULL ||
        (t->next_token_probs = tensor_new1(c->vocab_size, err)) == NULL)
        goto oom;
    return true;
oom:
    gpt2_trace_free(t);
    return false;
}

/* Runs blocks [first, last) in full on x [s, d], one block's weights at a
 * time in the scratch buffer. */
static bool run_blocks(const Gpt2Model *m, Gpt2Trace *t, size_t first, size_t last, float *x, Error *err)
{
    for (size_t l = first; l < last; l++) {
        if (!gpt2_block_load(m, l, &t->scratch, err))
            return false;
        run_attention(&m->config, &t->scratch, x, t->n_tokens, t->scale, t->work);
        run_mlp(&m->config, &t->scratch, x, t->n_tokens, t->work);
        gpt2_block_release(m, &t->scratch);
    }
    return true;
}

/* out[r] = x . rows[r] for r < n (rows is (n, d)), each dot product added
 * left to right from 0 as dot_strided does (the reference BLAS's order);
 * eight rows advance together so that the eight sums do not wait on each
 * other. */
static void logit_rows(float *out, const float *x, const float *rows, size_t n, size_t d)
{
    size_t r = 0;
    for (; r + 8 <= n; r += 8) {
        float sum[8] = {0};
        for (size_t k = 0; k < d; k++)
            for (size_t j = 0; j < 8; j++)
                sum[j] = sum[j] + x[k] * rows[(r + j) * d + k];
        memcpy(out + r, sum, sizeof sum);
    }
    for (; r < n; r++)
        out[r] = dot_strided(x, rows + r * d, d, 1);
}

/* The last token's logits x_last . wte^T into probs (vocab), wte streamed
 * GPT2_LOGIT_CHUNK_ROWS rows at a time (each chunk's pages released after
 * use), then their softmax and the top GPT2_TOP_K. */
static bool next_token(const Gpt2Model *m, Gpt2Trace *t, Error *err)
{
    const Gpt2Config *c = &m->config;
    size_t d = c->n_embd, V = c->vocab_size;
    const float *x_last = t->ln_f->data + (t->n_tokens - 1) * d;
    float *logits = t->next_token_probs->data;
    for (size_t first = 0; first < V; first += GPT2_LOGIT_CHUNK_ROWS) {
        size_t rows = V - first < GPT2_LOGIT_CHUNK_ROWS ? V - first : GPT2_LOGIT_CHUNK_ROWS;
        if (first + rows < V)
            safetensors_prefetch(m->file, m->wte, first + rows,
                                 V - first - rows < GPT2_LOGIT_CHUNK_ROWS ? V - first - rows : GPT2_LOGIT_CHUNK_ROWS);
        if (!safetensors_read_f32(m->file, m->wte, first, rows, t->work->chunk, err))
            return false;
        safetensors_release(m->file, m->wte, first, rows);
        logit_rows(logits + first, x_last, t->work->chunk, rows, d);
    }
    softmax_rows(logits, logits, 1, V);
    /* the top k, most likely first; a tie goes to the lower id */
    for (int k = 0; k < GPT2_TOP_K; k++) {
        t->top_ids[k] = -1;
        t->top_probs[k] = -1.0f;
    }
    for (size_t v = 0; v < V; v++) {
        float p = logits[v];
        if (p <= t->top_probs[GPT2_TOP_K - 1])
            continue;
        int k = GPT2_TOP_K - 1;
        while (k > 0 && p > t->top_probs[k - 1]) {
            t->top_probs[k] = t->top_probs[k - 1];
            t->top_ids[k] = t->top_ids[k - 1];
            k--;
        }
        t->top_probs[k] = p;
        t->top_ids[k] = (long)v;
    }
    return true;
}

/* The embed stage: each token's row of wte into token_embed and the first
 * s rows of wpe into position_embed. False with err set when a read fails. */
static bool stage_embed(const Gpt2Model *m, Gpt2Trace *t, Error *err)
{
    size_t s = t->n_tokens, d = m->config.n_embd;
    for (size_t i = 0; i < s; i++)
        if (!safetensors_read_f32(m->file, m->wte, (uint64_t)t->token_ids[i], 1, t->token_embed->data + i * d, err))
            return false;
    return safetensors_read_f32(m->file, m->wpe, 0, s, t->position_embed->data, err);
}

/* The blocks stage: the embeddings' sum run through the blocks before the
 * traced one into block_input, then the traced block's weights loaded into
 * t->block. False with err set when a load fails. */
static bool stage_blocks(const Gpt2Model *m, Gpt2Trace *t, Error *err)
{
    size_t s = t->n_tokens, d = m->config.n_embd;
    Work *w = t->work;
    for (size_t i = 0; i < s * d; i++)
        w->x[i] = t->token_embed->data[i] + t->position_embed->data[i];
    if (!run_blocks(m, t, 0, t->layer, w->x, err))
        return false;
    memcpy(t->block_input->data, w->x, s * d * sizeof(float));
    return gpt2_block_load(m, t->layer, &t->block, err);
}

/* The split-heads stage: qkv [s, 3d] cut into queries, keys and values,
 * each [h, s, d_k]. */
static void stage_split_heads(Gpt2Trace *t, size_t h, size_t d)
{
    size_t s = t->n_tokens, d_k = d / h;
    for (size_t hh = 0; hh < h; hh++) {
        split_head(t->queries->data + hh * s * d_k, t->qkv->data, s, d, d_k, 0, hh);
        split_head(t->keys->data + hh * s * d_k, t->qkv->data, s, d, d_k, 1, hh);
        split_head(t->values->data + hh * s * d_k, t->qkv->data, s, d, d_k, 2, hh);
    }
}

/* The scores stage: for each of the h heads, scores = Q K^T / scale
 * [s, s], then the causal mask over all of them. */
static void stage_scores(Gpt2Trace *t, size_t h, size_t d_k)
{
    size_t s = t->n_tokens;
    for (size_t hh = 0; hh < h; hh++) {
        float *sc = t->scores->data + hh * s * s;
        matmul_bt_forward(sc, t->queries->data + hh * s * d_k, t->keys->data + hh * s * d_k, s, d_k, s);
        for (size_t i = 0; i < s * s; i++)
            sc[i] = sc[i] / t->scale;
    }
    tensor_causal_mask(t->scores);
}

/* The concat stage: head_outputs [h, s, d_k] side by side into
 * concat_heads [s, d]. False with err set when memory runs out. */
static bool stage_concat(Gpt2Trace *t, size_t d, Error *err)
{
    Tensor *concat = tensor_concat_heads(t->head_outputs, err);
    if (concat == NULL)
        return false;
    memcpy(t->concat_heads->data, concat->data, t->n_tokens * d * sizeof(float));
    tensor_free(concat);
    return true;
}

/* The next-token stage: the traced block's MLP on attn_residual, the
 * blocks after it, ln_f into t->ln_f and the next token's probabilities.
 * False with err set when a read fails. */
static bool stage_next_token(const Gpt2Model *m, Gpt2Trace *t, Error *err)
{
    const Gpt2Config *c = &m->config;
    size_t s = t->n_tokens, d = c->n_embd;
    Work *w = t->work;
    memcpy(w->x, t->attn_residual->data, s * d * sizeof(float));
    run_mlp(c, &t->block, w->x, s, w);
    gpt2_block_release(m, &t->block);
    if (!run_blocks(m, t, t->layer + 1, c->n_layer, w->x, err))
        return false;
    float *lnf_w = w->chunk, *lnf_b = w->chunk + d; /* ln_f's weights, borrowed room */
    if (!safetensors_read_f32(m->file, m->ln_f_weight, 0, d, lnf_w, err) ||
        !safetensors_read_f32(m->file, m->ln_f_bias, 0, d, lnf_b, err))
        return false;
    layernorm_forward(t->ln_f->data, w->x, lnf_w, lnf_b, s, d, c->layer_norm_epsilon, NULL, NULL);
    return next_token(m, t, err);
}

bool gpt2_trace_stage(const Gpt2Model *m, Gpt2Trace *t, Gpt2Stage stage, Error *err)
{
    if (stage != t->next)
        return error_set(err, STATUS_FAILURE, "gpt2_trace_stage: stage %s asked for, but %s is next",
                         gpt2_stage_name(stage), gpt2_stage_name(t->next));
    const Gpt2Config *c = &m->config;
    size_t s = t->n_tokens, d = c->n_embd, h = c->n_head, d_k = d / h;
    switch (stage) {
    case GPT2_STAGE_EMBED:
        if (!stage_embed(m, t, err))
            return false;
        break;
    case GPT2_STAGE_BLOCKS:
        if (!stage_blocks(m, t, err))
            return false;
        break;
    case GPT2_STAGE_LN_1:
        layernorm_forward(t->ln_1->data, t->block_input->data, t->block.w[GPT2_LN_1_WEIGHT], t->block.w[GPT2_LN_1_BIAS],
                          s, d, c->layer_norm_epsilon, t->ln_1_mean, t->ln_1_rstd);
        break;
    case GPT2_STAGE_QKV:
        addmm_forward(t->qkv->data, t->block.w[GPT2_C_ATTN_BIAS], t->ln_1->data, t->block.w[GPT2_C_ATTN_WEIGHT], s, d,
                      3 * d);
        break;
    case GPT2_STAGE_SPLIT_HEADS:
        stage_split_heads(t, h, d);
        break;
    case GPT2_STAGE_SCORES:
        stage_scores(t, h, d_k);
        break;
    case GPT2_STAGE_SOFTMAX:
        softmax_rows(t->attention_weights->data, t->scores->data, h * s, s);
        break;
    case GPT2_STAGE_HEAD_OUTPUTS:
        for (size_t hh = 0; hh < h; hh++)
            matmul_forward(t->head_outputs->data + hh * s * d_k, t->attention_weights->data + hh * s * s,
                           t->values->data + hh * s * d_k, s, s, d_k);
        break;
    case GPT2_STAGE_CONCAT:
        if (!stage_concat(t, d, err))
            return false;
        break;
    case GPT2_STAGE_C_PROJ:
        addmm_forward(t->attn_output->data, t->block.w[GPT2_ATTN_PROJ_BIAS], t->concat_heads->data,
                      t->block.w[GPT2_ATTN_PROJ_WEIGHT], s, d, d);
        break;
    case GPT2_STAGE_RESIDUAL:
        for (size_t i = 0; i < s * d; i++)
            t->attn_residual->data[i] = t->block_input->data[i] + t->attn_output->data[i];
        break;
    case GPT2_STAGE_NEXT_TOKEN:
        if (!stage_next_token(m, t, err))
            return false;
        break;
    case GPT2_STAGE_COUNT:
        return error_set(err, STATUS_FAILURE, "gpt2_trace_stage: the trace is complete");
    }
    t->next = (Gpt2Stage)(stage + 1);
    return true;
}

bool gpt2_trace_run(const Gpt2Model *model, const long *ids, size_t n_tokens, size_t layer,
                    unsigned long long max_bytes, Gpt2Trace *trace, Error *err)
{
    if (!gpt2_trace_begin(model, ids, n_tokens, layer, max_bytes, trace, err))
        return false;
    for (int stage = 0; stage < GPT2_STAGE_COUNT; stage++)
        if (!gpt2_trace_stage(model, trace, (Gpt2Stage)stage, err))
            return false;
    return true;
}

const Tensor *gpt2_trace_tensor(const Gpt2Trace *t, const char *name)
{
    const struct {
        const char *name;
        const Tensor *tensor;
    } table[] = {
        {"token_embed", t->token_embed},
        {"position_embed", t->position_embed},
        {"block_input", t->block_input},
        {"ln_1", t->ln_1},
        {"qkv", t->qkv},
        {"queries", t->queries},
        {"keys", t->keys},
        {"values", t->values},
        {"scores", t->scores},
        {"attention_weights", t->attention_weights},
        {"head_outputs", t->head_outputs},
        {"concat_heads", t->concat_heads},
        {"attn_output", t->attn_output},
        {"attn_residual", t->attn_residual},
        {"ln_f", t->ln_f},
        {"next_token_probs", t->next_token_probs},
    };
    static const Gpt2Stage made_by[] = {
        GPT2_STAGE_EMBED,  GPT2_STAGE_EMBED,       GPT2_STAGE_BLOCKS,       GPT2_STAGE_LN_1,
        GPT2_STAGE_QKV,    GPT2_STAGE_SPLIT_HEADS, GPT2_STAGE_SPLIT_HEADS,  GPT2_STAGE_SPLIT_HEADS,
        GPT2_STAGE_SCORES, GPT2_STAGE_SOFTMAX,     GPT2_STAGE_HEAD_OUTPUTS, GPT2_STAGE_CONCAT,
        GPT2_STAGE_C_PROJ, GPT2_STAGE_RESIDUAL,    GPT2_STAGE_NEXT_TOKEN,   GPT2_STAGE_NEXT_TOKEN,
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return t->next > made_by[i] ? table[i].tensor : NULL;
    return NULL;
}
