/* SPDX-License-Identifier: ISC */
/* roles: the role table, one row per role a listener may have (config.h's
 * struct config_role): its name, the protocol that serves it, its
 * transport and TLS mode, whether it is required.  Per-role counts, budgets
 * and listener checks all derive from the rows; a new role is one constant
 * here and one row in roles.c. */
#ifndef SXEDGE_ROLES_H
#define SXEDGE_ROLES_H

#include "config.h"

enum listener_role {
	ROLE_ACCESS, /* remote users' SIP clients, server-auth TLS */
	ROLE_INTERNAL, /* the front-end pool, mutual TLS */
	ROLE_FEDERATION, /* partner edges and public IM providers, mutual TLS both ways */
	ROLE_XMPP_FEDERATION, /* federated XMPP servers: STARTTLS, then SASL EXTERNAL or dialback */
	ROLE_XMPP_INTERNAL, /* the internal XMPP server's s2s, mutual TLS from the first byte */
	ROLE_TURN, /* STUN and TURN clients over UDP (RFC 8489, RFC 8656) */
	ROLE_TURN_TCP, /* the same over TCP, and RFC 6062 control and data connections */
};
/* The last role plus one: a row for a role past it does not compile. */
#define ROLE_COUNT (ROLE_TURN_TCP + 1)

extern const struct config_role roles[ROLE_COUNT];

/* The role's name, as in "role = NAME" and in log lines. */
const char *role_name(enum listener_role role);

#endif
