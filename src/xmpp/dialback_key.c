/* SPDX-License-Identifier: ISC */
/* dialback_key: XEP-0185 keys with OpenSSL 3's EVP_MAC (see dialback_key.h).
 *
 * The SHA-256 digest and the HMAC algorithm are fetched once per process:
 * fetching is a lookup in OpenSSL's provider tables, and a key is computed
 * for every dialback request. */
#include "dialback_key.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define SHA256_SIZE	32
#define SHA256_HEX_SIZE (2 * SHA256_SIZE)

static CRYPTO_ONCE fetch_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha256;
static EVP_MAC *hmac;

static void dialback_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static bool dialback_ready(void)
{
	return CRYPTO_THREAD_run_once(&fetch_once, dialback_fetch) && sha256 != NULL &&
	       hmac != NULL;
}

/* Lower-case, as XEP-0185's examples and every server in the field write it. */
static void hex_encode(const unsigned char *bytes, size_t size, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < size; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * size] = '\0';
}

static bool mac_update(EVP_MAC_CTX *ctx, const char *text)
{
	return EVP_MAC_update(ctx, (const unsigned char *)text, strlen(text)) == 1;
}

static bool dialback_compute(const char *secret, const char *receiving, const char *originating,
			     const char *stream_id, char key[XMPP_DIALBACK_KEY_SIZE])
{
	unsigned char digest[SHA256_SIZE], mac[SHA256_SIZE];
	char hashed_secret[SHA256_HEX_SIZE + 1];
	unsigned int digest_size = 0;
	size_t mac_size = 0;
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	bool done;

	if (!dialback_ready() ||
	    EVP_Digest(secret, strlen(secret), digest, &digest_size, sha256, NULL) != 1 ||
	    digest_size != SHA256_SIZE)
		return false;
	/* The HMAC key is the hex text of the digest, not its bytes. */
	hex_encode(digest, sizeof(digest), hashed_secret);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_MAC_CTX_new(hmac);
	done = ctx != NULL &&
	       EVP_MAC_init(ctx, (const unsigned char *)hashed_secret, SHA256_HEX_SIZE, params) ==
		       1 &&
	       mac_update(ctx, receiving) && mac_update(ctx, " ") && mac_update(ctx, originating) &&
	       mac_update(ctx, " ") && mac_update(ctx, stream_id) &&
	       EVP_MAC_final(ctx, mac, &mac_size, sizeof(mac)) == 1 && mac_size == SHA256_SIZE;
	EVP_MAC_CTX_free(ctx);
	OPENSSL_cleanse(hashed_secret, sizeof(hashed_secret));
	OPENSSL_cleanse(digest, sizeof(digest));
	if (done)
		hex_encode(mac, sizeof(mac), key);
	return done;
}

void xmpp_dialback_key(const char *secret, const char *receiving, const char *originating,
		       const char *stream_id, char key[XMPP_DIALBACK_KEY_SIZE])
{
	if (!dialback_compute(secret, receiving, originating, stream_id, key))
		key[0] = '\0';
}

bool xmpp_dialback_key_matches(const char *secret, const char *receiving, const char *originating,
			       const char *stream_id, const char *key)
{
	char expected[XMPP_DIALBACK_KEY_SIZE];
	bool matches;

	/* The length is no secret: every key this edge makes has 64 digits. */
	if (key == NULL || strnlen(key, XMPP_DIALBACK_KEY_SIZE) != SHA256_HEX_SIZE ||
	    !dialback_compute(secret, receiving, originating, stream_id, expected))
		return false;
	matches = CRYPTO_memcmp(expected, key, SHA256_HEX_SIZE) == 0;
	OPENSSL_cleanse(expected, sizeof(expected));
	return matches;
}
