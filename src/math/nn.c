/*
 * nn.c - LayerNorm, GELU (tanh) and addmm, the reference kernels of a
 * GPT-2 block (see nn.h for how each matches PyTorch).
 */
#include "nn.h"

#include "torchmath.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * addmm
 * ---------------------------------------------------------------------- */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NN_X86 1
#include <immintrin.h>

/* out[i] = out[i] + a * w[i] for i < n, eight at a time: a multiply then
 * an add, each rounded (no FMA), so bit-identical to the scalar loop. */
__attribute__((target("avx2"))) static void axpy_avx2(float *out, float a, const float *w, size_t n)
{
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 product = _mm256_mul_ps(va, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i), product));
    }
    for (; i < n; i++)
        out[i] = out[i] + a * w[i];
}
#else
#define NN_X86 0
#endif

/* out[i] = out[i] + a * w[i] for i < n. */
static void axpy(float *out, float a, const float *w, size_t n, bool avx2)
{
#if NN_X86
    if (avx2) {
        axpy_avx2(out, a, w, n);
        return;
    }
#else
    (void)avx2;
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = out[i] + a * w[i];
}

void addmm_forward(float *out, const float *bias, const float *a, const float *w, size_t M, size_t K, size_t N)
{
    /* a is (M, K), w is (K, N), bias is (N), out is (M, N). Each out[m][n]
     * is bias[n] + a[m][0] w[0][n] + a[m][1] w[1][n] + ... added in that
     * order, as the reference BLAS's sgemm does. The loops put k outside m
     * so that w is read once, row by row, whatever M is; that changes
     * when each sum is advanced, never the order of its terms. */
    bool avx2 = torchmath_have_avx2();
    /* pass 1: start every row from the bias (beta = 1) or from zero */
    for (size_t m = 0; m < M; m++) {
        if (bias != NULL)
            memcpy(out + m * N, bias, N * sizeof *out);
        else
            memset(out + m * N, 0, N * sizeof *out);
    }
    /* pass 2: add a[m][k] * w[k] for each k in turn */
    for (size_t k = 0; k < K; k++) {
        const float *w_k = w + k * N;
        for (size_t m = 0; m < M; m++)
            axpy(out + m * N, a[m * K + k], w_k, N, avx2);
    }
}

/* ------------------------------------------------------------------------
 * LayerNorm
 * ---------------------------------------------------------------------- */

#define LANES 8      /* Vectorized<float>::size() on AVX2 */
#define CHUNK 16     /* kChunkSize: vectors per Welford chunk */
#define MAX_DEPTH 64 /* the cascade's depth for any size_t N */

/* Merges the moments (m0_add, m1_add, m2_add) of LANES lanes into (m0, m1,
 * m2), as PyTorch's AddMomentsVec: c = m0_add / n, delta = m1_add - m1,
 * m1 += c * delta, m2 += m2_add + delta * delta * c * m0. */
static void add_moments_vec(int64_t m0_add, const float *m1_add, const float *m2_add, int64_t *m0, float *m1, float *m2)
{
    const int64_t n = *m0 + m0_add;
    const float c = n == 0 ? 0.0f : (float)m0_add / (float)n;
    for (int l = 0; l < LANES; l++) {
        const float delta = m1_add[l] - m1[l];
        m1[l] = m1[l] + c * delta;
        m2[l] = m2[l] + (m2_add[l] + delta * delta * c * (float)*m0);
    }
    *m0 = n;
}

/* The scalar AddMoments: one lane's moments into (m0, m1, m2). */
static void add_moments(int64_t m0_add, float m1_add, float m2_add, int64_t *m0, float *m1, float *m2)
{
    const int64_t n = *m0 + m0_add;
    const float c = n == 0 ? 0.0f : (float)m0_add / (float)n;
    const float delta = m1_add - *m1;
    *m1 = *m1 + c * delta;
    *m2 = *m2 + (m2_add + delta * delta * c * (float)*m0);
    *m0 = n;
}

/* PyTorch's CeilLog2: 1 for x <= 2, else the bits needed for x - 1. */
static int64_t ceil_log2(int64_t x)
{
    if (x <= 2)
        return 1;
    int64_t bits = 0;
    for (uint64_t v = (uint64_t)x - 1; v != 0; v >>= 1)
        bits++;
    return bits;
}

void layernorm_moments(const float *x, size_t N, float *mean, float *variance)
{
    const int64_t n = (int64_t)(N / LANES);    /* whole vectors */
    const int64_t m = (n + CHUNK - 1) / CHUNK; /* chunks of up to 16 vectors */
    const int64_t depth = ceil_log2(m);
    int64_t m0_stk[MAX_DEPTH] = {0};
    float m1_stk[MAX_DEPTH][LANES], m2_stk[MAX_DEPTH][LANES];
    memset(m1_stk, 0, sizeof m1_stk);
    memset(m2_stk, 0, sizeof m2_stk);

    /* pass 1: Welford per lane within each chunk, chunks merged in a
     * binary cascade (level j holds 2^j chunks) */
    for (int64_t i = 0; i < m; i++) {
        const float *x_chunk = x + (size_t)i * CHUNK * LANES;
        const int64_t m0 = n - i * CHUNK < CHUNK ? n - i * CHUNK : CHUNK;
        float m1v[LANES] = {0}, m2v[LANES] = {0};
        for (int64_t j = 0; j < m0; j++) {
            const float c = 1.0f / (float)(j + 1);
            for (int l = 0; l < LANES; l++) {
                const float xv = x_chunk[j * LANES + l];
                const float delta = xv - m1v[l];
                m1v[l] = m1v[l] + delta * c;
                m2v[l] = m2v[l] + delta * (xv - m1v[l]);
            }
        }
        add_moments_vec(m0, m1v, m2v, &m0_stk[0], m1_stk[0], m2_stk[0]);
        int64_t mask = i + 1;
        for (int64_t j = 1; j < depth && (mask & 1) == 0; j++) {
            add_moments_vec(m0_stk[j - 1], m1_stk[j - 1], m2_stk[j - 1], &m0_stk[j], m1_stk[j], m2_stk[j]);
            m0_stk[j - 1] = 0;
            memset(m1_stk[j - 1], 0, sizeof m1_stk[j - 1]);
            memset(m2_stk[j - 1], 0, sizeof m2_stk[j - 1]);
            mask >>= 1;
        }
    }
    /* pass 2: what is left on the cascade, into level 0 */
    for (int64_t i = 1; i < depth; i++)
        add_moments_vec(m0_stk[i], m1_stk[i], m2_stk[i], &m0_stk[0], m1_stk[0], m2_stk[0]);

    /* pass 3: the tail, N mod 8 values, by a scalar Welford pass */
    int64_t m0 = 0;
    float m1 = 0.0f, m2 = 0.0f;
    for (size_t i = (size_t)n * LANES; i < N; i++) {
        const float delta = x[i] - m1;
        ++m0;
        m1 = m1 + delta / (float)m0;
        m2 = m2 + delta * (x[i] - m1);
    }
    /* pass 4: the 8 lanes merged into it, one by one (each lane saw n values) */
    for (int l = 0; l < LANES; l++)
        add_moments(n, m1_stk[0][l], m2_stk[0][l], &m0, &m1, &m2);
    *mean = m1;
    *variance = m2 / (float)N;
}

void layernorm_forward(float *out, const float *x, const float *gamma, const float *beta, size_t rows, size_t d,
                       float eps, float *mean_out, float *rstd_out)
{
    /* x, out: (rows, d); gamma, beta: (d). Each row on its own. */
    for (size_t r = 0; r < rows; r++) {
        const float *x_r = x + r * d;
        float *out_r = out + r * d;
        float mean, variance;
        layernorm_moments(x_r, d, &mean, &variance);
        const float rstd = 1.0f / sqrtf(variance + eps);
        const float shift = -rstd * mean;
        /* two fused multiply-adds, as in PyTorch's binary: its compiler
         * contracted the vector code (x * rstd + shift) * gamma + beta */
        for (size_t i = 0; i < d; i++)
            out_r[i] = fmaf(fmaf(x_r[i], rstd, shift), gamma[i], beta[i]);
        if (mean_out != NULL)
            mean_out[r] = mean;
        if (rstd_out != NULL)
            rstd_out[r] = rstd;
    }
}

/* ------------------------------------------------------------------------
 * GELU, tanh approximation
 * ---------------------------------------------------------------------- */

float gelu_tanh_beta(void)
{
    return (float)(1.41421356237309504880 * 1.12837916709551257390 *
                   0.5); /* M_SQRT2 * M_2_SQRTPI * 0.5 = sqrt(2 / pi) */
}

float gelu_tanh_kappa(void)
{
    return 0.044715f;
}

void gelu_tanh_forward(float *out, const float *x, size_t n)
{
    const float beta = gelu_tanh_beta(), kappa = gelu_tanh_kappa();
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        const float cube = v * v * v;
        /* x + kappa * cube is one fused multiply-add in PyTorch's binary
         * (its compiler contracted the vector code), and tanh is taken in
         * double and rounded once: nearly always the float SLEEF's tanhf
         * gives there */
        const float inner = beta * fmaf(kappa, cube, v);
        out[i] = 0.5f * v * (1.0f + (float)tanh((double)inner));
    }
}
