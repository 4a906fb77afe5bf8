/*
 * check_cli.c - table-driven tests of cli_parse: argv arrays in, either a
 * Config (checked field by field) or an error status and a message part out.
 *
 * Every test runs cli_parse through parse_snapshot(), which copies what it
 * needs into a plain struct and releases the Options before any assertion,
 * so a failing assertion (with CK_FORK=no) never leaks. Sentence files are
 * written to a fresh mkdtemp directory that is removed before asserting.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn_limits.h"
#include "cli.h"
#include "fixture.h"
#include "suites.h"

#define COUNT_OF(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* Most arguments (after argv[0]) any table row uses. */
#define MAX_ARGS 16
/* Most tokens a table row checks. */
#define MAX_CHECKED_TOKENS 8
/* Room kept for each copied token label and for the sentence. */
#define SNAP_TOKEN_BYTES 64
#define SNAP_SENTENCE_BYTES 256

/* ---------------------------------------------------------------------
 * Running cli_parse and keeping what it produced.
 * ------------------------------------------------------------------- */

typedef struct Snapshot {
    bool ok;
    int status;
    char message[ERROR_MESSAGE_BYTES];
    /* after a failure: did cli_parse leave opts->config released? */
    bool config_released;
    OutputMode mode;
    bool help, version;
    bool has_step;
    bool step_points_into_argv;
    char step[64];
    int precision;
    size_t n_tokens;
    long ids[MAX_CHECKED_TOKENS];
    char tokens[MAX_CHECKED_TOKENS][SNAP_TOKEN_BYTES];
    bool has_sentence;
    char sentence[SNAP_SENTENCE_BYTES];
    size_t sentence_len;
    size_t vocab_size, d_model, heads, focus;
    uint64_t seed;
    bool causal;
} Snapshot;

/* Copies at most size - 1 bytes of src into dst. */
static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

/* Runs cli_parse on argv[0..argc) and fills *s; releases the Options. */
static void parse_argv(int argc, char **argv, Snapshot *s)
{
    memset(s, 0, sizeof *s);
    Options opts;
    Error err;
    error_clear(&err);
    s->ok = cli_parse(argc, argv, &opts, &err);
    s->status = err.status;
    copy_text(s->message, sizeof s->message, err.message);
    if (!s->ok) {
        const Config *c = &opts.config;
        s->config_released = c->sentence == NULL && c->tokens == NULL && c->token_ids == NULL && c->n_tokens == 0;
        return;
    }
    s->mode = opts.mode;
    s->help = opts.help;
    s->version = opts.version;
    s->has_step = opts.step != NULL;
    if (opts.step != NULL) {
        copy_text(s->step, sizeof s->step, opts.step);
        for (int i = 1; i < argc; i++)
            if (opts.step >= argv[i] && opts.step <= argv[i] + strlen(argv[i]))
                s->step_points_into_argv = true;
    }
    s->precision = opts.precision;
    const Config *c = &opts.config;
    s->n_tokens = c->n_tokens;
    for (size_t i = 0; i < c->n_tokens && i < MAX_CHECKED_TOKENS; i++) {
        s->ids[i] = c->token_ids[i];
        copy_text(s->tokens[i], sizeof s->tokens[i], c->tokens[i]);
    }
    s->has_sentence = c->sentence != NULL;
    if (c->sentence != NULL) {
        copy_text(s->sentence, sizeof s->sentence, c->sentence);
        s->sentence_len = strlen(c->sentence);
    }
    s->vocab_size = c->vocab_size;
    s->d_model = c->d_model;
    s->heads = c->heads;
    s->focus = c->focus;
    s->seed = c->seed;
    s->causal = c->causal;
    cli_options_free(&opts);
}

/* Runs cli_parse on "attn-trace" followed by the NULL-terminated args. */
static void parse_snapshot(const char *const *args, Snapshot *s)
{
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)"attn-trace";
    for (int i = 0; args[i] != NULL && i < MAX_ARGS; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    parse_argv(argc, argv, s);
}

/* Fails unless the snapshot is an error with that status whose message is
 * one clean line containing part (when part is not NULL). */
static void assert_error(const Snapshot *s, const char *what, int status, const char *part)
{
    ck_assert_msg(!s->ok, "%s: expected an error (status %d), but cli_parse succeeded", what, status);
    ck_assert_msg(s->status == status, "%s: expected status %d, got %d (\"%s\")", what, status, s->status, s->message);
    ck_assert_msg(s->message[0] != '\0', "%s: empty error message", what);
    ck_assert_msg(strncmp(s->message, PROGRAM_NAME, strlen(PROGRAM_NAME)) != 0,
                  "%s: the message starts with the program name (main adds it): \"%s\"", what, s->message);
    ck_assert_msg(part == NULL || strstr(s->message, part) != NULL,
                  "%s: expected the message to contain \"%s\", got \"%s\"", what, part, s->message);
    ck_assert_msg(s->config_released, "%s: opts->config not released after a failure", what);
}

/* Fails unless the message has no control character (a newline would
 * break the one-line rule, an ESC would reach the terminal). */
static void assert_clean_message(const Snapshot *s, const char *what)
{
    for (const unsigned char *p = (const unsigned char *)s->message; *p != '\0'; p++)
        ck_assert_msg(*p >= 0x20 && *p != 0x7f,
                      "%s: the error message carries control character 0x%02x at byte %d: \"%s\"", what, *p,
                      (int)(p - (const unsigned char *)s->message) + 1, s->message);
}

/* ---------------------------------------------------------------------
 * Good command lines: the Options and Config they give.
 * ------------------------------------------------------------------- */

typedef struct GoodCase {
    const char *name;
    const char *args[MAX_ARGS + 1];
    OutputMode mode;
    int precision;
    const char *step;   /* NULL: no --step */
    bool help, version; /* when either is set, the Config is not checked */
    size_t n_tokens;
    long ids[MAX_CHECKED_TOKENS];
    const char *tokens[MAX_CHECKED_TOKENS];
    const char *sentence; /* NULL: the Config must have no sentence */
    size_t vocab, d_model, heads, focus;
    uint64_t seed;
    bool causal;
} GoodCase;

#define ARTICLE_TOKENS                                                                                                 \
    .n_tokens = 5, .ids = {2, 6, 8, 3, 1}, .tokens = {"my", "name", "is", "marcello", "politi"},                       \
    .sentence = "my name is Marcello Politi"
#define CAT_TOKENS                                                                                                     \
    .n_tokens = 5, .ids = {3, 0, 2, 3, 1}, .tokens = {"the", "cat", "saw", "the", "dog"},                              \
    .sentence = "The cat saw the dog"
#define SIZES(v, d, h, f) .vocab = (v), .d_model = (d), .heads = (h), .focus = (f)

static const GoodCase GOOD_CASES[] = {
    {"no arguments: the article", {NULL}, MODE_DEFAULT, 4, NULL, false, false, ARTICLE_TOKENS, SIZES(10, 16, 4, 1)},
    {"--print", {"--print", NULL}, MODE_PRINT, 4, NULL, false, false, ARTICLE_TOKENS, SIZES(10, 16, 4, 1)},
    {"--json", {"--json", NULL}, MODE_JSON, 4, NULL, false, false, ARTICLE_TOKENS, SIZES(10, 16, 4, 1)},
    {"--svg FILE --step",
     {"--svg", "a.svg", "--step", "mh_scores", NULL},
     MODE_SVG,
     4,
     "mh_scores",
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--print twice",
     {"--print", "--print", NULL},
     MODE_PRINT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--json twice", {"--json", "--json", NULL}, MODE_JSON, 4, NULL, false, false, ARTICLE_TOKENS, SIZES(10, 16, 4, 1)},
    {"--step ID",
     {"--step", "softmax", NULL},
     MODE_DEFAULT,
     4,
     "softmax",
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--step=ID",
     {"--step=softmax", "--print", NULL},
     MODE_PRINT,
     4,
     "softmax",
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--step N", {"--step", "8", NULL}, MODE_DEFAULT, 4, "8", false, false, ARTICLE_TOKENS, SIZES(10, 16, 4, 1)},
    /* cli_parse does not know the step ids: main checks them after the trace is built */
    {"--step unknown id is main's business",
     {"--step", "bogus", NULL},
     MODE_DEFAULT,
     4,
     "bogus",
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--precision 0",
     {"--precision", "0", NULL},
     MODE_DEFAULT,
     0,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--precision=9",
     {"--precision=9", NULL},
     MODE_DEFAULT,
     9,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--precision 07 (leading zero)",
     {"--precision", "07", NULL},
     MODE_DEFAULT,
     7,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    {"--sentence TEXT: the tokenization rule",
     {"--sentence", "The cat saw the dog", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     CAT_TOKENS,
     SIZES(4, 16, 4, 1)},
    {"--sentence=TEXT",
     {"--sentence=The cat saw the dog", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     CAT_TOKENS,
     SIZES(4, 16, 4, 1)},
    {"--sentence=TEXT keeps a later '='",
     {"--sentence=a=b c", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 2,
     .ids = {0, 1},
     .tokens = {"a=b", "c"},
     .sentence = "a=b c",
     SIZES(2, 16, 4, 1)},
    {"white space of every kind splits, uppercase ASCII is lowered",
     {"--sentence", "  b\tA\n a\r\v\fB  ", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 4,
     .ids = {1, 0, 0, 1},
     .tokens = {"b", "a", "a", "b"},
     .sentence = "b A a B",
     SIZES(2, 16, 4, 1)}, /* its words as given, one space apart */
    {"only ASCII is lowercased; vocabulary in byte order",
     {"--sentence", "\xc3\x89lan \xc3\xa9lan \xc3\x89LAN", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 3,
     .ids = {0, 1, 0},
     .tokens = {"\xc3\x89lan", "\xc3\xa9lan", "\xc3\x89lan"},
     .sentence = "\xc3\x89lan \xc3\xa9lan \xc3\x89LAN",
     SIZES(2, 16, 4, 1)},
    {"punctuation stays in the word ('!' sorts before ',')",
     {"--sentence", "Hi, hi!", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 2,
     .ids = {1, 0},
     .tokens = {"hi,", "hi!"},
     .sentence = "Hi, hi!",
     SIZES(2, 16, 4, 1)},
    {"a value that looks like a flag is taken as the value",
     {"--sentence", "--print", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 1,
     .ids = {0},
     .tokens = {"--print"},
     .sentence = "--print",
     SIZES(1, 16, 4, 1)},
    {"--sentence given twice: the last wins",
     {"--sentence", "x y", "--sentence", "The cat saw the dog", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     CAT_TOKENS,
     SIZES(4, 16, 4, 1)},
    {"--token-ids with a sentence of as many words label them",
     {"--sentence", "a b c", "--token-ids", "7,0 , 3", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 3,
     .ids = {7, 0, 3},
     .tokens = {"a", "b", "c"},
     .sentence = "a b c",
     SIZES(8, 16, 4, 1)},
    {"--token-ids=IDS before --sentence",
     {"--token-ids=1 0", "--sentence=x y", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 2,
     .ids = {1, 0},
     .tokens = {"x", "y"},
     .sentence = "x y",
     SIZES(2, 16, 4, 1)},
    {"--token-ids alone: ids label themselves, no sentence",
     {"--token-ids", "0 1", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 2,
     .ids = {0, 1},
     .tokens = {"0", "1"},
     .sentence = NULL,
     SIZES(2, 16, 4, 1)},
    /* config.h: "sentence ... NULL when only ids were given"; five ids must not
     * borrow the built-in article's five words as labels. */
    {"--token-ids alone with 5 ids: no article words, no sentence",
     {"--token-ids", "0 1 2 3 4", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 5,
     .ids = {0, 1, 2, 3, 4},
     .tokens = {"0", "1", "2", "3", "4"},
     .sentence = NULL,
     SIZES(5, 16, 4, 1)},
    {"--token-ids and --vocab-size",
     {"--token-ids", "1 2", "--vocab-size", "50", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 2,
     .ids = {1, 2},
     .tokens = {"1", "2"},
     .sentence = NULL,
     SIZES(50, 16, 4, 1)},
    {"--vocab-size=N larger than the sentence's words",
     {"--sentence", "a b", "--vocab-size=10", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 2,
     .ids = {0, 1},
     .tokens = {"a", "b"},
     .sentence = "a b",
     SIZES(10, 16, 4, 1)},
    {"largest token id with the largest vocabulary",
     {"--token-ids", "262143", "--vocab-size", "262144", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     .n_tokens = 1,
     .ids = {262143},
     .tokens = {"262143"},
     .sentence = NULL,
     SIZES(262144, 16, 4, 1)},
    {"--d-model N --heads N",
     {"--d-model", "32", "--heads", "8", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 32, 8, 1)},
    {"--d-model=N --heads=N",
     {"--d-model=8", "--heads=1", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 8, 1, 1)},
    {"smallest sizes",
     {"--d-model", "1", "--heads", "1", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 1, 1, 1)},
    {"largest sizes",
     {"--d-model", "4096", "--heads", "256", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 4096, 256, 1)},
    {"--heads given twice: the last wins",
     {"--heads", "2", "--heads", "8", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 8, 1)},
    {"--focus N", {"--focus", "3", NULL}, MODE_DEFAULT, 4, NULL, false, false, ARTICLE_TOKENS, SIZES(10, 16, 4, 3)},
    {"--focus=N, the last token",
     {"--focus=5", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 5)},
    {"--seed N",
     {"--seed", "42", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1),
     .seed = 42},
    {"--seed=0",
     {"--seed=0", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1),
     .seed = 0},
    {"--seed 2^64-1",
     {"--seed", "18446744073709551615", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1),
     .seed = UINT64_MAX},
    {"--seed 2^32+5",
     {"--seed=4294967301", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1),
     .seed = 4294967301u},
    {"--causal",
     {"--causal", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1),
     .causal = true},
    {"--export-npy DIR",
     {"--export-npy", "out", NULL},
     MODE_NPY,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 4, 1)},
    /* the files may still set d_model: the sizes are checked once they are read */
    {"--weights DIR leaves the sizes to the files",
     {"--weights=w", "--heads", "3", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     false,
     ARTICLE_TOKENS,
     SIZES(10, 16, 3, 1)},
    {"everything at once",
     {"--json", "--step=3", "--precision", "2", "--sentence", "The cat saw the dog", "--d-model=12", "--heads", "3",
      "--focus", "4", "--seed=7", "--causal", NULL},
     MODE_JSON,
     2,
     "3",
     false,
     false,
     CAT_TOKENS,
     SIZES(4, 12, 3, 4),
     .seed = 7,
     .causal = true},
    {"--help", {"--help", NULL}, MODE_DEFAULT, 4, NULL, true, false, .n_tokens = 0},
    {"-h", {"-h", NULL}, MODE_DEFAULT, 4, NULL, true, false, .n_tokens = 0},
    {"-V", {"-V", NULL}, MODE_DEFAULT, 4, NULL, false, true, .n_tokens = 0},
    {"--version", {"--version", NULL}, MODE_DEFAULT, 4, NULL, false, true, .n_tokens = 0},
    /* --help is honoured before the sizes are checked against each other */
    {"--help wins over sizes that do not fit",
     {"--heads", "3", "--help", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     true,
     false,
     .n_tokens = 0},
    {"--version wins over --sentence with --sentence-file",
     {"--sentence", "a", "--sentence-file", "/nonexistent", "--version", NULL},
     MODE_DEFAULT,
     4,
     NULL,
     false,
     true,
     .n_tokens = 0},
};

START_TEST(test_good)
{
    const GoodCase *g = &GOOD_CASES[_i];
    Snapshot s;
    parse_snapshot(g->args, &s);
    ck_assert_msg(s.ok, "%s: cli_parse failed (status %d): %s", g->name, s.status, s.message);
    ck_assert_msg(s.mode == g->mode, "%s: mode %d, expected %d", g->name, (int)s.mode, (int)g->mode);
    ck_assert_msg(s.help == g->help && s.version == g->version, "%s: help %d version %d, expected %d %d", g->name,
                  s.help, s.version, g->help, g->version);
    ck_assert_msg(s.precision == g->precision, "%s: precision %d, expected %d", g->name, s.precision, g->precision);
    if (g->step == NULL) {
        ck_assert_msg(!s.has_step, "%s: step '%s', expected none", g->name, s.step);
    } else {
        ck_assert_msg(s.has_step && strcmp(s.step, g->step) == 0, "%s: step '%s', expected '%s'", g->name,
                      s.has_step ? s.step : "(none)", g->step);
        ck_assert_msg(s.step_points_into_argv, "%s: opts->step does not point into argv", g->name);
    }
    if (g->help || g->version)
        return;
    ck_assert_msg(s.n_tokens == g->n_tokens, "%s: %zu tokens, expected %zu", g->name, s.n_tokens, g->n_tokens);
    for (size_t i = 0; i < g->n_tokens && i < MAX_CHECKED_TOKENS; i++) {
        ck_assert_msg(s.ids[i] == g->ids[i], "%s: token %zu has id %ld, expected %ld", g->name, i + 1, s.ids[i],
                      g->ids[i]);
        ck_assert_msg(strcmp(s.tokens[i], g->tokens[i]) == 0, "%s: token %zu is '%s', expected '%s'", g->name, i + 1,
                      s.tokens[i], g->tokens[i]);
    }
    if (g->sentence == NULL)
        ck_assert_msg(!s.has_sentence, "%s: sentence '%s', expected none (ids only)", g->name, s.sentence);
    else
        ck_assert_msg(s.has_sentence && strcmp(s.sentence, g->sentence) == 0, "%s: sentence '%s', expected '%s'",
                      g->name, s.has_sentence ? s.sentence : "(none)", g->sentence);
    ck_assert_msg(s.vocab_size == g->vocab, "%s: vocab_size %zu, expected %zu", g->name, s.vocab_size, g->vocab);
    ck_assert_msg(s.d_model == g->d_model, "%s: d_model %zu, expected %zu", g->name, s.d_model, g->d_model);
    ck_assert_msg(s.heads == g->heads, "%s: heads %zu, expected %zu", g->name, s.heads, g->heads);
    ck_assert_msg(s.focus == g->focus, "%s: focus %zu, expected %zu", g->name, s.focus, g->focus);
    ck_assert_msg(s.seed == g->seed, "%s: seed %llu, expected %llu", g->name, (unsigned long long)s.seed,
                  (unsigned long long)g->seed);
    ck_assert_msg(s.causal == g->causal, "%s: causal %d, expected %d", g->name, s.causal, g->causal);
}
END_TEST

/* ---------------------------------------------------------------------
 * Bad command lines: status and a part of the message.
 * ------------------------------------------------------------------- */

typedef struct BadCase {
    const char *name;
    const char *args[MAX_ARGS + 1];
    int status;
    const char *part; /* the message must contain it */
} BadCase;

#define U STATUS_USAGE
#define D STATUS_DATAERR
#define N STATUS_NOINPUT

static const BadCase BAD_CASES[] = {
    /* a missing value, for every flag that takes one */
    {"--step without a value", {"--step", NULL}, U, "--step: needs a value"},
    {"--precision without a value", {"--precision", NULL}, U, "--precision: needs a value"},
    {"--sentence without a value", {"--sentence", NULL}, U, "--sentence: needs a value"},
    {"--sentence-file without a value", {"--sentence-file", NULL}, U, "--sentence-file: needs a value"},
    {"--token-ids without a value", {"--print", "--token-ids", NULL}, U, "--token-ids: needs a value"},
    {"--vocab-size without a value", {"--vocab-size", NULL}, U, "--vocab-size: needs a value"},
    {"--d-model without a value", {"--d-model", NULL}, U, "--d-model: needs a value"},
    {"--heads without a value", {"--heads", NULL}, U, "--heads: needs a value"},
    {"--focus without a value", {"--focus", NULL}, U, "--focus: needs a value"},
    {"--seed without a value", {"--seed", NULL}, U, "--seed: needs a value"},
    {"--step= (empty)", {"--step=", NULL}, U, "--step"},
    {"--step '' (empty)", {"--step", "", NULL}, U, "--step"},
    {"--precision= (empty)", {"--precision=", NULL}, U, "--precision: expected a whole number"},
    {"--heads '' (empty)", {"--heads", "", NULL}, U, "--heads: expected a whole number"},
    /* not a number */
    {"--heads four", {"--heads", "four", NULL}, U, "--heads: expected a whole number from 1 to 256, got 'four'"},
    {"--d-model 16x", {"--d-model", "16x", NULL}, U, "--d-model: expected a whole number"},
    {"--precision 1.5", {"--precision", "1.5", NULL}, U, "--precision: expected a whole number"},
    {"--seed 0x10", {"--seed", "0x10", NULL}, U, "--seed: expected a whole number"},
    {"--seed 1e3", {"--seed=1e3", NULL}, U, "--seed: expected a whole number"},
    {"--focus ' 1' (leading space)", {"--focus", " 1", NULL}, U, "--focus: expected a whole number"},
    {"--focus '1 ' (trailing space)", {"--focus", "1 ", NULL}, U, "--focus: expected a whole number"},
    {"--vocab-size +5 (plus sign)", {"--vocab-size", "+5", NULL}, U, "--vocab-size: expected a whole number"},
    /* negative */
    {"--heads -1", {"--heads", "-1", NULL}, U, "--heads: expected a whole number from 1 to 256"},
    {"--d-model=-16", {"--d-model=-16", NULL}, U, "--d-model: expected a whole number from 1 to 4096"},
    {"--seed -1", {"--seed", "-1", NULL}, U, "--seed: expected a whole number"},
    {"--precision -1", {"--precision", "-1", NULL}, U, "--precision: expected a whole number from 0 to 9"},
    {"--focus -2", {"--focus", "-2", NULL}, U, "--focus: expected a whole number"},
    {"--vocab-size -3", {"--vocab-size=-3", NULL}, U, "--vocab-size: expected a whole number"},
    /* out of range */
    {"--heads 0", {"--heads", "0", NULL}, U, "--heads: expected a whole number from 1 to 256, got '0'"},
    {"--heads 257", {"--heads", "257", NULL}, U, "--heads: expected a whole number from 1 to 256, got '257'"},
    {"--heads=257", {"--heads=257", NULL}, U, "from 1 to 256"},
    {"--d-model 0", {"--d-model", "0", NULL}, U, "--d-model: expected a whole number from 1 to 4096"},
    {"--d-model 4097", {"--d-model", "4097", NULL}, U, "--d-model: expected a whole number from 1 to 4096"},
    {"--heads 99999999999999999999", {"--heads", "99999999999999999999", NULL}, U, "--heads: expected a whole number"},
    {"--d-model 99999999999999999999", {"--d-model=99999999999999999999", NULL}, U, "--d-model"},
    {"--heads 2^64+4 (no wrap-around)", {"--heads", "18446744073709551620", NULL}, U, "--heads"},
    {"--seed 2^64", {"--seed", "18446744073709551616", NULL}, U, "--seed: expected a whole number"},
    {"--seed 99999999999999999999", {"--seed", "99999999999999999999", NULL}, U, "--seed"},
    {"--precision 10", {"--precision", "10", NULL}, U, "--precision: expected a whole number from 0 to 9"},
    {"--focus 0", {"--focus", "0", NULL}, U, "--focus: expected a whole number from 1"},
    {"--focus 4097", {"--focus", "4097", NULL}, U, "--focus"},
    {"--vocab-size 0", {"--vocab-size", "0", NULL}, U, "--vocab-size: expected a whole number from 1 to 262144"},
    {"--vocab-size 262145", {"--vocab-size", "262145", NULL}, U, "--vocab-size"},
    /* output modes */
    {"--print --json", {"--print", "--json", NULL}, U, "--json cannot be used with --print"},
    {"--json --print", {"--json", "--print", NULL}, U, "--print cannot be used with --json"},
    {"--tui --print", {"--tui", "--print", NULL}, U, "--print cannot be used with --tui"},
    {"--dump-screen --json", {"--dump-screen", "-", "--json", NULL}, U, "--json cannot be used with --dump-screen"},
    {"--keys without --dump-screen", {"--keys", "q", NULL}, U, "--keys goes with --dump-screen"},
    {"--size without --dump-screen", {"--size", "80x24", NULL}, U, "--size goes with --dump-screen"},
    {"--size malformed", {"--dump-screen", "-", "--size", "80by24", NULL}, U, "--size: expected WIDTHxHEIGHT"},
    {"--size zero", {"--dump-screen", "-", "--size", "0x24", NULL}, U, "--size: expected WIDTHxHEIGHT"},
    {"--size huge", {"--dump-screen", "-", "--size", "100000x24", NULL}, U, "--size: expected WIDTHxHEIGHT"},
    {"--dump-screen empty", {"--dump-screen", "", NULL}, U, "--dump-screen: needs a file name"},
    {"--export-npy empty", {"--export-npy=", NULL}, U, "--export-npy: needs a directory"},
    {"--json --export-npy", {"--json", "--export-npy", "d", NULL}, U, "--export-npy cannot be used with --json"},
    {"--export-npy --print", {"--export-npy", "d", "--print", NULL}, U, "--print cannot be used with --export-npy"},
    {"--weights empty", {"--weights", "", NULL}, U, "--weights: needs a directory"},
    {"--svg empty", {"--svg=", NULL}, U, "--svg: needs a file name"},
    {"--svg --print", {"--svg", "a.svg", "--print", NULL}, U, "--print cannot be used with --svg"},
    {"--ascii with a value", {"--ascii=1", NULL}, U, "--ascii: takes no value"},
    /* flags that take no value */
    {"--print=yes", {"--print=yes", NULL}, U, "--print: takes no value"},
    {"--json=", {"--json=", NULL}, U, "--json: takes no value"},
    {"--causal=1", {"--causal=1", NULL}, U, "--causal: takes no value"},
    {"--help=x", {"--help=x", NULL}, U, "--help: takes no value"},
    /* unknown options */
    {"--bogus", {"--bogus", NULL}, U, "unknown option '--bogus'"},
    {"--bogus=1 names the flag only", {"--bogus=1", NULL}, U, "unknown option '--bogus'"},
    {"-x", {"-x", NULL}, U, "unknown option '-x'"},
    {"--Print (case matters)", {"--Print", NULL}, U, "unknown option '--Print'"},
    {"--sentance (typo)", {"--sentance", "a b", NULL}, U, "unknown option '--sentance'"},
    {"-hV (no bundling)", {"-hV", NULL}, U, "unknown option"},
    {"-- alone", {"--", NULL}, U, "unknown option"},
    {"--help with an unknown option", {"--help", "--bogus", NULL}, U, "unknown option '--bogus'"},
    {"--prin (no abbreviations)", {"--prin", NULL}, U, "unknown option"},
    /* positional arguments */
    /* one word is the LESSON; a second one is an error */
    {"two lessons", {"foo", "bar", NULL}, U, "unexpected argument 'bar': one LESSON at a time"},
    {"two lessons after flags", {"--print", "a.lesson", "my name", NULL}, U, "unexpected argument 'my name'"},
    {"a LESSON with --no-lesson", {"a.lesson", "--no-lesson", NULL}, U, "--no-lesson cannot be used with a LESSON"},
    {"--check without files", {"--check", NULL}, U, "--check: name the lesson files"},
    {"--notes without --print", {"--notes", NULL}, U, "--notes goes with --print and a lesson"},
    {"--no-answers with --no-lesson",
     {"--print", "--no-answers", "--no-lesson", NULL},
     U,
     "--no-answers goes with --print and a lesson"},
    {"--notes with --no-answers",
     {"--print", "--notes", "--no-answers", NULL},
     U,
     "--notes and --no-answers cannot be used together"},
    {"--autoplay zero", {"--autoplay", "0", NULL}, U, "--autoplay: expected seconds per step"},
    {"--autoplay not a number", {"--autoplay", "fast", NULL}, U, "--autoplay: expected seconds per step"},
    {"--theme unknown", {"--theme", "neon", NULL}, U, "--theme: expected 'default', 'presenter' or 'colorblind'"},
    {"--max-memory no unit", {"--max-memory", "5X", NULL}, U, "--max-memory: expected a size"},
    {"--max-memory zero", {"--max-memory", "0", NULL}, U, "--max-memory: expected a size"},
    {"--max-memory overflow", {"--max-memory", "99999999999999T", NULL}, U, "--max-memory: expected a size"},
    {"--max-memory negative", {"--max-memory", "-1G", NULL}, U, "--max-memory: expected a size"},
    /* flags that exclude each other */
    {"--sentence with --sentence-file",
     {"--sentence", "a b", "--sentence-file", "/nonexistent/x", NULL},
     U,
     "--sentence and --sentence-file cannot be used together"},
    {"--sentence-file= with --sentence=",
     {"--sentence-file=/nonexistent/x", "--sentence=a", NULL},
     U,
     "cannot be used together"},
    {"--token-ids fewer than the words",
     {"--sentence", "a b c", "--token-ids", "1 2", NULL},
     U,
     "--token-ids gives 2 ids but the sentence has 3 words"},
    {"--token-ids more than the words",
     {"--token-ids", "1 2 3 4", "--sentence", "a b", NULL},
     U,
     "4 ids but the sentence has 2 words"},
    /* sizes that do not fit together */
    {"--heads 3 does not divide 16", {"--heads", "3", NULL}, D, "heads 3 does not divide d_model 16"},
    {"--heads 32 does not divide 16", {"--heads", "32", NULL}, D, "does not divide"},
    {"--d-model 10 --heads 4", {"--d-model", "10", "--heads=4", NULL}, D, "heads 4 does not divide d_model 10"},
    {"--focus 6 beyond 5 tokens", {"--focus", "6", NULL}, D, "focus token 6 is outside 1..5"},
    {"--focus 3 beyond 2 words", {"--sentence", "a b", "--focus", "3", NULL}, D, "outside 1..2"},
    {"--focus 3 beyond 2 ids", {"--token-ids", "0 0", "--focus=3", NULL}, D, "focus"},
    {"a token id equal to --vocab-size",
     {"--token-ids", "0 5", "--vocab-size", "5", NULL},
     D,
     "token id 5 (token 2) is not below the vocabulary size 5"},
    {"a token id above --vocab-size", {"--token-ids=9", "--vocab-size=3", NULL}, D, "token id 9"},
    {"--vocab-size below the sentence's words",
     {"--sentence", "a b", "--vocab-size", "1", NULL},
     D,
     "not below the vocabulary size 1"},
    {"--token-ids 262144 (past the largest vocabulary)", {"--token-ids", "262144", NULL}, D, "262144"},
    /* token ids that are not ids */
    {"--token-ids with a word", {"--token-ids", "1 x", NULL}, D, "column 3"},
    {"--token-ids negative", {"--token-ids", "-1", NULL}, D, "--token-ids: column 1: expected a token id"},
    {"--token-ids 1.5", {"--token-ids", "1.5", NULL}, D, "--token-ids: column 1: expected a token id"},
    {"--token-ids empty", {"--token-ids", "", NULL}, D, "--token-ids: no token ids given"},
    {"--token-ids only separators", {"--token-ids", " , ,", NULL}, D, "no token ids given"},
    {"--token-ids huge", {"--token-ids", "99999999999999999999", NULL}, D, "too large"},
    /* sentences that are not valid */
    {"--sentence empty", {"--sentence", "", NULL}, D, "empty"},
    {"--sentence= empty", {"--sentence=", NULL}, D, "empty"},
    {"--sentence of only spaces", {"--sentence", "   \t  ", NULL}, D, "empty"},
    {"--sentence with ESC (an escape sequence)",
     {"--sentence", "a \x1b[31mred", NULL},
     D,
     "--sentence: column 3: control character 0x1B"},
    {"--sentence with BEL", {"--sentence", "a\ab", NULL}, D, "control character"},
    {"--sentence with DEL", {"--sentence", "a\x7f", NULL}, D, "control character"},
    /* U+009B is CSI, a C1 control character: config.h refuses control
     * characters "so that no escape sequence reaches a terminal" */
    {"--sentence with C1 CSI (U+009B)",
     {"--sentence",
      "a \xc2\x9b"
      "31m",
      NULL},
     D,
     "control character"},
    {"--sentence with a Latin-1 byte", {"--sentence", "caf\xe9", NULL}, D, "--sentence: column 4: invalid UTF-8"},
    {"--sentence with a lone continuation byte", {"--sentence", "\x80", NULL}, D, "invalid UTF-8"},
    {"--sentence with an overlong '/'", {"--sentence", "a\xc0\xaf", NULL}, D, "--sentence: column 2: invalid UTF-8"},
    {"--sentence with a surrogate", {"--sentence", "\xed\xa0\x80", NULL}, D, "invalid UTF-8"},
    {"--sentence past U+10FFFF", {"--sentence", "\xf4\x90\x80\x80", NULL}, D, "invalid UTF-8"},
    {"--sentence with a truncated sequence",
     {"--sentence", "ab\xe2\x82", NULL},
     D,
     "--sentence: column 3: invalid UTF-8"},
    {"--sentence with 0xFF", {"--sentence", "x \xff", NULL}, D, "invalid UTF-8"},
    /* files */
    {"--sentence-file missing",
     {"--sentence-file", "/nonexistent/attn-trace-test", NULL},
     N,
     "/nonexistent/attn-trace-test: cannot open"},
    {"--sentence-file= missing", {"--sentence-file=/nonexistent/attn-trace-test", NULL}, N, "cannot open"},
};

#undef U
#undef D
#undef N

START_TEST(test_bad)
{
    const BadCase *b = &BAD_CASES[_i];
    Snapshot s;
    parse_snapshot(b->args, &s);
    assert_error(&s, b->name, b->status, b->part);
    assert_clean_message(&s, b->name);
}
END_TEST

/* ---------------------------------------------------------------------
 * Error messages must stay one clean line whatever the user typed:
 * they echo flags, values and paths.
 * ------------------------------------------------------------------- */

static const BadCase ECHO_CASES[] = {
    {"unknown option with a newline", {"--bo\ngus", NULL}, STATUS_USAGE, "unknown option"},
    {"unknown option with an escape sequence", {"--\x1b[2J\x1b[31mred", NULL}, STATUS_USAGE, "unknown option"},
    {"second argument with a newline", {"x", "a\nb", NULL}, STATUS_USAGE, "unexpected argument"},
    {"number with a newline", {"--heads", "1\n2", NULL}, STATUS_USAGE, "--heads"},
    {"number with an escape sequence", {"--seed=\x1b]0;pwned\x07", NULL}, STATUS_USAGE, "--seed"},
    {"sentence file path with a newline",
     {"--sentence-file", "/nonexistent/a\nb", NULL},
     STATUS_NOINPUT,
     "cannot open"},
};

START_TEST(test_echo_is_clean)
{
    const BadCase *b = &ECHO_CASES[_i];
    Snapshot s;
    parse_snapshot(b->args, &s);
    assert_error(&s, b->name, b->status, b->part);
    assert_clean_message(&s, b->name);
}
END_TEST

/* A long unknown option is cut short in the message, not overflowed. */
START_TEST(test_long_unknown_option)
{
    char arg[2048];
    memset(arg, 'x', sizeof arg - 1);
    arg[0] = '-';
    arg[1] = '-';
    arg[sizeof arg - 1] = '\0';
    char *argv[] = {(char *)"attn-trace", arg, NULL};
    Snapshot s;
    parse_argv(2, argv, &s);
    assert_error(&s, "a 2 KiB unknown option", STATUS_USAGE, "unknown option '--xxxx");
    ck_assert_uint_lt(strlen(s.message), 200);

    /* the same with '=': the flag part is cut to the flag buffer (which
     * option the message names is test_bad's "--bogus=1" row) */
    arg[100] = '=';
    parse_argv(2, argv, &s);
    assert_error(&s, "a 2 KiB unknown --flag=value", STATUS_USAGE, NULL);
    ck_assert_uint_lt(strlen(s.message), 200);
}
END_TEST

/* ---------------------------------------------------------------------
 * Sizes of a --sentence argument.
 * ------------------------------------------------------------------- */

/* A malloc'd sentence of n copies of word separated by single spaces. */
static char *repeat_words(const char *word, size_t n)
{
    size_t len = strlen(word);
    char *text = malloc(n * (len + 1) + 1);
    ck_assert_ptr_nonnull(text);
    char *p = text;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, word, len);
        p += len;
        *p++ = ' ';
    }
    *p = '\0';
    return text;
}

/* Parses --sentence text (and the extra NULL-terminated args), then frees text. */
static void parse_sentence_and_free(char *text, const char *extra, const char *extra_value, Snapshot *s)
{
    char *argv[] = {(char *)"attn-trace", (char *)"--sentence", text, (char *)extra, (char *)extra_value, NULL};
    int argc = extra == NULL ? 3 : extra_value == NULL ? 4 : 5;
    parse_argv(argc, argv, s);
    free(text);
}

START_TEST(test_sentence_limits)
{
    Snapshot s;
    /* 4096 words: the limit, accepted; the focus may be the last one */
    parse_sentence_and_free(repeat_words("w", LIMIT_MAX_TOKENS), "--focus", "4096", &s);
    ck_assert_msg(s.ok, "4096 words: %s", s.message);
    ck_assert_uint_eq(s.n_tokens, LIMIT_MAX_TOKENS);
    ck_assert_uint_eq(s.vocab_size, 1);
    ck_assert_uint_eq(s.focus, 4096);

    parse_sentence_and_free(repeat_words("w", LIMIT_MAX_TOKENS + 1), NULL, NULL, &s);
    assert_error(&s, "4097 words", STATUS_DATAERR, "more than 4096 words");

    /* a word of 256 bytes is accepted, 257 is not */
    char *word = malloc(LIMIT_MAX_WORD_BYTES + 2);
    ck_assert_ptr_nonnull(word);
    memset(word, 'a', LIMIT_MAX_WORD_BYTES + 1);
    word[LIMIT_MAX_WORD_BYTES] = '\0';
    char *text = repeat_words(word, 1);
    word[LIMIT_MAX_WORD_BYTES] = 'a';
    word[LIMIT_MAX_WORD_BYTES + 1] = '\0';
    char *longer = repeat_words(word, 1);
    free(word);
    Snapshot s_longer;
    parse_sentence_and_free(text, NULL, NULL, &s);
    parse_sentence_and_free(longer, NULL, NULL, &s_longer);
    ck_assert_msg(s.ok, "a 256-byte word: %s", s.message);
    assert_error(&s_longer, "a 257-byte word", STATUS_DATAERR, "longer than 256 bytes");

    /* a sentence past LIMIT_MAX_SENTENCE_BYTES */
    size_t big = (size_t)LIMIT_MAX_SENTENCE_BYTES + 1;
    char *huge = malloc(big + 1);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'a', big);
    huge[big] = '\0';
    parse_sentence_and_free(huge, NULL, NULL, &s);
    assert_error(&s, "a sentence of 1 MiB + 1 bytes", STATUS_DATAERR, "longer than");
}
END_TEST

/* --token-ids: 4096 ids are accepted, 4097 are not. */
START_TEST(test_token_id_limits)
{
    Snapshot s;
    char *ids = repeat_words("0", LIMIT_MAX_TOKENS);
    char *argv[] = {(char *)"attn-trace", (char *)"--token-ids", ids, NULL};
    parse_argv(3, argv, &s);
    free(ids);
    ck_assert_msg(s.ok, "4096 ids: %s", s.message);
    ck_assert_uint_eq(s.n_tokens, LIMIT_MAX_TOKENS);

    ids = repeat_words("0", LIMIT_MAX_TOKENS + 1);
    argv[2] = ids;
    parse_argv(3, argv, &s);
    free(ids);
    assert_error(&s, "4097 ids", STATUS_DATAERR, "more than 4096 ids");
}
END_TEST

/* ---------------------------------------------------------------------
 * --sentence-file: temporary files in a mkdtemp directory.
 * ------------------------------------------------------------------- */

typedef struct FileCase {
    const char *name;
    const char *content;
    size_t len;           /* bytes of content (it may hold NUL) */
    const char *extra[4]; /* more arguments, NULL-terminated */
    int status;           /* 0: success expected */
    const char *part;     /* the message must contain it (after the path) */
    bool names_file;      /* the message must carry the file's path */
    /* on success */
    size_t n_tokens;
    long ids[MAX_CHECKED_TOKENS];
    const char *tokens[MAX_CHECKED_TOKENS];
    const char *sentence;
    size_t vocab;
} FileCase;

#define TEXT(s) (s), sizeof(s) - 1
#define A16 "aaaaaaaaaaaaaaaa"
#define A256 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16

static const FileCase FILE_CASES[] = {
    {"a good multi-line file",
     TEXT("The cat\nsaw the\r\n\tdog\n"),
     {NULL},
     0,
     NULL,
     false,
     5,
     {3, 0, 2, 3, 1},
     {"the", "cat", "saw", "the", "dog"},
     "The cat saw the dog",
     4},
    {"a file without a final newline", TEXT("one"), {NULL}, 0, NULL, false, 1, {0}, {"one"}, "one", 1},
    {"a file with a UTF-8 BOM: the BOM is dropped",
     TEXT("\xef\xbb\xbfHello world\n"),
     {NULL},
     0,
     NULL,
     false,
     2,
     {0, 1},
     {"hello", "world"},
     "Hello world",
     2},
    {"a file and --token-ids of as many words",
     TEXT("a b\n"),
     {"--token-ids", "5 6", NULL},
     0,
     NULL,
     false,
     2,
     {5, 6},
     {"a", "b"},
     "a b",
     7},
    {"an empty file", TEXT(""), {NULL}, STATUS_DATAERR, "empty", true, 0, {0}, {NULL}, NULL, 0},
    {"a file with only a BOM", TEXT("\xef\xbb\xbf"), {NULL}, STATUS_DATAERR, "empty", true, 0, {0}, {NULL}, NULL, 0},
    {"a file of blank lines", TEXT("\n  \n\t\n"), {NULL}, STATUS_DATAERR, "empty", true, 0, {0}, {NULL}, NULL, 0},
    {"a NUL byte",
     TEXT("ab\0cd\n"),
     {NULL},
     STATUS_DATAERR,
     ":1:3: a NUL byte is not allowed",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"invalid UTF-8 on line 3",
     TEXT("one two\nthree\nab\xff"
          "cd\n"),
     {NULL},
     STATUS_DATAERR,
     ":3:3: invalid UTF-8",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"invalid UTF-8 on line 3 after a two-byte character",
     TEXT("x\nzz\n\xc3\xa9\xff\n"),
     {NULL},
     STATUS_DATAERR,
     ":3:2: invalid UTF-8",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"a truncated sequence at the end of the file",
     TEXT("ok\nab\xe2\x82"),
     {NULL},
     STATUS_DATAERR,
     ":2:3: invalid UTF-8",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"ESC on line 2",
     TEXT("fine\n\x1b[31mred\n"),
     {NULL},
     STATUS_DATAERR,
     ":2:1: control character",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"a BOM does not count as a column",
     TEXT("\xef\xbb\xbf"
          "ab\x07"),
     {NULL},
     STATUS_DATAERR,
     ":1:3: control character",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    /* a word past LIMIT_MAX_WORD_BYTES starting at line 2, column 1 */
    {"a 257-byte word on line 2",
     TEXT("ok\n" A256 "a\n"),
     {NULL},
     STATUS_DATAERR,
     "longer than 256 bytes",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"a 257-byte word on line 2 is at :2:1:",
     TEXT("ok\n" A256 "a\n"),
     {NULL},
     STATUS_DATAERR,
     ":2:1:",
     true,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"a file and --token-ids of fewer ids",
     TEXT("a b c\n"),
     {"--token-ids", "1", NULL},
     STATUS_USAGE,
     "1 ids but the sentence has 3 words",
     false,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"a file and --sentence",
     TEXT("a b\n"),
     {"--sentence", "c", NULL},
     STATUS_USAGE,
     "cannot be used together",
     false,
     0,
     {0},
     {NULL},
     NULL,
     0},
    {"a file and --focus beyond it",
     TEXT("a b\n"),
     {"--focus", "3", NULL},
     STATUS_DATAERR,
     "outside 1..2",
     false,
     0,
     {0},
     {NULL},
     NULL,
     0},
};

/* A fresh scratch directory (fixture_temp_dir). */
static void make_temp_dir(char *path, size_t size)
{
    ck_assert_msg(fixture_temp_dir(path, size, "cli"), "mkdtemp(%s) failed", path);
}

/* Writes len bytes to path. */
static bool write_file(const char *path, const char *content, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return false;
    bool ok = fwrite(content, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* Writes content to DIR/sentence.txt, parses --sentence-file with extra
 * arguments, removes the file and the directory; path receives the file's
 * name (for the assertions). */
static void parse_file(const char *content, size_t len, const char *const *extra, Snapshot *s, char *path,
                       size_t path_size)
{
    char dir[512];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, path_size, "%s/sentence.txt", dir);
    bool written = write_file(path, content, len);
    if (written) {
        char *argv[MAX_ARGS + 4];
        int argc = 0;
        argv[argc++] = (char *)"attn-trace";
        argv[argc++] = (char *)"--sentence-file";
        argv[argc++] = path;
        for (int i = 0; extra != NULL && extra[i] != NULL && i < MAX_ARGS; i++)
            argv[argc++] = (char *)extra[i];
        argv[argc] = NULL;
        parse_argv(argc, argv, s);
    }
    unlink(path);
    rmdir(dir);
    ck_assert_msg(written, "cannot write %s", path);
}

START_TEST(test_file)
{
    const FileCase *f = &FILE_CASES[_i];
    Snapshot s;
    char path[600];
    parse_file(f->content, f->len, f->extra, &s, path, sizeof path);
    if (f->status != 0) {
        assert_error(&s, f->name, f->status, f->part);
        assert_clean_message(&s, f->name);
        if (f->names_file)
            ck_assert_msg(strstr(s.message, path) != NULL, "%s: the message does not name the file %s: \"%s\"", f->name,
                          path, s.message);
        return;
    }
    ck_assert_msg(s.ok, "%s: cli_parse failed (status %d): %s", f->name, s.status, s.message);
    ck_assert_msg(s.n_tokens == f->n_tokens, "%s: %zu tokens, expected %zu", f->name, s.n_tokens, f->n_tokens);
    for (size_t i = 0; i < f->n_tokens; i++) {
        ck_assert_msg(s.ids[i] == f->ids[i], "%s: token %zu has id %ld, expected %ld", f->name, i + 1, s.ids[i],
                      f->ids[i]);
        ck_assert_msg(strcmp(s.tokens[i], f->tokens[i]) == 0, "%s: token %zu is '%s', expected '%s'", f->name, i + 1,
                      s.tokens[i], f->tokens[i]);
    }
    ck_assert_msg(s.has_sentence && strcmp(s.sentence, f->sentence) == 0, "%s: sentence '%s', expected '%s'", f->name,
                  s.has_sentence ? s.sentence : "(none)", f->sentence);
    ck_assert_msg(s.vocab_size == f->vocab, "%s: vocab_size %zu, expected %zu", f->name, s.vocab_size, f->vocab);
}
END_TEST

/* Errors found after the file was read (too many words, a long word) must
 * still name the file, as the FILE:LINE:COL errors do. */
START_TEST(test_file_word_limits_name_the_file)
{
    Snapshot s;
    char path[600];
    char *words = repeat_words("w", LIMIT_MAX_TOKENS + 1);
    parse_file(words, strlen(words), NULL, &s, path, sizeof path);
    free(words);
    assert_error(&s, "a file of 4097 words", STATUS_DATAERR, "more than 4096 words");
    ck_assert_msg(strstr(s.message, path) != NULL, "a file of 4097 words: the message does not name the file: \"%s\"",
                  s.message);
}
END_TEST

START_TEST(test_file_too_large)
{
    size_t big = (size_t)LIMIT_MAX_SENTENCE_BYTES + 1;
    char *text = malloc(big);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < big; i++)
        text[i] = i % 2 == 0 ? 'a' : '\n';
    Snapshot s;
    char path[600];
    parse_file(text, big, NULL, &s, path, sizeof path);
    free(text);
    assert_error(&s, "a file of 1 MiB + 1 bytes", STATUS_DATAERR, "larger than");
    ck_assert_msg(strstr(s.message, path) != NULL, "the message does not name the file: \"%s\"", s.message);
}
END_TEST

/* A directory is not a sentence file: 66, naming the path. */
START_TEST(test_file_is_directory)
{
    char dir[512];
    make_temp_dir(dir, sizeof dir);
    const char *args[] = {"--sentence-file", dir, NULL};
    Snapshot s;
    parse_snapshot(args, &s);
    rmdir(dir);
    assert_error(&s, "a directory", STATUS_NOINPUT, dir);
    assert_clean_message(&s, "a directory");
}
END_TEST

/* A file without read permission: 66. Root reads it anyway, so skip there. */
START_TEST(test_file_unreadable)
{
    if (geteuid() == 0)
        return;
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/secret.txt", dir);
    bool written = write_file(path, "a b", 3) && chmod(path, 0) == 0;
    Snapshot s;
    const char *args[] = {"--sentence-file", path, NULL};
    if (written)
        parse_snapshot(args, &s);
    unlink(path);
    rmdir(dir);
    ck_assert_msg(written, "cannot prepare %s", path);
    assert_error(&s, "an unreadable file", STATUS_NOINPUT, "cannot open");
}
END_TEST

/* ---------------------------------------------------------------------
 * The usage text.
 * ------------------------------------------------------------------- */

/* --help is short: the usage line, the most used flags with a line each,
 * every other flag by name, and a pointer to the manual, which documents
 * every flag (tests/docs_test.sh checks that): all on one 80x25 screen. */
START_TEST(test_usage_is_short_and_points_to_the_manual)
{
    static const char *const flags[] = {
        "--print", "--json", "--step",    "--sentence", "--d-model", "--heads",        "--causal",
        "--help",  "-h",     "--version", "-V",         "--check",   "--list-lessons",
    };
    const char *usage = cli_usage();
    ck_assert_ptr_nonnull(usage);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        ck_assert_msg(strstr(usage, flags[i]) != NULL, "--help does not mention %s", flags[i]);
    ck_assert_msg(strncmp(usage, "usage: attn-trace", 17) == 0, "usage starts with \"%.20s\"", usage);
    ck_assert_msg(strstr(usage, "man attn-trace") != NULL && strstr(usage, "attn-trace(1)") != NULL,
                  "--help does not point to the manual");
    int lines = 0;
    size_t widest = 0;
    for (const char *line = usage; *line != '\0'; lines++) {
        size_t len = strcspn(line, "\n");
        if (len > widest)
            widest = len;
        line += len + (line[len] == '\n');
    }
    ck_assert_msg(lines >= 15 && lines <= 25, "--help has %d lines, expected 15 to 25", lines);
    /* issue 15, defect 10: every flag of the table is named (--focus was not) */
    for (size_t i = 0; i < cli_flag_count(); i++) {
        char word[64];
        snprintf(word, sizeof word, " %s ", cli_flag(i)->name);
        bool named = strstr(usage, word) != NULL;
        snprintf(word, sizeof word, " %s\n", cli_flag(i)->name);
        named |= strstr(usage, word) != NULL;
        ck_assert_msg(named, "--help does not name %s", cli_flag(i)->name);
    }
    ck_assert_msg(widest <= 80, "--help has a line of %zu columns, expected at most 80", widest);
}
END_TEST

/* cli_options_free(NULL) is a no-op; freeing twice is harmless. */
START_TEST(test_options_free)
{
    cli_options_free(NULL);
    Options opts;
    Error err;
    error_clear(&err);
    char *argv[] = {(char *)"attn-trace", (char *)"--sentence", (char *)"a b", NULL};
    ck_assert(cli_parse(3, argv, &opts, &err));
    cli_options_free(&opts);
    cli_options_free(&opts);
    ck_assert_ptr_null(opts.config.tokens);
}
END_TEST

/* ---------------------------------------------------------------------
 * The flag table: well formed, every row parses, and the manual and the
 * bash completion name exactly its flags.
 * ------------------------------------------------------------------- */

/* Where the manual, the completion and the README are: $ATTN_SOURCE_DIR
 * (the repository's top), else the current directory. */
static void source_path(char *path, size_t size, const char *name)
{
    const char *top = getenv("ATTN_SOURCE_DIR");
    snprintf(path, size, "%s/%s", top != NULL && top[0] != '\0' ? top : ".", name);
}

/* The whole file name (under source_path) as a malloc'd string; fails the
 * test when it cannot be read. The caller frees it. */
static char *read_source(const char *name)
{
    char path[1024];
    source_path(path, sizeof path, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (run the tests from the repository's top)", path);
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    for (size_t n; (n = fread(text + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (len + 1 == cap) {
            cap *= 2;
            text = realloc(text, cap);
            ck_assert_ptr_nonnull(text);
        }
    }
    fclose(f);
    text[len] = '\0';
    return text;
}

/* Most words a list below keeps, and the room for each. */
#define MAX_WORDS 256
#define WORD_BYTES 64

typedef struct Words {
    int n;
    char word[MAX_WORDS][WORD_BYTES];
} Words;

static void words_add(Words *w, const char *word, size_t len)
{
    ck_assert_msg(w->n < MAX_WORDS && len < WORD_BYTES, "too many or too long words (at '%.*s')", (int)len, word);
    memcpy(w->word[w->n], word, len);
    w->word[w->n][len] = '\0';
    w->n++;
}

static bool words_have(const Words *w, const char *word)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->word[i], word) == 0)
            return true;
    return false;
}

/* The flags the manual names: the word after each "Fl" on a macro line
 * (".It Fl -print", ".Op Fl h"), as "-" followed by it ("--print", "-h").
 * With entries_only, only the .It lines: the flags the manual documents. */
static void man_flags(const char *man, bool entries_only, Words *out)
{
    out->n = 0;
    for (const char *line = man; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        if (line[0] == '.' && (!entries_only || strncmp(line, ".It ", 4) == 0)) {
            for (const char *p = line; p < line + len;) {
                p += strspn(p, " ");
                size_t word = strcspn(p, " \n");
                size_t skip = p == line ? 1 : 0; /* "Fl" inside a line, ".Fl" opening one */
                if (word == 2 + skip && strncmp(p + skip, "Fl", 2) == 0) {
                    const char *flag = p + word + 1;
                    size_t flag_len = p + word < line + len ? strcspn(flag, " \n") : 0;
                    char name[WORD_BYTES];
                    if (flag_len > 0 && flag_len + 1 < sizeof name) {
                        snprintf(name, sizeof name, "-%.*s", (int)flag_len, flag);
                        if (!words_have(out, name))
                            words_add(out, name, strlen(name));
                    }
                }
                p += word;
            }
        }
        line += len + (line[len] == '\n');
    }
}

/* The words of the completion's shell variable var='...'. */
static void completion_list(const char *completion, const char *var, Words *out)
{
    char start[128];
    snprintf(start, sizeof start, "\n%s='", var);
    const char *p = strstr(completion, start);
    ck_assert_msg(p != NULL, "the completion has no %s='...' list", var);
    p += strlen(start);
    const char *end = strchr(p, '\'');
    ck_assert_ptr_nonnull(end);
    out->n = 0;
    while (p < end) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n'");
        if (len > 0)
            words_add(out, p, len);
        p += len;
    }
}

/* The row of the table named (long name or alias) name, or NULL. */
static const CliFlag *table_row(const char *name)
{
    for (size_t i = 0; i < cli_flag_count(); i++) {
        const CliFlag *flag = cli_flag(i);
        if (strcmp(flag->name, name) == 0 || (flag->alias != NULL && strcmp(flag->alias, name) == 0))
            return flag;
    }
    return NULL;
}

/* Names and aliases are unique, well formed, and their help lines fit. */
START_TEST(test_table_is_well_formed)
{
    size_t n = cli_flag_count();
    ck_assert_msg(n >= 30, "the table has %zu rows", n);
    ck_assert_ptr_null(cli_flag(n));
    for (size_t i = 0; i < n; i++) {
        const CliFlag *a = cli_flag(i);
        ck_assert_msg(strncmp(a->name, "--", 2) == 0 && strlen(a->name) > 2 && strchr(a->name, '=') == NULL,
                      "row %zu: '%s' is not a long flag name", i, a->name);
        ck_assert_msg(a->alias == NULL ||
                          (a->alias[0] == '-' && a->alias[1] != '-' && a->alias[1] != '\0' && a->alias[2] == '\0'),
                      "%s: alias '%s' is not a dash and one letter", a->name, a->alias);
        ck_assert_msg(a->handle != NULL, "%s has no handler", a->name);
        ck_assert_msg(cli_flag_find(a->name) == a, "cli_flag_find(%s) is not its row", a->name);
        if (a->alias != NULL)
            ck_assert_msg(cli_flag_find(a->alias) == a, "cli_flag_find(%s) is not its row", a->alias);
        if (a->help != NULL) /* "  " + the 22 columns of names + the help, in 80 columns */
            ck_assert_msg(strlen(a->help) <= 80 - 24, "%s: its help line is %zu characters", a->name, strlen(a->help));
        for (size_t k = i + 1; k < n; k++) {
            const CliFlag *b = cli_flag(k);
            ck_assert_msg(strcmp(a->name, b->name) != 0, "%s is in the table twice (rows %zu and %zu)", a->name, i, k);
            ck_assert_msg(a->alias == NULL || b->alias == NULL || strcmp(a->alias, b->alias) != 0,
                          "alias %s is in the table twice", a->alias);
        }
    }
    ck_assert_ptr_null(cli_flag_find("--bogus"));
    ck_assert_ptr_null(cli_flag_find("--prin"));
    ck_assert_ptr_null(cli_flag_find("-x"));
    ck_assert_ptr_null(cli_flag_find(NULL));
}
END_TEST

/* A valid use of each flag, kept by hand (an independent list): the flag,
 * its argument ("@file": a sentence file made for the test; NULL for a
 * switch), and arguments it needs beside it, given in both runs. */
typedef struct FlagUse {
    const char *name;
    const char *value;
    const char *with[3];
} FlagUse;

static const FlagUse FLAG_USES[] = {
    {"--print", NULL, {NULL}},
    {"--json", NULL, {NULL}},
    {"--tui", NULL, {NULL}},
    {"--line-mode", NULL, {NULL}},
    {"--svg", "out.svg", {NULL}},
    {"--export-npy", "npy-dir", {NULL}},
    {"--export-py", "verify.py", {NULL}},
    {"--step", "softmax", {NULL}},
    {"--precision", "3", {NULL}},
    {"--sentence", "a b c", {NULL}},
    {"--sentence-file", "@file", {NULL}},
    {"--token-ids", "1 2 3", {NULL}},
    {"--vocab-size", "50", {NULL}},
    {"--d-model", "32", {NULL}},
    {"--heads", "2", {NULL}},
    {"--focus", "2", {NULL}},
    {"--seed", "7", {NULL}},
    {"--causal", NULL, {NULL}},
    {"--tokens", "8", {NULL}},
    {"--no-scale", NULL, {NULL}},
    {"--scale", "8", {NULL}},
    {"--no-mask", NULL, {NULL}},
    {"--zero-head", "1", {NULL}},
    {"--swap-tokens", "1,3", {NULL}},
    {"--no-positions", NULL, {"--model=tests/fixtures/gpt2/d16_h2_l2_f32", "--token-ids=1", NULL}},
    {"--set", "w_key[0,1]=5", {NULL}},
    {"--kv-cache", NULL, {"--causal", NULL}},
    {"--diff", NULL, {NULL}},
    {"--weights", "weights-dir", {NULL}},
    {"--model", "tests/fixtures/gpt2/d16_h2_l2_f32", {"--token-ids", "1", NULL}},
    {"--layer", "1", {"--model=tests/fixtures/gpt2/d16_h2_l2_f32", "--token-ids=1", NULL}},
    {"--max-memory", "1G", {NULL}},
    {"--kernels", "fast", {NULL}},
    {"--threads", "3", {NULL}},
    {"--check", NULL, {"a.lesson", NULL}},
    {"--list-lessons", NULL, {NULL}},
    {"--list-steps", NULL, {NULL}},
    {"--restart", NULL, {NULL}},
    {"--no-lesson", NULL, {NULL}},
    {"--notes", NULL, {"--print", NULL}},
    {"--no-answers", NULL, {"--print", NULL}},
    {"--autoplay", "2.5", {NULL}},
    {"--theme", "presenter", {NULL}},
    {"--ascii", NULL, {NULL}},
    {"--no-color", NULL, {NULL}},
    {"--dump-screen", "-", {NULL}},
    {"--keys", "jj<Enter>", {"--dump-screen", "-", NULL}},
    {"--size", "100x30", {"--dump-screen", "-", NULL}},
    {"--bench", "3", {NULL}},
    {"--bench-frames", NULL, {NULL}},
    {"--help", NULL, {NULL}},
    {"--version", NULL, {NULL}},
};

/* What a parse produced, as one line of text (so two parses compare as
 * strings), or "error N: message". */
static void parse_fingerprint(int argc, char **argv, char *out, size_t size)
{
    Options o;
    Error err;
    error_clear(&err);
    if (!cli_parse(argc, argv, &o, &err)) {
        snprintf(out, size, "error %d: %s", err.status, err.message);
        return;
    }
    const ConfigFlags *f = &o.flags;
    const Config *c = &o.config;
    char changes[EXPERIMENT_MAX * 48];
    experiment_describe(&f->changes, changes, sizeof changes);
#define S(text) ((text) != NULL ? (text) : "-")
    snprintf(out, size,
             "mode %d help %d version %d step %s precision %d/%d ascii %d no_color %d screen %dx%d keys %s dump %s "
             "npy %s py %s svg %s lesson %s no_lesson %d config_flags %d check %d/%d restart %d notes %d/%d autoplay "
             "%d presenter %d colorblind %d "
             "list %d/%d runs %d | sentence %s file %s ids %s sizes %d%d%d%d%d kernels %d/%d threads %d weights %s "
             "| tokens %zu vocab %zu d %zu h %zu focus %zu seed %llu causal %d max %llu kernels %d threads %d "
             "model %s layer %zu/%zu changes %.120s",
             (int)o.mode, o.help, o.version, S(o.step), o.precision, o.have_precision, o.ascii, o.no_color,
             o.screen_cols, o.screen_rows, S(o.keys), S(o.dump_file), S(o.npy_dir), S(o.py_file), S(o.svg_file),
             S(o.lesson), o.no_lesson, o.config_flags, o.check, o.n_check_files, o.restart, o.notes, o.no_answers,
             o.autoplay_ms, o.presenter, o.colorblind, o.list_lessons, o.list_steps, o.bench_runs, S(f->sentence),
             S(f->sentence_file), S(f->token_ids), f->have_vocab, f->have_d_model, f->have_heads, f->have_focus,
             f->have_seed, (int)f->kernels, f->have_kernels, f->threads, S(f->weights_dir), c->n_tokens, c->vocab_size,
             c->d_model, c->heads, c->focus, (unsigned long long)c->seed, c->causal, c->max_bytes, (int)c->kernels,
             c->threads, S(c->model), c->layer, c->n_layer, changes);
#undef S
    cli_options_free(&o);
}

/* Builds argv: the program, then spelling (the flag, or NULL for none) and
 * value (NULL for none), then use->with. Returns argc. */
static int use_argv(const FlagUse *use, const char *spelling, const char *value, char **argv)
{
    int argc = 0;
    argv[argc++] = (char *)"attn-trace";
    if (spelling != NULL)
        argv[argc++] = (char *)spelling;
    if (value != NULL)
        argv[argc++] = (char *)value;
    for (int i = 0; use->with[i] != NULL; i++)
        argv[argc++] = (char *)use->with[i];
    argv[argc] = NULL;
    return argc;
}

/* Every row of the table parses with FLAG_USES' argument, in each of its
 * spellings (--flag value, --flag=value, the alias), the same way, and
 * changes what the parse produces. */
START_TEST(test_every_flag_parses)
{
    char dir[512], file[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/sentence.txt", dir);
    ck_assert(write_file(file, "x y z\n", 6));
    char failure[8192] = "";
    for (size_t i = 0; i < cli_flag_count() && failure[0] == '\0'; i++) {
        const CliFlag *flag = cli_flag(i);
        const FlagUse *use = NULL;
        for (int k = 0; k < COUNT_OF(FLAG_USES); k++)
            if (strcmp(FLAG_USES[k].name, flag->name) == 0)
                use = &FLAG_USES[k];
        if (use == NULL) {
            snprintf(failure, sizeof failure, "%s: add a valid use of it to FLAG_USES", flag->name);
            break;
        }
        const char *value = use->value != NULL && strcmp(use->value, "@file") == 0 ? file : use->value;
        if ((flag->arg != NULL) != (value != NULL)) {
            snprintf(failure, sizeof failure, "%s: the table says it takes %s", flag->name,
                     flag->arg != NULL ? "a value" : "none");
            break;
        }
        char *argv[8];
        char given[ERROR_MESSAGE_BYTES * 2], baseline[ERROR_MESSAGE_BYTES * 2], other[ERROR_MESSAGE_BYTES * 2];
        parse_fingerprint(use_argv(use, flag->name, value, argv), argv, given, sizeof given);
        parse_fingerprint(use_argv(use, NULL, NULL, argv), argv, baseline, sizeof baseline);
        if (strncmp(given, "error", 5) == 0)
            snprintf(failure, sizeof failure, "%s %s: %s", flag->name, value != NULL ? value : "", given);
        else if (strcmp(given, baseline) == 0)
            snprintf(failure, sizeof failure, "%s changes nothing: %s", flag->name, given);
        char joined[700];
        if (failure[0] == '\0' && value != NULL) {
            snprintf(joined, sizeof joined, "%s=%s", flag->name, value);
            parse_fingerprint(use_argv(use, joined, NULL, argv), argv, other, sizeof other);
            if (strcmp(given, other) != 0)
                snprintf(failure, sizeof failure, "%s: --flag=value gives\n%s\nnot\n%s", joined, other, given);
        }
        if (failure[0] == '\0' && flag->alias != NULL) {
            parse_fingerprint(use_argv(use, flag->alias, value, argv), argv, other, sizeof other);
            if (strcmp(given, other) != 0)
                snprintf(failure, sizeof failure, "%s: the alias gives\n%s\nnot\n%s", flag->alias, other, given);
        }
    }
    unlink(file);
    rmdir(dir);
    ck_assert_msg(failure[0] == '\0', "%s", failure);
}
END_TEST

/* What an unknown flag, or a known one used wrongly, is told: the exact
 * messages (tests/bad_input_test.sh checks them at the command line too). */
static const struct {
    const char *args[4]; /* NULL-terminated */
    const char *message;
} MISUSES[] = {
    {{"--bogus", NULL}, "unknown option '--bogus' (see --help)"},
    {{"--bogus=1", NULL}, "unknown option '--bogus' (see --help)"},
    {{"--prin", NULL}, "unknown option '--prin' (see --help)"},
    {{"--print-all", NULL}, "unknown option '--print-all' (see --help)"},
    {{"-x", NULL}, "unknown option '-x' (see --help)"},
    {{"-hV", NULL}, "unknown option '-hV' (see --help)"},
    {{"-h=1", NULL}, "unknown option '-h=1' (see --help)"},
    {{"--", NULL}, "unknown option '--' (see --help)"},
    {{"--print=1", NULL}, "--print: takes no value"},
    {{"--help=", NULL}, "--help: takes no value"},
    {{"--step", NULL}, "--step: needs a value (see --help)"},
    {{"--print", "--json", NULL}, "--json cannot be used with --print"},
    {{"--bench", "2", "--bench-frames"}, "--bench-frames cannot be used with --bench"},
};

START_TEST(test_misuse_messages)
{
    Snapshot s;
    parse_snapshot(MISUSES[_i].args, &s);
    ck_assert_msg(!s.ok, "%s: parsed", MISUSES[_i].args[0]);
    ck_assert_int_eq(s.status, STATUS_USAGE);
    ck_assert_str_eq(s.message, MISUSES[_i].message);
}
END_TEST

/* The manual documents every flag of the table (an .It entry), and names
 * no flag the table lacks. */
START_TEST(test_manual_matches_the_table)
{
    char *man = read_source("docs/attn-trace.1");
    Words entries, named;
    man_flags(man, true, &entries);
    man_flags(man, false, &named);
    free(man);
    char missing[1024] = "", extra[1024] = "";
    for (size_t i = 0; i < cli_flag_count(); i++) {
        const CliFlag *flag = cli_flag(i);
        if (!words_have(&entries, flag->name))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " %s", flag->name);
        if (flag->alias != NULL && !words_have(&entries, flag->alias))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " %s", flag->alias);
    }
    for (int i = 0; i < named.n; i++)
        if (table_row(named.word[i]) == NULL)
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " %s", named.word[i]);
    ck_assert_msg(missing[0] == '\0', "docs/attn-trace.1 has no .It entry for:%s", missing);
    ck_assert_msg(extra[0] == '\0', "docs/attn-trace.1 names flags src/cli/cli.c does not have:%s", extra);
}
END_TEST

/* The completion lists every flag of the table, under its kind (value
 * options, switches), and no flag the table lacks. */
START_TEST(test_completion_matches_the_table)
{
    char *completion = read_source("src/cli/attn-trace.bash-completion");
    Words values, switches;
    completion_list(completion, "_attn_trace_value_options", &values);
    completion_list(completion, "_attn_trace_switches", &switches);
    free(completion);
    char problems[2048] = "";
    for (size_t i = 0; i < cli_flag_count(); i++) {
        const CliFlag *flag = cli_flag(i);
        const Words *list = flag->arg != NULL ? &values : &switches;
        const char *names[2] = {flag->name, flag->alias};
        for (int k = 0; k < 2; k++)
            if (names[k] != NULL && !words_have(list, names[k]))
                snprintf(problems + strlen(problems), sizeof problems - strlen(problems), " %s is not in %s;", names[k],
                         flag->arg != NULL ? "_attn_trace_value_options" : "_attn_trace_switches");
    }
    const Words *lists[2] = {&values, &switches};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            const CliFlag *flag = table_row(lists[l]->word[i]);
            if (flag == NULL || (flag->arg != NULL) != (l == 0))
                snprintf(problems + strlen(problems), sizeof problems - strlen(problems), " %s is listed as %s;",
                         lists[l]->word[i], l == 0 ? "taking a value" : "a switch");
        }
    ck_assert_msg(problems[0] == '\0', "src/cli/attn-trace.bash-completion differs from the table:%s", problems);
}
END_TEST

/* README.md's usage table has a row for every flag of the table: a first
 * cell holding `NAME` or `NAME ARG`. */
START_TEST(test_readme_lists_the_table)
{
    char *readme = read_source("README.md");
    char missing[1024] = "";
    for (size_t i = 0; i < cli_flag_count(); i++) {
        const CliFlag *flag = cli_flag(i);
        const char *names[2] = {flag->name, flag->alias};
        for (int k = 0; k < 2; k++) {
            if (names[k] == NULL)
                continue;
            bool found = false;
            for (const char *line = readme; *line != '\0' && !found;) {
                size_t len = strcspn(line, "\n");
                if (strncmp(line, "| ", 2) == 0) {
                    size_t cell = strcspn(line + 2, "|\n");
                    for (const char *p = line + 2; p < line + 2 + cell && !found; p++) {
                        size_t n = strlen(names[k]);
                        found = p[0] == '`' && strncmp(p + 1, names[k], n) == 0 && (p[n + 1] == '`' || p[n + 1] == ' ');
                    }
                }
                line += len + (line[len] == '\n');
            }
            if (!found)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " %s", names[k]);
        }
    }
    free(readme);
    ck_assert_msg(missing[0] == '\0', "README.md's usage table has no row for:%s", missing);
}
END_TEST

/* The short --help is made from the table's help lines, in its order: each
 * line names the flag (and alias and argument) in its 22 columns. */
START_TEST(test_usage_lines_come_from_the_table)
{
    const char *usage = cli_usage();
    ck_assert_ptr_eq(usage, cli_usage()); /* built once */
    int lines = 0;
    const char *after = usage;
    for (size_t i = 0; i < cli_flag_count(); i++) {
        const CliFlag *flag = cli_flag(i);
        if (flag->help == NULL)
            continue;
        char line[256];
        char names[64];
        snprintf(names, sizeof names, "%s%s%s%s%s", flag->alias ? flag->alias : "", flag->alias ? ", " : "", flag->name,
                 flag->arg ? " " : "", flag->arg ? flag->arg : "");
        snprintf(line, sizeof line, "\n  %-22s%s\n", names, flag->help);
        const char *at = strstr(after, line);
        ck_assert_msg(at != NULL, "--help lacks, or has out of order, the line:%s", line);
        after = at + strlen(line) - 1;
        lines++;
    }
    ck_assert_int_ge(lines, 10);
}
END_TEST

/* --theme picks one theme: presenter and colorblind exclude each other,
 * and default is neither. */
START_TEST(test_theme_names)
{
    static const struct {
        const char *name;
        bool presenter, colorblind;
    } cases[] = {{"default", false, false}, {"presenter", true, false}, {"colorblind", false, true}};
    for (int i = 0; i < COUNT_OF(cases); i++) {
        char *argv[] = {(char *)"attn-trace", (char *)"--theme", (char *)cases[i].name, NULL};
        Options o;
        Error err;
        error_clear(&err);
        ck_assert_msg(cli_parse(3, argv, &o, &err), "--theme %s: %s", cases[i].name, err.message);
        ck_assert_msg(o.presenter == cases[i].presenter && o.colorblind == cases[i].colorblind,
                      "--theme %s: presenter %d colorblind %d", cases[i].name, o.presenter, o.colorblind);
        cli_options_free(&o);
    }
}
END_TEST

Suite *cli_suite(void)
{
    Suite *suite = suite_create("cli");

    TCase *good = tcase_create("good");
    tcase_add_loop_test(good, test_good, 0, COUNT_OF(GOOD_CASES));
    tcase_add_test(good, test_usage_is_short_and_points_to_the_manual);
    tcase_add_test(good, test_options_free);
    tcase_add_test(good, test_theme_names);
    suite_add_tcase(suite, good);

    TCase *bad = tcase_create("bad");
    tcase_add_loop_test(bad, test_bad, 0, COUNT_OF(BAD_CASES));
    tcase_add_loop_test(bad, test_echo_is_clean, 0, COUNT_OF(ECHO_CASES));
    tcase_add_test(bad, test_long_unknown_option);
    suite_add_tcase(suite, bad);

    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_sentence_limits);
    tcase_add_test(limits, test_token_id_limits);
    tcase_set_timeout(limits, 30);
    suite_add_tcase(suite, limits);

    TCase *files = tcase_create("files");
    tcase_add_loop_test(files, test_file, 0, COUNT_OF(FILE_CASES));
    tcase_add_test(files, test_file_word_limits_name_the_file);
    tcase_add_test(files, test_file_too_large);
    tcase_add_test(files, test_file_is_directory);
    tcase_add_test(files, test_file_unreadable);
    suite_add_tcase(suite, files);

    TCase *table = tcase_create("table");
    tcase_add_test(table, test_table_is_well_formed);
    tcase_add_test(table, test_every_flag_parses);
    tcase_add_loop_test(table, test_misuse_messages, 0, COUNT_OF(MISUSES));
    tcase_add_test(table, test_usage_lines_come_from_the_table);
    suite_add_tcase(suite, table);

    TCase *drift = tcase_create("drift");
    tcase_add_test(drift, test_manual_matches_the_table);
    tcase_add_test(drift, test_completion_matches_the_table);
    tcase_add_test(drift, test_readme_lists_the_table);
    suite_add_tcase(suite, drift);

    return suite;
}
