/* SPDX-License-Identifier: ISC */
/* byte_bucket: a token bucket counted in bytes (see byte_bucket.h).
 *
 * The state is thousandths of a byte so that a refill is one multiply:
 * ELAPSED_MS milliseconds at RATE bytes per second earn ELAPSED_MS * RATE
 * millibytes, exactly.  A long pause cannot overflow: the elapsed time is
 * capped at the time a bucket takes to fill from empty. */
#include "byte_bucket.h"

#define MILLI 1000u

struct byte_rate byte_rate_make(uint32_t bytes_per_second, uint32_t burst_bytes)
{
	struct byte_rate rate = { .bytes_per_second = bytes_per_second,
				  .burst_bytes =
					  burst_bytes != 0 ? burst_bytes : bytes_per_second };

	if (rate.burst_bytes == 0)
		rate.burst_bytes = 1;
	return rate;
}

static uint64_t capacity(const struct byte_rate *rate)
{
	return (uint64_t)rate->burst_bytes * MILLI;
}

void byte_bucket_fill(struct byte_bucket *bucket, const struct byte_rate *rate, uint64_t now_ms)
{
	bucket->millibytes = capacity(rate);
	bucket->last_ms = now_ms;
}

/* Adds what the time since the last refill earned.  A clock that went back
 * earns nothing and re-anchors the bucket there, as lib/ratelimit does. */
static void refill(struct byte_bucket *bucket, const struct byte_rate *rate, uint64_t now_ms)
{
	uint64_t full = capacity(rate);

	if (now_ms > bucket->last_ms && bucket->millibytes < full) {
		/* the fill time bounds the product: (full / rate + 1) * rate fits */
		uint64_t elapsed = now_ms - bucket->last_ms;
		uint64_t fill_ms = full / rate->bytes_per_second + 1;
		uint64_t earned = (elapsed < fill_ms ? elapsed : fill_ms) * rate->bytes_per_second;

		bucket->millibytes =
			full - bucket->millibytes <= earned ? full : bucket->millibytes + earned;
	}
	bucket->last_ms = now_ms;
}

bool byte_bucket_take(struct byte_bucket *bucket, const struct byte_rate *rate, uint32_t bytes,
		      uint64_t now_ms)
{
	uint64_t wanted = (uint64_t)bytes * MILLI;

	if (rate->bytes_per_second == 0)
		return true;
	refill(bucket, rate, now_ms);
	if (bucket->millibytes >= wanted) {
		bucket->millibytes -= wanted;
		return true;
	}
	if (bucket->millibytes == capacity(rate)) {
		bucket->millibytes = 0;
		return true;
	}
	return false;
}

uint32_t byte_bucket_take_some(struct byte_bucket *bucket, const struct byte_rate *rate,
			       uint32_t bytes, uint64_t now_ms)
{
	if (rate->bytes_per_second == 0)
		return bytes;
	refill(bucket, rate, now_ms);
	uint64_t held = bucket->millibytes / MILLI;
	uint32_t granted = held < bytes ? (uint32_t)held : bytes;
	bucket->millibytes -= (uint64_t)granted * MILLI;
	return granted;
}

uint64_t byte_bucket_wait_ms(const struct byte_bucket *bucket, const struct byte_rate *rate,
			     uint32_t bytes, uint64_t now_ms)
{
	if (rate->bytes_per_second == 0)
		return 0;
	struct byte_bucket now = *bucket;
	refill(&now, rate, now_ms);
	uint64_t wanted = (uint64_t)(bytes < rate->burst_bytes ? bytes : rate->burst_bytes) * MILLI;
	if (now.millibytes >= wanted)
		return 0;
	/* a millisecond earns bytes_per_second millibytes */
	return (wanted - now.millibytes + rate->bytes_per_second - 1) / rate->bytes_per_second;
}
