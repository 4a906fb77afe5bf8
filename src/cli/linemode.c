/*
 * linemode.c - the plain-line interactive mode (see linemode.h). Commands
 * are read a line at a time and answered with sentences. The walk, the
 * quizzes and the progress are the tracer's own: an App (src/ui), changed
 * through its public functions and, for answering a quiz, through the very
 * keys the tracer reads (typing, Enter, Ctrl-R, Esc), so both front ends
 * follow one set of rules.
 */
#include "linemode.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "compose.h"
#include "explain.h"
#include "fatal.h"
#include "keys.h"
#include "lesson.h"
#include "lessonview.h"
#include "print.h"
#include "strbuf.h"
#include "utf8.h"

/* A command line longer than this is cut. */
#define LINE_MODE_INPUT_BYTES 512
/* The width the inspector's arithmetic is wrapped at. */
#define LINE_MODE_WIDTH 80
/* The screen size the App is told about with each key: line mode has no
 * screen, and the keys it sends (typing, Enter, Ctrl-R, Esc into a quiz)
 * do not depend on one. */
#define LINE_MODE_ROWS 24
#define LINE_MODE_COLS 80

static const char LINE_MODE_HELP[] =
    "Commands (one a line):\n"
    "  next, n            the next step (or the step's question, when one is still open)\n"
    "  back, b            the previous step\n"
    "  step ID|N          the step with that id or number (1-based, as the walk counts them)\n"
    "  again              this step once more\n"
    "  show TENSOR        every value of a tensor of this step, with its row and column labels\n"
    "  row N              row N (0-based) of the step's main tensor, one value a line\n"
    "  explain TENSOR[i]  the arithmetic behind one value; an index is 0-based, or a token's word:\n"
    "                     explain a1[2], explain a1[is], explain scores[my][politi]\n"
    "  quiz               the open question again, or the step's next unanswered one\n"
    "  answer TEXT        answer the open question; while one is open, a line that is\n"
    "                     not a command (n, b and q included) is taken as the answer\n"
    "  hint               a hint for the open question, the next one each time\n"
    "  reveal             the answer of the open question\n"
    "  skip               leave the open question unanswered and go on\n"
    "  help               this list\n"
    "  quit, q            leave\n";

/* What line mode keeps besides the App. */
typedef struct LineMode {
    App *app;
    StrBuf *out;
    int hint_pos;   /* the quiz whose hints are counted: its walk position... */
    int hint_quiz;  /* ...and its index in the step; -1 when none yet */
    int hints_said; /* hints of that quiz said so far */
} LineMode;

/* ------------------------------------------------------------------------
 * Saying where the learner is
 * ---------------------------------------------------------------------- */

/* Calls app's progress callback when the step or a quiz changed, as
 * app_handle_key does after a key. */
static void keep_progress(App *app)
{
    if (app->progress_dirty && app->on_progress != NULL)
        app->on_progress(app, app->progress_context);
    app->progress_dirty = false;
}

/* The quiz open on the step (being asked, not yet settled), or NULL. */
static const Quiz *open_quiz(const App *app)
{
    const LessonStep *ls = app_lesson_step(app);
    if (app->overlay != OVERLAY_QUIZ || ls == NULL || app->quiz_index >= ls->n_quizzes)
        return NULL;
    return &ls->quizzes[app->quiz_index];
}

/* Asks the open quiz: its question, its choices with their labels, and
 * what the learner can type. */
static void ask_quiz(StrBuf *out, const App *app)
{
    static const char *const KINDS[] = {
        [QUIZ_SHAPE] = "a shape in square brackets, its sizes separated by commas",
        [QUIZ_NUMBER] = "a number",
        [QUIZ_TOKEN] = "a word of the sentence",
        [QUIZ_CHOICE] = "the label or the text of a choice",
    };
    const Quiz *quiz = open_quiz(app);
    ATTN_ASSERT(quiz != NULL);
    strbuf_printf(out, "Question %d of %d on this step%s: %s\n", app->quiz_index + 1, app_lesson_step(app)->n_quizzes,
                  quiz->before ? ", before its outputs are shown" : "", quiz->question);
    for (int c = 0; c < quiz->n_choices; c++) {
        char label[8];
        quiz_choice_label(quiz, c, label, sizeof label);
        strbuf_printf(out, "  %s %s\n", label, quiz->choices[c]);
    }
    strbuf_printf(out, "Answer with %s (type it alone, or after the word answer), or type hint, reveal or skip.\n",
                  KINDS[quiz->kind]);
}

/* A lesson's text as print_lesson_text writes it (markup removed,
 * paragraphs wrapped), without blank lines at its start or end. */
static void say_lesson_text(StrBuf *out, const char *text)
{
    StrBuf plain = {0};
    print_lesson_text(&plain, text);
    const char *p = strbuf_text(&plain);
    size_t len = plain.len;
    while (len > 0 && p[0] == '\n')
        p++, len--;
    while (len > 1 && p[len - 1] == '\n' && p[len - 2] == '\n')
        len--;
    if (len > 0)
        strbuf_append(out, p, len);
    strbuf_free(&plain);
}

/* Says the step app is on: its number in the walk, id, title, formula,
 * PyTorch line, explanation (the lesson's text, markup removed) and the
 * tensors it shows, then asks the open quiz, if any. While a "before"
 * quiz is open, the outputs are not named by shape, the formula stops at
 * its arrow and the explanation waits, as on the tracer's screen. */
static void say_step(StrBuf *out, const App *app)
{
    const TraceStep *step = &app->trace->steps[app->step];
    bool hidden = app_tensors_hidden(app);
    strbuf_printf(out, "Step %d of %d: %s (%s). %s.\n", app->pos + 1, app->n_walk, step->id,
                  trace_part_name(step->part), step->title);
    char label[96], base[96];
    view_trace_label(app, false, label, sizeof label); /* a model lesson: which model and layer */
    view_trace_label(app, true, base, sizeof base);
    if (label[0] != '\0' && view_own_trace(app))
        strbuf_printf(out, "This step traces %s (the lesson's own trace is %s).\n", label, base);
    char redacted[sizeof step->formula];
    strbuf_printf(out, "Formula: %s\n",
                  hidden ? compose_formula_before(step->formula, redacted, sizeof redacted) : step->formula);
    if (step->torch[0] != '\0')
        strbuf_printf(out, "PyTorch: %s\n", step->torch);
    const LessonStep *ls = app_lesson_step(app);
    if (hidden)
        strbuf_puts(out, "The explanation and the outputs come once the question is answered or skipped.\n");
    else if (ls != NULL && ls->text != NULL)
        say_lesson_text(out, ls->text);
    else
        strbuf_printf(out, "%s\n", step->explanation);
    strbuf_puts(out, "Tensors:");
    for (int j = 0; j < step->n_tensors; j++) {
        char shape[64];
        const TraceTensor *tt = &step->tensors[j];
        if (view_tensor_hidden(app, j))
            strbuf_printf(out, "%s %s (an output, hidden for now)", j > 0 ? "," : "", tt->name);
        else
            strbuf_printf(out, "%s %s %s%s%s", j > 0 ? "," : "", tt->name,
                          tensor_shape_str(tt->tensor, shape, sizeof shape), tt->is_output ? "" : " (input)",
                          j == step->main_tensor ? " (main)" : "");
    }
    strbuf_puts(out, ".\n");
    if (open_quiz(app) != NULL)
        ask_quiz(out, app);
}

/* The end of the walk: says so, and with a lesson's quizzes how they went. */
static void say_end(StrBuf *out, const App *app)
{
    strbuf_puts(out, "This is the last step.");
    int total = 0, right = 0, first = 0, shown = 0, skipped = 0;
    for (int k = 0; app->lesson != NULL && k < app->lesson->n_steps; k++)
        for (int q = 0; q < app->lesson->steps[k].n_quizzes; q++) {
            const QuizState *state = &app->quiz[k][q];
            total++;
            right += state->status == QUIZ_RIGHT;
            first += state->status == QUIZ_RIGHT && state->tries == 0;
            shown += state->status == QUIZ_SHOWN;
            skipped += state->status == QUIZ_PASSED;
        }
    if (total > 0)
        strbuf_printf(out,
                      " Of the lesson's %d questions: %d answered right (%d at the first try), %d revealed, %d "
                      "skipped, %d not answered.",
                      total, right, first, shown, skipped, total - right - shown - skipped);
    strbuf_puts(out, "\n");
}

/* ------------------------------------------------------------------------
 * Quizzes: answered through the tracer's keys
 * ---------------------------------------------------------------------- */

/* Sends one key to app, as the tracer would, with progress kept. */
static void press(App *app, KeyCode key)
{
    app_handle_key(app, key, LINE_MODE_ROWS, LINE_MODE_COLS);
}

/* The count of hints said of the open quiz (starting again at 0 for
 * another quiz). */
static int *hints_said(LineMode *lm)
{
    if (lm->hint_pos != lm->app->pos || lm->hint_quiz != lm->app->quiz_index) {
        lm->hint_pos = lm->app->pos;
        lm->hint_quiz = lm->app->quiz_index;
        lm->hints_said = 0;
    }
    return &lm->hints_said;
}

/* After the open quiz was settled (right, revealed) or skipped: closes it
 * as Esc does in the tracer and says what comes next: the step's next
 * "before" quiz, or the whole step once its outputs show, or its next
 * unanswered "after" quiz, or that next goes on. */
static void close_quiz(LineMode *lm, const Quiz *quiz)
{
    App *app = lm->app;
    if (app->overlay == OVERLAY_QUIZ && app->quiz[app->pos][app->quiz_index].status != QUIZ_OPEN)
        press(app, KEY_CODE_ESCAPE);
    if (open_quiz(app) != NULL) {
        ask_quiz(lm->out, app);
    } else if (quiz->before) {
        strbuf_puts(lm->out, "Now the whole step:\n");
        say_step(lm->out, app);
    } else if (app_first_open_quiz(app, false) >= 0) {
        app_open_quiz(app, app_first_open_quiz(app, false));
        ask_quiz(lm->out, app);
    } else {
        strbuf_puts(lm->out, "Type next to go on.\n");
    }
}

/* The quiz's right answer and its explanation, when it has one. */
static void say_answer(StrBuf *out, const Quiz *quiz, const char *lead)
{
    char answer[128];
    quiz_answer_text(quiz, answer, sizeof answer);
    strbuf_printf(out, "%s: %s%s\n", lead, answer, quiz_sentence_end(answer));
    if (quiz->explain != NULL)
        strbuf_printf(out, "%s\n", quiz->explain);
}

/* answer TEXT: types TEXT into the open quiz and presses Enter, then says
 * what the tracer's quiz pane would: right, not quite (with the hint for
 * that try), or not a word of the sentence (which uses no try). */
static void answer_quiz(LineMode *lm, const char *text)
{
    App *app = lm->app;
    const Quiz *quiz = open_quiz(app);
    if (quiz == NULL) {
        strbuf_puts(lm->out, "answer: no question is open; quiz asks the step's next one, if it has one\n");
        return;
    }
    if (text[0] == '\0') {
        strbuf_puts(lm->out, "answer: type the answer after the word, as: answer [5, 16]\n");
        return;
    }
    const QuizState *state = &app->quiz[app->pos][app->quiz_index];
    app->quiz_input[0] = '\0';
    for (const char *p = text; *p != '\0';) {
        uint32_t cp;
        int n = utf8_decode(p, &cp);
        press(app, (KeyCode)cp);
        p += n > 0 ? n : 1;
    }
    press(app, KEY_CODE_ENTER);
    if (app->quiz_feedback == FEEDBACK_RIGHT) {
        say_answer(lm->out, quiz, state->tries == 0 ? "Right, first try" : "Right");
        close_quiz(lm, quiz);
    } else if (app->quiz_feedback == FEEDBACK_WRONG) {
        strbuf_printf(lm->out, "Not quite: %s.", app->quiz_last);
        int hint = state->tries - 1 < quiz->n_hints ? state->tries - 1 : quiz->n_hints - 1;
        int *said = hints_said(lm);
        if (hint >= 0) {
            strbuf_printf(lm->out, " Hint: %s", quiz->hints[hint]);
            *said = *said > hint + 1 ? *said : hint + 1;
        }
        strbuf_puts(lm->out, "\nTry again, or type hint, reveal or skip.\n");
    } else if (app->quiz_feedback == FEEDBACK_NOT_A_TOKEN) {
        strbuf_printf(lm->out, "\"%s\" is not a word of the sentence (", app->quiz_last);
        quiz_token_list(&app->trace->config, lm->out);
        strbuf_puts(lm->out, "). That did not count as a try.\n");
    } else if (app->quiz_feedback == FEEDBACK_WHICH_TOKEN) {
        strbuf_printf(lm->out, "\"%s\" is more than one token: ", app->quiz_last);
        quiz_token_copies(&app->trace->config, app->quiz_last, lm->out);
        strbuf_puts(lm->out, ". Type the one you mean; that did not count as a try.\n");
    }
}

/* hint, reveal, skip and quiz: what they do to the open quiz (quiz also
 * opens the step's next unanswered one when none is open). */
static void quiz_command(LineMode *lm, const char *command)
{
    App *app = lm->app;
    const Quiz *quiz = open_quiz(app);
    if (quiz == NULL && strcmp(command, "quiz") == 0 && app_first_open_quiz(app, false) >= 0) {
        app_open_quiz(app, app_first_open_quiz(app, false));
        quiz = open_quiz(app);
    }
    if (quiz == NULL) {
        strbuf_printf(lm->out, "%s: no question is open on this step\n", command);
    } else if (strcmp(command, "quiz") == 0) {
        ask_quiz(lm->out, app);
    } else if (strcmp(command, "hint") == 0) {
        int *said = hints_said(lm);
        if (quiz->n_hints == 0) {
            strbuf_puts(lm->out, "This question has no hint; reveal shows its answer.\n");
            return;
        }
        int h = *said < quiz->n_hints ? *said : quiz->n_hints - 1;
        strbuf_printf(lm->out, "Hint %d of %d%s: %s\n", h + 1, quiz->n_hints,
                      h + 1 == quiz->n_hints ? ", the last" : "", quiz->hints[h]);
        *said = h + 1;
    } else if (strcmp(command, "reveal") == 0) {
        press(app, KEY_CTRL('r'));
        say_answer(lm->out, quiz, "The answer");
        close_quiz(lm, quiz);
    } else { /* skip */
        press(app, KEY_CODE_ESCAPE);
        strbuf_puts(lm->out, "Skipped.\n");
        close_quiz(lm, quiz);
    }
}

/* ------------------------------------------------------------------------
 * Moving along the walk
 * ---------------------------------------------------------------------- */

/* Goes to walk position pos and says the step (with the "before" quiz
 * app_go opens there, if any). */
static void go_to(LineMode *lm, int pos)
{
    app_go(lm->app, pos);
    keep_progress(lm->app);
    say_step(lm->out, lm->app);
}

/* next and back. next stops at the step's unanswered quizzes, as Space
 * does in the tracer: it asks the first of them instead of moving. */
static void go_next_or_back(LineMode *lm, bool next)
{
    App *app = lm->app;
    if (!next) {
        if (app->pos == 0)
            strbuf_puts(lm->out, "This is the first step.\n");
        else
            go_to(lm, app->pos - 1);
        return;
    }
    if (open_quiz(app) == NULL && app_first_open_quiz(app, false) >= 0) {
        app_open_quiz(app, app_first_open_quiz(app, false));
        strbuf_puts(lm->out, "Before the next step, a question on this one.\n");
        ask_quiz(lm->out, app);
    } else if (open_quiz(app) != NULL) {
        strbuf_puts(lm->out, "First answer this step's question, or skip it.\n");
        ask_quiz(lm->out, app);
    } else if (app->pos + 1 >= app->n_walk) {
        say_end(lm->out, app);
    } else {
        go_to(lm, app->pos + 1);
    }
}

/* step ID|N: a number counts the walk (the lesson's steps, or all of
 * them), an id must be a step the walk has. */
static void go_step(LineMode *lm, const char *arg)
{
    App *app = lm->app;
    char *end;
    long n = strtol(arg, &end, 10);
    if (app->lesson != NULL && *arg >= '0' && *arg <= '9' && *end == '\0') {
        if (n < 1 || n > app->n_walk)
            strbuf_printf(lm->out, "step: the lesson's steps are numbered 1 to %d\n", app->n_walk);
        else
            go_to(lm, (int)n - 1);
        return;
    }
    Error err;
    error_clear(&err);
    int to = trace_find_step(app->original, arg, &err); /* the walk holds the lesson trace's indices */
    if (to < 0) {
        strbuf_printf(lm->out, "step: %s\n", err.message);
        return;
    }
    for (int k = 0; k < app->n_walk; k++)
        if (app->walk[k] == to) {
            go_to(lm, k);
            return;
        }
    strbuf_printf(lm->out, "step: this lesson does not walk %s; its steps are:", app->original->steps[to].id);
    for (int k = 0; k < app->n_walk; k++)
        strbuf_printf(lm->out, "%s %s", k > 0 ? "," : "", app->original->steps[app->walk[k]].id);
    strbuf_puts(lm->out, ".\n");
}

/* ------------------------------------------------------------------------
 * Reading tensors
 * ---------------------------------------------------------------------- */

/* The index of the tensor named name[0..len) in step i, or -1. */
static int find_tensor(const Trace *trace, int i, const char *name, size_t len)
{
    const TraceStep *step = &trace->steps[i];
    for (int j = 0; j < step->n_tensors; j++)
        if (strlen(step->tensors[j].name) == len && strncmp(step->tensors[j].name, name, len) == 0)
            return j;
    return -1;
}

/* Says that tensor j is hidden by the open "before" quiz; false when it
 * is not hidden. */
static bool say_hidden(StrBuf *out, const App *app, int j, const char *command)
{
    if (!view_tensor_hidden(app, j))
        return false;
    strbuf_printf(out, "%s: %s is an output of this step, hidden until the question is answered or skipped\n", command,
                  app->trace->steps[app->step].tensors[j].name);
    return true;
}

/* row N: row N of the main tensor's last two dimensions (every head's
 * for a 3-D tensor; a 1-D tensor is its own row), one value a line
 * labelled as the inspector labels it. */
static void say_row(StrBuf *out, const App *app, const char *arg)
{
    const Trace *trace = app->trace;
    const TraceStep *step = &trace->steps[app->step];
    const TraceTensor *tt = &step->tensors[step->main_tensor];
    const Tensor *t = tt->tensor;
    if (say_hidden(out, app, step->main_tensor, "row"))
        return;
    char *end;
    errno = 0;
    long n = strtol(arg, &end, 10);
    size_t rows = t->ndim >= 2 ? t->shape[t->ndim - 2] : 1, cols = t->shape[t->ndim - 1];
    if (end == arg || *end != '\0' || errno != 0 || n < 0 || (size_t)n >= rows) {
        strbuf_printf(out, "row: expected a row number from 0 to %zu of %s\n", rows - 1, tt->name);
        return;
    }
    size_t slices = t->size / (rows * cols);
    for (size_t s = 0; s < slices; s++)
        for (size_t c = 0; c < cols; c++) {
            size_t offset = (s * rows + (size_t)n) * cols + c;
            char name[128];
            explain_element_name(trace, tt, offset, name, sizeof name);
            strbuf_printf(out, "%s = %.*f\n", name, app->options.precision, (double)t->data[offset]);
        }
}

/* The token of the sentence named by word[0..len): "is", or for a word
 * the sentence repeats "the(2)" (its 1-based position, as the inspector
 * writes it), compared without case; a bare repeated word is its first
 * place. -1 when no token is named so. */
static long token_index(const Config *cfg, const char *word, size_t len)
{
    const char *paren = memchr(word, '(', len);
    size_t wl = paren != NULL ? (size_t)(paren - word) : len;
    long position = 0;
    if (paren != NULL) {
        char *end;
        position = strtol(paren + 1, &end, 10);
        if (end != word + len - 1 || *end != ')' || position < 1 || (size_t)position > cfg->n_tokens)
            return -1;
    }
    for (size_t i = 0; i < cfg->n_tokens; i++)
        if (strlen(cfg->tokens[i]) == wl && strncasecmp(cfg->tokens[i], word, wl) == 0 &&
            (position == 0 || (size_t)position == i + 1))
            return (long)i;
    return -1;
}

/* explain NAME[i][j]...: the offset of the indices in text (after the
 * name) into *offset; false when they are not the tensor's. An index over
 * the sentence's tokens may be the token's word, as the inspector names
 * it: a1[is], scores[my][politi]. */
static bool parse_indices(const TraceTensor *tt, const Config *cfg, const char *text, size_t *offset)
{
    const Tensor *t = tt->tensor;
    size_t at = 0;
    int dim = 0;
    while (*text == '[' && dim < t->ndim) {
        char *end;
        errno = 0;
        long v = strtol(text + 1, &end, 10);
        if (end == text + 1 && tt->dims[dim] == DIM_SEQ && cfg->tokens != NULL) {
            end = strchr(text + 1, ']');
            v = end != NULL ? token_index(cfg, text + 1, (size_t)(end - text - 1)) : -1;
        }
        if (end == NULL || end == text + 1 || *end != ']' || errno != 0 || v < 0 || (size_t)v >= t->shape[dim])
            return false;
        at = at * t->shape[dim++] + (size_t)v;
        text = end + 1;
    }
    *offset = at;
    return *text == '\0' && dim == t->ndim;
}

/* show NAME and explain NAME[...]: a tensor of the step, all of it or the
 * arithmetic behind one value. */
static void say_tensor(StrBuf *out, const App *app, const char *arg, bool explain)
{
    const Trace *trace = app->trace;
    size_t len = strcspn(arg, "[");
    int j = find_tensor(trace, app->step, arg, len);
    if (j < 0) {
        strbuf_printf(out, "%s: no tensor '%.*s' in this step; its tensors are listed by 'again'\n",
                      explain ? "explain" : "show", (int)(len > 60 ? 60 : len), arg);
        return;
    }
    if (say_hidden(out, app, j, explain ? "explain" : "show"))
        return;
    const TraceTensor *tt = &trace->steps[app->step].tensors[j];
    if (!explain) {
        print_tensor_text(out, tt, &trace->config, app->options.precision, "  ");
        return;
    }
    size_t offset;
    if (!parse_indices(tt, &trace->config, arg + len, &offset)) {
        char shape[64];
        strbuf_printf(out, "explain: give one 0-based index (or a token's word) per dimension of %s %s, as %s[0]%s\n",
                      tt->name, tensor_shape_str(tt->tensor, shape, sizeof shape), tt->name,
                      tt->tensor->ndim > 1 ? "[1]" : "");
        return;
    }
    explain_cell(trace, app->step, j, offset, app->options.precision, NULL, LINE_MODE_WIDTH, out);
}

/* ------------------------------------------------------------------------
 * Commands
 * ---------------------------------------------------------------------- */

/* The command words. While a quiz is open, a line whose first word is not
 * one of them is an answer (so n, b and q answer a choice quiz there). */
static const char *const COMMAND_WORDS[] = {"next",   "back", "step",   "again", "show", "row",  "explain", "quiz",
                                            "answer", "hint", "reveal", "skip",  "help", "quit", "?"};

/* Whether line starts with a command word (or, when short is set, one of
 * the one-letter forms n, b, q). */
static bool is_command(const char *line, size_t len, bool short_forms)
{
    for (size_t i = 0; i < sizeof COMMAND_WORDS / sizeof COMMAND_WORDS[0]; i++)
        if (strlen(COMMAND_WORDS[i]) == len && strncmp(COMMAND_WORDS[i], line, len) == 0)
            return true;
    return short_forms && len == 1 && strchr("nbq", line[0]) != NULL;
}

/* Runs one command (line, trimmed); false for quit. */
static bool run_command(LineMode *lm, char *line)
{
    App *app = lm->app;
    size_t len = strcspn(line, " \t");
    if (line[0] == '\0')
        return true;
    if (!is_command(line, len, open_quiz(app) == NULL)) {
        if (open_quiz(app) != NULL)
            answer_quiz(lm, line);
        else
            strbuf_printf(lm->out, "Unknown command '%.40s'. Type help for the list.\n", line);
        return true;
    }
    char *arg = line + len;
    if (*arg != '\0')
        *arg++ = '\0';
    arg += strspn(arg, " \t");
    if (strcmp(line, "quit") == 0 || strcmp(line, "q") == 0)
        return false;
    if (strcmp(line, "next") == 0 || strcmp(line, "n") == 0 || strcmp(line, "back") == 0 || strcmp(line, "b") == 0)
        go_next_or_back(lm, line[0] == 'n');
    else if (strcmp(line, "step") == 0)
        go_step(lm, arg);
    else if (strcmp(line, "again") == 0)
        say_step(lm->out, app);
    else if (strcmp(line, "show") == 0 || strcmp(line, "explain") == 0)
        say_tensor(lm->out, app, arg, line[0] == 'e');
    else if (strcmp(line, "row") == 0)
        say_row(lm->out, app, arg);
    else if (strcmp(line, "answer") == 0)
        answer_quiz(lm, arg);
    else if (strcmp(line, "help") == 0 || strcmp(line, "?") == 0)
        strbuf_puts(lm->out, LINE_MODE_HELP);
    else
        quiz_command(lm, line); /* quiz, hint, reveal, skip */
    return true;
}

/* Reads one line of in into buf, trimmed of surrounding white space and
 * with any control character made a space; false at the end of in. */
static bool read_command(FILE *in, char *buf, size_t size)
{
    if (fgets(buf, (int)size, in) == NULL)
        return false;
    if (strchr(buf, '\n') == NULL) { /* too long: drop the rest */
        int c;
        while ((c = getc(in)) != EOF && c != '\n')
            ;
    }
    for (char *p = buf; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    size_t n = strlen(buf);
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    size_t lead = strspn(buf, " ");
    memmove(buf, buf + lead, n - lead + 1);
    return true;
}

/* The first lines: what is walked, and where a resumed lesson was left. */
static void say_start(StrBuf *out, const App *app)
{
    if (app->lesson != NULL)
        strbuf_printf(out, "attn-trace, line mode: the lesson \"%s\", %d steps. Type help for the commands.\n",
                      app->lesson->title, app->n_walk);
    else
        strbuf_printf(out, "attn-trace, line mode: %d steps. Type help for the commands.\n", app->n_walk);
    if (app->resumed)
        strbuf_printf(out, "Resumed at step %d, where you left this lesson (--restart starts it over).\n",
                      app->pos + 1);
    say_step(out, app);
}

bool line_mode_run(App *app, bool echo, FILE *in, FILE *out, Error *err)
{
    StrBuf text = {0};
    text.sink = out;
    LineMode lm = {app, &text, -1, -1, 0};
    say_start(&text, app);
    app->resumed = false;
    char line[LINE_MODE_INPUT_BYTES];
    bool going = true;
    while (going) {
        strbuf_puts(&text, "> ");
        if (!strbuf_flush(&text) || fflush(out) != 0)
            break;
        if (!read_command(in, line, sizeof line)) {
            strbuf_puts(&text, "\n");
            break;
        }
        if (echo)
            strbuf_printf(&text, "%s\n", line);
        going = run_command(&lm, line);
    }
    bool ok = strbuf_flush(&text) && fflush(out) == 0 && !text.failed;
    strbuf_free(&text);
    if (!ok)
        return error_set(err, STATUS_FAILURE, "cannot write the output: %s", errno != 0 ? strerror(errno) : "error");
    return true;
}
