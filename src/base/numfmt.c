/*
 * numfmt.c - PyTorch-style number formatting (see numfmt.h).
 */
#include "numfmt.h"

#include "floatfmt.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What numfmt_choose needs to know of a tensor's values, found in one
 * pass. */
typedef struct ValueScan {
    bool all_whole;         /* every finite value is a whole number below 1e15 */
    float min_abs, max_abs; /* the extremes of the non-zero finite magnitudes (inf and 0 when none) */
    float most_positive;    /* the largest finite value, or 0 */
    float most_negative;    /* the smallest finite value, or 0 */
    bool has_nan, has_inf, has_neg_inf;
} ValueScan;

/* 2^23: every float at least this large is a whole number, and below it
 * (a + 2^23) - 2^23 == a exactly when a is whole. */
#define WHOLE_FROM 8388608.0f

/* The scan of values[0..n) in plain C, without branches on the values:
 * each comparison is a 0/1 or a select. */
static void scan_portable(const float *values, size_t n, ValueScan *scan)
{
    float min_abs = INFINITY, max_abs = 0.0f, most_pos = 0.0f, most_neg = 0.0f;
    unsigned not_whole = 0, nan = 0, inf = 0, neg_inf = 0;
    for (size_t i = 0; i < n; i++) {
        float v = values[i], a = fabsf(v);
        bool finite = a <= FLT_MAX; /* false for NaN and the infinities */
        float rounded = (a + WHOLE_FROM) - WHOLE_FROM;
        bool whole = a < WHOLE_FROM ? rounded == a : a < 1e15f;
        not_whole |= finite && !whole;
        float nonzero = finite && a > 0.0f ? a : INFINITY;
        min_abs = nonzero < min_abs ? nonzero : min_abs;
        float magnitude = finite ? a : 0.0f;
        max_abs = magnitude > max_abs ? magnitude : max_abs;
        float value = finite ? v : 0.0f;
        most_pos = value > most_pos ? value : most_pos;
        most_neg = value < most_neg ? value : most_neg;
        nan |= v != v;
        inf |= v == INFINITY;
        neg_inf |= v == -INFINITY;
    }
    *scan = (ValueScan){not_whole == 0, min_abs, max_abs, most_pos, most_neg, nan != 0, inf != 0, neg_inf != 0};
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NUMFMT_X86 1

/* scan_portable eight values at a time with AVX2; the tail (n % 8) and
 * the lanes' results are combined by scan_portable's rules. Every result
 * is a minimum, maximum or flag, so the order does not change it. */
__attribute__((target("avx2"))) static void scan_avx2(const float *values, size_t n, ValueScan *scan)
{
    const __m256 sign = _mm256_set1_ps(-0.0f), flt_max = _mm256_set1_ps(FLT_MAX);
    const __m256 whole_from = _mm256_set1_ps(WHOLE_FROM), whole_to = _mm256_set1_ps(1e15f);
    const __m256 inf = _mm256_set1_ps(INFINITY), zero = _mm256_setzero_ps();
    __m256 min_abs = inf, max_abs = zero, most_pos = zero, most_neg = zero, not_whole = zero;
    __m256 nan = zero, pos_inf = zero, neg_inf = zero;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(values + i), a = _mm256_andnot_ps(sign, v);
        __m256 finite = _mm256_cmp_ps(a, flt_max, _CMP_LE_OQ);
        __m256 rounded = _mm256_sub_ps(_mm256_add_ps(a, whole_from), whole_from);
        __m256 small = _mm256_cmp_ps(a, whole_from, _CMP_LT_OQ);
        __m256 whole = _mm256_blendv_ps(_mm256_cmp_ps(a, whole_to, _CMP_LT_OQ), _mm256_cmp_ps(rounded, a, _CMP_EQ_OQ),
                                        small);
        not_whole = _mm256_or_ps(not_whole, _mm256_andnot_ps(whole, finite));
        __m256 nonzero = _mm256_and_ps(finite, _mm256_cmp_ps(a, zero, _CMP_GT_OQ));
        min_abs = _mm256_min_ps(_mm256_blendv_ps(inf, a, nonzero), min_abs);
        max_abs = _mm256_max_ps(_mm256_and_ps(a, finite), max_abs);
        __m256 value = _mm256_and_ps(v, finite);
        /* (min_ps and max_ps return their second operand unless the
         * first is strictly smaller or larger: -0 never replaces +0) */
        most_pos = _mm256_max_ps(value, most_pos);
        most_neg = _mm256_min_ps(value, most_neg);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        pos_inf = _mm256_or_ps(pos_inf, _mm256_cmp_ps(v, inf, _CMP_EQ_OQ));
        neg_inf = _mm256_or_ps(neg_inf, _mm256_cmp_ps(v, _mm256_sub_ps(zero, inf), _CMP_EQ_OQ));
    }
    scan_portable(values + i, n - i, scan);
    float lane[8][8];
    _mm256_storeu_ps(lane[0], min_abs);
    _mm256_storeu_ps(lane[1], max_abs);
    _mm256_storeu_ps(lane[2], most_pos);
    _mm256_storeu_ps(lane[3], most_neg);
    int flags_whole = _mm256_movemask_ps(not_whole), flags_nan = _mm256_movemask_ps(nan);
    int flags_inf = _mm256_movemask_ps(pos_inf), flags_neg_inf = _mm256_movemask_ps(neg_inf);
    for (int l = 0; l < 8; l++) {
        scan->min_abs = lane[0][l] < scan->min_abs ? lane[0][l] : scan->min_abs;
        scan->max_abs = lane[1][l] > scan->max_abs ? lane[1][l] : scan->max_abs;
        scan->most_positive = lane[2][l] > scan->most_positive ? lane[2][l] : scan->most_positive;
        scan->most_negative = lane[3][l] < scan->most_negative ? lane[3][l] : scan->most_negative;
    }
    scan->all_whole = scan->all_whole && flags_whole == 0;
    scan->has_nan = scan->has_nan || flags_nan != 0;
    scan->has_inf = scan->has_inf || flags_inf != 0;
    scan->has_neg_inf = scan->has_neg_inf || flags_neg_inf != 0;
}
#else
#define NUMFMT_X86 0
#endif

/* True when some value v of values[0..n) is a weight that would round to
 * 0 or 1 without being it: 0 < v < low or high <= v < 1, compared as
 * doubles. Stops at the first. */
static bool cut_off_portable(const float *values, size_t n, double low, double high)
{
    for (size_t i = 0; i < n; i++) {
        double v = (double)values[i];
        if ((v > 0.0 && v < low) || (v < 1.0 && v >= high))
            return true;
    }
    return false;
}

#if NUMFMT_X86
/* cut_off_portable four values at a time, widened to doubles as it does,
 * so the comparisons are the same (NaN compares false in both). */
__attribute__((target("avx2"))) static bool cut_off_avx2(const float *values, size_t n, double low, double high)
{
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
    const __m256d lo = _mm256_set1_pd(low), hi = _mm256_set1_pd(high);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(values + i));
        __m256d tiny = _mm256_and_pd(_mm256_cmp_pd(v, zero, _CMP_GT_OQ), _mm256_cmp_pd(v, lo, _CMP_LT_OQ));
        __m256d near_one = _mm256_and_pd(_mm256_cmp_pd(v, one, _CMP_LT_OQ), _mm256_cmp_pd(v, hi, _CMP_GE_OQ));
        if (_mm256_movemask_pd(_mm256_or_pd(tiny, near_one)) != 0)
            return true;
    }
    return cut_off_portable(values + i, n - i, low, high);
}
#endif

/* cut_off_portable, with AVX2 when the CPU has it. */
static bool has_cut_off(const float *values, size_t n, double low, double high)
{
#if NUMFMT_X86
    if (__builtin_cpu_supports("avx2"))
        return cut_off_avx2(values, n, low, high);
#endif
    return cut_off_portable(values, n, low, high);
}

/* The scan of values[0..n): AVX2 when the CPU has it. */
static void scan_values(const float *values, size_t n, ValueScan *scan)
{
#if NUMFMT_X86
    if (__builtin_cpu_supports("avx2")) {
        scan_avx2(values, n, scan);
        return;
    }
#endif
    scan_portable(values, n, scan);
}

/* The width of the widest of n values written in format's notation (at
 * least 1), from their scan. A number's text is longest for the largest
 * magnitude of its sign (rounding can only add a digit there), so only the
 * extremes and any non-finite values need writing out. */
static int widest_of(const NumFormat *format, const ValueScan *scan, const float *values, size_t n)
{
    NumFormat fmt = *format;
    fmt.width = 1;
    char buf[NUMFMT_BUF];
    const float candidates[] = {scan->most_positive, scan->most_negative, n > 0 ? values[0] : 0.0f};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && n > 0; i++) {
        int len = numfmt_write(&fmt, candidates[i], buf);
        if (len > fmt.width)
            fmt.width = len;
    }
    if (scan->has_neg_inf && fmt.width < 4)
        fmt.width = 4;
    if ((scan->has_inf || scan->has_nan) && fmt.width < 3)
        fmt.width = 3;
    return fmt.width;
}

/* numfmt_choose from a scan of the values already made. */
static NumFormat choose_from(const ValueScan *scan, const float *values, size_t n, int precision)
{
    NumFormat fmt = {NUM_INTEGER, precision, 1};
    if (fmt.precision < 0)
        fmt.precision = 0;
    if (fmt.precision > NUMFMT_MAX_PRECISION)
        fmt.precision = NUMFMT_MAX_PRECISION;
    const double min_abs = scan->min_abs, max_abs = scan->max_abs;
    /* the notation, by PyTorch's rule: a wide span or a huge value needs
     * scientific notation, whole numbers or not; tiny values too, unless
     * every value is whole */
    bool wide = max_abs > 0.0 && (max_abs / min_abs > 1000.0 || max_abs > 1e8);
    if (wide || (!scan->all_whole && max_abs > 0.0 && min_abs < 1e-4))
        fmt.notation = NUM_SCIENTIFIC;
    else if (scan->all_whole)
        fmt.notation = NUM_INTEGER;
    else
        fmt.notation = NUM_FIXED;
    /* the widest value */
    fmt.width = widest_of(&fmt, scan, values, n);
    return fmt;
}

NumFormat numfmt_choose(const float *values, size_t n, int precision)
{
    /* one pass over the values: are all finite values whole, what range do
     * the non-zero finite magnitudes cover, which are the extremes, and is
     * anything not finite? */
    ValueScan scan;
    scan_values(values, n, &scan);
    return choose_from(&scan, values, n, precision);
}

NumFormat numfmt_choose_integer(const float *values, size_t n)
{
    NumFormat fmt = {NUM_INTEGER, 0, 1};
    char buf[NUMFMT_BUF];
    for (size_t i = 0; i < n; i++) {
        int len = numfmt_write(&fmt, values[i], buf);
        if (len > fmt.width)
            fmt.width = len;
    }
    return fmt;
}

NumFormat numfmt_choose_fixed_max(const float *values, size_t n, int precision, float *max_abs)
{
    ValueScan scan;
    scan_values(values, n, &scan); /* the one pass over the values */
    if (max_abs != NULL)
        *max_abs = scan.max_abs;
    NumFormat fmt = choose_from(&scan, values, n, precision);
    /* fixed notation instead of scientific when every finite magnitude
     * stays below NUMFMT_FIXED_LIMIT: the scan's largest says so */
    if (fmt.notation != NUM_SCIENTIFIC || scan.max_abs >= NUMFMT_FIXED_LIMIT)
        return fmt;
    fmt.notation = NUM_FIXED;
    fmt.width = widest_of(&fmt, &scan, values, n);
    return fmt;
}

NumFormat numfmt_choose_fixed(const float *values, size_t n, int precision)
{
    return numfmt_choose_fixed_max(values, n, precision, NULL);
}

NumFormat numfmt_choose_probability_max(const float *values, size_t n, float *max_abs)
{
    NumFormat fmt = {NUM_PROBABILITY, NUMFMT_PROBABILITY_DIGITS, 1};
    ValueScan scan;
    scan_values(values, n, &scan);
    if (max_abs != NULL)
        *max_abs = scan.max_abs;
    fmt.width = widest_of(&fmt, &scan, values, n);
    /* "<0.001" and ">0.999" are a column wider than "0.584" */
    double unit = pow(10.0, -fmt.precision);
    if (has_cut_off(values, n, unit / 2, 1.0 - unit / 2))
        fmt.width = fmt.width > fmt.precision + 3 ? fmt.width : fmt.precision + 3;
    return fmt;
}

NumFormat numfmt_choose_probability(const float *values, size_t n)
{
    return numfmt_choose_probability_max(values, n, NULL);
}

/* A probability with `digits` decimals into buf (NUMFMT_BUF bytes): a
 * value that is not zero but would round to 0 is "<0.001", one that is
 * not 1 but would round to 1 is ">0.999", so a cut-off weight never reads
 * as exactly 0 or 1. Returns the length. */
static int write_probability(int digits, float value, char *buf)
{
    double unit = pow(10.0, -digits), v = (double)value;
    if (v > 0.0 && v < unit / 2)
        return snprintf(buf, NUMFMT_BUF, "<%.*f", digits, unit);
    if (v < 1.0 && v >= 1.0 - unit / 2)
        return snprintf(buf, NUMFMT_BUF, ">%.*f", digits, 1.0 - unit);
    return snprintf(buf, NUMFMT_BUF, "%.*f", digits, v);
}

int numfmt_write(const NumFormat *fmt, float value, char *buf)
{
    if (isnan(value))
        return snprintf(buf, NUMFMT_BUF, "nan");
    if (isinf(value))
        return snprintf(buf, NUMFMT_BUF, value < 0 ? "-inf" : "inf");
    switch (fmt->notation) {
    case NUM_INTEGER:
        return snprintf(buf, NUMFMT_BUF, "%.0f", (double)value);
    case NUM_SCIENTIFIC:
        return snprintf(buf, NUMFMT_BUF, "%.*e", fmt->precision, (double)value);
    case NUM_PROBABILITY:
        return write_probability(fmt->precision, value, buf);
    case NUM_FIXED:
        break;
    }
    /* A tiny negative value prints as "-0.0000", as in PyTorch: the sign is true. */
    return snprintf(buf, NUMFMT_BUF, "%.*f", fmt->precision, (double)value);
}

int numfmt_write_padded(const NumFormat *fmt, float value, char *buf)
{
    char raw[NUMFMT_BUF];
    numfmt_write(fmt, value, raw);
    return snprintf(buf, NUMFMT_BUF, "%*s", fmt->width, raw);
}

int numfmt_write_exact(float value, char *buf)
{
    return floatfmt_shortest(value, buf);
}

void numfmt_bytes(unsigned long long bytes, char *buf, size_t size)
{
    static const char *const UNITS[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = (double)bytes;
    int unit = 0;
    while (value >= 1024.0 && unit < 6) {
        value /= 1024.0;
        unit++;
    }
    snprintf(buf, size, unit == 0 ? "%.0f %s" : "%.1f %s", value, UNITS[unit]);
}
