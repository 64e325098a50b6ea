/* SPDX-License-Identifier: ISC */
/* xmpp_targets: where the edge connects for a partner's XMPP domain, in the
 * order it tries them (RFC 6120 §3.2, XEP-0368).  A pure function of the two
 * SRV answers, so every rule is a unit test.  Whichever target is used, the
 * partner's certificate must name the domain itself, never the SRV target
 * (RFC 6120 §13.7.2.1), so a forged answer can misdirect the connection but
 * not the authentication. */
#ifndef SXEDGE_XMPP_XMPP_TARGETS_H
#define SXEDGE_XMPP_XMPP_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define XMPP_DIRECT_TLS_SRV_PREFIX "_xmpps-server._tcp." /* XEP-0368 */
#define XMPP_STARTTLS_SRV_PREFIX   "_xmpp-server._tcp."
#define XMPP_SERVER_PORT	   5269

struct xmpp_target {
	char *host; /* malloc'd */
	uint16_t port;
	bool direct_tls; /* TLS from the first byte; else STARTTLS */
};

struct xmpp_targets {
	struct xmpp_target *targets;
	size_t n;
};

/* The targets for DOMAIN from the records of _xmpps-server._tcp.DOMAIN
 * (DIRECT_TLS) and _xmpp-server._tcp.DOMAIN (STARTTLS), each in any order
 * (NULL with 0: no records): by ascending priority across both, within a
 * priority the direct-TLS ones before the STARTTLS ones, each of those in
 * RFC 2782 weighted order (dns_srv_order with RANDOM and ARG).  A "." target
 * says its service is not offered; when neither set has another record, the
 * domain itself on 5269 with STARTTLS, unless that service said ".".  Empty
 * TARGETS: the domain takes no server-to-server streams.  Returns 0 or -1
 * (out of memory, TARGETS empty). */
int xmpp_targets_order(const char *domain, const struct dns_target *direct_tls, size_t n_direct_tls,
		       const struct dns_target *starttls, size_t n_starttls,
		       uint32_t (*random)(void *arg, uint32_t max), void *arg,
		       struct xmpp_targets *targets);

void xmpp_targets_clear(struct xmpp_targets *targets);

#endif
