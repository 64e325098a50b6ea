/* SPDX-License-Identifier: ISC */
/* jid: see jid.h.  Domains are compared as lower-case ASCII: the edge
 * federates with DNS names, and an internationalised domain arrives as
 * its A-labels from every server that looked it up. */
#include "jid.h"

#include <string.h>

/* Letters, digits, '-' and '.': what a DNS name is made of.  '_' is kept
 * out too: no XMPP server's domain has one. */
static bool is_domain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

bool jid_domain(const char *jid, char domain[JID_DOMAIN_MAX + 1])
{
	const char *start = jid, *end;
	const char *at = strchr(jid, '@');
	const char *slash = strchr(jid, '/');

	/* An '@' inside the resource is the resource's. */
	if (at != NULL && (slash == NULL || at < slash)) {
		if (at == jid)
			return false;
		start = at + 1;
	}
	end = slash != NULL && slash >= start ? slash : start + strlen(start);
	if (end > start && end[-1] == '.')
		end--;
	size_t length = (size_t)(end - start);
	if (length == 0 || length > JID_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)start[i];
		if (!is_domain_byte(c))
			return false;
		domain[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	domain[length] = '\0';
	return true;
}
