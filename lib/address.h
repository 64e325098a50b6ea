/* SPDX-License-Identifier: ISC */
/* address: IP literals as socket addresses, and socket addresses as text
 * for logs.  The edge never resolves names where it binds or relays to a
 * configured address, so one parser serves listeners, pool links, partner
 * links and the resolver's literal short-cut. */
#ifndef SXEDGE_ADDRESS_H
#define SXEDGE_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Fills OUT from the IPv4 or IPv6 literal HOST (no brackets) and PORT.
 * Returns the length of the socket address, or 0 when HOST is not one. */
int address_parse(const char *host, uint16_t port, struct sockaddr_storage *out);

/* The length of ADDRESS as bind() and connect() want it (0: no address). */
int address_length(const struct sockaddr_storage *address);

/* Is ADDRESS 0.0.0.0 or :: (every address of its family)? */
bool address_is_unspecified(const struct sockaddr_storage *address);

/* Is ADDRESS a loopback address (127.0.0.0/8, ::1, or 127.0.0.0/8 mapped
 * into IPv6), which only this host can reach? */
bool address_is_loopback(const struct sockaddr_storage *address);

/* "192.0.2.1:5061", "[2001:db8::1]:5061", or without WITH_PORT the bare
 * address; "unknown" for another family. */
void address_format(const struct sockaddr *address, bool with_port, char *out, size_t size);

#endif
