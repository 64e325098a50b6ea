/* SPDX-License-Identifier: ISC */
/* s2s: what the server-to-server negotiation machines ask of their owner.
 *
 * The machines (s2s_receiver.c: a stream a peer opened to us;
 * s2s_initiator.c: one we opened) are pure: no sockets, timers or DNS.
 * The owner, the XMPP side of one connection, feeds them the stream
 * parser's events and the connection's TLS events, and does what they ask
 * through these callbacks; every byte they send goes through send, written
 * with xml_write.h, so nothing received is ever passed on as received. */
#ifndef SXEDGE_XMPP_S2S_H
#define SXEDGE_XMPP_S2S_H

#include <stdbool.h>
#include <stddef.h>

#include "stream_error.h"
#include "xml_tree.h"

/* What lib/conn knows of the peer's certificate once TLS is up. */
struct s2s_peer_certificate {
	bool verified; /* the chain leads to a trusted CA */
	char *const *names; /* its identities (conn_peer_names) */
	size_t n_names;
};

struct s2s_actions {
	void (*send)(void *arg, const char *data, size_t len);
	/* Upgrade the connection now (after <proceed/> was sent or received). */
	void (*start_tls)(void *arg);
	/* The next bytes begin a new stream header (xmpp_parser_restart). */
	void (*restart)(void *arg);
	/* LOCAL (ours, or the partner domain we answer as) and REMOTE are now
	 * authenticated on this stream, by SASL EXTERNAL (CERTIFICATE true)
	 * or by dialback; a dialback stream may authenticate several pairs. */
	void (*authenticated)(void *arg, const char *local, const char *remote, bool certificate);
	/* Negotiation is over: stanzas may flow. */
	void (*ready)(void *arg);
	/* A stanza that passed the checks, taken over. */
	void (*stanza)(void *arg, struct xml_element *stanza);
	/* The machine wrote a <stream:error/> and </stream:stream> through
	 * send: close after flushing.  REASON is a stable snake_case name for
	 * the logs and the metrics. */
	void (*failed)(void *arg, enum xmpp_stream_error error, const char *reason);
};

#endif
