/* SPDX-License-Identifier: ISC */
/* link: one outbound link of the edge, to the pool or to a partner edge,
 * as a state machine with named states:
 *
 *   idle -> resolving -> addressing -> connecting -> up -> (closed)
 *   waiting (back-off) -> connecting
 *   up -> draining -> (closed, and not replaced)
 *
 * Pool links go from a closed link to waiting and try again after a
 * back-off that doubles from reconnect_min to reconnect_max; partner links
 * resolve their domain first (federation.c) and go idle when closed.  Every
 * request relayed over a link that is up is remembered (in_flight.h) until
 * its final response comes back; when the link dies, each of them is
 * answered where it came from with 503 and a Retry-After that says when
 * the link will be tried again, instead of being left to its client's
 * timer.
 *
 * When the edge drains (SIGTERM), links that are up go draining: they still
 * carry what the connections left open send (an ACK, a BYE), but nothing
 * replaces them once closed, and links not up stop trying.  When the drain
 * is over, each link answers what it still has in flight with 503 and
 * closes in order (TLS close_notify) instead of vanishing with the process. */
#ifndef SXEDGE_SIP_LINK_H
#define SXEDGE_SIP_LINK_H

#include <stdint.h>

#include <event2/event_struct.h>

#include "conn.h"
#include "context.h"
#include "in_flight.h"
#include "message.h"
#include "relay.h"
#include "routing.h"

/* Requests remembered per link: beyond, the oldest gives way (and is left
 * to its client's timer, as without the table). */
#define SIP_LINK_IN_FLIGHT_MAX 4096

/* Intake from outside waits while a pool link has this many requests in
 * flight, until it is down to SIP_LINK_INTAKE_RESUME: the edge then reads
 * the pool's answers before more requests for it, so a pool slower than
 * its clients (or an edge short of CPU) holds the excess in the clients'
 * sockets instead of queueing answers on the link until the pool gives up
 * on it.  Checked again every SIP_LINK_INTAKE_CHECK_MS while paused, as
 * requests that get no answer leave the table only when they expire. */
#define SIP_LINK_INTAKE_PAUSE	 1024
#define SIP_LINK_INTAKE_RESUME	 512
#define SIP_LINK_INTAKE_CHECK_MS 1000

enum sip_link_state {
	SIP_LINK_IDLE, /* nothing to do until a request needs it */
	SIP_LINK_RESOLVING, /* SRV look-up of the partner domain */
	SIP_LINK_ADDRESSING, /* address look-up of one target */
	SIP_LINK_CONNECTING, /* TCP and TLS */
	SIP_LINK_UP,
	SIP_LINK_WAITING, /* back-off before the next attempt */
	SIP_LINK_DRAINING, /* up while the edge drains; not replaced once closed */
};
#define SIP_LINK_STATES (SIP_LINK_DRAINING + 1)

struct sip_session;
struct sip_link;

/* A request waiting for its link to come up (partner links). */
struct sip_link_waiting {
	uint64_t arrival_id;
	struct sip_message *request;
	struct sip_decision decision;
	struct sip_link_waiting *next;
};

/* What a link that is up hands its connection's events to: the SIP side of
 * a connection (session.c), given by the one who builds the links
 * (context.c), so that link, pool and federation need not know it. */
struct sip_link_handler {
	/* Takes over the messages on LINK's conn, which is up; PARTNER is the
	 * [partner] section of a partner link (NULL otherwise).  NULL when out
	 * of memory. */
	struct sip_session *(*attach)(struct sip_link *link, const struct partner_config *partner);
	conn_callback *on_event; /* with the session as its argument */
	/* A reload gave the link's partner a new [partner] section (NULL: none
	 * now): SESSION counts against its rate limit from now on. */
	void (*follow_partner)(struct sip_session *session, const struct partner_config *partner);
};

struct sip_link {
	struct sip_context *context;
	enum listener_role role; /* of the far end: internal (pool) or federation */
	const char *name; /* for logs: the pool's address, the partner domain */
	const struct sip_link_handler *handler;
	enum sip_link_state state;
	struct conn *conn; /* connecting or up */
	struct sip_session *session; /* once up */
	struct in_flight in_flight;
	/* Requests waiting while it is not up, oldest first; the owner bounds
	 * how many ([federation] queue_max). */
	struct sip_link_waiting *queue_head, *queue_tail;
	unsigned queued;
	/* Back-off (pool links): the next wait, and when the next attempt is. */
	unsigned backoff_s;
	uint64_t next_attempt_ms;
	/* Connections from outside that stopped reading for this link's sake
	 * (by id: each may close meanwhile), and the timer that checks again. */
	uint64_t *paused;
	size_t n_paused, paused_size;
	struct event intake_check;
};

const char *sip_link_state_name(enum sip_link_state state);

void sip_link_init(struct sip_link *link, struct sip_context *context, enum listener_role role,
		   const char *name, const struct sip_link_handler *handler);

/* The link's conn is up: its messages go to the handler from now on.
 * Returns false when out of memory. */
bool sip_link_attach(struct sip_link *link, const struct partner_config *partner);
/* Hands EVENT on CONN (the link's) to the handler, once attached; CLOSED
 * detaches it. */
void sip_link_forward(struct sip_link *link, struct conn *conn, enum conn_event event);
/* Forgets what is in flight and frees what waits, unanswered (shutdown). */
void sip_link_clear(struct sip_link *link);

/* Moves LINK to STATE, logging the transition (event=link_state, debug). */
void sip_link_set_state(struct sip_link *link, enum sip_link_state state);

/* Queues REQUEST (taken over) from connection ARRIVAL_ID, to relay with
 * DECISION once the link is up.  false when out of memory (REQUEST is then
 * not taken). */
bool sip_link_enqueue(struct sip_link *link, uint64_t arrival_id, struct sip_message *request,
		      const struct sip_decision *decision);
/* The oldest waiting request (the caller frees it and its request), or NULL. */
struct sip_link_waiting *sip_link_dequeue(struct sip_link *link);

/* Relays REQUEST (from connection ARRIVAL_ID of role ARRIVAL_ROLE) over
 * the link, which must be up, and remembers it until its final response. */
enum sip_relay_result sip_link_relay(struct sip_link *link, uint64_t arrival_id,
				     enum listener_role arrival_role,
				     const struct sip_message *request,
				     const struct sip_decision *decision);

/* A response came back over the link: a final one ends its request's wait. */
void sip_link_on_response(struct sip_link *link, const struct sip_message *response);

/* The link died: every request in flight on it is answered with 503 and
 * Retry-After: RETRY_AFTER (seconds until the next attempt). */
void sip_link_lost(struct sip_link *link, unsigned retry_after);

/* The link can take a request now: up or draining, and its conn ready. */
bool sip_link_carries(const struct sip_link *link);

/* The edge drains: a link that is up goes draining. */
void sip_link_drain(struct sip_link *link);

/* The drain is over: every request in flight on LINK is answered with 503
 * (edge_stopping) and its conn closes after flushing, with close_notify. */
void sip_link_stop(struct sip_link *link);

/* A reload no longer allows LINK, which is up (or draining): every request
 * in flight on it is answered with 503 and REASON, its conn closes after
 * flushing, with close_notify, and the close is logged (event=link_closed)
 * and counted by REASON. */
void sip_link_end(struct sip_link *link, enum sip_reason reason);

/* Pool links: the back-off after a closed link.  Returns the seconds until
 * the next attempt and doubles the following one, up to MAX_S. */
unsigned sip_link_back_off(struct sip_link *link, unsigned max_s);

/* Pool links: seconds until LINK may be up again, at least 1: the time
 * left of its back-off while waiting, 1 while connecting, 0 when up or
 * draining. */
unsigned sip_link_retry_after(const struct sip_link *link);

#endif
