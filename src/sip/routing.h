/* SPDX-License-Identifier: ISC */
/* routing: where a SIP message goes, as a pure function of the message, the
 * role of the connection it arrived on and the edge's configuration
 * (docs/design.md §3).  No sockets, no clocks: every rule is one unit test, and
 * every refusal carries a reason phrase that also names it in logs. */
#ifndef SXEDGE_SIP_ROUTING_H
#define SXEDGE_SIP_ROUTING_H

#include <stdbool.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "config.h"
#include "roles.h"
#include "sip_config.h"
#include "flow_token.h"
#include "reason.h"

/* One side of the edge as SIP sees it: the host and port advertised in Via,
 * Record-Route and Path.  IPv6 is bracketed in URIs. */
struct sip_hop {
	const char *host; /* NULL: the edge has no listener of this role */
	uint16_t port;
};

/* What routing knows of this edge. */
struct sip_edge {
	const struct sxedge_config *config; /* our domains, partners, block list */
	const struct flow_key *flow_key;
	/* The key before a reload changed the flow secret (or node id), NULL
	 * if none: what it sealed still opens, so that flows registered
	 * before the change are not cut off. */
	const struct flow_key *previous_flow_key;
	struct sip_hop hops[ROLE_COUNT]; /* indexed by listener role */
};

/* What routing knows of the connection a request arrived on. */
struct sip_peer {
	enum listener_role role;
	char *const *names; /* its certificate identities (tls_cert_names) */
	size_t n_names;
	const unsigned char *fingerprint; /* SHA-256 of its certificate, or NULL */
	/* Open federation: the SRV targets found for discovered_domain, once
	 * the session has looked them up (and kept only those inside it). */
	const char *discovered_domain;
	char *const *discovered;
	size_t n_discovered;
};

enum sip_action {
	SIP_ACTION_TO_POOL, /* relay to the pool */
	SIP_ACTION_TO_CONN, /* relay over connection conn_id */
	SIP_ACTION_TO_PARTNER, /* relay to the edge of partner domain `domain` */
	SIP_ACTION_DISCOVER, /* look up the SRV targets of `domain`, then route again */
	SIP_ACTION_REPLY, /* answer status/reason to the sender */
	SIP_ACTION_DROP, /* discard; reason says why */
};

struct sip_decision {
	enum sip_action action;
	uint64_t conn_id; /* TO_CONN */
	int status; /* REPLY */
	enum sip_reason code; /* REPLY and DROP: why, by name */
	const char *reason; /* REPLY and DROP: the reason phrase / log reason */
	const char *domain; /* TO_PARTNER, DISCOVER; TO_CONN with a partner fallback */
	const struct partner_config *partner; /* TO_PARTNER and bound inbound requests:
						 the [partner] section, NULL when discovered */
	unsigned routes_to_pop; /* our own Route entries at the top of the request */
	bool record_route; /* insert the double Record-Route (RFC 5658) */
	bool add_path; /* REGISTER from access: add Path (RFC 3327) */
	bool pool_fallback; /* response: if conn_id is gone, any pool connection will do */
	bool partner_fallback; /* TO_CONN: if conn_id is gone, TO_PARTNER `domain` instead */
};

/* A parsed request that arrived on PEER.
 * From access: the mandatory-header checks (400/483), From domain ours
 * (else 403), every Route naming one of our sides sealed by us (else 403
 * "Forged Route", from federation too), our own top Routes popped, then TO_POOL with Path on REGISTER
 * and Record-Route on dialog-initial requests.
 * From federation: the checks; From domain not blocked, not ours, and bound
 * to the connection by its certificate (policy_certificate_binds; for an
 * open-federation domain DISCOVER first); To domain ours, and the
 * Request-URI domain ours on dialog-initial requests; then TO_POOL with
 * Record-Route.  Each refusal is a 403 with its own reason phrase.
 * From internal: the flow token in our top Route gives TO_CONN (forged 403,
 * stale 430), with a partner fallback when the Request-URI domain is a
 * partner; with no token, a Request-URI in a partner domain (or any domain
 * under open federation) gives TO_PARTNER with Record-Route, a blocked or
 * unknown one 403, one of ours 404 "No Flow Token".
 * An ACK is never answered: where another request would get REPLY, an ACK
 * gets DROP. */
void sip_route_request(const osip_message_t *request, const struct sip_peer *peer,
		       const struct sip_edge *edge, struct sip_decision *decision);

/* A parsed response that arrived on a connection of role ARRIVAL, at NOW
 * (seconds of the wall clock): TO_CONN by the branch of our top Via, else
 * DROP.  Our top Via must be the one of the side it arrived on, so a user
 * cannot replay a branch to reach another user (or a partner) without
 * passing through the pool, and its stamp ours and at most
 * VIA_STAMP_MAX_AGE old, so a response seen once cannot be replayed for
 * ever.  pool_fallback is set when that side is an external one (access or
 * federation). */
void sip_route_response(const osip_message_t *response, enum listener_role arrival,
			const struct sip_edge *edge, uint64_t now, struct sip_decision *decision);

/* The pool's request routed TO_CONN whose connection is gone (or not an
 * external one): TO_PARTNER when it has a partner fallback, else REPLY
 * 430 "Flow Failed" (RFC 5626 §5.3: the pool tries the user's other flow). */
void sip_route_flow_gone(struct sip_decision *decision);

enum sip_response_target {
	SIP_RESPONSE_TO_CONN, /* the connection the branch names */
	SIP_RESPONSE_TO_POOL, /* any pool link that is up */
	SIP_RESPONSE_DROP, /* "connection gone" */
};

/* Where a response routed TO_CONN goes, given whether the connection its
 * branch names is there and ready (TARGET_READY) and its role.  A response
 * towards the pool (pool_fallback) may only take a pool connection, any
 * other only an external one; a response towards the pool whose named
 * link is gone takes another. */
enum sip_response_target sip_route_response_target(const struct sip_decision *decision,
						   bool target_ready,
						   enum listener_role target_role);

/* Is URI one of this edge's own (the advertised host and port of any side;
 * the port defaults to 5061 for sips: or transport=tls, else 5060)? */
bool sip_uri_is_ours(const osip_uri_t *uri, const struct sip_edge *edge);

#endif
