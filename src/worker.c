/* SPDX-License-Identifier: ISC */
/* worker: an event loop serving every listener of the configuration.
 *
 * The worker keeps a listener table: one row per [listener], with its
 * role's transport and the protocol that serves it (protocol.h).  Start-up
 * order matters for an edge: every protocol's state (TLS contexts) is built
 * and every socket, stream or datagram, bound before the loop runs, so a
 * mistake is reported before any traffic is served; so is the metrics
 * endpoint, with the registry every protocol counts into and the core's own
 * families (connections open by role, bytes queued, accept pauses).
 * SIGTERM stops accepting at once and tells every protocol to drain, then
 * the loop keeps serving open connections until every protocol has none
 * left or drain_timeout ends; then the protocols stop (answer what is in
 * flight, close in order) and the loop runs until all is closed, for at
 * most WORKER_CLOSE_GRACE_MS.
 *
 * Everything a worker uses is reached from its struct: it shares nothing
 * mutable with another worker, so several can run side by side, one event
 * loop (and thread) each. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>

#include "address.h"
#include "conn.h"
#include "log.h"
#include "metrics_config.h"
#include "metrics_http.h"

#define DATAGRAM_MAX 65535 /* the largest UDP payload */
/* After the drain: how long the loop runs for the last answers and
 * close_notify alerts to go out, and how often it looks whether they did. */
#define WORKER_CLOSE_GRACE_MS 500
#define WORKER_CLOSE_CHECK_MS 20

struct worker_listener {
	struct worker *worker;
	const struct listener_config *config;
	const struct config_role *role;
	const struct protocol *protocol;
	void *protocol_state;
	struct evconnlistener *listener; /* tcp, tls */
	struct event *datagrams; /* udp */
	evutil_socket_t datagram_fd;
};

/* What a child of sxedge_connections_open reads: one role's count, from
 * the protocol that serves it. */
struct worker_role_gauge {
	const struct worker *worker;
	unsigned role;
};

struct worker {
	struct event_base *base;
	const struct sxedge_config *config; /* the worker's reference */
	const struct protocol_table *table;
	void *states[CONFIG_MODULES_MAX]; /* each protocol's, parallel to table->protocols */
	struct worker_listener *listeners;
	size_t n_listeners;
	struct event *sigterm;
	struct event *sigint;
	struct event *sighup;
	struct event *drain_timer; /* every second while draining, then while closing */
	struct event *resume_timer; /* listeners paused after an accept error */
	unsigned drain_left_s;
	bool draining;
	bool stopping; /* the drain is over: the protocols close what is left */
	unsigned close_left_ms;
	/* Without [metrics] there is no registry, and every count goes nowhere. */
	struct metrics *metrics;
	struct metrics_http *metrics_http;
	struct worker_role_gauge role_gauges[CONFIG_ROLES_MAX];
	struct metric_counter *accept_pauses;
};

static size_t worker_protocol_index(const struct protocol_table *table,
				    const struct config_role *role)
{
	for (size_t i = 0; i < table->n_protocols; i++) {
		if (strcmp(table->protocols[i]->name, role->protocol) == 0)
			return i;
	}
	return table->n_protocols;
}

/* The connections of ROLE open on the protocol that serves it. */
static unsigned worker_role_connections(const struct worker *worker, unsigned role)
{
	const struct protocol_table *table = worker->table;
	size_t protocol = worker_protocol_index(table, &table->schema.roles[role]);

	if (protocol == table->n_protocols || worker->states[protocol] == NULL)
		return 0;
	return table->protocols[protocol]->open_connections(worker->states[protocol], role);
}

/* The connections open on every protocol together. */
static unsigned worker_open_connections(const struct worker *worker)
{
	unsigned open = 0;
	for (unsigned role = 0; role < worker->table->schema.n_roles; role++)
		open += worker_role_connections(worker, role);
	return open;
}

int worker_check(const struct sxedge_config *config, const struct protocol_table *table,
		 FILE *errors)
{
	int status = 0;
	for (size_t i = 0; i < table->n_protocols; i++)
		if (table->protocols[i]->check != NULL &&
		    table->protocols[i]->check(config, errors) < 0)
			status = -1;
	return status;
}

/* ---- stream listeners ---- */

static void worker_on_accept(struct evconnlistener *listener, evutil_socket_t fd,
			     struct sockaddr *peer, int peer_len, void *arg)
{
	struct worker_listener *wl = arg;
	(void)listener;

	wl->protocol->accept(wl->protocol_state, wl->config, fd, peer, peer_len);
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
	metric_counter_add(worker->accept_pauses, 1);
	log_event(LOG_LEVEL_WARNING, "accept_failed",
		  "role=%s reason=\"%s\" connections=%u paused_for=1", wl->role->name,
		  evutil_socket_error_to_string(error), worker_open_connections(worker));
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

/* ---- datagram listeners ---- */

/* Every datagram waiting is read at once, up to a bound, so one busy
 * listener cannot keep the loop from the others. */
static void worker_on_datagram(evutil_socket_t fd, short what, void *arg)
{
	struct worker_listener *wl = arg;
	unsigned char data[DATAGRAM_MAX];
	(void)what;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		ssize_t size =
			recvfrom(fd, data, sizeof(data), 0, (struct sockaddr *)&peer, &peer_len);
		if (size < 0)
			return; /* EAGAIN, or an ICMP error of an earlier answer: nothing to do */
		wl->protocol->datagram(wl->protocol_state, wl->config, fd, data, (size_t)size,
				       (struct sockaddr *)&peer, peer_len);
	}
}

/* ---- binding ---- */

static evutil_socket_t worker_bind(const struct listener_config *listener, bool datagram, char *err,
				   size_t err_size)
{
	struct sockaddr_storage addr;
	socklen_t len = (socklen_t)address_parse(listener->address, listener->port, &addr);
	int one = 1;

	if (len == 0) {
		snprintf(err, err_size, "bad address %s", listener->address);
		return -1;
	}
	evutil_socket_t fd = socket(addr.ss_family, datagram ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&addr, len) < 0 || (!datagram && listen(fd, 511) < 0) ||
	    evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0) {
		snprintf(err, err_size, "cannot listen on %s port %u: %s", listener->address,
			 listener->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int worker_listen_one(struct worker *worker, struct worker_listener *wl, FILE *errors)
{
	const struct sxedge_config *config = worker->config;
	bool datagram = wl->role->transport == CONFIG_TRANSPORT_UDP;
	char err[300];

	evutil_socket_t fd = worker_bind(wl->config, datagram, err, sizeof(err));
	if (fd < 0) {
		fprintf(errors, "%s:%d: listener %s: %s\n", config->path, wl->config->line,
			wl->config->name, err);
		return -1;
	}
	if (datagram) {
		wl->datagram_fd = fd;
		wl->datagrams =
			event_new(worker->base, fd, EV_READ | EV_PERSIST, worker_on_datagram, wl);
		if (wl->datagrams == NULL || event_add(wl->datagrams, NULL) < 0)
			return -1;
	} else {
		/* Backlog 0: listening already with worker_bind's 511; -1 would
		 * have libevent listen again with its own 128. */
		wl->listener =
			evconnlistener_new(worker->base, worker_on_accept, wl,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
		if (wl->listener == NULL) {
			close(fd);
			return -1;
		}
		evconnlistener_set_error_cb(wl->listener, worker_on_accept_error);
	}
	log_event(LOG_LEVEL_NOTICE, "listening", "role=%s address=%s port=%u", wl->role->name,
		  wl->config->address, wl->config->port);
	return 0;
}

static int worker_listen(struct worker *worker, FILE *errors)
{
	const struct sxedge_config *config = worker->config;

	worker->listeners =
		calloc(config->n_listeners ? config->n_listeners : 1, sizeof(*worker->listeners));
	if (worker->listeners == NULL)
		return -1;
	worker->n_listeners = config->n_listeners;
	for (size_t i = 0; i < config->n_listeners; i++) {
		struct worker_listener *wl = &worker->listeners[i];
		wl->worker = worker;
		wl->config = &config->listeners[i];
		wl->role = config_listener_role(config, wl->config);
		wl->datagram_fd = -1;
		size_t protocol = worker_protocol_index(worker->table, wl->role);
		if (protocol == worker->table->n_protocols) {
			fprintf(errors, "%s:%d: listener %s: no protocol %s in this build\n",
				config->path, wl->config->line, wl->config->name,
				wl->role->protocol);
			return -1;
		}
		wl->protocol = worker->table->protocols[protocol];
		wl->protocol_state = worker->states[protocol];
		bool datagram = wl->role->transport == CONFIG_TRANSPORT_UDP;
		if (datagram ? wl->protocol->datagram == NULL : wl->protocol->accept == NULL) {
			fprintf(errors, "%s:%d: listener %s: protocol %s takes no %s listeners\n",
				config->path, wl->config->line, wl->config->name,
				wl->role->protocol, datagram ? "udp" : "stream");
			return -1;
		}
		if (worker_listen_one(worker, wl, errors) < 0)
			return -1;
	}
	return 0;
}

/* ---- the metrics endpoint and the core's families ---- */

static int64_t worker_read_role_connections(void *arg)
{
	const struct worker_role_gauge *gauge = arg;
	return worker_role_connections(gauge->worker, gauge->role);
}

static int64_t worker_read_output_queued(void *arg)
{
	(void)arg;
	return (int64_t)conn_output_total();
}

/* What the worker itself knows: the connections each role holds (read from
 * its protocol when the page is rendered), the bytes queued towards peers,
 * and how often accepts paused.  Children are made at start, so the page
 * shows every role from the first scrape. */
static void worker_register_metrics(struct worker *worker)
{
	const struct protocol_table *table = worker->table;
	static const char *const open_labels[] = { "protocol", "role", NULL };
	struct metric_family *open = metrics_register(
		worker->metrics, METRIC_GAUGE, "sxedge_connections_open",
		"Accepted connections currently open, by protocol and listener role.", open_labels);

	for (unsigned role = 0; role < table->schema.n_roles; role++) {
		const struct config_role *row = &table->schema.roles[role];
		if (worker_protocol_index(table, row) == table->n_protocols)
			continue;
		struct worker_role_gauge *gauge = &worker->role_gauges[role];
		*gauge = (struct worker_role_gauge){ .worker = worker, .role = role };
		const char *const values[] = { row->protocol, row->name, NULL };
		metric_gauge_read_by(metric_gauge(open, values), worker_read_role_connections,
				     gauge);
	}
	struct metric_family *queued =
		metrics_register(worker->metrics, METRIC_GAUGE, "sxedge_output_queued_bytes",
				 "Bytes queued towards peers over all connections.", NULL);
	metric_gauge_read_by(metric_gauge(queued, NULL), worker_read_output_queued, NULL);
	struct metric_family *pauses = metrics_register(
		worker->metrics, METRIC_COUNTER, "sxedge_accept_pauses_total",
		"Times every listener paused accepting for a second, out of file descriptors.",
		NULL);
	worker->accept_pauses = metric_counter(pauses, NULL);
}

/* Binds the scrape endpoint of [metrics], like a listener: before the loop
 * runs, while the process may still be root. */
static int worker_listen_metrics(struct worker *worker, FILE *errors)
{
	const struct metrics_config *metrics = metrics_config(worker->config);
	char err[300];

	worker->metrics_http =
		metrics_http_new(worker->base, worker->metrics, metrics->address, metrics->port,
				 metrics->allow_remote, err, sizeof(err));
	if (worker->metrics_http == NULL) {
		fprintf(errors, "%s:%d: metrics: %s\n", worker->config->path, metrics->line, err);
		return -1;
	}
	log_event(LOG_LEVEL_NOTICE, "listening", "role=metrics address=%s port=%u",
		  metrics->address, metrics_http_port(worker->metrics_http));
	return 0;
}

/* No new connections, no new datagrams. */
static void worker_close_listeners(struct worker *worker)
{
	for (size_t i = 0; i < worker->n_listeners; i++) {
		struct worker_listener *wl = &worker->listeners[i];
		if (wl->listener != NULL)
			evconnlistener_free(wl->listener);
		wl->listener = NULL;
		if (wl->datagrams != NULL)
			event_free(wl->datagrams);
		wl->datagrams = NULL;
		if (wl->datagram_fd >= 0)
			close(wl->datagram_fd);
		wl->datagram_fd = -1;
	}
}

/* ---- signals and draining ---- */

/* Every connection still open on every protocol, outbound ones included. */
static unsigned worker_all_connections(const struct worker *worker)
{
	unsigned open = 0;
	for (size_t i = 0; i < worker->table->n_protocols; i++) {
		const struct protocol *protocol = worker->table->protocols[i];
		if (worker->states[i] != NULL && protocol->all_connections != NULL)
			open += protocol->all_connections(worker->states[i]);
	}
	return open;
}

static void worker_protocols_stop(struct worker *worker)
{
	for (size_t i = 0; i < worker->table->n_protocols; i++) {
		const struct protocol *protocol = worker->table->protocols[i];
		if (worker->states[i] != NULL && protocol->stop != NULL)
			protocol->stop(worker->states[i]);
	}
}

static void worker_on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *worker = arg;
	(void)fd;
	(void)what;

	if (worker->stopping) {
		if (worker_all_connections(worker) == 0 || worker->close_left_ms == 0) {
			event_base_loopexit(worker->base, NULL);
			return;
		}
		worker->close_left_ms -= WORKER_CLOSE_CHECK_MS;
		struct timeval check = { .tv_usec = WORKER_CLOSE_CHECK_MS * 1000 };
		evtimer_add(worker->drain_timer, &check);
		return;
	}
	if (worker_open_connections(worker) == 0 || worker->drain_left_s == 0) {
		log_event(LOG_LEVEL_NOTICE, "stopping", "connections=%u",
			  worker_all_connections(worker));
		worker->stopping = true;
		worker->close_left_ms = WORKER_CLOSE_GRACE_MS;
		worker_protocols_stop(worker);
		event_active(worker->drain_timer, EV_TIMEOUT, 0);
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
		  (int)signal_number, worker_open_connections(worker),
		  worker->config->limits.drain_timeout_s);
	worker_close_listeners(worker);
	for (size_t i = 0; i < worker->table->n_protocols; i++) {
		const struct protocol *protocol = worker->table->protocols[i];
		if (worker->states[i] != NULL && protocol->drain != NULL)
			protocol->drain(worker->states[i]);
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
static void worker_raise_file_limit(const struct sxedge_config *config,
				    const struct protocol_table *table)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
		return;
	if (limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
		getrlimit(RLIMIT_NOFILE, &limit);
	}
	/* Listeners, resolver sockets, logs, and every protocol's outbound links. */
	rlim_t reserve = 64;
	for (size_t i = 0; i < table->n_protocols; i++)
		if (table->protocols[i]->outbound_links != NULL)
			reserve += table->protocols[i]->outbound_links(config);
	if (limit.rlim_cur != RLIM_INFINITY &&
	    config->limits.max_connections + reserve > limit.rlim_cur)
		log_event(
			LOG_LEVEL_WARNING, "file_limit",
			"open_files=%llu max_connections=%u reason=\"max_connections does not fit "
			"in the open-files limit; accepts pause when it runs out\"",
			(unsigned long long)limit.rlim_cur, config->limits.max_connections);
}

/* ---- life cycle ---- */

/* Each protocol's per-worker state, or -1 (with lines on ERRORS). */
static int worker_protocols_new(struct worker *worker, FILE *errors)
{
	if (worker->table->n_protocols > CONFIG_MODULES_MAX)
		return -1;
	for (size_t i = 0; i < worker->table->n_protocols; i++) {
		worker->states[i] = worker->table->protocols[i]->worker_new(
			worker->base, worker->config, worker->metrics, errors);
		if (worker->states[i] == NULL)
			return -1;
	}
	return 0;
}

static void worker_protocols_free(struct worker *worker)
{
	for (size_t i = 0; i < worker->table->n_protocols; i++) {
		if (worker->states[i] != NULL)
			worker->table->protocols[i]->worker_free(worker->states[i]);
		worker->states[i] = NULL;
	}
	for (size_t i = 0; i < worker->n_listeners; i++)
		worker->listeners[i].protocol_state = NULL;
}

struct worker *worker_new(const struct sxedge_config *config, const struct protocol_table *table,
			  FILE *errors)
{
	struct worker *worker = calloc(1, sizeof(*worker));
	if (worker == NULL)
		return NULL;
	worker->config = config_ref(config);
	worker->table = table;
	worker_raise_file_limit(config, table);
	worker->base = event_base_new();
	if (worker->base == NULL)
		goto fail;
	worker->resume_timer = evtimer_new(worker->base, worker_on_resume, worker);
	if (worker->resume_timer == NULL)
		goto fail;
	if (metrics_config(config) != NULL && (worker->metrics = metrics_new()) == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		goto fail;
	}
	if (worker_protocols_new(worker, errors) < 0 || worker_listen(worker, errors) < 0)
		goto fail;
	if (worker->metrics != NULL) {
		if (worker_listen_metrics(worker, errors) < 0)
			goto fail;
		worker_register_metrics(worker);
	}
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
	char described[256] = "";

	for (size_t i = 0; i < worker->table->n_protocols; i++) {
		const struct protocol *protocol = worker->table->protocols[i];
		if (protocol->worker_start != NULL &&
		    protocol->worker_start(worker->states[i]) < 0) {
			log_event(LOG_LEVEL_ERROR, "start_failed",
				  "reason=\"cannot set up outbound links\"");
			return -1;
		}
		size_t used = strlen(described);
		if (protocol->describe != NULL)
			protocol->describe(worker->states[i], described + used,
					   sizeof(described) - used);
	}
	log_event(LOG_LEVEL_NOTICE, "ready", "listeners=%zu%s", worker->n_listeners, described);
	int status = event_base_dispatch(worker->base) < 0 ? -1 : 0;
	worker_protocols_free(worker);
	log_event(LOG_LEVEL_NOTICE, "stopped", "status=%d", status);
	return status;
}

void worker_free(struct worker *worker)
{
	if (worker == NULL)
		return;
	if (worker->listeners != NULL)
		worker_close_listeners(worker);
	worker_protocols_free(worker);
	free(worker->listeners);
	/* After the protocols, whose handles point into the registry. */
	metrics_http_free(worker->metrics_http);
	metrics_free(worker->metrics);
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
	if (worker->base != NULL)
		event_base_free(worker->base);
	config_unref(worker->config);
	free(worker);
}
