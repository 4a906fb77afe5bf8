/*
 * fuzz_cli.c - command-line parsing (cli.c) on arbitrary argument lists.
 *
 * The input is split at NUL bytes into at most MAX_WORDS words, which
 * follow argv[0] = "attn-trace". cli_parse must never crash, must report
 * a failure as one printable line with a usage, data or input status and
 * leave nothing allocated, and on success must give options within their
 * documented ranges and a configuration that validates (but with
 * --weights, whose files may still set the sizes: main validates after
 * reading them). --sentence-file never reads a path from the input: its
 * value is replaced by a file this harness writes once. After a successful parse, --keys is parsed as main
 * does for --dump-screen, and the trace's size is worked out.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "fuzz.h"
#include "keys.h"
#include "trace.h"

#define MAX_WORDS 32
#define SENTENCE_FLAG "--sentence-file"

static char sentence_path[64];

static void remove_sentence_file(void)
{
    if (sentence_path[0] != '\0')
        unlink(sentence_path);
}

/* The file every --sentence-file reads, made once. */
static const char *sentence_file(void)
{
    if (sentence_path[0] != '\0')
        return sentence_path;
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || *dir == '\0' || strlen(dir) > 30)
        dir = "/tmp";
    snprintf(sentence_path, sizeof sentence_path, "%s/attn-fuzz-cli-XXXXXX", dir);
    int fd = mkstemp(sentence_path);
    FUZZ_CHECK(fd >= 0, "cannot create the sentence file %s", sentence_path);
    static const char text[] = "the cat sat on the mat\n";
    FUZZ_CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1), "cannot write the sentence file");
    close(fd);
    atexit(remove_sentence_file);
    return sentence_path;
}

/* True when word is one of argv's words (pointers, not contents). */
static bool points_into(const char *word, char **argv, int argc)
{
    for (int i = 0; i < argc; i++)
        if (word >= argv[i] && word <= argv[i] + strlen(argv[i]))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 1. the words: a copy of the input, NUL-terminated, split at NULs */
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    static char program[] = "attn-trace";
    static char sentence_flag_value[96];
    char *argv[MAX_WORDS + 2];
    int argc = 0;
    argv[argc++] = program;
    for (size_t at = 0; at < size && argc < MAX_WORDS + 1;) {
        argv[argc++] = text + at;
        at += strlen(text + at) + 1;
    }
    argv[argc] = NULL;

    /* 2. no path of the input is ever opened */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], SENTENCE_FLAG) == 0 && i + 1 < argc) {
            argv[i + 1] = (char *)sentence_file();
            i++;
        } else if (strncmp(argv[i], SENTENCE_FLAG "=", strlen(SENTENCE_FLAG) + 1) == 0) {
            snprintf(sentence_flag_value, sizeof sentence_flag_value, "%s=%s", SENTENCE_FLAG, sentence_file());
            argv[i] = sentence_flag_value;
        }
    }

    /* 3. parse */
    Options opts;
    Error err;
    error_clear(&err);
    if (!cli_parse(argc, argv, &opts, &err)) {
        FUZZ_CHECK(err.status == STATUS_USAGE || err.status == STATUS_DATAERR || err.status == STATUS_NOINPUT ||
                       err.status == STATUS_FAILURE,
                   "status %d", err.status);
        FUZZ_CHECK(err.message[0] != '\0', "a failure without a message");
        FUZZ_CHECK(strncmp(err.message, PROGRAM_NAME, strlen(PROGRAM_NAME)) != 0, "message starts with the program: %s",
                   err.message);
        for (const char *c = err.message; *c != '\0'; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in message '%s'", err.message);
        FUZZ_CHECK(opts.config.sentence == NULL && opts.config.tokens == NULL && opts.config.token_ids == NULL,
                   "a failed parse kept its configuration");
        free(text);
        return 0;
    }

    /* 4. what a success promises */
    FUZZ_CHECK(opts.precision >= 0 && opts.precision <= 9, "precision %d", opts.precision);
    FUZZ_CHECK(opts.screen_cols >= 1 && opts.screen_cols <= 1000 && opts.screen_rows >= 1 && opts.screen_rows <= 1000,
               "size %dx%d", opts.screen_cols, opts.screen_rows);
    FUZZ_CHECK(opts.autoplay_ms >= 0 && opts.autoplay_ms <= 600000, "autoplay %d ms", opts.autoplay_ms);
    if (opts.lesson != NULL)
        FUZZ_CHECK(points_into(opts.lesson, argv, argc), "lesson does not point into argv");
    if (opts.step != NULL)
        FUZZ_CHECK(points_into(opts.step, argv, argc), "step does not point into argv");
    for (int i = 0; i < opts.n_check_files; i++)
        FUZZ_CHECK(points_into(opts.check_files[i], argv, argc), "check file %d does not point into argv", i);
    bool early = opts.help || opts.version || opts.list_lessons || opts.check;
    if (opts.check && !opts.help && !opts.version && !opts.list_lessons)
        FUZZ_CHECK(opts.n_check_files >= 1, "--check with no files");
    if (!early) {
        /* with --weights the files may still set the sizes; weights_load validates */
        if (opts.flags.weights_dir == NULL)
            FUZZ_CHECK(config_validate(&opts.config, &err), "the parsed config does not validate: %s", err.message);
        FUZZ_CHECK(opts.config.n_tokens >= 1 && opts.config.tokens != NULL && opts.config.token_ids != NULL,
                   "no tokens");
        if (opts.flags.weights_dir == NULL)
            (void)trace_bytes(&opts.config);
        if (opts.keys != NULL) {
            static KeyCode codes[4096];
            size_t n = 0;
            error_clear(&err);
            if (!keys_parse(opts.keys, codes, sizeof codes / sizeof codes[0], &n, &err))
                FUZZ_CHECK(err.status == STATUS_USAGE && err.message[0] != '\0', "keys_parse failed with status %d",
                           err.status);
            else
                FUZZ_CHECK(n <= sizeof codes / sizeof codes[0], "%zu keys", n);
        }
    }
    cli_options_free(&opts);
    free(text);
    return 0;
}
