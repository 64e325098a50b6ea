/* SPDX-License-Identifier: ISC */
/* conn: one TCP connection, plain or TLS, over libevent: the only object
 * the protocol code sees of sockets and OpenSSL.
 *
 * A conn starts plain or in TLS from the first byte, and a plain one can be
 * upgraded in place (STARTTLS, XMPP's <starttls/>): TLS is set up inside it
 * from a context handle (tls.h), so the owner never sees an SSL object.  A
 * conn owns its bufferevent, enforces the handshake timeout, the idle
 * timeout, the first-request timeout and the output limit, and learns the
 * peer's certificate identity.  It reports to its owner through one
 * callback with a small set of events; how it ended is an enum
 * (conn_close_reason) with a detail string for the log, so no caller has to
 * search text.  The owner may call conn_free() from inside that callback:
 * the conn is only marked then, and released when the callback returns.
 *
 * The owner is typed: its protocol and role are fields of the conn, set when
 * the conn is made, so code that finds a conn by id can ask what it is.
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

#include "conn_budget.h"
#include "tls.h"

enum conn_event {
	CONN_EVENT_TLS_READY, /* the TLS handshake is done; peer identity is known */
	CONN_EVENT_CONNECTED, /* a plain outbound connect completed */
	CONN_EVENT_DATA, /* bytes are waiting in conn_input() */
	CONN_EVENT_DRAINED, /* queued output fell to output_low_water after being above */
	CONN_EVENT_CLOSED, /* the connection is gone; conn_close_reason() says why */
};

/* How a connection ended.  conn_close_reason_name() is the stable name for
 * logs and metrics; conn_close_detail() the words for a person. */
enum conn_close_reason {
	CONN_CLOSE_LOCAL, /* the owner closed it (conn_close, conn_abort) */
	CONN_CLOSE_PEER, /* the peer closed its side */
	CONN_CLOSE_STREAM_ERROR, /* reading or writing failed once open */
	CONN_CLOSE_CONNECT_FAILED, /* outbound: refused or unreachable */
	CONN_CLOSE_HANDSHAKE_TIMEOUT,
	CONN_CLOSE_IDLE_TIMEOUT,
	CONN_CLOSE_FIRST_REQUEST_TIMEOUT,
	CONN_CLOSE_TLS_FAILED, /* the handshake failed; conn_tls_failure() says how */
	CONN_CLOSE_CERTIFICATE_REFUSED, /* our checks refused the peer's certificate, or its
					   alert refused ours */
	CONN_CLOSE_PLAINTEXT_AFTER_UPGRADE, /* bytes came before the handshake they must wait for */
	CONN_CLOSE_OUTPUT_OVERFLOW, /* a write past output_max */
	CONN_CLOSE_OUTPUT_TOTAL, /* shed to bring the thread's output total under its cap */
	CONN_CLOSE_BUDGET_SHED, /* shed to make room in its budget for a newcomer */
	CONN_CLOSE_OUT_OF_MEMORY,
};
#define CONN_CLOSE_REASONS (CONN_CLOSE_OUT_OF_MEMORY + 1)

const char *conn_close_reason_name(enum conn_close_reason reason);

/* The protocols whose sessions own conns: each protocol module that owns
 * conns has its value here. */
enum conn_protocol {
	CONN_PROTOCOL_SIP,
	CONN_PROTOCOL_XMPP,
	CONN_PROTOCOL_TURN,
};

struct conn;
typedef void conn_callback(struct conn *conn, enum conn_event event, void *arg);

/* Who owns a conn: its protocol and the protocol's role for it (SIP: enum
 * listener_role) are what others may read; CALLBACK gets every event with
 * ARG, the owner's own object. */
struct conn_owner {
	enum conn_protocol protocol;
	int role;
	conn_callback *callback;
	void *arg;
};

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
	 * checks its name), so TLS_READY ends probation. */
	bool proven_by_handshake;
	/* DRAINED is reported when the queued output falls to this many bytes
	 * after having been above it; 0: never reported. */
	size_t output_low_water;
	/* Outbound with a local address: SO_REUSEPORT before binding it, so
	 * the connection can leave from the port of a listener that set it too
	 * (a TURN relay's, RFC 6062 §5.2). */
	bool share_local_port;
};

/* Which conns a worker over its output total closes first: the owner says
 * which peers the edge can best do without. */
enum conn_shed_rank {
	CONN_SHED_FIRST, /* an outsider's connection (the default) */
	CONN_SHED_LAST, /* a link everyone depends on (pool, partner edge) */
};

/* Takes over the accepted socket FD.  With SERVER the TLS handshake starts
 * at once (TLS from the first byte); without, the conn is plain until
 * conn_start_tls_server().  Returns NULL (FD closed) when out of memory. */
struct conn *conn_accept(struct event_base *base, evutil_socket_t fd, const struct sockaddr *peer,
			 int peer_len, struct tls_server *server, const struct conn_limits *limits,
			 const struct conn_owner *owner);

/* Connects to PEER (binding to LOCAL when not NULL).  With CLIENT the TLS
 * handshake follows the TCP connect, sending EXPECT's SNI and requiring its
 * names; without, the conn is plain (EXPECT unused) and what is written
 * before the connect completes waits for it.  handshake_timeout_s bounds the
 * connect and the handshake together. */
struct conn *conn_connect(struct event_base *base, const struct sockaddr *peer, int peer_len,
			  const struct sockaddr *local, int local_len, struct tls_client *client,
			  const struct tls_expect *expect, const struct conn_limits *limits,
			  const struct conn_owner *owner);

/* Upgrades a plain, open conn in place (STARTTLS): the handshake starts
 * after what is already queued for the peer (the "proceed") has gone, and
 * TLS_READY follows.  The peer must not send anything between its request
 * and the handshake (RFC 6120 §5.4, RFC 3207): plaintext still in
 * conn_input() would be read as if it had come over TLS, so the conn is
 * closed instead (CONN_CLOSE_PLAINTEXT_AFTER_UPGRADE) and -1 returned.
 * A conn that is not plain and open is left as it is, and -1 returned. */
int conn_start_tls_server(struct conn *conn, struct tls_server *server);
/* For a conn accepted plain whose peer speaks TLS from its first byte, but
 * whose handshake the owner held back while it read the ClientHello in
 * conn_input() (tls_hello.h) and drained nothing: the handshake starts on
 * what is buffered, and TLS_READY follows as for an upgrade. */
int conn_start_tls_server_buffered(struct conn *conn, struct tls_server *server);
int conn_start_tls_client(struct conn *conn, struct tls_client *client,
			  const struct tls_expect *expect);

/* Stops delivering events, closes at once and frees (deferred when called
 * from inside the callback).  CLOSED is not reported for conn_free(). */
void conn_free(struct conn *conn);

/* Flushes what is queued, then closes; CLOSED follows with REASON and
 * DETAIL (words for the log; NULL: the reason's name). */
void conn_close(struct conn *conn, enum conn_close_reason reason, const char *detail);

/* Drops what is queued and closes without flushing (shedding): the conn
 * leaves its budget at once, CLOSED follows from the loop. */
void conn_abort(struct conn *conn, enum conn_close_reason reason, const char *detail);

/* Makes room in BUDGET for a connection from PEER before it is accepted,
 * shedding the oldest one still on probation when the budget is full
 * (event=conn_shed).  CONN_BUDGET_ADMIT, or the verdict it is refused for
 * (event=conn_refused, logged here). */
enum conn_budget_verdict conn_admit(struct conn_budget *budget, const struct sockaddr *peer);

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
/* Open for bytes: plain and connected, or TLS and past the handshake; not
 * while a handshake runs, nor once closing. */
bool conn_ready(const struct conn *conn);
/* Did the TLS handshake complete (it stays true once the conn closed)? */
bool conn_secure(const struct conn *conn);
const char *conn_peer(const struct conn *conn); /* "ADDR:PORT" */
const char *conn_peer_subject(const struct conn *conn); /* certificate subject or NULL */
/* Peer certificate identities (tls_cert_names), known once TLS_READY. */
char *const *conn_peer_names(const struct conn *conn, size_t *n);
/* SHA-256 of the peer certificate (DER), known once TLS_READY; NULL without one. */
const unsigned char *conn_peer_fingerprint(const struct conn *conn);
/* The name an accepted TLS client asked for (SNI), or NULL. */
const char *conn_server_name(const struct conn *conn);
/* Its certificate's chain verified (always so but with tolerant handles,
 * tls_server_tolerate_untrusted). */
bool conn_peer_verified(const struct conn *conn);

/* How the conn ended, once CLOSED is reported (CONN_CLOSE_LOCAL before). */
enum conn_close_reason conn_close_reason(const struct conn *conn);
/* The same in words: the owner's detail, or what TLS or the socket said. */
const char *conn_close_detail(const struct conn *conn);
/* With CONN_CLOSE_TLS_FAILED or CONN_CLOSE_CERTIFICATE_REFUSED: which kind. */
enum tls_failure_kind conn_tls_failure(const struct conn *conn);

/* Stops (false) or resumes (true) reading from the peer.  While stopped no
 * DATA is reported; what arrived stays buffered. */
void conn_set_reading(struct conn *conn, bool reading);
bool conn_reading(const struct conn *conn);

const struct conn_owner *conn_owner(const struct conn *conn);

/* Looks up a live conn by id in the process's table (flow tokens, Via). */
struct conn *conn_find(uint64_t id);

#endif
