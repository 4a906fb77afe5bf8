/*
 * rng.c - PyTorch-compatible mt19937, uniform and normal draws (see rng.h).
 */
#include "rng.h"

#include <math.h>

#include "torchmath.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RNG_X86 1
#include <immintrin.h>
#else
#define RNG_X86 0
#endif

#define MT19937_M 397
#define MT19937_MATRIX_A 0x9908b0dfu
#define MT19937_UPPER_MASK 0x80000000u
#define MT19937_LOWER_MASK 0x7fffffffu

/* 2^-24 and 2^-53: the step of a float32 and of a double uniform. */
#define FLOAT_UNIFORM_STEP (1.0f / 16777216.0f)
#define DOUBLE_UNIFORM_STEP (1.0 / 9007199254740992.0)

static const double TWO_PI = 6.283185307179586476925286766559;

void rng_seed(Rng *rng, uint64_t seed)
{
    rng->state[0] = (uint32_t)(seed & 0xffffffffu);
    for (uint32_t i = 1; i < MT19937_N; i++) {
        uint32_t prev = rng->state[i - 1];
        rng->state[i] = 1812433253u * (prev ^ (prev >> 30)) + i;
    }
    rng->next = MT19937_N;
    rng->has_cached_normal = false;
    rng->cached_normal = 0.0;
}

/* One step of the twist: the new word from words a (upper bit), b (lower
 * bits) and far (the word MT19937_M ahead). */
static uint32_t twist_word(uint32_t a, uint32_t b, uint32_t far)
{
    uint32_t y = (a & MT19937_UPPER_MASK) | (b & MT19937_LOWER_MASK);
    return far ^ (y >> 1) ^ ((y & 1u) ? MT19937_MATRIX_A : 0u);
}

#if RNG_X86
/* Eight steps of the twist at once: words k..k+7 from k+1..k+8 and the
 * words `far` ahead (already the new ones when far is negative: every
 * twist step reads words at least 227 places away, so eight lanes never
 * read a word the same instruction writes). */
__attribute__((target("avx2,fma"))) static void twist8_avx2(uint32_t *mt, size_t k, long far)
{
    const __m256i upper = _mm256_set1_epi32((int)MT19937_UPPER_MASK);
    const __m256i lower = _mm256_set1_epi32((int)MT19937_LOWER_MASK);
    const __m256i matrix = _mm256_set1_epi32((int)MT19937_MATRIX_A);
    const __m256i one = _mm256_set1_epi32(1);
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(mt + k));
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(mt + k + 1));
    __m256i f = _mm256_loadu_si256((const __m256i *)(const void *)(mt + (long)k + far));
    __m256i y = _mm256_or_si256(_mm256_and_si256(a, upper), _mm256_and_si256(b, lower));
    __m256i odd = _mm256_cmpeq_epi32(_mm256_and_si256(y, one), one);
    __m256i word = _mm256_xor_si256(_mm256_xor_si256(f, _mm256_srli_epi32(y, 1)), _mm256_and_si256(odd, matrix));
    _mm256_storeu_si256((__m256i *)(void *)(mt + k), word);
}
#endif

/* Makes the next MT19937_N state words from the current ones, in place and
 * in index order (so words past the end wrap to the new ones), split into
 * three loops so that no index needs a modulo; eight words at a time with
 * AVX2, which gives the same words. */
static void rng_twist(Rng *rng)
{
    uint32_t *mt = rng->state;
    size_t k = 0;
#if RNG_X86
    if (torchmath_have_avx2()) {
        for (; k + 8 <= MT19937_N - MT19937_M; k += 8)
            twist8_avx2(mt, k, MT19937_M);
    }
#endif
    for (; k < MT19937_N - MT19937_M; k++)
        mt[k] = twist_word(mt[k], mt[k + 1], mt[k + MT19937_M]);
#if RNG_X86
    if (torchmath_have_avx2()) {
        for (; k + 8 <= MT19937_N - 1; k += 8)
            twist8_avx2(mt, k, (long)MT19937_M - (long)MT19937_N);
    }
#endif
    for (; k < MT19937_N - 1; k++)
        mt[k] = twist_word(mt[k], mt[k + 1], mt[k + MT19937_M - MT19937_N]);
    mt[MT19937_N - 1] = twist_word(mt[MT19937_N - 1], mt[0], mt[MT19937_M - 1]);
    rng->next = 0;
}

/* The tempering of a state word into an output. */
static uint32_t temper(uint32_t y)
{
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint32_t rng_next_u32(Rng *rng)
{
    if (rng->next >= MT19937_N)
        rng_twist(rng);
    return temper(rng->state[rng->next++]);
}

uint64_t rng_next_u64(Rng *rng)
{
    uint64_t high = rng_next_u32(rng);
    uint64_t low = rng_next_u32(rng);
    return (high << 32) | low;
}

/* A double uniform in [0, 1) from 53 bits of two draws. */
static double rng_uniform_double(Rng *rng)
{
    return (double)(rng_next_u64(rng) & ((UINT64_C(1) << 53) - 1)) * DOUBLE_UNIFORM_STEP;
}

#if RNG_X86
/* out[j] = uniform float of words[j] for j < n, eight at a time: the
 * tempering and the 24-bit conversion of rng_fill_uniform, lane by lane. */
__attribute__((target("avx2,fma"))) static size_t uniform_avx2(float *out, const uint32_t *words, size_t n)
{
    const __m256i b = _mm256_set1_epi32((int)0x9d2c5680u), c = _mm256_set1_epi32((int)0xefc60000u);
    const __m256i low24 = _mm256_set1_epi32(0xffffff);
    const __m256 step = _mm256_set1_ps(FLOAT_UNIFORM_STEP);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(words + j));
        y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 11));
        y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 7), b));
        y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 15), c));
        y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 18));
        __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(y, low24)), step);
        _mm256_storeu_ps(out + j, u);
    }
    return j;
}
#endif

void rng_fill_uniform(Rng *rng, float *out, size_t n)
{
    /* n float32 uniforms in [0, 1), each from the low 24 bits of one draw,
     * a run of state words at a time */
    size_t i = 0;
    while (i < n) {
        if (rng->next >= MT19937_N)
            rng_twist(rng);
        size_t run = MT19937_N - rng->next;
        if (run > n - i)
            run = n - i;
        const uint32_t *words = rng->state + rng->next;
        size_t j = 0;
#if RNG_X86
        if (torchmath_have_avx2())
            j = uniform_avx2(out + i, words, run);
#endif
        for (; j < run; j++)
            out[i + j] = (float)(temper(words[j]) & 0xffffffu) * FLOAT_UNIFORM_STEP;
        rng->next += run;
        i += run;
    }
}

/* Box-Muller in float32 over one block of 16 uniforms: values j and j+8
 * (j < 8) become a pair of normal samples. This is PyTorch's AVX2 kernel
 * lane by lane: its log, sine and cosine (torchmath.h), and its final fused
 * multiply-add with std and mean. */
static void normal_block16(float *block, float mean, float std)
{
    for (size_t j = 0; j < 8; j++) {
        float u1 = 1.0f - block[j]; /* in (0, 1], so log is finite */
        float u2 = block[j + 8];
        float radius = sqrtf(-2.0f * torchmath_logf(u1));
        float theta = (float)TWO_PI * u2;
        float sin_theta, cos_theta;
        torchmath_sincosf(theta, &sin_theta, &cos_theta);
        block[j] = fmaf(radius * cos_theta, std, mean);
        block[j + 8] = fmaf(radius * sin_theta, std, mean);
    }
}

/* One standard normal in double precision, using and refilling the
 * generator's cached second value as PyTorch's normal_distribution<double>. */
static double rng_normal_double(Rng *rng)
{
    if (rng->has_cached_normal) {
        rng->has_cached_normal = false;
        return rng->cached_normal;
    }
    double u1 = rng_uniform_double(rng);
    double u2 = rng_uniform_double(rng);
    double radius = sqrt(-2.0 * log1p(-u2));
    double theta = TWO_PI * u1;
    rng->cached_normal = radius * sin(theta);
    rng->has_cached_normal = true;
    return radius * cos(theta);
}

void rng_fill_normal(Rng *rng, float *out, size_t n, double mean, double std)
{
    if (n < 16) {
        /* PyTorch's scalar path: double precision, one value at a time. */
        for (size_t i = 0; i < n; i++)
            out[i] = (float)(rng_normal_double(rng) * std + mean);
        return;
    }
    /* pass 1: uniforms for every value */
    rng_fill_uniform(rng, out, n);
    /* pass 2: transform each whole block of 16 */
    for (size_t i = 0; i + 16 <= n; i += 16)
        normal_block16(out + i, (float)mean, (float)std);
    /* pass 3: a ragged end redraws and transforms the last 16 values */
    if (n % 16 != 0) {
        rng_fill_uniform(rng, out + n - 16, 16);
        normal_block16(out + n - 16, (float)mean, (float)std);
    }
}
