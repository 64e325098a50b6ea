/* SPDX-License-Identifier: ISC */
/* stun_message: reads one STUN message (RFC 8489 §5, §14) into a view that
 * points into the bytes received, checking every length against them, and
 * names the reason when it refuses one.  Pure and allocation-free: the view
 * is a fixed-size structure the caller owns (on its stack), and stays valid
 * for as long as the bytes it was read from stay as they are.
 *
 * What reading checks, so that nothing above it need check again:
 *   - the header: the first two bits zero, the magic cookie, a length that
 *     is a multiple of 4 and exactly the bytes given (no more, no fewer);
 *   - every attribute's value and padding inside the message;
 *   - MESSAGE-INTEGRITY is 20 bytes, MESSAGE-INTEGRITY-SHA256 16 to 32 in
 *     steps of 4, FINGERPRINT 4 and the last attribute, with the right CRC;
 *   - attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256
 *     and FINGERPRINT, and after MESSAGE-INTEGRITY-SHA256 other than
 *     FINGERPRINT, are ignored as §14.5 and §14.6 say: they are walked over
 *     (their lengths checked) but left out of the view, so no lookup finds
 *     an attribute that integrity does not cover.
 * What it does not check: whether the method and class make sense where the
 * message arrived, the attribute values (stun_attribute.h decodes those),
 * integrity (stun_integrity.h) and which attributes are understood
 * (stun_message_unknown_required). */
#ifndef SXEDGE_TURN_STUN_MESSAGE_H
#define SXEDGE_TURN_STUN_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER_SIZE	 20
#define STUN_MAGIC_COOKIE	 0x2112A442u
#define STUN_TRANSACTION_ID_SIZE 12
/* The largest message: the length field is 16 bits and a multiple of 4. */
#define STUN_MESSAGE_MAX (STUN_HEADER_SIZE + 0xFFFC)
/* More attributes than any real request carries (an Allocate with every
 * option has about a dozen); a message with more is refused, so the view
 * stays a fixed size. */
#define STUN_ATTRIBUTES_MAX 32

/* Methods: RFC 8489 §18.2, RFC 8656 §17, RFC 6062 §6.1. */
enum stun_method {
	STUN_METHOD_BINDING = 0x001,
	STUN_METHOD_ALLOCATE = 0x003,
	STUN_METHOD_REFRESH = 0x004,
	STUN_METHOD_SEND = 0x006,
	STUN_METHOD_DATA = 0x007,
	STUN_METHOD_CREATE_PERMISSION = 0x008,
	STUN_METHOD_CHANNEL_BIND = 0x009,
	STUN_METHOD_CONNECT = 0x00A,
	STUN_METHOD_CONNECTION_BIND = 0x00B,
	STUN_METHOD_CONNECTION_ATTEMPT = 0x00C,
};

/* The two class bits of the message type (RFC 8489 §5). */
enum stun_class {
	STUN_CLASS_REQUEST = 0,
	STUN_CLASS_INDICATION = 1,
	STUN_CLASS_SUCCESS = 2,
	STUN_CLASS_ERROR = 3,
};

/* Attribute types: RFC 8489 §18.3, RFC 8656 §18, RFC 6062 §6.2.  Below
 * 0x8000 an agent that does not understand the attribute must refuse the
 * request (420); from 0x8000 on it may ignore it. */
enum stun_attribute_type {
	STUN_ATTRIBUTE_MAPPED_ADDRESS = 0x0001,
	STUN_ATTRIBUTE_USERNAME = 0x0006,
	STUN_ATTRIBUTE_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTRIBUTE_ERROR_CODE = 0x0009,
	STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES = 0x000A,
	STUN_ATTRIBUTE_CHANNEL_NUMBER = 0x000C,
	STUN_ATTRIBUTE_LIFETIME = 0x000D,
	STUN_ATTRIBUTE_XOR_PEER_ADDRESS = 0x0012,
	STUN_ATTRIBUTE_DATA = 0x0013,
	STUN_ATTRIBUTE_REALM = 0x0014,
	STUN_ATTRIBUTE_NONCE = 0x0015,
	STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS = 0x0016,
	STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY = 0x0017,
	STUN_ATTRIBUTE_EVEN_PORT = 0x0018,
	STUN_ATTRIBUTE_REQUESTED_TRANSPORT = 0x0019,
	STUN_ATTRIBUTE_DONT_FRAGMENT = 0x001A,
	STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	STUN_ATTRIBUTE_PASSWORD_ALGORITHM = 0x001D,
	STUN_ATTRIBUTE_USERHASH = 0x001E,
	STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTRIBUTE_RESERVATION_TOKEN = 0x0022,
	STUN_ATTRIBUTE_CONNECTION_ID = 0x002A,
	STUN_ATTRIBUTE_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
	STUN_ATTRIBUTE_ADDRESS_ERROR_CODE = 0x8001,
	STUN_ATTRIBUTE_PASSWORD_ALGORITHMS = 0x8002,
	STUN_ATTRIBUTE_ALTERNATE_DOMAIN = 0x8003,
	STUN_ATTRIBUTE_ICMP = 0x8004,
	STUN_ATTRIBUTE_SOFTWARE = 0x8022,
	STUN_ATTRIBUTE_ALTERNATE_SERVER = 0x8023,
	STUN_ATTRIBUTE_FINGERPRINT = 0x8028,
};

/* Why stun_message_parse refused a message, X(ID, name): the name is
 * stable (snake_case) and is what logs and the metric of dropped packets
 * say.  A refused message is dropped without an answer (RFC 8489 §6.3). */
#define STUN_PARSE_RESULTS(X)                                         \
	X(OK, "ok")                                                   \
	X(SHORTER_THAN_HEADER, "shorter_than_header")                 \
	X(NOT_STUN, "not_stun") /* the first two bits are not zero */ \
	X(BAD_MAGIC_COOKIE, "bad_magic_cookie")                       \
	X(LENGTH_NOT_MULTIPLE_OF_4, "length_not_multiple_of_4")       \
	X(LENGTH_BEYOND_DATAGRAM, "length_beyond_datagram")           \
	X(BYTES_AFTER_MESSAGE, "bytes_after_message")                 \
	X(ATTRIBUTE_BEYOND_MESSAGE, "attribute_beyond_message")       \
	X(TOO_MANY_ATTRIBUTES, "too_many_attributes")                 \
	X(BAD_INTEGRITY_LENGTH, "bad_integrity_length")               \
	X(BAD_INTEGRITY_SHA256_LENGTH, "bad_integrity_sha256_length") \
	X(BAD_FINGERPRINT_LENGTH, "bad_fingerprint_length")           \
	X(FINGERPRINT_NOT_LAST, "fingerprint_not_last")               \
	X(BAD_FINGERPRINT, "bad_fingerprint") /* the CRC does not match */

#define STUN_PARSE_ENUM(id, name) STUN_PARSE_##id,
enum stun_parse_result {
	STUN_PARSE_RESULTS(STUN_PARSE_ENUM)
};
#undef STUN_PARSE_ENUM

/* One attribute as it was received.  VALUE points into the message and
 * holds LENGTH bytes (the padding after it is not counted, nor checked:
 * RFC 8489 §14 lets a sender put anything there). */
struct stun_attribute {
	uint16_t type;
	uint16_t length;
	const uint8_t *value;
};

/* The view of one message.  BYTES and LENGTH are the whole message (header
 * included), exactly the bytes given to stun_message_parse. */
struct stun_message {
	const uint8_t *bytes;
	size_t length;
	uint16_t method; /* 12 bits */
	enum stun_class message_class;
	const uint8_t *transaction_id; /* STUN_TRANSACTION_ID_SIZE bytes at bytes + 8 */
	/* The attributes that count, in the order received: those that §14.5
	 * and §14.6 say to ignore are not here. */
	struct stun_attribute attributes[STUN_ATTRIBUTES_MAX];
	unsigned count;
	/* Index in attributes[] of each, or -1 when absent. */
	int integrity;
	int integrity_sha256;
	int fingerprint;
	/* How many attributes were walked over and ignored. */
	unsigned ignored;
};

/* Reads the LENGTH bytes at BYTES, which must be one whole message: a
 * datagram, or one frame cut by stun_frame_next.  On STUN_PARSE_OK fills
 * MESSAGE; on anything else MESSAGE holds nothing to use. */
enum stun_parse_result stun_message_parse(const uint8_t *bytes, size_t length,
					  struct stun_message *message);

/* The stable name of RESULT, e.g. "bad_magic_cookie". */
const char *stun_parse_result_name(enum stun_parse_result result);

/* The 16-bit message type of METHOD (12 bits) in CLASS, and back. */
uint16_t stun_message_type(uint16_t method, enum stun_class message_class);
uint16_t stun_message_type_method(uint16_t type);
enum stun_class stun_message_type_class(uint16_t type);

/* The first attribute of TYPE in MESSAGE, or NULL.  With AFTER (an element
 * of MESSAGE's attributes[]) the first one of TYPE after it: a
 * CreatePermission may carry several XOR-PEER-ADDRESS attributes. */
const struct stun_attribute *stun_message_find(const struct stun_message *message, uint16_t type);
const struct stun_attribute *stun_message_find_next(const struct stun_message *message,
						    const struct stun_attribute *after,
						    uint16_t type);

/* Types below 0x8000 must be understood, or the request refused (§14). */
bool stun_attribute_is_comprehension_required(uint16_t type);

/* The comprehension-required attributes of MESSAGE whose types are not
 * among the UNDERSTOOD_COUNT types at UNDERSTOOD, each type once, in the
 * order first seen: what a 420 answer to a request lists in
 * UNKNOWN-ATTRIBUTES (an indication with any is dropped, RFC 8489 §6.3.2,
 * and a response with any fails its transaction, §6.3.3).  Writes
 * at most UNKNOWN_MAX of them to UNKNOWN and returns how many it wrote (0:
 * every such attribute is understood).  The message view holds at most
 * STUN_ATTRIBUTES_MAX attributes, so UNKNOWN_MAX of that many never cuts
 * the list short.  The caller lists what it understands (MESSAGE-INTEGRITY
 * and MESSAGE-INTEGRITY-SHA256 included, when it checks them): the codec
 * knows the formats, only the message handler knows what it acts on. */
size_t stun_message_unknown_required(const struct stun_message *message, const uint16_t *understood,
				     size_t understood_count, uint16_t *unknown,
				     size_t unknown_max);

/* The FINGERPRINT value of the first LENGTH bytes of a message: CRC-32
 * (ISO HDLC, as zlib's crc32) xor 0x5354554e (RFC 8489 §14.7).  Those
 * bytes must already carry the header length that counts FINGERPRINT. */
uint32_t stun_fingerprint(const uint8_t *bytes, size_t length);

/* Big-endian reads and writes, shared by the codec's files. */
static inline uint16_t stun_read16(const uint8_t *bytes)
{
	return (uint16_t)(bytes[0] << 8 | bytes[1]);
}

static inline uint32_t stun_read32(const uint8_t *bytes)
{
	return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 |
	       bytes[3];
}

static inline void stun_write16(uint8_t *bytes, uint16_t value)
{
	bytes[0] = (uint8_t)(value >> 8);
	bytes[1] = (uint8_t)value;
}

static inline void stun_write32(uint8_t *bytes, uint32_t value)
{
	bytes[0] = (uint8_t)(value >> 24);
	bytes[1] = (uint8_t)(value >> 16);
	bytes[2] = (uint8_t)(value >> 8);
	bytes[3] = (uint8_t)value;
}

#endif
