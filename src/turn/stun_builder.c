/* SPDX-License-Identifier: ISC */
/* stun_builder: a STUN message written attribute by attribute into the
 * caller's buffer (the order and the failure rules in stun_builder.h). */
#include "stun_builder.h"

#include <string.h>

#include "stun_attribute.h"

#define STUN_BUILD_NAME(id, name) [STUN_BUILD_##id] = name,
static const char *const build_result_names[] = { STUN_BUILD_RESULTS(STUN_BUILD_NAME) };
#undef STUN_BUILD_NAME

#define ATTRIBUTE_HEADER_SIZE 4
#define UNKNOWN_TYPES_MAX     (0xFFFF / 2)

const char *stun_build_result_name(enum stun_build_result result)
{
	if ((size_t)result >= sizeof(build_result_names) / sizeof(build_result_names[0]))
		return "unknown";
	return build_result_names[result];
}

static bool usable(const struct stun_builder *builder)
{
	return builder->result == STUN_BUILD_OK;
}

static void fail(struct stun_builder *builder, enum stun_build_result result)
{
	if (builder->result == STUN_BUILD_OK)
		builder->result = result;
}

void stun_builder_start(struct stun_builder *builder, uint8_t *buffer, size_t size, uint16_t method,
			enum stun_class message_class,
			const uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE])
{
	*builder = (struct stun_builder){ .buffer = buffer, .size = size };
	if (size < STUN_HEADER_SIZE || method > 0x0FFF) {
		fail(builder, size < STUN_HEADER_SIZE ? STUN_BUILD_NO_ROOM : STUN_BUILD_BAD_VALUE);
		return;
	}
	/* The transaction id first: it may be read from this very buffer. */
	memmove(buffer + 8, transaction_id, STUN_TRANSACTION_ID_SIZE);
	stun_write16(buffer, stun_message_type(method, message_class));
	stun_write16(buffer + 2, 0);
	stun_write32(buffer + 4, STUN_MAGIC_COOKIE);
	builder->length = STUN_HEADER_SIZE;
}

void stun_builder_start_response(struct stun_builder *builder, uint8_t *buffer, size_t size,
				 const struct stun_message *request, enum stun_class message_class)
{
	stun_builder_start(builder, buffer, size, request->method, message_class,
			   request->transaction_id);
}

/* Room for an attribute with a LENGTH-byte value, checked against the
 * buffer and the 16-bit length field; the header's length is updated and
 * the padding zeroed.  Returns where the value goes, or NULL. */
static uint8_t *reserve_attribute(struct stun_builder *builder, uint16_t type, size_t length)
{
	if (!usable(builder))
		return NULL;
	size_t padded = (length + 3) & ~(size_t)3;
	size_t total = ATTRIBUTE_HEADER_SIZE + padded;
	if (length > 0xFFFF) {
		fail(builder, STUN_BUILD_BAD_VALUE);
		return NULL;
	}
	if (total > builder->size - builder->length ||
	    builder->length + total - STUN_HEADER_SIZE > 0xFFFF) {
		fail(builder, STUN_BUILD_NO_ROOM);
		return NULL;
	}
	uint8_t *at = builder->buffer + builder->length;
	stun_write16(at, type);
	stun_write16(at + 2, (uint16_t)length);
	memset(at + ATTRIBUTE_HEADER_SIZE + length, 0, padded - length);
	builder->length += total;
	stun_write16(builder->buffer + 2, (uint16_t)(builder->length - STUN_HEADER_SIZE));
	return at + ATTRIBUTE_HEADER_SIZE;
}

/* Whether an ordinary attribute may still be added. */
static bool open_for_attributes(struct stun_builder *builder)
{
	if (usable(builder) && builder->stage != STUN_BUILD_OPEN)
		fail(builder, STUN_BUILD_OUT_OF_ORDER);
	return usable(builder);
}

uint8_t *stun_builder_reserve(struct stun_builder *builder, uint16_t type, size_t length)
{
	if (type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY ||
	    type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256 || type == STUN_ATTRIBUTE_FINGERPRINT)
		fail(builder, STUN_BUILD_BAD_VALUE);
	if (!open_for_attributes(builder))
		return NULL;
	return reserve_attribute(builder, type, length);
}

void stun_builder_add(struct stun_builder *builder, uint16_t type, const void *value, size_t length)
{
	uint8_t *at = stun_builder_reserve(builder, type, length);
	if (at != NULL && length > 0)
		memcpy(at, value, length);
}

void stun_builder_add_text(struct stun_builder *builder, uint16_t type, const char *text)
{
	stun_builder_add(builder, type, text, strlen(text));
}

void stun_builder_add_u32(struct stun_builder *builder, uint16_t type, uint32_t value)
{
	uint8_t bytes[4];
	stun_write32(bytes, value);
	stun_builder_add(builder, type, bytes, sizeof(bytes));
}

void stun_builder_add_address(struct stun_builder *builder, uint16_t type,
			      const struct sockaddr_storage *address)
{
	uint8_t value[STUN_ADDRESS_VALUE_MAX];

	if (!usable(builder))
		return;
	/* The transaction id is the one already in the header. */
	size_t length = stun_address_encode(type, address, builder->buffer + 8, value);
	if (length == 0) {
		fail(builder, STUN_BUILD_BAD_VALUE);
		return;
	}
	stun_builder_add(builder, type, value, length);
}

/* The characters of UTF-8 text: the bytes that do not continue one. */
static size_t utf8_characters(const char *text, size_t length)
{
	size_t characters = 0;
	for (size_t i = 0; i < length; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			characters++;
	return characters;
}

void stun_builder_add_error_code(struct stun_builder *builder, unsigned code, const char *reason)
{
	uint8_t value[4 + STUN_TEXT_BYTES_MAX];

	if (reason == NULL)
		reason = stun_error_phrase(code);
	size_t length = reason != NULL ? strlen(reason) : 0;
	if (code < 300 || code > 699 || reason == NULL || length > STUN_TEXT_BYTES_MAX ||
	    utf8_characters(reason, length) > STUN_TEXT_CHARACTERS_MAX) {
		fail(builder, STUN_BUILD_BAD_VALUE);
		return;
	}
	value[0] = 0;
	value[1] = 0;
	value[2] = (uint8_t)(code / 100);
	value[3] = (uint8_t)(code % 100);
	memcpy(value + 4, reason, length);
	stun_builder_add(builder, STUN_ATTRIBUTE_ERROR_CODE, value, 4 + length);
}

void stun_builder_add_unknown_attributes(struct stun_builder *builder, const uint16_t *types,
					 size_t count)
{
	if (count == 0 || count > UNKNOWN_TYPES_MAX)
		fail(builder, STUN_BUILD_BAD_VALUE);
	if (!open_for_attributes(builder))
		return;
	uint8_t *at = reserve_attribute(builder, STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, count * 2);
	for (size_t i = 0; at != NULL && i < count; i++)
		stun_write16(at + 2 * i, types[i]);
}

void stun_builder_add_integrity(struct stun_builder *builder, struct stun_hmac *hmac,
				enum stun_integrity_kind kind, const uint8_t *key,
				size_t key_length)
{
	bool sha1 = kind == STUN_INTEGRITY_SHA1;

	if (kind != STUN_INTEGRITY_SHA1 && kind != STUN_INTEGRITY_SHA256)
		fail(builder, STUN_BUILD_BAD_VALUE);
	else if (builder->stage >=
		 (sha1 ? STUN_BUILD_AFTER_INTEGRITY : STUN_BUILD_AFTER_INTEGRITY_SHA256))
		fail(builder, STUN_BUILD_OUT_OF_ORDER);
	if (!usable(builder))
		return;
	size_t prefix = builder->length;
	uint8_t *at = reserve_attribute(
		builder,
		sha1 ? STUN_ATTRIBUTE_MESSAGE_INTEGRITY : STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256,
		sha1 ? STUN_INTEGRITY_SHA1_SIZE : STUN_INTEGRITY_SHA256_SIZE);
	if (at == NULL)
		return;
	/* reserve_attribute() has set the length to end with this attribute. */
	if (!stun_integrity_compute(hmac, kind, key, key_length, builder->buffer, prefix,
				    stun_read16(builder->buffer + 2), at)) {
		builder->length = prefix;
		stun_write16(builder->buffer + 2, (uint16_t)(prefix - STUN_HEADER_SIZE));
		fail(builder, STUN_BUILD_MAC_FAILED);
		return;
	}
	builder->stage = sha1 ? STUN_BUILD_AFTER_INTEGRITY : STUN_BUILD_AFTER_INTEGRITY_SHA256;
}

void stun_builder_add_fingerprint(struct stun_builder *builder)
{
	if (builder->stage == STUN_BUILD_AFTER_FINGERPRINT)
		fail(builder, STUN_BUILD_OUT_OF_ORDER);
	size_t prefix = builder->length;
	uint8_t *at = reserve_attribute(builder, STUN_ATTRIBUTE_FINGERPRINT, 4);
	if (at == NULL)
		return;
	stun_write32(at, stun_fingerprint(builder->buffer, prefix));
	builder->stage = STUN_BUILD_AFTER_FINGERPRINT;
}

size_t stun_builder_finish(const struct stun_builder *builder)
{
	return usable(builder) ? builder->length : 0;
}
