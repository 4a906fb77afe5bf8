/*
 * fuzz_npy.c - npy.c: the input is a whole .npy file (magic, version,
 * header length, the Python dictionary, the values), handed to npy_decode
 * as weights.c reads a file.
 *
 * A refusal must be one printable line with STATUS_DATAERR (or
 * STATUS_FAILURE for memory). An accepted file must keep what npy.h
 * promises: a dtype of float32 or int64, a rank within TENSOR_MAX_DIMS
 * with 1 beyond it, count the product of the shape, and the values filling
 * the rest of the file exactly, copied bit for bit (a little-endian host).
 * npy_parse_header on the same bytes agrees with npy_decode.
 */
#include <string.h>

#include "error.h"
#include "fuzz.h"
#include "npy.h"

static void check_error(const Error *err)
{
    FUZZ_CHECK(err->status == STATUS_DATAERR || err->status == STATUS_FAILURE, "status %d: %s", err->status,
               err->message);
    FUZZ_CHECK(err->message[0] != '\0', "an empty message");
    for (const char *c = err->message; *c != '\0'; c++)
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in message '%s'", err->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    NpyArray arr;
    Error err;
    error_clear(&err);
    if (!npy_decode(data, size, &arr, &err)) {
        check_error(&err);
        FUZZ_CHECK(arr.data == NULL, "a refused file left data");
        return 0;
    }
    FUZZ_CHECK(arr.dtype == NPY_FLOAT32 || arr.dtype == NPY_INT64, "dtype %d", (int)arr.dtype);
    FUZZ_CHECK(arr.ndim >= 0 && arr.ndim <= TENSOR_MAX_DIMS, "ndim %d", arr.ndim);
    size_t count = 1;
    for (int i = 0; i < TENSOR_MAX_DIMS; i++) {
        if (i < arr.ndim)
            count *= arr.shape[i];
        else
            FUZZ_CHECK(arr.shape[i] == 1, "shape[%d] = %zu past the rank", i, arr.shape[i]);
    }
    FUZZ_CHECK(count == arr.count, "count %zu, the shape gives %zu", arr.count, count);
    size_t itemsize = npy_dtype_size(arr.dtype);
    FUZZ_CHECK(arr.data_offset <= size && (size - arr.data_offset) / itemsize == arr.count &&
                   (size - arr.data_offset) % itemsize == 0,
               "%zu values of %zu bytes after offset %zu in %zu bytes", arr.count, itemsize, arr.data_offset, size);
    FUZZ_CHECK(arr.count == 0 || memcmp(arr.data, data + arr.data_offset, arr.count * itemsize) == 0,
               "the values are not the file's bytes");
    NpyArray header;
    FUZZ_CHECK(npy_parse_header(data, size, size, &header, &err), "decode took it, the header parser not: %s",
               err.message);
    FUZZ_CHECK(header.count == arr.count && header.dtype == arr.dtype && header.data_offset == arr.data_offset,
               "the header parser disagrees");
    npy_free(&arr);
    return 0;
}
