/* SPDX-License-Identifier: ISC */
/* Check suite for src/sip/partner_targets: the order in which the edge tries
 * a partner's edges (failover goes down this list) and the names it checks
 * their certificates against. */
#include <check.h>
#include <stdlib.h>

#include "partner_targets.h"
#include "test_suite.h"

static char *two_edges[] = { "edge1.partner.test", "edge2.partner.test" };

static const struct partner_config with_edges = {
	.domain = "partner.test",
	.edges = two_edges,
	.n_edges = 2,
	.address_port = 5061,
};
static const struct partner_config with_address = {
	.domain = "partner.test",
	.edges = two_edges,
	.n_edges = 2,
	.address_host = "192.0.2.20",
	.address_port = 5070,
};
static const struct partner_config by_srv = { .domain = "partner.test", .address_port = 5061 };

/* An SRV answer already in RFC 2782 order, one target outside the domain. */
static const struct dns_target srv_answer[] = {
	{ .host = "sip1.partner.test", .port = 5061, .priority = 10, .weight = 5 },
	{ .host = "edge.hoster.test", .port = 5062, .priority = 10, .weight = 1 },
	{ .host = "partner.test", .port = 5063, .priority = 20, .weight = 0 },
	{ .host = "notpartner.test", .port = 5064, .priority = 30, .weight = 0 },
};
#define SRV_COUNT (sizeof(srv_answer) / sizeof(srv_answer[0]))

static void assert_target(const struct partner_targets *plan, size_t i, const char *host,
			  uint16_t port)
{
	ck_assert_uint_gt(plan->n, i);
	ck_assert_str_eq(plan->targets[i].host, host);
	ck_assert_uint_eq(plan->targets[i].port, port);
}

START_TEST(test_address_override_first_and_only)
{
	struct partner_targets plan = { 0 };
	ck_assert_int_eq(partner_targets_configured(&with_address, &plan), 0);
	ck_assert_uint_eq(plan.n, 1);
	assert_target(&plan, 0, "192.0.2.20", 5070);
	partner_targets_clear(&plan);
	ck_assert_uint_eq(plan.n, 0);
	ck_assert_ptr_null(plan.targets);
}
END_TEST

START_TEST(test_edges_in_written_order_on_5061)
{
	struct partner_targets plan = { 0 };
	ck_assert_int_eq(partner_targets_configured(&with_edges, &plan), 0);
	ck_assert_uint_eq(plan.n, 2);
	assert_target(&plan, 0, "edge1.partner.test", 5061);
	assert_target(&plan, 1, "edge2.partner.test", 5061);
	partner_targets_clear(&plan);
}
END_TEST

START_TEST(test_srv_needed)
{
	struct partner_targets plan = { 0 };
	/* A partner with neither edges nor address, or a discovered domain. */
	ck_assert_int_eq(partner_targets_configured(&by_srv, &plan), 0);
	ck_assert_uint_eq(plan.n, 0);
	ck_assert_int_eq(partner_targets_configured(NULL, &plan), 0);
	ck_assert_uint_eq(plan.n, 0);
}
END_TEST

START_TEST(test_srv_configured_partner_keeps_every_target_in_order)
{
	struct partner_targets plan = { 0 };
	ck_assert_int_eq(
		partner_targets_from_srv("partner.test", &by_srv, srv_answer, SRV_COUNT, &plan), 0);
	ck_assert_uint_eq(plan.n, 4);
	assert_target(&plan, 0, "sip1.partner.test", 5061);
	assert_target(&plan, 1, "edge.hoster.test", 5062);
	assert_target(&plan, 2, "partner.test", 5063);
	assert_target(&plan, 3, "notpartner.test", 5064);
	partner_targets_clear(&plan);
}
END_TEST

START_TEST(test_srv_open_federation_only_inside_the_domain)
{
	struct partner_targets plan = { 0 };
	ck_assert_int_eq(
		partner_targets_from_srv("Partner.Test", NULL, srv_answer, SRV_COUNT, &plan), 0);
	ck_assert_uint_eq(plan.n, 2);
	assert_target(&plan, 0, "sip1.partner.test", 5061);
	assert_target(&plan, 1, "partner.test", 5063);
	partner_targets_clear(&plan);
	/* Nothing inside: nothing to try (the link then answers 503 Not Found). */
	ck_assert_int_eq(partner_targets_from_srv("other.test", NULL, srv_answer, SRV_COUNT, &plan),
			 0);
	ck_assert_uint_eq(plan.n, 0);
}
END_TEST

START_TEST(test_expected_names)
{
	const char *names[4];
	/* Configured edges are what the certificate must name, wherever we connect. */
	ck_assert_uint_eq(partner_expected_names(&with_address, "192.0.2.20", names, 4), 2);
	ck_assert_str_eq(names[0], "edge1.partner.test");
	ck_assert_str_eq(names[1], "edge2.partner.test");
	ck_assert_uint_eq(partner_expected_names(&with_edges, "edge2.partner.test", names, 1), 1);
	ck_assert_str_eq(names[0], "edge1.partner.test");
	/* Without edges, the SRV target itself. */
	ck_assert_uint_eq(partner_expected_names(&by_srv, "sip1.partner.test", names, 4), 1);
	ck_assert_str_eq(names[0], "sip1.partner.test");
	ck_assert_uint_eq(partner_expected_names(NULL, "sip1.open.test", names, 4), 1);
	ck_assert_str_eq(names[0], "sip1.open.test");
	ck_assert_uint_eq(partner_expected_names(NULL, "sip1.open.test", names, 0), 0);
}
END_TEST

static Suite *partner_targets_suite(void)
{
	Suite *suite = suite_create("partner_targets");
	TCase *tcase = tcase_create("plan");
	tcase_add_test(tcase, test_address_override_first_and_only);
	tcase_add_test(tcase, test_edges_in_written_order_on_5061);
	tcase_add_test(tcase, test_srv_needed);
	tcase_add_test(tcase, test_srv_configured_partner_keeps_every_target_in_order);
	tcase_add_test(tcase, test_srv_open_federation_only_inside_the_domain);
	tcase_add_test(tcase, test_expected_names);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(partner_targets_suite());
}
