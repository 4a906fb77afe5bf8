/*
 * kernels.c - the fast kernels (see kernels.h).
 *
 * The matrix product is organised the way high-performance BLAS libraries
 * organise it (Goto's algorithm, as BLIS describes it):
 *
 *   for each block of KC_BLOCK rows of B (the summed dimension k):
 *     pack that block of B into column slivers of NR_TILE, zero-padded;
 *     for each block of MC_BLOCK rows of A:
 *       pack those rows of A into row slivers of MR_TILE, zero-padded;
 *       for each pair of slivers: the micro-kernel adds the MR_TILE x NR_TILE
 *       tile of products into the output.
 *
 * Packing makes every read of the micro-kernel contiguous, whatever the
 * strides of A and B (so A·Bᵀ, a shared weight matrix or one head of an
 * (h, s, e) tensor cost the same), and the blocks fit the caches: a sliver
 * of B (KC x NR floats, 16 KiB) stays in L1 while A's block (MC x KC, 96
 * KiB) stays in L2. The micro-kernel keeps its 6 x 16 tile in twelve AVX
 * registers and does twelve fused multiply-adds per k; without AVX2 a plain
 * C micro-kernel of the same shape is used, which the compiler vectorizes.
 *
 * The exact products (kernels_gemm_exact) walk the same blocks with other
 * micro-kernels: each lane of a register is one output value whose sum is
 * carried on in k order, a product rounded and then added (two roundings,
 * never a fused multiply-add), the partial sum starting at 0 and kept in
 * the output as a float between blocks of k. That is the arithmetic of the
 * plain loop `sum += a[k] * b[k]` (tensor.c, einsum.c) and of the
 * reference BLAS, so the result is the same bits at every size.
 *
 * Threads take disjoint parts of the output: whole batch entries, or bands
 * of rows when the batch is smaller than the threads. Each thread packs its
 * own copies, so they share nothing but the read-only inputs.
 */
#include "kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensor.h"
#include "torchmath.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KERNELS_X86 1
#include <immintrin.h>
#else
#define KERNELS_X86 0
#endif

/* The register tile of the micro-kernel, and the cache blocks. */
#define MR_TILE 6
#define NR_TILE 16
#define KC_BLOCK 256
#define MC_BLOCK 96   /* a multiple of MR_TILE */
#define NC_BLOCK 1024 /* a multiple of NR_TILE */

/* Below this many multiply-adds a product runs on one thread: starting
 * another costs more than it saves. */
#define THREAD_MIN_WORK (1u << 20)

/* Alignment of the packed buffers: a cache line, which AVX loads need at
 * most. */
#define PACK_ALIGN 64

/* out (mr, nr), row stride ldc: the tile of kc products of A's rows
 * (row i, step k at a[i * a_row_stride + k * a_k_stride]: a packed sliver
 * has strides 1 and MR_TILE, rows of a row-major matrix lda and 1) and the
 * packed B sliver (kc x NR_TILE), written (accumulate false) or added
 * (accumulate true). mr <= MR_TILE, nr <= NR_TILE; rows of A past mr are
 * not read. */
typedef void MicroKernel(size_t kc, const float *a, size_t a_row_stride, size_t a_k_stride, const float *b_pack,
                         float *out, size_t ldc, bool accumulate, size_t mr, size_t nr);

/* Rounds n up to a multiple of to. */
static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Writes or adds the tile (MR_TILE, NR_TILE) into out (mr, nr). */
static void store_tile(float tile[MR_TILE][NR_TILE], float *out, size_t ldc, bool accumulate, size_t mr, size_t nr)
{
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++)
            out[i * ldc + j] = accumulate ? out[i * ldc + j] + tile[i][j] : tile[i][j];
}

/* The micro-kernel in plain C: the compiler vectorizes the j loop. */
static void micro_portable(size_t kc, const float *a, size_t a_row_stride, size_t a_k_stride, const float *b_pack,
                           float *out, size_t ldc, bool accumulate, size_t mr, size_t nr)
{
    float tile[MR_TILE][NR_TILE] = {{0}};
    for (size_t k = 0; k < kc; k++) {
        const float *b_k = b_pack + k * NR_TILE;
        for (size_t i = 0; i < mr; i++) {
            float a_ik = a[i * a_row_stride + k * a_k_stride];
            for (size_t j = 0; j < NR_TILE; j++)
                tile[i][j] += a_ik * b_k[j];
        }
    }
    store_tile(tile, out, ldc, accumulate, mr, nr);
}

#if KERNELS_X86
/* The micro-kernel with AVX2 and FMA: row i of the tile is the register
 * pair (lo_i, hi_i). */
__attribute__((target("avx2,fma"))) static void micro_avx2(size_t kc, const float *a, size_t a_row_stride,
                                                           size_t a_k_stride, const float *b_pack, float *out,
                                                           size_t ldc, bool accumulate, size_t mr, size_t nr)
{
    /* one pointer per row; rows past mr repeat the last one (their sums
     * are computed and dropped, and nothing outside A is read) */
    const float *a_row[MR_TILE];
    for (size_t i = 0; i < MR_TILE; i++)
        a_row[i] = a + (i < mr ? i : mr - 1) * a_row_stride;
    const float *a0 = a_row[0], *a1 = a_row[1], *a2 = a_row[2], *a3 = a_row[3], *a4 = a_row[4], *a5 = a_row[5];
    __m256 lo0 = _mm256_setzero_ps(), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0;
    __m256 lo3 = lo0, hi3 = lo0, lo4 = lo0, hi4 = lo0, lo5 = lo0, hi5 = lo0;
    for (size_t k = 0; k < kc; k++) {
        const __m256 b_lo = _mm256_load_ps(b_pack);
        const __m256 b_hi = _mm256_load_ps(b_pack + 8);
        __m256 a_ik;
#define MICRO_ROW(i)                                                                                                   \
    a_ik = _mm256_broadcast_ss(a##i);                                                                                  \
    lo##i = _mm256_fmadd_ps(a_ik, b_lo, lo##i);                                                                        \
    hi##i = _mm256_fmadd_ps(a_ik, b_hi, hi##i)
        MICRO_ROW(0);
        MICRO_ROW(1);
        MICRO_ROW(2);
        MICRO_ROW(3);
        MICRO_ROW(4);
        MICRO_ROW(5);
#undef MICRO_ROW
        a0 += a_k_stride;
        a1 += a_k_stride;
        a2 += a_k_stride;
        a3 += a_k_stride;
        a4 += a_k_stride;
        a5 += a_k_stride;
        b_pack += NR_TILE;
    }
    if (mr == MR_TILE && nr == NR_TILE) {
#define STORE_ROW(i)                                                                                                   \
    do {                                                                                                               \
        float *row = out + (i)*ldc;                                                                                    \
        if (accumulate) {                                                                                              \
            lo##i = _mm256_add_ps(_mm256_loadu_ps(row), lo##i);                                                        \
            hi##i = _mm256_add_ps(_mm256_loadu_ps(row + 8), hi##i);                                                    \
        }                                                                                                              \
        _mm256_storeu_ps(row, lo##i);                                                                                  \
        _mm256_storeu_ps(row + 8, hi##i);                                                                              \
    } while (0)
        STORE_ROW(0);
        STORE_ROW(1);
        STORE_ROW(2);
        STORE_ROW(3);
        STORE_ROW(4);
        STORE_ROW(5);
#undef STORE_ROW
        return;
    }
    float tile[MR_TILE][NR_TILE];
    _mm256_storeu_ps(tile[0], lo0);
    _mm256_storeu_ps(tile[0] + 8, hi0);
    _mm256_storeu_ps(tile[1], lo1);
    _mm256_storeu_ps(tile[1] + 8, hi1);
    _mm256_storeu_ps(tile[2], lo2);
    _mm256_storeu_ps(tile[2] + 8, hi2);
    _mm256_storeu_ps(tile[3], lo3);
    _mm256_storeu_ps(tile[3] + 8, hi3);
    _mm256_storeu_ps(tile[4], lo4);
    _mm256_storeu_ps(tile[4] + 8, hi4);
    _mm256_storeu_ps(tile[5], lo5);
    _mm256_storeu_ps(tile[5] + 8, hi5);
    store_tile(tile, out, ldc, accumulate, mr, nr);
}
#endif

/* The exact micro-kernel in plain C: tile[i][j] continues the sum already
 * in out when accumulate is true (the earlier blocks of k) or starts at 0,
 * and each step rounds the product, then the sum (the build has
 * -ffp-contract=off, so the compiler never fuses them). */
static void micro_exact_portable(size_t kc, const float *a, size_t a_row_stride, size_t a_k_stride, const float *b_pack,
                                 float *out, size_t ldc, bool accumulate, size_t mr, size_t nr)
{
    float tile[MR_TILE][NR_TILE] = {{0}};
    if (accumulate)
        for (size_t i = 0; i < mr; i++)
            for (size_t j = 0; j < nr; j++)
                tile[i][j] = out[i * ldc + j];
    for (size_t k = 0; k < kc; k++) {
        const float *b_k = b_pack + k * NR_TILE;
        for (size_t i = 0; i < mr; i++) {
            float a_ik = a[i * a_row_stride + k * a_k_stride];
            for (size_t j = 0; j < NR_TILE; j++) {
                float product = a_ik * b_k[j];
                tile[i][j] = tile[i][j] + product;
            }
        }
    }
    store_tile(tile, out, ldc, false, mr, nr);
}

#if KERNELS_X86
/* The exact micro-kernel with AVX2: as micro_exact_portable, row i of the
 * tile in the register pair (lo_i, hi_i), one output per lane, a
 * _mm256_mul_ps then a _mm256_add_ps per step. */
__attribute__((target("avx2"))) static void micro_exact_avx2(size_t kc, const float *a, size_t a_row_stride,
                                                             size_t a_k_stride, const float *b_pack, float *out,
                                                             size_t ldc, bool accumulate, size_t mr, size_t nr)
{
    const float *a_row[MR_TILE];
    for (size_t i = 0; i < MR_TILE; i++)
        a_row[i] = a + (i < mr ? i : mr - 1) * a_row_stride;
    const float *a0 = a_row[0], *a1 = a_row[1], *a2 = a_row[2], *a3 = a_row[3], *a4 = a_row[4], *a5 = a_row[5];
    float tile[MR_TILE][NR_TILE] = {{0}};
    const bool whole = mr == MR_TILE && nr == NR_TILE;
    if (accumulate && !whole)
        for (size_t i = 0; i < mr; i++)
            for (size_t j = 0; j < nr; j++)
                tile[i][j] = out[i * ldc + j];
    /* the starting sums: out itself for a whole tile, else the copy */
    const float *start = whole ? out : tile[0];
    const size_t start_ld = whole ? ldc : NR_TILE;
    __m256 lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3, lo4, hi4, lo5, hi5;
#define LOAD_ROW(i)                                                                                                    \
    lo##i = accumulate ? _mm256_loadu_ps(start + (i)*start_ld) : _mm256_setzero_ps();                                  \
    hi##i = accumulate ? _mm256_loadu_ps(start + (i)*start_ld + 8) : _mm256_setzero_ps()
    LOAD_ROW(0);
    LOAD_ROW(1);
    LOAD_ROW(2);
    LOAD_ROW(3);
    LOAD_ROW(4);
    LOAD_ROW(5);
#undef LOAD_ROW
    for (size_t k = 0; k < kc; k++) {
        const __m256 b_lo = _mm256_load_ps(b_pack);
        const __m256 b_hi = _mm256_load_ps(b_pack + 8);
        __m256 a_ik;
#define EXACT_ROW(i)                                                                                                   \
    a_ik = _mm256_broadcast_ss(a##i);                                                                                  \
    lo##i = _mm256_add_ps(lo##i, _mm256_mul_ps(a_ik, b_lo));                                                           \
    hi##i = _mm256_add_ps(hi##i, _mm256_mul_ps(a_ik, b_hi))
        EXACT_ROW(0);
        EXACT_ROW(1);
        EXACT_ROW(2);
        EXACT_ROW(3);
        EXACT_ROW(4);
        EXACT_ROW(5);
#undef EXACT_ROW
        a0 += a_k_stride;
        a1 += a_k_stride;
        a2 += a_k_stride;
        a3 += a_k_stride;
        a4 += a_k_stride;
        a5 += a_k_stride;
        b_pack += NR_TILE;
    }
    float *dst = whole ? out : tile[0];
    const size_t dst_ld = whole ? ldc : NR_TILE;
#define SAVE_ROW(i)                                                                                                    \
    _mm256_storeu_ps(dst + (i)*dst_ld, lo##i);                                                                         \
    _mm256_storeu_ps(dst + (i)*dst_ld + 8, hi##i)
    SAVE_ROW(0);
    SAVE_ROW(1);
    SAVE_ROW(2);
    SAVE_ROW(3);
    SAVE_ROW(4);
    SAVE_ROW(5);
#undef SAVE_ROW
    if (!whole)
        store_tile(tile, out, ldc, false, mr, nr);
}
#endif

/* The micro-kernel for this machine: the exact ones or the fused ones. */
static MicroKernel *micro_kernel(bool exact)
{
#if KERNELS_X86
    if (exact && torchmath_have_avx2())
        return micro_exact_avx2;
#endif
    if (exact)
        return micro_exact_portable;
#if KERNELS_X86
    if (torchmath_have_avx2())
        return micro_avx2;
#endif
    return micro_portable;
}

const char *kernels_exact_isa(void)
{
    return micro_kernel(true) == micro_exact_portable ? "portable C" : "avx2";
}

const char *kernels_isa(void)
{
    return micro_kernel(false) == micro_portable ? "portable C" : "avx2+fma";
}

/* ------------------------------------------------------------------------
 * Packing
 * ---------------------------------------------------------------------- */

/* Packs rows [i0, i0 + mc) and columns [k0, k0 + kc) of matrix a into
 * slivers of MR_TILE rows: sliver r holds a[i0 + r*MR_TILE + ii][k0 + k] at
 * pack[r * kc * MR_TILE + k * MR_TILE + ii], rows past mc zero. */
static void pack_a(float *pack, const float *a, size_t row_stride, size_t col_stride, size_t i0, size_t mc, size_t k0,
                   size_t kc)
{
    for (size_t r = 0; r < mc; r += MR_TILE) {
        float *sliver = pack + r * kc;
        size_t rows = mc - r < MR_TILE ? mc - r : MR_TILE;
        for (size_t ii = 0; ii < MR_TILE; ii++) {
            if (ii >= rows) {
                for (size_t k = 0; k < kc; k++)
                    sliver[k * MR_TILE + ii] = 0.0f;
                continue;
            }
            const float *row = a + (i0 + r + ii) * row_stride + k0 * col_stride;
            for (size_t k = 0; k < kc; k++)
                sliver[k * MR_TILE + ii] = row[k * col_stride];
        }
    }
}

/* Packs rows [k0, k0 + kc) and columns [j0, j0 + cols) of matrix b into
 * one sliver of NR_TILE columns: sliver[k * NR_TILE + jj] = b[k0 + k][j0 +
 * jj], columns past cols zero. Reads along whichever stride of b is 1. */
static void pack_b_sliver(float *sliver, const float *b, size_t row_stride, size_t col_stride, size_t k0, size_t kc,
                          size_t j0, size_t cols)
{
    if (cols < NR_TILE)
        memset(sliver, 0, kc * NR_TILE * sizeof *sliver);
    if (col_stride == 1) {
        for (size_t k = 0; k < kc; k++) {
            const float *row = b + (k0 + k) * row_stride + j0;
            for (size_t jj = 0; jj < cols; jj++)
                sliver[k * NR_TILE + jj] = row[jj];
        }
    } else {
        for (size_t jj = 0; jj < cols; jj++) {
            const float *column = b + k0 * row_stride + (j0 + jj) * col_stride;
            for (size_t k = 0; k < kc; k++)
                sliver[k * NR_TILE + jj] = column[k * row_stride];
        }
    }
}

/* ------------------------------------------------------------------------
 * One thread's share of a product
 *
 * A share is a band of rows of the output for a run of batch entries.
 * Batch entries that share their A (batch_stride 0, as the weights of
 * 'sd,hde->hse' share the sentence) are done as one wide product: their
 * B matrices side by side, each padded to a whole number of slivers, so A
 * is packed once for all of them.
 * ---------------------------------------------------------------------- */

typedef struct GemmJob {
    float *out;
    MatrixView a, b;
    size_t batch, M, K, N;
    size_t batches_per_part; /* batch entries in one share: 1, or all when A is shared */
    size_t bands;            /* row bands per batch run */
    size_t band_rows;        /* rows per band, a multiple of MR_TILE */
    int threads;
    MicroKernel *micro;
} GemmJob;

typedef struct GemmWorker {
    const GemmJob *job;
    int index; /* takes the parts index, index + threads, ... */
    bool ok;   /* its buffers were allocated and its parts done */
} GemmWorker;

/* Rows [row0, row0 + rows) of out[b] for b in [b_first, b_first + b_count),
 * all with the same A rows. */
static void gemm_band(const GemmJob *job, size_t b_first, size_t b_count, size_t row0, size_t rows, float *a_pack,
                      float *b_pack)
{
    const size_t M = job->M, K = job->K, N = job->N;
    const size_t n_pad = round_up(N, NR_TILE);
    const size_t width = b_count * n_pad; /* the B matrices side by side */
    const float *a_rows = job->a.data + b_first * job->a.batch_stride + row0 * job->a.row_stride;
    for (size_t j0 = 0; j0 < width; j0 += NC_BLOCK) {
        size_t nc = width - j0 < NC_BLOCK ? width - j0 : NC_BLOCK;
        for (size_t k0 = 0; k0 < K; k0 += KC_BLOCK) {
            size_t kc = K - k0 < KC_BLOCK ? K - k0 : KC_BLOCK;
            /* pass 1: this block of B, sliver by sliver */
            for (size_t jr = 0; jr < nc; jr += NR_TILE) {
                size_t b = b_first + (j0 + jr) / n_pad, j = (j0 + jr) % n_pad;
                size_t cols = N - j < NR_TILE ? N - j : NR_TILE;
                pack_b_sliver(b_pack + jr * kc, job->b.data + b * job->b.batch_stride, job->b.row_stride,
                              job->b.col_stride, k0, kc, j, cols);
            }
            for (size_t i0 = 0; i0 < rows; i0 += MC_BLOCK) {
                size_t mc = rows - i0 < MC_BLOCK ? rows - i0 : MC_BLOCK;
                /* pass 2: this block of A, packed unless its rows are
                 * contiguous already (then the micro-kernel reads them
                 * where they are) */
                const bool packed = job->a.col_stride != 1;
                if (packed)
                    pack_a(a_pack, a_rows, job->a.row_stride, job->a.col_stride, i0, mc, k0, kc);
                /* pass 3: every tile of the block's output */
                for (size_t jr = 0; jr < nc; jr += NR_TILE) {
                    size_t b = b_first + (j0 + jr) / n_pad, j = (j0 + jr) % n_pad;
                    size_t nr = N - j < NR_TILE ? N - j : NR_TILE;
                    float *out = job->out + b * M * N + (row0 + i0) * N + j;
                    for (size_t ir = 0; ir < mc; ir += MR_TILE) {
                        size_t mr = mc - ir < MR_TILE ? mc - ir : MR_TILE;
                        if (packed)
                            job->micro(kc, a_pack + ir * kc, 1, MR_TILE, b_pack + jr * kc, out + ir * N, N, k0 > 0, mr,
                                       nr);
                        else
                            job->micro(kc, a_rows + (i0 + ir) * job->a.row_stride + k0, job->a.row_stride, 1,
                                       b_pack + jr * kc, out + ir * N, N, k0 > 0, mr, nr);
                    }
                }
            }
        }
    }
}

static void *gemm_worker_run(void *arg)
{
    GemmWorker *worker = arg;
    const GemmJob *job = worker->job;
    size_t width = job->batches_per_part * round_up(job->N, NR_TILE);
    size_t kc_max = job->K < KC_BLOCK ? job->K : KC_BLOCK;
    size_t nc_max = width < NC_BLOCK ? width : NC_BLOCK;
    size_t mc_max = round_up(job->band_rows < MC_BLOCK ? job->band_rows : MC_BLOCK, MR_TILE);
    float *a_pack = aligned_alloc(PACK_ALIGN, round_up(mc_max * kc_max * sizeof(float), PACK_ALIGN));
    float *b_pack = aligned_alloc(PACK_ALIGN, round_up(kc_max * nc_max * sizeof(float), PACK_ALIGN));
    worker->ok = a_pack != NULL && b_pack != NULL;
    if (worker->ok) {
        size_t runs = job->batch / job->batches_per_part, parts = runs * job->bands;
        for (size_t part = (size_t)worker->index; part < parts; part += (size_t)job->threads) {
            size_t run = part / job->bands, band = part % job->bands;
            size_t row0 = band * job->band_rows;
            if (row0 >= job->M)
                continue;
            size_t rows = job->M - row0 < job->band_rows ? job->M - row0 : job->band_rows;
            gemm_band(job, run * job->batches_per_part, job->batches_per_part, row0, rows, a_pack, b_pack);
        }
    }
    free(a_pack);
    free(b_pack);
    return NULL;
}

/* Runs run(worker i) for i < threads: on new threads for i >= 1 and on the
 * caller's for 0. A thread that cannot be started has its share run by the
 * caller afterwards, so the work is always done. */
static void run_workers(void *(*run)(void *), void *workers, size_t worker_size, int threads)
{
    pthread_t ids[KERNELS_MAX_THREADS];
    bool started[KERNELS_MAX_THREADS] = {false};
    for (int i = 1; i < threads; i++)
        started[i] = pthread_create(&ids[i], NULL, run, (char *)workers + (size_t)i * worker_size) == 0;
    run(workers);
    for (int i = 1; i < threads; i++) {
        if (started[i])
            pthread_join(ids[i], NULL);
        else
            run((char *)workers + (size_t)i * worker_size);
    }
}

static int clamp_threads(int threads, double work)
{
    if (threads < 1 || work < (double)THREAD_MIN_WORK)
        return 1;
    return threads > KERNELS_MAX_THREADS ? KERNELS_MAX_THREADS : threads;
}

/* kernels_gemm and kernels_gemm_exact: the same blocks and shares, with
 * the fused or the exact micro-kernel. */
static bool gemm_run(float *out, MatrixView a, MatrixView bm, size_t batch, size_t M, size_t K, size_t N, int threads,
                     bool exact, Error *err)
{
    threads = clamp_threads(threads, (double)batch * (double)M * (double)K * (double)N);
    GemmJob job = {.out = out,
                   .a = a,
                   .b = bm,
                   .batch = batch,
                   .M = M,
                   .K = K,
                   .N = N,
                   .threads = threads,
                   .micro = micro_kernel(exact)};
    /* A shared A: every batch entry at once, in bands of rows, one per
     * thread. Otherwise whole batch entries when there are enough to go
     * round; else bands of rows again. */
    bool shared_a = a.batch_stride == 0 && batch > 1;
    job.batches_per_part = shared_a ? batch : 1;
    job.bands = !shared_a && batch >= (size_t)threads * 2 ? 1 : (size_t)threads;
    job.band_rows = round_up((M + job.bands - 1) / job.bands, MR_TILE);
    GemmWorker workers[KERNELS_MAX_THREADS];
    for (int i = 0; i < threads; i++)
        workers[i] = (GemmWorker){.job = &job, .index = i, .ok = false};
    run_workers(gemm_worker_run, workers, sizeof workers[0], threads);
    for (int i = 0; i < threads; i++)
        if (!workers[i].ok) {
            error_oom(err, "the matrix product's packing buffers");
            return false;
        }
    return true;
}

bool kernels_gemm(float *out, MatrixView a, MatrixView bm, size_t batch, size_t M, size_t K, size_t N, int threads,
                  Error *err)
{
    return gemm_run(out, a, bm, batch, M, K, N, threads, false, err);
}

bool kernels_gemm_exact(float *out, MatrixView a, MatrixView bm, size_t batch, size_t M, size_t K, size_t N,
                        int threads, Error *err)
{
    return gemm_run(out, a, bm, batch, M, K, N, threads, true, err);
}

/* ------------------------------------------------------------------------
 * Softmax
 * ---------------------------------------------------------------------- */

typedef struct SoftmaxWorker {
    float *out;
    const float *in;
    size_t row0, rows, cols;
    bool simd; /* use the AVX2 passes (decided once, by the caller) */
} SoftmaxWorker;

/* The maximum of v (n). */
static float row_max(const float *v, size_t n)
{
    float max = -INFINITY;
    for (size_t c = 0; c < n; c++)
        if (v[c] > max)
            max = v[c];
    return max;
}

/* out = v * factor, elementwise, n floats. */
static void row_scale(float *out, const float *v, float factor, size_t n)
{
    for (size_t c = 0; c < n; c++)
        out[c] = v[c] * factor;
}

#if KERNELS_X86
/* row_max with AVX: max is exact, so the order does not matter. */
__attribute__((target("avx2,fma"))) static float row_max_avx2(const float *v, size_t n)
{
    size_t c = 0;
    float max = -INFINITY;
    if (n >= 8) {
        __m256 m = _mm256_loadu_ps(v);
        for (c = 8; c + 8 <= n; c += 8)
            m = _mm256_max_ps(m, _mm256_loadu_ps(v + c));
        float lanes[8];
        _mm256_storeu_ps(lanes, m);
        for (int i = 0; i < 8; i++)
            if (lanes[i] > max)
                max = lanes[i];
    }
    for (; c < n; c++)
        if (v[c] > max)
            max = v[c];
    return max;
}

/* sum_torch_order (tensor.c) with the eight lanes in one register: lane i
 * adds v[i], v[i+8], ... in the same order, then the same pairwise
 * combination, so the sum is bit-identical. */
__attribute__((target("avx2,fma"))) static float sum_torch_order_avx2(const float *v, size_t n)
{
    if (n < 8)
        return sum_torch_order(v, n);
    __m256 acc = _mm256_loadu_ps(v);
    size_t c = 8;
    for (; c + 8 <= n; c += 8)
        acc = _mm256_add_ps(acc, _mm256_loadu_ps(v + c));
    float lane[8];
    _mm256_storeu_ps(lane, acc);
    for (size_t i = 0; c + i < n; i++)
        lane[i] += v[c + i];
    float pair0 = (lane[0] + lane[4]) + (lane[2] + lane[6]);
    float pair1 = (lane[1] + lane[5]) + (lane[3] + lane[7]);
    return pair0 + pair1;
}

__attribute__((target("avx2,fma"))) static void row_scale_avx2(float *out, const float *v, float factor, size_t n)
{
    const __m256 f = _mm256_set1_ps(factor);
    size_t c = 0;
    for (; c + 8 <= n; c += 8)
        _mm256_storeu_ps(out + c, _mm256_mul_ps(_mm256_loadu_ps(v + c), f));
    for (; c < n; c++)
        out[c] = v[c] * factor;
}
#endif

/* Rows [row0, row0 + rows) of in (., cols) into out: the passes of
 * softmax_rows (tensor.c), each eight lanes at a time when the CPU can. */
static void *softmax_worker_run(void *arg)
{
    const SoftmaxWorker *w = arg;
    const size_t cols = w->cols;
    float (*max_of)(const float *, size_t) = row_max;
    float (*sum_of)(const float *, size_t) = sum_torch_order;
    void (*scale)(float *, const float *, float, size_t) = row_scale;
#if KERNELS_X86
    if (w->simd) {
        max_of = row_max_avx2;
        sum_of = sum_torch_order_avx2;
        scale = row_scale_avx2;
    }
#endif
    for (size_t r = w->row0; r < w->row0 + w->rows; r++) {
        const float *in_r = w->in + r * cols;
        float *out_r = w->out + r * cols;
        /* pass 1: the row maximum */
        float max = max_of(in_r, cols);
        if (max == -INFINITY) {
            memset(out_r, 0, cols * sizeof *out_r);
            continue;
        }
        /* pass 2: the shifted exponentials */
        torchmath_expf_shifted(out_r, in_r, max, cols);
        /* pass 3 and 4: the sum in PyTorch's order, times its reciprocal */
        scale(out_r, out_r, 1.0f / sum_of(out_r, cols), cols);
    }
    return NULL;
}

void kernels_softmax_rows(float *out, const float *in, size_t rows, size_t cols, int threads)
{
    if (rows == 0 || cols == 0)
        return;
    const bool simd = torchmath_have_avx2(); /* asked here, not in the workers: its cache is filled once */
    threads = clamp_threads(threads, (double)rows * (double)cols * 16.0);
    if ((size_t)threads > rows)
        threads = (int)rows;
    SoftmaxWorker workers[KERNELS_MAX_THREADS];
    size_t per = rows / (size_t)threads, extra = rows % (size_t)threads, row0 = 0;
    for (int i = 0; i < threads; i++) {
        size_t n = per + ((size_t)i < extra ? 1 : 0);
        workers[i] = (SoftmaxWorker){.out = out, .in = in, .row0 = row0, .rows = n, .cols = cols, .simd = simd};
        row0 += n;
    }
    run_workers(softmax_worker_run, workers, sizeof workers[0], threads);
}

/* ------------------------------------------------------------------------
 * Division by a constant
 * ---------------------------------------------------------------------- */

#if KERNELS_X86
__attribute__((target("avx2,fma"))) static void divide_avx2(float *v, size_t n, float divisor)
{
    const __m256 d = _mm256_set1_ps(divisor);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(v + i, _mm256_div_ps(_mm256_loadu_ps(v + i), d));
    for (; i < n; i++)
        v[i] = v[i] / divisor;
}
#endif

void kernels_divide(float *v, size_t n, float divisor)
{
#if KERNELS_X86
    if (torchmath_have_avx2()) {
        divide_avx2(v, n, divisor);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        v[i] = v[i] / divisor;
}

/* ------------------------------------------------------------------------
 * Odds and ends
 * ---------------------------------------------------------------------- */

int kernels_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > KERNELS_MAX_THREADS ? KERNELS_MAX_THREADS : (int)n;
}

const char *kernels_choice_name(KernelChoice choice)
{
    switch (choice) {
    case KERNELS_REFERENCE:
        return "reference";
    case KERNELS_FAST:
        return "fast";
    case KERNELS_AUTO:
        break;
    }
    return "auto";
}
