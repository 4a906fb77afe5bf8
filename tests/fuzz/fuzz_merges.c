/*
 * fuzz_merges.c - bpe.c's reading of merges.txt, and the merge loop.
 *
 * The input is merges.txt. The vocabulary is made to fit it: the 256 byte
 * tokens, then, for each line after the first that splits at its first
 * space into two parts of byte-level characters, the left part, the right
 * part and their concatenation (each once). So most inputs load, and the
 * fuzzer explores merge tables of any shape: the input's own bytes are
 * then tokenized and every pass of every short word checked against a
 * plain rescan (fuzz_bpe_check). A refusal must be STATUS_DATAERR with a
 * one-line "merges.txt:..." message.
 */
#include "fuzz_bpe.h"

/* Most tokens added to the vocabulary. */
#define EXTRA_MAX 4096

/* True when s[0..len) is all byte-level characters. */
static bool byte_level(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        int n = utf8_decode(s + i, &cp);
        if (n == 0 || i + (size_t)n > len || bpe_char_byte(cp) < 0)
            return false;
        i += (size_t)n;
    }
    return len > 0;
}

typedef struct Extra {
    char *text[EXTRA_MAX];
    size_t len[EXTRA_MAX];
    size_t count;
} Extra;

/* Adds s[0..len) unless it is a byte token or there already. */
static void add_token(Extra *x, StrBuf *vocab, const char *s, size_t len)
{
    uint32_t cp;
    int n = utf8_decode(s, &cp);
    if ((size_t)n == len || x->count == EXTRA_MAX)
        return;
    for (size_t k = 0; k < x->count; k++)
        if (x->len[k] == len && memcmp(x->text[k], s, len) == 0)
            return;
    x->text[x->count] = malloc(len);
    FUZZ_CHECK(x->text[x->count] != NULL, "out of memory");
    memcpy(x->text[x->count], s, len);
    x->len[x->count] = len;
    strbuf_puts(vocab, ", ");
    fuzz_bpe_json_string(vocab, s, len);
    strbuf_printf(vocab, ": %zu", 256 + x->count);
    x->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a NUL-terminated copy, for utf8_decode, which reads until a byte
     * breaks the sequence */
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    static Extra x;
    x.count = 0;
    StrBuf vocab = {0};
    strbuf_puts(&vocab, "{");
    fuzz_bpe_byte_members(&vocab);
    char *joined = malloc(size + 1);
    FUZZ_CHECK(joined != NULL, "out of memory");
    const char *eol = memchr(text, '\n', size);
    size_t pos = eol != NULL ? (size_t)(eol - text) + 1 : size;
    while (pos < size) {
        const char *line = text + pos;
        const char *end = memchr(line, '\n', size - pos);
        size_t n = end != NULL ? (size_t)(end - line) : size - pos;
        const char *space = memchr(line, ' ', n);
        if (space != NULL) {
            size_t ll = (size_t)(space - line), rl = n - ll - 1;
            if (byte_level(line, ll) && byte_level(space + 1, rl)) {
                add_token(&x, &vocab, line, ll);
                add_token(&x, &vocab, space + 1, rl);
                memcpy(joined, line, ll);
                memcpy(joined + ll, space + 1, rl);
                add_token(&x, &vocab, joined, ll + rl);
            }
        }
        pos += n + 1;
    }
    strbuf_puts(&vocab, "}");
    FUZZ_CHECK(!vocab.failed, "out of memory");
    Error err;
    error_clear(&err);
    Bpe *bpe = bpe_parse(strbuf_text(&vocab), vocab.len, "vocab.json", text, size, "merges.txt", &err);
    if (bpe == NULL) {
        fuzz_bpe_check_error(&err, "merges.txt");
    } else {
        FUZZ_CHECK(bpe_vocab_size(bpe) == 256 + x.count, "%zu tokens, %zu made", bpe_vocab_size(bpe), 256 + x.count);
        fuzz_bpe_check(bpe, text, size);
        bpe_free(bpe);
    }
    for (size_t k = 0; k < x.count; k++)
        free(x.text[k]);
    free(joined);
    free(text);
    strbuf_free(&vocab);
    return 0;
}
