/* SPDX-License-Identifier: ISC */
/* federation: the edge's outbound links to partner edges (docs/design.md §5).
 *
 * One mutual-TLS link per partner domain, set up on the first request the
 * pool sends there and reused for all later ones: resolve (the configured
 * address, the configured edge names, or SRV), connect, verify the partner's
 * certificate (names and pin), then relay what waited.  A link that cannot
 * be set up answers every waiting request to the pool (502/503/504). */
#ifndef SXEDGE_SIP_FEDERATION_H
#define SXEDGE_SIP_FEDERATION_H

#include <stdint.h>

#include "context.h"
#include "link.h"
#include "message.h"
#include "routing.h"

struct sip_federation;

/* Links leave from LISTENER's address (the federation listener); CLIENT
 * presents its certificate and trusts its ca_file; HANDLER gets what a
 * partner sends on a link that is up.  Returns NULL when out of memory.
 * Its gauges join the context's registry with
 * sip_federation_register_metrics, once. */
struct sip_federation *sip_federation_new(struct sip_context *context,
					  const struct listener_config *listener,
					  struct tls_client *client,
					  const struct sip_link_handler *handler);
void sip_federation_register_metrics(struct sip_federation *federation);
void sip_federation_free(struct sip_federation *federation);

/* A reload committed: the context holds the new snapshot (OLD before).
 * LISTENER is the new federation listener (NULL: gone), CLIENT its new
 * handle (NULL with it) for links set up from now on.  A link to a partner
 * the new policy blocks or removes, or whose section's pin or edges no
 * longer match its certificate (every link, without a listener), closes in
 * order or stops its set-up, logged and counted with the reason; the others
 * take the new [partner] sections.  With RESOLVER_CHANGED, look-ups under
 * way start again on the context's new resolver. */
void sip_federation_reload(struct sip_federation *federation,
			   const struct listener_config *listener, struct tls_client *client,
			   const struct sxedge_config *old, bool resolver_changed);

/* Relays REQUEST (taken over: freed here) that arrived from the pool on
 * connection ARRIVAL_ID, to DECISION's partner domain. */
void sip_federation_relay(struct sip_federation *federation, uint64_t arrival_id,
			  struct sip_message *request, const struct sip_decision *decision);

/* The edge drains: links that are up go draining, set-ups under way fail
 * their waiting requests with 503 edge_draining, and none starts again. */
void sip_federation_drain(struct sip_federation *federation);
/* The drain is over: every link answers what is in flight and closes. */
void sip_federation_stop(struct sip_federation *federation);
/* Links whose connection is still open (or opening). */
unsigned sip_federation_open_links(const struct sip_federation *federation);

#endif
