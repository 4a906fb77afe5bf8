/*
 * kernels.h - blocked, vectorized, optionally threaded versions of the
 * matrix products and the softmax of tensor.c and einsum.c.
 *
 * The reference kernels (tensor.h, einsum.h) stay the readable version: a
 * learner opens them, the cell inspector follows them, and they match
 * PyTorch's reference-BLAS numbers bit for bit. The products here come in
 * two kinds, both in cache-sized blocks with register tiles (AVX2 on an
 * x86-64 CPU that has it, chosen at run time; plain C elsewhere):
 *
 * - kernels_gemm_exact (the default, --kernels auto): each output's sum
 *   over k in sequence, product and sum rounded separately, the partial
 *   sum kept as a float between blocks: the reference's arithmetic, so the
 *   same bits at every size;
 * - kernels_gemm (--kernels fast): fused multiply-adds, faster, rounded
 *   differently: within a small tolerance of the reference
 *   (tests/check_kernels.c states it), not bit for bit.
 *
 * The softmax does the reference's operations in the reference's order,
 * eight lanes at a time, and is bit-identical to it.
 *
 * Results never depend on the number of threads: every output element is
 * computed by one thread, with the same order of additions.
 */
#ifndef ATTN_KERNELS_H
#define ATTN_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "attn_limits.h"
#include "error.h"

/* Which kernels a trace uses (--kernels). */
typedef enum KernelChoice {
    KERNELS_AUTO,      /* the exact kernels of this file (kernels_gemm_exact), at every size */
    KERNELS_REFERENCE, /* the plain kernels of tensor.c and einsum.c */
    KERNELS_FAST       /* the fused multiply-add kernels of this file (kernels_gemm) */
} KernelChoice;

/* A strided view of a batch of matrices: element (b, i, j) is at
 * data[b * batch_stride + i * row_stride + j * col_stride]. A batch_stride
 * of 0 shares one matrix across the batch. */
typedef struct MatrixView {
    const float *data;
    size_t row_stride;
    size_t col_stride;
    size_t batch_stride;
} MatrixView;

/* Batched matrix product: for b < batch,
 *     out[b] (M, N) = a[b] (M, K) · bm[b] (K, N),
 * out contiguous and row-major, batch after batch (batch * M * N floats).
 * Uses up to `threads` threads (1 = the caller's only). Fails (false, err
 * set) only when it cannot allocate its packing buffers or start a thread;
 * out is then unspecified. */
bool kernels_gemm(float *out, MatrixView a, MatrixView bm, size_t batch, size_t M, size_t K, size_t N, int threads,
                  Error *err);

/* kernels_gemm with the reference's arithmetic: out[b][i][j] is
 * ((0 + a[i][0] b[0][j]) + a[i][1] b[1][j]) + ..., each product and each
 * sum rounded to float, k in order: bit-identical to the plain loops of
 * tensor.c and einsum.c (and to the reference BLAS) for every shape and
 * thread count. Same arguments, ownership and failures as kernels_gemm. */
bool kernels_gemm_exact(float *out, MatrixView a, MatrixView bm, size_t batch, size_t M, size_t K, size_t N,
                        int threads, Error *err);

/* Softmax of each row of in (rows, cols) into out (rows, cols), in place
 * when out == in: bit-identical to softmax_rows (tensor.h), the
 * exponentials taken eight at a time (torchmath_expf_array) and the rows
 * shared among up to `threads` threads. */
void kernels_softmax_rows(float *out, const float *in, size_t rows, size_t cols, int threads);

/* v[i] = v[i] / divisor for i < n (a true division, correctly rounded,
 * eight at a time when the CPU can): bit-identical to the scalar loop. */
void kernels_divide(float *v, size_t n, float divisor);

/* The instruction set the fast kernels use on this machine: "avx2+fma" or
 * "portable C". */
const char *kernels_isa(void);

/* The instruction set kernels_gemm_exact uses: "avx2" or "portable C". */
const char *kernels_exact_isa(void);

/* The number of CPUs online, at least 1 (the default thread count is this,
 * at most KERNELS_DEFAULT_MAX_THREADS). */
int kernels_cpu_count(void);

/* "auto", "reference" or "fast". */
const char *kernels_choice_name(KernelChoice choice);

#endif
