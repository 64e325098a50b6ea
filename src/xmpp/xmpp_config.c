/* SPDX-License-Identifier: ISC */
/* xmpp_config: [xmpp] as rows for the configuration engine
 * (config_module.h), and the checks that relate it to the listeners and to
 * our own domains. */
#include "xmpp_config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_values.h"
#include "roles.h"

#define XMPP(field) offsetof(struct xmpp_config, field)

/* Each row reads
 *	{ key, parser, field,
 *	  second field, default, min, max, required, keyword names }, */
/* clang-format off */
static const struct config_option xmpp_options[] = {
	{ "partners", config_parse_name_list, XMPP(partners),
	  XMPP(n_partners), NULL, 0, 0, false, NULL }, /* none of ours */
	{ "max_stanza", config_parse_size, XMPP(max_stanza),
	  0, "262144", 1024, 16777216, false, NULL },
	{ "negotiation_timeout", config_parse_unsigned, XMPP(negotiation_timeout_s),
	  0, "30", 1, 600, false, NULL },
	{ "dialback_secret", config_parse_secret, XMPP(dialback_secret),
	  XMPP(dialback_secret_set), NULL, 0, 0, false, NULL }, /* absent: random */
	{ "link_ca_certificate", config_parse_readable_file, XMPP(link_ca_certificate),
	  0, NULL, 0, 0, false, NULL }, /* needed by an xmpp_internal listener */
	{ "link_ca_key", config_parse_readable_file, XMPP(link_ca_key),
	  0, NULL, 0, 0, false, NULL },
	{ "link_validity", config_parse_unsigned, XMPP(link_validity_s),
	  0, "86400", 3600, 2592000, false, NULL },
	{ "internal_server", config_parse_ip_port, XMPP(internal_server_host),
	  XMPP(internal_server_port), NULL, 0, 0, false, NULL }, /* absent: bidi only */
	{ "bidi", config_parse_bool, XMPP(bidi),
	  0, "yes", 0, 0, false, NULL },
	{ "keepalive", config_parse_unsigned, XMPP(keepalive_s),
	  0, "60", 0, 3600, false, NULL }, /* 0: none */
	{ "stanza_rate", config_parse_unsigned, XMPP(stanza_rate),
	  0, "0", 0, 1000000, false, NULL }, /* 0: unlimited */
	{ "stanza_burst", config_parse_unsigned, XMPP(stanza_burst),
	  0, "0", 0, 1000000, false, NULL }, /* 0: stanza_rate */
};
/* clang-format on */

static const struct config_section xmpp_sections[] = {
	{ .name = "xmpp",
	  .options = xmpp_options,
	  .n_options = sizeof(xmpp_options) / sizeof(xmpp_options[0]),
	  .offset = 0 },
};

/* An internal listener presents partner-named certificates of the link CA:
 * without one it could not answer as anybody. */
static void check_link_ca(struct config_loader *loader, const struct xmpp_config *xmpp,
			  const struct config_seen *seen)
{
	const struct sxedge_config *config = config_loading(loader);
	const struct listener_config *internal = config_listener(config, ROLE_XMPP_INTERNAL);
	static const char *const keys[] = { "link_ca_certificate", "link_ca_key" };

	if (internal == NULL)
		return;
	for (size_t i = 0; i < 2; i++) {
		if (config_key_in_file(seen, keys[i]))
			continue;
		config_report(
			loader, xmpp->line != 0 ? xmpp->line : internal->line,
			"missing %s in [xmpp]: listener \"%s\" (role = xmpp_internal) answers "
			"the internal server with certificates this CA signs",
			keys[i], internal->name);
	}
}

static void xmpp_config_check(struct config_loader *loader, void *data)
{
	const struct sxedge_config *config = config_loading(loader);
	struct xmpp_config *xmpp = data;
	const struct config_seen *seen = config_seen(loader, &xmpp_sections[0], 0);

	xmpp->line = config_seen_line(seen);
	config_apply_defaults(loader, seen, xmpp);
	for (size_t i = 0; i < xmpp->n_partners; i++) {
		if (!config_is_our_domain(config, xmpp->partners[i]))
			continue;
		int line = config_list_entry_line(loader, seen, "partners", i);
		config_report(loader, line != 0 ? line : xmpp->line,
			      "partner %s is one of our own domains (see domains in [global])",
			      xmpp->partners[i]);
	}
	if (!config_roles_known(loader))
		return;
	check_link_ca(loader, xmpp, seen);
	if (xmpp->line != 0 && config_listener(config, ROLE_XMPP_FEDERATION) == NULL &&
	    config_listener(config, ROLE_XMPP_INTERNAL) == NULL)
		config_report(loader, xmpp->line,
			      "[xmpp] needs an XMPP listener (a [listener NAME] with role = "
			      "xmpp_federation or xmpp_internal)");
}

static void xmpp_config_free(void *data)
{
	struct xmpp_config *xmpp = data;

	config_free_strings(xmpp->partners, xmpp->n_partners);
	free(xmpp->link_ca_certificate);
	free(xmpp->link_ca_key);
	free(xmpp->internal_server_host);
	explicit_bzero(xmpp->dialback_secret, sizeof(xmpp->dialback_secret));
}

const struct config_module xmpp_config_module = {
	.name = "xmpp",
	.data_size = sizeof(struct xmpp_config),
	.sections = xmpp_sections,
	.n_sections = sizeof(xmpp_sections) / sizeof(xmpp_sections[0]),
	.check = xmpp_config_check,
	.free = xmpp_config_free,
};

const struct xmpp_config *xmpp_config(const struct sxedge_config *config)
{
	return config_module_data(config, &xmpp_config_module);
}

bool xmpp_config_is_partner(const struct xmpp_config *xmpp, const char *domain)
{
	for (size_t i = 0; i < xmpp->n_partners; i++) {
		if (strcasecmp(xmpp->partners[i], domain) == 0)
			return true;
	}
	return false;
}
