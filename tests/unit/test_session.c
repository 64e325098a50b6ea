/* SPDX-License-Identifier: ISC */
/* Unit tests for session, the inbound side, over fake connections: a
 * user's request goes to the pool link and the pool's response comes back;
 * what routing refuses is answered where it came from; what does not
 * frame closes the connection; a request that finds no pool link, or loses
 * it, gets 503 with the real back-off; and each of these counts once in
 * its metric family, under its role, method or reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_conn.h"
#include "pool.h"
#include "test_context.h"
#include "test_suite.h"

static struct test_context test;
static struct conn *pool_conn;
static struct conn *user;

static void setup(void)
{
	test_context_init(&test, true);
	pool_conn = fake_conn_last_connected();
	fake_conn_ready(pool_conn);
	user = test_context_user(&test, "192.0.2.1", 40000);
}

static void teardown(void)
{
	test_context_free(&test);
}

/* A request from alice over the user's connection, with EXTRA header lines. */
static void user_sends(const char *method, const char *call_id, const char *extra)
{
	char text[1200];
	snprintf(text, sizeof(text),
		 "%s sip:bob@example.test SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.1:40000;branch=z9hG4bK-%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.test>;tag=a1\r\n"
		 "To: <sip:bob@example.test>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 %s\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, call_id, call_id, method, extra);
	fake_conn_receive(user, text);
}

START_TEST(test_request_to_pool_response_back)
{
	user_sends("MESSAGE", "session-1@test", "");
	const char *relayed = fake_conn_output(pool_conn);
	ck_assert_ptr_eq(strstr(relayed, "MESSAGE sip:bob@example.test SIP/2.0\r\n"), relayed);
	ck_assert_ptr_nonnull(strstr(relayed, "Via: SIP/2.0/TLS 127.0.0.2:5061;branch="));

	struct sip_message *request = sip_message_read(relayed, strlen(relayed));
	ck_assert_ptr_nonnull(request);
	size_t len;
	char *response = sip_response_build(request, 202, "Accepted", NULL, &len);
	sip_message_free(request);
	fake_conn_receive(pool_conn, response);
	free(response);
	const char *back = fake_conn_output(user);
	ck_assert_ptr_eq(strstr(back, "SIP/2.0 202 Accepted\r\n"), back);
	/* Our Via is gone, the user's own is on top. */
	ck_assert_ptr_null(strstr(back, "127.0.0.2:5061"));
	ck_assert_ptr_nonnull(strstr(back, "Via: SIP/2.0/TLS 192.0.2.1:40000;branch=z9hG4bK-"));
}
END_TEST

/* Routing's refusal is answered on the connection it came from, and
 * nothing reaches the pool. */
START_TEST(test_refusal_answered_to_sender)
{
	user_sends("MESSAGE", "session-2@test", "Route: <sip:127.0.0.2:5061;transport=tls;lr>\r\n");
	const char *out = fake_conn_output(user);
	ck_assert_ptr_eq(strstr(out, "SIP/2.0 403 Forged Route\r\n"), out);
	ck_assert_str_eq(fake_conn_output(pool_conn), "");
	ck_assert_ptr_null(fake_conn_closed_by_us(user));
}
END_TEST

/* Bytes that are no SIP close the connection. */
START_TEST(test_unframed_input_closes)
{
	char line[9000];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	fake_conn_receive(user, line);
	ck_assert_ptr_nonnull(fake_conn_closed_by_us(user));
	ck_assert_str_eq(fake_conn_output(pool_conn), "");
}
END_TEST

/* The pool link dies with the request on it: 503 at once, with the wait
 * until the next attempt; then no link is up and the next request is told
 * the same. */
START_TEST(test_pool_lost_and_unavailable)
{
	user_sends("MESSAGE", "session-3@test", "");
	ck_assert_str_ne(fake_conn_output(pool_conn), "");
	fake_conn_drop(pool_conn, "peer closed");
	const char *out = fake_conn_output(user);
	ck_assert_ptr_eq(strstr(out, "SIP/2.0 503 Pool Link Lost\r\n"), out);
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: session-3@test\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Retry-After: 1\r\n"));

	/* After 1 s the link tries again, and that attempt fails too: the
	 * wait doubles, and a request is told 2 s, not reconnect_min. */
	struct timeval wait = { .tv_sec = 1, .tv_usec = 200000 };
	event_base_loopexit(test.base, &wait);
	event_base_dispatch(test.base);
	ck_assert_uint_eq(fake_conn_connects(), 2);
	fake_conn_drop(fake_conn_last_connected(), "connection refused");
	fake_conn_clear_output(user);
	user_sends("MESSAGE", "session-4@test", "");
	out = fake_conn_output(user);
	ck_assert_ptr_eq(strstr(out, "SIP/2.0 503 Pool Unavailable\r\n"), out);
	ck_assert_ptr_nonnull(strstr(out, "Retry-After: 2\r\n"));
}
END_TEST

/* Each path counts where the page shows it. */
START_TEST(test_counts)
{
	ck_assert_int_eq(test_context_metric(&test, "sxedge_connections_accepted_total{protocol="
						    "\"sip\",role=\"access\"}"),
			 1);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_links{state=\"up\"}"), 1);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_links{state=\"waiting\"}"), 0);

	user_sends("MESSAGE", "count-1@test", "");
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_requests_relayed_total{role="
						    "\"access\",method=\"MESSAGE\"}"),
			 1);
	ck_assert_int_eq(
		test_context_metric(&test, "sxedge_sip_in_flight_requests{role=\"internal\"}"), 1);
	const char *relayed = fake_conn_output(pool_conn);
	struct sip_message *request = sip_message_read(relayed, strlen(relayed));
	ck_assert_ptr_nonnull(request);
	size_t len;
	char *response = sip_response_build(request, 202, "Accepted", NULL, &len);
	sip_message_free(request);
	fake_conn_receive(pool_conn, response);
	free(response);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_responses_relayed_total{role="
						    "\"internal\",method=\"MESSAGE\"}"),
			 1);
	ck_assert_int_eq(
		test_context_metric(&test, "sxedge_sip_in_flight_requests{role=\"internal\"}"), 0);

	user_sends("MESSAGE", "count-2@test", "Route: <sip:127.0.0.2:5061;transport=tls;lr>\r\n");
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_rejected_total{role=\"access\","
						    "reason=\"forged_route\"}"),
			 1);

	/* A stray response: no Via of ours. */
	fake_conn_receive(user, "SIP/2.0 200 OK\r\n"
				"Via: SIP/2.0/TLS 192.0.2.1:40000;branch=z9hG4bK-stray\r\n"
				"From: <sip:alice@example.test>;tag=a1\r\n"
				"To: <sip:bob@example.test>;tag=b1\r\n"
				"Call-ID: count-3@test\r\n"
				"CSeq: 1 MESSAGE\r\n"
				"Content-Length: 0\r\n\r\n");
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_dropped_total{role=\"access\","
						    "reason=\"via_not_ours\"}"),
			 1);

	user_sends("MESSAGE", "count-4@test", "");
	fake_conn_drop(pool_conn, "peer closed");
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_rejected_total{role=\"access\","
						    "reason=\"pool_link_lost\"}"),
			 1);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_links{state=\"up\"}"), 0);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_links{state=\"waiting\"}"), 1);
	user_sends("MESSAGE", "count-5@test", "");
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_rejected_total{role=\"access\","
						    "reason=\"pool_unavailable\"}"),
			 1);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_requests_relayed_total{role="
						    "\"access\",method=\"MESSAGE\"}"),
			 2);

	/* Bytes that cannot be cut into messages close the stream, counted by why. */
	char line[9000];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	fake_conn_receive(user, line);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_sip_dropped_total{role=\"access\","
						    "reason=\"line_too_long\"}"),
			 1);
}
END_TEST

/* A pool link whose handshake fails counts its kind; a user who leaves
 * counts as closed by the peer. */
START_TEST(test_counts_closes)
{
	char series[200];

	/* The fake names its reasons itself. */
	fake_conn_drop(user, "peer closed");
	snprintf(series, sizeof(series),
		 "sxedge_connections_closed_total{protocol=\"sip\",role=\"access\",reason=\"%s\"}",
		 conn_close_reason_name(CONN_CLOSE_PEER));
	ck_assert_int_eq(test_context_metric(&test, series), 1);
	fake_conn_drop(pool_conn, "peer closed");
	struct timeval wait = { .tv_sec = 1, .tv_usec = 200000 };
	event_base_loopexit(test.base, &wait);
	event_base_dispatch(test.base);
	ck_assert_uint_eq(fake_conn_connects(), 2);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_links{state=\"connecting\"}"), 1);
	fake_conn_fail_handshake(fake_conn_last_connected(), CONN_CLOSE_CERTIFICATE_REFUSED,
				 TLS_FAILURE_CERTIFICATE_NAME);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_tls_handshake_failures_total{role="
						    "\"internal\",reason=\"certificate_name\"}"),
			 1);
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_links{state=\"waiting\"}"), 1);
	/* A link is no accepted connection. */
	snprintf(series, sizeof(series),
		 "sxedge_connections_closed_total{protocol=\"sip\",role="
		 "\"internal\",reason=\"%s\"}",
		 conn_close_reason_name(CONN_CLOSE_CERTIFICATE_REFUSED));
	ck_assert_int_eq(test_context_metric(&test, series), -1);
}
END_TEST

static Suite *session_suite(void)
{
	Suite *suite = suite_create("session");
	TCase *tcase = tcase_create("session");

	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_add_test(tcase, test_request_to_pool_response_back);
	tcase_add_test(tcase, test_refusal_answered_to_sender);
	tcase_add_test(tcase, test_unframed_input_closes);
	tcase_add_test(tcase, test_pool_lost_and_unavailable);
	tcase_add_test(tcase, test_counts);
	tcase_add_test(tcase, test_counts_closes);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	sip_message_init();
	return test_suite_run(session_suite());
}
