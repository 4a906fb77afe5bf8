/*
 * npy.c - reading and writing NumPy .npy files (see npy.h).
 *
 * The header parser accepts the dictionaries NumPy and hand-written tools
 * produce: the three keys in any order, single or double quotes, spaces
 * and newlines between tokens, a trailing comma, old "5L" dimensions. It
 * refuses what NumPy would refuse (a missing or unknown key, a shape that
 * is not a tuple) and what attn-trace cannot hold.
 */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "strbuf.h"
static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Bytes before the header text: magic, two version bytes, and the length
 * (2 bytes in version 1.0, 4 in 2.0 and 3.0). */
#define PREAMBLE_V1 10
#define PREAMBLE_V2 12

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

const char *npy_dtype_name(NpyDtype dtype)
{
    return dtype == NPY_INT64 ? "int64" : "float32";
}

size_t npy_dtype_size(NpyDtype dtype)
{
    return dtype == NPY_INT64 ? 8 : 4;
}

/* The descr NumPy writes for dtype. */
static const char *dtype_descr(NpyDtype dtype)
{
    return dtype == NPY_INT64 ? "<i8" : "<f4";
}

char *npy_shape_str(int ndim, const size_t *shape, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i > 0 ? ", " : "", shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
    return buf;
}

/* True on a little-endian host. */
static bool host_is_little_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/* Reverses the bytes of each of count values of itemsize bytes, in place:
 * little-endian file order to host order on a big-endian host, and back. */
static void swap_bytes(unsigned char *p, size_t count, size_t itemsize)
{
    for (size_t i = 0; i < count; i++, p += itemsize)
        for (size_t a = 0, b = itemsize - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* ------------------------------------------------------------------------
 * Writing the header
 * ---------------------------------------------------------------------- */

size_t npy_format_header(NpyDtype dtype, int ndim, const size_t *shape, char *buf, size_t size)
{
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS || buf == NULL || size < NPY_HEADER_WRITE_BYTES)
        return 0;
    char shape_text[TENSOR_MAX_DIMS * 24 + 8];
    npy_shape_str(ndim, shape, shape_text, sizeof shape_text);
    char dict[NPY_HEADER_WRITE_BYTES];
    int dict_len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                            dtype_descr(dtype), shape_text);
    if (dict_len < 0)
        return 0;
    /* the dictionary, spaces, then '\n' as the last byte before the data,
     * which starts at a multiple of 64 */
    size_t total = PREAMBLE_V1 + (size_t)dict_len + 1;
    total += (64 - total % 64) % 64;
    if (total > size || total - PREAMBLE_V1 > 0xffff)
        return 0;
    size_t header_len = total - PREAMBLE_V1;
    memcpy(buf, MAGIC, sizeof MAGIC);
    buf[6] = 1; /* version 1.0 */
    buf[7] = 0;
    buf[8] = (char)(header_len & 0xff);
    buf[9] = (char)(header_len >> 8);
    memcpy(buf + PREAMBLE_V1, dict, (size_t)dict_len);
    memset(buf + PREAMBLE_V1 + dict_len, ' ', total - PREAMBLE_V1 - (size_t)dict_len - 1);
    buf[total - 1] = '\n';
    return total;
}

/* ------------------------------------------------------------------------
 * Parsing the header's dictionary
 * ---------------------------------------------------------------------- */

/* A cursor over the header's text [p, end). */
typedef struct Scan {
    const char *p, *end;
} Scan;

static void skip_space(Scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Consumes c (after any space). */
static bool take(Scan *s, char c)
{
    skip_space(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* The next character after any space, or '\0' at the end. */
static char peek(Scan *s)
{
    skip_space(s);
    return s->p < s->end ? *s->p : '\0';
}

/* Consumes a quoted string without escapes into out (cut to fit). */
static bool take_string(Scan *s, char *out, size_t size)
{
    char quote = peek(s);
    if (quote != '\'' && quote != '"')
        return false;
    const char *start = ++s->p;
    while (s->p < s->end && *s->p != quote && *s->p != '\\' && *s->p != '\n')
        s->p++;
    if (s->p >= s->end || *s->p != quote)
        return false;
    size_t len = (size_t)(s->p - start);
    if (memchr(start, '\0', len) != NULL)
        return false; /* NumPy refuses a NUL in a string; so does strcmp's view of it here */
    if (len >= size)
        len = size - 1;
    memcpy(out, start, len);
    out[len] = '\0';
    s->p++;
    return true;
}

/* Consumes word when it stands alone (not followed by a letter or digit). */
static bool take_word(Scan *s, const char *word)
{
    skip_space(s);
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    const char *after = s->p + n;
    if (after < s->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                           (*after >= '0' && *after <= '9') || *after == '_'))
        return false;
    s->p = after;
    return true;
}

/* Parses the shape tuple: "()", "(5,)", "(5, 16)", "(5, 16,)". The rank is
 * counted even past TENSOR_MAX_DIMS, so the error can give it. */
static bool parse_shape(Scan *s, NpyArray *arr, int *rank, Error *err)
{
    char open = peek(s);
    if (open == '[')
        return error_set(err, STATUS_DATAERR, "the header's 'shape' is a list; NumPy writes a tuple such as (5, 16)");
    if (!take(s, '('))
        return error_set(err, STATUS_DATAERR, "the header's 'shape' is not a tuple such as (5, 16)");
    *rank = 0;
    if (take(s, ')'))
        return true;
    for (;;) {
        skip_space(s);
        if (s->p < s->end && *s->p == '-')
            return error_set(err, STATUS_DATAERR, "the header's 'shape' has a negative dimension");
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return error_set(err, STATUS_DATAERR, "the header's 'shape' holds something other than whole numbers");
        uint64_t value = 0;
        bool too_large = false;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            unsigned digit = (unsigned)(*s->p++ - '0');
            if (value > (UINT64_MAX - digit) / 10)
                too_large = true;
            else
                value = value * 10 + digit;
        }
        if (s->p < s->end && *s->p == 'L') /* Python 2's long integers, in files from old NumPy */
            s->p++;
        if (too_large || value > SIZE_MAX)
            return error_set(err, STATUS_DATAERR, "a dimension of the header's 'shape' is too large");
        if (*rank < TENSOR_MAX_DIMS)
            arr->shape[*rank] = (size_t)value;
        (*rank)++;
        if (take(s, ',')) {
            if (take(s, ')'))
                return true;
            continue;
        }
        if (take(s, ')')) {
            if (*rank == 1)
                return error_set(err, STATUS_DATAERR,
                                 "the header's 'shape' (%zu) is a number, not a tuple: a one-dimensional shape is "
                                 "(%zu,)",
                                 arr->shape[0], arr->shape[0]);
            return true;
        }
        return error_set(err, STATUS_DATAERR, "the header's 'shape' is not a tuple such as (5, 16)");
    }
}

/* The largest item size, in bytes, of a NumPy number dtype (complex256). */
#define NPY_MAX_ITEM_BYTES 16

/* Says what a dtype other than '<f4' and '<i8' is, and how to convert it. */
static bool refuse_descr(const char *descr, Error *err)
{
    char order = descr[0];
    const char *type = (order == '<' || order == '>' || order == '|' || order == '=') ? descr + 1 : descr;
    char kind = type[0];
    /* the item size NumPy names: 1..16 bytes for a number kind; anything
     * else (a huge or negative count) is reported as an unknown dtype,
     * without multiplying it */
    errno = 0;
    long bytes = strtol(type + (kind != '\0' ? 1 : 0), NULL, 10);
    if (errno != 0 || bytes < 1 || bytes > NPY_MAX_ITEM_BYTES)
        bytes = 0;
    const char *kind_name = kind == 'f'   ? "float"
                            : kind == 'i' ? "int"
                            : kind == 'u' ? "uint"
                            : kind == 'c' ? "complex"
                                          : NULL;
    if (kind == 'O')
        return error_set(err, STATUS_DATAERR,
                         "an array of Python objects (dtype '%s'), not numbers; save a float32 array instead", descr);
    if (order == '>' && kind_name != NULL && bytes > 1)
        return error_set(err, STATUS_DATAERR,
                         "big-endian %s%ld data ('%s'); save it little-endian, e.g. arr.astype('<%c%ld')", kind_name,
                         bytes * 8, descr, kind == 'i' && bytes == 8 ? 'i' : 'f', kind == 'i' && bytes == 8 ? 8L : 4L);
    if (kind_name != NULL && bytes > 0)
        return error_set(err, STATUS_DATAERR,
                         "%s%ld data ('%s'); attn-trace reads float32 ('<f4') and int64 ('<i8'): convert it with "
                         "arr.astype(np.float32)",
                         kind_name, bytes * 8, descr);
    return error_set(err, STATUS_DATAERR,
                     "dtype '%.40s' is not supported; attn-trace reads float32 ('<f4') and int64 ('<i8')", descr);
}

/* Parses the dictionary in text[0..len) into arr's dtype and shape. */
static bool parse_dict(const char *text, size_t len, NpyArray *arr, Error *err)
{
    Scan s = {text, text + len};
    char descr[64] = "";
    bool fortran = false;
    int rank = 0;
    bool have_descr = false, have_fortran = false, have_shape = false;
    if (!take(&s, '{'))
        return error_set(err, STATUS_DATAERR, "the header is not a Python dictionary (no '{')");
    while (!take(&s, '}')) {
        char key[32];
        if (!take_string(&s, key, sizeof key))
            return error_set(err, STATUS_DATAERR, "the header's dictionary does not parse (expected a quoted key)");
        if (!take(&s, ':'))
            return error_set(err, STATUS_DATAERR, "the header's dictionary does not parse (no ':' after '%s')", key);
        bool *seen = strcmp(key, "descr") == 0           ? &have_descr
                     : strcmp(key, "fortran_order") == 0 ? &have_fortran
                     : strcmp(key, "shape") == 0         ? &have_shape
                                                         : NULL;
        if (seen == NULL)
            return error_set(err, STATUS_DATAERR,
                             "unknown key '%s' in the header (NumPy writes descr, fortran_order, shape)", key);
        if (*seen)
            return error_set(err, STATUS_DATAERR, "the header gives '%s' twice", key);
        *seen = true;
        if (seen == &have_descr) {
            if (peek(&s) == '[')
                return error_set(err, STATUS_DATAERR,
                                 "a structured array (a dtype with fields); save a plain float32 array instead");
            if (!take_string(&s, descr, sizeof descr))
                return error_set(err, STATUS_DATAERR, "the header's 'descr' is not a quoted string such as '<f4'");
        } else if (seen == &have_fortran) {
            if (take_word(&s, "True"))
                fortran = true;
            else if (!take_word(&s, "False"))
                return error_set(err, STATUS_DATAERR, "the header's 'fortran_order' is neither True nor False");
        } else if (!parse_shape(&s, arr, &rank, err)) {
            return false;
        }
        if (!take(&s, ',')) {
            if (take(&s, '}'))
                break;
            return error_set(err, STATUS_DATAERR, "the header's dictionary does not parse (expected ',' or '}')");
        }
    }
    skip_space(&s);
    if (s.p != s.end)
        return error_set(err, STATUS_DATAERR, "text after the header's dictionary");
    if (!have_descr || !have_fortran || !have_shape)
        return error_set(err, STATUS_DATAERR, "the header has no '%s'",
                         !have_descr     ? "descr"
                         : !have_fortran ? "fortran_order"
                                         : "shape");

    /* what it says, checked in the order a learner can act on */
    if (strcmp(descr, "<f4") == 0)
        arr->dtype = NPY_FLOAT32;
    else if (strcmp(descr, "<i8") == 0)
        arr->dtype = NPY_INT64;
    else
        return refuse_descr(descr, err);
    if (rank > TENSOR_MAX_DIMS)
        return error_set(err, STATUS_DATAERR, "%d dimensions, more than the %d attn-trace handles (TENSOR_MAX_DIMS)",
                         rank, TENSOR_MAX_DIMS);
    /* one dimension lays out the same in either order */
    if (fortran && rank > 1)
        return error_set(err, STATUS_DATAERR,
                         "stored in Fortran (column-major) order; save np.ascontiguousarray(arr) instead");
    arr->ndim = rank;
    for (int i = rank; i < TENSOR_MAX_DIMS; i++)
        arr->shape[i] = 1;
    return true;
}

/* ------------------------------------------------------------------------
 * Parsing a header
 * ---------------------------------------------------------------------- */

bool npy_parse_header(const unsigned char *bytes, size_t len, uint64_t file_size, NpyArray *arr, Error *err)
{
    memset(arr, 0, sizeof *arr);
    if (len > file_size)
        len = (size_t)file_size;
    if (len >= 4 && memcmp(bytes, "PK\x03\x04", 4) == 0)
        return error_set(err, STATUS_DATAERR,
                         "a zip archive (a .npz file?), not a .npy file; save each array with np.save");
    if (len < sizeof MAGIC || memcmp(bytes, MAGIC, sizeof MAGIC) != 0)
        return error_set(err, STATUS_DATAERR,
                         file_size < sizeof MAGIC ? "too short to be a .npy file (%llu bytes)"
                                                  : "not a .npy file: it does not start with \\x93NUMPY",
                         (unsigned long long)file_size);
    if (len < 8)
        return error_set(err, STATUS_DATAERR, "truncated: the file ends inside its header");
    int major = bytes[6], minor = bytes[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return error_set(err, STATUS_DATAERR, ".npy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)",
                         major, minor);
    size_t preamble = major == 1 ? PREAMBLE_V1 : PREAMBLE_V2;
    if (len < preamble)
        return error_set(err, STATUS_DATAERR, "truncated: the file ends inside its header");
    uint64_t header_len = (uint64_t)bytes[8] | (uint64_t)bytes[9] << 8;
    if (major != 1)
        header_len |= (uint64_t)bytes[10] << 16 | (uint64_t)bytes[11] << 24;
    if (header_len > LIMIT_NPY_HEADER_BYTES)
        return error_set(err, STATUS_DATAERR, "a header of %llu bytes, longer than %d (LIMIT_NPY_HEADER_BYTES)",
                         (unsigned long long)header_len, LIMIT_NPY_HEADER_BYTES);
    if (file_size < preamble + header_len || len < preamble + header_len)
        return error_set(err, STATUS_DATAERR,
                         "truncated: the file ends inside its header (%llu bytes, the header "
                         "says it needs %llu)",
                         (unsigned long long)file_size, (unsigned long long)(preamble + header_len));
    if (!parse_dict((const char *)bytes + preamble, (size_t)header_len, arr, err))
        return false;
    arr->data_offset = preamble + (size_t)header_len;

    /* the values must fill the rest of the file exactly */
    size_t itemsize = npy_dtype_size(arr->dtype);
    size_t count = 1;
    for (int i = 0; i < arr->ndim; i++) {
        if (arr->shape[i] != 0 && count > SIZE_MAX / itemsize / arr->shape[i]) {
            char shape[128];
            return error_set(err, STATUS_DATAERR, "shape %s holds more values than can be counted",
                             npy_shape_str(arr->ndim, arr->shape, shape, sizeof shape));
        }
        count *= arr->shape[i];
    }
    arr->count = count;
    uint64_t need = (uint64_t)count * itemsize;
    uint64_t have = file_size - arr->data_offset;
    if (have != need) {
        char shape[128];
        npy_shape_str(arr->ndim, arr->shape, shape, sizeof shape);
        if (have < need)
            return error_set(err, STATUS_DATAERR,
                             "truncated: shape %s of %s needs %llu bytes of data, the file has %llu after its header",
                             shape, npy_dtype_name(arr->dtype), (unsigned long long)need, (unsigned long long)have);
        return error_set(err, STATUS_DATAERR, "%llu byte%s after the data (shape %s of %s takes %llu bytes)",
                         (unsigned long long)(have - need), have - need == 1 ? "" : "s", shape,
                         npy_dtype_name(arr->dtype), (unsigned long long)need);
    }
    return true;
}

/* Allocates arr->data for arr->count values (at least one byte). */
static bool alloc_data(NpyArray *arr, Error *err)
{
    size_t bytes = arr->count * npy_dtype_size(arr->dtype);
    arr->data = malloc(bytes > 0 ? bytes : 1);
    if (arr->data == NULL)
        return error_oom(err, "the values of a .npy file");
    return true;
}

bool npy_decode(const unsigned char *bytes, size_t len, NpyArray *arr, Error *err)
{
    if (!npy_parse_header(bytes, len, len, arr, err) || !alloc_data(arr, err))
        return false;
    size_t itemsize = npy_dtype_size(arr->dtype);
    memcpy(arr->data, bytes + arr->data_offset, arr->count * itemsize);
    if (!host_is_little_endian())
        swap_bytes(arr->data, arr->count, itemsize);
    return true;
}

void npy_free(NpyArray *arr)
{
    if (arr == NULL)
        return;
    free(arr->data);
    memset(arr, 0, sizeof *arr);
}

/* ------------------------------------------------------------------------
 * Files
 * ---------------------------------------------------------------------- */

/* Reads up to n bytes at fd into buf, retrying short reads; returns how
 * many it got (fewer at the end of the file), or -1 with errno set. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Opens path for reading and gets its size. Only regular files: a FIFO
 * would block, a directory cannot be read. */
static bool open_regular(const char *path, int *fd_out, uint64_t *size, Error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, STATUS_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, STATUS_NOINPUT, "%s: %s", path,
                         S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    *fd_out = fd;
    *size = (uint64_t)st.st_size;
    return true;
}

/* Opens path and parses its header into arr; *fd_out stays open. */
static bool open_and_parse(const char *path, int *fd_out, NpyArray *arr, Error *err)
{
    uint64_t size = 0;
    int fd = -1;
    memset(arr, 0, sizeof *arr);
    if (!open_regular(path, &fd, &size, err))
        return false;
    unsigned char head[PREAMBLE_V2 + LIMIT_NPY_HEADER_BYTES];
    size_t want = size < sizeof head ? (size_t)size : sizeof head;
    ssize_t got = read_full(fd, head, want);
    if (got < 0) {
        int e = errno;
        close(fd);
        return error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path, strerror(e));
    }
    if (!npy_parse_header(head, (size_t)got, (size_t)got < want ? (uint64_t)got : size, arr, err)) {
        close(fd);
        char message[ERROR_MESSAGE_BYTES];
        snprintf(message, sizeof message, "%s", err != NULL ? err->message : "");
        return error_set(err, STATUS_DATAERR, "%s: %s", path, message);
    }
    *fd_out = fd;
    return true;
}

bool npy_read_header(const char *path, NpyArray *arr, Error *err)
{
    int fd = -1;
    if (!open_and_parse(path, &fd, arr, err))
        return false;
    close(fd);
    return true;
}

bool npy_read(const char *path, NpyArray *arr, Error *err)
{
    int fd = -1;
    if (!open_and_parse(path, &fd, arr, err))
        return false;
    size_t itemsize = npy_dtype_size(arr->dtype);
    size_t bytes = arr->count * itemsize;
    if (!alloc_data(arr, err)) {
        close(fd);
        return false;
    }
    ssize_t got = -1;
    if (lseek(fd, (off_t)arr->data_offset, SEEK_SET) == (off_t)arr->data_offset)
        got = read_full(fd, arr->data, bytes);
    int e = errno;
    close(fd);
    if (got < 0 || (size_t)got != bytes) {
        npy_free(arr);
        if (got < 0)
            return error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path, strerror(e));
        return error_set(err, STATUS_DATAERR, "%s: truncated while being read", path);
    }
    if (!host_is_little_endian())
        swap_bytes(arr->data, arr->count, itemsize);
    return true;
}

/* Writes count values of itemsize bytes as little-endian. */
static bool write_values(int fd, const void *data, size_t count, size_t itemsize)
{
    if (host_is_little_endian())
        return fd_write_all(fd, data, count * itemsize);
    unsigned char chunk[8192];
    size_t per_chunk = sizeof chunk / itemsize;
    const unsigned char *p = data;
    for (size_t done = 0; done < count;) {
        size_t n = count - done < per_chunk ? count - done : per_chunk;
        memcpy(chunk, p + done * itemsize, n * itemsize);
        swap_bytes(chunk, n, itemsize);
        if (!fd_write_all(fd, chunk, n * itemsize))
            return false;
        done += n;
    }
    return true;
}

bool npy_write(const char *path, const NpyArray *arr, uint64_t *file_bytes, Error *err)
{
    char header[NPY_HEADER_WRITE_BYTES];
    size_t header_len = npy_format_header(arr->dtype, arr->ndim, arr->shape, header, sizeof header);
    if (header_len == 0)
        return error_set(err, STATUS_FAILURE, "%s: cannot write: %d dimensions", path, arr->ndim);
    size_t itemsize = npy_dtype_size(arr->dtype);
    size_t count = 1;
    for (int i = 0; i < arr->ndim; i++) {
        if (arr->shape[i] != 0 && count > SIZE_MAX / itemsize / arr->shape[i])
            return error_set(err, STATUS_FAILURE, "%s: cannot write: the shape is too large", path);
        count *= arr->shape[i];
    }

    /* a temporary name beside path: ".NAME.PID.N.tmp" */
    const char *slash = strrchr(path, '/');
    int dir_len = slash != NULL ? (int)(slash - path + 1) : 0;
    const char *base = path + dir_len;
    char tmp[LIMIT_PATH_BYTES];
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        int n = snprintf(tmp, sizeof tmp, "%.*s.%s.%ld.%d.tmp", dir_len, path, base, (long)getpid(), attempt);
        if (n < 0 || (size_t)n >= sizeof tmp)
            return error_set(err, STATUS_FAILURE, "%s: cannot write: the path is too long", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return error_set(err, STATUS_FAILURE, "%s: cannot write: %s", path, strerror(errno));
    bool ok = fd_write_all(fd, header, header_len) && write_values(fd, arr->data, count, itemsize);
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return error_set(err, STATUS_FAILURE, "%s: cannot write: %s", path, strerror(e));
    }
    if (file_bytes != NULL)
        *file_bytes = (uint64_t)header_len + (uint64_t)count * itemsize;
    return true;
}
