/*
 * catalog.c - finding and listing lessons (see catalog.h).
 */
#include "catalog.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "lesson.h"
#include "utf8.h"
#include "progress.h"

/* True when path names a directory. */
static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* True when path names a regular file. */
static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Adds dir to dirs when it is a directory not already there. */
static void add_dir(char dirs[][CATALOG_PATH_BYTES], int *n, int max, const char *dir)
{
    if (*n >= max || dir[0] == '\0' || !is_dir(dir))
        return;
    char real[CATALOG_PATH_BYTES];
    if (realpath(dir, real) == NULL)
        return;
    for (int i = 0; i < *n; i++)
        if (strcmp(dirs[i], real) == 0)
            return;
    snprintf(dirs[(*n)++], CATALOG_PATH_BYTES, "%s", real);
}

int catalog_dirs(char dirs[][CATALOG_PATH_BYTES], int max)
{
    int n = 0;
    /* 1. $ATTN_TRACE_LESSONS, colon-separated */
    const char *env = getenv("ATTN_TRACE_LESSONS");
    if (env != NULL) {
        char list[CATALOG_PATH_BYTES];
        snprintf(list, sizeof list, "%s", env);
        for (char *part = strtok(list, ":"); part != NULL; part = strtok(NULL, ":"))
            add_dir(dirs, &n, max, part);
    }
    /* 2. lessons/ beside the binary's directory (a build tree) */
    char exe[CATALOG_PATH_BYTES];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            char dir[CATALOG_PATH_BYTES + 16];
            snprintf(dir, sizeof dir, "%s/../lessons", exe);
            add_dir(dirs, &n, max, dir);
        }
    }
    /* 3. the installed lessons */
    add_dir(dirs, &n, max, LESSON_DIR);
    return n;
}

/* A list of lesson directories on the heap (CATALOG_MAX_DIRS paths of
 * CATALOG_PATH_BYTES: too large for the stack). Returns NULL with err when
 * memory runs out; the caller frees it. */
static char (*dirs_new(Error *err))[CATALOG_PATH_BYTES]
{
    char(*dirs)[CATALOG_PATH_BYTES] = malloc(CATALOG_MAX_DIRS * sizeof *dirs);
    if (dirs == NULL)
        error_oom(err, "the list of lesson directories");
    return dirs;
}

bool catalog_resolve(const char *lesson, char *path, size_t size, Error *err)
{
    int n = snprintf(path, size, "%s", lesson);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            path[0] = '\0';
        return error_set(err, STATUS_NOINPUT,
                         "%.300s: cannot open: the path is longer than %zu bytes (LIMIT_PATH_BYTES)", lesson,
                         size > 0 ? size - 1 : 0);
    }
    if (is_file(lesson) || strchr(lesson, '/') != NULL)
        return true;
    char(*dirs)[CATALOG_PATH_BYTES] = dirs_new(err);
    if (dirs == NULL) {
        path[0] = '\0';
        return false;
    }
    int n_dirs = catalog_dirs(dirs, CATALOG_MAX_DIRS);
    for (int i = 0; i < n_dirs; i++) {
        char candidate[CATALOG_PATH_BYTES * 2];
        snprintf(candidate, sizeof candidate, "%.4000s/%.1000s.lesson", dirs[i], lesson);
        if (!is_file(candidate))
            snprintf(candidate, sizeof candidate, "%.4000s/%.1000s", dirs[i], lesson);
        if (is_file(candidate) && strlen(candidate) < size) {
            snprintf(path, size, "%s", candidate);
            break;
        }
    }
    free(dirs);
    return true;
}

bool catalog_find_model(const char *name, char *path, size_t size, Error *err)
{
    int n = snprintf(path, size, "%s", name);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            path[0] = '\0';
        return error_set(err, STATUS_NOINPUT, "%.300s: no such model: the name is longer than %zu bytes", name,
                         size > 0 ? size - 1 : 0);
    }
    if (strchr(name, '/') != NULL || is_dir(name))
        return true;
    char(*dirs)[CATALOG_PATH_BYTES] = dirs_new(err);
    if (dirs == NULL) {
        path[0] = '\0';
        return false;
    }
    int n_dirs = catalog_dirs(dirs, CATALOG_MAX_DIRS);
    bool found = false;
    for (int i = 0; i < n_dirs && !found; i++) {
        char candidate[CATALOG_PATH_BYTES * 2];
        snprintf(candidate, sizeof candidate, "%.4000s/models/%.1000s", dirs[i], name);
        found = is_dir(candidate) && strlen(candidate) < size;
        if (found)
            snprintf(path, size, "%s", candidate);
    }
    if (!found) {
        char looked[CATALOG_PATH_BYTES] = "";
        for (int i = 0; i < n_dirs; i++)
            snprintf(looked + strlen(looked), sizeof looked - strlen(looked), "%s%s", i > 0 ? ", " : "", dirs[i]);
        error_scrub(looked, false);
        path[0] = '\0';
        error_set(err, STATUS_NOINPUT, "%.300s: no such model (looked for models/%.300s in %.3000s)", name, name,
                  n_dirs > 0 ? looked : "no lesson directory");
    }
    free(dirs);
    return found;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What listing one lesson needs, too large for the stack: allocated once
 * per catalog_list and reused for every lesson. */
typedef struct ListScratch {
    Lesson lesson;     /* the lesson being listed */
    Progress progress; /* its saved progress */
} ListScratch;

/* "at step S: R right, V revealed, K skipped" (the quizzes so far) into where (size bytes) when
 * state_dir holds usable progress of the lesson at path; else leaves where
 * as it is. An unusable progress file is left alone: the lesson shows as
 * not started, as it would start. */
static void describe_progress(ListScratch *scratch, const char *path, const char *state_dir, int quizzes, char *where,
                              size_t size)
{
    const Lesson *lesson = &scratch->lesson;
    Progress *progress = &scratch->progress;
    char key[PROGRESS_KEY_BYTES];
    progress_key(path, lesson->walk_hash, key, sizeof key);
    bool found = false;
    Error unusable; /* ignored: see above */
    error_clear(&unusable);
    progress_load(state_dir, key, progress, &found, &unusable);
    if (!found)
        return;
    /* a saved place is clamped to the lesson as it is now (it may have
     * been edited since, or the file damaged but well formed) */
    int right = 0, revealed = 0, skipped = 0;
    for (int i = 0; i < progress->n_quizzes && i < quizzes; i++) {
        QuizResult r = progress->quizzes[i];
        right += r == QUIZ_RIGHT_FIRST_TRY || r == QUIZ_RIGHT_AFTER_TRIES;
        revealed += r == QUIZ_REVEALED;
        skipped += r == QUIZ_SKIPPED;
    }
    int step = progress->last_step < lesson->n_steps ? progress->last_step : lesson->n_steps - 1;
    snprintf(where, size, "at step %d: %d right, %d revealed, %d skipped", step + 1, right, revealed, skipped);
}

/* The name column of --list-lessons, and how wide a title may be after
 * it so that a line fits 80 columns. */
#define NAME_COLS 16
#define TITLE_COLS (80 - 2 - NAME_COLS - 1)

/* text cut to at most max_cols terminal columns into buf (size bytes),
 * ending in "…" when it was cut; a cut never splits a character. */
static const char *cut_to_cols(const char *text, int max_cols, char *buf, size_t size)
{
    if ((int)utf8_width(text) <= max_cols) {
        snprintf(buf, size, "%s", text);
        return buf;
    }
    size_t at = 0;
    int cols = 0;
    while (text[at] != '\0') {
        uint32_t cp;
        int len = utf8_decode(text + at, &cp);
        len = len > 0 ? len : 1;
        int w = (int)utf8_width_n(text + at, (size_t)len);
        if (cols + w > max_cols - 1 || at + (size_t)len + 4 > size)
            break;
        cols += w;
        at += (size_t)len;
    }
    snprintf(buf, size, "%.*s…", (int)at, text);
    return buf;
}

/* Writes the start of a --list-lessons entry: "  NAME" padded to its
 * column, or, for a name wider than the column, the name on a line of its
 * own and the column left blank on the next, so what follows stays in
 * line. */
static void put_name(StrBuf *out, const char *name)
{
    int w = (int)utf8_width(name);
    if (w > NAME_COLS)
        strbuf_printf(out, "  %s\n  %*s ", name, NAME_COLS, "");
    else
        strbuf_printf(out, "  %s%*s ", name, NAME_COLS - w, "");
}

/* One line for the lesson at path (named name). */
static void list_one(StrBuf *out, ListScratch *scratch, const char *name, const char *path, const char *state_dir)
{
    Lesson *lesson = &scratch->lesson;
    LessonErrors errors = {0};
    char short_name[256];
    snprintf(short_name, sizeof short_name, "%.*s", (int)(strlen(name) - strlen(".lesson")), name);
    error_scrub(short_name, false); /* a file name may hold anything */
    if (!is_file(path)) {           /* a FIFO or a device would block or never end */
        put_name(out, short_name);
        strbuf_puts(out, "(not a regular file)\n");
        return;
    }
    if (!lesson_load(path, lesson, &errors)) {
        const char *text = strbuf_text(&errors.text);
        put_name(out, short_name);
        strbuf_printf(out, "(has errors: %.*s)\n", (int)strcspn(text, "\n"), text);
        lesson_errors_free(&errors);
        return;
    }
    lesson_errors_free(&errors);
    int quizzes = 0;
    for (int k = 0; k < lesson->n_steps; k++)
        quizzes += lesson->steps[k].n_quizzes;
    char where[128] = "not started";
    if (state_dir != NULL)
        describe_progress(scratch, path, state_dir, quizzes, where, sizeof where);
    char title[TITLE_COLS * 4 + 8];
    put_name(out, short_name);
    strbuf_printf(out, "%s\n", cut_to_cols(lesson->title, TITLE_COLS, title, sizeof title));
    strbuf_printf(out, "  %*s %d steps, %d questions; %s\n", NAME_COLS, "", lesson->n_steps, quizzes, where);
    lesson_free(lesson);
}

/* Reads the names of the lessons in dir (files ending in ".lesson", not
 * hidden) into names, sorted; *count gets how many. Returns true; or false
 * with err when there are more than CATALOG_MAX_LESSONS or memory runs
 * out. The caller frees names[0..*count) in either case. A directory that
 * cannot be opened holds no lessons. */
static bool read_lesson_names(const char *dir, char *names[CATALOG_MAX_LESSONS], int *count, Error *err)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return true;
    bool ok = true;
    for (struct dirent *e = readdir(d); e != NULL && ok; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len <= 7 || strcmp(e->d_name + len - 7, ".lesson") != 0 || e->d_name[0] == '.')
            continue;
        if (*count == CATALOG_MAX_LESSONS) {
            char shown[CATALOG_PATH_BYTES];
            snprintf(shown, sizeof shown, "%s", dir);
            ok = error_set(err, STATUS_DATAERR, "%.4000s: more than %d lessons in one directory (CATALOG_MAX_LESSONS)",
                           shown, CATALOG_MAX_LESSONS);
            break;
        }
        names[*count] = malloc(len + 1);
        if (names[*count] == NULL) {
            ok = error_oom(err, "a lesson's name");
            break;
        }
        memcpy(names[(*count)++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(names, (size_t)*count, sizeof names[0], compare_names);
    return ok;
}

/* Lists the lessons of dir (the i-th lesson directory) into out. */
static bool list_dir(StrBuf *out, ListScratch *scratch, const char *dir, int i, const char *state_dir, Error *err)
{
    char heading[CATALOG_PATH_BYTES];
    snprintf(heading, sizeof heading, "%.4000s", dir);
    error_scrub(heading, false);
    strbuf_printf(out, "%s%s:\n", i > 0 ? "\n" : "", heading);
    char *names[CATALOG_MAX_LESSONS];
    int count = 0;
    bool ok = read_lesson_names(dir, names, &count, err);
    for (int k = 0; k < count; k++) {
        if (ok) {
            char path[CATALOG_PATH_BYTES * 2];
            snprintf(path, sizeof path, "%.4000s/%.1000s", dir, names[k]);
            list_one(out, scratch, names[k], path, state_dir);
        }
        free(names[k]);
    }
    if (ok && count == 0)
        strbuf_puts(out, "  (no lessons)\n");
    return ok;
}

bool catalog_list(StrBuf *out, Error *err)
{
    char(*dirs)[CATALOG_PATH_BYTES] = dirs_new(err);
    ListScratch *scratch = malloc(sizeof *scratch);
    if (dirs == NULL || scratch == NULL) {
        free(dirs);
        free(scratch);
        return error_oom(err, "the list of lessons");
    }
    int n = catalog_dirs(dirs, CATALOG_MAX_DIRS);
    char state_buf[CATALOG_PATH_BYTES];
    Error no_state; /* without a state directory every lesson is "not started" */
    error_clear(&no_state);
    const char *state_dir = progress_dir(state_buf, sizeof state_buf, &no_state) ? state_buf : NULL;
    if (n == 0)
        strbuf_printf(out,
                      "No lesson directory found (looked in $ATTN_TRACE_LESSONS, lessons/ beside the "
                      "program, and %s).\n",
                      LESSON_DIR);
    bool ok = true;
    for (int i = 0; i < n && ok; i++)
        ok = list_dir(out, scratch, dirs[i], i, state_dir, err);
    free(scratch);
    free(dirs);
    return ok;
}
