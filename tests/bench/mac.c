/* SPDX-License-Identifier: ISC */
/* bench/mac: what one MAC of a flow token costs, keyed once (flow_key) or
 * keyed on every call (OpenSSL's one-shot HMAC(), as flow tokens and Via
 * branches did before), and what sealing and opening a token costs now.
 * Not a test: `make bench-mac` builds and runs it; tests/bench/README.md
 * keeps the figures.
 *
 * Each figure is the best of ROUNDS rounds of ITERATIONS calls, in ns per
 * call: the best round is the one the machine disturbed least. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "flow_key.h"
#include "flow_token.h"

#define ITERATIONS 200000
#define ROUNDS	   5
#define INPUT_LEN  14 /* what a flow token signs: node id, boot id, connection id */

static const unsigned char secret[FLOW_SECRET_SIZE] = { 0x5e, 0xc7, 0x01, 0x02, 0x03 };
static struct flow_key key;
static EVP_MAC_CTX *keyed; /* for the EVP_MAC_CTX_dup variant */
static volatile unsigned char sink; /* keeps the compiler from dropping the work */

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void one_shot_hmac(unsigned i)
{
	unsigned char input[INPUT_LEN] = { (unsigned char)i, (unsigned char)(i >> 8) };
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	HMAC(EVP_sha256(), secret, sizeof(secret), input, sizeof(input), digest, &len);
	sink ^= digest[0];
}

static void duplicated_context(unsigned i)
{
	unsigned char input[INPUT_LEN] = { (unsigned char)i, (unsigned char)(i >> 8) };
	unsigned char digest[FLOW_KEY_MAC_SIZE];
	size_t len = 0;
	EVP_MAC_CTX *mac = EVP_MAC_CTX_dup(keyed);
	if (mac == NULL || EVP_MAC_update(mac, input, sizeof(input)) != 1 ||
	    EVP_MAC_final(mac, digest, &len, sizeof(digest)) != 1)
		abort();
	EVP_MAC_CTX_free(mac);
	sink ^= digest[0];
}

static void reinitialised_context(unsigned i)
{
	unsigned char input[INPUT_LEN] = { (unsigned char)i, (unsigned char)(i >> 8) };
	unsigned char digest[FLOW_KEY_MAC_SIZE];
	if (!flow_key_mac(&key, input, sizeof(input), digest))
		abort();
	sink ^= digest[0];
}

static void seal(unsigned i)
{
	char token[FLOW_TOKEN_LEN + 1];
	flow_token_seal(&key, i, token);
	sink ^= (unsigned char)token[FLOW_TOKEN_LEN - 1];
}

static char sealed[FLOW_TOKEN_LEN + 1];

static void open_token(unsigned i)
{
	uint64_t conn_id = 0;
	(void)i;
	if (flow_token_open(&key, sealed, FLOW_TOKEN_LEN, &conn_id) != FLOW_OPEN_OK)
		abort();
	sink ^= (unsigned char)conn_id;
}

static double ns_per_call(void (*work)(unsigned))
{
	double best = 0;
	for (int round = 0; round < ROUNDS; round++) {
		double start = now_ns();
		for (unsigned i = 0; i < ITERATIONS; i++)
			work(i);
		double each = (now_ns() - start) / ITERATIONS;
		if (round == 0 || each < best)
			best = each;
	}
	return best;
}

int main(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);

	keyed = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	EVP_MAC_free(hmac);
	if (keyed == NULL || EVP_MAC_init(keyed, secret, sizeof(secret), params) != 1 ||
	    flow_key_init(&key, secret, 1, 7) != 0) {
		fprintf(stderr, "bench/mac: no HMAC-SHA256\n");
		return EXIT_FAILURE;
	}
	flow_token_seal(&key, 42, sealed);

	double one_shot = ns_per_call(one_shot_hmac);
	double duplicated = ns_per_call(duplicated_context);
	double reinitialised = ns_per_call(reinitialised_context);
	double seal_ns = ns_per_call(seal);
	double open_ns = ns_per_call(open_token);

	printf("%s, best of %d x %d calls, ns per call\n", OpenSSL_version(OPENSSL_VERSION), ROUNDS,
	       ITERATIONS);
	printf("MAC of %d bytes, one-shot HMAC()         %7.0f\n", INPUT_LEN, one_shot);
	printf("MAC of %d bytes, EVP_MAC_CTX_dup         %7.0f  (%.1fx faster)\n", INPUT_LEN,
	       duplicated, one_shot / duplicated);
	printf("MAC of %d bytes, flow_key_mac (re-init)  %7.0f  (%.1fx faster)\n", INPUT_LEN,
	       reinitialised, one_shot / reinitialised);
	printf("flow_token_seal                         %7.0f\n", seal_ns);
	printf("flow_token_open                         %7.0f\n", open_ns);
	EVP_MAC_CTX_free(keyed);
	flow_key_clear(&key);
	return EXIT_SUCCESS;
}
