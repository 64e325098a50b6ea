/* SPDX-License-Identifier: ISC */
/* byte_bucket: a token bucket counted in bytes, the bandwidth cap on one
 * stream of relayed packets (a TURN allocation has one per direction).
 * lib/ratelimit counts messages in floating point; a relay charges every
 * datagram by its size at packet rates, so this one is integer only and
 * exact: the bucket holds thousandths of bytes, and a millisecond at RATE
 * bytes per second earns exactly RATE of them, with no remainder lost.
 * Time is a parameter (milliseconds from any fixed origin). */
#ifndef SXEDGE_BYTE_BUCKET_H
#define SXEDGE_BYTE_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

/* The rate a bucket refills at, shared by every bucket it governs. */
struct byte_rate {
	uint32_t bytes_per_second; /* 0: unlimited */
	uint32_t burst_bytes; /* most bytes held (at least 1) */
};

/* One bucket's state: 16 bytes, as it is kept per allocation and direction. */
struct byte_bucket {
	uint64_t millibytes; /* thousandths of a byte available */
	uint64_t last_ms; /* when it was last refilled */
};

/* RATE bytes per second with a bucket of BURST bytes (0: one second of
 * RATE; at least 1). */
struct byte_rate byte_rate_make(uint32_t bytes_per_second, uint32_t burst_bytes);

/* A full bucket at NOW_MS. */
void byte_bucket_fill(struct byte_bucket *bucket, const struct byte_rate *rate, uint64_t now_ms);

/* Charges a packet of BYTES at NOW_MS.  True when it may pass: the bucket
 * holds at least BYTES, or it is full (so a packet larger than the burst
 * still passes, once per refill, and nothing is starved for being big);
 * false, charging nothing, otherwise.  Always true at an unlimited rate.
 * Time running backwards counts as no time passing. */
bool byte_bucket_take(struct byte_bucket *bucket, const struct byte_rate *rate, uint32_t bytes,
		      uint64_t now_ms);

/* For a byte stream, which may be cut anywhere: charges up to BYTES at
 * NOW_MS and returns how many it charged, the whole bytes the bucket holds
 * at most (BYTES at an unlimited rate). */
uint32_t byte_bucket_take_some(struct byte_bucket *bucket, const struct byte_rate *rate,
			       uint32_t bytes, uint64_t now_ms);

/* Milliseconds from NOW_MS until the bucket holds BYTES (at most the
 * burst): 0 when it does now, or at an unlimited rate. */
uint64_t byte_bucket_wait_ms(const struct byte_bucket *bucket, const struct byte_rate *rate,
			     uint32_t bytes, uint64_t now_ms);

#endif
