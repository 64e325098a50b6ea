/* SPDX-License-Identifier: ISC */
/* turn_context_private: what turn_context.c lends turn_context_reload.c,
 * its UDP listener rows.  Nothing else includes it. */
#ifndef SXEDGE_TURN_TURN_CONTEXT_PRIVATE_H
#define SXEDGE_TURN_TURN_CONTEXT_PRIVATE_H

#include "turn_context.h"

/* A row for the turn LISTENER CONFIG reached at ADDRESS, not yet serving
 * (its descriptor comes with its first datagram); NULL when out of memory. */
struct turn_udp_listener *turn_context_listener_new(struct turn_context *context,
						    const struct listener_config *config,
						    const struct transport_address *address);
/* A listener the reload removed: the allocations made through it end (their
 * clients can no longer be answered), what is queued for it leaves before
 * the worker closes its socket, and the row is freed. */
void turn_context_listener_remove(struct turn_context *context, struct turn_udp_listener *listener);

#endif
