/*
 * fuzz_vocab.c - bpe.c's reading of vocab.json.
 *
 * Byte 0 is the mode; the rest is text. Mode even: the text is the whole
 * vocab.json. Mode odd: the text is spliced into a valid vocabulary, after
 * its 256 byte tokens ("{<bytes>, TEXT}"), so the fuzzer spends its time on
 * tokens and ids rather than on rediscovering the byte tokens. merges.txt
 * is "#version: 0.2" with no merges. A refusal must be STATUS_DATAERR with
 * a one-line "vocab.json:..." message; an accepted vocabulary must answer
 * every lookup consistently and tokenize the input text into tokens that
 * spell it (fuzz_bpe_check).
 */
#include "fuzz_bpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool splice = (data[0] & 1) != 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    StrBuf vocab = {0};
    if (splice) {
        strbuf_puts(&vocab, "{");
        fuzz_bpe_byte_members(&vocab);
        strbuf_puts(&vocab, ", ");
        strbuf_append(&vocab, text, len);
        strbuf_puts(&vocab, "}");
    } else {
        strbuf_append(&vocab, text, len);
    }
    FUZZ_CHECK(!vocab.failed, "out of memory");
    static const char merges[] = "#version: 0.2\n";
    Error err;
    error_clear(&err);
    Bpe *bpe = bpe_parse(strbuf_text(&vocab), vocab.len, "vocab.json", merges, sizeof merges - 1, "merges.txt", &err);
    if (bpe == NULL) {
        fuzz_bpe_check_error(&err, "vocab.json");
    } else {
        fuzz_bpe_check(bpe, text, len);
        bpe_free(bpe);
    }
    strbuf_free(&vocab);
    return 0;
}
