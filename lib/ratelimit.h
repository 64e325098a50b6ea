/* SPDX-License-Identifier: ISC */
/* ratelimit: a token bucket, the per-partner message-rate limit.  Time is a
 * parameter (milliseconds from any fixed origin) so the arithmetic is tested
 * without clocks. */
#ifndef SXEDGE_RATELIMIT_H
#define SXEDGE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rate_limit {
	double tokens;
	double rate; /* tokens per second; 0: unlimited */
	double burst; /* most tokens held */
	uint64_t last_ms;
};

/* RATE per second with a bucket of BURST (0: RATE, and at least 1); full at NOW_MS. */
void rate_limit_init(struct rate_limit *limit, unsigned rate, unsigned burst, uint64_t now_ms);

/* Takes one token at NOW_MS.  Returns true when there was one; else false
 * and *RETRY_AFTER_S is the whole number of seconds (at least 1) until there
 * will be.  Time running backwards counts as no time passing. */
bool rate_limit_take(struct rate_limit *limit, uint64_t now_ms, unsigned *retry_after_s);

#endif
