/* SPDX-License-Identifier: ISC */
/* policy: whom the edge federates with, and whether a peer's certificate
 * proves that it speaks for a domain (docs/design.md §5).  Protocol-neutral:
 * SIP federation uses it now, XMPP federation will use it the same way.
 * Pure functions of the configuration and their arguments. */
#ifndef SXEDGE_POLICY_H
#define SXEDGE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "sip_config.h"

enum policy_verdict {
	POLICY_OURS, /* one of our own domains */
	POLICY_PARTNER, /* a configured [partner] */
	POLICY_DISCOVER, /* open federation: not configured, its edge is found by DNS SRV */
	POLICY_BLOCKED, /* on the block list, or below a blocked domain */
	POLICY_REFUSED, /* closed federation and not a partner */
};

/* What the edge does with DOMAIN (case-insensitive).  The block list wins
 * over a [partner] section and over open federation; our own domains are
 * never blocked.  *PARTNER is set for POLICY_PARTNER, else NULL. */
enum policy_verdict policy_domain(const struct sxedge_config *config, const char *domain,
				  const struct partner_config **partner);

/* Is NAME the domain DOMAIN itself or a name below it ("sip.partner.test"
 * in "partner.test")?  Open federation only trusts SRV targets inside the
 * domain they were found for, so a forged SRV answer cannot point a domain
 * at somebody else's edge. */
bool policy_name_in_domain(const char *name, const char *domain);

enum policy_binding {
	BINDING_OK,
	BINDING_NAME_MISMATCH, /* no certificate identity names an edge of the domain */
	BINDING_FINGERPRINT_MISMATCH, /* the partner pins another certificate */
};

/* Does a peer whose certificate has identities NAMES (tls_cert_names) and
 * SHA-256 FINGERPRINT (NULL if unknown) speak for a domain?  For a
 * configured PARTNER its edges must match (or, without edges, one of the
 * EDGES found for it by SRV) and its pin, if any, must equal FINGERPRINT.
 * For a discovered domain (PARTNER NULL) one of EDGES (SRV targets, already
 * checked with policy_name_in_domain) must match.  Matching is RFC 6125
 * (tls_name_matches). */
enum policy_binding policy_certificate_binds(const struct partner_config *partner,
					     char *const *names, size_t n_names,
					     const unsigned char *fingerprint, char *const *edges,
					     size_t n_edges);

const char *policy_binding_reason(enum policy_binding binding); /* a SIP reason phrase */

#endif
