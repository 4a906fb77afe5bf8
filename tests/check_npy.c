/*
 * check_npy.c - the .npy reader and writer (npy.c), the export of a trace
 * (export.c) and reading weights back (weights.c).
 *
 * Headers are checked byte for byte against hand-made strings; every kind
 * of malformed file is fed to the reader with the message it must give;
 * the article's trace is exported and every file read back and compared
 * bit for bit with the trace; and an exported directory read back with
 * weights_load must rebuild the same trace.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "export.h"
#include "npy.h"
#include "fixture.h"
#include "suites.h"
#include "trace.h"
#include "weights.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* A fresh scratch directory (fixture_temp_dir). */
static void make_temp_dir(char *path, size_t size)
{
    ck_assert_msg(fixture_temp_dir(path, size, "npy"), "mkdtemp(%s) failed", path);
}

/* Entries in dir (without . and ..); *temporaries counts names ending in ".tmp". */
static int count_entries(const char *dir, int *temporaries)
{
    int n = 0;
    *temporaries = 0;
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot list %s", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
            (*temporaries)++;
    }
    closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert(fwrite(bytes, 1, len, f) == len);
    ck_assert(fclose(f) == 0);
}

/* A .npy file in out: magic, version major.0, the dictionary padded with
 * spaces to a multiple of 16 and '\n', then data_bytes bytes counting up.
 * Returns its length. */
static size_t make_npy(unsigned char *out, size_t size, int major, const char *dict, size_t data_bytes)
{
    size_t preamble = major == 1 ? 10 : 12;
    size_t header = strlen(dict) + 1;
    header += (16 - (preamble + header) % 16) % 16;
    ck_assert(preamble + header + data_bytes <= size);
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)major;
    out[7] = 0;
    out[8] = (unsigned char)(header & 0xff);
    out[9] = (unsigned char)(header >> 8);
    if (major != 1) {
        out[10] = (unsigned char)(header >> 16);
        out[11] = (unsigned char)(header >> 24);
    }
    memset(out + preamble, ' ', header);
    memcpy(out + preamble, dict, strlen(dict));
    out[preamble + header - 1] = '\n';
    for (size_t i = 0; i < data_bytes; i++)
        out[preamble + header + i] = (unsigned char)i;
    return preamble + header + data_bytes;
}

/* ------------------------------------------------------------------------
 * Writing headers
 * ---------------------------------------------------------------------- */

START_TEST(test_header_bytes_1d)
{
    char buf[NPY_HEADER_WRITE_BYTES];
    size_t shape[] = {5};
    size_t len = npy_format_header(NPY_FLOAT32, 1, shape, buf, sizeof buf);
    ck_assert_uint_eq(len, 128);
    ck_assert(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    ck_assert_uint_eq((unsigned char)buf[8] | (unsigned char)buf[9] << 8, 118); /* 128 - 10 */
    static const char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }";
    ck_assert_msg(memcmp(buf + 10, dict, sizeof dict - 1) == 0, "header is '%.60s'", buf + 10);
    for (size_t i = 10 + sizeof dict - 1; i < 127; i++)
        ck_assert_msg(buf[i] == ' ', "byte %zu is 0x%02x, not a space", i, (unsigned char)buf[i]);
    ck_assert_int_eq(buf[127], '\n');
}
END_TEST

static const struct {
    NpyDtype dtype;
    int ndim;
    size_t shape[TENSOR_MAX_DIMS];
    const char *dict;
} HEADER_CASES[] = {
    {NPY_FLOAT32, 0, {0}, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"},
    {NPY_FLOAT32, 2, {5, 16}, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 16), }"},
    {NPY_FLOAT32, 3, {4, 16, 4}, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16, 4), }"},
    {NPY_INT64, 1, {5}, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }"},
    {NPY_FLOAT32,
     4,
     {SIZE_MAX, 1, 2, 3},
     "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 1, 2, 3), }"},
};

START_TEST(test_header_shapes)
{
    char buf[NPY_HEADER_WRITE_BYTES];
    size_t len = npy_format_header(HEADER_CASES[_i].dtype, HEADER_CASES[_i].ndim, HEADER_CASES[_i].shape, buf,
                                   sizeof buf);
    const char *dict = HEADER_CASES[_i].dict;
    ck_assert_msg(len > 0 && len % 64 == 0, "length %zu is not a multiple of 64", len);
    ck_assert_uint_eq((unsigned char)buf[8] | (unsigned char)buf[9] << 8, len - 10);
    ck_assert_msg(memcmp(buf + 10, dict, strlen(dict)) == 0, "header is '%.*s', expected '%s'", (int)strlen(dict),
                  buf + 10, dict);
    ck_assert_int_eq(buf[len - 1], '\n');
    ck_assert_msg(len - 64 < 10 + strlen(dict) + 1, "%zu bytes: more padding than needed", len);
    /* and our reader takes what our writer wrote */
    NpyArray arr;
    Error err;
    error_clear(&err);
    size_t count = 1;
    for (int i = 0; i < HEADER_CASES[_i].ndim; i++)
        count *= HEADER_CASES[_i].shape[i];
    if (count <= 64) {
        ck_assert_msg(npy_parse_header((const unsigned char *)buf, len,
                                       len + count * npy_dtype_size(HEADER_CASES[_i].dtype), &arr, &err),
                      "%s", err.message);
        ck_assert_int_eq(arr.ndim, HEADER_CASES[_i].ndim);
        ck_assert_uint_eq(arr.count, count);
        ck_assert_uint_eq(arr.data_offset, len);
    }
}
END_TEST

START_TEST(test_header_refuses_bad_rank_and_small_buffer)
{
    char buf[NPY_HEADER_WRITE_BYTES];
    size_t shape[5] = {1, 1, 1, 1, 1};
    ck_assert_uint_eq(npy_format_header(NPY_FLOAT32, TENSOR_MAX_DIMS + 1, shape, buf, sizeof buf), 0);
    ck_assert_uint_eq(npy_format_header(NPY_FLOAT32, -1, shape, buf, sizeof buf), 0);
    ck_assert_uint_eq(npy_format_header(NPY_FLOAT32, 1, shape, buf, 64), 0);
}
END_TEST

START_TEST(test_shape_str)
{
    char buf[64];
    size_t shape[] = {5, 16, 4};
    ck_assert_str_eq(npy_shape_str(0, shape, buf, sizeof buf), "()");
    ck_assert_str_eq(npy_shape_str(1, shape, buf, sizeof buf), "(5,)");
    ck_assert_str_eq(npy_shape_str(3, shape, buf, sizeof buf), "(5, 16, 4)");
    ck_assert_str_eq(npy_shape_str(3, shape, buf, 5), "(5, ");
}
END_TEST

/* ------------------------------------------------------------------------
 * Reading hand-made files
 * ---------------------------------------------------------------------- */

/* Headers written other ways than ours that still mean (2, 3) float32. */
static const struct {
    int major;
    const char *dict;
} GOOD_HEADERS[] = {
    {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
    {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
    {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
    {1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}"},
    {1, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}"},
    {1, "{ 'descr' : '<f4' ,\n 'fortran_order':False,'shape':(2,3,) , }"},
    {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }"},
};

START_TEST(test_reads_other_headers)
{
    unsigned char file[512];
    size_t len = make_npy(file, sizeof file, GOOD_HEADERS[_i].major, GOOD_HEADERS[_i].dict, 24);
    NpyArray arr;
    Error err;
    error_clear(&err);
    ck_assert_msg(npy_decode(file, len, &arr, &err), "%s: %s", GOOD_HEADERS[_i].dict, err.message);
    ck_assert_int_eq(arr.dtype, NPY_FLOAT32);
    ck_assert_int_eq(arr.ndim, 2);
    ck_assert_uint_eq(arr.shape[0], 2);
    ck_assert_uint_eq(arr.shape[1], 3);
    ck_assert_uint_eq(arr.count, 6);
    ck_assert(memcmp(arr.data, file + len - 24, 24) == 0); /* a little-endian host */
    npy_free(&arr);
    ck_assert_ptr_null(arr.data);
}
END_TEST

START_TEST(test_fortran_order_of_one_dimension_is_fine)
{
    unsigned char file[256];
    size_t len = make_npy(file, sizeof file, 1, "{'descr': '<i8', 'fortran_order': True, 'shape': (3,), }", 24);
    NpyArray arr;
    Error err;
    ck_assert(npy_decode(file, len, &arr, &err));
    ck_assert_int_eq(arr.dtype, NPY_INT64);
    ck_assert_uint_eq(arr.count, 3);
    npy_free(&arr);
}
END_TEST

START_TEST(test_scalar_and_empty)
{
    unsigned char file[256];
    NpyArray arr;
    Error err;
    size_t len = make_npy(file, sizeof file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4);
    ck_assert(npy_decode(file, len, &arr, &err));
    ck_assert_int_eq(arr.ndim, 0);
    ck_assert_uint_eq(arr.count, 1);
    npy_free(&arr);
    len = make_npy(file, sizeof file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0), }", 0);
    ck_assert_msg(npy_decode(file, len, &arr, &err), "%s", err.message);
    ck_assert_int_eq(arr.ndim, 2);
    ck_assert_uint_eq(arr.count, 0);
    npy_free(&arr);
}
END_TEST

#define F4_2x3(shape) "{'descr': '<f4', 'fortran_order': False, 'shape': " shape ", }"

/* Malformed files: version, dictionary, the data's size and the message. */
static const struct {
    const char *name;
    int major;
    const char *dict; /* NULL: raw bytes below */
    size_t data_bytes;
    const char *raw; /* when dict is NULL: the whole file */
    size_t raw_len;
    const char *message; /* a part of the error */
} BAD_FILES[] = {
    {"an empty file", 0, NULL, 0, "", 0, "too short to be a .npy file (0 bytes)"},
    {"not .npy", 0, NULL, 0, "hello world, not numpy", 22, "not a .npy file"},
    {"a .npz archive", 0, NULL, 0, "PK\x03\x04rest of a zip", 16, "zip archive"},
    {"magic only", 0, NULL, 0, "\x93NUMPY", 6, "truncated"},
    {"cut inside the length", 0, NULL, 0, "\x93NUMPY\x01\x00\x40", 9, "truncated"},
    {"version 4.0", 0, NULL, 0, "\x93NUMPY\x04\x00\x10\x00{}              \n", 26, "version 4.0 is not supported"},
    {"version 1.1", 0, NULL, 0, "\x93NUMPY\x01\x01\x10\x00{}              \n", 26, "version 1.1 is not supported"},
    {"a header over the limit", 0, NULL, 0, "\x93NUMPY\x02\x00\x00\x00\x01\x00{", 13, "LIMIT_NPY_HEADER_BYTES"},
    {"a header longer than the file", 0, NULL, 0, "\x93NUMPY\x01\x00\x00\x01{'descr'", 18,
     "the file ends inside its header"},
    {"float64", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48, NULL, 0,
     "float64 data ('<f8'); attn-trace reads float32 ('<f4') and int64 ('<i8'): convert it with "
     "arr.astype(np.float32)"},
    {"big-endian float32", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24, NULL, 0,
     "big-endian float32 data ('>f4')"},
    {"big-endian int64", 1, "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", 16, NULL, 0,
     "arr.astype('<i8')"},
    /* issue 17: an item size whose bit count overflows a long (UBSan's
     * signed overflow in refuse_descr; the plain build said "float-8") */
    {"a huge big-endian item size", 1, "{'descr': '>f99999999999999999999', 'fortran_order': False, 'shape': (1,), }",
     4, NULL, 0, "dtype '>f99999999999999999999' is not supported"},
    {"a huge item size", 1, "{'descr': '<f9223372036854775807', 'fortran_order': False, 'shape': (1,), }", 4, NULL, 0,
     "dtype '<f9223372036854775807' is not supported"},
    /* a NUL inside the descr string: NumPy refuses it, strcmp would see '<f4' */
    {"a NUL inside the descr", 0, NULL, 0,
     "\x93NUMPY\x01\x00"
     "9\x00{'descr': '<f4\x00', 'fortran_order': False, 'shape': (), }\n\x00\x00\x00\x00",
     71, "the header's 'descr' is not a quoted string"},
    {"int32", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24, NULL, 0, "int32 data ('<i4')"},
    {"objects", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16, NULL, 0, "Python objects"},
    {"booleans", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 2, NULL, 0,
     "dtype '|b1' is not supported"},
    {"a structured dtype", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8, NULL, 0,
     "structured array"},
    {"Fortran order", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, NULL, 0,
     "Fortran (column-major) order"},
    {"rank 5", 1, F4_2x3("(1, 1, 1, 1, 2)"), 8, NULL, 0,
     "5 dimensions, more than the 4 attn-trace handles (TENSOR_MAX_DIMS)"},
    {"a shape whose size overflows", 1, F4_2x3("(4294967296, 4294967296)"), 0, NULL, 0,
     "more values than can be counted"},
    {"a dimension over 2^64", 1, F4_2x3("(99999999999999999999,)"), 0, NULL, 0, "too large"},
    {"a negative dimension", 1, F4_2x3("(-2, 3)"), 24, NULL, 0, "negative dimension"},
    {"a shape as a list", 1, F4_2x3("[2, 3]"), 24, NULL, 0, "is a list"},
    {"(5) is a number", 1, F4_2x3("(5)"), 20, NULL, 0, "(5) is a number, not a tuple: a one-dimensional shape is (5,)"},
    {"a shape of words", 1, F4_2x3("(two, 3)"), 24, NULL, 0, "other than whole numbers"},
    {"too few values", 1, F4_2x3("(2, 3)"), 20, NULL, 0,
     "truncated: shape (2, 3) of float32 needs 24 bytes of data, the file has 20 after its header"},
    {"no values", 1, F4_2x3("(5, 16)"), 0, NULL, 0, "needs 320 bytes of data, the file has 0"},
    {"trailing bytes", 1, F4_2x3("(2, 3)"), 25, NULL, 0,
     "1 byte after the data (shape (2, 3) of float32 takes 24 bytes)"},
    {"no shape", 1, "{'descr': '<f4', 'fortran_order': False}", 4, NULL, 0, "the header has no 'shape'"},
    {"no descr", 1, "{'fortran_order': False, 'shape': (1,)}", 4, NULL, 0, "the header has no 'descr'"},
    {"an unknown key", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", 4, NULL, 0,
     "unknown key 'extra'"},
    {"a key twice", 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4, NULL, 0,
     "gives 'descr' twice"},
    {"fortran_order neither", 1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", 4, NULL, 0,
     "neither True nor False"},
    {"fortran_order Falsey", 1, "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", 4, NULL, 0,
     "neither True nor False"},
    {"not a dictionary", 1, "('<f4', False, (1,))", 4, NULL, 0, "not a Python dictionary"},
    {"text after the dictionary", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 4, NULL, 0,
     "text after the header's dictionary"},
    {"an unterminated string", 1, "{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}", 4, NULL, 0,
     "does not parse"},
    {"no colon", 1, "{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", 4, NULL, 0, "no ':' after 'descr'"},
    {"no comma", 1, "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4, NULL, 0, "expected ',' or '}'"},
    {"an unquoted descr", 1, "{'descr': f4, 'fortran_order': False, 'shape': (1,)}", 4, NULL, 0,
     "'descr' is not a quoted string"},
    {"an empty header", 1, "", 4, NULL, 0, "not a Python dictionary"},
};

START_TEST(test_bad_file)
{
    unsigned char file[1024];
    size_t len;
    if (BAD_FILES[_i].dict != NULL) {
        len = make_npy(file, sizeof file, BAD_FILES[_i].major, BAD_FILES[_i].dict, BAD_FILES[_i].data_bytes);
    } else {
        len = BAD_FILES[_i].raw_len;
        memcpy(file, BAD_FILES[_i].raw, len);
    }
    NpyArray arr;
    Error err;
    error_clear(&err);
    bool ok = npy_decode(file, len, &arr, &err);
    ck_assert_msg(!ok, "%s: read without an error", BAD_FILES[_i].name);
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_msg(strstr(err.message, BAD_FILES[_i].message) != NULL, "%s: message '%s' lacks '%s'", BAD_FILES[_i].name,
                  err.message, BAD_FILES[_i].message);
    ck_assert_ptr_null(arr.data);

    /* the same through a file: the path in front, the same status */
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.npy", dir);
    write_bytes(path, file, len);
    error_clear(&err);
    ok = npy_read(path, &arr, &err);
    bool header_ok = npy_read_header(path, &arr, NULL);
    fixture_remove_dir(dir);
    ck_assert_msg(!ok && !header_ok, "%s: read from a file without an error", BAD_FILES[_i].name);
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_msg(strncmp(err.message, path, strlen(path)) == 0 && strstr(err.message, BAD_FILES[_i].message) != NULL,
                  "%s: message '%s'", BAD_FILES[_i].name, err.message);
}
END_TEST

START_TEST(test_unreadable_paths)
{
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    NpyArray arr;
    Error err;
    error_clear(&err);
    snprintf(path, sizeof path, "%s/missing.npy", dir);
    ck_assert(!npy_read(path, &arr, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_msg(strstr(err.message, "cannot open") != NULL, "%s", err.message);
    error_clear(&err);
    ck_assert(!npy_read_header(dir, &arr, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_msg(strstr(err.message, "is a directory") != NULL, "%s", err.message);
    error_clear(&err);
    snprintf(path, sizeof path, "%s/fifo.npy", dir);
    if (mkfifo(path, 0600) == 0) { /* never blocks waiting for a writer */
        ck_assert(!npy_read(path, &arr, &err));
        ck_assert_int_eq(err.status, STATUS_NOINPUT);
        ck_assert_msg(strstr(err.message, "not a regular file") != NULL, "%s", err.message);
    }
    fixture_remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------
 * Round trips through files
 * ---------------------------------------------------------------------- */

START_TEST(test_round_trip_float32)
{
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.npy", dir);
    float values[2 * 3 * 2 * 2];
    for (size_t i = 0; i < COUNT_OF(values); i++)
        values[i] = (float)i * 0.1f - 1.0f;
    values[1] = -INFINITY;
    values[2] = -0.0f;
    values[3] = 1e-45f; /* the smallest subnormal */
    values[4] = NAN;
    size_t shapes[][TENSOR_MAX_DIMS] = {{24}, {4, 6}, {2, 3, 4}, {2, 3, 2, 2}};
    for (int rank = 1; rank <= 4; rank++) {
        NpyArray out = {.dtype = NPY_FLOAT32, .ndim = rank, .data = values};
        memcpy(out.shape, shapes[rank - 1], sizeof out.shape);
        Error err;
        error_clear(&err);
        uint64_t bytes = 0;
        ck_assert_msg(npy_write(path, &out, &bytes, &err), "%s", err.message);
        struct stat st;
        ck_assert(stat(path, &st) == 0);
        ck_assert_uint_eq((uint64_t)st.st_size, bytes);
        ck_assert_uint_eq(bytes, 128 + sizeof values);
        NpyArray in;
        ck_assert_msg(npy_read(path, &in, &err), "%s", err.message);
        ck_assert_int_eq(in.dtype, NPY_FLOAT32);
        ck_assert_int_eq(in.ndim, rank);
        for (int i = 0; i < rank; i++)
            ck_assert_uint_eq(in.shape[i], shapes[rank - 1][i]);
        ck_assert_uint_eq(in.count, COUNT_OF(values));
        ck_assert_msg(memcmp(in.data, values, sizeof values) == 0, "rank %d: values differ", rank);
        npy_free(&in);
    }
    int temporaries;
    ck_assert_int_eq(count_entries(dir, &temporaries), 1); /* overwritten in place, no temporary left */
    ck_assert_int_eq(temporaries, 0);
    fixture_remove_dir(dir);
}
END_TEST

START_TEST(test_round_trip_int64_and_scalar)
{
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ids.npy", dir);
    int64_t ids[] = {2, 6, 8, 3, 1, -1, INT64_MAX, INT64_MIN};
    NpyArray out = {.dtype = NPY_INT64, .ndim = 1, .shape = {COUNT_OF(ids)}, .data = ids};
    Error err;
    error_clear(&err);
    ck_assert_msg(npy_write(path, &out, NULL, &err), "%s", err.message);
    NpyArray in;
    ck_assert_msg(npy_read(path, &in, &err), "%s", err.message);
    ck_assert_int_eq(in.dtype, NPY_INT64);
    ck_assert_uint_eq(in.count, COUNT_OF(ids));
    ck_assert(memcmp(in.data, ids, sizeof ids) == 0);
    npy_free(&in);
    /* the bytes: little-endian 2 right after the 128-byte header */
    FILE *f = fopen(path, "rb");
    unsigned char head[136];
    ck_assert(f != NULL && fread(head, 1, sizeof head, f) == sizeof head);
    fclose(f);
    ck_assert(memcmp(head + 128, "\x02\0\0\0\0\0\0\0", 8) == 0);

    float scalar = 3.5f;
    NpyArray one = {.dtype = NPY_FLOAT32, .ndim = 0, .data = &scalar};
    ck_assert(npy_write(path, &one, NULL, &err));
    ck_assert(npy_read(path, &in, &err));
    ck_assert_int_eq(in.ndim, 0);
    ck_assert_uint_eq(in.count, 1);
    ck_assert(((float *)in.data)[0] == 3.5f);
    npy_free(&in);
    fixture_remove_dir(dir);
}
END_TEST

START_TEST(test_write_fails_cleanly)
{
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    float v = 1.0f;
    NpyArray out = {.dtype = NPY_FLOAT32, .ndim = 1, .shape = {1}, .data = &v};
    Error err;
    error_clear(&err);
    snprintf(path, sizeof path, "%s/no/such/dir/x.npy", dir);
    ck_assert(!npy_write(path, &out, NULL, &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    ck_assert_msg(strncmp(err.message, path, strlen(path)) == 0 && strstr(err.message, "cannot write") != NULL, "%s",
                  err.message);
    /* over a directory: rename fails, and the temporary file goes */
    snprintf(path, sizeof path, "%s/sub", dir);
    ck_assert(mkdir(path, 0700) == 0);
    error_clear(&err);
    ck_assert(!npy_write(path, &out, NULL, &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    rmdir(path);
    int temporaries;
    ck_assert_int_eq(count_entries(dir, &temporaries), 0);
    fixture_remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------
 * Exporting a trace
 * ---------------------------------------------------------------------- */

/* The names the article's trace exports (33 files). */
static const char *const ARTICLE_FILES[] = {
    "single_head.tokenized_sentence",
    "single_head.embedding",
    "single_head.sentence_embed",
    "single_head.w_key",
    "single_head.w_query",
    "single_head.w_value",
    "single_head.x_1",
    "single_head.key_1",
    "single_head.query_1",
    "single_head.value_1",
    "single_head.keys",
    "single_head.values",
    "single_head.scores_1",
    "single_head.scaled_scores_1",
    "single_head.a1",
    "single_head.z1",
    "single_head.queries",
    "single_head.scores",
    "single_head.attention_weights",
    "single_head.z",
    "multi_head.sentence_embed",
    "multi_head.w_query",
    "multi_head.w_key",
    "multi_head.w_value",
    "multi_head.w_output",
    "multi_head.queries",
    "multi_head.keys",
    "multi_head.values",
    "multi_head.scores",
    "multi_head.attention_weights",
    "multi_head.head_outputs",
    "multi_head.concat_heads",
    "multi_head.multihead_output",
};

static Trace *build(const char *const *args, Error *err)
{
    Config cfg;
    ck_assert(config_default(&cfg, err));
    for (int i = 0; args != NULL && args[i] != NULL; i += 2) {
        if (strcmp(args[i], "d_model") == 0)
            cfg.d_model = (size_t)atoi(args[i + 1]);
        else if (strcmp(args[i], "heads") == 0)
            cfg.heads = (size_t)atoi(args[i + 1]);
        else if (strcmp(args[i], "causal") == 0)
            cfg.causal = true;
    }
    Trace *trace = trace_build(&cfg, err);
    config_free(&cfg);
    return trace;
}

/* Every file read back equals the trace's tensor, bit for bit. */
static void assert_export_matches(const Trace *trace, const char *dir)
{
    int files = 0;
    for (int i = 0; i < trace->n_steps; i++)
        for (int j = 0; j < trace->steps[i].n_tensors; j++) {
            const TraceTensor *tt = &trace->steps[i].tensors[j];
            char path[1024];
            snprintf(path, sizeof path, "%s/%s.%s.npy", dir, trace_part_name(trace->steps[i].part), tt->name);
            NpyArray arr;
            Error err;
            error_clear(&err);
            ck_assert_msg(npy_read(path, &arr, &err), "%s", err.message);
            ck_assert_int_eq(arr.ndim, tt->tensor->ndim);
            for (int d = 0; d < arr.ndim; d++)
                ck_assert_uint_eq(arr.shape[d], tt->tensor->shape[d]);
            if (tt->is_integer) {
                ck_assert_msg(arr.dtype == NPY_INT64, "%s is not int64", path);
                for (size_t k = 0; k < arr.count; k++)
                    ck_assert_int_eq(((int64_t *)arr.data)[k], (int64_t)tt->tensor->data[k]);
            } else {
                ck_assert_msg(arr.dtype == NPY_FLOAT32, "%s is not float32", path);
                ck_assert_msg(memcmp(arr.data, tt->tensor->data, arr.count * sizeof(float)) == 0, "%s differs", path);
            }
            npy_free(&arr);
            files++;
        }
    ck_assert_int_gt(files, 0);
}

START_TEST(test_export_article)
{
    Error err;
    error_clear(&err);
    Trace *trace = build(NULL, &err);
    ck_assert_ptr_nonnull(trace);
    char dir[512], out[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out", dir); /* created by the export */
    ExportSummary summary;
    ck_assert_msg(export_npy(trace, out, -1, &summary, &err), "%s", err.message);
    ck_assert_int_eq(summary.files, (int)COUNT_OF(ARTICLE_FILES));
    int temporaries;
    ck_assert_int_eq(count_entries(out, &temporaries), (int)COUNT_OF(ARTICLE_FILES));
    ck_assert_int_eq(temporaries, 0);
    uint64_t total = 0;
    for (size_t i = 0; i < COUNT_OF(ARTICLE_FILES); i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.npy", out, ARTICLE_FILES[i]);
        struct stat st;
        ck_assert_msg(stat(path, &st) == 0, "%s was not written", path);
        total += (uint64_t)st.st_size;
    }
    ck_assert_uint_eq(summary.bytes, total);
    assert_export_matches(trace, out);

    /* again, over the same files, with a trailing slash; then one step */
    char slash[700];
    snprintf(slash, sizeof slash, "%s/", out);
    ck_assert_msg(export_npy(trace, slash, -1, &summary, &err), "%s", err.message);
    ck_assert_int_eq(count_entries(out, &temporaries), (int)COUNT_OF(ARTICLE_FILES));
    fixture_remove_dir(out);
    int softmax = trace_find_step(trace, "softmax", &err);
    ck_assert_msg(export_npy(trace, out, softmax, &summary, &err), "%s", err.message);
    ck_assert_int_eq(summary.files, 2); /* scaled_scores_1 and a1 */
    ck_assert_int_eq(count_entries(out, &temporaries), 2);
    fixture_remove_dir(out);
    fixture_remove_dir(dir);
    trace_free(trace);
}
END_TEST

START_TEST(test_export_causal_keeps_minus_inf)
{
    Error err;
    error_clear(&err);
    static const char *const args[] = {"causal", "1", "d_model", "8", "heads", "2", NULL};
    Trace *trace = build(args, &err);
    ck_assert_ptr_nonnull(trace);
    char dir[512];
    make_temp_dir(dir, sizeof dir);
    ck_assert_msg(export_npy(trace, dir, -1, NULL, &err), "%s", err.message);
    assert_export_matches(trace, dir);
    char path[700];
    snprintf(path, sizeof path, "%s/multi_head.scores.npy", dir);
    NpyArray arr;
    ck_assert(npy_read(path, &arr, &err));
    ck_assert(isinf(((float *)arr.data)[1]) && ((float *)arr.data)[1] < 0); /* [0][0][1] is masked */
    npy_free(&arr);
    fixture_remove_dir(dir);
    trace_free(trace);
}
END_TEST

START_TEST(test_export_refuses_a_file_and_a_missing_parent)
{
    Error err;
    error_clear(&err);
    Trace *trace = build(NULL, &err);
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/file", dir);
    write_bytes(path, "x", 1);
    ck_assert(!export_npy(trace, path, -1, NULL, &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    ck_assert_msg(strstr(err.message, "not a directory") != NULL && strncmp(err.message, path, strlen(path)) == 0, "%s",
                  err.message);
    snprintf(path, sizeof path, "%s/a/b", dir);
    error_clear(&err);
    ck_assert(!export_npy(trace, path, -1, NULL, &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    ck_assert_msg(strstr(err.message, "cannot create the directory") != NULL, "%s", err.message);
    fixture_remove_dir(dir);
    trace_free(trace);
}
END_TEST

/* ------------------------------------------------------------------------
 * Reading weights back
 * ---------------------------------------------------------------------- */

/* True when every tensor of a equals b's, bit for bit. */
static bool same_tensors(const Trace *a, const Trace *b, char *which, size_t size)
{
    if (a->n_steps != b->n_steps)
        return false;
    for (int i = 0; i < a->n_steps; i++)
        for (int j = 0; j < a->steps[i].n_tensors; j++) {
            const Tensor *x = a->steps[i].tensors[j].tensor, *y = b->steps[i].tensors[j].tensor;
            if (!tensor_same_shape(x, y) || memcmp(x->data, y->data, x->size * sizeof(float)) != 0) {
                snprintf(which, size, "%s.%s", a->steps[i].id, a->steps[i].tensors[j].name);
                return false;
            }
        }
    return true;
}

START_TEST(test_weights_round_trip)
{
    Error err;
    error_clear(&err);
    static const char *const args[] = {"d_model", "32", "heads", "8", NULL};
    Trace *plain = build(args, &err);
    ck_assert_ptr_nonnull(plain);
    char dir[512];
    make_temp_dir(dir, sizeof dir);
    ck_assert(export_npy(plain, dir, -1, NULL, &err));

    /* the default configuration: d_model 32 and 8 heads come from the files */
    Config cfg;
    ck_assert(config_default(&cfg, &err));
    Weights weights;
    ck_assert_msg(weights_load(dir, 0, trace_bytes, &cfg, &weights, &err), "%s", err.message);
    ck_assert_uint_eq(cfg.d_model, 32);
    ck_assert_uint_eq(cfg.heads, 8);
    ck_assert_uint_eq(cfg.vocab_size, 10);
    for (int id = 0; id < WEIGHT_COUNT; id++)
        ck_assert_msg(weights_has(&weights, (WeightId)id), "%s not loaded", weights_file_name((WeightId)id));
    Trace *loaded = trace_build_weights(&cfg, &weights, &err);
    weights_free(&weights);
    ck_assert_msg(loaded != NULL, "%s", err.message);
    char which[128] = "";
    ck_assert_msg(same_tensors(plain, loaded, which, sizeof which), "%s differs", which);
    /* the steps say where the weights came from */
    int step = trace_find_step(loaded, "weights", &err);
    ck_assert_msg(strstr(loaded->steps[step].formula, "w_key, w_query, w_value loaded from ") != NULL, "%s",
                  loaded->steps[step].formula);
    ck_assert(loaded->steps[step].tensors[0].loaded);
    step = trace_find_step(loaded, "mh_weights", &err);
    ck_assert_msg(strstr(loaded->steps[step].formula, "w_output (loaded)") != NULL, "%s", loaded->steps[step].formula);
    step = trace_find_step(plain, "weights", &err);
    ck_assert_str_eq(plain->steps[step].formula, "w_key, w_query, w_value = torch.rand(32, 32)   → [32, 32] each");
    ck_assert(!plain->steps[step].tensors[0].loaded);
    trace_free(loaded);
    config_free(&cfg);
    fixture_remove_dir(dir);
    trace_free(plain);
}
END_TEST

/* One file alone: it replaces its tensor, every other draw is as usual. */
START_TEST(test_weights_one_file)
{
    Error err;
    error_clear(&err);
    Trace *plain = build(NULL, &err);
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/single_head.w_query.npy", dir);
    float ones[16 * 16];
    for (size_t i = 0; i < COUNT_OF(ones); i++)
        ones[i] = 1.0f;
    NpyArray arr = {.dtype = NPY_FLOAT32, .ndim = 2, .shape = {16, 16}, .data = ones};
    ck_assert(npy_write(path, &arr, NULL, &err));
    snprintf(path, sizeof path, "%s/unrelated.npy", dir); /* ignored */
    write_bytes(path, "junk", 4);
    Config cfg;
    ck_assert(config_default(&cfg, &err));
    Weights weights;
    ck_assert_msg(weights_load(dir, 0, trace_bytes, &cfg, &weights, &err), "%s", err.message);
    Trace *loaded = trace_build_weights(&cfg, &weights, &err);
    weights_free(&weights);
    ck_assert_ptr_nonnull(loaded);
    const TraceTensor *wq = trace_find_tensor(loaded, PART_SINGLE_HEAD, "w_query");
    ck_assert(memcmp(wq->tensor->data, ones, sizeof ones) == 0);
    static const char *const same[][2] = {{"single_head", "embedding"}, {"single_head", "w_key"},
                                          {"single_head", "w_value"},   {"multi_head", "w_query"},
                                          {"multi_head", "w_output"},   {"multi_head", "sentence_embed"}};
    for (size_t i = 0; i < COUNT_OF(same); i++) {
        TracePart part = strcmp(same[i][0], "single_head") == 0 ? PART_SINGLE_HEAD : PART_MULTI_HEAD;
        const Tensor *a = trace_find_tensor(plain, part, same[i][1])->tensor;
        const Tensor *b = trace_find_tensor(loaded, part, same[i][1])->tensor;
        ck_assert_msg(memcmp(a->data, b->data, a->size * sizeof(float)) == 0, "%s.%s changed", same[i][0], same[i][1]);
    }
    int step = trace_find_step(loaded, "weights", &err);
    ck_assert_msg(strstr(loaded->steps[step].formula, "w_query loaded from ") != NULL &&
                      strstr(loaded->steps[step].formula, ", w_key, w_value = torch.rand(16, 16)") != NULL,
                  "%s", loaded->steps[step].formula);
    trace_free(loaded);
    trace_free(plain);
    config_free(&cfg);
    fixture_remove_dir(dir);
}
END_TEST

/* Bad weight directories: what is in them and the message. */
static const struct {
    const char *name;
    const char *file; /* NULL: an empty directory */
    NpyDtype dtype;
    int ndim;
    size_t shape[3];
    unsigned fixed;
    size_t d_model; /* with WEIGHTS_FIXED_D_MODEL */
    int status;
    const char *message;
} BAD_WEIGHTS[] = {
    {"no known file",
     NULL,
     NPY_FLOAT32,
     0,
     {0},
     0,
     0,
     STATUS_NOINPUT,
     "no weight files there; expected one or more of single_head.embedding.npy, single_head.w_key.npy"},
    {"int64 weights",
     "single_head.w_key.npy",
     NPY_INT64,
     2,
     {16, 16},
     0,
     0,
     STATUS_DATAERR,
     "int64 data, but weights are float32 ('<f4'): convert with arr.astype(np.float32)"},
    {"a wrong rank",
     "multi_head.w_key.npy",
     NPY_FLOAT32,
     2,
     {16, 16},
     0,
     0,
     STATUS_DATAERR,
     "shape (16, 16) has 2 dimensions, but w_key is [heads, d_model, d_k]"},
    {"not square",
     "single_head.w_value.npy",
     NPY_FLOAT32,
     2,
     {16, 8},
     0,
     0,
     STATUS_DATAERR,
     "shape (16, 8), but w_value is square"},
    {"--d-model fixed and different",
     "single_head.embedding.npy",
     NPY_FLOAT32,
     2,
     {10, 32},
     WEIGHTS_FIXED_D_MODEL,
     16,
     STATUS_DATAERR,
     "shape (10, 32), but vocab_size 10 (from single_head.embedding.npy) and d_model 16 (from --d-model) need (10, "
     "16)"},
    {"too few rows for the token ids",
     "single_head.embedding.npy",
     NPY_FLOAT32,
     2,
     {5, 16},
     0,
     0,
     STATUS_DATAERR,
     "5 rows, but token id 6 (token 2) is not below that"},
    {"heads that do not divide d",
     "single_head.embedding.npy",
     NPY_FLOAT32,
     2,
     {10, 10},
     0,
     0,
     STATUS_DATAERR,
     "heads 4 (from the configuration) does not divide d_model 10 (from single_head.embedding.npy)"},
    {"d_k that does not fit",
     "multi_head.w_value.npy",
     NPY_FLOAT32,
     3,
     {4, 16, 8},
     0,
     0,
     STATUS_DATAERR,
     "need (4, 16, 4)"},
    {"over the memory cap",
     "single_head.embedding.npy",
     NPY_FLOAT32,
     2,
     {262144, 4096},
     0,
     0,
     STATUS_DATAERR,
     "over the 1.0 GiB cap; --max-memory"},
};

START_TEST(test_weights_bad)
{
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    Error err;
    error_clear(&err);
    if (BAD_WEIGHTS[_i].file != NULL) {
        snprintf(path, sizeof path, "%s/%s", dir, BAD_WEIGHTS[_i].file);
        size_t count = 1;
        for (int i = 0; i < BAD_WEIGHTS[_i].ndim; i++)
            count *= BAD_WEIGHTS[_i].shape[i];
        /* a huge file is written sparse: only its header is checked */
        if (count > 100000) {
            char header[NPY_HEADER_WRITE_BYTES];
            size_t len = npy_format_header(BAD_WEIGHTS[_i].dtype, BAD_WEIGHTS[_i].ndim, BAD_WEIGHTS[_i].shape, header,
                                           sizeof header);
            write_bytes(path, header, len);
            ck_assert(truncate(path, (off_t)(len + count * 4)) == 0);
        } else {
            void *data = calloc(count, 8);
            NpyArray arr = {.dtype = BAD_WEIGHTS[_i].dtype, .ndim = BAD_WEIGHTS[_i].ndim, .data = data};
            memcpy(arr.shape, BAD_WEIGHTS[_i].shape, sizeof BAD_WEIGHTS[_i].shape);
            ck_assert(npy_write(path, &arr, NULL, &err));
            free(data);
        }
    }
    Config cfg;
    ck_assert(config_default(&cfg, &err));
    if (BAD_WEIGHTS[_i].fixed & WEIGHTS_FIXED_D_MODEL)
        cfg.d_model = BAD_WEIGHTS[_i].d_model;
    Weights weights;
    bool ok = weights_load(dir, BAD_WEIGHTS[_i].fixed, trace_bytes, &cfg, &weights, &err);
    config_free(&cfg);
    fixture_remove_dir(dir);
    ck_assert_msg(!ok, "%s: loaded", BAD_WEIGHTS[_i].name);
    ck_assert_int_eq(err.status, BAD_WEIGHTS[_i].status);
    ck_assert_msg(strstr(err.message, BAD_WEIGHTS[_i].message) != NULL, "%s: '%s' lacks '%s'", BAD_WEIGHTS[_i].name,
                  err.message, BAD_WEIGHTS[_i].message);
    for (int id = 0; id < WEIGHT_COUNT; id++)
        ck_assert(!weights.present[id] && weights.arrays[id].data == NULL);
}
END_TEST

START_TEST(test_weights_dir_problems)
{
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    Weights weights;
    snprintf(path, sizeof path, "%s/missing", dir);
    ck_assert(!weights_load(path, 0, trace_bytes, &cfg, &weights, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_msg(strstr(err.message, "cannot open") != NULL, "%s", err.message);
    snprintf(path, sizeof path, "%s/file", dir);
    write_bytes(path, "x", 1);
    ck_assert(!weights_load(path, 0, trace_bytes, &cfg, &weights, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_msg(strstr(err.message, "not a directory") != NULL, "%s", err.message);
    /* a truncated weight file */
    snprintf(path, sizeof path, "%s/single_head.w_key.npy", dir);
    unsigned char file[256];
    size_t len = make_npy(file, sizeof file, 1, F4_2x3("(16, 16)"), 100);
    write_bytes(path, file, len);
    ck_assert(!weights_load(dir, 0, trace_bytes, &cfg, &weights, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_msg(strstr(err.message, "single_head.w_key.npy: truncated") != NULL, "%s", err.message);
    config_free(&cfg);
    fixture_remove_dir(dir);
}
END_TEST

START_TEST(test_weights_describe)
{
    char buf[160];
    weights_describe(NULL, WEIGHT_KEY, WEIGHT_VALUE, "torch.rand(16, 16)", " → x", buf, sizeof buf);
    ck_assert_str_eq(buf, "w_key, w_query, w_value = torch.rand(16, 16) → x");
    Weights w = {0};
    snprintf(w.shown_dir, sizeof w.shown_dir, "mine");
    w.present[WEIGHT_QUERY] = true;
    weights_describe(&w, WEIGHT_KEY, WEIGHT_VALUE, "torch.rand(16, 16)", "", buf, sizeof buf);
    ck_assert_str_eq(buf, "w_query loaded from mine, w_key, w_value = torch.rand(16, 16)");
    /* cut on a whole character: "→" is three bytes */
    weights_describe(&w, WEIGHT_QUERY, WEIGHT_QUERY, "", " →", buf, 27);
    ck_assert_str_eq(buf, "w_query loaded from mine ");
}
END_TEST

Suite *npy_suite(void)
{
    Suite *suite = suite_create("npy");

    TCase *header = tcase_create("header");
    tcase_add_test(header, test_header_bytes_1d);
    tcase_add_loop_test(header, test_header_shapes, 0, COUNT_OF(HEADER_CASES));
    tcase_add_test(header, test_header_refuses_bad_rank_and_small_buffer);
    tcase_add_test(header, test_shape_str);
    suite_add_tcase(suite, header);

    TCase *read = tcase_create("read");
    tcase_add_loop_test(read, test_reads_other_headers, 0, COUNT_OF(GOOD_HEADERS));
    tcase_add_test(read, test_fortran_order_of_one_dimension_is_fine);
    tcase_add_test(read, test_scalar_and_empty);
    tcase_add_loop_test(read, test_bad_file, 0, COUNT_OF(BAD_FILES));
    tcase_add_test(read, test_unreadable_paths);
    suite_add_tcase(suite, read);

    TCase *files = tcase_create("files");
    tcase_add_test(files, test_round_trip_float32);
    tcase_add_test(files, test_round_trip_int64_and_scalar);
    tcase_add_test(files, test_write_fails_cleanly);
    suite_add_tcase(suite, files);

    TCase *export = tcase_create("export");
    tcase_add_test(export, test_export_article);
    tcase_add_test(export, test_export_causal_keeps_minus_inf);
    tcase_add_test(export, test_export_refuses_a_file_and_a_missing_parent);
    suite_add_tcase(suite, export);

    TCase *weights = tcase_create("weights");
    tcase_add_test(weights, test_weights_round_trip);
    tcase_add_test(weights, test_weights_one_file);
    tcase_add_loop_test(weights, test_weights_bad, 0, COUNT_OF(BAD_WEIGHTS));
    tcase_add_test(weights, test_weights_dir_problems);
    tcase_add_test(weights, test_weights_describe);
    tcase_set_timeout(weights, 30);
    suite_add_tcase(suite, weights);
    return suite;
}
