/*
 * check_explain.c - tests for explain.c: explain_recompute gives back every
 * stored value bit for bit (the independent check that the inspector tells
 * the truth), explain_is_source picks exactly the inputs of each kind of
 * operation, and explain_cell writes the right numbers within its width,
 * ending with the value as the panel shows it.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "utf8.h"
#include "numfmt.h"
#include "suites.h"
#include "trace.h"

/* Most elements per tensor the explain_cell sweeps write out: enough to
 * reach every kind of cell, few enough to keep the suite fast. */
#define SWEEP_SAMPLES 24

/* ---------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------- */

/* A configuration of the sweeps: the default one changed as listed. */
typedef struct TraceCase {
    const char *label;     /* for messages */
    const char *sentence;  /* NULL: the article's */
    size_t d_model, heads; /* 0: the default */
    size_t focus;          /* 1-based */
    bool causal;
} TraceCase;

static const TraceCase CASES[] = {
    {"default", NULL, 0, 0, 1, false},
    {"focus 3 causal", NULL, 0, 0, 3, true},
    {"cat d32 h8", "the cat sat on the mat", 32, 8, 2, false},
    {"one head causal", NULL, 0, 1, 5, true},
};

/* Builds the trace of c. */
static Trace *build_case(const TraceCase *c)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    if (c->sentence != NULL)
        ck_assert_msg(config_set_sentence(&cfg, c->sentence, &err), "%s", err.message);
    if (c->d_model > 0)
        cfg.d_model = c->d_model;
    if (c->heads > 0)
        cfg.heads = c->heads;
    cfg.focus = c->focus;
    cfg.causal = c->causal;
    Trace *trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s: %s", c->label, err.message);
    config_free(&cfg);
    return trace;
}

/* The default trace with the given focus and mask. */
static Trace *build(size_t focus, bool causal)
{
    TraceCase c = {"default", NULL, 0, 0, focus, causal};
    return build_case(&c);
}

/* Index of step id in trace. */
static int step_of(const Trace *trace, const char *id)
{
    int step = trace_find_step(trace, id, NULL);
    ck_assert_msg(step >= 0, "no step %s", id);
    return step;
}

/* Index of tensor name in step. */
static int tensor_of(const Trace *trace, int step, const char *name)
{
    const TraceStep *s = &trace->steps[step];
    for (int i = 0; i < s->n_tensors; i++)
        if (strcmp(s->tensors[i].name, name) == 0)
            return i;
    ck_abort_msg("step %s shows no %s", s->id, name);
    return -1;
}

/* The tensor of tensor index t in step. */
static const Tensor *tensor_at(const Trace *trace, int step, int t)
{
    return trace->steps[step].tensors[t].tensor;
}

/* Offset of index (as many entries as the tensor has dimensions). */
static size_t at(const Trace *trace, int step, int t, const size_t *index)
{
    return tensor_offset(tensor_at(trace, step, t), index);
}

/* The format the panel of tensor t uses. */
static NumFormat panel_format(const Trace *trace, int step, int t, int precision)
{
    const TraceTensor *tt = &trace->steps[step].tensors[t];
    return tt->is_integer ? numfmt_choose_integer(tt->tensor->data, tt->tensor->size)
                          : numfmt_choose(tt->tensor->data, tt->tensor->size, precision);
}

/* value as the panel of tensor t writes it, into buf (NUMFMT_BUF). */
static const char *panel_text(const Trace *trace, int step, int t, float value, char *buf)
{
    NumFormat fmt = panel_format(trace, step, t, NUMFMT_DEFAULT_PRECISION);
    numfmt_write(&fmt, value, buf);
    return buf;
}

/* explain_cell's text for one value, as a new string (free it). */
static char *explain(const Trace *trace, int step, int t, size_t offset, int width)
{
    StrBuf sb = {0};
    explain_cell(trace, step, t, offset, NUMFMT_DEFAULT_PRECISION, NULL, width, &sb);
    ck_assert(!sb.failed);
    char *text = strdup(strbuf_text(&sb));
    strbuf_free(&sb);
    ck_assert_ptr_nonnull(text);
    return text;
}

/* Checks text's shape: lines end in '\n', none is wider than width, the
 * last one ends "= <value as the panel shows it>". */
static void check_lines(const char *text, int width, const char *value, const char *what)
{
    size_t len = strlen(text);
    ck_assert_msg(len > 0 && text[len - 1] == '\n', "%s: text does not end a line:\n%s", what, text);
    const char *start = text, *last = text;
    while (start < text + len) {
        const char *end = strchr(start, '\n');
        char one[1024];
        size_t n = (size_t)(end - start);
        ck_assert_msg(n < sizeof one, "%s: a line of %zu bytes", what, n);
        memcpy(one, start, n);
        one[n] = '\0';
        ck_assert_msg(utf8_width(one) <= (size_t)width, "%s: line wider than %d: '%s'", what, width, one);
        last = start;
        start = end + 1;
    }
    char tail[NUMFMT_BUF + 4];
    snprintf(tail, sizeof tail, "= %s\n", value);
    size_t tail_len = strlen(tail), last_len = (size_t)(text + len - last);
    ck_assert_msg(last_len >= tail_len && strcmp(text + len - tail_len, tail) == 0 &&
                      (last_len == tail_len || text[len - tail_len - 1] == ' '),
                  "%s: the last line does not end '= %s':\n%s", what, value, text);
}

/* Checks that text contains needle. */
static void expect_in(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle) != NULL, "expected '%s' in:\n%s", needle, text);
}

/* Number of times needle occurs in text. */
static size_t count_in(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Number of values of every tensor of step that are sources of the
 * selection, and (through *in_tensor) how many of those are in tensor t. */
static size_t count_sources(const Trace *trace, int step, int sel, size_t sel_offset, int t, size_t *in_tensor)
{
    size_t total = 0;
    *in_tensor = 0;
    const TraceStep *s = &trace->steps[step];
    for (int i = 0; i < s->n_tensors; i++)
        for (size_t o = 0; o < s->tensors[i].tensor->size; o++)
            if (explain_is_source(trace, step, sel, sel_offset, i, o)) {
                total++;
                if (i == t)
                    (*in_tensor)++;
            }
    return total;
}

/* ---------------------------------------------------------------------
 * explain_recompute: every value, bit for bit.
 * ------------------------------------------------------------------- */

START_TEST(test_recompute_every_value)
{
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        Trace *trace = build_case(&CASES[c]);
        size_t checked = 0;
        for (int s = 0; s < trace->n_steps; s++)
            for (int t = 0; t < trace->steps[s].n_tensors; t++) {
                const TraceTensor *tt = &trace->steps[s].tensors[t];
                for (size_t o = 0; o < tt->tensor->size; o++) {
                    float want = tt->tensor->data[o];
                    float got = explain_recompute(trace, s, t, o);
                    ck_assert_msg(memcmp(&want, &got, sizeof want) == 0,
                                  "%s: step %s %s[%zu]: recomputed %.9g, stored %.9g", CASES[c].label,
                                  trace->steps[s].id, tt->name, o, (double)got, (double)want);
                    checked++;
                }
            }
        ck_assert_uint_gt(checked, 1000);
        trace_free(trace);
    }
}
END_TEST

START_TEST(test_recompute_out_of_range)
{
    Trace *trace = build(1, false);
    ck_assert(isnan(explain_recompute(trace, -1, 0, 0)));
    ck_assert(isnan(explain_recompute(trace, trace->n_steps, 0, 0)));
    ck_assert(isnan(explain_recompute(trace, 0, 7, 0)));
    ck_assert(isnan(explain_recompute(trace, 0, 0, 5)));
    ck_assert(isnan(explain_recompute(NULL, 0, 0, 0)));
    trace_free(trace);
}
END_TEST

/* ---------------------------------------------------------------------
 * explain_is_source: a table per kind of operation.
 * ------------------------------------------------------------------- */

/* One expectation: is value `index` of tensor `name` a source of the
 * selection? */
typedef struct SourceCase {
    const char *name;
    size_t index[TENSOR_MAX_DIMS];
    bool source;
} SourceCase;

/* Checks every case against the selection `sel`[sel_index] of step id. */
static void check_sources(const Trace *trace, const char *id, const char *sel, const size_t *sel_index,
                          const SourceCase *cases, size_t n)
{
    int step = step_of(trace, id);
    int t_sel = tensor_of(trace, step, sel);
    size_t sel_offset = at(trace, step, t_sel, sel_index);
    for (size_t i = 0; i < n; i++) {
        int t = tensor_of(trace, step, cases[i].name);
        size_t offset = at(trace, step, t, cases[i].index);
        ck_assert_msg(explain_is_source(trace, step, t_sel, sel_offset, t, offset) == cases[i].source,
                      "step %s, selected %s at offset %zu: %s[%zu][%zu][%zu] should %sbe a source", id, sel, sel_offset,
                      cases[i].name, cases[i].index[0], cases[i].index[1], cases[i].index[2],
                      cases[i].source ? "" : "not ");
    }
}

START_TEST(test_sources_dot_rows_1d)
{
    Trace *trace = build(1, false);
    static const SourceCase cases[] = {
        {"query_1", {0}, true},  {"query_1", {15}, true}, {"keys", {2, 0}, true},   {"keys", {2, 15}, true},
        {"keys", {1, 0}, false}, {"keys", {3, 7}, false}, {"scores_1", {2}, false}, {"scores_1", {1}, false},
    };
    check_sources(trace, "scores", "scores_1", (size_t[]){2}, cases, sizeof cases / sizeof cases[0]);
    /* 16 of query_1 and 16 of keys row 2, nothing else */
    int step = step_of(trace, "scores");
    size_t in_keys = 0;
    ck_assert_uint_eq(count_sources(trace, step, tensor_of(trace, step, "scores_1"), 2, tensor_of(trace, step, "keys"),
                                    &in_keys),
                      32);
    ck_assert_uint_eq(in_keys, 16);
    trace_free(trace);
}
END_TEST

START_TEST(test_sources_dot_rows_2d_and_masked)
{
    Trace *trace = build(3, true);
    static const SourceCase kv[] = {
        {"sentence_embed", {2, 5}, true}, {"sentence_embed", {3, 5}, false}, {"w_key", {3, 0}, true},
        {"w_key", {3, 15}, true},         {"w_key", {2, 3}, false},          {"w_value", {3, 0}, false},
    };
    check_sources(trace, "keys_values", "keys", (size_t[]){2, 3}, kv, sizeof kv / sizeof kv[0]);
    /* a masked score still comes from its dot product's inputs */
    static const SourceCase masked[] = {
        {"queries", {1, 0}, true},
        {"keys", {4, 9}, true},
        {"keys", {1, 9}, false},
        {"queries", {4, 0}, false},
        {"attention_weights", {1, 4}, false},
    };
    check_sources(trace, "all_tokens", "scores", (size_t[]){1, 4}, masked, sizeof masked / sizeof masked[0]);
    trace_free(trace);
}
END_TEST

START_TEST(test_sources_matvec_and_matmul)
{
    Trace *trace = build(1, false);
    static const SourceCase matvec[] = {
        {"w_key", {3, 0}, true}, {"w_key", {3, 15}, true},   {"w_key", {2, 3}, false},          {"x_1", {0}, true},
        {"x_1", {9}, true},      {"w_query", {3, 0}, false}, {"sentence_embed", {0, 0}, false},
    };
    check_sources(trace, "project_token", "key_1", (size_t[]){3}, matvec, sizeof matvec / sizeof matvec[0]);
    static const SourceCase matmul_1d[] = {
        {"a1", {0}, true},        {"a1", {4}, true},         {"values", {0, 3}, true},
        {"values", {4, 3}, true}, {"values", {0, 2}, false},
    };
    check_sources(trace, "weighted_sum", "z1", (size_t[]){3}, matmul_1d, sizeof matmul_1d / sizeof matmul_1d[0]);
    static const SourceCase matmul_2d[] = {
        {"concat_heads", {2, 0}, true}, {"concat_heads", {2, 15}, true}, {"concat_heads", {1, 0}, false},
        {"w_output", {0, 6}, true},     {"w_output", {15, 6}, true},     {"w_output", {6, 5}, false},
    };
    check_sources(trace, "mh_output", "multihead_output", (size_t[]){2, 6}, matmul_2d,
                  sizeof matmul_2d / sizeof matmul_2d[0]);
    static const SourceCase z[] = {
        {"attention_weights", {1, 0}, true},
        {"attention_weights", {2, 0}, false},
        {"values", {3, 7}, true},
        {"values", {3, 6}, false},
        {"scores", {1, 0}, false},
    };
    check_sources(trace, "all_tokens", "z", (size_t[]){1, 7}, z, sizeof z / sizeof z[0]);
    trace_free(trace);
}
END_TEST

START_TEST(test_sources_scale_and_softmax)
{
    Trace *trace = build(1, false);
    static const SourceCase scale[] = {{"scores_1", {2}, true}, {"scores_1", {1}, false}};
    check_sources(trace, "scale", "scaled_scores_1", (size_t[]){2}, scale, sizeof scale / sizeof scale[0]);
    static const SourceCase soft_1d[] = {{"scaled_scores_1", {0}, true}, {"scaled_scores_1", {4}, true}};
    check_sources(trace, "softmax", "a1", (size_t[]){2}, soft_1d, sizeof soft_1d / sizeof soft_1d[0]);
    static const SourceCase soft_2d[] = {
        {"scores", {1, 0}, true},  {"scores", {1, 3}, true},  {"scores", {1, 4}, true},
        {"scores", {2, 3}, false}, {"scores", {0, 3}, false}, {"queries", {1, 0}, false},
    };
    check_sources(trace, "all_tokens", "attention_weights", (size_t[]){1, 3}, soft_2d,
                  sizeof soft_2d / sizeof soft_2d[0]);
    static const SourceCase soft_3d[] = {
        {"scores", {1, 2, 0}, true},
        {"scores", {1, 2, 4}, true},
        {"scores", {0, 2, 3}, false},
        {"scores", {1, 3, 3}, false},
    };
    check_sources(trace, "mh_softmax", "attention_weights", (size_t[]){1, 2, 3}, soft_3d,
                  sizeof soft_3d / sizeof soft_3d[0]);
    trace_free(trace);
}
END_TEST

START_TEST(test_sources_einsum)
{
    Trace *trace = build(1, false);
    static const SourceCase project[] = {
        {"sentence_embed", {2, 0}, true}, {"sentence_embed", {2, 15}, true}, {"sentence_embed", {1, 0}, false},
        {"w_query", {1, 0, 3}, true},     {"w_query", {1, 15, 3}, true},     {"w_query", {0, 0, 3}, false},
        {"w_query", {1, 0, 2}, false},    {"w_key", {1, 0, 3}, false},       {"keys", {1, 2, 3}, false},
    };
    check_sources(trace, "mh_project", "queries", (size_t[]){1, 2, 3}, project, sizeof project / sizeof project[0]);
    /* scores[h][s][k] = Σ_e queries[h][s][e] keysᵀ[h][e][k]: keys[h][k][e] */
    static const SourceCase scores[] = {
        {"queries", {1, 2, 0}, true}, {"queries", {1, 2, 3}, true}, {"queries", {1, 3, 0}, false},
        {"keys", {1, 3, 0}, true},    {"keys", {1, 3, 3}, true},    {"keys", {1, 2, 0}, false},
        {"keys", {0, 3, 0}, false},
    };
    check_sources(trace, "mh_scores", "scores", (size_t[]){1, 2, 3}, scores, sizeof scores / sizeof scores[0]);
    static const SourceCase blend[] = {
        {"attention_weights", {0, 1, 0}, true},
        {"attention_weights", {0, 1, 4}, true},
        {"attention_weights", {0, 2, 0}, false},
        {"attention_weights", {1, 1, 0}, false},
        {"values", {0, 0, 2}, true},
        {"values", {0, 4, 2}, true},
        {"values", {0, 0, 1}, false},
        {"values", {1, 0, 2}, false},
    };
    check_sources(trace, "mh_weighted_sum", "head_outputs", (size_t[]){0, 1, 2}, blend, sizeof blend / sizeof blend[0]);
    /* counts: 16 + 16 for a projection, 4 + 4 for a score */
    int step = step_of(trace, "mh_scores");
    size_t in_keys = 0;
    ck_assert_uint_eq(count_sources(trace, step, tensor_of(trace, step, "scores"), 7, tensor_of(trace, step, "keys"),
                                    &in_keys),
                      8);
    ck_assert_uint_eq(in_keys, 4);
    trace_free(trace);
}
END_TEST

START_TEST(test_sources_copies)
{
    Trace *trace = build(2, false);
    /* tokens: my=2 name=6 is=8 marcello=3 politi=1 */
    static const SourceCase gather[] = {
        {"tokenized_sentence", {2}, true}, {"tokenized_sentence", {1}, false}, {"embedding", {8, 3}, true},
        {"embedding", {8, 2}, false},      {"embedding", {2, 3}, false},
    };
    check_sources(trace, "embed", "sentence_embed", (size_t[]){2, 3}, gather, sizeof gather / sizeof gather[0]);
    static const SourceCase pick[] = {
        {"sentence_embed", {1, 3}, true},
        {"sentence_embed", {0, 3}, false},
        {"sentence_embed", {1, 2}, false},
        {"w_key", {1, 3}, false},
    };
    check_sources(trace, "project_token", "x_2", (size_t[]){3}, pick, sizeof pick / sizeof pick[0]);
    static const SourceCase concat[] = {
        {"head_outputs", {1, 2, 2}, true},
        {"head_outputs", {2, 2, 1}, false},
        {"head_outputs", {1, 1, 2}, false},
    };
    check_sources(trace, "mh_concat", "concat_heads", (size_t[]){2, 6}, concat, sizeof concat / sizeof concat[0]);
    int step = step_of(trace, "mh_concat");
    size_t in_heads = 0;
    ck_assert_uint_eq(count_sources(trace, step, tensor_of(trace, step, "concat_heads"), 2 * 16 + 6,
                                    tensor_of(trace, step, "head_outputs"), &in_heads),
                      1);
    trace_free(trace);
}
END_TEST

START_TEST(test_sources_refused)
{
    Trace *trace = build(1, false);
    int step = step_of(trace, "scores");
    int q = tensor_of(trace, step, "query_1"), s = tensor_of(trace, step, "scores_1");
    /* a selection that is not an output, or out of range */
    ck_assert(!explain_is_source(trace, step, q, 0, q, 0));
    ck_assert(!explain_is_source(trace, step, s, 5, q, 0));
    ck_assert(!explain_is_source(trace, step, s, 0, q, 16));
    ck_assert(!explain_is_source(trace, step, 7, 0, q, 0));
    ck_assert(!explain_is_source(trace, -1, s, 0, q, 0));
    ck_assert(!explain_is_source(trace, trace->n_steps, s, 0, q, 0));
    /* made without inputs: nothing is a source */
    int w = step_of(trace, "weights");
    ck_assert(!explain_is_source(trace, w, 0, 0, 0, 0));
    ck_assert(!explain_is_source(trace, w, 0, 0, 1, 0));
    trace_free(trace);
}
END_TEST

/* ---------------------------------------------------------------------
 * explain_cell: content.
 * ------------------------------------------------------------------- */

START_TEST(test_cell_dot_product)
{
    Trace *trace = build(1, false);
    int step = step_of(trace, "scores");
    int t = tensor_of(trace, step, "scores_1"), q = tensor_of(trace, step, "query_1");
    int k = tensor_of(trace, step, "keys");
    char *text = explain(trace, step, t, 2, 60);
    const Tensor *query = tensor_at(trace, step, q), *keys = tensor_at(trace, step, k);
    char value[NUMFMT_BUF], a[NUMFMT_BUF], b[NUMFMT_BUF], p[NUMFMT_BUF], want[256];

    static const char header[] = "scores_1[is] = query_1 · keys[is]\n";
    ck_assert_msg(strncmp(text, header, strlen(header)) == 0, "header:\n%s", text);
    expect_in(text, "Σ_d query_1[d] · keys[is][d]");
    expect_in(text, "(16 terms)");
    /* the first and last terms with their numbers, the middle elided */
    NumFormat fq = panel_format(trace, step, q, 4), fk = panel_format(trace, step, k, 4);
    NumFormat fs = panel_format(trace, step, t, 4);
    for (size_t d = 0; d < 16; d += 15) {
        numfmt_write_padded(&fq, query->data[d], a);
        numfmt_write_padded(&fk, keys->data[2 * 16 + d], b);
        numfmt_write_padded(&fs, query->data[d] * keys->data[2 * 16 + d], p);
        snprintf(want, sizeof want, "%s × %s = %s\n", a, b, p);
        expect_in(text, want);
    }
    expect_in(text, "    d=0:  ");
    expect_in(text, "    d=15: ");
    /* 16 terms: all listed when EXPLAIN_MAX_TERMS allows, else the middle elided */
    if (EXPLAIN_MAX_TERMS >= 16) {
        expect_in(text, "d=6:");
        ck_assert_ptr_null(strstr(text, "more terms"));
    } else {
        ck_assert_ptr_null(strstr(text, "d=6:"));
    }
    ck_assert_uint_eq(count_in(text, " × "), EXPLAIN_MAX_TERMS < 16 ? EXPLAIN_MAX_TERMS : 16);
    snprintf(want, sizeof want, "  sum = %s\n", panel_text(trace, step, t, tensor_at(trace, step, t)->data[2], value));
    expect_in(text, want);
    check_lines(text, 60, value, "scores_1[2]");
    ck_assert_msg(strstr(text, "scores_1[is] = ") != NULL && strstr(text, "mask") == NULL, "%s", text);
    free(text);
    trace_free(trace);
}
END_TEST

START_TEST(test_cell_elides_long_sums)
{
    TraceCase c = {"d64", NULL, 64, 2, 1, false};
    Trace *trace = build_case(&c);
    int step = step_of(trace, "scores");
    char *text = explain(trace, step, tensor_of(trace, step, "scores_1"), 0, 80);
    expect_in(text, "(64 terms)");
    char elided[64], first_hidden[16], last_shown_head[16], first_shown_tail[16], last_hidden[16];
    int head = EXPLAIN_MAX_TERMS / 2, tail = EXPLAIN_MAX_TERMS - EXPLAIN_MAX_TERMS / 2;
    snprintf(elided, sizeof elided, "    … %d more terms …\n", 64 - EXPLAIN_MAX_TERMS);
    snprintf(last_shown_head, sizeof last_shown_head, "d=%d:", head - 1);
    snprintf(first_hidden, sizeof first_hidden, "d=%d:", head);
    snprintf(last_hidden, sizeof last_hidden, "d=%d:", 64 - tail - 1);
    snprintf(first_shown_tail, sizeof first_shown_tail, "d=%d:", 64 - tail);
    expect_in(text, elided);
    ck_assert_uint_eq(count_in(text, " × "), EXPLAIN_MAX_TERMS);
    expect_in(text, last_shown_head);
    expect_in(text, first_shown_tail);
    expect_in(text, "d=63:");
    ck_assert_ptr_null(strstr(text, first_hidden));
    ck_assert_ptr_null(strstr(text, last_hidden));
    free(text);
    trace_free(trace);
}
END_TEST

START_TEST(test_cell_scale_and_mask)
{
    Trace *trace = build(3, true);
    char value[NUMFMT_BUF], x[NUMFMT_BUF], want[128];
    int step = step_of(trace, "scale");
    int t = tensor_of(trace, step, "scaled_scores_3"), in = tensor_of(trace, step, "scores_3");

    /* not masked: the division */
    char *text = explain(trace, step, t, 1, 60);
    expect_in(text, "scaled_scores_3[name] = scores_3[name] / √16\n");
    float raw = tensor_at(trace, step, in)->data[1];
    snprintf(want, sizeof want, "  = %s / 4 = %s\n", panel_text(trace, step, in, raw, x),
             panel_text(trace, step, t, tensor_at(trace, step, t)->data[1], value));
    expect_in(text, want);
    ck_assert_ptr_null(strstr(text, "masked"));
    check_lines(text, 60, value, "scaled_scores_3[1]");
    free(text);

    /* masked: the division still shown, then why it is -inf */
    text = explain(trace, step, t, 4, 60);
    expect_in(text, "masked: key 'politi' comes after query 'is' → -inf");
    check_lines(text, 60, "-inf", "scaled_scores_3[4]");
    free(text);

    /* a masked matrix score and a masked einsum score */
    step = step_of(trace, "all_tokens");
    text = explain(trace, step, tensor_of(trace, step, "scores"), 1 * 5 + 4, 60);
    expect_in(text, "scores[name][politi] = queries[name] · keys[politi] / √16");
    expect_in(text, "sum / √16 = ");
    expect_in(text, "masked: key 'politi' comes after query 'name' → -inf");
    check_lines(text, 60, "-inf", "all_tokens scores[1][4]");
    free(text);
    step = step_of(trace, "mh_scores");
    text = explain(trace, step, tensor_of(trace, step, "scores"), 2 * 25 + 0 * 5 + 3, 60);
    expect_in(text, "masked: key 'marcello' comes after query 'my' → -inf");
    expect_in(text, "sum / √4 = ");
    check_lines(text, 60, "-inf", "mh_scores scores[2][0][3]");
    free(text);
    trace_free(trace);
}
END_TEST

START_TEST(test_cell_softmax)
{
    Trace *trace = build(1, false);
    int step = step_of(trace, "softmax");
    int t = tensor_of(trace, step, "a1"), in = tensor_of(trace, step, "scaled_scores_1");
    const Tensor *x = tensor_at(trace, step, in);
    char *text = explain(trace, step, t, 0, 60);
    char value[NUMFMT_BUF], m[NUMFMT_BUF], want[128];

    expect_in(text, "a1[my] = softmax(scaled_scores_1)[my]\n");
    expect_in(text, "= exp(x[my] − max) / Σ_j exp(x[j] − max)");
    float max = x->data[0];
    size_t arg = 0;
    for (size_t j = 1; j < 5; j++)
        if (x->data[j] > max)
            max = x->data[j], arg = j;
    static const char *const words[] = {"my", "name", "is", "marcello", "politi"};
    snprintf(want, sizeof want, "max = %s (at %s)", panel_text(trace, step, in, max, m), words[arg]);
    expect_in(text, want);
    for (size_t j = 0; j < 5; j++) {
        snprintf(want, sizeof want, "    %s:", words[j]);
        expect_in(text, want);
    }
    expect_in(text, "sum of the 5 exps = ");
    check_lines(text, 60, panel_text(trace, step, t, tensor_at(trace, step, t)->data[0], value), "a1[0]");
    free(text);

    /* masked keys get exp(-inf) = 0 */
    trace_free(trace);
    trace = build(3, true);
    step = step_of(trace, "softmax");
    text = explain(trace, step, tensor_of(trace, step, "a3"), 4, 60);
    ck_assert_uint_eq(count_in(text, "exp(-inf) = 0"), 2);
    check_lines(text, 60, "0.0000e+00", "a3[4]");
    free(text);
    trace_free(trace);

    /* a row longer than EXPLAIN_MAX_TERMS: only this entry's exp */
    TraceCase long_row = {"20 words", "a b c d e f g h i j k l m n o p q r s t", 0, 0, 1, false};
    trace = build_case(&long_row);
    step = step_of(trace, "softmax");
    t = tensor_of(trace, step, "a1");
    text = explain(trace, step, t, 13, 60);
    expect_in(text, "a1[n] = softmax(scaled_scores_1)[n]\n");
    ck_assert_uint_eq(count_in(text, "exp("), 3); /* the formula's two and this entry's */
    expect_in(text, "sum of the 20 exps = ");
    check_lines(text, 60, panel_text(trace, step, t, tensor_at(trace, step, t)->data[13], value), "a1[13]");
    free(text);
    trace_free(trace);
}
END_TEST

START_TEST(test_cell_einsum)
{
    Trace *trace = build(1, false);
    char value[NUMFMT_BUF];

    int step = step_of(trace, "mh_project");
    int t = tensor_of(trace, step, "queries");
    size_t offset = 1 * 20 + 2 * 4 + 3;
    char *text = explain(trace, step, t, offset, 80);
    expect_in(text, "queries[h=1, s=is, e=3] = Σ_d sentence_embed[is][d] · w_query[1][d][3]\n");
    expect_in(text, "d is not in the output 'hse', so it is summed");
    expect_in(text, "d runs over the 16 embedding dimensions (16 terms)");
    expect_in(text, "kept: s token, h head, e head dim\n");
    expect_in(text, "d=15:");
    check_lines(text, 80, panel_text(trace, step, t, tensor_at(trace, step, t)->data[offset], value), "queries");
    free(text);

    step = step_of(trace, "mh_scores");
    t = tensor_of(trace, step, "scores");
    text = explain(trace, step, t, 2, 80);
    expect_in(text, "scores[h=0, s=my, k=is] = Σ_e queries[0][my][e] · keysᵀ[0][e][is] / √4\n");
    expect_in(text, "(keysᵀ[0][e][is] is keys[0][is][e])");
    expect_in(text, "e runs over the 4 dimensions of a head (4 terms)");
    expect_in(text, "kept: h head, s query token, k key token\n");
    ck_assert_uint_eq(count_in(text, " × "), 4);
    expect_in(text, "sum / √4 = ");
    check_lines(text, 80, panel_text(trace, step, t, tensor_at(trace, step, t)->data[2], value), "mh scores");
    free(text);

    step = step_of(trace, "mh_weighted_sum");
    t = tensor_of(trace, step, "head_outputs");
    text = explain(trace, step, t, 0, 80);
    expect_in(text, "head_outputs[h=0, i=my, k=0] = Σ_j attention_weights[0][my][j] · values[0][j][0]\n");
    expect_in(text, "j runs over the 5 key tokens (5 terms)");
    expect_in(text, "kept: h head, i query token, k value dim\n");
    expect_in(text, "    j=politi:   ");
    check_lines(text, 80, panel_text(trace, step, t, tensor_at(trace, step, t)->data[0], value), "head_outputs");
    free(text);
    trace_free(trace);
}
END_TEST

/* Issue 15, defect 7: what each einsum letter runs over, worked out by hand
 * from the article's equations ('k' is the key token in step 13 and the
 * value width in step 15), and the letter of each panel's dimensions as
 * the panels show them (keys enter step 13 transposed, shown [h, k, e]). */
START_TEST(test_einsum_axes)
{
    Trace *trace = build(1, false);
    static const struct {
        const char *step, *letters;
        AxisRole roles[4];
        const char *summed;
        const char *tensor, *dims;
    } AXES_CASES[] = {
        {"mh_project", "sdhe", {AXIS_TOKEN, AXIS_MODEL, AXIS_HEAD, AXIS_HEAD_DIM}, "d", "w_key", "hde"},
        {"mh_scores", "hsek", {AXIS_HEAD, AXIS_QUERY, AXIS_HEAD_DIM, AXIS_KEY}, "e", "keys", "hke"},
        {"mh_weighted_sum", "hijk", {AXIS_HEAD, AXIS_QUERY, AXIS_KEY, AXIS_VALUE_DIM}, "j", "values", "hjk"},
    };
    for (size_t c = 0; c < sizeof AXES_CASES / sizeof AXES_CASES[0]; c++) {
        int step = step_of(trace, AXES_CASES[c].step);
        EinsumAxes axes;
        ck_assert_msg(explain_einsum_axes(trace, step, &axes), "%s has an einsum", AXES_CASES[c].step);
        ck_assert_int_eq(axes.n, 4);
        for (int l = 0; l < 4; l++) {
            ck_assert_msg(axes.axis[l].letter == AXES_CASES[c].letters[l], "%s: letter %d is '%c', expected '%c'",
                          AXES_CASES[c].step, l, axes.axis[l].letter, AXES_CASES[c].letters[l]);
            ck_assert_msg(axes.axis[l].role == AXES_CASES[c].roles[l], "%s: '%c' has role %d, expected %d",
                          AXES_CASES[c].step, axes.axis[l].letter, (int)axes.axis[l].role, (int)AXES_CASES[c].roles[l]);
            ck_assert_msg(axes.axis[l].summed == (strchr(AXES_CASES[c].summed, axes.axis[l].letter) != NULL),
                          "%s: '%c' summed is wrong", AXES_CASES[c].step, axes.axis[l].letter);
            ck_assert_uint_eq(axes.axis[l].size,
                              axes.axis[l].role == AXIS_HEAD                                              ? 4
                              : axes.axis[l].role == AXIS_MODEL                                           ? 16
                              : axes.axis[l].role == AXIS_HEAD_DIM || axes.axis[l].role == AXIS_VALUE_DIM ? 4
                                                                                                          : 5);
        }
        int t = tensor_of(trace, step, AXES_CASES[c].tensor);
        ck_assert_msg(memcmp(axes.dim_letter[t], AXES_CASES[c].dims, 3) == 0,
                      "%s: %s's letters are '%.3s', expected '%s'", AXES_CASES[c].step, AXES_CASES[c].tensor,
                      axes.dim_letter[t], AXES_CASES[c].dims);
    }
    EinsumAxes none;
    ck_assert(!explain_einsum_axes(trace, step_of(trace, "mh_softmax"), &none));
    ck_assert_int_eq(none.n, 0);
    ck_assert(!explain_einsum_axes(trace, -1, &none));
    ck_assert_str_eq(explain_axis_name(AXIS_KEY, false), "key token");
    ck_assert_str_eq(explain_axis_name(AXIS_VALUE_DIM, true), "value");
    trace_free(trace);
}
END_TEST

/* Issue 15, defect 5: at GPT-2's width with the fast kernels, the note on
 * the order of additions wraps inside the box instead of losing its end
 * ("so the last" was the last word shown before). */
START_TEST(test_cell_fast_kernel_note_wraps)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    cfg.d_model = 768;
    cfg.heads = 12;
    cfg.kernels = KERNELS_FAST;
    Trace *trace = trace_build(&cfg, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    config_free(&cfg);
    ck_assert(trace->fast_kernels);
    int step = step_of(trace, "mh_output");
    int t = tensor_of(trace, step, "multihead_output");
    bool seen = false;
    for (size_t offset = 0; offset < 8 && !seen; offset++) {
        char *text = explain(trace, step, t, offset, 76);
        if (strstr(text, "(added in order:") == NULL) {
            free(text);
            continue;
        }
        seen = true;
        expect_in(text, "digits may differ)\n");
        char value[NUMFMT_BUF];
        check_lines(text, 76, panel_text(trace, step, t, tensor_at(trace, step, t)->data[offset], value), "note");
        free(text);
    }
    ck_assert_msg(seen, "some value of multihead_output differs from the in-order sum");
    trace_free(trace);
}
END_TEST

START_TEST(test_cell_copies_and_draws)
{
    Trace *trace = build(1, false);
    char *text;
    int step = step_of(trace, "embed");

    text = explain(trace, step, tensor_of(trace, step, "sentence_embed"), 2 * 16 + 3, 80);
    expect_in(text, "sentence_embed[is][3] = embedding[8][3]\n");
    expect_in(text, "token 'is' has id 8");
    free(text);
    text = explain(trace, step, tensor_of(trace, step, "embedding"), 8 * 16 + 3, 80);
    expect_in(text, "normal_ initialisation (mean 0, std 1): value #132 of");
    expect_in(text, "160 (seed 0)");
    expect_in(text, "row 8 is the embedding of token 'is'");
    free(text);
    text = explain(trace, step, tensor_of(trace, step, "tokenized_sentence"), 2, 80);
    expect_in(text, "made in step 1 (tokenize)");
    check_lines(text, 80, "8", "shown ids");
    free(text);

    step = step_of(trace, "tokenize");
    text = explain(trace, step, 0, 2, 80);
    expect_in(text, "token 'is' has id 8");
    check_lines(text, 80, "8", "ids");
    free(text);

    step = step_of(trace, "weights");
    text = explain(trace, step, tensor_of(trace, step, "w_query"), 37, 80);
    expect_in(text, "drawn by torch.rand(16, 16): value #38 of that call");
    expect_in(text, "the 2nd torch.rand call after torch.manual_seed(0)");
    free(text);

    step = step_of(trace, "project_token");
    text = explain(trace, step, tensor_of(trace, step, "x_1"), 3, 80);
    expect_in(text, "x_1[3] = sentence_embed[my][3]\n");
    free(text);

    step = step_of(trace, "mh_concat");
    text = explain(trace, step, tensor_of(trace, step, "concat_heads"), 2 * 16 + 6, 80);
    expect_in(text, "concat_heads[is][6] = head_outputs[1][is][2]\n");
    expect_in(text, "column 6 = head 1 × 4 + 2");
    free(text);

    /* part 2's embedding: made again, equal to step 2's */
    step = step_of(trace, "mh_project");
    text = explain(trace, step, tensor_of(trace, step, "sentence_embed"), 3, 80);
    expect_in(text, "made in step 2 (embed)");
    expect_in(text, "again after re-seeding");
    free(text);
    trace_free(trace);
}
END_TEST

START_TEST(test_token_labels)
{
    /* a repeated word carries its 1-based position; a label too wide keeps
     * the position whole and cuts the word, which ends in "…" */
    char the[] = "the", cat[] = "cat", the2[] = "the", long1[] = "ĠsupercalifragilisticĠ",
         long2[] = "ĠsupercalifragilisticĠ";
    char *tokens[] = {the, cat, the2, long1, long2};
    Config cfg = {0};
    cfg.tokens = tokens;
    cfg.n_tokens = 5;
    char buf[64];
    ck_assert_str_eq(explain_token_label(&cfg, 0, 10, buf, sizeof buf), "the(1)");
    ck_assert_str_eq(explain_token_label(&cfg, 1, 10, buf, sizeof buf), "cat");
    ck_assert_str_eq(explain_token_label(&cfg, 2, 10, buf, sizeof buf), "the(3)");
    ck_assert_str_eq(explain_token_label(&cfg, 2, 6, buf, sizeof buf), "the(3)");
    ck_assert_str_eq(explain_token_label(&cfg, 2, 5, buf, sizeof buf), "t…(3)");
    ck_assert_str_eq(explain_token_label(&cfg, 3, 10, buf, sizeof buf), "Ġsuper…(4)");
    ck_assert_str_eq(explain_token_label(&cfg, 4, 10, buf, sizeof buf), "Ġsuper…(5)");
    /* no room for the word: one code point and "…" are still kept */
    ck_assert_str_eq(explain_token_label(&cfg, 4, 3, buf, sizeof buf), "Ġ…(5)");
    /* a word that fits exactly is not cut */
    cfg.n_tokens = 2;
    ck_assert_str_eq(explain_token_label(&cfg, 0, 3, buf, sizeof buf), "the");
    ck_assert_str_eq(explain_token_label(&cfg, 0, 2, buf, sizeof buf), "t…");
}
END_TEST

START_TEST(test_cell_labels)
{
    /* a repeated word carries its position */
    TraceCase cat = {"cat", "the cat sat on the mat", 32, 8, 1, false};
    Trace *trace = build_case(&cat);
    int step = step_of(trace, "all_tokens");
    char *text = explain(trace, step, tensor_of(trace, step, "scores"), 0 * 6 + 4, 60);
    expect_in(text, "scores[the(1)][the(5)] = ");
    free(text);
    trace_free(trace);

    /* a long word is cut; no words at all gives positions */
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    ck_assert(config_set_sentence(&cfg, "supercalifragilistic is long", &err));
    trace = trace_build(&cfg, &err);
    ck_assert_ptr_nonnull(trace);
    step = step_of(trace, "scores");
    text = explain(trace, step, tensor_of(trace, step, "scores_1"), 0, 60);
    expect_in(text, "scores_1[supercalifr…] = query_1 · keys[supercalifr…]");
    free(text);
    trace_free(trace);
    ck_assert(config_set_token_ids(&cfg, "2 6 8 3", &err));
    ck_assert_ptr_null(cfg.sentence);
    cfg.focus = 4;
    cfg.causal = true;
    trace = trace_build(&cfg, &err);
    ck_assert_ptr_nonnull(trace);
    step = step_of(trace, "all_tokens");
    text = explain(trace, step, tensor_of(trace, step, "scores"), 0 * 4 + 2, 60);
    expect_in(text, "scores[0][2] = queries[0] · keys[2] / √16");
    expect_in(text, "masked: key 2 comes after query 0 → -inf");
    free(text);
    step = step_of(trace, "tokenize");
    text = explain(trace, step, 0, 1, 60);
    expect_in(text, "token 1 has id 6");
    free(text);
    trace_free(trace);
    config_free(&cfg);
}
END_TEST

/* Every kind of cell of two traces at three widths: lines fit, and the
 * last one is the panel's text of the stored value. */
START_TEST(test_cell_width_and_last_line)
{
    static const int widths[] = {40, 52, 100};
    for (size_t c = 0; c < 2; c++) {
        Trace *trace = build_case(&CASES[c]);
        for (int s = 0; s < trace->n_steps; s++)
            for (int t = 0; t < trace->steps[s].n_tensors; t++) {
                const TraceTensor *tt = &trace->steps[s].tensors[t];
                size_t n = tt->tensor->size, stride = n > SWEEP_SAMPLES ? n / SWEEP_SAMPLES + 1 : 1;
                for (size_t o = 0; o < n; o += stride) {
                    int width = widths[(o / stride + (size_t)t) % 3];
                    char value[NUMFMT_BUF], what[96];
                    char *text = explain(trace, s, t, o, width);
                    snprintf(what, sizeof what, "%s: step %s %s[%zu] width %d", CASES[c].label, trace->steps[s].id,
                             tt->name, o, width);
                    check_lines(text, width, panel_text(trace, s, t, tt->tensor->data[o], value), what);
                    free(text);
                }
            }
        trace_free(trace);
    }
}
END_TEST

START_TEST(test_cell_out_of_range)
{
    Trace *trace = build(1, false);
    char *text = explain(trace, 0, 0, 99, 40);
    expect_in(text, "no such value");
    free(text);
    text = explain(trace, 99, 0, 0, 40);
    expect_in(text, "no such value");
    free(text);
    trace_free(trace);
}
END_TEST

Suite *explain_suite(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("recompute");
    tcase_add_test(tc, test_recompute_every_value);
    tcase_add_test(tc, test_recompute_out_of_range);
    suite_add_tcase(s, tc);
    tc = tcase_create("is_source");
    tcase_add_test(tc, test_sources_dot_rows_1d);
    tcase_add_test(tc, test_sources_dot_rows_2d_and_masked);
    tcase_add_test(tc, test_sources_matvec_and_matmul);
    tcase_add_test(tc, test_sources_scale_and_softmax);
    tcase_add_test(tc, test_sources_einsum);
    tcase_add_test(tc, test_sources_copies);
    tcase_add_test(tc, test_sources_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("cell");
    tcase_add_test(tc, test_cell_dot_product);
    tcase_add_test(tc, test_cell_elides_long_sums);
    tcase_add_test(tc, test_cell_scale_and_mask);
    tcase_add_test(tc, test_cell_softmax);
    tcase_add_test(tc, test_cell_einsum);
    tcase_add_test(tc, test_einsum_axes);
    tcase_add_test(tc, test_cell_fast_kernel_note_wraps);
    tcase_add_test(tc, test_cell_copies_and_draws);
    tcase_add_test(tc, test_token_labels);
    tcase_add_test(tc, test_cell_labels);
    tcase_add_test(tc, test_cell_width_and_last_line);
    tcase_add_test(tc, test_cell_out_of_range);
    suite_add_tcase(s, tc);
    return s;
}
