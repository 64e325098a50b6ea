/* SPDX-License-Identifier: ISC */
/* Fuzz target: the STUN/TURN codec on arbitrary bytes, read four ways.
 *
 * 1. As a datagram (stun_message_parse): a message read keeps the view's
 *    promises (every attribute inside the bytes, in order, the integrity
 *    and fingerprint indices right, nothing after FINGERPRINT), its
 *    unknown comprehension-required list is right, its address attributes
 *    encode back to their bytes, and the builder, fed its attributes,
 *    writes the same bytes again (padding aside), with a MESSAGE-INTEGRITY
 *    equal to the one received exactly when that one checks with the key.
 * 2. As a ChannelData datagram: what is read lies inside the bytes and
 *    writes back as a padded message that reads the same.
 * 3. As a TURN-over-TCP stream (stun_frame_next), frame after frame: no
 *    frame claims more than the bytes given or more than the limit, every
 *    prefix of a frame is "need more", a STUN frame is refused by the
 *    parser for nothing the framing checked, a ChannelData frame reads.
 * 4. As the material of a message built from scratch (transaction id,
 *    method, an address, an error code, data), in a heap buffer of exactly
 *    a size taken from the input, so a write past it is caught: with
 *    integrity, integrity-SHA256 and fingerprint it reads back, both
 *    integrities verify with the key and fail with another; after one
 *    byte changed anywhere (where and how taken from the input) the
 *    message is refused, or reads with no fingerprint (a changed length
 *    can hide the closing attributes inside another one), and neither
 *    integrity covering that byte checks. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "channel_data.h"
#include "fuzz.h"
#include "stun_attribute.h"
#include "stun_builder.h"
#include "stun_framing.h"
#include "stun_integrity.h"
#include "stun_message.h"

static const uint8_t key[] = "fuzzing key";
static const uint8_t other_key[] = "fuzzing kez";
#define KEY_LENGTH (sizeof(key) - 1)

static struct stun_hmac *hmac(void)
{
	static struct stun_hmac contexts;
	static bool ready;
	if (!ready) {
		FUZZ_REQUIRE(stun_hmac_init(&contexts) == 0);
		ready = true;
	}
	return &contexts;
}

static size_t padded(size_t length)
{
	return (length + 3) & ~(size_t)3;
}

static bool is_closing(uint16_t type)
{
	return type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY ||
	       type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256 ||
	       type == STUN_ATTRIBUTE_FINGERPRINT;
}

/* 1. A datagram */

static void check_view(const struct stun_message *message, const uint8_t *bytes, size_t length)
{
	const uint8_t *end = bytes + length;
	const uint8_t *previous_end = bytes + STUN_HEADER_SIZE;

	FUZZ_REQUIRE(message->bytes == bytes && message->length == length);
	FUZZ_REQUIRE(message->transaction_id == bytes + 8);
	FUZZ_REQUIRE(stun_message_type(message->method, message->message_class) ==
		     stun_read16(bytes));
	FUZZ_REQUIRE(message->count <= STUN_ATTRIBUTES_MAX);
	for (unsigned i = 0; i < message->count; i++) {
		const struct stun_attribute *attribute = &message->attributes[i];
		/* Inside the datagram, after the one before, as received. */
		FUZZ_REQUIRE(attribute->value - 4 >= previous_end);
		FUZZ_REQUIRE(attribute->value + padded(attribute->length) <= end);
		FUZZ_REQUIRE(stun_read16(attribute->value - 4) == attribute->type);
		FUZZ_REQUIRE(stun_read16(attribute->value - 2) == attribute->length);
		previous_end = attribute->value + padded(attribute->length);
		/* Only the closing attributes after integrity. */
		int first_closing =
			message->integrity >= 0 ? message->integrity : message->integrity_sha256;
		if (first_closing >= 0 && (int)i > first_closing)
			FUZZ_REQUIRE(attribute->type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256 ||
				     attribute->type == STUN_ATTRIBUTE_FINGERPRINT);
	}
	if (message->integrity >= 0) {
		const struct stun_attribute *attribute = &message->attributes[message->integrity];
		FUZZ_REQUIRE(attribute->type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY);
		FUZZ_REQUIRE(attribute->length == STUN_INTEGRITY_SHA1_SIZE);
	}
	if (message->integrity_sha256 >= 0) {
		const struct stun_attribute *attribute =
			&message->attributes[message->integrity_sha256];
		FUZZ_REQUIRE(attribute->type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256);
		FUZZ_REQUIRE(attribute->length >= 16 && attribute->length <= 32 &&
			     attribute->length % 4 == 0);
		FUZZ_REQUIRE(message->integrity < message->integrity_sha256);
	}
	if (message->fingerprint >= 0) {
		const struct stun_attribute *attribute = &message->attributes[message->fingerprint];
		FUZZ_REQUIRE(message->fingerprint == (int)message->count - 1);
		FUZZ_REQUIRE(attribute->type == STUN_ATTRIBUTE_FINGERPRINT);
		FUZZ_REQUIRE(attribute->value + 4 == end);
		FUZZ_REQUIRE(stun_read32(attribute->value) == stun_fingerprint(bytes, length - 8));
	}
	if (message->ignored == 0)
		FUZZ_REQUIRE(previous_end == end);
}

static void check_unknown(const struct stun_message *message)
{
	static const uint16_t understood[] = {
		STUN_ATTRIBUTE_USERNAME,
		STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
		STUN_ATTRIBUTE_LIFETIME,
		STUN_ATTRIBUTE_XOR_PEER_ADDRESS,
		STUN_ATTRIBUTE_REALM,
		STUN_ATTRIBUTE_NONCE,
		STUN_ATTRIBUTE_REQUESTED_TRANSPORT,
	};
	const size_t understood_count = sizeof(understood) / sizeof(understood[0]);
	uint16_t unknown[STUN_ATTRIBUTES_MAX];
	size_t count = stun_message_unknown_required(message, understood, understood_count, unknown,
						     STUN_ATTRIBUTES_MAX);

	FUZZ_REQUIRE(count <= message->count);
	for (size_t i = 0; i < count; i++) {
		FUZZ_REQUIRE(stun_attribute_is_comprehension_required(unknown[i]));
		FUZZ_REQUIRE(stun_message_find(message, unknown[i]) != NULL);
		for (size_t j = 0; j < understood_count; j++)
			FUZZ_REQUIRE(unknown[i] != understood[j]);
		for (size_t j = 0; j < i; j++)
			FUZZ_REQUIRE(unknown[i] != unknown[j]);
	}
	/* And none is missed. */
	for (unsigned i = 0; i < message->count; i++) {
		uint16_t type = message->attributes[i].type;
		bool listed = !stun_attribute_is_comprehension_required(type);
		for (size_t j = 0; j < understood_count; j++)
			listed = listed || type == understood[j];
		for (size_t j = 0; j < count; j++)
			listed = listed || type == unknown[j];
		FUZZ_REQUIRE(listed);
	}
}

static void check_addresses(const struct stun_message *message)
{
	for (unsigned i = 0; i < message->count; i++) {
		const struct stun_attribute *attribute = &message->attributes[i];
		struct sockaddr_storage address;
		uint8_t value[STUN_ADDRESS_VALUE_MAX];
		if (!stun_attribute_address(message, attribute, &address))
			continue;
		size_t length = stun_address_encode(attribute->type, &address,
						    message->transaction_id, value);
		/* The first byte is reserved and not read. */
		FUZZ_REQUIRE(length == attribute->length);
		FUZZ_REQUIRE(memcmp(value + 1, attribute->value + 1, length - 1) == 0);
	}
}

static bool padding_is_zero(const struct stun_message *message)
{
	for (unsigned i = 0; i < message->count; i++) {
		const struct stun_attribute *attribute = &message->attributes[i];
		for (size_t j = attribute->length; j < padded(attribute->length); j++)
			if (attribute->value[j] != 0)
				return false;
	}
	return true;
}

/* The builder fed what was read: the same message again. */
static void check_rebuilt(const struct stun_message *message)
{
	size_t size = message->length;
	uint8_t *buffer = malloc(size);
	struct stun_builder builder;
	struct stun_message again;
	bool with_integrity = message->integrity >= 0;
	bool with_sha256 = message->integrity_sha256 >= 0;

	FUZZ_REQUIRE(buffer != NULL);
	if (message->ignored > 0 ||
	    (with_sha256 && message->attributes[message->integrity_sha256].length != 32)) {
		free(buffer);
		return;
	}
	stun_builder_start(&builder, buffer, size, message->method, message->message_class,
			   message->transaction_id);
	for (unsigned i = 0; i < message->count; i++) {
		const struct stun_attribute *attribute = &message->attributes[i];
		if (!is_closing(attribute->type))
			stun_builder_add(&builder, attribute->type, attribute->value,
					 attribute->length);
	}
	if (with_integrity)
		stun_builder_add_integrity(&builder, hmac(), STUN_INTEGRITY_SHA1, key, KEY_LENGTH);
	if (with_sha256)
		stun_builder_add_integrity(&builder, hmac(), STUN_INTEGRITY_SHA256, key,
					   KEY_LENGTH);
	if (message->fingerprint >= 0)
		stun_builder_add_fingerprint(&builder);
	/* Closing attributes come last when there is nothing to ignore. */
	FUZZ_REQUIRE(stun_builder_finish(&builder) == size);
	FUZZ_REQUIRE(stun_message_parse(buffer, size, &again) == STUN_PARSE_OK);
	FUZZ_REQUIRE(again.count == message->count);
	FUZZ_REQUIRE(again.integrity == message->integrity);
	FUZZ_REQUIRE(again.integrity_sha256 == message->integrity_sha256);
	FUZZ_REQUIRE(again.fingerprint == message->fingerprint);
	for (unsigned i = 0; i < again.count; i++) {
		const struct stun_attribute *a = &again.attributes[i];
		const struct stun_attribute *b = &message->attributes[i];
		FUZZ_REQUIRE(a->type == b->type && a->length == b->length);
		FUZZ_REQUIRE(a->value - again.bytes == b->value - message->bytes);
		if (!is_closing(a->type))
			FUZZ_REQUIRE(memcmp(a->value, b->value, a->length) == 0);
	}
	if (with_integrity)
		FUZZ_REQUIRE(stun_integrity_check(hmac(), &again, STUN_INTEGRITY_SHA1, key,
						  KEY_LENGTH) == STUN_INTEGRITY_VALID);
	if (with_sha256)
		FUZZ_REQUIRE(stun_integrity_check(hmac(), &again, STUN_INTEGRITY_SHA256, key,
						  KEY_LENGTH) == STUN_INTEGRITY_VALID);
	if (padding_is_zero(message)) {
		if (!with_integrity && !with_sha256) {
			FUZZ_REQUIRE(memcmp(buffer, message->bytes, size) == 0);
		} else {
			const struct stun_attribute *received =
				&message->attributes[with_integrity ? message->integrity
								    : message->integrity_sha256];
			size_t mac_at = (size_t)(received->value - message->bytes);
			bool same_mac =
				memcmp(buffer + mac_at, received->value, received->length) == 0;
			enum stun_integrity_kind kind =
				with_integrity ? STUN_INTEGRITY_SHA1 : STUN_INTEGRITY_SHA256;
			FUZZ_REQUIRE(memcmp(buffer, message->bytes, mac_at) == 0);
			FUZZ_REQUIRE(same_mac ==
				     (stun_integrity_check(hmac(), message, kind, key,
							   KEY_LENGTH) == STUN_INTEGRITY_VALID));
		}
	}
	free(buffer);
}

static void read_datagram(const uint8_t *data, size_t size)
{
	uint8_t *bytes = (uint8_t *)fuzz_copy(data, size);
	struct stun_message message;
	enum stun_parse_result result = stun_message_parse(bytes, size, &message);

	FUZZ_REQUIRE(strcmp(stun_parse_result_name(result), "unknown") != 0);
	if (result == STUN_PARSE_OK) {
		check_view(&message, bytes, size);
		check_unknown(&message);
		check_addresses(&message);
		check_rebuilt(&message);
		/* Another key never checks. */
		if (message.integrity >= 0 &&
		    stun_integrity_check(hmac(), &message, STUN_INTEGRITY_SHA1, key, KEY_LENGTH) ==
			    STUN_INTEGRITY_VALID)
			FUZZ_REQUIRE(stun_integrity_check(hmac(), &message, STUN_INTEGRITY_SHA1,
							  other_key,
							  KEY_LENGTH) == STUN_INTEGRITY_INVALID);
	}
	free(bytes);
}

/* 2. A ChannelData datagram */

static void read_channel_data(const uint8_t *data, size_t size)
{
	uint8_t *bytes = (uint8_t *)fuzz_copy(data, size);
	struct channel_data message;

	if (channel_data_parse(bytes, size, false, &message) == CHANNEL_DATA_OK) {
		FUZZ_REQUIRE(channel_number_is_valid(message.channel));
		FUZZ_REQUIRE(message.data == bytes + CHANNEL_DATA_HEADER_SIZE);
		FUZZ_REQUIRE(channel_data_size(message.length, false) <= size);
		FUZZ_REQUIRE(size <= channel_data_size(message.length, true));
		size_t padded_size = channel_data_size(message.length, true);
		uint8_t *copy = calloc(1, padded_size);
		struct channel_data again;
		FUZZ_REQUIRE(copy != NULL);
		channel_data_write_header(copy, message.channel, message.length);
		memcpy(copy + CHANNEL_DATA_HEADER_SIZE, message.data, message.length);
		FUZZ_REQUIRE(channel_data_parse(copy, padded_size, true, &again) ==
			     CHANNEL_DATA_OK);
		FUZZ_REQUIRE(again.channel == message.channel && again.length == message.length);
		free(copy);
	}
	free(bytes);
}

/* 3. A TCP stream */

static enum stun_frame_result frame_copy(const uint8_t *data, size_t length, size_t max_frame,
					 struct stun_frame *frame)
{
	uint8_t *copy = (uint8_t *)fuzz_copy(data, length);
	enum stun_frame_result result = stun_frame_next(copy, length, max_frame, frame);
	free(copy);
	return result;
}

static void check_frame(const uint8_t *bytes, size_t length, size_t max_frame,
			enum stun_frame_result result, const struct stun_frame *frame)
{
	struct stun_frame again;

	FUZZ_REQUIRE((result == STUN_FRAME_MALFORMED) == (frame->reason != NULL));
	switch (result) {
	case STUN_FRAME_NEED_MORE:
		FUZZ_REQUIRE(frame->total == 0);
		FUZZ_REQUIRE(frame->wait_for == 0 ||
			     (frame->wait_for > length && frame->wait_for <= max_frame));
		break;
	case STUN_FRAME_STUN:
	case STUN_FRAME_CHANNEL_DATA:
		FUZZ_REQUIRE(frame->total >= 4 && frame->total <= length &&
			     frame->total <= max_frame && frame->total % 4 == 0);
		for (size_t cut = 0; cut < frame->total; cut += cut < 8 ? 1 : frame->total / 4 + 1)
			FUZZ_REQUIRE(frame_copy(bytes, cut, max_frame, &again) ==
				     STUN_FRAME_NEED_MORE);
		FUZZ_REQUIRE(frame_copy(bytes, frame->total - 1, max_frame, &again) ==
			     STUN_FRAME_NEED_MORE);
		break;
	case STUN_FRAME_MALFORMED:
		FUZZ_REQUIRE(frame->total == 0);
		break;
	default:
		FUZZ_REQUIRE(!"a result stun_framing.h does not list");
	}
	if (result == STUN_FRAME_STUN) {
		struct stun_message message;
		uint8_t *copy = (uint8_t *)fuzz_copy(bytes, frame->total);
		enum stun_parse_result parsed = stun_message_parse(copy, frame->total, &message);
		FUZZ_REQUIRE(parsed != STUN_PARSE_SHORTER_THAN_HEADER &&
			     parsed != STUN_PARSE_NOT_STUN &&
			     parsed != STUN_PARSE_BAD_MAGIC_COOKIE &&
			     parsed != STUN_PARSE_LENGTH_NOT_MULTIPLE_OF_4 &&
			     parsed != STUN_PARSE_LENGTH_BEYOND_DATAGRAM &&
			     parsed != STUN_PARSE_BYTES_AFTER_MESSAGE);
		free(copy);
	}
	if (result == STUN_FRAME_CHANNEL_DATA) {
		struct channel_data message;
		uint8_t *copy = (uint8_t *)fuzz_copy(bytes, frame->total);
		FUZZ_REQUIRE(channel_data_parse(copy, frame->total, true, &message) ==
			     CHANNEL_DATA_OK);
		FUZZ_REQUIRE(channel_data_size(message.length, true) == frame->total);
		free(copy);
	}
}

static void read_stream(const uint8_t *data, size_t size, size_t max_frame)
{
	for (size_t offset = 0; offset < size;) {
		struct stun_frame frame;
		enum stun_frame_result result =
			frame_copy(data + offset, size - offset, max_frame, &frame);
		check_frame(data + offset, size - offset, max_frame, result, &frame);
		if (result != STUN_FRAME_STUN && result != STUN_FRAME_CHANNEL_DATA)
			break;
		offset += frame.total;
	}
}

/* 4. A message built from the input */

/* The input's bytes from AT on, zeros past its end. */
static uint8_t byte_at(const uint8_t *data, size_t size, size_t at)
{
	return at < size ? data[at] : 0;
}

static void build(struct stun_builder *builder, uint8_t *buffer, size_t size, const uint8_t *data,
		  size_t data_size, bool fingerprint)
{
	uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE];
	struct sockaddr_storage address = { 0 };
	static const uint16_t unknown[] = { 0x0024, 0x7FFF };

	for (size_t i = 0; i < sizeof(transaction_id); i++)
		transaction_id[i] = byte_at(data, data_size, i);
	uint16_t method =
		(uint16_t)(byte_at(data, data_size, 12) << 8 | byte_at(data, data_size, 13)) &
		0x0FFF;
	uint8_t options = byte_at(data, data_size, 14);
	stun_builder_start(builder, buffer, size, method, (enum stun_class)(options & 3),
			   transaction_id);
	if (options & 4) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
		in6->sin6_family = AF_INET6;
		for (size_t i = 0; i < 16; i++)
			in6->sin6_addr.s6_addr[i] = byte_at(data, data_size, 15 + i);
		memcpy(&in6->sin6_port, transaction_id, 2);
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&address;
		in4->sin_family = AF_INET;
		memcpy(&in4->sin_addr, transaction_id + 2, 4);
		memcpy(&in4->sin_port, transaction_id, 2);
	}
	stun_builder_add_address(builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &address);
	if (options & 8)
		stun_builder_add_error_code(builder,
					    300 + byte_at(data, data_size, 15) % 4 * 100 +
						    byte_at(data, data_size, 16) % 100,
					    "reason");
	if (options & 16)
		stun_builder_add_unknown_attributes(builder, unknown, 1 + (options >> 7));
	if (options & 32)
		stun_builder_add_u32(builder, STUN_ATTRIBUTE_LIFETIME,
				     stun_read32(transaction_id + 4));
	size_t data_length = data_size > 32 ? data_size - 32 : 0;
	stun_builder_add(builder, STUN_ATTRIBUTE_DATA, data + 32 - (data_length == 0 ? 32 : 0),
			 data_length);
	stun_builder_add_integrity(builder, hmac(), STUN_INTEGRITY_SHA1, key, KEY_LENGTH);
	stun_builder_add_integrity(builder, hmac(), STUN_INTEGRITY_SHA256, key, KEY_LENGTH);
	if (fingerprint)
		stun_builder_add_fingerprint(builder);
}

static enum stun_parse_result parse_changed(uint8_t *bytes, size_t length, size_t position,
					    uint8_t change, struct stun_message *message)
{
	bytes[position] ^= change;
	enum stun_parse_result result = stun_message_parse(bytes, length, message);
	return result;
}

static void check_built(const uint8_t *data, size_t size)
{
	size_t limit = 1 + (size_t)(byte_at(data, size, 30) << 8 | byte_at(data, size, 31));
	uint8_t *buffer = malloc(limit); /* exactly LIMIT: a write past it is caught */
	struct stun_builder builder;
	struct stun_message message;

	FUZZ_REQUIRE(buffer != NULL);
	for (int fingerprint = 0; fingerprint < 2; fingerprint++) {
		build(&builder, buffer, limit, data, size, fingerprint);
		size_t length = stun_builder_finish(&builder);
		FUZZ_REQUIRE(builder.length <= limit);
		if (length == 0) {
			FUZZ_REQUIRE(builder.result != STUN_BUILD_OK);
			continue;
		}
		FUZZ_REQUIRE(stun_message_parse(buffer, length, &message) == STUN_PARSE_OK);
		FUZZ_REQUIRE(message.ignored == 0);
		FUZZ_REQUIRE((message.fingerprint >= 0) == (fingerprint == 1));
		FUZZ_REQUIRE(stun_integrity_check(hmac(), &message, STUN_INTEGRITY_SHA1, key,
						  KEY_LENGTH) == STUN_INTEGRITY_VALID);
		FUZZ_REQUIRE(stun_integrity_check(hmac(), &message, STUN_INTEGRITY_SHA256, key,
						  KEY_LENGTH) == STUN_INTEGRITY_VALID);
		FUZZ_REQUIRE(stun_integrity_check(hmac(), &message, STUN_INTEGRITY_SHA1, other_key,
						  KEY_LENGTH) == STUN_INTEGRITY_INVALID);
		FUZZ_REQUIRE(stun_integrity_check(hmac(), &message, STUN_INTEGRITY_SHA256,
						  other_key, KEY_LENGTH) == STUN_INTEGRITY_INVALID);
		size_t integrity_end =
			(size_t)(message.attributes[message.integrity].value - buffer) + 20;
		size_t sha256_end = integrity_end + 4 + 32;
		/* One byte changed, where and how the input says. */
		for (size_t i = 0; i < 4; i++) {
			size_t position = (size_t)(byte_at(data, size, 20 + 2 * i) << 8 |
						   byte_at(data, size, 21 + 2 * i)) %
					  length;
			uint8_t change = byte_at(data, size, 28 + i) | 1;
			enum stun_parse_result result =
				parse_changed(buffer, length, position, change, &message);
			/* The change may leave a message that reads (a length
			 * changed can swallow what follows into one attribute),
			 * but never one whose fingerprint or integrity checks. */
			if (result == STUN_PARSE_OK) {
				if (fingerprint)
					FUZZ_REQUIRE(message.fingerprint < 0);
				FUZZ_REQUIRE(stun_integrity_check(
						     hmac(), &message, STUN_INTEGRITY_SHA256, key,
						     KEY_LENGTH) != STUN_INTEGRITY_VALID ||
					     position >= sha256_end);
				FUZZ_REQUIRE(stun_integrity_check(
						     hmac(), &message, STUN_INTEGRITY_SHA1, key,
						     KEY_LENGTH) != STUN_INTEGRITY_VALID ||
					     position >= integrity_end);
			}
			buffer[position] ^= change;
		}
	}
	free(buffer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_datagram(data, size);
	read_channel_data(data, size);
	read_stream(data, size, STUN_MESSAGE_MAX + 4);
	read_stream(data, size, 1 + (size_t)byte_at(data, size, 0) * 4);
	check_built(data, size);
	return 0;
}
