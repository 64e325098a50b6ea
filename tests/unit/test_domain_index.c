/* SPDX-License-Identifier: ISC */
/* Unit tests for domain_index: values by domain, case-insensitive, newest
 * first, several per domain, removed one by one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "domain_index.h"
#include "test_suite.h"

START_TEST(test_find_by_domain_any_case)
{
	struct domain_index index;
	int a, b, c;
	void *found[4];

	domain_index_init(&index);
	ck_assert_int_eq(domain_index_add(&index, "partner.test", &a), 0);
	ck_assert_int_eq(domain_index_add(&index, "Other.Test", &b), 0);
	ck_assert_int_eq(domain_index_add(&index, "PARTNER.test", &c), 0);
	ck_assert_uint_eq(domain_index_find(&index, "Partner.Test", found, 4), 2);
	ck_assert_ptr_eq(found[0], &c);
	ck_assert_ptr_eq(found[1], &a);
	ck_assert_uint_eq(domain_index_find(&index, "other.test", found, 4), 1);
	ck_assert_ptr_eq(found[0], &b);
	ck_assert_uint_eq(domain_index_find(&index, "partner.test.evil", found, 4), 0);
	ck_assert_uint_eq(domain_index_find(&index, "partner.tes", found, 4), 0);
	/* Fewer asked for than there are: the count is still all of them. */
	ck_assert_uint_eq(domain_index_find(&index, "partner.test", found, 1), 2);
	ck_assert_ptr_eq(found[0], &c);
	domain_index_clear(&index);
	ck_assert_uint_eq(domain_index_find(&index, "partner.test", found, 4), 0);
}
END_TEST

START_TEST(test_remove_one_value)
{
	struct domain_index index;
	int a, b;
	void *found[4];

	domain_index_init(&index);
	domain_index_add(&index, "partner.test", &a);
	domain_index_add(&index, "partner.test", &b);
	ck_assert(!domain_index_remove(&index, "other.test", &a));
	ck_assert(domain_index_remove(&index, "PARTNER.TEST", &a));
	ck_assert(!domain_index_remove(&index, "partner.test", &a));
	ck_assert_uint_eq(domain_index_find(&index, "partner.test", found, 4), 1);
	ck_assert_ptr_eq(found[0], &b);
	ck_assert_uint_eq(index.count, 1);
	domain_index_clear(&index);
}
END_TEST

/* Many domains over few buckets. */
START_TEST(test_many_domains)
{
	struct domain_index index;
	static int values[4 * DOMAIN_INDEX_BUCKETS];
	char domain[64];
	void *found[2];

	domain_index_init(&index);
	for (int i = 0; i < 4 * DOMAIN_INDEX_BUCKETS; i++) {
		snprintf(domain, sizeof(domain), "d%d.test", i);
		ck_assert_int_eq(domain_index_add(&index, domain, &values[i]), 0);
	}
	for (int i = 0; i < 4 * DOMAIN_INDEX_BUCKETS; i++) {
		snprintf(domain, sizeof(domain), "D%d.TEST", i);
		ck_assert_uint_eq(domain_index_find(&index, domain, found, 2), 1);
		ck_assert_ptr_eq(found[0], &values[i]);
	}
	domain_index_clear(&index);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("domain_index");
	TCase *tcase = tcase_create("domain_index");
	tcase_add_test(tcase, test_find_by_domain_any_case);
	tcase_add_test(tcase, test_remove_one_value);
	tcase_add_test(tcase, test_many_domains);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
