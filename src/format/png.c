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

/* The CRC-32 table for the reflected polynomial 0xEDB88320 (entry n is n
 * put through the bitwise CRC eight times), written out in full so that
 * it exists at compile time: threads drawing PNGs at once only read it,
 * and nothing fills it lazily. check_svg recomputes every entry bitwise. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu, 0xe963a535u, 0x9e6495a3u, 0x0edb8832u,
    0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u, 0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u, 0x136c9856u, 0x646ba8c0u, 0xfd62f97au,
    0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu, 0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u,
    0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u, 0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u, 0x2f6f7c87u, 0x58684c11u, 0xc1611dabu,
    0xb6662d3du, 0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du, 0x91646c97u, 0xe6635c01u, 0x6b6b51f4u,
    0x1c6c6162u, 0x856530d8u, 0xf262004eu, 0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u, 0x4db26158u, 0x3ab551ceu, 0xa3bc0074u,
    0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u, 0x5768b525u,
    0x206f85b3u, 0xb966d409u, 0xce61e49fu, 0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au, 0xead54739u, 0x9dd277afu, 0x04db2615u,
    0x73dc1683u, 0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u, 0xfed41b76u,
    0x89d32be0u, 0x10da7a5au, 0x67dd4accu, 0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu, 0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u,
    0x41047a60u, 0xdf60efc3u, 0xa867df55u, 0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u,
    0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du, 0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u, 0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u,
    0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u, 0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u, 0xa00ae278u,
    0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u, 0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u, 0xbdbdf21cu, 0xcabac28au, 0x53b39330u,
    0x24b4a3a6u, 0xbad03605u, 0xcdd70693u, 0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t png_crc32(uint32_t crc, const unsigned char *data, size_t n)
{
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
    if (width == 0 || height == 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE || n_colors < 1 || n_colors > 256)
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
    uint32_t crc; /* CRC of the chunk being written, type included */
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
    uint64_t left;   /* raw bytes not yet written */
    size_t in_block; /* raw bytes still to come in the open block */
    uint32_t adler;  /* Adler-32 of the raw bytes so far */
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
               void *rows_context, PngSink sink, void *sink_context, Error *err)
{
    if (png_size(width, height, n_colors) == 0)
        return error_set(err, STATUS_DATAERR,
                         "cannot write a PNG of %zux%zu pixels with %d colours (sides 1 to %d, PNG_MAX_SIDE; "
                         "1 to 256 colours)",
                         width, height, n_colors, PNG_MAX_SIDE);
    unsigned char *row = malloc(width + 1);
    if (row == NULL)
        return error_oom(err, "a PNG row");
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
