/*
 * experiment.c - parsing changes to a trace, checking them against a
 * configuration, building the changed trace and comparing two traces (see
 * experiment.h). The changes themselves are made by the steps of trace.c,
 * which read them from the Config; this file holds what does not need the
 * inside of a build.
 */
#include "experiment.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"
#include "floatfmt.h"

/* ------------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------- */

void experiment_set_init(ExperimentSet *set)
{
    memset(set, 0, sizeof *set);
}

/* A whole number of decimal digits at text (no sign), at most max, into
 * *out; *end is set past it. False when there is none or it is too big. */
static bool parse_count(const char *text, size_t max, size_t *out, const char **end)
{
    size_t n = 0, digits = 0;
    *end = text;
    while (text[digits] >= '0' && text[digits] <= '9') {
        size_t d = (size_t)(text[digits] - '0');
        if (n > (max - d) / 10) {
            *end = text + digits;
            return false;
        }
        n = n * 10 + d;
        digits++;
    }
    *end = text + digits;
    *out = n;
    return digits > 0;
}

/* A float at text, the whole of it: a decimal or exponent number, or inf,
 * -inf, nan. Rounded once to float (strtof). */
static bool parse_float_all(const char *text, float *out)
{
    if (*text == '\0' || *text == ' ')
        return false;
    char *end;
    errno = 0;
    float v = strtof(text, &end);
    if (*end != '\0' || (errno == ERANGE && isfinite(v) && v != 0.0f) ||
        (errno == ERANGE && isinf(v) && strncmp(text + (*text == '-' || *text == '+'), "inf", 3) != 0))
        return false;
    /* strtof also takes hex floats and "infinity"; both are fine */
    *out = v;
    return true;
}

/* The part named at text ("single_head:", "multi_head:", "model:"), or
 * false; *len is the prefix's length with its ':'. */
static bool parse_part(const char *text, TracePart *part, size_t *len)
{
    static const TracePart parts[] = {PART_SINGLE_HEAD, PART_MULTI_HEAD, PART_MODEL};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *name = trace_part_name(parts[i]);
        size_t n = strlen(name);
        if (strncmp(text, name, n) == 0 && text[n] == ':') {
            *part = parts[i];
            *len = n + 1;
            return true;
        }
    }
    return false;
}

/* Whether c may stand in a tensor name: not a bracket, comma, '=',
 * colon, space or control character. */
static bool name_char(unsigned char c)
{
    return c > ' ' && c != 0x7f && c != '[' && c != ']' && c != ',' && c != '=' && c != ':';
}

/* "NAME[i,j]=VALUE" (or NAME[i][j]=VALUE), at arg, into e. err->at is an
 * offset in arg. */
static bool parse_set(Experiment *e, const char *arg, Error *err)
{
    size_t at = 0, plen = 0;
    e->has_part = parse_part(arg, &e->part, &plen);
    at = plen;
    size_t name_start = at;
    while (name_char((unsigned char)arg[at]))
        at++;
    size_t name_len = at - name_start;
    if (name_len == 0)
        return error_set_at(err, STATUS_USAGE, at, "expected a tensor name, as in set=scores[0,1]=5");
    if (name_len >= TRACE_NAME_BYTES)
        return error_set_at(err, STATUS_USAGE, name_start, "a tensor name has at most %d bytes", TRACE_NAME_BYTES - 1);
    memcpy(e->tensor, arg + name_start, name_len);
    e->tensor[name_len] = '\0';
    if (arg[at] != '[')
        return error_set_at(err, STATUS_USAGE, at, "expected '[' and the value's indices after %s", e->tensor);
    e->n_index = 0;
    while (arg[at] == '[' || (arg[at] == ',' && e->n_index > 0)) {
        at++;
        if (e->n_index == TENSOR_MAX_DIMS)
            return error_set_at(err, STATUS_USAGE, at, "at most %d indices", TENSOR_MAX_DIMS);
        const char *end;
        if (!parse_count(arg + at, SIZE_MAX / 2, &e->index[e->n_index], &end))
            return error_set_at(err, STATUS_USAGE, at, "expected an index (0, 1, ...)");
        e->n_index++;
        at = (size_t)(end - arg);
        if (arg[at] == ']' && arg[at + 1] == '[')
            at++;
        else if (arg[at] == ']')
            break;
        else if (arg[at] != ',')
            return error_set_at(err, STATUS_USAGE, at, "expected ',' or ']' after an index");
    }
    if (arg[at] != ']')
        return error_set_at(err, STATUS_USAGE, at, "expected ']' after the indices");
    at++;
    if (arg[at] != '=')
        return error_set_at(err, STATUS_USAGE, at, "expected '=' and the new value after ']'");
    at++;
    if (!parse_float_all(arg + at, &e->value))
        return error_set_at(err, STATUS_USAGE, at, "'%.40s' is not a number", arg + at);
    return true;
}

/* Writes e's canonical spelling into e->spec. */
static void spell(Experiment *e)
{
    char num[32];
    switch (e->kind) {
    case EXP_NO_SCALE:
        snprintf(e->spec, sizeof e->spec, "no-scale");
        break;
    case EXP_SCALE:
        floatfmt_shortest(e->scale, num);
        snprintf(e->spec, sizeof e->spec, "scale=%s", num);
        break;
    case EXP_NO_MASK:
        snprintf(e->spec, sizeof e->spec, "no-mask");
        break;
    case EXP_CAUSAL:
        snprintf(e->spec, sizeof e->spec, "causal");
        break;
    case EXP_ZERO_HEAD:
        snprintf(e->spec, sizeof e->spec, "zero-head=%zu", e->head);
        break;
    case EXP_SWAP_TOKENS:
        snprintf(e->spec, sizeof e->spec, "swap-tokens=%zu,%zu", e->token_a, e->token_b);
        break;
    case EXP_NO_POSITIONS:
        snprintf(e->spec, sizeof e->spec, "no-positions");
        break;
    case EXP_KV_CACHE:
        if (e->token == SIZE_MAX)
            snprintf(e->spec, sizeof e->spec, "kv-cache");
        else
            snprintf(e->spec, sizeof e->spec, "kv-cache=%zu", e->token);
        break;
    case EXP_SET: {
        char idx[80] = "";
        size_t used = 0;
        for (int i = 0; i < e->n_index && used < sizeof idx; i++)
            used += (size_t)snprintf(idx + used, sizeof idx - used, "%s%zu", i ? "," : "", e->index[i]);
        floatfmt_shortest(e->value, num);
        char full[sizeof e->spec + sizeof idx + 64]; /* room for every part; the spelling is cut to spec below */
        snprintf(full, sizeof full, "set=%s%s%s[%s]=%s", e->has_part ? trace_part_name(e->part) : "",
                 e->has_part ? ":" : "", e->tensor, idx, num);
        size_t n = strlen(full) < sizeof e->spec ? strlen(full) : sizeof e->spec - 1;
        memcpy(e->spec, full, n);
        e->spec[n] = '\0';
        break;
    }
    }
}

/* The changes that take no argument and those that take one. */
static const struct {
    const char *word;
    ExperimentKind kind;
    int arg; /* 0 none, 1 required, 2 optional */
} KINDS[] = {
    {"no-scale", EXP_NO_SCALE, 0},         {"scale", EXP_SCALE, 1},
    {"no-mask", EXP_NO_MASK, 0},           {"causal", EXP_CAUSAL, 0},
    {"zero-head", EXP_ZERO_HEAD, 1},       {"swap-tokens", EXP_SWAP_TOKENS, 1},
    {"no-positions", EXP_NO_POSITIONS, 0}, {"set", EXP_SET, 1},
    {"kv-cache", EXP_KV_CACHE, 2},
};

/* The argument of kind at arg into e (err->at an offset in arg). */
static bool parse_arg(Experiment *e, const char *arg, Error *err)
{
    const char *end;
    switch (e->kind) {
    case EXP_SCALE:
        if (!parse_float_all(arg, &e->scale) || !isfinite(e->scale) || e->scale == 0.0f)
            return error_set_at(err, STATUS_USAGE, 0, "scale takes a number other than 0, as in scale=8");
        return true;
    case EXP_ZERO_HEAD:
        if (!parse_count(arg, LIMIT_MAX_HEADS, &e->head, &end) || *end != '\0')
            return error_set_at(err, STATUS_USAGE, (size_t)(end - arg), "zero-head takes a head number (0-based)");
        return true;
    case EXP_SWAP_TOKENS:
        if (!parse_count(arg, LIMIT_MAX_TOKENS, &e->token_a, &end) || *end != ',')
            return error_set_at(err, STATUS_USAGE, (size_t)(end - arg),
                                "swap-tokens takes two token positions (0-based), as in swap-tokens=1,3");
        if (!parse_count(end + 1, LIMIT_MAX_TOKENS, &e->token_b, &end) || *end != '\0')
            return error_set_at(err, STATUS_USAGE, (size_t)(end - arg),
                                "swap-tokens takes two token positions (0-based), as in swap-tokens=1,3");
        if (e->token_a == e->token_b)
            return error_set_at(err, STATUS_USAGE, 0, "swap-tokens takes two different positions");
        return true;
    case EXP_KV_CACHE:
        if (!parse_count(arg, LIMIT_MAX_TOKENS, &e->token, &end) || *end != '\0')
            return error_set_at(err, STATUS_USAGE, (size_t)(end - arg),
                                "kv-cache takes the position decoded (0-based), or nothing for the last");
        return true;
    case EXP_SET:
        return parse_set(e, arg, err);
    case EXP_NO_SCALE:
    case EXP_NO_MASK:
    case EXP_CAUSAL:
    case EXP_NO_POSITIONS:
        break;
    }
    ATTN_FATAL("change %d takes no argument", (int)e->kind);
}

bool experiment_parse(ExperimentSet *set, const char *spec, Error *err)
{
    size_t word_len = strcspn(spec, "=");
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        if (strlen(KINDS[i].word) != word_len || strncmp(spec, KINDS[i].word, word_len) != 0)
            continue;
        bool has_arg = spec[word_len] == '=';
        if (has_arg && KINDS[i].arg == 0)
            return error_set_at(err, STATUS_USAGE, word_len, "%s takes no value", KINDS[i].word);
        if (!has_arg && KINDS[i].arg == 1)
            return error_set_at(err, STATUS_USAGE, word_len, "%s needs a value (%s=...)", KINDS[i].word, KINDS[i].word);
        if (set->n >= EXPERIMENT_MAX)
            return error_set_at(err, STATUS_USAGE, 0, "at most %d changes at once (EXPERIMENT_MAX)", EXPERIMENT_MAX);
        Experiment e;
        memset(&e, 0, sizeof e);
        e.kind = KINDS[i].kind;
        e.token = SIZE_MAX;
        if (has_arg && !parse_arg(&e, spec + word_len + 1, err)) {
            if (err != NULL && err->at != ERROR_AT_NONE)
                err->at += word_len + 1;
            return false;
        }
        spell(&e);
        set->items[set->n++] = e;
        return true;
    }
    return error_set_at(err, STATUS_USAGE, 0,
                        "unknown change '%.*s' (changes: no-scale, scale=N, no-mask, causal, zero-head=H, "
                        "swap-tokens=I,J, no-positions, set=NAME[i,j]=VALUE, kv-cache)",
                        (int)(word_len < 40 ? word_len : 40), spec);
}

bool experiment_parse_list(ExperimentSet *set, const char *text, Error *err)
{
    size_t at = 0;
    for (;;) {
        at += strspn(text + at, " \t;");
        if (text[at] == '\0')
            return true;
        size_t len = strcspn(text + at, " \t;");
        char one[EXPERIMENT_SPEC_BYTES];
        if (len >= sizeof one)
            return error_set_at(err, STATUS_USAGE, at, "a change has at most %d bytes", EXPERIMENT_SPEC_BYTES - 1);
        memcpy(one, text + at, len);
        one[len] = '\0';
        if (!experiment_parse(set, one, err)) {
            if (err != NULL)
                err->at = (err->at == ERROR_AT_NONE ? 0 : err->at) + at;
            return false;
        }
        at += len;
    }
}

/* ------------------------------------------------------------------------
 * Reading a set
 * ---------------------------------------------------------------------- */

const Experiment *experiment_find(const ExperimentSet *set, ExperimentKind kind)
{
    const Experiment *found = NULL;
    for (int i = 0; set != NULL && i < set->n; i++)
        if (set->items[i].kind == kind)
            found = &set->items[i];
    return found;
}

void experiment_describe(const ExperimentSet *set, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    for (int i = 0; set != NULL && i < set->n && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? " " : "", set->items[i].spec);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

bool experiment_kv_cache(const Config *cfg)
{
    return experiment_find(cfg->experiments, EXP_KV_CACHE) != NULL;
}

/* ------------------------------------------------------------------------
 * Checking a set against a configuration
 * ---------------------------------------------------------------------- */

/* Whether the row def lists a tensor named name (with '#' as cfg's focus). */
static bool row_lists(const TraceStepDef *def, const char *name, size_t focus)
{
    for (int i = 0; i < trace_step_def_tensors(def); i++) {
        char expanded[TRACE_NAME_BYTES];
        const char *p = def->tensors[i].name;
        size_t n = 0;
        for (; *p != '\0' && n + 12 < sizeof expanded; p++)
            n += (size_t)(*p == '#' ? snprintf(expanded + n, sizeof expanded - n, "%zu", focus)
                                    : snprintf(expanded + n, sizeof expanded - n, "%c", *p));
        expanded[n] = '\0';
        if (strcmp(expanded, name) == 0)
            return true;
    }
    return false;
}

/* The tensors a model trace's forward pass keeps, which a set= may change
 * on a model (what later stages read). */
static const char *const MODEL_SETTABLE[] = {
    "token_embed", "position_embed", "block_input",       "ln_1",         "qkv",          "queries",     "keys",
    "values",      "scores",         "attention_weights", "head_outputs", "concat_heads", "attn_output",
};

/* Whether a model trace lets a set= change name. */
static bool model_settable(const char *name)
{
    for (size_t i = 0; i < sizeof MODEL_SETTABLE / sizeof MODEL_SETTABLE[0]; i++)
        if (strcmp(MODEL_SETTABLE[i], name) == 0)
            return true;
    return false;
}

/* A set='s tensor: some row of cfg's trace (in e's part, when given) lists it. */
static bool check_set(const Experiment *e, const Config *cfg, Error *err)
{
    if (e->has_part && (e->part == PART_MODEL) != (cfg->model != NULL))
        return error_set(err, STATUS_USAGE, "%s: this trace has no part %s", e->spec, trace_part_name(e->part));
    if (cfg->model != NULL && !model_settable(e->tensor))
        return error_set(err, STATUS_USAGE,
                         "%s: on a model trace, set= changes one of token_embed, position_embed, block_input, ln_1, "
                         "qkv, queries, keys, values, scores, attention_weights, head_outputs, concat_heads, "
                         "attn_output",
                         e->spec);
    for (size_t i = 0; i < trace_step_def_count(); i++) {
        const TraceStepDef *def = trace_step_def(i);
        if ((def->applies == NULL || def->applies(cfg)) && (!e->has_part || def->part == e->part) &&
            row_lists(def, e->tensor, cfg->focus))
            return true;
    }
    return error_set(err, STATUS_USAGE, "%s: this trace has no tensor %s%s%s (--list-steps and --print name them)",
                     e->spec, e->has_part ? trace_part_name(e->part) : "", e->has_part ? ":" : "", e->tensor);
}

/* One change against cfg (with causal as the changes before it leave it). */
static bool check_one(const Experiment *e, const Config *cfg, bool causal, Error *err)
{
    switch (e->kind) {
    case EXP_ZERO_HEAD:
        if (e->head >= cfg->heads)
            return error_set(err, STATUS_USAGE, "%s: there is no head %zu (the heads are 0 to %zu)", e->spec, e->head,
                             cfg->heads - 1);
        return true;
    case EXP_SWAP_TOKENS:
        if (e->token_a >= cfg->n_tokens || e->token_b >= cfg->n_tokens)
            return error_set(err, STATUS_USAGE, "%s: there is no token %zu (the tokens are 0 to %zu)", e->spec,
                             e->token_a >= cfg->n_tokens ? e->token_a : e->token_b, cfg->n_tokens - 1);
        return true;
    case EXP_NO_POSITIONS:
        if (cfg->model == NULL)
            return error_set(err, STATUS_USAGE,
                             "%s: the article's trace has no position embeddings; no-positions needs --model", e->spec);
        return true;
    case EXP_NO_MASK:
        if (cfg->model != NULL)
            return error_set(err, STATUS_USAGE, "%s: GPT-2 is a decoder and always masks; no-mask is for the article",
                             e->spec);
        return true;
    case EXP_KV_CACHE:
        if (cfg->model != NULL)
            return error_set(err, STATUS_USAGE, "%s: the KV-cache decode runs on the article's trace", e->spec);
        if (!causal)
            return error_set(err, STATUS_USAGE, "%s: the KV-cache decode needs the causal trace: add --causal",
                             e->spec);
        if (e->token != SIZE_MAX && e->token >= cfg->n_tokens)
            return error_set(err, STATUS_USAGE, "%s: there is no token %zu (the tokens are 0 to %zu)", e->spec,
                             e->token, cfg->n_tokens - 1);
        return true;
    case EXP_SET:
        return check_set(e, cfg, err);
    case EXP_NO_SCALE:
    case EXP_SCALE:
    case EXP_CAUSAL:
        return true;
    }
    return true;
}

bool experiment_check(const ExperimentSet *set, const Config *cfg, Error *err)
{
    bool causal = cfg->causal;
    for (int i = 0; set != NULL && i < set->n; i++) {
        const Experiment *e = &set->items[i];
        if (e->kind == EXP_CAUSAL)
            causal = true;
        if (e->kind == EXP_NO_MASK)
            causal = false;
        if (!check_one(e, cfg, causal, err))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Making the changes
 * ---------------------------------------------------------------------- */

const Experiment *experiment_scale(const ExperimentSet *set)
{
    const Experiment *found = NULL;
    for (int i = 0; set != NULL && i < set->n; i++)
        if (set->items[i].kind == EXP_NO_SCALE || set->items[i].kind == EXP_SCALE)
            found = &set->items[i];
    return found;
}

float experiment_divisor(const Experiment *e, float standard)
{
    if (e == NULL)
        return standard;
    return e->kind == EXP_SCALE ? e->scale : 1.0f;
}

void experiment_zero_heads(const ExperimentSet *set, Tensor *heads, char *note, size_t size)
{
    size_t used = 0;
    if (note != NULL && size > 0)
        note[0] = '\0';
    ATTN_ASSERT(heads->ndim == 3);
    const size_t per_head = heads->shape[1] * heads->shape[2];
    for (int i = 0; set != NULL && i < set->n; i++) {
        const Experiment *e = &set->items[i];
        if (e->kind != EXP_ZERO_HEAD)
            continue;
        ATTN_ASSERT(e->head < heads->shape[0]); /* experiment_check saw to it */
        memset(heads->data + e->head * per_head, 0, per_head * sizeof(float));
        if (note != NULL && used < size)
            used += (size_t)snprintf(note + used, size - used, ", head %zu zeroed", e->head);
    }
}

TracePart experiment_set_part(const Experiment *e, const Config *cfg)
{
    if (e->has_part)
        return e->part;
    for (size_t i = 0; i < trace_step_def_count(); i++) {
        const TraceStepDef *def = trace_step_def(i);
        if ((def->applies == NULL || def->applies(cfg)) && row_lists(def, e->tensor, cfg->focus))
            return def->part;
    }
    return cfg->model != NULL ? PART_MODEL : PART_SINGLE_HEAD;
}

bool experiment_apply_one(const Experiment *e, Tensor *t, Error *err)
{
    if (e->n_index != t->ndim) {
        char shape[64] = "";
        tensor_shape_str(t, shape, sizeof shape);
        return error_set(err, STATUS_USAGE, "%s: %s has %d dimensions (%s), not %d", e->spec, e->tensor, t->ndim, shape,
                         e->n_index);
    }
    size_t flat = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (e->index[i] >= t->shape[i]) {
            char shape[64] = "";
            tensor_shape_str(t, shape, sizeof shape);
            return error_set(err, STATUS_USAGE, "%s: index %zu is out of range for %s %s (0 to %zu)", e->spec,
                             e->index[i], e->tensor, shape, t->shape[i] - 1);
        }
        flat = flat * t->shape[i] + e->index[i];
    }
    t->data[flat] = e->value;
    return true;
}

bool experiment_apply_sets(const ExperimentSet *set, const Config *cfg, TracePart part, const char *name, Tensor *t,
                           Error *err)
{
    for (int i = 0; set != NULL && i < set->n; i++) {
        const Experiment *e = &set->items[i];
        if (e->kind == EXP_SET && strcmp(e->tensor, name) == 0 && experiment_set_part(e, cfg) == part &&
            !experiment_apply_one(e, t, err))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Building the changed trace
 * ---------------------------------------------------------------------- */

/* Swaps tokens a and b of cfg: ids and labels (the sentence follows). */
static void swap_tokens(Config *cfg, size_t a, size_t b)
{
    long id = cfg->token_ids[a];
    cfg->token_ids[a] = cfg->token_ids[b];
    cfg->token_ids[b] = id;
    char *label = cfg->tokens[a];
    cfg->tokens[a] = cfg->tokens[b];
    cfg->tokens[b] = label;
}

bool experiment_config(Config *dst, const Config *cfg, const ExperimentSet *set, Error *err)
{
    if (!experiment_check(set, cfg, err) || !config_copy(dst, cfg, err))
        return false;
    free(dst->experiments);
    dst->experiments = NULL;
    if (set == NULL || set->n == 0)
        return true;
    if ((dst->experiments = malloc(sizeof *dst->experiments)) == NULL) {
        config_free(dst);
        return error_oom(err, "the changes");
    }
    *dst->experiments = *set;
    dst->experiments->base_causal = cfg->causal;
    for (int i = 0; i < set->n; i++) {
        const Experiment *e = &set->items[i];
        if (e->kind == EXP_CAUSAL || e->kind == EXP_NO_MASK)
            dst->causal = e->kind == EXP_CAUSAL;
        if (e->kind == EXP_SWAP_TOKENS)
            swap_tokens(dst, e->token_a, e->token_b);
    }
    return true;
}

bool experiment_base_config(Config *dst, const Config *changed, Error *err)
{
    if (!config_copy(dst, changed, err))
        return false;
    const ExperimentSet *set = changed->experiments;
    for (int i = set != NULL ? set->n - 1 : -1; i >= 0; i--)
        if (set->items[i].kind == EXP_SWAP_TOKENS)
            swap_tokens(dst, set->items[i].token_a, set->items[i].token_b);
    if (set != NULL)
        dst->causal = set->base_causal;
    free(dst->experiments);
    dst->experiments = NULL;
    return true;
}

Trace *trace_build_experiments(const Config *cfg, const struct Weights *weights, const ExperimentSet *set, Error *err)
{
    Config changed;
    if (!experiment_config(&changed, cfg, set, err))
        return NULL;
    Trace *trace = trace_build_weights(&changed, weights, err);
    config_free(&changed);
    return trace;
}

/* The owned value of t named name in part, or NULL. */
static const Tensor *owned(const Trace *t, TracePart part, const char *name)
{
    for (int i = 0; i < t->n_owned; i++)
        if (t->owned[i].part == part && strcmp(t->owned[i].name, name) == 0)
            return t->owned[i].tensor;
    return NULL;
}

Trace *trace_rebuild(const Trace *from, const struct Weights *weights, const ExperimentSet *set, Error *err)
{
    Config base, changed;
    if (!experiment_base_config(&base, &from->config, err))
        return NULL;
    bool ok = experiment_config(&changed, &base, set, err);
    config_free(&base);
    if (!ok)
        return NULL;
    Trace *trace = trace_build_from(&changed, weights, from, err);
    config_free(&changed);
    return trace;
}

/* Points the steps of t whose explanation was the buffer `was` (a model
 * trace's next-token step, before t's contents moved) at t's own. */
static void repoint_explanation(Trace *t, const char *was)
{
    for (int i = 0; i < t->n_steps; i++)
        if (t->steps[i].explanation == was)
            t->steps[i].explanation = t->next_explanation;
}

bool trace_recompute(Trace *trace, const struct Weights *weights, const ExperimentSet *set, Error *err)
{
    Trace *fresh = trace_rebuild(trace, weights, set, err);
    Trace *held = fresh != NULL ? malloc(sizeof *held) : NULL;
    if (held == NULL) {
        if (fresh != NULL)
            error_oom(err, "a trace");
        trace_free(fresh);
        return false;
    }
    /* swap the contents: trace takes the new trace, fresh the old one, and
     * freeing fresh drops the old trace's hold on every tensor */
    memcpy(held, trace, sizeof *held);
    memcpy(trace, fresh, sizeof *trace);
    memcpy(fresh, held, sizeof *fresh);
    free(held);
    repoint_explanation(trace, fresh->next_explanation);
    repoint_explanation(fresh, trace->next_explanation);
    trace_free(fresh);
    return true;
}

/* Whether ids and words of a and b are the same, token by token. */
static bool same_tokens(const Config *a, const Config *b)
{
    if (a->n_tokens != b->n_tokens)
        return false;
    for (size_t i = 0; i < a->n_tokens; i++)
        if (a->token_ids[i] != b->token_ids[i] || strcmp(a->tokens[i], b->tokens[i]) != 0)
            return false;
    return true;
}

/* Whether the zero-head changes of a and b name the same heads in the same
 * order (the formula lists them in that order). */
static bool same_zeroed_heads(const ExperimentSet *a, const ExperimentSet *b)
{
    int i = 0, j = 0;
    for (;;) {
        while (a != NULL && i < a->n && a->items[i].kind != EXP_ZERO_HEAD)
            i++;
        while (b != NULL && j < b->n && b->items[j].kind != EXP_ZERO_HEAD)
            j++;
        bool a_done = a == NULL || i >= a->n, b_done = b == NULL || j >= b->n;
        if (a_done || b_done)
            return a_done && b_done;
        if (a->items[i++].head != b->items[j++].head)
            return false;
    }
}

/* Whether two changes found by kind (either may be NULL) are the same
 * change, by their canonical spelling. */
static bool same_change(const Experiment *x, const Experiment *y)
{
    if (x == NULL || y == NULL)
        return x == y;
    return strcmp(x->spec, y->spec) == 0;
}

unsigned experiment_uses_changed(const Config *a, const Config *b)
{
    const ExperimentSet *x = a->experiments, *y = b->experiments;
    unsigned changed = 0;
    if (!same_tokens(a, b))
        changed |= TRACE_USES_TOKENS;
    if (a->causal != b->causal)
        changed |= TRACE_USES_MASK;
    if (!same_change(experiment_scale(x), experiment_scale(y)))
        changed |= TRACE_USES_DIVISOR;
    if (!same_zeroed_heads(x, y))
        changed |= TRACE_USES_HEADS;
    if ((experiment_find(x, EXP_NO_POSITIONS) == NULL) != (experiment_find(y, EXP_NO_POSITIONS) == NULL))
        changed |= TRACE_USES_POSITIONS;
    if (!same_change(experiment_find(x, EXP_KV_CACHE), experiment_find(y, EXP_KV_CACHE)))
        changed |= TRACE_USES_KV;
    return changed;
}

/* The next set= change of cfg's set from item *i on that lands on the
 * tensor `name` of part, advancing *i past it; NULL when none is left. */
static const Experiment *next_set_on(const Config *cfg, TracePart part, const char *name, int *i)
{
    const ExperimentSet *set = cfg->experiments;
    for (; set != NULL && *i < set->n; (*i)++) {
        const Experiment *e = &set->items[*i];
        if (e->kind == EXP_SET && strcmp(e->tensor, name) == 0 && experiment_set_part(e, cfg) == part) {
            (*i)++;
            return e;
        }
    }
    return NULL;
}

bool experiment_sets_same(const Config *a, const Config *b, TracePart part, const char *name)
{
    int i = 0, j = 0;
    for (;;) {
        const Experiment *x = next_set_on(a, part, name, &i), *y = next_set_on(b, part, name, &j);
        if (x == NULL || y == NULL)
            return x == y;
        if (strcmp(x->spec, y->spec) != 0)
            return false;
    }
}

size_t experiment_kv_mismatches(const Trace *trace)
{
    const Tensor *out = owned(trace, PART_MULTI_HEAD, "kv_output");
    const Tensor *full = owned(trace, PART_MULTI_HEAD, "head_outputs");
    const Experiment *e = experiment_find(trace->config.experiments, EXP_KV_CACHE);
    if (out == NULL || full == NULL || e == NULL || full->ndim != 3)
        return SIZE_MAX;
    const size_t H = full->shape[0], S = full->shape[1], E = full->shape[2];
    const size_t p = e->token == SIZE_MAX ? S - 1 : e->token;
    size_t differ = 0;
    for (size_t h = 0; h < H; h++)
        for (size_t j = 0; j < E; j++)
            differ += memcmp(&out->data[h * E + j], &full->data[(h * S + p) * E + j], sizeof(float)) != 0;
    return differ;
}

/* ------------------------------------------------------------------------
 * Comparing two traces
 * ---------------------------------------------------------------------- */

/* Whether the floats of bits bx and by count as the same value: equal
 * bits, both zeros (of either sign) or both NaN. Branch-free, so the loop
 * over a tensor where half the cells changed (a mask turned on) does not
 * pay a mispredicted branch a cell. */
static unsigned same_bits(uint32_t bx, uint32_t by)
{
    const uint32_t ax = bx & 0x7fffffffu, ay = by & 0x7fffffffu;
    return (unsigned)(bx == by) | (unsigned)((ax | ay) == 0) |
           ((unsigned)(ax > 0x7f800000u) & (unsigned)(ay > 0x7f800000u));
}

/* The change from the float of bits bx to that of by, for the largest
 * one: |y - x| in double, INFINITY when one of them is not finite, -1
 * when the two count as the same (same_bits). Selects rather than
 * branches, like same_bits. */
static double cell_change(uint32_t bx, uint32_t by)
{
    float x, y;
    memcpy(&x, &bx, sizeof x);
    memcpy(&y, &by, sizeof y);
    const bool finite = (bx & 0x7f800000u) != 0x7f800000u && (by & 0x7f800000u) != 0x7f800000u;
    const double change = finite ? fabs((double)y - (double)x) : INFINITY;
    return same_bits(bx, by) ? -1.0 : change;
}

/* Compares the tensors of d (d->a, d->b set), filling the counts. */
static bool compare_tensors(TensorDiff *d, Error *err)
{
    (void)err; /* nothing to allocate */
    d->same_shape = d->a != NULL && d->b != NULL && tensor_same_shape(d->a, d->b);
    d->cells = d->b != NULL ? d->b->size : d->a->size;
    if (!d->same_shape) {
        d->changed = d->cells;
        d->max_change = INFINITY;
        return true;
    }
    if (d->a == d->b)
        return true; /* one tensor both traces share (trace_build_from): nothing changed */
    /* One pass, with four running maxima (lanes of i mod 4) so that no
     * cell waits for the comparison of the one before, then the largest of
     * the four, the first cell on a tie (nothing is larger than an
     * infinite change, so the first infinite one stays). */
    enum { LANES = 4, BLOCK = 16 }; /* BLOCK: a multiple of LANES */
    const float *xs = d->a->data, *ys = d->b->data;
    size_t changed = 0, lane_at[LANES] = {0};
    double lane_max[LANES] = {-1.0, -1.0, -1.0, -1.0};
    for (size_t start = 0; start < d->cells; start += BLOCK) {
        const size_t end = d->cells - start < BLOCK ? d->cells : start + BLOCK;
        /* a block of equal bits has no change in it: most of a tensor
         * whose changes are a few rows or columns (a set=, swapped tokens) */
        if (memcmp(&xs[start], &ys[start], (end - start) * sizeof(float)) == 0)
            continue;
        for (size_t i = start; i < end; i++) {
            uint32_t bx, by;
            memcpy(&bx, &xs[i], sizeof bx);
            memcpy(&by, &ys[i], sizeof by);
            changed += same_bits(bx, by) ^ 1u;
            const double change = cell_change(bx, by);
            const size_t k = i % LANES;
            if (change > lane_max[k]) {
                lane_max[k] = change;
                lane_at[k] = i;
            }
        }
    }
    size_t max_at = lane_at[0];
    double max_change = lane_max[0];
    for (int k = 1; k < LANES; k++)
        if (lane_max[k] > max_change || (lane_max[k] == max_change && lane_at[k] < max_at)) {
            max_change = lane_max[k];
            max_at = lane_at[k];
        }
    d->changed = changed;
    d->max_change = changed > 0 ? max_change : 0.0;
    d->max_at = max_at;
    return true;
}

/* Adds the entry of (part, name) to out, unless it is there or unnamed. */
static bool diff_add(TraceDiff *out, const Trace *a, const Trace *b, TracePart part, const char *name, Error *err)
{
    if (name[0] == '\0' || trace_diff_find(out, part, name) != NULL)
        return true;
    ATTN_ASSERT(out->n < (int)(sizeof out->tensors / sizeof out->tensors[0]));
    TensorDiff *d = &out->tensors[out->n++];
    memset(d, 0, sizeof *d);
    d->part = part;
    snprintf(d->name, sizeof d->name, "%s", name);
    d->a = owned(a, part, name);
    d->b = owned(b, part, name);
    if (!compare_tensors(d, err))
        return false;
    out->changed += d->changed;
    out->tensors_changed += d->changed > 0;
    return true;
}

bool trace_diff(const Trace *a, const Trace *b, TraceDiff *out, Error *err)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < b->n_owned; i++)
        if (!diff_add(out, a, b, b->owned[i].part, b->owned[i].name, err)) {
            trace_diff_free(out);
            return false;
        }
    for (int i = 0; i < a->n_owned; i++)
        if (!diff_add(out, a, b, a->owned[i].part, a->owned[i].name, err)) {
            trace_diff_free(out);
            return false;
        }
    return true;
}

void trace_diff_free(TraceDiff *diff)
{
    if (diff == NULL)
        return;
    memset(diff, 0, sizeof *diff);
}

const TensorDiff *trace_diff_find(const TraceDiff *diff, TracePart part, const char *name)
{
    for (int i = 0; i < diff->n; i++)
        if (diff->tensors[i].part == part && strcmp(diff->tensors[i].name, name) == 0)
            return &diff->tensors[i];
    return NULL;
}

const TensorDiff *trace_diff_for_tensor(const TraceDiff *diff, const Tensor *t)
{
    for (int i = 0; t != NULL && i < diff->n; i++)
        if (diff->tensors[i].a == t || diff->tensors[i].b == t)
            return &diff->tensors[i];
    return NULL;
}

bool trace_diff_cell_changed(const TensorDiff *d, size_t i)
{
    if (d == NULL)
        return false;
    if (!d->same_shape)
        return true;
    if (i >= d->cells || d->changed == 0)
        return false;
    uint32_t bx, by;
    memcpy(&bx, &d->a->data[i], sizeof bx);
    memcpy(&by, &d->b->data[i], sizeof by);
    return !same_bits(bx, by);
}
