/*
 * png.h - a minimal PNG encoder, written for the raster heat maps of the
 * SVG output (svg.c), with no zlib.
 *
 * It writes 8-bit indexed-colour images (a palette of up to 256 colours,
 * one byte per pixel) with no filtering, and deflates them with "stored"
 * blocks: the pixels go in uncompressed, so the encoder is a few checksums
 * and headers. Pixels are asked for row by row and the bytes are handed to
 * a sink as they are made, so an image of any size needs one row of memory.
 */
#ifndef ATTN_PNG_H
#define ATTN_PNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attn_limits.h" /* PNG_MAX_SIDE */
#include "error.h"

/* Bytes of one stored deflate block at most (the format's 16-bit length). */
#define PNG_STORED_BLOCK 65535

/* Receives the next n bytes of the PNG file. */
typedef void (*PngSink)(void *context, const unsigned char *data, size_t n);

/* Fills row (width palette indices) with the pixels of row y, top first. */
typedef void (*PngRowFn)(void *context, size_t y, unsigned char *row);

/* Continues the CRC-32 (ISO 3309, as PNG and zlib use it) crc over n bytes
 * of data; start with 0. png_crc32(0, "123456789", 9) is 0xCBF43926. */
uint32_t png_crc32(uint32_t crc, const unsigned char *data, size_t n);

/* Continues the Adler-32 checksum (zlib's) adler over n bytes of data;
 * start with 1. png_adler32(1, "Wikipedia", 9) is 0x11E60398. */
uint32_t png_adler32(uint32_t adler, const unsigned char *data, size_t n);

/* Bytes of the PNG file png_write makes for a width x height image with
 * n_colors palette entries, or 0 when the sizes are out of range. */
uint64_t png_size(size_t width, size_t height, int n_colors);

/* Writes a whole PNG file to sink: signature, IHDR (8-bit indexed colour),
 * PLTE (n_colors RGB triples from palette, 1 to 256), one IDAT (a zlib
 * stream of stored blocks over the rows, each with filter byte 0) and
 * IEND. rows is called once per row, in order. Returns true; or false
 * with err, having written nothing, when width or height is 0 or above
 * PNG_MAX_SIDE or n_colors is out of range (STATUS_DATAERR), or when a row
 * buffer cannot be allocated (STATUS_FAILURE). */
bool png_write(size_t width, size_t height, const unsigned char *palette, int n_colors, PngRowFn rows,
               void *rows_context, PngSink sink, void *sink_context, Error *err);

#endif
