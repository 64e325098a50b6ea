/* SPDX-License-Identifier: ISC */
/* turn_server: the TURN server's decisions, one message at a time
 * (RFC 8489 Binding, RFC 8656 allocations, RFC 6062 TCP relays).
 *
 * It owns the allocation table (allocation_table.h), the nonce key
 * (turn_nonce.h) and the peer policy (peer_policy.h), reads every message
 * with the codec (stun_message.h, channel_data.h) and writes every answer
 * with the builder into a buffer of its own (no allocation per packet).
 * It never touches a socket: everything it does goes through struct
 * turn_io, which the protocol module (turn_context / turn_protocol)
 * implements over the event loop.  Time is a parameter (ms, monotonic for
 * lifetimes and nonces; the wall clock only for username expiry, passed
 * separately), so the whole of it is unit-tested with a fake turn_io.
 *
 * Who is who:
 *   client  a TURN client, on the listener (UDP 3478: a 5-tuple; TCP 3478:
 *           a connection the protocol module frames, stun_framing.h)
 *   relay   the socket an allocation holds on the relay address, from the
 *           port range: UDP, or for RFC 6062 a TCP listening socket
 *   peer    whom the client talks to through the relay
 *
 * Every refusal is a named reason: turn_io.refused gets it (the protocol
 * module logs it and counts it in sxedge_turn_refusals_total{reason}).
 * A malformed packet is dropped and counted, never answered.  Before a
 * request is authenticated, an answer sent over UDP carries nothing
 * optional (no reason phrase, FINGERPRINT only when the request had one)
 * and is at most TURN_SERVER_AMPLIFICATION times the request's size (no
 * amplification); a larger one is not sent and counted as
 * "amplification".  Over TCP the handshake proved the source: no bound.
 *
 * Credentials: the ephemeral username must be "EXPIRY:USER"; a bare
 * EXPIRY is refused ("username_no_colon"), since the per-user quota
 * needs a user.  Only the MD5 password algorithm is offered (the nonce
 * carries no feature bits); MESSAGE-INTEGRITY-SHA256 is checked and
 * answered when a request carries it.  EVEN-PORT is honoured without its
 * R bit (an even relay port: relay_open is asked again, bounded; 508
 * "no_relay" when no even one comes); with R (reserve the next port) it
 * is 508 "even_port_reservation".  ADDITIONAL-ADDRESS-FAMILY (dual
 * allocation) is not offered: an allocation holds one relay, so the
 * answer is the IPv4 allocation with ADDRESS-ERROR-CODE 440 for IPv6.  RESERVATION-TOKEN, DONT-FRAGMENT,
 * USERHASH and PASSWORD-ALGORITHM are not understood (420). */
#ifndef SXEDGE_TURN_TURN_SERVER_H
#define SXEDGE_TURN_TURN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocation_table.h"
#include "peer_policy.h"
#include "transport_address.h"

/* The bound on an unauthenticated answer over UDP, times the request. */
#define TURN_SERVER_AMPLIFICATION 4

/* What the server is configured with (from [turn], turn_config.h). */
struct turn_server_settings {
	const char *realm;
	const uint8_t *secret; /* the shared secret of the ephemeral scheme */
	size_t secret_length;
	uint32_t nonce_lifetime_s;
	struct allocation_limits limits;
	const struct peer_policy *peer_policy; /* outlives the server */
	bool tcp_relays; /* RFC 6062 allowed (REQUESTED-TRANSPORT TCP over TCP) */
	/* The relay families relay_open binds: an Allocate gets IPv4 unless
	 * its REQUESTED-ADDRESS-FAMILY says IPv6 (RFC 8656 §7.2); a family
	 * not here is 440. */
	bool relay_ipv4, relay_ipv6;
	/* The IPs told to clients in XOR-RELAYED-ADDRESS, with the relay's
	 * port (external_address behind a one-to-one NAT), for the relays of
	 * each one's family (external_address6 is IPv6 or family 0); family
	 * 0, or none of a relay's family: the address relay_open bound. */
	struct transport_address external_address, external_address6;
	/* The relay ports ([turn] relay_ports): a peer at one of them on the
	 * relay or external address is another allocation of this edge (two
	 * of its clients talking to each other), allowed although the
	 * edge's own addresses are refused; any other port there is not. */
	uint16_t relay_port_first, relay_port_last;
};

/* Where a client's message came from.  CONNECTION is the protocol
 * module's handle of the client's TCP connection (NULL over UDP); the
 * five_tuple's transport says which. */
struct turn_client {
	struct five_tuple five_tuple;
	void *connection;
};

/* What the server asks the protocol module to do.  All are called from
 * inside turn_server_* calls; none may call back into the server, except
 * where said. */
struct turn_io {
	/* Sends BYTES to CLIENT: over UDP from the listener's socket to the
	 * 5-tuple's client address, over TCP on its connection. */
	void (*to_client)(void *arg, const struct turn_client *client, const uint8_t *bytes,
			  size_t size);
	/* Binds a relay for a new allocation on the relay address of
	 * RELAY->family (one the settings name) at a free port of the range:
	 * a UDP socket, or for RELAY_TRANSPORT TCP a listening socket; fills
	 * *RELAY with the address bound.  Returns the
	 * module's handle (kept as allocation->owner), or NULL when none can
	 * be bound (the Allocate gets 508). */
	void *(*relay_open)(void *arg, uint8_t relay_transport, struct transport_address *relay);
	/* The allocation of RELAY ended (expired, refreshed to 0, its client's
	 * TCP connection gone...): the socket is closed and its port freed. */
	void (*relay_close)(void *arg, void *relay);
	/* Sends a datagram of BYTES out of RELAY (UDP) to PEER.  Not asked
	 * for a peer that is the relay of a live UDP allocation of this
	 * server: the server hands that one to the allocation's from-peer
	 * path itself, as if it had come in at its relay socket from
	 * RELAY's address. */
	void (*to_peer)(void *arg, void *relay, const struct transport_address *peer,
			const uint8_t *bytes, size_t size);
	/* RFC 6062 Connect: opens a TCP connection from RELAY's address to
	 * PEER for CONNECTION (allocation_connection); the outcome comes back
	 * as turn_server_peer_connected.  Returns the module's handle (kept as
	 * connection->owner) or NULL (the Connect gets 447). */
	void *(*peer_connect)(void *arg, void *relay, const struct transport_address *peer,
			      struct allocation_connection *connection);
	/* RFC 6062 ConnectionBind succeeded: after the success response,
	 * which to_client has just queued on CLIENT's connection, the module
	 * joins that connection with the peer connection PEER (raw bytes both
	 * ways from now on, no more STUN on it). */
	void (*connection_join)(void *arg, const struct turn_client *client, void *peer);
	/* The peer connection PEER ended for the server (its allocation ended,
	 * or it was never bound in 30 s): the module closes it.  Not called
	 * for a connection the module reported failed or gone
	 * (turn_server_peer_connected false, turn_server_peer_gone). */
	void (*peer_close)(void *arg, void *peer);
	/* A packet or request refused, for the log and the metrics: REASON is a
	 * stable snake_case name (e.g. "malformed_length_beyond_datagram",
	 * "unauthorized", "stale_nonce", "expired_username", "peer_loopback",
	 * "user_quota", "total_quota", "amplification", "no_permission",
	 * "bandwidth"); CODE the STUN error code sent, 0 when nothing was
	 * answered. */
	void (*refused)(void *arg, const struct turn_client *client, const char *reason, int code);
	/* An allocation was made or ended (for logs, sxedge_turn_allocations):
	 * WHY is "allocated" when made, else allocation_end_name's. */
	void (*allocation_event)(void *arg, const struct allocation *allocation, bool made,
				 const char *why);
	/* Bytes relayed, by direction, for sxedge_turn_packets_total and
	 * sxedge_turn_bytes_total. */
	void (*relayed)(void *arg, enum allocation_direction direction, size_t bytes);
	void *arg;
};

struct turn_server;
struct turn_server_change;

/* A server with SETTINGS (copied, but the peer policy must outlive it) and
 * IO; SEED randomises its hash tables and NONCE_SECRET (32 bytes, drawn
 * once per process) keys its nonces.  NULL when out of memory. */
struct turn_server *turn_server_new(const struct turn_server_settings *settings,
				    const struct turn_io *io, uint64_t seed,
				    const uint8_t nonce_secret[32]);
/* Frees it: every allocation ends (relay_close, peer_close). */
void turn_server_free(struct turn_server *server);

/* A datagram (UDP) or one frame (TCP: a STUN message or ChannelData, as
 * stun_framing cut it) from CLIENT.  NOW_MS monotonic, WALL_S the wall
 * clock (username expiry). */
void turn_server_from_client(struct turn_server *server, const struct turn_client *client,
			     const uint8_t *bytes, size_t size, uint64_t now_ms, uint64_t wall_s);

/* A datagram from PEER arrived on the UDP relay of ALLOCATION: to the
 * client as ChannelData when a channel is bound to PEER, else as a Data
 * indication, if a permission allows PEER and the bandwidth cap does;
 * else dropped and counted.  (The server calls it itself for what one of
 * its allocations relays to another's relay address.) */
void turn_server_from_peer(struct turn_server *server, struct allocation *allocation,
			   const struct transport_address *peer, const uint8_t *bytes, size_t size,
			   uint64_t now_ms);

/* RFC 6062: the connection to the peer that peer_connect opened is up
 * (OK) or failed: the Connect is answered (CONNECTION-ID, or 447).  Only
 * for a connection that has not ended (peer_close not called for it). */
void turn_server_peer_connected(struct turn_server *server,
				struct allocation_connection *connection, bool ok, uint64_t now_ms);

/* RFC 6062: PEER connected to the TCP relay of ALLOCATION; the module
 * accepted it as PEER_HANDLE.  With a permission for PEER the client gets
 * a ConnectionAttempt indication and true is returned (the server keeps
 * PEER_HANDLE as the connection's owner until bound or expired); false:
 * the module closes it. */
bool turn_server_peer_arrived(struct turn_server *server, struct allocation *allocation,
			      const struct transport_address *peer, void *peer_handle,
			      uint64_t now_ms);

/* The same, returning the connection made for PEER_HANDLE (what
 * turn_server_peer_gone takes), NULL for false. */
struct allocation_connection *turn_server_peer_accept(struct turn_server *server,
						      struct allocation *allocation,
						      const struct transport_address *peer,
						      void *peer_handle, uint64_t now_ms);

/* RFC 6062: the peer connection of CONNECTION closed, or the client data
 * connection joined to it did: the server forgets it (no peer_close). */
void turn_server_peer_gone(struct turn_server *server, struct allocation_connection *connection);

/* Ends ALLOCATION now, reported as WHY (relay_close, allocation_event):
 * ALLOCATION_END_LISTENER_REMOVED for one whose UDP listener a reload
 * closed. */
void turn_server_end_allocation(struct turn_server *server, struct allocation *allocation,
				enum allocation_end why);

/* RFC 6062: how many of BYTES the data connection joined with CONNECTION
 * may move in DIRECTION at NOW_MS under its allocation's bandwidth cap
 * (charged, and counted by the caller); when none, *WAIT_MS is how long
 * until a chunk of WANTED may, for the module to stop reading that side
 * until then (TCP loses nothing: what waits stays in the socket). */
uint32_t turn_server_stream_bandwidth(struct turn_server *server,
				      struct allocation_connection *connection,
				      enum allocation_direction direction, uint32_t bytes,
				      uint32_t wanted, uint64_t now_ms, uint64_t *wait_ms);

/* CLIENT's TCP connection closed: an allocation made over it ends. */
void turn_server_client_gone(struct turn_server *server, const struct turn_client *client,
			     uint64_t now_ms);

/* The one moment the protocol module's timer must fire (UINT64_MAX: none),
 * and what is due then. */
uint64_t turn_server_next_expiry(const struct turn_server *server);
void turn_server_expire(struct turn_server *server, uint64_t now_ms);

/* Allocations open now (the metrics gauge). */
uint32_t turn_server_allocations(const struct turn_server *server);

/* ---- A reload ---- */

/* SETTINGS made ready for a running server without touching it (copied; the
 * peer policy must outlive the server); NULL when out of memory. */
struct turn_server_change *turn_server_change_new(const struct turn_server_settings *settings);
/* SERVER takes CHANGE: from now on it answers with the new realm, checks
 * credentials made with the new secret, judges every peer a request names
 * with the new policy, and grants the new limits to the allocations made
 * from now on, its quotas to every Allocate (allocation_table_set_limits).
 * An allocation made before keeps its limits and the credentials it was
 * made with: a request on it whose MAC checks with its key is accepted
 * although the secret or the realm changed.  The nonce secret stays, so
 * the nonces given out stay good (for the new lifetime).  Cannot fail. */
void turn_server_change_apply(struct turn_server *server, struct turn_server_change *change);
/* Frees a CHANGE never applied. */
void turn_server_change_free(struct turn_server_change *change);

/* Whom ALLOCATION counts against: the USER part of its username, *LENGTH
 * bytes, not NUL-terminated (for the log of allocation_event). */
const char *turn_server_allocation_user(const struct turn_server *server,
					const struct allocation *allocation, size_t *length);

#endif
