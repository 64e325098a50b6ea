/* SPDX-License-Identifier: ISC */
/* test_stun: what the STUN codec's suites share: the RFC 5769 test vectors
 * with their parameters, and a writer of raw messages for the malformed
 * ones the builder refuses to make. */
#ifndef SXEDGE_TESTS_TEST_STUN_H
#define SXEDGE_TESTS_TEST_STUN_H

#include <stddef.h>
#include <stdint.h>

/* RFC 5769 §2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED,
 * USERNAME (padded with spaces), MESSAGE-INTEGRITY and FINGERPRINT, keyed
 * with the short-term password. */
extern const uint8_t rfc5769_request[108];
/* §2.2 and §2.3: Binding success responses with SOFTWARE (padded with a
 * space), XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT. */
extern const uint8_t rfc5769_response_ipv4[80];
extern const uint8_t rfc5769_response_ipv6[92];
/* §2.4: a request with USERNAME, NONCE, REALM and MESSAGE-INTEGRITY keyed
 * with the long-term key (zero padding throughout). */
extern const uint8_t rfc5769_long_term_request[116];

/* RFC 8489 Appendix B.1 as corrected by errata 6268 (the RFC's printed
 * MAC is wrong): the §2.4 user again, with USERHASH, a nonce with the
 * security-feature cookie, PASSWORD-ALGORITHM SHA-256 and
 * MESSAGE-INTEGRITY-SHA256 keyed with SHA-256(username:realm:password). */
extern const uint8_t rfc8489_sha256_request[164];
#define RFC8489_NONCE "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"

#define RFC5769_PASSWORD	"VOkJxbRl1RmTxUk/WvJxBt"
#define RFC5769_USERNAME	"evtj:h6vY"
#define RFC5769_CLIENT_SOFTWARE "STUN test client"
#define RFC5769_SERVER_SOFTWARE "test vector"
#define RFC5769_MAPPED_IPV4	"192.0.2.1"
#define RFC5769_MAPPED_IPV6	"2001:db8:1234:5678:11:2233:4455:6677"
#define RFC5769_MAPPED_PORT	32853
/* §2.4: the username is "マトリックス" in UTF-8, the password after
 * SASLprep "TheMatrIX". */
#define RFC5769_LONG_TERM_USERNAME \
	"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define RFC5769_LONG_TERM_PASSWORD "TheMatrIX"
#define RFC5769_LONG_TERM_REALM	   "example.org"
#define RFC5769_LONG_TERM_NONCE	   "f//499k954d6OL34oL9FSTvy64sA"
extern const uint8_t rfc5769_long_term_transaction_id[12];
extern const uint8_t rfc5769_transaction_id[12];

/* The long-term key of §2.4: MD5(username ":" realm ":" password), and
 * B.1's SHA-256 of the same. */
void rfc5769_long_term_key(uint8_t key[16]);
void rfc8489_sha256_key(uint8_t key[32]);

/* A message written by hand: a header with any type and a fresh
 * transaction id, then attributes with any type, length and padding. */
struct raw_message {
	uint8_t bytes[1024];
	size_t length;
};

void raw_start(struct raw_message *raw, uint16_t type);
/* An attribute of TYPE whose length field says LENGTH and whose LENGTH
 * bytes come from VALUE (zeros when NULL), padded with zeros. */
void raw_attribute(struct raw_message *raw, uint16_t type, uint16_t length, const void *value);
/* Sets the header's length field to what has been written. */
void raw_finish(struct raw_message *raw);

#endif
