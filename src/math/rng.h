/*
 * rng.h - random numbers exactly as PyTorch's CPU generator makes them.
 *
 * torch.manual_seed(seed) seeds a standard 32-bit Mersenne Twister
 * (mt19937). From it:
 *   torch.rand (float32): each value is (next 32-bit draw & 0xFFFFFF) * 2^-24,
 *     filled in row-major order.
 *   normal_ (what nn.Embedding's initialisation uses), float32:
 *     16 or more values: fill with such uniforms, then Box-Muller each block
 *       of 16 (pairs j and j+8) with PyTorch's own float log/sin/cos (see
 *       torchmath.h); when the count is not a multiple of 16, the last 16
 *       are drawn again and transformed again.
 *     fewer than 16 values: one double-precision Box-Muller per pair of
 *       values, from 53-bit uniforms; the second value of a pair is kept in
 *       the generator for the next draw.
 */
#ifndef ATTN_RNG_H
#define ATTN_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT19937_N 624

typedef struct Rng {
    uint32_t state[MT19937_N]; /* the twister's state words */
    size_t next;               /* index of the next word to temper; N means regenerate */
    bool has_cached_normal;    /* a second Box-Muller value is waiting */
    double cached_normal;      /* that value */
} Rng;

/* Seeds as torch.manual_seed(seed). PyTorch's mt19937 keeps the low 32
 * bits of the seed. */
void rng_seed(Rng *rng, uint64_t seed);

/* The next 32-bit draw of the twister. */
uint32_t rng_next_u32(Rng *rng);

/* The next 64 bits: two draws, the first as the high half. */
uint64_t rng_next_u64(Rng *rng);

/* Fills out[0..n) as torch.rand(n) does (float32 uniforms in [0, 1)). */
void rng_fill_uniform(Rng *rng, float *out, size_t n);

/* Fills out[0..n) as tensor.normal_(mean, std) does for a contiguous
 * float32 tensor of n values. */
void rng_fill_normal(Rng *rng, float *out, size_t n, double mean, double std);

#endif
