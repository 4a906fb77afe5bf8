/*
 * bpe.h - GPT-2's byte-level byte-pair encoding (BPE) tokenizer, with every
 * stage open to view so a trace can replay it.
 *
 * The stages, each a function here:
 *   1. the text's bytes, with every invalid UTF-8 sequence replaced by
 *      U+FFFD (bpe_clean_utf8; the rule is written there);
 *   2. the pre-split into words by GPT-2's pattern (bpe_split)
 *        's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *      with the character classes of JavaScript's regular expressions
 *      (unicode_tables.h), as in the reference encoder;
 *   3. each word's bytes as byte-level characters (bpe_byte_char: the 188
 *      printable bytes stand for themselves, the other 68 for U+0100 on, so
 *      a space is U+0120 'Ġ'), one vocabulary token each;
 *   4. the merges of merges.txt applied to each word, lowest rank first,
 *      every occurrence of the chosen pair left to right in one pass, until
 *      no adjacent pair has a rank (bpe_replay records each pass);
 *   5. the pieces' ids in vocab.json.
 *
 * bpe_encode runs them all. The files are hostile until checked: bpe_load
 * validates both and reports "FILE:LINE:COL: message" (STATUS_DATAERR), or
 * "FILE: cannot read: ..." (STATUS_NOINPUT).
 */
#ifndef ATTN_BPE_H
#define ATTN_BPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attn_limits.h"
#include "error.h"

/* A loaded vocabulary and merge table. Opaque; read-only once loaded, so
 * one Bpe may be used from several threads. */
typedef struct Bpe Bpe;

/* ------------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------- */

/* Reads and validates vocab.json and merges.txt (each at most
 * LIMIT_JSON_MAX_BYTES). Returns the tokenizer, freed with bpe_free, or
 * NULL with err set. vocab.json must be one JSON object of token strings to
 * integer ids; the ids must be 0 .. count-1, each once (so no duplicate and
 * none out of range), count at most LIMIT_MAX_VOCAB; every token must be
 * made of byte-level characters only, and each of the 256 byte-level
 * characters must be a token of its own. merges.txt must start with a line
 * "#version: ..." and then hold one merge a line, "LEFT RIGHT" with one
 * space (a final newline is optional, blank lines and CR are refused),
 * where LEFT, RIGHT and LEFT+RIGHT are all tokens and no pair comes twice;
 * the rank of a merge is its line number minus 2. */
Bpe *bpe_load(const char *vocab_path, const char *merges_path, Error *err);

/* As bpe_load, from texts in memory: vocab[0..vocab_len) and
 * merges[0..merges_len) (neither need be NUL-terminated), named vocab_name
 * and merges_name in messages. */
Bpe *bpe_parse(const char *vocab, size_t vocab_len, const char *vocab_name, const char *merges, size_t merges_len,
               const char *merges_name, Error *err);

/* Frees bpe; NULL is a no-op. */
void bpe_free(Bpe *bpe);

/* Tokens in the vocabulary (ids 0 .. count-1). */
size_t bpe_vocab_size(const Bpe *bpe);

/* Merges in the table (ranks 0 .. count-1). */
size_t bpe_merge_count(const Bpe *bpe);

/* The token id as written in vocab.json, in byte-level characters (UTF-8,
 * NUL-terminated, e.g. "Ġthe"), *len its bytes when len is not NULL; NULL
 * for an id out of range. Valid while bpe lives. */
const char *bpe_token_text(const Bpe *bpe, int32_t id, size_t *len);

/* The bytes token id stands for (" the" for "Ġthe"), NUL-terminated, *len
 * their count (a token may hold a NUL byte: use *len); NULL for an id out
 * of range. */
const char *bpe_token_bytes(const Bpe *bpe, int32_t id, size_t *len);

/* The id of the token written text[0..len) in byte-level characters, or -1. */
int32_t bpe_token_id(const Bpe *bpe, const char *text, size_t len);

/* The merge of rank rank: *left + *right = *merged (ids). False when rank
 * is out of range. */
bool bpe_merge(const Bpe *bpe, size_t rank, int32_t *left, int32_t *right, int32_t *merged);

/* The rank of the merge of the pair (left, right), or -1 when they do not
 * merge. */
int32_t bpe_pair_rank(const Bpe *bpe, int32_t left, int32_t right);

/* ------------------------------------------------------------------------
 * The stages
 * ---------------------------------------------------------------------- */

/* The byte-level character of byte b: b itself for '!'..'~', 0xA1..0xAC and
 * 0xAE..0xFF, else 256 + n for the n-th other byte in increasing order
 * (0x00 is U+0100, ' ' is U+0120 'Ġ', '\n' is U+010A 'Ċ', 0xAD is U+0143). */
uint32_t bpe_byte_char(unsigned char b);

/* The byte whose byte-level character is cp, or -1 when cp is none. */
int bpe_char_byte(uint32_t cp);

/* Writes text[0..len) to out with every invalid UTF-8 sequence replaced by
 * U+FFFD (EF BF BD), as Python's bytes.decode('utf-8', errors='replace')
 * and the WHATWG TextDecoder do: a maximal prefix of a valid sequence that
 * breaks off (a lead byte and the continuation bytes that fit it) becomes
 * one U+FFFD, and so does each byte that cannot start or continue any
 * sequence (0x80-0xC1, 0xF5-0xFF, a stray continuation byte). Overlong
 * forms, encoded surrogates and code points past U+10FFFF are invalid. out
 * needs room for 3 * len bytes (plus one for the NUL written after).
 * Returns the bytes written; *replaced (when not NULL) counts the U+FFFDs
 * put in. */
size_t bpe_clean_utf8(const char *text, size_t len, char *out, size_t *replaced);

/* One word of the pre-split: bytes [start, start + len) of the text. */
typedef struct BpeSpan {
    size_t start, len;
} BpeSpan;

/* Splits text[0..len), which must be valid UTF-8 (bpe_clean_utf8's
 * output), into words by GPT-2's pattern (see the top of this file). The
 * words cover the text exactly, in order, none empty. Writes the first
 * max_spans of them to spans (which may be NULL when max_spans is 0) and
 * returns how many there are in all. */
size_t bpe_split(const char *text, size_t len, BpeSpan *spans, size_t max_spans);

/* ------------------------------------------------------------------------
 * Encoding
 * ---------------------------------------------------------------------- */

/* A word of an encoding: where it is in the cleaned text, and its tokens. */
typedef struct BpeWord {
    size_t start, len;  /* bytes of BpeEncoding.text */
    size_t first_token; /* index into BpeEncoding.ids of its first token */
    size_t n_tokens;    /* tokens it became (at least 1) */
} BpeWord;

/* A text encoded, every stage kept. */
typedef struct BpeEncoding {
    char *text;      /* the input with invalid UTF-8 replaced (bpe_clean_utf8), NUL-terminated */
    size_t text_len; /* its bytes */
    size_t replaced; /* U+FFFDs put in for invalid sequences */
    BpeWord *words;  /* the pre-split */
    size_t n_words;
    int32_t *ids; /* the token ids, in order */
    size_t n_tokens;
} BpeEncoding;

/* Encodes text[0..len) (any bytes; at most LIMIT_MAX_SENTENCE_BYTES).
 * Returns the encoding, freed with bpe_encoding_free, or NULL with err set
 * (STATUS_DATAERR for a text too long, STATUS_FAILURE out of memory). The
 * empty text gives no words and no tokens. */
BpeEncoding *bpe_encode(const Bpe *bpe, const char *text, size_t len, Error *err);

/* Frees enc; NULL is a no-op. */
void bpe_encoding_free(BpeEncoding *enc);

/* ------------------------------------------------------------------------
 * Replaying one word's merges
 * ---------------------------------------------------------------------- */

/* One pass of the merge loop: the pair of lowest rank among the word's
 * adjacent pieces, merged wherever it occurs (left to right, so "a a a"
 * with the merge "a a" becomes "aa a"). */
typedef struct BpeStep {
    size_t rank;         /* the merge's rank (its line in merges.txt minus 2) */
    int32_t left, right; /* the pair's ids */
    int32_t merged;      /* the id of left + right */
    size_t count;        /* occurrences merged in this pass (at least 1) */
} BpeStep;

/* The merges of one word, pass by pass. State k (0 .. n_steps) is the list
 * of pieces before step k; state 0 has one piece a byte, state n_steps is
 * the result (the word's tokens). */
typedef struct BpeReplay {
    size_t n_steps;
    BpeStep *steps;      /* n_steps passes */
    int32_t *pieces;     /* every state's ids, one after the other */
    size_t *state_start; /* n_steps + 2 offsets into pieces: state k is [state_start[k], state_start[k+1]) */
} BpeReplay;

/* Replays the merges of one word: word[0..len) are its bytes (one word of
 * bpe_split, 1 to LIMIT_BPE_REPLAY_BYTES of them; the states take up to
 * len * (len + 1) / 2 ids). Returns the replay, freed with
 * bpe_replay_free, or NULL with err set (STATUS_DATAERR for an empty word
 * or one too long). Its final state equals what bpe_encode gives the word. */
BpeReplay *bpe_replay(const Bpe *bpe, const char *word, size_t len, Error *err);

/* The pieces of state k of r (0 .. r->n_steps), *count of them; NULL when
 * k is out of range. */
const int32_t *bpe_replay_state(const BpeReplay *r, size_t k, size_t *count);

/* Frees r; NULL is a no-op. */
void bpe_replay_free(BpeReplay *r);

#endif
