/*
 * cli.h - the command line: argv in, Options out.
 *
 * cli_parse is pure apart from reading a --sentence-file: it never prints
 * and never exits. main reports its error and picks the exit status.
 */
#ifndef ATTN_CLI_H
#define ATTN_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "experiment.h"
#include "error.h"

#define PROGRAM_NAME "attn-trace"
#define PROGRAM_VERSION "0.1.0"

typedef enum OutputMode {
    MODE_DEFAULT,      /* no output flag: the tracer on a terminal, else --print */
    MODE_PRINT,        /* --print: the walk-through as text */
    MODE_JSON,         /* --json: the trace as JSON */
    MODE_TUI,          /* --tui: the interactive tracer, even when it would not be chosen */
    MODE_DUMP,         /* --dump-screen: replay --keys headless and write the screen */
    MODE_BENCH,        /* --bench N: time the trace's computation */
    MODE_BENCH_FRAMES, /* --bench-frames: time key-to-frame through the composer and the backend */
    MODE_NPY,          /* --export-npy DIR: every tensor as a .npy file in DIR */
    MODE_SVG,          /* --svg: one step's attention as heat maps, in an SVG file */
    MODE_LINE,         /* --line-mode: plain lines and typed commands, for screen readers and pipes */
    MODE_DIFF          /* --diff: per tensor, how many values the changes (--no-scale ...) change */
} OutputMode;

/* The configuration flags as given, to apply onto a base configuration. */
typedef struct ConfigFlags {
    const char *sentence, *sentence_file, *token_ids; /* point into argv, or NULL */
    uint64_t vocab_size, d_model, heads, focus, seed;
    bool have_vocab, have_d_model, have_heads, have_focus, have_seed;
    bool causal;
    unsigned long long max_bytes; /* --max-memory, 0 when not given */
    uint64_t tokens;              /* --tokens N, 0 when not given */
    KernelChoice kernels;         /* --kernels */
    bool have_kernels;
    int threads;             /* --threads N, 0 when not given */
    const char *weights_dir; /* --weights DIR, or NULL; points into argv */
    const char *model_dir;   /* --model DIR, or NULL; points into argv */
    uint64_t layer;          /* --layer L (0 when not given) */
    bool have_layer;
    ExperimentSet changes; /* --no-scale, --scale, --no-mask, --zero-head, --swap-tokens, --no-positions, --set,
                              --kv-cache, in their order (experiment.h) */
} ConfigFlags;

typedef struct Options {
    OutputMode mode;
    bool help;             /* --help: print usage and exit 0 */
    bool version;          /* --version: print the version and exit 0 */
    const char *step;      /* --step ID|N, or NULL for every step; points into argv */
    int precision;         /* --precision N */
    bool have_precision;   /* --precision was given (else a lesson's own applies) */
    bool ascii;            /* --ascii: no box drawing or arrows */
    bool no_color;         /* --no-color */
    int screen_cols;       /* --size WxH (headless), default 80 */
    int screen_rows;       /* default 24 */
    const char *keys;      /* --keys KEYS, or NULL; points into argv */
    const char *dump_file; /* --dump-screen FILE ("-" for stdout), or NULL */
    const char *npy_dir;   /* --export-npy DIR, or NULL; points into argv */
    const char *py_file;   /* --export-py FILE: the self-checking PyTorch script, or NULL; points into argv */
    const char *svg_file;  /* --svg FILE ("-" for stdout), or NULL */
    const char *lesson;    /* the LESSON argument, or NULL; points into argv */
    bool no_lesson;        /* --no-lesson, or configuration flags given without a LESSON */
    bool config_flags;     /* any of --sentence ... --causal was given */
    bool check;            /* --check: validate the lesson files in check_files */
    int n_check_files;
    char **check_files; /* points into argv */
    bool restart;       /* --restart: forget the lesson's progress */
    bool notes;         /* --notes: --print's handout is the teacher's copy (presenter notes, answers) */
    bool no_answers;    /* --no-answers: --print's handout is the student's (no answers) */
    int autoplay_ms;    /* --autoplay SECONDS, in milliseconds; 0 when off */
    bool presenter;     /* --theme presenter */
    bool colorblind; /* --theme colorblind: colour-blind-safe heat, every distinction also by a glyph or an attribute */
    bool list_lessons; /* --list-lessons */
    bool list_steps;   /* --list-steps: print the step table (number, id, title) */
    int bench_runs;    /* --bench N: timed runs after the warm-up */
    ConfigFlags flags; /* the configuration flags as given */
    Config config;     /* the flags applied to the article's configuration; owned */
} Options;

/* ------------------------------------------------------------------------
 * The flag table: every flag attn-trace accepts is one CliFlag row in cli.c.
 * cli_parse, --help, the messages that name a mode's flag and the drift test
 * against the manual and the completion (tests/check_cli.c) all read it.
 * ---------------------------------------------------------------------- */

typedef struct CliParse CliParse; /* the parser's state while it reads argv (private to cli.c) */
typedef struct CliFlag CliFlag;

/* Applies one flag to the parse: value is its argument (never NULL when the
 * row has an arg, always NULL for a switch). Returns false with err set when
 * the value is not acceptable; the message starts with the flag's name. */
typedef bool CliHandler(CliParse *parse, const CliFlag *flag, const char *value, Error *err);

struct CliFlag {
    const char *name;   /* the long name, such as "--print" */
    const char *alias;  /* the short name, such as "-h", or NULL */
    const char *arg;    /* the argument as --help shows it ("FILE"), or NULL: a switch takes none */
    const char *help;   /* its line in the short --help, or NULL: only the manual describes it */
    CliHandler *handle; /* applies it: one of cli.c's setters, or a handler of its own */
    size_t field;       /* for the setters: offsetof(Options, the member written); 0 for none */
    size_t have;        /* for the number setters: offsetof the bool saying it was given; 0 for none */
    uint64_t min, max;  /* for the number setters: the accepted range */
    OutputMode mode;    /* for the mode setters: the mode the flag selects */
    const char *empty;  /* for the text setters: why "" is refused ("needs a file name"); NULL accepts "" */
    bool config;        /* a configuration flag: given without a LESSON, it implies --no-lesson */
};

/* The number of rows in the flag table. */
size_t cli_flag_count(void);

/* Row i of the flag table (static storage), or NULL when i >= cli_flag_count(). */
const CliFlag *cli_flag(size_t i);

/* The row whose name or alias is exactly name, or NULL. */
const CliFlag *cli_flag_find(const char *name);

/* Parses argv into opts (which it initialises). Long options take their
 * value as the next argument or after '='. Errors: STATUS_USAGE for an
 * unknown flag, a missing or malformed value; STATUS_NOINPUT for a
 * --sentence-file that cannot be read; STATUS_DATAERR for a sentence or ids
 * that are not valid, or sizes that do not fit together. Messages start with
 * the flag or FILE:LINE:COL, never with the program name. On failure opts is
 * released. */
bool cli_parse(int argc, char **argv, Options *opts, Error *err);

/* Applies the configuration flags onto cfg (the article's, or a lesson's)
 * and validates the result (not with --weights: the files may still
 * change the sizes, and weights_load validates). With --model DIR the
 * sizes come from DIR/config.json and the sentence (the article's when none
 * is given) is tokenized by DIR/vocab.json and merges.txt, or --token-ids
 * are taken as they are; --layer must be below n_layer and the tokens at
 * most n_positions (STATUS_DATAERR, one line each); the checkpoint's and
 * the tokenizer's own errors come through (STATUS_NOINPUT, STATUS_DATAERR).
 * A lesson's configuration that walks a model (cfg->model set, no
 * --model) is taken as --model of that checkpoint at the lesson's layer
 * (--layer overrides it), its sentence or token ids kept unless the
 * flags give others.
 * Errors as for cli_parse. */
bool cli_apply_config(const ConfigFlags *flags, Config *cfg, Error *err);

/* Releases what opts owns. */
void cli_options_free(Options *opts);

/* The --help text, made from the flag table's help lines (static storage,
 * built once; safe to call from any thread). */
const char *cli_usage(void);

#endif
