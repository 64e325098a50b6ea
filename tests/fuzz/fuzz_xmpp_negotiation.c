/* SPDX-License-Identifier: ISC */
/* Fuzz target: the receiving side of s2s negotiation (s2s_receiver) fed
 * with arbitrary streams through the real stream parser, as a connection
 * would feed it, with the TLS and dialback events a connection would add.
 *
 * Input: one byte of set-up (bit 0: internal flavour; bit 1: the peer's
 * certificate is verified; bit 2: it names the claimed domain, else
 * another; bit 3: dialback verdicts are valid; bit 4: offer bidi; bit 5:
 * offer dialback), then
 * the bytes of the stream (how a stream splits into reads is
 * fuzz_xmpp_stream's business).  Besides what the sanitizers check,
 * the machine must keep its promises: once failed it sends nothing more
 * and asks for nothing more; it passes on only stanzas whose from and to
 * domains it authenticated; start_tls comes once at most; the bytes it
 * sends are always a well-formed continuation (checked by parsing them
 * with a second stream parser). */
#include <stdbool.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "fuzz.h"
#include "jid.h"
#include "namespaces.h"
#include "s2s_receiver.h"
#include "stream_parser.h"

#define SETUP_SIZE 1

static struct {
	struct s2s_receiver *receiver;
	struct xmpp_parser *parser;
	uint8_t setup;
	bool restart, failed, tls;
	unsigned start_tls;
	char authenticated[4][2][JID_DOMAIN_MAX + 1];
	unsigned n_authenticated;
	/* What it sent, read back by a parser of our own. */
	struct xmpp_parser *echo;
	bool echo_open;
	char pending_local[JID_DOMAIN_MAX + 1], pending_remote[JID_DOMAIN_MAX + 1];
	bool verdict_due;
} f;

static void on_send(void *arg, const char *data, size_t len)
{
	size_t used;
	(void)arg;
	FUZZ_REQUIRE(!f.failed);
	FUZZ_REQUIRE(xmpp_parser_feed(f.echo, data, len, &used) == XMPP_STREAM_OK);
	FUZZ_REQUIRE(used == len);
}

static void on_start_tls(void *arg)
{
	(void)arg;
	FUZZ_REQUIRE(!f.failed);
	f.start_tls++;
	FUZZ_REQUIRE(f.start_tls == 1);
}

static void on_restart(void *arg)
{
	(void)arg;
	FUZZ_REQUIRE(!f.failed);
	f.restart = true;
}

static void on_authenticated(void *arg, const char *local, const char *remote, bool certificate)
{
	(void)arg;
	(void)certificate;
	FUZZ_REQUIRE(!f.failed);
	FUZZ_REQUIRE(f.n_authenticated < 4);
	snprintf(f.authenticated[f.n_authenticated][0], JID_DOMAIN_MAX + 1, "%s", local);
	snprintf(f.authenticated[f.n_authenticated][1], JID_DOMAIN_MAX + 1, "%s", remote);
	f.n_authenticated++;
}

static void on_ready(void *arg)
{
	(void)arg;
	FUZZ_REQUIRE(!f.failed);
}

static void on_stanza(void *arg, struct xml_element *stanza)
{
	char local[JID_DOMAIN_MAX + 1], remote[JID_DOMAIN_MAX + 1];
	bool known = false;
	(void)arg;

	FUZZ_REQUIRE(!f.failed);
	FUZZ_REQUIRE(jid_domain(xml_element_attribute(stanza, NULL, "to"), local));
	FUZZ_REQUIRE(jid_domain(xml_element_attribute(stanza, NULL, "from"), remote));
	for (unsigned i = 0; i < f.n_authenticated; i++)
		known |= strcmp(f.authenticated[i][0], local) == 0 &&
			 strcmp(f.authenticated[i][1], remote) == 0;
	FUZZ_REQUIRE(known);
	xml_element_free(stanza);
}

static void on_failed(void *arg, enum xmpp_stream_error error, const char *reason)
{
	(void)arg;
	(void)error;
	FUZZ_REQUIRE(!f.failed);
	FUZZ_REQUIRE(reason != NULL && reason[0] != '\0');
	f.failed = true;
}

/* Our domain is example.test; the partners policy allows are partner.test
 * and second.test (as in the unit suite). */
static bool is_ours(void *arg, const char *domain)
{
	(void)arg;
	return strcmp(domain, "example.test") == 0;
}

static bool is_partner(void *arg, const char *domain)
{
	(void)arg;
	return strcmp(domain, "partner.test") == 0 || strcmp(domain, "second.test") == 0;
}

static void on_verify(void *arg, const char *local, const char *remote, const char *key,
		      const char *stream_id)
{
	(void)arg;
	(void)key;
	FUZZ_REQUIRE(strcmp(stream_id, "fuzz-stream") == 0);
	/* Answered after this element, as the authoritative server would. */
	snprintf(f.pending_local, sizeof(f.pending_local), "%s", local);
	snprintf(f.pending_remote, sizeof(f.pending_remote), "%s", remote);
	f.verdict_due = true;
}

static bool parser_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	(void)arg;
	return s2s_receiver_stream_open(f.receiver, header, default_ns);
}

static bool parser_element(void *arg, struct xml_element *element)
{
	(void)arg;
	return s2s_receiver_element(f.receiver, element);
}

static void parser_close(void *arg)
{
	(void)arg;
	s2s_receiver_stream_close(f.receiver);
}

static bool echo_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	(void)arg;
	(void)header;
	FUZZ_REQUIRE(default_ns != NULL && strcmp(default_ns, XMPP_SERVER_NAMESPACE) == 0);
	f.echo_open = true;
	return true;
}

static bool echo_element(void *arg, struct xml_element *element)
{
	(void)arg;
	xml_element_free(element);
	return true;
}

static void echo_close(void *arg)
{
	(void)arg;
}

static const struct xmpp_parser_events parser_events = { parser_open, parser_element,
							 parser_close };
static const struct xmpp_parser_events echo_events = { echo_open, echo_element, echo_close };

/* What the connection does between reads: the handshake after start_tls,
 * the parser restart, the authoritative server's verdict. */
static void owner_steps(void)
{
	if (f.start_tls == 1 && !f.tls && !f.failed) {
		char *names[] = { (char *)((f.setup & 4) ? "partner.test" : "other.test") };
		if (f.setup & 1)
			names[0] = (char *)((f.setup & 4) ? "example.test" : "other.test");
		const struct s2s_peer_certificate peer = { .verified = (f.setup & 2) != 0,
							   .names = names,
							   .n_names = 1 };
		f.tls = true;
		s2s_receiver_tls_up(f.receiver, &peer);
		/* The echo parser reads our side: a new stream after TLS. */
		FUZZ_REQUIRE(xmpp_parser_restart(f.echo) == 0);
	}
	if (f.verdict_due && !f.failed) {
		f.verdict_due = false;
		s2s_receiver_dialback_verdict(f.receiver, f.pending_local, f.pending_remote,
					      (f.setup & 8) != 0);
	}
	if (f.restart && !f.failed) {
		f.restart = false;
		FUZZ_REQUIRE(xmpp_parser_restart(f.parser) == 0);
		if (f.tls && f.echo_open)
			FUZZ_REQUIRE(xmpp_parser_restart(f.echo) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xmpp_limits limits;
	static const struct s2s_actions actions = { on_send,	      on_start_tls, on_restart,
						    on_authenticated, on_ready,	    on_stanza,
						    on_failed };
	const struct s2s_receiver_policy policy_public = { is_ours, is_partner, on_verify };
	const struct s2s_receiver_policy policy_internal = { is_partner, is_ours, on_verify };

	if (size < SETUP_SIZE)
		return 0;
	memset(&f, 0, sizeof(f));
	f.setup = data[0];
	const struct s2s_receiver_settings settings = {
		.flavour = (f.setup & 1) ? S2S_RECEIVER_INTERNAL : S2S_RECEIVER_PUBLIC,
		.stream_id = "fuzz-stream",
		.dialback_secret = "fuzz secret",
		.offer_bidi = (f.setup & 16) != 0,
		.offer_dialback = (f.setup & 32) != 0,
	};
	xmpp_limits_default(&limits);
	limits.max_stanza = 4096;
	f.parser = xmpp_parser_new(&limits, &parser_events, NULL);
	f.echo = xmpp_parser_new(&limits, &echo_events, NULL);
	f.receiver = s2s_receiver_new(&settings, (f.setup & 1) ? &policy_internal : &policy_public,
				      &actions, NULL);
	FUZZ_REQUIRE(f.parser != NULL && f.echo != NULL && f.receiver != NULL);
	if (f.setup & 1)
		f.start_tls = 1; /* internal: TLS from the first byte */
	owner_steps();

	/* One read of the whole stream, resumed where the machine stopped
	 * the parser for a restart or a TLS upgrade.  (A real connection
	 * refuses bytes read together with <starttls/>; here they stand for
	 * what comes over TLS, so that one input drives a whole negotiation.) */
	char *stream = fuzz_copy(data + SETUP_SIZE, size - SETUP_SIZE);
	size_t offset = 0, length = size - SETUP_SIZE;
	while (offset < length && !f.failed) {
		size_t used = 0;
		bool secure = f.tls;
		if (xmpp_parser_feed(f.parser, stream + offset, length - offset, &used) !=
		    XMPP_STREAM_OK)
			break; /* the connection sends the parser's stream error */
		offset += used;
		bool restart = f.restart;
		owner_steps();
		if (offset < length && !restart && f.tls == secure)
			break; /* the machine stopped reading */
	}
	free(stream);
	s2s_receiver_free(f.receiver);
	xmpp_parser_free(f.parser);
	xmpp_parser_free(f.echo);
	return 0;
}
