/*
 * run_tests.c - runs every suite and exits non-zero on any failure.
 * CK_RUN_SUITE / CK_RUN_CASE select a part, as Check documents.
 */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
    Suite *(*const suites[])(void) = {
        tensor_suite,   torchmath_suite,  rng_suite,      einsum_suite,      config_suite,    trace_suite,
        golden_suite,   output_suite,     cli_suite,      view_suite,        explain_suite,   lesson_suite,
        progress_suite, kernels_suite,    npy_suite,      svg_suite,         scroll_suite,    model_suite,
        json_suite,     bpe_suite,        floatfmt_suite, model_trace_suite, headsview_suite, tiny_suite,
        diffview_suite, experiment_suite, answer_suite,   lessonmodel_suite,
    };
    SRunner *runner = srunner_create(NULL);
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        srunner_add_suite(runner, suites[i]());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
