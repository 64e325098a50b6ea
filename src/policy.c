/* SPDX-License-Identifier: ISC */
/* policy: whom the edge federates with (our domains, the block list,
 * the partners a protocol configures, open federation).  Everything here
 * is a pure function of the configuration and the arguments, so every rule
 * is one unit test and every protocol that federates asks the same
 * questions the same way.
 *
 * Domains arrive from the network (From, Request-URI, stream headers), so
 * they are compared case-insensitively and a trailing dot (the DNS root) is
 * ignored; a name that is not a DNS name at all is never discovered. */
#include "policy.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "federation_config.h"

#define DOMAIN_MAX 253 /* longest DNS name without its trailing dot (RFC 1035) */

/* ---- Names ---- */

/* The length of NAME without one trailing dot. */
static size_t name_length(const char *name)
{
	size_t length = strlen(name);

	if (length > 0 && name[length - 1] == '.')
		length--;
	return length;
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* Dot-separated labels of 1..63 letters, digits and hyphens (no hyphen at
 * either end), at most DOMAIN_MAX characters, and not an IPv4 literal:
 * the only names worth a DNS SRV look-up. */
static bool is_dns_name(const char *name, size_t length)
{
	char copy[DOMAIN_MAX + 1];
	struct in_addr address;
	size_t label = 0;

	if (length == 0 || length > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= length; i++) {
		char c = i < length ? name[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63 || name[i - 1] == '-')
				return false;
			label = 0;
		} else if (!is_label_char(c) || (label == 0 && c == '-')) {
			return false;
		} else {
			label++;
		}
	}
	memcpy(copy, name, length);
	copy[length] = '\0';
	return inet_pton(AF_INET, copy, &address) != 1;
}

bool policy_name_in_domain(const char *name, const char *domain)
{
	if (name == NULL || domain == NULL)
		return false;
	size_t name_len = name_length(name), domain_len = name_length(domain);
	if (domain_len == 0 || name_len < domain_len)
		return false;
	const char *tail = name + (name_len - domain_len);
	if (strncasecmp(tail, domain, domain_len) != 0)
		return false;
	/* "notpartner.test" ends with "partner.test" but is not below it. */
	return name_len == domain_len || tail[-1] == '.';
}

/* ---- Domains ---- */

static bool is_blocked(const struct federation_config *federation, const char *domain)
{
	for (size_t i = 0; i < federation->n_blocked; i++) {
		if (policy_name_in_domain(domain, federation->blocked[i]))
			return true;
	}
	return false;
}

enum policy_verdict policy_domain(const struct sxedge_config *config, const char *domain,
				  policy_partner_lookup *lookup, const void **partner)
{
	const struct federation_config *federation = federation_config(config);
	char name[DOMAIN_MAX + 1];

	if (partner != NULL)
		*partner = NULL;
	if (domain == NULL)
		return POLICY_REFUSED;
	size_t length = name_length(domain);
	if (length == 0 || length > DOMAIN_MAX)
		return POLICY_REFUSED;
	memcpy(name, domain, length);
	name[length] = '\0';

	/* Ours first: a block list entry above one of our domains ("test")
	 * must not cut us off from ourselves. */
	if (config_is_our_domain(config, name))
		return POLICY_OURS;
	if (is_blocked(federation, name))
		return POLICY_BLOCKED;
	const void *found = lookup(config, name);
	if (found != NULL) {
		if (partner != NULL)
			*partner = found;
		return POLICY_PARTNER;
	}
	if (federation->open && is_dns_name(name, length))
		return POLICY_DISCOVER;
	return POLICY_REFUSED;
}
