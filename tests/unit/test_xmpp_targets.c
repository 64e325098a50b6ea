/* SPDX-License-Identifier: ISC */
/* Check suite for src/xmpp/xmpp_targets: the order in which the edge tries
 * a partner's XMPP servers (direct TLS and STARTTLS merged by priority),
 * the "." that takes a service away, and the fallback to the domain. */
#include <check.h>
#include <stdlib.h>

#include "xmpp_targets.h"
#include "test_suite.h"

/* A draw of MAX takes the last target of the running sum, a draw of 0
 * the first: either way the weighted order is known. */
static uint32_t draw_highest(void *arg, uint32_t max)
{
	(void)arg;
	return max;
}

static uint32_t draw_lowest(void *arg, uint32_t max)
{
	(void)arg;
	(void)max;
	return 0;
}

static struct dns_target record(const char *host, uint16_t port, uint16_t priority, uint16_t weight)
{
	return (struct dns_target){
		.host = (char *)host, .port = port, .priority = priority, .weight = weight
	};
}

static void assert_target(const struct xmpp_targets *plan, size_t i, const char *host,
			  uint16_t port, bool direct_tls)
{
	ck_assert_uint_gt(plan->n, i);
	ck_assert_str_eq(plan->targets[i].host, host);
	ck_assert_uint_eq(plan->targets[i].port, port);
	ck_assert(plan->targets[i].direct_tls == direct_tls);
}

START_TEST(test_no_records_falls_back_to_the_domain_on_5269)
{
	struct xmpp_targets plan;
	ck_assert_int_eq(
		xmpp_targets_order("partner.test", NULL, 0, NULL, 0, draw_lowest, NULL, &plan), 0);
	ck_assert_uint_eq(plan.n, 1);
	assert_target(&plan, 0, "partner.test", 5269, false);
	xmpp_targets_clear(&plan);
	ck_assert_uint_eq(plan.n, 0);
	ck_assert_ptr_null(plan.targets);
}
END_TEST

START_TEST(test_merged_by_priority_direct_first_among_equals)
{
	const struct dns_target direct[] = { record("tls20.partner.test", 5270, 20, 0),
					     record("tls10.partner.test", 5223, 10, 0) };
	const struct dns_target starttls[] = { record("plain10.partner.test", 5269, 10, 0),
					       record("plain5.partner.test", 5269, 5, 0) };
	struct xmpp_targets plan;
	ck_assert_int_eq(xmpp_targets_order("partner.test", direct, 2, starttls, 2, draw_lowest,
					    NULL, &plan),
			 0);
	ck_assert_uint_eq(plan.n, 4);
	assert_target(&plan, 0, "plain5.partner.test", 5269, false);
	assert_target(&plan, 1, "tls10.partner.test", 5223, true);
	assert_target(&plan, 2, "plain10.partner.test", 5269, false);
	assert_target(&plan, 3, "tls20.partner.test", 5270, true);
	xmpp_targets_clear(&plan);
}
END_TEST

/* Within one priority of one service, RFC 2782 weights decide; the two
 * services of one priority do not mix. */
START_TEST(test_weights_within_each_service)
{
	const struct dns_target direct[] = { record("light.partner.test", 5270, 10, 1),
					     record("heavy.partner.test", 5270, 10, 3) };
	const struct dns_target starttls[] = { record("a.partner.test", 5269, 10, 1),
					       record("b.partner.test", 5269, 10, 1) };
	struct xmpp_targets plan;
	ck_assert_int_eq(xmpp_targets_order("partner.test", direct, 2, starttls, 2, draw_highest,
					    NULL, &plan),
			 0);
	ck_assert_uint_eq(plan.n, 4);
	assert_target(&plan, 0, "heavy.partner.test", 5270, true);
	assert_target(&plan, 1, "light.partner.test", 5270, true);
	assert_target(&plan, 2, "b.partner.test", 5269, false);
	assert_target(&plan, 3, "a.partner.test", 5269, false);
	xmpp_targets_clear(&plan);
	ck_assert_int_eq(xmpp_targets_order("partner.test", direct, 2, starttls, 2, draw_lowest,
					    NULL, &plan),
			 0);
	assert_target(&plan, 0, "light.partner.test", 5270, true);
	assert_target(&plan, 2, "a.partner.test", 5269, false);
	xmpp_targets_clear(&plan);
}
END_TEST

START_TEST(test_root_starttls_alone_means_no_server_to_server)
{
	const struct dns_target root[] = { record(".", 0, 0, 0) };
	struct xmpp_targets plan;
	ck_assert_int_eq(
		xmpp_targets_order("partner.test", NULL, 0, root, 1, draw_lowest, NULL, &plan), 0);
	ck_assert_uint_eq(plan.n, 0);
	xmpp_targets_clear(&plan);
	/* both services taken away */
	ck_assert_int_eq(
		xmpp_targets_order("partner.test", root, 1, root, 1, draw_lowest, NULL, &plan), 0);
	ck_assert_uint_eq(plan.n, 0);
	xmpp_targets_clear(&plan);
}
END_TEST

START_TEST(test_root_direct_tls_leaves_starttls_and_its_fallback)
{
	const struct dns_target root[] = { record(".", 0, 0, 0) };
	const struct dns_target starttls[] = { record("xmpp.partner.test", 5269, 0, 0) };
	struct xmpp_targets plan;
	ck_assert_int_eq(
		xmpp_targets_order("partner.test", root, 1, NULL, 0, draw_lowest, NULL, &plan), 0);
	ck_assert_uint_eq(plan.n, 1);
	assert_target(&plan, 0, "partner.test", 5269, false);
	xmpp_targets_clear(&plan);
	ck_assert_int_eq(
		xmpp_targets_order("partner.test", root, 1, starttls, 1, draw_lowest, NULL, &plan),
		0);
	ck_assert_uint_eq(plan.n, 1);
	assert_target(&plan, 0, "xmpp.partner.test", 5269, false);
	xmpp_targets_clear(&plan);
}
END_TEST

/* Direct-TLS records alone: no fallback to 5269 after them (RFC 6120
 * §3.2.2 falls back only when SRV gave nothing). */
START_TEST(test_root_starttls_leaves_direct_tls)
{
	const struct dns_target root[] = { record("", 0, 0, 0) };
	const struct dns_target direct[] = { record("tls.partner.test", 5270, 0, 0) };
	struct xmpp_targets plan;
	ck_assert_int_eq(
		xmpp_targets_order("partner.test", direct, 1, root, 1, draw_lowest, NULL, &plan),
		0);
	ck_assert_uint_eq(plan.n, 1);
	assert_target(&plan, 0, "tls.partner.test", 5270, true);
	xmpp_targets_clear(&plan);
	ck_assert_int_eq(
		xmpp_targets_order("partner.test", direct, 1, NULL, 0, draw_lowest, NULL, &plan),
		0);
	ck_assert_uint_eq(plan.n, 1);
	assert_target(&plan, 0, "tls.partner.test", 5270, true);
	xmpp_targets_clear(&plan);
}
END_TEST

static Suite *xmpp_targets_suite(void)
{
	Suite *suite = suite_create("xmpp_targets");
	TCase *tcase = tcase_create("plan");
	tcase_add_test(tcase, test_no_records_falls_back_to_the_domain_on_5269);
	tcase_add_test(tcase, test_merged_by_priority_direct_first_among_equals);
	tcase_add_test(tcase, test_weights_within_each_service);
	tcase_add_test(tcase, test_root_starttls_alone_means_no_server_to_server);
	tcase_add_test(tcase, test_root_direct_tls_leaves_starttls_and_its_fallback);
	tcase_add_test(tcase, test_root_starttls_leaves_direct_tls);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(xmpp_targets_suite());
}
