/* SPDX-License-Identifier: ISC */
/* Unit tests for stun_builder: the RFC 5769 long-term request and RFC 8489
 * B.1's SHA-256 request rebuilt byte for byte, the IPv4 response rebuilt up to its sender's padding, the
 * answers a TURN server sends (success with addresses and LIFETIME, 401
 * with REALM and NONCE, 420 with UNKNOWN-ATTRIBUTES) read back, and every
 * refusal: no room at each step, out of order, bad values. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "channel_data.h"
#include "stun_attribute.h"
#include "stun_builder.h"
#include "stun_framing.h"
#include "test_stun.h"
#include "test_allocator.h"
#include "test_suite.h"

static struct stun_hmac hmac;

static void setup(void)
{
	ck_assert_int_eq(stun_hmac_init(&hmac), 0);
}

static void teardown(void)
{
	stun_hmac_clear(&hmac);
}

static const uint8_t *password = (const uint8_t *)RFC5769_PASSWORD;
static const size_t password_length = sizeof(RFC5769_PASSWORD) - 1;

static struct sockaddr_storage address_of(const char *text, uint16_t port)
{
	struct sockaddr_storage address = { 0 };
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&address;
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, text, &in4->sin_addr), 1);
	}
	return address;
}

static struct stun_message parse_built(const struct stun_builder *builder)
{
	struct stun_message message;
	size_t length = stun_builder_finish(builder);
	ck_assert_uint_gt(length, 0);
	ck_assert_int_eq(stun_message_parse(builder->buffer, length, &message), STUN_PARSE_OK);
	return message;
}

/* The RFC 5769 vectors rebuilt */

START_TEST(test_long_term_request_rebuilt)
{
	struct stun_builder builder;
	uint8_t buffer[256];
	uint8_t key[16];

	rfc5769_long_term_key(key);
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_REQUEST, rfc5769_long_term_transaction_id);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_USERNAME, RFC5769_LONG_TERM_USERNAME);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_NONCE, RFC5769_LONG_TERM_NONCE);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_REALM, RFC5769_LONG_TERM_REALM);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, key, sizeof(key));
	ck_assert_uint_eq(stun_builder_finish(&builder), sizeof(rfc5769_long_term_request));
	ck_assert_mem_eq(buffer, rfc5769_long_term_request, sizeof(rfc5769_long_term_request));
}
END_TEST

START_TEST(test_sha256_request_rebuilt)
{
	struct stun_builder builder;
	uint8_t buffer[256];
	uint8_t key[32];
	struct stun_message vector;

	rfc8489_sha256_key(key);
	ck_assert_int_eq(
		stun_message_parse(rfc8489_sha256_request, sizeof(rfc8489_sha256_request), &vector),
		STUN_PARSE_OK);
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_REQUEST, rfc5769_long_term_transaction_id);
	const struct stun_attribute *userhash = stun_message_find(&vector, STUN_ATTRIBUTE_USERHASH);
	stun_builder_add(&builder, STUN_ATTRIBUTE_USERHASH, userhash->value, userhash->length);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_NONCE, RFC8489_NONCE);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_REALM, RFC5769_LONG_TERM_REALM);
	stun_builder_add(&builder, STUN_ATTRIBUTE_PASSWORD_ALGORITHM, "\x00\x02\x00\x00", 4);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA256, key, sizeof(key));
	ck_assert_uint_eq(stun_builder_finish(&builder), sizeof(rfc8489_sha256_request));
	ck_assert_mem_eq(buffer, rfc8489_sha256_request, sizeof(rfc8489_sha256_request));
}
END_TEST

START_TEST(test_ipv4_response_rebuilt)
{
	struct stun_builder builder;
	uint8_t buffer[256];
	struct sockaddr_storage mapped = address_of(RFC5769_MAPPED_IPV4, RFC5769_MAPPED_PORT);

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_SUCCESS, rfc5769_transaction_id);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_SOFTWARE, RFC5769_SERVER_SOFTWARE);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &mapped);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, password, password_length);
	stun_builder_add_fingerprint(&builder);
	ck_assert_uint_eq(stun_builder_finish(&builder), sizeof(rfc5769_response_ipv4));
	/* The same bytes but for the padding after SOFTWARE, which the RFC's
	 * sender made a space and the builder makes zero... */
	ck_assert_mem_eq(buffer, rfc5769_response_ipv4, 35);
	ck_assert_uint_eq(buffer[35], 0);
	ck_assert_mem_eq(buffer + 36, rfc5769_response_ipv4 + 36, 16);
	/* ...so integrity and fingerprint are those of these bytes. */
	struct stun_message message = parse_built(&builder);
	ck_assert_int_eq(stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA1, password,
					      password_length),
			 STUN_INTEGRITY_VALID);
	ck_assert_int_eq(message.fingerprint, 3);
}
END_TEST

/* The answers of a TURN server */

START_TEST(test_allocate_success)
{
	struct stun_builder builder;
	uint8_t buffer[512];
	uint8_t key[16] = "0123456789abcde";
	struct sockaddr_storage relayed = address_of("203.0.113.1", 50000);
	struct sockaddr_storage mapped = address_of("2001:db8::7", 61000);
	struct sockaddr_storage decoded;
	struct stun_message request;
	uint32_t lifetime;

	ck_assert_int_eq(stun_message_parse(rfc5769_long_term_request,
					    sizeof(rfc5769_long_term_request), &request),
			 STUN_PARSE_OK);
	stun_builder_start_response(&builder, buffer, sizeof(buffer), &request, STUN_CLASS_SUCCESS);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS, &relayed);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &mapped);
	stun_builder_add_u32(&builder, STUN_ATTRIBUTE_LIFETIME, 600);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, key, sizeof(key));
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA256, key, sizeof(key));
	stun_builder_add_fingerprint(&builder);

	struct stun_message message = parse_built(&builder);
	ck_assert_uint_eq(message.method, STUN_METHOD_BINDING);
	ck_assert_int_eq(message.message_class, STUN_CLASS_SUCCESS);
	ck_assert_mem_eq(message.transaction_id, rfc5769_long_term_transaction_id, 12);
	ck_assert(stun_attribute_address(
		&message, stun_message_find(&message, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS),
		&decoded));
	ck_assert_mem_eq(&decoded, &relayed, sizeof(struct sockaddr_in));
	ck_assert(stun_attribute_address(
		&message, stun_message_find(&message, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS),
		&decoded));
	ck_assert_mem_eq(&decoded, &mapped, sizeof(struct sockaddr_in6));
	ck_assert(stun_attribute_u32(stun_message_find(&message, STUN_ATTRIBUTE_LIFETIME),
				     &lifetime));
	ck_assert_uint_eq(lifetime, 600);
	ck_assert_int_eq(
		stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA1, key, sizeof(key)),
		STUN_INTEGRITY_VALID);
	ck_assert_int_eq(
		stun_integrity_check(&hmac, &message, STUN_INTEGRITY_SHA256, key, sizeof(key)),
		STUN_INTEGRITY_VALID);
	ck_assert_uint_eq(message.attributes[message.integrity_sha256].length, 32);
	ck_assert_int_eq(message.fingerprint, 5);
}
END_TEST

START_TEST(test_unauthenticated_error)
{
	struct stun_builder builder;
	uint8_t buffer[256];
	unsigned code;
	const uint8_t *reason;
	size_t reason_length;

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR,
			   rfc5769_transaction_id);
	stun_builder_add_error_code(&builder, 401, NULL);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_REALM, "example.test");
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_NONCE, "nonce-1");
	struct stun_message message = parse_built(&builder);
	ck_assert_uint_eq(stun_read16(buffer), 0x0113);
	const struct stun_attribute *error = stun_message_find(&message, STUN_ATTRIBUTE_ERROR_CODE);
	ck_assert_mem_eq(error->value, "\x00\x00\x04\x01", 4);
	ck_assert(stun_attribute_error_code(error, &code, &reason, &reason_length));
	ck_assert_uint_eq(code, 401);
	ck_assert_uint_eq(reason_length, strlen("Unauthenticated"));
	ck_assert_mem_eq(reason, "Unauthenticated", reason_length);
	ck_assert_uint_eq(stun_message_find(&message, STUN_ATTRIBUTE_NONCE)->length, 7);
	/* Padding written as zeros. */
	ck_assert_mem_eq(stun_message_find(&message, STUN_ATTRIBUTE_NONCE)->value + 7, "\0", 1);

	/* A phrase of the caller's own. */
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR,
			   rfc5769_transaction_id);
	stun_builder_add_error_code(&builder, 403, "Peer Not Allowed");
	message = parse_built(&builder);
	ck_assert(stun_attribute_error_code(stun_message_find(&message, STUN_ATTRIBUTE_ERROR_CODE),
					    &code, &reason, &reason_length));
	ck_assert_uint_eq(code, 403);
	ck_assert_mem_eq(reason, "Peer Not Allowed", reason_length);
}
END_TEST

START_TEST(test_unknown_attributes_error)
{
	struct stun_builder builder;
	uint8_t buffer[256];
	static const uint16_t unknown[] = { 0x0024, 0x7FFF, 0x0031 };

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING, STUN_CLASS_ERROR,
			   rfc5769_transaction_id);
	stun_builder_add_error_code(&builder, 420, NULL);
	stun_builder_add_unknown_attributes(&builder, unknown, 3);
	struct stun_message message = parse_built(&builder);
	const struct stun_attribute *list =
		stun_message_find(&message, STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES);
	ck_assert_uint_eq(list->length, 6);
	ck_assert_mem_eq(list->value, "\x00\x24\x7f\xff\x00\x31\x00\x00", 8);
	/* ERROR-CODE: 4 bytes and "Unknown Attribute" (17) padded to 24. */
	ck_assert_uint_eq(stun_builder_finish(&builder), STUN_HEADER_SIZE + 4 + 24 + 4 + 8);
}
END_TEST

/* The answer built over the request it answers, in the same buffer. */
START_TEST(test_response_in_place)
{
	struct stun_builder builder;
	uint8_t buffer[sizeof(rfc5769_request)];
	struct stun_message request;

	memcpy(buffer, rfc5769_request, sizeof(buffer));
	ck_assert_int_eq(stun_message_parse(buffer, sizeof(buffer), &request), STUN_PARSE_OK);
	stun_builder_start_response(&builder, buffer, sizeof(buffer), &request, STUN_CLASS_ERROR);
	stun_builder_add_error_code(&builder, 400, NULL);
	struct stun_message message = parse_built(&builder);
	ck_assert_mem_eq(message.transaction_id, rfc5769_transaction_id, 12);
	ck_assert_uint_eq(stun_read16(buffer), 0x0111);
}
END_TEST

/* A Data indication built around data already in the buffer. */
START_TEST(test_data_in_place)
{
	struct stun_builder builder;
	uint8_t buffer[128];
	struct sockaddr_storage peer = address_of("198.51.100.9", 3480);
	static const char payload[] = "media bytes";
	const size_t data_at = STUN_HEADER_SIZE + 4 + 8 + 4;

	memcpy(buffer + data_at, payload, sizeof(payload) - 1);
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_DATA,
			   STUN_CLASS_INDICATION, rfc5769_transaction_id);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &peer);
	uint8_t *at = stun_builder_reserve(&builder, STUN_ATTRIBUTE_DATA, sizeof(payload) - 1);
	ck_assert_ptr_eq(at, buffer + data_at);
	struct stun_message message = parse_built(&builder);
	const struct stun_attribute *data = stun_message_find(&message, STUN_ATTRIBUTE_DATA);
	ck_assert_ptr_eq(data->value, buffer + data_at);
	ck_assert_uint_eq(data->length, sizeof(payload) - 1);
	ck_assert_mem_eq(data->value, payload, data->length);
	ck_assert_uint_eq(buffer[data_at + data->length], 0); /* the padding */

	ck_assert_ptr_null(stun_builder_reserve(&builder, STUN_ATTRIBUTE_FINGERPRINT, 4));
	ck_assert_int_eq(builder.result, STUN_BUILD_BAD_VALUE);
	stun_builder_start(&builder, buffer, 30, STUN_METHOD_DATA, STUN_CLASS_INDICATION,
			   rfc5769_transaction_id);
	ck_assert_ptr_null(stun_builder_reserve(&builder, STUN_ATTRIBUTE_DATA, 8));
	ck_assert_int_eq(builder.result, STUN_BUILD_NO_ROOM);
}
END_TEST

/* What the relay does per packet, and an answer without integrity: no
 * call of the allocator (OpenSSL's HMAC, on messages with integrity only,
 * allocates inside the library, which this count does not see). */
START_TEST(test_packet_path_allocates_nothing)
{
	struct raw_message send;
	struct stun_message message;
	struct stun_builder builder;
	struct sockaddr_storage peer;
	struct channel_data channel;
	struct stun_frame frame;
	uint8_t buffer[256];
	uint16_t unknown[STUN_ATTRIBUTES_MAX];
	static const uint8_t udp_channel_data[] = { 0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c' };
	static const uint16_t understood[] = { STUN_ATTRIBUTE_XOR_PEER_ADDRESS,
					       STUN_ATTRIBUTE_DATA };

	raw_start(&send, stun_message_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION));
	raw_attribute(&send, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, 8,
		      "\x00\x01\xa1\x47\xe1\x12\xa6\x43");
	raw_attribute(&send, STUN_ATTRIBUTE_DATA, 5, "media");
	raw_finish(&send);
	/* Check's assertions allocate: the results are asserted after the count. */
	unsigned long before = test_allocator_calls();
	enum stun_parse_result parsed = stun_message_parse(send.bytes, send.length, &message);
	size_t unknown_count = stun_message_unknown_required(&message, understood, 2, unknown,
							     STUN_ATTRIBUTES_MAX);
	bool decoded = stun_attribute_address(
		&message, stun_message_find(&message, STUN_ATTRIBUTE_XOR_PEER_ADDRESS), &peer);
	const struct stun_attribute *data = stun_message_find(&message, STUN_ATTRIBUTE_DATA);
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_DATA,
			   STUN_CLASS_INDICATION, message.transaction_id);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &peer);
	memcpy(stun_builder_reserve(&builder, STUN_ATTRIBUTE_DATA, data->length), data->value,
	       data->length);
	size_t indication_length = stun_builder_finish(&builder);
	enum channel_data_result channel_result =
		channel_data_parse(udp_channel_data, sizeof(udp_channel_data), false, &channel);
	enum stun_frame_result framed = stun_frame_next(send.bytes, send.length, 4096, &frame);
	stun_builder_start_response(&builder, buffer, sizeof(buffer), &message, STUN_CLASS_ERROR);
	stun_builder_add_error_code(&builder, 420, NULL);
	stun_builder_add_unknown_attributes(&builder, understood, 2);
	stun_builder_add_fingerprint(&builder);
	size_t answer_length = stun_builder_finish(&builder);
	unsigned long calls = test_allocator_calls() - before;

	ck_assert_int_eq(parsed, STUN_PARSE_OK);
	ck_assert_uint_eq(unknown_count, 0);
	ck_assert(decoded);
	ck_assert_uint_gt(indication_length, 0);
	ck_assert_int_eq(channel_result, CHANNEL_DATA_OK);
	ck_assert_int_eq(framed, STUN_FRAME_STUN);
	ck_assert_uint_gt(answer_length, 0);
	ck_assert_uint_eq(calls, 0);
}
END_TEST

/* Refusals */

/* The same message as test_allocate_success's, in SIZE bytes. */
static size_t build_in(uint8_t *buffer, size_t size, struct stun_builder *builder)
{
	struct sockaddr_storage relayed = address_of("203.0.113.1", 50000);

	stun_builder_start(builder, buffer, size, STUN_METHOD_ALLOCATE, STUN_CLASS_SUCCESS,
			   rfc5769_transaction_id);
	stun_builder_add_address(builder, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS, &relayed);
	stun_builder_add_u32(builder, STUN_ATTRIBUTE_LIFETIME, 600);
	stun_builder_add_text(builder, STUN_ATTRIBUTE_SOFTWARE, "sxedge");
	stun_builder_add_integrity(builder, &hmac, STUN_INTEGRITY_SHA1, password, password_length);
	stun_builder_add_integrity(builder, &hmac, STUN_INTEGRITY_SHA256, password,
				   password_length);
	stun_builder_add_fingerprint(builder);
	return stun_builder_finish(builder);
}

START_TEST(test_no_room_at_every_size)
{
	uint8_t full[512];
	struct stun_builder builder;
	size_t needed = build_in(full, sizeof(full), &builder);

	ck_assert_uint_eq(needed, 20 + 12 + 8 + 12 + 24 + 36 + 8);
	for (size_t size = 0; size < needed; size++) {
		uint8_t buffer[512];
		memset(buffer, 0xEE, sizeof(buffer));
		ck_assert_uint_eq(build_in(buffer, size, &builder), 0);
		ck_assert_int_eq(builder.result, STUN_BUILD_NO_ROOM);
		ck_assert_uint_le(builder.length, size);
		/* Nothing written past SIZE. */
		for (size_t i = size; i < sizeof(buffer); i++)
			ck_assert_uint_eq(buffer[i], 0xEE);
		/* What was written before the failure is a whole message. */
		if (size >= STUN_HEADER_SIZE) {
			struct stun_message message;
			ck_assert_int_eq(stun_message_parse(buffer, builder.length, &message),
					 STUN_PARSE_OK);
		}
	}
	uint8_t exact[512];
	ck_assert_uint_eq(build_in(exact, needed, &builder), needed);
	ck_assert_mem_eq(exact, full, needed);
}
END_TEST

START_TEST(test_out_of_order)
{
	struct stun_builder builder;
	uint8_t buffer[256];

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_SUCCESS, rfc5769_transaction_id);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, password, password_length);
	size_t length = builder.length;
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_SOFTWARE, "late");
	ck_assert_int_eq(builder.result, STUN_BUILD_OUT_OF_ORDER);
	ck_assert_uint_eq(builder.length, length);
	ck_assert_uint_eq(stun_builder_finish(&builder), 0);
	/* Sticky: nothing more is added. */
	stun_builder_add_fingerprint(&builder);
	ck_assert_uint_eq(builder.length, length);

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_SUCCESS, rfc5769_transaction_id);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA256, password,
				   password_length);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, password, password_length);
	ck_assert_int_eq(builder.result, STUN_BUILD_OUT_OF_ORDER);

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_SUCCESS, rfc5769_transaction_id);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, password, password_length);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, password, password_length);
	ck_assert_int_eq(builder.result, STUN_BUILD_OUT_OF_ORDER);

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_SUCCESS, rfc5769_transaction_id);
	stun_builder_add_fingerprint(&builder);
	stun_builder_add_fingerprint(&builder);
	ck_assert_int_eq(builder.result, STUN_BUILD_OUT_OF_ORDER);

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING,
			   STUN_CLASS_SUCCESS, rfc5769_transaction_id);
	stun_builder_add_fingerprint(&builder);
	stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_SHA1, password, password_length);
	ck_assert_int_eq(builder.result, STUN_BUILD_OUT_OF_ORDER);
	ck_assert_str_eq(stun_build_result_name(builder.result), "out_of_order");
}
END_TEST

START_TEST(test_bad_values)
{
	struct stun_builder builder;
	uint8_t buffer[1024];
	char long_reason[STUN_TEXT_CHARACTERS_MAX + 2];
	struct sockaddr_storage unix_address = { .ss_family = AF_UNIX };
	static const uint16_t one_type[] = { 0x0024 };

	memset(long_reason, 'x', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
#define EXPECT_BAD(call)                                                                  \
	do {                                                                              \
		stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING, \
				   STUN_CLASS_ERROR, rfc5769_transaction_id);             \
		call;                                                                     \
		ck_assert_int_eq(builder.result, STUN_BUILD_BAD_VALUE);                   \
		ck_assert_uint_eq(builder.length, STUN_HEADER_SIZE);                      \
		ck_assert_uint_eq(stun_builder_finish(&builder), 0);                      \
	} while (0)

	EXPECT_BAD(stun_builder_add_error_code(&builder, 299, "Too Low"));
	EXPECT_BAD(stun_builder_add_error_code(&builder, 700, "Too High"));
	EXPECT_BAD(stun_builder_add_error_code(&builder, 499, NULL));
	EXPECT_BAD(stun_builder_add_error_code(&builder, 400, long_reason));
	EXPECT_BAD(
		stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &unix_address));
	EXPECT_BAD(stun_builder_add(&builder, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, buffer, 20));
	EXPECT_BAD(stun_builder_add(&builder, STUN_ATTRIBUTE_FINGERPRINT, buffer, 4));
	EXPECT_BAD(stun_builder_add(&builder, STUN_ATTRIBUTE_DATA, buffer, 0x10000));
	EXPECT_BAD(stun_builder_add_unknown_attributes(&builder, one_type, 0));
	EXPECT_BAD(stun_builder_add_integrity(&builder, &hmac, STUN_INTEGRITY_NONE, password,
					      password_length));
#undef EXPECT_BAD

	/* 127 characters is the most, however many bytes they take. */
	long_reason[STUN_TEXT_CHARACTERS_MAX] = '\0';
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING, STUN_CLASS_ERROR,
			   rfc5769_transaction_id);
	stun_builder_add_error_code(&builder, 400, long_reason);
	ck_assert_int_eq(builder.result, STUN_BUILD_OK);
	char wide[STUN_TEXT_CHARACTERS_MAX * 3 + 1] = "";
	for (int i = 0; i < STUN_TEXT_CHARACTERS_MAX; i++)
		strcat(wide, "\xe2\x82\xac"); /* the euro sign */
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_BINDING, STUN_CLASS_ERROR,
			   rfc5769_transaction_id);
	stun_builder_add_error_code(&builder, 400, wide);
	ck_assert_int_eq(builder.result, STUN_BUILD_OK);

	stun_builder_start(&builder, buffer, 19, STUN_METHOD_BINDING, STUN_CLASS_ERROR,
			   rfc5769_transaction_id);
	ck_assert_int_eq(builder.result, STUN_BUILD_NO_ROOM);
	stun_builder_start(&builder, buffer, sizeof(buffer), 0x1000, STUN_CLASS_ERROR,
			   rfc5769_transaction_id);
	ck_assert_int_eq(builder.result, STUN_BUILD_BAD_VALUE);
}
END_TEST

/* The largest message the length field allows, and no more. */
START_TEST(test_length_field_limit)
{
	static uint8_t buffer[STUN_MESSAGE_MAX + 64];
	static uint8_t data[0xFFFF];
	struct stun_builder builder;

	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_SEND,
			   STUN_CLASS_INDICATION, rfc5769_transaction_id);
	stun_builder_add(&builder, STUN_ATTRIBUTE_DATA, data, 0xFFFC - 4);
	ck_assert_uint_eq(stun_builder_finish(&builder), STUN_MESSAGE_MAX);
	stun_builder_start(&builder, buffer, sizeof(buffer), STUN_METHOD_SEND,
			   STUN_CLASS_INDICATION, rfc5769_transaction_id);
	stun_builder_add(&builder, STUN_ATTRIBUTE_DATA, data, 0xFFFC - 3);
	ck_assert_int_eq(builder.result, STUN_BUILD_NO_ROOM);
}
END_TEST

static Suite *stun_builder_suite(void)
{
	Suite *suite = suite_create("stun_builder");
	TCase *vectors = tcase_create("vectors");
	tcase_add_checked_fixture(vectors, setup, teardown);
	tcase_add_test(vectors, test_long_term_request_rebuilt);
	tcase_add_test(vectors, test_sha256_request_rebuilt);
	tcase_add_test(vectors, test_ipv4_response_rebuilt);
	suite_add_tcase(suite, vectors);
	TCase *answers = tcase_create("answers");
	tcase_add_checked_fixture(answers, setup, teardown);
	tcase_add_test(answers, test_allocate_success);
	tcase_add_test(answers, test_unauthenticated_error);
	tcase_add_test(answers, test_unknown_attributes_error);
	tcase_add_test(answers, test_response_in_place);
	tcase_add_test(answers, test_data_in_place);
	tcase_add_test(answers, test_packet_path_allocates_nothing);
	suite_add_tcase(suite, answers);
	TCase *refusals = tcase_create("refusals");
	tcase_add_checked_fixture(refusals, setup, teardown);
	tcase_add_test(refusals, test_no_room_at_every_size);
	tcase_add_test(refusals, test_out_of_order);
	tcase_add_test(refusals, test_bad_values);
	tcase_add_test(refusals, test_length_field_limit);
	suite_add_tcase(suite, refusals);
	return suite;
}

int main(void)
{
	return test_suite_run(stun_builder_suite());
}
