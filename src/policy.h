/* SPDX-License-Identifier: ISC */
/* policy: whom the edge federates with (docs/design.md §5), for every
 * protocol that federates: our domains, [federation]'s block list and open
 * federation, and the partners the asking protocol configures.  Pure
 * functions of the configuration and their arguments. */
#ifndef SXEDGE_POLICY_H
#define SXEDGE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum policy_verdict {
	POLICY_OURS, /* one of our own domains */
	POLICY_PARTNER, /* a partner the asking protocol configures */
	POLICY_DISCOVER, /* open federation: not configured, its edge is found by DNS SRV */
	POLICY_BLOCKED, /* on the block list, or below a blocked domain */
	POLICY_REFUSED, /* closed federation and not a partner */
};

/* The asking protocol's partner configuration for DOMAIN (a name without
 * its trailing dot, of any case), or NULL when it is none of its partners. */
typedef const void *policy_partner_lookup(const struct sxedge_config *config, const char *domain);

/* What the edge does with DOMAIN (case-insensitive).  The block list wins
 * over a configured partner and over open federation; our own domains are
 * never blocked.  *PARTNER is set to what LOOKUP found for POLICY_PARTNER,
 * else NULL. */
enum policy_verdict policy_domain(const struct sxedge_config *config, const char *domain,
				  policy_partner_lookup *lookup, const void **partner);

/* Is NAME the domain DOMAIN itself or a name below it ("sip.partner.test"
 * in "partner.test")?  Open federation only trusts SRV targets inside the
 * domain they were found for, so a forged SRV answer cannot point a domain
 * at somebody else's edge. */
bool policy_name_in_domain(const char *name, const char *domain);

#endif
