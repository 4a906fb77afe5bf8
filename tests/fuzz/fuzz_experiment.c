/*
 * fuzz_experiment.c - experiment.c's parser: a list of changes as a
 * lesson's `experiment:` line, the x prompt and the flags spell them
 * (no-scale, scale=N, zero-head=H, swap-tokens=I,J, kv-cache[=P] and
 * set=[PART:]NAME[i,j,...]=VALUE), then the check against the article's
 * trace and, when it passes, the changed trace itself.
 *
 * The input up to its first NUL byte (or all of it, cut to TEXT_MAX) is
 * the text. The harness checks what experiment.h promises: a refusal has
 * a status, a one-line printable message and an offset inside the text,
 * and keeps the changes parsed before; a success holds at most
 * EXPERIMENT_MAX changes whose fields are in range, and whose canonical
 * spellings (experiment_describe) parse back to the same changes.
 * experiment_check then says yes or no on the article's default
 * configuration, and a yes must build (trace_build_experiments), unless a
 * set= has the wrong number of indices or one out of range: only the
 * build knows the shapes.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "experiment.h"
#include "fuzz.h"
#include "trace.h"

/* Most bytes of an input read as the text. */
#define TEXT_MAX 2048

/* The article's default configuration, made once. */
static const Config *the_config(void)
{
    static Config cfg;
    static bool made;
    if (!made) {
        Error err;
        error_clear(&err);
        FUZZ_CHECK(config_default(&cfg, &err), "config_default: %s", err.message);
        made = true;
    }
    return &cfg;
}

/* An error as error.h describes it: a status, one printable line, and an
 * offset (when given) no further than the end of text. */
static void check_error(const Error *err, const char *text, const char *what)
{
    FUZZ_CHECK(err->status != STATUS_OK, "%s failed without a status", what);
    FUZZ_CHECK(err->message[0] != '\0', "%s failed without a message", what);
    for (const char *c = err->message; *c != '\0'; c++)
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "%s: control byte in '%s'", what, err->message);
    FUZZ_CHECK(err->at == ERROR_AT_NONE || err->at <= strlen(text), "%s: offset %zu past the text's %zu bytes", what,
               err->at, strlen(text));
}

/* Whether two floats are one value (equal bits, or both NaN). */
static bool same_float(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

/* The fields of one parsed change are in range for its kind. */
static void check_change(const Experiment *e)
{
    size_t spec_len = strnlen(e->spec, sizeof e->spec);
    FUZZ_CHECK(spec_len > 0 && spec_len < sizeof e->spec, "a change's spelling is empty or not terminated");
    switch (e->kind) {
    case EXP_SCALE:
        FUZZ_CHECK(isfinite(e->scale) && e->scale != 0.0f, "%s: scale %g", e->spec, (double)e->scale);
        break;
    case EXP_SWAP_TOKENS:
        FUZZ_CHECK(e->token_a != e->token_b, "%s: one token twice", e->spec);
        break;
    case EXP_SET:
        FUZZ_CHECK(e->n_index >= 1 && e->n_index <= TENSOR_MAX_DIMS, "%s: %d indices", e->spec, e->n_index);
        FUZZ_CHECK(e->tensor[0] != '\0' && strnlen(e->tensor, sizeof e->tensor) < sizeof e->tensor,
                   "%s: tensor name empty or not terminated", e->spec);
        break;
    case EXP_NO_SCALE:
    case EXP_NO_MASK:
    case EXP_CAUSAL:
    case EXP_ZERO_HEAD:
    case EXP_NO_POSITIONS:
    case EXP_KV_CACHE:
        break;
    }
}

/* The spellings of set, parsed again, give the same changes (when none
 * was cut to fit its spec). */
static void check_round_trip(const ExperimentSet *set)
{
    for (int i = 0; i < set->n; i++)
        if (strlen(set->items[i].spec) + 1 >= sizeof set->items[i].spec)
            return; /* a long set= spelling may be cut; nothing to compare */
    char spelled[EXPERIMENT_MAX * EXPERIMENT_SPEC_BYTES];
    experiment_describe(set, spelled, sizeof spelled);
    ExperimentSet again;
    experiment_set_init(&again);
    Error err;
    error_clear(&err);
    FUZZ_CHECK(experiment_parse_list(&again, spelled, &err), "'%s' does not parse again: %s", spelled, err.message);
    FUZZ_CHECK(again.n == set->n, "'%s' parses to %d changes, not %d", spelled, again.n, set->n);
    for (int i = 0; i < set->n; i++) {
        const Experiment *a = &set->items[i], *b = &again.items[i];
        bool same = a->kind == b->kind && strcmp(a->spec, b->spec) == 0 && a->head == b->head &&
                    a->token_a == b->token_a && a->token_b == b->token_b && a->token == b->token &&
                    same_float(a->scale, b->scale) && a->has_part == b->has_part &&
                    (!a->has_part || a->part == b->part) && strcmp(a->tensor, b->tensor) == 0 &&
                    a->n_index == b->n_index && same_float(a->value, b->value);
        for (int d = 0; same && d < a->n_index; d++)
            same = a->index[d] == b->index[d];
        FUZZ_CHECK(same, "change %d, '%s', reads back as '%s'", i, a->spec, b->spec);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[TEXT_MAX + 1];
    size_t n = 0;
    while (n < size && n < TEXT_MAX && data[n] != 0) {
        text[n] = (char)data[n];
        n++;
    }
    text[n] = '\0';

    /* 1. parse: a refusal keeps what came before; a success is in range */
    ExperimentSet set;
    experiment_set_init(&set);
    Error err;
    error_clear(&err);
    bool ok = experiment_parse_list(&set, text, &err);
    FUZZ_CHECK(set.n >= 0 && set.n <= EXPERIMENT_MAX, "%d changes", set.n);
    for (int i = 0; i < set.n; i++)
        check_change(&set.items[i]);
    if (!ok) {
        check_error(&err, text, "experiment_parse_list");
        FUZZ_CHECK(err.status == STATUS_USAGE, "a bad change is a usage error, not status %d", (int)err.status);
        return 0;
    }
    check_round_trip(&set);

    /* 2. check against the article's trace; what passes must build */
    const Config *cfg = the_config();
    error_clear(&err);
    if (!experiment_check(&set, cfg, &err)) {
        check_error(&err, "", "experiment_check");
        return 0;
    }
    error_clear(&err);
    Trace *changed = trace_build_experiments(cfg, NULL, &set, &err);
    if (changed == NULL) { /* experiment_check knows names, not shapes: set= indices are checked as it is made */
        check_error(&err, "", "trace_build_experiments");
        FUZZ_CHECK(err.status == STATUS_USAGE && strncmp(err.message, "set=", 4) == 0 &&
                       (strstr(err.message, "out of range") != NULL || strstr(err.message, "dimension") != NULL),
                   "'%s' passes experiment_check but does not build: %s", text, err.message);
        return 0;
    }
    FUZZ_CHECK(set.n == 0 || (changed->config.experiments != NULL && changed->config.experiments->n == set.n),
               "the changed trace does not carry its %d changes", set.n);
    trace_free(changed);
    return 0;
}
