/*
 * json.h - a small, strict JSON reader (RFC 8259) for the files a
 * checkpoint comes with: a tokenizer's vocab.json, a safetensors header and
 * a Hugging Face config.json.
 *
 * json_parse copies the text and builds the whole tree in one arena that
 * json_free releases at once; nothing in the tree points into the caller's
 * buffer. Every value remembers the byte offset where it starts, so a
 * reader that finds a value it does not like (a string where a number
 * belongs, an id out of range) reports it with json_error_at as
 * "NAME:LINE:COL: message", exactly as the parser reports its own errors.
 *
 * Strict means: one value, surrounded only by JSON whitespace (space, tab,
 * CR, LF); no comments, no trailing commas, no NaN or Infinity, no leading
 * zeros or '+', no byte order mark, no NUL byte anywhere, no control
 * character or invalid UTF-8 inside a string, no lone surrogate in a \u
 * escape (a pair is joined and decoded to one UTF-8 character), no
 * duplicate key in an object. Nesting is limited to LIMIT_JSON_MAX_DEPTH
 * arrays and objects, the text to LIMIT_JSON_MAX_BYTES. Every refusal is
 * STATUS_DATAERR (65); a file that cannot be read is STATUS_NOINPUT (66).
 */
#ifndef ATTN_JSON_H
#define ATTN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attn_limits.h"
#include "error.h"

typedef enum JsonType { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } JsonType;

typedef struct JsonValue JsonValue;
typedef struct JsonMember JsonMember;

/* One value of the tree. Read the fields directly; all of it lives in the
 * document's arena and is valid until json_free. */
struct JsonValue {
    JsonType type;
    size_t offset; /* byte offset of the value's first character in the text */
    size_t count;  /* string: bytes (without the NUL); array: items; object: members; else 0 */
    union {
        const char *string;        /* JSON_STRING: decoded UTF-8, NUL-terminated (a \u0000 escape puts a NUL inside:
                                use count) */
        const char *number;        /* JSON_NUMBER: the number's text as written, NUL-terminated */
        const JsonValue *items;    /* JSON_ARRAY: count values in order */
        const JsonMember *members; /* JSON_OBJECT: count members in the order written */
    } u;
    const uint32_t *index; /* JSON_OBJECT with members: hash slots (member index + 1, 0 empty) */
    size_t index_mask;     /* JSON_OBJECT: slots - 1 (slots a power of two, at least 2 x count) */
};

/* One member of an object: a key and its value. */
struct JsonMember {
    const char *key; /* decoded UTF-8, NUL-terminated; key_len bytes */
    size_t key_len;
    size_t key_offset; /* byte offset of the key's opening quote */
    JsonValue value;
};

/* A parsed document: the arena, a copy of the text and the name used in
 * messages. Opaque. */
typedef struct JsonDoc JsonDoc;

/* Parses text[0..len) (it need not be NUL-terminated) as one JSON value.
 * name (a file name, or NULL for "json") is copied and put in front of
 * every message as "name:LINE:COL: " (1-based; the column counts UTF-8
 * characters as error_locate does). Returns the document, which the caller
 * frees with json_free, or NULL with err set: STATUS_DATAERR for any text
 * that is not strict JSON (see the top of this file) and err->at the byte
 * offset of the fault, STATUS_FAILURE when memory runs out. */
JsonDoc *json_parse(const char *text, size_t len, const char *name, Error *err);

/* Reads the file at path (at most LIMIT_JSON_MAX_BYTES, checked before
 * reading) and parses it with path as the name. NULL with err set:
 * STATUS_NOINPUT "PATH: cannot read: REASON" for a file that cannot be
 * opened or read, STATUS_DATAERR for a file too large or not JSON. */
/* Reads the regular file at path whole (at most LIMIT_JSON_MAX_BYTES)
 * into a NUL-terminated buffer the caller frees, its length in *len.
 * NULL with err set: STATUS_NOINPUT when it cannot be read (or is not a
 * regular file), STATUS_DATAERR when it is too large. The tokenizer's
 * merges.txt is read through it too. */
char *json_read_bytes(const char *path, size_t *len, Error *err);

JsonDoc *json_read_file(const char *path, Error *err);

/* Frees doc and everything in it; NULL is a no-op. */
void json_free(JsonDoc *doc);

/* The top-level value of doc. */
const JsonValue *json_root(const JsonDoc *doc);

/* The name doc's messages start with. */
const char *json_name(const JsonDoc *doc);

/* The value of object's member with the key_len bytes at key, or NULL
 * when there is none or object is NULL or not an object. O(1) on average. */
const JsonValue *json_get_n(const JsonValue *object, const char *key, size_t key_len);

/* As json_get_n for a NUL-terminated key. */
const JsonValue *json_get(const JsonValue *object, const char *key);

/* "null", "false", "true", "a number", "a string", "an array", "an object":
 * for messages such as "expected an integer, found a string". */
const char *json_type_name(JsonType type);

/* Reads v as a 64-bit integer into *out. v must be a number written as an
 * integer (an optional '-' and digits: no fraction, no exponent) whose
 * value fits in int64_t exactly. Otherwise false with err set
 * (STATUS_DATAERR, at v, "name:LINE:COL: what: expected an integer, found
 * ..." or "... integer out of range"); what may be NULL. */
bool json_int64(const JsonDoc *doc, const JsonValue *v, const char *what, int64_t *out, Error *err);

/* Reads v, any number, as the nearest double into *out. Otherwise false
 * with err set as json_int64 does (a magnitude too large for a double is
 * refused too; one too small becomes 0 or a subnormal). */
bool json_double(const JsonDoc *doc, const JsonValue *v, const char *what, double *out, Error *err);

/* True when v is of type type (JSON_TRUE or JSON_FALSE: either, a
 * boolean). Otherwise false with err set
 * (STATUS_DATAERR, at v): "name:LINE:COL: what: expected T, found U". v
 * NULL (a missing member) gives "name: what: missing". */
bool json_expect(const JsonDoc *doc, const JsonValue *v, JsonType type, const char *what, Error *err);

/* Records a STATUS_DATAERR error about the byte at offset of doc's text:
 * "name:LINE:COL: " and the printf-style message. Returns false. */
bool json_error_at(const JsonDoc *doc, size_t offset, Error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
