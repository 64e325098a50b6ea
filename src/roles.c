/* SPDX-License-Identifier: ISC */
/* roles: the rows of the role table. */
#include "roles.h"

_Static_assert(ROLE_COUNT <= CONFIG_ROLES_MAX, "a configuration holds CONFIG_ROLES_MAX roles");

/* Indexed by enum listener_role, so no row can fall out of step with it. */
const struct config_role roles[ROLE_COUNT] = {
	[ROLE_ACCESS] = {
		.name = "access",
		.protocol = "sip",
		.transport = CONFIG_TRANSPORT_TLS,
		.tls = CONFIG_TLS_SERVER_AUTH, /* the pool authenticates the user */
		.required = true,
		.unique = false,
		.reserved_connections = 0, /* what the others leave */
	},
	[ROLE_INTERNAL] = {
		.name = "internal",
		.protocol = "sip",
		.transport = CONFIG_TRANSPORT_TLS,
		.tls = CONFIG_TLS_MUTUAL,
		.required = true,
		.unique = true,
		.reserved_connections = 100,
		.peer_identity = "the pool is known by its certificate",
	},
	[ROLE_FEDERATION] = {
		.name = "federation",
		.protocol = "sip",
		.transport = CONFIG_TRANSPORT_TLS,
		.tls = CONFIG_TLS_MUTUAL,
		.required = false,
		.unique = true,
		.federates = true,
		.reserved_connections = 1000,
		.peer_identity = "partner edges are known by their certificates",
	},
	[ROLE_XMPP_FEDERATION] = {
		.name = "xmpp_federation",
		.protocol = "xmpp",
		.transport = CONFIG_TRANSPORT_TCP, /* STARTTLS, RFC 6120 §5 */
		/* A partner's certificate proves its domain (SASL EXTERNAL);
		 * one without a good certificate may still use dialback. */
		.tls = CONFIG_TLS_CLIENT_OPTIONAL,
		.required = false,
		.unique = true,
		.federates = true,
		.reserved_connections = 1000,
	},
	[ROLE_XMPP_INTERNAL] = {
		.name = "xmpp_internal",
		.protocol = "xmpp",
		.transport = CONFIG_TRANSPORT_TLS, /* direct TLS, XEP-0368 */
		.tls = CONFIG_TLS_MUTUAL,
		.required = false,
		.unique = true,
		.reserved_connections = 100,
		.peer_identity = "the internal XMPP server is known by its certificate",
	},
	[ROLE_TURN] = {
		.name = "turn",
		.protocol = "turn",
		.transport = CONFIG_TRANSPORT_UDP,
		.tls = CONFIG_TLS_NONE,
		.required = false,
		.unique = false,
		/* its "connections" are the allocations made over UDP */
		.reserved_connections = 1000,
	},
	[ROLE_TURN_TCP] = {
		.name = "turn_tcp",
		.protocol = "turn",
		.transport = CONFIG_TRANSPORT_TCP, /* plain: TURN over TLS is not offered */
		.tls = CONFIG_TLS_NONE,
		.required = false,
		.unique = false,
		.reserved_connections = 1000,
	},
};

const char *role_name(enum listener_role role)
{
	return (unsigned)role < ROLE_COUNT ? roles[role].name : "unknown";
}
