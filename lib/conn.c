/* SPDX-License-Identifier: ISC */
/* conn: one TCP connection, plain or TLS, over libevent bufferevents.
 *
 * The protocol code above never sees a bufferevent: it gets TLS_READY, DATA,
 * DRAINED and CLOSED through one callback, reads conn_input() and writes
 * conn_write().  A plain conn is a socket bufferevent; TLS from the first
 * byte is an OpenSSL bufferevent on the socket; an upgrade in place puts an
 * OpenSSL filter on top of the plain one, so that what was queued in
 * plaintext (the "proceed") still goes out first.  Every way a connection
 * can end (peer close, error, refused handshake, timeout, output limit, our
 * own close) goes through conn_finish(), which reports CLOSED once with its
 * reason and frees.  A dispatch depth counter (the "event frame" of
 * OpenSMTPD's ioev) lets the owner free the conn from inside its own
 * callback without the code below the callback touching freed memory.
 *
 * Each conn also counts its queued output (both buffers once upgraded) into
 * its thread's total: an evbuffer callback on each output buffer sees every
 * byte added and every byte sent, so the total is exact without the
 * owner's help, and the same count drives DRAINED and the flush before a
 * close.  Closes that the conn starts itself (output limits, shedding) are
 * deferred to the loop through the timer: they may happen inside another
 * conn's callback, whose owner must not see a CLOSED it did not expect in
 * the middle of its work. */
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

enum conn_phase {
	CONN_PHASE_CONNECTING, /* outbound: TCP connect (and TLS handshake) running */
	CONN_PHASE_HANDSHAKE, /* TLS handshake running */
	CONN_PHASE_OPEN,
};

struct conn {
	uint64_t id;
	struct event_base *base;
	evutil_socket_t fd;
	struct bufferevent *bev; /* what the owner reads and writes */
	struct bufferevent *plain; /* under bev once upgraded in place; NULL otherwise */
	SSL *ssl; /* NULL while plain */
	struct tls_server *server; /* the handle TLS was set up with, held */
	struct tls_client *client;
	struct event *timer; /* handshake timeout, then deferred finish */
	struct event *probation_timer; /* first-request timeout; NULL without one */
	struct event *drained_event; /* NULL without output_low_water */
	struct evbuffer_cb_entry *output_cb;
	struct evbuffer_cb_entry *plain_output_cb;
	size_t output_counted; /* this conn's part of conn_output_total_now */
	bool above_low_water;
	struct conn_limits limits;
	struct conn_budget_member budget; /* budget.budget NULL: counted in none */
	enum conn_shed_rank shed_rank;
	struct conn_owner owner;
	char peer[INET6_ADDRSTRLEN + 8];
	char *subject;
	char **names;
	size_t n_names;
	bool has_fingerprint;
	bool peer_verified; /* its chain verified (tolerant handles let others through) */
	unsigned char fingerprint[32]; /* SHA-256 of the peer certificate (DER) */
	bool has_reason;
	enum conn_close_reason close_reason;
	enum tls_failure_kind tls_failure;
	char close_detail[256];
	enum conn_phase phase;
	bool outbound;
	bool on_probation;
	bool secure; /* the TLS handshake completed */
	bool closing; /* conn_close, conn_abort or a failed connect: finishing soon */
	bool flushing; /* conn_close: what is queued goes out first */
	bool finished; /* CLOSED reported or conn_free called */
	bool free_pending;
	unsigned depth; /* callbacks currently running on this conn */
};

/* ---- close reasons ---- */

const char *conn_close_reason_name(enum conn_close_reason reason)
{
	switch (reason) {
	case CONN_CLOSE_LOCAL:
		return "local";
	case CONN_CLOSE_PEER:
		return "peer_closed";
	case CONN_CLOSE_STREAM_ERROR:
		return "stream_error";
	case CONN_CLOSE_CONNECT_FAILED:
		return "connect_failed";
	case CONN_CLOSE_HANDSHAKE_TIMEOUT:
		return "handshake_timeout";
	case CONN_CLOSE_IDLE_TIMEOUT:
		return "idle_timeout";
	case CONN_CLOSE_FIRST_REQUEST_TIMEOUT:
		return "first_request_timeout";
	case CONN_CLOSE_TLS_FAILED:
		return "tls_failed";
	case CONN_CLOSE_CERTIFICATE_REFUSED:
		return "certificate_refused";
	case CONN_CLOSE_PLAINTEXT_AFTER_UPGRADE:
		return "plaintext_after_upgrade";
	case CONN_CLOSE_OUTPUT_OVERFLOW:
		return "output_overflow";
	case CONN_CLOSE_OUTPUT_TOTAL:
		return "output_total";
	case CONN_CLOSE_BUDGET_SHED:
		return "budget_shed";
	case CONN_CLOSE_OUT_OF_MEMORY:
		return "out_of_memory";
	}
	return "unknown";
}

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
	if (conn->drained_event != NULL)
		event_free(conn->drained_event);
	if (conn->output_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(conn->bev), conn->output_cb);
	if (conn->plain_output_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(conn->plain),
					 conn->plain_output_cb);
	conn_output_total_now -= conn->output_counted;
	/* Frees the SSL and, through the plain one under a filter, closes the socket. */
	bufferevent_free(conn->bev);
	tls_server_release(conn->server);
	tls_client_release(conn->client);
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
		conn->owner.callback(conn, event, conn->owner.arg);
}

/* The first reason given is the one reported. */
static void conn_set_reason(struct conn *conn, enum conn_close_reason reason, const char *detail)
{
	if (conn->has_reason)
		return;
	conn->has_reason = true;
	conn->close_reason = reason;
	snprintf(conn->close_detail, sizeof(conn->close_detail), "%s",
		 detail != NULL ? detail : conn_close_reason_name(reason));
}

/* Ends the connection now: no more I/O, CLOSED reported, then freed. */
static void conn_finish(struct conn *conn, enum conn_close_reason reason, const char *detail)
{
	if (conn->finished)
		return;
	conn_set_reason(conn, reason, detail);
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

/* Finishes from the loop, with the reason already set. */
static void conn_finish_soon(struct conn *conn)
{
	event_del(conn->timer);
	event_active(conn->timer, EV_TIMEOUT, 0);
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
	conn->peer_verified = tls_peer_verified(conn->ssl);
	conn->has_fingerprint = X509_digest(cert, EVP_sha256(), conn->fingerprint, &length) == 1 &&
				length == sizeof(conn->fingerprint);
	X509_free(cert);
}

/* An outbound socket whose TCP connect failed has no peer. */
static bool conn_tcp_connected(const struct conn *conn)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	return getpeername(conn->fd, (struct sockaddr *)&peer, &len) == 0;
}

/* A handshake that failed on top of a plain bufferevent (an upgrade)
 * left its alert in the plain one's output: it goes now, best effort, as
 * it would have from a socket BIO, or the peer sees only a closed
 * connection instead of why.  libevent keeps the start of a socket
 * bufferevent's output frozen but for its own writes, as here. */
static void conn_send_alert(struct conn *conn)
{
	if (conn->plain == NULL || conn->phase == CONN_PHASE_OPEN)
		return;
	struct evbuffer *output = bufferevent_get_output(conn->plain);
	evbuffer_unfreeze(output, 1);
	evbuffer_write(output, conn->fd);
	evbuffer_freeze(output, 1);
}

/* Ends a conn whose handshake or stream failed, with the most useful
 * reason and words. */
static void conn_fail(struct conn *conn)
{
	const char *refusal = conn->ssl != NULL ? tls_failure(conn->ssl) : NULL;
	unsigned long error = conn->ssl != NULL ? bufferevent_get_openssl_error(conn->bev) : 0;
	char detail[160], out[256];

	conn_send_alert(conn);

	if (refusal != NULL) {
		conn->tls_failure = tls_failure_kind(conn->ssl);
		if (conn->subject == NULL && tls_failure_subject(conn->ssl) != NULL)
			conn->subject = strdup(tls_failure_subject(conn->ssl));
		conn_finish(conn,
			    tls_failure_is_certificate(conn->tls_failure)
				    ? CONN_CLOSE_CERTIFICATE_REFUSED
				    : CONN_CLOSE_TLS_FAILED,
			    refusal);
		return;
	}
	if (conn->phase == CONN_PHASE_CONNECTING && !conn_tcp_connected(conn)) {
		conn_finish(conn, CONN_CLOSE_CONNECT_FAILED,
			    "cannot connect (refused or unreachable)");
		return;
	}
	if (ERR_GET_LIB(error) != 0) {
		/* libevent also stores bare SSL_get_error() codes here: skip those */
		ERR_error_string_n(error, detail, sizeof(detail));
	} else if (EVUTIL_SOCKET_ERROR() != 0) {
		snprintf(detail, sizeof(detail), "%s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	} else {
		snprintf(detail, sizeof(detail), "connection closed");
	}
	if (conn->phase != CONN_PHASE_OPEN) {
		conn->tls_failure = tls_error_kind(error);
		snprintf(out, sizeof(out), "handshake failed: %s", detail);
		conn_finish(conn,
			    tls_failure_is_certificate(conn->tls_failure)
				    ? CONN_CLOSE_CERTIFICATE_REFUSED
				    : CONN_CLOSE_TLS_FAILED,
			    out);
		return;
	}
	snprintf(out, sizeof(out), "stream error: %s", detail);
	conn_finish(conn, CONN_CLOSE_STREAM_ERROR, out);
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

/* Open for bytes: the idle timeout runs from here. */
static void conn_open(struct conn *conn)
{
	conn->phase = CONN_PHASE_OPEN;
	if (conn->limits.idle_timeout_s > 0) {
		struct timeval idle = { .tv_sec = conn->limits.idle_timeout_s };
		bufferevent_set_timeouts(conn->bev, &idle, NULL);
	}
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *conn = arg;
	(void)bev;

	if (what & BEV_EVENT_CONNECTED) {
		if (conn->closing)
			return; /* the timer armed by conn_close finishes it */
		event_del(conn->timer);
		conn_open(conn);
		if (conn->ssl == NULL) {
			/* a plain connect: writes queued before it now go out */
			conn_enter(conn);
			conn_dispatch(conn, CONN_EVENT_CONNECTED);
			conn_leave(conn);
			return;
		}
		conn_learn_peer(conn);
		conn->secure = true;
		if (conn->limits.proven_by_handshake)
			conn_end_probation(conn);
		conn_enter(conn);
		conn_dispatch(conn, CONN_EVENT_TLS_READY);
		conn_leave(conn);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		conn_finish(conn, CONN_CLOSE_IDLE_TIMEOUT, "idle timeout");
	else if ((what & BEV_EVENT_EOF) && conn->phase == CONN_PHASE_OPEN)
		conn_finish(conn, CONN_CLOSE_PEER, "peer closed");
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_fail(conn);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;
	(void)fd;
	(void)what;
	if (conn->closing) {
		if (conn->flushing && conn->ssl != NULL && conn->phase == CONN_PHASE_OPEN &&
		    conn_output_queued(conn) == 0)
			SSL_shutdown(conn->ssl); /* best effort close_notify */
		conn_finish(conn, conn->close_reason, conn->close_detail);
	} else if (conn->phase != CONN_PHASE_OPEN) {
		conn_finish(conn, CONN_CLOSE_HANDSHAKE_TIMEOUT, "handshake timeout");
	}
}

/* The timer runs from accept and nothing the peer sends resets it: a
 * connection that only sends keep-alives has not proven anything. */
static void conn_on_probation_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;
	(void)fd;
	(void)what;
	if (!conn->closing && conn->on_probation)
		conn_finish(conn, CONN_CLOSE_FIRST_REQUEST_TIMEOUT, "first request timeout");
}

static void conn_on_drained(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;
	(void)fd;
	(void)what;
	if (conn->closing || conn->finished)
		return;
	conn_enter(conn);
	conn_dispatch(conn, CONN_EVENT_DRAINED);
	conn_leave(conn);
}

/* ---- output accounting ---- */

size_t conn_output_queued(const struct conn *conn)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(conn->bev));
	if (conn->plain != NULL)
		queued += evbuffer_get_length(bufferevent_get_output(conn->plain));
	return queued;
}

/* Brings this conn's part of the thread's total up to date, and sees what
 * the new length means: a closing conn whose output has all gone finishes,
 * and one back at its low-water mark reports DRAINED (from the loop, as
 * this runs inside libevent's writes and the owner's conn_write). */
static void conn_count_output(struct conn *conn)
{
	size_t queued = conn_output_queued(conn);
	conn_output_total_now = conn_output_total_now - conn->output_counted + queued;
	conn->output_counted = queued;
	if (conn->finished)
		return;
	if (conn->closing && queued == 0) {
		event_active(conn->timer, EV_TIMEOUT, 0);
		return;
	}
	if (conn->drained_event == NULL)
		return;
	if (queued > conn->limits.output_low_water) {
		conn->above_low_water = true;
	} else if (conn->above_low_water) {
		conn->above_low_water = false;
		event_active(conn->drained_event, EV_TIMEOUT, 0);
	}
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
		conn_abort(worst, CONN_CLOSE_OUTPUT_TOTAL, "output total limit");
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
 * 3 lost probes, at 60 s of silence.  No TCP_USER_TIMEOUT: on Linux it
 * overrides the probe count, so one lost probe reset the connection, and
 * connections that went quiet together probe in the same tick, so a burst
 * of probes lost together closed blocks of idle clients at once. */
static void conn_set_signalling_options(evutil_socket_t fd)
{
	int on = 1, idle = 30, interval = 10, count = 3;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

/* Points the owner's callbacks, limits and output count at BEV, now the
 * one the owner reads and writes. */
static int conn_use_bufferevent(struct conn *conn, struct bufferevent *bev)
{
	conn->bev = bev;
	if (conn->ssl != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, conn_on_read, NULL, conn_on_event, conn);
	conn->output_cb = evbuffer_add_cb(bufferevent_get_output(bev), conn_on_output_change, conn);
	if (conn->output_cb == NULL)
		return -1;
	/* The owner must decide on what is buffered before more is read, so a
	 * peer can never make the edge hold more than this. */
	bufferevent_setwatermark(bev, EV_READ, 0, conn->limits.input_max);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return 0;
}

static void conn_arm_handshake_timer(struct conn *conn)
{
	struct timeval handshake = { .tv_sec = conn->limits.handshake_timeout_s };
	evtimer_add(conn->timer, &handshake);
}

/* A conn on FD, plain when SSL is NULL; on failure FD is closed and SSL freed. */
static struct conn *conn_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
			     enum bufferevent_ssl_state state, const struct sockaddr *peer,
			     const struct conn_limits *limits, const struct conn_owner *owner)
{
	const int options = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	struct bufferevent *bev = NULL;
	struct conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		goto fail;
	conn->id = conn_next_id++;
	conn->base = base;
	conn->fd = fd;
	conn->ssl = ssl;
	conn->limits = *limits;
	conn->owner = *owner;
	address_format(peer, true, conn->peer, sizeof(conn->peer));
	conn->timer = evtimer_new(base, conn_on_timer, conn);
	if (conn->timer == NULL)
		goto fail;
	if (limits->output_low_water > 0) {
		conn->drained_event = event_new(base, -1, 0, conn_on_drained, conn);
		if (conn->drained_event == NULL)
			goto fail;
	}
	bev = ssl != NULL ? bufferevent_openssl_socket_new(base, fd, ssl, state, options)
			  : bufferevent_socket_new(base, fd, options);
	if (bev == NULL)
		goto fail;
	/* From here freeing the bufferevent frees the SSL and closes FD. */
	ssl = NULL;
	fd = -1;
	if (conn_table_add(conn) < 0)
		goto fail;
	if (conn_use_bufferevent(conn, bev) < 0) {
		conn_table_remove(conn);
		goto fail;
	}
	conn_set_signalling_options(conn->fd);
	return conn;
fail:
	if (conn != NULL && conn->timer != NULL)
		event_free(conn->timer);
	if (conn != NULL && conn->drained_event != NULL)
		event_free(conn->drained_event);
	if (bev != NULL)
		bufferevent_free(bev);
	free(conn);
	SSL_free(ssl);
	if (fd >= 0)
		evutil_closesocket(fd);
	return NULL;
}

struct conn *conn_accept(struct event_base *base, evutil_socket_t fd, const struct sockaddr *peer,
			 int peer_len, struct tls_server *server, const struct conn_limits *limits,
			 const struct conn_owner *owner)
{
	(void)peer_len;
	SSL *ssl = NULL;
	if (server != NULL && (ssl = tls_server_open(server)) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	if (ssl != NULL)
		tls_set_handshake_owner(ssl, owner->arg);
	struct conn *conn = conn_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, peer, limits, owner);
	if (conn == NULL)
		return NULL;
	conn->on_probation = true;
	if (server != NULL) {
		conn->server = tls_server_hold(server);
		conn->phase = CONN_PHASE_HANDSHAKE;
		conn_arm_handshake_timer(conn);
	} else {
		conn_open(conn);
	}
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

struct conn *conn_connect(struct event_base *base, const struct sockaddr *peer, int peer_len,
			  const struct sockaddr *local, int local_len, struct tls_client *client,
			  const struct tls_expect *expect, const struct conn_limits *limits,
			  const struct conn_owner *owner)
{
	SSL *ssl = NULL;
	if (client != NULL && (ssl = tls_client_open(client, expect)) == NULL)
		return NULL;
	evutil_socket_t fd = socket(peer->sa_family, SOCK_STREAM, 0);
	if (fd < 0) {
		SSL_free(ssl);
		return NULL;
	}
	int one = 1;
	if (evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0 ||
	    (local != NULL && limits->share_local_port &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    (local != NULL && bind(fd, local, (socklen_t)local_len) < 0)) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	struct conn *conn =
		conn_new(base, fd, ssl, BUFFEREVENT_SSL_CONNECTING, peer, limits, owner);
	if (conn == NULL)
		return NULL;
	if (client != NULL)
		conn->client = tls_client_hold(client);
	conn->outbound = true;
	conn->phase = CONN_PHASE_CONNECTING;
	conn_arm_handshake_timer(conn);
	if (bufferevent_socket_connect(conn->bev, peer, peer_len) < 0) {
		/* The failure is reported as CLOSED from the loop, like any other. */
		conn_set_reason(conn, CONN_CLOSE_CONNECT_FAILED, "connect failed");
		conn->closing = true;
		conn_finish_soon(conn);
	}
	return conn;
}

/* ---- upgrading in place ---- */

/* Puts TLS (SSL, in STATE) on top of the plain bufferevent.  Unless what
 * is buffered is the peer's first TLS bytes (BUFFERED_IS_TLS), nothing the
 * peer sent in plaintext may be waiting: it would reach the owner as if it
 * had come over TLS (the STARTTLS command injection of CVE-2011-0411).
 * The handshake reads what is buffered first. */
static int conn_upgrade(struct conn *conn, SSL *ssl, enum bufferevent_ssl_state state,
			bool buffered_is_tls)
{
	struct bufferevent *plain = conn->bev;

	if (!buffered_is_tls && evbuffer_get_length(bufferevent_get_input(plain)) > 0) {
		SSL_free(ssl);
		conn_abort(conn, CONN_CLOSE_PLAINTEXT_AFTER_UPGRADE, "plaintext after STARTTLS");
		return -1;
	}
	struct bufferevent *tls = bufferevent_openssl_filter_new(
		conn->base, plain, ssl, state, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL) {
		/* Not freed here: once libevent got as far as its own object,
		 * freeing that has freed the SSL already. */
		conn_abort(conn, CONN_CLOSE_OUT_OF_MEMORY, NULL);
		return -1;
	}
	/* The plain one keeps its output count (the "proceed" may still be
	 * queued there) and loses its idle timeout: the handshake timer runs. */
	conn->plain = plain;
	conn->plain_output_cb = conn->output_cb;
	conn->output_cb = NULL;
	conn->ssl = ssl;
	bufferevent_set_timeouts(plain, NULL, NULL);
	bufferevent_enable(plain, EV_READ | EV_WRITE);
	conn->phase = CONN_PHASE_HANDSHAKE;
	if (conn_use_bufferevent(conn, tls) < 0) {
		conn_abort(conn, CONN_CLOSE_OUT_OF_MEMORY, NULL);
		return -1;
	}
	conn_arm_handshake_timer(conn);
	return 0;
}

/* Only a plain conn that is open can be upgraded, and only once. */
static bool conn_can_upgrade(const struct conn *conn)
{
	return conn->ssl == NULL && conn->phase == CONN_PHASE_OPEN && !conn->closing &&
	       !conn->finished;
}

static int conn_upgrade_server(struct conn *conn, struct tls_server *server, bool buffered_is_tls)
{
	if (!conn_can_upgrade(conn))
		return -1;
	SSL *ssl = tls_server_open(server);
	if (ssl == NULL) {
		conn_abort(conn, CONN_CLOSE_OUT_OF_MEMORY, NULL);
		return -1;
	}
	tls_set_handshake_owner(ssl, conn->owner.arg);
	if (conn_upgrade(conn, ssl, BUFFEREVENT_SSL_ACCEPTING, buffered_is_tls) < 0)
		return -1;
	conn->server = tls_server_hold(server);
	return 0;
}

int conn_start_tls_server(struct conn *conn, struct tls_server *server)
{
	return conn_upgrade_server(conn, server, false);
}

int conn_start_tls_server_buffered(struct conn *conn, struct tls_server *server)
{
	return conn_upgrade_server(conn, server, true);
}

int conn_start_tls_client(struct conn *conn, struct tls_client *client,
			  const struct tls_expect *expect)
{
	if (!conn_can_upgrade(conn))
		return -1;
	SSL *ssl = tls_client_open(client, expect);
	if (ssl == NULL) {
		conn_abort(conn, CONN_CLOSE_OUT_OF_MEMORY, NULL);
		return -1;
	}
	if (conn_upgrade(conn, ssl, BUFFEREVENT_SSL_CONNECTING, false) < 0)
		return -1;
	conn->client = tls_client_hold(client);
	return 0;
}

/* ---- I/O ---- */

void conn_close(struct conn *conn, enum conn_close_reason reason, const char *detail)
{
	if (conn->finished || conn->closing)
		return;
	conn->closing = true;
	conn->flushing = true;
	conn_set_reason(conn, reason, detail);
	bufferevent_disable(conn->bev, EV_READ);
	if (conn_output_queued(conn) > 0 && conn->phase == CONN_PHASE_OPEN) {
		/* The output count finishes it once all has gone; the timer bounds the wait. */
		struct timeval grace = { .tv_sec = conn->limits.handshake_timeout_s };
		evtimer_add(conn->timer, &grace);
		return;
	}
	conn_finish_soon(conn);
}

void conn_abort(struct conn *conn, enum conn_close_reason reason, const char *detail)
{
	if (conn->finished)
		return;
	conn_set_reason(conn, reason, detail);
	conn->closing = true;
	conn->flushing = false;
	conn_stop_probation_timer(conn);
	conn_budget_leave(&conn->budget);
	bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	struct evbuffer *output = bufferevent_get_output(conn->bev);
	evbuffer_drain(output, evbuffer_get_length(output));
	if (conn->plain != NULL) {
		bufferevent_disable(conn->plain, EV_READ | EV_WRITE);
		output = bufferevent_get_output(conn->plain);
		evbuffer_drain(output, evbuffer_get_length(output));
	}
	conn_finish_soon(conn);
}

/* ---- budgets ---- */

enum conn_budget_verdict conn_admit(struct conn_budget *budget, const struct sockaddr *peer)
{
	char source[INET6_ADDRSTRLEN], quoted[300];
	struct conn *oldest;

	/* Without the port: the address is what is counted. */
	address_format(peer, false, source, sizeof(source));
	enum conn_budget_verdict verdict = conn_budget_check(budget, peer);
	switch (verdict) {
	case CONN_BUDGET_ADMIT:
		return verdict;
	case CONN_BUDGET_ADDRESS_FULL:
		log_event(LOG_LEVEL_WARNING, "conn_refused",
			  "role=%s peer=%s reason=\"per-address limit\" reason_code=%s",
			  budget->name, source, conn_budget_verdict_name(verdict));
		return verdict;
	case CONN_BUDGET_FULL:
		break;
	}
	oldest = conn_budget_oldest_on_probation(budget);
	if (oldest == NULL) {
		log_event(LOG_LEVEL_WARNING, "conn_refused",
			  "role=%s peer=%s reason=\"%s connection limit\" reason_code=%s",
			  budget->name, source, budget->name, conn_budget_verdict_name(verdict));
		return verdict;
	}
	/* A connection that never proved itself gives way to one that may; the
	 * newcomer faces the same first-request timeout. */
	log_event(LOG_LEVEL_WARNING, "conn_shed",
		  "role=%s conn=%" PRIu64 " peer=%s reason=\"%s connection limit\" "
		  "for=%s ready=%s",
		  budget->name, conn_id(oldest), conn_peer(oldest), budget->name, source,
		  conn_ready(oldest) ? "yes" : "no");
	snprintf(quoted, sizeof(quoted), "shed: %s connection limit", budget->name);
	conn_abort(oldest, CONN_CLOSE_BUDGET_SHED, quoted);
	return CONN_BUDGET_ADMIT;
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
	size_t queued = conn_output_queued(conn);
	return queued < conn->limits.output_max ? conn->limits.output_max - queued : 0;
}

int conn_write(struct conn *conn, const void *data, size_t len)
{
	if (conn->finished || conn->closing)
		return -1;
	if (conn_output_queued(conn) + len > conn->limits.output_max) {
		conn_abort(conn, CONN_CLOSE_OUTPUT_OVERFLOW, "output limit exceeded");
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
	return conn->fd;
}

bool conn_ready(const struct conn *conn)
{
	return conn->phase == CONN_PHASE_OPEN && !conn->closing && !conn->finished;
}

bool conn_secure(const struct conn *conn)
{
	return conn->secure;
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

const char *conn_server_name(const struct conn *conn)
{
	return conn->ssl != NULL ? SSL_get_servername(conn->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
}

bool conn_peer_verified(const struct conn *conn)
{
	return conn->peer_verified;
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

bool conn_reading(const struct conn *conn)
{
	return (bufferevent_get_enabled(conn->bev) & EV_READ) != 0;
}

enum conn_close_reason conn_close_reason(const struct conn *conn)
{
	return conn->close_reason;
}

const char *conn_close_detail(const struct conn *conn)
{
	return conn->close_detail;
}

enum tls_failure_kind conn_tls_failure(const struct conn *conn)
{
	return conn->tls_failure;
}

const struct conn_owner *conn_owner(const struct conn *conn)
{
	return &conn->owner;
}
