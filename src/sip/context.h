/* SPDX-License-Identifier: ISC */
/* context: what every SIP session of one worker shares: the configuration,
 * the flow-token key, this edge's sides, the limits, the pool links, the
 * partner links and their rate limits, the resolver.  Read-only once built,
 * but for the counts and the rate buckets. */
#ifndef SXEDGE_SIP_CONTEXT_H
#define SXEDGE_SIP_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/event.h>

#include "config.h"
#include "conn.h"
#include "conn_budget.h"
#include "dns.h"
#include "domain_index.h"
#include "federation_config.h"
#include "flow_token.h"
#include "framing.h"
#include "ratelimit.h"
#include "routing.h"
#include "sip_config.h"
#include "sip_metrics.h"

struct sip_pool;
struct sip_federation;
struct sip_session;

struct sip_context {
	struct event_base *base;
	const struct sxedge_config *config;
	const struct sip_config *sip; /* its SIP sections */
	const struct federation_config *federation_config; /* its [federation] */
	struct flow_key flow_key;
	/* The key before a reload changed the flow secret or node id (its mac
	 * NULL when none): tokens it sealed still open (sip_edge). */
	struct flow_key previous_flow_key;
	struct sip_edge edge;
	struct sip_frame_limits frame_limits;
	struct conn_limits conn_limits;
	struct sip_pool *pool;
	struct sip_federation *federation; /* NULL without a federation listener */
	struct dns *dns; /* NULL without a federation listener */
	struct rate_limit *partner_limits; /* parallel to sip->partners */
	/* Accepted connections by role (the listener's): each role's own share
	 * of max_connections, with the per-address caps of access and federation. */
	struct conn_budget budgets[ROLE_COUNT];
	unsigned inbound[ROLE_COUNT]; /* accepted connections currently open, by role */
	struct sip_session *sessions; /* those connections' sessions */
	/* Partner domain -> the accepted federation connections whose
	 * certificate was found to speak for it (a request from the domain on
	 * one passed the binding check): they carry our requests to it too. */
	struct domain_index bound;
	/* SIGTERM came: no new link is opened (link.h, draining). */
	bool draining;
	/* What the sessions and links count: zeroed by sip_context_init (into
	 * nothing), given a registry by sip_metrics_init before
	 * sip_context_start, whose links register their gauges in it. */
	struct sip_metrics metrics;
};

/* Fills CONTEXT from CONFIG (which must outlive it): a random boot id, a
 * random flow secret when the configuration has none, the resolver and rate
 * limits when there is a federation listener, a connection budget per role,
 * and this thread's output total (conn_set_output_total_max).  The pool and partner links
 * are started by sip_context_start.  Returns 0, or -1 with ERR filled. */
int sip_context_init(struct sip_context *context, struct event_base *base,
		     const struct sxedge_config *config, char *err, size_t err_size);

/* Starts the links: to the pool with POOL_CTX, to partners with
 * FEDERATION_CTX (NULL without a federation listener).  Returns 0 or -1. */
int sip_context_start(struct sip_context *context, struct tls_client *pool_client,
		      struct tls_client *federation_client);

/* Closes every connection and frees everything the context holds. */
void sip_context_free(struct sip_context *context);

/* Milliseconds of the worker's clock (for rate limits). */
/* SIGTERM: the links drain (link.h) and no new one is opened. */
void sip_context_drain(struct sip_context *context);
/* The drain is over: the links answer what they have in flight and close,
 * then every accepted connection closes, each after flushing. */
void sip_context_stop(struct sip_context *context);
/* Every connection still open: accepted ones and the links'. */
unsigned sip_context_open_connections(const struct sip_context *context);

uint64_t sip_context_now_ms(const struct sip_context *context);

/* SIGHUP (protocol.h): what CONTEXT needs from the new snapshot CONFIG,
 * built without changing what serves: a new flow key when the flow secret
 * or node id changed (a random secret is kept), a resolver when the
 * federation listener is new or [federation] dns_server changed, the
 * partners' rate limits, the pool's target, the federation links' owner
 * when the federation listener is new.  POOL_CLIENT and FEDERATION_CLIENT
 * (NULL without a federation listener) are the new snapshot's handles for
 * the links.  NULL with one "FILE:LINE: ..." line per problem on ERRORS
 * when it cannot be built. */
struct sip_context_reload;
struct sip_context_reload *sip_context_prepare(struct sip_context *context,
					       const struct sxedge_config *config,
					       struct tls_client *pool_client,
					       struct tls_client *federation_client, FILE *errors);
/* CONTEXT takes RELOAD (freed): new connections, links and requests get
 * the new settings and handles; the accepted connections, pool links and
 * partner links the new configuration no longer allows close
 * (sip_context_reload_sessions, sip_pool_reload, sip_federation_reload);
 * counts, budgets' members, metrics and the rate buckets of partners that
 * stay carry over; the flow key before a change keeps opening what it
 * sealed.  CONFIG must outlive the context or the next reload. */
void sip_context_commit(struct sip_context *context, struct sip_context_reload *reload);
/* Frees RELOAD; CONTEXT is as it was. */
void sip_context_abort(struct sip_context_reload *reload);

#endif
