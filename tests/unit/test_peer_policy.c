/* SPDX-License-Identifier: ISC */
/* test_peer_policy: Check suite for src/turn/peer_policy: every refused
 * range at both of its edges and just outside them, every IPv6 spelling
 * of an IPv4 address, the edge's own addresses, the allow list overriding
 * all of them, and prefix parsing with its errors. */
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "peer_policy.h"
#include "test_suite.h"

static struct sockaddr_storage peer(const char *host)
{
	struct sockaddr_storage address;
	ck_assert_msg(address_parse(host, 3478, &address) != 0, "not an address: %s", host);
	return address;
}

static enum peer_verdict judge(const struct peer_policy *policy, const char *host)
{
	struct sockaddr_storage address = peer(host);
	return peer_policy_check(policy, &address);
}

static const struct peer_policy no_policy = { 0 };

struct case_row {
	const char *address;
	enum peer_verdict verdict;
};

#define ROWS(table) (int)(sizeof(table) / sizeof(table[0]))

static void check_row(const struct case_row *row)
{
	enum peer_verdict verdict = judge(&no_policy, row->address);
	ck_assert_msg(verdict == row->verdict, "%s: %s, not %s", row->address,
		      peer_verdict_name(verdict), peer_verdict_name(row->verdict));
}

/* ---- IPv4: each range's first and last address, and the neighbours ---- */

static const struct case_row ipv4_rows[] = {
	{ "0.0.0.0", PEER_REFUSED_UNSPECIFIED },
	{ "0.0.0.1", PEER_REFUSED_THIS_NETWORK },
	{ "0.255.255.255", PEER_REFUSED_THIS_NETWORK },
	{ "1.0.0.0", PEER_ALLOWED },
	{ "9.255.255.255", PEER_ALLOWED },
	{ "10.0.0.0", PEER_REFUSED_PRIVATE },
	{ "10.255.255.255", PEER_REFUSED_PRIVATE },
	{ "11.0.0.0", PEER_ALLOWED },
	{ "100.63.255.255", PEER_ALLOWED },
	{ "100.64.0.0", PEER_REFUSED_SHARED },
	{ "100.127.255.255", PEER_REFUSED_SHARED },
	{ "100.128.0.0", PEER_ALLOWED },
	{ "126.255.255.255", PEER_ALLOWED },
	{ "127.0.0.0", PEER_REFUSED_LOOPBACK },
	{ "127.0.0.1", PEER_REFUSED_LOOPBACK },
	{ "127.255.255.255", PEER_REFUSED_LOOPBACK },
	{ "128.0.0.0", PEER_ALLOWED },
	{ "169.253.255.255", PEER_ALLOWED },
	{ "169.254.0.0", PEER_REFUSED_LINK_LOCAL },
	{ "169.254.255.255", PEER_REFUSED_LINK_LOCAL },
	{ "169.255.0.0", PEER_ALLOWED },
	{ "172.15.255.255", PEER_ALLOWED },
	{ "172.16.0.0", PEER_REFUSED_PRIVATE },
	{ "172.31.255.255", PEER_REFUSED_PRIVATE },
	{ "172.32.0.0", PEER_ALLOWED },
	{ "191.255.255.255", PEER_ALLOWED },
	{ "192.0.0.0", PEER_REFUSED_RESERVED },
	{ "192.0.0.255", PEER_REFUSED_RESERVED },
	{ "192.0.1.0", PEER_ALLOWED },
	{ "192.0.1.255", PEER_ALLOWED },
	{ "192.0.2.0", PEER_REFUSED_DOCUMENTATION },
	{ "192.0.2.255", PEER_REFUSED_DOCUMENTATION },
	{ "192.0.3.0", PEER_ALLOWED },
	{ "192.167.255.255", PEER_ALLOWED },
	{ "192.168.0.0", PEER_REFUSED_PRIVATE },
	{ "192.168.255.255", PEER_REFUSED_PRIVATE },
	{ "192.169.0.0", PEER_ALLOWED },
	{ "198.17.255.255", PEER_ALLOWED },
	{ "198.18.0.0", PEER_REFUSED_BENCHMARKING },
	{ "198.19.255.255", PEER_REFUSED_BENCHMARKING },
	{ "198.20.0.0", PEER_ALLOWED },
	{ "198.51.99.255", PEER_ALLOWED },
	{ "198.51.100.0", PEER_REFUSED_DOCUMENTATION },
	{ "198.51.100.255", PEER_REFUSED_DOCUMENTATION },
	{ "198.51.101.0", PEER_ALLOWED },
	{ "203.0.112.255", PEER_ALLOWED },
	{ "203.0.113.0", PEER_REFUSED_DOCUMENTATION },
	{ "203.0.113.255", PEER_REFUSED_DOCUMENTATION },
	{ "203.0.114.0", PEER_ALLOWED },
	{ "223.255.255.255", PEER_ALLOWED },
	{ "224.0.0.0", PEER_REFUSED_MULTICAST },
	{ "239.255.255.255", PEER_REFUSED_MULTICAST },
	{ "240.0.0.0", PEER_REFUSED_RESERVED },
	{ "255.255.255.254", PEER_REFUSED_RESERVED },
	{ "255.255.255.255", PEER_REFUSED_BROADCAST },
	{ "8.8.8.8", PEER_ALLOWED },
	{ "192.88.99.1", PEER_ALLOWED },
};

START_TEST(test_ipv4_ranges)
{
	check_row(&ipv4_rows[_i]);
}
END_TEST

/* ---- IPv6 ---- */

static const struct case_row ipv6_rows[] = {
	{ "::", PEER_REFUSED_UNSPECIFIED },
	{ "::1", PEER_REFUSED_LOOPBACK },
	{ "::2", PEER_REFUSED_THIS_NETWORK }, /* ::0.0.0.2, compatible */
	{ "::1:0:0:0", PEER_REFUSED_RESERVED },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "fe80::", PEER_REFUSED_LINK_LOCAL },
	{ "fe80::1", PEER_REFUSED_LINK_LOCAL },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_LINK_LOCAL },
	{ "fec0::", PEER_REFUSED_SITE_LOCAL },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_SITE_LOCAL },
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "fc00::", PEER_REFUSED_UNIQUE_LOCAL },
	{ "fd12:3456:789a::1", PEER_REFUSED_UNIQUE_LOCAL },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_UNIQUE_LOCAL },
	{ "fe00::", PEER_REFUSED_RESERVED },
	{ "ff00::", PEER_REFUSED_MULTICAST },
	{ "ff02::1", PEER_REFUSED_MULTICAST },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_MULTICAST },
	{ "64:ff9b:0:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "64:ff9b:1::", PEER_REFUSED_PRIVATE },
	{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_PRIVATE },
	{ "64:ff9b:2::", PEER_REFUSED_RESERVED },
	{ "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "100::", PEER_REFUSED_RESERVED },
	{ "100::ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "100:0:0:1::", PEER_REFUSED_RESERVED },
	{ "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "2000::", PEER_ALLOWED },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOWED },
	{ "2001:db8::", PEER_REFUSED_DOCUMENTATION },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_DOCUMENTATION },
	{ "2001:db9::", PEER_ALLOWED },
	{ "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOWED },
	{ "3fff::", PEER_REFUSED_DOCUMENTATION },
	{ "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_DOCUMENTATION },
	{ "3fff:1000::", PEER_ALLOWED },
	{ "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOWED },
	{ "4000::", PEER_REFUSED_RESERVED },
	{ "2001:1:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOWED },
	{ "2001:2::", PEER_REFUSED_BENCHMARKING },
	{ "2001:2:0:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_BENCHMARKING },
	{ "2001:2:1::", PEER_ALLOWED },
	{ "2001:f:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOWED },
	{ "2001:10::", PEER_REFUSED_RESERVED },
	{ "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "2001:20::", PEER_REFUSED_RESERVED },
	{ "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", PEER_REFUSED_RESERVED },
	{ "2001:30::", PEER_ALLOWED },
	{ "2001:4860:4860::8888", PEER_ALLOWED },
	{ "2a00:1450::1", PEER_ALLOWED },
};

START_TEST(test_ipv6_ranges)
{
	check_row(&ipv6_rows[_i]);
}
END_TEST

/* ---- IPv6 spellings of IPv4 addresses ---- */

static const struct case_row embedded_rows[] = {
	/* IPv4-mapped, dotted and hex */
	{ "::ffff:127.0.0.1", PEER_REFUSED_LOOPBACK },
	{ "::ffff:7f00:1", PEER_REFUSED_LOOPBACK },
	{ "::ffff:10.1.2.3", PEER_REFUSED_PRIVATE },
	{ "::ffff:0.0.0.0", PEER_REFUSED_UNSPECIFIED },
	{ "::ffff:169.254.1.1", PEER_REFUSED_LINK_LOCAL },
	{ "::ffff:224.0.0.1", PEER_REFUSED_MULTICAST },
	{ "::ffff:255.255.255.255", PEER_REFUSED_BROADCAST },
	{ "::ffff:100.64.0.1", PEER_REFUSED_SHARED },
	{ "::ffff:8.8.8.8", PEER_ALLOWED },
	/* IPv4-compatible */
	{ "::127.0.0.1", PEER_REFUSED_LOOPBACK },
	{ "::7f00:1", PEER_REFUSED_LOOPBACK },
	{ "::192.168.1.1", PEER_REFUSED_PRIVATE },
	{ "::8.8.8.8", PEER_ALLOWED },
	/* IPv4-translated */
	{ "::ffff:0:127.0.0.1", PEER_REFUSED_LOOPBACK },
	{ "::ffff:0:7f00:1", PEER_REFUSED_LOOPBACK },
	{ "::ffff:0:172.16.0.1", PEER_REFUSED_PRIVATE },
	{ "::ffff:0:8.8.8.8", PEER_ALLOWED },
	/* NAT64 well-known prefix */
	{ "64:ff9b::127.0.0.1", PEER_REFUSED_LOOPBACK },
	{ "64:ff9b::7f00:1", PEER_REFUSED_LOOPBACK },
	{ "64:ff9b::10.0.0.1", PEER_REFUSED_PRIVATE },
	{ "64:ff9b::169.254.169.254", PEER_REFUSED_LINK_LOCAL },
	{ "64:ff9b::8.8.8.8", PEER_ALLOWED },
	/* 6to4: the IPv4 address in bits 16-47 */
	{ "2002:7f00:1::", PEER_REFUSED_LOOPBACK },
	{ "2002:7f00:1:1::5", PEER_REFUSED_LOOPBACK },
	{ "2002:a00:1::1", PEER_REFUSED_PRIVATE },
	{ "2002:c0a8:101::1", PEER_REFUSED_PRIVATE },
	{ "2002::", PEER_REFUSED_UNSPECIFIED },
	{ "2002:e000:1::", PEER_REFUSED_MULTICAST },
	{ "2002:808:808::1", PEER_ALLOWED },
	{ "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOWED },
	{ "2003::", PEER_ALLOWED },
	/* Teredo: the client's address in the last 32 bits, inverted.  RFC
	 * 4380's example client is 192.0.2.45, documentation. */
	{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", PEER_REFUSED_DOCUMENTATION },
	{ "2001:0:4136:e378:8000:63bf:80ff:fffe", PEER_REFUSED_LOOPBACK }, /* 127.0.0.1 */
	{ "2001::f5ff:fffe", PEER_REFUSED_PRIVATE }, /* 10.0.0.1 */
	{ "2001:0:4136:e378:8000:63bf:f7f7:f7f7", PEER_ALLOWED }, /* 8.8.8.8 */
	/* not inverted, 7f00:0001 is 128.255.255.254 */
	{ "2001:0:4136:e378:8000:63bf:7f00:1", PEER_ALLOWED },
	{ "2001::ffff:ffff", PEER_REFUSED_UNSPECIFIED }, /* 0.0.0.0 */
};

START_TEST(test_embedded_ipv4)
{
	check_row(&embedded_rows[_i]);
}
END_TEST

START_TEST(test_other_family)
{
	struct sockaddr_storage address;

	memset(&address, 0, sizeof(address));
	address.ss_family = AF_UNIX;
	ck_assert_int_eq(peer_policy_check(&no_policy, &address), PEER_REFUSED_FAMILY);
}
END_TEST

/* ---- the edge's own addresses ---- */

START_TEST(test_own_addresses)
{
	struct sockaddr_storage own[] = { peer("198.51.99.7"), peer("2a00:1450::7") };
	struct peer_policy policy = { .own = own, .own_count = 2 };
	struct sockaddr_storage other_port;

	ck_assert_int_eq(judge(&no_policy, "198.51.99.7"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "198.51.99.7"), PEER_REFUSED_EDGE);
	ck_assert_int_eq(judge(&policy, "198.51.99.6"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "198.51.99.8"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "2a00:1450::7"), PEER_REFUSED_EDGE);
	ck_assert_int_eq(judge(&policy, "2a00:1450::8"), PEER_ALLOWED);
	/* the port does not matter */
	ck_assert_int_ne(address_parse("198.51.99.7", 50000, &other_port), 0);
	ck_assert_int_eq(peer_policy_check(&policy, &other_port), PEER_REFUSED_EDGE);
	/* nor the spelling */
	ck_assert_int_eq(judge(&policy, "::ffff:198.51.99.7"), PEER_REFUSED_EDGE);
	ck_assert_int_eq(judge(&policy, "64:ff9b::198.51.99.7"), PEER_REFUSED_EDGE);
	ck_assert_int_eq(judge(&policy, "2002:c633:6307::1"), PEER_REFUSED_EDGE);
	ck_assert_int_eq(judge(&policy, "2001::39cc:9cf8"), PEER_REFUSED_EDGE);
	/* an edge address that is also in a refused range says edge */
	own[0] = peer("10.0.0.5");
	ck_assert_int_eq(judge(&policy, "10.0.0.5"), PEER_REFUSED_EDGE);
	ck_assert_int_eq(judge(&policy, "10.0.0.6"), PEER_REFUSED_PRIVATE);
	/* an own address given in the mapped spelling (a dual-stack socket's) */
	own[0] = peer("::ffff:198.51.99.7");
	ck_assert_int_eq(judge(&policy, "198.51.99.7"), PEER_REFUSED_EDGE);
}
END_TEST

/* ---- the allow list ---- */

static struct peer_prefix prefix(const char *text)
{
	struct peer_prefix parsed;
	ck_assert_msg(peer_prefix_parse(text, strlen(text), &parsed) == PEER_PREFIX_OK, "%s", text);
	return parsed;
}

START_TEST(test_allow_list_overrides)
{
	struct peer_prefix allowed[] = { prefix("127.0.0.1"), prefix("10.20.0.0/16"),
					 prefix("fd00:1::/32"), prefix("198.51.99.7/32") };
	struct sockaddr_storage own[] = { peer("198.51.99.7"), peer("198.51.99.8") };
	struct peer_policy policy = { allowed, 4, own, 2 };

	ck_assert_int_eq(judge(&policy, "127.0.0.1"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "127.0.0.2"), PEER_REFUSED_LOOPBACK);
	ck_assert_int_eq(judge(&policy, "10.20.0.0"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "10.20.255.255"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "10.19.255.255"), PEER_REFUSED_PRIVATE);
	ck_assert_int_eq(judge(&policy, "10.21.0.0"), PEER_REFUSED_PRIVATE);
	ck_assert_int_eq(judge(&policy, "fd00:1::5"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "fd00:1:ffff:ffff:ffff:ffff:ffff:ffff"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "fd00:2::"), PEER_REFUSED_UNIQUE_LOCAL);
	/* over the edge's own addresses too */
	ck_assert_int_eq(judge(&policy, "198.51.99.7"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "198.51.99.8"), PEER_REFUSED_EDGE);
	/* an allowed IPv4 address is allowed in its IPv6 spellings */
	ck_assert_int_eq(judge(&policy, "::ffff:127.0.0.1"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "::ffff:127.0.0.2"), PEER_REFUSED_LOOPBACK);
	ck_assert_int_eq(judge(&policy, "64:ff9b::10.20.1.1"), PEER_ALLOWED);
	/* the IPv4 prefix says nothing of an IPv6 address that embeds none */
	ck_assert_int_eq(judge(&policy, "::1"), PEER_REFUSED_LOOPBACK);
}
END_TEST

START_TEST(test_allow_list_ipv6_prefix_of_mapped)
{
	struct peer_prefix allowed[] = { prefix("::ffff:10.0.0.0/104") };
	struct peer_policy policy = { allowed, 1, NULL, 0 };

	ck_assert_int_eq(judge(&policy, "::ffff:10.9.9.9"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "::ffff:11.0.0.0"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "::ffff:127.0.0.1"), PEER_REFUSED_LOOPBACK);
	/* the IPv4 form is another family */
	ck_assert_int_eq(judge(&policy, "10.9.9.9"), PEER_REFUSED_PRIVATE);
}
END_TEST

START_TEST(test_loopback_and_unspecified_embed_nothing)
{
	/* :: and ::1 are themselves, not ::0.0.0.0 and ::0.0.0.1 */
	struct peer_prefix allowed[] = { prefix("0.0.0.0/8") };
	struct peer_policy policy = { allowed, 1, NULL, 0 };

	ck_assert_int_eq(judge(&policy, "::"), PEER_REFUSED_UNSPECIFIED);
	ck_assert_int_eq(judge(&policy, "::1"), PEER_REFUSED_LOOPBACK);
	ck_assert_int_eq(judge(&policy, "::2"), PEER_ALLOWED);
}
END_TEST

START_TEST(test_allow_everything)
{
	struct peer_prefix allowed[] = { prefix("0.0.0.0/0"), prefix("::/0") };
	struct peer_policy policy = { allowed, 2, NULL, 0 };

	ck_assert_int_eq(judge(&policy, "127.0.0.1"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "255.255.255.255"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "::1"), PEER_ALLOWED);
	ck_assert_int_eq(judge(&policy, "ff02::1"), PEER_ALLOWED);
}
END_TEST

/* ---- prefixes ---- */

START_TEST(test_prefix_parse)
{
	struct peer_prefix parsed;
	struct sockaddr_storage address;

	parsed = prefix("10.20.0.0/16");
	ck_assert_int_eq(parsed.family, AF_INET);
	ck_assert_uint_eq(parsed.length, 16);
	ck_assert_uint_eq(parsed.address[0], 10);
	ck_assert_uint_eq(parsed.address[1], 20);
	parsed = prefix("192.0.2.1");
	ck_assert_uint_eq(parsed.length, 32);
	parsed = prefix("2001:db8::/32");
	ck_assert_int_eq(parsed.family, AF_INET6);
	ck_assert_uint_eq(parsed.length, 32);
	parsed = prefix("2001:db8::1");
	ck_assert_uint_eq(parsed.length, 128);
	parsed = prefix("::/0");
	ck_assert_uint_eq(parsed.length, 0);
	parsed = prefix("172.16.0.0/12");
	address = peer("172.31.255.255");
	ck_assert(peer_prefix_contains(&parsed, &address));
	address = peer("172.32.0.0");
	ck_assert(!peer_prefix_contains(&parsed, &address));
	address = peer("::ffff:172.16.0.1"); /* another family */
	ck_assert(!peer_prefix_contains(&parsed, &address));
	/* only LENGTH bytes are read */
	ck_assert_int_eq(peer_prefix_parse("10.0.0.0/8garbage", 10, &parsed), PEER_PREFIX_OK);
	ck_assert_uint_eq(parsed.length, 8);
}
END_TEST

static const struct {
	const char *text;
	enum peer_prefix_error error;
} bad_prefixes[] = {
	{ "", PEER_PREFIX_EMPTY },
	{ "/8", PEER_PREFIX_EMPTY },
	{ "localhost", PEER_PREFIX_BAD_ADDRESS },
	{ "10.0.0", PEER_PREFIX_BAD_ADDRESS },
	{ "10.0.0.256/32", PEER_PREFIX_BAD_ADDRESS },
	{ "[2001:db8::]/32", PEER_PREFIX_BAD_ADDRESS },
	{ " 10.0.0.0/8", PEER_PREFIX_BAD_ADDRESS },
	{ "10.0.0.0 /8", PEER_PREFIX_BAD_ADDRESS },
	{ "2001:db8::1::2", PEER_PREFIX_BAD_ADDRESS },
	{ "10.0.0.0/", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/x", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/-8", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/+8", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/08", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/8 ", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/8/8", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/1000", PEER_PREFIX_BAD_LENGTH },
	{ "10.0.0.0/33", PEER_PREFIX_LENGTH_TOO_LONG },
	{ "2001:db8::/129", PEER_PREFIX_LENGTH_TOO_LONG },
	{ "10.1.2.3/8", PEER_PREFIX_HOST_BITS },
	{ "10.0.0.1/31", PEER_PREFIX_HOST_BITS },
	{ "2001:db8::1/64", PEER_PREFIX_HOST_BITS },
	{ "2001:db8:8000::/32", PEER_PREFIX_HOST_BITS },
};

START_TEST(test_prefix_errors)
{
	struct peer_prefix parsed = { .family = AF_UNIX, .length = 77 };

	ck_assert_msg(peer_prefix_parse(bad_prefixes[_i].text, strlen(bad_prefixes[_i].text),
					&parsed) == bad_prefixes[_i].error,
		      "%s", bad_prefixes[_i].text);
	ck_assert_int_eq(parsed.family, AF_UNIX); /* left alone */
	ck_assert_uint_eq(parsed.length, 77);
	ck_assert_str_ne(peer_prefix_error_message(bad_prefixes[_i].error), "unknown error");
}
END_TEST

START_TEST(test_prefix_with_nul)
{
	struct peer_prefix parsed;
	const char text[] = { '1', '0', '.', '0', '.', '0', '.', '0', '\0', '/', '8' };

	ck_assert_int_eq(peer_prefix_parse(text, sizeof(text), &parsed), PEER_PREFIX_BAD_ADDRESS);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(peer_verdict_name(PEER_ALLOWED), "allowed");
	ck_assert_str_eq(peer_verdict_name(PEER_REFUSED_LOOPBACK), "loopback");
	ck_assert_str_eq(peer_verdict_name(PEER_REFUSED_UNIQUE_LOCAL), "unique_local");
	ck_assert_str_eq(peer_verdict_name(PEER_REFUSED_EDGE), "edge");
	ck_assert_str_eq(peer_verdict_name((enum peer_verdict)999), "unknown");
	ck_assert_str_eq(peer_prefix_error_message(PEER_PREFIX_HOST_BITS),
			 "bits are set after the prefix length");
	ck_assert_str_eq(peer_prefix_error_message((enum peer_prefix_error)999), "unknown error");
}
END_TEST

static Suite *peer_policy_suite(void)
{
	Suite *suite = suite_create("peer_policy");
	TCase *ranges = tcase_create("ranges");
	TCase *lists = tcase_create("lists");
	TCase *prefixes = tcase_create("prefixes");

	tcase_add_loop_test(ranges, test_ipv4_ranges, 0, ROWS(ipv4_rows));
	tcase_add_loop_test(ranges, test_ipv6_ranges, 0, ROWS(ipv6_rows));
	tcase_add_loop_test(ranges, test_embedded_ipv4, 0, ROWS(embedded_rows));
	tcase_add_test(ranges, test_other_family);
	tcase_add_test(ranges, test_names);
	suite_add_tcase(suite, ranges);
	tcase_add_test(lists, test_own_addresses);
	tcase_add_test(lists, test_allow_list_overrides);
	tcase_add_test(lists, test_allow_list_ipv6_prefix_of_mapped);
	tcase_add_test(lists, test_loopback_and_unspecified_embed_nothing);
	tcase_add_test(lists, test_allow_everything);
	suite_add_tcase(suite, lists);
	tcase_add_test(prefixes, test_prefix_parse);
	tcase_add_loop_test(prefixes, test_prefix_errors, 0, ROWS(bad_prefixes));
	tcase_add_test(prefixes, test_prefix_with_nul);
	suite_add_tcase(suite, prefixes);
	return suite;
}

int main(void)
{
	return test_suite_run(peer_policy_suite());
}
