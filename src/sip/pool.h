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

/* [pool] connections at most. */
#define SIP_POOL_LINKS_MAX 16

/* Where the links go: the relay, from the internal listener's address. */
struct sip_pool_target {
	struct sockaddr_storage relay;
	int relay_len;
	struct sockaddr_storage local; /* the internal listener's address, any port */
	int local_len;
	char relay_text[300]; /* for logs: "ADDRESS:PORT" */
};

/* TARGET from CONFIG: 0, or -1 when the relay is not an IP literal of the
 * internal listener's address family. */
int sip_pool_target(const struct sxedge_config *config, struct sip_pool_target *target);

/* The links to TARGET; CLIENT presents the edge's internal certificate;
 * HANDLER gets what the pool sends on a link that is up.  Returns NULL
 * when out of memory.  sip_pool_start connects them; their gauges join the
 * context's registry with sip_pool_register_metrics, once. */
struct sip_pool *sip_pool_new(struct sip_context *context, const struct sip_pool_target *target,
			      struct tls_client *client, const struct sip_link_handler *handler);
void sip_pool_start(struct sip_pool *pool);
void sip_pool_register_metrics(struct sip_pool *pool);
void sip_pool_free(struct sip_pool *pool);

/* A reload committed: the context holds the new snapshot (OLD its [pool]
 * before).  TARGET and CLIENT serve the links set up from now on.  A pool
 * member removed loses its links: when the relay (or the address links
 * leave from) changed, every link closes in order and connects again to
 * the new one at once; when the fqdn list changed, each link up whose
 * server's certificate names none of the new names does.  Links set up
 * under way start again.  Fewer [pool] connections close the links beyond
 * (pool_link_removed), more start new ones.  Each close is logged and
 * counted with its reason. */
void sip_pool_reload(struct sip_pool *pool, const struct sip_pool_target *target,
		     struct tls_client *client, const struct pool_config *old);

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
