/* SPDX-License-Identifier: ISC */
/* sip_config: the SIP module's sections of the configuration, [pool] and
 * [partner DOMAIN] (sxedge.conf(5)), their checks, and where SIP code finds
 * them in a snapshot (sip_config()).  [federation] is shared by every
 * protocol that federates (federation_config.h). */
#ifndef SXEDGE_SIP_CONFIG_H
#define SXEDGE_SIP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_module.h"

struct pool_config {
	char **fqdns; /* names accepted in pool certificates (internal listener and outbound) */
	size_t n_fqdns;
	char *relay_host; /* address the edge relays to */
	uint16_t relay_port;
	unsigned connections; /* persistent connections to keep open, default 1 */
	unsigned reconnect_min_s; /* back-off after a failed connect, default 1 */
	unsigned reconnect_max_s; /* back-off cap, default 30 */
};

enum partner_type {
	PARTNER_FEDERATED, /* another organisation's edge */
	PARTNER_PROVIDER, /* a public IM provider */
};

/* A [partner DOMAIN] section: a domain we federate with. */
struct partner_config {
	char *domain; /* lower case, from the section name */
	int line; /* line of the section header */
	enum partner_type type;
	char **edges; /* FQDNs of its edge(s): names its certificate must carry and, */
	size_t n_edges; /* unless address is set, where we connect (port 5061); none: SRV */
	char *address_host; /* optional: connect here (IP literal) instead of resolving */
	uint16_t address_port; /* default 5061 */
	bool fingerprint_set;
	unsigned char fingerprint[32]; /* SHA-256 of its edge certificate (DER), when pinned */
	unsigned rate; /* requests per second accepted from it; 0: unlimited */
	unsigned burst; /* bucket size; default: rate */
};

struct sip_config {
	struct pool_config pool;
	struct partner_config *partners;
	size_t n_partners;
};

extern const struct config_module sip_config_module;

/* The SIP sections of CONFIG, whose schema has sip_config_module. */
const struct sip_config *sip_config(const struct sxedge_config *config);

/* The [partner] section for DOMAIN, or NULL. */
const struct partner_config *sip_config_partner(const struct sip_config *sip, const char *domain);

#endif
