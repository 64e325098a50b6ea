/* rewrite: what the edge changes in a message it relays, once routing has
 * decided where it goes.  A request loses our own Route entries and, when
 * it comes from outside the trust domain, any identity it asserts (RFC 3325
 * §5); it has its Max-Forwards counted down, gets the double Record-Route
 * or the Path that keeps later requests coming through the same access
 * connection, and our Via on top (RFC 3261 §16.6); a response loses our
 * Via (§16.7). */
#include "rewrite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FORWARDS_DEFAULT "70" /* RFC 3261 §16.6 step 3 */

/* A malloc'd string formatted like printf, or NULL. */
static char *format(const char *pattern, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *pattern, ...)
{
	va_list args;
	char *text;
	int len;

	va_start(args, pattern);
	len = vsnprintf(NULL, 0, pattern, args);
	va_end(args);
	if (len < 0)
		return NULL;
	text = malloc((size_t)len + 1);
	if (text == NULL)
		return NULL;
	va_start(args, pattern);
	vsnprintf(text, (size_t)len + 1, pattern, args);
	va_end(args);
	return text;
}

/* "host:port", with an IPv6 literal bracketed as URIs and Via need it. */
static char *format_hop(const struct sip_hop *hop)
{
	bool bracket = strchr(hop->host, ':') != NULL && hop->host[0] != '[';

	return format(bracket ? "[%s]:%u" : "%s:%u", hop->host, (unsigned)hop->port);
}

/* "<sip:TOKEN@host:port;transport=tls;lr>": our entry for one side, naming
 * the access connection by its flow token; with OUTBOUND, ";ob" after "lr";
 * with SECURE, "<sips:TOKEN@host:port;lr>" (TLS is what sips means). */
static char *format_own_uri(const char *token, const struct sip_hop *hop, bool outbound,
			    bool secure)
{
	char *hostport = format_hop(hop);
	char *uri;

	if (hostport == NULL)
		return NULL;
	uri = format("<%s:%s@%s;%slr%s>", secure ? "sips" : "sip", token, hostport,
		     secure ? "" : "transport=tls;", outbound ? ";ob" : "");
	free(hostport);
	return uri;
}

static bool is_sips(const osip_uri_t *uri)
{
	return uri != NULL && uri->scheme != NULL && osip_strcasecmp(uri->scheme, "sips") == 0;
}

/* RFC 3261 §16.6 step 4: when the Request-URI or the next Route is a SIPS
 * URI, the Record-Route entries must be SIPS URIs too. */
static bool wants_sips(const osip_message_t *request)
{
	const osip_route_t *next = osip_list_get(&request->routes, 0);
	return is_sips(request->req_uri) || (next != NULL && is_sips(next->url));
}

/* ---- Requests ----------------------------------------------------------- */

static void pop_routes(osip_message_t *request, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		osip_route_t *route = osip_list_get(&request->routes, 0);

		osip_list_remove(&request->routes, 0);
		osip_route_free(route);
	}
}

/* RFC 3325 §5: the headers by which a request asserts who sent it.  Only
 * the pool, which authenticated the user, may assert one; the pool trusts
 * whatever reaches it from the edge, so an outsider's are removed here.
 * osip keeps all three among the unknown headers, one entry per value (it
 * splits comma lists of the first two), named as the sender spelled them. */
static const char *const identity_headers[] = {
	"P-Asserted-Identity",
	"P-Preferred-Identity",
	"Remote-Party-ID",
};

static bool is_identity_header(const osip_header_t *header)
{
	if (header->hname == NULL)
		return false;
	for (size_t i = 0; i < sizeof(identity_headers) / sizeof(identity_headers[0]); i++) {
		if (strcasecmp(header->hname, identity_headers[i]) == 0)
			return true;
	}
	return false;
}

static void strip_identity(osip_message_t *request)
{
	int i = 0;

	while (i < osip_list_size(&request->headers)) {
		osip_header_t *header = osip_list_get(&request->headers, i);

		if (header != NULL && is_identity_header(header)) {
			osip_list_remove(&request->headers, i);
			osip_header_free(header);
		} else {
			i++;
		}
	}
}

/* Parses a Max-Forwards value 1..255 (0 was refused by routing with 483). */
static int parse_max_forwards(const char *text, unsigned *value)
{
	unsigned result = 0;

	if (text == NULL || text[0] == '\0')
		return -1;
	for (const char *c = text; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		result = result * 10 + (unsigned)(*c - '0');
		if (result > 255)
			return -1;
	}
	if (result == 0)
		return -1;
	*value = result;
	return 0;
}

/* The first Max-Forwards header, or NULL. */
static osip_header_t *max_forwards_header(const osip_message_t *request)
{
	osip_header_t *header = NULL;

	if (osip_message_get_max_forwards(request, 0, &header) < 0)
		return NULL;
	return header;
}

static int count_down_max_forwards(osip_header_t *header)
{
	char text[4];
	char *copy;
	unsigned value;

	if (parse_max_forwards(header->hvalue, &value) != 0)
		return -1;
	snprintf(text, sizeof(text), "%u", value - 1);
	copy = osip_strdup(text);
	if (copy == NULL)
		return -1;
	osip_free(header->hvalue);
	header->hvalue = copy;
	return 0;
}

/* Puts the Record-Route entry for one side on top of the list. */
static int push_record_route(osip_message_t *request, const char *token, const struct sip_hop *hop,
			     bool secure)
{
	osip_record_route_t *record_route = NULL;
	char *text = format_own_uri(token, hop, false, secure);
	int result = -1;

	if (text != NULL && osip_record_route_init(&record_route) == OSIP_SUCCESS) {
		if (osip_record_route_parse(record_route, text) == OSIP_SUCCESS &&
		    osip_list_add(&request->record_routes, record_route, 0) >= 0)
			result = 0;
		else
			osip_record_route_free(record_route);
	}
	free(text);
	return result;
}

/* RFC 5658 double Record-Route: the arrival side's entry first, then the
 * departure side's above it, so the next hop reads departure, arrival and
 * each UA's route set reaches us on its own side first. */
static int add_record_route(osip_message_t *request, const struct sip_request_rewrite *rewrite)
{
	bool secure = wants_sips(request);
	if (push_record_route(request, rewrite->flow_token, &rewrite->arrival, secure) != 0)
		return -1;
	return push_record_route(request, rewrite->flow_token, &rewrite->departure, secure);
}

/* Whether the REGISTER comes from an outbound client (RFC 5626 §4.2): one
 * of its Contacts carries a reg-id. */
static bool registers_outbound(const osip_message_t *request)
{
	for (int i = 0; i < osip_list_size(&request->contacts); i++) {
		osip_contact_t *contact = osip_list_get(&request->contacts, i);
		osip_generic_param_t *reg_id = NULL;

		if (contact != NULL &&
		    osip_contact_param_get_byname(contact, "reg-id", &reg_id) == OSIP_SUCCESS &&
		    reg_id != NULL)
			return true;
	}
	return false;
}

/* Path (RFC 3327): ours above any Path already present, since a registrar
 * reads them top down as the route back to the user.  osip keeps Path among
 * the unknown headers in their order, so ours goes first among those.  For
 * an outbound client it carries "ob" (RFC 5626 §5.1): the registrar then
 * keeps the binding as one flow of that instance, beside its others (§6),
 * and our 430 for a dead flow makes the pool try the next one. */
static int add_path(osip_message_t *request, const struct sip_request_rewrite *rewrite)
{
	char *text = format_own_uri(rewrite->flow_token, &rewrite->departure,
				    registers_outbound(request), false);
	int result;

	if (text == NULL)
		return -1;
	result = osip_message_set_topheader(request, "Path", text) == OSIP_SUCCESS ? 0 : -1;
	free(text);
	return result;
}

static int push_via(osip_message_t *request, const struct sip_request_rewrite *rewrite)
{
	osip_via_t *via = NULL;
	char *hostport = format_hop(&rewrite->departure);
	char *text = hostport != NULL
			     ? format("SIP/2.0/TLS %s;branch=%s", hostport, rewrite->branch)
			     : NULL;
	int result = -1;

	if (text != NULL && osip_via_init(&via) == OSIP_SUCCESS) {
		if (osip_via_parse(via, text) == OSIP_SUCCESS &&
		    osip_list_add(&request->vias, via, 0) >= 0)
			result = 0;
		else
			osip_via_free(via);
	}
	free(text);
	free(hostport);
	return result;
}

/* What may make the rewrite fail is checked before anything changes, so a
 * refused request is left as it came (but for running out of memory). */
static bool request_rewritable(const osip_message_t *request,
			       const struct sip_request_rewrite *rewrite)
{
	osip_header_t *max_forwards = max_forwards_header(request);
	unsigned value;

	if ((size_t)osip_list_size(&request->routes) < rewrite->routes_to_pop)
		return false;
	if (max_forwards != NULL && parse_max_forwards(max_forwards->hvalue, &value) != 0)
		return false;
	if ((rewrite->record_route || rewrite->add_path) && rewrite->flow_token == NULL)
		return false;
	return rewrite->departure.host != NULL && rewrite->branch != NULL &&
	       (!rewrite->record_route || rewrite->arrival.host != NULL);
}

int sip_request_rewrite(osip_message_t *request, const struct sip_request_rewrite *rewrite)
{
	osip_header_t *max_forwards;

	if (!request_rewritable(request, rewrite))
		return -1;
	/* osip serialises from its cached text unless told the structure changed. */
	osip_message_force_update(request);
	pop_routes(request, rewrite->routes_to_pop);
	if (rewrite->strip_identity)
		strip_identity(request);
	max_forwards = max_forwards_header(request);
	if (max_forwards != NULL) {
		if (count_down_max_forwards(max_forwards) != 0)
			return -1;
	} else if (osip_message_set_max_forwards(request, MAX_FORWARDS_DEFAULT) != OSIP_SUCCESS) {
		return -1;
	}
	if (rewrite->record_route && add_record_route(request, rewrite) != 0)
		return -1;
	if (rewrite->add_path && add_path(request, rewrite) != 0)
		return -1;
	return push_via(request, rewrite);
}

/* ---- Responses ---------------------------------------------------------- */

int sip_response_rewrite(osip_message_t *response)
{
	osip_via_t *via = osip_list_get(&response->vias, 0);

	if (via == NULL)
		return -1;
	osip_list_remove(&response->vias, 0);
	osip_via_free(via);
	osip_message_force_update(response);
	return 0;
}
