/* SPDX-License-Identifier: ISC */
/* tls_mint: a small certificate authority inside the edge that mints, on
 * demand, a short-lived certificate for a domain, signed by a configured CA
 * (the "link CA") that only the servers behind the edge trust.  The edge
 * uses it to present itself under a partner's domain on an internal link.
 *
 * Every minted leaf shares one EC P-256 key made when the mint is made (a
 * leaf's key only has to be the edge's, and one key means one key
 * generation per process, not one per domain).  A leaf names its domain as
 * subject CN, as SAN dNSName, and as SAN otherName id-on-xmppAddr (RFC 6120
 * §13.7.1.4, for XMPP peers that look for it); it is good for TLS server and
 * client authentication both, from a few minutes before it was minted (for
 * clocks a little behind) until VALIDITY_S seconds after.  Minted leaves are
 * cached per domain, at most TLS_MINT_CACHE_MAX of them (the oldest is
 * dropped first).
 *
 * A client handle that presents a minted identity is
 * tls_client_from_identity() of lib/tls.h, which this header includes.
 *
 * A mint is used by one thread at a time. */
#ifndef SXEDGE_TLS_MINT_H
#define SXEDGE_TLS_MINT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "tls.h"

/* Cached leaves per mint. */
#define TLS_MINT_CACHE_MAX 4096
/* How far before the minting a leaf's validity starts. */
#define TLS_MINT_BACKDATE_S 300

struct tls_mint;

/* Loads the link CA from the PEM files CA_CERTIFICATE and CA_KEY.  Refuses,
 * with a message in ERR that names the file: a file it cannot read, a key
 * that does not match the certificate, a certificate without basicConstraints
 * CA:TRUE, a keyUsage without keyCertSign (no keyUsage at all allows every
 * use, RFC 5280 §4.2.1.3), a key that is neither EC nor RSA, and a
 * VALIDITY_S of 0. */
struct tls_mint *tls_mint_new(const char *ca_certificate, const char *ca_key, unsigned validity_s,
			      char *err, size_t err_size);
void tls_mint_free(struct tls_mint *mint);

/* What tls_mint_identity gives: IDENTITY is the mint's, valid until the
 * next tls_mint_identity call on the same mint (which may replace or drop
 * it) or tls_mint_free; a connection that presents it takes its own
 * references.  SERIAL is the certificate's serial number in lower-case hex. */
struct tls_minted {
	const struct tls_identity *identity;
	char serial[41];
	time_t not_before, not_after;
	bool fresh; /* minted by this call, not taken from the cache */
};

/* The identity for DOMAIN at time NOW: the cached one while more than a
 * quarter of its validity is left, else a new one.  Returns 0, or -1 when
 * DOMAIN is not a lower-case DNS name (RFC 1123 labels of letters, digits
 * and inner hyphens, 1 to 63 bytes each, 253 bytes at most, no trailing dot,
 * no wildcard, last label not all digits) or OpenSSL fails (out of
 * memory). */
int tls_mint_identity(struct tls_mint *mint, const char *domain, time_t now,
		      struct tls_minted *out);

/* Is NAME a name tls_mint_identity mints for? */
bool tls_mint_domain_valid(const char *name);

#endif
