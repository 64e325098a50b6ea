/* SPDX-License-Identifier: ISC */
/* config: the sxedge configuration, as an immutable snapshot.
 *
 * config_load() reads and validates a whole file and reports every problem
 * as "FILE:LINE: message" (LINE 0 for what is missing from the file as a
 * whole), so an operator can fix them all in one go.  A configuration either
 * loads completely or not at all; nothing half-valid is ever returned.
 *
 * What a file may hold is given by a schema: the roles a listener may have
 * (one row each) and the modules whose sections it may hold.  The core's
 * own sections ([global], [limits], [listener NAME]) are always there; each
 * protocol module brings its own (config_module.h).
 *
 * A loaded snapshot never changes.  It is reference-counted: the worker
 * holds one and so does every connection's session, so a reload can give
 * the worker a new snapshot while established connections go on with the
 * one they were accepted under; the last reference frees it. */
#ifndef SXEDGE_CONFIG_H
#define SXEDGE_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "log.h"

#define CONFIG_ROLES_MAX   8 /* rows in a schema's role table */
#define CONFIG_MODULES_MAX 5 /* modules in a schema */

enum config_transport {
	CONFIG_TRANSPORT_TCP,
	CONFIG_TRANSPORT_TLS,
	CONFIG_TRANSPORT_UDP,
};

enum config_tls_mode {
	CONFIG_TLS_NONE, /* no TLS on the listener (tcp, udp) */
	CONFIG_TLS_SERVER_AUTH, /* the edge shows its certificate, asks for none */
	CONFIG_TLS_CLIENT_OPTIONAL, /* and asks for one it does not require */
	CONFIG_TLS_MUTUAL, /* and requires one from the peer */
};

/* One row of the role table: everything that depends on a listener's role
 * and not on its protocol's logic.  Counts, budgets and listener checks all
 * derive from these rows, so a new role is one more row. */
struct config_role {
	const char *name; /* role = NAME; also max_connections_NAME in [limits] */
	const char *protocol; /* the protocol module that serves it (protocol.h) */
	enum config_transport transport;
	enum config_tls_mode tls;
	bool required; /* the file must have a listener of this role */
	bool unique; /* at most one listener of this role */
	bool federates; /* its peers are partners: [federation] applies to it */
	/* Connections reserved for this role out of max_connections by default
	 * (a tenth of max_connections when that is less); 0 for the one role
	 * that gets what the others leave. */
	unsigned reserved_connections;
	/* Mutual TLS: who the peer's certificate names, for the message when
	 * client_certificate is not "required". */
	const char *peer_identity;
};

struct config_module;

struct config_schema {
	const struct config_role *roles;
	size_t n_roles; /* at most CONFIG_ROLES_MAX */
	const struct config_module *const *modules;
	size_t n_modules; /* at most CONFIG_MODULES_MAX */
};

enum client_cert_mode {
	CLIENT_CERT_NONE,
	CLIENT_CERT_OPTIONAL,
	CLIENT_CERT_REQUIRED,
};

struct listener_config {
	char *name; /* section name after "listener ", e.g. "access" */
	int line; /* line of the section header */
	unsigned role; /* index in the schema's role table */
	char *address; /* bind address, IPv4 or IPv6 literal */
	uint16_t port;
	char *advertise_host; /* host put in Via/Record-Route/Path; default: address */
	uint16_t advertise_port; /* default: port */
	char *certificate; /* PEM chain, leaf first (TLS roles) */
	char *key;
	char *ca_file; /* CAs trusted for client certificates (and for the pool) */
	enum client_cert_mode client_cert; /* default: by the role's TLS mode */
	bool require_sni; /* refuse handshakes without SNI; default no */
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
	/* Each role's own share of max_connections (max_connections_ROLE), so
	 * that no role can take the room of another; indexed like the schema's
	 * roles (see config_core.c). */
	unsigned max_connections_role[CONFIG_ROLES_MAX];
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
	atomic_uint references; /* the only field that changes after loading */
	const struct config_schema *schema;
	char *path;
	enum log_level log_level; /* default notice */
	enum log_destination log_to; /* default stderr */
	int syslog_facility; /* <syslog.h>'s code, default LOG_DAEMON */
	char *syslog_socket; /* default LOG_SYSLOG_SOCKET */
	uint16_t node_id; /* this edge node inside an edge pool, default 1 */
	bool flow_secret_set; /* false: a random secret is made at start */
	unsigned char flow_secret[32];
	char **domains; /* our domains, lower case */
	size_t n_domains;
	struct run_as_config run_as;
	struct listener_config *listeners;
	size_t n_listeners;
	struct limits_config limits;
	/* Each module's parsed sections, by its place in schema->modules (see
	 * config_module_data). */
	void *modules[CONFIG_MODULES_MAX];
};

/* Loads PATH as SCHEMA describes (which must outlive the snapshot).  On
 * success returns the snapshot with one reference; on failure writes one
 * "PATH:LINE: message" line per problem to ERRORS and returns NULL. */
const struct sxedge_config *config_load(const char *path, FILE *errors,
					const struct config_schema *schema);

/* Another reference to CONFIG (returned); config_unref gives one back and
 * frees the snapshot with the last.  Both may be called from any thread. */
const struct sxedge_config *config_ref(const struct sxedge_config *config);
void config_unref(const struct sxedge_config *config);

/* The sections MODULE parsed, or NULL when the schema has no MODULE. */
const void *config_module_data(const struct sxedge_config *config,
			       const struct config_module *module);

/* The first listener with ROLE, or NULL. */
const struct listener_config *config_listener(const struct sxedge_config *config, unsigned role);
/* Domains compare case-insensitively, a trailing dot ignored. */
bool config_is_our_domain(const struct sxedge_config *config, const char *domain);
/* The role table row of LISTENER. */
const struct config_role *config_listener_role(const struct sxedge_config *config,
					       const struct listener_config *listener);

#endif
