/* SPDX-License-Identifier: ISC */
/* config: the sxedge configuration file (INI, parsed with libinih).
 *
 * config_load() reads and validates a whole file and reports every problem
 * as "FILE:LINE: message" (LINE 0 for what is missing from the file as a
 * whole), so an operator can fix them all in one go.  A configuration either
 * loads completely or not at all; nothing half-valid is ever returned. */
#ifndef SXEDGE_CONFIG_H
#define SXEDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "log.h"

enum listener_role {
	ROLE_ACCESS, /* remote users' SIP clients, server-auth TLS */
	ROLE_INTERNAL, /* the front-end pool, mutual TLS */
	ROLE_FEDERATION, /* partner edges and public IM providers, mutual TLS both ways */
};
#define SIP_ROLE_COUNT 3 /* roles that carry SIP, which index per-side tables */

enum client_cert_mode {
	CLIENT_CERT_NONE,
	CLIENT_CERT_OPTIONAL,
	CLIENT_CERT_REQUIRED,
};

struct listener_config {
	char *name; /* section name after "listener ", e.g. "access" */
	int line; /* line of the section header */
	enum listener_role role;
	char *address; /* bind address, IPv4 or IPv6 literal */
	uint16_t port;
	char *advertise_host; /* host put in Via/Record-Route/Path; default: address */
	uint16_t advertise_port; /* default: port */
	char *certificate; /* PEM chain, leaf first */
	char *key;
	char *ca_file; /* CAs trusted for client certificates (and for the pool) */
	enum client_cert_mode client_cert; /* default: none for access, required for internal */
	bool require_sni; /* refuse handshakes without SNI; default no */
};

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

/* The [federation] section. */
struct federation_config {
	bool open; /* discover domains without a [partner] section by DNS SRV */
	char **blocked; /* domains (and their subdomains) never federated with */
	size_t n_blocked;
	char *dns_server_host; /* resolver address (IP literal); NULL: the system's */
	uint16_t dns_server_port; /* default 53 */
	unsigned queue_max; /* requests waiting per partner while its link is set up, default 64 */
	unsigned connect_timeout_s; /* resolve + connect + handshake to a partner, default 10 */
	unsigned max_connections_per_address; /* inbound federation connections per source address,
						 default 16 */
};

struct limits_config {
	size_t sip_max_message; /* bytes, default 65536 */
	unsigned sip_max_headers; /* header lines per message, default 256 */
	size_t sip_max_line; /* bytes per header line, default 8192 */
	unsigned handshake_timeout_s; /* default 10 */
	unsigned idle_timeout_s; /* default 300 */
	unsigned message_timeout_s; /* a started message must complete in this, default 10 */
	size_t output_max; /* bytes queued towards one peer, default 1 MiB */
	unsigned drain_timeout_s; /* SIGTERM grace period, default 10 */
	unsigned max_connections; /* accepted connections in all, default 10000 */
	/* Each role's own share of max_connections, so that no role can take
	 * the room of another (see check_connection_budgets in config.c). */
	unsigned max_connections_access; /* default: what the other roles leave */
	unsigned max_connections_internal; /* default 100, at most a tenth of max_connections */
	unsigned max_connections_federation; /* default 1000, at most a tenth of max_connections;
						used only with a federation listener */
	unsigned max_connections_per_address_access; /* per source address, default 256 */
	unsigned first_request_timeout_s; /* accept to first valid request, default 10 */
	size_t output_total_max; /* bytes queued towards all peers together, default 64 MiB */
};

/* [global] user, group and allow_root: who the daemon serves as once its
 * ports are bound and its keys read (see src/run_as.h). */
struct run_as_config {
	char *user; /* NULL: stay who started the daemon */
	uid_t uid;
	gid_t user_gid; /* the user's primary group */
	char *group; /* NULL: the user's primary group */
	gid_t gid; /* dropped to: the group's, else user_gid */
	bool allow_root; /* may go on as root without user, default no */
	int line; /* the [global] header: where a refusal to run as root points */
};

struct sxedge_config {
	char *path;
	enum log_level log_level; /* default notice */
	uint16_t node_id; /* this edge node inside an edge pool, default 1 */
	bool flow_secret_set; /* false: a random secret is made at start */
	unsigned char flow_secret[32];
	char **domains; /* our SIP domains, lower case */
	size_t n_domains;
	struct run_as_config run_as;
	struct listener_config *listeners;
	size_t n_listeners;
	struct pool_config pool;
	struct limits_config limits;
	struct federation_config federation;
	struct partner_config *partners;
	size_t n_partners;
};

/* Loads PATH.  On success returns the configuration; on failure writes one
 * "PATH:LINE: message" line per problem to ERRORS and returns NULL. */
struct sxedge_config *config_load(const char *path, FILE *errors);
void config_free(struct sxedge_config *config);

/* The first listener with ROLE, or NULL. */
const struct listener_config *config_listener(const struct sxedge_config *config,
					      enum listener_role role);
/* Domains compare case-insensitively, a trailing dot ignored. */
bool config_is_our_domain(const struct sxedge_config *config, const char *domain);
/* The [partner] section for DOMAIN, or NULL. */
const struct partner_config *config_partner(const struct sxedge_config *config, const char *domain);
const char *config_role_name(enum listener_role role);

#endif
