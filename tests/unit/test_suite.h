/* SPDX-License-Identifier: ISC */
/* test_suite: how every unit suite's main() ends: run the suite, report
 * in Check's normal format, exit with failure when any test failed. */
#ifndef SXEDGE_TESTS_TEST_SUITE_H
#define SXEDGE_TESTS_TEST_SUITE_H

#include <check.h>
#include <stdlib.h>

static inline int test_suite_run(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
