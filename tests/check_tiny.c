/*
 * check_tiny.c - the model attn-trace ships, lessons/models/tiny (trained
 * by tests/train_tiny.py): its tokenizer, its traces against PyTorch, and
 * the two heads its lesson points at.
 *
 * - The tokenizer: src/format/bpe.c, given the shipped vocab.json and
 *   merges.txt, must give the ids the training script's own GPT-2 encoder
 *   gave for held-out text (tests/fixtures/tiny/bpe_ids.txt).
 * - The traces: for each held-out sentence of tests/fixtures/tiny/NAME/,
 *   every stage of every layer as PyTorch computed it from the shipped
 *   weights (the ref/ .npy files, by make_gpt2_fixtures.py's reference()), within
 *   1e-5 absolute plus 1e-5 relative, and the top 5 next tokens.
 * - The name: `--model tiny` through the command line finds the shipped
 *   directory (catalog_find_model) and tokenizes a sentence into the
 *   script's ids; an unknown name is refused with STATUS_NOINPUT.
 *
 * - The heads: for each held-out text of tests/fixtures/tiny/heads.txt,
 *   the previous-token head's mean weight on the previous token and the
 *   induction head's on the token after the earlier copy, in the shipped
 *   model and in lessons/models/tiny-untrained, as the C trace computes
 *   them, equal PyTorch's to 1e-4; over the texts the trained head puts
 *   most of its weight (more than half) where its name says, and the
 *   untrained one does not.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "bpe.h"
#include "cli.h"
#include "entropy.h"
#include "fixture.h"
#include "gpt2.h"
#include "lesson.h"
#include "npy.h"
#include "suites.h"
#include "trace.h"

#define MODEL_DIR "lessons/models/tiny"
#define FIXTURE_DIR "tests/fixtures/tiny"
#define TOL 1e-5

/* The held-out sentences of the fixtures (tests/fixtures/tiny/NAME). */
static const char *const SENTENCES[] = {"mixed", "repeat", "sentence"};

/* ------------------------------------------------------------------------
 * The tokenizer against the training script's encoder
 * ---------------------------------------------------------------------- */

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The ids of line (HEX<TAB>IDS, path:line_no for messages) checked against
 * bpe's encoding of the bytes; returns how many tokens. */
static size_t check_ids_line(const Bpe *bpe, const char *line, const char *path, size_t line_no)
{
    const char *tab = strchr(line, '\t');
    ck_assert_msg(tab != NULL, "%s:%zu: no tab", path, line_no);
    char bytes[4096];
    size_t n = 0;
    for (const char *h = line; h < tab; h += 2) {
        int hi = hex_digit(h[0]), lo = hex_digit(h[1]);
        ck_assert_msg(hi >= 0 && lo >= 0 && n < sizeof bytes, "%s:%zu: bad hex", path, line_no);
        bytes[n++] = (char)(hi * 16 + lo);
    }
    Error err;
    error_clear(&err);
    BpeEncoding *enc = bpe_encode(bpe, bytes, n, &err);
    ck_assert_msg(enc != NULL, "%s:%zu: %s", path, line_no, err.message);
    size_t k = 0;
    for (const char *p = tab + 1; *p != '\0' && *p != '\n'; k++) {
        char *end;
        long id = strtol(p, &end, 10);
        ck_assert_msg(end != p, "%s:%zu: bad id", path, line_no);
        ck_assert_msg(k < enc->n_tokens, "%s:%zu: %zu tokens, the script's encoder has more", path, line_no,
                      enc->n_tokens);
        ck_assert_msg(enc->ids[k] == id, "%s:%zu: token %zu is %d, the script's encoder has %ld", path, line_no, k,
                      enc->ids[k], id);
        p = *end == ' ' ? end + 1 : end;
    }
    ck_assert_msg(k == enc->n_tokens, "%s:%zu: %zu tokens, the script's encoder has %zu", path, line_no, enc->n_tokens,
                  k);
    bpe_encoding_free(enc);
    return k;
}

START_TEST(test_tokenizer_matches_script)
{
    Error err;
    error_clear(&err);
    Bpe *bpe = bpe_load(MODEL_DIR "/vocab.json", MODEL_DIR "/merges.txt", &err);
    ck_assert_msg(bpe != NULL, "%s", err.message);
    ck_assert_uint_eq(bpe_vocab_size(bpe), 512);
    const char *path = FIXTURE_DIR "/bpe_ids.txt";
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[16384];
    size_t line_no = 0, strings = 0, tokens = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line_no++;
        if (line[0] == '#')
            continue;
        tokens += check_ids_line(bpe, line, path, line_no);
        strings++;
    }
    fclose(f);
    bpe_free(bpe);
    ck_assert_msg(strings >= 40 && tokens >= 400, "only %zu strings, %zu tokens in %s", strings, tokens, path);
}
END_TEST

/* ------------------------------------------------------------------------
 * The traces against PyTorch
 * ---------------------------------------------------------------------- */

static double worst_abs;
static size_t values_compared;

/* Reads FIXTURE_DIR/sentence/ref/name.npy. */
static void read_ref(const char *sentence, const char *name, NpyArray *arr)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/ref/%s.npy", FIXTURE_DIR, sentence, name);
    Error err;
    error_clear(&err);
    ck_assert_msg(npy_read(path, arr, &err), "%s", err.message);
}

/* got against the reference name of sentence: same shape, every value
 * within TOL abs + TOL rel (infinities equal). */
static void compare(const char *sentence, const char *name, const Tensor *got)
{
    NpyArray ref;
    read_ref(sentence, name, &ref);
    ck_assert_msg(got != NULL, "%s: %s was not computed", sentence, name);
    ck_assert_msg(ref.ndim == got->ndim, "%s: %s has rank %d, PyTorch %d", sentence, name, got->ndim, ref.ndim);
    for (int i = 0; i < ref.ndim; i++)
        ck_assert_msg(ref.shape[i] == got->shape[i], "%s: %s dim %d is %zu, PyTorch %zu", sentence, name, i,
                      got->shape[i], ref.shape[i]);
    const float *want = ref.data;
    for (size_t i = 0; i < ref.count; i++) {
        double a = got->data[i], b = want[i];
        values_compared++;
        if (a == b)
            continue; /* also -inf against -inf */
        ck_assert_msg(isfinite(a) && isfinite(b), "%s: %s[%zu] = %g, PyTorch %g", sentence, name, i, a, b);
        double e = fabs(a - b);
        if (e > worst_abs)
            worst_abs = e;
        ck_assert_msg(e <= TOL + TOL * fabs(b), "%s: %s[%zu] = %.9g, PyTorch %.9g (error %.3g)", sentence, name, i, a,
                      b, e);
    }
    npy_free(&ref);
}

static const char *const STAGE_TENSORS[] = {
    "block_input",       "ln_1",         "qkv",          "queries",     "keys",          "values", "scores",
    "attention_weights", "head_outputs", "concat_heads", "attn_output", "attn_residual",
};

/* The top 5 next tokens of trace against sentence's reference. */
static void compare_top5(const char *sentence, const Gpt2Trace *trace)
{
    NpyArray ids, probs;
    read_ref(sentence, "top5_ids", &ids);
    read_ref(sentence, "top5_probs", &probs);
    for (int k = 0; k < GPT2_TOP_K; k++) {
        long want = (long)((const int64_t *)ids.data)[k];
        double p = ((const float *)probs.data)[k];
        ck_assert_msg(trace->top_ids[k] == want, "%s: next token %d is %ld, PyTorch %ld", sentence, k + 1,
                      trace->top_ids[k], want);
        ck_assert_msg(fabs(trace->top_probs[k] - p) <= TOL + TOL * p, "%s: p(next %d) = %.9g, PyTorch %.9g", sentence,
                      k + 1, (double)trace->top_probs[k], p);
    }
    npy_free(&ids);
    npy_free(&probs);
}

START_TEST(test_traces_equal_pytorch)
{
    Error err;
    error_clear(&err);
    Gpt2Model *model = gpt2_open(MODEL_DIR, &err);
    ck_assert_msg(model != NULL, "%s", err.message);
    worst_abs = 0.0;
    values_compared = 0;
    for (size_t s = 0; s < sizeof SENTENCES / sizeof SENTENCES[0]; s++) {
        NpyArray ids_arr;
        read_ref(SENTENCES[s], "token_ids", &ids_arr);
        long ids[64];
        ck_assert(ids_arr.count <= 64);
        for (size_t i = 0; i < ids_arr.count; i++)
            ids[i] = (long)((const int64_t *)ids_arr.data)[i];
        for (size_t layer = 0; layer < model->config.n_layer; layer++) {
            Gpt2Trace trace;
            ck_assert_msg(gpt2_trace_run(model, ids, ids_arr.count, layer, 0, &trace, &err), "%s", err.message);
            compare(SENTENCES[s], "token_embed", trace.token_embed);
            compare(SENTENCES[s], "position_embed", trace.position_embed);
            compare(SENTENCES[s], "ln_f", trace.ln_f);
            compare_top5(SENTENCES[s], &trace);
            for (size_t i = 0; i < sizeof STAGE_TENSORS / sizeof STAGE_TENSORS[0]; i++) {
                char name[64];
                snprintf(name, sizeof name, "L%zu.%s", layer, STAGE_TENSORS[i]);
                compare(SENTENCES[s], name, gpt2_trace_tensor(&trace, STAGE_TENSORS[i]));
            }
            gpt2_trace_free(&trace);
        }
        npy_free(&ids_arr);
    }
    gpt2_close(model);
    fprintf(stderr, "tiny: %zu values against PyTorch, largest error %.3g\n", values_compared, worst_abs);
    ck_assert(values_compared > 10000);
}
END_TEST

/* ------------------------------------------------------------------------
 * The model by its name, through the command line
 * ---------------------------------------------------------------------- */

/* The trace of `attn-trace --model tiny --sentence TEXT --layer L`, as
 * main builds it (the model found by its name). */
static Trace *model_trace(const char *model_name, const char *text, int layer)
{
    char prog[] = "attn-trace", model[] = "--model", name[64], sentence[] = "--sentence", layer_flag[] = "--layer",
         layer_text[16], json[] = "--json";
    snprintf(layer_text, sizeof layer_text, "%d", layer);
    snprintf(name, sizeof name, "%s", model_name);
    char *argv[] = {prog, model, name, sentence, (char *)text, layer_flag, layer_text, json, NULL};
    Options opts;
    Error err;
    error_clear(&err);
    ck_assert_msg(cli_parse(8, argv, &opts, &err), "%s: %s", text, err.message);
    Trace *trace = trace_build(&opts.config, &err);
    cli_options_free(&opts);
    ck_assert_msg(trace != NULL, "%s: %s", text, err.message);
    return trace;
}

static Trace *tiny_trace(const char *text, int layer)
{
    return model_trace("tiny", text, layer);
}

/* The attention weights [h, s, s] of a model trace. */
static const Tensor *weights_of(const Trace *trace)
{
    const TraceTensor *t = trace_find_tensor(trace, PART_MODEL, "attention_weights");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->tensor->ndim, 3);
    return t->tensor;
}

/* The held-out sentence of the fixture "sentence" (train_tiny.py's HELD_OUT). */
#define FIXTURE_SENTENCE "The old farmer paints a green boat near the river."

START_TEST(test_model_by_name)
{
    Trace *trace = tiny_trace(FIXTURE_SENTENCE, 1);
    const char *dir = trace->config.model;
    ck_assert_msg(strlen(dir) >= strlen(MODEL_DIR) && strcmp(dir + strlen(dir) - strlen(MODEL_DIR), MODEL_DIR) == 0,
                  "--model tiny opened %s, not the shipped %s", dir, MODEL_DIR);
    NpyArray ids;
    read_ref("sentence", "token_ids", &ids);
    ck_assert_uint_eq(trace->config.n_tokens, ids.count);
    for (size_t i = 0; i < ids.count; i++)
        ck_assert_int_eq(trace->config.token_ids[i], ((const int64_t *)ids.data)[i]);
    npy_free(&ids);
    (void)weights_of(trace);
    trace_free(trace);

    char prog[] = "attn-trace", model[] = "--model", name[] = "no-such-model", token_ids[] = "--token-ids", one[] = "1";
    char *argv[] = {prog, model, name, token_ids, one, NULL};
    Options opts;
    Error err;
    error_clear(&err);
    ck_assert(!cli_parse(5, argv, &opts, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_msg(strncmp(err.message, "--model no-such-model: no such model (looked for models/no-such-model in ",
                          73) == 0,
                  "%s", err.message);
}
END_TEST

/* ------------------------------------------------------------------------
 * The heads the lesson points at
 * ---------------------------------------------------------------------- */

/* The mean weight head puts, in weights [h, s, s] of the tokens ids, on
 * the previous token (prev: over positions 1..s-1), or (induction) on the
 * token after the earlier copy: for each position t whose token occurs
 * exactly once before it, at p, with p + 1 < t, the weight of t on p + 1.
 * train_tiny.py's head_figure has the same rule. NAN when no position
 * counts. */
static double head_figure(bool prev, const Tensor *weights, size_t head, const long *ids, size_t s)
{
    double sum = 0;
    size_t n = 0;
    for (size_t t = 1; t < s; t++) {
        size_t target = t - 1, copies = 0;
        if (!prev)
            for (size_t p = 0; p < t; p++)
                if (ids[p] == ids[t])
                    copies++, target = p + 1;
        if (!prev && (copies != 1 || target >= t))
            continue;
        sum += weights->data[(head * s + t) * s + target];
        n++;
    }
    return n == 0 ? NAN : sum / (double)n;
}

/* One line of heads.txt: KIND<TAB>LAYER<TAB>HEAD<TAB>TRAINED<TAB>UNTRAINED<TAB>TEXT. */
typedef struct {
    bool prev;
    int layer, head;
    double trained, untrained;
    char text[1024];
} HeadLine;

static bool read_head_line(char *line, HeadLine *h, const char *path, size_t line_no)
{
    char kind[16];
    int used = 0;
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '#')
        return false;
    ck_assert_msg(sscanf(line, "%15[a-z]\t%d\t%d\t%lf\t%lf\t%n", kind, &h->layer, &h->head, &h->trained, &h->untrained,
                         &used) == 5 &&
                      used > 0,
                  "%s:%zu: not KIND LAYER HEAD TRAINED UNTRAINED TEXT", path, line_no);
    ck_assert_msg(strcmp(kind, "prev") == 0 || strcmp(kind, "induction") == 0, "%s:%zu: kind %s", path, line_no, kind);
    h->prev = strcmp(kind, "prev") == 0;
    snprintf(h->text, sizeof h->text, "%s", line + used);
    return true;
}

/* The figure of h's head in h's text under the model model_name, as the C
 * trace has it, checked against PyTorch's (expected). */
static double checked_figure(const char *model_name, const HeadLine *h, double expected, const char *where)
{
    Trace *trace = model_trace(model_name, h->text, h->layer);
    const Tensor *w = weights_of(trace);
    ck_assert_int_lt(h->head, (int)w->shape[0]);
    double got = head_figure(h->prev, w, (size_t)h->head, trace->config.token_ids, trace->config.n_tokens);
    ck_assert_msg(fabs(got - expected) <= 1e-4, "%s, %s: head %d.%d's figure is %.6f, PyTorch's %.6f", where,
                  model_name, h->layer, h->head, got, expected);
    trace_free(trace);
    return got;
}

START_TEST(test_heads_do_their_jobs)
{
    const char *path = FIXTURE_DIR "/heads.txt";
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[2048], where[64];
    double sum[2][2] = {{0}}; /* [induction, prev][untrained, trained] */
    int n[2] = {0}, layer[2] = {-1, -1}, head[2] = {-1, -1};
    HeadLine h;
    for (size_t line_no = 1; fgets(line, sizeof line, f) != NULL; line_no++) {
        if (!read_head_line(line, &h, path, line_no))
            continue;
        ck_assert_msg(layer[h.prev] < 0 || (layer[h.prev] == h.layer && head[h.prev] == h.head),
                      "%s:%zu: a second head of the same kind", path, line_no);
        layer[h.prev] = h.layer, head[h.prev] = h.head;
        snprintf(where, sizeof where, "%s:%zu", path, line_no);
        sum[h.prev][1] += checked_figure("tiny", &h, h.trained, where);
        sum[h.prev][0] += checked_figure("tiny-untrained", &h, h.untrained, where);
        n[h.prev]++;
    }
    fclose(f);
    ck_assert_msg(n[0] >= 8 && n[1] >= 12, "only %d induction and %d prev lines in %s", n[0], n[1], path);
    for (int k = 0; k < 2; k++) {
        const char *what = k == 1 ? "previous-token head" : "induction head";
        double trained = sum[k][1] / n[k], untrained = sum[k][0] / n[k];
        printf("tiny: %s %d.%d: mean weight %.3f over %d held-out texts (untrained: %.3f)\n", what, layer[k], head[k],
               trained, n[k], untrained);
        ck_assert_msg(trained > 0.5, "the %s %d.%d puts %.3f on its target: not most", what, layer[k], head[k],
                      trained);
        ck_assert_msg(untrained < 0.3, "the untrained model's head %d.%d already puts %.3f on the %s's target",
                      layer[k], head[k], untrained, what);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * lessons/trained-heads.lesson: its numbers are PyTorch's
 * ---------------------------------------------------------------------- */

#define LESSON_PATH "lessons/trained-heads.lesson"

/* One line of lesson-facts.txt: MODEL LAYER TEXT EXPR VALUE SHOWN, tabs apart. */
typedef struct {
    char model[32], text[512], expr[96], shown[16];
    int layer;
    double value;
} Fact;

/* The traces the facts read, each built once. */
typedef struct {
    Fact key[8];
    Trace *trace[8];
    int n;
} TraceCache;

static Trace *cached_trace(TraceCache *cache, const Fact *f)
{
    for (int i = 0; i < cache->n; i++)
        if (strcmp(cache->key[i].model, f->model) == 0 && cache->key[i].layer == f->layer &&
            strcmp(cache->key[i].text, f->text) == 0)
            return cache->trace[i];
    ck_assert_int_lt(cache->n, 8);
    cache->key[cache->n] = *f;
    cache->trace[cache->n] = model_trace(f->model, f->text, f->layer);
    return cache->trace[cache->n++];
}

/* What f's expression gives on trace: an `=` answer's number or position,
 * or, for H(ROW), the entropy in bits of that row (as the compare view
 * prints it). */
static double fact_value(const Trace *trace, const Fact *f)
{
    Error err;
    error_clear(&err);
    if (strncmp(f->expr, "H(", 2) == 0) {
        char ref[96];
        snprintf(ref, sizeof ref, "%.*s", (int)strlen(f->expr) - 3, f->expr + 2);
        const TraceTensor *tt;
        size_t offset;
        ck_assert_msg(answer_locate(trace, PART_MODEL, ref, &tt, &offset, &err), "%s: %s", f->expr, err.message);
        const Tensor *t = tt->tensor;
        return entropy_bits(t->data + offset, t->shape[t->ndim - 1]);
    }
    AnswerValue v;
    ck_assert_msg(answer_eval(trace, PART_MODEL, f->expr, &v, &err), "%s: %s", f->expr, err.message);
    ck_assert(v.kind == ANSWER_NUMBER || v.kind == ANSWER_POSITION);
    return v.kind == ANSWER_POSITION ? (double)v.position : v.number;
}

/* The lesson writes f's value as f->shown: rounded to its decimals (or,
 * ">0.999", above that bound), and the lesson holds that text. */
static void check_shown(const Fact *f, const char *lesson_text)
{
    if (strcmp(f->shown, "-") == 0)
        return;
    if (f->shown[0] == '>') {
        ck_assert_msg(f->value > atof(f->shown + 1), "%s = %.9g is not %s", f->expr, f->value, f->shown);
    } else {
        const char *point = strchr(f->shown, '.');
        int decimals = point == NULL ? 0 : (int)strlen(point + 1);
        char rounded[32];
        snprintf(rounded, sizeof rounded, "%.*f", decimals, f->value);
        ck_assert_msg(strcmp(rounded, f->shown) == 0, "%s = %.9g reads %s, not %s", f->expr, f->value, rounded,
                      f->shown);
    }
    const char *said = f->shown + (f->shown[0] == '>'); /* "more than 0.999" */
    ck_assert_msg(strstr(lesson_text, said) != NULL, "%s does not say %s (%s)", LESSON_PATH, said, f->expr);
}

static int read_facts(Fact *facts, int max)
{
    const char *path = FIXTURE_DIR "/lesson-facts.txt";
    FILE *file = fopen(path, "r");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    char line[1024];
    int n = 0;
    for (size_t line_no = 1; fgets(line, sizeof line, file) != NULL; line_no++) {
        if (line[0] == '#')
            continue;
        ck_assert_int_lt(n, max);
        Fact *f = &facts[n++];
        ck_assert_msg(sscanf(line, "%31[^\t]\t%d\t%511[^\t]\t%95[^\t]\t%lf\t%15[^\t\n]", f->model, &f->layer, f->text,
                             f->expr, &f->value, f->shown) == 6,
                      "%s:%zu: not MODEL LAYER TEXT EXPR VALUE SHOWN", path, line_no);
    }
    fclose(file);
    return n;
}

/* The fact about quiz, asked on a step whose trace is (model, layer, text), or NULL. */
static const Fact *quiz_fact(const Fact *facts, int n, const char *model, int layer, const char *text, const char *expr)
{
    for (int i = 0; i < n; i++)
        if (strcmp(facts[i].model, model) == 0 && facts[i].layer == layer && strcmp(facts[i].text, text) == 0 &&
            strcmp(facts[i].expr, expr) == 0)
            return &facts[i];
    return NULL;
}

/* Every `=` answer of the lesson is a fact, and the quiz takes PyTorch's
 * value (a number, or the token at that position) as right. */
static int check_lesson_quizzes(const Lesson *lesson, const Fact *facts, int n, TraceCache *cache)
{
    int checked = 0;
    for (int k = 0; k < lesson->n_steps; k++) {
        const LessonStep *ls = &lesson->steps[k];
        for (int q = 0; q < ls->n_quizzes; q++) {
            const Quiz *quiz = &ls->quizzes[q];
            if (quiz->expr == NULL || strncmp(quiz->expr, "shape(", 6) == 0)
                continue;
            const char *model = ls->model != NULL ? ls->model : lesson->model;
            int layer = ls->layer >= 0 ? (int)ls->layer : (int)lesson->config.layer;
            const char *text = ls->sentence != NULL ? ls->sentence : lesson->config.sentence;
            const Fact *f = quiz_fact(facts, n, model, layer, text, quiz->expr);
            ck_assert_msg(f != NULL, "%s, step %s: no PyTorch fact for =%s", LESSON_PATH, ls->id, quiz->expr);
            char typed[64];
            if (quiz->kind == QUIZ_TOKEN) {
                const Trace *trace = cached_trace(cache, f);
                ck_assert((size_t)f->value < trace->config.n_tokens);
                snprintf(typed, sizeof typed, "%s", trace->config.tokens[(size_t)f->value]);
            } else {
                ck_assert_int_eq(quiz->kind, QUIZ_NUMBER);
                snprintf(typed, sizeof typed, "%.9g", f->value);
            }
            ck_assert_msg(quiz_check(quiz, typed), "%s: PyTorch's %s is not taken", quiz->question, typed);
            checked++;
        }
    }
    return checked;
}

/* The head figures of heads.txt that the lesson quotes: each mean, to 3 decimals. */
static void check_head_means(const char *lesson_text)
{
    const char *path = FIXTURE_DIR "/heads.txt";
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[2048], text[32];
    double sum[2][2] = {{0}};
    int n[2] = {0};
    HeadLine h;
    for (size_t line_no = 1; fgets(line, sizeof line, f) != NULL; line_no++)
        if (read_head_line(line, &h, path, line_no))
            sum[h.prev][0] += h.trained, sum[h.prev][1] += h.untrained, n[h.prev]++;
    fclose(f);
    for (int k = 0; k < 2; k++)
        for (int m = 0; m < 2; m++) {
            snprintf(text, sizeof text, "%.3f", sum[k][m] / n[k]);
            ck_assert_msg(strstr(lesson_text, text) != NULL, "%s does not give heads.txt's mean %s", LESSON_PATH, text);
        }
}

START_TEST(test_trained_heads_lesson_is_true)
{
    static Fact facts[64];
    int n = read_facts(facts, 64);
    char *lesson_text = fixture_read_text(LESSON_PATH);
    ck_assert_msg(lesson_text != NULL, "cannot read %s", LESSON_PATH);
    TraceCache cache = {.n = 0};
    for (int i = 0; i < n; i++) {
        double got = fact_value(cached_trace(&cache, &facts[i]), &facts[i]);
        ck_assert_msg(fabs(got - facts[i].value) <= 1e-5 + 1e-5 * fabs(facts[i].value), "%s, %s: %.9g, PyTorch %.9g",
                      facts[i].model, facts[i].expr, got, facts[i].value);
        check_shown(&facts[i], lesson_text);
    }
    /* "Untrained, the same head's scores all lie within 0.33 of zero." */
    Fact untrained = {.model = "tiny-untrained", .layer = 0};
    snprintf(untrained.text, sizeof untrained.text, "%s", facts[0].text);
    const TraceTensor *scores = trace_find_tensor(cached_trace(&cache, &untrained), PART_MODEL, "scores");
    size_t s = scores->tensor->shape[1];
    for (size_t i = 0; i < s * s; i++)
        ck_assert(!isfinite(scores->tensor->data[i]) || fabsf(scores->tensor->data[i]) < 0.33f);
    ck_assert(strstr(lesson_text, "within 0.33 of zero") != NULL);
    check_head_means(lesson_text);
    static Lesson lesson;
    LessonErrors errors;
    ck_assert_msg(lesson_load(LESSON_PATH, &lesson, &errors), "%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    int quizzes = check_lesson_quizzes(&lesson, facts, n, &cache);
    printf("trained-heads.lesson: %d numbers and %d = answers against PyTorch\n", n, quizzes);
    ck_assert_int_ge(quizzes, 5);
    lesson_free(&lesson);
    for (int i = 0; i < cache.n; i++)
        trace_free(cache.trace[i]);
    free(lesson_text);
}
END_TEST

Suite *tiny_suite(void)
{
    Suite *s = suite_create("tiny");
    TCase *tc = tcase_create("tiny");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_tokenizer_matches_script);
    tcase_add_test(tc, test_traces_equal_pytorch);
    tcase_add_test(tc, test_model_by_name);
    tcase_add_test(tc, test_heads_do_their_jobs);
    tcase_add_test(tc, test_trained_heads_lesson_is_true);
    suite_add_tcase(s, tc);
    return s;
}
