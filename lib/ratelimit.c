/* SPDX-License-Identifier: ISC */
/* ratelimit: a token bucket, the per-partner message-rate limit.
 *
 * The bucket holds up to BURST tokens and gains RATE tokens per second of
 * elapsed time; each message takes one.  Time comes in as milliseconds from
 * the caller, so the arithmetic is exact under test.  No libm: the one
 * rounding up is done by hand, so the daemon need not link -lm. */
#include "ratelimit.h"

#include <limits.h>
#include <stddef.h>

/* Repeated fractional refills (ten times 0.1) can sum to a hair below a
 * whole token; a token that is there in exact arithmetic must be takeable. */
#define TOKEN_TOLERANCE 1e-9

void rate_limit_init(struct rate_limit *limit, unsigned rate, unsigned burst, uint64_t now_ms)
{
	limit->rate = (double)rate;
	limit->burst = (double)(burst != 0 ? burst : rate);
	if (limit->burst < 1.0)
		limit->burst = 1.0;
	limit->tokens = limit->burst;
	limit->last_ms = now_ms;
}

/* Adds the tokens earned since the last call.  A clock that went back earns
 * nothing, and the bucket re-anchors at the earlier time so that later calls
 * count from there (rather than waiting for the clock to catch up, or
 * wrapping the unsigned difference into a huge one). */
static void refill(struct rate_limit *limit, uint64_t now_ms)
{
	if (now_ms > limit->last_ms) {
		limit->tokens += (double)(now_ms - limit->last_ms) * limit->rate / 1000.0;
		if (limit->tokens > limit->burst)
			limit->tokens = limit->burst;
	}
	limit->last_ms = now_ms;
}

/* Whole seconds, at least 1, until the bucket holds one token again. */
static unsigned seconds_until_token(const struct rate_limit *limit)
{
	double seconds = (1.0 - limit->tokens) / limit->rate;
	unsigned whole;

	if (!(seconds < (double)UINT_MAX)) /* also catches NaN */
		return UINT_MAX;
	whole = (unsigned)seconds;
	if ((double)whole < seconds)
		whole++;
	return whole > 0 ? whole : 1;
}

bool rate_limit_take(struct rate_limit *limit, uint64_t now_ms, unsigned *retry_after_s)
{
	if (limit->rate <= 0.0)
		return true;
	refill(limit, now_ms);
	if (limit->tokens >= 1.0 - TOKEN_TOLERANCE) {
		limit->tokens -= 1.0;
		if (limit->tokens < 0.0)
			limit->tokens = 0.0;
		return true;
	}
	if (retry_after_s != NULL)
		*retry_after_s = seconds_until_token(limit);
	return false;
}
