/*
 * fixture.c - reader for the PyTorch reference fixtures (see fixture.h).
 */
#include "fixture.h"

#include "config.h"
#include "error.h"
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Most values one tensor may hold (64 MiB of floats): a guard against a
 * corrupt shape, far above what any fixture needs. */
#define FIXTURE_MAX_VALUES ((size_t)1 << 24)

/* Most token ids on the token_ids line. */
#define FIXTURE_MAX_IDS ((size_t)1 << 20)

/* The header's keywords; key_names[] spells them. */
typedef enum HeaderKey {
    KEY_NAME,
    KEY_SEED,
    KEY_SENTENCE,
    KEY_TOKEN_IDS,
    KEY_VOCAB_SIZE,
    KEY_D_MODEL,
    KEY_HEADS,
    KEY_FOCUS,
    KEY_CAUSAL,
    KEY_COUNT
} HeaderKey;

static const char *const key_names[KEY_COUNT] = {
    "name", "seed", "sentence", "token_ids", "vocab_size", "d_model", "heads", "focus", "causal",
};

typedef struct Reader {
    const char *path;
    FILE *fp;
    char *line; /* the current line, without its line ending */
    size_t cap;
    size_t lineno; /* 1-based number of the current line; 0 before any */
    char *err;
    size_t err_size;
} Reader;

static void fail(Reader *r, size_t lineno, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Writes "path:line: message" (or "path: message" when lineno is 0). */
static void fail(Reader *r, size_t lineno, const char *fmt, ...)
{
    if (r->err == NULL || r->err_size == 0)
        return;
    int n;
    if (lineno > 0)
        n = snprintf(r->err, r->err_size, "%s:%zu: ", r->path, lineno);
    else
        n = snprintf(r->err, r->err_size, "%s: ", r->path);
    if (n < 0 || (size_t)n >= r->err_size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->err_size - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Reads the next line into r->line. Returns 1 on a line, 0 at the end of
 * the file, -1 on a read error (reported). */
static int read_line(Reader *r)
{
    errno = 0;
    ssize_t len = getline(&r->line, &r->cap, r->fp);
    if (len < 0) {
        if (ferror(r->fp)) {
            fail(r, r->lineno + 1, "read error: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    r->lineno++;
    if ((size_t)len != strlen(r->line)) {
        fail(r, r->lineno, "line holds a NUL byte");
        return -1;
    }
    while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
        r->line[--len] = '\0';
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static char *skip_space(char *p)
{
    while (is_space(*p))
        p++;
    return p;
}

/* Cuts the next white-space separated word out of *cursor (NUL-terminating
 * it in place) and returns it, or NULL when none is left. */
static char *next_word(char **cursor)
{
    char *p = skip_space(*cursor);
    if (*p == '\0') {
        *cursor = p;
        return NULL;
    }
    char *start = p;
    while (*p != '\0' && !is_space(*p))
        p++;
    if (*p != '\0')
        *p++ = '\0';
    *cursor = p;
    return start;
}

/* A line that is empty, all blanks, or a comment. */
static int is_blank_or_comment(const char *line)
{
    while (is_space(*line))
        line++;
    return *line == '\0' || *line == '#';
}

/* Parses a decimal number without sign into *out. */
static int parse_ull(const char *word, unsigned long long *out)
{
    if (word == NULL || *word < '0' || *word > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(word, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

static int parse_size(const char *word, size_t *out)
{
    unsigned long long v;
    if (!parse_ull(word, &v) || v > SIZE_MAX)
        return 0;
    *out = (size_t)v;
    return 1;
}

/* The one word left on the line after the keyword, parsed as a size. */
static int parse_single_size(Reader *r, char *rest, const char *key, size_t *out)
{
    char *word = next_word(&rest);
    if (word == NULL || !parse_size(word, out)) {
        fail(r, r->lineno, "%s: expected a non-negative integer", key);
        return 0;
    }
    if (next_word(&rest) != NULL) {
        fail(r, r->lineno, "%s: expected one value", key);
        return 0;
    }
    return 1;
}

static int copy_word(Reader *r, char *dst, size_t dst_size, const char *word, const char *what)
{
    size_t len = strlen(word);
    if (len >= dst_size) {
        fail(r, r->lineno, "%s '%s' is longer than %zu bytes", what, word, dst_size - 1);
        return 0;
    }
    memcpy(dst, word, len + 1);
    return 1;
}

static int parse_token_ids(Reader *r, Fixture *f, char *rest)
{
    size_t cap = 0;
    char *word;
    while ((word = next_word(&rest)) != NULL) {
        char *end;
        errno = 0;
        long v = strtol(word, &end, 10);
        if (*word < '0' || *word > '9' || errno == ERANGE || *end != '\0') {
            fail(r, r->lineno, "token_ids: bad id '%s'", word);
            return 0;
        }
        if (f->n_ids == FIXTURE_MAX_IDS) {
            fail(r, r->lineno, "token_ids: more than %zu ids", FIXTURE_MAX_IDS);
            return 0;
        }
        if (f->n_ids == cap) {
            size_t new_cap = cap ? cap * 2 : 16;
            long *grown = realloc(f->token_ids, new_cap * sizeof *grown);
            if (grown == NULL) {
                fail(r, r->lineno, "out of memory");
                return 0;
            }
            f->token_ids = grown;
            cap = new_cap;
        }
        f->token_ids[f->n_ids++] = v;
    }
    if (f->n_ids == 0) {
        fail(r, r->lineno, "token_ids: no ids");
        return 0;
    }
    return 1;
}

/* Parses one header line: its keyword key, then rest, the text after it.
 * key_line[k] is the line keyword k was on, 0 while not seen. */
static int parse_header(Reader *r, Fixture *f, const char *key, char *rest, size_t key_line[KEY_COUNT])
{
    HeaderKey k = KEY_COUNT;
    for (int i = 0; i < KEY_COUNT; i++) {
        if (strcmp(key, key_names[i]) == 0)
            k = (HeaderKey)i;
    }
    if (k == KEY_COUNT) {
        fail(r, r->lineno, "unknown keyword '%s'", key);
        return 0;
    }
    if (key_line[k] != 0) {
        fail(r, r->lineno, "%s given twice (first on line %zu)", key, key_line[k]);
        return 0;
    }
    key_line[k] = r->lineno;

    switch (k) {
    case KEY_NAME: {
        char *word = next_word(&rest);
        if (word == NULL || next_word(&rest) != NULL) {
            fail(r, r->lineno, "name: expected one word");
            return 0;
        }
        return copy_word(r, f->name, sizeof f->name, word, "name");
    }
    case KEY_SEED: {
        char *word = next_word(&rest);
        if (word == NULL || !parse_ull(word, &f->seed)) {
            fail(r, r->lineno, "seed: expected an integer in 0 .. 2^64-1");
            return 0;
        }
        if (next_word(&rest) != NULL) {
            fail(r, r->lineno, "seed: expected one value");
            return 0;
        }
        return 1;
    }
    case KEY_SENTENCE: {
        /* The rest of the line as written, less the blanks after the
         * keyword. */
        char *text = skip_space(rest);
        if (*text == '\0') {
            fail(r, r->lineno, "sentence: empty");
            return 0;
        }
        f->sentence = strdup(text);
        if (f->sentence == NULL) {
            fail(r, r->lineno, "out of memory");
            return 0;
        }
        return 1;
    }
    case KEY_TOKEN_IDS:
        return parse_token_ids(r, f, rest);
    case KEY_VOCAB_SIZE:
        return parse_single_size(r, rest, key, &f->vocab_size);
    case KEY_D_MODEL:
        return parse_single_size(r, rest, key, &f->d_model);
    case KEY_HEADS:
        return parse_single_size(r, rest, key, &f->heads);
    case KEY_FOCUS:
        return parse_single_size(r, rest, key, &f->focus);
    case KEY_CAUSAL: {
        size_t v;
        if (!parse_single_size(r, rest, key, &v))
            return 0;
        if (v > 1) {
            fail(r, r->lineno, "causal: expected 0 or 1");
            return 0;
        }
        f->causal = (int)v;
        return 1;
    }
    case KEY_COUNT:
        break;
    }
    fail(r, r->lineno, "internal error: header key");
    return 0;
}

/* Checks the header as a whole, once the first tensor or end is reached;
 * a missing keyword is blamed on the current line, a bad value on its own. */
static int check_header(Reader *r, const Fixture *f, const size_t key_line[KEY_COUNT])
{
    for (int k = 0; k < KEY_COUNT; k++) {
        if (k != KEY_SENTENCE && key_line[k] == 0) {
            fail(r, r->lineno, "header has no '%s' line", key_names[k]);
            return 0;
        }
    }
    if (f->vocab_size == 0) {
        fail(r, key_line[KEY_VOCAB_SIZE], "vocab_size must be >= 1");
        return 0;
    }
    if (f->d_model == 0) {
        fail(r, key_line[KEY_D_MODEL], "d_model must be >= 1");
        return 0;
    }
    if (f->heads == 0 || f->d_model % f->heads != 0) {
        fail(r, key_line[KEY_HEADS], "heads %zu does not divide d_model %zu", f->heads, f->d_model);
        return 0;
    }
    if (f->focus < 1 || f->focus > f->n_ids) {
        fail(r, key_line[KEY_FOCUS], "focus %zu is not in 1 .. %zu", f->focus, f->n_ids);
        return 0;
    }
    for (size_t i = 0; i < f->n_ids; i++) {
        if ((unsigned long long)f->token_ids[i] >= f->vocab_size) {
            fail(r, key_line[KEY_TOKEN_IDS], "token id %ld is not below vocab_size %zu", f->token_ids[i],
                 f->vocab_size);
            return 0;
        }
    }
    return 1;
}

/* Parses "tensor PART NAME NDIM DIM..." into t (data not yet allocated). */
static int parse_tensor_line(Reader *r, char *rest, FixtureTensor *t)
{
    char *part = next_word(&rest);
    char *name = next_word(&rest);
    char *ndim_word = next_word(&rest);
    if (part == NULL || name == NULL || ndim_word == NULL) {
        fail(r, r->lineno, "tensor: expected PART NAME NDIM DIM...");
        return 0;
    }
    if (!copy_word(r, t->part, sizeof t->part, part, "tensor part") ||
        !copy_word(r, t->name, sizeof t->name, name, "tensor name"))
        return 0;
    size_t ndim;
    if (!parse_size(ndim_word, &ndim) || ndim < 1 || ndim > FIXTURE_MAX_DIMS) {
        fail(r, r->lineno, "tensor %s: ndim '%s' is not in 1 .. %d", name, ndim_word, FIXTURE_MAX_DIMS);
        return 0;
    }
    t->ndim = (int)ndim;
    t->size = 1;
    for (size_t i = 0; i < ndim; i++) {
        char *word = next_word(&rest);
        size_t dim;
        if (word == NULL) {
            fail(r, r->lineno, "tensor %s: %zu dimensions given, ndim is %zu", name, i, ndim);
            return 0;
        }
        if (!parse_size(word, &dim) || dim == 0) {
            fail(r, r->lineno, "tensor %s: bad dimension '%s'", name, word);
            return 0;
        }
        if (dim > FIXTURE_MAX_VALUES / t->size) {
            fail(r, r->lineno, "tensor %s: more than %zu values", name, FIXTURE_MAX_VALUES);
            return 0;
        }
        t->shape[i] = dim;
        t->size *= dim;
    }
    if (next_word(&rest) != NULL) {
        fail(r, r->lineno, "tensor %s: more dimensions than ndim %zu", name, ndim);
        return 0;
    }
    return 1;
}

/* Reads the rows of t: one line per innermost row. */
static int read_tensor_rows(Reader *r, FixtureTensor *t)
{
    size_t cols = t->shape[t->ndim - 1];
    size_t rows = t->size / cols;
    size_t header_line = r->lineno;
    t->data = malloc(t->size * sizeof *t->data);
    if (t->data == NULL) {
        fail(r, r->lineno, "out of memory");
        return 0;
    }
    for (size_t row = 0; row < rows; row++) {
        int got = read_line(r);
        if (got < 0)
            return 0;
        if (got == 0) {
            fail(r, r->lineno, "file ends inside tensor %s (line %zu): %zu of %zu rows", t->name, header_line, row,
                 rows);
            return 0;
        }
        char *p = r->line;
        char *first = skip_space(p);
        if (strncmp(first, "tensor", 6) == 0 || strncmp(first, "end", 3) == 0 || *first == '\0' || *first == '#') {
            fail(r, r->lineno,
                 "tensor %s (line %zu) has %zu rows, found %zu before this "
                 "line",
                 t->name, header_line, rows, row);
            return 0;
        }
        float *out = t->data + row * cols;
        size_t n = 0;
        for (;;) {
            p = skip_space(p);
            if (*p == '\0')
                break;
            char *end;
            errno = 0;
            float v = strtof(p, &end);
            if (end == p || (*end != '\0' && !is_space(*end))) {
                char *word = next_word(&p);
                fail(r, r->lineno, "tensor %s: bad number '%s'", t->name, word);
                return 0;
            }
            if (n == cols) {
                fail(r, r->lineno, "tensor %s: more than %zu values on a row", t->name, cols);
                return 0;
            }
            out[n++] = v;
            p = end;
        }
        if (n != cols) {
            fail(r, r->lineno, "tensor %s: expected %zu values, found %zu", t->name, cols, n);
            return 0;
        }
    }
    return 1;
}

static Fixture *parse(Reader *r)
{
    Fixture *f = calloc(1, sizeof *f);
    if (f == NULL) {
        fail(r, 0, "out of memory");
        return NULL;
    }
    size_t key_line[KEY_COUNT] = {0};
    int in_header = 1;
    size_t cap = 0;
    int got;
    while ((got = read_line(r)) > 0) {
        if (is_blank_or_comment(r->line))
            continue;
        char *rest = r->line;
        char *key = next_word(&rest);
        if (strcmp(key, "tensor") == 0 || strcmp(key, "end") == 0) {
            if (in_header) {
                if (!check_header(r, f, key_line))
                    goto failed;
                in_header = 0;
            }
            if (strcmp(key, "end") == 0) {
                if (next_word(&rest) != NULL) {
                    fail(r, r->lineno, "end: nothing may follow it");
                    goto failed;
                }
                break;
            }
            if (f->n_tensors == cap) {
                size_t new_cap = cap ? cap * 2 : 32;
                FixtureTensor *grown = realloc(f->tensors, new_cap * sizeof *grown);
                if (grown == NULL) {
                    fail(r, r->lineno, "out of memory");
                    goto failed;
                }
                f->tensors = grown;
                cap = new_cap;
            }
            FixtureTensor *t = &f->tensors[f->n_tensors];
            memset(t, 0, sizeof *t);
            f->n_tensors++;
            if (!parse_tensor_line(r, rest, t))
                goto failed;
            for (size_t i = 0; i + 1 < f->n_tensors; i++) {
                if (strcmp(f->tensors[i].part, t->part) == 0 && strcmp(f->tensors[i].name, t->name) == 0) {
                    fail(r, r->lineno, "tensor %s %s given twice", t->part, t->name);
                    goto failed;
                }
            }
            if (!read_tensor_rows(r, t))
                goto failed;
            continue;
        }
        if (!in_header) {
            fail(r, r->lineno, "unknown keyword '%s' (expected tensor or end)", key);
            goto failed;
        }
        if (!parse_header(r, f, key, rest, key_line))
            goto failed;
    }
    if (got < 0)
        goto failed;
    if (got == 0) {
        fail(r, r->lineno > 0 ? r->lineno : 1, "missing 'end'");
        goto failed;
    }
    /* After end: only blank lines and comments. */
    while ((got = read_line(r)) > 0) {
        if (!is_blank_or_comment(r->line)) {
            fail(r, r->lineno, "text after 'end'");
            goto failed;
        }
    }
    if (got < 0)
        goto failed;
    return f;

failed:
    fixture_free(f);
    return NULL;
}

Fixture *fixture_load(const char *path, char *errbuf, size_t errbuf_size)
{
    Reader r = {0};
    r.path = path;
    r.err = errbuf;
    r.err_size = errbuf_size;
    if (errbuf != NULL && errbuf_size > 0)
        errbuf[0] = '\0';
    r.fp = fopen(path, "r");
    if (r.fp == NULL) {
        fail(&r, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    Fixture *f = parse(&r);
    free(r.line);
    fclose(r.fp);
    return f;
}

void fixture_free(Fixture *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_tensors; i++)
        free(f->tensors[i].data);
    free(f->tensors);
    free(f->token_ids);
    free(f->sentence);
    free(f);
}

const FixtureTensor *fixture_find(const Fixture *f, const char *part, const char *name)
{
    if (f == NULL || part == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < f->n_tensors; i++) {
        if (strcmp(f->tensors[i].part, part) == 0 && strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    }
    return NULL;
}

static int compare_paths(const void *a, const void *b)
{
    const char *const *pa = a;
    const char *const *pb = b;
    return strcmp(*pa, *pb);
}

static int has_txt_suffix(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && name[0] != '.' && strcmp(name + len - 4, ".txt") == 0;
}

size_t fixture_list(const char *dir, char ***paths)
{
    *paths = NULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char **list = NULL;
    size_t n = 0, cap = 0;
    size_t dir_len = strlen(dir);
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (!has_txt_suffix(entry->d_name))
            continue;
        if (n == cap) {
            size_t new_cap = cap ? cap * 2 : 16;
            char **grown = realloc(list, new_cap * sizeof *grown);
            if (grown == NULL)
                goto failed;
            list = grown;
            cap = new_cap;
        }
        size_t len = dir_len + 1 + strlen(entry->d_name) + 1;
        char *path = malloc(len);
        if (path == NULL)
            goto failed;
        snprintf(path, len, "%s/%s", dir, entry->d_name);
        list[n++] = path;
    }
    closedir(d);
    if (n == 0) {
        free(list);
        return 0;
    }
    qsort(list, n, sizeof *list, compare_paths);
    *paths = list;
    return n;

failed:
    closedir(d);
    fixture_list_free(list, n);
    return 0;
}

void fixture_list_free(char **paths, size_t n)
{
    if (paths == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

bool fixture_temp_dir(char *path, size_t size, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, size, "%s/attn-%s-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", tag);
    return mkdtemp(path) != NULL;
}

void fixture_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

Trace *fixture_sentence_trace(const char *sentence)
{
    Config cfg;
    Error err;
    error_clear(&err);
    Trace *trace = NULL;
    if (config_default(&cfg, &err) && (sentence == NULL || config_set_sentence(&cfg, sentence, &err)))
        trace = trace_build(&cfg, &err);
    if (trace == NULL) {
        fprintf(stderr, "fixture_sentence_trace: %s\n", err.message);
        abort();
    }
    config_free(&cfg);
    return trace;
}

Trace *fixture_article_trace(void)
{
    return fixture_sentence_trace(NULL);
}

char *fixture_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t size = 0, cap = 4096;
    char *text = malloc(cap);
    size_t got;
    while (text != NULL && (got = fread(text + size, 1, cap - size - 1, f)) > 0) {
        size += got;
        if (cap - size - 1 == 0) {
            char *bigger = realloc(text, cap * 2);
            if (bigger == NULL)
                free(text);
            text = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (text != NULL)
        text[size] = '\0';
    return text;
}
