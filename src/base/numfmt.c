/*
 * numfmt.c - PyTorch-style number formatting (see numfmt.h).
 */
#include "numfmt.h"

#include "floatfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

NumFormat numfmt_choose(const float *values, size_t n, int precision)
{
    NumFormat fmt = {NUM_INTEGER, precision, 1};
    if (fmt.precision < 0)
        fmt.precision = 0;
    if (fmt.precision > NUMFMT_MAX_PRECISION)
        fmt.precision = NUMFMT_MAX_PRECISION;

    /* pass 1: are all finite values whole, and what range do the
     * non-zero finite magnitudes cover? */
    bool all_whole = true;
    double min_abs = INFINITY, max_abs = 0.0;
    for (size_t i = 0; i < n; i++) {
        float v = values[i];
        if (!isfinite(v))
            continue;
        if (v != floorf(v) || fabsf(v) >= 1e15f)
            all_whole = false;
        double a = fabs((double)v);
        if (a > 0.0) {
            if (a < min_abs)
                min_abs = a;
            if (a > max_abs)
                max_abs = a;
        }
    }
    /* pass 2: the notation, by PyTorch's rule: a wide span or a huge value
     * needs scientific notation, whole numbers or not; tiny values too,
     * unless every value is whole */
    bool wide = max_abs > 0.0 && (max_abs / min_abs > 1000.0 || max_abs > 1e8);
    if (wide || (!all_whole && max_abs > 0.0 && min_abs < 1e-4))
        fmt.notation = NUM_SCIENTIFIC;
    else if (all_whole)
        fmt.notation = NUM_INTEGER;
    else
        fmt.notation = NUM_FIXED;
    /* pass 3: the widest value. A number's text is longest for the largest
     * magnitude of its sign (rounding can only add a digit there), so only
     * the extremes and any non-finite values need writing out. */
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
    const float candidates[] = {most_positive, most_negative, values[0]};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && n > 0; i++) {
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
