/* SPDX-License-Identifier: ISC */
/* xmpp_dialback: the edge as Receiving Server (XEP-0220 §2.2): a partner
 * sent <db:result from=REMOTE to=LOCAL>KEY</db:result> on a stream it
 * opened, and the edge asks REMOTE's authoritative server whether KEY is
 * its own, over the edge's out_public stream from LOCAL to REMOTE (the
 * one already there, or a new one), with <db:verify/>.
 *
 * Each verification is bounded: it ends within [federation]
 * connect_timeout, and one that cannot be asked (no stream could be
 * opened, the stream failed, took too long or refused more questions)
 * is invalid.  The verdict goes to the asking stream's receiver
 * (xmpp_stream_dialback_verdict), never from inside the call that asked. */
#ifndef SXEDGE_XMPP_XMPP_DIALBACK_H
#define SXEDGE_XMPP_XMPP_DIALBACK_H

#include <stdbool.h>

#include "xmpp_context.h"

/* ASKING (an in_public stream) wants KEY, given for its stream STREAM_ID
 * towards LOCAL, verified with REMOTE's authoritative server. */
void xmpp_dialback_verify(struct xmpp_context *context, struct xmpp_stream *asking,
			  const char *local, const char *remote, const char *key,
			  const char *stream_id);

/* VIA tries another address with a new machine: what was asked on it is
 * asked again there. */
void xmpp_dialback_machine_new(struct xmpp_context *context, struct xmpp_stream *via);

/* The answer that came on the out_public stream VIA for the stream ID. */
void xmpp_dialback_answer(struct xmpp_context *context, struct xmpp_stream *via, const char *id,
			  bool valid);

/* STREAM is going away: what it asked is forgotten, what it carried is
 * invalid (the authoritative server can no longer answer). */
void xmpp_dialback_stream_gone(struct xmpp_context *context, struct xmpp_stream *stream);

/* The INDEX-th key being verified: the stream asking for the verdict
 * (*ASKING) and the domain the key claims to be (*REMOTE); false past the
 * last. */
bool xmpp_dialback_pending(const struct xmpp_context *context, size_t index,
			   struct xmpp_stream **asking, const char **remote);

/* Forgets every verification (the context is freed). */
void xmpp_dialback_clear(struct xmpp_context *context);

#endif
