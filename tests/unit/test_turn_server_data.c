/* SPDX-License-Identifier: ISC */
/* Unit tests for turn_server's data path and what time and TCP do, with a
 * fake turn_io: Send indications and ChannelData out of the relay only to
 * permitted peers and within the bandwidth cap, a peer's datagrams back as
 * a Data indication or ChannelData (padded over TCP), from one client of
 * the edge to another's relay inside the edge exactly as through the
 * kernel, none of it calling the allocator (the link wraps malloc, calloc
 * and realloc), expiry through turn_server_next_expiry and
 * turn_server_expire, a TCP client gone, the server freed, and RFC 6062:
 * Connect answered when the peer connection is up or failed (447, also
 * after 30 s), ConnectionAttempt for a permitted peer, ConnectionBind
 * joining a new client connection, and their refusals. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "channel_data.h"
#include "stun_attribute.h"
#include "test_allocator.h"
#include "test_suite.h"
#include "test_turn_fixture.h"

static void setup(void)
{
	fixture_settings();
	fixture_start();
}

static void teardown(void)
{
	fixture_stop();
}

/* ---- Helpers ---- */

static void create_permission(const struct turn_client *client,
			      const struct transport_address *peer, uint64_t now)
{
	struct request request;
	signed_start(&request, STUN_METHOD_CREATE_PERMISSION, client, "alice", now);
	request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, peer);
	signed_send(&request, client, "alice", now);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
}

static void channel_bind(const struct turn_client *client, uint16_t channel,
			 const struct transport_address *peer, uint64_t now)
{
	struct request request;
	uint8_t number[4] = { (uint8_t)(channel >> 8), (uint8_t)channel, 0, 0 };
	signed_start(&request, STUN_METHOD_CHANNEL_BIND, client, "alice", now);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_CHANNEL_NUMBER, number, 4);
	request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, peer);
	signed_send(&request, client, "alice", now);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
}

/* A Send indication to PEER with DATA, built into REQUEST. */
static size_t send_indication(struct request *request, const struct transport_address *peer,
			      const char *data)
{
	request_start(request, STUN_METHOD_SEND, STUN_CLASS_INDICATION);
	request_add_address(request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, peer);
	stun_builder_add(&request->builder, STUN_ATTRIBUTE_DATA, data, strlen(data));
	return request_length(request);
}

static size_t channel_message(uint8_t *buffer, uint16_t channel, const char *data, bool padded)
{
	size_t length = strlen(data);
	size_t size = channel_data_size((uint16_t)length, padded);
	memset(buffer, 0, size);
	channel_data_write_header(buffer, channel, (uint16_t)length);
	memcpy(buffer + CHANNEL_DATA_HEADER_SIZE, data, length);
	return size;
}

static struct stun_message sent_message(unsigned i)
{
	struct stun_message message;
	ck_assert_int_eq(
		stun_message_parse(fake.to_client[i].bytes, fake.to_client[i].size, &message),
		STUN_PARSE_OK);
	return message;
}

static struct transport_address peer_of(const struct stun_message *message)
{
	struct sockaddr_storage storage;
	struct transport_address address;
	const struct stun_attribute *attribute =
		stun_message_find(message, STUN_ATTRIBUTE_XOR_PEER_ADDRESS);
	ck_assert_ptr_nonnull(attribute);
	ck_assert(stun_attribute_address(message, attribute, &storage));
	ck_assert(transport_address_from_sockaddr((struct sockaddr *)&storage, &address));
	return address;
}

static uint32_t u32_of(const struct stun_message *message, uint16_t type)
{
	uint32_t value;
	const struct stun_attribute *attribute = stun_message_find(message, type);
	ck_assert_ptr_nonnull(attribute);
	ck_assert(stun_attribute_u32(attribute, &value));
	return value;
}

/* ---- From the client ---- */

START_TEST(test_send_indication)
{
	struct turn_client client = udp_client(1), stranger = udp_client(2);
	struct transport_address peer = address4("1.2.3.4", 1000);
	struct transport_address unpermitted = address4("5.6.7.8", 1000);
	struct request request;
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	create_permission(&client, &peer, T0_MS);
	fake_reset();
	send_indication(&request, &peer, "media");
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert_ptr_eq(fake.to_peer[0].relay, &fake.relays[0]);
	ck_assert(transport_address_equal(&fake.to_peer[0].peer, &peer));
	ck_assert_uint_eq(fake.to_peer[0].size, 5);
	ck_assert_mem_eq(fake.to_peer[0].bytes, "media", 5);
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_PEER], 1);
	ck_assert_uint_eq(fake.bytes[ALLOCATION_TO_PEER], 5);
	/* another port of a permitted IP is permitted too */
	peer.port = 9;
	send_indication(&request, &peer, "media");
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 2);
	ck_assert_uint_eq(fake.refused_count, 0);

	send_indication(&request, &unpermitted, "media");
	request_send(&request, &client, T0_MS);
	ck_assert_str_eq(last_refusal(), "no_permission");
	send_indication(&request, &peer, "media");
	request_send(&request, &stranger, T0_MS);
	ck_assert_str_eq(last_refusal(), "no_allocation");
	request_start(&request, STUN_METHOD_SEND, STUN_CLASS_INDICATION);
	request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &peer);
	request_send(&request, &client, T0_MS);
	ck_assert_str_eq(last_refusal(), "bad_indication");
	request_start(&request, STUN_METHOD_SEND, STUN_CLASS_INDICATION);
	request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &peer);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_DONT_FRAGMENT, NULL, 0);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_DATA, "media", 5);
	request_send(&request, &client, T0_MS);
	ck_assert_str_eq(last_refusal(), "unknown_attributes");
	ck_assert_uint_eq(fake.to_peer_count, 2);
	ck_assert_uint_eq(fake.to_client_count, 0); /* indications are never answered */
	for (unsigned i = 0; i < fake.refused_count; i++)
		ck_assert_int_eq(fake.refused[i].code, 0);
}
END_TEST

START_TEST(test_channel_data_from_client)
{
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	uint8_t buffer[64];
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	channel_bind(&client, 0x4000, &peer, T0_MS);
	fake_reset();
	size_t size = channel_message(buffer, 0x4000, "hello", false);
	turn_server_from_client(server, &client, buffer, size, T0_MS, WALL0);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert(transport_address_equal(&fake.to_peer[0].peer, &peer));
	ck_assert_mem_eq(fake.to_peer[0].bytes, "hello", 5);
	ck_assert_uint_eq(fake.to_peer[0].size, 5);
	size = channel_message(buffer, 0x4001, "hello", false);
	turn_server_from_client(server, &client, buffer, size, T0_MS, WALL0);
	ck_assert_str_eq(last_refusal(), "no_channel");
	/* the permission the binding installed lasts 300 s, the channel 600 */
	size = channel_message(buffer, 0x4000, "hello", false);
	turn_server_from_client(server, &client, buffer, size, T0_MS + 300 * SECOND, WALL0);
	ck_assert_str_eq(last_refusal(), "no_permission");
	ck_assert_uint_eq(fake.to_peer_count, 1);
}
END_TEST

START_TEST(test_channel_data_over_tcp)
{
	struct turn_client client = tcp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	uint8_t buffer[64];
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	channel_bind(&client, 0x4000, &peer, T0_MS);
	fake_reset();
	/* over TCP a frame is padded: unpadded it is malformed */
	size_t size = channel_message(buffer, 0x4000, "hello", false);
	turn_server_from_client(server, &client, buffer, size, T0_MS, WALL0);
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_str_eq(last_refusal(), "malformed_channel_data_length_beyond_datagram");
	size = channel_message(buffer, 0x4000, "hello", true);
	turn_server_from_client(server, &client, buffer, size, T0_MS, WALL0);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	/* and the peer's answer goes back padded */
	turn_server_from_peer(server, fake.last_made, &peer, (const uint8_t *)"hello", 5, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_client[0].size, 12);
	ck_assert_ptr_eq(fake.to_client[0].client.connection, client.connection);
	ck_assert_mem_eq(fake.to_client[0].bytes, "\x40\x00\x00\x05hello\0\0\0", 12);
}
END_TEST

START_TEST(test_tcp_relay_takes_no_datagrams)
{
	struct turn_client client = tcp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	struct request request;
	allocate(&client, "alice", TURN_TRANSPORT_TCP, T0_MS);
	create_permission(&client, &peer, T0_MS);
	send_indication(&request, &peer, "media");
	request_send(&request, &client, T0_MS);
	ck_assert_str_eq(last_refusal(), "not_udp_relay");
	ck_assert_uint_eq(fake.to_peer_count, 0);
}
END_TEST

/* ---- From a peer ---- */

START_TEST(test_from_peer)
{
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	struct transport_address bound = address4("5.6.7.8", 2000);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *allocation = fake.last_made;
	create_permission(&client, &peer, T0_MS);
	channel_bind(&client, 0x4ABC, &bound, T0_MS);
	fake_reset();
	turn_server_from_peer(server, allocation, &peer, (const uint8_t *)"media", 5, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	struct stun_message data = sent_message(0);
	ck_assert_uint_eq(data.method, STUN_METHOD_DATA);
	ck_assert_int_eq(data.message_class, STUN_CLASS_INDICATION);
	struct transport_address from = peer_of(&data);
	ck_assert(transport_address_equal(&from, &peer));
	const struct stun_attribute *bytes = stun_message_find(&data, STUN_ATTRIBUTE_DATA);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_uint_eq(bytes->length, 5);
	ck_assert_mem_eq(bytes->value, "media", 5);
	ck_assert(transport_address_equal(&fake.to_client[0].client.five_tuple.client,
					  &client.five_tuple.client));
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_CLIENT], 1);
	ck_assert_uint_eq(fake.bytes[ALLOCATION_TO_CLIENT], 5);
	/* indications get distinct transaction ids */
	turn_server_from_peer(server, allocation, &peer, (const uint8_t *)"media", 5, T0_MS);
	struct stun_message second = sent_message(1);
	ck_assert_mem_ne(second.transaction_id, data.transaction_id, STUN_TRANSACTION_ID_SIZE);
	/* a bound peer comes as ChannelData, unpadded over UDP */
	turn_server_from_peer(server, allocation, &bound, (const uint8_t *)"hello", 5, T0_MS);
	ck_assert_uint_eq(fake.to_client[2].size, 9);
	ck_assert_mem_eq(fake.to_client[2].bytes, "\x4a\xbc\x00\x05hello", 9);
	/* an unpermitted one not at all */
	struct transport_address stranger = address4("9.9.9.9", 1000);
	turn_server_from_peer(server, allocation, &stranger, (const uint8_t *)"x", 1, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 3);
	ck_assert_str_eq(last_refusal(), "no_permission");
}
END_TEST

/* Two clients of this edge talking to each other through their
 * allocations (an A/V call between two remote users): the edge's own
 * addresses are refused as peers but for its relay ports, reached at the
 * address the relays are bound to (handed over in the edge when a live
 * allocation holds the port: see the in_edge case) and seen by the
 * external one. */
START_TEST(test_relay_to_relay)
{
	struct turn_client a = udp_client(1), b = udp_client(2);
	struct sockaddr_storage own[2];
	struct request request;
	ck_assert_int_gt(address_parse("198.51.100.1", 0, &own[0]), 0);
	ck_assert_int_gt(address_parse("203.0.113.5", 0, &own[1]), 0);
	policy.own = own;
	policy.own_count = 2;
	allocate(&a, "alice", TURN_TRANSPORT_UDP, T0_MS);
	ck_assert_uint_eq(fake.last_made->relay.port, 50000);
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *second = fake.last_made;
	struct transport_address a_told = address4("203.0.113.5", 50000);
	struct transport_address b_told = address4("203.0.113.5", 50001);
	struct transport_address a_bound = address4("198.51.100.1", 50000);
	struct transport_address service = address4("203.0.113.5", 5061);

	/* a service of the edge is no peer */
	signed_start(&request, STUN_METHOD_CREATE_PERMISSION, &a, "alice", T0_MS);
	request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &service);
	signed_send(&request, &a, "alice", T0_MS);
	ck_assert(refused_with("peer_edge", 403));
	create_permission(&a, &b_told, T0_MS);
	create_permission(&b, &a_told, T0_MS);
	fake_reset();
	/* a relay port no allocation holds is sent to at the bound address */
	struct transport_address free_told = address4("203.0.113.5", 50007);
	struct transport_address free_bound = address4("198.51.100.1", 50007);
	send_indication(&request, &free_told, "media");
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert(transport_address_equal(&fake.to_peer[0].peer, &free_bound));
	/* B's is B's client's at once */
	send_indication(&request, &b_told, "media");
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert(transport_address_equal(&fake.to_client[0].client.five_tuple.client,
					  &b.five_tuple.client));
	fake_reset();
	/* the permission is for the address, but only relay ports are reached on it */
	send_indication(&request, &service, "media");
	request_send(&request, &a, T0_MS);
	ck_assert_str_eq(last_refusal(), "peer_edge");
	ck_assert_uint_eq(fake.to_peer_count, 0);
	/* unless allowed_peers lists the address */
	struct peer_prefix allowed;
	ck_assert_int_eq(peer_prefix_parse("203.0.113.5", 11, &allowed), PEER_PREFIX_OK);
	policy.allowed = &allowed;
	policy.allowed_count = 1;
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert(transport_address_equal(&fake.to_peer[0].peer, &service));
	policy.allowed_count = 0;
	fake_reset();
	/* what A's relay sends reaches B's client as from A's told address */
	turn_server_from_peer(server, second, &a_bound, (const uint8_t *)"media", 5, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	struct stun_message data = sent_message(0);
	struct transport_address from = peer_of(&data);
	ck_assert(transport_address_equal(&from, &a_told));
}
END_TEST

START_TEST(test_bandwidth)
{
	fixture_stop();
	fixture_settings();
	settings.limits.bandwidth_bytes_per_second = 100;
	fixture_start();
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	char data[61];
	struct request request;
	memset(data, 'x', 60);
	data[60] = '\0';
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	create_permission(&client, &peer, T0_MS);
	fake_reset();
	send_indication(&request, &peer, data);
	request_send(&request, &client, T0_MS);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert_str_eq(last_refusal(), "bandwidth");
	/* a second later the bucket holds enough again */
	request_send(&request, &client, T0_MS + SECOND);
	ck_assert_uint_eq(fake.to_peer_count, 2);
	/* the other direction has its own bucket */
	turn_server_from_peer(server, fake.last_made, &peer, (const uint8_t *)data, 60, T0_MS);
	turn_server_from_peer(server, fake.last_made, &peer, (const uint8_t *)data, 60, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_str_eq(last_refusal(), "bandwidth");
}
END_TEST

START_TEST(test_large_datagram_from_peer)
{
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	static uint8_t datagram[65535];
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	create_permission(&client, &peer, T0_MS);
	fake_reset();
	/* the largest Data indication a STUN length allows, and one byte more */
	size_t fits = STUN_MESSAGE_MAX - STUN_HEADER_SIZE - 12 - 4;
	turn_server_from_peer(server, fake.last_made, &peer, datagram, fits, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_client[0].size, STUN_MESSAGE_MAX);
	turn_server_from_peer(server, fake.last_made, &peer, datagram, fits + 1, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_str_eq(last_refusal(), "too_large");
}
END_TEST

START_TEST(test_data_path_allocates_nothing)
{
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	struct transport_address bound = address4("5.6.7.8", 2000);
	struct request request;
	uint8_t channel[64];
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *allocation = fake.last_made;
	create_permission(&client, &peer, T0_MS);
	channel_bind(&client, 0x4000, &bound, T0_MS);
	fake_reset();
	size_t send_size = send_indication(&request, &peer, "media");
	size_t channel_size = channel_message(channel, 0x4000, "hello", false);
	/* Check's assertions allocate: the results are asserted after the count */
	unsigned long before = test_allocator_calls();
	for (int i = 0; i < 100; i++) {
		uint64_t now = T0_MS + (uint64_t)i;
		turn_server_from_client(server, &client, request.buffer, send_size, now, WALL0);
		turn_server_from_client(server, &client, channel, channel_size, now, WALL0);
		turn_server_from_peer(server, allocation, &peer, (const uint8_t *)"media", 5, now);
		turn_server_from_peer(server, allocation, &bound, (const uint8_t *)"hello", 5, now);
	}
	unsigned long calls = test_allocator_calls() - before;
	ck_assert_uint_eq(fake.to_peer_count, 200);
	ck_assert_uint_eq(fake.to_client_count, 200);
	ck_assert_uint_eq(fake.refused_count, 0);
	ck_assert_uint_eq(calls, 0);
}
END_TEST

/* ---- Relay to relay in the edge ---- */

/* Two clients of the edge, A and B, with UDP relays 198.51.100.1:50000 and
 * :50001, told to their clients as 203.0.113.5:50000 and :50001. */
static struct sockaddr_storage edge_own[2];
static const char *const told_ip = "203.0.113.5"; /* the external address */

static void edge_policy(void)
{
	ck_assert_int_gt(address_parse("198.51.100.1", 0, &edge_own[0]), 0);
	ck_assert_int_gt(address_parse(told_ip, 0, &edge_own[1]), 0);
	policy.own = edge_own;
	policy.own_count = 2;
}

static void in_edge_setup(void)
{
	fixture_settings();
	edge_policy();
	fixture_start();
}

/* B's client gets from A exactly what B's relay socket would have brought
 * from A's (turn_server_from_peer with A's bound relay address, what
 * turn_relay hands over): the same Data indication, from A's told address,
 * but for the fresh transaction id; nothing goes through the kernel, and
 * each direction is counted once. */
START_TEST(test_in_edge_data_indication)
{
	struct turn_client a = udp_client(1), b = udp_client(2);
	struct request request;
	allocate(&a, "alice", TURN_TRANSPORT_UDP, T0_MS);
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *second = fake.last_made;
	struct transport_address a_told = address4(told_ip, 50000);
	struct transport_address a_bound = address4("198.51.100.1", 50000);
	struct transport_address b_told = address4(told_ip, 50001);
	struct transport_address b_bound = address4("198.51.100.1", 50001);
	create_permission(&a, &b_told, T0_MS);
	create_permission(&a, &b_bound, T0_MS);
	create_permission(&b, &a_told, T0_MS);
	fake_reset();
	memset(fake.packets, 0, sizeof(fake.packets));
	memset(fake.bytes, 0, sizeof(fake.bytes));
	send_indication(&request, &b_told, "media");
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.refused_count, 0);
	ck_assert(transport_address_equal(&fake.to_client[0].client.five_tuple.client,
					  &b.five_tuple.client));
	ck_assert_ptr_null(fake.to_client[0].client.connection);
	struct stun_message data = sent_message(0);
	ck_assert_uint_eq(data.method, STUN_METHOD_DATA);
	ck_assert_int_eq(data.message_class, STUN_CLASS_INDICATION);
	struct transport_address from = peer_of(&data);
	ck_assert(transport_address_equal(&from, &a_told));
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_PEER], 1);
	ck_assert_uint_eq(fake.bytes[ALLOCATION_TO_PEER], 5);
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_CLIENT], 1);
	ck_assert_uint_eq(fake.bytes[ALLOCATION_TO_CLIENT], 5);
	/* what the kernel path brings */
	turn_server_from_peer(server, second, &a_bound, (const uint8_t *)"media", 5, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 2);
	ck_assert_uint_eq(fake.to_client[1].size, fake.to_client[0].size);
	ck_assert_mem_eq(fake.to_client[1].bytes, fake.to_client[0].bytes, 8);
	size_t after_id = STUN_HEADER_SIZE;
	ck_assert_mem_eq(fake.to_client[1].bytes + after_id, fake.to_client[0].bytes + after_id,
			 fake.to_client[0].size - after_id);
	ck_assert_mem_ne(fake.to_client[1].bytes + 8, fake.to_client[0].bytes + 8,
			 STUN_TRANSACTION_ID_SIZE);
	/* the relay address itself, as a peer, is the same allocation */
	send_indication(&request, &b_bound, "media");
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_uint_eq(fake.to_client_count, 3);
	struct stun_message third = sent_message(2);
	from = peer_of(&third);
	ck_assert(transport_address_equal(&from, &a_told));
}
END_TEST

/* On channels both ways, to a TCP client: the ChannelData B's client gets
 * is byte for byte the kernel path's (padded over TCP). */
START_TEST(test_in_edge_channel_data)
{
	struct turn_client a = udp_client(1), b = tcp_client(2);
	uint8_t buffer[64];
	allocate(&a, "alice", TURN_TRANSPORT_UDP, T0_MS);
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *second = fake.last_made;
	struct transport_address a_told = address4(told_ip, 50000);
	struct transport_address a_bound = address4("198.51.100.1", 50000);
	struct transport_address b_told = address4(told_ip, 50001);
	channel_bind(&a, 0x4000, &b_told, T0_MS);
	channel_bind(&b, 0x4ABC, &a_told, T0_MS);
	fake_reset();
	size_t size = channel_message(buffer, 0x4000, "hello", false);
	turn_server_from_client(server, &a, buffer, size, T0_MS, WALL0);
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_ptr_eq(fake.to_client[0].client.connection, b.connection);
	ck_assert_uint_eq(fake.to_client[0].size, 12);
	ck_assert_mem_eq(fake.to_client[0].bytes, "\x4a\xbc\x00\x05hello\0\0\0", 12);
	turn_server_from_peer(server, second, &a_bound, (const uint8_t *)"hello", 5, T0_MS);
	ck_assert_uint_eq(fake.to_client[1].size, 12);
	ck_assert_mem_eq(fake.to_client[1].bytes, fake.to_client[0].bytes, 12);
}
END_TEST

/* B's permission decides, as when the datagram comes in at its socket:
 * without one for A's address it is dropped as no_permission (A's side was
 * relayed out, and counted so), with one it goes through. */
START_TEST(test_in_edge_permission)
{
	struct turn_client a = udp_client(1), b = udp_client(2);
	struct transport_address other = address4("1.2.3.4", 1000);
	struct request request;
	allocate(&a, "alice", TURN_TRANSPORT_UDP, T0_MS);
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct transport_address a_told = address4(told_ip, 50000);
	struct transport_address b_told = address4(told_ip, 50001);
	create_permission(&a, &b_told, T0_MS);
	create_permission(&b, &other, T0_MS);
	fake_reset();
	memset(fake.packets, 0, sizeof(fake.packets));
	send_indication(&request, &b_told, "media");
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 0);
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_uint_eq(fake.refused_count, 1);
	ck_assert_str_eq(last_refusal(), "no_permission");
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_PEER], 1);
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_CLIENT], 0);
	create_permission(&b, &a_told, T0_MS);
	fake_reset();
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.refused_count, 0);
	/* A's own permission comes first, as for any peer */
	fake_reset();
	send_indication(&request, &a_told, "media");
	request_send(&request, &b, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	struct turn_client c = udp_client(3);
	allocate(&c, "alice", TURN_TRANSPORT_UDP, T0_MS);
	fake_reset();
	send_indication(&request, &b_told, "media");
	request_send(&request, &c, T0_MS);
	ck_assert_str_eq(last_refusal(), "no_permission");
	ck_assert_uint_eq(fake.to_client_count, 0);
}
END_TEST

/* What A sends is charged to A's bucket towards peers, what B's client
 * gets to B's towards its client; the other two are untouched. */
START_TEST(test_in_edge_bandwidth)
{
	fixture_stop();
	fixture_settings();
	edge_policy();
	settings.limits.bandwidth_bytes_per_second = 100;
	fixture_start();
	struct turn_client a = udp_client(1), b = udp_client(2);
	struct transport_address other = address4("1.2.3.4", 1000);
	char data[61];
	struct request request;
	memset(data, 'x', 60);
	data[60] = '\0';
	allocate(&a, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *first = fake.last_made;
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *second = fake.last_made;
	struct transport_address a_told = address4(told_ip, 50000);
	struct transport_address b_told = address4(told_ip, 50001);
	create_permission(&a, &b_told, T0_MS);
	create_permission(&a, &other, T0_MS);
	create_permission(&b, &a_told, T0_MS);
	create_permission(&b, &other, T0_MS);
	fake_reset();
	send_indication(&request, &b_told, data);
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.refused_count, 0);
	/* B's bucket towards its client holds 40 bytes now */
	turn_server_from_peer(server, second, &other, (const uint8_t *)data, 60, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_str_eq(last_refusal(), "bandwidth");
	/* and A's towards peers */
	send_indication(&request, &other, data);
	request_send(&request, &a, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_uint_eq(fake.refused_count, 2);
	/* B's towards peers and A's towards its client are full */
	request_send(&request, &b, T0_MS);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	turn_server_from_peer(server, first, &other, (const uint8_t *)data, 60, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 2);
	ck_assert_uint_eq(fake.refused_count, 2);
	/* a datagram over B's cap is dropped in the edge, A's side charged */
	fake_reset();
	memset(fake.packets, 0, sizeof(fake.packets));
	turn_server_from_peer(server, second, &other, (const uint8_t *)data, 60, T0_MS + SECOND);
	send_indication(&request, &b_told, data);
	request_send(&request, &a, T0_MS + SECOND);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_str_eq(last_refusal(), "bandwidth");
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_PEER], 1);
	ck_assert_uint_eq(fake.packets[ALLOCATION_TO_CLIENT], 1);
	send_indication(&request, &other, data);
	request_send(&request, &a, T0_MS + SECOND);
	ck_assert_uint_eq(fake.refused_count, 2); /* A's bucket: 40 bytes left */
}
END_TEST

/* Only a live allocation is reached: one ended, or expired and not yet
 * removed, is not (the datagram goes to its address through the kernel,
 * as before), nor is another allocation made since in its record. */
START_TEST(test_in_edge_only_live)
{
	struct turn_client a = udp_client(1), b = udp_client(2), c = udp_client(3);
	struct request request;
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct allocation *second = fake.last_made;
	uint64_t later = T0_MS + 500 * SECOND;
	allocate(&a, "alice", TURN_TRANSPORT_UDP, later);
	struct transport_address a_told = address4(told_ip, 50001);
	struct transport_address b_told = address4(told_ip, 50000);
	struct transport_address b_bound = address4("198.51.100.1", 50000);
	create_permission(&a, &b_told, later);
	create_permission(&b, &a_told, later);
	fake_reset();
	send_indication(&request, &b_told, "media");
	request_send(&request, &a, later);
	ck_assert_uint_eq(fake.to_client_count, 1);
	/* B's lifetime is over at T0 + 600 s, before the timer ends it */
	request_send(&request, &a, T0_MS + 600 * SECOND);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert(transport_address_equal(&fake.to_peer[0].peer, &b_bound));
	turn_server_expire(server, T0_MS + 600 * SECOND);
	ck_assert_ptr_eq(fake.last_closed, &fake.relays[0]);
	request_send(&request, &a, T0_MS + 600 * SECOND);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_peer_count, 2);
	/* a new allocation in B's record, at another port, is not B */
	allocate(&c, "alice", TURN_TRANSPORT_UDP, T0_MS + 600 * SECOND);
	ck_assert_ptr_eq(fake.last_made, second);
	ck_assert_uint_ne(fake.last_made->relay.port, 50000);
	create_permission(&c, &a_told, T0_MS + 600 * SECOND);
	fake_reset();
	request_send(&request, &a, T0_MS + 600 * SECOND);
	ck_assert_uint_eq(fake.to_client_count, 0);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	/* nor one a reload or a listener's end deleted */
	struct transport_address c_told = address4(told_ip, fake.last_made->relay.port);
	create_permission(&a, &c_told, T0_MS + 600 * SECOND);
	fake_reset();
	send_indication(&request, &c_told, "media");
	request_send(&request, &a, T0_MS + 600 * SECOND);
	ck_assert_uint_eq(fake.to_client_count, 1);
	turn_server_end_allocation(server, second, ALLOCATION_END_LISTENER_REMOVED);
	request_send(&request, &a, T0_MS + 600 * SECOND);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_peer_count, 1);
}
END_TEST

/* A datagram the relay socket could not send (a TCP client's ChannelData
 * past an IPv4 datagram's 65,507 bytes) is not delivered in the edge. */
START_TEST(test_in_edge_datagram_size)
{
	struct turn_client a = tcp_client(1), b = tcp_client(2);
	static uint8_t buffer[CHANNEL_DATA_HEADER_SIZE + 65508];
	allocate(&a, "alice", TURN_TRANSPORT_UDP, T0_MS);
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct transport_address a_told = address4(told_ip, 50000);
	struct transport_address b_told = address4(told_ip, 50001);
	channel_bind(&a, 0x4000, &b_told, T0_MS);
	channel_bind(&b, 0x4001, &a_told, T0_MS);
	fake_reset();
	channel_data_write_header(buffer, 0x4000, 65507);
	turn_server_from_client(server, &a, buffer, CHANNEL_DATA_HEADER_SIZE + 65508, T0_MS, WALL0);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_client[0].size, CHANNEL_DATA_HEADER_SIZE + 65508);
	channel_data_write_header(buffer, 0x4000, 65508);
	turn_server_from_client(server, &a, buffer, CHANNEL_DATA_HEADER_SIZE + 65508, T0_MS, WALL0);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(fake.to_peer_count, 1);
	ck_assert_uint_eq(fake.to_peer[0].size, 65508);
}
END_TEST

START_TEST(test_in_edge_allocates_nothing)
{
	struct turn_client a = udp_client(1), b = udp_client(2);
	struct request request;
	uint8_t channel[64];
	allocate(&a, "alice", TURN_TRANSPORT_UDP, T0_MS);
	allocate(&b, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct transport_address a_told = address4(told_ip, 50000);
	struct transport_address b_told = address4(told_ip, 50001);
	struct transport_address b_bound = address4("198.51.100.1", 50001);
	create_permission(&a, &b_bound, T0_MS);
	create_permission(&b, &a_told, T0_MS);
	channel_bind(&a, 0x4000, &b_told, T0_MS);
	fake_reset();
	size_t send_size = send_indication(&request, &b_bound, "media");
	size_t channel_size = channel_message(channel, 0x4000, "hello", false);
	/* Check's assertions allocate: the results are asserted after the count */
	unsigned long before = test_allocator_calls();
	for (int i = 0; i < 100; i++) {
		uint64_t now = T0_MS + (uint64_t)i;
		turn_server_from_client(server, &a, request.buffer, send_size, now, WALL0);
		turn_server_from_client(server, &a, channel, channel_size, now, WALL0);
	}
	unsigned long calls = test_allocator_calls() - before;
	ck_assert_uint_eq(fake.to_peer_count, 0);
	ck_assert_uint_eq(fake.to_client_count, 200);
	ck_assert_uint_eq(fake.refused_count, 0);
	ck_assert_uint_eq(calls, 0);
}
END_TEST

/* ---- Time, connections gone, the end ---- */

START_TEST(test_expiry)
{
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	struct request request;
	ck_assert_uint_eq(turn_server_next_expiry(server), UINT64_MAX);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	ck_assert_uint_eq(turn_server_next_expiry(server), T0_MS + 600 * SECOND);
	create_permission(&client, &peer, T0_MS + 100 * SECOND);
	ck_assert_uint_eq(turn_server_next_expiry(server), T0_MS + 400 * SECOND);
	turn_server_expire(server, T0_MS + 400 * SECOND);
	ck_assert_uint_eq(turn_server_next_expiry(server), T0_MS + 600 * SECOND);
	turn_server_expire(server, T0_MS + 600 * SECOND - 1);
	ck_assert_uint_eq(turn_server_allocations(server), 1);
	ck_assert_uint_eq(fake.relay_close_count, 0);
	turn_server_expire(server, T0_MS + 600 * SECOND);
	ck_assert_uint_eq(turn_server_allocations(server), 0);
	ck_assert_uint_eq(fake.relay_close_count, 1);
	ck_assert_ptr_eq(fake.last_closed, &fake.relays[0]);
	ck_assert_str_eq(fake.last_end, "expired");
	ck_assert_uint_eq(turn_server_next_expiry(server), UINT64_MAX);
	fake_reset();
	send_indication(&request, &peer, "media");
	request_send(&request, &client, T0_MS + 600 * SECOND);
	ck_assert_str_eq(last_refusal(), "no_allocation");
}
END_TEST

START_TEST(test_client_gone)
{
	struct turn_client client = tcp_client(1), other = tcp_client(2);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	turn_server_client_gone(server, &other, T0_MS);
	ck_assert_uint_eq(turn_server_allocations(server), 1);
	turn_server_client_gone(server, &client, T0_MS);
	ck_assert_uint_eq(turn_server_allocations(server), 0);
	ck_assert_uint_eq(fake.relay_close_count, 1);
	ck_assert_str_eq(fake.last_end, "deleted");
}
END_TEST

START_TEST(test_free_ends_everything)
{
	struct turn_client one = udp_client(1), two = udp_client(2);
	allocate(&one, "alice", TURN_TRANSPORT_UDP, T0_MS);
	allocate(&two, "bob", TURN_TRANSPORT_UDP, T0_MS);
	turn_server_free(server);
	server = NULL;
	ck_assert_uint_eq(fake.relay_close_count, 2);
	ck_assert_uint_eq(fake.ended, 2);
	ck_assert_str_eq(fake.last_end, "table_freed");
	server = turn_server_new(&settings, &(struct turn_io){ 0 }, 1, (uint8_t[32]){ 0 });
	ck_assert_ptr_nonnull(server);
}
END_TEST

/* ---- RFC 6062 ---- */

static void connect_to(const struct turn_client *client, const char *user,
		       const struct transport_address *peer, uint64_t now)
{
	struct request request;
	signed_start(&request, STUN_METHOD_CONNECT, client, user, now);
	request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, peer);
	signed_send(&request, client, user, now);
}

static void connection_bind(const struct turn_client *client, const char *user, uint32_t id,
			    uint64_t now)
{
	struct request request;
	signed_start(&request, STUN_METHOD_CONNECTION_BIND, client, user, now);
	stun_builder_add_u32(&request.builder, STUN_ATTRIBUTE_CONNECTION_ID, id);
	signed_send(&request, client, user, now);
}

static unsigned last_error(void)
{
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_ERROR);
	return answer_error_code(&answer, NULL);
}

START_TEST(test_connect_and_bind)
{
	struct turn_client control = tcp_client(1), data = tcp_client(5);
	struct transport_address peer = address4("1.2.3.4", 80);
	allocate(&control, "alice", TURN_TRANSPORT_TCP, T0_MS);
	connect_to(&control, "alice", &peer, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 0); /* answered once connected */
	ck_assert_uint_eq(fake.peer_connect_count, 1);
	ck_assert(transport_address_equal(&fake.last_connect_peer, &peer));
	struct allocation_connection *connection = fake.last_connection;
	ck_assert_ptr_eq(connection->owner, &fake.peers[0]);
	turn_server_peer_connected(server, connection, true, T0_MS + SECOND);
	struct stun_message answer = last_answer();
	ck_assert_uint_eq(answer.method, STUN_METHOD_CONNECT);
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	ck_assert_ptr_eq(fake.to_client[0].client.connection, control.connection);
	uint32_t id = u32_of(&answer, STUN_ATTRIBUTE_CONNECTION_ID);
	ck_assert_uint_eq(id, connection->id);
	/* on a new connection, with the allocation's credentials */
	connection_bind(&data, "alice", id, T0_MS + 2 * SECOND);
	answer = last_answer();
	ck_assert_uint_eq(answer.method, STUN_METHOD_CONNECTION_BIND);
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert_ptr_eq(fake.to_client[0].client.connection, data.connection);
	ck_assert_uint_eq(fake.join_count, 1);
	ck_assert_ptr_eq(fake.last_join_peer, &fake.peers[0]);
	ck_assert_ptr_eq(fake.last_join_client.connection, data.connection);
	/* bound: no deadline; once the allocation ends, so does the peer connection */
	turn_server_expire(server, T0_MS + 60 * SECOND);
	ck_assert_uint_eq(fake.peer_close_count, 0);
	turn_server_client_gone(server, &control, T0_MS + 61 * SECOND);
	ck_assert_uint_eq(fake.peer_close_count, 1);
	ck_assert_ptr_eq(fake.last_peer_closed, &fake.peers[0]);
}
END_TEST

/* A ConnectionBind carries its allocation's credentials: after a reload
 * changed the shared secret, those it was made with still bind. */
START_TEST(test_connection_bind_after_reload)
{
	struct turn_client control = tcp_client(1), data = tcp_client(5);
	struct transport_address peer = address4("1.2.3.4", 80);
	allocate(&control, "alice", TURN_TRANSPORT_TCP, T0_MS);
	connect_to(&control, "alice", &peer, T0_MS);
	turn_server_peer_connected(server, fake.last_connection, true, T0_MS + SECOND);
	uint32_t id =
		u32_of((struct stun_message[]){ last_answer() }, STUN_ATTRIBUTE_CONNECTION_ID);
	settings.secret = (const uint8_t *)"another-shared-secret-4567";
	settings.secret_length = strlen("another-shared-secret-4567");
	struct turn_server_change *change = turn_server_change_new(&settings);
	ck_assert_ptr_nonnull(change);
	turn_server_change_apply(server, change);
	connection_bind(&data, "alice", id, T0_MS + 2 * SECOND);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	ck_assert_uint_eq(fake.join_count, 1);
}
END_TEST

START_TEST(test_connect_refused)
{
	struct turn_client control = tcp_client(1), udp = udp_client(2);
	struct transport_address peer = address4("1.2.3.4", 80);
	struct transport_address loopback = address4("127.0.0.1", 80);
	allocate(&udp, "alice", TURN_TRANSPORT_UDP, T0_MS);
	connect_to(&udp, "alice", &peer, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	ck_assert(refused_with("not_tcp_relay", 400));
	allocate(&control, "alice", TURN_TRANSPORT_TCP, T0_MS);
	connect_to(&control, "alice", &loopback, T0_MS);
	ck_assert_uint_eq(last_error(), 403);
	ck_assert(refused_with("peer_loopback", 403));
	fake.connect_fail = true;
	connect_to(&control, "alice", &peer, T0_MS);
	ck_assert_uint_eq(last_error(), 447);
	ck_assert(refused_with("connect_failed", 447));
	fake.connect_fail = false;
	/* the connection fails later: 447, and the module closes it itself */
	connect_to(&control, "alice", &peer, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 0);
	turn_server_peer_connected(server, fake.last_connection, false, T0_MS + SECOND);
	ck_assert_uint_eq(last_error(), 447);
	ck_assert(answer_signed((struct stun_message[]){ last_answer() }, STUN_INTEGRITY_SHA1,
				"alice"));
	ck_assert_uint_eq(fake.peer_close_count, 0);
	/* one pending connect per peer; and it fails by itself after 30 s */
	connect_to(&control, "alice", &peer, T0_MS + 2 * SECOND);
	connect_to(&control, "alice", &peer, T0_MS + 3 * SECOND);
	ck_assert_uint_eq(last_error(), 446);
	ck_assert(refused_with("connection_exists", 446));
	fake_reset();
	turn_server_expire(server, T0_MS + 32 * SECOND);
	ck_assert_uint_eq(last_error(), 447);
	ck_assert_uint_eq(fake.peer_close_count, 1);
}
END_TEST

START_TEST(test_connect_limit)
{
	struct turn_client control = tcp_client(1), other = tcp_client(3);
	struct transport_address peer = address4("1.2.3.4", 80);
	connect_to(&other, "alice", &peer, T0_MS);
	ck_assert_uint_eq(last_error(), 437);
	allocate(&control, "alice", TURN_TRANSPORT_TCP, T0_MS);
	for (unsigned i = 0; i < 4; i++) {
		peer.port = (uint16_t)(80 + i);
		connect_to(&control, "alice", &peer, T0_MS);
		ck_assert_uint_eq(fake.to_client_count, 0);
	}
	peer.port = 99;
	connect_to(&control, "alice", &peer, T0_MS);
	ck_assert_uint_eq(last_error(), 508);
	ck_assert(refused_with("connection_limit", 508));
	ck_assert_uint_eq(fake.peer_connect_count, 4);
}
END_TEST

START_TEST(test_connection_bind_refused)
{
	struct turn_client control = tcp_client(1), data = tcp_client(5), udp = udp_client(6);
	struct transport_address peer = address4("1.2.3.4", 80);
	allocate(&control, "alice", TURN_TRANSPORT_TCP, T0_MS);
	connect_to(&control, "alice", &peer, T0_MS);
	turn_server_peer_connected(server, fake.last_connection, true, T0_MS);
	uint32_t id = fake.last_connection->id;
	connection_bind(&data, "alice", id + 1, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	ck_assert(refused_with("connection_unknown", 400));
	connection_bind(&udp, "alice", id, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	connection_bind(&control, "alice", id, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	connection_bind(&data, "mallory", id, T0_MS);
	ck_assert_uint_eq(last_error(), 441);
	ck_assert_uint_eq(fake.join_count, 0);
	/* not bound within 30 s: gone */
	turn_server_expire(server, T0_MS + 30 * SECOND);
	ck_assert_uint_eq(fake.peer_close_count, 1);
	connection_bind(&data, "alice", id, T0_MS + 30 * SECOND);
	ck_assert_uint_eq(last_error(), 400);
}
END_TEST

START_TEST(test_peer_arrives)
{
	struct turn_client control = tcp_client(1), data = tcp_client(5);
	struct transport_address peer = address4("1.2.3.4", 4321);
	allocate(&control, "alice", TURN_TRANSPORT_TCP, T0_MS);
	struct allocation *allocation = fake.last_made;
	fake_reset();
	ck_assert(!turn_server_peer_arrived(server, allocation, &peer, &fake.peers[10], T0_MS));
	ck_assert_str_eq(last_refusal(), "no_permission");
	ck_assert_uint_eq(fake.to_client_count, 0);
	create_permission(&control, &peer, T0_MS);
	fake_reset();
	ck_assert(turn_server_peer_arrived(server, allocation, &peer, &fake.peers[10], T0_MS));
	struct stun_message attempt = last_answer();
	ck_assert_uint_eq(attempt.method, STUN_METHOD_CONNECTION_ATTEMPT);
	ck_assert_int_eq(attempt.message_class, STUN_CLASS_INDICATION);
	struct transport_address from = peer_of(&attempt);
	ck_assert(transport_address_equal(&from, &peer));
	ck_assert_ptr_eq(fake.to_client[0].client.connection, control.connection);
	uint32_t id = u32_of(&attempt, STUN_ATTRIBUTE_CONNECTION_ID);
	connection_bind(&data, "alice", id, T0_MS + SECOND);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	ck_assert_ptr_eq(fake.last_join_peer, &fake.peers[10]);
	/* a second peer connection, gone before its allocation: no peer_close */
	struct transport_address second = address4("1.2.3.4", 4322);
	struct allocation_connection *connection =
		turn_server_peer_accept(server, allocation, &second, &fake.peers[11], T0_MS);
	ck_assert_ptr_nonnull(connection);
	turn_server_peer_gone(server, connection);
	turn_server_client_gone(server, &control, T0_MS + 2 * SECOND);
	ck_assert_uint_eq(fake.peer_close_count, 1);
	ck_assert_ptr_eq(fake.last_peer_closed, &fake.peers[10]);
}
END_TEST

START_TEST(test_peer_on_udp_relay)
{
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 4321);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	ck_assert(!turn_server_peer_arrived(server, fake.last_made, &peer, &fake.peers[3], T0_MS));
	ck_assert_str_eq(last_refusal(), "not_tcp_relay");
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("turn_server_data");
	TCase *data = tcase_create("data");
	tcase_add_checked_fixture(data, setup, teardown);
	tcase_add_test(data, test_send_indication);
	tcase_add_test(data, test_channel_data_from_client);
	tcase_add_test(data, test_channel_data_over_tcp);
	tcase_add_test(data, test_tcp_relay_takes_no_datagrams);
	tcase_add_test(data, test_from_peer);
	tcase_add_test(data, test_relay_to_relay);
	tcase_add_test(data, test_bandwidth);
	tcase_add_test(data, test_large_datagram_from_peer);
	tcase_add_test(data, test_data_path_allocates_nothing);
	suite_add_tcase(suite, data);

	TCase *in_edge = tcase_create("in_edge");
	tcase_add_checked_fixture(in_edge, in_edge_setup, teardown);
	tcase_add_test(in_edge, test_in_edge_data_indication);
	tcase_add_test(in_edge, test_in_edge_channel_data);
	tcase_add_test(in_edge, test_in_edge_permission);
	tcase_add_test(in_edge, test_in_edge_bandwidth);
	tcase_add_test(in_edge, test_in_edge_only_live);
	tcase_add_test(in_edge, test_in_edge_datagram_size);
	tcase_add_test(in_edge, test_in_edge_allocates_nothing);
	suite_add_tcase(suite, in_edge);

	TCase *time = tcase_create("time");
	tcase_add_checked_fixture(time, setup, teardown);
	tcase_add_test(time, test_expiry);
	tcase_add_test(time, test_client_gone);
	tcase_add_test(time, test_free_ends_everything);
	suite_add_tcase(suite, time);

	TCase *tcp = tcase_create("rfc6062");
	tcase_add_checked_fixture(tcp, setup, teardown);
	tcase_add_test(tcp, test_connect_and_bind);
	tcase_add_test(tcp, test_connection_bind_after_reload);
	tcase_add_test(tcp, test_connect_refused);
	tcase_add_test(tcp, test_connect_limit);
	tcase_add_test(tcp, test_connection_bind_refused);
	tcase_add_test(tcp, test_peer_arrives);
	tcase_add_test(tcp, test_peer_on_udp_relay);
	suite_add_tcase(suite, tcp);
	return test_suite_run(suite);
}
