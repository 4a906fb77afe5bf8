/*
 * check_floatfmt.c - floatfmt_shortest against libc: every text it writes
 * must read back (strtof) as the same float32, with no more digits than
 * needed, in printf's %g layout.
 *
 * Which values: not all 2^32 (strtof alone would take minutes on two
 * cores; tests/floatfmt_all.sh runs that sweep by hand), but a dense
 * sample: every 1021st bit pattern over the whole range (4.2 million, both
 * signs, subnormals, NaNs and infinities included), every float of a
 * stretch of [1, 2) and of the subnormals, each power of two with its two
 * neighbours, each power of ten as a float with its neighbours, and a
 * table of edge cases with their exact expected text (±0, FLT_TRUE_MIN,
 * FLT_MIN, FLT_MAX, inf, nan, the switches between fixed and scientific).
 *
 * The independent reference for the digits is glibc's correctly rounded
 * printf: the former formatter (%.6g, %.7g, ... until strtof reads it
 * back) must give the same bytes, except where its first form that reads
 * back was not a shortest one; there the new text must have fewer digits.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floatfmt.h"
#include "numfmt.h"
#include "suites.h"

/* The float32 with these bits. */
static float from_bits(uint32_t bits)
{
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* The formatter floatfmt_shortest replaced: printf's %g with 6, 7, 8, 9
 * significant digits, the first that strtof reads back. */
static void printf_form(float value, char *buf, size_t size)
{
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, (double)value);
        if (strtof(buf, NULL) == value)
            return;
    }
}

/* Significant digits of a decimal text ("0.00123" has 3, "1.5e-05" 2). */
static int significant_digits(const char *text)
{
    int n = 0, pending_zeros = 0;
    bool started = false;
    for (const char *p = text; *p != '\0' && *p != 'e'; p++) {
        if (*p < '0' || *p > '9')
            continue;
        if (*p == '0' && !started)
            continue;
        started = true;
        if (*p == '0') {
            pending_zeros++; /* zeros count only when a digit follows */
        } else {
            n += pending_zeros + 1;
            pending_zeros = 0;
        }
    }
    return n;
}

/* How many texts were shorter than the printf form (the tests print it). */
static size_t differ_from_printf;

/* Checks one bit pattern: the text reads back as the same bits (NaN as
 * "nan"), fits FLOATFMT_BUF, and matches the printf form or is shorter.
 * With compare false only the read-back is checked. */
static void check_bits(uint32_t bits, bool compare)
{
    float v = from_bits(bits);
    char text[FLOATFMT_BUF + 8];
    memset(text, 'x', sizeof text);
    int len = floatfmt_shortest(v, text);
    /* (if + ck_abort_msg: ck_assert_msg would report every passing check
     * to the forked runner, a system call per value) */
    if (!(len > 0 && len < FLOATFMT_BUF && text[len] == '\0' && strlen(text) == (size_t)len))
        ck_abort_msg("%08x: length %d", (unsigned)bits, len);
    if (isnan(v)) {
        if (strcmp(text, "nan") != 0)
            ck_abort_msg("%08x: NaN written as %s", (unsigned)bits, text);
        return;
    }
    float back = strtof(text, NULL);
    if (memcmp(&back, &v, sizeof v) != 0)
        ck_abort_msg("%08x (%a): \"%s\" reads back as %a", (unsigned)bits, (double)v, text, (double)back);
    if (!compare || isinf(v))
        return;
    char old[64];
    printf_form(v, old, sizeof old);
    if (strcmp(old, text) != 0 && significant_digits(text) >= significant_digits(old))
        ck_abort_msg("%08x: \"%s\", printf gives \"%s\" with no more digits", (unsigned)bits, text, old);
    differ_from_printf += strcmp(old, text) != 0;
}

START_TEST(test_edge_cases_exact_text)
{
    static const struct {
        uint32_t bits;
        const char *text;
    } cases[] = {
        {0x00000000u, "0"},
        {0x80000000u, "-0"},
        {0x3f800000u, "1"},
        {0xbf800000u, "-1"},
        {0x3dcccccdu, "0.1"},   /* 0.1f */
        {0x3e99999au, "0.3"},   /* 0.3f */
        {0x00000001u, "1e-45"}, /* FLT_TRUE_MIN */
        {0x80000001u, "-1e-45"},
        {0x007fffffu, "1.1754942e-38"}, /* the largest subnormal */
        {0x00800000u, "1.1754944e-38"}, /* FLT_MIN */
        {0x7f7fffffu, "3.4028235e+38"}, /* FLT_MAX */
        {0xff7fffffu, "-3.4028235e+38"},
        {0x7f800000u, "inf"},
        {0xff800000u, "-inf"},
        {0x7fc00000u, "nan"},
        {0xffc00001u, "nan"},
        {0x38d1b717u, "0.0001"}, /* 1e-4f: the last fixed one */
        {0x3727c5acu, "1e-05"},  /* 1e-5f: scientific */
        {0x3f000000u, "0.5"},
        {0x47c35000u, "100000"}, /* 1e5f */
        {0x48742400u, "250000"},
        {0x49742400u, "1e+06"},    /* 1e6f: exponent 6 >= P = 6, scientific as %g */
        {0x4b189680u, "1e+07"},    /* 1e7f */
        {0x4996b438u, "1234567"},  /* seven digits: P = 7, fixed */
        {0x4b800000u, "16777216"}, /* 2^24 */
        {0x4cbebc20u, "1e+08"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[FLOATFMT_BUF];
        floatfmt_shortest(from_bits(cases[i].bits), text);
        ck_assert_msg(strcmp(text, cases[i].text) == 0, "%08x: \"%s\", expected \"%s\"", (unsigned)cases[i].bits, text,
                      cases[i].text);
    }
    /* values given as float literals: their shortest text is the literal */
    static const struct {
        float value;
        const char *text;
    } literals[] = {
        {0.5839f, "0.5839"},        {7.9161e-05f, "7.9161e-05"}, {-0.6136f, "-0.6136"},   {11.1806f, "11.1806"},
        {3.14159274f, "3.1415927"}, {123456.7f, "123456.7"},     {1.5e-10f, "1.5e-10"},   {2.5e+20f, "2.5e+20"},
        {0.000123f, "0.000123"},    {-4.5e-6f, "-4.5e-06"},      {9999999.0f, "9999999"}, {1.0e-40f, "1e-40"},
    };
    for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
        char text[FLOATFMT_BUF];
        floatfmt_shortest(literals[i].value, text);
        ck_assert_msg(strcmp(text, literals[i].text) == 0, "%a: \"%s\", expected \"%s\"", (double)literals[i].value,
                      text, literals[i].text);
    }
}
END_TEST

START_TEST(test_dense_sample_reads_back)
{
    size_t checked = 0;
    /* the whole range, both signs, every 1021st pattern (odd stride: every
     * low-bit pattern of the mantissa comes up) */
    for (uint64_t b = 0; b <= UINT32_MAX; b += 1021, checked++)
        check_bits((uint32_t)b, b % (1021u * 8u) == 0);
    /* all of a stretch of [1, 2) and of the subnormals */
    for (uint32_t b = 0x3f800000u; b < 0x3f800000u + 300000u; b++, checked++)
        check_bits(b, b % 16 == 0);
    for (uint32_t b = 0; b < 200000u; b++, checked++)
        check_bits(b, b % 16 == 0);
    /* every power of two and its neighbours: the interval below it is half
     * as wide */
    for (uint32_t e = 0; e < 255; e++)
        for (uint32_t sign = 0; sign <= 1; sign++) {
            uint32_t bits = sign << 31 | e << 23;
            check_bits(bits, true);
            check_bits(bits + 1, true);
            if (e > 0)
                check_bits(bits - 1, true);
            checked += 3;
        }
    /* every power of ten that a float can approach, and its neighbours */
    for (int k = -45; k <= 38; k++) {
        char literal[16];
        snprintf(literal, sizeof literal, "1e%d", k);
        float v = strtof(literal, NULL);
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        for (uint32_t d = 0; d < 5; d++, checked++)
            if (bits + d >= 2 && bits + d < 0x7f800000u)
                check_bits(bits + d - 2, true);
    }
    ck_assert_uint_gt(checked, 4500000);
    printf("floatfmt: %zu bit patterns read back; %zu texts shorter than printf's first form that reads back\n",
           checked, differ_from_printf);
}
END_TEST

/* numfmt_choose as it was written before its single vectorized scan:
 * two plain passes, in double. The reference for the test below. */
static NumFormat choose_two_passes(const float *values, size_t n, int precision)
{
    NumFormat fmt = {NUM_INTEGER, precision, 1};
    bool all_whole = true;
    double min_abs = INFINITY, max_abs = 0.0;
    for (size_t i = 0; i < n; i++) {
        float v = values[i];
        if (!isfinite(v))
            continue;
        if (v != floorf(v) || fabsf(v) >= 1e15f)
            all_whole = false;
        double a = fabs((double)v);
        if (a > 0.0 && a < min_abs)
            min_abs = a;
        if (a > 0.0 && a > max_abs)
            max_abs = a;
    }
    bool wide = max_abs > 0.0 && (max_abs / min_abs > 1000.0 || max_abs > 1e8);
    if (wide || (!all_whole && max_abs > 0.0 && min_abs < 1e-4))
        fmt.notation = NUM_SCIENTIFIC;
    else if (all_whole)
        fmt.notation = NUM_INTEGER;
    else
        fmt.notation = NUM_FIXED;
    float most_positive = 0.0f, most_negative = 0.0f;
    bool has_inf = false, has_neg_inf = false, has_nan = false;
    for (size_t i = 0; i < n; i++) {
        float v = values[i];
        if (isnan(v))
            has_nan = true;
        else if (isinf(v) && v > 0)
            has_inf = true;
        else if (isinf(v))
            has_neg_inf = true;
        else if (v > most_positive)
            most_positive = v;
        else if (v < most_negative)
            most_negative = v;
    }
    char buf[NUMFMT_BUF];
    const float candidates[] = {most_positive, most_negative, n > 0 ? values[0] : 0.0f};
    for (size_t i = 0; i < 3 && n > 0; i++) {
        int len = numfmt_write(&fmt, candidates[i], buf);
        if (len > fmt.width)
            fmt.width = len;
    }
    if (has_neg_inf && fmt.width < 4)
        fmt.width = 4;
    if ((has_inf || has_nan) && fmt.width < 3)
        fmt.width = 3;
    return fmt;
}

/* numfmt_choose (one scan, AVX2 when the CPU has it) chooses what the two
 * plain passes choose: arrays of every length around the 8 lanes, of
 * whole numbers, fractions, tiny and huge values, -0, infinities and NaN
 * in any lane. */
START_TEST(test_numfmt_choose_one_scan)
{
    static const float kinds[] = {0.0f,       -0.0f,      1.0f,        -3.0f,    0.5f,    -0.25f,     1e-5f,  2e9f,
                                  8388607.0f, 8388608.5f, 16777216.0f, 1e15f,    9.9e14f, -1e16f,     1e-40f, INFINITY,
                                  -INFINITY,  NAN,        0.5839f,     -0.6136f, 1234.5f, 7.9161e-05f};
    const size_t n_kinds = sizeof kinds / sizeof kinds[0];
    uint32_t state = 12345u;
    float values[40];
    size_t compared = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + (size_t)round % 40;
        /* mostly one or two kinds per array, so every notation comes up */
        size_t base = (size_t)round / 40 % n_kinds;
        for (size_t i = 0; i < n; i++) {
            state = state * 1664525u + 1013904223u;
            size_t kind = (state >> 28) < 12 ? base : (state >> 8) % n_kinds;
            values[i] = kinds[kind] * ((state >> 20 & 1) ? 1.0f : 3.0f);
        }
        NumFormat got = numfmt_choose(values, n, 4), want = choose_two_passes(values, n, 4);
        if (got.notation != want.notation || got.width != want.width || got.precision != want.precision)
            ck_abort_msg("round %d (%zu values, first %a): notation %d width %d, two passes give %d width %d", round, n,
                         (double)values[0], got.notation, got.width, want.notation, want.width);
        compared++;
    }
    ck_assert_uint_eq(compared, 20000);
}
END_TEST

/* The width of the widest of n values in fmt's notation, each written
 * out, and of 0 (the choosers size a column for 0 too, when the only
 * values are NaN or infinite): the brute-force reference for the
 * choosers below. */
static int width_of_all(NumFormat fmt, const float *values, size_t n)
{
    char buf[NUMFMT_BUF];
    int width = numfmt_write(&fmt, 0.0f, buf);
    for (size_t i = 0; i < n; i++) {
        int len = numfmt_write(&fmt, values[i], buf);
        width = len > width ? len : width;
    }
    return width;
}

/* The largest finite |value| of values[0..n), in plain C (0 when none). */
static float max_abs_plain(const float *values, size_t n)
{
    float max_abs = 0.0f;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i]) && fabsf(values[i]) > max_abs)
            max_abs = fabsf(values[i]);
    return max_abs;
}

/* numfmt_choose_fixed_max and numfmt_choose_probability_max (one pass
 * each, the cut-off search four doubles at a time with AVX2) against
 * plain references: the two-pass choice, every value written out, and a
 * scalar loop for the largest magnitude; weights near 0, 0.0005, 0.9995
 * and 1 in any lane of arrays of every length around the vectors. */
START_TEST(test_choose_max_one_pass)
{
    static const float kinds[] = {0.0f, 0.0004999f, 0.0005f, 0.00051f, 0.9994f, 0.9995f, 0.99951f,
                                  1.0f, 0.5839f,    0.25f,   -0.5f,    1.5f,    NAN,     INFINITY,
                                  2e6f, 1e-5f,      -3e-6f,  123.25f,  0.1f,    0.7f};
    const size_t n_kinds = sizeof kinds / sizeof kinds[0];
    uint32_t state = 777u;
    float values[40];
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + (size_t)round % 40;
        size_t base = (size_t)round / 40 % 8 + 8; /* mostly ordinary weights, so a cut-off one is rare */
        for (size_t i = 0; i < n; i++) {
            state = state * 1664525u + 1013904223u;
            values[i] = kinds[(state >> 28) < 14 ? base : (state >> 8) % n_kinds];
        }
        float got_max = -1.0f, want_max = max_abs_plain(values, n);
        NumFormat p = numfmt_choose_probability_max(values, n, &got_max);
        NumFormat want_p = {NUM_PROBABILITY, NUMFMT_PROBABILITY_DIGITS, 1};
        want_p.width = width_of_all(want_p, values, n);
        ck_assert_msg(p.notation == NUM_PROBABILITY && p.width == want_p.width,
                      "round %d (%zu values): probability width %d, every value written out: %d", round, n, p.width,
                      want_p.width);
        ck_assert_msg(got_max == want_max, "round %d: max_abs %g, the loop %g", round, got_max, want_max);
        NumFormat f = numfmt_choose_fixed_max(values, n, 4, &got_max), want_f = choose_two_passes(values, n, 4);
        if (want_f.notation == NUM_SCIENTIFIC && !(want_max >= NUMFMT_FIXED_LIMIT)) {
            want_f.notation = NUM_FIXED;
            want_f.width = width_of_all(want_f, values, n);
        }
        ck_assert_msg(f.notation == want_f.notation && f.width == want_f.width,
                      "round %d (%zu values): fixed notation %d width %d, want %d width %d", round, n, f.notation,
                      f.width, want_f.notation, want_f.width);
        ck_assert_msg(got_max == want_max, "round %d: fixed max_abs %g, the loop %g", round, got_max, want_max);
    }
}
END_TEST

Suite *floatfmt_suite(void)
{
    Suite *s = suite_create("floatfmt");
    TCase *tc = tcase_create("shortest");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_edge_cases_exact_text);
    tcase_add_test(tc, test_dense_sample_reads_back);
    tcase_add_test(tc, test_numfmt_choose_one_scan);
    tcase_add_test(tc, test_choose_max_one_pass);
    suite_add_tcase(s, tc);
    return s;
}
