/* SPDX-License-Identifier: ISC */
/* fake_conn: lib/conn.h without sockets or TLS, for the unit suites of the
 * modules that sit on connections (SIP relay, link, session; XMPP reload).  A test
 * makes a connection ready, feeds it bytes as if the peer sent them, reads
 * back what the code wrote to it, and closes it as the peer would; conns
 * the code opens itself (conn_accept, conn_connect) are fakes too. */
#ifndef SXEDGE_TESTS_FAKE_CONN_H
#define SXEDGE_TESTS_FAKE_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"

/* A SIP connection of ROLE from PEER ("ADDR:PORT") whose owner is
 * CALLBACK/ARG, not ready yet, with OUTPUT_MAX bytes of output room (0:
 * none). */
struct conn *fake_conn_new(const char *peer, int role, size_t output_max, conn_callback *callback,
			   void *arg);

/* The handshake completed: TLS_READY is reported.  An upgrade the code
 * asked for (conn_start_tls_*) completes likewise. */
void fake_conn_ready(struct conn *conn);
/* The peer sent TEXT: DATA is reported (when reading). */
void fake_conn_receive(struct conn *conn, const char *text);
/* The peer went away: CLOSED is reported (CONN_CLOSE_PEER, DETAIL), then
 * the conn is freed. */
void fake_conn_drop(struct conn *conn, const char *detail);
/* The handshake failed: CLOSED is reported with REASON (CONN_CLOSE_TLS_FAILED
 * or CONN_CLOSE_CERTIFICATE_REFUSED) and KIND, then the conn is freed. */
void fake_conn_fail_handshake(struct conn *conn, enum conn_close_reason reason,
			      enum tls_failure_kind kind);

/* Everything written to CONN so far, NUL-terminated (valid until the next
 * write or fake_conn_clear_output). */
const char *fake_conn_output(struct conn *conn);
void fake_conn_clear_output(struct conn *conn);
/* The detail the code closed CONN with (conn_close, conn_abort), or NULL. */
const char *fake_conn_closed_by_us(const struct conn *conn);
/* Every conn the code closed (conn_close) and not freed hears its CLOSED,
 * as once its peer has read the close, and is freed. */
void fake_conn_drop_closed(void);
/* The peer's certificate names NAMES (conn_peer_names; none by default). */
void fake_conn_set_peer_names(struct conn *conn, const char *const *names, size_t n);
/* The TLS handle conn_accept got for CONN (NULL for one it did not make). */
struct tls_server *fake_conn_tls_server(const struct conn *conn);
/* How many times the code called conn_connect; the last conn it got. */
unsigned fake_conn_connects(void);
struct conn *fake_conn_last_connected(void);

/* The conn made last (by fake_conn_new, conn_accept or conn_connect). */
struct conn *fake_conn_newest(void);

/* Frees every fake that is left (between tests). */
void fake_conn_free_all(void);

#endif
