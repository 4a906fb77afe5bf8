/*
 * strbuf.h - a growable text buffer.
 *
 * Printers append to a StrBuf instead of writing to a stream, so tests can
 * read what they produced and main can report a failed write in one place.
 * After an allocation failure the buffer stops growing and remembers it.
 */
#ifndef ATTN_STRBUF_H
#define ATTN_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "attn_limits.h"


typedef struct StrBuf {
    char *data;      /* NUL-terminated text, or NULL before the first append; owned */
    size_t len;      /* bytes of text */
    size_t cap;      /* bytes allocated */
    bool failed;     /* an append ran out of memory, or the sink could not be written */
    FILE *sink;      /* when set, the text is written here as it grows (then data holds only the tail) */
    int write_errno; /* errno of the first failed write to sink (0: none, or unknown); once one failed, appends
                        are dropped at once, so a writer to a full disk stops working early */
} StrBuf;

/* Writes what sb holds to its sink and empties it; false (and failed set)
 * when the write fails. Without a sink, does nothing and returns true. */
bool strbuf_flush(StrBuf *sb);

/* Appends n bytes of s. */
void strbuf_append(StrBuf *sb, const char *s, size_t n);

/* Appends a NUL-terminated string. */
void strbuf_puts(StrBuf *sb, const char *s);

/* Appends printf-style text. */
void strbuf_printf(StrBuf *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Appends c n times. */
void strbuf_repeat(StrBuf *sb, char c, size_t n);

/* The text so far ("" when empty). */
const char *strbuf_text(const StrBuf *sb);

/* Frees the text and resets sb to empty. */
void strbuf_free(StrBuf *sb);

/* Writes all of buf[0..len) to the file descriptor fd, going on after
 * short writes and EINTR. False with errno set when a write fails (EIO
 * when one writes nothing). */
bool fd_write_all(int fd, const void *buf, size_t len);

#endif
