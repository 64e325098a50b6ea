/* SPDX-License-Identifier: ISC */
/* Unit tests for s2s_receiver: the negotiation of streams partners (public
 * flavour) and the internal server (internal flavour) open to the edge,
 * driven through the real stream parser with what Prosody sends, asserting
 * what the machine sends back and asks for at each step. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "dialback_key.h"
#include "namespaces.h"
#include "s2s_receiver.h"
#include "stream_parser.h"
#include "test_suite.h"
#include "xml_write.h"

#define OURS	"example.test"
#define PARTNER "partner.test"
#define SECRET	"dialback secret of the edge"
#define STREAM	"edge-stream-1"

#define PARTNER_HEADER                                                        \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "          \
	"xmlns:stream='http://etherx.jabber.org/streams' "                    \
	"xmlns:db='jabber:server:dialback' to='" OURS "' from='" PARTNER "' " \
	"version='1.0'>"
#define INTERNAL_HEADER                                                     \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "        \
	"xmlns:stream='http://etherx.jabber.org/streams' to='" PARTNER "' " \
	"from='" OURS "' version='1.0'>"

static struct {
	struct s2s_receiver *receiver;
	struct xmpp_parser *parser;
	struct evbuffer *sent; /* everything the machine sent */
	bool restart; /* asked for, not yet done */
	unsigned start_tls, ready, restarts;
	char authenticated[4][2][64];
	bool by_certificate[4];
	unsigned n_authenticated;
	struct evbuffer *stanzas; /* what it passed on, re-serialised */
	bool failed;
	enum xmpp_stream_error error;
	const char *reason;
	char verify[4][64]; /* verify_dialback: "local remote key stream" */
	unsigned n_verify;
} t;

/* ---- the machine's owner ---- */

static void on_send(void *arg, const char *data, size_t len)
{
	(void)arg;
	evbuffer_add(t.sent, data, len);
}

static void on_start_tls(void *arg)
{
	(void)arg;
	t.start_tls++;
}

static void on_restart(void *arg)
{
	(void)arg;
	t.restart = true;
	t.restarts++;
}

static void on_authenticated(void *arg, const char *local, const char *remote, bool certificate)
{
	(void)arg;
	ck_assert_uint_lt(t.n_authenticated, 4);
	strcpy(t.authenticated[t.n_authenticated][0], local);
	strcpy(t.authenticated[t.n_authenticated][1], remote);
	t.by_certificate[t.n_authenticated++] = certificate;
}

static void on_ready(void *arg)
{
	(void)arg;
	t.ready++;
}

static void on_stanza(void *arg, struct xml_element *stanza)
{
	(void)arg;
	ck_assert_int_eq(xml_write_element(t.stanzas, stanza, XMPP_SERVER_NAMESPACE), 0);
	xml_element_free(stanza);
}

static void on_failed(void *arg, enum xmpp_stream_error error, const char *reason)
{
	(void)arg;
	ck_assert(!t.failed);
	t.failed = true;
	t.error = error;
	t.reason = reason;
}

static bool public_local(void *arg, const char *domain)
{
	(void)arg;
	return strcmp(domain, OURS) == 0;
}

static bool public_remote(void *arg, const char *domain)
{
	(void)arg;
	return strcmp(domain, PARTNER) == 0 || strcmp(domain, "second.test") == 0;
}

static void on_verify(void *arg, const char *local, const char *remote, const char *key,
		      const char *stream_id)
{
	(void)arg;
	ck_assert_uint_lt(t.n_verify, 4);
	snprintf(t.verify[t.n_verify++], sizeof(t.verify[0]), "%s %s %.20s %s", local, remote, key,
		 stream_id);
}

static bool parser_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	(void)arg;
	return s2s_receiver_stream_open(t.receiver, header, default_ns);
}

static bool parser_element(void *arg, struct xml_element *element)
{
	(void)arg;
	return s2s_receiver_element(t.receiver, element);
}

static void parser_close(void *arg)
{
	(void)arg;
	s2s_receiver_stream_close(t.receiver);
}

static const struct xmpp_parser_events parser_events = {
	.stream_open = parser_open,
	.element = parser_element,
	.stream_close = parser_close,
};

static const struct s2s_actions actions = {
	.send = on_send,
	.start_tls = on_start_tls,
	.restart = on_restart,
	.authenticated = on_authenticated,
	.ready = on_ready,
	.stanza = on_stanza,
	.failed = on_failed,
};

static void start(enum s2s_receiver_flavour flavour, bool bidi)
{
	struct xmpp_limits limits;
	const struct s2s_receiver_settings settings = {
		.flavour = flavour,
		.stream_id = STREAM,
		.dialback_secret = flavour == S2S_RECEIVER_PUBLIC ? SECRET : NULL,
		.offer_bidi = bidi,
		.offer_dialback = true,
	};
	/* Internal: the header's to is the partner we answer as, and the
	 * server is one of ours. */
	const struct s2s_receiver_policy policy = {
		.local_allowed = flavour == S2S_RECEIVER_PUBLIC ? public_local : public_remote,
		.remote_allowed = flavour == S2S_RECEIVER_PUBLIC ? public_remote : public_local,
		.verify_dialback = on_verify,
	};

	memset(&t, 0, sizeof(t));
	t.sent = evbuffer_new();
	t.stanzas = evbuffer_new();
	xmpp_limits_default(&limits);
	t.parser = xmpp_parser_new(&limits, &parser_events, NULL);
	t.receiver = s2s_receiver_new(&settings, &policy, &actions, NULL);
	ck_assert_ptr_nonnull(t.parser);
	ck_assert_ptr_nonnull(t.receiver);
}

static void teardown(void)
{
	s2s_receiver_free(t.receiver);
	xmpp_parser_free(t.parser);
	evbuffer_free(t.sent);
	evbuffer_free(t.stanzas);
}

/* Feeds TEXT as the peer sends it, restarting the parser when asked. */
static void peer_sends(const char *text)
{
	size_t length = strlen(text), used;

	while (length > 0 && !t.failed) {
		enum xmpp_stream_error error = xmpp_parser_feed(t.parser, text, length, &used);
		ck_assert_msg(error == XMPP_STREAM_OK, "parser refused: %s",
			      xmpp_stream_error_name(error));
		if (t.restart) {
			t.restart = false;
			ck_assert_int_eq(xmpp_parser_restart(t.parser), 0);
		} else if (used < length) {
			break; /* the machine stopped the parser for good */
		}
		text += used;
		length -= used;
	}
}

/* What the machine sent since the last call, as a string (static). */
static const char *sent(void)
{
	static char text[8192];
	size_t length = evbuffer_remove(t.sent, text, sizeof(text) - 1);
	text[length] = '\0';
	return text;
}

static void tls_up(bool verified, const char *name)
{
	char *names[] = { (char *)name };
	const struct s2s_peer_certificate peer = {
		.verified = verified,
		.names = names,
		.n_names = name != NULL ? 1 : 0,
	};
	s2s_receiver_tls_up(t.receiver, &peer);
	if (t.restart) {
		t.restart = false;
		ck_assert_int_eq(xmpp_parser_restart(t.parser), 0);
	}
}

static void expect_failure(enum xmpp_stream_error error, const char *reason)
{
	ck_assert(t.failed);
	ck_assert_str_eq(t.reason, reason);
	ck_assert_int_eq(t.error, error);
	ck_assert_int_eq(s2s_receiver_state(t.receiver), S2S_RECEIVER_CLOSED);
	const char *out = sent();
	char condition[80];
	snprintf(condition, sizeof(condition), "<%s xmlns='%s'/>", xmpp_stream_error_name(error),
		 XMPP_STREAM_ERRORS_NAMESPACE);
	if (error != XMPP_STREAM_OK)
		ck_assert_msg(strstr(out, condition) != NULL, "no %s in: %s", condition, out);
	ck_assert_msg(strstr(out, "</stream:stream>") != NULL, "stream not closed: %s", out);
}

/* The public path up to the header over TLS, with the peer's certificate. */
static void public_over_tls(bool verified, const char *name)
{
	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends(PARTNER_HEADER);
	const char *out = sent();
	ck_assert_ptr_nonnull(strstr(out, "from='" OURS "'"));
	ck_assert_ptr_nonnull(strstr(out, "id='" STREAM "'"));
	ck_assert_ptr_nonnull(
		strstr(out, "<starttls xmlns='" XMPP_TLS_NAMESPACE "'><required/></starttls>"));
	ck_assert_int_eq(s2s_receiver_state(t.receiver), S2S_RECEIVER_AWAIT_STARTTLS);
	peer_sends("<starttls xmlns='" XMPP_TLS_NAMESPACE "'/>");
	ck_assert_str_eq(sent(), "<proceed xmlns='" XMPP_TLS_NAMESPACE "'/>");
	ck_assert_uint_eq(t.start_tls, 1);
	tls_up(verified, name);
	ck_assert_uint_eq(t.restarts, 1);
	peer_sends(PARTNER_HEADER);
}

static const char *const message =
	"<message from='alice@" PARTNER "/phone' to='bob@" OURS "' type='chat'>"
	"<body>hi bob</body></message>";

START_TEST(test_public_sasl_external)
{
	public_over_tls(true, PARTNER);
	const char *out = sent();
	ck_assert_ptr_nonnull(strstr(out, "<mechanism>EXTERNAL</mechanism>"));
	ck_assert_ptr_nonnull(
		strstr(out, "<dialback xmlns='" XMPP_DIALBACK_FEATURE_NAMESPACE "'>"));
	ck_assert_ptr_null(strstr(out, "starttls"));
	ck_assert_int_eq(s2s_receiver_state(t.receiver), S2S_RECEIVER_AWAIT_AUTH);

	/* "=": no authzid, the header's from is the identity. */
	peer_sends("<auth xmlns='" XMPP_SASL_NAMESPACE "' mechanism='EXTERNAL'>=</auth>");
	ck_assert_str_eq(sent(), "<success xmlns='" XMPP_SASL_NAMESPACE "'/>");
	ck_assert_uint_eq(t.n_authenticated, 1);
	ck_assert_str_eq(t.authenticated[0][0], OURS);
	ck_assert_str_eq(t.authenticated[0][1], PARTNER);
	ck_assert(t.by_certificate[0]);
	ck_assert_uint_eq(t.restarts, 2);
	ck_assert_uint_eq(t.ready, 0);
	peer_sends(PARTNER_HEADER);
	ck_assert_uint_eq(t.ready, 1);
	ck_assert_int_eq(s2s_receiver_state(t.receiver), S2S_RECEIVER_ESTABLISHED);
	sent();

	peer_sends(message);
	char stanzas[512];
	size_t length = evbuffer_remove(t.stanzas, stanzas, sizeof(stanzas) - 1);
	stanzas[length] = '\0';
	ck_assert_str_eq(stanzas, message);
	ck_assert(!t.failed);
}
END_TEST

/* The authzid given as base64 of the domain is the same identity. */
START_TEST(test_public_sasl_authzid)
{
	public_over_tls(true, "*.partner.test");
	sent();
	/* A wildcard does not name the domain itself (RFC 6125 §6.4.3). */
	peer_sends("<auth xmlns='" XMPP_SASL_NAMESPACE
		   "' mechanism='EXTERNAL'>cGFydG5lci50ZXN0</auth>");
	ck_assert_ptr_nonnull(
		strstr(sent(), "<failure xmlns='" XMPP_SASL_NAMESPACE "'><not-authorized/>"));
	ck_assert_uint_eq(t.n_authenticated, 0);
	ck_assert(!t.failed);
	/* Another authzid than the header's from. */
	peer_sends("<auth xmlns='" XMPP_SASL_NAMESPACE
		   "' mechanism='EXTERNAL'>c2Vjb25kLnRlc3Q=</auth>");
	expect_failure(XMPP_STREAM_NOT_AUTHORIZED, "sasl_authzid");
}
END_TEST

START_TEST(test_public_sasl_authzid_decoded)
{
	public_over_tls(true, PARTNER);
	sent();
	peer_sends("<auth xmlns='" XMPP_SASL_NAMESPACE
		   "' mechanism='EXTERNAL'>cGFydG5lci50ZXN0</auth>");
	ck_assert_str_eq(sent(), "<success xmlns='" XMPP_SASL_NAMESPACE "'/>");
	ck_assert_uint_eq(t.n_authenticated, 1);
}
END_TEST

START_TEST(test_public_starttls_required)
{
	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends(PARTNER_HEADER);
	sent();
	peer_sends(message);
	expect_failure(XMPP_STREAM_POLICY_VIOLATION, "starttls_required");
	ck_assert_uint_eq(evbuffer_get_length(t.stanzas), 0);
}
END_TEST

START_TEST(test_public_header_checks)
{
	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
		   "streams' to='elsewhere.test' from='" PARTNER "' version='1.0'>");
	expect_failure(XMPP_STREAM_HOST_UNKNOWN, "stream_to_not_served");
	teardown();

	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
		   "streams' to='" OURS "' from='blocked.test' version='1.0'>");
	expect_failure(XMPP_STREAM_POLICY_VIOLATION, "domain_not_federated");
	teardown();

	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
		   "streams' to='" OURS "' version='1.0'>");
	expect_failure(XMPP_STREAM_INVALID_NAMESPACE, "stream_namespace");
	teardown();

	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
		   "streams' to='" OURS "'>");
	expect_failure(XMPP_STREAM_UNSUPPORTED_VERSION, "stream_version");
}
END_TEST

/* Over TLS the header may not change its to or from. */
START_TEST(test_public_header_may_not_change)
{
	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends(PARTNER_HEADER "<starttls xmlns='" XMPP_TLS_NAMESPACE "'/>");
	tls_up(true, PARTNER);
	sent();
	peer_sends("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
		   "streams' to='" OURS "' from='second.test' version='1.0'>");
	expect_failure(XMPP_STREAM_INVALID_FROM, "stream_from_invalid");
}
END_TEST

/* A certificate that does not name the domain: SASL fails, dialback is
 * asked of the authoritative server and its verdict taken. */
START_TEST(test_public_dialback)
{
	public_over_tls(true, "other.test");
	sent();
	peer_sends("<db:result xmlns:db='jabber:server:dialback' from='" PARTNER "' to='" OURS
		   "'>0123456789abcdef</db:result>");
	ck_assert_uint_eq(t.n_verify, 1);
	ck_assert_str_eq(t.verify[0], OURS " " PARTNER " 0123456789abcdef " STREAM);
	ck_assert_str_eq(sent(), "");
	ck_assert_uint_eq(t.ready, 0);
	/* Stanzas before the verdict: not yet. */
	s2s_receiver_dialback_verdict(t.receiver, OURS, PARTNER, true);
	const char *out = sent();
	ck_assert_ptr_nonnull(strstr(out, "<result xmlns='" XMPP_DIALBACK_NAMESPACE "'"));
	ck_assert_ptr_nonnull(strstr(out, "type='valid'"));
	ck_assert_uint_eq(t.n_authenticated, 1);
	ck_assert(!t.by_certificate[0]);
	ck_assert_uint_eq(t.ready, 1);
	peer_sends(message);
	ck_assert_uint_gt(evbuffer_get_length(t.stanzas), 0);
	/* A from the stream never authenticated is a spoof. */
	peer_sends("<message from='mallory@second.test' to='bob@" OURS
		   "'><body>x</body></message>");
	expect_failure(XMPP_STREAM_INVALID_FROM, "stanza_from_not_authenticated");
}
END_TEST

/* Without dialback offered, a certificate that does not name the domain
 * leaves nothing to try: <db:result/> is out of place. */
START_TEST(test_public_no_dialback)
{
	start(S2S_RECEIVER_PUBLIC, false);
	s2s_receiver_free(t.receiver);
	const struct s2s_receiver_settings settings = { .flavour = S2S_RECEIVER_PUBLIC,
							.stream_id = STREAM,
							.dialback_secret = SECRET };
	const struct s2s_receiver_policy policy = { .local_allowed = public_local,
						    .remote_allowed = public_remote };
	t.receiver = s2s_receiver_new(&settings, &policy, &actions, NULL);
	peer_sends(PARTNER_HEADER "<starttls xmlns='" XMPP_TLS_NAMESPACE "'/>");
	tls_up(true, "other.test");
	sent();
	peer_sends(PARTNER_HEADER);
	const char *out = sent();
	ck_assert_ptr_nonnull(strstr(out, "EXTERNAL"));
	ck_assert_ptr_null(strstr(out, "dialback"));
	peer_sends("<db:result xmlns:db='jabber:server:dialback' from='" PARTNER "' to='" OURS
		   "'>key</db:result>");
	ck_assert_uint_eq(t.n_verify, 0);
	expect_failure(XMPP_STREAM_UNSUPPORTED_STANZA_TYPE, "element_out_of_place");
}
END_TEST

START_TEST(test_public_dialback_invalid)
{
	public_over_tls(false, NULL);
	const char *out = sent();
	ck_assert_ptr_null(strstr(out, "EXTERNAL"));
	peer_sends("<db:result xmlns:db='jabber:server:dialback' from='" PARTNER "' to='" OURS
		   "'>bad</db:result>");
	s2s_receiver_dialback_verdict(t.receiver, OURS, PARTNER, false);
	ck_assert_uint_eq(t.n_authenticated, 0);
	expect_failure(XMPP_STREAM_NOT_AUTHORIZED, "dialback_invalid");
}
END_TEST

START_TEST(test_public_stanza_before_authentication)
{
	public_over_tls(true, PARTNER);
	sent();
	peer_sends(message);
	expect_failure(XMPP_STREAM_NOT_AUTHORIZED, "stanza_before_authentication");
	ck_assert_uint_eq(evbuffer_get_length(t.stanzas), 0);
}
END_TEST

START_TEST(test_public_stanza_to_not_ours)
{
	public_over_tls(true, PARTNER);
	peer_sends("<auth xmlns='" XMPP_SASL_NAMESPACE "' mechanism='EXTERNAL'>=</auth>");
	peer_sends(PARTNER_HEADER);
	sent();
	peer_sends("<message from='alice@" PARTNER "' to='bob@elsewhere.test'/>");
	expect_failure(XMPP_STREAM_HOST_UNKNOWN, "stanza_to_not_served");
}
END_TEST

/* As the authoritative server for our domain: the key we gave checks. */
START_TEST(test_public_answers_db_verify)
{
	char key[XMPP_DIALBACK_KEY_SIZE], element[400];

	xmpp_dialback_key(SECRET, PARTNER, OURS, "their-stream-7", key);
	public_over_tls(false, NULL);
	sent();
	snprintf(element, sizeof(element),
		 "<db:verify xmlns:db='jabber:server:dialback' from='" PARTNER "' to='" OURS
		 "' id='their-stream-7'>%s</db:verify>",
		 key);
	peer_sends(element);
	const char *out = sent();
	ck_assert_ptr_nonnull(strstr(out, "<verify xmlns='" XMPP_DIALBACK_NAMESPACE "'"));
	ck_assert_ptr_nonnull(strstr(out, "type='valid'"));
	ck_assert_ptr_nonnull(strstr(out, "id='their-stream-7'"));
	peer_sends("<db:verify xmlns:db='jabber:server:dialback' from='" PARTNER "' to='" OURS
		   "' id='their-stream-8'>0000</db:verify>");
	ck_assert_ptr_nonnull(strstr(sent(), "type='invalid'"));
	ck_assert_uint_eq(t.n_authenticated, 0);
	ck_assert(!t.failed);
}
END_TEST

START_TEST(test_public_peer_closes)
{
	start(S2S_RECEIVER_PUBLIC, false);
	peer_sends(PARTNER_HEADER "</stream:stream>");
	expect_failure(XMPP_STREAM_OK, "peer_closed_stream");
}
END_TEST

/* The internal server, TLS first: its certificate names one of ours and
 * the header asks for the partner the edge answers as. */
START_TEST(test_internal_sasl_external)
{
	start(S2S_RECEIVER_INTERNAL, true);
	tls_up(true, OURS);
	ck_assert_uint_eq(t.restarts, 0);
	peer_sends(INTERNAL_HEADER);
	const char *out = sent();
	ck_assert_ptr_nonnull(strstr(out, "from='" PARTNER "'"));
	ck_assert_ptr_nonnull(strstr(out, "<mechanism>EXTERNAL</mechanism>"));
	ck_assert_ptr_nonnull(strstr(out, "<bidi xmlns='" XMPP_BIDI_FEATURE_NAMESPACE "'/>"));
	ck_assert_ptr_null(strstr(out, "dialback"));
	peer_sends("<bidi xmlns='" XMPP_BIDI_NAMESPACE "'/>"
		   "<auth xmlns='" XMPP_SASL_NAMESPACE "' mechanism='EXTERNAL'>=</auth>");
	ck_assert(s2s_receiver_bidi(t.receiver));
	ck_assert_str_eq(sent(), "<success xmlns='" XMPP_SASL_NAMESPACE "'/>");
	ck_assert_str_eq(t.authenticated[0][0], PARTNER);
	ck_assert_str_eq(t.authenticated[0][1], OURS);
	peer_sends(INTERNAL_HEADER "<message from='bob@" OURS "/desk' to='alice@" PARTNER
				   "'><body>hi</body>"
				   "</message>");
	ck_assert_uint_eq(t.ready, 1);
	ck_assert_uint_gt(evbuffer_get_length(t.stanzas), 0);
	ck_assert(!t.failed);
}
END_TEST

START_TEST(test_internal_refusals)
{
	/* A client certificate of somebody else. */
	start(S2S_RECEIVER_INTERNAL, false);
	tls_up(true, "elsewhere.test");
	peer_sends(INTERNAL_HEADER);
	expect_failure(XMPP_STREAM_NOT_AUTHORIZED, "client_certificate_not_ours");
	teardown();

	/* None at all. */
	start(S2S_RECEIVER_INTERNAL, false);
	tls_up(false, NULL);
	expect_failure(XMPP_STREAM_NOT_AUTHORIZED, "client_certificate_missing");
	teardown();

	/* Asking the edge to answer as one of our own domains. */
	start(S2S_RECEIVER_INTERNAL, false);
	tls_up(true, OURS);
	peer_sends("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
		   "streams' to='" OURS "' from='" OURS "' version='1.0'>");
	expect_failure(XMPP_STREAM_HOST_UNKNOWN, "stream_to_not_served");
	teardown();

	/* Dialback has no place on the internal link. */
	start(S2S_RECEIVER_INTERNAL, false);
	tls_up(true, OURS);
	peer_sends(INTERNAL_HEADER "<db:result xmlns:db='jabber:server:dialback' from='" OURS
				   "' to='" PARTNER "'>k</db:result>");
	expect_failure(XMPP_STREAM_UNSUPPORTED_STANZA_TYPE, "element_out_of_place");
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("s2s_receiver");
	TCase *tcase = tcase_create("s2s_receiver");
	tcase_add_checked_fixture(tcase, NULL, teardown);
	tcase_add_test(tcase, test_public_sasl_external);
	tcase_add_test(tcase, test_public_sasl_authzid);
	tcase_add_test(tcase, test_public_sasl_authzid_decoded);
	tcase_add_test(tcase, test_public_starttls_required);
	tcase_add_test(tcase, test_public_header_checks);
	tcase_add_test(tcase, test_public_header_may_not_change);
	tcase_add_test(tcase, test_public_dialback);
	tcase_add_test(tcase, test_public_dialback_invalid);
	tcase_add_test(tcase, test_public_no_dialback);
	tcase_add_test(tcase, test_public_stanza_before_authentication);
	tcase_add_test(tcase, test_public_stanza_to_not_ours);
	tcase_add_test(tcase, test_public_answers_db_verify);
	tcase_add_test(tcase, test_public_peer_closes);
	tcase_add_test(tcase, test_internal_sasl_external);
	tcase_add_test(tcase, test_internal_refusals);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
