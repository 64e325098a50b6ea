/* SPDX-License-Identifier: ISC */
/* stun_builder: writes one STUN message into a buffer the caller owns,
 * without allocating: the header, then attributes one call at a time (each
 * padded with zeros to 4 bytes), then MESSAGE-INTEGRITY,
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT in that order (RFC 8489 §14.5 to
 * §14.7).  After every call the buffer holds a whole message (the header's
 * length counts what is there), so integrity and fingerprint are computed
 * over exactly the bytes that go out.
 *
 * Failures are sticky: the first call that cannot do its job (no room
 * left, a value out of range, an attribute after integrity or fingerprint,
 * OpenSSL failing) records why, leaves the buffer as it was and makes
 * every later call do nothing; stun_builder_finish then returns 0.  So a
 * handler adds everything and checks once.
 *
 * Amplification: nothing is written past SIZE bytes, so a handler that
 * must not answer an unauthenticated request with more bytes than it
 * carried builds the answer with SIZE at most the request's length, and
 * an answer that does not fit fails (no_room) rather than going out. */
#ifndef SXEDGE_TURN_STUN_BUILDER_H
#define SXEDGE_TURN_STUN_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun_integrity.h"
#include "stun_message.h"

/* Why a builder stopped, X(ID, name), with stable names for logs. */
#define STUN_BUILD_RESULTS(X)                                                \
	X(OK, "ok")                                                          \
	X(NO_ROOM, "no_room") /* the buffer is full */                       \
	X(OUT_OF_ORDER, "out_of_order") /* after integrity or fingerprint */ \
	X(BAD_VALUE, "bad_value") /* a value the attribute cannot carry */   \
	X(MAC_FAILED, "mac_failed") /* OpenSSL failed */

#define STUN_BUILD_ENUM(id, name) STUN_BUILD_##id,
enum stun_build_result {
	STUN_BUILD_RESULTS(STUN_BUILD_ENUM)
};
#undef STUN_BUILD_ENUM

/* Which of the closing attributes are in (each rules out what comes
 * before it in the order). */
enum stun_build_stage {
	STUN_BUILD_OPEN,
	STUN_BUILD_AFTER_INTEGRITY,
	STUN_BUILD_AFTER_INTEGRITY_SHA256,
	STUN_BUILD_AFTER_FINGERPRINT,
};

struct stun_builder {
	uint8_t *buffer;
	size_t size;
	size_t length; /* bytes written, header included */
	enum stun_build_stage stage;
	enum stun_build_result result; /* the first failure, or STUN_BUILD_OK */
};

/* Starts a message of METHOD and CLASS with TRANSACTION_ID in the SIZE
 * bytes at BUFFER (NO_ROOM when SIZE is under a header). */
void stun_builder_start(struct stun_builder *builder, uint8_t *buffer, size_t size, uint16_t method,
			enum stun_class message_class,
			const uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE]);

/* Starts the answer of CLASS (success or error) to REQUEST: the same
 * method and transaction id.  REQUEST's bytes may be BUFFER itself only
 * if nothing of REQUEST is read after this call. */
void stun_builder_start_response(struct stun_builder *builder, uint8_t *buffer, size_t size,
				 const struct stun_message *request, enum stun_class message_class);

/* An attribute of TYPE with the LENGTH bytes at VALUE (up to 65535; not
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 or FINGERPRINT, which only
 * their own calls write: BAD_VALUE). */
void stun_builder_add(struct stun_builder *builder, uint16_t type, const void *value,
		      size_t length);

/* Room for an attribute of TYPE with a LENGTH-byte value, its header
 * written and its padding zeroed: returns where the value goes (the
 * caller writes it there), or NULL after a failure, the same failures as
 * stun_builder_add.  The value's bytes are not touched, so data already
 * in place stays: a Data indication is built around the peer's datagram
 * received at STUN_HEADER_SIZE + 4 + (8 or 20: XOR-PEER-ADDRESS) + 4 in
 * the buffer, never copied. */
uint8_t *stun_builder_reserve(struct stun_builder *builder, uint16_t type, size_t length);

/* TEXT without its terminating NUL: REALM, NONCE, SOFTWARE, USERNAME. */
void stun_builder_add_text(struct stun_builder *builder, uint16_t type, const char *text);

/* A 32-bit value: LIFETIME, CONNECTION-ID. */
void stun_builder_add_u32(struct stun_builder *builder, uint16_t type, uint32_t value);

/* An address attribute of TYPE (XOR-MAPPED-ADDRESS, XOR-RELAYED-ADDRESS,
 * XOR-PEER-ADDRESS xor'ed with this message's cookie and transaction id;
 * MAPPED-ADDRESS, ALTERNATE-SERVER plain).  BAD_VALUE for a family other
 * than AF_INET or AF_INET6. */
void stun_builder_add_address(struct stun_builder *builder, uint16_t type,
			      const struct sockaddr_storage *address);

/* ERROR-CODE with CODE (300 to 699) and REASON, or the RFCs' phrase for
 * CODE when REASON is NULL (stun_error_phrase); BAD_VALUE for a code out
 * of range, no phrase, or a phrase of 128 characters or more than 763
 * bytes (RFC 8489 §14.8). */
void stun_builder_add_error_code(struct stun_builder *builder, unsigned code, const char *reason);

/* UNKNOWN-ATTRIBUTES listing the COUNT types at TYPES (what
 * stun_message_unknown_required found); BAD_VALUE for none. */
void stun_builder_add_unknown_attributes(struct stun_builder *builder, const uint16_t *types,
					 size_t count);

/* MESSAGE-INTEGRITY (KIND SHA1) or MESSAGE-INTEGRITY-SHA256 (KIND SHA256,
 * the whole 32 bytes) over what is written so far, keyed with KEY.  SHA1
 * comes before SHA256 when a message carries both. */
void stun_builder_add_integrity(struct stun_builder *builder, struct stun_hmac *hmac,
				enum stun_integrity_kind kind, const uint8_t *key,
				size_t key_length);

/* FINGERPRINT over what is written so far: the last attribute. */
void stun_builder_add_fingerprint(struct stun_builder *builder);

/* The message's length in the buffer, or 0 after a failure. */
size_t stun_builder_finish(const struct stun_builder *builder);

/* The stable name of RESULT, e.g. "no_room". */
const char *stun_build_result_name(enum stun_build_result result);

#endif
