/*
 * check_output.c - number formatting, the text walk-through and the JSON
 * document (checked for syntax by a small validator written here).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "numfmt.h"
#include "utf8.h"
#include "print.h"
#include "explain.h"
#include "suites.h"

/* ------------------------------------------------------------------------
 * A minimal JSON syntax checker (RFC 8259 grammar, no semantics).
 * ---------------------------------------------------------------------- */

static const char *json_value(const char *p);

static const char *json_space(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || *p == '\0') {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *json_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *json_list(const char *p, char close, bool members)
{
    p = json_space(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (members) {
            p = json_string(json_space(p));
            if (p == NULL || *(p = json_space(p)) != ':')
                return NULL;
            p++;
        }
        p = json_value(p);
        if (p == NULL)
            return NULL;
        p = json_space(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p)
{
    p = json_space(p);
    switch (*p) {
    case '{':
        return json_list(p, '}', true);
    case '[':
        return json_list(p, ']', false);
    case '"':
        return json_string(p);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return json_number(p);
    }
}

static bool json_valid(const char *text)
{
    const char *end = json_value(text);
    return end != NULL && *json_space(end) == '\0';
}

START_TEST(test_json_checker_itself)
{
    ck_assert(json_valid("{\"a\": [1, -2.5e-3, \"x\\n\", true, null, {}]}"));
    ck_assert(!json_valid("{\"a\": [1, 2,]}"));
    ck_assert(!json_valid("{\"a\": -inf}"));
    ck_assert(!json_valid("[01]"));
    ck_assert(!json_valid("{\"a\" 1}"));
}
END_TEST

/* ------------------------------------------------------------------------
 * Number formatting
 * ---------------------------------------------------------------------- */

START_TEST(test_notation_follows_torch)
{
    static const struct {
        float values[5];
        size_t n;
        NumNotation notation;
        const char *first;
        int width;
    } cases[] = {
        /* torch prints tensor([0.5839, 7.9161e-05, ...]) in scientific */
        {{0.58394f, 7.9161e-05f, 4.5719e-04f}, 3, NUM_SCIENTIFIC, "5.8394e-01", 10},
        {{-0.6136f, 0.0316f, 2.3022f}, 3, NUM_FIXED, "-0.6136", 7},
        {{2, 6, 8, 3, 1}, 5, NUM_INTEGER, "2", 1},
        {{1500.0f, 0.5f}, 2, NUM_SCIENTIFIC, "1.5000e+03", 10},  /* span over 1000 */
        {{1.5e9f, 2.5e9f}, 2, NUM_SCIENTIFIC, "1.5000e+09", 10}, /* above 1e8 */
        {{11.1806f, -16.7436f}, 2, NUM_FIXED, "11.1806", 8},
        {{0.25f, -INFINITY, 0.5f}, 3, NUM_FIXED, "0.2500", 6}, /* -inf does not force sci */
        {{0.0f, 0.0f}, 2, NUM_INTEGER, "0", 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        NumFormat fmt = numfmt_choose(cases[c].values, cases[c].n, 4);
        ck_assert_msg(fmt.notation == cases[c].notation, "case %zu: notation %d, want %d", c, fmt.notation,
                      cases[c].notation);
        char buf[NUMFMT_BUF];
        numfmt_write(&fmt, cases[c].values[0], buf);
        ck_assert_str_eq(buf, cases[c].first);
        ck_assert_int_eq(fmt.width, cases[c].width);
    }
    float v[] = {1.0f, -22.5f};
    NumFormat fmt = numfmt_choose(v, 2, 2);
    char buf[NUMFMT_BUF];
    numfmt_write_padded(&fmt, v[0], buf);
    ck_assert_str_eq(buf, "  1.00");
    numfmt_write(&fmt, -INFINITY, buf);
    ck_assert_str_eq(buf, "-inf");
    numfmt_write(&fmt, NAN, buf);
    ck_assert_str_eq(buf, "nan");
}
END_TEST

/* The JSON number text reads back as the very same float32. */
START_TEST(test_exact_floats_round_trip)
{
    uint32_t state = 12345;
    for (int i = 0; i < 200000; i++) {
        state = state * 1664525u + 1013904223u;
        float f;
        memcpy(&f, &state, sizeof f);
        if (!isfinite(f))
            continue;
        char buf[NUMFMT_BUF];
        numfmt_write_exact(f, buf);
        ck_assert_msg(strtof(buf, NULL) == f, "%s does not read back as %.9g", buf, (double)f);
        ck_assert_uint_le(strlen(buf), 16);
    }
    char buf[NUMFMT_BUF];
    numfmt_write_exact(0.1f, buf);
    ck_assert_str_eq(buf, "0.1"); /* the shortest form, not 0.100000001 */
}
END_TEST

/* ------------------------------------------------------------------------
 * The text and JSON renderings
 * ---------------------------------------------------------------------- */

static Trace *build_trace(size_t d_model, size_t heads, bool causal)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    cfg.d_model = d_model;
    cfg.heads = heads;
    cfg.causal = causal;
    Trace *trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    config_free(&cfg);
    return trace;
}

/* Copies text into out with every run of white space (newlines too) made
 * one space; out has room for strlen(text) + 1 bytes. */
static void squeeze_spaces(const char *text, char *out)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++) {
        bool space = *p == ' ' || *p == '\n';
        if (space && n > 0 && out[n - 1] == ' ')
            continue;
        out[n++] = space ? ' ' : *p;
    }
    out[n] = '\0';
}

START_TEST(test_text_walkthrough)
{
    Trace *trace = build_trace(16, 4, false);
    PrintOptions opts = {NUMFMT_DEFAULT_PRECISION, -1, NULL, false, false};
    StrBuf out = {0};
    print_trace_text(&out, trace, &opts);
    const char *text = strbuf_text(&out);
    ck_assert(!out.failed);
    for (int i = 0; i < trace->n_steps; i++) {
        char header[64];
        snprintf(header, sizeof header, "== Step %d/17: %s (", i + 1, trace->steps[i].id);
        ck_assert_msg(strstr(text, header) != NULL, "missing %s", header);
        /* the formula is there, maybe wrapped (issue 15: --print stays within 80 columns) */
        char want[512], *got = malloc(strlen(text) + 1);
        ck_assert_ptr_nonnull(got);
        squeeze_spaces(trace->steps[i].formula, want);
        squeeze_spaces(text, got);
        ck_assert_msg(strstr(got, want) != NULL, "the formula '%s' is missing", trace->steps[i].formula);
        free(got);
    }
    for (int i = 0; i < trace->n_steps; i++) {
        EinsumAxes axes;
        if (explain_einsum_axes(trace, i, &axes))
            ck_assert_msg(strstr(text, "  letters: h=4 head,") != NULL, "einsum letters are named");
    }
    ck_assert(strstr(text, "sentence_embed [5, 16]") != NULL);
    ck_assert(strstr(text, "scores_1 [5]  (input)") != NULL);
    ck_assert(strstr(text, "    my        [-0.6136,") != NULL); /* token label, aligned signed column */
    ck_assert(strstr(text, "head 3:") != NULL);
    /* every line fits 80 columns (the formula and PyTorch lines wrap) and none ends in a space */
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char copy[512];
        snprintf(copy, sizeof copy, "%.*s", (int)(len < 511 ? len : 511), line);
        if (len > 0)
            ck_assert_msg(copy[len - 1] != ' ', "trailing space: '%s'", copy);
        ck_assert_msg(utf8_width(copy) <= PRINT_LINE_WIDTH, "too wide: '%s'", copy);
        line = end ? end + 1 : line + len;
    }
    strbuf_free(&out);

    /* one step only */
    opts.only_step = 7;
    print_trace_text(&out, trace, &opts);
    ck_assert(strstr(strbuf_text(&out), "== Step 8/17: softmax") != NULL);
    ck_assert(strstr(strbuf_text(&out), "== Step 7/17") == NULL);
    strbuf_free(&out);
    trace_free(trace);
}
END_TEST

/* Tensors over 1000 values are summarized with "..." as PyTorch does. */
START_TEST(test_large_tensors_are_summarized)
{
    Trace *trace = build_trace(128, 8, false);
    StrBuf out = {0};
    const TraceTensor *w = trace_find_tensor(trace, PART_SINGLE_HEAD, "w_key"); /* 128 x 128 */
    print_tensor_text(&out, w, &trace->config, 4, "");
    const char *text = strbuf_text(&out);
    ck_assert(strstr(text, "...") != NULL);
    /* 3 rows, "...", 3 rows; each row shows 3 values, "...", 3 values */
    size_t rows = 0, gaps = 0;
    for (const char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
        rows += line[0] == '[';
        gaps += strncmp(line, "...\n", 4) == 0;
        if (line[0] == '[')
            ck_assert_msg(strstr(line, ", ..., ") != NULL, "row not summarized");
    }
    ck_assert_uint_eq(rows, 6);
    ck_assert_uint_eq(gaps, 1);
    strbuf_free(&out);
    trace_free(trace);
}
END_TEST

START_TEST(test_json_document)
{
    Trace *trace = build_trace(16, 4, true);
    PrintOptions opts = {NUMFMT_DEFAULT_PRECISION, -1, NULL, false, false};
    StrBuf out = {0};
    print_trace_json(&out, trace, &opts);
    const char *text = strbuf_text(&out);
    ck_assert_msg(json_valid(text), "the JSON does not parse");
    ck_assert(strstr(text, "\"format\": \"attn-trace/1\"") != NULL);
    ck_assert(strstr(text, "\"token_ids\": [2, 6, 8, 3, 1]") != NULL);
    ck_assert(strstr(text, "\"causal\": true") != NULL);
    ck_assert(strstr(text, "\"focus\": 1") != NULL);
    ck_assert(strstr(text, "\"d_k\": 4") != NULL);
    ck_assert(strstr(text, "\"-inf\"") != NULL);
    ck_assert(strstr(text, "\"id\": \"mh_output\"") != NULL);
    ck_assert(
        strstr(text,
               "\"name\": \"tokenized_sentence\", \"shape\": [5], \"role\": \"output\", \"data\": [2, 6, 8, 3, 1]") !=
        NULL);
    strbuf_free(&out);

    opts.only_step = 0;
    print_trace_json(&out, trace, &opts);
    ck_assert(json_valid(strbuf_text(&out)));
    ck_assert(strstr(strbuf_text(&out), "\"index\": 2") == NULL);
    strbuf_free(&out);
    trace_free(trace);
}
END_TEST

Suite *output_suite(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("output");
    tcase_add_test(tc, test_json_checker_itself);
    tcase_add_test(tc, test_notation_follows_torch);
    tcase_add_test(tc, test_exact_floats_round_trip);
    tcase_add_test(tc, test_text_walkthrough);
    tcase_add_test(tc, test_large_tensors_are_summarized);
    tcase_add_test(tc, test_json_document);
    suite_add_tcase(s, tc);
    return s;
}
