/* SPDX-License-Identifier: ISC */
/* Check suite for src/xmpp/s2s_initiator: the negotiation of a stream the
 * edge opens, fed with scripted peer elements (trees, and a Prosody
 * transcript through the stream parser); each step asserts the exact bytes
 * written and the actions asked for. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "dialback_key.h"
#include "s2s_initiator.h"
#include "stream_error.h"
#include "stream_parser.h"
#include "xml_tree.h"
#include "xml_write.h"
#include "test_suite.h"

/* ---- the owner: records every action ---- */

#define LOCAL	"example.test"
#define REMOTE	"partner.test"
#define SECRET	"dialback secret"
#define SERVER	"jabber:server"
#define TLS_NS	"urn:ietf:params:xml:ns:xmpp-tls"
#define SASL_NS "urn:ietf:params:xml:ns:xmpp-sasl"
#define DB_NS	"jabber:server:dialback"

struct owner {
	struct evbuffer *sent;
	unsigned start_tls, restarts, authenticated, ready, failed;
	char local[64], remote[64];
	bool by_certificate;
	enum xmpp_stream_error error;
	const char *reason;
	struct xml_element *stanza; /* the last one given */
	unsigned stanzas;
	struct s2s_initiator *machine;
	bool free_on_failure;
	struct xmpp_parser *parser; /* NULL: the test feeds elements itself */
	unsigned verified; /* answers to our <db:verify/> */
	char verified_id[64];
	bool verified_valid;
};

static void owner_send(void *arg, const char *data, size_t len)
{
	struct owner *owner = arg;
	ck_assert_uint_eq(owner->failed, 0); /* nothing after the end */
	evbuffer_add(owner->sent, data, len);
}

static void owner_start_tls(void *arg)
{
	((struct owner *)arg)->start_tls++;
}

static void owner_restart(void *arg)
{
	struct owner *owner = arg;
	owner->restarts++;
	if (owner->parser != NULL)
		ck_assert_int_eq(xmpp_parser_restart(owner->parser), 0);
}

static void owner_authenticated(void *arg, const char *local, const char *remote, bool certificate)
{
	struct owner *owner = arg;
	owner->authenticated++;
	owner->by_certificate = certificate;
	snprintf(owner->local, sizeof(owner->local), "%s", local);
	snprintf(owner->remote, sizeof(owner->remote), "%s", remote);
}

static void owner_ready(void *arg)
{
	((struct owner *)arg)->ready++;
}

static void owner_stanza(void *arg, struct xml_element *stanza)
{
	struct owner *owner = arg;
	xml_element_free(owner->stanza);
	owner->stanza = stanza;
	owner->stanzas++;
}

static void owner_failed(void *arg, enum xmpp_stream_error error, const char *reason)
{
	struct owner *owner = arg;
	owner->failed++;
	owner->error = error;
	owner->reason = reason;
	if (owner->free_on_failure) {
		s2s_initiator_free(owner->machine);
		owner->machine = NULL;
	}
}

static void owner_verified(void *arg, const char *id, bool valid)
{
	struct owner *owner = arg;
	owner->verified++;
	snprintf(owner->verified_id, sizeof(owner->verified_id), "%s", id);
	owner->verified_valid = valid;
}

static const struct s2s_actions actions = {
	.send = owner_send,
	.start_tls = owner_start_tls,
	.restart = owner_restart,
	.authenticated = owner_authenticated,
	.ready = owner_ready,
	.stanza = owner_stanza,
	.failed = owner_failed,
};

static struct owner owner;

static void owner_setup(void)
{
	owner = (struct owner){ .sent = evbuffer_new() };
}

static void owner_teardown(void)
{
	s2s_initiator_free(owner.machine);
	xml_element_free(owner.stanza);
	evbuffer_free(owner.sent);
	if (owner.parser != NULL)
		xmpp_parser_free(owner.parser);
}

static struct s2s_initiator *machine_new(enum s2s_initiator_flavour flavour, const char *secret,
					 bool bidi)
{
	const struct s2s_initiator_options options = {
		.flavour = flavour,
		.local = flavour == S2S_INITIATOR_PUBLIC ? LOCAL : REMOTE,
		.remote = flavour == S2S_INITIATOR_PUBLIC ? REMOTE : LOCAL,
		.dialback_secret = secret,
		.bidi = bidi,
		.verified = owner_verified,
	};
	owner.machine = s2s_initiator_new(&options, &actions, &owner);
	ck_assert_ptr_nonnull(owner.machine);
	return owner.machine;
}

/* What was sent since the last call, then forgotten. */
static void assert_sent(const char *expected)
{
	size_t len = evbuffer_get_length(owner.sent);
	char *sent = calloc(1, len + 1);
	evbuffer_remove(owner.sent, sent, len);
	ck_assert_str_eq(sent, expected);
	free(sent);
}

static void assert_failed(enum xmpp_stream_error error, const char *reason)
{
	ck_assert_uint_eq(owner.failed, 1);
	ck_assert_int_eq(owner.error, error);
	ck_assert_str_eq(owner.reason, reason);
}

/* ---- what the peer sends ---- */

static void peer_header_full(const char *stream_ns, const char *default_ns, const char *version,
			     const char *from, const char *id)
{
	struct xml_element *header = xml_element_new(stream_ns, "stream");
	if (from != NULL)
		xml_element_set_attribute(header, NULL, "from", from);
	if (id != NULL)
		xml_element_set_attribute(header, NULL, "id", id);
	if (version != NULL)
		xml_element_set_attribute(header, NULL, "version", version);
	s2s_initiator_stream_open(owner.machine, header, default_ns);
	xml_element_free(header);
}

static void peer_header(const char *from, const char *id)
{
	peer_header_full(XMPP_STREAMS_NAMESPACE, SERVER, "1.0", from, id);
}

static void peer(struct xml_element *element)
{
	s2s_initiator_element(owner.machine, element);
}

static struct xml_element *element(const char *ns, const char *name)
{
	return xml_element_new(ns, name);
}

/* <stream:features> with what is asked: starttls, external, dialback, bidi. */
static struct xml_element *features(bool starttls, bool external, bool dialback, bool bidi)
{
	struct xml_element *features = xml_element_new(XMPP_STREAMS_NAMESPACE, "features");
	if (starttls)
		xml_element_add_child(features, TLS_NS, "starttls");
	struct xml_element *mechanisms = xml_element_add_child(features, SASL_NS, "mechanisms");
	struct xml_element *plain = xml_element_add_child(mechanisms, SASL_NS, "mechanism");
	xml_element_add_text(plain, "PLAIN", 5);
	if (external) {
		struct xml_element *mechanism =
			xml_element_add_child(mechanisms, SASL_NS, "mechanism");
		xml_element_add_text(mechanism, " EXTERNAL\n", 10);
	}
	if (dialback)
		xml_element_add_child(
			xml_element_add_child(features, "urn:xmpp:features:dialback", "dialback"),
			"urn:xmpp:features:dialback", "errors");
	if (bidi)
		xml_element_add_child(features, "urn:xmpp:features:bidi", "bidi");
	return features;
}

static struct xml_element *db_result(const char *from, const char *to, const char *type)
{
	struct xml_element *result = xml_element_new(DB_NS, "result");
	xml_element_set_attribute(result, NULL, "from", from);
	xml_element_set_attribute(result, NULL, "to", to);
	if (type != NULL)
		xml_element_set_attribute(result, NULL, "type", type);
	return result;
}

/* <db:verify/> as an authoritative server answers it (TYPE NULL: none). */
static struct xml_element *db_verify(const char *from, const char *to, const char *id,
				     const char *type)
{
	struct xml_element *verify = xml_element_new(DB_NS, "verify");
	xml_element_set_attribute(verify, NULL, "from", from);
	xml_element_set_attribute(verify, NULL, "to", to);
	if (id != NULL)
		xml_element_set_attribute(verify, NULL, "id", id);
	if (type != NULL)
		xml_element_set_attribute(verify, NULL, "type", type);
	xml_element_add_text(verify, "KEY", 3);
	return verify;
}

static struct xml_element *message(const char *ns, const char *from, const char *to)
{
	struct xml_element *message = xml_element_new(ns, "message");
	if (from != NULL)
		xml_element_set_attribute(message, NULL, "from", from);
	if (to != NULL)
		xml_element_set_attribute(message, NULL, "to", to);
	xml_element_add_text(xml_element_add_child(message, ns, "body"), "hi", 2);
	return message;
}

static struct xml_element *stream_error(const char *condition)
{
	struct xml_element *error = xml_element_new(XMPP_STREAMS_NAMESPACE, "error");
	xml_element_add_child(error, XMPP_STREAM_ERRORS_NAMESPACE, condition);
	xml_element_add_text(xml_element_add_child(error, XMPP_STREAM_ERRORS_NAMESPACE, "text"),
			     "go away", 7);
	return error;
}

static const struct s2s_peer_certificate verified = { .verified = true };
static const struct s2s_peer_certificate untrusted = { .verified = false };

/* ---- the bytes we send ---- */

#define STREAM_OPEN                                                  \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:server' " \
	"xmlns:stream='http://etherx.jabber.org/streams'"
#define PUBLIC_HEADER                                                                 \
	STREAM_OPEN " xmlns:db='jabber:server:dialback' from='" LOCAL "' to='" REMOTE \
		    "' version='1.0'>"
#define INTERNAL_HEADER STREAM_OPEN " from='" REMOTE "' to='" LOCAL "' version='1.0'>"
#define STARTTLS	"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
#define AUTH(authzid) \
	"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" authzid "</auth>"
#define AUTH_LOCAL   AUTH("ZXhhbXBsZS50ZXN0") /* base64 of example.test */
#define AUTH_PARTNER AUTH("cGFydG5lci50ZXN0") /* base64 of partner.test */
#define BIDI	     "<bidi xmlns='urn:xmpp:bidi'/>"
#define ERROR(condition)                                                             \
	"<stream:error><" condition " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" \
	"</stream:error></stream:stream>"

static void assert_dialback_sent(const char *stream_id)
{
	char key[XMPP_DIALBACK_KEY_SIZE];
	char expected[256];
	xmpp_dialback_key(SECRET, REMOTE, LOCAL, stream_id, key);
	snprintf(expected, sizeof(expected),
		 "<result xmlns='jabber:server:dialback' from='" LOCAL "' to='" REMOTE
		 "'>%s</result>",
		 key);
	assert_sent(expected);
}

/* The public flavour up to the features of the secure stream (not yet
 * fed), the peer's certificate VERIFIED and naming REMOTE or not. */
static void public_until_secure(const char *secret, bool bidi,
				const struct s2s_peer_certificate *certificate, bool names_match)
{
	machine_new(S2S_INITIATOR_PUBLIC, secret, bidi);
	s2s_initiator_start(owner.machine);
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "s1");
	assert_sent("");
	peer(features(true, true, true, false));
	assert_sent(STARTTLS);
	ck_assert_uint_eq(owner.start_tls, 0);
	peer(element(TLS_NS, "proceed"));
	assert_sent("");
	ck_assert_uint_eq(owner.start_tls, 1);
	ck_assert_uint_eq(owner.restarts, 0);
	s2s_initiator_tls_up(owner.machine, certificate, names_match);
	ck_assert_uint_eq(owner.restarts, 1);
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "s2");
	assert_sent("");
}

/* ---- the public flavour ---- */

START_TEST(test_public_starttls_then_external)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, true, true, false));
	assert_sent(AUTH_LOCAL);
	peer(element(SASL_NS, "success"));
	ck_assert_uint_eq(owner.restarts, 2);
	assert_sent(PUBLIC_HEADER);
	ck_assert(!s2s_initiator_is_ready(owner.machine));
	peer_header(NULL, "s3");
	ck_assert_uint_eq(owner.authenticated, 0);
	peer(features(false, false, false, false));
	assert_sent("");
	ck_assert_uint_eq(owner.authenticated, 1);
	ck_assert_str_eq(owner.local, LOCAL);
	ck_assert_str_eq(owner.remote, REMOTE);
	ck_assert(owner.by_certificate);
	ck_assert_uint_eq(owner.ready, 1);
	ck_assert_uint_eq(owner.failed, 0);
	ck_assert(s2s_initiator_is_ready(owner.machine));
	ck_assert_int_eq(s2s_initiator_method(owner.machine), S2S_INITIATOR_SASL_EXTERNAL);
	ck_assert(s2s_initiator_remote_verified(owner.machine));
	ck_assert(!s2s_initiator_bidi(owner.machine));

	struct xml_element *stanza = message(SERVER, "alice@" LOCAL, "bob@" REMOTE);
	ck_assert_int_eq(s2s_initiator_send_stanza(owner.machine, stanza), 0);
	xml_element_free(stanza);
	assert_sent("<message from='alice@" LOCAL "' to='bob@" REMOTE
		    "'><body>hi</body></message>");
}
END_TEST

START_TEST(test_public_dialback)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, false, true, false));
	assert_dialback_sent("s2");
	peer(db_result(REMOTE, LOCAL, "valid"));
	assert_sent("");
	ck_assert_uint_eq(owner.restarts, 1); /* no restart after dialback */
	ck_assert_uint_eq(owner.authenticated, 1);
	ck_assert(owner.by_certificate);
	ck_assert_uint_eq(owner.ready, 1);
	ck_assert_int_eq(s2s_initiator_method(owner.machine), S2S_INITIATOR_DIALBACK);
	ck_assert(s2s_initiator_remote_verified(owner.machine));
}
END_TEST

/* A certificate that does not name the partner still allows dialback,
 * but the stream never says the remote was verified. */
START_TEST(test_dialback_with_a_certificate_not_naming_the_partner)
{
	public_until_secure(SECRET, false, &verified, false);
	peer(features(false, false, true, false));
	assert_dialback_sent("s2");
	peer(db_result(REMOTE, LOCAL, "valid"));
	ck_assert_uint_eq(owner.ready, 1);
	ck_assert(!owner.by_certificate);
	ck_assert_int_eq(s2s_initiator_method(owner.machine), S2S_INITIATOR_DIALBACK);
	ck_assert(!s2s_initiator_remote_verified(owner.machine));
}
END_TEST

START_TEST(test_untrusted_certificate_is_not_verified)
{
	public_until_secure(SECRET, false, &untrusted, true);
	peer(features(false, true, false, false));
	assert_sent(AUTH_LOCAL);
	ck_assert(!s2s_initiator_remote_verified(owner.machine));
}
END_TEST

START_TEST(test_external_failure_falls_back_to_dialback)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, true, true, false));
	assert_sent(AUTH_LOCAL);
	peer(element(SASL_NS, "failure"));
	assert_dialback_sent("s2");
	peer(db_result(REMOTE, LOCAL, "valid"));
	ck_assert_uint_eq(owner.ready, 1);
	ck_assert_int_eq(s2s_initiator_method(owner.machine), S2S_INITIATOR_DIALBACK);
}
END_TEST

START_TEST(test_external_failure_without_dialback_fails)
{
	public_until_secure(NULL, false, &verified, true);
	peer(features(false, true, true, false)); /* offered, but we have no secret */
	assert_sent(AUTH_LOCAL);
	peer(element(SASL_NS, "failure"));
	assert_sent(ERROR("not-authorized"));
	assert_failed(XMPP_STREAM_NOT_AUTHORIZED, "sasl_failure");
}
END_TEST

START_TEST(test_no_authentication_method_fails)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, false, false, false));
	assert_sent(ERROR("not-authorized"));
	assert_failed(XMPP_STREAM_NOT_AUTHORIZED, "no_authentication_method");
}
END_TEST

START_TEST(test_no_starttls_offered_fails)
{
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
	s2s_initiator_start(owner.machine);
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "s1");
	peer(features(false, true, true, true));
	assert_sent(ERROR("policy-violation"));
	assert_failed(XMPP_STREAM_POLICY_VIOLATION, "starttls_not_offered");
	ck_assert_uint_eq(owner.start_tls, 0);
}
END_TEST

START_TEST(test_starttls_failure_fails)
{
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
	s2s_initiator_start(owner.machine);
	peer_header(REMOTE, "s1");
	peer(features(true, false, false, false));
	assert_sent(PUBLIC_HEADER STARTTLS);
	peer(element(TLS_NS, "failure"));
	assert_sent(ERROR("policy-violation"));
	assert_failed(XMPP_STREAM_POLICY_VIOLATION, "starttls_failure");
}
END_TEST

/* Direct TLS (XEP-0368): no STARTTLS, straight to authentication. */
START_TEST(test_public_direct_tls)
{
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
	s2s_initiator_tls_up(owner.machine, &verified, true);
	ck_assert_uint_eq(owner.restarts, 0);
	s2s_initiator_start(owner.machine);
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "d1");
	peer(features(false, true, false, false));
	assert_sent(AUTH_LOCAL);
}
END_TEST

START_TEST(test_dialback_invalid_fails)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, false, true, false));
	assert_dialback_sent("s2");
	peer(db_result(REMOTE, LOCAL, "invalid"));
	assert_sent(ERROR("not-authorized"));
	assert_failed(XMPP_STREAM_NOT_AUTHORIZED, "dialback_invalid");
	ck_assert_uint_eq(owner.authenticated, 0);
	ck_assert_uint_eq(owner.ready, 0);
}
END_TEST

START_TEST(test_dialback_error_and_bad_answers_fail)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, false, true, false));
	assert_dialback_sent("s2");
	peer(db_result(REMOTE, LOCAL, "error"));
	assert_failed(XMPP_STREAM_NOT_AUTHORIZED, "dialback_error");
	owner_teardown();

	owner_setup();
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, false, true, false));
	assert_dialback_sent("s2");
	peer(db_result(REMOTE, LOCAL, NULL));
	assert_failed(XMPP_STREAM_BAD_FORMAT, "dialback_bad_type");
	owner_teardown();

	owner_setup();
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, false, true, false));
	assert_dialback_sent("s2");
	peer(db_result("other.test", LOCAL, "valid"));
	assert_sent(ERROR("invalid-from"));
	assert_failed(XMPP_STREAM_INVALID_FROM, "dialback_result_mismatch");
}
END_TEST

START_TEST(test_peer_stream_error_ends_with_its_condition)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(stream_error("host-unknown"));
	assert_sent("</stream:stream>");
	assert_failed(XMPP_STREAM_HOST_UNKNOWN, S2S_INITIATOR_PEER_ERROR);
	owner_teardown();

	/* a condition we have no name for */
	owner_setup();
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
	s2s_initiator_start(owner.machine);
	assert_sent(PUBLIC_HEADER);
	peer(stream_error("see-other-host"));
	assert_sent("</stream:stream>");
	assert_failed(XMPP_STREAM_UNDEFINED_CONDITION, S2S_INITIATOR_PEER_ERROR);
}
END_TEST

START_TEST(test_peer_close_ends)
{
	public_until_secure(SECRET, false, &verified, true);
	s2s_initiator_stream_close(owner.machine);
	assert_sent("</stream:stream>");
	assert_failed(XMPP_STREAM_OK, S2S_INITIATOR_PEER_CLOSED);
}
END_TEST

/* Each bad header: its stream error and reason. */
START_TEST(test_bad_headers)
{
	static const struct {
		const char *stream_ns, *default_ns, *version, *from, *id;
		enum xmpp_stream_error error;
		const char *condition, *reason;
	} cases[] = {
		{ "jabber:client", SERVER, "1.0", REMOTE, "i", XMPP_STREAM_INVALID_NAMESPACE,
		  "invalid-namespace", "bad_stream_namespace" },
		{ XMPP_STREAMS_NAMESPACE, "jabber:client", "1.0", REMOTE, "i",
		  XMPP_STREAM_INVALID_NAMESPACE, "invalid-namespace", "bad_content_namespace" },
		{ XMPP_STREAMS_NAMESPACE, NULL, "1.0", REMOTE, "i", XMPP_STREAM_INVALID_NAMESPACE,
		  "invalid-namespace", "bad_content_namespace" },
		{ XMPP_STREAMS_NAMESPACE, SERVER, NULL, REMOTE, "i",
		  XMPP_STREAM_UNSUPPORTED_VERSION, "unsupported-version", "unsupported_version" },
		{ XMPP_STREAMS_NAMESPACE, SERVER, "2.0", REMOTE, "i",
		  XMPP_STREAM_UNSUPPORTED_VERSION, "unsupported-version", "unsupported_version" },
		{ XMPP_STREAMS_NAMESPACE, SERVER, "1.x", REMOTE, "i",
		  XMPP_STREAM_UNSUPPORTED_VERSION, "unsupported-version", "unsupported_version" },
		{ XMPP_STREAMS_NAMESPACE, SERVER, "1.0", "other.test", "i",
		  XMPP_STREAM_INVALID_FROM, "invalid-from", "peer_from_mismatch" },
		{ XMPP_STREAMS_NAMESPACE, SERVER, "1.0", REMOTE, NULL, XMPP_STREAM_BAD_FORMAT,
		  "bad-format", "stream_id_missing" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
		s2s_initiator_start(owner.machine);
		assert_sent(PUBLIC_HEADER);
		peer_header_full(cases[i].stream_ns, cases[i].default_ns, cases[i].version,
				 cases[i].from, cases[i].id);
		char expected[256];
		snprintf(expected, sizeof(expected),
			 "<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
			 "</stream:error></stream:stream>",
			 cases[i].condition);
		assert_sent(expected);
		assert_failed(cases[i].error, cases[i].reason);
		owner_teardown();
		owner_setup();
	}
	/* a later minor version is spoken at ours; the domain compares
	 * without case */
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
	s2s_initiator_start(owner.machine);
	assert_sent(PUBLIC_HEADER);
	peer_header_full(XMPP_STREAMS_NAMESPACE, SERVER, "1.1", "Partner.TEST", "i");
	peer(features(true, false, false, false));
	assert_sent(STARTTLS);
	ck_assert_uint_eq(owner.failed, 0);
}
END_TEST

/* ---- the internal flavour ---- */

START_TEST(test_internal_external_as_the_partner)
{
	machine_new(S2S_INITIATOR_INTERNAL, SECRET, false);
	s2s_initiator_tls_up(owner.machine, &verified, true);
	s2s_initiator_start(owner.machine);
	assert_sent(INTERNAL_HEADER);
	peer_header(LOCAL, "n1");
	peer(features(false, true, true, false));
	assert_sent(AUTH_PARTNER);
	peer(element(SASL_NS, "success"));
	ck_assert_uint_eq(owner.restarts, 1);
	assert_sent(INTERNAL_HEADER);
	peer_header(LOCAL, "n2");
	peer(features(false, false, false, false));
	ck_assert_uint_eq(owner.authenticated, 1);
	ck_assert_str_eq(owner.local, REMOTE);
	ck_assert_str_eq(owner.remote, LOCAL);
	ck_assert_uint_eq(owner.ready, 1);
	ck_assert_uint_eq(owner.start_tls, 0);
}
END_TEST

/* No dialback towards our own server, even with a secret and the feature. */
START_TEST(test_internal_never_dialback)
{
	machine_new(S2S_INITIATOR_INTERNAL, SECRET, false);
	s2s_initiator_tls_up(owner.machine, &verified, true);
	s2s_initiator_start(owner.machine);
	assert_sent(INTERNAL_HEADER);
	peer_header(LOCAL, "n1");
	peer(features(false, false, true, false));
	assert_sent(ERROR("not-authorized"));
	assert_failed(XMPP_STREAM_NOT_AUTHORIZED, "no_authentication_method");
}
END_TEST

/* The partner's name is never presented to a server that is not ours. */
START_TEST(test_internal_unverified_server_fails)
{
	machine_new(S2S_INITIATOR_INTERNAL, NULL, false);
	s2s_initiator_tls_up(owner.machine, &verified, false);
	assert_failed(XMPP_STREAM_POLICY_VIOLATION, "internal_server_unverified");
	s2s_initiator_start(owner.machine);
	assert_sent("");
	owner_teardown();

	owner_setup();
	machine_new(S2S_INITIATOR_INTERNAL, NULL, false);
	s2s_initiator_tls_up(owner.machine, &untrusted, true);
	assert_failed(XMPP_STREAM_POLICY_VIOLATION, "internal_server_unverified");
	s2s_initiator_tls_up(owner.machine, NULL, true);
	ck_assert_uint_eq(owner.failed, 1);
}
END_TEST

START_TEST(test_internal_without_tls_fails)
{
	machine_new(S2S_INITIATOR_INTERNAL, NULL, false);
	s2s_initiator_start(owner.machine);
	assert_sent("");
	assert_failed(XMPP_STREAM_POLICY_VIOLATION, "internal_without_tls");
}
END_TEST

/* ---- bidi (XEP-0288) and stanzas from the peer ---- */

static void public_ready(bool bidi, bool bidi_offered)
{
	public_until_secure(SECRET, bidi, &verified, true);
	peer(features(false, true, false, bidi_offered));
	assert_sent(bidi && bidi_offered ? BIDI AUTH_LOCAL : AUTH_LOCAL);
	peer(element(SASL_NS, "success"));
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "s3");
	peer(features(false, false, false, false));
	ck_assert_uint_eq(owner.ready, 1);
}

START_TEST(test_bidi_requested_and_stanzas_accepted)
{
	public_ready(true, true);
	ck_assert(s2s_initiator_bidi(owner.machine));
	peer(message(SERVER, "bob@" REMOTE "/phone", "alice@" LOCAL));
	ck_assert_uint_eq(owner.stanzas, 1);
	ck_assert_str_eq(xml_element_attribute(owner.stanza, NULL, "from"), "bob@" REMOTE "/phone");
	peer(message(SERVER, REMOTE, LOCAL));
	ck_assert_uint_eq(owner.stanzas, 2);
	ck_assert_uint_eq(owner.failed, 0);
	assert_sent("");
	/* a domain the peer did not prove */
	peer(message(SERVER, "mallory@other.test", "alice@" LOCAL));
	assert_sent(ERROR("invalid-from"));
	assert_failed(XMPP_STREAM_INVALID_FROM, "stanza_from_not_authenticated");
	ck_assert_uint_eq(owner.stanzas, 2);
}
END_TEST

START_TEST(test_bidi_stanza_addressing)
{
	public_ready(true, true);
	peer(message(SERVER, "bob@" REMOTE, "carol@elsewhere.test"));
	assert_sent(ERROR("host-unknown"));
	assert_failed(XMPP_STREAM_HOST_UNKNOWN, "stanza_to_not_served");
	owner_teardown();

	owner_setup();
	public_ready(true, true);
	peer(message(SERVER, "bob@" REMOTE, NULL));
	assert_sent(ERROR("improper-addressing"));
	assert_failed(XMPP_STREAM_IMPROPER_ADDRESSING, "stanza_addressing");
	ck_assert_uint_eq(owner.stanzas, 0);
}
END_TEST

/* Bidi is asked for only of a peer whose certificate proved REMOTE. */
START_TEST(test_bidi_not_requested_of_an_unverified_peer)
{
	public_until_secure(SECRET, true, &verified, false);
	peer(features(false, true, false, true));
	assert_sent(AUTH_LOCAL);
	ck_assert(!s2s_initiator_bidi(owner.machine));
}
END_TEST

START_TEST(test_stanza_without_bidi_fails)
{
	public_ready(true, false);
	ck_assert(!s2s_initiator_bidi(owner.machine));
	peer(message(SERVER, "bob@" REMOTE, "alice@" LOCAL));
	assert_sent(ERROR("not-authorized"));
	assert_failed(XMPP_STREAM_NOT_AUTHORIZED, "stanza_without_bidi");
	ck_assert_uint_eq(owner.stanzas, 0);
}
END_TEST

START_TEST(test_stanza_before_ready_fails)
{
	public_until_secure(SECRET, true, &verified, true);
	peer(message(SERVER, "bob@" REMOTE, "alice@" LOCAL));
	assert_sent(ERROR("not-authorized"));
	assert_failed(XMPP_STREAM_NOT_AUTHORIZED, "stanza_before_ready");
}
END_TEST

START_TEST(test_ready_refuses_other_elements)
{
	public_ready(true, true);
	peer(message("jabber:client", "bob@" REMOTE, "alice@" LOCAL));
	assert_sent(ERROR("invalid-namespace"));
	assert_failed(XMPP_STREAM_INVALID_NAMESPACE, "stanza_bad_namespace");
	owner_teardown();

	owner_setup();
	public_ready(true, true);
	peer(db_result(REMOTE, LOCAL, "valid"));
	assert_sent(ERROR("unsupported-stanza-type"));
	assert_failed(XMPP_STREAM_UNSUPPORTED_STANZA_TYPE, "unsupported_element");
}
END_TEST

/* ---- the edge as Receiving Server: <db:verify/> on its own stream ---- */

#define VERIFY(id)                                                                        \
	"<verify xmlns='jabber:server:dialback' from='" LOCAL "' to='" REMOTE "' id='" id \
	"'>KEY</verify>"

/* Asked before the stream could carry it, it goes right after our own
 * <db:result/> (the stream not yet authenticated: the peer may need the
 * answer to its own question first), and its answer goes to the owner. */
START_TEST(test_verify_after_our_dialback_result)
{
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "in1", "KEY"), 0);
	s2s_initiator_start(owner.machine);
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "s1");
	peer(features(true, false, true, false));
	assert_sent(STARTTLS);
	peer(element(TLS_NS, "proceed"));
	s2s_initiator_tls_up(owner.machine, &untrusted, false);
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "s2");
	peer(features(false, false, true, false));
	char key[XMPP_DIALBACK_KEY_SIZE], expected[512];
	xmpp_dialback_key(SECRET, REMOTE, LOCAL, "s2", key);
	snprintf(expected, sizeof(expected),
		 "<result xmlns='jabber:server:dialback' from='" LOCAL "' to='" REMOTE
		 "'>%s</result>" VERIFY("in1"),
		 key);
	assert_sent(expected);
	peer(db_verify(REMOTE, LOCAL, "in1", "valid"));
	ck_assert_uint_eq(owner.verified, 1);
	ck_assert_str_eq(owner.verified_id, "in1");
	ck_assert(owner.verified_valid);
	ck_assert_uint_eq(owner.failed, 0);
	/* asked now: written at once */
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "in2", "KEY"), 0);
	assert_sent(VERIFY("in2"));
	peer(db_result(REMOTE, LOCAL, "valid"));
	ck_assert_uint_eq(owner.ready, 1);
	peer(db_verify(REMOTE, LOCAL, "in2", "invalid"));
	ck_assert_uint_eq(owner.verified, 2);
	ck_assert_str_eq(owner.verified_id, "in2");
	ck_assert(!owner.verified_valid);
	ck_assert_uint_eq(owner.failed, 0);
	assert_sent("");
}
END_TEST

/* Never between <auth/> and the restart: the peer would read it as part
 * of the new stream. */
START_TEST(test_verify_waits_for_ready_after_sasl)
{
	public_until_secure(SECRET, false, &verified, true);
	peer(features(false, true, true, false));
	assert_sent(AUTH_LOCAL);
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "in1", "KEY"), 0);
	assert_sent("");
	peer(element(SASL_NS, "success"));
	assert_sent(PUBLIC_HEADER);
	peer_header(REMOTE, "s3");
	peer(features(false, false, false, false));
	assert_sent(VERIFY("in1"));
	ck_assert_uint_eq(owner.ready, 1);
	peer(db_verify(REMOTE, LOCAL, "in1", "error"));
	ck_assert_uint_eq(owner.verified, 1);
	ck_assert(!owner.verified_valid);
}
END_TEST

START_TEST(test_verify_bad_answers_fail)
{
	static const struct {
		const char *from, *to, *id, *type;
		enum xmpp_stream_error error;
		const char *condition, *reason;
	} cases[] = {
		{ "other.test", LOCAL, "in1", "valid", XMPP_STREAM_INVALID_FROM, "invalid-from",
		  "dialback_verify_mismatch" },
		{ REMOTE, "other.test", "in1", "valid", XMPP_STREAM_INVALID_FROM, "invalid-from",
		  "dialback_verify_mismatch" },
		{ REMOTE, LOCAL, "in9", "valid", XMPP_STREAM_POLICY_VIOLATION, "policy-violation",
		  "dialback_verify_not_asked" },
		{ REMOTE, LOCAL, NULL, "valid", XMPP_STREAM_POLICY_VIOLATION, "policy-violation",
		  "dialback_verify_not_asked" },
		{ REMOTE, LOCAL, "in1", "maybe", XMPP_STREAM_BAD_FORMAT, "bad-format",
		  "dialback_bad_type" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char expected[256];
		public_ready(false, false);
		ck_assert_int_eq(s2s_initiator_verify(owner.machine, "in1", "KEY"), 0);
		assert_sent(VERIFY("in1"));
		peer(db_verify(cases[i].from, cases[i].to, cases[i].id, cases[i].type));
		snprintf(expected, sizeof(expected),
			 "<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
			 "</stream:error></stream:stream>",
			 cases[i].condition);
		assert_sent(expected);
		assert_failed(cases[i].error, cases[i].reason);
		ck_assert_uint_eq(owner.verified, 0);
		ck_assert_int_eq(s2s_initiator_verify(owner.machine, "in2", "KEY"), -1);
		owner_teardown();
		owner_setup();
	}
}
END_TEST

/* A question without a type, or an answer nobody asked for, is no answer. */
START_TEST(test_verify_unasked_is_unsupported)
{
	public_ready(false, false);
	peer(db_verify(REMOTE, LOCAL, "in1", "valid"));
	assert_sent(ERROR("unsupported-stanza-type"));
	assert_failed(XMPP_STREAM_UNSUPPORTED_STANZA_TYPE, "unsupported_element");
	owner_teardown();

	owner_setup();
	public_ready(false, false);
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "in1", "KEY"), 0);
	assert_sent(VERIFY("in1"));
	peer(db_verify(REMOTE, LOCAL, "in1", NULL));
	assert_sent(ERROR("unsupported-stanza-type"));
	ck_assert_uint_eq(owner.verified, 0);
}
END_TEST

START_TEST(test_verify_bounded)
{
	public_ready(false, false);
	char id[16];
	for (unsigned i = 0; i < S2S_INITIATOR_VERIFIES_MAX; i++) {
		snprintf(id, sizeof(id), "in%u", i);
		ck_assert_int_eq(s2s_initiator_verify(owner.machine, id, "KEY"), 0);
	}
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "one-more", "KEY"), -1);
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "", "KEY"), -1);
	peer(db_verify(REMOTE, LOCAL, "in3", "valid"));
	ck_assert_uint_eq(owner.verified, 1);
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "one-more", "KEY"), 0);
	owner_teardown();

	/* the internal flavour never asks */
	owner_setup();
	machine_new(S2S_INITIATOR_INTERNAL, NULL, false);
	ck_assert_int_eq(s2s_initiator_verify(owner.machine, "in1", "KEY"), -1);
}
END_TEST

/* ---- a peer's bytes through the stream parser ---- */

static bool parsed_stream_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	struct owner *parsed = arg;
	s2s_initiator_stream_open(parsed->machine, header, default_ns);
	return parsed->failed == 0;
}

static bool parsed_element(void *arg, struct xml_element *parsed_element)
{
	struct owner *parsed = arg;
	s2s_initiator_element(parsed->machine, parsed_element);
	return parsed->failed == 0;
}

static void parsed_stream_close(void *arg)
{
	s2s_initiator_stream_close(((struct owner *)arg)->machine);
}

static void parser_attach(void)
{
	static const struct xmpp_parser_events events = {
		.stream_open = parsed_stream_open,
		.element = parsed_element,
		.stream_close = parsed_stream_close,
	};
	struct xmpp_limits limits;
	xmpp_limits_default(&limits);
	owner.parser = xmpp_parser_new(&limits, &events, &owner);
	ck_assert_ptr_nonnull(owner.parser);
}

/* Feeds TEXT whole, or a byte at a time. */
static void feed(const char *text, bool bytewise)
{
	size_t len = strlen(text);
	size_t step_len = bytewise ? 1 : len;
	for (size_t at = 0; at < len; at += step_len) {
		size_t used = 0;
		ck_assert_int_eq(xmpp_parser_feed(owner.parser, text + at, step_len, &used),
				 XMPP_STREAM_OK);
		ck_assert_uint_eq(used, step_len);
	}
}

#define PEER_OPEN(id)                                                                        \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "                         \
	"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' " \
	"from='" REMOTE "' to='" LOCAL "' id='" id "' version='1.0' xml:lang='en'>"

/* What Prosody sends on a stream we open to it, STARTTLS to a bidi
 * stream, read by the parser whole or split at every byte. */
static void prosody_transcript(bool bytewise)
{
	parser_attach();
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, true);
	s2s_initiator_start(owner.machine);
	assert_sent(PUBLIC_HEADER);
	feed(PEER_OPEN("s1") "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
			     "<required/></starttls></stream:features>",
	     bytewise);
	assert_sent(STARTTLS);
	feed("\n<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", bytewise);
	ck_assert_uint_eq(owner.start_tls, 1);
	s2s_initiator_tls_up(owner.machine, &verified, true);
	assert_sent(PUBLIC_HEADER);
	feed(PEER_OPEN("s2") "<stream:features><mechanisms "
			     "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</"
			     "mechanism>"
			     "</mechanisms><dialback xmlns='urn:xmpp:features:dialback'><errors/>"
			     "</dialback><bidi xmlns='urn:xmpp:features:bidi'/></stream:features>",
	     bytewise);
	assert_sent(BIDI AUTH_LOCAL);
	feed("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" PEER_OPEN(
		     "s3") "<stream:features/>",
	     bytewise);
	assert_sent(PUBLIC_HEADER);
	ck_assert_uint_eq(owner.restarts, 2);
	ck_assert_uint_eq(owner.ready, 1);
	feed(" <message from='bob@" REMOTE "/phone' to='alice@" LOCAL
	     "' type='chat'><body>hi &amp; bye</body></message>",
	     bytewise);
	ck_assert_uint_eq(owner.stanzas, 1);
	ck_assert(xml_element_is(owner.stanza, SERVER, "message"));
	feed("</stream:stream>", bytewise);
	assert_sent("</stream:stream>");
	assert_failed(XMPP_STREAM_OK, S2S_INITIATOR_PEER_CLOSED);
}

START_TEST(test_prosody_transcript_whole)
{
	prosody_transcript(false);
}
END_TEST

START_TEST(test_prosody_transcript_bytewise)
{
	prosody_transcript(true);
}
END_TEST

/* ---- every element in every state: one outcome, nothing after the end ---- */

/* The steps of the bidi EXTERNAL path, one peer event each. */
static void step(unsigned index)
{
	switch (index) {
	case 0:
		s2s_initiator_start(owner.machine);
		break;
	case 1:
		peer_header(REMOTE, "s1");
		break;
	case 2:
		peer(features(true, true, true, true));
		break;
	case 3:
		peer(element(TLS_NS, "proceed"));
		break;
	case 4:
		s2s_initiator_tls_up(owner.machine, &verified, true);
		break;
	case 5:
		peer_header(REMOTE, "s2");
		break;
	case 6:
		peer(features(false, true, true, true));
		break;
	case 7:
		peer(element(SASL_NS, "success"));
		break;
	case 8:
		peer_header(REMOTE, "s3");
		break;
	case 9:
		peer(features(false, false, false, false));
		break;
	}
}
#define STEPS 10

static struct xml_element *catalogue_element(unsigned index)
{
	switch (index) {
	case 0:
		return features(true, true, true, true);
	case 1:
		return element(TLS_NS, "proceed");
	case 2:
		return element(TLS_NS, "failure");
	case 3:
		return element(SASL_NS, "success");
	case 4:
		return element(SASL_NS, "failure");
	case 5:
		return element(SASL_NS, "challenge");
	case 6:
		return db_result(REMOTE, LOCAL, "valid");
	case 7:
		return message(SERVER, "bob@" REMOTE, "alice@" LOCAL);
	case 8:
		return stream_error("conflict");
	case 9:
		return element(XMPP_STREAMS_NAMESPACE, "stream");
	case 10:
		return element(NULL, "unqualified");
	default:
		return element("urn:example:unknown", "thing");
	}
}
#define CATALOGUE 12

START_TEST(test_every_element_in_every_state)
{
	for (unsigned reached = 0; reached <= STEPS; reached++) {
		for (unsigned kind = 0; kind < CATALOGUE; kind++) {
			owner_setup();
			machine_new(S2S_INITIATOR_PUBLIC, SECRET, true);
			for (unsigned i = 0; i < reached; i++)
				step(i);
			ck_assert_uint_eq(owner.failed, 0);
			unsigned ready = owner.ready;
			peer(catalogue_element(kind));
			ck_assert_uint_le(owner.failed, 1);
			if (owner.failed == 1) {
				/* ended: whatever comes is taken and freed */
				evbuffer_drain(owner.sent, evbuffer_get_length(owner.sent));
				peer(catalogue_element(kind));
				peer_header(REMOTE, "again");
				s2s_initiator_stream_close(owner.machine);
				s2s_initiator_tls_up(owner.machine, &verified, true);
				s2s_initiator_abort(owner.machine, XMPP_STREAM_SYSTEM_SHUTDOWN,
						    "shutdown");
				assert_sent("");
				ck_assert_uint_eq(owner.failed, 1);
				ck_assert_uint_eq(owner.ready, ready);
			}
			owner_teardown();
		}
	}
}
END_TEST

/* The owner frees the machine from inside failed: nothing touches it after. */
START_TEST(test_free_inside_failed)
{
	public_until_secure(SECRET, false, &verified, true);
	owner.free_on_failure = true;
	peer(stream_error("host-unknown"));
	ck_assert_ptr_null(owner.machine);
	ck_assert_uint_eq(owner.failed, 1);
}
END_TEST

START_TEST(test_abort_writes_the_owners_error)
{
	public_until_secure(SECRET, false, &verified, true);
	s2s_initiator_abort(owner.machine, XMPP_STREAM_SYSTEM_SHUTDOWN, "shutdown");
	assert_sent(ERROR("system-shutdown"));
	assert_failed(XMPP_STREAM_SYSTEM_SHUTDOWN, "shutdown");
	ck_assert_int_eq(s2s_initiator_send_stanza(owner.machine, NULL), -1);
}
END_TEST

/* During the TLS handshake no stream of ours is open: an abort writes
 * nothing into it. */
START_TEST(test_abort_during_tls_writes_nothing)
{
	machine_new(S2S_INITIATOR_PUBLIC, SECRET, false);
	s2s_initiator_start(owner.machine);
	peer_header(REMOTE, "s1");
	peer(features(true, false, false, false));
	peer(element(TLS_NS, "proceed"));
	assert_sent(PUBLIC_HEADER STARTTLS);
	s2s_initiator_abort(owner.machine, XMPP_STREAM_SYSTEM_SHUTDOWN, "shutdown");
	assert_sent("");
	assert_failed(XMPP_STREAM_SYSTEM_SHUTDOWN, "shutdown");
}
END_TEST

START_TEST(test_new_refuses_missing_domains)
{
	const struct s2s_initiator_options no_local = { .remote = REMOTE };
	const struct s2s_initiator_options empty_remote = { .local = LOCAL, .remote = "" };
	ck_assert_ptr_null(s2s_initiator_new(&no_local, &actions, &owner));
	ck_assert_ptr_null(s2s_initiator_new(&empty_remote, &actions, &owner));
	const struct s2s_initiator_options fine = { .local = LOCAL, .remote = REMOTE };
	struct s2s_actions partial = actions;
	partial.stanza = NULL;
	ck_assert_ptr_null(s2s_initiator_new(&fine, &partial, &owner));
}
END_TEST

static Suite *s2s_initiator_suite(void)
{
	Suite *suite = suite_create("s2s_initiator");
	TCase *public = tcase_create("public");
	tcase_add_checked_fixture(public, owner_setup, owner_teardown);
	tcase_add_test(public, test_public_starttls_then_external);
	tcase_add_test(public, test_public_dialback);
	tcase_add_test(public, test_dialback_with_a_certificate_not_naming_the_partner);
	tcase_add_test(public, test_untrusted_certificate_is_not_verified);
	tcase_add_test(public, test_external_failure_falls_back_to_dialback);
	tcase_add_test(public, test_external_failure_without_dialback_fails);
	tcase_add_test(public, test_no_authentication_method_fails);
	tcase_add_test(public, test_no_starttls_offered_fails);
	tcase_add_test(public, test_starttls_failure_fails);
	tcase_add_test(public, test_public_direct_tls);
	tcase_add_test(public, test_dialback_invalid_fails);
	tcase_add_test(public, test_dialback_error_and_bad_answers_fail);
	tcase_add_test(public, test_peer_stream_error_ends_with_its_condition);
	tcase_add_test(public, test_peer_close_ends);
	suite_add_tcase(suite, public);

	TCase *headers = tcase_create("headers");
	tcase_add_checked_fixture(headers, owner_setup, owner_teardown);
	tcase_add_test(headers, test_bad_headers);
	suite_add_tcase(suite, headers);

	TCase *internal = tcase_create("internal");
	tcase_add_checked_fixture(internal, owner_setup, owner_teardown);
	tcase_add_test(internal, test_internal_external_as_the_partner);
	tcase_add_test(internal, test_internal_never_dialback);
	tcase_add_test(internal, test_internal_unverified_server_fails);
	tcase_add_test(internal, test_internal_without_tls_fails);
	suite_add_tcase(suite, internal);

	TCase *stanzas = tcase_create("stanzas");
	tcase_add_checked_fixture(stanzas, owner_setup, owner_teardown);
	tcase_add_test(stanzas, test_bidi_requested_and_stanzas_accepted);
	tcase_add_test(stanzas, test_bidi_stanza_addressing);
	tcase_add_test(stanzas, test_bidi_not_requested_of_an_unverified_peer);
	tcase_add_test(stanzas, test_stanza_without_bidi_fails);
	tcase_add_test(stanzas, test_stanza_before_ready_fails);
	tcase_add_test(stanzas, test_ready_refuses_other_elements);
	suite_add_tcase(suite, stanzas);

	TCase *verify = tcase_create("verify");
	tcase_add_checked_fixture(verify, owner_setup, owner_teardown);
	tcase_add_test(verify, test_verify_after_our_dialback_result);
	tcase_add_test(verify, test_verify_waits_for_ready_after_sasl);
	tcase_add_test(verify, test_verify_bad_answers_fail);
	tcase_add_test(verify, test_verify_unasked_is_unsupported);
	tcase_add_test(verify, test_verify_bounded);
	suite_add_tcase(suite, verify);

	TCase *robust = tcase_create("robustness");
	tcase_add_checked_fixture(robust, owner_setup, owner_teardown);
	tcase_add_test(robust, test_free_inside_failed);
	tcase_add_test(robust, test_abort_writes_the_owners_error);
	tcase_add_test(robust, test_abort_during_tls_writes_nothing);
	tcase_add_test(robust, test_new_refuses_missing_domains);
	suite_add_tcase(suite, robust);

	TCase *parsed = tcase_create("parsed");
	tcase_add_checked_fixture(parsed, owner_setup, owner_teardown);
	tcase_add_test(parsed, test_prosody_transcript_whole);
	tcase_add_test(parsed, test_prosody_transcript_bytewise);
	suite_add_tcase(suite, parsed);

	TCase *every = tcase_create("every_state");
	tcase_add_test(every, test_every_element_in_every_state);
	suite_add_tcase(suite, every);
	return suite;
}

int main(void)
{
	return test_suite_run(s2s_initiator_suite());
}
