/*
 * fuzz_json.c - json.c: parse any bytes as JSON.
 *
 * A refusal must carry STATUS_DATAERR, a one-line message starting with
 * "json:" and a position inside the input. An accepted text must give a
 * tree whose every value starts inside the input at a byte that can start
 * that kind of value, whose strings are valid UTF-8 of the length they
 * claim, whose object keys are unique and each found by json_get; and
 * written out again as JSON and parsed back it must give the same tree
 * (the round trip checks the decoding of escapes against the encoding
 * written here).
 */
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "strbuf.h"
#include "utf8.h"

/* Checks that s[0..len) is valid UTF-8 (NUL bytes allowed: \u0000). */
static bool valid_utf8(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] == '\0') {
            i++;
            continue;
        }
        uint32_t cp;
        int n = utf8_decode(s + i, &cp);
        if (n == 0 || i + (size_t)n > len)
            return false;
        i += (size_t)n;
    }
    return true;
}

/* Writes s[0..len) as a JSON string, escaping what must be escaped and,
 * to exercise the decoder, every non-ASCII character as \u escapes
 * (surrogate pairs above U+FFFF). */
static void write_string(StrBuf *out, const char *s, size_t len)
{
    strbuf_puts(out, "\"");
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            strbuf_printf(out, "\\%c", c);
            i++;
        } else if (c < 0x20) {
            strbuf_printf(out, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            strbuf_printf(out, "%c", c);
            i++;
        } else {
            uint32_t cp;
            int n = utf8_decode(s + i, &cp);
            FUZZ_CHECK(n > 0, "invalid UTF-8 in a decoded string");
            if (cp >= 0x10000)
                strbuf_printf(out, "\\u%04X\\u%04X", 0xd800 + ((cp - 0x10000) >> 10),
                              0xdc00 + ((cp - 0x10000) & 0x3ff));
            else
                strbuf_printf(out, "\\u%04x", cp);
            i += (size_t)n;
        }
    }
    strbuf_puts(out, "\"");
}

/* Writes v as JSON. */
static void write_value(StrBuf *out, const JsonValue *v)
{
    switch (v->type) {
    case JSON_NULL:
        strbuf_puts(out, "null");
        break;
    case JSON_FALSE:
        strbuf_puts(out, "false");
        break;
    case JSON_TRUE:
        strbuf_puts(out, "true");
        break;
    case JSON_NUMBER:
        strbuf_puts(out, v->u.number);
        break;
    case JSON_STRING:
        write_string(out, v->u.string, v->count);
        break;
    case JSON_ARRAY:
        strbuf_puts(out, "[");
        for (size_t i = 0; i < v->count; i++) {
            if (i > 0)
                strbuf_puts(out, ",");
            write_value(out, &v->u.items[i]);
        }
        strbuf_puts(out, "]");
        break;
    case JSON_OBJECT:
        strbuf_puts(out, "{");
        for (size_t i = 0; i < v->count; i++) {
            if (i > 0)
                strbuf_puts(out, ",");
            write_string(out, v->u.members[i].key, v->u.members[i].key_len);
            strbuf_puts(out, ":");
            write_value(out, &v->u.members[i].value);
        }
        strbuf_puts(out, "}");
        break;
    }
}

/* Checks v and everything under it against the input it came from. */
static void check_value(const JsonDoc *doc, const JsonValue *v, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(v->offset < size, "value offset %zu past %zu bytes", v->offset, size);
    uint8_t first = data[v->offset];
    Error err;
    error_clear(&err);
    switch (v->type) {
    case JSON_NULL:
        FUZZ_CHECK(first == 'n', "null at '%c'", first);
        break;
    case JSON_FALSE:
        FUZZ_CHECK(first == 'f', "false at '%c'", first);
        break;
    case JSON_TRUE:
        FUZZ_CHECK(first == 't', "true at '%c'", first);
        break;
    case JSON_NUMBER: {
        FUZZ_CHECK(first == '-' || (first >= '0' && first <= '9'), "number at '%c'", first);
        size_t n = strlen(v->u.number);
        FUZZ_CHECK(v->offset + n <= size && memcmp(data + v->offset, v->u.number, n) == 0,
                   "number text differs from the input");
        int64_t i64;
        double d;
        bool is_int = json_int64(doc, v, "n", &i64, &err);
        FUZZ_CHECK(is_int || err.status == STATUS_DATAERR, "json_int64 failed without a status");
        bool is_double = json_double(doc, v, "n", &d, &err);
        FUZZ_CHECK(is_double || err.status == STATUS_DATAERR, "json_double failed without a status");
        if (is_int && is_double && i64 > -(1LL << 53) && i64 < (1LL << 53))
            FUZZ_CHECK(d == (double)i64, "int64 %lld and double %.17g disagree", (long long)i64, d);
        break;
    }
    case JSON_STRING:
        FUZZ_CHECK(first == '"', "string at '%c'", first);
        FUZZ_CHECK(v->u.string[v->count] == '\0', "string not NUL-terminated");
        FUZZ_CHECK(valid_utf8(v->u.string, v->count), "decoded string is not UTF-8");
        break;
    case JSON_ARRAY:
        FUZZ_CHECK(first == '[', "array at '%c'", first);
        for (size_t i = 0; i < v->count; i++) {
            FUZZ_CHECK(v->u.items[i].offset > v->offset, "item before its array");
            check_value(doc, &v->u.items[i], data, size);
        }
        break;
    case JSON_OBJECT:
        FUZZ_CHECK(first == '{', "object at '%c'", first);
        for (size_t i = 0; i < v->count; i++) {
            const JsonMember *m = &v->u.members[i];
            FUZZ_CHECK(m->key_offset > v->offset && m->key_offset < m->value.offset && data[m->key_offset] == '"',
                       "member %zu's key offset", i);
            FUZZ_CHECK(valid_utf8(m->key, m->key_len) && m->key[m->key_len] == '\0', "key is not UTF-8");
            FUZZ_CHECK(json_get_n(v, m->key, m->key_len) == &m->value, "json_get does not find member %zu", i);
            for (size_t k = 0; k < i && k < 64; k++) {
                const JsonMember *o = &v->u.members[k];
                FUZZ_CHECK(o->key_len != m->key_len || memcmp(o->key, m->key, m->key_len) != 0, "duplicate key kept");
            }
            check_value(doc, &m->value, data, size);
        }
        break;
    }
}

/* True when a and b are the same tree (offsets aside). */
static bool same_tree(const JsonValue *a, const JsonValue *b)
{
    if (a->type != b->type || a->count != b->count)
        return false;
    switch (a->type) {
    case JSON_NUMBER:
        return strcmp(a->u.number, b->u.number) == 0;
    case JSON_STRING:
        return memcmp(a->u.string, b->u.string, a->count) == 0;
    case JSON_ARRAY:
        for (size_t i = 0; i < a->count; i++)
            if (!same_tree(&a->u.items[i], &b->u.items[i]))
                return false;
        return true;
    case JSON_OBJECT:
        for (size_t i = 0; i < a->count; i++) {
            const JsonMember *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 || !same_tree(&x->value, &y->value))
                return false;
        }
        return true;
    case JSON_NULL:
    case JSON_FALSE:
    case JSON_TRUE:
        return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Error err;
    error_clear(&err);
    JsonDoc *doc = json_parse((const char *)data, size, NULL, &err);
    if (doc == NULL) {
        FUZZ_CHECK(err.status == STATUS_DATAERR, "refused with status %d: %s", err.status, err.message);
        FUZZ_CHECK(strncmp(err.message, "json:", 5) == 0, "message without the name: %s", err.message);
        FUZZ_CHECK(err.at <= size, "error at %zu past %zu bytes", err.at, size);
        for (const char *c = err.message; *c != '\0'; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in message '%s'", err.message);
        return 0;
    }
    FUZZ_CHECK(memchr(data, 0, size) == NULL, "accepted a NUL byte");
    const JsonValue *root = json_root(doc);
    check_value(doc, root, data, size);

    StrBuf out = {0};
    write_value(&out, root);
    JsonDoc *again = json_parse(strbuf_text(&out), out.len, "again", &err);
    FUZZ_CHECK(!out.failed, "out of memory writing the tree");
    FUZZ_CHECK(again != NULL, "the tree written out does not parse: %s", err.message);
    FUZZ_CHECK(same_tree(root, json_root(again)), "the tree written out parses differently");
    json_free(again);
    strbuf_free(&out);
    json_free(doc);
    return 0;
}
