/* SPDX-License-Identifier: ISC */
/* config: loads and validates sxedge.conf (format: sxedge.conf(5)).
 *
 * Every option is one row of the options[] table below: section, key,
 * parser, where the value goes, its default and its range.  Adding an option
 * means adding a field to config.h and a row here; the checks that relate
 * several options to each other follow the table.
 *
 * libinih does the INI syntax, but it is handed one line at a time: that way
 * every message carries the right line number (this inih calls its handler
 * without one), every syntax error is found rather than only the first, and
 * section headers (whose lines we need for "missing key" errors, even for
 * empty sections) are seen as they come.
 *
 * Loading never stops at the first problem: each is written to the error
 * stream as "FILE:LINE: message", and the half-built configuration is freed
 * at the end if there was any. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "privileges.h"

/* inih keeps each line in a buffer of INI_MAX_LINE bytes and needs three of
 * them for the line end and the NUL; a longer line would be cut silently. */
#define CONFIG_LINE_MAX	  (INI_MAX_LINE - 3)
#define LISTENER_NAME_MAX 64
#define DOMAIN_NAME_MAX	  253
#define DNS_PORT	  53
#define FEDERATION_PORT	  5061 /* SIP over TLS (RFC 3261), where partner edges listen */
#define QUOTE_SIZE	  128 /* room for a value quoted into a message */

enum section_kind {
	SECTION_NONE, /* before the first section header */
	SECTION_GLOBAL,
	SECTION_LIMITS,
	SECTION_LISTENER,
	SECTION_POOL,
	SECTION_FEDERATION,
	SECTION_PARTNER,
	SECTION_SKIPPED, /* an unknown or broken header, already reported */
};

struct loader;
struct option;

/* Parses VALUE into the fields of BASE that OPTION names.  Returns 0, or
 * reports the problem at the current line and returns -1 with BASE unchanged. */
typedef int option_parser(struct loader *loader, const struct option *option, const char *value,
			  void *base);

struct option {
	enum section_kind section;
	const char *key;
	option_parser *parse;
	size_t offset; /* the field, in the section's struct */
	size_t offset2; /* a second field: a list's count, host:port's port, a "set" flag */
	const char *default_value; /* parsed like a value when the key is absent; NULL: none */
	unsigned long long min, max; /* numbers only */
	bool required;
};

static option_parser parse_log_level, parse_u16, parse_unsigned, parse_size, parse_bool,
	parse_flow_secret, parse_name_list, parse_role, parse_ip_address, parse_host_optional_port,
	parse_readable_file, parse_client_cert, parse_ip_optional_port, parse_partner_type,
	parse_fingerprint, parse_ip_port, parse_user, parse_group;

#define GLOBAL(field)	  offsetof(struct sxedge_config, field)
#define LIMITS(field)	  offsetof(struct limits_config, field)
#define LISTENER(field)	  offsetof(struct listener_config, field)
#define POOL(field)	  offsetof(struct pool_config, field)
#define FEDERATION(field) offsetof(struct federation_config, field)
#define PARTNER(field)	  offsetof(struct partner_config, field)

/* One row per option, each row reading
 *	{ section, key, parser, field,
 *	  second field, default, min, max, required },
 * A NULL default is either a required key or one whose default depends on
 * other options (finish_listener()); relations between options are checked
 * after the whole file is read. */
/* clang-format off */
static const struct option options[] = {
	{ SECTION_GLOBAL, "log_level", parse_log_level, GLOBAL(log_level),
	  0, "notice", 0, 0, false },
	{ SECTION_GLOBAL, "node_id", parse_u16, GLOBAL(node_id),
	  0, "1", 1, 65535, false },
	{ SECTION_GLOBAL, "flow_secret", parse_flow_secret, GLOBAL(flow_secret),
	  GLOBAL(flow_secret_set), NULL, 0, 0, false }, /* absent: random */
	{ SECTION_GLOBAL, "domains", parse_name_list, GLOBAL(domains),
	  GLOBAL(n_domains), NULL, 0, 0, true },
	{ SECTION_GLOBAL, "user", parse_user, GLOBAL(run_as),
	  0, NULL, 0, 0, false }, /* absent: stay who started it */
	{ SECTION_GLOBAL, "group", parse_group, GLOBAL(run_as),
	  0, NULL, 0, 0, false }, /* needs user; absent: the user's own */
	{ SECTION_GLOBAL, "allow_root", parse_bool, GLOBAL(run_as.allow_root),
	  0, "no", 0, 0, false }, /* not with user */

	{ SECTION_LIMITS, "sip_max_message", parse_size, LIMITS(sip_max_message),
	  0, "65536", 1024, 16777216, false },
	{ SECTION_LIMITS, "sip_max_headers", parse_unsigned, LIMITS(sip_max_headers),
	  0, "256", 8, 10000, false },
	{ SECTION_LIMITS, "sip_max_line", parse_size, LIMITS(sip_max_line),
	  0, "8192", 256, 16777216, false }, /* <= sip_max_message */
	{ SECTION_LIMITS, "handshake_timeout", parse_unsigned, LIMITS(handshake_timeout_s),
	  0, "10", 1, 300, false },
	{ SECTION_LIMITS, "idle_timeout", parse_unsigned, LIMITS(idle_timeout_s),
	  0, "300", 0, 86400, false }, /* 0: none */
	{ SECTION_LIMITS, "message_timeout", parse_unsigned, LIMITS(message_timeout_s),
	  0, "10", 1, 300, false },
	{ SECTION_LIMITS, "output_max", parse_size, LIMITS(output_max),
	  0, "1048576", 65536, 1073741824, false },
	{ SECTION_LIMITS, "drain_timeout", parse_unsigned, LIMITS(drain_timeout_s),
	  0, "10", 0, 3600, false },
	{ SECTION_LIMITS, "max_connections", parse_unsigned, LIMITS(max_connections),
	  0, "10000", 1, 1000000, false },
	{ SECTION_LIMITS, "max_connections_access", parse_unsigned,
	  LIMITS(max_connections_access), 0, NULL, 1, 1000000, false }, /* the rest */
	{ SECTION_LIMITS, "max_connections_internal", parse_unsigned,
	  LIMITS(max_connections_internal), 0, NULL, 1, 1000000, false }, /* 100 */
	{ SECTION_LIMITS, "max_connections_federation", parse_unsigned,
	  LIMITS(max_connections_federation), 0, NULL, 1, 1000000, false }, /* 1000 */
	{ SECTION_LIMITS, "max_connections_per_address_access", parse_unsigned,
	  LIMITS(max_connections_per_address_access), 0, "256", 1, 1000000, false },
	{ SECTION_LIMITS, "first_request_timeout", parse_unsigned, LIMITS(first_request_timeout_s),
	  0, "10", 1, 300, false },
	{ SECTION_LIMITS, "output_total_max", parse_size, LIMITS(output_total_max),
	  0, "67108864", 65536, 68719476736ULL, false }, /* >= output_max */

	{ SECTION_LISTENER, "role", parse_role, LISTENER(role),
	  0, NULL, 0, 0, true },
	{ SECTION_LISTENER, "address", parse_ip_address, LISTENER(address),
	  0, NULL, 0, 0, true },
	{ SECTION_LISTENER, "port", parse_u16, LISTENER(port),
	  0, NULL, 1, 65535, true },
	{ SECTION_LISTENER, "advertise", parse_host_optional_port, LISTENER(advertise_host),
	  LISTENER(advertise_port), NULL, 0, 0, false }, /* address:port */
	{ SECTION_LISTENER, "certificate", parse_readable_file, LISTENER(certificate),
	  0, NULL, 0, 0, true },
	{ SECTION_LISTENER, "key", parse_readable_file, LISTENER(key),
	  0, NULL, 0, 0, true },
	{ SECTION_LISTENER, "ca_file", parse_readable_file, LISTENER(ca_file),
	  0, NULL, 0, 0, false }, /* needed by client_certificate */
	{ SECTION_LISTENER, "client_certificate", parse_client_cert, LISTENER(client_cert),
	  0, NULL, 0, 0, false }, /* by role */
	{ SECTION_LISTENER, "require_sni", parse_bool, LISTENER(require_sni),
	  0, "no", 0, 0, false },

	{ SECTION_POOL, "fqdn", parse_name_list, POOL(fqdns),
	  POOL(n_fqdns), NULL, 0, 0, true },
	{ SECTION_POOL, "relay", parse_ip_port, POOL(relay_host),
	  POOL(relay_port), NULL, 0, 0, true }, /* internal listener's family */
	{ SECTION_POOL, "connections", parse_unsigned, POOL(connections),
	  0, "1", 1, 16, false },
	{ SECTION_POOL, "reconnect_min", parse_unsigned, POOL(reconnect_min_s),
	  0, "1", 1, 3600, false },
	{ SECTION_POOL, "reconnect_max", parse_unsigned, POOL(reconnect_max_s),
	  0, "30", 1, 3600, false }, /* >= reconnect_min */

	{ SECTION_FEDERATION, "open", parse_bool, FEDERATION(open),
	  0, "no", 0, 0, false }, /* yes: needs a federation listener */
	{ SECTION_FEDERATION, "blocked", parse_name_list, FEDERATION(blocked),
	  FEDERATION(n_blocked), NULL, 0, 0, false }, /* none of ours */
	{ SECTION_FEDERATION, "dns_server", parse_ip_optional_port, FEDERATION(dns_server_host),
	  FEDERATION(dns_server_port), NULL, 0, 0, false }, /* absent: the system's; port 53 */
	{ SECTION_FEDERATION, "queue_max", parse_unsigned, FEDERATION(queue_max),
	  0, "64", 1, 10000, false },
	{ SECTION_FEDERATION, "connect_timeout", parse_unsigned, FEDERATION(connect_timeout_s),
	  0, "10", 1, 300, false },
	{ SECTION_FEDERATION, "max_connections_per_address", parse_unsigned,
	  FEDERATION(max_connections_per_address), 0, "16", 1, 10000, false },

	{ SECTION_PARTNER, "type", parse_partner_type, PARTNER(type),
	  0, "federated", 0, 0, false },
	{ SECTION_PARTNER, "edge", parse_name_list, PARTNER(edges),
	  PARTNER(n_edges), NULL, 0, 0, false }, /* absent: SRV targets */
	{ SECTION_PARTNER, "address", parse_ip_optional_port, PARTNER(address_host),
	  PARTNER(address_port), NULL, 0, 0, false }, /* needs edge; port 5061 */
	{ SECTION_PARTNER, "fingerprint", parse_fingerprint, PARTNER(fingerprint),
	  PARTNER(fingerprint_set), NULL, 0, 0, false }, /* absent: no pin */
	{ SECTION_PARTNER, "rate", parse_unsigned, PARTNER(rate),
	  0, "0", 0, 1000000, false }, /* 0: unlimited */
	{ SECTION_PARTNER, "burst", parse_unsigned, PARTNER(burst),
	  0, "0", 0, 1000000, false }, /* 0: same as rate */
};
/* clang-format on */
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

/* What was seen of one section in the file. */
struct section_state {
	int line; /* of the header; 0: not in the file */
	bool broken; /* holds a line that could not be read as key = value */
	int key_line[OPTION_COUNT]; /* where each key was set; 0: not set */
	bool valid[OPTION_COUNT]; /* the field holds a good value (from the file or default) */
};

/* Entries up to END of a list key came from LINE (list keys add up over
 * several lines, and a check on one entry must name the line it is on). */
struct list_origin {
	size_t option; /* index in options[] */
	size_t instance; /* which listener or partner; 0 in a fixed section */
	size_t end;
	int line;
};

/* One problem found, kept until the end so all come out in line order. */
struct problem {
	int line;
	size_t order; /* found as the ORDER-th: keeps the sort stable */
	char *text;
};

struct loader {
	const char *path;
	FILE *errors;
	unsigned error_count;
	struct problem *problems;
	size_t n_problems;
	int line; /* being read; 0 once the file as a whole is checked */
	struct sxedge_config *config;
	struct section_state global, limits, pool, federation;
	struct section_state *listener_states; /* parallel to config->listeners */
	struct section_state *partner_states; /* parallel to config->partners */
	struct list_origin *list_origins;
	size_t n_list_origins;
	bool roles_known; /* every listener has a good role */

	/* The section the current line belongs to. */
	enum section_kind section;
	struct section_state *state;
	void *base;
	size_t instance; /* index of the listener or partner; 0 in a fixed section */
	char section_label[DOMAIN_NAME_MAX + 16]; /* "global", "partner partner.test" */
};

/* ---- Reporting ---- */

static void report(struct loader *loader, int line, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct loader *loader, int line, const char *format, ...)
{
	struct problem *grown;
	char *text = NULL;
	va_list args;
	int n;

	loader->error_count++;
	va_start(args, format);
	n = vasprintf(&text, format, args);
	va_end(args);
	grown = n < 0 ? NULL : realloc(loader->problems, (loader->n_problems + 1) * sizeof(*grown));
	if (grown == NULL) {
		/* Out of memory: say so at once rather than lose the message. */
		if (loader->errors != NULL)
			fprintf(loader->errors, "%s:%d: %s\n", loader->path, line,
				n < 0 ? "(out of memory)" : text);
		if (n >= 0)
			free(text);
		return;
	}
	loader->problems = grown;
	grown[loader->n_problems] = (struct problem){ line, loader->n_problems, text };
	loader->n_problems++;
}

/* By line, LINE 0 (the file as a whole) last; otherwise in the order found. */
static int problem_compare(const void *a, const void *b)
{
	const struct problem *first = a, *second = b;
	unsigned first_line = first->line == 0 ? UINT_MAX : (unsigned)first->line;
	unsigned second_line = second->line == 0 ? UINT_MAX : (unsigned)second->line;

	if (first_line != second_line)
		return first_line < second_line ? -1 : 1;
	return first->order < second->order ? -1 : first->order > second->order;
}

static void write_problems(struct loader *loader)
{
	if (loader->n_problems > 1)
		qsort(loader->problems, loader->n_problems, sizeof(*loader->problems),
		      problem_compare);
	for (size_t i = 0; i < loader->n_problems; i++) {
		if (loader->errors != NULL)
			fprintf(loader->errors, "%s:%d: %s\n", loader->path,
				loader->problems[i].line, loader->problems[i].text);
		free(loader->problems[i].text);
	}
	free(loader->problems);
	loader->problems = NULL;
	loader->n_problems = 0;
}

/* Values are the operator's own, but may hold anything: quote them so a
 * message always stays one readable line. */
static const char *quote(char buf[QUOTE_SIZE], const char *value)
{
	return log_quote(buf, QUOTE_SIZE, value);
}

static void report_bad_value(struct loader *loader, const struct option *option, const char *value,
			     const char *expected)
{
	char quoted[QUOTE_SIZE];

	report(loader, loader->line, "bad value %s for %s: expected %s", quote(quoted, value),
	       option->key, expected);
}

/* ---- Small helpers ---- */

static void *field_at(void *base, size_t offset)
{
	return (char *)base + offset;
}

static const struct option *option_find(enum section_kind section, const char *key)
{
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		if (options[i].section == section && strcmp(options[i].key, key) == 0)
			return &options[i];
	}
	return NULL;
}

static size_t option_index(enum section_kind section, const char *key)
{
	const struct option *option = option_find(section, key);
	return (size_t)(option - options);
}

/* The line KEY was set on if its value is good, else 0. */
static int valid_key_line(const struct section_state *state, enum section_kind section,
			  const char *key)
{
	size_t i = option_index(section, key);
	return state->valid[i] ? state->key_line[i] : 0;
}

static bool key_valid(const struct section_state *state, enum section_kind section, const char *key)
{
	return state->valid[option_index(section, key)];
}

static bool key_in_file(const struct section_state *state, enum section_kind section,
			const char *key)
{
	return state->key_line[option_index(section, key)] != 0;
}

static const char *skip_spaces(const char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	return text;
}

static void free_strings(char **strings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

/* ---- Value syntax ---- */

/* Decimal digits only: no sign, no spaces, no 0x, no trailing junk. */
static bool number_parse(const char *text, unsigned long long *number)
{
	unsigned long long value = 0;

	if (*text == '\0')
		return false;
	for (; *text != '\0'; text++) {
		if (*text < '0' || *text > '9')
			return false;
		if (value > (~0ULL - 9) / 10)
			return false; /* would overflow; far outside every range anyway */
		value = value * 10 + (unsigned long long)(*text - '0');
	}
	*number = value;
	return true;
}

static bool is_ip_address(const char *text)
{
	unsigned char address[16];

	return inet_pton(AF_INET, text, address) == 1 || inet_pton(AF_INET6, text, address) == 1;
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* A DNS host name: dot-separated labels of 1..63 letters, digits and
 * hyphens, no hyphen at either end of a label, 253 characters at most. */
static bool is_host_name(const char *text)
{
	size_t label = 0, length = strlen(text);

	if (length == 0 || length > 253)
		return false;
	for (size_t i = 0; i <= length; i++) {
		char c = text[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || text[i - 1] == '-')
				return false;
			label = 0;
		} else if (!is_label_char(c) || (label == 0 && c == '-')) {
			return false;
		} else {
			label++;
		}
	}
	return true;
}

static bool port_parse(const char *text, uint16_t *port)
{
	unsigned long long number;

	if (!number_parse(text, &number) || number < 1 || number > 65535)
		return false;
	*port = (uint16_t)number;
	return true;
}

/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal (no port).
 * On success *HOST is malloc'd (without brackets) and *PORT is 0 when absent. */
static bool host_port_split(const char *text, char **host, uint16_t *port)
{
	const char *colon = strchr(text, ':');
	size_t host_length;
	const char *port_text = NULL;
	unsigned char address[16];
	bool bracketed = text[0] == '[';

	*port = 0;
	if (bracketed) {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return false;
		text++;
		host_length = (size_t)(close - text);
		if (close[1] == ':')
			port_text = close + 2;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		host_length = (size_t)(colon - text);
		port_text = colon + 1;
	} else {
		host_length = strlen(text); /* no colon, or a bare IPv6 literal */
	}
	if (port_text != NULL && !port_parse(port_text, port))
		return false;

	char *name = strndup(text, host_length);
	if (name == NULL)
		return false;
	/* An IPv4 literal passes as a host name. */
	bool ok = (bracketed || strchr(name, ':') != NULL) ? inet_pton(AF_INET6, name, address) == 1
							   : is_host_name(name);
	if (!ok) {
		free(name);
		return false;
	}
	*host = name;
	return true;
}

/* ---- Parsers (one per kind of value) ---- */

static int parse_number(struct loader *loader, const struct option *option, const char *value,
			unsigned long long *number)
{
	char expected[96];

	if (number_parse(value, number) && *number >= option->min && *number <= option->max)
		return 0;
	snprintf(expected, sizeof(expected), "a whole number from %llu to %llu", option->min,
		 option->max);
	report_bad_value(loader, option, value, expected);
	return -1;
}

static int parse_u16(struct loader *loader, const struct option *option, const char *value,
		     void *base)
{
	unsigned long long number;

	if (parse_number(loader, option, value, &number) < 0)
		return -1;
	*(uint16_t *)field_at(base, option->offset) = (uint16_t)number;
	return 0;
}

static int parse_unsigned(struct loader *loader, const struct option *option, const char *value,
			  void *base)
{
	unsigned long long number;

	if (parse_number(loader, option, value, &number) < 0)
		return -1;
	*(unsigned *)field_at(base, option->offset) = (unsigned)number;
	return 0;
}

static int parse_size(struct loader *loader, const struct option *option, const char *value,
		      void *base)
{
	unsigned long long number;

	if (parse_number(loader, option, value, &number) < 0)
		return -1;
	*(size_t *)field_at(base, option->offset) = (size_t)number;
	return 0;
}

/* Matches VALUE (case-insensitively) against NAMES; returns the index or -1. */
static int keyword_parse(const char *value, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(value, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static int parse_bool(struct loader *loader, const struct option *option, const char *value,
		      void *base)
{
	static const char *const names[] = { "no", "yes", "false", "true", "off", "on", "0", "1" };
	int i = keyword_parse(value, names, sizeof(names) / sizeof(names[0]));

	if (i < 0) {
		report_bad_value(loader, option, value, "yes, no, true, false, on, off, 1 or 0");
		return -1;
	}
	*(bool *)field_at(base, option->offset) = i % 2 == 1;
	return 0;
}

static int parse_log_level(struct loader *loader, const struct option *option, const char *value,
			   void *base)
{
	enum log_level level;

	if (log_level_parse(value, &level) < 0) {
		report_bad_value(loader, option, value, "error, warning, notice, info or debug");
		return -1;
	}
	*(enum log_level *)field_at(base, option->offset) = level;
	return 0;
}

static int parse_role(struct loader *loader, const struct option *option, const char *value,
		      void *base)
{
	static const char *const names[] = {
		[ROLE_ACCESS] = "access",
		[ROLE_INTERNAL] = "internal",
		[ROLE_FEDERATION] = "federation",
	};
	int i = keyword_parse(value, names, sizeof(names) / sizeof(names[0]));

	if (i < 0) {
		report_bad_value(loader, option, value, "access, internal or federation");
		return -1;
	}
	*(enum listener_role *)field_at(base, option->offset) = (enum listener_role)i;
	return 0;
}

static int parse_client_cert(struct loader *loader, const struct option *option, const char *value,
			     void *base)
{
	static const char *const names[] = {
		[CLIENT_CERT_NONE] = "none",
		[CLIENT_CERT_OPTIONAL] = "optional",
		[CLIENT_CERT_REQUIRED] = "required",
	};
	int i = keyword_parse(value, names, sizeof(names) / sizeof(names[0]));

	if (i < 0) {
		report_bad_value(loader, option, value, "none, optional or required");
		return -1;
	}
	*(enum client_cert_mode *)field_at(base, option->offset) = (enum client_cert_mode)i;
	return 0;
}

static int parse_partner_type(struct loader *loader, const struct option *option, const char *value,
			      void *base)
{
	static const char *const names[] = {
		[PARTNER_FEDERATED] = "federated",
		[PARTNER_PROVIDER] = "provider",
	};
	int i = keyword_parse(value, names, sizeof(names) / sizeof(names[0]));

	if (i < 0) {
		report_bad_value(loader, option, value, "federated or provider");
		return -1;
	}
	*(enum partner_type *)field_at(base, option->offset) = (enum partner_type)i;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_flow_secret(struct loader *loader, const struct option *option, const char *value,
			     void *base)
{
	unsigned char *secret = field_at(base, option->offset);
	unsigned char bytes[32];

	/* The value is a secret: the message never repeats it. */
	if (strlen(value) != 2 * sizeof(bytes)) {
		report(loader, loader->line, "bad value for %s: expected exactly 64 hex digits",
		       option->key);
		return -1;
	}
	for (size_t i = 0; i < sizeof(bytes); i++) {
		int high = hex_digit(value[2 * i]), low = hex_digit(value[2 * i + 1]);
		if (high < 0 || low < 0) {
			report(loader, loader->line,
			       "bad value for %s: expected exactly 64 hex digits", option->key);
			return -1;
		}
		bytes[i] = (unsigned char)(high << 4 | low);
	}
	memcpy(secret, bytes, sizeof(bytes));
	explicit_bzero(bytes, sizeof(bytes));
	*(bool *)field_at(base, option->offset2) = true;
	return 0;
}

/* A certificate pin as "openssl x509 -fingerprint -sha256" prints it, or
 * plain hex: an optional "sha256:" prefix, then 32 bytes in hex digits of
 * any case, each pair optionally followed by a colon before the next. */
static int parse_fingerprint(struct loader *loader, const struct option *option, const char *value,
			     void *base)
{
	unsigned char bytes[32];
	const char *text = value;

	if (strncasecmp(text, "sha256:", 7) == 0)
		text += 7;
	for (size_t i = 0; i < sizeof(bytes); i++) {
		if (i > 0 && *text == ':')
			text++;
		int high = hex_digit(text[0]);
		int low = high < 0 ? -1 : hex_digit(text[1]);
		if (low < 0)
			goto bad;
		bytes[i] = (unsigned char)(high << 4 | low);
		text += 2;
	}
	if (*text != '\0')
		goto bad;
	memcpy(field_at(base, option->offset), bytes, sizeof(bytes));
	*(bool *)field_at(base, option->offset2) = true;
	return 0;
bad:
	report_bad_value(loader, option, value,
			 "a SHA-256 fingerprint: 64 hex digits, colons between bytes allowed, "
			 "optional \"sha256:\" prefix");
	return -1;
}

/* Notes that the entries of a list key up to END were set on this line. */
static void list_origin_note(struct loader *loader, const struct option *option, size_t end)
{
	struct list_origin *grown =
		realloc(loader->list_origins, (loader->n_list_origins + 1) * sizeof(*grown));

	if (grown == NULL)
		return; /* checks on single entries then blame the section header */
	loader->list_origins = grown;
	grown[loader->n_list_origins++] = (struct list_origin){
		.option = (size_t)(option - options),
		.instance = loader->instance,
		.end = end,
		.line = loader->line,
	};
}

/* The line entry INDEX of list KEY (of listener or partner INSTANCE) came
 * from, or 0 if unknown. */
static int list_entry_line(const struct loader *loader, enum section_kind section, const char *key,
			   size_t instance, size_t index)
{
	size_t option = option_index(section, key);

	for (size_t i = 0; i < loader->n_list_origins; i++) {
		const struct list_origin *origin = &loader->list_origins[i];
		if (origin->option == option && origin->instance == instance && index < origin->end)
			return origin->line;
	}
	return 0;
}

/* Appends a lower-cased copy of the LENGTH bytes at NAME to *LIST. */
static int name_list_add(char ***list, size_t *n, const char *name, size_t length)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (grown == NULL)
		return -1;
	*list = grown;
	char *copy = strndup(name, length);
	if (copy == NULL)
		return -1;
	for (char *c = copy; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	}
	(*list)[(*n)++] = copy;
	return 0;
}

/* Domain names separated by commas and/or blanks, stored lower case.  A
 * list key may be repeated and its lines add up, since inih limits a line's
 * length and a long list must still fit. */
static int parse_name_list(struct loader *loader, const struct option *option, const char *value,
			   void *base)
{
	static const char separators[] = ", \t";
	char ***list = field_at(base, option->offset);
	size_t *n = field_at(base, option->offset2);
	size_t first = *n;
	char quoted[QUOTE_SIZE], expected[QUOTE_SIZE + 64];
	const char *name = value + strspn(value, separators);

	while (*name != '\0') {
		size_t length = strcspn(name, separators);
		char *copy = strndup(name, length);
		bool ok = copy != NULL && is_host_name(copy);
		if (!ok) {
			snprintf(expected, sizeof(expected), "domain names (%s is not one)",
				 quote(quoted, copy != NULL ? copy : ""));
			free(copy);
			goto bad;
		}
		free(copy);
		if (name_list_add(list, n, name, length) < 0) {
			snprintf(expected, sizeof(expected), "a shorter list (out of memory)");
			goto bad;
		}
		name += length;
		name += strspn(name, separators);
	}
	if (*n == first) {
		snprintf(expected, sizeof(expected), "at least one domain name");
		goto bad;
	}
	list_origin_note(loader, option, *n);
	return 0;
bad:
	report_bad_value(loader, option, value, expected);
	while (*n > first)
		free((*list)[--*n]);
	return -1;
}

/* A copy of the option's VALUE to keep in the configuration, or NULL
 * (reported at the option's line) when memory runs out. */
static char *copy_value(struct loader *loader, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL)
		report(loader, loader->line, "out of memory");
	return copy;
}

static int parse_ip_address(struct loader *loader, const struct option *option, const char *value,
			    void *base)
{
	char *copy;

	if (!is_ip_address(value)) {
		report_bad_value(loader, option, value, "an IPv4 or IPv6 address");
		return -1;
	}
	copy = copy_value(loader, value);
	if (copy == NULL)
		return -1;
	*(char **)field_at(base, option->offset) = copy;
	return 0;
}

/* A host name or IP literal with an optional port ("host", "host:port",
 * "[v6]:port" or a bare IPv6 literal); a port left out is stored as 0. */
static int parse_host_optional_port(struct loader *loader, const struct option *option,
				    const char *value, void *base)
{
	char *host = NULL;
	uint16_t port = 0;

	if (!host_port_split(value, &host, &port)) {
		report_bad_value(loader, option, value,
				 "host or host:port, port 1 to 65535 (IPv6: [address]:port)");
		return -1;
	}
	*(char **)field_at(base, option->offset) = host;
	*(uint16_t *)field_at(base, option->offset2) = port;
	return 0;
}

/* An IP literal with an optional port ("IP", "IP:port", "[v6]:port" or a
 * bare IPv6 literal); a port left out is stored as 0 and defaulted later. */
static int parse_ip_optional_port(struct loader *loader, const struct option *option,
				  const char *value, void *base)
{
	char *host = NULL;
	uint16_t port = 0;

	if (!host_port_split(value, &host, &port) || !is_ip_address(host)) {
		free(host);
		report_bad_value(loader, option, value,
				 "an IP address with an optional port 1 to 65535 "
				 "(IPv6: [address]:port)");
		return -1;
	}
	*(char **)field_at(base, option->offset) = host;
	*(uint16_t *)field_at(base, option->offset2) = port;
	return 0;
}

/* An IP literal and a port ("IPv4:port" or "[IPv6]:port"): the edge
 * connects there itself, and names are not resolved. */
static int parse_ip_port(struct loader *loader, const struct option *option, const char *value,
			 void *base)
{
	char *host = NULL;
	uint16_t port = 0;

	if (!host_port_split(value, &host, &port) || port == 0 || !is_ip_address(host)) {
		free(host);
		report_bad_value(loader, option, value,
				 "an IP address and port 1 to 65535, IPv6 as [address]:port "
				 "(names are not resolved)");
		return -1;
	}
	*(char **)field_at(base, option->offset) = host;
	*(uint16_t *)field_at(base, option->offset2) = port;
	return 0;
}

/* Certificates and keys are read much later (after the whole file is
 * checked, and maybe by another user), but a path that cannot even be opened
 * now is almost always a typo, and is best named with its line. */
static int parse_readable_file(struct loader *loader, const struct option *option,
			       const char *value, void *base)
{
	char quoted[QUOTE_SIZE];
	struct stat status;
	int fd;

	if (value[0] == '\0') {
		report_bad_value(loader, option, value, "a file name");
		return -1;
	}
	/* O_NONBLOCK: a FIFO put there by mistake must not hang the check. */
	fd = open(value, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		report(loader, loader->line, "cannot read %s %s: %s", option->key,
		       quote(quoted, value), strerror(errno));
		return -1;
	}
	bool regular = fstat(fd, &status) == 0 && S_ISREG(status.st_mode);
	close(fd);
	if (!regular) {
		report(loader, loader->line, "cannot read %s %s: not a regular file", option->key,
		       quote(quoted, value));
		return -1;
	}
	char *copy = copy_value(loader, value);
	if (copy == NULL)
		return -1;
	*(char **)field_at(base, option->offset) = copy;
	return 0;
}

/* A user name from the user database, looked up now so that a typo is an
 * error at its line (and `sxedge -t` finds it), never at the drop. */
static int parse_user(struct loader *loader, const struct option *option, const char *value,
		      void *base)
{
	struct run_as_config *run_as = field_at(base, option->offset);
	char quoted[QUOTE_SIZE], err[128];
	uid_t uid;
	gid_t gid;

	if (privileges_find_user(value, &uid, &gid, err, sizeof(err)) < 0) {
		report(loader, loader->line, "unknown user %s: %s", quote(quoted, value), err);
		return -1;
	}
	if (uid == 0) {
		report(loader, loader->line,
		       "user %s has uid 0: that is root (to run as root, leave user out and set "
		       "allow_root = yes)",
		       quote(quoted, value));
		return -1;
	}
	char *copy = copy_value(loader, value);
	if (copy == NULL)
		return -1;
	run_as->user = copy;
	run_as->uid = uid;
	run_as->user_gid = gid;
	return 0;
}

static int parse_group(struct loader *loader, const struct option *option, const char *value,
		       void *base)
{
	struct run_as_config *run_as = field_at(base, option->offset);
	char quoted[QUOTE_SIZE], err[128];
	gid_t gid;

	if (privileges_find_group(value, &gid, err, sizeof(err)) < 0) {
		report(loader, loader->line, "unknown group %s: %s", quote(quoted, value), err);
		return -1;
	}
	if (gid == 0) {
		report(loader, loader->line, "group %s has gid 0: that is root's group",
		       quote(quoted, value));
		return -1;
	}
	char *copy = copy_value(loader, value);
	if (copy == NULL)
		return -1;
	run_as->group = copy;
	run_as->gid = gid;
	return 0;
}

/* ---- Sections ---- */

static struct section_state *fixed_section_state(struct loader *loader, enum section_kind kind)
{
	switch (kind) {
	case SECTION_GLOBAL:
		return &loader->global;
	case SECTION_LIMITS:
		return &loader->limits;
	case SECTION_POOL:
		return &loader->pool;
	case SECTION_FEDERATION:
		return &loader->federation;
	default:
		return NULL;
	}
}

static void *fixed_section_base(struct loader *loader, enum section_kind kind)
{
	switch (kind) {
	case SECTION_GLOBAL:
		return loader->config;
	case SECTION_LIMITS:
		return &loader->config->limits;
	case SECTION_POOL:
		return &loader->config->pool;
	case SECTION_FEDERATION:
		return &loader->config->federation;
	default:
		return NULL;
	}
}

static void section_enter(struct loader *loader, enum section_kind kind,
			  struct section_state *state, void *base, const char *label)
{
	loader->section = kind;
	loader->state = state;
	loader->base = base;
	loader->instance = 0;
	snprintf(loader->section_label, sizeof(loader->section_label), "%s", label);
}

static bool is_listener_name(const char *name)
{
	size_t length = strlen(name);

	if (length == 0 || length > LISTENER_NAME_MAX)
		return false;
	for (; *name != '\0'; name++) {
		if (!is_label_char(*name) && *name != '_' && *name != '.')
			return false;
	}
	return true;
}

static void listener_begin(struct loader *loader, const char *name)
{
	struct sxedge_config *config = loader->config;
	char quoted[QUOTE_SIZE];

	if (!is_listener_name(name)) {
		report(loader, loader->line,
		       "bad listener name %s: expected 1 to %d letters, digits, '-', '_' or '.'",
		       quote(quoted, name), LISTENER_NAME_MAX);
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
		return;
	}
	for (size_t i = 0; i < config->n_listeners; i++) {
		if (strcmp(config->listeners[i].name, name) == 0)
			report(loader, loader->line,
			       "duplicate listener name \"%s\" (first at line %d)", name,
			       config->listeners[i].line);
	}

	size_t n = config->n_listeners;
	struct listener_config *listeners =
		realloc(config->listeners, (n + 1) * sizeof(*listeners));
	if (listeners != NULL)
		config->listeners = listeners;
	struct section_state *states = realloc(loader->listener_states, (n + 1) * sizeof(*states));
	if (states != NULL)
		loader->listener_states = states;
	char *copy = strdup(name);
	if (listeners == NULL || states == NULL || copy == NULL) {
		free(copy);
		report(loader, loader->line, "out of memory");
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
		return;
	}
	memset(&listeners[n], 0, sizeof(listeners[n]));
	listeners[n].name = copy;
	listeners[n].line = loader->line;
	memset(&states[n], 0, sizeof(states[n]));
	states[n].line = loader->line;
	config->n_listeners = n + 1;

	char label[sizeof(loader->section_label)];
	snprintf(label, sizeof(label), "listener %s", name);
	section_enter(loader, SECTION_LISTENER, &states[n], &listeners[n], label);
	loader->instance = n;
}

/* A partner's domain: a host name, not an address (a SIP domain is what
 * From and Request-URI carry, and its edge is found by name). */
static bool is_partner_domain(const char *name)
{
	return is_host_name(name) && !is_ip_address(name);
}

static void lower_case(char *text)
{
	for (; *text != '\0'; text++) {
		if (*text >= 'A' && *text <= 'Z')
			*text = (char)(*text - 'A' + 'a');
	}
}

/* "[partner DOMAIN]": like a listener section, named by the domain. */
static void partner_begin(struct loader *loader, const char *name)
{
	struct sxedge_config *config = loader->config;
	char quoted[QUOTE_SIZE];

	if (!is_partner_domain(name)) {
		report(loader, loader->line, "bad partner domain %s: expected a domain name",
		       quote(quoted, name));
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
		return;
	}
	/* Two sections for one domain would leave one of them silently unused;
	 * the second is not read, so its keys add no more messages. */
	for (size_t i = 0; i < config->n_partners; i++) {
		if (strcasecmp(config->partners[i].domain, name) == 0) {
			report(loader, loader->line,
			       "duplicate [partner] section for %s (first at line %d)",
			       config->partners[i].domain, config->partners[i].line);
			section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
			return;
		}
	}

	size_t n = config->n_partners;
	struct partner_config *partners = realloc(config->partners, (n + 1) * sizeof(*partners));
	if (partners != NULL)
		config->partners = partners;
	struct section_state *states = realloc(loader->partner_states, (n + 1) * sizeof(*states));
	if (states != NULL)
		loader->partner_states = states;
	char *copy = strdup(name);
	if (partners == NULL || states == NULL || copy == NULL) {
		free(copy);
		report(loader, loader->line, "out of memory");
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
		return;
	}
	lower_case(copy);
	memset(&partners[n], 0, sizeof(partners[n]));
	partners[n].domain = copy;
	partners[n].line = loader->line;
	memset(&states[n], 0, sizeof(states[n]));
	states[n].line = loader->line;
	config->n_partners = n + 1;

	char label[sizeof(loader->section_label)];
	snprintf(label, sizeof(label), "partner %s", copy);
	section_enter(loader, SECTION_PARTNER, &states[n], &partners[n], label);
	loader->instance = n;
}

/* NAME is "KEYWORD", "KEYWORD NAME" or something else: returns NAME for the
 * second (the keyword and blanks skipped), "" for the first, else NULL. */
static const char *section_argument(const char *name, const char *keyword)
{
	size_t length = strlen(keyword);

	if (strncmp(name, keyword, length) != 0)
		return NULL;
	if (name[length] == '\0')
		return "";
	if (name[length] != ' ' && name[length] != '\t')
		return NULL;
	return skip_spaces(name + length);
}

static void fixed_section_begin(struct loader *loader, enum section_kind kind, const char *name)
{
	struct section_state *state = fixed_section_state(loader, kind);

	/* Merging two [pool] sections would hide a copy-and-paste mistake. */
	if (state->line != 0)
		report(loader, loader->line, "duplicate section [%s] (first at line %d)", name,
		       state->line);
	else
		state->line = loader->line;
	section_enter(loader, kind, state, fixed_section_base(loader, kind), name);
}

/* TEXT starts with '['.  Like inih, but stricter: nothing may follow the
 * closing bracket except a comment. */
static void section_header(struct loader *loader, const char *text)
{
	static const struct {
		const char *name;
		enum section_kind kind;
	} fixed[] = {
		{ "global", SECTION_GLOBAL },
		{ "limits", SECTION_LIMITS },
		{ "pool", SECTION_POOL },
		{ "federation", SECTION_FEDERATION },
	};
	char quoted[QUOTE_SIZE];
	const char *close = strchr(text, ']');
	const char *after = close != NULL ? skip_spaces(close + 1) : NULL;

	if (close == NULL || (*after != '\0' && *after != ';' && *after != '#')) {
		report(loader, loader->line, "syntax error: expected [section] on this line");
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
		return;
	}
	const char *start = skip_spaces(text + 1);
	size_t length = (size_t)(close - start);
	while (length > 0 && (start[length - 1] == ' ' || start[length - 1] == '\t'))
		length--;
	char *name = strndup(start, length);
	if (name == NULL) {
		report(loader, loader->line, "out of memory");
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
		return;
	}

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(name, fixed[i].name) == 0) {
			fixed_section_begin(loader, fixed[i].kind, fixed[i].name);
			free(name);
			return;
		}
	}
	const char *listener = section_argument(name, "listener");
	const char *partner = section_argument(name, "partner");
	if (listener != NULL && *listener == '\0') {
		report(loader, loader->line,
		       "a listener section needs a name, e.g. [listener access]");
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
	} else if (listener != NULL) {
		listener_begin(loader, listener);
	} else if (partner != NULL && *partner == '\0') {
		report(loader, loader->line,
		       "a partner section needs a domain, e.g. [partner partner.example]");
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
	} else if (partner != NULL) {
		partner_begin(loader, partner);
	} else {
		report(loader, loader->line,
		       "unknown section %s: expected [global], [limits], [listener NAME], "
		       "[pool], [federation] or [partner DOMAIN]",
		       quote(quoted, name));
		section_enter(loader, SECTION_SKIPPED, NULL, NULL, "");
	}
	free(name);
}

/* ---- Keys ---- */

/* Called by inih for the one "key = value" line it was given. */
#if INI_HANDLER_LINENO
static int handle_pair(void *user, const char *section, const char *name, const char *value,
		       int lineno)
#else
static int handle_pair(void *user, const char *section, const char *name, const char *value)
#endif
{
	struct loader *loader = user;
	char quoted[QUOTE_SIZE];

	(void)section; /* always "": inih sees one line at a time, we track sections */
#if INI_HANDLER_LINENO
	(void)lineno;
#endif
	if (loader->section == SECTION_SKIPPED)
		return 1; /* the header was reported; its keys would only add noise */
	if (loader->section == SECTION_NONE) {
		report(loader, loader->line, "key %s outside of any section", quote(quoted, name));
		return 1;
	}

	const struct option *option = option_find(loader->section, name);
	if (option == NULL) {
		report(loader, loader->line, "unknown key %s in [%s]", quote(quoted, name),
		       loader->section_label);
		return 1;
	}
	size_t i = (size_t)(option - options);
	struct section_state *state = loader->state;
	if (state->key_line[i] != 0 && option->parse != parse_name_list) {
		report(loader, loader->line, "duplicate key %s in [%s] (first at line %d)",
		       option->key, loader->section_label, state->key_line[i]);
		return 1;
	}
	state->key_line[i] = loader->line;
	state->valid[i] = option->parse(loader, option, value, loader->base) == 0;
	return 1; /* our own errors are reported; inih's return is left for syntax */
}

/* A line of the current section could not be read at all. */
static void report_broken_line(struct loader *loader, const char *message)
{
	report(loader, loader->line, "%s", message);
	if (loader->state != NULL)
		loader->state->broken = true;
}

static void handle_line(struct loader *loader, char *line, size_t length)
{
	char message[64];

	while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
		line[--length] = '\0';
	if (loader->line == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3; /* a UTF-8 byte order mark */
		length -= 3;
	}
	if (strlen(line) != length) {
		report_broken_line(loader, "the line holds a NUL byte");
		return;
	}
	if (length > CONFIG_LINE_MAX) {
		snprintf(message, sizeof(message), "line too long: at most %d characters",
			 CONFIG_LINE_MAX);
		report_broken_line(loader, message);
		return;
	}
	const char *start = skip_spaces(line);
	if (*start == '[') {
		section_header(loader, start);
		return;
	}
	if (ini_parse_string(line, handle_pair, loader) != 0)
		report_broken_line(loader, "syntax error: expected \"key = value\", [section] "
					   "or a comment");
}

static void read_lines(struct loader *loader, FILE *file)
{
	char *line = NULL;
	size_t capacity = 0;
	ssize_t length;

	while ((length = getline(&line, &capacity, file)) >= 0) {
		loader->line++;
		handle_line(loader, line, (size_t)length);
	}
	if (ferror(file))
		report(loader, loader->line + 1, "cannot read: %s", strerror(errno));
	if (line != NULL)
		explicit_bzero(line, capacity); /* it may have held flow_secret */
	free(line);
}

/* ---- Checks on the file as a whole ---- */

static void apply_defaults(struct loader *loader, enum section_kind kind,
			   struct section_state *state, void *base)
{
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct option *option = &options[i];
		if (option->section != kind || state->key_line[i] != 0 ||
		    option->default_value == NULL)
			continue;
		/* Defaults are in range by construction; a failure here is our bug,
		 * and is reported like any other so it cannot go unnoticed. */
		state->valid[i] = option->parse(loader, option, option->default_value, base) == 0;
	}
}

static void check_required(struct loader *loader, enum section_kind kind,
			   const struct section_state *state, const char *label)
{
	/* The "missing" key may well be on the broken line: one error is enough. */
	if (state->broken)
		return;
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		if (options[i].section == kind && options[i].required && state->key_line[i] == 0)
			report(loader, state->line, "missing required key %s in [%s]",
			       options[i].key, label);
	}
}

/* The line to blame for a conflict between two keys: the first one set
 * in the file, else the section header. */
static int conflict_line(const struct section_state *state, enum section_kind kind, const char *key,
			 const char *other_key)
{
	int line = valid_key_line(state, kind, key);
	if (line == 0)
		line = valid_key_line(state, kind, other_key);
	return line != 0 ? line : state->line;
}

/* A message relayed to the pool carries the headers the edge adds (Via,
 * Record-Route, Path...), and the pool link is shared by every client: an
 * output limit that one large message could pass would tear it down for all
 * of them.  Blamed on output_max if it is written, else on sip_max_message,
 * else the file as a whole (line 0); both values must be valid. */
static void check_output_room(struct loader *loader)
{
	const struct limits_config *limits = &loader->config->limits;
	const struct section_state *state = &loader->limits;
	int line;

	if (!key_valid(state, SECTION_LIMITS, "output_max") ||
	    limits->output_max >= 2 * limits->sip_max_message)
		return;
	line = valid_key_line(state, SECTION_LIMITS, "output_max");
	if (line == 0)
		line = valid_key_line(state, SECTION_LIMITS, "sip_max_message");
	report(loader, line,
	       "output_max (%zu) is less than twice sip_max_message (%zu): a relayed message "
	       "grows by the headers the edge adds",
	       limits->output_max, limits->sip_max_message);
}

/* The total must hold one connection's queue, or a single slow reader
 * would be shed before it reached its own output_max. */
static void check_output_total(struct loader *loader)
{
	const struct limits_config *limits = &loader->config->limits;
	const struct section_state *state = &loader->limits;

	if (!key_valid(state, SECTION_LIMITS, "output_max") ||
	    !key_valid(state, SECTION_LIMITS, "output_total_max") ||
	    limits->output_total_max >= limits->output_max)
		return;
	report(loader, conflict_line(state, SECTION_LIMITS, "output_total_max", "output_max"),
	       "output_total_max (%zu) is less than output_max (%zu): one connection's queue "
	       "alone could pass it",
	       limits->output_total_max, limits->output_max);
}

static void check_limits(struct loader *loader)
{
	const struct limits_config *limits = &loader->config->limits;
	const struct section_state *state = &loader->limits;

	if (!key_valid(state, SECTION_LIMITS, "sip_max_message"))
		return;
	if (key_valid(state, SECTION_LIMITS, "sip_max_line") &&
	    limits->sip_max_line > limits->sip_max_message)
		report(loader,
		       conflict_line(state, SECTION_LIMITS, "sip_max_line", "sip_max_message"),
		       "sip_max_line (%zu) is larger than sip_max_message (%zu)",
		       limits->sip_max_line, limits->sip_max_message);
	check_output_room(loader);
	check_output_total(loader);
}

static const char *address_family_name(const char *address)
{
	return strchr(address, ':') != NULL ? "IPv6" : "IPv4";
}

/* The edge connects to the relay from the internal listener's address, so
 * both must be of one family; a wildcard internal address (0.0.0.0 or ::)
 * is no exception, it only picks the source within its family. */
static void check_relay_family(struct loader *loader)
{
	const struct sxedge_config *config = loader->config;
	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);
	int relay_line = valid_key_line(&loader->pool, SECTION_POOL, "relay");

	if (relay_line == 0 || internal == NULL)
		return;
	const struct section_state *internal_state =
		&loader->listener_states[internal - config->listeners];
	int address_line = valid_key_line(internal_state, SECTION_LISTENER, "address");
	if (address_line == 0)
		return;
	const char *relay_family = address_family_name(config->pool.relay_host);
	const char *internal_family = address_family_name(internal->address);
	if (strcmp(relay_family, internal_family) == 0)
		return;
	report(loader, relay_line,
	       "relay %s is %s but the internal listener \"%s\" has an %s address (%s, line %d): "
	       "the edge connects to the pool from that address, so both must be of one family",
	       config->pool.relay_host, relay_family, internal->name, internal_family,
	       internal->address, address_line);
}

static void check_pool(struct loader *loader)
{
	const struct pool_config *pool = &loader->config->pool;
	const struct section_state *state = &loader->pool;

	if (state->line == 0) {
		report(loader, 0, "missing required section [pool]");
		return;
	}
	check_required(loader, SECTION_POOL, state, "pool");
	check_relay_family(loader);
	if (!key_valid(state, SECTION_POOL, "reconnect_min") ||
	    !key_valid(state, SECTION_POOL, "reconnect_max"))
		return;
	if (pool->reconnect_max_s < pool->reconnect_min_s)
		report(loader, conflict_line(state, SECTION_POOL, "reconnect_max", "reconnect_min"),
		       "reconnect_max (%u) is less than reconnect_min (%u)", pool->reconnect_max_s,
		       pool->reconnect_min_s);
}

static bool is_wildcard_address(const char *address)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, address, &v4) == 1)
		return v4.s_addr == htonl(INADDR_ANY);
	return inet_pton(AF_INET6, address, &v6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&v6);
}

/* Role-dependent defaults and rules of one listener. */
static void finish_listener(struct loader *loader, struct listener_config *listener,
			    struct section_state *state)
{
	char label[LISTENER_NAME_MAX + 16];
	bool role_known = key_valid(state, SECTION_LISTENER, "role");

	snprintf(label, sizeof(label), "listener %s", listener->name);
	apply_defaults(loader, SECTION_LISTENER, state, listener);
	check_required(loader, SECTION_LISTENER, state, label);

	/* The pool and partner edges are known by their certificates alone. */
	bool mutual = role_known && listener->role != ROLE_ACCESS;
	if (!key_in_file(state, SECTION_LISTENER, "client_certificate")) {
		listener->client_cert = mutual ? CLIENT_CERT_REQUIRED : CLIENT_CERT_NONE;
	} else if (mutual && key_valid(state, SECTION_LISTENER, "client_certificate") &&
		   listener->client_cert != CLIENT_CERT_REQUIRED) {
		report(loader, valid_key_line(state, SECTION_LISTENER, "client_certificate"),
		       "client_certificate must be required on %s",
		       listener->role == ROLE_INTERNAL
			       ? "an internal listener (the pool is known by its certificate)"
			       : "a federation listener (partner edges are known by their "
				 "certificates)");
	}
	if (listener->client_cert != CLIENT_CERT_NONE &&
	    !key_in_file(state, SECTION_LISTENER, "ca_file"))
		report(loader, state->line,
		       "missing required key ca_file in [%s] (client certificates are %s)", label,
		       listener->client_cert == CLIENT_CERT_REQUIRED ? "required" : "optional");

	if (!key_valid(state, SECTION_LISTENER, "address"))
		return;
	if (!key_in_file(state, SECTION_LISTENER, "advertise")) {
		if (is_wildcard_address(listener->address)) {
			report(loader, state->line,
			       "missing advertise in [%s]: address %s is a wildcard, so peers "
			       "need a name or address to reach this listener",
			       label, listener->address);
			return;
		}
		listener->advertise_host = strdup(listener->address);
		if (listener->advertise_host == NULL)
			report(loader, state->line, "out of memory");
	}
	if (listener->advertise_port == 0)
		listener->advertise_port = listener->port;
}

static bool same_socket(const struct listener_config *a, const struct listener_config *b)
{
	unsigned char bytes_a[16] = { 0 }, bytes_b[16] = { 0 };
	int family_a = strchr(a->address, ':') != NULL ? AF_INET6 : AF_INET;
	int family_b = strchr(b->address, ':') != NULL ? AF_INET6 : AF_INET;

	if (a->port != b->port || family_a != family_b)
		return false;
	/* Binding both a wildcard and a specific address of one port fails too. */
	if (is_wildcard_address(a->address) || is_wildcard_address(b->address))
		return true;
	inet_pton(family_a, a->address, bytes_a);
	inet_pton(family_b, b->address, bytes_b);
	return memcmp(bytes_a, bytes_b, sizeof(bytes_a)) == 0;
}

static bool listener_socket_known(const struct section_state *state)
{
	return key_valid(state, SECTION_LISTENER, "address") &&
	       key_valid(state, SECTION_LISTENER, "port");
}

/* Reports LISTENER if it advertises the same host:port as OTHER, a
 * listener of another side. */
static void check_advertised_apart(struct loader *loader, const struct listener_config *listener,
				   const struct listener_config *other)
{
	if (listener->advertise_host == NULL || other->advertise_host == NULL)
		return;
	if (strcasecmp(listener->advertise_host, other->advertise_host) != 0 ||
	    listener->advertise_port != other->advertise_port)
		return;
	report(loader, listener->line,
	       "listener \"%s\" advertises %s port %u like the %s listener \"%s\" (line %d): "
	       "the two sides must advertise different host:port pairs",
	       listener->name, listener->advertise_host, listener->advertise_port,
	       config_role_name(other->role), other->name, other->line);
}

/* Routing tells the edge's sides apart by the host and port each one
 * advertises in Via, Record-Route and Path, so they must differ: every
 * access listener and the federation listener from the internal one, and
 * the federation listener from every access one.  INTERNAL and FEDERATION
 * may be NULL. */
static void check_advertised_sides(struct loader *loader, const struct listener_config *internal,
				   const struct listener_config *federation)
{
	const struct sxedge_config *config = loader->config;

	for (size_t i = 0; i < config->n_listeners; i++) {
		const struct listener_config *listener = &config->listeners[i];
		if (listener->role != ROLE_ACCESS)
			continue;
		if (internal != NULL)
			check_advertised_apart(loader, listener, internal);
		if (federation != NULL)
			check_advertised_apart(loader, federation, listener);
	}
	if (internal != NULL && federation != NULL)
		check_advertised_apart(loader, federation, internal);
}

/* The first listener with ROLE is kept in *FIRST; later ones are reported. */
static void count_role(struct loader *loader, const struct listener_config *listener,
		       const struct listener_config **first, size_t *n)
{
	if ((*n)++ == 0) {
		*first = listener;
		return;
	}
	report(loader, listener->line, "more than one %s listener: \"%s\" was first (line %d)",
	       config_role_name(listener->role), (*first)->name, (*first)->line);
}

static void check_listeners(struct loader *loader)
{
	const struct sxedge_config *config = loader->config;
	size_t n_access = 0, n_internal = 0, n_federation = 0, n_unknown = 0;
	const struct listener_config *first_internal = NULL, *first_federation = NULL;

	for (size_t i = 0; i < config->n_listeners; i++) {
		const struct listener_config *listener = &config->listeners[i];
		const struct section_state *state = &loader->listener_states[i];
		if (!key_valid(state, SECTION_LISTENER, "role"))
			n_unknown++;
		else if (listener->role == ROLE_ACCESS)
			n_access++;
		else if (listener->role == ROLE_INTERNAL)
			count_role(loader, listener, &first_internal, &n_internal);
		else
			count_role(loader, listener, &first_federation, &n_federation);
		for (size_t j = 0; j < i && listener_socket_known(state); j++) {
			const struct listener_config *other = &config->listeners[j];
			if (listener_socket_known(&loader->listener_states[j]) &&
			    same_socket(listener, other))
				report(loader, listener->line,
				       "listener \"%s\" on %s port %u clashes with listener "
				       "\"%s\" on %s (line %d)",
				       listener->name, listener->address, listener->port,
				       other->name, other->address, other->line);
		}
	}
	if (n_unknown > 0)
		return; /* the missing role was reported; guessing further would mislead */
	loader->roles_known = true;
	check_advertised_sides(loader, first_internal, first_federation);
	if (n_access == 0)
		report(loader, 0,
		       "no access listener: a [listener NAME] with role = access "
		       "is required");
	if (n_internal == 0)
		report(loader, 0,
		       "no internal listener: exactly one [listener NAME] with "
		       "role = internal is required");
}

/* Defaults and rules of one [partner] section. */
static void finish_partner(struct loader *loader, struct partner_config *partner,
			   struct section_state *state)
{
	apply_defaults(loader, SECTION_PARTNER, state, partner);
	if (partner->burst == 0)
		partner->burst = partner->rate;
	if (partner->address_port == 0)
		partner->address_port = FEDERATION_PORT;

	/* Without edge names there would be nothing to check the certificate of
	 * the edge at that address against. */
	int address_line = valid_key_line(state, SECTION_PARTNER, "address");
	if (address_line != 0 && !key_in_file(state, SECTION_PARTNER, "edge"))
		report(loader, address_line,
		       "address needs edge in [partner %s]: the names the partner's certificate "
		       "must carry",
		       partner->domain);
	if (config_is_our_domain(loader->config, partner->domain))
		report(loader, partner->line,
		       "[partner %s] is one of our own domains (see domains in [global])",
		       partner->domain);
}

/* The reason for federation settings that need a federation listener. */
#define NEEDS_FEDERATION_LISTENER "a [listener NAME] with role = federation"

static void check_federation(struct loader *loader)
{
	struct sxedge_config *config = loader->config;
	struct federation_config *federation = &config->federation;
	struct section_state *state = &loader->federation;

	apply_defaults(loader, SECTION_FEDERATION, state, federation);
	if (federation->dns_server_port == 0)
		federation->dns_server_port = DNS_PORT;

	/* Our own domains are never blocked: saying so is a mistake. */
	for (size_t i = 0; i < federation->n_blocked; i++) {
		if (!config_is_our_domain(config, federation->blocked[i]))
			continue;
		int line = list_entry_line(loader, SECTION_FEDERATION, "blocked", 0, i);
		report(loader, line != 0 ? line : state->line,
		       "blocked domain %s is one of our own domains (see domains in [global])",
		       federation->blocked[i]);
	}

	for (size_t i = 0; i < config->n_partners; i++)
		finish_partner(loader, &config->partners[i], &loader->partner_states[i]);

	/* With a listener of unknown role, a federation listener may be there. */
	if (!loader->roles_known || config_listener(config, ROLE_FEDERATION) != NULL)
		return;
	int open_line = valid_key_line(state, SECTION_FEDERATION, "open");
	if (open_line != 0 && federation->open)
		report(loader, open_line,
		       "open = yes needs a federation listener (" NEEDS_FEDERATION_LISTENER ")");
	for (size_t i = 0; i < config->n_partners; i++)
		report(loader, config->partners[i].line,
		       "[partner %s] needs a federation listener (" NEEDS_FEDERATION_LISTENER ")",
		       config->partners[i].domain);
}

/* user, group and allow_root together: the group defaults to the user's
 * own, and a group without a user, or root permitted next to a user to
 * drop to, would say something that does not happen. */
static void finish_run_as(struct loader *loader)
{
	struct run_as_config *run_as = &loader->config->run_as;
	const struct section_state *state = &loader->global;
	int user_line = valid_key_line(state, SECTION_GLOBAL, "user");
	int group_line = valid_key_line(state, SECTION_GLOBAL, "group");
	int allow_line = valid_key_line(state, SECTION_GLOBAL, "allow_root");

	run_as->line = state->line;
	if (group_line != 0 && !key_in_file(state, SECTION_GLOBAL, "user"))
		report(loader, group_line,
		       "group needs user in [global]: the daemon only changes its group when it "
		       "drops to a user");
	if (user_line != 0 && !key_in_file(state, SECTION_GLOBAL, "group")) {
		run_as->gid = run_as->user_gid;
		if (run_as->gid == 0)
			report(loader, user_line,
			       "user %s has gid 0 (root's group) as its primary group: set group "
			       "in [global] to another",
			       run_as->user);
	}
	if (allow_line != 0 && run_as->allow_root && key_in_file(state, SECTION_GLOBAL, "user"))
		report(loader, allow_line,
		       "allow_root = yes contradicts user (line %d): the daemon drops to that "
		       "user; remove one of them",
		       state->key_line[option_index(SECTION_GLOBAL, "user")]);
}

/* The default of a reserved budget: FIXED, or a tenth of max_connections
 * when that is less, so a small max_connections still leaves most of its
 * room to access. */
static unsigned reserved_budget(unsigned fixed, unsigned max_connections)
{
	unsigned tenth = max_connections / 10 > 0 ? max_connections / 10 : 1;
	return fixed < tenth ? fixed : tenth;
}

/* The line to blame when the role budgets do not fit: the first of them
 * set in the file, else max_connections, else the section header. */
static int budget_line(const struct section_state *state)
{
	static const char *const keys[] = { "max_connections_access", "max_connections_internal",
					    "max_connections_federation" };
	int line = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int key_line = valid_key_line(state, SECTION_LIMITS, keys[i]);
		if (key_line != 0 && (line == 0 || key_line < line))
			line = key_line;
	}
	if (line == 0)
		line = valid_key_line(state, SECTION_LIMITS, "max_connections");
	return line != 0 ? line : state->line;
}

/* max_connections is split among the roles that have a listener: the pool
 * and the partner edges each get a budget access can never take (the
 * internal and federation defaults), and access gets the rest unless set. */
static void check_connection_budgets(struct loader *loader)
{
	struct limits_config *limits = &loader->config->limits;
	const struct section_state *state = &loader->limits;
	bool federation = config_listener(loader->config, ROLE_FEDERATION) != NULL;

	if (!loader->roles_known || !key_valid(state, SECTION_LIMITS, "max_connections"))
		return;
	if (!key_in_file(state, SECTION_LIMITS, "max_connections_internal"))
		limits->max_connections_internal = reserved_budget(100, limits->max_connections);
	if (!key_in_file(state, SECTION_LIMITS, "max_connections_federation"))
		limits->max_connections_federation = reserved_budget(1000, limits->max_connections);
	if ((key_in_file(state, SECTION_LIMITS, "max_connections_access") &&
	     !key_valid(state, SECTION_LIMITS, "max_connections_access")) ||
	    (key_in_file(state, SECTION_LIMITS, "max_connections_internal") &&
	     !key_valid(state, SECTION_LIMITS, "max_connections_internal")) ||
	    (key_in_file(state, SECTION_LIMITS, "max_connections_federation") &&
	     !key_valid(state, SECTION_LIMITS, "max_connections_federation")))
		return; /* reported already */

	unsigned long long reserved = (unsigned long long)limits->max_connections_internal +
				      (federation ? limits->max_connections_federation : 0);
	char others[160];
	snprintf(others, sizeof(others), "max_connections_internal (%u)%s",
		 limits->max_connections_internal, federation ? " and " : "");
	if (federation)
		snprintf(others + strlen(others), sizeof(others) - strlen(others),
			 "max_connections_federation (%u)", limits->max_connections_federation);

	if (!key_in_file(state, SECTION_LIMITS, "max_connections_access")) {
		if (reserved < limits->max_connections) {
			limits->max_connections_access =
				(unsigned)(limits->max_connections - reserved);
			return;
		}
		report(loader, budget_line(state),
		       "max_connections (%u) leaves no room for access connections after %s: "
		       "raise max_connections",
		       limits->max_connections, others);
		return;
	}
	unsigned long long total = reserved + limits->max_connections_access;
	if (total > limits->max_connections)
		report(loader, budget_line(state),
		       "max_connections_access (%u) and %s add up to %llu, more than "
		       "max_connections (%u)",
		       limits->max_connections_access, others, total, limits->max_connections);
}

static void check_whole(struct loader *loader)
{
	struct sxedge_config *config = loader->config;

	loader->line = 0;
	apply_defaults(loader, SECTION_GLOBAL, &loader->global, config);
	apply_defaults(loader, SECTION_LIMITS, &loader->limits, &config->limits);
	apply_defaults(loader, SECTION_POOL, &loader->pool, &config->pool);

	if (loader->global.line == 0)
		report(loader, 0, "missing required section [global] (it holds domains)");
	else
		check_required(loader, SECTION_GLOBAL, &loader->global, "global");
	finish_run_as(loader);
	check_limits(loader);
	for (size_t i = 0; i < config->n_listeners; i++)
		finish_listener(loader, &config->listeners[i], &loader->listener_states[i]);
	check_listeners(loader);
	check_connection_budgets(loader);
	check_pool(loader);
	check_federation(loader);
}

/* ---- Public ---- */

struct sxedge_config *config_load(const char *path, FILE *errors)
{
	struct loader loader = { .path = path, .errors = errors };
	struct stat status;
	FILE *file;

	file = fopen(path, "re");
	if (file != NULL && fstat(fileno(file), &status) == 0 && S_ISDIR(status.st_mode)) {
		fclose(file);
		file = NULL;
		errno = EISDIR;
	}
	if (file == NULL) {
		report(&loader, 0, "cannot open: %s", strerror(errno));
		write_problems(&loader);
		return NULL;
	}
	loader.config = calloc(1, sizeof(*loader.config));
	if (loader.config == NULL || (loader.config->path = strdup(path)) == NULL) {
		report(&loader, 0, "out of memory");
		write_problems(&loader);
		free(loader.config);
		fclose(file);
		return NULL;
	}
	read_lines(&loader, file);
	fclose(file);
	check_whole(&loader);
	free(loader.listener_states);
	free(loader.partner_states);
	free(loader.list_origins);
	write_problems(&loader);

	if (loader.error_count > 0) {
		config_free(loader.config);
		return NULL;
	}
	return loader.config;
}

static void listener_free(struct listener_config *listener)
{
	free(listener->name);
	free(listener->address);
	free(listener->advertise_host);
	free(listener->certificate);
	free(listener->key);
	free(listener->ca_file);
}

static void partner_free(struct partner_config *partner)
{
	free(partner->domain);
	free_strings(partner->edges, partner->n_edges);
	free(partner->address_host);
}

void config_free(struct sxedge_config *config)
{
	if (config == NULL)
		return;
	free(config->path);
	free_strings(config->domains, config->n_domains);
	free(config->run_as.user);
	free(config->run_as.group);
	for (size_t i = 0; i < config->n_listeners; i++)
		listener_free(&config->listeners[i]);
	free(config->listeners);
	free_strings(config->pool.fqdns, config->pool.n_fqdns);
	free(config->pool.relay_host);
	free_strings(config->federation.blocked, config->federation.n_blocked);
	free(config->federation.dns_server_host);
	for (size_t i = 0; i < config->n_partners; i++)
		partner_free(&config->partners[i]);
	free(config->partners);
	explicit_bzero(config, sizeof(*config)); /* the flow secret */
	free(config);
}

const struct listener_config *config_listener(const struct sxedge_config *config,
					      enum listener_role role)
{
	for (size_t i = 0; i < config->n_listeners; i++) {
		if (config->listeners[i].role == role)
			return &config->listeners[i];
	}
	return NULL;
}

/* Whether DOMAIN, from a message, names the CONFIGURED one: case aside, and
 * with or without the trailing dot of a fully qualified name
 * ("example.test."), so From, To and the Request-URI all read it alike. */
static bool domain_names(const char *configured, const char *domain)
{
	size_t length = strlen(domain);

	if (length > 1 && domain[length - 1] == '.')
		length--;
	return strlen(configured) == length && strncasecmp(configured, domain, length) == 0;
}

bool config_is_our_domain(const struct sxedge_config *config, const char *domain)
{
	if (domain == NULL)
		return false;
	for (size_t i = 0; i < config->n_domains; i++) {
		if (domain_names(config->domains[i], domain))
			return true;
	}
	return false;
}

const struct partner_config *config_partner(const struct sxedge_config *config, const char *domain)
{
	if (domain == NULL)
		return NULL;
	for (size_t i = 0; i < config->n_partners; i++) {
		if (domain_names(config->partners[i].domain, domain))
			return &config->partners[i];
	}
	return NULL;
}

const char *config_role_name(enum listener_role role)
{
	switch (role) {
	case ROLE_ACCESS:
		return "access";
	case ROLE_INTERNAL:
		return "internal";
	case ROLE_FEDERATION:
		return "federation";
	}
	return "unknown";
}
