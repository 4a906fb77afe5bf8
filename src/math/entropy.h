/*
 * entropy.h - how spread out a row of probabilities is.
 *
 * The entropy of a distribution p over n outcomes, H(p) = -Σ p_i log2 p_i,
 * in bits: 0 when one outcome takes all the weight, log2 n when every
 * outcome gets 1/n. The tracer writes it beside each row of attention
 * weights (a softmax output), so "the unscaled softmax is sharper" reads
 * as a number. Computed in double from the float32 weights.
 */
#ifndef ATTN_ENTROPY_H
#define ATTN_ENTROPY_H

#include <stddef.h>

/* The entropy in bits of p[0..n) (each p_i >= 0, summing to about 1).
 * A zero weight adds nothing (0 log 0 is taken as 0); a negative or
 * non-finite weight, which no softmax makes, is skipped the same way.
 * Returns 0 for n == 0. */
double entropy_bits(const float *p, size_t n);

/* The largest entropy n outcomes can have, log2 n (0 for n <= 1): the
 * entropy of the uniform distribution, which gives every outcome 1/n. */
double entropy_max_bits(size_t n);

#endif
