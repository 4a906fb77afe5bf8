/*
 * error.c - filling in Error values (see error.h).
 */
#include "error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

void error_clear(Error *err)
{
    if (err == NULL)
        return;
    err->status = STATUS_OK;
    err->message[0] = '\0';
    err->at = ERROR_AT_NONE;
}

/* Length of the well-formed UTF-8 sequence at s that is not a C1 control
 * character (U+0080..U+009F), or 0. */
static size_t printable_sequence(const unsigned char *s)
{
    if (s[0] >= 0x20 && s[0] < 0x7f)
        return 1;
    size_t len = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0)
        return 0;
    unsigned int cp = s[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    static const unsigned int min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
        return 0;
    return len;
}

/* Replaces, in place, every byte that is not part of a printable UTF-8
 * character with '?'. */
static void scrub_message(char *message)
{
    unsigned char *s = (unsigned char *)message;
    while (*s != '\0') {
        size_t len = printable_sequence(s);
        if (len == 0) {
            *s++ = '?';
            continue;
        }
        s += len;
    }
}

static bool error_vset(Error *err, int status, size_t at, const char *fmt, va_list ap)
{
    if (err == NULL)
        return false;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    scrub_message(err->message);
    err->status = status;
    err->at = at;
    return false;
}

bool error_set(Error *err, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, status, ERROR_AT_NONE, fmt, ap);
    va_end(ap);
    return false;
}

bool error_set_at(Error *err, int status, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, status, at, fmt, ap);
    va_end(ap);
    return false;
}

void error_locate(Error *err, const char *text, const char *name, bool file_style)
{
    if (err == NULL)
        return;
    char message[ERROR_MESSAGE_BYTES];
    snprintf(message, sizeof message, "%s", err->message);
    if (err->at == ERROR_AT_NONE) {
        error_set(err, err->status, "%s: %s", name, message);
        return;
    }
    size_t line = 1, column = 1;
    for (size_t i = 0; i < err->at && text[i] != '\0'; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            column++;
        }
    }
    size_t at = err->at;
    if (file_style)
        error_set_at(err, err->status, at, "%s:%zu:%zu: %s", name, line, column, message);
    else
        error_set_at(err, err->status, at, "%s: column %zu: %s", name, column, message);
}

bool error_oom(Error *err, const char *what)
{
    return error_set(err, STATUS_FAILURE, "out of memory while allocating %s", what);
}
