/* SPDX-License-Identifier: ISC */
/* protocols: sxedge's protocol table: the role table, each protocol's
 * entry and its configuration module, and the [metrics] module the worker
 * reads. */
#include "protocols.h"

#include "federation_config.h"
#include "metrics_config.h"
#include "roles.h"
#include "sip_config.h"
#include "sip_protocol.h"
#include "turn_config.h"
#include "turn_protocol.h"
#include "xmpp_config.h"
#include "xmpp_protocol.h"

static const struct config_module *const modules[] = { &federation_config_module,
						       &sip_config_module, &xmpp_config_module,
						       &turn_config_module,
						       &metrics_config_module };
static const struct protocol *const protocols[] = { &sip_protocol, &xmpp_protocol, &turn_protocol };

const struct protocol_table sxedge_protocols = {
	.schema = {
		.roles = roles,
		.n_roles = ROLE_COUNT,
		.modules = modules,
		.n_modules = sizeof(modules) / sizeof(modules[0]),
	},
	.protocols = protocols,
	.n_protocols = sizeof(protocols) / sizeof(protocols[0]),
};
