/* SPDX-License-Identifier: ISC */
/* partner_targets: where the edge connects for a partner domain, in the
 * order it tries them (failover goes down the list), and the names the
 * partner's certificate must carry there (docs/design.md §5).  Pure functions of
 * the configuration and the DNS answer, so every rule is a unit test. */
#ifndef SXEDGE_SIP_PARTNER_TARGETS_H
#define SXEDGE_SIP_PARTNER_TARGETS_H

#include <stddef.h>

#include "config.h"
#include "sip_config.h"
#include "dns.h"

#define PARTNER_SRV_PREFIX "_sipfederationtls._tcp."
#define PARTNER_PORT	   5061

struct partner_targets {
	struct dns_target *targets; /* hosts malloc'd; weight and priority unused */
	size_t n;
};

/* The targets configuration alone gives: the partner's address override,
 * else its edges on port 5061 in the order written.  Returns 0 and leaves
 * TARGETS empty when SRV must be asked (no partner, or one without either);
 * -1 when out of memory. */
int partner_targets_configured(const struct partner_config *partner,
			       struct partner_targets *targets);

/* The targets of an SRV answer for DOMAIN (SRV, already in RFC 2782 order):
 * all of them for a configured PARTNER; under open federation (PARTNER
 * NULL) only those inside DOMAIN, so a forged answer cannot send a domain's
 * traffic to somebody else's edge.  Returns 0 or -1 (out of memory). */
int partner_targets_from_srv(const char *domain, const struct partner_config *partner,
			     const struct dns_target *srv, size_t n,
			     struct partner_targets *targets);

/* The names the certificate at TARGET_HOST must match: the partner's
 * configured edges, else the target itself (an SRV target).  Writes at most
 * MAX into NAMES and returns how many. */
size_t partner_expected_names(const struct partner_config *partner, const char *target_host,
			      const char **names, size_t max);

void partner_targets_clear(struct partner_targets *targets);

#endif
