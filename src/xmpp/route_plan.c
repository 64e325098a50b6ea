/* SPDX-License-Identifier: ISC */
/* route_plan: see route_plan.h. */
#include "route_plan.h"

#include <string.h>

#include "namespaces.h"

const char *xmpp_direction_name(enum xmpp_direction direction)
{
	return direction == XMPP_INWARD ? "inward" : "outward";
}

struct xmpp_route_plan xmpp_route_plan(bool to_ours, bool to_federated)
{
	if (to_ours)
		return (struct xmpp_route_plan){ .deliver = true,
						 .direction = XMPP_INWARD,
						 .accepted = XMPP_IN_INTERNAL,
						 .opened = XMPP_OUT_INTERNAL };
	if (!to_federated)
		return (struct xmpp_route_plan){ .deliver = false,
						 .condition = "not-allowed",
						 .direction = XMPP_OUTWARD };
	return (struct xmpp_route_plan){ .deliver = true,
					 .direction = XMPP_OUTWARD,
					 .accepted = XMPP_IN_PUBLIC,
					 .opened = XMPP_OUT_PUBLIC };
}

bool xmpp_route_from_partner(enum xmpp_stream_kind kind)
{
	return kind == XMPP_IN_PUBLIC || kind == XMPP_OUT_PUBLIC;
}

struct xml_element *xmpp_stanza_error(const struct xml_element *stanza, const char *condition)
{
	const char *type = xml_element_attribute(stanza, NULL, "type");
	const char *from = xml_element_attribute(stanza, NULL, "from");
	const char *to = xml_element_attribute(stanza, NULL, "to");
	const char *id = xml_element_attribute(stanza, NULL, "id");

	if ((type != NULL && strcmp(type, "error") == 0) || from == NULL || to == NULL)
		return NULL;
	struct xml_element *reply =
		xml_element_new(XMPP_SERVER_NAMESPACE, xml_element_name(stanza));
	struct xml_element *error =
		reply != NULL ? xml_element_add_child(reply, XMPP_SERVER_NAMESPACE, "error") : NULL;
	if (error == NULL || xml_element_set_attribute(reply, NULL, "from", to) != 0 ||
	    xml_element_set_attribute(reply, NULL, "to", from) != 0 ||
	    xml_element_set_attribute(reply, NULL, "type", "error") != 0 ||
	    (id != NULL && xml_element_set_attribute(reply, NULL, "id", id) != 0) ||
	    xml_element_set_attribute(error, NULL, "type", "cancel") != 0 ||
	    xml_element_add_child(error, XMPP_STANZA_ERRORS_NAMESPACE, condition) == NULL) {
		xml_element_free(reply);
		return NULL;
	}
	return reply;
}
