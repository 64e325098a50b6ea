/* SPDX-License-Identifier: ISC */
/* Unit tests for routing: one test per rule of routing.h (access,
 * internal and federation), plus whole dialogs (two remote users; a
 * partner's user and one of ours) that run routing and rewrite hop by hop
 * and check that in-dialog requests from either side reach the other. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "federation_config.h"
#include "partner_policy.h"
#include "protocols.h"
#include "reason.h"
#include "rewrite.h"
#include "federation_config.h"
#include "routing.h"
#include "test_keys.h"
#include "via_branch.h"
#include "test_suite.h"

#define EXT_HOST "127.0.0.1"
#define EXT_PORT 443
#define INT_HOST "127.0.0.2"
#define INT_PORT 5061
#define FED_HOST "127.0.0.3"
#define FED_PORT 5061

static char *domains[] = { "example.test", "example.org" };
static char *blocked[] = { "spam.test", "partner-blocked.test" };
static char *partner_edges[] = { "edge.partner.test" };
static char *blocked_partner_edges[] = { "edge.partner-blocked.test" };

/* SHA-256 pins: the partner's certificate and someone else's. */
#define PIN                                                                                     \
	{                                                                                       \
		0xab, 0xcd, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,   \
			0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, \
			0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e                                \
	}
static const unsigned char partner_pin[32] = PIN;
static const unsigned char other_pin[32] = { 0x01 };

/* partner.test: named edge, pinned; srv.test: edges by SRV; a partner
 * below a blocked domain (the block list wins). */
static struct partner_config partners[] = {
	{ .domain = "partner.test",
	  .edges = partner_edges,
	  .n_edges = 1,
	  .fingerprint_set = true,
	  .fingerprint = PIN },
	{ .domain = "srv.test" },
	{ .domain = "partner-blocked.test", .edges = blocked_partner_edges, .n_edges = 1 },
};

#define FEDERATION(is_open)                                                             \
	{                                                                               \
		.open = (is_open), .blocked = blocked, .n_blocked = 2, .queue_max = 64, \
		.connect_timeout_s = 10, .max_connections_per_address = 16              \
	}

/* Closed federation (partners only) and open federation. */
static struct federation_config closed_federation = FEDERATION(false);
static struct federation_config open_federation = FEDERATION(true);
static struct sip_config sip = {
	.partners = partners,
	.n_partners = 3,
};
static struct sxedge_config config = {
	.schema = &sxedge_protocols.schema,
	.domains = domains,
	.n_domains = 2,
	.modules = { &closed_federation, &sip },
};
static struct sxedge_config open_config = {
	.schema = &sxedge_protocols.schema,
	.domains = domains,
	.n_domains = 2,
	.modules = { &open_federation, &sip },
};

/* The wall clock of the tests, in seconds. */
#define NOW 1764547200u
/* A branch, ";sxt=" and a stamp. */
#define BRANCH_PARAMS_SIZE (VIA_BRANCH_SIZE + VIA_STAMP_SIZE + 8)

/* test_keys.h's key; main() builds it before the tests. */
static struct flow_key key;

#define HOPS                                                                                      \
	{                                                                                         \
		[ROLE_ACCESS] = { EXT_HOST, EXT_PORT }, [ROLE_INTERNAL] = { INT_HOST, INT_PORT }, \
		[ROLE_FEDERATION] = {                                                             \
			FED_HOST,                                                                 \
			FED_PORT                                                                  \
		}                                                                                 \
	}

static const struct sip_edge edge = { .config = &config, .flow_key = &key, .hops = HOPS };
static const struct sip_edge open_edge = { .config = &open_config, .flow_key = &key, .hops = HOPS };
/* An edge without a federation listener (partners configured or not). */
static const struct sip_edge edge_without_federation = {
	.config = &config,
	.flow_key = &key,
	.hops = { [ROLE_ACCESS] = { EXT_HOST, EXT_PORT },
		  [ROLE_INTERNAL] = { INT_HOST, INT_PORT } },
};

/* The partner's edge as its certificate names it. */
static char *partner_names[] = { "edge.partner.test" };
static const struct sip_peer partner_peer = {
	.role = ROLE_FEDERATION,
	.names = partner_names,
	.n_names = 1,
	.fingerprint = partner_pin,
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

/* A request METHOD for REQUEST_URI from alice@FROM_DOMAIN to
 * bob@TO_DOMAIN, with TO_PARAMS after the To URI and EXTRA header lines
 * (each ending in CRLF). */
static osip_message_t *full_request(const char *method, const char *request_uri,
				    const char *from_domain, const char *to_domain,
				    const char *to_params, const char *extra)
{
	return parse("%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKclient1\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@%s>;tag=a1\r\n"
		     "To: <sip:bob@%s>%s\r\n"
		     "Call-ID: call1@192.0.2.10\r\n"
		     "CSeq: 1 %s\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     method, request_uri, from_domain, to_domain, to_params, method, extra);
}

/* The same for sip:bob@example.test. */
static osip_message_t *request(const char *method, const char *from_domain, const char *to_params,
			       const char *extra)
{
	return full_request(method, "sip:bob@example.test", from_domain, "example.test", to_params,
			    extra);
}

/* Our Route/Record-Route entry for the side of ROLE, naming the connection
 * of TOKEN. */
static void side_uri(char *out, size_t size, const char *token, enum listener_role role)
{
	const struct sip_hop *hop = &edge.hops[role];

	snprintf(out, size, "<sip:%s%s%s:%u;transport=tls;lr>", token != NULL ? token : "",
		 token != NULL ? "@" : "", hop->host, (unsigned)hop->port);
}

/* The same for the access (EXTERNAL) or internal side. */
static void own_uri(char *out, size_t size, const char *token, bool external)
{
	side_uri(out, size, token, external ? ROLE_ACCESS : ROLE_INTERNAL);
}

static struct sip_decision route_on(const osip_message_t *msg, const struct sip_peer *peer,
				    const struct sip_edge *on)
{
	struct sip_decision decision;

	memset(&decision, 0x5a, sizeof(decision)); /* routing must set every field */
	sip_route_request(msg, peer, on, &decision);
	return decision;
}

/* Routes MSG arriving on a connection of role ARRIVAL (for federation: the
 * partner's edge) at the closed-federation edge. */
static struct sip_decision route(const osip_message_t *msg, enum listener_role arrival)
{
	struct sip_peer peer = { .role = arrival };

	if (arrival == ROLE_FEDERATION)
		peer = partner_peer;
	return route_on(msg, &peer, &edge);
}

/* Routing's domain may point into the request (a domain without a
 * [partner] section): the helpers that free the request keep a copy. */
static void keep_domain(struct sip_decision *decision)
{
	static char copy[256];

	if (decision->domain == NULL)
		return;
	ck_assert_uint_lt(strlen(decision->domain), sizeof(copy));
	strcpy(copy, decision->domain);
	decision->domain = copy;
}

/* Routes a request made by request() and frees it. */
static struct sip_decision route_request(enum listener_role arrival, const char *method,
					 const char *from_domain, const char *to_params,
					 const char *extra)
{
	osip_message_t *msg = request(method, from_domain, to_params, extra);
	struct sip_decision decision = route(msg, arrival);

	keep_domain(&decision);
	osip_message_free(msg);
	return decision;
}

static void assert_refused(const struct sip_decision *decision, enum sip_action action, int status,
			   const char *reason)
{
	ck_assert_int_eq(decision->action, action);
	ck_assert_int_eq(decision->status, status);
	ck_assert_ptr_nonnull(decision->reason);
	ck_assert_str_eq(decision->reason, reason);
	ck_assert_uint_eq(decision->routes_to_pop, 0);
	ck_assert(!decision->record_route);
	ck_assert(!decision->add_path);
	ck_assert(!decision->pool_fallback);
	ck_assert(!decision->partner_fallback);
	ck_assert_uint_eq(decision->conn_id, 0);
	ck_assert_ptr_null(decision->domain);
	ck_assert_ptr_null(decision->partner);
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
	struct sip_decision d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", "");

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

#define GOOD_VIA     "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKclient1\r\n"
#define GOOD_FROM    "From: <sip:alice@example.test>;tag=a1\r\n"
#define GOOD_TO	     "To: <sip:bob@example.test>\r\n"
#define GOOD_CALL_ID "Call-ID: call1@192.0.2.10\r\n"
#define GOOD_CSEQ    "CSeq: 1 %s\r\n"
#define GOOD_END     "Content-Length: 0\r\n\r\n"
#define START	     "%s sip:bob@example.test SIP/2.0\r\n"

static const struct broken_request broken_requests[] = {
	{ START GOOD_FROM GOOD_TO GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400 },
	{ START GOOD_VIA GOOD_TO GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400 },
	{ START GOOD_VIA GOOD_FROM GOOD_CALL_ID GOOD_CSEQ GOOD_END, 400 },
	{ START GOOD_VIA GOOD_FROM GOOD_TO GOOD_CSEQ GOOD_END, 400 },
	{ START GOOD_VIA GOOD_FROM GOOD_TO GOOD_CALL_ID GOOD_END, 400 },
	{ START GOOD_VIA GOOD_FROM GOOD_TO GOOD_CALL_ID "CSeq: 1 OPTIONS%.0s\r\n" GOOD_END, 400 },
	{ START GOOD_VIA "Max-Forwards: many\r\n" GOOD_FROM GOOD_TO GOOD_CALL_ID GOOD_CSEQ GOOD_END,
	  400 },
	{ START GOOD_VIA "Max-Forwards: 256\r\n" GOOD_FROM GOOD_TO GOOD_CALL_ID GOOD_CSEQ GOOD_END,
	  400 },
	{ START GOOD_VIA "Max-Forwards: 0\r\n" GOOD_FROM GOOD_TO GOOD_CALL_ID GOOD_CSEQ GOOD_END,
	  483 },
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
	for (int role = 0; role < ROLE_COUNT; role++) {
		osip_message_t *msg = broken((size_t)_i, "INVITE");
		struct sip_reject reject = { 0, NULL };
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
	ck_assert(!d.partner_fallback);
	ck_assert_ptr_null(d.domain);
	ck_assert_ptr_null(d.partner);
	ck_assert_int_eq(d.status, 0);
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
	snprintf(extra, sizeof(extra), "Route: %s\r\nRoute: %s\r\nRoute: <sip:ua.example.test>\r\n",
		 in, ext);
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
	struct flow_key other_secret = test_key_flipped(5, 0x10);
	char token[FLOW_TOKEN_LEN + 1], extra[256];
	struct sip_decision d;

	flow_token_seal(&other_secret, 3, token);
	snprintf(extra, sizeof(extra), "Route: <sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Invalid Flow Token");
	/* Another node id does not save a bad MAC. */
	other_secret.node_id = 2;
	flow_token_seal(&other_secret, 3, token);
	snprintf(extra, sizeof(extra), "Route: <sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Invalid Flow Token");
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "",
			  "Route: <sip:bob@" INT_HOST ":5061;transport=tls;lr>\r\n");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Invalid Flow Token");
	flow_key_clear(&other_secret);
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

/* A token another node of our pool sealed (same secret): that node's
 * connection, not a forgery.  430, so the pool tries the user's other flow
 * (RFC 5626 §5.3); a 403 would end the request. */
START_TEST(test_internal_other_node_token_430)
{
	struct flow_key other_node = key;
	char token[FLOW_TOKEN_LEN + 1], extra[256];
	struct sip_decision d;

	other_node.node_id = 2;
	flow_token_seal(&other_node, 3, token);
	snprintf(extra, sizeof(extra), "Route: <sip:%s@" INT_HOST ":5061;transport=tls;lr>\r\n",
		 token);
	d = route_request(ROLE_INTERNAL, "INVITE", "example.test", "", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 430, "Flow Failed");
	d = route_request(ROLE_INTERNAL, "BYE", "example.test", ";tag=b1", extra);
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

/* ---- Requests to partners (from the pool, no flow token) ---------------- */

/* Routes a request for REQUEST_URI from alice@FROM_DOMAIN, sent by the pool
 * to edge ON, and frees it. */
static struct sip_decision route_from_pool_to(const struct sip_edge *on, const char *method,
					      const char *request_uri, const char *from_domain,
					      const char *to_domain, const char *to_params,
					      const char *extra)
{
	osip_message_t *msg =
		full_request(method, request_uri, from_domain, to_domain, to_params, extra);
	struct sip_peer pool = { .role = ROLE_INTERNAL };
	struct sip_decision d = route_on(msg, &pool, on);

	keep_domain(&d);
	osip_message_free(msg);
	return d;
}

static struct sip_decision route_from_pool(const struct sip_edge *on, const char *method,
					   const char *request_uri, const char *from_domain,
					   const char *to_params, const char *extra)
{
	return route_from_pool_to(on, method, request_uri, from_domain, "elsewhere.test", to_params,
				  extra);
}

static void assert_to_partner(const struct sip_decision *d, const char *domain,
			      const struct partner_config *partner, unsigned routes_to_pop,
			      bool record_route)
{
	ck_assert_int_eq(d->action, SIP_ACTION_TO_PARTNER);
	ck_assert_ptr_nonnull(d->domain);
	ck_assert_str_eq(d->domain, domain);
	ck_assert_ptr_eq(d->partner, partner);
	ck_assert_uint_eq(d->routes_to_pop, routes_to_pop);
	ck_assert(d->record_route == record_route);
	ck_assert_int_eq(d->status, 0);
	ck_assert_ptr_null(d->reason);
	ck_assert_uint_eq(d->conn_id, 0);
	ck_assert(!d->add_path);
	ck_assert(!d->pool_fallback);
	ck_assert(!d->partner_fallback);
}

START_TEST(test_internal_partner_domain_goes_to_partner)
{
	struct sip_decision d;

	d = route_from_pool(&edge, "INVITE", "sip:carol@partner.test", "example.test", "", "");
	assert_to_partner(&d, "partner.test", &partners[0], 0, true);
	/* The domain is the configured spelling, whatever the request's case. */
	d = route_from_pool(&edge, "MESSAGE", "sip:carol@Partner.TEST", "example.org", "", "");
	assert_to_partner(&d, "partner.test", &partners[0], 0, true);
	/* A partner whose edges come from SRV is no different here. */
	d = route_from_pool(&edge, "SUBSCRIBE", "sip:dave@srv.test", "example.test", "", "");
	assert_to_partner(&d, "srv.test", &partners[1], 0, true);
	/* Our own Route entry without a token is popped. */
	d = route_from_pool(&edge, "INVITE", "sip:carol@partner.test", "example.test", "",
			    "Route: <sip:" INT_HOST ":5061;transport=tls;lr>, "
			    "<sip:pool.example.test;lr>\r\n");
	assert_to_partner(&d, "partner.test", &partners[0], 1, true);
}
END_TEST

START_TEST(test_internal_to_partner_record_route_only_dialog_initial)
{
	struct sip_decision d;

	d = route_from_pool(&edge, "BYE", "sip:carol@partner.test", "example.test", ";tag=c1", "");
	assert_to_partner(&d, "partner.test", &partners[0], 0, false);
	d = route_from_pool(&edge, "CANCEL", "sip:carol@partner.test", "example.test", "", "");
	assert_to_partner(&d, "partner.test", &partners[0], 0, false);
	d = route_from_pool(&edge, "ACK", "sip:carol@partner.test", "example.test", "", "");
	assert_to_partner(&d, "partner.test", &partners[0], 0, false);
	d = route_from_pool(&edge, "REGISTER", "sip:carol@partner.test", "example.test", "", "");
	assert_to_partner(&d, "partner.test", &partners[0], 0, false);
}
END_TEST

START_TEST(test_internal_open_federation_goes_to_discovered_partner)
{
	struct sip_decision d;

	d = route_from_pool(&open_edge, "INVITE", "sip:erin@open.test", "example.test", "", "");
	assert_to_partner(&d, "open.test", NULL, 0, true);
	/* Configured partners keep their section under open federation. */
	d = route_from_pool(&open_edge, "INVITE", "sip:carol@partner.test", "example.test", "", "");
	assert_to_partner(&d, "partner.test", &partners[0], 0, true);
	/* The block list still wins. */
	d = route_from_pool(&open_edge, "INVITE", "sip:x@mail.spam.test", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Blocked");
}
END_TEST

START_TEST(test_internal_blocked_domain_403)
{
	struct sip_decision d;

	d = route_from_pool(&edge, "INVITE", "sip:x@spam.test", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Blocked");
	/* Below a blocked domain, even when it is a configured partner. */
	d = route_from_pool(&edge, "INVITE", "sip:x@partner-blocked.test", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Blocked");
	d = route_from_pool(&edge, "ACK", "sip:x@spam.test", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_DROP, 0, "Domain Blocked");
}
END_TEST

START_TEST(test_internal_unknown_domain_closed_federation_403)
{
	struct sip_decision d;

	d = route_from_pool(&edge, "INVITE", "sip:erin@open.test", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Not Federated");
	/* A subdomain of a partner is another domain. */
	d = route_from_pool(&edge, "INVITE", "sip:carol@sub.partner.test", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Not Federated");
}
END_TEST

START_TEST(test_internal_to_partner_from_domain_must_be_ours)
{
	struct sip_decision d;

	d = route_from_pool(&edge, "INVITE", "sip:carol@partner.test", "srv.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Not Ours");
	d = route_from_pool(&edge, "INVITE", "sip:carol@partner.test", "partner.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Not Ours");
	d = route_from_pool(&open_edge, "MESSAGE", "sip:erin@open.test", "elsewhere.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Not Ours");
	d = route_from_pool(&edge, "ACK", "sip:carol@partner.test", "srv.test", "", "");
	assert_refused(&d, SIP_ACTION_DROP, 0, "From Domain Not Ours");
}
END_TEST

/* Without a federation listener nothing goes out to partners: every
 * request without a token is a 404, as before federation. */
START_TEST(test_internal_without_federation_side_404)
{
	static const char *const uris[] = { "sip:carol@partner.test", "sip:x@spam.test",
					    "sip:erin@open.test", "sip:bob@example.test" };
	struct sip_decision d;

	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		d = route_from_pool(&edge_without_federation, "INVITE", uris[i], "example.test", "",
				    "");
		assert_refused(&d, SIP_ACTION_REPLY, 404, "No Flow Token");
	}
	/* Our own domain with a federation side: still no token, still 404. */
	d = route_from_pool(&open_edge, "INVITE", "sip:bob@example.org", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 404, "No Flow Token");
}
END_TEST

/* The token of a federation connection goes to that connection; when it is
 * gone, the session may use the partner domain's link instead. */
START_TEST(test_internal_federation_token_has_partner_fallback)
{
	char token[FLOW_TOKEN_LEN + 1], in[128], fed[128], extra[512];
	struct sip_decision d;

	flow_token_seal(&key, 4242, token);
	own_uri(in, sizeof(in), token, false);
	side_uri(fed, sizeof(fed), token, ROLE_FEDERATION);
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", in, fed);
	/* Inside a dialog the Request-URI is a Contact; the To domain names the partner. */
	d = route_from_pool_to(&edge, "BYE", "sip:carol@192.0.2.20:5061;transport=tls",
			       "example.test", "partner.test", ";tag=c1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 4242);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	ck_assert(!d.record_route);
	ck_assert(d.partner_fallback);
	ck_assert_str_eq(d.domain, "partner.test");
	ck_assert_ptr_eq(d.partner, &partners[0]);
	ck_assert(!d.pool_fallback);
	ck_assert_int_eq(d.status, 0);
	ck_assert_ptr_null(d.reason);
	/* Open federation: a discovered domain, no section. */
	d = route_from_pool_to(&open_edge, "INFO", "sip:erin@192.0.2.21", "example.test",
			       "open.test", ";tag=c1", extra);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 4242);
	ck_assert(d.partner_fallback);
	ck_assert_str_eq(d.domain, "open.test");
	ck_assert_ptr_null(d.partner);
}
END_TEST

static void assert_to_conn_without_fallback(const struct sip_decision *d, uint64_t conn_id)
{
	ck_assert_int_eq(d->action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d->conn_id, conn_id);
	ck_assert(!d->partner_fallback);
	ck_assert_ptr_null(d->domain);
	ck_assert_ptr_null(d->partner);
}

START_TEST(test_internal_token_without_partner_fallback)
{
	char token[FLOW_TOKEN_LEN + 1], in[128], fed[128], ext[128], extra[512];
	struct sip_decision d;

	flow_token_seal(&key, 4243, token);
	own_uri(in, sizeof(in), token, false);
	own_uri(ext, sizeof(ext), token, true);
	side_uri(fed, sizeof(fed), token, ROLE_FEDERATION);
	/* A To domain of ours, an address, or a blocked domain. */
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", in, fed);
	d = route_from_pool_to(&edge, "BYE", "sip:bob@example.test", "example.test", "example.test",
			       ";tag=c1", extra);
	assert_to_conn_without_fallback(&d, 4243);
	d = route_from_pool_to(&edge, "BYE", "sip:carol@192.0.2.77:5061", "example.test",
			       "192.0.2.77", ";tag=c1", extra);
	assert_to_conn_without_fallback(&d, 4243);
	d = route_from_pool_to(&edge, "BYE", "sip:x@spam.test", "example.test", "spam.test",
			       ";tag=c1", extra);
	assert_to_conn_without_fallback(&d, 4243);
	/* A request that could not go over a link: From not ours. */
	d = route_from_pool_to(&edge, "BYE", "sip:carol@partner.test", "srv.test", "partner.test",
			       ";tag=c1", extra);
	assert_to_conn_without_fallback(&d, 4243);
	/* An access connection (our pair is internal, access): a flow that
	 * failed is a 430 for the user, not a partner link. */
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", in, ext);
	d = route_from_pool_to(&edge, "BYE", "sip:carol@partner.test", "example.test",
			       "partner.test", ";tag=c1", extra);
	assert_to_conn_without_fallback(&d, 4243);
	/* Only a Path-like entry: which side it left on is unknown. */
	snprintf(extra, sizeof(extra), "Route: %s\r\n", in);
	d = route_from_pool_to(&edge, "BYE", "sip:carol@partner.test", "example.test",
			       "partner.test", ";tag=c1", extra);
	assert_to_conn_without_fallback(&d, 4243);
	ck_assert_uint_eq(d.routes_to_pop, 1);
}
END_TEST

/* ---- Requests from federation ------------------------------------------- */

/* Routes a request for REQUEST_URI from alice@FROM_DOMAIN to bob@TO_DOMAIN
 * that arrived from PEER at edge ON, and frees it. */
static struct sip_decision route_from_partner(const struct sip_edge *on,
					      const struct sip_peer *peer, const char *method,
					      const char *request_uri, const char *from_domain,
					      const char *to_domain, const char *to_params,
					      const char *extra)
{
	osip_message_t *msg =
		full_request(method, request_uri, from_domain, to_domain, to_params, extra);
	struct sip_decision d = route_on(msg, peer, on);

	keep_domain(&d);
	osip_message_free(msg);
	return d;
}

/* The same for an INVITE (or METHOD) from FROM_DOMAIN to bob@example.test. */
static struct sip_decision partner_sends(const struct sip_edge *on, const struct sip_peer *peer,
					 const char *method, const char *from_domain)
{
	return route_from_partner(on, peer, method, "sip:bob@example.test", from_domain,
				  "example.test", "", "");
}

/* "Route: " our federation then internal entry, as a partner's in-dialog
 * request carries them (we Record-Route every dialog across federation). */
static void crossing_routes(char *out, size_t size)
{
	char token[FLOW_TOKEN_LEN + 1], fed[128], in[128];

	flow_token_seal(&key, 3, token);
	side_uri(fed, sizeof(fed), token, ROLE_FEDERATION);
	own_uri(in, sizeof(in), token, false);
	snprintf(out, size, "Route: %s, %s\r\n", fed, in);
}

static void assert_to_pool_from(const struct sip_decision *d, const char *domain,
				const struct partner_config *partner, unsigned routes_to_pop,
				bool record_route)
{
	ck_assert_int_eq(d->action, SIP_ACTION_TO_POOL);
	ck_assert_ptr_nonnull(d->domain);
	ck_assert_str_eq(d->domain, domain);
	ck_assert_ptr_eq(d->partner, partner);
	ck_assert_uint_eq(d->routes_to_pop, routes_to_pop);
	ck_assert(d->record_route == record_route);
	ck_assert_int_eq(d->status, 0);
	ck_assert_ptr_null(d->reason);
	ck_assert_uint_eq(d->conn_id, 0);
	ck_assert(!d->add_path);
	ck_assert(!d->pool_fallback);
	ck_assert(!d->partner_fallback);
}

static void assert_discover(const struct sip_decision *d, const char *domain,
			    const struct partner_config *partner)
{
	ck_assert_int_eq(d->action, SIP_ACTION_DISCOVER);
	ck_assert_ptr_nonnull(d->domain);
	ck_assert_str_eq(d->domain, domain);
	ck_assert_ptr_eq(d->partner, partner);
	ck_assert_int_eq(d->status, 0);
	ck_assert_ptr_null(d->reason);
	ck_assert_uint_eq(d->routes_to_pop, 0);
	ck_assert(!d->record_route);
	ck_assert(!d->add_path);
	ck_assert(!d->pool_fallback);
	ck_assert(!d->partner_fallback);
}

START_TEST(test_federation_bound_partner_goes_to_pool)
{
	struct sip_decision d = partner_sends(&edge, &partner_peer, "INVITE", "partner.test");
	char routes[512];

	assert_to_pool_from(&d, "partner.test", &partners[0], 0, true);
	d = partner_sends(&edge, &partner_peer, "MESSAGE", "Partner.TEST");
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, true);
	crossing_routes(routes, sizeof(routes));
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@192.0.2.99:5062",
			       "partner.test", "example.org", ";tag=b1", routes);
	assert_to_pool_from(&d, "partner.test", &partners[0], 2, false);
	d = partner_sends(&edge, &partner_peer, "CANCEL", "partner.test");
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, false);
	d = partner_sends(&edge, &partner_peer, "ACK", "partner.test");
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, false);
	/* A wildcard certificate matches one label (RFC 6125). */
	{
		char *wildcard[] = { "other.test", "*.partner.test" };
		struct sip_peer peer = partner_peer;

		peer.names = wildcard;
		peer.n_names = 2;
		d = partner_sends(&edge, &peer, "INVITE", "partner.test");
		assert_to_pool_from(&d, "partner.test", &partners[0], 0, true);
	}
}
END_TEST

START_TEST(test_federation_blocked_domain_403)
{
	struct sip_decision d = partner_sends(&edge, &partner_peer, "INVITE", "spam.test");

	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Blocked");
	d = partner_sends(&open_edge, &partner_peer, "MESSAGE", "a.b.spam.test");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Blocked");
	/* The block list wins over a [partner] section, whatever the certificate. */
	{
		char *names[] = { "edge.partner-blocked.test" };
		struct sip_peer peer = { .role = ROLE_FEDERATION, .names = names, .n_names = 1 };

		d = partner_sends(&edge, &peer, "INVITE", "partner-blocked.test");
		assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Blocked");
	}
	d = partner_sends(&edge, &partner_peer, "ACK", "spam.test");
	assert_refused(&d, SIP_ACTION_DROP, 0, "Domain Blocked");
}
END_TEST

/* An outsider must not speak for our users, even with a good certificate. */
START_TEST(test_federation_from_our_domain_403)
{
	struct sip_decision d = partner_sends(&edge, &partner_peer, "INVITE", "example.test");

	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Is Ours");
	d = partner_sends(&open_edge, &partner_peer, "MESSAGE", "EXAMPLE.org");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Is Ours");
}
END_TEST

START_TEST(test_federation_unknown_domain_closed_403)
{
	struct sip_decision d = partner_sends(&edge, &partner_peer, "INVITE", "open.test");

	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Not Federated");
	d = partner_sends(&edge, &partner_peer, "INVITE", "sub.partner.test");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Not Federated");
}
END_TEST

START_TEST(test_federation_certificate_of_another_edge_403)
{
	char *names[] = { "edge.srv.test", "partner.test", "x.edge.partner.test" };
	struct sip_peer peer = {
		.role = ROLE_FEDERATION, .names = names, .n_names = 3, .fingerprint = partner_pin
	};
	struct sip_decision d = partner_sends(&edge, &peer, "INVITE", "partner.test");

	assert_refused(&d, SIP_ACTION_REPLY, 403, "Certificate Does Not Match Domain");
	ck_assert_str_eq(d.reason, partner_binding_reason(BINDING_NAME_MISMATCH));
	/* No identities at all. */
	peer.n_names = 0;
	d = partner_sends(&edge, &peer, "INVITE", "partner.test");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Certificate Does Not Match Domain");
	d = partner_sends(&edge, &peer, "ACK", "partner.test");
	assert_refused(&d, SIP_ACTION_DROP, 0, "Certificate Does Not Match Domain");
}
END_TEST

START_TEST(test_federation_certificate_pin_mismatch_403)
{
	struct sip_peer peer = partner_peer;
	struct sip_decision d;

	peer.fingerprint = other_pin;
	d = partner_sends(&edge, &peer, "INVITE", "partner.test");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Certificate Pin Mismatch");
	ck_assert_str_eq(d.reason, partner_binding_reason(BINDING_FINGERPRINT_MISMATCH));
	peer.fingerprint = NULL;
	d = partner_sends(&edge, &peer, "INVITE", "partner.test");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Certificate Pin Mismatch");
}
END_TEST

/* A partner without `edge` is checked against its SRV targets, which the
 * session looks up when routing asks for them. */
START_TEST(test_federation_partner_by_srv_discovers_then_binds)
{
	char *names[] = { "sip2.srv.test" };
	char *targets[] = { "sip1.srv.test", "sip2.srv.test" };
	char *other_targets[] = { "sip1.srv.test" };
	struct sip_peer peer = { .role = ROLE_FEDERATION, .names = names, .n_names = 1 };
	struct sip_decision d;

	d = partner_sends(&edge, &peer, "INVITE", "srv.test");
	assert_discover(&d, "srv.test", &partners[1]);
	/* Targets found for another domain do not count. */
	peer.discovered_domain = "partner.test";
	peer.discovered = targets;
	peer.n_discovered = 2;
	d = partner_sends(&edge, &peer, "INVITE", "srv.test");
	assert_discover(&d, "srv.test", &partners[1]);
	peer.discovered_domain = "SRV.test";
	d = partner_sends(&edge, &peer, "INVITE", "srv.test");
	assert_to_pool_from(&d, "srv.test", &partners[1], 0, true);
	peer.discovered = other_targets;
	peer.n_discovered = 1;
	d = partner_sends(&edge, &peer, "INVITE", "srv.test");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Certificate Does Not Match Domain");
	/* An ACK waits for the look-up too: it is not a refusal. */
	peer.discovered_domain = NULL;
	d = partner_sends(&edge, &peer, "ACK", "srv.test");
	assert_discover(&d, "srv.test", &partners[1]);
}
END_TEST

START_TEST(test_federation_open_domain_discovers_then_binds)
{
	char *names[] = { "sip.open.test" };
	char *targets[] = { "sip.open.test" };
	struct sip_peer peer = { .role = ROLE_FEDERATION, .names = names, .n_names = 1 };
	struct sip_decision d;

	d = partner_sends(&open_edge, &peer, "INVITE", "open.test");
	assert_discover(&d, "open.test", NULL);
	peer.discovered_domain = "open.test";
	peer.discovered = targets;
	peer.n_discovered = 1;
	d = partner_sends(&open_edge, &peer, "INVITE", "open.test");
	assert_to_pool_from(&d, "open.test", NULL, 0, true);
	/* Another open domain on the same connection needs its own look-up. */
	d = partner_sends(&open_edge, &peer, "INVITE", "other-open.test");
	assert_discover(&d, "other-open.test", NULL);
	/* A configured partner binds by its section, not by discovery. */
	d = partner_sends(&open_edge, &partner_peer, "INVITE", "partner.test");
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, true);
	/* The targets found do not name the peer. */
	peer.discovered = partner_names;
	d = partner_sends(&open_edge, &peer, "INVITE", "open.test");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Certificate Does Not Match Domain");
}
END_TEST

START_TEST(test_federation_to_domain_not_ours_403)
{
	struct sip_decision d;

	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@example.test",
			       "partner.test", "srv.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "To Domain Not Ours");
	/* In a dialog too. */
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@192.0.2.99", "partner.test",
			       "elsewhere.test", ";tag=b1", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "To Domain Not Ours");
	/* The From check comes first. */
	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@example.test", "spam.test",
			       "srv.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Domain Blocked");
}
END_TEST

START_TEST(test_federation_request_uri_not_ours_403)
{
	struct sip_decision d;
	char routes[512];

	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@srv.test", "partner.test",
			       "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Request-URI Domain Not Ours");
	d = route_from_partner(&edge, &partner_peer, "MESSAGE", "sip:bob@192.0.2.99:5062",
			       "partner.test", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Request-URI Domain Not Ours");
	/* The To check comes first. */
	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@srv.test", "partner.test",
			       "srv.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "To Domain Not Ours");
	/* In a dialog (our Route entries) the Request-URI is a Contact: not
	 * checked. */
	crossing_routes(routes, sizeof(routes));
	d = route_from_partner(&edge, &partner_peer, "INFO", "sip:bob@192.0.2.99:5062",
			       "partner.test", "example.test", ";tag=b1", routes);
	assert_to_pool_from(&d, "partner.test", &partners[0], 2, false);
}
END_TEST

/* A To tag alone does not make a dialog: anyone can write one.  Without our
 * Route entries, the Request-URI must be ours as for a new request. */
START_TEST(test_federation_to_tag_without_our_route_403)
{
	char token[FLOW_TOKEN_LEN + 1], uri[128], extra[512];
	struct sip_decision d;

	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@srv.test", "partner.test",
			       "example.test", ";tag=forged", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Request-URI Domain Not Ours");
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@192.0.2.99:5062",
			       "partner.test", "example.test", ";tag=forged", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Request-URI Domain Not Ours");
	/* Someone else's Route, or ours only further down, is no dialog of ours. */
	flow_token_seal(&key, 3, token);
	side_uri(uri, sizeof(uri), token, ROLE_FEDERATION);
	snprintf(extra, sizeof(extra), "Route: <sip:proxy.partner.test;lr>, %s\r\n", uri);
	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@srv.test", "partner.test",
			       "example.test", ";tag=forged", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Request-URI Domain Not Ours");
	/* Nor is our access side's entry: it is not part of a crossing from
	 * federation. */
	own_uri(uri, sizeof(uri), token, true);
	snprintf(extra, sizeof(extra), "Route: %s\r\n", uri);
	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@srv.test", "partner.test",
			       "example.test", ";tag=forged", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Request-URI Domain Not Ours");
	/* With our Route (even one entry of the pair), it goes on. */
	side_uri(uri, sizeof(uri), token, ROLE_FEDERATION);
	snprintf(extra, sizeof(extra), "Route: %s\r\n", uri);
	d = route_from_partner(&edge, &partner_peer, "INVITE", "sip:bob@srv.test", "partner.test",
			       "example.test", ";tag=b1", extra);
	assert_to_pool_from(&d, "partner.test", &partners[0], 1, false);
	/* A Request-URI of ours needs no Route, tag or not. */
	d = route_from_partner(&edge, &partner_peer, "INFO", "sip:bob@example.test", "partner.test",
			       "example.test", ";tag=b1", "");
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, false);
}
END_TEST

/* The review's bypass: a Route naming our federation side, with no token,
 * made a request with a To tag pass for one of our dialogs and reach the
 * pool for a foreign Request-URI.  Our address alone is nobody's proof. */
START_TEST(test_forged_own_route_403)
{
	char token[FLOW_TOKEN_LEN + 1], forged[FLOW_TOKEN_LEN + 1], uri[160], extra[512];
	struct sip_decision d;

	snprintf(extra, sizeof(extra), "Route: <sip:%s:%u;transport=tls;lr>\r\n", FED_HOST,
		 FED_PORT);
	d = route_from_partner(&edge, &partner_peer, "MESSAGE", "sip:bob@10.1.2.3", "partner.test",
			       "example.test", ";tag=t1", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Forged Route");
	/* A token of the right form that we did not seal. */
	flow_token_seal(&key, 3, token);
	memcpy(forged, token, sizeof(forged));
	forged[FLOW_TOKEN_LEN - 1] = forged[FLOW_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
	side_uri(uri, sizeof(uri), forged, ROLE_FEDERATION);
	snprintf(extra, sizeof(extra), "Route: %s\r\n", uri);
	d = route_from_partner(&edge, &partner_peer, "MESSAGE", "sip:bob@10.1.2.3", "partner.test",
			       "example.test", ";tag=t1", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Forged Route");
	/* Further down the list, and on any of our sides, too. */
	side_uri(uri, sizeof(uri), NULL, ROLE_INTERNAL);
	snprintf(extra, sizeof(extra), "Route: <sip:proxy.example.net;lr>, %s\r\n", uri);
	d = route_request(ROLE_ACCESS, "BYE", "example.test", ";tag=b1", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Forged Route");
	/* Sealed by us, the same request is one of our dialogs. */
	side_uri(uri, sizeof(uri), token, ROLE_FEDERATION);
	snprintf(extra, sizeof(extra), "Route: %s\r\n", uri);
	d = route_from_partner(&edge, &partner_peer, "MESSAGE", "sip:bob@10.1.2.3", "partner.test",
			       "example.test", ";tag=t1", extra);
	assert_to_pool_from(&d, "partner.test", &partners[0], 1, false);
}
END_TEST

/* A fully qualified name ("example.test.") is the same domain in From, To
 * and the Request-URI. */
START_TEST(test_trailing_dot_domains)
{
	struct sip_decision d;

	d = route_request(ROLE_ACCESS, "MESSAGE", "example.test.", "", "");
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	d = route_from_partner(&edge, &partner_peer, "MESSAGE", "sip:bob@example.test.",
			       "partner.test.", "example.test.", "", "");
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, true);
	d = route_from_partner(&edge, &partner_peer, "MESSAGE", "sip:bob@example.test.",
			       "example.test.", "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "From Domain Is Ours");
}
END_TEST

START_TEST(test_federation_register_403)
{
	struct sip_decision d;

	d = route_from_partner(&edge, &partner_peer, "REGISTER", "sip:example.test", "partner.test",
			       "example.test", "", "");
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Registration Not Allowed");
}
END_TEST

START_TEST(test_federation_pops_own_routes_of_crossing)
{
	char a[FLOW_TOKEN_LEN + 1], c[FLOW_TOKEN_LEN + 1];
	char fed_c[128], int_c[128], int_a[128], ext_a[128], extra[1024];
	struct sip_decision d;

	flow_token_seal(&key, 1, a);
	flow_token_seal(&key, 3, c);
	side_uri(fed_c, sizeof(fed_c), c, ROLE_FEDERATION);
	own_uri(int_c, sizeof(int_c), c, false);
	own_uri(int_a, sizeof(int_a), a, false);
	own_uri(ext_a, sizeof(ext_a), a, true);
	snprintf(extra, sizeof(extra), "Route: %s, %s, <sip:pool.example.test;lr>\r\n", fed_c,
		 int_c);
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@192.0.2.99", "partner.test",
			       "example.test", ";tag=b1", extra);
	assert_to_pool_from(&d, "partner.test", &partners[0], 2, false);
	/* Stops after the internal entry (a pool that does not Record-Route). */
	snprintf(extra, sizeof(extra), "Route: %s, %s, %s, %s\r\n", fed_c, int_c, int_a, ext_a);
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@192.0.2.99", "partner.test",
			       "example.test", ";tag=b1", extra);
	assert_to_pool_from(&d, "partner.test", &partners[0], 2, false);
	/* Our access side is not part of a crossing from federation: nothing
	 * popped, and no dialog of ours, so the Request-URI is checked. */
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", ext_a, int_a);
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@example.test", "partner.test",
			       "example.test", ";tag=b1", extra);
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, false);
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@192.0.2.99", "partner.test",
			       "example.test", ";tag=b1", extra);
	assert_refused(&d, SIP_ACTION_REPLY, 403, "Request-URI Domain Not Ours");
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", fed_c, ext_a);
	d = route_from_partner(&edge, &partner_peer, "BYE", "sip:bob@192.0.2.99", "partner.test",
			       "example.test", ";tag=b1", extra);
	assert_to_pool_from(&d, "partner.test", &partners[0], 1, false);
}
END_TEST

/* ---- Whole dialogs ------------------------------------------------------ */

#define CONN_ALICE 101
#define CONN_BOB   202
#define CONN_POOL  303
#define POOL_RR	   "<sip:pool.example.test:5061;transport=tls;lr>"

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

		used += (size_t)snprintf(out + used, size - used, "%s%s", i == 0 ? "Route: " : ", ",
					 uri);
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
/* What the edge does to REQUEST arriving on ARRIVAL_CONN: route it, and
 * rewrite it as the session would when it leaves on the side of DEPARTURE
 * (which the session knows from the connection routing names).  The flow
 * token is the external connection's.  Returns the decision. */
/* MSG (freed) as the next hop reads it after the edge relayed it with
 * REWRITE, or, without one, as a response. */
static osip_message_t *crossed(osip_message_t *msg, const struct sip_request_rewrite *rewrite)
{
	char *text = NULL, *out;
	size_t len = 0, out_len = 0;

	ck_assert_int_eq(osip_message_to_str(msg, &text, &len), 0);
	struct sip_message *received = sip_message_read(text, len);
	ck_assert_ptr_nonnull(received);
	out = rewrite != NULL ? sip_request_forward(received, rewrite, &out_len)
			      : sip_response_forward(received, &out_len);
	ck_assert_ptr_nonnull(out);
	osip_message_t *next = sip_message_parse(out, out_len);
	ck_assert_ptr_nonnull(next);
	free(out);
	sip_message_free(received);
	osip_free(text);
	osip_message_free(msg);
	return next;
}

static struct sip_decision edge_crosses(osip_message_t **msgp, const struct sip_peer *peer,
					uint64_t arrival_conn, enum listener_role departure)
{
	char token[FLOW_TOKEN_LEN + 1], branch[VIA_BRANCH_SIZE], stamp[VIA_STAMP_SIZE];
	struct sip_decision d = route_on(*msgp, peer, &edge);
	bool from_outside = peer->role != ROLE_INTERNAL;
	struct sip_request_rewrite rewrite = {
		.routes_to_pop = d.routes_to_pop,
		.arrival = edge.hops[peer->role],
		.departure = edge.hops[departure],
		.branch = branch,
		.stamp = stamp,
		.flow_token = token,
		.record_route = d.record_route,
		.add_path = d.add_path,
	};

	ck_assert(d.action == SIP_ACTION_TO_POOL || d.action == SIP_ACTION_TO_CONN);
	flow_token_seal(&key, from_outside ? arrival_conn : d.conn_id, token);
	via_branch_make(&key, arrival_conn, *msgp, branch);
	via_stamp_make(&key, branch, NOW, stamp);
	*msgp = crossed(*msgp, &rewrite);
	return d;
}

/* The same between access and internal. */
static struct sip_decision edge_relays(osip_message_t **msg, enum listener_role arrival,
				       uint64_t arrival_conn)
{
	struct sip_peer peer = { .role = arrival };

	return edge_crosses(msg, &peer, arrival_conn,
			    arrival == ROLE_ACCESS ? ROLE_INTERNAL : ROLE_ACCESS);
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
	d = edge_relays(&msg, ROLE_ACCESS, CONN_ALICE);
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
	d = edge_relays(&msg, ROLE_INTERNAL, CONN_POOL);
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
	d = edge_relays(&msg, ROLE_ACCESS, CONN_BOB);
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
	d = edge_relays(&msg, ROLE_INTERNAL, CONN_POOL);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, CONN_ALICE);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	ck_assert_uint_eq(osip_list_size(&msg->routes), 0);
	osip_message_free(msg);

	/* 4. Alice's BYE: her route set is the Record-Route of the 200 OK
	 * (what Bob got) reversed. */
	route_header(route_line, sizeof(route_line), &at_bob, true);
	msg = dialog_request("BYE", "alice", "bob", ";tag=t1", route_line, "");
	d = edge_relays(&msg, ROLE_ACCESS, CONN_ALICE);
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
	d = edge_relays(&msg, ROLE_INTERNAL, CONN_POOL);
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

/* ---- A dialog across federation ----------------------------------------- */

#define CONN_CAROL    404
#define CAROL_VIA     "SIP/2.0/TLS edge.partner.test:5061;branch=z9hG4bKcarol1"
#define ALICE_CONTACT "sip:alice@192.0.2.10:5062;transport=tls"
#define CAROL_CONTACT "sip:carol@partner.test;gr=urn:uuid:c1"
#define FED_VIA_START "SIP/2.0/TLS " FED_HOST ":5061;branch="

static void vias_of(const osip_message_t *msg, struct uri_list *list)
{
	list->count = 0;
	for (int i = 0; i < osip_list_size(&msg->vias); i++) {
		osip_via_t *via = osip_list_get(&msg->vias, i);
		char *text = NULL;

		ck_assert_int_eq(osip_via_to_str(via, &text), 0);
		uri_list_add(list, text);
		osip_free(text);
	}
}

/* "Via: v\r\n" lines from LIST[FIRST..]. */
static void via_lines(char *out, size_t size, const struct uri_list *list, int first)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = first; i < list->count; i++)
		used += (size_t)snprintf(out + used, size - used, "Via: %s\r\n", list->items[i]);
}

/* A request from FROM (user@domain) to TO in the dialog of Carol and Alice. */
static osip_message_t *crossing_request(const char *method, const char *request_uri,
					const char *vias, const char *from, const char *to,
					const char *to_tag, const char *route_line,
					const char *record_route)
{
	return parse("%s %s SIP/2.0\r\n"
		     "%s"
		     "Max-Forwards: 70\r\n"
		     "%s%s"
		     "From: <sip:%s>;tag=f1\r\n"
		     "To: <sip:%s>%s\r\n"
		     "Call-ID: federated1@edge.partner.test\r\n"
		     "CSeq: 2 %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     method, request_uri, vias, route_line, record_route, from, to, to_tag, method);
}

/* Alice's 200 OK to the INVITE as it arrives on ARRIVAL with VIAS[FIRST..]:
 * routed and rewritten.  Returns the decision; REMAINING gets the Vias left. */
static struct sip_decision response_crosses(const struct uri_list *vias, int first,
					    enum listener_role arrival, struct uri_list *remaining)
{
	char via_text[2048];
	osip_message_t *msg;
	struct sip_decision d;

	via_lines(via_text, sizeof(via_text), vias, first);
	msg = parse("SIP/2.0 200 OK\r\n"
		    "%s"
		    "From: <sip:carol@partner.test>;tag=f1\r\n"
		    "To: <sip:alice@example.test>;tag=a2\r\n"
		    "Call-ID: federated1@edge.partner.test\r\n"
		    "CSeq: 2 INVITE\r\n"
		    "Contact: <" ALICE_CONTACT ">\r\n"
		    "Content-Length: 0\r\n\r\n",
		    via_text);
	memset(&d, 0x5a, sizeof(d));
	sip_route_response(msg, arrival, &edge, NOW, &d);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	msg = crossed(msg, NULL);
	vias_of(msg, remaining);
	osip_message_free(msg);
	return d;
}

/* Strips the pool's own Route entry (it Record-Routes) from ROUTES. */
static void pool_pops_itself(struct uri_list *routes)
{
	ck_assert_int_ge(routes->count, 1);
	ck_assert_str_eq(routes->items[0], POOL_RR);
	memmove(routes->items[0], routes->items[1], sizeof(routes->items[0]) * 7);
	routes->count--;
}

/* Carol (partner.test, over a federation connection) calls Alice (ours,
 * registered over access, so the pool has her Path) through the pool,
 * which Record-Routes; Alice answers; then each sends BYE along the route
 * set and reaches the other. */
START_TEST(test_dialog_across_federation)
{
	struct uri_list from_carol, at_alice, vias, remaining, expected;
	char route_line[1024], record_route[1024], via_text[2048], uri[160];
	char token_alice[FLOW_TOKEN_LEN + 1], token_carol[FLOW_TOKEN_LEN + 1];
	struct sip_peer pool = { .role = ROLE_INTERNAL };
	struct sip_decision d;
	osip_message_t *msg;

	flow_token_seal(&key, CONN_ALICE, token_alice);
	flow_token_seal(&key, CONN_CAROL, token_carol);

	/* 1. Carol's INVITE reaches our federation side from her edge. */
	msg = crossing_request("INVITE", "sip:alice@example.test", "Via: " CAROL_VIA "\r\n",
			       "carol@partner.test", "alice@example.test", "", "", "");
	d = edge_crosses(&msg, &partner_peer, CONN_CAROL, ROLE_INTERNAL);
	assert_to_pool_from(&d, "partner.test", &partners[0], 0, true);
	record_routes_of(msg, &from_carol);
	vias_of(msg, &vias);
	osip_message_free(msg);
	ck_assert_int_eq(from_carol.count, 2);
	own_uri(uri, sizeof(uri), token_carol, false);
	ck_assert_str_eq(from_carol.items[0], uri);
	side_uri(uri, sizeof(uri), token_carol, ROLE_FEDERATION);
	ck_assert_str_eq(from_carol.items[1], uri);

	/* 2. The pool record-routes and sends it to Alice along her Path. */
	own_uri(uri, sizeof(uri), token_alice, false);
	snprintf(route_line, sizeof(route_line), "Route: %s\r\n", uri);
	snprintf(record_route, sizeof(record_route), "Record-Route: " POOL_RR ", %s, %s\r\n",
		 from_carol.items[0], from_carol.items[1]);
	snprintf(via_text, sizeof(via_text),
		 "Via: SIP/2.0/TLS pool.example.test:5061;branch=z9hG4bKpool1\r\n"
		 "Via: %s\r\nVia: %s\r\n",
		 vias.items[0], vias.items[1]);
	msg = crossing_request("INVITE", ALICE_CONTACT, via_text, "carol@partner.test",
			       "alice@example.test", "", route_line, record_route);
	d = edge_crosses(&msg, &pool, CONN_POOL, ROLE_ACCESS);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, CONN_ALICE);
	ck_assert(d.record_route);
	ck_assert(!d.partner_fallback);
	ck_assert_uint_eq(osip_list_size(&msg->routes), 0);
	record_routes_of(msg, &at_alice);
	vias_of(msg, &vias);
	osip_message_free(msg);
	expected.count = 0;
	own_uri(uri, sizeof(uri), token_alice, true);
	uri_list_add(&expected, uri);
	own_uri(uri, sizeof(uri), token_alice, false);
	uri_list_add(&expected, uri);
	uri_list_add(&expected, POOL_RR);
	uri_list_add(&expected, from_carol.items[0]);
	uri_list_add(&expected, from_carol.items[1]);
	ck_assert_int_eq(at_alice.count, expected.count);
	for (int i = 0; i < expected.count; i++)
		ck_assert_str_eq(at_alice.items[i], expected.items[i]);
	ck_assert_int_eq(vias.count, 4);

	/* 3. Alice's 200 OK comes back over access to the pool connection... */
	d = response_crosses(&vias, 0, ROLE_ACCESS, &remaining);
	ck_assert_uint_eq(d.conn_id, CONN_POOL);
	ck_assert(d.pool_fallback);
	ck_assert_int_eq(remaining.count, 3);
	/* ...and, the pool's Via removed, from the pool to Carol's connection. */
	d = response_crosses(&remaining, 1, ROLE_INTERNAL, &remaining);
	ck_assert_uint_eq(d.conn_id, CONN_CAROL);
	ck_assert(!d.pool_fallback);
	ck_assert_int_eq(remaining.count, 1);
	ck_assert_str_eq(remaining.items[0], CAROL_VIA);

	/* 4. Carol's BYE (route set: the Record-Route reversed) pops our pair
	 * for her side and goes to the pool... */
	route_header(route_line, sizeof(route_line), &at_alice, true);
	msg = crossing_request("BYE", ALICE_CONTACT, "Via: " CAROL_VIA "\r\n", "carol@partner.test",
			       "alice@example.test", ";tag=a2", route_line, "");
	d = edge_crosses(&msg, &partner_peer, CONN_CAROL, ROLE_INTERNAL);
	assert_to_pool_from(&d, "partner.test", &partners[0], 2, false);
	routes_of(msg, &remaining);
	osip_message_free(msg);
	ck_assert_int_eq(remaining.count, 3);
	/* ...which sends it on to our internal side, then to Alice. */
	pool_pops_itself(&remaining);
	route_header(route_line, sizeof(route_line), &remaining, false);
	msg = crossing_request("BYE", ALICE_CONTACT, "Via: " CAROL_VIA "\r\n", "carol@partner.test",
			       "alice@example.test", ";tag=a2", route_line, "");
	d = edge_crosses(&msg, &pool, CONN_POOL, ROLE_ACCESS);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, CONN_ALICE);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	ck_assert(!d.partner_fallback);
	ck_assert_uint_eq(osip_list_size(&msg->routes), 0);
	osip_message_free(msg);

	/* 5. Alice's BYE (route set: the Record-Route as received) goes to
	 * the pool... */
	route_header(route_line, sizeof(route_line), &at_alice, false);
	msg = crossing_request(
		"BYE", CAROL_CONTACT, "Via: SIP/2.0/TLS 192.0.2.10:5062;branch=z9hG4bKalice2\r\n",
		"alice@example.test", "carol@partner.test", ";tag=f1", route_line, "");
	d = edge_relays(&msg, ROLE_ACCESS, CONN_ALICE);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_POOL);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	routes_of(msg, &remaining);
	osip_message_free(msg);
	ck_assert_int_eq(remaining.count, 3);
	/* ...and from the pool over Carol's federation connection, or over
	 * a new link to partner.test if that connection is gone. */
	pool_pops_itself(&remaining);
	route_header(route_line, sizeof(route_line), &remaining, false);
	msg = crossing_request(
		"BYE", CAROL_CONTACT, "Via: SIP/2.0/TLS 192.0.2.10:5062;branch=z9hG4bKalice2\r\n",
		"alice@example.test", "carol@partner.test", ";tag=f1", route_line, "");
	d = edge_crosses(&msg, &pool, CONN_POOL, ROLE_FEDERATION);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, CONN_CAROL);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	ck_assert(!d.record_route);
	ck_assert(d.partner_fallback);
	ck_assert_str_eq(d.domain, "partner.test");
	ck_assert_ptr_eq(d.partner, &partners[0]);
	ck_assert_uint_eq(osip_list_size(&msg->routes), 0);
	/* It leaves with our Via of the federation side on top. */
	vias_of(msg, &vias);
	ck_assert_int_eq(vias.count, 2);
	ck_assert_msg(strncmp(vias.items[0], FED_VIA_START, strlen(FED_VIA_START)) == 0,
		      "top Via %s", vias.items[0]);
	osip_message_free(msg);
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

/* "BRANCH;sxt=STAMP": the branch and stamp the edge WITH made for a request
 * it relayed from connection CONN at time AT. */
static void make_branch_at(const struct flow_key *with, uint64_t conn, uint64_t at,
			   char out[BRANCH_PARAMS_SIZE])
{
	osip_message_t *msg = request("INVITE", "example.test", "", "");
	char stamp[VIA_STAMP_SIZE];

	via_branch_make(with, conn, msg, out);
	via_stamp_make(with, out, at, stamp);
	strcat(out, ";" VIA_STAMP_PARAM "=");
	strcat(out, stamp);
	osip_message_free(msg);
}

static void make_branch(const struct flow_key *with, uint64_t conn, char out[BRANCH_PARAMS_SIZE])
{
	make_branch_at(with, conn, NOW, out);
}

static struct sip_decision route_response_via(const struct sip_edge *on, enum listener_role arrival,
					      const char *top_via)
{
	osip_message_t *msg = response(top_via);
	struct sip_decision d;

	memset(&d, 0x5a, sizeof(d));
	sip_route_response(msg, arrival, on, NOW, &d);
	osip_message_free(msg);
	return d;
}

START_TEST(test_response_internal_via_to_access_conn)
{
	char branch[BRANCH_PARAMS_SIZE], via[320];
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
	char branch[BRANCH_PARAMS_SIZE], via[320];
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
	char branch[BRANCH_PARAMS_SIZE], via[320];
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
		.hops = { [ROLE_ACCESS] = { "[2001:db8::1]", 443 },
			  [ROLE_INTERNAL] = { "2001:db8::2", 5061 } },
	};
	char branch[BRANCH_PARAMS_SIZE], via[320];
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
	char branch[BRANCH_PARAMS_SIZE], via[320];
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
	/* The copies share the key's secret; other has its own. */
	struct flow_key other = test_key_flipped(0, 1), earlier_boot = key, other_node = key;
	char branch[BRANCH_PARAMS_SIZE], via[320];
	struct sip_decision d;

	d = route_response_via(&edge, ROLE_INTERNAL,
			       "SIP/2.0/TLS " INT_HOST ":5061;branch=z9hG4bKclient9");
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Branch");
	d = route_response_via(&edge, ROLE_INTERNAL, "SIP/2.0/TLS " INT_HOST ":5061");
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Branch");
	make_branch(&other, 55, branch);
	flow_key_clear(&other);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Branch");
	/* Our branch with another stamp's, or none. */
	make_branch(&key, 55, branch);
	char other_branch[BRANCH_PARAMS_SIZE];
	make_branch(&key, 56, other_branch);
	strcpy(strstr(branch, ";sxt="), strstr(other_branch, ";sxt="));
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Stamp");
	*strstr(branch, ";sxt=") = '\0';
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Forged Via Stamp");
	/* A stamp older than the bound, or from the future: a replay. */
	make_branch_at(&key, 55, NOW - VIA_STAMP_MAX_AGE - 1, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Expired Via Stamp");
	make_branch_at(&key, 55, NOW + 5, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Expired Via Stamp");
	make_branch_at(&key, 55, NOW - VIA_STAMP_MAX_AGE, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	earlier_boot.boot_id = 3;
	make_branch(&earlier_boot, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Stale Via Branch");
	/* Another node of a pool sharing our secret: stale too (dropped all
	 * the same). */
	other_node.node_id = 2;
	make_branch(&other_node, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Stale Via Branch");
}
END_TEST

START_TEST(test_response_federation_via_from_partner)
{
	char branch[BRANCH_PARAMS_SIZE], via[320];
	struct sip_decision d;

	make_branch(&key, 88, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " FED_HOST ":5061;branch=%s", branch);
	d = route_response_via(&edge, ROLE_FEDERATION, via);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_CONN);
	ck_assert_uint_eq(d.conn_id, 88);
	ck_assert(d.pool_fallback);
	ck_assert(!d.partner_fallback);
	ck_assert_ptr_null(d.domain);
	ck_assert_ptr_null(d.partner);
	ck_assert_ptr_null(d.reason);
	ck_assert_uint_eq(d.routes_to_pop, 0);
	ck_assert(!d.record_route);
}
END_TEST

/* A branch seen by a partner or a user is no key to another side. */
START_TEST(test_response_federation_wrong_side_dropped)
{
	char branch[BRANCH_PARAMS_SIZE], via[320];
	struct sip_decision d;

	make_branch(&key, 88, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " FED_HOST ":5061;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Response From Wrong Side");
	d = route_response_via(&edge, ROLE_INTERNAL, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Response From Wrong Side");
	snprintf(via, sizeof(via), "SIP/2.0/TLS " EXT_HOST ":443;branch=%s", branch);
	d = route_response_via(&edge, ROLE_FEDERATION, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Response From Wrong Side");
	snprintf(via, sizeof(via), "SIP/2.0/TLS " INT_HOST ":5061;branch=%s", branch);
	d = route_response_via(&edge, ROLE_FEDERATION, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Response From Wrong Side");
	/* Without a federation listener its host:port is nobody's. */
	snprintf(via, sizeof(via), "SIP/2.0/TLS " FED_HOST ":5061;branch=%s", branch);
	d = route_response_via(&edge_without_federation, ROLE_FEDERATION, via);
	assert_refused(&d, SIP_ACTION_DROP, 0, "Via Not Ours");
}
END_TEST

START_TEST(test_response_malformed_dropped)
{
	char branch[BRANCH_PARAMS_SIZE];
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
	sip_route_response(msg, ROLE_INTERNAL, &edge, NOW, &d);
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
		.hops = { [ROLE_ACCESS] = { "Edge.Example.Test", 443 },
			  [ROLE_INTERNAL] = { "[2001:db8::2]", 5061 },
			  [ROLE_FEDERATION] = { "sip.example.test", 5061 } },
	};

	ck_assert(uri_is_ours(&named, "sip:tok@edge.example.TEST:443;transport=tls;lr"));
	ck_assert(!uri_is_ours(&named, "sip:edge.example.test.evil:443"));
	ck_assert(!uri_is_ours(&named, "sip:example.test:443"));
	ck_assert(uri_is_ours(&named, "sip:tok@[2001:DB8::2]:5061;lr"));
	ck_assert(uri_is_ours(&named, "sip:[2001:db8:0:0::2];transport=tls"));
	ck_assert(uri_is_ours(&named, "sips:[2001:db8::2]"));
	ck_assert(uri_is_ours(&named, "sip:SIP.example.test:5061;transport=tls;lr"));
	ck_assert(!uri_is_ours(&named, "sip:sip.example.test:5062;transport=tls;lr"));
	ck_assert(!uri_is_ours(&named, "sip:[2001:db8::2]"));
	ck_assert(!uri_is_ours(&named, "sip:[2001:db8::3]:5061"));
}
END_TEST

START_TEST(test_uri_is_ours_federation_side)
{
	ck_assert(uri_is_ours(&edge, "sip:tok@127.0.0.3:5061;transport=tls;lr"));
	ck_assert(uri_is_ours(&edge, "sips:127.0.0.3"));
	ck_assert(!uri_is_ours(&edge, "sip:127.0.0.3"));
	ck_assert(!uri_is_ours(&edge, "sip:127.0.0.3:443;transport=tls"));
	/* A side without a listener names nothing. */
	ck_assert(!uri_is_ours(&edge_without_federation, "sip:tok@127.0.0.3:5061;lr"));
	ck_assert(uri_is_ours(&edge_without_federation, "sip:tok@127.0.0.1:443;lr"));
	ck_assert(uri_is_ours(&edge_without_federation, "sips:127.0.0.2"));
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

/* The pool's request whose named connection is gone: a partner edge can
 * be reached again over its link, a user cannot (430, RFC 5626 §5.3). */
START_TEST(test_flow_gone_falls_back_to_partner_or_430)
{
	char token[FLOW_TOKEN_LEN + 1], in[128], fed[128], ext[128], extra[512];
	struct sip_decision d;

	flow_token_seal(&key, 4244, token);
	own_uri(in, sizeof(in), token, false);
	side_uri(fed, sizeof(fed), token, ROLE_FEDERATION);
	own_uri(ext, sizeof(ext), token, true);
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", in, fed);
	d = route_from_pool_to(&edge, "BYE", "sip:carol@192.0.2.20:5061;transport=tls",
			       "example.test", "partner.test", ";tag=c1", extra);
	sip_route_flow_gone(&d);
	ck_assert_int_eq(d.action, SIP_ACTION_TO_PARTNER);
	ck_assert_str_eq(d.domain, "partner.test");
	ck_assert_ptr_eq(d.partner, &partners[0]);
	ck_assert_uint_eq(d.routes_to_pop, 2);
	/* A user's flow: nothing to fall back to. */
	snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", in, ext);
	d = route_from_pool_to(&edge, "BYE", "sip:bob@192.0.2.30", "example.test", "example.test",
			       ";tag=c1", extra);
	ck_assert(!d.partner_fallback);
	sip_route_flow_gone(&d);
	assert_refused(&d, SIP_ACTION_REPLY, 430, "Flow Failed");
	ck_assert_int_eq(d.code, SIP_REASON_FLOW_FAILED);
}
END_TEST

/* A response towards the pool (pool_fallback) takes only a pool link, and
 * another one when its own is gone; a response towards a user or partner
 * takes only that external connection. */
START_TEST(test_response_target_sides)
{
	struct sip_decision towards_pool = { .action = SIP_ACTION_TO_CONN, .pool_fallback = true };
	struct sip_decision towards_user = { .action = SIP_ACTION_TO_CONN, .pool_fallback = false };

	ck_assert_int_eq(sip_route_response_target(&towards_pool, true, ROLE_INTERNAL),
			 SIP_RESPONSE_TO_CONN);
	ck_assert_int_eq(sip_route_response_target(&towards_pool, false, ROLE_INTERNAL),
			 SIP_RESPONSE_TO_POOL);
	/* A branch naming a user's connection on a response from outside. */
	ck_assert_int_eq(sip_route_response_target(&towards_pool, true, ROLE_ACCESS),
			 SIP_RESPONSE_TO_POOL);
	ck_assert_int_eq(sip_route_response_target(&towards_pool, true, ROLE_FEDERATION),
			 SIP_RESPONSE_TO_POOL);
	ck_assert_int_eq(sip_route_response_target(&towards_user, true, ROLE_ACCESS),
			 SIP_RESPONSE_TO_CONN);
	ck_assert_int_eq(sip_route_response_target(&towards_user, true, ROLE_FEDERATION),
			 SIP_RESPONSE_TO_CONN);
	/* Gone, or a pool link named by a response from the pool. */
	ck_assert_int_eq(sip_route_response_target(&towards_user, false, ROLE_ACCESS),
			 SIP_RESPONSE_DROP);
	ck_assert_int_eq(sip_route_response_target(&towards_user, true, ROLE_INTERNAL),
			 SIP_RESPONSE_DROP);
}
END_TEST

/* Every refusal and drop carries the name of its reason, whose phrase is
 * the one it answers or logs with. */
START_TEST(test_decisions_name_their_reason)
{
	char branch[BRANCH_PARAMS_SIZE], via[320];
	struct sip_decision d;

	d = route_request(ROLE_ACCESS, "INVITE", "evil.test", "", "");
	ck_assert_int_eq(d.code, SIP_REASON_FROM_DOMAIN_NOT_SERVED);
	ck_assert_str_eq(d.reason, sip_reason_phrase(d.code));
	ck_assert_str_eq(sip_reason_name(d.code), "from_domain_not_served");
	make_branch(&key, 55, branch);
	snprintf(via, sizeof(via), "SIP/2.0/TLS " INT_HOST ":5061;branch=%s", branch);
	d = route_response_via(&edge, ROLE_ACCESS, via);
	ck_assert_int_eq(d.code, SIP_REASON_RESPONSE_FROM_WRONG_SIDE);
	ck_assert_str_eq(sip_reason_name(d.code), "response_from_wrong_side");
}
END_TEST

static Suite *routing_suite(void)
{
	Suite *suite = suite_create("routing");
	TCase *access = tcase_create("access");
	TCase *internal = tcase_create("internal");
	TCase *to_partner = tcase_create("to_partner");
	TCase *federation = tcase_create("federation");
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
	tcase_add_test(internal, test_internal_other_node_token_430);
	tcase_add_test(internal, test_internal_without_token_404);
	tcase_add_test(internal, test_internal_federation_token_has_partner_fallback);
	tcase_add_test(internal, test_internal_token_without_partner_fallback);
	tcase_add_test(internal, test_flow_gone_falls_back_to_partner_or_430);
	suite_add_tcase(suite, internal);

	tcase_add_test(to_partner, test_internal_partner_domain_goes_to_partner);
	tcase_add_test(to_partner, test_internal_to_partner_record_route_only_dialog_initial);
	tcase_add_test(to_partner, test_internal_open_federation_goes_to_discovered_partner);
	tcase_add_test(to_partner, test_internal_blocked_domain_403);
	tcase_add_test(to_partner, test_internal_unknown_domain_closed_federation_403);
	tcase_add_test(to_partner, test_internal_to_partner_from_domain_must_be_ours);
	tcase_add_test(to_partner, test_internal_without_federation_side_404);
	suite_add_tcase(suite, to_partner);

	tcase_add_test(federation, test_federation_bound_partner_goes_to_pool);
	tcase_add_test(federation, test_federation_blocked_domain_403);
	tcase_add_test(federation, test_federation_from_our_domain_403);
	tcase_add_test(federation, test_federation_unknown_domain_closed_403);
	tcase_add_test(federation, test_federation_certificate_of_another_edge_403);
	tcase_add_test(federation, test_federation_certificate_pin_mismatch_403);
	tcase_add_test(federation, test_federation_partner_by_srv_discovers_then_binds);
	tcase_add_test(federation, test_federation_open_domain_discovers_then_binds);
	tcase_add_test(federation, test_federation_to_domain_not_ours_403);
	tcase_add_test(federation, test_federation_request_uri_not_ours_403);
	tcase_add_test(federation, test_federation_to_tag_without_our_route_403);
	tcase_add_test(federation, test_federation_register_403);
	tcase_add_test(federation, test_forged_own_route_403);
	tcase_add_test(federation, test_trailing_dot_domains);
	tcase_add_test(federation, test_federation_pops_own_routes_of_crossing);
	suite_add_tcase(suite, federation);

	tcase_add_test(dialog, test_dialog_through_record_routing_pool);
	tcase_add_test(dialog, test_dialog_through_pool_without_record_route);
	tcase_add_test(dialog, test_dialog_across_federation);
	suite_add_tcase(suite, dialog);

	tcase_add_test(responses, test_response_internal_via_to_access_conn);
	tcase_add_test(responses, test_response_external_via_may_fall_back_to_pool);
	tcase_add_test(responses, test_response_ipv6_via);
	tcase_add_test(responses, test_response_from_wrong_side_dropped);
	tcase_add_test(responses, test_response_foreign_via_dropped);
	tcase_add_test(responses, test_response_forged_or_stale_branch_dropped);
	tcase_add_test(responses, test_response_federation_via_from_partner);
	tcase_add_test(responses, test_response_federation_wrong_side_dropped);
	tcase_add_test(responses, test_response_malformed_dropped);
	tcase_add_test(responses, test_response_target_sides);
	tcase_add_test(responses, test_decisions_name_their_reason);
	suite_add_tcase(suite, responses);

	tcase_add_test(uris, test_uri_is_ours_ports);
	tcase_add_test(uris, test_uri_is_ours_names_and_ipv6);
	tcase_add_test(uris, test_uri_is_ours_federation_side);
	tcase_add_test(uris, test_uri_is_ours_other_schemes);
	suite_add_tcase(suite, uris);
	return suite;
}

int main(void)
{
	sip_message_init();
	if (test_key_build(&key, 0, 0) != 0) {
		fprintf(stderr, "test_routing: no HMAC-SHA256 key\n");
		return EXIT_FAILURE;
	}
	int status = test_suite_run(routing_suite());
	flow_key_clear(&key);
	return status;
}
