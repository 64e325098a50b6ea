/* SPDX-License-Identifier: ISC */
/* Unit tests for stun_attribute: the XOR-MAPPED-ADDRESS of the RFC 5769
 * responses decoded and encoded again, every address type and family, and
 * the refusals of each value decoder. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "stun_attribute.h"
#include "test_stun.h"
#include "test_suite.h"

static struct stun_message parse_vector(const uint8_t *bytes, size_t length)
{
	struct stun_message message;
	ck_assert_int_eq(stun_message_parse(bytes, length, &message), STUN_PARSE_OK);
	return message;
}

static struct sockaddr_storage ipv4(const char *text, uint16_t port)
{
	struct sockaddr_storage address = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&address;
	in4->sin_family = AF_INET;
	in4->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, text, &in4->sin_addr), 1);
	return address;
}

static struct sockaddr_storage ipv6(const char *text, uint16_t port)
{
	struct sockaddr_storage address = { 0 };
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	return address;
}

static void assert_same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	ck_assert_int_eq(a->ss_family, b->ss_family);
	size_t size =
		a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	ck_assert_mem_eq(a, b, size);
}

/* Addresses */

START_TEST(test_xor_mapped_ipv4_vector)
{
	struct stun_message message =
		parse_vector(rfc5769_response_ipv4, sizeof(rfc5769_response_ipv4));
	const struct stun_attribute *attribute =
		stun_message_find(&message, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS);
	struct sockaddr_storage decoded;
	struct sockaddr_storage expected = ipv4(RFC5769_MAPPED_IPV4, RFC5769_MAPPED_PORT);
	uint8_t encoded[STUN_ADDRESS_VALUE_MAX];

	ck_assert(stun_attribute_address(&message, attribute, &decoded));
	assert_same_address(&decoded, &expected);
	ck_assert_uint_eq(stun_address_encode(STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &expected,
					      message.transaction_id, encoded),
			  8);
	ck_assert_mem_eq(encoded, attribute->value, 8);
}
END_TEST

START_TEST(test_xor_mapped_ipv6_vector)
{
	struct stun_message message =
		parse_vector(rfc5769_response_ipv6, sizeof(rfc5769_response_ipv6));
	const struct stun_attribute *attribute =
		stun_message_find(&message, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS);
	struct sockaddr_storage decoded;
	struct sockaddr_storage expected = ipv6(RFC5769_MAPPED_IPV6, RFC5769_MAPPED_PORT);
	uint8_t encoded[STUN_ADDRESS_VALUE_MAX];

	ck_assert(stun_attribute_address(&message, attribute, &decoded));
	assert_same_address(&decoded, &expected);
	ck_assert_uint_eq(stun_address_encode(STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &expected,
					      message.transaction_id, encoded),
			  20);
	ck_assert_mem_eq(encoded, attribute->value, 20);
}
END_TEST

/* Each address type, both families: encoded, put in a message, decoded. */
START_TEST(test_address_types_round_trip)
{
	static const uint16_t types[] = {
		STUN_ATTRIBUTE_MAPPED_ADDRESS,	 STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
		STUN_ATTRIBUTE_XOR_PEER_ADDRESS, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS,
		STUN_ATTRIBUTE_ALTERNATE_SERVER,
	};
	struct sockaddr_storage addresses[] = {
		ipv4("203.0.113.7", 50001),
		ipv4("0.0.0.0", 0),
		ipv6("2001:db8::1", 3478),
		ipv6("::ffff:198.51.100.2", 65535),
	};

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (size_t a = 0; a < sizeof(addresses) / sizeof(addresses[0]); a++) {
			struct raw_message raw;
			struct stun_message message;
			struct sockaddr_storage decoded;
			uint8_t value[STUN_ADDRESS_VALUE_MAX];

			raw_start(&raw, 0x0101);
			size_t length =
				stun_address_encode(types[t], &addresses[a], raw.bytes + 8, value);
			raw_attribute(&raw, types[t], (uint16_t)length, value);
			raw_finish(&raw);
			ck_assert_int_eq(stun_message_parse(raw.bytes, raw.length, &message),
					 STUN_PARSE_OK);
			ck_assert(
				stun_attribute_address(&message, &message.attributes[0], &decoded));
			assert_same_address(&decoded, &addresses[a]);
			/* The xor'ed forms do not carry the address in clear. */
			bool xored = stun_attribute_is_xor_address(types[t]);
			const struct sockaddr_in *in4 = (const struct sockaddr_in *)&addresses[a];
			if (addresses[a].ss_family == AF_INET)
				ck_assert_int_eq(memcmp(value + 4, &in4->sin_addr, 4) != 0, xored);
		}
	}
}
END_TEST

START_TEST(test_address_refusals)
{
	struct raw_message raw;
	struct stun_message message;
	struct sockaddr_storage decoded;
	static const uint8_t zeros[24];
	uint8_t value[24] = { 0 };
	static const struct {
		uint8_t family;
		uint16_t length;
	} bad[] = {
		{ 0x01, 0 },  { 0x01, 4 },  { 0x01, 7 }, { 0x01, 12 }, { 0x01, 20 }, { 0x02, 8 },
		{ 0x02, 19 }, { 0x02, 24 }, { 0x00, 8 }, { 0x03, 8 },  { 0x03, 20 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_start(&raw, 0x0001);
		value[1] = bad[i].family;
		raw_attribute(&raw, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, bad[i].length, value);
		raw_finish(&raw);
		ck_assert_int_eq(stun_message_parse(raw.bytes, raw.length, &message),
				 STUN_PARSE_OK);
		ck_assert(!stun_attribute_address(&message, &message.attributes[0], &decoded));
	}
	struct sockaddr_storage unix_address = { .ss_family = AF_UNIX };
	ck_assert_uint_eq(
		stun_address_encode(STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &unix_address, zeros, value),
		0);
}
END_TEST

/* Other values */

static struct stun_attribute attribute_of(uint16_t type, const void *value, uint16_t length)
{
	return (struct stun_attribute){ .type = type, .length = length, .value = value };
}

START_TEST(test_numbers)
{
	uint32_t u32;
	uint16_t channel;
	uint8_t protocol;
	struct stun_attribute attribute;

	attribute = attribute_of(STUN_ATTRIBUTE_LIFETIME, "\x00\x00\x02\x58", 4);
	ck_assert(stun_attribute_u32(&attribute, &u32));
	ck_assert_uint_eq(u32, 600);
	attribute.length = 3;
	ck_assert(!stun_attribute_u32(&attribute, &u32));
	attribute.length = 8;
	ck_assert(!stun_attribute_u32(&attribute, &u32));

	attribute = attribute_of(STUN_ATTRIBUTE_CHANNEL_NUMBER, "\x40\x01\xff\xff", 4);
	ck_assert(stun_attribute_channel_number(&attribute, &channel));
	ck_assert_uint_eq(channel, 0x4001);
	attribute.length = 2;
	ck_assert(!stun_attribute_channel_number(&attribute, &channel));

	attribute = attribute_of(STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\x00\x00\x00", 4);
	ck_assert(stun_attribute_requested_transport(&attribute, &protocol));
	ck_assert_uint_eq(protocol, STUN_TRANSPORT_UDP);
	attribute = attribute_of(STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x06\x00\x00\x00", 4);
	ck_assert(stun_attribute_requested_transport(&attribute, &protocol));
	ck_assert_uint_eq(protocol, STUN_TRANSPORT_TCP);
	attribute.length = 1;
	ck_assert(!stun_attribute_requested_transport(&attribute, &protocol));
}
END_TEST

START_TEST(test_family_and_even_port)
{
	int family;
	bool reserve;
	struct stun_attribute attribute;

	attribute = attribute_of(STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY, "\x01\x00\x00\x00", 4);
	ck_assert(stun_attribute_address_family(&attribute, &family));
	ck_assert_int_eq(family, AF_INET);
	attribute = attribute_of(STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY, "\x02\x00\x00\x00", 4);
	ck_assert(stun_attribute_address_family(&attribute, &family));
	ck_assert_int_eq(family, AF_INET6);
	attribute = attribute_of(STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY, "\x03\x00\x00\x00", 4);
	ck_assert(!stun_attribute_address_family(&attribute, &family));
	attribute = attribute_of(STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY, "\x01\x00", 2);
	ck_assert(!stun_attribute_address_family(&attribute, &family));

	attribute = attribute_of(STUN_ATTRIBUTE_EVEN_PORT, "\x80", 1);
	ck_assert(stun_attribute_even_port(&attribute, &reserve));
	ck_assert(reserve);
	attribute = attribute_of(STUN_ATTRIBUTE_EVEN_PORT, "\x7f", 1);
	ck_assert(stun_attribute_even_port(&attribute, &reserve));
	ck_assert(!reserve);
	attribute = attribute_of(STUN_ATTRIBUTE_EVEN_PORT, "\x80\x00\x00\x00", 4);
	ck_assert(!stun_attribute_even_port(&attribute, &reserve));
}
END_TEST

START_TEST(test_error_code)
{
	unsigned code;
	const uint8_t *reason;
	size_t reason_length;
	struct stun_attribute attribute;

	attribute = attribute_of(STUN_ATTRIBUTE_ERROR_CODE,
				 "\x00\x00\x04\x56"
				 "Allocation Quota",
				 20);
	ck_assert(stun_attribute_error_code(&attribute, &code, &reason, &reason_length));
	ck_assert_uint_eq(code, 486);
	ck_assert_uint_eq(reason_length, 16);
	ck_assert_mem_eq(reason, "Allocation Quota", 16);

	attribute = attribute_of(STUN_ATTRIBUTE_ERROR_CODE, "\x00\x00\x03\x00", 4);
	ck_assert(stun_attribute_error_code(&attribute, &code, &reason, &reason_length));
	ck_assert_uint_eq(code, 300);
	ck_assert_uint_eq(reason_length, 0);
	attribute = attribute_of(STUN_ATTRIBUTE_ERROR_CODE, "\x00\x00\x06\x63", 4);
	ck_assert(stun_attribute_error_code(&attribute, &code, &reason, &reason_length));
	ck_assert_uint_eq(code, 699);

	static const char *const bad[] = { "\x00\x00\x02\x00", "\x00\x00\x07\x00",
					   "\x00\x00\x04\x64" };
	for (size_t i = 0; i < 3; i++) {
		attribute = attribute_of(STUN_ATTRIBUTE_ERROR_CODE, bad[i], 4);
		ck_assert(!stun_attribute_error_code(&attribute, &code, &reason, &reason_length));
	}
	attribute = attribute_of(STUN_ATTRIBUTE_ERROR_CODE, "\x00\x00\x04", 3);
	ck_assert(!stun_attribute_error_code(&attribute, &code, &reason, &reason_length));
	static const uint8_t long_reason[4 + STUN_TEXT_BYTES_MAX + 1] = { 0, 0, 4, 0 };
	attribute = attribute_of(STUN_ATTRIBUTE_ERROR_CODE, long_reason, sizeof(long_reason));
	ck_assert(!stun_attribute_error_code(&attribute, &code, &reason, &reason_length));
	attribute.length--;
	ck_assert(stun_attribute_error_code(&attribute, &code, &reason, &reason_length));
}
END_TEST

START_TEST(test_error_phrases)
{
	ck_assert_str_eq(stun_error_phrase(401), "Unauthenticated");
	ck_assert_str_eq(stun_error_phrase(420), "Unknown Attribute");
	ck_assert_str_eq(stun_error_phrase(438), "Stale Nonce");
	ck_assert_str_eq(stun_error_phrase(486), "Allocation Quota Reached");
	ck_assert_str_eq(stun_error_phrase(447), "Connection Timeout or Failure");
	ck_assert_ptr_null(stun_error_phrase(499));
}
END_TEST

static Suite *stun_attribute_suite(void)
{
	Suite *suite = suite_create("stun_attribute");
	TCase *addresses = tcase_create("addresses");
	tcase_add_test(addresses, test_xor_mapped_ipv4_vector);
	tcase_add_test(addresses, test_xor_mapped_ipv6_vector);
	tcase_add_test(addresses, test_address_types_round_trip);
	tcase_add_test(addresses, test_address_refusals);
	suite_add_tcase(suite, addresses);
	TCase *values = tcase_create("values");
	tcase_add_test(values, test_numbers);
	tcase_add_test(values, test_family_and_even_port);
	tcase_add_test(values, test_error_code);
	tcase_add_test(values, test_error_phrases);
	suite_add_tcase(suite, values);
	return suite;
}

int main(void)
{
	return test_suite_run(stun_attribute_suite());
}
