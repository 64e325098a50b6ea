/* SPDX-License-Identifier: ISC */
/* sip_config: [pool] and [partner DOMAIN], as rows for the
 * configuration engine (config_module.h), and the checks that relate them
 * to each other and to the listeners. */
#include "sip_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_values.h"
#include "roles.h"

#define FEDERATION_PORT 5061 /* SIP over TLS (RFC 3261), where partner edges listen */

static config_option_parser parse_fingerprint;
static void *partner_begin(struct config_loader *loader, void *data, char *domain);

#define POOL(field)    offsetof(struct pool_config, field)
#define PARTNER(field) offsetof(struct partner_config, field)

static const char *const partner_type_names[] = {
	[PARTNER_FEDERATED] = "federated",
	[PARTNER_PROVIDER] = "provider",
	NULL,
};

/* Each row reads
 *	{ key, parser, field,
 *	  second field, default, min, max, required, keyword names }, */
/* clang-format off */
static const struct config_option pool_options[] = {
	{ "fqdn", config_parse_name_list, POOL(fqdns),
	  POOL(n_fqdns), NULL, 0, 0, true, NULL },
	{ "relay", config_parse_ip_port, POOL(relay_host),
	  POOL(relay_port), NULL, 0, 0, true, NULL }, /* internal listener's family */
	{ "connections", config_parse_unsigned, POOL(connections),
	  0, "1", 1, 16, false, NULL },
	{ "reconnect_min", config_parse_unsigned, POOL(reconnect_min_s),
	  0, "1", 1, 3600, false, NULL },
	{ "reconnect_max", config_parse_unsigned, POOL(reconnect_max_s),
	  0, "30", 1, 3600, false, NULL }, /* >= reconnect_min */
};

static const struct config_option partner_options[] = {
	{ "type", config_parse_keyword, PARTNER(type),
	  0, "federated", 0, 0, false, partner_type_names },
	{ "edge", config_parse_name_list, PARTNER(edges),
	  PARTNER(n_edges), NULL, 0, 0, false, NULL }, /* absent: SRV targets */
	{ "address", config_parse_ip_optional_port, PARTNER(address_host),
	  PARTNER(address_port), NULL, 0, 0, false, NULL }, /* needs edge; port 5061 */
	{ "fingerprint", parse_fingerprint, PARTNER(fingerprint),
	  PARTNER(fingerprint_set), NULL, 0, 0, false, NULL }, /* absent: no pin */
	{ "rate", config_parse_unsigned, PARTNER(rate),
	  0, "0", 0, 1000000, false, NULL }, /* 0: unlimited */
	{ "burst", config_parse_unsigned, PARTNER(burst),
	  0, "0", 0, 1000000, false, NULL }, /* 0: same as rate */
};
/* clang-format on */

static const struct config_section sip_sections[] = {
	{ .name = "pool",
	  .options = pool_options,
	  .n_options = sizeof(pool_options) / sizeof(pool_options[0]),
	  .offset = offsetof(struct sip_config, pool) },
	{ .name = "partner",
	  .argument = "DOMAIN",
	  .argument_missing = "a partner section needs a domain, e.g. [partner partner.example]",
	  .options = partner_options,
	  .n_options = sizeof(partner_options) / sizeof(partner_options[0]),
	  .begin = partner_begin },
};

#define SECTION_POOL	(&sip_sections[0])
#define SECTION_PARTNER (&sip_sections[1])

/* ---- Values ---- */

/* A certificate pin as "openssl x509 -fingerprint -sha256" prints it, or
 * plain hex: an optional "sha256:" prefix, then 32 bytes in hex digits of
 * any case, each pair optionally followed by a colon before the next. */
static int parse_fingerprint(struct config_loader *loader, const struct config_option *option,
			     const char *value, void *base)
{
	unsigned char bytes[32];
	const char *text = value;

	if (strncasecmp(text, "sha256:", 7) == 0)
		text += 7;
	for (size_t i = 0; i < sizeof(bytes); i++) {
		if (i > 0 && *text == ':')
			text++;
		int high = config_hex_digit(text[0]);
		int low = high < 0 ? -1 : config_hex_digit(text[1]);
		if (low < 0)
			goto bad;
		bytes[i] = (unsigned char)(high << 4 | low);
		text += 2;
	}
	if (*text != '\0')
		goto bad;
	memcpy((char *)base + option->offset, bytes, sizeof(bytes));
	*(bool *)((char *)base + option->offset2) = true;
	return 0;
bad:
	config_report_bad_value(loader, option, value,
				"a SHA-256 fingerprint: 64 hex digits, colons between bytes "
				"allowed, optional \"sha256:\" prefix");
	return -1;
}

/* ---- [partner DOMAIN] ---- */

/* A partner's domain: a host name, not an address (a SIP domain is what
 * From and Request-URI carry, and its edge is found by name). */
static bool is_partner_domain(const char *name)
{
	return config_is_host_name(name) && !config_is_ip_address(name);
}

static void *partner_begin(struct config_loader *loader, void *data, char *domain)
{
	struct sip_config *sip = data;
	char quoted[CONFIG_QUOTE_SIZE];
	int line = config_current_line(loader);

	if (!is_partner_domain(domain)) {
		config_report(loader, line, "bad partner domain %s: expected a domain name",
			      config_quote(quoted, domain));
		return NULL;
	}
	/* Two sections for one domain would leave one of them silently unused;
	 * the second is not read, so its keys add no more messages. */
	for (size_t i = 0; i < sip->n_partners; i++) {
		if (strcasecmp(sip->partners[i].domain, domain) == 0) {
			config_report(loader, line,
				      "duplicate [partner] section for %s (first at line %d)",
				      sip->partners[i].domain, sip->partners[i].line);
			return NULL;
		}
	}
	size_t n = sip->n_partners;
	struct partner_config *partners = realloc(sip->partners, (n + 1) * sizeof(*partners));
	if (partners != NULL)
		sip->partners = partners;
	char *copy = strdup(domain);
	if (partners == NULL || copy == NULL) {
		free(copy);
		config_report(loader, line, "out of memory");
		return NULL;
	}
	config_lower_case(copy);
	config_lower_case(domain); /* the section's label */
	memset(&partners[n], 0, sizeof(partners[n]));
	partners[n].domain = copy;
	partners[n].line = line;
	sip->n_partners = n + 1;
	return &partners[n];
}

/* Defaults and rules of one [partner] section. */
static void finish_partner(struct config_loader *loader, struct partner_config *partner,
			   const struct config_seen *seen)
{
	config_apply_defaults(loader, seen, partner);
	if (partner->burst == 0)
		partner->burst = partner->rate;
	if (partner->address_port == 0)
		partner->address_port = FEDERATION_PORT;

	/* Without edge names there would be nothing to check the certificate of
	 * the edge at that address against. */
	int address_line = config_key_line(seen, "address");
	if (address_line != 0 && !config_key_in_file(seen, "edge"))
		config_report(loader, address_line,
			      "address needs edge in [partner %s]: the names the partner's "
			      "certificate must carry",
			      partner->domain);
	if (config_is_our_domain(config_loading(loader), partner->domain))
		config_report(loader, partner->line,
			      "[partner %s] is one of our own domains (see domains in [global])",
			      partner->domain);
}

/* ---- Checks ---- */

/* Reports LISTENER if it advertises the same host:port as OTHER, a
 * listener of another side. */
static void check_advertised_apart(struct config_loader *loader,
				   const struct listener_config *listener,
				   const struct listener_config *other)
{
	if (listener->advertise_host == NULL || other->advertise_host == NULL)
		return;
	if (strcasecmp(listener->advertise_host, other->advertise_host) != 0 ||
	    listener->advertise_port != other->advertise_port)
		return;
	config_report(loader, listener->line,
		      "listener \"%s\" advertises %s port %u like the %s listener \"%s\" (line "
		      "%d): the two sides must advertise different host:port pairs",
		      listener->name, listener->advertise_host, listener->advertise_port,
		      role_name((enum listener_role)other->role), other->name, other->line);
}

/* Routing tells the edge's sides apart by the host and port each one
 * advertises in Via, Record-Route and Path, so they must differ: every
 * access listener and the federation listener from the internal one, and
 * the federation listener from every access one. */
static void check_advertised_sides(struct config_loader *loader)
{
	const struct sxedge_config *config = config_loading(loader);
	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);
	const struct listener_config *federation = config_listener(config, ROLE_FEDERATION);

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

/* The edge connects to the relay from the internal listener's address, so
 * both must be of one family; a wildcard internal address (0.0.0.0 or ::)
 * is no exception, it only picks the source within its family. */
static void check_relay_family(struct config_loader *loader, const struct sip_config *sip)
{
	const struct sxedge_config *config = config_loading(loader);
	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);
	int relay_line = config_key_line(config_seen(loader, SECTION_POOL, 0), "relay");

	if (relay_line == 0 || internal == NULL)
		return;
	const struct config_seen *internal_seen =
		config_listener_seen(loader, (size_t)(internal - config->listeners));
	int address_line = config_key_line(internal_seen, "address");
	if (address_line == 0)
		return;
	const char *relay_family = config_address_family_name(sip->pool.relay_host);
	const char *internal_family = config_address_family_name(internal->address);
	if (strcmp(relay_family, internal_family) == 0)
		return;
	config_report(loader, relay_line,
		      "relay %s is %s but the internal listener \"%s\" has an %s address (%s, "
		      "line %d): the edge connects to the pool from that address, so both must "
		      "be of one family",
		      sip->pool.relay_host, relay_family, internal->name, internal_family,
		      internal->address, address_line);
}

static void check_pool(struct config_loader *loader, struct sip_config *sip)
{
	const struct config_seen *seen = config_seen(loader, SECTION_POOL, 0);
	const struct pool_config *pool = &sip->pool;

	config_apply_defaults(loader, seen, &sip->pool);
	if (config_seen_line(seen) == 0) {
		config_report(loader, 0, "missing required section [pool]");
		return;
	}
	config_check_required(loader, seen, "pool");
	check_relay_family(loader, sip);
	if (!config_key_valid(seen, "reconnect_min") || !config_key_valid(seen, "reconnect_max"))
		return;
	if (pool->reconnect_max_s < pool->reconnect_min_s)
		config_report(loader, config_conflict_line(seen, "reconnect_max", "reconnect_min"),
			      "reconnect_max (%u) is less than reconnect_min (%u)",
			      pool->reconnect_max_s, pool->reconnect_min_s);
}

/* The reason for federation settings that need a federation listener. */
#define NEEDS_FEDERATION_LISTENER "a [listener NAME] with role = federation"

static void check_partners(struct config_loader *loader, struct sip_config *sip)
{
	const struct sxedge_config *config = config_loading(loader);

	for (size_t i = 0; i < sip->n_partners; i++)
		finish_partner(loader, &sip->partners[i], config_seen(loader, SECTION_PARTNER, i));

	/* With a listener of unknown role, a federation listener may be there. */
	if (!config_roles_known(loader) || config_listener(config, ROLE_FEDERATION) != NULL)
		return;
	for (size_t i = 0; i < sip->n_partners; i++)
		config_report(loader, sip->partners[i].line,
			      "[partner %s] needs a federation listener (" NEEDS_FEDERATION_LISTENER
			      ")",
			      sip->partners[i].domain);
}

static void sip_config_check(struct config_loader *loader, void *data)
{
	if (config_roles_known(loader))
		check_advertised_sides(loader);
	check_pool(loader, data);
	check_partners(loader, data);
}

static void sip_config_free(void *data)
{
	struct sip_config *sip = data;

	config_free_strings(sip->pool.fqdns, sip->pool.n_fqdns);
	free(sip->pool.relay_host);
	for (size_t i = 0; i < sip->n_partners; i++) {
		free(sip->partners[i].domain);
		config_free_strings(sip->partners[i].edges, sip->partners[i].n_edges);
		free(sip->partners[i].address_host);
	}
	free(sip->partners);
}

const struct config_module sip_config_module = {
	.name = "sip",
	.data_size = sizeof(struct sip_config),
	.sections = sip_sections,
	.n_sections = sizeof(sip_sections) / sizeof(sip_sections[0]),
	.check = sip_config_check,
	.free = sip_config_free,
};

const struct sip_config *sip_config(const struct sxedge_config *config)
{
	return config_module_data(config, &sip_config_module);
}

const struct partner_config *sip_config_partner(const struct sip_config *sip, const char *domain)
{
	if (domain == NULL)
		return NULL;
	for (size_t i = 0; i < sip->n_partners; i++) {
		if (config_domain_names(sip->partners[i].domain, domain))
			return &sip->partners[i];
	}
	return NULL;
}
