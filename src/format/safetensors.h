/*
 * safetensors.h - the .safetensors format: a checked, memory-mapped reader.
 *
 * A .safetensors file (Hugging Face's format for model weights) is:
 *
 *   8 bytes    N, the header's length, an unsigned little-endian integer
 *   N bytes    a JSON object, UTF-8, often padded with spaces:
 *                { "NAME": {"dtype": "F32", "shape": [768, 2304],
 *                           "data_offsets": [BEGIN, END]}, ...,
 *                  "__metadata__": {"format": "pt"} }
 *   the rest   the data section: each tensor's values, row-major and
 *              little-endian, at [BEGIN, END) counted from the section's
 *              start
 *
 * Nothing a file says is trusted. safetensors_open maps the file read-only
 * and checks, before anything is used: the header length (at least 2, at
 * most LIMIT_SAFETENSORS_HEADER_BYTES, within the file), that the header is
 * strict JSON (json.h) and an object starting with '{', every entry's form
 * (an object with a dtype string, a shape array of non-negative integers of
 * at most LIMIT_SAFETENSORS_MAX_RANK dimensions, and data_offsets of two
 * integers), the dtype (one of the format's names; unknown names are
 * refused), the shape's product and byte size without overflow, that END -
 * BEGIN is exactly the shape's element count times the dtype's size, that
 * BEGIN <= END, and that the entries tile the data section: sorted by
 * BEGIN they follow each other with no overlap and no hole, the first at 0
 * and the last ending at the end of the file (as the format's own reader
 * demands).
 *
 * Every dtype of the format is understood well enough to check its size,
 * but only F32, F16 and BF16 convert to float32 (safetensors_read_f32);
 * the others (F64, I64, U8, BOOL, ...) are refused there, by name, so a
 * file that carries a boolean mask beside its weights still opens.
 *
 * Errors are values (error.h): STATUS_NOINPUT for a file that cannot be
 * opened, read or mapped, STATUS_DATAERR for content that breaks any rule
 * above; every message starts with the file's name ("FILE: message", or
 * "FILE:LINE:COL: message" when the JSON parser points into the header).
 */
#ifndef ATTN_SAFETENSORS_H
#define ATTN_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attn_limits.h"
#include "error.h"

/* The dtypes of the format. Only the first three convert to float32. */
typedef enum SafeDtype {
    SAFE_F32,
    SAFE_F16,
    SAFE_BF16,
    SAFE_F64,
    SAFE_I64,
    SAFE_U64,
    SAFE_I32,
    SAFE_U32,
    SAFE_I16,
    SAFE_U16,
    SAFE_I8,
    SAFE_U8,
    SAFE_BOOL,
    SAFE_F8_E4M3,
    SAFE_F8_E5M2,
    SAFE_DTYPE_COUNT
} SafeDtype;

/* One tensor of the file. All of it is owned by its SafeTensors. */
typedef struct SafeTensor {
    const char *name; /* as in the header, NUL-terminated, no NUL inside */
    SafeDtype dtype;
    int rank;                                   /* 0..LIMIT_SAFETENSORS_MAX_RANK; 0 is a scalar */
    uint64_t shape[LIMIT_SAFETENSORS_MAX_RANK]; /* shape[i] for i < rank; 1 beyond */
    uint64_t count;                             /* product of the shape (1 for a scalar, 0 with a 0 dimension) */
    uint64_t begin, end;                        /* byte range in the data section; end - begin = count * size */
    const unsigned char *data;                  /* the values (end - begin bytes), in the mapping */
} SafeTensor;

/* An open file: the mapping and the tensors it holds. Read the fields;
 * change none. */
typedef struct SafeTensors {
    char *name;                 /* the path (or the name given to safetensors_parse), for messages */
    unsigned char *map;         /* the whole file, mapped read-only; NULL for safetensors_parse */
    size_t map_bytes;           /* its length */
    const unsigned char *bytes; /* the file's bytes (the mapping, or the caller's buffer) */
    uint64_t header_bytes;      /* N, the JSON header's length */
    const unsigned char *data;  /* the data section: bytes + 8 + N */
    uint64_t data_bytes;        /* its length */
    size_t n_tensors;
    SafeTensor *tensors; /* n_tensors, sorted by name (strcmp) */
    char *names;         /* storage of every tensor's name */
} SafeTensors;

/* The format's name of dtype ("F32", "BF16", ...). */
const char *safetensors_dtype_name(SafeDtype dtype);

/* Bytes one value of dtype takes (1, 2, 4 or 8). */
size_t safetensors_dtype_size(SafeDtype dtype);

/* Maps the file at path read-only and checks everything above. Returns
 * the open file (the caller closes it with safetensors_close) or NULL with
 * err set: STATUS_NOINPUT "PATH: cannot open: REASON" (also for a
 * directory or a file that cannot be mapped), STATUS_DATAERR "PATH: ..."
 * for every broken rule, STATUS_FAILURE when memory runs out. */
SafeTensors *safetensors_open(const char *path, Error *err);

/* As safetensors_open for a file already in memory: bytes[0..len), which
 * the caller keeps alive and unchanged until safetensors_close. name (NULL
 * for "safetensors") is used in messages. For tests and the fuzzer. */
SafeTensors *safetensors_parse(const unsigned char *bytes, size_t len, const char *name, Error *err);

/* Unmaps and frees st. NULL is a no-op. */
void safetensors_close(SafeTensors *st);

/* The tensor called name, or NULL when st has none (binary search). */
const SafeTensor *safetensors_find(const SafeTensors *st, const char *name);

/* The values in one row of t: the product of its dimensions after the
 * first (1 for rank 0 or 1). */
uint64_t safetensors_row_count(const SafeTensor *t);

/* Converts rows [first_row, first_row + n_rows) of t (rows along its first
 * dimension; a scalar is one row) to float32 into out, which has room for
 * n_rows * safetensors_row_count(t) floats. F32 is copied; F16 and BF16
 * widen exactly (every F16 and BF16 value, subnormals, infinities and NaN
 * payloads included, is a float32 value, so no rounding happens). Fails
 * with STATUS_DATAERR "NAME: tensor TENSOR: dtype D cannot be read as
 * float32 (attn-trace reads F32, F16 and BF16)" for another dtype, or
 * "... rows A..B are outside its N rows" for a range past the end. */
bool safetensors_read_f32(const SafeTensors *st, const SafeTensor *t, uint64_t first_row, uint64_t n_rows, float *out,
                          Error *err);

/* Tells the kernel that the pages of rows [first_row, first_row + n_rows)
 * of t are not needed any more (madvise MADV_DONTNEED on the whole pages
 * inside that range), so they leave the process's resident set; they stay
 * in the page cache and read back as before when touched again. A no-op
 * for safetensors_parse's buffers and where madvise is missing. */
void safetensors_release(const SafeTensors *st, const SafeTensor *t, uint64_t first_row, uint64_t n_rows);

/* Asks the kernel to read rows [first_row, first_row + n_rows) of t ahead
 * (MADV_WILLNEED). Advice only; a no-op where it is missing. */
void safetensors_prefetch(const SafeTensors *st, const SafeTensor *t, uint64_t first_row, uint64_t n_rows);

#endif
