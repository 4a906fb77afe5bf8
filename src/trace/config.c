/*
 * config.c - the built-in configuration, tokenization and validation
 * (see config.h for the tokenization rule).
 */
#include "config.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_limits.h"
#include "experiment.h"
#include "strbuf.h"

/* The article's sentence and the ids it typed in by hand. */
static const char ARTICLE_SENTENCE[] = "my name is Marcello Politi";
static const char ARTICLE_TOKEN_IDS[] = "2 6 8 3 1";

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

static void free_tokens(char **tokens, size_t n)
{
    if (tokens == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(tokens[i]);
    free(tokens);
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

size_t text_find_invalid(const char *text, size_t len, const char **why)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        if (s[i] == '\0') {
            *why = "NUL byte";
            return i;
        }
        if (s[i] < 0x20 || s[i] == 0x7f) {
            if (!is_space(s[i])) {
                *why = "control character";
                return i;
            }
            i++;
            continue;
        }
        /* a sequence cut short by the end of the text is invalid too */
        size_t need = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 : (s[i] & 0xf0) == 0xe0 ? 3 : 4;
        uint32_t cp;
        size_t seq = i + need <= len ? (size_t)utf8_decode((const char *)s + i, &cp) : 0;
        if (seq == 0) {
            *why = "invalid UTF-8";
            return i;
        }
        if (seq == 2 && s[i] == 0xc2 && s[i + 1] <= 0x9f) { /* U+0080..U+009F, the C1 controls */
            *why = "control character";
            return i;
        }
        i += seq;
    }
    return (size_t)-1;
}

/* Checks a sentence with text_find_invalid; the error's `at` is the fault. */
static bool check_sentence_text(const char *text, Error *err)
{
    const char *why = NULL;
    size_t bad = text_find_invalid(text, strlen(text), &why);
    if (bad == (size_t)-1)
        return true;
    unsigned char c = (unsigned char)text[bad];
    if (strcmp(why, "control character") == 0)
        return error_set_at(err, STATUS_DATAERR, bad, "control character %s%02X is not allowed in a sentence",
                            c == 0xc2 ? "U+00" : "0x", c == 0xc2 ? (unsigned char)text[bad + 1] : c);
    return error_set_at(err, STATUS_DATAERR, bad, "%s", why);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------------------
 * Public functions
 * ---------------------------------------------------------------------- */

void config_free(Config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->sentence);
    free_tokens(cfg->tokens, cfg->n_tokens);
    free(cfg->token_ids);
    free(cfg->model);
    free(cfg->experiments);
    memset(cfg, 0, sizeof *cfg);
}

bool config_default(Config *cfg, Error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->d_model = 16;
    cfg->heads = 4;
    cfg->focus = 1;
    cfg->seed = 0;
    cfg->causal = false;
    if (!config_set_sentence(cfg, ARTICLE_SENTENCE, err) || !config_set_token_ids(cfg, ARTICLE_TOKEN_IDS, err)) {
        config_free(cfg);
        return false;
    }
    cfg->vocab_size = 10;
    return true;
}

bool config_copy(Config *dst, const Config *src, Error *err)
{
    *dst = *src;
    dst->sentence = NULL;
    dst->tokens = NULL;
    dst->token_ids = NULL;
    dst->n_tokens = 0;
    dst->model = NULL;
    dst->experiments = NULL;
    if (src->experiments != NULL && (dst->experiments = malloc(sizeof *dst->experiments)) == NULL)
        goto oom;
    if (src->experiments != NULL)
        *dst->experiments = *src->experiments;
    if (src->sentence != NULL && (dst->sentence = dup_string(src->sentence)) == NULL)
        goto oom;
    if (src->model != NULL && (dst->model = dup_string(src->model)) == NULL)
        goto oom;
    dst->tokens = calloc(src->n_tokens, sizeof *dst->tokens);
    dst->token_ids = calloc(src->n_tokens, sizeof *dst->token_ids);
    if (dst->tokens == NULL || dst->token_ids == NULL)
        goto oom;
    dst->n_tokens = src->n_tokens;
    for (size_t i = 0; i < src->n_tokens; i++) {
        if ((dst->tokens[i] = dup_string(src->tokens[i])) == NULL)
            goto oom;
        dst->token_ids[i] = src->token_ids[i];
    }
    return true;
oom:
    config_free(dst);
    return error_oom(err, "a configuration");
}

/* Splits text into lowercased words. On success *words holds *n_words
 * malloc'd strings. */
static bool split_words(const char *text, char ***words, size_t *n_words, Error *err)
{
    *words = NULL;
    *n_words = 0;
    size_t cap = 0;
    const char *p = text;
    for (;;) {
        while (*p != '\0' && is_space((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p != '\0' && !is_space((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - start);
        if (len > LIMIT_MAX_WORD_BYTES) {
            free_tokens(*words, *n_words);
            return error_set_at(err, STATUS_DATAERR, (size_t)(start - text),
                                "a word is longer than %d bytes (LIMIT_MAX_WORD_BYTES)", LIMIT_MAX_WORD_BYTES);
        }
        if (*n_words == LIMIT_MAX_TOKENS) {
            free_tokens(*words, *n_words);
            return error_set_at(err, STATUS_DATAERR, (size_t)(start - text), "more than %d words (LIMIT_MAX_TOKENS)",
                                LIMIT_MAX_TOKENS);
        }
        if (*n_words == cap) {
            size_t new_cap = cap == 0 ? 16 : cap * 2;
            char **grown = realloc(*words, new_cap * sizeof *grown);
            if (grown == NULL) {
                free_tokens(*words, *n_words);
                return error_oom(err, "the words of a sentence");
            }
            *words = grown;
            cap = new_cap;
        }
        char *word = malloc(len + 1);
        if (word == NULL) {
            free_tokens(*words, *n_words);
            return error_oom(err, "a word");
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)start[i];
            word[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
        }
        word[len] = '\0';
        (*words)[(*n_words)++] = word;
    }
    return true;
}

bool config_set_sentence(Config *cfg, const char *text, Error *err)
{
    if (strncmp(text, "\xef\xbb\xbf", 3) == 0) /* a byte-order mark is not part of the sentence */
        text += 3;
    if (strlen(text) > LIMIT_MAX_SENTENCE_BYTES)
        return error_set(err, STATUS_DATAERR, "longer than %d bytes (LIMIT_MAX_SENTENCE_BYTES)",
                         LIMIT_MAX_SENTENCE_BYTES);
    if (!check_sentence_text(text, err))
        return false;
    char **words;
    size_t n_words;
    if (!split_words(text, &words, &n_words, err))
        return false;
    if (n_words == 0)
        return error_set(err, STATUS_DATAERR, "the sentence is empty; give at least one word");

    /* The vocabulary: the distinct words, sorted. */
    char **vocab = malloc(n_words * sizeof *vocab);
    long *ids = malloc(n_words * sizeof *ids);
    char *sentence = dup_string(text);
    if (vocab == NULL || ids == NULL || sentence == NULL) {
        free(vocab);
        free(ids);
        free(sentence);
        free_tokens(words, n_words);
        return error_oom(err, "a vocabulary");
    }
    /* the sentence as shown: its words as given (case kept), one space
     * between them; line breaks, tabs and a file's final newline go */
    {
        size_t used = 0;
        const char *p = text;
        while (*p != '\0') {
            while (*p != '\0' && is_space((unsigned char)*p))
                p++;
            if (*p == '\0')
                break;
            if (used > 0)
                sentence[used++] = ' ';
            while (*p != '\0' && !is_space((unsigned char)*p))
                sentence[used++] = *p++;
        }
        sentence[used] = '\0';
    }
    memcpy(vocab, words, n_words * sizeof *vocab);
    qsort(vocab, n_words, sizeof *vocab, compare_strings);
    size_t n_vocab = 0;
    for (size_t i = 0; i < n_words; i++)
        if (n_vocab == 0 || strcmp(vocab[n_vocab - 1], vocab[i]) != 0)
            vocab[n_vocab++] = vocab[i];
    /* Each word's id is its position in the vocabulary. */
    for (size_t i = 0; i < n_words; i++) {
        char **found = bsearch(&words[i], vocab, n_vocab, sizeof *vocab, compare_strings);
        ids[i] = (long)(found - vocab);
    }
    free(vocab); /* its strings belong to words */

    free(cfg->sentence);
    free_tokens(cfg->tokens, cfg->n_tokens);
    free(cfg->token_ids);
    cfg->sentence = sentence;
    cfg->tokens = words;
    cfg->token_ids = ids;
    cfg->n_tokens = n_words;
    cfg->vocab_size = n_vocab;
    return true;
}

/* Parses text, token ids separated by commas or spaces, into a new array
 * of *n ids (at least one). Returns it (the caller frees it); or NULL with
 * err (STATUS_DATAERR, at the offending byte) when an id is not a whole
 * number, is LIMIT_MAX_VOCAB or more, or there are none or more than
 * LIMIT_MAX_TOKENS; or with error_oom. */
static long *parse_token_ids(const char *text, size_t *n_out, Error *err)
{
    size_t cap = 16, n = 0;
    long *ids = malloc(cap * sizeof *ids);
    if (ids == NULL) {
        error_oom(err, "token ids");
        return NULL;
    }
    const char *p = text;
    for (;;) {
        while (*p == ',' || is_space((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        size_t at = (size_t)(p - text);
        if (!isdigit((unsigned char)*p)) {
            free(ids);
            error_set_at(err, STATUS_DATAERR, at, "expected a token id (a whole number from 0 up), got '%c'",
                         isprint((unsigned char)*p) ? *p : '?');
            return NULL;
        }
        errno = 0;
        char *end;
        long id = strtol(p, &end, 10);
        if (*end != '\0' && *end != ',' && !is_space((unsigned char)*end)) {
            free(ids);
            error_set_at(err, STATUS_DATAERR, at, "expected a token id (a whole number from 0 up)");
            return NULL;
        }
        if (errno != 0 || id >= LIMIT_MAX_VOCAB) {
            free(ids);
            error_set_at(err, STATUS_DATAERR, at,
                         "token id %.*s is too large: a vocabulary has at most %d entries (LIMIT_MAX_VOCAB)",
                         (int)(end - p < 24 ? end - p : 24), p, LIMIT_MAX_VOCAB);
            return NULL;
        }
        if (n == LIMIT_MAX_TOKENS) {
            free(ids);
            error_set_at(err, STATUS_DATAERR, at, "more than %d ids (LIMIT_MAX_TOKENS)", LIMIT_MAX_TOKENS);
            return NULL;
        }
        if (n == cap) {
            long *grown = realloc(ids, 2 * cap * sizeof *ids);
            if (grown == NULL) {
                free(ids);
                error_oom(err, "token ids");
                return NULL;
            }
            ids = grown;
            cap *= 2;
        }
        ids[n++] = id;
        p = end;
    }
    if (n == 0) {
        free(ids);
        error_set(err, STATUS_DATAERR, "no token ids given");
        return NULL;
    }
    *n_out = n;
    return ids;
}

bool config_set_token_ids(Config *cfg, const char *text, Error *err)
{
    size_t n = 0;
    long *ids = parse_token_ids(text, &n, err);
    if (ids == NULL)
        return false;

    /* Labels: the sentence's words when they match one to one, else the ids. */
    char **labels = calloc(n, sizeof *labels);
    if (labels == NULL) {
        free(ids);
        return error_oom(err, "token labels");
    }
    bool words_fit = cfg->tokens != NULL && cfg->n_tokens == n && cfg->sentence != NULL;
    for (size_t i = 0; i < n; i++) {
        char number[32];
        snprintf(number, sizeof number, "%ld", ids[i]);
        labels[i] = dup_string(words_fit ? cfg->tokens[i] : number);
        if (labels[i] == NULL) {
            free_tokens(labels, n);
            free(ids);
            return error_oom(err, "token labels");
        }
    }
    if (!words_fit) {
        free(cfg->sentence);
        cfg->sentence = NULL;
    }
    free_tokens(cfg->tokens, cfg->n_tokens);
    free(cfg->token_ids);
    cfg->tokens = labels;
    cfg->token_ids = ids;
    cfg->n_tokens = n;
    long max_id = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] > max_id)
            max_id = ids[i];
    cfg->vocab_size = (size_t)max_id + 1;
    return true;
}

bool config_set_tokens(Config *cfg, const long *ids, const char *const *labels, size_t n, Error *err)
{
    if (n == 0 || n > LIMIT_MAX_TOKENS)
        return error_set(err, STATUS_DATAERR, "%zu tokens: expected 1 to %d", n, LIMIT_MAX_TOKENS);
    char **copies = calloc(n, sizeof *copies);
    long *id_copy = calloc(n, sizeof *id_copy);
    bool ok = copies != NULL && id_copy != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        id_copy[i] = ids[i];
        ok = (copies[i] = dup_string(labels[i])) != NULL;
    }
    if (!ok) {
        free_tokens(copies, n);
        free(id_copy);
        return error_oom(err, "the tokens");
    }
    free_tokens(cfg->tokens, cfg->n_tokens);
    free(cfg->token_ids);
    cfg->tokens = copies;
    cfg->token_ids = id_copy;
    cfg->n_tokens = n;
    return true;
}

size_t config_d_k(const Config *cfg)
{
    return cfg->heads == 0 ? 0 : cfg->d_model / cfg->heads;
}

bool config_repeat_tokens(Config *cfg, size_t n, Error *err)
{
    if (n == 0 || n > LIMIT_MAX_TOKENS)
        return error_set(err, STATUS_USAGE, "--tokens: expected 1 to %d tokens, got %zu", LIMIT_MAX_TOKENS, n);
    const size_t base = cfg->n_tokens;
    char **tokens = calloc(n, sizeof *tokens);
    long *ids = calloc(n, sizeof *ids);
    char *sentence = NULL;
    size_t sentence_bytes = 1;
    if (tokens == NULL || ids == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if ((tokens[i] = dup_string(cfg->tokens[i % base])) == NULL)
            goto oom;
        ids[i] = cfg->token_ids[i % base];
        sentence_bytes += strlen(tokens[i]) + 1;
    }
    if (cfg->sentence != NULL) { /* the words, one space apart */
        if ((sentence = malloc(sentence_bytes)) == NULL)
            goto oom;
        size_t used = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(tokens[i]);
            memcpy(sentence + used, tokens[i], len);
            used += len;
            sentence[used++] = i + 1 < n ? ' ' : '\0';
        }
        free(cfg->sentence);
        cfg->sentence = sentence;
    }
    for (size_t i = 0; i < base; i++)
        free(cfg->tokens[i]);
    free(cfg->tokens);
    free(cfg->token_ids);
    cfg->tokens = tokens;
    cfg->token_ids = ids;
    cfg->n_tokens = n;
    return true;
oom:
    if (tokens != NULL)
        for (size_t i = 0; i < n; i++)
            free(tokens[i]);
    free(tokens);
    free(ids);
    return error_oom(err, "the repeated tokens");
}

bool config_validate(const Config *cfg, Error *err)
{
    if (cfg->n_tokens == 0)
        return error_set(err, STATUS_DATAERR, "no tokens: give a sentence or token ids");
    if (cfg->n_tokens > LIMIT_MAX_TOKENS)
        return error_set(err, STATUS_DATAERR, "%zu tokens is more than the limit of %d", cfg->n_tokens,
                         LIMIT_MAX_TOKENS);
    if (cfg->d_model < 1 || cfg->d_model > LIMIT_MAX_D_MODEL)
        return error_set(err, STATUS_DATAERR, "d_model %zu is outside 1..%d", cfg->d_model, LIMIT_MAX_D_MODEL);
    if (cfg->heads < 1 || cfg->heads > LIMIT_MAX_HEADS)
        return error_set(err, STATUS_DATAERR, "heads %zu is outside 1..%d", cfg->heads, LIMIT_MAX_HEADS);
    if (cfg->d_model % cfg->heads != 0)
        return error_set(err, STATUS_DATAERR,
                         "heads %zu does not divide d_model %zu (each head gets d_model / heads values)", cfg->heads,
                         cfg->d_model);
    if (cfg->vocab_size < 1 || cfg->vocab_size > LIMIT_MAX_VOCAB)
        return error_set(err, STATUS_DATAERR, "vocabulary size %zu is outside 1..%d", cfg->vocab_size, LIMIT_MAX_VOCAB);
    for (size_t i = 0; i < cfg->n_tokens; i++)
        if (cfg->token_ids[i] < 0 || (size_t)cfg->token_ids[i] >= cfg->vocab_size)
            return error_set(err, STATUS_DATAERR, "token id %ld (token %zu) is not below the vocabulary size %zu",
                             cfg->token_ids[i], i + 1, cfg->vocab_size);
    if (cfg->focus < 1 || cfg->focus > cfg->n_tokens)
        return error_set(err, STATUS_DATAERR, "focus token %zu is outside 1..%zu (the sentence has %zu tokens)",
                         cfg->focus, cfg->n_tokens, cfg->n_tokens);
    return true;
}

void config_model_name(const char *dir, char *buf, size_t size)
{
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    snprintf(buf, size, "%.*s", (int)(end - start), dir + start);
}
