/*
 * check_svg.c - the SVG heat maps (svg.c) and the PNG encoder under them
 * (png.c): escaping and shortening of token words, the checksums against
 * published values, PNG files read back by a small reader written here,
 * the colour scale, and what a document holds for a trace (one map per
 * head, masked cells, tooltips, raster images beyond the vector bound).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png.h"
#include "utf8.h"
#include "suites.h"
#include "svg.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* A trace of the article's configuration with the given changes; sentence
 * may be NULL (the article's). */
static Trace *build(const char *sentence, size_t d_model, size_t heads, bool causal)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    if (sentence != NULL)
        ck_assert_msg(config_set_sentence(&cfg, sentence, &err), "%s", err.message);
    cfg.d_model = d_model;
    cfg.heads = heads;
    cfg.causal = causal;
    Trace *trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    config_free(&cfg);
    return trace;
}

static int step_index(const Trace *trace, const char *id)
{
    Error err;
    int i = trace_find_step(trace, id, &err);
    ck_assert_msg(i >= 0, "%s", err.message);
    return i;
}

/* The document for step id of trace, in memory; the caller frees it. */
static char *draw(const Trace *trace, const char *id, int precision)
{
    StrBuf out = {0};
    svg_write(&out, trace, step_index(trace, id), precision);
    ck_assert(!out.failed);
    return out.data;
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

static char *escaped(const char *text)
{
    StrBuf out = {0};
    svg_put_text(&out, text);
    return out.data != NULL ? out.data : strdup("");
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A PNG file read back: every chunk's CRC checked, the zlib stream's stored
 * blocks joined and its Adler-32 checked. */
typedef struct ReadPng {
    uint32_t width, height;
    int depth, color_type;
    int n_colors;
    unsigned char palette[768];
    unsigned char *raw; /* the rows, each a filter byte and its pixels; owned */
    size_t raw_len;
    int blocks; /* stored blocks in the zlib stream */
} ReadPng;

/* Reads the PNG at data[0..n) into png; fails the test on any defect. */
static void png_read(const unsigned char *data, size_t n, ReadPng *png)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    memset(png, 0, sizeof *png);
    ck_assert_msg(n >= 8 && memcmp(data, signature, 8) == 0, "no PNG signature");
    size_t at = 8;
    unsigned char *zlib = NULL;
    size_t zlib_len = 0;
    bool ended = false;
    int chunk = 0;
    while (at < n && !ended) {
        ck_assert_msg(n - at >= 12, "a cut chunk at byte %zu", at);
        uint32_t len = be32(data + at);
        ck_assert_msg(len <= n - at - 12, "chunk %d's length %u runs past the end", chunk, len);
        const unsigned char *type = data + at + 4, *body = data + at + 8;
        uint32_t crc = be32(body + len);
        ck_assert_msg(png_crc32(0, type, len + 4) == crc, "chunk %.4s: CRC %08x, expected %08x", type, crc,
                      png_crc32(0, type, len + 4));
        if (chunk == 0) {
            ck_assert_msg(memcmp(type, "IHDR", 4) == 0 && len == 13, "the first chunk is not IHDR");
            png->width = be32(body);
            png->height = be32(body + 4);
            png->depth = body[8];
            png->color_type = body[9];
            ck_assert(body[10] == 0 && body[11] == 0 && body[12] == 0);
        } else if (memcmp(type, "PLTE", 4) == 0) {
            ck_assert(len % 3 == 0 && len >= 3 && len <= 768);
            png->n_colors = (int)(len / 3);
            memcpy(png->palette, body, len);
        } else if (memcmp(type, "IDAT", 4) == 0) {
            zlib = realloc(zlib, zlib_len + len);
            ck_assert(zlib != NULL);
            memcpy(zlib + zlib_len, body, len);
            zlib_len += len;
        } else if (memcmp(type, "IEND", 4) == 0) {
            ck_assert(len == 0);
            ended = true;
        }
        at += 12 + len;
        chunk++;
    }
    ck_assert_msg(ended && at == n, "no IEND at the end");
    /* zlib: header, stored blocks, Adler-32 */
    ck_assert(zlib_len >= 2 + 5 + 4);
    ck_assert_msg((zlib[0] * 256 + zlib[1]) % 31 == 0 && (zlib[0] & 0x0F) == 8, "bad zlib header");
    png->raw = malloc(zlib_len);
    ck_assert(png->raw != NULL);
    size_t z = 2;
    bool last = false;
    while (!last) {
        ck_assert_msg(zlib_len - z >= 5 + 4, "a cut stored block");
        last = zlib[z] & 1;
        ck_assert_msg((zlib[z] & 6) == 0, "not a stored block");
        size_t len = (size_t)zlib[z + 1] | (size_t)zlib[z + 2] << 8;
        size_t nlen = (size_t)zlib[z + 3] | (size_t)zlib[z + 4] << 8;
        ck_assert_msg((len ^ nlen) == 0xFFFF, "NLEN is not LEN's complement");
        ck_assert(len <= zlib_len - z - 5 - 4);
        memcpy(png->raw + png->raw_len, zlib + z + 5, len);
        png->raw_len += len;
        z += 5 + len;
        png->blocks++;
    }
    ck_assert_msg(z + 4 == zlib_len, "bytes after the last block");
    ck_assert_msg(be32(zlib + z) == png_adler32(1, png->raw, png->raw_len), "Adler-32 does not match");
    free(zlib);
}

/* The pixel (palette index) at (x, y) of an 8-bit indexed PNG read back. */
static int png_pixel(const ReadPng *png, size_t x, size_t y)
{
    size_t stride = (size_t)png->width + 1;
    ck_assert_int_eq(png->raw[y * stride], 0); /* filter: none */
    return png->raw[y * stride + 1 + x];
}

static int base64_value(char c)
{
    const char *digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(digits, c) : NULL;
    return p != NULL ? (int)(p - digits) : -1;
}

/* Decodes the first data:image/png;base64 URI in text (after *from) into
 * a new buffer; returns it and its length, and moves *from past it. */
static unsigned char *first_png(const char **from, size_t *len)
{
    const char *p = strstr(*from, "data:image/png;base64,");
    ck_assert_msg(p != NULL, "no embedded PNG");
    p += strlen("data:image/png;base64,");
    const char *end = strchr(p, '"');
    ck_assert(end != NULL && (end - p) % 4 == 0);
    unsigned char *bytes = malloc((size_t)(end - p) / 4 * 3 + 1);
    ck_assert(bytes != NULL);
    size_t n = 0;
    for (const char *q = p; q < end; q += 4) {
        int v[4];
        for (int k = 0; k < 4; k++)
            v[k] = q[k] == '=' ? 0 : base64_value(q[k]);
        ck_assert_msg(v[0] >= 0 && v[1] >= 0 && v[2] >= 0 && v[3] >= 0, "not base64 at %.4s", q);
        uint32_t group = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        bytes[n++] = (unsigned char)(group >> 16);
        if (q[2] != '=')
            bytes[n++] = (unsigned char)(group >> 8);
        if (q[3] != '=')
            bytes[n++] = (unsigned char)group;
    }
    *from = end;
    *len = n;
    return bytes;
}

/* ------------------------------------------------------------------------
 * Text
 * ---------------------------------------------------------------------- */

START_TEST(test_escape_hostile_words)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"<script>&\"'", "&lt;script&gt;&amp;&quot;&apos;"},
        {"]]><!--", "]]&gt;&lt;!--"},
        {"&amp;", "&amp;amp;"},
        {"plain words", "plain words"},
        {"日本語 → café", "日本語 → café"},
        {"a\x01"
         "b\x1b[2Jc",
         "a?b?[2Jc"}, /* C0 controls, ESC */
        {"del\x7f"
         "c1\xc2\x85"
         "x",
         "del?c1?x"}, /* DEL, C1 (NEL) */
        {"bad\xff"
         "utf\xc3",
         "bad?utf?"}, /* invalid and cut UTF-8 */
        {"\xef\xbf\xbe"
         "nonchar",
         "?nonchar"}, /* U+FFFE, not an XML character */
        {"tab\there\nnewline", "tab?here?newline"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = escaped(cases[i].in);
        ck_assert_msg(strcmp(got, cases[i].out) == 0, "case %zu: expected '%s', got '%s'", i, cases[i].out, got);
        for (const char *p = got; *p != '\0'; p++)
            ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f, "case %zu: a control byte is left", i);
        free(got);
    }
}
END_TEST

START_TEST(test_shorten_labels)
{
    static const struct {
        const char *in;
        size_t cols, size;
        const char *out;
    } cases[] = {
        {"name", 12, 64, "name"},
        {"", 12, 64, ""},
        {"twelve-chars", 12, 64, "twelve-chars"},  /* exactly the width: kept */
        {"thirteen-char", 12, 64, "thirteen-ch…"}, /* one more: 11 and the ellipsis */
        {"supercalifragilisticexpialidocious", 12, 64, "supercalifr…"},
        {"日本語の単語です", 12, 64, "日本語の単…"}, /* wide: 5 x 2 columns and "…" */
        {"abcdefghij", 12, 8, "abcd…"},              /* the buffer limits it too */
        {"naïveté-everywhere", 8, 64, "naïveté…"},   /* cut between whole characters */
        {"abc", 1, 64, "…"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        svg_shorten(cases[i].in, cases[i].cols, buf, cases[i].size);
        ck_assert_msg(strcmp(buf, cases[i].out) == 0, "case %zu: expected '%s', got '%s'", i, cases[i].out, buf);
        ck_assert_msg(utf8_width(buf) <= cases[i].cols, "case %zu: '%s' is wider than %zu", i, buf, cases[i].cols);
        ck_assert(strlen(buf) < cases[i].size);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * PNG
 * ---------------------------------------------------------------------- */

/* The bitwise CRC-32 of PNG (reflected polynomial 0xEDB88320), one bit at
 * a time: the definition, independent of png.c's table. */
static uint32_t crc32_bitwise(const unsigned char *data, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= data[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* png.c's CRC table is written out at compile time: every one of its 256
 * entries (reached through one-byte and two-byte inputs) against the
 * bitwise definition. */
START_TEST(test_crc_table_every_entry)
{
    for (int b = 0; b < 256; b++) {
        unsigned char one[2] = {(unsigned char)b, (unsigned char)(255 - b)};
        ck_assert_msg(png_crc32(0, one, 1) == crc32_bitwise(one, 1), "byte %d: %08x, expected %08x", b,
                      png_crc32(0, one, 1), crc32_bitwise(one, 1));
        ck_assert_uint_eq(png_crc32(0, one, 2), crc32_bitwise(one, 2));
    }
}
END_TEST

START_TEST(test_checksums_known_values)
{
    ck_assert_uint_eq(png_crc32(0, (const unsigned char *)"123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(png_crc32(0, (const unsigned char *)"IEND", 4), 0xAE426082u); /* every PNG's last CRC */
    ck_assert_uint_eq(png_crc32(0, NULL, 0), 0u);
    /* continuing a checksum equals taking it at once */
    ck_assert_uint_eq(png_crc32(png_crc32(0, (const unsigned char *)"1234", 4), (const unsigned char *)"56789", 5),
                      0xCBF43926u);
    ck_assert_uint_eq(png_adler32(1, (const unsigned char *)"Wikipedia", 9), 0x11E60398u);
    ck_assert_uint_eq(png_adler32(1, NULL, 0), 1u);
    ck_assert_uint_eq(png_adler32(png_adler32(1, (const unsigned char *)"Wiki", 4), (const unsigned char *)"pedia", 5),
                      0x11E60398u);
    /* a long run, past the 5552 bytes summed between reductions: 100000
     * bytes of 0xFF, by the definition, sums taken modulo 65521 */
    static unsigned char ff[100000];
    memset(ff, 0xFF, sizeof ff);
    uint64_t a = 1, b = 0;
    for (size_t i = 0; i < sizeof ff; i++) {
        a = (a + 0xFF) % 65521;
        b = (b + a) % 65521;
    }
    ck_assert_uint_eq(png_adler32(1, ff, sizeof ff), (uint32_t)(b << 16 | a));
}
END_TEST

typedef struct Bytes {
    unsigned char *data;
    size_t len;
} Bytes;

static void bytes_sink(void *context, const unsigned char *data, size_t n)
{
    Bytes *b = context;
    b->data = realloc(b->data, b->len + n);
    ck_assert(b->data != NULL);
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

/* A test pattern: pixel (x, y) is (x + 3 y) mod 7. */
static size_t pattern_width;
static void pattern_rows(void *context, size_t y, unsigned char *row)
{
    (void)context;
    for (size_t x = 0; x < pattern_width; x++)
        row[x] = (unsigned char)((x + 3 * y) % 7);
}

START_TEST(test_png_reads_back)
{
    static const size_t sizes[][2] = {{1, 1}, {3, 2}, {300, 300}, {65535, 1}, {65534, 2}};
    unsigned char palette[7 * 3];
    for (int i = 0; i < 7 * 3; i++)
        palette[i] = (unsigned char)(i * 11);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t w = sizes[i][0], h = sizes[i][1];
        pattern_width = w;
        Bytes b = {NULL, 0};
        Error err;
        error_clear(&err);
        ck_assert_msg(png_write(w, h, palette, 7, pattern_rows, NULL, bytes_sink, &b, &err), "%s", err.message);
        ck_assert_uint_eq(b.len, png_size(w, h, 7));
        ReadPng png;
        png_read(b.data, b.len, &png);
        ck_assert_uint_eq(png.width, w);
        ck_assert_uint_eq(png.height, h);
        ck_assert_int_eq(png.depth, 8);
        ck_assert_int_eq(png.color_type, 3);
        ck_assert_int_eq(png.n_colors, 7);
        ck_assert(memcmp(png.palette, palette, sizeof palette) == 0);
        ck_assert_uint_eq(png.raw_len, h * (w + 1));
        ck_assert_int_eq(png.blocks, (int)((png.raw_len + 65534) / 65535));
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x += 1 + w / 50)
                ck_assert_int_eq(png_pixel(&png, x, y), (int)((x + 3 * y) % 7));
        free(png.raw);
        free(b.data);
    }
}
END_TEST

START_TEST(test_png_refuses_bad_sizes)
{
    unsigned char palette[3] = {0, 0, 0};
    Bytes b = {NULL, 0};
    Error err;
    error_clear(&err);
    ck_assert(!png_write(0, 1, palette, 1, pattern_rows, NULL, bytes_sink, &b, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_str_eq(err.message,
                     "cannot write a PNG of 0x1 pixels with 1 colours (sides 1 to 65536, PNG_MAX_SIDE; "
                     "1 to 256 colours)");
    ck_assert(!png_write(1, 0, palette, 1, pattern_rows, NULL, bytes_sink, &b, NULL)); /* NULL err is allowed */
    ck_assert(!png_write(PNG_MAX_SIDE + 1, 1, palette, 1, pattern_rows, NULL, bytes_sink, &b, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert(!png_write(1, 1, palette, 0, pattern_rows, NULL, bytes_sink, &b, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert(!png_write(1, 1, palette, 257, pattern_rows, NULL, bytes_sink, &b, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_uint_eq(b.len, 0);                                     /* nothing written */
    ck_assert_uint_eq(png_size(PNG_MAX_SIDE, PNG_MAX_SIDE, 256), 0); /* IDAT over 2^31 - 1 bytes */
}
END_TEST

/* ------------------------------------------------------------------------
 * Colour scale
 * ---------------------------------------------------------------------- */

static double luminance(const unsigned char rgb[3])
{
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
}

START_TEST(test_colour_scale_ends)
{
    unsigned char lo[3], hi[3], c[3];
    svg_color(0.0, lo);
    svg_color(1.0, hi);
    ck_assert_msg(luminance(lo) > 240, "low end is not nearly white: %d %d %d", lo[0], lo[1], lo[2]);
    ck_assert_msg(luminance(hi) < 60, "high end is not dark: %d %d %d", hi[0], hi[1], hi[2]);
    ck_assert_msg(hi[2] > hi[0] && hi[2] > hi[1], "high end is not blue");
    /* out of range and NaN clamp to the ends */
    svg_color(-3.0, c);
    ck_assert(memcmp(c, lo, 3) == 0);
    svg_color(NAN, c);
    ck_assert(memcmp(c, lo, 3) == 0);
    svg_color(7.0, c);
    ck_assert(memcmp(c, hi, 3) == 0);
    /* darker all the way, so the order survives printing in grey */
    double last = luminance(lo) + 1;
    for (int i = 0; i <= 100; i++) {
        svg_color(i / 100.0, c);
        ck_assert_msg(luminance(c) < last, "not darker at %d%%", i);
        last = luminance(c);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Documents
 * ---------------------------------------------------------------------- */

START_TEST(test_steps_that_can_be_drawn)
{
    Trace *trace = build(NULL, 16, 4, false);
    static const char *const drawable[] = {"scores", "scale", "softmax", "all_tokens", "mh_scores", "mh_softmax"};
    for (int i = 0; i < trace->n_steps; i++) {
        bool expected = false;
        for (size_t k = 0; k < sizeof drawable / sizeof drawable[0]; k++)
            expected |= strcmp(trace->steps[i].id, drawable[k]) == 0;
        ck_assert_msg((svg_tensor(&trace->steps[i]) >= 0) == expected, "step %s", trace->steps[i].id);
        Error err;
        error_clear(&err);
        int picked = svg_pick_step(trace, i, &err);
        if (expected) {
            ck_assert_int_eq(picked, i);
        } else {
            ck_assert_int_eq(picked, -1);
            ck_assert_int_eq(err.status, STATUS_USAGE);
            ck_assert_msg(strstr(err.message, trace->steps[i].id) != NULL, "%s", err.message);
            ck_assert_msg(strstr(err.message, "all_tokens, mh_scores, mh_softmax") != NULL, "%s", err.message);
        }
    }
    /* the default, and the weights (not the scores) of all_tokens */
    Error err;
    ck_assert_int_eq(svg_pick_step(trace, -1, &err), step_index(trace, "mh_softmax"));
    const TraceStep *all = &trace->steps[step_index(trace, "all_tokens")];
    ck_assert_str_eq(all->tensors[svg_tensor(all)].name, "attention_weights");
    trace_free(trace);
}
END_TEST

START_TEST(test_one_map_per_head)
{
    static const size_t configs[][2] = {{16, 4}, {16, 1}, {8, 2}, {24, 12}};
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        size_t d = configs[i][0], h = configs[i][1];
        Trace *trace = build(NULL, d, h, false);
        char *doc = draw(trace, "mh_softmax", 4);
        const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"";
        ck_assert_msg(strncmp(doc, head, strlen(head)) == 0, "no XML declaration and svg root");
        ck_assert_msg(strstr(doc, "viewBox=\"0 0 ") != NULL && strstr(doc, "version=\"1.1\"") != NULL, "no viewBox");
        ck_assert(strcmp(doc + strlen(doc) - 7, "</svg>\n") == 0);
        ck_assert_uint_eq(count(doc, "class=\"heatmap\""), h);
        ck_assert_uint_eq(count(doc, "<title>head "), h * 5 * 5); /* one tooltip a cell */
        char last[32];
        snprintf(last, sizeof last, ">head %zu</text>", h);
        ck_assert_msg(strstr(doc, last) != NULL, "no map titled head %zu", h);
        ck_assert_uint_eq(count(doc, "class=\"masked\""), 0);
        ck_assert_msg(strstr(doc, "masked:") == NULL, "a masked legend with nothing masked");
        free(doc);
        trace_free(trace);
    }
}
END_TEST

START_TEST(test_masked_cells_drawn_as_masked)
{
    Trace *trace = build("the cat sat on the mat", 16, 4, true);
    const size_t s = 6, h = 4, above = s * (s - 1) / 2; /* keys after their query */
    static const char *const steps[] = {"mh_scores", "mh_softmax", "all_tokens"};
    for (size_t i = 0; i < 3; i++) {
        char *doc = draw(trace, steps[i], 4);
        size_t maps = i < 2 ? h : 1;
        ck_assert_uint_eq(count(doc, "class=\"masked\" fill=\"url(#attn-masked)\""), maps * above);
        ck_assert_uint_eq(count(doc, " (masked)</title>"), maps * above);
        ck_assert_msg(strstr(doc, "<pattern id=\"attn-masked\"") != NULL, "no hatching pattern");
        ck_assert_msg(strstr(doc, i == 0 ? "masked: a later key, -inf" : "masked: a later key, weight 0") != NULL,
                      "the legend does not name masked cells");
        free(doc);
    }
    /* one query's row: token 1 sees only itself */
    char *doc = draw(trace, "softmax", 4);
    ck_assert_uint_eq(count(doc, "class=\"masked\""), s - 1);
    free(doc);
    trace_free(trace);
}
END_TEST

/* The colour scale's group of doc, as a new string. */
static char *legend_of(const char *doc)
{
    const char *start = strstr(doc, "<g id=\"legend\"");
    ck_assert_msg(start != NULL, "no legend");
    const char *end = strstr(start, "</g>");
    ck_assert(end != NULL);
    return strndup(start, (size_t)(end - start));
}

START_TEST(test_tooltips_and_precision)
{
    Trace *trace = build(NULL, 16, 4, false);
    const Tensor *w = trace_find_tensor(trace, PART_MULTI_HEAD, "attention_weights")->tensor;
    char expected[128];
    for (int precision = 0; precision <= 6; precision += 2) {
        char *doc = draw(trace, "mh_softmax", precision);
        /* head 2, query 'name' (row 1), key 'is' (column 2) */
        snprintf(expected, sizeof expected, "<title>head 2 · query ‘name’ → key ‘is’: %.*f</title>", precision,
                 (double)w->data[(1 * 5 + 1) * 5 + 2]);
        ck_assert_msg(strstr(doc, expected) != NULL, "no tooltip %s", expected);
        free(doc);
    }
    /* the scale of weights is 0..1; of scores, their range */
    char *doc = draw(trace, "mh_softmax", 4);
    char *legend = legend_of(doc);
    ck_assert_msg(strstr(legend, ">0.0000</text>") && strstr(legend, ">1.0000</text>"), "weights' scale: %s", legend);
    free(legend);
    free(doc);
    const Tensor *scores = trace_find_tensor(trace, PART_MULTI_HEAD, "scores")->tensor;
    float lo = scores->data[0], hi = scores->data[0];
    for (size_t i = 1; i < scores->size; i++) {
        lo = fminf(lo, scores->data[i]);
        hi = fmaxf(hi, scores->data[i]);
    }
    doc = draw(trace, "mh_scores", 4);
    legend = legend_of(doc);
    snprintf(expected, sizeof expected, ">%.4f</text>", (double)lo);
    ck_assert_msg(strstr(legend, expected) != NULL, "no low end %s: %s", expected, legend);
    snprintf(expected, sizeof expected, "text-anchor=\"end\">%.4f</text>", (double)hi);
    ck_assert_msg(strstr(legend, expected) != NULL, "no high end %s: %s", expected, legend);
    free(legend);
    free(doc);
    trace_free(trace);
}
END_TEST

START_TEST(test_hostile_words_are_escaped)
{
    Trace *trace = build("<script>&\"' ]]> plain", 16, 4, false);
    char *doc = draw(trace, "mh_softmax", 4);
    ck_assert_msg(strstr(doc, "<script") == NULL, "a raw <script> tag");
    ck_assert_msg(strstr(doc, ">&lt;script&gt;&amp;&quot;&apos;</text>") != NULL, "the word is not escaped as a label");
    ck_assert_msg(strstr(doc, "query ‘&lt;script&gt;&amp;&quot;&apos;’ → key ‘]]&gt;’") != NULL,
                  "the word is not escaped in a tooltip");
    ck_assert_msg(strstr(doc, "]]>") == NULL, "a raw ]]>");
    free(doc);
    trace_free(trace);
}
END_TEST

/* Beyond SVG_MAX_VECTOR_TOKENS tokens each head is a PNG image, every
 * k-th token labelled, and the whole document streams in bounded memory. */
START_TEST(test_large_maps_are_raster_images)
{
    const size_t s = 100, h = 4;
    char sentence[1024] = "";
    for (size_t i = 0; i < s; i++)
        snprintf(sentence + strlen(sentence), sizeof sentence - strlen(sentence), "%sw%zu", i ? " " : "", i);
    Trace *trace = build(sentence, 64, h, true);
    FILE *sink = tmpfile();
    ck_assert(sink != NULL);
    StrBuf out = {0};
    out.sink = sink;
    svg_write(&out, trace, step_index(trace, "mh_softmax"), 4);
    ck_assert(strbuf_flush(&out));
    ck_assert_msg(out.cap <= 2 * STRBUF_FLUSH_BYTES, "the buffer grew to %zu bytes", out.cap);
    strbuf_free(&out);
    long size = ftell(sink);
    ck_assert(size > 0);
    char *doc = malloc((size_t)size + 1);
    ck_assert(doc != NULL);
    rewind(sink);
    ck_assert_uint_eq(fread(doc, 1, (size_t)size, sink), (size_t)size);
    doc[size] = '\0';
    fclose(sink);

    ck_assert_uint_eq(count(doc, "class=\"heatmap\""), h);
    ck_assert_uint_eq(count(doc, "<image "), h);
    ck_assert_uint_eq(count(doc, "<rect x="), h + 2); /* frames, colour bar, masked swatch: no cells */
    /* labels on every 5th token (5 px a cell), with their positions */
    ck_assert_msg(strstr(doc, ">5 w4</text>") != NULL && strstr(doc, ">100 w99</text>") != NULL, "no 5th labels");
    ck_assert_msg(strstr(doc, ">w3</text>") == NULL && strstr(doc, ">4 w3</text>") == NULL, "labels too dense");

    /* head 1's image: 500 x 500 pixels, 5 a cell; masked cells are the two
     * greys, the first query's own key is weight 1 (the darkest level) */
    const char *at = doc;
    size_t len;
    unsigned char *bytes = first_png(&at, &len);
    ReadPng png;
    png_read(bytes, len, &png);
    ck_assert_uint_eq(png.width, 500);
    ck_assert_uint_eq(png.height, 500);
    ck_assert_int_eq(png.n_colors, SVG_RASTER_LEVELS + 2);
    ck_assert_int_eq(png_pixel(&png, 2, 2), SVG_RASTER_LEVELS - 1);
    int masked = png_pixel(&png, 497, 2);
    ck_assert_msg(masked == SVG_RASTER_LEVELS || masked == SVG_RASTER_LEVELS + 1, "masked pixel %d", masked);
    unsigned char white[3];
    svg_color(0.0, white);
    ck_assert(memcmp(png.palette, white, 3) == 0);
    free(png.raw);
    free(bytes);
    free(doc);
    trace_free(trace);
}
END_TEST

Suite *svg_suite(void)
{
    Suite *s = suite_create("svg");
    TCase *tc = tcase_create("svg");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_escape_hostile_words);
    tcase_add_test(tc, test_shorten_labels);
    tcase_add_test(tc, test_checksums_known_values);
    tcase_add_test(tc, test_crc_table_every_entry);
    tcase_add_test(tc, test_png_reads_back);
    tcase_add_test(tc, test_png_refuses_bad_sizes);
    tcase_add_test(tc, test_colour_scale_ends);
    tcase_add_test(tc, test_steps_that_can_be_drawn);
    tcase_add_test(tc, test_one_map_per_head);
    tcase_add_test(tc, test_masked_cells_drawn_as_masked);
    tcase_add_test(tc, test_tooltips_and_precision);
    tcase_add_test(tc, test_hostile_words_are_escaped);
    tcase_add_test(tc, test_large_maps_are_raster_images);
    suite_add_tcase(s, tc);
    return s;
}
