/*
 * strbuf.c - a growable text buffer (see strbuf.h).
 */
#include "strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes room for extra more bytes plus a NUL; false when out of memory. */
static bool strbuf_reserve(StrBuf *sb, size_t extra)
{
    if (sb->failed)
        return false;
    if (sb->len + extra + 1 <= sb->cap)
        return true;
    size_t cap = sb->cap == 0 ? 256 : sb->cap;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    char *grown = realloc(sb->data, cap);
    if (grown == NULL) {
        sb->failed = true;
        return false;
    }
    sb->data = grown;
    sb->cap = cap;
    return true;
}

bool strbuf_flush(StrBuf *sb)
{
    if (sb->sink == NULL || sb->len == 0)
        return !sb->failed;
    errno = 0;
    if (!sb->failed && fwrite(sb->data, 1, sb->len, sb->sink) != sb->len) {
        sb->failed = true;
        sb->write_errno = errno;
    }
    sb->len = 0;
    sb->data[0] = '\0';
    return !sb->failed;
}

/* Writes out a long text when sb has a sink. */
static void strbuf_maybe_flush(StrBuf *sb)
{
    if (sb->sink != NULL && sb->len >= STRBUF_FLUSH_BYTES)
        strbuf_flush(sb);
}

void strbuf_append(StrBuf *sb, const char *s, size_t n)
{
    if (sb->failed && sb->sink != NULL)
        return; /* the sink failed: nothing more can reach it */
    if (!strbuf_reserve(sb, n))
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    strbuf_maybe_flush(sb);
}

void strbuf_puts(StrBuf *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void strbuf_printf(StrBuf *sb, const char *fmt, ...)
{
    if (sb->failed && sb->sink != NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !strbuf_reserve(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
    strbuf_maybe_flush(sb);
}

void strbuf_repeat(StrBuf *sb, char c, size_t n)
{
    if (!strbuf_reserve(sb, n))
        return;
    memset(sb->data + sb->len, c, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    strbuf_maybe_flush(sb);
}

const char *strbuf_text(const StrBuf *sb)
{
    return sb->data != NULL ? sb->data : "";
}

void strbuf_free(StrBuf *sb)
{
    free(sb->data);
    FILE *sink = sb->sink;
    memset(sb, 0, sizeof *sb);
    sb->sink = sink;
}

bool fd_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        if (w == 0) {
            errno = EIO;
            return false;
        }
        p += w;
        len -= (size_t)w;
    }
    return true;
}
