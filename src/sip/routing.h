/* routing: where a SIP message goes, as a pure function of the message, the
 * role of the connection it arrived on and the edge's configuration
 * (DESIGN.md §3).  No sockets, no clocks: every rule is one unit test, and
 * every refusal carries a reason phrase that also names it in logs. */
#ifndef SXEDGE_SIP_ROUTING_H
#define SXEDGE_SIP_ROUTING_H

#include <stdbool.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "config.h"
#include "flow_token.h"

/* What routing knows of this edge. */
struct sip_edge {
	const struct sxedge_config *config; /* our domains */
	const struct flow_key *flow_key;
	const char *external_host; /* access listener's advertised host and port */
	uint16_t external_port;
	const char *internal_host; /* internal listener's advertised host and port */
	uint16_t internal_port;
};

enum sip_action {
	SIP_ACTION_TO_POOL, /* relay to the pool */
	SIP_ACTION_TO_CONN, /* relay over connection conn_id */
	SIP_ACTION_REPLY,   /* answer status/reason to the sender */
	SIP_ACTION_DROP,    /* discard; reason says why */
};

struct sip_decision {
	enum sip_action action;
	uint64_t conn_id;    /* TO_CONN */
	int status;          /* REPLY */
	const char *reason;  /* REPLY and DROP: the reason phrase / log reason */
	unsigned routes_to_pop; /* our own Route entries at the top of the request */
	bool record_route;   /* insert the double Record-Route (RFC 5658) */
	bool add_path;       /* REGISTER from access: add Path (RFC 3327) */
	bool pool_fallback;  /* response: if conn_id is gone, any pool connection will do */
};

/* A parsed request that arrived on a connection of role ARRIVAL.
 * From access: the mandatory-header checks (400/483), From domain ours
 * (else 403), our own top Routes popped, then TO_POOL with Path on REGISTER
 * and Record-Route on dialog-initial requests.  From internal: the flow
 * token in our top Route gives TO_CONN (forged 403, stale 430, none 404).
 * An ACK is never answered: where another request would get REPLY, an ACK
 * gets DROP. */
void sip_route_request(const osip_message_t *request, enum listener_role arrival,
		       const struct sip_edge *edge, struct sip_decision *decision);

/* A parsed response that arrived on a connection of role ARRIVAL: TO_CONN
 * by the branch of our top Via, else DROP.  Our top Via must be the one of
 * the side it arrived on, so a user cannot replay a branch to reach another
 * user without passing through the pool. */
void sip_route_response(const osip_message_t *response, enum listener_role arrival,
			const struct sip_edge *edge, struct sip_decision *decision);

/* Is URI one of this edge's own (advertised external or internal host and
 * port; the port defaults to 5061 for sips: or transport=tls, else 5060)? */
bool sip_uri_is_ours(const osip_uri_t *uri, const struct sip_edge *edge);

#endif
