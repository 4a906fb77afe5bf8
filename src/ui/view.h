/*
 * view.h - the tracer's state and its layout (no curses, no drawing).
 *
 * An App holds the trace, which step is on screen, which tensor panel has
 * the focus, the selected value of every tensor, and any open overlay.
 * How keys change it is input.c (app_handle_key, declared in app.h).
 * A panel's scrolling is not state: the composer derives it from the
 * selection and the screen size (the selection is always kept in view,
 * scroll.h), so the same state draws the same way at any size. The one
 * scroll that is state is an overlay's first line (overlay_scroll), which
 * app_handle_key keeps inside the overlay's text at the size it is given.
 * Layout (view_layout) is shared by the composer and by page movements.
 */
#ifndef ATTN_VIEW_H
#define ATTN_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "lesson.h"
#include "attn_limits.h"
#include "experiment.h"
#include "explain.h"
#include "numfmt.h"
#include "trace.h"

typedef enum Overlay {
    OVERLAY_NONE,
    OVERLAY_HELP,       /* the key table */
    OVERLAY_STEPS,      /* the list of steps, to jump to one */
    OVERLAY_INSPECT,    /* the arithmetic behind the selected value */
    OVERLAY_QUIZ,       /* a lesson's question, answered in place */
    OVERLAY_NOTES,      /* the step's presenter notes */
    OVERLAY_EXPLAIN,    /* the step's whole explanation */
    OVERLAY_RECAP,      /* the end of the walk: its shapes, where attention sits, the quiz score */
    OVERLAY_EXPERIMENT, /* x: a change typed on the status line, as the flags spell it (diffview.h) */
    OVERLAY_HEADS,      /* every head's weights side by side (headsview.h) */
    OVERLAY_INTRO       /* a lesson's intro page, before its first step */
} Overlay;

/* Where a learner is with one quiz. */
typedef enum QuizStatus {
    QUIZ_OPEN,  /* not answered yet */
    QUIZ_RIGHT, /* answered right (tries says after how many wrong ones) */
    QUIZ_SHOWN, /* the learner asked for the answer */
    QUIZ_PASSED /* skipped */
} QuizStatus;

typedef struct QuizState {
    QuizStatus status;
    int tries; /* wrong answers so far */
} QuizState;

/* The quiz being answered: its place and what has been typed. */
typedef enum QuizFeedback {
    FEEDBACK_NONE,
    FEEDBACK_WRONG,
    FEEDBACK_RIGHT,
    FEEDBACK_SHOWN,
    FEEDBACK_NOT_A_TOKEN, /* a token quiz's typed word is no token of the sentence: said so, no try used */
    FEEDBACK_WHICH_TOKEN  /* ...is a word the sentence holds twice, the answer one copy: asks which, no try used */
} QuizFeedback;

/* How a tensor is laid out as a grid of rows and columns on screen. */
typedef struct TensorGrid {
    size_t slices;     /* 2-D slices (heads) shown one at a time; 1 for ndim <= 2 */
    size_t rows, cols; /* rows and columns of one slice */
    bool vertical;     /* a 1-D tensor over tokens, shown as a column */
    bool wrapped;      /* a 1-D tensor wrapped into rows of `cols` values */
    DimKind slice_dim, row_dim, col_dim;
} TensorGrid;

/* How panels of weights (softmax outputs) are drawn; v cycles them. */
typedef enum Picture {
    PICTURE_NUMBERS, /* the values, 0.584 */
    PICTURE_BARS,    /* each value as a bar as wide as its number */
    PICTURE_LINKS,   /* per query row, the key words it looks at, thickest first */
    PICTURE_COUNT
} Picture;

/* Room for what the experiment prompt (x) takes, and for the status
 * row's note about it. */
#define VIEW_PROMPT_BYTES 160
#define VIEW_NOTE_BYTES 256

/* Display settings fixed at start. */
typedef struct ViewOptions {
    int precision;     /* digits after the point */
    bool no_color;     /* add a glyph after each value to show its size */
    bool ascii;        /* ASCII instead of box drawing and arrows */
    const char *title; /* lesson title for the header */
    const struct Weights
        *weights; /* the --weights tensors the trace was built with, or NULL: changes rebuild with them */
} ViewOptions;

struct App {
    const Trace *trace;
    const Lesson *lesson; /* the lesson walked, or NULL for all steps */
    ViewOptions options;
    int walk[TRACE_MAX_STEPS]; /* trace step indices, in walking order */
    int n_walk;
    int pos;                                              /* position in walk of the step on screen */
    int step;                                             /* step on screen: walk[pos] */
    QuizState quiz[LESSON_MAX_STEPS][LESSON_MAX_QUIZZES]; /* per walk position and quiz */
    int quiz_index;                                       /* OVERLAY_QUIZ: which quiz of the step */
    char quiz_input[QUIZ_INPUT_BYTES];                    /* OVERLAY_QUIZ: the typed answer */
    QuizFeedback quiz_feedback;                           /* OVERLAY_QUIZ: what the last Enter said */
    char quiz_last[QUIZ_INPUT_BYTES];                     /* OVERLAY_QUIZ: the last wrong answer typed */
    bool progress_dirty;                                  /* the step or a quiz changed since saved */
    void (*on_progress)(App *app, void *context);         /* called after a key that changed them, or NULL */
    int autoplay_ms;                                      /* --autoplay: time per step, 0 when off */
    int autoplay_move;                                    /* moves made on the step on screen */
    void *progress_context;
    int focus[TRACE_MAX_STEPS];                             /* focused panel of each step */
    size_t cursor[TRACE_MAX_STEPS][TRACE_MAX_STEP_TENSORS]; /* selected offset of each tensor */
    Overlay overlay;
    Picture picture;                                        /* how weights are drawn (v) */
    bool show_torch;                                        /* the step's PyTorch line under the formula (c) */
    bool resumed;                                           /* say "resumed at step N" until the next key */
    int list_selected;                                      /* OVERLAY_STEPS: highlighted step */
    int heads_tensor;                                       /* OVERLAY_HEADS: the tensor of the step shown */
    int heads_selected;                                     /* OVERLAY_HEADS: the selected head */
    int overlay_scroll;                                     /* first line shown of a long overlay, >= 0;
                                                                   app_handle_key clamps it to the text */
    ExplainFormats formats;                                 /* per tensor, computed once */
    float max_abs[TRACE_MAX_STEPS][TRACE_MAX_STEP_TENSORS]; /* largest finite |value|, for heat */
    double init_ms;                                         /* the time app_init took (--bench-frames says it) */

    /* Experiments (x, o, X; diffview.h). trace, formats and max_abs above
     * always describe the trace on screen; other_* the one beside it. */
    const Trace *original;                                        /* the trace app_init was given (the caller's) */
    Trace *changed;                                               /* the trace under `changes`, or NULL; owned */
    const Trace *other;                                           /* the trace not on screen, or NULL */
    ExperimentSet changes;                                        /* the changes in force (none: changed is NULL) */
    TraceDiff *diff;                                              /* original against changed, or NULL; owned */
    bool changes_from_lesson;                                     /* the walked step's experiment: leaving undoes it */
    ExplainFormats other_formats;                                 /* the formats of `other` */
    float other_max_abs[TRACE_MAX_STEPS][TRACE_MAX_STEP_TENSORS]; /* the heat scale of `other` */
    char prompt[VIEW_PROMPT_BYTES];                               /* OVERLAY_EXPERIMENT: what is typed */
    char note[VIEW_NOTE_BYTES]; /* a line for the status row until the next key ("" for none) */
    bool note_is_error;         /* the note says why a change was refused */

    /* A model lesson's step with its own trace (lessonview.h). While it is
     * on screen, trace, formats and max_abs describe it, and these keep
     * the lesson's own trace's. */
    const Trace *own;                                            /* the step's own trace on screen, or NULL */
    ExplainFormats base_formats;                                 /* the formats of `original` meanwhile */
    float base_max_abs[TRACE_MAX_STEPS][TRACE_MAX_STEP_TENSORS]; /* its heat scale meanwhile */
    const Trace *row_own[TRACE_MAX_STEPS]; /* the own trace (NULL: the lesson's) each focus/cursor row is for */
    bool own_compare_base; /* o: a compare view with room for one panel shows the lesson trace's, not the step's */
};

/* The number format a tensor's panel uses, chosen by what the tensor is and
 * never by one outlying value: whole numbers for token ids; for softmax
 * outputs (attention weights, probabilities) NUMFMT_PROBABILITY_DIGITS
 * fixed decimals, with "<0.001" and ">0.999" for what would round to 0 or
 * 1; for every other tensor `precision` fixed decimals, scientific only
 * for magnitudes of NUMFMT_FIXED_LIMIT and more. A tensor shown again
 * keeps the format of the step that made it (app_init copies it). */
NumFormat view_choose_format(const TraceTensor *tt, int precision);

/* Fills formats and max_abs (the largest finite |value|, for heat) for
 * every tensor of every step of trace, as app_init does for the trace it
 * is given; a tensor shown again keeps what the step that made it found. */
void view_trace_formats(const Trace *trace, int precision, ExplainFormats *formats,
                        float max_abs[TRACE_MAX_STEPS][TRACE_MAX_STEP_TENSORS]);

/* Sets up app over trace and lesson (NULL: every step, built-in texts; both
 * must outlive app): first step, focus on each step's first output, number
 * formats computed once per tensor. */
void app_init(App *app, const Trace *trace, const Lesson *lesson, const ViewOptions *options);

/* Reopens a walk where a learner left it: goes to walk position pos (as
 * app_go) and has the screen say so, with how to start over, until the
 * next key. The caller restoring saved progress calls it instead of
 * app_go. */
void app_resume(App *app, int pos);

/* Goes to walk position pos (clamped), opening its first unanswered
 * "before" quiz. */
void app_go(App *app, int pos);

/* Called when a quiz closes: once no "before" quiz hides the step's
 * outputs, the selection goes back to the step's main tensor. */
void app_quiz_closed(App *app);

/* The first quiz of the step on screen that is still open (only the
 * "before" ones when before_only), or -1 (also when no lesson is walked). */
int app_first_open_quiz(const App *app, bool before_only);

/* Opens quiz q (an index into the step's lesson quizzes) of the step on
 * screen, with an empty answer and no feedback yet. */
void app_open_quiz(App *app, int q);

/* Moves the selection makes on each step during autoplay. */
#define VIEW_AUTOPLAY_MOVES 8

/* Starts autoplay: each step shown for ms milliseconds, the selection
 * walking across the values the step computes. Any key stops it. */
void app_start_autoplay(App *app, int ms);

/* The lesson's part for the step on screen, or NULL. */
const LessonStep *app_lesson_step(const App *app);

/* The explanation of the step on screen: the lesson's text (with its
 * markup) or the built-in one. */
const char *app_explanation(const App *app);

/* True while the step's tensors are hidden: a "before" quiz of this step
 * is still open (predict first, then see). */
bool app_tensors_hidden(const App *app);

/* True when tensor `tensor` of the step on screen is not drawn: it is an
 * output of the step and a "before" quiz is open (its inputs stay). */
bool view_tensor_hidden(const App *app, int tensor);

/* Columns one value takes in a panel (its formatted width, a space, and the
 * glyph column without colour). */
int view_cell_width(const App *app, int step, int tensor);

/* Columns of the row-label column of a tensor's panel (0 when none). */
int view_label_width(const App *app, int step, int tensor);

/* The grid of tensor `tensor` of step `step` in a panel `width` columns
 * wide. */
TensorGrid view_grid(const App *app, int step, int tensor, int width);

/* Offset of (slice, row, col) in the tensor, or (size_t)-1 when that grid
 * position holds no value (the end of a wrapped row). */
size_t view_grid_offset(const TensorGrid *grid, size_t slice, size_t row, size_t col);

/* The grid position of offset. */
void view_grid_locate(const TensorGrid *grid, size_t offset, size_t *slice, size_t *row, size_t *col);

/* Where each part of the step screen goes, for a rows x cols terminal. */
typedef struct ViewLayout {
    bool too_small;   /* below VIEW_MIN_ROWS x VIEW_MIN_COLS */
    int formula_rows; /* formula (and einsum letters, and PyTorch code) lines */
    int torch_rows;   /* of those, the last ones that hold the PyTorch line (c); 0 when hidden */
    int explain_top, explain_rows;
    int explain_col, explain_width; /* the explanation's column: below, or at the right on wide screens */
    int panels_top, panels_rows, panels_width;
    int status_row;                         /* the selected value's line */
    int diff_row;                           /* with changes in force: the line counting changed values, else 0 */
    int panel_top[TRACE_MAX_STEP_TENSORS];  /* first row of each panel */
    int panel_rows[TRACE_MAX_STEP_TENSORS]; /* rows each panel gets (1 = title line only, 0 = not shown) */
    int more_panels;                        /* panels left out for want of room (a "+N more" line says so) */
    int more_row;                           /* where that line goes */
    int quiz_top, quiz_rows; /* an open quiz's pane (box included), full width above the status line; 0 rows: none */
} ViewLayout;

/* Computes the layout of the current step. */
void view_layout(const App *app, int rows, int cols, ViewLayout *layout);

/* True when panel `tensor` of step `step` is related to the focused panel:
 * it is the focused one, the focused value is computed from it, or it is
 * computed from the focused tensor. The layout gives these room first. */
bool view_panel_related(const App *app, int step, int tensor);

/* Content rows a panel needs to show its slice whole (title line included). */
int view_panel_natural_rows(const App *app, int step, int tensor, int width);

/* Narrowest half of the screen the compare view puts a panel in: room
 * for a tensor's name and the tag naming its trace and entropy. */
#define VIEW_COMPARE_MIN_HALF 30

/* Fewest rows each of two stacked compare panels needs (title, column
 * labels, a row); with fewer, one panel alone is shown (o switches it). */
#define VIEW_COMPARE_MIN_ROWS 3

/* Columns of a row's entropy in the compare view (" H 1.23"). */
#define VIEW_ENTROPY_COLS 7

/* The compare view (a lesson's `compare: yes`, diffview.h): columns each
 * of the focused tensor's two panels keeps at its right for the entropy
 * of each row (VIEW_ENTROPY_COLS for weights cut into rows, else 0; a
 * vector of weights over the tokens gives its one entropy in its title). */
int view_compare_entropy_cols(const App *app);

/* Whether the compare view's two panels stand side by side (original |
 * changed) on a screen cols wide: each fits half of it; else one is above
 * the other. */
bool view_compare_side_by_side(const App *app, int cols);

/* The prefix of the PyTorch line on screen. */
#define VIEW_TORCH_PREFIX "PyTorch: "
/* Most rows the PyTorch line takes; a longer one ends in "…". */
#define VIEW_TORCH_MAX_ROWS 4

/* The rows the step's PyTorch line takes under the formula on a screen of
 * cols columns: 0 when the c key has not shown it or the step has none,
 * else the line wrapped at cols - 2, at most VIEW_TORCH_MAX_ROWS. */
int view_torch_rows(const App *app, int cols);

/* Row r (0-based, below view_torch_rows) of the wrapped PyTorch line into
 * out (size bytes): "PyTorch: " then whole statements, later rows indented
 * to match. */
void view_torch_row(const App *app, int cols, int r, char *out, size_t size);

#endif
