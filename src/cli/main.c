/*
 * main.c - the edge of the program: parse the command line, build the
 * trace, write it out, and turn errors into one line and an exit status.
 */
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <time.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "tui.h"
#include "bench.h"
#include "builtin.h"
#include "catalog.h"
#include "cli.h"
#include "export.h"
#include "lesson.h"
#include "progress.h"
#include "frame.h"
#include "keys.h"
#include "numfmt.h"
#include "print.h"
#include "strbuf.h"
#include "svg.h"
#include "trace.h"
#include "view.h"
#include "weights.h"

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

/* Prints a lesson's errors on stderr: "FILE:LINE:COL: message" lines, as
 * compilers do; a file that cannot be read is named after the program,
 * like any other failure to run. */
static void print_lesson_errors(LessonErrors *errors, int status)
{
    if (errors->text.data != NULL) /* a file name may hold anything: nothing raw reaches the terminal */
        error_scrub(errors->text.data, true);
    if (status == STATUS_NOINPUT)
        fprintf(stderr, "%s: %s", PROGRAM_NAME, strbuf_text(&errors->text));
    else
        fputs(strbuf_text(&errors->text), stderr);
}

/* --check: parses each lesson file and reports every error. Exit status:
 * 0 when all are good, 66 when one cannot be read, else 65. */
static int check_lessons(const Options *opts)
{
    int status = STATUS_OK;
    for (int i = 0; i < opts->n_check_files; i++) {
        Lesson lesson;
        LessonErrors errors = {0};
        bool loaded = lesson_load(opts->check_files[i], &lesson, &errors);
        int file_status = errors.first.status;
        if (loaded) {
            int quizzes = 0;
            for (int k = 0; k < lesson.n_steps; k++)
                quizzes += lesson.steps[k].n_quizzes;
            printf("%s: ok: \"%s\", %d steps, %d quizzes\n", opts->check_files[i], lesson.title, lesson.n_steps,
                   quizzes);
            lesson_free(&lesson);
        } else {
            print_lesson_errors(&errors, file_status);
            if (file_status == STATUS_NOINPUT || status != STATUS_NOINPUT)
                status = file_status != STATUS_OK ? file_status : STATUS_DATAERR;
        }
        lesson_errors_free(&errors);
    }
    return fflush(stdout) == 0 ? status : STATUS_FAILURE;
}

/* Loads the lesson to walk: the LESSON argument, or the built-in one. On
 * failure prints its errors and returns the exit status; else 0. */
static int load_lesson(const Options *opts, Lesson *lesson)
{
    LessonErrors errors = {0};
    int status = STATUS_OK;
    bool ok;
    if (opts->lesson != NULL) {
        ok = lesson_load(opts->lesson, lesson, &errors);
        status = errors.first.status;
    } else {
        ok = lesson_parse((const char *)BUILTIN_LESSON, BUILTIN_LESSON_SIZE, BUILTIN_LESSON_NAME, lesson, &errors);
        status = STATUS_DATAERR;
    }
    if (!ok) {
        print_lesson_errors(&errors, status);
        lesson_errors_free(&errors);
        return status != STATUS_OK ? status : STATUS_DATAERR;
    }
    lesson_errors_free(&errors);
    return STATUS_OK;
}

/* Writes the walk-through as text or JSON. */
static int print_trace(const Trace *trace, OutputMode mode, const PrintOptions *print_opts)
{
    /* streamed: the text goes to stdout as it is made, so a trace of any
     * size prints in bounded memory */
    StrBuf out = {0};
    out.sink = stdout;
    if (mode == MODE_JSON)
        print_trace_json(&out, trace, print_opts);
    else
        print_trace_text(&out, trace, print_opts);
    int status = STATUS_OK;
    bool written = strbuf_flush(&out);
    int saved_errno = errno;
    if (out.data == NULL && !written) {
        Error err;
        error_oom(&err, "the output");
        status = fail(&err);
    } else if (!written || fflush(stdout) != 0) {
        Error err;
        error_set(&err, STATUS_FAILURE, "cannot write the output: %s",
                  saved_errno != 0 ? strerror(saved_errno) : "write error");
        status = fail(&err);
    }
    strbuf_free(&out);
    return status;
}

/* --export-npy: writes the tensors into dir and says so in one line on
 * stderr (stdout stays empty). */
static int export_trace(const Trace *trace, const char *dir, int only_step)
{
    Error err;
    error_clear(&err);
    ExportSummary summary;
    if (!export_npy(trace, dir, only_step, &summary, &err))
        return fail(&err);
    char size[32];
    numfmt_bytes(summary.bytes, size, sizeof size);
    char shown[512]; /* the name as given, made safe to print */
    snprintf(shown, sizeof shown, "%s", dir);
    error_scrub(shown, false);
    fprintf(stderr, "%s: wrote %d .npy file%s (%s) to %s\n", PROGRAM_NAME, summary.files,
            summary.files == 1 ? "" : "s", size, shown);
    return STATUS_OK;
}

/* --svg: one step's heat maps (step: --step's index, or -1 for the
 * default), to stdout for "-". A regular file is written to a temporary
 * file beside it, renamed over it once whole, so a failed run leaves no
 * half file; a device or FIFO (/dev/stdout) is written directly. */
static int write_svg(const Trace *trace, const Options *opts, int step)
{
    Error err;
    error_clear(&err);
    if ((step = svg_pick_step(trace, step, &err)) < 0)
        return fail(&err);
    const char *path = opts->svg_file;
    struct stat st;
    bool direct = strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
    char tmp[4096] = "";
    FILE *f = strcmp(path, "-") == 0 ? stdout : NULL;
    if (f == NULL && direct) {
        f = fopen(path, "w");
    } else if (f == NULL) {
        errno = ENAMETOOLONG;
        int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
        int fd = n > 0 && (size_t)n < sizeof tmp ? mkstemp(tmp) : -1;
        mode_t mask = umask(0); /* mkstemp made it 0600: give it a new file's usual mode */
        umask(mask);
        if (fd >= 0 && (fchmod(fd, 0666 & ~mask) != 0 || (f = fdopen(fd, "w")) == NULL)) {
            int saved_errno = errno;
            close(fd);
            unlink(tmp);
            errno = saved_errno;
        }
    }
    if (f == NULL) {
        error_set(&err, STATUS_FAILURE, "%s: cannot write: %s", path, strerror(errno));
        return fail(&err);
    }
    StrBuf out = {0};
    out.sink = f;
    errno = 0;
    svg_write(&out, trace, step, opts->precision);
    bool written = strbuf_flush(&out) && fflush(f) == 0 && (direct || fsync(fileno(f)) == 0);
    int saved_errno = errno;
    strbuf_free(&out);
    if (f != stdout && fclose(f) != 0 && written) {
        written = false;
        saved_errno = errno;
    }
    if (!direct && written && rename(tmp, path) != 0) {
        written = false;
        saved_errno = errno;
    }
    if (!direct && !written)
        unlink(tmp);
    if (written)
        return STATUS_OK;
    const char *why = saved_errno != 0 ? strerror(saved_errno) : "write error";
    if (f == stdout)
        error_set(&err, STATUS_FAILURE, "cannot write the output: %s", why);
    else
        error_set(&err, STATUS_FAILURE, "%s: cannot write: %s", path, why);
    return fail(&err);
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
        bool written = f != NULL && fwrite(strbuf_text(&text), 1, text.len, f) == text.len;
        int saved_errno = errno;
        if (f != NULL && fclose(f) != 0 && written) {
            written = false;
            saved_errno = errno;
        }
        if (!written) {
            error_set(&err, STATUS_FAILURE, "%s: cannot write: %s", opts->dump_file, strerror(saved_errno));
            status = fail(&err);
        }
    }
    strbuf_free(&text);
    return status;
}

/* ------------------------------------------------------------------------
 * Progress: where the learner left a lesson, kept between runs
 * ---------------------------------------------------------------------- */

typedef struct ProgressSession {
    char dir[4096];          /* the state directory */
    char key[PROGRESS_KEY_BYTES];
    char problem[512];       /* the first save error, reported after the UI ends */
} ProgressSession;

/* The quiz states of app as progress results, in the lesson's order. */
static void progress_from_app(const App *app, Progress *progress)
{
    progress->n_quizzes = 0;
    for (int k = 0; k < app->lesson->n_steps; k++)
        for (int q = 0; q < app->lesson->steps[k].n_quizzes && progress->n_quizzes < PROGRESS_MAX_QUIZZES; q++) {
            const QuizState *state = &app->quiz[k][q];
            QuizResult result = QUIZ_UNANSWERED;
            if (state->status == QUIZ_RIGHT)
                result = state->tries == 0 ? QUIZ_RIGHT_FIRST_TRY : QUIZ_RIGHT_AFTER_TRIES;
            else if (state->status == QUIZ_SHOWN)
                result = QUIZ_REVEALED;
            else if (state->status == QUIZ_PASSED)
                result = QUIZ_SKIPPED;
            progress->quizzes[progress->n_quizzes++] = result;
        }
    progress->last_step = app->pos;
}

/* Restores quiz states and the step from progress. */
static void progress_to_app(App *app, const Progress *progress)
{
    int i = 0;
    for (int k = 0; k < app->lesson->n_steps; k++)
        for (int q = 0; q < app->lesson->steps[k].n_quizzes && i < progress->n_quizzes; q++, i++) {
            QuizState *state = &app->quiz[k][q];
            switch (progress->quizzes[i]) {
            case QUIZ_RIGHT_FIRST_TRY:
                *state = (QuizState){QUIZ_RIGHT, 0};
                break;
            case QUIZ_RIGHT_AFTER_TRIES:
                *state = (QuizState){QUIZ_RIGHT, 1};
                break;
            case QUIZ_REVEALED:
                *state = (QuizState){QUIZ_SHOWN, 0};
                break;
            case QUIZ_SKIPPED:
                *state = (QuizState){QUIZ_PASSED, 0};
                break;
            case QUIZ_UNANSWERED:
                break;
            }
        }
    app_go(app, progress->last_step);
}

/* App callback: saves the progress after every change of step or quiz. */
static void save_progress(App *app, void *context)
{
    ProgressSession *session = context;
    static Progress progress;
    memset(&progress, 0, sizeof progress);
    snprintf(progress.lesson_key, sizeof progress.lesson_key, "%s", session->key);
    progress_from_app(app, &progress);
    progress.updated = (long long)time(NULL);
    Error err;
    error_clear(&err);
    if (!progress_save(session->dir, &progress, &err) && session->problem[0] == '\0')
        snprintf(session->problem, sizeof session->problem, "%s", err.message);
}

/* Opens the lesson's progress: forgets it with --restart, else restores
 * it. Problems are warnings: progress never stops a lesson. */
static bool progress_open(App *app, const Options *opts, ProgressSession *session)
{
    Error err;
    error_clear(&err);
    if (!progress_dir(session->dir, sizeof session->dir, &err)) {
        fprintf(stderr, "%s: warning: progress will not be kept: %s\n", PROGRAM_NAME, err.message);
        return false;
    }
    char path[4096];
    if (opts->lesson == NULL || realpath(opts->lesson, path) == NULL)
        snprintf(path, sizeof path, "%s", opts->lesson != NULL ? opts->lesson : "builtin:" BUILTIN_LESSON_PATH);
    progress_key(path, app->lesson->hash, session->key, sizeof session->key);
    if (opts->restart) {
        if (!progress_forget(session->dir, session->key, &err))
            fprintf(stderr, "%s: warning: %s\n", PROGRAM_NAME, err.message);
        return true;
    }
    static Progress progress;
    bool found = false;
    if (!progress_load(session->dir, session->key, &progress, &found, &err))
        fprintf(stderr, "%s: warning: %s\n", PROGRAM_NAME, err.message);
    if (found)
        progress_to_app(app, &progress);
    return true;
}

/* The keys --bench-frames replays without --keys: on every step, moves of
 * the cursor, scrolling, a change of panel and head, the inspector opened
 * and closed, then the next step. */
static const char BENCH_WALK[] = "jjjlll<PageDown><PageDown><PageUp>$0<Tab>]<Enter><Esc><S-Tab>e<Esc><Space>";

/* --bench-frames: the frame times of keys through the composer and the
 * curses backend, reported overall and per step. */
static int bench_frames(App *app, const Options *opts, const TuiOptions *tui)
{
    Error err;
    error_clear(&err);
    static KeyCode keys[MAX_REPLAY_KEYS];
    size_t n_keys = 0;
    if (opts->keys != NULL) {
        if (!keys_parse(opts->keys, keys, MAX_REPLAY_KEYS, &n_keys, &err)) {
            error_locate(&err, opts->keys, "--keys", false);
            return fail(&err);
        }
    } else {
        for (int k = 0; k < app->n_walk; k++) {
            size_t got = 0;
            if (!keys_parse(BENCH_WALK, keys + n_keys, MAX_REPLAY_KEYS - n_keys, &got, &err))
                return fail(&err);
            n_keys += got;
        }
    }
    static double frame_ms[MAX_REPLAY_KEYS + 1], sorted[MAX_REPLAY_KEYS + 1];
    static int frame_step[MAX_REPLAY_KEYS + 1];
    long n = tui_bench_frames(app, tui, keys, n_keys, opts->screen_rows, opts->screen_cols, frame_ms, frame_step,
                              &err);
    if (n < 0)
        return fail(&err);
    const Trace *trace = app->trace;
    memcpy(sorted, frame_ms, (size_t)n * sizeof *sorted);
    BenchStats all = bench_stats(sorted, (size_t)n);
    StrBuf text = {0};
    strbuf_printf(&text, "bench-frames: %dx%d, %ld frames, median %.3f ms, p99 %.3f ms, max %.3f ms (s=%zu d=%zu h=%zu)\n",
                  opts->screen_cols, opts->screen_rows, n, all.median, all.p99, all.max, trace->config.n_tokens,
                  trace->config.d_model, trace->config.heads);
    for (int step = 0; step < trace->n_steps; step++) {
        size_t count = 0;
        for (long i = 0; i < n; i++)
            if (frame_step[i] == step)
                sorted[count++] = frame_ms[i];
        if (count == 0)
            continue;
        BenchStats s = bench_stats(sorted, count);
        strbuf_printf(&text, "  step %2d %-16s %4zu frames, median %.3f ms, p99 %.3f ms, max %.3f ms\n", step + 1,
                      trace->steps[step].id, count, s.median, s.p99, s.max);
    }
    int status = write_out(strbuf_text(&text), text.len);
    strbuf_free(&text);
    return status;
}

/* The interactive tracer, on the terminal or headless. */
static int run_tracer(const Trace *trace, const Lesson *lesson, const Options *opts, OutputMode mode, int first_step)
{
    const char *no_color_env = getenv("NO_COLOR");
    char title[200];
    const Config *cfg = &trace->config;
    if (lesson != NULL)
        snprintf(title, sizeof title, "%s", lesson->title);
    else if (cfg->sentence != NULL)
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
    app_init(&app, trace, lesson, &view);
    if (first_step >= 0) { /* --step: open on that step, where the walk has it */
        for (int k = 0; k < app.n_walk; k++)
            if (app.walk[k] == first_step)
                app_go(&app, k);
    }
    if (mode == MODE_DUMP)
        return dump_screen(&app, opts);
    if (mode == MODE_BENCH_FRAMES) {
        TuiOptions tui = {view.no_color, view.ascii, opts->presenter};
        return bench_frames(&app, opts, &tui);
    }
    /* the learner's place in a lesson is kept between runs */
    static ProgressSession session;
    if (lesson != NULL && progress_open(&app, opts, &session)) {
        app.on_progress = save_progress;
        app.progress_context = &session;
        if (first_step >= 0) /* an explicit --step wins over the saved place */
            for (int k = 0; k < app.n_walk; k++)
                if (app.walk[k] == first_step)
                    app_go(&app, k);
    }
    if (opts->autoplay_ms > 0)
        app_start_autoplay(&app, opts->autoplay_ms);
    TuiOptions tui = {view.no_color, view.ascii, opts->presenter};
    Error err;
    error_clear(&err);
    int status = tui_run(&app, &tui, &err);
    if (app.on_progress != NULL) /* the last place, whatever the last key was */
        save_progress(&app, &session);
    if (session.problem[0] != '\0')
        fprintf(stderr, "%s: warning: %s\n", PROGRAM_NAME, session.problem);
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
    /* a bare lesson name is looked up in the lesson directories */
    static char lesson_path[CATALOG_PATH_BYTES];
    if (opts.lesson != NULL) {
        if (!catalog_resolve(opts.lesson, lesson_path, sizeof lesson_path, &err)) {
            cli_options_free(&opts);
            return fail(&err);
        }
        opts.lesson = lesson_path;
    }
    if (opts.help || opts.version) {
        cli_options_free(&opts);
        if (opts.help)
            return write_out(cli_usage(), strlen(cli_usage()));
        const char version[] = PROGRAM_NAME " " PROGRAM_VERSION "\n";
        return write_out(version, sizeof version - 1);
    }

    if (opts.check) {
        int status = check_lessons(&opts);
        cli_options_free(&opts);
        return status;
    }
    if (opts.list_steps) { /* the step table: "number<TAB>id<TAB>title" a line */
        StrBuf list = {0};
        for (size_t i = 0; i < trace_step_def_count(); i++)
            strbuf_printf(&list, "%zu\t%s\t%s\n", i + 1, trace_step_def(i)->id, trace_step_def(i)->title);
        int status = write_out(strbuf_text(&list), list.len);
        strbuf_free(&list);
        cli_options_free(&opts);
        return status;
    }
    if (opts.list_lessons) {
        StrBuf list = {0};
        int status = catalog_list(&list, &err) ? write_out(strbuf_text(&list), list.len) : fail(&err);
        strbuf_free(&list);
        cli_options_free(&opts);
        return status;
    }

    /* The lesson (unless there is none), with any flags applied on top of
     * its configuration. */
    static Lesson lesson; /* large: off the stack */
    bool have_lesson = !opts.no_lesson;
    if (have_lesson) {
        int status = load_lesson(&opts, &lesson);
        if (status != STATUS_OK) {
            cli_options_free(&opts);
            return status;
        }
        config_free(&opts.config);
        if (!config_copy(&opts.config, &lesson.config, &err) || !cli_apply_config(&opts.flags, &opts.config, &err)) {
            lesson_free(&lesson);
            cli_options_free(&opts);
            return fail(&err);
        }
        if (!opts.have_precision)
            opts.precision = lesson.precision;
    }
    /* --weights: the files fix the sizes the flags left open, then stand
     * in for the draws */
    static Weights weights; /* off the stack */
    if (opts.flags.weights_dir != NULL) {
        unsigned fixed = (opts.flags.have_vocab ? WEIGHTS_FIXED_VOCAB : 0u) |
                         (opts.flags.have_d_model ? WEIGHTS_FIXED_D_MODEL : 0u) |
                         (opts.flags.have_heads ? WEIGHTS_FIXED_HEADS : 0u);
        if (!weights_load(opts.flags.weights_dir, fixed, trace_bytes, &opts.config, &weights, &err)) {
            if (have_lesson)
                lesson_free(&lesson);
            cli_options_free(&opts);
            return fail(&err);
        }
    }
    if (opts.mode == MODE_BENCH) {
        StrBuf report = {0};
        bool ok = bench_trace(&opts.config, opts.flags.weights_dir != NULL ? &weights : NULL, opts.bench_runs, &report, &err);
        int status = ok ? write_out(strbuf_text(&report), report.len) : fail(&err);
        strbuf_free(&report);
        weights_free(&weights);
        if (have_lesson)
            lesson_free(&lesson);
        cli_options_free(&opts);
        return status;
    }
    Trace *trace = trace_build_weights(&opts.config, opts.flags.weights_dir != NULL ? &weights : NULL, &err);
    weights_free(&weights);
    if (trace == NULL) {
        if (have_lesson)
            lesson_free(&lesson);
        cli_options_free(&opts);
        return fail(&err);
    }
    PrintOptions print_opts = {opts.precision, -1, have_lesson ? &lesson : NULL};
    if (opts.step != NULL && (print_opts.only_step = trace_find_step(trace, opts.step, &err)) < 0) {
        trace_free(trace);
        if (have_lesson)
            lesson_free(&lesson);
        cli_options_free(&opts);
        return fail(&err);
    }
    OutputMode mode = opts.mode;
    if (mode == MODE_DEFAULT)
        mode = wants_terminal_ui() ? MODE_TUI : MODE_PRINT;
    int status;
    if (mode == MODE_TUI || mode == MODE_DUMP || mode == MODE_BENCH_FRAMES)
        status = run_tracer(trace, have_lesson ? &lesson : NULL, &opts, mode, print_opts.only_step);
    else if (mode == MODE_NPY)
        status = export_trace(trace, opts.npy_dir, print_opts.only_step);
    else if (mode == MODE_SVG)
        status = write_svg(trace, &opts, print_opts.only_step);
    else
        status = print_trace(trace, mode, &print_opts);
    trace_free(trace);
    if (have_lesson)
        lesson_free(&lesson);
    cli_options_free(&opts);
    return status;
}
