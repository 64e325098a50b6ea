/* SPDX-License-Identifier: ISC */
/* xmpp_targets: the connection plan for a partner's XMPP domain.  The
 * weighted order is lib/dns's, the one SIP's partner targets get too. */
#include "xmpp_targets.h"

#include <stdlib.h>
#include <string.h>

/* The root target (RFC 2782): "the service is decidedly not available". */
static bool is_root(const char *host)
{
	return host == NULL || host[0] == '\0' || strcmp(host, ".") == 0;
}

/* A copy of the records of SRV that name a host (shallow: hosts are the
 * caller's), in RFC 2782 order; *REFUSED (NULL: not asked) when one of
 * them was ".". */
static struct dns_target *ordered_copy(const struct dns_target *srv, size_t n, size_t *kept,
				       bool *refused, uint32_t (*random)(void *arg, uint32_t max),
				       void *arg)
{
	struct dns_target *copy = calloc(n > 0 ? n : 1, sizeof(*copy));
	*kept = 0;
	if (refused != NULL)
		*refused = false;
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (is_root(srv[i].host) && refused != NULL)
			*refused = true;
		else if (!is_root(srv[i].host))
			copy[(*kept)++] = srv[i];
	}
	dns_srv_order(copy, *kept, random, arg);
	return copy;
}

static int targets_add(struct xmpp_targets *targets, const char *host, uint16_t port,
		       bool direct_tls)
{
	char *copy = strdup(host);
	if (copy == NULL)
		return -1;
	targets->targets[targets->n++] =
		(struct xmpp_target){ .host = copy, .port = port, .direct_tls = direct_tls };
	return 0;
}

/* Merges the two ordered sets by priority, direct TLS first among equals
 * (XEP-0368 §3: both services may be merged by priority). */
static int targets_merge(struct xmpp_targets *targets, const struct dns_target *direct,
			 size_t n_direct, const struct dns_target *starttls, size_t n_starttls)
{
	size_t d = 0, s = 0;
	while (d < n_direct || s < n_starttls) {
		bool take_direct = s == n_starttls ||
				   (d < n_direct && direct[d].priority <= starttls[s].priority);
		const struct dns_target *next = take_direct ? &direct[d++] : &starttls[s++];
		if (targets_add(targets, next->host, next->port, take_direct) < 0)
			return -1;
	}
	return 0;
}

int xmpp_targets_order(const char *domain, const struct dns_target *direct_tls, size_t n_direct_tls,
		       const struct dns_target *starttls, size_t n_starttls,
		       uint32_t (*random)(void *arg, uint32_t max), void *arg,
		       struct xmpp_targets *targets)
{
	size_t n_direct = 0, n_start = 0;
	bool starttls_refused;
	/* a "." for direct TLS only takes that service away: the fallback
	 * below is STARTTLS's */
	struct dns_target *direct =
		ordered_copy(direct_tls, n_direct_tls, &n_direct, NULL, random, arg);
	struct dns_target *start =
		ordered_copy(starttls, n_starttls, &n_start, &starttls_refused, random, arg);
	int result = -1;

	*targets = (struct xmpp_targets){ 0 };
	if (direct == NULL || start == NULL)
		goto done;
	/* one more for the fallback */
	targets->targets = calloc(n_direct + n_start + 1, sizeof(*targets->targets));
	if (targets->targets == NULL)
		goto done;
	if (n_direct + n_start > 0)
		result = targets_merge(targets, direct, n_direct, start, n_start);
	else if (!starttls_refused) /* RFC 6120 §3.2.2: no SRV records at all */
		result = targets_add(targets, domain, XMPP_SERVER_PORT, false);
	else
		result = 0;
done:
	free(direct);
	free(start);
	if (result < 0)
		xmpp_targets_clear(targets);
	return result;
}

void xmpp_targets_clear(struct xmpp_targets *targets)
{
	for (size_t i = 0; i < targets->n; i++)
		free(targets->targets[i].host);
	free(targets->targets);
	targets->targets = NULL;
	targets->n = 0;
}
