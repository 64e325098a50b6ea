/* SPDX-License-Identifier: ISC */
/* port_range: a socket bound at a free port of a configured range, for
 * TURN's relayed transport addresses (default 50000-59999).
 *
 * The kernel is the only book of which ports are taken: a port is free when
 * bind() succeeds, and it goes back to the range when its socket is closed,
 * so there is no table to keep in step with the sockets.  The search starts
 * at a random port of the range (a relay address should not tell the next
 * one) and walks up from there, wrapping at the end, for a bounded number of
 * tries, so a nearly full range costs at most that many bind() calls.
 *
 * No socket option lets two sockets share a port (no SO_REUSEPORT): a second
 * relay on a port already relaying would pass the kernel's check. */
#ifndef SXEDGE_PORT_RANGE_H
#define SXEDGE_PORT_RANGE_H

#include <stdint.h>
#include <sys/socket.h>

#define PORT_RANGE_LISTEN_BACKLOG 16 /* a relay's TCP listener: peers, one by one */

struct port_range {
	uint16_t first, last; /* inclusive, 1 <= first <= last */
};

enum port_range_socket {
	PORT_RANGE_UDP, /* a datagram socket */
	PORT_RANGE_TCP_LISTENER, /* a stream socket, listening (SO_REUSEADDR) */
};

/* Binds a new socket of KIND on ADDRESS (an IPv4 or IPv6 address; its port
 * is ignored) at a free port of RANGE, trying at most TRIES ports (each port
 * at most once, so no more than the range holds).  The socket is
 * non-blocking and close-on-exec; an IPv6 one is IPv6 only.  Returns the
 * socket with its port in *PORT, or -1 with errno: EADDRINUSE when every
 * port tried was taken, EINVAL for a bad RANGE, ADDRESS or TRIES of 0, and
 * whatever socket() or bind() said when trying another port could not help
 * (EADDRNOTAVAIL: ADDRESS is not this host's; EACCES). */
int port_range_bind(const struct port_range *range, const struct sockaddr_storage *address,
		    enum port_range_socket kind, unsigned tries, uint16_t *port);

/* The number of ports RANGE holds. */
unsigned port_range_size(const struct port_range *range);

#endif
