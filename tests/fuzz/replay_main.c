/*
 * replay_main.c - runs a fuzz harness over files, without libFuzzer.
 *
 *     build/fuzz-replay-lesson tests/fuzz/corpus/lesson [FILE|DIR]...
 *
 * Each argument is a file, or a directory whose regular files (not those
 * starting with '.') are read in name order. Each file is handed whole to
 * LLVMFuzzerTestOneInput in a buffer of exactly its size, so a sanitized
 * build catches a read past the end. Prints "fuzz replay NAME: N inputs
 * ok", NAME taken from the program's name after "fuzz-replay-". A harness
 * that finds a broken invariant aborts; the file being replayed is then
 * named on stderr. Set FUZZ_REPLAY_VERBOSE=1 to name every file.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTN_FUZZ_HAVE_ASAN 1
#endif
#endif

static const char *current_path = "";

/* On a crash or an abort, says which input did it, then dies as before. */
static void on_fatal_signal(int sig)
{
    static const char what[] = "fuzz replay: crashed on input: ";
    ssize_t ignored = write(STDERR_FILENO, what, sizeof what - 1);
    ignored = write(STDERR_FILENO, current_path, strlen(current_path));
    ignored = write(STDERR_FILENO, "\n", 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads the file at path whole into a buffer of exactly its size (at
 * least one byte allocated). Returns false when it cannot be read. */
static bool read_whole(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool ok = buf != NULL && !ferror(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    /* an exact-size copy, so that a read one byte past the input is caught */
    uint8_t *exact = malloc(len > 0 ? len : 1);
    if (exact == NULL) {
        free(buf);
        return false;
    }
    if (len > 0)
        memcpy(exact, buf, len);
    free(buf);
    *data = exact;
    *size = len;
    return true;
}

/* Replays one file; false when it cannot be read. */
static bool replay_file(const char *path, bool verbose)
{
    uint8_t *data;
    size_t size;
    if (!read_whole(path, &data, &size)) {
        fprintf(stderr, "fuzz replay: cannot read %s: %s\n", path, strerror(errno));
        return false;
    }
    if (verbose)
        fprintf(stderr, "fuzz replay: %s (%zu bytes)\n", path, size);
    current_path = path;
    LLVMFuzzerTestOneInput(data, size);
    current_path = "";
    free(data);
    return true;
}

/* Skips dot files (and "." and ".."). */
static int not_hidden(const struct dirent *entry)
{
    return entry->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/');
    name = name != NULL ? name + 1 : argv[0];
    if (strncmp(name, "fuzz-replay-", 12) == 0)
        name += 12;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, on_fatal_signal);
#if !defined(__SANITIZE_ADDRESS__) && !defined(ATTN_FUZZ_HAVE_ASAN)
    /* AddressSanitizer reports these itself, with the stack: leave them to it */
    signal(SIGSEGV, on_fatal_signal);
    signal(SIGBUS, on_fatal_signal);
    signal(SIGFPE, on_fatal_signal);
#endif
    const char *verbose_env = getenv("FUZZ_REPLAY_VERBOSE");
    bool verbose = verbose_env != NULL && *verbose_env != '\0' && strcmp(verbose_env, "0") != 0;

    long inputs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz replay %s: %s: %s\n", name, argv[i], strerror(errno));
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (!replay_file(argv[i], verbose))
                return 1;
            inputs++;
            continue;
        }
        struct dirent **entries;
        int n = scandir(argv[i], &entries, not_hidden, alphasort);
        if (n < 0) {
            fprintf(stderr, "fuzz replay %s: %s: %s\n", name, argv[i], strerror(errno));
            return 1;
        }
        bool ok = true;
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], entries[k]->d_name);
            if (ok && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                ok = replay_file(path, verbose);
                inputs++;
            }
            free(entries[k]);
        }
        free(entries);
        if (!ok)
            return 1;
    }
    if (inputs == 0) {
        fprintf(stderr, "fuzz replay %s: no inputs found\n", name);
        return 1;
    }
    printf("fuzz replay %s: %ld inputs ok\n", name, inputs);
    return 0;
}
