/*
 * lesson.c - lesson files (docs/lesson-format.md): the header of settings,
 * one section per step with its text, quizzes and presenter notes, and the
 * rules for checking a learner's answer.
 *
 * The parser reads the file line by line, once. It never stops at the
 * first error: it reports each problem where it is (the column points at
 * the offending key or value) and goes on, so a teacher sees every error
 * of a file in one run. Errors are kept in file order, at most
 * LESSON_MAX_ERRORS of them; some are only found later than the line they
 * are about (a quiz without an answer is known at its closing ':::'), so
 * the parser keeps the first errors by position, not by discovery.
 */
#include "lesson.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "answer.h"
#include "attn_limits.h"
#include "bpe.h"
#include "catalog.h"
#include "floatfmt.h"
#include "experiment.h"
#include "explain.h"
#include "gpt2.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Names the format knows
 * ---------------------------------------------------------------------- */

/* The step ids, from the trace's step table (trace.h), in its order; at
 * most TRACE_MAX_STEPS of them. */
#define STEP_IDS (trace_step_ids())
#define N_STEP_IDS ((int)trace_article_step_count()) /* lessons walk the article; the model rows follow */
_Static_assert(TRACE_MAX_STEPS <= LESSON_MAX_STEPS, "a lesson without a steps key walks every step of the table");

/* Header keys, in the order the spec lists them. */
enum {
    H_VERSION,
    H_TITLE,
    H_AUTHOR,
    H_SENTENCE,
    H_TOKEN_IDS,
    H_VOCAB,
    H_SEED,
    H_D_MODEL,
    H_HEADS,
    H_FOCUS,
    H_CAUSAL,
    H_STEPS,
    H_PRECISION,
    H_MODEL,
    H_LAYER,
    H_COUNT
};
static const char *const HEADER_KEYS[H_COUNT] = {
    "attn-lesson", "title", "author", "sentence", "token-ids", "vocab-size", "seed",  "d-model",
    "heads",       "focus", "causal", "steps",    "precision", "model",      "layer",
};

/* The header keys of the article's computation, which a lesson with
 * `model:` leaves to the checkpoint. */
static const int ARTICLE_ONLY_KEYS[] = {H_VOCAB, H_SEED, H_D_MODEL, H_HEADS, H_FOCUS, H_CAUSAL};

/* Keys of a quiz block. */
enum { Q_KIND, Q_QUESTION, Q_ANSWER, Q_TOLERANCE, Q_CHOICE, Q_HINT, Q_EXPLAIN, Q_WHEN, Q_COUNT };
static const char *const QUIZ_KEYS[Q_COUNT] = {
    "kind", "question", "answer", "tolerance", "choice", "hint", "explain", "when",
};

/* Quiz kinds, indexed by QuizKind. */
static const char *const QUIZ_KINDS[] = {"shape", "number", "token", "choice"};

static const char *const BLOCK_NAMES[] = {"quiz", "notes", "step"};

/* Keys of a step block ('::: step'): how the step is presented, and (in a
 * lesson with `model:`) the trace it shows when not the header's. */
enum { S_HEADLINE, S_SELECT, S_LAYER, S_MODEL, S_SENTENCE, S_COMPARE, S_COUNT };
static const char *const STEP_KEYS[S_COUNT] = {"headline", "select", "layer", "model", "sentence", "compare"};

/* Keys a section may open with, before its text: the change the step runs
 * under, and whether the original is shown beside it. */
enum { SEC_EXPERIMENT, SEC_COMPARE, SEC_COUNT };
static const char *const SECTION_KEYS[SEC_COUNT] = {"experiment", "compare"};
static const char *const WHEN_VALUES[] = {"before", "after"};
static const char *const CAUSAL_VALUES[] = {"yes", "no"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_PRECISION 4
#define MAX_PRECISION NUMFMT_MAX_PRECISION
#define DEFAULT_TOLERANCE 0.001
#define QUOTE_BYTES 48 /* user text quoted in a message is cut to about 40 bytes */
#define LIST_BYTES 240 /* a list of names in a message */
#define KEPT_ERRORS (LESSON_MAX_ERRORS + 1)

/* ------------------------------------------------------------------------
 * Parser state
 * ---------------------------------------------------------------------- */

/* One line of the file, without its line end. */
typedef struct Line {
    const char *s; /* first byte; not NUL-terminated, may hold a NUL */
    size_t len;    /* bytes, without "\n" or "\r\n" */
    int no;        /* 1-based line number */
} Line;

/* A "key: value" setting as read, before it is checked. */
typedef struct Field {
    bool seen;   /* the key was given */
    int line;    /* where */
    int key_col; /* column of the key */
    int col;     /* column of the value */
    char *value; /* the value, trimmed; owned (NULL only after running out of memory) */
} Field;

/* One error, kept until all are known and sorted by position. */
typedef struct Found {
    int line, col;
    long seq; /* order of discovery, for errors at the same place */
    char message[ERROR_MESSAGE_BYTES];
} Found;

/* A quiz block while it is being read. */
typedef struct QuizDraft {
    int line;             /* the "::: quiz" line */
    bool keep;            /* goes into the current step (else it is only checked) */
    Field field[Q_COUNT]; /* single keys (Q_CHOICE and Q_HINT unused) */
    int n_choices;
    Field choices[LESSON_MAX_CHOICES];
    int n_hints;
    Field hints[LESSON_MAX_HINTS];
    bool too_many_choices, too_many_hints; /* already reported */
} QuizDraft;

typedef enum Block { BLOCK_NONE, BLOCK_QUIZ, BLOCK_NOTES, BLOCK_STEP, BLOCK_OTHER } Block;

/* The current section: a step of the walk (>= 0), or one of these. */
#define SECTION_NONE (-1)    /* before the first "## " line */
#define SECTION_IGNORED (-2) /* a section in error: its contents are only checked */
#define SECTION_INTRO (-3)   /* the "## intro" section: text only, before the first step's */
static const char INTRO_ID[] = "intro";

typedef struct Parser {
    const char *name; /* how errors name the file */
    const char *text; /* the file after its BOM */
    size_t len;
    Lesson *lesson;

    /* errors */
    Found kept[KEPT_ERRORS]; /* the first errors by position, sorted */
    int n_kept;
    long n_found;             /* every error found */
    bool oom;                 /* an allocation failed */
    unsigned char *bad_lines; /* bit per line: an encoding or length error; other errors there are not shown */
    int n_lines;

    /* header */
    Field header[H_COUNT];
    int first_line;                    /* the first line that is not a comment */
    int header_end;                    /* the blank line that ended the header, or 0 */
    bool config_ok;                    /* the configuration is complete and valid (token answers can be checked) */
    bool steps_bad;                    /* the steps key has an error: unwalked sections are not reported */
    bool missing_model;                /* a model: names no checkpoint that can be opened: status 66 */
    int walk_of[TRACE_MAX_STEPS];      /* index in lesson->steps of each step id, or -1 */
    int section_line[TRACE_MAX_STEPS]; /* the "## id" line of each step, or 0 */

    /* the last "key: value" line read (header or quiz), to name a wrapped value */
    int last_key_line;
    const char *last_key;

    /* body */
    int section;               /* index in lesson->steps, SECTION_NONE or SECTION_IGNORED */
    bool quizzes_over;         /* "too many quizzes" reported for this section */
    int notes_line;            /* the section's "::: notes" line, or 0 */
    int step_block_line;       /* the section's "::: step" line, or 0 */
    int intro_line;            /* the "## intro" line, or 0 */
    bool seen_step_section;    /* a "## <step-id>" line was read */
    Field step_field[S_COUNT]; /* the step block's keys so far */
    bool outside_reported;     /* text outside a section reported for this paragraph */
    Block block;
    int block_line;
    QuizDraft quiz;
    StrBuf body, notes;           /* the section's text and notes so far */
    bool text_break, notes_break; /* a paragraph break is due before the next line */
} Parser;

/* ------------------------------------------------------------------------
 * Small helpers: strings
 * ---------------------------------------------------------------------- */

/* A malloc'd copy of s[0..len), or NULL (and p->oom set) when out of memory. */
static char *dup_n(Parser *p, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        if (p != NULL)
            p->oom = true;
        return NULL;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* A space or a tab. */
static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t';
}

/* c with ASCII letters lowercased (the tokenizer's rule). */
static char lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Narrows s[0..*len) to drop spaces and tabs at both ends. */
static const char *trim(const char *s, size_t *len)
{
    while (*len > 0 && is_blank_char(s[0]))
        s++, (*len)--;
    while (*len > 0 && is_blank_char(s[*len - 1]))
        (*len)--;
    return s;
}

/* Whether a[0..alen) and b[0..blen) are equal ignoring ASCII case. */
static bool equal_fold(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower_ascii(a[i]) != lower_ascii(b[i]))
            return false;
    return true;
}

/* Whether s[0..len) is exactly the NUL-terminated word. */
static bool equal_word(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* The index of s[0..len) in names[0..n), or -1. */
static int find_name(const char *s, size_t len, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (equal_word(s, len, names[i]))
            return (int)i;
    return -1;
}

/* Copies s[0..len) into buf (QUOTE_BYTES) for a message: cut at a
 * character boundary to about 40 bytes, with "..." when cut. */
static const char *quote(char *buf, const char *s, size_t len)
{
    size_t max = QUOTE_BYTES - 8;
    if (len <= max) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        return buf;
    }
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    memcpy(buf, s, cut);
    memcpy(buf + cut, "...", 4);
    return buf;
}

/* Cuts buf (NUL-terminated) back to a whole UTF-8 character when snprintf
 * cut it short in the middle of one. */
static void cut_to_character(char *buf, size_t used, size_t size)
{
    if (used < size)
        return;
    size_t end = size - 1;
    size_t start = end;
    while (start > 0 && ((unsigned char)buf[start - 1] & 0xc0) == 0x80)
        start--;
    if (start > 0) {
        unsigned char lead = (unsigned char)buf[start - 1];
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (need > 1 && end - (start - 1) < need)
            buf[start - 1] = '\0';
    }
}

/* Joins names[0..n) with ", " into buf (LIST_BYTES), ending in ", ..."
 * when they do not fit. */
static const char *join_names(char *buf, const char *const *names, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (used + len + 8 > LIST_BYTES) {
            memcpy(buf + used, i > 0 ? ", ..." : "...", i > 0 ? 6 : 4);
            return buf;
        }
        if (i > 0) {
            memcpy(buf + used, ", ", 2);
            used += 2;
        }
        memcpy(buf + used, names[i], len);
        used += len;
        buf[used] = '\0';
    }
    return buf;
}

/* Edit distance between a and b (insertions, deletions, substitutions and
 * swaps of neighbours, ignoring ASCII case); both at most 40 bytes. */
static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t rows[3][41];
    size_t *before = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= blen; j++)
        prev[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t cost = lower_ascii(a[i - 1]) == lower_ascii(b[j - 1]) ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && lower_ascii(a[i - 1]) == lower_ascii(b[j - 2]) &&
                lower_ascii(a[i - 2]) == lower_ascii(b[j - 1]) && before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            cur[j] = best;
        }
        size_t *spare = before;
        before = prev;
        prev = cur;
        cur = spare;
    }
    return prev[blen];
}

/* The name of names[0..n) nearest to s[0..len), or NULL when none is
 * close: at most 2 edits, and fewer than a third of the name's length
 * (a case difference alone always counts as close). */
static const char *nearest_name(const char *s, size_t len, const char *const *names, size_t n)
{
    if (len == 0 || len > 40)
        return NULL;
    const char *best = NULL;
    size_t best_distance = 3;
    for (size_t i = 0; i < n; i++) {
        size_t nlen = strlen(names[i]);
        if (nlen > 40)
            continue;
        size_t d = edit_distance(s, len, names[i], nlen);
        size_t allowed = nlen / 3 < 2 ? nlen / 3 : 2;
        if (allowed < 1)
            allowed = 1;
        if ((d <= allowed || d == 0) && d < best_distance) {
            best = names[i];
            best_distance = d;
        }
    }
    return best;
}

/* ------------------------------------------------------------------------
 * Small helpers: numbers and shapes
 * ---------------------------------------------------------------------- */

/* Parses a whole number (digits only) filling s[0..len). Returns 1 and
 * sets *out, 0 when it is not a whole number, -1 when it is too large
 * for 64 bits. */
static int parse_whole(const char *s, size_t len, uint64_t *out)
{
    if (len == 0)
        return 0;
    uint64_t v = 0;
    bool overflow = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            overflow = true;
        else
            v = v * 10 + digit;
    }
    if (overflow)
        return -1;
    *out = v;
    return 1;
}

/* Parses a decimal number ("-0.25", "3", ".5", "1e-3") filling s[0..len)
 * after trimming; false for anything else (hex, inf, nan, commas) and for
 * values too large for a double. The point is always '.' (main keeps
 * LC_NUMERIC at "C"). */
static bool parse_decimal(const char *s, size_t len, double *out)
{
    s = trim(s, &len);
    if (len == 0 || len > 64)
        return false;
    size_t i = 0, digits = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    if (i != len)
        return false;
    char buf[72];
    memcpy(buf, s, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A parsed shape: "[5, 16]", "(5,16)", "5x16", "5 × 16", "5 16", "[]". */
typedef struct Shape {
    int ndim;
    size_t dims[4];
} Shape;

/* Whether s[i..] starts a separator: ',', 'x', 'X' or U+00D7 '×'. Sets
 * *width to its bytes. */
static bool shape_separator(const char *s, size_t len, size_t i, size_t *width)
{
    if (s[i] == ',' || s[i] == 'x' || s[i] == 'X') {
        *width = 1;
        return true;
    }
    if (i + 1 < len && (unsigned char)s[i] == 0xc3 && (unsigned char)s[i + 1] == 0x97) {
        *width = 2;
        return true;
    }
    return false;
}

/* Reads the digits at s[*i..end) as one dimension into *value and moves
 * *i past them. False with *why when the number is too large. */
static bool shape_dimension(const char *s, size_t end, size_t *i, size_t *value, const char **why)
{
    size_t v = 0;
    while (*i < end && s[*i] >= '0' && s[*i] <= '9') {
        if (v > ((size_t)1 << 40)) {
            *why = "a dimension is too large";
            return false;
        }
        v = v * 10 + (size_t)(s[*i] - '0');
        (*i)++;
    }
    *value = v;
    return true;
}

/* Parses a shape filling s[0..len) (see Shape). On failure returns false
 * with *why saying what is wrong and *bad_at its offset in s. A scalar
 * needs its brackets; one trailing comma is allowed ("(5,)"). */
static bool parse_shape(const char *s, size_t len, Shape *shape, const char **why, size_t *bad_at)
{
    size_t start = 0, end = len;
    while (start < end && is_blank_char(s[start]))
        start++;
    while (end > start && is_blank_char(s[end - 1]))
        end--;
    memset(shape, 0, sizeof *shape);
    *bad_at = start;
    if (start == end) {
        *why = "it is empty";
        return false;
    }
    /* 1. optional brackets, which must pair up */
    bool bracketed = false;
    if (s[start] == '[' || s[start] == '(') {
        char close = s[start] == '[' ? ']' : ')';
        if (s[end - 1] != close || end - start < 2) {
            *why = close == ']' ? "'[' without its ']'" : "'(' without its ')'";
            return false;
        }
        start++, end--;
        bracketed = true;
    }
    /* 2. numbers separated by ',', 'x', '×' or spaces */
    size_t i = start;
    for (;;) {
        while (i < end && is_blank_char(s[i]))
            i++;
        if (i == end)
            break;
        *bad_at = i;
        if (s[i] < '0' || s[i] > '9') {
            *why = "expected a number";
            return false;
        }
        if (shape->ndim == 4) {
            *why = "more than 4 dimensions";
            return false;
        }
        size_t v = 0;
        if (!shape_dimension(s, end, &i, &v, why))
            return false;
        shape->dims[shape->ndim++] = v;
        size_t gap = i;
        while (i < end && is_blank_char(s[i]))
            i++;
        if (i == end)
            break;
        size_t width;
        if (shape_separator(s, end, i, &width)) {
            bool comma = s[i] == ',';
            *bad_at = i;
            i += width;
            while (i < end && is_blank_char(s[i]))
                i++;
            if (i == end) {
                if (comma)
                    break;
                *why = "expected a number after the separator";
                return false;
            }
            continue;
        }
        if (i == gap) {
            *bad_at = i;
            *why = "expected ',', 'x' or a space between dimensions";
            return false;
        }
    }
    if (shape->ndim == 0 && !bracketed) {
        *why = "it is empty";
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

/* Whether error (line, col) sorts before kept error f (a new error always
 * comes after an old one at the same place). */
static bool sorts_before(int line, int col, const Found *f)
{
    return line < f->line || (line == f->line && col < f->col);
}

/* Whether line has an encoding or length error already reported. */
static bool line_is_bad(const Parser *p, int line)
{
    return p->bad_lines != NULL && line >= 1 && line <= p->n_lines &&
           (p->bad_lines[(line - 1) / 8] & (1u << ((line - 1) % 8))) != 0;
}

/* Formats " (did you mean 'x'?)" or " (NOUN: a, b, c)" into buf
 * (LIST_BYTES + 64) for an error at (line, col); "" when that error will
 * not be shown anyway (the search is the costly part of an error). */
static const char *suggest(const Parser *p, int line, int col, char *buf, const char *s, size_t len,
                           const char *const *names, size_t n, const char *noun)
{
    buf[0] = '\0';
    if (line_is_bad(p, line) || (p->n_kept == KEPT_ERRORS && !sorts_before(line, col, &p->kept[KEPT_ERRORS - 1])))
        return buf;
    const char *near = nearest_name(s, len, names, n);
    char list[LIST_BYTES];
    if (near != NULL)
        snprintf(buf, LIST_BYTES + 64, " (did you mean '%s'?)", near);
    else
        snprintf(buf, LIST_BYTES + 64, " (%s: %s)", noun, join_names(list, names, n));
    return buf;
}

/* Records an error at (line, col), keeping the first KEPT_ERRORS by
 * position. The message is made safe to print (error_set scrubs it). */
static void vkeep_error(Parser *p, int line, int col, const char *fmt, va_list ap)
{
    p->n_found++;
    if (p->n_kept == KEPT_ERRORS && !sorts_before(line, col, &p->kept[KEPT_ERRORS - 1]))
        return;
    int at = p->n_kept;
    while (at > 0 && sorts_before(line, col, &p->kept[at - 1]))
        at--;
    int last = p->n_kept < KEPT_ERRORS ? p->n_kept : KEPT_ERRORS - 1;
    memmove(&p->kept[at + 1], &p->kept[at], (size_t)(last - at) * sizeof p->kept[0]);
    if (p->n_kept < KEPT_ERRORS)
        p->n_kept++;
    char message[ERROR_MESSAGE_BYTES];
    vsnprintf(message, sizeof message, fmt, ap);
    Error err;
    error_set(&err, STATUS_DATAERR, "%s", message);
    Found *f = &p->kept[at];
    f->line = line;
    f->col = col;
    f->seq = p->n_found;
    memcpy(f->message, err.message, sizeof f->message);
}

/* Reports an error at (line, col); errors on a line whose bytes are
 * already reported as bad are left out (they would only repeat it). */
static void report(Parser *p, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void report(Parser *p, int line, int col, const char *fmt, ...)
{
    if (line_is_bad(p, line))
        return;
    va_list ap;
    va_start(ap, fmt);
    vkeep_error(p, line, col, fmt, ap);
    va_end(ap);
}

/* Reports an error about the whole file at 1:1 (a missing key), shown
 * even when line 1 is bad. */
static void report_file(Parser *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void report_file(Parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkeep_error(p, 1, 1, fmt, ap);
    va_end(ap);
}

/* Reports a bad line itself (encoding or length) and marks it. */
static void report_bad_line(Parser *p, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void report_bad_line(Parser *p, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkeep_error(p, line, col, fmt, ap);
    va_end(ap);
    if (p->bad_lines != NULL && line >= 1 && line <= p->n_lines)
        p->bad_lines[(line - 1) / 8] |= (unsigned char)(1u << ((line - 1) % 8));
}

/* Column (1-based, in characters) of byte `at` of line ln. */
static int column_of(const Line *ln, const char *at)
{
    int col = 1;
    for (const char *q = ln->s; q < at; q++)
        if (((unsigned char)*q & 0xc0) != 0x80)
            col++;
    return col;
}

/* Column of byte `offset` of a field's value. */
static int value_column(const Field *f, size_t offset)
{
    int col = f->col;
    for (size_t i = 0; f->value != NULL && i < offset && f->value[i] != '\0'; i++)
        if (((unsigned char)f->value[i] & 0xc0) != 0x80)
            col++;
    return col;
}

/* Appends one line (fmt, without its '\n') to errors and counts it; the
 * first line added is also kept in errors->first, with status. */
static void errors_add(LessonErrors *errors, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void errors_add(LessonErrors *errors, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *line = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (line != NULL) {
        va_start(ap, fmt);
        vsnprintf(line, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    const char *shown = line != NULL ? line : "out of memory while reporting an error";
    strbuf_printf(&errors->text, "%s\n", shown);
    if (errors->count++ == 0)
        error_set(&errors->first, status, "%s", shown);
    free(line);
}

/* Writes the kept errors into errors, one line each, and the "too many
 * errors" line after LESSON_MAX_ERRORS of them. */
static void write_errors(const Parser *p, LessonErrors *errors)
{
    int shown = p->n_kept < LESSON_MAX_ERRORS ? p->n_kept : LESSON_MAX_ERRORS;
    for (int i = 0; i < shown; i++)
        errors_add(errors, STATUS_DATAERR, "%s:%d:%d: %s", p->name, p->kept[i].line, p->kept[i].col,
                   p->kept[i].message);
    if (p->n_found > LESSON_MAX_ERRORS)
        errors_add(errors, STATUS_DATAERR, "%s: too many errors; stopping", p->name);
    if (p->oom)
        errors_add(errors, STATUS_DATAERR, "%s: out of memory while reading the lesson", p->name);
    if (p->missing_model) /* a checkpoint that cannot be read makes the file's status that of a missing file */
        errors->first.status = STATUS_NOINPUT;
}

/* ------------------------------------------------------------------------
 * Lines
 * ---------------------------------------------------------------------- */

/* Reads the line at *pos of text[0..len) into ln (numbering it after
 * *no); false at the end of the text. A final "\r" before "\n" (or at the
 * end) is not part of the line. */
static bool next_line(const char *text, size_t len, size_t *pos, int *no, Line *ln)
{
    if (*pos >= len)
        return false;
    const char *s = text + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t n = nl != NULL ? (size_t)(nl - s) : len - *pos;
    *pos += n + (nl != NULL ? 1 : 0);
    if (n > 0 && s[n - 1] == '\r')
        n--;
    ln->s = s;
    ln->len = n;
    ln->no = ++*no;
    return true;
}

/* Whether ln holds only spaces and tabs (or nothing). */
static bool is_blank_line(const Line *ln)
{
    for (size_t i = 0; i < ln->len; i++)
        if (!is_blank_char(ln->s[i]))
            return false;
    return true;
}

/* "# ..." or "#": a comment (outside step text). "##" starts no comment. */
static bool is_comment(const Line *ln)
{
    return ln->len >= 1 && ln->s[0] == '#' && !(ln->len >= 2 && ln->s[1] == '#');
}

/* "## id": a section line ("##" then a space, a tab or the line end). */
static bool is_section_line(const Line *ln)
{
    return ln->len >= 2 && ln->s[0] == '#' && ln->s[1] == '#' && (ln->len == 2 || is_blank_char(ln->s[2]));
}

/* A line starting (after blanks) with ":::": opens or closes a block.
 * Sets *name to what follows, trimmed. */
static bool is_fence(const Line *ln, const char **name, size_t *name_len)
{
    size_t len = ln->len;
    const char *s = trim(ln->s, &len);
    if (len < 3 || memcmp(s, ":::", 3) != 0)
        return false;
    *name_len = len - 3;
    *name = trim(s + 3, name_len);
    return true;
}

/* The parts of a "key: value" line. */
typedef struct KeyValue {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    int key_col, value_col;
} KeyValue;

/* Splits ln at its first ':' into a trimmed key and value; false when it
 * has no ':' or nothing before it. */
static bool split_key_value(const Line *ln, KeyValue *kv)
{
    const char *colon = memchr(ln->s, ':', ln->len);
    if (colon == NULL)
        return false;
    kv->key_len = (size_t)(colon - ln->s);
    kv->key = trim(ln->s, &kv->key_len);
    if (kv->key_len == 0)
        return false;
    kv->value_len = ln->len - (size_t)(colon + 1 - ln->s);
    kv->value = trim(colon + 1, &kv->value_len);
    kv->key_col = column_of(ln, kv->key);
    kv->value_col = column_of(ln, kv->value);
    return true;
}

/* Fills field f from kv (a copy of the value). */
static void set_field(Parser *p, Field *f, const Line *ln, const KeyValue *kv)
{
    f->seen = true;
    f->line = ln->no;
    f->key_col = kv->key_col;
    f->col = kv->value_col;
    free(f->value);
    f->value = dup_n(p, kv->value, kv->value_len);
}

/* Frees f's value and clears it. */
static void free_field(Field *f)
{
    free(f->value);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------------------
 * Pass 2: every line's bytes (length, NUL, control characters, UTF-8)
 * ---------------------------------------------------------------------- */

/* Checks one line's bytes and reports the first fault it has. */
static void check_line_bytes(Parser *p, const Line *ln)
{
    if (ln->len > LESSON_MAX_LINE) {
        report_bad_line(p, ln->no, column_of(ln, ln->s + LESSON_MAX_LINE),
                        "line is longer than %d bytes (LESSON_MAX_LINE)", LESSON_MAX_LINE);
        return;
    }
    const char *why = NULL;
    size_t bad = text_find_invalid(ln->s, ln->len, &why);
    for (size_t i = 0; i < ln->len && i < bad; i++) { /* white space that is still a control character */
        if (ln->s[i] == '\r' || ln->s[i] == '\v' || ln->s[i] == '\f' || ln->s[i] == '\t') {
            bad = i;
            why = "control character";
            break;
        }
    }
    if (bad == (size_t)-1)
        return;
    unsigned char c = (unsigned char)ln->s[bad];
    int col = column_of(ln, ln->s + bad);
    if (c == '\0')
        report_bad_line(p, ln->no, col, "NUL byte (a lesson is UTF-8 text)");
    else if (strcmp(why, "invalid UTF-8") == 0)
        report_bad_line(p, ln->no, col, "invalid UTF-8 (byte 0x%02X); save the lesson as UTF-8", c);
    else if (c == '\t')
        report_bad_line(p, ln->no, col, "tab character (use spaces)");
    else if (c == '\r')
        report_bad_line(p, ln->no, col, "carriage return inside a line (lines end in LF or CRLF)");
    else if (c == 0xc2)
        report_bad_line(p, ln->no, col, "control character U+00%02X is not allowed", (unsigned char)ln->s[bad + 1]);
    else
        report_bad_line(p, ln->no, col, "control character 0x%02X is not allowed", c);
}

/* Counts the lines, makes the bad-line map and checks every line. */
static void check_all_lines(Parser *p)
{
    size_t pos = 0;
    int no = 0;
    Line ln;
    while (next_line(p->text, p->len, &pos, &no, &ln)) {
    }
    p->n_lines = no;
    p->bad_lines = calloc((size_t)no / 8 + 1, 1);
    if (p->bad_lines == NULL) {
        p->oom = true;
        return;
    }
    pos = 0;
    no = 0;
    while (next_line(p->text, p->len, &pos, &no, &ln))
        check_line_bytes(p, &ln);
}

/* ------------------------------------------------------------------------
 * Pass 3: the header lines
 * ---------------------------------------------------------------------- */

/* Reports a line that is not "key: value" (what names the place: "the
 * header (...)", "a quiz (...)"). Just after a "key: value" line it is
 * most likely that value wrapped onto a second line, and the message says
 * how to mend it. */
static void report_not_key_value(Parser *p, const Line *ln, const char *what)
{
    size_t len = ln->len;
    const char *s = trim(ln->s, &len);
    if (p->last_key == NULL || p->last_key_line != ln->no - 1)
        report(p, ln->no, 1, "expected 'key: value' in %s", what);
    else
        report(p, ln->no, column_of(ln, s),
               "expected 'key: value' in %s; if this line continues the '%s:' value of line %d, join the two: "
               "one line per value",
               what, p->last_key, p->last_key_line);
}

/* Reads one header line: a comment or "key: value". */
static void header_line(Parser *p, const Line *ln)
{
    if (is_comment(ln))
        return;
    bool first = p->first_line == 0;
    if (first)
        p->first_line = ln->no;
    KeyValue kv;
    char q[QUOTE_BYTES], hint[LIST_BYTES + 64];
    if (!split_key_value(ln, &kv)) {
        report_not_key_value(p, ln, "the header (it ends at the first blank line)");
        return;
    }
    int k = find_name(kv.key, kv.key_len, HEADER_KEYS, H_COUNT);
    if (k < 0) {
        report(p, ln->no, kv.key_col, "unknown key '%s'%s", quote(q, kv.key, kv.key_len),
               suggest(p, ln->no, kv.key_col, hint, kv.key, kv.key_len, HEADER_KEYS, H_COUNT, "keys"));
        return;
    }
    Field *f = &p->header[k];
    if (f->seen) {
        report(p, ln->no, kv.key_col, "repeated key '%s' (first on line %d)", HEADER_KEYS[k], f->line);
        return;
    }
    p->last_key_line = ln->no;
    p->last_key = HEADER_KEYS[k];
    if (k == H_VERSION && !first)
        report(p, ln->no, kv.key_col,
               "'attn-lesson: %d' must be the first line that is not a comment (move it above line %d)",
               LESSON_FORMAT_VERSION, p->first_line);
    set_field(p, f, ln, &kv);
}

/* ------------------------------------------------------------------------
 * Pass 4: the header's values: texts, configuration, walk, precision
 * ---------------------------------------------------------------------- */

/* Whether a given header field has a value; reports "has no value" when
 * it is empty. Fields not given are false without a report. */
static bool header_value(Parser *p, int k)
{
    Field *f = &p->header[k];
    if (!f->seen || f->value == NULL)
        return false;
    if (f->value[0] == '\0') {
        report(p, f->line, f->col, "'%s:' has no value", HEADER_KEYS[k]);
        return false;
    }
    return true;
}

/* Reports a config_* error about field f (its `at` is an offset in f's value). */
static void report_config_error(Parser *p, const Field *f, const Error *err)
{
    int col = err->at == ERROR_AT_NONE ? f->col : value_column(f, err->at);
    report(p, f->line, col, "%s", err->message);
}

/* The first given field of k1, k2, k3 (-1 for none), or NULL. */
static const Field *first_given(const Parser *p, int k1, int k2, int k3)
{
    int keys[3] = {k1, k2, k3};
    for (int i = 0; i < 3; i++)
        if (keys[i] >= 0 && p->header[keys[i]].seen)
            return &p->header[keys[i]];
    return NULL;
}

/* Offset in a token-ids value of its index-th id (0-based). */
static size_t token_id_offset(const char *value, size_t index)
{
    size_t i = 0, seen = 0;
    for (;;) {
        while (value[i] == ',' || value[i] == ' ' || value[i] == '\t')
            i++;
        if (value[i] == '\0' || seen == index)
            return i;
        while (value[i] != '\0' && value[i] != ',' && value[i] != ' ' && value[i] != '\t')
            i++;
        seen++;
    }
}

/* Reports a config_validate error at the line of the key most to blame:
 * sizes at their own line, a heads/d-model mismatch at heads, a token id
 * at its place in token-ids, focus at focus; nothing when that key is
 * bad[key] (already reported, its default stood in). The checks mirror
 * config_validate's order. */
static void report_validate_error(Parser *p, const Config *cfg, const Error *err, const bool *bad)
{
    const Field *f = NULL;
    size_t offset = 0;
    if (cfg->n_tokens == 0 || cfg->n_tokens > LIMIT_MAX_TOKENS) {
        f = first_given(p, H_TOKEN_IDS, H_SENTENCE, -1);
    } else if (cfg->d_model < 1 || cfg->d_model > LIMIT_MAX_D_MODEL) {
        f = first_given(p, H_D_MODEL, -1, -1);
    } else if (cfg->heads < 1 || cfg->heads > LIMIT_MAX_HEADS || cfg->d_model % cfg->heads != 0) {
        f = first_given(p, H_HEADS, H_D_MODEL, -1);
        if (bad[H_D_MODEL]) /* the default width stood in for a bad one: no mismatch to tell */
            return;
    } else if (cfg->vocab_size < 1 || cfg->vocab_size > LIMIT_MAX_VOCAB) {
        f = first_given(p, H_VOCAB, H_TOKEN_IDS, H_SENTENCE);
    } else {
        size_t index = 0; /* the first token id not below the vocabulary size */
        while (index < cfg->n_tokens && cfg->token_ids[index] >= 0 && (size_t)cfg->token_ids[index] < cfg->vocab_size)
            index++;
        if (index < cfg->n_tokens) {
            f = first_given(p, H_TOKEN_IDS, H_VOCAB, -1);
            if (f == &p->header[H_TOKEN_IDS] && f->value != NULL)
                offset = token_id_offset(f->value, index);
        } else {
            f = first_given(p, H_FOCUS, -1, -1);
        }
    }
    if (f == NULL)
        report_file(p, "%s", err->message);
    else if (!bad[f - p->header]) /* else the key's own error says it */
        report(p, f->line, value_column(f, offset), "%s", err->message);
}

/* Parses whole-number header key k into *out (a size_t); false with a
 * report when it is not one, or too large for 64 bits (max names the
 * limit). Range checks are otherwise config_validate's. */
static bool header_size(Parser *p, int k, size_t *out, int max)
{
    if (!header_value(p, k))
        return !p->header[k].seen;
    const Field *f = &p->header[k];
    char q[QUOTE_BYTES];
    uint64_t v;
    int got = parse_whole(f->value, strlen(f->value), &v);
    if (got == 0) {
        report(p, f->line, f->col, "%s must be a whole number, got '%s'", HEADER_KEYS[k],
               quote(q, f->value, strlen(f->value)));
        return false;
    }
    if (got < 0 || v > SIZE_MAX) {
        report(p, f->line, f->col, "%s %s is too large (at most %d)", HEADER_KEYS[k],
               quote(q, f->value, strlen(f->value)), max);
        return false;
    }
    *out = (size_t)v;
    return true;
}

/* Applies the header's sentence and token_ids to cfg: the sentence, then
 * the ids (the words label them when the counts match). Reports what is
 * wrong; returns false when either is. err is scratch space. */
static bool apply_tokens(Parser *p, Config *cfg, Error *err)
{
    bool ok = true;
    const Field *f = &p->header[H_SENTENCE];
    bool sentence_set = false;
    size_t n_words = 0;
    if (header_value(p, H_SENTENCE)) {
        if (config_set_sentence(cfg, f->value, err)) {
            sentence_set = true;
            n_words = cfg->n_tokens;
        } else {
            report_config_error(p, f, err);
            ok = false;
        }
    } else if (f->seen) {
        ok = false;
    }
    f = &p->header[H_TOKEN_IDS];
    if (header_value(p, H_TOKEN_IDS)) {
        if (!sentence_set) { /* the article's words must not label these ids */
            free(cfg->sentence);
            cfg->sentence = NULL;
        }
        if (!config_set_token_ids(cfg, f->value, err)) {
            report_config_error(p, f, err);
            ok = false;
        } else if (sentence_set && cfg->sentence == NULL) {
            report(p, f->line, f->col, "%zu token ids for a sentence of %zu words (give one id per word)",
                   cfg->n_tokens, n_words);
            ok = false;
        }
    } else if (f->seen) {
        ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------------------
 * Pass 4b: a lesson that walks a model (`model:`)
 * ---------------------------------------------------------------------- */

/* Finds the checkpoint a lesson's model: value names: a directory
 * relative to the lesson file's own (lesson_name's directory) first, else
 * a name or path as --model finds it (catalog_find_model). Writes the
 * path into dir (size bytes); false with err (STATUS_NOINPUT when there
 * is no such model). */
static bool resolve_model(const char *lesson_name, const char *value, char *dir, size_t size, Error *err)
{
    const char *slash = strrchr(lesson_name, '/');
    if (value[0] != '/') {
        int n = slash != NULL ? snprintf(dir, size, "%.*s/%s", (int)(slash - lesson_name), lesson_name, value)
                              : snprintf(dir, size, "%s", value);
        struct stat st;
        if (n > 0 && (size_t)n < size && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return true;
    }
    return catalog_find_model(value, dir, size, err);
}

/* The sizes of the checkpoint in dir (its config.json, checked by
 * gpt2_open) into *out. False with err (STATUS_NOINPUT for missing files). */
static bool model_sizes(const char *dir, Gpt2Config *out, Error *err)
{
    Gpt2Model *model = gpt2_open(dir, err);
    if (model == NULL)
        return false;
    *out = model->config;
    gpt2_close(model);
    return true;
}

/* Tokenizes text with the byte-level BPE in dir (vocab.json, merges.txt)
 * into cfg's ids and labels (the tokens as vocab.json writes them,
 * "Ġfarmer"); cfg->sentence becomes a copy of text. False with err set
 * (STATUS_NOINPUT when the tokenizer's files are missing). */
static bool model_tokenize(const char *dir, const char *text, Config *cfg, Error *err)
{
    char vocab[LIMIT_PATH_BYTES], merges[LIMIT_PATH_BYTES];
    if (snprintf(vocab, sizeof vocab, "%s/vocab.json", dir) >= (int)sizeof vocab ||
        snprintf(merges, sizeof merges, "%s/merges.txt", dir) >= (int)sizeof merges)
        return error_set(err, STATUS_NOINPUT, "the model's directory name is too long");
    Bpe *bpe = bpe_load(vocab, merges, err);
    BpeEncoding *enc = bpe != NULL ? bpe_encode(bpe, text, strlen(text), err) : NULL;
    bool ok = enc != NULL;
    if (ok && (enc->n_tokens == 0 || enc->n_tokens > LIMIT_MAX_TOKENS))
        ok = error_set(err, STATUS_DATAERR, "the sentence gives %zu tokens (expected 1 to %d)", enc->n_tokens,
                       LIMIT_MAX_TOKENS);
    long *ids = ok ? calloc(enc->n_tokens, sizeof *ids) : NULL;
    const char **labels = ok ? calloc(enc->n_tokens, sizeof *labels) : NULL;
    if (ok && (ids == NULL || labels == NULL))
        ok = error_oom(err, "the tokens");
    for (size_t i = 0; ok && i < enc->n_tokens; i++) {
        ids[i] = enc->ids[i];
        labels[i] = bpe_token_text(bpe, enc->ids[i], NULL);
    }
    ok = ok && config_set_tokens(cfg, ids, labels, enc->n_tokens, err);
    free(cfg->sentence);
    cfg->sentence = ok ? strdup(text) : NULL;
    if (ok && cfg->sentence == NULL)
        ok = error_oom(err, "the sentence");
    free(ids);
    free(labels);
    bpe_encoding_free(enc);
    bpe_free(bpe);
    return ok;
}

/* Reports that a model: value at f names no usable checkpoint (why),
 * and marks the file as naming a missing one when status says so. */
static void report_model(Parser *p, int line, int col, const Error *why)
{
    if (why->status == STATUS_NOINPUT)
        p->missing_model = true;
    report(p, line, col, "model: %s", why->message);
}

/* Applies the header's sentence or token-ids to cfg for the checkpoint
 * in dir (the article's sentence when neither is given): the sentence
 * through the model's tokenizer, the ids as they are. Reports what is
 * wrong; returns false when anything is. */
static bool apply_model_tokens(Parser *p, const char *dir, Config *cfg)
{
    Error err;
    error_clear(&err);
    const Field *sentence = &p->header[H_SENTENCE], *ids = &p->header[H_TOKEN_IDS];
    if (sentence->seen && ids->seen) {
        report(p, ids->line, ids->key_col,
               "give 'sentence:' or 'token-ids:' with 'model:', not both (the model's tokenizer makes the ids)");
        return false;
    }
    if (header_value(p, H_TOKEN_IDS)) {
        free(cfg->sentence);
        cfg->sentence = NULL;
        if (config_set_token_ids(cfg, ids->value, &err))
            return true;
        report_config_error(p, ids, &err);
        return false;
    }
    if (ids->seen || (sentence->seen && !header_value(p, H_SENTENCE)))
        return false;
    char *text = strdup(sentence->seen ? sentence->value : cfg->sentence);
    bool ok = text != NULL && model_tokenize(dir, text, cfg, &err);
    if (text == NULL)
        p->oom = true;
    else if (!ok && err.status == STATUS_NOINPUT)
        report_model(p, p->header[H_MODEL].line, p->header[H_MODEL].col, &err);
    else if (!ok)
        report(p, sentence->seen ? sentence->line : 1, sentence->seen ? sentence->col : 1, "%s", err.message);
    free(text);
    return ok;
}

/* Builds the Config of a lesson with `model:`: the checkpoint's sizes, the
 * header's layer (0 by default) and its tokens; the article's own keys
 * are errors. Sets p->config_ok. */
static void apply_model_config(Parser *p)
{
    Config *cfg = &p->lesson->config;
    bool ok = true;
    for (size_t i = 0; i < COUNT_OF(ARTICLE_ONLY_KEYS); i++) {
        const Field *f = &p->header[ARTICLE_ONLY_KEYS[i]];
        if (f->seen) {
            report(p, f->line, f->key_col,
                   "'%s:' sets the article's computation: with 'model:' the checkpoint decides it (remove the line)",
                   HEADER_KEYS[ARTICLE_ONLY_KEYS[i]]);
            ok = false;
        }
    }
    const Field *f = &p->header[H_MODEL];
    char dir[LIMIT_PATH_BYTES];
    Gpt2Config m;
    Error err;
    error_clear(&err);
    if (!header_value(p, H_MODEL) || !resolve_model(p->name, f->value, dir, sizeof dir, &err) ||
        !model_sizes(dir, &m, &err)) {
        if (err.message[0] != '\0')
            report_model(p, f->line, f->col, &err);
        p->config_ok = false;
        return;
    }
    if ((p->lesson->model = dup_n(p, f->value, strlen(f->value))) == NULL)
        return;
    size_t layer = 0;
    const Field *lf = &p->header[H_LAYER];
    if (!header_size(p, H_LAYER, &layer, LIMIT_MAX_LAYERS)) {
        ok = false;
    } else if (layer >= m.n_layer) {
        char name[QUOTE_BYTES];
        config_model_name(f->value, name, sizeof name);
        report(p, lf->line, lf->col, "layer %zu is out of range: %s has n_layer %zu (layers 0 to %zu)", layer, name,
               m.n_layer, m.n_layer - 1);
        ok = false;
    }
    if (!apply_model_tokens(p, dir, cfg))
        ok = false;
    else if (cfg->n_tokens > m.n_positions) {
        const Field *tf = first_given(p, H_TOKEN_IDS, H_SENTENCE, H_MODEL);
        report(p, tf->line, tf->col, "%zu tokens are more than the model's n_positions (%zu)", cfg->n_tokens,
               m.n_positions);
        ok = false;
    }
    free(cfg->model);
    if ((cfg->model = strdup(dir)) == NULL)
        p->oom = true;
    cfg->vocab_size = m.vocab_size;
    cfg->d_model = m.n_embd;
    cfg->heads = m.n_head;
    cfg->n_layer = m.n_layer;
    cfg->layer = layer < m.n_layer ? layer : 0;
    cfg->focus = 1;
    cfg->causal = true; /* GPT-2 always masks the future */
    if (ok && !config_validate(cfg, &err)) {
        const Field *tf = first_given(p, H_TOKEN_IDS, H_SENTENCE, H_MODEL);
        report(p, tf->line, tf->col, "%s", err.message);
        ok = false;
    }
    p->config_ok = ok && !p->oom;
}

/* Builds the lesson's Config: the article's, with the header's keys
 * applied in a fixed order, then validated (or, with `model:`, the
 * checkpoint's: apply_model_config). Sets p->config_ok. */
static void apply_config(Parser *p)
{
    Config *cfg = &p->lesson->config;
    Error err;
    error_clear(&err);
    if (!config_default(cfg, &err)) {
        p->oom = true;
        return;
    }
    if (p->header[H_MODEL].seen) {
        apply_model_config(p);
        return;
    }
    char q[QUOTE_BYTES];
    if (p->header[H_LAYER].seen)
        report(p, p->header[H_LAYER].line, p->header[H_LAYER].key_col,
               "'layer:' goes with 'model:' (the layer of a model's blocks the lesson walks)");

    /* 1. the sentence, then the ids (the words label them when the counts match) */
    bool tokens_ok = apply_tokens(p, cfg, &err);
    bool ok = tokens_ok;
    const Field *f;

    /* 2. the sizes, the seed and the mask; a size in error keeps its default */
    static const int SIZE_KEYS[] = {H_VOCAB, H_D_MODEL, H_HEADS, H_FOCUS};
    size_t *sizes[] = {&cfg->vocab_size, &cfg->d_model, &cfg->heads, &cfg->focus};
    static const int SIZE_MAX_OF[] = {LIMIT_MAX_VOCAB, LIMIT_MAX_D_MODEL, LIMIT_MAX_HEADS, LIMIT_MAX_TOKENS};
    bool size_bad[H_COUNT] = {false};
    for (size_t i = 0; i < COUNT_OF(SIZE_KEYS); i++) {
        size_bad[SIZE_KEYS[i]] = !header_size(p, SIZE_KEYS[i], sizes[i], SIZE_MAX_OF[i]);
        ok &= !size_bad[SIZE_KEYS[i]];
    }
    f = &p->header[H_SEED];
    if (header_value(p, H_SEED)) {
        uint64_t seed;
        if (parse_whole(f->value, strlen(f->value), &seed) == 1) {
            cfg->seed = seed;
        } else {
            report(p, f->line, f->col, "seed must be a whole number from 0 to %llu, got '%s'",
                   (unsigned long long)UINT64_MAX, quote(q, f->value, strlen(f->value)));
            ok = false;
        }
    } else if (f->seen) {
        ok = false;
    }
    f = &p->header[H_CAUSAL];
    if (header_value(p, H_CAUSAL)) {
        int v = find_name(f->value, strlen(f->value), CAUSAL_VALUES, COUNT_OF(CAUSAL_VALUES));
        if (v < 0) {
            report(p, f->line, f->col, "causal must be 'yes' or 'no', got '%s'", quote(q, f->value, strlen(f->value)));
            ok = false;
        } else {
            cfg->causal = v == 0;
        }
    } else if (f->seen) {
        ok = false;
    }

    /* 3. the whole, checked as attn-trace checks any configuration, even
     *    when a value above was wrong (one bad value must not hide the
     *    others); only the tokens must be known */
    if (tokens_ok && !config_validate(cfg, &err)) {
        report_validate_error(p, cfg, &err, size_bad);
        ok = false;
    }
    p->config_ok = ok && !p->header[H_LAYER].seen;
}

/* The rows of the step table a lesson may walk, [*first, *first +
 * *count): the article's, or in a lesson with `model:` the model's (the
 * rows after the article's, up to the first that only an experiment
 * adds). */
static void walk_rows(const Parser *p, int *first, int *count)
{
    *first = 0;
    *count = N_STEP_IDS;
    if (!p->header[H_MODEL].seen)
        return;
    size_t end = (size_t)N_STEP_IDS;
    while (end < trace_step_def_count() && trace_step_def(end)->part == PART_MODEL && !trace_step_def(end)->experiment)
        end++;
    *first = N_STEP_IDS;
    *count = (int)end - N_STEP_IDS;
}

/* The table index of step id s[0..len) among the ids the lesson may
 * walk (walk_rows), or -1. */
static int find_step_id(const Parser *p, const char *s, size_t len)
{
    int first, count;
    walk_rows(p, &first, &count);
    int i = find_name(s, len, STEP_IDS + first, (size_t)count);
    return i < 0 ? -1 : first + i;
}

/* Reports an unknown step id s[0..len) at (line, col): an id of the
 * other kind of lesson (a model's step without `model:`, an article's
 * step with it) says so. */
static void report_unknown_step(Parser *p, int line, int col, const char *s, size_t len)
{
    char q[QUOTE_BYTES], hint[LIST_BYTES + 64];
    int first, count;
    walk_rows(p, &first, &count);
    int other = find_name(s, len, STEP_IDS, trace_step_def_count());
    uint64_t number;
    if (other >= 0 && !trace_step_def((size_t)other)->experiment) {
        if (first == 0)
            report(p, line, col, "step '%s' is a model's step: a lesson walks it with 'model:' in its header",
                   STEP_IDS[other]);
        else
            report(p, line, col, "step '%s' is the article's: a lesson with 'model:' walks the model's steps (%s, ...)",
                   STEP_IDS[other], STEP_IDS[first]);
    } else if (parse_whole(s, len, &number) == 1 && number >= 1 && number <= (uint64_t)count) {
        report(p, line, col, "unknown step '%s' (steps are named by id: did you mean '%s'?)", quote(q, s, len),
               STEP_IDS[first + (int)number - 1]);
    } else {
        report(p, line, col, "unknown step '%s'%s", quote(q, s, len),
               suggest(p, line, col, hint, s, len, STEP_IDS + first, (size_t)count, "steps"));
    }
}

/* Whether the trace of the lesson's header settings has step id (a
 * model's trace has gpt2_blocks only after layer 0, gpt2_bpe only for a
 * sentence); always true while the settings have errors. */
static bool header_trace_has(const Parser *p, int id)
{
    const TraceStepDef *def = trace_step_def((size_t)id);
    return !p->config_ok || def->applies == NULL || def->applies(&p->lesson->config);
}

/* Reports a listed step that the header's trace does not have, at (line, col). */
static void report_not_in_trace(Parser *p, int line, int col, int id)
{
    if (strcmp(STEP_IDS[id], "gpt2_blocks") == 0)
        report(p, line, col,
               "step 'gpt2_blocks' shows the blocks before the layer traced: it needs 'layer: 1' or more in the "
               "header");
    else if (strcmp(STEP_IDS[id], "gpt2_bpe") == 0)
        report(p, line, col,
               "step 'gpt2_bpe' replays the tokenizer on the sentence: it needs 'sentence:', not "
               "'token-ids:'");
    else
        report(p, line, col, "step '%s' is not part of the trace of the header's settings", STEP_IDS[id]);
}

/* Sets the walk: the steps key's ids in its order, or all steps. */
static void apply_steps(Parser *p)
{
    Lesson *lesson = p->lesson;
    for (int i = 0; i < TRACE_MAX_STEPS; i++)
        p->walk_of[i] = -1;
    for (int i = 0; i < LESSON_MAX_STEPS; i++) {
        lesson->steps[i].trace = -1;
        lesson->steps[i].layer = -1;
    }
    int first, count;
    walk_rows(p, &first, &count);
    const Field *f = &p->header[H_STEPS];
    if (!f->seen) {
        for (int i = first; i < first + count; i++) {
            if (!header_trace_has(p, i))
                continue;
            LessonStep *step = &lesson->steps[lesson->n_steps];
            snprintf(step->id, sizeof step->id, "%s", STEP_IDS[i]);
            p->walk_of[i] = lesson->n_steps++;
        }
        return;
    }
    if (!header_value(p, H_STEPS)) {
        p->steps_bad = true;
        return;
    }
    const char *v = f->value;
    size_t i = 0;
    int listed = 0;
    for (;;) {
        while (v[i] == ',' || v[i] == ' ' || v[i] == '\t')
            i++;
        if (v[i] == '\0')
            break;
        size_t start = i;
        while (v[i] != '\0' && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        int col = value_column(f, start);
        listed++;
        if (listed > LESSON_MAX_STEPS) {
            report(p, f->line, col, "more than %d steps (LESSON_MAX_STEPS)", LESSON_MAX_STEPS);
            p->steps_bad = true;
            break;
        }
        int id = find_step_id(p, v + start, i - start);
        if (id < 0) {
            report_unknown_step(p, f->line, col, v + start, i - start);
            p->steps_bad = true;
        } else if (!header_trace_has(p, id)) {
            report_not_in_trace(p, f->line, col, id);
            p->steps_bad = true;
        } else if (p->walk_of[id] >= 0) {
            report(p, f->line, col, "step '%s' is listed twice", STEP_IDS[id]);
            p->steps_bad = true;
        } else {
            LessonStep *step = &lesson->steps[lesson->n_steps];
            snprintf(step->id, sizeof step->id, "%s", STEP_IDS[id]);
            p->walk_of[id] = lesson->n_steps++;
        }
    }
}

/* Checks and applies the header once all its lines are read. */
static void apply_header(Parser *p)
{
    Lesson *lesson = p->lesson;
    char q[QUOTE_BYTES];

    /* 1. the version and the texts */
    const Field *f = &p->header[H_VERSION];
    if (!f->seen)
        report_file(p, "missing required key 'attn-lesson' (a lesson starts with 'attn-lesson: %d')",
                    LESSON_FORMAT_VERSION);
    else if (header_value(p, H_VERSION) && strcmp(f->value, "1") != 0)
        report(p, f->line, f->col, "unsupported format version '%s' (this attn-trace reads version %d)",
               quote(q, f->value, strlen(f->value)), LESSON_FORMAT_VERSION);
    f = &p->header[H_TITLE];
    if (!f->seen)
        report_file(p, "missing required key 'title'");
    else
        header_value(p, H_TITLE);
    lesson->title = p->header[H_TITLE].value != NULL ? p->header[H_TITLE].value : dup_n(p, "", 0);
    p->header[H_TITLE].value = NULL;
    lesson->author = p->header[H_AUTHOR].value != NULL ? p->header[H_AUTHOR].value : dup_n(p, "", 0);
    p->header[H_AUTHOR].value = NULL;

    /* 2. the configuration, the walk and the precision */
    apply_config(p);
    apply_steps(p);
    lesson->precision = DEFAULT_PRECISION;
    f = &p->header[H_PRECISION];
    if (header_value(p, H_PRECISION)) {
        uint64_t v;
        if (parse_whole(f->value, strlen(f->value), &v) == 1 && v <= MAX_PRECISION)
            lesson->precision = (int)v;
        else
            report(p, f->line, f->col, "precision must be a whole number from 0 to %d, got '%s'", MAX_PRECISION,
                   quote(q, f->value, strlen(f->value)));
    }
}

/* ------------------------------------------------------------------------
 * Pass 5a: quizzes
 * ---------------------------------------------------------------------- */

static void free_draft(QuizDraft *d)
{
    for (int k = 0; k < Q_COUNT; k++)
        free_field(&d->field[k]);
    for (int i = 0; i < d->n_choices; i++)
        free_field(&d->choices[i]);
    for (int i = 0; i < d->n_hints; i++)
        free_field(&d->hints[i]);
    memset(d, 0, sizeof *d);
}

/* Reads one line inside a quiz block ("key: value", blank or comment). */
static void quiz_line(Parser *p, const Line *ln)
{
    QuizDraft *d = &p->quiz;
    char q[QUOTE_BYTES], hint[LIST_BYTES + 64], list[LIST_BYTES];
    KeyValue kv;
    if (!split_key_value(ln, &kv)) {
        char what[LIST_BYTES + 16];
        snprintf(what, sizeof what, "a quiz (keys: %s)", join_names(list, QUIZ_KEYS, Q_COUNT));
        report_not_key_value(p, ln, what);
        return;
    }
    int k = find_name(kv.key, kv.key_len, QUIZ_KEYS, Q_COUNT);
    if (k < 0) {
        report(p, ln->no, kv.key_col, "unknown quiz key '%s'%s", quote(q, kv.key, kv.key_len),
               suggest(p, ln->no, kv.key_col, hint, kv.key, kv.key_len, QUIZ_KEYS, Q_COUNT, "keys"));
        return;
    }
    p->last_key_line = ln->no;
    p->last_key = QUIZ_KEYS[k];
    if (kv.value_len == 0) {
        report(p, ln->no, kv.value_col, "'%s:' has no value", QUIZ_KEYS[k]);
        if (k == Q_CHOICE || k == Q_HINT)
            return;
    }
    if (k == Q_CHOICE || k == Q_HINT) {
        bool choice = k == Q_CHOICE;
        int *n = choice ? &d->n_choices : &d->n_hints;
        bool *over = choice ? &d->too_many_choices : &d->too_many_hints;
        int max = choice ? LESSON_MAX_CHOICES : LESSON_MAX_HINTS;
        if (*n == max) {
            if (!*over)
                report(p, ln->no, kv.key_col, "more than %d %s in a quiz (%s)", max, choice ? "choices" : "hints",
                       choice ? "LESSON_MAX_CHOICES" : "LESSON_MAX_HINTS");
            *over = true;
            return;
        }
        set_field(p, choice ? &d->choices[*n] : &d->hints[*n], ln, &kv);
        (*n)++;
        return;
    }
    Field *f = &d->field[k];
    if (f->seen) {
        report(p, ln->no, kv.key_col, "repeated quiz key '%s' (first on line %d)", QUIZ_KEYS[k], f->line);
        return;
    }
    set_field(p, f, ln, &kv);
}

/* Whether quiz field k has a non-empty value. */
static bool draft_has(const QuizDraft *d, int k)
{
    return d->field[k].seen && d->field[k].value != NULL && d->field[k].value[0] != '\0';
}

/* Formats the lesson's token labels as a list into buf (LIST_BYTES). */
static const char *token_list(const Config *cfg, char *buf)
{
    size_t n = cfg->n_tokens < 64 ? cfg->n_tokens : 64;
    const char *names[64];
    for (size_t i = 0; i < n; i++)
        names[i] = cfg->tokens[i];
    join_names(buf, names, n);
    if (n < cfg->n_tokens && strlen(buf) + 6 < LIST_BYTES && strcmp(buf + strlen(buf) - 3, "...") != 0)
        strcat(buf, ", ...");
    return buf;
}

/* Whether choices labelled by number (1, 2, ...) rather than by letter
 * (a, b, ...): when one of the texts is itself a single letter, such as
 * the letters of an einsum equation. */
static bool labels_are_numbers(char *const *texts, int n)
{
    for (int c = 0; c < n; c++)
        if (texts[c] != NULL && strlen(texts[c]) == 1 && isalpha((unsigned char)texts[c][0]))
            return true;
    return false;
}

/* The choice that s[0..len) labels among n choices in their scheme: a
 * single letter a, b, ... (any case), or with `numbers` 1..n; -1 when it is
 * none. */
static int choice_label(const char *s, size_t len, int n, bool numbers)
{
    if (!numbers)
        return len == 1 && lower_ascii(s[0]) >= 'a' && lower_ascii(s[0]) < 'a' + n ? lower_ascii(s[0]) - 'a' : -1;
    uint64_t number;
    if (parse_whole(s, len, &number) == 1 && number >= 1 && number <= (uint64_t)n)
        return (int)number - 1;
    return -1;
}

/* Checks a choice quiz's answer: a choice's text, written exactly, or its
 * label (docs/lesson-format.md); sets quiz->answer_choice, or reports why
 * not and returns false. */
static bool check_choice_answer(Parser *p, const QuizDraft *d, Quiz *quiz)
{
    const Field *a = &d->field[Q_ANSWER];
    size_t len = strlen(a->value);
    char q[QUOTE_BYTES], list[LIST_BYTES];
    if (d->n_choices == 0)
        return false; /* reported as too few choices */
    char *texts[LESSON_MAX_CHOICES] = {NULL};
    for (int c = 0; c < d->n_choices && c < LESSON_MAX_CHOICES; c++)
        texts[c] = d->choices[c].value;
    bool numbers = labels_are_numbers(texts, d->n_choices);
    int label = choice_label(a->value, len, d->n_choices, numbers);
    if (label < 0 && !numbers) /* the older spelling of a letter-labelled answer: its number */
        label = choice_label(a->value, len, d->n_choices, true);
    for (int c = 0; c < d->n_choices; c++) {
        if (d->choices[c].value != NULL && strcmp(d->choices[c].value, a->value) == 0) {
            if (label >= 0 && label != c) {
                report(p, a->line, a->col,
                       "choice answer '%s' is both the text of choice %d and the label of choice %d: write "
                       "the label (%s) of the one you mean",
                       quote(q, a->value, len), c + 1, label + 1, numbers ? "its number" : "its letter");
                return false;
            }
            quiz->answer_choice = c;
            return true;
        }
    }
    if (label >= 0) {
        quiz->answer_choice = label;
        return true;
    }
    for (int c = 0; c < d->n_choices; c++) {
        const char *text = d->choices[c].value;
        if (text != NULL && equal_fold(text, strlen(text), a->value, len)) {
            report(p, a->line, a->col,
                   "choice answer '%s' is not one of the choices (did you mean '%s'? write it exactly)",
                   quote(q, a->value, len), quote(list, text, strlen(text)));
            return false;
        }
    }
    report(p, a->line, a->col, "choice answer '%s' is not one of the choices (write a choice exactly, or its label)",
           quote(q, a->value, len));
    return false;
}

/* Checks the answer of a quiz of a known kind and fills quiz from it;
 * false (with a report) when the answer does not fit the kind. */
static bool check_answer(Parser *p, const QuizDraft *d, QuizKind kind, Quiz *quiz)
{
    const Field *a = &d->field[Q_ANSWER];
    size_t len = strlen(a->value);
    char q[QUOTE_BYTES], list[LIST_BYTES];
    quiz->answer_line = a->line;
    quiz->answer_col = a->col;
    if (a->value[0] == '=') { /* evaluated against the trace once the file is read (resolve_answers) */
        if (kind != QUIZ_CHOICE)
            return true;
        report(p, a->line, a->col,
               "a choice answer names one of the choices: '=' answers are for shape, number and "
               "token quizzes");
        return false;
    }
    switch (kind) {
    case QUIZ_SHAPE: {
        Shape shape;
        const char *why;
        size_t bad_at;
        if (!parse_shape(a->value, len, &shape, &why, &bad_at)) {
            report(p, a->line, value_column(a, bad_at), "shape answer '%s': %s (write a shape as [5, 16])",
                   quote(q, a->value, len), why);
            return false;
        }
        for (int i = 0; i < shape.ndim; i++) {
            if (shape.dims[i] == 0) {
                report(p, a->line, a->col, "shape answer '%s' has a zero dimension", quote(q, a->value, len));
                return false;
            }
        }
        quiz->shape_ndim = shape.ndim;
        memcpy(quiz->shape, shape.dims, sizeof quiz->shape);
        return true;
    }
    case QUIZ_NUMBER:
        if (!parse_decimal(a->value, len, &quiz->number)) {
            report(p, a->line, a->col, "number answer must be a decimal number such as 0.25 or 1e-3, got '%s'",
                   quote(q, a->value, len));
            return false;
        }
        return true;
    case QUIZ_TOKEN: {
        if (!p->config_ok) /* the tokens are not known: the configuration's own error says why */
            return true;
        const Config *cfg = &p->lesson->config;
        if (quiz_token_named(cfg, a->value, len) != TOKEN_NOT_NAMED)
            return true;
        report(p, a->line, a->col, "token answer '%s' is not a token of the lesson (tokens: %s)",
               quote(q, a->value, len), token_list(cfg, list));
        return false;
    }
    case QUIZ_CHOICE:
        return check_choice_answer(p, d, quiz);
    }
    return false;
}

/* Checks a quiz's kind and its required keys (question, answer), and that
 * every key given has a value; reports what is wrong. Sets *kind to the
 * QuizKind, or leaves it -1 when there is none. Returns false on any
 * error. */
static bool check_kind_and_keys(Parser *p, const QuizDraft *d, int *kind)
{
    bool ok = true;
    char q[QUOTE_BYTES], hint[LIST_BYTES + 64], list[LIST_BYTES];
    const Field *f = &d->field[Q_KIND];
    if (!f->seen) {
        report(p, d->line, 1, "quiz without 'kind:' (kinds: %s)", join_names(list, QUIZ_KINDS, COUNT_OF(QUIZ_KINDS)));
        ok = false;
    } else if (draft_has(d, Q_KIND)) {
        *kind = find_name(f->value, strlen(f->value), QUIZ_KINDS, COUNT_OF(QUIZ_KINDS));
        if (*kind < 0) {
            report(p, f->line, f->col, "unknown quiz kind '%s'%s", quote(q, f->value, strlen(f->value)),
                   suggest(p, f->line, f->col, hint, f->value, strlen(f->value), QUIZ_KINDS, COUNT_OF(QUIZ_KINDS),
                           "kinds"));
            ok = false;
        }
    } else {
        ok = false;
    }
    if (!d->field[Q_QUESTION].seen) {
        report(p, d->line, 1, "quiz without 'question:'");
        ok = false;
    }
    if (!d->field[Q_ANSWER].seen) {
        report(p, d->line, 1, "quiz without 'answer:'");
        ok = false;
    }
    for (int k = 0; k < Q_COUNT; k++)
        if (d->field[k].seen && !draft_has(d, k))
            ok = false; /* reported as having no value */
    return ok;
}

/* Checks a quiz's choices against its kind (-1 when unknown): none on
 * another kind, at least 2 on a choice quiz, no two the same (ignoring
 * case). Reports what is wrong; returns false on any error. */
static bool check_choices(Parser *p, const QuizDraft *d, int kind)
{
    bool ok = true;
    char q[QUOTE_BYTES];
    if (kind >= 0 && kind != QUIZ_CHOICE && d->n_choices > 0) {
        report(p, d->choices[0].line, d->choices[0].key_col, "'choice' is only for choice quizzes");
        ok = false;
    }
    if (kind == QUIZ_CHOICE) {
        char *texts[LESSON_MAX_CHOICES] = {NULL};
        for (int c = 0; c < d->n_choices && c < LESSON_MAX_CHOICES; c++)
            texts[c] = d->choices[c].value;
        bool numbers = labels_are_numbers(texts, d->n_choices < LESSON_MAX_CHOICES ? d->n_choices : LESSON_MAX_CHOICES);
        if (d->n_choices < 2) {
            report(p, d->line, 1, "a choice quiz needs at least 2 choices (it has %d)", d->n_choices);
            ok = false;
        }
        for (int c = 0; c < d->n_choices && c < LESSON_MAX_CHOICES; c++) {
            const Field *fc = &d->choices[c];
            size_t flen = fc->value != NULL ? strlen(fc->value) : 0;
            int label = fc->value != NULL ? choice_label(fc->value, flen, d->n_choices, numbers) : -1;
            if (label >= 0 && label != c) {
                report(p, fc->line, fc->col,
                       "choice '%s' reads as the label of choice %d (choices are labelled %s, because %s): reword "
                       "it (for example 'option %s')",
                       quote(q, fc->value, flen), label + 1, numbers ? "1, 2, ..." : "a, b, ...",
                       numbers ? "a choice is a single letter" : "none is a single letter", fc->value);
                ok = false;
            }
        }
        for (int c = 1; c < d->n_choices; c++) {
            const Field *fc = &d->choices[c];
            for (int e = 0; e < c && fc->value != NULL; e++) {
                const char *other = d->choices[e].value;
                if (other != NULL && equal_fold(other, strlen(other), fc->value, strlen(fc->value))) {
                    report(p, fc->line, fc->col, "repeated choice '%s' (the same as choice %d)",
                           quote(q, fc->value, strlen(fc->value)), e + 1);
                    ok = false;
                    break;
                }
            }
        }
    }
    return ok;
}

/* Moves quiz, of kind, into the current step with the strings of the
 * draft d (question, answer, explanation, choices, hints), which d no
 * longer owns. The step has room (the section checks it). */
static void keep_quiz(Parser *p, QuizDraft *d, const Quiz *quiz, QuizKind kind)
{
    LessonStep *step = &p->lesson->steps[p->section];
    Quiz *kept = &step->quizzes[step->n_quizzes++];
    *kept = *quiz;
    kept->kind = kind;
    kept->question = d->field[Q_QUESTION].value;
    kept->answer = d->field[Q_ANSWER].value;
    kept->explain = d->field[Q_EXPLAIN].value;
    d->field[Q_QUESTION].value = d->field[Q_ANSWER].value = d->field[Q_EXPLAIN].value = NULL;
    kept->n_choices = d->n_choices;
    for (int c = 0; c < d->n_choices; c++) {
        kept->choices[c] = d->choices[c].value;
        d->choices[c].value = NULL;
    }
    kept->n_hints = d->n_hints;
    for (int h = 0; h < d->n_hints; h++) {
        kept->hints[h] = d->hints[h].value;
        d->hints[h].value = NULL;
    }
}

/* Checks a finished quiz block and, when it is right and kept, adds it to
 * the current step. Every problem is reported. */
static void finish_quiz(Parser *p)
{
    QuizDraft *d = &p->quiz;
    Quiz quiz;
    memset(&quiz, 0, sizeof quiz);
    quiz.line = d->line;
    char q[QUOTE_BYTES];

    /* 1. the kind decides what else is allowed */
    int kind = -1;
    bool ok = check_kind_and_keys(p, d, &kind);

    /* 2. the keys that belong to one kind */
    const Field *f = &d->field[Q_TOLERANCE];
    quiz.tolerance = kind == QUIZ_NUMBER ? DEFAULT_TOLERANCE : 0.0;
    if (draft_has(d, Q_TOLERANCE)) {
        double tolerance;
        if (kind >= 0 && kind != QUIZ_NUMBER) {
            report(p, f->line, f->key_col, "'tolerance' is only for number quizzes");
            ok = false;
        } else if (!parse_decimal(f->value, strlen(f->value), &tolerance) || tolerance < 0) {
            report(p, f->line, f->col, "tolerance must be a decimal number from 0 up, got '%s'",
                   quote(q, f->value, strlen(f->value)));
            ok = false;
        } else {
            quiz.tolerance = tolerance;
        }
    }
    if (!check_choices(p, d, kind))
        ok = false;
    f = &d->field[Q_WHEN];
    if (draft_has(d, Q_WHEN)) {
        int when = find_name(f->value, strlen(f->value), WHEN_VALUES, COUNT_OF(WHEN_VALUES));
        if (when < 0) {
            report(p, f->line, f->col, "when must be 'before' or 'after', got '%s'",
                   quote(q, f->value, strlen(f->value)));
            ok = false;
        }
        quiz.before = when == 0;
    }

    /* 3. the answer must fit the kind */
    if (kind >= 0 && draft_has(d, Q_ANSWER) && !check_answer(p, d, (QuizKind)kind, &quiz))
        ok = false;

    /* 4. keep it: the strings move from the draft to the quiz */
    if (ok && d->keep && p->section >= 0 && !p->oom)
        keep_quiz(p, d, &quiz, (QuizKind)kind);
    free_draft(d);
}

/* ------------------------------------------------------------------------
 * Pass 5b: sections, text and blocks
 * ---------------------------------------------------------------------- */

/* Appends a text line to sb, with one blank line for a pending paragraph
 * break (leading and repeated blank lines are dropped). */
static void append_text(StrBuf *sb, bool *paragraph_break, const Line *ln)
{
    if (is_blank_line(ln)) {
        *paragraph_break = sb->len > 0;
        return;
    }
    if (sb->len > 0)
        strbuf_puts(sb, *paragraph_break ? "\n\n" : "\n");
    strbuf_append(sb, ln->s, ln->len);
    *paragraph_break = false;
}

/* Moves sb's text into *out (NULL when empty) and resets sb. */
static void take_text(Parser *p, StrBuf *sb, char **out)
{
    if (sb->failed)
        p->oom = true;
    if (sb->len > 0 && !sb->failed) {
        *out = sb->data;
        memset(sb, 0, sizeof *sb);
    }
    strbuf_free(sb);
}

/* One line of a '::: step' block: a key of STEP_KEYS with a value, each
 * key once per step. */
static void step_block_line(Parser *p, const Line *ln)
{
    char q[QUOTE_BYTES], hint[LIST_BYTES + 64], list[LIST_BYTES];
    KeyValue kv;
    if (!split_key_value(ln, &kv)) {
        char what[LIST_BYTES + 24];
        snprintf(what, sizeof what, "a step block (keys: %s)", join_names(list, STEP_KEYS, S_COUNT));
        report_not_key_value(p, ln, what);
        return;
    }
    int k = find_name(kv.key, kv.key_len, STEP_KEYS, S_COUNT);
    if (k < 0) {
        report(p, ln->no, kv.key_col, "unknown step block key '%s'%s", quote(q, kv.key, kv.key_len),
               suggest(p, ln->no, kv.key_col, hint, kv.key, kv.key_len, STEP_KEYS, S_COUNT, "keys"));
        return;
    }
    p->last_key_line = ln->no;
    p->last_key = STEP_KEYS[k];
    Field *f = &p->step_field[k];
    if (f->seen) {
        report(p, ln->no, kv.key_col, "repeated step block key '%s' (first on line %d)", STEP_KEYS[k], f->line);
        return;
    }
    if (kv.value_len == 0)
        report(p, ln->no, kv.value_col, "'%s:' has no value", STEP_KEYS[k]);
    set_field(p, f, ln, &kv);
}

/* A step block's own trace keys (layer:, model:, sentence:) and its
 * compare: into step (NULL: a section in error, only checked). They go
 * with a header `model:`; the trace itself is built in pass 6. */
static void step_block_trace_keys(Parser *p, LessonStep *step)
{
    char q[QUOTE_BYTES];
    bool any = false;
    for (int k = S_LAYER; k <= S_SENTENCE; k++) {
        const Field *f = &p->step_field[k];
        any |= f->seen;
        if (f->seen && !p->header[H_MODEL].seen)
            report(p, f->line, f->key_col,
                   "'%s:' in a step block goes with 'model:' in the header (an article lesson has one trace)",
                   STEP_KEYS[k]);
    }
    if (!p->header[H_MODEL].seen)
        any = false;
    Field *f = &p->step_field[S_LAYER];
    uint64_t layer = 0;
    if (any && f->seen && f->value != NULL && f->value[0] != '\0') {
        if (parse_whole(f->value, strlen(f->value), &layer) != 1 || layer > LIMIT_MAX_LAYERS)
            report(p, f->line, f->col, "layer must be a whole number below %d, got '%s'", LIMIT_MAX_LAYERS,
                   quote(q, f->value, strlen(f->value)));
        else if (step != NULL)
            step->layer = (long)layer, step->layer_line = f->line, step->layer_col = f->col;
    }
    f = &p->step_field[S_MODEL];
    if (any && f->seen && f->value != NULL && f->value[0] != '\0') {
        char dir[LIMIT_PATH_BYTES];
        Error err;
        error_clear(&err);
        if (!resolve_model(p->name, f->value, dir, sizeof dir, &err)) {
            report_model(p, f->line, f->col, &err);
        } else if (step != NULL) {
            free(step->model);
            free(step->model_dir);
            step->model = f->value;
            f->value = NULL;
            step->model_dir = dup_n(p, dir, strlen(dir));
            step->model_line = f->line;
            step->model_col = f->col;
        }
    }
    f = &p->step_field[S_SENTENCE];
    if (any && f->seen && f->value != NULL && f->value[0] != '\0' && step != NULL) {
        free(step->sentence);
        step->sentence = f->value;
        f->value = NULL;
        step->sentence_line = f->line;
        step->sentence_col = f->col;
    }
    f = &p->step_field[S_COMPARE];
    if (f->seen && f->value != NULL && f->value[0] != '\0') {
        int v = find_name(f->value, strlen(f->value), CAUSAL_VALUES, COUNT_OF(CAUSAL_VALUES));
        if (v < 0)
            report(p, f->line, f->col, "'compare:' is 'yes' or 'no', not '%s'", quote(q, f->value, strlen(f->value)));
        else if (v == 0 && !any && p->header[H_MODEL].seen)
            report(p, f->line, f->key_col,
                   "'compare: yes' in a step block sets the step's own trace (its 'model:', 'layer:' or "
                   "'sentence:') beside the header's, and this block names none");
        else if (step != NULL)
            step->compare = v == 0;
    }
}

/* Ends a '::: step' block: its headline and select go to the current
 * step (select is checked against the trace in pass 6), and its trace
 * keys (step_block_trace_keys). */
static void finish_step_block(Parser *p)
{
    Field *f = &p->step_field[S_HEADLINE];
    LessonStep *step = p->section >= 0 ? &p->lesson->steps[p->section] : NULL;
    step_block_trace_keys(p, step);
    if (step != NULL && f->seen && f->value != NULL && f->value[0] != '\0') {
        free(step->headline);
        step->headline = f->value;
        f->value = NULL;
    }
    f = &p->step_field[S_SELECT];
    if (step != NULL && f->seen && f->value != NULL && f->value[0] != '\0') {
        free(step->select);
        step->select = f->value;
        step->select_line = f->line;
        step->select_col = f->col;
        f->value = NULL;
    }
    for (int k = 0; k < S_COUNT; k++)
        free_field(&p->step_field[k]);
    memset(p->step_field, 0, sizeof p->step_field);
}

/* Ends the current section: its text and notes go to its step (the
 * intro's text to the lesson). */
static void end_section(Parser *p)
{
    if (p->section == SECTION_INTRO)
        take_text(p, &p->body, &p->lesson->intro);
    if (p->section >= 0) {
        LessonStep *step = &p->lesson->steps[p->section];
        take_text(p, &p->body, &step->text);
        take_text(p, &p->notes, &step->notes);
    }
    strbuf_free(&p->body);
    strbuf_free(&p->notes);
    p->text_break = p->notes_break = false;
}

/* Starts the section of a "## id" line. */
static void begin_section(Parser *p, const Line *ln)
{
    p->section = SECTION_IGNORED;
    p->quizzes_over = false;
    p->notes_line = 0;
    p->step_block_line = 0;
    size_t len = ln->len - 2;
    const char *id = trim(ln->s + 2, &len);
    char list[LIST_BYTES];
    int first, count;
    walk_rows(p, &first, &count);
    if (len == 0) {
        report(p, ln->no, 1, "missing step id after '##' (steps: %s)",
               join_names(list, STEP_IDS + first, (size_t)count));
        return;
    }
    int col = column_of(ln, id);
    if (equal_word(id, len, INTRO_ID)) {
        if (p->seen_step_section)
            report(p, ln->no, col, "'## intro' must come before the first step's section");
        else if (p->intro_line != 0)
            report(p, ln->no, col, "repeated section 'intro' (first on line %d)", p->intro_line);
        else
            p->section = SECTION_INTRO, p->intro_line = ln->no;
        return;
    }
    p->seen_step_section = true;
    int s = find_step_id(p, id, len);
    if (s < 0) {
        report_unknown_step(p, ln->no, col, id, len);
        return;
    }
    if (p->section_line[s] != 0) {
        report(p, ln->no, col, "repeated section for step '%s' (first on line %d)", STEP_IDS[s], p->section_line[s]);
        return;
    }
    p->section_line[s] = ln->no;
    if (p->walk_of[s] < 0) {
        if (!p->steps_bad) {
            const char *walked[LESSON_MAX_STEPS];
            for (int i = 0; i < p->lesson->n_steps; i++)
                walked[i] = p->lesson->steps[i].id;
            report(p, ln->no, col, "section for step '%s', which the lesson does not walk (steps: %s)", STEP_IDS[s],
                   join_names(list, walked, (size_t)p->lesson->n_steps));
        }
        return;
    }
    p->section = p->walk_of[s];
    p->lesson->steps[p->section].line = ln->no;
}

/* Closes the open block; `unclosed` when it ends without its ":::". */
static void close_block(Parser *p, bool unclosed)
{
    Block block = p->block;
    p->block = BLOCK_NONE;
    switch (block) {
    case BLOCK_NONE:
        return;
    case BLOCK_QUIZ:
        if (unclosed)
            report(p, p->block_line, 1, "'::: quiz' is not closed (end it with a line ':::')");
        finish_quiz(p);
        break;
    case BLOCK_NOTES:
        if (unclosed)
            report(p, p->block_line, 1, "'::: notes' is not closed (end it with a line ':::')");
        p->notes_break = p->notes.len > 0;
        break;
    case BLOCK_STEP:
        if (unclosed)
            report(p, p->block_line, 1, "'::: step' is not closed (end it with a line ':::')");
        finish_step_block(p);
        break;
    case BLOCK_OTHER:
        break;
    }
    p->text_break = p->body.len > 0; /* a block ends the paragraph before it */
}

/* Opens the block a "::: name" line names. */
static void open_block(Parser *p, const Line *ln, const char *name, size_t name_len)
{
    char q[QUOTE_BYTES], hint[LIST_BYTES + 64];
    int col = column_of(ln, name);
    int b = find_name(name, name_len, BLOCK_NAMES, COUNT_OF(BLOCK_NAMES));
    p->block_line = ln->no;
    if (b < 0) {
        report(p, ln->no, col, "unknown block '::: %s'%s", quote(q, name, name_len),
               suggest(p, ln->no, col, hint, name, name_len, BLOCK_NAMES, COUNT_OF(BLOCK_NAMES), "blocks"));
        p->block = BLOCK_OTHER;
        return;
    }
    if (p->section == SECTION_NONE)
        report(p, ln->no, 1, "'::: %s' outside a step section (start one with '## <step-id>')", BLOCK_NAMES[b]);
    if (p->section == SECTION_INTRO) {
        report(p, ln->no, 1, "'::: %s' in the intro: the intro holds text only (blocks belong to a step)",
               BLOCK_NAMES[b]);
        p->block = BLOCK_OTHER;
        return;
    }
    if (b == 2) {
        if (p->step_block_line != 0)
            report(p, ln->no, 1, "a second '::: step' block in this step (a step has one; the first is on line %d)",
                   p->step_block_line);
        else
            p->step_block_line = ln->no;
        p->block = BLOCK_STEP;
        return;
    }
    if (b == 1) {
        if (p->notes_line != 0)
            report(p, ln->no, 1, "a second '::: notes' block in this step (a step has one; the first is on line %d)",
                   p->notes_line);
        else
            p->notes_line = ln->no;
        p->block = BLOCK_NOTES;
        return;
    }
    p->block = BLOCK_QUIZ;
    memset(&p->quiz, 0, sizeof p->quiz);
    p->quiz.line = ln->no;
    if (p->section >= 0) {
        LessonStep *step = &p->lesson->steps[p->section];
        if (step->n_quizzes < LESSON_MAX_QUIZZES) {
            p->quiz.keep = true;
        } else if (!p->quizzes_over) {
            report(p, ln->no, 1, "more than %d quizzes in step '%s' (LESSON_MAX_QUIZZES)", LESSON_MAX_QUIZZES,
                   step->id);
            p->quizzes_over = true;
        }
    }
}

/* Reads a line between the header and the first section: only blank
 * lines and comments belong there. One report per paragraph. */
static void outside_line(Parser *p, const Line *ln)
{
    if (is_blank_line(ln)) {
        p->outside_reported = false;
        return;
    }
    if (is_comment(ln) || p->outside_reported)
        return;
    p->outside_reported = true;
    KeyValue kv;
    if (split_key_value(ln, &kv) && find_name(kv.key, kv.key_len, HEADER_KEYS, H_COUNT) >= 0)
        report(p, ln->no, kv.key_col, "'%.*s' is after the header, which ends at the first blank line (line %d)",
               (int)kv.key_len, kv.key, p->header_end);
    else
        report(p, ln->no, 1, "text outside a step section (start one with '## <step-id>')");
}

/* A near miss of a section line: '#' signs (one, or three and more, or
 * two with no space after them) then a step id and nothing else, such as
 * "# softmax" or "##softmax". Reports it with the fix and returns true. */
static bool near_miss_section(Parser *p, const Line *ln)
{
    size_t len = ln->len;
    const char *s = trim(ln->s, &len);
    size_t hashes = 0;
    while (hashes < len && s[hashes] == '#')
        hashes++;
    if (hashes == 0 || (hashes == 2 && len > 2 && is_blank_char(s[2]) && s == ln->s))
        return false; /* not a '#' line, or a real section line */
    size_t id_len = len - hashes;
    const char *id = trim(s + hashes, &id_len);
    if (id_len == 0 || find_step_id(p, id, id_len) < 0)
        return false;
    report(p, ln->no, column_of(ln, s),
           "'%.*s' is not a section line: a section starts with '## %.*s' (two '#', a "
           "space, the step id, at the start of the line)",
           (int)len, s, (int)id_len, id);
    return true;
}

/* A block's end written with a word, such as "::: end" or "::: /quiz":
 * reports that a block closes with ':::' alone and returns true. */
static bool near_miss_close(Parser *p, const Line *ln, const char *name, size_t name_len)
{
    static const char *const ENDS[] = {"end",       "close",   "/quiz",    "/notes", "end quiz",
                                       "end notes", "endquiz", "endnotes", "done",   "/"};
    if (find_name(name, name_len, ENDS, sizeof ENDS / sizeof ENDS[0]) < 0)
        return false;
    report(p, ln->no, column_of(ln, name), "a block closes with ':::' alone on its line, not '::: %.*s'", (int)name_len,
           name);
    return true;
}

/* Whether an "experiment:" value parses (the flags' spellings,
 * experiment.h) and, once the header's configuration is known, fits it
 * (the head exists, the tensor has that index); else reports why, at the
 * bad part of the value. */
static bool section_experiment_ok(Parser *p, const Line *ln, const KeyValue *kv)
{
    char text[LESSON_EXPERIMENT_BYTES];
    memcpy(text, kv->value, kv->value_len);
    text[kv->value_len] = '\0';
    ExperimentSet set;
    experiment_set_init(&set);
    Error err;
    error_clear(&err);
    if (experiment_parse_list(&set, text, &err) && (!p->config_ok || experiment_check(&set, &p->lesson->config, &err)))
        return true;
    int col = kv->value_col + (err.at != ERROR_AT_NONE && err.at < kv->value_len ? (int)err.at : 0);
    report(p, ln->no, col, "experiment: %s", err.message);
    return false;
}

/* A line at the top of a section, before its text, that reads "key: value"
 * with a section key (or a near miss of one, reported): sets the step's
 * setting and returns true. Any other line returns false (it is text). */
static bool section_key_line(Parser *p, const Line *ln)
{
    KeyValue kv;
    char q[QUOTE_BYTES];
    if (p->section == SECTION_NONE || p->body.len > 0 || p->text_break || !split_key_value(ln, &kv))
        return false;
    int k = find_name(kv.key, kv.key_len, SECTION_KEYS, SEC_COUNT);
    if (k < 0) {
        const char *near = nearest_name(kv.key, kv.key_len, SECTION_KEYS, SEC_COUNT);
        for (size_t i = 0; i < kv.key_len; i++)
            if ((kv.key[i] < 'a' || kv.key[i] > 'z') && kv.key[i] != '-')
                return false; /* text such as "Note: ..." */
        if (near == NULL)
            return false;
        report(p, ln->no, kv.key_col, "unknown section key '%s' (did you mean '%s'?)", quote(q, kv.key, kv.key_len),
               near);
        return true;
    }
    LessonStep *step = p->section >= 0 ? &p->lesson->steps[p->section] : NULL;
    if (kv.value_len == 0) {
        report(p, ln->no, kv.value_col, "'%s:' has no value", SECTION_KEYS[k]);
    } else if (k == SEC_COMPARE) {
        int v = find_name(kv.value, kv.value_len, CAUSAL_VALUES, COUNT_OF(CAUSAL_VALUES));
        if (v < 0)
            report(p, ln->no, kv.value_col, "'compare:' is 'yes' or 'no', not '%s'", quote(q, kv.value, kv.value_len));
        else if (step != NULL)
            step->compare = v == 0;
    } else if (step != NULL && step->experiment_line != 0) {
        report(p, ln->no, kv.key_col, "repeated section key 'experiment' (first on line %d)", step->experiment_line);
    } else if (kv.value_len >= LESSON_EXPERIMENT_BYTES) {
        report(p, ln->no, kv.value_col, "'experiment:' is longer than %d bytes (LESSON_EXPERIMENT_BYTES)",
               LESSON_EXPERIMENT_BYTES - 1);
    } else if (!section_experiment_ok(p, ln, &kv)) {
        /* reported */
    } else if (step != NULL) {
        memcpy(step->experiment, kv.value, kv.value_len);
        step->experiment[kv.value_len] = '\0';
        step->experiment_line = ln->no;
        step->experiment_col = kv.value_col;
    }
    return true;
}

/* Reads one line after the header. */
static void body_line(Parser *p, const Line *ln)
{
    const char *name = NULL;
    size_t name_len = 0;
    bool fence = is_fence(ln, &name, &name_len);

    /* 1. a section line ends whatever was open; a near miss of one is an error */
    if (!is_section_line(ln) && p->block != BLOCK_OTHER && near_miss_section(p, ln))
        return;
    if (is_section_line(ln)) {
        close_block(p, p->block != BLOCK_OTHER);
        end_section(p);
        begin_section(p, ln);
        return;
    }
    /* 2. inside a block: its closing line, or its contents */
    if (p->block != BLOCK_NONE) {
        if (fence && name_len == 0) {
            close_block(p, false);
            return;
        }
        if (p->block == BLOCK_OTHER)
            return;
        if (fence && near_miss_close(p, ln, name, name_len)) {
            close_block(p, false); /* what was meant */
            return;
        }
        if (fence) {
            report(p, ln->no, 1, "blocks cannot nest: close the %s with ':::' first",
                   p->block == BLOCK_QUIZ   ? "quiz"
                   : p->block == BLOCK_STEP ? "step block"
                                            : "notes");
            return;
        }
        if (is_comment(ln))
            return;
        if (p->block == BLOCK_NOTES) {
            if (p->section >= 0)
                append_text(&p->notes, &p->notes_break, ln);
        } else if (!is_blank_line(ln)) {
            if (p->block == BLOCK_STEP)
                step_block_line(p, ln);
            else
                quiz_line(p, ln);
        }
        return;
    }
    /* 3. outside blocks: a block's opening line, a section key, or text */
    if (section_key_line(p, ln))
        return;
    if (fence) {
        if (name_len == 0)
            report(p, ln->no, 1, "':::' closes no block (open one with '::: quiz' or '::: notes')");
        else if (!near_miss_close(p, ln, name, name_len))
            open_block(p, ln, name, name_len);
        return;
    }
    if (p->section == SECTION_NONE)
        outside_line(p, ln);
    else if (p->section >= 0 || p->section == SECTION_INTRO)
        append_text(&p->body, &p->text_break, ln);
}

/* ------------------------------------------------------------------------
 * Pass 6: answers checked against the lesson's own trace (answer.h)
 * ---------------------------------------------------------------------- */

/* The part of the trace a lesson step belongs to (names are looked up
 * there first). */
static TracePart step_part(const LessonStep *step)
{
    const TraceStepDef *def = trace_step_def_find(step->id);
    return def != NULL ? def->part : PART_SINGLE_HEAD;
}

/* "[5, 16]" for a shape into buf (QUOTE_BYTES). */
static const char *shape_text(char *buf, int ndim, const size_t *shape)
{
    size_t at = (size_t)snprintf(buf, QUOTE_BYTES, "[");
    for (int i = 0; i < ndim && at < QUOTE_BYTES; i++)
        at += (size_t)snprintf(buf + at, QUOTE_BYTES - at, "%s%zu", i > 0 ? ", " : "", shape[i]);
    if (at < QUOTE_BYTES)
        snprintf(buf + at, QUOTE_BYTES - at, "]");
    return buf;
}

/* Fills quiz from the value v of its `=` answer, as its kind reads it:
 * the shape, the number, or the token. Returns the new answer text (owned
 * by the caller; NULL when out of memory, with err set) or NULL with err
 * set (at 0) when v does not suit the kind. */
static char *answer_from_value(Quiz *quiz, const Config *cfg, const AnswerValue *v, Error *err)
{
    char text[QUOTE_BYTES];
    switch (quiz->kind) {
    case QUIZ_SHAPE:
        if (v->kind != ANSWER_SHAPE) {
            error_set_at(err, STATUS_DATAERR, 0, "a shape quiz's '=' answer is shape(...), such as =shape(%s)",
                         v->tensor);
            return NULL;
        }
        quiz->shape_ndim = v->ndim;
        memcpy(quiz->shape, v->shape, sizeof quiz->shape);
        shape_text(text, v->ndim, v->shape);
        break;
    case QUIZ_NUMBER:
        if (v->kind == ANSWER_SHAPE) {
            error_set_at(err, STATUS_DATAERR, 0, "a number quiz's '=' answer is a number, not a shape");
            return NULL;
        }
        if (v->kind == ANSWER_POSITION)
            snprintf(text, sizeof text, "%zu", v->position);
        else /* the shortest text of the float (a sum, computed in float64, rounded to float first) */
            floatfmt_shortest(v->is_element ? v->element : (float)v->number, text);
        quiz->number = strtod(text, NULL); /* what the learner is shown is what is checked */
        break;
    case QUIZ_TOKEN:
        if (v->kind != ANSWER_POSITION || !v->over_tokens || v->position >= cfg->n_tokens) {
            error_set_at(err, STATUS_DATAERR, 0,
                         "a token quiz's '=' answer is argmax(...) or argmin(...) over the tokens, such as "
                         "=argmax(%s)",
                         v->tensor);
            return NULL;
        }
        /* a repeated word is named as its label names it, "the(5)" */
        explain_token_label(cfg, v->position, QUOTE_BYTES, text, sizeof text);
        break;
    case QUIZ_CHOICE:
        error_set_at(err, STATUS_DATAERR, 0, "a choice quiz cannot have an '=' answer");
        return NULL;
    }
    char *copy = strdup(text);
    if (copy == NULL)
        error_oom(err, "an answer");
    return copy;
}

/* Evaluates quiz's `=` answer (quiz->expr) against trace (its step's
 * changed trace when the step has `experiment:`, original then the trace
 * it was changed from; else NULL) and replaces its answer text. False
 * with err set, err->at the offset in quiz->expr. */
static bool eval_quiz(Quiz *quiz, const Trace *trace, const Trace *original, TracePart part, Error *err)
{
    AnswerValue v;
    if (!answer_eval_changed(trace, original, part, quiz->expr, &v, err))
        return false;
    char *text = answer_from_value(quiz, &trace->config, &v, err);
    if (text == NULL)
        return false;
    free(quiz->answer);
    quiz->answer = text;
    return true;
}

/* The column of byte offset at of quiz's expression (just after '='). */
static int expr_column(const Quiz *quiz, size_t at)
{
    int col = quiz->answer_col + 1;
    for (size_t i = 0; i < at && quiz->expr[i] != '\0'; i++)
        if (((unsigned char)quiz->expr[i] & 0xc0) != 0x80)
            col++;
    return col;
}

/* Compares a plain shape answer with the tensor its question names
 * ("the shape of queries"), when it names one; reports a difference. */
static void check_plain_shape(Parser *p, const Quiz *quiz, const Trace *trace, TracePart part)
{
    const TraceTensor *tt = answer_question_tensor(trace, part, quiz->question);
    if (tt == NULL)
        return;
    const Tensor *t = tt->tensor;
    bool same = t->ndim == quiz->shape_ndim;
    for (int i = 0; same && i < t->ndim; i++)
        same = t->shape[i] == quiz->shape[i];
    if (same)
        return;
    char want[QUOTE_BYTES], got[QUOTE_BYTES];
    report(p, quiz->answer_line, quiz->answer_col,
           "shape answer %s is not the shape of %s in this lesson's trace, %s (write '=shape(%s)' to follow the "
           "trace)",
           shape_text(got, quiz->shape_ndim, quiz->shape), tt->name, shape_text(want, t->ndim, t->shape), tt->name);
}

/* Checks a step's select: against trace (NULL when it could not be
 * built: err says why): it must name a tensor the step shows, with
 * indexes that fit. Reports what is wrong. */
static void check_select(Parser *p, const LessonStep *step, const Trace *trace, const Error *build_err)
{
    if (step->select == NULL)
        return;
    if (trace == NULL) {
        report(p, step->select_line, step->select_col, "cannot check select: %s", build_err->message);
        return;
    }
    int index = trace_find_step(trace, step->id, NULL);
    const TraceTensor *tt;
    size_t offset;
    Error err;
    error_clear(&err);
    if (!answer_locate(trace, step_part(step), step->select, &tt, &offset, &err)) {
        int col = step->select_col;
        for (size_t i = 0; err.at != ERROR_AT_NONE && i < err.at && step->select[i] != '\0'; i++)
            col += ((unsigned char)step->select[i] & 0xc0) != 0x80;
        report(p, step->select_line, col, "%s", err.message);
        return;
    }
    int tensor;
    if (index < 0 || !lesson_step_select(step, trace, index, &tensor, &offset))
        report(p, step->select_line, step->select_col, "select: step '%s' does not show %s", step->id, tt->name);
}

/* The trace the tracer shows on step (which has `experiment:`): the
 * configuration original was made from, under original's own changes and
 * then the step's, built with weights (NULL for none). A new Trace
 * (trace_free) or NULL with err set. */
static Trace *step_changed_trace(const LessonStep *step, const Trace *original, const struct Weights *weights,
                                 Error *err)
{
    ExperimentSet set;
    experiment_set_init(&set);
    if (original->config.experiments != NULL)
        set = *original->config.experiments;
    Config base;
    if (!experiment_parse_list(&set, step->experiment, err) || !experiment_base_config(&base, &original->config, err))
        return NULL;
    Trace *changed = trace_build_experiments(&base, weights, &set, err);
    config_free(&base);
    return changed;
}

/* ------------------------------------------------------------------------
 * Pass 6a: the steps' own traces (a model lesson's step block keys)
 * ---------------------------------------------------------------------- */

/* Whether step names its own model, layer or sentence. */
static bool has_own_trace(const LessonStep *step)
{
    return step->model_dir != NULL || step->layer >= 0 || step->sentence != NULL;
}

/* The place of step's first trace key (model:, then layer:, then
 * sentence:) into *line and *col. */
static void own_trace_place(const LessonStep *step, int *line, int *col)
{
    *line = step->model_line != 0 ? step->model_line : step->layer_line != 0 ? step->layer_line : step->sentence_line;
    *col = step->model_line != 0 ? step->model_col : step->layer_line != 0 ? step->layer_col : step->sentence_col;
}

/* The Config of step's own trace into out (overwritten; the caller frees
 * it with config_free, also on failure): base (the header trace's
 * configuration) with the step's model (its checkpoint's sizes), layer
 * and sentence (through that model's tokenizer) in place of base's; with
 * no sentence: the step traces base's tokens. No experiments. False with
 * err, and *line and *col at the key to blame. */
static bool step_config(const LessonStep *step, const Config *base, Config *out, Error *err, int *line, int *col)
{
    const char *dir = step->model_dir != NULL ? step->model_dir : base->model;
    own_trace_place(step, line, col);
    memset(out, 0, sizeof *out);
    if (!config_copy(out, base, err))
        return false;
    free(out->experiments);
    out->experiments = NULL;
    Gpt2Config m;
    if (!model_sizes(dir, &m, err))
        return false;
    size_t layer = step->layer >= 0 ? (size_t)step->layer : base->layer;
    char name[QUOTE_BYTES];
    config_model_name(step->model != NULL ? step->model : dir, name, sizeof name);
    if (layer >= m.n_layer) {
        if (step->layer >= 0)
            *line = step->layer_line, *col = step->layer_col;
        return error_set(err, STATUS_DATAERR, "layer %zu is out of range: %s has n_layer %zu (layers 0 to %zu)", layer,
                         name, m.n_layer, m.n_layer - 1);
    }
    if (step->sentence != NULL) {
        *line = step->sentence_line, *col = step->sentence_col;
        if (!model_tokenize(dir, step->sentence, out, err))
            return false;
    }
    free(out->model);
    if ((out->model = strdup(dir)) == NULL)
        return error_oom(err, "the model's name");
    out->vocab_size = m.vocab_size;
    out->d_model = m.n_embd;
    out->heads = m.n_head;
    out->n_layer = m.n_layer;
    out->layer = layer;
    if (out->n_tokens > m.n_positions)
        return error_set(err, STATUS_DATAERR, "%zu tokens are more than %s's n_positions (%zu)", out->n_tokens, name,
                         m.n_positions);
    if (!config_validate(out, err)) {
        char why[ERROR_MESSAGE_BYTES];
        snprintf(why, sizeof why, "%s", err->message);
        return error_set(err, STATUS_DATAERR, "%.400s (this step's model is %s)", why, name);
    }
    return true;
}

/* Whether a and b make the same trace: one model, layer and token ids
 * (and sentence: gpt2_bpe replays it). */
static bool same_trace_config(const Config *a, const Config *b)
{
    if (strcmp(a->model, b->model) != 0 || a->layer != b->layer || a->n_tokens != b->n_tokens ||
        (a->sentence == NULL) != (b->sentence == NULL) ||
        (a->sentence != NULL && strcmp(a->sentence, b->sentence) != 0))
        return false;
    return memcmp(a->token_ids, b->token_ids, a->n_tokens * sizeof *a->token_ids) == 0;
}

/* Frees the steps' own traces; every step shows the header's again. */
static void step_traces_free(Lesson *lesson)
{
    for (int i = 0; i < lesson->n_traces; i++)
        trace_free(lesson->traces[i]);
    lesson->n_traces = 0;
    for (int k = 0; k < lesson->n_steps; k++)
        lesson->steps[k].trace = -1;
}

/* Gives step k of lesson its own trace, when it names one: built from base
 * (step_config) or, when an earlier step has the same one, shared with it
 * (lesson->traces holds each once). True when the step has its trace, or
 * needs none; false with err, *line and *col (the key to blame). */
static bool step_trace_build(Lesson *lesson, int k, const Config *base, Error *err, int *line, int *col)
{
    LessonStep *step = &lesson->steps[k];
    step->trace = -1;
    if (!has_own_trace(step))
        return true;
    Config cfg;
    bool ok = step_config(step, base, &cfg, err, line, col);
    for (int i = 0; ok && i < lesson->n_traces && step->trace < 0; i++)
        if (same_trace_config(&lesson->traces[i]->config, &cfg))
            step->trace = i;
    if (ok && step->trace < 0) {
        own_trace_place(step, line, col);
        Trace *trace = trace_build(&cfg, err);
        ok = trace != NULL;
        if (ok) {
            lesson->traces[lesson->n_traces] = trace;
            step->trace = lesson->n_traces++;
        }
    }
    config_free(&cfg);
    if (ok && trace_find_step(lesson->traces[step->trace], step->id, NULL) < 0) {
        own_trace_place(step, line, col);
        step->trace = -1;
        return error_set(err, STATUS_DATAERR, "this step's own trace has no step '%s'%s", step->id,
                         strcmp(step->id, "gpt2_blocks") == 0 ? " (layer 0 has no blocks before it)" : "");
    }
    return ok;
}

/* Reports a step that names its own trace and also runs an experiment:
 * (an experiment changes the header's trace, not a step's own). */
static void check_own_trace_keys(Parser *p)
{
    for (int k = 0; k < p->lesson->n_steps; k++) {
        const LessonStep *step = &p->lesson->steps[k];
        int line, col;
        own_trace_place(step, &line, &col);
        if (has_own_trace(step) && step->experiment[0] != '\0')
            report(p, line, col,
                   "a step with its own 'model:', 'layer:' or 'sentence:' cannot also run the experiment of line %d "
                   "(experiments change the header's trace)",
                   step->experiment_line);
    }
}

/* Whether any quiz, select: or experiment: of the lesson is checked
 * against the trace. */
static bool lesson_needs_trace(const Lesson *lesson)
{
    for (int k = 0; k < lesson->n_steps; k++)
        for (int q = lesson->steps[k].select != NULL || lesson->steps[k].experiment[0] != '\0' ? -1 : 0;
             q < lesson->steps[k].n_quizzes; q++) {
            if (q < 0)
                return true;
            const Quiz *quiz = &lesson->steps[k].quizzes[q];
            if (quiz->answer[0] == '=' || quiz->kind == QUIZ_SHAPE)
                return true;
        }
    return false;
}

/* Evaluates every `=` answer and checks every plain shape answer that
 * names its tensor, against a trace of the lesson's configuration. Does
 * nothing when the configuration has errors (they are reported). */
static void resolve_answers(Parser *p)
{
    Lesson *lesson = p->lesson;
    check_own_trace_keys(p);
    bool model = lesson->config.model != NULL;
    if (!p->config_ok || p->oom || (!model && !lesson_needs_trace(lesson)))
        return;
    Error err;
    error_clear(&err);
    Trace *trace = trace_build(&lesson->config, &err);
    if (trace == NULL && model) {
        report(p, p->header[H_MODEL].line, p->header[H_MODEL].col, "model: cannot trace it: %s", err.message);
        return;
    }
    for (int k = 0; k < lesson->n_steps; k++) {
        const LessonStep *step = &lesson->steps[k];
        TracePart part = step_part(step);
        const Trace *shown = trace; /* the trace the step shows: its own, or the header's */
        if (model) {
            Error step_err;
            int line = 0, col = 0;
            error_clear(&step_err);
            if (!step_trace_build(lesson, k, &trace->config, &step_err, &line, &col)) {
                if (step_err.status == STATUS_NOINPUT)
                    p->missing_model = true;
                report(p, line, col, "%s", step_err.message);
                continue;
            }
            if (step->trace >= 0)
                shown = lesson->traces[step->trace];
        }
        check_select(p, step, shown, &err);
        Trace *changed = NULL; /* the step's experiment: its answers read the changed trace */
        Error changed_err;
        error_clear(&changed_err);
        if (shown != NULL && step->experiment[0] != '\0' &&
            (changed = step_changed_trace(step, shown, NULL, &changed_err)) == NULL)
            report(p, step->experiment_line, step->experiment_col, "experiment: %s", changed_err.message);
        for (int q = 0; q < step->n_quizzes; q++) {
            Quiz *quiz = &lesson->steps[k].quizzes[q];
            if (quiz->answer[0] != '=') {
                if (shown != NULL && quiz->kind == QUIZ_SHAPE)
                    check_plain_shape(p, quiz, shown, part);
                continue;
            }
            if ((quiz->expr = strdup(quiz->answer + 1)) == NULL) {
                p->oom = true;
                break;
            }
            if (shown == NULL)
                report(p, quiz->answer_line, quiz->answer_col, "cannot check the answer: %s", err.message);
            else if (step->experiment[0] != '\0' && changed == NULL)
                continue; /* reported at the experiment: line */
            else if (!eval_quiz(quiz, changed != NULL ? changed : shown, changed != NULL ? shown : NULL, part, &err))
                report(p, quiz->answer_line, expr_column(quiz, err.at == ERROR_AT_NONE ? 0 : err.at), "%s",
                       err.message);
        }
        trace_free(changed);
    }
    trace_free(trace);
}

bool lesson_step_select(const LessonStep *step, const Trace *trace, int trace_step, int *tensor, size_t *offset)
{
    if (step == NULL || step->select == NULL || trace_step < 0 || trace_step >= trace->n_steps)
        return false;
    const TraceStep *ts = &trace->steps[trace_step];
    const TraceTensor *tt;
    size_t at;
    Error err;
    error_clear(&err);
    if (!answer_locate(trace, ts->part, step->select, &tt, &at, &err))
        return false;
    for (int t = 0; t < ts->n_tensors; t++)
        if (strcmp(ts->tensors[t].name, tt->name) == 0 && ts->tensors[t].tensor == tt->tensor) {
            *tensor = t;
            *offset = at;
            return true;
        }
    return false;
}

/* Evaluates the `=` answers of lesson step k against trace, or against
 * its changed trace when the step has `experiment:` (built with weights),
 * as lesson_bind_answers says. */
static bool bind_step(Lesson *lesson, int k, const char *name, const Trace *trace, const struct Weights *weights,
                      Error *err)
{
    LessonStep *step = &lesson->steps[k];
    const Trace *own = lesson_step_trace(lesson, k);
    if (own != NULL)
        trace = own; /* a step with its own trace runs no experiment (check_own_trace_keys) */
    Trace *changed = NULL;
    bool has_expr = false;
    for (int q = 0; q < step->n_quizzes; q++)
        has_expr = has_expr || step->quizzes[q].expr != NULL;
    if (has_expr && step->experiment[0] != '\0' && (changed = step_changed_trace(step, trace, weights, err)) == NULL) {
        if (err->status != STATUS_USAGE && err->status != STATUS_DATAERR)
            return false; /* out of memory */
        char message[ERROR_MESSAGE_BYTES];
        snprintf(message, sizeof message, "%s", err->message);
        return error_set(err, STATUS_DATAERR, "%s:%d:%d: experiment: %s (with the command line's settings)", name,
                         step->experiment_line, step->experiment_col, message);
    }
    for (int q = 0; q < step->n_quizzes; q++) {
        Quiz *quiz = &step->quizzes[q];
        if (quiz->expr == NULL ||
            eval_quiz(quiz, changed != NULL ? changed : trace, changed != NULL ? trace : NULL, step_part(step), err))
            continue;
        trace_free(changed);
        if (err->status != STATUS_DATAERR)
            return false; /* out of memory */
        char message[ERROR_MESSAGE_BYTES];
        snprintf(message, sizeof message, "%s", err->message);
        return error_set(err, STATUS_DATAERR, "%s:%d:%d: %s (with the command line's settings)", name,
                         quiz->answer_line, expr_column(quiz, err->at == ERROR_AT_NONE ? 0 : err->at), message);
    }
    trace_free(changed);
    return true;
}

const Trace *lesson_step_trace(const Lesson *lesson, int k)
{
    if (lesson == NULL || k < 0 || k >= lesson->n_steps || lesson->steps[k].trace < 0)
        return NULL;
    return lesson->traces[lesson->steps[k].trace];
}

void lesson_trace_label(const Lesson *lesson, int k, const Trace *trace, char *buf, size_t size)
{
    const char *model = lesson->model;
    if (k >= 0 && k < lesson->n_steps && lesson->steps[k].model != NULL)
        model = lesson->steps[k].model;
    if (model == NULL || trace == NULL || trace->config.model == NULL) {
        snprintf(buf, size, "%s", "");
        return;
    }
    char name[QUOTE_BYTES];
    config_model_name(model, name, sizeof name);
    snprintf(buf, size, "%s, layer %zu", name, trace->config.layer);
}

/* The steps' own traces again, from trace's configuration (the header's
 * with the command line's flags): see lesson_bind_answers. */
static bool bind_step_traces(Lesson *lesson, const char *name, const Trace *trace, Error *err)
{
    step_traces_free(lesson);
    if (lesson->config.model == NULL || trace->config.model == NULL)
        return true;
    for (int k = 0; k < lesson->n_steps; k++) {
        int line = 0, col = 0;
        if (step_trace_build(lesson, k, &trace->config, err, &line, &col))
            continue;
        char message[ERROR_MESSAGE_BYTES];
        snprintf(message, sizeof message, "%s", err->message);
        return error_set(err, err->status == STATUS_OK ? STATUS_DATAERR : err->status,
                         "%s:%d:%d: %.600s (with the command line's settings)", name, line, col, message);
    }
    return true;
}

bool lesson_bind_answers(Lesson *lesson, const char *name, const Trace *trace, const struct Weights *weights,
                         Error *err)
{
    if (!bind_step_traces(lesson, name, trace, err))
        return false;
    for (int k = 0; k < lesson->n_steps; k++)
        if (!bind_step(lesson, k, name, trace, weights, err))
            return false;
    return true;
}

/* ------------------------------------------------------------------------
 * Public functions
 * ---------------------------------------------------------------------- */

/* FNV-1a, 64 bits. */
static uint64_t fnv1a64(const char *data, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* FNV-1a 64 of the lesson's walk: per step its id, then one letter per
 * quiz for its kind and when it is asked. Progress keeps quiz results by
 * position, so this is what must not change under a saved progress; the
 * texts may. */
static uint64_t walk_hash(const Lesson *lesson)
{
    StrBuf walk = {0};
    for (int k = 0; k < lesson->n_steps; k++) {
        strbuf_printf(&walk, "%s:", lesson->steps[k].id);
        for (int q = 0; q < lesson->steps[k].n_quizzes; q++) {
            const Quiz *quiz = &lesson->steps[k].quizzes[q];
            strbuf_printf(&walk, "%c%c", "sntc"[quiz->kind], quiz -> before ? 'b' : 'a');
        }
        strbuf_puts(&walk, "\n");
    }
    uint64_t h = fnv1a64(strbuf_text(&walk), walk.len);
    strbuf_free(&walk);
    return h;
}

bool lesson_parse(const char *text, size_t len, const char *name, Lesson *lesson, LessonErrors *errors)
{
    memset(lesson, 0, sizeof *lesson);
    memset(errors, 0, sizeof *errors);
    error_clear(&errors->first);
    if (name == NULL)
        name = "lesson";
    if (text == NULL)
        len = 0;

    /* 1. the size limit, the hash and the BOM */
    if (len > LESSON_MAX_BYTES) {
        errors_add(errors, STATUS_DATAERR, "%s: larger than %d bytes (LESSON_MAX_BYTES)", name, LESSON_MAX_BYTES);
        return false;
    }
    Parser *p = calloc(1, sizeof *p);
    if (p == NULL) {
        errors_add(errors, STATUS_DATAERR, "%s: out of memory while reading the lesson", name);
        return false;
    }
    p->name = name;
    p->lesson = lesson;
    p->section = SECTION_NONE;
    lesson->hash = fnv1a64(text, len);
    p->text = text != NULL ? text : "";
    p->len = len;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p->text += 3, p->len -= 3;

    /* 2. every line's bytes */
    check_all_lines(p);

    /* 3. the header: up to the first blank line or "## " line */
    size_t pos = 0;
    int no = 0;
    Line ln;
    for (;;) {
        size_t line_start = pos;
        if (!next_line(p->text, p->len, &pos, &no, &ln))
            break;
        if (is_blank_line(&ln)) {
            p->header_end = ln.no;
            break;
        }
        if (is_section_line(&ln)) {
            pos = line_start;
            no--;
            break;
        }
        header_line(p, &ln);
    }

    /* 4. the header's values */
    apply_header(p);

    /* 5. the step sections */
    while (next_line(p->text, p->len, &pos, &no, &ln))
        body_line(p, &ln);
    close_block(p, p->block != BLOCK_OTHER);
    end_section(p);

    /* 6. the answers, against the lesson's trace */
    resolve_answers(p);

    /* 7. the result */
    lesson->walk_hash = walk_hash(lesson);
    bool ok = p->n_found == 0 && !p->oom;
    if (!ok) {
        write_errors(p, errors);
        lesson_free(lesson);
    }
    for (int k = 0; k < H_COUNT; k++)
        free_field(&p->header[k]);
    free_draft(&p->quiz);
    for (int k = 0; k < S_COUNT; k++)
        free_field(&p->step_field[k]);
    free(p->bad_lines);
    free(p);
    return ok;
}

bool lesson_load(const char *path, Lesson *lesson, LessonErrors *errors)
{
    memset(lesson, 0, sizeof *lesson);
    memset(errors, 0, sizeof *errors);
    error_clear(&errors->first);

    /* the name messages use: the path, with nothing that could break the
     * line or reach the terminal as a control sequence */
    char shown[1024];
    snprintf(shown, sizeof shown, "%s", path);
    error_scrub(shown, false);

    /* 1. open it: a regular file (or a pipe), not a directory, not too large */
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        errors_add(errors, STATUS_NOINPUT, "%s: cannot open: %s", shown, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        errors_add(errors, STATUS_NOINPUT, "%s: cannot open: %s", shown, strerror(errno));
        fclose(f);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        errors_add(errors, STATUS_NOINPUT, "%s: cannot open: it is a directory, not a lesson file", shown);
        fclose(f);
        return false;
    }
    if (S_ISREG(st.st_mode) && st.st_size > LESSON_MAX_BYTES) {
        errors_add(errors, STATUS_DATAERR, "%s: larger than %d bytes (LESSON_MAX_BYTES)", shown, LESSON_MAX_BYTES);
        fclose(f);
        return false;
    }

    /* 2. read it all, one byte past the limit to notice a file that grew */
    char *data = malloc((size_t)LESSON_MAX_BYTES + 1);
    if (data == NULL) {
        errors_add(errors, STATUS_FAILURE, "%s: out of memory while reading the lesson", shown);
        fclose(f);
        return false;
    }
    size_t n = fread(data, 1, (size_t)LESSON_MAX_BYTES + 1, f);
    bool read_error = ferror(f) != 0;
    int read_errno = errno;
    fclose(f);
    if (read_error) {
        errors_add(errors, STATUS_NOINPUT, "%s: cannot read: %s", shown, strerror(read_errno));
        free(data);
        return false;
    }
    if (n > LESSON_MAX_BYTES) {
        errors_add(errors, STATUS_DATAERR, "%s: larger than %d bytes (LESSON_MAX_BYTES)", shown, LESSON_MAX_BYTES);
        free(data);
        return false;
    }

    /* 3. parse it */
    bool ok = lesson_parse(data, n, shown, lesson, errors);
    free(data);
    return ok;
}

/* Frees what quiz owns. */
static void quiz_free(Quiz *quiz)
{
    free(quiz->question);
    free(quiz->answer);
    free(quiz->expr);
    free(quiz->explain);
    for (int c = 0; c < quiz->n_choices && c < LESSON_MAX_CHOICES; c++)
        free(quiz->choices[c]);
    for (int h = 0; h < quiz->n_hints && h < LESSON_MAX_HINTS; h++)
        free(quiz->hints[h]);
}

void lesson_free(Lesson *lesson)
{
    if (lesson == NULL)
        return;
    free(lesson->title);
    free(lesson->author);
    free(lesson->intro);
    free(lesson->model);
    config_free(&lesson->config);
    for (int i = 0; i < lesson->n_traces && i < LESSON_MAX_STEPS; i++)
        trace_free(lesson->traces[i]);
    for (int s = 0; s < lesson->n_steps && s < LESSON_MAX_STEPS; s++) {
        LessonStep *step = &lesson->steps[s];
        free(step->model);
        free(step->model_dir);
        free(step->sentence);
        free(step->text);
        free(step->notes);
        free(step->headline);
        free(step->select);
        for (int q = 0; q < step->n_quizzes && q < LESSON_MAX_QUIZZES; q++)
            quiz_free(&step->quizzes[q]);
    }
    memset(lesson, 0, sizeof *lesson);
}

void lesson_errors_free(LessonErrors *errors)
{
    if (errors == NULL)
        return;
    strbuf_free(&errors->text);
    errors->count = 0;
    error_clear(&errors->first);
}

const LessonStep *lesson_find_step(const Lesson *lesson, const char *id)
{
    if (lesson == NULL || id == NULL)
        return NULL;
    for (int s = 0; s < lesson->n_steps && s < LESSON_MAX_STEPS; s++)
        if (strcmp(lesson->steps[s].id, id) == 0)
            return &lesson->steps[s];
    return NULL;
}

bool quiz_check(const Quiz *quiz, const char *typed)
{
    if (quiz == NULL || typed == NULL)
        return false;
    size_t len = strlen(typed);
    typed = trim(typed, &len);
    switch (quiz->kind) {
    case QUIZ_SHAPE: {
        Shape shape;
        const char *why;
        size_t bad_at;
        if (!parse_shape(typed, len, &shape, &why, &bad_at) || shape.ndim != quiz->shape_ndim)
            return false;
        for (int i = 0; i < shape.ndim; i++)
            if (shape.dims[i] != quiz->shape[i])
                return false;
        return true;
    }
    case QUIZ_NUMBER: {
        double value;
        if (!parse_decimal(typed, len, &value))
            return false;
        /* a few ulps of slack, so that 0.501 is within 0.001 of 0.5 */
        double slack = 4 * DBL_EPSILON * (fabs(value) + fabs(quiz->number) + quiz->tolerance);
        return fabs(value - quiz->number) <= quiz->tolerance + slack;
    }
    case QUIZ_TOKEN: {
        if (quiz->answer == NULL)
            return false;
        size_t alen = strlen(quiz->answer);
        const char *answer = trim(quiz->answer, &alen);
        return len > 0 && quiz_token_matches(typed, len, answer, alen);
    }
    case QUIZ_CHOICE: {
        if (quiz->answer_choice < 0 || quiz->answer_choice >= quiz->n_choices || len == 0)
            return false;
        /* a choice's text decides first (a choice may itself be a number) */
        for (int c = 0; c < quiz->n_choices && c < LESSON_MAX_CHOICES; c++) {
            const char *text = quiz->choices[c];
            if (text != NULL && equal_fold(typed, len, text, strlen(text)))
                return c == quiz->answer_choice;
        }
        return choice_label(typed, len, quiz->n_choices, labels_are_numbers(quiz->choices, quiz->n_choices)) ==
               quiz->answer_choice; /* its label */
    }
    }
    return false;
}

QuizTokenVerdict quiz_check_token(const Quiz *quiz, const Config *cfg, const char *typed)
{
    size_t len = strlen(typed), alen = quiz->answer != NULL ? strlen(quiz->answer) : 0;
    typed = trim(typed, &len);
    const char *answer = quiz->answer != NULL ? trim(quiz->answer, &alen) : "";
    long said = quiz_token_named(cfg, typed, len), meant = quiz_token_named(cfg, answer, alen);
    if (said == TOKEN_NOT_NAMED)
        return TOKEN_VERDICT_NOT_A_TOKEN;
    if (meant == TOKEN_NOT_NAMED) /* an answer of another sentence (flags changed the trace): its words decide */
        return quiz_check(quiz, typed) ? TOKEN_VERDICT_RIGHT : TOKEN_VERDICT_WRONG;
    if (said == TOKEN_TWICE && meant == TOKEN_TWICE) /* words alone: either copy is right */
        return quiz_token_matches(typed, len, answer, alen) || quiz_token_matches(answer, alen, typed, len)
                   ? TOKEN_VERDICT_RIGHT
                   : TOKEN_VERDICT_WRONG;
    if (said == TOKEN_TWICE) { /* the answer is one copy: which one did the learner mean? */
        const char *word = cfg->tokens[meant];
        return quiz_token_matches(typed, len, word, strlen(word)) ? TOKEN_VERDICT_WHICH : TOKEN_VERDICT_WRONG;
    }
    if (meant == TOKEN_TWICE) { /* the answer is a word alone: any copy of it */
        const char *word = cfg->tokens[said];
        return quiz_token_matches(answer, alen, word, strlen(word)) ? TOKEN_VERDICT_RIGHT : TOKEN_VERDICT_WRONG;
    }
    return said == meant ? TOKEN_VERDICT_RIGHT : TOKEN_VERDICT_WRONG;
}

void quiz_token_list(const Config *cfg, StrBuf *out)
{
    for (size_t i = 0; i < cfg->n_tokens && i < QUIZ_TOKENS_LISTED; i++) {
        char label[QUOTE_BYTES];
        strbuf_printf(out, "%s%s", i > 0 ? ", " : "", explain_token_label(cfg, i, QUOTE_BYTES, label, sizeof label));
    }
    if (cfg->n_tokens > QUIZ_TOKENS_LISTED)
        strbuf_puts(out, ", ...");
}

void quiz_token_copies(const Config *cfg, const char *typed, StrBuf *out)
{
    size_t len = strlen(typed);
    typed = trim(typed, &len);
    int listed = 0;
    for (size_t i = 0; i < cfg->n_tokens; i++) {
        if (!quiz_token_matches(typed, len, cfg->tokens[i], strlen(cfg->tokens[i])))
            continue;
        char label[QUOTE_BYTES];
        explain_token_label(cfg, i, QUOTE_BYTES, label, sizeof label);
        strbuf_printf(out, "%s%s", listed == 0 ? "" : ", ", label);
        listed++;
    }
}

const char *quiz_sentence_end(const char *text)
{
    size_t len = strlen(text);
    return len > 0 && strchr(".?!", text[len - 1]) != NULL ? "" : ".";
}

void quiz_answer_text(const Quiz *quiz, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return;
    buf[0] = '\0';
    if (quiz == NULL)
        return;
    int used = 0;
    switch (quiz->kind) {
    case QUIZ_SHAPE: {
        size_t at = 0;
        char tmp[128];
        tmp[at++] = '[';
        for (int i = 0; i < quiz->shape_ndim && i < 4; i++)
            at += (size_t)snprintf(tmp + at, sizeof tmp - at, "%s%zu", i > 0 ? ", " : "", quiz->shape[i]);
        snprintf(tmp + at, sizeof tmp - at, "]");
        used = snprintf(buf, size, "%s", tmp);
        break;
    }
    case QUIZ_NUMBER:
        used = snprintf(buf, size, "%s", quiz->answer != NULL ? quiz->answer : "");
        break;
    case QUIZ_TOKEN: {
        const char *answer = quiz->answer != NULL ? quiz->answer : "";
        if (strncmp(answer, "\xc4\xa0", 2) == 0 && answer[2] != '\0')
            answer += 2; /* "\u0120stone" reads "stone", as the learner types it */
        used = snprintf(buf, size, "%s", answer);
        for (char *c = buf; *c != '\0'; c++)
            *c = lower_ascii(*c);
        break;
    }
    case QUIZ_CHOICE:
        if (quiz->answer_choice >= 0 && quiz->answer_choice < quiz->n_choices && quiz->choices[quiz->answer_choice]) {
            char label[8];
            quiz_choice_label(quiz, quiz->answer_choice, label, sizeof label);
            used = snprintf(buf, size, "%s %s", label, quiz->choices[quiz->answer_choice]);
        }
        break;
    }
    if (used > 0)
        cut_to_character(buf, (size_t)used, size);
}

void quiz_choice_label(const Quiz *quiz, int c, char *buf, size_t size)
{
    if (labels_are_numbers(quiz->choices, quiz->n_choices))
        snprintf(buf, size, "%d)", (c + 1) % 100);
    else
        snprintf(buf, size, "%c)", 'a' + c);
}
