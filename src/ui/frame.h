/*
 * frame.h - a screen in memory: a grid of cells, each a character and a
 * role.
 *
 * Screens are composed into a Frame by pure code (compose.c) and painted by
 * the one terminal backend (tui.c), which maps roles to colours and
 * attributes. A Frame can also be written out as plain text, which is what
 * --dump-screen and the golden screen tests use. No curses here.
 */
#ifndef ATTN_FRAME_H
#define ATTN_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* What a cell is, for the backend to choose its look. */
typedef enum Role {
    ROLE_TEXT,           /* plain text */
    ROLE_DIM,            /* secondary text: hints, shapes */
    ROLE_STRONG,         /* emphasis inside text */
    ROLE_CODE,           /* `code` inside text */
    ROLE_HEADER,         /* the top bar */
    ROLE_FOOTER,         /* the bottom bar */
    ROLE_FOOTER_KEY,     /* a key name in the footer */
    ROLE_TITLE,          /* the step title */
    ROLE_FORMULA,        /* the step formula */
    ROLE_BORDER,         /* panel frames */
    ROLE_PANEL_TITLE,    /* a tensor's name in its panel frame */
    ROLE_PANEL_FOCUS,    /* the frame of the panel that has the cursor */
    ROLE_LABEL,          /* row and column labels (token words, indices) */
    ROLE_VALUE,          /* a tensor value; its heat says how large */
    ROLE_CURSOR,         /* the selected value */
    ROLE_SOURCE,         /* a value the selected one is computed from */
    ROLE_OVERLAY,        /* text of an overlay (help, step list, inspector) */
    ROLE_OVERLAY_SELECT, /* the selected line of an overlay list */
    ROLE_LETTER,         /* an einsum letter; its letter index picks the colour */
    ROLE_WARNING,        /* "terminal too small" and the like */
    ROLE_CHANGED,        /* a value that differs from the other trace's (x: experiments), and its mark */
    ROLE_COUNT
} Role;

/* Heat of a value: -FRAME_HEAT_LEVELS (most negative) .. +FRAME_HEAT_LEVELS. */
#define FRAME_HEAT_LEVELS 4

typedef struct Cell {
    uint32_t ch;    /* Unicode code point; 0 marks the right half of a wide character */
    uint8_t role;   /* a Role */
    int8_t heat;    /* for ROLE_VALUE/CURSOR/SOURCE: -FRAME_HEAT_LEVELS..FRAME_HEAT_LEVELS */
    uint8_t letter; /* for ROLE_LETTER: which letter colour, 0.. */
} Cell;

typedef struct Frame {
    int rows, cols; /* size in cells */
    Cell *cells;    /* rows * cols, row-major; owned */
    int cursor_row; /* where the terminal cursor should rest, or -1 */
    int cursor_col;
    bool ascii; /* frame_put writes only ASCII (see frame_put) */
} Frame;

/* Makes frame rows x cols (each at least 1) of blank text cells. Returns
 * false when out of memory. Release with frame_free. */
bool frame_init(Frame *frame, int rows, int cols);

/* Releases the cells. NULL is a no-op. */
void frame_free(Frame *frame);

/* Blanks every cell. */
void frame_clear(Frame *frame);

/* The cell at (row, col), or NULL outside the frame. */
Cell *frame_at(Frame *frame, int row, int col);

/* Writes UTF-8 text at (row, col) in role, clipped to max_cols columns and
 * to the frame's right edge. Control characters, invalid bytes and
 * combining marks are written as '?', so nothing from the data can reach
 * the terminal as a control sequence; a wide character takes two cells,
 * the second with ch 0. In an ascii frame, the symbols our texts use are
 * spelled in ASCII ("·" as ".", "ᵀ" as "^T", "→" as "->", "√" as "sqrt",
 * "Σ" as "sum") and any other non-ASCII character becomes '?'. Returns the
 * number of columns written. */
int frame_put(Frame *frame, int row, int col, const char *text, Role role, int max_cols);

/* Appends text to out with the ASCII spellings frame_put uses in an ascii
 * frame. */
void ascii_transliterate(const char *text, StrBuf *out);

/* As frame_put for printf-style text (at most 512 bytes). */
int frame_printf(Frame *frame, int row, int col, Role role, int max_cols, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Fills a rectangle with ch in role. */
void frame_fill(Frame *frame, int row, int col, int rows, int cols, uint32_t ch, Role role);

/* Sets the role of the cells of a rectangle, keeping their characters. */
void frame_set_role(Frame *frame, int row, int col, int rows, int cols, Role role);

/* Line-drawing characters: UTF-8 box drawing or plain ASCII. */
typedef struct BoxChars {
    uint32_t horizontal, vertical, top_left, top_right, bottom_left, bottom_right, ellipsis;
} BoxChars;

/* The box characters for ascii (true: + - | and "...") or Unicode. */
const BoxChars *frame_box_chars(bool ascii);

/* Draws a box outline in role. */
void frame_box(Frame *frame, int row, int col, int rows, int cols, const BoxChars *box, Role role);

/* Lays out text with a lesson's markup into rows x width at (top, col),
 * from its line `skip` on: paragraphs split by blank lines, "- " bullets,
 * **bold** (ROLE_STRONG) and `code` (ROLE_CODE); ascii draws bullets as
 * "*". Returns the number of lines the whole text takes; lines outside the
 * box are not drawn. frame is drawn into (to measure only, use
 * frame_markup_lines). */
int frame_markup(Frame *frame, int top, int col, int rows, int width, const char *text, int skip, bool ascii);

/* The number of lines frame_markup lays text out in at `width` columns
 * (ascii as there), drawing nothing: the same line breaks, without a
 * frame. */
int frame_markup_lines(const char *text, int width, bool ascii);

/* The frame as plain text: one line per row, trailing spaces trimmed,
 * appended to out. */
void frame_to_text(const Frame *frame, StrBuf *out);

#endif
