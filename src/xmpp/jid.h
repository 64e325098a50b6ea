/* SPDX-License-Identifier: ISC */
/* jid: the domain part of an XMPP address (RFC 7622 §3.2), which is all
 * that federation checks look at. */
#ifndef SXEDGE_XMPP_JID_H
#define SXEDGE_XMPP_JID_H

#include <stdbool.h>
#include <stddef.h>

#define JID_DOMAIN_MAX 1023 /* RFC 7622 §3.2: at most 1023 bytes */

/* Copies the domain of JID ("user@domain/resource", "domain", "domain/x")
 * into DOMAIN (JID_DOMAIN_MAX + 1 bytes), lower-cased, without a trailing
 * dot.  false for an empty or over-long domain, an empty local part before
 * an '@', or a byte that is no part of a domain name (controls, spaces,
 * '@', '/', '"', '<', '>'...). */
bool jid_domain(const char *jid, char domain[JID_DOMAIN_MAX + 1]);

#endif
