/*
 * progress_writer.c - a helper for tests/progress_kill_test.sh: saves one
 * lesson's progress over and over, so the test can kill it mid-save and
 * check that the file on disk is always whole.
 *
 *   progress-writer DIR          save version A, then B, then A ... forever
 *   progress-writer --once DIR   save version A once
 *   progress-writer --check DIR  load it: prints "A" or "B" (exit 0),
 *                                "absent" (exit 3), or what is wrong (exit 1)
 *
 * The two versions differ in every field, and each has 200 quizzes, so a
 * mix of the two or a part of one cannot pass for either.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

#define WRITER_QUIZZES 200

/* Version v (0 = A, 1 = B) of the test lesson's progress. */
static Progress version(int v)
{
    Progress p;
    memset(&p, 0, sizeof p);
    progress_key("/attn-trace/kill-test.lesson", 0xc0ffee0000000042u, p.lesson_key, sizeof p.lesson_key);
    p.last_step = v == 0 ? 7 : 8;
    p.n_quizzes = WRITER_QUIZZES;
    for (int i = 0; i < WRITER_QUIZZES; i++)
        p.quizzes[i] = (QuizResult)(v == 0 ? i % 5 : (i * 3 + 1) % 5);
    p.updated = v == 0 ? 1700000000 : 1800000000;
    return p;
}

static bool same(const Progress *a, const Progress *b)
{
    if (strcmp(a->lesson_key, b->lesson_key) != 0 || a->last_step != b->last_step || a->n_quizzes != b->n_quizzes ||
        a->updated != b->updated)
        return false;
    return memcmp(a->quizzes, b->quizzes, (size_t)a->n_quizzes * sizeof a->quizzes[0]) == 0;
}

static int check(const char *dir)
{
    Progress a = version(0), b = version(1), loaded;
    bool found = false;
    Error err;
    error_clear(&err);
    bool usable = progress_load(dir, a.lesson_key, &loaded, &found, &err);
    const char *warning = usable ? "" : err.message;
    if (!found && warning[0] == '\0') {
        puts("absent");
        return 3;
    }
    if (!found) {
        printf("unusable: %s\n", warning);
        return 1;
    }
    if (same(&loaded, &a) || same(&loaded, &b)) {
        puts(same(&loaded, &a) ? "A" : "B");
        return 0;
    }
    puts("valid, but neither A nor B");
    return 1;
}

int main(int argc, char **argv)
{
    Error err;
    error_clear(&err);
    if (argc == 3 && strcmp(argv[1], "--check") == 0)
        return check(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--once") == 0) {
        Progress a = version(0);
        if (!progress_save(argv[2], &a, &err)) {
            fprintf(stderr, "progress-writer: %s\n", err.message);
            return 1;
        }
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: progress-writer [--once | --check] DIR\n");
        return 2;
    }
    Progress versions[2] = {version(0), version(1)};
    for (unsigned long n = 0;; n++) {
        if (!progress_save(argv[1], &versions[n % 2], &err)) {
            fprintf(stderr, "progress-writer: %s\n", err.message);
            return 1;
        }
    }
}
