/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/config_problems: problems come out as "FILE:LINE:
 * message", sorted by line with LINE 0 (the file as a whole) last, and in
 * the order found within one line; a NULL stream still counts them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_problems.h"
#include "test_suite.h"

START_TEST(test_sorted_by_line)
{
	struct config_problems problems;
	char *text = NULL;
	size_t size = 0;
	FILE *errors = open_memstream(&text, &size);

	config_problems_init(&problems, "a.conf", errors);
	config_problem(&problems, 0, "whole %d", 1);
	config_problem(&problems, 7, "seven first");
	config_problem(&problems, 2, "two");
	config_problem(&problems, 7, "seven second");
	config_problem(&problems, 0, "whole %d", 2);
	ck_assert_uint_eq(problems.count, 5);
	config_problems_write(&problems);
	fclose(errors);
	ck_assert_str_eq(text, "a.conf:2: two\n"
			       "a.conf:7: seven first\n"
			       "a.conf:7: seven second\n"
			       "a.conf:0: whole 1\n"
			       "a.conf:0: whole 2\n");
	ck_assert_uint_eq(problems.count, 5); /* the count stays */
	free(text);
}
END_TEST

START_TEST(test_no_stream)
{
	struct config_problems problems;

	config_problems_init(&problems, "a.conf", NULL);
	config_problem(&problems, 3, "not written");
	config_problems_write(&problems);
	ck_assert_uint_eq(problems.count, 1);
	ck_assert_uint_eq(problems.n_list, 0);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("config_problems");
	TCase *tcase = tcase_create("problems");
	tcase_add_test(tcase, test_sorted_by_line);
	tcase_add_test(tcase, test_no_stream);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
