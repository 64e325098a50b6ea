/* SPDX-License-Identifier: ISC */
/* turn_credentials: who may allocate a relay, without a user database.
 *
 * The edge shares one secret with the service that hands out TURN
 * credentials (the "TURN REST API" scheme coturn calls use-auth-secret):
 *
 *   username = EXPIRY ":" USER      EXPIRY in decimal Unix seconds
 *   password = base64(HMAC-SHA1(secret, username))
 *
 * so any edge node holding the secret can check a username it has never
 * seen, and a username stops working by itself at EXPIRY.  What the
 * client proves in MESSAGE-INTEGRITY is the long-term key of RFC 8489
 * §9.2.2, derived from that password:
 *
 *   MD5(username ":" realm ":" password)      PASSWORD-ALGORITHM MD5 (and
 *                                             every RFC 5389 client)
 *   SHA-256(username ":" realm ":" password)  PASSWORD-ALGORITHM SHA-256
 *
 * The key depends on the password algorithm only: MESSAGE-INTEGRITY is
 * HMAC-SHA1 and MESSAGE-INTEGRITY-SHA256 HMAC-SHA256 under the same key.
 *
 * RFC 8489 passes realm and password through OpaqueString (RFC 8265)
 * first; the password here is base64 and the realm comes from the
 * configuration, both printable ASCII, which OpaqueString leaves as they
 * are, so the bytes are used as given.
 *
 * Everything is pure: the time is a parameter, nothing is stored, and a
 * username is refused with a named reason (which the message handler logs
 * and counts) before any MAC is computed. */
#ifndef SXEDGE_TURN_CREDENTIALS_H
#define SXEDGE_TURN_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* base64 of a 20-byte HMAC-SHA1 is 28 characters (one '=' of padding). */
#define TURN_PASSWORD_LENGTH 28
#define TURN_PASSWORD_SIZE   (TURN_PASSWORD_LENGTH + 1) /* with the NUL */

/* RFC 8489 §14.3: USERNAME holds fewer than 509 bytes. */
#define TURN_USERNAME_MAX_LENGTH 508

/* The longest long-term key (SHA-256); an MD5 key is 16 bytes. */
#define TURN_KEY_MAX_SIZE    32
#define TURN_KEY_MD5_SIZE    16
#define TURN_KEY_SHA256_SIZE 32

/* Why a username is, or is not, one the shared secret could have issued. */
enum turn_username_status {
	TURN_USERNAME_OK,
	TURN_USERNAME_EXPIRED, /* well formed, but now is after its expiry */
	TURN_USERNAME_EMPTY, /* no bytes at all */
	TURN_USERNAME_TOO_LONG, /* more than TURN_USERNAME_MAX_LENGTH bytes */
	TURN_USERNAME_NO_COLON, /* no ':' between expiry and user */
	TURN_USERNAME_BAD_EXPIRY, /* expiry empty or not only decimal digits */
	TURN_USERNAME_EXPIRY_OVERFLOW, /* expiry does not fit in 64 bits */
	TURN_USERNAME_EMPTY_USER, /* nothing after the ':' */
	TURN_USERNAME_CONTROL_CHARACTER, /* a byte below 0x20 or 0x7f: never logged */
};

/* A stable lower-case name for STATUS ("expired", "no_colon"...), for the
 * log's reason= and the refusal metric's label; "unknown" outside the enum. */
const char *turn_username_status_name(enum turn_username_status status);

/* A username cut into its parts: USER points into the bytes parsed. */
struct turn_username {
	uint64_t expiry; /* Unix seconds; the last second the username is good */
	const char *user;
	size_t user_length;
};

/* Parses the LENGTH bytes at USERNAME (not NUL-terminated: the USERNAME
 * attribute's value) and judges them at NOW (Unix seconds, the wall
 * clock: expiry is wall-clock time on the issuer's side too).  A username
 * is good up to and including its expiry second: TURN_USERNAME_EXPIRED
 * only once NOW > expiry.  The first ':' separates expiry from user (the
 * user may hold more).  *OUT is filled on TURN_USERNAME_OK and on
 * TURN_USERNAME_EXPIRED (so the refusal can name the user), and left
 * alone otherwise; OUT may be NULL. */
enum turn_username_status turn_username_parse(const char *username, size_t length, uint64_t now,
					      struct turn_username *out);

/* Writes base64(HMAC-SHA1(SECRET, USERNAME)) and a NUL into PASSWORD: the
 * password the credential service handed out with USERNAME.  Returns
 * false when OpenSSL failed (PASSWORD is then the empty string, which no
 * check accepts). */
bool turn_password(const void *secret, size_t secret_length, const char *username,
		   size_t username_length, char password[TURN_PASSWORD_SIZE]);

/* The algorithms of RFC 8489 §18.5 (the values PASSWORD-ALGORITHM carries). */
enum turn_password_algorithm {
	TURN_PASSWORD_ALGORITHM_MD5 = 0x0001,
	TURN_PASSWORD_ALGORITHM_SHA256 = 0x0002,
};

/* The long-term key of RFC 8489 §9.2.2 for USERNAME, REALM and PASSWORD
 * under ALGORITHM, written into KEY.  Returns its length
 * (TURN_KEY_MD5_SIZE or TURN_KEY_SHA256_SIZE), or 0 for an algorithm
 * outside the enum or when OpenSSL failed (KEY is then zeroed). */
size_t turn_long_term_key(enum turn_password_algorithm algorithm, const char *username,
			  size_t username_length, const char *realm, size_t realm_length,
			  const char *password, size_t password_length,
			  unsigned char key[TURN_KEY_MAX_SIZE]);

/* Both steps for an ephemeral username: the password from SECRET, then
 * the long-term key, as the message handler needs it to check
 * MESSAGE-INTEGRITY.  It does not judge the username: call
 * turn_username_parse first and compute no key for a refused one.
 * Returns the key's length, 0 when OpenSSL failed.  No password is left
 * in memory. */
size_t turn_ephemeral_key(const void *secret, size_t secret_length,
			  enum turn_password_algorithm algorithm, const char *username,
			  size_t username_length, const char *realm, size_t realm_length,
			  unsigned char key[TURN_KEY_MAX_SIZE]);

#endif
