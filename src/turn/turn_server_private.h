/* SPDX-License-Identifier: ISC */
/* turn_server_private: what the files of the TURN message handler share
 * (turn_server.c: dispatch, authentication, answers; turn_server_allocate.c:
 * Allocate and Refresh; turn_server_relay.c: permissions, channels and the
 * data path; turn_server_tcp.c: RFC 6062).  Not for other modules. */
#ifndef SXEDGE_TURN_TURN_SERVER_PRIVATE_H
#define SXEDGE_TURN_TURN_SERVER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel_data.h"
#include "stun_builder.h"
#include "stun_integrity.h"
#include "stun_message.h"
#include "turn_credentials.h"
#include "turn_nonce.h"
#include "turn_server.h"

/* An answer's buffer: the largest STUN message (a Data indication around
 * the largest datagram a peer may send that fits one). */
#define TURN_SERVER_BUFFER_SIZE STUN_MESSAGE_MAX

/* How the answer to a pending Connect goes out: its transaction id, its
 * integrity and whether it carries FINGERPRINT (RFC 6062 §5.2 answers
 * once the peer connection is up).  Kept by the server, indexed by the
 * connection's record number, so the table's record stays small. */
struct turn_connect_answer {
	uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE];
	uint8_t integrity;
	bool fingerprint;
};

/* Where and how the server relays: plain values from its settings, which
 * a reload replaces whole. */
struct turn_server_relaying {
	const struct peer_policy *peer_policy;
	bool tcp_relays;
	bool relay_ipv4, relay_ipv6;
	struct transport_address external_address, external_address6;
	uint16_t relay_port_first, relay_port_last;
};

struct turn_server {
	struct turn_io io;
	char *realm;
	uint8_t *secret;
	size_t secret_length;
	struct turn_server_relaying relaying;
	struct allocation_table *table;
	struct turn_nonce_key nonce_key;
	struct stun_hmac hmac;
	/* transaction ids of the server's own indications: a fixed part from
	 * the seed and a counter (they need to be distinct, not secret) */
	uint8_t indication_id[STUN_TRANSACTION_ID_SIZE];
	uint64_t indications;
	struct turn_connect_answer *connects; /* grown on Connect, never per packet */
	size_t connects_capacity;
	uint8_t buffer[TURN_SERVER_BUFFER_SIZE];
};

/* How an answer goes out: to whom, signed with what, and its bound. */
struct turn_reply {
	struct turn_client client;
	enum stun_integrity_kind integrity; /* STUN_INTEGRITY_NONE: unauthenticated */
	const uint8_t *key;
	size_t key_length;
	bool fingerprint; /* the request carried one */
	size_t limit; /* the answer's most bytes */
	bool bounded; /* LIMIT is the amplification bound, not the buffer */
};

/* A request being handled. */
struct turn_request {
	const struct stun_message *message;
	uint64_t now_ms;
	uint64_t wall_s;
	struct turn_reply reply;
	uint8_t key[TURN_KEY_MAX_SIZE];
	size_t key_length;
	const char *user; /* of the username, for the quota */
	size_t user_length;
	struct allocation *allocation; /* of the request's 5-tuple, once authenticated */
};

/* ---- turn_server.c ---- */

void turn_server_refuse(struct turn_server *server, const struct turn_client *client,
			const char *reason, int code);

/* Starts an answer of CLASS to REQUEST (its method and transaction id). */
void turn_answer_start(struct turn_server *server, const struct turn_request *request,
		       enum stun_class message_class, struct stun_builder *builder);
/* Closes BUILDER as REPLY says (integrity, fingerprint) and sends it;
 * false when it was not sent (refused: "amplification" or "answer_failed"). */
bool turn_answer_send(struct turn_server *server, const struct turn_reply *reply,
		      struct stun_builder *builder);
/* An error answer with CODE (PHRASE, or the RFCs' phrase, when optional
 * parts may go), then refused(REASON, CODE) once sent. */
void turn_answer_error(struct turn_server *server, const struct turn_request *request,
		       unsigned code, const char *phrase, const char *reason);
/* The error answering a refusal of the allocation table. */
void turn_answer_table_error(struct turn_server *server, const struct turn_request *request,
			     enum allocation_result result);
/* An ERROR-CODE as REPLY allows (no phrase when bounded). */
void turn_add_error_code(struct stun_builder *builder, const struct turn_reply *reply,
			 unsigned code, const char *phrase);

/* The client an allocation was made by. */
struct turn_client turn_allocation_client(const struct allocation *allocation);

/* A transport address as a socket address, for the codec. */
struct sockaddr_storage turn_sockaddr(const struct transport_address *address);

/* Reads the address attribute ATTRIBUTE of MESSAGE; false when absent or bad. */
bool turn_read_address(const struct stun_message *message, const struct stun_attribute *attribute,
		       struct transport_address *out);

/* The address told for a relay of FAMILY (the external address of that
 * family), NULL when the relay's own is. */
const struct transport_address *turn_external_address(const struct turn_server *server,
						      sa_family_t family);

/* Is PEER's address the edge's own, ALLOCATION's relay address or the
 * external one?  Then *RELAY says whether its port is a relay port
 * (another allocation of this edge). */
bool turn_peer_is_edge(const struct turn_server *server, const struct allocation *allocation,
		       const struct transport_address *peer, bool *relay);

/* A peer address of REQUEST for ALLOCATION: read, of the relay's family
 * (443), allowed by the policy (403) or another relay of this edge.  False
 * when refused (answered). */
bool turn_read_peer(struct turn_server *server, const struct turn_request *request,
		    const struct allocation *allocation, const struct stun_attribute *attribute,
		    struct transport_address *peer);

/* A fresh transaction id for an indication the server sends. */
void turn_indication_id(struct turn_server *server, uint8_t out[STUN_TRANSACTION_ID_SIZE]);

/* The refusal name of a ChannelData message that did not read. */
const char *turn_channel_data_refusal(enum channel_data_result result);

/* ---- the method handlers (REQUEST authenticated, its allocation found) ---- */

void turn_handle_allocate(struct turn_server *server, struct turn_request *request);
void turn_handle_refresh(struct turn_server *server, struct turn_request *request);
void turn_handle_create_permission(struct turn_server *server, struct turn_request *request);
void turn_handle_channel_bind(struct turn_server *server, struct turn_request *request);
void turn_handle_connect(struct turn_server *server, struct turn_request *request);
void turn_handle_connection_bind(struct turn_server *server, struct turn_request *request);

/* ---- unauthenticated data from the client ---- */

void turn_handle_send(struct turn_server *server, const struct turn_client *client,
		      const struct stun_message *message, uint64_t now_ms);
void turn_handle_channel_data(struct turn_server *server, const struct turn_client *client,
			      const uint8_t *bytes, size_t size, uint64_t now_ms);

/* ---- turn_server_tcp.c: a pending Connect whose connection ended ---- */

void turn_connect_expired(struct turn_server *server, struct allocation_connection *connection);

#endif
