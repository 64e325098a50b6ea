/* SPDX-License-Identifier: ISC */
/* turn_server_tcp: TCP allocations (RFC 6062): Connect opens a connection
 * to a peer through turn_io and is answered when it is up or failed (§5.2);
 * a peer connecting to the relay is announced with a ConnectionAttempt
 * (§5.3); ConnectionBind on a new client connection joins the two (§5.4).
 * The table keeps the connections and their 30 s to be bound. */
#include <stdlib.h>
#include <string.h>

#include "stun_attribute.h"
#include "turn_server_private.h"

/* ---- Connect ---- */

/* Where CONNECTION's answer is kept, the array grown to hold it; NULL when
 * out of memory. */
static struct turn_connect_answer *connect_answer(struct turn_server *server,
						  const struct allocation_connection *connection)
{
	if (connection->number >= server->connects_capacity) {
		size_t capacity = server->connects_capacity > 0 ? server->connects_capacity : 8;
		while (capacity <= connection->number)
			capacity *= 2;
		struct turn_connect_answer *grown =
			realloc(server->connects, capacity * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		server->connects = grown;
		server->connects_capacity = capacity;
	}
	return &server->connects[connection->number];
}

void turn_handle_connect(struct turn_server *server, struct turn_request *request)
{
	struct allocation *allocation = request->allocation;
	if (allocation->relay_transport != TURN_TRANSPORT_TCP) {
		turn_answer_error(server, request, 400, NULL, "not_tcp_relay");
		return;
	}
	struct transport_address peer;
	if (!turn_read_peer(server, request, allocation,
			    stun_message_find(request->message, STUN_ATTRIBUTE_XOR_PEER_ADDRESS),
			    &peer))
		return;
	enum allocation_result result;
	struct allocation_connection *connection = allocation_connection_open(
		server->table, allocation, &peer, ALLOCATION_CONNECTION_CONNECTING, request->now_ms,
		&result);
	if (connection == NULL) {
		turn_answer_table_error(server, request, result);
		return;
	}
	struct turn_connect_answer *answer = connect_answer(server, connection);
	if (answer == NULL) {
		allocation_connection_close(server->table, connection);
		turn_answer_error(server, request, 508, NULL, "no_memory");
		return;
	}
	memcpy(answer->transaction_id, request->message->transaction_id, STUN_TRANSACTION_ID_SIZE);
	answer->integrity = (uint8_t)request->reply.integrity;
	answer->fingerprint = request->reply.fingerprint;
	void *handle =
		server->io.peer_connect(server->io.arg, allocation->owner, &peer, connection);
	if (handle == NULL) {
		allocation_connection_close(server->table, connection);
		turn_answer_error(server, request, 447, NULL, "connect_failed");
		return;
	}
	connection->owner = handle;
}

/* The answer to CONNECTION's Connect: CONNECTION-ID, or error CODE. */
static void answer_connect(struct turn_server *server, struct allocation_connection *connection,
			   unsigned code)
{
	const struct allocation *allocation = connection->allocation;
	const struct turn_connect_answer *answer = &server->connects[connection->number];
	struct turn_reply reply = {
		.client = turn_allocation_client(allocation),
		.integrity = (enum stun_integrity_kind)answer->integrity,
		.key = allocation->key,
		.key_length = allocation->key_length,
		.fingerprint = answer->fingerprint,
		.limit = TURN_SERVER_BUFFER_SIZE,
	};
	struct stun_builder builder;
	stun_builder_start(&builder, server->buffer, reply.limit, STUN_METHOD_CONNECT,
			   code == 0 ? STUN_CLASS_SUCCESS : STUN_CLASS_ERROR,
			   answer->transaction_id);
	if (code == 0)
		stun_builder_add_u32(&builder, STUN_ATTRIBUTE_CONNECTION_ID, connection->id);
	else
		turn_add_error_code(&builder, &reply, code, NULL);
	if (turn_answer_send(server, &reply, &builder) && code != 0)
		turn_server_refuse(server, &reply.client, "connect_failed", (int)code);
}

void turn_connect_expired(struct turn_server *server, struct allocation_connection *connection)
{
	answer_connect(server, connection, 447);
}

void turn_server_peer_connected(struct turn_server *server,
				struct allocation_connection *connection, bool ok, uint64_t now_ms)
{
	if (!ok) {
		answer_connect(server, connection, 447);
		connection->owner = NULL; /* the module closes what failed */
		allocation_connection_close(server->table, connection);
		return;
	}
	if (allocation_connection_established(server->table, connection, now_ms) == ALLOCATION_OK)
		answer_connect(server, connection, 0);
}

/* ---- A peer connecting to the relay ---- */

struct allocation_connection *turn_server_peer_accept(struct turn_server *server,
						      struct allocation *allocation,
						      const struct transport_address *peer,
						      void *peer_handle, uint64_t now_ms)
{
	struct turn_client client = turn_allocation_client(allocation);
	if (allocation->relay_transport != TURN_TRANSPORT_TCP) {
		turn_server_refuse(server, &client, "not_tcp_relay", 0);
		return NULL;
	}
	if (!allocation_permits(server->table, allocation, peer, now_ms)) {
		turn_server_refuse(server, &client, "no_permission", 0);
		return NULL;
	}
	enum allocation_result result;
	struct allocation_connection *connection =
		allocation_connection_open(server->table, allocation, peer,
					   ALLOCATION_CONNECTION_WAITING_BIND, now_ms, &result);
	if (connection == NULL) {
		turn_server_refuse(server, &client, allocation_result_name(result), 0);
		return NULL;
	}
	connection->owner = peer_handle;
	uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE];
	struct sockaddr_storage from = turn_sockaddr(peer);
	struct stun_builder builder;
	turn_indication_id(server, transaction_id);
	stun_builder_start(&builder, server->buffer, TURN_SERVER_BUFFER_SIZE,
			   STUN_METHOD_CONNECTION_ATTEMPT, STUN_CLASS_INDICATION, transaction_id);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &from);
	stun_builder_add_u32(&builder, STUN_ATTRIBUTE_CONNECTION_ID, connection->id);
	size_t length = stun_builder_finish(&builder);
	server->io.to_client(server->io.arg, &client, server->buffer, length);
	return connection;
}

bool turn_server_peer_arrived(struct turn_server *server, struct allocation *allocation,
			      const struct transport_address *peer, void *peer_handle,
			      uint64_t now_ms)
{
	return turn_server_peer_accept(server, allocation, peer, peer_handle, now_ms) != NULL;
}

void turn_server_peer_gone(struct turn_server *server, struct allocation_connection *connection)
{
	connection->owner = NULL;
	allocation_connection_close(server->table, connection);
}

uint32_t turn_server_stream_bandwidth(struct turn_server *server,
				      struct allocation_connection *connection,
				      enum allocation_direction direction, uint32_t bytes,
				      uint32_t wanted, uint64_t now_ms, uint64_t *wait_ms)
{
	return allocation_bandwidth_take_some(server->table, connection->allocation, direction,
					      bytes, wanted, now_ms, wait_ms);
}

/* ---- ConnectionBind ---- */

void turn_handle_connection_bind(struct turn_server *server, struct turn_request *request)
{
	/* a new data connection, not UDP and not a control connection (§5.4) */
	if (request->reply.client.five_tuple.transport != TURN_TRANSPORT_TCP ||
	    request->allocation != NULL) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return;
	}
	const struct stun_attribute *attribute =
		stun_message_find(request->message, STUN_ATTRIBUTE_CONNECTION_ID);
	uint32_t id;
	if (attribute == NULL || !stun_attribute_u32(attribute, &id)) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return;
	}
	struct allocation_connection *connection =
		allocation_connection_find(server->table, id, request->now_ms);
	if (connection != NULL &&
	    (connection->allocation->key_length != request->key_length ||
	     memcmp(connection->allocation->key, request->key, request->key_length) != 0)) {
		turn_answer_error(server, request, 441, NULL, "wrong_allocation_credentials");
		return;
	}
	enum allocation_result result =
		allocation_connection_bind(server->table, id, request->now_ms, &connection);
	if (result != ALLOCATION_OK) {
		turn_answer_table_error(server, request, result);
		return;
	}
	struct stun_builder builder;
	turn_answer_start(server, request, STUN_CLASS_SUCCESS, &builder);
	if (turn_answer_send(server, &request->reply, &builder))
		server->io.connection_join(server->io.arg, &request->reply.client,
					   connection->owner);
}
