/*
 * fuzz_progress.c - progress.c: the input is a whole progress file, handed
 * to progress_parse as progress_load reads <key>.progress.
 *
 * A refusal must give a reason: one printable line. An accepted file must
 * keep what progress.h promises: the key the one asked for, last_step and
 * updated in range, every quiz letter a valid result, the magic and end
 * lines in place, and the canonical text of the record (rebuilt here,
 * independently of the writer) parsing back to the same record.
 * Merging it into a fresh record keeps every result and the step.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "progress.h"

static const char KEY[] = "3f2a0c9d11b7e805-c0ffee0000000001";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Progress p;
    memset(&p, 0, sizeof p);
    char why[256] = "";
    if (!progress_parse((const char *)data, size, KEY, &p, why, sizeof why)) {
        FUZZ_CHECK(why[0] != '\0', "a refusal without a reason");
        for (const char *c = why; *c != '\0'; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in reason '%s'", why);
        return 0;
    }
    FUZZ_CHECK(strcmp(p.lesson_key, KEY) == 0, "key '%s'", p.lesson_key);
    FUZZ_CHECK(p.last_step >= 0 && p.last_step <= PROGRESS_MAX_STEP, "last_step %d", p.last_step);
    FUZZ_CHECK(p.n_quizzes >= 0 && p.n_quizzes <= PROGRESS_MAX_QUIZZES, "n_quizzes %d", p.n_quizzes);
    FUZZ_CHECK(p.updated >= 0 && p.updated <= PROGRESS_MAX_UPDATED, "updated %lld", p.updated);
    /* the canonical text, rebuilt independently of progress.c's writer */
    static const char letters[] = "UFTSR";
    char text[PROGRESS_MAX_FILE_BYTES + 64];
    int n = snprintf(text, sizeof text, "attn-trace-progress 1\nkey: %s\nlast_step: %d\nquizzes:", KEY, p.last_step);
    for (int i = 0; i < p.n_quizzes; i++) {
        FUZZ_CHECK((int)p.quizzes[i] >= 0 && (int)p.quizzes[i] < 5, "quiz %d: %d", i, (int)p.quizzes[i]);
        n += snprintf(text + n, sizeof text - (size_t)n, " %c", letters[p.quizzes[i]]);
    }
    n += snprintf(text + n, sizeof text - (size_t)n, "\nupdated: %lld\nend\n", p.updated);
    /* the file may spell a number with leading zeros; its lines are still
     * the canonical ones in order, and the canonical text parses back to
     * the same record */
    FUZZ_CHECK(size >= 26 && memcmp(data, "attn-trace-progress 1\n", 22) == 0 &&
                   memcmp(data + size - 5, "\nend\n", 5) == 0,
               "accepted a file without the magic line or the end line");
    Progress again;
    memset(&again, 0, sizeof again);
    FUZZ_CHECK(progress_parse(text, (size_t)n, KEY, &again, why, sizeof why), "the canonical text is refused: %s", why);
    FUZZ_CHECK(again.last_step == p.last_step && again.n_quizzes == p.n_quizzes && again.updated == p.updated &&
                   memcmp(again.quizzes, p.quizzes, sizeof p.quizzes) == 0,
               "the canonical text parses to another record");
    Progress fresh;
    memset(&fresh, 0, sizeof fresh);
    progress_merge(&fresh, &p, true);
    FUZZ_CHECK(fresh.last_step == p.last_step && fresh.n_quizzes == p.n_quizzes, "merge lost the step or quizzes");
    for (int i = 0; i < p.n_quizzes; i++)
        FUZZ_CHECK(fresh.quizzes[i] == p.quizzes[i], "merge changed quiz %d", i);
    return 0;
}
