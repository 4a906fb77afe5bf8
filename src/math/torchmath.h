/*
 * torchmath.h - float log, sin and cos exactly as PyTorch's CPU normal_
 * computes them on an AVX2 machine, and float exp exactly as its vectorized
 * exp (torch.exp, F.softmax) does.
 *
 * torch's normal_fill_16_AVX2 (Box-Muller over blocks of 16 floats) does not
 * call libm: it uses log256_ps and sincos256_ps from avx_mathfun.h, Cephes
 * polynomial approximations in single precision. Each AVX lane is plain IEEE
 * float arithmetic, so one lane can be reproduced bit for bit in scalar C;
 * these functions do that (see torchmath.c for the details and credits).
 *
 * torch's Vectorized<float>::exp() (behind torch.exp and F.softmax on CPU
 * float tensors) is not libm's expf either: it is SLEEF's Sleef_expf8_u10,
 * which on an AVX2 machine runs Sleef_expf8_u10avx2. torchmath_expf is one
 * lane of that.
 *
 * torchmath.c must be compiled with -ffp-contract=off: the fused
 * multiply-adds it needs are written out with fmaf(), and any other
 * multiply-add the compiler fused by itself would change the last bits.
 */
#ifndef ATTN_TORCHMATH_H
#define ATTN_TORCHMATH_H

#include <stdbool.h>
#include <stddef.h>

/* float log(x) exactly as torch's AVX2 log256_ps computes it, one lane.
 * Meant for x in (0, 1]; for the rest it does what the vector code does:
 * x <= 0 (either zero) gives a NaN (all bits set), a NaN or a positive
 * subnormal gives log(FLT_MIN) = -87.33655f, +inf gives 88.72284f. */
float torchmath_logf(float x);

/* sin and cos exactly as torch's AVX2 sincos256_ps computes them, one lane.
 * Accurate while |x| < 8192; inf and NaN give NaN in both. */
void torchmath_sincosf(float x, float *sin_out, float *cos_out);

/* expf exactly as PyTorch's vectorized exp (Sleef_expf8_u10 on AVX2)
 * computes it, one lane: torch.exp and F.softmax on CPU float tensors.
 * Within 1 ulp of exp(x) (SLEEF's u10 bound). The edges: 88.72283f is the
 * largest x with a finite result, above it (and +inf) gives +inf; results
 * below FLT_MIN are subnormal, -103.97208f is the smallest x with a nonzero
 * result, below it (and -inf) gives +0; either zero gives 1; a NaN comes out
 * as the same NaN, quieted. */
float torchmath_expf(float x);

/* out[i] = torchmath_expf(in[i]) for i < n (out == in allowed): eight lanes
 * at a time with AVX2 and FMA when the CPU has them, bit-identical to the
 * scalar function. */
void torchmath_expf_array(float *out, const float *in, size_t n);

/* out[i] = torchmath_expf(in[i] - shift) for i < n (out == in allowed),
 * the subtraction rounded to float first: softmax's shifted exponentials,
 * eight lanes at a time as torchmath_expf_array. */
void torchmath_expf_shifted(float *out, const float *in, float shift, size_t n);

/* True when this CPU has AVX2 and FMA (x86-64 built with GCC or clang)
 * and the portable paths are not forced. Every AVX2 path of the program
 * (exp, softmax, the fast kernels, the random draws) asks this. */
bool torchmath_have_avx2(void);

/* For tests: with on, torchmath_have_avx2 answers false, so the portable
 * C paths run (and can be compared with the AVX2 ones) on any machine. */
void torchmath_force_portable(bool on);

#endif
