/* SPDX-License-Identifier: ISC */
/* test_dialback_key: Check suite for src/xmpp/dialback_key: the worked
 * example of XEP-0185 §3, and every way a key can fail to match. */
#include <check.h>
#include <ctype.h>
#include <string.h>

#include "dialback_key.h"
#include "test_suite.h"

/* XEP-0185 §3, version 1.0: secret, receiving server, originating server,
 * stream id, and the key the XEP gives for them.  The same value comes out
 * of the openssl command line:
 *   printf %s 'xmpp.example.com example.org D60000229F' | openssl dgst -sha256 -mac HMAC \
 *     -macopt key:$(printf %s s3cr3tf0rd14lb4ck | openssl dgst -sha256 -r | cut -d' ' -f1) */
#define SECRET	    "s3cr3tf0rd14lb4ck"
#define RECEIVING   "xmpp.example.com"
#define ORIGINATING "example.org"
#define STREAM_ID   "D60000229F"
#define EXPECTED    "37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643"

START_TEST(test_xep_0185_example)
{
	char key[XMPP_DIALBACK_KEY_SIZE];

	xmpp_dialback_key(SECRET, RECEIVING, ORIGINATING, STREAM_ID, key);
	ck_assert_str_eq(key, EXPECTED);
	ck_assert(xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, EXPECTED));
}
END_TEST

/* Each of the four inputs is part of the key. */
START_TEST(test_every_input_counts)
{
	ck_assert(!xmpp_dialback_key_matches("s3cr3tf0rd14lb4cK", RECEIVING, ORIGINATING, STREAM_ID,
					     EXPECTED));
	ck_assert(!xmpp_dialback_key_matches(SECRET, "xmpp.example.net", ORIGINATING, STREAM_ID,
					     EXPECTED));
	ck_assert(
		!xmpp_dialback_key_matches(SECRET, RECEIVING, "example.com", STREAM_ID, EXPECTED));
	ck_assert(
		!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, "D60000229E", EXPECTED));
	/* The two domains swapped: the direction is part of the key. */
	ck_assert(!xmpp_dialback_key_matches(SECRET, ORIGINATING, RECEIVING, STREAM_ID, EXPECTED));
}
END_TEST

/* The spaces keep the fields apart: moving text across them changes the key. */
START_TEST(test_separators_count)
{
	char key[XMPP_DIALBACK_KEY_SIZE], shifted[XMPP_DIALBACK_KEY_SIZE];

	xmpp_dialback_key(SECRET, "a.example", "b.example", "id", key);
	xmpp_dialback_key(SECRET, "a.example b.example", "", "id", shifted);
	ck_assert_str_ne(key, shifted);
}
END_TEST

START_TEST(test_truncated_and_padded)
{
	char key[XMPP_DIALBACK_KEY_SIZE + 1];

	ck_assert(!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, ""));
	ck_assert(!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, NULL));
	memcpy(key, EXPECTED, 63);
	key[63] = '\0';
	ck_assert(!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, key));
	memcpy(key, EXPECTED, 64);
	key[64] = '0';
	key[65] = '\0';
	ck_assert(!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, key));
}
END_TEST

/* A changed last digit, and a changed first one. */
START_TEST(test_one_digit_off)
{
	char key[XMPP_DIALBACK_KEY_SIZE];

	memcpy(key, EXPECTED, sizeof(key));
	key[63] = '4';
	ck_assert(!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, key));
	memcpy(key, EXPECTED, sizeof(key));
	key[0] = '4';
	ck_assert(!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, key));
}
END_TEST

/* Keys are made in lower case and come back as they were sent: the upper-case
 * spelling of a valid key is not accepted (dialback_key.h). */
START_TEST(test_upper_case_refused)
{
	char key[XMPP_DIALBACK_KEY_SIZE];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (char)toupper((unsigned char)EXPECTED[i]);
	ck_assert_str_ne(key, EXPECTED);
	ck_assert(!xmpp_dialback_key_matches(SECRET, RECEIVING, ORIGINATING, STREAM_ID, key));
}
END_TEST

static Suite *dialback_key_suite(void)
{
	Suite *suite = suite_create("dialback_key");
	TCase *tcase = tcase_create("keys");

	tcase_add_test(tcase, test_xep_0185_example);
	tcase_add_test(tcase, test_every_input_counts);
	tcase_add_test(tcase, test_separators_count);
	tcase_add_test(tcase, test_truncated_and_padded);
	tcase_add_test(tcase, test_one_digit_off);
	tcase_add_test(tcase, test_upper_case_refused);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(dialback_key_suite());
}
