/* SPDX-License-Identifier: ISC */
/* turn_nonce: stateless TURN nonces made and checked (layout and rules in
 * turn_nonce.h).
 *
 * Checking is strict on purpose: a nonce comes back from the network, so
 * anything but the exact length, cookie and canonical base64 is invalid
 * before the MAC is even computed, and the MAC is compared in constant
 * time. */
#include "turn_nonce.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "big_endian.h"

#define NONCE_COOKIE	    "obMatJos2"
#define NONCE_COOKIE_LENGTH 9
#define FEATURES_SIZE	    3
#define STAMP_SIZE	    8
#define MAC_SIZE	    16
#define RAW_SIZE	    (FEATURES_SIZE + STAMP_SIZE + MAC_SIZE) /* 27 */
#define ENCODED_LENGTH	    (RAW_SIZE / 3 * 4) /* 36 */
#define SHA256_SIZE	    32
/* features, stamp, family, an IPv6 address */
#define SIGNED_MAX_SIZE (FEATURES_SIZE + STAMP_SIZE + 1 + 16)

_Static_assert(NONCE_COOKIE_LENGTH + ENCODED_LENGTH == TURN_NONCE_LENGTH,
	       "the nonce's length is the cookie's and the base64's");

static const char *const status_names[] = {
	[TURN_NONCE_VALID] = "valid",
	[TURN_NONCE_STALE] = "stale",
	[TURN_NONCE_INVALID] = "invalid",
};

const char *turn_nonce_status_name(enum turn_nonce_status status)
{
	if ((size_t)status >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[status];
}

/* ---- the key ---- */

int turn_nonce_key_init(struct turn_nonce_key *key,
			const unsigned char secret[TURN_NONCE_SECRET_SIZE], uint32_t lifetime,
			uint32_t features)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *hmac;

	key->mac = NULL;
	if (lifetime == 0)
		return -1;
	key->lifetime = lifetime;
	key->features = features & TURN_NONCE_FEATURES_MASK;
	hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	key->mac = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	EVP_MAC_free(hmac); /* the context holds its own reference */
	if (key->mac == NULL ||
	    EVP_MAC_init(key->mac, secret, TURN_NONCE_SECRET_SIZE, params) != 1) {
		turn_nonce_key_clear(key);
		return -1;
	}
	return 0;
}

void turn_nonce_key_clear(struct turn_nonce_key *key)
{
	EVP_MAC_CTX_free(key->mac); /* cleanses the keyed state */
	key->mac = NULL;
}

/* ---- the MAC ---- */

/* The MAC over RAW's features and stamp and CLIENT.  False for a family
 * other than IPv4 and IPv6, or when OpenSSL failed. */
static bool nonce_mac(const struct turn_nonce_key *key, const unsigned char *raw,
		      const struct sockaddr_storage *client, unsigned char mac[MAC_SIZE])
{
	unsigned char signed_part[SIGNED_MAX_SIZE];
	unsigned char digest[SHA256_SIZE];
	size_t length = FEATURES_SIZE + STAMP_SIZE, digest_length = 0;
	bool made;

	memcpy(signed_part, raw, length);
	if (client->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)client;
		signed_part[length++] = 4;
		memcpy(signed_part + length, &in->sin_addr, 4);
		length += 4;
	} else if (client->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)client;
		signed_part[length++] = 6;
		memcpy(signed_part + length, &in6->sin6_addr, 16);
		length += 16;
	} else {
		return false;
	}
	/* No key given: HMAC starts again from the key it was built with. */
	made = key->mac != NULL && EVP_MAC_init(key->mac, NULL, 0, NULL) == 1 &&
	       EVP_MAC_update(key->mac, signed_part, length) == 1 &&
	       EVP_MAC_final(key->mac, digest, &digest_length, sizeof(digest)) == 1 &&
	       digest_length == sizeof(digest);
	if (made)
		memcpy(mac, digest, MAC_SIZE);
	OPENSSL_cleanse(digest, sizeof(digest));
	return made;
}

/* ---- making and checking ---- */

size_t turn_nonce_make(const struct turn_nonce_key *key, uint64_t now,
		       const struct sockaddr_storage *client, char out[TURN_NONCE_SIZE])
{
	unsigned char raw[RAW_SIZE];

	big_endian_put(raw, key->features, FEATURES_SIZE);
	big_endian_put(raw + FEATURES_SIZE, now, STAMP_SIZE);
	if (!nonce_mac(key, raw, client, raw + FEATURES_SIZE + STAMP_SIZE)) {
		out[0] = '\0';
		return 0;
	}
	memcpy(out, NONCE_COOKIE, NONCE_COOKIE_LENGTH);
	EVP_EncodeBlock((unsigned char *)out + NONCE_COOKIE_LENGTH, raw, RAW_SIZE); /* and a NUL */
	return TURN_NONCE_LENGTH;
}

/* Decodes the ENCODED_LENGTH characters at TEXT into RAW, only when they
 * are the one canonical base64 spelling of RAW_SIZE bytes (EVP_DecodeBlock
 * alone would skip white space). */
static bool decode_canonical(const char *text, unsigned char raw[RAW_SIZE])
{
	unsigned char decoded[ENCODED_LENGTH / 4 * 3];
	unsigned char again[ENCODED_LENGTH + 1];

	if (EVP_DecodeBlock(decoded, (const unsigned char *)text, ENCODED_LENGTH) != RAW_SIZE)
		return false;
	EVP_EncodeBlock(again, decoded, RAW_SIZE);
	if (memcmp(again, text, ENCODED_LENGTH) != 0)
		return false;
	memcpy(raw, decoded, RAW_SIZE);
	return true;
}

enum turn_nonce_status turn_nonce_check(const struct turn_nonce_key *key, uint64_t now,
					const struct sockaddr_storage *client, const char *nonce,
					size_t length)
{
	unsigned char raw[RAW_SIZE];
	unsigned char mac[MAC_SIZE];
	uint64_t stamp;

	if (nonce == NULL || length != TURN_NONCE_LENGTH ||
	    memcmp(nonce, NONCE_COOKIE, NONCE_COOKIE_LENGTH) != 0 ||
	    !decode_canonical(nonce + NONCE_COOKIE_LENGTH, raw))
		return TURN_NONCE_INVALID;
	/* Features other than the ones offered: made under another
	 * configuration, or bid down on the way (the MAC would fail too;
	 * this says so without computing it). */
	if (big_endian_get(raw, FEATURES_SIZE) != key->features)
		return TURN_NONCE_INVALID;
	if (!nonce_mac(key, raw, client, mac) ||
	    CRYPTO_memcmp(mac, raw + FEATURES_SIZE + STAMP_SIZE, MAC_SIZE) != 0)
		return TURN_NONCE_INVALID;
	stamp = big_endian_get(raw + FEATURES_SIZE, STAMP_SIZE);
	/* Subtraction only once stamp <= now, so nothing wraps. */
	if (now < stamp || now - stamp >= key->lifetime)
		return TURN_NONCE_STALE;
	return TURN_NONCE_VALID;
}
