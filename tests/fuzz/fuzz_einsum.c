/*
 * fuzz_einsum.c - einsum.c: parse an equation, then bind, evaluate and
 * list the terms of one element on small operands.
 *
 * The input up to its first NUL byte (or all of it) is the equation. The
 * bytes after that NUL (or, without one, the equation's own bytes) pick
 * the sizes: every letter gets a size of 1 to 4, kept small enough that
 * the whole evaluation stays under EVAL_BUDGET products; a control byte
 * may break the operands on purpose (a wrong size, rank or count) to test
 * einsum_bind's refusals. When everything binds, the harness checks what
 * einsum.h promises: the result's shape is the output letters' sizes, and
 * einsum_terms on one element gives the same float, bit for bit, as
 * einsum_eval stored and as a plain loop written here computes.
 */
#include <stdbool.h>
#include <string.h>

#include "einsum.h"
#include "error.h"
#include "fuzz.h"
#include "tensor.h"

/* Most products (over all output elements) one input may evaluate. */
#define EVAL_BUDGET 4096

/* Room for the equation: einsum_parse stops at the first bad character,
 * but the text is copied whole so its quoting is exercised. */
#define EQUATION_MAX 4096

/* The bytes that pick sizes, read cyclically. */
typedef struct Bytes {
    const uint8_t *data;
    size_t size, at;
} Bytes;

static uint8_t next_byte(Bytes *b)
{
    if (b->size == 0)
        return 0;
    uint8_t v = b->data[b->at % b->size];
    b->at++;
    return v;
}

/* The index of letter in spec->letters. */
static int slot_of(const EinsumSpec *spec, char letter)
{
    for (int i = 0; i < spec->n_letters; i++)
        if (spec->letters[i] == letter)
            return i;
    return -1;
}

/* Checks an error message: set, one printable line. */
static void check_error(const Error *err, const char *what)
{
    FUZZ_CHECK(err->status != STATUS_OK, "%s failed without a status", what);
    FUZZ_CHECK(err->message[0] != '\0', "%s failed without a message", what);
    for (const char *c = err->message; *c != '\0'; c++)
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "%s: control byte in message '%s'", what, err->message);
}

/* The spec's invariants after a successful parse. */
static void check_spec(const EinsumSpec *spec, const char *eq)
{
    FUZZ_CHECK(spec->n_operands >= 1 && spec->n_operands <= EINSUM_MAX_OPERANDS, "'%s': %d operands", eq,
               spec->n_operands);
    FUZZ_CHECK(spec->out_rank >= 0 && spec->out_rank <= TENSOR_MAX_DIMS, "'%s': out_rank %d", eq, spec->out_rank);
    FUZZ_CHECK(spec->n_letters >= 1 && spec->n_letters <= EINSUM_MAX_LETTERS, "'%s': %d letters", eq, spec->n_letters);
    for (int k = 0; k < spec->n_operands; k++) {
        FUZZ_CHECK(spec->rank[k] >= 1 && spec->rank[k] <= TENSOR_MAX_DIMS, "'%s': operand %d rank %d", eq, k,
                   spec->rank[k]);
        for (int d = 0; d < spec->rank[k]; d++)
            FUZZ_CHECK(slot_of(spec, spec->labels[k][d]) >= 0, "'%s': operand letter not in letters", eq);
    }
    for (int d = 0; d < spec->out_rank; d++) {
        int l = slot_of(spec, spec->out_labels[d]);
        FUZZ_CHECK(l >= 0 && !spec->summed[l], "'%s': output letter %c missing or summed", eq, spec->out_labels[d]);
    }
    FUZZ_CHECK(!spec->bound, "'%s': bound after parsing", eq);
}

/* The sum einsum.h describes, written out plainly: products left to right,
 * added in float over the summed letters in row-major order of
 * spec->letters. value holds the output letters' values. */
static float reference_sum(const EinsumSpec *spec, const Tensor *const *ops, const size_t *out_value)
{
    size_t value[EINSUM_MAX_LETTERS];
    memcpy(value, out_value, sizeof value);
    int summed[EINSUM_MAX_LETTERS], n_summed = 0;
    size_t total = 1;
    for (int l = 0; l < spec->n_letters; l++)
        if (spec->summed[l]) {
            summed[n_summed++] = l;
            total *= spec->size[l];
        }
    float sum = 0.0f;
    for (size_t t = 0; t < total; t++) {
        size_t rest = t;
        for (int i = n_summed - 1; i >= 0; i--) {
            value[summed[i]] = rest % spec->size[summed[i]];
            rest /= spec->size[summed[i]];
        }
        float product = 0.0f;
        for (int k = 0; k < spec->n_operands; k++) {
            size_t index[TENSOR_MAX_DIMS];
            for (int d = 0; d < spec->rank[k]; d++)
                index[d] = value[slot_of(spec, spec->labels[k][d])];
            float f = ops[k]->data[tensor_offset(ops[k], index)];
            product = k == 0 ? f : product * f;
        }
        sum += product;
    }
    return sum;
}

/* What einsum_bind should decide, worked out plainly: the operand count
 * and ranks match and every letter has one size (into sizes). */
static bool reference_bind(const EinsumSpec *spec, const Tensor *const *ops, int n, size_t *sizes)
{
    memset(sizes, 0, EINSUM_MAX_LETTERS * sizeof *sizes);
    if (n != spec->n_operands)
        return false;
    for (int k = 0; k < n; k++) {
        if (ops[k]->ndim != spec->rank[k])
            return false;
        for (int d = 0; d < spec->rank[k]; d++) {
            int l = slot_of(spec, spec->labels[k][d]);
            if (sizes[l] == 0)
                sizes[l] = ops[k]->shape[d];
            else if (sizes[l] != ops[k]->shape[d])
                return false;
        }
    }
    return true;
}

/* Binds, evaluates and inspects spec on operands sized from b. */
static void run_spec(EinsumSpec *spec, const char *eq, Bytes *b)
{
    /* 1. a size for every letter, 1..4, within the budget */
    size_t size[EINSUM_MAX_LETTERS];
    size_t combinations = 1;
    for (int l = 0; l < spec->n_letters; l++) {
        size[l] = 1 + next_byte(b) % 4;
        while (size[l] > 1 && combinations * size[l] > EVAL_BUDGET)
            size[l]--;
        combinations *= size[l];
    }

    /* 2. how to break the operands, maybe: 0-7 fine, 8 a wrong size,
     * 9 a wrong rank, 10 one operand too few, 11 one too many */
    uint8_t control = next_byte(b) % 12;
    int n = spec->n_operands;
    if (control == 10 && n > 1)
        n--;
    if (control == 11 && n < EINSUM_MAX_OPERANDS)
        n++;
    int broken = n > 0 ? next_byte(b) % n : 0;

    Tensor *ops[EINSUM_MAX_OPERANDS + 1] = {NULL};
    Error err;
    error_clear(&err);
    for (int k = 0; k < n; k++) {
        int rank = k < spec->n_operands ? spec->rank[k] : 1 + next_byte(b) % TENSOR_MAX_DIMS;
        size_t shape[TENSOR_MAX_DIMS];
        for (int d = 0; d < rank; d++)
            shape[d] = k < spec->n_operands ? size[slot_of(spec, spec->labels[k][d])] : (size_t)(1 + next_byte(b) % 4);
        if (k == broken && control == 8)
            shape[next_byte(b) % rank] += 1;
        if (k == broken && control == 9)
            rank = rank == TENSOR_MAX_DIMS ? rank - 1 : rank + 1, shape[rank - 1] = 1;
        ops[k] = tensor_new(rank, shape, &err);
        FUZZ_CHECK(ops[k] != NULL, "tensor_new: %s", err.message);
        for (size_t i = 0; i < ops[k]->size; i++)
            ops[k]->data[i] = (float)(int8_t)next_byte(b) / 16.0f;
    }
    const Tensor *const *cops = (const Tensor *const *)ops;

    /* 3. bind */
    size_t out_index[TENSOR_MAX_DIMS] = {0};
    float sum = 1.0f;
    FUZZ_CHECK(einsum_terms(spec, cops, out_index, NULL, 0, &sum) == 0 && sum == 0.0f, "'%s': terms of unbound spec",
               eq);
    bool bound = einsum_bind(spec, cops, n, &err);
    bool should_bind = reference_bind(spec, cops, n, size);
    FUZZ_CHECK(control >= 8 || should_bind, "'%s': the harness made unfitting operands", eq);
    if (!bound) {
        check_error(&err, "einsum_bind");
        FUZZ_CHECK(!should_bind, "'%s': einsum_bind refused fitting operands: %s", eq, err.message);
        FUZZ_CHECK(!spec->bound, "'%s': bound after a refusal", eq);
        goto done;
    }
    FUZZ_CHECK(spec->bound, "'%s': not marked bound", eq);
    FUZZ_CHECK(should_bind, "'%s': einsum_bind accepted unfitting operands (control %d, operand %d)", eq, control,
               broken);
    for (int l = 0; l < spec->n_letters; l++)
        FUZZ_CHECK(spec->size[l] == size[l], "'%s': letter %c bound as %zu, operands say %zu", eq, spec->letters[l],
                   spec->size[l], size[l]);

    /* 4. evaluate */
    Tensor *out = einsum_eval(spec, cops, n, &err);
    FUZZ_CHECK(out != NULL, "'%s': einsum_eval: %s", eq, err.message);
    FUZZ_CHECK(out->ndim == spec->out_rank, "'%s': result rank %d", eq, out->ndim);
    for (int d = 0; d < spec->out_rank; d++)
        FUZZ_CHECK(out->shape[d] == size[slot_of(spec, spec->out_labels[d])], "'%s': result dim %d", eq, d);

    /* 5. one element's terms */
    size_t value[EINSUM_MAX_LETTERS] = {0};
    for (int d = 0; d < spec->out_rank; d++) {
        out_index[d] = next_byte(b) % out->shape[d];
        value[slot_of(spec, spec->out_labels[d])] = out_index[d];
    }
    size_t count = einsum_term_count(spec);
    size_t max_terms = next_byte(b) % 2 == 0 ? count : count / 2;
    EinsumTerm *terms = malloc((max_terms > 0 ? max_terms : 1) * sizeof *terms);
    FUZZ_CHECK(terms != NULL, "out of memory");
    size_t got = einsum_terms(spec, cops, out_index, terms, max_terms, &sum);
    FUZZ_CHECK(got == max_terms, "'%s': %zu terms written, room for %zu of %zu", eq, got, max_terms, count);
    float stored = out->data[tensor_offset(out, out_index)];
    float reference = reference_sum(spec, cops, value);
    FUZZ_CHECK(memcmp(&sum, &stored, sizeof sum) == 0, "'%s': terms sum %a, einsum_eval stored %a", eq, (double)sum,
               (double)stored);
    FUZZ_CHECK(memcmp(&sum, &reference, sizeof sum) == 0, "'%s': terms sum %a, plain loop %a", eq, (double)sum,
               (double)reference);
    for (size_t t = 0; t < got; t++) {
        float product = 0.0f;
        for (int k = 0; k < n; k++) {
            FUZZ_CHECK(terms[t].offset[k] < ops[k]->size, "'%s': term %zu offset past operand %d", eq, t, k);
            FUZZ_CHECK(terms[t].factor[k] == ops[k]->data[terms[t].offset[k]], "'%s': term %zu factor %d", eq, t, k);
            product = k == 0 ? terms[t].factor[k] : product * terms[t].factor[k];
        }
        FUZZ_CHECK(memcmp(&product, &terms[t].product, sizeof product) == 0, "'%s': term %zu product", eq, t);
    }
    free(terms);

    /* an index outside the output gives nothing */
    if (spec->out_rank > 0) {
        size_t outside[TENSOR_MAX_DIMS];
        memcpy(outside, out_index, sizeof outside);
        outside[spec->out_rank - 1] = out->shape[spec->out_rank - 1];
        FUZZ_CHECK(einsum_terms(spec, cops, outside, NULL, 0, &sum) == 0 && sum == 0.0f, "'%s': outside index", eq);
    }

    /* the one-call form agrees */
    Tensor *again = einsum(eq, cops, n, &err);
    FUZZ_CHECK(again != NULL, "'%s': einsum(): %s", eq, err.message);
    FUZZ_CHECK(again->size == out->size && memcmp(again->data, out->data, out->size * sizeof(float)) == 0,
               "'%s': einsum() differs from einsum_eval", eq);
    tensor_free(again);
    tensor_free(out);
done:
    for (int k = 0; k < n; k++)
        tensor_free(ops[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char eq[EQUATION_MAX + 1];
    const uint8_t *nul = memchr(data, 0, size);
    size_t len = nul != NULL ? (size_t)(nul - data) : size;
    if (len > EQUATION_MAX)
        len = EQUATION_MAX;
    memcpy(eq, data, len);
    eq[len] = '\0';

    EinsumSpec spec;
    Error err;
    error_clear(&err);
    if (!einsum_parse(eq, &spec, &err)) {
        check_error(&err, "einsum_parse");
        FUZZ_CHECK(err.status == STATUS_DATAERR, "'%s': parse status %d", eq, err.status);
        return 0;
    }
    check_spec(&spec, eq);
    Bytes b = {data, size, 0};
    if (nul != NULL && (size_t)(nul - data) + 1 < size) {
        b.data = nul + 1;
        b.size = size - (size_t)(nul - data) - 1;
    }
    run_spec(&spec, eq, &b);
    return 0;
}
