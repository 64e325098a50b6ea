/* session: the SIP side of one connection.  It turns conn events into
 * messages (framing), checks and routes each one, rewrites it and writes
 * it to the connection routing chose, answering locally where routing says
 * so.  All sessions of a worker share one sip_context. */
#ifndef SXEDGE_SIP_SESSION_H
#define SXEDGE_SIP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/util.h>
#include <openssl/ssl.h>

#include "config.h"
#include "conn.h"
#include "flow_token.h"
#include "framing.h"
#include "routing.h"

struct sip_pool;
struct sip_session;

/* What every SIP session of one worker shares; read-only but for counts. */
struct sip_context {
	struct event_base *base;
	const struct sxedge_config *config;
	struct flow_key flow_key;
	struct sip_edge edge;
	struct sip_frame_limits frame_limits;
	struct conn_limits conn_limits;
	struct sip_pool *pool;
	unsigned inbound; /* accepted connections currently open */
	struct sip_session *sessions; /* those connections' sessions */
};

/* Fills CONTEXT from CONFIG (which must outlive it); a random boot id, and a
 * random flow secret when the configuration has none.  Returns 0 or -1. */
int sip_context_init(struct sip_context *context, struct event_base *base,
		     const struct sxedge_config *config);

/* Frees every accepted connection and its session at once (shutdown). */
void sip_context_close_all(struct sip_context *context);

/* Accepts FD from a listener of ROLE with TLS context CTX. */
void sip_session_accept(struct sip_context *context, enum listener_role role, SSL_CTX *ctx,
			evutil_socket_t fd, const struct sockaddr *peer, int peer_len);

/* Makes a session for an outbound CONN of ROLE whose events its owner
 * forwards with sip_session_on_event. */
struct sip_session *sip_session_attach(struct sip_context *context, struct conn *conn,
				       enum listener_role role);

/* The conn callback of sessions (ARG is the session). */
void sip_session_on_event(struct conn *conn, enum conn_event event, void *arg);

#endif
