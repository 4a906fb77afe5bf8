/*
 * check_progress.c - the progress store: keys, the directory it lives in,
 * round trips, refusing every kind of damaged file without crashing, saves
 * that fail without harming the old file, and forgetting.
 *
 * Every test runs with XDG_STATE_HOME pointing into a fresh mkdtemp
 * directory, which the teardown removes and whose variables it restores
 * (tests may run in one process under CK_FORK=no).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath, for the reference key */
#endif

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "suites.h"

/* ------------------------------------------------------------------------
 * Fixture: a scratch directory as XDG_STATE_HOME
 * ---------------------------------------------------------------------- */

static char g_tmp[512];    /* the scratch directory */
static char g_dir[600];    /* g_tmp/state/attn-trace: where progress goes */
static char *g_saved_home; /* HOME before the test, or NULL; owned */
static char *g_saved_xdg;  /* XDG_STATE_HOME before the test, or NULL; owned */

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL)
        return NULL;
    char *copy = malloc(strlen(v) + 1);
    ck_assert_ptr_nonnull(copy);
    strcpy(copy, v);
    return copy;
}

static void restore_env(const char *name, char *value)
{
    if (value != NULL)
        setenv(name, value, 1);
    else
        unsetenv(name);
    free(value);
}

/* Removes path and everything under it, making directories writable first
 * (a test may leave one at 0500). */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char child[1024];
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    g_saved_home = dup_env("HOME");
    g_saved_xdg = dup_env("XDG_STATE_HOME");
    const char *base = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/attn-progress-test.XXXXXX", base != NULL && base[0] == '/' ? base : "/tmp");
    ck_assert_msg(mkdtemp(g_tmp) != NULL, "mkdtemp: %s", strerror(errno));
    char state[560];
    snprintf(state, sizeof state, "%s/state", g_tmp);
    setenv("XDG_STATE_HOME", state, 1);
    snprintf(g_dir, sizeof g_dir, "%s/attn-trace", state);
}

static void teardown(void)
{
    remove_tree(g_tmp);
    restore_env("HOME", g_saved_home);
    restore_env("XDG_STATE_HOME", g_saved_xdg);
    g_saved_home = g_saved_xdg = NULL;
}

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* An independent FNV-1a 64 (checked against published vectors below). */
static uint64_t ref_fnv1a64(const char *s)
{
    uint64_t h = 14695981039346656037u;
    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 1099511628211u;
    }
    return h;
}

/* A progress record for key with n quizzes in a pattern shifted by seed. */
static Progress sample(const char *key, int last_step, int n, int seed)
{
    Progress p;
    memset(&p, 0, sizeof p);
    snprintf(p.lesson_key, sizeof p.lesson_key, "%s", key);
    p.last_step = last_step;
    p.n_quizzes = n;
    for (int i = 0; i < n; i++)
        p.quizzes[i] = (QuizResult)((i + seed) % 5);
    p.updated = 1732434000 + seed;
    return p;
}

static void assert_same(const Progress *a, const Progress *b)
{
    ck_assert_str_eq(a->lesson_key, b->lesson_key);
    ck_assert_int_eq(a->last_step, b->last_step);
    ck_assert_int_eq(a->n_quizzes, b->n_quizzes);
    for (int i = 0; i < a->n_quizzes; i++)
        ck_assert_msg(a->quizzes[i] == b->quizzes[i], "quiz %d: %d, want %d", i, (int)b->quizzes[i],
                      (int)a->quizzes[i]);
    ck_assert_int_eq(a->updated, b->updated);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Reads a small file whole into buf; returns its length. */
static size_t read_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* Entries of dir other than . and .., or -1 when it cannot be opened. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Makes g_dir (and its parent) exist. */
static void make_dir(void)
{
    char state[600];
    snprintf(state, sizeof state, "%s/state", g_tmp);
    mkdir(state, 0700);
    mkdir(g_dir, 0700);
}

/* progress_load with the contract it had before it returned an Error: true
 * always, and warning (warning_size bytes; NULL or 0 for none) gets "" or
 * the Error's message, cut to fit. The tests written for that contract use
 * it unchanged; test_load_error checks the Error itself. */
static bool load_with_warning(const char *dir, const char *key, Progress *out, bool *found, char *warning,
                              size_t warning_size)
{
    Error err;
    error_clear(&err);
    bool usable = progress_load(dir, key, out, found, &err);
    ck_assert_msg(usable || err.status != STATUS_OK, "false without an error status");
    ck_assert_msg(!usable || !*found || err.message[0] == '\0', "loaded with an error '%s'", err.message);
    if (warning != NULL && warning_size > 0)
        snprintf(warning, warning_size, "%s", usable ? "" : err.message);
    return true;
}

/* The test's standard key and the path of its file in g_dir. */
static void test_key(char *key, char *path, size_t path_size)
{
    progress_key("/lessons/test.lesson", 0xc0ffee0123456789u, key, PROGRESS_KEY_BYTES);
    snprintf(path, path_size, "%s/%s.progress", g_dir, key);
}

/* Loads key from dir and asserts that nothing usable was found and that a
 * one-line printable warning came back; what is the case, for messages. */
static void assert_refused(const char *dir, const char *key, const char *what, const char *warning_part)
{
    Progress p;
    bool found = true;
    char warning[512];
    memset(warning, 'x', sizeof warning);
    ck_assert(load_with_warning(dir, key, &p, &found, warning, sizeof warning));
    ck_assert_msg(!found, "%s: loaded as valid", what);
    ck_assert_msg(warning[0] != '\0', "%s: no warning", what);
    ck_assert_msg(memchr(warning, '\0', sizeof warning) != NULL, "%s: warning not terminated", what);
    for (const char *c = warning; *c != '\0'; c++)
        ck_assert_msg((unsigned char)*c >= 0x20 && *c != 0x7f, "%s: control character in warning '%s'", what, warning);
    ck_assert_msg(strstr(warning, "ignoring saved progress in ") == warning, "%s: warning '%s'", what, warning);
    if (warning_part != NULL)
        ck_assert_msg(strstr(warning, warning_part) != NULL, "%s: warning '%s' lacks '%s'", what, warning,
                      warning_part);
    /* a refused file still gives a fresh start for the key */
    ck_assert_str_eq(p.lesson_key, key);
    ck_assert_int_eq(p.last_step, 0);
    ck_assert_int_eq(p.n_quizzes, 0);
}

/* ------------------------------------------------------------------------
 * Keys
 * ---------------------------------------------------------------------- */

START_TEST(test_fnv_reference)
{
    /* published FNV-1a 64 test vectors */
    ck_assert_uint_eq(ref_fnv1a64(""), 0xcbf29ce484222325u);
    ck_assert_uint_eq(ref_fnv1a64("a"), 0xaf63dc4c8601ec8cu);
    ck_assert_uint_eq(ref_fnv1a64("foobar"), 0x85944171f73967e8u);
}
END_TEST

START_TEST(test_key_format_and_stability)
{
    char a[PROGRESS_KEY_BYTES], b[PROGRESS_KEY_BYTES], want[PROGRESS_KEY_BYTES];
    /* the first half hashes the lesson's name: the path's last part, without ".lesson" */
    progress_key("/no/such/dir/x.lesson", 0xc0ffee0000000001u, a, sizeof a);
    snprintf(want, sizeof want, "%016llx-c0ffee0000000001", (unsigned long long)ref_fnv1a64("x"));
    ck_assert_str_eq(a, want);
    ck_assert_uint_eq(strlen(a), 33);
    for (size_t i = 0; i < 33; i++)
        ck_assert_msg(i == 16 ? a[i] == '-' : strchr("0123456789abcdef", a[i]) != NULL, "key '%s' char %zu", a, i);

    /* stable */
    progress_key("/no/such/dir/x.lesson", 0xc0ffee0000000001u, b, sizeof b);
    ck_assert_str_eq(a, b);
    /* differs by walk hash, and only in its second half */
    progress_key("/no/such/dir/x.lesson", 0xc0ffee0000000002u, b, sizeof b);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(memcmp(a, b, 17), 0);
    /* differs by path, and only in its first half */
    progress_key("/no/such/dir/y.lesson", 0xc0ffee0000000001u, b, sizeof b);
    ck_assert_str_ne(a, b);
    ck_assert_str_eq(a + 16, b + 16);
    /* a hash of 0 and of all ones */
    progress_key("x", 0, b, sizeof b);
    ck_assert_str_eq(b + 16, "-0000000000000000");
    progress_key("x", UINT64_MAX, b, sizeof b);
    ck_assert_str_eq(b + 16, "-ffffffffffffffff");
}
END_TEST

/* Issue 15 defect 9 and issue 12: one lesson, one progress. The key names
 * the lesson (its file name without ".lesson"), so the built-in lesson
 * and lessons/article.lesson, or a copy moved elsewhere, share it. */
START_TEST(test_key_is_the_lessons_name)
{
    char file[700], other[700];
    snprintf(file, sizeof file, "%s/f.lesson", g_tmp);
    write_file(file, "attn-lesson: 1\n", 15);
    char want[PROGRESS_KEY_BYTES], key[PROGRESS_KEY_BYTES];
    snprintf(want, sizeof want, "%016llx-%016llx", (unsigned long long)ref_fnv1a64("f"), 42ull);
    static const char *const elsewhere[] = {"f.lesson", "/usr/share/attn-trace/lessons/f.lesson",
                                            "builtin:lessons/f.lesson", "f"};
    for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++) {
        progress_key(elsewhere[i], 42, key, sizeof key);
        ck_assert_msg(strcmp(key, want) == 0, "'%s' gives %s, want %s", elsewhere[i], key, want);
    }
    progress_key("builtin:lessons/article.lesson", 42, key, sizeof key);
    progress_key("/home/me/attn-trace/lessons/article.lesson", 42, other, sizeof other);
    ck_assert_str_eq(key, other);

    /* the same file by other spellings of its path */
    static const char *const spellings[] = {"/f.lesson", "/./f.lesson", "//f.lesson", "/state/../f.lesson"};
    make_dir();
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        snprintf(other, sizeof other, "%s%s", g_tmp, spellings[i]);
        progress_key(other, 42, key, sizeof key);
        ck_assert_msg(strcmp(key, want) == 0, "'%s' gives %s, want %s", other, key, want);
    }
    /* and relative to the working directory */
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(g_tmp), 0);
    progress_key("f.lesson", 42, key, sizeof key);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_str_eq(key, want);
}
END_TEST

START_TEST(test_key_small_buffer)
{
    char full[PROGRESS_KEY_BYTES], small[10];
    progress_key("/a.lesson", 7, full, sizeof full);
    memset(small, '#', sizeof small);
    progress_key("/a.lesson", 7, small, sizeof small);
    ck_assert_uint_eq(strlen(small), 9);
    ck_assert_int_eq(strncmp(small, full, 9), 0);
    char untouched = '#';
    progress_key("/a.lesson", 7, &untouched, 0);
    ck_assert_int_eq(untouched, '#');
}
END_TEST

/* ------------------------------------------------------------------------
 * The directory
 * ---------------------------------------------------------------------- */

START_TEST(test_dir_from_environment)
{
    static const struct {
        const char *xdg;  /* NULL: unset */
        const char *home; /* NULL: unset */
        const char *want; /* NULL: an error */
    } cases[] = {
        {"/x/state", "/home/u", "/x/state/attn-trace"},
        {"/x/state/", "/home/u", "/x/state/attn-trace"},
        {"/", "/home/u", "/attn-trace"},
        {NULL, "/home/u", "/home/u/.local/state/attn-trace"},
        {"", "/home/u", "/home/u/.local/state/attn-trace"},
        {"relative/state", "/home/u", "/home/u/.local/state/attn-trace"},
        {"./state", "/home/u/", "/home/u/.local/state/attn-trace"},
        {"/x/state", NULL, "/x/state/attn-trace"},
        {NULL, NULL, NULL},
        {"relative", NULL, NULL},
        {"relative", "also/relative", NULL},
        {"", "", NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (cases[c].xdg != NULL)
            setenv("XDG_STATE_HOME", cases[c].xdg, 1);
        else
            unsetenv("XDG_STATE_HOME");
        if (cases[c].home != NULL)
            setenv("HOME", cases[c].home, 1);
        else
            unsetenv("HOME");
        char buf[256];
        Error err;
        error_clear(&err);
        bool ok = progress_dir(buf, sizeof buf, &err);
        if (cases[c].want != NULL) {
            ck_assert_msg(ok, "case %zu: %s", c, err.message);
            ck_assert_msg(strcmp(buf, cases[c].want) == 0, "case %zu: '%s', want '%s'", c, buf, cases[c].want);
        } else {
            ck_assert_msg(!ok, "case %zu: accepted as '%s'", c, buf);
            ck_assert_int_eq(err.status, STATUS_FAILURE);
            ck_assert_msg(strstr(err.message, "HOME") != NULL && strstr(err.message, "XDG_STATE_HOME") != NULL,
                          "case %zu: '%s'", c, err.message);
            ck_assert_str_eq(buf, "");
        }
    }
}
END_TEST

START_TEST(test_dir_buffer_too_small)
{
    setenv("XDG_STATE_HOME", "/a/fairly/long/state/directory", 1);
    char buf[16];
    Error err;
    error_clear(&err);
    ck_assert(!progress_dir(buf, sizeof buf, &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    ck_assert_msg(strstr(err.message, "too long") != NULL, "%s", err.message);
}
END_TEST

START_TEST(test_dir_is_where_saves_go)
{
    char dir[700], key[PROGRESS_KEY_BYTES], path[800];
    Error err;
    error_clear(&err);
    ck_assert(progress_dir(dir, sizeof dir, &err));
    ck_assert_str_eq(dir, g_dir);
    test_key(key, path, sizeof path);
    Progress p = sample(key, 1, 2, 0);
    ck_assert_msg(progress_save(dir, &p, &err), "%s", err.message);
    ck_assert(exists(path));
}
END_TEST

/* ------------------------------------------------------------------------
 * Round trips
 * ---------------------------------------------------------------------- */

START_TEST(test_round_trip)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    static const struct {
        int last_step, n;
    } cases[] = {{0, 0}, {3, 5}, {16, 7}, {PROGRESS_MAX_STEP, PROGRESS_MAX_QUIZZES}, {9, 200}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Progress saved = sample(key, cases[c].last_step, cases[c].n, (int)c), loaded;
        Error err;
        error_clear(&err);
        ck_assert_msg(progress_save(g_dir, &saved, &err), "case %zu: %s", c, err.message);
        bool found = false;
        char warning[256] = "junk";
        ck_assert(load_with_warning(g_dir, key, &loaded, &found, warning, sizeof warning));
        ck_assert_msg(found, "case %zu: %s", c, warning);
        ck_assert_str_eq(warning, "");
        assert_same(&saved, &loaded);
        /* one file, no temporary left over */
        ck_assert_int_eq(count_entries(g_dir), 1);
    }
    /* the largest time stamp */
    Progress saved = sample(key, 1, 1, 0), loaded;
    saved.updated = PROGRESS_MAX_UPDATED;
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &saved, &err));
    bool found = false;
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, NULL, 0));
    ck_assert(found);
    assert_same(&saved, &loaded);
}
END_TEST

START_TEST(test_file_text_and_modes)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress p = sample(key, 4, 5, 0);
    p.quizzes[0] = QUIZ_RIGHT_FIRST_TRY;
    p.quizzes[1] = QUIZ_RIGHT_AFTER_TRIES;
    p.quizzes[2] = QUIZ_SKIPPED;
    p.quizzes[3] = QUIZ_UNANSWERED;
    p.quizzes[4] = QUIZ_REVEALED;
    p.updated = 1732434000;
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &p, &err));
    char text[1024], want[1024];
    read_file(path, text, sizeof text);
    snprintf(want, sizeof want,
             "attn-trace-progress 1\nkey: %s\nlast_step: 4\nquizzes: F T S U R\nupdated: 1732434000\nend\n", key);
    ck_assert_str_eq(text, want);

    /* the directory and its missing parent were made private; the file too */
    struct stat st;
    ck_assert_int_eq(stat(g_dir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    char state[600];
    snprintf(state, sizeof state, "%s/state", g_tmp);
    ck_assert_int_eq(stat(state, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_updated_zero_means_now)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress p = sample(key, 2, 3, 0), loaded;
    p.updated = 0;
    long long before = (long long)time(NULL);
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &p, &err));
    long long after = (long long)time(NULL);
    bool found = false;
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, NULL, 0));
    ck_assert(found);
    ck_assert_msg(loaded.updated >= before && loaded.updated <= after, "updated %lld not in %lld..%lld", loaded.updated,
                  before, after);
}
END_TEST

START_TEST(test_save_replaces_and_keys_are_separate)
{
    char key[PROGRESS_KEY_BYTES], other[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    progress_key("/lessons/other.lesson", 1, other, sizeof other);
    Progress a = sample(key, 1, 3, 1), b = sample(key, 2, 9, 2), c = sample(other, 5, 1, 3), loaded;
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &a, &err));
    ck_assert(progress_save(g_dir, &c, &err));
    ck_assert(progress_save(g_dir, &b, &err));
    bool found = false;
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, NULL, 0));
    ck_assert(found);
    assert_same(&b, &loaded);
    ck_assert(load_with_warning(g_dir, other, &loaded, &found, NULL, 0));
    ck_assert(found);
    assert_same(&c, &loaded);
    ck_assert_int_eq(count_entries(g_dir), 2);
}
END_TEST

/* Issue 12: progress files do not pile up. A save under a new walk of a
 * lesson (its steps or quizzes edited) removes the file of its older walk;
 * another lesson's file stays. */
START_TEST(test_save_removes_the_older_walks_file)
{
    char old_key[PROGRESS_KEY_BYTES], new_key[PROGRESS_KEY_BYTES], other[PROGRESS_KEY_BYTES];
    progress_key("/lessons/test.lesson", 1, old_key, sizeof old_key);
    progress_key("/lessons/test.lesson", 2, new_key, sizeof new_key);
    progress_key("/lessons/other.lesson", 1, other, sizeof other);
    Progress a = sample(old_key, 1, 3, 1), c = sample(other, 5, 1, 3), b = sample(new_key, 2, 4, 2), loaded;
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &a, &err));
    ck_assert(progress_save(g_dir, &c, &err));
    ck_assert_int_eq(count_entries(g_dir), 2);
    ck_assert(progress_save_merged(g_dir, &b, NULL, NULL, &err));
    ck_assert_int_eq(count_entries(g_dir), 2);
    bool found = true;
    ck_assert(load_with_warning(g_dir, old_key, &loaded, &found, NULL, 0));
    ck_assert_msg(!found, "the older walk's progress is still there");
    ck_assert(load_with_warning(g_dir, new_key, &loaded, &found, NULL, 0));
    ck_assert(found);
    ck_assert(load_with_warning(g_dir, other, &loaded, &found, NULL, 0));
    ck_assert(found);
    assert_same(&c, &loaded);
}
END_TEST

START_TEST(test_load_nothing_saved)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress p;
    memset(&p, 0x5a, sizeof p);
    bool found = true;
    char warning[256] = "junk";
    /* neither the directory nor the file exists */
    ck_assert(load_with_warning(g_dir, key, &p, &found, warning, sizeof warning));
    ck_assert(!found);
    ck_assert_str_eq(warning, "");
    ck_assert_str_eq(p.lesson_key, key);
    ck_assert_int_eq(p.last_step, 0);
    ck_assert_int_eq(p.n_quizzes, 0);
    ck_assert_int_eq(p.updated, 0);
    /* the directory exists, the file does not */
    make_dir();
    ck_assert(load_with_warning(g_dir, key, &p, &found, NULL, 0));
    ck_assert(!found);
}
END_TEST

/* ------------------------------------------------------------------------
 * Damaged files
 * ---------------------------------------------------------------------- */

START_TEST(test_truncated_at_every_offset)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress p = sample(key, 12, 7, 0);
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &p, &err));
    char whole[1024];
    size_t len = read_file(path, whole, sizeof whole);
    ck_assert_uint_gt(len, 60);
    for (size_t cut = 0; cut < len; cut++) {
        write_file(path, whole, cut);
        char what[64];
        snprintf(what, sizeof what, "cut at byte %zu of %zu", cut, len);
        assert_refused(g_dir, key, what, cut == 0 ? "empty" : "cut short");
    }
    /* and whole again, it loads */
    write_file(path, whole, len);
    Progress loaded;
    bool found = false;
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, NULL, 0));
    ck_assert(found);
    assert_same(&p, &loaded);
}
END_TEST

START_TEST(test_damaged_files)
{
    char key[PROGRESS_KEY_BYTES], path[800], quizzes[2 * PROGRESS_MAX_QUIZZES + 8];
    test_key(key, path, sizeof path);
    make_dir();
    /* 257 quizzes */
    quizzes[0] = '\0';
    for (int i = 0; i <= PROGRESS_MAX_QUIZZES; i++)
        strcat(quizzes, " F");
    /* Each case: the lines after the magic line and key line, or a whole
     * file (whole != NULL), and a part of the warning expected. */
    static const char GOOD_TAIL[] = "last_step: 1\nquizzes: F\nupdated: 5\nend\n";
    const struct {
        const char *head; /* the first line; NULL for the valid one */
        const char *key;  /* the key line's value; NULL for the right key */
        const char *tail; /* the rest; NULL for GOOD_TAIL */
        const char *part; /* expected in the warning */
    } cases[] = {
        {"hello", NULL, NULL, "not an attn-trace progress file"},
        {"attn-trace-progress 2", NULL, NULL, "format version 2 (this attn-trace reads version 1)"},
        {"attn-trace-progress 0", NULL, NULL, "format version 0"},
        {"attn-trace-progress 99999999999999999999999", NULL, NULL, "not a format version"},
        {"attn-trace-progress x", NULL, NULL, "not a format version"},
        {"attn-trace-progress 01", NULL, NULL, "not a format version"},
        {"attn-trace-progress 1 ", NULL, NULL, "not a format version"},
        {"attn-trace-progress 1\r", NULL, NULL, "not a format version"},
        {"attn-trace-progress  1", NULL, NULL, "not a format version"},
        {"Attn-trace-progress 1", NULL, NULL, "not an attn-trace progress file"},
        {NULL, "0123456789abcdef-0123456789abcdef", NULL, "for another lesson"},
        {NULL, "", NULL, "for another lesson"},
        {NULL, NULL, "last_step: 10001\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step: 99999999999999999999999999\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step: 9223372036854775808\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step: -1\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step: +1\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step:  1\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step: 1 \nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step: \nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "last_step: 0x10\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "laststep: 1\nquizzes: F\nupdated: 5\nend\n", "last_step"},
        {NULL, NULL, "quizzes: F\nlast_step: 1\nupdated: 5\nend\n", "line 3"},
        {NULL, NULL, "last_step: 1\nquizzes: X\nupdated: 5\nend\n", "quiz 1 is not one of the letters UFTSR"},
        {NULL, NULL, "last_step: 1\nquizzes: F f\nupdated: 5\nend\n", "quiz 2"},
        {NULL, NULL, "last_step: 1\nquizzes:F\nupdated: 5\nend\n", "quiz letters"},
        {NULL, NULL, "last_step: 1\nquizzes: F  T\nupdated: 5\nend\n", "quiz"},
        {NULL, NULL, "last_step: 1\nquizzes: 0 1\nupdated: 5\nend\n", "quiz 1"},
        {NULL, NULL, "last_step: 1\nupdated: 5\nend\n", "quizzes"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 253402300800\nend\n", "updated"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 99999999999999999999\nend\n", "updated"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: -5\nend\n", "updated"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 5\n", "cut short (line 6)"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 5\nend", "cut short (line 6)"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 5\nEND\n", "expected 'end'"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 5\nend \n", "expected 'end'"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 5\nend\nend\n", "text after the end line"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 5\nend\n\n", "text after the end line"},
        {NULL, NULL, "last_step: 1\nquizzes: F\nupdated: 5\nextra: 1\nend\n", "expected 'end'"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char text[1200];
        snprintf(text, sizeof text, "%s\nkey: %s\n%s", cases[c].head != NULL ? cases[c].head : "attn-trace-progress 1",
                 cases[c].key != NULL ? cases[c].key : key, cases[c].tail != NULL ? cases[c].tail : GOOD_TAIL);
        write_file(path, text, strlen(text));
        char what[64];
        snprintf(what, sizeof what, "case %zu", c);
        assert_refused(g_dir, key, what, cases[c].part);
    }

    /* too many quizzes, and a NUL inside a line */
    char text[1200];
    snprintf(text, sizeof text, "attn-trace-progress 1\nkey: %s\nlast_step: 1\nquizzes:%s\nupdated: 5\nend\n", key,
             quizzes);
    write_file(path, text, strlen(text));
    assert_refused(g_dir, key, "257 quizzes", "up to 256 quiz letters");
    snprintf(text, sizeof text, "attn-trace-progress 1\nkey: %s\nlast_step: 1\nquizzes: F\nupdated: 5\nend\n", key);
    size_t len = strlen(text);
    char *nul = strstr(text, "F\n");
    *nul = '\0';
    write_file(path, text, len);
    assert_refused(g_dir, key, "NUL byte", "quiz 1");

    /* the limits themselves are accepted */
    quizzes[2 * PROGRESS_MAX_QUIZZES] = '\0';
    snprintf(text, sizeof text, "attn-trace-progress 1\nkey: %s\nlast_step: 10000\nquizzes:%s\nupdated: %lld\nend\n",
             key, quizzes, PROGRESS_MAX_UPDATED);
    write_file(path, text, strlen(text));
    Progress p;
    bool found = false;
    char warning[512];
    ck_assert(load_with_warning(g_dir, key, &p, &found, warning, sizeof warning));
    ck_assert_msg(found, "%s", warning);
    ck_assert_int_eq(p.last_step, PROGRESS_MAX_STEP);
    ck_assert_int_eq(p.n_quizzes, PROGRESS_MAX_QUIZZES);
    ck_assert_int_eq(p.updated, PROGRESS_MAX_UPDATED);
    snprintf(text, sizeof text, "attn-trace-progress 1\nkey: %s\nlast_step: 0\nquizzes:\nupdated: 0\nend\n", key);
    write_file(path, text, strlen(text));
    ck_assert(load_with_warning(g_dir, key, &p, &found, warning, sizeof warning));
    ck_assert_msg(found, "%s", warning);
    ck_assert_int_eq(p.n_quizzes, 0);
}
END_TEST

START_TEST(test_garbage_bytes)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    make_dir();
    static char data[PROGRESS_MAX_FILE_BYTES + 100];
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int trial = 0; trial < 300; trial++) {
        size_t len = 1 + (size_t)(trial * 37) % (sizeof data - 1);
        for (size_t i = 0; i < len; i++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            data[i] = (char)(state >> 56);
        }
        /* half of them look like a progress file at first */
        if (trial % 2 == 1 && len > 30)
            memcpy(data, "attn-trace-progress 1\nkey: ", 27);
        write_file(path, data, len);
        char what[64];
        snprintf(what, sizeof what, "garbage trial %d (%zu bytes)", trial, len);
        assert_refused(g_dir, key, what, NULL);
    }
    /* all NUL bytes, and one too large */
    memset(data, 0, 100);
    write_file(path, data, 100);
    assert_refused(g_dir, key, "NUL bytes", "not an attn-trace progress file");
    memset(data, '\n', sizeof data);
    write_file(path, data, sizeof data);
    assert_refused(g_dir, key, "a large file", "larger than 2048 bytes");
}
END_TEST

START_TEST(test_every_byte_changed)
{
    /* A valid file with each byte replaced by a few others: some changes
     * give another valid file (a quiz letter, a digit); none may crash or
     * load a value out of range. */
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress p = sample(key, 12, 6, 0);
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &p, &err));
    char whole[1024];
    size_t len = read_file(path, whole, sizeof whole);
    static const char replacements[] = {'\0', '\n', ' ', '9', 'R', '\xff', ':'};
    for (size_t i = 0; i < len; i++) {
        for (size_t r = 0; r < sizeof replacements; r++) {
            if (whole[i] == replacements[r])
                continue;
            char changed[1024];
            memcpy(changed, whole, len);
            changed[i] = replacements[r];
            write_file(path, changed, len);
            Progress loaded;
            bool found = false;
            char warning[512];
            ck_assert(load_with_warning(g_dir, key, &loaded, &found, warning, sizeof warning));
            ck_assert_msg(found || warning[0] != '\0', "byte %zu: refused without a warning", i);
            if (found) {
                ck_assert_str_eq(loaded.lesson_key, key);
                ck_assert(loaded.last_step >= 0 && loaded.last_step <= PROGRESS_MAX_STEP);
                ck_assert(loaded.n_quizzes >= 0 && loaded.n_quizzes <= PROGRESS_MAX_QUIZZES);
                for (int q = 0; q < loaded.n_quizzes; q++)
                    ck_assert(loaded.quizzes[q] >= QUIZ_UNANSWERED && loaded.quizzes[q] <= QUIZ_REVEALED);
            }
        }
    }
}
END_TEST

START_TEST(test_unreadable_files)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    make_dir();
    /* a directory where the file should be */
    ck_assert_int_eq(mkdir(path, 0700), 0);
    assert_refused(g_dir, key, "a directory", "not a regular file");
    ck_assert_int_eq(rmdir(path), 0);
    /* a file without read permission (root reads it anyway) */
    if (geteuid() != 0) {
        Progress p = sample(key, 1, 1, 0);
        Error err;
        error_clear(&err);
        ck_assert(progress_save(g_dir, &p, &err));
        ck_assert_int_eq(chmod(path, 0), 0);
        assert_refused(g_dir, key, "mode 000", "cannot open it");
        chmod(path, 0600);
    }
    /* the "directory" is a file */
    char afile[700];
    snprintf(afile, sizeof afile, "%s/afile", g_tmp);
    write_file(afile, "x", 1);
    assert_refused(afile, key, "dir is a file", "cannot open it");
}
END_TEST

START_TEST(test_warning_is_safe_and_bounded)
{
    /* a directory name with an escape sequence: the warning shows '?' */
    char dir[700], key[PROGRESS_KEY_BYTES], path[800];
    snprintf(dir, sizeof dir, "%s/bad\x1b[31mdir", g_tmp);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    progress_key("/x.lesson", 1, key, sizeof key);
    snprintf(path, sizeof path, "%s/%s.progress", dir, key);
    write_file(path, "junk\n", 5);
    assert_refused(dir, key, "escape in dir", "bad?[31mdir");
    /* a small warning buffer is cut, and NULL/0 is allowed */
    char small[12];
    Progress p;
    bool found = true;
    ck_assert(load_with_warning(dir, key, &p, &found, small, sizeof small));
    ck_assert(!found);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert(load_with_warning(dir, key, &p, &found, NULL, 0));
    ck_assert(!found);
    /* an invalid key is refused with a warning, never used as a path */
    char warning[512];
    ck_assert(load_with_warning(g_tmp, "../../etc/passwd", &p, &found, warning, sizeof warning));
    ck_assert(!found);
    ck_assert_msg(strstr(warning, "the lesson key is invalid") != NULL, "%s", warning);
    ck_assert_str_eq(p.lesson_key, "");
    ck_assert(load_with_warning(g_tmp, "", &p, &found, warning, sizeof warning));
    ck_assert(!found);
    ck_assert_msg(strstr(warning, "the lesson key is invalid") != NULL, "%s", warning);
}
END_TEST

/* progress_load's Error: true and no status without a file or with a good
 * one; false with the status of the problem and the "ignoring saved
 * progress" line (the old warning) for an unusable one, and a fresh start
 * all the same. */
START_TEST(test_load_error)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    make_dir();
    Progress p;
    bool found = true;
    Error err;

    /* 1. no file: true, nothing found, err untouched */
    error_clear(&err);
    ck_assert(progress_load(g_dir, key, &p, &found, &err));
    ck_assert(!found);
    ck_assert_int_eq(err.status, STATUS_OK);

    /* 2. a good file: true, found */
    Progress saved = sample(key, 3, 2, 7);
    ck_assert_msg(progress_save(g_dir, &saved, &err), "%s", err.message);
    error_clear(&err);
    ck_assert(progress_load(g_dir, key, &p, &found, &err));
    ck_assert(found);
    ck_assert_int_eq(err.status, STATUS_OK);
    ck_assert_int_eq(p.last_step, 3);

    /* 3. garbage: false, STATUS_DATAERR, the path and the reason */
    write_file(path, "junk\n", 5);
    ck_assert(!progress_load(g_dir, key, &p, &found, &err));
    ck_assert(!found);
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    char want[1000];
    snprintf(want, sizeof want, "ignoring saved progress in %s: not an attn-trace progress file", path);
    ck_assert_str_eq(err.message, want);
    ck_assert_str_eq(p.lesson_key, key); /* still a fresh start for the key */
    ck_assert_int_eq(p.n_quizzes, 0);

    /* 4. not a regular file: false, STATUS_NOINPUT */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert(!progress_load(g_dir, key, &p, &found, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_msg(strstr(err.message, "it is not a regular file") != NULL, "%s", err.message);
    ck_assert_int_eq(rmdir(path), 0);

    /* 5. an invalid key: false, STATUS_FAILURE, naming the directory */
    ck_assert(!progress_load(g_dir, "../x", &p, &found, &err));
    ck_assert(!found);
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    snprintf(want, sizeof want, "ignoring saved progress in %s: the lesson key is invalid", g_dir);
    ck_assert_str_eq(err.message, want);
}
END_TEST

/* ------------------------------------------------------------------------
 * Saves that fail
 * ---------------------------------------------------------------------- */

START_TEST(test_save_refuses_invalid_progress)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    static const struct {
        const char *key;
        int last_step, n_quizzes, result;
        long long updated;
        const char *part;
    } cases[] = {
        {NULL, -1, 1, 0, 1, "last_step -1"},
        {NULL, PROGRESS_MAX_STEP + 1, 1, 0, 1, "last_step 10001"},
        {NULL, 1, -1, 0, 1, "n_quizzes -1"},
        {NULL, 1, PROGRESS_MAX_QUIZZES + 1, 0, 1, "n_quizzes 257"},
        {NULL, 1, 1, 5, 1, "quiz 1 has no valid result (5)"},
        {NULL, 1, 1, -1, 1, "quiz 1 has no valid result (-1)"},
        {NULL, 1, 1, 0, -1, "updated -1"},
        {NULL, 1, 1, 0, PROGRESS_MAX_UPDATED + 1, "updated"},
        {"", 1, 1, 0, 1, "invalid lesson key"},
        {"../escape", 1, 1, 0, 1, "invalid lesson key"},
        {"a/b", 1, 1, 0, 1, "invalid lesson key"},
        {"with.dot", 1, 1, 0, 1, "invalid lesson key"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Progress p = sample(cases[c].key != NULL ? cases[c].key : key, cases[c].last_step, 0, 0);
        p.n_quizzes = cases[c].n_quizzes;
        if (p.n_quizzes > 0)
            p.quizzes[0] = (QuizResult)cases[c].result;
        p.updated = cases[c].updated;
        Error err;
        error_clear(&err);
        ck_assert_msg(!progress_save(g_dir, &p, &err), "case %zu saved", c);
        ck_assert_int_eq(err.status, STATUS_FAILURE);
        ck_assert_msg(strstr(err.message, "cannot save progress in ") == err.message, "case %zu: %s", c, err.message);
        ck_assert_msg(strstr(err.message, cases[c].part) != NULL, "case %zu: '%s' lacks '%s'", c, err.message,
                      cases[c].part);
    }
    /* a key that fills the whole array, without a NUL */
    Progress p = sample(key, 1, 1, 0);
    memset(p.lesson_key, 'a', sizeof p.lesson_key);
    Error err;
    error_clear(&err);
    ck_assert(!progress_save(g_dir, &p, &err));
    ck_assert_msg(strstr(err.message, "invalid lesson key") != NULL, "%s", err.message);
    /* nothing was created */
    ck_assert(!exists(g_dir));
    ck_assert(!progress_save("", &p, &err));
}
END_TEST

/* Checks that saving p into dir fails with STATUS_FAILURE and a message
 * "cannot save progress in DIR: ...". */
static void assert_save_fails(const char *dir, const Progress *b, const char *what)
{
    Error err;
    error_clear(&err);
    ck_assert_msg(!progress_save(dir, b, &err), "%s: saved", what);
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    char want[800];
    snprintf(want, sizeof want, "cannot save progress in %s: ", dir);
    ck_assert_msg(strstr(err.message, want) == err.message, "%s: '%s'", what, err.message);
}

START_TEST(test_unwritable_directory)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress a = sample(key, 3, 4, 1), b = sample(key, 4, 4, 2), loaded;
    Error err;
    error_clear(&err);

    /* below a regular file: fails for root too */
    char afile[700], under[800];
    snprintf(afile, sizeof afile, "%s/afile", g_tmp);
    write_file(afile, "x", 1);
    snprintf(under, sizeof under, "%s/sub", afile);
    assert_save_fails(under, &a, "below a file");
    assert_save_fails(afile, &a, "a file as dir");

    /* read-only directory holding an old file (root ignores modes) */
    if (geteuid() != 0) {
        ck_assert(progress_save(g_dir, &a, &err));
        ck_assert_int_eq(chmod(g_dir, 0500), 0);
        assert_save_fails(g_dir, &b, "chmod 0500");
        chmod(g_dir, 0700);
        bool found = false;
        ck_assert(load_with_warning(g_dir, key, &loaded, &found, NULL, 0));
        ck_assert(found);
        assert_same(&a, &loaded);
        ck_assert_int_eq(count_entries(g_dir), 1);
    }
}
END_TEST

START_TEST(test_failed_write_keeps_old_file)
{
    /* A file size limit makes the write itself fail, for root too. */
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress a = sample(key, 3, 4, 1), b = sample(key, 4, 200, 2), loaded;
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &a, &err));

    struct rlimit old_limit, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    small = old_limit;
    small.rlim_cur = 64;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    bool saved = progress_save(g_dir, &b, &err);
    /* restore before any assertion: Check itself writes files */
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);

    ck_assert(!saved);
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    ck_assert_msg(strstr(err.message, "cannot save progress in ") == err.message, "%s", err.message);
    bool found = false;
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, NULL, 0));
    ck_assert(found);
    assert_same(&a, &loaded);
    ck_assert_int_eq(count_entries(g_dir), 1); /* the temporary file was removed */
}
END_TEST

START_TEST(test_failed_rename_leaves_no_temporary)
{
    char key[PROGRESS_KEY_BYTES], path[800], inside[900];
    test_key(key, path, sizeof path);
    make_dir();
    /* a non-empty directory where the file goes: rename fails */
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(inside, sizeof inside, "%s/x", path);
    write_file(inside, "x", 1);
    Progress a = sample(key, 3, 4, 1);
    assert_save_fails(g_dir, &a, "rename over a directory");
    ck_assert_int_eq(count_entries(g_dir), 1);
}
END_TEST

/* ------------------------------------------------------------------------
 * Temporary files of killed saves, and forgetting
 * ---------------------------------------------------------------------- */

/* A pid that no process has any more: a child that exited and was reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return pid;
}

START_TEST(test_stale_temporaries_are_removed)
{
    char key[PROGRESS_KEY_BYTES], other[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    progress_key("/other.lesson", 2, other, sizeof other);
    make_dir();
    pid_t dead = dead_pid();
    static const struct {
        int who;      /* 0 dead pid, 1 this process, 2 a live process (the parent) */
        bool other;   /* of another key */
        bool removed; /* expected to be removed by a save of key */
    } temps[] = {
        {0, false, true},
        {1, false, true},
        {2, false, false},
        {0, true, false},
    };
    char names[4][900];
    for (size_t i = 0; i < 4; i++) {
        long pid = temps[i].who == 0 ? (long)dead : temps[i].who == 1 ? (long)getpid() : (long)getppid();
        snprintf(names[i], sizeof names[i], "%s/.%s.progress.%ld.Ab12Cd", g_dir, temps[i].other ? other : key, pid);
        write_file(names[i], "attn-trace-progress 1\nkey: ", 27); /* half a file, as a kill leaves */
    }
    /* loading ignores them */
    Progress loaded;
    bool found = true;
    char warning[256];
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, warning, sizeof warning));
    ck_assert(!found);
    ck_assert_str_eq(warning, "");

    Progress a = sample(key, 3, 4, 1);
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &a, &err));
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(exists(names[i]) != temps[i].removed, "temporary %zu: %s", i,
                      temps[i].removed ? "kept" : "removed");
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, warning, sizeof warning));
    ck_assert(found);
    assert_same(&a, &loaded);

    /* forget removes the stale ones too */
    snprintf(names[0], sizeof names[0], "%s/.%s.progress.%ld.Zz99Yy", g_dir, key, (long)dead);
    write_file(names[0], "x", 1);
    ck_assert(progress_forget(g_dir, key, &err));
    ck_assert(!exists(names[0]));
    ck_assert(exists(names[2]));
}
END_TEST

START_TEST(test_forget)
{
    char key[PROGRESS_KEY_BYTES], other[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    progress_key("/other.lesson", 2, other, sizeof other);
    Error err;
    error_clear(&err);
    /* nothing saved, not even the directory: not an error */
    ck_assert_msg(progress_forget(g_dir, key, &err), "%s", err.message);
    Progress a = sample(key, 3, 4, 1), c = sample(other, 1, 1, 1), loaded;
    ck_assert(progress_save(g_dir, &a, &err));
    ck_assert(progress_save(g_dir, &c, &err));
    ck_assert_msg(progress_forget(g_dir, key, &err), "%s", err.message);
    ck_assert(!exists(path));
    bool found = true;
    char warning[256];
    ck_assert(load_with_warning(g_dir, key, &loaded, &found, warning, sizeof warning));
    ck_assert(!found);
    ck_assert_str_eq(warning, "");
    /* the other lesson is kept */
    ck_assert(load_with_warning(g_dir, other, &loaded, &found, NULL, 0));
    ck_assert(found);
    /* twice is fine */
    ck_assert(progress_forget(g_dir, key, &err));
    /* a damaged file is forgotten as well */
    write_file(path, "junk", 4);
    ck_assert(progress_forget(g_dir, key, &err));
    ck_assert(!exists(path));
    /* a directory below a file: there is nothing to forget */
    char afile[700], under[800];
    snprintf(afile, sizeof afile, "%s/afile", g_tmp);
    write_file(afile, "x", 1);
    snprintf(under, sizeof under, "%s/sub", afile);
    ck_assert(progress_forget(under, key, &err));
    /* errors */
    ck_assert(!progress_forget(g_dir, "../x", &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    ck_assert_msg(strstr(err.message, "cannot forget progress in ") == err.message, "%s", err.message);
    ck_assert(!progress_forget("", key, &err));
    /* something that cannot be unlinked: a non-empty directory */
    char inside[900];
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(inside, sizeof inside, "%s/x", path);
    write_file(inside, "x", 1);
    error_clear(&err);
    ck_assert(!progress_forget(g_dir, key, &err));
    ck_assert_msg(strstr(err.message, "cannot forget progress in ") == err.message, "%s", err.message);
}
END_TEST


/* ------------------------------------------------------------------------
 * Two windows on one lesson (issue 17): merging on save
 * ---------------------------------------------------------------------- */

/* progress_merge on every pair of results: the one that says more wins,
 * by the order written out here (F > T > R > S > U), not by the enum. */
START_TEST(test_merge_every_pair)
{
    static const char order[] = "USRTF";   /* weakest first */
    static const char letters[] = "UFTSR"; /* QuizResult's order */
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) {
            Progress into = sample("k", 3, 1, 0), other = sample("k", 1, 1, 0);
            into.quizzes[0] = (QuizResult)a;
            other.quizzes[0] = (QuizResult)b;
            progress_merge(&into, &other, true);
            int rank_a = (int)(strchr(order, letters[a]) - order), rank_b = (int)(strchr(order, letters[b]) - order);
            char want = rank_a >= rank_b ? letters[a] : letters[b];
            ck_assert_msg(letters[into.quizzes[0]] == want, "%c with %c gave %c, want %c", letters[a], letters[b],
                          letters[into.quizzes[0]], want);
            ck_assert_int_eq(into.last_step, 3);
        }
    /* the furthest step, only when asked; the longer quiz list */
    Progress into = sample("k", 1, 1, 0), other = sample("k", 4, 3, 1);
    progress_merge(&into, &other, false);
    ck_assert_int_eq(into.last_step, 1);
    ck_assert_int_eq(into.n_quizzes, 3);
    progress_merge(&into, &other, true);
    ck_assert_int_eq(into.last_step, 4);
}
END_TEST

/* Runs in a child process: saves progress (step, one quiz result) as a
 * window with base (NULL: nothing seen) would, and exits 0 on success. */
static void save_in_child(const char *key, int step, QuizResult result, const Progress *base)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        Progress p = sample(key, step, 1, 0);
        p.quizzes[0] = result;
        Error err;
        error_clear(&err);
        _exit(progress_save_merged(g_dir, &p, base, NULL, &err) ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's save failed (status %d)", status);
}

/* Two processes: A answers quiz 1 right and is on step 2, B (which saw
 * nothing) skips it on step 1 and saves last: A's answer and A's step
 * stay. Before merging, the file held B's S. */
START_TEST(test_two_processes_keep_both)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    save_in_child(key, 2, QUIZ_RIGHT_FIRST_TRY, NULL); /* window A */
    save_in_child(key, 1, QUIZ_SKIPPED, NULL);         /* window B, last */
    Progress got;
    bool found = false;
    ck_assert(load_with_warning(g_dir, key, &got, &found, NULL, 0) && found);
    ck_assert_msg(got.quizzes[0] == QUIZ_RIGHT_FIRST_TRY, "quiz 1 is %d, A's answer (F) was lost", (int)got.quizzes[0]);
    ck_assert_int_eq(got.last_step, 2);
}
END_TEST

/* One window going back: when the file is what it last wrote, its own
 * step is written as it is (an earlier one), and answers still stay. */
START_TEST(test_one_window_goes_back)
{
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress p = sample(key, 5, 1, 0), written;
    p.quizzes[0] = QUIZ_RIGHT_AFTER_TRIES;
    Error err;
    error_clear(&err);
    ck_assert(progress_save_merged(g_dir, &p, NULL, &written, &err));
    p.last_step = 2;
    p.quizzes[0] = QUIZ_UNANSWERED;
    Progress base = written;
    ck_assert(progress_save_merged(g_dir, &p, &base, &written, &err));
    Progress got;
    bool found = false;
    ck_assert(load_with_warning(g_dir, key, &got, &found, NULL, 0) && found);
    ck_assert_int_eq(got.last_step, 2);
    ck_assert_int_eq(got.quizzes[0], QUIZ_RIGHT_AFTER_TRIES);
    ck_assert_int_eq(written.last_step, 2);
}
END_TEST

/* A file that is there but cannot be read is not replaced, by either
 * save (root reads any file: then only the message's form is checked by
 * the tmux test, run as nobody). */
START_TEST(test_unreadable_file_is_not_replaced)
{
    if (geteuid() == 0)
        return;
    char key[PROGRESS_KEY_BYTES], path[800];
    test_key(key, path, sizeof path);
    Progress p = sample(key, 4, 2, 0);
    Error err;
    error_clear(&err);
    ck_assert(progress_save(g_dir, &p, &err));
    char before[PROGRESS_MAX_FILE_BYTES + 1];
    size_t before_len = read_file(path, before, sizeof before);
    ck_assert_int_eq(chmod(path, 0), 0);
    Progress q = sample(key, 0, 0, 1);
    ck_assert(!progress_save(g_dir, &q, &err));
    ck_assert_msg(strstr(err.message, "exists but cannot open it") != NULL, "%s", err.message);
    ck_assert(!progress_save_merged(g_dir, &q, NULL, NULL, &err));
    ck_assert_int_eq(chmod(path, 0600), 0);
    char after[PROGRESS_MAX_FILE_BYTES + 1];
    size_t after_len = read_file(path, after, sizeof after);
    ck_assert(before_len == after_len && memcmp(before, after, before_len) == 0);
}
END_TEST

Suite *progress_suite(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fnv_reference);
    tcase_add_test(tc, test_key_format_and_stability);
    tcase_add_test(tc, test_key_is_the_lessons_name);
    tcase_add_test(tc, test_key_small_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("dir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dir_from_environment);
    tcase_add_test(tc, test_dir_buffer_too_small);
    tcase_add_test(tc, test_dir_is_where_saves_go);
    suite_add_tcase(s, tc);

    tc = tcase_create("round_trip");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_file_text_and_modes);
    tcase_add_test(tc, test_updated_zero_means_now);
    tcase_add_test(tc, test_save_replaces_and_keys_are_separate);
    tcase_add_test(tc, test_save_removes_the_older_walks_file);
    tcase_add_test(tc, test_load_nothing_saved);
    suite_add_tcase(s, tc);

    tc = tcase_create("damaged");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60); /* thousands of small files; slow under valgrind */
    tcase_add_test(tc, test_truncated_at_every_offset);
    tcase_add_test(tc, test_damaged_files);
    tcase_add_test(tc, test_garbage_bytes);
    tcase_add_test(tc, test_every_byte_changed);
    tcase_add_test(tc, test_unreadable_files);
    tcase_add_test(tc, test_warning_is_safe_and_bounded);
    tcase_add_test(tc, test_load_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_save_refuses_invalid_progress);
    tcase_add_test(tc, test_unwritable_directory);
    tcase_add_test(tc, test_failed_write_keeps_old_file);
    tcase_add_test(tc, test_failed_rename_leaves_no_temporary);
    suite_add_tcase(s, tc);

    tc = tcase_create("two_windows");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_merge_every_pair);
    tcase_add_test(tc, test_two_processes_keep_both);
    tcase_add_test(tc, test_one_window_goes_back);
    tcase_add_test(tc, test_unreadable_file_is_not_replaced);
    suite_add_tcase(s, tc);

    tc = tcase_create("forget");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_stale_temporaries_are_removed);
    tcase_add_test(tc, test_forget);
    suite_add_tcase(s, tc);
    return s;
}
