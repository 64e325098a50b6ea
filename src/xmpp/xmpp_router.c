/* SPDX-License-Identifier: ISC */
/* xmpp_router: see xmpp_router.h. */
#include "xmpp_router.h"

#include <string.h>

#include "jid.h"
#include "log.h"
#include "route_plan.h"
#include "xmpp_stream.h"

static void route_count(struct xmpp_context *context, enum xmpp_direction direction,
			const struct xml_element *stanza)
{
	const char *const values[] = { xmpp_direction_name(direction), xml_element_name(stanza),
				       NULL };
	metric_counter_add(metric_counter(context->metrics.stanzas, values), 1);
}

/* The stream PLAN says, for stanzas from domain FROM to domain TO: a ready
 * or waiting one, else a new one; NULL when there can be none. */
static struct xmpp_stream *route_stream(struct xmpp_context *context,
					const struct xmpp_route_plan *plan, const char *from,
					const char *to)
{
	struct xmpp_stream *stream = xmpp_stream_find(context, plan->accepted, from, to);

	if (stream == NULL)
		stream = xmpp_stream_find(context, plan->opened, from, to);
	if (stream == NULL)
		stream = xmpp_stream_open(context, plan->opened, from, to);
	return stream;
}

/* Sends STANZA (taken over) from domain FROM to domain TO. */
static void route_deliver(struct xmpp_context *context, struct xml_element *stanza,
			  const char *from, const char *to)
{
	bool ours = xmpp_context_is_ours(context, to);
	struct xmpp_route_plan plan =
		xmpp_route_plan(ours, !ours && xmpp_context_partner_allowed(context, to));

	if (!plan.deliver) {
		xmpp_route_bounce(context, stanza, plan.condition);
		return;
	}
	struct xmpp_stream *stream = route_stream(context, &plan, from, to);
	if (stream == NULL) {
		xmpp_route_bounce(context, stanza, "remote-server-not-found");
		return;
	}
	route_count(context, plan.direction, stanza);
	if (!xmpp_stream_send(stream, stanza))
		xmpp_route_bounce(context, stanza, "resource-constraint");
}

void xmpp_route(struct xmpp_context *context, struct xmpp_stream *from_stream,
		struct xml_element *stanza)
{
	char from[JID_DOMAIN_MAX + 1], to[JID_DOMAIN_MAX + 1];

	/* Its machine checked the pair already. */
	if (!jid_domain(xml_element_attribute(stanza, NULL, "from"), from) ||
	    !jid_domain(xml_element_attribute(stanza, NULL, "to"), to)) {
		xml_element_free(stanza);
		return;
	}
	if (xmpp_route_from_partner(xmpp_stream_kind(from_stream)) &&
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
	const char *from = xml_element_attribute(stanza, NULL, "from");
	const char *to = xml_element_attribute(stanza, NULL, "to");
	char from_domain[JID_DOMAIN_MAX + 1], to_domain[JID_DOMAIN_MAX + 1];
	char quoted_from[300], quoted_to[300];

	log_event(LOG_LEVEL_INFO, "xmpp_bounce", "stanza=%s from=%s to=%s condition=%s",
		  xml_element_name(stanza),
		  log_quote(quoted_from, sizeof(quoted_from), from != NULL ? from : ""),
		  log_quote(quoted_to, sizeof(quoted_to), to != NULL ? to : ""), condition);
	struct xml_element *reply = from != NULL && to != NULL && jid_domain(from, from_domain) &&
						    jid_domain(to, to_domain)
					    ? xmpp_stanza_error(stanza, condition)
					    : NULL;
	xml_element_free(stanza);
	/* Back where the stanza came from: the sender's own direction. */
	if (reply != NULL)
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
