/* SPDX-License-Identifier: ISC */
/* route_plan: the decisions of the XMPP router (xmpp_router.c) as pure
 * functions, so that each rule is a unit test: which way a stanza goes and
 * over which kinds of stream, which stanzas count against a partner's
 * rate, and what goes back to a sender when a stanza cannot be delivered. */
#ifndef SXEDGE_XMPP_ROUTE_PLAN_H
#define SXEDGE_XMPP_ROUTE_PLAN_H

#include <stdbool.h>

#include "xml_tree.h"
#include "xmpp_stream.h"

enum xmpp_direction {
	XMPP_INWARD, /* to one of our domains: the internal server */
	XMPP_OUTWARD, /* to a partner */
};

const char *xmpp_direction_name(enum xmpp_direction direction);

struct xmpp_route_plan {
	bool deliver; /* false: back to the sender with CONDITION */
	const char *condition;
	enum xmpp_direction direction;
	/* Tried in this order: the peer's own bidirectional stream (which
	 * saves the edge a connection), then a stream the edge opens. */
	enum xmpp_stream_kind accepted, opened;
};

/* A stanza to a domain that is one of ours (TO_OURS) or, if not, one
 * federation allows (TO_FEDERATED) or not. */
struct xmpp_route_plan xmpp_route_plan(bool to_ours, bool to_federated);

/* Does a stanza that arrived on a stream of KIND come from a partner (and
 * so count against its [xmpp] stanza_rate)? */
bool xmpp_route_from_partner(enum xmpp_stream_kind kind);

/* The stanza error (RFC 6120 §8.3) that answers STANZA with CONDITION (an
 * RFC 6120 §8.3.3 name), from its to to its from, with its id; NULL when
 * STANZA is an error itself (never answered, §8.3.1), lacks a from or a
 * to, or memory runs out. */
struct xml_element *xmpp_stanza_error(const struct xml_element *stanza, const char *condition);

#endif
