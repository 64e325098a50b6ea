/* SPDX-License-Identifier: ISC */
/* worker: an event loop serving every listener of the configuration.
 *
 * Start-up order matters for an edge: all TLS contexts are built and all
 * ports bound before the loop runs, so a mistake is reported before any
 * traffic is served.  SIGTERM stops accepting at once, then the loop keeps
 * relaying on open connections until they are gone or drain_timeout ends. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>

#include "log.h"
#include "address.h"
#include "context.h"
#include "session.h"
#include "tls.h"

struct worker_listener {
	struct worker *worker;
	const struct listener_config *config;
	struct tls_server *server; /* in worker->tls */
	struct evconnlistener *listener;
};

struct worker {
	struct event_base *base;
	const struct sxedge_config *config;
	struct sip_context sip;
	struct worker_listener *listeners;
	size_t n_listeners;
	struct worker_tls *tls;
	struct event *sigterm;
	struct event *sigint;
	struct event *sighup;
	struct event *drain_timer; /* fires every second while draining */
	struct event *resume_timer; /* listeners paused after an accept error */
	unsigned drain_left_s;
	bool draining;
	bool sip_ready; /* sip holds something to free */
};

/* ---- TLS handles ---- */

/* Every TLS handle built from one configuration.  Connections and links
 * hold references to the handles they use, so a set built from a new
 * configuration can replace this one while they keep theirs. */
struct worker_tls {
	struct tls_server **servers; /* one per listener, in configuration order */
	size_t n_servers;
	struct tls_client *pool; /* the internal listener's identity, towards the pool */
	struct tls_client *federation; /* towards partners; NULL without a federation listener */
};

static struct tls_server *worker_listener_tls(const struct sxedge_config *config,
					      const struct listener_config *listener, FILE *errors)
{
	char err[512];
	/* The pool's members are known by name; partners are bound per request
	 * by their domain (policy), so any certificate from ca_file may connect. */
	bool internal = listener->role == ROLE_INTERNAL;
	struct tls_server *server =
		tls_server_new(listener, internal ? (const char *const *)config->pool.fqdns : NULL,
			       internal ? config->pool.n_fqdns : 0, err, sizeof(err));
	if (server == NULL)
		fprintf(errors, "%s:%d: listener %s: %s\n", config->path, listener->line,
			listener->name, err);
	return server;
}

/* Outbound links present the certificate of the listener on their side:
 * the internal one to the pool, the federation one to partners. */
static struct tls_client *worker_client_tls(const struct sxedge_config *config,
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

static void worker_tls_free(struct worker_tls *tls)
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
static struct worker_tls *worker_tls_new(const struct sxedge_config *config, FILE *errors)
{
	struct worker_tls *tls = calloc(1, sizeof(*tls));
	bool failed = false;

	if (tls == NULL ||
	    (tls->servers = calloc(config->n_listeners + 1, sizeof(*tls->servers))) == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		worker_tls_free(tls);
		return NULL;
	}
	tls->n_servers = config->n_listeners;
	for (size_t i = 0; i < config->n_listeners; i++) {
		tls->servers[i] = worker_listener_tls(config, &config->listeners[i], errors);
		failed |= tls->servers[i] == NULL;
	}
	if (config_listener(config, ROLE_INTERNAL) != NULL) {
		tls->pool = worker_client_tls(config, ROLE_INTERNAL, errors);
		failed |= tls->pool == NULL;
	}
	if (config_listener(config, ROLE_FEDERATION) != NULL) {
		tls->federation = worker_client_tls(config, ROLE_FEDERATION, errors);
		failed |= tls->federation == NULL;
	}
	if (failed) {
		worker_tls_free(tls);
		return NULL;
	}
	return tls;
}

int worker_check_tls(const struct sxedge_config *config, FILE *errors)
{
	struct worker_tls *tls = worker_tls_new(config, errors);
	worker_tls_free(tls);
	return tls != NULL ? 0 : -1;
}

/* ---- listeners ---- */

static void worker_on_accept(struct evconnlistener *listener, evutil_socket_t fd,
			     struct sockaddr *peer, int peer_len, void *arg)
{
	struct worker_listener *wl = arg;
	struct worker *worker = wl->worker;
	(void)listener;

	/* Each role's budget is checked there: see sip_session_accept. */
	sip_session_accept(&worker->sip, wl->config->role, wl->server, fd, peer, peer_len);
}

/* accept() fails when the process is out of file descriptors (EMFILE) and
 * the connection stays in the backlog, so a listener left armed would wake
 * the loop again at once, for ever.  Every listener pauses for a second
 * instead; connections already open go on being served. */
static void worker_on_accept_error(struct evconnlistener *listener, void *arg)
{
	struct worker_listener *wl = arg;
	struct worker *worker = wl->worker;
	int error = EVUTIL_SOCKET_ERROR();
	(void)listener;

	if (evtimer_pending(worker->resume_timer, NULL))
		return;
	log_event(LOG_LEVEL_WARNING, "accept_failed",
		  "role=%s reason=\"%s\" connections=%u paused_for=1",
		  config_role_name(wl->config->role), evutil_socket_error_to_string(error),
		  worker->sip.inbound);
	for (size_t i = 0; i < worker->n_listeners; i++)
		if (worker->listeners[i].listener != NULL)
			evconnlistener_disable(worker->listeners[i].listener);
	struct timeval second = { .tv_sec = 1 };
	evtimer_add(worker->resume_timer, &second);
}

static void worker_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct worker *worker = arg;
	(void)fd;
	(void)what;
	for (size_t i = 0; i < worker->n_listeners; i++)
		if (worker->listeners[i].listener != NULL)
			evconnlistener_enable(worker->listeners[i].listener);
}

static evutil_socket_t worker_bind(const struct listener_config *listener, char *err,
				   size_t err_size)
{
	struct sockaddr_storage addr;
	socklen_t len = (socklen_t)address_parse(listener->address, listener->port, &addr);
	int one = 1;

	if (len == 0) {
		snprintf(err, err_size, "bad address %s", listener->address);
		return -1;
	}
	evutil_socket_t fd = socket(addr.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, 511) < 0 ||
	    evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0) {
		snprintf(err, err_size, "cannot listen on %s port %u: %s", listener->address,
			 listener->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int worker_listen(struct worker *worker, FILE *errors)
{
	const struct sxedge_config *config = worker->config;
	char err[300];

	worker->listeners = calloc(config->n_listeners, sizeof(*worker->listeners));
	if (worker->listeners == NULL)
		return -1;
	worker->n_listeners = config->n_listeners;
	for (size_t i = 0; i < config->n_listeners; i++) {
		struct worker_listener *wl = &worker->listeners[i];
		wl->worker = worker;
		wl->config = &config->listeners[i];
		wl->server = worker->tls->servers[i];
		evutil_socket_t fd = worker_bind(wl->config, err, sizeof(err));
		if (fd < 0) {
			fprintf(errors, "%s:%d: listener %s: %s\n", config->path, wl->config->line,
				wl->config->name, err);
			return -1;
		}
		wl->listener =
			evconnlistener_new(worker->base, worker_on_accept, wl,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
		if (wl->listener == NULL) {
			close(fd);
			return -1;
		}
		evconnlistener_set_error_cb(wl->listener, worker_on_accept_error);
		log_event(LOG_LEVEL_NOTICE, "listening", "role=%s address=%s port=%u",
			  config_role_name(wl->config->role), wl->config->address,
			  wl->config->port);
	}
	return 0;
}

/* ---- signals and draining ---- */

static void worker_on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *worker = arg;
	(void)fd;
	(void)what;

	if (worker->sip.inbound == 0 || worker->drain_left_s == 0) {
		event_base_loopexit(worker->base, NULL);
		return;
	}
	worker->drain_left_s--;
	struct timeval second = { .tv_sec = 1 };
	evtimer_add(worker->drain_timer, &second);
}

static void worker_on_signal(evutil_socket_t signal_number, short what, void *arg)
{
	struct worker *worker = arg;
	(void)what;

	if (worker->draining)
		return;
	worker->draining = true;
	log_event(LOG_LEVEL_NOTICE, "draining", "signal=%d connections=%u timeout=%u",
		  (int)signal_number, worker->sip.inbound, worker->config->limits.drain_timeout_s);
	for (size_t i = 0; i < worker->n_listeners; i++) {
		evconnlistener_free(worker->listeners[i].listener);
		worker->listeners[i].listener = NULL;
	}
	worker->drain_left_s = worker->config->limits.drain_timeout_s;
	event_active(worker->drain_timer, EV_TIMEOUT, 0);
}

/* There is no reload yet: a SIGHUP must not end the process (its default). */
static void worker_on_sighup(evutil_socket_t signal_number, short what, void *arg)
{
	(void)signal_number;
	(void)what;
	(void)arg;
	log_event(LOG_LEVEL_WARNING, "signal_ignored",
		  "signal=HUP reason=\"configuration reload is not supported; restart sxedge to "
		  "apply a new configuration\"");
}

/* Accepted connections need descriptors: use all the hard limit allows, and
 * say so when max_connections cannot fit in it. */
static void worker_raise_file_limit(const struct sxedge_config *config)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
		return;
	if (limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
		getrlimit(RLIMIT_NOFILE, &limit);
	}
	/* Listeners, pool and partner links, resolver sockets, logs. */
	rlim_t reserve = 64 + config->pool.connections + config->n_partners;
	if (limit.rlim_cur != RLIM_INFINITY &&
	    config->limits.max_connections + reserve > limit.rlim_cur)
		log_event(
			LOG_LEVEL_WARNING, "file_limit",
			"open_files=%llu max_connections=%u reason=\"max_connections does not fit "
			"in the open-files limit; accepts pause when it runs out\"",
			(unsigned long long)limit.rlim_cur, config->limits.max_connections);
}

/* ---- life cycle ---- */

struct worker *worker_new(const struct sxedge_config *config, FILE *errors)
{
	char err[300];
	struct worker *worker = calloc(1, sizeof(*worker));
	if (worker == NULL)
		return NULL;
	worker->config = config;
	worker_raise_file_limit(config);
	worker->base = event_base_new();
	if (worker->base == NULL)
		goto fail;
	worker->resume_timer = evtimer_new(worker->base, worker_on_resume, worker);
	if (worker->resume_timer == NULL)
		goto fail;
	if (sip_context_init(&worker->sip, worker->base, config, err, sizeof(err)) < 0) {
		fprintf(errors, "%s: %s\n", config->path, err);
		goto fail;
	}
	worker->sip_ready = true;
	worker->tls = worker_tls_new(config, errors);
	if (worker->tls == NULL || worker_listen(worker, errors) < 0)
		goto fail;
	worker->sigterm = evsignal_new(worker->base, SIGTERM, worker_on_signal, worker);
	worker->sigint = evsignal_new(worker->base, SIGINT, worker_on_signal, worker);
	worker->sighup = evsignal_new(worker->base, SIGHUP, worker_on_sighup, worker);
	worker->drain_timer = evtimer_new(worker->base, worker_on_drain_tick, worker);
	if (worker->sigterm == NULL || worker->sigint == NULL || worker->sighup == NULL ||
	    worker->drain_timer == NULL || evsignal_add(worker->sigterm, NULL) < 0 ||
	    evsignal_add(worker->sigint, NULL) < 0 || evsignal_add(worker->sighup, NULL) < 0)
		goto fail;
	return worker;
fail:
	worker_free(worker);
	return NULL;
}

int worker_run(struct worker *worker)
{
	if (sip_context_start(&worker->sip, worker->tls->pool, worker->tls->federation) < 0) {
		log_event(LOG_LEVEL_ERROR, "start_failed",
			  "reason=\"cannot set up outbound links\"");
		return -1;
	}
	log_event(LOG_LEVEL_NOTICE, "ready", "listeners=%zu pool=%s:%u", worker->n_listeners,
		  worker->config->pool.relay_host, worker->config->pool.relay_port);
	int status = event_base_dispatch(worker->base) < 0 ? -1 : 0;
	sip_context_free(&worker->sip);
	worker->sip_ready = false;
	log_event(LOG_LEVEL_NOTICE, "stopped", "status=%d", status);
	return status;
}

void worker_free(struct worker *worker)
{
	if (worker == NULL)
		return;
	for (size_t i = 0; i < worker->n_listeners; i++) {
		if (worker->listeners[i].listener != NULL)
			evconnlistener_free(worker->listeners[i].listener);
	}
	free(worker->listeners);
	if (worker->sigterm != NULL)
		event_free(worker->sigterm);
	if (worker->sigint != NULL)
		event_free(worker->sigint);
	if (worker->sighup != NULL)
		event_free(worker->sighup);
	if (worker->resume_timer != NULL)
		event_free(worker->resume_timer);
	if (worker->drain_timer != NULL)
		event_free(worker->drain_timer);
	if (worker->sip_ready)
		sip_context_free(&worker->sip);
	worker_tls_free(worker->tls);
	if (worker->base != NULL)
		event_base_free(worker->base);
	free(worker);
}
