/* SPDX-License-Identifier: ISC */
/* pool: the edge's persistent mutual-TLS links to the internal front-end
 * pool.  It keeps the configured number of links (link.h) open, reconnects
 * each with exponential back-off, and hands out a ready link for each
 * request. */
#ifndef SXEDGE_SIP_POOL_H
#define SXEDGE_SIP_POOL_H

#include "context.h"
#include "link.h"

struct sip_pool;

/* Starts connecting at once.  CLIENT presents the edge's internal
 * certificate; HANDLER gets what the pool sends on a link that is up.
 * Returns NULL when out of memory or the relay address is not an IP
 * literal. */
struct sip_pool *sip_pool_new(struct sip_context *context, struct tls_client *client,
			      const struct sip_link_handler *handler);
void sip_pool_free(struct sip_pool *pool);

/* A link that is up (round robin), or NULL when none is. */
struct sip_link *sip_pool_pick(struct sip_pool *pool);

/* Seconds until a link may be up again (the soonest of their back-offs),
 * for the Retry-After of a request that found none up. */
unsigned sip_pool_retry_after(const struct sip_pool *pool);

/* The edge drains: links that are up go draining, those waiting for their
 * back-off stop, and none is tried again. */
void sip_pool_drain(struct sip_pool *pool);
/* The drain is over: every link answers what is in flight and closes. */
void sip_pool_stop(struct sip_pool *pool);
/* Links whose connection is still open (or opening). */
unsigned sip_pool_open_links(const struct sip_pool *pool);

#endif
