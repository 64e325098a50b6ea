/* SPDX-License-Identifier: ISC */
/* allocation_table: the state of TURN allocations (RFC 8656 §5), pure.
 *
 * One table per worker holds every allocation with what RFC 8656 and
 * RFC 6062 hang off it: permissions (§9), channel bindings (§12), the
 * bandwidth buckets, and TCP-relay peer connections (RFC 6062 §5).  The
 * table decides every rule that is about state (quotas, lifetimes, limits,
 * the channel rules, expiry) and names each refusal with the STUN error code
 * that answers it; it knows no message format and no socket.  Time is a
 * parameter, in milliseconds from any fixed origin (the worker's monotonic
 * clock).
 *
 * Packet path.  The look-ups a relayed packet needs, by 5-tuple
 * (allocation_find_by_client), by relay address (allocation_find_by_relay),
 * by channel number or peer (allocation_channel_peer,
 * allocation_channel_number), permission (allocation_permits) and bandwidth
 * (allocation_bandwidth_take), are hash probes that never allocate.
 *
 * Expiry.  Everything here that expires sits in one heap:
 * allocation_table_next_expiry is the one moment the protocol module's
 * single timer must fire, allocation_table_expire does what is due.  Every
 * look-up also compares deadlines itself, so an entry is gone exactly at
 * its deadline (alive while now < deadline) whenever the timer runs.
 *
 * Ends.  Every allocation and every RFC 6062 connection that ends (expired,
 * deleted, refused a refresh, table freed) is reported once through the
 * hooks given at creation, before its record is reused, so the owner frees
 * its sockets in one place.  A hook must not call into the table.
 *
 * Pointers.  A struct allocation or struct allocation_connection pointer
 * stays good until that allocation or connection ends; any call that takes
 * a time may end what expired by then (allocation_table_admit,
 * allocation_create and allocation_table_expire end expired allocations
 * anywhere in the table; the others only touch the allocation they are
 * given, and allocation_connection_open ends that allocation's expired
 * connections).  A pointer to a channel's peer address is good until the
 * next call that changes the same allocation.
 *
 * Workers.  Tables share nothing: with several workers each quota counts one
 * worker's allocations (split the configured totals between them). */
#ifndef SXEDGE_TURN_ALLOCATION_TABLE_H
#define SXEDGE_TURN_ALLOCATION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byte_bucket.h"
#include "transport_address.h"

/* ---- Fixed by the RFCs ---- */

#define ALLOCATION_DEFAULT_LIFETIME_S	 600 /* RFC 8656 §2.2: 10 minutes */
#define ALLOCATION_PERMISSION_LIFETIME_S 300 /* RFC 8656 §9: 300 s, not configurable */
#define ALLOCATION_CHANNEL_LIFETIME_S	 600 /* RFC 8656 §12: 10 minutes */
#define ALLOCATION_CONNECTION_BIND_S	 30 /* RFC 6062 §5.2, §5.3: ConnectionBind within 30 s */
/* The channel numbers: RFC 5766's 0x4000-0x7FFF, which coturn's clients
 * draw from.  RFC 8656 §12 narrowed them to 0x4000-0x4FFF to leave room
 * for DTLS-SRTP on the same socket (RFC 7983); the edge's TURN sockets
 * carry no DTLS, so nothing can be mistaken, and a narrower range would
 * refuse three in four of those clients' ChannelBinds. */
#define ALLOCATION_CHANNEL_FIRST	0x4000
#define ALLOCATION_CHANNEL_LAST		0x7FFF
#define ALLOCATION_TRANSACTION_ID_BYTES 12 /* RFC 8489 §5 */
#define ALLOCATION_KEY_MAX		32 /* a long-term key: MD5 (16) or SHA-256 (32) */
#define ALLOCATION_USER_MAX		512 /* a STUN USERNAME is under 513 bytes */

/* IANA protocol numbers, as REQUESTED-TRANSPORT carries them. */
#define TURN_TRANSPORT_TCP 6
#define TURN_TRANSPORT_UDP 17

/* ---- Configuration ---- */

/* The limits one table enforces.  For each count, 0 means no limit. */
struct allocation_limits {
	uint32_t allocations; /* in the table (so per worker) */
	uint32_t allocations_per_user;
	uint32_t default_lifetime_s; /* 0: ALLOCATION_DEFAULT_LIFETIME_S */
	uint32_t max_lifetime_s; /* what a LIFETIME asked for is cut to; raised to the default */
	uint32_t permissions_per_allocation;
	uint32_t channels_per_allocation;
	uint32_t connections_per_allocation; /* RFC 6062 peer connections, pending or bound */
	uint32_t bandwidth_bytes_per_second; /* each direction of each allocation; 0: unlimited */
};

/* Why an allocation or a connection ended (allocation_end_name: its log name). */
enum allocation_end {
	ALLOCATION_END_EXPIRED, /* its lifetime ran out (or, a connection: not bound in 30 s) */
	ALLOCATION_END_REFRESHED_TO_ZERO, /* the client's Refresh with LIFETIME 0 */
	ALLOCATION_END_DELETED, /* allocation_delete / allocation_connection_close */
	ALLOCATION_END_ALLOCATION_ENDED, /* a connection: its allocation ended */
	ALLOCATION_END_TABLE_FREED,
	/* the listener its client reached it through is gone (a reload removed it) */
	ALLOCATION_END_LISTENER_REMOVED,
};

struct allocation;
struct allocation_connection;
/* The limits of allocation_limits that one allocation lives under, kept
 * with it (see allocation_table_set_limits). */
struct allocation_terms;

/* Reported once per end, with the record still whole (see the top). */
struct allocation_hooks {
	void (*allocation_ended)(void *context, struct allocation *allocation,
				 enum allocation_end why);
	/* An RFC 6062 connection (whose allocation is still whole too). */
	void (*connection_ended)(void *context, struct allocation_connection *connection,
				 enum allocation_end why);
	void *context;
};

/* ---- Results: every refusal named, with the error code that answers it ---- */

enum allocation_result {
	ALLOCATION_OK,
	ALLOCATION_REFUSED_IN_USE, /* 437: the 5-tuple already has an allocation */
	ALLOCATION_REFUSED_USER_QUOTA, /* 486: the user has allocations_per_user */
	ALLOCATION_REFUSED_TOTAL_QUOTA, /* 508: the table holds `allocations` */
	ALLOCATION_REFUSED_RELAY_IN_USE, /* 508: another allocation has that relay address */
	ALLOCATION_REFUSED_USER_TOO_LONG, /* 400: over ALLOCATION_USER_MAX bytes */
	ALLOCATION_REFUSED_PERMISSION_LIMIT, /* 508: permissions_per_allocation reached */
	ALLOCATION_REFUSED_CHANNEL_NUMBER, /* 400: outside 0x4000-0x7FFF */
	ALLOCATION_REFUSED_CHANNEL_TAKEN, /* 400: the number is bound to another peer */
	ALLOCATION_REFUSED_PEER_HAS_CHANNEL, /* 400: the peer is bound to another number */
	ALLOCATION_REFUSED_CHANNEL_LIMIT, /* 508: channels_per_allocation reached */
	ALLOCATION_REFUSED_CONNECTION_EXISTS, /* 446: a connection to that peer exists */
	ALLOCATION_REFUSED_CONNECTION_LIMIT, /* 508: connections_per_allocation reached */
	ALLOCATION_REFUSED_CONNECTION_UNKNOWN, /* 400: no such (unexpired) connection id */
	ALLOCATION_REFUSED_CONNECTION_STATE, /* 400: not waiting for that step (e.g. bound) */
	ALLOCATION_REFUSED_NO_MEMORY, /* 508 */
};

/* "in_use", "user_quota", ... (ALLOCATION_OK: "ok"), for logs and metrics. */
const char *allocation_result_name(enum allocation_result result);
/* The STUN error code answering a refusal (0 for ALLOCATION_OK). */
int allocation_result_error_code(enum allocation_result result);
/* "expired", "refreshed_to_zero", "deleted", "allocation_ended", "table_freed",
 * "listener_removed". */
const char *allocation_end_name(enum allocation_end why);

/* ---- Allocations ---- */

/* RFC 8656's 5-tuple: the client's address, the server address it sent to
 * and the transport between them (TURN_TRANSPORT_UDP or _TCP; TLS is TCP). */
struct five_tuple {
	struct transport_address client;
	struct transport_address server;
	uint8_t transport;
};

/* One allocation.  The fields above the line are the handler's to read
 * (and `owner` its to set); the table keeps them. */
struct allocation {
	struct five_tuple five_tuple;
	uint8_t relay_transport; /* TURN_TRANSPORT_UDP, or _TCP for RFC 6062 */
	uint8_t key_length;
	/* the long-term key it was made with: later requests must use the
	 * same credentials (RFC 8656 §5), which a key compare checks */
	uint8_t key[ALLOCATION_KEY_MAX];
	/* of the Allocate that made it: a retransmission of that request is
	 * answered with success again, not 437 (RFC 8656 §6.2) */
	uint8_t transaction_id[ALLOCATION_TRANSACTION_ID_BYTES];
	struct transport_address relay;
	uint64_t created_ms;
	uint64_t expires_ms; /* alive while now < expires_ms */
	void *owner; /* the protocol module's state (relay socket); NULL at creation */
	void *connection; /* the client's TCP connection (turn_client), NULL over UDP */
	/* ---- the table's own ---- */
	struct allocation_terms *terms; /* the limits it was made under */
	struct byte_bucket to_peer, to_client;
	uint32_t number, user, heap_position;
	uint32_t permissions, channels, connections; /* list heads */
	uint32_t permission_count, channel_count, connection_count;
};

/* What an Allocate that passed authentication asks for. */
struct allocation_request {
	struct five_tuple five_tuple;
	uint8_t relay_transport;
	struct transport_address relay; /* the relay address bound for it */
	const char *user; /* whom the quota counts: the user part of the ephemeral */
	size_t user_length; /*   username, not its expiry, so new usernames do not add quota */
	const uint8_t *key; /* the long-term key, key_length bytes (at most ALLOCATION_KEY_MAX) */
	size_t key_length;
	const uint8_t *transaction_id; /* ALLOCATION_TRANSACTION_ID_BYTES */
	bool has_lifetime; /* a LIFETIME attribute came, with lifetime_s */
	uint32_t lifetime_s;
};

struct allocation_table;

/* A table enforcing LIMITS (copied), reporting ends to HOOKS (copied), its
 * hashes keyed with SEED (random per process: see hash_index.h).  A maximum
 * lifetime under the default is raised to the default.  NULL when out of memory. */
struct allocation_table *allocation_table_new(const struct allocation_limits *limits,
					      const struct allocation_hooks *hooks, uint64_t seed);
/* Ends every allocation (hooks: ALLOCATION_END_TABLE_FREED), then frees. */
void allocation_table_free(struct allocation_table *table);

/* A reload changes the limits in two steps, so that the step that applies
 * them cannot fail: allocation_terms_new makes LIMITS ready (normalised as
 * allocation_table_new does; NULL when out of memory), and
 * allocation_table_set_limits gives them to TABLE, which takes TERMS.  From
 * then on the quotas (allocations, allocations_per_user) are the new ones
 * for every Allocate, and an allocation made afterwards lives under the new
 * lifetime, per-allocation counts and bandwidth; one made before keeps
 * those it was made with (and its bandwidth buckets) until it ends, and
 * what it holds beyond a lower limit stays.  The old limits are freed with
 * the last allocation made under them.  allocation_terms_free frees TERMS
 * never given to a table (the reload was called off). */
struct allocation_terms *allocation_terms_new(const struct allocation_limits *limits);
void allocation_terms_free(struct allocation_terms *terms);
void allocation_table_set_limits(struct allocation_table *table, struct allocation_terms *terms);

/* Would an Allocate from FIVE_TUPLE for USER be taken at NOW_MS?  (Ends the
 * expired allocations first, so their quota is free.)  Checked in RFC 8656
 * §6.2's order: 5-tuple in use (437), the total (508), the user's quota
 * (486).  The handler asks before it binds a relay socket. */
enum allocation_result allocation_table_admit(struct allocation_table *table,
					      const struct five_tuple *five_tuple, const char *user,
					      size_t user_length, uint64_t now_ms);

/* Makes the allocation REQUEST asks for at NOW_MS (the admission checks
 * again, then the relay address is unique), its lifetime per
 * allocation_lifetime, both buckets full.  NULL with *RESULT the refusal. */
struct allocation *allocation_create(struct allocation_table *table,
				     const struct allocation_request *request, uint64_t now_ms,
				     enum allocation_result *result);

/* The live allocation of FIVE_TUPLE, NULL when none.  No allocation. */
struct allocation *allocation_find_by_client(const struct allocation_table *table,
					     const struct five_tuple *five_tuple, uint64_t now_ms);
/* The live allocation whose relay is RELAY over RELAY_TRANSPORT, NULL when none. */
struct allocation *allocation_find_by_relay(const struct allocation_table *table,
					    uint8_t relay_transport,
					    const struct transport_address *relay, uint64_t now_ms);

/* The lifetime RFC 8656 §6.2 and §7.2 grant a new allocation for a LIFETIME
 * of REQUESTED_S (HAS_LIFETIME false: none came): the requested value cut
 * to the maximum, but never under the default.  (A Refresh's 0 is
 * allocation_refresh's; a Refresh is granted under the allocation's own
 * limits.) */
uint32_t allocation_lifetime(const struct allocation_table *table, bool has_lifetime,
			     uint32_t requested_s);

/* A Refresh at NOW_MS: a LIFETIME of 0 ends ALLOCATION (hook:
 * ALLOCATION_END_REFRESHED_TO_ZERO; the pointer is then gone) and returns
 * 0; otherwise it lives allocation_lifetime more seconds, returned. */
uint32_t allocation_refresh(struct allocation_table *table, struct allocation *allocation,
			    bool has_lifetime, uint32_t requested_s, uint64_t now_ms);

/* Whole seconds left at NOW_MS (for the LIFETIME of a repeated answer). */
uint32_t allocation_remaining_s(const struct allocation *allocation, uint64_t now_ms);

/* Ends ALLOCATION now (its client's TCP connection closed, say; hook:
 * ALLOCATION_END_DELETED). */
void allocation_delete(struct allocation_table *table, struct allocation *allocation);
/* The same, reported as WHY (ALLOCATION_END_LISTENER_REMOVED, say). */
void allocation_table_end(struct allocation_table *table, struct allocation *allocation,
			  enum allocation_end why);

/* Whom ALLOCATION counts against (*LENGTH bytes, not NUL-terminated). */
const char *allocation_user(const struct allocation_table *table,
			    const struct allocation *allocation, size_t *length);

/* Allocations in the table, and those of USER. */
uint32_t allocation_table_count(const struct allocation_table *table);
uint32_t allocation_table_user_count(const struct allocation_table *table, const char *user,
				     size_t user_length);

/* ---- Permissions (RFC 8656 §9): by peer IP, the port ignored ---- */

/* A CreatePermission at NOW_MS: installs or refreshes, for 300 s, one
 * permission for the IP of each of the COUNT PEERS (an IP given twice takes
 * one place).  All or nothing: a refusal (ALLOCATION_REFUSED_PERMISSION_LIMIT,
 * or _NO_MEMORY) installs and refreshes none of them.  Expired permissions
 * take no place.  Linear in COUNT (one hash probe or two per address). */
enum allocation_result allocation_permit(struct allocation_table *table,
					 struct allocation *allocation,
					 const struct transport_address *peers, size_t count,
					 uint64_t now_ms);

/* May ALLOCATION relay to or from PEER's IP at NOW_MS?  No allocation. */
bool allocation_permits(const struct allocation_table *table, const struct allocation *allocation,
			const struct transport_address *peer, uint64_t now_ms);

/* ---- Channels (RFC 8656 §12) ---- */

/* A ChannelBind of NUMBER to PEER at NOW_MS.  Refused with 400 when NUMBER
 * is outside 0x4000-0x7FFF, when it is bound to another peer, or when PEER
 * is bound to another number (RFC 8656 §12.2: one peer per channel, one
 * channel per peer); the same binding again refreshes it.  A binding lives
 * 600 s and installs or refreshes the permission for PEER's IP (so the
 * permission limit applies too).  A binding that expired frees its number
 * and its peer.  (RFC 8656 has the client, not the server, wait 5 minutes
 * before reusing either.) */
enum allocation_result allocation_channel_bind(struct allocation_table *table,
					       struct allocation *allocation, uint16_t number,
					       const struct transport_address *peer,
					       uint64_t now_ms);

/* The peer bound to channel NUMBER at NOW_MS (ChannelData from the client),
 * NULL when none.  No allocation. */
const struct transport_address *allocation_channel_peer(const struct allocation_table *table,
							const struct allocation *allocation,
							uint16_t number, uint64_t now_ms);

/* The channel bound to PEER at NOW_MS (data from the peer goes back as
 * ChannelData on it), 0 when none.  No allocation. */
uint16_t allocation_channel_number(const struct allocation_table *table,
				   const struct allocation *allocation,
				   const struct transport_address *peer, uint64_t now_ms);

/* ---- Bandwidth ---- */

enum allocation_direction {
	ALLOCATION_TO_PEER, /* relayed from the client out of the relay address */
	ALLOCATION_TO_CLIENT, /* relayed from a peer to the client */
};

/* May a packet of BYTES be relayed in DIRECTION at NOW_MS?  Each direction
 * has its own bucket of the allocation's bandwidth_bytes_per_second with one
 * second of burst (byte_bucket_take's rules).  No allocation. */
bool allocation_bandwidth_take(const struct allocation_table *table, struct allocation *allocation,
			       enum allocation_direction direction, uint32_t bytes,
			       uint64_t now_ms);

/* The same for an RFC 6062 data connection, whose bytes may be cut
 * anywhere: how many of BYTES may move in DIRECTION at NOW_MS (charged);
 * when none, *WAIT_MS is how long until WANTED may (0 without a cap).  No
 * allocation. */
uint32_t allocation_bandwidth_take_some(const struct allocation_table *table,
					struct allocation *allocation,
					enum allocation_direction direction, uint32_t bytes,
					uint32_t wanted, uint64_t now_ms, uint64_t *wait_ms);

/* ---- RFC 6062 connections ---- */

/* The links of a record in its allocation's list (record numbers). */
struct allocation_links {
	uint32_t next, previous;
};

enum allocation_connection_state {
	ALLOCATION_CONNECTION_CONNECTING, /* Connect: the edge is connecting to the peer */
	ALLOCATION_CONNECTION_WAITING_BIND, /* up; waiting for the client's ConnectionBind */
	ALLOCATION_CONNECTION_BOUND, /* joined to a client data connection: no deadline */
};

/* A peer data connection of a TCP allocation, known by its CONNECTION-ID:
 * non-zero, unique in the table, and hard to predict without the seed, but
 * no secret (a mix, not a MAC): a ConnectionBind must still carry the
 * credentials of the connection's allocation, which the handler checks. */
struct allocation_connection {
	uint32_t id;
	enum allocation_connection_state state;
	struct transport_address peer;
	uint64_t expires_ms; /* while CONNECTING or WAITING_BIND: alive while now < it */
	struct allocation *allocation;
	void *owner; /* the protocol module's peer connection; NULL at creation */
	/* ---- the table's own ---- */
	uint32_t number, heap_position;
	struct allocation_links links;
};

/* A peer connection for ALLOCATION at NOW_MS, in STATE CONNECTING (a Connect;
 * the connect attempt gets the same 30 s) or WAITING_BIND (a peer connected
 * to the relay; the ConnectionAttempt goes out now).  Refused when a
 * connection with PEER is pending or bound (446: RFC 6062 §5.2) or at the
 * limit.  NULL with *RESULT the refusal. */
struct allocation_connection *allocation_connection_open(struct allocation_table *table,
							 struct allocation *allocation,
							 const struct transport_address *peer,
							 enum allocation_connection_state state,
							 uint64_t now_ms,
							 enum allocation_result *result);

/* The unexpired connection ID at NOW_MS, NULL when none.  No allocation. */
struct allocation_connection *allocation_connection_find(const struct allocation_table *table,
							 uint32_t id, uint64_t now_ms);

/* CONNECTION's connect to the peer succeeded at NOW_MS: it now waits for a
 * ConnectionBind, 30 s from now.  ALLOCATION_REFUSED_CONNECTION_STATE when
 * it was not CONNECTING. */
enum allocation_result allocation_connection_established(struct allocation_table *table,
							 struct allocation_connection *connection,
							 uint64_t now_ms);

/* A ConnectionBind for ID at NOW_MS: the connection is BOUND and has no
 * deadline any more.  Refused (400) when ID is unknown or expired, or not
 * waiting for a bind; *CONNECTION is the connection on success (the
 * handler checks its allocation's key against the request's). */
enum allocation_result allocation_connection_bind(struct allocation_table *table, uint32_t id,
						  uint64_t now_ms,
						  struct allocation_connection **connection);

/* Ends CONNECTION now (either side closed; hook: ALLOCATION_END_DELETED). */
void allocation_connection_close(struct allocation_table *table,
				 struct allocation_connection *connection);

/* ---- Expiry: one timer for the whole table ---- */

/* The earliest deadline of anything in the table (allocation, permission,
 * channel, pending connection), UINT64_MAX when nothing will expire. */
uint64_t allocation_table_next_expiry(const struct allocation_table *table);

/* Ends or drops everything whose deadline is at or before NOW_MS (hooks:
 * ALLOCATION_END_EXPIRED).  Returns how many entries it removed. */
size_t allocation_table_expire(struct allocation_table *table, uint64_t now_ms);

/* ---- Numbers, for metrics and the memory budget ---- */

struct allocation_table_counts {
	uint32_t allocations, users, permissions, channels, connections;
	size_t bytes; /* every byte the table holds: records, indexes, heap, user names */
};

void allocation_table_counts(const struct allocation_table *table,
			     struct allocation_table_counts *counts);

#endif
