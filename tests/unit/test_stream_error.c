/* SPDX-License-Identifier: ISC */
/* Unit tests for stream_error: every condition's RFC 6120 §4.9.3 name, and
 * the <stream:error/> written with and without text (escaped), which a
 * parser reads back as the condition it says. */
#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "stream_error.h"
#include "test_suite.h"
#include "test_xml.h"

START_TEST(test_names)
{
	static const char *const expected[] = {
		"ok",
		"bad-format",
		"connection-timeout",
		"host-unknown",
		"improper-addressing",
		"internal-server-error",
		"invalid-from",
		"invalid-namespace",
		"not-authorized",
		"not-well-formed",
		"policy-violation",
		"remote-connection-failed",
		"resource-constraint",
		"restricted-xml",
		"system-shutdown",
		"undefined-condition",
		"unsupported-stanza-type",
		"unsupported-version",
	};
	size_t count = sizeof(expected) / sizeof(expected[0]);
	ck_assert_uint_eq(count, XMPP_STREAM_UNSUPPORTED_VERSION + 1);
	for (size_t i = 0; i < count; i++)
		ck_assert_str_eq(xmpp_stream_error_name((enum xmpp_stream_error)i), expected[i]);
	ck_assert_ptr_null(xmpp_stream_error_name((enum xmpp_stream_error)count));
	ck_assert_ptr_null(xmpp_stream_error_name((enum xmpp_stream_error) - 1));
}
END_TEST

static char *written(enum xmpp_stream_error error, const char *text, int expected_result)
{
	struct evbuffer *out = evbuffer_new();
	ck_assert_int_eq(xmpp_write_stream_error(out, error, text), expected_result);
	size_t len = evbuffer_get_length(out);
	char *bytes = calloc(1, len + 1);
	evbuffer_remove(out, bytes, len);
	evbuffer_free(out);
	return bytes;
}

START_TEST(test_write)
{
	char *bytes = written(XMPP_STREAM_RESTRICTED_XML, NULL, 0);
	ck_assert_str_eq(bytes, "<stream:error><restricted-xml xmlns='urn:ietf:params:xml:ns:"
				"xmpp-streams'/></stream:error>");
	free(bytes);

	bytes = written(XMPP_STREAM_POLICY_VIOLATION, "stanza over 262144 <bytes> & more", 0);
	ck_assert_str_eq(bytes,
			 "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:"
			 "xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
			 "stanza over 262144 &lt;bytes&gt; &amp; more</text></stream:error>");
	struct xml_element *parsed = test_xml_parse(bytes);
	ck_assert_ptr_nonnull(parsed);
	ck_assert(xml_element_is(parsed, XMPP_STREAMS_NAMESPACE, "error"));
	ck_assert_ptr_nonnull(
		xml_element_child(parsed, XMPP_STREAM_ERRORS_NAMESPACE, "policy-violation"));
	char *text =
		xml_element_text(xml_element_child(parsed, XMPP_STREAM_ERRORS_NAMESPACE, "text"));
	ck_assert_str_eq(text, "stanza over 262144 <bytes> & more");
	free(text);
	xml_element_free(parsed);
	free(bytes);
}
END_TEST

START_TEST(test_write_refused)
{
	char *bytes = written(XMPP_STREAM_OK, NULL, -1);
	ck_assert_str_eq(bytes, "");
	free(bytes);
	bytes = written((enum xmpp_stream_error)99, NULL, -1);
	ck_assert_str_eq(bytes, "");
	free(bytes);
	/* text that is no XML leaves nothing half-written */
	bytes = written(XMPP_STREAM_BAD_FORMAT, "\x01", -1);
	ck_assert_str_eq(bytes, "");
	free(bytes);
}
END_TEST

static Suite *stream_error_suite(void)
{
	Suite *suite = suite_create("stream_error");
	TCase *tcase = tcase_create("stream_error");
	tcase_add_test(tcase, test_names);
	tcase_add_test(tcase, test_write);
	tcase_add_test(tcase, test_write_refused);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(stream_error_suite());
}
