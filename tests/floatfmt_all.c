/*
 * floatfmt_all.c - every float32 through floatfmt_shortest, by hand (too
 * slow for make check: strtof alone takes minutes for 2^32 values).
 *
 *     floatfmt_all [FIRST END STEP [COMPARE]]     (tests/floatfmt_all.sh builds it)
 *
 * For bit patterns FIRST, FIRST + STEP, ... below END (default: all
 * 2^32): the text must read back (strtof) as the same bits, NaN be "nan";
 * with COMPARE 1 it must also equal glibc's "%.Ng, N = 6..9, first that
 * reads back", or have fewer significant digits. Prints the counts; exit
 * status 1 when any pattern fails.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floatfmt.h"

/* The former formatter: %.6g ... %.9g, the first that reads back. */
static void printf_form(float value, char *buf, size_t size)
{
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, size, "%.*g", digits, (double)value);
        if (strtof(buf, NULL) == value)
            return;
    }
}

/* Significant digits of a decimal text. */
static int significant_digits(const char *text)
{
    int n = 0, zeros = 0;
    bool started = false;
    for (const char *p = text; *p != '\0' && *p != 'e'; p++) {
        if (*p < '0' || *p > '9' || (*p == '0' && !started))
            continue;
        started = true;
        if (*p == '0') {
            zeros++;
        } else {
            n += zeros + 1;
            zeros = 0;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    uint64_t first = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;
    uint64_t end = argc > 2 ? strtoull(argv[2], NULL, 0) : 1ull << 32;
    uint64_t step = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
    int compare = argc > 4 ? atoi(argv[4]) : 0;
    uint64_t checked = 0, bad = 0, shorter = 0;
    char text[FLOATFMT_BUF], old[64];
    for (uint64_t b = first; b < end; b += step, checked++) {
        uint32_t bits = (uint32_t)b;
        float v;
        memcpy(&v, &bits, sizeof v);
        int len = floatfmt_shortest(v, text);
        bool ok = len > 0 && len < FLOATFMT_BUF && strlen(text) == (size_t)len;
        if (ok && isnan(v)) {
            ok = strcmp(text, "nan") == 0;
        } else if (ok) {
            float back = strtof(text, NULL);
            ok = memcmp(&back, &v, sizeof v) == 0;
            if (ok && compare && isfinite(v)) {
                printf_form(v, old, sizeof old);
                if (strcmp(old, text) != 0) {
                    ok = significant_digits(text) < significant_digits(old);
                    shorter++;
                }
            }
        }
        if (!ok && bad++ < 10)
            fprintf(stderr, "floatfmt_all: %08x gives \"%s\"\n", (unsigned)bits, text);
    }
    printf("floatfmt_all: %llu bit patterns, %llu wrong, %llu shorter than printf's form\n",
           (unsigned long long)checked, (unsigned long long)bad, (unsigned long long)shorter);
    return bad != 0;
}
