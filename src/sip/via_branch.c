/* via_branch: the branch of the Via sxedge puts on every request it relays.
 *
 * The branch carries the flow token of the connection the request arrived
 * on, so the response finds its way back with no transaction state, and a
 * hash of what identifies the incoming transaction (its top Via branch,
 * Call-ID and CSeq number), so the CANCEL of an INVITE and the ACK of a
 * failure response leave with the same branch as the INVITE did (RFC 3261
 * §16.11). */
#include "via_branch.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#define BRANCH_PREFIX	   "z9hG4bKsx"
#define BRANCH_PREFIX_LEN  (sizeof(BRANCH_PREFIX) - 1)
#define BRANCH_HASH_DIGITS 16
#define BRANCH_LEN	   (BRANCH_PREFIX_LEN + FLOW_TOKEN_LEN + 1 + BRANCH_HASH_DIGITS)

_Static_assert(BRANCH_LEN < VIA_BRANCH_SIZE, "VIA_BRANCH_SIZE too small for a branch");

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
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];

	if (transaction_digest(request, digest) != 0)
		memset(digest, 0, sizeof(digest));
	for (size_t i = 0; i < BRANCH_HASH_DIGITS / 2; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	out[BRANCH_HASH_DIGITS] = '\0';
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
	memcpy(out + BRANCH_PREFIX_LEN + FLOW_TOKEN_LEN + 1, hash, BRANCH_HASH_DIGITS + 1);
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

	if (branch == NULL || strlen(branch) != BRANCH_LEN ||
	    memcmp(branch, BRANCH_PREFIX, BRANCH_PREFIX_LEN) != 0)
		return FLOW_OPEN_FORGED;
	token = branch + BRANCH_PREFIX_LEN;
	hash = token + FLOW_TOKEN_LEN + 1;
	if (token[FLOW_TOKEN_LEN] != '.' || !is_lower_hex(hash, BRANCH_HASH_DIGITS))
		return FLOW_OPEN_FORGED;
	return flow_token_open(key, token, FLOW_TOKEN_LEN, arrival_conn);
}
