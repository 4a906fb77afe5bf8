/*
 * check_scroll.c - the scroll module (src/ui/scroll.c): clamping a top
 * row, keeping a selected row in view, moving within a content, paging.
 *
 * Each function is checked two ways: a table of cases worked out by hand
 * (each row says what it shows), and, over every small combination, a
 * brute-force reference that searches all candidate answers for the one
 * the contract in scroll.h describes, with no arithmetic shared with the
 * code under test.
 */
#include <stdbool.h>

#include "scroll.h"
#include "suites.h"

/* ------------------------------------------------------------------------
 * Hand-worked tables
 * ---------------------------------------------------------------------- */

typedef struct Case3 {
    long a, b, c; /* the three arguments, in the function's order */
    long want;
    const char *what;
} Case3;

static const Case3 CLAMP_CASES[] = {
    /* top, count, window */
    {0, 10, 4, 0, "already at the top"},
    {3, 10, 4, 3, "inside: kept"},
    {6, 10, 4, 6, "the last top that fills the window"},
    {7, 10, 4, 6, "one past the end comes back"},
    {100, 10, 4, 6, "far past the end comes back to the last full window"},
    {-3, 10, 4, 0, "above the content goes to 0"},
    {5, 4, 10, 0, "a window taller than the content shows it from 0"},
    {5, 10, 10, 0, "a window exactly as tall as the content"},
    {2, 0, 4, 0, "no content"},
    {9, 10, 0, 9, "no window: every top up to the end is a full (empty) window"},
    {12, 10, -2, 12, "a negative window (an overlay box squeezed to nothing) allows past the end"},
};

static const Case3 FOLLOW_CASES[] = {
    /* top, selected, window */
    {0, 0, 5, 0, "selected at the top of the window"},
    {0, 4, 5, 0, "selected on the last row in view"},
    {0, 5, 5, 1, "one below: the window moves down one"},
    {0, 12, 5, 8, "far below: selected on the window's last row"},
    {8, 3, 5, 3, "above: selected on the window's first row"},
    {8, 10, 5, 8, "in view: nothing moves"},
    {0, 7, 1, 7, "a one-row window shows just the selection"},
    {4, 7, 0, 0, "no window shows nothing and gives 0"},
    {3, 9, -1, 0, "a negative window as no window"},
    {-2, 1, 5, 0, "a negative top comes to 0 when the selection is in view"},
};

static const Case3 MOVE_CASES[] = {
    /* pos, delta, count */
    {3, 1, 10, 4, "one down"},
    {3, -1, 10, 2, "one up"},
    {9, 1, 10, 9, "down at the last row stays"},
    {0, -1, 10, 0, "up at the first row stays"},
    {2, 20, 10, 9, "a page past the end stops at the last row"},
    {7, -20, 10, 0, "a page past the start stops at row 0"},
    {0, 5, 0, 0, "no content: 0"},
    {0, 3, 1, 0, "one row: always 0"},
};

START_TEST(test_clamp_table)
{
    for (size_t i = 0; i < sizeof CLAMP_CASES / sizeof CLAMP_CASES[0]; i++) {
        const Case3 *c = &CLAMP_CASES[i];
        long got = scroll_clamp(c->a, c->b, c->c);
        ck_assert_msg(got == c->want, "scroll_clamp(%ld, %ld, %ld) (%s): expected %ld, got %ld", c->a, c->b, c->c,
                      c->what, c->want, got);
    }
}
END_TEST

START_TEST(test_follow_table)
{
    for (size_t i = 0; i < sizeof FOLLOW_CASES / sizeof FOLLOW_CASES[0]; i++) {
        const Case3 *c = &FOLLOW_CASES[i];
        long got = scroll_follow(c->a, c->b, c->c);
        ck_assert_msg(got == c->want, "scroll_follow(%ld, %ld, %ld) (%s): expected %ld, got %ld", c->a, c->b, c->c,
                      c->what, c->want, got);
    }
}
END_TEST

START_TEST(test_move_table)
{
    for (size_t i = 0; i < sizeof MOVE_CASES / sizeof MOVE_CASES[0]; i++) {
        const Case3 *c = &MOVE_CASES[i];
        long got = scroll_move(c->a, c->b, c->c);
        ck_assert_msg(got == c->want, "scroll_move(%ld, %ld, %ld) (%s): expected %ld, got %ld", c->a, c->b, c->c,
                      c->what, c->want, got);
    }
}
END_TEST

START_TEST(test_page_table)
{
    static const struct {
        long window, want;
    } CASES[] = {{20, 20}, {2, 2}, {1, 1}, {0, 1}, {-5, 1}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        ck_assert_msg(scroll_page(CASES[i].window) == CASES[i].want, "scroll_page(%ld): expected %ld, got %ld",
                      CASES[i].window, CASES[i].want, scroll_page(CASES[i].window));
}
END_TEST

/* ------------------------------------------------------------------------
 * Brute-force references over every small case
 * ---------------------------------------------------------------------- */

#define SPAN 14 /* contents, windows, tops and selections range over -2..SPAN */

/* Of the tops 0..count that fill a window (a top t is allowed when t == 0
 * or t + window <= count), the one nearest to top. */
static long ref_clamp(long top, long count, long window)
{
    long best = 0;
    for (long t = 0; t <= count + (window < 0 ? -window : 0); t++) {
        bool allowed = t == 0 || t + window <= count;
        if (allowed && (t <= top ? top - t : t - top) < (best <= top ? top - best : best - top))
            best = t;
    }
    return best;
}

/* The top nearest to top (never below 0) whose window holds selected; 0
 * for a window of no rows. */
static long ref_follow(long top, long selected, long window)
{
    if (window <= 0)
        return 0;
    long best = -1;
    for (long t = 0; t <= selected + SPAN; t++) {
        bool shows = t <= selected && selected < t + window;
        long from = top > 0 ? top : 0;
        if (shows && (best < 0 || (t <= from ? from - t : t - from) < (best <= from ? from - best : best - from)))
            best = t;
    }
    return best < 0 ? 0 : best;
}

START_TEST(test_clamp_against_reference)
{
    for (long top = -2; top <= SPAN; top++)
        for (long count = 0; count <= SPAN; count++)
            for (long window = 0; window <= SPAN; window++) {
                long want = ref_clamp(top, count, window), got = scroll_clamp(top, count, window);
                ck_assert_msg(got == want, "scroll_clamp(%ld, %ld, %ld): the reference says %ld, got %ld", top, count,
                              window, want, got);
            }
}
END_TEST

START_TEST(test_follow_against_reference)
{
    for (long top = -2; top <= SPAN; top++)
        for (long selected = 0; selected <= SPAN; selected++)
            for (long window = -1; window <= SPAN; window++) {
                long want = ref_follow(top, selected, window), got = scroll_follow(top, selected, window);
                ck_assert_msg(got == want, "scroll_follow(%ld, %ld, %ld): the reference says %ld, got %ld", top,
                              selected, window, want, got);
                if (window > 0)
                    ck_assert_msg(got <= selected && selected < got + window,
                                  "scroll_follow(%ld, %ld, %ld) = %ld leaves the selection out of view", top, selected,
                                  window, got);
            }
}
END_TEST

START_TEST(test_move_against_reference)
{
    for (long count = 0; count <= SPAN; count++)
        for (long pos = 0; pos < (count > 0 ? count : 1); pos++)
            for (long delta = -SPAN; delta <= SPAN; delta++) {
                /* walk one row at a time, stopping at the ends */
                long want = pos;
                for (long k = 0; k < (delta < 0 ? -delta : delta); k++) {
                    long next = want + (delta < 0 ? -1 : 1);
                    if (next >= 0 && next < count)
                        want = next;
                }
                long got = scroll_move(pos, delta, count);
                ck_assert_msg(got == want, "scroll_move(%ld, %ld, %ld): expected %ld, got %ld", pos, delta, count, want,
                              got);
            }
}
END_TEST

/* Paging the selection through a list with a window that follows it, as
 * the panels and the step list do: every row is reached, the selection
 * always stays in view, and a page down then up comes back. */
START_TEST(test_paging_keeps_the_selection_in_view)
{
    for (long count = 1; count <= 40; count += 3)
        for (long window = 1; window <= 12; window++) {
            long selected = 0, top = 0, page = scroll_page(window);
            for (int k = 0; k < 60; k++) {
                long before = selected;
                selected = scroll_move(selected, page, count);
                top = scroll_follow(top, selected, window);
                ck_assert(top <= selected && selected < top + window);
                ck_assert(top == scroll_clamp(top, count, window));
                if (before + page < count)
                    ck_assert_msg(scroll_move(selected, -page, count) == before,
                                  "count %ld window %ld: page up after page down from %ld", count, window, before);
            }
            ck_assert_msg(selected == count - 1, "count %ld window %ld: paging down stops at %ld", count, window,
                          selected);
        }
}
END_TEST

Suite *scroll_suite(void)
{
    Suite *s = suite_create("scroll");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, test_clamp_table);
    tcase_add_test(tc, test_follow_table);
    tcase_add_test(tc, test_move_table);
    tcase_add_test(tc, test_page_table);
    suite_add_tcase(s, tc);
    tc = tcase_create("reference");
    tcase_add_test(tc, test_clamp_against_reference);
    tcase_add_test(tc, test_follow_against_reference);
    tcase_add_test(tc, test_move_against_reference);
    tcase_add_test(tc, test_paging_keeps_the_selection_in_view);
    suite_add_tcase(s, tc);
    return s;
}
