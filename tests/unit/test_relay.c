/* SPDX-License-Identifier: ISC */
/* Unit tests for relay, over fake connections: what it writes to the next
 * hop and to the sender, and what it refuses to write. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_conn.h"
#include "message.h"
#include "relay.h"
#include "test_context.h"
#include "via_branch.h"
#include "test_suite.h"

static struct test_context test;

static void setup(void)
{
	test_context_init(&test, false);
}

static void teardown(void)
{
	test_context_free(&test);
}

static const char options[] = "OPTIONS sip:example.test SIP/2.0\r\n"
			      "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-relay-1\r\n"
			      "Max-Forwards: 70\r\n"
			      "From: <sip:alice@example.test>;tag=a1\r\n"
			      "To: <sip:example.test>\r\n"
			      "Call-ID: relay-1@test\r\n"
			      "CSeq: 1 OPTIONS\r\n"
			      "Content-Length: 0\r\n\r\n";

static struct sip_message *read_message(const char *text)
{
	struct sip_message *message = sip_message_read(text, strlen(text));
	ck_assert_ptr_nonnull(message);
	return message;
}

static struct conn *ready_conn(const char *peer, enum listener_role role, size_t output_max)
{
	struct conn *conn = fake_conn_new(peer, (int)role, output_max, NULL, NULL);
	fake_conn_ready(conn);
	return conn;
}

/* The rewritten request goes out with our Via of the side it leaves on,
 * and the branch handed back is that Via's. */
START_TEST(test_relay_writes_rewritten_request)
{
	struct conn *user = ready_conn("192.0.2.1:40000", ROLE_ACCESS, 0);
	struct conn *pool = ready_conn("127.0.0.10:5061", ROLE_INTERNAL, 65536);
	struct sip_message *request = read_message(options);
	struct sip_decision decision = { .action = SIP_ACTION_TO_POOL };
	char branch[VIA_BRANCH_SIZE], via[200];

	ck_assert_int_eq(sip_relay_request(&test.sip, conn_id(user), ROLE_ACCESS, request,
					   &decision, pool, ROLE_INTERNAL, branch),
			 SIP_RELAY_OK);
	const char *out = fake_conn_output(pool);
	snprintf(via, sizeof(via), "Via: SIP/2.0/TLS 127.0.0.2:5061;branch=%s;sxt=", branch);
	ck_assert_ptr_nonnull(strstr(out, via));
	ck_assert_ptr_nonnull(
		strstr(out, "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-relay-1"));
	ck_assert_ptr_nonnull(strstr(out, "Max-Forwards: 69\r\n"));
	ck_assert_str_eq(fake_conn_output(user), "");
	sip_message_free(request);
}
END_TEST

/* A shared link with too little room refuses (BUSY) and is not closed; a
 * user's connection is written to regardless (it closes itself). */
START_TEST(test_send_busy_only_on_shared_links)
{
	struct conn *pool = ready_conn("127.0.0.10:5061", ROLE_INTERNAL, 10);
	struct conn *user = ready_conn("192.0.2.1:40000", ROLE_ACCESS, 10);

	ck_assert_int_eq(sip_send(&test.sip, pool, ROLE_INTERNAL, options, strlen(options)),
			 SIP_RELAY_BUSY);
	ck_assert_ptr_null(fake_conn_closed_by_us(pool));
	ck_assert_str_eq(fake_conn_output(pool), "");
	ck_assert_int_eq(sip_send(&test.sip, user, ROLE_ACCESS, options, strlen(options)),
			 SIP_RELAY_FAILED);
	ck_assert_str_eq(fake_conn_closed_by_us(user), "output limit");
}
END_TEST

/* Bytes that do not frame as exactly one message never go out. */
START_TEST(test_send_refuses_what_is_not_one_message)
{
	struct conn *pool = ready_conn("127.0.0.10:5061", ROLE_INTERNAL, 65536);
	char two[sizeof(options) * 2];

	snprintf(two, sizeof(two), "%s%s", options, options);
	ck_assert_int_eq(sip_send(&test.sip, pool, ROLE_INTERNAL, two, strlen(two)),
			 SIP_RELAY_FAILED);
	ck_assert_str_eq(fake_conn_output(pool), "");
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_dropped_total{role=\"internal\","
						    "reason=\"not_framed_once\"}"),
			 1);
	ck_assert_int_eq(sip_send(&test.sip, pool, ROLE_INTERNAL, options, strlen(options)),
			 SIP_RELAY_OK);
	ck_assert_str_eq(fake_conn_output(pool), options);
}
END_TEST

/* An answer goes to the arrival connection while it is there; an ACK is
 * never answered. */
START_TEST(test_answer_goes_to_arrival)
{
	struct conn *user = ready_conn("192.0.2.1:40000", ROLE_ACCESS, 0);
	struct sip_message *request = read_message(options);

	ck_assert_int_eq(sip_answer_request(&test.sip, conn_id(user), ROLE_ACCESS, request, 503,
					    SIP_REASON_POOL_UNAVAILABLE, NULL,
					    "Retry-After: 3\r\n"),
			 0);
	const char *out = fake_conn_output(user);
	ck_assert_ptr_eq(strstr(out, "SIP/2.0 503 Pool Unavailable\r\n"), out);
	ck_assert_ptr_nonnull(strstr(out, "Retry-After: 3\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: relay-1@test\r\n"));
	/* Gone: nothing to write to, still no error. */
	uint64_t id = conn_id(user);
	fake_conn_drop(user, "gone");
	ck_assert_int_eq(sip_answer_request(&test.sip, id, ROLE_ACCESS, request, 503,
					    SIP_REASON_POOL_UNAVAILABLE, NULL, NULL),
			 0);
	sip_message_free(request);

	struct conn *other = ready_conn("192.0.2.2:40000", ROLE_ACCESS, 0);
	request = read_message("ACK sip:example.test SIP/2.0\r\n"
			       "Via: SIP/2.0/TLS 192.0.2.2:5061;branch=z9hG4bK-relay-2\r\n"
			       "From: <sip:alice@example.test>;tag=a1\r\n"
			       "To: <sip:example.test>;tag=b1\r\n"
			       "Call-ID: relay-2@test\r\n"
			       "CSeq: 1 ACK\r\n"
			       "Content-Length: 0\r\n\r\n");
	ck_assert_int_eq(sip_answer_request(&test.sip, conn_id(other), ROLE_ACCESS, request, 403,
					    SIP_REASON_FORGED_ROUTE, NULL, NULL),
			 0);
	ck_assert_str_eq(fake_conn_output(other), "");
	sip_message_free(request);
}
END_TEST

/* The answer built later from the kept fields is the one built at once. */
START_TEST(test_answer_from_fields_matches_answer)
{
	struct conn *now = ready_conn("192.0.2.1:40000", ROLE_ACCESS, 0);
	struct conn *later = ready_conn("192.0.2.2:40000", ROLE_ACCESS, 0);
	struct sip_message *request = read_message(options);
	size_t len;

	char *fields = sip_response_fields(request, &len);
	ck_assert_ptr_nonnull(fields);
	sip_answer_request(&test.sip, conn_id(now), ROLE_ACCESS, request, 503,
			   SIP_REASON_POOL_LINK_LOST, NULL, "Retry-After: 2\r\n");
	sip_answer_fields(&test.sip, conn_id(later), ROLE_ACCESS, "OPTIONS", fields, len, 503,
			  SIP_REASON_POOL_LINK_LOST, "Retry-After: 2\r\n");
	char *first = strdup(fake_conn_output(now));
	ck_assert_str_eq(fake_conn_output(later), first);
	ck_assert_ptr_nonnull(strstr(first, "To: <sip:example.test>;tag="));
	free(first);
	free(fields);
	sip_message_free(request);
}
END_TEST

static Suite *relay_suite(void)
{
	Suite *suite = suite_create("relay");
	TCase *tcase = tcase_create("relay");

	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_add_test(tcase, test_relay_writes_rewritten_request);
	tcase_add_test(tcase, test_send_busy_only_on_shared_links);
	tcase_add_test(tcase, test_send_refuses_what_is_not_one_message);
	tcase_add_test(tcase, test_answer_goes_to_arrival);
	tcase_add_test(tcase, test_answer_from_fields_matches_answer);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	sip_message_init();
	return test_suite_run(relay_suite());
}
