/* SPDX-License-Identifier: ISC */
/* stun_attribute: decoding and encoding of attribute values (the forms in
 * stun_attribute.h). */
#include "stun_attribute.h"

#include <netinet/in.h>
#include <string.h>

#define FAMILY_IPV4 0x01
#define FAMILY_IPV6 0x02

bool stun_attribute_is_xor_address(uint16_t type)
{
	return type == STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS ||
	       type == STUN_ATTRIBUTE_XOR_PEER_ADDRESS ||
	       type == STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS;
}

/* The 16 bytes an address is xor'ed with: the cookie, then the transaction
 * id (an IPv4 address only uses the cookie, the port its first half). */
static void xor_mask(const uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE], uint8_t mask[16])
{
	stun_write32(mask, STUN_MAGIC_COOKIE);
	memcpy(mask + 4, transaction_id, STUN_TRANSACTION_ID_SIZE);
}

/* Xors or copies the port and address, which is the same both ways. */
static void apply_mask(bool xored, const uint8_t mask[16], const uint8_t *in, uint8_t *out,
		       size_t address_length)
{
	for (size_t i = 0; i < 2; i++)
		out[i] = xored ? (uint8_t)(in[i] ^ mask[i]) : in[i];
	for (size_t i = 0; i < address_length; i++)
		out[2 + i] = xored ? (uint8_t)(in[2 + i] ^ mask[i]) : in[2 + i];
}

bool stun_attribute_address(const struct stun_message *message,
			    const struct stun_attribute *attribute, struct sockaddr_storage *out)
{
	uint8_t mask[16];
	uint8_t plain[18]; /* port and address */
	bool xored = stun_attribute_is_xor_address(attribute->type);

	if (attribute->length < 4)
		return false;
	xor_mask(message->transaction_id, mask);
	memset(out, 0, sizeof(*out));
	switch (attribute->value[1]) {
	case FAMILY_IPV4: {
		if (attribute->length != 8)
			return false;
		struct sockaddr_in *in4 = (struct sockaddr_in *)out;
		apply_mask(xored, mask, attribute->value + 2, plain, 4);
		in4->sin_family = AF_INET;
		memcpy(&in4->sin_port, plain, 2);
		memcpy(&in4->sin_addr, plain + 2, 4);
		return true;
	}
	case FAMILY_IPV6: {
		if (attribute->length != 20)
			return false;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		apply_mask(xored, mask, attribute->value + 2, plain, 16);
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_port, plain, 2);
		memcpy(&in6->sin6_addr, plain + 2, 16);
		return true;
	}
	default:
		return false;
	}
}

size_t stun_address_encode(uint16_t type, const struct sockaddr_storage *address,
			   const uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE],
			   uint8_t out[STUN_ADDRESS_VALUE_MAX])
{
	uint8_t mask[16];
	uint8_t plain[18];
	size_t address_length;
	bool xored = stun_attribute_is_xor_address(type);

	if (address->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)address;
		memcpy(plain, &in4->sin_port, 2);
		memcpy(plain + 2, &in4->sin_addr, 4);
		address_length = 4;
		out[1] = FAMILY_IPV4;
	} else if (address->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
		memcpy(plain, &in6->sin6_port, 2);
		memcpy(plain + 2, &in6->sin6_addr, 16);
		address_length = 16;
		out[1] = FAMILY_IPV6;
	} else {
		return 0;
	}
	out[0] = 0;
	xor_mask(transaction_id, mask);
	apply_mask(xored, mask, plain, out + 2, address_length);
	return 4 + address_length;
}

bool stun_attribute_u32(const struct stun_attribute *attribute, uint32_t *value)
{
	if (attribute->length != 4)
		return false;
	*value = stun_read32(attribute->value);
	return true;
}

bool stun_attribute_channel_number(const struct stun_attribute *attribute, uint16_t *channel)
{
	if (attribute->length != 4)
		return false;
	*channel = stun_read16(attribute->value);
	return true;
}

bool stun_attribute_requested_transport(const struct stun_attribute *attribute, uint8_t *protocol)
{
	if (attribute->length != 4)
		return false;
	*protocol = attribute->value[0];
	return true;
}

bool stun_attribute_address_family(const struct stun_attribute *attribute, int *family)
{
	if (attribute->length != 4)
		return false;
	switch (attribute->value[0]) {
	case FAMILY_IPV4:
		*family = AF_INET;
		return true;
	case FAMILY_IPV6:
		*family = AF_INET6;
		return true;
	default:
		return false;
	}
}

bool stun_attribute_even_port(const struct stun_attribute *attribute, bool *reserve_next)
{
	if (attribute->length != 1)
		return false;
	*reserve_next = (attribute->value[0] & 0x80) != 0;
	return true;
}

bool stun_attribute_error_code(const struct stun_attribute *attribute, unsigned *code,
			       const uint8_t **reason, size_t *reason_length)
{
	if (attribute->length < 4 || attribute->length - 4 > STUN_TEXT_BYTES_MAX)
		return false;
	unsigned error_class = attribute->value[2] & 0x07;
	unsigned number = attribute->value[3];
	if (error_class < 3 || error_class > 6 || number > 99)
		return false;
	*code = error_class * 100 + number;
	*reason = attribute->value + 4;
	*reason_length = attribute->length - 4u;
	return true;
}

static const struct {
	unsigned code;
	const char *phrase;
} error_phrases[] = {
	{ 300, "Try Alternate" },
	{ 400, "Bad Request" },
	{ 401, "Unauthenticated" },
	{ 403, "Forbidden" },
	{ 420, "Unknown Attribute" },
	{ 437, "Allocation Mismatch" },
	{ 438, "Stale Nonce" },
	{ 440, "Address Family not Supported" },
	{ 441, "Wrong Credentials" },
	{ 442, "Unsupported Transport Protocol" },
	{ 443, "Peer Address Family Mismatch" },
	{ 446, "Connection Already Exists" },
	{ 447, "Connection Timeout or Failure" },
	{ 486, "Allocation Quota Reached" },
	{ 500, "Server Error" },
	{ 508, "Insufficient Capacity" },
};

const char *stun_error_phrase(unsigned code)
{
	for (size_t i = 0; i < sizeof(error_phrases) / sizeof(error_phrases[0]); i++)
		if (error_phrases[i].code == code)
			return error_phrases[i].phrase;
	return NULL;
}
