/* SPDX-License-Identifier: ISC */
/* flow_token: names one connection of one edge node inside SIP URIs
 * (Record-Route, Path, Via branch), sealed so nobody else can make one.
 *
 * A token is base64url (RFC 4648 §5, no padding) of
 *   node id (2 bytes) | boot id (4 bytes) | connection id (8 bytes) | MAC (12 bytes)
 * with MAC = HMAC-SHA256(secret, first 14 bytes) truncated, all big-endian.
 * The boot id changes at every start, so a token from an earlier run of the
 * same node can be told apart from a forged one (430 rather than 403).  The
 * nodes of an edge pool may share one secret: a token another node sealed
 * is then stale here too, not forged, so the pool gets 430 and tries the
 * user's other flow (RFC 5626 §5.3). */
#ifndef SXEDGE_SIP_FLOW_TOKEN_H
#define SXEDGE_SIP_FLOW_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "flow_key.h"

#define FLOW_TOKEN_LEN 35 /* characters, without the terminating NUL */

enum flow_open_result {
	FLOW_OPEN_OK,
	FLOW_OPEN_FORGED, /* not ours: bad length, alphabet or MAC */
	FLOW_OPEN_STALE, /* good MAC, but from an earlier boot of this node or from
			    another node sharing the secret: no connection here */
};

/* Writes the token for CONN_ID and a NUL into OUT (at least FLOW_TOKEN_LEN+1 bytes). */
void flow_token_seal(const struct flow_key *key, uint64_t conn_id, char out[FLOW_TOKEN_LEN + 1]);

/* Opens the LEN characters at TOKEN; on FLOW_OPEN_OK sets *CONN_ID. */
enum flow_open_result flow_token_open(const struct flow_key *key, const char *token, size_t len,
				      uint64_t *conn_id);

#endif
