/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/config_values: the syntax of numbers, ports,
 * addresses, host names, host:port pairs and domains in a configuration. */
#include <check.h>
#include <stdlib.h>

#include "config_values.h"
#include "test_suite.h"

START_TEST(test_numbers)
{
	unsigned long long number = 7;

	ck_assert(config_number_parse("0", &number) && number == 0);
	ck_assert(config_number_parse("18446744073709551609", &number));
	ck_assert(!config_number_parse("18446744073709551616", &number));
	ck_assert(!config_number_parse("", &number));
	ck_assert(!config_number_parse("-1", &number));
	ck_assert(!config_number_parse(" 1", &number));
	ck_assert(!config_number_parse("0x10", &number));
	ck_assert(!config_number_parse("1k", &number));

	uint16_t port = 0;
	ck_assert(config_port_parse("65535", &port) && port == 65535);
	ck_assert(!config_port_parse("0", &port));
	ck_assert(!config_port_parse("65536", &port));
}
END_TEST

START_TEST(test_addresses_and_names)
{
	ck_assert(config_is_ip_address("127.0.0.1"));
	ck_assert(config_is_ip_address("fd00::1"));
	ck_assert(!config_is_ip_address("localhost"));
	ck_assert(config_is_wildcard_address("0.0.0.0"));
	ck_assert(config_is_wildcard_address("::"));
	ck_assert(!config_is_wildcard_address("127.0.0.1"));
	ck_assert_str_eq(config_address_family_name("::1"), "IPv6");
	ck_assert_str_eq(config_address_family_name("10.0.0.1"), "IPv4");

	ck_assert(config_is_host_name("edge.example.test"));
	ck_assert(config_is_host_name("a-b.c"));
	ck_assert(!config_is_host_name("-a.test"));
	ck_assert(!config_is_host_name("a-.test"));
	ck_assert(!config_is_host_name("a..test"));
	ck_assert(!config_is_host_name("a_b.test"));
	ck_assert(!config_is_host_name(""));
	char label[70];
	for (int i = 0; i < 64; i++)
		label[i] = 'a';
	label[64] = '\0';
	ck_assert(!config_is_host_name(label)); /* a label of 64 */
	label[63] = '\0';
	ck_assert(config_is_host_name(label));

	ck_assert(config_domain_names("example.test", "EXAMPLE.test."));
	ck_assert(!config_domain_names("example.test", "sub.example.test"));
}
END_TEST

START_TEST(test_host_port)
{
	char *host = NULL;
	uint16_t port = 1;

	ck_assert(config_host_port_split("edge.test:5061", &host, &port));
	ck_assert_str_eq(host, "edge.test");
	ck_assert_uint_eq(port, 5061);
	free(host);
	ck_assert(config_host_port_split("[fd00::1]:443", &host, &port));
	ck_assert_str_eq(host, "fd00::1");
	ck_assert_uint_eq(port, 443);
	free(host);
	ck_assert(config_host_port_split("fd00::1", &host, &port));
	ck_assert_str_eq(host, "fd00::1");
	ck_assert_uint_eq(port, 0);
	free(host);
	host = NULL;
	ck_assert(!config_host_port_split("edge.test:0", &host, &port));
	ck_assert(!config_host_port_split("[fd00::1", &host, &port));
	ck_assert(!config_host_port_split("[edge.test]:1", &host, &port));
	ck_assert(!config_host_port_split("bad_name:1", &host, &port));
	ck_assert_ptr_null(host);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("config_values");
	TCase *tcase = tcase_create("values");
	tcase_add_test(tcase, test_numbers);
	tcase_add_test(tcase, test_addresses_and_names);
	tcase_add_test(tcase, test_host_port);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
