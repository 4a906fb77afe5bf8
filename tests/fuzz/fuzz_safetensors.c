/*
 * fuzz_safetensors.c - safetensors.c: the input is a whole .safetensors
 * file (the 8-byte length, the JSON header, the data section), handed to
 * safetensors_parse.
 *
 * A refusal must be one printable line starting with the file's name,
 * with STATUS_DATAERR (or STATUS_FAILURE for memory). An accepted file
 * must keep what safetensors.h promises: the tensors sorted by name with
 * no two alike and each found by safetensors_find; each one's bytes inside
 * the data section and exactly its count times its dtype's size; the
 * entries, in offset order, tiling the data section; and every F32, F16 or
 * BF16 tensor converts (whole when small, else its first and last rows)
 * with the values reading only inside the input (the sanitizers check),
 * F32 bit for bit and BF16 as the high halves of its floats.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fuzz.h"
#include "safetensors.h"

/* Most values converted for one tensor. */
#define CONVERT_BUDGET 65536

static void check_error(const Error *err)
{
    FUZZ_CHECK(err->status == STATUS_DATAERR || err->status == STATUS_FAILURE, "status %d: %s", err->status,
               err->message);
    FUZZ_CHECK(strncmp(err->message, "fuzz.safetensors", 16) == 0, "message without the name: '%s'", err->message);
    for (const char *c = err->message; *c != '\0'; c++)
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in message '%s'", err->message);
}

static int by_begin(const void *a, const void *b)
{
    const SafeTensor *const *x = a, *const *y = b;
    if ((*x)->begin != (*y)->begin)
        return (*x)->begin < (*y)->begin ? -1 : 1;
    return 0;
}

/* Converts rows [first, first + n) of t and checks the values against the
 * bytes. */
static void convert(const SafeTensors *st, const SafeTensor *t, uint64_t first, uint64_t n)
{
    uint64_t per_row = t->rank == 0 ? 1 : safetensors_row_count(t);
    size_t count = (size_t)(n * per_row);
    float *out = malloc(count > 0 ? count * sizeof *out : 1);
    FUZZ_CHECK(out != NULL, "out of memory");
    Error err;
    error_clear(&err);
    FUZZ_CHECK(safetensors_read_f32(st, t, first, n, out, &err), "tensor %s rows %llu+%llu: %s", t->name,
               (unsigned long long)first, (unsigned long long)n, err.message);
    size_t elem = safetensors_dtype_size(t->dtype);
    const unsigned char *src = t->data + first * per_row * elem;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &out[i], sizeof bits);
        if (t->dtype == SAFE_F32) {
            uint32_t want = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 | (uint32_t)src[4 * i + 2] << 16 |
                            (uint32_t)src[4 * i + 3] << 24;
            FUZZ_CHECK(bits == want, "F32 value %zu of %s: %08x, file %08x", i, t->name, bits, want);
        } else if (t->dtype == SAFE_BF16) {
            uint32_t want = ((uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8) << 16;
            FUZZ_CHECK(bits == want, "BF16 value %zu of %s: %08x, want %08x", i, t->name, bits, want);
        } else {
            /* F16: the sign survives, and a half's exponent 31 means inf or NaN */
            uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
            FUZZ_CHECK((bits >> 31) == (uint32_t)(h >> 15), "F16 value %zu of %s: sign", i, t->name);
            if (((h >> 10) & 31) == 31)
                FUZZ_CHECK(((bits >> 23) & 255) == 255, "F16 value %zu of %s: not inf/NaN", i, t->name);
        }
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Error err;
    error_clear(&err);
    SafeTensors *st = safetensors_parse(data, size, "fuzz.safetensors", &err);
    if (st == NULL) {
        check_error(&err);
        return 0;
    }
    FUZZ_CHECK(st->header_bytes >= 2 && st->header_bytes <= size - 8, "header length %llu",
               (unsigned long long)st->header_bytes);
    FUZZ_CHECK(st->data == data + 8 + st->header_bytes && st->data_bytes == size - 8 - st->header_bytes,
               "data section");
    const SafeTensor **order = malloc((st->n_tensors > 0 ? st->n_tensors : 1) * sizeof *order);
    FUZZ_CHECK(order != NULL, "out of memory");
    for (size_t i = 0; i < st->n_tensors; i++) {
        const SafeTensor *t = &st->tensors[i];
        order[i] = t;
        FUZZ_CHECK(i == 0 || strcmp(st->tensors[i - 1].name, t->name) < 0, "names not sorted or repeated: %s", t->name);
        FUZZ_CHECK(safetensors_find(st, t->name) == t, "find(%s)", t->name);
        FUZZ_CHECK(t->rank >= 0 && t->rank <= LIMIT_SAFETENSORS_MAX_RANK, "rank %d", t->rank);
        uint64_t count = 1;
        for (int r = 0; r < t->rank; r++)
            count *= t->shape[r];
        FUZZ_CHECK(count == t->count, "%s: count %llu, shape says %llu", t->name, (unsigned long long)t->count,
                   (unsigned long long)count);
        FUZZ_CHECK(t->begin <= t->end && t->end <= st->data_bytes, "%s: offsets", t->name);
        FUZZ_CHECK(t->end - t->begin == t->count * safetensors_dtype_size(t->dtype), "%s: size", t->name);
        FUZZ_CHECK(t->data == st->data + t->begin, "%s: data pointer", t->name);
    }
    /* the tiling */
    qsort(order, st->n_tensors, sizeof *order, by_begin);
    uint64_t at = 0;
    for (size_t i = 0; i < st->n_tensors; i++) {
        FUZZ_CHECK(order[i]->begin == at, "%s begins at %llu, previous ended at %llu", order[i]->name,
                   (unsigned long long)order[i]->begin, (unsigned long long)at);
        at = order[i]->end;
    }
    FUZZ_CHECK(at == st->data_bytes, "tensors end at %llu of %llu", (unsigned long long)at,
               (unsigned long long)st->data_bytes);
    free(order);
    /* conversions */
    for (size_t i = 0; i < st->n_tensors; i++) {
        const SafeTensor *t = &st->tensors[i];
        float one;
        if (t->dtype != SAFE_F32 && t->dtype != SAFE_F16 && t->dtype != SAFE_BF16) {
            FUZZ_CHECK(!safetensors_read_f32(st, t, 0, 0, &one, &err), "%s: dtype %s converted", t->name,
                       safetensors_dtype_name(t->dtype));
            check_error(&err);
            continue;
        }
        uint64_t rows = t->rank == 0 ? 1 : t->shape[0];
        uint64_t per_row = t->rank == 0 ? 1 : safetensors_row_count(t);
        if (t->count <= CONVERT_BUDGET) {
            convert(st, t, 0, rows);
        } else if (per_row <= CONVERT_BUDGET) {
            convert(st, t, 0, 1);
            convert(st, t, rows - 1, 1);
        }
        FUZZ_CHECK(!safetensors_read_f32(st, t, rows, 1, &one, &err), "%s: a row past the end converted", t->name);
        check_error(&err);
        safetensors_release(st, t, 0, rows); /* a no-op without a mapping */
        safetensors_prefetch(st, t, 0, rows);
    }
    safetensors_close(st);
    return 0;
}
