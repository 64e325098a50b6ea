/* SPDX-License-Identifier: ISC */
/* conn: one TLS connection over a libevent OpenSSL bufferevent.
 *
 * The protocol code above never sees the bufferevent: it gets READY, DATA and
 * CLOSED through one callback, reads conn_input() and writes conn_write().
 * Every way a connection can end (peer close, error, refused handshake,
 * timeout, output limit, our own close) goes through conn_finish(), which
 * reports CLOSED once and frees.  A dispatch depth counter (the "event frame"
 * of OpenSMTPD's ioev) lets the owner free the conn from inside its own
 * callback without the code below the callback touching freed memory.
 *
 * Each conn also counts its queued output into its thread's total: an
 * evbuffer callback on the output buffer sees every byte added and every
 * byte sent, so the total is exact without the owner's help.  Closes that
 * the conn starts itself (output limits, shedding) are deferred to the loop
 * through the timer: they may happen inside another conn's callback, whose
 * owner must not see a CLOSED it did not expect in the middle of its work. */
#include "conn.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "address.h"
#include "log.h"
#include "tls.h"

struct conn {
	uint64_t id;
	struct event_base *base;
	struct bufferevent *bev;
	SSL *ssl;
	struct event *timer; /* handshake timeout, then deferred finish */
	struct event *probation_timer; /* first-request timeout; NULL without one */
	struct evbuffer_cb_entry *output_cb;
	size_t output_counted; /* this conn's part of conn_output_total_now */
	struct conn_limits limits;
	struct conn_budget_member budget; /* budget.budget NULL: counted in none */
	enum conn_shed_rank shed_rank;
	conn_callback *callback;
	void *arg;
	void *user;
	char peer[INET6_ADDRSTRLEN + 8];
	char *subject;
	char **names;
	size_t n_names;
	bool has_fingerprint;
	unsigned char fingerprint[32]; /* SHA-256 of the peer certificate (DER) */
	char close_reason[256];
	bool outbound;
	bool on_probation;
	bool ready;
	bool closing; /* flushing before close */
	bool finished; /* CLOSED reported or conn_free called */
	bool free_pending;
	unsigned depth; /* callbacks currently running on this conn */
};

/* ---- the per-worker table of live connections ---- */

/* Flow tokens and Via branches name connections by id.  Each worker thread
 * has its own table, so no lock is needed and no id is ever reused. */
static _Thread_local struct conn **conn_slots;
static _Thread_local size_t conn_slot_count; /* a power of two, or 0 */
static _Thread_local size_t conn_live;
static _Thread_local uint64_t conn_next_id = 1;
/* Bytes queued towards peers over all of this thread's conns, and the cap. */
static _Thread_local size_t conn_output_total_now;
static _Thread_local size_t conn_output_total_cap = SIZE_MAX;

static size_t conn_slot_of(uint64_t id, size_t count)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 7) & (count - 1);
}

static void conn_table_put(struct conn **slots, size_t count, struct conn *conn)
{
	size_t i = conn_slot_of(conn->id, count);
	while (slots[i] != NULL)
		i = (i + 1) & (count - 1);
	slots[i] = conn;
}

static int conn_table_add(struct conn *conn)
{
	if ((conn_live + 1) * 2 > conn_slot_count) {
		size_t count = conn_slot_count ? conn_slot_count * 2 : 64;
		struct conn **slots = calloc(count, sizeof(*slots));
		if (slots == NULL)
			return -1;
		for (size_t i = 0; i < conn_slot_count; i++)
			if (conn_slots[i] != NULL)
				conn_table_put(slots, count, conn_slots[i]);
		free(conn_slots);
		conn_slots = slots;
		conn_slot_count = count;
	}
	conn_table_put(conn_slots, conn_slot_count, conn);
	conn_live++;
	return 0;
}

/* Linear probing: removal re-inserts the rest of the cluster so later
 * look-ups still find every entry without tombstones. */
static void conn_table_remove(const struct conn *conn)
{
	size_t mask = conn_slot_count - 1;
	size_t i = conn_slot_of(conn->id, conn_slot_count);
	while (conn_slots[i] != conn)
		i = (i + 1) & mask;
	conn_slots[i] = NULL;
	conn_live--;
	for (size_t j = (i + 1) & mask; conn_slots[j] != NULL; j = (j + 1) & mask) {
		struct conn *moved = conn_slots[j];
		conn_slots[j] = NULL;
		conn_table_put(conn_slots, conn_slot_count, moved);
	}
	if (conn_live == 0) {
		free(conn_slots);
		conn_slots = NULL;
		conn_slot_count = 0;
	}
}

struct conn *conn_find(uint64_t id)
{
	if (conn_slot_count == 0)
		return NULL;
	for (size_t i = conn_slot_of(id, conn_slot_count); conn_slots[i] != NULL;
	     i = (i + 1) & (conn_slot_count - 1))
		if (conn_slots[i]->id == id)
			return conn_slots[i]->finished ? NULL : conn_slots[i];
	return NULL;
}

/* ---- life cycle ---- */

static void conn_stop_probation_timer(struct conn *conn)
{
	if (conn->probation_timer != NULL)
		event_del(conn->probation_timer);
}

static void conn_destroy(struct conn *conn)
{
	conn_table_remove(conn);
	conn_budget_leave(&conn->budget);
	if (conn->timer != NULL)
		event_free(conn->timer);
	if (conn->probation_timer != NULL)
		event_free(conn->probation_timer);
	if (conn->output_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(conn->bev), conn->output_cb);
	conn_output_total_now -= conn->output_counted;
	if (conn->bev != NULL)
		bufferevent_free(conn->bev); /* frees the SSL and closes the socket */
	else
		SSL_free(conn->ssl);
	free(conn->subject);
	tls_names_free(conn->names, conn->n_names);
	free(conn);
}

static void conn_enter(struct conn *conn)
{
	conn->depth++;
}

/* Returns true when the conn was freed and must not be touched again. */
static bool conn_leave(struct conn *conn)
{
	conn->depth--;
	if (conn->depth == 0 && conn->free_pending) {
		conn_destroy(conn);
		return true;
	}
	return false;
}

static void conn_dispatch(struct conn *conn, enum conn_event event)
{
	if (!conn->finished || event == CONN_EVENT_CLOSED)
		conn->callback(conn, event, conn->arg);
}

static void conn_set_reason(struct conn *conn, const char *reason)
{
	if (conn->close_reason[0] == '\0')
		snprintf(conn->close_reason, sizeof(conn->close_reason), "%s", reason);
}

/* Ends the connection now: no more I/O, CLOSED reported, then freed. */
static void conn_finish(struct conn *conn, const char *reason)
{
	if (conn->finished)
		return;
	conn_set_reason(conn, reason);
	bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	conn_stop_probation_timer(conn);
	/* Its place is free as soon as the owner hears it is gone. */
	conn_budget_leave(&conn->budget);
	/* Finished before CLOSED goes out, so that during it conn_find() and
	 * conn_ready() already say the connection is gone. */
	conn->finished = true;
	conn_enter(conn);
	conn_dispatch(conn, CONN_EVENT_CLOSED);
	conn->free_pending = true;
	conn_leave(conn);
}

void conn_free(struct conn *conn)
{
	if (conn == NULL)
		return;
	conn->finished = true;
	conn->free_pending = true;
	conn_stop_probation_timer(conn);
	conn_budget_leave(&conn->budget);
	if (conn->depth == 0)
		conn_destroy(conn);
}

/* ---- libevent callbacks ---- */

static void conn_learn_peer(struct conn *conn)
{
	X509 *cert = SSL_get1_peer_certificate(conn->ssl);
	if (cert == NULL)
		return;
	unsigned int length = sizeof(conn->fingerprint);
	conn->subject = tls_cert_subject(cert);
	conn->n_names = tls_cert_names(cert, &conn->names);
	conn->has_fingerprint = X509_digest(cert, EVP_sha256(), conn->fingerprint, &length) == 1 &&
				length == sizeof(conn->fingerprint);
	X509_free(cert);
}

/* An outbound socket whose TCP connect failed has no peer. */
static bool conn_tcp_connected(const struct conn *conn)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	return getpeername(bufferevent_getfd(conn->bev), (struct sockaddr *)&peer, &len) == 0;
}

/* The most useful words on why a handshake or a stream failed. */
static void conn_describe_failure(struct conn *conn, char *out, size_t size)
{
	const char *refusal = tls_failure(conn->ssl);
	unsigned long error = bufferevent_get_openssl_error(conn->bev);
	char detail[160];

	if (refusal != NULL) {
		snprintf(out, size, "%s", refusal);
		if (conn->subject == NULL && tls_failure_subject(conn->ssl) != NULL)
			conn->subject = strdup(tls_failure_subject(conn->ssl));
		return;
	}
	if (conn->outbound && !conn->ready && !conn_tcp_connected(conn)) {
		snprintf(out, size, "cannot connect (refused or unreachable)");
		return;
	} else if (ERR_GET_LIB(error) != 0) {
		/* libevent also stores bare SSL_get_error() codes here: skip those */
		ERR_error_string_n(error, detail, sizeof(detail));
	} else if (EVUTIL_SOCKET_ERROR() != 0) {
		snprintf(detail, sizeof(detail), "%s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	} else {
		snprintf(detail, sizeof(detail), "connection closed");
	}
	snprintf(out, size, "%s: %s", conn->ready ? "stream error" : "handshake failed", detail);
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;
	(void)bev;
	if (conn->closing)
		return;
	conn_enter(conn);
	conn_dispatch(conn, CONN_EVENT_DATA);
	conn_leave(conn);
}

static void conn_on_write(struct bufferevent *bev, void *arg)
{
	struct conn *conn = arg;
	if (conn->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		SSL_shutdown(conn->ssl); /* best effort close_notify */
		conn_finish(conn, "closed");
	}
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *conn = arg;
	char reason[256];
	(void)bev;

	if (what & BEV_EVENT_CONNECTED) {
		if (conn->closing)
			return; /* the timer armed by conn_close finishes it */
		event_del(conn->timer);
		conn_learn_peer(conn);
		conn->ready = true;
		if (conn->limits.proven_by_handshake)
			conn_end_probation(conn);
		if (conn->limits.idle_timeout_s > 0) {
			struct timeval idle = { .tv_sec = conn->limits.idle_timeout_s };
			bufferevent_set_timeouts(conn->bev, &idle, NULL);
		}
		conn_enter(conn);
		conn_dispatch(conn, CONN_EVENT_READY);
		conn_leave(conn);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		conn_finish(conn, "idle timeout");
	} else if ((what & BEV_EVENT_EOF) && conn->ready) {
		conn_finish(conn, "peer closed");
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		conn_describe_failure(conn, reason, sizeof(reason));
		conn_finish(conn, reason);
	}
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;
	(void)fd;
	(void)what;
	if (conn->closing)
		conn_finish(conn, conn->close_reason);
	else if (!conn->ready)
		conn_finish(conn, "handshake timeout");
}

/* The timer runs from accept and nothing the peer sends resets it: a
 * connection that only sends keep-alives has not proven anything. */
static void conn_on_probation_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;
	(void)fd;
	(void)what;
	if (!conn->closing && conn->on_probation)
		conn_finish(conn, "first request timeout");
}

/* ---- output accounting ---- */

/* Brings this conn's part of the thread's total up to date. */
static void conn_count_output(struct conn *conn)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(conn->bev));
	conn_output_total_now = conn_output_total_now - conn->output_counted + queued;
	conn->output_counted = queued;
}

static void conn_on_output_change(struct evbuffer *buffer, const struct evbuffer_cb_info *info,
				  void *arg)
{
	(void)buffer;
	(void)info;
	conn_count_output(arg);
}

/* The conn to shed first: of those still holding output, the one with the
 * most queued among the lowest rank present. */
static struct conn *conn_worst_reader(void)
{
	struct conn *worst = NULL;
	for (size_t i = 0; i < conn_slot_count; i++) {
		struct conn *conn = conn_slots[i];
		if (conn == NULL || conn->finished || conn->output_counted == 0)
			continue;
		if (worst == NULL || conn->shed_rank < worst->shed_rank ||
		    (conn->shed_rank == worst->shed_rank &&
		     conn->output_counted > worst->output_counted))
			worst = conn;
	}
	return worst;
}

/* Sheds readers until the total is back under the cap.  Each one shed
 * drops its whole queue, so this ends after a few rounds. */
static void conn_relieve_output(void)
{
	while (conn_output_total_now > conn_output_total_cap) {
		struct conn *worst = conn_worst_reader();
		if (worst == NULL)
			return;
		log_event(LOG_LEVEL_WARNING, "conn_shed",
			  "conn=%" PRIu64 " peer=%s reason=\"output total limit\" queued=%zu "
			  "output_total=%zu output_total_max=%zu",
			  worst->id, worst->peer, worst->output_counted, conn_output_total_now,
			  conn_output_total_cap);
		conn_abort(worst, "output total limit");
	}
}

void conn_set_output_total_max(size_t max)
{
	conn_output_total_cap = max;
}

size_t conn_output_total(void)
{
	return conn_output_total_now;
}

size_t conn_output_queued(const struct conn *conn)
{
	return evbuffer_get_length(bufferevent_get_output(conn->bev));
}

/* ---- creation ---- */

/* The options of every signalling socket, accepted or outbound.
 *
 * No Nagle: a SIP message is written whole, and a small one (an ACK, a
 * 200 to a MESSAGE) held back waiting for the peer's delayed ACK costs
 * milliseconds on every relay over a busy connection (2.3 ms median at
 * 500 MESSAGE/s over one TLS connection, 0.4 ms without Nagle).
 *
 * Keep-alive: a peer that vanishes without a word (power loss, a firewall
 * dropping state) must not leave a quiet connection, such as a pool link,
 * looking alive for ever: TCP probes it after 30 s idle and gives up after
 * 3 lost probes or 30 s of unacknowledged data. */
static void conn_set_signalling_options(evutil_socket_t fd)
{
	int on = 1, idle = 30, interval = 10, count = 3;
	unsigned int unacknowledged_ms = 30000;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &unacknowledged_ms,
		   sizeof(unacknowledged_ms));
}

static struct conn *conn_new(struct event_base *base, SSL *ssl, evutil_socket_t fd,
			     enum bufferevent_ssl_state state, const struct sockaddr *peer,
			     const struct conn_limits *limits, conn_callback *callback, void *arg)
{
	struct conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		goto fail;
	conn->id = conn_next_id++;
	conn->base = base;
	conn->ssl = ssl;
	conn->limits = *limits;
	conn->callback = callback;
	conn->arg = arg;
	address_format(peer, true, conn->peer, sizeof(conn->peer));
	conn->timer = evtimer_new(base, conn_on_timer, conn);
	if (conn->timer == NULL || conn_table_add(conn) < 0)
		goto fail;
	conn->bev = bufferevent_openssl_socket_new(base, fd, ssl, state,
						   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (conn->bev == NULL) {
		conn_table_remove(conn);
		goto fail;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
	conn_set_signalling_options(fd >= 0 ? fd : bufferevent_getfd(conn->bev));
	bufferevent_setcb(conn->bev, conn_on_read, conn_on_write, conn_on_event, conn);
	conn->output_cb =
		evbuffer_add_cb(bufferevent_get_output(conn->bev), conn_on_output_change, conn);
	/* The owner must decide on what is buffered before more is read, so a
	 * peer can never make the edge hold more than this. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, limits->input_max);
	struct timeval handshake = { .tv_sec = limits->handshake_timeout_s };
	evtimer_add(conn->timer, &handshake);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	return conn;
fail:
	if (conn != NULL && conn->timer != NULL)
		event_free(conn->timer);
	free(conn);
	SSL_free(ssl);
	if (fd >= 0)
		evutil_closesocket(fd);
	return NULL;
}

struct conn *conn_accept(struct event_base *base, SSL_CTX *ctx, evutil_socket_t fd,
			 const struct sockaddr *peer, int peer_len,
			 const struct conn_limits *limits, conn_callback *callback, void *arg)
{
	(void)peer_len;
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	struct conn *conn =
		conn_new(base, ssl, fd, BUFFEREVENT_SSL_ACCEPTING, peer, limits, callback, arg);
	if (conn == NULL)
		return NULL;
	conn->on_probation = true;
	if (limits->first_request_timeout_s > 0) {
		conn->probation_timer = evtimer_new(base, conn_on_probation_timer, conn);
		if (conn->probation_timer == NULL) {
			conn_free(conn);
			return NULL;
		}
		struct timeval limit = { .tv_sec = limits->first_request_timeout_s };
		evtimer_add(conn->probation_timer, &limit);
	}
	return conn;
}

struct conn *conn_connect(struct event_base *base, SSL *ssl, const struct sockaddr *peer,
			  int peer_len, const struct sockaddr *local, int local_len,
			  const struct conn_limits *limits, conn_callback *callback, void *arg)
{
	evutil_socket_t fd = socket(peer->sa_family, SOCK_STREAM, 0);
	if (fd < 0) {
		SSL_free(ssl);
		return NULL;
	}
	if (evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0 ||
	    (local != NULL && bind(fd, local, (socklen_t)local_len) < 0)) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	struct conn *conn =
		conn_new(base, ssl, fd, BUFFEREVENT_SSL_CONNECTING, peer, limits, callback, arg);
	if (conn == NULL)
		return NULL;
	conn->outbound = true;
	if (bufferevent_socket_connect(conn->bev, peer, peer_len) < 0) {
		/* The failure is reported as CLOSED from the loop, like any other. */
		conn_set_reason(conn, "connect failed");
		conn->closing = true;
		event_del(conn->timer);
		event_active(conn->timer, EV_TIMEOUT, 0);
	}
	return conn;
}

/* ---- I/O ---- */

void conn_close(struct conn *conn, const char *reason)
{
	if (conn->finished || conn->closing)
		return;
	conn->closing = true;
	conn_set_reason(conn, reason);
	bufferevent_disable(conn->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) > 0 && conn->ready) {
		/* conn_on_write finishes once the output drained; the timer bounds the wait. */
		struct timeval grace = { .tv_sec = conn->limits.handshake_timeout_s };
		evtimer_add(conn->timer, &grace);
		return;
	}
	event_del(conn->timer);
	event_active(conn->timer, EV_TIMEOUT, 0);
}

void conn_abort(struct conn *conn, const char *reason)
{
	if (conn->finished)
		return;
	conn_set_reason(conn, reason);
	conn->closing = true;
	conn_stop_probation_timer(conn);
	conn_budget_leave(&conn->budget);
	bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	struct evbuffer *output = bufferevent_get_output(conn->bev);
	evbuffer_drain(output, evbuffer_get_length(output));
	event_del(conn->timer);
	event_active(conn->timer, EV_TIMEOUT, 0);
}

int conn_join_budget(struct conn *conn, struct conn_budget *budget, const struct sockaddr *peer)
{
	conn_budget_leave(&conn->budget);
	return conn_budget_join(budget, &conn->budget, conn, peer, conn->on_probation) ? 0 : -1;
}

void conn_end_probation(struct conn *conn)
{
	if (!conn->on_probation)
		return;
	conn->on_probation = false;
	conn_stop_probation_timer(conn);
	conn_budget_end_probation(&conn->budget);
}

bool conn_on_probation(const struct conn *conn)
{
	return conn->on_probation;
}

void conn_set_shed_rank(struct conn *conn, enum conn_shed_rank rank)
{
	conn->shed_rank = rank;
}

struct evbuffer *conn_input(struct conn *conn)
{
	return bufferevent_get_input(conn->bev);
}

size_t conn_output_room(const struct conn *conn)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(conn->bev));
	return queued < conn->limits.output_max ? conn->limits.output_max - queued : 0;
}

int conn_write(struct conn *conn, const void *data, size_t len)
{
	struct evbuffer *output = bufferevent_get_output(conn->bev);
	if (conn->finished || conn->closing)
		return -1;
	if (evbuffer_get_length(output) + len > conn->limits.output_max) {
		conn_abort(conn, "output limit exceeded");
		return -1;
	}
	if (bufferevent_write(conn->bev, data, len) < 0)
		return -1;
	conn_count_output(conn); /* whether or not evbuffer callbacks are deferred */
	conn_relieve_output();
	return conn->closing ? -1 : 0;
}

/* ---- accessors ---- */

uint64_t conn_id(const struct conn *conn)
{
	return conn->id;
}

evutil_socket_t conn_fd(const struct conn *conn)
{
	return bufferevent_getfd(conn->bev);
}

bool conn_ready(const struct conn *conn)
{
	return conn->ready && !conn->closing && !conn->finished;
}

const char *conn_peer(const struct conn *conn)
{
	return conn->peer;
}

const char *conn_peer_subject(const struct conn *conn)
{
	return conn->subject;
}

char *const *conn_peer_names(const struct conn *conn, size_t *n)
{
	*n = conn->n_names;
	return conn->names;
}

const unsigned char *conn_peer_fingerprint(const struct conn *conn)
{
	return conn->has_fingerprint ? conn->fingerprint : NULL;
}

void conn_set_reading(struct conn *conn, bool reading)
{
	if (conn->finished || conn->closing)
		return;
	if (reading) {
		bufferevent_enable(conn->bev, EV_READ);
		/* What arrived while paused must not wait for the next packet. */
		if (evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0)
			bufferevent_trigger(conn->bev, EV_READ, BEV_OPT_DEFER_CALLBACKS);
	} else {
		bufferevent_disable(conn->bev, EV_READ);
	}
}

const char *conn_close_reason(const struct conn *conn)
{
	return conn->close_reason;
}

void conn_set_callback(struct conn *conn, conn_callback *callback, void *arg)
{
	conn->callback = callback;
	conn->arg = arg;
}

void *conn_user(const struct conn *conn)
{
	return conn->user;
}

void conn_set_user(struct conn *conn, void *user)
{
	conn->user = user;
}
