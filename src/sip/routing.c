/* routing: where a SIP message goes (DESIGN.md §4), as a pure function of
 * the message, the role of the connection it came in on and the edge.
 *
 * The edge has two sides: the external one (the access listener's
 * advertised host:port) and the internal one (the internal listener's).  A
 * request that crosses gets our Via on the side it leaves on, and, when it
 * may start a dialog, two Record-Route entries (RFC 5658): the side it
 * arrived on below, the side it leaves on above, both carrying the flow
 * token of the access connection involved.  Each UA's route set therefore
 * holds, per crossing, our entry for its own side followed by our entry for
 * the other side; an in-dialog request pops exactly that pair (or what is
 * left of it) and goes on: from access to the pool, from the pool to the
 * access connection the token names. */
#include "routing.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "message.h"
#include "via_branch.h"

#define SIP_PORT 5060
#define SIPS_PORT 5061

/* The sides of the edge a URI or Via names (both when they are configured
 * with the same advertised host and port). */
#define SIDE_EXTERNAL 1u
#define SIDE_INTERNAL 2u

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

	if (edge->external_host != NULL && port == edge->external_port &&
	    host_equal(host, edge->external_host))
		sides |= SIDE_EXTERNAL;
	if (edge->internal_host != NULL && port == edge->internal_port &&
	    host_equal(host, edge->internal_host))
		sides |= SIDE_INTERNAL;
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

/* ---- Requests ----------------------------------------------------------- */

static bool method_is(const osip_message_t *request, const char *method)
{
	/* Methods are case-sensitive (RFC 3261 §7.1). */
	return request->sip_method != NULL && strcmp(request->sip_method, method) == 0;
}

/* A refusal: the reason goes back as a response, but never to an ACK,
 * which gets no response (RFC 3261 §17.2.3); it is dropped instead. */
static void refuse(const osip_message_t *request, int status, const char *reason,
		   struct sip_decision *decision)
{
	memset(decision, 0, sizeof(*decision));
	if (method_is(request, "ACK")) {
		decision->action = SIP_ACTION_DROP;
	} else {
		decision->action = SIP_ACTION_REPLY;
		decision->status = status;
	}
	decision->reason = reason;
}

/* Whether the relayed request gets our Record-Route: only requests outside
 * a dialog (no To tag) can establish one; REGISTER gets Path instead, and
 * CANCEL and ACK never establish a dialog, so a route set in them is noise. */
static bool wants_record_route(const osip_message_t *request)
{
	bool tagged = false;

	if (request->to != NULL)
		param_value(&request->to->gen_params, "tag", &tagged);
	return !tagged && !method_is(request, "REGISTER") && !method_is(request, "CANCEL") &&
	       !method_is(request, "ACK");
}

/* Counts the Route entries at the top of REQUEST that belong to this
 * crossing of the edge: ours for the side it arrived on, then ours for the
 * side it leaves on.  The count stops after the first entry for the
 * leaving side: an own entry after that belongs to a later crossing that
 * must pass through the pool first, e.g. when the pool does not
 * Record-Route, a dialog between two of our users reads
 * ext(A) int(A) int(B) ext(B) and the request from A must reach the pool
 * with int(B) ext(B) still in it.  *TOKEN_URI gets the first counted entry
 * with a user part (a flow token), or NULL. */
static unsigned own_routes(const osip_message_t *request, enum listener_role arrival,
			   const struct sip_edge *edge, const osip_uri_t **token_uri)
{
	unsigned arrival_side = arrival == ROLE_ACCESS ? SIDE_EXTERNAL : SIDE_INTERNAL;
	unsigned count = 0;

	*token_uri = NULL;
	for (int i = 0; i < osip_list_size(&request->routes); i++) {
		const osip_route_t *route = osip_list_get(&request->routes, i);
		unsigned sides = route != NULL ? uri_sides(route->url, edge) : 0;

		if (sides == 0)
			break;
		count++;
		if (*token_uri == NULL && route->url->username != NULL &&
		    route->url->username[0] != '\0')
			*token_uri = route->url;
		if ((sides & arrival_side) == 0)
			break;
	}
	return count;
}

static bool from_domain_is_ours(const osip_message_t *request, const struct sip_edge *edge)
{
	const char *domain;

	if (request->from == NULL)
		return false;
	domain = sip_uri_domain(request->from->url);
	return domain != NULL && config_is_our_domain(edge->config, domain);
}

/* A remote user's request: checked, then always relayed to the pool, which
 * authenticates the user and decides where it goes. */
static void route_from_access(const osip_message_t *request, const struct sip_edge *edge,
			      struct sip_decision *decision)
{
	const osip_uri_t *token_uri;

	if (!from_domain_is_ours(request, edge)) {
		refuse(request, 403, "From Domain Not Served", decision);
		return;
	}
	decision->action = SIP_ACTION_TO_POOL;
	decision->routes_to_pop = own_routes(request, ROLE_ACCESS, edge, &token_uri);
	decision->add_path = method_is(request, "REGISTER");
	decision->record_route = wants_record_route(request);
}

/* The pool's request to a remote user: to exactly the access connection
 * whose flow token is in our Route (Path or Record-Route we inserted). */
static void route_from_internal(const osip_message_t *request, const struct sip_edge *edge,
				struct sip_decision *decision)
{
	const osip_uri_t *token_uri;
	const char *token;
	uint64_t conn_id = 0;
	unsigned routes = own_routes(request, ROLE_INTERNAL, edge, &token_uri);

	if (token_uri == NULL) {
		refuse(request, 404, "No Flow Token", decision);
		return;
	}
	token = token_uri->username;
	switch (flow_token_open(edge->flow_key, token, strlen(token), &conn_id)) {
	case FLOW_OPEN_OK:
		break;
	case FLOW_OPEN_FORGED:
		refuse(request, 403, "Invalid Flow Token", decision);
		return;
	case FLOW_OPEN_STALE:
		/* RFC 5626 §5.3: the flow is gone, the client has to reconnect. */
		refuse(request, 430, "Flow Failed", decision);
		return;
	}
	decision->action = SIP_ACTION_TO_CONN;
	decision->conn_id = conn_id;
	decision->routes_to_pop = routes;
	decision->record_route = wants_record_route(request);
}

void sip_route_request(const osip_message_t *request, enum listener_role arrival,
		       const struct sip_edge *edge, struct sip_decision *decision)
{
	struct sip_reject reject = {0, NULL};

	memset(decision, 0, sizeof(*decision));
	if (!sip_request_check(request, &reject)) {
		refuse(request, reject.status, reject.reason, decision);
		return;
	}
	switch (arrival) {
	case ROLE_ACCESS:
		route_from_access(request, edge, decision);
		return;
	case ROLE_INTERNAL:
		route_from_internal(request, edge, decision);
		return;
	}
	/* A role this version does not route (only reached with a bad value). */
	refuse(request, 403, "Role Not Routed", decision);
}

/* ---- Responses ---------------------------------------------------------- */

/* A response goes back where its request came from: the connection named in
 * the branch of the Via we added. */
void sip_route_response(const osip_message_t *response, enum listener_role arrival,
			const struct sip_edge *edge, struct sip_decision *decision)
{
	const osip_via_t *via = osip_list_get(&response->vias, 0);
	const char *branch;
	uint64_t conn_id = 0;
	unsigned sides;

	memset(decision, 0, sizeof(*decision));
	decision->action = SIP_ACTION_DROP;
	if (!sip_response_check(response)) {
		decision->reason = "Malformed Response";
		return;
	}
	sides = via_sides(via, edge);
	if (sides == 0) {
		decision->reason = "Via Not Ours";
		return;
	}
	/* A response comes back from the side its request was sent to: the
	 * pool (our internal Via) or a user (our external Via). */
	if (!(sides & (arrival == ROLE_ACCESS ? SIDE_EXTERNAL : SIDE_INTERNAL))) {
		decision->reason = "Response From Wrong Side";
		return;
	}
	branch = param_value(&via->via_params, "branch", NULL);
	switch (via_branch_open(edge->flow_key, branch, &conn_id)) {
	case FLOW_OPEN_OK:
		break;
	case FLOW_OPEN_FORGED:
		decision->reason = "Forged Via Branch";
		return;
	case FLOW_OPEN_STALE:
		decision->reason = "Stale Via Branch";
		return;
	}
	decision->action = SIP_ACTION_TO_CONN;
	decision->conn_id = conn_id;
	/* Our external Via: the request came from the pool and went out to an
	 * access client, so any pool connection can carry the response back. */
	decision->pool_fallback = sides == SIDE_EXTERNAL;
}
