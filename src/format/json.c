/*
 * json.c - the strict JSON reader (see json.h).
 *
 * A recursive-descent parser over a NUL-terminated copy of the text. The
 * members and items of the containers being read wait on one scratch
 * stack; when a container closes, its entries are copied into the arena as
 * one contiguous array and popped, so the tree ends up in the arena alone
 * and the scratch stack is freed with the parse. An object also gets a
 * hash index (open addressing) that finds duplicate keys as it is built
 * and answers json_get afterwards.
 */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "utf8.h"

/* ------------------------------------------------------------------------
 * The arena: blocks of memory handed out in order, freed together.
 * ---------------------------------------------------------------------- */

typedef struct ArenaBlock {
    struct ArenaBlock *next;
    size_t size, used; /* bytes of data[] in all, and handed out */
    max_align_t data[];
} ArenaBlock;

struct JsonDoc {
    ArenaBlock *blocks; /* newest first */
    size_t next_block;  /* size of the next block to allocate */
    char *text;         /* the copied text, NUL-terminated */
    size_t len;         /* its length */
    char *name;         /* for messages */
    JsonValue root;
};

/* size bytes from doc's arena, aligned for any type, or NULL when memory
 * runs out. */
static void *arena_alloc(JsonDoc *doc, size_t size)
{
    size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    ArenaBlock *b = doc->blocks;
    if (b == NULL || b->size - b->used < size) {
        size_t want = doc->next_block > size ? doc->next_block : size;
        b = malloc(sizeof *b + want);
        if (b == NULL)
            return NULL;
        b->size = want;
        b->used = 0;
        b->next = doc->blocks;
        doc->blocks = b;
        if (doc->next_block < ((size_t)1 << 24))
            doc->next_block *= 2;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

void json_free(JsonDoc *doc)
{
    if (doc == NULL)
        return;
    ArenaBlock *b = doc->blocks;
    while (b != NULL) {
        ArenaBlock *next = b->next;
        free(b);
        b = next;
    }
    free(doc);
}

/* ------------------------------------------------------------------------
 * Messages
 * ---------------------------------------------------------------------- */

static bool doc_verror(const JsonDoc *doc, Error *err, size_t offset, const char *fmt, va_list ap)
{
    if (err == NULL)
        return false;
    char message[ERROR_MESSAGE_BYTES];
    vsnprintf(message, sizeof message, fmt, ap);
    error_set_at(err, STATUS_DATAERR, offset > doc->len ? doc->len : offset, "%s", message);
    error_locate(err, doc->text, doc->name, true);
    return false;
}

bool json_error_at(const JsonDoc *doc, size_t offset, Error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    doc_verror(doc, err, offset, fmt, ap);
    va_end(ap);
    return false;
}

const char *json_type_name(JsonType type)
{
    switch (type) {
    case JSON_NULL:
        return "null";
    case JSON_FALSE:
        return "false";
    case JSON_TRUE:
        return "true";
    case JSON_NUMBER:
        return "a number";
    case JSON_STRING:
        return "a string";
    case JSON_ARRAY:
        return "an array";
    case JSON_OBJECT:
        return "an object";
    }
    return "?";
}

/* The byte at s described for a message: 'x' for printable ASCII, else
 * its hexadecimal value. buf needs 16 bytes. */
static const char *describe_byte(const char *s, char *buf)
{
    unsigned char c = (unsigned char)*s;
    if (c == '\0')
        return "the end of the text";
    if (c > 0x20 && c < 0x7f && c != '\'')
        snprintf(buf, 16, "'%c'", c);
    else if (c == ' ' || c == '\'')
        snprintf(buf, 16, "%s", c == ' ' ? "a space" : "\"'\"");
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

/* ------------------------------------------------------------------------
 * The parser
 * ---------------------------------------------------------------------- */

typedef struct Parser {
    JsonDoc *doc;
    const char *text;  /* doc->text */
    size_t pos;        /* next byte to read */
    JsonMember *stack; /* containers' entries waiting to be copied */
    size_t top, cap;   /* entries in use, room */
    Error *err;
} Parser;

static bool fail(Parser *p, size_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static bool fail(Parser *p, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    doc_verror(p->doc, p->err, offset, fmt, ap);
    va_end(ap);
    return false;
}

static bool oom(Parser *p)
{
    return error_oom(p->err, "a JSON tree");
}

static void skip_space(Parser *p)
{
    for (;;) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->pos++;
    }
}

/* Pushes an empty entry on the scratch stack; NULL when memory runs out. */
static JsonMember *push(Parser *p)
{
    if (p->top == p->cap) {
        size_t cap = p->cap == 0 ? 256 : p->cap * 2;
        JsonMember *bigger = realloc(p->stack, cap * sizeof *bigger);
        if (bigger == NULL)
            return NULL;
        p->stack = bigger;
        p->cap = cap;
    }
    JsonMember *m = &p->stack[p->top++];
    memset(m, 0, sizeof *m);
    return m;
}

static bool parse_value(Parser *p, JsonValue *out, int depth);

/* Four hex digits at s into *v; false when they are not all hex. */
static bool hex4(const char *s, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return false;
        x = x * 16 + (uint32_t)d;
    }
    *v = x;
    return true;
}

/* Parses the string whose opening quote is at p->pos into the arena:
 * *out the decoded bytes (NUL-terminated), *out_len their count. */
static bool parse_string(Parser *p, const char **out, size_t *out_len)
{
    size_t start = p->pos;
    const char *t = p->text;
    /* 1. find the closing quote, so the decoded bytes (never more than
     * the written ones) get one allocation */
    size_t end = start + 1;
    while (t[end] != '"') {
        if (t[end] == '\0')
            return fail(p, start, "unterminated string");
        if (t[end] == '\\' && t[end + 1] != '\0')
            end++;
        end++;
    }
    char *buf = arena_alloc(p->doc, end - start);
    if (buf == NULL)
        return oom(p);

    /* 2. decode, checking every character */
    size_t n = 0, i = start + 1;
    while (i < end) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20)
            return fail(p, i, "control character U+%04X in a string (write it as an escape)", c);
        if (c >= 0x80) {
            uint32_t cp;
            int len = utf8_decode(t + i, &cp);
            if (len == 0)
                return fail(p, i, "invalid UTF-8 byte 0x%02x in a string", c);
            memcpy(buf + n, t + i, (size_t)len);
            n += (size_t)len;
            i += (size_t)len;
            continue;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            i++;
            continue;
        }
        char e = t[i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple != NULL) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            buf[n++] = decoded[simple - "\"\\/bfnrt"];
            i += 2;
            continue;
        }
        if (e != 'u') {
            char what[16];
            return fail(p, i, "invalid escape: '\\' followed by %s", describe_byte(t + i + 1, what));
        }
        uint32_t cp;
        if (!hex4(t + i + 2, &cp))
            return fail(p, i, "\\u must be followed by four hexadecimal digits");
        size_t esc = i;
        i += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return fail(p, esc, "lone low surrogate \\u%04X (not after a high surrogate)", cp);
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low;
            if (t[i] != '\\' || t[i + 1] != 'u' || !hex4(t + i + 2, &low) || low < 0xdc00 || low > 0xdfff)
                return fail(p, esc, "lone high surrogate \\u%04X (not followed by a low surrogate \\uDC00-\\uDFFF)",
                            cp);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
        }
        char enc[5];
        int len = utf8_encode(cp, enc);
        memcpy(buf + n, enc, (size_t)len);
        n += (size_t)len;
    }
    buf[n] = '\0';
    p->pos = end + 1;
    *out = buf;
    *out_len = n;
    return true;
}

/* Parses the number at p->pos (strict JSON grammar) into out. */
static bool parse_number(Parser *p, JsonValue *out)
{
    const char *t = p->text;
    size_t start = p->pos, i = start;
    if (t[i] == '-')
        i++;
    if (t[i] == '0') {
        i++;
        if (t[i] >= '0' && t[i] <= '9')
            return fail(p, start, "a number may not have leading zeros");
    } else if (t[i] >= '1' && t[i] <= '9') {
        while (t[i] >= '0' && t[i] <= '9')
            i++;
    } else {
        return fail(p, i, "a digit must follow '-'");
    }
    if (t[i] == '.') {
        i++;
        if (!(t[i] >= '0' && t[i] <= '9'))
            return fail(p, i, "a digit must follow the decimal point");
        while (t[i] >= '0' && t[i] <= '9')
            i++;
    }
    if (t[i] == 'e' || t[i] == 'E') {
        i++;
        if (t[i] == '+' || t[i] == '-')
            i++;
        if (!(t[i] >= '0' && t[i] <= '9'))
            return fail(p, i, "a digit must follow the exponent's 'e'");
        while (t[i] >= '0' && t[i] <= '9')
            i++;
    }
    char *copy = arena_alloc(p->doc, i - start + 1);
    if (copy == NULL)
        return oom(p);
    memcpy(copy, t + start, i - start);
    copy[i - start] = '\0';
    out->type = JSON_NUMBER;
    out->u.number = copy;
    p->pos = i;
    return true;
}

/* FNV-1a over the key's bytes. */
static uint32_t key_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

/* The 1-based line and column (in characters, as error_locate counts
 * them) of byte at in text. */
static void line_col(const char *text, size_t at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at && text[i] != '\0'; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

/* Copies the count entries above base on the stack into out (an object),
 * with its index; refuses a duplicate key. */
static bool close_object(Parser *p, size_t base, JsonValue *out)
{
    size_t count = p->top - base;
    out->type = JSON_OBJECT;
    out->count = count;
    if (count == 0) {
        out->u.members = NULL;
        return true;
    }
    JsonMember *members = arena_alloc(p->doc, count * sizeof *members);
    size_t slots = 4;
    while (slots < 2 * count)
        slots *= 2;
    uint32_t *index = arena_alloc(p->doc, slots * sizeof *index);
    if (members == NULL || index == NULL)
        return oom(p);
    memcpy(members, p->stack + base, count * sizeof *members);
    memset(index, 0, slots * sizeof *index);
    size_t mask = slots - 1;
    for (size_t k = 0; k < count; k++) {
        const JsonMember *m = &members[k];
        size_t s = key_hash(m->key, m->key_len) & mask;
        while (index[s] != 0) {
            const JsonMember *other = &members[index[s] - 1];
            if (other->key_len == m->key_len && memcmp(other->key, m->key, m->key_len) == 0) {
                size_t line, col;
                line_col(p->text, other->key_offset, &line, &col);
                return fail(p, m->key_offset, "duplicate key \"%.64s\" (first at line %zu, column %zu)", m->key, line,
                            col);
            }
            s = (s + 1) & mask;
        }
        index[s] = (uint32_t)(k + 1);
    }
    out->u.members = members;
    out->index = index;
    out->index_mask = mask;
    p->top = base;
    return true;
}

/* Copies the count entries above base on the stack into out (an array). */
static bool close_array(Parser *p, size_t base, JsonValue *out)
{
    size_t count = p->top - base;
    out->type = JSON_ARRAY;
    out->count = count;
    out->u.items = NULL;
    if (count > 0) {
        JsonValue *items = arena_alloc(p->doc, count * sizeof *items);
        if (items == NULL)
            return oom(p);
        for (size_t k = 0; k < count; k++)
            items[k] = p->stack[base + k].value;
        out->u.items = items;
    }
    p->top = base;
    return true;
}

/* Parses the object whose '{' is at p->pos. */
static bool parse_object(Parser *p, JsonValue *out, int depth)
{
    size_t base = p->top;
    p->pos++;
    skip_space(p);
    if (p->text[p->pos] == '}') {
        p->pos++;
        return close_object(p, base, out);
    }
    for (;;) {
        char what[16];
        if (p->text[p->pos] != '"')
            return fail(p, p->pos, "expected a key (a string in double quotes), found %s",
                        describe_byte(p->text + p->pos, what));
        JsonMember *m = push(p);
        if (m == NULL)
            return oom(p);
        size_t slot = p->top - 1; /* the stack may move while the value is parsed */
        const char *key;
        size_t key_len, key_offset = p->pos;
        if (!parse_string(p, &key, &key_len))
            return false;
        skip_space(p);
        if (p->text[p->pos] != ':')
            return fail(p, p->pos, "expected ':' after the key, found %s", describe_byte(p->text + p->pos, what));
        p->pos++;
        skip_space(p);
        JsonValue value;
        if (!parse_value(p, &value, depth))
            return false;
        m = &p->stack[slot];
        m->key = key;
        m->key_len = key_len;
        m->key_offset = key_offset;
        m->value = value;
        skip_space(p);
        char c = p->text[p->pos];
        if (c == '}') {
            p->pos++;
            return close_object(p, base, out);
        }
        if (c != ',')
            return fail(p, p->pos, "expected ',' or '}' after a member, found %s",
                        describe_byte(p->text + p->pos, what));
        p->pos++;
        skip_space(p);
    }
}

/* Parses the array whose '[' is at p->pos. */
static bool parse_array(Parser *p, JsonValue *out, int depth)
{
    size_t base = p->top;
    p->pos++;
    skip_space(p);
    if (p->text[p->pos] == ']') {
        p->pos++;
        return close_array(p, base, out);
    }
    for (;;) {
        if (push(p) == NULL)
            return oom(p);
        size_t slot = p->top - 1;
        JsonValue value;
        if (!parse_value(p, &value, depth))
            return false;
        p->stack[slot].value = value;
        skip_space(p);
        char c = p->text[p->pos];
        if (c == ']') {
            p->pos++;
            return close_array(p, base, out);
        }
        if (c != ',') {
            char what[16];
            return fail(p, p->pos, "expected ',' or ']' after an array item, found %s",
                        describe_byte(p->text + p->pos, what));
        }
        p->pos++;
        skip_space(p);
    }
}

/* Parses the value at p->pos (no whitespace before it) into out; depth is
 * the number of containers around it. */
static bool parse_value(Parser *p, JsonValue *out, int depth)
{
    memset(out, 0, sizeof *out);
    out->offset = p->pos;
    const char *s = p->text + p->pos;
    switch (*s) {
    case '{':
    case '[':
        if (depth >= LIMIT_JSON_MAX_DEPTH)
            return fail(p, p->pos, "arrays and objects nested deeper than %d (LIMIT_JSON_MAX_DEPTH)",
                        LIMIT_JSON_MAX_DEPTH);
        return *s == '{' ? parse_object(p, out, depth + 1) : parse_array(p, out, depth + 1);
    case '"': {
        const char *str;
        size_t len;
        if (!parse_string(p, &str, &len))
            return false;
        out->type = JSON_STRING;
        out->u.string = str;
        out->count = len;
        return true;
    }
    case 't':
    case 'f':
    case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        static const JsonType types[] = {JSON_TRUE, JSON_FALSE, JSON_NULL};
        int w = *s == 't' ? 0 : *s == 'f' ? 1 : 2;
        size_t n = strlen(words[w]);
        char next = s[n];
        if (strncmp(s, words[w], n) != 0 || (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
            (next >= '0' && next <= '9') || next == '_')
            return fail(p, p->pos, "unknown word (expected true, false or null)");
        out->type = types[w];
        p->pos += n;
        return true;
    }
    default:
        if (*s == '-' || (*s >= '0' && *s <= '9'))
            return parse_number(p, out);
        break;
    }
    char what[16];
    if ((unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb && (unsigned char)s[2] == 0xbf)
        return fail(p, p->pos, "a byte order mark (JSON text must not start with one)");
    return fail(p, p->pos, "expected a value, found %s", describe_byte(s, what));
}

JsonDoc *json_parse(const char *text, size_t len, const char *name, Error *err)
{
    if (name == NULL)
        name = "json";
    if (len > LIMIT_JSON_MAX_BYTES) {
        error_set(err, STATUS_DATAERR, "%s: JSON text of %zu bytes is larger than %d bytes (LIMIT_JSON_MAX_BYTES)",
                  name, len, LIMIT_JSON_MAX_BYTES);
        return NULL;
    }
    JsonDoc *doc = calloc(1, sizeof *doc);
    if (doc == NULL) {
        error_oom(err, "a JSON document");
        return NULL;
    }
    /* a first block sized for the typical tree: about twice the text */
    doc->next_block = len < 4096 ? 8192 : 2 * len;
    size_t name_len = strlen(name);
    doc->text = arena_alloc(doc, len + 1);
    doc->name = doc->text != NULL ? arena_alloc(doc, name_len + 1) : NULL;
    if (doc->name == NULL) {
        json_free(doc);
        error_oom(err, "a JSON document");
        return NULL;
    }
    memcpy(doc->text, text, len);
    doc->text[len] = '\0';
    memcpy(doc->name, name, name_len + 1);
    doc->len = len;

    Parser p = {doc, doc->text, 0, NULL, 0, 0, err};
    const char *nul = memchr(text, '\0', len);
    bool ok;
    if (nul != NULL) {
        ok = fail(&p, (size_t)(nul - text), "a NUL byte (JSON text may not contain one)");
    } else {
        skip_space(&p);
        ok = parse_value(&p, &doc->root, 0);
        if (ok) {
            skip_space(&p);
            if (p.pos < len) {
                char what[16];
                ok = fail(&p, p.pos, "%s after the JSON value (a document holds exactly one value)",
                          describe_byte(p.text + p.pos, what));
            }
        }
    }
    free(p.stack);
    if (!ok) {
        json_free(doc);
        return NULL;
    }
    return doc;
}

char *json_read_bytes(const char *path, size_t *len, Error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path, strerror(e));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path,
                  S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
        return NULL;
    }
    if ((unsigned long long)st.st_size > LIMIT_JSON_MAX_BYTES) {
        fclose(f);
        error_set(err, STATUS_DATAERR, "%s: file of %lld bytes is larger than %d bytes (LIMIT_JSON_MAX_BYTES)", path,
                  (long long)st.st_size, LIMIT_JSON_MAX_BYTES);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (buf == NULL) {
        fclose(f);
        error_oom(err, path);
        return NULL;
    }
    size_t got = fread(buf, 1, size + 1, f);
    bool bad = ferror(f) != 0;
    int e = errno;
    fclose(f);
    if (bad || got != size) {
        free(buf);
        error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path, bad ? strerror(e) : "the file changed size");
        return NULL;
    }
    buf[size] = '\0';
    *len = size;
    return buf;
}

JsonDoc *json_read_file(const char *path, Error *err)
{
    size_t size = 0;
    char *buf = json_read_bytes(path, &size, err);
    if (buf == NULL)
        return NULL;
    JsonDoc *doc = json_parse(buf, size, path, err);
    free(buf);
    return doc;
}

/* ------------------------------------------------------------------------
 * Reading the tree
 * ---------------------------------------------------------------------- */

const JsonValue *json_root(const JsonDoc *doc)
{
    return &doc->root;
}

const char *json_name(const JsonDoc *doc)
{
    return doc->name;
}

const JsonValue *json_get_n(const JsonValue *object, const char *key, size_t key_len)
{
    if (object == NULL || object->type != JSON_OBJECT || object->count == 0)
        return NULL;
    size_t s = key_hash(key, key_len) & object->index_mask;
    while (object->index[s] != 0) {
        const JsonMember *m = &object->u.members[object->index[s] - 1];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return &m->value;
        s = (s + 1) & object->index_mask;
    }
    return NULL;
}

const JsonValue *json_get(const JsonValue *object, const char *key)
{
    return json_get_n(object, key, strlen(key));
}

/* "what: " or "" for messages. */
static const char *what_prefix(const char *what, char *buf, size_t size)
{
    if (what == NULL || what[0] == '\0')
        return "";
    snprintf(buf, size, "%s: ", what);
    return buf;
}

bool json_expect(const JsonDoc *doc, const JsonValue *v, JsonType type, const char *what, Error *err)
{
    char prefix[160];
    if (v == NULL) {
        error_set(err, STATUS_DATAERR, "%s: %s: missing", doc->name, what != NULL ? what : "value");
        return false;
    }
    if (v->type == type || (type == JSON_TRUE && v->type == JSON_FALSE) || (type == JSON_FALSE && v->type == JSON_TRUE))
        return true;
    const char *expected = type == JSON_TRUE || type == JSON_FALSE ? "true or false" : json_type_name(type);
    return json_error_at(doc, v->offset, err, "%sexpected %s, found %s", what_prefix(what, prefix, sizeof prefix),
                         expected, json_type_name(v->type));
}

bool json_int64(const JsonDoc *doc, const JsonValue *v, const char *what, int64_t *out, Error *err)
{
    char prefix[160];
    if (v == NULL || v->type != JSON_NUMBER)
        return json_expect(doc, v, JSON_NUMBER, what, err) &&
               json_error_at(doc, v->offset, err, "%sexpected an integer", what_prefix(what, prefix, sizeof prefix));
    const char *s = v->u.number;
    if (strpbrk(s, ".eE") != NULL)
        return json_error_at(doc, v->offset, err, "%sexpected an integer, found %.40s",
                             what_prefix(what, prefix, sizeof prefix), s);
    bool negative = *s == '-';
    if (negative)
        s++;
    /* accumulate as a negative number: INT64_MIN has no positive twin */
    int64_t value = 0;
    for (; *s != '\0'; s++) {
        int d = *s - '0';
        if (value < (INT64_MIN + d) / 10)
            return json_error_at(doc, v->offset, err, "%sinteger %.40s%s is out of range (%lld to %lld)",
                                 what_prefix(what, prefix, sizeof prefix), v->u.number,
                                 strlen(v->u.number) > 40 ? "..." : "", (long long)INT64_MIN, (long long)INT64_MAX);
        value = value * 10 - d;
    }
    if (!negative) {
        if (value == INT64_MIN)
            return json_error_at(doc, v->offset, err, "%sinteger %s is out of range (%lld to %lld)",
                                 what_prefix(what, prefix, sizeof prefix), v->u.number, (long long)INT64_MIN,
                                 (long long)INT64_MAX);
        value = -value;
    }
    *out = value;
    return true;
}

bool json_double(const JsonDoc *doc, const JsonValue *v, const char *what, double *out, Error *err)
{
    char prefix[160];
    if (!json_expect(doc, v, JSON_NUMBER, what, err))
        return false;
    errno = 0;
    double d = strtod(v->u.number, NULL);
    if (isinf(d))
        return json_error_at(doc, v->offset, err, "%snumber %.40s%s is too large for a double",
                             what_prefix(what, prefix, sizeof prefix), v->u.number,
                             strlen(v->u.number) > 40 ? "..." : "");
    *out = d;
    return true;
}
