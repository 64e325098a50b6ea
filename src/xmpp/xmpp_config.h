/* SPDX-License-Identifier: ISC */
/* xmpp_config: the XMPP module's section of the configuration, [xmpp]
 * (sxedge.conf(5)), its checks, and where XMPP code finds it in a snapshot
 * (xmpp_config()).  Open federation and the block list are [federation]'s
 * (federation_config.h), shared with SIP. */
#ifndef SXEDGE_XMPP_CONFIG_H
#define SXEDGE_XMPP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_module.h"

struct xmpp_config {
	int line; /* of [xmpp]; 0: absent */
	char **partners; /* XMPP domains federated with when federation is closed */
	size_t n_partners;
	size_t max_stanza; /* bytes of one stanza, default 256 KiB */
	unsigned negotiation_timeout_s; /* to finish STARTTLS and authentication, default 30 */
	unsigned char dialback_secret[32];
	bool dialback_secret_set; /* false: a random one is made at start */
	char *link_ca_certificate; /* the CA the internal server trusts for partner names */
	char *link_ca_key;
	unsigned link_validity_s; /* of each minted certificate, default 1 day */
	char *internal_server_host; /* the internal server's s2s direct-TLS address, or NULL */
	uint16_t internal_server_port;
	bool bidi; /* offer XEP-0288 bidirectional streams, default yes */
	unsigned keepalive_s; /* a space on every ready stream this often; 0: never, default 60 */
	unsigned stanza_rate; /* stanzas per second taken from one partner domain; 0: unlimited */
	unsigned stanza_burst; /* its bucket; 0: stanza_rate */
};

extern const struct config_module xmpp_config_module;

/* The [xmpp] section of CONFIG, whose schema has xmpp_config_module. */
const struct xmpp_config *xmpp_config(const struct sxedge_config *config);

/* Is DOMAIN (lower case, no trailing dot) one of [xmpp] partners? */
bool xmpp_config_is_partner(const struct xmpp_config *xmpp, const char *domain);

#endif
