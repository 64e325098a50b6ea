/* SPDX-License-Identifier: ISC */
/* session: the SIP side of one connection.  It turns conn events into
 * messages (framing), checks and routes each one, and hands it to relay or
 * answers it, as routing decides.  All sessions of a worker share one
 * sip_context. */
#ifndef SXEDGE_SIP_SESSION_H
#define SXEDGE_SIP_SESSION_H

#include <event2/util.h>

#include "config.h"
#include "conn.h"
#include "context.h"

struct sip_session;

/* Frees every accepted connection and its session at once (shutdown). */
void sip_context_close_all(struct sip_context *context);

/* Accepts FD from a listener of ROLE with its TLS handle SERVER, within ROLE's
 * connection budget: a connection over its source's per-address cap is
 * refused; at a full budget the oldest connection still on probation is shed
 * to make room, and without one the newcomer is refused. */
void sip_session_accept(struct sip_context *context, enum listener_role role,
			struct tls_server *server, evutil_socket_t fd, const struct sockaddr *peer,
			int peer_len);

/* Makes a session for an outbound CONN of ROLE whose events its owner
 * forwards with sip_session_on_event.  A link to a partner names its
 * [partner] section (NULL for a discovered one), whose rate limit the
 * responses on it count against. */
struct sip_session *sip_session_attach(struct sip_context *context, struct conn *conn,
				       enum listener_role role,
				       const struct partner_config *partner);

/* The conn callback of sessions (ARG is the session). */
void sip_session_on_event(struct conn *conn, enum conn_event event, void *arg);

/* An accepted federation connection whose certificate has been found to
 * speak for DOMAIN (a request from DOMAIN on it passed the binding check),
 * or NULL. */
struct conn *sip_session_bound_conn(const struct sip_context *context, const char *domain);

/* The role CONN was accepted or connected with (its owner's role field). */
enum listener_role sip_conn_role(const struct conn *conn);

#endif
