/*
 * check_json.c - the strict JSON reader (json.c).
 *
 * Tables of texts: valid ones with what the tree must hold, invalid ones
 * with the exact "json:LINE:COL: message" each must give; the integer and
 * double readers at their edges; objects with many keys (lookup and
 * duplicates through the hash index); the shapes of the three files the
 * reader is for (a vocab.json, a safetensors header, a config.json); and
 * reading files.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "suites.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a NUL-terminated text (named "json"), failing the test on an error. */
static JsonDoc *parse_ok(const char *text)
{
    Error err;
    error_clear(&err);
    JsonDoc *doc = json_parse(text, strlen(text), NULL, &err);
    ck_assert_msg(doc != NULL, "'%s' should parse: %s", text, err.message);
    return doc;
}

/* ------------------------------------------------------------------------
 * Valid texts
 * ---------------------------------------------------------------------- */

/* A valid text and its root's type, count and (for strings and numbers)
 * bytes. */
static const struct {
    const char *text;
    JsonType type;
    size_t count;
    const char *bytes; /* decoded string, or the number's text; NULL: not checked */
    size_t offset;     /* the root's offset */
} VALID[] = {
    {"null", JSON_NULL, 0, NULL, 0},
    {" true ", JSON_TRUE, 0, NULL, 1},
    {"\t\r\nfalse", JSON_FALSE, 0, NULL, 3},
    {"0", JSON_NUMBER, 0, "0", 0},
    {"-0", JSON_NUMBER, 0, "-0", 0},
    {"12345678901234567890123", JSON_NUMBER, 0, "12345678901234567890123", 0},
    {"-1.5e-3", JSON_NUMBER, 0, "-1.5e-3", 0},
    {"1E+2", JSON_NUMBER, 0, "1E+2", 0},
    {"0.0", JSON_NUMBER, 0, "0.0", 0},
    {"\"\"", JSON_STRING, 0, "", 0},
    {"\"abc\"", JSON_STRING, 3, "abc", 0},
    {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", JSON_STRING, 8, "\"\\/\b\f\n\r\t", 0},
    {"\"\\u0041\\u00e9\\u20AC\"", JSON_STRING, 6, "A\xc3\xa9\xe2\x82\xac", 0},
    {"\"\\ud83d\\ude00\"", JSON_STRING, 4, "\xf0\x9f\x98\x80", 0}, /* U+1F600 from a surrogate pair */
    {"\"\\uDBFF\\uDFFF\"", JSON_STRING, 4, "\xf4\x8f\xbf\xbf", 0}, /* U+10FFFF */
    {"\"\\u0000x\"", JSON_STRING, 2, "\0x", 0},                    /* a NUL inside, counted */
    {"\"\xc4\xa0the \xe2\x82\xac \xf0\x9f\x98\x80\"", JSON_STRING, 14, "\xc4\xa0the \xe2\x82\xac \xf0\x9f\x98\x80", 0},
    {"\"\x7f\"", JSON_STRING, 1, "\x7f", 0}, /* DEL needs no escape */
    {"[]", JSON_ARRAY, 0, NULL, 0},
    {"[ 1 , [2, []], {\"a\": null} ]", JSON_ARRAY, 3, NULL, 0},
    {"{}", JSON_OBJECT, 0, NULL, 0},
    {"  {\"a\":1,\"b\":[true,false],\"c\":{\"d\":\"e\"}}  ", JSON_OBJECT, 3, NULL, 2},
    {"{\"\": 1}", JSON_OBJECT, 1, NULL, 0}, /* an empty key is a key */
    {"{\"a\": 1, \"A\": 2, \"\\u0061b\": 3, \"ab \": 4}", JSON_OBJECT, 4, NULL, 0},
};

START_TEST(test_valid)
{
    for (size_t i = 0; i < COUNT_OF(VALID); i++) {
        JsonDoc *doc = parse_ok(VALID[i].text);
        const JsonValue *v = json_root(doc);
        ck_assert_msg(v->type == VALID[i].type, "'%s': type %d, expected %d", VALID[i].text, v->type, VALID[i].type);
        ck_assert_msg(v->offset == VALID[i].offset, "'%s': offset %zu, expected %zu", VALID[i].text, v->offset,
                      VALID[i].offset);
        if (v->type != JSON_NUMBER)
            ck_assert_msg(v->count == VALID[i].count, "'%s': count %zu, expected %zu", VALID[i].text, v->count,
                          VALID[i].count);
        if (v->type == JSON_STRING) {
            ck_assert_msg(memcmp(v->u.string, VALID[i].bytes, v->count) == 0, "'%s': decoded bytes differ",
                          VALID[i].text);
            ck_assert(v->u.string[v->count] == '\0');
        }
        if (v->type == JSON_NUMBER)
            ck_assert_str_eq(v->u.number, VALID[i].bytes);
        json_free(doc);
    }
}
END_TEST

START_TEST(test_tree)
{
    const char *text = "{\"a\": [10, -20, 3.5],\n \"b\": {\"c\": \"x\\ny\", \"d\": null},\n \"e\": true}";
    JsonDoc *doc = parse_ok(text);
    const JsonValue *root = json_root(doc);
    ck_assert_int_eq((int)root->count, 3);
    ck_assert_str_eq(root->u.members[0].key, "a");
    ck_assert_str_eq(root->u.members[1].key, "b");
    ck_assert_str_eq(root->u.members[2].key, "e");
    ck_assert_uint_eq(root->u.members[1].key_offset, 23); /* the quote of "b" */
    const JsonValue *a = json_get(root, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->type, JSON_ARRAY);
    ck_assert_uint_eq(a->count, 3);
    ck_assert_uint_eq(a->offset, 6);
    ck_assert_uint_eq(a->u.items[1].offset, 11);
    int64_t n;
    Error err;
    error_clear(&err);
    ck_assert(json_int64(doc, &a->u.items[0], "a[0]", &n, &err) && n == 10);
    ck_assert(json_int64(doc, &a->u.items[1], "a[1]", &n, &err) && n == -20);
    double d;
    ck_assert(json_double(doc, &a->u.items[2], "a[2]", &d, &err) && d == 3.5);
    ck_assert(!json_int64(doc, &a->u.items[2], "a[2]", &n, &err));
    ck_assert_str_eq(err.message, "json:1:17: a[2]: expected an integer, found 3.5");
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    const JsonValue *b = json_get(root, "b");
    const JsonValue *c = json_get(b, "c");
    ck_assert_int_eq(c->type, JSON_STRING);
    ck_assert_str_eq(c->u.string, "x\ny");
    ck_assert_int_eq(json_get(b, "d")->type, JSON_NULL);
    ck_assert_ptr_null(json_get(b, "e"));
    ck_assert_ptr_null(json_get(root, "c"));
    ck_assert_ptr_null(json_get(a, "a")); /* not an object */
    ck_assert_ptr_null(json_get(NULL, "a"));
    ck_assert_ptr_null(json_get_n(root, "ab", 2));
    ck_assert_ptr_nonnull(json_get_n(root, "ab", 1));
    ck_assert(json_expect(doc, json_get(root, "e"), JSON_TRUE, "e", &err));
    ck_assert(json_expect(doc, json_get(root, "e"), JSON_FALSE, "e", &err));
    ck_assert(!json_expect(doc, c, JSON_OBJECT, "b.c", &err));
    ck_assert_str_eq(err.message, "json:2:13: b.c: expected an object, found a string");
    ck_assert(!json_expect(doc, json_get(root, "zz"), JSON_NUMBER, "zz", &err));
    ck_assert_str_eq(err.message, "json: zz: missing");
    ck_assert(!json_double(doc, json_get(b, "d"), "b.d", &d, &err));
    ck_assert_str_eq(err.message, "json:2:26: b.d: expected a number, found null");
    ck_assert(!json_error_at(doc, json_get(root, "e")->offset, &err, "custom %d", 7));
    ck_assert_str_eq(err.message, "json:3:7: custom 7");
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_uint_eq(err.at, 60);
    ck_assert_str_eq(json_name(doc), "json");
    json_free(doc);
    json_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------------
 * Invalid texts: the exact message, with its line and column
 * ---------------------------------------------------------------------- */

static const struct {
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *message;
} INVALID[] = {
    {"", 0, "json:1:1: expected a value, found the end of the text"},
    {"   \n  ", 0, "json:2:3: expected a value, found the end of the text"},
    {"nul", 0, "json:1:1: unknown word (expected true, false or null)"},
    {"nulls", 0, "json:1:1: unknown word (expected true, false or null)"},
    {"True", 0, "json:1:1: expected a value, found 'T'"},
    {"[1,]", 0, "json:1:4: expected a value, found ']'"},
    {"[1 2]", 0, "json:1:4: expected ',' or ']' after an array item, found '2'"},
    {"[1", 0, "json:1:3: expected ',' or ']' after an array item, found the end of the text"},
    {"{\"a\":1,}", 0, "json:1:8: expected a key (a string in double quotes), found '}'"},
    {"{a:1}", 0, "json:1:2: expected a key (a string in double quotes), found 'a'"},
    {"{'a':1}", 0, "json:1:2: expected a key (a string in double quotes), found \"'\""},
    {"{\"a\" 1}", 0, "json:1:6: expected ':' after the key, found '1'"},
    {"{\"a\":1 \"b\":2}", 0, "json:1:8: expected ',' or '}' after a member, found '\"'"},
    {"{\"a\":1", 0, "json:1:7: expected ',' or '}' after a member, found the end of the text"},
    {"{\"a\":1,\n \"b\":2,\n   \"a\":3}", 0, "json:3:4: duplicate key \"a\" (first at line 1, column 2)"},
    {"{\"\\u0061\":1, \"a\":2}", 0, "json:1:14: duplicate key \"a\" (first at line 1, column 2)"},
    {"1 2", 0, "json:1:3: '2' after the JSON value (a document holds exactly one value)"},
    {"{} x", 0, "json:1:4: 'x' after the JSON value (a document holds exactly one value)"},
    {"01", 0, "json:1:1: a number may not have leading zeros"},
    {"-01", 0, "json:1:1: a number may not have leading zeros"},
    {"+1", 0, "json:1:1: expected a value, found '+'"},
    {"-", 0, "json:1:2: a digit must follow '-'"},
    {"-a", 0, "json:1:2: a digit must follow '-'"},
    {"1.", 0, "json:1:3: a digit must follow the decimal point"},
    {".5", 0, "json:1:1: expected a value, found '.'"},
    {"1e", 0, "json:1:3: a digit must follow the exponent's 'e'"},
    {"1e+", 0, "json:1:4: a digit must follow the exponent's 'e'"},
    {"NaN", 0, "json:1:1: expected a value, found 'N'"},
    {"-Infinity", 0, "json:1:2: a digit must follow '-'"},
    {"\"abc", 0, "json:1:1: unterminated string"},
    {"[\"a\\\"]", 0, "json:1:2: unterminated string"},
    {"\"a\tb\"", 0, "json:1:3: control character U+0009 in a string (write it as an escape)"},
    {"\"a\nb\"", 0, "json:1:3: control character U+000A in a string (write it as an escape)"},
    {"\"\\x41\"", 0, "json:1:2: invalid escape: '\\' followed by 'x'"},
    {"\"\\'\"", 0, "json:1:2: invalid escape: '\\' followed by \"'\""},
    {"\"\\u12\"", 0, "json:1:2: \\u must be followed by four hexadecimal digits"},
    {"\"\\u12G4\"", 0, "json:1:2: \\u must be followed by four hexadecimal digits"},
    {"\"ab\\ud800\"", 0, "json:1:4: lone high surrogate \\uD800 (not followed by a low surrogate \\uDC00-\\uDFFF)"},
    {"\"\\ud800\\u0041\"", 0,
     "json:1:2: lone high surrogate \\uD800 (not followed by a low surrogate \\uDC00-\\uDFFF)"},
    {"\"\\ud800\\ud800\"", 0,
     "json:1:2: lone high surrogate \\uD800 (not followed by a low surrogate \\uDC00-\\uDFFF)"},
    {"\"\\ude00\"", 0, "json:1:2: lone low surrogate \\uDE00 (not after a high surrogate)"},
    {"\"\xe2\x82\xac\xff\"", 0, "json:1:3: invalid UTF-8 byte 0xff in a string"},
    {"\"\xc0\xaf\"", 0, "json:1:2: invalid UTF-8 byte 0xc0 in a string"},     /* overlong '/' */
    {"\"\xed\xa0\x80\"", 0, "json:1:2: invalid UTF-8 byte 0xed in a string"}, /* an encoded surrogate */
    {"\"\xe2\x82\"", 0, "json:1:2: invalid UTF-8 byte 0xe2 in a string"},     /* cut short */
    {"\xef\xbb\xbf{}", 0, "json:1:1: a byte order mark (JSON text must not start with one)"},
    {"[1, /* c */ 2]", 0, "json:1:5: expected a value, found '/'"},
    {"[1,\0 2]", 7, "json:1:4: a NUL byte (JSON text may not contain one)"},
    {"\"a\0b\"", 5, "json:1:3: a NUL byte (JSON text may not contain one)"},
    {"{\"\xc3\xa9\":1,\"\xc3\xa9\":\x01}", 0,
     "json:1:12: expected a value, found byte 0x01"}, /* columns count characters */
};

START_TEST(test_invalid)
{
    for (size_t i = 0; i < COUNT_OF(INVALID); i++) {
        const char *text = INVALID[i].text;
        size_t len = INVALID[i].len != 0 ? INVALID[i].len : strlen(text);
        Error err;
        error_clear(&err);
        JsonDoc *doc = json_parse(text, len, NULL, &err);
        ck_assert_msg(doc == NULL, "case %zu ('%s') should be refused", i, text);
        ck_assert_msg(err.status == STATUS_DATAERR, "case %zu: status %d", i, err.status);
        ck_assert_msg(strcmp(err.message, INVALID[i].message) == 0, "case %zu:\n  got      '%s'\n  expected '%s'", i,
                      err.message, INVALID[i].message);
    }
}
END_TEST

/* The buffer is read for len bytes only: a text that would be valid
 * longer is refused when cut, and bytes past len are never looked at. */
START_TEST(test_length_respected)
{
    Error err;
    error_clear(&err);
    const char *text = "[1, 2]garbage";
    JsonDoc *doc = json_parse(text, 6, "t.json", &err);
    ck_assert_ptr_nonnull(doc);
    ck_assert_uint_eq(json_root(doc)->count, 2);
    json_free(doc);
    ck_assert_ptr_null(json_parse(text, 5, "t.json", &err));
    ck_assert_str_eq(err.message, "t.json:1:6: expected ',' or ']' after an array item, found the end of the text");
    /* the tree does not point into the caller's buffer */
    char buf[] = "{\"key\": \"value\"}";
    doc = json_parse(buf, strlen(buf), "t.json", &err);
    memset(buf, 'x', strlen(buf));
    ck_assert_str_eq(json_get(json_root(doc), "key")->u.string, "value");
    json_free(doc);
}
END_TEST

START_TEST(test_depth_limit)
{
    char text[2 * LIMIT_JSON_MAX_DEPTH + 8];
    for (int depth = LIMIT_JSON_MAX_DEPTH; depth <= LIMIT_JSON_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            text[n++] = '[';
        for (int i = 0; i < depth; i++)
            text[n++] = ']';
        Error err;
        error_clear(&err);
        JsonDoc *doc = json_parse(text, n, NULL, &err);
        if (depth == LIMIT_JSON_MAX_DEPTH) {
            ck_assert_msg(doc != NULL, "depth %d should parse: %s", depth, err.message);
            json_free(doc);
        } else {
            ck_assert_ptr_null(doc);
            char expected[128];
            snprintf(expected, sizeof expected,
                     "json:1:%d: arrays and objects nested deeper than %d (LIMIT_JSON_MAX_DEPTH)", depth,
                     LIMIT_JSON_MAX_DEPTH);
            ck_assert_str_eq(err.message, expected);
        }
    }
    /* objects count too */
    char obj[16 * (LIMIT_JSON_MAX_DEPTH + 1) + 8];
    size_t n = 0;
    for (int i = 0; i <= LIMIT_JSON_MAX_DEPTH; i++)
        n += (size_t)sprintf(obj + n, "{\"k\":");
    Error err;
    ck_assert_ptr_null(json_parse(obj, n, NULL, &err));
    ck_assert_msg(strstr(err.message, "nested deeper than") != NULL, "%s", err.message);
}
END_TEST

START_TEST(test_size_limit)
{
    Error err;
    error_clear(&err);
    /* the length is checked before anything is read or allocated */
    ck_assert_ptr_null(json_parse("{}", (size_t)LIMIT_JSON_MAX_BYTES + 1, "big.json", &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_msg(strstr(err.message, "big.json: JSON text of") == err.message, "%s", err.message);
    ck_assert_msg(strstr(err.message, "LIMIT_JSON_MAX_BYTES") != NULL, "%s", err.message);
}
END_TEST

/* ------------------------------------------------------------------------
 * Numbers
 * ---------------------------------------------------------------------- */

static const struct {
    const char *text;
    bool ok;
    int64_t value;
    const char *message; /* when refused */
} INTEGERS[] = {
    {"0", true, 0, NULL},
    {"-0", true, 0, NULL},
    {"50256", true, 50256, NULL},
    {"9223372036854775807", true, INT64_MAX, NULL},
    {"-9223372036854775808", true, INT64_MIN, NULL},
    {"9223372036854775808", false, 0,
     "json:1:1: n: integer 9223372036854775808 is out of range (-9223372036854775808 to 9223372036854775807)"},
    {"-9223372036854775809", false, 0,
     "json:1:1: n: integer -9223372036854775809 is out of range (-9223372036854775808 to 9223372036854775807)"},
    {"18446744073709551616", false, 0,
     "json:1:1: n: integer 18446744073709551616 is out of range (-9223372036854775808 to 9223372036854775807)"},
    {"1.0", false, 0, "json:1:1: n: expected an integer, found 1.0"},
    {"1e3", false, 0, "json:1:1: n: expected an integer, found 1e3"},
    {"\"5\"", false, 0, "json:1:1: n: expected a number, found a string"},
};

START_TEST(test_int64)
{
    for (size_t i = 0; i < COUNT_OF(INTEGERS); i++) {
        JsonDoc *doc = parse_ok(INTEGERS[i].text);
        Error err;
        error_clear(&err);
        int64_t v = 12345;
        bool ok = json_int64(doc, json_root(doc), "n", &v, &err);
        ck_assert_msg(ok == INTEGERS[i].ok, "'%s': %s", INTEGERS[i].text, ok ? "accepted" : err.message);
        if (ok)
            ck_assert_msg(v == INTEGERS[i].value, "'%s': %lld", INTEGERS[i].text, (long long)v);
        else {
            ck_assert_str_eq(err.message, INTEGERS[i].message);
            ck_assert_int_eq(v, 12345);
        }
        json_free(doc);
    }
}
END_TEST

START_TEST(test_double)
{
    /* expected values written as C literals: the compiler's conversion is the reference */
    static const struct {
        const char *text;
        double value;
    } cases[] = {
        {"1e-05", 1e-05},
        {"0.02", 0.02},
        {"-2.5E+3", -2.5e3},
        {"50257", 50257.0},
        {"1e-400", 0.0},
        {"4.9e-324", 4.9e-324},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"0.1", 0.1},
        {"123456789012345678901234567890", 123456789012345678901234567890.0},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        JsonDoc *doc = parse_ok(cases[i].text);
        Error err;
        double d;
        ck_assert_msg(json_double(doc, json_root(doc), "x", &d, &err), "%s: %s", cases[i].text, err.message);
        ck_assert_msg(d == cases[i].value, "%s: %.17g, expected %.17g", cases[i].text, d, cases[i].value);
        json_free(doc);
    }
    JsonDoc *doc = parse_ok("[1e309, -1e400000]");
    Error err;
    double d;
    ck_assert(!json_double(doc, &json_root(doc)->u.items[0], "x", &d, &err));
    ck_assert_str_eq(err.message, "json:1:2: x: number 1e309 is too large for a double");
    ck_assert(!json_double(doc, &json_root(doc)->u.items[1], NULL, &d, &err));
    ck_assert_str_eq(err.message, "json:1:9: number -1e400000 is too large for a double");
    json_free(doc);
}
END_TEST

/* ------------------------------------------------------------------------
 * Many keys: the hash index
 * ---------------------------------------------------------------------- */

START_TEST(test_many_keys)
{
    enum { KEYS = 60000 };
    size_t cap = (size_t)KEYS * 24 + 16, n = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    text[n++] = '{';
    for (int i = 0; i < KEYS; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s\"k%d\":%d", i > 0 ? "," : "", i * 7, i);
    text[n++] = '}';
    Error err;
    error_clear(&err);
    JsonDoc *doc = json_parse(text, n, "vocab.json", &err);
    ck_assert_msg(doc != NULL, "%s", err.message);
    const JsonValue *root = json_root(doc);
    ck_assert_uint_eq(root->count, KEYS);
    for (int i = 0; i < KEYS; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i * 7);
        const JsonValue *v = json_get(root, key);
        ck_assert_msg(v != NULL, "%s missing", key);
        int64_t id;
        ck_assert(json_int64(doc, v, key, &id, &err));
        ck_assert_int_eq(id, i);
        snprintf(key, sizeof key, "k%d", i * 7 + 1);
        ck_assert_msg(json_get(root, key) == NULL, "%s should be absent", key);
        ck_assert_str_eq(root->u.members[i].key, i == 0 ? "k0" : root->u.members[i].key); /* order kept */
    }
    json_free(doc);

    /* a duplicate far from the first */
    n = (size_t)snprintf(text, cap, "{");
    for (int i = 0; i < KEYS; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s\"k%d\":%d", i > 0 ? "," : "", i == KEYS - 1 ? 12 : i, i);
    n += (size_t)snprintf(text + n, cap - n, "}");
    ck_assert_ptr_null(json_parse(text, n, "vocab.json", &err));
    ck_assert_msg(strstr(err.message, "duplicate key \"k12\" (first at line 1, column ") != NULL, "%s", err.message);
    free(text);
}
END_TEST

/* ------------------------------------------------------------------------
 * The three kinds of file the reader is for
 * ---------------------------------------------------------------------- */

START_TEST(test_safetensors_header)
{
    const char *text =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"wte.weight\":{\"dtype\":\"F32\",\"shape\":[50257,768],\"data_offsets\":[0,154389504]},"
        "\"h.0.ln_1.bias\":{\"dtype\":\"BF16\",\"shape\":[768],\"data_offsets\":[154389504,154391040]}}";
    JsonDoc *doc = parse_ok(text);
    const JsonValue *root = json_root(doc);
    ck_assert_str_eq(json_get(json_get(root, "__metadata__"), "format")->u.string, "pt");
    const JsonValue *t = json_get(root, "wte.weight");
    ck_assert_str_eq(json_get(t, "dtype")->u.string, "F32");
    const JsonValue *shape = json_get(t, "shape");
    Error err;
    int64_t v;
    ck_assert(json_int64(doc, &shape->u.items[0], "shape", &v, &err) && v == 50257);
    ck_assert(json_int64(doc, &shape->u.items[1], "shape", &v, &err) && v == 768);
    const JsonValue *offsets = json_get(json_get(root, "h.0.ln_1.bias"), "data_offsets");
    ck_assert(json_int64(doc, &offsets->u.items[1], "end", &v, &err) && v == 154391040);
    json_free(doc);
}
END_TEST

START_TEST(test_config)
{
    const char *text =
        "{\n  \"activation_function\": \"gelu_new\",\n  \"architectures\": [\"GPT2LMHeadModel\"],\n"
        "  \"layer_norm_epsilon\": 1e-05,\n  \"n_embd\": 768,\n  \"n_head\": 12,\n"
        "  \"scale_attn_weights\": true,\n  \"summary_activation\": null,\n"
        "  \"task_specific_params\": {\"text-generation\": {\"do_sample\": true, \"max_length\": 50}}\n}\n";
    JsonDoc *doc = parse_ok(text);
    const JsonValue *root = json_root(doc);
    Error err;
    double eps;
    ck_assert(json_double(doc, json_get(root, "layer_norm_epsilon"), "layer_norm_epsilon", &eps, &err));
    ck_assert(eps == 1e-05);
    int64_t n;
    ck_assert(json_int64(doc, json_get(root, "n_embd"), "n_embd", &n, &err) && n == 768);
    ck_assert(!json_int64(doc, json_get(root, "activation_function"), "activation_function", &n, &err));
    ck_assert_str_eq(err.message, "json:2:26: activation_function: expected a number, found a string");
    ck_assert_int_eq(json_get(root, "scale_attn_weights")->type, JSON_TRUE);
    ck_assert_int_eq(json_get(root, "summary_activation")->type, JSON_NULL);
    ck_assert_str_eq(json_get(root, "architectures")->u.items[0].u.string, "GPT2LMHeadModel");
    const JsonValue *gen = json_get(json_get(root, "task_specific_params"), "text-generation");
    ck_assert(json_int64(doc, json_get(gen, "max_length"), "max_length", &n, &err) && n == 50);
    json_free(doc);
}
END_TEST

/* ------------------------------------------------------------------------
 * Files
 * ---------------------------------------------------------------------- */

START_TEST(test_read_file)
{
    char path[] = "/tmp/attn-json-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "{\"a\": 1,\n \"b\": [2, 3,]}";
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    Error err;
    error_clear(&err);
    ck_assert_ptr_null(json_read_file(path, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    char expected[128];
    snprintf(expected, sizeof expected, "%s:2:13: expected a value, found ']'", path);
    ck_assert_str_eq(err.message, expected);
    FILE *f = fopen(path, "w");
    fputs("[\"ok\"]\n", f);
    fclose(f);
    JsonDoc *doc = json_read_file(path, &err);
    ck_assert_msg(doc != NULL, "%s", err.message);
    ck_assert_str_eq(json_root(doc)->u.items[0].u.string, "ok");
    ck_assert_str_eq(json_name(doc), path);
    json_free(doc);
    unlink(path);
    ck_assert_ptr_null(json_read_file(path, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    snprintf(expected, sizeof expected, "%s: cannot read: No such file or directory", path);
    ck_assert_str_eq(err.message, expected);
    ck_assert_ptr_null(json_read_file("/tmp", &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_str_eq(err.message, "/tmp: cannot read: it is a directory");
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_valid);
    tcase_add_test(tc, test_tree);
    tcase_add_test(tc, test_invalid);
    tcase_add_test(tc, test_length_respected);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_size_limit);
    tcase_add_test(tc, test_int64);
    tcase_add_test(tc, test_double);
    tcase_add_test(tc, test_many_keys);
    tcase_add_test(tc, test_safetensors_header);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_read_file);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
