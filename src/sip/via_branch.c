/* SPDX-License-Identifier: ISC */
/* via_branch: the branch and stamp of the Via sxedge puts on every request
 * it relays (layout and reasons in via_branch.h). */
#include "via_branch.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define BRANCH_PREFIX	   "z9hG4bKsx"
#define BRANCH_PREFIX_LEN  (sizeof(BRANCH_PREFIX) - 1)
#define BRANCH_HASH_DIGITS 16
#define MAC_DIGITS	   16
#define BRANCH_SIGNED_LEN  (BRANCH_PREFIX_LEN + FLOW_TOKEN_LEN + 1 + BRANCH_HASH_DIGITS)
#define BRANCH_LEN	   (BRANCH_SIGNED_LEN + 1 + MAC_DIGITS)
#define TIME_DIGITS	   8
#define STAMP_LEN	   (TIME_DIGITS + MAC_DIGITS)

_Static_assert(BRANCH_LEN < VIA_BRANCH_SIZE, "VIA_BRANCH_SIZE too small for a branch");
_Static_assert(STAMP_LEN < VIA_STAMP_SIZE, "VIA_STAMP_SIZE too small for a stamp");

static const char hex[] = "0123456789abcdef";

static void to_hex(const unsigned char *bytes, size_t digits, char *out)
{
	for (size_t i = 0; i < digits / 2; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 0x0f];
	}
	out[digits] = '\0';
}

/* MAC_DIGITS hex digits of HMAC-SHA256(secret, PURPOSE NUL TEXT): the
 * purpose keeps a branch MAC from ever serving as a stamp MAC.  False when
 * OpenSSL failed: the digits are then all zero, and nothing opens. */
static bool mac_hex(const struct flow_key *key, const char *purpose, const char *text,
		    size_t length, char out[MAC_DIGITS + 1])
{
	unsigned char input[VIA_BRANCH_SIZE + 16];
	unsigned char digest[FLOW_KEY_MAC_SIZE];
	size_t purpose_len = strlen(purpose) + 1;

	memcpy(input, purpose, purpose_len);
	memcpy(input + purpose_len, text, length);
	bool made = flow_key_mac(key, input, purpose_len + length, digest);
	if (!made)
		memset(digest, 0, sizeof(digest));
	to_hex(digest, MAC_DIGITS, out);
	OPENSSL_cleanse(digest, sizeof(digest));
	return made;
}

/* Feeds S and a NUL separator, so that ("ab", "c") and ("a", "bc") differ. */
static int hash_field(EVP_MD_CTX *sha, const char *s)
{
	if (s != NULL && EVP_DigestUpdate(sha, s, strlen(s)) != 1)
		return -1;
	return EVP_DigestUpdate(sha, "", 1) == 1 ? 0 : -1;
}

static const char *top_via_branch(const osip_message_t *request)
{
	osip_via_t *via = osip_list_get(&request->vias, 0);
	osip_generic_param_t *branch = NULL;

	if (via == NULL || osip_via_param_get_byname(via, "branch", &branch) != OSIP_SUCCESS ||
	    branch == NULL)
		return NULL;
	return branch->gvalue;
}

/* SHA-256 of the fields that name the incoming transaction.  Returns -1
 * only when OpenSSL cannot allocate its context. */
static int transaction_digest(const osip_message_t *request, unsigned char digest[EVP_MAX_MD_SIZE])
{
	const osip_call_id_t *call_id = request->call_id;
	const osip_cseq_t *cseq = request->cseq;
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	int result = -1;

	if (sha != NULL && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) == 1 &&
	    hash_field(sha, top_via_branch(request)) == 0 &&
	    hash_field(sha, call_id != NULL ? call_id->number : NULL) == 0 &&
	    hash_field(sha, call_id != NULL ? call_id->host : NULL) == 0 &&
	    hash_field(sha, cseq != NULL ? cseq->number : NULL) == 0 &&
	    EVP_DigestFinal_ex(sha, digest, NULL) == 1)
		result = 0;
	EVP_MD_CTX_free(sha);
	return result;
}

/* The 16 hex digits.  Should OpenSSL have no memory for a digest they are
 * all zero: CANCEL still matches its INVITE, and only transactions of the
 * same connection relayed meanwhile may share a branch. */
static void transaction_hash(const osip_message_t *request, char out[BRANCH_HASH_DIGITS + 1])
{
	unsigned char digest[EVP_MAX_MD_SIZE];

	if (transaction_digest(request, digest) != 0)
		memset(digest, 0, sizeof(digest));
	to_hex(digest, BRANCH_HASH_DIGITS, out);
}

void via_branch_make(const struct flow_key *key, uint64_t arrival_conn,
		     const osip_message_t *request, char out[VIA_BRANCH_SIZE])
{
	char token[FLOW_TOKEN_LEN + 1];
	char hash[BRANCH_HASH_DIGITS + 1];

	flow_token_seal(key, arrival_conn, token);
	transaction_hash(request, hash);
	memcpy(out, BRANCH_PREFIX, BRANCH_PREFIX_LEN);
	memcpy(out + BRANCH_PREFIX_LEN, token, FLOW_TOKEN_LEN);
	out[BRANCH_PREFIX_LEN + FLOW_TOKEN_LEN] = '.';
	memcpy(out + BRANCH_PREFIX_LEN + FLOW_TOKEN_LEN + 1, hash, BRANCH_HASH_DIGITS);
	out[BRANCH_SIGNED_LEN] = '.';
	/* all zero when OpenSSL failed: the response is dropped, as forged */
	(void)mac_hex(key, "branch", out, BRANCH_SIGNED_LEN, out + BRANCH_SIGNED_LEN + 1);
}

static bool is_lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

enum flow_open_result via_branch_open(const struct flow_key *key, const char *branch,
				      uint64_t *arrival_conn)
{
	const char *token;
	const char *hash;
	char mac[MAC_DIGITS + 1];

	if (branch == NULL || strlen(branch) != BRANCH_LEN ||
	    memcmp(branch, BRANCH_PREFIX, BRANCH_PREFIX_LEN) != 0)
		return FLOW_OPEN_FORGED;
	token = branch + BRANCH_PREFIX_LEN;
	hash = token + FLOW_TOKEN_LEN + 1;
	if (token[FLOW_TOKEN_LEN] != '.' || !is_lower_hex(hash, BRANCH_HASH_DIGITS) ||
	    branch[BRANCH_SIGNED_LEN] != '.')
		return FLOW_OPEN_FORGED;
	if (!mac_hex(key, "branch", branch, BRANCH_SIGNED_LEN, mac) ||
	    CRYPTO_memcmp(mac, branch + BRANCH_SIGNED_LEN + 1, MAC_DIGITS) != 0)
		return FLOW_OPEN_FORGED;
	return flow_token_open(key, token, FLOW_TOKEN_LEN, arrival_conn);
}

/* ---- stamps ---- */

/* The MAC of a stamp: over the branch and the time digits. */
static bool stamp_mac(const struct flow_key *key, const char *branch, const char *time_digits,
		      char out[MAC_DIGITS + 1])
{
	char text[VIA_BRANCH_SIZE + TIME_DIGITS];
	size_t branch_len = strnlen(branch, VIA_BRANCH_SIZE - 1);

	memcpy(text, branch, branch_len);
	memcpy(text + branch_len, time_digits, TIME_DIGITS);
	return mac_hex(key, "stamp", text, branch_len + TIME_DIGITS, out);
}

void via_stamp_make(const struct flow_key *key, const char *branch, uint64_t now,
		    char out[VIA_STAMP_SIZE])
{
	uint32_t time = (uint32_t)now;

	for (int i = 0; i < TIME_DIGITS; i++)
		out[i] = hex[(time >> (4 * (TIME_DIGITS - 1 - i))) & 0x0f];
	(void)stamp_mac(key, branch, out, out + TIME_DIGITS); /* all zero: it never checks */
}

enum via_stamp_result via_stamp_check(const struct flow_key *key, const char *branch,
				      const char *stamp, uint64_t now)
{
	char mac[MAC_DIGITS + 1];
	uint32_t time = 0;

	if (branch == NULL || stamp == NULL || strlen(stamp) != STAMP_LEN ||
	    !is_lower_hex(stamp, STAMP_LEN))
		return VIA_STAMP_FORGED;
	if (!stamp_mac(key, branch, stamp, mac) ||
	    CRYPTO_memcmp(mac, stamp + TIME_DIGITS, MAC_DIGITS) != 0)
		return VIA_STAMP_FORGED;
	for (int i = 0; i < TIME_DIGITS; i++)
		time = (time << 4) | (uint32_t)(strchr(hex, stamp[i]) - hex);
	/* In 32-bit seconds, so that the check survives the wrap in 2106. */
	uint32_t age = (uint32_t)now - time;
	return age <= VIA_STAMP_MAX_AGE ? VIA_STAMP_OK : VIA_STAMP_EXPIRED;
}
