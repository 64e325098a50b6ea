/* SPDX-License-Identifier: ISC */
/* pool: the edge's links to the internal front-end pool.
 *
 * Each link (link.h) goes connecting -> up -> (closed) -> waiting for the
 * back-off timer -> connecting.  A link that is up carries a SIP session of
 * role internal, so what the pool sends back on it (responses, and requests
 * Kamailio chooses to reuse the connection for) goes through the same
 * pipeline as traffic on the internal listener. */
#include "pool.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "log.h"

struct pool_link {
	struct sip_link link;
	struct sip_pool *pool;
	struct event *retry_timer;
};

struct sip_pool {
	struct sip_context *context;
	struct tls_client *client; /* held */
	struct sockaddr_storage relay;
	int relay_len;
	struct sockaddr_storage local; /* the internal listener's address, any port */
	int local_len;
	struct pool_link *links;
	unsigned n_links;
	unsigned next; /* round robin over links that are up */
	char relay_text[300];
};

static void pool_link_connect(struct pool_link *link);

/* Waits for the back-off, then tries again; says so as event=pool_down. */
static void pool_link_wait(struct pool_link *link, const char *reason)
{
	const struct pool_config *config = &link->pool->context->sip->pool;
	char quoted[300];

	unsigned delay = sip_link_back_off(&link->link, config->reconnect_max_s);
	sip_link_set_state(&link->link, SIP_LINK_WAITING);
	log_event(LOG_LEVEL_WARNING, "pool_down", "peer=%s reason=%s retry_in=%u",
		  link->pool->relay_text, log_quote(quoted, sizeof(quoted), reason), delay);
	struct timeval wait = { .tv_sec = delay };
	evtimer_add(link->retry_timer, &wait);
}

static void pool_link_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct pool_link *link = arg;
	struct sip_pool *pool = link->pool;
	const struct pool_config *config = &pool->context->sip->pool;

	switch (event) {
	case CONN_EVENT_TLS_READY:
		if (!sip_link_attach(&link->link, NULL)) {
			conn_close(conn, CONN_CLOSE_OUT_OF_MEMORY, "out of memory");
			return;
		}
		link->link.backoff_s = config->reconnect_min_s;
		sip_link_set_state(&link->link, SIP_LINK_UP);
		log_event(LOG_LEVEL_NOTICE, "pool_up", "conn=%" PRIu64 " peer=%s", conn_id(conn),
			  conn_peer(conn));
		break;
	case CONN_EVENT_DATA:
	case CONN_EVENT_DRAINED:
		sip_link_forward(&link->link, conn, event);
		break;
	case CONN_EVENT_CLOSED:
		sip_link_forward(&link->link, conn, event);
		link->link.conn = NULL;
		pool_link_wait(link, conn_close_detail(conn));
		/* What was relayed over it gets its answer now, with the wait. */
		sip_link_lost(&link->link, sip_link_retry_after(&link->link));
		break;
	}
}

static void pool_link_on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pool_link_connect(arg);
}

static void pool_link_connect(struct pool_link *link)
{
	struct sip_pool *pool = link->pool;
	const struct pool_config *config = &pool->context->sip->pool;
	/* Links to the pool stay open however quiet: only the pool may close them. */
	struct conn_limits limits = pool->context->conn_limits;
	limits.idle_timeout_s = 0;
	const struct tls_expect expect = {
		.server_name = config->relay_host,
		.names = (const char *const *)config->fqdns,
		.n_names = config->n_fqdns,
	};
	const struct conn_owner owner = {
		.protocol = CONN_PROTOCOL_SIP,
		.role = ROLE_INTERNAL,
		.callback = pool_link_on_event,
		.arg = link,
	};
	struct conn *conn = conn_connect(pool->context->base, (struct sockaddr *)&pool->relay,
					 pool->relay_len, (struct sockaddr *)&pool->local,
					 pool->local_len, pool->client, &expect, &limits, &owner);
	if (conn == NULL) {
		pool_link_wait(link, "cannot connect");
		return;
	}
	/* Every user's traffic depends on it: slow readers go first. */
	conn_set_shed_rank(conn, CONN_SHED_LAST);
	link->link.conn = conn;
	sip_link_set_state(&link->link, SIP_LINK_CONNECTING);
}

struct sip_pool *sip_pool_new(struct sip_context *context, struct tls_client *client,
			      const struct sip_link_handler *handler)
{
	const struct sxedge_config *config = context->config;
	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);
	struct sip_pool *pool = calloc(1, sizeof(*pool));

	if (pool == NULL)
		return NULL;
	pool->context = context;
	pool->client = tls_client_hold(client);
	snprintf(pool->relay_text, sizeof(pool->relay_text),
		 strchr(context->sip->pool.relay_host, ':') ? "[%s]:%u" : "%s:%u",
		 context->sip->pool.relay_host, context->sip->pool.relay_port);
	pool->relay_len = address_parse(context->sip->pool.relay_host,
					context->sip->pool.relay_port, &pool->relay);
	pool->local_len = address_parse(internal->address, 0, &pool->local);
	if (pool->relay_len == 0 || pool->local_len == 0 ||
	    pool->relay.ss_family != pool->local.ss_family) {
		sip_pool_free(pool);
		return NULL;
	}
	pool->links = calloc(context->sip->pool.connections, sizeof(*pool->links));
	if (pool->links == NULL) {
		sip_pool_free(pool);
		return NULL;
	}
	pool->n_links = context->sip->pool.connections;
	for (unsigned i = 0; i < pool->n_links; i++) {
		struct pool_link *link = &pool->links[i];
		sip_link_init(&link->link, context, ROLE_INTERNAL, pool->relay_text, handler);
		link->pool = pool;
		link->link.backoff_s = context->sip->pool.reconnect_min_s;
		link->retry_timer = evtimer_new(context->base, pool_link_on_retry, link);
		if (link->retry_timer == NULL) {
			sip_pool_free(pool);
			return NULL;
		}
		pool_link_connect(link);
	}
	return pool;
}

void sip_pool_free(struct sip_pool *pool)
{
	if (pool == NULL)
		return;
	for (unsigned i = 0; i < pool->n_links; i++) {
		struct pool_link *link = &pool->links[i];
		if (link->retry_timer != NULL)
			event_free(link->retry_timer);
		if (link->link.conn != NULL) {
			sip_link_forward(&link->link, link->link.conn, CONN_EVENT_CLOSED);
			conn_free(link->link.conn);
		}
		sip_link_clear(&link->link);
	}
	free(pool->links);
	tls_client_release(pool->client);
	free(pool);
}

struct sip_link *sip_pool_pick(struct sip_pool *pool)
{
	for (unsigned tried = 0; tried < pool->n_links; tried++) {
		struct pool_link *link = &pool->links[pool->next++ % pool->n_links];
		if (link->link.state == SIP_LINK_UP && conn_ready(link->link.conn))
			return &link->link;
	}
	return NULL;
}

unsigned sip_pool_retry_after(const struct sip_pool *pool)
{
	unsigned soonest = 0;
	for (unsigned i = 0; i < pool->n_links; i++) {
		unsigned after = sip_link_retry_after(&pool->links[i].link);
		if (after > 0 && (soonest == 0 || after < soonest))
			soonest = after;
	}
	return soonest > 0 ? soonest : 1;
}
