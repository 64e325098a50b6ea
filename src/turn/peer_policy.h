/* SPDX-License-Identifier: ISC */
/* peer_policy: to which peer addresses a TURN allocation may relay.
 *
 * A relay on the perimeter network must not become a way in: without a
 * policy, any client with credentials could send from the edge to the
 * edge's own services, to the internal network, or to hosts only the
 * edge's neighbourhood can reach.  So the message handler asks
 * peer_policy_check for every XOR-PEER-ADDRESS of CreatePermission,
 * ChannelBind and Connect (RFC 8656 §9.1, §11, RFC 6062 §5.2) and answers
 * 403 Forbidden unless it says PEER_ALLOWED.  Data to and from a peer is
 * then checked against the permission table, not here: this is not on
 * the per-packet path.
 *
 * Refused, each with its verdict (the reason logged and counted):
 *
 *   IPv4                              IPv6
 *   0.0.0.0            unspecified    ::                unspecified
 *   0.0.0.0/8          this_network   ::1               loopback
 *   127.0.0.0/8        loopback       fe80::/10         link_local
 *   10/8 172.16/12     private        fec0::/10         site_local
 *     192.168/16                      fc00::/7          unique_local
 *   100.64.0.0/10      shared         ff00::/8          multicast
 *   169.254.0.0/16     link_local     64:ff9b:1::/48    private (RFC 8215)
 *   192.0.0.0/24       reserved       2001:db8::/32     documentation
 *     (IETF protocol assignments)     3fff::/20         documentation
 *   192.0.2.0/24       documentation  2001:2::/48       benchmarking
 *   198.51.100.0/24    documentation  2001:10::/28      reserved (ORCHID)
 *   203.0.113.0/24     documentation  2001:20::/28      reserved (ORCHIDv2)
 *   198.18.0.0/15      benchmarking   100::/64          reserved (discard)
 *   224.0.0.0/4        multicast      outside 2000::/3  reserved
 *   240.0.0.0/4        reserved         (not global unicast)
 *   255.255.255.255    broadcast
 *
 * and any of the edge's own addresses (edge), whatever the range.
 *
 * An IPv6 address that stands for an IPv4 one is judged by the IPv4
 * address it carries, so no spelling reaches what the IPv4 form may not:
 *
 *   ::ffff:a.b.c.d        IPv4-mapped (RFC 4291 §2.5.5.2)
 *   ::a.b.c.d             IPv4-compatible (deprecated, RFC 4291 §2.5.5.1;
 *                         :: and ::1 themselves are unspecified, loopback)
 *   ::ffff:0:a.b.c.d      IPv4-translated (RFC 2765 §2.1)
 *   64:ff9b::a.b.c.d      the NAT64 well-known prefix (RFC 6052)
 *   2002:AABB:CCDD::/48   6to4 (RFC 3056), a.b.c.d in bits 16-47
 *   2001:0::/32           Teredo (RFC 4380), the client's address in the
 *                         last 32 bits, each inverted
 *
 * An embedded address that is allowed leaves the IPv6 address allowed.
 *
 * The allow list overrides all of it: a peer inside one of its prefixes
 * (compared as given, and as the IPv4 address it embeds) is allowed even
 * when loopback, private or the edge's own, for a media server on the
 * internal network, or for tests on 127.0.0.1.  Everything else, the
 * global unicast internet, is allowed.
 *
 * A consequence: a client relaying to another allocation's relay address
 * on this same edge (two clients of one edge talking) is refused, as the
 * edge's own address, unless that address is allowed. */
#ifndef SXEDGE_TURN_PEER_POLICY_H
#define SXEDGE_TURN_PEER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The verdicts; each but PEER_ALLOWED is a reason for 403. */
enum peer_verdict {
	PEER_ALLOWED,
	PEER_REFUSED_FAMILY, /* neither IPv4 nor IPv6 */
	PEER_REFUSED_UNSPECIFIED,
	PEER_REFUSED_THIS_NETWORK,
	PEER_REFUSED_LOOPBACK,
	PEER_REFUSED_PRIVATE,
	PEER_REFUSED_SHARED, /* carrier-grade NAT, RFC 6598 */
	PEER_REFUSED_LINK_LOCAL,
	PEER_REFUSED_SITE_LOCAL,
	PEER_REFUSED_UNIQUE_LOCAL,
	PEER_REFUSED_MULTICAST,
	PEER_REFUSED_BROADCAST,
	PEER_REFUSED_DOCUMENTATION,
	PEER_REFUSED_BENCHMARKING,
	PEER_REFUSED_RESERVED,
	PEER_REFUSED_EDGE, /* one of the edge's own addresses */
};

/* A stable lower-case name for VERDICT ("allowed", "loopback",
 * "unique_local", "edge"...), for the log's reason= and the refusal
 * metric's label; "unknown" outside the enum. */
const char *peer_verdict_name(enum peer_verdict verdict);

/* An address prefix: FAMILY AF_INET or AF_INET6, the first LENGTH bits of
 * ADDRESS (4 or 16 bytes used), the bits after them zero. */
struct peer_prefix {
	sa_family_t family;
	unsigned char length;
	unsigned char address[16];
};

/* Why a prefix's text is not one. */
enum peer_prefix_error {
	PEER_PREFIX_OK,
	PEER_PREFIX_EMPTY, /* nothing, or nothing before the '/' */
	PEER_PREFIX_BAD_ADDRESS, /* not an IPv4 or IPv6 literal */
	PEER_PREFIX_BAD_LENGTH, /* after the '/': empty, not decimal, or leading zeros */
	PEER_PREFIX_LENGTH_TOO_LONG, /* more than 32 (IPv4) or 128 (IPv6) */
	PEER_PREFIX_HOST_BITS, /* bits set after the length: "10.1.2.3/8" */
};

/* A message for people, for the configuration's FILE:LINE: errors
 * ("not an IPv4 or IPv6 address"...); "unknown error" outside the enum. */
const char *peer_prefix_error_message(enum peer_prefix_error error);

/* Parses the LENGTH bytes at TEXT, "ADDRESS/LENGTH" or a bare "ADDRESS"
 * (all of its bits), into *OUT (filled on PEER_PREFIX_OK only).  No white
 * space is skipped: the configuration reader trims a value's ends, and a
 * value that still holds a space is a mistake.  An IPv6 address keeps its
 * own spelling: "::ffff:10.0.0.0/104" is an IPv6 prefix, and matches the
 * IPv4 10/8 only by way of the embedding rule above. */
enum peer_prefix_error peer_prefix_parse(const char *text, size_t length, struct peer_prefix *out);

/* Is ADDRESS (its port ignored) inside PREFIX?  An address of the other
 * family never is. */
bool peer_prefix_contains(const struct peer_prefix *prefix, const struct sockaddr_storage *address);

/* What a check needs: the allow list and the edge's own addresses (the
 * external and relay addresses, the listeners', the internal side's; a
 * wildcard listener stands for the host's addresses, which the caller
 * lists).  The arrays belong to the caller and must outlive the policy;
 * a check reads them and allocates nothing. */
struct peer_policy {
	const struct peer_prefix *allowed;
	size_t allowed_count;
	const struct sockaddr_storage *own; /* ports ignored */
	size_t own_count;
};

/* The verdict on relaying to PEER (its port ignored). */
enum peer_verdict peer_policy_check(const struct peer_policy *policy,
				    const struct sockaddr_storage *peer);

#endif
