/*
 * error.h - errors as values.
 *
 * The core never prints and never exits. A function that can fail takes an
 * Error * as its last argument, fills it in and returns a failure value
 * (NULL or false). The edge of the program (main) prints the message as one
 * line and exits with the status it carries.
 */
#ifndef ATTN_ERROR_H
#define ATTN_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include "attn_limits.h"

/* Exit statuses, as documented in README and --help (sysexits.h values). */
enum {
    STATUS_OK = 0,       /* success */
    STATUS_FAILURE = 1,  /* anything else: out of memory, write error */
    STATUS_USAGE = 2,    /* bad command line */
    STATUS_DATAERR = 65, /* invalid input data: a bad lesson, dimensions that do not fit */
    STATUS_NOINPUT = 66  /* a file that cannot be opened */
};

/* Value of Error.at when the error is not about one place in a text. */
#define ERROR_AT_NONE ((size_t)-1)

typedef struct Error {
    int status;                        /* one of STATUS_*; 0 while no error */
    char message[ERROR_MESSAGE_BYTES]; /* one printable line: see error_set */
    size_t at;                         /* byte offset in the input text the error is about, or ERROR_AT_NONE */
} Error;

/* Clears err (status 0, empty message). NULL is allowed. */
void error_clear(Error *err);

/* Records a printf-style message and a status in err (at = ERROR_AT_NONE).
 * NULL err is a no-op. The message is cut to fit and then made safe to
 * print on a terminal: control characters (C0, DEL, C1) and bytes that are
 * not valid UTF-8 become '?', so a message is always one line and never
 * carries an escape sequence from user input. Always returns false, so
 * callers can write `return error_set(err, ...)` in functions returning
 * bool. */
bool error_set(Error *err, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* As error_set, and records the byte offset `at` the message is about. */
bool error_set_at(Error *err, int status, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Puts where the error happened in front of its message. text is the
 * input err->at points into; name is a file name or a flag. With
 * file_style: "name:LINE:COL: message" (1-based; the column counts
 * characters), or "name: message" when err->at is ERROR_AT_NONE. Otherwise:
 * "name: column COL: message" or "name: message". */
void error_locate(Error *err, const char *text, const char *name, bool file_style);

/* Makes text safe to print on a terminal, in place, as error_set does
 * with its messages: every byte that is not part of a printable UTF-8
 * character (C0, DEL, C1, invalid UTF-8) becomes '?'; '\n' is kept when
 * keep_newlines. */
void error_scrub(char *text, bool keep_newlines);

/* Records an out-of-memory error naming what was being allocated. */
bool error_oom(Error *err, const char *what);

#endif
