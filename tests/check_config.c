/*
 * check_config.c - the built-in configuration, tokenization, text checks
 * and validation.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "suites.h"

START_TEST(test_default_is_the_article)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    static const long ids[] = {2, 6, 8, 3, 1};
    static const char *const words[] = {"my", "name", "is", "marcello", "politi"};
    ck_assert_uint_eq(cfg.n_tokens, 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(cfg.token_ids[i], ids[i]);
        ck_assert_str_eq(cfg.tokens[i], words[i]);
    }
    ck_assert_str_eq(cfg.sentence, "my name is Marcello Politi");
    ck_assert_uint_eq(cfg.vocab_size, 10);
    ck_assert_uint_eq(cfg.d_model, 16);
    ck_assert_uint_eq(cfg.heads, 4);
    ck_assert_uint_eq(config_d_k(&cfg), 4);
    ck_assert_uint_eq(cfg.focus, 1);
    ck_assert_uint_eq(cfg.seed, 0);
    ck_assert(!cfg.causal);
    ck_assert(config_validate(&cfg, &err));
    config_free(&cfg);
    config_free(NULL);
}
END_TEST

START_TEST(test_tokenization_rule)
{
    static const struct {
        const char *sentence;
        size_t n;
        long ids[8];
        size_t vocab;
        const char *first_token;
    } cases[] = {
        {"The cat saw the dog", 5, {3, 0, 2, 3, 1}, 4, "the"},
        {"  spaces\tand\nnewlines  ", 3, {2, 0, 1}, 3, "spaces"},
        {"b a b a", 4, {1, 0, 1, 0}, 2, "b"},
        {"Hello, hello!", 2, {1, 0}, 2, "hello,"}, /* punctuation stays: "hello!" sorts first */
        {"Été été", 2, {0, 1}, 2, "Été"},          /* only ASCII letters are lowercased */
        {"one", 1, {0}, 1, "one"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        ck_assert_msg(config_set_sentence(&cfg, cases[c].sentence, &err), "'%s': %s", cases[c].sentence, err.message);
        ck_assert_uint_eq(cfg.n_tokens, cases[c].n);
        ck_assert_uint_eq(cfg.vocab_size, cases[c].vocab);
        ck_assert_str_eq(cfg.tokens[0], cases[c].first_token);
        for (size_t i = 0; i < cases[c].n; i++)
            ck_assert_msg(cfg.token_ids[i] == cases[c].ids[i], "'%s': id %zu is %ld, want %ld", cases[c].sentence, i,
                          cfg.token_ids[i], cases[c].ids[i]);
        config_free(&cfg);
    }
}
END_TEST

START_TEST(test_sentence_errors)
{
    static const struct {
        const char *sentence;
        const char *message_part;
    } cases[] = {
        {"", "empty"},
        {"   \t ", "empty"},
        {"bad \x1b[31m escape", "control character 0x1B"},
        {"c1 \xc2\x9b"
         "31m",
         "control character U+009B"},
        {"bell\a", "control character"},
        {"broken \xc3 utf8", "invalid UTF-8"},
        {"overlong \xc0\xaf", "invalid UTF-8"},
        {"surrogate \xed\xa0\x80", "invalid UTF-8"},
        {"cut \xe2\x82", "invalid UTF-8"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        ck_assert_msg(!config_set_sentence(&cfg, cases[c].sentence, &err), "case %zu was accepted", c);
        ck_assert_int_eq(err.status, STATUS_DATAERR);
        ck_assert_msg(strstr(err.message, cases[c].message_part) != NULL, "case %zu: '%s' lacks '%s'", c, err.message,
                      cases[c].message_part);
        /* the error points at the offending byte (or nowhere, for an empty one) */
        if (strstr(cases[c].message_part, "empty") == NULL)
            ck_assert_uint_eq(err.at, strcspn(cases[c].sentence, "\x1b\a\xc0\xc2\xc3\xe2\xed"));
        /* a failed call leaves the configuration as it was */
        ck_assert_uint_eq(cfg.n_tokens, 5);
        config_free(&cfg);
    }
}
END_TEST

START_TEST(test_long_words_and_many_words)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    char word[LIMIT_MAX_WORD_BYTES + 2];
    memset(word, 'a', sizeof word - 1);
    word[sizeof word - 1] = '\0';
    ck_assert(!config_set_sentence(&cfg, word, &err));
    ck_assert_msg(strstr(err.message, "LIMIT_MAX_WORD_BYTES") != NULL, "%s", err.message);
    word[LIMIT_MAX_WORD_BYTES] = '\0';
    ck_assert_msg(config_set_sentence(&cfg, word, &err), "%s", err.message);

    size_t n = LIMIT_MAX_TOKENS + 1;
    char *many = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) {
        many[2 * i] = 'w';
        many[2 * i + 1] = ' ';
    }
    many[2 * n] = '\0';
    ck_assert(!config_set_sentence(&cfg, many, &err));
    ck_assert_msg(strstr(err.message, "LIMIT_MAX_TOKENS") != NULL, "%s", err.message);
    many[2 * (n - 1)] = '\0';
    ck_assert_msg(config_set_sentence(&cfg, many, &err), "%s", err.message);
    ck_assert_uint_eq(cfg.n_tokens, LIMIT_MAX_TOKENS);
    ck_assert_uint_eq(cfg.vocab_size, 1);
    free(many);
    config_free(&cfg);
}
END_TEST

START_TEST(test_token_ids)
{
    Config cfg;
    Error err;
    error_clear(&err);
    ck_assert(config_default(&cfg, &err));
    /* as many ids as words: the words stay as labels */
    ck_assert(config_set_token_ids(&cfg, "1, 2,3 4\t0", &err));
    ck_assert_str_eq(cfg.tokens[3], "marcello");
    ck_assert_int_eq(cfg.token_ids[3], 4);
    ck_assert_uint_eq(cfg.vocab_size, 5);
    ck_assert_ptr_nonnull(cfg.sentence);
    /* a different count: the ids label themselves */
    ck_assert(config_set_token_ids(&cfg, "7 9", &err));
    ck_assert_str_eq(cfg.tokens[1], "9");
    ck_assert_ptr_null(cfg.sentence);
    ck_assert_uint_eq(cfg.vocab_size, 10);
    static const char *const bad[] = {"", " , ", "1 -2", "1 x", "3.5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(!config_set_token_ids(&cfg, bad[i], &err), "'%s' was accepted", bad[i]);
        ck_assert_int_eq(err.status, STATUS_DATAERR);
    }
    config_free(&cfg);
}
END_TEST

START_TEST(test_validate)
{
    static const struct {
        size_t d_model, heads, focus, vocab;
        const char *message_part;
    } cases[] = {
        {16, 3, 1, 10, "does not divide"},
        {16, 0, 1, 10, "heads 0"},
        {0, 1, 1, 10, "d_model 0"},
        {16, 4, 6, 10, "focus token 6"},
        {16, 4, 0, 10, "focus token 0"},
        {16, 4, 1, 8, "token id 8"},
        {LIMIT_MAX_D_MODEL + 1, 1, 1, 10, "d_model"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Config cfg;
        Error err;
        error_clear(&err);
        ck_assert(config_default(&cfg, &err));
        cfg.d_model = cases[c].d_model;
        cfg.heads = cases[c].heads;
        cfg.focus = cases[c].focus;
        cfg.vocab_size = cases[c].vocab;
        ck_assert_msg(!config_validate(&cfg, &err), "case %zu passed", c);
        ck_assert_int_eq(err.status, STATUS_DATAERR);
        ck_assert_msg(strstr(err.message, cases[c].message_part) != NULL, "case %zu: '%s' lacks '%s'", c, err.message,
                      cases[c].message_part);
        config_free(&cfg);
    }
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_default_is_the_article);
    tcase_add_test(tc, test_tokenization_rule);
    tcase_add_test(tc, test_sentence_errors);
    tcase_add_test(tc, test_long_words_and_many_words);
    tcase_add_test(tc, test_token_ids);
    tcase_add_test(tc, test_validate);
    suite_add_tcase(s, tc);
    return s;
}
