/*
 * check_model.c - the safetensors reader (safetensors.c), the block
 * kernels (nn.c) and the GPT-2 loader and forward pass (gpt2.c).
 *
 * The numbers are checked against PyTorch: tests/make_gpt2_fixtures.py
 * wrote seven small GPT-2-layout checkpoints and every tensor of every
 * layer's stages as PyTorch computes it (tests/fixtures/gpt2/NAME/ref/).
 * Every value must be within 1e-5 absolute plus 1e-5 relative, the top-5
 * next tokens must be PyTorch's; the largest errors are printed. The F16
 * and BF16 conversions are checked on every one of the 65,536 bit
 * patterns against a formula written here. Every kind of bad input is fed
 * in with the one-line message it must give.
 *
 * The benchmark case ("bench") exists only when ATTN_GPT2_BENCH_DIR names a
 * checkpoint: tests/make_gpt2_fixtures.py --bench makes one of GPT-2
 * small's shape and runs it.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpt2.h"
#include "nn.h"
#include "npy.h"
#include "safetensors.h"
#include "fixture.h"
#include "suites.h"

#define FIXTURE_DIR "tests/fixtures/gpt2"
#define TOL 1e-5

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* A fresh scratch directory (fixture_temp_dir). */
static void make_temp_dir(char *path, size_t size)
{
    ck_assert_msg(fixture_temp_dir(path, size, "gpt2"), "mkdtemp(%s) failed", path);
}

static void write_bytes(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert(len == 0 || fwrite(bytes, 1, len, f) == len);
    ck_assert(fclose(f) == 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* The fixture directories, sorted. */
static size_t list_fixtures(char names[][64], size_t max)
{
    DIR *d = opendir(FIXTURE_DIR);
    ck_assert_msg(d != NULL, "cannot open %s", FIXTURE_DIR);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] == '.')
            continue;
        if (strlen(e->d_name) >= 64)
            continue;
        memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
    qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Reads FIXTURE_DIR/fixture/ref/name.npy. */
static void read_ref(const char *fixture, const char *name, NpyArray *arr)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/ref/%s.npy", FIXTURE_DIR, fixture, name);
    Error err;
    error_clear(&err);
    ck_assert_msg(npy_read(path, arr, &err), "%s", err.message);
}

/* The largest errors over every comparison. */
static double worst_abs, worst_rel;
static size_t values_compared, values_identical, tensors_compared, tensors_identical;

/* Checks got against the reference file name of fixture: same shape, every
 * value within TOL abs + TOL rel (infinities equal). */
static void compare(const char *fixture, const char *name, const Tensor *got)
{
    NpyArray ref;
    read_ref(fixture, name, &ref);
    ck_assert_msg(got != NULL, "%s: %s was not computed", fixture, name);
    ck_assert_msg(ref.ndim == got->ndim, "%s: %s has rank %d, PyTorch %d", fixture, name, got->ndim, ref.ndim);
    for (int i = 0; i < ref.ndim; i++)
        ck_assert_msg(ref.shape[i] == got->shape[i], "%s: %s dim %d is %zu, PyTorch %zu", fixture, name, i,
                      got->shape[i], ref.shape[i]);
    const float *want = ref.data;
    bool identical = true;
    for (size_t i = 0; i < ref.count; i++) {
        float a = got->data[i], b = want[i];
        values_compared++;
        if (memcmp(&a, &b, sizeof a) == 0) {
            values_identical++;
            continue;
        }
        identical = false;
        ck_assert_msg(isfinite(a) && isfinite(b), "%s: %s[%zu] = %g, PyTorch %g", fixture, name, i, (double)a,
                      (double)b);
        double abs_err = fabs((double)a - (double)b);
        double rel_err = b != 0.0f ? abs_err / fabs((double)b) : 0.0;
        if (abs_err > worst_abs)
            worst_abs = abs_err;
        if (rel_err > worst_rel && fabs((double)b) > 1e-30)
            worst_rel = rel_err;
        ck_assert_msg(abs_err <= TOL + TOL * fabs((double)b), "%s: %s[%zu] = %.9g, PyTorch %.9g (error %.3g)", fixture,
                      name, i, (double)a, (double)b, abs_err);
    }
    tensors_compared++;
    if (identical)
        tensors_identical++;
    npy_free(&ref);
}

static const char *STAGE_TENSORS[] = {
    "block_input",       "ln_1",         "qkv",          "queries",     "keys",          "values", "scores",
    "attention_weights", "head_outputs", "concat_heads", "attn_output", "attn_residual",
};

/* ------------------------------------------------------------------------
 * Against PyTorch
 * ---------------------------------------------------------------------- */

START_TEST(test_fixtures_equal_pytorch)
{
    char names[32][64];
    size_t n = list_fixtures(names, 32);
    ck_assert_msg(n >= 7, "only %zu fixtures in %s", n, FIXTURE_DIR);
    worst_abs = worst_rel = 0.0;
    values_compared = values_identical = tensors_compared = tensors_identical = 0;
    size_t traces = 0;
    for (size_t f = 0; f < n; f++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/%s", FIXTURE_DIR, names[f]);
        Error err;
        error_clear(&err);
        Gpt2Model *model = gpt2_open(dir, &err);
        ck_assert_msg(model != NULL, "%s", err.message);
        NpyArray ids_arr;
        read_ref(names[f], "token_ids", &ids_arr);
        long ids[64];
        ck_assert(ids_arr.count <= 64);
        for (size_t i = 0; i < ids_arr.count; i++)
            ids[i] = (long)((const int64_t *)ids_arr.data)[i];
        for (size_t layer = 0; layer < model->config.n_layer; layer++) {
            Gpt2Trace trace;
            ck_assert_msg(gpt2_trace_run(model, ids, ids_arr.count, layer, 0, &trace, &err), "%s: %s", names[f],
                          err.message);
            traces++;
            if (layer == 0) {
                compare(names[f], "token_embed", trace.token_embed);
                compare(names[f], "position_embed", trace.position_embed);
                compare(names[f], "ln_f", trace.ln_f);
                NpyArray top_ids, top_probs;
                read_ref(names[f], "top5_ids", &top_ids);
                read_ref(names[f], "top5_probs", &top_probs);
                for (int k = 0; k < GPT2_TOP_K; k++) {
                    long want = (long)((const int64_t *)top_ids.data)[k];
                    float want_p = ((const float *)top_probs.data)[k];
                    ck_assert_msg(trace.top_ids[k] == want, "%s: next token %d is %ld, PyTorch %ld", names[f], k + 1,
                                  trace.top_ids[k], want);
                    double e = fabs((double)trace.top_probs[k] - (double)want_p);
                    ck_assert_msg(e <= TOL + TOL * want_p, "%s: p(next %d) = %.9g, PyTorch %.9g", names[f], k + 1,
                                  (double)trace.top_probs[k], (double)want_p);
                    if (e > worst_abs)
                        worst_abs = e;
                }
                npy_free(&top_ids);
                npy_free(&top_probs);
            }
            for (size_t i = 0; i < sizeof STAGE_TENSORS / sizeof STAGE_TENSORS[0]; i++) {
                char ref_name[64];
                snprintf(ref_name, sizeof ref_name, "L%zu.%s", layer, STAGE_TENSORS[i]);
                compare(names[f], ref_name, gpt2_trace_tensor(&trace, STAGE_TENSORS[i]));
            }
            gpt2_trace_free(&trace);
        }
        npy_free(&ids_arr);
        gpt2_close(model);
    }
    fprintf(stderr,
            "model: %zu checkpoints, %zu traces, %zu tensors (%zu bit-identical), %zu values (%zu bit-identical); "
            "largest error %.3g abs, %.3g rel\n",
            n, traces, tensors_compared, tensors_identical, values_compared, values_identical, worst_abs, worst_rel);
}
END_TEST

/* The layer-0 stages read only the checkpoint's values, through kernels
 * that follow PyTorch's order exactly: they must be bit-identical. */
START_TEST(test_layer0_is_bit_identical)
{
    char names[32][64];
    size_t n = list_fixtures(names, 32);
    for (size_t f = 0; f < n; f++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/%s", FIXTURE_DIR, names[f]);
        Error err;
        error_clear(&err);
        Gpt2Model *model = gpt2_open(dir, &err);
        ck_assert_msg(model != NULL, "%s", err.message);
        NpyArray ids_arr;
        read_ref(names[f], "token_ids", &ids_arr);
        long ids[64];
        for (size_t i = 0; i < ids_arr.count; i++)
            ids[i] = (long)((const int64_t *)ids_arr.data)[i];
        Gpt2Trace trace;
        ck_assert_msg(gpt2_trace_run(model, ids, ids_arr.count, 0, 0, &trace, &err), "%s", err.message);
        for (size_t i = 0; i < sizeof STAGE_TENSORS / sizeof STAGE_TENSORS[0]; i++) {
            char ref_name[64];
            snprintf(ref_name, sizeof ref_name, "L0.%s", STAGE_TENSORS[i]);
            NpyArray ref;
            read_ref(names[f], ref_name, &ref);
            const Tensor *got = gpt2_trace_tensor(&trace, STAGE_TENSORS[i]);
            for (size_t k = 0; k < ref.count; k++) {
                float a = got->data[k], b = ((const float *)ref.data)[k];
                ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s: %s[%zu] = %a, PyTorch %a", names[f], ref_name, k,
                              (double)a, (double)b);
            }
            npy_free(&ref);
        }
        gpt2_trace_free(&trace);
        npy_free(&ids_arr);
        gpt2_close(model);
    }
}
END_TEST

/* Stage by stage: each stage's tensors appear only once it ran, and a
 * stage out of order is refused. */
START_TEST(test_stage_by_stage)
{
    Error err;
    error_clear(&err);
    Gpt2Model *model = gpt2_open(FIXTURE_DIR "/d16_h2_l2_f32", &err);
    ck_assert_msg(model != NULL, "%s", err.message);
    long ids[3] = {1, 2, 3};
    Gpt2Trace trace;
    ck_assert(gpt2_trace_begin(model, ids, 3, 1, 0, &trace, &err));
    ck_assert(gpt2_trace_tensor(&trace, "block_input") == NULL);
    ck_assert(!gpt2_trace_stage(model, &trace, GPT2_STAGE_QKV, &err));
    ck_assert_int_eq(err.status, STATUS_FAILURE);
    for (int s = 0; s < GPT2_STAGE_COUNT; s++) {
        ck_assert_msg(gpt2_trace_stage(model, &trace, (Gpt2Stage)s, &err), "%s: %s", gpt2_stage_name((Gpt2Stage)s),
                      err.message);
        if (s == GPT2_STAGE_BLOCKS)
            ck_assert(gpt2_trace_tensor(&trace, "block_input") != NULL && gpt2_trace_tensor(&trace, "ln_1") == NULL);
    }
    ck_assert(gpt2_trace_tensor(&trace, "next_token_probs") != NULL);
    /* every cell of q, k and v is its qkv column, recomputed from c_attn by hand */
    {
        size_t d = model->config.n_embd, h = model->config.n_head, d_k = d / h;
        const Tensor *parts[3] = {trace.queries, trace.keys, trace.values};
        ck_assert_int_eq((int)gpt2_qkv_column(&model->config, GPT2_PART_VALUE, 1, 3), (int)(2 * d + d_k + 3));
        for (int p = 0; p < 3; p++)
            for (size_t hh = 0; hh < h; hh++)
                for (size_t i = 0; i < 3; i++)
                    for (size_t j = 0; j < d_k; j++) {
                        size_t c = gpt2_qkv_column(&model->config, (Gpt2QkvPart)p, hh, j);
                        float want = trace.block.w[GPT2_C_ATTN_BIAS][c];
                        for (size_t k = 0; k < d; k++)
                            want = want +
                                   trace.ln_1->data[i * d + k] * trace.block.w[GPT2_C_ATTN_WEIGHT][k * 3 * d + c];
                        ck_assert_float_eq(parts[p]->data[(hh * 3 + i) * d_k + j], want);
                        ck_assert_float_eq(trace.qkv->data[i * 3 * d + c], want);
                    }
    }
    ck_assert(gpt2_trace_tensor(&trace, "no_such") == NULL);
    ck_assert_int_eq((int)trace.block.layer, 1);
    float sum = 0.0f;
    for (size_t v = 0; v < trace.next_token_probs->size; v++)
        sum += trace.next_token_probs->data[v];
    ck_assert_float_eq_tol(sum, 1.0f, 1e-5f);
    ck_assert(trace.top_probs[0] >= trace.top_probs[1] && trace.top_probs[1] >= trace.top_probs[4]);
    gpt2_trace_free(&trace);
    gpt2_trace_free(&trace); /* cleared: a second free is harmless */
    gpt2_close(model);
    gpt2_close(NULL);
}
END_TEST

/* ------------------------------------------------------------------------
 * Kernels against plain formulas
 * ---------------------------------------------------------------------- */

/* F16 bits as a double, from the definition: (-1)^s 2^(e-15) (1 + m/1024),
 * subnormals 2^-14 (m/1024). */
static double half_value(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m / 1024.0, -14) : ldexp(1.0 + m / 1024.0, e - 15);
    return sign ? -v : v;
}

START_TEST(test_f16_and_bf16_widen_exactly)
{
    /* one file with every F16 and every BF16 bit pattern */
    static unsigned char file[8 + 160 + 2 * 131072];
    const char *header =
        "{\"a\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[256,256],\"data_offsets\":[131072,262144]}}";
    size_t hl = strlen(header);
    ck_assert(hl <= 160);
    memset(file, ' ', sizeof file);
    for (int i = 0; i < 8; i++)
        file[i] = (unsigned char)((uint64_t)160 >> (8 * i));
    memcpy(file + 8, header, hl);
    unsigned char *data = file + 8 + 160;
    for (uint32_t v = 0; v < 65536; v++) {
        data[2 * v] = (unsigned char)(v & 255), data[2 * v + 1] = (unsigned char)(v >> 8);
        data[131072 + 2 * v] = (unsigned char)(v & 255), data[131072 + 2 * v + 1] = (unsigned char)(v >> 8);
    }
    Error err;
    error_clear(&err);
    SafeTensors *st = safetensors_parse(file, sizeof file, "all.safetensors", &err);
    ck_assert_msg(st != NULL, "%s", err.message);
    static float out[65536];
    ck_assert(safetensors_read_f32(st, safetensors_find(st, "a"), 0, 65536, out, &err));
    for (uint32_t v = 0; v < 65536; v++) {
        int e = (v >> 10) & 31;
        if (e == 31) {
            uint32_t bits;
            memcpy(&bits, &out[v], 4);
            ck_assert_msg((v & 1023) == 0 ? isinf(out[v]) : isnan(out[v]), "F16 %04x", v);
            ck_assert_msg((bits & 0x007fe000u) >> 13 == (v & 1023) && (bits >> 31) == (v >> 15), "F16 %04x payload", v);
        } else {
            ck_assert_msg((double)out[v] == half_value((uint16_t)v) && (signbit(out[v]) != 0) == (int)(v >> 15),
                          "F16 %04x gave %a, want %a", v, (double)out[v], half_value((uint16_t)v));
        }
    }
    /* BF16: rows 3..5 of a [256, 256] tensor (a row range), the high halves of floats */
    const SafeTensor *b = safetensors_find(st, "b");
    ck_assert_int_eq((int)safetensors_row_count(b), 256);
    ck_assert(safetensors_read_f32(st, b, 3, 3, out, &err));
    for (uint32_t i = 0; i < 768; i++) {
        uint32_t v = 3 * 256 + i, bits;
        memcpy(&bits, &out[i], 4);
        ck_assert_msg(bits == v << 16, "BF16 %04x gave %08x", v, bits);
    }
    ck_assert(!safetensors_read_f32(st, b, 255, 2, out, &err));
    ck_assert_msg(strstr(err.message, "rows 255..257 are outside its 256 rows") != NULL, "%s", err.message);
    safetensors_close(st);
}
END_TEST

START_TEST(test_kernels_against_formulas)
{
    /* addmm: bias + a.w, each sum in k order */
    float a[2 * 3] = {1, 2, 3, -1, 0.5f, 0.25f}, w[3 * 2] = {1, -2, 0.5f, 4, -1, 1}, bias[2] = {0.125f, -3};
    float out[4];
    addmm_forward(out, bias, a, w, 2, 3, 2);
    for (int m = 0; m < 2; m++)
        for (int n = 0; n < 2; n++) {
            float want = bias[n];
            for (int k = 0; k < 3; k++)
                want = want + a[m * 3 + k] * w[k * 2 + n];
            ck_assert_float_eq(out[m * 2 + n], want);
        }
    addmm_forward(out, NULL, a, w, 2, 3, 2);
    ck_assert_float_eq(out[0], 1.0f * 1 + 2 * 0.5f + 3 * -1.0f);
    /* LayerNorm: mean 0, variance 1 after it, for sizes around the 8-lane and 16-vector edges */
    static const size_t sizes[] = {1, 3, 8, 9, 16, 127, 128, 129, 130, 300, 768, 2049};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t d = sizes[si];
        float *x = malloc(d * sizeof *x), *y = malloc(d * sizeof *y), *g = malloc(d * sizeof *g),
              *bb = calloc(d, sizeof *bb);
        double mean = 0, var = 0;
        for (size_t i = 0; i < d; i++) {
            x[i] = (float)sin(0.37 * (double)i + 1.0) * 3.0f + 0.5f;
            g[i] = 1.0f;
            mean += x[i];
        }
        mean /= (double)d;
        for (size_t i = 0; i < d; i++)
            var += (x[i] - mean) * (x[i] - mean);
        var /= (double)d;
        float m_got, v_got;
        layernorm_moments(x, d, &m_got, &v_got);
        ck_assert_msg(fabs(m_got - mean) <= 1e-5 * (1 + fabs(mean)), "d %zu: mean %g, want %g", d, (double)m_got, mean);
        ck_assert_msg(fabs(v_got - var) <= 1e-5 * (1 + var), "d %zu: variance %g, want %g", d, (double)v_got, var);
        if (d > 1) {
            layernorm_forward(y, x, g, bb, 1, d, 1e-5f, NULL, NULL);
            double ym = 0;
            for (size_t i = 0; i < d; i++)
                ym += y[i];
            ck_assert_msg(fabs(ym / (double)d) < 1e-5, "d %zu: mean after LayerNorm %g", d, ym / (double)d);
            for (size_t i = 0; i < d; i++) {
                double want = (x[i] - mean) / sqrt(var + 1e-5);
                ck_assert_msg(fabs(y[i] - want) <= 1e-4 * (1 + fabs(want)), "d %zu: y[%zu] %g, want %g", d, i,
                              (double)y[i], want);
            }
        }
        free(x), free(y), free(g), free(bb);
    }
    /* GELU tanh against the formula in double */
    for (int i = -400; i <= 400; i++) {
        float x = (float)i / 40.0f, y;
        gelu_tanh_forward(&y, &x, 1);
        double want = 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * (double)x * x * x)));
        ck_assert_msg(fabs(y - want) <= 1e-6 * (1 + fabs(want)), "gelu(%g) = %.9g, want %.9g", (double)x, (double)y,
                      want);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad safetensors files
 * ---------------------------------------------------------------------- */

/* A file: the 8-byte length (length_override when not 0, else the
 * header's), the header, then data_bytes bytes. Written to path. */
static void write_st(const char *path, const char *header, uint64_t length_override, size_t data_bytes)
{
    size_t hl = strlen(header);
    size_t total = 8 + hl + data_bytes;
    unsigned char *buf = calloc(total, 1);
    uint64_t n = length_override != 0 ? length_override : hl;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, header, hl);
    write_bytes(path, buf, total);
    free(buf);
}

START_TEST(test_bad_safetensors)
{
    static const struct {
        const char *header;
        uint64_t length; /* 0: the header's own */
        size_t data;
        const char *message;
    } cases[] = {
        {"{}", 1, 0, "header length 1 is too short"},
        {"{}", (uint64_t)1 << 40, 0, "more than LIMIT_SAFETENSORS_HEADER_BYTES"},
        {"{}", 100, 0, "truncated: the header of 100 bytes runs past the end of the file"},
        {"[1, 2]", 0, 0, "the header does not start with '{'"},
        {"{not json}", 0, 0, ":1:2: "},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
         0, 12, "overlap tensor a"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 0, 8,
         "run past the data section (8 bytes; the file is cut short?)"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 0, 8,
         "8 bytes, but the shape and dtype F32 need 12"},
        {"{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, 8, "unknown dtype 'F33'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 0, 8, "leave bytes 0..4"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 8, "end at byte 4"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 0, 8, "begin 8 is after end 4"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 0, 4, "is negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 0, 4,
         "9 dimensions, more than LIMIT_SAFETENSORS_MAX_RANK"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 0, 4,
         "the element count overflows"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4, "tensor a: dtype: missing"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 0, 4, "1 numbers, expected [BEGIN, END]"},
        {"{\"a\":[1]}", 0, 0, "tensor a: expected an object"},
        {"{\"__metadata__\":[]}", 0, 0, "__metadata__: expected an object"},
        {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4, "holds a NUL"},
    };
    char dir[256], path[512];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_st(path, cases[i].header, cases[i].length, cases[i].data);
        Error err;
        error_clear(&err);
        SafeTensors *st = safetensors_open(path, &err);
        ck_assert_msg(st == NULL, "case %zu (%s) opened", i, cases[i].header);
        ck_assert_msg(err.status == STATUS_DATAERR, "case %zu: status %d", i, err.status);
        ck_assert_msg(strncmp(err.message, path, strlen(path)) == 0, "case %zu: '%s' does not start with the file", i,
                      err.message);
        ck_assert_msg(strstr(err.message, cases[i].message) != NULL, "case %zu: '%s' lacks '%s'", i, err.message,
                      cases[i].message);
        ck_assert_msg(strchr(err.message, '\n') == NULL, "case %zu: more than one line", i);
    }
    /* a real checkpoint cut in half: its last tensors run past the end */
    {
        FILE *f = fopen(FIXTURE_DIR "/d16_h2_l2_bf16/model.safetensors", "rb");
        ck_assert(f != NULL);
        static unsigned char whole[1 << 16];
        size_t len = fread(whole, 1, sizeof whole, f);
        fclose(f);
        ck_assert(len > 1000 && len < sizeof whole);
        write_bytes(path, whole, len / 2);
        Error cut;
        error_clear(&cut);
        ck_assert(safetensors_open(path, &cut) == NULL && cut.status == STATUS_DATAERR);
        ck_assert_msg(strstr(cut.message, "run past the data section") != NULL &&
                          strstr(cut.message, "the file is cut short?") != NULL,
                      "%s", cut.message);
    }
    /* a truncated file, a directory, a missing file */
    write_bytes(path, "\x02\0\0", 3);
    Error err;
    error_clear(&err);
    ck_assert(safetensors_open(path, &err) == NULL && err.status == STATUS_DATAERR);
    ck_assert_msg(strstr(err.message, "truncated: 3 bytes") != NULL, "%s", err.message);
    ck_assert(safetensors_open(dir, &err) == NULL && err.status == STATUS_NOINPUT);
    ck_assert_msg(strstr(err.message, "not a regular file") != NULL, "%s", err.message);
    unlink(path);
    ck_assert(safetensors_open(path, &err) == NULL && err.status == STATUS_NOINPUT);
    ck_assert_msg(strstr(err.message, "cannot open: No such file") != NULL, "%s", err.message);
    /* a good file with an I64 tensor opens; converting it is refused by name; a scalar and an empty tensor */
    write_st(path,
             "{\"__metadata__\":{\"format\":\"pt\"},\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
             "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
             "\"z\":{\"dtype\":\"BF16\",\"shape\":[0,5],\"data_offsets\":[12,12]}}   ",
             0, 12);
    SafeTensors *st = safetensors_open(path, &err);
    ck_assert_msg(st != NULL, "%s", err.message);
    ck_assert_int_eq((int)st->n_tensors, 3);
    ck_assert(safetensors_find(st, "__metadata__") == NULL && safetensors_find(st, "q") == NULL);
    float v = 1.0f;
    ck_assert(!safetensors_read_f32(st, safetensors_find(st, "i"), 0, 1, &v, &err));
    ck_assert_msg(strstr(err.message, "tensor i: dtype I64 cannot be read as float32") != NULL, "%s", err.message);
    ck_assert(safetensors_read_f32(st, safetensors_find(st, "s"), 0, 1, &v, &err) && v == 0.0f);
    ck_assert_int_eq((int)safetensors_find(st, "z")->count, 0);
    ck_assert_int_eq((int)safetensors_row_count(safetensors_find(st, "z")), 0);
    safetensors_close(st);
    safetensors_close(NULL);
    fixture_remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad checkpoints
 * ---------------------------------------------------------------------- */

/* Writes a copy of src's tensors to path: `drop` left out, `rename_from`
 * called `rename_to`, the data laid out afresh. */
static void rebuild(const SafeTensors *src, const char *path, const char *drop, const char *rename_from,
                    const char *rename_to)
{
    size_t cap = 1 << 16, used = 0;
    char *header = malloc(cap);
    used += (size_t)snprintf(header + used, cap - used, "{");
    uint64_t offset = 0;
    for (size_t i = 0; i < src->n_tensors; i++) {
        const SafeTensor *t = &src->tensors[i];
        if (drop != NULL && strcmp(t->name, drop) == 0)
            continue;
        const char *name = rename_from != NULL && strcmp(t->name, rename_from) == 0 ? rename_to : t->name;
        used += (size_t)snprintf(header + used, cap - used, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                                 used > 1 ? "," : "", name, safetensors_dtype_name(t->dtype));
        for (int r = 0; r < t->rank; r++)
            used += (size_t)snprintf(header + used, cap - used, "%s%llu", r > 0 ? "," : "",
                                     (unsigned long long)t->shape[r]);
        used += (size_t)snprintf(header + used, cap - used, "],\"data_offsets\":[%llu,%llu]}",
                                 (unsigned long long)offset, (unsigned long long)(offset + t->end - t->begin));
        offset += t->end - t->begin;
        ck_assert(used < cap - 256);
    }
    used += (size_t)snprintf(header + used, cap - used, "}");
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)used >> (8 * i));
    ck_assert(fwrite(len, 1, 8, f) == 8 && fwrite(header, 1, used, f) == used);
    for (size_t i = 0; i < src->n_tensors; i++) {
        const SafeTensor *t = &src->tensors[i];
        if (drop != NULL && strcmp(t->name, drop) == 0)
            continue;
        ck_assert(t->end == t->begin || fwrite(t->data, 1, t->end - t->begin, f) == t->end - t->begin);
    }
    ck_assert(fclose(f) == 0);
    free(header);
}

#define GOOD_CONFIG                                                                                                    \
    "{\"model_type\":\"gpt2\",\"n_embd\":16,\"n_head\":2,\"n_layer\":2,\"n_positions\":16,"                            \
    "\"vocab_size\":64,\"layer_norm_epsilon\":1e-05}"

START_TEST(test_bad_checkpoints)
{
    static const struct {
        const char *config; /* NULL: GOOD_CONFIG */
        const char *drop, *rename_from, *rename_to;
        int status;
        const char *file; /* which file the message starts with */
        const char *message;
    } cases[] = {
        {NULL, "h.1.mlp.c_proj.bias", NULL, NULL, STATUS_DATAERR, "model.safetensors",
         "missing tensor h.1.mlp.c_proj.bias (a GPT-2 checkpoint has wte.weight, wpe.weight, h.N.ln_1.*"},
        {NULL, NULL, "wte.weight", "model.embed_tokens.weight", STATUS_DATAERR, "model.safetensors",
         "this is a LLaMA/Mistral-style checkpoint (it has model.embed_tokens.weight), not GPT-2: attn-trace expected "
         "a GPT-2 checkpoint"},
        {NULL, NULL, "wte.weight", "embedding.weight", STATUS_DATAERR, "model.safetensors",
         "no tensor wte.weight (nor transformer.wte.weight)"},
        {"{\"n_embd\":32,\"n_head\":2,\"n_layer\":2,\"n_positions\":16,\"vocab_size\":64}", NULL, NULL, NULL,
         STATUS_DATAERR, "model.safetensors", "tensor wte.weight is [64, 16], but"},
        {"{\"n_embd\":16,\"n_head\":2,\"n_layer\":2,\"n_positions\":16,\"vocab_size\":65}", NULL, NULL, NULL,
         STATUS_DATAERR, "model.safetensors", "vocab_size 65) needs [65, 16]"},
        {"{\"n_embd\":16,\"n_head\":2,\"n_layer\":3,\"n_positions\":16,\"vocab_size\":64}", NULL, NULL, NULL,
         STATUS_DATAERR, "model.safetensors", "missing tensor h.2.ln_1.weight"},
        {"{\"n_embd\":16,\"n_head\":2,\"n_layer\":1,\"n_positions\":16,\"vocab_size\":64}", NULL, NULL, NULL,
         STATUS_DATAERR, "model.safetensors", "config.json says n_layer 1, but the checkpoint has a block 1"},
        {"{\"n_embd\":16,\"n_head\":3,\"n_layer\":2,\"n_positions\":16,\"vocab_size\":64}", NULL, NULL, NULL,
         STATUS_DATAERR, "config.json", "n_embd 16 is not a multiple of n_head 3"},
        {"{\"model_type\":\"llama\",\"n_embd\":16}", NULL, NULL, NULL, STATUS_DATAERR, "config.json",
         "model_type is \"llama\": attn-trace reads GPT-2 checkpoints (model_type \"gpt2\")"},
        {"{\"n_embd\":16,\"n_layer\":2,\"n_positions\":16,\"vocab_size\":64}", NULL, NULL, NULL, STATUS_DATAERR,
         "config.json", "n_head is missing"},
        {"{\"n_embd\":0,\"n_head\":2,\"n_layer\":2,\"n_positions\":16,\"vocab_size\":64}", NULL, NULL, NULL,
         STATUS_DATAERR, "config.json", "n_embd is 0, outside 1..4096"},
        {"{\"n_embd\":16,\"n_head\":2,\"n_layer\":2,\"n_positions\":16,\"vocab_size\":64,\"layer_norm_epsilon\":2}",
         NULL, NULL, NULL, STATUS_DATAERR, "config.json", "layer_norm_epsilon 2 is outside (0, 1)"},
        {"{\"n_embd\":16,", NULL, NULL, NULL, STATUS_DATAERR, "config.json", "config.json:1:"},
        {"", NULL, NULL, NULL, STATUS_NOINPUT, "config.json", "cannot read"}, /* "" = no config.json */
    };
    char src_dir[] = FIXTURE_DIR "/d16_h2_l2_f32";
    char st_src[512];
    snprintf(st_src, sizeof st_src, "%s/model.safetensors", src_dir);
    Error err;
    error_clear(&err);
    SafeTensors *src = safetensors_open(st_src, &err);
    ck_assert_msg(src != NULL, "%s", err.message);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256], path[512];
        make_temp_dir(dir, sizeof dir);
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        rebuild(src, path, cases[i].drop, cases[i].rename_from, cases[i].rename_to);
        snprintf(path, sizeof path, "%s/config.json", dir);
        if (cases[i].config == NULL || cases[i].config[0] != '\0')
            write_text(path, cases[i].config != NULL ? cases[i].config : GOOD_CONFIG);
        error_clear(&err);
        Gpt2Model *model = gpt2_open(dir, &err);
        ck_assert_msg(model == NULL, "case %zu opened", i);
        ck_assert_msg(err.status == cases[i].status, "case %zu: status %d (%s)", i, err.status, err.message);
        char start[512];
        snprintf(start, sizeof start, "%s/%s", dir, cases[i].file);
        ck_assert_msg(strncmp(err.message, start, strlen(start)) == 0, "case %zu: '%s' does not start with %s", i,
                      err.message, start);
        ck_assert_msg(strstr(err.message, cases[i].message) != NULL, "case %zu: '%s' lacks '%s'", i, err.message,
                      cases[i].message);
        fixture_remove_dir(dir);
    }
    safetensors_close(src);
    /* no directory at all */
    ck_assert(gpt2_open("/nonexistent/gpt2", &err) == NULL && err.status == STATUS_NOINPUT);
}
END_TEST

START_TEST(test_bad_requests)
{
    Error err;
    error_clear(&err);
    Gpt2Model *model = gpt2_open(FIXTURE_DIR "/d16_h2_l2_f32", &err);
    ck_assert_msg(model != NULL, "%s", err.message);
    long ids[17] = {0};
    Gpt2Trace trace;
    ck_assert(!gpt2_trace_begin(model, ids, 3, 2, 0, &trace, &err));
    ck_assert_msg(strstr(err.message, "layer 2 is out of range: the checkpoint has 2 layers (0..1)") != NULL, "%s",
                  err.message);
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    ck_assert(!gpt2_trace_begin(model, ids, 17, 0, 0, &trace, &err));
    ck_assert_msg(strstr(err.message, "17 tokens are more than the model's n_positions (16)") != NULL, "%s",
                  err.message);
    ck_assert(gpt2_trace_begin(model, ids, 16, 0, 0, &trace, &err));
    gpt2_trace_free(&trace);
    ck_assert(!gpt2_trace_begin(model, ids, 0, 0, 0, &trace, &err));
    ids[1] = 64;
    ck_assert(!gpt2_trace_begin(model, ids, 3, 0, 0, &trace, &err));
    ck_assert_msg(strstr(err.message, "token id 64 (token 2) is not below vocab_size 64") != NULL, "%s", err.message);
    ids[1] = 0;
    unsigned long long need = gpt2_trace_bytes(&model->config, 3);
    ck_assert(!gpt2_trace_begin(model, ids, 3, 0, need - 1, &trace, &err));
    ck_assert_msg(strstr(err.message, "over the") != NULL && strstr(err.message, "--max-memory") != NULL, "%s",
                  err.message);
    ck_assert(trace.token_ids == NULL && trace.block.storage == NULL);
    ck_assert(gpt2_trace_begin(model, ids, 3, 0, need, &trace, &err));
    gpt2_trace_free(&trace);
    /* GPT-2 XL's sizes at 1024 tokens are counted, and refused under a small cap */
    Gpt2Config xl = {1600, 25, 48, 1024, 50257, 1e-5f};
    ck_assert(gpt2_trace_bytes(&xl, 1024) > ((unsigned long long)1 << 28));
    Gpt2Config huge = {SIZE_MAX / 2, 1, 1, 1, 1, 1e-5f};
    ck_assert(gpt2_trace_bytes(&huge, SIZE_MAX / 2) == ULLONG_MAX);
    Gpt2Config largest = {LIMIT_MAX_D_MODEL, LIMIT_MAX_HEADS, LIMIT_MAX_LAYERS,
                          LIMIT_MAX_TOKENS,  LIMIT_MAX_VOCAB, 1e-5f};
    ck_assert(gpt2_trace_bytes(&largest, LIMIT_MAX_TOKENS) < ULLONG_MAX / 2);
    ck_assert(!gpt2_block_load(model, 5, &trace.block, &err));
    ck_assert_msg(strstr(err.message, "layer 5 is out of range") != NULL, "%s", err.message);
    gpt2_close(model);
}
END_TEST

/* ------------------------------------------------------------------------
 * The benchmark (only with ATTN_GPT2_BENCH_DIR)
 * ---------------------------------------------------------------------- */

START_TEST(test_bench_gpt2_small)
{
    const char *dir = getenv("ATTN_GPT2_BENCH_DIR"); /* registered only when set: see model_suite */
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    Error err;
    error_clear(&err);
    Gpt2Model *model = gpt2_open(dir, &err);
    ck_assert_msg(model != NULL, "%s", err.message);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ids[20];
    for (int i = 0; i < 20; i++)
        ids[i] = (long)((i * 7919 + 13) % 50257);
    Gpt2Trace trace;
    struct timespec t_attn;
    ck_assert_msg(gpt2_trace_begin(model, ids, 20, 5, 0, &trace, &err), "%s", err.message);
    for (int s = 0; s < GPT2_STAGE_COUNT; s++) {
        ck_assert_msg(gpt2_trace_stage(model, &trace, (Gpt2Stage)s, &err), "%s", err.message);
        if (s == GPT2_STAGE_RESIDUAL)
            clock_gettime(CLOCK_MONOTONIC, &t_attn);
    }
    clock_gettime(CLOCK_MONOTONIC, &t2);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double open_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    double run_s = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) * 1e-9;
    double attn_s = (double)(t_attn.tv_sec - t1.tv_sec) + (double)(t_attn.tv_nsec - t1.tv_nsec) * 1e-9;
    fprintf(stderr,
            "bench: GPT-2 small shape (file %zu bytes): open %.3f s; trace layer 5 of 20 tokens %.3f s: blocks 0-4 "
            "and block 5's attention %.3f s, then blocks 5-11's rest, ln_f and the logits over %zu rows %.3f s; "
            "total %.3f s; peak RSS %ld MiB; top token %ld (p %.4g)\n",
            model->file->map_bytes, open_s, run_s, attn_s, model->config.vocab_size, run_s - attn_s, open_s + run_s,
            usage.ru_maxrss / 1024, trace.top_ids[0], (double)trace.top_probs[0]);
    ck_assert_msg(open_s + run_s < 1.0, "took %.3f s", open_s + run_s);
    ck_assert_msg(usage.ru_maxrss < 200 * 1024, "peak RSS %ld KiB", usage.ru_maxrss);
    gpt2_trace_free(&trace);
    gpt2_close(model);
}
END_TEST

Suite *model_suite(void)
{
    Suite *suite = suite_create("model");
    TCase *torch = tcase_create("pytorch");
    tcase_add_test(torch, test_fixtures_equal_pytorch);
    tcase_add_test(torch, test_layer0_is_bit_identical);
    tcase_add_test(torch, test_stage_by_stage);
    tcase_set_timeout(torch, 60);
    suite_add_tcase(suite, torch);
    TCase *kernels = tcase_create("kernels");
    tcase_add_test(kernels, test_f16_and_bf16_widen_exactly);
    tcase_add_test(kernels, test_kernels_against_formulas);
    suite_add_tcase(suite, kernels);
    TCase *bad = tcase_create("bad_input");
    tcase_add_test(bad, test_bad_safetensors);
    tcase_add_test(bad, test_bad_checkpoints);
    tcase_add_test(bad, test_bad_requests);
    tcase_set_timeout(bad, 30);
    suite_add_tcase(suite, bad);
    /* A benchmark, not a test: it exists only when a checkpoint is named,
     * so make check never counts it as run. */
    const char *bench_dir = getenv("ATTN_GPT2_BENCH_DIR");
    if (bench_dir != NULL && bench_dir[0] != '\0') {
        TCase *bench = tcase_create("bench");
        tcase_add_test(bench, test_bench_gpt2_small);
        tcase_set_timeout(bench, 120);
        suite_add_tcase(suite, bench);
    }
    return suite;
}
