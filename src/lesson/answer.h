/*
 * answer.h - `=` answers of a lesson's quizzes: a small expression that
 * names a value of the lesson's trace, so that an answer follows the
 * sentence and the sizes instead of being copied from a run.
 *
 * The language (docs/lesson-format.md, "Answers that read the trace"):
 *
 *     expr  := ref | func '(' ref ')'
 *     func  := shape | argmax | argmin | sum | max | min | changed
 *     ref   := NAME index*
 *     index := '[' number ']' | '[' word ']'
 *
 * NAME is a tensor of the trace ("queries", "a1"); a number counts from 0,
 * as PyTorch does and as the tracer labels heads; a word is a token of the
 * sentence and may index only a dimension that runs over the tokens.
 * changed(X) counts the elements of X that a step's experiment altered:
 * it needs the original trace beside the changed one (answer_eval_changed).
 */
#ifndef ATTN_ANSWER_H
#define ATTN_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "attn_limits.h"
#include "error.h"
#include "trace.h"

typedef enum AnswerKind {
    ANSWER_SHAPE,   /* shape(...): ndim and shape */
    ANSWER_NUMBER,  /* one element, or sum/max/min: number */
    ANSWER_POSITION /* argmax/argmin: position along the last dimension, also in number */
} AnswerKind;

typedef struct AnswerValue {
    AnswerKind kind;
    int ndim;                      /* ANSWER_SHAPE: the rank (0 for a scalar) */
    size_t shape[TENSOR_MAX_DIMS]; /* ANSWER_SHAPE */
    double number;                 /* ANSWER_NUMBER; ANSWER_POSITION: the position */
    float element;                 /* ANSWER_NUMBER of one element: its float, for its shortest text */
    bool is_element;               /* number is one element of a tensor (element holds it) */
    size_t position;               /* ANSWER_POSITION, counted from 0 */
    bool over_tokens;              /* ANSWER_POSITION: the dimension runs over the tokens */
    char tensor[TRACE_NAME_BYTES]; /* the tensor the expression read */
} AnswerValue;

/* Evaluates expr (the answer's text after '=', NUL-terminated) against
 * trace. Names are looked up in part first (the part of the quiz's step),
 * then in the other parts. Returns true with *out filled; false with err
 * set (STATUS_DATAERR) and err->at the byte offset in expr that is wrong.
 * Neither trace nor expr is kept. */
bool answer_eval(const Trace *trace, TracePart part, const char *expr, AnswerValue *out, Error *err);

/* answer_eval for a quiz of a step that runs under an experiment: expr is
 * evaluated against trace (the changed trace), and changed(X) counts the
 * elements of X (what its indexes leave) that differ from original's
 * tensor of the same part and name, as trace_diff compares them (equal
 * bits, +0 and -0, and two NaNs are the same; a tensor only trace has
 * counts every element), an ANSWER_NUMBER. original NULL: no experiment,
 * and changed() is an error (err->at at the function's name). Neither
 * trace is kept. */
bool answer_eval_changed(const Trace *trace, const Trace *original, TracePart part, const char *expr, AnswerValue *out,
                         Error *err);

/* Whether expr (an `=` answer's text after '=', NUL-terminated) calls
 * changed(): its answer is a count that the diff view's marks and counts
 * would give away. False for NULL. */
bool answer_uses_changed(const char *expr);

/* Finds what ref names in trace (ref: a tensor name and indexes, the
 * same syntax as answer_eval's, with no function): *tt gets the tensor as
 * the step that shows it first in part (or any part), *offset the offset
 * of the first element the indexes leave (the cell, or the start of a row
 * or head). Returns true; false with err set (err->at in ref). */
bool answer_locate(const Trace *trace, TracePart part, const char *ref, const TraceTensor **tt, size_t *offset,
                   Error *err);

/* The tensor a plain shape answer is about: the name that follows "shape
 * of " in question (backticks or quotes around it allowed), when it is a
 * tensor of trace (looked up as answer_eval does) and stands alone: what
 * follows it is the end, a punctuation mark or a word, not an operator
 * or an index. Returns it (owned by trace) or NULL. */
const TraceTensor *answer_question_tensor(const Trace *trace, TracePart part, const char *question);

/* Whether typed[0..len) names the token label[0..llen), ignoring ASCII case: the
 * label itself, or, for a label of a model's tokenizer that starts with
 * the space mark "\u0120" (GPT-2's byte-level space, "\u0120farmer"), the
 * rest of it ("farmer"), since a learner cannot type the mark. */
bool quiz_token_matches(const char *typed, size_t len, const char *label, size_t llen);

/* What quiz_token_named returns when text names no token, and when it is
 * a word alone that is more than one token of the sentence. */
enum { TOKEN_NOT_NAMED = -1, TOKEN_TWICE = -2 };

/* The token of cfg's sentence that text[0..len) names, as the screen
 * labels it (explain_token_label): a word alone (quiz_token_matches), or
 * a word followed by a position counted from 1, "the(5)", when token 5 is
 * that word. Returns the token's position counted from 0, TOKEN_TWICE for
 * a word alone the sentence holds more than once, or TOKEN_NOT_NAMED. */
long quiz_token_named(const Config *cfg, const char *text, size_t len);

#endif
