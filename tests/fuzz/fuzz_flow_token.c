/* SPDX-License-Identifier: ISC */
/* Fuzz target: flow tokens come back from the network inside SIP URIs, so
 * flow_token_open must take any string, and open to OK only a token
 * flow_token_seal made with the same key.
 *
 * Input: 46 bytes of key and connection id (secret, node id, boot id,
 * connection id; missing bytes are zero), then a string to open. */
#include <stdbool.h>
#include <stdint.h>

#include "flow_token.h"
#include "fuzz.h"

#define KEY_INPUT_SIZE 46 /* 32 + 2 + 4 + 8 */

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint64_t get_be(const unsigned char *in, size_t bytes)
{
	uint64_t value = 0;
	for (size_t i = 0; i < bytes; i++)
		value = value << 8 | in[i];
	return value;
}

static enum flow_open_result open_copy(const struct flow_key *key, const char *token, size_t len,
				       uint64_t *conn_id)
{
	char *copy = fuzz_copy(token, len);
	enum flow_open_result result = flow_token_open(key, copy, len, conn_id);
	free(copy);
	FUZZ_REQUIRE(result == FLOW_OPEN_OK || result == FLOW_OPEN_FORGED ||
		     result == FLOW_OPEN_STALE);
	return result;
}

/* Whatever opens to OK is exactly what sealing its id gives: there is only
 * one spelling of a token. */
static void check_arbitrary(const struct flow_key *key, const char *text, size_t len)
{
	uint64_t conn_id = 0;
	char sealed[FLOW_TOKEN_LEN + 1];

	if (open_copy(key, text, len, &conn_id) != FLOW_OPEN_OK)
		return;
	flow_token_seal(key, conn_id, sealed);
	FUZZ_REQUIRE(len == FLOW_TOKEN_LEN && memcmp(sealed, text, len) == 0);
}

/* SECRET is KEY's, and is changed here. */
static void check_round_trip(const struct flow_key *key, unsigned char secret[FLOW_SECRET_SIZE],
			     uint64_t conn_id, unsigned mix)
{
	char token[FLOW_TOKEN_LEN + 2];
	uint64_t opened = ~conn_id;

	flow_token_seal(key, conn_id, token);
	FUZZ_REQUIRE(strlen(token) == FLOW_TOKEN_LEN);
	FUZZ_REQUIRE(strspn(token, alphabet) == FLOW_TOKEN_LEN);
	FUZZ_REQUIRE(open_copy(key, token, FLOW_TOKEN_LEN, &opened) == FLOW_OPEN_OK);
	FUZZ_REQUIRE(opened == conn_id);
	FUZZ_REQUIRE(open_copy(key, token, FLOW_TOKEN_LEN, NULL) == FLOW_OPEN_OK);

	/* Any one character changed, to another of the alphabet so that the
	 * MAC is what refuses it (the last one's spare bits included). */
	for (size_t i = 0; i < FLOW_TOKEN_LEN; i++) {
		char original = token[i];
		size_t value = (size_t)(strchr(alphabet, original) - alphabet);
		token[i] = alphabet[(value + 1 + (mix + i) % 63) % 64];
		FUZZ_REQUIRE(open_copy(key, token, FLOW_TOKEN_LEN, &opened) == FLOW_OPEN_FORGED);
		token[i] = original;
	}
	/* Cut short or made longer. */
	FUZZ_REQUIRE(open_copy(key, token, FLOW_TOKEN_LEN - 1, &opened) == FLOW_OPEN_FORGED);
	token[FLOW_TOKEN_LEN] = alphabet[mix % 64];
	FUZZ_REQUIRE(open_copy(key, token, FLOW_TOKEN_LEN + 1, &opened) == FLOW_OPEN_FORGED);
	token[FLOW_TOKEN_LEN] = '\0';

	/* Another boot or node with the same secret (a copy of the key): stale;
	 * another secret: forged. */
	struct flow_key other = *key;
	other.boot_id++;
	FUZZ_REQUIRE(open_copy(&other, token, FLOW_TOKEN_LEN, &opened) == FLOW_OPEN_STALE);
	other = *key;
	other.node_id++;
	FUZZ_REQUIRE(open_copy(&other, token, FLOW_TOKEN_LEN, &opened) == FLOW_OPEN_STALE);
	other = *key;
	secret[mix % FLOW_SECRET_SIZE] ^= 1;
	FUZZ_REQUIRE(flow_key_init(&other, secret, key->node_id, key->boot_id) == 0);
	FUZZ_REQUIRE(open_copy(&other, token, FLOW_TOKEN_LEN, &opened) == FLOW_OPEN_FORGED);
	flow_key_clear(&other);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char head[KEY_INPUT_SIZE] = { 0 };
	size_t head_size = size < sizeof(head) ? size : sizeof(head);
	struct flow_key key;

	memcpy(head, data, head_size);
	FUZZ_REQUIRE(flow_key_init(&key, head, (uint16_t)get_be(head + 32, 2),
				   (uint32_t)get_be(head + 34, 4)) == 0);
	uint64_t conn_id = get_be(head + 38, 8);

	check_arbitrary(&key, (const char *)data + head_size, size - head_size);
	check_round_trip(&key, head, conn_id, head[0]);
	flow_key_clear(&key);
	return 0;
}
