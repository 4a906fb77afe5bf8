/*
 * check_model_trace.c - a model trace end to end: the command line
 * (--model DIR --token-ids IDS --layer L --json), the rows of part 3 of
 * the step table and the JSON printer, against PyTorch.
 *
 * For every committed fixture checkpoint (tests/fixtures/gpt2, written by
 * tests/make_gpt2_fixtures.py with torch.nn.functional, never by
 * attn-trace) and every layer, the arguments go through cli_parse as main
 * gets them, the trace is built and printed as JSON, the JSON is parsed
 * back, and each tensor it holds under issue 18's names is compared with
 * the reference .npy: every value within 1e-5 absolute plus 1e-5
 * relative, masked scores -inf in both, the top 5 next tokens PyTorch's.
 * Also: the steps a model trace has, the values the inspector recomputes
 * (bit for bit), and the requests the command line refuses.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "explain.h"
#include "bpe.h"
#include "experiment.h"
#include "json.h"
#include "keys.h"
#include "npy.h"
#include "print.h"
#include "strbuf.h"
#include "suites.h"
#include "trace.h"
#include "utf8.h"
#include "view.h"

#define FIXTURE_DIR "tests/fixtures/gpt2"
#define TOL 1e-5

/* The fixtures and their layers (config.json's n_layer). */
static const struct {
    const char *name;
    int n_layer;
} FIXTURES[] = {
    {"d16_h2_l2_f32", 2},        {"d16_h2_l2_f16_prefix", 2}, {"d16_h2_l2_bf16", 2}, {"d16_h2_l2_f32_one_token", 2},
    {"d32_h4_l3_f32_prefix", 3}, {"d32_h4_l3_bf16", 3},       {"d48_h3_l2_f16", 2},
};

/* The tensors compared, and whether the reference is per layer
 * (ref/L<l>.NAME.npy) or one for the whole model (ref/NAME.npy). */
static const struct {
    const char *name;
    bool per_layer;
} COMPARED[] = {
    {"token_embed", false}, {"position_embed", false},   {"block_input", true},  {"ln_1", true},
    {"qkv", true},          {"queries", true},           {"keys", true},         {"values", true},
    {"scores", true},       {"attention_weights", true}, {"head_outputs", true}, {"concat_heads", true},
    {"attn_output", true},  {"attn_residual", true},     {"ln_f", false},
};

static double worst_ratio; /* the largest error over its tolerance, over every value compared */
static size_t values_compared;

/* Reads FIXTURE_DIR/fixture/ref/file.npy into arr; a fixture with a '/'
 * is the directory of the .npy files itself (an experiment's fixtures). */
static void read_ref(const char *fixture, const char *file, NpyArray *arr)
{
    char path[512];
    if (strchr(fixture, '/') != NULL)
        snprintf(path, sizeof path, "%s/%s.npy", fixture, file);
    else
        snprintf(path, sizeof path, "%s/%s/ref/%s.npy", FIXTURE_DIR, fixture, file);
    Error err;
    error_clear(&err);
    ck_assert_msg(npy_read(path, arr, &err), "%s", err.message);
}

/* The fixture's token ids as --token-ids takes them ("5 17 3"), into buf. */
static void fixture_ids(const char *fixture, char *buf, size_t size)
{
    NpyArray ids;
    read_ref(fixture, "token_ids", &ids);
    ck_assert_int_eq(ids.dtype, NPY_INT64);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ids.count; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? " " : "",
                                 (long long)((const int64_t *)ids.data)[i]);
    npy_free(&ids);
}

/* Runs the command line argv (argc of them) as main does up to the trace:
 * cli_parse, then trace_build. Returns the trace, or NULL with err set
 * (opts released). */
static Trace *trace_from_argv(int argc, char **argv, Error *err)
{
    Options opts;
    if (!cli_parse(argc, argv, &opts, err))
        return NULL;
    Trace *trace = trace_build(&opts.config, err);
    cli_options_free(&opts);
    return trace;
}

/* The model trace of fixture at layer, through the command line. */
static Trace *fixture_trace(const char *fixture, int layer)
{
    char dir[256], ids[1024], layer_text[16];
    snprintf(dir, sizeof dir, "%s/%s", FIXTURE_DIR, fixture);
    fixture_ids(fixture, ids, sizeof ids);
    snprintf(layer_text, sizeof layer_text, "%d", layer);
    char prog[] = "attn-trace", model[] = "--model", token_ids[] = "--token-ids", layer_flag[] = "--layer",
         json[] = "--json";
    char *argv[] = {prog, model, dir, token_ids, ids, layer_flag, layer_text, json, NULL};
    Error err;
    error_clear(&err);
    Trace *trace = trace_from_argv(8, argv, &err);
    ck_assert_msg(trace != NULL, "%s layer %d: %s", fixture, layer, err.message);
    return trace;
}

/* The first tensor called name in the JSON's steps, or NULL. */
static const JsonValue *json_tensor(const JsonValue *root, const char *name)
{
    const JsonValue *steps = json_get(root, "steps");
    ck_assert_ptr_nonnull(steps);
    for (size_t i = 0; i < steps->count; i++) {
        const JsonValue *tensors = json_get(&steps->u.items[i], "tensors");
        for (size_t j = 0; tensors != NULL && j < tensors->count; j++) {
            const JsonValue *n = json_get(&tensors->u.items[j], "name");
            if (n != NULL && n->type == JSON_STRING && strcmp(n->u.string, name) == 0)
                return &tensors->u.items[j];
        }
    }
    return NULL;
}

/* A value of a JSON "data" array: a number, or "-inf", "inf", "nan". */
static double json_value(const JsonValue *v)
{
    if (v->type == JSON_NUMBER)
        return strtod(v->u.number, NULL);
    ck_assert_int_eq(v->type, JSON_STRING);
    return strcmp(v->u.string, "-inf") == 0 ? -INFINITY : strcmp(v->u.string, "inf") == 0 ? INFINITY : NAN;
}

/* Checks the JSON tensor name against the reference: its shape, and
 * every value within TOL abs + TOL rel (infinities equal). */
static void compare_tensor(const JsonValue *root, const char *fixture, const char *name, const char *file)
{
    const JsonValue *t = json_tensor(root, name);
    ck_assert_msg(t != NULL, "%s: --json has no tensor %s", fixture, name);
    const JsonValue *shape = json_get(t, "shape"), *data = json_get(t, "data");
    NpyArray ref;
    read_ref(fixture, file, &ref);
    ck_assert_msg((int)shape->count == ref.ndim, "%s: %s has rank %zu, PyTorch %d", fixture, name, shape->count,
                  ref.ndim);
    for (int d = 0; d < ref.ndim; d++)
        ck_assert_msg((size_t)json_value(&shape->u.items[d]) == ref.shape[d], "%s: %s dim %d", fixture, name, d);
    ck_assert_uint_eq(data->count, ref.count);
    for (size_t i = 0; i < ref.count; i++) {
        double got = json_value(&data->u.items[i]), want = ((const float *)ref.data)[i];
        if (isinf(want)) {
            ck_assert_msg(got == want, "%s: %s[%zu] = %g, PyTorch %g", fixture, name, i, got, want);
            continue;
        }
        double tol = TOL + TOL * fabs(want), error = fabs(got - want);
        ck_assert_msg(error <= tol, "%s: %s[%zu] = %.9g, PyTorch %.9g (error %.3g)", fixture, name, i, got, want,
                      error);
        if (error / tol > worst_ratio)
            worst_ratio = error / tol;
        values_compared++;
    }
    npy_free(&ref);
}

/* config.model, .layer and .n_layer of the JSON. */
static void check_json_config(const JsonValue *root, const char *fixture, int layer, int n_layer)
{
    const JsonValue *cfg = json_get(root, "config");
    const JsonValue *model = json_get(cfg, "model");
    ck_assert_msg(model != NULL && model->type == JSON_STRING && strstr(model->u.string, fixture) != NULL,
                  "%s: config.model", fixture);
    ck_assert_int_eq((int)json_value(json_get(cfg, "layer")), layer);
    ck_assert_int_eq((int)json_value(json_get(cfg, "n_layer")), n_layer);
}

/* The top 5: the ids PyTorch's, the probabilities within tolerance. */
static void check_top5(const JsonValue *root, const char *fixture)
{
    const JsonValue *ids = json_get(json_tensor(root, "top_ids"), "data");
    NpyArray want;
    read_ref(fixture, "top5_ids", &want);
    ck_assert_uint_eq(ids->count, want.count);
    for (size_t k = 0; k < want.count; k++)
        ck_assert_msg((long long)json_value(&ids->u.items[k]) == (long long)((const int64_t *)want.data)[k],
                      "%s: top %zu id", fixture, k + 1);
    /* the same five in "next_tokens", id and probability */
    const JsonValue *next = json_get(root, "next_tokens");
    ck_assert_msg(next != NULL && next->type == JSON_ARRAY && next->count == want.count, "%s: next_tokens", fixture);
    NpyArray probs;
    read_ref(fixture, "top5_probs", &probs);
    for (size_t k = 0; k < want.count; k++) {
        const JsonValue *entry = &next->u.items[k];
        ck_assert_msg((long long)json_value(json_get(entry, "id")) == (long long)((const int64_t *)want.data)[k],
                      "%s: next_tokens[%zu].id", fixture, k);
        double p = json_value(json_get(entry, "probability")), ref = ((const float *)probs.data)[k];
        ck_assert_msg(fabs(p - ref) <= TOL + TOL * fabs(ref), "%s: next_tokens[%zu].probability %g, PyTorch %g",
                      fixture, k, p, ref);
        ck_assert_int_eq(json_get(entry, "text")->type, JSON_NULL); /* the fixtures have no vocab.json */
    }
    npy_free(&probs);
    npy_free(&want);
    compare_tensor(root, fixture, "top_probs", "top5_probs");
}

/* Every fixture, every layer: the --json tensors against PyTorch. */
START_TEST(test_json_equals_pytorch)
{
    size_t traces = 0;
    for (size_t f = 0; f < sizeof FIXTURES / sizeof FIXTURES[0]; f++)
        for (int layer = 0; layer < FIXTURES[f].n_layer; layer++) {
            const char *fixture = FIXTURES[f].name;
            Trace *trace = fixture_trace(fixture, layer);
            StrBuf json = {0};
            PrintOptions popts = {4, -1, NULL, false, false};
            print_trace_json(&json, trace, &popts);
            Error err;
            error_clear(&err);
            JsonDoc *doc = json_parse(strbuf_text(&json), json.len, "--json", &err);
            ck_assert_msg(doc != NULL, "%s: %s", fixture, err.message);
            const JsonValue *root = json_root(doc);
            check_json_config(root, fixture, layer, FIXTURES[f].n_layer);
            for (size_t c = 0; c < sizeof COMPARED / sizeof COMPARED[0]; c++) {
                char file[64];
                if (COMPARED[c].per_layer)
                    snprintf(file, sizeof file, "L%d.%s", layer, COMPARED[c].name);
                else
                    snprintf(file, sizeof file, "%s", COMPARED[c].name);
                compare_tensor(root, fixture, COMPARED[c].name, file);
            }
            check_top5(root, fixture);
            json_free(doc);
            strbuf_free(&json);
            trace_free(trace);
            traces++;
        }
    ck_assert_uint_eq(traces, 16);
    printf(
        "model traces: %zu traces, %zu values within 1e-5 abs + rel of PyTorch; the largest error is %.3f of "
        "its tolerance\n",
        traces, values_compared, worst_ratio);
}
END_TEST

/* --no-positions on a checkpoint (issue 13): wpe's rows zeroed, every
 * tensor of both layers and the top 5 against PyTorch's forward pass of
 * the same checkpoint with a zero wpe (tests/make_experiment_fixtures.py). */
START_TEST(test_no_positions_equals_pytorch)
{
    static const char refs[] = "tests/fixtures/experiments/model_no_positions";
    char dir[256], ids[1024];
    snprintf(dir, sizeof dir, "%s/d16_h2_l2_f32", FIXTURE_DIR);
    fixture_ids("d16_h2_l2_f32", ids, sizeof ids);
    for (int layer = 0; layer < 2; layer++) {
        char layer_text[16];
        snprintf(layer_text, sizeof layer_text, "%d", layer);
        char prog[] = "attn-trace", model[] = "--model", token_ids[] = "--token-ids", layer_flag[] = "--layer",
             json[] = "--json", change[] = "--no-positions";
        char *argv[] = {prog, model, dir, token_ids, ids, layer_flag, layer_text, change, json, NULL};
        Error err;
        error_clear(&err);
        Options opts;
        ck_assert_msg(cli_parse(9, argv, &opts, &err), "%s", err.message);
        Trace *trace = trace_build_experiments(&opts.config, NULL, &opts.flags.changes, &err); /* as main.c builds */
        cli_options_free(&opts);
        ck_assert_msg(trace != NULL, "no-positions layer %d: %s", layer, err.message);
        StrBuf text = {0};
        PrintOptions popts = {4, -1, NULL, false, false};
        print_trace_json(&text, trace, &popts);
        JsonDoc *doc = json_parse(strbuf_text(&text), text.len, "--json", &err);
        ck_assert_msg(doc != NULL, "%s", err.message);
        const JsonValue *root = json_root(doc);
        for (size_t c = 0; c < sizeof COMPARED / sizeof COMPARED[0]; c++) {
            char file[64];
            if (COMPARED[c].per_layer)
                snprintf(file, sizeof file, "L%d.%s", layer, COMPARED[c].name);
            else
                snprintf(file, sizeof file, "%s", COMPARED[c].name);
            compare_tensor(root, refs, COMPARED[c].name, file);
        }
        check_top5(root, refs);
        json_free(doc);
        strbuf_free(&text);
        trace_free(trace);
    }
}
END_TEST

/* A model trace is part 3 alone: the model's rows, in order, with the
 * blocks step only after block 0; none of the article's. */
START_TEST(test_model_trace_steps)
{
    static const char *const at_0[] = {"gpt2_tokens", "gpt2_embed",  "gpt2_ln_1",      "gpt2_qkv",
                                       "gpt2_heads",  "gpt2_scores", "gpt2_softmax",   "gpt2_weighted_sum",
                                       "gpt2_concat", "gpt2_c_proj", "gpt2_next_token"};
    for (int layer = 0; layer < 3; layer++) {
        Trace *trace = fixture_trace("d32_h4_l3_bf16", layer);
        ck_assert_int_eq(trace->n_steps, 11 + (layer > 0));
        for (int i = 0, k = 0; i < trace->n_steps; i++) {
            ck_assert_int_eq(trace->steps[i].part, PART_MODEL);
            if (layer > 0 && i == 2) {
                ck_assert_str_eq(trace->steps[i].id, "gpt2_blocks");
                continue;
            }
            ck_assert_str_eq(trace->steps[i].id, at_0[k++]);
        }
        ck_assert_ptr_nonnull(strstr(trace->steps[layer > 0 ? 4 : 3].formula, "c_attn.weight [32, 96]"));
        trace_free(trace);
    }
    /* the article's trace has none of the model's rows, and lessons walk only its rows */
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    Trace *article = trace_build(&cfg, &err);
    ck_assert_ptr_nonnull(article);
    ck_assert_int_eq(article->n_steps, (int)trace_article_step_count());
    for (int i = 0; i < article->n_steps; i++)
        ck_assert_int_ne(article->steps[i].part, PART_MODEL);
    trace_free(article);
    config_free(&cfg);
}
END_TEST

/* Every value whose derivation the inspector spells out (einsum, softmax,
 * concat, add) is recomputed bit for bit from the step's inputs. */
START_TEST(test_inspector_recomputes_model_values)
{
    size_t checked = 0, addmm = 0;
    for (int layer = 0; layer < 2; layer++) {
        Trace *trace = fixture_trace("d48_h3_l2_f16", layer);
        for (int s = 0; s < trace->n_steps; s++)
            for (int j = 0; j < trace->steps[s].n_tensors; j++) {
                const TraceTensor *tt = &trace->steps[s].tensors[j];
                if (!tt->is_output || tt->how.op == OP_STAGE || tt->how.op == OP_TOKENIZE)
                    continue;
                for (size_t o = 0; o < tt->tensor->size; o++) {
                    float want = tt->tensor->data[o], got = explain_recompute(trace, s, j, o);
                    ck_assert_msg(memcmp(&want, &got, sizeof want) == 0, "%s[%zu] of step %s: %.9g, recomputed %.9g",
                                  tt->name, o, trace->steps[s].id, (double)want, (double)got);
                    checked++;
                    addmm += tt->how.op == OP_ADDMM;
                }
            }
        trace_free(trace);
    }
    ck_assert_uint_gt(checked, 1000);
    ck_assert_uint_eq(addmm, 2 * (9 * 3 * 48 + 9 * 48)); /* qkv and attn_output of 9 tokens, at two layers */
}
END_TEST

/* The inspector on a value of qkv and of attn_output: the bias first, then
 * every product of the row and the column in k order, and the sources
 * lit are that row, that column and that bias entry. */
START_TEST(test_inspector_spells_out_addmm)
{
    Trace *trace = fixture_trace("d32_h4_l3_f32_prefix", 1);
    static const struct {
        const char *step, *out, *bias, *weight;
    } CASES[] = {{"gpt2_qkv", "qkv", "c_attn.bias", "c_attn.weight"},
                 {"gpt2_c_proj", "attn_output", "c_proj.bias", "c_proj.weight"}};
    for (size_t c = 0; c < 2; c++) {
        int s = trace_find_step(trace, CASES[c].step, NULL), out = -1, bias = -1, weight = -1;
        ck_assert_int_ge(s, 0);
        for (int j = 0; j < trace->steps[s].n_tensors; j++) {
            const char *name = trace->steps[s].tensors[j].name;
            out = strcmp(name, CASES[c].out) == 0 ? j : out;
            bias = strcmp(name, CASES[c].bias) == 0 ? j : bias;
            weight = strcmp(name, CASES[c].weight) == 0 ? j : weight;
        }
        ck_assert(out >= 0 && bias >= 0 && weight >= 0);
        const Tensor *o = trace->steps[s].tensors[out].tensor, *w = trace->steps[s].tensors[weight].tensor;
        size_t cols = o->shape[1], offset = 2 * cols + 5; /* row 2, column 5 */
        StrBuf text = {0};
        explain_cell(trace, s, out, offset, 4, NULL, 72, &text);
        char want[96];
        snprintf(want, sizeof want, "%s[5] + ", CASES[c].bias);
        ck_assert_msg(strstr(strbuf_text(&text), want) != NULL, "%s", strbuf_text(&text));
        ck_assert_msg(strstr(strbuf_text(&text), "start from the bias") != NULL, "%s", strbuf_text(&text));
        ck_assert_msg(strstr(strbuf_text(&text), "d=0:") != NULL && strstr(strbuf_text(&text), "d=31:") != NULL, "%s",
                      strbuf_text(&text));
        strbuf_free(&text);
        for (size_t k = 0; k < trace->steps[s].tensors[bias].tensor->size; k++)
            ck_assert(explain_is_source(trace, s, out, offset, bias, k) == (k == 5));
        for (size_t k = 0; k < w->size; k++)
            ck_assert(explain_is_source(trace, s, out, offset, weight, k) == (k % cols == 5));
    }
    trace_free(trace);
}
END_TEST

/* The requests the command line refuses, each with its status and words. */
START_TEST(test_bad_requests)
{
    static const struct {
        const char *args[10];
        int status;
        const char *words;
    } cases[] = {
        {{"--model", FIXTURE_DIR "/d16_h2_l2_f32", "--token-ids", "1 2", "--layer", "2"}, STATUS_DATAERR, "n_layer 2"},
        {{"--model", FIXTURE_DIR "/no-such-checkpoint", "--token-ids", "1"}, STATUS_NOINPUT, "config.json"},
        {{"--model", FIXTURE_DIR "/d16_h2_l2_f32", "--token-ids", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"},
         STATUS_DATAERR,
         "17 tokens are more than its n_positions (16)"},
        {{"--model", FIXTURE_DIR "/d16_h2_l2_f32", "--sentence", "hello"}, STATUS_NOINPUT, "vocab.json"},
        {{"--layer", "1"}, STATUS_USAGE, "--layer goes with --model"},
        {{"--model", FIXTURE_DIR "/d16_h2_l2_f32", "--token-ids", "1", "--heads", "4"},
         STATUS_USAGE,
         "--heads cannot be used with --model"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char prog[] = "attn-trace";
        char *argv[12] = {prog};
        int argc = 1;
        while (argc - 1 < 10 && cases[c].args[argc - 1] != NULL) {
            argv[argc] = (char *)cases[c].args[argc - 1];
            argc++;
        }
        Error err;
        error_clear(&err);
        Trace *trace = trace_from_argv(argc, argv, &err);
        ck_assert_msg(trace == NULL, "case %zu was accepted", c);
        ck_assert_msg(err.status == cases[c].status, "case %zu: status %d, expected %d (%s)", c, err.status,
                      cases[c].status, err.message);
        ck_assert_msg(strstr(err.message, cases[c].words) != NULL, "case %zu: '%s' lacks '%s'", c, err.message,
                      cases[c].words);
        ck_assert_ptr_null(strchr(err.message, '\n'));
    }
}
END_TEST

/* Writes a one-block GPT-2 checkpoint of width 16 (2 heads) with GPT-2's
 * vocabulary size, 32 positions and small made-up weights into dir, with
 * GPT-2's own tokenizer files beside it (links to tests/fixtures). */
static void write_tokenizer_checkpoint(const char *dir)
{
    static const struct {
        const char *name;
        size_t rows, cols;
    } tensors[] = {
        {"wte.weight", 50257, 16},
        {"wpe.weight", 32, 16},
        {"h.0.ln_1.weight", 16, 0},
        {"h.0.ln_1.bias", 16, 0},
        {"h.0.attn.c_attn.weight", 16, 48},
        {"h.0.attn.c_attn.bias", 48, 0},
        {"h.0.attn.c_proj.weight", 16, 16},
        {"h.0.attn.c_proj.bias", 16, 0},
        {"h.0.ln_2.weight", 16, 0},
        {"h.0.ln_2.bias", 16, 0},
        {"h.0.mlp.c_fc.weight", 16, 64},
        {"h.0.mlp.c_fc.bias", 64, 0},
        {"h.0.mlp.c_proj.weight", 64, 16},
        {"h.0.mlp.c_proj.bias", 16, 0},
        {"ln_f.weight", 16, 0},
        {"ln_f.bias", 16, 0},
    };
    StrBuf header = {0};
    size_t offset = 0;
    strbuf_puts(&header, "{");
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++) {
        size_t n = tensors[i].rows * (tensors[i].cols ? tensors[i].cols : 1);
        if (tensors[i].cols)
            strbuf_printf(&header, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu,%zu],\"data_offsets\":[%zu,%zu]}",
                          i ? "," : "", tensors[i].name, tensors[i].rows, tensors[i].cols, offset, offset + 4 * n);
        else
            strbuf_printf(&header, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
                          i ? "," : "", tensors[i].name, tensors[i].rows, offset, offset + 4 * n);
        offset += 4 * n;
    }
    strbuf_puts(&header, "}");
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint64_t len = header.len;
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(len >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(strbuf_text(&header), 1, header.len, f);
    for (size_t i = 0; i < offset / 4; i++) {
        float v = (float)((int)((i * 2654435761u) % 2001) - 1000) / 4000.0f; /* in [-0.25, 0.25] */
        fwrite(&v, sizeof v, 1, f);
    }
    ck_assert_int_eq(fclose(f), 0);
    strbuf_free(&header);
    snprintf(path, sizeof path, "%s/config.json", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(
        "{\"model_type\": \"gpt2\", \"n_embd\": 16, \"n_head\": 2, \"n_layer\": 1, \"n_positions\": 32, "
        "\"vocab_size\": 50257}\n",
        f);
    ck_assert_int_eq(fclose(f), 0);
    char cwd[400], target[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    static const char *const files[] = {"vocab.json", "merges.txt"};
    for (int i = 0; i < 2; i++) {
        snprintf(target, sizeof target, "%s/tests/fixtures/gpt2-tokenizer/%s", cwd, files[i]);
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        ck_assert_int_eq(symlink(target, path), 0);
    }
}

/* GPT-2's byte map undone, written out here apart from bpe.c: the
 * characters '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand for the byte
 * of the same value; the other 68 bytes, in increasing order, for U+0100
 * on. Returns the byte code point cp stands for, or -1. */
static int gpt2_char_byte(uint32_t cp)
{
    int others = 0;
    for (int byte = 0; byte < 256; byte++) {
        bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
        if (printable && cp == (uint32_t)byte)
            return byte;
        if (!printable && cp == 0x100u + (uint32_t)others++)
            return byte;
    }
    return -1;
}

/* Each next token of a trace through GPT-2's tokenizer carries the bytes
 * its vocab.json text stands for, and on screen the same text with
 * nothing unsafe in it; the explanation lists all five. */
static void check_next_token_bytes(const Trace *trace)
{
    ck_assert_int_eq(trace->n_next_tokens, 5);
    Error err;
    error_clear(&err);
    Bpe *bpe = bpe_load("tests/fixtures/gpt2-tokenizer/vocab.json", "tests/fixtures/gpt2-tokenizer/merges.txt", &err);
    ck_assert_msg(bpe != NULL, "%s", err.message);
    const char *explanation = trace->steps[trace->n_steps - 1].explanation;
    for (int k = 0; k < 5; k++) {
        const TraceNextToken *nt = &trace->next_tokens[k];
        ck_assert(nt->has_text);
        const char *text = bpe_token_text(bpe, (int32_t)nt->id, NULL); /* as vocab.json writes it */
        unsigned char want[64];
        size_t n = 0;
        for (const char *p = text; *p != '\0';) {
            uint32_t cp;
            int len = utf8_decode(p, &cp);
            ck_assert_int_gt(len, 0);
            int byte = gpt2_char_byte(cp);
            ck_assert_msg(byte >= 0, "id %ld: U+%04X is no byte", nt->id, cp);
            want[n++] = (unsigned char)byte;
            p += len;
        }
        ck_assert_uint_eq(nt->n_bytes, n);
        ck_assert_msg(memcmp(nt->bytes, want, n) == 0, "id %ld: bytes differ from \"%s\"", nt->id, text);
        for (const char *p = nt->text; *p != '\0'; p++)
            ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f, "id %ld: a control in \"%s\"", nt->id, nt->text);
        char entry[128];
        snprintf(entry, sizeof entry, "\"%s\" %.4f (id %ld)", nt->text, (double)nt->probability, nt->id);
        ck_assert_msg(strstr(explanation, entry) != NULL, "the explanation lacks %s: %s", entry, explanation);
    }
    bpe_free(bpe);
}

/* The gpt2_bpe step of a trace of text, whose ids GPT-2's encoder gives as
 * want[0..n): its bytes are the text's, each word (here one token each)
 * is replayed down to its id, and the explanation names the words. */
static void check_bpe_step(const Trace *trace, const char *text, const long *want, size_t n)
{
    const TraceStep *st = &trace->steps[0];
    ck_assert_str_eq(st->id, "gpt2_bpe");
    ck_assert_int_eq(st->n_tensors, 2);
    const Tensor *bytes = st->tensors[0].tensor, *pieces = st->tensors[1].tensor;
    ck_assert_uint_eq(bytes->size, strlen(text));
    for (size_t i = 0; i < bytes->size; i++)
        ck_assert_int_eq((int)bytes->data[i], (unsigned char)text[i]);
    ck_assert_uint_eq(pieces->size, n);
    ck_assert_uint_eq(trace->n_bpe_words, n);
    for (size_t w = 0; w < n; w++) {
        ck_assert_int_eq((int)pieces->data[w], 1);
        char ending[48];
        snprintf(ending, sizeof ending, "ids: %ld", want[w]);
        const char *replay = trace->bpe_words[w];
        size_t len = strlen(replay), tail = strlen(ending);
        ck_assert_msg(len >= tail && strcmp(replay + len - tail, ending) == 0, "word %zu: %s", w, replay);
        StrBuf cell = {0};
        explain_cell(trace, 0, 1, w, 4, NULL, 72, &cell);
        ck_assert_msg(strstr(strbuf_text(&cell), ending) != NULL, "%s", strbuf_text(&cell));
        strbuf_free(&cell);
    }
    ck_assert_ptr_nonnull(strstr(trace->bpe_words[1], "merge 7: rank 2883, Ġcap + ital → Ġcapital"));
    ck_assert_ptr_nonnull(strstr(st->explanation, "5 words: 0 The (1 token), 1 Ġcapital (1 token)"));
    StrBuf cell = {0};
    explain_cell(trace, 0, 0, 3, 4, NULL, 72, &cell); /* byte 3 is the space before "capital" */
    ck_assert_msg(strstr(strbuf_text(&cell), "U+0100 + 32 = Ġ (U+0120)") != NULL, "%s", strbuf_text(&cell));
    strbuf_free(&cell);
    explain_cell(trace, 0, 0, 0, 4, NULL, 72, &cell); /* 'T' */
    ck_assert_msg(strstr(strbuf_text(&cell), "stands for itself, T (U+0054)") != NULL, "%s", strbuf_text(&cell));
    strbuf_free(&cell);
}

/* The tracer on the BPE step, keys (vim notation) replayed at cols x rows,
 * against tests/screens/NAME.txt (ATTN_UPDATE_SCREENS=1 rewrites it). */
static void check_bpe_screen(const Trace *trace, const char *keys, int cols, int rows, const char *name)
{
    static App app;
    ViewOptions view = {4, false, false, "The capital of France is", NULL};
    app_init(&app, trace, NULL, &view);
    KeyCode codes[32];
    size_t n = 0;
    Error err;
    error_clear(&err);
    ck_assert(keys_parse(keys, codes, 32, &n, &err));
    for (size_t i = 0; i < n; i++)
        app_handle_key(&app, codes[i], rows, cols);
    Frame frame;
    ck_assert(frame_init(&frame, rows, cols));
    app_compose(&app, &frame);
    StrBuf text = {0};
    frame_to_text(&frame, &text);
    frame_free(&frame);
    char path[256];
    snprintf(path, sizeof path, "tests/screens/%s.txt", name);
    if (getenv("ATTN_UPDATE_SCREENS") != NULL) {
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "cannot write %s", path);
        fputs(strbuf_text(&text), f);
        fclose(f);
    } else {
        size_t len;
        char *want = json_read_bytes(path, &len, &err);
        ck_assert_msg(want != NULL, "%s (make screens writes it)", err.message);
        ck_assert_msg(strcmp(want, strbuf_text(&text)) == 0, "%s differs from the composed screen:\n%s", path,
                      strbuf_text(&text));
        free(want);
    }
    strbuf_free(&text);
}

/* trace_token_display: what is safe stays, the rest is escaped. */
START_TEST(test_token_display)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *want;
    } CASES[] = {
        {" the", 4, " the"},
        {"caf\xc3\xa9", 5, "café"},
        {"\n\n", 2, "\\n\\n"},
        {"a\tb\rc\\d", 7, "a\\tb\\rc\\\\d"},
        {"\xe2\x80", 2, "\\xE2\\x80"},          /* the first two bytes of a three-byte character */
        {"\x00x\x1b[2J", 6, "\\x00x\\x1B[2J"},  /* a NUL and an escape sequence */
        {"\xc2\x85", 2, "\\xC2\\x85"},          /* U+0085, a C1 control */
        {"\xed\xa0\x80", 3, "\\xED\\xA0\\x80"}, /* an encoded surrogate */
        {"", 0, ""},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char out[64];
        trace_token_display((const unsigned char *)CASES[c].bytes, CASES[c].len, out, sizeof out);
        ck_assert_msg(strcmp(out, CASES[c].want) == 0, "case %zu: \"%s\", expected \"%s\"", c, out, CASES[c].want);
    }
    char small[12];
    trace_token_display((const unsigned char *)"abcdefghijklmnop", 16, small, sizeof small);
    ck_assert_str_eq(small, "abcdefgh...");
    trace_token_display((const unsigned char *)"\x01\x02\x03", 3, small, sizeof small);
    ck_assert_str_eq(small, "\\x01\\x02...");
    trace_token_display((const unsigned char *)"abcdefghijk", 11, small, sizeof small); /* just fits */
    ck_assert_str_eq(small, "abcdefghijk");
}
END_TEST

/* A --sentence with --model is tokenized by the checkpoint's vocab.json
 * and merges.txt: GPT-2's ids for the sentence, the tokens
 * labelled as vocab.json writes them, the next token named by its text. */
START_TEST(test_sentence_by_the_checkpoint_tokenizer)
{
    char dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/attn-model-trace.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_tokenizer_checkpoint(dir);
    char prog[] = "attn-trace", model[] = "--model", sentence[] = "--sentence", text[] = "The capital of France is";
    char *argv[] = {prog, model, dir, sentence, text, NULL};
    Options opts;
    Error err;
    error_clear(&err);
    ck_assert_msg(cli_parse(5, argv, &opts, &err), "%s", err.message);
    static const long want[] = {464, 3139, 286, 4881, 318}; /* GPT-2's encoder on this sentence */
    static const char *const labels[] = {"The", "Ġcapital", "Ġof", "ĠFrance", "Ġis"};
    ck_assert_uint_eq(opts.config.n_tokens, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(opts.config.token_ids[i], want[i]);
        ck_assert_str_eq(opts.config.tokens[i], labels[i]);
    }
    ck_assert_str_eq(opts.config.sentence, text);
    Trace *trace = trace_build(&opts.config, &err);
    ck_assert_msg(trace != NULL, "%s", err.message);
    const TraceStep *last = &trace->steps[trace->n_steps - 1];
    ck_assert_str_eq(last->id, "gpt2_next_token");
    ck_assert_msg(strstr(last->title, "after \"Ġis\": \"") != NULL, "title: %s", last->title);
    check_next_token_bytes(trace);
    /* the formula names the directory by its last name alone, to fit its line */
    char by[300];
    snprintf(by, sizeof by, "by %s/vocab.json and merges.txt ", strrchr(dir, '/') + 1);
    ck_assert_msg(strstr(trace->steps[1].formula, by) != NULL, "formula: %s", trace->steps[1].formula);
    check_bpe_step(trace, text, want, 5);
    check_bpe_screen(trace, "l<Enter>", 80, 24, "bpe-word-80x24");
    check_bpe_screen(trace, "<S-Tab>lll<Enter>", 50, 12, "bpe-space-50x12");
    trace_free(trace);
    cli_options_free(&opts);
    /* too many tokens for 32 positions */
    char many[400] = "";
    for (int i = 0; i < 33; i++)
        strcat(many, " word");
    char *argv2[] = {prog, model, dir, sentence, many, NULL};
    ck_assert(!cli_parse(5, argv2, &opts, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert_ptr_nonnull(strstr(err.message, "33 tokens are more than its n_positions (32)"));
    static const char *const names[] = {"vocab.json", "merges.txt", "model.safetensors", "config.json"};
    for (int i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

Suite *model_trace_suite(void)
{
    Suite *s = suite_create("model_trace");
    TCase *tc = tcase_create("model_trace");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_json_equals_pytorch);
    tcase_add_test(tc, test_no_positions_equals_pytorch);
    tcase_add_test(tc, test_model_trace_steps);
    tcase_add_test(tc, test_inspector_recomputes_model_values);
    tcase_add_test(tc, test_bad_requests);
    tcase_add_test(tc, test_sentence_by_the_checkpoint_tokenizer);
    tcase_add_test(tc, test_token_display);
    tcase_add_test(tc, test_inspector_spells_out_addmm);
    suite_add_tcase(s, tc);
    return s;
}
