/* SPDX-License-Identifier: ISC */
/* Unit tests for jid: the domain part of an XMPP address, which every
 * federation check compares. */
#include <check.h>
#include <string.h>

#include "jid.h"
#include "test_suite.h"

static const char *domain_of(const char *jid)
{
	static char domain[JID_DOMAIN_MAX + 1];
	return jid_domain(jid, domain) ? domain : NULL;
}

START_TEST(test_forms)
{
	ck_assert_str_eq(domain_of("example.test"), "example.test");
	ck_assert_str_eq(domain_of("alice@example.test"), "example.test");
	ck_assert_str_eq(domain_of("alice@example.test/phone"), "example.test");
	ck_assert_str_eq(domain_of("example.test/resource"), "example.test");
	/* An '@' in the resource belongs to the resource. */
	ck_assert_str_eq(domain_of("example.test/a@b.test"), "example.test");
	ck_assert_str_eq(domain_of("alice@example.test/a@b.test"), "example.test");
	/* Case and the root dot do not make another domain. */
	ck_assert_str_eq(domain_of("Alice@EXAMPLE.Test./x"), "example.test");
}
END_TEST

START_TEST(test_refused)
{
	ck_assert_ptr_null(domain_of(""));
	ck_assert_ptr_null(domain_of("@example.test"));
	ck_assert_ptr_null(domain_of("alice@"));
	ck_assert_ptr_null(domain_of("alice@/x"));
	ck_assert_ptr_null(domain_of("/x"));
	ck_assert_ptr_null(domain_of("a@b@example.test"));
	ck_assert_ptr_null(domain_of("exa mple.test"));
	ck_assert_ptr_null(domain_of("example.test\n"));
	ck_assert_ptr_null(domain_of("exa\"mple.test"));
	ck_assert_ptr_null(domain_of("under_score.test"));

	char long_jid[JID_DOMAIN_MAX + 3];
	memset(long_jid, 'a', sizeof(long_jid) - 1);
	long_jid[sizeof(long_jid) - 1] = '\0';
	ck_assert_ptr_null(domain_of(long_jid)); /* 1024 bytes */
	long_jid[JID_DOMAIN_MAX] = '\0';
	ck_assert_ptr_nonnull(domain_of(long_jid)); /* 1023: the longest */
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("jid");
	TCase *tcase = tcase_create("jid");
	tcase_add_test(tcase, test_forms);
	tcase_add_test(tcase, test_refused);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
