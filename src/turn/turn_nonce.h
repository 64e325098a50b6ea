/* SPDX-License-Identifier: ISC */
/* turn_nonce: the NONCE of TURN's long-term credentials (RFC 8489 §9.2),
 * made and checked without keeping anything per client.
 *
 * A nonce is a MAC over when it was made and to whom, under a secret this
 * process draws at start:
 *
 *   "obMatJos2" base64(features | stamp | mac)
 *
 *   features  3 bytes: the security feature bits this server offers
 *   stamp     8 bytes, big-endian: NOW when the nonce was made
 *   mac       16 bytes: HMAC-SHA256(secret, features | stamp | family |
 *             address) truncated; family 1 byte (4 or 6), address 4 or 16
 *             bytes.  Not the port: an RFC 6062 ConnectionBind comes on a
 *             new TCP connection, from another port, with the nonce of the
 *             client's control connection (coturn's clients never take a
 *             challenge there), and a NAT may move a client's port.
 *
 * which is RFC 8489 §9.2's nonce cookie followed by the feature set in
 * base64 (the first 4 characters of the base64, as 3 bytes encode to 4),
 * then the rest; RFC 5389 clients take the whole as opaque.  The bits are
 * under the MAC, so a man in the middle who clears them (to bid the
 * client down to MD5) makes the nonce invalid.  The whole is
 * TURN_NONCE_LENGTH characters (27 bytes are 36 of base64, no padding),
 * well inside the 128 RFC 8489 allows, none of them one that a
 * quoted-string would have to escape.
 *
 * So a flood of Allocates from spoofed sources costs a MAC each and leaves
 * memory flat: nothing is stored before a client has proven its
 * credentials, and a nonce seen from another address is not one that
 * client was given.
 *
 * A key holds a keyed HMAC context that changes with every MAC, so one key
 * serves one thread at a time: each worker keys its own from the process's
 * one secret, so a nonce one worker made is good at every other. */
#ifndef SXEDGE_TURN_NONCE_H
#define SXEDGE_TURN_NONCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/types.h>

#define TURN_NONCE_SECRET_SIZE 32
#define TURN_NONCE_LENGTH      45 /* characters, without the NUL */
#define TURN_NONCE_SIZE	       (TURN_NONCE_LENGTH + 1)

/* RFC 8489 §18.1, the security feature set (24 bits, the first the most
 * significant): the server supports PASSWORD-ALGORITHMS, or USERHASH.
 * Offer only what the message handler does: with PASSWORD_ALGORITHMS set,
 * every 401 and 438 must carry PASSWORD-ALGORITHMS and a request that
 * sends PASSWORD-ALGORITHM must echo it (RFC 8489 §9.2.4, §9.2.5). */
#define TURN_NONCE_FEATURE_PASSWORD_ALGORITHMS 0x800000u
#define TURN_NONCE_FEATURE_USERNAME_ANONYMITY  0x400000u
#define TURN_NONCE_FEATURES_MASK	       0xffffffu

struct turn_nonce_key {
	EVP_MAC_CTX *mac; /* HMAC-SHA256 keyed with the secret */
	uint32_t lifetime; /* seconds a nonce stays good */
	uint32_t features; /* TURN_NONCE_FEATURE_* bits this server offers */
};

/* What a NONCE attribute is, seen from CLIENT at NOW. */
enum turn_nonce_status {
	TURN_NONCE_VALID,
	/* Made here for this client, but LIFETIME has passed since (or it
	 * claims to be from later than NOW: the clock went back).  The
	 * answer is 438 Stale Nonce with a fresh one, and a client that
	 * knows its password simply tries again. */
	TURN_NONCE_STALE,
	/* Not made by this key for this client with these features: another
	 * process's, another address's, altered, or not of the form.
	 * RFC 8489 §9.2.4 answers it as it answers a stale one (438 with a
	 * fresh nonce: a client whose NAT moved it to another address gets
	 * one that works from there); the two are told apart for the
	 * logs and metrics, where forgeries must not hide among old nonces. */
	TURN_NONCE_INVALID,
};

/* "valid", "stale", "invalid" (for logs and metrics); "unknown" outside
 * the enum. */
const char *turn_nonce_status_name(enum turn_nonce_status status);

/* Builds KEY from SECRET (the process draws it with RAND_bytes at start
 * and keeps no other copy), the LIFETIME in seconds (the configuration's
 * nonce lifetime) and the FEATURES bits to offer (masked to 24 bits).
 * Returns 0, or -1 for a LIFETIME of 0 (every nonce would be stale at
 * once, and clients would be sent 438 for ever) or when OpenSSL has no
 * HMAC-SHA256 or no memory (KEY then holds nothing to clear). */
int turn_nonce_key_init(struct turn_nonce_key *key,
			const unsigned char secret[TURN_NONCE_SECRET_SIZE], uint32_t lifetime,
			uint32_t features);

/* Frees what turn_nonce_key_init built; a zeroed or cleared KEY is left
 * alone. */
void turn_nonce_key_clear(struct turn_nonce_key *key);

/* Writes the nonce for CLIENT (an AF_INET or AF_INET6 address and its
 * port, as the request came from) at NOW and a NUL into OUT.
 *
 * NOW is in seconds of any clock that never goes back while the process
 * runs (CLOCK_MONOTONIC is the one to use): the same clock must be given
 * to turn_nonce_check.  Returns TURN_NONCE_LENGTH, or 0 (OUT the empty
 * string) for another family or when OpenSSL failed. */
size_t turn_nonce_make(const struct turn_nonce_key *key, uint64_t now,
		       const struct sockaddr_storage *client, char out[TURN_NONCE_SIZE]);

/* Judges the LENGTH bytes at NONCE (the attribute's value, no NUL needed)
 * as sent by CLIENT at NOW.  Good for LIFETIME seconds: VALID while
 * stamp <= NOW < stamp + lifetime, STALE from stamp + lifetime on (and
 * when NOW < stamp).  The MAC is compared in constant time, and only a
 * nonce whose MAC is good is ever STALE. */
enum turn_nonce_status turn_nonce_check(const struct turn_nonce_key *key, uint64_t now,
					const struct sockaddr_storage *client, const char *nonce,
					size_t length);

#endif
