/* SPDX-License-Identifier: ISC */
/* turn_server_relay: permissions and channels (RFC 8656 §10, §11) and the
 * data path both ways: Send indications and ChannelData from the client
 * out of the relay, a peer's datagrams back as ChannelData or a Data
 * indication (§10.3, §11.5, §12), and from one client of the edge to
 * another's relay without leaving the edge.  The data path allocates
 * nothing: the client's data goes out from the bytes it came in, and a
 * peer's is copied once into the server's answer buffer behind the header
 * it needs. */
#include <string.h>

#include "channel_data.h"
#include "stun_attribute.h"
#include "turn_server_private.h"

/* ---- Requests ---- */

void turn_handle_create_permission(struct turn_server *server, struct turn_request *request)
{
	struct transport_address peers[STUN_ATTRIBUTES_MAX];
	size_t count = 0;
	const struct stun_attribute *attribute =
		stun_message_find(request->message, STUN_ATTRIBUTE_XOR_PEER_ADDRESS);
	if (attribute == NULL) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return;
	}
	for (; attribute != NULL;
	     attribute = stun_message_find_next(request->message, attribute,
						STUN_ATTRIBUTE_XOR_PEER_ADDRESS)) {
		if (!turn_read_peer(server, request, request->allocation, attribute, &peers[count]))
			return;
		count++;
	}
	enum allocation_result result = allocation_permit(server->table, request->allocation, peers,
							  count, request->now_ms);
	if (result != ALLOCATION_OK) {
		turn_answer_table_error(server, request, result);
		return;
	}
	struct stun_builder builder;
	turn_answer_start(server, request, STUN_CLASS_SUCCESS, &builder);
	turn_answer_send(server, &request->reply, &builder);
}

void turn_handle_channel_bind(struct turn_server *server, struct turn_request *request)
{
	const struct stun_attribute *number =
		stun_message_find(request->message, STUN_ATTRIBUTE_CHANNEL_NUMBER);
	const struct stun_attribute *address =
		stun_message_find(request->message, STUN_ATTRIBUTE_XOR_PEER_ADDRESS);
	uint16_t channel;
	if (number == NULL || address == NULL || !stun_attribute_channel_number(number, &channel)) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return;
	}
	struct transport_address peer;
	if (!turn_read_peer(server, request, request->allocation, address, &peer))
		return;
	enum allocation_result result = allocation_channel_bind(server->table, request->allocation,
								channel, &peer, request->now_ms);
	if (result != ALLOCATION_OK) {
		turn_answer_table_error(server, request, result);
		return;
	}
	struct stun_builder builder;
	turn_answer_start(server, request, STUN_CLASS_SUCCESS, &builder);
	turn_answer_send(server, &request->reply, &builder);
}

/* ---- From the client to a peer ---- */

/* The UDP allocation of CLIENT at NOW_MS, or NULL (refused, counted). */
static struct allocation *udp_allocation(struct turn_server *server,
					 const struct turn_client *client, uint64_t now_ms)
{
	struct allocation *allocation =
		allocation_find_by_client(server->table, &client->five_tuple, now_ms);
	if (allocation == NULL) {
		turn_server_refuse(server, client, "no_allocation", 0);
		return NULL;
	}
	if (allocation->relay_transport != TURN_TRANSPORT_UDP) {
		turn_server_refuse(server, client, "not_udp_relay", 0);
		return NULL;
	}
	return allocation;
}

/* Would the kernel send LENGTH bytes to PEER in one UDP datagram?  (A
 * TCP client's ChannelData may carry more than an IPv4 datagram holds:
 * what the relay socket could not send is not delivered in the edge
 * either.) */
static bool datagram_fits(const struct transport_address *peer, size_t length)
{
	return length <= (peer->family == AF_INET ? 65535u - 20 - 8 : 65535u - 8);
}

/* Out of ALLOCATION's relay to PEER, when permitted and within the cap.
 * A permission is for an address whatever the port: on the edge's own
 * address only the relay ports may be reached (another client's
 * allocation), and one told by its external address is reached at the
 * relay address its socket is bound to.  When a live UDP allocation of
 * this server holds that address (two clients of the edge calling each
 * other), the datagram is handed to its from-peer path here instead of
 * going out of one relay socket and in at the other: what that
 * allocation's client gets, and what is checked, charged and counted, is
 * what the kernel would have brought, from ALLOCATION's relay address,
 * two system calls a packet fewer.  Nothing can loop: the from-peer path
 * sends only to its client. */
static void relay_to_peer(struct turn_server *server, const struct turn_client *client,
			  struct allocation *allocation, const struct transport_address *peer,
			  const uint8_t *data, size_t length, uint64_t now_ms)
{
	if (!allocation_permits(server->table, allocation, peer, now_ms)) {
		turn_server_refuse(server, client, "no_permission", 0);
		return;
	}
	bool relay;
	struct transport_address bound;
	if (turn_peer_is_edge(server, allocation, peer, &relay)) {
		struct sockaddr_storage storage = turn_sockaddr(peer);
		if (relay) {
			bound = allocation->relay;
			bound.port = peer->port;
			peer = &bound;
		} else if (peer_policy_check(server->relaying.peer_policy, &storage) !=
			   PEER_ALLOWED) {
			turn_server_refuse(server, client, "peer_edge", 0); /* not allow-listed */
			return;
		}
	}
	if (!allocation_bandwidth_take(server->table, allocation, ALLOCATION_TO_PEER,
				       (uint32_t)length, now_ms)) {
		turn_server_refuse(server, client, "bandwidth", 0);
		return;
	}
	struct allocation *local =
		relay && datagram_fits(peer, length)
			? allocation_find_by_relay(server->table, TURN_TRANSPORT_UDP, peer, now_ms)
			: NULL;
	server->io.relayed(server->io.arg, ALLOCATION_TO_PEER, length);
	if (local != NULL)
		turn_server_from_peer(server, local, &allocation->relay, data, length, now_ms);
	else
		server->io.to_peer(server->io.arg, allocation->owner, peer, data, length);
}

/* The understood attributes of a Send indication (RFC 8656 §10.2). */
static const uint16_t send_understood[] = {
	STUN_ATTRIBUTE_XOR_PEER_ADDRESS,
	STUN_ATTRIBUTE_DATA,
};

void turn_handle_send(struct turn_server *server, const struct turn_client *client,
		      const struct stun_message *message, uint64_t now_ms)
{
	uint16_t unknown[STUN_ATTRIBUTES_MAX];
	if (stun_message_unknown_required(message, send_understood, 2, unknown,
					  STUN_ATTRIBUTES_MAX) != 0) {
		turn_server_refuse(server, client, "unknown_attributes", 0);
		return;
	}
	struct allocation *allocation = udp_allocation(server, client, now_ms);
	if (allocation == NULL)
		return;
	const struct stun_attribute *data = stun_message_find(message, STUN_ATTRIBUTE_DATA);
	struct transport_address peer;
	if (data == NULL ||
	    !turn_read_address(message, stun_message_find(message, STUN_ATTRIBUTE_XOR_PEER_ADDRESS),
			       &peer)) {
		turn_server_refuse(server, client, "bad_indication", 0);
		return;
	}
	relay_to_peer(server, client, allocation, &peer, data->value, data->length, now_ms);
}

void turn_handle_channel_data(struct turn_server *server, const struct turn_client *client,
			      const uint8_t *bytes, size_t size, uint64_t now_ms)
{
	struct channel_data message;
	enum channel_data_result parsed = channel_data_parse(
		bytes, size, client->five_tuple.transport == TURN_TRANSPORT_TCP, &message);
	if (parsed != CHANNEL_DATA_OK) {
		turn_server_refuse(server, client, turn_channel_data_refusal(parsed), 0);
		return;
	}
	struct allocation *allocation = udp_allocation(server, client, now_ms);
	if (allocation == NULL)
		return;
	const struct transport_address *peer =
		allocation_channel_peer(server->table, allocation, message.channel, now_ms);
	if (peer == NULL) {
		turn_server_refuse(server, client, "no_channel", 0);
		return;
	}
	relay_to_peer(server, client, allocation, peer, message.data, message.length, now_ms);
}

/* ---- From a peer to the client ---- */

void turn_server_from_peer(struct turn_server *server, struct allocation *allocation,
			   const struct transport_address *peer, const uint8_t *bytes, size_t size,
			   uint64_t now_ms)
{
	struct turn_client client = turn_allocation_client(allocation);
	/* Another client's allocation of this edge sends from the relay
	 * address; its client knows it by the external one. */
	struct transport_address told;
	const struct transport_address *external = turn_external_address(server, peer->family);
	bool relay;
	if (turn_peer_is_edge(server, allocation, peer, &relay) && relay && external != NULL) {
		told = *external;
		told.port = peer->port;
		peer = &told;
	}
	if (!allocation_permits(server->table, allocation, peer, now_ms)) {
		turn_server_refuse(server, &client, "no_permission", 0);
		return;
	}
	if (size > UINT16_MAX) {
		turn_server_refuse(server, &client, "too_large", 0);
		return;
	}
	if (!allocation_bandwidth_take(server->table, allocation, ALLOCATION_TO_CLIENT,
				       (uint32_t)size, now_ms)) {
		turn_server_refuse(server, &client, "bandwidth", 0);
		return;
	}
	size_t length;
	uint16_t channel = allocation_channel_number(server->table, allocation, peer, now_ms);
	if (channel != 0) {
		bool padded = client.five_tuple.transport == TURN_TRANSPORT_TCP;
		length = channel_data_size((uint16_t)size, padded);
		channel_data_write_header(server->buffer, channel, (uint16_t)size);
		memcpy(server->buffer + CHANNEL_DATA_HEADER_SIZE, bytes, size);
		memset(server->buffer + CHANNEL_DATA_HEADER_SIZE + size, 0,
		       length - CHANNEL_DATA_HEADER_SIZE - size);
	} else {
		uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE];
		struct sockaddr_storage from = turn_sockaddr(peer);
		struct stun_builder builder;
		turn_indication_id(server, transaction_id);
		stun_builder_start(&builder, server->buffer, TURN_SERVER_BUFFER_SIZE,
				   STUN_METHOD_DATA, STUN_CLASS_INDICATION, transaction_id);
		stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &from);
		uint8_t *data = stun_builder_reserve(&builder, STUN_ATTRIBUTE_DATA, size);
		length = stun_builder_finish(&builder);
		if (data == NULL || length == 0) {
			turn_server_refuse(server, &client, "too_large", 0);
			return;
		}
		memcpy(data, bytes, size);
	}
	server->io.to_client(server->io.arg, &client, server->buffer, length);
	server->io.relayed(server->io.arg, ALLOCATION_TO_CLIENT, size);
}
