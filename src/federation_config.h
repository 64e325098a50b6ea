/* SPDX-License-Identifier: ISC */
/* federation_config: the [federation] section (sxedge.conf(5)), shared by
 * every protocol that federates: whether unknown domains are discovered,
 * which never are, the resolver, and the limits of links to partners. */
#ifndef SXEDGE_FEDERATION_CONFIG_H
#define SXEDGE_FEDERATION_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_module.h"

struct federation_config {
	bool open; /* discover domains not configured as partners by DNS SRV */
	char **blocked; /* domains (and their subdomains) never federated with */
	size_t n_blocked;
	char *dns_server_host; /* resolver address (IP literal); NULL: the system's */
	uint16_t dns_server_port; /* default 53 */
	unsigned queue_max; /* requests waiting per partner while its link is set up, default 64 */
	unsigned connect_timeout_s; /* resolve + connect + handshake to a partner, default 10 */
	unsigned max_connections_per_address; /* inbound federation connections per source address,
						 default 16 */
};

extern const struct config_module federation_config_module;

/* The [federation] section of CONFIG (its defaults when absent). */
const struct federation_config *federation_config(const struct sxedge_config *config);

#endif
