/*
 * fixture.h - reads the PyTorch reference fixtures: the .txt files of
 * tests/fixtures/.
 *
 * tests/make_fixtures.py writes them with real PyTorch; the tests compare
 * attn-trace's tensors with them. Format, one item a line:
 *
 *   # comment                      (anywhere outside a tensor's rows)
 *   name NAME
 *   seed N                         (0 .. 2^64-1)
 *   sentence WORDS...              (optional: absent when only ids were given)
 *   token_ids ID...
 *   vocab_size V
 *   d_model D
 *   heads H
 *   focus F                        (1-based)
 *   causal 0|1
 *   tensor PART NAME NDIM DIM...   (NDIM 1..4), then one line per innermost
 *                                  row: DIM[NDIM-1] numbers (strtof: -inf,
 *                                  inf and nan allowed)
 *   ...
 *   end
 *
 * Every header key must appear once, before the first tensor. A tensor's
 * values are stored row-major, as in torch.
 */
#ifndef ATTN_TEST_FIXTURE_H
#define ATTN_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#define FIXTURE_MAX_DIMS 4

typedef struct FixtureTensor {
    char part[16];                  /* "single_head" or "multi_head" */
    char name[32];                  /* e.g. "scaled_scores_3", "z1" */
    int ndim;                       /* 1 .. FIXTURE_MAX_DIMS */
    size_t shape[FIXTURE_MAX_DIMS]; /* unused dimensions are 0 */
    size_t size;                    /* product of the ndim dimensions */
    float *data;                    /* size values, row-major; owned */
} FixtureTensor;

typedef struct Fixture {
    char name[64];
    unsigned long long seed;
    char *sentence; /* NULL if absent; owned */
    size_t n_ids;
    long *token_ids; /* n_ids ids, each < vocab_size; owned */
    size_t vocab_size, d_model, heads, focus;
    int causal; /* 0 or 1 */
    size_t n_tensors;
    FixtureTensor *tensors; /* in file order; owned */
} Fixture;

/* Reads path; on failure returns NULL and writes "path:line: message"
 * (or "path: message" when no line is to blame) into errbuf, which may be
 * NULL or of size 0. */
Fixture *fixture_load(const char *path, char *errbuf, size_t errbuf_size);

/* Frees f and everything it owns. NULL is allowed. */
void fixture_free(Fixture *f);

/* The tensor named name in part part ("single_head" or "multi_head"),
 * or NULL when f has none. */
const FixtureTensor *fixture_find(const Fixture *f, const char *part, const char *name);

/* Lists the *.txt files of dir, sorted by name (strcmp), as "dir/file".
 * Returns their count and sets *paths to a malloc'd array of malloc'd
 * paths; returns 0 with *paths NULL when there are none or on error
 * (dir cannot be opened, out of memory). */
size_t fixture_list(const char *dir, char ***paths);

/* Frees what fixture_list returned. NULL is allowed. */
void fixture_list_free(char **paths, size_t n);

/* Makes a fresh scratch directory "$TMPDIR/attn-TAG-XXXXXX" (or under
 * /tmp) into path (size bytes). False when mkdtemp fails. */
bool fixture_temp_dir(char *path, size_t size, const char *tag);

/* Reads the whole file at path into a new NUL-terminated string (free
 * it), or NULL when it cannot be read. */
char *fixture_read_text(const char *path);

struct Trace;
/* The article's trace at the default configuration (the sentence, sizes
 * and seed of config_default); the caller frees it with trace_free. Aborts
 * with a message if it cannot be built (the test then fails). */
struct Trace *fixture_article_trace(void);

/* The same, of another sentence (NULL: the article's). */
struct Trace *fixture_sentence_trace(const char *sentence);

/* Removes dir and the files in it (one level; used on fixture_temp_dir's
 * directories). A missing dir is no error. */
void fixture_remove_dir(const char *dir);

#endif
