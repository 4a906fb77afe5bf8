/*
 * einsum.c - Einstein summation over single-letter indices (see einsum.h).
 *
 * Three stages, one function each: einsum_parse reads the equation text
 * into an EinsumSpec, einsum_bind fixes every letter's size from the actual
 * operands, and einsum_eval runs the reference loop:
 *
 *     for every output element (row-major over the output letters)
 *         sum = 0 (a float)
 *         for every combination of the summed letters (row-major)
 *             sum += operand_1[...] * operand_2[...] * ...
 *         element = sum
 *
 * Products and sums are in float, in that order, because that is what
 * PyTorch's matrix products (reference BLAS and its own small-bmm loop) do:
 * the trace then matches PyTorch bit for bit, not just closely. The build
 * turns off FMA contraction (-ffp-contract=off) so each step rounds.
 *
 * einsum_terms runs the inner loop for one element and lists its products.
 * Both go through the same function, sum_products, so the cell inspector
 * shows exactly the products einsum_eval added, in the same order, and
 * arrives at the same float, bit for bit.
 */
#include "einsum.h"

#include "kernels.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Longest part of a user's equation quoted back in a parse error; longer
 * text is cut and ends in "...". */
#define EQUATION_QUOTE_MAX 80

/* Room for an equation rebuilt from a spec: every operand's letters and its
 * ',' or '->', the output letters and the NUL. */
#define EQUATION_TEXT_BYTES (EINSUM_MAX_OPERANDS * (TENSOR_MAX_DIMS + 2) + TENSOR_MAX_DIMS + 1)

/* Room for a tensor shape written as "[a, b, c, d]". */
#define SHAPE_TEXT_BYTES (TENSOR_MAX_DIMS * 24 + 4)

/* Room for one character described in a message: "'*'" or "byte 0x09". */
#define CHAR_TEXT_BYTES 16

/* ---------------------------------------------------------------------
 * Small helpers shared by every stage.
 * ------------------------------------------------------------------- */

/* True for the characters an index may be: a-z and A-Z (not locale-dependent). */
static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The position of letter in spec->letters, or -1 when the spec has not seen it. */
static int letter_slot(const EinsumSpec *spec, char letter)
{
    for (int i = 0; i < spec->n_letters; i++)
        if (spec->letters[i] == letter)
            return i;
    return -1;
}

/* True when letter is among the first count characters of labels. */
static bool labels_have(const char *labels, int count, char letter)
{
    for (int i = 0; i < count; i++)
        if (labels[i] == letter)
            return true;
    return false;
}

/* "s" when count is not 1, so messages read "1 letter" but "2 letters". */
static const char *plural(long count)
{
    return count == 1 ? "" : "s";
}

/* Writes the equation a parsed spec stands for, without spaces
 * ("sd,hde->hse"), into text (EQUATION_TEXT_BYTES). Returns text. */
static char *spec_text(const EinsumSpec *spec, char *text)
{
    size_t used = 0;
    for (int k = 0; k < spec->n_operands && k < EINSUM_MAX_OPERANDS; k++) {
        if (k > 0)
            text[used++] = ',';
        for (int d = 0; d < spec->rank[k] && d < TENSOR_MAX_DIMS; d++)
            text[used++] = spec->labels[k][d];
    }
    text[used++] = '-';
    text[used++] = '>';
    for (int d = 0; d < spec->out_rank && d < TENSOR_MAX_DIMS; d++)
        text[used++] = spec->out_labels[d];
    text[used] = '\0';
    return text;
}

/* ---------------------------------------------------------------------
 * Parsing: equation text -> EinsumSpec.
 * ------------------------------------------------------------------- */

/* Copies equation into quote (EQUATION_QUOTE_MAX + 4 bytes) for an error
 * message: bytes that are not printable ASCII become '?', so the message
 * stays one line and columns still line up, and long text is cut with "...". */
static void quote_equation(const char *equation, char *quote)
{
    size_t i = 0;
    for (; equation[i] != '\0' && i < EQUATION_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)equation[i];
        quote[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (equation[i] != '\0') {
        memcpy(quote + i, "...", 3);
        i += 3;
    }
    quote[i] = '\0';
}

/* Describes one character of an equation for a message: "'*'" when it is
 * printable ASCII, otherwise "byte 0x09". Writes into text
 * (CHAR_TEXT_BYTES). Returns text. */
static const char *describe_char(char c, char *text)
{
    unsigned char byte = (unsigned char)c;
    if (byte >= 0x20 && byte < 0x7f)
        snprintf(text, CHAR_TEXT_BYTES, "'%c'", c);
    else
        snprintf(text, CHAR_TEXT_BYTES, "byte 0x%02X", (unsigned)byte);
    return text;
}

#if defined(__GNUC__)
static bool parse_error(Error *err, const char *equation, size_t column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif

/* Records a parse error as "einsum '<equation>': column <column>: <what is
 * wrong>" with STATUS_DATAERR. column is 1-based. Returns false. */
static bool parse_error(Error *err, const char *equation, size_t column, const char *fmt, ...)
{
    char quote[EQUATION_QUOTE_MAX + 4];
    char what[ERROR_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    quote_equation(equation, quote);
    return error_set(err, STATUS_DATAERR, "einsum '%s': column %zu: %s", quote, column, what);
}

/* Adds letter, read at column, to operand k (0-based) of spec: it must be
 * new to that operand, the operand must have room, and a letter new to the
 * whole equation must fit in EINSUM_MAX_LETTERS. */
static bool add_operand_letter(EinsumSpec *spec, int k, char letter, const char *equation, size_t column, Error *err)
{
    if (labels_have(spec->labels[k], spec->rank[k], letter))
        return parse_error(err, equation, column,
                           "letter '%c' appears twice in operand %d (diagonals such as 'ii->i' "
                           "are not supported)",
                           letter, k + 1);
    if (spec->rank[k] == TENSOR_MAX_DIMS)
        return parse_error(err, equation, column, "operand %d has more than %d letters (TENSOR_MAX_DIMS)", k + 1,
                           TENSOR_MAX_DIMS);
    if (letter_slot(spec, letter) < 0) {
        if (spec->n_letters == EINSUM_MAX_LETTERS)
            return parse_error(err, equation, column,
                               "letter '%c' would be distinct letter %d, more than %d "
                               "(EINSUM_MAX_LETTERS)",
                               letter, EINSUM_MAX_LETTERS + 1, EINSUM_MAX_LETTERS);
        spec->letters[spec->n_letters++] = letter;
    }
    spec->labels[k][spec->rank[k]++] = letter;
    return true;
}

/* Adds letter, read at column, to the output of spec: it must be new to the
 * output, come from some operand, and the output must have room. */
static bool add_output_letter(EinsumSpec *spec, char letter, const char *equation, size_t column, Error *err)
{
    if (labels_have(spec->out_labels, spec->out_rank, letter))
        return parse_error(err, equation, column,
                           "letter '%c' appears twice in the output (each output letter names "
                           "one dimension of the result)",
                           letter);
    if (letter_slot(spec, letter) < 0)
        return parse_error(err, equation, column,
                           "output letter '%c' is in no operand (every output letter must "
                           "index some input)",
                           letter);
    if (spec->out_rank == TENSOR_MAX_DIMS)
        return parse_error(err, equation, column, "the output has more than %d letters (TENSOR_MAX_DIMS)",
                           TENSOR_MAX_DIMS);
    spec->out_labels[spec->out_rank++] = letter;
    return true;
}

/* Reads equation into spec, one column at a time (grammar in einsum.h). */
bool einsum_parse(const char *equation, EinsumSpec *spec, Error *err)
{
    memset(spec, 0, sizeof *spec);
    if (equation == NULL)
        return error_set(err, STATUS_DATAERR, "einsum: no equation given (NULL)");

    /* Pass 1: read the text left to right, one character (column) at a time. */
    bool in_output = false;     /* past the '->' */
    bool seen_anything = false; /* read a character other than a space */
    int k = 0;                  /* the operand being read, 0-based, while !in_output */
    spec->n_operands = 1;
    size_t column = 1;
    for (const char *p = equation; *p != '\0'; p++, column++) {
        char c = *p;
        char shown[CHAR_TEXT_BYTES];
        if (c == ' ')
            continue;
        seen_anything = true;
        if (is_letter(c)) {
            bool added = in_output ? add_output_letter(spec, c, equation, column, err)
                                   : add_operand_letter(spec, k, c, equation, column, err);
            if (!added)
                return false;
        } else if (c == ',') {
            if (in_output)
                return parse_error(err, equation, column,
                                   "',' after '->' (the output is one list of letters; "
                                   "operands go before '->')");
            if (spec->rank[k] == 0)
                return parse_error(err, equation, column,
                                   "operand %d is empty (each operand needs at least one letter)", k + 1);
            if (spec->n_operands == EINSUM_MAX_OPERANDS)
                return parse_error(err, equation, column, "more than %d operands (EINSUM_MAX_OPERANDS)",
                                   EINSUM_MAX_OPERANDS);
            k = spec->n_operands++;
        } else if (c == '-' && p[1] == '>') {
            if (in_output)
                return parse_error(err, equation, column, "a second '->' (an equation has exactly one)");
            if (spec->rank[k] == 0)
                return parse_error(err, equation, column,
                                   "operand %d is empty (each operand needs at least one letter)", k + 1);
            in_output = true;
            p++; /* the '>' */
            column++;
        } else if (c == '-') {
            return parse_error(err, equation, column, "'-' without '>' right after it (the arrow is '->')");
        } else if (c == '>') {
            return parse_error(err, equation, column, "'>' without '-' right before it (the arrow is '->')");
        } else {
            return parse_error(err, equation, column, "%s is not a letter (indices are single letters a-z or A-Z)",
                               describe_char(c, shown));
        }
    }

    /* Pass 2: the text ended; it must have had its '->'. column is now one
     * past the last character. */
    if (!seen_anything)
        return parse_error(err, equation, 1, "the equation is empty (write one such as 'ij,jk->ik')");
    if (!in_output && spec->rank[k] == 0)
        return parse_error(err, equation, column, "operand %d is empty (each operand needs at least one letter)",
                           k + 1);
    if (!in_output)
        return parse_error(err, equation, column,
                           "missing '->' (attn-trace needs an explicit output, e.g. 'ij,jk->ik')");

    /* Pass 3: a letter the output does not name is summed over. */
    for (int i = 0; i < spec->n_letters; i++)
        spec->summed[i] = !labels_have(spec->out_labels, spec->out_rank, spec->letters[i]);
    return true;
}

/* ---------------------------------------------------------------------
 * Binding: operands -> every letter's size.
 * ------------------------------------------------------------------- */

/* Checks operands against spec and fixes every letter's size; spec->size
 * and spec->bound change only on success. */
bool einsum_bind(EinsumSpec *spec, const Tensor *const *operands, int n, Error *err)
{
    char text[EQUATION_TEXT_BYTES];
    spec_text(spec, text);
    spec->bound = false;

    /* Pass 1: one operand per list of letters. */
    if (n != spec->n_operands)
        return error_set(err, STATUS_DATAERR, "einsum '%s': expects %d operand%s, got %d", text, spec->n_operands,
                         plural(spec->n_operands), n);

    /* Pass 2: each operand's rank matches its letters, and each letter has
     * one size: the first operand that has it fixes it, the rest must agree. */
    size_t size[EINSUM_MAX_LETTERS] = {0};
    int fixed_by[EINSUM_MAX_LETTERS]; /* operand (0-based) that fixed size[l] */
    for (int l = 0; l < EINSUM_MAX_LETTERS; l++)
        fixed_by[l] = -1;
    for (int k = 0; k < n; k++) {
        const Tensor *operand = operands != NULL ? operands[k] : NULL;
        if (operand == NULL)
            return error_set(err, STATUS_DATAERR, "einsum '%s': operand %d is missing (NULL)", text, k + 1);
        if (operand->ndim != spec->rank[k]) {
            char shape[SHAPE_TEXT_BYTES];
            return error_set(err, STATUS_DATAERR,
                             "einsum '%s': operand %d has %d letter%s '%.*s' but the tensor has "
                             "%d dimension%s %s",
                             text, k + 1, spec->rank[k], plural(spec->rank[k]), spec->rank[k], spec->labels[k],
                             operand->ndim, plural(operand->ndim), tensor_shape_str(operand, shape, sizeof shape));
        }
        for (int d = 0; d < spec->rank[k]; d++) {
            char letter = spec->labels[k][d];
            int l = letter_slot(spec, letter);
            size_t dim = operand->shape[d];
            if (dim == 0)
                return error_set(err, STATUS_DATAERR,
                                 "einsum '%s': letter '%c' is 0 in operand %d (an empty "
                                 "dimension)",
                                 text, letter, k + 1);
            if (fixed_by[l] < 0) {
                size[l] = dim;
                fixed_by[l] = k;
            } else if (size[l] != dim) {
                return error_set(err, STATUS_DATAERR,
                                 "einsum '%s': letter '%c' is %zu in operand %d but %zu in "
                                 "operand %d",
                                 text, letter, size[l], fixed_by[l] + 1, dim, k + 1);
            }
        }
    }

    /* Pass 3: einsum_eval computes one product per combination of all the
     * letters, so the product of every letter's size must fit in size_t.
     * (It also bounds the output's size and the term count.) */
    size_t combinations = 1;
    for (int l = 0; l < spec->n_letters; l++) {
        if (size[l] > SIZE_MAX / combinations)
            return error_set(err, STATUS_DATAERR,
                             "einsum '%s': too large: the letter sizes multiply past SIZE_MAX "
                             "(%zu) at letter '%c' (size %zu)",
                             text, (size_t)SIZE_MAX, spec->letters[l], size[l]);
        combinations *= size[l];
    }

    memcpy(spec->size, size, sizeof spec->size);
    spec->bound = true;
    return true;
}

/* ---------------------------------------------------------------------
 * Evaluation: the reference loop.
 * ------------------------------------------------------------------- */

/* How the loop walks a bound spec: which letters it walks in which order,
 * and where each operand's letters sit in its data. */
typedef struct EinsumPlan {
    int n_free;                                             /* output letters (spec->out_rank) */
    int free_slot[TENSOR_MAX_DIMS];                         /* slot of each output letter, output order */
    int n_summed;                                           /* letters summed over */
    int summed_slot[EINSUM_MAX_LETTERS];                    /* their slots, in spec->letters order */
    size_t n_terms;                                         /* products per output element */
    int operand_slot[EINSUM_MAX_OPERANDS][TENSOR_MAX_DIMS]; /* slot of operand k's letter d */
    size_t stride[EINSUM_MAX_OPERANDS][TENSOR_MAX_DIMS];    /* row-major stride of operand k's dim d */
} EinsumPlan;

/* Fills plan for a bound spec. */
static void plan_make(const EinsumSpec *spec, EinsumPlan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->n_free = spec->out_rank;
    for (int i = 0; i < spec->out_rank; i++)
        plan->free_slot[i] = letter_slot(spec, spec->out_labels[i]);
    plan->n_terms = 1;
    for (int l = 0; l < spec->n_letters; l++) {
        if (spec->summed[l]) {
            plan->summed_slot[plan->n_summed++] = l;
            plan->n_terms *= spec->size[l];
        }
    }
    for (int k = 0; k < spec->n_operands; k++) {
        size_t stride = 1; /* the last dimension is contiguous */
        for (int d = spec->rank[k] - 1; d >= 0; d--) {
            int l = letter_slot(spec, spec->labels[k][d]);
            plan->operand_slot[k][d] = l;
            plan->stride[k][d] = stride;
            stride *= spec->size[l];
        }
    }
}

/* Turns flat, a row-major position over the letters slots[0..n_slots)
 * (the last one fastest), into each letter's value: value[slots[i]]. */
static void unravel(size_t flat, const int *slots, int n_slots, const size_t *size, size_t *value)
{
    for (int i = n_slots - 1; i >= 0; i--) {
        value[slots[i]] = flat % size[slots[i]];
        flat /= size[slots[i]];
    }
}

/* Offset into operand k's data of the element the letter values select:
 * sum over its dimensions d of value[letter d] * stride[d]. */
static size_t operand_offset(const EinsumPlan *plan, const EinsumSpec *spec, int k, const size_t *value)
{
    size_t offset = 0;
    for (int d = 0; d < spec->rank[k]; d++)
        offset += value[plan->operand_slot[k][d]] * plan->stride[k][d];
    return offset;
}

/* The float sum of the products for one output element, added in order.
 * value holds the output letters' values on entry; the summed letters' slots
 * are overwritten. The first max_terms products are written to terms. */
static float sum_products(const EinsumSpec *spec, const EinsumPlan *plan, const Tensor *const *operands, size_t *value,
                          EinsumTerm *terms, size_t max_terms)
{
    float sum = 0.0f;
    for (size_t t = 0; t < plan->n_terms; t++) {
        /* Pass 1: the summed letters' values for term t. */
        unravel(t, plan->summed_slot, plan->n_summed, spec->size, value);

        /* Pass 2: one value from each operand, multiplied left to right. */
        size_t offset[EINSUM_MAX_OPERANDS] = {0};
        float factor[EINSUM_MAX_OPERANDS] = {0};
        float product = 0.0f;
        for (int k = 0; k < spec->n_operands; k++) {
            offset[k] = operand_offset(plan, spec, k, value);
            factor[k] = operands[k]->data[offset[k]];
            product = k == 0 ? factor[k] : product * factor[k];
        }

        /* Pass 3: add it to the sum, and record it for the inspector. */
        sum += product;
        if (t < max_terms) {
            EinsumTerm *term = &terms[t];
            memset(term, 0, sizeof *term);
            for (int i = 0; i < plan->n_summed; i++)
                term->summed_index[plan->summed_slot[i]] = value[plan->summed_slot[i]];
            memcpy(term->offset, offset, sizeof term->offset);
            memcpy(term->factor, factor, sizeof term->factor);
            term->product = product;
        }
    }
    return sum;
}

/* True when operands are the ones spec was bound to (or the same shapes):
 * binding a copy of spec to them must succeed with the same sizes. */
static bool operands_fit(const EinsumSpec *spec, const Tensor *const *operands, int n, Error *err)
{
    EinsumSpec check = *spec;
    if (!einsum_bind(&check, operands, n, err))
        return false;
    for (int l = 0; l < spec->n_letters; l++) {
        if (check.size[l] != spec->size[l]) {
            char text[EQUATION_TEXT_BYTES];
            return error_set(err, STATUS_DATAERR,
                             "einsum '%s': letter '%c' was bound as %zu but is %zu in these "
                             "operands",
                             spec_text(spec, text), spec->letters[l], spec->size[l], check.size[l]);
        }
    }
    return true;
}

/* Runs the reference loop over operands (checked again against the sizes
 * spec was bound with). Returns a new tensor (tensor_free) or NULL. */
Tensor *einsum_eval(const EinsumSpec *spec, const Tensor *const *operands, int n, Error *err)
{
    if (!spec->bound) {
        char text[EQUATION_TEXT_BYTES];
        error_set(err, STATUS_FAILURE, "einsum '%s': evaluated before einsum_bind fixed its letter sizes",
                  spec_text(spec, text));
        return NULL;
    }
    if (!operands_fit(spec, operands, n, err))
        return NULL;

    /* Pass 1: the result, one dimension per output letter (a scalar when
     * there are none). */
    EinsumPlan plan;
    plan_make(spec, &plan);
    size_t out_shape[TENSOR_MAX_DIMS];
    for (int i = 0; i < plan.n_free; i++)
        out_shape[i] = spec->size[plan.free_slot[i]];
    Tensor *out = tensor_new(plan.n_free, out_shape, err);
    if (out == NULL)
        return NULL;

    /* Pass 2: every output element, in row-major order: fix the output
     * letters, sum the products over the summed letters, round once. */
    size_t value[EINSUM_MAX_LETTERS] = {0};
    for (size_t i = 0; i < out->size; i++) {
        unravel(i, plan.free_slot, plan.n_free, spec->size, value);
        out->data[i] = sum_products(spec, &plan, operands, value, NULL, 0);
    }
    return out;
}

/* Parses, binds and evaluates; returns a new tensor (tensor_free) or NULL. */
Tensor *einsum(const char *equation, const Tensor *const *operands, int n, Error *err)
{
    EinsumSpec spec;
    if (!einsum_parse(equation, &spec, err) || !einsum_bind(&spec, operands, n, err))
        return NULL;
    return einsum_eval(&spec, operands, n, err);
}

/* ---------------------------------------------------------------------
 * The fast path: equations that are (batched) matrix products.
 * ------------------------------------------------------------------- */

/* The stride, in floats, of letter in operand k (0 when k lacks it), or
 * -1 when k has it twice (a diagonal, which the fast path leaves alone). */
static long letter_stride(const EinsumSpec *spec, const Tensor *const *operands, int k, char letter)
{
    long stride = 0;
    int seen = 0;
    for (int p = 0; p < spec->rank[k]; p++)
        if (spec->labels[k][p] == letter) {
            size_t step = 1;
            for (int q = p + 1; q < spec->rank[k]; q++)
                step *= operands[k]->shape[q];
            stride = (long)step;
            seen++;
        }
    return seen > 1 ? -1 : stride;
}

/* Fills the views when the bound two-operand spec is out[b][m][n] =
 * sum_k A[..m..k..] B[..k..n..] (b optional and possibly in one operand
 * only); false when it is any other shape of equation. */
static bool as_matrix_product(const EinsumSpec *spec, const Tensor *const *operands, MatrixView *a, MatrixView *b,
                              size_t size[4])
{
    if (spec->n_operands != 2 || spec->out_rank < 2 || spec->out_rank > 3)
        return false;
    char batch = spec->out_rank == 3 ? spec->out_labels[0] : 0;
    char m = spec->out_labels[spec->out_rank - 2], n = spec->out_labels[spec->out_rank - 1];
    char k = 0;
    for (int i = 0; i < spec->n_letters; i++)
        if (spec->summed[i]) {
            if (k != 0)
                return false; /* more than one summed letter */
            k = spec->letters[i];
        }
    if (k == 0)
        return false;
    for (int op = 0; op < 2; op++)
        for (int p = 0; p < spec->rank[op]; p++) {
            char l = spec->labels[op][p];
            if (l != k && l != batch && l != (op == 0 ? m : n))
                return false; /* m in B, n in A, or a letter of another role */
        }
    long s[2][4]; /* per operand: batch, m or n, k */
    for (int op = 0; op < 2; op++) {
        s[op][0] = batch ? letter_stride(spec, operands, op, batch) : 0;
        s[op][1] = letter_stride(spec, operands, op, op == 0 ? m : n);
        s[op][2] = letter_stride(spec, operands, op, k);
        if (s[op][0] < 0 || s[op][1] <= 0 || s[op][2] <= 0)
            return false;
    }
    *a = (MatrixView){operands[0]->data, (size_t)s[0][1], (size_t)s[0][2], (size_t)s[0][0]};
    *b = (MatrixView){operands[1]->data, (size_t)s[1][2], (size_t)s[1][1], (size_t)s[1][0]};
    size[0] = batch ? spec->size[letter_slot(spec, batch)] : 1;
    size[1] = spec->size[letter_slot(spec, m)];
    size[2] = spec->size[letter_slot(spec, k)];
    size[3] = spec->size[letter_slot(spec, n)];
    return true;
}

/* einsum_eval_fast and einsum_eval_exact: a matrix-product equation on
 * the fused (exact false) or the exact kernels, any other on einsum_eval. */
static Tensor *eval_kernels(const EinsumSpec *spec, const Tensor *const *operands, int n, int threads, bool exact,
                            Error *err)
{
    MatrixView a, b;
    size_t size[4];
    if (!spec->bound || !operands_fit(spec, operands, n, err) || !as_matrix_product(spec, operands, &a, &b, size))
        return einsum_eval(spec, operands, n, err);
    size_t out_shape[3] = {size[0], size[1], size[3]};
    Tensor *out = spec->out_rank == 3 ? tensor_new(3, out_shape, err) : tensor_new(2, out_shape + 1, err);
    if (out == NULL)
        return NULL;
    bool done = exact ? kernels_gemm_exact(out->data, a, b, size[0], size[1], size[2], size[3], threads, err)
                      : kernels_gemm(out->data, a, b, size[0], size[1], size[2], size[3], threads, err);
    if (!done) {
        tensor_free(out);
        return NULL;
    }
    return out;
}

Tensor *einsum_eval_fast(const EinsumSpec *spec, const Tensor *const *operands, int n, int threads, Error *err)
{
    return eval_kernels(spec, operands, n, threads, false, err);
}

Tensor *einsum_eval_exact(const EinsumSpec *spec, const Tensor *const *operands, int n, int threads, Error *err)
{
    return eval_kernels(spec, operands, n, threads, true, err);
}

Tensor *einsum_fast(const char *equation, const Tensor *const *operands, int n, int threads, Error *err)
{
    EinsumSpec spec;
    if (!einsum_parse(equation, &spec, err) || !einsum_bind(&spec, operands, n, err))
        return NULL;
    return einsum_eval_fast(&spec, operands, n, threads, err);
}

Tensor *einsum_exact(const char *equation, const Tensor *const *operands, int n, int threads, Error *err)
{
    EinsumSpec spec;
    if (!einsum_parse(equation, &spec, err) || !einsum_bind(&spec, operands, n, err))
        return NULL;
    return einsum_eval_exact(&spec, operands, n, threads, err);
}

/* ---------------------------------------------------------------------
 * The cell inspector's view: the products of one output element.
 * ------------------------------------------------------------------- */

/* The number of products per output element; 0 for an unbound spec. */
size_t einsum_term_count(const EinsumSpec *spec)
{
    if (!spec->bound)
        return 0;
    size_t count = 1;
    for (int l = 0; l < spec->n_letters; l++)
        if (spec->summed[l])
            count *= spec->size[l];
    return count;
}

/* Lists the products of the output element at out_index through the same
 * loop einsum_eval runs. An unbound spec or an out_index outside the output
 * gives 0 terms and a sum of 0; terms may be NULL (nothing is written), and
 * so may sum. */
size_t einsum_terms(const EinsumSpec *spec, const Tensor *const *operands, const size_t *out_index, EinsumTerm *terms,
                    size_t max_terms, float *sum)
{
    if (sum != NULL)
        *sum = 0.0f;
    if (!spec->bound)
        return 0;
    EinsumPlan plan;
    plan_make(spec, &plan);

    /* Pass 1: the output letters take their values from out_index. */
    size_t value[EINSUM_MAX_LETTERS] = {0};
    for (int i = 0; i < plan.n_free; i++) {
        size_t limit = spec->size[plan.free_slot[i]];
        if (out_index[i] >= limit)
            return 0;
        value[plan.free_slot[i]] = out_index[i];
    }

    /* Pass 2: the very loop einsum_eval runs, rounded the same way. */
    if (terms == NULL)
        max_terms = 0;
    float total = sum_products(spec, &plan, operands, value, terms, max_terms);
    if (sum != NULL)
        *sum = total;
    return max_terms < plan.n_terms ? max_terms : plan.n_terms;
}
