/* SPDX-License-Identifier: ISC */
/* stun_integrity: MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and
 * MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, §14.6): the MAC over a message up
 * to the integrity attribute, computed as if the header's length ended
 * with that attribute, and its check on a received message.
 *
 * The key is the caller's: for the short-term mechanism the password
 * itself (after OpaqueString), for the long-term one MD5 or SHA-256 of
 * "username:realm:password" (§9.2.2; turn_credentials makes it).
 *
 * The HMAC contexts are fetched and made once (stun_hmac_init) and only
 * re-keyed per message, as flow_key does for the SIP side: no algorithm
 * look-up and no context made per message.  (OpenSSL 3.0 still allocates
 * a few small blocks inside each keyed MAC, 5 for init and final: only
 * messages with integrity pay that, never relayed data.)  A struct
 * stun_hmac changes with every MAC, so it serves one thread at a time
 * (one per worker). */
#ifndef SXEDGE_TURN_STUN_INTEGRITY_H
#define SXEDGE_TURN_STUN_INTEGRITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "stun_message.h"

#define STUN_INTEGRITY_SHA1_SIZE   20
#define STUN_INTEGRITY_SHA256_SIZE 32

enum stun_integrity_kind {
	STUN_INTEGRITY_NONE,
	STUN_INTEGRITY_SHA1, /* MESSAGE-INTEGRITY */
	STUN_INTEGRITY_SHA256, /* MESSAGE-INTEGRITY-SHA256 */
};

struct stun_hmac {
	EVP_MAC_CTX *sha1;
	EVP_MAC_CTX *sha256;
};

/* Builds HMAC.  Returns 0, or -1 when OpenSSL has no HMAC-SHA1 or
 * HMAC-SHA256 or no memory (HMAC then holds nothing to clear). */
int stun_hmac_init(struct stun_hmac *hmac);

/* Frees what stun_hmac_init built; a zeroed or cleared HMAC is left alone. */
void stun_hmac_clear(struct stun_hmac *hmac);

/* The MAC of KIND over the first PREFIX bytes of the message at BYTES (its
 * header and the attributes before the integrity attribute), with the
 * header's length field read as LENGTH_FIELD instead of what BYTES hold.
 * Writes STUN_INTEGRITY_SHA1_SIZE or _SHA256_SIZE bytes to OUT.  False
 * when OpenSSL failed, or PREFIX is shorter than a header. */
bool stun_integrity_compute(struct stun_hmac *hmac, enum stun_integrity_kind kind,
			    const uint8_t *key, size_t key_length, const uint8_t *bytes,
			    size_t prefix, uint16_t length_field, uint8_t *out);

/* The integrity attribute the check should use and an answer should carry:
 * MESSAGE-INTEGRITY-SHA256 when MESSAGE has it, else MESSAGE-INTEGRITY,
 * else none (RFC 8489 §9.2.4: the response carries the same kind). */
enum stun_integrity_kind stun_integrity_strongest(const struct stun_message *message);

enum stun_integrity_result {
	STUN_INTEGRITY_ABSENT, /* MESSAGE has no attribute of that kind */
	STUN_INTEGRITY_VALID,
	STUN_INTEGRITY_INVALID, /* the MAC differs: 401 for a request (§9.2.4) */
	STUN_INTEGRITY_FAILED, /* OpenSSL failed: treat as invalid, answer 500 */
};

/* Checks MESSAGE's attribute of KIND with KEY, in constant time.  A
 * truncated MESSAGE-INTEGRITY-SHA256 (16 to 28 bytes) is compared on its
 * length. */
enum stun_integrity_result stun_integrity_check(struct stun_hmac *hmac,
						const struct stun_message *message,
						enum stun_integrity_kind kind, const uint8_t *key,
						size_t key_length);

#endif
