/* SPDX-License-Identifier: ISC */
/* conn: one TLS connection over libevent, the only object the protocol code
 * sees of sockets and OpenSSL.
 *
 * A conn owns its bufferevent, enforces the handshake timeout, the idle
 * timeout, the first-request timeout and the output limit, and learns the
 * peer's certificate identity.  It reports to its owner through one
 * callback with a small set of events.  The owner may call conn_free() from
 * inside that callback: the conn is only marked then, and released when the
 * callback returns.
 *
 * An accepted conn starts on probation: the owner ends it (conn_end_probation)
 * once the peer has shown it is a real client, e.g. sent a request the
 * protocol accepts.  Until then the first-request timeout runs and the conn
 * is the first to go when its budget (conn_budget.h) is full.  Under output
 * pressure (conn_set_output_total_max) the owner's shed rank decides. */
#ifndef SXEDGE_CONN_H
#define SXEDGE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/ssl.h>

#include "conn_budget.h"

enum conn_event {
	CONN_EVENT_READY, /* handshake done; peer identity is known */
	CONN_EVENT_DATA, /* bytes are waiting in conn_input() */
	CONN_EVENT_CLOSED, /* the connection is gone; conn_close_reason() says why */
};

struct conn;
typedef void conn_callback(struct conn *conn, enum conn_event event, void *arg);

struct conn_limits {
	unsigned handshake_timeout_s;
	unsigned idle_timeout_s; /* 0: none */
	size_t input_max; /* bytes buffered from the peer before reading pauses (it may
				    overshoot by one TLS record, at most 16 KiB); 0: none */
	size_t output_max; /* bytes queued for the peer before the conn is dropped */
	/* Accepted conns: seconds from accept (the handshake included) to the
	 * end of probation before the conn is closed; 0: none. */
	unsigned first_request_timeout_s;
	/* Accepted conns: the handshake itself proves the peer (mutual TLS that
	 * checks its name), so READY ends probation. */
	bool proven_by_handshake;
};

/* Which conns a worker over its output total closes first: the owner says
 * which peers the edge can best do without. */
enum conn_shed_rank {
	CONN_SHED_FIRST, /* an outsider's connection (the default) */
	CONN_SHED_LAST, /* a link everyone depends on (pool, partner edge) */
};

/* Takes over the accepted socket FD and starts the server handshake. */
struct conn *conn_accept(struct event_base *base, SSL_CTX *ctx, evutil_socket_t fd,
			 const struct sockaddr *peer, int peer_len,
			 const struct conn_limits *limits, conn_callback *callback, void *arg);

/* Connects to PEER (binding to LOCAL when not NULL) and starts the client
 * handshake on SSL, which the caller has prepared (tls_client_expect). */
struct conn *conn_connect(struct event_base *base, SSL *ssl, const struct sockaddr *peer,
			  int peer_len, const struct sockaddr *local, int local_len,
			  const struct conn_limits *limits, conn_callback *callback, void *arg);

/* Stops delivering events, closes at once and frees (deferred when called
 * from inside the callback).  CLOSED is not reported for conn_free(). */
void conn_free(struct conn *conn);

/* Flushes what is queued, then closes; CLOSED follows. */
void conn_close(struct conn *conn, const char *reason);

/* Drops what is queued and closes without flushing (shedding): the conn
 * leaves its budget at once, CLOSED follows from the loop. */
void conn_abort(struct conn *conn, const char *reason);

/* Makes CONN (accepted) count against BUDGET, from source PEER, on probation
 * until conn_end_probation; it leaves the budget when it closes.  Returns -1
 * (counting nothing) when the per-address cap or memory does not allow it. */
int conn_join_budget(struct conn *conn, struct conn_budget *budget, const struct sockaddr *peer);

/* The peer has proven itself: the first-request timeout stops, and the conn
 * is no longer shed to make room in its budget. */
void conn_end_probation(struct conn *conn);
bool conn_on_probation(const struct conn *conn);

void conn_set_shed_rank(struct conn *conn, enum conn_shed_rank rank);

/* This thread's cap on the bytes queued towards peers over all its conns
 * (default: none).  When a write takes the total past it, the conns with the
 * most queued are aborted ("output total limit"), every CONN_SHED_FIRST one
 * before any CONN_SHED_LAST one, until the total is back under the cap. */
void conn_set_output_total_max(size_t max);
/* Bytes queued towards peers over all of this thread's conns. */
size_t conn_output_total(void);
/* Bytes queued towards CONN's peer. */
size_t conn_output_queued(const struct conn *conn);

struct evbuffer *conn_input(struct conn *conn);
/* Bytes that can still be queued for the peer before the output limit. */
size_t conn_output_room(const struct conn *conn);
/* Queues bytes for the peer.  Returns -1 (and closes the conn) when that
 * would exceed the output limit, or when the output total made the conn
 * itself the one to shed. */
int conn_write(struct conn *conn, const void *data, size_t len);

uint64_t conn_id(const struct conn *conn); /* unique per process, never reused */
/* The conn's socket, only to read its options (getsockopt, getsockname):
 * reading, writing or closing it would break the TLS stream under the conn. */
evutil_socket_t conn_fd(const struct conn *conn);
bool conn_ready(const struct conn *conn);
const char *conn_peer(const struct conn *conn); /* "ADDR:PORT" */
const char *conn_peer_subject(const struct conn *conn); /* certificate subject or NULL */
/* Peer certificate identities (tls_cert_names), known once READY. */
char *const *conn_peer_names(const struct conn *conn, size_t *n);
/* SHA-256 of the peer certificate (DER), known once READY; NULL without one. */
const unsigned char *conn_peer_fingerprint(const struct conn *conn);
const char *conn_close_reason(const struct conn *conn);

/* Stops (false) or resumes (true) reading from the peer.  While stopped no
 * DATA is reported; what arrived stays buffered. */
void conn_set_reading(struct conn *conn, bool reading);

void conn_set_callback(struct conn *conn, conn_callback *callback, void *arg);
void *conn_user(const struct conn *conn);
void conn_set_user(struct conn *conn, void *user);

/* Looks up a live conn by id in the process's table (flow tokens, Via). */
struct conn *conn_find(uint64_t id);

#endif
