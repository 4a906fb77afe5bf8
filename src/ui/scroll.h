/*
 * scroll.h - which rows of a list or text a window shows (no curses, no
 * drawing, no App).
 *
 * Every scrolled thing on screen is the same problem in one dimension: a
 * content of `count` rows (lines of an overlay, rows of a tensor panel,
 * steps of the step list) seen through a window of `window` rows whose
 * first row is `top`. These functions keep top and a selected row inside
 * the content and the selection inside the window, the way cmus's window
 * module does for its lists. They are pure: the caller keeps whatever
 * state it needs.
 */
#ifndef ATTN_SCROLL_H
#define ATTN_SCROLL_H

/* top clamped to the content: the largest first row that still fills the
 * window is count - window, and nothing goes above row 0. A window as tall
 * as the content or taller (or a content of nothing) gives 0. */
long scroll_clamp(long top, long count, long window);

/* A first row that keeps row `selected` (>= 0) in view: top (taken as 0
 * when negative) when it already shows it, else the nearest top that does
 * (selected on the window's first row when it lies above, on its last row
 * when below). A window of no rows shows nothing and gives 0. */
long scroll_follow(long top, long selected, long window);

/* Position pos moved by delta, kept on the content's rows 0..count-1 (0
 * when count is 0). */
long scroll_move(long pos, long delta, long count);

/* Rows that Page Up or Page Down moves through a window of `window` rows:
 * the window itself, and at least 1. */
long scroll_page(long window);

#endif
