/* SPDX-License-Identifier: ISC */
/* flow_key: what seals this node's flow tokens and Via branches: the node
 * id, the boot id and an HMAC-SHA256 context keyed once with the secret.
 *
 * HMAC() looks SHA-256 up by name and keys a fresh context on every call,
 * which cost the relay 11% of its CPU; a keyed context re-initialised for
 * each MAC (EVP_MAC_init with no key reuses the one it has) costs a few
 * times less, and less than duplicating one (tests/bench/README.md).  The context changes with every MAC, so
 * a key serves one thread at a time: each worker's sip_context has its own.
 *
 * The secret itself is not kept: only flow_key_init can give a key another
 * one.  A plain copy of a key shares its context (the same secret): it may
 * take another node_id or boot_id, must not outlive the original and is
 * never cleared itself. */
#ifndef SXEDGE_SIP_FLOW_KEY_H
#define SXEDGE_SIP_FLOW_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#define FLOW_SECRET_SIZE  32
#define FLOW_KEY_MAC_SIZE 32 /* HMAC-SHA256 */

struct flow_key {
	uint16_t node_id;
	uint32_t boot_id;
	EVP_MAC_CTX *mac; /* HMAC-SHA256 keyed with the secret */
};

/* Builds KEY.  Returns 0, or -1 when OpenSSL has no HMAC-SHA256 or no
 * memory (KEY then holds nothing to clear). */
int flow_key_init(struct flow_key *key, const unsigned char secret[FLOW_SECRET_SIZE],
		  uint16_t node_id, uint32_t boot_id);

/* KEY: the secret of FROM, in a MAC context of its own, under NODE_ID and
 * FROM's boot id (a reload that changes the node id keeps a random secret
 * it could not read back).  Returns 0, or -1 when out of memory. */
int flow_key_dup(struct flow_key *key, const struct flow_key *from, uint16_t node_id);

/* Frees what flow_key_init built; a zeroed or cleared KEY is left alone. */
void flow_key_clear(struct flow_key *key);

/* HMAC-SHA256(secret, DATA).  False when OpenSSL failed: the caller must
 * then treat what it checks as forged. */
bool flow_key_mac(const struct flow_key *key, const void *data, size_t len,
		  unsigned char digest[FLOW_KEY_MAC_SIZE]);

#endif
