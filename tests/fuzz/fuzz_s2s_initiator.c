/* SPDX-License-Identifier: ISC */
/* Fuzz target: the negotiation of a stream the edge opens
 * (s2s_initiator), fed by the stream parser with whatever a peer sends.
 *
 * Input: one byte of options (bit 0 the internal flavour, 1 a dialback
 * secret, 2 bidi wanted, 3 TLS direct from the start, 4 the certificate
 * verified, 5 its names matching, 6 the owner asks <db:verify/>), then the
 * peer's bytes in chunks separated by 0x01 or 0x02 (bytes no XML stream
 * may hold); after each chunk, TLS comes up if the machine asked for it,
 * and after one ending in 0x02 the owner asks the peer to verify a key
 * for stream id "vN" (s2s_initiator_verify).  Besides what the sanitizers
 * check, the machine must keep the promises of s2s_initiator.h: it ends at
 * most once and is silent after, it is ready at most once and only after
 * authenticating, stanzas come only on a ready bidi stream, STARTTLS only
 * on a public stream without TLS; a verification is taken only on a public
 * machine that has an answer callback, has not ended and has fewer than
 * S2S_INITIATOR_VERIFIES_MAX unanswered, and each answer is for one asked
 * and not yet answered, once. */
#include <stdbool.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "fuzz.h"
#include "s2s_initiator.h"
#include "stream_parser.h"

struct owner {
	struct s2s_initiator *machine;
	struct xmpp_parser *parser;
	bool internal, direct_tls, verified, names_match;
	unsigned start_tls, restarts, authenticated, ready, stanzas, failed;
	bool asks_verify;
	unsigned verifies_asked; /* for the ids "v0", "v1", ... */
	bool unanswered[256]; /* by the N of "vN" */
	unsigned n_unanswered;
};

static void on_send(void *arg, const char *data, size_t len)
{
	struct owner *owner = arg;
	FUZZ_REQUIRE(owner->failed == 0 && data != NULL && len > 0);
}

static void on_start_tls(void *arg)
{
	struct owner *owner = arg;
	FUZZ_REQUIRE(owner->failed == 0 && !owner->internal && !owner->direct_tls);
	owner->start_tls++;
	FUZZ_REQUIRE(owner->start_tls == 1);
}

static void on_restart(void *arg)
{
	struct owner *owner = arg;
	FUZZ_REQUIRE(owner->failed == 0);
	owner->restarts++;
	FUZZ_REQUIRE(owner->restarts <= 2); /* after TLS and after SASL */
	FUZZ_REQUIRE(xmpp_parser_restart(owner->parser) == 0);
}

static void on_authenticated(void *arg, const char *local, const char *remote, bool certificate)
{
	struct owner *owner = arg;
	FUZZ_REQUIRE(owner->failed == 0 && local != NULL && remote != NULL);
	FUZZ_REQUIRE(certificate == s2s_initiator_remote_verified(owner->machine));
	FUZZ_REQUIRE(!certificate || (owner->verified && owner->names_match));
	owner->authenticated++;
	FUZZ_REQUIRE(owner->authenticated == 1);
}

static void on_ready(void *arg)
{
	struct owner *owner = arg;
	FUZZ_REQUIRE(owner->failed == 0 && owner->authenticated == 1);
	owner->ready++;
	FUZZ_REQUIRE(owner->ready == 1);
	FUZZ_REQUIRE(s2s_initiator_is_ready(owner->machine));
}

static void on_stanza(void *arg, struct xml_element *stanza)
{
	struct owner *owner = arg;
	FUZZ_REQUIRE(owner->failed == 0 && owner->ready == 1);
	FUZZ_REQUIRE(s2s_initiator_bidi(owner->machine));
	owner->stanzas++;
	/* answer on the same stream, as a bidi owner would */
	FUZZ_REQUIRE(s2s_initiator_send_stanza(owner->machine, stanza) == 0);
	xml_element_free(stanza);
}

static void on_failed(void *arg, enum xmpp_stream_error error, const char *reason)
{
	struct owner *owner = arg;
	(void)error;
	FUZZ_REQUIRE(reason != NULL && reason[0] != '\0');
	owner->failed++;
	FUZZ_REQUIRE(owner->failed == 1);
	FUZZ_REQUIRE(!s2s_initiator_is_ready(owner->machine));
}

static void on_verified(void *arg, const char *id, bool valid)
{
	struct owner *owner = arg;
	unsigned n = 0;
	(void)valid;
	FUZZ_REQUIRE(owner->failed == 0 && owner->asks_verify && !owner->internal);
	FUZZ_REQUIRE(id != NULL && sscanf(id, "v%u", &n) == 1 && n < owner->verifies_asked);
	FUZZ_REQUIRE(owner->unanswered[n]);
	owner->unanswered[n] = false;
	owner->n_unanswered--;
}

/* The owner asks the peer about a key: taken exactly when the contract
 * says it must be. */
static void ask_verify(struct owner *owner)
{
	char id[16];
	if (owner->verifies_asked == sizeof(owner->unanswered))
		return;
	snprintf(id, sizeof(id), "v%u", owner->verifies_asked);
	bool taken = s2s_initiator_verify(owner->machine, id, "0123456789abcdef") == 0;
	bool may_take = owner->asks_verify && !owner->internal && owner->failed == 0 &&
			owner->n_unanswered < S2S_INITIATOR_VERIFIES_MAX;
	FUZZ_REQUIRE(taken == may_take);
	if (taken) {
		owner->unanswered[owner->verifies_asked] = true;
		owner->n_unanswered++;
	}
	owner->verifies_asked++;
}

static bool parsed_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	struct owner *owner = arg;
	s2s_initiator_stream_open(owner->machine, header, default_ns);
	return owner->failed == 0;
}

static bool parsed_element(void *arg, struct xml_element *element)
{
	struct owner *owner = arg;
	s2s_initiator_element(owner->machine, element);
	return owner->failed == 0;
}

static void parsed_close(void *arg)
{
	s2s_initiator_stream_close(((struct owner *)arg)->machine);
}

static const struct s2s_actions actions = {
	.send = on_send,
	.start_tls = on_start_tls,
	.restart = on_restart,
	.authenticated = on_authenticated,
	.ready = on_ready,
	.stanza = on_stanza,
	.failed = on_failed,
};

static const struct xmpp_parser_events events = {
	.stream_open = parsed_open,
	.element = parsed_element,
	.stream_close = parsed_close,
};

/* Feeds one chunk (an exactly-sized copy) as a connection would: a
 * refusal by the parser is the owner's abort. */
static void feed(struct owner *owner, const uint8_t *data, size_t len)
{
	char *copy = fuzz_copy(data, len);
	size_t used = 0;
	enum xmpp_stream_error error = xmpp_parser_feed(owner->parser, copy, len, &used);
	FUZZ_REQUIRE(used <= len);
	free(copy);
	if (error != XMPP_STREAM_OK)
		s2s_initiator_abort(owner->machine, error, "parse_error");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t options = data[0];
	struct owner owner = { .internal = options & 1,
			       .direct_tls = (options & 8) != 0,
			       .asks_verify = (options & 64) != 0 };
	const struct s2s_initiator_options machine_options = {
		.flavour = owner.internal ? S2S_INITIATOR_INTERNAL : S2S_INITIATOR_PUBLIC,
		.local = owner.internal ? "partner.test" : "example.test",
		.remote = owner.internal ? "example.test" : "partner.test",
		.dialback_secret = options & 2 ? "secret" : NULL,
		.bidi = options & 4,
		.verified = owner.asks_verify ? on_verified : NULL,
	};
	const struct s2s_peer_certificate certificate = { .verified = options & 16 };
	bool names_match = options & 32;
	owner.verified = certificate.verified;
	owner.names_match = names_match;
	struct xmpp_limits limits;

	xmpp_limits_default(&limits);
	owner.parser = xmpp_parser_new(&limits, &events, &owner);
	owner.machine = s2s_initiator_new(&machine_options, &actions, &owner);
	FUZZ_REQUIRE(owner.parser != NULL && owner.machine != NULL);
	if (owner.direct_tls || owner.internal)
		s2s_initiator_tls_up(owner.machine, &certificate, names_match);
	s2s_initiator_start(owner.machine);
	bool tls_up = owner.direct_tls || owner.internal;
	for (size_t at = 1; at < size && owner.failed == 0;) {
		size_t len = 0;
		while (at + len < size && data[at + len] != 0x01 && data[at + len] != 0x02)
			len++;
		bool verify = at + len < size && data[at + len] == 0x02;
		feed(&owner, data + at, len);
		at += len + 1;
		if (owner.start_tls == 1 && !tls_up && owner.failed == 0) {
			tls_up = true;
			s2s_initiator_tls_up(owner.machine, &certificate, names_match);
		}
		if (verify)
			ask_verify(&owner);
	}
	FUZZ_REQUIRE(owner.stanzas == 0 || owner.ready == 1);
	FUZZ_REQUIRE(s2s_initiator_is_ready(owner.machine) == (owner.ready == 1 && !owner.failed));
	s2s_initiator_free(owner.machine);
	xmpp_parser_free(owner.parser);
	return 0;
}
