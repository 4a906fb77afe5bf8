/*
 * main.c - the edge of the program: parse the command line, build the
 * trace, write it out, and turn errors into one line and an exit status.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "frame.h"
#include "keys.h"
#include "print.h"
#include "strbuf.h"
#include "trace.h"
#include "view.h"

/* Most keys --keys may hold. */
#define MAX_REPLAY_KEYS 4096

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

/* Writes the walk-through as text or JSON. */
static int print_trace(const Trace *trace, OutputMode mode, const PrintOptions *print_opts)
{
    StrBuf out = {0};
    if (mode == MODE_JSON)
        print_trace_json(&out, trace, print_opts);
    else
        print_trace_text(&out, trace, print_opts);
    int status;
    if (out.failed) {
        Error err;
        error_oom(&err, "the output");
        status = fail(&err);
    } else {
        status = write_out(strbuf_text(&out), out.len);
    }
    strbuf_free(&out);
    return status;
}

/* The interactive tracer is chosen when both ends are a terminal that can
 * show it: stdin and stdout are terminals and TERM is set and not "dumb". */
static bool wants_terminal_ui(void)
{
    const char *term = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term != NULL && *term != '\0' &&
           strcmp(term, "dumb") != 0;
}

/* True when the locale's character set is UTF-8. */
static bool locale_is_utf8(void)
{
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

/* Headless mode: replays keys against the composer on a screen of the
 * given size and writes the final screen as plain text. */
static int dump_screen(App *app, const Options *opts)
{
    Error err;
    error_clear(&err);
    static KeyCode keys[MAX_REPLAY_KEYS];
    size_t n_keys = 0;
    if (opts->keys != NULL && !keys_parse(opts->keys, keys, MAX_REPLAY_KEYS, &n_keys, &err)) {
        error_locate(&err, opts->keys, "--keys", false);
        return fail(&err);
    }
    for (size_t i = 0; i < n_keys; i++)
        if (!app_handle_key(app, keys[i], opts->screen_rows, opts->screen_cols))
            break; /* q: the screen as it was when the user quit */
    Frame frame;
    if (!frame_init(&frame, opts->screen_rows, opts->screen_cols)) {
        error_oom(&err, "the screen");
        return fail(&err);
    }
    app_compose(app, &frame);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    frame_free(&frame);
    int status = STATUS_OK;
    if (strcmp(opts->dump_file, "-") == 0) {
        status = write_out(strbuf_text(&text), text.len);
    } else {
        FILE *f = fopen(opts->dump_file, "w");
        if (f == NULL || fwrite(strbuf_text(&text), 1, text.len, f) != text.len || fclose(f) != 0) {
            error_set(&err, STATUS_NOINPUT, "%s: cannot write: %s", opts->dump_file, strerror(errno));
            status = fail(&err);
        }
    }
    strbuf_free(&text);
    return status;
}

/* The interactive tracer, on the terminal or headless. */
static int run_tracer(const Trace *trace, const Options *opts, OutputMode mode, int first_step)
{
    const char *no_color_env = getenv("NO_COLOR");
    char title[200];
    const Config *cfg = &trace->config;
    if (cfg->sentence != NULL)
        snprintf(title, sizeof title, "%s", cfg->sentence);
    else
        snprintf(title, sizeof title, "%zu token ids", cfg->n_tokens);
    ViewOptions view = {
        .precision = opts->precision,
        .no_color = opts->no_color || (no_color_env != NULL && *no_color_env != '\0'),
        .ascii = opts->ascii || (mode == MODE_TUI && !locale_is_utf8()),
        .title = title,
    };
    static App app; /* large (per-tensor state of every step): kept off the stack */
    app_init(&app, trace, &view);
    if (first_step >= 0)
        app.step = first_step;
    if (mode == MODE_DUMP)
        return dump_screen(&app, opts);
    TuiOptions tui = {view.no_color, view.ascii};
    Error err;
    error_clear(&err);
    int status = tui_run(&app, &tui, &err);
    if (status != STATUS_OK)
        return fail(&err);
    return status;
}

int main(int argc, char **argv)
{
    /* The user's locale for the character set (UTF-8 or not), but always
     * '.' as the decimal point: JSON and the numbers depend on it. */
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
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
    if (trace == NULL) {
        cli_options_free(&opts);
        return fail(&err);
    }
    PrintOptions print_opts = {opts.precision, -1};
    if (opts.step != NULL && (print_opts.only_step = trace_find_step(trace, opts.step, &err)) < 0) {
        trace_free(trace);
        cli_options_free(&opts);
        return fail(&err);
    }
    OutputMode mode = opts.mode;
    if (mode == MODE_DEFAULT)
        mode = wants_terminal_ui() ? MODE_TUI : MODE_PRINT;
    int status;
    if (mode == MODE_TUI || mode == MODE_DUMP)
        status = run_tracer(trace, &opts, mode, print_opts.only_step);
    else
        status = print_trace(trace, mode, &print_opts);
    trace_free(trace);
    cli_options_free(&opts);
    return status;
}
