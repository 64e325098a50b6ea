/* SPDX-License-Identifier: ISC */
/* turn_server_allocate: Allocate (RFC 8656 §7.2, RFC 6062 §5.1) and
 * Refresh (§8.2), for an authenticated request: the checks in the RFCs'
 * order, the relay bound through turn_io, the allocation made in the
 * table, and the answers. */
#include <string.h>

#include "stun_attribute.h"
#include "turn_server_private.h"

/* What XOR-RELAYED-ADDRESS says: the relay's port on the external address. */
static struct sockaddr_storage relayed_address(const struct turn_server *server,
					       const struct allocation *allocation)
{
	const struct transport_address *external =
		turn_external_address(server, allocation->relay.family);
	struct transport_address told = allocation->relay;
	if (external != NULL) {
		told = *external;
		told.port = allocation->relay.port;
	}
	return turn_sockaddr(&told);
}

/* ADDRESS-ERROR-CODE (RFC 8656 §14.8) 440 for IPv6: the answer to an
 * ADDITIONAL-ADDRESS-FAMILY, as dual allocation is not offered (an
 * allocation holds one relay); the phrase is the RFC's. */
static void add_ipv6_refused(struct stun_builder *builder)
{
	static const char phrase[] = "Address Family not Supported";
	uint8_t value[4 + sizeof(phrase) - 1] = { 0x02, 0, 4, 40 };

	memcpy(value + 4, phrase, sizeof(phrase) - 1);
	stun_builder_add(builder, STUN_ATTRIBUTE_ADDRESS_ERROR_CODE, value, sizeof(value));
}

static void allocate_success(struct turn_server *server, const struct turn_request *request,
			     const struct allocation *allocation)
{
	struct sockaddr_storage relayed = relayed_address(server, allocation);
	struct sockaddr_storage mapped = turn_sockaddr(&request->reply.client.five_tuple.client);
	struct stun_builder builder;

	turn_answer_start(server, request, STUN_CLASS_SUCCESS, &builder);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS, &relayed);
	stun_builder_add_u32(&builder, STUN_ATTRIBUTE_LIFETIME,
			     allocation_remaining_s(allocation, request->now_ms));
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &mapped);
	if (stun_message_find(request->message, STUN_ATTRIBUTE_ADDITIONAL_ADDRESS_FAMILY) != NULL)
		add_ipv6_refused(&builder);
	turn_answer_send(server, &request->reply, &builder);
}

/* The LIFETIME of REQUEST: false (answered 400) when one came unreadable. */
static bool read_lifetime(struct turn_server *server, const struct turn_request *request,
			  bool *has_lifetime, uint32_t *lifetime_s)
{
	const struct stun_attribute *lifetime =
		stun_message_find(request->message, STUN_ATTRIBUTE_LIFETIME);
	*has_lifetime = lifetime != NULL;
	*lifetime_s = 0;
	if (lifetime != NULL && !stun_attribute_u32(lifetime, lifetime_s)) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return false;
	}
	return true;
}

/* The transport REQUEST asks a relay for: UDP, or TCP (RFC 6062) over a
 * TCP connection when allowed.  0 when refused (answered). */
static uint8_t requested_transport(struct turn_server *server, const struct turn_request *request)
{
	const struct stun_attribute *attribute =
		stun_message_find(request->message, STUN_ATTRIBUTE_REQUESTED_TRANSPORT);
	uint8_t protocol;
	if (attribute == NULL || !stun_attribute_requested_transport(attribute, &protocol)) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return 0;
	}
	bool over_tcp = request->reply.client.five_tuple.transport == TURN_TRANSPORT_TCP;
	if (protocol == STUN_TRANSPORT_UDP ||
	    (protocol == STUN_TRANSPORT_TCP && server->relaying.tcp_relays && over_tcp))
		return protocol;
	turn_answer_error(server, request, 442, NULL, "unsupported_transport");
	return 0;
}

/* EVEN-PORT (RFC 8656 §14.6): false when the request is answered already.
 * An even port is given; reserving the next one (R) is not offered, since
 * RESERVATION-TOKEN is not: 508, as §7.2 says for a request the server
 * cannot satisfy.  coturn's clients ask for an even port in about half of
 * their Allocates. */
static bool read_even_port(struct turn_server *server, struct turn_request *request, bool *even)
{
	const struct stun_attribute *attribute =
		stun_message_find(request->message, STUN_ATTRIBUTE_EVEN_PORT);
	bool reserve_next = false;
	*even = attribute != NULL;
	if (attribute == NULL)
		return true;
	if (!stun_attribute_even_port(attribute, &reserve_next)) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return false;
	}
	if (reserve_next) {
		turn_answer_error(server, request, 508, NULL, "even_port_reservation");
		return false;
	}
	return true;
}

/* The relay's family for REQUEST (RFC 8656 §7.2): REQUESTED-ADDRESS-FAMILY
 * or IPv4; with ADDITIONAL-ADDRESS-FAMILY (which must be IPv6, and alone)
 * IPv4.  0 when refused (answered): 400 for the combinations §7.2
 * refuses, 440 for a family without a relay. */
static int relay_family(struct turn_server *server, const struct turn_request *request)
{
	const struct stun_attribute *requested =
		stun_message_find(request->message, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY);
	const struct stun_attribute *additional =
		stun_message_find(request->message, STUN_ATTRIBUTE_ADDITIONAL_ADDRESS_FAMILY);
	int family = AF_INET, additional_family = 0;
	if (additional != NULL &&
	    (requested != NULL || !stun_attribute_address_family(additional, &additional_family) ||
	     additional_family != AF_INET6)) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return 0;
	}
	if ((requested != NULL && !stun_attribute_address_family(requested, &family)) ||
	    (family == AF_INET && !server->relaying.relay_ipv4) ||
	    (family == AF_INET6 && !server->relaying.relay_ipv6)) {
		turn_answer_error(server, request, 440, NULL, "address_family");
		return 0;
	}
	return family;
}

/* A relay from turn_io, at an even port when EVEN: the range's ports are
 * tried in a random order, so each try is even about half the time. */
#define EVEN_PORT_TRIES 16
static void *open_relay(struct turn_server *server, uint8_t transport, int family, bool even,
			struct transport_address *relay)
{
	for (unsigned tries = 0; tries < EVEN_PORT_TRIES; tries++) {
		*relay = (struct transport_address){ .family = (sa_family_t)family };
		void *handle = server->io.relay_open(server->io.arg, transport, relay);
		if (handle == NULL || !even || relay->port % 2 == 0)
			return handle;
		server->io.relay_close(server->io.arg, handle);
	}
	return NULL;
}

void turn_handle_allocate(struct turn_server *server, struct turn_request *request)
{
	struct allocation *allocation = request->allocation;
	if (allocation != NULL) {
		/* RFC 8656 §7.2: a retransmission is answered with success again */
		bool same = memcmp(allocation->transaction_id, request->message->transaction_id,
				   ALLOCATION_TRANSACTION_ID_BYTES) == 0 &&
			    allocation->key_length == request->key_length &&
			    memcmp(allocation->key, request->key, request->key_length) == 0;
		if (same)
			allocate_success(server, request, allocation);
		else
			turn_answer_error(server, request, 437, NULL, "in_use");
		return;
	}
	uint8_t transport = requested_transport(server, request);
	if (transport == 0)
		return;
	int family = relay_family(server, request);
	if (family == 0)
		return;
	bool has_lifetime, even;
	uint32_t lifetime_s;
	if (!read_lifetime(server, request, &has_lifetime, &lifetime_s) ||
	    !read_even_port(server, request, &even))
		return;
	const struct five_tuple *five_tuple = &request->reply.client.five_tuple;
	enum allocation_result admitted = allocation_table_admit(
		server->table, five_tuple, request->user, request->user_length, request->now_ms);
	if (admitted != ALLOCATION_OK) {
		turn_answer_table_error(server, request, admitted);
		return;
	}
	struct transport_address relay = { 0 };
	void *handle = open_relay(server, transport, family, even, &relay);
	if (handle == NULL) {
		turn_answer_error(server, request, 508, NULL, "no_relay");
		return;
	}
	struct allocation_request wanted = {
		.five_tuple = *five_tuple,
		.relay_transport = transport,
		.relay = relay,
		.user = request->user,
		.user_length = request->user_length,
		.key = request->key,
		.key_length = request->key_length,
		.transaction_id = request->message->transaction_id,
		.has_lifetime = has_lifetime,
		.lifetime_s = lifetime_s,
	};
	enum allocation_result result;
	allocation = allocation_create(server->table, &wanted, request->now_ms, &result);
	if (allocation == NULL) {
		server->io.relay_close(server->io.arg, handle);
		turn_answer_table_error(server, request, result);
		return;
	}
	allocation->owner = handle;
	allocation->connection = request->reply.client.connection;
	server->io.allocation_event(server->io.arg, allocation, true, "allocated");
	allocate_success(server, request, allocation);
}

void turn_handle_refresh(struct turn_server *server, struct turn_request *request)
{
	struct allocation *allocation = request->allocation;
	const struct stun_attribute *family_attribute =
		stun_message_find(request->message, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY);
	int family = 0;
	if (family_attribute != NULL &&
	    (!stun_attribute_address_family(family_attribute, &family) ||
	     family != allocation->relay.family)) {
		turn_answer_error(server, request, 443, NULL, "peer_address_family");
		return;
	}
	bool has_lifetime;
	uint32_t lifetime_s;
	if (!read_lifetime(server, request, &has_lifetime, &lifetime_s))
		return;
	/* a LIFETIME of 0 ends the allocation here (its relay closes) */
	uint32_t granted = allocation_refresh(server->table, allocation, has_lifetime, lifetime_s,
					      request->now_ms);
	struct stun_builder builder;
	turn_answer_start(server, request, STUN_CLASS_SUCCESS, &builder);
	stun_builder_add_u32(&builder, STUN_ATTRIBUTE_LIFETIME, granted);
	turn_answer_send(server, &request->reply, &builder);
}
