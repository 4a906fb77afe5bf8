/*
 * scroll.c - top row, selected row and paging over a window (see
 * scroll.h).
 */
#include "scroll.h"

long scroll_clamp(long top, long count, long window)
{
    long last = count - window; /* the largest top that still fills the window */
    if (top > last)
        top = last;
    return top > 0 ? top : 0;
}

long scroll_follow(long top, long selected, long window)
{
    if (window <= 0)
        return 0;
    if (top < 0)
        top = 0;
    if (selected < top)
        top = selected;
    else if (selected >= top + window)
        top = selected - window + 1;
    return top > 0 ? top : 0;
}

long scroll_move(long pos, long delta, long count)
{
    long to = pos + delta;
    if (to > count - 1)
        to = count - 1;
    return to > 0 ? to : 0;
}

long scroll_page(long window)
{
    return window > 1 ? window : 1;
}
