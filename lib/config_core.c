/* SPDX-License-Identifier: ISC */
/* config_core: [global], [limits] and [listener NAME] (sxedge.conf(5)).
 *
 * Every option is one row of a table below: key, parser, where the value
 * goes, its default and its range.  Adding an option means adding a field
 * to config.h and a row here; the checks that relate several options to
 * each other follow the tables.  What depends on a listener's role comes
 * from the schema's role table, never from a role's name. */
#include "config_core.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_values.h"
#include "privileges.h"

#define LISTENER_NAME_MAX 64

static config_option_parser parse_user, parse_group, parse_role;

#define GLOBAL(field)	offsetof(struct sxedge_config, field)
#define LIMITS(field)	offsetof(struct limits_config, field)
#define LISTENER(field) offsetof(struct listener_config, field)

static const char *const log_destination_names[] = {
	[LOG_TO_STDERR] = "stderr",
	[LOG_TO_SYSLOG] = "syslog",
	NULL,
};

static const char *const client_cert_names[] = {
	[CLIENT_CERT_NONE] = "none",
	[CLIENT_CERT_OPTIONAL] = "optional",
	[CLIENT_CERT_REQUIRED] = "required",
	NULL,
};

/* Each row reads
 *	{ key, parser, field,
 *	  second field, default, min, max, required },
 * A NULL default is either a required key or one whose default depends on
 * other options (finish_listener()); relations between options are checked
 * after the whole file is read. */
/* clang-format off */
static const struct config_option global_options[] = {
	{ "log_level", config_parse_log_level, GLOBAL(log_level),
	  0, "notice", 0, 0, false, NULL },
	{ "log", config_parse_keyword, GLOBAL(log_to),
	  0, "stderr", 0, 0, false, log_destination_names },
	{ "syslog_facility", config_parse_log_facility, GLOBAL(syslog_facility),
	  0, "daemon", 0, 0, false, NULL },
	{ "syslog_socket", config_parse_socket_path, GLOBAL(syslog_socket),
	  0, LOG_SYSLOG_SOCKET, 0, 0, false, NULL },
	{ "node_id", config_parse_u16, GLOBAL(node_id),
	  0, "1", 1, 65535, false, NULL },
	{ "flow_secret", config_parse_secret, GLOBAL(flow_secret),
	  GLOBAL(flow_secret_set), NULL, 0, 0, false, NULL }, /* absent: random */
	{ "domains", config_parse_name_list, GLOBAL(domains),
	  GLOBAL(n_domains), NULL, 0, 0, true, NULL },
	{ "user", parse_user, GLOBAL(run_as),
	  0, NULL, 0, 0, false, NULL }, /* absent: stay who started it */
	{ "group", parse_group, GLOBAL(run_as),
	  0, NULL, 0, 0, false, NULL }, /* needs user; absent: the user's own */
	{ "allow_root", config_parse_bool, GLOBAL(run_as.allow_root),
	  0, "no", 0, 0, false, NULL }, /* not with user */
};

/* max_connections_ROLE, one per role, follow these (limits_options()). */
static const struct config_option limits_options[] = {
	{ "sip_max_message", config_parse_size, LIMITS(sip_max_message),
	  0, "65536", 1024, 16777216, false, NULL },
	{ "sip_max_headers", config_parse_unsigned, LIMITS(sip_max_headers),
	  0, "256", 8, 10000, false, NULL },
	{ "sip_max_line", config_parse_size, LIMITS(sip_max_line),
	  0, "8192", 256, 16777216, false, NULL }, /* <= sip_max_message */
	{ "handshake_timeout", config_parse_unsigned, LIMITS(handshake_timeout_s),
	  0, "10", 1, 300, false, NULL },
	{ "idle_timeout", config_parse_unsigned, LIMITS(idle_timeout_s),
	  0, "300", 0, 86400, false, NULL }, /* 0: none */
	{ "message_timeout", config_parse_unsigned, LIMITS(message_timeout_s),
	  0, "10", 1, 300, false, NULL },
	{ "output_max", config_parse_size, LIMITS(output_max),
	  0, "1048576", 65536, 1073741824, false, NULL },
	{ "drain_timeout", config_parse_unsigned, LIMITS(drain_timeout_s),
	  0, "10", 0, 3600, false, NULL },
	{ "max_connections", config_parse_unsigned, LIMITS(max_connections),
	  0, "10000", 1, 1000000, false, NULL },
	{ "max_connections_per_address_access", config_parse_unsigned,
	  LIMITS(max_connections_per_address_access), 0, "256", 1, 1000000, false, NULL },
	{ "first_request_timeout", config_parse_unsigned, LIMITS(first_request_timeout_s),
	  0, "10", 1, 300, false, NULL },
	{ "output_total_max", config_parse_size, LIMITS(output_total_max),
	  0, "67108864", 65536, 68719476736ULL, false, NULL }, /* >= output_max */
};

static const struct config_option listener_options[] = {
	{ "role", parse_role, LISTENER(role),
	  0, NULL, 0, 0, true, NULL },
	{ "address", config_parse_ip_address, LISTENER(address),
	  0, NULL, 0, 0, true, NULL },
	{ "port", config_parse_u16, LISTENER(port),
	  0, NULL, 1, 65535, true, NULL },
	{ "advertise", config_parse_host_optional_port, LISTENER(advertise_host),
	  LISTENER(advertise_port), NULL, 0, 0, false, NULL }, /* address:port */
	{ "certificate", config_parse_readable_file, LISTENER(certificate),
	  0, NULL, 0, 0, false, NULL }, /* required with TLS */
	{ "key", config_parse_readable_file, LISTENER(key),
	  0, NULL, 0, 0, false, NULL }, /* required with TLS */
	{ "ca_file", config_parse_readable_file, LISTENER(ca_file),
	  0, NULL, 0, 0, false, NULL }, /* needed by client_certificate */
	{ "client_certificate", config_parse_keyword, LISTENER(client_cert),
	  0, NULL, 0, 0, false, client_cert_names }, /* by the role's TLS mode */
	{ "require_sni", config_parse_bool, LISTENER(require_sni),
	  0, "no", 0, 0, false, NULL },
};
/* clang-format on */

#define BUDGET_PREFIX "max_connections_"

/* The [limits] rows and one max_connections_ROLE row per role, in one
 * block with the keys after the rows. */
static struct config_option *limits_schema_options(const struct config_schema *schema, size_t *n)
{
	size_t n_fixed = sizeof(limits_options) / sizeof(limits_options[0]);
	size_t key_size = sizeof(BUDGET_PREFIX) + 64;
	struct config_option *rows =
		malloc((n_fixed + schema->n_roles) * (sizeof(*rows) + key_size));

	if (rows == NULL)
		return NULL;
	char *keys = (char *)(rows + n_fixed + schema->n_roles);
	memcpy(rows, limits_options, sizeof(limits_options));
	for (size_t i = 0; i < schema->n_roles; i++) {
		char *key = keys + i * key_size;
		snprintf(key, key_size, BUDGET_PREFIX "%s", schema->roles[i].name);
		rows[n_fixed + i] = (struct config_option){
			.key = key,
			.parse = config_parse_unsigned,
			.offset = LIMITS(max_connections_role) + i * sizeof(unsigned),
			.min = 1,
			.max = 1000000,
		};
	}
	*n = n_fixed + schema->n_roles;
	return rows;
}

static void *listener_begin(struct config_loader *loader, void *data, char *name);

static const struct config_section core_sections[] = {
	{ .name = "global",
	  .options = global_options,
	  .n_options = sizeof(global_options) / sizeof(global_options[0]),
	  .offset = 0 },
	{ .name = "limits",
	  .schema_options = limits_schema_options,
	  .offset = offsetof(struct sxedge_config, limits) },
	{ .name = "listener",
	  .argument = "NAME",
	  .argument_missing = "a listener section needs a name, e.g. [listener access]",
	  .options = listener_options,
	  .n_options = sizeof(listener_options) / sizeof(listener_options[0]),
	  .begin = listener_begin },
};

#define SECTION_GLOBAL	 (&core_sections[0])
#define SECTION_LIMITS	 (&core_sections[1])
#define SECTION_LISTENER (&core_sections[2])

/* ---- Parsers of the core's own values ---- */

static int parse_role(struct config_loader *loader, const struct config_option *option,
		      const char *value, void *base)
{
	const struct config_schema *schema = config_loading(loader)->schema;
	const char *names[CONFIG_ROLES_MAX + 1];
	struct config_option row = *option;

	for (size_t i = 0; i < schema->n_roles; i++)
		names[i] = schema->roles[i].name;
	names[schema->n_roles] = NULL;
	row.names = names;
	return config_parse_keyword(loader, &row, value, base);
}

/* A user name from the user database, looked up now so that a typo is an
 * error at its line (and `sxedge -t` finds it), never at the drop. */
static int parse_user(struct config_loader *loader, const struct config_option *option,
		      const char *value, void *base)
{
	struct run_as_config *run_as = (struct run_as_config *)((char *)base + option->offset);
	char quoted[CONFIG_QUOTE_SIZE], err[128];
	int line = config_current_line(loader);
	uid_t uid;
	gid_t gid;

	if (privileges_find_user(value, &uid, &gid, err, sizeof(err)) < 0) {
		config_report(loader, line, "unknown user %s: %s", config_quote(quoted, value),
			      err);
		return -1;
	}
	if (uid == 0) {
		config_report(loader, line,
			      "user %s has uid 0: that is root (to run as root, leave user out "
			      "and set allow_root = yes)",
			      config_quote(quoted, value));
		return -1;
	}
	char *copy = config_copy_value(loader, value);
	if (copy == NULL)
		return -1;
	run_as->user = copy;
	run_as->uid = uid;
	run_as->user_gid = gid;
	return 0;
}

static int parse_group(struct config_loader *loader, const struct config_option *option,
		       const char *value, void *base)
{
	struct run_as_config *run_as = (struct run_as_config *)((char *)base + option->offset);
	char quoted[CONFIG_QUOTE_SIZE], err[128];
	int line = config_current_line(loader);
	gid_t gid;

	if (privileges_find_group(value, &gid, err, sizeof(err)) < 0) {
		config_report(loader, line, "unknown group %s: %s", config_quote(quoted, value),
			      err);
		return -1;
	}
	if (gid == 0) {
		config_report(loader, line, "group %s has gid 0: that is root's group",
			      config_quote(quoted, value));
		return -1;
	}
	char *copy = config_copy_value(loader, value);
	if (copy == NULL)
		return -1;
	run_as->group = copy;
	run_as->gid = gid;
	return 0;
}

/* ---- [listener NAME] ---- */

static bool is_listener_name(const char *name)
{
	size_t length = strlen(name);

	if (length == 0 || length > LISTENER_NAME_MAX)
		return false;
	for (; *name != '\0'; name++) {
		if (!config_is_label_char(*name) && *name != '_' && *name != '.')
			return false;
	}
	return true;
}

static void *listener_begin(struct config_loader *loader, void *data, char *name)
{
	struct sxedge_config *config = data;
	char quoted[CONFIG_QUOTE_SIZE];
	int line = config_current_line(loader);

	if (!is_listener_name(name)) {
		config_report(loader, line,
			      "bad listener name %s: expected 1 to %d letters, digits, '-', '_' "
			      "or '.'",
			      config_quote(quoted, name), LISTENER_NAME_MAX);
		return NULL;
	}
	for (size_t i = 0; i < config->n_listeners; i++) {
		if (strcmp(config->listeners[i].name, name) == 0)
			config_report(loader, line,
				      "duplicate listener name \"%s\" (first at line %d)", name,
				      config->listeners[i].line);
	}
	size_t n = config->n_listeners;
	struct listener_config *listeners =
		realloc(config->listeners, (n + 1) * sizeof(*listeners));
	if (listeners != NULL)
		config->listeners = listeners;
	char *copy = strdup(name);
	if (listeners == NULL || copy == NULL) {
		free(copy);
		config_report(loader, line, "out of memory");
		return NULL;
	}
	memset(&listeners[n], 0, sizeof(listeners[n]));
	listeners[n].name = copy;
	listeners[n].line = line;
	config->n_listeners = n + 1;
	return &listeners[n];
}

const struct config_seen *config_listener_seen(const struct config_loader *loader, size_t index)
{
	return config_seen(loader, SECTION_LISTENER, index);
}

/* Role-dependent defaults and rules of one listener. */
static void finish_listener(struct config_loader *loader, struct listener_config *listener,
			    const struct config_seen *seen)
{
	const struct config_role *roles = config_loading(loader)->schema->roles;
	char label[LISTENER_NAME_MAX + 16];
	bool role_known = config_key_valid(seen, "role");
	const struct config_role *role = role_known ? &roles[listener->role] : NULL;
	int line = config_seen_line(seen);

	snprintf(label, sizeof(label), "listener %s", listener->name);
	config_apply_defaults(loader, seen, listener);
	config_check_required(loader, seen, label);
	/* A listener of unknown role is taken for a TLS one: that is what most
	 * are.  A tcp role with a TLS mode upgrades in place (STARTTLS). */
	bool tls = role == NULL || role->transport == CONFIG_TRANSPORT_TLS ||
		   role->tls != CONFIG_TLS_NONE;
	static const char *const tls_keys[] = { "certificate", "key" };
	for (size_t i = 0; tls && i < 2; i++) {
		if (!config_seen_broken(seen) && !config_key_in_file(seen, tls_keys[i]))
			config_report(loader, line, "missing required key %s in [%s]", tls_keys[i],
				      label);
	}

	/* Peers known by their certificates alone must show one. */
	bool mutual = role != NULL && role->tls == CONFIG_TLS_MUTUAL;
	if (!config_key_in_file(seen, "client_certificate")) {
		listener->client_cert = mutual ? CLIENT_CERT_REQUIRED
					: role != NULL && role->tls == CONFIG_TLS_CLIENT_OPTIONAL
						? CLIENT_CERT_OPTIONAL
						: CLIENT_CERT_NONE;
	} else if (mutual && config_key_valid(seen, "client_certificate") &&
		   listener->client_cert != CLIENT_CERT_REQUIRED) {
		config_report(loader, config_key_line(seen, "client_certificate"),
			      "client_certificate must be required on %s %s listener (%s)",
			      strchr("aeiou", role->name[0]) != NULL ? "an" : "a", role->name,
			      role->peer_identity);
	}
	if (listener->client_cert != CLIENT_CERT_NONE && !config_key_in_file(seen, "ca_file"))
		config_report(
			loader, line,
			"missing required key ca_file in [%s] (client certificates are %s)", label,
			listener->client_cert == CLIENT_CERT_REQUIRED ? "required" : "optional");

	if (!config_key_valid(seen, "address"))
		return;
	if (!config_key_in_file(seen, "advertise")) {
		if (config_is_wildcard_address(listener->address)) {
			config_report(loader, line,
				      "missing advertise in [%s]: address %s is a wildcard, so "
				      "peers need a name or address to reach this listener",
				      label, listener->address);
			return;
		}
		listener->advertise_host = strdup(listener->address);
		if (listener->advertise_host == NULL)
			config_report(loader, line, "out of memory");
	}
	if (listener->advertise_port == 0)
		listener->advertise_port = listener->port;
}

/* Whether LISTENER (seen as SEEN) is on a datagram socket. */
static bool listener_is_udp(const struct config_role *roles, const struct listener_config *listener,
			    const struct config_seen *seen)
{
	return config_key_valid(seen, "role") &&
	       roles[listener->role].transport == CONFIG_TRANSPORT_UDP;
}

static bool same_socket(const struct listener_config *a, bool a_udp,
			const struct listener_config *b, bool b_udp)
{
	unsigned char bytes_a[16] = { 0 }, bytes_b[16] = { 0 };
	int family_a = strchr(a->address, ':') != NULL ? AF_INET6 : AF_INET;
	int family_b = strchr(b->address, ':') != NULL ? AF_INET6 : AF_INET;

	/* A datagram socket and a stream socket may share a port. */
	if (a->port != b->port || family_a != family_b || a_udp != b_udp)
		return false;
	/* Binding both a wildcard and a specific address of one port fails too. */
	if (config_is_wildcard_address(a->address) || config_is_wildcard_address(b->address))
		return true;
	inet_pton(family_a, a->address, bytes_a);
	inet_pton(family_b, b->address, bytes_b);
	return memcmp(bytes_a, bytes_b, sizeof(bytes_a)) == 0;
}

static bool listener_socket_known(const struct config_seen *seen)
{
	return config_key_valid(seen, "address") && config_key_valid(seen, "port");
}

/* Every role's listeners counted against its row: at most one of a unique
 * role, at least one of a required role, no two on one socket. */
static void check_listeners(struct config_loader *loader)
{
	const struct sxedge_config *config = config_loading(loader);
	const struct config_role *roles = config->schema->roles;
	size_t count[CONFIG_ROLES_MAX] = { 0 }, n_unknown = 0;
	const struct listener_config *first[CONFIG_ROLES_MAX] = { NULL };

	for (size_t i = 0; i < config->n_listeners; i++) {
		const struct listener_config *listener = &config->listeners[i];
		const struct config_seen *seen = config_seen(loader, SECTION_LISTENER, i);
		if (!config_key_valid(seen, "role")) {
			n_unknown++;
		} else if (count[listener->role]++ == 0) {
			first[listener->role] = listener;
		} else if (roles[listener->role].unique) {
			const struct listener_config *other = first[listener->role];
			config_report(loader, listener->line,
				      "more than one %s listener: \"%s\" was first (line %d)",
				      roles[listener->role].name, other->name, other->line);
		}
		for (size_t j = 0; j < i && listener_socket_known(seen); j++) {
			const struct listener_config *other = &config->listeners[j];
			const struct config_seen *other_seen =
				config_seen(loader, SECTION_LISTENER, j);
			if (listener_socket_known(other_seen) &&
			    same_socket(listener, listener_is_udp(roles, listener, seen), other,
					listener_is_udp(roles, other, other_seen)))
				config_report(loader, listener->line,
					      "listener \"%s\" on %s port %u clashes with listener "
					      "\"%s\" on %s (line %d)",
					      listener->name, listener->address, listener->port,
					      other->name, other->address, other->line);
		}
	}
	if (n_unknown > 0)
		return; /* the missing role was reported; guessing further would mislead */
	config_mark_roles_known(loader);
	for (size_t role = 0; role < config->schema->n_roles; role++) {
		if (roles[role].required && count[role] == 0)
			config_report(loader, 0,
				      "no %s listener: %s [listener NAME] with role = %s is "
				      "required",
				      roles[role].name, roles[role].unique ? "exactly one" : "a",
				      roles[role].name);
	}
}

/* ---- [limits] ---- */

/* A message relayed to the pool carries the headers the edge adds (Via,
 * Record-Route, Path...), and the pool link is shared by every client: an
 * output limit that one large message could pass would tear it down for all
 * of them.  Blamed on output_max if it is written, else on sip_max_message,
 * else the file as a whole (line 0); both values must be valid. */
static void check_output_room(struct config_loader *loader, const struct config_seen *seen)
{
	const struct limits_config *limits = &config_loading(loader)->limits;

	if (!config_key_valid(seen, "output_max") ||
	    limits->output_max >= 2 * limits->sip_max_message)
		return;
	int line = config_key_line(seen, "output_max");
	if (line == 0)
		line = config_key_line(seen, "sip_max_message");
	config_report(loader, line,
		      "output_max (%zu) is less than twice sip_max_message (%zu): a relayed "
		      "message grows by the headers the edge adds",
		      limits->output_max, limits->sip_max_message);
}

/* The total must hold one connection's queue, or a single slow reader
 * would be shed before it reached its own output_max. */
static void check_output_total(struct config_loader *loader, const struct config_seen *seen)
{
	const struct limits_config *limits = &config_loading(loader)->limits;

	if (!config_key_valid(seen, "output_max") || !config_key_valid(seen, "output_total_max") ||
	    limits->output_total_max >= limits->output_max)
		return;
	config_report(loader, config_conflict_line(seen, "output_total_max", "output_max"),
		      "output_total_max (%zu) is less than output_max (%zu): one connection's "
		      "queue alone could pass it",
		      limits->output_total_max, limits->output_max);
}

static void check_limits(struct config_loader *loader, const struct config_seen *seen)
{
	const struct limits_config *limits = &config_loading(loader)->limits;

	if (!config_key_valid(seen, "sip_max_message"))
		return;
	if (config_key_valid(seen, "sip_max_line") &&
	    limits->sip_max_line > limits->sip_max_message)
		config_report(loader, config_conflict_line(seen, "sip_max_line", "sip_max_message"),
			      "sip_max_line (%zu) is larger than sip_max_message (%zu)",
			      limits->sip_max_line, limits->sip_max_message);
	check_output_room(loader, seen);
	check_output_total(loader, seen);
}

/* The default of a reserved budget: FIXED, or a tenth of max_connections
 * when that is less, so a small max_connections still leaves most of its
 * room to the role that takes the rest. */
static unsigned reserved_budget(unsigned fixed, unsigned max_connections)
{
	unsigned tenth = max_connections / 10 > 0 ? max_connections / 10 : 1;
	return fixed < tenth ? fixed : tenth;
}

static void budget_key(char *key, size_t size, const struct config_role *role)
{
	snprintf(key, size, BUDGET_PREFIX "%s", role->name);
}

/* The line to blame when the role budgets do not fit: the first of them
 * set in the file, else max_connections, else the section header. */
static int budget_line(const struct config_schema *schema, const struct config_seen *seen)
{
	char key[sizeof(BUDGET_PREFIX) + 64];
	int line = 0;

	for (size_t i = 0; i < schema->n_roles; i++) {
		budget_key(key, sizeof(key), &schema->roles[i]);
		int key_line = config_key_line(seen, key);
		if (key_line != 0 && (line == 0 || key_line < line))
			line = key_line;
	}
	if (line == 0)
		line = config_key_line(seen, "max_connections");
	return line != 0 ? line : config_seen_line(seen);
}

/* max_connections is split among the roles: each role with a reserved
 * budget (required, or with a listener) gets one the others can never take,
 * and the one role without gets the rest unless set. */
static void check_connection_budgets(struct config_loader *loader, const struct config_seen *seen)
{
	struct sxedge_config *config = config_loading(loader);
	const struct config_schema *schema = config->schema;
	struct limits_config *limits = &config->limits;
	char key[sizeof(BUDGET_PREFIX) + 64], others[512] = "";
	size_t rest = schema->n_roles;

	if (!config_roles_known(loader) || !config_key_valid(seen, "max_connections"))
		return;
	for (size_t i = 0; i < schema->n_roles; i++) {
		budget_key(key, sizeof(key), &schema->roles[i]);
		if (schema->roles[i].reserved_connections == 0)
			rest = i;
		else if (!config_key_in_file(seen, key))
			limits->max_connections_role[i] = reserved_budget(
				schema->roles[i].reserved_connections, limits->max_connections);
	}
	for (size_t i = 0; i < schema->n_roles; i++) {
		budget_key(key, sizeof(key), &schema->roles[i]);
		if (config_key_in_file(seen, key) && !config_key_valid(seen, key))
			return; /* reported already */
	}

	unsigned long long reserved = 0;
	for (size_t i = 0; i < schema->n_roles; i++) {
		const struct config_role *role = &schema->roles[i];
		if (i == rest || (!role->required && config_listener(config, (unsigned)i) == NULL))
			continue;
		reserved += limits->max_connections_role[i];
		size_t used = strlen(others);
		snprintf(others + used, sizeof(others) - used, "%s" BUDGET_PREFIX "%s (%u)",
			 used > 0 ? " and " : "", role->name, limits->max_connections_role[i]);
	}
	if (rest == schema->n_roles) {
		if (reserved > limits->max_connections)
			config_report(loader, budget_line(schema, seen),
				      "%s add up to %llu, more than max_connections (%u)", others,
				      reserved, limits->max_connections);
		return;
	}
	const struct config_role *rest_role = &schema->roles[rest];
	budget_key(key, sizeof(key), rest_role);
	if (!config_key_in_file(seen, key)) {
		if (reserved < limits->max_connections) {
			limits->max_connections_role[rest] =
				(unsigned)(limits->max_connections - reserved);
			return;
		}
		config_report(loader, budget_line(schema, seen),
			      "max_connections (%u) leaves no room for %s connections after %s: "
			      "raise max_connections",
			      limits->max_connections, rest_role->name, others);
		return;
	}
	unsigned long long total = reserved + limits->max_connections_role[rest];
	if (total > limits->max_connections)
		config_report(loader, budget_line(schema, seen),
			      "%s (%u) and %s add up to %llu, more than max_connections (%u)", key,
			      limits->max_connections_role[rest], others, total,
			      limits->max_connections);
}

/* ---- [global] ---- */

/* user, group and allow_root together: the group defaults to the user's
 * own, and a group without a user, or root permitted next to a user to
 * drop to, would say something that does not happen. */
static void finish_run_as(struct config_loader *loader, const struct config_seen *seen)
{
	struct run_as_config *run_as = &config_loading(loader)->run_as;
	int user_line = config_key_line(seen, "user");
	int group_line = config_key_line(seen, "group");
	int allow_line = config_key_line(seen, "allow_root");

	run_as->line = config_seen_line(seen);
	if (group_line != 0 && !config_key_in_file(seen, "user"))
		config_report(loader, group_line,
			      "group needs user in [global]: the daemon only changes its group "
			      "when it drops to a user");
	if (user_line != 0 && !config_key_in_file(seen, "group")) {
		run_as->gid = run_as->user_gid;
		if (run_as->gid == 0)
			config_report(loader, user_line,
				      "user %s has gid 0 (root's group) as its primary group: set "
				      "group in [global] to another",
				      run_as->user);
	}
	if (allow_line != 0 && run_as->allow_root && config_key_in_file(seen, "user"))
		config_report(loader, allow_line,
			      "allow_root = yes contradicts user (line %d): the daemon drops to "
			      "that user; remove one of them",
			      config_key_set_line(seen, "user"));
}

/* ---- The module ---- */

static void core_check(struct config_loader *loader, void *data)
{
	struct sxedge_config *config = data;
	const struct config_seen *global = config_seen(loader, SECTION_GLOBAL, 0);
	const struct config_seen *limits = config_seen(loader, SECTION_LIMITS, 0);

	config_apply_defaults(loader, global, config);
	config_apply_defaults(loader, limits, &config->limits);
	if (config_seen_line(global) == 0)
		config_report(loader, 0, "missing required section [global] (it holds domains)");
	else
		config_check_required(loader, global, "global");
	finish_run_as(loader, global);
	check_limits(loader, limits);
	for (size_t i = 0; i < config->n_listeners; i++)
		finish_listener(loader, &config->listeners[i],
				config_seen(loader, SECTION_LISTENER, i));
	check_listeners(loader);
	check_connection_budgets(loader, limits);
}

static void core_free(void *data)
{
	struct sxedge_config *config = data;

	config_free_strings(config->domains, config->n_domains);
	free(config->syslog_socket);
	free(config->run_as.user);
	free(config->run_as.group);
	for (size_t i = 0; i < config->n_listeners; i++) {
		struct listener_config *listener = &config->listeners[i];
		free(listener->name);
		free(listener->address);
		free(listener->advertise_host);
		free(listener->certificate);
		free(listener->key);
		free(listener->ca_file);
	}
	free(config->listeners);
}

const struct config_module config_core_module = {
	.name = "core",
	.sections = core_sections,
	.n_sections = sizeof(core_sections) / sizeof(core_sections[0]),
	.check = core_check,
	.free = core_free,
};
