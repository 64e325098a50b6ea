/* SPDX-License-Identifier: ISC */
/* xmpp_link: the certificates of the internal link (23456).
 *
 * The internal server connects to the edge as if the edge were the partner
 * it asks for by SNI, and trusts whatever the link CA signs.  So the link
 * CA signs for a partner only once that partner has proven its domain on
 * the public side (a stream the edge opened to it is ready, or its own
 * stream to the edge authenticated it, by certificate or dialback); never
 * for one of our domains, never for a domain policy refuses.
 *
 * The handshake for a partner not yet proven waits before it starts, its
 * ClientHello buffered (tls_hello.h), while the edge opens its stream to
 * that partner; once that stream is ready or has failed, the handshake
 * goes on (xmpp_stream) and the chooser mints or refuses.  What the
 * internal server meant to send waits on its side meanwhile, bounded by
 * [xmpp] negotiation_timeout. */
#ifndef SXEDGE_XMPP_XMPP_LINK_H
#define SXEDGE_XMPP_XMPP_LINK_H

#include <stdbool.h>

#include "xmpp_context.h"

/* The ClientHello of an internal stream asked for SERVER_NAME (a domain
 * as jid_domain gives it, or "" for none or an unusable one): may its
 * handshake start now?  false when the edge is authenticating that
 * partner first: the handshake waits for the edge's stream to it. */
bool xmpp_link_may_start(struct xmpp_context *context, const char *server_name);

/* Makes CONTEXT's internal listener present the link CA's certificates. */
void xmpp_link_serve(struct xmpp_context *context);

#endif
