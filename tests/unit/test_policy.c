/* SPDX-License-Identifier: ISC */
/* Unit tests for src/policy and its SIP view, src/sip/partner_policy: what
 * the edge does with a domain (ours, partner, blocked, discovered,
 * refused), when a partner edge's certificate speaks for a domain (edge
 * names, SRV targets, pins), and which names lie inside a domain.  The
 * configuration is built in memory: policy is pure. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "federation_config.h"
#include "partner_policy.h"
#include "protocols.h"
#include "test_suite.h"

/* ---- Fixture: a configuration with every kind of domain ---- */

static char *domains[] = { "example.test", "example.org" };
/* evil.test and im.spam.test are also partners: the block list wins. */
static char *blocked[] = { "spam.test", "evil.test" };
static char *partner_edges[] = { "edge.partner.test", "edge2.partner.test" };
static char *pinned_edges[] = { "sip.pinned.test" };
static char *evil_edges[] = { "edge.evil.test" };
static char *spam_edges[] = { "edge.im.spam.test" };

enum {
	PARTNER,
	PINNED,
	SRV_ONLY,
	EVIL,
	IM_SPAM,
	N_PARTNERS
};

static struct partner_config partners[N_PARTNERS];
static struct federation_config federation;
static struct sip_config sip;
static struct sxedge_config config;
static unsigned char pin[32];

static void setup(void)
{
	for (unsigned i = 0; i < sizeof(pin); i++)
		pin[i] = (unsigned char)(0xa0 + i);
	memset(partners, 0, sizeof(partners));
	partners[PARTNER] = (struct partner_config){ .domain = "partner.test",
						     .edges = partner_edges,
						     .n_edges = 2 };
	partners[PINNED] = (struct partner_config){ .domain = "pinned.test",
						    .edges = pinned_edges,
						    .n_edges = 1,
						    .fingerprint_set = true };
	memcpy(partners[PINNED].fingerprint, pin, sizeof(pin));
	partners[SRV_ONLY] =
		(struct partner_config){ .domain = "srv.test", .type = PARTNER_PROVIDER };
	partners[EVIL] =
		(struct partner_config){ .domain = "evil.test", .edges = evil_edges, .n_edges = 1 };
	partners[IM_SPAM] = (struct partner_config){ .domain = "im.spam.test",
						     .edges = spam_edges,
						     .n_edges = 1 };
	federation = (struct federation_config){ .blocked = blocked, .n_blocked = 2 };
	sip = (struct sip_config){
		.partners = partners,
		.n_partners = N_PARTNERS,
	};
	config = (struct sxedge_config){
		.schema = &sxedge_protocols.schema,
		.domains = domains,
		.n_domains = 2,
		.modules = { &federation, &sip },
	};
}

/* sip_policy_domain's verdict on DOMAIN, checking that *partner is EXPECTED. */
static enum policy_verdict verdict(const char *domain, const struct partner_config *expected)
{
	const struct partner_config *partner = &partners[EVIL]; /* must be overwritten */
	enum policy_verdict result = sip_policy_domain(&config, domain, &partner);

	ck_assert_msg(partner == expected, "%s: partner %s, expected %s", domain,
		      partner != NULL ? partner->domain : "NULL",
		      expected != NULL ? expected->domain : "NULL");
	return result;
}

/* ---- sip_policy_domain ---- */

START_TEST(test_partner_allowed)
{
	ck_assert_int_eq(verdict("partner.test", &partners[PARTNER]), POLICY_PARTNER);
	ck_assert_int_eq(verdict("PARTNER.Test", &partners[PARTNER]), POLICY_PARTNER);
	ck_assert_int_eq(verdict("partner.test.", &partners[PARTNER]), POLICY_PARTNER);
	ck_assert_int_eq(verdict("srv.test", &partners[SRV_ONLY]), POLICY_PARTNER);
	/* A name below a partner is not that partner. */
	ck_assert_int_eq(verdict("sub.partner.test", NULL), POLICY_REFUSED);
	/* The caller may not want the partner. */
	ck_assert_int_eq(sip_policy_domain(&config, "pinned.test", NULL), POLICY_PARTNER);
}
END_TEST

START_TEST(test_blocked)
{
	ck_assert_int_eq(verdict("spam.test", NULL), POLICY_BLOCKED);
	ck_assert_int_eq(verdict("Spam.TEST.", NULL), POLICY_BLOCKED);
	/* Open federation does not unblock. */
	federation.open = true;
	ck_assert_int_eq(verdict("spam.test", NULL), POLICY_BLOCKED);
	/* A name that only ends in the same letters is somebody else. */
	ck_assert_int_eq(verdict("notspam.test", NULL), POLICY_DISCOVER);
}
END_TEST

START_TEST(test_blocked_subdomain)
{
	ck_assert_int_eq(verdict("mail.spam.test", NULL), POLICY_BLOCKED);
	ck_assert_int_eq(verdict("a.b.c.SPAM.test", NULL), POLICY_BLOCKED);
	federation.open = true;
	ck_assert_int_eq(verdict("x.spam.test.", NULL), POLICY_BLOCKED);
}
END_TEST

START_TEST(test_blocked_partner)
{
	/* The block list wins over a [partner] section, for the domain itself
	 * and for a partner below a blocked domain. */
	ck_assert_int_eq(verdict("evil.test", NULL), POLICY_BLOCKED);
	ck_assert_int_eq(verdict("im.spam.test", NULL), POLICY_BLOCKED);
	federation.n_blocked = 0;
	ck_assert_int_eq(verdict("evil.test", &partners[EVIL]), POLICY_PARTNER);
	ck_assert_int_eq(verdict("im.spam.test", &partners[IM_SPAM]), POLICY_PARTNER);
}
END_TEST

START_TEST(test_ours)
{
	static char *wide_block[] = { "test", "org" };

	ck_assert_int_eq(verdict("example.test", NULL), POLICY_OURS);
	ck_assert_int_eq(verdict("EXAMPLE.org.", NULL), POLICY_OURS);
	/* Never blocked, even by a block list entry above them. */
	federation.blocked = wide_block;
	federation.n_blocked = 2;
	ck_assert_int_eq(verdict("example.test", NULL), POLICY_OURS);
	ck_assert_int_eq(verdict("example.org", NULL), POLICY_OURS);
	ck_assert_int_eq(verdict("partner.test", NULL), POLICY_BLOCKED);
	/* A name below ours is not ours. */
	ck_assert_int_eq(verdict("sub.example.org", NULL), POLICY_BLOCKED);
}
END_TEST

START_TEST(test_unknown_open_federation)
{
	federation.open = true;
	ck_assert_int_eq(verdict("unknown.test", NULL), POLICY_DISCOVER);
	ck_assert_int_eq(verdict("Unknown.Test.", NULL), POLICY_DISCOVER);
	ck_assert_int_eq(verdict("sub.example.test", NULL), POLICY_DISCOVER);
	/* Only DNS names are worth a look-up. */
	ck_assert_int_eq(verdict("bad_name.test", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict("a..test", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict("-a.test", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict("127.0.0.1", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict("[::1]", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict("", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict(".", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict(NULL, NULL), POLICY_REFUSED);

	char name[300];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (size_t i = 60; i < sizeof(name) - 1; i += 61)
		name[i] = '.';
	ck_assert_int_eq(verdict(name, NULL), POLICY_REFUSED); /* 299 characters */
	name[253] = '\0';
	ck_assert_int_eq(verdict(name, NULL), POLICY_DISCOVER); /* 253: the longest */
	name[253] = '.';
	name[254] = '\0';
	ck_assert_int_eq(verdict(name, NULL), POLICY_DISCOVER); /* and its root dot */
}
END_TEST

START_TEST(test_unknown_closed_federation)
{
	ck_assert_int_eq(verdict("unknown.test", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict("sub.example.test", NULL), POLICY_REFUSED);
	ck_assert_int_eq(verdict("test", NULL), POLICY_REFUSED);
}
END_TEST

/* ---- partner_certificate_binds ---- */

static enum partner_binding binds(const struct partner_config *partner, char **names,
				  size_t n_names, const unsigned char *fingerprint, char **edges,
				  size_t n_edges)
{
	return partner_certificate_binds(partner, names, n_names, fingerprint, edges, n_edges);
}

START_TEST(test_configured_edges)
{
	char *first[] = { "edge.partner.test" };
	char *second[] = { "other.example", "EDGE2.Partner.Test" };
	char *stranger[] = { "edge.evil.test", "partner.test" };
	char *srv[] = { "sip.partner.test" };

	ck_assert_int_eq(binds(&partners[PARTNER], first, 1, NULL, NULL, 0), BINDING_OK);
	ck_assert_int_eq(binds(&partners[PARTNER], second, 2, NULL, NULL, 0), BINDING_OK);
	ck_assert_int_eq(binds(&partners[PARTNER], stranger, 2, NULL, NULL, 0),
			 BINDING_NAME_MISMATCH);
	ck_assert_int_eq(binds(&partners[PARTNER], NULL, 0, NULL, NULL, 0), BINDING_NAME_MISMATCH);
	/* Configured edges win over SRV targets. */
	ck_assert_int_eq(binds(&partners[PARTNER], srv, 1, NULL, srv, 1), BINDING_NAME_MISMATCH);
	ck_assert_int_eq(binds(&partners[PARTNER], first, 1, NULL, srv, 1), BINDING_OK);
	/* Without a pin, a fingerprint changes nothing. */
	ck_assert_int_eq(binds(&partners[PARTNER], first, 1, pin, NULL, 0), BINDING_OK);
}
END_TEST

START_TEST(test_wildcard_certificate)
{
	char *wildcard[] = { "*.partner.test" };
	char *too_deep[] = { "*.edge.partner.test" };
	char *too_wide[] = { "*.test" };

	ck_assert_int_eq(binds(&partners[PARTNER], wildcard, 1, NULL, NULL, 0), BINDING_OK);
	ck_assert_int_eq(binds(&partners[PARTNER], too_deep, 1, NULL, NULL, 0),
			 BINDING_NAME_MISMATCH);
	ck_assert_int_eq(binds(&partners[PARTNER], too_wide, 1, NULL, NULL, 0),
			 BINDING_NAME_MISMATCH);
}
END_TEST

START_TEST(test_pin)
{
	char *names[] = { "sip.pinned.test" };
	char *wrong_name[] = { "sip.other.test" };
	unsigned char other[32];

	ck_assert_int_eq(binds(&partners[PINNED], names, 1, pin, NULL, 0), BINDING_OK);
	memcpy(other, pin, sizeof(other));
	other[31] ^= 1; /* the last byte counts too */
	ck_assert_int_eq(binds(&partners[PINNED], names, 1, other, NULL, 0),
			 BINDING_FINGERPRINT_MISMATCH);
	memcpy(other, pin, sizeof(other));
	other[0] ^= 0x80;
	ck_assert_int_eq(binds(&partners[PINNED], names, 1, other, NULL, 0),
			 BINDING_FINGERPRINT_MISMATCH);
	/* A pin with no fingerprint to compare never passes. */
	ck_assert_int_eq(binds(&partners[PINNED], names, 1, NULL, NULL, 0),
			 BINDING_FINGERPRINT_MISMATCH);
	/* The right pin does not excuse the wrong name. */
	ck_assert_int_eq(binds(&partners[PINNED], wrong_name, 1, pin, NULL, 0),
			 BINDING_NAME_MISMATCH);
}
END_TEST

START_TEST(test_partner_srv_targets)
{
	char *targets[] = { "sip1.srv.test", "sip2.srv.test" };
	char *second[] = { "SIP2.srv.test" };
	char *other[] = { "sip3.srv.test" };

	ck_assert_int_eq(binds(&partners[SRV_ONLY], second, 1, NULL, targets, 2), BINDING_OK);
	ck_assert_int_eq(binds(&partners[SRV_ONLY], other, 1, NULL, targets, 2),
			 BINDING_NAME_MISMATCH);
	/* No edges and nothing found by SRV: nothing can match. */
	ck_assert_int_eq(binds(&partners[SRV_ONLY], second, 1, NULL, NULL, 0),
			 BINDING_NAME_MISMATCH);
	/* A pin applies to SRV-found edges as well. */
	partners[SRV_ONLY].fingerprint_set = true;
	memcpy(partners[SRV_ONLY].fingerprint, pin, sizeof(pin));
	ck_assert_int_eq(binds(&partners[SRV_ONLY], second, 1, pin, targets, 2), BINDING_OK);
	ck_assert_int_eq(binds(&partners[SRV_ONLY], second, 1, NULL, targets, 2),
			 BINDING_FINGERPRINT_MISMATCH);
}
END_TEST

START_TEST(test_discovered_domain)
{
	char *targets[] = { "sip.unknown.test", "sip2.unknown.test." };
	char *first[] = { "sip.unknown.test" };
	char *second[] = { "other.example", "sip2.unknown.test" };
	char *wildcard[] = { "*.unknown.test" };
	char *other[] = { "sip.other.test" };

	ck_assert_int_eq(binds(NULL, first, 1, NULL, targets, 2), BINDING_OK);
	ck_assert_int_eq(binds(NULL, second, 2, NULL, targets, 2), BINDING_OK);
	ck_assert_int_eq(binds(NULL, wildcard, 1, pin, targets, 2), BINDING_OK);
	ck_assert_int_eq(binds(NULL, other, 1, NULL, targets, 2), BINDING_NAME_MISMATCH);
	ck_assert_int_eq(binds(NULL, first, 1, NULL, NULL, 0), BINDING_NAME_MISMATCH);
}
END_TEST

START_TEST(test_binding_reasons)
{
	ck_assert_str_eq(partner_binding_reason(BINDING_NAME_MISMATCH),
			 "Certificate Does Not Match Domain");
	ck_assert_str_eq(partner_binding_reason(BINDING_FINGERPRINT_MISMATCH),
			 "Certificate Pin Mismatch");
	ck_assert_str_eq(partner_binding_reason(BINDING_OK), "OK");
}
END_TEST

/* ---- policy_name_in_domain ---- */

START_TEST(test_name_in_domain)
{
	ck_assert(policy_name_in_domain("partner.test", "partner.test"));
	ck_assert(policy_name_in_domain("sip.partner.test", "partner.test"));
	ck_assert(policy_name_in_domain("a.b.sip.partner.test", "partner.test"));
	ck_assert(policy_name_in_domain("SIP.Partner.TEST", "partner.test"));
	ck_assert(policy_name_in_domain("sip.partner.test", "PARTNER.test"));
	ck_assert(policy_name_in_domain("sip.partner.test.", "partner.test"));
	ck_assert(policy_name_in_domain("sip.partner.test", "partner.test."));
	ck_assert(policy_name_in_domain("partner.test.", "partner.test."));

	/* A sibling that merely ends in the same letters is outside. */
	ck_assert(!policy_name_in_domain("notpartner.test", "partner.test"));
	ck_assert(!policy_name_in_domain("sip.notpartner.test", "partner.test"));
	/* Above, beside, or a different name. */
	ck_assert(!policy_name_in_domain("partner.test", "sip.partner.test"));
	ck_assert(!policy_name_in_domain("test", "partner.test"));
	ck_assert(!policy_name_in_domain("partner.tester", "partner.test"));
	ck_assert(!policy_name_in_domain("partner.test.evil", "partner.test"));
	ck_assert(!policy_name_in_domain("other.test", "partner.test"));
	/* Nothing is in no domain. */
	ck_assert(!policy_name_in_domain("partner.test", ""));
	ck_assert(!policy_name_in_domain("partner.test", "."));
	ck_assert(!policy_name_in_domain("", "partner.test"));
	ck_assert(!policy_name_in_domain(NULL, "partner.test"));
	ck_assert(!policy_name_in_domain("partner.test", NULL));
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *suite = suite_create("policy");
	TCase *domain = tcase_create("domain");
	TCase *binding = tcase_create("binding");
	TCase *names = tcase_create("names");

	tcase_add_checked_fixture(domain, setup, NULL);
	tcase_add_test(domain, test_partner_allowed);
	tcase_add_test(domain, test_blocked);
	tcase_add_test(domain, test_blocked_subdomain);
	tcase_add_test(domain, test_blocked_partner);
	tcase_add_test(domain, test_ours);
	tcase_add_test(domain, test_unknown_open_federation);
	tcase_add_test(domain, test_unknown_closed_federation);
	suite_add_tcase(suite, domain);

	tcase_add_checked_fixture(binding, setup, NULL);
	tcase_add_test(binding, test_configured_edges);
	tcase_add_test(binding, test_wildcard_certificate);
	tcase_add_test(binding, test_pin);
	tcase_add_test(binding, test_partner_srv_targets);
	tcase_add_test(binding, test_discovered_domain);
	tcase_add_test(binding, test_binding_reasons);
	suite_add_tcase(suite, binding);

	tcase_add_test(names, test_name_in_domain);
	suite_add_tcase(suite, names);
	return suite;
}

int main(void)
{
	return test_suite_run(policy_suite());
}
