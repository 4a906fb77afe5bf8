/*
 * check_bpe.c - GPT-2's byte-level BPE tokenizer (bpe.c) and its Unicode
 * tables (unicode_tables.c).
 *
 * The whole of tests/fixtures/bpe/corpus.txt (over 3,000 strings, the ids of
 * the reference JavaScript encoder, written by tests/make_bpe_fixtures.sh)
 * is encoded with GPT-2's own vocab.json and merges.txt and every id
 * compared. The pieces are tested on their own against tables written here
 * by hand: the byte map (against GPT-2's definition, written differently),
 * the replacement of invalid UTF-8, the pre-split, the order of merges (on
 * small made-up merge tables, and pass by pass on GPT-2's), and every
 * malformed vocab.json and merges.txt with the exact message it gives.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpe.h"
#include "suites.h"
#include "unicode_tables.h"
#include "utf8.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Where the fixtures are: $ATTN_FIXTURE_DIR, else tests/fixtures. */
static const char *fixture_dir(void)
{
    const char *dir = getenv("ATTN_FIXTURE_DIR");
    return dir != NULL && *dir != '\0' ? dir : "tests/fixtures";
}

/* GPT-2's tokenizer from the fixtures, loaded once per process. */
static Bpe *gpt2(void)
{
    static Bpe *bpe;
    if (bpe == NULL) {
        char vocab[512], merges[512];
        snprintf(vocab, sizeof vocab, "%s/gpt2-tokenizer/vocab.json", fixture_dir());
        snprintf(merges, sizeof merges, "%s/gpt2-tokenizer/merges.txt", fixture_dir());
        Error err;
        error_clear(&err);
        bpe = bpe_load(vocab, merges, &err);
        ck_assert_msg(bpe != NULL, "loading GPT-2's tokenizer: %s", err.message);
    }
    return bpe;
}

/* ------------------------------------------------------------------------
 * The corpus against the reference encoder
 * ---------------------------------------------------------------------- */

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Replays every word of enc (up to LIMIT_BPE_REPLAY_BYTES bytes; the
 * longer are counted in *skipped) and checks that each replay's last
 * state is the word's ids in enc, which the caller has compared with the
 * reference encoder's. Returns the words replayed. */
static size_t replays_end_in_the_ids(const Bpe *bpe, const BpeEncoding *enc, const char *where, size_t *skipped)
{
    size_t replayed = 0;
    for (size_t w = 0; w < enc->n_words; w++) {
        const BpeWord *word = &enc->words[w];
        if (word->len > LIMIT_BPE_REPLAY_BYTES) {
            (*skipped)++;
            continue;
        }
        Error err;
        error_clear(&err);
        BpeReplay *r = bpe_replay(bpe, enc->text + word->start, word->len, &err);
        ck_assert_msg(r != NULL, "%s: word %zu: %s", where, w, err.message);
        size_t count;
        const int32_t *last = bpe_replay_state(r, r->n_steps, &count);
        ck_assert_msg(count == word->n_tokens && memcmp(last, enc->ids + word->first_token, count * sizeof *last) == 0,
                      "%s: the replay of word %zu ends in %zu pieces, not its %zu ids", where, w, count,
                      word->n_tokens);
        bpe_replay_free(r);
        replayed++;
    }
    return replayed;
}

START_TEST(test_corpus)
{
    Bpe *bpe = gpt2();
    char path[512];
    snprintf(path, sizeof path, "%s/bpe/corpus.txt", fixture_dir());
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    unsigned char *bytes = malloc(cap);
    ck_assert(line != NULL && bytes != NULL);
    size_t strings = 0, tokens = 0, replaced = 0, line_no = 0, declared = 0, replayed = 0, skipped = 0;
    while (fgets(line, (int)cap, f) != NULL) {
        line_no++;
        size_t len = strlen(line);
        ck_assert_msg(len > 0 && line[len - 1] == '\n', "%s:%zu: line too long or not ended", path, line_no);
        line[--len] = '\0';
        if (line[0] == '#') {
            sscanf(line, "# strings: %zu", &declared);
            continue;
        }
        /* HEX<TAB>IDS */
        char *tab = strchr(line, '\t');
        ck_assert_msg(tab != NULL, "%s:%zu: no tab", path, line_no);
        size_t n = 0;
        for (const char *h = line; h < tab; h += 2) {
            int hi = hex_digit(h[0]), lo = hex_digit(h[1]);
            ck_assert_msg(hi >= 0 && lo >= 0, "%s:%zu: bad hex", path, line_no);
            bytes[n++] = (unsigned char)(hi * 16 + lo);
        }
        Error err;
        error_clear(&err);
        BpeEncoding *enc = bpe_encode(bpe, (const char *)bytes, n, &err);
        ck_assert_msg(enc != NULL, "%s:%zu: %s", path, line_no, err.message);
        const char *p = tab + 1;
        size_t k = 0;
        while (*p != '\0') {
            char *end;
            long id = strtol(p, &end, 10);
            ck_assert_msg(end != p, "%s:%zu: bad id", path, line_no);
            ck_assert_msg(k < enc->n_tokens, "%s:%zu: %zu tokens, the reference has more", path, line_no,
                          enc->n_tokens);
            ck_assert_msg(enc->ids[k] == id, "%s:%zu: token %zu is %d, the reference has %ld (input %s)", path, line_no,
                          k, enc->ids[k], id, line);
            k++;
            p = *end == ' ' ? end + 1 : end;
        }
        ck_assert_msg(k == enc->n_tokens, "%s:%zu: %zu tokens, the reference has %zu (input %s)", path, line_no,
                      enc->n_tokens, k, line);
        char where[600];
        snprintf(where, sizeof where, "%s:%zu", path, line_no);
        replayed += replays_end_in_the_ids(bpe, enc, where, &skipped);
        tokens += k;
        replaced += enc->replaced;
        strings++;
        bpe_encoding_free(enc);
    }
    fclose(f);
    free(line);
    free(bytes);
    ck_assert_msg(strings >= 2000, "only %zu strings in %s", strings, path);
    ck_assert_msg(strings == declared, "%zu strings read, the header says %zu", strings, declared);
    ck_assert_msg(replaced > 100, "the corpus should exercise invalid UTF-8 (%zu replacements)", replaced);
    ck_assert(tokens > 10000);
    ck_assert_msg(replayed > 10000 && skipped < 10, "%zu words replayed, %zu too long to replay", replayed, skipped);
    printf(
        "bpe corpus: %zu strings, %zu tokens; %zu words replayed merge by merge to the same ids (%zu longer than "
        "%d bytes not replayed)\n",
        strings, tokens, replayed, skipped, LIMIT_BPE_REPLAY_BYTES);
}
END_TEST

/* The encoding's parts agree: words cover the cleaned text in order, their
 * tokens cover the ids, and each word's token bytes spell the word. */
START_TEST(test_encoding_structure)
{
    Bpe *bpe = gpt2();
    const char *text = "Hello, world! It's 2026\xff\n\n  \xe2\x82 caf\xc3\xa9 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd   ";
    Error err;
    BpeEncoding *enc = bpe_encode(bpe, text, strlen(text), &err);
    ck_assert_ptr_nonnull(enc);
    ck_assert_uint_eq(enc->replaced, 2);
    size_t at = 0, tok = 0;
    for (size_t w = 0; w < enc->n_words; w++) {
        const BpeWord *word = &enc->words[w];
        ck_assert_uint_eq(word->start, at);
        ck_assert_uint_eq(word->first_token, tok);
        ck_assert_uint_ge(word->n_tokens, 1);
        char spelled[256];
        size_t n = 0;
        for (size_t t = 0; t < word->n_tokens; t++) {
            size_t len;
            const char *b = bpe_token_bytes(bpe, enc->ids[tok + t], &len);
            ck_assert(n + len < sizeof spelled);
            memcpy(spelled + n, b, len);
            n += len;
        }
        ck_assert_uint_eq(n, word->len);
        ck_assert(memcmp(spelled, enc->text + word->start, n) == 0);
        at += word->len;
        tok += word->n_tokens;
    }
    ck_assert_uint_eq(at, enc->text_len);
    ck_assert_uint_eq(tok, enc->n_tokens);
    ck_assert_uint_eq(strlen(enc->text), enc->text_len);
    bpe_encoding_free(enc);

    /* the empty text */
    enc = bpe_encode(bpe, "", 0, &err);
    ck_assert_ptr_nonnull(enc);
    ck_assert_uint_eq(enc->n_words, 0);
    ck_assert_uint_eq(enc->n_tokens, 0);
    bpe_encoding_free(enc);
    bpe_encoding_free(NULL);

    /* too long */
    ck_assert_ptr_null(bpe_encode(bpe, "", (size_t)LIMIT_MAX_SENTENCE_BYTES + 1, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_msg(strstr(err.message, "LIMIT_MAX_SENTENCE_BYTES") != NULL, "%s", err.message);
}
END_TEST

/* Well-known ids of GPT-2, independent of the corpus. */
START_TEST(test_known_ids)
{
    Bpe *bpe = gpt2();
    ck_assert_uint_eq(bpe_vocab_size(bpe), 50257);
    ck_assert_uint_eq(bpe_merge_count(bpe), 50000);
    ck_assert_int_eq(bpe_token_id(bpe, "<|endoftext|>", 13), 50256);
    ck_assert_int_eq(bpe_token_id(bpe, "\xc4\xa0the", 5), 262); /* "Ġthe" */
    ck_assert_int_eq(bpe_token_id(bpe, "!", 1), 0);
    ck_assert_int_eq(bpe_token_id(bpe, "nope-not-a-token", 16), -1);
    size_t len;
    ck_assert_str_eq(bpe_token_text(bpe, 262, &len), "\xc4\xa0the");
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(bpe_token_bytes(bpe, 262, &len), " the");
    ck_assert_uint_eq(len, 4);
    ck_assert_ptr_null(bpe_token_text(bpe, 50257, NULL));
    ck_assert_ptr_null(bpe_token_bytes(bpe, -1, NULL));
    /* the first merge of merges.txt is "Ġ t" */
    int32_t l, r, m;
    ck_assert(bpe_merge(bpe, 0, &l, &r, &m));
    ck_assert_str_eq(bpe_token_text(bpe, l, NULL), "\xc4\xa0");
    ck_assert_str_eq(bpe_token_text(bpe, r, NULL), "t");
    ck_assert_str_eq(bpe_token_text(bpe, m, NULL), "\xc4\xa0t");
    ck_assert_int_eq(bpe_pair_rank(bpe, l, r), 0);
    ck_assert(!bpe_merge(bpe, 50000, &l, &r, &m));
    ck_assert_int_eq(bpe_pair_rank(bpe, r, l), -1);
    /* "Hello world" is 15496 995 */
    Error err;
    BpeEncoding *enc = bpe_encode(bpe, "Hello world", 11, &err);
    ck_assert_uint_eq(enc->n_tokens, 2);
    ck_assert_int_eq(enc->ids[0], 15496);
    ck_assert_int_eq(enc->ids[1], 995);
    bpe_encoding_free(enc);
}
END_TEST

/* A benchmark, not a test (registered only with ATTN_BENCH set): loading
 * GPT-2's files should take well under 100 ms; the fastest of five loads,
 * so that other work on a busy machine does not count. */
START_TEST(test_load_time)
{
    char vocab[512], merges[512];
    snprintf(vocab, sizeof vocab, "%s/gpt2-tokenizer/vocab.json", fixture_dir());
    snprintf(merges, sizeof merges, "%s/gpt2-tokenizer/merges.txt", fixture_dir());
    double best = 1e9;
    for (int i = 0; i < 5; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        Error err;
        Bpe *bpe = bpe_load(vocab, merges, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_msg(bpe != NULL, "%s", err.message);
        bpe_free(bpe);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (ms < best)
            best = ms;
    }
    printf("bench: loading GPT-2's vocab.json and merges.txt: best of 5 %.1f ms\n", best);
    ck_assert_msg(best < 100.0, "loading GPT-2's vocab.json and merges.txt took %.1f ms (target 100)", best);
}
END_TEST

/* ------------------------------------------------------------------------
 * The byte map
 * ---------------------------------------------------------------------- */

START_TEST(test_byte_map)
{
    /* GPT-2's bytes_to_unicode, written out: the printable bytes in three
     * ranges keep their value; the rest, in increasing order, get 256, 257, ... */
    uint32_t expected[256];
    bool printable[256] = {false};
    for (int b = '!'; b <= '~'; b++)
        printable[b] = true;
    for (int b = 0xa1; b <= 0xac; b++)
        printable[b] = true;
    for (int b = 0xae; b <= 0xff; b++)
        printable[b] = true;
    uint32_t next = 256;
    for (int b = 0; b < 256; b++)
        expected[b] = printable[b] ? (uint32_t)b : next++;
    ck_assert_uint_eq(next, 256 + 68);
    bool used[512] = {false};
    for (int b = 0; b < 256; b++) {
        uint32_t cp = bpe_byte_char((unsigned char)b);
        ck_assert_msg(cp == expected[b], "byte 0x%02x: U+%04X, expected U+%04X", b, cp, expected[b]);
        ck_assert(!used[cp]);
        used[cp] = true;
        ck_assert_int_eq(bpe_char_byte(cp), b);
    }
    /* the famous ones */
    ck_assert_uint_eq(bpe_byte_char(' '), 0x120);  /* Ġ */
    ck_assert_uint_eq(bpe_byte_char('\n'), 0x10a); /* Ċ */
    ck_assert_uint_eq(bpe_byte_char('\t'), 0x109); /* ĉ */
    ck_assert_uint_eq(bpe_byte_char(0), 0x100);    /* Ā */
    ck_assert_uint_eq(bpe_byte_char(0x7f), 0x121); /* ġ */
    ck_assert_uint_eq(bpe_byte_char(0xad), 0x143); /* Ń: the soft hyphen, last of the others */
    ck_assert_uint_eq(bpe_byte_char('A'), 'A');
    ck_assert_uint_eq(bpe_byte_char(0xe9), 0xe9);
    /* characters that stand for no byte */
    static const uint32_t none[] = {0x20, 0x0a, 0x7f, 0xa0, 0xad, 0x144, 0x1f600, 0xfffd};
    for (size_t i = 0; i < COUNT_OF(none); i++)
        ck_assert_msg(bpe_char_byte(none[i]) == -1, "U+%04X", none[i]);
}
END_TEST

/* ------------------------------------------------------------------------
 * Invalid UTF-8
 * ---------------------------------------------------------------------- */

#define R "\xef\xbf\xbd" /* U+FFFD */

static const struct {
    const char *in;
    size_t len; /* 0: strlen */
    const char *out;
    size_t replaced;
} CLEAN[] = {
    {"plain ascii", 0, "plain ascii", 0},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0},
    {"\xef\xbb\xbf"
     "BOM kept",
     0,
     "\xef\xbb\xbf"
     "BOM kept",
     0},
    {"\x80", 0, R, 1},             /* a stray continuation byte */
    {"\x80\x80\x80", 0, R R R, 3}, /* each one */
    {"\xc0\xaf", 0, R R, 2},       /* overlong: C0 can start nothing */
    {"\xc1\xbf", 0, R R, 2},
    {"\xc2", 0, R, 1}, /* cut at the end */
    {"\xc2"
     "A",
     0, R "A", 1},         /* the breaking byte is read again */
    {"\xe2\x82", 0, R, 1}, /* a maximal prefix: one U+FFFD */
    {"\xe2\x82"
     "A",
     0, R "A", 1},
    {"\xe2\x41\x42", 0, R "AB", 1},
    {"\xe0\x80\xaf", 0, R R R, 3}, /* E0 needs A0-BF next */
    {"\xe0\xa0", 0, R, 1},
    {"\xed\xa0\x80", 0, R R R, 3},          /* an encoded surrogate: ED needs 80-9F next */
    {"\xed\x9f\xbf", 0, "\xed\x9f\xbf", 0}, /* U+D7FF is fine */
    {"\xf0\x80\x80\x80", 0, R R R R, 4},    /* F0 needs 90-BF next */
    {"\xf0\x9f\x98", 0, R, 1},
    {"\xf0\x9f\x98"
     "A",
     0, R "A", 1},
    {"\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf", 0}, /* U+10FFFF */
    {"\xf4\x90\x80\x80", 0, R R R R, 4},            /* past U+10FFFF */
    {"\xf5\x80", 0, R R, 2},
    {"\xff\xfe", 0, R R, 2},
    {"\xe2\x82\xac\x80", 0, "\xe2\x82\xac" R, 1},
    {"a\0b", 3, "a\0b", 0}, /* NUL is valid UTF-8 */
};

START_TEST(test_clean_utf8)
{
    for (size_t i = 0; i < COUNT_OF(CLEAN); i++) {
        size_t len = CLEAN[i].len != 0 ? CLEAN[i].len : strlen(CLEAN[i].in);
        char out[64];
        size_t replaced = 99;
        size_t n = bpe_clean_utf8(CLEAN[i].in, len, out, &replaced);
        size_t want = CLEAN[i].len != 0 ? CLEAN[i].len : strlen(CLEAN[i].out);
        ck_assert_msg(n == want && memcmp(out, CLEAN[i].out, n) == 0, "case %zu: %zu bytes, expected %zu", i, n, want);
        ck_assert_msg(out[n] == '\0', "case %zu: no NUL after", i);
        ck_assert_msg(replaced == CLEAN[i].replaced, "case %zu: %zu replaced, expected %zu", i, replaced,
                      CLEAN[i].replaced);
    }
    /* the worst case fits 3 * len */
    char in[4] = {'\xff', '\xff', '\xff', '\xff'}, out[13];
    ck_assert_uint_eq(bpe_clean_utf8(in, 4, out, NULL), 12);
}
END_TEST

/* ------------------------------------------------------------------------
 * The pre-split
 * ---------------------------------------------------------------------- */

/* A text and its words, separated by '|' (texts here hold no '|'). */
static const struct {
    const char *text;
    const char *words;
} SPLIT[] = {
    {"Hello world", "Hello| world"},
    {"Hello, world!", "Hello|,| world|!"},
    {"a  b", "a| | b"}, /* \s+(?!\S) leaves the last space to ' b' */
    {"a   b", "a|  | b"},
    {"a\t\tb", "a|\t|\t|b"}, /* a tab is no optional space: \s+ takes it alone */
    {"a \t b", "a| \t| b"},
    {"x   ", "x|   "}, /* at the end the run is whole */
    {"   ", "   "},
    {" ", " "},
    {"\n\nHi", "\n|\n|Hi"},
    {"I'm", "I|'m"},
    {"I'M", "I|'|M"}, /* contractions are lower case only */
    {"don't", "don|'t"},
    {"DON'T", "DON|'|T"},
    {"they'll've", "they|'ll|'ve"},
    {"we're", "we|'re"},
    {"she'd", "she|'d"},
    {"'s'S", "'s|'|S"},
    {"''s", "''|s"}, /* the punctuation run takes both quotes */
    {" 's", " '|s"},
    {"3.14", "3|.|14"},
    {"abc123def", "abc|123|def"},
    {" 123 456", " 123| 456"},
    {"1,000,000", "1|,|000|,|000"},
    {"\xc2\xbd\xc2\xb2\xd9\xa3", "\xc2\xbd\xc2\xb2\xd9\xa3"}, /* ½²٣ are all \p{N} */
    {"caf\xc3\xa9", "caf\xc3\xa9"},
    {"cafe\xcc\x81!", "cafe|\xcc\x81!"}, /* a combining mark is neither L nor N */
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},
    {" \xf0\x9f\x98\x80\xf0\x9f\x98\x80", " \xf0\x9f\x98\x80\xf0\x9f\x98\x80"},
    {"a\xf0\x9f\x98\x80"
     "b",
     "a|\xf0\x9f\x98\x80|b"},
    {"\xc2\xa0x", "\xc2\xa0|x"}, /* NBSP is \s, but not the optional ' ' */
    {"a \xc2\xa0"
     "b",
     "a| |\xc2\xa0|b"}, /* ' ' then NBSP: \s+(?!\S) gives back the NBSP */
    {"a\xc2\xa0 b", "a|\xc2\xa0| b"},
    {"\xe3\x80\x80\xe6\x97\xa5", "\xe3\x80\x80|\xe6\x97\xa5"}, /* U+3000 ideographic space */
    {"a\xc2\x85"
     "b",
     "a|\xc2\x85|b"}, /* U+0085 is not \s in JavaScript: a symbol of its own */
    {"a\xe2\x80\x8b"
     "b",
     "a|\xe2\x80\x8b|b"},                   /* U+200B neither */
    {"x\xef\xbb\xbfy", "x|\xef\xbb\xbf|y"}, /* U+FEFF is \s in JavaScript */
    {"!!! ???", "!!!| ???"},
    {"a  !", "a| | !"},
    {"end.\n", "end|.|\n"},
    {"(a) [b]", "(|a|)| [|b|]"},
};

START_TEST(test_split)
{
    for (size_t i = 0; i < COUNT_OF(SPLIT); i++) {
        const char *text = SPLIT[i].text;
        const char *words = SPLIT[i].words;
        BpeSpan spans[32];
        size_t n = bpe_split(text, strlen(text), spans, COUNT_OF(spans));
        ck_assert_uint_le(n, COUNT_OF(spans));
        char joined[256];
        size_t at = 0;
        for (size_t k = 0; k < n; k++) {
            if (k > 0)
                joined[at++] = '|';
            memcpy(joined + at, text + spans[k].start, spans[k].len);
            at += spans[k].len;
            ck_assert(spans[k].len > 0);
            if (k > 0)
                ck_assert_uint_eq(spans[k].start, spans[k - 1].start + spans[k - 1].len);
        }
        joined[at] = '\0';
        ck_assert_msg(strcmp(joined, words) == 0, "case %zu: split as '%s', expected '%s'", i, joined, words);
    }
    /* the special token is no special case: < | endoftext | > */
    BpeSpan spans[8];
    ck_assert_uint_eq(bpe_split("<|endoftext|>", 13, spans, 8), 3);
    ck_assert_uint_eq(spans[1].start, 2);
    ck_assert_uint_eq(spans[1].len, 9);
    /* counting without room */
    ck_assert_uint_eq(bpe_split("a b c", 5, NULL, 0), 3);
    ck_assert_uint_eq(bpe_split("", 0, NULL, 0), 0);
}
END_TEST

START_TEST(test_unicode_classes)
{
    static const struct {
        uint32_t cp;
        UnicodeClass cls;
    } cases[] = {
        {'a', UNICODE_LETTER},     {'Z', UNICODE_LETTER},     {'5', UNICODE_NUMBER},     {' ', UNICODE_SPACE},
        {'\t', UNICODE_SPACE},     {0x0b, UNICODE_SPACE},     {'!', UNICODE_OTHER},      {0, UNICODE_OTHER},
        {0xa0, UNICODE_SPACE},     {0xaa, UNICODE_LETTER},    {0xb2, UNICODE_NUMBER},    {0xbd, UNICODE_NUMBER},
        {0x85, UNICODE_OTHER},     {0x300, UNICODE_OTHER},    {0x3b1, UNICODE_LETTER},   {0x663, UNICODE_NUMBER},
        {0x1680, UNICODE_SPACE},   {0x180e, UNICODE_OTHER},   {0x2000, UNICODE_SPACE},   {0x200a, UNICODE_SPACE},
        {0x200b, UNICODE_OTHER},   {0x2028, UNICODE_SPACE},   {0x202f, UNICODE_SPACE},   {0x205f, UNICODE_SPACE},
        {0x2160, UNICODE_NUMBER},  {0x3000, UNICODE_SPACE},   {0x3007, UNICODE_NUMBER},  {0x4e00, UNICODE_LETTER},
        {0xac00, UNICODE_LETTER},  {0xfeff, UNICODE_SPACE},   {0xfffd, UNICODE_OTHER},   {0x1f600, UNICODE_OTHER},
        {0x1d400, UNICODE_LETTER}, {0x20000, UNICODE_LETTER}, {0x10ffff, UNICODE_OTHER}, {0x110000, UNICODE_OTHER},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++)
        ck_assert_msg(unicode_class(cases[i].cp) == cases[i].cls, "U+%04X: class %d, expected %d", cases[i].cp,
                      unicode_class(cases[i].cp), cases[i].cls);
    ck_assert(strlen(UNICODE_TABLES_VERSION) >= 3);
}
END_TEST

/* ------------------------------------------------------------------------
 * Small made-up tokenizers: the 256 byte tokens (ids 0..255 in byte
 * order) and extra tokens after them
 * ---------------------------------------------------------------------- */

/* Writes a vocab.json of the 256 byte tokens and then, from id 256 on, the
 * tokens of extra (space-separated, in byte-level characters). Returns a
 * malloc'd text. skip_byte (0..255, or -1) leaves that byte's token out
 * (and numbers the rest densely). */
static char *make_vocab(const char *extra, int skip_byte)
{
    size_t cap = 16384 + (extra != NULL ? 8 * strlen(extra) : 0), n = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    int id = 0;
    n += (size_t)snprintf(out + n, cap - n, "{");
    for (int b = 0; b < 256; b++) {
        if (b == skip_byte)
            continue;
        char c[5];
        utf8_encode(bpe_byte_char((unsigned char)b), c);
        const char *quoted = strcmp(c, "\"") == 0 ? "\\\"" : strcmp(c, "\\") == 0 ? "\\\\" : c;
        n += (size_t)snprintf(out + n, cap - n, "%s\"%s\": %d", id > 0 ? ", " : "", quoted, id);
        id++;
    }
    if (extra != NULL) {
        const char *p = extra;
        while (*p != '\0') {
            const char *end = strchr(p, ' ');
            size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
            n += (size_t)snprintf(out + n, cap - n, ", \"%.*s\": %d", (int)len, p, id++);
            p += len;
            while (*p == ' ')
                p++;
        }
    }
    snprintf(out + n, cap - n, "}");
    return out;
}

static Bpe *make_bpe(const char *extra, const char *merges)
{
    char *vocab = make_vocab(extra, -1);
    Error err;
    error_clear(&err);
    Bpe *bpe = bpe_parse(vocab, strlen(vocab), "vocab.json", merges, strlen(merges), "merges.txt", &err);
    free(vocab);
    ck_assert_msg(bpe != NULL, "%s", err.message);
    return bpe;
}

/* The tokens of text under bpe as "a|b|c" (their byte-level texts). */
static void tokens_of(Bpe *bpe, const char *text, char *out, size_t size)
{
    Error err;
    BpeEncoding *enc = bpe_encode(bpe, text, strlen(text), &err);
    ck_assert_ptr_nonnull(enc);
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < enc->n_tokens; k++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", k > 0 ? "|" : "", bpe_token_text(bpe, enc->ids[k], NULL));
    bpe_encoding_free(enc);
}

START_TEST(test_merge_order)
{
    static const struct {
        const char *extra, *merges, *text, *tokens;
    } cases[] = {
        /* left to right, non-overlapping: aaa is aa a, not a aa */
        {"aa", "#version: 0.2\na a\n", "aaa", "aa|a"},
        {"aa aaaa", "#version: 0.2\na a\naa aa\n", "aaaa", "aaaa"},
        {"aa aaaa", "#version: 0.2\na a\naa aa\n", "aaaaa", "aaaa|a"},
        /* the lowest rank first, wherever it is */
        {"bc ab", "#version: 0.2\nb c\na b\n", "abc", "a|bc"},
        {"bc ab", "#version: 0.2\na b\nb c\n", "abc", "ab|c"},
        /* a pass merges every occurrence before any pair it makes is looked
         * at, even one of lower rank: bcbc becomes bc bc, not bcb c */
        {"bc bcb", "#version: 0.2\nbc b\nb c\n", "bcbc", "bc|bc"},
        /* merges apply within a word only */
        {"ab", "#version: 0.2\na b\n", "a b ab", "a|\xc4\xa0|b|\xc4\xa0|ab"},
        /* no merges at all: one token a byte */
        {NULL, "#version: 0.2\n", "hi!", "h|i|!"},
        /* no final newline */
        {"ab", "#version: 0.2\na b", "ab", "ab"},
        /* merges of the byte-level characters: a space is \xc4\xa0 */
        {"\xc4\xa0"
         "a",
         "#version: 0.2\n\xc4\xa0 a\n", " a a",
         "\xc4\xa0"
         "a|\xc4\xa0"
         "a"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        Bpe *bpe = make_bpe(cases[i].extra, cases[i].merges);
        char got[256];
        tokens_of(bpe, cases[i].text, got, sizeof got);
        ck_assert_msg(strcmp(got, cases[i].tokens) == 0, "case %zu: '%s' became '%s', expected '%s'", i, cases[i].text,
                      got, cases[i].tokens);
        bpe_free(bpe);
    }
}
END_TEST

START_TEST(test_replay_small)
{
    Bpe *bpe = make_bpe("aa aaaa bc", "#version: 0.2\na a\nb c\naa aa\n");
    Error err;
    BpeReplay *r = bpe_replay(bpe, "aaaaabc", 7, &err);
    ck_assert_ptr_nonnull(r);
    /* passes: a a (rank 0, twice), b c (rank 1), aa aa (rank 2) */
    ck_assert_uint_eq(r->n_steps, 3);
    ck_assert_uint_eq(r->steps[0].rank, 0);
    ck_assert_uint_eq(r->steps[0].count, 2);
    ck_assert_uint_eq(r->steps[1].rank, 1);
    ck_assert_uint_eq(r->steps[1].count, 1);
    ck_assert_uint_eq(r->steps[2].rank, 2);
    ck_assert_int_eq(r->steps[2].merged, bpe_token_id(bpe, "aaaa", 4));
    static const char *const states[] = {"a|a|a|a|a|b|c", "aa|aa|a|b|c", "aa|aa|a|bc", "aaaa|a|bc"};
    for (size_t k = 0; k <= r->n_steps; k++) {
        size_t count;
        const int32_t *ids = bpe_replay_state(r, k, &count);
        ck_assert_ptr_nonnull(ids);
        char got[64];
        size_t n = 0;
        for (size_t j = 0; j < count; j++)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", j > 0 ? "|" : "", bpe_token_text(bpe, ids[j], NULL));
        ck_assert_msg(strcmp(got, states[k]) == 0, "state %zu: '%s', expected '%s'", k, got, states[k]);
    }
    size_t count;
    ck_assert_ptr_null(bpe_replay_state(r, 4, &count));
    bpe_replay_free(r);
    bpe_replay_free(NULL);

    ck_assert_ptr_null(bpe_replay(bpe, "", 0, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    char *long_word = malloc(LIMIT_BPE_REPLAY_BYTES + 1);
    memset(long_word, 'a', LIMIT_BPE_REPLAY_BYTES + 1);
    ck_assert_ptr_null(bpe_replay(bpe, long_word, LIMIT_BPE_REPLAY_BYTES + 1, &err));
    ck_assert_msg(strstr(err.message, "LIMIT_BPE_REPLAY_BYTES") != NULL, "%s", err.message);
    /* the longest allowed word replays, and agrees with the encoding */
    r = bpe_replay(bpe, long_word, LIMIT_BPE_REPLAY_BYTES, &err);
    ck_assert_ptr_nonnull(r);
    const int32_t *last = bpe_replay_state(r, r->n_steps, &count);
    ck_assert_uint_eq(count, LIMIT_BPE_REPLAY_BYTES / 4);
    ck_assert_int_eq(last[0], bpe_token_id(bpe, "aaaa", 4));
    bpe_replay_free(r);
    free(long_word);
    bpe_free(bpe);
}
END_TEST

/* Every pass of GPT-2's merges on real words, checked against a plain
 * rescan written here: state k+1 is state k with every occurrence of the
 * pass's pair merged left to right, that pair has the lowest rank of all
 * of state k's pairs, and the last state has no ranked pair left and is
 * what bpe_encode gives. */
START_TEST(test_replay_gpt2)
{
    Bpe *bpe = gpt2();
    static const char *const words[] = {" the",
                                        "Hello",
                                        " tokenization",
                                        " antidisestablishmentarianism",
                                        " \xc3\xa9t\xc3\xa9",
                                        "1234567",
                                        "!!!!!!",
                                        " \xf0\x9f\x98\x80",
                                        "    ",
                                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                        " Donaudampfschifffahrt"};
    for (size_t w = 0; w < COUNT_OF(words); w++) {
        const char *word = words[w];
        Error err;
        BpeReplay *r = bpe_replay(bpe, word, strlen(word), &err);
        ck_assert_msg(r != NULL, "%s", err.message);
        size_t n0;
        const int32_t *s0 = bpe_replay_state(r, 0, &n0);
        ck_assert_uint_eq(n0, strlen(word));
        for (size_t i = 0; i < n0; i++) {
            char c[5];
            int len = utf8_encode(bpe_byte_char((unsigned char)word[i]), c);
            ck_assert_int_eq(s0[i], bpe_token_id(bpe, c, (size_t)len));
        }
        for (size_t k = 0; k <= r->n_steps; k++) {
            size_t n;
            const int32_t *s = bpe_replay_state(r, k, &n);
            /* the lowest rank among the state's pairs */
            int32_t best = -1;
            for (size_t i = 0; i + 1 < n; i++) {
                int32_t rank = bpe_pair_rank(bpe, s[i], s[i + 1]);
                if (rank >= 0 && (best < 0 || rank < best))
                    best = rank;
            }
            if (k == r->n_steps) {
                ck_assert_msg(best < 0, "'%s': the last state still has a merge (rank %d)", word, best);
                BpeEncoding *enc = bpe_encode(bpe, word, strlen(word), &err);
                ck_assert_uint_eq(enc->n_words, 1);
                ck_assert_uint_eq(enc->n_tokens, n);
                ck_assert(memcmp(enc->ids, s, n * sizeof *s) == 0);
                bpe_encoding_free(enc);
                break;
            }
            const BpeStep *st = &r->steps[k];
            ck_assert_msg(best >= 0 && (size_t)best == st->rank, "'%s' step %zu: rank %zu, the lowest is %d", word, k,
                          st->rank, best);
            int32_t l, rr, m;
            ck_assert(bpe_merge(bpe, st->rank, &l, &rr, &m));
            ck_assert(l == st->left && rr == st->right && m == st->merged);
            /* the rescan */
            int32_t expect[1100];
            size_t ne = 0, merged = 0;
            for (size_t i = 0; i < n;) {
                if (i + 1 < n && s[i] == l && s[i + 1] == rr) {
                    expect[ne++] = m;
                    merged++;
                    i += 2;
                } else {
                    expect[ne++] = s[i++];
                }
            }
            ck_assert_uint_eq(merged, st->count);
            size_t n1;
            const int32_t *s1 = bpe_replay_state(r, k + 1, &n1);
            ck_assert_uint_eq(n1, ne);
            ck_assert_msg(memcmp(s1, expect, ne * sizeof *s1) == 0, "'%s' step %zu: the pieces differ", word, k);
        }
        bpe_replay_free(r);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Malformed files: every error, with its position
 * ---------------------------------------------------------------------- */

/* A vocab.json case: the text is the 256 byte tokens with the extra
 * member text spliced in before the closing brace (or the whole text when
 * raw), with one byte left out when skip >= 0. */
static const struct {
    const char *vocab; /* raw text, or a member list to append (starts with ',') */
    bool raw;
    int skip;
    const char *message; /* the expected message; "%d" stands for the column of the spliced member's value */
} VOCAB_BAD[] = {
    {"[1,", true, -1, "vocab.json:1:4: expected a value, found the end of the text"},
    {"[]", true, -1, "vocab.json:1:1: the vocabulary (token strings to ids): expected an object, found an array"},
    {"  {}", true, -1, "vocab.json:1:3: the vocabulary has no tokens"},
    {"{\"a\": 0, \"a\": 1}", true, -1, "vocab.json:1:10: duplicate key \"a\" (first at line 1, column 2)"},
    {"{\"a\": \"0\"}", true, -1, "vocab.json:1:7: the id of token \"a\": expected a number, found a string"},
    {"{\"a\": 0.5}", true, -1, "vocab.json:1:7: the id of token \"a\": expected an integer, found 0.5"},
    {"{\"a\": 1}", true, -1, "vocab.json:1:7: token \"a\" has id 1, out of range: 1 tokens need the ids 0 to 0"},
    {"{\"a\": -1}", true, -1, "vocab.json:1:7: token \"a\" has id -1, out of range: 1 tokens need the ids 0 to 0"},
    {"{\"a\": 99999999999999999999}", true, -1,
     "vocab.json:1:7: the id of token \"a\": integer 99999999999999999999 is out of range (-9223372036854775808 to "
     "9223372036854775807)"},
    {"{\"a\": 1, \"b\": 1}", true, -1, "vocab.json:1:15: id 1 is given twice: to \"b\" and before to \"a\""},
    {"{\"\": 0}", true, -1, "vocab.json:1:2: an empty token"},
    {"{\"a b\": 0}", true, -1,
     "vocab.json:1:2: token \"a b\" holds U+0020, which is not a byte-level character (U+0021-U+007E, U+00A1-U+00AC, "
     "U+00AE-U+00FF, U+0100-U+0143)"},
    {"{\"\\u00e9\\u0144\": 0}", true, -1,
     "vocab.json:1:2: token \"\xc3\xa9\xc5\x84\" holds U+0144, which is not a byte-level character (U+0021-U+007E, "
     "U+00A1-U+00AC, U+00AE-U+00FF, U+0100-U+0143)"},
    {"{\"a\": 0}", true, -1,
     "vocab.json:1:1: no token for byte 0x00 (its byte-level character U+0100 \"\xc4\x80\"): every byte needs one"},
    {NULL, false, ' ',
     "vocab.json:1:1: no token for byte 0x20 (its byte-level character U+0120 \"\xc4\xa0\"): every byte needs one"},
    {", \"ab\": 300", false, -1,
     "vocab.json:1:%d: token \"ab\" has id 300, out of range: 257 tokens need the ids 0 to 256"},
    {", \"ab\": 255", false, -1, "vocab.json:1:%d: id 255 is given twice: to \"ab\" and before to \"\xc3\xbf\""},
};

START_TEST(test_vocab_errors)
{
    for (size_t i = 0; i < COUNT_OF(VOCAB_BAD); i++) {
        char *vocab;
        int col = 0;
        if (VOCAB_BAD[i].raw) {
            vocab = strdup(VOCAB_BAD[i].vocab);
        } else {
            char *base = make_vocab(NULL, VOCAB_BAD[i].skip);
            size_t len = strlen(base);
            const char *extra = VOCAB_BAD[i].vocab != NULL ? VOCAB_BAD[i].vocab : "";
            vocab = malloc(len + strlen(extra) + 1);
            memcpy(vocab, base, len - 1);
            strcpy(vocab + len - 1, extra);
            strcat(vocab, "}");
            /* the column of the value after ": " in the spliced text, in characters */
            const char *colon = strstr(vocab + len - 1, ": ");
            if (colon != NULL) {
                for (const char *c = vocab; c < colon + 2; c++)
                    if (((unsigned char)*c & 0xc0) != 0x80)
                        col++;
                col++;
            }
            free(base);
        }
        /* "%d" in the message stands for col */
        char expected[ERROR_MESSAGE_BYTES];
        const char *mark = strstr(VOCAB_BAD[i].message, "%d");
        if (mark != NULL)
            snprintf(expected, sizeof expected, "%.*s%d%s", (int)(mark - VOCAB_BAD[i].message), VOCAB_BAD[i].message,
                     col, mark + 2);
        else
            snprintf(expected, sizeof expected, "%s", VOCAB_BAD[i].message);
        Error err;
        error_clear(&err);
        const char *merges = "#version: 0.2\n";
        Bpe *bpe = bpe_parse(vocab, strlen(vocab), "vocab.json", merges, strlen(merges), "merges.txt", &err);
        ck_assert_msg(bpe == NULL, "vocab case %zu should be refused", i);
        ck_assert_int_eq(err.status, STATUS_DATAERR);
        ck_assert_msg(strcmp(err.message, expected) == 0, "vocab case %zu:\n  got      '%s'\n  expected '%s'", i,
                      err.message, expected);
        free(vocab);
    }
}
END_TEST

/* merges.txt cases, against a vocabulary of the bytes and "ab", "abc" and
 * "b\xc4\xa0" */
static const struct {
    const char *merges;
    size_t len; /* 0: strlen */
    const char *message;
} MERGES_BAD[] = {
    {"", 0, "merges.txt:1:1: the first line must be \"#version: ...\" (is this a merges.txt?)"},
    {"a b\n", 0, "merges.txt:1:1: the first line must be \"#version: ...\" (is this a merges.txt?)"},
    {"#version 0.2\na b\n", 0, "merges.txt:1:1: the first line must be \"#version: ...\" (is this a merges.txt?)"},
    {"#version: 0.2\na b\n\nab c\n", 0,
     "merges.txt:3:1: an empty line (each line after the first is one merge, \"LEFT RIGHT\")"},
    {"#version: 0.2\na b\r\n", 0, "merges.txt:2:4: a carriage return (the file must have Unix line ends)"},
    {"#version: 0.2\na\tb\n", 0, "merges.txt:2:2: a tab (a merge is two tokens and one space)"},
    {"#version: 0.2\nab\n", 0, "merges.txt:2:1: \"ab\" is not a merge: expected two tokens and one space"},
    {"#version: 0.2\na b c\n", 0, "merges.txt:2:4: \"a b c\" is not a merge: expected two tokens and one space"},
    {"#version: 0.2\na  b\n", 0, "merges.txt:2:3: \"a  b\" is not a merge: expected two tokens and one space"},
    {"#version: 0.2\n a\n", 0, "merges.txt:2:1: \" a\" is not a merge: expected two tokens and one space"},
    {"#version: 0.2\na \n", 0, "merges.txt:2:3: \"a \" is not a merge: expected two tokens and one space"},
    {"#version: 0.2\na b\nxyz b\n", 0, "merges.txt:3:1: unknown token \"xyz\" (not in the vocabulary)"},
    {"#version: 0.2\na b\nab xyz\n", 0, "merges.txt:3:4: unknown token \"xyz\" (not in the vocabulary)"},
    {"#version: 0.2\nb c\n", 0, "merges.txt:2:1: the merge makes \"bc\", which is not in the vocabulary"},
    {"#version: 0.2\na b\nab c\na b\n", 0, "merges.txt:4:1: the merge \"a b\" comes twice (first on line 2)"},
    {"#version: 0.2\na b\0\n", 19, "merges.txt:2:4: a NUL byte"},
    {"#version: 0.2\n\xc3\xa9\xff b\n", 0, "merges.txt:2:1: unknown token \"\xc3\xa9?\" (not in the vocabulary)"},
};

START_TEST(test_merges_errors)
{
    char *vocab = make_vocab("ab abc b\xc4\xa0", -1);
    for (size_t i = 0; i < COUNT_OF(MERGES_BAD); i++) {
        const char *merges = MERGES_BAD[i].merges;
        size_t len = MERGES_BAD[i].len != 0 ? MERGES_BAD[i].len : strlen(merges);
        Error err;
        error_clear(&err);
        Bpe *bpe = bpe_parse(vocab, strlen(vocab), "vocab.json", merges, len, "merges.txt", &err);
        ck_assert_msg(bpe == NULL, "merges case %zu should be refused", i);
        ck_assert_int_eq(err.status, STATUS_DATAERR);
        ck_assert_msg(strcmp(err.message, MERGES_BAD[i].message) == 0,
                      "merges case %zu:\n  got      '%s'\n  expected '%s'", i, err.message, MERGES_BAD[i].message);
    }
    /* and a good one, to show the vocabulary is fine */
    const char *good = "#version: 0.2\na b\nab c\nb \xc4\xa0\n";
    Error err;
    Bpe *bpe = bpe_parse(vocab, strlen(vocab), "vocab.json", good, strlen(good), "merges.txt", &err);
    ck_assert_msg(bpe != NULL, "%s", err.message);
    ck_assert_uint_eq(bpe_merge_count(bpe), 3);
    ck_assert_uint_eq(bpe_vocab_size(bpe), 259);
    char got[64];
    tokens_of(bpe, "abc ab b ", got, sizeof got);
    ck_assert_str_eq(got, "abc|\xc4\xa0|ab|\xc4\xa0|b|\xc4\xa0");
    bpe_free(bpe);
    free(vocab);
}
END_TEST

START_TEST(test_files)
{
    Error err;
    error_clear(&err);
    char vocab[512], merges[512];
    snprintf(vocab, sizeof vocab, "%s/gpt2-tokenizer/vocab.json", fixture_dir());
    snprintf(merges, sizeof merges, "%s/gpt2-tokenizer/merges.txt", fixture_dir());
    ck_assert_ptr_null(bpe_load("/nonexistent/vocab.json", merges, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_str_eq(err.message, "/nonexistent/vocab.json: cannot read: No such file or directory");
    ck_assert_ptr_null(bpe_load(vocab, "/nonexistent/merges.txt", &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_str_eq(err.message, "/nonexistent/merges.txt: cannot read: No such file or directory");
    ck_assert_ptr_null(bpe_load(vocab, "/tmp", &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_str_eq(err.message, "/tmp: cannot read: it is a directory");
    /* the files swapped: each is reported as what it is not */
    ck_assert_ptr_null(bpe_load(merges, vocab, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    char expected[600];
    snprintf(expected, sizeof expected, "%s:1:1: expected a value, found '#'", merges);
    ck_assert_str_eq(err.message, expected);
    /* a malformed merges.txt on disk gives FILE:LINE:COL */
    char path[] = "/tmp/attn-bpe-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "#version: 0.2\n\xc4\xa0 t\nnot-a-token x\n";
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    ck_assert_ptr_null(bpe_load(vocab, path, &err));
    snprintf(expected, sizeof expected, "%s:3:1: unknown token \"not-a-token\" (not in the vocabulary)", path);
    ck_assert_str_eq(err.message, expected);
    unlink(path);
    bpe_free(NULL);
}
END_TEST

Suite *bpe_suite(void)
{
    Suite *s = suite_create("bpe");
    TCase *tc = tcase_create("pieces");
    tcase_add_test(tc, test_byte_map);
    tcase_add_test(tc, test_clean_utf8);
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_unicode_classes);
    tcase_add_test(tc, test_merge_order);
    tcase_add_test(tc, test_replay_small);
    tcase_add_test(tc, test_vocab_errors);
    tcase_add_test(tc, test_merges_errors);
    suite_add_tcase(s, tc);
    TCase *gpt = tcase_create("gpt2");
    tcase_add_test(gpt, test_known_ids);
    tcase_add_test(gpt, test_corpus);
    tcase_add_test(gpt, test_encoding_structure);
    tcase_add_test(gpt, test_replay_gpt2);
    tcase_add_test(gpt, test_files);
    tcase_set_timeout(gpt, 120);
    suite_add_tcase(s, gpt);
    if (getenv("ATTN_BENCH") != NULL) { /* ATTN_BENCH=1 CK_RUN_SUITE=bpe build/run-tests */
        TCase *bench = tcase_create("bench");
        tcase_add_test(bench, test_load_time);
        suite_add_tcase(s, bench);
    }
    return s;
}
