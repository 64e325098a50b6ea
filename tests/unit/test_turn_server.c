/* SPDX-License-Identifier: ISC */
/* Unit tests for turn_server's requests, with a fake turn_io and real
 * credentials: Binding over UDP and TCP, what is dropped (malformed, a
 * response, an unknown method answered 400), long-term authentication in
 * RFC 8489's order (401 with REALM and NONCE, 400, 438 stale and invalid,
 * expired and malformed usernames, the wrong password), the answers signed
 * with the request's kind of integrity, Allocate (transport, 442, 440,
 * lifetime, quotas 486 and 508, 437 and the retransmission, a failed
 * relay), Refresh (0 deletes, 437, 441), 420 after authentication, the
 * amplification bound, CreatePermission and ChannelBind with the peer
 * policy (403 named) and the limits. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "stun_attribute.h"
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

static struct transport_address mapped_of(const struct stun_message *answer, uint16_t type)
{
	struct sockaddr_storage storage;
	struct transport_address address;
	const struct stun_attribute *attribute = stun_message_find(answer, type);
	ck_assert_ptr_nonnull(attribute);
	ck_assert(stun_attribute_address(answer, attribute, &storage));
	ck_assert(transport_address_from_sockaddr((struct sockaddr *)&storage, &address));
	return address;
}

static uint32_t lifetime_of(const struct stun_message *answer)
{
	uint32_t value;
	const struct stun_attribute *attribute = stun_message_find(answer, STUN_ATTRIBUTE_LIFETIME);
	ck_assert_ptr_nonnull(attribute);
	ck_assert(stun_attribute_u32(attribute, &value));
	return value;
}

/* An Allocate signed for USER with TRANSPORT and an extra attribute
 * (TYPE 0: none), from CLIENT at NOW. */
static void allocate_with(const struct turn_client *client, const char *user, uint8_t transport,
			  uint16_t type, const void *value, size_t length, uint64_t now)
{
	struct request request;
	uint8_t transport_value[4] = { transport, 0, 0, 0 };
	signed_start(&request, STUN_METHOD_ALLOCATE, client, user, now);
	if (transport != 0)
		stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT,
				 transport_value, 4);
	if (type != 0)
		stun_builder_add(&request.builder, type, value, length);
	signed_send(&request, client, user, now);
}

static unsigned last_error(void)
{
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_ERROR);
	return answer_error_code(&answer, NULL);
}

/* ---- Binding and what is dropped ---- */

START_TEST(test_binding_udp)
{
	struct request request;
	struct turn_client client = udp_client(1);
	request_start(&request, STUN_METHOD_BINDING, STUN_CLASS_REQUEST);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert_mem_eq(answer.transaction_id, request.transaction_id, STUN_TRANSACTION_ID_SIZE);
	struct transport_address mapped = mapped_of(&answer, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS);
	ck_assert(transport_address_equal(&mapped, &client.five_tuple.client));
	/* 20 bytes in, 32 out: within the bound, nothing optional */
	ck_assert_uint_eq(fake.to_client[0].size, 32);
	ck_assert_uint_eq(fake.refused_count, 0);
}
END_TEST

START_TEST(test_binding_tcp_and_fingerprint)
{
	struct request request;
	struct turn_client client = tcp_client(2);
	request_start(&request, STUN_METHOD_BINDING, STUN_CLASS_REQUEST);
	stun_builder_add_fingerprint(&request.builder);
	request_send(&request, &client, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert_int_ge(answer.fingerprint, 0);
	ck_assert_ptr_eq(fake.to_client[0].client.connection, client.connection);
	struct transport_address mapped = mapped_of(&answer, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS);
	ck_assert(transport_address_equal(&mapped, &client.five_tuple.client));
}
END_TEST

START_TEST(test_binding_unknown_attribute)
{
	struct request request;
	struct turn_client client = udp_client(1);
	request_start(&request, STUN_METHOD_BINDING, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, 0x7777, "abcd", 4);
	request_send(&request, &client, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_uint_eq(answer_error_code(&answer, NULL), 420);
	const struct stun_attribute *unknown =
		stun_message_find(&answer, STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES);
	ck_assert_ptr_nonnull(unknown);
	ck_assert_uint_eq(unknown->length, 2);
	ck_assert_uint_eq(stun_read16(unknown->value), 0x7777);
	ck_assert(refused_with("unknown_attributes", 420));
}
END_TEST

START_TEST(test_dropped)
{
	struct turn_client client = udp_client(1);
	struct request request;
	static const uint8_t garbage[20] = { 0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4 };
	turn_server_from_client(server, &client, garbage, sizeof(garbage), T0_MS, WALL0);
	ck_assert_str_eq(last_refusal(), "malformed_bad_magic_cookie");
	turn_server_from_client(server, &client, garbage, 7, T0_MS, WALL0);
	ck_assert_str_eq(last_refusal(), "malformed_shorter_than_header");
	static const uint8_t not_stun[20] = { 0x80 };
	turn_server_from_client(server, &client, not_stun, sizeof(not_stun), T0_MS, WALL0);
	ck_assert_str_eq(last_refusal(), "malformed_not_stun");
	static const uint8_t cut_channel_data[8] = { 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4 };
	turn_server_from_client(server, &client, cut_channel_data, sizeof(cut_channel_data), T0_MS,
				WALL0);
	ck_assert_str_eq(last_refusal(), "malformed_channel_data_length_beyond_datagram");
	/* a truncated request: its length says more than came */
	request_start(&request, STUN_METHOD_BINDING, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_SOFTWARE, "client", 6);
	turn_server_from_client(server, &client, request.buffer, request_length(&request) - 4,
				T0_MS, WALL0);
	ck_assert_str_eq(last_refusal(), "malformed_length_beyond_datagram");
	/* a response and an indication other than Send or Binding */
	request_start(&request, STUN_METHOD_BINDING, STUN_CLASS_SUCCESS);
	request_send(&request, &client, T0_MS);
	ck_assert_str_eq(last_refusal(), "unexpected_class");
	unsigned refusals = fake.refused_count;
	request_start(&request, STUN_METHOD_BINDING, STUN_CLASS_INDICATION);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(fake.refused_count, refusals); /* a keepalive */
	ck_assert_uint_eq(fake.to_client_count, 0);
	for (unsigned i = 0; i < fake.refused_count; i++)
		ck_assert_int_eq(fake.refused[i].code, 0);
}
END_TEST

START_TEST(test_unknown_method)
{
	struct turn_client client = udp_client(1);
	struct request request;
	request_start(&request, 0x0FF, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_SOFTWARE, "client", 6);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	ck_assert(refused_with("unknown_method", 400));
}
END_TEST

/* ---- Authentication ---- */

START_TEST(test_challenge)
{
	struct turn_client client = udp_client(1);
	struct request request;
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	request_send(&request, &client, T0_MS);
	struct stun_message answer = last_answer();
	size_t phrase_length = 99;
	ck_assert_uint_eq(answer_error_code(&answer, &phrase_length), 401);
	ck_assert_uint_eq(phrase_length, 0); /* nothing optional before authentication */
	const struct stun_attribute *realm = stun_message_find(&answer, STUN_ATTRIBUTE_REALM);
	ck_assert_ptr_nonnull(realm);
	ck_assert_uint_eq(realm->length, strlen(REALM));
	ck_assert_mem_eq(realm->value, REALM, strlen(REALM));
	ck_assert_ptr_nonnull(stun_message_find(&answer, STUN_ATTRIBUTE_NONCE));
	ck_assert_int_lt(answer.integrity, 0);
	ck_assert_int_lt(answer.fingerprint, 0);
	ck_assert(refused_with("unauthorized", 401));
	ck_assert_uint_eq(fake.relay_open_count, 0);
	/* over TCP the phrase may go */
	struct turn_client stream = tcp_client(1);
	request_send(&request, &stream, T0_MS);
	answer = last_answer();
	ck_assert_uint_eq(answer_error_code(&answer, &phrase_length), 401);
	ck_assert_uint_gt(phrase_length, 0);
}
END_TEST

START_TEST(test_allocate_success)
{
	struct turn_client client = udp_client(1);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_mem_eq(answer.transaction_id, fake.to_client[0].bytes + 8, 12);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	ck_assert_int_lt(answer.integrity_sha256, 0);
	struct transport_address relayed = mapped_of(&answer, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	struct transport_address external = address4("203.0.113.5", 50000);
	ck_assert(transport_address_equal(&relayed, &external));
	struct transport_address mapped = mapped_of(&answer, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS);
	ck_assert(transport_address_equal(&mapped, &client.five_tuple.client));
	ck_assert_uint_eq(lifetime_of(&answer), 600);
	ck_assert_uint_eq(fake.relay_open_count, 1);
	ck_assert_uint_eq(fake.relay_transport[0], TURN_TRANSPORT_UDP);
	ck_assert_uint_eq(fake.made, 1);
	ck_assert_ptr_eq(fake.last_made->owner, &fake.relays[0]);
	size_t user_length = 0;
	const char *user = turn_server_allocation_user(server, fake.last_made, &user_length);
	ck_assert_uint_eq(user_length, 5);
	ck_assert_mem_eq(user, "alice", 5);
	ck_assert_uint_eq(turn_server_allocations(server), 1);
	ck_assert_uint_eq(fake.refused_count, 0);
}
END_TEST

START_TEST(test_allocate_without_external_address)
{
	fixture_stop();
	fixture_settings();
	memset(&settings.external_address, 0, sizeof(settings.external_address));
	fixture_start();
	struct turn_client client = udp_client(1);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	struct stun_message answer = last_answer();
	struct transport_address relayed = mapped_of(&answer, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	struct transport_address bound = address4("198.51.100.1", 50000);
	ck_assert(transport_address_equal(&relayed, &bound));
}
END_TEST

START_TEST(test_sha256_integrity_answered_alike)
{
	struct turn_client client = udp_client(1);
	struct request request;
	char nonce[TURN_NONCE_SIZE];
	const char *username = username_for("alice");
	nonce_for(&client, T0_MS, nonce, sizeof(nonce));
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	request_credentials(&request, username, nonce);
	request_sign(&request, STUN_INTEGRITY_SHA256, username, NULL, true);
	request_send(&request, &client, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert_int_lt(answer.integrity, 0);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA256, "alice"));
	ck_assert_int_ge(answer.fingerprint, 0);
	/* and the wrong password on a SHA-256 request is still refused */
	nonce_for(&client, T0_MS, nonce, sizeof(nonce));
	request_start(&request, STUN_METHOD_REFRESH, STUN_CLASS_REQUEST);
	request_credentials(&request, username, nonce);
	request_sign(&request, STUN_INTEGRITY_SHA256, username, "not-the-password", false);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(last_error(), 401);
	ck_assert(refused_with("wrong_credentials", 401));
}
END_TEST

/* A signed Allocate with USERNAME, NONCE and PASSWORD as given, at NOW. */
static void allocate_as(const struct turn_client *client, const char *username, const char *nonce,
			const char *password, uint64_t now)
{
	struct request request;
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	request_credentials(&request, username, nonce);
	request_sign(&request, STUN_INTEGRITY_SHA1, username, password, false);
	request_send(&request, client, now);
}

START_TEST(test_credentials_refused)
{
	struct turn_client client = udp_client(1);
	char nonce[TURN_NONCE_SIZE];

	nonce_for(&client, T0_MS, nonce, sizeof(nonce));
	allocate_as(&client, username_for("alice"), nonce, "wrong-password", T0_MS);
	ck_assert_uint_eq(last_error(), 401);
	ck_assert(refused_with("wrong_credentials", 401));
	/* expired: the username's expiry second has passed on the wall clock */
	nonce_for(&client, T0_MS + 3601 * SECOND, nonce, sizeof(nonce));
	allocate_as(&client, username_for("alice"), nonce, NULL, T0_MS + 3601 * SECOND);
	ck_assert_uint_eq(last_error(), 401);
	ck_assert(refused_with("expired_username", 401));
	struct stun_message answer = last_answer();
	ck_assert_ptr_nonnull(stun_message_find(&answer, STUN_ATTRIBUTE_NONCE));
	/* a bare EXPIRY, as turnutils_uclient -W without -u sends */
	nonce_for(&client, T0_MS, nonce, sizeof(nonce));
	allocate_as(&client, "1700003600", nonce, NULL, T0_MS);
	ck_assert_uint_eq(last_error(), 401);
	ck_assert(refused_with("username_no_colon", 401));
	nonce_for(&client, T0_MS, nonce, sizeof(nonce));
	allocate_as(&client, "17x:alice", nonce, NULL, T0_MS);
	ck_assert(refused_with("username_bad_expiry", 401));
	ck_assert_uint_eq(fake.relay_open_count, 0);
	ck_assert_uint_eq(turn_server_allocations(server), 0);
}
END_TEST

START_TEST(test_nonce_refused)
{
	struct turn_client client = udp_client(1);
	struct turn_client moved = udp_client(1), other_port = udp_client(1);
	char nonce[TURN_NONCE_SIZE];
	moved.five_tuple.client.ip[3]++; /* another address */
	other_port.five_tuple.client.port++;

	nonce_for(&client, T0_MS, nonce, sizeof(nonce));
	allocate_as(&client, username_for("alice"), nonce, NULL, T0_MS + 600 * SECOND);
	ck_assert_uint_eq(last_error(), 438);
	ck_assert(refused_with("stale_nonce", 438));
	struct stun_message answer = last_answer();
	ck_assert_ptr_nonnull(stun_message_find(&answer, STUN_ATTRIBUTE_NONCE));
	ck_assert_ptr_nonnull(stun_message_find(&answer, STUN_ATTRIBUTE_REALM));
	/* still good a millisecond before */
	fake_reset();
	allocate_as(&client, username_for("alice"), nonce, NULL, T0_MS + 599 * SECOND);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	/* from another address, or altered: refused; from another port of the
	 * same address (RFC 6062's data connections, a NAT): good */
	allocate_as(&moved, username_for("alice"), nonce, NULL, T0_MS);
	ck_assert(refused_with("invalid_nonce", 438));
	fake_reset();
	allocate_as(&other_port, username_for("carol"), nonce, NULL, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	nonce[20] = nonce[20] == 'A' ? 'B' : 'A';
	fake_reset();
	allocate_as(&client, username_for("bob"), nonce, NULL, T0_MS);
	ck_assert(refused_with("invalid_nonce", 438));
}
END_TEST

START_TEST(test_missing_credentials)
{
	struct turn_client client = udp_client(1);
	struct request request;
	const char *username = username_for("alice");
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	stun_builder_add_text(&request.builder, STUN_ATTRIBUTE_USERNAME, username);
	request_sign(&request, STUN_INTEGRITY_SHA1, username, NULL, false);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	ck_assert(refused_with("missing_credentials", 400));
}
END_TEST

/* ---- Allocate ---- */

START_TEST(test_allocate_transport)
{
	struct turn_client client = udp_client(1);
	struct turn_client stream = tcp_client(2);
	allocate_with(&client, "alice", 0, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	ck_assert(refused_with("bad_request", 400));
	allocate_with(&client, "alice", 99, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 442);
	/* TCP relays only over a TCP connection (RFC 6062 §5.1) */
	allocate_with(&client, "alice", TURN_TRANSPORT_TCP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 442);
	ck_assert(refused_with("unsupported_transport", 442));
	ck_assert_uint_eq(fake.relay_open_count, 0);
	allocate_with(&stream, "alice", TURN_TRANSPORT_TCP, 0, NULL, 0, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(fake.relay_transport[0], TURN_TRANSPORT_TCP);
	ck_assert_ptr_eq(fake.last_made->connection, stream.connection);
}
END_TEST

/* EVEN-PORT (RFC 8656 §14.6), as coturn's clients send it: an even relay
 * port (the fake hands out 50000, 50001, ... so an odd one is given back
 * and another asked for); reserving the next port is not offered. */
START_TEST(test_allocate_even_port)
{
	struct turn_client first = udp_client(1), second = udp_client(2), third = udp_client(3);
	const uint8_t even[4] = { 0x00 }, reserve[4] = { 0x80 };

	allocate_with(&first, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_EVEN_PORT, even, 1,
		      T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(fake.last_made->relay.port, 50000);
	allocate_with(&second, "bob", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_EVEN_PORT, even, 1, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(fake.last_made->relay.port % 2, 0);
	ck_assert_uint_eq(fake.relay_close_count, 1); /* the odd one went back */
	allocate_with(&third, "carol", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_EVEN_PORT, reserve, 1,
		      T0_MS);
	ck_assert_uint_eq(last_error(), 508);
	ck_assert(refused_with("even_port_reservation", 508));
	ck_assert_uint_eq(turn_server_allocations(server), 2);
}
END_TEST

START_TEST(test_tcp_relays_off)
{
	fixture_stop();
	fixture_settings();
	settings.tcp_relays = false;
	fixture_start();
	struct turn_client stream = tcp_client(2);
	allocate_with(&stream, "alice", TURN_TRANSPORT_TCP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 442);
	allocate_with(&stream, "alice", TURN_TRANSPORT_UDP, 0, NULL, 0, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
}
END_TEST

START_TEST(test_allocate_family)
{
	struct turn_client client = udp_client(1);
	/* no IPv6 relay: refused before any relay is bound */
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x02\0\0\0", 4, T0_MS);
	ck_assert_uint_eq(last_error(), 440);
	ck_assert(refused_with("address_family", 440));
	ck_assert_uint_eq(fake.relay_open_count, 0);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x07\0\0\0", 4, T0_MS);
	ck_assert_uint_eq(last_error(), 440);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x01\0\0\0", 4, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
}
END_TEST

/* A dual-stack edge: REQUESTED-ADDRESS-FAMILY IPv6 binds the IPv6 relay
 * and is told its external address; none is IPv4 (RFC 8656 §7.2). */
START_TEST(test_allocate_ipv6)
{
	fixture_stop();
	fixture_settings();
	settings.relay_ipv6 = true;
	settings.external_address6 = address6("2001:db8:5::5", 0);
	fixture_start();
	struct turn_client client = udp_client(1), other = udp_client(2);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x02\0\0\0", 4, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	struct transport_address relayed = mapped_of(&answer, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	struct transport_address told = address6("2001:db8:5::5", 50000);
	ck_assert(transport_address_equal(&relayed, &told));
	ck_assert_uint_eq(fake.last_made->relay.family, AF_INET6);
	ck_assert_ptr_null(stun_message_find(&answer, STUN_ATTRIBUTE_ADDRESS_ERROR_CODE));
	allocate(&other, "alice", TURN_TRANSPORT_UDP, T0_MS);
	answer = last_answer();
	relayed = mapped_of(&answer, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	told = address4("203.0.113.5", 50001);
	ck_assert(transport_address_equal(&relayed, &told));
	/* without an external address the bound one is told */
	fixture_stop();
	fixture_settings();
	settings.relay_ipv6 = true;
	fixture_start();
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x02\0\0\0", 4, T0_MS);
	answer = last_answer();
	relayed = mapped_of(&answer, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	told = address6("2001:db8::1", 50000);
	ck_assert(transport_address_equal(&relayed, &told));
}
END_TEST

/* An IPv6-only edge has no relay for an Allocate that names no family. */
START_TEST(test_allocate_ipv6_only)
{
	fixture_stop();
	fixture_settings();
	settings.relay_ipv4 = false;
	settings.relay_ipv6 = true;
	memset(&settings.external_address, 0, sizeof(settings.external_address));
	fixture_start();
	struct turn_client client = udp_client(1);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 440);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x01\0\0\0", 4, T0_MS);
	ck_assert_uint_eq(last_error(), 440);
	ck_assert_uint_eq(fake.relay_open_count, 0);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x02\0\0\0", 4, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
}
END_TEST

/* ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §7.2): dual allocation is not
 * offered, so IPv6 gets the IPv4 allocation and ADDRESS-ERROR-CODE 440
 * for IPv6, even with an IPv6 relay; IPv4 there, or beside
 * REQUESTED-ADDRESS-FAMILY, is 400. */
START_TEST(test_allocate_additional_family)
{
	fixture_stop();
	fixture_settings();
	settings.relay_ipv6 = true;
	fixture_start();
	struct turn_client client = udp_client(1);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP,
		      STUN_ATTRIBUTE_ADDITIONAL_ADDRESS_FAMILY, "\x01\0\0\0", 4, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	struct request request;
	signed_start(&request, STUN_METHOD_ALLOCATE, &client, "alice", T0_MS);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY, "\x01\0\0\0",
			 4);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_ADDITIONAL_ADDRESS_FAMILY, "\x02\0\0\0",
			 4);
	signed_send(&request, &client, "alice", T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	ck_assert_uint_eq(fake.relay_open_count, 0);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP,
		      STUN_ATTRIBUTE_ADDITIONAL_ADDRESS_FAMILY, "\x02\0\0\0", 4, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	struct transport_address relayed = mapped_of(&answer, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	ck_assert_uint_eq(relayed.family, AF_INET);
	ck_assert_ptr_null(stun_message_find_next(
		&answer, stun_message_find(&answer, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS),
		STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS));
	const struct stun_attribute *error =
		stun_message_find(&answer, STUN_ATTRIBUTE_ADDRESS_ERROR_CODE);
	ck_assert_ptr_nonnull(error);
	ck_assert_uint_eq(error->length, 4 + strlen("Address Family not Supported"));
	ck_assert_mem_eq(error->value, "\x02\0\x04\x28", 4);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
}
END_TEST

START_TEST(test_allocate_lifetime)
{
	struct turn_client one = udp_client(1), two = udp_client(2);
	allocate_with(&one, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_LIFETIME,
		      "\x00\x01\x00\x00", 4, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_uint_eq(lifetime_of(&answer), 3600); /* cut to max_lifetime */
	allocate_with(&two, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_LIFETIME, "\x00\x00", 2,
		      T0_MS);
	ck_assert_uint_eq(last_error(), 400);
}
END_TEST

START_TEST(test_allocate_quotas)
{
	fixture_stop();
	fixture_settings();
	settings.limits.allocations = 3;
	settings.limits.allocations_per_user = 2;
	fixture_start();
	for (unsigned i = 0; i < 2; i++) {
		struct turn_client client = udp_client(i);
		allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	}
	struct turn_client third = udp_client(2), fourth = udp_client(3);
	allocate_with(&third, "alice", TURN_TRANSPORT_UDP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 486);
	ck_assert(refused_with("user_quota", 486));
	/* the quota counts the user, not the username: a new expiry buys nothing */
	allocate(&third, "bob", TURN_TRANSPORT_UDP, T0_MS);
	allocate_with(&fourth, "carol", TURN_TRANSPORT_UDP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 508);
	ck_assert(refused_with("total_quota", 508));
	ck_assert_uint_eq(fake.relay_open_count, 3);
}
END_TEST

START_TEST(test_allocate_again)
{
	struct turn_client client = udp_client(1);
	struct request request;
	signed_start(&request, STUN_METHOD_ALLOCATE, &client, "alice", T0_MS);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	signed_send(&request, &client, "alice", T0_MS);
	struct stun_message first = last_answer();
	ck_assert_int_eq(first.message_class, STUN_CLASS_SUCCESS);
	/* the same request again, 10 s later: the same success, no new relay */
	request_send(&request, &client, T0_MS + 10 * SECOND);
	struct stun_message again = last_answer();
	ck_assert_int_eq(again.message_class, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(lifetime_of(&again), 590);
	struct transport_address a = mapped_of(&first, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	struct transport_address b = mapped_of(&again, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS);
	ck_assert(transport_address_equal(&a, &b));
	ck_assert_uint_eq(fake.relay_open_count, 1);
	/* a new Allocate on the same 5-tuple */
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 437);
	ck_assert(refused_with("in_use", 437));
	ck_assert(answer_signed((struct stun_message[]){ last_answer() }, STUN_INTEGRITY_SHA1,
				"alice"));
}
END_TEST

START_TEST(test_relay_open_fails)
{
	struct turn_client client = udp_client(1);
	fake.relay_fail = true;
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 508);
	ck_assert(refused_with("no_relay", 508));
	ck_assert_uint_eq(turn_server_allocations(server), 0);
}
END_TEST

START_TEST(test_unknown_after_authentication)
{
	struct turn_client client = udp_client(1);
	struct request request;
	const char token[8] = "reserved";
	/* without credentials a request with RESERVATION-TOKEN is challenged first */
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_RESERVATION_TOKEN, token, sizeof(token));
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(last_error(), 401);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_RESERVATION_TOKEN, token,
		      sizeof(token), T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_uint_eq(answer_error_code(&answer, NULL), 420);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	const struct stun_attribute *unknown =
		stun_message_find(&answer, STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES);
	ck_assert_ptr_nonnull(unknown);
	ck_assert_uint_eq(stun_read16(unknown->value), STUN_ATTRIBUTE_RESERVATION_TOKEN);
	ck_assert_uint_eq(fake.relay_open_count, 0);
}
END_TEST

/* ---- Amplification ---- */

START_TEST(test_amplification)
{
	struct turn_client client = udp_client(1);
	struct turn_client stream = tcp_client(1);
	struct request request;
	/* a bare 20-byte Allocate: its 401 (96 bytes) is over 4 times it */
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 0);
	ck_assert(refused_with("amplification", 0));
	/* over TCP the bound does not apply */
	request_send(&request, &stream, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_eq(last_error(), 401);
	/* every unauthenticated UDP answer stays within 4 times its request */
	fake_reset();
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	size_t length = request_length(&request);
	request_send(&request, &client, T0_MS);
	ck_assert_uint_eq(fake.to_client_count, 1);
	ck_assert_uint_le(fake.to_client[0].size, TURN_SERVER_AMPLIFICATION * length);
}
END_TEST

/* ---- Refresh ---- */

static void refresh(const struct turn_client *client, const char *user, const char *lifetime,
		    uint64_t now)
{
	struct request request;
	signed_start(&request, STUN_METHOD_REFRESH, client, user, now);
	if (lifetime != NULL)
		stun_builder_add(&request.builder, STUN_ATTRIBUTE_LIFETIME, lifetime, 4);
	signed_send(&request, client, user, now);
}

START_TEST(test_refresh)
{
	struct turn_client client = udp_client(1);
	refresh(&client, "alice", NULL, T0_MS);
	ck_assert_uint_eq(last_error(), 437);
	ck_assert(refused_with("no_allocation", 437));
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	refresh(&client, "alice", "\x00\x00\x03\x84", T0_MS + 500 * SECOND); /* 900 s */
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(lifetime_of(&answer), 900);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	/* alive past its first lifetime */
	turn_server_expire(server, T0_MS + 1000 * SECOND);
	ck_assert_uint_eq(turn_server_allocations(server), 1);
	/* another user's credentials on this allocation */
	refresh(&client, "mallory", NULL, T0_MS + 501 * SECOND);
	ck_assert_uint_eq(last_error(), 441);
	ck_assert(refused_with("wrong_allocation_credentials", 441));
	/* the wrong family */
	struct request request;
	signed_start(&request, STUN_METHOD_REFRESH, &client, "alice", T0_MS + 501 * SECOND);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY, "\x02\0\0\0",
			 4);
	signed_send(&request, &client, "alice", T0_MS + 501 * SECOND);
	ck_assert_uint_eq(last_error(), 443);
	/* 0 deletes */
	refresh(&client, "alice", "\0\0\0\0", T0_MS + 502 * SECOND);
	answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(lifetime_of(&answer), 0);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	ck_assert_uint_eq(turn_server_allocations(server), 0);
	ck_assert_uint_eq(fake.relay_close_count, 1);
	ck_assert_ptr_eq(fake.last_closed, &fake.relays[0]);
	ck_assert_str_eq(fake.last_end, "refreshed_to_zero");
}
END_TEST

/* ---- Permissions and channels ---- */

static void create_permission(const struct turn_client *client, const char *user,
			      const struct transport_address *peers, size_t count, uint64_t now)
{
	struct request request;
	signed_start(&request, STUN_METHOD_CREATE_PERMISSION, client, user, now);
	for (size_t i = 0; i < count; i++)
		request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &peers[i]);
	signed_send(&request, client, user, now);
}

static void channel_bind(const struct turn_client *client, uint16_t channel,
			 const struct transport_address *peer, uint64_t now)
{
	struct request request;
	uint8_t number[4] = { (uint8_t)(channel >> 8), (uint8_t)channel, 0, 0 };
	signed_start(&request, STUN_METHOD_CHANNEL_BIND, client, "alice", now);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_CHANNEL_NUMBER, number, 4);
	if (peer != NULL)
		request_add_address(&request, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, peer);
	signed_send(&request, client, "alice", now);
}

START_TEST(test_create_permission)
{
	struct turn_client client = udp_client(1);
	struct transport_address peers[5] = {
		address4("1.2.3.4", 1000), address4("5.6.7.8", 2000), address4("9.9.9.9", 1),
		address4("8.8.4.4", 1),	   address4("4.4.4.4", 1),
	};
	create_permission(&client, "alice", peers, 1, T0_MS);
	ck_assert_uint_eq(last_error(), 437);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	create_permission(&client, "alice", peers, 2, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	create_permission(&client, "alice", NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	/* a refused peer refuses the whole request, named */
	struct transport_address mixed[2] = { peers[2], address4("127.0.0.1", 3480) };
	create_permission(&client, "alice", mixed, 2, T0_MS);
	size_t phrase_length;
	answer = last_answer();
	ck_assert_uint_eq(answer_error_code(&answer, &phrase_length), 403);
	const struct stun_attribute *error = stun_message_find(&answer, STUN_ATTRIBUTE_ERROR_CODE);
	ck_assert_uint_eq(phrase_length, strlen("loopback"));
	ck_assert_mem_eq(error->value + 4, "loopback", phrase_length);
	ck_assert(refused_with("peer_loopback", 403));
	struct transport_address mapped = address6("::ffff:10.1.2.3", 1);
	create_permission(&client, "alice", &mapped, 1, T0_MS);
	ck_assert_uint_eq(last_error(), 443); /* an IPv6 peer on an IPv4 relay */
	/* the limit is 4: two held, three more are too many */
	create_permission(&client, "alice", peers + 2, 3, T0_MS);
	ck_assert_uint_eq(last_error(), 508);
	ck_assert(refused_with("permission_limit", 508));
}
END_TEST

/* On an IPv6 relay: an IPv4 peer is 443 for CreatePermission and
 * ChannelBind; the policy refuses loopback, link-local, unique-local and
 * an IPv4-mapped private address; the edge's own relay ports, on the
 * relay or the external address, are other allocations (allowed). */
START_TEST(test_ipv6_relay_peers)
{
	fixture_stop();
	fixture_settings();
	settings.relay_ipv6 = true;
	settings.external_address6 = address6("2001:db8:5::5", 0);
	fixture_start();
	struct turn_client client = udp_client(1);
	allocate_with(&client, "alice", TURN_TRANSPORT_UDP, STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
		      "\x02\0\0\0", 4, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	struct transport_address ipv4 = address4("8.8.8.8", 1000);
	create_permission(&client, "alice", &ipv4, 1, T0_MS);
	ck_assert_uint_eq(last_error(), 443);
	ck_assert(refused_with("peer_address_family", 443));
	channel_bind(&client, 0x4000, &ipv4, T0_MS);
	ck_assert_uint_eq(last_error(), 443);
	static const char *const refused[][2] = {
		{ "::1", "peer_loopback" },
		{ "fe80::1", "peer_link_local" },
		{ "fd00::1", "peer_unique_local" },
		{ "::ffff:10.0.0.1", "peer_private" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct transport_address peer = address6(refused[i][0], 1000);
		create_permission(&client, "alice", &peer, 1, T0_MS);
		ck_assert_msg(last_error() == 403, "%s", refused[i][0]);
		ck_assert_msg(refused_with(refused[i][1], 403), "%s", refused[i][0]);
	}
	struct transport_address peers[3] = {
		address6("2001:4860::8888", 1000),
		address6("2001:db8::1", 50007), /* the relay address, a relay port */
		address6("2001:db8:5::5", 50008), /* the external one */
	};
	create_permission(&client, "alice", peers, 3, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	channel_bind(&client, 0x4000, &peers[0], T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	struct transport_address service = address6("2001:db8:5::5", 5060);
	create_permission(&client, "alice", &service, 1, T0_MS);
	ck_assert_uint_eq(last_error(), 403);
}
END_TEST

START_TEST(test_allowed_peer)
{
	struct peer_prefix allowed;
	ck_assert_int_eq(peer_prefix_parse("127.0.0.0/8", 11, &allowed), PEER_PREFIX_OK);
	policy.allowed = &allowed;
	policy.allowed_count = 1;
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("127.0.0.1", 3480);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	create_permission(&client, "alice", &peer, 1, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
}
END_TEST

START_TEST(test_channel_bind)
{
	struct turn_client client = udp_client(1);
	struct transport_address peer = address4("1.2.3.4", 1000);
	struct transport_address other = address4("5.6.7.8", 1000);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	channel_bind(&client, 0x4000, &peer, T0_MS);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	channel_bind(&client, 0x4000, &peer, T0_MS); /* again: a refresh */
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	channel_bind(&client, 0x4000, &other, T0_MS);
	ck_assert_uint_eq(last_error(), 400);
	ck_assert(refused_with("channel_taken", 400));
	channel_bind(&client, 0x4001, &peer, T0_MS);
	ck_assert(refused_with("peer_has_channel", 400));
	channel_bind(&client, 0x3FFF, &other, T0_MS);
	ck_assert(refused_with("channel_number", 400));
	channel_bind(&client, 0x4002, NULL, T0_MS);
	ck_assert(refused_with("bad_request", 400));
	struct transport_address private_peer = address4("10.0.0.1", 1);
	channel_bind(&client, 0x4002, &private_peer, T0_MS);
	ck_assert_uint_eq(last_error(), 403);
	ck_assert(refused_with("peer_private", 403));
}
END_TEST

START_TEST(test_channel_limit)
{
	struct turn_client client = udp_client(1);
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	for (unsigned i = 0; i < 4; i++) {
		char text[16];
		snprintf(text, sizeof(text), "1.2.3.%u", i + 1);
		struct transport_address peer = address4(text, 1000);
		channel_bind(&client, (uint16_t)(0x4000 + i), &peer, T0_MS);
		ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	}
	struct transport_address peer = address4("1.2.3.9", 1000);
	channel_bind(&client, 0x4009, &peer, T0_MS);
	ck_assert_uint_eq(last_error(), 508);
}
END_TEST

/* ---- A reload ---- */

/* The server takes the settings as the test has changed them. */
static void reload(void)
{
	struct turn_server_change *change = turn_server_change_new(&settings);
	ck_assert_ptr_nonnull(change);
	turn_server_change_apply(server, change);
}

#define NEW_SECRET "another-shared-secret-4567"

/* A new shared secret: the allocation made before goes on with the
 * credentials it was made with (Refresh, CreatePermission), and only with
 * those; a new Allocate needs credentials made with the new secret. */
START_TEST(test_reload_secret)
{
	struct turn_client old = udp_client(1), fresh = udp_client(2);
	struct transport_address peer = address4("1.2.3.4", 1000);

	allocate(&old, "alice", TURN_TRANSPORT_UDP, T0_MS);
	settings.secret = (const uint8_t *)NEW_SECRET;
	settings.secret_length = strlen(NEW_SECRET);
	reload();
	refresh(&old, "alice", NULL, T0_MS + SECOND);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	ck_assert(answer_signed(&answer, STUN_INTEGRITY_SHA1, "alice"));
	create_permission(&old, "alice", &peer, 1, T0_MS + SECOND);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	/* the old credentials make no new allocation */
	struct request request;
	signed_start(&request, STUN_METHOD_ALLOCATE, &fresh, "alice", T0_MS + SECOND);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	signed_send(&request, &fresh, "alice", T0_MS + SECOND);
	ck_assert_uint_eq(last_error(), 401);
	ck_assert(refused_with("wrong_credentials", 401));
	/* the new ones do, and are not the old allocation's */
	client_secret = NEW_SECRET;
	allocate(&fresh, "alice", TURN_TRANSPORT_UDP, T0_MS + SECOND);
	ck_assert_uint_eq(turn_server_allocations(server), 2);
	refresh(&old, "alice", NULL, T0_MS + 2 * SECOND);
	ck_assert_uint_eq(last_error(), 441);
	ck_assert(refused_with("wrong_allocation_credentials", 441));
}
END_TEST

/* New quotas hold for the next Allocate; what is held beyond them stays. */
START_TEST(test_reload_quota)
{
	struct turn_client first = udp_client(1), second = udp_client(2), third = udp_client(3);

	allocate(&first, "alice", TURN_TRANSPORT_UDP, T0_MS);
	allocate(&second, "alice", TURN_TRANSPORT_UDP, T0_MS);
	settings.limits.allocations_per_user = 1;
	reload();
	allocate_with(&third, "alice", TURN_TRANSPORT_UDP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 486);
	ck_assert(refused_with("user_quota", 486));
	allocate(&third, "bob", TURN_TRANSPORT_UDP, T0_MS);
	refresh(&second, "alice", NULL, T0_MS + SECOND);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(turn_server_allocations(server), 3);
}
END_TEST

/* The peer policy and the relay settings are the new ones for every
 * request: a peer no longer allowed gets 403 from the old allocation too,
 * and RFC 6062 allocations stop with tcp_relays off. */
START_TEST(test_reload_policy)
{
	struct turn_client client = udp_client(1), tcp = tcp_client(2);
	struct transport_address loopback = address4("127.0.0.1", 1000);
	struct peer_prefix allowed;
	struct peer_policy allowing = { .allowed = &allowed, .allowed_count = 1 };

	ck_assert_int_eq(peer_prefix_parse("127.0.0.1", 9, &allowed), PEER_PREFIX_OK);
	settings.peer_policy = &allowing;
	reload();
	allocate(&client, "alice", TURN_TRANSPORT_UDP, T0_MS);
	create_permission(&client, "alice", &loopback, 1, T0_MS);
	ck_assert_int_eq(last_answer().message_class, STUN_CLASS_SUCCESS);
	settings.peer_policy = &policy;
	settings.tcp_relays = false;
	reload();
	create_permission(&client, "alice", &loopback, 1, T0_MS);
	ck_assert_uint_eq(last_error(), 403);
	allocate_with(&tcp, "bob", TURN_TRANSPORT_TCP, 0, NULL, 0, T0_MS);
	ck_assert_uint_eq(last_error(), 442);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("turn_server");
	TCase *binding = tcase_create("binding");
	tcase_add_checked_fixture(binding, setup, teardown);
	tcase_add_test(binding, test_binding_udp);
	tcase_add_test(binding, test_binding_tcp_and_fingerprint);
	tcase_add_test(binding, test_binding_unknown_attribute);
	tcase_add_test(binding, test_dropped);
	tcase_add_test(binding, test_unknown_method);
	suite_add_tcase(suite, binding);

	TCase *authentication = tcase_create("authentication");
	tcase_add_checked_fixture(authentication, setup, teardown);
	tcase_add_test(authentication, test_challenge);
	tcase_add_test(authentication, test_sha256_integrity_answered_alike);
	tcase_add_test(authentication, test_credentials_refused);
	tcase_add_test(authentication, test_nonce_refused);
	tcase_add_test(authentication, test_missing_credentials);
	tcase_add_test(authentication, test_amplification);
	suite_add_tcase(suite, authentication);

	TCase *allocations = tcase_create("allocate");
	tcase_add_checked_fixture(allocations, setup, teardown);
	tcase_add_test(allocations, test_allocate_success);
	tcase_add_test(allocations, test_allocate_without_external_address);
	tcase_add_test(allocations, test_allocate_transport);
	tcase_add_test(allocations, test_allocate_even_port);
	tcase_add_test(allocations, test_tcp_relays_off);
	tcase_add_test(allocations, test_allocate_family);
	tcase_add_test(allocations, test_allocate_ipv6);
	tcase_add_test(allocations, test_allocate_ipv6_only);
	tcase_add_test(allocations, test_allocate_additional_family);
	tcase_add_test(allocations, test_allocate_lifetime);
	tcase_add_test(allocations, test_allocate_quotas);
	tcase_add_test(allocations, test_allocate_again);
	tcase_add_test(allocations, test_relay_open_fails);
	tcase_add_test(allocations, test_unknown_after_authentication);
	tcase_add_test(allocations, test_refresh);
	suite_add_tcase(suite, allocations);

	TCase *permissions = tcase_create("permissions");
	tcase_add_checked_fixture(permissions, setup, teardown);
	tcase_add_test(permissions, test_create_permission);
	tcase_add_test(permissions, test_allowed_peer);
	tcase_add_test(permissions, test_ipv6_relay_peers);
	tcase_add_test(permissions, test_channel_bind);
	tcase_add_test(permissions, test_channel_limit);
	suite_add_tcase(suite, permissions);

	TCase *reloads = tcase_create("reload");
	tcase_add_checked_fixture(reloads, setup, teardown);
	tcase_add_test(reloads, test_reload_secret);
	tcase_add_test(reloads, test_reload_quota);
	tcase_add_test(reloads, test_reload_policy);
	suite_add_tcase(suite, reloads);
	return test_suite_run(suite);
}
