/*
 * nn.h - the reference kernels of a GPT-2 block beyond attention itself:
 * LayerNorm, the tanh approximation of GELU, and a matrix product with a
 * bias (torch.addmm, which GPT-2's Conv1D layers are).
 *
 * Like tensor.h, these are the plain versions a learner reads, on raw
 * float pointers with their shapes stated, and they add and multiply in the
 * order PyTorch's CPU kernels do (Debian's torch 1.13 on the reference
 * BLAS, AVX2), so that their results can be compared with PyTorch's and
 * explained term by term:
 *
 *   addmm_forward     bit for bit: the reference BLAS's sgemm starts each
 *                     output from the bias and adds the products in k order.
 *   layernorm_forward bit for bit with F.layer_norm: the mean and variance
 *                     by PyTorch's Welford-and-cascade RowwiseMoments over 8
 *                     lanes, then (x * rstd + (-rstd * mean)) * gamma + beta
 *                     as two fused multiply-adds (fmaf): GCC contracted
 *                     PyTorch's AVX2 vector code into FMAs, and only the
 *                     fused form gives its bits (checked on 20,000 values).
 *   gelu_tanh_forward bit for bit with F.gelu(approximate='tanh') on 99.86%
 *                     of inputs (1.1 million sampled), else 1 ulp of tanh
 *                     away: the same formula in the same order, x + 0.044715
 *                     x^3 fused as in PyTorch's binary, but tanh is double
 *                     tanh rounded to float where PyTorch's vector path uses
 *                     SLEEF's tanhf8_u10 (not always correctly rounded).
 *
 * Build with -ffp-contract=off (the Makefile does): every product and sum
 * is rounded on its own, as in those kernels.
 */
#ifndef ATTN_NN_H
#define ATTN_NN_H

#include <stddef.h>

/* out (M, N) = bias (N) + a (M, K) @ w (K, N): out[m][n] starts at
 * bias[n] and adds a[m][k] * w[k][n] for k = 0, 1, ..., K-1, each step
 * rounded to float (the order of the reference BLAS's sgemm with beta = 1,
 * which torch.addmm(bias, a, w) and GPT-2's Conv1D call). bias may be NULL
 * (then each sum starts at 0: a plain a @ w). out must not overlap the
 * inputs. */
void addmm_forward(float *out, const float *bias, const float *a, const float *w, size_t M, size_t K, size_t N);

/* The mean and the (biased) variance of x (N), computed as PyTorch's
 * RowwiseMoments does for float on an 8-lane CPU: Welford's update per
 * lane over chunks of 16 vectors, the chunks' moments merged in a cascade,
 * the tail (N mod 8 values) by a scalar Welford pass, then the 8 lanes
 * merged into it one by one; variance = M2 / N. N >= 1. */
void layernorm_moments(const float *x, size_t N, float *mean, float *variance);

/* LayerNorm of each row of x (rows, d) into out (rows, d) (out == x
 * allowed): rstd = 1 / sqrtf(variance + eps), shift = -rstd * mean, then
 * out[i] = fmaf(fmaf(x[i], rstd, shift), gamma[i], beta[i]),
 * as F.layer_norm(x, (d,), gamma, beta, eps) computes it. When mean_out
 * and rstd_out are not NULL they get each row's mean and rstd (rows
 * floats), for an inspector to show. */
void layernorm_forward(float *out, const float *x, const float *gamma, const float *beta, size_t rows, size_t d,
                       float eps, float *mean_out, float *rstd_out);

/* GELU's tanh approximation of each of x (n) into out (n) (out == x
 * allowed): 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))),
 * in PyTorch's order: (0.5 * x) * (1 + tanh(beta * fmaf(kappa, (x * x) * x, x))). */
void gelu_tanh_forward(float *out, const float *x, size_t n);

/* The float constants of gelu_tanh_forward: sqrt(2/pi) and 0.044715 as
 * PyTorch rounds them. */
float gelu_tanh_beta(void);
float gelu_tanh_kappa(void);

#endif
