/*
 * cli.c - command-line parsing (see cli.h, and --help for the flags).
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_limits.h"
#include "numfmt.h"

static const char USAGE[] =
    "usage: attn-trace [options] [LESSON]\n"
    "       attn-trace --check LESSON...\n"
    "       attn-trace --list-lessons\n"
    "Walks through the attention mechanism step by step, with every tensor: the\n"
    "interactive tracer on a terminal (press ? for its keys), the walk-through as\n"
    "text into a file or a pipe. LESSON is a lesson file or the name of an installed\n"
    "one, such as causal-mask; without one, the article's example.\n"
    "\n"
    "  --print               every step as plain text\n"
    "  --json                the whole trace as JSON\n"
    "  --step ID|N           only that step (in the tracer: the step it opens on)\n"
    "  --sentence TEXT       the sentence to trace\n"
    "  --d-model N           embedding width (default 16)\n"
    "  --heads N             attention heads; must divide d-model (default 4)\n"
    "  --causal              hide later tokens from each query\n"
    "  --tokens N            repeat the words to N tokens (try 512, --d-model 768)\n"
    "  --restart             start the lesson over\n"
    "  --theme presenter     high-contrast colours for a projector\n"
    "  --dump-screen FILE    headless: replay --keys, write the screen as text\n"
    "  --keys KEYS           keys in vim notation: jj<Enter> <Esc> <Tab> <C-l> <lt>\n"
    "  -h, --help            this text\n"
    "  -V, --version         the version\n"
    "\n"
    "See attn-trace(1) or `man attn-trace` for every option, the keys and the exit\n"
    "statuses, and docs/guide.md for a tour.\n";

const char *cli_usage(void)
{
    return USAGE;
}

void cli_options_free(Options *opts)
{
    if (opts != NULL)
        config_free(&opts->config);
}

/* Parses text as a whole number in [min, max]; fails naming flag. */
static bool parse_number(const char *flag, const char *text, uint64_t min, uint64_t max, uint64_t *out, Error *err)
{
    const char *p = text;
    bool digits_only = *p != '\0';
    for (; *p != '\0'; p++)
        if (*p < '0' || *p > '9')
            digits_only = false;
    errno = 0;
    char *end = NULL;
    unsigned long long value = digits_only ? strtoull(text, &end, 10) : 0;
    if (!digits_only || errno == ERANGE || value < min || value > max)
        return error_set(err, STATUS_USAGE, "%s: expected a whole number from %llu to %llu, got '%.40s'", flag,
                         (unsigned long long)min, (unsigned long long)max, text);
    *out = value;
    return true;
}

/* The flag that selects mode. */
static const char *mode_flag(OutputMode mode)
{
    switch (mode) {
    case MODE_PRINT:
        return "--print";
    case MODE_JSON:
        return "--json";
    case MODE_TUI:
        return "--tui";
    case MODE_DUMP:
        return "--dump-screen";
    case MODE_BENCH:
        return "--bench";
    case MODE_BENCH_FRAMES:
        return "--bench-frames";
    case MODE_NPY:
        return "--export-npy";
    case MODE_SVG:
        return "--svg";
    case MODE_DEFAULT:
        break;
    }
    return "the default mode";
}

/* Parses a size such as 512M, 2G or 1048576 (bytes; K, M, G, T are
 * powers of 1024) for --max-memory. */
static bool parse_bytes(const char *text, unsigned long long *out, Error *err)
{
    size_t digits = strspn(text, "0123456789");
    unsigned long long value = 0;
    bool ok = digits > 0 && digits <= 15;
    for (size_t i = 0; ok && i < digits; i++)
        value = value * 10 + (unsigned long long)(text[i] - '0');
    const char *suffix = text + digits;
    int shift = 0;
    if (ok && *suffix != '\0') {
        const char *units = "KMGT";
        const char *at = strchr(units, suffix[0] & ~0x20); /* either case */
        ok = at != NULL && suffix[0] != '\0' &&
             (suffix[1] == '\0' || ((suffix[1] == 'i' || suffix[1] == 'I') && (suffix[2] == 'B' || suffix[2] == 'b') &&
                                    suffix[3] == '\0') || ((suffix[1] == 'B' || suffix[1] == 'b') && suffix[2] == '\0'));
        if (ok)
            shift = 10 * (int)(at - units + 1);
    }
    if (ok && shift > 0 && value > (ULLONG_MAX >> shift))
        ok = false;
    if (!ok || value == 0)
        return error_set(err, STATUS_USAGE, "--max-memory: expected a size such as 512M or 4G, got '%.40s'", text);
    *out = value << shift;
    return true;
}

/* Largest headless screen, in either direction. */
#define SCREEN_MAX_SIDE 1000

/* Parses "WxH" (e.g. 80x24) into cols and rows. */
static bool parse_size(const char *text, int *cols, int *rows, Error *err)
{
    unsigned long w = 0, h = 0;
    char *end;
    bool ok = text[0] >= '0' && text[0] <= '9';
    if (ok) {
        w = strtoul(text, &end, 10);
        ok = (*end == 'x' || *end == 'X') && end[1] >= '0' && end[1] <= '9';
        if (ok) {
            h = strtoul(end + 1, &end, 10);
            ok = *end == '\0';
        }
    }
    if (!ok || w < 1 || h < 1 || w > SCREEN_MAX_SIDE || h > SCREEN_MAX_SIDE)
        return error_set(err, STATUS_USAGE, "--size: expected WIDTHxHEIGHT such as 80x24 (each 1 to %d), got '%.40s'",
                         SCREEN_MAX_SIDE, text);
    *cols = (int)w;
    *rows = (int)h;
    return true;
}

/* Reads a sentence file whole, checking size, NUL bytes and UTF-8; errors
 * name FILE:LINE:COL. The caller frees *text. */
static bool read_sentence_file(const char *path, char **text, Error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return error_set(err, STATUS_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(LIMIT_MAX_SENTENCE_BYTES + 2);
    if (buf == NULL) {
        fclose(f);
        return error_oom(err, "a sentence file");
    }
    size_t n = fread(buf, 1, LIMIT_MAX_SENTENCE_BYTES + 1, f);
    bool read_error = ferror(f) != 0;
    int saved_errno = errno;
    fclose(f);
    if (read_error) {
        free(buf);
        return error_set(err, STATUS_NOINPUT, "%s: cannot read: %s", path, strerror(saved_errno));
    }
    if (n > LIMIT_MAX_SENTENCE_BYTES) {
        free(buf);
        return error_set(err, STATUS_DATAERR, "%s: larger than %d bytes (LIMIT_MAX_SENTENCE_BYTES)", path,
                         LIMIT_MAX_SENTENCE_BYTES);
    }
    buf[n] = '\0';
    size_t start = 0;
    if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        start = 3; /* a byte-order mark is not part of the sentence */
    memmove(buf, buf + start, n - start + 1);
    n -= start;
    const char *nul = memchr(buf, '\0', n);
    if (nul != NULL) {
        error_set_at(err, STATUS_DATAERR, (size_t)(nul - buf), "a NUL byte is not allowed in a sentence");
        error_locate(err, buf, path, true);
        free(buf);
        return false;
    }
    *text = buf;
    return true;
}

/* Names of the flags that take a value. */
static const char *const VALUE_FLAGS[] = {
    "--step",    "--precision", "--sentence", "--sentence-file", "--token-ids",   "--vocab-size", "--d-model",
    "--heads",   "--focus",     "--seed",     "--keys",          "--dump-screen", "--size",
    "--autoplay", "--theme", "--max-memory", "--tokens", "--kernels", "--threads", "--bench",
    "--export-npy", "--weights", "--svg",
};

/* Names of the long flags that take no value. */
static const char *const SWITCH_FLAGS[] = {"--print",  "--json",  "--help",      "--version", "--causal",
                                           "--tui",    "--ascii", "--no-color",  "--check",   "--restart",
                                           "--no-lesson", "--list-lessons", "--bench-frames", "--list-steps"};

static bool is_switch(const char *flag)
{
    for (size_t i = 0; i < sizeof SWITCH_FLAGS / sizeof SWITCH_FLAGS[0]; i++)
        if (strcmp(flag, SWITCH_FLAGS[i]) == 0)
            return true;
    return false;
}

static bool takes_value(const char *flag)
{
    for (size_t i = 0; i < sizeof VALUE_FLAGS / sizeof VALUE_FLAGS[0]; i++)
        if (strcmp(flag, VALUE_FLAGS[i]) == 0)
            return true;
    return false;
}

bool cli_parse(int argc, char **argv, Options *opts, Error *err)
{
    memset(opts, 0, sizeof *opts);
    opts->mode = MODE_DEFAULT;
    opts->precision = NUMFMT_DEFAULT_PRECISION;
    opts->screen_cols = 80;
    opts->screen_rows = 24;
    bool have_size = false;

    /* What the flags say, before it is applied to the configuration. */
    ConfigFlags *f = &opts->flags;
    uint64_t precision = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char flag[64];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq != NULL) {
            size_t len = (size_t)(eq - arg);
            if (len >= sizeof flag)
                len = sizeof flag - 1;
            memcpy(flag, arg, len);
            flag[len] = '\0';
            value = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", arg);
        }
        if (strncmp(flag, "--", 2) == 0 && !takes_value(flag) && !is_switch(flag))
            return error_set(err, STATUS_USAGE, "unknown option '%.60s' (see --help)", flag);
        if (takes_value(flag)) {
            if (value == NULL) {
                if (i + 1 >= argc)
                    return error_set(err, STATUS_USAGE, "%s: needs a value (see --help)", flag);
                value = argv[++i];
            }
        } else if (value != NULL) {
            return error_set(err, STATUS_USAGE, "%s: takes no value", flag);
        }

        bool ok = true;
        if (strcmp(flag, "--print") == 0 || strcmp(flag, "--json") == 0 || strcmp(flag, "--tui") == 0 ||
            strcmp(flag, "--dump-screen") == 0 || strcmp(flag, "--svg") == 0) {
            OutputMode mode = flag[2] == 'p' ? MODE_PRINT : flag[2] == 'j' ? MODE_JSON : flag[2] == 't' ? MODE_TUI : MODE_DUMP;
            if (flag[2] == 's')
                mode = MODE_SVG;
            if (opts->mode != MODE_DEFAULT && opts->mode != mode)
                return error_set(err, STATUS_USAGE, "%s cannot be used with %s", flag, mode_flag(opts->mode));
            opts->mode = mode;
            if (mode == MODE_DUMP) {
                if (*value == '\0')
                    return error_set(err, STATUS_USAGE, "--dump-screen: needs a file name, or - for stdout");
                opts->dump_file = value;
            }
            if (mode == MODE_SVG) {
                if (*value == '\0')
                    return error_set(err, STATUS_USAGE, "--svg: needs a file name, or - for stdout");
                opts->svg_file = value;
            }
        } else if (strcmp(flag, "--bench") == 0 || strcmp(flag, "--bench-frames") == 0) {
            OutputMode mode = value != NULL ? MODE_BENCH : MODE_BENCH_FRAMES;
            if (opts->mode != MODE_DEFAULT && opts->mode != mode)
                return error_set(err, STATUS_USAGE, "%s cannot be used with %s", flag, mode_flag(opts->mode));
            opts->mode = mode;
            uint64_t runs = 0;
            if (value != NULL) {
                ok = parse_number(flag, value, 1, LIMIT_MAX_BENCH_RUNS, &runs, err);
                opts->bench_runs = (int)runs;
            }
        } else if (strcmp(flag, "--tokens") == 0) {
            ok = parse_number(flag, value, 1, LIMIT_MAX_TOKENS, &f->tokens, err);
        } else if (strcmp(flag, "--threads") == 0) {
            uint64_t threads = 0;
            ok = parse_number(flag, value, 1, KERNELS_MAX_THREADS, &threads, err);
            f->threads = (int)threads;
        } else if (strcmp(flag, "--kernels") == 0) {
            if (strcmp(value, "auto") == 0)
                f->kernels = KERNELS_AUTO;
            else if (strcmp(value, "fast") == 0)
                f->kernels = KERNELS_FAST;
            else if (strcmp(value, "reference") == 0)
                f->kernels = KERNELS_REFERENCE;
            else
                return error_set(err, STATUS_USAGE, "--kernels: expected auto, fast or reference, got '%.40s'", value);
            f->have_kernels = true;
        } else if (strcmp(flag, "--export-npy") == 0) {
            if (opts->mode != MODE_DEFAULT && opts->mode != MODE_NPY)
                return error_set(err, STATUS_USAGE, "%s cannot be used with %s", flag, mode_flag(opts->mode));
            if (*value == '\0')
                return error_set(err, STATUS_USAGE, "--export-npy: needs a directory");
            opts->mode = MODE_NPY;
            opts->npy_dir = value;
        } else if (strcmp(flag, "--weights") == 0) {
            if (*value == '\0')
                return error_set(err, STATUS_USAGE, "--weights: needs a directory");
            f->weights_dir = value;
        } else if (strcmp(flag, "--ascii") == 0) {
            opts->ascii = true;
        } else if (strcmp(flag, "--no-color") == 0) {
            opts->no_color = true;
        } else if (strcmp(flag, "--keys") == 0) {
            opts->keys = value;
        } else if (strcmp(flag, "--size") == 0) {
            ok = have_size = parse_size(value, &opts->screen_cols, &opts->screen_rows, err);
        } else if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            opts->help = true;
        } else if (strcmp(flag, "--version") == 0 || strcmp(flag, "-V") == 0) {
            opts->version = true;
        } else if (strcmp(flag, "--causal") == 0) {
            f->causal = true;
        } else if (strcmp(flag, "--step") == 0) {
            if (*value == '\0')
                return error_set(err, STATUS_USAGE, "--step: needs a step id or number");
            opts->step = value;
        } else if (strcmp(flag, "--precision") == 0) {
            ok = opts->have_precision = parse_number(flag, value, 0, NUMFMT_MAX_PRECISION, &precision, err);
            opts->precision = (int)precision;
        } else if (strcmp(flag, "--sentence") == 0) {
            f->sentence = value;
        } else if (strcmp(flag, "--sentence-file") == 0) {
            if (*value == '\0')
                return error_set(err, STATUS_USAGE, "--sentence-file: needs a file name");
            f->sentence_file = value;
        } else if (strcmp(flag, "--token-ids") == 0) {
            f->token_ids = value;
        } else if (strcmp(flag, "--vocab-size") == 0) {
            ok = f->have_vocab = parse_number(flag, value, 1, LIMIT_MAX_VOCAB, &f->vocab_size, err);
        } else if (strcmp(flag, "--d-model") == 0) {
            ok = f->have_d_model = parse_number(flag, value, 1, LIMIT_MAX_D_MODEL, &f->d_model, err);
        } else if (strcmp(flag, "--heads") == 0) {
            ok = f->have_heads = parse_number(flag, value, 1, LIMIT_MAX_HEADS, &f->heads, err);
        } else if (strcmp(flag, "--focus") == 0) {
            ok = f->have_focus = parse_number(flag, value, 1, LIMIT_MAX_TOKENS, &f->focus, err);
        } else if (strcmp(flag, "--seed") == 0) {
            ok = f->have_seed = parse_number(flag, value, 0, UINT64_MAX, &f->seed, err);
        } else if (strcmp(flag, "--autoplay") == 0) {
            /* plain decimal seconds only: no sign, spaces, exponent or hex */
            size_t whole = strspn(value, "0123456789");
            size_t frac = value[whole] == '.' ? strspn(value + whole + 1, "0123456789") : 0;
            bool plain = whole + frac > 0 && value[whole + (value[whole] == '.' ? 1 + frac : 0)] == '\0';
            char *end;
            errno = 0;
            double seconds = plain ? strtod(value, &end) : 0.0;
            if (!plain || errno != 0 || !(seconds >= 0.5 && seconds <= 600))
                return error_set(err, STATUS_USAGE, "--autoplay: expected seconds per step, 0.5 to 600, got '%.40s'",
                                 value);
            opts->autoplay_ms = (int)(seconds * 1000.0);
        } else if (strcmp(flag, "--max-memory") == 0) {
            ok = parse_bytes(value, &f->max_bytes, err);
        } else if (strcmp(flag, "--theme") == 0) {
            if (strcmp(value, "presenter") != 0 && strcmp(value, "default") != 0)
                return error_set(err, STATUS_USAGE, "--theme: expected 'default' or 'presenter', got '%.40s'", value);
            opts->presenter = strcmp(value, "presenter") == 0;
        } else if (strcmp(flag, "--check") == 0) {
            opts->check = true;
        } else if (strcmp(flag, "--restart") == 0) {
            opts->restart = true;
        } else if (strcmp(flag, "--list-lessons") == 0) {
            opts->list_lessons = true;
        } else if (strcmp(flag, "--list-steps") == 0) {
            opts->list_steps = true;
        } else if (strcmp(flag, "--no-lesson") == 0) {
            opts->no_lesson = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return error_set(err, STATUS_USAGE, "unknown option '%.60s' (see --help)", flag);
        } else if (opts->check) {
            /* --check takes every remaining argument that is not an option */
            if (opts->check_files == NULL)
                opts->check_files = &argv[i];
            if (&opts->check_files[opts->n_check_files] != &argv[i])
                return error_set(err, STATUS_USAGE, "--check: list the lesson files together, after it");
            opts->n_check_files++;
        } else if (opts->lesson == NULL) {
            opts->lesson = arg;
        } else {
            return error_set(err, STATUS_USAGE, "unexpected argument '%.60s': one LESSON at a time (see --help)", arg);
        }
        if (!ok)
            return false;
    }
    if (opts->help || opts->version || opts->list_lessons)
        return true;
    if (opts->check) {
        if (opts->n_check_files == 0)
            return error_set(err, STATUS_USAGE, "--check: name the lesson files to check");
        return true;
    }
    opts->config_flags = f->sentence != NULL || f->sentence_file != NULL || f->token_ids != NULL || f->have_vocab ||
                         f->have_d_model || f->have_heads || f->have_focus || f->have_seed || f->causal ||
                         f->tokens != 0 || f->weights_dir != NULL;
    if (opts->lesson != NULL && opts->no_lesson)
        return error_set(err, STATUS_USAGE, "--no-lesson cannot be used with a LESSON");
    if (opts->lesson == NULL && (opts->config_flags || opts->mode == MODE_BENCH || opts->mode == MODE_BENCH_FRAMES))
        opts->no_lesson = true; /* the benchmarks walk the steps, not a lesson's quizzes */
    if ((opts->keys != NULL || have_size) && opts->mode != MODE_DUMP && opts->mode != MODE_BENCH_FRAMES)
        return error_set(err, STATUS_USAGE, "%s goes with --dump-screen FILE (the headless mode) or --bench-frames",
                         opts->keys != NULL ? "--keys" : "--size");
    if (opts->mode == MODE_BENCH_FRAMES && !have_size) { /* the size the frame budget is stated for */
        opts->screen_cols = 120;
        opts->screen_rows = 40;
    }
    if (f->sentence != NULL && f->sentence_file != NULL)
        return error_set(err, STATUS_USAGE, "--sentence and --sentence-file cannot be used together");

    /* Apply: the article's configuration, then what the flags change. */
    if (!config_default(&opts->config, err))
        return false;
    if (!cli_apply_config(f, &opts->config, err)) {
        cli_options_free(opts);
        return false;
    }
    return true;
}

bool cli_apply_config(const ConfigFlags *f, Config *cfg, Error *err)
{
    char *file_text = NULL;
    if (f->sentence_file != NULL && !read_sentence_file(f->sentence_file, &file_text, err))
        return false;
    bool explicit_sentence = f->sentence != NULL || file_text != NULL;
    if (explicit_sentence) {
        const char *text = f->sentence != NULL ? f->sentence : file_text;
        if (!config_set_sentence(cfg, text, err)) {
            error_locate(err, text, f->sentence != NULL ? "--sentence" : f->sentence_file, f->sentence == NULL);
            goto fail;
        }
    }
    if (f->token_ids != NULL) {
        size_t words = cfg->n_tokens;
        if (!explicit_sentence) { /* the base's words label only the base's ids */
            free(cfg->sentence);
            cfg->sentence = NULL;
        }
        if (!config_set_token_ids(cfg, f->token_ids, err)) {
            error_locate(err, f->token_ids, "--token-ids", false);
            goto fail;
        }
        if (explicit_sentence && words != cfg->n_tokens) {
            error_set(err, STATUS_USAGE, "--token-ids gives %zu ids but the sentence has %zu words", cfg->n_tokens,
                      words);
            goto fail;
        }
    }
    free(file_text);
    file_text = NULL;
    if (f->have_vocab)
        cfg->vocab_size = (size_t)f->vocab_size;
    if (f->have_d_model)
        cfg->d_model = (size_t)f->d_model;
    if (f->have_heads)
        cfg->heads = (size_t)f->heads;
    if (f->have_focus)
        cfg->focus = (size_t)f->focus;
    if (f->have_seed)
        cfg->seed = f->seed;
    if (f->causal)
        cfg->causal = true;
    if (f->max_bytes != 0)
        cfg->max_bytes = f->max_bytes;
    if (f->have_kernels)
        cfg->kernels = f->kernels;
    if (f->threads != 0)
        cfg->threads = f->threads;
    if (f->tokens != 0 && !config_repeat_tokens(cfg, (size_t)f->tokens, err))
        return false;
    if (f->weights_dir != NULL)
        return true; /* the files may still set the sizes: weights_load validates */
    return config_validate(cfg, err);
fail:
    free(file_text);
    return false;
}
