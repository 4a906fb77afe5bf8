/*
 * fuzz_bpe.h - what the tokenizer harnesses (fuzz_vocab.c, fuzz_merges.c)
 * share: building a vocab.json of the 256 byte tokens, and checking what
 * a loaded tokenizer does with a text.
 */
#ifndef ATTN_FUZZ_BPE_H
#define ATTN_FUZZ_BPE_H

#include <stdbool.h>
#include <string.h>

#include "bpe.h"
#include "fuzz.h"
#include "strbuf.h"
#include "utf8.h"

/* Appends s[0..len) as a JSON string (escaping '"', '\\' and controls). */
static inline void fuzz_bpe_json_string(StrBuf *out, const char *s, size_t len)
{
    strbuf_puts(out, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            strbuf_printf(out, "\\%c", c);
        else if (c < 0x20)
            strbuf_printf(out, "\\u%04x", c);
        else
            strbuf_append(out, (const char *)&s[i], 1);
    }
    strbuf_puts(out, "\"");
}

/* Appends the members of the 256 byte tokens, ids 0..255 in byte order,
 * without the braces. */
static inline void fuzz_bpe_byte_members(StrBuf *out)
{
    for (int b = 0; b < 256; b++) {
        char c[5];
        int len = utf8_encode(bpe_byte_char((unsigned char)b), c);
        if (b > 0)
            strbuf_puts(out, ", ");
        fuzz_bpe_json_string(out, c, (size_t)len);
        strbuf_printf(out, ": %d", b);
    }
}

/* Checks a refusal: the status, and a one-line message naming the file. */
static inline void fuzz_bpe_check_error(const Error *err, const char *name)
{
    FUZZ_CHECK(err->status == STATUS_DATAERR, "refused with status %d: %s", err->status, err->message);
    FUZZ_CHECK(strncmp(err->message, name, strlen(name)) == 0 && err->message[strlen(name)] == ':',
               "message does not start with '%s:': %s", name, err->message);
    for (const char *c = err->message; *c != '\0'; c++)
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in message '%s'", err->message);
}

/* Checks the tokenizer's tables and what it makes of text[0..len): the
 * words cover the cleaned text, the tokens of each word spell it, and the
 * replay of each short word ends in the same tokens, each pass merging the
 * lowest-ranked pair everywhere, left to right. */
static inline void fuzz_bpe_check(const Bpe *bpe, const char *text, size_t len)
{
    size_t n_tokens = bpe_vocab_size(bpe);
    FUZZ_CHECK(n_tokens >= 256, "%zu tokens", n_tokens);
    for (size_t id = 0; id < n_tokens; id++) {
        size_t tlen, blen;
        const char *t = bpe_token_text(bpe, (int32_t)id, &tlen);
        const char *b = bpe_token_bytes(bpe, (int32_t)id, &blen);
        FUZZ_CHECK(t != NULL && b != NULL && blen >= 1 && blen <= tlen, "token %zu", id);
        FUZZ_CHECK(bpe_token_id(bpe, t, tlen) == (int32_t)id, "token %zu not found by its text", id);
    }
    for (size_t r = 0; r < bpe_merge_count(bpe); r++) {
        int32_t l, rr, m;
        FUZZ_CHECK(bpe_merge(bpe, r, &l, &rr, &m), "merge %zu", r);
        FUZZ_CHECK(bpe_pair_rank(bpe, l, rr) == (int32_t)r, "merge %zu's pair has another rank", r);
        size_t ll, rl, ml;
        const char *lt = bpe_token_text(bpe, l, &ll), *rt = bpe_token_text(bpe, rr, &rl),
                   *mt = bpe_token_text(bpe, m, &ml);
        FUZZ_CHECK(ml == ll + rl && memcmp(mt, lt, ll) == 0 && memcmp(mt + ll, rt, rl) == 0, "merge %zu's text", r);
    }
    Error err;
    error_clear(&err);
    BpeEncoding *enc = bpe_encode(bpe, text, len, &err);
    FUZZ_CHECK(enc != NULL, "bpe_encode: %s", err.message);
    size_t at = 0, tok = 0;
    for (size_t w = 0; w < enc->n_words; w++) {
        const BpeWord *word = &enc->words[w];
        FUZZ_CHECK(word->start == at && word->len > 0 && word->first_token == tok && word->n_tokens >= 1,
                   "word %zu's place", w);
        size_t spelled = 0;
        for (size_t t = 0; t < word->n_tokens; t++) {
            size_t blen;
            const char *b = bpe_token_bytes(bpe, enc->ids[tok + t], &blen);
            FUZZ_CHECK(b != NULL && spelled + blen <= word->len &&
                           memcmp(b, enc->text + word->start + spelled, blen) == 0,
                       "word %zu's tokens do not spell it", w);
            spelled += blen;
        }
        FUZZ_CHECK(spelled == word->len, "word %zu's tokens are short", w);
        if (word->len <= 64 && w < 16) {
            BpeReplay *r = bpe_replay(bpe, enc->text + word->start, word->len, &err);
            FUZZ_CHECK(r != NULL, "bpe_replay: %s", err.message);
            for (size_t k = 0; k < r->n_steps; k++) {
                size_t n, n1;
                const int32_t *s = bpe_replay_state(r, k, &n);
                const int32_t *s1 = bpe_replay_state(r, k + 1, &n1);
                const BpeStep *st = &r->steps[k];
                int32_t best = -1;
                for (size_t i = 0; i + 1 < n; i++) {
                    int32_t rank = bpe_pair_rank(bpe, s[i], s[i + 1]);
                    if (rank >= 0 && (best < 0 || rank < best))
                        best = rank;
                }
                FUZZ_CHECK(best >= 0 && (size_t)best == st->rank, "step %zu: rank %zu, the lowest is %d", k, st->rank,
                           best);
                size_t j = 0, merged = 0;
                for (size_t i = 0; i < n;) {
                    bool hit = i + 1 < n && s[i] == st->left && s[i + 1] == st->right;
                    FUZZ_CHECK(j < n1 && s1[j] == (hit ? st->merged : s[i]), "step %zu: piece %zu", k, j);
                    j++;
                    merged += hit;
                    i += hit ? 2 : 1;
                }
                FUZZ_CHECK(j == n1 && merged == st->count, "step %zu: %zu pieces after, %zu merged", k, n1, merged);
            }
            size_t n;
            const int32_t *last = bpe_replay_state(r, r->n_steps, &n);
            FUZZ_CHECK(n == word->n_tokens && memcmp(last, enc->ids + tok, n * sizeof *last) == 0,
                       "word %zu: the replay ends elsewhere than the encoding", w);
            for (size_t i = 0; i + 1 < n; i++)
                FUZZ_CHECK(bpe_pair_rank(bpe, last[i], last[i + 1]) < 0, "word %zu: a merge left undone", w);
            bpe_replay_free(r);
        }
        at += word->len;
        tok += word->n_tokens;
    }
    FUZZ_CHECK(at == enc->text_len && tok == enc->n_tokens, "the words do not cover the text");
    bpe_encoding_free(enc);
}

#endif
