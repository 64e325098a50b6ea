/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/ratelimit: exact sequences of takes at given
 * milliseconds (burst, refusals, refill, cap, Retry-After seconds, a clock
 * going backwards, the unlimited rate). */
#include <check.h>
#include <limits.h>
#include <stdlib.h>

#include "ratelimit.h"
#include "test_suite.h"

/* Value *RETRY_AFTER_S holds when a take has not written it. */
#define UNTOUCHED 777u

/* Takes one token at NOW_MS, asserting it is given. */
static void take_ok(struct rate_limit *limit, uint64_t now_ms)
{
	unsigned retry = UNTOUCHED;

	ck_assert_msg(rate_limit_take(limit, now_ms, &retry), "refused at %llu ms",
		      (unsigned long long)now_ms);
	ck_assert_uint_eq(retry, UNTOUCHED);
}

/* Takes one token at NOW_MS, asserting it is refused with RETRY seconds. */
static void take_refused(struct rate_limit *limit, uint64_t now_ms, unsigned expected_retry)
{
	unsigned retry = UNTOUCHED;

	ck_assert_msg(!rate_limit_take(limit, now_ms, &retry), "given at %llu ms",
		      (unsigned long long)now_ms);
	ck_assert_uint_eq(retry, expected_retry);
}

START_TEST(test_init_values)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 5, 3, 1234);
	ck_assert_double_eq(limit.rate, 5.0);
	ck_assert_double_eq(limit.burst, 3.0);
	ck_assert_double_eq(limit.tokens, 3.0);
	ck_assert_uint_eq(limit.last_ms, 1234);

	/* burst 0 means the rate */
	rate_limit_init(&limit, 4, 0, 0);
	ck_assert_double_eq(limit.burst, 4.0);
	ck_assert_double_eq(limit.tokens, 4.0);

	/* and never below 1 */
	rate_limit_init(&limit, 0, 0, 0);
	ck_assert_double_eq(limit.rate, 0.0);
	ck_assert_double_eq(limit.burst, 1.0);
	ck_assert_double_eq(limit.tokens, 1.0);

	/* a burst above the rate is kept */
	rate_limit_init(&limit, 2, 10, 0);
	ck_assert_double_eq(limit.burst, 10.0);
}
END_TEST

START_TEST(test_burst_then_refusals)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 5, 3, 1000);
	take_ok(&limit, 1000);
	take_ok(&limit, 1000);
	take_ok(&limit, 1000);
	take_refused(&limit, 1000, 1);
	take_refused(&limit, 1000, 1);
	ck_assert_double_eq(limit.tokens, 0.0);

	/* burst 0: exactly RATE messages at once */
	rate_limit_init(&limit, 4, 0, 0);
	for (int i = 0; i < 4; i++)
		take_ok(&limit, 0);
	take_refused(&limit, 0, 1);
}
END_TEST

START_TEST(test_refill_after_exact_milliseconds)
{
	struct rate_limit limit;

	/* 2 per second: one token every 500 ms */
	rate_limit_init(&limit, 2, 1, 0);
	take_ok(&limit, 0);
	take_refused(&limit, 499, 1);
	take_ok(&limit, 500);
	take_refused(&limit, 500, 1);
	take_refused(&limit, 999, 1);
	take_ok(&limit, 1000);
	take_refused(&limit, 1000, 1);

	/* 1 per second */
	rate_limit_init(&limit, 1, 1, 5000);
	take_ok(&limit, 5000);
	take_refused(&limit, 5999, 1);
	take_ok(&limit, 6000);
}
END_TEST

START_TEST(test_partial_tokens)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 4, 4, 0);
	for (int i = 0; i < 4; i++)
		take_ok(&limit, 0);
	take_refused(&limit, 100, 1);
	ck_assert_double_eq_tol(limit.tokens, 0.4, 1e-12);
	ck_assert_uint_eq(limit.last_ms, 100);
	take_refused(&limit, 200, 1);
	ck_assert_double_eq_tol(limit.tokens, 0.8, 1e-12);
	take_ok(&limit, 250);
	ck_assert_double_eq_tol(limit.tokens, 0.0, 1e-12);
	take_refused(&limit, 250, 1);

	/* a refused take keeps what it earned: 3 x 0.25 s then 0.25 s more */
	rate_limit_init(&limit, 1, 1, 0);
	take_ok(&limit, 0);
	take_refused(&limit, 250, 1);
	take_refused(&limit, 500, 1);
	take_refused(&limit, 750, 1);
	ck_assert_double_eq_tol(limit.tokens, 0.75, 1e-12);
	take_ok(&limit, 1000);
}
END_TEST

/* Ten refills of 0.1 sum to 0.9999999999999999 in doubles; the token that
 * is there in exact arithmetic must be given. */
START_TEST(test_fractional_refills_add_up)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 10, 1, 0);
	take_ok(&limit, 0);
	for (uint64_t now = 10; now < 100; now += 10)
		take_refused(&limit, now, 1);
	take_ok(&limit, 100);
	take_refused(&limit, 100, 1);
}
END_TEST

START_TEST(test_cap_at_burst)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 10, 3, 0);
	for (int i = 0; i < 3; i++)
		take_ok(&limit, 0);
	take_refused(&limit, 0, 1);
	/* an hour idle earns 36000 tokens, but the bucket holds 3 */
	take_ok(&limit, 3600 * 1000);
	ck_assert_double_eq(limit.tokens, 2.0);
	take_ok(&limit, 3600 * 1000);
	take_ok(&limit, 3600 * 1000);
	take_refused(&limit, 3600 * 1000, 1);

	/* a full bucket stays full */
	rate_limit_init(&limit, 1, 2, 0);
	take_ok(&limit, 5000);
	ck_assert_double_eq(limit.tokens, 1.0);
	take_ok(&limit, 5000);
	take_refused(&limit, 5000, 1);
}
END_TEST

START_TEST(test_retry_after_integer_rates)
{
	struct rate_limit limit;

	/* with a whole rate of at least 1, the next token is under a second away */
	rate_limit_init(&limit, 1, 1, 0);
	take_ok(&limit, 0);
	take_refused(&limit, 0, 1);
	take_refused(&limit, 999, 1);

	rate_limit_init(&limit, 2, 2, 0);
	take_ok(&limit, 0);
	take_ok(&limit, 0);
	take_refused(&limit, 0, 1);

	rate_limit_init(&limit, 10, 1, 0);
	take_ok(&limit, 0);
	take_refused(&limit, 0, 1);
	take_refused(&limit, 50, 1);

	/* a NULL retry pointer is allowed */
	ck_assert(!rate_limit_take(&limit, 50, NULL));
}
END_TEST

/* Rates below one per second cannot come from rate_limit_init (whole
 * numbers) but the arithmetic is on doubles: set the fields directly. */
START_TEST(test_retry_after_fractional_rates)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 1, 1, 0);
	limit.tokens = 0.0;

	limit.rate = 0.5; /* (1 - 0) / 0.5 = 2 */
	take_refused(&limit, 0, 2);
	limit.rate = 0.1; /* 10 */
	take_refused(&limit, 0, 10);
	limit.rate = 0.3; /* 3.33 -> 4 */
	take_refused(&limit, 0, 4);
	limit.rate = 0.25; /* 4 */
	take_refused(&limit, 0, 4);

	limit.tokens = 0.5;
	limit.rate = 0.25; /* (1 - 0.5) / 0.25 = 2 */
	take_refused(&limit, 0, 2);
	limit.rate = 0.5; /* exactly 1, not rounded up to 2 */
	take_refused(&limit, 0, 1);
	limit.tokens = 0.25;
	limit.rate = 0.125; /* 0.75 / 0.125 = 6, exact in binary */
	take_refused(&limit, 0, 6);
	limit.rate = 0.0625; /* 12 */
	take_refused(&limit, 0, 12);

	/* a rate so small that the wait overflows is clamped */
	limit.tokens = 0.0;
	limit.rate = 1e-12;
	take_refused(&limit, 0, UINT_MAX);

	/* refill at half a token per second: 2000 ms per token */
	limit.tokens = 0.0;
	limit.rate = 0.5;
	limit.last_ms = 0;
	take_refused(&limit, 1000, 1);
	take_refused(&limit, 1999, 1);
	take_ok(&limit, 2000);
	take_refused(&limit, 2000, 2);
}
END_TEST

START_TEST(test_backwards_clock)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 1, 1, 10000);
	take_ok(&limit, 10000);
	/* going back earns nothing (an unsigned difference would wrap huge) */
	take_refused(&limit, 5000, 1);
	ck_assert_double_eq(limit.tokens, 0.0);
	take_refused(&limit, 0, 1);
	ck_assert_double_eq(limit.tokens, 0.0);
	/* later refills count from the earlier time */
	take_refused(&limit, 999, 1);
	ck_assert_double_eq_tol(limit.tokens, 0.999, 1e-12);
	take_ok(&limit, 1000);
	take_refused(&limit, 1000, 1);
	take_ok(&limit, 2000);

	/* a partial token survives the clock going back */
	rate_limit_init(&limit, 2, 1, 1000);
	take_ok(&limit, 1000);
	take_refused(&limit, 1250, 1);
	ck_assert_double_eq_tol(limit.tokens, 0.5, 1e-12);
	take_refused(&limit, 900, 1);
	ck_assert_double_eq_tol(limit.tokens, 0.5, 1e-12);
	take_ok(&limit, 1150);
}
END_TEST

START_TEST(test_unlimited)
{
	struct rate_limit limit;

	rate_limit_init(&limit, 0, 0, 0);
	for (int i = 0; i < 10000; i++)
		take_ok(&limit, 0);
	take_ok(&limit, UINT64_MAX);
	take_ok(&limit, 0);

	/* rate 0 with a burst is still unlimited */
	rate_limit_init(&limit, 0, 5, 100);
	for (int i = 0; i < 100; i++)
		take_ok(&limit, 100);
	ck_assert(rate_limit_take(&limit, 50, NULL));
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *suite = suite_create("ratelimit");
	TCase *tcase = tcase_create("ratelimit");

	tcase_add_test(tcase, test_init_values);
	tcase_add_test(tcase, test_burst_then_refusals);
	tcase_add_test(tcase, test_refill_after_exact_milliseconds);
	tcase_add_test(tcase, test_partial_tokens);
	tcase_add_test(tcase, test_fractional_refills_add_up);
	tcase_add_test(tcase, test_cap_at_burst);
	tcase_add_test(tcase, test_retry_after_integer_rates);
	tcase_add_test(tcase, test_retry_after_fractional_rates);
	tcase_add_test(tcase, test_backwards_clock);
	tcase_add_test(tcase, test_unlimited);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(ratelimit_suite());
}
