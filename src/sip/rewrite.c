/* SPDX-License-Identifier: ISC */
/* rewrite: what the edge changes in a message it relays, once routing has
 * decided where it goes.  A request loses our own Route entries and, when
 * it comes from outside the trust domain, any identity it asserts (RFC 3325
 * §5); it has its Max-Forwards counted down, gets the double Record-Route
 * or the Path that keeps later requests coming through the same access
 * connection, and our Via on top (RFC 3261 §16.6); a response loses our
 * Via (§16.7).
 *
 * Each is a line edit on the received bytes: the lines the edge adds go
 * right after the start line (above every field of the same name, which
 * is all their order means, RFC 3261 §7.3.1), and each received field is
 * kept, dropped, or replaced by a line of the edge's own making.  The
 * start line, the body, and every field not named here go out as they
 * came, so the next hop reads what the edge's own parser read. */
#include "rewrite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"
#include "via_branch.h"

#define MAX_FORWARDS_DEFAULT "70" /* RFC 3261 §16.6 step 3 */

/* ---- Field edits -------------------------------------------------------- */

enum field_action {
	FIELD_KEEP,
	FIELD_DROP,
	FIELD_FROM_VALUE, /* the field's name, ": ", then from `from` to its end */
	FIELD_MAX_FORWARDS, /* "Max-Forwards: " and the counted-down value */
};

struct field_edit {
	enum field_action action;
	size_t from; /* FIELD_FROM_VALUE: first byte of the first value kept */
};

/* Removes the first COUNT values of the fields of KIND, in order: whole
 * fields while they hold no more than what is left to remove, then the
 * leading values of the next.  Returns how many could not be removed. */
static size_t drop_values(const struct sip_message *message, enum sip_header_kind kind,
			  size_t count, struct field_edit *edits)
{
	for (size_t i = 0; i < message->headers.n_fields && count > 0; i++) {
		const struct sip_header *field = &message->headers.fields[i];
		if (field->kind != kind)
			continue;
		size_t n = sip_header_values(message->data, field, NULL, 0);
		if (n <= count) {
			edits[i].action = FIELD_DROP;
			count -= n;
			continue;
		}
		/* The values up to the first one kept. */
		struct sip_value *values = malloc((count + 1) * sizeof(*values));
		if (values == NULL)
			return count;
		sip_header_values(message->data, field, values, count + 1);
		edits[i] = (struct field_edit){ FIELD_FROM_VALUE, values[count].start };
		free(values);
		count = 0;
	}
	return count;
}

/* The value of a Max-Forwards field: 1..255 (routing answered 0 with 483). */
static bool max_forwards_value(const struct sip_message *message, const struct sip_header *field,
			       unsigned *value)
{
	struct sip_value span;
	unsigned result = 0;

	if (sip_header_values(message->data, field, &span, 1) != 1 || span.start == span.end)
		return false;
	for (size_t i = span.start; i < span.end; i++) {
		char c = message->data[i];
		if (c < '0' || c > '9')
			return false;
		result = result * 10 + (unsigned)(c - '0');
		if (result > 255)
			return false;
	}
	*value = result;
	return result > 0;
}

/* Adds one received field to OUT as EDIT says. */
static void add_field(struct text *out, const struct sip_message *message,
		      const struct sip_header *field, const struct field_edit *edit)
{
	const char *data = message->data;
	unsigned hops;

	switch (edit->action) {
	case FIELD_KEEP:
		text_add(out, data + field->start, field->end + 2 - field->start);
		return;
	case FIELD_DROP:
		return;
	case FIELD_FROM_VALUE:
		/* The name as it came, without the white space before its colon. */
		for (size_t i = field->start;
		     i < field->value - 1 && data[i] != ' ' && data[i] != '\t'; i++)
			text_add(out, data + i, 1);
		text_add_string(out, ": ");
		text_add(out, data + edit->from, field->end + 2 - edit->from);
		return;
	case FIELD_MAX_FORWARDS:
		if (max_forwards_value(message, field, &hops))
			text_add_format(out, "Max-Forwards: %u\r\n", hops - 1);
		else
			out->failed = true;
		return;
	}
}

/* The start line, ADDED (the edge's own lines), the received fields as
 * EDITS say, Content-Length: 0 when there was none, the blank line and
 * the body. */
static char *assemble(const struct sip_message *message, const struct text *added,
		      const struct field_edit *edits, size_t *len)
{
	const struct sip_headers *headers = &message->headers;
	struct text out = { 0 };

	text_add(&out, message->data, headers->start_line_end + 2);
	if (added->failed)
		out.failed = true;
	else if (added->length > 0)
		text_add(&out, added->data, added->length);
	for (size_t i = 0; i < headers->n_fields; i++)
		add_field(&out, message, &headers->fields[i], &edits[i]);
	/* Over a stream a message without Content-Length may be refused, and
	 * its link closed, by the next hop (Kamailio's tcp_accept_no_cl). */
	if (headers->counts[SIP_HEADER_CONTENT_LENGTH] == 0)
		text_add_string(&out, "Content-Length: 0\r\n");
	text_add(&out, message->data + headers->block_end - 2,
		 message->length - headers->block_end + 2);
	return text_finish(&out, len);
}

/* ---- Requests ----------------------------------------------------------- */

/* Adds "<sip:TOKEN@host:port;transport=tls;lr>": our entry for one side,
 * naming the access connection by its flow token; with OUTBOUND, ";ob"
 * after "lr"; with SECURE, "<sips:TOKEN@host:port;lr>" (TLS is what sips
 * means). */
static void add_own_uri(struct text *text, const char *token, const struct sip_hop *hop,
			bool outbound, bool secure)
{
	bool bracket = strchr(hop->host, ':') != NULL && hop->host[0] != '[';

	text_add_format(text, bracket ? "<%s:%s@[%s]:%u;%slr%s>" : "<%s:%s@%s:%u;%slr%s>",
			secure ? "sips" : "sip", token, hop->host, (unsigned)hop->port,
			secure ? "" : "transport=tls;", outbound ? ";ob" : "");
}

/* Our Via: the branch names the arrival connection, the stamp when it was
 * made (via_branch.h). */
static void add_via(struct text *text, const struct sip_hop *hop,
		    const struct sip_request_rewrite *rewrite)
{
	bool bracket = strchr(hop->host, ':') != NULL && hop->host[0] != '[';

	text_add_format(text,
			bracket ? "Via: SIP/2.0/TLS [%s]:%u;branch=%s;" VIA_STAMP_PARAM "=%s\r\n"
				: "Via: SIP/2.0/TLS %s:%u;branch=%s;" VIA_STAMP_PARAM "=%s\r\n",
			hop->host, (unsigned)hop->port, rewrite->branch, rewrite->stamp);
}

static bool is_sips(const osip_uri_t *uri)
{
	return uri != NULL && uri->scheme != NULL && osip_strcasecmp(uri->scheme, "sips") == 0;
}

/* RFC 3261 §16.6 step 4: when the Request-URI or the next Route (the first
 * one left after ours are popped) is a SIPS URI, the Record-Route entries
 * must be SIPS URIs too. */
static bool wants_sips(const osip_message_t *request, unsigned routes_to_pop)
{
	const osip_route_t *next = osip_list_get(&request->routes, (int)routes_to_pop);
	return is_sips(request->req_uri) || (next != NULL && is_sips(next->url));
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

/* Our Via on top, then the RFC 5658 double Record-Route: the departure
 * side's entry above the arrival side's, so the next hop reads departure,
 * arrival and each UA's route set reaches us on its own side first.  Then
 * Path (RFC 3327), above any Path already present, since a registrar reads
 * them top down as the route back to the user; for an outbound client it
 * carries "ob" (RFC 5626 §5.1): the registrar then keeps the binding as one
 * flow of that instance, beside its others (§6), and our 430 for a dead
 * flow makes the pool try the next one. */
static void add_own_lines(struct text *text, const struct sip_message *request,
			  const struct sip_request_rewrite *rewrite)
{
	add_via(text, &rewrite->departure, rewrite);
	if (rewrite->record_route) {
		bool secure = wants_sips(request->osip, rewrite->routes_to_pop);
		text_add_string(text, "Record-Route: ");
		add_own_uri(text, rewrite->flow_token, &rewrite->departure, false, secure);
		text_add_string(text, "\r\nRecord-Route: ");
		add_own_uri(text, rewrite->flow_token, &rewrite->arrival, false, secure);
		text_add_string(text, "\r\n");
	}
	if (rewrite->add_path) {
		text_add_string(text, "Path: ");
		add_own_uri(text, rewrite->flow_token, &rewrite->departure,
			    registers_outbound(request->osip), false);
		text_add_string(text, "\r\n");
	}
}

static bool request_rewritable(const struct sip_message *request,
			       const struct sip_request_rewrite *rewrite)
{
	if ((rewrite->record_route || rewrite->add_path) && rewrite->flow_token == NULL)
		return false;
	return request->refusal == NULL && rewrite->departure.host != NULL &&
	       rewrite->branch != NULL && rewrite->stamp != NULL &&
	       (!rewrite->record_route || rewrite->arrival.host != NULL);
}

char *sip_request_forward(const struct sip_message *request,
			  const struct sip_request_rewrite *rewrite, size_t *len)
{
	const struct sip_headers *headers = &request->headers;

	if (!request_rewritable(request, rewrite))
		return NULL;
	struct field_edit *edits =
		calloc(headers->n_fields ? headers->n_fields : 1, sizeof(*edits));
	if (edits == NULL)
		return NULL;
	struct text added = { 0 };
	add_own_lines(&added, request, rewrite);
	for (size_t i = 0; i < headers->n_fields; i++) {
		enum sip_header_kind kind = headers->fields[i].kind;
		if (kind == SIP_HEADER_MAX_FORWARDS)
			edits[i].action = FIELD_MAX_FORWARDS;
		else if (kind == SIP_HEADER_IDENTITY && rewrite->strip_identity)
			edits[i].action = FIELD_DROP;
	}
	if (headers->counts[SIP_HEADER_MAX_FORWARDS] == 0)
		text_add_string(&added, "Max-Forwards: " MAX_FORWARDS_DEFAULT "\r\n");

	char *out = NULL;
	if (drop_values(request, SIP_HEADER_ROUTE, rewrite->routes_to_pop, edits) == 0)
		out = assemble(request, &added, edits, len);
	free(added.data);
	free(edits);
	return out;
}

/* ---- Responses ---------------------------------------------------------- */

char *sip_response_forward(const struct sip_message *response, size_t *len)
{
	const struct sip_headers *headers = &response->headers;

	if (response->refusal != NULL || headers->counts[SIP_HEADER_VIA] == 0)
		return NULL;
	struct field_edit *edits = calloc(headers->n_fields, sizeof(*edits));
	if (edits == NULL)
		return NULL;
	struct text added = { 0 };
	char *out = NULL;
	if (drop_values(response, SIP_HEADER_VIA, 1, edits) == 0)
		out = assemble(response, &added, edits, len);
	free(edits);
	return out;
}
