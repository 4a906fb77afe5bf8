/*
 * png.c - a minimal indexed-colour PNG encoder with stored deflate blocks
 * (see png.h). Layout of the file (PNG 1.2, RFC 1950 and RFC 1951):
 *
 *   signature  89 50 4E 47 0D 0A 1A 0A
 *   chunk      length (4, big-endian), type (4), data, CRC-32 of type+data
 *   IHDR       width, height, depth 8, colour type 3, compression 0,
 *              filter 0, interlace 0
 *   PLTE       the palette, 3 bytes per colour
 *   IDAT       zlib: header 78 01, stored blocks, Adler-32 of the raw bytes
 *   IEND       empty
 *
 * A stored block is one byte of flags (1 for the last block, else 0),
 * LEN and its complement NLEN (16 bits each, little-endian), then LEN raw
 * bytes. The raw bytes are the rows, each a filter byte 0 and its pixels.
 */
#include "png.h"

#include <stdlib.h>
#include <string.h>

/* Largest chunk length PNG allows. */
#define PNG_MAX_CHUNK 0x7fffffffULL

/* The CRC-32 table for the reflected polynomial 0xEDB88320, made once. */
static uint32_t crc_table[256];
static bool crc_table_ready;

static void crc_table_make(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    crc_table_ready = true;
}

uint32_t png_crc32(uint32_t crc, const unsigned char *data, size_t n)
{
    if (!crc_table_ready)
        crc_table_make();
    uint32_t c = crc ^ 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t png_adler32(uint32_t adler, const unsigned char *data, size_t n)
{
    /* the two sums modulo 65521; 5552 bytes is the most that can be added
     * before a 32-bit sum might overflow */
    uint32_t a = adler & 0xFFFF, b = adler >> 16;
    while (n > 0) {
        size_t run = n < 5552 ? n : 5552;
        n -= run;
        while (run-- > 0) {
            a += *data++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return (b << 16) | a;
}

/* Bytes of the zlib stream for raw bytes of input. */
static uint64_t zlib_stored_size(uint64_t raw)
{
    uint64_t blocks = raw == 0 ? 1 : (raw + PNG_STORED_BLOCK - 1) / PNG_STORED_BLOCK;
    return 2 + raw + 5 * blocks + 4;
}

uint64_t png_size(size_t width, size_t height, int n_colors)
{
    if (width == 0 || height == 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE || n_colors < 1 ||
        n_colors > 256)
        return 0;
    uint64_t idat = zlib_stored_size((uint64_t)height * ((uint64_t)width + 1));
    if (idat > PNG_MAX_CHUNK)
        return 0;
    /* signature, then each chunk's 12 bytes of framing plus its data */
    return 8 + (12 + 13) + (12 + 3 * (uint64_t)n_colors) + (12 + idat) + 12;
}

/* ------------------------------------------------------------------------
 * Writing chunks
 * ---------------------------------------------------------------------- */

typedef struct PngOut {
    PngSink sink;
    void *context;
    uint32_t crc;       /* CRC of the chunk being written, type included */
} PngOut;

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Starts a chunk of len data bytes: its length and type. */
static void chunk_begin(PngOut *out, const char *type, uint32_t len)
{
    unsigned char head[8];
    put_be32(head, len);
    memcpy(head + 4, type, 4);
    out->sink(out->context, head, 8);
    out->crc = png_crc32(0, head + 4, 4);
}

/* Writes data bytes of the open chunk. */
static void chunk_data(PngOut *out, const unsigned char *data, size_t n)
{
    out->sink(out->context, data, n);
    out->crc = png_crc32(out->crc, data, n);
}

/* Ends the open chunk with its CRC. */
static void chunk_end(PngOut *out)
{
    unsigned char crc[4];
    put_be32(crc, out->crc);
    out->sink(out->context, crc, 4);
}

/* The deflate stream of the IDAT chunk, cut into stored blocks. */
typedef struct Stored {
    PngOut *out;
    uint64_t left;      /* raw bytes not yet written */
    size_t in_block;    /* raw bytes still to come in the open block */
    uint32_t adler;     /* Adler-32 of the raw bytes so far */
} Stored;

/* Writes n raw bytes, opening a new stored block whenever one is full. */
static void stored_write(Stored *st, const unsigned char *data, size_t n)
{
    while (n > 0) {
        if (st->in_block == 0) {
            size_t len = st->left < PNG_STORED_BLOCK ? (size_t)st->left : PNG_STORED_BLOCK;
            unsigned char head[5] = {st->left <= PNG_STORED_BLOCK ? 1 : 0, (unsigned char)len,
                                     (unsigned char)(len >> 8), (unsigned char)~len, (unsigned char)(~len >> 8)};
            chunk_data(st->out, head, 5);
            st->in_block = len;
        }
        size_t run = n < st->in_block ? n : st->in_block;
        chunk_data(st->out, data, run);
        st->adler = png_adler32(st->adler, data, run);
        st->in_block -= run;
        st->left -= run;
        data += run;
        n -= run;
    }
}

bool png_write(size_t width, size_t height, const unsigned char *palette, int n_colors, PngRowFn rows,
               void *rows_context, PngSink sink, void *sink_context)
{
    if (png_size(width, height, n_colors) == 0)
        return false;
    unsigned char *row = malloc(width + 1);
    if (row == NULL)
        return false;
    PngOut out = {sink, sink_context, 0};
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    sink(sink_context, signature, sizeof signature);

    unsigned char ihdr[13];
    put_be32(ihdr, (uint32_t)width);
    put_be32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;  /* bits per palette index */
    ihdr[9] = 3;  /* indexed colour */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering (every row uses filter 0, none) */
    ihdr[12] = 0; /* not interlaced */
    chunk_begin(&out, "IHDR", sizeof ihdr);
    chunk_data(&out, ihdr, sizeof ihdr);
    chunk_end(&out);

    chunk_begin(&out, "PLTE", (uint32_t)(3 * n_colors));
    chunk_data(&out, palette, (size_t)(3 * n_colors));
    chunk_end(&out);

    uint64_t raw = (uint64_t)height * ((uint64_t)width + 1);
    chunk_begin(&out, "IDAT", (uint32_t)zlib_stored_size(raw));
    static const unsigned char zlib_head[2] = {0x78, 0x01}; /* deflate, 32K window, no dictionary */
    chunk_data(&out, zlib_head, 2);
    Stored st = {&out, raw, 0, 1};
    for (size_t y = 0; y < height; y++) {
        row[0] = 0; /* filter: none */
        rows(rows_context, y, row + 1);
        stored_write(&st, row, width + 1);
    }
    unsigned char adler[4];
    put_be32(adler, st.adler);
    chunk_data(&out, adler, 4);
    chunk_end(&out);

    chunk_begin(&out, "IEND", 0);
    chunk_end(&out);
    free(row);
    return true;
}
