/*
 * check_lesson.c - the lesson parser: the corpus in tests/lessons (every
 * bad-*.lesson must give exactly the errors of its .expected file, every
 * good-*.lesson must parse to the right fields), answer checking, the
 * error cap, the limits and lesson_load.
 *
 * ATTN_LESSON_DIR overrides where the corpus is (default tests/lessons,
 * as make check runs from the top of the tree). Errors always name a bad
 * file "tests/lessons/NAME", as the .expected files do.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath */
#endif

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answer.h"
#include "catalog.h"
#include "lesson.h"
#include "progress.h"
#include "steps_expected.h"
#include "fixture.h"
#include "suites.h"

#define MIN_BAD_CASES 40
#define MIN_GOOD_CASES 6

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* Where the corpus is: $ATTN_LESSON_DIR, else tests/lessons. */
static const char *lesson_dir(void)
{
    const char *dir = getenv("ATTN_LESSON_DIR");
    return dir != NULL && *dir != '\0' ? dir : "tests/lessons";
}

/* Reads the whole file at path; NULL when it cannot. The caller frees it. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap + 1);
            ck_assert_ptr_nonnull(data);
        }
        size_t got = fread(data + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

/* qsort order for file names. */
static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the corpus files starting with prefix and ending in
 * ".lesson", sorted; *n receives their count. Free with free_names. */
static char **list_corpus(const char *prefix, size_t *n)
{
    DIR *dir = opendir(lesson_dir());
    ck_assert_msg(dir != NULL, "cannot open the lesson corpus %s", lesson_dir());
    char **names = NULL;
    *n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0 || len < 7 ||
            strcmp(entry->d_name + len - 7, ".lesson") != 0)
            continue;
        names = realloc(names, (*n + 1) * sizeof *names);
        ck_assert_ptr_nonnull(names);
        names[(*n)++] = strdup(entry->d_name);
    }
    closedir(dir);
    if (*n > 0)
        qsort(names, *n, sizeof *names, compare_names);
    return names;
}

/* Frees what list_corpus returned. */
static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Parses corpus file name (named "tests/lessons/NAME" in errors). */
static bool parse_corpus(const char *name, Lesson *lesson, LessonErrors *errors, uint64_t *raw_hash)
{
    char path[1024], shown[1024];
    snprintf(path, sizeof path, "%s/%s", lesson_dir(), name);
    snprintf(shown, sizeof shown, "tests/lessons/%s", name);
    size_t len;
    char *text = read_all(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    if (raw_hash != NULL) { /* FNV-1a 64, written out independently of lesson.c */
        uint64_t h = 14695981039346656037ull;
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
        *raw_hash = h;
    }
    bool ok = lesson_parse(text, len, shown, lesson, errors);
    free(text);
    return ok;
}

/* Parses a good corpus file, failing the test with its errors if any. */
static void parse_good(const char *name, Lesson *lesson)
{
    LessonErrors errors;
    bool ok = parse_corpus(name, lesson, &errors, NULL);
    ck_assert_msg(ok, "%s should parse, got:\n%s", name, strbuf_text(&errors.text));
    lesson_errors_free(&errors);
}

/* Parses text from a string; errors name it "t.lesson". */
static bool parse_text(const char *text, Lesson *lesson, LessonErrors *errors)
{
    return lesson_parse(text, strlen(text), "t.lesson", lesson, errors);
}

/* Number of lines of s. */
static int count_lines(const char *s)
{
    int n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* ------------------------------------------------------------------------
 * The corpus
 * ---------------------------------------------------------------------- */

START_TEST(test_bad_corpus)
{
    size_t n;
    char **names = list_corpus("bad-", &n);
    ck_assert_msg(n >= MIN_BAD_CASES, "only %zu bad lessons in %s (want %d or more)", n, lesson_dir(), MIN_BAD_CASES);
    for (size_t i = 0; i < n; i++) {
        Lesson lesson;
        LessonErrors errors;
        bool ok = parse_corpus(names[i], &lesson, &errors, NULL);
        ck_assert_msg(!ok, "%s parsed without an error", names[i]);

        /* the errors are exactly the .expected file */
        char path[1024];
        snprintf(path, sizeof path, "%s/%.*s.expected", lesson_dir(), (int)(strlen(names[i]) - 7), names[i]);
        size_t len;
        char *expected = read_all(path, &len);
        ck_assert_msg(expected != NULL, "%s has no .expected file (%s)", names[i], path);
        ck_assert_msg(strcmp(strbuf_text(&errors.text), expected) == 0, "%s:\n--- expected\n%s--- got\n%s", names[i],
                      expected, strbuf_text(&errors.text));
        ck_assert_int_eq(errors.count, count_lines(expected));

        /* in file order, and the lesson released */
        int last_line = 0;
        for (const char *p = strbuf_text(&errors.text); *p != '\0'; p = strchr(p, '\n') + 1) {
            int line = 0;
            const char *colon = strchr(p, ':');
            if (colon != NULL && sscanf(colon + 1, "%d:", &line) == 1) {
                ck_assert_msg(line >= last_line, "%s: errors out of order at line %d", names[i], line);
                last_line = line;
            }
        }
        ck_assert_ptr_null(lesson.title);
        ck_assert_int_eq(lesson.n_steps, 0);
        ck_assert_ptr_null(lesson.config.tokens);
        free(expected);
        lesson_errors_free(&errors);
    }
    free_names(names, n);
}
END_TEST

START_TEST(test_good_corpus)
{
    size_t n;
    char **names = list_corpus("good-", &n);
    ck_assert_msg(n >= MIN_GOOD_CASES, "only %zu good lessons in %s (want %d or more)", n, lesson_dir(),
                  MIN_GOOD_CASES);
    for (size_t i = 0; i < n; i++) {
        Lesson lesson;
        LessonErrors errors;
        uint64_t hash;
        bool ok = parse_corpus(names[i], &lesson, &errors, &hash);
        ck_assert_msg(ok, "%s should parse, got:\n%s", names[i], strbuf_text(&errors.text));
        ck_assert_int_eq(errors.count, 0);
        ck_assert_str_eq(strbuf_text(&errors.text), "");
        ck_assert_msg(lesson.hash == hash, "%s: hash %016llx, want %016llx", names[i], (unsigned long long)lesson.hash,
                      (unsigned long long)hash);
        ck_assert_ptr_nonnull(lesson.title);
        ck_assert_ptr_nonnull(lesson.author);
        ck_assert_int_ge(lesson.n_steps, 1);
        lesson_free(&lesson);
        lesson_errors_free(&errors);
    }
    free_names(names, n);
}
END_TEST

START_TEST(test_good_minimal_is_the_article)
{
    Lesson lesson;
    parse_good("good-minimal.lesson", &lesson);
    ExpectedSteps want; /* every step, in order */
    expected_steps_load(&want);
    ck_assert_str_eq(lesson.title, "Minimal");
    ck_assert_str_eq(lesson.author, "");
    ck_assert_int_eq(lesson.precision, 4);
    ck_assert_int_eq(lesson.n_steps, want.n);
    for (int i = 0; i < want.n; i++) {
        ck_assert_str_eq(lesson.steps[i].id, want.id[i]);
        ck_assert_ptr_null(lesson.steps[i].text);
        ck_assert_ptr_null(lesson.steps[i].notes);
        ck_assert_int_eq(lesson.steps[i].n_quizzes, 0);
        ck_assert_int_eq(lesson.steps[i].line, 0);
    }
    const Config *cfg = &lesson.config;
    static const long article_ids[] = {2, 6, 8, 3, 1};
    ck_assert_str_eq(cfg->sentence, "my name is Marcello Politi");
    ck_assert_uint_eq(cfg->n_tokens, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cfg->token_ids[i], article_ids[i]);
    ck_assert_str_eq(cfg->tokens[3], "marcello");
    ck_assert_uint_eq(cfg->vocab_size, 10);
    ck_assert_uint_eq(cfg->d_model, 16);
    ck_assert_uint_eq(cfg->heads, 4);
    ck_assert_uint_eq(cfg->focus, 1);
    ck_assert_uint_eq(cfg->seed, 0);
    ck_assert(!cfg->causal);
    lesson_free(&lesson);
}
END_TEST

START_TEST(test_good_full)
{
    Lesson lesson;
    parse_good("good-full.lesson", &lesson);
    ck_assert_str_eq(lesson.title, "Softmax up close");
    ck_assert_str_eq(lesson.author, "A. Teacher");
    ck_assert_int_eq(lesson.precision, 3);

    /* the configuration: the words label the given ids */
    const Config *cfg = &lesson.config;
    static const long ids[] = {4, 0, 3, 2, 4, 1};
    static const char *const words[] = {"the", "cat", "sat", "on", "the", "mat"};
    ck_assert_str_eq(cfg->sentence, "the cat sat on the mat");
    ck_assert_uint_eq(cfg->n_tokens, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(cfg->token_ids[i], ids[i]);
        ck_assert_str_eq(cfg->tokens[i], words[i]);
    }
    ck_assert_uint_eq(cfg->vocab_size, 5);
    ck_assert_uint_eq(cfg->seed, UINT64_MAX);
    ck_assert_uint_eq(cfg->d_model, 8);
    ck_assert_uint_eq(cfg->heads, 2);
    ck_assert_uint_eq(cfg->focus, 2);
    ck_assert(!cfg->causal);

    /* the walk */
    ck_assert_int_eq(lesson.n_steps, 3);
    ck_assert_str_eq(lesson.steps[0].id, "embed");
    ck_assert_str_eq(lesson.steps[1].id, "scores");
    ck_assert_str_eq(lesson.steps[2].id, "softmax");

    /* embed: text (blank runs collapsed, '#' lines kept), notes (comments dropped), a shape quiz */
    const LessonStep *embed = &lesson.steps[0];
    ck_assert_int_eq(embed->line, 18);
    ck_assert_str_eq(embed->text,
                     "Each of the six tokens picks its row of the `embedding` table.\n"
                     "This line joins the paragraph.\n"
                     "\n"
                     "The word \"the\" appears twice, so two rows are **identical**.\n"
                     "\n"
                     "- a bullet\n"
                     "- another bullet\n"
                     "# a line of step text that starts with '#' is text");
    ck_assert_str_eq(embed->notes, "Select a row and press Enter.\n\nAsk the room why two rows match.");
    ck_assert_int_eq(embed->n_quizzes, 1);
    const Quiz *q = &embed->quizzes[0];
    ck_assert_int_eq(q->kind, QUIZ_SHAPE);
    ck_assert_int_eq(q->line, 30);
    ck_assert(q->before);
    ck_assert_str_eq(q->question, "What is the shape of sentence_embed?");
    ck_assert_str_eq(q->answer, "[6, 8]");
    ck_assert_int_eq(q->shape_ndim, 2);
    ck_assert_uint_eq(q->shape[0], 6);
    ck_assert_uint_eq(q->shape[1], 8);
    ck_assert_int_eq(q->n_hints, 2);
    ck_assert_str_eq(q->hints[0], "One row per token.");
    ck_assert_str_eq(q->hints[1], "One column per number of the embedding.");
    ck_assert_str_eq(q->explain, "Six tokens, 8 numbers each.");

    /* scores: walked, no section */
    ck_assert_int_eq(lesson.steps[1].line, 0);
    ck_assert_ptr_null(lesson.steps[1].text);
    ck_assert_int_eq(lesson.steps[1].n_quizzes, 0);

    /* softmax: a number, a token and a choice quiz */
    const LessonStep *softmax = &lesson.steps[2];
    ck_assert_str_eq(softmax->text, "Softmax turns scores into weights.");
    ck_assert_ptr_null(softmax->notes);
    ck_assert_int_eq(softmax->n_quizzes, 3);
    q = &softmax->quizzes[0];
    ck_assert_int_eq(q->kind, QUIZ_NUMBER);
    ck_assert_double_eq_tol(q->number, 1.0, 1e-12);
    ck_assert_double_eq_tol(q->tolerance, 0.0001, 1e-15);
    ck_assert(!q->before);
    ck_assert_ptr_null(q->explain);
    q = &softmax->quizzes[1];
    ck_assert_int_eq(q->kind, QUIZ_TOKEN);
    ck_assert_str_eq(q->answer, "Cat");
    ck_assert(quiz_check(q, "cat"));
    q = &softmax->quizzes[2];
    ck_assert_int_eq(q->kind, QUIZ_CHOICE);
    ck_assert_int_eq(q->n_choices, 3);
    ck_assert_str_eq(q->choices[2], "keys");
    ck_assert_int_eq(q->answer_choice, 0);
    ck_assert_str_eq(q->explain, "Every row sums to 1.");
    lesson_free(&lesson);
}
END_TEST

/* A model's token labels carry GPT-2's space mark (U+0120) before a word:
 * a learner types the word without it, and the revealed answer reads so. */
START_TEST(test_token_answer_without_space_mark)
{
    const char *label = "\xc4\xa0stone";
    ck_assert(quiz_token_matches("stone", 5, label, strlen(label)));
    ck_assert(quiz_token_matches("Stone", 5, label, strlen(label)));
    ck_assert(quiz_token_matches(label, strlen(label), label, strlen(label)));
    ck_assert(!quiz_token_matches("ston", 4, label, strlen(label)));
    ck_assert(!quiz_token_matches("", 0, "\xc4\xa0", 2)); /* the mark alone is not a word */
    ck_assert(!quiz_token_matches("stone", 5, "xstone", 6));
    Quiz quiz = {.kind = QUIZ_TOKEN, .answer = (char *)label};
    ck_assert(quiz_check(&quiz, "stone"));
    ck_assert(!quiz_check(&quiz, "river"));
    char text[32];
    quiz_answer_text(&quiz, text, sizeof text);
    ck_assert_str_eq(text, "stone");
}
END_TEST

/* Feedback ends "Right: b) keys." but not "Right: a) It is a sentence.." */
START_TEST(test_feedback_sentence_end)
{
    ck_assert_str_eq(quiz_sentence_end("b) keys"), ".");
    ck_assert_str_eq(quiz_sentence_end("a) Softmax of equal scores is even."), "");
    ck_assert_str_eq(quiz_sentence_end("Why?"), "");
    ck_assert_str_eq(quiz_sentence_end(""), ".");
}
END_TEST

START_TEST(test_good_crlf_and_bom)
{
    Lesson lesson;
    parse_good("good-crlf.lesson", &lesson);
    ck_assert_str_eq(lesson.title, "Windows line ends");
    ck_assert_int_eq(lesson.n_steps, 2);
    const LessonStep *step = lesson_find_step(&lesson, "softmax");
    ck_assert_ptr_nonnull(step);
    ck_assert_str_eq(step->text, "Text line one.\n\nText line two.");
    ck_assert_str_eq(step->quizzes[0].answer, "[5]");
    lesson_free(&lesson);

    parse_good("good-bom.lesson", &lesson);
    ck_assert_str_eq(lesson.title, "Starts with a BOM");
    ck_assert_str_eq(lesson.config.sentence, "été à côté");
    ck_assert_uint_eq(lesson.config.n_tokens, 3);
    ck_assert_int_eq(lesson.steps[0].line, 5);
    ck_assert_str_eq(lesson.steps[0].text, "Été: three tokens.");
    lesson_free(&lesson);
}
END_TEST

START_TEST(test_good_steps_order)
{
    Lesson lesson;
    parse_good("good-steps-order.lesson", &lesson);
    static const char *const order[] = {"softmax", "tokenize", "mh_output", "scores"};
    ck_assert_int_eq(lesson.n_steps, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(lesson.steps[i].id, order[i]);
    ck_assert_int_eq(lesson.steps[0].line, 6);
    ck_assert_str_eq(lesson.steps[0].text, "Sections may come in any order.");
    ck_assert_int_eq(lesson.steps[2].line, 4);
    ck_assert_str_eq(lesson.steps[2].text, "The last step, written first.");

    ck_assert_ptr_eq(lesson_find_step(&lesson, "softmax"), &lesson.steps[0]);
    ck_assert_ptr_eq(lesson_find_step(&lesson, "scores"), &lesson.steps[3]);
    ck_assert_ptr_null(lesson_find_step(&lesson, "embed")); /* a step, not walked */
    ck_assert_ptr_null(lesson_find_step(&lesson, "softmx"));
    ck_assert_ptr_null(lesson_find_step(&lesson, ""));
    ck_assert_ptr_null(lesson_find_step(&lesson, NULL));
    ck_assert_ptr_null(lesson_find_step(NULL, "softmax"));
    lesson_free(&lesson);
}
END_TEST

START_TEST(test_good_configs)
{
    Lesson lesson;
    parse_good("good-causal.lesson", &lesson);
    ck_assert(lesson.config.causal);
    ck_assert_uint_eq(lesson.config.focus, 3);
    ck_assert_uint_eq(lesson.config.heads, 8);
    ck_assert_uint_eq(lesson.config.d_model, 32);
    ck_assert_str_eq(lesson.config.sentence, "my name is Marcello Politi");
    lesson_free(&lesson);

    parse_good("good-token-ids.lesson", &lesson);
    static const long ids[] = {7, 3, 1, 42};
    static const char *const words[] = {"the", "quick", "brown", "fox"};
    ck_assert_uint_eq(lesson.config.n_tokens, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(lesson.config.token_ids[i], ids[i]);
        ck_assert_str_eq(lesson.config.tokens[i], words[i]);
    }
    ck_assert_uint_eq(lesson.config.vocab_size, 50);
    char answer[64];
    quiz_answer_text(&lesson.steps[0].quizzes[0], answer, sizeof answer);
    ck_assert_str_eq(answer, "fox");
    lesson_free(&lesson);

    /* ids without a sentence label themselves (not the article's words) */
    parse_good("good-ids-only.lesson", &lesson);
    ck_assert_ptr_null(lesson.config.sentence);
    ck_assert_uint_eq(lesson.config.n_tokens, 3);
    ck_assert_str_eq(lesson.config.tokens[0], "9");
    ck_assert_str_eq(lesson.config.tokens[1], "1");
    ck_assert_uint_eq(lesson.config.vocab_size, 10);
    lesson_free(&lesson);
}
END_TEST

START_TEST(test_good_quiz_kinds)
{
    Lesson lesson;
    parse_good("good-quiz-kinds.lesson", &lesson);
    /* embed: eight spellings of [5, 16], then [5] twice */
    const LessonStep *embed = lesson_find_step(&lesson, "embed");
    ck_assert_int_eq(embed->n_quizzes, 8);
    for (int i = 0; i < 8; i++) {
        const Quiz *q = &embed->quizzes[i];
        ck_assert_int_eq(q->shape_ndim, i < 6 ? 2 : 1);
        ck_assert_uint_eq(q->shape[0], 5);
        if (i < 6)
            ck_assert_uint_eq(q->shape[1], 16);
    }
    /* scores: two scalars, (5,) and a 4-D shape */
    const LessonStep *scores = lesson_find_step(&lesson, "scores");
    ck_assert_int_eq(scores->quizzes[0].shape_ndim, 0);
    ck_assert_int_eq(scores->quizzes[1].shape_ndim, 0);
    ck_assert_int_eq(scores->quizzes[2].shape_ndim, 1);
    ck_assert_int_eq(scores->quizzes[3].shape_ndim, 4);
    ck_assert_uint_eq(scores->quizzes[3].shape[3], 4);
    /* softmax: numbers as written, the default tolerance unless given */
    const LessonStep *softmax = lesson_find_step(&lesson, "softmax");
    static const double numbers[] = {0.25, -3, 1e-3, 0.5, 2, 7, 250};
    for (int i = 0; i < 7; i++) {
        ck_assert_double_eq_tol(softmax->quizzes[i].number, numbers[i], 1e-12);
        ck_assert_double_eq_tol(softmax->quizzes[i].tolerance, i == 0 ? 0.01 : 0.001, 1e-15);
    }
    /* scale: tokens in any case; choices by text, by a text that is a number, by number */
    const LessonStep *scale = lesson_find_step(&lesson, "scale");
    ck_assert_int_eq(scale->n_quizzes, 5);
    ck_assert_int_eq(scale->quizzes[2].answer_choice, 1);
    ck_assert_int_eq(scale->quizzes[3].answer_choice, 1); /* "3" is the text of choice 2 */
    ck_assert_int_eq(scale->quizzes[4].answer_choice, 1); /* "2" is the number of choice 2 */
    lesson_free(&lesson);
}
END_TEST

/* `=` answers, against PyTorch's numbers for the article's configuration
 * (tests/fixtures/article.txt, made by tests/make_fixtures.py): the values
 * here are read from the fixture, not from the trace the parser built. */
START_TEST(test_answer_exprs_against_torch)
{
    char why[256];
    Fixture *fx = fixture_load("tests/fixtures/article.txt", why, sizeof why);
    ck_assert_msg(fx != NULL, "%s", why);
    const FixtureTensor *a1 = fixture_find(fx, "single_head", "a1");
    const FixtureTensor *aw = fixture_find(fx, "multi_head", "attention_weights");
    const FixtureTensor *ss = fixture_find(fx, "single_head", "scaled_scores_1");
    ck_assert(a1 != NULL && aw != NULL && ss != NULL);
    size_t best = 0;
    double sum = 0, row_max = -1, least = ss->data[0];
    for (size_t i = 0; i < a1->size; i++) {
        best = a1->data[i] > a1->data[best] ? i : best;
        sum += a1->data[i];
    }
    for (size_t k = 0; k < 5; k++) /* head 2, query 4 */
        row_max = aw->data[(2 * 5 + 4) * 5 + k] > row_max ? aw->data[(2 * 5 + 4) * 5 + k] : row_max;
    for (size_t i = 0; i < ss->size; i++)
        least = ss->data[i] < least ? ss->data[i] : least;
    static const char *const words[] = {"my", "name", "is", "marcello", "politi"};

    Lesson lesson;
    parse_good("good-answer-exprs.lesson", &lesson);
    const LessonStep *softmax = lesson_find_step(&lesson, "softmax");
    ck_assert_str_eq(softmax->quizzes[0].answer, words[best]);
    ck_assert_str_eq(softmax->quizzes[0].expr, "argmax(a1)");
    ck_assert(quiz_check(&softmax->quizzes[0], words[best]));
    ck_assert_float_eq((float)softmax->quizzes[1].number, a1->data[3]); /* the float's shortest text */
    ck_assert_double_eq_tol(softmax->quizzes[2].number, sum, 1e-6);
    ck_assert_double_eq_tol(softmax->quizzes[3].number, (double)best, 1e-12);
    const LessonStep *project = lesson_find_step(&lesson, "mh_project");
    ck_assert_int_eq(project->quizzes[0].shape_ndim, 3);
    ck_assert_uint_eq(project->quizzes[0].shape[0], fx->heads);
    ck_assert_uint_eq(project->quizzes[0].shape[1], 5);
    ck_assert_uint_eq(project->quizzes[0].shape[2], fx->d_model / fx->heads);
    ck_assert_int_eq(project->quizzes[1].shape_ndim, 2);
    ck_assert(quiz_check(&project->quizzes[1], "[5, 4]"));
    const LessonStep *mh = lesson_find_step(&lesson, "mh_softmax");
    ck_assert_float_eq((float)mh->quizzes[0].number, aw->data[(1 * 5 + 1) * 5 + 2]);
    ck_assert_float_eq((float)mh->quizzes[1].number, (float)row_max);
    ck_assert_float_eq((float)mh->quizzes[2].number, (float)least);
    lesson_free(&lesson);
    fixture_free(fx);
}
END_TEST

/* ------------------------------------------------------------------------
 * Answers
 * ---------------------------------------------------------------------- */

START_TEST(test_quiz_check_shapes)
{
    Quiz q2 = {.kind = QUIZ_SHAPE, .shape_ndim = 2, .shape = {5, 16}};
    Quiz q1 = {.kind = QUIZ_SHAPE, .shape_ndim = 1, .shape = {5}};
    Quiz q0 = {.kind = QUIZ_SHAPE, .shape_ndim = 0};
    static const struct {
        int which;
        const char *typed;
        bool right;
    } cases[] = {
        {2, "[5, 16]", true},     {2, "(5,16)", true},      {2, "5x16", true},     {2, "5 16", true},
        {2, "5×16", true},        {2, "5 X 16", true},      {2, "5,16", true},     {2, "  [ 5 , 16 ]  ", true},
        {2, "(5, 16,)", true},    {2, "5  x  16", true},    {2, "[16, 5]", false}, {2, "[5]", false},
        {2, "[5, 16, 1]", false}, {2, "[5, 16)", false},    {2, "[5,,16]", false}, {2, "5x", false},
        {2, "5-16", false},       {2, "five by 16", false}, {2, "", false},        {2, "[[5, 16]]", false},
        {1, "5", true},           {1, "[5]", true},         {1, "(5,)", true},     {1, "[5,]", true},
        {1, "05", true},          {1, "[5, 1]", false},     {1, "[]", false},      {1, "[5x]", false},
        {0, "[]", true},          {0, "()", true},          {0, "[ ]", true},      {0, "", false},
        {0, "[0]", false},        {0, "1", false},          {0, "[,]", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Quiz *q = cases[i].which == 2 ? &q2 : cases[i].which == 1 ? &q1 : &q0;
        ck_assert_msg(quiz_check(q, cases[i].typed) == cases[i].right, "shape %d-D, typed '%s': want %s",
                      cases[i].which, cases[i].typed, cases[i].right ? "right" : "wrong");
    }
}
END_TEST

START_TEST(test_quiz_check_numbers)
{
    static const struct {
        double answer, tolerance;
        const char *typed;
        bool right;
    } cases[] = {
        {0.5, 0.001, "0.5", true},
        {0.5, 0.001, "0.501", true},
        {0.5, 0.001, "0.499", true},
        {0.5, 0.001, "0.5011", false},
        {0.5, 0.001, "0.4989", false},
        {0.5, 0.001, "5e-1", true},
        {0.5, 0.001, " .5 ", true},
        {0.5, 0.001, "+0.5", true},
        {0.5, 0.001, "0,5", false},
        {0.5, 0.001, "abc", false},
        {0.5, 0.001, "inf", false},
        {0.5, 0.001, "nan", false},
        {0.5, 0.001, "0x1p-1", false},
        {0.5, 0.001, "", false},
        {0.5, 0.001, "1e999", false},
        {3, 0, "3", true},
        {3, 0, "3.0", true},
        {3, 0, "3.0000001", false},
        {3, 0, "2.9999999", false},
        {-2, 0.1, "-2.1", true},
        {-2, 0.1, "-1.9", true},
        {-2, 0.1, "-2.11", false},
        {-2, 0.1, "2", false},
        {1000, 0.001, "1000.001", true},
        {1000, 0.001, "1000.0011", false},
        {0.0584, 0.0001, "0.0585", true},
        {0.0584, 0.0001, "0.0586", false},
        {1e-3, 1e-4, "1e-3", true},
        {1e-3, 1e-4, "0.0011", true},
        {1e-3, 1e-4, "1.2e-3", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Quiz q = {.kind = QUIZ_NUMBER, .number = cases[i].answer, .tolerance = cases[i].tolerance};
        ck_assert_msg(quiz_check(&q, cases[i].typed) == cases[i].right, "answer %g +- %g, typed '%s': want %s",
                      cases[i].answer, cases[i].tolerance, cases[i].typed, cases[i].right ? "right" : "wrong");
    }
}
END_TEST

START_TEST(test_quiz_check_tokens_and_choices)
{
    char marcello[] = "Marcello";
    Quiz token = {.kind = QUIZ_TOKEN, .answer = marcello};
    ck_assert(quiz_check(&token, "marcello"));
    ck_assert(quiz_check(&token, " MARCELLO "));
    ck_assert(quiz_check(&token, "Marcello"));
    ck_assert(!quiz_check(&token, "marcell"));
    ck_assert(!quiz_check(&token, "marcello politi"));
    ck_assert(!quiz_check(&token, ""));
    ck_assert(!quiz_check(&token, NULL));
    ck_assert(!quiz_check(NULL, "marcello"));

    char c1[] = "queries", c2[] = "keys", c3[] = "values";
    Quiz choice = {.kind = QUIZ_CHOICE, .n_choices = 3, .choices = {c1, c2, c3}, .answer_choice = 1};
    static const struct {
        const char *typed;
        bool right;
    } cases[] = {
        {"b", true},        {" B ", true},  {"keys", true}, {"KEYS", true}, {" Keys ", true},
        {"a", false},       {"c", false},   {"d", false},   {"2", false},   {"bb", false},
        {"queries", false}, {"key", false}, {"", false},    {"1", false},   {"b)", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(quiz_check(&choice, cases[i].typed) == cases[i].right, "choice, typed '%s': want %s",
                      cases[i].typed, cases[i].right ? "right" : "wrong");

    /* choices that are numbers: a choice's text decides before a number */
    char n2[] = "2", n3[] = "3", n4[] = "4";
    Quiz numeric = {.kind = QUIZ_CHOICE, .n_choices = 3, .choices = {n2, n3, n4}, .answer_choice = 1};
    ck_assert(quiz_check(&numeric, "3"));
    ck_assert(quiz_check(&numeric, "b"));  /* its label */
    ck_assert(!quiz_check(&numeric, "2")); /* the text of choice a) */
    ck_assert(!quiz_check(&numeric, "1"));
}
END_TEST

/* Issue 12: near misses of the section and block syntax, and choice texts
 * that read as another choice's label, are errors that say the fix. */
START_TEST(test_near_misses_and_choice_labels)
{
    static const struct {
        const char *body; /* after a header and "## embed" */
        const char *want; /* in the first error */
    } CASES[] = {
        {"##softmax\n", "t.lesson:7:1: '##softmax' is not a section line: a section starts with '## softmax'"},
        {"# softmax\n", "t.lesson:7:1: '# softmax' is not a section line"},
        {"  ### scores\n", "t.lesson:7:3: '### scores' is not a section line: a section starts with '## scores'"},
        {"::: quiz\nkind: number\nquestion: q?\nanswer: 1\n::: end\n",
         "t.lesson:11:5: a block closes with ':::' alone on its line, not '::: end'"},
        {"::: end\n", "t.lesson:7:5: a block closes with ':::' alone on its line, not '::: end'"},
        {"::: quiz\nkind: choice\nquestion: q?\nchoice: 3\nchoice: 2\nchoice: 1\nanswer: 3\n:::\n",
         "t.lesson:13:9: choice answer '3' is both the text of choice 1 and the label of choice 3"},
        {"::: quiz\nkind: choice\nquestion: q?\nchoice: a\nchoice: 1\nchoice: x\nanswer: x\n:::\n",
         "t.lesson:11:9: choice '1' reads as the label of choice 1 (choices are labelled 1, 2, ..."},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char text[1024];
        snprintf(text, sizeof text, "attn-lesson: 1\ntitle: t\n\n## embed\n\nSome text.\n%s", CASES[c].body);
        static Lesson lesson;
        LessonErrors errors = {0};
        ck_assert_msg(!parse_text(text, &lesson, &errors), "case %zu passed", c);
        ck_assert_msg(strstr(strbuf_text(&errors.text), CASES[c].want) == strbuf_text(&errors.text), "case %zu: %s", c,
                      strbuf_text(&errors.text));
        lesson_errors_free(&errors);
    }
    /* a choice answer given as a letter, and the old number form */
    static Lesson lesson;
    LessonErrors errors = {0};
    ck_assert(
        parse_text("attn-lesson: 1\ntitle: t\n\n## embed\n\n::: quiz\nkind: choice\nquestion: q?\n"
                   "choice: queries\nchoice: keys\nanswer: b\n:::\n",
                   &lesson, &errors));
    ck_assert_int_eq(lesson.steps[1].quizzes[0].answer_choice, 1);
    char buf[64];
    quiz_answer_text(&lesson.steps[1].quizzes[0], buf, sizeof buf);
    ck_assert_str_eq(buf, "b) keys");
    ck_assert(quiz_check(&lesson.steps[1].quizzes[0], "B"));
    ck_assert(!quiz_check(&lesson.steps[1].quizzes[0], "2")); /* one scheme: letters here */
    lesson_free(&lesson);
    /* single-letter choices (einsum letters) are labelled by number: typing d means the text d */
    ck_assert(
        parse_text("attn-lesson: 1\ntitle: t\n\n## embed\n\n::: quiz\nkind: choice\nquestion: q?\n"
                   "choice: s\nchoice: d\nchoice: h\nchoice: e\nanswer: d\n:::\n",
                   &lesson, &errors));
    const Quiz *letters = &lesson.steps[1].quizzes[0];
    ck_assert(quiz_check(letters, "d") && quiz_check(letters, "2") && !quiz_check(letters, "b"));
    quiz_answer_text(letters, buf, sizeof buf);
    ck_assert_str_eq(buf, "2) d");
    lesson_free(&lesson);
}
END_TEST

START_TEST(test_quiz_answer_text)
{
    char buf[64];
    Quiz shape = {.kind = QUIZ_SHAPE, .shape_ndim = 2, .shape = {5, 16}};
    quiz_answer_text(&shape, buf, sizeof buf);
    ck_assert_str_eq(buf, "[5, 16]");
    Quiz scalar = {.kind = QUIZ_SHAPE, .shape_ndim = 0};
    quiz_answer_text(&scalar, buf, sizeof buf);
    ck_assert_str_eq(buf, "[]");
    char written[] = "2.5e-1";
    Quiz number = {.kind = QUIZ_NUMBER, .answer = written, .number = 0.25, .tolerance = 0.001};
    quiz_answer_text(&number, buf, sizeof buf);
    ck_assert_str_eq(buf, "2.5e-1");
    char word[] = "Marcello";
    Quiz token = {.kind = QUIZ_TOKEN, .answer = word};
    quiz_answer_text(&token, buf, sizeof buf);
    ck_assert_str_eq(buf, "marcello");
    char c1[] = "scores", c2[] = "softmax", c3[] = "été";
    Quiz choice = {.kind = QUIZ_CHOICE, .n_choices = 3, .choices = {c1, c2, c3}, .answer_choice = 1};
    quiz_answer_text(&choice, buf, sizeof buf);
    ck_assert_str_eq(buf, "b) softmax");

    /* small buffers: cut, never in the middle of a character */
    quiz_answer_text(&shape, buf, 4);
    ck_assert_str_eq(buf, "[5,");
    choice.answer_choice = 2;
    quiz_answer_text(&choice, buf, 5); /* "c) é" needs 5 bytes and the NUL */
    ck_assert_str_eq(buf, "c) ");
    buf[0] = 'x';
    quiz_answer_text(&choice, buf, 0);
    ck_assert_int_eq(buf[0], 'x');
    quiz_answer_text(NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "");
}
END_TEST

/* ------------------------------------------------------------------------
 * Errors, limits, loading
 * ---------------------------------------------------------------------- */

/* A lesson whose header has n unknown keys (one error each). */
static char *lesson_with_errors(int n)
{
    StrBuf sb = {0};
    strbuf_puts(&sb, "attn-lesson: 1\ntitle: T\n");
    for (int i = 0; i < n; i++)
        strbuf_printf(&sb, "bad%d: x\n", i);
    return sb.data;
}

START_TEST(test_error_cap)
{
    static const int counts[] = {1, 19, 20, 21, 25, 500};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int n = counts[c];
        char *text = lesson_with_errors(n);
        Lesson lesson;
        LessonErrors errors;
        ck_assert(!parse_text(text, &lesson, &errors));
        const char *out = strbuf_text(&errors.text);
        int shown = n < LESSON_MAX_ERRORS ? n : LESSON_MAX_ERRORS;
        ck_assert_int_eq(count_lines(out), shown + (n > LESSON_MAX_ERRORS));
        ck_assert_int_eq(errors.count, shown + (n > LESSON_MAX_ERRORS));
        ck_assert(strncmp(out, "t.lesson:3:1: unknown key 'bad0'", 32) == 0);
        const char *stop = strstr(out, "t.lesson: too many errors; stopping\n");
        if (n > LESSON_MAX_ERRORS) {
            ck_assert_ptr_nonnull(stop);
            ck_assert_str_eq(stop, "t.lesson: too many errors; stopping\n"); /* the last line */
        } else {
            ck_assert_ptr_null(stop);
        }
        free(text);
        lesson_errors_free(&errors);
    }
}
END_TEST

/* Parses text (a full lesson); asserts it gives exactly `expected`, or
 * parses when expected is NULL. */
static void expect_errors(const char *what, const char *text, size_t len, const char *expected)
{
    Lesson lesson;
    LessonErrors errors;
    bool ok = lesson_parse(text, len, "t.lesson", &lesson, &errors);
    if (expected == NULL)
        ck_assert_msg(ok, "%s: should parse, got:\n%s", what, strbuf_text(&errors.text));
    else
        ck_assert_msg(!ok && strcmp(strbuf_text(&errors.text), expected) == 0, "%s:\n--- expected\n%s--- got\n%s", what,
                      expected, strbuf_text(&errors.text));
    lesson_free(&lesson);
    lesson_errors_free(&errors);
}

/* As expect_errors, for a NUL-terminated text. */
static void expect_text(const char *what, const char *text, const char *expected)
{
    expect_errors(what, text, strlen(text), expected);
}

/* A lesson with one step section holding `count` copies of block. */
static char *section_of(const char *head, const char *block, int count)
{
    StrBuf sb = {0};
    strbuf_puts(&sb, "attn-lesson: 1\ntitle: T\n\n## softmax\n\n");
    strbuf_puts(&sb, head);
    for (int i = 0; i < count; i++)
        strbuf_puts(&sb, block);
    strbuf_puts(&sb, ":::\n");
    return sb.data;
}

START_TEST(test_limits)
{
    /* 1. the file size: 1 MiB parses, one byte more does not */
    size_t big = LESSON_MAX_BYTES;
    char *text = malloc(big + 2);
    static const char head[] = "attn-lesson: 1\ntitle: Big\n\n## softmax\n\n";
    memcpy(text, head, sizeof head - 1);
    for (size_t i = sizeof head - 1; i < big + 1; i++)
        text[i] = (i % 100 == 99) ? '\n' : 'a';
    text[big - 1] = '\n';
    expect_errors("1 MiB", text, big, NULL);
    expect_errors("1 MiB + 1", text, big + 1, "t.lesson: larger than 1048576 bytes (LESSON_MAX_BYTES)\n");
    free(text);

    /* 2. line length: 4096 bytes, then 4097 */
    StrBuf sb = {0};
    strbuf_puts(&sb, "attn-lesson: 1\ntitle: T\n\n## softmax\n\n");
    strbuf_repeat(&sb, 'a', LESSON_MAX_LINE);
    strbuf_puts(&sb, "\n");
    expect_errors("4096-byte line", sb.data, sb.len, NULL);
    strbuf_puts(&sb, "é");
    strbuf_repeat(&sb, 'b', LESSON_MAX_LINE - 1);
    strbuf_puts(&sb, "\n");
    expect_errors("4097-byte line", sb.data, sb.len,
                  "t.lesson:7:4096: line is longer than 4096 bytes (LESSON_MAX_LINE)\n");
    strbuf_free(&sb);

    /* 3. hints and choices per quiz */
    static const char number_quiz[] = "::: quiz\nkind: number\nquestion: q\nanswer: 1\n";
    text = section_of(number_quiz, "hint: h\n", LESSON_MAX_HINTS);
    expect_errors("8 hints", text, strlen(text), NULL);
    free(text);
    text = section_of(number_quiz, "hint: h\n", LESSON_MAX_HINTS + 1);
    expect_errors("9 hints", text, strlen(text), "t.lesson:18:1: more than 8 hints in a quiz (LESSON_MAX_HINTS)\n");
    free(text);
    static const char choice_quiz[] = "::: quiz\nkind: choice\nquestion: q\nanswer: 1\n";
    StrBuf choices = {0};
    for (int i = 0; i <= LESSON_MAX_CHOICES; i++)
        strbuf_printf(&choices, "choice: c%d\n", i);
    text = section_of(choice_quiz, choices.data, 1);
    expect_errors("9 choices", text, strlen(text),
                  "t.lesson:18:1: more than 8 choices in a quiz (LESSON_MAX_CHOICES)\n");
    free(text);
    choices.len = 0;
    for (int i = 0; i < LESSON_MAX_CHOICES; i++)
        strbuf_printf(&choices, "choice: c%d\n", i);
    text = section_of(choice_quiz, choices.data, 1);
    expect_errors("8 choices", text, strlen(text), NULL);
    free(text);
    strbuf_free(&choices);

    /* 4. quizzes per step */
    StrBuf quizzes = {0};
    strbuf_puts(&quizzes, "attn-lesson: 1\ntitle: T\n\n## softmax\n\n");
    for (int i = 0; i < LESSON_MAX_QUIZZES; i++)
        strbuf_puts(&quizzes, "::: quiz\nkind: number\nquestion: q\nanswer: 1\n:::\n");
    expect_errors("8 quizzes", quizzes.data, quizzes.len, NULL);
    strbuf_puts(&quizzes, "::: quiz\nkind: number\nquestion: q\nanswer: 1\n:::\n");
    expect_errors("9 quizzes", quizzes.data, quizzes.len,
                  "t.lesson:46:1: more than 8 quizzes in step 'softmax' (LESSON_MAX_QUIZZES)\n");
    strbuf_free(&quizzes);

    /* 5. steps: every step once is fine; LESSON_MAX_STEPS + 1 names (the
     * steps, then 'scores' again and again) are too many */
    ExpectedSteps want;
    expected_steps_load(&want);
    StrBuf steps = {0};
    strbuf_puts(&steps, "attn-lesson: 1\ntitle: T\nsteps:");
    for (int i = 0; i < want.n; i++)
        strbuf_printf(&steps, " %s", want.id[i]);
    size_t first_repeat = steps.len + 2 - strlen("attn-lesson: 1\ntitle: T\n"); /* its column on line 3 */
    strbuf_puts(&steps, "\n");
    expect_text("every step once", steps.data, NULL);
    steps.len--;
    for (int i = want.n; i <= LESSON_MAX_STEPS; i++)
        strbuf_puts(&steps, " scores");
    strbuf_puts(&steps, "\n");
    Lesson lesson;
    LessonErrors errors;
    ck_assert(!lesson_parse(steps.data, steps.len, "t.lesson", &lesson, &errors));
    ck_assert_ptr_nonnull(strstr(strbuf_text(&errors.text), "more than 32 steps (LESSON_MAX_STEPS)"));
    char twice[64];
    snprintf(twice, sizeof twice, "t.lesson:3:%zu: step 'scores' is listed twice", first_repeat);
    ck_assert_msg(strstr(strbuf_text(&errors.text), twice) != NULL, "no '%s' in %s", twice, strbuf_text(&errors.text));
    ck_assert_int_eq(errors.count, LESSON_MAX_STEPS - want.n + 1); /* the repeats, then the 33rd name */
    lesson_errors_free(&errors);
    strbuf_free(&steps);

    /* 6. sizes at and past attn-trace's limits */
    expect_text("d-model 4096, 256 heads", "attn-lesson: 1\ntitle: T\nd-model: 4096\nheads: 256\n", NULL);
    expect_text("d-model 4097", "attn-lesson: 1\ntitle: T\nd-model: 4097\nheads: 1\n",
                "t.lesson:3:10: d_model 4097 is outside 1..4096\n");
}
END_TEST

START_TEST(test_parse_odd_arguments)
{
    Lesson lesson;
    LessonErrors errors;
    ck_assert(!lesson_parse(NULL, 0, NULL, &lesson, &errors));
    ck_assert_str_eq(strbuf_text(&errors.text),
                     "lesson:1:1: missing required key 'attn-lesson' (a lesson starts with 'attn-lesson: 1')\n"
                     "lesson:1:1: missing required key 'title'\n");
    lesson_errors_free(&errors);
    lesson_errors_free(&errors); /* twice is fine */
    lesson_errors_free(NULL);
    lesson_free(NULL);
    lesson_free(&lesson); /* a released lesson is zeroed */

    /* the text need not end in NUL: only len bytes are read */
    static const char text[] = "attn-lesson: 1\ntitle: T\ncolour: red";
    ck_assert(parse_text("attn-lesson: 1\ntitle: T\n", &lesson, &errors));
    lesson_free(&lesson);
    lesson_errors_free(&errors);
    ck_assert(lesson_parse(text, strlen("attn-lesson: 1\ntitle: T\n"), "t", &lesson, &errors));
    lesson_free(&lesson);
    lesson_errors_free(&errors);
}
END_TEST

START_TEST(test_hash)
{
    Lesson a, b;
    LessonErrors errors;
    ck_assert(parse_text("attn-lesson: 1\ntitle: A\n", &a, &errors));
    lesson_errors_free(&errors);
    ck_assert(parse_text("attn-lesson: 1\ntitle: B\n", &b, &errors));
    lesson_errors_free(&errors);
    ck_assert(a.hash != b.hash);
    /* FNV-1a 64 of the 24 bytes, computed by hand with its published constants */
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = "attn-lesson: 1\ntitle: A\n"; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    ck_assert(a.hash == h);
    lesson_free(&a);
    lesson_free(&b);
}
END_TEST

/* A fresh scratch directory (fixture_temp_dir). */
static void make_temp_dir(char *path, size_t size)
{
    ck_assert_msg(fixture_temp_dir(path, size, "lesson"), "mkdtemp(%s) failed", path);
}

START_TEST(test_load)
{
    Lesson lesson;
    LessonErrors errors;
    int status = -1;
    char dir[512], path[600], good[600], bad[600];

    /* 1. a file that is not there, and a directory */
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/missing.lesson", dir);
    ck_assert(!lesson_load(path, &lesson, &errors));
    status = errors.first.status;
    ck_assert_int_eq(status, STATUS_NOINPUT);
    ck_assert_int_eq(errors.count, 1);
    char want[700];
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory\n", path);
    ck_assert_str_eq(strbuf_text(&errors.text), want);
    lesson_errors_free(&errors);
    ck_assert(!lesson_load(dir, &lesson, &errors));
    status = errors.first.status;
    ck_assert_int_eq(status, STATUS_NOINPUT);
    snprintf(want, sizeof want, "%s: cannot open: it is a directory, not a lesson file\n", dir);
    ck_assert_str_eq(strbuf_text(&errors.text), want);
    lesson_errors_free(&errors);

    /* 2. too large: refused before it is read */
    snprintf(path, sizeof path, "%s/big.lesson", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, LESSON_MAX_BYTES, SEEK_SET), 0);
    ck_assert_int_eq(fputc('\n', f), '\n');
    ck_assert_int_eq(fclose(f), 0);
    ck_assert(!lesson_load(path, &lesson, &errors));
    status = errors.first.status;
    ck_assert_int_eq(status, STATUS_DATAERR);
    snprintf(want, sizeof want, "%s: larger than 1048576 bytes (LESSON_MAX_BYTES)\n", path);
    ck_assert_str_eq(strbuf_text(&errors.text), want);
    lesson_errors_free(&errors);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);

    /* 3. a good and a bad lesson of the corpus (errors name the path as given) */
    snprintf(good, sizeof good, "%s/good-full.lesson", lesson_dir());
    ck_assert(lesson_load(good, &lesson, &errors));
    status = errors.first.status;
    ck_assert_int_eq(status, STATUS_OK);
    ck_assert_int_eq(errors.count, 0);
    ck_assert_str_eq(lesson.title, "Softmax up close");
    lesson_free(&lesson);
    lesson_errors_free(&errors);
    snprintf(bad, sizeof bad, "%s/bad-unknown-key.lesson", lesson_dir());
    ck_assert(!lesson_load(bad, &lesson, &errors));
    lesson_errors_free(&errors);
    ck_assert(!lesson_load(bad, &lesson, &errors));
    status = errors.first.status;
    ck_assert_int_eq(status, STATUS_DATAERR);
    ck_assert_int_eq(errors.count, 1);
    snprintf(want, sizeof want, "%s:3:1: unknown key 'colour'", bad);
    ck_assert(strncmp(strbuf_text(&errors.text), want, strlen(want)) == 0);
    lesson_errors_free(&errors);
}
END_TEST

/* LessonErrors.first: the first line of the text and the file's status,
 * as an Error; cleared when the file is good. */
START_TEST(test_errors_first)
{
    Lesson lesson;
    LessonErrors errors;
    const char *bad = "attn-lesson: 1\ntitle: T\ncolour: red\nshade: blue\n";
    ck_assert(!lesson_parse(bad, strlen(bad), "t.lesson", &lesson, &errors));
    ck_assert_int_eq(errors.count, 2);
    ck_assert_int_eq(errors.first.status, STATUS_DATAERR);
    const char *text = strbuf_text(&errors.text);
    ck_assert_msg(strncmp(text, "t.lesson:3:1: ", 14) == 0, "text '%s'", text);
    ck_assert_uint_eq(strlen(errors.first.message), strcspn(text, "\n"));
    ck_assert(strncmp(errors.first.message, text, strlen(errors.first.message)) == 0);
    lesson_errors_free(&errors);
    ck_assert_int_eq(errors.first.status, STATUS_OK);

    const char *good = "attn-lesson: 1\ntitle: T\n";
    ck_assert(lesson_parse(good, strlen(good), "t.lesson", &lesson, &errors));
    ck_assert_int_eq(errors.first.status, STATUS_OK);
    ck_assert_str_eq(errors.first.message, "");
    lesson_free(&lesson);
    lesson_errors_free(&errors);

    ck_assert(!lesson_load("/nonexistent/dir/x.lesson", &lesson, &errors));
    ck_assert_int_eq(errors.first.status, STATUS_NOINPUT);
    ck_assert_str_eq(errors.first.message, "/nonexistent/dir/x.lesson: cannot open: No such file or directory");
    lesson_errors_free(&errors);
}
END_TEST

/* Writes an empty file dir/NAME. */
static void touch(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_int_eq(fclose(f), 0);
}

/* Counts the lines of text that start with prefix. */
static int count_lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *line = text; *line != '\0';) {
        n += strncmp(line, prefix, strlen(prefix)) == 0;
        const char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return n;
}

/* Points the catalog at dir alone (and progress at dir/state); restores
 * the environment when dir is NULL. */
static void catalog_env(const char *dir)
{
    static char *saved_lessons, *saved_state;
    if (dir != NULL) {
        const char *l = getenv("ATTN_TRACE_LESSONS"), *x = getenv("XDG_STATE_HOME");
        saved_lessons = l != NULL ? strdup(l) : NULL;
        saved_state = x != NULL ? strdup(x) : NULL;
        char state[700];
        snprintf(state, sizeof state, "%s/state", dir);
        ck_assert_int_eq(setenv("ATTN_TRACE_LESSONS", dir, 1), 0);
        ck_assert_int_eq(setenv("XDG_STATE_HOME", state, 1), 0);
        return;
    }
    if (saved_lessons != NULL)
        setenv("ATTN_TRACE_LESSONS", saved_lessons, 1);
    else
        unsetenv("ATTN_TRACE_LESSONS");
    if (saved_state != NULL)
        setenv("XDG_STATE_HOME", saved_state, 1);
    else
        unsetenv("XDG_STATE_HOME");
    free(saved_lessons);
    free(saved_state);
    saved_lessons = saved_state = NULL;
}

/* Removes dir/NAME for the n names x000.lesson... and dir itself. */
static void remove_lessons(const char *dir, int n)
{
    char path[1200];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/x%03d.lesson", dir, i);
        ck_assert_int_eq(unlink(path), 0);
    }
    ck_assert_int_eq(rmdir(dir), 0);
}

/* Issue 12, item 4: a '::: step' block gives a step its own headline. */
START_TEST(test_step_headline)
{
    Lesson lesson;
    parse_good("good-step-block.lesson", &lesson);
    const LessonStep *softmax = lesson_find_step(&lesson, "softmax");
    ck_assert_ptr_nonnull(softmax->headline);
    ck_assert_str_eq(softmax->headline, "Softmax up close: who does \"my\" listen to?");
    ck_assert_str_eq(softmax->text, "Text.");
    ck_assert_ptr_null(lesson.intro);
    lesson_free(&lesson);
    /* and the intro page: text only, before the first step's section */
    parse_good("good-intro.lesson", &lesson);
    ck_assert_ptr_nonnull(lesson.intro);
    ck_assert_str_eq(lesson.intro, "Welcome. This lesson follows **one token**.\n\n- first bullet");
    ck_assert_int_eq(lesson.n_steps, 2);
    ck_assert_int_eq(lesson.steps[0].n_quizzes, 1);
    lesson_free(&lesson);
}
END_TEST

/* Issue 12: progress is keyed by the walk (steps and quizzes), not the
 * bytes: a typo fixed in a text or a question keeps the walk hash; a quiz
 * added, or a step's quiz made a before quiz, changes it. */
START_TEST(test_walk_hash_survives_a_typo)
{
    static const char *const texts[] = {
        "attn-lesson: 1\ntitle: T\nsteps: embed\n\n## embed\n\nTeh text.\n\n::: quiz\nkind: number\nquestion: Hwo "
        "many?\nanswer: 5\n:::\n",
        "attn-lesson: 1\ntitle: T\nsteps: embed\n\n## embed\n\nThe text.\n\n::: quiz\nkind: number\nquestion: How "
        "many?\nanswer: 5\n:::\n",
        "attn-lesson: 1\ntitle: T\nsteps: embed\n\n## embed\n\nThe text.\n\n::: quiz\nkind: number\nquestion: How "
        "many?\nanswer: 5\n:::\n\n::: quiz\nkind: number\nquestion: And?\nanswer: 1\n:::\n",
        "attn-lesson: 1\ntitle: T\nsteps: embed\n\n## embed\n\nThe text.\n\n::: quiz\nkind: number\nwhen: "
        "before\nquestion: How many?\nanswer: 5\n:::\n",
    };
    uint64_t hash[4], walk[4];
    for (int i = 0; i < 4; i++) {
        Lesson lesson;
        LessonErrors errors;
        ck_assert_msg(parse_text(texts[i], &lesson, &errors), "text %d: %s", i, strbuf_text(&errors.text));
        lesson_errors_free(&errors);
        hash[i] = lesson.hash;
        walk[i] = lesson.walk_hash;
        lesson_free(&lesson);
    }
    ck_assert(hash[0] != hash[1]);
    ck_assert(walk[0] == walk[1]);
    ck_assert(walk[1] != walk[2]);
    ck_assert(walk[1] != walk[3]);
}
END_TEST

/* Issue 12, item 5: --list-lessons gives the saved progress's counts, as
 * the end of a lesson does: right, revealed, skipped. */
START_TEST(test_catalog_progress_counts)
{
    char dir[512], path[700], state[700];
    make_temp_dir(dir, sizeof dir);
    catalog_env(dir);
    snprintf(path, sizeof path, "%s/two.lesson", dir);
    const char *text =
        "attn-lesson: 1\ntitle: Two\nsteps: embed softmax\n\n## embed\n\n"
        "::: quiz\nkind: shape\nquestion: q\nanswer: =shape(sentence_embed)\n:::\n\n"
        "::: quiz\nkind: token\nquestion: q\nanswer: =argmax(a1)\n:::\n\n## softmax\n\n"
        "::: quiz\nkind: number\nquestion: q\nanswer: =sum(a1)\n:::\n\n"
        "::: quiz\nkind: number\nquestion: q\nanswer: =max(a1)\n:::\n";
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0);
    Lesson lesson;
    LessonErrors errors;
    ck_assert_msg(lesson_load(path, &lesson, &errors), "%s", strbuf_text(&errors.text));
    lesson_errors_free(&errors);
    Progress progress = {0};
    progress_key(path, lesson.walk_hash, progress.lesson_key, sizeof progress.lesson_key);
    lesson_free(&lesson);
    progress.last_step = 1;
    progress.n_quizzes = 4;
    progress.quizzes[0] = QUIZ_RIGHT_AFTER_TRIES;
    progress.quizzes[1] = QUIZ_REVEALED;
    progress.quizzes[2] = QUIZ_RIGHT_FIRST_TRY;
    progress.quizzes[3] = QUIZ_SKIPPED;
    Error err;
    error_clear(&err);
    ck_assert(progress_dir(state, sizeof state, &err));
    ck_assert_msg(progress_save(state, &progress, &err), "%s", err.message);
    StrBuf out = {0};
    ck_assert_msg(catalog_list(&out, &err), "%s", err.message);
    ck_assert_msg(strstr(strbuf_text(&out), "2 steps, 4 questions; at step 2: 2 right, 1 revealed, 1 skipped\n"),
                  "got:\n%s", strbuf_text(&out));
    strbuf_free(&out);
    char file[1200];
    snprintf(file, sizeof file, "%s/%s.progress", state, progress.lesson_key);
    ck_assert_int_eq(unlink(file), 0);
    ck_assert_int_eq(rmdir(state), 0);
    snprintf(state, sizeof state, "%s/state", dir);
    rmdir(state);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
    catalog_env(NULL);
}
END_TEST

/* --list-lessons lists up to CATALOG_MAX_LESSONS lessons of a directory;
 * one more is an error naming the directory and the limit, never a list
 * silently cut. */
START_TEST(test_catalog_limit)
{
    ck_assert_int_eq(CATALOG_MAX_LESSONS, 256);
    char dir[512];
    make_temp_dir(dir, sizeof dir);
    catalog_env(dir);
    char name[32];
    for (int i = 0; i < CATALOG_MAX_LESSONS; i++) {
        snprintf(name, sizeof name, "x%03d.lesson", i);
        touch(dir, name);
    }
    touch(dir, ".hidden.lesson"); /* neither listed nor counted */
    touch(dir, "notes.txt");

    /* 1. exactly at the limit: every one is listed, in order */
    StrBuf out = {0};
    Error err;
    error_clear(&err);
    ck_assert_msg(catalog_list(&out, &err), "%s", err.message);
    ck_assert_int_eq(err.status, STATUS_OK);
    ck_assert_int_eq(count_lines_starting(strbuf_text(&out), "  x"), CATALOG_MAX_LESSONS);
    ck_assert_ptr_nonnull(strstr(strbuf_text(&out), "  x000 "));
    ck_assert_ptr_nonnull(strstr(strbuf_text(&out), "  x255 "));
    ck_assert(strstr(strbuf_text(&out), "  x000 ") < strstr(strbuf_text(&out), "  x255 "));
    strbuf_free(&out);

    /* 2. one more: an error */
    touch(dir, "x256.lesson");
    ck_assert(!catalog_list(&out, &err));
    ck_assert_int_eq(err.status, STATUS_DATAERR);
    char want[800];
    snprintf(want, sizeof want, "%s: more than 256 lessons in one directory (CATALOG_MAX_LESSONS)", dir);
    ck_assert_str_eq(err.message, want);
    strbuf_free(&out);

    char hidden[700];
    snprintf(hidden, sizeof hidden, "%s/.hidden.lesson", dir);
    ck_assert_int_eq(unlink(hidden), 0);
    snprintf(hidden, sizeof hidden, "%s/notes.txt", dir);
    ck_assert_int_eq(unlink(hidden), 0);
    remove_lessons(dir, CATALOG_MAX_LESSONS + 1);
    catalog_env(NULL);
}
END_TEST

/* catalog_resolve: a bare name found in a lesson directory, a name found
 * nowhere (kept as typed), and a path too long for the buffer (an error,
 * where it used to be cut silently). */
START_TEST(test_catalog_resolve)
{
    char dir[512];
    make_temp_dir(dir, sizeof dir);
    catalog_env(dir);
    touch(dir, "x000.lesson");
    char path[CATALOG_PATH_BYTES], want[CATALOG_PATH_BYTES + 16];
    Error err;
    error_clear(&err);

    ck_assert(catalog_resolve("x000", path, sizeof path, &err));
    char real[CATALOG_PATH_BYTES];
    ck_assert_ptr_nonnull(realpath(dir, real));
    snprintf(want, sizeof want, "%s/x000.lesson", real);
    ck_assert_str_eq(path, want);
    ck_assert(catalog_resolve("no-such-lesson", path, sizeof path, &err));
    ck_assert_str_eq(path, "no-such-lesson");
    ck_assert_int_eq(err.status, STATUS_OK);

    char small[8];
    ck_assert(!catalog_resolve("a/long/path.lesson", small, sizeof small, &err));
    ck_assert_int_eq(err.status, STATUS_NOINPUT);
    ck_assert_str_eq(small, "");
    ck_assert_str_eq(err.message,
                     "a/long/path.lesson: cannot open: the path is longer than 7 bytes (LIMIT_PATH_BYTES)");

    remove_lessons(dir, 1);
    catalog_env(NULL);
}
END_TEST

/* The suite: the corpus, the answer rules, the limits and loading. */
Suite *lesson_suite(void)
{
    Suite *s = suite_create("lesson");
    TCase *corpus = tcase_create("corpus");
    tcase_add_test(corpus, test_bad_corpus);
    tcase_add_test(corpus, test_good_corpus);
    tcase_add_test(corpus, test_good_minimal_is_the_article);
    tcase_add_test(corpus, test_good_full);
    tcase_add_test(corpus, test_token_answer_without_space_mark);
    tcase_add_test(corpus, test_feedback_sentence_end);
    tcase_add_test(corpus, test_answer_exprs_against_torch);
    tcase_add_test(corpus, test_catalog_progress_counts);
    tcase_add_test(corpus, test_walk_hash_survives_a_typo);
    tcase_add_test(corpus, test_step_headline);
    tcase_add_test(corpus, test_good_crlf_and_bom);
    tcase_add_test(corpus, test_good_steps_order);
    tcase_add_test(corpus, test_good_configs);
    tcase_add_test(corpus, test_good_quiz_kinds);
    suite_add_tcase(s, corpus);
    TCase *answers = tcase_create("answers");
    tcase_add_test(answers, test_quiz_check_shapes);
    tcase_add_test(answers, test_quiz_check_numbers);
    tcase_add_test(answers, test_quiz_check_tokens_and_choices);
    tcase_add_test(answers, test_quiz_answer_text);
    tcase_add_test(answers, test_near_misses_and_choice_labels);
    suite_add_tcase(s, answers);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_error_cap);
    tcase_add_test(limits, test_limits);
    tcase_add_test(limits, test_parse_odd_arguments);
    tcase_add_test(limits, test_hash);
    tcase_add_test(limits, test_load);
    tcase_add_test(limits, test_errors_first);
    tcase_set_timeout(limits, 30); /* megabyte inputs; slow under valgrind */
    suite_add_tcase(s, limits);
    TCase *catalog = tcase_create("catalog");
    tcase_add_test(catalog, test_catalog_limit);
    tcase_add_test(catalog, test_catalog_resolve);
    tcase_set_timeout(catalog, 30); /* 257 files; slow under valgrind */
    suite_add_tcase(s, catalog);
    return s;
}
