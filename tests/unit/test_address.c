/* SPDX-License-Identifier: ISC */
/* Check suite for lib/address: IP literals to socket addresses and back. */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "address.h"
#include "test_suite.h"

START_TEST(test_parse_ipv4)
{
	struct sockaddr_storage address;
	char text[64];

	ck_assert_int_eq(address_parse("192.0.2.7", 5061, &address), sizeof(struct sockaddr_in));
	ck_assert_int_eq(address.ss_family, AF_INET);
	ck_assert_int_eq(address_length(&address), sizeof(struct sockaddr_in));
	address_format((struct sockaddr *)&address, true, text, sizeof(text));
	ck_assert_str_eq(text, "192.0.2.7:5061");
	address_format((struct sockaddr *)&address, false, text, sizeof(text));
	ck_assert_str_eq(text, "192.0.2.7");
	ck_assert(!address_is_unspecified(&address));
}
END_TEST

START_TEST(test_parse_ipv6)
{
	struct sockaddr_storage address;
	char text[64];

	ck_assert_int_eq(address_parse("2001:DB8::1", 443, &address), sizeof(struct sockaddr_in6));
	ck_assert_int_eq(address.ss_family, AF_INET6);
	ck_assert_int_eq(address_length(&address), sizeof(struct sockaddr_in6));
	address_format((struct sockaddr *)&address, true, text, sizeof(text));
	ck_assert_str_eq(text, "[2001:db8::1]:443");
	address_format((struct sockaddr *)&address, false, text, sizeof(text));
	ck_assert_str_eq(text, "2001:db8::1");
}
END_TEST

START_TEST(test_not_literals)
{
	static const char *const hosts[] = { "edge.example.test", "[::1]", "192.0.2", "",
					     "1.2.3.4 " };
	struct sockaddr_storage address;
	char text[64];

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		ck_assert_int_eq(address_parse(hosts[i], 1, &address), 0);
		ck_assert_int_eq(address_length(&address), 0);
	}
	address_format((struct sockaddr *)&address, true, text, sizeof(text));
	ck_assert_str_eq(text, "unknown");
}
END_TEST

START_TEST(test_unspecified)
{
	struct sockaddr_storage address;

	address_parse("0.0.0.0", 0, &address);
	ck_assert(address_is_unspecified(&address));
	address_parse("::", 0, &address);
	ck_assert(address_is_unspecified(&address));
	address_parse("::1", 0, &address);
	ck_assert(!address_is_unspecified(&address));
	address_parse("not an address", 0, &address);
	ck_assert(!address_is_unspecified(&address));
}
END_TEST

START_TEST(test_loopback)
{
	static const char *const loopback[] = { "127.0.0.1", "127.255.0.9", "::1",
						"::ffff:127.0.0.1" };
	static const char *const other[] = { "128.0.0.1",   "126.255.255.255",
					     "0.0.0.0",	    "::",
					     "::2",	    "::ffff:10.0.0.1",
					     "::127.0.0.1", "fe80::1" };
	struct sockaddr_storage address;

	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		ck_assert_int_gt(address_parse(loopback[i], 0, &address), 0);
		ck_assert_msg(address_is_loopback(&address), "%s", loopback[i]);
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		ck_assert_int_gt(address_parse(other[i], 0, &address), 0);
		ck_assert_msg(!address_is_loopback(&address), "%s", other[i]);
	}
	address_parse("not an address", 0, &address);
	ck_assert(!address_is_loopback(&address));
}
END_TEST

static Suite *address_suite(void)
{
	Suite *suite = suite_create("address");
	TCase *tcase = tcase_create("literals");
	tcase_add_test(tcase, test_parse_ipv4);
	tcase_add_test(tcase, test_parse_ipv6);
	tcase_add_test(tcase, test_not_literals);
	tcase_add_test(tcase, test_unspecified);
	tcase_add_test(tcase, test_loopback);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(address_suite());
}
