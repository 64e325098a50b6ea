/* SPDX-License-Identifier: ISC */
/* flow_token: seals and opens the tokens that name one connection of one
 * edge node inside SIP URIs (layout in flow_token.h).
 *
 * Opening is strict on purpose: a token comes back from the network, so
 * anything but the exact length, the exact alphabet and the canonical
 * encoding is refused before the MAC is even computed, and the MAC is
 * compared in constant time. */
#include "flow_token.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

#include "big_endian.h"

#define FLOW_SIGNED_LEN 14 /* node id, boot id, connection id */
#define FLOW_MAC_LEN	12
#define FLOW_RAW_LEN	(FLOW_SIGNED_LEN + FLOW_MAC_LEN)

static const char base64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- base64url without padding (RFC 4648 §5) ---- */

static void base64url_encode(const unsigned char *in, size_t len, char *out)
{
	uint32_t bits = 0;
	unsigned n_bits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		bits = (bits << 8) | in[i];
		n_bits += 8;
		while (n_bits >= 6) {
			n_bits -= 6;
			*out++ = base64url_alphabet[(bits >> n_bits) & 0x3f];
		}
	}
	if (n_bits > 0)
		*out++ = base64url_alphabet[(bits << (6 - n_bits)) & 0x3f];
	*out = '\0';
}

static int base64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes exactly OUT_LEN bytes from LEN characters.  Refuses characters
 * outside the alphabet and non-zero leftover bits, so every token has one
 * spelling only. */
static bool base64url_decode(const char *in, size_t len, unsigned char *out, size_t out_len)
{
	uint32_t bits = 0;
	unsigned n_bits = 0;
	size_t i, written = 0;

	if (len != (out_len * 8 + 5) / 6)
		return false;
	for (i = 0; i < len; i++) {
		int value = base64url_value(in[i]);
		if (value < 0)
			return false;
		bits = (bits << 6) | (uint32_t)value;
		n_bits += 6;
		if (n_bits >= 8) {
			n_bits -= 8;
			out[written++] = (unsigned char)(bits >> n_bits);
		}
	}
	return written == out_len && (bits & ((1u << n_bits) - 1)) == 0;
}

/* ---- sealing ---- */

/* False when OpenSSL failed: the MAC is then all zero, and opening fails. */
static bool flow_mac(const struct flow_key *key, const unsigned char *signed_part,
		     unsigned char mac[FLOW_MAC_LEN])
{
	unsigned char digest[FLOW_KEY_MAC_SIZE];
	bool made = flow_key_mac(key, signed_part, FLOW_SIGNED_LEN, digest);

	if (made)
		memcpy(mac, digest, FLOW_MAC_LEN);
	else
		memset(mac, 0, FLOW_MAC_LEN);
	OPENSSL_cleanse(digest, sizeof(digest));
	return made;
}

void flow_token_seal(const struct flow_key *key, uint64_t conn_id, char out[FLOW_TOKEN_LEN + 1])
{
	unsigned char raw[FLOW_RAW_LEN];

	big_endian_put(raw, key->node_id, 2);
	big_endian_put(raw + 2, key->boot_id, 4);
	big_endian_put(raw + 6, conn_id, 8);
	(void)flow_mac(key, raw, raw + FLOW_SIGNED_LEN); /* all zero: it never opens */
	base64url_encode(raw, sizeof(raw), out);
}

enum flow_open_result flow_token_open(const struct flow_key *key, const char *token, size_t len,
				      uint64_t *conn_id)
{
	unsigned char raw[FLOW_RAW_LEN];
	unsigned char mac[FLOW_MAC_LEN];

	if (token == NULL || len != FLOW_TOKEN_LEN ||
	    !base64url_decode(token, len, raw, sizeof(raw)))
		return FLOW_OPEN_FORGED;
	if (!flow_mac(key, raw, mac) ||
	    CRYPTO_memcmp(mac, raw + FLOW_SIGNED_LEN, FLOW_MAC_LEN) != 0)
		return FLOW_OPEN_FORGED;
	/* A good MAC under another node id: a node of our pool (which shares
	 * the secret) made it.  No connection of ours, but no forgery either:
	 * as for an earlier boot, the flow is unreachable from here, and 430
	 * (not 403) makes the pool try the user's other flow (RFC 5626 §5.3). */
	if (big_endian_get(raw, 2) != key->node_id || big_endian_get(raw + 2, 4) != key->boot_id)
		return FLOW_OPEN_STALE;
	if (conn_id != NULL)
		*conn_id = big_endian_get(raw + 6, 8);
	return FLOW_OPEN_OK;
}
