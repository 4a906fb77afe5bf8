/*
 * bpe.c - GPT-2's byte-level BPE tokenizer (see bpe.h).
 *
 * The vocabulary is kept as one pool of token texts (byte-level characters)
 * and one of their bytes, with a hash index from text to id; the merges as
 * three arrays by rank (left, right, merged) with a hash index from the
 * pair (left, right) to its rank.
 *
 * The merge loop works on a word as a linked list of pieces, with a heap of
 * (rank, position) for every adjacent pair that has a rank. A pass pops
 * every entry of the lowest rank at once (they come out in position order),
 * then merges those that still hold the pair, left to right: exactly the
 * pass of the reference encoders, which rescan the word for the lowest
 * ranked pair and merge its occurrences left to right, but in O(n log n)
 * for a word of n bytes instead of O(n^2). Pairs made by a pass are pushed
 * for the passes after it (they never have the pass's own rank: a pair's
 * merge is a longer token than either half).
 */
#include "bpe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "unicode_tables.h"
#include "utf8.h"

typedef struct Token {
    uint32_t text_off, text_len;   /* in Bpe.text_pool: the byte-level characters */
    uint32_t bytes_off, bytes_len; /* in Bpe.bytes_pool: the bytes they stand for */
} Token;

struct Bpe {
    size_t n_tokens;
    Token *tokens;                /* by id */
    char *text_pool, *bytes_pool; /* each token's text / bytes, NUL-terminated */
    uint32_t *token_index;        /* hash slots: id + 1, 0 empty */
    size_t token_mask;
    int32_t byte_id[256]; /* the id of each byte's byte-level character */
    size_t n_merges;
    int32_t *merge_left, *merge_right, *merge_result; /* by rank */
    uint64_t *pair_key;                               /* hash slots: (left << 32 | right) + 1, 0 empty */
    int32_t *pair_rank;
    size_t pair_mask;
};

/* ------------------------------------------------------------------------
 * The byte map
 * ---------------------------------------------------------------------- */

/* True for the bytes that stand for themselves. */
static bool byte_is_printable(unsigned b)
{
    return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

/* The 68 others, in increasing order, are 0x00-0x20 (33 bytes), 0x7F-0xA0
 * (34) and 0xAD (1): they get U+0100 + their place in that order. */
uint32_t bpe_byte_char(unsigned char b)
{
    if (byte_is_printable(b))
        return b;
    if (b <= 0x20)
        return 256u + b;
    if (b >= 0x7f && b <= 0xa0)
        return 256u + 33u + (b - 0x7fu);
    return 256u + 67u; /* 0xAD, the soft hyphen */
}

int bpe_char_byte(uint32_t cp)
{
    if (cp < 256)
        return byte_is_printable(cp) ? (int)cp : -1;
    if (cp >= 256 + 68)
        return -1;
    uint32_t n = cp - 256;
    if (n <= 32)
        return (int)n;
    if (n <= 66)
        return (int)(0x7f + n - 33);
    return 0xad;
}

/* ------------------------------------------------------------------------
 * Invalid UTF-8
 * ---------------------------------------------------------------------- */

size_t bpe_clean_utf8(const char *text, size_t len, char *out, size_t *replaced)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t i = 0, o = 0, fixes = 0;
    while (i < len) {
        unsigned b = t[i];
        if (b < 0x80) {
            out[o++] = (char)b;
            i++;
            continue;
        }
        /* the continuation bytes the lead byte needs, and the range the
         * first of them must be in (WHATWG's UTF-8 decoder) */
        size_t need = 0;
        unsigned lo = 0x80, hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf)
            need = 1;
        else if (b == 0xe0)
            need = 2, lo = 0xa0;
        else if (b == 0xed)
            need = 2, hi = 0x9f;
        else if (b >= 0xe1 && b <= 0xef)
            need = 2;
        else if (b == 0xf0)
            need = 3, lo = 0x90;
        else if (b == 0xf4)
            need = 3, hi = 0x8f;
        else if (b >= 0xf1 && b <= 0xf3)
            need = 3;
        size_t k = 1;
        if (need > 0) {
            while (k <= need && i + k < len && t[i + k] >= lo && t[i + k] <= hi) {
                lo = 0x80;
                hi = 0xbf;
                k++;
            }
        }
        if (need > 0 && k == need + 1) {
            memcpy(out + o, t + i, need + 1);
            o += need + 1;
        } else {
            /* the lead byte and the continuation bytes that fitted become
             * one U+FFFD; the byte that broke the sequence is read again */
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            fixes++;
        }
        i += k;
    }
    out[o] = '\0';
    if (replaced != NULL)
        *replaced = fixes;
    return o;
}

/* ------------------------------------------------------------------------
 * The pre-split
 * ---------------------------------------------------------------------- */

/* The code point of the valid UTF-8 sequence at s (within len bytes), its
 * length in *n. A sequence cut by len counts as U+FFFD of the bytes left. */
static uint32_t cp_at(const unsigned char *s, size_t len, size_t *n)
{
    unsigned b = s[0];
    size_t want = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    if (want > len) {
        *n = len;
        return 0xfffd;
    }
    *n = want;
    switch (want) {
    case 1:
        return b;
    case 2:
        return ((b & 0x1fu) << 6) | (s[1] & 0x3fu);
    case 3:
        return ((b & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
    default:
        return ((b & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
    }
}

static UnicodeClass class_at(const unsigned char *t, size_t len, size_t i, size_t *n)
{
    uint32_t cp = cp_at(t + i, len - i, n);
    if (cp < 0x80) {
        /* ASCII without the table */
        if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d))
            return UNICODE_SPACE;
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            return UNICODE_LETTER;
        if (cp >= '0' && cp <= '9')
            return UNICODE_NUMBER;
        return UNICODE_OTHER;
    }
    return unicode_class(cp);
}

/* The end of the run of characters of class cls that starts at i. */
static size_t run_end(const unsigned char *t, size_t len, size_t i, UnicodeClass cls)
{
    while (i < len) {
        size_t n;
        if (class_at(t, len, i, &n) != cls)
            break;
        i += n;
    }
    return i;
}

/* The end of the word that starts at i (< len): the pattern's alternatives
 * tried in order, as a backtracking regex engine does. */
static size_t word_end(const unsigned char *t, size_t len, size_t i)
{
    /* 's 't 're 've 'm 'll 'd (lower case only, as the pattern is written) */
    if (t[i] == '\'' && i + 1 < len) {
        unsigned char c = t[i + 1];
        if (c == 's' || c == 't' || c == 'm' || c == 'd')
            return i + 2;
        if (i + 2 < len &&
            ((c == 'r' && t[i + 2] == 'e') || (c == 'v' && t[i + 2] == 'e') || (c == 'l' && t[i + 2] == 'l')))
            return i + 3;
    }
    /* ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional space, then a
     * run of one class (without the space, a space is no letter, number or
     * other, so only the run after it can match) */
    size_t j = t[i] == ' ' ? i + 1 : i;
    if (j < len) {
        size_t n;
        UnicodeClass cls = class_at(t, len, j, &n);
        if (cls != UNICODE_SPACE)
            return run_end(t, len, j, cls);
    }
    /* '\s+(?!\S)': the whitespace run, less its last character when a
     * non-space follows; then '\s+': the run of one character */
    size_t end = i, last = i;
    while (end < len) {
        size_t n;
        if (class_at(t, len, end, &n) != UNICODE_SPACE)
            break;
        last = end;
        end += n;
    }
    if (end < len && last > i)
        return last;
    return end;
}

size_t bpe_split(const char *text, size_t len, BpeSpan *spans, size_t max_spans)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t count = 0, i = 0;
    while (i < len) {
        size_t end = word_end(t, len, i);
        if (end <= i) /* impossible: every character is in some class */
            end = i + 1;
        if (count < max_spans) {
            spans[count].start = i;
            spans[count].len = end - i;
        }
        count++;
        i = end;
    }
    return count;
}

/* ------------------------------------------------------------------------
 * Lookups
 * ---------------------------------------------------------------------- */

static uint32_t text_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static size_t pair_hash(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key;
}

static uint64_t pair_of(int32_t left, int32_t right)
{
    return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
}

size_t bpe_vocab_size(const Bpe *bpe)
{
    return bpe->n_tokens;
}

size_t bpe_merge_count(const Bpe *bpe)
{
    return bpe->n_merges;
}

const char *bpe_token_text(const Bpe *bpe, int32_t id, size_t *len)
{
    if (id < 0 || (size_t)id >= bpe->n_tokens)
        return NULL;
    if (len != NULL)
        *len = bpe->tokens[id].text_len;
    return bpe->text_pool + bpe->tokens[id].text_off;
}

const char *bpe_token_bytes(const Bpe *bpe, int32_t id, size_t *len)
{
    if (id < 0 || (size_t)id >= bpe->n_tokens)
        return NULL;
    if (len != NULL)
        *len = bpe->tokens[id].bytes_len;
    return bpe->bytes_pool + bpe->tokens[id].bytes_off;
}

int32_t bpe_token_id(const Bpe *bpe, const char *text, size_t len)
{
    size_t s = text_hash(text, len) & bpe->token_mask;
    while (bpe->token_index[s] != 0) {
        const Token *tok = &bpe->tokens[bpe->token_index[s] - 1];
        if (tok->text_len == len && memcmp(bpe->text_pool + tok->text_off, text, len) == 0)
            return (int32_t)(bpe->token_index[s] - 1);
        s = (s + 1) & bpe->token_mask;
    }
    return -1;
}

bool bpe_merge(const Bpe *bpe, size_t rank, int32_t *left, int32_t *right, int32_t *merged)
{
    if (rank >= bpe->n_merges)
        return false;
    *left = bpe->merge_left[rank];
    *right = bpe->merge_right[rank];
    *merged = bpe->merge_result[rank];
    return true;
}

int32_t bpe_pair_rank(const Bpe *bpe, int32_t left, int32_t right)
{
    if (bpe->n_merges == 0)
        return -1;
    uint64_t key = pair_of(left, right) + 1;
    size_t s = pair_hash(key) & bpe->pair_mask;
    while (bpe->pair_key[s] != 0) {
        if (bpe->pair_key[s] == key)
            return bpe->pair_rank[s];
        s = (s + 1) & bpe->pair_mask;
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------- */

void bpe_free(Bpe *bpe)
{
    if (bpe == NULL)
        return;
    free(bpe->tokens);
    free(bpe->text_pool);
    free(bpe->bytes_pool);
    free(bpe->token_index);
    free(bpe->merge_left);
    free(bpe->merge_right);
    free(bpe->merge_result);
    free(bpe->pair_key);
    free(bpe->pair_rank);
    free(bpe);
}

/* Slots for a hash index of count entries: a power of two, at least twice
 * count. */
static size_t slots_for(size_t count)
{
    size_t slots = 16;
    while (slots < 2 * count)
        slots *= 2;
    return slots;
}

/* A short printable form of s[0..len) for messages: at most 40 bytes, cut
 * at a character boundary, with "..." when cut. buf needs 48 bytes. */
static const char *shorten(const char *s, size_t len, char *buf)
{
    size_t n = len < 40 ? len : 40;
    while (n > 0 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    memcpy(buf, s, n);
    strcpy(buf + n, n < len ? "..." : "");
    return buf;
}

/* Sizes and allocates bpe's token arrays, pools and index for root's n
 * members, and *by_id (n NULLs; the caller frees it). On failure records an
 * out-of-memory error and frees *by_id; bpe_free frees the rest. */
static bool vocab_alloc(Bpe *bpe, const JsonValue *root, const JsonMember ***by_id, Error *err)
{
    size_t n = root->count;
    size_t text_bytes = 0;
    for (size_t k = 0; k < n; k++)
        text_bytes += root->u.members[k].key_len + 1;
    bpe->n_tokens = n;
    bpe->tokens = calloc(n, sizeof *bpe->tokens);
    bpe->text_pool = malloc(text_bytes);
    bpe->bytes_pool = malloc(text_bytes); /* a token's bytes are never more than its characters' */
    size_t slots = slots_for(n);
    bpe->token_index = calloc(slots, sizeof *bpe->token_index);
    bpe->token_mask = slots - 1;
    *by_id = calloc(n, sizeof **by_id);
    if (bpe->tokens == NULL || bpe->text_pool == NULL || bpe->bytes_pool == NULL || bpe->token_index == NULL ||
        *by_id == NULL) {
        free(*by_id);
        *by_id = NULL;
        return error_oom(err, "the vocabulary");
    }
    return true;
}

/* Pass 1 of a token: reads member m's id into *id, an integer in 0..n-1
 * that no earlier member has, and records m in by_id[*id]. False (error
 * recorded at the id) otherwise. */
static bool vocab_take_id(const JsonDoc *doc, const JsonMember *m, size_t n, const JsonMember **by_id, int64_t *id,
                          Error *err)
{
    char shown[48];
    if (!json_int64(doc, &m->value, NULL, id, NULL)) {
        /* again, to say which token (the message is made only now: 50,000 would cost) */
        char what[80];
        snprintf(what, sizeof what, "the id of token \"%s\"", shorten(m->key, m->key_len, shown));
        (void)json_int64(doc, &m->value, what, id, err);
        return false;
    }
    if (*id < 0 || (uint64_t)*id >= n)
        return json_error_at(doc, m->value.offset, err,
                             "token \"%s\" has id %lld, out of range: %zu tokens need the ids 0 to %zu",
                             shorten(m->key, m->key_len, shown), (long long)*id, n, n - 1);
    if (by_id[*id] != NULL) {
        const JsonMember *first = by_id[*id];
        char other[48];
        return json_error_at(doc, m->value.offset, err, "id %lld is given twice: to \"%s\" and before to \"%s\"",
                             (long long)*id, shorten(m->key, m->key_len, shown),
                             shorten(first->key, first->key_len, other));
    }
    by_id[*id] = m;
    return true;
}

/* Pass 2 of a token: copies member m's text to bpe's text pool at
 * *text_at and its bytes (one per byte-level character) to the bytes pool
 * at *bytes_at, filling tok and moving both offsets on. False (error
 * recorded at the key) for an empty token or a character that is not
 * byte-level. */
static bool vocab_store_text(Bpe *bpe, const JsonDoc *doc, const JsonMember *m, Token *tok, size_t *text_at,
                             size_t *bytes_at, Error *err)
{
    char shown[48];
    if (m->key_len == 0)
        return json_error_at(doc, m->key_offset, err, "an empty token");
    tok->text_off = (uint32_t)*text_at;
    tok->text_len = (uint32_t)m->key_len;
    tok->bytes_off = (uint32_t)*bytes_at;
    memcpy(bpe->text_pool + *text_at, m->key, m->key_len + 1);
    *text_at += m->key_len + 1;
    size_t i = 0;
    while (i < m->key_len) {
        uint32_t cp;
        int len = utf8_decode(m->key + i, &cp);
        int b = len > 0 ? bpe_char_byte(cp) : -1;
        if (b < 0)
            return json_error_at(doc, m->key_offset, err,
                                 "token \"%s\" holds U+%04X, which is not a byte-level character (U+0021-U+007E, "
                                 "U+00A1-U+00AC, U+00AE-U+00FF, U+0100-U+0143)",
                                 shorten(m->key, m->key_len, shown), (unsigned)cp);
        bpe->bytes_pool[(*bytes_at)++] = (char)b;
        i += (size_t)len;
    }
    tok->bytes_len = (uint32_t)(*bytes_at - tok->bytes_off);
    bpe->bytes_pool[(*bytes_at)++] = '\0';
    return true;
}

/* Pass 3 of a token: puts id into bpe's text index under key[0..key_len)
 * (the JSON reader refused duplicate keys, so the key is new). */
static void vocab_index(Bpe *bpe, const char *key, size_t key_len, int64_t id)
{
    size_t s = text_hash(key, key_len) & bpe->token_mask;
    while (bpe->token_index[s] != 0)
        s = (s + 1) & bpe->token_mask;
    bpe->token_index[s] = (uint32_t)id + 1;
}

/* Pass 4: sets bpe->byte_id[b] for each of the 256 bytes to the token of
 * its byte-level character. False (error recorded at root) when one is
 * missing. */
static bool vocab_byte_ids(Bpe *bpe, const JsonDoc *doc, const JsonValue *root, Error *err)
{
    for (unsigned b = 0; b < 256; b++) {
        char c[5];
        uint32_t cp = bpe_byte_char((unsigned char)b);
        int len = utf8_encode(cp, c);
        bpe->byte_id[b] = bpe_token_id(bpe, c, (size_t)len);
        if (bpe->byte_id[b] < 0)
            return json_error_at(doc, root->offset, err,
                                 "no token for byte 0x%02x (its byte-level character U+%04X \"%s\"): every byte needs "
                                 "one",
                                 b, (unsigned)cp, c);
    }
    return true;
}

/* Reads vocab.json's tree into bpe: the tokens, their pools and index,
 * and each byte's id. False with err set on the first problem; what bpe
 * holds then is freed by bpe_free. */
static bool load_vocab(Bpe *bpe, const JsonDoc *doc, Error *err)
{
    const JsonValue *root = json_root(doc);
    if (!json_expect(doc, root, JSON_OBJECT, "the vocabulary (token strings to ids)", err))
        return false;
    size_t n = root->count;
    if (n == 0)
        return json_error_at(doc, root->offset, err, "the vocabulary has no tokens");
    if (n > LIMIT_MAX_VOCAB)
        return json_error_at(doc, root->offset, err, "%zu tokens are more than %d (LIMIT_MAX_VOCAB)", n,
                             LIMIT_MAX_VOCAB);
    const JsonMember **by_id;
    if (!vocab_alloc(bpe, root, &by_id, err))
        return false;
    size_t text_at = 0, bytes_at = 0;
    bool ok = true;
    for (size_t k = 0; k < n && ok; k++) {
        const JsonMember *m = &root->u.members[k];
        int64_t id;
        ok = vocab_take_id(doc, m, n, by_id, &id, err) &&
             vocab_store_text(bpe, doc, m, &bpe->tokens[id], &text_at, &bytes_at, err);
        if (ok)
            vocab_index(bpe, m->key, m->key_len, id);
    }
    free(by_id);
    if (!ok)
        return false;
    return vocab_byte_ids(bpe, doc, root, err);
}

/* Records a STATUS_DATAERR error at byte at of merges.txt. */
static bool merges_error(Error *err, const char *text, const char *name, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static bool merges_error(Error *err, const char *text, const char *name, size_t at, const char *fmt, ...)
{
    if (err == NULL)
        return false;
    char message[ERROR_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    error_set_at(err, STATUS_DATAERR, at, "%s", message);
    error_locate(err, text, name, true);
    return false;
}

/* Pass 1 of merges.txt: refuses a NUL byte anywhere and a first line that
 * is not "#version: ...". On success *pos is the offset of the second
 * line (len when there is none). */
static bool merges_version(const char *text, size_t len, const char *name, size_t *pos, Error *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL)
        return merges_error(err, text, name, (size_t)(nul - text), "a NUL byte");
    static const char VERSION[] = "#version:";
    if (len < sizeof VERSION - 1 || memcmp(text, VERSION, sizeof VERSION - 1) != 0)
        return merges_error(err, text, name, 0, "the first line must be \"#version: ...\" (is this a merges.txt?)");
    const char *eol = memchr(text, '\n', len);
    *pos = eol != NULL ? (size_t)(eol - text) + 1 : len;
    return true;
}

/* Pass 2 of merges.txt: counts the lines from pos on and allocates bpe's
 * merge arrays and pair index for them, and *line_of (the caller frees
 * it). On failure records the error; bpe_free frees what bpe holds. */
static bool merges_alloc(Bpe *bpe, const char *text, size_t len, const char *name, size_t pos, size_t **line_of,
                         Error *err)
{
    size_t lines = 0;
    for (size_t i = pos; i < len; i++)
        if (text[i] == '\n')
            lines++;
    if (len > pos && text[len - 1] != '\n')
        lines++;
    if (lines > LIMIT_MAX_VOCAB)
        return merges_error(err, text, name, pos, "%zu merges are more than %d (LIMIT_MAX_VOCAB)", lines,
                            LIMIT_MAX_VOCAB);
    size_t cap = lines > 0 ? lines : 1;
    bpe->merge_left = malloc(cap * sizeof(int32_t));
    bpe->merge_right = malloc(cap * sizeof(int32_t));
    bpe->merge_result = malloc(cap * sizeof(int32_t));
    size_t slots = slots_for(cap);
    bpe->pair_key = calloc(slots, sizeof *bpe->pair_key);
    bpe->pair_rank = malloc(slots * sizeof *bpe->pair_rank);
    bpe->pair_mask = slots - 1;
    *line_of = malloc(cap * sizeof **line_of);
    if (bpe->merge_left == NULL || bpe->merge_right == NULL || bpe->merge_result == NULL || bpe->pair_key == NULL ||
        bpe->pair_rank == NULL || *line_of == NULL) {
        free(*line_of);
        *line_of = NULL;
        return error_oom(err, "the merge table");
    }
    return true;
}

/* One line of merges.txt as pass 3 reads it. */
typedef struct MergeLine {
    const char *text; /* the whole file, for error positions */
    const char *name; /* the file's name, for messages */
    const char *line; /* text + pos */
    size_t pos;       /* offset of the line's first byte in text */
    size_t n;         /* the line's length, without its '\n' */
    size_t left_len;  /* bytes before the one space (set by merge_line_split) */
    size_t right_len; /* bytes after it (set by merge_line_split) */
} MergeLine;

/* Pass 3a: checks that ml's line is "LEFT RIGHT" (two non-empty tokens,
 * one space, no tab or carriage return) and sets left_len and right_len.
 * False with the error recorded otherwise. */
static bool merge_line_split(MergeLine *ml, Error *err)
{
    char shown[48];
    const char *text = ml->text, *line = ml->line;
    size_t pos = ml->pos, n = ml->n;
    const char *cr = memchr(line, '\r', n);
    const char *tab = memchr(line, '\t', n);
    const char *space = memchr(line, ' ', n);
    if (n == 0)
        return merges_error(err, text, ml->name, pos,
                            "an empty line (each line after the first is one merge, \"LEFT RIGHT\")");
    if (cr != NULL)
        return merges_error(err, text, ml->name, (size_t)(cr - text),
                            "a carriage return (the file must have Unix line ends)");
    if (tab != NULL)
        return merges_error(err, text, ml->name, (size_t)(tab - text), "a tab (a merge is two tokens and one space)");
    if (space == NULL)
        return merges_error(err, text, ml->name, pos, "\"%s\" is not a merge: expected two tokens and one space",
                            shorten(line, n, shown));
    size_t left_len = (size_t)(space - line), right_len = n - left_len - 1;
    const char *extra = memchr(space + 1, ' ', right_len);
    if (left_len == 0 || right_len == 0 || extra != NULL) {
        size_t at = left_len == 0 ? pos : extra != NULL ? (size_t)(extra - text) : pos + n;
        return merges_error(err, text, ml->name, at, "\"%s\" is not a merge: expected two tokens and one space",
                            shorten(line, n, shown));
    }
    ml->left_len = left_len;
    ml->right_len = right_len;
    return true;
}

/* Pass 3b: looks up ml's two tokens and the token they make together
 * (built in *joined, a buffer of *joined_cap bytes that grows as needed;
 * the caller frees it) and stores their ids in ids[0..2] (left, right,
 * merged). False with the error recorded when one is not in the
 * vocabulary or memory runs out. */
static bool merge_line_ids(const Bpe *bpe, const MergeLine *ml, char **joined, size_t *joined_cap, int32_t ids[3],
                           Error *err)
{
    char shown[48];
    const char *line = ml->line, *right_at = ml->line + ml->left_len + 1;
    size_t left_len = ml->left_len, right_len = ml->right_len;
    int32_t left = bpe_token_id(bpe, line, left_len);
    int32_t right = bpe_token_id(bpe, right_at, right_len);
    if (left < 0 || right < 0) {
        size_t at = left < 0 ? ml->pos : ml->pos + left_len + 1;
        const char *tok = left < 0 ? line : right_at;
        size_t tok_len = left < 0 ? left_len : right_len;
        return merges_error(err, ml->text, ml->name, at, "unknown token \"%s\" (not in the vocabulary)",
                            shorten(tok, tok_len, shown));
    }
    if (left_len + right_len > *joined_cap) {
        *joined_cap = 2 * (left_len + right_len);
        char *bigger = realloc(*joined, *joined_cap);
        if (bigger == NULL)
            return error_oom(err, "the merge table");
        *joined = bigger;
    }
    memcpy(*joined, line, left_len);
    memcpy(*joined + left_len, right_at, right_len);
    int32_t merged = bpe_token_id(bpe, *joined, left_len + right_len);
    if (merged < 0)
        return merges_error(err, ml->text, ml->name, ml->pos, "the merge makes \"%s\", which is not in the vocabulary",
                            shorten(*joined, left_len + right_len, shown));
    ids[0] = left;
    ids[1] = right;
    ids[2] = merged;
    return true;
}

/* Pass 3c: appends the merge ids (left, right, merged) of ml's line,
 * number line_no, to bpe's table and pair index, noting the line in
 * line_of. False with the error recorded when the pair came before. */
static bool merge_add(Bpe *bpe, const MergeLine *ml, const int32_t ids[3], size_t *line_of, size_t line_no, Error *err)
{
    char shown[48], shown2[48];
    size_t rank = bpe->n_merges;
    uint64_t key = pair_of(ids[0], ids[1]) + 1;
    size_t s = pair_hash(key) & bpe->pair_mask;
    while (bpe->pair_key[s] != 0 && bpe->pair_key[s] != key)
        s = (s + 1) & bpe->pair_mask;
    if (bpe->pair_key[s] == key)
        return merges_error(err, ml->text, ml->name, ml->pos, "the merge \"%s %s\" comes twice (first on line %zu)",
                            shorten(ml->line, ml->left_len, shown),
                            shorten(ml->line + ml->left_len + 1, ml->right_len, shown2), line_of[bpe->pair_rank[s]]);
    bpe->pair_key[s] = key;
    bpe->pair_rank[s] = (int32_t)rank;
    bpe->merge_left[rank] = ids[0];
    bpe->merge_right[rank] = ids[1];
    bpe->merge_result[rank] = ids[2];
    line_of[rank] = line_no;
    bpe->n_merges++;
    return true;
}

/* Reads merges.txt, text[0..len), named name in messages, into bpe's merge
 * table: a version line, then one merge "LEFT RIGHT" a line, ranked in
 * file order. False with err set on the first problem; what bpe holds
 * then is freed by bpe_free. */
static bool load_merges(Bpe *bpe, const char *text, size_t len, const char *name, Error *err)
{
    size_t pos = 0;
    size_t *line_of = NULL;
    if (!merges_version(text, len, name, &pos, err) || !merges_alloc(bpe, text, len, name, pos, &line_of, err))
        return false;
    char *joined = NULL;
    size_t joined_cap = 0;
    bool ok = true;
    size_t line_no = 1;
    while (pos < len && ok) {
        line_no++;
        const char *end = memchr(text + pos, '\n', len - pos);
        MergeLine ml = {.text = text, .name = name, .line = text + pos, .pos = pos};
        ml.n = end != NULL ? (size_t)(end - ml.line) : len - pos;
        int32_t ids[3] = {0, 0, 0};
        ok = merge_line_split(&ml, err) && merge_line_ids(bpe, &ml, &joined, &joined_cap, ids, err) &&
             merge_add(bpe, &ml, ids, line_of, line_no, err);
        pos += ml.n + (end != NULL ? 1 : 0);
    }
    free(joined);
    free(line_of);
    return ok;
}

Bpe *bpe_parse(const char *vocab, size_t vocab_len, const char *vocab_name, const char *merges, size_t merges_len,
               const char *merges_name, Error *err)
{
    JsonDoc *doc = json_parse(vocab, vocab_len, vocab_name, err);
    if (doc == NULL)
        return NULL;
    Bpe *bpe = calloc(1, sizeof *bpe);
    if (bpe == NULL) {
        json_free(doc);
        error_oom(err, "the tokenizer");
        return NULL;
    }
    bool ok = load_vocab(bpe, doc, err);
    json_free(doc);
    if (ok && merges_len > LIMIT_JSON_MAX_BYTES)
        ok = error_set(err, STATUS_DATAERR, "%s: %zu bytes are more than %d (LIMIT_JSON_MAX_BYTES)", merges_name,
                       merges_len, LIMIT_JSON_MAX_BYTES);
    if (ok)
        ok = load_merges(bpe, merges, merges_len, merges_name, err);
    if (!ok) {
        bpe_free(bpe);
        return NULL;
    }
    return bpe;
}

Bpe *bpe_load(const char *vocab_path, const char *merges_path, Error *err)
{
    size_t vocab_len, merges_len;
    char *vocab = json_read_bytes(vocab_path, &vocab_len, err);
    if (vocab == NULL)
        return NULL;
    char *merges = json_read_bytes(merges_path, &merges_len, err);
    if (merges == NULL) {
        free(vocab);
        return NULL;
    }
    Bpe *bpe = bpe_parse(vocab, vocab_len, vocab_path, merges, merges_len, merges_path, err);
    free(vocab);
    free(merges);
    return bpe;
}

/* ------------------------------------------------------------------------
 * The merge loop
 * ---------------------------------------------------------------------- */

#define NONE UINT32_MAX

/* The working memory of the merge loop, for words of up to cap bytes. */
typedef struct Work {
    size_t cap;
    int32_t *id;           /* the piece starting at each byte, -1 when merged into the one before */
    uint32_t *next, *prev; /* the list of pieces */
    uint64_t *heap;        /* (rank << 32 | position) of adjacent pairs */
    size_t heap_n, heap_cap;
    uint32_t *batch; /* the positions of one pass */
} Work;

static void work_free(Work *w)
{
    free(w->id);
    free(w->next);
    free(w->prev);
    free(w->heap);
    free(w->batch);
    memset(w, 0, sizeof *w);
}

/* Makes room for a word of n bytes. */
static bool work_reserve(Work *w, size_t n, Error *err)
{
    if (n <= w->cap)
        return true;
    work_free(w);
    w->cap = n;
    w->heap_cap = 3 * n + 1; /* n - 1 pairs at first, at most two more a merge */
    w->id = malloc(n * sizeof *w->id);
    w->next = malloc(n * sizeof *w->next);
    w->prev = malloc(n * sizeof *w->prev);
    w->heap = malloc(w->heap_cap * sizeof *w->heap);
    w->batch = malloc(n * sizeof *w->batch);
    if (w->id == NULL || w->next == NULL || w->prev == NULL || w->heap == NULL || w->batch == NULL) {
        work_free(w);
        return error_oom(err, "the merge loop");
    }
    return true;
}

static void heap_push(Work *w, uint64_t key)
{
    if (w->heap_n == w->heap_cap) {
        /* impossible: a word of n bytes pushes at most n - 1 + 2 (n - 1) pairs */
        fprintf(stderr, "%s:%d: the merge heap is full (a bug)\n", __FILE__, __LINE__);
        abort();
    }
    size_t i = w->heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (w->heap[parent] <= key)
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = key;
}

static uint64_t heap_pop(Work *w)
{
    uint64_t top = w->heap[0];
    uint64_t last = w->heap[--w->heap_n];
    size_t i = 0, n = w->heap_n;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && w->heap[child + 1] < w->heap[child])
            child++;
        if (w->heap[child] >= last)
            break;
        w->heap[i] = w->heap[child];
        i = child;
    }
    if (n > 0)
        w->heap[i] = last;
    return top;
}

/* Pushes the pair starting at position p, when there is one with a rank. */
static void push_pair(const Bpe *bpe, Work *w, uint32_t p)
{
    if (p == NONE || w->next[p] == NONE)
        return;
    int32_t rank = bpe_pair_rank(bpe, w->id[p], w->id[w->next[p]]);
    if (rank >= 0)
        heap_push(w, ((uint64_t)rank << 32) | p);
}

/* Where a replay keeps what each pass did (NULL when encoding). */
typedef struct Recorder {
    BpeReplay *r;
    size_t steps_cap, pieces_cap;
    bool failed;
} Recorder;

/* Appends the current pieces of w (from position 0) as a new state. */
static void record_state(Recorder *rec, const Work *w)
{
    BpeReplay *r = rec->r;
    size_t count = 0;
    for (uint32_t p = 0; p != NONE; p = w->next[p])
        count++;
    size_t start = r->state_start[r->n_steps];
    if (start + count > rec->pieces_cap) {
        rec->failed = true; /* cannot happen: the room was worked out for the worst case */
        return;
    }
    for (uint32_t p = 0; p != NONE; p = w->next[p])
        r->pieces[start++] = w->id[p];
    r->state_start[r->n_steps + 1] = start;
}

/* Runs the merge loop on bytes[0..n) (n >= 1) and writes the resulting ids
 * to out (room for n); returns how many. With rec, records every pass. */
static size_t merge_word(const Bpe *bpe, Work *w, const unsigned char *bytes, size_t n, int32_t *out, Recorder *rec)
{
    /* 1. one piece a byte, every ranked pair in the heap */
    w->heap_n = 0;
    for (size_t i = 0; i < n; i++) {
        w->id[i] = bpe->byte_id[bytes[i]];
        w->prev[i] = i == 0 ? NONE : (uint32_t)(i - 1);
        w->next[i] = i + 1 == n ? NONE : (uint32_t)(i + 1);
    }
    for (size_t i = 0; i + 1 < n; i++)
        push_pair(bpe, w, (uint32_t)i);
    if (rec != NULL)
        record_state(rec, w);

    /* 2. the passes: all entries of the lowest rank, left to right */
    while (w->heap_n > 0) {
        uint64_t rank = w->heap[0] >> 32;
        size_t batch_n = 0;
        while (w->heap_n > 0 && (w->heap[0] >> 32) == rank)
            w->batch[batch_n++] = (uint32_t)(heap_pop(w) & 0xffffffffu);
        int32_t left = bpe->merge_left[rank], right = bpe->merge_right[rank], merged = bpe->merge_result[rank];
        size_t count = 0;
        for (size_t k = 0; k < batch_n; k++) {
            uint32_t p = w->batch[k];
            uint32_t q = w->next[p];
            /* skip entries made stale by an earlier merge */
            if (w->id[p] != left || q == NONE || w->id[q] != right)
                continue;
            w->id[p] = merged;
            w->id[q] = -1;
            w->next[p] = w->next[q];
            if (w->next[q] != NONE)
                w->prev[w->next[q]] = p;
            count++;
            push_pair(bpe, w, w->prev[p]);
            push_pair(bpe, w, p);
        }
        if (count > 0 && rec != NULL) {
            BpeReplay *r = rec->r;
            if (r->n_steps == rec->steps_cap) {
                rec->failed = true;
                break;
            }
            BpeStep *st = &r->steps[r->n_steps];
            st->rank = (size_t)rank;
            st->left = left;
            st->right = right;
            st->merged = merged;
            st->count = count;
            r->n_steps++;
            record_state(rec, w);
        }
    }

    /* 3. the pieces left */
    size_t n_out = 0;
    for (uint32_t p = 0; p != NONE; p = w->next[p])
        out[n_out++] = w->id[p];
    return n_out;
}

/* ------------------------------------------------------------------------
 * Encoding and replaying
 * ---------------------------------------------------------------------- */

void bpe_encoding_free(BpeEncoding *enc)
{
    if (enc == NULL)
        return;
    free(enc->text);
    free(enc->words);
    free(enc->ids);
    free(enc);
}

BpeEncoding *bpe_encode(const Bpe *bpe, const char *text, size_t len, Error *err)
{
    if (len > LIMIT_MAX_SENTENCE_BYTES) {
        error_set(err, STATUS_DATAERR, "a text of %zu bytes is longer than %d bytes (LIMIT_MAX_SENTENCE_BYTES)", len,
                  LIMIT_MAX_SENTENCE_BYTES);
        return NULL;
    }
    BpeEncoding *enc = calloc(1, sizeof *enc);
    if (enc == NULL) {
        error_oom(err, "an encoding");
        return NULL;
    }
    Work w = {0};
    BpeSpan *spans = NULL;
    /* 1. the text, made valid UTF-8 */
    enc->text = malloc(3 * len + 1);
    if (enc->text == NULL)
        goto oom;
    enc->text_len = bpe_clean_utf8(text, len, enc->text, &enc->replaced);
    /* 2. the words */
    size_t n_words = bpe_split(enc->text, enc->text_len, NULL, 0);
    spans = malloc((n_words > 0 ? n_words : 1) * sizeof *spans);
    enc->words = malloc((n_words > 0 ? n_words : 1) * sizeof *enc->words);
    enc->ids = malloc((enc->text_len > 0 ? enc->text_len : 1) * sizeof *enc->ids);
    if (spans == NULL || enc->words == NULL || enc->ids == NULL)
        goto oom;
    bpe_split(enc->text, enc->text_len, spans, n_words);
    size_t longest = 1;
    for (size_t k = 0; k < n_words; k++)
        if (spans[k].len > longest)
            longest = spans[k].len;
    if (!work_reserve(&w, longest, err))
        goto fail;
    /* 3. each word's merges */
    for (size_t k = 0; k < n_words; k++) {
        BpeWord *word = &enc->words[k];
        word->start = spans[k].start;
        word->len = spans[k].len;
        word->first_token = enc->n_tokens;
        word->n_tokens = merge_word(bpe, &w, (const unsigned char *)enc->text + word->start, word->len,
                                    enc->ids + enc->n_tokens, NULL);
        enc->n_tokens += word->n_tokens;
    }
    enc->n_words = n_words;
    free(spans);
    work_free(&w);
    return enc;
oom:
    error_oom(err, "an encoding");
fail:
    free(spans);
    work_free(&w);
    bpe_encoding_free(enc);
    return NULL;
}

void bpe_replay_free(BpeReplay *r)
{
    if (r == NULL)
        return;
    free(r->steps);
    free(r->pieces);
    free(r->state_start);
    free(r);
}

BpeReplay *bpe_replay(const Bpe *bpe, const char *word, size_t len, Error *err)
{
    if (len == 0 || len > LIMIT_BPE_REPLAY_BYTES) {
        error_set(err, STATUS_DATAERR, "a word of %zu bytes cannot be replayed (1 to %d bytes: LIMIT_BPE_REPLAY_BYTES)",
                  len, LIMIT_BPE_REPLAY_BYTES);
        return NULL;
    }
    BpeReplay *r = calloc(1, sizeof *r);
    Recorder rec = {r, len, len * (len + 1) / 2, false};
    Work w = {0};
    int32_t *out = malloc(len * sizeof *out);
    if (r != NULL) {
        r->steps = malloc(len * sizeof *r->steps); /* each pass removes a piece: at most len - 1 */
        r->pieces = malloc(rec.pieces_cap * sizeof *r->pieces);
        r->state_start = malloc((len + 2) * sizeof *r->state_start);
    }
    if (r == NULL || out == NULL || r->steps == NULL || r->pieces == NULL || r->state_start == NULL) {
        free(out);
        bpe_replay_free(r);
        error_oom(err, "a replay of the merges");
        return NULL;
    }
    r->state_start[0] = 0;
    if (!work_reserve(&w, len, err)) {
        free(out);
        bpe_replay_free(r);
        return NULL;
    }
    merge_word(bpe, &w, (const unsigned char *)word, len, out, &rec);
    work_free(&w);
    free(out);
    if (rec.failed) {
        bpe_replay_free(r);
        error_set(err, STATUS_FAILURE, "the replay of a word ran out of room (a bug)");
        return NULL;
    }
    return r;
}

const int32_t *bpe_replay_state(const BpeReplay *r, size_t k, size_t *count)
{
    if (k > r->n_steps)
        return NULL;
    *count = r->state_start[k + 1] - r->state_start[k];
    return r->pieces + r->state_start[k];
}
