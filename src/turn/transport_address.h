/* SPDX-License-Identifier: ISC */
/* transport_address: an IP address and port (RFC 8656's "transport
 * address") in 20 bytes, the form TURN state keeps them in.  A sockaddr_storage is 128
 * bytes; an allocation holds several addresses and each permission and
 * channel one more, so the tables keep this compact form, compared and
 * hashed as plain bytes.  The bytes of IP past an IPv4 address are zero, so
 * two equal addresses are equal byte for byte.  No spelling is normalised:
 * an IPv4-mapped IPv6 address stays IPv6 (the sockets under the relay are
 * of one family each, so a peer always arrives in the same spelling). */
#ifndef SXEDGE_TURN_TRANSPORT_ADDRESS_H
#define SXEDGE_TURN_TRANSPORT_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct transport_address {
	uint8_t ip[16]; /* network order; IPv4 in the first 4, the rest zero */
	uint16_t port; /* host order */
	sa_family_t family; /* AF_INET or AF_INET6; 0 for no address */
};

/* Fills OUT from an AF_INET or AF_INET6 socket address (the whole of OUT is
 * written).  False, with OUT zeroed, for another family. */
bool transport_address_from_sockaddr(const struct sockaddr *address, struct transport_address *out);

/* Writes ADDRESS as a socket address; returns its length for sendto() and
 * connect(), 0 for no address. */
socklen_t transport_address_to_sockaddr(const struct transport_address *address,
					struct sockaddr_storage *out);

/* Same address and port. */
bool transport_address_equal(const struct transport_address *a, const struct transport_address *b);

/* Same address, whatever the ports (what a TURN permission compares). */
bool transport_address_same_ip(const struct transport_address *a,
			       const struct transport_address *b);

#endif
