/*
 * explain.h - where a number came from.
 *
 * For a value of a step's output tensor, explain_is_source says which
 * values of the step's other tensors it was computed from (the UI
 * highlights them), and explain_cell writes out the arithmetic that made
 * it, term by term, with the real numbers (the UI's cell inspector). Both
 * read the Derivation the trace recorded; neither draws.
 */
#ifndef ATTN_EXPLAIN_H
#define ATTN_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "attn_limits.h"
#include "numfmt.h"
#include "strbuf.h"
#include "trace.h"

/* The number format of every tensor of every step, as the panels show
 * them (view.c chooses them once). */
typedef struct ExplainFormats {
    NumFormat of[TRACE_MAX_STEPS][TRACE_MAX_STEP_TENSORS];
} ExplainFormats;

/* EXPLAIN_MAX_TERMS, the most terms of a sum explain_cell lists before
 * eliding the middle ones, is in attn_limits.h. */

/* True when the value at offset `offset` of tensor `tensor` of step `step`
 * is one the selected value (tensor `sel_tensor`, offset `sel_offset`, an
 * output of the same step) is computed from. Cheap enough to call for
 * every visible cell:
 *   OP_MATVEC out[j]: row j of the matrix and all of the vector;
 *   OP_DOT_ROWS out[i][j]: row i of in0 and row j of in1;
 *   OP_MATMUL out[i][j]: row i of in0 and column j of in1;
 *   OP_SCALE, OP_SOFTMAX: the same position, or for softmax the whole row
 *     it is normalized over;
 *   OP_EINSUM: every operand value whose free (output) letters take the
 *     selected value's indices (the summed letters range freely);
 *   OP_GATHER_ROWS out[s][d]: ids[s] and embedding[ids[s]][d];
 *   OP_PICK_ROW, OP_CONCAT_HEADS: the one value copied.
 * False for a selection that is not an output, or any other tensor. */
bool explain_is_source(const Trace *trace, int step, int sel_tensor, size_t sel_offset, int tensor, size_t offset);

/* Appends to out the arithmetic behind one value, as lines of at most
 * width columns (>= 40), numbers written with `precision` digits as the
 * UI shows them, and the last line giving the value exactly as the panel
 * shows it. For example, for scores_1[2]:
 *   scores_1[is] = query_1 · keys[is]            (a dot product over d = 16)
 *     =   1.2345 × -0.5000     (d = 0)
 *     + ...
 *   = -18.1116
 * Sums of more than EXPLAIN_MAX_TERMS terms list the first and last few
 * and say how many were left out. Softmax shows exp(x - max) over the sum
 * of the row's exps; einsum shows the equation with each letter bound to
 * its index (h=0, s=2, e=1) and names the summed letter; random draws say
 * which generator call made them and their position in it; an input shown
 * again says which step made it. Labels use the token words for sequence
 * dimensions. formats, when not NULL, gives every tensor's panel format
 * (the UI has them; choosing one reads every value of the tensor), else
 * they are chosen here. */
void explain_cell(const Trace *trace, int step, int tensor, size_t offset, int precision, const ExplainFormats *formats,
                  int width, StrBuf *out);

/* Writes the label of cfg's token s (s < n_tokens) into buf, at most size
 * bytes: its word and, when the same word is also another token, its
 * 1-based position, "Ġcat(4)". A label wider than max_cols keeps the
 * position whole and cuts the word, which ends in "…" (a code point is
 * counted as one column). Returns buf. */
char *explain_token_label(const Config *cfg, size_t s, int max_cols, char *buf, size_t size);

/* Names element offset of tt as the inspector does, into buf: "a1[is]",
 * "scores[the(1)][the(4)]" (a repeated word carries its 1-based position),
 * "queries[1][is][3]". */
void explain_element_name(const Trace *trace, const TraceTensor *tt, size_t offset, char *buf, size_t size);

/* The value explain_cell arrives at, recomputed from the inputs the way the
 * trace computed it (for tests: it must equal the tensor's value bit for
 * bit). For inputs shown again and random draws, the stored value. */
float explain_recompute(const Trace *trace, int step, int tensor, size_t offset);

/* ------------------------------------------------------------------------
 * What the letters of a step's einsum stand for
 * ---------------------------------------------------------------------- */

/* The role of one einsum letter's axis. The UI gives each role one colour,
 * so an axis looks the same in the equation, the panel titles and the
 * labels, whichever letter the equation spells it with. */
typedef enum AxisRole {
    AXIS_OTHER,     /* no named meaning */
    AXIS_TOKEN,     /* the sentence's tokens, where no query/key pair is in play (s in 'sd,hde->hse') */
    AXIS_QUERY,     /* the token doing the looking: rows of scores and weights */
    AXIS_KEY,       /* the token looked at: columns of scores and weights */
    AXIS_MODEL,     /* the embedding width d */
    AXIS_HEAD,      /* the heads */
    AXIS_HEAD_DIM,  /* one head's width, in queries and keys */
    AXIS_VALUE_DIM, /* one head's width, in the values a weighted sum blends */
    AXIS_ROLE_COUNT
} AxisRole;

/* One letter of a step's einsum: its size and what it runs over. */
typedef struct EinsumAxis {
    char letter;   /* 'h' */
    size_t size;   /* how many values it runs over */
    AxisRole role; /* what it runs over */
    bool summed;   /* not in the output: summed away */
} EinsumAxis;

/* The letters of a step's einsum and where they sit in the step's panels. */
typedef struct EinsumAxes {
    int n;                                                    /* letters, in first-seen order */
    EinsumAxis axis[EINSUM_MAX_LETTERS];                      /* each letter */
    char dim_letter[TRACE_MAX_STEP_TENSORS][TENSOR_MAX_DIMS]; /* per tensor of the step and dimension as shown, its
                                                                letter, or 0 for a tensor outside the einsum */
} EinsumAxes;

/* Fills axes for step `step` of trace: the letters of the equation of its
 * einsum outputs (OP_EINSUM), in first-seen order, each with its size and
 * role, and the letter of every dimension of the tensors those outputs and
 * their operands are, as the panels show them (keys [h, k, e] in
 * 'hse,hek->hsk', where keysᵀ enters). A sequence letter is the query when
 * a tensor with two token dimensions has it first, the key when second,
 * else a plain token; a head-width letter is the value width when the
 * einsum sums over tokens (a weighted sum of values). False, with axes->n
 * 0, when the step has no einsum output or its inputs do not fit. */
bool explain_einsum_axes(const Trace *trace, int step, EinsumAxes *axes);

/* The einsum's letters as one line of plain ASCII into buf (size bytes),
 * at detail 0 (most) to 3 (least): each letter with its size and (detail
 * below 3) what it runs over ("i=5 query token"; detail 2 in a word:
 * "i=5 query"), then the letters summed away; detail 0 opens with
 * "letters:". Plain ASCII, so a byte is a column. */
void explain_letters_text(const EinsumAxes *axes, int detail, char *buf, size_t size);

/* What role's axis runs over, as a noun ("query token"); with brief, a
 * word of at most 5 letters ("query"). Static text. */
const char *explain_axis_name(AxisRole role, bool brief);

#endif
