/* SPDX-License-Identifier: ISC */
/* xmpp_stream: one server-to-server stream of the edge, accepted or opened:
 * its connection, its stream parser and its negotiation machine
 * (s2s_receiver for the accepted, s2s_initiator for the opened), the
 * domain pairs authenticated on it, and the stanzas waiting for it.
 *
 *   in_public     a partner's server to our 5269, as one of our domains
 *   in_internal   the internal server to 23456, to the edge as a partner
 *   out_public    the edge to a partner's server, as one of our domains
 *   out_internal  the edge to the internal server, as a partner
 *
 * Stanzas that pass its machine's checks go to xmpp_route.  A stream the
 * edge opens resolves its peer (out_public: XEP-0368 and RFC 6120 SRV,
 * xmpp_targets.h) and tries each address until one negotiates, within
 * [federation] connect_timeout; what waited for it is bounced when none
 * does. */
#ifndef SXEDGE_XMPP_XMPP_STREAM_H
#define SXEDGE_XMPP_XMPP_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/util.h>

#include "jid.h"
#include "xml_tree.h"
#include "xmpp_context.h"

enum xmpp_stream_kind {
	XMPP_IN_PUBLIC,
	XMPP_IN_INTERNAL,
	XMPP_OUT_PUBLIC,
	XMPP_OUT_INTERNAL,
};

const char *xmpp_stream_kind_name(enum xmpp_stream_kind kind);
enum xmpp_stream_kind xmpp_stream_kind(const struct xmpp_stream *stream);

/* The INDEX-th domain pair authenticated on STREAM, as the edge sends:
 * *LOCAL our side (or the partner the edge answers as), *REMOTE the
 * peer's.  false past the last. */
bool xmpp_stream_pair(const struct xmpp_stream *stream, size_t index, const char **local,
		      const char **remote);

/* The id and peer address of STREAM's connection, for logs (0 and "none"
 * when it has none). */
uint64_t xmpp_stream_conn_id(const struct xmpp_stream *stream);
const char *xmpp_stream_peer(const struct xmpp_stream *stream);

/* Has partner DOMAIN proven itself on the public side: is a stream the edge
 * opened to it ready, or did its own stream to the edge authenticate it? */
bool xmpp_streams_partner_proven(const struct xmpp_context *context, const char *domain);

/* Accepts FD from a listener of ROLE (xmpp_federation or xmpp_internal)
 * within the role's budget; refused (closed) over it. */
void xmpp_stream_accept(struct xmpp_context *context, enum listener_role role, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len);

/* Opens a stream of KIND (out_public or out_internal) on which the edge
 * speaks as LOCAL to REMOTE, or NULL (out of memory, or nowhere to go:
 * out_internal without [xmpp] internal_server). */
struct xmpp_stream *xmpp_stream_open(struct xmpp_context *context, enum xmpp_stream_kind kind,
				     const char *local, const char *remote);

/* The stream of KIND that carries stanzas from LOCAL to REMOTE (ready, or
 * an opened one still negotiating), or NULL.  For accepted streams LOCAL
 * and REMOTE are as the edge sends: from our side of the pair to the
 * peer's, over a bidirectional stream (XEP-0288) only. */
struct xmpp_stream *xmpp_stream_find(const struct xmpp_context *context, enum xmpp_stream_kind kind,
				     const char *local, const char *remote);

/* Sends STANZA (taken over) now if the stream is ready, or keeps it until
 * then (bounded by [federation] queue_max).  false when it cannot: the
 * caller still has it. */
bool xmpp_stream_send(struct xmpp_stream *stream, struct xml_element *stanza);

/* Ends the stream with ERROR (REASON in the logs and the metrics). */
void xmpp_stream_fail(struct xmpp_stream *stream, enum xmpp_stream_error error, const char *reason);

/* out_public: asks the peer, authoritative for the stream's remote domain,
 * whether KEY is its own for the stream ID (s2s_initiator_verify), now or
 * on the machine of its next address; the answer goes to
 * xmpp_dialback_answer.  false: it will not be asked. */
bool xmpp_stream_ask_verify(struct xmpp_stream *stream, const char *id, const char *key);

/* in_public: the authoritative server's verdict on the key REMOTE gave
 * towards LOCAL: OUTCOME "valid", else why not ("invalid", "timeout",
 * "unreachable", "refused"), logged. */
void xmpp_stream_dialback_verdict(struct xmpp_stream *stream, const char *local, const char *remote,
				  const char *outcome);

/* Ends STREAM whatever its state, REASON in the logs and the metrics: with
 * the stream error ERROR when one can be said; closed when its handshake
 * has not started (an in_internal one waiting for its partner); given up
 * from the loop, what waited for it bounced, while it has no connection
 * yet (resolving, about to connect).  It is never freed inside the call,
 * and from now on no look-up finds it.  false: it had ended already. */
bool xmpp_stream_end(struct xmpp_stream *stream, enum xmpp_stream_error error, const char *reason);

/* The INDEX-th partner domain STREAM carries or waits for, NULL past the
 * last: on the public side the peer's (out_public: its remote; in_public:
 * the remote of each pair authenticated), on the internal side the partner
 * the edge answers as (out_internal: its local; in_internal: the local of
 * each pair, or the partner its handshake waits for). */
const char *xmpp_stream_partner(const struct xmpp_stream *stream, size_t index);

/* The stream after STREAM in its context's list (NULL: the last). */
struct xmpp_stream *xmpp_stream_next(const struct xmpp_stream *stream);

/* CONTEXT's resolver was replaced (a reload): every look-up still in
 * flight, on the old one, is asked again on CONTEXT's new one.  Call it
 * before the old one is freed. */
void xmpp_streams_resolver_replaced(struct xmpp_context *context);

/* Frees it at once, its connection included (shutdown). */
void xmpp_stream_free(struct xmpp_stream *stream);

/* Streams of KIND open now that are READY (negotiated) or not. */
unsigned xmpp_streams_count(const struct xmpp_context *context, enum xmpp_stream_kind kind,
			    bool ready);

/* Registers sxedge_xmpp_streams_open{kind, state} in REGISTRY, read from
 * CONTEXT's streams when the page is rendered. */
void xmpp_streams_register_gauges(struct xmpp_context *context, struct metrics *registry);

/* A whitespace keep-alive on every ready stream. */
void xmpp_streams_keepalive(struct xmpp_context *context);

/* Closes every stream after flushing it (the end of a drain). */
void xmpp_streams_close(struct xmpp_context *context);

/* Streams still open, accepted and opened. */
unsigned xmpp_streams_open(const struct xmpp_context *context);

#endif
