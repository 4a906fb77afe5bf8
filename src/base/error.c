/*
 * error.c - filling in Error values (see error.h).
 */
#include "error.h"
#include "utf8.h"

#include <stdint.h>

#include "strbuf.h"

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

/* Length of the well-formed UTF-8 character at s when it is printable
 * (not a C0 or C1 control, not DEL), else 0. */
static size_t printable_sequence(const unsigned char *s)
{
    uint32_t cp;
    int len = utf8_decode((const char *)s, &cp);
    if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        return 0;
    return (size_t)len;
}

void error_scrub(char *text, bool keep_newlines)
{
    unsigned char *s = (unsigned char *)text;
    while (*s != '\0') {
        size_t len = printable_sequence(s);
        if (len == 0) {
            if (!(keep_newlines && *s == '\n'))
                *s = '?';
            s++;
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
    error_scrub(err->message, false);
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
