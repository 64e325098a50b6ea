/* SPDX-License-Identifier: ISC */
/* stun_attribute: the values of the STUN and TURN attributes the edge reads
 * and writes, decoded from a message view (stun_message.h) and encoded for
 * the builder (stun_builder.h).  Pure, no allocation.  Every decoder checks
 * the value's length and form and returns false for anything else, which
 * a request handler answers with 400 Bad Request (RFC 8489 §6.3.1.1).
 *
 * Addresses are struct sockaddr_storage holding a sockaddr_in or
 * sockaddr_in6 with the port in network order, as the socket calls take
 * them.  The XOR forms (XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS,
 * XOR-RELAYED-ADDRESS) are xor'ed with the magic cookie and, for IPv6, the
 * transaction id (RFC 8489 §14.2); MAPPED-ADDRESS and ALTERNATE-SERVER are
 * not (§14.1). */
#ifndef SXEDGE_TURN_STUN_ATTRIBUTE_H
#define SXEDGE_TURN_STUN_ATTRIBUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun_message.h"

/* The longest address value: family, port and an IPv6 address. */
#define STUN_ADDRESS_VALUE_MAX 20

/* The protocol numbers of REQUESTED-TRANSPORT (RFC 8656 §18.7, RFC 6062). */
#define STUN_TRANSPORT_UDP 17
#define STUN_TRANSPORT_TCP 6

/* The longest reason phrase and text value an agent may send: fewer than
 * 128 characters, at most 763 bytes of UTF-8 (RFC 8489 §14.8, §14.9). */
#define STUN_TEXT_CHARACTERS_MAX 127
#define STUN_TEXT_BYTES_MAX	 763

/* Is TYPE one of the address attributes xor'ed with the cookie? */
bool stun_attribute_is_xor_address(uint16_t type);

/* Decodes the address attribute ATTRIBUTE of MESSAGE (xor'ed or not by its
 * type) into OUT: false when the family is neither IPv4 (0x01, 8 bytes)
 * nor IPv6 (0x02, 20 bytes) or the length does not match it. */
bool stun_attribute_address(const struct stun_message *message,
			    const struct stun_attribute *attribute, struct sockaddr_storage *out);

/* Encodes ADDRESS (AF_INET or AF_INET6) as the value of an address
 * attribute of TYPE in a message with TRANSACTION_ID.  Returns the value's
 * length (8 or 20), or 0 for another family. */
size_t stun_address_encode(uint16_t type, const struct sockaddr_storage *address,
			   const uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE],
			   uint8_t out[STUN_ADDRESS_VALUE_MAX]);

/* A 32-bit value: LIFETIME (seconds), CONNECTION-ID. */
bool stun_attribute_u32(const struct stun_attribute *attribute, uint32_t *value);

/* CHANNEL-NUMBER: the number (the RFFU half is ignored, RFC 8656 §18.1);
 * whether it is in the channel range is channel_number_is_valid's call. */
bool stun_attribute_channel_number(const struct stun_attribute *attribute, uint16_t *channel);

/* REQUESTED-TRANSPORT: the protocol number (STUN_TRANSPORT_UDP or _TCP
 * are the ones TURN knows; another one is the handler's 442). */
bool stun_attribute_requested_transport(const struct stun_attribute *attribute, uint8_t *protocol);

/* REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY: AF_INET for
 * 0x01, AF_INET6 for 0x02; false for another family (the handler's 440). */
bool stun_attribute_address_family(const struct stun_attribute *attribute, int *family);

/* EVEN-PORT: whether the R bit asks for the next port to be reserved. */
bool stun_attribute_even_port(const struct stun_attribute *attribute, bool *reserve_next);

/* ERROR-CODE: the code (300 to 699) and the reason phrase, which points
 * into the message and is not terminated (RFC 8489 §14.8). */
bool stun_attribute_error_code(const struct stun_attribute *attribute, unsigned *code,
			       const uint8_t **reason, size_t *reason_length);

/* The reason phrase the RFCs suggest for CODE (RFC 8489 §14.8, RFC 8656
 * §19, RFC 6062 §6.3), e.g. "Allocation Quota Reached" for 486; NULL for a
 * code they do not name. */
const char *stun_error_phrase(unsigned code);

#endif
