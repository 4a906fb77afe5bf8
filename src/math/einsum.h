/*
 * einsum.h - Einstein summation over single-letter indices.
 *
 * An equation such as 'sd,hde->hse' names each operand's dimensions with a
 * letter and the output's after '->'. Letters on the output side are free:
 * they index the result. Letters only on the input side are summed over.
 * Every letter must have one size wherever it appears.
 *
 * einsum_parse reads the text only; einsum_bind checks it against actual
 * operands and fixes each letter's size; einsum_eval computes the result;
 * einsum_terms lists the products summed into one output element (what the
 * cell inspector shows).
 */
#ifndef ATTN_EINSUM_H
#define ATTN_EINSUM_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "attn_limits.h"
#include "tensor.h"

typedef struct EinsumSpec {
    int n_operands;                                    /* 1..EINSUM_MAX_OPERANDS */
    int rank[EINSUM_MAX_OPERANDS];                     /* letters per operand */
    char labels[EINSUM_MAX_OPERANDS][TENSOR_MAX_DIMS]; /* operand letters, in order */
    int out_rank;                                      /* letters of the output */
    char out_labels[TENSOR_MAX_DIMS];                  /* output letters, in order */
    int n_letters;                                     /* distinct letters */
    char letters[EINSUM_MAX_LETTERS];                  /* distinct letters, first-seen order */
    bool summed[EINSUM_MAX_LETTERS];                   /* letters[i] is not in the output */
    size_t size[EINSUM_MAX_LETTERS];                   /* letter sizes, set by einsum_bind */
    bool bound;                                        /* sizes are set */
} EinsumSpec;

/* Parses equation into spec. Accepts letters a-z and A-Z, operands split by
 * ',', an explicit '->', and spaces anywhere. Rejects: a missing '->', an
 * empty operand, a letter repeated within one operand or in the output, an
 * output letter that no operand has, a non-letter, more than
 * EINSUM_MAX_OPERANDS operands or TENSOR_MAX_DIMS letters per operand.
 * Errors carry STATUS_DATAERR and the 1-based column of the fault:
 * "einsum 'ij,jk->ik': column 4: ...". */
bool einsum_parse(const char *equation, EinsumSpec *spec, Error *err);

/* Checks n operands against spec: the count matches, each operand's rank
 * matches its letters, and each letter has one size. The error names the
 * letter and both sizes ("letter 'd' is 16 in operand 1 but 8 in operand
 * 2"). On success fills spec->size and sets spec->bound. */
bool einsum_bind(EinsumSpec *spec, const Tensor *const *operands, int n, Error *err);

/* Evaluates a bound spec. Returns a new tensor whose shape is the output
 * letters' sizes (a scalar when the output is empty), or NULL. Products
 * are taken left to right and summed in float, over the summed letters in
 * row-major order of spec->letters (first-seen order, the last fastest),
 * as PyTorch's float matrix products do. */
Tensor *einsum_eval(const EinsumSpec *spec, const Tensor *const *operands, int n, Error *err);

/* Parses, binds and evaluates in one call. */
Tensor *einsum(const char *equation, const Tensor *const *operands, int n, Error *err);

/* The result of einsum_eval computed by the fast kernels (kernels.h) when
 * the equation is a matrix product with an optional batch letter:
 * two operands, one summed letter k, and output letters (b,) m, n, where m
 * is only in the first operand, n only in the second and b in the output
 * and either operand ('sd,hde->hse', 'hse,hek->hsk', 'hij,hjk->hik').
 * Its sums agree with einsum_eval's within the fast kernels' tolerance.
 * Any other equation goes to einsum_eval. threads: as kernels_gemm. */
Tensor *einsum_eval_fast(const EinsumSpec *spec, const Tensor *const *operands, int n, int threads, Error *err);

/* einsum() with einsum_eval_fast. */
Tensor *einsum_fast(const char *equation, const Tensor *const *operands, int n, int threads, Error *err);

/* einsum_eval_fast on the exact kernels (kernels_gemm_exact): the same
 * equations take the vectorized path, and the result is einsum_eval's,
 * bit for bit. */
Tensor *einsum_eval_exact(const EinsumSpec *spec, const Tensor *const *operands, int n, int threads, Error *err);

/* einsum() with einsum_eval_exact. */
Tensor *einsum_exact(const char *equation, const Tensor *const *operands, int n, int threads, Error *err);

/* One product summed into an output element. */
typedef struct EinsumTerm {
    size_t summed_index
        [EINSUM_MAX_LETTERS]; /* value of each summed letter, in spec->letters order (free letters' slots unused) */
    size_t offset[EINSUM_MAX_OPERANDS]; /* offset into each operand's data */
    float factor[EINSUM_MAX_OPERANDS];  /* each operand's value */
    float product;                      /* product of the factors, left to right, in float */
} EinsumTerm;

/* Number of products summed into each output element: the product of the
 * summed letters' sizes (1 when nothing is summed). spec must be bound. */
size_t einsum_term_count(const EinsumSpec *spec);

/* Fills terms (room for max_terms; NULL allowed) with the products for the
 * output element at out_index (out_rank entries), in the order einsum_eval
 * sums them. Returns the number written (at most max_terms); *sum (NULL
 * allowed) gets the sum over all terms, even those not written, equal bit
 * for bit to what einsum_eval stores. An unbound spec or an index outside
 * the output gives 0 terms and a sum of 0. */
size_t einsum_terms(const EinsumSpec *spec, const Tensor *const *operands, const size_t *out_index, EinsumTerm *terms,
                    size_t max_terms, float *sum);

#endif
