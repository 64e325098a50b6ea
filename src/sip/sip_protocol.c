/* SPDX-License-Identifier: ISC */
/* sip_protocol: SIP as the worker sees it.  All TLS contexts are built in
 * worker_new, while the process may still read root's keys, and again from
 * the files at each reload (by the run user: they must be readable by its
 * group); the pool and partner links start in worker_start, once root is
 * given up. */
#include "sip_protocol.h"

#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "message.h"
#include "roles.h"
#include "session.h"
#include "sip_config.h"
#include "tls.h"

struct sip_worker {
	struct sip_context context;
	bool context_ready; /* context holds something to free */
	const struct sxedge_config *config; /* held: the snapshot accept's listeners are of */
	struct sip_tls *tls;
};

/* What a reload prepared, for commit or abort. */
struct sip_reload {
	const struct sxedge_config *config; /* held */
	struct sip_tls *tls;
	struct sip_context_reload *context;
};

/* ---- TLS handles ---- */

/* Every TLS handle built from one configuration.  Connections and links
 * hold references to the handles they use, so a set built from a new
 * configuration can replace this one while they keep theirs. */
struct sip_tls {
	struct tls_server **servers; /* per listener, in configuration order; NULL: not SIP's */
	size_t n_servers;
	struct tls_client *pool; /* the internal listener's identity, towards the pool */
	struct tls_client *federation; /* towards partners; NULL without a federation listener */
};

static bool is_sip_listener(const struct sxedge_config *config,
			    const struct listener_config *listener)
{
	return strcmp(config_listener_role(config, listener)->protocol, sip_protocol.name) == 0;
}

static struct tls_server *sip_listener_tls(const struct sxedge_config *config,
					   const struct listener_config *listener, FILE *errors)
{
	const struct pool_config *pool = &sip_config(config)->pool;
	char err[512];
	/* The pool's members are known by name; partners are bound per request
	 * by their domain (policy), so any certificate from ca_file may connect. */
	bool internal = listener->role == ROLE_INTERNAL;
	struct tls_server *server =
		tls_server_new(listener, internal ? (const char *const *)pool->fqdns : NULL,
			       internal ? pool->n_fqdns : 0, err, sizeof(err));
	if (server == NULL)
		fprintf(errors, "%s:%d: listener %s: %s\n", config->path, listener->line,
			listener->name, err);
	return server;
}

/* Outbound links present the certificate of the listener on their side:
 * the internal one to the pool, the federation one to partners. */
static struct tls_client *sip_client_tls(const struct sxedge_config *config,
					 enum listener_role role, FILE *errors)
{
	const struct listener_config *listener = config_listener(config, role);
	char err[512];
	struct tls_client *client = tls_client_new(listener->certificate, listener->key,
						   listener->ca_file, err, sizeof(err));
	if (client == NULL)
		fprintf(errors, "%s:%d: outbound links of listener %s: %s\n", config->path,
			listener->line, listener->name, err);
	return client;
}

static void sip_tls_free(struct sip_tls *tls)
{
	if (tls == NULL)
		return;
	for (size_t i = 0; i < tls->n_servers; i++)
		tls_server_release(tls->servers[i]);
	free(tls->servers);
	tls_client_release(tls->pool);
	tls_client_release(tls->federation);
	free(tls);
}

/* Builds every handle CONFIG needs, reporting each one that fails to ERRORS. */
static struct sip_tls *sip_tls_new(const struct sxedge_config *config, FILE *errors)
{
	struct sip_tls *tls = calloc(1, sizeof(*tls));
	bool failed = false;

	if (tls == NULL ||
	    (tls->servers = calloc(config->n_listeners + 1, sizeof(*tls->servers))) == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		sip_tls_free(tls);
		return NULL;
	}
	tls->n_servers = config->n_listeners;
	for (size_t i = 0; i < config->n_listeners; i++) {
		if (!is_sip_listener(config, &config->listeners[i]))
			continue;
		tls->servers[i] = sip_listener_tls(config, &config->listeners[i], errors);
		failed |= tls->servers[i] == NULL;
	}
	if (config_listener(config, ROLE_INTERNAL) != NULL) {
		tls->pool = sip_client_tls(config, ROLE_INTERNAL, errors);
		failed |= tls->pool == NULL;
	}
	if (config_listener(config, ROLE_FEDERATION) != NULL) {
		tls->federation = sip_client_tls(config, ROLE_FEDERATION, errors);
		failed |= tls->federation == NULL;
	}
	if (failed) {
		sip_tls_free(tls);
		return NULL;
	}
	return tls;
}

static int sip_check(const struct sxedge_config *config, FILE *errors)
{
	struct sip_tls *tls = sip_tls_new(config, errors);
	sip_tls_free(tls);
	return tls != NULL ? 0 : -1;
}

/* ---- Per worker ---- */

static void sip_worker_free(void *state)
{
	struct sip_worker *sip = state;

	if (sip == NULL)
		return;
	if (sip->context_ready)
		sip_context_free(&sip->context);
	sip_tls_free(sip->tls);
	config_unref(sip->config);
	free(sip);
}

static void *sip_worker_new(struct event_base *base, const struct sxedge_config *config,
			    struct metrics *metrics, FILE *errors)
{
	struct sip_worker *sip = calloc(1, sizeof(*sip));
	char err[300];

	if (sip == NULL)
		return NULL;
	sip->config = config_ref(config);
	if (sip_context_init(&sip->context, base, config, err, sizeof(err)) < 0) {
		fprintf(errors, "%s: %s\n", config->path, err);
		sip_worker_free(sip);
		return NULL;
	}
	sip->context_ready = true;
	sip_metrics_init(&sip->context.metrics, metrics);
	sip->tls = sip_tls_new(config, errors);
	if (sip->tls == NULL) {
		sip_worker_free(sip);
		return NULL;
	}
	return sip;
}

static int sip_worker_start(void *state)
{
	struct sip_worker *sip = state;
	return sip_context_start(&sip->context, sip->tls->pool, sip->tls->federation);
}

/* Each role's budget is checked there: see sip_session_accept. */
static void sip_accept(void *state, const struct listener_config *listener, evutil_socket_t fd,
		       const struct sockaddr *peer, int peer_len)
{
	struct sip_worker *sip = state;
	struct tls_server *server = sip->tls->servers[listener - sip->config->listeners];

	sip_session_accept(&sip->context, (enum listener_role)listener->role, server, fd, peer,
			   peer_len);
}

static unsigned sip_open_connections(const void *state, unsigned role)
{
	const struct sip_worker *sip = state;
	return role < ROLE_COUNT ? sip->context.inbound[role] : 0;
}

static void sip_drain(void *state)
{
	struct sip_worker *sip = state;
	sip_context_drain(&sip->context);
}

static void sip_stop(void *state)
{
	struct sip_worker *sip = state;
	sip_context_stop(&sip->context);
}

static unsigned sip_all_connections(const void *state)
{
	const struct sip_worker *sip = state;
	return sip_context_open_connections(&sip->context);
}

/* The pool links and one link per configured partner. */
static unsigned sip_outbound_links(const struct sxedge_config *config)
{
	const struct sip_config *sip = sip_config(config);
	return sip->pool.connections + (unsigned)sip->n_partners;
}

/* ---- Reload ---- */

static void sip_reload_abort(void *state, void *pending)
{
	struct sip_reload *reload = pending;
	(void)state;

	if (reload == NULL)
		return;
	sip_context_abort(reload->context);
	sip_tls_free(reload->tls);
	config_unref(reload->config);
	free(reload);
}

static void *sip_reload_prepare(void *state, const struct sxedge_config *config, FILE *errors)
{
	struct sip_worker *sip = state;
	struct sip_reload *reload = calloc(1, sizeof(*reload));

	if (reload == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	reload->config = config_ref(config);
	reload->tls = sip_tls_new(config, errors);
	if (reload->tls != NULL)
		reload->context = sip_context_prepare(&sip->context, config, reload->tls->pool,
						      reload->tls->federation, errors);
	if (reload->context == NULL) {
		sip_reload_abort(sip, reload);
		return NULL;
	}
	return reload;
}

/* The old handles go with the last connection that holds them. */
static void sip_reload_commit(void *state, void *pending)
{
	struct sip_worker *sip = state;
	struct sip_reload *reload = pending;

	sip_context_commit(&sip->context, reload->context);
	sip_tls_free(sip->tls);
	sip->tls = reload->tls;
	config_unref(sip->config);
	sip->config = reload->config;
	free(reload);
}

static void sip_describe(const void *state, char *buf, size_t size)
{
	const struct sip_worker *sip = state;
	const struct pool_config *pool = &sip_config(sip->config)->pool;
	snprintf(buf, size, " pool=%s:%u", pool->relay_host, pool->relay_port);
}

const struct protocol sip_protocol = {
	.name = "sip",
	.process_init = sip_message_init,
	.check = sip_check,
	.worker_new = sip_worker_new,
	.worker_start = sip_worker_start,
	.worker_free = sip_worker_free,
	.accept = sip_accept,
	.open_connections = sip_open_connections,
	.drain = sip_drain,
	.stop = sip_stop,
	.all_connections = sip_all_connections,
	.outbound_links = sip_outbound_links,
	.reload_prepare = sip_reload_prepare,
	.reload_commit = sip_reload_commit,
	.reload_abort = sip_reload_abort,
	.describe = sip_describe,
};
