/* SPDX-License-Identifier: ISC */
/* worker_private: the worker's struct and what its three files share:
 * worker.c (life cycle, metrics, drain), worker_listeners.c (the listener
 * table: binding, accepting, reading datagrams, and the table a reload
 * builds) and worker_reload.c (SIGHUP).  Nothing outside src/worker*.c
 * includes it. */
#ifndef SXEDGE_WORKER_PRIVATE_H
#define SXEDGE_WORKER_PRIVATE_H

#include <stdbool.h>
#include <stdio.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "metrics.h"
#include "metrics_http.h"
#include "worker.h"

/* One row of the listener table: a [listener] of the snapshot, its socket
 * and the protocol that serves it. */
struct worker_listener {
	struct worker *worker;
	const struct listener_config *config;
	const struct config_role *role;
	const struct protocol *protocol;
	void *protocol_state;
	evutil_socket_t fd; /* bound; owned by listener or datagrams once armed */
	struct evconnlistener *listener; /* tcp, tls */
	struct event *datagrams; /* udp */
	/* While a reload is being prepared: the row of the running table whose
	 * socket this one takes over, or NULL when it was bound for it. */
	struct worker_listener *kept_from;
};

/* A listener table: the running one, or the one a reload prepares. */
struct worker_listeners {
	struct worker_listener *rows;
	size_t n_rows;
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
	struct worker_listeners listeners;
	struct event *sigterm;
	struct event *sigint;
	struct event *sighup;
	struct event *drain_timer; /* every second while draining, then while closing */
	struct event *resume_timer; /* listeners paused after an accept error */
	unsigned drain_left_s;
	bool draining;
	bool stopping; /* the drain is over: the protocols close what is left */
	unsigned close_left_ms;
	unsigned reloads; /* done since start, for the log */
	/* Every protocol counts into the registry; [metrics] only decides
	 * whether a page shows it, so a reload can add or remove the page. */
	struct metrics *metrics;
	struct metrics_http *metrics_http; /* NULL without [metrics] */
	struct worker_role_gauge role_gauges[CONFIG_ROLES_MAX];
	struct metric_counter *accept_pauses;
	struct metric_counter *reloads_applied; /* sxedge_reloads_total{outcome} */
	struct metric_counter *reloads_refused;
};

/* The protocol of TABLE that serves ROLE (its index), or n_protocols. */
size_t worker_protocol_index(const struct protocol_table *table, const struct config_role *role);
/* Accepted connections open on every protocol together. */
unsigned worker_open_connections(const struct worker *worker);

/* Builds the table of CONFIG's listeners for WORKER: each row's role and
 * protocol; a row with the transport, address and port of one in RUNNING
 * (NULL at start) takes that socket over, every other is bound now.
 * Returns 0, or -1 with "FILE:LINE: ..." lines on ERRORS and nothing left
 * open. */
int worker_listeners_prepare(struct worker *worker, const struct sxedge_config *config,
			     const struct worker_listeners *running, struct worker_listeners *table,
			     FILE *errors);
/* TABLE starts serving (sockets taken over from RUNNING move, new ones are
 * armed); what is left of RUNNING is closed and freed.  Logs each listener
 * bound or closed. */
void worker_listeners_commit(struct worker *worker, struct worker_listeners *table,
			     struct worker_listeners *running);
/* Closes what TABLE bound for itself and frees it. */
void worker_listeners_abort(struct worker_listeners *table);
/* Closes every socket of TABLE (no new connections, no new datagrams). */
void worker_listeners_close(struct worker_listeners *table);

/* Binds the scrape endpoint [metrics] of CONFIG names into *ENDPOINT
 * (NULL without the section).  Returns 0, or -1 with a line on ERRORS. */
int worker_metrics_listen(struct worker *worker, const struct sxedge_config *config,
			  struct metrics_http **endpoint, FILE *errors);

/* Raises the open-files limit for CONFIG's connections (worker.c). */
void worker_raise_file_limit(const struct sxedge_config *config,
			     const struct protocol_table *table);
/* The listeners' pause after an accept error is over (worker_listeners.c). */
void worker_on_resume(evutil_socket_t fd, short what, void *arg);

/* SIGHUP (worker_reload.c). */
void worker_on_sighup(evutil_socket_t signal_number, short what, void *arg);

#endif
