/* SPDX-License-Identifier: ISC */
/* Unit tests for via_branch: the layout of the branch, its hash (known
 * answers computed independently with Python's hashlib), the CANCEL/ACK
 * property, and opening it back. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "test_keys.h"
#include "via_branch.h"
#include "test_suite.h"

/* test_keys.h's key; main() builds it before the tests. */
static struct flow_key key;

/* A request with top Via branch BRANCH (none when NULL), Call-ID CALL_ID,
 * CSeq "NUMBER METHOD". */
static osip_message_t *request(const char *method, const char *branch, const char *call_id,
			       const char *cseq_number)
{
	char text[1024];
	osip_message_t *msg;

	snprintf(text, sizeof(text),
		 "%s sip:bob@example.test SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.10:5061%s%s\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.11:5061;branch=z9hG4bKlower\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.test>;tag=a1\r\n"
		 "To: <sip:bob@example.test>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: %s %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, branch != NULL ? ";branch=" : "", branch != NULL ? branch : "", call_id,
		 cseq_number, method);
	msg = sip_message_parse(text, strlen(text));
	ck_assert_ptr_nonnull(msg);
	return msg;
}

static void make(uint64_t conn, const char *method, const char *branch, const char *call_id,
		 const char *cseq_number, char out[VIA_BRANCH_SIZE])
{
	osip_message_t *msg = request(method, branch, call_id, cseq_number);

	via_branch_make(&key, conn, msg, out);
	osip_message_free(msg);
}

START_TEST(test_layout_and_hash)
{
	char branch[VIA_BRANCH_SIZE];
	char token[FLOW_TOKEN_LEN + 1];
	char expected[VIA_BRANCH_SIZE];

	make(42, "INVITE", "z9hG4bKclient1", "call1@192.0.2.10", "1", branch);
	flow_token_seal(&key, 42, token);
	snprintf(expected, sizeof(expected), "z9hG4bKsx%s.1376f2a216a405a2.", token);
	ck_assert_int_eq(strncmp(branch, expected, strlen(expected)), 0);
	ck_assert_uint_eq(strlen(branch), 9 + FLOW_TOKEN_LEN + 1 + 16 + 1 + 16);
	ck_assert_uint_eq(strspn(branch + strlen(expected), "0123456789abcdef"), 16);
}
END_TEST

/* The whole branch and a stamp, MACs included, computed independently
 * (Python's hmac): HMAC-SHA256(secret, "branch" NUL signed part) and
 * HMAC-SHA256(secret, "stamp" NUL branch time), 8 bytes of each in hex. */
START_TEST(test_known_macs)
{
	static const char expected[] =
		"z9hG4bKsxAAEAAAAHAAAAAAAAACrFyQsX2molMC3HZ-Q.1376f2a216a405a2.dcda058e90018b9f";
	char branch[VIA_BRANCH_SIZE], stamp[VIA_STAMP_SIZE];

	make(42, "INVITE", "z9hG4bKclient1", "call1@192.0.2.10", "1", branch);
	ck_assert_str_eq(branch, expected);
	via_stamp_make(&key, branch, 1764547200, stamp);
	ck_assert_str_eq(stamp, "692cda80548a382f1f2a36c7");
}
END_TEST

START_TEST(test_hash_without_branch_or_call_id_host)
{
	char branch[VIA_BRANCH_SIZE];

	make(42, "INVITE", NULL, "call1@192.0.2.10", "1", branch);
	ck_assert_int_eq(strncmp(branch + 9 + FLOW_TOKEN_LEN, ".bdaf94eb5efd35de.", 18), 0);
	make(42, "INVITE", "z9hG4bKclient1", "call1", "1", branch);
	ck_assert_int_eq(strncmp(branch + 9 + FLOW_TOKEN_LEN, ".2c08016f70933638.", 18), 0);
}
END_TEST

START_TEST(test_cancel_and_ack_share_the_invite_branch)
{
	char invite[VIA_BRANCH_SIZE], cancel[VIA_BRANCH_SIZE], ack[VIA_BRANCH_SIZE];
	char again[VIA_BRANCH_SIZE];

	make(42, "INVITE", "z9hG4bKclient1", "call1@192.0.2.10", "1", invite);
	make(42, "CANCEL", "z9hG4bKclient1", "call1@192.0.2.10", "1", cancel);
	make(42, "ACK", "z9hG4bKclient1", "call1@192.0.2.10", "1", ack);
	make(42, "INVITE", "z9hG4bKclient1", "call1@192.0.2.10", "1", again);
	ck_assert_str_eq(cancel, invite);
	ck_assert_str_eq(ack, invite);
	ck_assert_str_eq(again, invite);
}
END_TEST

START_TEST(test_other_transactions_differ)
{
	char base[VIA_BRANCH_SIZE], other[VIA_BRANCH_SIZE];

	make(42, "INVITE", "z9hG4bKclient1", "call1@192.0.2.10", "1", base);
	make(42, "INVITE", "z9hG4bKclient2", "call1@192.0.2.10", "1", other);
	ck_assert_str_ne(other, base);
	make(42, "INVITE", "z9hG4bKclient1", "call2@192.0.2.10", "1", other);
	ck_assert_str_ne(other, base);
	make(42, "INVITE", "z9hG4bKclient1", "call1@192.0.2.10", "2", other);
	ck_assert_str_ne(other, base);
	/* Another arrival connection: another token, same hash. */
	make(43, "INVITE", "z9hG4bKclient1", "call1@192.0.2.10", "1", other);
	ck_assert_str_ne(other, base);
	ck_assert_int_eq(strncmp(other + 9 + FLOW_TOKEN_LEN, base + 9 + FLOW_TOKEN_LEN, 17), 0);
}
END_TEST

START_TEST(test_open_round_trip)
{
	char branch[VIA_BRANCH_SIZE];
	uint64_t conn = 0;

	make(0x0123456789abcdefULL, "INVITE", "z9hG4bKclient1", "c@h", "1", branch);
	ck_assert_int_eq(via_branch_open(&key, branch, &conn), FLOW_OPEN_OK);
	ck_assert_uint_eq(conn, 0x0123456789abcdefULL);
}
END_TEST

START_TEST(test_open_refuses_other_strings)
{
	char branch[VIA_BRANCH_SIZE], bad[VIA_BRANCH_SIZE + 2];
	uint64_t conn = 99;
	size_t len;

	make(42, "INVITE", "z9hG4bKclient1", "c@h", "1", branch);
	len = strlen(branch);
	ck_assert_int_eq(via_branch_open(&key, NULL, &conn), FLOW_OPEN_FORGED);
	ck_assert_int_eq(via_branch_open(&key, "", &conn), FLOW_OPEN_FORGED);
	ck_assert_int_eq(via_branch_open(&key, "z9hG4bKclient1", &conn), FLOW_OPEN_FORGED);
	/* Wrong prefix. */
	strcpy(bad, branch);
	bad[8] = 'y';
	ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	/* Upper-case MAC digit. */
	strcpy(bad, branch);
	bad[len - 1] = 'A';
	ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	/* Any other hash (the review replayed one branch under every hash)
	 * or MAC: the MAC covers token and hash. */
	for (size_t at = 9 + FLOW_TOKEN_LEN + 1; at < len; at++) {
		if (branch[at] == '.')
			continue;
		strcpy(bad, branch);
		bad[at] = bad[at] == '0' ? '1' : '0';
		ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	}
	/* No dot between hash and MAC. */
	strcpy(bad, branch);
	bad[9 + FLOW_TOKEN_LEN + 17] = '0';
	ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	/* No dot between token and hash. */
	strcpy(bad, branch);
	bad[9 + FLOW_TOKEN_LEN] = '-';
	ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	/* One character too many, one too few. */
	snprintf(bad, sizeof(bad), "%s0", branch);
	ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	strcpy(bad, branch);
	bad[len - 1] = '\0';
	ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	/* A changed MAC character in the token. */
	strcpy(bad, branch);
	bad[9 + 30] = bad[9 + 30] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(via_branch_open(&key, bad, &conn), FLOW_OPEN_FORGED);
	ck_assert_uint_eq(conn, 99);
}
END_TEST

START_TEST(test_open_other_key_and_stale)
{
	struct flow_key other = test_key_flipped(0, 1);
	struct flow_key earlier_boot = key; /* a copy: the same secret */
	char branch[VIA_BRANCH_SIZE];
	osip_message_t *msg = request("INVITE", "z9hG4bKclient1", "c@h", "1");
	uint64_t conn = 0;

	via_branch_make(&other, 42, msg, branch);
	ck_assert_int_eq(via_branch_open(&key, branch, &conn), FLOW_OPEN_FORGED);
	earlier_boot.boot_id = key.boot_id - 1;
	via_branch_make(&earlier_boot, 42, msg, branch);
	ck_assert_int_eq(via_branch_open(&key, branch, &conn), FLOW_OPEN_STALE);
	osip_message_free(msg);
	flow_key_clear(&other);
}
END_TEST

START_TEST(test_stamp)
{
	char branch[VIA_BRANCH_SIZE], other[VIA_BRANCH_SIZE], stamp[VIA_STAMP_SIZE];
	struct flow_key other_key = test_key_flipped(1, 1);
	const uint64_t now = 1764547200;

	make(42, "INVITE", "z9hG4bKclient1", "c@h", "1", branch);
	make(43, "INVITE", "z9hG4bKclient1", "c@h", "1", other);
	via_stamp_make(&key, branch, now, stamp);
	ck_assert_uint_eq(strlen(stamp), 24);
	ck_assert_int_eq(strncmp(stamp, "692cda80", 8), 0);
	ck_assert_int_eq(via_stamp_check(&key, branch, stamp, now), VIA_STAMP_OK);
	ck_assert_int_eq(via_stamp_check(&key, branch, stamp, now + VIA_STAMP_MAX_AGE),
			 VIA_STAMP_OK);
	ck_assert_int_eq(via_stamp_check(&key, branch, stamp, now + VIA_STAMP_MAX_AGE + 1),
			 VIA_STAMP_EXPIRED);
	ck_assert_int_eq(via_stamp_check(&key, branch, stamp, now - 1), VIA_STAMP_EXPIRED);
	/* Another branch's stamp, another key's, a changed time, none. */
	ck_assert_int_eq(via_stamp_check(&key, other, stamp, now), VIA_STAMP_FORGED);
	ck_assert_int_eq(via_stamp_check(&other_key, branch, stamp, now), VIA_STAMP_FORGED);
	stamp[7] = stamp[7] == '0' ? '1' : '0';
	ck_assert_int_eq(via_stamp_check(&key, branch, stamp, now), VIA_STAMP_FORGED);
	ck_assert_int_eq(via_stamp_check(&key, branch, NULL, now), VIA_STAMP_FORGED);
	ck_assert_int_eq(via_stamp_check(&key, branch, "", now), VIA_STAMP_FORGED);
	ck_assert_int_eq(via_stamp_check(&key, branch, "692CDA80", now), VIA_STAMP_FORGED);
	flow_key_clear(&other_key);
}
END_TEST

static Suite *via_branch_suite(void)
{
	Suite *suite = suite_create("via_branch");
	TCase *tcase = tcase_create("via_branch");

	tcase_add_test(tcase, test_layout_and_hash);
	tcase_add_test(tcase, test_known_macs);
	tcase_add_test(tcase, test_hash_without_branch_or_call_id_host);
	tcase_add_test(tcase, test_cancel_and_ack_share_the_invite_branch);
	tcase_add_test(tcase, test_other_transactions_differ);
	tcase_add_test(tcase, test_open_round_trip);
	tcase_add_test(tcase, test_open_refuses_other_strings);
	tcase_add_test(tcase, test_open_other_key_and_stale);
	tcase_add_test(tcase, test_stamp);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	sip_message_init();
	if (test_key_build(&key, 0, 0) != 0) {
		fprintf(stderr, "test_via_branch: no HMAC-SHA256 key\n");
		return EXIT_FAILURE;
	}
	int status = test_suite_run(via_branch_suite());
	flow_key_clear(&key);
	return status;
}
