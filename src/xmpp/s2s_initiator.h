/* SPDX-License-Identifier: ISC */
/* s2s_initiator: the negotiation of a server-to-server stream that the edge
 * opens (RFC 6120 §4-§6, XEP-0220 dialback, XEP-0288 bidi), as a pure
 * machine: the owner connects, runs TLS and the parser, feeds the events in
 * and does what the machine asks through struct s2s_actions (s2s.h).
 *
 * Two flavours:
 * - public: to a partner's server (5269 with STARTTLS, or direct TLS).
 *   TLS is never skipped; then SASL EXTERNAL with our certificate, or
 *   dialback (when a secret is given and the peer offers it);
 * - internal: to the organisation's own XMPP server over direct TLS, the
 *   edge speaking as a partner domain; SASL EXTERNAL only.
 *
 * Every element in every state has one outcome: it moves the negotiation
 * on, goes to the owner as a stanza, or ends the stream with a stream error
 * and a named reason.  Once ended, the machine takes nothing more (events
 * are ignored, elements freed) until it is freed.
 *
 * Actions may free the machine (s2s_initiator_free) and may call its
 * functions, except from inside send, which must take the bytes and
 * return. */
#ifndef SXEDGE_XMPP_S2S_INITIATOR_H
#define SXEDGE_XMPP_S2S_INITIATOR_H

#include <stdbool.h>

#include "s2s.h"
#include "stream_error.h"
#include "xml_tree.h"

enum s2s_initiator_flavour {
	S2S_INITIATOR_PUBLIC,
	S2S_INITIATOR_INTERNAL,
};

struct s2s_initiator_options {
	enum s2s_initiator_flavour flavour;
	/* The domain the edge speaks as (ours; on the internal flavour the
	 * partner's) and the one it connects to (the partner; on the internal
	 * flavour ours).  Copied. */
	const char *local;
	const char *remote;
	/* The dialback secret (XEP-0185); NULL: no dialback.  Public only. */
	const char *dialback_secret;
	/* Ask for a bidirectional stream (XEP-0288) when the peer offers one
	 * and its certificate was verified for REMOTE (stanzas coming back
	 * are then from a peer we know). */
	bool bidi;
	/* Public: the peer's answer, as REMOTE's authoritative server, to a
	 * <db:verify/> given to s2s_initiator_verify: the key it was asked
	 * about for the stream ID is (VALID) or is not its own.  Called with
	 * the actions' ARG; NULL: the owner asks none. */
	void (*verified)(void *arg, const char *id, bool valid);
};

/* How the peer accepted LOCAL. */
enum s2s_initiator_method {
	S2S_INITIATOR_NOT_YET,
	S2S_INITIATOR_SASL_EXTERNAL,
	S2S_INITIATOR_DIALBACK,
};

/* NULL: out of memory, or LOCAL or REMOTE empty or missing.  ACTIONS is
 * copied; every one of them must be set. */
struct s2s_initiator *s2s_initiator_new(const struct s2s_initiator_options *options,
					const struct s2s_actions *actions, void *arg);
/* From anywhere, also from inside an action. */
void s2s_initiator_free(struct s2s_initiator *machine);

/* TLS is up: before s2s_initiator_start for direct TLS (the internal
 * flavour always), or after the machine asked start_tls.  CERTIFICATE
 * (NULL: none) and NAMES_MATCH (the owner's RFC 6125 check of its names
 * against REMOTE) decide s2s_initiator_remote_verified; on the internal
 * flavour a peer not verified so ends the stream there. */
void s2s_initiator_tls_up(struct s2s_initiator *machine,
			  const struct s2s_peer_certificate *certificate, bool names_match);
/* The connection is up: sends our stream header. */
void s2s_initiator_start(struct s2s_initiator *machine);

/* The parser's events, as in stream_parser.h; ELEMENT is taken over. */
void s2s_initiator_stream_open(struct s2s_initiator *machine, const struct xml_element *header,
			       const char *default_ns);
void s2s_initiator_element(struct s2s_initiator *machine, struct xml_element *element);
void s2s_initiator_stream_close(struct s2s_initiator *machine);

/* The owner ends the stream (its parser refused input, a deadline passed,
 * shutdown): writes ERROR and closes, then failed(ERROR, REASON).  REASON
 * must outlive the call. */
void s2s_initiator_abort(struct s2s_initiator *machine, enum xmpp_stream_error error,
			 const char *reason);

/* Once ready: writes STANZA (not taken over) in the jabber:server
 * namespace.  -1: not ready, or the writer refused it (OOM). */
int s2s_initiator_send_stanza(struct s2s_initiator *machine, const struct xml_element *stanza);

/* Asks the peer, authoritative for REMOTE (XEP-0220 §2.4), whether KEY is
 * what it gave LOCAL on the stream ID: <db:verify from=LOCAL to=REMOTE
 * id=ID>KEY</db:verify>, written at once or as soon as the stream allows,
 * the answer going to the option's verified.  It goes once the machine has
 * sent its own <db:result/> (the stream not yet authenticated: the peer
 * may be waiting for this very answer to authenticate us, as Prosody does
 * on its side) or once the stream is ready; never between <auth/> and
 * the stream restart.  At most S2S_INITIATOR_VERIFIES_MAX unanswered; -1:
 * more, no verified, not the public flavour, ended, or out of memory. */
#define S2S_INITIATOR_VERIFIES_MAX 16
int s2s_initiator_verify(struct s2s_initiator *machine, const char *id, const char *key);

bool s2s_initiator_is_ready(const struct s2s_initiator *machine);
enum s2s_initiator_method s2s_initiator_method(const struct s2s_initiator *machine);
/* The peer's certificate was verified and names REMOTE (what the
 * authenticated action's CERTIFICATE says too).  A stream authenticated by
 * dialback alone is not: only this says the peer is who DNS said it was. */
bool s2s_initiator_remote_verified(const struct s2s_initiator *machine);
/* XEP-0288 was negotiated: the peer may send stanzas on this stream. */
bool s2s_initiator_bidi(const struct s2s_initiator *machine);

/* How failed's ERROR is to be read: the condition we wrote before closing,
 * except for these two reasons, where we only closed: */
#define S2S_INITIATOR_PEER_ERROR  "peer_stream_error" /* ERROR: the peer's condition */
#define S2S_INITIATOR_PEER_CLOSED "peer_closed_stream" /* ERROR: XMPP_STREAM_OK */

#endif
