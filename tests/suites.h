/*
 * suites.h - every Check suite of the test runner, one per module.
 * Each tests/check_<module>.c defines its <module>_suite().
 */
#ifndef ATTN_TEST_SUITES_H
#define ATTN_TEST_SUITES_H

#include <check.h>

Suite *tensor_suite(void);
Suite *rng_suite(void);
Suite *torchmath_suite(void);
Suite *einsum_suite(void);
Suite *config_suite(void);
Suite *trace_suite(void);
Suite *golden_suite(void);
Suite *output_suite(void);
Suite *cli_suite(void);
Suite *explain_suite(void);
Suite *view_suite(void);
Suite *lesson_suite(void);
Suite *progress_suite(void);
Suite *kernels_suite(void);
Suite *npy_suite(void);
Suite *svg_suite(void);
Suite *scroll_suite(void);
Suite *model_suite(void);
Suite *json_suite(void);
Suite *bpe_suite(void);
Suite *floatfmt_suite(void);
Suite *model_trace_suite(void);
Suite *headsview_suite(void);
Suite *tiny_suite(void);
Suite *diffview_suite(void);
Suite *answer_suite(void);
Suite *experiment_suite(void);
Suite *lessonmodel_suite(void);

#endif
