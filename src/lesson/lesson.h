/*
 * lesson.h - lesson files: a header of settings, then per step an
 * explanation, quizzes and presenter notes (docs/lesson-format.md).
 *
 * lesson_parse reads a whole file's text and reports every error it finds
 * (up to LESSON_MAX_ERRORS) as "FILE:LINE:COL: message". A parsed Lesson
 * holds the Config to trace and, for each step it walks, that step's text.
 */
#ifndef ATTN_LESSON_H
#define ATTN_LESSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "strbuf.h"

struct Trace; /* trace.h */

#define LESSON_FORMAT_VERSION 1
/* LESSON_MAX_* (errors, bytes, line, steps, quizzes, hints, choices) are in attn_limits.h. */

typedef enum QuizKind { QUIZ_SHAPE, QUIZ_NUMBER, QUIZ_TOKEN, QUIZ_CHOICE } QuizKind;

typedef struct Quiz {
    QuizKind kind;
    char *question;                    /* owned */
    char *answer;                      /* the answer as written, or an `=` answer's value as text; owned */
    char *expr;                        /* an `=` answer's expression (after the '='), or NULL; owned */
    int answer_line, answer_col;       /* where the answer's value starts in the file */
    int shape_ndim;                    /* QUIZ_SHAPE: the answer's rank (0 for a scalar) */
    size_t shape[4];                   /* QUIZ_SHAPE: the answer's dimensions */
    double number;                     /* QUIZ_NUMBER: the answer */
    double tolerance;                  /* QUIZ_NUMBER: accepted |typed - answer| */
    int n_choices;                     /* QUIZ_CHOICE */
    char *choices[LESSON_MAX_CHOICES]; /* QUIZ_CHOICE: owned */
    int answer_choice;                 /* QUIZ_CHOICE: index of the right one */
    int n_hints;
    char *hints[LESSON_MAX_HINTS]; /* owned */
    char *explain;                 /* shown after the answer, or NULL; owned */
    bool before;                   /* asked before the step's tensors are shown */
    int line;                      /* where the quiz starts in the file */
} Quiz;

typedef struct LessonStep {
    char id[32];                 /* a trace step id */
    char *text;                  /* the section's text (markup kept), or NULL for the built-in; owned */
    char *notes;                 /* presenter notes, or NULL; owned */
    char *headline;              /* the step's own title line (a '::: step' block's headline:), or NULL; owned */
    char *select;                /* what to select when the step opens ("attention_weights[1][fox]"), or NULL; owned */
    int select_line, select_col; /* where select's value is in the file */
    int n_quizzes;
    Quiz quizzes[LESSON_MAX_QUIZZES];
    int line;                                 /* the "## id" line, or 0 without a section */
    char experiment[LESSON_EXPERIMENT_BYTES]; /* "experiment:": the changes the step runs under ("no-scale"), or "" */
    int experiment_line, experiment_col;      /* where that value is in the file (0 when none) */
    bool compare; /* "compare: yes": the original's panel beside the changed one, or (with the step's own
                     trace) the lesson's header trace beside the step's */
    /* The step block's trace keys (a lesson with `model:` only): the step
     * shows its own trace of another model, layer or text. */
    char *model;               /* "model:" as written (a name or a path), or NULL for the header's; owned */
    char *model_dir;           /* where that model was found, or NULL; owned */
    int model_line, model_col; /* where model:'s value is in the file (0 when none) */
    long layer;                /* "layer:", or -1 for the header's */
    int layer_line, layer_col; /* where layer:'s value is (0 when none) */
    char *sentence;            /* "sentence:", tokenized by the step's model, or NULL for the header's tokens; owned */
    int sentence_line, sentence_col; /* where sentence:'s value is (0 when none) */
    int trace;                       /* index in Lesson.traces of the trace this step shows, or -1: the header's */
} LessonStep;

typedef struct Lesson {
    char *title;   /* owned */
    char *author;  /* owned; "" when absent */
    char *intro;   /* the "## intro" section's text (markup kept), shown before the first step, or NULL; owned */
    Config config; /* what to trace; owned */
    int precision; /* digits after the point */
    int n_steps;   /* steps walked, in order */
    LessonStep steps[LESSON_MAX_STEPS];
    char *model;                            /* the header's "model:" as written, or NULL (the article); owned */
    int n_traces;                           /* distinct traces of the steps' own (model, layer, tokens) */
    struct Trace *traces[LESSON_MAX_STEPS]; /* each built once, shared by the steps that show it; owned */
    uint64_t hash;                          /* FNV-1a 64 of the file's bytes */
    uint64_t walk_hash; /* FNV-1a 64 of the walk: each step's id and its quizzes' kinds (progress is keyed by it) */
} Lesson;

/* Errors of one file: each a line "FILE:LINE:COL: message". This is the
 * lesson parser's Error: it comes last in lesson_parse and lesson_load, as
 * an Error * does elsewhere, but holds every error of the file, because
 * the checker (--check) reports them all in one pass. first is the Error
 * a caller that wants only one uses; first.status is the file's status. */
typedef struct LessonErrors {
    Error first; /* the first line of text (without '\n', made printable) and the status:
                                          STATUS_OK when there is no error, else STATUS_DATAERR (errors in the
                                          text), STATUS_NOINPUT (cannot be read) or STATUS_FAILURE (out of memory) */
    int count;   /* lines in text: up to LESSON_MAX_ERRORS errors, plus one "too many errors" line */
    StrBuf text; /* the kept ones, one per line, each ending in '\n'; owned */
} LessonErrors;

/* Parses text[0..len) (a whole file; name is how errors name it) into
 * lesson. Returns true when the file has no error (errors->first.status is
 * STATUS_OK); otherwise false, with every error (up to LESSON_MAX_ERRORS)
 * in errors, errors->first.status STATUS_DATAERR, and lesson released.
 * lesson and errors are overwritten, not freed: free an earlier result
 * first. lesson_free releases a parsed lesson; lesson_errors_free the
 * errors. */
bool lesson_parse(const char *text, size_t len, const char *name, Lesson *lesson, LessonErrors *errors);

/* Reads the file at path and parses it, as lesson_parse does. A file that
 * cannot be read gives one error, "PATH: cannot open: reason", with
 * errors->first.status STATUS_NOINPUT; a file too large or with errors
 * gives STATUS_DATAERR; no memory to read it, STATUS_FAILURE. */
bool lesson_load(const char *path, Lesson *lesson, LessonErrors *errors);

void lesson_free(Lesson *lesson);
void lesson_errors_free(LessonErrors *errors);

struct Weights;

/* Evaluates again every `=` answer of lesson against trace (a trace of
 * the lesson's configuration with the command line's flags on top, so
 * that the answers follow the sizes and the sentence on screen). The
 * answers of a step with `experiment:` are evaluated against the trace
 * the tracer shows on it: trace's configuration under trace's changes
 * and the step's, built with weights (those trace was built with, NULL
 * for none); their changed() compares it with trace. The steps' own
 * traces (a model lesson's step `model:`, `layer:`, `sentence:`) are
 * built again from trace's configuration, so they follow the flags too,
 * and their steps' answers are evaluated against them. Returns true;
 * false with err set (STATUS_DATAERR, "FILE:LINE:COL: message", name
 * naming the file) at the first answer or step trace that no longer
 * works (a build failure keeps its status). A quiz's answer text, shape
 * and number are replaced, and the lesson's traces; nothing else. */
bool lesson_bind_answers(Lesson *lesson, const char *name, const struct Trace *trace, const struct Weights *weights,
                         Error *err);

/* The trace step k of lesson shows when it names its own model, layer
 * or sentence (LessonStep.trace), or NULL when it shows the lesson's own
 * trace (the one main builds). The lesson owns it. */
const struct Trace *lesson_step_trace(const Lesson *lesson, int k);

/* How a model trace is labelled beside another in a compare view: "tiny,
 * layer 1", the model's name as the lesson writes it (the last part of a
 * path) and trace's layer, for step k's model (k < 0: the header's).
 * Writes "" for an article lesson. */
void lesson_trace_label(const Lesson *lesson, int k, const struct Trace *trace, char *buf, size_t size);

/* Where the step's select: points in trace, at trace step index
 * trace_step: *tensor gets the index of the tensor in that step's
 * tensors, *offset the selected element's offset in it. False (and
 * nothing set) when the step has no select: or it does not name a tensor
 * the step shows (possible only with command-line flags that change the
 * trace; the parser checked it against the lesson's own). */
bool lesson_step_select(const LessonStep *step, const struct Trace *trace, int trace_step, int *tensor, size_t *offset);

/* The lesson's step with id, or NULL when the lesson does not walk it. */
const LessonStep *lesson_find_step(const Lesson *lesson, const char *id);

/* Whether typed is a right answer to quiz (rules in docs/lesson-format.md).
 * A token quiz's answer was checked against the lesson's tokens when the
 * file was parsed. */
bool quiz_check(const Quiz *quiz, const char *typed);

/* How a token quiz's typed answer reads against cfg, the sentence on
 * screen (rules in docs/lesson-format.md): right, wrong, no token of the
 * sentence, or a word alone that is more than one token when the answer
 * is one of them ("the" for "the(5)": which one is meant). */
typedef enum QuizTokenVerdict {
    TOKEN_VERDICT_RIGHT,
    TOKEN_VERDICT_WRONG,
    TOKEN_VERDICT_NOT_A_TOKEN,
    TOKEN_VERDICT_WHICH
} QuizTokenVerdict;
QuizTokenVerdict quiz_check_token(const Quiz *quiz, const Config *cfg, const char *typed);

/* Appends the labels of cfg's first QUIZ_TOKENS_LISTED tokens, "the(1),
 * cat, ..., the(5), mat", and ", ..." when there are more: the words a
 * token quiz takes. */
#define QUIZ_TOKENS_LISTED 12
void quiz_token_list(const Config *cfg, StrBuf *out);

/* Appends the labels of the tokens of cfg that the word typed names,
 * "the(1), the(5)": what TOKEN_VERDICT_WHICH offers to choose from. */
void quiz_token_copies(const Config *cfg, const char *typed, StrBuf *out);

/* The right answer, as a learner should read it ("[5, 16]", "marcello",
 * "b) softmax"), into buf. */
void quiz_answer_text(const Quiz *quiz, char *buf, size_t size);

/* What ends a sentence that ends with text: "" when text already ends
 * with '.', '?' or '!' (a choice written as a sentence), else ".". */
const char *quiz_sentence_end(const char *text);

/* The label of choice c of a choice quiz, "b)" or, when one of its
 * choices is a single letter, "2)": the same on screen, in --print and in
 * the feedback; a learner types it without the ')'. */
void quiz_choice_label(const Quiz *quiz, int c, char *buf, size_t size);

#endif
