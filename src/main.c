/*
 * main.c - the edge of the program: parse the command line, build the
 * trace, write it out, and turn errors into one line and an exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "strbuf.h"
#include "trace.h"

/* Prints "attn-trace: message" on stderr and returns status. */
static int fail(const Error *err)
{
    fprintf(stderr, "%s: %s\n", PROGRAM_NAME, err->message);
    return err->status != STATUS_OK ? err->status : STATUS_FAILURE;
}

/* Writes len bytes of text to stdout. On a write error reports it (one
 * line, with the reason) and returns STATUS_FAILURE. */
static int write_out(const char *text, size_t len)
{
    errno = 0;
    size_t n = fwrite(text, 1, len, stdout);
    if (n == len && fflush(stdout) == 0)
        return STATUS_OK;
    Error err;
    error_set(&err, STATUS_FAILURE, "cannot write the output: %s", errno != 0 ? strerror(errno) : "write error");
    return fail(&err);
}

int main(int argc, char **argv)
{
    Error err;
    error_clear(&err);
    Options opts;
    if (!cli_parse(argc, argv, &opts, &err))
        return fail(&err);
    if (opts.help || opts.version) {
        cli_options_free(&opts);
        if (opts.help)
            return write_out(cli_usage(), strlen(cli_usage()));
        const char version[] = PROGRAM_NAME " " PROGRAM_VERSION "\n";
        return write_out(version, sizeof version - 1);
    }

    Trace *trace = trace_build(&opts.config, &err);
    cli_options_free(&opts);
    if (trace == NULL)
        return fail(&err);
    PrintOptions print_opts = {opts.precision, -1};
    if (opts.step != NULL && (print_opts.only_step = trace_find_step(trace, opts.step, &err)) < 0) {
        trace_free(trace);
        return fail(&err);
    }
    StrBuf out = {0};
    if (opts.mode == MODE_JSON)
        print_trace_json(&out, trace, &print_opts);
    else
        print_trace_text(&out, trace, &print_opts);
    trace_free(trace);
    int status;
    if (out.failed) {
        error_oom(&err, "the output");
        status = fail(&err);
    } else {
        status = write_out(strbuf_text(&out), out.len);
    }
    strbuf_free(&out);
    return status;
}
