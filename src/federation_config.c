/* SPDX-License-Identifier: ISC */
/* federation_config: [federation] as rows for the configuration engine
 * (config_module.h), and its checks: none of our own domains blocked, and
 * open federation only with a listener that federates. */
#include "federation_config.h"

#include <stdlib.h>

#include "config_values.h"

#define DNS_PORT 53

#define FEDERATION(field) offsetof(struct federation_config, field)

/* Each row reads
 *	{ key, parser, field,
 *	  second field, default, min, max, required, keyword names }, */
/* clang-format off */
static const struct config_option federation_options[] = {
	{ "open", config_parse_bool, FEDERATION(open),
	  0, "no", 0, 0, false, NULL }, /* yes: needs a federation listener */
	{ "blocked", config_parse_name_list, FEDERATION(blocked),
	  FEDERATION(n_blocked), NULL, 0, 0, false, NULL }, /* none of ours */
	{ "dns_server", config_parse_ip_optional_port, FEDERATION(dns_server_host),
	  FEDERATION(dns_server_port), NULL, 0, 0, false, NULL }, /* absent: the system's; 53 */
	{ "queue_max", config_parse_unsigned, FEDERATION(queue_max),
	  0, "64", 1, 10000, false, NULL },
	{ "connect_timeout", config_parse_unsigned, FEDERATION(connect_timeout_s),
	  0, "10", 1, 300, false, NULL },
	{ "max_connections_per_address", config_parse_unsigned,
	  FEDERATION(max_connections_per_address), 0, "16", 1, 10000, false, NULL },
};
/* clang-format on */

static const struct config_section federation_sections[] = {
	{ .name = "federation",
	  .options = federation_options,
	  .n_options = sizeof(federation_options) / sizeof(federation_options[0]),
	  .offset = 0 },
};

/* Is there a listener whose role federates (or one of unknown role, which
 * may be meant as one)? */
static bool has_federating_listener(struct config_loader *loader)
{
	const struct sxedge_config *config = config_loading(loader);

	if (!config_roles_known(loader))
		return true;
	for (size_t i = 0; i < config->n_listeners; i++) {
		if (config_listener_role(config, &config->listeners[i])->federates)
			return true;
	}
	return false;
}

static void federation_config_check(struct config_loader *loader, void *data)
{
	const struct sxedge_config *config = config_loading(loader);
	struct federation_config *federation = data;
	const struct config_seen *seen = config_seen(loader, &federation_sections[0], 0);

	config_apply_defaults(loader, seen, federation);
	if (federation->dns_server_port == 0)
		federation->dns_server_port = DNS_PORT;

	/* Our own domains are never blocked: saying so is a mistake. */
	for (size_t i = 0; i < federation->n_blocked; i++) {
		if (!config_is_our_domain(config, federation->blocked[i]))
			continue;
		int line = config_list_entry_line(loader, seen, "blocked", i);
		config_report(loader, line != 0 ? line : config_seen_line(seen),
			      "blocked domain %s is one of our own domains (see domains in "
			      "[global])",
			      federation->blocked[i]);
	}
	int open_line = config_key_line(seen, "open");
	if (open_line != 0 && federation->open && !has_federating_listener(loader))
		config_report(loader, open_line,
			      "open = yes needs a federation listener (a [listener NAME] with "
			      "role = federation)");
}

static void federation_config_free(void *data)
{
	struct federation_config *federation = data;

	config_free_strings(federation->blocked, federation->n_blocked);
	free(federation->dns_server_host);
}

const struct config_module federation_config_module = {
	.name = "federation",
	.data_size = sizeof(struct federation_config),
	.sections = federation_sections,
	.n_sections = sizeof(federation_sections) / sizeof(federation_sections[0]),
	.check = federation_config_check,
	.free = federation_config_free,
};

const struct federation_config *federation_config(const struct sxedge_config *config)
{
	return config_module_data(config, &federation_config_module);
}
