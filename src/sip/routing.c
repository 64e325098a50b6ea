/* SPDX-License-Identifier: ISC */
/* routing: where a SIP message goes (docs/design.md §3), as a pure function of
 * the message, the connection it came in on and the edge.
 *
 * The edge has up to three sides, one per listener role: access (remote
 * users), federation (partner edges) and internal (the pool), each known by
 * its advertised host:port.  External traffic only ever goes to the pool,
 * and only the pool's requests go out.  A request that crosses gets our Via
 * on the side it leaves on, and, when it may start a dialog, two
 * Record-Route entries (RFC 5658): the side it arrived on below, the side
 * it leaves on above, both carrying the flow token of the external (access
 * or federation) connection involved.  Each UA's route set therefore holds,
 * per crossing, our entry for its own side followed by our entry for the
 * other side; an in-dialog request pops exactly that pair (or what is left
 * of it) and goes on: from outside to the pool, from the pool to the
 * connection the token names.
 *
 * Federation adds who may speak for which domain (policy.h): a partner's
 * request must come from a domain its certificate binds, to one of ours;
 * the pool's request without a token goes to the partner edge of its
 * Request-URI domain.  decision->domain is the [partner] section's own
 * (lower-case) name when there is one, else the host part of the request
 * itself: copy it before freeing the request. */
#include "routing.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "message.h"
#include "partner_policy.h"
#include "reason.h"
#include "via_branch.h"

#define SIP_PORT  5060
#define SIPS_PORT 5061

/* The sides of the edge a URI or Via names, one bit per listener role
 * (several when they are configured with the same advertised host and port). */
#define SIDE(role)	(1u << (unsigned)(role))
#define SIDE_ACCESS	SIDE(ROLE_ACCESS)
#define SIDE_INTERNAL	SIDE(ROLE_INTERNAL)
#define SIDE_FEDERATION SIDE(ROLE_FEDERATION)

/* ---- Matching our own host and port ------------------------------------ */

/* The text of HOST without the brackets of an IPv6 reference. */
static void host_unbracket(const char **host, size_t *len)
{
	size_t n = strlen(*host);

	if (n >= 2 && (*host)[0] == '[' && (*host)[n - 1] == ']') {
		(*host)++;
		n -= 2;
	}
	*len = n;
}

/* Parses an IPv6 literal of LEN characters; false when it is none. */
static bool parse_ipv6(const char *text, size_t len, struct in6_addr *address)
{
	char buffer[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buffer) || memchr(text, ':', len) == NULL)
		return false;
	memcpy(buffer, text, len);
	buffer[len] = '\0';
	return inet_pton(AF_INET6, buffer, address) == 1;
}

/* Host names and IPv4 literals compare case-insensitively; IPv6 literals
 * by address, so "[2001:DB8:0::1]" is "2001:db8::1". */
static bool host_equal(const char *a, const char *b)
{
	struct in6_addr a6, b6;
	size_t a_len, b_len;

	host_unbracket(&a, &a_len);
	host_unbracket(&b, &b_len);
	if (parse_ipv6(a, a_len, &a6) && parse_ipv6(b, b_len, &b6))
		return memcmp(&a6, &b6, sizeof(a6)) == 0;
	return a_len == b_len && strncasecmp(a, b, a_len) == 0;
}

/* Parses a decimal port 1..65535 with nothing after it. */
static bool parse_port(const char *text, uint16_t *port)
{
	unsigned long value = 0;

	if (text[0] == '\0')
		return false;
	for (const char *c = text; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return false;
		value = value * 10 + (unsigned long)(*c - '0');
		if (value > 65535)
			return false;
	}
	if (value == 0)
		return false;
	*port = (uint16_t)value;
	return true;
}

/* The value of parameter NAME in PARAMS (osip's lists of name/value pairs),
 * or NULL; names compare case-insensitively (RFC 3261 §19.1.4). */
static const char *param_value(const osip_list_t *params, const char *name, bool *present)
{
	for (int i = 0; i < osip_list_size(params); i++) {
		const osip_generic_param_t *param = osip_list_get(params, i);

		if (param != NULL && param->gname != NULL && strcasecmp(param->gname, name) == 0) {
			if (present != NULL)
				*present = true;
			return param->gvalue;
		}
	}
	if (present != NULL)
		*present = false;
	return NULL;
}

/* The sides of this edge that HOST and PORT name. */
static unsigned hop_sides(const char *host, uint16_t port, const struct sip_edge *edge)
{
	unsigned sides = 0;

	for (int role = 0; role < ROLE_COUNT; role++) {
		const struct sip_hop *hop = &edge->hops[role];

		if (hop->host != NULL && port == hop->port && host_equal(host, hop->host))
			sides |= SIDE(role);
	}
	return sides;
}

static unsigned uri_sides(const osip_uri_t *uri, const struct sip_edge *edge)
{
	const char *transport;
	bool secure;
	uint16_t port;

	if (uri == NULL || uri->scheme == NULL || uri->host == NULL)
		return 0;
	if (strcasecmp(uri->scheme, "sips") == 0) {
		secure = true;
	} else if (strcasecmp(uri->scheme, "sip") == 0) {
		transport = param_value(&uri->url_params, "transport", NULL);
		secure = transport != NULL && strcasecmp(transport, "tls") == 0;
	} else {
		return 0;
	}
	if (uri->port == NULL || uri->port[0] == '\0')
		port = secure ? SIPS_PORT : SIP_PORT;
	else if (!parse_port(uri->port, &port))
		return 0;
	return hop_sides(uri->host, port, edge);
}

/* The sides the sent-by of VIA names; its port defaults by its transport. */
static unsigned via_sides(const osip_via_t *via, const struct sip_edge *edge)
{
	uint16_t port;

	if (via == NULL || via->host == NULL)
		return 0;
	if (via->port == NULL || via->port[0] == '\0')
		port = via->protocol != NULL && strcasecmp(via->protocol, "TLS") == 0 ? SIPS_PORT
										      : SIP_PORT;
	else if (!parse_port(via->port, &port))
		return 0;
	return hop_sides(via->host, port, edge);
}

bool sip_uri_is_ours(const osip_uri_t *uri, const struct sip_edge *edge)
{
	return uri_sides(uri, edge) != 0;
}

/* ---- Requests: common rules --------------------------------------------- */

static bool method_is(const osip_message_t *request, const char *method)
{
	/* Methods are case-sensitive (RFC 3261 §7.1). */
	return request->sip_method != NULL && strcmp(request->sip_method, method) == 0;
}

/* A refusal: the reason goes back as a response, but never to an ACK,
 * which gets no response (RFC 3261 §17.2.3); it is dropped instead. */
static void refuse_as(const osip_message_t *request, int status, enum sip_reason code,
		      const char *phrase, struct sip_decision *decision)
{
	memset(decision, 0, sizeof(*decision));
	if (method_is(request, "ACK")) {
		decision->action = SIP_ACTION_DROP;
	} else {
		decision->action = SIP_ACTION_REPLY;
		decision->status = status;
	}
	decision->code = code;
	decision->reason = phrase;
}

static void refuse(const osip_message_t *request, int status, enum sip_reason code,
		   struct sip_decision *decision)
{
	refuse_as(request, status, code, sip_reason_phrase(code), decision);
}

static bool to_tagged(const osip_message_t *request)
{
	bool tagged = false;

	if (request->to != NULL)
		param_value(&request->to->gen_params, "tag", &tagged);
	return tagged;
}

/* Whether the relayed request gets our Record-Route: only requests outside
 * a dialog (no To tag) can establish one; REGISTER gets Path instead, and
 * CANCEL and ACK never establish a dialog, so a route set in them is noise. */
static bool wants_record_route(const osip_message_t *request)
{
	return !to_tagged(request) && !method_is(request, "REGISTER") &&
	       !method_is(request, "CANCEL") && !method_is(request, "ACK");
}

/* The sides a request arriving on ARRIVAL may leave on: external requests
 * only go to the pool, the pool's go to any external side. */
static unsigned leaving_sides(enum listener_role arrival)
{
	if (arrival == ROLE_INTERNAL)
		return SIDE_ACCESS | SIDE_FEDERATION;
	return SIDE_INTERNAL;
}

/* Counts the Route entries at the top of REQUEST that belong to this
 * crossing of the edge: ours for the side it arrived on, then ours for the
 * side it leaves on.  The count stops after the first entry for a leaving
 * side (and before an own entry for neither): an own entry after that
 * belongs to a later crossing that must pass through the pool first, e.g.
 * when the pool does not Record-Route, a dialog between two of our users
 * reads ext(A) int(A) int(B) ext(B) and the request from A must reach the
 * pool with int(B) ext(B) still in it.  *TOKEN_URI gets the first counted
 * entry with a user part (a flow token), or NULL; *SIDES the sides the
 * counted entries name. */
static unsigned own_routes(const osip_message_t *request, enum listener_role arrival,
			   const struct sip_edge *edge, const osip_uri_t **token_uri,
			   unsigned *sides_seen)
{
	unsigned arrival_side = SIDE(arrival), leaving = leaving_sides(arrival);
	unsigned count = 0;

	*token_uri = NULL;
	*sides_seen = 0;
	for (int i = 0; i < osip_list_size(&request->routes); i++) {
		const osip_route_t *route = osip_list_get(&request->routes, i);
		unsigned sides = route != NULL ? uri_sides(route->url, edge) : 0;

		if ((sides & (arrival_side | leaving)) == 0)
			break;
		count++;
		*sides_seen |= sides;
		if (*token_uri == NULL && route->url->username != NULL &&
		    route->url->username[0] != '\0')
			*token_uri = route->url;
		if ((sides & arrival_side) == 0)
			break;
	}
	return count;
}

/* A flow token, branch or stamp is ours when the current key opens it, or
 * the key before a reload changed the secret or node id (sip_edge): with
 * the secret kept, the current key finds a token of the old node id stale,
 * the one before finds it ours. */
/* Ours beats stale (sealed by us, for a connection gone) beats forged. */
static enum flow_open_result better_open(enum flow_open_result current,
					 enum flow_open_result before)
{
	return before == FLOW_OPEN_OK || current == FLOW_OPEN_FORGED ? before : current;
}

static enum flow_open_result open_token(const struct sip_edge *edge, const char *token,
					uint64_t *conn_id)
{
	enum flow_open_result result =
		flow_token_open(edge->flow_key, token, strlen(token), conn_id);
	if (result != FLOW_OPEN_OK && edge->previous_flow_key != NULL)
		result = better_open(result, flow_token_open(edge->previous_flow_key, token,
							     strlen(token), conn_id));
	return result;
}

static enum flow_open_result open_branch(const struct sip_edge *edge, const char *branch,
					 uint64_t *conn_id)
{
	enum flow_open_result result = via_branch_open(edge->flow_key, branch, conn_id);
	if (result != FLOW_OPEN_OK && edge->previous_flow_key != NULL)
		result = better_open(result,
				     via_branch_open(edge->previous_flow_key, branch, conn_id));
	return result;
}

static enum via_stamp_result check_stamp(const struct sip_edge *edge, const char *branch,
					 const char *stamp, uint64_t now)
{
	enum via_stamp_result result = via_stamp_check(edge->flow_key, branch, stamp, now);
	if (result == VIA_STAMP_FORGED && edge->previous_flow_key != NULL)
		result = via_stamp_check(edge->previous_flow_key, branch, stamp, now);
	return result;
}

/* From outside, a Route entry that names one of our sides is ours only if
 * it carries a flow token we sealed, as every entry we insert does (a
 * stale one, from an earlier boot, too: the dialog outlived a restart).
 * Anyone can write our address, and an entry taken for ours is popped and
 * makes its request one of a dialog, which skips the Request-URI check. */
static bool own_routes_sealed(const osip_message_t *request, const struct sip_edge *edge)
{
	for (int i = 0; i < osip_list_size(&request->routes); i++) {
		const osip_route_t *route = osip_list_get(&request->routes, i);
		uint64_t conn_id;

		if (route == NULL || uri_sides(route->url, edge) == 0)
			continue;
		const char *token = route->url->username;
		if (token == NULL || open_token(edge, token, &conn_id) == FLOW_OPEN_FORGED)
			return false;
	}
	return true;
}

static const char *from_domain(const osip_message_t *request)
{
	return request->from != NULL ? sip_uri_domain(request->from->url) : NULL;
}

static const char *to_domain(const osip_message_t *request)
{
	return request->to != NULL ? sip_uri_domain(request->to->url) : NULL;
}

static const char *request_uri_domain(const osip_message_t *request)
{
	return sip_uri_domain(request->req_uri);
}

static bool has_federation_side(const struct sip_edge *edge)
{
	return edge->hops[ROLE_FEDERATION].host != NULL;
}

/* ---- Requests from access ----------------------------------------------- */

/* A remote user's request: checked, then always relayed to the pool, which
 * authenticates the user and decides where it goes. */
static void route_from_access(const osip_message_t *request, const struct sip_edge *edge,
			      struct sip_decision *decision)
{
	const osip_uri_t *token_uri;
	unsigned sides;

	if (!config_is_our_domain(edge->config, from_domain(request))) {
		refuse(request, 403, SIP_REASON_FROM_DOMAIN_NOT_SERVED, decision);
		return;
	}
	if (!own_routes_sealed(request, edge)) {
		refuse(request, 403, SIP_REASON_FORGED_ROUTE, decision);
		return;
	}
	decision->action = SIP_ACTION_TO_POOL;
	decision->routes_to_pop = own_routes(request, ROLE_ACCESS, edge, &token_uri, &sides);
	decision->add_path = method_is(request, "REGISTER");
	decision->record_route = wants_record_route(request);
}

/* ---- Requests from federation ------------------------------------------- */

static bool discovered_for(const struct sip_peer *peer, const char *domain)
{
	return peer->discovered_domain != NULL && strcasecmp(peer->discovered_domain, domain) == 0;
}

/* Binds DOMAIN (with its [partner] section PARTNER, or NULL under open
 * federation) to the peer's certificate.  Where the edges of the domain
 * come from DNS and the session has not looked them up yet, the decision is
 * DISCOVER and false is returned, as for a refusal. */
static bool bind_domain(const osip_message_t *request, const struct sip_peer *peer,
			const char *domain, const struct partner_config *partner,
			struct sip_decision *decision)
{
	enum partner_binding binding;

	if (partner != NULL && partner->n_edges > 0) {
		binding = partner_certificate_binds(partner, peer->names, peer->n_names,
						    peer->fingerprint, NULL, 0);
	} else if (discovered_for(peer, domain)) {
		binding = partner_certificate_binds(partner, peer->names, peer->n_names,
						    peer->fingerprint, peer->discovered,
						    peer->n_discovered);
	} else {
		decision->action = SIP_ACTION_DISCOVER;
		decision->domain = domain;
		decision->partner = partner;
		return false;
	}
	if (binding != BINDING_OK) {
		refuse_as(request, 403,
			  binding == BINDING_FINGERPRINT_MISMATCH
				  ? SIP_REASON_CERTIFICATE_PIN_MISMATCH
				  : SIP_REASON_CERTIFICATE_NOT_FOR_DOMAIN,
			  partner_binding_reason(binding), decision);
		return false;
	}
	return true;
}

/* Whether the From domain may speak over this connection; refuses (or asks
 * for discovery) when not.  *DOMAIN and *PARTNER get the bound domain and
 * its [partner] section (NULL when discovered). */
static bool from_domain_bound(const osip_message_t *request, const struct sip_peer *peer,
			      const struct sip_edge *edge, const char **domain,
			      const struct partner_config **partner, struct sip_decision *decision)
{
	*domain = from_domain(request);
	*partner = NULL;
	if (*domain == NULL) {
		refuse(request, 403, SIP_REASON_DOMAIN_NOT_FEDERATED, decision);
		return false;
	}
	switch (sip_policy_domain(edge->config, *domain, partner)) {
	case POLICY_BLOCKED:
		refuse(request, 403, SIP_REASON_DOMAIN_BLOCKED, decision);
		return false;
	case POLICY_OURS:
		/* Only our own users speak for our domains, and they come
		 * through access where the pool authenticates them. */
		refuse(request, 403, SIP_REASON_FROM_DOMAIN_IS_OURS, decision);
		return false;
	case POLICY_REFUSED:
		refuse(request, 403, SIP_REASON_DOMAIN_NOT_FEDERATED, decision);
		return false;
	case POLICY_PARTNER:
		/* The configured spelling lives as long as the configuration. */
		*domain = (*partner)->domain;
		break;
	case POLICY_DISCOVER:
		*partner = NULL;
		break;
	}
	return bind_domain(request, peer, *domain, *partner, decision);
}

/* A partner's request: it speaks for a domain its certificate binds, to one
 * of our users; then the pool decides, as for our own users. */
static void route_from_federation(const osip_message_t *request, const struct sip_peer *peer,
				  const struct sip_edge *edge, struct sip_decision *decision)
{
	const struct partner_config *partner;
	const osip_uri_t *token_uri;
	const char *domain;
	unsigned sides;
	unsigned routes = own_routes(request, ROLE_FEDERATION, edge, &token_uri, &sides);

	if (!own_routes_sealed(request, edge)) {
		refuse(request, 403, SIP_REASON_FORGED_ROUTE, decision);
		return;
	}
	if (!from_domain_bound(request, peer, edge, &domain, &partner, decision))
		return;
	if (!config_is_our_domain(edge->config, to_domain(request))) {
		refuse(request, 403, SIP_REASON_TO_DOMAIN_NOT_OURS, decision);
		return;
	}
	/* In a dialog the Request-URI is a Contact, which names a host, not a
	 * domain; a new request must be for one of our domains.  Anyone can
	 * write a To tag: a dialog is known by our Route entries, which every
	 * dialog across the federation side has (we Record-Route them all). */
	if (!(to_tagged(request) && routes > 0) &&
	    !config_is_our_domain(edge->config, request_uri_domain(request))) {
		refuse(request, 403, SIP_REASON_REQUEST_URI_NOT_OURS, decision);
		return;
	}
	if (method_is(request, "REGISTER")) {
		/* Partners never register with us: only our users have a
		 * registrar here. */
		refuse(request, 403, SIP_REASON_REGISTRATION_NOT_ALLOWED, decision);
		return;
	}
	decision->action = SIP_ACTION_TO_POOL;
	decision->domain = domain;
	decision->partner = partner;
	decision->routes_to_pop = routes;
	decision->record_route = wants_record_route(request);
}

/* ---- Requests from the pool --------------------------------------------- */

/* Where the Request-URI domain of the pool's request is federated, *DOMAIN
 * and *PARTNER name it (as in sip_policy_domain); otherwise a refusal or 404. */
static bool partner_of_request_uri(const osip_message_t *request, const struct sip_edge *edge,
				   const char **domain, const struct partner_config **partner,
				   struct sip_decision *decision)
{
	*domain = request_uri_domain(request);
	*partner = NULL;
	if (*domain == NULL || !has_federation_side(edge)) {
		refuse(request, 404, SIP_REASON_NO_FLOW_TOKEN, decision);
		return false;
	}
	switch (sip_policy_domain(edge->config, *domain, partner)) {
	case POLICY_OURS:
		/* Our user, but no connection of theirs named. */
		refuse(request, 404, SIP_REASON_NO_FLOW_TOKEN, decision);
		return false;
	case POLICY_BLOCKED:
		refuse(request, 403, SIP_REASON_DOMAIN_BLOCKED, decision);
		return false;
	case POLICY_REFUSED:
		refuse(request, 403, SIP_REASON_DOMAIN_NOT_FEDERATED, decision);
		return false;
	case POLICY_PARTNER:
		*domain = (*partner)->domain;
		return true;
	case POLICY_DISCOVER:
		*partner = NULL;
		return true;
	}
	refuse(request, 404, SIP_REASON_NO_FLOW_TOKEN, decision);
	return false;
}

/* The pool's request to a partner that no connection is named for: over
 * the link to the partner's edge.  It speaks for one of our domains, as
 * the partner will check. */
static void route_to_partner(const osip_message_t *request, const struct sip_edge *edge,
			     unsigned routes, struct sip_decision *decision)
{
	const struct partner_config *partner;
	const char *domain;

	if (!partner_of_request_uri(request, edge, &domain, &partner, decision))
		return;
	if (!config_is_our_domain(edge->config, from_domain(request))) {
		refuse(request, 403, SIP_REASON_FROM_DOMAIN_NOT_OURS, decision);
		return;
	}
	decision->action = SIP_ACTION_TO_PARTNER;
	decision->domain = domain;
	decision->partner = partner;
	decision->routes_to_pop = routes;
	decision->record_route = wants_record_route(request);
}

/* A request to the federation connection named by the token may go over a
 * new link to the partner when that connection is gone: when our Route
 * entries say it left by the federation side, its To domain is federated
 * and it speaks for one of ours (as over any link).  The To domain, not the
 * Request-URI: inside a dialog that is a Contact, usually an address. */
static void set_partner_fallback(const osip_message_t *request, const struct sip_edge *edge,
				 unsigned sides, struct sip_decision *decision)
{
	const struct partner_config *partner = NULL;
	const char *domain = to_domain(request);

	if (!has_federation_side(edge) || (sides & SIDE_FEDERATION) == 0 || domain == NULL ||
	    !config_is_our_domain(edge->config, from_domain(request)))
		return;
	switch (sip_policy_domain(edge->config, domain, &partner)) {
	case POLICY_PARTNER:
		decision->domain = partner->domain;
		decision->partner = partner;
		break;
	case POLICY_DISCOVER:
		decision->domain = domain;
		break;
	case POLICY_OURS:
	case POLICY_BLOCKED:
	case POLICY_REFUSED:
		return;
	}
	decision->partner_fallback = true;
}

/* The pool's request: to exactly the external connection whose flow token
 * is in our Route (Path or Record-Route we inserted), or, without one, to
 * a federated domain's edge. */
static void route_from_internal(const osip_message_t *request, const struct sip_edge *edge,
				struct sip_decision *decision)
{
	const osip_uri_t *token_uri;
	const char *token;
	uint64_t conn_id = 0;
	unsigned sides;
	unsigned routes = own_routes(request, ROLE_INTERNAL, edge, &token_uri, &sides);

	if (token_uri == NULL) {
		route_to_partner(request, edge, routes, decision);
		return;
	}
	token = token_uri->username;
	switch (open_token(edge, token, &conn_id)) {
	case FLOW_OPEN_OK:
		break;
	case FLOW_OPEN_FORGED:
		refuse(request, 403, SIP_REASON_INVALID_FLOW_TOKEN, decision);
		return;
	case FLOW_OPEN_STALE:
		/* RFC 5626 §5.3: the flow is gone (an earlier boot of this node)
		 * or not here (another node of a pool sharing our secret); the
		 * pool tries the user's other flow, or the client reconnects. */
		refuse(request, 430, SIP_REASON_FLOW_FAILED, decision);
		return;
	}
	decision->action = SIP_ACTION_TO_CONN;
	decision->conn_id = conn_id;
	decision->routes_to_pop = routes;
	decision->record_route = wants_record_route(request);
	set_partner_fallback(request, edge, sides, decision);
}

void sip_route_request(const osip_message_t *request, const struct sip_peer *peer,
		       const struct sip_edge *edge, struct sip_decision *decision)
{
	struct sip_reject reject = { 0, NULL };

	memset(decision, 0, sizeof(*decision));
	if (!sip_request_check(request, &reject)) {
		refuse_as(request, reject.status,
			  reject.status == 483	 ? SIP_REASON_TOO_MANY_HOPS
			  : reject.status == 505 ? SIP_REASON_VERSION_NOT_SUPPORTED
						 : SIP_REASON_MALFORMED_REQUEST,
			  reject.reason, decision);
		return;
	}
	switch (peer->role) {
	case ROLE_ACCESS:
		route_from_access(request, edge, decision);
		return;
	case ROLE_INTERNAL:
		route_from_internal(request, edge, decision);
		return;
	case ROLE_FEDERATION:
		route_from_federation(request, peer, edge, decision);
		return;
	case ROLE_XMPP_FEDERATION:
	case ROLE_XMPP_INTERNAL:
	case ROLE_TURN:
	case ROLE_TURN_TCP:
		break; /* not SIP's: never a SIP session's role */
	}
	/* A role SIP does not route (only reached with a bad value). */
	refuse(request, 403, SIP_REASON_ROLE_NOT_ROUTED, decision);
}

/* ---- Responses ---------------------------------------------------------- */

static void drop_response(enum sip_reason code, struct sip_decision *decision)
{
	decision->action = SIP_ACTION_DROP;
	decision->code = code;
	decision->reason = sip_reason_phrase(code);
}

/* A response goes back where its request came from: the connection named in
 * the branch of the Via we added. */
void sip_route_response(const osip_message_t *response, enum listener_role arrival,
			const struct sip_edge *edge, uint64_t now, struct sip_decision *decision)
{
	const osip_via_t *via = osip_list_get(&response->vias, 0);
	const char *branch;
	uint64_t conn_id = 0;
	unsigned sides;

	memset(decision, 0, sizeof(*decision));
	decision->action = SIP_ACTION_DROP;
	if (!sip_response_check(response)) {
		drop_response(SIP_REASON_MALFORMED_RESPONSE, decision);
		return;
	}
	sides = via_sides(via, edge);
	if (sides == 0) {
		drop_response(SIP_REASON_VIA_NOT_OURS, decision);
		return;
	}
	/* A response comes back from the side its request was sent to: the
	 * pool (our internal Via), a user (our access Via) or a partner (our
	 * federation Via). */
	if ((unsigned)arrival >= ROLE_COUNT || !(sides & SIDE(arrival))) {
		drop_response(SIP_REASON_RESPONSE_FROM_WRONG_SIDE, decision);
		return;
	}
	branch = param_value(&via->via_params, "branch", NULL);
	switch (open_branch(edge, branch, &conn_id)) {
	case FLOW_OPEN_OK:
		break;
	case FLOW_OPEN_FORGED:
		drop_response(SIP_REASON_FORGED_VIA_BRANCH, decision);
		return;
	case FLOW_OPEN_STALE:
		drop_response(SIP_REASON_STALE_VIA_BRANCH, decision);
		return;
	}
	switch (check_stamp(edge, branch, param_value(&via->via_params, VIA_STAMP_PARAM, NULL),
			    now)) {
	case VIA_STAMP_OK:
		break;
	case VIA_STAMP_FORGED:
		drop_response(SIP_REASON_FORGED_VIA_STAMP, decision);
		return;
	case VIA_STAMP_EXPIRED:
		drop_response(SIP_REASON_EXPIRED_VIA_STAMP, decision);
		return;
	}
	decision->action = SIP_ACTION_TO_CONN;
	decision->conn_id = conn_id;
	/* Our Via of an external side: the request came from the pool and went
	 * out to a user or a partner, so any pool connection can carry the
	 * response back. */
	decision->pool_fallback = arrival == ROLE_ACCESS || arrival == ROLE_FEDERATION;
}

/* ---- What is left when the named connection is gone --------------------- */

void sip_route_flow_gone(struct sip_decision *decision)
{
	/* A partner edge, unlike a user, can be reached again. */
	if (decision->partner_fallback) {
		decision->action = SIP_ACTION_TO_PARTNER;
		return;
	}
	memset(decision, 0, sizeof(*decision));
	decision->action = SIP_ACTION_REPLY;
	decision->status = 430;
	decision->code = SIP_REASON_FLOW_FAILED;
	decision->reason = sip_reason_phrase(SIP_REASON_FLOW_FAILED);
}

enum sip_response_target sip_route_response_target(const struct sip_decision *decision,
						   bool target_ready,
						   enum listener_role target_role)
{
	/* pool_fallback says the response goes back towards the pool: a branch
	 * naming a connection on the other side (a user's, a partner's) is
	 * not one it may take. */
	bool external = target_role == ROLE_ACCESS || target_role == ROLE_FEDERATION;
	if (target_ready && external != decision->pool_fallback)
		return SIP_RESPONSE_TO_CONN;
	return decision->pool_fallback ? SIP_RESPONSE_TO_POOL : SIP_RESPONSE_DROP;
}
