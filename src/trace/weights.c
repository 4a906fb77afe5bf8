/*
 * weights.c - reading --weights DIR (see weights.h).
 *
 * Three passes: the headers (what is there, its dtype and rank), the sizes
 * (the configuration fitted to the files and checked, every shape checked,
 * the memory guard), and only then the values.
 */
#include "weights.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "numfmt.h"

static const struct {
    const char *file; /* its name in the directory */
    const char *name; /* the tensor's name in the trace */
    int rank;
    const char *dims; /* its shape in words */
} WEIGHT_INFO[WEIGHT_COUNT] = {
    [WEIGHT_EMBEDDING] = {"single_head.embedding.npy", "embedding", 2, "[vocab_size, d_model]"},
    [WEIGHT_KEY] = {"single_head.w_key.npy", "w_key", 2, "[d_model, d_model]"},
    [WEIGHT_QUERY] = {"single_head.w_query.npy", "w_query", 2, "[d_model, d_model]"},
    [WEIGHT_VALUE] = {"single_head.w_value.npy", "w_value", 2, "[d_model, d_model]"},
    [WEIGHT_MH_QUERY] = {"multi_head.w_query.npy", "w_query", 3, "[heads, d_model, d_k]"},
    [WEIGHT_MH_KEY] = {"multi_head.w_key.npy", "w_key", 3, "[heads, d_model, d_k]"},
    [WEIGHT_MH_VALUE] = {"multi_head.w_value.npy", "w_value", 3, "[heads, d_model, d_k]"},
    [WEIGHT_MH_OUTPUT] = {"multi_head.w_output.npy", "w_output", 2, "[d_model, d_model]"},
};

const char *weights_tensor_name(WeightId id)
{
    return WEIGHT_INFO[id].name;
}

const char *weights_file_name(WeightId id)
{
    return WEIGHT_INFO[id].file;
}

bool weights_has(const Weights *weights, WeightId id)
{
    return weights != NULL && weights->present[id];
}

void weights_free(Weights *weights)
{
    if (weights == NULL)
        return;
    for (int i = 0; i < WEIGHT_COUNT; i++)
        npy_free(&weights->arrays[i]);
    memset(weights, 0, sizeof *weights);
}

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* dir, printable and at most WEIGHTS_SHOWN_DIR_BYTES - 1 bytes: "…" and
 * the end of the name when it is longer. */
static void shorten_dir(const char *dir, char *out, size_t size)
{
    char copy[LIMIT_PATH_BYTES];
    snprintf(copy, sizeof copy, "%s", dir);
    error_scrub(copy, false);
    size_t len = strlen(copy);
    if (len < size) {
        snprintf(out, size, "%s", copy);
        return;
    }
    const char *tail = copy + len - (size - 5); /* room for "…" (3 bytes) and the NUL */
    while ((*tail & 0xc0) == 0x80)              /* start on a whole character */
        tail++;
    snprintf(out, size, "\xe2\x80\xa6%s", tail);
}

/* The path of weight id in dir; false when it does not fit. */
static bool weight_path(const char *dir, WeightId id, char *path, size_t size)
{
    size_t len = strlen(dir);
    const char *sep = len > 0 && dir[len - 1] == '/' ? "" : "/";
    int n = snprintf(path, size, "%s%s%s", dir, sep, WEIGHT_INFO[id].file);
    return n >= 0 && (size_t)n < size;
}

/* The shape cfg needs for weight id. */
static void needed_shape(const Config *cfg, WeightId id, size_t shape[3])
{
    size_t V = cfg->vocab_size, D = cfg->d_model, H = cfg->heads;
    shape[0] = id == WEIGHT_EMBEDDING ? V : id >= WEIGHT_MH_QUERY && id <= WEIGHT_MH_VALUE ? H : D;
    shape[1] = D;
    shape[2] = H != 0 ? D / H : 0;
}

/* Where each size came from, for messages. */
typedef struct SizeSources {
    const char *vocab, *d_model, *heads; /* a flag, a file name or "the configuration" */
} SizeSources;

/* ------------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------- */

/* Pass 1: the headers of the files that are there. */
static bool read_headers(const char *dir, Weights *w, Error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return error_set(err, STATUS_NOINPUT, "%s: cannot open: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return error_set(err, STATUS_NOINPUT, "%s: not a directory (--weights takes a directory of .npy files)", dir);
    int found = 0;
    for (int id = 0; id < WEIGHT_COUNT; id++) {
        char path[LIMIT_PATH_BYTES];
        if (!weight_path(dir, (WeightId)id, path, sizeof path))
            return error_set(err, STATUS_NOINPUT, "%s: the path is too long", dir);
        if (stat(path, &st) != 0) {
            if (errno == ENOENT)
                continue; /* drawn as usual */
            return error_set(err, STATUS_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
        }
        NpyArray *arr = &w->arrays[id];
        if (!npy_read_header(path, arr, err))
            return false;
        w->present[id] = true;
        found++;
        if (arr->dtype != NPY_FLOAT32)
            return error_set(err, STATUS_DATAERR,
                             "%s: %s data, but weights are float32 ('<f4'): convert with arr.astype(np.float32)", path,
                             npy_dtype_name(arr->dtype));
        if (arr->ndim != WEIGHT_INFO[id].rank) {
            char shape[128];
            return error_set(err, STATUS_DATAERR, "%s: shape %s has %d dimension%s, but %s is %s", path,
                             npy_shape_str(arr->ndim, arr->shape, shape, sizeof shape), arr->ndim,
                             arr->ndim == 1 ? "" : "s", WEIGHT_INFO[id].name, WEIGHT_INFO[id].dims);
        }
    }
    if (found == 0) {
        char names[512] = "";
        size_t used = 0;
        for (int id = 0; id < WEIGHT_COUNT && used < sizeof names; id++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", id > 0 ? ", " : "",
                                     WEIGHT_INFO[id].file);
        return error_set(err, STATUS_NOINPUT, "%s: no weight files there; expected one or more of %s", dir, names);
    }
    return true;
}

/* Pass 2a: the sizes the command line left open, from the files. */
static void take_sizes(const Weights *w, unsigned fixed, Config *cfg, SizeSources *from)
{
    from->vocab = (fixed & WEIGHTS_FIXED_VOCAB) ? "--vocab-size" : "the configuration";
    from->d_model = (fixed & WEIGHTS_FIXED_D_MODEL) ? "--d-model" : "the configuration";
    from->heads = (fixed & WEIGHTS_FIXED_HEADS) ? "--heads" : "the configuration";
    if (!(fixed & WEIGHTS_FIXED_VOCAB) && w->present[WEIGHT_EMBEDDING]) {
        cfg->vocab_size = w->arrays[WEIGHT_EMBEDDING].shape[0];
        from->vocab = WEIGHT_INFO[WEIGHT_EMBEDDING].file;
    }
    if (!(fixed & WEIGHTS_FIXED_D_MODEL))
        for (int id = 0; id < WEIGHT_COUNT; id++)
            if (w->present[id]) {
                /* d is the second dimension of the embedding and the stacked projections, the first of the squares */
                bool second = id == WEIGHT_EMBEDDING || (id >= WEIGHT_MH_QUERY && id <= WEIGHT_MH_VALUE);
                cfg->d_model = w->arrays[id].shape[second ? 1 : 0];
                from->d_model = WEIGHT_INFO[id].file;
                break;
            }
    if (!(fixed & WEIGHTS_FIXED_HEADS))
        for (int id = WEIGHT_MH_QUERY; id <= WEIGHT_MH_VALUE; id++)
            if (w->present[id]) {
                cfg->heads = w->arrays[id].shape[0];
                from->heads = WEIGHT_INFO[id].file;
                break;
            }
}

/* Pass 2b: the configuration fits together and every file fits it. */
static bool check_sizes(const char *dir, const Weights *w, const Config *cfg, const SizeSources *from,
                        WeightsTraceNeed trace_need, Error *err)
{
    char path[LIMIT_PATH_BYTES];
    if (w->present[WEIGHT_EMBEDDING]) {
        weight_path(dir, WEIGHT_EMBEDDING, path, sizeof path);
        size_t rows = w->arrays[WEIGHT_EMBEDDING].shape[0];
        for (size_t i = 0; i < cfg->n_tokens; i++)
            if (cfg->token_ids[i] < 0 || (unsigned long)cfg->token_ids[i] >= rows)
                return error_set(err, STATUS_DATAERR, "%s: %zu rows, but token id %ld (token %zu) is not below that",
                                 path, rows, cfg->token_ids[i], i + 1);
    }
    if (cfg->heads != 0 && cfg->d_model != 0 && cfg->d_model % cfg->heads != 0)
        return error_set(err, STATUS_DATAERR,
                         "--weights %s: heads %zu (from %s) does not divide d_model %zu (from %s); "
                         "give --heads a divisor of it",
                         dir, cfg->heads, from->heads, cfg->d_model, from->d_model);
    if (!config_validate(cfg, err)) {
        char message[ERROR_MESSAGE_BYTES];
        snprintf(message, sizeof message, "%s", err != NULL ? err->message : "");
        return error_set(err, STATUS_DATAERR, "--weights %s: %s", dir, message);
    }
    for (int id = 0; id < WEIGHT_COUNT; id++) {
        if (!w->present[id])
            continue;
        const NpyArray *arr = &w->arrays[id];
        size_t need[3];
        needed_shape(cfg, (WeightId)id, need);
        bool fits = true;
        for (int i = 0; i < arr->ndim; i++)
            fits = fits && arr->shape[i] == need[i];
        if (fits)
            continue;
        char found[128], wanted[128], sizes[256];
        npy_shape_str(arr->ndim, arr->shape, found, sizeof found);
        npy_shape_str(arr->ndim, need, wanted, sizeof wanted);
        weight_path(dir, (WeightId)id, path, sizeof path);
        if (WEIGHT_INFO[id].rank == 2 && id != WEIGHT_EMBEDDING && arr->shape[0] != arr->shape[1])
            return error_set(err, STATUS_DATAERR, "%s: shape %s, but %s is square, %s", path, found,
                             WEIGHT_INFO[id].name, WEIGHT_INFO[id].dims);
        if (id == WEIGHT_EMBEDDING)
            snprintf(sizes, sizeof sizes, "vocab_size %zu (from %s) and d_model %zu (from %s) need", cfg->vocab_size,
                     from->vocab, cfg->d_model, from->d_model);
        else if (id >= WEIGHT_MH_QUERY && id <= WEIGHT_MH_VALUE)
            snprintf(sizes, sizeof sizes,
                     "heads %zu (from %s) and d_model %zu (from %s), with d_k = d_model / heads, need", cfg->heads,
                     from->heads, cfg->d_model, from->d_model);
        else
            snprintf(sizes, sizeof sizes, "d_model %zu (from %s) needs", cfg->d_model, from->d_model);
        return error_set(err, STATUS_DATAERR, "%s: shape %s, but %s %s", path, found, sizes, wanted);
    }
    /* the memory guard: the trace's tensors and the loaded copies */
    unsigned long long need = trace_need(cfg);
    for (int id = 0; id < WEIGHT_COUNT; id++) {
        unsigned long long bytes = w->present[id] ? (unsigned long long)w->arrays[id].count * sizeof(float) : 0;
        need = bytes > ULLONG_MAX - need ? ULLONG_MAX : need + bytes;
    }
    unsigned long long cap = cfg->max_bytes != 0 ? cfg->max_bytes : LIMIT_DEFAULT_MAX_BYTES;
    if (need > cap) {
        char need_text[32], cap_text[32];
        numfmt_bytes(need, need_text, sizeof need_text);
        numfmt_bytes(cap, cap_text, sizeof cap_text);
        return error_set(err, STATUS_DATAERR,
                         "--weights %s: these sizes need %s for the weights and the trace's tensors, over the %s cap; "
                         "--max-memory %lluG allows it",
                         dir, need_text, cap_text, need / ((unsigned long long)1 << 30) + 1);
    }
    return true;
}

/* Pass 3: the values, checked again (a file may change in between). */
static bool read_values(const char *dir, Weights *w, Error *err)
{
    for (int id = 0; id < WEIGHT_COUNT; id++) {
        if (!w->present[id])
            continue;
        char path[LIMIT_PATH_BYTES];
        weight_path(dir, (WeightId)id, path, sizeof path);
        NpyArray arr;
        if (!npy_read(path, &arr, err))
            return false;
        bool same = arr.dtype == w->arrays[id].dtype && arr.ndim == w->arrays[id].ndim;
        for (int i = 0; same && i < arr.ndim; i++)
            same = arr.shape[i] == w->arrays[id].shape[i];
        if (!same) {
            npy_free(&arr);
            return error_set(err, STATUS_DATAERR, "%s: changed while it was being read", path);
        }
        w->arrays[id] = arr;
    }
    return true;
}

bool weights_load(const char *dir, unsigned fixed, WeightsTraceNeed trace_need, Config *cfg, Weights *weights,
                  Error *err)
{
    memset(weights, 0, sizeof *weights);
    shorten_dir(dir, weights->shown_dir, sizeof weights->shown_dir);
    SizeSources from;
    bool ok = read_headers(dir, weights, err);
    if (ok) {
        take_sizes(weights, fixed, cfg, &from);
        ok = check_sizes(dir, weights, cfg, &from, trace_need, err) && read_values(dir, weights, err);
    }
    if (!ok)
        weights_free(weights);
    return ok;
}

/* ------------------------------------------------------------------------
 * The trace's side
 * ---------------------------------------------------------------------- */

bool weights_apply(const Weights *weights, WeightId id, Tensor *t, Error *err)
{
    if (!weights_has(weights, id))
        return true;
    const NpyArray *arr = &weights->arrays[id];
    bool same = t->ndim == arr->ndim && t->size == arr->count;
    for (int i = 0; same && i < t->ndim; i++)
        same = t->shape[i] == arr->shape[i];
    if (!same)
        return error_set(err, STATUS_DATAERR, "%s does not fit this trace's %s", WEIGHT_INFO[id].file,
                         WEIGHT_INFO[id].name);
    memcpy(t->data, arr->data, t->size * sizeof *t->data);
    return true;
}

void weights_describe(const Weights *weights, WeightId first, WeightId last, const char *drawn_as, const char *after,
                      char *buf, size_t size)
{
    char loaded[64] = "", drawn[64] = "";
    for (int id = first; id <= (int)last; id++) {
        char *list = weights_has(weights, (WeightId)id) ? loaded : drawn;
        size_t used = strlen(list);
        snprintf(list + used, sizeof loaded - used, "%s%s", used > 0 ? ", " : "", WEIGHT_INFO[id].name);
    }
    int n;
    if (loaded[0] == '\0')
        n = snprintf(buf, size, "%s = %s%s", drawn, drawn_as, after);
    else if (drawn[0] == '\0')
        n = snprintf(buf, size, "%s loaded from %s%s", loaded, weights->shown_dir, after);
    else
        n = snprintf(buf, size, "%s loaded from %s, %s = %s%s", loaded, weights->shown_dir, drawn, drawn_as, after);
    if (n >= 0 && (size_t)n >= size && size > 1) { /* cut: drop a partial character at the end */
        size_t kept = size - 1, start = kept - 1;
        while (start > 0 && ((unsigned char)buf[start] & 0xc0) == 0x80)
            start--;
        unsigned char lead = (unsigned char)buf[start];
        size_t len = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : 4;
        if (start + len > kept)
            buf[start] = '\0';
    }
}
