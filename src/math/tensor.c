/*
 * tensor.c - the Tensor type and the plain reference kernels (see tensor.h).
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* madvise and MADV_HUGEPAGE, beside POSIX mmap */
#endif
#include "tensor.h"

#include "torchmath.h"

#include <sys/mman.h>

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Construction
 * ---------------------------------------------------------------------- */

/* The mappings of freed tensors, kept for reuse (TENSOR_CACHE_SLOTS, at
 * most TENSOR_CACHE_MAX_BYTES in all). A tensor of the same mapped length
 * takes one back, cleared with memset: pages already faulted in cost a
 * fraction of fresh ones, which the kernel must zero on the first touch
 * (37-55 % of a large trace's CPU time when it is built again). A request
 * no cached length fits gives every cached mapping back to the system
 * first, so the cache never adds to the peak of a differently sized trace
 * built after. Shared by all threads, under cache_lock. */
typedef struct MapCache {
    char *data[TENSOR_CACHE_SLOTS];
    size_t length[TENSOR_CACHE_SLOTS];
    int n;
    size_t bytes; /* the sum of length[0..n) */
} MapCache;

static MapCache map_cache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* A cached mapping of exactly length bytes, or NULL (then the cache has
 * been emptied). */
static char *cache_take(size_t length)
{
    char *data = NULL;
    pthread_mutex_lock(&cache_lock);
    MapCache *c = &map_cache;
    for (int i = 0; i < c->n && data == NULL; i++)
        if (c->length[i] == length) {
            data = c->data[i];
            c->bytes -= length;
            c->n--;
            c->data[i] = c->data[c->n];
            c->length[i] = c->length[c->n];
        }
    if (data == NULL) {
        for (int i = 0; i < c->n; i++)
            munmap(c->data[i], c->length[i]);
        c->n = 0;
        c->bytes = 0;
    }
    pthread_mutex_unlock(&cache_lock);
    return data;
}

/* Keeps the mapping data (length bytes) for reuse, or unmaps it when the
 * cache is full. */
static void cache_put(char *data, size_t length)
{
    pthread_mutex_lock(&cache_lock);
    MapCache *c = &map_cache;
    bool kept = c->n < TENSOR_CACHE_SLOTS && length <= TENSOR_CACHE_MAX_BYTES - c->bytes;
    if (kept) {
        c->data[c->n] = data;
        c->length[c->n++] = length;
        c->bytes += length;
    }
    pthread_mutex_unlock(&cache_lock);
    if (!kept)
        munmap(data, length);
}

/* Zeroed memory for bytes bytes: calloc, or for large sizes an anonymous
 * mapping aligned to 2 MiB and advised to use huge pages (a cached one of
 * the same length when there is one); *mapped is its length then (0 for
 * calloc). NULL when out of memory. */
static float *tensor_data_alloc(size_t bytes, size_t *mapped)
{
    *mapped = 0;
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    if (bytes >= TENSOR_MAP_MIN_BYTES && bytes <= SIZE_MAX - 2 * TENSOR_MAP_ALIGN) {
        size_t length = (bytes + TENSOR_MAP_ALIGN - 1) / TENSOR_MAP_ALIGN * TENSOR_MAP_ALIGN;
        char *reused = cache_take(length);
        if (reused != NULL) {
            memset(reused, 0, bytes);
            *mapped = length;
            return (float *)(void *)reused;
        }
        size_t span = length + TENSOR_MAP_ALIGN;
        char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw != MAP_FAILED) {
            /* keep the aligned middle, give back the ends */
            uintptr_t start = ((uintptr_t)raw + TENSOR_MAP_ALIGN - 1) / TENSOR_MAP_ALIGN * TENSOR_MAP_ALIGN;
            char *data = (char *)start;
            if (data > raw)
                munmap(raw, (size_t)(data - raw));
            if (raw + span > data + length)
                munmap(data + length, (size_t)(raw + span - (data + length)));
            madvise(data, length, MADV_HUGEPAGE); /* advice: fine if refused */
            *mapped = length;
            return (float *)(void *)data;
        }
    }
#endif
    return calloc(bytes / sizeof(float), sizeof(float));
}

/* Frees data from tensor_data_alloc: a mapping goes to the cache. */
static void tensor_data_free(float *data, size_t mapped)
{
    if (mapped != 0)
        cache_put((char *)(void *)data, mapped);
    else
        free(data);
}

Tensor *tensor_new(int ndim, const size_t *shape, Error *err)
{
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS) {
        error_set(err, STATUS_FAILURE, "tensor rank %d is outside 0..%d", ndim, TENSOR_MAX_DIMS);
        return NULL;
    }
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            error_set(err, STATUS_DATAERR, "tensor dimension %d is 0", i);
            return NULL;
        }
        if (size > SIZE_MAX / sizeof(float) / shape[i]) {
            error_set(err, STATUS_DATAERR, "tensor is too large to address");
            return NULL;
        }
        size *= shape[i];
    }
    size_t mapped = 0;
    Tensor *t = calloc(1, sizeof *t);
    float *data = t != NULL ? tensor_data_alloc(size * sizeof *data, &mapped) : NULL;
    if (t == NULL || data == NULL) {
        free(t);
        error_oom(err, "a tensor");
        return NULL;
    }
    t->mapped_bytes = mapped;
    t->ndim = ndim;
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        t->shape[i] = i < ndim ? shape[i] : 1;
    t->size = size;
    t->data = data;
    return t;
}

Tensor *tensor_new1(size_t n0, Error *err)
{
    return tensor_new(1, (size_t[]){n0}, err);
}

Tensor *tensor_new2(size_t n0, size_t n1, Error *err)
{
    return tensor_new(2, (size_t[]){n0, n1}, err);
}

Tensor *tensor_new3(size_t n0, size_t n1, size_t n2, Error *err)
{
    return tensor_new(3, (size_t[]){n0, n1, n2}, err);
}

Tensor *tensor_copy(const Tensor *t, Error *err)
{
    Tensor *copy = tensor_new(t->ndim, t->shape, err);
    if (copy != NULL)
        memcpy(copy->data, t->data, t->size * sizeof *t->data);
    return copy;
}

void tensor_free(Tensor *t)
{
    if (t == NULL)
        return;
    tensor_data_free(t->data, t->mapped_bytes);
    free(t);
}

bool tensor_same_shape(const Tensor *a, const Tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

char *tensor_shape_str(const Tensor *t, char *buf, size_t buf_size)
{
    size_t used = 0;
    int n = snprintf(buf, buf_size, "[");
    for (int i = 0; n >= 0 && i < t->ndim; i++) {
        used += (size_t)n;
        if (used >= buf_size)
            break;
        n = snprintf(buf + used, buf_size - used, "%s%zu", i > 0 ? ", " : "", t->shape[i]);
    }
    if (n >= 0) {
        used += (size_t)n;
        if (used < buf_size)
            snprintf(buf + used, buf_size - used, "]");
    }
    return buf;
}

size_t tensor_offset(const Tensor *t, const size_t *index)
{
    size_t offset = 0;
    for (int i = 0; i < t->ndim; i++)
        offset = offset * t->shape[i] + index[i];
    return offset;
}

/* ------------------------------------------------------------------------
 * Raw kernels
 * ---------------------------------------------------------------------- */

float dot_strided(const float *a, const float *b, size_t K, size_t stride_b)
{
    float sum = 0.0f;
    for (size_t k = 0; k < K; k++)
        sum += a[k] * b[k * stride_b];
    return sum;
}

void matmul_forward(float *out, const float *a, const float *b, size_t M, size_t K, size_t N)
{
    /* a is (M, K), b is (K, N), out is (M, N): out[m][n] = sum_k a[m][k] b[k][n]. */
    for (size_t m = 0; m < M; m++) {
        const float *a_m = a + m * K;
        for (size_t n = 0; n < N; n++)
            out[m * N + n] = dot_strided(a_m, b + n, K, N);
    }
}

void matmul_bt_forward(float *out, const float *a, const float *b, size_t M, size_t K, size_t N)
{
    /* a is (M, K), b is (N, K), out is (M, N): out[m][n] = a[m] . b[n]. */
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++)
            out[m * N + n] = dot_strided(a + m * K, b + n * K, K, 1);
}

float sum_torch_order(const float *v, size_t n)
{
    if (n < 8) {
        float sum = 0.0f;
        for (size_t i = 0; i < n; i++)
            sum = i == 0 ? v[0] : sum + v[i];
        return sum;
    }
    float lane[8];
    for (size_t i = 0; i < 8; i++)
        lane[i] = v[i];
    for (size_t i = 8; i < n; i++)
        lane[i % 8] += v[i];
    float quad[4], pair[2];
    for (size_t i = 0; i < 4; i++)
        quad[i] = lane[i] + lane[i + 4];
    pair[0] = quad[0] + quad[2];
    pair[1] = quad[1] + quad[3];
    return pair[0] + pair[1];
}

void softmax_rows(float *out, const float *in, size_t rows, size_t cols)
{
    /* in and out are (rows, cols); each row is normalized on its own. */
    for (size_t r = 0; r < rows; r++) {
        const float *in_r = in + r * cols;
        float *out_r = out + r * cols;
        /* pass 1: the row maximum, so exp never overflows */
        float max = -INFINITY;
        for (size_t c = 0; c < cols; c++)
            if (in_r[c] > max)
                max = in_r[c];
        if (max == -INFINITY) { /* every key masked: nothing to attend to */
            for (size_t c = 0; c < cols; c++)
                out_r[c] = 0.0f;
            continue;
        }
        /* pass 2: exponentials of the shifted values, with PyTorch's own exp;
         * exp(-inf) is exactly 0 */
        for (size_t c = 0; c < cols; c++)
            out_r[c] = torchmath_expf(in_r[c] - max);
        /* pass 3: their sum, added in PyTorch's order */
        float sum = sum_torch_order(out_r, cols);
        /* pass 4: normalize, multiplying by the reciprocal as PyTorch does */
        float inv_sum = 1.0f / sum;
        for (size_t c = 0; c < cols; c++)
            out_r[c] = out_r[c] * inv_sum;
    }
}

/* ------------------------------------------------------------------------
 * Tensor operations
 * ---------------------------------------------------------------------- */

Tensor *tensor_matmul(const Tensor *a, const Tensor *b, Error *err)
{
    char sa[64], sb[64];
    if (a->ndim < 1 || a->ndim > 2 || b->ndim < 1 || b->ndim > 2) {
        error_set(err, STATUS_DATAERR, "matmul takes 1-D or 2-D tensors, got %s and %s",
                  tensor_shape_str(a, sa, sizeof sa), tensor_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    size_t M = a->ndim == 2 ? a->shape[0] : 1;
    size_t K = a->shape[a->ndim - 1];
    size_t Kb = b->shape[0];
    size_t N = b->ndim == 2 ? b->shape[1] : 1;
    if (K != Kb) {
        error_set(err, STATUS_DATAERR, "matmul shapes %s and %s do not fit (%zu != %zu)",
                  tensor_shape_str(a, sa, sizeof sa), tensor_shape_str(b, sb, sizeof sb), K, Kb);
        return NULL;
    }
    Tensor *out;
    if (a->ndim == 2 && b->ndim == 2)
        out = tensor_new2(M, N, err);
    else if (a->ndim == 2)
        out = tensor_new1(M, err);
    else if (b->ndim == 2)
        out = tensor_new1(N, err);
    else
        out = tensor_new(0, NULL, err);
    if (out != NULL)
        matmul_forward(out->data, a->data, b->data, M, K, N);
    return out;
}

Tensor *tensor_transpose(const Tensor *a, Error *err)
{
    if (a->ndim != 2) {
        char sa[64];
        error_set(err, STATUS_DATAERR, "transpose takes a 2-D tensor, got %s", tensor_shape_str(a, sa, sizeof sa));
        return NULL;
    }
    size_t M = a->shape[0], N = a->shape[1];
    Tensor *out = tensor_new2(N, M, err);
    if (out == NULL)
        return NULL;
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++)
            out->data[n * M + m] = a->data[m * N + n];
    return out;
}

Tensor *tensor_transpose_last(const Tensor *a, Error *err)
{
    if (a->ndim != 3) {
        char sa[64];
        error_set(err, STATUS_DATAERR, "transpose_last takes a 3-D tensor, got %s", tensor_shape_str(a, sa, sizeof sa));
        return NULL;
    }
    const size_t B = a->shape[0], M = a->shape[1], N = a->shape[2];
    Tensor *out = tensor_new3(B, N, M, err);
    if (out == NULL)
        return NULL;
    /* in tiles, so that neither the reads nor the writes stride through
     * memory a cache line a value */
    enum { TILE = 16 };
    for (size_t b = 0; b < B; b++) {
        const float *in = a->data + b * M * N;
        float *to = out->data + b * M * N;
        for (size_t m0 = 0; m0 < M; m0 += TILE)
            for (size_t n0 = 0; n0 < N; n0 += TILE) {
                const size_t m1 = M - m0 < TILE ? M : m0 + TILE, n1 = N - n0 < TILE ? N : n0 + TILE;
                for (size_t m = m0; m < m1; m++)
                    for (size_t n = n0; n < n1; n++)
                        to[n * M + m] = in[m * N + n];
            }
    }
    return out;
}

Tensor *tensor_scale(const Tensor *a, float factor, Error *err)
{
    Tensor *out = tensor_copy(a, err);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < out->size; i++)
        out->data[i] *= factor;
    return out;
}

Tensor *tensor_softmax_last(const Tensor *a, Error *err)
{
    if (a->ndim < 1) {
        error_set(err, STATUS_DATAERR, "softmax needs at least one dimension");
        return NULL;
    }
    Tensor *out = tensor_new(a->ndim, a->shape, err);
    if (out == NULL)
        return NULL;
    size_t cols = a->shape[a->ndim - 1];
    softmax_rows(out->data, a->data, a->size / cols, cols);
    return out;
}

Tensor *tensor_row(const Tensor *a, size_t i, Error *err)
{
    if (a->ndim != 2 || i >= a->shape[0]) {
        char sa[64];
        error_set(err, STATUS_DATAERR, "row %zu does not exist in a tensor of shape %s", i,
                  tensor_shape_str(a, sa, sizeof sa));
        return NULL;
    }
    Tensor *out = tensor_new1(a->shape[1], err);
    if (out != NULL)
        memcpy(out->data, a->data + i * a->shape[1], a->shape[1] * sizeof *out->data);
    return out;
}

Tensor *tensor_gather_rows(const Tensor *table, const long *ids, size_t S, Error *err)
{
    if (table->ndim != 2) {
        error_set(err, STATUS_DATAERR, "an embedding table must be 2-D");
        return NULL;
    }
    size_t V = table->shape[0], D = table->shape[1];
    for (size_t s = 0; s < S; s++) {
        if (ids[s] < 0 || (size_t)ids[s] >= V) {
            error_set(err, STATUS_DATAERR, "token id %ld (token %zu) is not below the vocabulary size %zu", ids[s],
                      s + 1, V);
            return NULL;
        }
    }
    Tensor *out = tensor_new2(S, D, err);
    if (out == NULL)
        return NULL;
    for (size_t s = 0; s < S; s++)
        memcpy(out->data + s * D, table->data + (size_t)ids[s] * D, D * sizeof *out->data);
    return out;
}

void tensor_causal_mask(Tensor *scores)
{
    size_t S = scores->shape[scores->ndim - 1];
    size_t n_rows = scores->size / S;
    for (size_t r = 0; r < n_rows; r++) {
        size_t i = r % scores->shape[scores->ndim - 2]; /* query position within its matrix */
        for (size_t j = i + 1; j < S; j++)
            scores->data[r * S + j] = -INFINITY;
    }
}

void tensor_causal_mask_row(Tensor *scores, size_t q)
{
    for (size_t j = q + 1; j < scores->size; j++)
        scores->data[j] = -INFINITY;
}

Tensor *tensor_concat_heads(const Tensor *heads, Error *err)
{
    if (heads->ndim != 3) {
        char sa[64];
        error_set(err, STATUS_DATAERR, "concat_heads takes (H, S, E), got %s", tensor_shape_str(heads, sa, sizeof sa));
        return NULL;
    }
    size_t H = heads->shape[0], S = heads->shape[1], E = heads->shape[2];
    Tensor *out = tensor_new2(S, H * E, err);
    if (out == NULL)
        return NULL;
    /* out[s][h*E + e] = heads[h][s][e] */
    for (size_t h = 0; h < H; h++)
        for (size_t s = 0; s < S; s++)
            memcpy(out->data + s * H * E + h * E, heads->data + (h * S + s) * E, E * sizeof *out->data);
    return out;
}
