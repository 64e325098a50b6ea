/* SPDX-License-Identifier: ISC */
/* Unit tests for link, on a pool link over fake connections: requests in
 * flight are remembered until their final response, and answered with 503
 * and the real back-off when the link dies; the back-off doubles; a
 * draining link carries on, is not replaced, and answers what it has in
 * flight when the drain is over. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_conn.h"
#include "link.h"
#include "pool.h"
#include "test_context.h"
#include "test_suite.h"

static struct test_context test;
static struct conn *pool_conn;
static struct conn *user;

static void setup(void)
{
	test_context_init(&test, true);
	ck_assert_uint_eq(fake_conn_connects(), 1);
	pool_conn = fake_conn_last_connected();
	fake_conn_ready(pool_conn);
	user = test_context_user(&test, "192.0.2.1", 40000);
}

static void teardown(void)
{
	test_context_free(&test);
}

static struct sip_message *request(const char *method, const char *call_id)
{
	char text[600];
	snprintf(text, sizeof(text),
		 "%s sip:bob@example.test SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.test>;tag=a1\r\n"
		 "To: <sip:bob@example.test>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, call_id, call_id, method);
	struct sip_message *message = sip_message_read(text, strlen(text));
	ck_assert_ptr_nonnull(message);
	return message;
}

static struct sip_link *relay(const char *method, const char *call_id)
{
	struct sip_link *link = sip_pool_pick(test.sip.pool);
	struct sip_decision decision = { .action = SIP_ACTION_TO_POOL };
	struct sip_message *message = request(method, call_id);

	ck_assert_ptr_nonnull(link);
	ck_assert_int_eq(sip_link_relay(link, conn_id(user), ROLE_ACCESS, message, &decision),
			 SIP_RELAY_OK);
	sip_message_free(message);
	return link;
}

/* The pool answers STATUS to the request in the LEN bytes at TEXT. */
static void pool_answers_one(const char *text, size_t len, int status)
{
	struct sip_message *relayed = sip_message_read(text, len);
	ck_assert_ptr_nonnull(relayed);
	size_t response_len;
	char *response = sip_response_build(relayed, status, "Pool Says", NULL, &response_len);
	ck_assert_ptr_nonnull(response);
	fake_conn_receive(pool_conn, response);
	free(response);
	sip_message_free(relayed);
}

/* The pool answers STATUS to what it received last (all of its output). */
static void pool_answers(int status)
{
	const char *out = fake_conn_output(pool_conn);
	const char *last = out, *at;
	while ((at = strstr(last + 1, "\r\n\r\n")) != NULL && at[4] != '\0')
		last = at + 4;
	pool_answers_one(last, strlen(last), status);
}

/* The pool answers STATUS to every request it received since the last
 * call (each has Content-Length 0, so a blank line ends it). */
static void pool_answers_all(int status)
{
	char *out = strdup(fake_conn_output(pool_conn));
	char *end;

	ck_assert_ptr_nonnull(out);
	fake_conn_clear_output(pool_conn);
	for (char *at = out; (end = strstr(at, "\r\n\r\n")) != NULL; at = end + 4)
		pool_answers_one(at, (size_t)(end + 4 - at), status);
	free(out);
}

/* Relays the requests that take the link to SIP_LINK_INTAKE_PAUSE in
 * flight, checking that the user is read until the last of them. */
static struct sip_link *saturate(void)
{
	struct sip_link *link = NULL;
	char call_id[40];

	for (unsigned i = 0; i < SIP_LINK_INTAKE_PAUSE; i++) {
		ck_assert(conn_reading(user));
		snprintf(call_id, sizeof(call_id), "busy-%u@test", i);
		link = relay("MESSAGE", call_id);
	}
	ck_assert_uint_eq(link->in_flight.count, SIP_LINK_INTAKE_PAUSE);
	return link;
}

START_TEST(test_intake_waits_for_answers)
{
	struct sip_link *link = saturate();

	ck_assert(!conn_reading(user));
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_intake_paused_connections"), 1);
	ck_assert_int_eq(
		test_context_metric(&test, "sxedge_sip_in_flight_requests{role=\"internal\"}"),
		SIP_LINK_INTAKE_PAUSE);
	pool_answers_all(200);
	ck_assert_uint_eq(link->in_flight.count, 0);
	ck_assert(conn_reading(user));
	ck_assert_int_eq(test_context_metric(&test, "sxedge_pool_intake_paused_connections"), 0);
}
END_TEST

START_TEST(test_intake_resumes_when_the_link_dies)
{
	saturate();
	ck_assert(!conn_reading(user));
	fake_conn_drop(pool_conn, "peer closed");
	ck_assert(conn_reading(user));
}
END_TEST

START_TEST(test_final_response_ends_the_wait)
{
	struct sip_link *link = relay("MESSAGE", "link-1@test");

	ck_assert_int_eq(link->state, SIP_LINK_UP);
	ck_assert_uint_eq(link->in_flight.count, 1);
	pool_answers(100);
	ck_assert_uint_eq(link->in_flight.count, 1);
	pool_answers(200);
	ck_assert_uint_eq(link->in_flight.count, 0);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(user), "SIP/2.0 200 Pool Says\r\n"));
	/* Nothing left to answer when it dies now. */
	fake_conn_clear_output(user);
	fake_conn_drop(pool_conn, "peer closed");
	ck_assert_str_eq(fake_conn_output(user), "");
}
END_TEST

START_TEST(test_link_death_answers_every_request_in_flight)
{
	relay("MESSAGE", "link-2@test");
	relay("INVITE", "link-3@test");
	struct sip_link *link = relay("OPTIONS", "link-4@test");
	/* An ACK waits for nothing. */
	relay("ACK", "link-5@test");
	ck_assert_uint_eq(link->in_flight.count, 3);

	fake_conn_drop(pool_conn, "peer closed");
	ck_assert_int_eq(link->state, SIP_LINK_WAITING);
	ck_assert_uint_eq(link->in_flight.count, 0);
	const char *out = fake_conn_output(user);
	const char *at = out;
	unsigned answers = 0;
	while ((at = strstr(at, "SIP/2.0 503 Pool Link Lost\r\n")) != NULL) {
		answers++;
		at++;
	}
	ck_assert_uint_eq(answers, 3);
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: link-2@test\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: link-3@test\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: link-4@test\r\n"));
	ck_assert_ptr_null(strstr(out, "Call-ID: link-5@test\r\n"));
	/* reconnect_min: the first wait is 1 s. */
	ck_assert_ptr_nonnull(strstr(out, "Retry-After: 1\r\n"));
	ck_assert_ptr_null(strstr(out, "Retry-After: 2\r\n"));
	ck_assert_uint_eq(sip_link_retry_after(link), 1);
	ck_assert_ptr_null(sip_pool_pick(test.sip.pool));
}
END_TEST

/* 1, 2, 4, 4 s (reconnect_max 4); the Retry-After of a new request is the
 * time left of the current wait. */
START_TEST(test_back_off_doubles_to_max)
{
	struct sip_link *link = sip_pool_pick(test.sip.pool);
	fake_conn_drop(pool_conn, "peer closed");
	ck_assert_uint_eq(sip_link_retry_after(link), 1);
	ck_assert_uint_eq(sip_link_back_off(link, 4), 2);
	ck_assert_uint_eq(sip_link_retry_after(link), 2);
	ck_assert_uint_eq(sip_pool_retry_after(test.sip.pool), 2);
	ck_assert_uint_eq(sip_link_back_off(link, 4), 4);
	ck_assert_uint_eq(sip_link_back_off(link, 4), 4);
	ck_assert_uint_eq(sip_pool_retry_after(test.sip.pool), 4);
}
END_TEST

/* A partner link's requests are answered the same, with their own reason,
 * to the pool connection they came from. */
START_TEST(test_partner_link_lost)
{
	struct sip_link link;
	struct sip_message *message = request("MESSAGE", "link-6@test");
	size_t len;

	sip_link_init(&link, &test.sip, ROLE_FEDERATION, "partner.test", NULL);
	char *fields = sip_response_fields(message, &len);
	ck_assert_int_eq(in_flight_add(&link.in_flight, "z9hG4bKsx-partner", "MESSAGE",
				       conn_id(pool_conn), ROLE_INTERNAL, fields, len,
				       sip_context_now_ms(&test.sip)),
			 IN_FLIGHT_ADDED);
	sip_link_lost(&link, 1);
	const char *out = fake_conn_output(pool_conn);
	ck_assert_ptr_nonnull(strstr(out, "SIP/2.0 503 Partner Link Lost\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: link-6@test\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Retry-After: 1\r\n"));
	ck_assert_uint_eq(link.in_flight.count, 0);
	sip_link_clear(&link);
	sip_message_free(message);
}
END_TEST

/* Requests wait in order while a link is not up; what is left when it
 * goes is freed with it. */
START_TEST(test_queue_in_order)
{
	struct sip_link link;
	struct sip_decision decision = { .action = SIP_ACTION_TO_PARTNER };

	sip_link_init(&link, &test.sip, ROLE_FEDERATION, "partner.test", NULL);
	ck_assert(sip_link_enqueue(&link, 11, request("MESSAGE", "queue-1@test"), &decision));
	ck_assert(sip_link_enqueue(&link, 12, request("MESSAGE", "queue-2@test"), &decision));
	ck_assert(sip_link_enqueue(&link, 13, request("MESSAGE", "queue-3@test"), &decision));
	ck_assert_uint_eq(link.queued, 3);
	struct sip_link_waiting *first = sip_link_dequeue(&link);
	ck_assert_uint_eq(first->arrival_id, 11);
	ck_assert_int_eq(first->decision.action, SIP_ACTION_TO_PARTNER);
	ck_assert_str_eq(first->request->osip->call_id->number, "queue-1");
	sip_message_free(first->request);
	free(first);
	struct sip_link_waiting *second = sip_link_dequeue(&link);
	ck_assert_uint_eq(second->arrival_id, 12);
	sip_message_free(second->request);
	free(second);
	ck_assert_uint_eq(link.queued, 1);
	sip_link_clear(&link);
	ck_assert_uint_eq(link.queued, 0);
	ck_assert_ptr_null(sip_link_dequeue(&link));
}
END_TEST

/* SIGTERM: the link that is up carries on (the ACK and BYE of calls under
 * way still need it); once it closes it is not tried again. */
START_TEST(test_draining_link_carries_and_is_not_replaced)
{
	sip_context_drain(&test.sip);
	struct sip_link *link = relay("MESSAGE", "drain-1@test");
	ck_assert_int_eq(link->state, SIP_LINK_DRAINING);
	ck_assert_uint_eq(sip_link_retry_after(link), 0);
	pool_answers(200);
	ck_assert_uint_eq(link->in_flight.count, 0);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(user), "SIP/2.0 200 Pool Says\r\n"));

	fake_conn_drop(pool_conn, "peer closed");
	ck_assert_int_eq(link->state, SIP_LINK_IDLE);
	ck_assert_ptr_null(sip_pool_pick(test.sip.pool));
	ck_assert_uint_eq(fake_conn_connects(), 1);
	ck_assert_uint_eq(sip_context_open_connections(&test.sip), 1); /* the user */
}
END_TEST

/* A link waiting for its back-off when the drain begins stops waiting. */
START_TEST(test_drain_stops_a_waiting_link)
{
	struct sip_link *link = sip_pool_pick(test.sip.pool);
	fake_conn_drop(pool_conn, "peer closed");
	ck_assert_int_eq(link->state, SIP_LINK_WAITING);
	sip_context_drain(&test.sip);
	ck_assert_int_eq(link->state, SIP_LINK_IDLE);
}
END_TEST

/* The drain is over: what is still in flight is answered 503 (without a
 * Retry-After: this edge is going), then the link and the accepted
 * connections close, in that order, each flushed. */
START_TEST(test_stop_answers_in_flight_and_closes)
{
	sip_context_drain(&test.sip);
	struct sip_link *link = relay("INVITE", "drain-2@test");
	relay("ACK", "drain-3@test");
	ck_assert_uint_eq(link->in_flight.count, 1);
	fake_conn_clear_output(user);

	sip_context_stop(&test.sip);
	const char *out = fake_conn_output(user);
	ck_assert_ptr_nonnull(strstr(out, "SIP/2.0 503 Edge Stopping\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Call-ID: drain-2@test\r\n"));
	ck_assert_ptr_null(strstr(out, "Call-ID: drain-3@test\r\n"));
	ck_assert_ptr_null(strstr(out, "Retry-After:"));
	ck_assert_uint_eq(link->in_flight.count, 0);
	ck_assert_str_eq(fake_conn_closed_by_us(pool_conn), "edge stopping");
	ck_assert_str_eq(fake_conn_closed_by_us(user), "edge stopping");
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(sip_link_state_name(SIP_LINK_IDLE), "idle");
	ck_assert_str_eq(sip_link_state_name(SIP_LINK_RESOLVING), "resolving");
	ck_assert_str_eq(sip_link_state_name(SIP_LINK_ADDRESSING), "addressing");
	ck_assert_str_eq(sip_link_state_name(SIP_LINK_CONNECTING), "connecting");
	ck_assert_str_eq(sip_link_state_name(SIP_LINK_UP), "up");
	ck_assert_str_eq(sip_link_state_name(SIP_LINK_WAITING), "waiting");
	ck_assert_str_eq(sip_link_state_name(SIP_LINK_DRAINING), "draining");
}
END_TEST

int main(void)
{
	sip_message_init();
	Suite *suite = suite_create("link");
	TCase *tcase = tcase_create("link");
	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_add_test(tcase, test_final_response_ends_the_wait);
	tcase_add_test(tcase, test_link_death_answers_every_request_in_flight);
	tcase_add_test(tcase, test_back_off_doubles_to_max);
	tcase_add_test(tcase, test_intake_waits_for_answers);
	tcase_add_test(tcase, test_intake_resumes_when_the_link_dies);
	tcase_add_test(tcase, test_partner_link_lost);
	tcase_add_test(tcase, test_queue_in_order);
	tcase_add_test(tcase, test_draining_link_carries_and_is_not_replaced);
	tcase_add_test(tcase, test_drain_stops_a_waiting_link);
	tcase_add_test(tcase, test_stop_answers_in_flight_and_closes);
	tcase_add_test(tcase, test_state_names);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
