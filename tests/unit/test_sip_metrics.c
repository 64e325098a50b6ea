/* SPDX-License-Identifier: ISC */
/* Unit tests for src/sip/sip_metrics: each count lands in its family under
 * the labels the code gives (roles, lib's reason names, methods from the
 * fixed list, the SIP reasons' names), accepted and refused show 0 from the
 * start, a TLS failure is counted beside the close, and with no registry
 * nothing is counted. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sip_metrics.h"
#include "test_suite.h"

static struct metrics *registry;
static struct sip_metrics counted;

static void setup(void)
{
	registry = metrics_new();
	ck_assert_ptr_nonnull(registry);
	sip_metrics_init(&counted, registry);
}

static void teardown(void)
{
	metrics_free(registry);
}

/* The registry's page as a string the caller frees. */
static char *render(void)
{
	struct evbuffer *out = evbuffer_new();

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(metrics_render(registry, out), 0);
	size_t length = evbuffer_get_length(out);
	char *text = calloc(1, length + 1);
	ck_assert_ptr_nonnull(text);
	evbuffer_remove(out, text, length);
	evbuffer_free(out);
	return text;
}

/* The page has LINE (a whole line) or, with PRESENT false, no line starting
 * with it. */
static void assert_line(const char *line, bool present)
{
	char *page = render();
	char *wanted = malloc(strlen(line) + 3);

	ck_assert_ptr_nonnull(wanted);
	sprintf(wanted, "\n%s%s", line, present ? "\n" : "");
	ck_assert_msg((strstr(page, wanted) != NULL) == present, "%s %s in:\n%s", line,
		      present ? "missing" : "present", page);
	free(wanted);
	free(page);
}

START_TEST(test_method_labels)
{
	ck_assert_int_eq(sip_method_label("INVITE"), SIP_METHOD_INVITE);
	ck_assert_int_eq(sip_method_label("PUBLISH"), SIP_METHOD_PUBLISH);
	/* Methods are case-sensitive, and nothing else from the wire is a label. */
	ck_assert_int_eq(sip_method_label("invite"), SIP_METHOD_OTHER);
	ck_assert_int_eq(sip_method_label("FOO"), SIP_METHOD_OTHER);
	ck_assert_int_eq(sip_method_label(""), SIP_METHOD_OTHER);
	ck_assert_int_eq(sip_method_label(NULL), SIP_METHOD_OTHER);
	for (int i = 0; i < SIP_METHOD_OTHER; i++)
		ck_assert_int_eq(sip_method_label(sip_method_label_name(i)), i);
	ck_assert_str_eq(sip_method_label_name(SIP_METHOD_OTHER), "other");
}
END_TEST

START_TEST(test_connections)
{
	/* Made at start: every role, each refusal. */
	assert_line("sxedge_connections_accepted_total{protocol=\"sip\",role=\"federation\"} 0",
		    true);
	assert_line("sxedge_connections_refused_total{protocol=\"sip\",role=\"access\","
		    "reason=\"address_limit\"} 0",
		    true);
	assert_line("sxedge_connections_refused_total{protocol=\"sip\",role=\"access\","
		    "reason=\"admitted\"}",
		    false);

	sip_metrics_accepted(&counted, ROLE_ACCESS);
	sip_metrics_accepted(&counted, ROLE_ACCESS);
	sip_metrics_accepted(&counted, ROLE_INTERNAL);
	sip_metrics_refused(&counted, ROLE_ACCESS, CONN_BUDGET_FULL);
	assert_line("sxedge_connections_accepted_total{protocol=\"sip\",role=\"access\"} 2", true);
	assert_line("sxedge_connections_accepted_total{protocol=\"sip\",role=\"internal\"} 1",
		    true);
	assert_line("sxedge_connections_refused_total{protocol=\"sip\",role=\"access\","
		    "reason=\"connection_limit\"} 1",
		    true);
}
END_TEST

START_TEST(test_closes_and_tls_failures)
{
	sip_metrics_closed(&counted, ROLE_ACCESS, CONN_CLOSE_PEER, TLS_FAILURE_NONE);
	sip_metrics_closed(&counted, ROLE_ACCESS, CONN_CLOSE_TLS_FAILED, TLS_FAILURE_NO_SNI);
	sip_metrics_closed(&counted, ROLE_FEDERATION, CONN_CLOSE_CERTIFICATE_REFUSED,
			   TLS_FAILURE_CERTIFICATE_UNTRUSTED);
	/* A link's close counts no connection, only its TLS failure. */
	sip_metrics_link_closed(&counted, ROLE_FEDERATION, CONN_CLOSE_CERTIFICATE_REFUSED,
				TLS_FAILURE_CERTIFICATE_UNTRUSTED);
	sip_metrics_link_closed(&counted, ROLE_INTERNAL, CONN_CLOSE_CONNECT_FAILED,
				TLS_FAILURE_NONE);

	assert_line("sxedge_connections_closed_total{protocol=\"sip\",role=\"access\","
		    "reason=\"peer_closed\"} 1",
		    true);
	assert_line("sxedge_connections_closed_total{protocol=\"sip\",role=\"access\","
		    "reason=\"tls_failed\"} 1",
		    true);
	assert_line("sxedge_connections_closed_total{protocol=\"sip\",role=\"federation\","
		    "reason=\"certificate_refused\"} 1",
		    true);
	assert_line("sxedge_connections_closed_total{protocol=\"sip\",role=\"internal\"", false);
	assert_line("sxedge_tls_handshake_failures_total{role=\"access\",reason=\"no_sni\"} 1",
		    true);
	assert_line("sxedge_tls_handshake_failures_total{role=\"federation\","
		    "reason=\"certificate_untrusted\"} 2",
		    true);
	assert_line("sxedge_tls_handshake_failures_total{role=\"internal\"", false);
}
END_TEST

START_TEST(test_relayed)
{
	sip_metrics_request_relayed(&counted, ROLE_ACCESS, "MESSAGE");
	sip_metrics_request_relayed(&counted, ROLE_ACCESS, "MESSAGE");
	sip_metrics_request_relayed(&counted, ROLE_ACCESS, "FOO");
	sip_metrics_request_relayed(&counted, ROLE_INTERNAL, "OPTIONS");
	sip_metrics_response_relayed(&counted, ROLE_INTERNAL, "MESSAGE");
	sip_metrics_response_relayed(&counted, ROLE_INTERNAL, NULL);

	assert_line("sxedge_sip_requests_relayed_total{role=\"access\",method=\"MESSAGE\"} 2",
		    true);
	assert_line("sxedge_sip_requests_relayed_total{role=\"access\",method=\"other\"} 1", true);
	assert_line("sxedge_sip_requests_relayed_total{role=\"internal\",method=\"OPTIONS\"} 1",
		    true);
	assert_line("sxedge_sip_responses_relayed_total{role=\"internal\",method=\"MESSAGE\"} 1",
		    true);
	assert_line("sxedge_sip_responses_relayed_total{role=\"internal\",method=\"other\"} 1",
		    true);
	assert_line("sxedge_sip_responses_relayed_total{role=\"access\"", false);
}
END_TEST

START_TEST(test_reasons)
{
	sip_metrics_rejected(&counted, ROLE_ACCESS, SIP_REASON_FORGED_ROUTE);
	sip_metrics_rejected(&counted, ROLE_ACCESS, SIP_REASON_FORGED_ROUTE);
	sip_metrics_rejected(&counted, ROLE_FEDERATION, SIP_REASON_DOMAIN_BLOCKED);
	sip_metrics_dropped(&counted, ROLE_INTERNAL, SIP_REASON_STALE_VIA_BRANCH);
	sip_metrics_dropped(&counted, ROLE_ACCESS, SIP_REASON_COUNT); /* no such reason */

	assert_line("sxedge_sip_rejected_total{role=\"access\",reason=\"forged_route\"} 2", true);
	assert_line("sxedge_sip_rejected_total{role=\"federation\",reason=\"domain_blocked\"} 1",
		    true);
	assert_line("sxedge_sip_dropped_total{role=\"internal\",reason=\"stale_via_branch\"} 1",
		    true);
	assert_line("sxedge_sip_dropped_total{role=\"access\"", false);
}
END_TEST

/* Zeroed handles, or a NULL registry: every call counts into nothing. */
START_TEST(test_off)
{
	struct sip_metrics off;

	memset(&off, 0, sizeof(off));
	sip_metrics_accepted(&off, ROLE_ACCESS);
	sip_metrics_closed(&off, ROLE_ACCESS, CONN_CLOSE_TLS_FAILED, TLS_FAILURE_PROTOCOL);
	sip_metrics_request_relayed(&off, ROLE_ACCESS, "INVITE");
	sip_metrics_init(&off, NULL);
	sip_metrics_refused(&off, ROLE_ACCESS, CONN_BUDGET_FULL);
	sip_metrics_response_relayed(&off, ROLE_INTERNAL, "INVITE");
	ck_assert_ptr_null(off.accepted);
	ck_assert_ptr_null(off.requests_by[ROLE_ACCESS][SIP_METHOD_INVITE]);
}
END_TEST

static Suite *sip_metrics_suite(void)
{
	Suite *suite = suite_create("sip_metrics");
	TCase *tcase = tcase_create("counts");

	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_add_test(tcase, test_method_labels);
	tcase_add_test(tcase, test_connections);
	tcase_add_test(tcase, test_closes_and_tls_failures);
	tcase_add_test(tcase, test_relayed);
	tcase_add_test(tcase, test_reasons);
	tcase_add_test(tcase, test_off);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(sip_metrics_suite());
}
