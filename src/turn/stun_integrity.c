/* SPDX-License-Identifier: ISC */
/* stun_integrity: the HMACs of MESSAGE-INTEGRITY and
 * MESSAGE-INTEGRITY-SHA256 (what is covered, and who owns the contexts, in
 * stun_integrity.h). */
#include "stun_integrity.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static EVP_MAC_CTX *new_context(EVP_MAC *mac, const char *digest)
{
	/* A context needs a key before it can take its digest's name; the
	 * empty key is replaced by every MAC computed. */
	static const unsigned char no_key[1];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);

	if (context != NULL && EVP_MAC_init(context, no_key, sizeof(no_key), params) != 1) {
		EVP_MAC_CTX_free(context);
		return NULL;
	}
	return context;
}

int stun_hmac_init(struct stun_hmac *hmac)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);

	hmac->sha1 = mac != NULL ? new_context(mac, "SHA1") : NULL;
	hmac->sha256 = mac != NULL ? new_context(mac, "SHA256") : NULL;
	EVP_MAC_free(mac); /* each context holds its own reference */
	if (hmac->sha1 == NULL || hmac->sha256 == NULL) {
		stun_hmac_clear(hmac);
		return -1;
	}
	return 0;
}

void stun_hmac_clear(struct stun_hmac *hmac)
{
	EVP_MAC_CTX_free(hmac->sha1); /* cleanses the keyed state */
	EVP_MAC_CTX_free(hmac->sha256);
	hmac->sha1 = NULL;
	hmac->sha256 = NULL;
}

bool stun_integrity_compute(struct stun_hmac *hmac, enum stun_integrity_kind kind,
			    const uint8_t *key, size_t key_length, const uint8_t *bytes,
			    size_t prefix, uint16_t length_field, uint8_t *out)
{
	EVP_MAC_CTX *context = kind == STUN_INTEGRITY_SHA1     ? hmac->sha1
			       : kind == STUN_INTEGRITY_SHA256 ? hmac->sha256
							       : NULL;
	size_t size =
		kind == STUN_INTEGRITY_SHA1 ? STUN_INTEGRITY_SHA1_SIZE : STUN_INTEGRITY_SHA256_SIZE;
	uint8_t length_bytes[2];
	size_t written = 0;
	/* OpenSSL refuses a NULL key even when empty. */
	static const uint8_t empty_key[1];

	if (context == NULL || prefix < STUN_HEADER_SIZE)
		return false;
	stun_write16(length_bytes, length_field);
	return EVP_MAC_init(context, key_length > 0 ? key : empty_key, key_length, NULL) == 1 &&
	       EVP_MAC_update(context, bytes, 2) == 1 &&
	       EVP_MAC_update(context, length_bytes, 2) == 1 &&
	       EVP_MAC_update(context, bytes + 4, prefix - 4) == 1 &&
	       EVP_MAC_final(context, out, &written, size) == 1 && written == size;
}

enum stun_integrity_kind stun_integrity_strongest(const struct stun_message *message)
{
	if (message->integrity_sha256 >= 0)
		return STUN_INTEGRITY_SHA256;
	if (message->integrity >= 0)
		return STUN_INTEGRITY_SHA1;
	return STUN_INTEGRITY_NONE;
}

enum stun_integrity_result stun_integrity_check(struct stun_hmac *hmac,
						const struct stun_message *message,
						enum stun_integrity_kind kind, const uint8_t *key,
						size_t key_length)
{
	int index = kind == STUN_INTEGRITY_SHA1	    ? message->integrity
		    : kind == STUN_INTEGRITY_SHA256 ? message->integrity_sha256
						    : -1;
	uint8_t mac[STUN_INTEGRITY_SHA256_SIZE];

	if (index < 0)
		return STUN_INTEGRITY_ABSENT;
	const struct stun_attribute *attribute = &message->attributes[index];
	/* Covered: everything before the attribute's header; the length
	 * field then ends with the attribute (stun_message_parse checked
	 * that its value lies inside the message). */
	size_t prefix = (size_t)(attribute->value - 4 - message->bytes);
	size_t end = prefix + 4 + attribute->length;
	if (!stun_integrity_compute(hmac, kind, key, key_length, message->bytes, prefix,
				    (uint16_t)(end - STUN_HEADER_SIZE), mac))
		return STUN_INTEGRITY_FAILED;
	return CRYPTO_memcmp(mac, attribute->value, attribute->length) == 0
		       ? STUN_INTEGRITY_VALID
		       : STUN_INTEGRITY_INVALID;
}
