/*
 * kernels.h - the fast kernels: blocked, vectorized, optionally threaded
 * versions of the matrix products and the softmax of tensor.c and einsum.c.
 *
 * The reference kernels (tensor.h, einsum.h) stay the readable version: a
 * learner opens them, the cell inspector follows them, and they match
 * PyTorch's reference-BLAS numbers bit for bit. The kernels here compute the
 * same products in cache-sized blocks with fused multiply-adds (on an
 * x86-64 CPU with AVX2 and FMA, chosen at run time; plain C elsewhere), so
 * their sums are rounded differently: they agree with the reference within
 * a small tolerance (tests/check_kernels.c states it), not bit for bit. The
 * fast softmax is the exception: it does the reference's operations in the
 * reference's order, eight lanes at a time, and is bit-identical to it.
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
    KERNELS_AUTO,      /* reference for small traces, fast for large ones */
    KERNELS_REFERENCE, /* the plain kernels of tensor.c and einsum.c */
    KERNELS_FAST       /* the kernels of this file */
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
bool kernels_gemm(float *out, MatrixView a, MatrixView bm, size_t batch, size_t M, size_t K, size_t N,
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

/* The number of CPUs online, at least 1 (the default thread count is this,
 * at most KERNELS_DEFAULT_MAX_THREADS). */
int kernels_cpu_count(void);

/* "auto", "reference" or "fast". */
const char *kernels_choice_name(KernelChoice choice);

#endif
