/*
 * steps_expected.h - the tests' own list of the steps, read from
 * tests/steps.expected (one "NUMBER<TAB>ID<TAB>TITLE" line per step, '#'
 * lines are comments), for the C tests that check the step table and
 * what reads it. The shell tests read the same file.
 */
#ifndef ATTN_TEST_STEPS_EXPECTED_H
#define ATTN_TEST_STEPS_EXPECTED_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECTED_MAX_STEPS 64

typedef struct ExpectedSteps {
    int n;                              /* lines read */
    char id[EXPECTED_MAX_STEPS][32];    /* "tokenize", in file order */
    char title[EXPECTED_MAX_STEPS][96]; /* "Turn the words into token ids" */
} ExpectedSteps;

/* Where the list is: $ATTN_STEPS_EXPECTED, else tests/steps.expected. */
static inline const char *expected_steps_path(void)
{
    const char *path = getenv("ATTN_STEPS_EXPECTED");
    return path != NULL && *path != '\0' ? path : "tests/steps.expected";
}

/* Reads the list into out (caller's storage). Fails the running test when
 * the file cannot be read, a line is malformed, or the numbers do not
 * count 1, 2, 3... */
static inline void expected_steps_load(ExpectedSteps *out)
{
    FILE *f = fopen(expected_steps_path(), "r");
    ck_assert_msg(f != NULL, "cannot read %s", expected_steps_path());
    char line[256];
    out->n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *id = strchr(line, '\t'), *title = id != NULL ? strchr(id + 1, '\t') : NULL;
        ck_assert_msg(title != NULL, "%s: expected NUMBER<TAB>ID<TAB>TITLE, got '%s'", expected_steps_path(), line);
        *id++ = '\0';
        *title++ = '\0';
        ck_assert_msg(out->n < EXPECTED_MAX_STEPS, "%s: more than %d steps", expected_steps_path(), EXPECTED_MAX_STEPS);
        ck_assert_msg(atoi(line) == out->n + 1, "%s: step %s is numbered %s, expected %d", expected_steps_path(), id,
                      line, out->n + 1);
        snprintf(out->id[out->n], sizeof out->id[out->n], "%s", id);
        snprintf(out->title[out->n], sizeof out->title[out->n], "%s", title);
        out->n++;
    }
    fclose(f);
    ck_assert_msg(out->n > 0, "%s lists no steps", expected_steps_path());
}

#endif
