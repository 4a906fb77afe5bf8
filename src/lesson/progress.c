/*
 * progress.c - the progress store: keys, the directory, and loading and
 * saving <key>.progress files (see progress.h for the format).
 *
 * A save writes a temporary file ".<key>.progress.<pid>.XXXXXX" next to
 * the real one and renames it over it, so a reader sees either the old
 * file or the new one, never a part. The pid in the name lets a later save
 * tell a temporary file of a killed save (its process is gone) from one
 * another process is writing right now.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* for realpath, an XSI function (ncursesw's flags may define it already) */
#endif

#include "progress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"

static const char MAGIC[] = "attn-trace-progress ";
static const char SUFFIX[] = ".progress";

/* One letter per QuizResult, in the enum's order. */
static const char RESULT_LETTERS[] = "UFTSR";
#define N_RESULTS ((int)(sizeof RESULT_LETTERS - 1))

/* ------------------------------------------------------------------------
 * Keys and paths
 * ---------------------------------------------------------------------- */

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    return h;
}

void progress_key(const char *lesson_path, uint64_t walk_hash, char *key, size_t size)
{
    if (key == NULL || size == 0)
        return;
    /* the name: after the last '/' or ':', without ".lesson" */
    const char *name = lesson_path;
    for (const char *c = lesson_path; *c != '\0'; c++)
        if (*c == '/' || *c == ':')
            name = c + 1;
    size_t len = strlen(name);
    if (len > 7 && strcmp(name + len - 7, ".lesson") == 0)
        len -= 7;
    char bare[PATH_MAX];
    snprintf(bare, sizeof bare, "%.*s", (int)(len < sizeof bare - 1 ? len : sizeof bare - 1), name);
    snprintf(key, size, "%016llx-%016llx", (unsigned long long)fnv1a64(bare), (unsigned long long)walk_hash);
}

/* A key may name files: 1..PROGRESS_KEY_BYTES-1 characters of [A-Za-z0-9_-]
 * (no '/', no '.', so no path tricks and no clash with temporary files). */
static bool key_is_valid(const char *key)
{
    size_t n = 0;
    for (; key[n] != '\0'; n++) {
        char c = key[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || n + 1 >= PROGRESS_KEY_BYTES)
            return false;
    }
    return n > 0;
}

/* Writes "dir/key.progress" into path. False when it does not fit. */
static bool progress_path(const char *dir, const char *key, char *path, size_t size)
{
    int n = snprintf(path, size, "%s/%s%s", dir, key, SUFFIX);
    return n >= 0 && (size_t)n < size;
}

/* Sets buf to an absolute env variable's value plus suffix. False when the
 * variable is unset, empty or relative. */
static bool dir_from_env(const char *name, const char *suffix, char *buf, size_t size, bool *too_long)
{
    const char *value = getenv(name);
    if (value == NULL || value[0] != '/')
        return false;
    size_t len = strlen(value);
    while (len > 0 && value[len - 1] == '/')
        len--; /* "/state/" gives "/state/attn-trace" and "/" "/attn-trace" */
    int n = snprintf(buf, size, "%.*s%s", (int)(len < INT_MAX ? len : INT_MAX), value, suffix);
    if (n < 0 || (size_t)n >= size) {
        *too_long = true;
        return false;
    }
    return true;
}

bool progress_dir(char *buf, size_t size, Error *err)
{
    bool too_long = false;
    if (dir_from_env("XDG_STATE_HOME", "/attn-trace", buf, size, &too_long))
        return true;
    if (!too_long && dir_from_env("HOME", "/.local/state/attn-trace", buf, size, &too_long))
        return true;
    if (size > 0)
        buf[0] = '\0';
    if (too_long)
        return error_set(err, STATUS_FAILURE, "cannot find where to keep progress: the path is too long");
    return error_set(err, STATUS_FAILURE,
                     "cannot find where to keep progress: set HOME or XDG_STATE_HOME to an absolute path");
}

/* ------------------------------------------------------------------------
 * Parsing a progress file
 * ---------------------------------------------------------------------- */

/* Writes a printf-style reason into why (why_size bytes) and returns false,
 * for the checks below: `return refuse(why, why_size, "...")`. */
static bool refuse(char *why, size_t why_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static bool refuse(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return false;
}

/* A cursor over the file's bytes. */
typedef struct Reader {
    const char *p;   /* next byte */
    const char *end; /* one past the last byte */
    int line;        /* 1-based number of the next line */
} Reader;

/* Takes the next line (without its '\n') into *text, *len. False when no
 * '\n' comes before the end: the file was cut short. */
static bool next_line(Reader *r, const char **text, size_t *len)
{
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (nl == NULL)
        return false;
    *text = r->p;
    *len = (size_t)(nl - r->p);
    r->p = nl + 1;
    r->line++;
    return true;
}

/* Whether text[0..len) starts with the NUL-terminated prefix. */
static bool starts_with(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(text, prefix, n) == 0;
}

/* Parses text[0..len) as a whole decimal number (digits only, at most 19)
 * in 0..max. */
static bool parse_number(const char *text, size_t len, long long max, long long *out)
{
    if (len == 0 || len > 19)
        return false;
    long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        int digit = text[i] - '0';
        if (v > (max - digit) / 10)
            return false; /* v * 10 + digit > max, checked without overflow */
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

/* Parses a "name: N" line with N in 0..max. */
static bool parse_number_line(const char *text, size_t len, const char *name, long long max, long long *out)
{
    size_t n = strlen(name);
    if (len < n + 2 || memcmp(text, name, n) != 0 || text[n] != ':' || text[n + 1] != ' ')
        return false;
    return parse_number(text + n + 2, len - n - 2, max, out);
}

/* Reads the first line of data[0..len) from r: the magic and the format
 * version, which must be PROGRESS_FORMAT_VERSION. On failure writes the
 * reason into why and returns false. */
static bool parse_magic_line(Reader *r, const char *data, size_t len, char *why, size_t why_size)
{
    const char *text;
    size_t n;
    long long value;
    if (!next_line(r, &text, &n)) {
        bool magic_so_far = memcmp(data, MAGIC, len < sizeof MAGIC - 1 ? len : sizeof MAGIC - 1) == 0;
        const char *reason = magic_so_far ? "the file is cut short (line 1)" : "not an attn-trace progress file";
        return refuse(why, why_size, "%s", reason);
    }
    if (!starts_with(text, n, MAGIC))
        return refuse(why, why_size, "not an attn-trace progress file");
    const char *version = text + (sizeof MAGIC - 1);
    size_t version_len = n - (sizeof MAGIC - 1);
    if (version_len != 1 || version[0] != '0' + PROGRESS_FORMAT_VERSION) {
        if (parse_number(version, version_len, LLONG_MAX, &value) && value != PROGRESS_FORMAT_VERSION)
            return refuse(why, why_size, "format version %lld (this attn-trace reads version %d)", value,
                          PROGRESS_FORMAT_VERSION);
        return refuse(why, why_size, "line 1: not a format version");
    }
    return true;
}

/* Reads the "quizzes:" line from r into out->quizzes and *n_quizzes. On
 * failure writes the reason into why and returns false. */
static bool parse_quizzes_line(Reader *r, Progress *out, int *n_quizzes, char *why, size_t why_size)
{
    const char *text;
    size_t n;
    if (!next_line(r, &text, &n))
        return refuse(why, why_size, "the file is cut short (line %d)", r->line);
    if (!starts_with(text, n, "quizzes:"))
        return refuse(why, why_size, "line %d: expected 'quizzes: ...'", r->line - 1);
    const char *q = text + 8;
    size_t q_len = n - 8;
    if (q_len % 2 != 0 || q_len / 2 > PROGRESS_MAX_QUIZZES)
        return refuse(why, why_size, "line %d: expected up to %d quiz letters, each after one space", r->line - 1,
                      PROGRESS_MAX_QUIZZES);
    *n_quizzes = (int)(q_len / 2);
    for (int i = 0; i < *n_quizzes; i++) {
        const char *letter = q[2 * i + 1] != '\0' ? strchr(RESULT_LETTERS, q[2 * i + 1]) : NULL;
        if (q[2 * i] != ' ' || letter == NULL)
            return refuse(why, why_size, "line %d: quiz %d is not one of the letters %s", r->line - 1, i + 1,
                          RESULT_LETTERS);
        out->quizzes[i] = (QuizResult)(letter - RESULT_LETTERS);
    }
    return true;
}

bool progress_parse(const char *data, size_t len, const char *key, Progress *out, char *why, size_t why_size)
{
    Reader r = {data, data + len, 1};
    const char *text;
    size_t n;
    long long value;

    if (len == 0)
        return refuse(why, why_size, "the file is empty");

    /* 1. The magic line and the format version. */
    if (!parse_magic_line(&r, data, len, why, why_size))
        return false;

    /* 2. The key: it must be the one asked for. */
    if (!next_line(&r, &text, &n))
        return refuse(why, why_size, "the file is cut short (line %d)", r.line);
    if (!starts_with(text, n, "key: "))
        return refuse(why, why_size, "line %d: expected 'key: ...'", r.line - 1);
    size_t key_len = strlen(key);
    if (n - 5 != key_len || memcmp(text + 5, key, key_len) != 0)
        return refuse(why, why_size, "it is for another lesson (line %d)", r.line - 1);

    /* 3. last_step. */
    if (!next_line(&r, &text, &n))
        return refuse(why, why_size, "the file is cut short (line %d)", r.line);
    if (!parse_number_line(text, n, "last_step", PROGRESS_MAX_STEP, &value))
        return refuse(why, why_size, "line %d: expected 'last_step: N' with N in 0..%d", r.line - 1, PROGRESS_MAX_STEP);
    int last_step = (int)value;

    /* 4. quizzes: one letter per quiz, each after a space. */
    int n_quizzes = 0;
    if (!parse_quizzes_line(&r, out, &n_quizzes, why, why_size))
        return false;

    /* 5. updated. */
    if (!next_line(&r, &text, &n))
        return refuse(why, why_size, "the file is cut short (line %d)", r.line);
    if (!parse_number_line(text, n, "updated", PROGRESS_MAX_UPDATED, &value))
        return refuse(why, why_size, "line %d: expected 'updated: N' with N in 0..%lld", r.line - 1,
                      PROGRESS_MAX_UPDATED);

    /* 6. The end marker, and nothing after it. */
    if (!next_line(&r, &text, &n))
        return refuse(why, why_size, "the file is cut short (line %d)", r.line);
    if (n != 3 || memcmp(text, "end", 3) != 0)
        return refuse(why, why_size, "line %d: expected 'end'", r.line - 1);
    if (r.p != r.end)
        return refuse(why, why_size, "text after the end line (line %d)", r.line);

    memcpy(out->lesson_key, key, key_len + 1);
    out->last_step = last_step;
    out->n_quizzes = n_quizzes;
    out->updated = value;
    return true;
}

/* ------------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------- */

/* Records in err, with status, "ignoring saved progress in PATH: REASON",
 * made safe to print by error_set (no control characters from the path).
 * Returns false, for progress_load's callers to return. */
static bool refuse_file(Error *err, int status, const char *path, const char *reason)
{
    return error_set(err, status, "ignoring saved progress in %s: %s", path, reason);
}

/* Reads the whole regular file at path (at most PROGRESS_MAX_FILE_BYTES)
 * into buf. Returns 1 on success, 0 when there is no file, -1 with the
 * reason in why when it cannot be opened or read (no permission, an I/O
 * error: its content is unknown), -2 when it is not a regular file or is
 * too large (its content is no progress). */
static int read_small_file(const char *path, char *buf, size_t *len, char *why, size_t why_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(why, why_size, "cannot open it: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, why_size, "cannot read it: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "it is not a regular file");
        close(fd);
        return -2;
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, PROGRESS_MAX_FILE_BYTES + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, why_size, "cannot read it: %s", strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > PROGRESS_MAX_FILE_BYTES) {
            snprintf(why, why_size, "it is larger than %d bytes", PROGRESS_MAX_FILE_BYTES);
            close(fd);
            return -2;
        }
    }
    close(fd);
    *len = got;
    return 1;
}

bool progress_load(const char *dir, const char *key, Progress *out, bool *found, Error *err)
{
    memset(out, 0, sizeof *out);
    *found = false;

    char path[LIMIT_PATH_BYTES];
    if (!key_is_valid(key))
        return refuse_file(err, STATUS_FAILURE, dir, "the lesson key is invalid");
    snprintf(out->lesson_key, sizeof out->lesson_key, "%s", key);
    if (!progress_path(dir, key, path, sizeof path))
        return refuse_file(err, STATUS_FAILURE, dir, "the path is too long");

    char data[PROGRESS_MAX_FILE_BYTES + 1];
    size_t len = 0;
    char why[256];
    int got = read_small_file(path, data, &len, why, sizeof why);
    if (got == 0)
        return true;
    if (got < 0)
        return refuse_file(err, STATUS_NOINPUT, path, why);
    Progress parsed;
    memset(&parsed, 0, sizeof parsed);
    if (!progress_parse(data, len, key, &parsed, why, sizeof why))
        return refuse_file(err, STATUS_DATAERR, path, why);
    *out = parsed;
    *found = true;
    return true;
}

/* ------------------------------------------------------------------------
 * Saving
 * ---------------------------------------------------------------------- */

/* Checks that progress can be written and read back. False with the reason
 * in why. */
static bool progress_valid(const Progress *progress, char *why, size_t why_size)
{
    if (memchr(progress->lesson_key, '\0', sizeof progress->lesson_key) == NULL || !key_is_valid(progress->lesson_key))
        return refuse(why, why_size, "invalid lesson key");
    if (progress->last_step < 0 || progress->last_step > PROGRESS_MAX_STEP)
        return refuse(why, why_size, "last_step %d is not in 0..%d", progress->last_step, PROGRESS_MAX_STEP);
    if (progress->n_quizzes < 0 || progress->n_quizzes > PROGRESS_MAX_QUIZZES)
        return refuse(why, why_size, "n_quizzes %d is not in 0..PROGRESS_MAX_QUIZZES (%d)", progress->n_quizzes,
                      PROGRESS_MAX_QUIZZES);
    for (int i = 0; i < progress->n_quizzes; i++)
        if ((int)progress->quizzes[i] < 0 || (int)progress->quizzes[i] >= N_RESULTS)
            return refuse(why, why_size, "quiz %d has no valid result (%d)", i + 1, (int)progress->quizzes[i]);
    if (progress->updated < 0 || progress->updated > PROGRESS_MAX_UPDATED)
        return refuse(why, why_size, "updated %lld is not in 0..%lld", progress->updated, PROGRESS_MAX_UPDATED);
    return true;
}

/* Formats progress (valid) as a file into buf. Returns its length. */
static size_t format_progress(const Progress *progress, long long updated, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "%s%d\nkey: %s\nlast_step: %d\nquizzes:", MAGIC, PROGRESS_FORMAT_VERSION,
                                progress->lesson_key, progress->last_step);
    for (int i = 0; i < progress->n_quizzes; i++) {
        buf[n++] = ' ';
        buf[n++] = RESULT_LETTERS[progress->quizzes[i]];
    }
    n += (size_t)snprintf(buf + n, size - n, "\nupdated: %lld\nend\n", updated);
    return n;
}

/* Creates dir and its missing parents with mode 0700. False with the
 * failing directory in failed and errno set. */
static bool make_dirs(const char *dir, char *failed, size_t failed_size)
{
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return true;
    char path[LIMIT_PATH_BYTES];
    size_t len = strlen(dir);
    if (len >= sizeof path) {
        snprintf(failed, failed_size, "the path");
        errno = ENAMETOOLONG;
        return false;
    }
    memcpy(path, dir, len + 1);
    /* Each prefix that ends before a '/' (and the whole path), in order. */
    for (size_t i = 1; i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        if (path[i - 1] == '/')
            continue; /* "a//b": the empty component was made already */
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0) {
            int e = errno;
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
                snprintf(failed, failed_size, "%s", path);
                errno = e == EEXIST ? ENOTDIR : e;
                return false;
            }
        }
        path[i] = saved;
    }
    return true;
}

/* Removes the temporary files of saves of key in dir whose process is
 * gone (killed mid-save), or is this one (a leftover of an earlier process
 * with the same pid). Best effort: errors are ignored. */
static void remove_stale_temporaries(const char *dir, const char *key)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    char prefix[PROGRESS_KEY_BYTES + 16];
    snprintf(prefix, sizeof prefix, ".%s%s.", key, SUFFIX);
    size_t prefix_len = strlen(prefix);
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (strncmp(name, prefix, prefix_len) != 0)
            continue;
        /* ".<key>.progress.<pid>.XXXXXX" */
        const char *p = name + prefix_len;
        long long pid = 0;
        size_t digits = 0;
        while (p[digits] >= '0' && p[digits] <= '9' && digits < 12)
            pid = pid * 10 + (p[digits++] - '0');
        if (digits == 0 || p[digits] != '.' || strlen(p + digits + 1) != 6 || pid <= 0 || pid > INT_MAX)
            continue;
        bool gone = (pid_t)pid == getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH);
        if (!gone)
            continue;
        char path[LIMIT_PATH_BYTES];
        int n = snprintf(path, sizeof path, "%s/%s", dir, name);
        if (n > 0 && (size_t)n < sizeof path)
            (void)unlink(path);
    }
    closedir(d);
}

/* Removes the progress files of the same lesson under an older walk:
 * "<name hash>-<other walk hash>.progress" beside key's file, so editing a
 * lesson's steps or quizzes leaves one file, not one per version. Called
 * once the new file is in place, so a kill at any point leaves a whole
 * progress file. Best effort: errors are ignored. */
static void remove_superseded(const char *dir, const char *key)
{
    const char *dash = strchr(key, '-');
    if (dash == NULL)
        return;
    size_t name_len = (size_t)(dash - key) + 1; /* "<name hash>-" */
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    char mine[PROGRESS_KEY_BYTES + 16];
    snprintf(mine, sizeof mine, "%s%s", key, SUFFIX);
    size_t mine_len = strlen(mine);
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (strncmp(name, key, name_len) != 0 || strlen(name) != mine_len || strcmp(name, mine) == 0 ||
            strcmp(name + mine_len - strlen(SUFFIX), SUFFIX) != 0)
            continue;
        char path[LIMIT_PATH_BYTES];
        int n = snprintf(path, sizeof path, "%s/%s", dir, name);
        if (n > 0 && (size_t)n < sizeof path)
            (void)unlink(path);
    }
    closedir(d);
}

/* fsyncs the directory dir, so a rename in it survives a crash. File
 * systems that cannot sync a directory (EINVAL) are let be. */
static bool sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0 || errno == EINVAL;
    int e = errno;
    close(fd);
    errno = e;
    return ok;
}

/* How much a quiz result says the learner did, for progress_merge: an
 * answer beats a revealed one, which beats a skip, which beats nothing. */
static int result_rank(QuizResult result)
{
    switch (result) {
    case QUIZ_RIGHT_FIRST_TRY:
        return 4;
    case QUIZ_RIGHT_AFTER_TRIES:
        return 3;
    case QUIZ_REVEALED:
        return 2;
    case QUIZ_SKIPPED:
        return 1;
    case QUIZ_UNANSWERED:
        return 0;
    }
    return 0;
}

void progress_merge(Progress *into, const Progress *other, bool furthest_step)
{
    if (furthest_step && other->last_step > into->last_step)
        into->last_step = other->last_step;
    for (int i = 0; i < other->n_quizzes && i < PROGRESS_MAX_QUIZZES; i++) {
        if (i >= into->n_quizzes)
            into->quizzes[i] = QUIZ_UNANSWERED;
        if (result_rank(other->quizzes[i]) > result_rank(into->quizzes[i]))
            into->quizzes[i] = other->quizzes[i];
    }
    if (other->n_quizzes > into->n_quizzes)
        into->n_quizzes = other->n_quizzes <= PROGRESS_MAX_QUIZZES ? other->n_quizzes : PROGRESS_MAX_QUIZZES;
}

/* Whether two progress records say the same (step and quizzes). */
static bool progress_same(const Progress *a, const Progress *b)
{
    if (a->last_step != b->last_step || a->n_quizzes != b->n_quizzes)
        return false;
    for (int i = 0; i < a->n_quizzes; i++)
        if (a->quizzes[i] != b->quizzes[i])
            return false;
    return true;
}

/* Step 2 of a save: the file at path as it is now. A file that is there
 * but cannot be read makes it false, with the reason in why: it is never
 * replaced. With merge, a file that parses is merged into *merged (a copy
 * of what is being saved): every quiz keeps its best result, and when the
 * file is not what this window last saw (base; NULL: nothing) another
 * window wrote it, so the furthest step wins too. A damaged file is
 * replaced. */
static bool merge_existing(const char *path, Progress *merged, bool merge, const Progress *base, char *why,
                           size_t why_size)
{
    char data[PROGRESS_MAX_FILE_BYTES + 1];
    size_t len = 0;
    char reason[200];
    int got = read_small_file(path, data, &len, reason, sizeof reason);
    if (got == -1)
        return refuse(why, why_size, "%s exists but %s: it is left as it is", path, reason);
    Progress on_disk;
    memset(&on_disk, 0, sizeof on_disk);
    if (merge && got > 0 && progress_parse(data, len, merged->lesson_key, &on_disk, reason, sizeof reason))
        progress_merge(merged, &on_disk, base == NULL || !progress_same(base, &on_disk));
    return true;
}

/* progress_save and progress_save_merged: saves progress (merged with the
 * file on disk when merge, see merge_existing) and, when written is not
 * NULL, sets *written to what the file now holds. */
static bool save_file(const char *dir, const Progress *progress, bool merge, const Progress *base, Progress *written,
                      Error *err)
{
    char why[LIMIT_PATH_BYTES + 256];
    if (dir == NULL || dir[0] == '\0')
        return error_set(err, STATUS_FAILURE, "cannot save progress: no directory");
    if (!progress_valid(progress, why, sizeof why))
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: %s", dir, why);

    char path[LIMIT_PATH_BYTES];
    char tmp[LIMIT_PATH_BYTES];
    int n = snprintf(tmp, sizeof tmp, "%s/.%s%s.%ld.XXXXXX", dir, progress->lesson_key, SUFFIX, (long)getpid());
    if (!progress_path(dir, progress->lesson_key, path, sizeof path) || n < 0 || (size_t)n >= sizeof tmp)
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: the path is too long", dir);

    /* 1. The directory. */
    char failed[LIMIT_PATH_BYTES];
    if (!make_dirs(dir, failed, sizeof failed))
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: %s: %s", dir, failed, strerror(errno));
    remove_stale_temporaries(dir, progress->lesson_key);

    /* 2. What another window saved meanwhile, merged in; a file that
     * cannot be read is never replaced. */
    Progress merged = *progress;
    if (!merge_existing(path, &merged, merge, base, why, sizeof why))
        return error_set(err, STATUS_FAILURE, "cannot save progress: %s", why);

    /* 3. The text, whole, before anything is written. */
    long long updated = progress->updated != 0 ? progress->updated : (long long)time(NULL);
    if (updated < 0 || updated > PROGRESS_MAX_UPDATED)
        updated = 0;
    char text[PROGRESS_MAX_FILE_BYTES];
    size_t len = format_progress(&merged, updated, text, sizeof text);

    /* 4. A temporary file, written and synced. */
    int fd = mkstemp(tmp);
    if (fd < 0)
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: %s", dir, strerror(errno));
    if (!fd_write_all(fd, text, len) || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: %s", dir, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: %s", dir, strerror(e));
    }

    /* 5. The switch: rename is atomic, then make it last. */
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: %s", dir, strerror(e));
    }
    if (written != NULL)
        *written = merged;
    if (!sync_dir(dir))
        return error_set(err, STATUS_FAILURE, "cannot save progress in %s: %s", dir, strerror(errno));
    remove_superseded(dir, progress->lesson_key);
    return true;
}

bool progress_save(const char *dir, const Progress *progress, Error *err)
{
    return save_file(dir, progress, false, NULL, NULL, err);
}

bool progress_save_merged(const char *dir, const Progress *progress, const Progress *base, Progress *written,
                          Error *err)
{
    return save_file(dir, progress, true, base, written, err);
}

/* ------------------------------------------------------------------------
 * Forgetting
 * ---------------------------------------------------------------------- */

bool progress_forget(const char *dir, const char *key, Error *err)
{
    if (dir == NULL || dir[0] == '\0')
        return error_set(err, STATUS_FAILURE, "cannot forget progress: no directory");
    if (!key_is_valid(key))
        return error_set(err, STATUS_FAILURE, "cannot forget progress in %s: invalid lesson key", dir);
    char path[LIMIT_PATH_BYTES];
    if (!progress_path(dir, key, path, sizeof path))
        return error_set(err, STATUS_FAILURE, "cannot forget progress in %s: the path is too long", dir);
    remove_stale_temporaries(dir, key);
    if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR)
        return error_set(err, STATUS_FAILURE, "cannot forget progress in %s: %s", dir, strerror(errno));
    return true;
}
