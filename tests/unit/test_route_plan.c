/* SPDX-License-Identifier: ISC */
/* Unit tests for route_plan: which way a stanza goes and over which
 * streams, which stanzas count against a partner's rate, and the stanza
 * error that goes back when one cannot be delivered. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "namespaces.h"
#include "route_plan.h"
#include "test_suite.h"
#include "xml_write.h"

START_TEST(test_inward)
{
	struct xmpp_route_plan plan = xmpp_route_plan(true, false);
	ck_assert(plan.deliver);
	ck_assert_int_eq(plan.direction, XMPP_INWARD);
	/* The internal server's own stream first: the edge need not connect inward. */
	ck_assert_int_eq(plan.accepted, XMPP_IN_INTERNAL);
	ck_assert_int_eq(plan.opened, XMPP_OUT_INTERNAL);
	ck_assert_str_eq(xmpp_direction_name(plan.direction), "inward");
}
END_TEST

START_TEST(test_outward)
{
	struct xmpp_route_plan plan = xmpp_route_plan(false, true);
	ck_assert(plan.deliver);
	ck_assert_int_eq(plan.direction, XMPP_OUTWARD);
	ck_assert_int_eq(plan.accepted, XMPP_IN_PUBLIC);
	ck_assert_int_eq(plan.opened, XMPP_OUT_PUBLIC);
	ck_assert_str_eq(xmpp_direction_name(plan.direction), "outward");
}
END_TEST

START_TEST(test_not_federated)
{
	struct xmpp_route_plan plan = xmpp_route_plan(false, false);
	ck_assert(!plan.deliver);
	ck_assert_str_eq(plan.condition, "not-allowed");
}
END_TEST

START_TEST(test_from_partner)
{
	ck_assert(xmpp_route_from_partner(XMPP_IN_PUBLIC));
	ck_assert(xmpp_route_from_partner(XMPP_OUT_PUBLIC));
	ck_assert(!xmpp_route_from_partner(XMPP_IN_INTERNAL));
	ck_assert(!xmpp_route_from_partner(XMPP_OUT_INTERNAL));
}
END_TEST

static struct xml_element *message(const char *type)
{
	struct xml_element *stanza = xml_element_new(XMPP_SERVER_NAMESPACE, "message");
	ck_assert_ptr_nonnull(stanza);
	ck_assert_int_eq(xml_element_set_attribute(stanza, NULL, "from", "bob@partner.test/x"), 0);
	ck_assert_int_eq(xml_element_set_attribute(stanza, NULL, "to", "alice@example.test"), 0);
	ck_assert_int_eq(xml_element_set_attribute(stanza, NULL, "id", "m1"), 0);
	if (type != NULL)
		ck_assert_int_eq(xml_element_set_attribute(stanza, NULL, "type", type), 0);
	ck_assert_ptr_nonnull(xml_element_add_child(stanza, XMPP_SERVER_NAMESPACE, "body"));
	return stanza;
}

START_TEST(test_stanza_error)
{
	struct xml_element *stanza = message("chat");
	struct xml_element *reply = xmpp_stanza_error(stanza, "remote-server-not-found");
	struct evbuffer *out = evbuffer_new();
	char text[400];

	ck_assert_ptr_nonnull(reply);
	ck_assert_int_eq(xml_write_element(out, reply, XMPP_SERVER_NAMESPACE), 0);
	size_t length = evbuffer_remove(out, text, sizeof(text) - 1);
	text[length] = '\0';
	/* From where it went, to who sent it, with its id; its content not echoed. */
	ck_assert_str_eq(text, "<message from='alice@example.test' to='bob@partner.test/x' "
			       "type='error' id='m1'><error type='cancel'><remote-server-not-found "
			       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
	evbuffer_free(out);
	xml_element_free(reply);
	xml_element_free(stanza);
}
END_TEST

START_TEST(test_no_error_for)
{
	/* An error is never answered with one (RFC 6120 §8.3.1): no loops. */
	struct xml_element *error = message("error");
	ck_assert_ptr_null(xmpp_stanza_error(error, "resource-constraint"));
	xml_element_free(error);
	/* Nobody to tell. */
	struct xml_element *anonymous = message(NULL);
	ck_assert_int_eq(xml_element_remove_attribute(anonymous, NULL, "from"), 0);
	ck_assert_ptr_null(xmpp_stanza_error(anonymous, "resource-constraint"));
	xml_element_free(anonymous);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("route_plan");
	TCase *tcase = tcase_create("route_plan");
	tcase_add_test(tcase, test_inward);
	tcase_add_test(tcase, test_outward);
	tcase_add_test(tcase, test_not_federated);
	tcase_add_test(tcase, test_from_partner);
	tcase_add_test(tcase, test_stanza_error);
	tcase_add_test(tcase, test_no_error_for);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
