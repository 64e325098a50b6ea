/* SPDX-License-Identifier: ISC */
/* s2s_receiver: the negotiation of a server-to-server stream a peer opened
 * to the edge (RFC 6120 §4-§6, XEP-0220, XEP-0288), as a pure machine.
 *
 * Public flavour (5269, a partner's server): stream header -> STARTTLS,
 * required -> header again -> SASL EXTERNAL when the peer's certificate
 * names the domain it claims, else dialback (the owner asks the claimed
 * domain's authoritative server and reports the verdict) -> stanzas, each
 * with a from of an authenticated domain and a to of the domain it was
 * authenticated to.  On the same stream it answers <db:verify/> for our own
 * domains as their authoritative server.
 *
 * Internal flavour (23456, the organisation's own server, TLS from the
 * first byte): the client certificate must name one of our domains, the
 * header's to is the partner domain the edge answers as; SASL EXTERNAL
 * only.
 *
 *   await_header -> await_starttls -> await_tls -> await_header (TLS) ->
 *   await_auth -> [await_header (after SASL)] -> established -> closed
 *
 * Any element out of place ends the stream with the matching stream
 * error; every refusal has a stable reason name. */
#ifndef SXEDGE_XMPP_S2S_RECEIVER_H
#define SXEDGE_XMPP_S2S_RECEIVER_H

#include <stdbool.h>

#include "s2s.h"
#include "xml_tree.h"

enum s2s_receiver_flavour {
	S2S_RECEIVER_PUBLIC,
	S2S_RECEIVER_INTERNAL,
};

enum s2s_receiver_state {
	S2S_RECEIVER_AWAIT_HEADER,
	S2S_RECEIVER_AWAIT_STARTTLS,
	S2S_RECEIVER_AWAIT_TLS,
	S2S_RECEIVER_AWAIT_AUTH,
	S2S_RECEIVER_ESTABLISHED,
	S2S_RECEIVER_CLOSED,
};

/* The owner's answers to "may this domain be named here?": policy. */
struct s2s_receiver_policy {
	/* May the header's to name DOMAIN?  Public: one of our domains;
	 * internal: a partner the edge may answer as (never one of ours). */
	bool (*local_allowed)(void *arg, const char *domain);
	/* May DOMAIN authenticate as the peer?  Public: a partner policy
	 * allows; internal: one of our domains. */
	bool (*remote_allowed)(void *arg, const char *domain);
	/* Public, with offer_dialback: asks DOMAIN's authoritative server
	 * whether KEY is what it gave for the stream STREAM_ID towards LOCAL;
	 * the verdict comes back through s2s_receiver_dialback_verdict. */
	void (*verify_dialback)(void *arg, const char *local, const char *remote, const char *key,
				const char *stream_id);
};

struct s2s_receiver_settings {
	enum s2s_receiver_flavour flavour;
	const char *stream_id; /* ours for this stream: unpredictable, the owner's random */
	const char *dialback_secret; /* public: answers <db:verify/> for our domains */
	bool offer_bidi; /* XEP-0288 */
	/* Public: offer dialback (XEP-0220) besides SASL EXTERNAL; needs the
	 * policy's verify_dialback. */
	bool offer_dialback;
};

struct s2s_receiver;

/* SETTINGS, POLICY and ACTIONS are copied; their strings and ARG must
 * outlive the machine.  NULL when out of memory. */
struct s2s_receiver *s2s_receiver_new(const struct s2s_receiver_settings *settings,
				      const struct s2s_receiver_policy *policy,
				      const struct s2s_actions *actions, void *arg);
void s2s_receiver_free(struct s2s_receiver *receiver);

enum s2s_receiver_state s2s_receiver_state(const struct s2s_receiver *receiver);
const char *s2s_receiver_state_name(enum s2s_receiver_state state);

/* The stream parser's events (stream_parser.h); each returns false when
 * the parser must stop (the stream failed, or a restart is pending). */
bool s2s_receiver_stream_open(struct s2s_receiver *receiver, const struct xml_element *header,
			      const char *default_ns);
bool s2s_receiver_element(struct s2s_receiver *receiver, struct xml_element *element);
void s2s_receiver_stream_close(struct s2s_receiver *receiver);

/* TLS is up: after start_tls (public), or at once (internal, before any
 * byte is parsed). */
void s2s_receiver_tls_up(struct s2s_receiver *receiver, const struct s2s_peer_certificate *peer);

/* The authoritative server's verdict on a dialback key. */
void s2s_receiver_dialback_verdict(struct s2s_receiver *receiver, const char *local,
				   const char *remote, bool valid);

/* The owner ends the stream (a timeout, shutdown): a stream error with
 * REASON, as failed reports it. */
void s2s_receiver_fail(struct s2s_receiver *receiver, enum xmpp_stream_error error,
		       const char *reason);

/* Did the peer ask for a bidirectional stream (XEP-0288)? */
bool s2s_receiver_bidi(const struct s2s_receiver *receiver);

#endif
