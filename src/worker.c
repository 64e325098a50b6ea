/* SPDX-License-Identifier: ISC */
/* worker: an event loop serving every listener of the configuration.
 *
 * The worker keeps a listener table (worker_listeners.c): one row per
 * [listener], with its role's transport and the protocol that serves it
 * (protocol.h).  SIGHUP reloads (worker_reload.c).  Start-up
 * order matters for an edge: every protocol's state (TLS contexts) is built
 * and every socket, stream or datagram, bound before the loop runs, so a
 * mistake is reported before any traffic is served; so is the metrics
 * endpoint, with the registry every protocol counts into and the core's own
 * families (connections open by role, bytes queued, accept pauses).
 * SIGTERM stops accepting at once and tells every protocol to drain, then
 * the loop keeps serving open connections until every protocol has none
 * left or drain_timeout ends; then the protocols stop (answer what is in
 * flight, close in order) and the loop runs until all is closed, for at
 * most WORKER_CLOSE_GRACE_MS.  The service manager hears of each step
 * (service_notify.h).
 *
 * Everything a worker uses is reached from its struct: it shares nothing
 * mutable with another worker, so several can run side by side, one event
 * loop (and thread) each. */
#include "worker_private.h"

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
#include "service_notify.h"

/* After the drain: how long the loop runs for the last answers and
 * close_notify alerts to go out, and how often it looks whether they did. */
#define WORKER_CLOSE_GRACE_MS 500
#define WORKER_CLOSE_CHECK_MS 20

size_t worker_protocol_index(const struct protocol_table *table, const struct config_role *role)
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
unsigned worker_open_connections(const struct worker *worker)
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
	static const char *const outcome_labels[] = { "outcome", NULL };
	struct metric_family *reloads = metrics_register(
		worker->metrics, METRIC_COUNTER, "sxedge_reloads_total",
		"Reloads (SIGHUP) by outcome: applied, or refused with the running configuration "
		"kept.",
		outcome_labels);
	worker->reloads_applied = metric_counter(reloads, (const char *const[]){ "applied", NULL });
	worker->reloads_refused = metric_counter(reloads, (const char *const[]){ "refused", NULL });
}

int worker_metrics_listen(struct worker *worker, const struct sxedge_config *config,
			  struct metrics_http **endpoint, FILE *errors)
{
	const struct metrics_config *metrics = metrics_config(config);
	char err[300];

	*endpoint = NULL;
	if (metrics == NULL)
		return 0;
	*endpoint = metrics_http_new(worker->base, worker->metrics, metrics->address, metrics->port,
				     metrics->allow_remote, err, sizeof(err));
	if (*endpoint == NULL) {
		fprintf(errors, "%s:%d: metrics: %s\n", config->path, metrics->line, err);
		return -1;
	}
	log_event(LOG_LEVEL_NOTICE, "listening", "role=metrics address=%s port=%u",
		  metrics->address, metrics_http_port(*endpoint));
	return 0;
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
	service_notify_stopping();
	log_event(LOG_LEVEL_NOTICE, "draining", "signal=%d connections=%u timeout=%u",
		  (int)signal_number, worker_open_connections(worker),
		  worker->config->limits.drain_timeout_s);
	worker_listeners_close(&worker->listeners);
	for (size_t i = 0; i < worker->table->n_protocols; i++) {
		const struct protocol *protocol = worker->table->protocols[i];
		if (worker->states[i] != NULL && protocol->drain != NULL)
			protocol->drain(worker->states[i]);
	}
	worker->drain_left_s = worker->config->limits.drain_timeout_s;
	event_active(worker->drain_timer, EV_TIMEOUT, 0);
}

/* Accepted connections need descriptors: use all the hard limit allows, and
 * say so when max_connections cannot fit in it. */
void worker_raise_file_limit(const struct sxedge_config *config, const struct protocol_table *table)
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
	for (size_t i = 0; i < worker->listeners.n_rows; i++)
		worker->listeners.rows[i].protocol_state = NULL;
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
	if ((worker->metrics = metrics_new()) == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		goto fail;
	}
	struct worker_listeners listeners;
	if (worker_protocols_new(worker, errors) < 0 ||
	    worker_listeners_prepare(worker, config, NULL, &listeners, errors) < 0)
		goto fail;
	worker_listeners_commit(worker, &listeners, &worker->listeners);
	if (worker_metrics_listen(worker, config, &worker->metrics_http, errors) < 0)
		goto fail;
	worker_register_metrics(worker);
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
	log_event(LOG_LEVEL_NOTICE, "ready", "listeners=%zu%s", worker->listeners.n_rows,
		  described);
	service_notify_ready();
	int status = event_base_dispatch(worker->base) < 0 ? -1 : 0;
	worker_protocols_free(worker);
	log_event(LOG_LEVEL_NOTICE, "stopped", "status=%d", status);
	return status;
}

void worker_free(struct worker *worker)
{
	if (worker == NULL)
		return;
	worker_listeners_close(&worker->listeners);
	worker_protocols_free(worker);
	free(worker->listeners.rows);
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
