/*
 * safetensors.c - reading .safetensors files (see safetensors.h).
 *
 * Opening is three passes, each done before the next one looks at
 * anything: (1) the 8-byte length against the file's size and the limit,
 * (2) the JSON header, entry by entry, into a table of SafeTensors whose
 * sizes are all checked with overflow-free arithmetic, (3) the table sorted
 * by data offset to prove the entries tile the data section, then by name
 * for lookups. Only then is a pointer into the data section formed.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* madvise, beside POSIX mmap */
#endif
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

/* ------------------------------------------------------------------------
 * Dtypes
 * ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    size_t size;
} DTYPES[SAFE_DTYPE_COUNT] = {
    [SAFE_F32] = {"F32", 4},   [SAFE_F16] = {"F16", 2},         [SAFE_BF16] = {"BF16", 2},
    [SAFE_F64] = {"F64", 8},   [SAFE_I64] = {"I64", 8},         [SAFE_U64] = {"U64", 8},
    [SAFE_I32] = {"I32", 4},   [SAFE_U32] = {"U32", 4},         [SAFE_I16] = {"I16", 2},
    [SAFE_U16] = {"U16", 2},   [SAFE_I8] = {"I8", 1},           [SAFE_U8] = {"U8", 1},
    [SAFE_BOOL] = {"BOOL", 1}, [SAFE_F8_E4M3] = {"F8_E4M3", 1}, [SAFE_F8_E5M2] = {"F8_E5M2", 1},
};

const char *safetensors_dtype_name(SafeDtype dtype)
{
    return (unsigned)dtype < SAFE_DTYPE_COUNT ? DTYPES[dtype].name : "?";
}

size_t safetensors_dtype_size(SafeDtype dtype)
{
    return (unsigned)dtype < SAFE_DTYPE_COUNT ? DTYPES[dtype].size : 0;
}

/* The dtype called name (len bytes), or SAFE_DTYPE_COUNT. */
static SafeDtype dtype_from_name(const char *name, size_t len)
{
    for (int i = 0; i < SAFE_DTYPE_COUNT; i++)
        if (strlen(DTYPES[i].name) == len && memcmp(DTYPES[i].name, name, len) == 0)
            return (SafeDtype)i;
    return SAFE_DTYPE_COUNT;
}

/* ------------------------------------------------------------------------
 * The header
 * ---------------------------------------------------------------------- */

static uint64_t read_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads v (a member of entry `name`) as a non-negative integer. */
static bool read_count(const JsonDoc *doc, const JsonValue *v, const char *what, uint64_t *out, Error *err)
{
    int64_t n;
    if (!json_int64(doc, v, what, &n, err))
        return false;
    if (n < 0)
        return json_error_at(doc, v->offset, err, "%s: %lld is negative", what, (long long)n);
    *out = (uint64_t)n;
    return true;
}

/* Fills t from the header entry `member` (its name already checked and
 * copied into t->name): dtype, shape, data_offsets, with every size
 * checked. */
static bool read_entry(const JsonDoc *doc, const JsonMember *member, SafeTensor *t, Error *err)
{
    const JsonValue *entry = &member->value;
    char what[96];
    snprintf(what, sizeof what, "tensor %.60s", member->key);
    if (!json_expect(doc, entry, JSON_OBJECT, what, err))
        return false;

    /* dtype: one of the format's names */
    const JsonValue *dtype = json_get(entry, "dtype");
    snprintf(what, sizeof what, "tensor %.60s: dtype", member->key);
    if (dtype == NULL)
        return json_error_at(doc, entry->offset, err, "%s: missing", what);
    if (!json_expect(doc, dtype, JSON_STRING, what, err))
        return false;
    t->dtype = dtype_from_name(dtype->u.string, dtype->count);
    if (t->dtype == SAFE_DTYPE_COUNT)
        return json_error_at(doc, dtype->offset, err,
                             "%s: unknown dtype '%.16s' (the format's are F32, F16, BF16, F64, I64, ...)", what,
                             dtype->u.string);
    size_t elem = DTYPES[t->dtype].size;

    /* shape: at most LIMIT_SAFETENSORS_MAX_RANK sizes, product without overflow */
    const JsonValue *shape = json_get(entry, "shape");
    snprintf(what, sizeof what, "tensor %.60s: shape", member->key);
    if (shape == NULL)
        return json_error_at(doc, entry->offset, err, "%s: missing", what);
    if (!json_expect(doc, shape, JSON_ARRAY, what, err))
        return false;
    if (shape->count > LIMIT_SAFETENSORS_MAX_RANK)
        return json_error_at(doc, shape->offset, err, "%s: %zu dimensions, more than LIMIT_SAFETENSORS_MAX_RANK (%d)",
                             what, shape->count, LIMIT_SAFETENSORS_MAX_RANK);
    t->rank = (int)shape->count;
    t->count = 1;
    bool zero = false;
    for (int i = 0; i < LIMIT_SAFETENSORS_MAX_RANK; i++)
        t->shape[i] = 1;
    for (int i = 0; i < t->rank; i++) {
        if (!read_count(doc, &shape->u.items[i], what, &t->shape[i], err))
            return false;
        if (t->shape[i] == 0)
            zero = true;
        else if (!zero && t->count > UINT64_MAX / elem / t->shape[i])
            return json_error_at(doc, shape->offset, err, "%s: the element count overflows", what);
        else if (!zero)
            t->count *= t->shape[i];
    }
    if (zero)
        t->count = 0;

    /* data_offsets: [BEGIN, END], BEGIN <= END, END - BEGIN = count * size */
    const JsonValue *offsets = json_get(entry, "data_offsets");
    snprintf(what, sizeof what, "tensor %.60s: data_offsets", member->key);
    if (offsets == NULL)
        return json_error_at(doc, entry->offset, err, "%s: missing", what);
    if (!json_expect(doc, offsets, JSON_ARRAY, what, err))
        return false;
    if (offsets->count != 2)
        return json_error_at(doc, offsets->offset, err, "%s: %zu numbers, expected [BEGIN, END]", what, offsets->count);
    if (!read_count(doc, &offsets->u.items[0], what, &t->begin, err) ||
        !read_count(doc, &offsets->u.items[1], what, &t->end, err))
        return false;
    if (t->begin > t->end)
        return json_error_at(doc, offsets->offset, err, "%s: begin %llu is after end %llu", what,
                             (unsigned long long)t->begin, (unsigned long long)t->end);
    uint64_t bytes = t->count * elem;
    if (t->end - t->begin != bytes)
        return json_error_at(doc, offsets->offset, err,
                             "%s: %llu bytes, but the shape and dtype %s need %llu (%llu values of %zu bytes)", what,
                             (unsigned long long)(t->end - t->begin), DTYPES[t->dtype].name, (unsigned long long)bytes,
                             (unsigned long long)t->count, elem);
    return true;
}

static int by_begin(const void *a, const void *b)
{
    const SafeTensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const SafeTensor *)a)->name, ((const SafeTensor *)b)->name);
}

/* Checks that the tensors (sorted by begin) tile the data section. */
static bool check_tiling(const SafeTensors *st, Error *err)
{
    uint64_t at = 0;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const SafeTensor *t = &st->tensors[i];
        if (t->end > st->data_bytes)
            return error_set(err, STATUS_DATAERR,
                             "%s: tensor %.60s: data_offsets [%llu, %llu] run past the data section (%llu bytes; "
                             "the file is cut short?)",
                             st->name, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                             (unsigned long long)st->data_bytes);
        if (t->begin < at)
            return error_set(err, STATUS_DATAERR, "%s: tensor %.60s: data_offsets [%llu, %llu] overlap tensor %.60s",
                             st->name, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                             st->tensors[i - 1].name);
        if (t->begin > at)
            return error_set(err, STATUS_DATAERR,
                             "%s: tensor %.60s: data_offsets [%llu, %llu] leave bytes %llu..%llu of the data section "
                             "unused",
                             st->name, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                             (unsigned long long)at, (unsigned long long)t->begin);
        at = t->end;
    }
    if (at != st->data_bytes)
        return error_set(err, STATUS_DATAERR,
                         "%s: the tensors end at byte %llu of the data section, but it has %llu bytes", st->name,
                         (unsigned long long)at, (unsigned long long)st->data_bytes);
    return true;
}

/* Pass 1 of the header: checks the 8-byte header length against the file's
 * len bytes and the limits, and sets st's header_bytes, data and
 * data_bytes. False with err set when the length or the first header byte
 * is wrong. */
static bool header_length(SafeTensors *st, size_t len, Error *err)
{
    if (len < 8)
        return error_set(err, STATUS_DATAERR,
                         "%s: truncated: %zu bytes, but a safetensors file starts with an 8-byte header length",
                         st->name, len);
    uint64_t n = read_le64(st->bytes);
    if (n < 2)
        return error_set(err, STATUS_DATAERR, "%s: header length %llu is too short for a JSON object", st->name,
                         (unsigned long long)n);
    if (n > LIMIT_SAFETENSORS_HEADER_BYTES)
        return error_set(err, STATUS_DATAERR,
                         "%s: header length %llu is more than LIMIT_SAFETENSORS_HEADER_BYTES (%d): not a "
                         "safetensors file?",
                         st->name, (unsigned long long)n, LIMIT_SAFETENSORS_HEADER_BYTES);
    if (n > len - 8)
        return error_set(err, STATUS_DATAERR,
                         "%s: truncated: the header of %llu bytes runs past the end of the file (%zu bytes)", st->name,
                         (unsigned long long)n, len);
    st->header_bytes = n;
    st->data = st->bytes + 8 + n;
    st->data_bytes = len - 8 - n;
    if (st->bytes[8] != '{')
        return error_set(err, STATUS_DATAERR, "%s: the header does not start with '{': not a safetensors file",
                         st->name);
    return true;
}

/* Pass 2a: walks the header object root, checking __metadata__ is an
 * object and every other key a non-empty name without NUL, and counts the
 * tensors and the bytes their names need (each with its NUL). False with
 * err set otherwise, or when the tensors are more than the limit. */
static bool header_count(const SafeTensors *st, const JsonDoc *doc, const JsonValue *root, size_t *n_tensors,
                         size_t *name_bytes, Error *err)
{
    *n_tensors = 0;
    *name_bytes = 0;
    for (size_t i = 0; i < root->count; i++) {
        const JsonMember *m = &root->u.members[i];
        if (strcmp(m->key, "__metadata__") == 0 && m->key_len == strlen("__metadata__")) {
            if (!json_expect(doc, &m->value, JSON_OBJECT, "__metadata__", err))
                return false;
            continue;
        }
        if (m->key_len == 0 || strlen(m->key) != m->key_len)
            return json_error_at(doc, m->key_offset, err, "a tensor name is empty or holds a NUL character");
        (*n_tensors)++;
        *name_bytes += m->key_len + 1;
    }
    if (*n_tensors > LIMIT_SAFETENSORS_TENSORS)
        return error_set(err, STATUS_DATAERR, "%s: %zu tensors, more than LIMIT_SAFETENSORS_TENSORS (%d)", st->name,
                         *n_tensors, LIMIT_SAFETENSORS_TENSORS);
    return true;
}

/* Pass 2b: allocates st's table for n_tensors entries and its name pool of
 * name_bytes, then reads each tensor entry of root into it in file order
 * (st->n_tensors counts those read). False with err set on the first bad
 * entry or when memory runs out; safetensors_close frees what st holds. */
static bool header_entries(SafeTensors *st, const JsonDoc *doc, const JsonValue *root, size_t n_tensors,
                           size_t name_bytes, Error *err)
{
    st->tensors = calloc(n_tensors > 0 ? n_tensors : 1, sizeof *st->tensors);
    st->names = malloc(name_bytes > 0 ? name_bytes : 1);
    if (st->tensors == NULL || st->names == NULL)
        return error_oom(err, "the safetensors table");
    char *name_at = st->names;
    for (size_t i = 0; i < root->count; i++) {
        const JsonMember *m = &root->u.members[i];
        if (strcmp(m->key, "__metadata__") == 0)
            continue;
        SafeTensor *t = &st->tensors[st->n_tensors];
        memcpy(name_at, m->key, m->key_len + 1);
        t->name = name_at;
        name_at += m->key_len + 1;
        if (!read_entry(doc, m, t, err))
            return false;
        st->n_tensors++;
    }
    return true;
}

/* Pass 3: checks that st's tensors tile the data section, then sets each
 * one's data pointer and sorts the table by name for lookups. False with
 * err set when the tiling is wrong. */
static bool header_finish(SafeTensors *st, Error *err)
{
    qsort(st->tensors, st->n_tensors, sizeof *st->tensors, by_begin);
    if (!check_tiling(st, err))
        return false;
    for (size_t i = 0; i < st->n_tensors; i++)
        st->tensors[i].data = st->data + st->tensors[i].begin;
    qsort(st->tensors, st->n_tensors, sizeof *st->tensors, by_name);
    return true;
}

/* Parses and checks the header of st (bytes, map_bytes set; len bytes in
 * all) and builds its table. False with err set on the first problem. */
static bool read_header(SafeTensors *st, size_t len, Error *err)
{
    if (!header_length(st, len, err))
        return false;
    JsonDoc *doc = json_parse((const char *)st->bytes + 8, (size_t)st->header_bytes, st->name, err);
    if (doc == NULL)
        return false;
    const JsonValue *root = json_root(doc);
    size_t n_tensors, name_bytes;
    bool ok = json_expect(doc, root, JSON_OBJECT, "header", err) &&
              header_count(st, doc, root, &n_tensors, &name_bytes, err) &&
              header_entries(st, doc, root, n_tensors, name_bytes, err) && header_finish(st, err);
    json_free(doc);
    return ok;
}

/* ------------------------------------------------------------------------
 * Opening and closing
 * ---------------------------------------------------------------------- */

static SafeTensors *st_new(const char *name, Error *err)
{
    SafeTensors *st = calloc(1, sizeof *st);
    if (st != NULL)
        st->name = strdup(name != NULL ? name : "safetensors");
    if (st == NULL || st->name == NULL) {
        free(st);
        error_oom(err, "a safetensors file");
        return NULL;
    }
    return st;
}

SafeTensors *safetensors_parse(const unsigned char *bytes, size_t len, const char *name, Error *err)
{
    SafeTensors *st = st_new(name, err);
    if (st == NULL)
        return NULL;
    st->bytes = bytes;
    if (!read_header(st, len, err)) {
        safetensors_close(st);
        return NULL;
    }
    return st;
}

SafeTensors *safetensors_open(const char *path, Error *err)
{
    SafeTensors *st = st_new(path, err);
    if (st == NULL)
        return NULL;
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        error_set(err, STATUS_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        error_set(err, STATUS_NOINPUT, "%s: cannot open: not a regular file", path);
        goto fail;
    }
    if (sb.st_size < 8) {
        error_set(err, STATUS_DATAERR,
                  "%s: truncated: %lld bytes, but a safetensors file starts with an 8-byte header length", path,
                  (long long)sb.st_size);
        goto fail;
    }
    if ((unsigned long long)sb.st_size > SIZE_MAX) {
        error_set(err, STATUS_NOINPUT, "%s: cannot open: too large to map", path);
        goto fail;
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        error_set(err, STATUS_NOINPUT, "%s: cannot map: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    st->map = map;
    st->map_bytes = (size_t)sb.st_size;
    st->bytes = map;
    if (!read_header(st, st->map_bytes, err))
        goto fail;
    return st;
fail:
    if (fd >= 0)
        close(fd);
    safetensors_close(st);
    return NULL;
}

void safetensors_close(SafeTensors *st)
{
    if (st == NULL)
        return;
    if (st->map != NULL)
        munmap(st->map, st->map_bytes);
    free(st->tensors);
    free(st->names);
    free(st->name);
    free(st);
}

const SafeTensor *safetensors_find(const SafeTensors *st, const char *name)
{
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[mid].name, name);
        if (c == 0)
            return &st->tensors[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * Conversion to float32
 * ---------------------------------------------------------------------- */

uint64_t safetensors_row_count(const SafeTensor *t)
{
    uint64_t n = 1;
    for (int i = 1; i < t->rank; i++)
        n *= t->shape[i];
    return t->shape[0] == 0 ? 0 : n;
}

/* The float32 value of the IEEE half-precision bits h: exact (every half
 * is a float). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) { /* infinity or NaN: keep the payload */
        bits = sign | 0x7f800000u | mant << 13;
    } else if (exp != 0) { /* normal: rebias 15 -> 127 */
        bits = sign | (exp + 112) << 23 | mant << 13;
    } else if (mant == 0) { /* zero */
        bits = sign;
    } else { /* subnormal half: a normal float; shift until the leading 1 reaches bit 10 */
        int e = 113;
        while ((mant & 0x400) == 0) {
            mant <<= 1;
            e--;
        }
        bits = sign | (uint32_t)e << 23 | (mant & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static bool host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

bool safetensors_read_f32(const SafeTensors *st, const SafeTensor *t, uint64_t first_row, uint64_t n_rows, float *out,
                          Error *err)
{
    if (t->dtype != SAFE_F32 && t->dtype != SAFE_F16 && t->dtype != SAFE_BF16)
        return error_set(err, STATUS_DATAERR,
                         "%s: tensor %.60s: dtype %s cannot be read as float32 (attn-trace reads F32, F16 and BF16)",
                         st->name, t->name, DTYPES[t->dtype].name);
    uint64_t rows = t->rank == 0 ? 1 : t->shape[0];
    if (first_row > rows || n_rows > rows - first_row)
        return error_set(err, STATUS_DATAERR, "%s: tensor %.60s: rows %llu..%llu are outside its %llu rows", st->name,
                         t->name, (unsigned long long)first_row, (unsigned long long)(first_row + n_rows),
                         (unsigned long long)rows);
    uint64_t per_row = t->rank == 0 ? 1 : safetensors_row_count(t);
    size_t n = (size_t)(n_rows * per_row);
    size_t elem = DTYPES[t->dtype].size;
    const unsigned char *src = t->data + first_row * per_row * elem;
    switch (t->dtype) {
    case SAFE_F32:
        if (host_is_little_endian()) {
            memcpy(out, src, n * sizeof *out);
        } else {
            for (size_t i = 0; i < n; i++) {
                uint32_t bits = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 | (uint32_t)src[4 * i + 2] << 16 |
                                (uint32_t)src[4 * i + 3] << 24;
                memcpy(&out[i], &bits, sizeof bits);
            }
        }
        break;
    case SAFE_F16:
        for (size_t i = 0; i < n; i++)
            out[i] = half_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
        break;
    case SAFE_BF16: /* the high half of a float32: exact */
        for (size_t i = 0; i < n; i++) {
            uint32_t bits = ((uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8) << 16;
            memcpy(&out[i], &bits, sizeof bits);
        }
        break;
    case SAFE_F64:
    case SAFE_I64:
    case SAFE_U64:
    case SAFE_I32:
    case SAFE_U32:
    case SAFE_I16:
    case SAFE_U16:
    case SAFE_I8:
    case SAFE_U8:
    case SAFE_BOOL:
    case SAFE_F8_E4M3:
    case SAFE_F8_E5M2:
    case SAFE_DTYPE_COUNT:
        break; /* refused above */
    }
    return true;
}

/* The whole pages inside [start, start + len) of st's mapping, for
 * madvise: false when there are none (or st is not a mapping). */
static bool page_range(const SafeTensors *st, const SafeTensor *t, uint64_t first_row, uint64_t n_rows, bool inner,
                       char **addr, size_t *len)
{
    if (st->map == NULL || t->rank == 0 || n_rows == 0)
        return false;
    long page_l = sysconf(_SC_PAGESIZE);
    size_t page = page_l > 0 ? (size_t)page_l : 4096;
    uint64_t row_bytes = safetensors_row_count(t) * DTYPES[t->dtype].size;
    uintptr_t base = (uintptr_t)st->map;
    uintptr_t start = (uintptr_t)(t->data + first_row * row_bytes) - base;
    uintptr_t end = start + (uintptr_t)(n_rows * row_bytes);
    uintptr_t s = inner ? (start + page - 1) / page * page : start / page * page;
    uintptr_t e = inner ? end / page * page : (end + page - 1) / page * page;
    if (e > st->map_bytes)
        e = (st->map_bytes + page - 1) / page * page;
    if (e <= s)
        return false;
    *addr = (char *)st->map + s;
    *len = (size_t)(e - s);
    return true;
}

void safetensors_release(const SafeTensors *st, const SafeTensor *t, uint64_t first_row, uint64_t n_rows)
{
#ifdef MADV_DONTNEED
    char *addr;
    size_t len;
    if (page_range(st, t, first_row, n_rows, true, &addr, &len))
        madvise(addr, len, MADV_DONTNEED); /* advice: harmless if refused */
#else
    (void)st, (void)t, (void)first_row, (void)n_rows;
#endif
}

void safetensors_prefetch(const SafeTensors *st, const SafeTensor *t, uint64_t first_row, uint64_t n_rows)
{
#ifdef MADV_WILLNEED
    char *addr;
    size_t len;
    if (page_range(st, t, first_row, n_rows, false, &addr, &len))
        madvise(addr, len, MADV_WILLNEED);
#else
    (void)st, (void)t, (void)first_row, (void)n_rows;
#endif
}
