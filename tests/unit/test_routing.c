/* Unit tests for routing: one test per rule of DESIGN.md §4, plus whole
 * dialogs between two remote users that run routing and rewrite hop by hop
 * and check that in-dialog requests from either side reach the other. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "rewrite.h"
#include "routing.h"
#include "via_branch.h"

#define EXT_HOST "127.0.0.1"
#define EXT_PORT 443
#define INT_HOST "127.0.0.2"
#define INT_PORT 5061

static char *domains[] = {"example.test", "example.org"};
static struct sxedge_config config = {.domains = domains, .n_domains = 2};

static const struct flow_key key = {
	.secret = {0x5e, 0xc7, 0x01, 0x02, 0x03, 0xfe, 0x80, 0x42},
	.node_id = 1,
	.boot_id = 7,
};

static const struct sip_edge edge = {
	.config = &config,
	.flow_key = &key,
	.external_host = EXT_HOST,
	.external_port = EXT_PORT,
	.internal_host = INT_HOST,
	.internal_port = INT_PORT,
};

/* ---- Helpers ------------------------------------------------------------ */

static osip_message_t *parse(const char *pattern, ...) __attribute__((format(printf, 1, 2)));

static osip_message_t *parse(const char *pattern, ...)
{
	char text[8192];
	osip_message_t *msg;
	va_list args;
	int len;

	va_start(args, pattern);
	len = vsnprintf(text, sizeof(text), pattern, args);
	va_end(args);
	ck_assert_int_lt(len, (int)sizeof(text));
	msg = sip_message_parse(text, (size_t)len);
	ck_assert_msg(msg != NULL, "cannot parse:\n%s", text);
	return msg;
}

/* A request METHOD from FROM_DOMAIN, with TO_PARAMS after the To URI and
 * EXTRA header lines (each ending in CRLF). */
static osip_message_t *request(const char *method, const char *from_domain, const char *to_params,
			       const char *extra)
{
	return parse("%s sip:bob@example.test SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKclient1\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@%s>;tag=a1\r\n"
		     "To: <sip:bob@example.test>%s\r\n"
		     "Call-ID: call1@192.0.2.10\r\n"
		     "CSeq: 1 %s\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     method, from_domain, to_params, method, extra);
}

/* Our Route/Record-Route entry for one side, naming the connection of TOKEN. */
static void own_uri(char *out, size_t size, const char *token, bool external)
{
	snprintf(out, size, "<sip:%s%s%s:%u;transport=tls;lr>", token != NULL ? token : "",
		 token != NULL ? "@" : "", external ? EXT_HOST : INT_HOST,
		 external ? EXT_PORT : INT_PORT);
}

static struct sip_decision route(const osip_message_t *msg, enum listener_role arrival)
{
	struct sip_decision decision;

	memset(&decision, 0x5a, sizeof(decision)); /* routing must set every field */
	sip_route_request(msg, arrival, &edge, &decision);
	return decision;
}

/* Routes a request made by request() and frees it. */
static struct sip_decision route_request(enum listener_role arrival, const char *method,
					 const char *from_domain, const char *to_params,
					 const char *extra)
{
	osip_message_t *msg = request(method, from_domain, to_params, extra);
	struct sip_decision decision = route(msg, arrival);

	osip_message_free(msg);
	return decision;
}

static void assert_refused(const struct sip_decision *decision, enum sip_action action,
			   int status, const char *reason)
{
	ck_assert_int_eq(decision->action, action);
	ck_assert_int_eq(decision->status, status);
	ck_assert_ptr_nonnull(decision->reason);
	ck_assert_str_eq(decision->reason, reason);
	ck_assert_uint_eq(decision->routes_to_pop, 0);
	ck_assert(!decision->record_route);
	ck_assert(!decision->add_path);
	ck_assert(!decision->pool_fallback);
}

/* ---- Requests from access ----------------------------------------------- */

START_TEST(test_access_invite_goes_to_pool_with_record_route)
{
	struct sip_decision d = route_request(ROLE_ACCESS, "INVITE", "example.test", "", "");

	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert_uint_eq(d.routes_to_pop, 0);
	ck_assert(d.record_route);
	ck_assert(!d.add_path);
	ck_assert(!d.pool_fallback);
	ck_assert_int_eq(d.status, 0);
	ck_assert_ptr_null(d.reason);
	/* Any of our domains. */
	d = route_request(ROLE_ACCESS, "MESSAGE", "example.org", "", "");
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert(d.record_route);
	/* Domains compare case-insensitively. */
	d = route_request(ROLE_ACCESS, "OPTIONS", "Example.TEST", "", "");
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
}
END_TEST

START_TEST(test_access_register_gets_path_not_record_route)
{
	struct sip_decision d = route_request(ROLE_ACCESS, "REGISTER", "example.test", "", "");

	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert(d.add_path);
	ck_assert(!d.record_route);
	ck_assert_uint_eq(d.routes_to_pop, 0);
}
END_TEST

START_TEST(test_access_in_dialog_request_gets_no_record_route)
{
	struct sip_decision d =
		route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", "");

	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert(!d.record_route);
	ck_assert(!d.add_path);
	d = route_request(ROLE_ACCESS, "INVITE", "example.test", ";tag=b1", "");
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert(!d.record_route);
}
END_TEST

START_TEST(test_access_cancel_and_ack_get_no_record_route)
{
	struct sip_decision d = route_request(ROLE_ACCESS, "CANCEL", "example.test", "", "");

	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert(!d.record_route);
	d = route_request(ROLE_ACCESS, "ACK", "example.test", "", "");
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert(!d.record_route);
}
END_TEST

START_TEST(test_access_pops_own_routes_of_both_sides)
{
	char token[FLOW_TOKEN_LEN + 1], ext[128], in[128], extra[512];
	struct sip_decision d;

	flow_token_seal(&key, 7, token);
	own_uri(ext, sizeof(ext), token, true);
	own_uri(in, sizeof(in), token, false);
	/* One Route header with commas. */
	snprintf(extra, sizeof(extra), "Route: %s, %s, <sip:pool.example.test;lr>\r\n", ext, in);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	/* One Route header per entry. */
	snprintf(extra, sizeof(extra),
		 "Route: %s\r\nRoute: %s\r\nRoute: <sip:pool.example.test;lr>\r\n", ext, in);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	/* Only what is left of the pair. */
	snprintf(extra, sizeof(extra), "Route: %s\r\n", in);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_uint_eq(d.routes_to_pop, 1);
	snprintf(extra, sizeof(extra), "Route: %s\r\n", ext);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_uint_eq(d.routes_to_pop, 1);
}
END_TEST

START_TEST(test_access_pop_stops_at_first_foreign_route)
{
	char token[FLOW_TOKEN_LEN + 1], ext[128], in[128], extra[512];
	struct sip_decision d;

	flow_token_seal(&key, 7, token);
	own_uri(ext, sizeof(ext), token, true);
	own_uri(in, sizeof(in), token, false);
	snprintf(extra, sizeof(extra), "Route: <sip:pool.example.test;lr>, %s, %s\r\n", ext, in);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert_uint_eq(d.routes_to_pop, 0);
	snprintf(extra, sizeof(extra), "Route: %s, <sip:pool.example.test;lr>, %s\r\n", ext, in);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_uint_eq(d.routes_to_pop, 1);
	/* Our host on another port is not us. */
	snprintf(extra, sizeof(extra), "Route: <sip:%s@" EXT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_uint_eq(d.routes_to_pop, 0);
}
END_TEST

/* Two crossings in a row (a pool that does not Record-Route): the request
 * from access pops only its own crossing, so the pool gets the rest. */
START_TEST(test_access_pop_stops_after_crossing_to_internal)
{
	char a[FLOW_TOKEN_LEN + 1], b[FLOW_TOKEN_LEN + 1];
	char ext_a[128], int_a[128], ext_b[128], int_b[128], extra[1024];
	struct sip_decision d;

	flow_token_seal(&key, 1, a);
	flow_token_seal(&key, 2, b);
	own_uri(ext_a, sizeof(ext_a), a, true);
	own_uri(int_a, sizeof(int_a), a, false);
	own_uri(ext_b, sizeof(ext_b), b, true);
	own_uri(int_b, sizeof(int_b), b, false);
	snprintf(extra, sizeof(extra), "Route: %s, %s, %s, %s\r\n", ext_a, int_a, int_b, ext_b);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert_uint_eq(d.routes_to_pop, 2);
}
END_TEST

START_TEST(test_access_foreign_from_domain_403)
{
	struct sip_decision d = route_request(ROLE_ACCESS, "INVITE", "evil.test", "", "");

	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Not Served");
	/* A subdomain of ours is not ours. */
	d = route_request(ROLE_ACCESS, "REGISTER", "sub.example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Not Served");
}
END_TEST

/* Requests that sip_request_check refuses, with the header lines of a good
 * request replaced. */
struct broken_request {
	const char *text;
	int status;
};

#define GOOD_VIA "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKclient1\r\n"
#define GOOD_FROM "From: <sip:alice@example.test>;tag=a1\r\n"
#define GOOD_TO "To: <sip:bob@example.test>\r\n"
#define GOOD_CALL_ID "Call-ID: call1@192.0.2.10\r\n"
#define GOOD_CSEQ "CSeq: 1 %s\r\n"
#define GOOD_END "Content-Length: 0\r\n\r\n"
#define START "%s sip:bob@example.test SIP/2.0\r\n"

static const struct broken_request broken_requests[] = {
	{START GOOD_FROM GOOD_TO GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400},
	{START GOOD_VIA GOOD_TO GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400},
	{START GOOD_VIA GOOD_FROM GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400},
	{START GOOD_VIA GOOD_FROM GOOD_TO GOOD_CSEQ GOOD_END, 400},
	{START GOOD_VIA GOOD_FROM GOOD_TO GOOD_CALL_ID GOOD_END, 400},
	{START GOOD_VIA GOOD_FROM GOOD_TO GOOD_CALL_ID
	 "CSeq: 1 OPTIONS%.0s\r\n" GOOD_END, 400},
	{START GOOD_VIA "Max-Forwards: many\r\n" GOOD_FROM GOOD_TO
	 GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400},
	{START GOOD_VIA "Max-Forwards: 256\r\n" GOOD_FROM GOOD_TO
	 GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400},
	{START GOOD_VIA "Max-Forwards: 0\r\n" GOOD_FROM GOOD_TO
	 GOOD_CALL_ID GOOD_CSEQ GOOD_END, 483},
};

#define N_BROKEN (sizeof(broken_requests) / sizeof(broken_requests[0]))

/* The format strings above take the method twice (request line, CSeq). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static osip_message_t *broken(size_t i, const char *method)
{
	return parse(broken_requests[i].text, method, method);
}
#pragma GCC diagnostic pop

START_TEST(test_request_check_failure_propagates)
{
	for (int role = ROLE_ACCESS; role <= ROLE_INTERNAL; role++) {
		osip_message_t *msg = broken((size_t)_i, "INVITE");
		struct sip_reject reject = {0, NULL};
		struct sip_decision d;

		ck_assert(!sip_request_check(msg, &reject));
		ck_assert_int_eq(reject.status, broken_requests[_i].status);
		d = route(msg, (enum listener_role)role);
		assert_refused(&d, SIP_ACTION_REPLY, reject.status, reject.reason);
		osip_message_free(msg);
	}
}
END_TEST

START_TEST(test_ack_is_dropped_never_answered)
{
	char token[FLOW_TOKEN_LEN + 1], route_line[256];
	struct flow_key earlier_boot = key;
	osip_message_t *msg;
	struct sip_reject reject;
	struct sip_decision d;

	d = route_request(ROLE_ACCESS, "ACK", "evil.test", ";tag=b1", "");
	assert_refused(&d, SIP_ACTION_DROP, 0, "From Domain Not Served");
	d = route_request(ROLE_INTERNAL, "ACK", "example.test", ";tag=b1", "");
	assert_refused(&d, SIP_ACTION_DROP, 0, "No Flow Token");
	snprintf(route_line, sizeof(route_line),
		 "Route: <sip:garbage@" INT_HOST ":5061;transport=tls;lr>\r\n");
	d = route_request(ROLE_INTERNAL, "ACK", "example.test", ";tag=b1", route_line);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Invalid Flow Token");
	earlier_boot.boot_id = 6;
	flow_token_seal(&earlier_boot, 9, token);
	snprintf(route_line, sizeof(route_line),
		 "Route: <sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n", token);
	d = route_request(ROLE_INTERNAL, "ACK", "example.test", ";tag=b1", route_line);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Flow Failed");
	for (size_t i = 0; i < N_BROKEN; i++) {
		msg = broken(i, "ACK");
		ck_assert(!sip_request_check(msg, &reject));
		d = route(msg, ROLE_ACCESS);
		assert_refused(&d, SIP_ACTION_DROP, 0, reject.reason);
		osip_message_free(msg);
	}
}
END_TEST

/* ---- Requests from the pool --------------------------------------------- */

START_TEST(test_internal_valid_token_goes_to_its_connection)
{
	char token[FLOW_TOKEN_LEN + 1], in[128], extra[256];
	struct sip_decision d;

	flow_token_seal(&key, 0xfeedface12ULL, token);
	own_uri(in, sizeof(in), token, false);
	snprintf(extra, sizeof(extra), "Route: %s\r\n", in);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 0xfeedface12ULL);
	ck_assert_uint_eq(d.routes_to_pop, 1);
	ck_assert(d.record_route);
	ck_assert(!d.add_path);
	ck_assert(!d.pool_fallback);
	ck_assert_ptr_null(d.reason);
	/* In a dialog: no Record-Route. */
	d = route_request(ROLE_INTERNAL, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert(!d.record_route);
	/* The pool relays requests from anyone: no From check on this side. */
	d = route_request(ROLE_INTERNAL, "MESSAGE", "elsewhere.test", "", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 0xfeedface12ULL);
}
END_TEST

START_TEST(test_internal_pops_pair_and_takes_first_token)
{
	char token[FLOW_TOKEN_LEN + 1], other[FLOW_TOKEN_LEN + 1];
	char ext[128], in[128], extra[512];
	struct sip_decision d;

	flow_token_seal(&key, 21, token);
	flow_token_seal(&key, 22, other);
	own_uri(in, sizeof(in), token, false);
	own_uri(ext, sizeof(ext), other, true);
	snprintf(extra, sizeof(extra),
		 "Route: %s\r\nRoute: %s\r\nRoute: <sip:ua.example.test>\r\n", in, ext);
	d = route_request(ROLE_INTERNAL, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 21);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	/* The first own entry without a user part gives no token. */
	own_uri(in, sizeof(in), NULL, false);
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", in, ext);
	d = route_request(ROLE_INTERNAL, "BYE", "example.test", ";tag=b1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 22);
	ck_assert_uint_eq(d.routes_to_pop, 2);
}
END_TEST

START_TEST(test_internal_forged_token_403)
{
	struct flow_key other_secret = key, other_node = key;
	char token[FLOW_TOKEN_LEN + 1], extra[256];
	struct sip_decision d;

	other_secret.secret[5] ^= 0x10;
	flow_token_seal(&other_secret, 3, token);
	snprintf(extra, sizeof(extra), "Route: <sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Invalid Flow Token");
	other_node.node_id = 2;
	flow_token_seal(&other_node, 3, token);
	snprintf(extra, sizeof(extra), "Route: <sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Invalid Flow Token");
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "",
			  "Route: <sip:bob@" INT_HOST ":5061;transport=tls;lr>\r\n");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Invalid Flow Token");
}
END_TEST

START_TEST(test_internal_stale_token_430)
{
	struct flow_key earlier_boot = key;
	char token[FLOW_TOKEN_LEN + 1], extra[256];
	struct sip_decision d;

	earlier_boot.boot_id = key.boot_id + 1;
	flow_token_seal(&earlier_boot, 3, token);
	snprintf(extra, sizeof(extra), "Route: <sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 430, "Flow Failed");
}
END_TEST

START_TEST(test_internal_without_token_404)
{
	char token[FLOW_TOKEN_LEN + 1], extra[256];
	struct sip_decision d;

	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 404, "No Flow Token");
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "",
			  "Route: <sip:" INT_HOST ":5061;transport=tls;lr>\r\n");
	assert_refused(&d, SIP_ACTION_REPLY, 404, "No Flow Token");
	/* A valid token behind someone else's Route is not ours to follow. */
	flow_token_seal(&key, 3, token);
	snprintf(extra, sizeof(extra),
		 "Route: <sip:pool.example.test;lr>, "
		 "<sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 404, "No Flow Token");
	snprintf(extra, sizeof(extra), "Route: <sip:%s@pool.example.test:5061;lr>\r\n", token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 404, "No Flow Token");
}
END_TEST

/* ---- Whole dialogs ------------------------------------------------------ */

#define CONN_ALICE 101
#define CONN_BOB 202
#define CONN_POOL 303
#define POOL_RR "<sip:pool.example.test:5061;transport=tls;lr>"

struct uri_list {
	char items[8][160];
	int count;
};

static void uri_list_add(struct uri_list *list, const char *uri)
{
	ck_assert_int_lt(list->count, 8);
	snprintf(list->items[list->count++], sizeof(list->items[0]), "%s", uri);
}

/* "Route: a, b\r\n" from LIST[FIRST..], in order or reversed; "" when empty. */
static void route_header(char *out, size_t size, const struct uri_list *list, bool reversed)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < list->count; i++) {
		const char *uri = list->items[reversed ? list->count - 1 - i : i];

		used += (size_t)snprintf(out + used, size - used, "%s%s",
					 i == 0 ? "Route: " : ", ", uri);
	}
	if (list->count > 0)
		snprintf(out + used, size - used, "\r\n");
}

static void record_routes_of(const osip_message_t *msg, struct uri_list *list)
{
	list->count = 0;
	for (int i = 0; i < osip_list_size(&msg->record_routes); i++) {
		osip_record_route_t *rr = osip_list_get(&msg->record_routes, i);
		char *text = NULL;

		ck_assert_int_eq(osip_record_route_to_str(rr, &text), 0);
		uri_list_add(list, text);
		osip_free(text);
	}
}

static void routes_of(const osip_message_t *msg, struct uri_list *list)
{
	list->count = 0;
	for (int i = 0; i < osip_list_size(&msg->routes); i++) {
		osip_route_t *r = osip_list_get(&msg->routes, i);
		char *text = NULL;

		ck_assert_int_eq(osip_route_to_str(r, &text), 0);
		uri_list_add(list, text);
		osip_free(text);
	}
}

/* What the edge does to REQUEST arriving on ARRIVAL_CONN: route it, and
 * rewrite it as the session would.  Returns the decision. */
static struct sip_decision edge_relays(osip_message_t *msg, enum listener_role arrival,
				       uint64_t arrival_conn)
{
	struct sip_hop external = {EXT_HOST, EXT_PORT}, internal = {INT_HOST, INT_PORT};
	char token[FLOW_TOKEN_LEN + 1], branch[VIA_BRANCH_SIZE];
	struct sip_decision d = route(msg, arrival);
	bool from_access = arrival == ROLE_ACCESS;
	struct sip_request_rewrite rewrite = {
		.routes_to_pop = d.routes_to_pop,
		.arrival = from_access ? external : internal,
		.departure = from_access ? internal : external,
		.branch = branch,
		.flow_token = token,
		.record_route = d.record_route,
		.add_path = d.add_path,
	};

	ck_assert(d.action == SIP_ACTION_TO_POOL || d.action == SIP_ACTION_TO_CONN);
	flow_token_seal(&key, from_access ? arrival_conn : d.conn_id, token);
	via_branch_make(&key, arrival_conn, msg, branch);
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	return d;
}

static osip_message_t *dialog_request(const char *method, const char *from, const char *to,
				      const char *to_tag, const char *route_line,
				      const char *record_route)
{
	return parse("%s sip:%s@192.0.2.99:5062;transport=tls SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 192.0.2.10:5062;branch=z9hG4bK%s%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "%s%s"
		     "From: <sip:%s@example.test>;tag=f1\r\n"
		     "To: <sip:%s@example.test>%s\r\n"
		     "Call-ID: dialog1@192.0.2.10\r\n"
		     "CSeq: 2 %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     method, to, method, from, route_line, record_route, from, to, to_tag, method);
}

/* Alice (access) calls Bob (access) through the pool; then each sends BYE
 * along the route set the INVITE established. */
static void run_dialog(bool pool_record_routes)
{
	struct uri_list from_alice, at_bob, remaining, expected;
	char bob_path[128], route_line[1024], record_route[1024], uri[160];
	char token_alice[FLOW_TOKEN_LEN + 1], token_bob[FLOW_TOKEN_LEN + 1];
	struct sip_decision d;
	osip_message_t *msg;

	flow_token_seal(&key, CONN_ALICE, token_alice);
	flow_token_seal(&key, CONN_BOB, token_bob);

	/* 1. Alice's INVITE reaches the edge over access. */
	msg = dialog_request("INVITE", "alice", "bob", "", "", "");
	d = edge_relays(msg, ROLE_ACCESS, CONN_ALICE);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	record_routes_of(msg, &from_alice);
	osip_message_free(msg);
	ck_assert_int_eq(from_alice.count, 2);
	own_uri(uri, sizeof(uri), token_alice, false);
	ck_assert_str_eq(from_alice.items[0], uri);
	own_uri(uri, sizeof(uri), token_alice, true);
	ck_assert_str_eq(from_alice.items[1], uri);

	/* 2. The pool sends it to Bob along his Path (our internal side). */
	own_uri(bob_path, sizeof(bob_path), token_bob, false);
	snprintf(route_line, sizeof(route_line), "Route: %s\r\n", bob_path);
	snprintf(record_route, sizeof(record_route), "Record-Route: %s%s%s, %s\r\n",
		 pool_record_routes ? POOL_RR : "", pool_record_routes ? ", " : "",
		 from_alice.items[0], from_alice.items[1]);
	msg = dialog_request("INVITE", "alice", "bob", "", route_line, record_route);
	d = edge_relays(msg, ROLE_INTERNAL, CONN_POOL);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, CONN_BOB);
	ck_assert_uint_eq(osip_list_size(&msg->routes), 0);
	record_routes_of(msg, &at_bob);
	osip_message_free(msg);
	expected.count = 0;
	own_uri(uri, sizeof(uri), token_bob, true);
	uri_list_add(&expected, uri);
	own_uri(uri, sizeof(uri), token_bob, false);
	uri_list_add(&expected, uri);
	if (pool_record_routes)
		uri_list_add(&expected, POOL_RR);
	uri_list_add(&expected, from_alice.items[0]);
	uri_list_add(&expected, from_alice.items[1]);
	ck_assert_int_eq(at_bob.count, expected.count);
	for (int i = 0; i < expected.count; i++)
		ck_assert_str_eq(at_bob.items[i], expected.items[i]);

	/* 3. Bob's BYE (route set = Record-Route as received) leaves the edge
	 * for the pool with our pair for Bob popped... */
	route_header(route_line, sizeof(route_line), &at_bob, false);
	msg = dialog_request("BYE", "bob", "alice", ";tag=f1", route_line, "");
	d = edge_relays(msg, ROLE_ACCESS, CONN_BOB);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	ck_assert(!d.record_route);
	routes_of(msg, &remaining);
	osip_message_free(msg);
	ck_assert_int_eq(remaining.count, pool_record_routes ? 3 : 2);
	/* ...the pool pops its own entry and sends it to our internal side,
	 * where it goes to Alice's connection with nothing left to route. */
	if (pool_record_routes) {
		ck_assert_str_eq(remaining.items[0], POOL_RR);
		memmove(remaining.items[0], remaining.items[1], sizeof(remaining.items[0]) * 2);
		remaining.count = 2;
	}
	route_header(route_line, sizeof(route_line), &remaining, false);
	msg = dialog_request("BYE", "bob", "alice", ";tag=f1", route_line, "");
	d = edge_relays(msg, ROLE_INTERNAL, CONN_POOL);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, CONN_ALICE);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	ck_assert_uint_eq(osip_list_size(&msg->routes), 0);
	osip_message_free(msg);

	/* 4. Alice's BYE: her route set is the Record-Route of the 200 OK
	 * (what Bob got) reversed. */
	route_header(route_line, sizeof(route_line), &at_bob, true);
	msg = dialog_request("BYE", "alice", "bob", ";tag=t1", route_line, "");
	d = edge_relays(msg, ROLE_ACCESS, CONN_ALICE);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	routes_of(msg, &remaining);
	osip_message_free(msg);
	ck_assert_int_eq(remaining.count, pool_record_routes ? 3 : 2);
	if (pool_record_routes) {
		ck_assert_str_eq(remaining.items[0], POOL_RR);
		memmove(remaining.items[0], remaining.items[1], sizeof(remaining.items[0]) * 2);
		remaining.count = 2;
	}
	route_header(route_line, sizeof(route_line), &remaining, false);
	msg = dialog_request("BYE", "alice", "bob", ";tag=t1", route_line, "");
	d = edge_relays(msg, ROLE_INTERNAL, CONN_POOL);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, CONN_BOB);
	ck_assert_uint_eq(osip_list_size(&msg->routes), 0);
	osip_message_free(msg);
}

START_TEST(test_dialog_through_record_routing_pool)
{
	run_dialog(true);
}
END_TEST

START_TEST(test_dialog_through_pool_without_record_route)
{
	run_dialog(false);
}
END_TEST

/* ---- Responses ---------------------------------------------------------- */

/* A response whose top Via is TOP_VIA, above the client's. */
static osip_message_t *response(const char *top_via)
{
	return parse("SIP/2.0 200 OK\r\n"
		     "Via: %s\r\n"
		     "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKclient1\r\n"
		     "From: <sip:alice@example.test>;tag=a1\r\n"
		     "To: <sip:bob@example.test>;tag=b1\r\n"
		     "Call-ID: call1@192.0.2.10\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Content-Length: 0\r\n\r\n",
		     top_via);
}

static void make_branch(const struct flow_key *with, uint64_t conn, char out[VIA_BRANCH_SIZE])
{
	osip_message_t *msg = request("INVITE", "example.test", "", "");

	via_branch_make(with, conn, msg, out);
	osip_message_free(msg);
}

static struct sip_decision route_response_via(const struct sip_edge *on,
					      enum listener_role arrival, const char *top_via)
{
	osip_message_t *msg = response(top_via);
	struct sip_decision d;

	memset(&d, 0x5a, sizeof(d));
	sip_route_response(msg, arrival, on, &d);
	osip_message_free(msg);
	return d;
}

START_TEST(test_response_internal_via_to_access_conn)
{
	char branch[VIA_BRANCH_SIZE], via[256];
	struct sip_decision d;

	make_branch(&key, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " INT_HOST ":5061;branch=%s", branch);
	d = route_response_via(&edge, ROLE_INTERNAL, via);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 55);
	ck_assert(!d.pool_fallback);
	ck_assert_uint_eq(d.routes_to_pop, 0);
	ck_assert(!d.record_route);
	ck_assert(!d.add_path);
	/* TLS's default port is 5061. */
	snprintf(via, sizeof(via), "SIP/2.0/TLS " INT_HOST ";branch=%s", branch);
	d = route_response_via(&edge, ROLE_INTERNAL, via);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 55);
}
END_TEST

START_TEST(test_response_external_via_may_fall_back_to_pool)
{
	char branch[VIA_BRANCH_SIZE], via[256];
	struct sip_decision d;

	make_branch(&key, 66, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 66);
	ck_assert(d.pool_fallback);
}
END_TEST

/* A user may have seen the branch of our internal Via (the pool forwards
 * it); replayed on an access connection it must not reach another user. */
START_TEST(test_response_from_wrong_side_dropped)
{
	char branch[VIA_BRANCH_SIZE], via[256];
	struct sip_decision d;

	make_branch(&key, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " INT_HOST ":5061;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Response From Wrong Side");
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_INTERNAL, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Response From Wrong Side");
}
END_TEST

START_TEST(test_response_ipv6_via)
{
	const struct sip_edge edge6 = {
		.config = &config,
		.flow_key = &key,
		.external_host = "[2001:db8::1]",
		.external_port = 443,
		.internal_host = "2001:db8::2",
		.internal_port = 5061,
	};
	char branch[VIA_BRANCH_SIZE], via[256];
	struct sip_decision d;

	make_branch(&key, 77, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS [2001:DB8:0::1]:443;branch=%s", branch);
	d = route_response_via(&edge6, ROLE_ACCESS, via);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 77);
	ck_assert(d.pool_fallback);
	snprintf(via, sizeof(via), "SIP/2.0/TLS [2001:db8::2]:5061;branch=%s", branch);
	d = route_response_via(&edge6, ROLE_INTERNAL, via);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert(!d.pool_fallback);
	snprintf(via, sizeof(via), "SIP/2.0/TLS [2001:db8::3]:5061;branch=%s", branch);
	d = route_response_via(&edge6, ROLE_INTERNAL, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Via Not Ours");
}
END_TEST

START_TEST(test_response_foreign_via_dropped)
{
	char branch[VIA_BRANCH_SIZE], via[256];
	struct sip_decision d;

	make_branch(&key, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS 192.0.2.50:5061;branch=%s", branch);
	d = route_response_via(&edge, ROLE_INTERNAL, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Via Not Ours");
	/* Our address on the wrong port. */
	snprintf(via, sizeof(via), "SIP/2.0/TLS " INT_HOST ":5062;branch=%s", branch);
	d = route_response_via(&edge, ROLE_INTERNAL, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Via Not Ours");
	/* TCP's default port is 5060. */
	snprintf(via, sizeof(via), "SIP/2.0/TCP " INT_HOST ";branch=%s", branch);
	d = route_response_via(&edge, ROLE_INTERNAL, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Via Not Ours");
}
END_TEST

START_TEST(test_response_forged_or_stale_branch_dropped)
{
	struct flow_key other = key, earlier_boot = key;
	char branch[VIA_BRANCH_SIZE], via[256];
	struct sip_decision d;

	d = route_response_via(&edge, ROLE_INTERNAL, "SIP/2.0/TLS " INT_HOST ":5061;branch=z9hG4bKclient9");
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Branch");
	d = route_response_via(&edge, ROLE_INTERNAL, "SIP/2.0/TLS " INT_HOST ":5061");
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Branch");
	other.secret[0] ^= 1;
	make_branch(&other, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Branch");
	earlier_boot.boot_id = 3;
	make_branch(&earlier_boot, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Stale Via Branch");
}
END_TEST

START_TEST(test_response_malformed_dropped)
{
	char branch[VIA_BRANCH_SIZE];
	osip_message_t *msg;
	struct sip_decision d;

	make_branch(&key, 55, branch);
	msg = parse("SIP/2.0 200 OK\r\n"
		    "Via: SIP/2.0/TLS " INT_HOST ":5061;branch=%s\r\n"
		    "From: <sip:alice@example.test>;tag=a1\r\n"
		    "To: <sip:bob@example.test>;tag=b1\r\n"
		    "CSeq: 1 INVITE\r\n"
		    "Content-Length: 0\r\n\r\n",
		    branch);
	sip_route_response(msg, ROLE_INTERNAL, &edge, &d);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Malformed Response");
	osip_message_free(msg);
}
END_TEST

/* ---- sip_uri_is_ours ---------------------------------------------------- */

static bool uri_is_ours(const struct sip_edge *on, const char *text)
{
	osip_uri_t *uri = NULL;
	bool ours;

	ck_assert_int_eq(osip_uri_init(&uri), 0);
	ck_assert_msg(osip_uri_parse(uri, text) == 0, "cannot parse %s", text);
	ours = sip_uri_is_ours(uri, on);
	osip_uri_free(uri);
	return ours;
}

START_TEST(test_uri_is_ours_ports)
{
	ck_assert(uri_is_ours(&edge, "sip:tok@127.0.0.1:443;transport=tls;lr"));
	ck_assert(uri_is_ours(&edge, "sip:127.0.0.2:5061;lr"));
	ck_assert(uri_is_ours(&edge, "sip:127.0.0.2;transport=tls"));
	ck_assert(uri_is_ours(&edge, "sip:127.0.0.2;transport=TLS;lr"));
	ck_assert(uri_is_ours(&edge, "sips:127.0.0.2"));
	ck_assert(!uri_is_ours(&edge, "sip:127.0.0.2"));
	ck_assert(!uri_is_ours(&edge, "sip:127.0.0.2;transport=tcp"));
	ck_assert(!uri_is_ours(&edge, "sip:127.0.0.1:5061"));
	ck_assert(!uri_is_ours(&edge, "sips:127.0.0.1"));
	ck_assert(!uri_is_ours(&edge, "sip:127.0.0.3:443"));
	ck_assert(!uri_is_ours(&edge, "sip:127.0.0.1:0443x"));
}
END_TEST

START_TEST(test_uri_is_ours_names_and_ipv6)
{
	const struct sip_edge named = {
		.config = &config,
		.flow_key = &key,
		.external_host = "Edge.Example.Test",
		.external_port = 443,
		.internal_host = "[2001:db8::2]",
		.internal_port = 5061,
	};

	ck_assert(uri_is_ours(&named, "sip:tok@edge.example.TEST:443;transport=tls;lr"));
	ck_assert(!uri_is_ours(&named, "sip:edge.example.test.evil:443"));
	ck_assert(!uri_is_ours(&named, "sip:example.test:443"));
	ck_assert(uri_is_ours(&named, "sip:tok@[2001:DB8::2]:5061;lr"));
	ck_assert(uri_is_ours(&named, "sip:[2001:db8:0:0::2];transport=tls"));
	ck_assert(uri_is_ours(&named, "sips:[2001:db8::2]"));
	ck_assert(!uri_is_ours(&named, "sip:[2001:db8::2]"));
	ck_assert(!uri_is_ours(&named, "sip:[2001:db8::3]:5061"));
}
END_TEST

START_TEST(test_uri_is_ours_other_schemes)
{
	osip_uri_t *uri = NULL;

	ck_assert(!sip_uri_is_ours(NULL, &edge));
	ck_assert_int_eq(osip_uri_init(&uri), 0);
	if (osip_uri_parse(uri, "tel:+15551234567") == 0)
		ck_assert(!sip_uri_is_ours(uri, &edge));
	osip_uri_free(uri);
	ck_assert(!uri_is_ours(&edge, "http://127.0.0.1:443/"));
}
END_TEST

static Suite *routing_suite(void)
{
	Suite *suite = suite_create("routing");
	TCase *access = tcase_create("access");
	TCase *internal = tcase_create("internal");
	TCase *dialog = tcase_create("dialog");
	TCase *responses = tcase_create("responses");
	TCase *uris = tcase_create("uris");

	tcase_add_test(access, test_access_invite_goes_to_pool_with_record_route);
	tcase_add_test(access, test_access_register_gets_path_not_record_route);
	tcase_add_test(access, test_access_in_dialog_request_gets_no_record_route);
	tcase_add_test(access, test_access_cancel_and_ack_get_no_record_route);
	tcase_add_test(access, test_access_pops_own_routes_of_both_sides);
	tcase_add_test(access, test_access_pop_stops_at_first_foreign_route);
	tcase_add_test(access, test_access_pop_stops_after_crossing_to_internal);
	tcase_add_test(access, test_access_foreign_from_domain_403);
	tcase_add_loop_test(access, test_request_check_failure_propagates, 0, (int)N_BROKEN);
	tcase_add_test(access, test_ack_is_dropped_never_answered);
	suite_add_tcase(suite, access);

	tcase_add_test(internal, test_internal_valid_token_goes_to_its_connection);
	tcase_add_test(internal, test_internal_pops_pair_and_takes_first_token);
	tcase_add_test(internal, test_internal_forged_token_403);
	tcase_add_test(internal, test_internal_stale_token_430);
	tcase_add_test(internal, test_internal_without_token_404);
	suite_add_tcase(suite, internal);

	tcase_add_test(dialog, test_dialog_through_record_routing_pool);
	tcase_add_test(dialog, test_dialog_through_pool_without_record_route);
	suite_add_tcase(suite, dialog);

	tcase_add_test(responses, test_response_internal_via_to_access_conn);
	tcase_add_test(responses, test_response_external_via_may_fall_back_to_pool);
	tcase_add_test(responses, test_response_ipv6_via);
	tcase_add_test(responses, test_response_from_wrong_side_dropped);
	tcase_add_test(responses, test_response_foreign_via_dropped);
	tcase_add_test(responses, test_response_forged_or_stale_branch_dropped);
	tcase_add_test(responses, test_response_malformed_dropped);
	suite_add_tcase(suite, responses);

	tcase_add_test(uris, test_uri_is_ours_ports);
	tcase_add_test(uris, test_uri_is_ours_names_and_ipv6);
	tcase_add_test(uris, test_uri_is_ours_other_schemes);
	suite_add_tcase(suite, uris);
	return suite;
}

int main(void)
{
	SRunner *runner;
	int failed;

	sip_message_init();
	runner = srunner_create(routing_suite());
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
