/*
 * main.c - the edge of the program: parse the command line, build the
 * trace, write it out, and turn errors into one line and an exit status.
 *
 * One run's state is one heap context (Run, at the end of the file) that
 * main releases in one place; the helpers return false with an Error and
 * only main prints it.
 */
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <time.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h> /* mallopt */
#endif

#include "app.h"
#include "attn_limits.h"
#include "tui.h"
#include "bench.h"
#include "builtin.h"
#include "catalog.h"
#include "cli.h"
#include "diffview.h"
#include "experiment.h"
#include "export.h"
#include "export_py.h"
#include "linemode.h"
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

/* ------------------------------------------------------------------------
 * Scratch sizes of this file (the limits are in src/base/attn_limits.h)
 * ---------------------------------------------------------------------- */

/* The paths this file builds (the state directory, a lesson's real path,
 * the --svg temporary file beside the output) take LIMIT_PATH_BYTES, which
 * must hold PATH_MAX: realpath writes that many. */
#if defined(PATH_MAX) && PATH_MAX > LIMIT_PATH_BYTES
#error "LIMIT_PATH_BYTES must hold PATH_MAX bytes (realpath writes that many)"
#endif
/* A warning kept for later: a progress save's first error, a load's warning. */
#define MAIN_WARNING_BYTES 512
/* A name echoed in a message (--export-npy's directory), made safe to print. */
#define MAIN_SHOWN_NAME_BYTES 512
/* The tracer's title: the lesson's title, the sentence, or "N token ids". */
#define MAIN_TITLE_BYTES 200
/* A size as numfmt_bytes writes it ("1.5 MiB"). */
#define MAIN_SIZE_TEXT_BYTES 32

/* Prints "attn-trace: message" on stderr and returns status. */
static int fail(const Error *err)
{
    fprintf(stderr, "%s: %s\n", PROGRAM_NAME, err->message);
    return err->status != STATUS_OK ? err->status : STATUS_FAILURE;
}

/* Writes len bytes of text to stdout. False on a write error, with err
 * saying so (one line, with the reason). */
static bool write_out(const char *text, size_t len, Error *err)
{
    errno = 0;
    size_t n = fwrite(text, 1, len, stdout);
    if (n == len && fflush(stdout) == 0)
        return true;
    return error_set(err, STATUS_FAILURE, "cannot write the output: %s", errno != 0 ? strerror(errno) : "write error");
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

/* --check: parses each lesson file and reports every error (the lesson
 * parser's FILE:LINE:COL lines, not an Error). Exit status: 0 when all are
 * good, 66 when one cannot be read, else 65 (70 when out of memory). */
static int check_lessons(const Options *opts)
{
    Lesson *lesson = malloc(sizeof *lesson); /* large: off the stack */
    if (lesson == NULL) {
        Error err;
        error_oom(&err, "a lesson");
        return fail(&err);
    }
    int status = STATUS_OK;
    for (int i = 0; i < opts->n_check_files; i++) {
        /* a file, or a lesson's name as the tracer takes it (why-scale):
         * the lines then name the file found */
        char path[LIMIT_PATH_BYTES];
        Error resolve_err;
        error_clear(&resolve_err);
        if (!catalog_resolve(opts->check_files[i], path, sizeof path, &resolve_err)) {
            fail(&resolve_err);
            if (resolve_err.status == STATUS_NOINPUT || status != STATUS_NOINPUT)
                status = resolve_err.status; /* as a file that cannot be read, below */
            continue;
        }
        LessonErrors errors = {0};
        bool loaded = lesson_load(path, lesson, &errors);
        int file_status = errors.first.status;
        if (loaded) {
            int quizzes = 0;
            for (int k = 0; k < lesson->n_steps; k++)
                quizzes += lesson->steps[k].n_quizzes;
            errno = 0;
            bool written = printf("%s: ok: \"%s\", %d step%s, %d quiz%s\n", path, lesson->title, lesson->n_steps,
                                  lesson->n_steps == 1 ? "" : "s", quizzes, quizzes == 1 ? "" : "zes") >= 0 &&
                           fflush(stdout) == 0;
            lesson_free(lesson);
            if (!written) { /* stdout is gone (a full disk): say so once and stop */
                Error err;
                error_set(&err, STATUS_FAILURE, "cannot write the output: %s",
                          errno != 0 ? strerror(errno) : "write error");
                lesson_errors_free(&errors);
                free(lesson);
                return fail(&err);
            }
        } else {
            print_lesson_errors(&errors, file_status);
            if (file_status == STATUS_NOINPUT || status != STATUS_NOINPUT)
                status = file_status != STATUS_OK ? file_status : STATUS_DATAERR;
        }
        lesson_errors_free(&errors);
    }
    free(lesson);
    return status;
}

/* Loads the lesson to walk: the LESSON argument, or the built-in one. On
 * failure prints its errors (the lesson parser's lines, not an Error) and
 * returns the exit status; else 0. */
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

/* Writes the walk-through as text or JSON to stdout. False with err when
 * out of memory or on a write error. */
static bool print_trace(const Trace *trace, OutputMode mode, const PrintOptions *print_opts, Error *err)
{
    /* streamed: the text goes to stdout as it is made, so a trace of any
     * size prints in bounded memory */
    StrBuf out = {0};
    out.sink = stdout;
    if (mode == MODE_JSON)
        print_trace_json(&out, trace, print_opts);
    else
        print_trace_text(&out, trace, print_opts);
    bool ok = true;
    bool written = strbuf_flush(&out);
    int saved_errno = out.write_errno; /* the first failed write's, not a later errno */
    if (written && fflush(stdout) != 0) {
        written = false;
        saved_errno = errno;
    }
    if (out.data == NULL && !written && saved_errno == 0)
        ok = error_oom(err, "the output");
    else if (!written)
        ok = error_set(err, STATUS_FAILURE, "cannot write the output: %s",
                       saved_errno != 0 ? strerror(saved_errno) : "write error");
    strbuf_free(&out);
    return ok;
}

/* --export-npy: writes the tensors into dir and says so in one line on
 * stderr (stdout stays empty). False with err when export_npy fails. */
static bool export_trace(const Trace *trace, const char *dir, int only_step, Error *err)
{
    ExportSummary summary;
    if (!export_npy(trace, dir, only_step, &summary, err))
        return false;
    char size[MAIN_SIZE_TEXT_BYTES];
    numfmt_bytes(summary.bytes, size, sizeof size);
    char shown[MAIN_SHOWN_NAME_BYTES]; /* the name as given, made safe to print */
    snprintf(shown, sizeof shown, "%s", dir);
    error_scrub(shown, false);
    fprintf(stderr, "%s: wrote %d .npy file%s (%s) to %s\n", PROGRAM_NAME, summary.files, summary.files == 1 ? "" : "s",
            size, shown);
    return true;
}

/* ------------------------------------------------------------------------
 * Output files: --svg and --dump-screen
 * ---------------------------------------------------------------------- */

/* An output file being written. A regular file (or a new name) is written
 * to a temporary file with a short name in the same directory, renamed
 * over the final name once whole, so a failed run leaves no half file and
 * a name as long as the file system allows still works. A symbolic link
 * at the final name is not followed: the rename replaces the link itself
 * and its target is left alone (a dangling link creates nothing at its
 * target), except a link to a device or FIFO and a descriptor's name such
 * as /dev/stdout (link_is_descriptor), which are written through. "-" is
 * stdout. */
typedef struct OutFile {
    FILE *f;                    /* where to write; stdout for "-" */
    const char *path;           /* the final name, as given */
    bool direct;                /* stdout, a device or a FIFO: written in place */
    char tmp[LIMIT_PATH_BYTES]; /* the temporary file when !direct */
} OutFile;

/* Whether a symbolic link at path is a name the system gives an open
 * descriptor (/dev/stdout, /dev/fd/N, /proc/self/fd/N): one under /dev or
 * /proc, or one pointing into /proc or /dev/fd. Such a link is written
 * through, never replaced: replacing /dev/stdout would break it for every
 * program on the machine. */
static bool link_is_descriptor(const char *path)
{
    char target[LIMIT_PATH_BYTES];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0)
        return false;
    target[n] = '\0';
    return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0 || strncmp(target, "/proc/", 6) == 0 ||
           strncmp(target, "/dev/fd/", 8) == 0;
}

/* Whether path names (or links to) something written in place: a device,
 * a FIFO, or a descriptor's name such as /dev/stdout, whatever it points
 * to. Any other link (to a regular file, or dangling) is replaced. */
static bool out_is_direct(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return false;
    if (S_ISLNK(st.st_mode) && link_is_descriptor(path))
        return true;
    if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
        return false; /* dangling: replaced */
    return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/* Opens the temporary file for o->path: "DIR/.attn-XXXXXX", mode 0666
 * less the umask. False with errno set. */
static bool out_open_tmp(OutFile *o)
{
    const char *slash = strrchr(o->path, '/');
    int dir_len = slash == NULL ? 0 : (int)(slash - o->path + 1);
    int n = snprintf(o->tmp, sizeof o->tmp, "%.*s.attn-XXXXXX", dir_len, o->path);
    if (n < 0 || (size_t)n >= sizeof o->tmp) {
        o->tmp[0] = '\0';
        errno = ENAMETOOLONG;
        return false;
    }
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        o->tmp[0] = '\0';
        return false;
    }
    mode_t mask = umask(0); /* mkstemp made it 0600: give it a new file's usual mode */
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || (o->f = fdopen(fd, "w")) == NULL) {
        int saved_errno = errno;
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = '\0';
        errno = saved_errno;
        return false;
    }
    return true;
}

/* Opens path for writing as OutFile describes. False with err ("PATH:
 * cannot write: reason") when it cannot be created. */
static bool out_open(OutFile *o, const char *path, Error *err)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->direct = true;
        return true;
    }
    o->direct = out_is_direct(path);
    if (o->direct ? (o->f = fopen(path, "w")) != NULL : out_open_tmp(o))
        return true;
    return error_set(err, STATUS_FAILURE, "%s: cannot write: %s", path, strerror(errno));
}

/* Finishes o: written says whether everything so far went out (else
 * write_errno is the first failure's errno, 0 when unknown). Flushes,
 * syncs and renames the temporary file over the final name, or removes it
 * on any failure. Returns true when the file is whole, else false with err
 * (the first failure's reason). */
static bool out_close(OutFile *o, bool written, int write_errno, Error *err)
{
    errno = 0;
    if (written && (fflush(o->f) != 0 || (!o->direct && fsync(fileno(o->f)) != 0))) {
        written = false;
        write_errno = errno;
    }
    if (o->f != stdout && fclose(o->f) != 0 && written) {
        written = false;
        write_errno = errno;
    }
    if (!o->direct && written && rename(o->tmp, o->path) != 0) {
        written = false;
        write_errno = errno;
    }
    if (!o->direct && !written)
        unlink(o->tmp);
    if (written)
        return true;
    const char *why = write_errno != 0 ? strerror(write_errno) : "write error";
    if (o->f == stdout)
        return error_set(err, STATUS_FAILURE, "cannot write the output: %s", why);
    return error_set(err, STATUS_FAILURE, "%s: cannot write: %s", o->path, why);
}

/* --svg: one step's heat maps (step: --step's index, or -1 for the
 * default), written as an OutFile (stdout for "-"). False with err when
 * the step has no heat map or the file cannot be written. */
static bool write_svg(const Trace *trace, const Options *opts, int step, Error *err)
{
    if ((step = svg_pick_step(trace, step, err)) < 0)
        return false;
    OutFile o;
    if (!out_open(&o, opts->svg_file, err))
        return false;
    StrBuf out = {0};
    out.sink = o.f;
    errno = 0;
    svg_write(&out, trace, step, opts->precision);
    bool written = strbuf_flush(&out);
    int write_errno = out.write_errno;
    strbuf_free(&out);
    return out_close(&o, written, write_errno, err);
}

/* The interactive tracer is chosen when both ends are a terminal that can
 * show it: stdin and stdout are terminals and TERM is set and not "dumb". */
static bool wants_terminal_ui(void)
{
    const char *term = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
}

/* True when the locale's character set is UTF-8. */
static bool locale_is_utf8(void)
{
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

/* ------------------------------------------------------------------------
 * Replayed keys: --dump-screen and --bench-frames
 * ---------------------------------------------------------------------- */

/* The keys a headless run replays, and the time of each frame they make;
 * too large for the stack, so replay_new puts it on the heap. */
typedef struct Replay {
    KeyCode keys[MAX_REPLAY_KEYS];
    size_t n_keys;
    double frame_ms[MAX_REPLAY_KEYS + 1]; /* --bench-frames: each frame's time */
    double sorted[MAX_REPLAY_KEYS + 1];   /* scratch for the statistics */
    int frame_step[MAX_REPLAY_KEYS + 1];  /* the step each frame showed */
} Replay;

/* A Replay holding --keys (none when opts has no --keys). NULL with err set
 * when out of memory or the keys do not parse. The caller frees it. */
static Replay *replay_new(const Options *opts, Error *err)
{
    Replay *replay = calloc(1, sizeof *replay);
    if (replay == NULL) {
        error_oom(err, "the keys");
        return NULL;
    }
    if (opts->keys != NULL && !keys_parse(opts->keys, replay->keys, MAX_REPLAY_KEYS, &replay->n_keys, err)) {
        error_locate(err, opts->keys, "--keys", false);
        free(replay);
        return NULL;
    }
    return replay;
}

/* Writes text to path as an OutFile ("-": stdout). False with err on a
 * write error. */
static bool write_text_file(const char *path, const StrBuf *text, Error *err)
{
    OutFile o;
    if (!out_open(&o, path, err))
        return false;
    errno = 0;
    bool written = fwrite(strbuf_text(text), 1, text->len, o.f) == text->len;
    return out_close(&o, written, written ? 0 : errno, err);
}

/* Headless mode: replays keys against the composer on a screen of the
 * given size and writes the final screen as plain text. False with err on
 * bad --keys, out of memory or a write error. */
static bool dump_screen(App *app, const Options *opts, Error *err)
{
    Replay *replay = replay_new(opts, err);
    if (replay == NULL)
        return false;
    for (size_t i = 0; i < replay->n_keys; i++)
        if (!app_handle_key(app, replay->keys[i], opts->screen_rows, opts->screen_cols))
            break; /* q: the screen as it was when the user quit */
    free(replay);
    Frame frame;
    if (!frame_init(&frame, opts->screen_rows, opts->screen_cols))
        return error_oom(err, "the screen");
    app_compose(app, &frame);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    frame_free(&frame);
    bool ok = write_text_file(opts->dump_file, &text, err);
    strbuf_free(&text);
    return ok;
}

/* The runs --bench-frames times each change's recompute over (bench_recompute). */
#define BENCH_RECOMPUTE_RUNS 5

/* The keys --bench-frames replays without --keys: on every step, moves of
 * the cursor, scrolling, a change of panel and head, the inspector opened
 * and closed, then the next step. */
static const char BENCH_WALK[] = "jjjlll<PageDown><PageDown><PageUp>$0<Tab>]<Enter><Esc><S-Tab>e<Esc><Space>";

/* The report of --bench-frames: one line overall, one a step, from the
 * n frame times in replay (replay->sorted is overwritten). */
static void bench_frames_report(const App *app, const Options *opts, Replay *replay, long n, StrBuf *text)
{
    const Trace *trace = app->trace;
    memcpy(replay->sorted, replay->frame_ms, (size_t)n * sizeof *replay->sorted);
    BenchStats all = bench_stats(replay->sorted, (size_t)n);
    strbuf_printf(text,
                  "bench-frames: %dx%d, %ld frames, median %.3f ms, p99 %.3f ms, max %.3f ms (s=%zu d=%zu h=%zu)\n",
                  opts->screen_cols, opts->screen_rows, n, all.median, all.p99, all.max, trace->config.n_tokens,
                  trace->config.d_model, trace->config.heads);
    double trace_ms = 0.0; /* the trace as the tracer got it: the sum of its steps */
    for (int step = 0; step < trace->n_steps; step++)
        trace_ms += trace->step_ms[step];
    double open_ms = trace_ms + app->init_ms + (n > 0 ? replay->frame_ms[0] : 0.0);
    strbuf_printf(text,
                  "bench-frames: opened %.1f ms after the start of the trace: the trace %.1f ms, app_init %.1f ms, "
                  "the first frame %.1f ms; %.3fx the trace\n",
                  open_ms, trace_ms, app->init_ms, n > 0 ? replay->frame_ms[0] : 0.0,
                  trace_ms > 0.0 ? open_ms / trace_ms : 0.0);
    for (int step = 0; step < trace->n_steps; step++) {
        size_t count = 0;
        for (long i = 0; i < n; i++)
            if (replay->frame_step[i] == step)
                replay->sorted[count++] = replay->frame_ms[i];
        if (count == 0)
            continue;
        BenchStats s = bench_stats(replay->sorted, count);
        strbuf_printf(text, "  step %2d %-16s %4zu frames, median %.3f ms, p99 %.3f ms, max %.3f ms\n", step + 1,
                      trace->steps[step].id, count, s.median, s.p99, s.max);
    }
}

/* --bench-frames: the frame times of keys through the composer and the
 * curses backend, reported overall and per step. False with err on bad
 * --keys, a failure of the backend or a write error. */
static bool bench_frames(App *app, const Options *opts, const TuiOptions *tui, Error *err)
{
    Replay *replay = replay_new(opts, err);
    if (replay == NULL)
        return false;
    for (int k = 0; opts->keys == NULL && k < app->n_walk; k++) {
        size_t got = 0;
        if (!keys_parse(BENCH_WALK, replay->keys + replay->n_keys, MAX_REPLAY_KEYS - replay->n_keys, &got, err)) {
            free(replay);
            return false;
        }
        replay->n_keys += got;
    }
    long n = tui_bench_frames(app, tui, replay->keys, replay->n_keys, opts->screen_rows, opts->screen_cols,
                              replay->frame_ms, replay->frame_step, err);
    bool ok = n >= 0;
    if (ok) {
        StrBuf text = {0};
        bench_frames_report(app, opts, replay, n, &text);
        ok = bench_recompute(app->original, app->options.weights, BENCH_RECOMPUTE_RUNS, &text, err) &&
             write_out(strbuf_text(&text), text.len, err);
        strbuf_free(&text);
    }
    free(replay);
    return ok;
}

/* ------------------------------------------------------------------------
 * Progress: where the learner left a lesson, kept between runs
 * ---------------------------------------------------------------------- */

typedef struct ProgressSession {
    char dir[LIMIT_PATH_BYTES]; /* the state directory */
    char key[PROGRESS_KEY_BYTES];
    char problem[MAIN_WARNING_BYTES]; /* the first save error, reported after the UI ends */
    Progress progress;                /* scratch for a load or a save (large) */
    Progress seen;                    /* what the file held when this window last loaded or saved it */
    bool have_seen;                   /* seen is set */
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
    app_resume(app, progress->last_step); /* "Resumed at step N" until the next key */
}

/* App callback: saves the progress after every change of step or quiz; the
 * first failure is kept in the session's problem, for after the UI. */
static void save_progress(App *app, void *context)
{
    ProgressSession *session = context;
    Progress *progress = &session->progress;
    memset(progress, 0, sizeof *progress);
    snprintf(progress->lesson_key, sizeof progress->lesson_key, "%s", session->key);
    progress_from_app(app, progress);
    progress->updated = (long long)time(NULL);
    Error err;
    error_clear(&err);
    /* merged with what another window on the same lesson saved meanwhile */
    if (progress_save_merged(session->dir, progress, session->have_seen ? &session->seen : NULL, &session->seen, &err))
        session->have_seen = true;
    else if (session->problem[0] == '\0')
        snprintf(session->problem, sizeof session->problem, "%s", err.message);
}

/* Prints a warning on stderr: progress never stops a lesson. */
static void warn(const char *message)
{
    fprintf(stderr, "%s: warning: %s\n", PROGRAM_NAME, message);
}

/* Reads the saved progress of session's lesson into app, when there is
 * one; a damaged file is a warning. A file that is there but cannot be
 * read is a warning too, said once here, and makes it false: progress is
 * then not saved, so the place kept in that file is not lost. */
static bool progress_restore(App *app, ProgressSession *session)
{
    bool found = false;
    Error err;
    if (!progress_load(session->dir, session->key, &session->progress, &found, &err)) {
        if (err.status == STATUS_NOINPUT) {
            char message[MAIN_WARNING_BYTES + 64];
            snprintf(message, sizeof message, "%s; it is left as it is, and this run's progress is not saved",
                     err.message);
            warn(message);
            return false;
        }
        warn(err.message);
    }
    if (found) {
        progress_to_app(app, &session->progress);
        session->seen = session->progress;
        session->have_seen = true;
    }
    return true;
}

/* Opens the lesson's progress: forgets it with --restart, else restores
 * it. Problems are warnings. False when progress cannot be kept at all. */
static bool progress_open(App *app, const Options *opts, ProgressSession *session)
{
    Error err;
    error_clear(&err);
    if (!progress_dir(session->dir, sizeof session->dir, &err)) {
        fprintf(stderr, "%s: warning: progress will not be kept: %s\n", PROGRAM_NAME, err.message);
        return false;
    }
    char path[LIMIT_PATH_BYTES];
    if (opts->lesson == NULL || realpath(opts->lesson, path) == NULL)
        snprintf(path, sizeof path, "%s", opts->lesson != NULL ? opts->lesson : "builtin:" BUILTIN_LESSON_PATH);
    progress_key(path, app->lesson->walk_hash, session->key, sizeof session->key);
    if (opts->restart) {
        if (!progress_forget(session->dir, session->key, &err))
            warn(err.message);
        return true;
    }
    return progress_restore(app, session);
}

/* ------------------------------------------------------------------------
 * The tracer
 * ---------------------------------------------------------------------- */

/* What the tracer keeps while it runs: large (the per-tensor state of every
 * step), so tracer_new puts it on the heap. */
typedef struct Tracer {
    App app;
    ProgressSession session;
    ViewOptions view;
    TuiOptions tui;
    char title[MAIN_TITLE_BYTES];
} Tracer;

/* Moves the tracer to step (where the walk has it); -1 stays. */
static void tracer_go(Tracer *t, int step)
{
    if (step < 0)
        return;
    for (int k = 0; k < t->app.n_walk; k++)
        if (t->app.walk[k] == step)
            app_go(&t->app, k);
}

/* A Tracer of trace (and lesson, or NULL) for mode, opened on first_step
 * (a step index, or -1). NULL with err set when out of memory. The caller
 * frees it (free); it points into trace and lesson. */
static Tracer *tracer_new(const Trace *trace, const Lesson *lesson, const Weights *weights, const Options *opts,
                          OutputMode mode, int first_step, Error *err)
{
    Tracer *t = calloc(1, sizeof *t);
    if (t == NULL) {
        error_oom(err, "the tracer");
        return NULL;
    }
    const char *no_color_env = getenv("NO_COLOR");
    const Config *cfg = &trace->config;
    if (lesson != NULL)
        snprintf(t->title, sizeof t->title, "%s", lesson->title);
    else if (cfg->sentence != NULL)
        snprintf(t->title, sizeof t->title, "%s", cfg->sentence);
    else
        snprintf(t->title, sizeof t->title, "%zu token ids", cfg->n_tokens);
    bool no_color = opts->no_color || (no_color_env != NULL && *no_color_env != '\0');
    t->view = (ViewOptions){
        .precision = opts->precision,
        .no_color = no_color || opts->colorblind, /* the size glyph after each value */
        .ascii = opts->ascii || (mode == MODE_TUI && !locale_is_utf8()),
        .title = t->title,
        .weights = weights,
    };
    t->tui = (TuiOptions){no_color, t->view.ascii, opts->presenter, opts->colorblind};
    app_init(&t->app, trace, lesson, &t->view);
    tracer_go(t, first_step);
    return t;
}

/* Restores a lesson's progress into the tracer and has every change of
 * step or quiz saved (first_step: an explicit --step, which wins over the
 * saved place, or -1). Nothing without a lesson. */
static void tracer_progress_begin(Tracer *t, const Options *opts, int first_step)
{
    App *app = &t->app;
    if (app->lesson != NULL && progress_open(app, opts, &t->session)) {
        app->on_progress = save_progress;
        app->progress_context = &t->session;
        tracer_go(t, first_step);
    }
}

/* Saves the last place, whatever the last change was, and reports the
 * first failed save as a warning. */
static void tracer_progress_end(Tracer *t)
{
    if (t->app.on_progress != NULL)
        save_progress(&t->app, &t->session);
    if (t->session.problem[0] != '\0')
        warn(t->session.problem);
}

/* The interactive tracer on the terminal, with the lesson's progress kept
 * between runs (first_step as tracer_progress_begin's). False with err
 * when the terminal UI fails. */
static bool run_terminal(Tracer *t, const Options *opts, int first_step, Error *err)
{
    App *app = &t->app;
    tracer_progress_begin(t, opts, first_step);
    if (opts->autoplay_ms > 0)
        app_start_autoplay(app, opts->autoplay_ms);
    int status = tui_run(app, &t->tui, err);
    tracer_progress_end(t);
    return status == STATUS_OK;
}

/* --line-mode: the same walk, quizzes and progress as the tracer, read as
 * plain lines from stdin and written to stdout (commands echoed when stdin
 * is not a terminal). False with err when stdout cannot be written. */
static bool run_lines(Tracer *t, const Options *opts, int first_step, Error *err)
{
    tracer_progress_begin(t, opts, first_step);
    bool ok = line_mode_run(&t->app, !isatty(STDIN_FILENO), stdin, stdout, err);
    tracer_progress_end(t);
    return ok;
}

/* The interactive tracer, on the terminal or headless (--dump-screen,
 * --bench-frames), or in plain lines (--line-mode). False with err on failure. */
static bool run_tracer(const Trace *trace, const Lesson *lesson, const Weights *weights, const Options *opts,
                       OutputMode mode, int first_step, Error *err)
{
    Tracer *t = tracer_new(trace, lesson, weights, opts, mode, first_step, err);
    if (t == NULL)
        return false;
    bool ok;
    if (mode == MODE_DUMP)
        ok = dump_screen(&t->app, opts, err);
    else if (mode == MODE_BENCH_FRAMES)
        ok = bench_frames(&t->app, opts, &t->tui, err);
    else if (mode == MODE_LINE)
        ok = run_lines(t, opts, first_step, err);
    else
        ok = run_terminal(t, opts, first_step, err);
    app_release(&t->app);
    free(t);
    return ok;
}

/* ------------------------------------------------------------------------
 * main: one run of the program, its state in one heap context
 * ---------------------------------------------------------------------- */

/* Everything one run holds; run_free releases it all, whatever was reached. */
typedef struct Run {
    Options opts;                         /* the command line */
    char lesson_path[CATALOG_PATH_BYTES]; /* LESSON looked up in the lesson directories */
    Lesson lesson;                        /* the lesson walked, when have_lesson */
    bool have_lesson;
    Weights weights; /* --weights' tensors; all zero when none */
    Trace *trace;    /* the trace, once built */
    int only_step;   /* --step's index, or -1 */
} Run;

/* A run with nothing in it yet, or NULL with err set when out of memory.
 * The caller releases it with run_free. */
static Run *run_new(Error *err)
{
    Run *run = calloc(1, sizeof *run);
    if (run == NULL)
        error_oom(err, "the program's state");
    else
        run->only_step = -1;
    return run;
}

/* Releases run and all it holds; NULL is a no-op. */
static void run_free(Run *run)
{
    if (run == NULL)
        return;
    trace_free(run->trace);
    weights_free(&run->weights);
    if (run->have_lesson)
        lesson_free(&run->lesson);
    cli_options_free(&run->opts);
    free(run);
}

/* A bare lesson name is looked up in the lesson directories. */
static bool resolve_lesson(Run *run, Error *err)
{
    if (run->opts.lesson != NULL) {
        if (!catalog_resolve(run->opts.lesson, run->lesson_path, sizeof run->lesson_path, err))
            return false;
        run->opts.lesson = run->lesson_path;
    }
    return true;
}

/* --list-steps: the rows of the step table that cfg's trace has (the
 * article's, or with --model the model's), "number<TAB>id<TAB>title" a
 * line, numbered as --step N counts them. */
static bool print_steps(const Config *cfg, Error *err)
{
    StrBuf list = {0};
    size_t number = 0;
    for (size_t i = 0; i < trace_step_def_count(); i++) {
        const TraceStepDef *def = trace_step_def(i);
        if (def->applies == NULL || def->applies(cfg))
            strbuf_printf(&list, "%zu\t%s\t%s\n", ++number, def->id, def->title);
    }
    bool ok = write_out(strbuf_text(&list), list.len, err);
    strbuf_free(&list);
    return ok;
}

/* --help, --version, --list-steps or --list-lessons: writes it to stdout. */
static bool print_info(const Options *opts, Error *err)
{
    if (opts->help)
        return write_out(cli_usage(), strlen(cli_usage()), err);
    if (opts->version) {
        const char version[] = PROGRAM_NAME " " PROGRAM_VERSION "\n";
        return write_out(version, sizeof version - 1, err);
    }
    if (opts->list_steps)
        return print_steps(&opts->config, err);
    StrBuf list = {0};
    bool ok = catalog_list(&list, err) && write_out(strbuf_text(&list), list.len, err);
    strbuf_free(&list);
    return ok;
}

/* The lesson's configuration with the flags applied on top, and its
 * precision unless --precision was given. */
static bool apply_lesson(Run *run, Error *err)
{
    Options *opts = &run->opts;
    config_free(&opts->config);
    if (!config_copy(&opts->config, &run->lesson.config, err) || !cli_apply_config(&opts->flags, &opts->config, err))
        return false;
    if (!opts->have_precision)
        opts->precision = run->lesson.precision;
    return true;
}

/* --weights: the files fix the sizes the flags left open, then stand in
 * for the draws. */
static bool load_weights(Run *run, Error *err)
{
    const ConfigFlags *flags = &run->opts.flags;
    unsigned fixed = (flags->have_vocab ? WEIGHTS_FIXED_VOCAB : 0u) |
                     (flags->have_d_model ? WEIGHTS_FIXED_D_MODEL : 0u) |
                     (flags->have_heads ? WEIGHTS_FIXED_HEADS : 0u);
    return weights_load(flags->weights_dir, fixed, trace_bytes, &run->opts.config, &run->weights, err);
}

/* --bench N: times the trace and writes the report. */
static bool run_bench(Run *run, Error *err)
{
    StrBuf report = {0};
    const Weights *weights = run->opts.flags.weights_dir != NULL ? &run->weights : NULL;
    bool ok = bench_trace(&run->opts.config, weights, run->opts.bench_runs, &report, err) &&
              write_out(strbuf_text(&report), report.len, err);
    strbuf_free(&report);
    return ok;
}

/* --step with a lesson: a number counts the lesson's walk (the header's
 * "step 2/7"), an id must be a step the lesson walks. Sets run->only_step
 * to the trace's index of it; false with a usage error (status 2) when
 * the lesson does not walk it. */
static bool find_lesson_step(Run *run, Error *err)
{
    const Lesson *lesson = &run->lesson;
    const char *arg = run->opts.step;
    char *end;
    long n = strtol(arg, &end, 10);
    if (*arg >= '0' && *arg <= '9' && *end == '\0') {
        if (n < 1 || n > lesson->n_steps)
            return error_set(err, STATUS_USAGE, "--step %s: the lesson's steps are numbered 1 to %d", arg,
                             lesson->n_steps);
        run->only_step = trace_find_step(run->trace, lesson->steps[n - 1].id, err);
        return run->only_step >= 0;
    }
    if ((run->only_step = trace_find_step(run->trace, arg, err)) < 0)
        return false;
    if (lesson_find_step(lesson, run->trace->steps[run->only_step].id) != NULL)
        return true;
    char walked[512] = "";
    for (int k = 0; k < lesson->n_steps; k++)
        snprintf(walked + strlen(walked), sizeof walked - strlen(walked), "%s%s", k > 0 ? ", " : "",
                 lesson->steps[k].id);
    return error_set(err, STATUS_USAGE, "--step %s: the lesson does not walk that step (it walks %s)", arg, walked);
}

/* The flat index i of a tensor of shape t as "[a,b,c]", into out. */
static void index_text(const Tensor *t, size_t i, char *out, size_t size)
{
    size_t idx[TENSOR_MAX_DIMS] = {0}, used = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = i % t->shape[d];
        i /= t->shape[d];
    }
    out[0] = '\0';
    for (int d = 0; d < t->ndim && used < size; d++)
        used += (size_t)snprintf(out + used, size - used, "%s%zu", d ? "," : "[", idx[d]);
    if (used < size)
        snprintf(out + used, size - used, "%s", t->ndim > 0 ? "]" : "[]");
}

/* --diff: one line per tensor of the two traces, how many of its values
 * differ and the largest change, then the totals; written to stdout. */
static bool write_diff(const Trace *original, const Trace *changed, Error *err)
{
    TraceDiff diff;
    if (!trace_diff(original, changed, &diff, err))
        return false;
    StrBuf out = {0};
    char changes[EXPERIMENT_MAX * 48];
    experiment_describe(changed->config.experiments, changes, sizeof changes);
    strbuf_printf(&out, "changes: %s\n%-12s %-20s %9s %9s  %-14s %s\n", changes, "part", "tensor", "changed", "of",
                  "largest change", "at");
    for (int i = 0; i < diff.n; i++) {
        const TensorDiff *d = &diff.tensors[i];
        char largest[32] = "-", at[64] = "-";
        if (d->a == NULL || d->b == NULL)
            snprintf(largest, sizeof largest, "only in %s", d->a == NULL ? "changed" : "original");
        else if (!d->same_shape)
            snprintf(largest, sizeof largest, "new shape");
        else if (d->changed > 0) {
            snprintf(largest, sizeof largest, "%.6g", d->max_change);
            index_text(d->b, d->max_at, at, sizeof at);
        }
        strbuf_printf(&out, "%-12s %-20s %9zu %9zu  %-14s %s\n", trace_part_name(d->part), d->name, d->changed,
                      d->cells, largest, at);
    }
    strbuf_printf(&out, "%d of %d tensors changed, %zu values in all\n", diff.tensors_changed, diff.n, diff.changed);
    size_t kv = experiment_kv_mismatches(changed);
    if (kv != SIZE_MAX)
        strbuf_printf(&out, "kv-cache: kv_output %s head_outputs' row (%zu values differ)\n",
                      kv == 0 ? "equals, bit for bit," : "differs from", kv);
    trace_diff_free(&diff);
    bool ok = write_out(strbuf_text(&out), out.len, err);
    strbuf_free(&out);
    return ok;
}

/* --diff: the trace without the changes (and without --causal, which
 * then counts as one), the trace with them, and what differs. */
static bool run_diff(Run *run, const Weights *weights, Error *err)
{
    Config base;
    ExperimentSet changes;
    experiment_set_init(&changes);
    if (run->opts.flags.causal && !experiment_parse(&changes, "causal", err))
        return false;
    for (int i = 0; i < run->opts.flags.changes.n && changes.n < EXPERIMENT_MAX; i++)
        changes.items[changes.n++] = run->opts.flags.changes.items[i];
    if (!config_copy(&base, &run->opts.config, err))
        return false;
    base.causal = base.causal && !run->opts.flags.causal;
    Trace *original = trace_build_weights(&base, weights, err);
    Trace *changed = original != NULL ? trace_rebuild(original, weights, &changes, err) : NULL;
    bool ok = changed != NULL && write_diff(original, changed, err);
    config_free(&base);
    trace_free(original);
    trace_free(changed);
    return ok;
}

/* Builds the trace, under the changes the flags ask for (the weights stay:
 * the tracer's experiments rebuild with them), evaluates the lesson's `=`
 * answers against it, and finds --step. */
static bool build_trace(Run *run, Error *err)
{
    const Weights *weights = run->opts.flags.weights_dir != NULL ? &run->weights : NULL;
    if (run->opts.mode == MODE_DIFF) {
        bool ok = run_diff(run, weights, err);
        weights_free(&run->weights);
        return ok;
    }
    run->trace = trace_build_experiments(&run->opts.config, weights, &run->opts.flags.changes, err);
    if (run->trace == NULL)
        return false;
    /* the lesson's `=` answers follow the trace on screen (flags included) */
    const char *lesson_name = run->opts.lesson != NULL ? run->opts.lesson : BUILTIN_LESSON_NAME;
    if (run->have_lesson && !lesson_bind_answers(&run->lesson, lesson_name, run->trace, weights, err))
        return false;
    if (run->opts.step != NULL && run->have_lesson)
        return find_lesson_step(run, err);
    return run->opts.step == NULL || (run->only_step = trace_find_step(run->trace, run->opts.step, err)) >= 0;
}

/* --export-py: writes the self-checking script (checking --export-npy's
 * directory by default, when both were given) and says so on stderr. */
static bool write_script(const Run *run, Error *err)
{
    const Options *opts = &run->opts;
    ExportPyOptions py = {opts->mode == MODE_NPY ? opts->npy_dir : NULL, run->only_step};
    if (!export_py(run->trace, opts->py_file, opts->flags.weights_dir, &py, err))
        return false;
    char shown[MAIN_SHOWN_NAME_BYTES];
    snprintf(shown, sizeof shown, "%s", opts->py_file);
    error_scrub(shown, false);
    fprintf(stderr, "%s: wrote the PyTorch check to %s\n", PROGRAM_NAME, shown);
    return true;
}

/* Writes the trace in the mode asked for (by default the tracer on a
 * terminal, else the text). */
static bool write_trace(Run *run, Error *err)
{
    const Options *opts = &run->opts;
    const Lesson *lesson = run->have_lesson ? &run->lesson : NULL;
    OutputMode mode = opts->mode;
    if (opts->py_file != NULL) { /* after the .npy files, so that the script names their directory as it is */
        if ((mode == MODE_NPY && !export_trace(run->trace, opts->npy_dir, run->only_step, err)) ||
            !write_script(run, err))
            return false;
        if (mode == MODE_DEFAULT || mode == MODE_NPY)
            return true;
    }
    if (mode == MODE_DEFAULT)
        mode = wants_terminal_ui() ? MODE_TUI : MODE_PRINT;
    if (mode == MODE_TUI || mode == MODE_DUMP || mode == MODE_BENCH_FRAMES || mode == MODE_LINE)
        return run_tracer(run->trace, lesson, opts->flags.weights_dir != NULL ? &run->weights : NULL, opts, mode,
                          run->only_step, err);
    if (mode == MODE_NPY)
        return export_trace(run->trace, opts->npy_dir, run->only_step, err);
    if (mode == MODE_SVG)
        return write_svg(run->trace, opts, run->only_step, err);
    PrintOptions print_opts = {opts->precision, run->only_step, lesson, opts->notes, opts->no_answers};
    return print_trace(run->trace, mode, &print_opts, err);
}

/* Sets SIGXFSZ to be ignored, so that exceeding the file size limit is a
 * write error (EFBIG) the program reports, not a silent death. */
static void ignore_file_size_signal(void)
{
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGXFSZ, &ignore, NULL);
}

/* Asks the C library to keep the memory of freed blocks for the next
 * ones. Tensors of 4 MiB or more have tensor.c's own cache of mappings;
 * the smaller ones (a [512, 768] tensor is 1.5 MiB) come from malloc,
 * which by default gives a large block back to the system when it is
 * freed (unmapping it, or trimming the heap), so the next one is fresh
 * pages and pays a page fault per 4 KiB it writes. That was half the time
 * of a recompute under a change at --tokens 512 --d-model 768 --heads 12
 * (docs/performance.md). Blocks up to 32 MiB (glibc's largest threshold)
 * now come from the heap, which keeps up to 256 MiB free at its top.
 * Other C libraries keep their defaults. */
static void keep_freed_memory(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
#endif
}

int main(int argc, char **argv)
{
    keep_freed_memory();
    /* The user's locale for the character set (UTF-8 or not), but always
     * '.' as the decimal point: JSON and the numbers depend on it. */
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    /* A file size limit (ulimit -f) makes a write fail with EFBIG instead
     * of killing the program, so it is reported like a full disk: one
     * line, exit 1, no temporary file left. */
    ignore_file_size_signal();
    Error err;
    error_clear(&err);
    Run *run = run_new(&err);
    if (run == NULL)
        return fail(&err);
    Options *opts = &run->opts;
    int status = STATUS_OK;
    if (!cli_parse(argc, argv, opts, &err) || !resolve_lesson(run, &err))
        goto failed;
    if (opts->check && !opts->help && !opts->version) {
        status = check_lessons(opts);
        goto out;
    }
    if (opts->help || opts->version || opts->list_steps || opts->list_lessons) {
        if (!print_info(opts, &err))
            goto failed;
        goto out;
    }
    /* The lesson (unless there is none), with any flags applied on top of
     * its configuration. */
    if (!opts->no_lesson) {
        if ((status = load_lesson(opts, &run->lesson)) != STATUS_OK)
            goto out;
        run->have_lesson = true;
        if (!apply_lesson(run, &err))
            goto failed;
    }
    if (opts->flags.weights_dir != NULL && !load_weights(run, &err))
        goto failed;
    if (opts->mode == MODE_BENCH  ? !run_bench(run, &err)
        : opts->mode == MODE_DIFF ? !build_trace(run, &err)
                                  : !build_trace(run, &err) || !write_trace(run, &err))
        goto failed;
    goto out;
failed:
    status = fail(&err);
out:
    run_free(run);
    return status;
}
