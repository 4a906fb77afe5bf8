/*
 * explain.c - where a number came from (see explain.h).
 *
 * Every output tensor of a step carries a Derivation: which of the step's
 * other tensors it was made from, and how. This file reads it three ways:
 *
 *   explain_is_source   which input values a selected value depends on
 *                       (index arithmetic only: called for every cell);
 *   explain_recompute   the value again, from its inputs, through the same
 *                       float operations in the same order as the trace;
 *   explain_cell        the same computation written out for a learner.
 *
 * explain_cell and explain_recompute share the functions that compute a
 * value (dot_sum, einsum_setup + einsum_terms, softmax_rows on the row,
 * scale_and_mask), so what the inspector prints is what the test checks.
 */
#include "explain.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einsum.h"
#include "numfmt.h"
#include "tensor.h"
#include "torchmath.h"

/* Narrowest width explain_cell wraps to, whatever the caller asks: below
 * it a term line would break into unreadable pieces. */
#define EXPLAIN_MIN_WIDTH 20

/* Terms shown before and after the elided middle of a long sum. */
#define EXPLAIN_HEAD_TERMS (EXPLAIN_MAX_TERMS / 2)

/* Digits after the point of the exponentials and their sum in a softmax
 * value's arithmetic: enough for exp(-9) = 0.000123 to show its digits. */
#define EXPLAIN_EXP_DIGITS 6

/* Longest token word used as an index label, in columns; longer words are
 * cut and end in "…". */
#define LABEL_MAX_COLS 12

/* Room for one index label: LABEL_MAX_COLS code points of up to 4 bytes,
 * the "…", a "(4096)" position, the NUL. */
#define LABEL_BYTES 80

/* Room for a tensor element's name with its labels:
 * "name[label]...[label]" or "name[h=label, ...]". */
#define NAME_BYTES (TRACE_NAME_BYTES + TENSOR_MAX_DIMS * (LABEL_BYTES + 4) + 8)

/* ------------------------------------------------------------------------
 * Looking things up in the trace
 * ---------------------------------------------------------------------- */

/* Tensor `tensor` of step `step`, or NULL when either is out of range. */
static const TraceTensor *step_tensor(const Trace *trace, int step, int tensor)
{
    if (trace == NULL || step < 0 || step >= trace->n_steps)
        return NULL;
    const TraceStep *s = &trace->steps[step];
    if (tensor < 0 || tensor >= s->n_tensors)
        return NULL;
    return &s->tensors[tensor];
}

/* Input k (0 or 1) of out's derivation in step, or NULL when unused. */
static const TraceTensor *input_of(const Trace *trace, int step, const TraceTensor *out, int k)
{
    return step_tensor(trace, step, out->how.in[k]);
}

/* Size of t's last dimension (1 for a scalar). */
static size_t last_dim(const Tensor *t)
{
    return t->ndim > 0 ? t->shape[t->ndim - 1] : 1;
}

/* Where element index (h, s, e) of out [H, S, E], third `part` of the
 * fused qkv [S, 3·H·E], is in qkv: *at = s·3d + part·d + h·E + e. False
 * when the shapes do not fit that. */
static bool qkv_offset(const TraceTensor *qkv, const Tensor *out, size_t part, const size_t *index, size_t *at)
{
    if (qkv == NULL || qkv->tensor->ndim != 2 || out->ndim != 3 || part > 2)
        return false;
    size_t H = out->shape[0], S = out->shape[1], E = out->shape[2], D = H * E;
    if (qkv->tensor->shape[0] != S || qkv->tensor->shape[1] != 3 * D)
        return false;
    *at = index[1] * 3 * D + part * D + index[0] * E + index[2];
    return true;
}

/* The numbers one value of a LayerNorm is made of. */
typedef struct LayerNormTerms {
    float x, mean, rstd, gamma, beta;
} LayerNormTerms;

/* The terms of element index (s, j) of out, an OP_LAYERNORM output [S, D]
 * whose inputs are x [S, D], mean [S], rstd [S], gamma [D], beta [D].
 * False when they do not fit. */
static bool layernorm_terms(const Trace *trace, int step, const TraceTensor *out, const size_t *index,
                            LayerNormTerms *n)
{
    const TraceTensor *in[5];
    for (int k = 0; k < 5; k++)
        if ((in[k] = step_tensor(trace, step, out->how.in[k])) == NULL)
            return false;
    const Tensor *o = out->tensor;
    if (o->ndim != 2 || !tensor_same_shape(in[0]->tensor, o) || in[1]->tensor->size != o->shape[0] ||
        in[2]->tensor->size != o->shape[0] || in[3]->tensor->size != o->shape[1] || in[4]->tensor->size != o->shape[1])
        return false;
    size_t s = index[0], j = index[1];
    *n = (LayerNormTerms){in[0]->tensor->data[s * o->shape[1] + j], in[1]->tensor->data[s], in[2]->tensor->data[s],
                          in[3]->tensor->data[j], in[4]->tensor->data[j]};
    return true;
}

/* The value, as nn.h's layernorm_forward computes it: two fused
 * multiply-adds, (x · rstd + (-rstd · mean)) · gamma + beta. */
static float layernorm_value(const LayerNormTerms *n)
{
    return fmaf(fmaf(n->x, n->rstd, -n->rstd * n->mean), n->gamma, n->beta);
}

/* Turns offset into t's multi-index (t->ndim entries). */
static void unravel_offset(const Tensor *t, size_t offset, size_t *index)
{
    for (int d = t->ndim - 1; d >= 0; d--) {
        index[d] = offset % t->shape[d];
        offset /= t->shape[d];
    }
}

/* The number format the UI uses for tt's panel: the tensor's own, over
 * all its values (whole numbers for token ids). */
static NumFormat format_of(const TraceTensor *tt, int precision)
{
    const Tensor *t = tt->tensor;
    return tt->is_integer ? numfmt_choose_integer(t->data, t->size) : numfmt_choose(t->data, t->size, precision);
}

/* format_of tensor tt of step, from the caller's table when there is one
 * (choosing a format reads every value: millions at GPT-2's size). */
static NumFormat step_format(const ExplainFormats *formats, int step, const TraceTensor *tt, const TraceStep *in_step,
                             int precision)
{
    if (formats != NULL)
        return formats->of[step][tt - in_step->tensors];
    return format_of(tt, precision);
}

/* ------------------------------------------------------------------------
 * Computing a value (shared by explain_recompute and explain_cell)
 * ---------------------------------------------------------------------- */

/* One product of a sum, as explain_cell lists it. */
typedef struct ShownTerm {
    size_t t;                          /* position in the sum, 0-based */
    float a, b, product;               /* the factors and their float product */
    size_t summed[EINSUM_MAX_LETTERS]; /* the summed indices' values (dot products: [0]) */
} ShownTerm;

/* The terms of a sum that explain_cell lists: all of them, or the first
 * and last EXPLAIN_HEAD_TERMS when there are more than EXPLAIN_MAX_TERMS. */
typedef struct SumView {
    size_t n_terms;                     /* products in the sum */
    size_t n_shown;                     /* entries of shown */
    ShownTerm shown[EXPLAIN_MAX_TERMS]; /* in sum order */
} SumView;

/* True when term t of n is one a SumView keeps. */
static bool term_is_shown(size_t t, size_t n)
{
    return n <= EXPLAIN_MAX_TERMS || t < EXPLAIN_HEAD_TERMS || t >= n - EXPLAIN_HEAD_TERMS;
}

/* Records term t in view when it is one to show; returns the slot or NULL. */
static ShownTerm *sum_view_add(SumView *view, size_t t, float a, float b, float product)
{
    if (view == NULL || !term_is_shown(t, view->n_terms) || view->n_shown == EXPLAIN_MAX_TERMS)
        return NULL;
    ShownTerm *term = &view->shown[view->n_shown++];
    memset(term, 0, sizeof *term);
    term->t = t;
    term->a = a;
    term->b = b;
    term->product = product;
    return term;
}

/* A dot product inside OP_MATVEC, OP_DOT_ROWS or OP_MATMUL: n terms
 * a[k * stride_a] * b[k * stride_b]. */
typedef struct DotPlan {
    const TraceTensor *a, *b;  /* the tensors of the two factors */
    const float *a0, *b0;      /* first factor of each */
    size_t stride_a, stride_b; /* distance between consecutive factors */
    size_t n;                  /* terms */
    int a_dim, b_dim;          /* the summed dimension in a and in b */
    size_t a_row, b_col;       /* a's row (unless a is 1-D) and b's row or column (unless b is 1-D) */
} DotPlan;

/* Works out which row and column the element at index of out (an output
 * of OP_MATVEC, OP_DOT_ROWS or OP_MATMUL) multiplies. False when the
 * shapes do not fit the operation. */
static bool dot_plan(const Trace *trace, int step, const TraceTensor *out, const size_t *index, DotPlan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->a = input_of(trace, step, out, 0);
    plan->b = input_of(trace, step, out, 1);
    if (plan->a == NULL || plan->b == NULL)
        return false;
    const Tensor *a = plan->a->tensor, *b = plan->b->tensor, *o = out->tensor;
    if (a->ndim < 1 || a->ndim > 2 || o->ndim < 1)
        return false;
    size_t K = last_dim(a);
    size_t i = a->ndim == 2 ? index[0] : 0; /* a's row */
    size_t j = index[o->ndim - 1];          /* the output's last index */
    plan->n = K;
    plan->a_dim = a->ndim - 1;
    plan->a_row = i;
    plan->a0 = a->data + i * K;
    plan->stride_a = 1;
    switch (out->how.op) {
    case OP_MATVEC:
        /* out (J) = a (J, K) · b (K): out[j] = a[j] · b */
        if (a->ndim != 2 || b->ndim != 1 || b->shape[0] != K || o->ndim != 1)
            return false;
        plan->a_row = index[0];
        plan->a0 = a->data + index[0] * K;
        plan->b0 = b->data;
        plan->stride_b = 1;
        plan->b_dim = 0;
        return true;
    case OP_DOT_ROWS:
        /* out (I, J) = a (I, K) · b (J, K)ᵀ, or out (J) = a (K) · b (J, K)ᵀ */
        if (b->ndim != 2 || b->shape[1] != K || o->ndim != a->ndim)
            return false;
        plan->b_col = j;
        plan->b0 = b->data + j * K;
        plan->stride_b = 1;
        plan->b_dim = 1;
        return true;
    case OP_MATMUL:
    case OP_ADDMM:
        /* out (I, J) = a (I, K) · b (K, J), or out (J) = a (K) · b (K, J) */
        if (b->ndim != 2 || b->shape[0] != K || o->ndim != a->ndim)
            return false;
        plan->b_col = j;
        plan->b0 = b->data + j;
        plan->stride_b = b->shape[1];
        plan->b_dim = 0;
        return true;
    case OP_SHOWN:
    case OP_TOKENIZE:
    case OP_RAND_NORMAL:
    case OP_RAND_UNIFORM:
    case OP_GATHER_ROWS:
    case OP_PICK_ROW:
    case OP_SCALE:
    case OP_SOFTMAX:
    case OP_EINSUM:
    case OP_CONCAT_HEADS:
    case OP_ADD:
    case OP_SPLIT_QKV:
    case OP_LAYERNORM:
    case OP_BPE_BYTE:
    case OP_BPE_WORD:
    case OP_STAGE:
        break;
    }
    return false;
}

/* The dot product of plan added to start, as dot_strided (start 0) and
 * addmm_forward (start the bias) compute it: each product rounded to
 * float, added left to right to a float sum that begins at start. Records
 * the terms to show in view (NULL allowed). */
static float dot_sum_from(const DotPlan *plan, float start, SumView *view)
{
    if (view != NULL) {
        memset(view, 0, sizeof *view);
        view->n_terms = plan->n;
    }
    float sum = start;
    for (size_t k = 0; k < plan->n; k++) {
        float a = plan->a0[k * plan->stride_a], b = plan->b0[k * plan->stride_b];
        float product = a * b;
        sum += product;
        ShownTerm *term = sum_view_add(view, k, a, b, product);
        if (term != NULL)
            term->summed[0] = k;
    }
    return sum;
}

/* The dot product of plan from 0 (see dot_sum_from). */
static float dot_sum(const DotPlan *plan, SumView *view)
{
    return dot_sum_from(plan, 0.0f, view);
}

/* The bias an OP_ADDMM element (index, of out [I, J]) starts from:
 * in2[j]. False when in2 is not a vector as long as out's rows. */
static bool addmm_bias(const Trace *trace, int step, const TraceTensor *out, const size_t *index, float *bias)
{
    const TraceTensor *b = step_tensor(trace, step, out->how.in[2]);
    const Tensor *o = out->tensor;
    if (b == NULL || o->ndim != 2 || b->tensor->ndim != 1 || b->tensor->size != o->shape[1])
        return false;
    *bias = b->tensor->data[index[1]];
    return true;
}

/* Fills spec for out's einsum (an OP_EINSUM output of step) bound to its
 * two operands, and ops with them. When in1 enters transposed (keysᵀ), the
 * last two letters of operand 2 are swapped in spec so that it indexes the
 * tensor as shown (keys [h, s, e] for 'hek'): the letters, the summed
 * order and the products stay those einsum_eval ran on the transposed
 * copy, so the sum is the same float. written (NULL allowed) gets the
 * equation as written. False when the equation or shapes do not fit. */
static bool einsum_setup(const Trace *trace, int step, const TraceTensor *out, EinsumSpec *spec, const Tensor *ops[2],
                         const TraceTensor *in[2], EinsumSpec *written)
{
    in[0] = input_of(trace, step, out, 0);
    in[1] = input_of(trace, step, out, 1);
    if (in[0] == NULL || in[1] == NULL || out->how.equation == NULL)
        return false;
    ops[0] = in[0]->tensor;
    ops[1] = in[1]->tensor;
    if (!einsum_parse(out->how.equation, spec, NULL) || spec->n_operands != 2)
        return false;
    if (written != NULL)
        *written = *spec;
    if (out->how.in1_transposed) {
        int r = spec->rank[1];
        if (r < 2)
            return false;
        char swap = spec->labels[1][r - 1];
        spec->labels[1][r - 1] = spec->labels[1][r - 2];
        spec->labels[1][r - 2] = swap;
    }
    if (!einsum_bind(spec, ops, 2, NULL) || spec->out_rank != out->tensor->ndim)
        return false;
    for (int d = 0; d < spec->out_rank; d++) {
        const char *slot = memchr(spec->letters, spec->out_labels[d], (size_t)spec->n_letters);
        if (slot == NULL || spec->size[slot - spec->letters] != out->tensor->shape[d])
            return false;
    }
    return true;
}

/* True when the element at index of out (a scaled result) is masked: the
 * causal mask hides keys after the query. For a 1-D result the query is
 * how->query_row and the key its index; otherwise the last two indices
 * are query and key. */
static bool is_masked(const Derivation *how, const Tensor *out, const size_t *index, size_t *query, size_t *key)
{
    if (out->ndim < 1)
        return false;
    *key = index[out->ndim - 1];
    *query = out->ndim == 1 ? how->query_row : index[out->ndim - 2];
    return how->causal && *key > *query;
}

/* The trace's last two operations on a sum: divide by the divisor, as
 * PyTorch's `t / divisor`, then mask. */
static float scale_and_mask(const Derivation *how, const Tensor *out, const size_t *index, float x)
{
    size_t query = 0, key = 0;
    float scaled = x / how->divisor;
    return is_masked(how, out, index, &query, &key) ? -INFINITY : scaled;
}

/* Softmax of the row of in holding offset, recomputed with the kernel the
 * trace used (softmax_rows) on a copy of the row; the value at offset.
 * NAN when the row buffer cannot be allocated. */
static float softmax_value(const Tensor *in, size_t offset)
{
    size_t cols = last_dim(in), row = offset / cols;
    float *buf = malloc(cols * sizeof *buf);
    if (buf == NULL)
        return NAN;
    softmax_rows(buf, in->data + row * cols, 1, cols);
    float value = buf[offset % cols];
    free(buf);
    return value;
}

/* ------------------------------------------------------------------------
 * explain_recompute
 * ---------------------------------------------------------------------- */

/* OP_GATHER_ROWS recomputed: out[s][d] = table[ids[s]][d] (table, ids the
 * step's inputs; o the output, index its cell). NAN when they do not fit. */
static float recompute_gather(const TraceTensor *table, const TraceTensor *ids, const Tensor *o, const size_t *index)
{
    if (table == NULL || ids == NULL || o->ndim != 2 || table->tensor->ndim != 2 || index[0] >= ids->tensor->size)
        return NAN;
    float id = ids->tensor->data[index[0]];
    if (!(id >= 0.0f) || (size_t)id >= table->tensor->shape[0] || table->tensor->shape[1] != o->shape[1])
        return NAN;
    return table->tensor->data[(size_t)id * o->shape[1] + index[1]];
}

/* OP_CONCAT_HEADS recomputed: out[s][h*E + e] = heads[h][s][e]. NAN when
 * the shapes do not fit. */
static float recompute_concat(const TraceTensor *heads, const Tensor *o, const size_t *index)
{
    if (heads == NULL || heads->tensor->ndim != 3 || o->ndim != 2)
        return NAN;
    size_t S = heads->tensor->shape[1], E = heads->tensor->shape[2];
    size_t h = index[1] / E, e = index[1] % E;
    if (h >= heads->tensor->shape[0] || index[0] >= S)
        return NAN;
    return heads->tensor->data[(h * S + index[0]) * E + e];
}

/* Recomputes the value of out (an output of step) at offset from its
 * inputs. NAN when its inputs do not fit its operation. */
static float recompute_output(const Trace *trace, int step, const TraceTensor *out, size_t offset)
{
    const Derivation *how = &out->how;
    const Tensor *o = out->tensor;
    size_t index[TENSOR_MAX_DIMS] = {0};
    unravel_offset(o, offset, index);
    const TraceTensor *in0 = input_of(trace, step, out, 0);
    switch (how->op) {
    case OP_SHOWN:
    case OP_TOKENIZE:
    case OP_RAND_NORMAL:
    case OP_RAND_UNIFORM:
    case OP_BPE_BYTE:
    case OP_BPE_WORD:
    case OP_STAGE:
        return o->data[offset];
    case OP_ADD: {
        const TraceTensor *in1 = input_of(trace, step, out, 1);
        if (in0 == NULL || in1 == NULL || !tensor_same_shape(in0->tensor, o) || !tensor_same_shape(in1->tensor, o))
            return NAN;
        return in0->tensor->data[offset] + in1->tensor->data[offset];
    }
    case OP_SPLIT_QKV: {
        size_t at;
        if (!qkv_offset(in0, o, how->qkv_part, index, &at))
            return NAN;
        return in0->tensor->data[at];
    }
    case OP_LAYERNORM: {
        LayerNormTerms n;
        return layernorm_terms(trace, step, out, index, &n) ? layernorm_value(&n) : NAN;
    }
    case OP_MATVEC:
    case OP_DOT_ROWS:
    case OP_MATMUL: {
        DotPlan plan;
        if (!dot_plan(trace, step, out, index, &plan))
            return NAN;
        return scale_and_mask(how, o, index, dot_sum(&plan, NULL));
    }
    case OP_ADDMM: {
        DotPlan plan;
        float bias;
        if (!dot_plan(trace, step, out, index, &plan) || !addmm_bias(trace, step, out, index, &bias))
            return NAN;
        return dot_sum_from(&plan, bias, NULL);
    }
    case OP_EINSUM: {
        EinsumSpec spec;
        const Tensor *ops[2];
        const TraceTensor *in[2];
        float sum = 0.0f;
        if (!einsum_setup(trace, step, out, &spec, ops, in, NULL))
            return NAN;
        einsum_terms(&spec, ops, index, NULL, 0, &sum);
        return scale_and_mask(how, o, index, sum);
    }
    case OP_SCALE:
        if (in0 == NULL || !tensor_same_shape(in0->tensor, o))
            return NAN;
        return scale_and_mask(how, o, index, in0->tensor->data[offset]);
    case OP_SOFTMAX:
        if (in0 == NULL || !tensor_same_shape(in0->tensor, o) || o->ndim < 1)
            return NAN;
        return softmax_value(in0->tensor, offset);
    case OP_GATHER_ROWS:
        return recompute_gather(in0, input_of(trace, step, out, 1), o, index);
    case OP_PICK_ROW:
        if (in0 == NULL || in0->tensor->ndim != 2 || how->row >= in0->tensor->shape[0] || o->ndim != 1 ||
            in0->tensor->shape[1] != o->shape[0])
            return NAN;
        return in0->tensor->data[how->row * o->shape[0] + offset];
    case OP_CONCAT_HEADS:
        return recompute_concat(in0, o, index);
    }
    return NAN;
}

/* The value at offset recomputed from its inputs; the stored value for an
 * input shown again, NAN for a value that does not exist. */
float explain_recompute(const Trace *trace, int step, int tensor, size_t offset)
{
    const TraceTensor *tt = step_tensor(trace, step, tensor);
    if (tt == NULL || offset >= tt->tensor->size)
        return NAN;
    if (!tt->is_output)
        return tt->tensor->data[offset];
    return recompute_output(trace, step, tt, offset);
}

/* ------------------------------------------------------------------------
 * explain_is_source
 * ---------------------------------------------------------------------- */

/* True when the value at offset of operand k (a tensor of rank
 * spec->rank[k]) takes part in the einsum element at sel_index: every
 * letter of the operand that is also in the output has the selected
 * value's index for that letter. */
static bool einsum_source(const EinsumSpec *spec, int k, const Tensor *t, size_t offset, const size_t *sel_index)
{
    if (t->ndim != spec->rank[k])
        return false;
    for (int d = t->ndim - 1; d >= 0; d--) {
        size_t i = offset % t->shape[d];
        offset /= t->shape[d];
        const char *p = memchr(spec->out_labels, spec->labels[k][d], (size_t)spec->out_rank);
        if (p != NULL && sel_index[p - spec->out_labels] != i)
            return false;
    }
    return true;
}

/* Whether value `offset` of operand k (tensor t) of the einsum `how` is a
 * source of the output value at sel_index; a transposed second operand has
 * its last two letters swapped first. */
static bool einsum_is_source(const Derivation *how, int k, const Tensor *t, size_t offset, const size_t *sel_index)
{
    EinsumSpec spec;
    if (!einsum_parse(how->equation, &spec, NULL) || spec.n_operands != 2)
        return false;
    if (how->in1_transposed && spec.rank[1] >= 2) {
        char swap = spec.labels[1][spec.rank[1] - 1];
        spec.labels[1][spec.rank[1] - 1] = spec.labels[1][spec.rank[1] - 2];
        spec.labels[1][spec.rank[1] - 2] = swap;
    }
    return einsum_source(&spec, k, t, offset, sel_index);
}

/* True when the value at offset of operand k of sel's derivation is one
 * the selected element (sel_index, sel_offset) is computed from. */
static bool is_source_of(const Trace *trace, int step, const TraceTensor *sel, const size_t *sel_index,
                         size_t sel_offset, int k, size_t offset)
{
    const Derivation *how = &sel->how;
    const Tensor *o = sel->tensor;
    const TraceTensor *in = input_of(trace, step, sel, k);
    if (in == NULL)
        return false;
    const Tensor *t = in->tensor;
    size_t j = o->ndim > 0 ? sel_index[o->ndim - 1] : 0;
    switch (how->op) {
    case OP_MATVEC:
        /* out[j]: row j of the matrix, all of the vector */
        return k == 1 || offset / last_dim(t) == sel_index[0];
    case OP_DOT_ROWS:
        /* out[i][j]: row i of in0 (all of a 1-D in0), row j of in1 */
        if (k == 0)
            return t->ndim == 1 || offset / last_dim(t) == sel_index[0];
        return offset / last_dim(t) == j;
    case OP_MATMUL:
        /* out[i][j]: row i of in0 (all of a 1-D in0), column j of in1 */
        if (k == 0)
            return t->ndim == 1 || offset / last_dim(t) == sel_index[0];
        return t->ndim == 1 || offset % last_dim(t) == j;
    case OP_ADDMM:
        /* out[i][j]: row i of in0, column j of in1, entry j of the bias in2 */
        if (k == 0)
            return offset / last_dim(t) == sel_index[0];
        return k == 1 ? offset % last_dim(t) == j : offset == j;
    case OP_SCALE:
        return offset == sel_offset;
    case OP_SOFTMAX:
        return offset / last_dim(t) == sel_offset / last_dim(o);
    case OP_EINSUM:
        return einsum_is_source(how, k, t, offset, sel_index);
    case OP_GATHER_ROWS: {
        /* out[s][d]: ids[s] and table[ids[s]][d] */
        if (k == 1)
            return offset == sel_index[0];
        const TraceTensor *ids = input_of(trace, step, sel, 1);
        if (ids == NULL || sel_index[0] >= ids->tensor->size || o->ndim != 2)
            return false;
        float id = ids->tensor->data[sel_index[0]];
        return id >= 0.0f && offset == (size_t)id * last_dim(t) + sel_index[1];
    }
    case OP_PICK_ROW:
        return k == 0 && offset == how->row * last_dim(t) + sel_offset;
    case OP_CONCAT_HEADS: {
        /* out[s][h*E + e] = in0[h][s][e] */
        if (k != 0 || t->ndim != 3 || o->ndim != 2)
            return false;
        size_t S = t->shape[1], E = t->shape[2];
        return offset == ((sel_index[1] / E) * S + sel_index[0]) * E + sel_index[1] % E;
    }
    case OP_ADD:
        return offset == sel_offset;
    case OP_SPLIT_QKV: {
        size_t at;
        return k == 0 && qkv_offset(in, o, how->qkv_part, sel_index, &at) && offset == at;
    }
    case OP_LAYERNORM:
        /* out[s][j]: the whole row s of x (its mean and variance), mean[s], rstd[s], gamma[j], beta[j] */
        if (o->ndim != 2)
            return false;
        return k == 0 ? offset / last_dim(t) == sel_index[0] : k <= 2 ? offset == sel_index[0] : offset == sel_index[1];
    case OP_SHOWN:
    case OP_TOKENIZE:
    case OP_RAND_NORMAL:
    case OP_RAND_UNIFORM:
    case OP_BPE_BYTE:
    case OP_BPE_WORD:
    case OP_STAGE:
        break;
    }
    return false;
}

/* Index arithmetic only, no allocation: the selection's multi-index once,
 * then the rule of its operation for each input it was made from. */
bool explain_is_source(const Trace *trace, int step, int sel_tensor, size_t sel_offset, int tensor, size_t offset)
{
    const TraceTensor *sel = step_tensor(trace, step, sel_tensor);
    const TraceTensor *tt = step_tensor(trace, step, tensor);
    if (sel == NULL || tt == NULL || !sel->is_output || sel_offset >= sel->tensor->size || offset >= tt->tensor->size)
        return false;
    size_t sel_index[TENSOR_MAX_DIMS] = {0};
    unravel_offset(sel->tensor, sel_offset, sel_index);
    for (int k = 0; k < TRACE_MAX_OP_INPUTS; k++)
        if (sel->how.in[k] == tensor && is_source_of(trace, step, sel, sel_index, sel_offset, k, offset))
            return true;
    return false;
}

/* ------------------------------------------------------------------------
 * Text: labels, names, numbers, lines
 * ---------------------------------------------------------------------- */

#if defined(__GNUC__)
static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

/* Appends printf-style text to the NUL-terminated buf of size bytes,
 * cutting it (at a UTF-8 boundary) when it does not fit. */
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= size - used) {
        size_t end = size - 1;
        while (end > used && ((unsigned char)buf[end] & 0xc0) == 0x80)
            end--; /* buf[end] starts a sequence that was cut: drop it */
        buf[end] = '\0';
    }
}

/* True when the trace has words for its tokens (else they are only ids). */
static bool has_words(const Trace *trace)
{
    return trace->config.sentence != NULL && trace->config.tokens != NULL;
}

char *explain_token_label(const Config *cfg, size_t s, int max_cols, char *buf, size_t size)
{
    const char *word = cfg->tokens[s];
    char position[24] = "";
    for (size_t i = 0; i < cfg->n_tokens; i++)
        if (i != s && strcmp(cfg->tokens[i], word) == 0) {
            snprintf(position, sizeof position, "(%zu)", s + 1); /* 1-based, as "token 1" */
            break;
        }
    int word_cols = max_cols - (int)strlen(position);
    if (word_cols < 2)
        word_cols = 2; /* a code point and the "…" at least; the caller cuts the rest */
    /* bytes of the first word_cols code points, and whether more follow */
    size_t bytes = 0, cut = 0;
    int cols = 0;
    while (word[bytes] != '\0' && cols < word_cols) {
        if (cols == word_cols - 1)
            cut = bytes;
        bytes++;
        while (((unsigned char)word[bytes] & 0xc0) == 0x80)
            bytes++;
        cols++;
    }
    if (word[bytes] != '\0') /* too long: word_cols - 1 code points and "…" */
        snprintf(buf, size, "%.*s…%s", (int)cut, word, position);
    else
        snprintf(buf, size, "%s%s", word, position);
    return buf;
}

/* Writes token s's word as an index label into buf (LABEL_BYTES). */
static void token_word(const Trace *trace, size_t s, char *buf)
{
    explain_token_label(&trace->config, s, LABEL_MAX_COLS, buf, LABEL_BYTES);
}

/* Writes the label of index i along a dimension of kind `kind` into buf
 * (LABEL_BYTES): the token's word for a sequence dimension when the
 * sentence is known, else the number. */
static void index_label(const Trace *trace, DimKind kind, size_t i, char *buf)
{
    if (kind == DIM_SEQ && has_words(trace) && i < trace->config.n_tokens)
        token_word(trace, i, buf);
    else
        snprintf(buf, LABEL_BYTES, "%zu", i);
}

/* Writes how prose names token s into buf (LABEL_BYTES + 8): "'is'" or,
 * without words, its position "2". */
static void token_phrase(const Trace *trace, size_t s, char *buf)
{
    char word[LABEL_BYTES];
    if (has_words(trace) && s < trace->config.n_tokens) {
        token_word(trace, s, word);
        snprintf(buf, LABEL_BYTES + 8, "'%s'", word);
    } else {
        snprintf(buf, LABEL_BYTES + 8, "%zu", s);
    }
}

/* The letter a dot product's summed dimension goes by in the formulas. */
static char dim_letter(DimKind kind)
{
    switch (kind) {
    case DIM_SEQ:
        return 'j';
    case DIM_MODEL:
        return 'd';
    case DIM_HEAD:
        return 'h';
    case DIM_HEAD_DIM:
        return 'e';
    case DIM_VOCAB:
        return 'v';
    case DIM_OTHER:
        break;
    }
    return 'k';
}

/* What a dimension of kind `kind` and size n runs over, for "j runs over
 * the 5 tokens". Writes into buf (LABEL_BYTES). */
static void dim_phrase(DimKind kind, size_t n, char *buf)
{
    switch (kind) {
    case DIM_SEQ:
        snprintf(buf, LABEL_BYTES, "the %zu token%s", n, n == 1 ? "" : "s");
        return;
    case DIM_MODEL:
        snprintf(buf, LABEL_BYTES, "the %zu embedding dimensions", n);
        return;
    case DIM_HEAD:
        snprintf(buf, LABEL_BYTES, "the %zu heads", n);
        return;
    case DIM_HEAD_DIM:
        snprintf(buf, LABEL_BYTES, "the %zu dimensions of a head", n);
        return;
    case DIM_VOCAB:
        snprintf(buf, LABEL_BYTES, "the %zu vocabulary entries", n);
        return;
    case DIM_OTHER:
        break;
    }
    snprintf(buf, LABEL_BYTES, "%zu values", n);
}

/* Writes "name[l0][l1]..." for the element at index of tt into buf
 * (NAME_BYTES). With summed_dim >= 0, that dimension shows letter instead
 * of an index; with omit_dim >= 0, that dimension is left out (a row). */
static void element_name(const Trace *trace, const TraceTensor *tt, const size_t *index, int summed_dim, char letter,
                         int omit_dim, char *buf)
{
    char label[LABEL_BYTES];
    snprintf(buf, NAME_BYTES, "%s", tt->name);
    for (int d = 0; d < tt->tensor->ndim; d++) {
        if (d == omit_dim)
            continue;
        if (d == summed_dim) {
            append(buf, NAME_BYTES, "[%c]", letter);
        } else {
            index_label(trace, tt->dims[d], index[d], label);
            append(buf, NAME_BYTES, "[%s]", label);
        }
    }
}

/* Writes value in fmt into buf (NUMFMT_BUF). Returns buf. */
static const char *num(const NumFormat *fmt, float value, char *buf)
{
    numfmt_write(fmt, value, buf);
    return buf;
}

/* As num, right-aligned to fmt's width, so term lines line up. */
static const char *num_padded(const NumFormat *fmt, float value, char *buf)
{
    numfmt_write_padded(fmt, value, buf);
    return buf;
}

void explain_element_name(const Trace *trace, const TraceTensor *tt, size_t offset, char *buf, size_t size)
{
    size_t index[TENSOR_MAX_DIMS] = {0};
    size_t rest = offset;
    for (int d = tt->tensor->ndim - 1; d >= 0; d--) {
        index[d] = rest % tt->tensor->shape[d];
        rest /= tt->tensor->shape[d];
    }
    char name[NAME_BYTES];
    element_name(trace, tt, index, -1, 0, -1, name);
    snprintf(buf, size, "%s", name);
}

/* Writes the divisor as a formula ("√16") into label and as a number ("4",
 * "5.6569") into value (both NUMFMT_BUF). The formula is the number itself
 * when the divisor is not the square root of a whole number. */
static void divisor_text(float divisor, int precision, char *label, char *value)
{
    if (divisor == floorf(divisor) && fabsf(divisor) < 1e9f)
        snprintf(value, NUMFMT_BUF, "%.0f", (double)divisor);
    else
        snprintf(value, NUMFMT_BUF, "%.*f", precision, (double)divisor);
    double square = (double)divisor * (double)divisor;
    if (square >= 1.0 && square < 1e12) {
        long n = lround(square);
        if ((float)sqrt((double)n) == divisor) {
            snprintf(label, NUMFMT_BUF, "√%ld", n);
            return;
        }
    }
    snprintf(label, NUMFMT_BUF, "%s", value);
}

/* Where explain_cell writes: lines wrapped to width columns. */
typedef struct Lines {
    StrBuf *out;
    size_t width;
} Lines;

/* Appends text as one or more lines of at most lines->width columns:
 * breaks at spaces (or inside a word longer than a line), continuation
 * lines indented 4 more than the first. Every line ends in '\n'. */
static void put_wrapped(Lines *lines, const char *text)
{
    size_t width = lines->width;
    size_t lead = strspn(text, " ");
    size_t indent = lead + 4 < width / 2 ? lead + 4 : width / 2;
    const char *p = text;
    bool first = true;
    while (true) {
        size_t avail = first ? width : width - indent;
        if (!first)
            strbuf_repeat(lines->out, ' ', indent);
        if (utf8_width(p) <= avail) {
            strbuf_puts(lines->out, p);
            strbuf_puts(lines->out, "\n");
            return;
        }
        /* Pass 1: walk avail columns, remembering the last space after
         * the line's own indentation. */
        const char *q = p, *space = NULL;
        bool seen_text = false;
        for (size_t col = 0; col < avail && *q != '\0'; col++) {
            if (*q == ' ' && seen_text)
                space = q;
            else if (*q != ' ')
                seen_text = true;
            q++;
            while (((unsigned char)*q & 0xc0) == 0x80)
                q++;
        }
        /* Pass 2: break at the space (a space right at the edge will do),
         * or inside the word when there is none. */
        const char *end = (*q == ' ' && seen_text) ? q : space != NULL ? space : q;
        const char *trim = end;
        while (trim > p && trim[-1] == ' ')
            trim--;
        strbuf_append(lines->out, p, (size_t)(trim - p));
        strbuf_puts(lines->out, "\n");
        p = end;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return;
        first = false;
    }
}

#if defined(__GNUC__)
static void line(Lines *lines, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

/* Appends one printf-style logical line, wrapped (see put_wrapped). */
static void line(Lines *lines, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *text = malloc((size_t)n + 1);
    if (text == NULL) {
        lines->out->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    put_wrapped(lines, text);
    free(text);
}

#if defined(__GNUC__)
static void equation(Lines *lines, const char *lhs, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

/* Appends "lhs = rhs" (rhs printf-style) as one line when it fits, else
 * lhs alone and "  = rhs" below it. */
static void equation(Lines *lines, const char *lhs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *rhs = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (rhs == NULL) {
        lines->out->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(rhs, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (utf8_width(lhs) + 3 + utf8_width(rhs) <= lines->width) {
        line(lines, "%s = %s", lhs, rhs);
    } else {
        line(lines, "%s", lhs);
        line(lines, "  = %s", rhs);
    }
    free(rhs);
}

/* ------------------------------------------------------------------------
 * explain_cell, one function per kind of operation
 * ---------------------------------------------------------------------- */

/* What every explanation needs: the element, its names and formats. */
typedef struct Cell {
    const Trace *trace;
    int step;
    const TraceTensor *tt;         /* the tensor explained */
    size_t offset;                 /* the element */
    size_t index[TENSOR_MAX_DIMS]; /* its multi-index */
    char name[NAME_BYTES];         /* "scores_1[is]" */
    int precision;
    NumFormat fmt;                 /* tt's format in the panel */
    const ExplainFormats *formats; /* the panels' formats, or NULL to choose them here */
    Lines lines;
} Cell;

/* The panel format of a tensor of the cell's step. */
static NumFormat cell_format(const Cell *c, const TraceTensor *tt)
{
    return step_format(c->formats, c->step, tt, &c->trace->steps[c->step], c->precision);
}

/* The last line: the value exactly as the panel shows it, after the
 * element's name when both fit on the line. */
static void put_result(Cell *c)
{
    char value[NUMFMT_BUF];
    float shown = c->tt->tensor->data[c->offset];
    if (c->trace->fast_kernels && c->tt->is_output) {
        /* the fast kernels add in blocks with fused multiply-adds: say so
         * when that changed the last bits of what the steps above give */
        int tensor = (int)(c->tt - c->trace->steps[c->step].tensors);
        float in_order = explain_recompute(c->trace, c->step, tensor, c->offset);
        if (memcmp(&in_order, &shown, sizeof shown) != 0 && !(isnan(in_order) && isnan(shown))) {
            char exact[NUMFMT_BUF];
            snprintf(exact, sizeof exact, "%.9g", (double)in_order);
            /* wrapped like every other line, so no word is cut at the box */
            line(&c->lines, "(added in order: %s; the fast kernels add in blocks, so the last digits may differ)",
                 exact);
        }
    }
    num(&c->fmt, shown, value);
    if (utf8_width(c->name) + 3 + strlen(value) <= c->lines.width)
        strbuf_printf(c->lines.out, "%s = %s\n", c->name, value);
    else
        strbuf_printf(c->lines.out, "= %s\n", value);
}

/* The label of one summed index for a term line: "d=3" or "j=my". */
static void term_label(const Trace *trace, char letter, DimKind kind, size_t i, char *buf)
{
    char label[LABEL_BYTES];
    index_label(trace, kind, i, label);
    snprintf(buf, LABEL_BYTES + 4, "%c=%s", letter, label);
}

/* Lists the shown terms of a sum, one "label:  a × b = p" line each, with
 * one line for the elided middle. labels[i] names shown term i. */
static void put_terms(Cell *c, const SumView *view, char (*labels)[LABEL_BYTES + 4], const NumFormat *fa,
                      const NumFormat *fb)
{
    size_t label_cols = 0;
    for (size_t i = 0; i < view->n_shown; i++)
        if (utf8_width(labels[i]) > label_cols)
            label_cols = utf8_width(labels[i]);
    for (size_t i = 0; i < view->n_shown; i++) {
        const ShownTerm *term = &view->shown[i];
        if (i > 0 && term->t > view->shown[i - 1].t + 1) {
            size_t gap = term->t - view->shown[i - 1].t - 1;
            line(&c->lines, "    … %zu more term%s …", gap, gap == 1 ? "" : "s");
        }
        char a[NUMFMT_BUF], b[NUMFMT_BUF], p[NUMFMT_BUF];
        size_t pad = label_cols - utf8_width(labels[i]);
        line(&c->lines, "    %s:%*s %s × %s = %s", labels[i], (int)pad, "", num_padded(fa, term->a, a),
             num_padded(fb, term->b, b), num_padded(&c->fmt, term->product, p));
    }
}

/* After the sum: the division by the divisor (when scaled), as
 * "what / √16 = -18.1116 / 4 = -4.5279" or, without what, "= -18.1116 / 4
 * = -4.5279"; then the mask (when this element is masked). */
static void put_scale_and_mask(Cell *c, const char *what, const NumFormat *fx, float x)
{
    const Derivation *how = &c->tt->how;
    char s[NUMFMT_BUF], q[NUMFMT_BUF], label[NUMFMT_BUF], value[NUMFMT_BUF];
    if (how->divisor != 1.0f) {
        divisor_text(how->divisor, c->precision, label, value);
        num(&c->fmt, x / how->divisor, q);
        if (what == NULL)
            line(&c->lines, "  = %s / %s = %s", num(fx, x, s), value, q);
        else if (strcmp(label, value) != 0)
            line(&c->lines, "  %s / %s = %s / %s = %s", what, label, num(fx, x, s), value, q);
        else
            line(&c->lines, "  %s / %s = %s", what, value, q);
    }
    size_t query = 0, key = 0;
    if (is_masked(how, c->tt->tensor, c->index, &query, &key)) {
        char qw[LABEL_BYTES + 8], kw[LABEL_BYTES + 8];
        token_phrase(c->trace, query, qw);
        token_phrase(c->trace, key, kw);
        line(&c->lines, "  masked: key %s comes after query %s → -inf", kw, qw);
    }
}

/* OP_MATVEC, OP_DOT_ROWS, OP_MATMUL: a dot product, term by term. */
static void explain_dot(Cell *c)
{
    DotPlan plan;
    if (!dot_plan(c->trace, c->step, c->tt, c->index, &plan)) {
        line(&c->lines, "  (its inputs do not fit a dot product)");
        return;
    }
    const TraceTensor *a = plan.a, *b = plan.b;
    size_t ai[TENSOR_MAX_DIMS] = {plan.a_row, 0}, bi[TENSOR_MAX_DIMS] = {0};
    DimKind kind = a->dims[plan.a_dim];
    char letter = dim_letter(kind);
    if (b->tensor->ndim == 2)
        bi[plan.b_dim == 0 ? 1 : 0] = plan.b_col;

    /* Pass 1: the element as a product of a row and a row or column. */
    char an[NAME_BYTES], bn[NAME_BYTES];
    element_name(c->trace, a, ai, -1, 0, plan.a_dim, an);
    if (b->tensor->ndim == 2 && plan.b_dim == 0) {
        char col[LABEL_BYTES];
        index_label(c->trace, b->dims[1], plan.b_col, col);
        snprintf(bn, sizeof bn, "%s[:, %s]", b->name, col);
    } else {
        element_name(c->trace, b, bi, -1, 0, plan.b_dim, bn);
    }
    char div_label[NUMFMT_BUF] = "", div_value[NUMFMT_BUF], bias_name[NAME_BYTES] = "";
    if (c->tt->how.divisor != 1.0f)
        divisor_text(c->tt->how.divisor, c->precision, div_label, div_value);
    float bias = 0.0f;
    bool addmm = c->tt->how.op == OP_ADDMM;
    if (addmm) { /* torch.addmm: the bias first */
        const TraceTensor *bt = step_tensor(c->trace, c->step, c->tt->how.in[2]);
        if (bt == NULL || !addmm_bias(c->trace, c->step, c->tt, c->index, &bias)) {
            line(&c->lines, "  (its bias does not fit)");
            return;
        }
        explain_element_name(c->trace, bt, c->index[1], bias_name, sizeof bias_name);
    }
    equation(&c->lines, c->name, "%s%s%s · %s%s%s", bias_name, addmm ? " + " : "", an, bn, div_label[0] ? " / " : "",
             div_label);

    /* Pass 2: the sum with its letter, then each product (after the bias, in the order they were added). */
    element_name(c->trace, a, ai, plan.a_dim, letter, -1, an);
    element_name(c->trace, b, bi, plan.b_dim, letter, -1, bn);
    line(&c->lines, "  = %s%sΣ_%c %s · %s   (%zu term%s)", bias_name, addmm ? " + " : "", letter, an, bn, plan.n,
         plan.n == 1 ? "" : "s");
    if (addmm) {
        char bv[NUMFMT_BUF];
        const TraceTensor *bt = step_tensor(c->trace, c->step, c->tt->how.in[2]);
        NumFormat fbias = cell_format(c, bt);
        line(&c->lines, "    start from the bias: %s; then add, in this order:", num(&fbias, bias, bv));
    }
    SumView view;
    float sum = dot_sum_from(&plan, bias, &view);
    char labels[EXPLAIN_MAX_TERMS][LABEL_BYTES + 4];
    for (size_t i = 0; i < view.n_shown; i++)
        term_label(c->trace, letter, kind, view.shown[i].summed[0], labels[i]);
    NumFormat fa = cell_format(c, a), fb = cell_format(c, b);
    put_terms(c, &view, labels, &fa, &fb);

    /* Pass 3: the sum, the scaling and the mask. */
    char s[NUMFMT_BUF];
    line(&c->lines, addmm ? "  bias + sum = %s" : "  sum = %s", num(&c->fmt, sum, s));
    put_scale_and_mask(c, "sum", &c->fmt, sum);
}

static AxisRole axis_role(const EinsumSpec *spec, int l, const TraceTensor *out, const TraceTensor *const in[2]);

/* What the passes of explain_einsum share about one einsum cell. */
typedef struct EinsumCell {
    EinsumSpec spec;                                    /* the equation as evaluated */
    EinsumSpec written;                                 /* the equation as the step writes it (see einsum_setup) */
    const Tensor *ops[2];                               /* the two operands */
    const TraceTensor *in[2];                           /* the trace tensors they come from */
    char letter_label[EINSUM_MAX_LETTERS][LABEL_BYTES]; /* a free letter's index, or the summed letter itself */
    DimKind letter_kind[EINSUM_MAX_LETTERS];            /* what each letter indexes */
    char bound[NAME_BYTES];                             /* the output element, its letters bound: "out[i=0, j=2]" */
    char summed_letters[EINSUM_MAX_LETTERS + 1];        /* the summed letters, in the equation's order */
    size_t n_summed;                                    /* strlen(summed_letters) */
} EinsumCell;

/* Index of letter in e->spec.letters (it is one of them). */
static int letter_index(const EinsumCell *e, char letter)
{
    return (int)((const char *)memchr(e->spec.letters, letter, (size_t)e->spec.n_letters) - e->spec.letters);
}

/* Pass 1 of explain_einsum: each letter's value (free ones from the
 * element, summed ones shown as the letter), what each letter indexes (its
 * DimKind), the bound output element and the summed letters. */
static void einsum_bind_letters(const Cell *c, EinsumCell *e)
{
    const EinsumSpec *spec = &e->spec;
    for (int l = 0; l < spec->n_letters; l++) {
        e->letter_kind[l] = DIM_OTHER;
        for (int k = 1; k >= 0; k--)
            for (int d = 0; d < spec->rank[k]; d++)
                if (spec->labels[k][d] == spec->letters[l])
                    e->letter_kind[l] = e->in[k]->dims[d];
        snprintf(e->letter_label[l], LABEL_BYTES, "%c", spec->letters[l]);
    }
    snprintf(e->bound, sizeof e->bound, "%s[", c->tt->name);
    for (int d = 0; d < spec->out_rank; d++) {
        int l = letter_index(e, spec->out_labels[d]);
        index_label(c->trace, c->tt->dims[d], c->index[d], e->letter_label[l]);
        append(e->bound, sizeof e->bound, "%s%c=%s", d > 0 ? ", " : "", spec->out_labels[d], e->letter_label[l]);
    }
    append(e->bound, sizeof e->bound, "]");
    e->n_summed = 0;
    for (int l = 0; l < spec->n_letters; l++)
        if (spec->summed[l])
            e->summed_letters[e->n_summed++] = spec->letters[l];
    e->summed_letters[e->n_summed] = '\0';
}

/* Pass 2 of explain_einsum, the formula: the bound element equals the sum
 * of the products of the operands, written with the equation's letters
 * (keysᵀ[0][e][is] for a transposed operand, then what that is). */
static void einsum_put_formula(Cell *c, const EinsumCell *e)
{
    const EinsumSpec *spec = &e->spec;
    const Derivation *how = &c->tt->how;
    char operand[2][NAME_BYTES];
    for (int k = 0; k < 2; k++) {
        snprintf(operand[k], NAME_BYTES, "%s%s", e->in[k]->name, k == 1 && how->in1_transposed ? "ᵀ" : "");
        for (int d = 0; d < e->written.rank[k]; d++)
            append(operand[k], NAME_BYTES, "[%s]", e->letter_label[letter_index(e, e->written.labels[k][d])]);
    }
    char div_label[NUMFMT_BUF] = "", div_value[NUMFMT_BUF];
    if (how->divisor != 1.0f)
        divisor_text(how->divisor, c->precision, div_label, div_value);
    if (e->n_summed > 0)
        equation(&c->lines, e->bound, "Σ_%s %s · %s%s%s", e->summed_letters, operand[0], operand[1],
                 div_label[0] ? " / " : "", div_label);
    else
        equation(&c->lines, e->bound, "%s · %s%s%s", operand[0], operand[1], div_label[0] ? " / " : "", div_label);
    if (how->in1_transposed) {
        char plain[NAME_BYTES];
        snprintf(plain, sizeof plain, "%s", e->in[1]->name);
        for (int d = 0; d < spec->rank[1]; d++)
            append(plain, sizeof plain, "[%s]", e->letter_label[letter_index(e, spec->labels[1][d])]);
        line(&c->lines, "  (%s is %s)", operand[1], plain);
    }
}

/* Pass 2 of explain_einsum, continued: which letters are summed, what
 * each runs over, and how many terms (n_terms) the sum has. */
static void einsum_put_summed(Cell *c, const EinsumCell *e, size_t n_terms)
{
    const EinsumSpec *spec = &e->spec;
    size_t n_summed = e->n_summed;
    char summed_list[3 * EINSUM_MAX_LETTERS] = "";
    for (size_t i = 0; i < n_summed; i++)
        append(summed_list, sizeof summed_list, "%s%c", i > 0 ? ", " : "", e->summed_letters[i]);
    char free_list[EINSUM_MAX_LETTERS * (LABEL_BYTES + 4)] = "";
    for (int l = 0; l < spec->n_letters; l++)
        if (!spec->summed[l])
            append(free_list, sizeof free_list, "%s%c %s", free_list[0] ? ", " : "", spec->letters[l],
                   explain_axis_name(axis_role(spec, l, c->tt, e->in), false));
    if (free_list[0] != '\0')
        line(&c->lines, "  kept: %s", free_list);
    if (n_summed > 0)
        line(&c->lines, "  %s %s not in the output '%.*s', so %s summed", summed_list, n_summed == 1 ? "is" : "are",
             spec->out_rank, spec->out_labels, n_summed == 1 ? "it is" : "they are");
    for (int l = 0; l < spec->n_letters; l++)
        if (spec->summed[l]) {
            char what[LABEL_BYTES];
            AxisRole role = axis_role(spec, l, c->tt, e->in);
            if (role == AXIS_QUERY || role == AXIS_KEY)
                snprintf(what, sizeof what, "the %zu %ss", spec->size[l], explain_axis_name(role, false));
            else
                dim_phrase(e->letter_kind[l], spec->size[l], what);
            if (n_summed == 1)
                line(&c->lines, "  %c runs over %s (%zu term%s)", spec->letters[l], what, n_terms,
                     n_terms == 1 ? "" : "s");
            else
                line(&c->lines, "  %c runs over %s", spec->letters[l], what);
        }
    if (n_summed != 1)
        line(&c->lines, "  %zu term%s:", n_terms, n_terms == 1 ? "" : "s");
}

/* Pass 3 of explain_einsum: the n_terms products, in the order einsum_eval
 * added them (the middle ones elided past EXPLAIN_MAX_TERMS), each labelled
 * with its summed indices. Returns the sum, taken in that order. */
static float einsum_put_products(Cell *c, const EinsumCell *e, size_t n_terms)
{
    const EinsumSpec *spec = &e->spec;
    float sum = 0.0f;
    EinsumTerm *terms = malloc((n_terms > 0 ? n_terms : 1) * sizeof *terms);
    if (terms == NULL) {
        einsum_terms(spec, e->ops, c->index, NULL, 0, &sum);
        line(&c->lines, "  (%zu terms; too many to list)", n_terms);
        return sum;
    }
    size_t got = einsum_terms(spec, e->ops, c->index, terms, n_terms, &sum);
    SumView view;
    memset(&view, 0, sizeof view);
    view.n_terms = got;
    char labels[EXPLAIN_MAX_TERMS][LABEL_BYTES + 4];
    for (size_t t = 0; t < got; t++) {
        ShownTerm *shown = sum_view_add(&view, t, terms[t].factor[0], terms[t].factor[1], terms[t].product);
        if (shown == NULL)
            continue;
        char *label = labels[view.n_shown - 1];
        label[0] = '\0';
        for (int l = 0; l < spec->n_letters; l++)
            if (spec->summed[l]) {
                char one[LABEL_BYTES + 4];
                term_label(c->trace, spec->letters[l], e->letter_kind[l], terms[t].summed_index[l], one);
                append(label, LABEL_BYTES + 4, "%s%s", label[0] ? "," : "", one);
            }
    }
    free(terms);
    NumFormat fa = cell_format(c, e->in[0]), fb = cell_format(c, e->in[1]);
    put_terms(c, &view, labels, &fa, &fb);
    return sum;
}

/* OP_EINSUM: the equation with its free letters bound, the summed letters
 * named, then the products as einsum_terms lists them. */
static void explain_einsum(Cell *c)
{
    EinsumCell e;
    if (!einsum_setup(c->trace, c->step, c->tt, &e.spec, e.ops, e.in, &e.written)) {
        line(&c->lines, "  (its inputs do not fit the einsum)");
        return;
    }

    /* Pass 1: each letter's value and what it indexes. */
    einsum_bind_letters(c, &e);

    /* Pass 2: the formula, and the letters summed. */
    einsum_put_formula(c, &e);
    size_t n_terms = einsum_term_count(&e.spec);
    einsum_put_summed(c, &e, n_terms);

    /* Pass 3: the products, in the order einsum_eval added them. */
    float sum = einsum_put_products(c, &e, n_terms);

    /* Pass 4: the sum, the scaling and the mask. */
    char s[NUMFMT_BUF];
    line(&c->lines, "  sum = %s", num(&c->fmt, sum, s));
    put_scale_and_mask(c, "sum", &c->fmt, sum);
}

/* OP_SCALE: one value divided, maybe masked. */
static void explain_scale(Cell *c)
{
    const TraceTensor *in = input_of(c->trace, c->step, c->tt, 0);
    if (in == NULL || !tensor_same_shape(in->tensor, c->tt->tensor)) {
        line(&c->lines, "  (its input does not fit)");
        return;
    }
    char in_name[NAME_BYTES], label[NUMFMT_BUF], value[NUMFMT_BUF];
    element_name(c->trace, in, c->index, -1, 0, -1, in_name);
    NumFormat fin = cell_format(c, in);
    if (c->tt->how.divisor != 1.0f) {
        divisor_text(c->tt->how.divisor, c->precision, label, value);
        equation(&c->lines, c->name, "%s / %s", in_name, label);
    } else {
        equation(&c->lines, c->name, "%s", in_name);
    }
    put_scale_and_mask(c, NULL, &fin, in->tensor->data[c->offset]);
}

/* OP_SOFTMAX: the row's maximum, the exponentials, their sum, the share. */
static void explain_softmax(Cell *c)
{
    const TraceTensor *in = input_of(c->trace, c->step, c->tt, 0);
    const Tensor *o = c->tt->tensor;
    if (in == NULL || !tensor_same_shape(in->tensor, o) || o->ndim < 1) {
        line(&c->lines, "  (its input does not fit)");
        return;
    }
    size_t cols = last_dim(o), row = c->offset / cols, col = c->offset % cols;
    int last = o->ndim - 1;
    const float *x = in->tensor->data + row * cols;
    float *exps = malloc(cols * sizeof *exps);
    if (exps == NULL) {
        line(&c->lines, "  (out of memory)");
        return;
    }
    NumFormat fin = cell_format(c, in);
    char row_name[NAME_BYTES], col_label[LABEL_BYTES], letter = dim_letter(c->tt->dims[last]);
    element_name(c->trace, in, c->index, -1, 0, last, row_name);
    index_label(c->trace, c->tt->dims[last], col, col_label);

    /* Pass 1: the formula, and the row's maximum. */
    size_t at = 0;
    float max = -INFINITY;
    for (size_t j = 0; j < cols; j++)
        if (x[j] > max) {
            max = x[j];
            at = j;
        }
    equation(&c->lines, c->name, "softmax(%s)[%s]", row_name, col_label);
    line(&c->lines, "  = exp(x[%s] − max) / Σ_%c exp(x[%c] − max)", col_label, letter, letter);
    char a[NUMFMT_BUF], b[NUMFMT_BUF], r[NUMFMT_BUF], label[LABEL_BYTES];
    index_label(c->trace, c->tt->dims[last], at, label);
    if (max == -INFINITY) {
        line(&c->lines, "  every value of the row is -inf: all weights are 0");
        free(exps);
        return;
    }
    line(&c->lines, "  x = %s, max = %s (at %s)", row_name, num(&fin, max, a), label);
    line(&c->lines,
         "  (taking the max away changes nothing: e^(x − max) = e^x / e^max, and e^max cancels "
         "above and below the line; it only keeps the exponentials from overflowing)");

    /* Pass 2: the exponentials (each listed for a short row), their sum in
     * the kernel's order. Display only: the result comes from softmax_rows. */
    for (size_t j = 0; j < cols; j++)
        exps[j] = torchmath_expf(x[j] - max);
    float sum = sum_torch_order(exps, cols);
    /* The exponentials are not weights: written in fixed notation with
     * enough digits that a tiny one still shows its value (0.000135), not
     * in the output's 3-decimal format for probabilities. */
    NumFormat efmt = numfmt_choose_fixed(exps, cols, EXPLAIN_EXP_DIGITS);
    if (cols <= EXPLAIN_MAX_TERMS) {
        size_t label_cols = 0;
        for (size_t j = 0; j < cols; j++) {
            index_label(c->trace, c->tt->dims[last], j, label);
            if (utf8_width(label) > label_cols)
                label_cols = utf8_width(label);
        }
        for (size_t j = 0; j < cols; j++) {
            index_label(c->trace, c->tt->dims[last], j, label);
            int pad = (int)(label_cols - utf8_width(label));
            if (x[j] == -INFINITY)
                line(&c->lines, "    %s:%*s exp(-inf) = 0   (masked)", label, pad, "");
            else
                line(&c->lines, "    %s:%*s exp(%s − %s) = %s", label, pad, "", num(&fin, x[j], a), num(&fin, max, b),
                     num(&efmt, exps[j], r));
        }
    } else {
        line(&c->lines, "  exp(%s − %s) = %s", num(&fin, x[col], a), num(&fin, max, b), num(&efmt, exps[col], r));
    }
    line(&c->lines, "  sum of the %zu exps = %s", cols, num(&efmt, sum, a));

    /* Pass 3: this entry's share, as the kernel computed it. */
    float value = softmax_value(in->tensor, c->offset);
    line(&c->lines, "  %s / %s = %s", num(&efmt, exps[col], a), num(&efmt, sum, b), num(&c->fmt, value, r));
    free(exps);
}

/* OP_GATHER_ROWS: a value of the embedding row the token's id picks. */
static void explain_gather(Cell *c)
{
    const TraceTensor *table = input_of(c->trace, c->step, c->tt, 0);
    const TraceTensor *ids = input_of(c->trace, c->step, c->tt, 1);
    if (table == NULL || ids == NULL || c->tt->tensor->ndim != 2 || c->index[0] >= ids->tensor->size) {
        line(&c->lines, "  (its inputs do not fit)");
        return;
    }
    size_t s = c->index[0];
    float id = ids->tensor->data[s];
    size_t row = id >= 0.0f ? (size_t)id : 0;
    char token[LABEL_BYTES + 8], ids_name[NAME_BYTES];
    token_phrase(c->trace, s, token);
    element_name(c->trace, ids, c->index, -1, 0, -1, ids_name);
    equation(&c->lines, c->name, "%s[%zu][%zu]", table->name, row, c->index[1]);
    line(&c->lines, "  because token %s has id %zu (%s = %zu), so its embedding is row %zu of %s", token, row, ids_name,
         row, row, table->name);
}

/* OP_PICK_ROW: a copy of one value of the picked row. */
static void explain_pick(Cell *c)
{
    const TraceTensor *in = input_of(c->trace, c->step, c->tt, 0);
    if (in == NULL || in->tensor->ndim != 2) {
        line(&c->lines, "  (its input does not fit)");
        return;
    }
    size_t index[TENSOR_MAX_DIMS] = {c->tt->how.row, c->index[0]};
    char from[NAME_BYTES], token[LABEL_BYTES + 8];
    element_name(c->trace, in, index, -1, 0, -1, from);
    equation(&c->lines, c->name, "%s", from);
    if (in->dims[0] == DIM_SEQ) {
        token_phrase(c->trace, c->tt->how.row, token);
        line(&c->lines, "  copied: %s is row %zu of %s, the embedding of token %s", c->tt->name, c->tt->how.row,
             in->name, token);
    } else {
        line(&c->lines, "  copied: %s is row %zu of %s", c->tt->name, c->tt->how.row, in->name);
    }
}

/* OP_CONCAT_HEADS: a copy of one head's value. */
static void explain_concat(Cell *c)
{
    const TraceTensor *in = input_of(c->trace, c->step, c->tt, 0);
    if (in == NULL || in->tensor->ndim != 3 || c->tt->tensor->ndim != 2) {
        line(&c->lines, "  (its input does not fit)");
        return;
    }
    size_t E = in->tensor->shape[2], h = c->index[1] / E, e = c->index[1] % E;
    size_t index[TENSOR_MAX_DIMS] = {h, c->index[0], e};
    char from[NAME_BYTES];
    element_name(c->trace, in, index, -1, 0, -1, from);
    equation(&c->lines, c->name, "%s", from);
    line(&c->lines, "  copied: column %zu = head %zu × %zu + %zu, so value %zu of head %zu", c->index[1], h, E, e, e,
         h);
}

/* The ordinal suffix of n: "st", "nd", "rd" or "th". */
static const char *ordinal(size_t n)
{
    if (n % 100 >= 11 && n % 100 <= 13)
        return "th";
    return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

/* OP_RAND_UNIFORM, OP_RAND_NORMAL: which draw made the value. */
static void explain_random(Cell *c)
{
    const Tensor *t = c->tt->tensor;
    char shape[64] = "";
    for (int d = 0; d < t->ndim; d++)
        append(shape, sizeof shape, "%s%zu", d > 0 ? ", " : "", t->shape[d]);
    line(&c->lines, "%s", c->name);
    if (c->tt->loaded) { /* --weights: read from a file, not drawn */
        line(&c->lines, "  read from %s.%s.npy (--weights): value #%zu of %zu",
             trace_part_name(c->trace->steps[c->step].part), c->tt->name, c->offset + 1, t->size);
        return;
    }
    if (c->tt->how.op == OP_RAND_NORMAL) {
        line(&c->lines,
             "  drawn by nn.Embedding's normal_ initialisation (mean 0, std 1): value #%zu of %zu "
             "(seed %" PRIu64 ")",
             c->offset + 1, t->size, c->trace->config.seed);
        /* the token whose embedding this row is, when there is one */
        if (t->ndim == 2 && c->tt->dims[0] == DIM_VOCAB)
            for (size_t s = 0; s < c->trace->config.n_tokens; s++)
                if ((size_t)c->trace->config.token_ids[s] == c->index[0]) {
                    char token[LABEL_BYTES + 8];
                    token_phrase(c->trace, s, token);
                    line(&c->lines, "  row %zu is the embedding of token %s", c->index[0], token);
                    break;
                }
        return;
    }
    const TraceStep *step = &c->trace->steps[c->step];
    size_t call = 1;
    for (int i = 0; i < step->n_tensors && &step->tensors[i] != c->tt; i++)
        if (step->tensors[i].is_output && step->tensors[i].how.op == OP_RAND_UNIFORM)
            call++;
    line(&c->lines, "  drawn by torch.rand(%s): value #%zu of that call", shape, c->offset + 1);
    line(&c->lines, "  the %zu%s torch.rand call after torch.manual_seed(%" PRIu64 ") and the embedding", call,
         ordinal(call), c->trace->config.seed);
}

/* OP_TOKENIZE: the token's id. */
static void explain_tokenize(Cell *c)
{
    char token[LABEL_BYTES + 8];
    float id = c->tt->tensor->data[c->offset];
    token_phrase(c->trace, c->index[0], token);
    line(&c->lines, "%s", c->name);
    line(&c->lines, "  token %s has id %.0f: it picks row %.0f of the embedding table (a vocabulary of %zu)", token,
         (double)id, (double)id, c->trace->config.vocab_size);
}

/* out = in0 + in1 at the same place. */
static void explain_add(Cell *c)
{
    const TraceTensor *in0 = input_of(c->trace, c->step, c->tt, 0), *in1 = input_of(c->trace, c->step, c->tt, 1);
    line(&c->lines, "%s", c->name);
    if (in0 == NULL || in1 == NULL || c->offset >= in0->tensor->size || c->offset >= in1->tensor->size)
        return;
    char a[TRACE_NAME_BYTES + 64], b[TRACE_NAME_BYTES + 64];
    explain_element_name(c->trace, in0, c->offset, a, sizeof a);
    explain_element_name(c->trace, in1, c->offset, b, sizeof b);
    line(&c->lines, "  = %s + %s", a, b);
    line(&c->lines, "  = %.*g + %.*g", c->precision + 2, (double)in0->tensor->data[c->offset], c->precision + 2,
         (double)in1->tensor->data[c->offset]);
}

/* A value of q, k or v cut from the fused qkv: the column of qkv, and so
 * of c_attn.weight and c_attn.bias, it comes from (the fused weight
 * mapped back to the checkpoint). */
static void explain_split_qkv(Cell *c)
{
    static const char *const thirds[] = {"queries", "keys", "values"};
    const TraceTensor *in = input_of(c->trace, c->step, c->tt, 0);
    size_t part = c->tt->how.qkv_part, at;
    if (!qkv_offset(in, c->tt->tensor, part, c->index, &at)) {
        line(&c->lines, "  (its input does not fit)");
        return;
    }
    const Tensor *o = c->tt->tensor;
    size_t E = o->shape[2], D = o->shape[0] * E, col = at % (3 * D), h = c->index[0], j = c->index[2];
    size_t index[TENSOR_MAX_DIMS] = {c->index[1], col};
    char from[NAME_BYTES];
    element_name(c->trace, in, index, -1, 0, -1, from);
    equation(&c->lines, c->name, "%s", from);
    line(&c->lines, "  column %zu = %zu·%zu + %zu·%zu + %zu: %s (columns %zu..%zu), head %zu, element %zu", col, part,
         D, h, E, j, thirds[part], part * D, part * D + D - 1, h, j);
    line(&c->lines, "  = c_attn.bias[%zu] + ln_1 row %zu · c_attn.weight[:, %zu]", col, c->index[1], col);
    line(&c->lines, "  (h.%zu.attn.c_attn.weight is [%zu, %zu], x · W; its bias [%zu])", c->trace->config.layer, D,
         3 * D, 3 * D);
}

/* One value of a LayerNorm: its row's mean and rstd, the scale and the
 * shift, and the fused arithmetic. */
static void explain_layernorm(Cell *c)
{
    LayerNormTerms n;
    if (!layernorm_terms(c->trace, c->step, c->tt, c->index, &n)) {
        line(&c->lines, "  (its inputs do not fit)");
        return;
    }
    const int p = c->precision + 2;
    size_t D = c->tt->tensor->shape[1];
    line(&c->lines, "%s = (x − mean) · rstd · γ + β", c->name);
    line(&c->lines, "  x = %.*g, this row's mean over its %zu values = %.*g", p, (double)n.x, D, p, (double)n.mean);
    line(&c->lines, "  rstd = 1/√(variance + ε) = %.*g", p, (double)n.rstd);
    line(&c->lines, "  γ = %.*g, β = %.*g (ln_1.weight, .bias of column %zu)", p, (double)n.gamma, p, (double)n.beta,
         c->index[1]);
    line(&c->lines, "  (x − mean) · rstd = %.*g", p, (double)fmaf(n.x, n.rstd, -n.rstd * n.mean));
    line(&c->lines, "  computed as (x · rstd − rstd · mean) · γ + β in two fused multiply-adds");
}

/* A value made by an operation the inspector does not spell out: the
 * step's formula says how. */
static void explain_stage(Cell *c)
{
    line(&c->lines, "%s", c->name);
    line(&c->lines, "  computed as this step's formula says:");
    line(&c->lines, "  %s", c->trace->steps[c->step].formula);
}

/* A byte of the text: its value, and the byte-level character GPT-2's
 * BPE reads it as (the printable bytes '!'..'~', U+00A1..U+00AC and
 * U+00AE..U+00FF stand for themselves; the 68 others for U+0100 on, in
 * order). */
static void explain_bpe_byte(Cell *c)
{
    unsigned byte = (unsigned)c->tt->tensor->data[c->offset];
    unsigned below = 0; /* the bytes before it that do not stand for themselves */
    bool printable = false;
    for (unsigned v = 0; v <= byte && v < 256; v++) {
        printable = (v >= '!' && v <= '~') || (v >= 0xa1 && v <= 0xac) || v >= 0xae;
        below += !printable && v < byte;
    }
    uint32_t cp = printable ? byte : 0x100u + below;
    char ch[8];
    utf8_encode(cp, ch);
    line(&c->lines, "%s = %u (hex %02X)", c->name, byte, byte);
    if (printable)
        line(&c->lines, "  a printable byte: it stands for itself, %s (U+%04X)", ch, (unsigned)cp);
    else
        line(&c->lines,
             "  not printable (a control, the space or one of a few more): %u such bytes come before it, so it is "
             "read as U+0100 + %u = %s (U+%04X)",
             below, below, ch, (unsigned)cp);
}

/* A word of the pre-split: its merges, as the trace replayed them. */
static void explain_bpe_word(Cell *c)
{
    line(&c->lines, "%s = %.0f piece%s", c->name, (double)c->tt->tensor->data[c->offset],
         c->tt->tensor->data[c->offset] == 1.0f ? "" : "s");
    if (c->offset >= c->trace->n_bpe_words || c->trace->bpe_words[c->offset] == NULL)
        return;
    for (const char *p = c->trace->bpe_words[c->offset]; *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        line(&c->lines, "  %.*s", (int)len, p);
        p += len + (eol != NULL);
    }
}

/* An input shown again: which step made it. */
static void explain_shown(Cell *c)
{
    const Trace *trace = c->trace;
    int made = c->tt->made_in;
    line(&c->lines, "%s", c->name);
    if (made < 0 || made >= trace->n_steps || made == c->step) {
        line(&c->lines, "  an input of this step");
        return;
    }
    const TraceStep *origin = &trace->steps[made];
    line(&c->lines, "  made in step %d (%s): %s", made + 1, origin->id, origin->title);
    /* the same name made by a different tensor: part 2's second embedding */
    bool same = false;
    for (int i = 0; i < origin->n_tensors; i++)
        same |= origin->tensors[i].tensor == c->tt->tensor;
    if (!same && trace->steps[c->step].part != origin->part)
        line(&c->lines,
             "  part 2 made it again after re-seeding (torch.manual_seed(%" PRIu64 ")): its values equal step %d's",
             trace->config.seed, made + 1);
    line(&c->lines, "  select it in step %d to see how it was made", made + 1);
}

/* Writes the explanation of one value: a part per kind of operation, then
 * the value as the panel shows it. Every line ends in '\n'. */
void explain_cell(const Trace *trace, int step, int tensor, size_t offset, int precision, const ExplainFormats *formats,
                  int width, StrBuf *out)
{
    const TraceTensor *tt = step_tensor(trace, step, tensor);
    Cell c;
    memset(&c, 0, sizeof c);
    c.lines.out = out;
    c.lines.width = width > EXPLAIN_MIN_WIDTH ? (size_t)width : EXPLAIN_MIN_WIDTH;
    if (tt == NULL || offset >= tt->tensor->size) {
        line(&c.lines, "no such value");
        return;
    }
    c.trace = trace;
    c.step = step;
    c.tt = tt;
    c.offset = offset;
    c.precision = precision;
    c.formats = formats;
    c.fmt = step_format(formats, step, tt, &trace->steps[step], precision);
    unravel_offset(tt->tensor, offset, c.index);
    element_name(trace, tt, c.index, -1, 0, -1, c.name);

    switch (tt->is_output ? tt->how.op : OP_SHOWN) {
    case OP_SHOWN:
        explain_shown(&c);
        break;
    case OP_TOKENIZE:
        explain_tokenize(&c);
        break;
    case OP_RAND_NORMAL:
    case OP_RAND_UNIFORM:
        explain_random(&c);
        break;
    case OP_GATHER_ROWS:
        explain_gather(&c);
        break;
    case OP_PICK_ROW:
        explain_pick(&c);
        break;
    case OP_MATVEC:
    case OP_DOT_ROWS:
    case OP_MATMUL:
    case OP_ADDMM:
        explain_dot(&c);
        break;
    case OP_SCALE:
        explain_scale(&c);
        break;
    case OP_SOFTMAX:
        explain_softmax(&c);
        break;
    case OP_EINSUM:
        explain_einsum(&c);
        break;
    case OP_CONCAT_HEADS:
        explain_concat(&c);
        break;
    case OP_ADD:
        explain_add(&c);
        break;
    case OP_SPLIT_QKV:
        explain_split_qkv(&c);
        break;
    case OP_LAYERNORM:
        explain_layernorm(&c);
        break;
    case OP_BPE_BYTE:
        explain_bpe_byte(&c);
        break;
    case OP_BPE_WORD:
        explain_bpe_word(&c);
        break;
    case OP_STAGE:
        explain_stage(&c);
        break;
    }
    put_result(&c);
}

/* ------------------------------------------------------------------------
 * What the letters of a step's einsum stand for
 * ---------------------------------------------------------------------- */

/* Records in axes the letters of out's einsum on out and its operands as
 * the panels show them (spec as einsum_setup leaves it). */
static void axes_mark_dims(const TraceStep *s, const TraceTensor *out, const TraceTensor *const in[2],
                           const EinsumSpec *spec, EinsumAxes *axes)
{
    for (int t = 0; t < s->n_tensors; t++) {
        const TraceTensor *tt = &s->tensors[t];
        const char *labels = tt == out     ? spec->out_labels
                             : tt == in[0] ? spec->labels[0]
                             : tt == in[1] ? spec->labels[1]
                                           : NULL;
        int rank = tt == out ? spec->out_rank : tt == in[0] ? spec->rank[0] : tt == in[1] ? spec->rank[1] : 0;
        for (int d = 0; labels != NULL && d < rank && d < TENSOR_MAX_DIMS; d++)
            axes->dim_letter[t][d] = labels[d];
    }
}

/* The role of letter l of spec, bound to out and its operands in[2]: by
 * the kind of the dimensions it indexes, and for tokens by where it sits
 * in a tensor with two token dimensions. */
static AxisRole axis_role(const EinsumSpec *spec, int l, const TraceTensor *out, const TraceTensor *const in[2])
{
    const TraceTensor *tensors[3] = {in[0], in[1], out};
    const char *labels[3] = {spec->labels[0], spec->labels[1], spec->out_labels};
    int ranks[3] = {spec->rank[0], spec->rank[1], spec->out_rank};
    DimKind kind = DIM_OTHER;
    AxisRole token = AXIS_TOKEN;
    bool sums_tokens = false;
    for (int k = 0; k < 3; k++) {
        int seq_seen = 0;
        for (int d = 0; d < ranks[k]; d++) {
            DimKind dk = tensors[k]->dims[d];
            const char *slot = memchr(spec->letters, labels[k][d], (size_t)spec->n_letters);
            sums_tokens |= dk == DIM_SEQ && slot != NULL && spec->summed[slot - spec->letters];
            seq_seen += dk == DIM_SEQ;
            if (labels[k][d] != spec->letters[l])
                continue;
            kind = dk;
            if (dk == DIM_SEQ) {
                int seq_total = 0;
                for (int e = 0; e < ranks[k]; e++)
                    seq_total += tensors[k]->dims[e] == DIM_SEQ;
                if (seq_total == 2)
                    token = seq_seen == 1 ? AXIS_QUERY : AXIS_KEY;
            }
        }
    }
    switch (kind) {
    case DIM_SEQ:
        return token;
    case DIM_MODEL:
        return AXIS_MODEL;
    case DIM_HEAD:
        return AXIS_HEAD;
    case DIM_HEAD_DIM:
        return sums_tokens ? AXIS_VALUE_DIM : AXIS_HEAD_DIM;
    case DIM_VOCAB:
    case DIM_OTHER:
        break;
    }
    return AXIS_OTHER;
}

bool explain_einsum_axes(const Trace *trace, int step, EinsumAxes *axes)
{
    memset(axes, 0, sizeof *axes);
    if (step < 0 || step >= trace->n_steps)
        return false;
    const TraceStep *s = &trace->steps[step];
    bool first = true;
    for (int t = 0; t < s->n_tensors; t++) {
        const TraceTensor *out = &s->tensors[t];
        if (!out->is_output || out->how.op != OP_EINSUM)
            continue;
        EinsumSpec spec;
        const Tensor *ops[2];
        const TraceTensor *in[2];
        if (!einsum_setup(trace, step, out, &spec, ops, in, NULL)) {
            memset(axes, 0, sizeof *axes);
            return false;
        }
        axes_mark_dims(s, out, in, &spec, axes);
        for (int l = 0; first && l < spec.n_letters; l++)
            axes->axis[l] = (EinsumAxis){spec.letters[l], spec.size[l], axis_role(&spec, l, out, in), spec.summed[l]};
        if (first)
            axes->n = spec.n_letters;
        first = false;
    }
    return axes->n > 0;
}

const char *explain_axis_name(AxisRole role, bool brief)
{
    static const char *const FULL[AXIS_ROLE_COUNT] =
        {[AXIS_OTHER] = "values",      [AXIS_TOKEN] = "token",        [AXIS_QUERY] = "query token",
         [AXIS_KEY] = "key token",     [AXIS_MODEL] = "embed dim",    [AXIS_HEAD] = "head",
         [AXIS_HEAD_DIM] = "head dim", [AXIS_VALUE_DIM] = "value dim"};
    static const char *const BRIEF[AXIS_ROLE_COUNT] =
        {[AXIS_OTHER] = "vals",  [AXIS_TOKEN] = "token", [AXIS_QUERY] = "query",  [AXIS_KEY] = "key",
         [AXIS_MODEL] = "embed", [AXIS_HEAD] = "head",   [AXIS_HEAD_DIM] = "dim", [AXIS_VALUE_DIM] = "value"};
    if ((int)role < 0 || role >= AXIS_ROLE_COUNT)
        role = AXIS_OTHER;
    return brief ? BRIEF[role] : FULL[role];
}

void explain_letters_text(const EinsumAxes *axes, int detail, char *buf, size_t size)
{
    StrBuf out = {0};
    strbuf_printf(&out, "%s", detail == 0 ? "letters: " : "");
    for (int l = 0; l < axes->n; l++) {
        const EinsumAxis *a = &axes->axis[l];
        strbuf_printf(&out, "%s%c=%zu", l > 0 ? (detail < 2 ? ", " : " ") : "", a->letter, a->size);
        if (detail < 3)
            strbuf_printf(&out, " %s", explain_axis_name(a->role, detail == 2));
    }
    const char *sep = detail < 2 ? "; summed: " : "; sums ";
    for (int l = 0; l < axes->n; l++)
        if (axes->axis[l].summed) {
            strbuf_printf(&out, "%s%c", sep, axes->axis[l].letter);
            sep = " ";
        }
    snprintf(buf, size, "%s", strbuf_text(&out));
    strbuf_free(&out);
}
