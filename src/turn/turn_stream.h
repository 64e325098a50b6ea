/* SPDX-License-Identifier: ISC */
/* turn_stream: TURN's TCP connections (lib/conn), both kinds.
 *
 * A client's connection on a turn_tcp listener (turn_stream) carries STUN
 * messages and ChannelData cut by stun_framing, each handed to the server
 * whole; it may hold an allocation (TURN over TCP), and, for RFC 6062, be
 * a control connection or, once a ConnectionBind succeeded, a data
 * connection joined with one peer connection (turn_peer).  A peer
 * connection is one the relay accepted from a peer or opened to it for a
 * Connect.  Joined, the two carry raw bytes both ways; neither queues more
 * than output_max for the other: the side that would overflow stops
 * reading until the other drains.  The allocation's bandwidth cap holds
 * them too: a side whose bucket is empty stops reading until it refills,
 * so what is over waits in the sockets and TCP loses nothing.  Until it is
 * joined, a peer connection is not read, so what the peer sends waits in
 * its socket.
 *
 * A turn_peer is the owner of the server's allocation_connection: it is
 * freed when the server lets go of it (peer_close), or when its TCP
 * connection ends, the server told at once (turn_server_peer_connected
 * false while connecting, else turn_server_peer_gone), so the server never
 * holds a freed handle. */
#ifndef SXEDGE_TURN_TURN_STREAM_H
#define SXEDGE_TURN_TURN_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "allocation_table.h"
#include "conn.h"
#include "transport_address.h"
#include "turn_server.h"

struct turn_context;
struct turn_relay;
struct turn_peer;

struct turn_stream {
	struct turn_context *context;
	struct conn *conn;
	struct turn_client client; /* its 5-tuple; connection: this stream */
	struct turn_peer *peer; /* joined: raw bytes from now on */
	bool joining; /* a ConnectionBind succeeded during this frame */
	struct turn_stream *previous, *next;
};

struct turn_peer {
	struct turn_context *context;
	struct conn *conn; /* NULL once closed */
	struct allocation_connection *connection; /* the server's; NULL once it let go */
	struct turn_stream *stream; /* joined with */
	bool connecting; /* a Connect waiting for the TCP connect */
	/* joined: a side held back by the bandwidth cap reads again when its
	 * timer (by enum allocation_direction) fires */
	struct event *refill[2];
	struct turn_peer *previous, *next;
};

/* A connection accepted on a turn_tcp listener (FD is TURN's). */
void turn_stream_accept(struct turn_context *context, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len);
/* Queues BYTES on STREAM's connection. */
void turn_stream_send(struct turn_stream *stream, const uint8_t *bytes, size_t size);
/* The server's ConnectionBind succeeded on STREAM: joined with PEER. */
void turn_stream_join(struct turn_stream *stream, struct turn_peer *peer);
/* Closes every client connection (flushed). */
void turn_streams_close(struct turn_context *context);

/* RFC 6062 Connect: a connection from RELAY's address to PEER for
 * CONNECTION; NULL when it cannot be started. */
struct turn_peer *turn_peer_connect(struct turn_context *context, struct turn_relay *relay,
				    const struct transport_address *peer,
				    struct allocation_connection *connection);
/* PEER connected to the TCP relay of ALLOCATION (FD): offered to the server,
 * closed when it refuses. */
void turn_peer_accepted(struct turn_context *context, struct allocation *allocation, int fd,
			const struct transport_address *peer);
/* The server is done with PEER: its connection closes and it is freed. */
void turn_peer_close(struct turn_peer *peer);

#endif
