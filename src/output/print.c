/*
 * print.c - plain-text and JSON renderings of a trace (see print.h and
 * docs/json.md).
 */
#include "print.h"
#include "experiment.h"
#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "floatfmt.h"
#include "numfmt.h"

/* ------------------------------------------------------------------------
 * Text helpers
 * ---------------------------------------------------------------------- */

/* Appends label cut to at most max_cols columns (ending in "…" when cut)
 * and padded with spaces to exactly max_cols. */
static void put_label(StrBuf *out, const char *label, size_t max_cols)
{
    size_t width = utf8_width(label);
    if (width <= max_cols) {
        strbuf_puts(out, label);
        strbuf_repeat(out, ' ', max_cols - width);
        return;
    }
    size_t cols = 0, i = 0;
    while (label[i] != '\0') {
        if (((unsigned char)label[i] & 0xc0) != 0x80) {
            if (cols == max_cols - 1)
                break;
            cols++;
        }
        i++;
    }
    strbuf_append(out, label, i);
    strbuf_puts(out, "…");
}

/* After the explanation of the BPE step (OP_BPE_WORD among its
 * tensors): each word's merges, replayed, one line each, indented. */
static void put_bpe_words(StrBuf *out, const Trace *trace, const TraceStep *step)
{
    bool bpe = false;
    for (int j = 0; j < step->n_tensors; j++)
        bpe |= step->tensors[j].is_output && step->tensors[j].how.op == OP_BPE_WORD;
    if (!bpe)
        return;
    for (size_t w = 0; w < trace->n_bpe_words; w++) {
        strbuf_puts(out, "\n");
        for (const char *p = trace->bpe_words[w]; *p != '\0';) {
            const char *eol = strchr(p, '\n');
            size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
            strbuf_puts(out, "  ");
            strbuf_append(out, p, len);
            strbuf_puts(out, "\n");
            p += len + (eol != NULL);
        }
    }
}

/* Appends text wrapped at width columns, each line starting with indent;
 * a blank line in text ("\n\n") starts a new paragraph after one. */
static void put_wrapped(StrBuf *out, const char *text, const char *indent, size_t width)
{
    size_t indent_cols = utf8_width(indent);
    size_t col = 0;
    const char *p = text;
    while (*p != '\0') {
        int newlines = 0;
        while (*p == ' ' || *p == '\n')
            newlines += *p++ == '\n';
        if (*p == '\0')
            break;
        if (newlines >= 2 && col > 0) { /* a blank line: a new paragraph */
            strbuf_puts(out, "\n\n");
            col = 0;
        }
        const char *end = p;
        while (*end != '\0' && *end != ' ' && *end != '\n')
            end++;
        size_t word_len = (size_t)(end - p);
        char word[256];
        size_t copy = word_len < sizeof word - 1 ? word_len : sizeof word - 1;
        memcpy(word, p, copy);
        word[copy] = '\0';
        size_t word_cols = utf8_width(word);
        if (col > 0 && col + 1 + word_cols > width) {
            strbuf_puts(out, "\n");
            col = 0;
        }
        if (col == 0) {
            strbuf_puts(out, indent);
            col = indent_cols;
        } else {
            strbuf_puts(out, " ");
            col++;
        }
        strbuf_append(out, p, word_len);
        col += word_cols;
        p = end;
    }
    if (col > 0)
        strbuf_puts(out, "\n");
}

/* The indices of a dimension of n entries that are shown: all of them, or
 * when summarizing the first and last PRINT_EDGE_ITEMS with a gap between.
 * Writes them to idx and returns how many; *gap_at is the position in idx
 * before which "..." goes, or (size_t)-1. */
static size_t shown_indices(size_t n, bool summarize, size_t *idx, size_t *gap_at)
{
    *gap_at = (size_t)-1;
    if (!summarize || n <= 2 * PRINT_EDGE_ITEMS) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < PRINT_EDGE_ITEMS; i++)
        idx[k++] = i;
    *gap_at = k;
    for (size_t i = n - PRINT_EDGE_ITEMS; i < n; i++)
        idx[k++] = i;
    return k;
}

/* A row of values (row[0..n)) as "[a, b, c]", wrapped so no line passes
 * PRINT_LINE_WIDTH; continuation lines are indented to the first value. */
static void put_row(StrBuf *out, const float *row, size_t n, size_t stride, bool summarize, const NumFormat *fmt,
                    size_t start_col)
{
    size_t idx[2 * PRINT_EDGE_ITEMS];
    size_t gap_at;
    size_t shown;
    bool use_idx = summarize && n > 2 * PRINT_EDGE_ITEMS;
    if (use_idx)
        shown = shown_indices(n, true, idx, &gap_at);
    else {
        shown = n;
        gap_at = (size_t)-1;
    }
    size_t cell = (size_t)fmt->width + 2; /* value plus ", " */
    size_t room = PRINT_LINE_WIDTH > start_col + 2 ? PRINT_LINE_WIDTH - start_col - 2 : cell;
    size_t per_line = room / cell > 0 ? room / cell : 1;
    strbuf_puts(out, "[");
    size_t on_line = 0;
    for (size_t k = 0; k < shown; k++) {
        size_t i = use_idx ? idx[k] : k;
        if (k == gap_at) {
            strbuf_puts(out, on_line > 0 ? " ...," : "...,");
            on_line++;
        }
        if (on_line == per_line) {
            strbuf_puts(out, "\n");
            strbuf_repeat(out, ' ', start_col + 1);
            on_line = 0;
        } else if (on_line > 0) {
            strbuf_puts(out, " ");
        }
        char buf[NUMFMT_BUF];
        numfmt_write_padded(fmt, row[i * stride], buf);
        strbuf_puts(out, buf);
        if (k + 1 < shown)
            strbuf_puts(out, ",");
        on_line++;
    }
    strbuf_puts(out, "]");
}

/* Label of entry i of a dimension of kind dim; a token's word carries its
 * position when it is repeated (explain_token_label). */
static void dim_label(char *buf, size_t size, DimKind dim, size_t i, const Config *cfg)
{
    if (dim == DIM_SEQ && i < cfg->n_tokens)
        explain_token_label(cfg, i, PRINT_LABEL_WIDTH, buf, size);
    else if (dim == DIM_HEAD)
        snprintf(buf, size, "head %zu", i);
    else
        snprintf(buf, size, "[%zu]", i);
}

/* A 2-D slice (rows, cols) at data with row labels when rows are tokens. */
static void put_matrix(StrBuf *out, const float *data, size_t rows, size_t cols, DimKind row_dim, DimKind col_dim,
                       bool summarize, const NumFormat *fmt, const Config *cfg, const char *indent)
{
    size_t label_cols = 0;
    if (row_dim == DIM_SEQ) {
        for (size_t r = 0; r < rows && r < cfg->n_tokens; r++) {
            char label[64];
            size_t w = utf8_width(explain_token_label(cfg, r, PRINT_LABEL_WIDTH, label, sizeof label));
            if (w > label_cols)
                label_cols = w;
        }
        if (label_cols > PRINT_LABEL_WIDTH)
            label_cols = PRINT_LABEL_WIDTH;
    }
    size_t indent_cols = utf8_width(indent);
    size_t prefix = indent_cols + (label_cols > 0 ? label_cols + 2 : 0);
    /* Column header: key tokens above an attention matrix, when they fit. */
    if (col_dim == DIM_SEQ && !summarize && (size_t)fmt->width >= 4 &&
        prefix + 1 + cols * ((size_t)fmt->width + 2) <= PRINT_LINE_WIDTH) {
        strbuf_puts(out, indent);
        strbuf_repeat(out, ' ', prefix - indent_cols + 1);
        for (size_t c = 0; c < cols; c++) {
            char label[64];
            dim_label(label, sizeof label, col_dim, c, cfg);
            if (c + 1 < cols) {
                put_label(out, label, (size_t)fmt->width);
                strbuf_puts(out, "  ");
            } else if (utf8_width(label) <= (size_t)fmt->width) {
                strbuf_puts(out, label); /* no padding at the end of the line */
            } else {
                put_label(out, label, (size_t)fmt->width);
            }
        }
        strbuf_puts(out, "\n");
    }
    size_t idx[2 * PRINT_EDGE_ITEMS + 1];
    size_t gap_at;
    size_t shown = rows;
    bool use_idx = summarize && rows > 2 * PRINT_EDGE_ITEMS;
    if (use_idx)
        shown = shown_indices(rows, true, idx, &gap_at);
    else
        gap_at = (size_t)-1;
    for (size_t k = 0; k < shown; k++) {
        size_t r = use_idx ? idx[k] : k;
        if (k == gap_at) {
            strbuf_puts(out, indent);
            strbuf_puts(out, "...\n");
        }
        strbuf_puts(out, indent);
        if (label_cols > 0) {
            char label[64];
            dim_label(label, sizeof label, row_dim, r, cfg);
            put_label(out, label, label_cols);
            strbuf_puts(out, "  ");
        }
        put_row(out, data + r * cols, cols, 1, summarize, fmt, prefix);
        strbuf_puts(out, "\n");
    }
}

/* Appends to shown every value of t at the indices the summary keeps:
 * dimension by dimension, the first and last PRINT_EDGE_ITEMS. */
static void gather_shown(const Tensor *t, int dim, size_t offset, float *shown, size_t *n_shown)
{
    if (dim == t->ndim) {
        shown[(*n_shown)++] = t->data[offset];
        return;
    }
    size_t idx[2 * PRINT_EDGE_ITEMS], gap_at;
    size_t n = t->shape[dim];
    size_t count = n > 2 * PRINT_EDGE_ITEMS ? shown_indices(n, true, idx, &gap_at) : n;
    for (size_t k = 0; k < count; k++)
        gather_shown(t, dim + 1, offset * n + (n > 2 * PRINT_EDGE_ITEMS ? idx[k] : k), shown, n_shown);
}

/* The notation for a tensor. As PyTorch does, a summarized tensor is
 * judged by the values it shows, not by those it hides. */
static NumFormat choose_format(const TraceTensor *tt, bool summarize, int precision)
{
    const Tensor *t = tt->tensor;
    float shown[(2 * PRINT_EDGE_ITEMS) * (2 * PRINT_EDGE_ITEMS) * (2 * PRINT_EDGE_ITEMS) * (2 * PRINT_EDGE_ITEMS)];
    const float *values = t->data;
    size_t n = t->size;
    if (summarize) {
        n = 0;
        gather_shown(t, 0, 0, shown, &n);
        values = shown;
    }
    return tt->is_integer ? numfmt_choose_integer(values, n) : numfmt_choose(values, n, precision);
}

void print_tensor_text(StrBuf *out, const TraceTensor *tt, const Config *cfg, int precision, const char *indent)
{
    const Tensor *t = tt->tensor;
    bool summarize = t->size > PRINT_SUMMARY_THRESHOLD;
    NumFormat fmt = choose_format(tt, summarize, precision);

    if (t->ndim == 0) {
        char buf[NUMFMT_BUF];
        numfmt_write(&fmt, t->data[0], buf);
        strbuf_printf(out, "%s%s\n", indent, buf);
    } else if (t->ndim == 1 && tt->dims[0] == DIM_SEQ) {
        /* one value per token: a column with the token beside each */
        put_matrix(out, t->data, t->shape[0], 1, DIM_SEQ, DIM_OTHER, summarize, &fmt, cfg, indent);
    } else if (t->ndim == 1) {
        strbuf_puts(out, indent);
        put_row(out, t->data, t->shape[0], 1, summarize, &fmt, utf8_width(indent));
        strbuf_puts(out, "\n");
    } else {
        /* the last two dimensions form matrices; any before them are blocks */
        size_t rows = t->shape[t->ndim - 2], cols = t->shape[t->ndim - 1];
        size_t n_blocks = t->size / (rows * cols);
        size_t idx[2 * PRINT_EDGE_ITEMS + 1];
        size_t gap_at = (size_t)-1;
        size_t shown = n_blocks;
        bool use_idx = summarize && t->ndim == 3 && n_blocks > 2 * PRINT_EDGE_ITEMS;
        if (use_idx)
            shown = shown_indices(n_blocks, true, idx, &gap_at);
        for (size_t k = 0; k < shown; k++) {
            size_t b = use_idx ? idx[k] : k;
            if (k == gap_at)
                strbuf_printf(out, "%s...\n", indent);
            if (t->ndim > 2) {
                char label[64];
                if (t->ndim == 3) {
                    dim_label(label, sizeof label, tt->dims[0], b, cfg);
                } else {
                    snprintf(label, sizeof label, "[%zu, %zu]", b / t->shape[1], b % t->shape[1]);
                }
                strbuf_printf(out, "%s%s:\n", indent, label);
            }
            char inner[64];
            snprintf(inner, sizeof inner, "%s%s", indent, t->ndim > 2 ? "  " : "");
            put_matrix(out, t->data + b * rows * cols, rows, cols, tt->dims[t->ndim - 2], tt->dims[t->ndim - 1],
                       summarize, &fmt, cfg, inner);
        }
    }
}

/* A changed trace's line of changes (experiment.h), "experiments: no-scale
 * zero-head=1"; nothing for an ordinary trace. */
static void put_text_experiments(StrBuf *out, const Config *cfg)
{
    char changes[EXPERIMENT_MAX * EXPERIMENT_SPEC_BYTES];
    experiment_describe(cfg->experiments, changes, sizeof changes);
    if (changes[0] != '\0')
        strbuf_printf(out, "experiments: %s\n", changes);
}

/* The configuration in one or two lines. */
static void put_config_text(StrBuf *out, const Config *cfg)
{
    if (cfg->sentence != NULL)
        strbuf_printf(out, "sentence: \"%s\"\n", cfg->sentence);
    strbuf_puts(out, "token ids:");
    for (size_t i = 0; i < cfg->n_tokens && i < 32; i++)
        strbuf_printf(out, " %ld", cfg->token_ids[i]);
    if (cfg->n_tokens > 32)
        strbuf_printf(out, " ... (%zu tokens)", cfg->n_tokens);
    if (cfg->model != NULL) {
        strbuf_printf(out,
                      "\nmodel %s, layer %zu (n_layer %zu), vocab_size %zu, d_model %zu, heads %zu (d_k %zu), "
                      "causal on\n",
                      cfg->model, cfg->layer, cfg->n_layer, cfg->vocab_size, cfg->d_model, cfg->heads, config_d_k(cfg));
        put_text_experiments(out, cfg);
        return;
    }
    strbuf_printf(out, "\nvocab_size %zu, d_model %zu, heads %zu (d_k %zu), seed %llu, focus token %zu, causal %s\n",
                  cfg->vocab_size, cfg->d_model, cfg->heads, config_d_k(cfg), (unsigned long long)cfg->seed, cfg->focus,
                  cfg->causal ? "on" : "off");
    put_text_experiments(out, cfg);
}

void print_lesson_text(StrBuf *out, const char *text)
{
    StrBuf paragraph = {0};
    const char *p = text;
    for (;;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        size_t lead = strspn(p, " \t");
        bool blank = lead >= len;
        bool bullet = !blank && len >= lead + 2 && p[lead] == '-' && p[lead + 1] == ' ';
        /* a blank line, a bullet or the end closes the paragraph so far */
        if ((blank || bullet || *p == '\0') && paragraph.len > 0) {
            bool was_bullet = strncmp(strbuf_text(&paragraph), "- ", 2) == 0;
            put_wrapped(out, strbuf_text(&paragraph) + (was_bullet ? 2 : 0), was_bullet ? "  - " : "  ",
                        PRINT_LINE_WIDTH - 2);
            strbuf_free(&paragraph);
            if (blank)
                strbuf_puts(out, "\n");
        }
        if (!blank) {
            if (paragraph.len > 0)
                strbuf_puts(&paragraph, " ");
            for (size_t i = lead; i < len; i++) {
                if (p[i] == '`' || (p[i] == '*' && i + 1 < len && p[i + 1] == '*')) {
                    i += p[i] == '*';
                    continue;
                }
                strbuf_append(&paragraph, p + i, 1);
            }
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    if (paragraph.len > 0) {
        bool was_bullet = strncmp(strbuf_text(&paragraph), "- ", 2) == 0;
        put_wrapped(out, strbuf_text(&paragraph) + (was_bullet ? 2 : 0), was_bullet ? "  - " : "  ",
                    PRINT_LINE_WIDTH - 2);
    }
    strbuf_free(&paragraph);
}

/* Appends text wrapped at PRINT_LINE_WIDTH columns between spaces, the
 * first line after first, the others after rest (a word longer than a
 * line stands alone on its line). */
static void put_hanging(StrBuf *out, const char *first, const char *rest, const char *text)
{
    size_t col = utf8_width(first);
    strbuf_puts(out, first);
    bool line_empty = true;
    for (const char *p = text; *p != '\0';) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        char word[TRACE_TORCH_BYTES];
        snprintf(word, sizeof word, "%.*s", (int)len, p);
        size_t w = utf8_width(word);
        if (!line_empty && col + 1 + w > PRINT_LINE_WIDTH) {
            strbuf_printf(out, "\n%s", rest);
            col = utf8_width(rest);
            line_empty = true;
        }
        if (!line_empty) {
            strbuf_puts(out, " ");
            col++;
        }
        strbuf_append(out, p, len);
        col += w;
        line_empty = false;
        p += len;
    }
    strbuf_puts(out, "\n");
}

/* The step's formula, indented 2: on one line when it fits in
 * PRINT_LINE_WIDTH, else the expression wrapped and its shapes (after the
 * formula's three-space gap) on the lines below, indented 6. Ends with a
 * blank line. */
static void put_formula(StrBuf *out, const char *formula)
{
    const char *gap = strstr(formula, "   ");
    if (utf8_width(formula) + 2 <= PRINT_LINE_WIDTH || gap == NULL) {
        if (utf8_width(formula) + 2 <= PRINT_LINE_WIDTH)
            strbuf_printf(out, "  %s\n", formula); /* one line, its gap kept */
        else
            put_hanging(out, "  ", "      ", formula);
    } else {
        char expression[sizeof((TraceStep *)0)->formula];
        snprintf(expression, sizeof expression, "%.*s", (int)(gap - formula), formula);
        put_hanging(out, "  ", "      ", expression);
        put_hanging(out, "      ", "      ", gap + 3);
    }
    strbuf_puts(out, "\n");
}

/* The step's PyTorch line: "  PyTorch: " and one statement a line (the
 * statements split at "; "), each wrapped within PRINT_LINE_WIDTH. Ends
 * with a blank line. */
static void put_torch(StrBuf *out, const char *torch)
{
    const char *p = torch;
    bool first = true;
    while (*p != '\0') {
        const char *end = strstr(p, "; ");
        size_t len = end != NULL ? (size_t)(end - p) + 1 : strlen(p);
        char statement[TRACE_TORCH_BYTES];
        snprintf(statement, sizeof statement, "%.*s", (int)len, p);
        put_hanging(out, first ? "  PyTorch: " : "           ", "               ", statement);
        first = false;
        p += len;
        while (*p == ' ')
            p++;
    }
    strbuf_puts(out, "\n");
}

/* One step: the rule with its number, title, formula, text and tensors;
 * own names the step's own trace of a model lesson ("tiny, layer 1"), or
 * is NULL. */
static void put_step_text(StrBuf *out, const Trace *trace, int index, int number, int count, const char *lesson_text,
                          const char *own_trace, const PrintOptions *opts)
{
    const TraceStep *step = &trace->steps[index];
    strbuf_puts(out, "\n");
    char rule[128];
    int n = snprintf(rule, sizeof rule, "== Step %d/%d: %s (%s) ", number, count, step->id,
                     trace_part_name(step->part));
    strbuf_puts(out, rule);
    if (n > 0 && n < PRINT_LINE_WIDTH)
        strbuf_repeat(out, '=', (size_t)(PRINT_LINE_WIDTH - n));
    const LessonStep *own = opts->lesson != NULL ? lesson_find_step(opts->lesson, step->id) : NULL;
    strbuf_printf(out, "\n%s\n\n", own != NULL && own->headline != NULL ? own->headline : step->title);
    if (own_trace != NULL)
        strbuf_printf(out, "  (this step traces %s: %s)\n\n", own_trace,
                      trace->config.sentence != NULL ? trace->config.sentence : "the lesson's token ids");
    put_formula(out, step->formula);
    EinsumAxes axes;
    if (explain_einsum_axes(trace, index, &axes)) { /* what each letter runs over, as the tracer says it */
        char letters[512];
        explain_letters_text(&axes, 0, letters, sizeof letters);
        put_hanging(out, "  ", "           ", letters);
        strbuf_puts(out, "\n");
    }
    if (step->torch[0] != '\0')
        put_torch(out, step->torch);
    if (lesson_text != NULL)
        print_lesson_text(out, lesson_text);
    else
        put_wrapped(out, step->explanation, "  ", PRINT_LINE_WIDTH - 2);
    put_bpe_words(out, trace, step);
    const LessonStep *ls = opts->lesson != NULL && opts->notes ? lesson_find_step(opts->lesson, step->id) : NULL;
    if (ls != NULL && ls->notes != NULL) {
        strbuf_puts(out, "\n  Presenter notes:\n");
        print_lesson_text(out, ls->notes);
    }
    for (int j = 0; j < step->n_tensors; j++) {
        const TraceTensor *tt = &step->tensors[j];
        char shape[64];
        strbuf_printf(out, "\n  %s %s%s\n", tt->name, tensor_shape_str(tt->tensor, shape, sizeof shape),
                      tt->is_output ? "" : "  (input)");
        print_tensor_text(out, tt, &trace->config, opts->precision, "    ");
    }
}

/* The lesson's questions with their answers, for the end of a handout. */
static void put_questions(StrBuf *out, const Trace *trace, const Lesson *lesson, const PrintOptions *opts)
{
    int only_step = opts->only_step;
    int number = 0;
    for (int k = 0; k < lesson->n_steps; k++) {
        const LessonStep *ls = &lesson->steps[k];
        if (only_step >= 0 && strcmp(trace->steps[only_step].id, ls->id) != 0)
            continue;
        for (int q = 0; q < ls->n_quizzes; q++) {
            const Quiz *quiz = &ls->quizzes[q];
            if (number == 0) {
                strbuf_puts(out, "\n== Questions ");
                strbuf_repeat(out, '=', PRINT_LINE_WIDTH - 13);
                strbuf_puts(out, "\n");
            }
            char answer[160], heading[256];
            quiz_answer_text(quiz, answer, sizeof answer);
            snprintf(heading, sizeof heading, "%d. (step %s)", ++number, ls->id);
            strbuf_printf(out, "\n  %s\n", heading);
            put_wrapped(out, quiz->question, "     ", PRINT_LINE_WIDTH - 5);
            for (int c = 0; c < quiz->n_choices; c++) {
                char label[8];
                quiz_choice_label(quiz, c, label, sizeof label);
                strbuf_printf(out, "       %s %s\n", label, quiz->choices[c]);
            }
            if (opts->no_answers) {
                strbuf_puts(out, "     Answer: ______________________\n");
                continue;
            }
            if (opts->notes && quiz->expr != NULL)
                strbuf_printf(out, "     Answer: %s   (read from the trace: =%s)\n", answer, quiz->expr);
            else
                strbuf_printf(out, "     Answer: %s\n", answer);
            if (quiz->explain != NULL)
                put_wrapped(out, quiz->explain, "     ", PRINT_LINE_WIDTH - 5);
        }
    }
}

void print_trace_text(StrBuf *out, const Trace *trace, const PrintOptions *opts)
{
    const Lesson *lesson = opts->lesson;
    if (lesson != NULL) {
        strbuf_printf(out, "%s\n", lesson->title);
        if (lesson->author != NULL && lesson->author[0] != '\0')
            strbuf_printf(out, "by %s\n", lesson->author);
        strbuf_puts(out, "an attn-trace lesson\n");
    } else {
        strbuf_puts(out, "attn-trace: attention, step by step\n");
    }
    put_config_text(out, &trace->config);
    if (lesson != NULL) {
        for (int k = 0; k < lesson->n_steps; k++) {
            const Trace *own = lesson_step_trace(lesson, k); /* a model lesson's step may trace its own */
            const Trace *shown = own != NULL ? own : trace;
            int index = trace_find_step(shown, lesson->steps[k].id, NULL);
            if (index < 0 ||
                (opts->only_step >= 0 && strcmp(trace->steps[opts->only_step].id, lesson->steps[k].id) != 0))
                continue;
            char label[160];
            lesson_trace_label(lesson, k, own, label, sizeof label);
            put_step_text(out, shown, index, k + 1, lesson->n_steps, lesson->steps[k].text, own != NULL ? label : NULL,
                          opts);
        }
        put_questions(out, trace, lesson, opts);
        return;
    }
    for (int i = 0; i < trace->n_steps && !out->failed; i++)
        if (opts->only_step < 0 || opts->only_step == i)
            put_step_text(out, trace, i, i + 1, trace->n_steps, NULL, NULL, opts);
}

/* ------------------------------------------------------------------------
 * JSON
 * ---------------------------------------------------------------------- */

/* Appends s as a JSON string literal. */
static void put_json_string(StrBuf *out, const char *s)
{
    strbuf_puts(out, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            strbuf_puts(out, "\\\"");
            break;
        case '\\':
            strbuf_puts(out, "\\\\");
            break;
        case '\n':
            strbuf_puts(out, "\\n");
            break;
        case '\t':
            strbuf_puts(out, "\\t");
            break;
        case '\r':
            strbuf_puts(out, "\\r");
            break;
        default:
            if (*p < 0x20)
                strbuf_printf(out, "\\u%04x", *p);
            else
                strbuf_append(out, (const char *)p, 1);
        }
    }
    strbuf_puts(out, "\"");
}

/* Bytes of JSON numbers gathered on the stack before they are appended to
 * the output in one block. */
#define JSON_BLOCK_BYTES 16384

/* Appends the n floats of v separated by ", ": each the shortest text that
 * reads back as the same float32 (floatfmt_shortest), infinities and NaN
 * as the strings "-inf", "inf", "nan". The text is gathered in blocks of
 * JSON_BLOCK_BYTES, so the buffer grows a block at a time. */
static void put_json_floats(StrBuf *out, const float *v, size_t n)
{
    char block[JSON_BLOCK_BYTES];
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        if (used > sizeof block - 2 * FLOATFMT_BUF) {
            strbuf_append(out, block, used);
            used = 0;
            if (out->failed)
                return; /* stdout is gone: stop formatting */
        }
        if (k > 0) {
            block[used++] = ',';
            block[used++] = ' ';
        }
        if (isfinite(v[k])) {
            used += (size_t)floatfmt_shortest(v[k], block + used);
        } else {
            block[used++] = '"';
            used += (size_t)floatfmt_shortest(v[k], block + used);
            block[used++] = '"';
        }
    }
    strbuf_append(out, block, used);
}

static void put_json_config(StrBuf *out, const Config *cfg)
{
    strbuf_puts(out, "  \"config\": {\n    \"sentence\": ");
    if (cfg->sentence != NULL)
        put_json_string(out, cfg->sentence);
    else
        strbuf_puts(out, "null");
    strbuf_puts(out, ",\n    \"tokens\": [");
    for (size_t i = 0; i < cfg->n_tokens; i++) {
        if (i > 0)
            strbuf_puts(out, ", ");
        put_json_string(out, cfg->tokens[i]);
    }
    strbuf_puts(out, "],\n    \"token_ids\": [");
    for (size_t i = 0; i < cfg->n_tokens; i++)
        strbuf_printf(out, "%s%ld", i > 0 ? ", " : "", cfg->token_ids[i]);
    strbuf_printf(out,
                  "],\n    \"vocab_size\": %zu,\n    \"d_model\": %zu,\n    \"heads\": %zu,\n    \"d_k\": %zu,\n"
                  "    \"seed\": %llu,\n    \"focus\": %zu,\n    \"causal\": %s",
                  cfg->vocab_size, cfg->d_model, cfg->heads, config_d_k(cfg), (unsigned long long)cfg->seed, cfg->focus,
                  cfg->causal ? "true" : "false");
    if (cfg->model != NULL) { /* a model trace only: the article's JSON is unchanged */
        strbuf_puts(out, ",\n    \"model\": ");
        put_json_string(out, cfg->model);
        strbuf_printf(out, ",\n    \"layer\": %zu,\n    \"n_layer\": %zu", cfg->layer, cfg->n_layer);
    }
    if (cfg->experiments != NULL && cfg->experiments->n > 0) { /* a changed trace only (experiment.h) */
        strbuf_puts(out, ",\n    \"experiments\": [");
        for (int i = 0; i < cfg->experiments->n; i++) {
            strbuf_puts(out, i > 0 ? ", " : "");
            put_json_string(out, cfg->experiments->items[i].spec);
        }
        strbuf_puts(out, "]");
    }
    strbuf_puts(out, "\n  },\n");
}

/* A model trace's most likely next tokens, most likely first: id, the
 * probability, and (when the checkpoint has a vocab.json) the bytes the
 * token stands for and their text as the screen shows it; else both null.
 * Nothing for an article trace. */
static void put_json_next_tokens(StrBuf *out, const Trace *trace)
{
    if (trace->n_next_tokens == 0)
        return;
    strbuf_puts(out, "  \"next_tokens\": [");
    for (int k = 0; k < trace->n_next_tokens; k++) {
        const TraceNextToken *nt = &trace->next_tokens[k];
        strbuf_printf(out, "%s\n    {\"id\": %ld, \"probability\": ", k > 0 ? "," : "", nt->id);
        put_json_floats(out, &nt->probability, 1);
        strbuf_puts(out, ", \"text\": ");
        if (nt->has_text)
            put_json_string(out, nt->text);
        else
            strbuf_puts(out, "null");
        strbuf_puts(out, ", \"bytes\": ");
        if (nt->has_text) {
            strbuf_puts(out, "[");
            for (size_t i = 0; i < nt->n_bytes; i++)
                strbuf_printf(out, "%s%u", i > 0 ? ", " : "", nt->bytes[i]);
            strbuf_puts(out, "]");
        } else {
            strbuf_puts(out, "null");
        }
        strbuf_puts(out, "}");
    }
    strbuf_puts(out, "\n  ],\n");
}

/* A model trace of a text: each word's merges replayed, as in --print
 * (one string a word, lines separated by newlines). Nothing otherwise. */
static void put_json_bpe_words(StrBuf *out, const Trace *trace)
{
    if (trace->n_bpe_words == 0)
        return;
    strbuf_puts(out, "  \"bpe_words\": [");
    for (size_t w = 0; w < trace->n_bpe_words; w++) {
        strbuf_puts(out, w > 0 ? ",\n    " : "\n    ");
        put_json_string(out, trace->bpe_words[w]);
    }
    strbuf_puts(out, "\n  ],\n");
}

void print_trace_json(StrBuf *out, const Trace *trace, const PrintOptions *opts)
{
    strbuf_puts(out, "{\n  \"format\": \"attn-trace/1\",\n");
    put_json_config(out, &trace->config);
    put_json_next_tokens(out, trace);
    put_json_bpe_words(out, trace);
    strbuf_puts(out, "  \"steps\": [");
    bool first_step = true;
    for (int i = 0; i < trace->n_steps && !out->failed; i++) {
        if (opts->only_step >= 0 && opts->only_step != i)
            continue;
        const TraceStep *step = &trace->steps[i];
        strbuf_puts(out, first_step ? "\n" : ",\n");
        first_step = false;
        strbuf_printf(out, "    {\n      \"index\": %d,\n      \"id\": ", i + 1);
        put_json_string(out, step->id);
        strbuf_puts(out, ",\n      \"part\": ");
        put_json_string(out, trace_part_name(step->part));
        strbuf_puts(out, ",\n      \"title\": ");
        put_json_string(out, step->title);
        strbuf_puts(out, ",\n      \"formula\": ");
        put_json_string(out, step->formula);
        strbuf_puts(out, ",\n      \"explanation\": ");
        put_json_string(out, step->explanation);
        strbuf_puts(out, ",\n      \"tensors\": [");
        for (int j = 0; j < step->n_tensors; j++) {
            const TraceTensor *tt = &step->tensors[j];
            const Tensor *t = tt->tensor;
            strbuf_puts(out, j > 0 ? ",\n" : "\n");
            strbuf_puts(out, "        {\"name\": ");
            put_json_string(out, tt->name);
            strbuf_puts(out, ", \"shape\": [");
            for (int d = 0; d < t->ndim; d++)
                strbuf_printf(out, "%s%zu", d > 0 ? ", " : "", t->shape[d]);
            strbuf_printf(out, "], \"role\": \"%s\", \"data\": [", tt->is_output ? "output" : "input");
            if (tt->is_integer)
                for (size_t k = 0; k < t->size && !out->failed; k++) /* failed: stdout is gone, stop */
                    strbuf_printf(out, "%s%.0f", k > 0 ? ", " : "", (double)t->data[k]);
            else
                put_json_floats(out, t->data, t->size);
            strbuf_puts(out, "]}");
        }
        strbuf_puts(out, "\n      ]\n    }");
    }
    strbuf_puts(out, "\n  ]\n}\n");
}
