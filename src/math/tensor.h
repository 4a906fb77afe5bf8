/*
 * tensor.h - a small float32 tensor and the reference kernels of attention.
 *
 * A Tensor owns a contiguous row-major float buffer of up to TENSOR_MAX_DIMS
 * dimensions. Every kernel here is the plain, obviously correct version: the
 * one a learner reads and the one the cell inspector explains term by term.
 * Arithmetic is float32 in the order PyTorch's CPU kernels use (dot
 * products added left to right, as the reference BLAS does), so results
 * match PyTorch's bit for bit and a value can be recomputed exactly from
 * its inputs. The build disables FMA contraction to keep every rounding.
 *
 * Kernels that take Tensors check shapes and report a mismatch through
 * Error; kernels that take raw pointers trust their sizes.
 */
#ifndef ATTN_TENSOR_H
#define ATTN_TENSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "attn_limits.h"

typedef struct Tensor {
    int ndim;                      /* 0..TENSOR_MAX_DIMS; 0 is a scalar */
    size_t shape[TENSOR_MAX_DIMS]; /* shape[i] >= 1 for i < ndim; 1 beyond */
    size_t size;                   /* product of shape[0..ndim) */
    float *data;                   /* size floats, row-major, owned */
    size_t mapped_bytes;           /* data is a mapping of this length (large tensors), 0 when from calloc */
} Tensor;

/* A new zero-filled tensor of the given shape. Fails (NULL) on a bad rank,
 * a zero or overflowing size, or no memory. The caller frees it with
 * tensor_free. */
Tensor *tensor_new(int ndim, const size_t *shape, Error *err);

/* Shorthands for tensor_new with 1, 2 or 3 dimensions. */
Tensor *tensor_new1(size_t n0, Error *err);
Tensor *tensor_new2(size_t n0, size_t n1, Error *err);
Tensor *tensor_new3(size_t n0, size_t n1, size_t n2, Error *err);

/* A deep copy of t, or NULL. */
Tensor *tensor_copy(const Tensor *t, Error *err);

/* Frees t and its data. tensor_free(NULL) does nothing. */
void tensor_free(Tensor *t);

/* True when a and b have the same rank and shape. */
bool tensor_same_shape(const Tensor *a, const Tensor *b);

/* Writes the shape as "[5, 16]" into buf (always NUL-terminated). A scalar
 * is written "[]". Returns buf. */
char *tensor_shape_str(const Tensor *t, char *buf, size_t buf_size);

/* Offset of a multi-index (ndim entries) into data. */
size_t tensor_offset(const Tensor *t, const size_t *index);

/* ---------------------------------------------------------------------
 * Raw kernels. Shapes are stated in each comment.
 * ------------------------------------------------------------------- */

/* out (M, N) = a (M, K) @ b (K, N). */
void matmul_forward(float *out, const float *a, const float *b, size_t M, size_t K, size_t N);

/* out (M, N) = a (M, K) @ b (N, K)^T, i.e. out[m][n] = a[m] . b[n]. */
void matmul_bt_forward(float *out, const float *a, const float *b, size_t M, size_t K, size_t N);

/* The dot product of a (K) and b (K), with b read every stride floats,
 * added left to right in float. */
float dot_strided(const float *a, const float *b, size_t K, size_t stride_b);

/* The float sum of v (n) in the order PyTorch's vectorized reduce_all adds
 * on an 8-lane CPU (AVX2): fewer than 8 values left to right; otherwise
 * lane i accumulates v[i], v[i+8], v[i+16], ... and the lanes are combined
 * pairwise, (l0+l4)+(l2+l6) and (l1+l5)+(l3+l7), then those two. */
float sum_torch_order(const float *v, size_t n);

/* Softmax of each row of in (rows, cols) into out (rows, cols), in place when
 * out == in. Stable: subtracts the row maximum before exp. exp is
 * PyTorch's own (torchmath_expf); the sum of the exponentials is added in
 * PyTorch's vectorized order, then each is multiplied by 1/sum. A -inf input gives exactly 0. A row that is all -inf
 * gives all 0 (PyTorch would give NaN; no row of the trace is ever all
 * masked). */
void softmax_rows(float *out, const float *in, size_t rows, size_t cols);

/* ---------------------------------------------------------------------
 * Tensor operations. Each returns a new tensor (caller frees) or NULL.
 * ------------------------------------------------------------------- */

/* Matrix product with PyTorch's matmul rules for ranks 1 and 2:
 *   (M, K) @ (K, N) -> (M, N)     (K) @ (K, N) -> (N)
 *   (M, K) @ (K)    -> (M)        (K) @ (K)    -> scalar  */
Tensor *tensor_matmul(const Tensor *a, const Tensor *b, Error *err);

/* Transpose of a 2-D tensor: (M, N) -> (N, M). */
Tensor *tensor_transpose(const Tensor *a, Error *err);

/* The last two dimensions of a 3-D tensor swapped: (B, M, N) -> (B, N, M),
 * as a.transpose(-2, -1).contiguous(). */
Tensor *tensor_transpose_last(const Tensor *a, Error *err);

/* a * factor, elementwise, same shape. */
Tensor *tensor_scale(const Tensor *a, float factor, Error *err);

/* Softmax along the last dimension, same shape. */
Tensor *tensor_softmax_last(const Tensor *a, Error *err);

/* Row i of a 2-D tensor (M, N) -> (N). */
Tensor *tensor_row(const Tensor *a, size_t i, Error *err);

/* Rows of table (V, D) picked by ids (S) -> (S, D). Fails naming the bad id
 * when an id is not below V. */
Tensor *tensor_gather_rows(const Tensor *table, const long *ids, size_t S, Error *err);

/* Causal mask in place on scores (..., S, S): every [i][j] with j > i
 * becomes -inf. */
void tensor_causal_mask(Tensor *scores);

/* Causal mask in place on one query's scores (S) for query position q
 * (0-based): every [j] with j > q becomes -inf. */
void tensor_causal_mask_row(Tensor *scores, size_t q);

/* Heads side by side: (H, S, E) -> (S, H*E), i.e. permute(1, 0, 2) then
 * reshape, as the article's concat_heads. */
Tensor *tensor_concat_heads(const Tensor *heads, Error *err);

#endif
