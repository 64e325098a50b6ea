/* SPDX-License-Identifier: ISC */
/* worker_listeners: the worker's listener table (worker_private.h).
 *
 * A table is built in two steps, so that a reload either takes effect as a
 * whole or not at all: prepare resolves every row's role and protocol and
 * binds every socket the table needs, taking over the socket of a running
 * row with the same transport, address and port (two listening sockets
 * cannot share a port, and a kept socket loses nothing from its backlog or
 * receive queue); commit then arms the new rows and closes what the old
 * table no longer has.  At start the running table is empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "address.h"
#include "log.h"
#include "udp_socket.h"
#include "worker_private.h"

#define DATAGRAM_MAX 65535 /* the largest UDP payload */

/* ---- serving ---- */

static void worker_on_accept(struct evconnlistener *listener, evutil_socket_t fd,
			     struct sockaddr *peer, int peer_len, void *arg)
{
	struct worker_listener *wl = arg;
	(void)listener;

	wl->protocol->accept(wl->protocol_state, wl->config, fd, peer, peer_len);
}

/* Every stream listener of the table, enabled or not. */
static void worker_listeners_enable(struct worker_listeners *table, bool enable)
{
	for (size_t i = 0; i < table->n_rows; i++) {
		struct evconnlistener *listener = table->rows[i].listener;
		if (listener != NULL && enable)
			evconnlistener_enable(listener);
		else if (listener != NULL)
			evconnlistener_disable(listener);
	}
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
	worker_listeners_enable(&worker->listeners, false);
	struct timeval second = { .tv_sec = 1 };
	evtimer_add(worker->resume_timer, &second);
}

void worker_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct worker *worker = arg;
	(void)fd;
	(void)what;
	worker_listeners_enable(&worker->listeners, true);
}

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

static bool worker_listener_is_datagram(const struct worker_listener *wl)
{
	return wl->role->transport == CONFIG_TRANSPORT_UDP;
}

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
	if (datagram)
		udp_socket_size_buffers(fd);
	return fd;
}

/* Do the two rows listen on the same socket: same kind, address and port
 * (however the address is spelt)? */
static bool worker_listener_same_socket(const struct worker_listener *a,
					const struct worker_listener *b)
{
	struct sockaddr_storage address_a, address_b;
	int length_a = address_parse(a->config->address, a->config->port, &address_a);
	int length_b = address_parse(b->config->address, b->config->port, &address_b);

	return worker_listener_is_datagram(a) == worker_listener_is_datagram(b) && length_a > 0 &&
	       length_a == length_b && memcmp(&address_a, &address_b, (size_t)length_a) == 0;
}

/* The running row ROW can take the socket of, or NULL. */
static struct worker_listener *worker_listener_keepable(const struct worker_listener *row,
							const struct worker_listeners *running,
							const struct worker_listeners *table)
{
	if (running == NULL)
		return NULL;
	for (size_t i = 0; i < running->n_rows; i++) {
		struct worker_listener *old = &running->rows[i];
		if (old->fd < 0 || !worker_listener_same_socket(row, old))
			continue;
		bool taken = false;
		for (size_t j = 0; j < table->n_rows && !taken; j++)
			taken = table->rows[j].kept_from == old;
		if (!taken)
			return old;
	}
	return NULL;
}

/* ROW's role and protocol, or -1 with a line on ERRORS. */
static int worker_listener_resolve(struct worker *worker, const struct sxedge_config *config,
				   struct worker_listener *row, FILE *errors)
{
	row->role = config_listener_role(config, row->config);
	size_t protocol = worker_protocol_index(worker->table, row->role);
	if (protocol == worker->table->n_protocols) {
		fprintf(errors, "%s:%d: listener %s: no protocol %s in this build\n", config->path,
			row->config->line, row->config->name, row->role->protocol);
		return -1;
	}
	row->protocol = worker->table->protocols[protocol];
	row->protocol_state = worker->states[protocol];
	bool datagram = worker_listener_is_datagram(row);
	if (datagram ? row->protocol->datagram == NULL : row->protocol->accept == NULL) {
		fprintf(errors, "%s:%d: listener %s: protocol %s takes no %s listeners\n",
			config->path, row->config->line, row->config->name, row->role->protocol,
			datagram ? "udp" : "stream");
		return -1;
	}
	return 0;
}

int worker_listeners_prepare(struct worker *worker, const struct sxedge_config *config,
			     const struct worker_listeners *running, struct worker_listeners *table,
			     FILE *errors)
{
	table->rows = calloc(config->n_listeners ? config->n_listeners : 1, sizeof(*table->rows));
	table->n_rows = 0;
	if (table->rows == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return -1;
	}
	for (size_t i = 0; i < config->n_listeners; i++) {
		struct worker_listener *row = &table->rows[i];
		*row = (struct worker_listener){ .worker = worker,
						 .config = &config->listeners[i],
						 .fd = -1 };
		table->n_rows = i + 1;
		if (worker_listener_resolve(worker, config, row, errors) < 0)
			goto fail;
		row->kept_from = worker_listener_keepable(row, running, table);
		if (row->kept_from != NULL)
			continue;
		char err[300];
		row->fd = worker_bind(row->config, worker_listener_is_datagram(row), err,
				      sizeof(err));
		if (row->fd < 0) {
			fprintf(errors, "%s:%d: listener %s: %s\n", config->path, row->config->line,
				row->config->name, err);
			goto fail;
		}
	}
	return 0;
fail:
	worker_listeners_abort(table);
	return -1;
}

void worker_listeners_abort(struct worker_listeners *table)
{
	for (size_t i = 0; i < table->n_rows; i++)
		if (table->rows[i].kept_from == NULL && table->rows[i].fd >= 0)
			close(table->rows[i].fd);
	free(table->rows);
	table->rows = NULL;
	table->n_rows = 0;
}

/* ---- arming and closing ---- */

/* ROW serves its socket: a datagram event, or an evconnlistener (backlog
 * 0: listening already with worker_bind's 511; -1 would have libevent
 * listen again with its own 128). */
static int worker_listener_arm(struct worker *worker, struct worker_listener *row)
{
	if (worker_listener_is_datagram(row)) {
		row->datagrams = event_new(worker->base, row->fd, EV_READ | EV_PERSIST,
					   worker_on_datagram, row);
		return row->datagrams == NULL || event_add(row->datagrams, NULL) < 0 ? -1 : 0;
	}
	row->listener =
		evconnlistener_new(worker->base, worker_on_accept, row,
				   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, row->fd);
	if (row->listener == NULL)
		return -1;
	evconnlistener_set_error_cb(row->listener, worker_on_accept_error);
	return 0;
}

/* ROW takes OLD's socket: the evconnlistener moves (so its backlog and
 * any pause stay), a datagram socket gets an event for its new row. */
static void worker_listener_take_over(struct worker *worker, struct worker_listener *row,
				      struct worker_listener *old)
{
	row->fd = old->fd;
	if (old->listener != NULL) {
		row->listener = old->listener;
		evconnlistener_set_cb(row->listener, worker_on_accept, row);
		evconnlistener_set_error_cb(row->listener, worker_on_accept_error);
	} else {
		event_free(old->datagrams);
		row->datagrams = event_new(worker->base, row->fd, EV_READ | EV_PERSIST,
					   worker_on_datagram, row);
		if (row->datagrams != NULL)
			event_add(row->datagrams, NULL);
	}
	old->listener = NULL;
	old->datagrams = NULL;
	old->fd = -1;
}

static void worker_listener_close(struct worker_listener *row)
{
	if (row->listener != NULL)
		evconnlistener_free(row->listener); /* closes the socket */
	else if (row->datagrams != NULL)
		event_free(row->datagrams);
	if (row->listener == NULL && row->fd >= 0)
		close(row->fd);
	row->listener = NULL;
	row->datagrams = NULL;
	row->fd = -1;
}

void worker_listeners_close(struct worker_listeners *table)
{
	for (size_t i = 0; i < table->n_rows; i++)
		worker_listener_close(&table->rows[i]);
}

void worker_listeners_commit(struct worker *worker, struct worker_listeners *table,
			     struct worker_listeners *running)
{
	bool paused = evtimer_pending(worker->resume_timer, NULL);

	for (size_t i = 0; i < table->n_rows; i++) {
		struct worker_listener *row = &table->rows[i];
		if (row->kept_from != NULL) {
			worker_listener_take_over(worker, row, row->kept_from);
			row->kept_from = NULL;
			continue;
		}
		if (worker_listener_arm(worker, row) < 0) {
			log_event(LOG_LEVEL_ERROR, "listen_failed",
				  "role=%s address=%s port=%u reason=\"out of memory\"",
				  row->role->name, row->config->address, row->config->port);
			worker_listener_close(row);
			continue;
		}
		if (paused && row->listener != NULL)
			evconnlistener_disable(row->listener);
		log_event(LOG_LEVEL_NOTICE, "listening", "role=%s address=%s port=%u",
			  row->role->name, row->config->address, row->config->port);
	}
	for (size_t i = 0; i < running->n_rows; i++) {
		struct worker_listener *old = &running->rows[i];
		if (old->fd < 0)
			continue;
		log_event(LOG_LEVEL_NOTICE, "listener_closed", "role=%s address=%s port=%u",
			  old->role->name, old->config->address, old->config->port);
		worker_listener_close(old);
	}
	free(running->rows);
	*running = *table;
	*table = (struct worker_listeners){ 0 };
}
