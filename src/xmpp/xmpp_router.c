/* SPDX-License-Identifier: ISC */
/* xmpp_router: see xmpp_router.h. */
#include "xmpp_router.h"

#include <string.h>

#include "jid.h"
#include "log.h"
#include "namespaces.h"
#include "xmpp_stream.h"

enum direction {
	INWARD, /* to one of our domains: the internal server */
	OUTWARD, /* to a partner */
};

static const char *const direction_names[] = { [INWARD] = "inward", [OUTWARD] = "outward" };

static void route_count(struct xmpp_context *context, enum direction direction,
			const struct xml_element *stanza)
{
	const char *const values[] = { direction_names[direction], xml_element_name(stanza), NULL };
	metric_counter_add(metric_counter(context->metrics.stanzas, values), 1);
}

/* The stream for stanzas from LOCAL to REMOTE in DIRECTION: a ready or
 * waiting one, else a new one; NULL when there can be none. */
static struct xmpp_stream *route_stream(struct xmpp_context *context, enum direction direction,
					const char *from, const char *to)
{
	/* Inward the edge speaks as the partner FROM to our TO; the internal
	 * server's own bidirectional stream saves a connection inward. */
	enum xmpp_stream_kind accepted = direction == INWARD ? XMPP_IN_INTERNAL : XMPP_IN_PUBLIC;
	enum xmpp_stream_kind opened = direction == INWARD ? XMPP_OUT_INTERNAL : XMPP_OUT_PUBLIC;
	struct xmpp_stream *stream = xmpp_stream_find(context, accepted, from, to);

	if (stream == NULL)
		stream = xmpp_stream_find(context, opened, from, to);
	if (stream == NULL)
		stream = xmpp_stream_open(context, opened, from, to);
	return stream;
}

/* Sends STANZA (taken over) from domain FROM to domain TO. */
static void route_deliver(struct xmpp_context *context, struct xml_element *stanza,
			  const char *from, const char *to)
{
	enum direction direction = xmpp_context_is_ours(context, to) ? INWARD : OUTWARD;

	if (direction == OUTWARD && !xmpp_context_partner_allowed(context, to)) {
		xmpp_route_bounce(context, stanza, "not-allowed");
		return;
	}
	struct xmpp_stream *stream = route_stream(context, direction, from, to);
	if (stream == NULL) {
		xmpp_route_bounce(context, stanza, "remote-server-not-found");
		return;
	}
	route_count(context, direction, stanza);
	if (!xmpp_stream_send(stream, stanza))
		xmpp_route_bounce(context, stanza, "resource-constraint");
}

void xmpp_route(struct xmpp_context *context, struct xmpp_stream *from_stream,
		struct xml_element *stanza)
{
	char from[JID_DOMAIN_MAX + 1], to[JID_DOMAIN_MAX + 1];
	enum xmpp_stream_kind kind = xmpp_stream_kind(from_stream);

	/* Its machine checked the pair already. */
	if (!jid_domain(xml_element_attribute(stanza, NULL, "from"), from) ||
	    !jid_domain(xml_element_attribute(stanza, NULL, "to"), to)) {
		xml_element_free(stanza);
		return;
	}
	if ((kind == XMPP_IN_PUBLIC || kind == XMPP_OUT_PUBLIC) &&
	    !xmpp_context_take_stanza(context, from)) {
		log_event(LOG_LEVEL_INFO, "xmpp_rate_limited", "domain=%s stanza=%s", from,
			  xml_element_name(stanza));
		xmpp_route_bounce(context, stanza, "resource-constraint");
		return;
	}
	route_deliver(context, stanza, from, to);
}

void xmpp_route_bounce(struct xmpp_context *context, struct xml_element *stanza,
		       const char *condition)
{
	const char *type = xml_element_attribute(stanza, NULL, "type");
	const char *from = xml_element_attribute(stanza, NULL, "from");
	const char *to = xml_element_attribute(stanza, NULL, "to");
	const char *id = xml_element_attribute(stanza, NULL, "id");
	char from_domain[JID_DOMAIN_MAX + 1], to_domain[JID_DOMAIN_MAX + 1];

	char quoted_from[300], quoted_to[300];
	log_event(LOG_LEVEL_INFO, "xmpp_bounce", "stanza=%s from=%s to=%s condition=%s",
		  xml_element_name(stanza),
		  log_quote(quoted_from, sizeof(quoted_from), from != NULL ? from : ""),
		  log_quote(quoted_to, sizeof(quoted_to), to != NULL ? to : ""), condition);
	/* An error is never answered with an error (RFC 6120 §8.3.1), nor a
	 * stanza whose sender cannot be told. */
	if ((type != NULL && strcmp(type, "error") == 0) || from == NULL || to == NULL ||
	    !jid_domain(from, from_domain) || !jid_domain(to, to_domain)) {
		xml_element_free(stanza);
		return;
	}
	struct xml_element *reply =
		xml_element_new(XMPP_SERVER_NAMESPACE, xml_element_name(stanza));
	struct xml_element *error =
		reply != NULL ? xml_element_add_child(reply, XMPP_SERVER_NAMESPACE, "error") : NULL;
	bool ok = error != NULL && xml_element_set_attribute(reply, NULL, "from", to) == 0 &&
		  xml_element_set_attribute(reply, NULL, "to", from) == 0 &&
		  xml_element_set_attribute(reply, NULL, "type", "error") == 0 &&
		  (id == NULL || xml_element_set_attribute(reply, NULL, "id", id) == 0) &&
		  xml_element_set_attribute(error, NULL, "type", "cancel") == 0 &&
		  xml_element_add_child(error, XMPP_STANZA_ERRORS_NAMESPACE, condition) != NULL;
	xml_element_free(stanza);
	if (!ok) {
		xml_element_free(reply);
		return;
	}
	/* Back where the stanza came from: the sender's own direction. */
	route_deliver(context, reply, to_domain, from_domain);
}

void xmpp_route_stream_ready(struct xmpp_context *context, struct xmpp_stream *stream)
{
	const char *partner, *ours;

	if (xmpp_stream_kind(stream) != XMPP_IN_INTERNAL ||
	    !xmpp_stream_pair(stream, 0, &partner, &ours))
		return;
	if (xmpp_stream_find(context, XMPP_OUT_PUBLIC, ours, partner) == NULL &&
	    xmpp_stream_find(context, XMPP_IN_PUBLIC, ours, partner) == NULL &&
	    xmpp_stream_open(context, XMPP_OUT_PUBLIC, ours, partner) == NULL)
		xmpp_stream_fail(stream, XMPP_STREAM_REMOTE_CONNECTION_FAILED,
				 "partner_unreachable");
}
