/* SPDX-License-Identifier: ISC */
/* Unit tests for in_flight: remembered until the final response, by branch
 * and method; expired by its client's timer; bounded, oldest first out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "in_flight.h"
#include "test_suite.h"

static char *fields(const char *text)
{
	char *copy = strdup(text);
	ck_assert_ptr_nonnull(copy);
	return copy;
}

static enum in_flight_add_result add(struct in_flight *table, const char *branch,
				     const char *method, uint64_t arrival, uint64_t now)
{
	return in_flight_add(table, branch, method, arrival, ROLE_ACCESS, fields("Call-ID: x\r\n"),
			     12, now);
}

START_TEST(test_remove_by_branch_and_method)
{
	struct in_flight table;

	in_flight_init(&table, 16);
	ck_assert_int_eq(add(&table, "z9hG4bKsx1", "INVITE", 7, 1000), IN_FLIGHT_ADDED);
	/* The CANCEL of that INVITE has its branch: another transaction. */
	ck_assert_int_eq(add(&table, "z9hG4bKsx1", "CANCEL", 7, 1000), IN_FLIGHT_ADDED);
	ck_assert_uint_eq(table.count, 2);
	ck_assert(in_flight_remove(&table, "z9hG4bKsx1", "CANCEL"));
	ck_assert(!in_flight_remove(&table, "z9hG4bKsx1", "CANCEL"));
	ck_assert(!in_flight_remove(&table, "z9hG4bKsx2", "INVITE"));
	ck_assert_uint_eq(table.count, 1);
	struct in_flight_entry *entry = in_flight_take_oldest(&table, 1000);
	ck_assert_ptr_nonnull(entry);
	ck_assert_str_eq(entry->method, "INVITE");
	ck_assert_uint_eq(entry->arrival_id, 7);
	ck_assert_int_eq(entry->arrival_role, ROLE_ACCESS);
	ck_assert_str_eq(entry->fields, "Call-ID: x\r\n");
	in_flight_entry_free(entry);
	ck_assert_ptr_null(in_flight_take_oldest(&table, 1000));
	in_flight_clear(&table);
}
END_TEST

/* A retransmission relayed again is still one request. */
START_TEST(test_retransmission_replaces)
{
	struct in_flight table;

	in_flight_init(&table, 16);
	add(&table, "z9hG4bKsx1", "MESSAGE", 7, 1000);
	add(&table, "z9hG4bKsx1", "MESSAGE", 7, 1500);
	ck_assert_uint_eq(table.count, 1);
	in_flight_clear(&table);
	ck_assert_uint_eq(table.count, 0);
}
END_TEST

/* A non-INVITE's client gives up after 32 s, an INVITE's may wait for
 * minutes: what nobody waits for is not answered. */
START_TEST(test_expired_entries_are_not_answered)
{
	struct in_flight table;

	ck_assert_uint_eq(in_flight_lifetime_ms("MESSAGE"), 32000);
	ck_assert_uint_eq(in_flight_lifetime_ms("INVITE"), 300000);
	in_flight_init(&table, 16);
	add(&table, "b1", "MESSAGE", 1, 0);
	add(&table, "b2", "INVITE", 2, 0);
	add(&table, "b3", "OPTIONS", 3, 10000);
	struct in_flight_entry *entry = in_flight_take_oldest(&table, 33000);
	ck_assert_ptr_nonnull(entry);
	ck_assert_uint_eq(entry->arrival_id, 2);
	in_flight_entry_free(entry);
	entry = in_flight_take_oldest(&table, 33000);
	ck_assert_uint_eq(entry->arrival_id, 3);
	in_flight_entry_free(entry);
	/* Adding drops the expired ones at the old end. */
	add(&table, "b4", "MESSAGE", 4, 0);
	add(&table, "b5", "MESSAGE", 5, 40000);
	ck_assert_uint_eq(table.count, 1);
	in_flight_clear(&table);
}
END_TEST

/* Full: the oldest gives way. */
START_TEST(test_bounded_oldest_gives_way)
{
	struct in_flight table;
	char branch[32];

	in_flight_init(&table, 3);
	for (unsigned i = 1; i <= 3; i++) {
		snprintf(branch, sizeof(branch), "b%u", i);
		ck_assert_int_eq(add(&table, branch, "MESSAGE", i, 0), IN_FLIGHT_ADDED);
	}
	ck_assert_int_eq(add(&table, "b4", "MESSAGE", 4, 0), IN_FLIGHT_EVICTED);
	ck_assert_uint_eq(table.count, 3);
	ck_assert(!in_flight_remove(&table, "b1", "MESSAGE"));
	ck_assert(in_flight_remove(&table, "b4", "MESSAGE"));
	in_flight_clear(&table);
}
END_TEST

/* Many entries over few buckets still come back by key. */
START_TEST(test_many_entries)
{
	struct in_flight table;
	char branch[32];

	in_flight_init(&table, 0);
	for (unsigned i = 0; i < 3 * IN_FLIGHT_BUCKETS; i++) {
		snprintf(branch, sizeof(branch), "z9hG4bKsx%u", i);
		add(&table, branch, "MESSAGE", i, 0);
	}
	for (unsigned i = 0; i < 3 * IN_FLIGHT_BUCKETS; i += 2) {
		snprintf(branch, sizeof(branch), "z9hG4bKsx%u", i);
		ck_assert(in_flight_remove(&table, branch, "MESSAGE"));
	}
	ck_assert_uint_eq(table.count, 3 * IN_FLIGHT_BUCKETS / 2);
	struct in_flight_entry *entry = in_flight_take_oldest(&table, 0);
	ck_assert_uint_eq(entry->arrival_id, 1);
	in_flight_entry_free(entry);
	in_flight_clear(&table);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("in_flight");
	TCase *tcase = tcase_create("in_flight");
	tcase_add_test(tcase, test_remove_by_branch_and_method);
	tcase_add_test(tcase, test_retransmission_replaces);
	tcase_add_test(tcase, test_expired_entries_are_not_answered);
	tcase_add_test(tcase, test_bounded_oldest_gives_way);
	tcase_add_test(tcase, test_many_entries);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
