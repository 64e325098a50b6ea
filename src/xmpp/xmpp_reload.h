/* SPDX-License-Identifier: ISC */
/* xmpp_reload: SIGHUP for the XMPP streams of one worker (protocol.h,
 * docs/design.md §9).  Prepare builds from the new snapshot everything the
 * context takes from one (xmpp_settings: the TLS handles from the files
 * read again, the link CA, limits, the internal server's address), a
 * resolver when [federation] dns_server changed, and the keep-alive timer,
 * beside the running ones; nothing that serves changes.  Commit swaps them
 * in, and gives the budgets their new caps: streams set up from then on get them,
 * established ones keep their TLS session and their limits (copied into
 * their connection and parser), and the old snapshot's reference is given
 * back (nothing of the XMPP module points into a snapshot but the
 * settings).  Counts stay where they are (the context, its budgets, its
 * metric handles and gauges), as do the buckets of partners that stay and
 * a random dialback secret.  What the new configuration no longer allows
 * ends at commit, each logged (xmpp_stream_dropped) and counted in
 * sxedge_xmpp_stream_refusals_total by its reason:
 *
 *   partner_removed   federation is closed and the domain is no partner
 *   partner_blocked   [federation] block names it
 *   partner_is_ours   it is one of our domains now
 *      (policy-violation) every stream to or from the partner, public or
 *      internal (answering as it), and every stream waiting for the
 *      verdict on a dialback key of it;
 *   listener_removed  (system-shutdown) the streams accepted on a listener
 *      the reload removed or moved; the edge's own streams of that side too
 *      when no listener of the role is left. */
#ifndef SXEDGE_XMPP_XMPP_RELOAD_H
#define SXEDGE_XMPP_XMPP_RELOAD_H

#include <stdio.h>

#include "config.h"
#include "xmpp_context.h"

struct xmpp_reload;

/* What CONTEXT would take from CONFIG (checked as a whole already), or
 * NULL with one "FILE:LINE: message" line per problem on ERRORS. */
struct xmpp_reload *xmpp_reload_prepare(struct xmpp_context *context,
					const struct sxedge_config *config, FILE *errors);
/* CONTEXT takes PENDING (freed); cannot fail. */
void xmpp_reload_commit(struct xmpp_context *context, struct xmpp_reload *pending);
/* Frees PENDING; nothing changed. */
void xmpp_reload_abort(struct xmpp_reload *pending);

#endif
