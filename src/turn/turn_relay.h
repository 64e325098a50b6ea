/* SPDX-License-Identifier: ISC */
/* turn_relay: the socket one allocation holds on the relay address, at a
 * free port of [turn] relay_ports (port_range.h): a UDP socket whose
 * datagrams go to turn_server_from_peer in batches (recvmmsg), and leave
 * through its own queue in the worker's sender (sendmmsg); or, for an
 * RFC 6062 allocation, a TCP listener whose peers are offered to the
 * server one by one.
 *
 * The listener of a TCP relay sets SO_REUSEPORT once bound: the
 * connections an RFC 6062 Connect opens must leave from its port (§5.2),
 * and Linux lets a socket bind a listening port only when both set it.
 * It is set after the bind, so no other socket of port_range's (which
 * never sets it) can take the port while the listener holds it. */
#ifndef SXEDGE_TURN_TURN_RELAY_H
#define SXEDGE_TURN_TURN_RELAY_H

#include <stdint.h>

#include <event2/event.h>

#include "allocation_table.h"
#include "transport_address.h"
#include "udp_batch.h"

struct turn_context;

struct turn_relay {
	struct turn_context *context;
	struct allocation *allocation; /* once the server reports it made; NULL after */
	uint8_t transport; /* TURN_TRANSPORT_UDP or _TCP */
	int fd;
	struct event *readable;
	struct event *writable; /* UDP: armed while the queue is blocked */
	struct udp_queue queue; /* UDP */
	struct sockaddr_storage bound; /* the relay address and port, for RFC 6062 connects */
	socklen_t bound_length;
	struct turn_relay *previous, *next; /* the context's list */
};

/* Binds a relay of TRANSPORT on CONTEXT's relay address of BOUND->family
 * (one the context has) at a free port, written into *BOUND (the server tells clients external_address instead).
 * NULL when none can be bound (logged). */
struct turn_relay *turn_relay_open(struct turn_context *context, uint8_t transport,
				   struct transport_address *bound);
/* Closes the socket (its port goes back to the range) and frees RELAY. */
void turn_relay_close(struct turn_relay *relay);

/* Queues a datagram of SIZE bytes to PEER out of the UDP RELAY; it leaves
 * at the context's next flush.  Dropped and counted when the queue is full. */
void turn_relay_send(struct turn_relay *relay, const struct transport_address *peer,
		     const uint8_t *bytes, size_t size);

/* A blocked queue of the sender: RELAY's socket is watched until it takes
 * the rest. */
void turn_relay_blocked(struct turn_relay *relay);

#endif
