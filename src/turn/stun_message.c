/* SPDX-License-Identifier: ISC */
/* stun_message: the STUN header and the walk over its attributes (what is
 * checked, and what is left to others, in stun_message.h). */
#include "stun_message.h"

#define STUN_PARSE_NAME(id, name) [STUN_PARSE_##id] = name,
static const char *const parse_result_names[] = { STUN_PARSE_RESULTS(STUN_PARSE_NAME) };
#undef STUN_PARSE_NAME

#define FINGERPRINT_XOR	     0x5354554eu
#define INTEGRITY_SIZE	     20
#define FINGERPRINT_SIZE     4
#define SHA256_INTEGRITY_MIN 16
#define SHA256_INTEGRITY_MAX 32

const char *stun_parse_result_name(enum stun_parse_result result)
{
	if ((size_t)result >= sizeof(parse_result_names) / sizeof(parse_result_names[0]))
		return "unknown";
	return parse_result_names[result];
}

/* The type's bits are M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 §5). */
uint16_t stun_message_type(uint16_t method, enum stun_class message_class)
{
	unsigned class_bits = (unsigned)message_class;
	return (uint16_t)((method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2 |
			  (class_bits & 1) << 4 | (class_bits & 2) << 7);
}

uint16_t stun_message_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2);
}

enum stun_class stun_message_type_class(uint16_t type)
{
	return (enum stun_class)((type >> 4 & 1) | (type >> 7 & 2));
}

bool stun_attribute_is_comprehension_required(uint16_t type)
{
	return type < 0x8000;
}

/* CRC-32, reflected polynomial 0xEDB88320, four bits at a time: a table of
 * 16 words instead of 256, fast enough for the few requests that carry
 * FINGERPRINT (the relayed data never does). */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t stun_fingerprint(const uint8_t *bytes, size_t length)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < length; i++) {
		crc ^= bytes[i];
		crc = crc >> 4 ^ crc_nibble[crc & 0x0F];
		crc = crc >> 4 ^ crc_nibble[crc & 0x0F];
	}
	return ~crc ^ FINGERPRINT_XOR;
}

/* Where the walk over the attributes stands: after MESSAGE-INTEGRITY only
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count, after
 * MESSAGE-INTEGRITY-SHA256 only FINGERPRINT. */
enum walk_stage {
	WALK_OPEN,
	WALK_AFTER_INTEGRITY,
	WALK_AFTER_INTEGRITY_SHA256,
};

static bool counts_at(enum walk_stage stage, uint16_t type)
{
	switch (stage) {
	case WALK_OPEN:
		return true;
	case WALK_AFTER_INTEGRITY:
		return type == STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256 ||
		       type == STUN_ATTRIBUTE_FINGERPRINT;
	case WALK_AFTER_INTEGRITY_SHA256:
		return type == STUN_ATTRIBUTE_FINGERPRINT;
	}
	return false;
}

/* Checks the length of an attribute that counts and notes where the
 * integrity and fingerprint attributes are. */
static enum stun_parse_result note_attribute(struct stun_message *message,
					     const struct stun_attribute *attribute,
					     enum walk_stage *stage)
{
	int index = (int)message->count;

	switch (attribute->type) {
	case STUN_ATTRIBUTE_MESSAGE_INTEGRITY:
		if (attribute->length != INTEGRITY_SIZE)
			return STUN_PARSE_BAD_INTEGRITY_LENGTH;
		message->integrity = index;
		*stage = WALK_AFTER_INTEGRITY;
		break;
	case STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256:
		if (attribute->length < SHA256_INTEGRITY_MIN ||
		    attribute->length > SHA256_INTEGRITY_MAX || attribute->length % 4 != 0)
			return STUN_PARSE_BAD_INTEGRITY_SHA256_LENGTH;
		message->integrity_sha256 = index;
		*stage = WALK_AFTER_INTEGRITY_SHA256;
		break;
	case STUN_ATTRIBUTE_FINGERPRINT:
		if (attribute->length != FINGERPRINT_SIZE)
			return STUN_PARSE_BAD_FINGERPRINT_LENGTH;
		message->fingerprint = index;
		break;
	default:
		break;
	}
	if (message->count == STUN_ATTRIBUTES_MAX)
		return STUN_PARSE_TOO_MANY_ATTRIBUTES;
	message->attributes[message->count++] = *attribute;
	return STUN_PARSE_OK;
}

static enum stun_parse_result walk_attributes(struct stun_message *message)
{
	const uint8_t *end = message->bytes + message->length;
	const uint8_t *at = message->bytes + STUN_HEADER_SIZE;
	enum walk_stage stage = WALK_OPEN;

	/* The length is a multiple of 4, and so is every attribute with its
	 * padding: an attribute header never straddles the end. */
	while (at < end) {
		struct stun_attribute attribute = {
			.type = stun_read16(at),
			.length = stun_read16(at + 2),
			.value = at + 4,
		};
		size_t padded = ((size_t)attribute.length + 3) & ~(size_t)3;
		if (message->fingerprint >= 0)
			return STUN_PARSE_FINGERPRINT_NOT_LAST;
		if (padded > (size_t)(end - attribute.value))
			return STUN_PARSE_ATTRIBUTE_BEYOND_MESSAGE;
		if (counts_at(stage, attribute.type)) {
			enum stun_parse_result result = note_attribute(message, &attribute, &stage);
			if (result != STUN_PARSE_OK)
				return result;
		} else {
			message->ignored++;
		}
		at = attribute.value + padded;
	}
	if (message->fingerprint >= 0) {
		const struct stun_attribute *fingerprint =
			&message->attributes[message->fingerprint];
		size_t covered = (size_t)(fingerprint->value - 4 - message->bytes);
		if (stun_read32(fingerprint->value) != stun_fingerprint(message->bytes, covered))
			return STUN_PARSE_BAD_FINGERPRINT;
	}
	return STUN_PARSE_OK;
}

enum stun_parse_result stun_message_parse(const uint8_t *bytes, size_t length,
					  struct stun_message *message)
{
	if (length < STUN_HEADER_SIZE)
		return STUN_PARSE_SHORTER_THAN_HEADER;
	if ((bytes[0] & 0xC0) != 0)
		return STUN_PARSE_NOT_STUN;
	if (stun_read32(bytes + 4) != STUN_MAGIC_COOKIE)
		return STUN_PARSE_BAD_MAGIC_COOKIE;
	size_t declared = stun_read16(bytes + 2);
	if (declared % 4 != 0)
		return STUN_PARSE_LENGTH_NOT_MULTIPLE_OF_4;
	if (STUN_HEADER_SIZE + declared > length)
		return STUN_PARSE_LENGTH_BEYOND_DATAGRAM;
	if (STUN_HEADER_SIZE + declared < length)
		return STUN_PARSE_BYTES_AFTER_MESSAGE;

	uint16_t type = stun_read16(bytes);
	*message = (struct stun_message){
		.bytes = bytes,
		.length = length,
		.method = stun_message_type_method(type),
		.message_class = stun_message_type_class(type),
		.transaction_id = bytes + 8,
		.integrity = -1,
		.integrity_sha256 = -1,
		.fingerprint = -1,
	};
	return walk_attributes(message);
}

const struct stun_attribute *stun_message_find(const struct stun_message *message, uint16_t type)
{
	for (unsigned i = 0; i < message->count; i++)
		if (message->attributes[i].type == type)
			return &message->attributes[i];
	return NULL;
}

const struct stun_attribute *stun_message_find_next(const struct stun_message *message,
						    const struct stun_attribute *after,
						    uint16_t type)
{
	for (unsigned i = (unsigned)(after - message->attributes) + 1; i < message->count; i++)
		if (message->attributes[i].type == type)
			return &message->attributes[i];
	return NULL;
}

static bool contains(const uint16_t *types, size_t count, uint16_t type)
{
	for (size_t i = 0; i < count; i++)
		if (types[i] == type)
			return true;
	return false;
}

size_t stun_message_unknown_required(const struct stun_message *message, const uint16_t *understood,
				     size_t understood_count, uint16_t *unknown, size_t unknown_max)
{
	size_t found = 0;

	for (unsigned i = 0; i < message->count && found < unknown_max; i++) {
		uint16_t type = message->attributes[i].type;
		if (stun_attribute_is_comprehension_required(type) &&
		    !contains(understood, understood_count, type) &&
		    !contains(unknown, found, type))
			unknown[found++] = type;
	}
	return found;
}
