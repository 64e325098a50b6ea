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
#include "link.h"

struct sip_session;

/* Frees every accepted connection and its session at once (shutdown). */
void sip_context_close_all(struct sip_context *context);
/* Closes every accepted connection after flushing what is queued on it,
 * with close_notify; each session goes with its conn's CLOSED. */
void sip_context_close_inbound(struct sip_context *context);

/* Accepts FD from a listener of ROLE with its TLS handle SERVER, within ROLE's
 * connection budget: a connection over its source's per-address cap is
 * refused; at a full budget the oldest connection still on probation is shed
 * to make room, and without one the newcomer is refused. */
void sip_session_accept(struct sip_context *context, enum listener_role role,
			struct tls_server *server, evutil_socket_t fd, const struct sockaddr *peer,
			int peer_len);

/* What the pool and partner links hand their connections to once up: a
 * session of the link's role on its conn, whose final responses end their
 * requests' wait on the link (sip_link_on_response).  A partner link names
 * its [partner] section (NULL for a discovered one), whose rate limit the
 * responses on it count against. */
extern const struct sip_link_handler sip_session_link_handler;

/* A reload committed: CONTEXT holds the new snapshot (OLD is the one
 * before).  Each accepted connection that the new configuration no longer
 * allows closes in order, logged (event=reload_closed) and counted with its
 * reason: a federation connection bound to a partner domain now blocked or
 * removed, or whose section's pin or edges no longer match its
 * certificate, every federation connection when the federation listener is
 * gone, and a pool connection whose certificate names no [pool] fqdn now.
 * The others take the new [partner] sections for their rate limits, and
 * with RESOLVER_CHANGED their look-ups under way ask the new resolver. */
void sip_context_reload_sessions(struct sip_context *context, const struct sxedge_config *old,
				 bool resolver_changed);

/* The conn callback of sessions (ARG is the session). */
void sip_session_on_event(struct conn *conn, enum conn_event event, void *arg);

/* The role CONN was accepted or connected with (its owner's role field). */
enum listener_role sip_conn_role(const struct conn *conn);

/* Is CONN one of the edge's external connections (access or federation)? */
bool sip_conn_is_external(const struct conn *conn);

#endif
