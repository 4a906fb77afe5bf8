/*
 * floatfmt.h - the shortest text of a float32 that reads back as itself.
 *
 * For --json and the cell inspector: each value written with the fewest
 * significant digits (at most 9) from which strtof gives back the same
 * float32, without printf and without reading it back (floatfmt.c says
 * how), laid out as printf's %g would lay those digits out.
 */
#ifndef ATTN_FLOATFMT_H
#define ATTN_FLOATFMT_H

#include <stdbool.h>

/* Bytes floatfmt_shortest may write, the NUL included
 * ("-1.17549435e-38" is 15 and 1). */
#define FLOATFMT_BUF 16

/* Writes value into buf (FLOATFMT_BUF bytes, NUL-terminated): the shortest
 * decimal that strtof reads back as value, in %g's layout with
 * max(6, digits) significant digits ("0.5839", "7.9161e-05", "1234567",
 * "-0", "3.4028235e+38"). Infinities are "inf" and "-inf", every NaN
 * "nan". Returns the length. */
int floatfmt_shortest(float value, char *buf);

#endif
