/* SPDX-License-Identifier: ISC */
/* config_keywords: the parsers behind option rows, one per kind of value.
 * Each reads a value as config_values.c defines its syntax, checks it
 * against what its row says (range, the row's own names for a keyword) and
 * stores it in the field the row names, or reports why it cannot. */
#include "config_module.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config_values.h"

static void *field_at(void *base, size_t offset)
{
	return (char *)base + offset;
}

/* ---- Numbers ---- */

static int parse_number(struct config_loader *loader, const struct config_option *option,
			const char *value, unsigned long long *number)
{
	char expected[96];

	if (config_number_parse(value, number) && *number >= option->min && *number <= option->max)
		return 0;
	snprintf(expected, sizeof(expected), "a whole number from %llu to %llu", option->min,
		 option->max);
	config_report_bad_value(loader, option, value, expected);
	return -1;
}

int config_parse_u16(struct config_loader *loader, const struct config_option *option,
		     const char *value, void *base)
{
	unsigned long long number;

	if (parse_number(loader, option, value, &number) < 0)
		return -1;
	*(uint16_t *)field_at(base, option->offset) = (uint16_t)number;
	return 0;
}

int config_parse_unsigned(struct config_loader *loader, const struct config_option *option,
			  const char *value, void *base)
{
	unsigned long long number;

	if (parse_number(loader, option, value, &number) < 0)
		return -1;
	*(unsigned *)field_at(base, option->offset) = (unsigned)number;
	return 0;
}

int config_parse_size(struct config_loader *loader, const struct config_option *option,
		      const char *value, void *base)
{
	unsigned long long number;

	if (parse_number(loader, option, value, &number) < 0)
		return -1;
	*(size_t *)field_at(base, option->offset) = (size_t)number;
	return 0;
}

/* ---- Words ---- */

void config_names_join(char *buf, size_t size, const char *const *names)
{
	size_t n = 0, used = 0;

	while (names[n] != NULL)
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		const char *separator = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int written = snprintf(buf + used, size - used, "%s%s", separator, names[i]);
		if (written < 0)
			return;
		used += (size_t)written;
	}
}

/* The row's names are the enum's values in order: the field gets the index
 * of the one VALUE matches, case aside. */
int config_parse_keyword(struct config_loader *loader, const struct config_option *option,
			 const char *value, void *base)
{
	char expected[256];

	for (size_t i = 0; option->names[i] != NULL; i++) {
		if (strcasecmp(value, option->names[i]) == 0) {
			*(unsigned *)field_at(base, option->offset) = (unsigned)i;
			return 0;
		}
	}
	config_names_join(expected, sizeof(expected), option->names);
	config_report_bad_value(loader, option, value, expected);
	return -1;
}

int config_parse_bool(struct config_loader *loader, const struct config_option *option,
		      const char *value, void *base)
{
	static const char *const names[] = { "no", "yes", "false", "true", "off", "on", "0", "1" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(value, names[i]) == 0) {
			*(bool *)field_at(base, option->offset) = i % 2 == 1;
			return 0;
		}
	}
	config_report_bad_value(loader, option, value, "yes, no, true, false, on, off, 1 or 0");
	return -1;
}

int config_parse_log_level(struct config_loader *loader, const struct config_option *option,
			   const char *value, void *base)
{
	enum log_level level;

	if (log_level_parse(value, &level) < 0) {
		config_report_bad_value(loader, option, value,
					"error, warning, notice, info or debug");
		return -1;
	}
	*(enum log_level *)field_at(base, option->offset) = level;
	return 0;
}

int config_parse_log_facility(struct config_loader *loader, const struct config_option *option,
			      const char *value, void *base)
{
	if (log_facility_parse(value, (int *)field_at(base, option->offset)) < 0) {
		config_report_bad_value(loader, option, value, "daemon, user or local0 to local7");
		return -1;
	}
	return 0;
}

/* An absolute path that fits a unix socket address; whether anything
 * listens there is known only when the daemon connects. */
int config_parse_socket_path(struct config_loader *loader, const struct config_option *option,
			     const char *value, void *base)
{
	if (value[0] != '/' || strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		config_report_bad_value(loader, option, value,
					"an absolute path of at most 107 bytes");
		return -1;
	}
	char *copy = config_copy_value(loader, value);
	if (copy == NULL)
		return -1;
	*(char **)field_at(base, option->offset) = copy;
	return 0;
}

/* ---- Lists of names ---- */

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
	config_lower_case(copy);
	(*list)[(*n)++] = copy;
	return 0;
}

/* Domain names separated by commas and/or blanks, stored lower case.  A
 * list key may be repeated and its lines add up, since inih limits a line's
 * length and a long list must still fit. */
int config_parse_name_list(struct config_loader *loader, const struct config_option *option,
			   const char *value, void *base)
{
	static const char separators[] = ", \t";
	char ***list = field_at(base, option->offset);
	size_t *n = field_at(base, option->offset2);
	size_t first = *n;
	char quoted[CONFIG_QUOTE_SIZE], expected[CONFIG_QUOTE_SIZE + 64];
	const char *name = value + strspn(value, separators);

	while (*name != '\0') {
		size_t length = strcspn(name, separators);
		char *copy = strndup(name, length);
		bool ok = copy != NULL && config_is_host_name(copy);
		if (!ok) {
			snprintf(expected, sizeof(expected), "domain names (%s is not one)",
				 config_quote(quoted, copy != NULL ? copy : ""));
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
	config_list_origin_note(loader, option, *n);
	return 0;
bad:
	config_report_bad_value(loader, option, value, expected);
	while (*n > first)
		free((*list)[--*n]);
	return -1;
}

/* Words separated by commas and/or blanks, kept as written, for a module
 * whose check reads each (with config_list_entry_line for its line).
 * Repeated lines add up, as for names. */
int config_parse_word_list(struct config_loader *loader, const struct config_option *option,
			   const char *value, void *base)
{
	static const char separators[] = ", \t";
	char ***list = field_at(base, option->offset);
	size_t *n = field_at(base, option->offset2);
	size_t first = *n;
	const char *word = value + strspn(value, separators);

	while (*word != '\0') {
		size_t length = strcspn(word, separators);
		char **grown = realloc(*list, (*n + 1) * sizeof(**list));
		char *copy = grown != NULL ? strndup(word, length) : NULL;
		if (grown != NULL)
			*list = grown;
		if (copy == NULL) {
			config_report_bad_value(loader, option, value,
						"a shorter list (out of memory)");
			goto bad;
		}
		(*list)[(*n)++] = copy;
		word += length;
		word += strspn(word, separators);
	}
	if (*n == first) {
		config_report_bad_value(loader, option, value, "at least one entry");
		goto bad;
	}
	config_list_origin_note(loader, option, *n);
	return 0;
bad:
	while (*n > first)
		free((*list)[--*n]);
	return -1;
}

/* ---- Addresses ---- */

int config_parse_ip_address(struct config_loader *loader, const struct config_option *option,
			    const char *value, void *base)
{
	char *copy;

	if (!config_is_ip_address(value)) {
		config_report_bad_value(loader, option, value, "an IPv4 or IPv6 address");
		return -1;
	}
	copy = config_copy_value(loader, value);
	if (copy == NULL)
		return -1;
	*(char **)field_at(base, option->offset) = copy;
	return 0;
}

/* A host name or IP literal with an optional port ("host", "host:port",
 * "[v6]:port" or a bare IPv6 literal); a port left out is stored as 0. */
int config_parse_host_optional_port(struct config_loader *loader,
				    const struct config_option *option, const char *value,
				    void *base)
{
	char *host = NULL;
	uint16_t port = 0;

	if (!config_host_port_split(value, &host, &port)) {
		config_report_bad_value(loader, option, value,
					"host or host:port, port 1 to 65535 (IPv6: "
					"[address]:port)");
		return -1;
	}
	*(char **)field_at(base, option->offset) = host;
	*(uint16_t *)field_at(base, option->offset2) = port;
	return 0;
}

/* An IP literal with an optional port ("IP", "IP:port", "[v6]:port" or a
 * bare IPv6 literal); a port left out is stored as 0 and defaulted later. */
int config_parse_ip_optional_port(struct config_loader *loader, const struct config_option *option,
				  const char *value, void *base)
{
	char *host = NULL;
	uint16_t port = 0;

	if (!config_host_port_split(value, &host, &port) || !config_is_ip_address(host)) {
		free(host);
		config_report_bad_value(loader, option, value,
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
int config_parse_ip_port(struct config_loader *loader, const struct config_option *option,
			 const char *value, void *base)
{
	char *host = NULL;
	uint16_t port = 0;

	if (!config_host_port_split(value, &host, &port) || port == 0 ||
	    !config_is_ip_address(host)) {
		free(host);
		config_report_bad_value(loader, option, value,
					"an IP address and port 1 to 65535, IPv6 as "
					"[address]:port (names are not resolved)");
		return -1;
	}
	*(char **)field_at(base, option->offset) = host;
	*(uint16_t *)field_at(base, option->offset2) = port;
	return 0;
}

/* ---- Files ---- */

/* Certificates and keys are read much later (after the whole file is
 * checked, and maybe by another user), but a path that cannot even be opened
 * now is almost always a typo, and is best named with its line. */
int config_parse_readable_file(struct config_loader *loader, const struct config_option *option,
			       const char *value, void *base)
{
	char quoted[CONFIG_QUOTE_SIZE];
	struct stat status;
	int fd;

	if (value[0] == '\0') {
		config_report_bad_value(loader, option, value, "a file name");
		return -1;
	}
	/* O_NONBLOCK: a FIFO put there by mistake must not hang the check. */
	fd = open(value, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		config_report(loader, config_current_line(loader), "cannot read %s %s: %s",
			      option->key, config_quote(quoted, value), strerror(errno));
		return -1;
	}
	bool regular = fstat(fd, &status) == 0 && S_ISREG(status.st_mode);
	close(fd);
	if (!regular) {
		config_report(loader, config_current_line(loader),
			      "cannot read %s %s: not a regular file", option->key,
			      config_quote(quoted, value));
		return -1;
	}
	char *copy = config_copy_value(loader, value);
	if (copy == NULL)
		return -1;
	*(char **)field_at(base, option->offset) = copy;
	return 0;
}

/* A 32-byte secret as 64 hex digits; sets the bool at offset2. */
int config_parse_secret(struct config_loader *loader, const struct config_option *option,
			const char *value, void *base)
{
	unsigned char *secret = (unsigned char *)base + option->offset;
	unsigned char bytes[32];

	/* The value is a secret: the message never repeats it. */
	if (strlen(value) != 2 * sizeof(bytes)) {
		config_report(loader, config_current_line(loader),
			      "bad value for %s: expected exactly 64 hex digits", option->key);
		return -1;
	}
	for (size_t i = 0; i < sizeof(bytes); i++) {
		int high = config_hex_digit(value[2 * i]), low = config_hex_digit(value[2 * i + 1]);
		if (high < 0 || low < 0) {
			config_report(loader, config_current_line(loader),
				      "bad value for %s: expected exactly 64 hex digits",
				      option->key);
			return -1;
		}
		bytes[i] = (unsigned char)(high << 4 | low);
	}
	memcpy(secret, bytes, sizeof(bytes));
	explicit_bzero(bytes, sizeof(bytes));
	*(bool *)((char *)base + option->offset2) = true;
	return 0;
}
