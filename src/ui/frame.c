/*
 * frame.c - the in-memory screen (see frame.h).
 */
#include "frame.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool frame_init(Frame *frame, int rows, int cols)
{
    memset(frame, 0, sizeof *frame);
    if (rows < 1)
        rows = 1;
    if (cols < 1)
        cols = 1;
    frame->cells = malloc((size_t)rows * (size_t)cols * sizeof *frame->cells);
    if (frame->cells == NULL)
        return false;
    frame->rows = rows;
    frame->cols = cols;
    frame->ascii = false;
    frame_clear(frame);
    return true;
}

void frame_free(Frame *frame)
{
    if (frame == NULL)
        return;
    free(frame->cells);
    memset(frame, 0, sizeof *frame);
}

void frame_clear(Frame *frame)
{
    for (int i = 0; i < frame->rows * frame->cols; i++)
        frame->cells[i] = (Cell){' ', ROLE_TEXT, 0, 0};
    frame->cursor_row = -1;
    frame->cursor_col = -1;
}

Cell *frame_at(Frame *frame, int row, int col)
{
    if (row < 0 || col < 0 || row >= frame->rows || col >= frame->cols)
        return NULL;
    return &frame->cells[row * frame->cols + col];
}

/* What a "√" applies to, spelt out in ASCII as sqrt(...): a number or a name. */
#define SQRT_OPERAND "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"

/* ASCII spellings of the symbols attn-trace's own texts use. */
static const struct {
    uint32_t cp;
    const char *ascii;
} ASCII_SPELLINGS[] = {
    {0x00b7, "."}, {0x00d7, "x"},    {0x1d40, "^T"},  {0x2192, "->"},  {0x2190, "<-"},  {0x2191, "^"},
    {0x2193, "v"}, {0x221a, "sqrt"}, {0x03a3, "sum"}, {0x2211, "sum"}, {0x2026, "..."}, {0x2212, "-"},
    {0x25b6, ">"}, {0x2500, "-"},    {0x2502, "|"},   {0x256d, "+"},   {0x256e, "+"},   {0x2570, "+"},
    {0x256f, "+"}, {0x2264, "<="},   {0x2265, ">="},  {0x2219, "."},   {0x2022, "o"},   {0x25cf, "@"},
    {0x2248, "~"}, {0x2260, "!="},   {0x00f7, "/"},   {0x0394, "*"}, /* the mark of a changed value (x) */
};

/* The ASCII spelling of cp in an ascii frame, or NULL to write it as is. */
static const char *ascii_spelling(uint32_t cp)
{
    if (cp < 0x80)
        return NULL;
    for (size_t i = 0; i < sizeof ASCII_SPELLINGS / sizeof ASCII_SPELLINGS[0]; i++)
        if (ASCII_SPELLINGS[i].cp == cp)
            return ASCII_SPELLINGS[i].ascii;
    return "?";
}

void ascii_transliterate(const char *text, StrBuf *out)
{
    const char *p = text;
    while (*p != '\0') {
        uint32_t cp;
        int len = utf8_decode(p, &cp);
        if (len == 0) {
            strbuf_puts(out, "?");
            p++;
            continue;
        }
        const char *spelling = ascii_spelling(cp);
        if (spelling == NULL) {
            strbuf_append(out, p, (size_t)len);
        } else if (cp == 0x221a && strspn(p + len, SQRT_OPERAND) > 0) {
            /* "√16" reads as "sqrt(16)", "√d_k" as "sqrt(d_k)" */
            size_t digits = strspn(p + len, SQRT_OPERAND);
            strbuf_printf(out, "sqrt(%.*s)", (int)digits, p + len);
            len += (int)digits;
        } else {
            strbuf_puts(out, spelling);
        }
        p += len;
    }
}

int frame_put(Frame *frame, int row, int col, const char *text, Role role, int max_cols)
{
    StrBuf ascii = {0};
    if (frame->ascii) {
        ascii_transliterate(text, &ascii);
        text = strbuf_text(&ascii);
    }
    int written = 0;
    const char *p = text;
    while (*p != '\0' && written < max_cols) {
        uint32_t cp;
        int len = utf8_decode(p, &cp);
        if (len == 0) {
            len = 1;
            cp = '?';
        }
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
            cp = '?';
        int width = codepoint_width(cp);
        if (width == 0) /* a combining mark would merge into its neighbour's cell */
            cp = '?', width = 1;
        if (written + width > max_cols || col + written + width > frame->cols)
            break;
        Cell *cell = frame_at(frame, row, col + written);
        if (cell == NULL)
            break;
        *cell = (Cell){cp, (uint8_t)role, 0, 0};
        if (width == 2) /* the right half of a wide character */
            *frame_at(frame, row, col + written + 1) = (Cell){0, (uint8_t)role, 0, 0};
        written += width;
        p += len;
    }
    strbuf_free(&ascii);
    return written;
}

int frame_printf(Frame *frame, int row, int col, Role role, int max_cols, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return frame_put(frame, row, col, buf, role, max_cols);
}

void frame_fill(Frame *frame, int row, int col, int rows, int cols, uint32_t ch, Role role)
{
    for (int r = row; r < row + rows; r++)
        for (int c = col; c < col + cols; c++) {
            Cell *cell = frame_at(frame, r, c);
            if (cell != NULL)
                *cell = (Cell){ch, (uint8_t)role, 0, 0};
        }
}

void frame_set_role(Frame *frame, int row, int col, int rows, int cols, Role role)
{
    for (int r = row; r < row + rows; r++)
        for (int c = col; c < col + cols; c++) {
            Cell *cell = frame_at(frame, r, c);
            if (cell != NULL)
                cell->role = (uint8_t)role;
        }
}

const BoxChars *frame_box_chars(bool ascii)
{
    static const BoxChars ascii_box = {'-', '|', '+', '+', '+', '+', '~'};
    static const BoxChars unicode_box = {0x2500, 0x2502, 0x256d, 0x256e, 0x2570, 0x256f, 0x2026};
    return ascii ? &ascii_box : &unicode_box;
}

void frame_box(Frame *frame, int row, int col, int rows, int cols, const BoxChars *box, Role role)
{
    if (rows < 2 || cols < 2)
        return;
    frame_fill(frame, row, col + 1, 1, cols - 2, box->horizontal, role);
    frame_fill(frame, row + rows - 1, col + 1, 1, cols - 2, box->horizontal, role);
    frame_fill(frame, row + 1, col, rows - 2, 1, box->vertical, role);
    frame_fill(frame, row + 1, col + cols - 1, rows - 2, 1, box->vertical, role);
    frame_fill(frame, row, col, 1, 1, box->top_left, role);
    frame_fill(frame, row, col + cols - 1, 1, 1, box->top_right, role);
    frame_fill(frame, row + rows - 1, col, 1, 1, box->bottom_left, role);
    frame_fill(frame, row + rows - 1, col + cols - 1, 1, 1, box->bottom_right, role);
}

void frame_to_text(const Frame *frame, StrBuf *out)
{
    for (int r = 0; r < frame->rows; r++) {
        int last = frame->cols - 1;
        while (last >= 0 && frame->cells[r * frame->cols + last].ch == ' ')
            last--;
        for (int c = 0; c <= last; c++) {
            if (frame->cells[r * frame->cols + c].ch == 0)
                continue; /* the right half of a wide character */
            char buf[8];
            utf8_encode(frame->cells[r * frame->cols + c].ch, buf);
            strbuf_puts(out, buf);
        }
        strbuf_puts(out, "\n");
    }
}

/* Lays out lesson text with its markup (see frame_markup in frame.h): the
 * one layout that both drawing and measuring follow, so the two cannot
 * disagree on where a line breaks. With frame NULL it only counts. */
static int markup_layout(Frame *frame, int top, int col, int rows, int width, const char *text, int skip, bool ascii)
{
    int line = 0, x = 0, indent = 0;
    bool bold = false, code = false, at_paragraph_start = true, pending_space = false;
    const char *p = text;
    while (*p != '\0') {
        /* a new source line: a blank one ends the paragraph, "- " starts a bullet */
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        size_t lead = strspn(p, " \t");
        if (lead == len) { /* blank */
            if (!at_paragraph_start) {
                line += 2; /* finish the line, then one empty line */
                x = 0, indent = 0, at_paragraph_start = true, pending_space = false;
            }
            p = eol != NULL ? eol + 1 : p + len;
            continue;
        }
        if (len >= lead + 2 && p[lead] == '-' && p[lead + 1] == ' ') {
            if (!at_paragraph_start)
                line++;
            x = 0;
            if (frame != NULL && line >= skip && line - skip < rows)
                frame_put(frame, top + line - skip, col, ascii ? "* " : "• ", ROLE_TEXT, width);
            x = indent = 2;
            pending_space = false;
            lead += 2;
        }
        at_paragraph_start = false;
        /* the words of this source line, with their markup */
        const char *q = p + lead, *end = p + len;
        while (q < end) {
            if (*q == ' ') {
                pending_space = true;
                q++;
                continue;
            }
            if (q + 1 < end && q[0] == '*' && q[1] == '*') {
                bold = !bold;
                q += 2;
                continue;
            }
            if (*q == '`') {
                code = !code;
                q++;
                continue;
            }
            /* a word piece: up to a space or a markup character */
            const char *w = q;
            while (q < end && *q != ' ' && *q != '`' && !(q + 1 < end && q[0] == '*' && q[1] == '*'))
                q++;
            char word[256];
            size_t n = (size_t)(q - w) < sizeof word - 1 ? (size_t)(q - w) : sizeof word - 1;
            memcpy(word, w, n);
            word[n] = '\0';
            int wlen = (int)utf8_width(word);
            if (pending_space && x > indent) {
                if (x + 1 + wlen > width) {
                    line++;
                    x = indent;
                } else {
                    x++;
                }
            }
            pending_space = false;
            Role role = code ? ROLE_CODE : bold ? ROLE_STRONG : ROLE_TEXT;
            if (frame != NULL && line >= skip && line - skip < rows)
                x += frame_put(frame, top + line - skip, col + x, word, role, width - x);
            else
                x += wlen;
        }
        pending_space = true; /* a line break inside a paragraph is a space */
        p = eol != NULL ? eol + 1 : end;
    }
    return at_paragraph_start && line > 0 ? line - 1 : line + 1;
}

int frame_markup(Frame *frame, int top, int col, int rows, int width, const char *text, int skip, bool ascii)
{
    return markup_layout(frame, top, col, rows, width, text, skip, ascii);
}

int frame_markup_lines(const char *text, int width, bool ascii)
{
    return markup_layout(NULL, 0, 0, 0, width, text, 0, ascii);
}
