/*
 * cli.c - command-line parsing (see cli.h, and --help for the flags).
 *
 * Every flag is one row of FLAGS below: its names, its argument, its line
 * in --help and the function that applies it. cli_parse looks each argument
 * up in the table, takes the value a row asks for, and calls the row's
 * handler; cli_usage prints the rows that have a help line. Most rows use a
 * generic setter (set_true, set_text, set_u64, set_int, set_mode) that
 * writes the Options member the row names with offsetof.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_limits.h"
#include "bpe.h"
#include "catalog.h"
#include "gpt2.h"
#include "numfmt.h"

/* The headless screen without --size, and the one --bench-frames states its
 * frame budget for. */
#define SCREEN_DEFAULT_COLS 80
#define SCREEN_DEFAULT_ROWS 24
#define SCREEN_BENCH_COLS 120
#define SCREEN_BENCH_ROWS 40

/* The --help text around the flags' lines, and the width of the column that
 * names the flag in those lines. */
static const char USAGE_HEAD[] =
    "usage: attn-trace [options] [LESSON]  |  --check LESSON...  |  --list-lessons\n"
    "Traces attention step by step: the tracer on a terminal (? lists its keys), text\n"
    "into a pipe. LESSON: a lesson file or an installed one's name (causal-mask).\n"
    "\n";
static const char USAGE_TAIL[] =
    "\n"
    "All of it: attn-trace(1) (`man attn-trace`); a tour: docs/guide.md.\n";
#define USAGE_FLAG_COLUMN 22
/* Room for the whole --help text (about 1.4 KB today). */
#define USAGE_BYTES 4096

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
             (suffix[1] == '\0' ||
              ((suffix[1] == 'i' || suffix[1] == 'I') && (suffix[2] == 'B' || suffix[2] == 'b') && suffix[3] == '\0') ||
              ((suffix[1] == 'B' || suffix[1] == 'b') && suffix[2] == '\0'));
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

/* ------------------------------------------------------------------------
 * The setters and handlers the table's rows point to
 * ---------------------------------------------------------------------- */

/* The parser's state while it reads argv; the handlers write through it. */
struct CliParse {
    Options *opts;   /* what the flags say so far */
    bool have_size;  /* --size was given */
    bool saw_config; /* a configuration flag (a row with .config) was given */
};

/* The member of the parse's Options at the row's offset. */
#define FIELD(parse, offset, type) ((type *)(void *)((char *)(parse)->opts + (offset)))

/* A switch: sets the bool at flag->field. */
static bool set_true(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    (void)value;
    (void)err;
    *FIELD(p, flag->field, bool) = true;
    return true;
}

/* A text (pointing into argv) into the const char * at flag->field; "" is
 * refused with flag->empty when the row has one. */
static bool set_text(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    if (flag->empty != NULL && *value == '\0')
        return error_set(err, STATUS_USAGE, "%s: %s", flag->name, flag->empty);
    *FIELD(p, flag->field, const char *) = value;
    return true;
}

/* A whole number in [min, max] into the uint64_t at flag->field, and true
 * into the bool at flag->have when the row has one. */
static bool set_u64(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    if (!parse_number(flag->name, value, flag->min, flag->max, FIELD(p, flag->field, uint64_t), err))
        return false;
    if (flag->have != 0)
        *FIELD(p, flag->have, bool) = true;
    return true;
}

/* As set_u64, into an int (the row's max fits an int). */
static bool set_int(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    uint64_t number = 0;
    if (!parse_number(flag->name, value, flag->min, flag->max, &number, err))
        return false;
    *FIELD(p, flag->field, int) = (int)number;
    if (flag->have != 0)
        *FIELD(p, flag->have, bool) = true;
    return true;
}

/* The flag that selects mode (its row in the table). */
static const char *mode_flag(OutputMode mode)
{
    for (size_t i = 0; i < cli_flag_count(); i++)
        if (mode != MODE_DEFAULT && cli_flag(i)->mode == mode)
            return cli_flag(i)->name;
    return "the default mode";
}

/* Selects flag->mode, unless another mode was chosen already. */
static bool choose_mode(CliParse *p, const CliFlag *flag, Error *err)
{
    Options *opts = p->opts;
    if (opts->mode != MODE_DEFAULT && opts->mode != flag->mode)
        return error_set(err, STATUS_USAGE, "%s cannot be used with %s", flag->name, mode_flag(opts->mode));
    opts->mode = flag->mode;
    return true;
}

/* An output mode (see choose_mode). A row with a field also keeps its value
 * there, as set_text does. */
static bool set_mode(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    return choose_mode(p, flag, err) && (flag->field == 0 || set_text(p, flag, value, err));
}

/* A change to the trace (experiment.h): the flag's name without its
 * dashes, and "=VALUE" when it takes one, parsed as a lesson's
 * experiment: line is. A bad value says where in it the fault is. */
static bool set_change(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    char spec[EXPERIMENT_SPEC_BYTES];
    const char *word = flag->name + 2;
    if (snprintf(spec, sizeof spec, "%s%s%s", word, value != NULL ? "=" : "", value != NULL ? value : "") >=
        (int)sizeof spec)
        return error_set(err, STATUS_USAGE, "%s: the value is longer than %d bytes", flag->name,
                         EXPERIMENT_SPEC_BYTES - 1);
    Error why;
    error_clear(&why);
    if (experiment_parse(&p->opts->flags.changes, spec, &why))
        return true;
    size_t skip = strlen(word) + (value != NULL ? 1 : 0);
    if (value != NULL && why.at != ERROR_AT_NONE && why.at >= skip)
        return error_set(err, STATUS_USAGE, "%s '%.60s': column %zu: %s", flag->name, value, why.at - skip + 1,
                         why.message);
    return error_set(err, STATUS_USAGE, "%s: %s", flag->name, why.message);
}

/* --bench N: the mode, and the number of timed runs (as set_int). */
static bool set_bench(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    return choose_mode(p, flag, err) && set_int(p, flag, value, err);
}

/* --kernels auto|fast|reference. */
static bool set_kernels(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    static const struct {
        const char *name;
        KernelChoice choice;
    } choices[] = {{"auto", KERNELS_AUTO}, {"fast", KERNELS_FAST}, {"reference", KERNELS_REFERENCE}};
    (void)flag;
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++)
        if (strcmp(value, choices[i].name) == 0) {
            p->opts->flags.kernels = choices[i].choice;
            p->opts->flags.have_kernels = true;
            return true;
        }
    return error_set(err, STATUS_USAGE, "--kernels: expected auto, fast or reference, got '%.40s'", value);
}

/* --size WxH. */
static bool set_size(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    (void)flag;
    return p->have_size = parse_size(value, &p->opts->screen_cols, &p->opts->screen_rows, err);
}

/* --autoplay SECONDS: plain decimal seconds only (no sign, spaces, exponent
 * or hex), 0.5 to 600, kept in milliseconds. */
static bool set_autoplay(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    (void)flag;
    size_t whole = strspn(value, "0123456789");
    size_t frac = value[whole] == '.' ? strspn(value + whole + 1, "0123456789") : 0;
    bool plain = whole + frac > 0 && value[whole + (value[whole] == '.' ? 1 + frac : 0)] == '\0';
    char *end;
    errno = 0;
    double seconds = plain ? strtod(value, &end) : 0.0;
    if (!plain || errno != 0 || !(seconds >= 0.5 && seconds <= 600))
        return error_set(err, STATUS_USAGE, "--autoplay: expected seconds per step, 0.5 to 600, got '%.40s'", value);
    p->opts->autoplay_ms = (int)(seconds * 1000.0);
    return true;
}

/* --max-memory SIZE. */
static bool set_max_memory(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    (void)flag;
    return parse_bytes(value, &p->opts->flags.max_bytes, err);
}

/* --theme default|presenter|colorblind. */
static bool set_theme(CliParse *p, const CliFlag *flag, const char *value, Error *err)
{
    (void)flag;
    if (strcmp(value, "presenter") != 0 && strcmp(value, "default") != 0 && strcmp(value, "colorblind") != 0)
        return error_set(err, STATUS_USAGE, "--theme: expected 'default', 'presenter' or 'colorblind', got '%.40s'",
                         value);
    p->opts->presenter = strcmp(value, "presenter") == 0;
    p->opts->colorblind = strcmp(value, "colorblind") == 0;
    return true;
}

/* ------------------------------------------------------------------------
 * The flag table
 *
 * One row a flag. The rows with a help line appear in --help in this order.
 * A row's name must also be in docs/attn-trace.1 (an .It Fl line) and in the
 * bash completion's lists: tests/check_cli.c fails when one is missing.
 * ---------------------------------------------------------------------- */

#define AT(member) offsetof(Options, member)

static const CliFlag FLAGS[] = {
    /* what to write */
    {"--print", .handle = set_mode, .mode = MODE_PRINT, .help = "every step as plain text"},
    {"--json", .handle = set_mode, .mode = MODE_JSON, .help = "the whole trace as JSON"},
    {"--tui", .handle = set_mode, .mode = MODE_TUI},
    {"--line-mode", .handle = set_mode, .mode = MODE_LINE},
    {"--svg", .arg = "FILE", .handle = set_mode, .mode = MODE_SVG, .field = AT(svg_file),
     .empty = "needs a file name, or - for stdout"},
    {"--export-npy", .arg = "DIR", .handle = set_mode, .mode = MODE_NPY, .field = AT(npy_dir),
     .empty = "needs a directory"},
    {"--export-py", .arg = "FILE", .handle = set_text, .field = AT(py_file), .empty = "needs a file name"},
    {"--step", .arg = "ID|N", .handle = set_text, .field = AT(step), .empty = "needs a step id or number",
     .help = "only that step (in the tracer: the step it opens on)"},
    {"--precision", .arg = "N", .handle = set_int, .min = 0, .max = NUMFMT_MAX_PRECISION, .field = AT(precision),
     .have = AT(have_precision)},
    /* the configuration */
    {"--sentence", .arg = "TEXT", .handle = set_text, .field = AT(flags.sentence), .config = true,
     .help = "the sentence to trace"},
    {"--sentence-file", .arg = "FILE", .handle = set_text, .field = AT(flags.sentence_file), .config = true,
     .empty = "needs a file name"},
    {"--token-ids", .arg = "IDS", .handle = set_text, .field = AT(flags.token_ids), .config = true},
    {"--vocab-size", .arg = "N", .handle = set_u64, .min = 1, .max = LIMIT_MAX_VOCAB, .field = AT(flags.vocab_size),
     .have = AT(flags.have_vocab), .config = true},
    {"--d-model", .arg = "N", .handle = set_u64, .min = 1, .max = LIMIT_MAX_D_MODEL, .field = AT(flags.d_model),
     .have = AT(flags.have_d_model), .config = true, .help = "embedding width (default 16)"},
    {"--heads", .arg = "N", .handle = set_u64, .min = 1, .max = LIMIT_MAX_HEADS, .field = AT(flags.heads),
     .have = AT(flags.have_heads), .config = true, .help = "attention heads; must divide d-model (default 4)"},
    {"--focus", .arg = "N", .handle = set_u64, .min = 1, .max = LIMIT_MAX_TOKENS, .field = AT(flags.focus),
     .have = AT(flags.have_focus), .config = true, .help = "the token part 1 follows, counted from 1 (default 1)"},
    {"--seed", .arg = "N", .handle = set_u64, .min = 0, .max = UINT64_MAX, .field = AT(flags.seed),
     .have = AT(flags.have_seed), .config = true},
    {"--causal", .handle = set_true, .field = AT(flags.causal), .config = true,
     .help = "hide later tokens from each query"},
    {"--no-scale", .handle = set_change, .config = true},
    {"--scale", .arg = "N", .handle = set_change, .config = true},
    {"--no-mask", .handle = set_change, .config = true},
    {"--zero-head", .arg = "H", .handle = set_change, .config = true},
    {"--swap-tokens", .arg = "I,J", .handle = set_change, .config = true},
    {"--no-positions", .handle = set_change, .config = true},
    {"--set", .arg = "NAME[i,j]=VALUE", .handle = set_change, .config = true},
    {"--kv-cache", .handle = set_change, .config = true},
    {"--diff", .handle = set_mode, .mode = MODE_DIFF},
    {"--tokens", .arg = "N", .handle = set_u64, .min = 1, .max = LIMIT_MAX_TOKENS, .field = AT(flags.tokens),
     .config = true, .help = "repeat the words to N tokens (try 512, --d-model 768)"},
    {"--weights", .arg = "DIR", .handle = set_text, .field = AT(flags.weights_dir), .empty = "needs a directory",
     .config = true},
    {"--model", .arg = "DIR", .handle = set_text, .field = AT(flags.model_dir), .empty = "needs a directory",
     .config = true},
    {"--layer", .arg = "L", .handle = set_u64, .min = 0, .max = UINT32_MAX, .field = AT(flags.layer),
     .have = AT(flags.have_layer), .config = true},
    {"--max-memory", .arg = "SIZE", .handle = set_max_memory},
    {"--kernels", .arg = "NAME", .handle = set_kernels},
    {"--threads", .arg = "N", .handle = set_int, .min = 1, .max = KERNELS_MAX_THREADS, .field = AT(flags.threads)},
    /* lessons */
    {"--check", .handle = set_true, .field = AT(check)},
    {"--list-lessons", .handle = set_true, .field = AT(list_lessons)},
    {"--list-steps", .handle = set_true, .field = AT(list_steps)},
    {"--restart", .handle = set_true, .field = AT(restart), .help = "start the lesson over"},
    {"--no-lesson", .handle = set_true, .field = AT(no_lesson)},
    {"--notes", .handle = set_true, .field = AT(notes)},
    {"--no-answers", .handle = set_true, .field = AT(no_answers)},
    {"--autoplay", .arg = "SECONDS", .handle = set_autoplay},
    /* the tracer's screen; --help names the choice it describes */
    {"--theme", .arg = "NAME", .handle = set_theme, .help = "presenter (a projector) or colorblind"},
    {"--ascii", .handle = set_true, .field = AT(ascii)},
    {"--no-color", .handle = set_true, .field = AT(no_color)},
    {"--dump-screen", .arg = "FILE", .handle = set_mode, .mode = MODE_DUMP, .field = AT(dump_file),
     .empty = "needs a file name, or - for stdout"},
    {"--keys", .arg = "KEYS", .handle = set_text, .field = AT(keys)},
    {"--size", .arg = "WxH", .handle = set_size},
    /* timing */
    {"--bench", .arg = "N", .handle = set_bench, .mode = MODE_BENCH, .min = 1, .max = LIMIT_MAX_BENCH_RUNS,
     .field = AT(bench_runs)},
    {"--bench-frames", .handle = set_mode, .mode = MODE_BENCH_FRAMES},
    /* about the program */
    {"--help", .alias = "-h", .handle = set_true, .field = AT(help), .help = "this text"},
    {"--version", .alias = "-V", .handle = set_true, .field = AT(version), .help = "the version"},
};

#undef AT

size_t cli_flag_count(void)
{
    return sizeof FLAGS / sizeof FLAGS[0];
}

const CliFlag *cli_flag(size_t i)
{
    return i < cli_flag_count() ? &FLAGS[i] : NULL;
}

/* The row named by the first len bytes of name: a long name when they
 * start with "--", else an alias. NULL when none is. */
static const CliFlag *find_flag(const char *name, size_t len)
{
    bool is_long = strncmp(name, "--", 2) == 0;
    for (size_t i = 0; i < cli_flag_count(); i++) {
        const char *candidate = is_long ? FLAGS[i].name : FLAGS[i].alias;
        if (candidate != NULL && strlen(candidate) == len && memcmp(candidate, name, len) == 0)
            return &FLAGS[i];
    }
    return NULL;
}

const CliFlag *cli_flag_find(const char *name)
{
    return name != NULL ? find_flag(name, strlen(name)) : NULL;
}

/* ------------------------------------------------------------------------
 * --help
 * ---------------------------------------------------------------------- */

static char usage_text[USAGE_BYTES];
static pthread_once_t usage_once = PTHREAD_ONCE_INIT;

/* Appends to usage_text (filled to len) the names of the rows without a
 * help line, packed into lines of at most 80 columns after "\nAlso: ", so
 * --help names every flag on one screen. Returns the new length. */
static size_t usage_other_flags(size_t len)
{
    const char *lead = "Also:";
    size_t col = 80; /* forces the first name onto a new line */
    for (size_t i = 0; i < cli_flag_count() && len < sizeof usage_text; i++) {
        const CliFlag *flag = &FLAGS[i];
        if (flag->help != NULL)
            continue;
        size_t w = strlen(flag->name) + 1;
        if (col + w > 80) {
            len += (size_t)snprintf(usage_text + len, sizeof usage_text - len, "%s%s", col < 80 ? "\n" : "", lead);
            col = strlen(lead) - 1;
            lead = "     ";
        }
        len += (size_t)snprintf(usage_text + len, sizeof usage_text - len, " %s", flag->name);
        col += w;
    }
    if (len < sizeof usage_text)
        len += (size_t)snprintf(usage_text + len, sizeof usage_text - len, "\n");
    return len;
}

/* Writes the --help text into usage_text: the head, one line for each row
 * with help ("  -h, --help            this text"), the tail. */
static void build_usage(void)
{
    size_t len = (size_t)snprintf(usage_text, sizeof usage_text, "%s", USAGE_HEAD);
    for (size_t i = 0; i < cli_flag_count() && len < sizeof usage_text; i++) {
        const CliFlag *flag = &FLAGS[i];
        if (flag->help == NULL)
            continue;
        char names[64];
        snprintf(names, sizeof names, "%s%s%s%s%s", flag->alias != NULL ? flag->alias : "",
                 flag->alias != NULL ? ", " : "", flag->name, flag->arg != NULL ? " " : "",
                 flag->arg != NULL ? flag->arg : "");
        len += (size_t)snprintf(usage_text + len, sizeof usage_text - len, "  %-*s%s\n", USAGE_FLAG_COLUMN, names,
                                flag->help);
    }
    len = usage_other_flags(len);
    if (len < sizeof usage_text)
        len += (size_t)snprintf(usage_text + len, sizeof usage_text - len, "%s", USAGE_TAIL);
    if (len >= sizeof usage_text) { /* an impossible state: the help lines outgrew USAGE_BYTES */
        fprintf(stderr, "%s:%d: the --help text does not fit in USAGE_BYTES\n", __FILE__, __LINE__);
        abort();
    }
}

const char *cli_usage(void)
{
    pthread_once(&usage_once, build_usage);
    return usage_text;
}

/* ------------------------------------------------------------------------
 * Parsing argv
 * ---------------------------------------------------------------------- */

/* Opts with nothing given yet. */
static void options_init(Options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->mode = MODE_DEFAULT;
    opts->precision = NUMFMT_DEFAULT_PRECISION;
    opts->screen_cols = SCREEN_DEFAULT_COLS;
    opts->screen_rows = SCREEN_DEFAULT_ROWS;
}

/* argv[*i], which starts with '-' and is not "-": finds its row, takes its
 * value (after '=' in a long flag, else the next argument, advancing *i)
 * and applies it. */
static bool parse_flag(CliParse *p, int argc, char **argv, int *i, Error *err)
{
    const char *arg = argv[*i];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const char *value = eq != NULL ? eq + 1 : NULL;
    const CliFlag *flag = find_flag(arg, len);
    if (flag == NULL)
        return error_set(err, STATUS_USAGE, "unknown option '%.*s' (see --help)", (int)(len < 60 ? len : 60), arg);
    if (flag->arg != NULL && value == NULL) {
        if (*i + 1 >= argc)
            return error_set(err, STATUS_USAGE, "%s: needs a value (see --help)", flag->name);
        value = argv[++*i];
    } else if (flag->arg == NULL && value != NULL) {
        return error_set(err, STATUS_USAGE, "%s: takes no value", flag->name);
    }
    if (flag->config)
        p->saw_config = true;
    return flag->handle(p, flag, value, err);
}

/* argv[i], an operand: a file for --check (which takes every operand, all
 * together after it), else the one LESSON. */
static bool parse_operand(CliParse *p, char **argv, int i, Error *err)
{
    Options *opts = p->opts;
    if (opts->check) {
        if (opts->check_files == NULL)
            opts->check_files = &argv[i];
        if (&opts->check_files[opts->n_check_files] != &argv[i])
            return error_set(err, STATUS_USAGE, "--check: list the lesson files together, after it");
        opts->n_check_files++;
        return true;
    }
    if (opts->lesson == NULL) {
        opts->lesson = argv[i];
        return true;
    }
    return error_set(err, STATUS_USAGE, "unexpected argument '%.60s': one LESSON at a time (see --help)", argv[i]);
}

/* After the last argument: checks the flags that go together, then applies
 * the configuration flags onto the article's configuration. */
static bool finish_parse(CliParse *p, Error *err)
{
    Options *opts = p->opts;
    if (opts->help || opts->version || opts->list_lessons)
        return true;
    if (opts->check) {
        if (opts->n_check_files == 0)
            return error_set(err, STATUS_USAGE, "--check: name the lesson files to check");
        return true;
    }
    opts->config_flags = p->saw_config;
    if (opts->lesson != NULL && opts->no_lesson)
        return error_set(err, STATUS_USAGE, "--no-lesson cannot be used with a LESSON");
    if (opts->lesson == NULL && (opts->config_flags || opts->mode == MODE_BENCH || opts->mode == MODE_BENCH_FRAMES))
        opts->no_lesson = true; /* the benchmarks walk the steps, not a lesson's quizzes */
    if ((opts->keys != NULL || p->have_size) && opts->mode != MODE_DUMP && opts->mode != MODE_BENCH_FRAMES)
        return error_set(err, STATUS_USAGE, "%s goes with --dump-screen FILE (the headless mode) or --bench-frames",
                         opts->keys != NULL ? "--keys" : "--size");
    if (opts->mode == MODE_BENCH_FRAMES && !p->have_size) { /* the size the frame budget is stated for */
        opts->screen_cols = SCREEN_BENCH_COLS;
        opts->screen_rows = SCREEN_BENCH_ROWS;
    }
    if (opts->flags.sentence != NULL && opts->flags.sentence_file != NULL)
        return error_set(err, STATUS_USAGE, "--sentence and --sentence-file cannot be used together");
    if (opts->notes && opts->no_answers)
        return error_set(err, STATUS_USAGE,
                         "--notes and --no-answers cannot be used together (a teacher's copy "
                         "or a student's handout)");
    if ((opts->notes || opts->no_answers) && (opts->mode != MODE_PRINT || opts->no_lesson))
        return error_set(err, STATUS_USAGE, "%s goes with --print and a lesson (it shapes the lesson's handout)",
                         opts->notes ? "--notes" : "--no-answers");
    if (opts->flags.model_dir != NULL && opts->lesson != NULL)
        return error_set(err, STATUS_USAGE,
                         "--model cannot be used with a LESSON (a lesson names its own model with 'model:')");

    /* Apply: the article's configuration, then what the flags change; a
     * LESSON's configuration takes them in main instead (it may walk a
     * model, which --layer and the tokenizer need). */
    if (!config_default(&opts->config, err))
        return false;
    if (opts->lesson == NULL && !cli_apply_config(&opts->flags, &opts->config, err)) {
        cli_options_free(opts);
        return false;
    }
    return true;
}

bool cli_parse(int argc, char **argv, Options *opts, Error *err)
{
    options_init(opts);
    CliParse parse = {opts, false, false};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool is_flag = arg[0] == '-' && arg[1] != '\0';
        if (!(is_flag ? parse_flag(&parse, argc, argv, &i, err) : parse_operand(&parse, argv, i, err)))
            return false;
    }
    return finish_parse(&parse, err);
}

/* ------------------------------------------------------------------------
 * --model DIR: the configuration of a GPT-2 checkpoint's trace
 * ---------------------------------------------------------------------- */

/* The flags a model trace takes its value of from the checkpoint, or has
 * no use for: the first one given, or NULL. */
static const char *model_refuses(const ConfigFlags *f)
{
    return f->weights_dir != NULL ? "--weights"
           : f->have_vocab        ? "--vocab-size"
           : f->have_d_model      ? "--d-model"
           : f->have_heads        ? "--heads"
           : f->have_focus        ? "--focus"
           : f->have_seed         ? "--seed"
                                  : NULL;
}

/* Tokenizes text by DIR/vocab.json and merges.txt into cfg's ids (labels:
 * the tokens as vocab.json writes them, "Ġcapital"); cfg->sentence becomes
 * text. False with err set (the tokenizer's files, an empty text). */
static bool model_tokenize(const char *dir, const char *text, Config *cfg, Error *err)
{
    char vocab[LIMIT_PATH_BYTES], merges[LIMIT_PATH_BYTES];
    if (snprintf(vocab, sizeof vocab, "%s/vocab.json", dir) >= (int)sizeof vocab ||
        snprintf(merges, sizeof merges, "%s/merges.txt", dir) >= (int)sizeof merges)
        return error_set(err, STATUS_USAGE, "--model: the directory name is too long");
    Bpe *bpe = bpe_load(vocab, merges, err);
    if (bpe == NULL && err != NULL && err->status == STATUS_NOINPUT) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        error_set(err, STATUS_NOINPUT, "%.200s (a --sentence needs the checkpoint's tokenizer; --token-ids does not)",
                  why);
    }
    BpeEncoding *enc = bpe != NULL ? bpe_encode(bpe, text, strlen(text), err) : NULL;
    bool ok = enc != NULL;
    if (ok && (enc->n_tokens == 0 || enc->n_tokens > LIMIT_MAX_TOKENS))
        ok = error_set(err, STATUS_DATAERR, "--sentence: %zu tokens (expected 1 to %d)", enc->n_tokens,
                       LIMIT_MAX_TOKENS);
    long *ids = ok ? calloc(enc->n_tokens, sizeof *ids) : NULL;
    const char **labels = ok ? calloc(enc->n_tokens, sizeof *labels) : NULL;
    if (ok && (ids == NULL || labels == NULL))
        ok = error_oom(err, "the tokens");
    for (size_t i = 0; ok && i < enc->n_tokens; i++) {
        ids[i] = enc->ids[i];
        labels[i] = bpe_token_text(bpe, enc->ids[i], NULL);
    }
    ok = ok && config_set_tokens(cfg, ids, labels, enc->n_tokens, err);
    free(cfg->sentence);
    cfg->sentence = ok ? strdup(text) : NULL;
    if (ok && cfg->sentence == NULL)
        ok = error_oom(err, "the sentence");
    free(ids);
    free(labels);
    bpe_encoding_free(enc);
    bpe_free(bpe);
    return ok;
}

/* The tokens of a model trace: --token-ids as given, else the sentence
 * (--sentence, --sentence-file or the article's) by the model's tokenizer. */
static bool model_tokens(const ConfigFlags *f, const char *dir, Config *cfg, Error *err)
{
    if (f->token_ids != NULL) {
        if (f->sentence != NULL || f->sentence_file != NULL)
            return error_set(err, STATUS_USAGE, "--model: give --sentence or --token-ids, not both");
        free(cfg->sentence);
        cfg->sentence = NULL;
        if (!config_set_token_ids(cfg, f->token_ids, err)) {
            error_locate(err, f->token_ids, "--token-ids", false);
            return false;
        }
        return true;
    }
    if (f->sentence == NULL && f->sentence_file == NULL && cfg->sentence == NULL && cfg->n_tokens > 0)
        return true; /* a lesson's own token ids (a lesson with `model:` and `token-ids:`) */
    char *file_text = NULL;
    if (f->sentence_file != NULL && !read_sentence_file(f->sentence_file, &file_text, err))
        return false;
    char *base = cfg->sentence != NULL ? strdup(cfg->sentence) : NULL;
    const char *text = f->sentence != NULL ? f->sentence : file_text != NULL ? file_text : base;
    const char *why = NULL;
    bool ok = text != NULL || error_set(err, STATUS_USAGE, "--model: give --sentence or --token-ids");
    size_t bad = ok ? text_find_invalid(text, strlen(text), &why) : (size_t)-1;
    if (bad != (size_t)-1)
        ok = error_set(err, STATUS_DATAERR, "--sentence: %s at byte %zu", why, bad + 1);
    ok = ok && model_tokenize(dir, text, cfg, err);
    free(file_text);
    free(base);
    return ok;
}

/* The sizes, layer and tokens of a trace of the checkpoint in
 * f->model_dir, onto cfg; see cli_apply_config. */
static bool apply_model(const ConfigFlags *f, Config *cfg, Error *err)
{
    const char *refused = model_refuses(f);
    if (refused != NULL)
        return error_set(err, STATUS_USAGE, "%s cannot be used with --model: the checkpoint decides it", refused);
    char dir[LIMIT_PATH_BYTES]; /* a bare name is a shipped model (catalog_find_model) */
    if (!catalog_find_model(f->model_dir, dir, sizeof dir, err)) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        return error_set(err, err->status, "--model %.1000s", why);
    }
    Gpt2Model *model = gpt2_open(dir, err);
    if (model == NULL)
        return false;
    const Gpt2Config m = model->config;
    gpt2_close(model);
    if (f->layer >= m.n_layer)
        return error_set(err, STATUS_DATAERR, "--layer %llu is out of range: %s has n_layer %zu (layers 0 to %zu)",
                         (unsigned long long)f->layer, f->model_dir, m.n_layer, m.n_layer - 1);
    if (!model_tokens(f, dir, cfg, err) || (f->tokens != 0 && !config_repeat_tokens(cfg, (size_t)f->tokens, err)))
        return false;
    if (cfg->n_tokens > m.n_positions)
        return error_set(err, STATUS_DATAERR, "%s: %zu tokens are more than its n_positions (%zu)", f->model_dir,
                         cfg->n_tokens, m.n_positions);
    free(cfg->model);
    if ((cfg->model = strdup(dir)) == NULL)
        return error_oom(err, "the model's name");
    cfg->vocab_size = m.vocab_size;
    cfg->d_model = m.n_embd;
    cfg->heads = m.n_head;
    cfg->n_layer = m.n_layer;
    cfg->layer = (size_t)f->layer;
    cfg->focus = 1;
    cfg->causal = true; /* GPT-2 always masks the future */
    if (f->max_bytes != 0)
        cfg->max_bytes = f->max_bytes;
    if (f->have_kernels)
        cfg->kernels = f->kernels;
    if (f->threads != 0)
        cfg->threads = f->threads;
    return config_validate(cfg, err);
}

/* The flags on top of the configuration of a lesson with `model:` (cfg,
 * whose model is set): as --model of its checkpoint, at its layer unless
 * --layer says otherwise. */
static bool apply_lesson_model(const ConfigFlags *f, Config *cfg, Error *err)
{
    const char *refused = model_refuses(f);
    if (refused != NULL)
        return error_set(err, STATUS_USAGE,
                         "%s cannot be used with a lesson that walks a model: the checkpoint decides it", refused);
    char dir[LIMIT_PATH_BYTES];
    snprintf(dir, sizeof dir, "%s", cfg->model);
    ConfigFlags flags = *f;
    flags.model_dir = dir;
    if (!flags.have_layer)
        flags.layer = cfg->layer;
    return apply_model(&flags, cfg, err);
}

bool cli_apply_config(const ConfigFlags *f, Config *cfg, Error *err)
{
    if (f->model_dir != NULL)
        return apply_model(f, cfg, err);
    if (cfg->model != NULL)
        return apply_lesson_model(f, cfg, err);
    if (f->have_layer)
        return error_set(err, STATUS_USAGE, "--layer goes with --model DIR");
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
