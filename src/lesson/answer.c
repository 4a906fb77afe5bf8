/*
 * answer.c - evaluating a quiz's `=` answer against a trace (answer.h):
 * a hand-written scanner over one line, a lookup of the tensor by name,
 * its indexes applied one dimension at a time, then the function.
 * changed() also compares the trace with the original it was changed
 * from (experiment.h's trace_diff).
 */
#include "answer.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"

/* The functions of the language. */
typedef enum Func { FUNC_NONE, FUNC_SHAPE, FUNC_ARGMAX, FUNC_ARGMIN, FUNC_SUM, FUNC_MAX, FUNC_MIN, FUNC_CHANGED } Func;

static const struct {
    const char *name;
    Func func;
} FUNCS[] = {
    {"shape", FUNC_SHAPE}, {"argmax", FUNC_ARGMAX}, {"argmin", FUNC_ARGMIN},   {"sum", FUNC_SUM},
    {"max", FUNC_MAX},     {"min", FUNC_MIN},       {"changed", FUNC_CHANGED},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define WORD_BYTES 64 /* a name or an index word, as quoted in a message */

/* The scanner: the text and where it is. */
typedef struct Scan {
    const char *s;
    size_t at;
} Scan;

/* A tensor cut down by its indexes: the first `fixed` dimensions are
 * chosen (their offset is base), the rest remain. */
typedef struct View {
    const TraceTensor *tt;
    int fixed;
    size_t base; /* offset in the tensor's data of the first remaining element */
} View;

static void skip_spaces(Scan *sc)
{
    while (sc->s[sc->at] == ' ')
        sc->at++;
}

/* Reads a name [A-Za-z_][A-Za-z0-9_]* into buf (WORD_BYTES); false when
 * there is none at the scanner's place. */
static bool scan_name(Scan *sc, char *buf)
{
    size_t n = 0;
    const char *s = sc->s + sc->at;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
        n++;
    snprintf(buf, WORD_BYTES, "%.*s", (int)n, s);
    sc->at += n;
    return true;
}

/* Edit distance of two short strings, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= WORD_BYTES || lb >= WORD_BYTES)
        return (size_t)-1;
    size_t row[WORD_BYTES + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The tensor named name: in part first, then in any part; NULL when
 * the trace has none. */
static const TraceTensor *find_tensor(const Trace *trace, TracePart part, const char *name)
{
    const TraceTensor *tt = trace_find_tensor(trace, part, name);
    for (int p = PART_SINGLE_HEAD; tt == NULL && p <= PART_MODEL; p++)
        tt = trace_find_tensor(trace, (TracePart)p, name);
    return tt;
}

/* Sets err for an unknown tensor name at offset at, with the nearest name
 * of the trace as a suggestion. Returns false. */
static bool unknown_tensor(const Trace *trace, const char *name, size_t at, Error *err)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int i = 0; i < trace->n_steps; i++)
        for (int j = 0; j < trace->steps[i].n_tensors; j++) {
            const char *cand = trace->steps[i].tensors[j].name;
            size_t d = distance(name, cand);
            if (d < best_d)
                best_d = d, best = cand;
        }
    if (best != NULL && best_d <= 1 + strlen(name) / 3)
        return error_set_at(err, STATUS_DATAERR, at, "'%s' is not a tensor of the lesson's trace (did you mean '%s'?)",
                            name, best);
    return error_set_at(err, STATUS_DATAERR, at, "'%s' is not a tensor of the lesson's trace", name);
}

/* The elements of dimension d and beyond of t (their product). */
static size_t stride_from(const Tensor *t, int d)
{
    size_t n = 1;
    for (int i = d; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

bool quiz_token_matches(const char *typed, size_t len, const char *label, size_t llen)
{
    static const char space_mark[] = "\xc4\xa0"; /* U+0120, GPT-2's byte-level space */
    size_t mark = sizeof space_mark - 1;
    if (llen > mark && memcmp(label, space_mark, mark) == 0 && len != llen) {
        label += mark;
        llen -= mark;
    }
    if (len != llen)
        return false;
    for (size_t k = 0; k < len; k++)
        if (tolower((unsigned char)typed[k]) != tolower((unsigned char)label[k]))
            return false;
    return true;
}

long quiz_token_named(const Config *cfg, const char *text, size_t len)
{
    long found = TOKEN_NOT_NAMED;
    for (size_t i = 0; i < cfg->n_tokens; i++) {
        if (cfg->tokens[i] == NULL || !quiz_token_matches(text, len, cfg->tokens[i], strlen(cfg->tokens[i])))
            continue;
        if (found >= 0)
            return TOKEN_TWICE;
        found = (long)i;
    }
    if (found >= 0 || len < 4 || text[len - 1] != ')')
        return found;
    /* a label: "word(N)", N from 1 */
    size_t digits = len - 1;
    while (digits > 0 && text[digits - 1] >= '0' && text[digits - 1] <= '9')
        digits--;
    if (digits == len - 1 || digits < 3 || text[digits - 1] != '(' || text[digits] == '0')
        return TOKEN_NOT_NAMED;
    size_t position = 0;
    for (size_t k = digits; k + 1 < len && position <= cfg->n_tokens; k++)
        position = position * 10 + (size_t)(text[k] - '0');
    if (position == 0 || position > cfg->n_tokens || cfg->tokens[position - 1] == NULL)
        return TOKEN_NOT_NAMED;
    const char *word = cfg->tokens[position - 1];
    return quiz_token_matches(text, digits - 1, word, strlen(word)) ? (long)position - 1 : TOKEN_NOT_NAMED;
}

/* The position a token word names in the sentence, or -1 with err set
 * (not a token, or a word that appears more than once). A model token's
 * space mark may be left out ("boat" names "\u0120boat"), and a repeated
 * word may carry its label's position ("the(5)"). at is the word's
 * offset, for the error. */
static long token_position(const Config *cfg, const char *word, size_t at, Error *err)
{
    long found = quiz_token_named(cfg, word, strlen(word));
    if (found == TOKEN_TWICE) {
        long first = -1;
        for (size_t i = 0; i < cfg->n_tokens; i++) {
            if (cfg->tokens[i] == NULL ||
                !quiz_token_matches(word, strlen(word), cfg->tokens[i], strlen(cfg->tokens[i])))
                continue;
            if (first >= 0) {
                error_set_at(err, STATUS_DATAERR, at,
                             "'%s' is tokens %ld and %zu of the sentence: index it by its position (from 0) or "
                             "by its label, %s(%ld) or %s(%zu)",
                             word, first, i, word, first + 1, word, i + 1);
                return -1;
            }
            first = (long)i;
        }
    }
    if (found < 0)
        error_set_at(err, STATUS_DATAERR, at, "'%s' is not a token of the sentence", word);
    return found;
}

/* Reads one "[number]" or "[word]" at the scanner and applies it to the
 * view's next dimension. False with err set. */
static bool scan_index(Scan *sc, const Trace *trace, View *v, Error *err)
{
    const Tensor *t = v->tt->tensor;
    size_t open = sc->at++;
    skip_spaces(sc);
    size_t start = sc->at;
    while (sc->s[sc->at] != '\0' && sc->s[sc->at] != ']')
        sc->at++;
    if (sc->s[sc->at] != ']')
        return error_set_at(err, STATUS_DATAERR, open, "'[' is not closed with ']'");
    size_t end = sc->at++;
    while (end > start && sc->s[end - 1] == ' ')
        end--;
    if (end == start)
        return error_set_at(err, STATUS_DATAERR, open, "an index is empty: write a number (from 0) or a token");
    if (v->fixed >= t->ndim)
        return error_set_at(err, STATUS_DATAERR, open, "%s has %d dimension%s: too many indexes", v->tt->name, t->ndim,
                            t->ndim == 1 ? "" : "s");
    char word[WORD_BYTES];
    snprintf(word, sizeof word, "%.*s", (int)(end - start), sc->s + start);
    size_t n = t->shape[v->fixed];
    long pos;
    if (strspn(word, "0123456789") == strlen(word)) {
        pos = strlen(word) < 10 ? atol(word) : -1;
        if (pos < 0 || (size_t)pos >= n)
            return error_set_at(err, STATUS_DATAERR, start,
                                "index %s is out of range: dimension %d of %s runs from 0 to %zu", word, v->fixed + 1,
                                v->tt->name, n - 1);
    } else {
        if (v->tt->dims[v->fixed] != DIM_SEQ)
            return error_set_at(err, STATUS_DATAERR, start,
                                "'%s': dimension %d of %s does not run over the tokens (index it by a number)", word,
                                v->fixed + 1, v->tt->name);
        if ((pos = token_position(&trace->config, word, start, err)) < 0)
            return false;
    }
    v->base += (size_t)pos * stride_from(t, v->fixed + 1);
    v->fixed++;
    return true;
}

/* Which function name is, FUNC_NONE for none; false with err set when
 * it is unknown (at is its offset). */
static bool find_func(const char *name, size_t at, Func *func, Error *err)
{
    for (size_t i = 0; i < COUNT_OF(FUNCS); i++)
        if (strcmp(FUNCS[i].name, name) == 0) {
            *func = FUNCS[i].func;
            return true;
        }
    if (strcmp(name, "count_changed") == 0)
        return error_set_at(err, STATUS_DATAERR, at, "count_changed() is spelled changed(), as in =changed(a1)");
    return error_set_at(err, STATUS_DATAERR, at,
                        "unknown function '%s' (the functions are shape, argmax, argmin, sum, max, min, changed)",
                        name);
}

/* changed(): how many elements of the view (its remaining dimensions)
 * differ between trace (the changed trace) and original, as trace_diff
 * counts them (bits, +-0 and NaN equal). original NULL: the quiz's step
 * runs under no change, an error at at. */
static bool count_changed(const Trace *trace, const Trace *original, const View *v, size_t at, AnswerValue *out,
                          Error *err)
{
    if (original == NULL)
        return error_set_at(err, STATUS_DATAERR, at,
                            "changed() counts what a change alters: the quiz's step needs an 'experiment:' line");
    TraceDiff diff;
    if (!trace_diff(original, trace, &diff, err))
        return false;
    const TensorDiff *d = trace_diff_for_tensor(&diff, v->tt->tensor);
    size_t count = stride_from(v->tt->tensor, v->fixed), n = 0;
    for (size_t i = 0; d != NULL && i < count; i++)
        n += trace_diff_cell_changed(d, v->base + i);
    trace_diff_free(&diff);
    out->kind = ANSWER_NUMBER;
    out->number = (double)n;
    return true;
}

/* Applies func to the view (its remaining dimensions) into *out. at is
 * the expression's start, for errors. */
static bool apply_func(const Trace *trace, Func func, const View *v, size_t at, AnswerValue *out, Error *err)
{
    const Tensor *t = v->tt->tensor;
    int left = t->ndim - v->fixed;
    size_t count = stride_from(t, v->fixed);
    const float *x = t->data + v->base;
    (void)trace;
    if (func == FUNC_SHAPE) {
        out->kind = ANSWER_SHAPE;
        out->ndim = left;
        for (int i = 0; i < left; i++)
            out->shape[i] = t->shape[v->fixed + i];
        return true;
    }
    if (func == FUNC_NONE) {
        if (left > 0)
            return error_set_at(err, STATUS_DATAERR, at,
                                "%s has %d dimension%s left: index each one, or use shape(), sum(), max() or argmax()",
                                v->tt->name, left, left == 1 ? "" : "s");
        out->kind = ANSWER_NUMBER;
        out->is_element = true;
        out->element = x[0];
        out->number = x[0];
        return true;
    }
    if (func == FUNC_ARGMAX || func == FUNC_ARGMIN) {
        if (left != 1)
            return error_set_at(err, STATUS_DATAERR, at, "argmax() and argmin() need one dimension left, %s has %d",
                                v->tt->name, left);
        size_t best = 0;
        bool tie = false;
        for (size_t i = 1; i < count; i++) {
            bool better = func == FUNC_ARGMAX ? x[i] > x[best] : x[i] < x[best];
            if (better)
                best = i, tie = false;
            else if (x[i] == x[best])
                tie = true;
        }
        if (tie)
            return error_set_at(err, STATUS_DATAERR, at, "no single answer: two entries of %s tie", v->tt->name);
        out->kind = ANSWER_POSITION;
        out->position = best;
        out->number = (double)best;
        out->over_tokens = v->tt->dims[v->fixed] == DIM_SEQ;
        return true;
    }
    /* sum, max, min over every remaining element, in float64 */
    double acc = func == FUNC_SUM ? 0.0 : x[0];
    for (size_t i = 0; i < count; i++) {
        if (func == FUNC_SUM)
            acc += x[i];
        else if (func == FUNC_MAX ? x[i] > acc : x[i] < acc)
            acc = x[i];
    }
    if (!isfinite(acc))
        return error_set_at(err, STATUS_DATAERR, at, "the value is not a finite number (%g)", acc);
    out->kind = ANSWER_NUMBER;
    out->number = acc;
    return true;
}

bool answer_eval(const Trace *trace, TracePart part, const char *expr, AnswerValue *out, Error *err)
{
    return answer_eval_changed(trace, NULL, part, expr, out, err);
}

bool answer_eval_changed(const Trace *trace, const Trace *original, TracePart part, const char *expr, AnswerValue *out,
                         Error *err)
{
    memset(out, 0, sizeof *out);
    Scan sc = {expr, 0};
    char name[WORD_BYTES], ref_name[WORD_BYTES];
    Func func = FUNC_NONE;

    /* 1. a function's name and its '(', or the tensor's name */
    skip_spaces(&sc);
    size_t start = sc.at;
    if (!scan_name(&sc, name))
        return error_set_at(err, STATUS_DATAERR, sc.at,
                            "expected a tensor name or a function such as shape(...) after '='");
    skip_spaces(&sc);
    size_t ref_at = start;
    if (expr[sc.at] == '(') {
        if (!find_func(name, start, &func, err))
            return false;
        sc.at++;
        skip_spaces(&sc);
        ref_at = sc.at;
        if (!scan_name(&sc, ref_name))
            return error_set_at(err, STATUS_DATAERR, sc.at, "expected a tensor name inside %s()", name);
    } else {
        snprintf(ref_name, sizeof ref_name, "%s", name);
    }

    /* 2. the tensor, then its indexes */
    View v = {find_tensor(trace, part, ref_name), 0, 0};
    if (v.tt == NULL || v.tt->tensor == NULL)
        return unknown_tensor(trace, ref_name, ref_at, err);
    memcpy(out->tensor, v.tt->name, sizeof out->tensor);
    skip_spaces(&sc);
    while (expr[sc.at] == '[') {
        if (!scan_index(&sc, trace, &v, err))
            return false;
        skip_spaces(&sc);
    }

    /* 3. the closing ')' and nothing after */
    if (func != FUNC_NONE) {
        if (expr[sc.at] != ')')
            return error_set_at(err, STATUS_DATAERR, sc.at, "expected ')' to close %s(", name);
        sc.at++;
        skip_spaces(&sc);
    }
    if (expr[sc.at] != '\0')
        return error_set_at(err, STATUS_DATAERR, sc.at, "unexpected '%c' after the expression", expr[sc.at]);
    if (func == FUNC_CHANGED)
        return count_changed(trace, original, &v, start, out, err);
    return apply_func(trace, func, &v, start, out, err);
}

bool answer_uses_changed(const char *expr)
{
    if (expr == NULL)
        return false;
    Scan sc = {expr, 0};
    char name[WORD_BYTES];
    skip_spaces(&sc);
    if (!scan_name(&sc, name))
        return false;
    skip_spaces(&sc);
    return strcmp(name, "changed") == 0 && expr[sc.at] == '(';
}

bool answer_locate(const Trace *trace, TracePart part, const char *ref, const TraceTensor **tt, size_t *offset,
                   Error *err)
{
    Scan sc = {ref, 0};
    char name[WORD_BYTES];
    skip_spaces(&sc);
    size_t start = sc.at;
    if (!scan_name(&sc, name))
        return error_set_at(err, STATUS_DATAERR, sc.at, "expected a tensor name, such as attention_weights[1][my]");
    View v = {find_tensor(trace, part, name), 0, 0};
    if (v.tt == NULL || v.tt->tensor == NULL)
        return unknown_tensor(trace, name, start, err);
    skip_spaces(&sc);
    while (ref[sc.at] == '[') {
        if (!scan_index(&sc, trace, &v, err))
            return false;
        skip_spaces(&sc);
    }
    if (ref[sc.at] != '\0')
        return error_set_at(err, STATUS_DATAERR, sc.at, "unexpected '%c' after the tensor and its indexes", ref[sc.at]);
    *tt = v.tt;
    *offset = v.base;
    return true;
}

const TraceTensor *answer_question_tensor(const Trace *trace, TracePart part, const char *question)
{
    const char *key = "shape of ";
    for (const char *at = strstr(question, key); at != NULL; at = strstr(at + 1, key)) {
        Scan sc = {at + strlen(key), 0};
        while (sc.s[sc.at] == '`' || sc.s[sc.at] == '"' || sc.s[sc.at] == '\'')
            sc.at++;
        char name[WORD_BYTES];
        if (!scan_name(&sc, name))
            continue;
        /* the name alone, not the start of a product ("w_key · x_1") or an index */
        while (sc.s[sc.at] == '`' || sc.s[sc.at] == '"' || sc.s[sc.at] == '\'')
            sc.at++;
        char next = sc.s[sc.at];
        bool alone = next == '\0' || strchr("?.,;:)", next) != NULL ||
                     (next == ' ' && isalpha((unsigned char)sc.s[sc.at + 1]));
        if (!alone)
            continue;
        const TraceTensor *tt = find_tensor(trace, part, name);
        if (tt != NULL && tt->tensor != NULL)
            return tt;
    }
    return NULL;
}
