/*
 * numfmt.h - writing tensor values the way PyTorch prints them.
 *
 * PyTorch picks one notation per tensor: whole numbers when every value is
 * one; scientific ("7.9161e-05") when the non-zero magnitudes span more than
 * a factor of 1000, exceed 1e8 or fall below 1e-4; fixed ("0.5839")
 * otherwise, with 4 decimals. Values are right-aligned to the widest one so
 * columns line up, signs included. The text printer and the UI share this.
 */
#ifndef ATTN_NUMFMT_H
#define ATTN_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "attn_limits.h"

/* Default digits after the point, as torch.set_printoptions(precision=4). */
#define NUMFMT_DEFAULT_PRECISION 4
/* NUMFMT_MAX_PRECISION and NUMFMT_BUF are in attn_limits.h. */

typedef enum NumNotation {
    NUM_INTEGER,    /* "2" */
    NUM_FIXED,      /* "-0.6136" */
    NUM_SCIENTIFIC, /* "7.9161e-05" */
    NUM_PROBABILITY /* a weight in [0, 1]: "0.584", "<0.001", ">0.999" (the tracer's screen) */
} NumNotation;

typedef struct NumFormat {
    NumNotation notation;
    int precision; /* digits after the point (fixed) or in the mantissa (scientific) */
    int width;     /* width of the widest value, for right alignment */
} NumFormat;

/* Chooses the notation and width for n values (n may be 0). precision is
 * clamped to 0..NUMFMT_MAX_PRECISION. */
NumFormat numfmt_choose(const float *values, size_t n, int precision);

/* Whole-number notation whatever the values' range, for tensors that hold
 * integers by nature (token ids), as PyTorch prints an int64 tensor. */
NumFormat numfmt_choose_integer(const float *values, size_t n);

/* Digits after the point of an attention weight or probability on screen. */
#define NUMFMT_PROBABILITY_DIGITS 3

/* Magnitude from which numfmt_choose_fixed keeps scientific notation. */
#define NUMFMT_FIXED_LIMIT 1e6f

/* The tracer's screen chooses by what a tensor is, never by one outlier:
 * numfmt_choose_fixed is numfmt_choose except that a tensor whose finite
 * values all stay below NUMFMT_FIXED_LIMIT in magnitude is written in
 * fixed notation even when some are tiny (they read as 0.0000 or
 * -0.0000); numfmt_choose_probability writes every value with
 * NUMFMT_PROBABILITY_DIGITS decimals, for softmax outputs. Both size the
 * width to the widest value. */
NumFormat numfmt_choose_fixed(const float *values, size_t n, int precision);
NumFormat numfmt_choose_probability(const float *values, size_t n);

/* The same choices, with the largest finite magnitude among the n values
 * (0 when there is none) written to *max_abs (when not NULL), found in the
 * same pass over them: one read of the tensor instead of two. */
NumFormat numfmt_choose_fixed_max(const float *values, size_t n, int precision, float *max_abs);
NumFormat numfmt_choose_probability_max(const float *values, size_t n, float *max_abs);

/* Writes value in fmt's notation, unpadded, into buf (NUMFMT_BUF bytes).
 * Infinities are "inf"/"-inf" and NaN "nan". Returns the length. */
int numfmt_write(const NumFormat *fmt, float value, char *buf);

/* As numfmt_write, right-aligned to fmt->width. */
int numfmt_write_padded(const NumFormat *fmt, float value, char *buf);

/* Writes value with the fewest digits that read back as the same float32
 * (up to 9 significant; floatfmt_shortest, in %g's layout), for JSON and
 * the cell inspector. Infinities and NaN as for numfmt_write. */
int numfmt_write_exact(float value, char *buf);

/* Writes a size in bytes for people, in powers of 1024: "512 bytes",
 * "16.9 KiB", "1.5 GiB". buf is always NUL-terminated. */
void numfmt_bytes(unsigned long long bytes, char *buf, size_t size);

#endif
