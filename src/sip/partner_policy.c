/* SPDX-License-Identifier: ISC */
/* partner_policy: see partner_policy.h. */
#include "partner_policy.h"

#include <openssl/crypto.h>

#include "tls.h"

static const void *sip_partner_lookup(const struct sxedge_config *config, const char *domain)
{
	return sip_config_partner(sip_config(config), domain);
}

enum policy_verdict sip_policy_domain(const struct sxedge_config *config, const char *domain,
				      const struct partner_config **partner)
{
	const void *found = NULL;
	enum policy_verdict verdict = policy_domain(config, domain, sip_partner_lookup, &found);

	if (partner != NULL)
		*partner = found;
	return verdict;
}

enum partner_binding partner_certificate_binds(const struct partner_config *partner,
					       char *const *names, size_t n_names,
					       const unsigned char *fingerprint, char *const *edges,
					       size_t n_edges)
{
	/* Configured edge names are the operator's word and win over DNS. */
	if (partner != NULL && partner->n_edges > 0) {
		edges = partner->edges;
		n_edges = partner->n_edges;
	}
	if (names == NULL || edges == NULL ||
	    !tls_names_match(names, n_names, (const char *const *)edges, n_edges))
		return BINDING_NAME_MISMATCH;
	if (partner == NULL || !partner->fingerprint_set)
		return BINDING_OK;
	/* A pin with no fingerprint to compare is a mismatch, never a pass.
	 * CRYPTO_memcmp: identity checks compare in constant time, so none of
	 * them ever has to be reviewed for what its timing tells. */
	if (fingerprint == NULL ||
	    CRYPTO_memcmp(fingerprint, partner->fingerprint, sizeof(partner->fingerprint)) != 0)
		return BINDING_FINGERPRINT_MISMATCH;
	return BINDING_OK;
}

const char *partner_binding_reason(enum partner_binding binding)
{
	switch (binding) {
	case BINDING_OK:
		return "OK";
	case BINDING_NAME_MISMATCH:
		return "Certificate Does Not Match Domain";
	case BINDING_FINGERPRINT_MISMATCH:
		return "Certificate Pin Mismatch";
	}
	return "Certificate Does Not Match Domain";
}

enum sip_reason partner_reload_verdict(const struct sxedge_config *old,
				       const struct sxedge_config *config, const char *domain,
				       char *const *names, size_t n_names,
				       const unsigned char *fingerprint,
				       const struct partner_config **partner)
{
	switch (sip_policy_domain(config, domain, partner)) {
	case POLICY_BLOCKED:
		return SIP_REASON_PARTNER_BLOCKED;
	case POLICY_OURS:
	case POLICY_REFUSED:
		return SIP_REASON_PARTNER_REMOVED;
	case POLICY_DISCOVER:
		/* What proved it was the [partner] section now gone. */
		return sip_policy_domain(old, domain, NULL) == POLICY_PARTNER
			       ? SIP_REASON_PARTNER_REMOVED
			       : SIP_REASON_COUNT;
	case POLICY_PARTNER:
		break;
	}
	const struct partner_config *now = *partner;
	if (now->fingerprint_set &&
	    (fingerprint == NULL || CRYPTO_memcmp(fingerprint, now->fingerprint, 32) != 0))
		return SIP_REASON_PARTNER_CHANGED;
	if (now->n_edges > 0 &&
	    partner_certificate_binds(now, names, n_names, fingerprint, NULL, 0) != BINDING_OK)
		return SIP_REASON_PARTNER_CHANGED;
	return SIP_REASON_COUNT;
}
