/*
 * linemode.c - the plain-line interactive mode (see linemode.h).
 */
#include "linemode.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "print.h"
#include "strbuf.h"

/* A command line longer than this is cut. */
#define LINE_MODE_INPUT_BYTES 512
/* The width the inspector's arithmetic is wrapped at. */
#define LINE_MODE_WIDTH 80

static const char LINE_MODE_HELP[] =
    "Commands (one a line):\n"
    "  next, n            the next step\n"
    "  back, b            the previous step\n"
    "  step ID|N          the step with that id or number (1-based)\n"
    "  again              this step once more\n"
    "  show TENSOR        every value of a tensor of this step, with its row and column labels\n"
    "  row N              row N (0-based) of the step's main tensor, one value a line\n"
    "  explain TENSOR[i]  the arithmetic behind one value, indices 0-based: explain a1[2], explain scores[0][1]\n"
    "  help               this list\n"
    "  quit, q            leave\n";

/* Describes step i: its number, id, title, formula, PyTorch line,
 * explanation and the tensors it shows. */
static void say_step(StrBuf *out, const Trace *trace, int i)
{
    const TraceStep *step = &trace->steps[i];
    strbuf_printf(out, "Step %d of %d: %s (%s). %s.\n", i + 1, trace->n_steps, step->id, trace_part_name(step->part),
                  step->title);
    strbuf_printf(out, "Formula: %s\n", step->formula);
    if (step->torch[0] != '\0')
        strbuf_printf(out, "PyTorch: %s\n", step->torch);
    strbuf_printf(out, "%s\n", step->explanation);
    strbuf_puts(out, "Tensors:");
    for (int j = 0; j < step->n_tensors; j++) {
        char shape[64];
        const TraceTensor *tt = &step->tensors[j];
        strbuf_printf(out, "%s %s %s%s%s", j > 0 ? "," : "", tt->name,
                      tensor_shape_str(tt->tensor, shape, sizeof shape), tt->is_output ? "" : " (input)",
                      j == step->main_tensor ? " (main)" : "");
    }
    strbuf_puts(out, ".\n");
}

/* The index of the tensor named name in step i, or -1. */
static int find_tensor(const Trace *trace, int i, const char *name, size_t len)
{
    const TraceStep *step = &trace->steps[i];
    for (int j = 0; j < step->n_tensors; j++)
        if (strlen(step->tensors[j].name) == len && strncmp(step->tensors[j].name, name, len) == 0)
            return j;
    return -1;
}

/* row N: row N of the main tensor's last two dimensions (every head's
 * for a 3-D tensor; a 1-D tensor is its own row), one value a line
 * labelled as the inspector labels it. */
static void say_row(StrBuf *out, const Trace *trace, int i, const char *arg, int precision)
{
    const TraceStep *step = &trace->steps[i];
    const TraceTensor *tt = &step->tensors[step->main_tensor];
    const Tensor *t = tt->tensor;
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
            strbuf_printf(out, "%s = %.*f\n", name, precision, (double)t->data[offset]);
        }
}

/* explain NAME[i][j]...: the offset of the indices in text (after the
 * name) into *offset; false when they are not the tensor's. */
static bool parse_indices(const Tensor *t, const char *text, size_t *offset)
{
    size_t at = 0;
    int dim = 0;
    while (*text == '[') {
        char *end;
        errno = 0;
        long v = strtol(text + 1, &end, 10);
        if (end == text + 1 || *end != ']' || errno != 0 || v < 0 || dim >= t->ndim || (size_t)v >= t->shape[dim])
            return false;
        at = at * t->shape[dim++] + (size_t)v;
        text = end + 1;
    }
    *offset = at;
    return *text == '\0' && dim == t->ndim;
}

/* show NAME and explain NAME[...]: a tensor of the step, all of it or the
 * arithmetic behind one value. */
static void say_tensor(StrBuf *out, const Trace *trace, int i, const char *arg, bool explain, int precision)
{
    size_t len = strcspn(arg, "[");
    int j = find_tensor(trace, i, arg, len);
    if (j < 0) {
        strbuf_printf(out, "%s: no tensor '%.*s' in this step; its tensors are listed by 'again'\n",
                      explain ? "explain" : "show", (int)(len > 60 ? 60 : len), arg);
        return;
    }
    const TraceTensor *tt = &trace->steps[i].tensors[j];
    if (!explain) {
        print_tensor_text(out, tt, &trace->config, precision, "  ");
        return;
    }
    size_t offset;
    if (!parse_indices(tt->tensor, arg + len, &offset)) {
        char shape[64];
        strbuf_printf(out, "explain: give one 0-based index per dimension of %s %s, as %s[0]%s\n", tt->name,
                      tensor_shape_str(tt->tensor, shape, sizeof shape), tt->name, tt->tensor->ndim > 1 ? "[1]" : "");
        return;
    }
    explain_cell(trace, i, j, offset, precision, NULL, LINE_MODE_WIDTH, out);
}

/* Runs one command (line, trimmed) on *step; false for quit. */
static bool run_command(StrBuf *out, const Trace *trace, int *step, char *line, int precision)
{
    char *arg = line + strcspn(line, " \t");
    if (*arg != '\0')
        *arg++ = '\0';
    arg += strspn(arg, " \t");
    if (strcmp(line, "quit") == 0 || strcmp(line, "q") == 0)
        return false;
    if (strcmp(line, "next") == 0 || strcmp(line, "n") == 0 || strcmp(line, "back") == 0 || strcmp(line, "b") == 0) {
        int to = *step + (line[0] == 'n' ? 1 : -1);
        if (to < 0 || to >= trace->n_steps)
            strbuf_printf(out, "This is the %s step.\n", to < 0 ? "first" : "last");
        else
            say_step(out, trace, *step = to);
    } else if (strcmp(line, "step") == 0) {
        Error err;
        error_clear(&err);
        int to = trace_find_step(trace, arg, &err);
        if (to < 0)
            strbuf_printf(out, "step: %s\n", err.message);
        else
            say_step(out, trace, *step = to);
    } else if (strcmp(line, "again") == 0) {
        say_step(out, trace, *step);
    } else if (strcmp(line, "show") == 0 || strcmp(line, "explain") == 0) {
        say_tensor(out, trace, *step, arg, line[0] == 'e', precision);
    } else if (strcmp(line, "row") == 0) {
        say_row(out, trace, *step, arg, precision);
    } else if (strcmp(line, "help") == 0 || strcmp(line, "?") == 0) {
        strbuf_puts(out, LINE_MODE_HELP);
    } else if (line[0] != '\0') {
        strbuf_printf(out, "Unknown command '%.40s'. Type help for the list.\n", line);
    }
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

bool line_mode_run(const Trace *trace, int first_step, int precision, bool echo, FILE *in, FILE *out, Error *err)
{
    int step = first_step >= 0 && first_step < trace->n_steps ? first_step : 0;
    StrBuf text = {0};
    text.sink = out;
    strbuf_printf(&text, "attn-trace, line mode: %d steps. Type help for the commands.\n", trace->n_steps);
    say_step(&text, trace, step);
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
        going = run_command(&text, trace, &step, line, precision);
    }
    bool ok = strbuf_flush(&text) && fflush(out) == 0 && !text.failed;
    strbuf_free(&text);
    if (!ok)
        return error_set(err, STATUS_FAILURE, "cannot write the output: %s", errno != 0 ? strerror(errno) : "error");
    return true;
}
