/* SPDX-License-Identifier: ISC */
/* test_flow_token: Check suite for src/sip/flow_token: known answers (from
 * an independent HMAC-SHA256 + base64url computation), round trips, and
 * every way a token can be forged or stale. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow_token.h"
#include "test_suite.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* secret = 00 01 02 ... 1f, with BITS flipped in byte BYTE */
static struct flow_key test_key_flipped(uint16_t node_id, uint32_t boot_id, size_t byte,
					unsigned char bits)
{
	unsigned char secret[FLOW_SECRET_SIZE];
	struct flow_key key;
	size_t i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)i;
	secret[byte] ^= bits;
	ck_assert_int_eq(flow_key_init(&key, secret, node_id, boot_id), 0);
	return key;
}

static struct flow_key test_key(uint16_t node_id, uint32_t boot_id)
{
	return test_key_flipped(node_id, boot_id, 0, 0);
}

static const uint64_t conn_ids[] = { 0, 1, 42, 0x0123456789abcdefULL, UINT64_MAX };
#define N_CONN_IDS (sizeof(conn_ids) / sizeof(conn_ids[0]))

START_TEST(test_known_answers)
{
	struct flow_key key = test_key(1, 0x01020304);
	char token[FLOW_TOKEN_LEN + 1];

	flow_token_seal(&key, 0x0123456789abcdefULL, token);
	ck_assert_str_eq(token, "AAEBAgMEASNFZ4mrze8Qb0AH9KKHSCzgHIM");
	flow_key_clear(&key);
	key = test_key(65535, 0xffffffff);
	flow_token_seal(&key, 0, token);
	ck_assert_str_eq(token, "________AAAAAAAAAAD9_Cvz1gyadVwEH8o");
	flow_key_clear(&key);
}
END_TEST

START_TEST(test_round_trip)
{
	struct flow_key key = test_key(7, 0xdeadbeef);
	char token[FLOW_TOKEN_LEN + 1];
	uint64_t conn_id = 12345;

	flow_token_seal(&key, conn_ids[_i], token);
	ck_assert_int_eq(flow_token_open(&key, token, strlen(token), &conn_id), FLOW_OPEN_OK);
	ck_assert_uint_eq(conn_id, conn_ids[_i]);
	flow_key_clear(&key);
}
END_TEST

START_TEST(test_length_and_alphabet)
{
	struct flow_key key = test_key(3, 99);
	char token[FLOW_TOKEN_LEN + 2];
	size_t i;

	memset(token, 'x', sizeof(token));
	flow_token_seal(&key, conn_ids[_i], token);
	ck_assert_uint_eq(strlen(token), FLOW_TOKEN_LEN);
	ck_assert_uint_eq(FLOW_TOKEN_LEN, 35);
	for (i = 0; i < FLOW_TOKEN_LEN; i++)
		ck_assert_msg(strchr(alphabet, token[i]) != NULL, "bad character '%c'", token[i]);
	ck_assert_int_eq(token[FLOW_TOKEN_LEN + 1], 'x'); /* nothing written past the NUL */
	flow_key_clear(&key);
}
END_TEST

START_TEST(test_different_conns_differ)
{
	struct flow_key key = test_key(1, 1);
	char tokens[N_CONN_IDS][FLOW_TOKEN_LEN + 1];
	size_t i, j;

	for (i = 0; i < N_CONN_IDS; i++)
		flow_token_seal(&key, conn_ids[i], tokens[i]);
	for (i = 0; i < N_CONN_IDS; i++) {
		for (j = i + 1; j < N_CONN_IDS; j++)
			ck_assert_str_ne(tokens[i], tokens[j]);
	}
	flow_key_clear(&key);
}
END_TEST

/* Every single-character change, to any other character of the alphabet,
 * must be refused, including changes of the last character's unused bits. */
START_TEST(test_flipped_character)
{
	struct flow_key key = test_key(1, 0x01020304);
	char token[FLOW_TOKEN_LEN + 1];
	const char *c;
	uint64_t conn_id = 777;
	int position = _i;

	flow_token_seal(&key, 0x0123456789abcdefULL, token);
	for (c = alphabet; *c != '\0'; c++) {
		char forged[FLOW_TOKEN_LEN + 1];
		if (*c == token[position])
			continue;
		memcpy(forged, token, sizeof(forged));
		forged[position] = *c;
		ck_assert_msg(flow_token_open(&key, forged, FLOW_TOKEN_LEN, &conn_id) ==
				      FLOW_OPEN_FORGED,
			      "%s accepted", forged);
	}
	ck_assert_uint_eq(conn_id, 777);
	flow_key_clear(&key);
}
END_TEST

START_TEST(test_truncated_and_extended)
{
	struct flow_key key = test_key(1, 2);
	char token[FLOW_TOKEN_LEN + 2];
	uint64_t conn_id = 0;

	flow_token_seal(&key, 5, token);
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN - 1, &conn_id),
			 FLOW_OPEN_FORGED);
	ck_assert_int_eq(flow_token_open(&key, token, 0, &conn_id), FLOW_OPEN_FORGED);
	ck_assert_int_eq(flow_token_open(&key, NULL, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_FORGED);
	token[FLOW_TOKEN_LEN] = 'A';
	token[FLOW_TOKEN_LEN + 1] = '\0';
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN + 1, &conn_id),
			 FLOW_OPEN_FORGED);
	/* The first FLOW_TOKEN_LEN characters alone are still the token. */
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_OK);
	ck_assert_uint_eq(conn_id, 5);
	flow_key_clear(&key);
}
END_TEST

START_TEST(test_outside_alphabet)
{
	static const char outsiders[] = "+/= .~\x80\xff";
	struct flow_key key = test_key(1, 2);
	char token[FLOW_TOKEN_LEN + 1];
	uint64_t conn_id = 0;
	size_t i;

	flow_token_seal(&key, 5, token);
	for (i = 0; i < sizeof(outsiders); i++) { /* the terminating NUL too */
		char forged[FLOW_TOKEN_LEN + 1];
		memcpy(forged, token, sizeof(forged));
		forged[10] = outsiders[i];
		ck_assert_int_eq(flow_token_open(&key, forged, FLOW_TOKEN_LEN, &conn_id),
				 FLOW_OPEN_FORGED);
	}
	/* The same bytes in the standard alphabet ('+' for '-', '/' for '_'). */
	flow_key_clear(&key);
	key = test_key(65535, 0xffffffff);
	flow_token_seal(&key, 0, token);
	ck_assert_int_eq(token[0], '_');
	token[0] = '/';
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_FORGED);
	flow_key_clear(&key);
}
END_TEST

START_TEST(test_wrong_secret)
{
	struct flow_key key = test_key(1, 2);
	struct flow_key other = test_key_flipped(1, 2, 31, 0x01);
	char token[FLOW_TOKEN_LEN + 1];
	uint64_t conn_id = 0;

	flow_token_seal(&other, 5, token);
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_FORGED);
	/* Also when it claims an earlier boot: a bad MAC is never "stale". */
	other.boot_id = 1;
	flow_token_seal(&other, 5, token);
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_FORGED);
	flow_key_clear(&key);
	flow_key_clear(&other);
}
END_TEST

/* Another node of a pool that shares our secret made it: no connection of
 * ours, but no forgery either.  Stale, so the pool gets 430 and tries the
 * user's other flow (RFC 5626 §5.3) rather than 403. */
START_TEST(test_other_node_same_secret_is_stale)
{
	struct flow_key key = test_key(1, 2);
	struct flow_key node2 = test_key(2, 2); /* same secret, as in a shared edge pool */
	char token[FLOW_TOKEN_LEN + 1];
	uint64_t conn_id = 99;

	flow_token_seal(&node2, 5, token);
	ck_assert_int_eq(flow_token_open(&node2, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_OK);
	ck_assert_uint_eq(conn_id, 5);
	conn_id = 99;
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_STALE);
	node2.boot_id = 3;
	flow_token_seal(&node2, 5, token);
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_STALE);
	ck_assert_uint_eq(conn_id, 99); /* never set unless OK */
	flow_key_clear(&key);
	flow_key_clear(&node2);
}
END_TEST

/* Another node id under another secret: the MAC fails first. */
START_TEST(test_other_node_wrong_secret_is_forged)
{
	struct flow_key key = test_key(1, 2);
	struct flow_key stranger = test_key_flipped(2, 2, 0, 0x80);
	char token[FLOW_TOKEN_LEN + 1];
	uint64_t conn_id = 99;

	flow_token_seal(&stranger, 5, token);
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_FORGED);
	stranger.boot_id = 3;
	flow_token_seal(&stranger, 5, token);
	ck_assert_int_eq(flow_token_open(&key, token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_FORGED);
	ck_assert_uint_eq(conn_id, 99);
	flow_key_clear(&key);
	flow_key_clear(&stranger);
}
END_TEST

START_TEST(test_stale)
{
	struct flow_key earlier = test_key(1, 0x11111111);
	struct flow_key now = test_key(1, 0x11111112);
	char old_token[FLOW_TOKEN_LEN + 1], new_token[FLOW_TOKEN_LEN + 1];
	uint64_t conn_id = 99;

	flow_token_seal(&earlier, 5, old_token);
	flow_token_seal(&now, 5, new_token);
	ck_assert_str_ne(old_token, new_token);
	ck_assert_int_eq(flow_token_open(&now, old_token, FLOW_TOKEN_LEN, &conn_id),
			 FLOW_OPEN_STALE);
	ck_assert_uint_eq(conn_id, 99);
	ck_assert_int_eq(flow_token_open(&now, new_token, FLOW_TOKEN_LEN, &conn_id), FLOW_OPEN_OK);
	ck_assert_uint_eq(conn_id, 5);
	flow_key_clear(&earlier);
	flow_key_clear(&now);
}
END_TEST

static Suite *flow_token_suite(void)
{
	Suite *suite = suite_create("flow_token");
	TCase *seal = tcase_create("seal");
	TCase *open = tcase_create("open");

	tcase_add_test(seal, test_known_answers);
	tcase_add_loop_test(seal, test_round_trip, 0, (int)N_CONN_IDS);
	tcase_add_loop_test(seal, test_length_and_alphabet, 0, (int)N_CONN_IDS);
	tcase_add_test(seal, test_different_conns_differ);
	suite_add_tcase(suite, seal);

	tcase_add_loop_test(open, test_flipped_character, 0, FLOW_TOKEN_LEN);
	tcase_add_test(open, test_truncated_and_extended);
	tcase_add_test(open, test_outside_alphabet);
	tcase_add_test(open, test_wrong_secret);
	tcase_add_test(open, test_other_node_same_secret_is_stale);
	tcase_add_test(open, test_other_node_wrong_secret_is_forged);
	tcase_add_test(open, test_stale);
	suite_add_tcase(suite, open);
	return suite;
}

int main(void)
{
	return test_suite_run(flow_token_suite());
}
