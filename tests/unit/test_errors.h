/* SPDX-License-Identifier: ISC */
/* test_errors: what the configuration suites ask of the error text a load
 * wrote: a line "PATH:LINE: ..." holding given words. */
#ifndef SXEDGE_TESTS_TEST_ERRORS_H
#define SXEDGE_TESTS_TEST_ERRORS_H

#include <stdbool.h>

/* Has ERRORS (lines, each ending in a newline) a line "PATH:LINE: ..." that
 * holds every one of the NULL-terminated words after LINE? */
bool test_errors_have(const char *errors, const char *path, int line, ...);

#endif
