/*
 * utf8.h - UTF-8 encoding, decoding and terminal column widths.
 *
 * The bottom of the tree: it needs nothing but the C library, so the error
 * module, the string buffer and the screen code can all use it.
 */
#ifndef ATTN_UTF8_H
#define ATTN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Encodes code point cp as UTF-8 into buf (at least 5 bytes, NUL added);
 * returns the length. */
int utf8_encode(uint32_t cp, char *buf);

/* Decodes the UTF-8 sequence at s into *cp; returns its length (1..4), or
 * 0 for an invalid sequence (then *cp is 0xFFFD). */
int utf8_decode(const char *s, uint32_t *cp);

/* Columns code point cp takes in a terminal: 2 for East Asian wide and
 * emoji ranges, 0 for combining marks and zero-width characters, else 1. */
int codepoint_width(uint32_t cp);

/* Columns the UTF-8 string s takes in a terminal (see codepoint_width);
 * an invalid byte counts as one column. */
size_t utf8_width(const char *s);

/* As utf8_width, for the first len bytes of s. */
size_t utf8_width_n(const char *s, size_t len);

#endif
