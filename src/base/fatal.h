/*
 * fatal.h - stopping at once on a state the program can never be in.
 *
 * Errors a user can cause travel as Error values (error.h) to the edge of
 * the program. A broken invariant is different: a step that shows more
 * tensors than its fixed array holds, a table that names a tensor no step
 * made. Going on would write past an array or print nonsense, so these stop
 * the program on the spot, as tmux's fatalx does: one line on stderr,
 *
 *   attn-trace: internal error at src/trace/trace.c:123: MESSAGE
 *
 * then abort(), which leaves a core dump and a SIGABRT a test can expect.
 * Never use them for bad input.
 */
#ifndef ATTN_FATAL_H
#define ATTN_FATAL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__GNUC__)
#define ATTN_FATAL_ATTRS __attribute__((noreturn, format(printf, 3, 4)))
#else
#define ATTN_FATAL_ATTRS
#endif

/* Writes "attn-trace: internal error at FILE:LINE: " and the printf-style
 * message to stderr, then aborts. Never returns. Call it through
 * ATTN_FATAL, which passes the place. */
static inline void attn_fatal(const char *file, int line, const char *fmt, ...) ATTN_FATAL_ATTRS;

static inline void attn_fatal(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout); /* what was written before comes first */
    fprintf(stderr, "attn-trace: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* Stops the program with a message (printf-style) and the file and line. */
#define ATTN_FATAL(...) attn_fatal(__FILE__, __LINE__, __VA_ARGS__)

/* Stops the program when cond is false, naming the condition. Unlike
 * assert(), it is never compiled out. */
#define ATTN_ASSERT(cond)                                                                                              \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            ATTN_FATAL("assertion failed: %s", #cond);                                                                 \
    } while (0)

#endif
