/* SPDX-License-Identifier: ISC */
/* pool: the edge's persistent mutual-TLS connections to the internal
 * front-end pool.  It keeps the configured number of links open, reconnects
 * with exponential back-off, and hands out a ready link for each request. */
#ifndef SXEDGE_SIP_POOL_H
#define SXEDGE_SIP_POOL_H

#include "conn.h"
#include "context.h"

struct sip_pool;

/* Starts connecting at once.  CLIENT_CTX presents the edge's internal
 * certificate.  Returns NULL when out of memory or the relay address is
 * not an IP literal. */
struct sip_pool *sip_pool_new(struct sip_context *context, struct tls_client *client);
void sip_pool_free(struct sip_pool *pool);

/* A ready link to the pool (round robin), or NULL when none is up. */
struct conn *sip_pool_pick(struct sip_pool *pool);

#endif
