/* SPDX-License-Identifier: ISC */
/* address_count: how many connections each source address holds, for the
 * per-address cap on inbound connections.  One table per worker.  The port
 * is ignored; an IPv4 address (IPv4-mapped IPv6 counts as IPv4) is one
 * source, and so is a whole IPv6 /64 (its first 8 bytes): whoever holds a
 * /64 can connect from any of its 2^64 addresses. */
#ifndef SXEDGE_ADDRESS_COUNT_H
#define SXEDGE_ADDRESS_COUNT_H

#include <stdbool.h>
#include <sys/socket.h>

struct address_count;

struct address_count *address_count_new(void);
void address_count_free(struct address_count *table);

/* Counts one more connection from ADDRESS unless it already has MAX;
 * returns false (and counts nothing) then, or when out of memory. */
bool address_count_acquire(struct address_count *table, const struct sockaddr *address,
			   unsigned max);
/* Forgets one connection from ADDRESS (which must have been acquired). */
void address_count_release(struct address_count *table, const struct sockaddr *address);
/* Connections counted for ADDRESS. */
unsigned address_count_get(const struct address_count *table, const struct sockaddr *address);

#endif
