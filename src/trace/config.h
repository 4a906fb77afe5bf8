/*
 * config.h - what a trace is computed from: the sentence, its token ids and
 * the model's sizes, and how to get them from a sentence.
 *
 * Tokenization rule (documented in README and docs/json.md): the sentence is
 * lowercased (ASCII letters only) and split on white space; the vocabulary is
 * the sorted list of distinct words (byte order); a word's id is its position
 * in that list. Explicit token ids (with a vocabulary size) replace that
 * rule; the words of a sentence given with them then only label the tokens.
 */
#ifndef ATTN_CONFIG_H
#define ATTN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "kernels.h"

typedef struct Config {
    char *sentence;               /* its words as given, one space apart; NULL when only ids were given; owned */
    size_t n_tokens;              /* tokens in the sequence (s), >= 1 */
    char **tokens;                /* n_tokens labels (the lowercased words, or the ids as text); owned */
    long *token_ids;              /* n_tokens ids, each < vocab_size; owned */
    size_t vocab_size;            /* rows of the embedding table (V) */
    size_t d_model;               /* embedding width (d) */
    size_t heads;                 /* attention heads (h), divides d_model */
    size_t focus;                 /* the token whose query part 1 follows, 1-based */
    uint64_t seed;                /* torch.manual_seed value */
    bool causal;                  /* mask out keys after each query */
    unsigned long long max_bytes; /* cap on the trace's tensors, 0 for LIMIT_DEFAULT_MAX_BYTES */
    KernelChoice kernels; /* which kernels compute the trace (--kernels); never changes a reference-sized trace */
    int threads;          /* threads for the fast kernels (--threads), 0 for the default */
    char *model;          /* --model DIR: the checkpoint of a model trace (part 3 alone); NULL: the article; owned */
    size_t layer;         /* --layer L: the block a model trace follows, below n_layer */
    size_t n_layer;       /* the checkpoint's blocks (its config.json); 0 without a model */
    struct ExperimentSet *experiments; /* the changes the trace runs under (experiment.h); NULL for none; owned */
} Config;

/* Fills cfg with the article's configuration: "my name is Marcello Politi",
 * ids [2, 6, 8, 3, 1], vocabulary 10, d_model 16, 4 heads, focus 1, seed 0,
 * no mask. Release with config_free. */
bool config_default(Config *cfg, Error *err);

/* Releases what cfg owns and zeroes it. NULL is a no-op. */
void config_free(Config *cfg);

/* Deep copy of src into dst (dst is overwritten, not freed first),
 * experiments included. */
bool config_copy(Config *dst, const Config *src, Error *err);

/* Replaces the sentence and tokens: tokenizes text by the rule above and
 * sets vocab_size to the number of distinct words. Fails on an empty
 * sentence, a word longer than LIMIT_MAX_WORD_BYTES, more than
 * LIMIT_MAX_TOKENS words, invalid UTF-8 or control characters. */
bool config_set_sentence(Config *cfg, const char *text, Error *err);

/* Replaces the token ids with those in text ("2 6 8 3 1", separated by
 * white space or commas) and sets vocab_size to the largest id plus one
 * (callers that know a vocabulary size set it afterwards). Labels become the
 * sentence's words when a sentence with as many words is set; otherwise the
 * sentence is dropped and the ids label themselves. */
bool config_set_token_ids(Config *cfg, const char *text, Error *err);

/* Replaces the token ids and their labels with copies of ids[0..n) and
 * labels[0..n) (a model's tokenizer made them); the sentence and the
 * vocabulary size are unchanged. Fails (STATUS_DATAERR) for n outside
 * 1..LIMIT_MAX_TOKENS, or out of memory. */
bool config_set_tokens(Config *cfg, const long *ids, const char *const *labels, size_t n, Error *err);

/* Repeats the tokens (ids and labels, and the sentence's words when there
 * is a sentence) until there are n, or keeps the first n when there are
 * more: "my name is" with n = 5 gives "my name is my name". The vocabulary
 * is unchanged. Fails (STATUS_USAGE) for n outside 1..LIMIT_MAX_TOKENS. */
bool config_repeat_tokens(Config *cfg, size_t n, Error *err);

/* Checks that the sizes fit together: 1 <= heads divides d_model, every id
 * below vocab_size, focus in 1..n_tokens, each size within attn_limits.h.
 * Errors carry STATUS_DATAERR. */
bool config_validate(const Config *cfg, Error *err);

/* Finds the first byte of text[0..len) that may not stand in a sentence or
 * lesson: a NUL, a control character other than white space, or invalid
 * UTF-8 (bad, overlong or truncated sequences, surrogates). Returns its
 * offset and sets *why to a short reason, or returns (size_t)-1. Control
 * characters are refused so that no escape sequence reaches a terminal. */
size_t text_find_invalid(const char *text, size_t len, const char **why);

/* d_model / heads. */
size_t config_d_k(const Config *cfg);

/* Writes the last name of a model's directory into buf, at most size
 * bytes: "tiny" for "lessons/models/tiny/" or "tiny". What the screen
 * calls a model, where its whole path has no room. */
void config_model_name(const char *dir, char *buf, size_t size);

#endif
