/* SPDX-License-Identifier: ISC */
/* test_turn_nonce: Check suite for src/turn/turn_nonce: the form of a
 * nonce (cookie, features, length, alphabet), a known answer from an
 * independent HMAC-SHA256 computation, round trips, the lifetime's edges,
 * the clock going back, every byte changed, and the binding to the
 * client's address (not its port). */
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "test_suite.h"
#include "turn_nonce.h"

#define LIFETIME 600

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* secret = 00 01 02 ... 1f, with BITS flipped in byte 0 */
static struct turn_nonce_key test_key_flipped(uint32_t lifetime, uint32_t features,
					      unsigned char bits)
{
	unsigned char secret[TURN_NONCE_SECRET_SIZE];
	struct turn_nonce_key key;
	size_t i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)i;
	secret[0] ^= bits;
	ck_assert_int_eq(turn_nonce_key_init(&key, secret, lifetime, features), 0);
	return key;
}

static struct turn_nonce_key test_key(void)
{
	return test_key_flipped(LIFETIME, 0, 0);
}

static struct sockaddr_storage client(const char *host, uint16_t port)
{
	struct sockaddr_storage address;
	ck_assert_int_ne(address_parse(host, port, &address), 0);
	return address;
}

static enum turn_nonce_status check(const struct turn_nonce_key *key, uint64_t now,
				    const struct sockaddr_storage *from, const char *nonce)
{
	return turn_nonce_check(key, now, from, nonce, strlen(nonce));
}

/* ---- form ---- */

START_TEST(test_known_answer)
{
	/* secret 000102..1f; features 000000, stamp 1000, 192.0.2.1 (the port
	 * is not signed):
	 * printf 000000''00000000000003e8''04''c0000201 | xxd -r -p |
	 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:0001..1f -binary | head -c 16
	 * is 516b4a5d8aadb19b37551606e973e469; the nonce is the cookie and
	 * the base64 of 000000 | stamp | those 16 bytes. */
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE];

	ck_assert_uint_eq(turn_nonce_make(&key, 1000, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_str_eq(nonce, "obMatJos2AAAAAAAAAAAAA+hRa0pdiq2xmzdVFgbpc+Rp");
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_form)
{
	struct turn_nonce_key key =
		test_key_flipped(LIFETIME, TURN_NONCE_FEATURE_PASSWORD_ALGORITHMS, 0);
	struct sockaddr_storage from = client("2001:db8::7", 3478);
	char nonce[TURN_NONCE_SIZE + 1];
	size_t i;

	memset(nonce, 'x', sizeof(nonce));
	ck_assert_uint_eq(turn_nonce_make(&key, 123456789, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_uint_eq(strlen(nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(nonce[TURN_NONCE_SIZE], 'x'); /* nothing past the NUL */
	/* RFC 8489 §9.2: the cookie, then the feature set in base64 */
	ck_assert(memcmp(nonce, "obMatJos2gAAA", 13) == 0);
	for (i = 9; i < TURN_NONCE_LENGTH; i++)
		ck_assert_msg(strchr(base64_alphabet, nonce[i]) != NULL, "bad character '%c'",
			      nonce[i]);
	ck_assert_int_eq(check(&key, 123456789, &from, nonce), TURN_NONCE_VALID);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_other_family_makes_none)
{
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage from;
	char nonce[TURN_NONCE_SIZE] = "untouched";

	memset(&from, 0, sizeof(from));
	from.ss_family = AF_UNIX;
	ck_assert_uint_eq(turn_nonce_make(&key, 1, &from, nonce), 0);
	ck_assert_str_eq(nonce, "");
	turn_nonce_key_clear(&key);
}
END_TEST

/* ---- lifetime ---- */

START_TEST(test_round_trip_and_lifetime)
{
	static const char *const hosts[] = { "192.0.2.1", "10.1.2.3", "::1", "2001:db8::7" };
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage from = client(hosts[_i], 50000);
	char nonce[TURN_NONCE_SIZE];
	const uint64_t made = 1000000;

	ck_assert_uint_eq(turn_nonce_make(&key, made, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, made, &from, nonce), TURN_NONCE_VALID);
	ck_assert_int_eq(check(&key, made + 1, &from, nonce), TURN_NONCE_VALID);
	ck_assert_int_eq(check(&key, made + LIFETIME - 1, &from, nonce), TURN_NONCE_VALID);
	ck_assert_int_eq(check(&key, made + LIFETIME, &from, nonce), TURN_NONCE_STALE);
	ck_assert_int_eq(check(&key, made + LIFETIME + 1, &from, nonce), TURN_NONCE_STALE);
	ck_assert_int_eq(check(&key, UINT64_MAX, &from, nonce), TURN_NONCE_STALE);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_clock_going_back)
{
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE];

	ck_assert_uint_eq(turn_nonce_make(&key, 5000, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, 4999, &from, nonce), TURN_NONCE_STALE);
	ck_assert_int_eq(check(&key, 0, &from, nonce), TURN_NONCE_STALE);
	/* a nonce from the far future (a stamp near the top): never valid */
	ck_assert_uint_eq(turn_nonce_make(&key, UINT64_MAX, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, UINT64_MAX, &from, nonce), TURN_NONCE_VALID);
	ck_assert_int_eq(check(&key, UINT64_MAX - 1, &from, nonce), TURN_NONCE_STALE);
	ck_assert_int_eq(check(&key, 5000, &from, nonce), TURN_NONCE_STALE);
	/* where now - stamp would wrap round to less than the lifetime */
	ck_assert_int_eq(check(&key, 0, &from, nonce), TURN_NONCE_STALE);
	ck_assert_int_eq(check(&key, LIFETIME - 2, &from, nonce), TURN_NONCE_STALE);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_lifetime_zero_refused)
{
	unsigned char secret[TURN_NONCE_SECRET_SIZE] = { 0 };
	struct turn_nonce_key key;

	ck_assert_int_eq(turn_nonce_key_init(&key, secret, 0, 0), -1);
	ck_assert_ptr_null(key.mac);
	turn_nonce_key_clear(&key); /* nothing to clear, and no harm */
	ck_assert_int_eq(turn_nonce_key_init(&key, secret, 1, 0), 0);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_lifetime_is_the_keys)
{
	struct turn_nonce_key key = test_key_flipped(30, 0, 0);
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE];

	ck_assert_uint_eq(turn_nonce_make(&key, 100, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, 129, &from, nonce), TURN_NONCE_VALID);
	ck_assert_int_eq(check(&key, 130, &from, nonce), TURN_NONCE_STALE);
	turn_nonce_key_clear(&key);
}
END_TEST

/* ---- forgeries ---- */

START_TEST(test_every_byte_changed)
{
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE], changed[TURN_NONCE_SIZE];
	size_t i, j;
	/* each replacement: the next character of the base64 alphabet, one
	 * outside it, a NUL */
	const char outside[] = { '-', '=', ' ', '\0', '\n', (char)0xff };

	ck_assert_uint_eq(turn_nonce_make(&key, 1000, &from, nonce), TURN_NONCE_LENGTH);
	for (i = 0; i < TURN_NONCE_LENGTH; i++) {
		memcpy(changed, nonce, sizeof(changed));
		changed[i] =
			base64_alphabet[(strchr(base64_alphabet, nonce[i]) - base64_alphabet + 1) %
					64];
		ck_assert_msg(turn_nonce_check(&key, 1000, &from, changed, TURN_NONCE_LENGTH) ==
				      TURN_NONCE_INVALID,
			      "byte %zu changed: %s", i, changed);
		/* a low-bit flip, the smallest change the decoding could lose */
		memcpy(changed, nonce, sizeof(changed));
		changed[i] ^= 1;
		ck_assert_msg(turn_nonce_check(&key, 1000, &from, changed, TURN_NONCE_LENGTH) ==
				      TURN_NONCE_INVALID,
			      "byte %zu flipped: %s", i, changed);
		for (j = 0; j < sizeof(outside); j++) {
			memcpy(changed, nonce, sizeof(changed));
			changed[i] = outside[j];
			ck_assert_int_eq(
				turn_nonce_check(&key, 1000, &from, changed, TURN_NONCE_LENGTH),
				TURN_NONCE_INVALID);
		}
	}
	ck_assert_int_eq(check(&key, 1000, &from, nonce), TURN_NONCE_VALID);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_padding_spelling)
{
	/* Base64 decoders read a final '=' as zero bits, so a nonce ending in
	 * 'A' (zero bits) has a second spelling ending in '=' that decodes to
	 * the same bytes: only one spelling may be valid. */
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE];
	uint64_t now;

	for (now = 1;; now++) {
		ck_assert_uint_eq(turn_nonce_make(&key, now, &from, nonce), TURN_NONCE_LENGTH);
		if (nonce[TURN_NONCE_LENGTH - 1] == 'A')
			break;
	}
	ck_assert_int_eq(check(&key, now, &from, nonce), TURN_NONCE_VALID);
	nonce[TURN_NONCE_LENGTH - 1] = '=';
	ck_assert_int_eq(check(&key, now, &from, nonce), TURN_NONCE_INVALID);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_lengths)
{
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE + 8];
	size_t length;

	ck_assert_uint_eq(turn_nonce_make(&key, 1000, &from, nonce), TURN_NONCE_LENGTH);
	for (length = 0; length < TURN_NONCE_LENGTH; length++)
		ck_assert_int_eq(turn_nonce_check(&key, 1000, &from, nonce, length),
				 TURN_NONCE_INVALID);
	memcpy(nonce + TURN_NONCE_LENGTH, "AAAA", 5);
	ck_assert_int_eq(turn_nonce_check(&key, 1000, &from, nonce, TURN_NONCE_LENGTH + 4),
			 TURN_NONCE_INVALID);
	ck_assert_int_eq(turn_nonce_check(&key, 1000, &from, NULL, 0), TURN_NONCE_INVALID);
	ck_assert_int_eq(turn_nonce_check(&key, 1000, &from, nonce, TURN_NONCE_LENGTH),
			 TURN_NONCE_VALID);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_other_secret)
{
	struct turn_nonce_key key = test_key(), other = test_key_flipped(LIFETIME, 0, 0x01);
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE];

	ck_assert_uint_eq(turn_nonce_make(&other, 1000, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, 1000, &from, nonce), TURN_NONCE_INVALID);
	/* long past its lifetime: still invalid, never stale, under another key */
	ck_assert_int_eq(check(&key, 1000 + 10 * LIFETIME, &from, nonce), TURN_NONCE_INVALID);
	ck_assert_int_eq(check(&other, 1000, &from, nonce), TURN_NONCE_VALID);
	turn_nonce_key_clear(&key);
	turn_nonce_key_clear(&other);
}
END_TEST

START_TEST(test_features_under_the_mac)
{
	struct turn_nonce_key plain = test_key(),
			      offering = test_key_flipped(
				      LIFETIME, TURN_NONCE_FEATURE_PASSWORD_ALGORITHMS, 0);
	struct sockaddr_storage from = client("192.0.2.1", 40000);
	char nonce[TURN_NONCE_SIZE];

	/* bid down: the bits cleared on the way ("gAAA" -> "AAAA") */
	ck_assert_uint_eq(turn_nonce_make(&offering, 1000, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert(memcmp(nonce + 9, "gAAA", 4) == 0);
	memcpy(nonce + 9, "AAAA", 4);
	ck_assert_int_eq(check(&offering, 1000, &from, nonce), TURN_NONCE_INVALID);
	ck_assert_int_eq(check(&plain, 1000, &from, nonce), TURN_NONCE_INVALID);
	/* a nonce of a server offering other features */
	ck_assert_uint_eq(turn_nonce_make(&plain, 1000, &from, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&offering, 1000, &from, nonce), TURN_NONCE_INVALID);
	turn_nonce_key_clear(&plain);
	turn_nonce_key_clear(&offering);
}
END_TEST

/* ---- bound to the client ---- */

static const struct {
	const char *made_for, *sent_from;
	uint16_t made_port, sent_port;
} other_clients[] = {
	{ "192.0.2.1", "192.0.2.2", 40000, 40000 }, /* another address */
	{ "192.0.2.1", "1.2.0.192", 40000, 40000 }, /* the address's bytes reversed */
	{ "192.0.2.1", "::ffff:192.0.2.1", 40000, 40000 }, /* the mapped spelling */
	{ "2001:db8::1", "2001:db8::2", 3478, 3478 },
	{ "::ffff:192.0.2.1", "192.0.2.1", 40000, 40000 },
};

START_TEST(test_bound_to_address)
{
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage made_for =
		client(other_clients[_i].made_for, other_clients[_i].made_port);
	struct sockaddr_storage sent_from =
		client(other_clients[_i].sent_from, other_clients[_i].sent_port);
	char nonce[TURN_NONCE_SIZE];

	ck_assert_uint_eq(turn_nonce_make(&key, 1000, &made_for, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, 1000, &made_for, nonce), TURN_NONCE_VALID);
	ck_assert_int_eq(check(&key, 1000, &sent_from, nonce), TURN_NONCE_INVALID);
	/* and never stale for another client, however old */
	ck_assert_int_eq(check(&key, 1000 + LIFETIME, &sent_from, nonce), TURN_NONCE_INVALID);
	turn_nonce_key_clear(&key);
}
END_TEST

/* An RFC 6062 ConnectionBind comes from a new port with the control
 * connection's nonce, and a NAT may move a client's port. */
START_TEST(test_good_from_another_port)
{
	struct turn_nonce_key key = test_key();
	struct sockaddr_storage made_for = client("192.0.2.1", 40000);
	struct sockaddr_storage other_port = client("192.0.2.1", 40001);
	struct sockaddr_storage v6 = client("2001:db8::1", 3478),
				v6_port = client("2001:db8::1", 3479);
	char nonce[TURN_NONCE_SIZE], nonce6[TURN_NONCE_SIZE];

	ck_assert_uint_eq(turn_nonce_make(&key, 1000, &made_for, nonce), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, 1000, &other_port, nonce), TURN_NONCE_VALID);
	ck_assert_uint_eq(turn_nonce_make(&key, 1000, &v6, nonce6), TURN_NONCE_LENGTH);
	ck_assert_int_eq(check(&key, 1000, &v6_port, nonce6), TURN_NONCE_VALID);
	turn_nonce_key_clear(&key);
}
END_TEST

START_TEST(test_status_names)
{
	ck_assert_str_eq(turn_nonce_status_name(TURN_NONCE_VALID), "valid");
	ck_assert_str_eq(turn_nonce_status_name(TURN_NONCE_STALE), "stale");
	ck_assert_str_eq(turn_nonce_status_name(TURN_NONCE_INVALID), "invalid");
	ck_assert_str_eq(turn_nonce_status_name((enum turn_nonce_status)99), "unknown");
}
END_TEST

static Suite *turn_nonce_suite(void)
{
	Suite *suite = suite_create("turn_nonce");
	TCase *form = tcase_create("form");
	TCase *lifetime = tcase_create("lifetime");
	TCase *forgeries = tcase_create("forgeries");

	tcase_add_test(form, test_known_answer);
	tcase_add_test(form, test_form);
	tcase_add_test(form, test_other_family_makes_none);
	tcase_add_test(form, test_status_names);
	suite_add_tcase(suite, form);
	tcase_add_loop_test(lifetime, test_round_trip_and_lifetime, 0, 4);
	tcase_add_test(lifetime, test_clock_going_back);
	tcase_add_test(lifetime, test_lifetime_is_the_keys);
	tcase_add_test(lifetime, test_lifetime_zero_refused);
	suite_add_tcase(suite, lifetime);
	tcase_add_test(forgeries, test_every_byte_changed);
	tcase_add_test(forgeries, test_padding_spelling);
	tcase_add_test(forgeries, test_lengths);
	tcase_add_test(forgeries, test_other_secret);
	tcase_add_test(forgeries, test_features_under_the_mac);
	tcase_add_test(forgeries, test_good_from_another_port);
	tcase_add_loop_test(forgeries, test_bound_to_address, 0,
			    sizeof(other_clients) / sizeof(other_clients[0]));
	suite_add_tcase(suite, forgeries);
	return suite;
}

int main(void)
{
	return test_suite_run(turn_nonce_suite());
}
