/* SPDX-License-Identifier: ISC */
/* transport_address: IP and port in the compact form TURN state keeps. */
#include "transport_address.h"

#include <netinet/in.h>
#include <string.h>

bool transport_address_from_sockaddr(const struct sockaddr *address, struct transport_address *out)
{
	memset(out, 0, sizeof(*out));
	if (address == NULL)
		return false;
	if (address->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
		memcpy(out->ip, &v4->sin_addr, 4);
		out->port = ntohs(v4->sin_port);
	} else if (address->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
		memcpy(out->ip, &v6->sin6_addr, 16);
		out->port = ntohs(v6->sin6_port);
	} else {
		return false;
	}
	out->family = address->sa_family;
	return true;
}

socklen_t transport_address_to_sockaddr(const struct transport_address *address,
					struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (address->family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)out;
		v4->sin_family = AF_INET;
		v4->sin_port = htons(address->port);
		memcpy(&v4->sin_addr, address->ip, 4);
		return sizeof(*v4);
	}
	if (address->family == AF_INET6) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(address->port);
		memcpy(&v6->sin6_addr, address->ip, 16);
		return sizeof(*v6);
	}
	return 0;
}

bool transport_address_equal(const struct transport_address *a, const struct transport_address *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

bool transport_address_same_ip(const struct transport_address *a, const struct transport_address *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, 16) == 0;
}
