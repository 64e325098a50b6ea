/* SPDX-License-Identifier: ISC */
/* flow_key: the keyed HMAC-SHA256 context behind flow tokens and Via
 * branches (why it is kept, and who may use it, in flow_key.h). */
#include "flow_key.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

int flow_key_init(struct flow_key *key, const unsigned char secret[FLOW_SECRET_SIZE],
		  uint16_t node_id, uint32_t boot_id)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);

	key->node_id = node_id;
	key->boot_id = boot_id;
	key->mac = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	EVP_MAC_free(hmac); /* the context holds its own reference */
	if (key->mac == NULL || EVP_MAC_init(key->mac, secret, FLOW_SECRET_SIZE, params) != 1) {
		flow_key_clear(key);
		return -1;
	}
	return 0;
}

int flow_key_dup(struct flow_key *key, const struct flow_key *from, uint16_t node_id)
{
	key->node_id = node_id;
	key->boot_id = from->boot_id;
	key->mac = from->mac != NULL ? EVP_MAC_CTX_dup(from->mac) : NULL;
	return key->mac != NULL ? 0 : -1;
}

void flow_key_clear(struct flow_key *key)
{
	EVP_MAC_CTX_free(key->mac); /* cleanses the keyed state */
	key->mac = NULL;
}

bool flow_key_mac(const struct flow_key *key, const void *data, size_t len,
		  unsigned char digest[FLOW_KEY_MAC_SIZE])
{
	size_t digest_len = 0;

	/* No key given: HMAC starts again from the key it was built with. */
	return key->mac != NULL && EVP_MAC_init(key->mac, NULL, 0, NULL) == 1 &&
	       EVP_MAC_update(key->mac, data, len) == 1 &&
	       EVP_MAC_final(key->mac, digest, &digest_len, FLOW_KEY_MAC_SIZE) == 1 &&
	       digest_len == FLOW_KEY_MAC_SIZE;
}
