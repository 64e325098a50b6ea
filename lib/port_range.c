/* SPDX-License-Identifier: ISC */
/* port_range: bind at a free port of a range, from a random start, with a
 * bounded number of tries (port_range.h). */
#include "port_range.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "udp_socket.h"

unsigned port_range_size(const struct port_range *range)
{
	return (unsigned)range->last - range->first + 1;
}

static void set_port(struct sockaddr_storage *address, uint16_t port)
{
	if (address->ss_family == AF_INET)
		((struct sockaddr_in *)address)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)address)->sin6_port = htons(port);
}

/* A socket of KIND for ADDRESS's family, with the options it needs before
 * bind(), or -1 with errno. */
static int open_socket(const struct sockaddr_storage *address, enum port_range_socket kind)
{
	int type = kind == PORT_RANGE_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(address->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1;

	if (fd < 0)
		return -1;
	/* A relay on an IPv6 address relays IPv6 only: a mapped IPv4 peer
	 * would slip past the address family the allocation asked for. */
	if (address->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		goto fail;
	/* A listener may bind while earlier connections from its port linger
	 * in TIME_WAIT; it still cannot share the port with a live socket. */
	if (kind == PORT_RANGE_TCP_LISTENER &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		goto fail;
	if (kind == PORT_RANGE_UDP)
		udp_socket_size_buffers(fd);
	return fd;
fail:;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Binds FD at PORT (and listens, for a listener): 0, or -1 with errno. */
static int bind_at(int fd, struct sockaddr_storage *address, uint16_t port,
		   enum port_range_socket kind)
{
	set_port(address, port);
	if (bind(fd, (struct sockaddr *)address, (socklen_t)address_length(address)) < 0)
		return -1;
	if (kind == PORT_RANGE_TCP_LISTENER && listen(fd, PORT_RANGE_LISTEN_BACKLOG) < 0)
		return -1;
	return 0;
}

int port_range_bind(const struct port_range *range, const struct sockaddr_storage *address,
		    enum port_range_socket kind, unsigned tries, uint16_t *port)
{
	struct sockaddr_storage at;
	uint32_t random;

	if (range->first == 0 || range->first > range->last || tries == 0 ||
	    address_length(address) == 0) {
		errno = EINVAL;
		return -1;
	}
	if (RAND_bytes((unsigned char *)&random, sizeof(random)) != 1) {
		errno = EIO;
		return -1;
	}
	unsigned size = port_range_size(range);
	unsigned offset = random % size;
	if (tries > size)
		tries = size;
	memcpy(&at, address, sizeof(at));
	for (unsigned i = 0; i < tries; i++) {
		uint16_t candidate = (uint16_t)(range->first + (offset + i) % size);
		/* A socket that failed to bind may not bind again (a TCP one
		 * that failed to listen is bound): each try gets a fresh one. */
		int fd = open_socket(&at, kind);
		if (fd < 0)
			return -1;
		if (bind_at(fd, &at, candidate, kind) == 0) {
			*port = candidate;
			return fd;
		}
		int saved = errno;
		close(fd);
		errno = saved;
		if (errno != EADDRINUSE)
			return -1;
	}
	errno = EADDRINUSE;
	return -1;
}
