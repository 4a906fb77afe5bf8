/*
 * torchmath.c - one lane of PyTorch's AVX2 log, sincos and exp (see
 * torchmath.h).
 *
 * Where the log and sincos algorithm comes from: PyTorch's aten/src/ATen/
 * native/cpu/avx_mathfun.h, the AVX version by Giovanni Garberoglio (2012)
 * of Julien Pommier's sse_mathfun.h, which in turn rewrites the logf, sinf
 * and cosf of Stephen L. Moshier's Cephes Math Library. Those files are
 * under the zlib license.
 *
 * Where the exp algorithm comes from: SLEEF, the SIMD Library for
 * Evaluating Elementary Functions by Naoki Shibata and contributors
 * (https://sleef.org, Boost Software License 1.0), its single-precision
 * xexpf in src/libm/sleefsimdsp.c: a Cody-Waite reduction by ln 2 and a
 * polynomial of degree 7. Debian's torch 1.13 does not build its own copy: it
 * links the system libsleef.so.3 (3.5.1), whose Sleef_expf8_u10 dispatches
 * to Sleef_expf8_u10avx2 on an AVX2 + FMA machine.
 *
 * These are independent scalar re-implementations of one vector lane,
 * written for this project; only the numeric constants (facts that must
 * match to the bit) are taken over.
 *
 * What "one lane" means here:
 *   - the vector code computes every branch and selects with bit masks; we
 *     do the same, so signed zeros and NaNs come out as they do there;
 *   - its integer tricks (exponent extraction, quadrant, sign bits, the
 *     power of two in exp) are done on the float's bits, read and written
 *     through memcpy;
 *   - the fused multiply-adds are the ones in the shipped binaries, not
 *     the ones in the source. The avx_mathfun.h source has only separate
 *     _mm256_mul_ps and _mm256_add_ps, but GCC compiles the AVX2 kernels
 *     with -mfma and its default -ffp-contract=fast, and fuses many of those
 *     pairs. We read the instructions of libtorch_cpu.so 1.13.1 (Debian,
 *     GCC 12.2) and write each fusion out with fmaf(); every other operation
 *     stays a separate, rounded float operation. SLEEF's AVX2 build maps
 *     every mla step of its source to vfmadd, and the instructions of
 *     Sleef_expf8_u10avx2 in libsleef.so.3.5.1 confirm it: the eight mla
 *     steps are fused, the product x * log2(e), the square s * s, the final
 *     + 1 and the two scalings are not.
 *
 * REQUIRED: compile with -ffp-contract=off (the Makefile does), so that the
 * compiler fuses nothing beyond the explicit fmaf() calls.
 */
#include "torchmath.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TORCHMATH_X86 1
#include <immintrin.h>
#else
#define TORCHMATH_X86 0
#endif

/* Float bit patterns used as masks. */
#define SIGN_BIT 0x80000000u
#define EXPONENT_BITS 0x7f800000u
#define HALF_BITS 0x3f000000u /* 0.5f */
#define ALL_BITS 0xffffffffu

/* The smallest normal float (FLT_MIN): log clamps its input to this. */
#define MIN_NORMAL_BITS 0x00800000u

/* Cephes logf: sqrt(1/2), the polynomial p0..p8, and ln 2 split in two
 * (q2 + q1, q2 exact in few bits). */
static const float LOG_SQRTHF = 0.707106781186547524f;
static const float LOG_P0 = 7.0376836292E-2f;
static const float LOG_P1 = -1.1514610310E-1f;
static const float LOG_P2 = 1.1676998740E-1f;
static const float LOG_P3 = -1.2420140846E-1f;
static const float LOG_P4 = 1.4249322787E-1f;
static const float LOG_P5 = -1.6668057665E-1f;
static const float LOG_P6 = 2.0000714765E-1f;
static const float LOG_P7 = -2.4999993993E-1f;
static const float LOG_P8 = 3.3333331174E-1f;
static const float LOG_Q1 = -2.12194440e-4f;
static const float LOG_Q2 = 0.693359375f;

/* Cephes sinf/cosf: 4/pi, pi/4 split in three (negated), and the two
 * polynomials. */
static const float TRIG_FOPI = 1.27323954473516f;
static const float TRIG_MINUS_DP1 = -0.78515625f;
static const float TRIG_MINUS_DP2 = -2.4187564849853515625e-4f;
static const float TRIG_MINUS_DP3 = -3.77489497744594108e-8f;
static const float SIN_P0 = -1.9515295891E-4f;
static const float SIN_P1 = 8.3321608736E-3f;
static const float SIN_P2 = -1.6666654611E-1f;
static const float COS_P0 = 2.443315711809948E-005f;
static const float COS_P1 = -1.388731625493765E-003f;
static const float COS_P2 = 4.166664568298827E-002f;

/* SLEEF expf: log2(e), ln 2 split in two (EXP_L2U exact in its top bits,
 * EXP_L2L the rest), the polynomial for (exp(s) - 1 - s) / s^2, and the
 * limits beyond which the result is forced to +0 and +inf. */
static const float EXP_R_LN2 = 1.442695040888963407359924681001892137f;
static const float EXP_L2U = 0.693145751953125f;
static const float EXP_L2L = 1.428606765330187045e-06f;
static const float EXP_P0 = 0.000198527617612853646278381f;
static const float EXP_P1 = 0.00139304355252534151077271f;
static const float EXP_P2 = 0.00833336077630519866943359f;
static const float EXP_P3 = 0.0416664853692054748535156f;
static const float EXP_P4 = 0.166666671633720397949219f;
static const float EXP_P5 = 0.5f;
static const float EXP_ZERO_BELOW = -104.0f;
static const float EXP_INF_ABOVE = 100.0f;

/* The bits of 1.0f: adding k << 23 to them gives the bits of 2^k. */
#define ONE_BITS 0x3f800000u

/* The bits of a float. */
static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* The float with the given bits. */
static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A float converted to int32 by truncation, as the bits cvttps2dq gives:
 * out of range or NaN gives the "integer indefinite" 0x80000000. */
static uint32_t truncate_to_int32_bits(float f)
{
    if (f >= -2147483648.0f && f < 2147483648.0f)
        return (uint32_t)(int32_t)f;
    return SIGN_BIT;
}

/* A float rounded to int32 (to nearest, ties to even, in the default
 * rounding mode), as the bits cvtps2dq gives: out of range or NaN gives
 * the "integer indefinite" 0x80000000. */
static uint32_t round_to_int32_bits(float f)
{
    if (f >= -2147483648.0f && f < 2147483648.0f)
        return (uint32_t)(int32_t)rintf(f);
    return SIGN_BIT;
}

/* The bits of an int32 converted to float (round to nearest), as
 * cvtdq2ps does. */
static float int32_bits_to_float(uint32_t u)
{
    int32_t i;
    memcpy(&i, &u, sizeof i);
    return (float)i;
}

float torchmath_logf(float x)
{
    /* pass 1: note x <= 0 (false for NaN), then clamp to the smallest normal
     * the way maxps does: NaN and anything not above FLT_MIN become it */
    bool invalid = x <= 0.0f;
    float min_normal = float_of(MIN_NORMAL_BITS);
    float v = x > min_normal ? x : min_normal;

    /* pass 2: split v into exponent e and mantissa m in [0.5, 1) */
    uint32_t bits = bits_of(v);
    uint32_t biased = (bits >> 23) - 0x7fu; /* v > 0, so at most 255 - 127 */
    float e = int32_bits_to_float(biased);
    e = e + 1.0f;
    float m = float_of((bits & ~EXPONENT_BITS) | HALF_BITS);

    /* pass 3: if m < sqrt(1/2), take e - 1 and 2m - 1, else e and m - 1
     * (both sides computed, one selected by a mask as in the vector code) */
    bool below = m < LOG_SQRTHF;
    float m_if_below = below ? m : 0.0f;
    m = m - 1.0f;
    e = e - (below ? 1.0f : 0.0f);
    m = m + m_if_below;

    /* pass 4: the Cephes polynomial, Horner steps fused as torch's binary
     * fuses them */
    float z = m * m;
    float y = LOG_P0;
    y = fmaf(y, m, LOG_P1);
    y = fmaf(y, m, LOG_P2);
    y = fmaf(y, m, LOG_P3);
    y = fmaf(y, m, LOG_P4);
    y = fmaf(y, m, LOG_P5);
    y = fmaf(y, m, LOG_P6);
    y = fmaf(y, m, LOG_P7);
    y = fmaf(y, m, LOG_P8);
    y = y * m;
    y = fmaf(y, z, e * LOG_Q1);
    y = fmaf(-z, 0.5f, y);

    /* pass 5: add it up: m + y + e*ln2 */
    float result = m + y;
    result = fmaf(e, LOG_Q2, result);

    /* pass 6: x <= 0 gives a NaN with every bit set (the vector code ORs
     * the all-ones compare mask into the result) */
    if (invalid)
        result = float_of(ALL_BITS);
    return result;
}

void torchmath_sincosf(float x, float *sin_out, float *cos_out)
{
    /* pass 1: |x| and the sign of x (sin is odd, cos even) */
    uint32_t x_bits = bits_of(x);
    uint32_t sign_sin = x_bits & SIGN_BIT;
    float ax = float_of(x_bits & ~SIGN_BIT);

    /* pass 2: the octant j = (trunc(|x| * 4/pi) + 1) & ~1, always even */
    uint32_t j = truncate_to_int32_bits(ax * TRIG_FOPI);
    j = (j + 1u) & ~1u;
    float jf = int32_bits_to_float(j);

    /* pass 3: signs and polynomial choice from j. Bit 2 flips sin; bit 2 of
     * j - 2, inverted, is cos's sign; bit 1 clear means sin uses the sine
     * polynomial (and cos the cosine one), set means they swap */
    sign_sin ^= (j & 4u) << 29;
    uint32_t sign_cos = (~(j - 2u) & 4u) << 29;
    bool sine_poly_for_sin = (j & 2u) == 0;

    /* pass 4: reduce, r = |x| - j*pi/4 with pi/4 in three parts */
    float r = fmaf(jf, TRIG_MINUS_DP1, ax);
    r = fmaf(jf, TRIG_MINUS_DP2, r);
    r = fmaf(jf, TRIG_MINUS_DP3, r);
    float z = r * r;

    /* pass 5: the cosine polynomial, 1 - z/2 + z^2 * P(z) */
    float c = fmaf(COS_P0, z, COS_P1);
    c = fmaf(c, z, COS_P2);
    c = c * z;
    c = fmaf(c, z, -(z * 0.5f));
    c = c + 1.0f;

    /* pass 6: the sine polynomial, r + r * z * Q(z) */
    float s = fmaf(SIN_P0, z, SIN_P1);
    s = fmaf(s, z, SIN_P2);
    s = s * z;
    s = fmaf(s, r, r);

    /* pass 7: select as the vector code does, masking one polynomial to +0
     * for each output and adding */
    float sin_from_s = sine_poly_for_sin ? s : 0.0f;
    float sin_from_c = sine_poly_for_sin ? 0.0f : c;
    float cos_from_s = s - sin_from_s;
    float cos_from_c = c - sin_from_c;
    float sin_value = sin_from_c + sin_from_s;
    float cos_value = cos_from_c + cos_from_s;

    /* pass 8: apply the signs */
    *sin_out = float_of(bits_of(sin_value) ^ sign_sin);
    *cos_out = float_of(bits_of(cos_value) ^ sign_cos);
}

/* 2^k for the int32 k held in the bits k_bits, made by putting k + 127 in
 * the exponent field (k_bits << 23 plus the bits of 1.0f, wrapping as the
 * vector integer add does). Meaningful for k in [-126, 127]. */
static float power_of_two(uint32_t k_bits)
{
    return float_of((k_bits << 23) + ONE_BITS);
}

float torchmath_expf(float x)
{
    /* pass 1: q = rint(x * log2(e)), the product rounded to float first
     * (not fused), then converted as cvtps2dq does */
    uint32_t q = round_to_int32_bits(x * EXP_R_LN2);
    float qf = int32_bits_to_float(q);

    /* pass 2: s = x - q ln 2, ln 2 in two parts, both steps fused */
    float s = fmaf(qf, -EXP_L2U, x);
    s = fmaf(qf, -EXP_L2L, s);

    /* pass 3: the polynomial, every Horner step fused, then
     * exp(s) = 1 + (s + s^2 * u), the square and the + 1 not fused */
    float u = EXP_P0;
    u = fmaf(u, s, EXP_P1);
    u = fmaf(u, s, EXP_P2);
    u = fmaf(u, s, EXP_P3);
    u = fmaf(u, s, EXP_P4);
    u = fmaf(u, s, EXP_P5);
    u = fmaf(s * s, u, s);
    u = u + 1.0f;

    /* pass 4: times 2^q, as two multiplications by 2^(q >> 1) and
     * 2^(q - (q >> 1)) (q >> 1 an arithmetic shift), each factor a normal
     * float for every q the limits let through: q = 128 (x up to 88.72283)
     * still gives a finite result, larger q overflow to +inf, and q down to
     * -150 give a subnormal rounded once, in the second multiplication */
    uint32_t half_q = (q >> 1) | (q & SIGN_BIT);
    u = u * power_of_two(half_q);
    u = u * power_of_two(q - half_q);

    /* pass 5: the limits, masks as in the vector code: below -104 the bits
     * are cleared (+0, also for -inf), above 100 the result is +inf; a NaN
     * fails both compares and stays the NaN the arithmetic carried along */
    if (x < EXP_ZERO_BELOW)
        u = 0.0f;
    if (EXP_INF_ABOVE < x)
        u = float_of(EXPONENT_BITS);
    return u;
}

/* ------------------------------------------------------------------------
 * exp over an array, eight lanes at a time
 *
 * The same operations as torchmath_expf, in the same order, on eight floats
 * at once with AVX2 and FMA: cvtps2dq for the rounding, the two fused
 * Cody-Waite steps, the fused Horner steps, the unfused square and + 1, the
 * two power-of-two multiplications and the two limit masks. Every lane is
 * bit-identical to torchmath_expf (tests/check_torchmath.c compares them).
 * ---------------------------------------------------------------------- */

#if TORCHMATH_X86
__attribute__((target("avx2,fma"))) static void expf_shifted_avx2(float *out, const float *in, float shift, size_t n)
{
    const __m256 shift8 = _mm256_set1_ps(shift);
    const __m256 r_ln2 = _mm256_set1_ps(EXP_R_LN2);
    const __m256 minus_l2u = _mm256_set1_ps(-EXP_L2U), minus_l2l = _mm256_set1_ps(-EXP_L2L);
    const __m256 p0 = _mm256_set1_ps(EXP_P0), p1 = _mm256_set1_ps(EXP_P1), p2 = _mm256_set1_ps(EXP_P2);
    const __m256 p3 = _mm256_set1_ps(EXP_P3), p4 = _mm256_set1_ps(EXP_P4), p5 = _mm256_set1_ps(EXP_P5);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 zero_below = _mm256_set1_ps(EXP_ZERO_BELOW), inf_above = _mm256_set1_ps(EXP_INF_ABOVE);
    const __m256 inf = _mm256_set1_ps(INFINITY);
    const __m256i one_bits = _mm256_set1_epi32((int)ONE_BITS);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_sub_ps(_mm256_loadu_ps(in + i), shift8);
        __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(x, r_ln2));
        __m256 qf = _mm256_cvtepi32_ps(q);
        __m256 s = _mm256_fmadd_ps(qf, minus_l2u, x);
        s = _mm256_fmadd_ps(qf, minus_l2l, s);
        __m256 u = _mm256_fmadd_ps(p0, s, p1);
        u = _mm256_fmadd_ps(u, s, p2);
        u = _mm256_fmadd_ps(u, s, p3);
        u = _mm256_fmadd_ps(u, s, p4);
        u = _mm256_fmadd_ps(u, s, p5);
        u = _mm256_fmadd_ps(_mm256_mul_ps(s, s), u, s);
        u = _mm256_add_ps(u, one);
        __m256i half_q = _mm256_srai_epi32(q, 1);
        __m256i rest_q = _mm256_sub_epi32(q, half_q);
        u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(half_q, 23), one_bits)));
        u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(rest_q, 23), one_bits)));
        u = _mm256_andnot_ps(_mm256_cmp_ps(x, zero_below, _CMP_LT_OQ), u);
        u = _mm256_blendv_ps(u, inf, _mm256_cmp_ps(inf_above, x, _CMP_LT_OQ));
        _mm256_storeu_ps(out + i, u);
    }
    for (; i < n; i++)
        out[i] = torchmath_expf(in[i] - shift);
}
#endif

/* Set by torchmath_force_portable (tests only, and only while no other
 * thread runs a kernel: it is a plain bool, read without a lock). */
static bool portable_forced = false;

void torchmath_force_portable(bool on)
{
    portable_forced = on;
}

#if TORCHMATH_X86
/* Whether the CPU has AVX2 and FMA: a process-wide cache that kernel
 * threads read. It is filled once, by the first caller, under
 * pthread_once, so two threads that ask at the same time never race on
 * it (and __builtin_cpu_init runs once); every later read sees it filled. */
static pthread_once_t cpu_features_once = PTHREAD_ONCE_INIT;
static bool cpu_has_avx2_fma;

static void cpu_features_detect(void)
{
    __builtin_cpu_init();
    cpu_has_avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

bool torchmath_have_avx2(void)
{
#if TORCHMATH_X86
    pthread_once(&cpu_features_once, cpu_features_detect);
    return cpu_has_avx2_fma && !portable_forced;
#else
    return false;
#endif
}

void torchmath_expf_shifted(float *out, const float *in, float shift, size_t n)
{
#if TORCHMATH_X86
    if (torchmath_have_avx2()) {
        expf_shifted_avx2(out, in, shift, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = torchmath_expf(in[i] - shift);
}

void torchmath_expf_array(float *out, const float *in, size_t n)
{
    torchmath_expf_shifted(out, in, 0.0f, n); /* x - 0 is x, -0 and NaN included */
}
