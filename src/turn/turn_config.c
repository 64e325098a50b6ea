/* SPDX-License-Identifier: ISC */
/* turn_config: [turn] as rows for the configuration engine
 * (config_module.h), the parsers of its own kinds of value (realm, secret,
 * secret file, port range), allowed_peers read with peer_policy's prefix
 * parser, and the checks that relate its options to each other and to
 * [global]. */
#include "turn_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_values.h"

#define TURN(field) offsetof(struct turn_config, field)

static void *field_at(void *base, size_t offset)
{
	return (char *)base + offset;
}

/* ---- Realm ---- */

/* RFC 8489 sends the realm as a quoted string: no quote or backslash, and
 * printable so that it reads well in logs. */
static int parse_realm(struct config_loader *loader, const struct config_option *option,
		       const char *value, void *base)
{
	size_t length = strlen(value);
	bool good = length >= 1 && length <= TURN_REALM_MAX;

	for (const char *c = value; good && *c != '\0'; c++)
		good = *c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\';
	if (!good) {
		config_report_bad_value(loader, option, value,
					"1 to 127 printable characters, without \" or \\");
		return -1;
	}
	char *copy = config_copy_value(loader, value);
	if (copy == NULL)
		return -1;
	*(char **)field_at(base, option->offset) = copy;
	return 0;
}

/* ---- The shared secret ---- */

static void secret_clear(struct turn_config *turn)
{
	if (turn->secret != NULL)
		explicit_bzero(turn->secret, turn->secret_length);
	free(turn->secret);
	turn->secret = NULL;
	turn->secret_length = 0;
}

/* Keeps a copy of the LENGTH bytes of SECRET (long enough) as the secret,
 * whichever key gave it: both given is reported by the check. */
static int secret_store(struct config_loader *loader, struct turn_config *turn, const char *key,
			const char *secret, size_t length)
{
	if (length < TURN_SECRET_MIN) {
		config_report(loader, config_current_line(loader),
			      "bad value for %s: expected at least %d bytes (a short secret can be "
			      "found from one credential)",
			      key, TURN_SECRET_MIN);
		return -1;
	}
	unsigned char *copy = malloc(length);
	if (copy == NULL) {
		config_report(loader, config_current_line(loader), "out of memory");
		return -1;
	}
	memcpy(copy, secret, length);
	secret_clear(turn);
	turn->secret = copy;
	turn->secret_length = length;
	return 0;
}

/* The value is a secret: no message repeats it. */
static int parse_secret(struct config_loader *loader, const struct config_option *option,
			const char *value, void *base)
{
	return secret_store(loader, base, option->key, value, strlen(value));
}

/* Reads up to TURN_SECRET_FILE_MAX bytes of PATH into BUF; returns the
 * length, or -1 with errno (EFBIG: longer). */
static ssize_t read_secret_file(const char *path, char buf[TURN_SECRET_FILE_MAX + 1])
{
	/* O_NONBLOCK: a FIFO put there by mistake must not hang the check. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	size_t used = 0;

	if (fd < 0)
		return -1;
	while (used <= TURN_SECRET_FILE_MAX) {
		ssize_t n = read(fd, buf + used, TURN_SECRET_FILE_MAX + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (used > TURN_SECRET_FILE_MAX) {
		errno = EFBIG;
		return -1;
	}
	return (ssize_t)used;
}

/* The file is read now, at its line, so a reload picks up a new secret and
 * a missing file is named where it is configured. */
static int parse_secret_file(struct config_loader *loader, const struct config_option *option,
			     const char *value, void *base)
{
	char buf[TURN_SECRET_FILE_MAX + 1], quoted[CONFIG_QUOTE_SIZE];
	const char *problem = NULL;
	ssize_t length;

	if (value[0] == '\0') {
		config_report_bad_value(loader, option, value, "a file name");
		return -1;
	}
	length = read_secret_file(value, buf);
	if (length < 0) {
		config_report(loader, config_current_line(loader), "cannot read %s %s: %s",
			      option->key, config_quote(quoted, value),
			      errno == EFBIG ? "longer than 4096 bytes" : strerror(errno));
		return -1;
	}
	size_t end = (size_t)length;
	if (end > 0 && buf[end - 1] == '\n')
		end--;
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	if (memchr(buf, '\n', end) != NULL)
		problem = "holds more than one line";
	else if (end < TURN_SECRET_MIN)
		problem = "holds fewer than 16 bytes (a short secret can be found from one "
			  "credential)";
	int result = 0;
	if (problem != NULL) {
		config_report(loader, config_current_line(loader), "%s %s %s", option->key,
			      config_quote(quoted, value), problem);
		result = -1;
	} else {
		result = secret_store(loader, base, option->key, buf, end);
	}
	explicit_bzero(buf, sizeof(buf));
	return result;
}

/* ---- Relay ports ---- */

/* "FIRST-LAST": the relays' ports, none privileged. */
static int parse_port_range(struct config_loader *loader, const struct config_option *option,
			    const char *value, void *base)
{
	const char *dash = strchr(value, '-');
	unsigned long long first, last;
	char first_text[8] = "", last_text[8] = "";

	if (dash != NULL && (size_t)(dash - value) < sizeof(first_text) &&
	    strlen(dash + 1) < sizeof(last_text)) {
		memcpy(first_text, value, (size_t)(dash - value));
		strcpy(last_text, dash + 1);
	}
	if (!config_number_parse(first_text, &first) || !config_number_parse(last_text, &last) ||
	    first < 1024 || last > 65535 || first > last) {
		config_report_bad_value(loader, option, value,
					"FIRST-LAST, ports from 1024 to 65535, FIRST not above "
					"LAST");
		return -1;
	}
	struct port_range *range = field_at(base, option->offset);
	range->first = (uint16_t)first;
	range->last = (uint16_t)last;
	return 0;
}

/* ---- The section ---- */

/* Each row reads
 *	{ key, parser, field,
 *	  second field, default, min, max, required, keyword names }, */
/* clang-format off */
static const struct config_option turn_options[] = {
	{ "realm", parse_realm, TURN(realm),
	  0, NULL, 0, 0, false, NULL }, /* absent: the first of [global] domains */
	{ "shared_secret", parse_secret, TURN(secret),
	  0, NULL, 0, 0, false, NULL }, /* this or shared_secret_file */
	{ "shared_secret_file", parse_secret_file, TURN(secret),
	  0, NULL, 0, 0, false, NULL },
	{ "relay_address", config_parse_ip_address, TURN(relay_address),
	  0, NULL, 0, 0, true, NULL },
	{ "external_address", config_parse_ip_address, TURN(external_address),
	  0, NULL, 0, 0, false, NULL }, /* absent: relay_address */
	{ "relay_address6", config_parse_ip_address, TURN(relay_address6),
	  0, NULL, 0, 0, false, NULL }, /* absent: no second relay */
	{ "external_address6", config_parse_ip_address, TURN(external_address6),
	  0, NULL, 0, 0, false, NULL }, /* absent: relay_address6 */
	{ "relay_ports", parse_port_range, TURN(relay_ports),
	  0, "50000-59999", 0, 0, false, NULL },
	{ "max_allocations", config_parse_unsigned, TURN(max_allocations),
	  0, "10000", 1, 1000000, false, NULL },
	{ "max_allocations_per_user", config_parse_unsigned, TURN(max_allocations_per_user),
	  0, "10", 1, 1000000, false, NULL }, /* at most max_allocations */
	{ "max_lifetime", config_parse_unsigned, TURN(max_lifetime_s),
	  0, "3600", 600, 86400, false, NULL },
	{ "max_permissions", config_parse_unsigned, TURN(max_permissions),
	  0, "32", 1, 1024, false, NULL },
	{ "max_channels", config_parse_unsigned, TURN(max_channels),
	  0, "32", 1, 4096, false, NULL },
	{ "max_peer_connections", config_parse_unsigned, TURN(max_peer_connections),
	  0, "8", 1, 1024, false, NULL },
	{ "max_bandwidth", config_parse_unsigned, TURN(max_bandwidth),
	  0, "1048576", 0, 1000000000, false, NULL }, /* 0: no cap */
	{ "allowed_peers", config_parse_word_list, TURN(allowed_peer_words),
	  TURN(n_allowed_peer_words), NULL, 0, 0, false, NULL }, /* none */
	{ "nonce_lifetime", config_parse_unsigned, TURN(nonce_lifetime_s),
	  0, "600", 30, 86400, false, NULL },
	{ "max_connections_per_address", config_parse_unsigned,
	  TURN(max_connections_per_address),
	  0, "64", 0, 1000000, false, NULL }, /* 0: no cap */
};
/* clang-format on */

static const struct config_section turn_sections[] = {
	{ .name = "turn",
	  .options = turn_options,
	  .n_options = sizeof(turn_options) / sizeof(turn_options[0]),
	  .offset = 0 },
};

/* Exactly one of the two secret keys. */
static void check_secret(struct config_loader *loader, const struct turn_config *turn,
			 const struct config_seen *seen)
{
	bool text = config_key_in_file(seen, "shared_secret"),
	     file = config_key_in_file(seen, "shared_secret_file");

	if (text && file)
		config_report(loader,
			      config_conflict_line(seen, "shared_secret_file", "shared_secret"),
			      "shared_secret and shared_secret_file in [turn]: give one secret");
	else if (!text && !file)
		config_report(loader, turn->line,
			      "missing shared_secret or shared_secret_file in [turn]: TURN "
			      "credentials are made with it");
}

/* KEY's address is one address: clients are told it. */
static bool check_not_wildcard(struct config_loader *loader, const struct config_seen *seen,
			       const char *key, const char *address)
{
	if (address == NULL || !config_is_wildcard_address(address))
		return true;
	config_report(loader, config_key_line(seen, key),
		      "%s %s is every address: clients must be told one (name the edge's "
		      "external address)",
		      key, address);
	return false;
}

/* The relayed address is told to clients: it must be one address, and
 * the one told must be of the family the relay binds. */
static void check_external(struct config_loader *loader, const struct config_seen *seen,
			   const char *relay_key, const char *relay, const char *external_key,
			   char **external)
{
	if (!check_not_wildcard(loader, seen, external_key, *external))
		return;
	if (*external != NULL && relay != NULL &&
	    strcmp(config_address_family_name(*external), config_address_family_name(relay)) != 0)
		config_report(loader, config_key_line(seen, external_key),
			      "%s %s is %s but %s %s is %s", external_key, *external,
			      config_address_family_name(*external), relay_key, relay,
			      config_address_family_name(relay));
	if (*external == NULL && relay != NULL && !config_key_in_file(seen, external_key))
		*external = config_copy_value(loader, relay);
}

/* relay_address6 is the IPv6 relay beside an IPv4 one: with it,
 * relay_address is the IPv4 relay (one relay a family, RFC 8656 §7.2). */
static void check_relay6(struct config_loader *loader, const struct turn_config *turn,
			 const struct config_seen *seen)
{
	if (turn->relay_address6 != NULL &&
	    strcmp(config_address_family_name(turn->relay_address6), "IPv6") != 0)
		config_report(loader, config_key_line(seen, "relay_address6"),
			      "relay_address6 %s is not an IPv6 address", turn->relay_address6);
	else if (turn->relay_address6 != NULL && turn->relay_address != NULL &&
		 strcmp(config_address_family_name(turn->relay_address), "IPv4") != 0)
		config_report(loader, config_key_line(seen, "relay_address6"),
			      "relay_address6 %s beside relay_address %s, which is IPv6 too: "
			      "relay_address is then the IPv4 relay",
			      turn->relay_address6, turn->relay_address);
	if (turn->external_address6 != NULL && turn->relay_address6 == NULL &&
	    !config_key_in_file(seen, "relay_address6"))
		config_report(loader, config_key_line(seen, "external_address6"),
			      "external_address6 %s without relay_address6: it is told for "
			      "relays there",
			      turn->external_address6);
}

static void check_addresses(struct config_loader *loader, struct turn_config *turn,
			    const struct config_seen *seen)
{
	check_not_wildcard(loader, seen, "relay_address", turn->relay_address);
	check_not_wildcard(loader, seen, "relay_address6", turn->relay_address6);
	check_relay6(loader, turn, seen);
	check_external(loader, seen, "relay_address", turn->relay_address, "external_address",
		       &turn->external_address);
	check_external(loader, seen, "relay_address6", turn->relay_address6, "external_address6",
		       &turn->external_address6);
}

/* Each allowed_peers word as a prefix, or a problem at its own line. */
static void read_allowed_peers(struct config_loader *loader, struct turn_config *turn,
			       const struct config_seen *seen)
{
	char quoted[CONFIG_QUOTE_SIZE];

	if (turn->n_allowed_peer_words == 0)
		return;
	turn->allowed_peers = calloc(turn->n_allowed_peer_words, sizeof(*turn->allowed_peers));
	if (turn->allowed_peers == NULL) {
		config_report(loader, turn->line, "out of memory");
		return;
	}
	for (size_t i = 0; i < turn->n_allowed_peer_words; i++) {
		const char *word = turn->allowed_peer_words[i];
		enum peer_prefix_error error = peer_prefix_parse(
			word, strlen(word), &turn->allowed_peers[turn->n_allowed_peers]);
		if (error == PEER_PREFIX_OK) {
			turn->n_allowed_peers++;
			continue;
		}
		int line = config_list_entry_line(loader, seen, "allowed_peers", i);
		config_report(loader, line != 0 ? line : turn->line,
			      "bad allowed_peers entry %s: %s (expected ADDRESS/LENGTH or ADDRESS)",
			      config_quote(quoted, word), peer_prefix_error_message(error));
	}
	config_free_strings(turn->allowed_peer_words, turn->n_allowed_peer_words);
	turn->allowed_peer_words = NULL;
	turn->n_allowed_peer_words = 0;
}

/* KEY has its value or its default: a relation with it can be checked. */
static bool holds_good_value(const struct config_seen *seen, const char *key)
{
	return !config_key_in_file(seen, key) || config_key_valid(seen, key);
}

static void turn_config_check(struct config_loader *loader, void *data)
{
	const struct sxedge_config *config = config_loading(loader);
	struct turn_config *turn = data;
	const struct config_seen *seen = config_seen(loader, &turn_sections[0], 0);

	turn->line = config_seen_line(seen);
	config_apply_defaults(loader, seen, turn);
	if (turn->line == 0)
		return;
	config_check_required(loader, seen, "turn");
	check_secret(loader, turn, seen);
	check_addresses(loader, turn, seen);
	read_allowed_peers(loader, turn, seen);
	if (turn->realm == NULL && !config_key_in_file(seen, "realm") && config->n_domains > 0)
		turn->realm = config_copy_value(loader, config->domains[0]);
	if (holds_good_value(seen, "max_allocations_per_user") &&
	    holds_good_value(seen, "max_allocations") &&
	    turn->max_allocations_per_user > turn->max_allocations)
		config_report(
			loader,
			config_conflict_line(seen, "max_allocations_per_user", "max_allocations"),
			"max_allocations_per_user (%u) is more than max_allocations (%u)",
			turn->max_allocations_per_user, turn->max_allocations);
}

static void turn_config_free(void *data)
{
	struct turn_config *turn = data;

	free(turn->realm);
	secret_clear(turn);
	free(turn->relay_address);
	free(turn->external_address);
	free(turn->relay_address6);
	free(turn->external_address6);
	free(turn->allowed_peers);
	config_free_strings(turn->allowed_peer_words, turn->n_allowed_peer_words);
}

const struct config_module turn_config_module = {
	.name = "turn",
	.data_size = sizeof(struct turn_config),
	.sections = turn_sections,
	.n_sections = sizeof(turn_sections) / sizeof(turn_sections[0]),
	.check = turn_config_check,
	.free = turn_config_free,
};

const struct turn_config *turn_config(const struct sxedge_config *config)
{
	return config_module_data(config, &turn_config_module);
}
