/* SPDX-License-Identifier: ISC */
/* Unit tests for stun_integrity: the MESSAGE-INTEGRITY of every RFC 5769
 * vector with its short-term password or long-term key, RFC 8489 B.1's
 * MESSAGE-INTEGRITY-SHA256 with its SHA-256 key, a wrong key, any
 * byte changed, attributes after the integrity attribute (not covered, as
 * RFC 8489 §14.5 says), and MESSAGE-INTEGRITY-SHA256 whole and truncated. */
#include <check.h>
#include <string.h>

#include "stun_integrity.h"
#include "test_stun.h"
#include "test_suite.h"

static struct stun_hmac hmac;

static void setup(void)
{
	ck_assert_int_eq(stun_hmac_init(&hmac), 0);
}

static void teardown(void)
{
	stun_hmac_clear(&hmac);
}

static const uint8_t *password = (const uint8_t *)RFC5769_PASSWORD;
static const size_t password_length = sizeof(RFC5769_PASSWORD) - 1;

static enum stun_integrity_result check_bytes(const uint8_t *bytes, size_t length,
					      enum stun_integrity_kind kind, const uint8_t *key,
					      size_t key_length)
{
	struct stun_message message;
	ck_assert_int_eq(stun_message_parse(bytes, length, &message), STUN_PARSE_OK);
	return stun_integrity_check(&hmac, &message, kind, key, key_length);
}

/* The RFC 5769 vectors */

START_TEST(test_short_term_vectors)
{
	ck_assert_int_eq(check_bytes(rfc5769_request, sizeof(rfc5769_request), STUN_INTEGRITY_SHA1,
				     password, password_length),
			 STUN_INTEGRITY_VALID);
	ck_assert_int_eq(check_bytes(rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4),
				     STUN_INTEGRITY_SHA1, password, password_length),
			 STUN_INTEGRITY_VALID);
	ck_assert_int_eq(check_bytes(rfc5769_response_ipv6, sizeof(rfc5769_response_ipv6),
				     STUN_INTEGRITY_SHA1, password, password_length),
			 STUN_INTEGRITY_VALID);
	/* One character less of the password. */
	ck_assert_int_eq(check_bytes(rfc5769_request, sizeof(rfc5769_request), STUN_INTEGRITY_SHA1,
				     password, password_length - 1),
			 STUN_INTEGRITY_INVALID);
	/* No MESSAGE-INTEGRITY-SHA256 to check. */
	ck_assert_int_eq(check_bytes(rfc5769_request, sizeof(rfc5769_request),
				     STUN_INTEGRITY_SHA256, password, password_length),
			 STUN_INTEGRITY_ABSENT);
}
END_TEST

START_TEST(test_long_term_vector)
{
	uint8_t key[16];

	rfc5769_long_term_key(key);
	ck_assert_int_eq(check_bytes(rfc5769_long_term_request, sizeof(rfc5769_long_term_request),
				     STUN_INTEGRITY_SHA1, key, sizeof(key)),
			 STUN_INTEGRITY_VALID);
	key[15] ^= 1;
	ck_assert_int_eq(check_bytes(rfc5769_long_term_request, sizeof(rfc5769_long_term_request),
				     STUN_INTEGRITY_SHA1, key, sizeof(key)),
			 STUN_INTEGRITY_INVALID);
	/* The password itself is not the long-term key. */
	ck_assert_int_eq(check_bytes(rfc5769_long_term_request, sizeof(rfc5769_long_term_request),
				     STUN_INTEGRITY_SHA1,
				     (const uint8_t *)RFC5769_LONG_TERM_PASSWORD,
				     strlen(RFC5769_LONG_TERM_PASSWORD)),
			 STUN_INTEGRITY_INVALID);
}
END_TEST

START_TEST(test_sha256_vector)
{
	uint8_t key[32];
	uint8_t md5_key[16];
	struct stun_message message;

	rfc8489_sha256_key(key);
	rfc5769_long_term_key(md5_key);
	ck_assert_int_eq(stun_message_parse(rfc8489_sha256_request, sizeof(rfc8489_sha256_request),
					    &message),
			 STUN_PARSE_OK);
	ck_assert_int_eq(stun_integrity_strongest(&message), STUN_INTEGRITY_SHA256);
	ck_assert_int_eq(
		stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA256, key, sizeof(key)),
		STUN_INTEGRITY_VALID);
	/* The key of the other password algorithm does not check. */
	ck_assert_int_eq(stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA256, md5_key,
					      sizeof(md5_key)),
			 STUN_INTEGRITY_INVALID);
	ck_assert_int_eq(
		stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA1, key, sizeof(key)),
		STUN_INTEGRITY_ABSENT);
}
END_TEST

/* The long-term vector has no FINGERPRINT: any byte changed is read, or
 * refused, but never passes the integrity check. */
START_TEST(test_any_byte_changed)
{
	uint8_t key[16];
	uint8_t bytes[sizeof(rfc5769_long_term_request)];
	struct stun_message message;

	rfc5769_long_term_key(key);
	for (size_t i = 0; i < sizeof(bytes); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(bytes, rfc5769_long_term_request, sizeof(bytes));
			bytes[i] ^= (uint8_t)(1 << bit);
			if (stun_message_parse(bytes, sizeof(bytes), &message) != STUN_PARSE_OK)
				continue;
			ck_assert_int_ne(stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA1,
							      key, sizeof(key)),
					 STUN_INTEGRITY_VALID);
		}
	}
}
END_TEST

/* RFC 8489 §14.5: what follows MESSAGE-INTEGRITY is not covered, and the
 * length in the header is read as ending with it. */
START_TEST(test_attributes_after_integrity)
{
	uint8_t key[16];
	uint8_t bytes[sizeof(rfc5769_long_term_request) + 8];
	struct stun_message message;

	rfc5769_long_term_key(key);
	memcpy(bytes, rfc5769_long_term_request, sizeof(rfc5769_long_term_request));
	memcpy(bytes + sizeof(rfc5769_long_term_request),
	       "\x80\x22\x00\x04"
	       "evil",
	       8);
	stun_write16(bytes + 2, (uint16_t)(sizeof(bytes) - STUN_HEADER_SIZE));
	ck_assert_int_eq(stun_message_parse(bytes, sizeof(bytes), &message), STUN_PARSE_OK);
	ck_assert_ptr_null(stun_message_find(&message, STUN_ATTRIBUTE_SOFTWARE));
	ck_assert_int_eq(
		stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA1, key, sizeof(key)),
		STUN_INTEGRITY_VALID);
}
END_TEST

/* MESSAGE-INTEGRITY-SHA256 */

/* A message with USERNAME, then MESSAGE-INTEGRITY-SHA256 of LENGTH bytes
 * (the HMAC truncated) computed by hand. */
static void sha256_message(struct raw_message *raw, uint16_t length)
{
	uint8_t mac[STUN_INTEGRITY_SHA256_SIZE];

	raw_start(raw, 0x0003);
	raw_attribute(raw, STUN_ATTRIBUTE_USERNAME, 5, "alice");
	size_t prefix = raw->length;
	raw_attribute(raw, STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256, length, NULL);
	raw_finish(raw);
	ck_assert(stun_integrity_compute(&hmac, STUN_INTEGRITY_SHA256, password, password_length,
					 raw->bytes, prefix,
					 (uint16_t)(raw->length - STUN_HEADER_SIZE), mac));
	memcpy(raw->bytes + prefix + 4, mac, length);
}

START_TEST(test_sha256_whole_and_truncated)
{
	struct raw_message raw;
	static const uint16_t lengths[] = { 16, 20, 24, 28, 32 };

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		sha256_message(&raw, lengths[i]);
		ck_assert_int_eq(check_bytes(raw.bytes, raw.length, STUN_INTEGRITY_SHA256, password,
					     password_length),
				 STUN_INTEGRITY_VALID);
		ck_assert_int_eq(check_bytes(raw.bytes, raw.length, STUN_INTEGRITY_SHA1, password,
					     password_length),
				 STUN_INTEGRITY_ABSENT);
		raw.bytes[raw.length - 1] ^= 0x80;
		ck_assert_int_eq(check_bytes(raw.bytes, raw.length, STUN_INTEGRITY_SHA256, password,
					     password_length),
				 STUN_INTEGRITY_INVALID);
	}
}
END_TEST

/* HMAC-SHA256 and HMAC-SHA1 really are those (RFC 4231 and RFC 2202
 * test case 2: key "Jefe"), with the length field substituted. */
START_TEST(test_known_hmacs)
{
	/* "what do ya want for nothing?" is 28 bytes: the length field
	 * replaces its bytes 2 and 3 ("at"), so give those. */
	static const uint8_t data[] = "what do ya want for nothing?";
	static const uint8_t sha256[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
		0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
		0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	static const uint8_t sha1[20] = {
		0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
		0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
	};
	uint8_t mac[32];
	uint16_t length_field = (uint16_t)('a' << 8 | 't');

	ck_assert(stun_integrity_compute(&hmac, STUN_INTEGRITY_SHA256, (const uint8_t *)"Jefe", 4,
					 data, 28, length_field, mac));
	ck_assert_mem_eq(mac, sha256, 32);
	ck_assert(stun_integrity_compute(&hmac, STUN_INTEGRITY_SHA1, (const uint8_t *)"Jefe", 4,
					 data, 28, length_field, mac));
	ck_assert_mem_eq(mac, sha1, 20);
	/* Another length field is another MAC. */
	ck_assert(stun_integrity_compute(&hmac, STUN_INTEGRITY_SHA1, (const uint8_t *)"Jefe", 4,
					 data, 28, 0, mac));
	ck_assert_int_ne(memcmp(mac, sha1, 20), 0);
	ck_assert(!stun_integrity_compute(&hmac, STUN_INTEGRITY_NONE, (const uint8_t *)"Jefe", 4,
					  data, 28, 0, mac));
	ck_assert(!stun_integrity_compute(&hmac, STUN_INTEGRITY_SHA1, (const uint8_t *)"Jefe", 4,
					  data, 19, 0, mac));
}
END_TEST

START_TEST(test_strongest)
{
	struct stun_message message;
	struct raw_message raw;

	ck_assert_int_eq(stun_message_parse(rfc5769_request, sizeof(rfc5769_request), &message),
			 STUN_PARSE_OK);
	ck_assert_int_eq(stun_integrity_strongest(&message), STUN_INTEGRITY_SHA1);
	sha256_message(&raw, 32);
	ck_assert_int_eq(stun_message_parse(raw.bytes, raw.length, &message), STUN_PARSE_OK);
	ck_assert_int_eq(stun_integrity_strongest(&message), STUN_INTEGRITY_SHA256);
	raw_start(&raw, 0x0001);
	raw_finish(&raw);
	ck_assert_int_eq(stun_message_parse(raw.bytes, raw.length, &message), STUN_PARSE_OK);
	ck_assert_int_eq(stun_integrity_strongest(&message), STUN_INTEGRITY_NONE);
	ck_assert_int_eq(stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA1, password,
					      password_length),
			 STUN_INTEGRITY_ABSENT);
}
END_TEST

START_TEST(test_clear_twice)
{
	struct stun_hmac other;
	ck_assert_int_eq(stun_hmac_init(&other), 0);
	stun_hmac_clear(&other);
	ck_assert_ptr_null(other.sha1);
	stun_hmac_clear(&other);
}
END_TEST

static Suite *stun_integrity_suite(void)
{
	Suite *suite = suite_create("stun_integrity");
	TCase *vectors = tcase_create("vectors");
	tcase_add_checked_fixture(vectors, setup, teardown);
	tcase_add_test(vectors, test_short_term_vectors);
	tcase_add_test(vectors, test_long_term_vector);
	tcase_add_test(vectors, test_sha256_vector);
	tcase_add_test(vectors, test_any_byte_changed);
	tcase_add_test(vectors, test_attributes_after_integrity);
	suite_add_tcase(suite, vectors);
	TCase *sha256 = tcase_create("sha256");
	tcase_add_checked_fixture(sha256, setup, teardown);
	tcase_add_test(sha256, test_sha256_whole_and_truncated);
	tcase_add_test(sha256, test_known_hmacs);
	tcase_add_test(sha256, test_strongest);
	tcase_add_test(sha256, test_clear_twice);
	suite_add_tcase(suite, sha256);
	return suite;
}

int main(void)
{
	return test_suite_run(stun_integrity_suite());
}
