/* SPDX-License-Identifier: ISC */
/* Unit tests for reason: every reason has a stable snake_case name, unique,
 * and a phrase fit for a status line. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reason.h"
#include "test_suite.h"

START_TEST(test_names_are_snake_case_and_unique)
{
	for (int i = 0; i < SIP_REASON_COUNT; i++) {
		const char *name = sip_reason_name((enum sip_reason)i);
		ck_assert_ptr_nonnull(name);
		ck_assert_uint_gt(strlen(name), 0);
		ck_assert_msg(strspn(name, "abcdefghijklmnopqrstuvwxyz_") == strlen(name),
			      "reason %d name %s", i, name);
		ck_assert(name[0] != '_' && name[strlen(name) - 1] != '_');
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(name, sip_reason_name((enum sip_reason)j));
	}
}
END_TEST

START_TEST(test_phrases_fit_a_status_line)
{
	for (int i = 0; i < SIP_REASON_COUNT; i++) {
		const char *phrase = sip_reason_phrase((enum sip_reason)i);
		ck_assert_ptr_nonnull(phrase);
		ck_assert_uint_gt(strlen(phrase), 0);
		ck_assert_ptr_null(strpbrk(phrase, "\r\n\""));
	}
}
END_TEST

/* Names operators already match on (the examples). */
START_TEST(test_known_names)
{
	ck_assert_str_eq(sip_reason_name(SIP_REASON_FORGED_ROUTE), "forged_route");
	ck_assert_str_eq(sip_reason_phrase(SIP_REASON_FORGED_ROUTE), "Forged Route");
	ck_assert_str_eq(sip_reason_name(SIP_REASON_POOL_BUSY), "pool_busy");
	ck_assert_str_eq(sip_reason_name(SIP_REASON_NEXT_HOP_BUSY), "next_hop_busy");
	ck_assert_str_eq(sip_reason_name(SIP_REASON_NOT_FRAMED_ONCE), "not_framed_once");
	ck_assert_str_eq(sip_reason_name(SIP_REASON_POOL_LINK_LOST), "pool_link_lost");
	ck_assert_str_eq(sip_reason_name(SIP_REASON_COUNT), "unknown");
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("reason");
	TCase *tcase = tcase_create("reason");
	tcase_add_test(tcase, test_names_are_snake_case_and_unique);
	tcase_add_test(tcase, test_phrases_fit_a_status_line);
	tcase_add_test(tcase, test_known_names);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
