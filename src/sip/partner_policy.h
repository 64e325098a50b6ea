/* SPDX-License-Identifier: ISC */
/* partner_policy: federation policy (policy.h) as SIP asks it, with the
 * [partner DOMAIN] sections as its partners, and whether a partner edge's
 * certificate speaks for a domain.  Pure functions of the configuration
 * and their arguments. */
#ifndef SXEDGE_SIP_PARTNER_POLICY_H
#define SXEDGE_SIP_PARTNER_POLICY_H

#include <stddef.h>

#include "policy.h"
#include "reason.h"
#include "sip_config.h"

/* policy_domain with the [partner] sections: *PARTNER is the one of DOMAIN
 * for POLICY_PARTNER, else NULL (PARTNER may be NULL). */
enum policy_verdict sip_policy_domain(const struct sxedge_config *config, const char *domain,
				      const struct partner_config **partner);

enum partner_binding {
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
enum partner_binding partner_certificate_binds(const struct partner_config *partner,
					       char *const *names, size_t n_names,
					       const unsigned char *fingerprint, char *const *edges,
					       size_t n_edges);

const char *partner_binding_reason(enum partner_binding binding); /* a SIP reason phrase */

/* A reload: may a connection whose certificate has NAMES and FINGERPRINT
 * (NULL if unknown), found to speak for DOMAIN under the snapshot OLD, go
 * on speaking for it under CONFIG?  SIP_REASON_COUNT when it may, with
 * *PARTNER set to DOMAIN's [partner] section in CONFIG (NULL if none); else
 * why not: partner_blocked (on the block list now), partner_removed (not
 * allowed at all, or allowed only by open federation while a [partner]
 * section, now gone, was what proved it), partner_changed (its section's
 * pin or edges do not match the certificate).  Edges found by SRV were
 * checked when the domain was bound and are not looked up again. */
enum sip_reason partner_reload_verdict(const struct sxedge_config *old,
				       const struct sxedge_config *config, const char *domain,
				       char *const *names, size_t n_names,
				       const unsigned char *fingerprint,
				       const struct partner_config **partner);

#endif
