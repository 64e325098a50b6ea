/* SPDX-License-Identifier: ISC */
/* test_turn_credentials: Check suite for src/turn/turn_credentials:
 * passwords and long-term keys against values computed independently with
 * openssl(1) (as coturn's instructions do: `printf %s "$U" | openssl dgst
 * -sha1 -hmac SECRET -binary | base64`), the expiry boundary, and every
 * malformed username refused with its reason. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test_suite.h"
#include "turn_credentials.h"

static const char secret[] = "north-wind-secret";

static enum turn_username_status parse(const char *username, uint64_t now)
{
	return turn_username_parse(username, strlen(username), now, NULL);
}

static void hex(const unsigned char *bytes, size_t length, char *out)
{
	size_t i;
	for (i = 0; i < length; i++)
		sprintf(out + 2 * i, "%02x", bytes[i]);
}

/* ---- passwords ---- */

static const struct {
	const char *secret;
	const char *username;
	const char *password;
} passwords[] = {
	{ "north-wind-secret", "1700000000:alice", "r/l6ttQtMIfbS2lfULS0mDRRNUg=" },
	{ "north-wind-secret", "4102444800:bob@example.test", "Ec46PixOplD/YRaLy0pZnaBEJbg=" },
	{ "north-wind-secret", "0:x", "8r3VoQ1HJgjvsauvBP1koBVFsRs=" },
	{ "", "1700000000:alice", "rqBBD+hnu5lsggfwzdJtEMIA/sc=" },
};

START_TEST(test_password_known_answers)
{
	char password[TURN_PASSWORD_SIZE];

	memset(password, 'x', sizeof(password));
	ck_assert(turn_password(passwords[_i].secret, strlen(passwords[_i].secret),
				passwords[_i].username, strlen(passwords[_i].username), password));
	ck_assert_str_eq(password, passwords[_i].password);
	ck_assert_uint_eq(strlen(password), TURN_PASSWORD_LENGTH);
}
END_TEST

START_TEST(test_password_depends_on_every_byte)
{
	char base[TURN_PASSWORD_SIZE], other[TURN_PASSWORD_SIZE];
	char username[] = "1700000000:alice";
	char key[] = "north-wind-secret";

	ck_assert(turn_password(key, strlen(key), username, strlen(username), base));
	username[strlen(username) - 1] = 'f';
	ck_assert(turn_password(key, strlen(key), username, strlen(username), other));
	ck_assert_str_ne(base, other);
	username[strlen(username) - 1] = 'e';
	key[0] = 'N';
	ck_assert(turn_password(key, strlen(key), username, strlen(username), other));
	ck_assert_str_ne(base, other);
}
END_TEST

/* ---- long-term keys ---- */

START_TEST(test_long_term_keys)
{
	/* printf %s "1700000000:alice:example.test:r/l6...Ug=" | openssl dgst -md5 / -sha256 */
	const char *username = "1700000000:alice", *realm = "example.test",
		   *password = "r/l6ttQtMIfbS2lfULS0mDRRNUg=";
	unsigned char key[TURN_KEY_MAX_SIZE];
	char text[2 * TURN_KEY_MAX_SIZE + 1];

	ck_assert_uint_eq(turn_long_term_key(TURN_PASSWORD_ALGORITHM_MD5, username,
					     strlen(username), realm, strlen(realm), password,
					     strlen(password), key),
			  TURN_KEY_MD5_SIZE);
	hex(key, TURN_KEY_MD5_SIZE, text);
	ck_assert_str_eq(text, "7b224a291cbea1eab4ebcca14ff583ae");
	ck_assert_uint_eq(turn_long_term_key(TURN_PASSWORD_ALGORITHM_SHA256, username,
					     strlen(username), realm, strlen(realm), password,
					     strlen(password), key),
			  TURN_KEY_SHA256_SIZE);
	hex(key, TURN_KEY_SHA256_SIZE, text);
	ck_assert_str_eq(text, "8db09de13954a1d54dcf1217d15ae2cbe7b206b9f0197aaf1fb55a369e184897");
}
END_TEST

START_TEST(test_long_term_key_rfc5769)
{
	/* RFC 5769 §2.4: username "マトリックス", realm "example.org", the
	 * password after SASLprep "TheMatrIX". */
	const char *username =
		"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
	unsigned char key[TURN_KEY_MAX_SIZE];
	char text[2 * TURN_KEY_MAX_SIZE + 1];

	ck_assert_uint_eq(turn_long_term_key(TURN_PASSWORD_ALGORITHM_MD5, username,
					     strlen(username), "example.org", 11, "TheMatrIX", 9,
					     key),
			  TURN_KEY_MD5_SIZE);
	hex(key, TURN_KEY_MD5_SIZE, text);
	ck_assert_str_eq(text, "e8ca7ad59d5eb0518e312911d2dab2a9");
	ck_assert_uint_eq(turn_long_term_key(TURN_PASSWORD_ALGORITHM_SHA256, username,
					     strlen(username), "example.org", 11, "TheMatrIX", 9,
					     key),
			  TURN_KEY_SHA256_SIZE);
	hex(key, TURN_KEY_SHA256_SIZE, text);
	ck_assert_str_eq(text, "dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1");
}
END_TEST

START_TEST(test_long_term_key_unknown_algorithm)
{
	unsigned char key[TURN_KEY_MAX_SIZE];
	size_t i;

	memset(key, 0xaa, sizeof(key));
	ck_assert_uint_eq(turn_long_term_key((enum turn_password_algorithm)0x0003, "1:a", 3, "r", 1,
					     "p", 1, key),
			  0);
	for (i = 0; i < sizeof(key); i++)
		ck_assert_uint_eq(key[i], 0);
}
END_TEST

START_TEST(test_ephemeral_key)
{
	/* the key of test_long_term_keys, straight from the secret */
	const char *username = "1700000000:alice";
	unsigned char key[TURN_KEY_MAX_SIZE];
	char text[2 * TURN_KEY_MAX_SIZE + 1];

	ck_assert_uint_eq(turn_ephemeral_key(secret, strlen(secret), TURN_PASSWORD_ALGORITHM_MD5,
					     username, strlen(username), "example.test", 12, key),
			  TURN_KEY_MD5_SIZE);
	hex(key, TURN_KEY_MD5_SIZE, text);
	ck_assert_str_eq(text, "7b224a291cbea1eab4ebcca14ff583ae");
	ck_assert_uint_eq(turn_ephemeral_key(secret, strlen(secret), TURN_PASSWORD_ALGORITHM_SHA256,
					     username, strlen(username), "example.test", 12, key),
			  TURN_KEY_SHA256_SIZE);
	hex(key, TURN_KEY_SHA256_SIZE, text);
	ck_assert_str_eq(text, "8db09de13954a1d54dcf1217d15ae2cbe7b206b9f0197aaf1fb55a369e184897");
	/* another realm, another key */
	ck_assert_uint_eq(turn_ephemeral_key(secret, strlen(secret), TURN_PASSWORD_ALGORITHM_MD5,
					     username, strlen(username), "example.org", 11, key),
			  TURN_KEY_MD5_SIZE);
	hex(key, TURN_KEY_MD5_SIZE, text);
	ck_assert_str_ne(text, "7b224a291cbea1eab4ebcca14ff583ae");
}
END_TEST

/* ---- usernames: parts and expiry ---- */

START_TEST(test_username_parts)
{
	const char *username = "1700000000:alice:laptop";
	struct turn_username parsed;

	ck_assert_int_eq(turn_username_parse(username, strlen(username), 1600000000, &parsed),
			 TURN_USERNAME_OK);
	ck_assert_uint_eq(parsed.expiry, 1700000000);
	ck_assert_uint_eq(parsed.user_length, 12);
	ck_assert(memcmp(parsed.user, "alice:laptop", 12) == 0);
	ck_assert_ptr_eq(parsed.user, username + 11);
}
END_TEST

START_TEST(test_username_not_terminated)
{
	/* the attribute's bytes need no NUL: only LENGTH of them are read */
	const char bytes[] = { '1', '0', ':', 'b', 'o', 'b', '9', '9' };
	struct turn_username parsed;

	ck_assert_int_eq(turn_username_parse(bytes, 6, 5, &parsed), TURN_USERNAME_OK);
	ck_assert_uint_eq(parsed.expiry, 10);
	ck_assert_uint_eq(parsed.user_length, 3);
	ck_assert_int_eq(turn_username_parse(bytes, 2, 5, &parsed), TURN_USERNAME_NO_COLON);
}
END_TEST

START_TEST(test_expiry_boundary)
{
	struct turn_username parsed;

	ck_assert_int_eq(parse("1700000000:alice", 0), TURN_USERNAME_OK);
	ck_assert_int_eq(parse("1700000000:alice", 1699999999), TURN_USERNAME_OK);
	ck_assert_int_eq(parse("1700000000:alice", 1700000000), TURN_USERNAME_OK);
	ck_assert_int_eq(parse("1700000000:alice", 1700000001), TURN_USERNAME_EXPIRED);
	ck_assert_int_eq(parse("1700000000:alice", UINT64_MAX), TURN_USERNAME_EXPIRED);
	ck_assert_int_eq(parse("0:alice", 0), TURN_USERNAME_OK);
	ck_assert_int_eq(parse("0:alice", 1), TURN_USERNAME_EXPIRED);
	ck_assert_int_eq(parse("18446744073709551615:alice", UINT64_MAX), TURN_USERNAME_OK);
	/* an expired username still names its user, for the refusal's log */
	ck_assert_int_eq(turn_username_parse("5:carol", 7, 6, &parsed), TURN_USERNAME_EXPIRED);
	ck_assert_uint_eq(parsed.expiry, 5);
	ck_assert_uint_eq(parsed.user_length, 5);
}
END_TEST

/* ---- usernames: malformed ---- */

static const struct {
	const char *username;
	enum turn_username_status status;
	const char *name;
} malformed[] = {
	{ "", TURN_USERNAME_EMPTY, "empty" },
	{ "alice", TURN_USERNAME_NO_COLON, "no_colon" },
	{ "1700000000", TURN_USERNAME_NO_COLON, "no_colon" },
	{ ":alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "alice:1700000000", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "17000x0000:alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "-1:alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "+1700000000:alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ " 1700000000:alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "1700000000 :alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "0x10:alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "18446744073709551616:alice", TURN_USERNAME_EXPIRY_OVERFLOW, "expiry_overflow" },
	{ "99999999999999999999:alice", TURN_USERNAME_EXPIRY_OVERFLOW, "expiry_overflow" },
	{ "184467440737095516150:alice", TURN_USERNAME_EXPIRY_OVERFLOW, "expiry_overflow" },
	{ "999999999999999999999999999999x:alice", TURN_USERNAME_BAD_EXPIRY, "bad_expiry" },
	{ "1700000000:", TURN_USERNAME_EMPTY_USER, "empty_user" },
	{ "1700000000:al\nice", TURN_USERNAME_CONTROL_CHARACTER, "control_character" },
	{ "1700000000:alice\r", TURN_USERNAME_CONTROL_CHARACTER, "control_character" },
	{ "1700000000:al\x7f", TURN_USERNAME_CONTROL_CHARACTER, "control_character" },
	{ "17\t00000000:alice", TURN_USERNAME_CONTROL_CHARACTER, "control_character" },
};

START_TEST(test_malformed_usernames)
{
	struct turn_username parsed = { 77, "untouched", 9 };

	ck_assert_msg(parse(malformed[_i].username, 0) == malformed[_i].status, "%s",
		      malformed[_i].username);
	ck_assert_str_eq(turn_username_status_name(malformed[_i].status), malformed[_i].name);
	ck_assert_int_eq(turn_username_parse(malformed[_i].username, strlen(malformed[_i].username),
					     0, &parsed),
			 malformed[_i].status);
	ck_assert_uint_eq(parsed.expiry, 77); /* left alone */
	ck_assert_str_eq(parsed.user, "untouched");
}
END_TEST

START_TEST(test_username_length)
{
	char username[TURN_USERNAME_MAX_LENGTH + 2];

	memset(username, 'u', sizeof(username));
	memcpy(username, "10:", 3);
	ck_assert_int_eq(turn_username_parse(username, TURN_USERNAME_MAX_LENGTH, 0, NULL),
			 TURN_USERNAME_OK);
	ck_assert_int_eq(turn_username_parse(username, TURN_USERNAME_MAX_LENGTH + 1, 0, NULL),
			 TURN_USERNAME_TOO_LONG);
	ck_assert_str_eq(turn_username_status_name(TURN_USERNAME_TOO_LONG), "too_long");
}
END_TEST

START_TEST(test_status_names)
{
	ck_assert_str_eq(turn_username_status_name(TURN_USERNAME_OK), "ok");
	ck_assert_str_eq(turn_username_status_name(TURN_USERNAME_EXPIRED), "expired");
	ck_assert_str_eq(turn_username_status_name((enum turn_username_status)999), "unknown");
}
END_TEST

static Suite *turn_credentials_suite(void)
{
	Suite *suite = suite_create("turn_credentials");
	TCase *passwords_case = tcase_create("passwords");
	TCase *usernames = tcase_create("usernames");

	tcase_add_loop_test(passwords_case, test_password_known_answers, 0,
			    sizeof(passwords) / sizeof(passwords[0]));
	tcase_add_test(passwords_case, test_password_depends_on_every_byte);
	tcase_add_test(passwords_case, test_long_term_keys);
	tcase_add_test(passwords_case, test_long_term_key_rfc5769);
	tcase_add_test(passwords_case, test_long_term_key_unknown_algorithm);
	tcase_add_test(passwords_case, test_ephemeral_key);
	suite_add_tcase(suite, passwords_case);
	tcase_add_test(usernames, test_username_parts);
	tcase_add_test(usernames, test_username_not_terminated);
	tcase_add_test(usernames, test_expiry_boundary);
	tcase_add_loop_test(usernames, test_malformed_usernames, 0,
			    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(usernames, test_username_length);
	tcase_add_test(usernames, test_status_names);
	suite_add_tcase(suite, usernames);
	return suite;
}

int main(void)
{
	return test_suite_run(turn_credentials_suite());
}
