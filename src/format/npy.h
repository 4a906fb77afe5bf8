/*
 * npy.h - NumPy's .npy format: a small reader and writer.
 *
 * A .npy file holds one array: the magic bytes "\x93NUMPY", a format
 * version, the length of a header, the header itself (a Python dictionary
 * literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (5, 16), })
 * and then the raw values in row-major order.
 *
 * Writing: format version 1.0, little-endian float32 ('<f4') or int64
 * ('<i8') values, the header padded with spaces and ended by '\n' so that
 * the data starts at a multiple of 64 bytes, as NumPy itself writes.
 * Reading: versions 1.0, 2.0 and 3.0, with those two dtypes; anything else
 * (float64, big-endian, Fortran order, objects, ...) is refused with a
 * message that says what the file holds and how to convert it.
 *
 * Nothing a file says is trusted: the header length, the rank and the
 * shape are checked against the limits and against the file's own size
 * before anything is allocated. Errors are values (error.h): STATUS_DATAERR
 * for bad content, STATUS_NOINPUT for a file that cannot be read,
 * STATUS_FAILURE for one that cannot be written; the file functions put
 * "PATH: " in front of their messages.
 */
#ifndef ATTN_NPY_H
#define ATTN_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attn_limits.h"
#include "error.h"

/* The dtypes attn-trace reads and writes. */
typedef enum NpyDtype {
    NPY_FLOAT32, /* '<f4': every tensor of a trace */
    NPY_INT64    /* '<i8': token ids */
} NpyDtype;

/* NPY_HEADER_WRITE_BYTES, the room for any header npy_format_header
 * writes, is in attn_limits.h. */

/* One array. For writing, fill dtype, ndim, shape and data; for reading,
 * npy_read fills everything. */
typedef struct NpyArray {
    NpyDtype dtype;
    int ndim;                      /* 0..TENSOR_MAX_DIMS; 0 is a scalar */
    size_t shape[TENSOR_MAX_DIMS]; /* shape[i] for i < ndim; 1 beyond */
    size_t count;                  /* product of shape[0..ndim): 1 for a scalar, 0 when a dimension is 0 */
    size_t data_offset;            /* bytes before the values in the file: magic, version, header */
    void *data;                    /* count values, float or int64_t in host order; owned after a read */
} NpyArray;

/* "float32" or "int64". */
const char *npy_dtype_name(NpyDtype dtype);

/* Bytes one value of dtype takes: 4 or 8. */
size_t npy_dtype_size(NpyDtype dtype);

/* Writes a shape as Python writes a tuple: "()", "(5,)", "(5, 16)", into
 * buf (always NUL-terminated). Returns buf. */
char *npy_shape_str(int ndim, const size_t *shape, char *buf, size_t size);

/* The header of a version 1.0 file for dtype and shape (ndim 0 to
 * TENSOR_MAX_DIMS): the magic, the version, the little-endian length and
 * the dictionary, padded with spaces and ended by '\n' to a multiple of 64
 * bytes. buf needs NPY_HEADER_WRITE_BYTES. Returns the header's length
 * (where the data starts), or 0 on a bad rank or a buffer too small. */
size_t npy_format_header(NpyDtype dtype, int ndim, const size_t *shape, char *buf, size_t size);

/* Parses the header of a .npy file of file_size bytes whose first len
 * bytes are in bytes[0..len) (all of them, or at least the first
 * LIMIT_NPY_HEADER_BYTES + 12). Fills arr's dtype, ndim, shape, count and
 * data_offset (data stays NULL) after checking that the values fill the
 * rest of the file exactly. Errors (STATUS_DATAERR, no file name): not a
 * .npy file, a version other than 1.0/2.0/3.0, a header longer than
 * LIMIT_NPY_HEADER_BYTES or cut short, a dictionary that does not parse, a
 * dtype other than '<f4' and '<i8' (float64, big-endian and object arrays
 * named as such), Fortran order for more than one dimension, a rank over
 * TENSOR_MAX_DIMS, a shape whose size overflows, missing or trailing data. */
bool npy_parse_header(const unsigned char *bytes, size_t len, uint64_t file_size, NpyArray *arr, Error *err);

/* Decodes a whole .npy file held in memory (bytes[0..len)). On success
 * arr->data holds the values in host order; free with npy_free. Errors as
 * npy_parse_header, or out of memory. */
bool npy_decode(const unsigned char *bytes, size_t len, NpyArray *arr, Error *err);

/* Reads only the header of the file at path and checks it against the
 * file's size (as npy_parse_header); arr->data stays NULL. A path that
 * cannot be opened or read, or is not a regular file: STATUS_NOINPUT. */
bool npy_read_header(const char *path, NpyArray *arr, Error *err);

/* Reads the file at path whole: the header, checked as above, then the
 * values into arr->data (host order; free with npy_free). */
bool npy_read(const char *path, NpyArray *arr, Error *err);

/* Frees arr's data and clears it. NULL is a no-op. */
void npy_free(NpyArray *arr);

/* Writes arr (dtype, ndim, shape, data; count is worked out) to path as a
 * version 1.0 file with little-endian values. The file is written under a
 * temporary name in the same directory and renamed into place, so a
 * partly written file never appears under path. *file_bytes (when not
 * NULL) gets the file's size. Errors: STATUS_FAILURE, "PATH: cannot write:
 * reason". */
bool npy_write(const char *path, const NpyArray *arr, uint64_t *file_bytes, Error *err);

#endif
