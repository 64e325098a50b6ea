/* SPDX-License-Identifier: ISC */
/* xmpp_router: where a stanza goes.  A stanza to one of our domains goes
 * inward, to the internal server: over the stream the internal server
 * opened to the edge for that partner when it is bidirectional (XEP-0288),
 * else over a stream the edge opens to [xmpp] internal_server.  Any other
 * goes outward, to the partner: over the edge's stream to it, or over the
 * partner's own bidirectional stream.  Streams are opened on demand, the
 * stanza waiting for them; one that cannot be delivered goes back to its
 * sender as a stanza error (RFC 6120 §8.3), unless it is an error itself. */
#ifndef SXEDGE_XMPP_XMPP_ROUTER_H
#define SXEDGE_XMPP_XMPP_ROUTER_H

#include "xml_tree.h"
#include "xmpp_context.h"

struct xmpp_stream;

/* STANZA (taken over) came on FROM and passed its machine's checks. */
void xmpp_route(struct xmpp_context *context, struct xmpp_stream *from, struct xml_element *stanza);

/* STANZA (taken over) cannot be delivered: its sender gets CONDITION (a
 * stanza error condition of RFC 6120 §8.3.3, e.g. "remote-server-not-found"). */
void xmpp_route_bounce(struct xmpp_context *context, struct xml_element *stanza,
		       const char *condition);

/* An accepted stream finished negotiating.  The internal server's stream
 * for a partner: the edge opens its own stream to that partner now, so
 * that the partner is authenticated before the first stanza needs it. */
void xmpp_route_stream_ready(struct xmpp_context *context, struct xmpp_stream *stream);

#endif
