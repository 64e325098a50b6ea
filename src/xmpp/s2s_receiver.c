/* SPDX-License-Identifier: ISC */
/* s2s_receiver: see s2s_receiver.h.
 *
 * Every element the peer may send is looked at in the state it arrives in,
 * and anything not expected there ends the stream: a negotiation with a
 * stranger has no room for "ignore and see". */
#include "s2s_receiver.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "dialback_key.h"
#include "jid.h"
#include "namespaces.h"
#include "tls.h"
#include "xml_write.h"

/* Domain pairs one dialback stream may authenticate (XEP-0220 §2.4
 * multiplexing) and verifications that may wait at once. */
#define RECEIVER_PAIRS_MAX   16
#define RECEIVER_PENDING_MAX 4
/* SASL attempts before the stream is given up (RFC 6120 §6.4.5 leaves the
 * number to the server). */
#define RECEIVER_SASL_TRIES 2

struct domain_pair {
	char local[JID_DOMAIN_MAX + 1];
	char remote[JID_DOMAIN_MAX + 1];
};

struct s2s_receiver {
	struct s2s_receiver_settings settings;
	struct s2s_receiver_policy policy;
	struct s2s_actions actions;
	void *arg;
	enum s2s_receiver_state state;
	bool secure; /* TLS is up */
	bool sasl_done; /* SASL succeeded: the next header opens the authenticated stream */
	bool bidi;
	bool ready_told;
	bool header_sent; /* on the current stream: an error must follow one */
	unsigned sasl_failures;
	/* The header's to and from (the latter may be absent on the public side). */
	char local[JID_DOMAIN_MAX + 1];
	char remote[JID_DOMAIN_MAX + 1];
	struct s2s_peer_certificate peer;
	char **peer_names; /* our copy of the certificate's names */
	struct domain_pair pairs[RECEIVER_PAIRS_MAX];
	size_t n_pairs;
	struct domain_pair pending[RECEIVER_PENDING_MAX];
	size_t n_pending;
};

static const char *const state_names[] = {
	[S2S_RECEIVER_AWAIT_HEADER] = "await_header",
	[S2S_RECEIVER_AWAIT_STARTTLS] = "await_starttls",
	[S2S_RECEIVER_AWAIT_TLS] = "await_tls",
	[S2S_RECEIVER_AWAIT_AUTH] = "await_auth",
	[S2S_RECEIVER_ESTABLISHED] = "established",
	[S2S_RECEIVER_CLOSED] = "closed",
};

const char *s2s_receiver_state_name(enum s2s_receiver_state state)
{
	return state_names[state];
}

enum s2s_receiver_state s2s_receiver_state(const struct s2s_receiver *receiver)
{
	return receiver->state;
}

bool s2s_receiver_bidi(const struct s2s_receiver *receiver)
{
	return receiver->bidi;
}

/* ---- output ---- */

static void receiver_send_buffer(struct s2s_receiver *receiver, struct evbuffer *out)
{
	size_t length = evbuffer_get_length(out);
	if (length > 0)
		receiver->actions.send(receiver->arg, (const char *)evbuffer_pullup(out, -1),
				       length);
}

/* Sends ELEMENT (freed here) as a child of the stream; false when that
 * failed (out of memory: the stream is failed). */
static bool receiver_send(struct s2s_receiver *receiver, struct xml_element *element)
{
	struct evbuffer *out = evbuffer_new();
	bool written = out != NULL && element != NULL &&
		       xml_write_element(out, element, XMPP_SERVER_NAMESPACE) == 0;
	if (written)
		receiver_send_buffer(receiver, out);
	evbuffer_free(out);
	xml_element_free(element);
	if (!written)
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
	return written;
}

/* An element with one empty child: <proceed/>, <success/>, <failure><x/></failure>. */
static struct xml_element *element_with_child(const char *ns, const char *name,
					      const char *child_ns, const char *child)
{
	struct xml_element *element = xml_element_new(ns, name);
	if (element != NULL && child != NULL &&
	    xml_element_add_child(element, child_ns, child) == NULL) {
		xml_element_free(element);
		return NULL;
	}
	return element;
}

/* The features a header gets in reply, by where the negotiation stands. */
static struct xml_element *receiver_features(const struct s2s_receiver *receiver)
{
	struct xml_element *features = xml_element_new(XMPP_STREAMS_NAMESPACE, "features");
	bool ok = features != NULL;

	if (ok && !receiver->secure) {
		struct xml_element *starttls =
			xml_element_add_child(features, XMPP_TLS_NAMESPACE, "starttls");
		ok = starttls != NULL &&
		     xml_element_add_child(starttls, XMPP_TLS_NAMESPACE, "required") != NULL;
	} else if (ok && !receiver->sasl_done) {
		if (receiver->peer.verified && receiver->peer.n_names > 0) {
			struct xml_element *mechanisms =
				xml_element_add_child(features, XMPP_SASL_NAMESPACE, "mechanisms");
			struct xml_element *mechanism =
				mechanisms != NULL
					? xml_element_add_child(mechanisms, XMPP_SASL_NAMESPACE,
								"mechanism")
					: NULL;
			ok = mechanism != NULL &&
			     xml_element_add_text(mechanism, "EXTERNAL", strlen("EXTERNAL")) == 0;
		}
		if (ok && receiver->settings.flavour == S2S_RECEIVER_PUBLIC &&
		    receiver->settings.offer_dialback) {
			struct xml_element *dialback = xml_element_add_child(
				features, XMPP_DIALBACK_FEATURE_NAMESPACE, "dialback");
			ok = dialback != NULL &&
			     xml_element_add_child(dialback, XMPP_DIALBACK_FEATURE_NAMESPACE,
						   "errors") != NULL;
		}
	}
	if (ok && receiver->secure && receiver->settings.offer_bidi && !receiver->bidi)
		ok = xml_element_add_child(features, XMPP_BIDI_FEATURE_NAMESPACE, "bidi") != NULL;
	if (!ok) {
		xml_element_free(features);
		return NULL;
	}
	return features;
}

/* Our header (from the domain the stream was opened to, once known; our
 * stream id), or NULL when out of memory. */
static struct xml_element *receiver_header(const struct s2s_receiver *receiver)
{
	struct xml_element *header = xml_element_new(XMPP_STREAMS_NAMESPACE, "stream");
	if (header == NULL ||
	    (receiver->local[0] != '\0' &&
	     xml_element_set_attribute(header, NULL, "from", receiver->local) != 0) ||
	    xml_element_set_attribute(header, NULL, "id", receiver->settings.stream_id) != 0 ||
	    xml_element_set_attribute(header, NULL, "version", "1.0") != 0 ||
	    (receiver->remote[0] != '\0' &&
	     xml_element_set_attribute(header, NULL, "to", receiver->remote) != 0)) {
		xml_element_free(header);
		return NULL;
	}
	return header;
}

void s2s_receiver_fail(struct s2s_receiver *receiver, enum xmpp_stream_error error,
		       const char *reason)
{
	if (receiver->state == S2S_RECEIVER_CLOSED)
		return;
	receiver->state = S2S_RECEIVER_CLOSED;
	/* RFC 6120 §4.9.1.1: an error before our header still comes after
	 * one.  XMPP_STREAM_OK: the peer ended the stream, ours just closes. */
	struct evbuffer *out = evbuffer_new();
	struct xml_element *header = receiver->header_sent ? NULL : receiver_header(receiver);
	bool ok = out != NULL &&
		  (receiver->header_sent ||
		   (header != NULL &&
		    xml_write_stream_open(out, header, XMPP_SERVER_NAMESPACE) == 0)) &&
		  (error == XMPP_STREAM_OK || xmpp_write_stream_error(out, error, NULL) == 0) &&
		  xml_write_stream_close(out) == 0;
	if (ok)
		receiver_send_buffer(receiver, out);
	xml_element_free(header);
	evbuffer_free(out);
	receiver->actions.failed(receiver->arg, error, reason);
}

/* Our header in reply, then the features. */
static bool receiver_send_header(struct s2s_receiver *receiver)
{
	struct xml_element *header = receiver_header(receiver);
	struct evbuffer *out = evbuffer_new();
	bool ok = header != NULL && out != NULL &&
		  xml_write_stream_open(out, header, XMPP_SERVER_NAMESPACE) == 0;
	struct xml_element *features = ok ? receiver_features(receiver) : NULL;
	ok = features != NULL && xml_write_element(out, features, XMPP_SERVER_NAMESPACE) == 0;
	if (ok) {
		receiver_send_buffer(receiver, out);
		receiver->header_sent = true;
	}
	xml_element_free(features);
	xml_element_free(header);
	evbuffer_free(out);
	if (!ok)
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
	return ok;
}

/* ---- life cycle ---- */

struct s2s_receiver *s2s_receiver_new(const struct s2s_receiver_settings *settings,
				      const struct s2s_receiver_policy *policy,
				      const struct s2s_actions *actions, void *arg)
{
	struct s2s_receiver *receiver = calloc(1, sizeof(*receiver));
	if (receiver == NULL)
		return NULL;
	receiver->settings = *settings;
	receiver->policy = *policy;
	receiver->actions = *actions;
	receiver->arg = arg;
	receiver->state = S2S_RECEIVER_AWAIT_HEADER;
	return receiver;
}

void s2s_receiver_free(struct s2s_receiver *receiver)
{
	if (receiver == NULL)
		return;
	tls_names_free(receiver->peer_names, receiver->peer.n_names);
	free(receiver);
}

/* ---- the stream header ---- */

static bool receiver_certificate_names(const struct s2s_receiver *receiver, const char *domain);

/* Checks a header against the stream it opens (or reopens after TLS and
 * SASL, where to and from may not change). */
static bool receiver_check_header(struct s2s_receiver *receiver, const struct xml_element *header,
				  const char *default_ns)
{
	const char *to = xml_element_attribute(header, NULL, "to");
	const char *from = xml_element_attribute(header, NULL, "from");
	const char *version = xml_element_attribute(header, NULL, "version");
	char domain[JID_DOMAIN_MAX + 1];
	bool first = receiver->local[0] == '\0';

	if (!xml_element_is(header, XMPP_STREAMS_NAMESPACE, "stream") || default_ns == NULL ||
	    strcmp(default_ns, XMPP_SERVER_NAMESPACE) != 0) {
		s2s_receiver_fail(receiver, XMPP_STREAM_INVALID_NAMESPACE, "stream_namespace");
		return false;
	}
	/* RFC 6120 §4.7.5: a major version other than 1 is not ours to guess. */
	if (version == NULL || strncmp(version, "1.", 2) != 0) {
		s2s_receiver_fail(receiver, XMPP_STREAM_UNSUPPORTED_VERSION, "stream_version");
		return false;
	}
	if (to == NULL || !jid_domain(to, domain) || strchr(to, '@') != NULL ||
	    strchr(to, '/') != NULL || !receiver->policy.local_allowed(receiver->arg, domain) ||
	    (!first && strcmp(domain, receiver->local) != 0)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_HOST_UNKNOWN, "stream_to_not_served");
		return false;
	}
	if (first)
		memcpy(receiver->local, domain, strlen(domain) + 1);
	/* The internal server must say who it is; a partner may leave it to
	 * dialback, which names the domain per key. */
	if (from == NULL) {
		if (receiver->settings.flavour == S2S_RECEIVER_INTERNAL) {
			s2s_receiver_fail(receiver, XMPP_STREAM_INVALID_FROM,
					  "stream_from_missing");
			return false;
		}
		return true;
	}
	if (!jid_domain(from, domain) || strchr(from, '@') != NULL || strchr(from, '/') != NULL ||
	    (receiver->remote[0] != '\0' && strcmp(domain, receiver->remote) != 0)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_INVALID_FROM, "stream_from_invalid");
		return false;
	}
	if (!receiver->policy.remote_allowed(receiver->arg, domain)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_POLICY_VIOLATION, "domain_not_federated");
		return false;
	}
	memcpy(receiver->remote, domain, strlen(domain) + 1);
	/* Internal: the client certificate was checked against the CA; it must
	 * also be the certificate of the domain the server says it is. */
	if (receiver->settings.flavour == S2S_RECEIVER_INTERNAL &&
	    !receiver_certificate_names(receiver, domain)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_NOT_AUTHORIZED,
				  "client_certificate_not_ours");
		return false;
	}
	return true;
}

bool s2s_receiver_stream_open(struct s2s_receiver *receiver, const struct xml_element *header,
			      const char *default_ns)
{
	if (receiver->state != S2S_RECEIVER_AWAIT_HEADER) {
		s2s_receiver_fail(receiver, XMPP_STREAM_NOT_WELL_FORMED, "header_out_of_place");
		return false;
	}
	if (!receiver_check_header(receiver, header, default_ns))
		return false;
	if (!receiver->secure)
		receiver->state = S2S_RECEIVER_AWAIT_STARTTLS;
	else if (!receiver->sasl_done)
		receiver->state = S2S_RECEIVER_AWAIT_AUTH;
	else
		receiver->state = S2S_RECEIVER_ESTABLISHED;
	if (!receiver_send_header(receiver))
		return false;
	if (receiver->state == S2S_RECEIVER_ESTABLISHED && !receiver->ready_told) {
		receiver->ready_told = true;
		receiver->actions.ready(receiver->arg);
	}
	return receiver->state != S2S_RECEIVER_CLOSED;
}

void s2s_receiver_stream_close(struct s2s_receiver *receiver)
{
	/* The peer ended its side: ours ends too, without an error. */
	s2s_receiver_fail(receiver, XMPP_STREAM_OK, "peer_closed_stream");
}

/* ---- TLS ---- */

void s2s_receiver_tls_up(struct s2s_receiver *receiver, const struct s2s_peer_certificate *peer)
{
	if (receiver->secure || receiver->state == S2S_RECEIVER_CLOSED)
		return;
	/* Public: only after our <proceed/>. */
	if (receiver->settings.flavour == S2S_RECEIVER_PUBLIC &&
	    receiver->state != S2S_RECEIVER_AWAIT_TLS) {
		s2s_receiver_fail(receiver, XMPP_STREAM_POLICY_VIOLATION, "tls_out_of_place");
		return;
	}
	receiver->secure = true;
	receiver->peer_names = calloc(peer->n_names + 1, sizeof(char *));
	if (receiver->peer_names == NULL) {
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return;
	}
	for (size_t i = 0; i < peer->n_names; i++) {
		receiver->peer_names[i] = strdup(peer->names[i]);
		if (receiver->peer_names[i] == NULL) {
			tls_names_free(receiver->peer_names, i);
			receiver->peer_names = NULL;
			s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR,
					  "out_of_memory");
			return;
		}
	}
	receiver->peer = (struct s2s_peer_certificate){ .verified = peer->verified,
							.names = receiver->peer_names,
							.n_names = peer->n_names };
	/* Internal: TLS came first, the header is still to come.  Public: the
	 * stream restarts over TLS. */
	if (receiver->settings.flavour == S2S_RECEIVER_INTERNAL && !peer->verified) {
		s2s_receiver_fail(receiver, XMPP_STREAM_NOT_AUTHORIZED,
				  "client_certificate_missing");
		return;
	}
	receiver->state = S2S_RECEIVER_AWAIT_HEADER;
	if (receiver->settings.flavour == S2S_RECEIVER_PUBLIC) {
		receiver->header_sent = false; /* a new stream over TLS */
		receiver->actions.restart(receiver->arg);
	}
}

/* Does the peer's certificate name DOMAIN (RFC 6125 DNS-ID)? */
static bool receiver_certificate_names(const struct s2s_receiver *receiver, const char *domain)
{
	return receiver->peer.verified &&
	       tls_names_match(receiver->peer.names, receiver->peer.n_names,
			       (const char *const[]){ domain }, 1);
}

static bool receiver_on_starttls(struct s2s_receiver *receiver, struct xml_element *element)
{
	bool starttls = xml_element_is(element, XMPP_TLS_NAMESPACE, "starttls");
	xml_element_free(element);
	if (!starttls) {
		/* RFC 6120 §5.3.1: TLS is mandatory here; nothing before it. */
		s2s_receiver_fail(receiver, XMPP_STREAM_POLICY_VIOLATION, "starttls_required");
		return false;
	}
	if (!receiver_send(receiver, xml_element_new(XMPP_TLS_NAMESPACE, "proceed")))
		return false;
	receiver->state = S2S_RECEIVER_AWAIT_TLS;
	receiver->actions.start_tls(receiver->arg);
	/* What follows <starttls/> in the same read is plaintext after the
	 * upgrade: the parser stops here, the connection refuses it. */
	return false;
}

/* ---- SASL EXTERNAL ---- */

/* The authorization identity of an <auth/>: "=" (RFC 6120 §6.4.2, none
 * given) or base64 of a domain.  Writes it into DOMAIN ("" for none);
 * false when it is no base64 of a domain. */
static bool sasl_authzid(const char *text, char domain[JID_DOMAIN_MAX + 1])
{
	size_t length = strlen(text);
	unsigned char decoded[JID_DOMAIN_MAX + 3];

	domain[0] = '\0';
	if (strcmp(text, "=") == 0 || length == 0)
		return true;
	if (length % 4 != 0 || length / 4 * 3 > sizeof(decoded))
		return false;
	int decoded_length = EVP_DecodeBlock(decoded, (const unsigned char *)text, (int)length);
	if (decoded_length < 0)
		return false;
	/* EVP_DecodeBlock counts the padding's bytes as zeros. */
	while (length > 0 && text[length - 1] == '=') {
		length--;
		decoded_length--;
	}
	if (decoded_length <= 0 || memchr(decoded, '\0', (size_t)decoded_length) != NULL)
		return false;
	decoded[decoded_length] = '\0';
	return jid_domain((const char *)decoded, domain) && strchr((char *)decoded, '@') == NULL;
}

static bool receiver_sasl_refuse(struct s2s_receiver *receiver, const char *condition,
				 const char *reason)
{
	if (!receiver_send(receiver, element_with_child(XMPP_SASL_NAMESPACE, "failure",
							XMPP_SASL_NAMESPACE, condition)))
		return false;
	if (++receiver->sasl_failures >= RECEIVER_SASL_TRIES) {
		s2s_receiver_fail(receiver, XMPP_STREAM_NOT_AUTHORIZED, reason);
		return false;
	}
	return true;
}

static bool receiver_on_auth(struct s2s_receiver *receiver, const struct xml_element *auth)
{
	const char *mechanism = xml_element_attribute(auth, NULL, "mechanism");
	char authzid[JID_DOMAIN_MAX + 1];
	char *text = xml_element_text(auth);

	if (text == NULL) {
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return false;
	}
	bool valid = sasl_authzid(text, authzid);
	free(text);
	if (mechanism == NULL || strcmp(mechanism, "EXTERNAL") != 0)
		return receiver_sasl_refuse(receiver, "invalid-mechanism", "sasl_mechanism");
	if (!valid)
		return receiver_sasl_refuse(receiver, "malformed-request", "sasl_malformed");
	/* The identity is the authzid, or else the header's from. */
	const char *claimed = authzid[0] != '\0' ? authzid : receiver->remote;
	if (claimed[0] == '\0' ||
	    (receiver->remote[0] != '\0' && strcmp(claimed, receiver->remote) != 0))
		return receiver_sasl_refuse(receiver, "invalid-authzid", "sasl_authzid");
	if (!receiver->policy.remote_allowed(receiver->arg, claimed)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_POLICY_VIOLATION, "domain_not_federated");
		return false;
	}
	if (!receiver_certificate_names(receiver, claimed))
		return receiver_sasl_refuse(receiver, "not-authorized",
					    "certificate_not_for_domain");
	memmove(receiver->remote, claimed, strlen(claimed) + 1);
	if (!receiver_send(receiver, xml_element_new(XMPP_SASL_NAMESPACE, "success")))
		return false;
	receiver->sasl_done = true;
	memcpy(receiver->pairs[0].local, receiver->local, strlen(receiver->local) + 1);
	memcpy(receiver->pairs[0].remote, receiver->remote, strlen(receiver->remote) + 1);
	receiver->n_pairs = 1;
	receiver->state = S2S_RECEIVER_AWAIT_HEADER;
	receiver->header_sent = false;
	receiver->actions.authenticated(receiver->arg, receiver->local, receiver->remote, true);
	receiver->actions.restart(receiver->arg);
	/* The peer waits for <success/> before its new header: nothing more in this read. */
	return false;
}

/* ---- dialback (XEP-0220) ---- */

static bool receiver_pair_known(const struct domain_pair *pairs, size_t n, const char *local,
				const char *remote)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pairs[i].local, local) == 0 && strcmp(pairs[i].remote, remote) == 0)
			return true;
	}
	return false;
}

/* The to and from of a dialback element as domains. */
static bool dialback_domains(const struct xml_element *element, char local[JID_DOMAIN_MAX + 1],
			     char remote[JID_DOMAIN_MAX + 1])
{
	const char *to = xml_element_attribute(element, NULL, "to");
	const char *from = xml_element_attribute(element, NULL, "from");
	return to != NULL && from != NULL && jid_domain(to, local) && jid_domain(from, remote) &&
	       strpbrk(to, "@/") == NULL && strpbrk(from, "@/") == NULL;
}

/* <db:result from=REMOTE to=LOCAL>KEY</db:result>: the peer claims REMOTE;
 * the owner asks REMOTE's authoritative server. */
static bool receiver_on_db_result(struct s2s_receiver *receiver, const struct xml_element *result)
{
	char local[JID_DOMAIN_MAX + 1], remote[JID_DOMAIN_MAX + 1];

	if (!dialback_domains(result, local, remote)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_IMPROPER_ADDRESSING, "dialback_addressing");
		return false;
	}
	if (!receiver->policy.local_allowed(receiver->arg, local)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_HOST_UNKNOWN, "dialback_to_not_served");
		return false;
	}
	if (!receiver->policy.remote_allowed(receiver->arg, remote)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_POLICY_VIOLATION, "domain_not_federated");
		return false;
	}
	if (receiver_pair_known(receiver->pairs, receiver->n_pairs, local, remote) ||
	    receiver_pair_known(receiver->pending, receiver->n_pending, local, remote))
		return true; /* asked again: the first answer stands */
	if (receiver->n_pending == RECEIVER_PENDING_MAX ||
	    receiver->n_pairs + receiver->n_pending == RECEIVER_PAIRS_MAX) {
		s2s_receiver_fail(receiver, XMPP_STREAM_POLICY_VIOLATION, "dialback_too_many");
		return false;
	}
	char *key = xml_element_text(result);
	if (key == NULL) {
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return false;
	}
	struct domain_pair *pending = &receiver->pending[receiver->n_pending++];
	memcpy(pending->local, local, strlen(local) + 1);
	memcpy(pending->remote, remote, strlen(remote) + 1);
	receiver->policy.verify_dialback(receiver->arg, local, remote, key,
					 receiver->settings.stream_id);
	free(key);
	return receiver->state != S2S_RECEIVER_CLOSED;
}

void s2s_receiver_dialback_verdict(struct s2s_receiver *receiver, const char *local,
				   const char *remote, bool valid)
{
	size_t i;

	if (receiver->state == S2S_RECEIVER_CLOSED)
		return;
	for (i = 0; i < receiver->n_pending; i++) {
		if (strcmp(receiver->pending[i].local, local) == 0 &&
		    strcmp(receiver->pending[i].remote, remote) == 0)
			break;
	}
	if (i == receiver->n_pending)
		return; /* not asked for on this stream */
	struct domain_pair pair = receiver->pending[i];
	receiver->pending[i] = receiver->pending[--receiver->n_pending];

	struct xml_element *answer = xml_element_new(XMPP_DIALBACK_NAMESPACE, "result");
	if (answer == NULL || xml_element_set_attribute(answer, NULL, "from", pair.local) != 0 ||
	    xml_element_set_attribute(answer, NULL, "to", pair.remote) != 0 ||
	    xml_element_set_attribute(answer, NULL, "type", valid ? "valid" : "invalid") != 0) {
		xml_element_free(answer);
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return;
	}
	if (!receiver_send(receiver, answer))
		return;
	if (!valid) {
		s2s_receiver_fail(receiver, XMPP_STREAM_NOT_AUTHORIZED, "dialback_invalid");
		return;
	}
	receiver->pairs[receiver->n_pairs++] = pair;
	receiver->actions.authenticated(receiver->arg, pair.local, pair.remote, false);
	if (receiver->state == S2S_RECEIVER_AWAIT_AUTH) {
		receiver->state = S2S_RECEIVER_ESTABLISHED;
		receiver->ready_told = true;
		receiver->actions.ready(receiver->arg);
	}
}

/* <db:verify from=RECEIVING to=ORIGINATING id=STREAM>KEY</db:verify>: a
 * server asks us, authoritative for ORIGINATING (ours), whether we gave
 * KEY on the stream STREAM we opened to it. */
static bool receiver_on_db_verify(struct s2s_receiver *receiver, const struct xml_element *verify)
{
	char ours[JID_DOMAIN_MAX + 1], asking[JID_DOMAIN_MAX + 1];
	const char *id = xml_element_attribute(verify, NULL, "id");

	if (!dialback_domains(verify, ours, asking) || id == NULL || id[0] == '\0') {
		s2s_receiver_fail(receiver, XMPP_STREAM_IMPROPER_ADDRESSING, "dialback_addressing");
		return false;
	}
	/* Only the public side has a secret: the internal server never asks. */
	if (receiver->settings.flavour != S2S_RECEIVER_PUBLIC ||
	    receiver->settings.dialback_secret == NULL ||
	    !receiver->policy.local_allowed(receiver->arg, ours)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_HOST_UNKNOWN, "dialback_to_not_served");
		return false;
	}
	char *key = xml_element_text(verify);
	if (key == NULL) {
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return false;
	}
	bool valid = xmpp_dialback_key_matches(receiver->settings.dialback_secret, asking, ours, id,
					       key);
	free(key);
	struct xml_element *answer = xml_element_new(XMPP_DIALBACK_NAMESPACE, "verify");
	if (answer == NULL || xml_element_set_attribute(answer, NULL, "from", ours) != 0 ||
	    xml_element_set_attribute(answer, NULL, "to", asking) != 0 ||
	    xml_element_set_attribute(answer, NULL, "id", id) != 0 ||
	    xml_element_set_attribute(answer, NULL, "type", valid ? "valid" : "invalid") != 0) {
		xml_element_free(answer);
		s2s_receiver_fail(receiver, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return false;
	}
	return receiver_send(receiver, answer);
}

/* ---- stanzas ---- */

static bool is_stanza(const struct xml_element *element)
{
	return xml_element_is(element, XMPP_SERVER_NAMESPACE, "message") ||
	       xml_element_is(element, XMPP_SERVER_NAMESPACE, "presence") ||
	       xml_element_is(element, XMPP_SERVER_NAMESPACE, "iq");
}

/* RFC 6120 §8.1.1.1 and §4.7.1: on a server-to-server stream every stanza
 * names both ends, its from an authenticated domain and its to the domain
 * that domain was authenticated to. */
static bool receiver_on_stanza(struct s2s_receiver *receiver, struct xml_element *stanza)
{
	const char *to = xml_element_attribute(stanza, NULL, "to");
	const char *from = xml_element_attribute(stanza, NULL, "from");
	char local[JID_DOMAIN_MAX + 1], remote[JID_DOMAIN_MAX + 1];
	enum xmpp_stream_error error = XMPP_STREAM_OK;
	const char *reason = NULL;

	if (to == NULL || from == NULL) {
		error = XMPP_STREAM_IMPROPER_ADDRESSING, reason = "stanza_addressing";
	} else if (!jid_domain(from, remote)) {
		error = XMPP_STREAM_INVALID_FROM, reason = "stanza_from_invalid";
	} else if (!jid_domain(to, local)) {
		error = XMPP_STREAM_HOST_UNKNOWN, reason = "stanza_to_not_served";
	} else if (!receiver_pair_known(receiver->pairs, receiver->n_pairs, local, remote)) {
		/* Which end is wrong: a from never authenticated is a spoof. */
		bool remote_known = false;
		for (size_t i = 0; i < receiver->n_pairs; i++)
			remote_known |= strcmp(receiver->pairs[i].remote, remote) == 0;
		if (remote_known)
			error = XMPP_STREAM_HOST_UNKNOWN, reason = "stanza_to_not_served";
		else
			error = XMPP_STREAM_INVALID_FROM, reason = "stanza_from_not_authenticated";
	}
	if (error != XMPP_STREAM_OK) {
		xml_element_free(stanza);
		s2s_receiver_fail(receiver, error, reason);
		return false;
	}
	receiver->actions.stanza(receiver->arg, stanza);
	return receiver->state != S2S_RECEIVER_CLOSED;
}

/* ---- elements ---- */

/* While authenticating, and once established (more dialback pairs). */
static bool receiver_on_negotiation(struct s2s_receiver *receiver, struct xml_element *element)
{
	bool result = false;

	if (xml_element_is(element, XMPP_SASL_NAMESPACE, "auth") && !receiver->sasl_done &&
	    receiver->n_pairs == 0) {
		result = receiver_on_auth(receiver, element);
	} else if (xml_element_is(element, XMPP_DIALBACK_NAMESPACE, "result") &&
		   !receiver->sasl_done && receiver->settings.flavour == S2S_RECEIVER_PUBLIC &&
		   receiver->settings.offer_dialback) {
		result = receiver_on_db_result(receiver, element);
	} else if (xml_element_is(element, XMPP_DIALBACK_NAMESPACE, "verify")) {
		result = receiver_on_db_verify(receiver, element);
	} else if (xml_element_is(element, XMPP_BIDI_NAMESPACE, "bidi") &&
		   receiver->settings.offer_bidi && receiver->n_pairs == 0) {
		/* XEP-0288 §2: asked for before authentication. */
		receiver->bidi = true;
		result = true;
	} else if (receiver->state == S2S_RECEIVER_ESTABLISHED && is_stanza(element)) {
		return receiver_on_stanza(receiver, element);
	} else if (is_stanza(element)) {
		s2s_receiver_fail(receiver, XMPP_STREAM_NOT_AUTHORIZED,
				  "stanza_before_authentication");
	} else {
		s2s_receiver_fail(receiver, XMPP_STREAM_UNSUPPORTED_STANZA_TYPE,
				  "element_out_of_place");
	}
	xml_element_free(element);
	return result;
}

bool s2s_receiver_element(struct s2s_receiver *receiver, struct xml_element *element)
{
	switch (receiver->state) {
	case S2S_RECEIVER_AWAIT_STARTTLS:
		return receiver_on_starttls(receiver, element);
	case S2S_RECEIVER_AWAIT_AUTH:
	case S2S_RECEIVER_ESTABLISHED:
		if (xml_element_is(element, XMPP_STREAMS_NAMESPACE, "error")) {
			xml_element_free(element);
			s2s_receiver_fail(receiver, XMPP_STREAM_OK, "peer_stream_error");
			return false;
		}
		return receiver_on_negotiation(receiver, element);
	case S2S_RECEIVER_AWAIT_HEADER:
	case S2S_RECEIVER_AWAIT_TLS:
		xml_element_free(element);
		s2s_receiver_fail(receiver, XMPP_STREAM_NOT_WELL_FORMED, "element_out_of_place");
		return false;
	case S2S_RECEIVER_CLOSED:
		break;
	}
	xml_element_free(element);
	return false;
}
