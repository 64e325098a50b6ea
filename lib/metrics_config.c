/* SPDX-License-Identifier: ISC */
/* metrics_config: [metrics] as rows for the configuration engine
 * (config_module.h), and the checks that keep the scrape endpoint off the
 * internet side and off the listeners' sockets. */
#include "metrics_config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

#define METRICS(field) offsetof(struct metrics_config, field)

/* Each row reads
 *	{ key, parser, field,
 *	  second field, default, min, max, required, keyword names }, */
/* clang-format off */
static const struct config_option metrics_options[] = {
	{ "address", config_parse_ip_address, METRICS(address),
	  0, "127.0.0.1", 0, 0, false, NULL }, /* loopback unless allow_remote; no wildcard */
	{ "port", config_parse_u16, METRICS(port),
	  0, NULL, 1, 65535, true, NULL },
	{ "allow_remote", config_parse_bool, METRICS(allow_remote),
	  0, "no", 0, 0, false, NULL },
};
/* clang-format on */

static const struct config_section metrics_sections[] = {
	{ .name = "metrics",
	  .options = metrics_options,
	  .n_options = sizeof(metrics_options) / sizeof(metrics_options[0]),
	  .offset = 0 },
};

/* Would a stream LISTENER and the endpoint at ADDRESS:PORT want one socket?
 * A wildcard listener of the same family and port takes the port on every
 * address. */
static bool shares_socket(const struct listener_config *listener,
			  const struct sockaddr_storage *address, uint16_t port)
{
	struct sockaddr_storage other;

	/* A listener whose address was refused has none to clash with. */
	if (listener->port != port || listener->address == NULL ||
	    address_parse(listener->address, port, &other) == 0 ||
	    other.ss_family != address->ss_family)
		return false;
	if (address_is_unspecified(&other))
		return true;
	if (other.ss_family == AF_INET)
		return ((struct sockaddr_in *)&other)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)address)->sin_addr.s_addr;
	return memcmp(&((struct sockaddr_in6 *)&other)->sin6_addr,
		      &((const struct sockaddr_in6 *)address)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

static void check_clashes(struct config_loader *loader, const struct metrics_config *metrics,
			  const struct sockaddr_storage *address, int line)
{
	const struct sxedge_config *config = config_loading(loader);

	if (!config_roles_known(loader))
		return;
	for (size_t i = 0; i < config->n_listeners; i++) {
		const struct listener_config *listener = &config->listeners[i];
		if (config_listener_role(config, listener)->transport == CONFIG_TRANSPORT_UDP ||
		    !shares_socket(listener, address, metrics->port))
			continue;
		config_report(loader, line,
			      "metrics on %s port %u clashes with listener \"%s\" on %s (line %d)",
			      metrics->address, metrics->port, listener->name, listener->address,
			      listener->line);
	}
}

static void metrics_config_check(struct config_loader *loader, void *data)
{
	struct metrics_config *metrics = data;
	const struct config_seen *seen = config_seen(loader, &metrics_sections[0], 0);
	struct sockaddr_storage address;

	metrics->line = config_seen_line(seen);
	if (metrics->line == 0)
		return;
	config_apply_defaults(loader, seen, metrics);
	config_check_required(loader, seen, "metrics");
	int address_line = config_key_line(seen, "address");
	if (address_line == 0)
		address_line = metrics->line; /* the default, or a bad value reported already */
	if (!config_key_valid(seen, "port") || metrics->address == NULL ||
	    address_parse(metrics->address, metrics->port, &address) == 0)
		return;
	if (address_is_unspecified(&address)) {
		config_report(loader, address_line,
			      "metrics address %s is a wildcard: the page would also be served on "
			      "the internet side; name one address (a loopback one, or a "
			      "management network's with allow_remote = yes)",
			      metrics->address);
		return;
	}
	if (!address_is_loopback(&address) && !metrics->allow_remote) {
		config_report(loader, address_line,
			      "metrics address %s is not a loopback address: the page tells who "
			      "the edge serves; set allow_remote = yes if %s is a management "
			      "network's",
			      metrics->address, metrics->address);
		return;
	}
	check_clashes(loader, metrics, &address, metrics->line);
}

static void metrics_config_free(void *data)
{
	struct metrics_config *metrics = data;
	free(metrics->address);
}

const struct config_module metrics_config_module = {
	.name = "metrics",
	.data_size = sizeof(struct metrics_config),
	.sections = metrics_sections,
	.n_sections = sizeof(metrics_sections) / sizeof(metrics_sections[0]),
	.check = metrics_config_check,
	.free = metrics_config_free,
};

const struct metrics_config *metrics_config(const struct sxedge_config *config)
{
	const struct metrics_config *metrics = config_module_data(config, &metrics_config_module);
	return metrics != NULL && metrics->line != 0 ? metrics : NULL;
}
