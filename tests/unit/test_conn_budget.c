/* SPDX-License-Identifier: ISC */
/* Check suite for lib/conn_budget: the count of a role's connections, the
 * per-address cap (an IPv6 /64 counts as one source), and the probation
 * queue that decides which connection is shed to make room. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "conn_budget.h"
#include "test_suite.h"

/* Stand-ins for conns: the budget only hands their pointers back. */
static char fake_conns[8];
#define FAKE(i) ((struct conn *)&fake_conns[i])

static struct sockaddr_storage ipv4(const char *text)
{
	struct sockaddr_storage storage;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
	memset(&storage, 0, sizeof(storage));
	v4->sin_family = AF_INET;
	v4->sin_port = htons(40000);
	ck_assert_int_eq(inet_pton(AF_INET, text, &v4->sin_addr), 1);
	return storage;
}

static struct sockaddr_storage ipv6(const char *text)
{
	struct sockaddr_storage storage;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
	memset(&storage, 0, sizeof(storage));
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(40000);
	ck_assert_int_eq(inet_pton(AF_INET6, text, &v6->sin6_addr), 1);
	return storage;
}

#define SA(storage) ((const struct sockaddr *)&(storage))

START_TEST(test_total_cap)
{
	struct conn_budget budget;
	struct conn_budget_member members[3];
	struct sockaddr_storage a = ipv4("192.0.2.1"), b = ipv4("192.0.2.2");

	ck_assert_int_eq(conn_budget_init(&budget, "internal", 2, 0), 0);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADMIT);
	ck_assert(conn_budget_join(&budget, &members[0], FAKE(0), SA(a), false));
	ck_assert(conn_budget_join(&budget, &members[1], FAKE(1), SA(b), false));
	ck_assert_uint_eq(budget.used, 2);
	ck_assert_int_eq(conn_budget_check(&budget, SA(b)), CONN_BUDGET_FULL);
	/* Nobody on probation: nothing to shed, the newcomer is refused. */
	ck_assert_ptr_null(conn_budget_oldest_on_probation(&budget));
	conn_budget_leave(&members[0]);
	conn_budget_leave(&members[0]); /* a second leave gives nothing back */
	ck_assert_uint_eq(budget.used, 1);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADMIT);
	conn_budget_leave(&members[1]);
	ck_assert_uint_eq(budget.used, 0);
	conn_budget_clear(&budget);
}
END_TEST

START_TEST(test_per_address_cap)
{
	struct conn_budget budget;
	struct conn_budget_member members[4];
	struct sockaddr_storage a = ipv4("192.0.2.1"), b = ipv4("192.0.2.2");

	ck_assert_int_eq(conn_budget_init(&budget, "access", 10, 2), 0);
	ck_assert(conn_budget_join(&budget, &members[0], FAKE(0), SA(a), true));
	ck_assert(conn_budget_join(&budget, &members[1], FAKE(1), SA(a), true));
	/* The address is full even though the budget is not. */
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADDRESS_FULL);
	ck_assert(!conn_budget_join(&budget, &members[2], FAKE(2), SA(a), true));
	ck_assert_uint_eq(budget.used, 2);
	ck_assert_int_eq(conn_budget_check(&budget, SA(b)), CONN_BUDGET_ADMIT);
	ck_assert(conn_budget_join(&budget, &members[3], FAKE(3), SA(b), true));
	/* Leaving gives the address its place back. */
	conn_budget_leave(&members[0]);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADMIT);
	conn_budget_leave(&members[1]);
	conn_budget_leave(&members[3]);
	ck_assert_uint_eq(budget.used, 0);
	conn_budget_clear(&budget);
}
END_TEST

/* New limits (a reload) hold for who joins next; those in keep their
 * places.  A cap where there was none counts the newcomers only; lifted,
 * it refuses nobody and the members counted under it still leave right. */
START_TEST(test_set_limits)
{
	struct conn_budget budget;
	struct conn_budget_member members[5];
	struct sockaddr_storage a = ipv4("192.0.2.1");

	ck_assert_int_eq(conn_budget_init(&budget, "turn_tcp", 3, 0), 0);
	ck_assert(conn_budget_join(&budget, &members[0], FAKE(0), SA(a), false));
	ck_assert(conn_budget_join(&budget, &members[1], FAKE(1), SA(a), false));
	conn_budget_set_limits(&budget, 2, 1);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_FULL);
	conn_budget_leave(&members[0]);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADMIT);
	ck_assert(conn_budget_join(&budget, &members[2], FAKE(2), SA(a), false));
	conn_budget_set_limits(&budget, 4, 1);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADDRESS_FULL);
	ck_assert(!conn_budget_join(&budget, &members[3], FAKE(3), SA(a), false));
	conn_budget_set_limits(&budget, 4, 0);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADMIT);
	ck_assert(conn_budget_join(&budget, &members[3], FAKE(3), SA(a), false));
	conn_budget_leave(&members[2]);
	conn_budget_set_limits(&budget, 4, 1);
	ck_assert_int_eq(conn_budget_check(&budget, SA(a)), CONN_BUDGET_ADMIT);
	ck_assert(conn_budget_join(&budget, &members[4], FAKE(4), SA(a), false));
	ck_assert_uint_eq(budget.used, 3);
	for (int i = 0; i < 5; i++)
		conn_budget_leave(&members[i]);
	ck_assert_uint_eq(budget.used, 0);
	conn_budget_clear(&budget);
}
END_TEST

START_TEST(test_ipv6_prefix_counts_as_one)
{
	struct conn_budget budget;
	struct conn_budget_member members[3];
	struct sockaddr_storage first = ipv6("2001:db8:1:2::1");
	struct sockaddr_storage same_64 = ipv6("2001:db8:1:2:ffff:ffff:ffff:ffff");
	struct sockaddr_storage next_64 = ipv6("2001:db8:1:3::1");

	ck_assert_int_eq(conn_budget_init(&budget, "access", 10, 2), 0);
	ck_assert(conn_budget_join(&budget, &members[0], FAKE(0), SA(first), true));
	ck_assert(conn_budget_join(&budget, &members[1], FAKE(1), SA(same_64), true));
	ck_assert_int_eq(conn_budget_check(&budget, SA(same_64)), CONN_BUDGET_ADDRESS_FULL);
	ck_assert_int_eq(conn_budget_check(&budget, SA(next_64)), CONN_BUDGET_ADMIT);
	ck_assert(conn_budget_join(&budget, &members[2], FAKE(2), SA(next_64), true));
	for (size_t i = 0; i < 3; i++)
		conn_budget_leave(&members[i]);
	conn_budget_clear(&budget);
}
END_TEST

START_TEST(test_probation_queue_oldest_first)
{
	struct conn_budget budget;
	struct conn_budget_member members[4];
	struct sockaddr_storage a = ipv4("192.0.2.1");

	ck_assert_int_eq(conn_budget_init(&budget, "access", 4, 0), 0);
	ck_assert_ptr_null(conn_budget_oldest_on_probation(&budget));
	for (size_t i = 0; i < 4; i++)
		ck_assert(conn_budget_join(&budget, &members[i], FAKE(i), SA(a), true));
	ck_assert_ptr_eq(conn_budget_oldest_on_probation(&budget), FAKE(0));
	/* The oldest proves itself: the next oldest is first to go. */
	conn_budget_end_probation(&members[0]);
	ck_assert_ptr_eq(conn_budget_oldest_on_probation(&budget), FAKE(1));
	/* One from the middle leaves: the order of the rest holds. */
	conn_budget_leave(&members[2]);
	ck_assert_ptr_eq(conn_budget_oldest_on_probation(&budget), FAKE(1));
	conn_budget_leave(&members[1]);
	ck_assert_ptr_eq(conn_budget_oldest_on_probation(&budget), FAKE(3));
	conn_budget_end_probation(&members[3]);
	ck_assert_ptr_null(conn_budget_oldest_on_probation(&budget));
	/* Proven members still hold their places. */
	ck_assert_uint_eq(budget.used, 2);
	conn_budget_end_probation(&members[3]); /* twice: no harm */
	conn_budget_leave(&members[0]);
	conn_budget_leave(&members[3]);
	ck_assert_uint_eq(budget.used, 0);
	ck_assert_ptr_null(budget.oldest);
	ck_assert_ptr_null(budget.newest);
	conn_budget_clear(&budget);
}
END_TEST

START_TEST(test_joined_proven)
{
	struct conn_budget budget;
	struct conn_budget_member members[2];
	struct sockaddr_storage a = ipv4("192.0.2.1");

	ck_assert_int_eq(conn_budget_init(&budget, "internal", 2, 0), 0);
	ck_assert(conn_budget_join(&budget, &members[0], FAKE(0), SA(a), false));
	ck_assert(conn_budget_join(&budget, &members[1], FAKE(1), SA(a), true));
	ck_assert_ptr_eq(conn_budget_oldest_on_probation(&budget), FAKE(1));
	conn_budget_leave(&members[1]);
	ck_assert_ptr_null(conn_budget_oldest_on_probation(&budget));
	conn_budget_leave(&members[0]);
	conn_budget_clear(&budget);
}
END_TEST

/* The names logs and metrics give a refusal, one per verdict. */
START_TEST(test_verdict_names)
{
	ck_assert_str_eq(conn_budget_verdict_name(CONN_BUDGET_ADDRESS_FULL), "address_limit");
	ck_assert_str_eq(conn_budget_verdict_name(CONN_BUDGET_FULL), "connection_limit");
	for (int i = 0; i < CONN_BUDGET_VERDICTS; i++)
		ck_assert_str_ne(conn_budget_verdict_name((enum conn_budget_verdict)i), "unknown");
}
END_TEST

static Suite *conn_budget_suite(void)
{
	Suite *suite = suite_create("conn_budget");
	TCase *tcase = tcase_create("budget");
	tcase_add_test(tcase, test_total_cap);
	tcase_add_test(tcase, test_per_address_cap);
	tcase_add_test(tcase, test_set_limits);
	tcase_add_test(tcase, test_ipv6_prefix_counts_as_one);
	tcase_add_test(tcase, test_probation_queue_oldest_first);
	tcase_add_test(tcase, test_joined_proven);
	tcase_add_test(tcase, test_verdict_names);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(conn_budget_suite());
}
