/* SPDX-License-Identifier: ISC */
/* pool: the edge's links to the internal front-end pool.
 *
 * Each link (link.h) goes connecting -> up -> (closed) -> waiting for the
 * back-off timer -> connecting.  A link that is up carries a SIP session of
 * role internal, so what the pool sends back on it (responses, and requests
 * Kamailio chooses to reuse the connection for) goes through the same
 * pipeline as traffic on the internal listener.  While the edge drains, a
 * link that closes is not tried again. */
#include "pool.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "log.h"
#include "tls.h"

struct pool_link {
	struct sip_link link;
	struct sip_pool *pool;
	struct event *retry_timer;
	/* A reload closed it to reach another pool member: it connects again
	 * as soon as it is closed, without a back-off. */
	bool reconnect_now;
};

/* What a child of sxedge_pool_links reads: how many links are in STATE. */
struct pool_state_gauge {
	const struct sip_pool *pool;
	enum sip_link_state state;
};

struct sip_pool {
	struct sip_context *context;
	struct tls_client *client; /* held */
	struct sip_pool_target target;
	/* Every link [pool] connections may ask for: the first n_links are kept
	 * open, those after them (after a reload that lowered it) are closing
	 * or idle. */
	struct pool_link links[SIP_POOL_LINKS_MAX];
	unsigned n_links;
	unsigned next; /* round robin over links that are up */
	struct pool_state_gauge gauges[SIP_LINK_STATES];
};

int sip_pool_target(const struct sxedge_config *config, struct sip_pool_target *target)
{
	const struct pool_config *pool = &sip_config(config)->pool;
	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);

	memset(target, 0, sizeof(*target));
	snprintf(target->relay_text, sizeof(target->relay_text),
		 strchr(pool->relay_host, ':') ? "[%s]:%u" : "%s:%u", pool->relay_host,
		 pool->relay_port);
	target->relay_len = address_parse(pool->relay_host, pool->relay_port, &target->relay);
	target->local_len = address_parse(internal->address, 0, &target->local);
	if (target->relay_len == 0 || target->local_len == 0 ||
	    target->relay.ss_family != target->local.ss_family)
		return -1;
	return 0;
}

static void pool_link_connect(struct pool_link *link);

/* Waits for the back-off, then tries again; says so as event=pool_down. */
static void pool_link_wait(struct pool_link *link, const char *reason)
{
	const struct pool_config *config = &link->pool->context->sip->pool;
	char quoted[300];

	/* Draining, or a reload lowered [pool] connections below it. */
	if (link->pool->context->draining || link - link->pool->links >= link->pool->n_links) {
		sip_link_set_state(&link->link, SIP_LINK_IDLE);
		log_event(LOG_LEVEL_NOTICE, "pool_down", "peer=%s reason=%s retry_in=never",
			  link->pool->target.relay_text, log_quote(quoted, sizeof(quoted), reason));
		return;
	}
	if (link->reconnect_now) {
		link->reconnect_now = false;
		log_event(LOG_LEVEL_NOTICE, "pool_down", "peer=%s reason=%s retry_in=0",
			  link->pool->target.relay_text, log_quote(quoted, sizeof(quoted), reason));
		pool_link_connect(link);
		return;
	}
	unsigned delay = sip_link_back_off(&link->link, config->reconnect_max_s);
	sip_link_set_state(&link->link, SIP_LINK_WAITING);
	log_event(LOG_LEVEL_WARNING, "pool_down", "peer=%s reason=%s retry_in=%u",
		  link->pool->target.relay_text, log_quote(quoted, sizeof(quoted), reason), delay);
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
		sip_link_set_state(&link->link,
				   pool->context->draining ? SIP_LINK_DRAINING : SIP_LINK_UP);
		log_event(LOG_LEVEL_NOTICE, "pool_up", "conn=%" PRIu64 " peer=%s", conn_id(conn),
			  conn_peer(conn));
		break;
	case CONN_EVENT_DATA:
	case CONN_EVENT_DRAINED:
		sip_link_forward(&link->link, conn, event);
		break;
	case CONN_EVENT_CONNECTED:
		break; /* TLS: TLS_READY follows */
	case CONN_EVENT_CLOSED:
		sip_metrics_link_closed(&pool->context->metrics, ROLE_INTERNAL,
					conn_close_reason(conn), conn_tls_failure(conn));
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
	struct conn *conn =
		conn_connect(pool->context->base, (struct sockaddr *)&pool->target.relay,
			     pool->target.relay_len, (struct sockaddr *)&pool->target.local,
			     pool->target.local_len, pool->client, &expect, &limits, &owner);
	if (conn == NULL) {
		pool_link_wait(link, "cannot connect");
		return;
	}
	/* Every user's traffic depends on it: slow readers go first. */
	conn_set_shed_rank(conn, CONN_SHED_LAST);
	link->link.conn = conn;
	sip_link_set_state(&link->link, SIP_LINK_CONNECTING);
}

/* ---- metrics ---- */

static int64_t pool_read_links(void *arg)
{
	const struct pool_state_gauge *gauge = arg;
	int64_t count = 0;
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++)
		count += gauge->pool->links[i].link.state == gauge->state;
	return count;
}

static int64_t pool_read_in_flight(void *arg)
{
	const struct sip_pool *pool = arg;
	int64_t count = 0;
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++)
		count += (int64_t)pool->links[i].link.in_flight.count;
	return count;
}

/* Connections from outside not read for a saturated link's sake, those
 * still open (the link keeps the ids of any that closed meanwhile). */
static int64_t pool_read_paused(void *arg)
{
	const struct sip_pool *pool = arg;
	int64_t count = 0;
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++) {
		const struct sip_link *link = &pool->links[i].link;
		for (size_t j = 0; j < link->n_paused; j++)
			count += conn_find(link->paused[j]) != NULL;
	}
	return count;
}

/* The links by state (a pool link is only ever connecting, up, waiting
 * for its back-off or draining), the requests in flight over them and the connections
 * paused for them, read when the page is rendered. */
void sip_pool_register_metrics(struct sip_pool *pool)
{
	static const enum sip_link_state states[] = { SIP_LINK_CONNECTING, SIP_LINK_UP,
						      SIP_LINK_WAITING, SIP_LINK_DRAINING };
	static const char *const state_label[] = { "state", NULL };
	static const char *const role_label[] = { "role", NULL };
	static const char *const internal[] = { "internal", NULL };
	struct metrics *registry = pool->context->metrics.registry;

	struct metric_family *links =
		metrics_register(registry, METRIC_GAUGE, "sxedge_pool_links",
				 "The edge's links to the pool, by state.", state_label);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct pool_state_gauge *gauge = &pool->gauges[states[i]];
		*gauge = (struct pool_state_gauge){ .pool = pool, .state = states[i] };
		const char *const values[] = { sip_link_state_name(states[i]), NULL };
		metric_gauge_read_by(metric_gauge(links, values), pool_read_links, gauge);
	}
	struct metric_family *in_flight = metrics_register(
		registry, METRIC_GAUGE, "sxedge_sip_in_flight_requests",
		"Requests relayed over the edge's links that await their final response, by the "
		"role of the far end.",
		role_label);
	metric_gauge_read_by(metric_gauge(in_flight, internal), pool_read_in_flight, pool);
	struct metric_family *paused = metrics_register(
		registry, METRIC_GAUGE, "sxedge_pool_intake_paused_connections",
		"Connections from outside not read while a pool link has too many requests in "
		"flight.",
		NULL);
	metric_gauge_read_by(metric_gauge(paused, NULL), pool_read_paused, pool);
}

/* ---- life cycle ---- */

struct sip_pool *sip_pool_new(struct sip_context *context, const struct sip_pool_target *target,
			      struct tls_client *client, const struct sip_link_handler *handler)
{
	struct sip_pool *pool = calloc(1, sizeof(*pool));

	if (pool == NULL)
		return NULL;
	pool->context = context;
	pool->client = tls_client_hold(client);
	pool->target = *target;
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++) {
		struct pool_link *link = &pool->links[i];
		sip_link_init(&link->link, context, ROLE_INTERNAL, pool->target.relay_text,
			      handler);
		link->pool = pool;
		link->link.backoff_s = context->sip->pool.reconnect_min_s;
		link->retry_timer = evtimer_new(context->base, pool_link_on_retry, link);
		if (link->retry_timer == NULL) {
			sip_pool_free(pool);
			return NULL;
		}
	}
	return pool;
}

void sip_pool_start(struct sip_pool *pool)
{
	pool->n_links = pool->context->sip->pool.connections;
	for (unsigned i = 0; i < pool->n_links; i++)
		pool_link_connect(&pool->links[i]);
}

void sip_pool_free(struct sip_pool *pool)
{
	if (pool == NULL)
		return;
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++) {
		struct pool_link *link = &pool->links[i];
		if (link->retry_timer != NULL)
			event_free(link->retry_timer);
		if (link->link.conn != NULL) {
			sip_link_forward(&link->link, link->link.conn, CONN_EVENT_CLOSED);
			conn_free(link->link.conn);
		}
		sip_link_clear(&link->link);
	}
	tls_client_release(pool->client);
	free(pool);
}

/* ---- reload ---- */

/* A link the reload closes: one that is up answers what it carries and
 * closes in order for REASON; one connecting or waiting stops.  With
 * RECONNECT it connects again (to the new relay) once closed. */
static void pool_link_end(struct pool_link *link, enum sip_reason reason, bool reconnect)
{
	struct sip_link *out = &link->link;

	if (out->conn != NULL && out->session != NULL) {
		/* Not ready: it is closing already (an earlier reload). */
		if (conn_ready(out->conn))
			sip_link_end(out, reason);
		link->reconnect_now = reconnect;
		return;
	}
	if (out->conn != NULL) {
		conn_free(out->conn);
		out->conn = NULL;
	}
	event_del(link->retry_timer);
	sip_link_set_state(out, SIP_LINK_IDLE);
	if (reconnect)
		pool_link_connect(link);
}

/* Do the names a pool server's certificate must carry differ? */
static bool pool_names_changed(const struct pool_config *old, const struct pool_config *now)
{
	if (old->n_fqdns != now->n_fqdns)
		return true;
	for (size_t i = 0; i < now->n_fqdns; i++)
		if (strcasecmp(old->fqdns[i], now->fqdns[i]) != 0)
			return true;
	return false;
}

/* Does LINK (up) reach a server whose certificate carries one of NAMES? */
static bool pool_link_names_one_of(const struct pool_link *link, const struct pool_config *now)
{
	size_t n_names;
	char *const *names = conn_peer_names(link->link.conn, &n_names);
	return names != NULL &&
	       tls_names_match(names, n_names, (const char *const *)now->fqdns, now->n_fqdns);
}

void sip_pool_reload(struct sip_pool *pool, const struct sip_pool_target *target,
		     struct tls_client *client, const struct pool_config *old)
{
	const struct pool_config *now = &pool->context->sip->pool;
	bool moved = target->relay_len != pool->target.relay_len ||
		     memcmp(&target->relay, &pool->target.relay, (size_t)target->relay_len) != 0 ||
		     target->local_len != pool->target.local_len ||
		     memcmp(&target->local, &pool->target.local, (size_t)target->local_len) != 0;
	bool renamed = pool_names_changed(old, now);
	unsigned kept = pool->n_links < now->connections ? pool->n_links : now->connections;

	tls_client_release(pool->client);
	pool->client = tls_client_hold(client);
	pool->target = *target;
	pool->n_links = now->connections;
	for (unsigned i = kept; i < SIP_POOL_LINKS_MAX; i++) {
		struct pool_link *link = &pool->links[i];
		if (i < pool->n_links && link->link.conn != NULL)
			link->reconnect_now = true; /* still closing since an earlier reload */
		else if (i < pool->n_links)
			pool_link_connect(link);
		else if (link->link.state != SIP_LINK_IDLE)
			pool_link_end(link, SIP_REASON_POOL_LINK_REMOVED, false);
	}
	for (unsigned i = 0; i < kept; i++) {
		struct pool_link *link = &pool->links[i];
		bool up = link->link.conn != NULL && link->link.session != NULL;
		/* Set-ups under way expect the old names or address: they
		 * start again. */
		if (moved || (renamed && (!up || !pool_link_names_one_of(link, now))))
			if (link->link.state != SIP_LINK_WAITING)
				pool_link_end(link, SIP_REASON_POOL_MEMBER_REMOVED, true);
	}
}

struct sip_link *sip_pool_pick(struct sip_pool *pool)
{
	for (unsigned tried = 0; tried < pool->n_links; tried++) {
		struct pool_link *link = &pool->links[pool->next++ % pool->n_links];
		if (sip_link_carries(&link->link))
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

void sip_pool_drain(struct sip_pool *pool)
{
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++) {
		struct pool_link *link = &pool->links[i];
		sip_link_drain(&link->link);
		if (link->link.state == SIP_LINK_WAITING) {
			event_del(link->retry_timer);
			sip_link_set_state(&link->link, SIP_LINK_IDLE);
		}
	}
}

void sip_pool_stop(struct sip_pool *pool)
{
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++)
		sip_link_stop(&pool->links[i].link);
}

unsigned sip_pool_open_links(const struct sip_pool *pool)
{
	unsigned open = 0;
	for (unsigned i = 0; i < SIP_POOL_LINKS_MAX; i++)
		open += pool->links[i].link.conn != NULL;
	return open;
}
