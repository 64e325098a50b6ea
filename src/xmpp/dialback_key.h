/* SPDX-License-Identifier: ISC */
/* dialback_key: the keys of server dialback (XEP-0220) as XEP-0185
 * recommends them, so that the edge can vouch for its own domains when a
 * partner dials back, without keeping any state per stream:
 *
 *   key = HEX(HMAC-SHA256(HEX(SHA256(secret)), receiving " " originating " " stream_id))
 *
 * in lower-case hex, 64 characters.  The secret is the edge's; whoever asks
 * the edge to verify a key gives the other three values back. */
#ifndef SXEDGE_XMPP_DIALBACK_KEY_H
#define SXEDGE_XMPP_DIALBACK_KEY_H

#include <stdbool.h>

/* 64 hex digits and the NUL. */
#define XMPP_DIALBACK_KEY_SIZE 65

/* Writes the key for one stream into KEY.  RECEIVING is the domain the
 * originating server dialled (the stream's `to`), ORIGINATING the one it
 * speaks for (`from`), STREAM_ID the id the receiving server gave the
 * stream.  When OpenSSL fails (out of memory) KEY is "": a key never to
 * send, and one that xmpp_dialback_key_matches never accepts. */
void xmpp_dialback_key(const char *secret, const char *receiving, const char *originating,
		       const char *stream_id, char key[XMPP_DIALBACK_KEY_SIZE]);

/* Is KEY the key for these values?  Compared in constant time.  Only the
 * exact lower-case form that xmpp_dialback_key writes matches: a key
 * this edge made comes back as it was sent, so an upper-cased, shortened or
 * padded one was not made here. */
bool xmpp_dialback_key_matches(const char *secret, const char *receiving, const char *originating,
			       const char *stream_id, const char *key);

#endif
