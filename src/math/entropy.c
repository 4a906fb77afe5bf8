/*
 * entropy.c - the entropy of a row of probabilities (see entropy.h).
 */
#include "entropy.h"

#include <math.h>

double entropy_bits(const float *p, size_t n)
{
    /* one pass: each weight's share of surprise, -p log2 p, added in double */
    double h = 0.0;
    for (size_t i = 0; i < n; i++) {
        double pi = (double)p[i];
        if (pi > 0.0 && isfinite(pi))
            h -= pi * log2(pi);
    }
    return h == 0.0 ? 0.0 : h; /* no "-0" */
}

double entropy_max_bits(size_t n)
{
    return n <= 1 ? 0.0 : log2((double)n);
}
