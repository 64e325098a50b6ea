/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/address_count: the cap per address, release, IPv4 and
 * IPv6 keys (ports ignored, IPv4-mapped IPv6 as IPv4 by the full address,
 * other IPv6 by its /64), and many addresses against a plain array model,
 * ending with an empty table. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address_count.h"
#include "test_suite.h"

/* ---- Addresses ---- */

static struct sockaddr_in v4(const char *text, uint16_t port)
{
	struct sockaddr_in address;

	memset(&address, 0, sizeof(address));
	address.sin_family = AF_INET;
	address.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, text, &address.sin_addr), 1);
	return address;
}

static struct sockaddr_in6 v6(const char *text, uint16_t port)
{
	struct sockaddr_in6 address;

	memset(&address, 0, sizeof(address));
	address.sin6_family = AF_INET6;
	address.sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, text, &address.sin6_addr), 1);
	return address;
}

#define SA(address) ((const struct sockaddr *)&(address))

/* Address number INDEX: IPv4 10.x.y.z for even; for odd, IPv6 in the /64
 * 2001:db8:x:y::/64 (one /64 per index), with an interface identifier that
 * changes with the port so that only the prefix can match. */
static struct sockaddr_storage numbered(unsigned index, uint16_t port)
{
	struct sockaddr_storage storage;

	memset(&storage, 0, sizeof(storage));
	if (index % 2 == 0) {
		struct sockaddr_in *address = (struct sockaddr_in *)&storage;
		address->sin_family = AF_INET;
		address->sin_addr.s_addr = htonl(0x0a000000u + index);
		address->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *address = (struct sockaddr_in6 *)&storage;
		address->sin6_family = AF_INET6;
		address->sin6_addr.s6_addr[0] = 0x20;
		address->sin6_addr.s6_addr[1] = 0x01;
		address->sin6_addr.s6_addr[2] = 0x0d;
		address->sin6_addr.s6_addr[3] = 0xb8;
		address->sin6_addr.s6_addr[4] = (uint8_t)(index >> 24);
		address->sin6_addr.s6_addr[5] = (uint8_t)(index >> 16);
		address->sin6_addr.s6_addr[6] = (uint8_t)(index >> 8);
		address->sin6_addr.s6_addr[7] = (uint8_t)index;
		address->sin6_addr.s6_addr[8] = (uint8_t)(port >> 8);
		address->sin6_addr.s6_addr[15] = (uint8_t)port;
		address->sin6_port = htons(port);
	}
	return storage;
}

/* ---- Tests ---- */

START_TEST(test_acquire_up_to_max)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in address = v4("192.0.2.1", 5061);

	ck_assert_ptr_nonnull(table);
	ck_assert_uint_eq(address_count_get(table, SA(address)), 0);
	for (unsigned i = 1; i <= 3; i++) {
		ck_assert(address_count_acquire(table, SA(address), 3));
		ck_assert_uint_eq(address_count_get(table, SA(address)), i);
	}
	ck_assert(!address_count_acquire(table, SA(address), 3));
	ck_assert(!address_count_acquire(table, SA(address), 3));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 3);
	/* a larger max (a reload) lets one more in; a smaller one refuses */
	ck_assert(address_count_acquire(table, SA(address), 4));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 4);
	ck_assert(!address_count_acquire(table, SA(address), 2));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 4);
	address_count_free(table);
}
END_TEST

START_TEST(test_max_zero_and_one)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in address = v4("192.0.2.1", 1);

	ck_assert(!address_count_acquire(table, SA(address), 0));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 0);
	ck_assert(address_count_acquire(table, SA(address), 1));
	ck_assert(!address_count_acquire(table, SA(address), 1));
	ck_assert(!address_count_acquire(table, SA(address), 0));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 1);
	address_count_free(table);
}
END_TEST

START_TEST(test_release_makes_room)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in6 address = v6("2001:db8::1", 443);

	ck_assert(address_count_acquire(table, SA(address), 2));
	ck_assert(address_count_acquire(table, SA(address), 2));
	ck_assert(!address_count_acquire(table, SA(address), 2));
	address_count_release(table, SA(address));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 1);
	ck_assert(address_count_acquire(table, SA(address), 2));
	ck_assert(!address_count_acquire(table, SA(address), 2));
	address_count_release(table, SA(address));
	address_count_release(table, SA(address));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 0);
	/* a release too many is ignored: the count does not wrap */
	address_count_release(table, SA(address));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 0);
	ck_assert(address_count_acquire(table, SA(address), 1));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 1);
	address_count_free(table);
}
END_TEST

START_TEST(test_addresses_independent)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in a = v4("192.0.2.1", 1);
	struct sockaddr_in b = v4("192.0.2.2", 1);
	struct sockaddr_in6 c = v6("2001:db8::1", 1);
	/* the next /64 */
	struct sockaddr_in6 d = v6("2001:db8:0:1::1", 1);
	/* same leading bytes as 192.0.2.1, but an IPv6 address */
	struct sockaddr_in6 e = v6("c000:201::", 1);
	/* IPv4-compatible (deprecated), not IPv4-mapped: stays IPv6 */
	struct sockaddr_in6 f = v6("::192.0.2.1", 1);

	ck_assert(address_count_acquire(table, SA(a), 1));
	ck_assert(address_count_acquire(table, SA(b), 1));
	ck_assert(address_count_acquire(table, SA(c), 1));
	ck_assert(address_count_acquire(table, SA(d), 1));
	ck_assert(address_count_acquire(table, SA(e), 1));
	ck_assert(address_count_acquire(table, SA(f), 1));
	ck_assert(!address_count_acquire(table, SA(a), 1));
	ck_assert(!address_count_acquire(table, SA(f), 1));
	address_count_release(table, SA(a));
	ck_assert_uint_eq(address_count_get(table, SA(a)), 0);
	ck_assert_uint_eq(address_count_get(table, SA(b)), 1);
	ck_assert_uint_eq(address_count_get(table, SA(c)), 1);
	ck_assert_uint_eq(address_count_get(table, SA(d)), 1);
	ck_assert_uint_eq(address_count_get(table, SA(e)), 1);
	ck_assert_uint_eq(address_count_get(table, SA(f)), 1);
	address_count_free(table);
}
END_TEST

START_TEST(test_ports_ignored)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in a1 = v4("198.51.100.7", 40000);
	struct sockaddr_in a2 = v4("198.51.100.7", 40001);
	struct sockaddr_in6 b1 = v6("2001:db8::7", 5061);
	struct sockaddr_in6 b2 = v6("2001:db8::7", 5062);

	/* flow label and scope are not part of the address either */
	b2.sin6_flowinfo = htonl(12345);
	b2.sin6_scope_id = 3;
	ck_assert(address_count_acquire(table, SA(a1), 2));
	ck_assert(address_count_acquire(table, SA(a2), 2));
	ck_assert(!address_count_acquire(table, SA(a1), 2));
	ck_assert_uint_eq(address_count_get(table, SA(a2)), 2);
	ck_assert(address_count_acquire(table, SA(b1), 2));
	ck_assert(address_count_acquire(table, SA(b2), 2));
	ck_assert(!address_count_acquire(table, SA(b1), 2));
	address_count_release(table, SA(b2));
	ck_assert_uint_eq(address_count_get(table, SA(b1)), 1);
	address_count_free(table);
}
END_TEST

START_TEST(test_v4_mapped_is_v4)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in plain = v4("203.0.113.9", 1);
	struct sockaddr_in6 mapped = v6("::ffff:203.0.113.9", 2);

	ck_assert(address_count_acquire(table, SA(plain), 2));
	ck_assert_uint_eq(address_count_get(table, SA(mapped)), 1);
	ck_assert(address_count_acquire(table, SA(mapped), 2));
	ck_assert(!address_count_acquire(table, SA(plain), 2));
	ck_assert(!address_count_acquire(table, SA(mapped), 2));
	address_count_release(table, SA(plain));
	ck_assert_uint_eq(address_count_get(table, SA(mapped)), 1);
	address_count_release(table, SA(mapped));
	ck_assert_uint_eq(address_count_get(table, SA(plain)), 0);
	ck_assert_uint_eq(address_count_get(table, SA(mapped)), 0);
	address_count_free(table);
}
END_TEST

/* Whoever holds a /64 holds 2^64 addresses: they share one count. */
START_TEST(test_v6_by_64_prefix)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in6 a1 = v6("2001:db8:aa:bb::1", 1);
	struct sockaddr_in6 a2 = v6("2001:db8:aa:bb:ffff:ffff:ffff:fffe", 2);
	struct sockaddr_in6 a3 = v6("2001:db8:aa:bb:1234::", 3);
	/* the neighbouring /64s, either side, and one differing in the first byte */
	struct sockaddr_in6 below = v6("2001:db8:aa:ba:ffff:ffff:ffff:ffff", 1);
	struct sockaddr_in6 above = v6("2001:db8:aa:bc::1", 1);
	struct sockaddr_in6 far = v6("3001:db8:aa:bb::1", 1);

	ck_assert(address_count_acquire(table, SA(a1), 3));
	ck_assert(address_count_acquire(table, SA(a2), 3));
	ck_assert_uint_eq(address_count_get(table, SA(a3)), 2);
	ck_assert(address_count_acquire(table, SA(a3), 3));
	ck_assert(!address_count_acquire(table, SA(a1), 3));
	ck_assert(!address_count_acquire(table, SA(a2), 3));
	ck_assert_uint_eq(address_count_get(table, SA(a1)), 3);
	ck_assert_uint_eq(address_count_get(table, SA(below)), 0);
	ck_assert_uint_eq(address_count_get(table, SA(above)), 0);
	ck_assert_uint_eq(address_count_get(table, SA(far)), 0);
	ck_assert(address_count_acquire(table, SA(below), 1));
	ck_assert(address_count_acquire(table, SA(above), 1));
	ck_assert(address_count_acquire(table, SA(far), 1));
	/* a release from any address of the /64 frees room for all of it */
	address_count_release(table, SA(a3));
	ck_assert_uint_eq(address_count_get(table, SA(a1)), 2);
	ck_assert(address_count_acquire(table, SA(a2), 3));
	address_count_release(table, SA(a1));
	address_count_release(table, SA(a1));
	address_count_release(table, SA(a2));
	ck_assert_uint_eq(address_count_get(table, SA(a3)), 0);
	ck_assert_uint_eq(address_count_get(table, SA(below)), 1);
	ck_assert_uint_eq(address_count_get(table, SA(above)), 1);
	ck_assert_uint_eq(address_count_get(table, SA(far)), 1);
	address_count_free(table);
}
END_TEST

/* IPv4-mapped addresses all start with the same 8 bytes, yet each is one
 * IPv4 source; IPv4-compatible ones (deprecated) are plain IPv6 in ::/64. */
START_TEST(test_v4_mapped_by_full_address)
{
	struct address_count *table = address_count_new();
	struct sockaddr_in6 mapped1 = v6("::ffff:203.0.113.9", 1);
	struct sockaddr_in6 mapped2 = v6("::ffff:203.0.113.10", 1);
	struct sockaddr_in plain2 = v4("203.0.113.10", 1);
	struct sockaddr_in6 compatible = v6("::203.0.113.9", 1);
	struct sockaddr_in6 loopback = v6("::1", 1);

	ck_assert(address_count_acquire(table, SA(mapped1), 1));
	ck_assert(address_count_acquire(table, SA(mapped2), 1));
	ck_assert(!address_count_acquire(table, SA(plain2), 1));
	ck_assert_uint_eq(address_count_get(table, SA(mapped1)), 1);
	ck_assert(address_count_acquire(table, SA(compatible), 2));
	ck_assert(address_count_acquire(table, SA(loopback), 2));
	ck_assert(!address_count_acquire(table, SA(compatible), 2));
	ck_assert_uint_eq(address_count_get(table, SA(mapped1)), 1);
	ck_assert_uint_eq(address_count_get(table, SA(mapped2)), 1);
	address_count_free(table);
}
END_TEST

START_TEST(test_null_safe)
{
	struct sockaddr_in address = v4("192.0.2.1", 1);

	address_count_free(NULL);
	ck_assert(!address_count_acquire(NULL, SA(address), 1));
	address_count_release(NULL, SA(address));
	ck_assert_uint_eq(address_count_get(NULL, SA(address)), 0);
}
END_TEST

#define MANY 10000

START_TEST(test_many_addresses_leave_table_empty)
{
	struct address_count *table = address_count_new();
	struct sockaddr_storage address;

	/* address i holds i % 3 + 1 connections, each from another port (and,
	 * for IPv6, another interface identifier of its /64) */
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < MANY; i++) {
			address = numbered(i, (uint16_t)(1000 + round));
			if (round <= i % 3)
				ck_assert(address_count_acquire(table, SA(address), i % 3 + 1));
		}
	}
	for (unsigned i = 0; i < MANY; i++) {
		address = numbered(i, 2000);
		ck_assert_uint_eq(address_count_get(table, SA(address)), i % 3 + 1);
		ck_assert(!address_count_acquire(table, SA(address), i % 3 + 1));
	}
	/* release from the far end, so removals and shrinking interleave */
	for (unsigned i = MANY; i-- > 0;) {
		address = numbered(i, 3000);
		for (unsigned n = 0; n < i % 3 + 1; n++)
			address_count_release(table, SA(address));
		ck_assert_uint_eq(address_count_get(table, SA(address)), 0);
		if (i > 0) {
			address = numbered(i - 1, 4000);
			ck_assert_uint_eq(address_count_get(table, SA(address)), (i - 1) % 3 + 1);
		}
	}
	for (unsigned i = 0; i < MANY; i++) {
		address = numbered(i, 5000);
		ck_assert_uint_eq(address_count_get(table, SA(address)), 0);
	}
	/* the emptied table works as new */
	address = numbered(5, 6000);
	ck_assert(address_count_acquire(table, SA(address), 1));
	ck_assert_uint_eq(address_count_get(table, SA(address)), 1);
	address_count_free(table);
}
END_TEST

/* A fixed xorshift sequence: random-looking, the same every run. */
static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

#define MODEL_ADDRESSES 3000
#define MODEL_STEPS	300000
#define MODEL_MAX	4

/* Random acquires and releases against an array of counts: exercises
 * growth, shrinking and the back-shift on removal across wrapped runs. */
START_TEST(test_matches_model)
{
	struct address_count *table = address_count_new();
	static unsigned model[MODEL_ADDRESSES];
	uint32_t state = 2463534242u;
	struct sockaddr_storage address;

	memset(model, 0, sizeof(model));
	for (unsigned step = 0; step < MODEL_STEPS; step++) {
		uint32_t random = next_random(&state);
		/* a narrow window that drifts, so the table fills and drains */
		unsigned window = 50 + (step / 1000) % 60 * 50;
		unsigned index = (random >> 8) % window;
		bool acquire = (random & 0xff) < ((step / 20000) % 2 == 0 ? 170 : 90);

		address = numbered(index, (uint16_t)random);
		if (acquire) {
			bool expected = model[index] < MODEL_MAX;
			ck_assert_int_eq(address_count_acquire(table, SA(address), MODEL_MAX),
					 expected);
			model[index] += expected;
		} else if (model[index] > 0) {
			address_count_release(table, SA(address));
			model[index]--;
		}
		ck_assert_uint_eq(address_count_get(table, SA(address)), model[index]);
	}
	for (unsigned i = 0; i < MODEL_ADDRESSES; i++) {
		address = numbered(i, 7000);
		ck_assert_uint_eq(address_count_get(table, SA(address)), model[i]);
		while (model[i]-- > 0)
			address_count_release(table, SA(address));
	}
	for (unsigned i = 0; i < MODEL_ADDRESSES; i++) {
		address = numbered(i, 8000);
		ck_assert_uint_eq(address_count_get(table, SA(address)), 0);
	}
	address_count_free(table);
}
END_TEST

static Suite *address_count_suite(void)
{
	Suite *suite = suite_create("address_count");
	TCase *tcase = tcase_create("address_count");

	tcase_add_test(tcase, test_acquire_up_to_max);
	tcase_add_test(tcase, test_max_zero_and_one);
	tcase_add_test(tcase, test_release_makes_room);
	tcase_add_test(tcase, test_addresses_independent);
	tcase_add_test(tcase, test_ports_ignored);
	tcase_add_test(tcase, test_v4_mapped_is_v4);
	tcase_add_test(tcase, test_v6_by_64_prefix);
	tcase_add_test(tcase, test_v4_mapped_by_full_address);
	tcase_add_test(tcase, test_null_safe);
	tcase_add_test(tcase, test_many_addresses_leave_table_empty);
	tcase_add_test(tcase, test_matches_model);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(address_count_suite());
}
