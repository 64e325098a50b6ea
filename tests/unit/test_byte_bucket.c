/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/byte_bucket: exact sequences of charges at given
 * milliseconds (burst, refusals, exact refill with no remainder lost, the
 * cap, an oversize packet, a clock going backwards, the unlimited rate),
 * and for a stream: what the bucket holds taken, the wait for more. */
#include <check.h>
#include <stdlib.h>

#include "byte_bucket.h"
#include "test_suite.h"

START_TEST(test_rate_make)
{
	struct byte_rate rate = byte_rate_make(5000, 0);

	ck_assert_uint_eq(rate.bytes_per_second, 5000);
	ck_assert_uint_eq(rate.burst_bytes, 5000); /* one second of the rate */
	rate = byte_rate_make(5000, 300);
	ck_assert_uint_eq(rate.burst_bytes, 300);
	rate = byte_rate_make(0, 0);
	ck_assert_uint_eq(rate.burst_bytes, 1);
}
END_TEST

START_TEST(test_unlimited)
{
	struct byte_rate rate = byte_rate_make(0, 0);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert(byte_bucket_take(&bucket, &rate, 65535, 0));
}
END_TEST

START_TEST(test_burst_then_refill)
{
	struct byte_rate rate = byte_rate_make(1000, 1000);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 5000);
	ck_assert(byte_bucket_take(&bucket, &rate, 600, 5000));
	ck_assert(!byte_bucket_take(&bucket, &rate, 600, 5000)); /* 400 left */
	ck_assert(byte_bucket_take(&bucket, &rate, 400, 5000));
	ck_assert(!byte_bucket_take(&bucket, &rate, 1, 5000));
	/* 1000 bytes a second: 199 ms earn 199 bytes, 200 ms 200 */
	ck_assert(!byte_bucket_take(&bucket, &rate, 200, 5199));
	ck_assert(byte_bucket_take(&bucket, &rate, 200, 5200));
	ck_assert(!byte_bucket_take(&bucket, &rate, 1, 5200));
}
END_TEST

/* At 1 byte a second each millisecond earns a thousandth of a byte: a
 * bucket that rounded each refill to whole bytes would never refill under
 * a packet a millisecond. */
START_TEST(test_no_remainder_lost)
{
	struct byte_rate rate = byte_rate_make(1, 1);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 0);
	ck_assert(byte_bucket_take(&bucket, &rate, 1, 0));
	for (uint64_t ms = 1; ms < 1000; ms++)
		ck_assert_msg(!byte_bucket_take(&bucket, &rate, 1, ms), "given at %llu ms",
			      (unsigned long long)ms);
	ck_assert(byte_bucket_take(&bucket, &rate, 1, 1000));

	/* 3 bytes a second: a byte takes 333.3 ms */
	rate = byte_rate_make(3, 3);
	byte_bucket_fill(&bucket, &rate, 0);
	ck_assert(byte_bucket_take(&bucket, &rate, 3, 0));
	ck_assert(!byte_bucket_take(&bucket, &rate, 1, 333));
	ck_assert(byte_bucket_take(&bucket, &rate, 1, 334));
}
END_TEST

START_TEST(test_capped_at_burst)
{
	struct byte_rate rate = byte_rate_make(100, 500);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 0);
	ck_assert(byte_bucket_take(&bucket, &rate, 500, 0));
	/* an hour idle still holds only the burst */
	ck_assert(byte_bucket_take(&bucket, &rate, 500, 3600 * 1000));
	ck_assert(!byte_bucket_take(&bucket, &rate, 1, 3600 * 1000));

	/* a fast rate with a small burst: the refill still stops at the burst */
	rate = byte_rate_make(100000, 500);
	byte_bucket_fill(&bucket, &rate, 0);
	ck_assert(byte_bucket_take(&bucket, &rate, 500, 0));
	ck_assert(byte_bucket_take(&bucket, &rate, 500, 3600 * 1000));
	ck_assert(!byte_bucket_take(&bucket, &rate, 1, 3600 * 1000));
}
END_TEST

START_TEST(test_oversize_packet_passes_when_full)
{
	struct byte_rate rate = byte_rate_make(100, 100);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 0);
	ck_assert(byte_bucket_take(&bucket, &rate, 150, 0)); /* full: passes, empties */
	ck_assert(!byte_bucket_take(&bucket, &rate, 1, 0));
	ck_assert(!byte_bucket_take(&bucket, &rate, 150, 999)); /* 99.9 bytes */
	ck_assert(byte_bucket_take(&bucket, &rate, 150, 1000)); /* full again */
}
END_TEST

START_TEST(test_clock_backwards)
{
	struct byte_rate rate = byte_rate_make(1000, 1000);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 10000);
	ck_assert(byte_bucket_take(&bucket, &rate, 1000, 10000));
	/* back 5 s: earns nothing, re-anchors there */
	ck_assert(!byte_bucket_take(&bucket, &rate, 1, 5000));
	ck_assert(!byte_bucket_take(&bucket, &rate, 100, 5099));
	ck_assert(byte_bucket_take(&bucket, &rate, 100, 5100));
}
END_TEST

START_TEST(test_extremes_do_not_overflow)
{
	struct byte_rate rate = byte_rate_make(UINT32_MAX, UINT32_MAX);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 0);
	ck_assert(byte_bucket_take(&bucket, &rate, UINT32_MAX, 0));
	ck_assert(!byte_bucket_take(&bucket, &rate, UINT32_MAX, 999));
	ck_assert(byte_bucket_take(&bucket, &rate, UINT32_MAX, UINT64_MAX));
}
END_TEST

/* A stream takes what the bucket holds, no more; and is told how long
 * until the bytes it wants are there. */
START_TEST(test_take_some_and_wait)
{
	struct byte_rate rate = byte_rate_make(1000, 0);
	struct byte_bucket bucket;

	byte_bucket_fill(&bucket, &rate, 0);
	ck_assert_uint_eq(byte_bucket_take_some(&bucket, &rate, 600, 0), 600);
	ck_assert_uint_eq(byte_bucket_take_some(&bucket, &rate, 600, 0), 400);
	ck_assert_uint_eq(byte_bucket_take_some(&bucket, &rate, 600, 0), 0);
	ck_assert_uint_eq(byte_bucket_wait_ms(&bucket, &rate, 100, 0), 100);
	ck_assert_uint_eq(byte_bucket_wait_ms(&bucket, &rate, 5000, 0), 1000); /* the burst */
	ck_assert_uint_eq(byte_bucket_wait_ms(&bucket, &rate, 100, 60), 40);
	ck_assert_uint_eq(byte_bucket_wait_ms(&bucket, &rate, 100, 100), 0);
	ck_assert_uint_eq(byte_bucket_take_some(&bucket, &rate, 600, 250), 250);
	struct byte_rate unlimited = byte_rate_make(0, 0);
	ck_assert_uint_eq(byte_bucket_take_some(&bucket, &unlimited, 70000, 250), 70000);
	ck_assert_uint_eq(byte_bucket_wait_ms(&bucket, &unlimited, 70000, 250), 0);
}
END_TEST

static Suite *byte_bucket_suite(void)
{
	Suite *suite = suite_create("byte_bucket");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rate_make);
	tcase_add_test(tc, test_unlimited);
	tcase_add_test(tc, test_burst_then_refill);
	tcase_add_test(tc, test_no_remainder_lost);
	tcase_add_test(tc, test_capped_at_burst);
	tcase_add_test(tc, test_oversize_packet_passes_when_full);
	tcase_add_test(tc, test_clock_backwards);
	tcase_add_test(tc, test_extremes_do_not_overflow);
	tcase_add_test(tc, test_take_some_and_wait);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	return test_suite_run(byte_bucket_suite());
}
