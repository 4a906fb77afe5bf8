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

void catalog_resolve(const char *lesson, char *path, size_t size)
{
    snprintf(path, size, "%s", lesson);
    if (is_file(lesson) || strchr(lesson, '/') != NULL)
        return;
    static char dirs[CATALOG_MAX_DIRS][CATALOG_PATH_BYTES];
    int n = catalog_dirs(dirs, CATALOG_MAX_DIRS);
    for (int i = 0; i < n; i++) {
        char candidate[CATALOG_PATH_BYTES * 2];
        snprintf(candidate, sizeof candidate, "%.4000s/%.1000s.lesson", dirs[i], lesson);
        if (!is_file(candidate))
            snprintf(candidate, sizeof candidate, "%.4000s/%.1000s", dirs[i], lesson);
        if (is_file(candidate)) {
            snprintf(path, size, "%s", candidate);
            return;
        }
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line for the lesson at path (named name). */
static void list_one(StrBuf *out, const char *dir, const char *name, const char *path, const char *state_dir)
{
    static Lesson lesson;
    LessonErrors errors = {0};
    int status = 0;
    char short_name[256];
    snprintf(short_name, sizeof short_name, "%.*s", (int)(strlen(name) - strlen(".lesson")), name);
    error_scrub(short_name, false); /* a file name may hold anything */
    if (!is_file(path)) { /* a FIFO or a device would block or never end */
        strbuf_printf(out, "  %-16s (not a regular file)\n", short_name);
        return;
    }
    if (!lesson_load(path, &lesson, &errors, &status)) {
        const char *text = strbuf_text(&errors.text);
        strbuf_printf(out, "  %-16s (has errors: %.*s)\n", short_name, (int)strcspn(text, "\n"), text);
        lesson_errors_free(&errors);
        return;
    }
    lesson_errors_free(&errors);
    int quizzes = 0;
    for (int k = 0; k < lesson.n_steps; k++)
        quizzes += lesson.steps[k].n_quizzes;
    char where[128] = "not started";
    if (state_dir != NULL) {
        char key[PROGRESS_KEY_BYTES];
        progress_key(path, lesson.hash, key, sizeof key);
        static Progress progress;
        bool found = false;
        char warning[256];
        progress_load(state_dir, key, &progress, &found, warning, sizeof warning);
        if (found) {
            /* a saved place is clamped to the lesson as it is now (it may
             * have been edited since, or the file damaged but well formed) */
            int answered = 0;
            for (int i = 0; i < progress.n_quizzes && i < quizzes; i++)
                answered += progress.quizzes[i] != QUIZ_UNANSWERED;
            int step = progress.last_step < lesson.n_steps ? progress.last_step : lesson.n_steps - 1;
            snprintf(where, sizeof where, "at step %d of %d, %d of %d questions done", step + 1, lesson.n_steps,
                     answered, quizzes);
        }
    }
    strbuf_printf(out, "  %-16s %s\n  %-16s %d steps, %d questions; %s\n", short_name, lesson.title, "",
                  lesson.n_steps, quizzes, where);
    (void)dir;
    lesson_free(&lesson);
}

void catalog_list(StrBuf *out)
{
    static char dirs[CATALOG_MAX_DIRS][CATALOG_PATH_BYTES];
    int n = catalog_dirs(dirs, CATALOG_MAX_DIRS);
    char state_buf[CATALOG_PATH_BYTES];
    Error err;
    error_clear(&err);
    const char *state_dir = progress_dir(state_buf, sizeof state_buf, &err) ? state_buf : NULL;
    if (n == 0)
        strbuf_printf(out, "No lesson directory found (looked in $ATTN_TRACE_LESSONS, lessons/ beside the "
                           "program, and %s).\n",
                      LESSON_DIR);
    for (int i = 0; i < n; i++) {
        char heading[CATALOG_PATH_BYTES];
        snprintf(heading, sizeof heading, "%.4000s", dirs[i]);
        error_scrub(heading, false);
        strbuf_printf(out, "%s%s:\n", i > 0 ? "\n" : "", heading);
        DIR *d = opendir(dirs[i]);
        if (d == NULL)
            continue;
        char *names[256];
        int count = 0;
        for (struct dirent *e = readdir(d); e != NULL && count < 256; e = readdir(d)) {
            size_t len = strlen(e->d_name);
            if (len > 7 && strcmp(e->d_name + len - 7, ".lesson") == 0 && e->d_name[0] != '.') {
                names[count] = malloc(len + 1);
                if (names[count] != NULL)
                    memcpy(names[count++], e->d_name, len + 1);
            }
        }
        closedir(d);
        qsort(names, (size_t)count, sizeof names[0], compare_names);
        for (int k = 0; k < count; k++) {
            char path[CATALOG_PATH_BYTES * 2];
            snprintf(path, sizeof path, "%.4000s/%.1000s", dirs[i], names[k]);
            list_one(out, dirs[i], names[k], path, state_dir);
            free(names[k]);
        }
        if (count == 0)
            strbuf_puts(out, "  (no lessons)\n");
    }
}
