/* SPDX-License-Identifier: ISC */
/* Unit tests for xml_write: namespaces declared exactly where the one in
 * scope changes, attribute namespaces with generated prefixes, xml:lang,
 * escaping, what is refused (leaving the buffer as it was), the stream
 * header, and that writing, parsing and writing again gives the same bytes. */
#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "stream_error.h"
#include "test_suite.h"
#include "test_xml.h"
#include "xml_write.h"

#define SERVER TEST_XML_SERVER

static void assert_writes(const struct xml_element *element, const char *expected)
{
	char *text = test_xml_write(element, SERVER);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, expected);
	free(text);
}

/* Namespaces */

START_TEST(test_default_namespace_unwritten)
{
	struct xml_element *message = xml_element_new(SERVER, "message");
	xml_element_set_attribute(message, NULL, "to", "b.example");
	assert_writes(message, "<message to='b.example'/>");
	/* without a stream default, the element declares its own */
	char *text = test_xml_write(message, NULL);
	ck_assert_str_eq(text, "<message xmlns='jabber:server' to='b.example'/>");
	free(text);
	xml_element_free(message);
}
END_TEST

START_TEST(test_namespace_changes_and_back)
{
	struct xml_element *message = xml_element_new(SERVER, "message");
	struct xml_element *x = xml_element_add_child(message, "urn:x", "x");
	xml_element_add_child(x, "urn:x", "same");
	struct xml_element *back = xml_element_add_child(x, SERVER, "body");
	xml_element_add_text(back, "hi", 2);
	xml_element_add_child(message, SERVER, "subject");
	xml_element_add_child(message, NULL, "none");
	assert_writes(message, "<message><x xmlns='urn:x'><same/><body xmlns='jabber:server'>hi"
			       "</body></x><subject/><none xmlns=''/></message>");
	xml_element_free(message);
}
END_TEST

START_TEST(test_stream_namespace_prefixed)
{
	struct xml_element *features = xml_element_new(XMPP_STREAMS_NAMESPACE, "features");
	xml_element_add_child(features, "urn:ietf:params:xml:ns:xmpp-tls", "starttls");
	xml_element_add_child(features, SERVER, "plain");
	assert_writes(features, "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:"
				"xmpp-tls'/><plain/></stream:features>");
	xml_element_free(features);
}
END_TEST

START_TEST(test_attribute_namespaces)
{
	struct xml_element *e = xml_element_new(SERVER, "iq");
	xml_element_set_attribute(e, "urn:a", "p", "1");
	xml_element_set_attribute(e, NULL, "id", "7");
	xml_element_set_attribute(e, "urn:b", "r", "3");
	xml_element_set_attribute(e, "urn:a", "q", "2");
	xml_element_set_attribute(e, XML_NAMESPACE, "lang", "en");
	/* the element's own namespace is no attribute's: unprefixed means none */
	xml_element_set_attribute(e, SERVER, "to", "x");
	struct xml_element *child = xml_element_add_child(e, SERVER, "query");
	xml_element_set_attribute(child, "urn:b", "r", "4");
	assert_writes(e, "<iq xmlns:ns1='urn:a' ns1:p='1' id='7' xmlns:ns2='urn:b' ns2:r='3'"
			 " ns1:q='2' xml:lang='en' xmlns:ns3='jabber:server' ns3:to='x'>"
			 "<query xmlns:ns1='urn:b' ns1:r='4'/></iq>");
	xml_element_free(e);
}
END_TEST

/* Escaping */

START_TEST(test_escaping)
{
	struct xml_element *body = xml_element_new(SERVER, "body");
	const char text[] = "a<b&c>'\"]]>\r\n\tz";
	xml_element_set_attribute(body, NULL, "v", "<&>'\"\t\n\r");
	xml_element_add_text(body, text, strlen(text));
	assert_writes(body, "<body v='&lt;&amp;&gt;&apos;&quot;&#9;&#10;&#13;'>"
			    "a&lt;b&amp;c&gt;&apos;&quot;]]&gt;&#13;\n\tz</body>");
	xml_element_free(body);
}
END_TEST

/* Refusals */

static void assert_refused(const struct xml_element *element)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add(out, "kept", 4);
	ck_assert_int_eq(xml_write_element(out, element, SERVER), -1);
	ck_assert_uint_eq(evbuffer_get_length(out), 4);
	evbuffer_free(out);
}

START_TEST(test_refuses_what_would_read_back_otherwise)
{
	static const char *const bad_text[] = { "\xff",		"a\xc3", "\xc0\xaf",
						"\xed\xa0\x80", "\x01",	 "\xef\xbf\xbe" };
	static const char *const bad_names[] = { "", "a b", "a:b", "1a", "-a", "a>", "a'" };

	for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
		struct xml_element *e = xml_element_new(SERVER, "body");
		struct xml_element *inner = xml_element_add_child(e, SERVER, "x");
		xml_element_add_text(inner, bad_text[i], strlen(bad_text[i]));
		assert_refused(e);
		xml_element_free(e);
		e = xml_element_new(SERVER, "body");
		xml_element_set_attribute(e, NULL, "a", bad_text[i]);
		assert_refused(e);
		xml_element_free(e);
	}
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct xml_element *e = xml_element_new(SERVER, bad_names[i]);
		assert_refused(e);
		xml_element_free(e);
		e = xml_element_new(SERVER, "body");
		xml_element_set_attribute(e, "urn:a", bad_names[i], "v");
		assert_refused(e);
		xml_element_free(e);
	}
	/* declarations are the writer's own */
	struct xml_element *e = xml_element_new(SERVER, "body");
	xml_element_set_attribute(e, NULL, "xmlns", "urn:other");
	assert_refused(e);
	xml_element_free(e);
	e = xml_element_new(SERVER, "body");
	xml_element_set_attribute(e, XMLNS_NAMESPACE, "db", "jabber:server:dialback");
	assert_refused(e);
	xml_element_free(e);
	e = xml_element_new(XML_NAMESPACE, "body");
	assert_refused(e);
	xml_element_free(e);
	/* non-ASCII names are names */
	e = xml_element_new(SERVER, "b\xc3\xa9te");
	assert_writes(e, "<b\xc3\xa9te/>");
	xml_element_free(e);
}
END_TEST

/* The stream */

static char *buffer_text(struct evbuffer *out)
{
	size_t len = evbuffer_get_length(out);
	char *text = calloc(1, len + 1);
	evbuffer_remove(out, text, len);
	return text;
}

START_TEST(test_stream_open_and_close)
{
	struct evbuffer *out = evbuffer_new();
	struct xml_element *header = xml_element_new(XMPP_STREAMS_NAMESPACE, "stream");
	xml_element_set_attribute(header, NULL, "to", "b.example");
	xml_element_set_attribute(header, NULL, "version", "1.0");
	xml_element_set_attribute(header, XML_NAMESPACE, "lang", "en");
	xml_element_set_attribute(header, XMLNS_NAMESPACE, "db", "jabber:server:dialback");
	xml_element_add_child(header, SERVER, "ignored");

	ck_assert_int_eq(xml_write_stream_open(out, header, SERVER), 0);
	ck_assert_int_eq(xml_write_stream_close(out), 0);
	char *text = buffer_text(out);
	ck_assert_str_eq(text, "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
			       "xmlns:stream='http://etherx.jabber.org/streams' to='b.example' "
			       "version='1.0' xml:lang='en' xmlns:db='jabber:server:dialback'>"
			       "</stream:stream>");
	free(text);

	/* prefixes the writer uses itself cannot be declared */
	static const char *const taken[] = { "stream", "xml", "xmlns", "ns1", "ns22" };
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		struct xml_element *bad = xml_element_new(XMPP_STREAMS_NAMESPACE, "stream");
		xml_element_set_attribute(bad, XMLNS_NAMESPACE, taken[i], "urn:x");
		ck_assert_int_eq(xml_write_stream_open(out, bad, SERVER), -1);
		ck_assert_uint_eq(evbuffer_get_length(out), 0);
		xml_element_free(bad);
	}
	struct xml_element *fine = xml_element_new(XMPP_STREAMS_NAMESPACE, "stream");
	xml_element_set_attribute(fine, XMLNS_NAMESPACE, "nsx", "urn:x");
	ck_assert_int_eq(xml_write_stream_open(out, fine, NULL), 0);
	text = buffer_text(out);
	ck_assert_str_eq(text,
			 "<?xml version='1.0'?><stream:stream "
			 "xmlns:stream='http://etherx.jabber.org/streams' xmlns:nsx='urn:x'>");
	free(text);
	xml_element_free(fine);
	xml_element_free(header);
	evbuffer_free(out);
}
END_TEST

/* Round trip */

START_TEST(test_round_trip)
{
	static const char *const stanzas[] = {
		"<message from='a@a.example/r' to='b@b.example' type='chat' id='m1' "
		"xml:lang='en'><body>hello &amp; &lt;bye&gt; &#x263A;</body>"
		"<active xmlns='http://jabber.org/protocol/chatstates'/></message>",
		"<db:result xmlns:db='jabber:server:dialback' from='a.example' to='b.example'>"
		"37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643</db:result>",
		"<iq type='get' id='1'><query xmlns='jabber:iq:version' xmlns:p='urn:p' p:x='1' "
		"q='\t&#10;&#13;'><x:y xmlns:x='urn:x' xmlns='urn:z'><z/>text<![CDATA[<raw>]]>"
		"</x:y></query></iq>",
		"<presence xmlns='' a='&quot;&apos;'><b xmlns='urn:b'>\n\r\n</b></presence>",
		"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
		"</starttls></stream:features>",
	};
	for (size_t i = 0; i < sizeof(stanzas) / sizeof(stanzas[0]); i++) {
		struct xml_element *parsed = test_xml_parse(stanzas[i]);
		ck_assert_msg(parsed != NULL, "%s", stanzas[i]);
		char *first = test_xml_write(parsed, SERVER);
		ck_assert_ptr_nonnull(first);
		struct xml_element *again = test_xml_parse(first);
		ck_assert_msg(again != NULL, "%s", first);
		char *second = test_xml_write(again, SERVER);
		ck_assert_str_eq(first, second);
		free(first);
		free(second);
		xml_element_free(parsed);
		xml_element_free(again);
	}
}
END_TEST

START_TEST(test_parsed_prefix_resolves)
{
	struct xml_element *result = test_xml_parse(
		"<db:result xmlns:db='jabber:server:dialback' to='b.example'>key</db:result>");
	ck_assert_ptr_nonnull(result);
	ck_assert(xml_element_is(result, "jabber:server:dialback", "result"));
	assert_writes(result, "<result xmlns='jabber:server:dialback' to='b.example'>key</result>");
	xml_element_free(result);
}
END_TEST

static Suite *xml_write_suite(void)
{
	Suite *suite = suite_create("xml_write");
	TCase *tcase = tcase_create("xml_write");
	tcase_add_test(tcase, test_default_namespace_unwritten);
	tcase_add_test(tcase, test_namespace_changes_and_back);
	tcase_add_test(tcase, test_stream_namespace_prefixed);
	tcase_add_test(tcase, test_attribute_namespaces);
	tcase_add_test(tcase, test_escaping);
	tcase_add_test(tcase, test_refuses_what_would_read_back_otherwise);
	tcase_add_test(tcase, test_stream_open_and_close);
	tcase_add_test(tcase, test_round_trip);
	tcase_add_test(tcase, test_parsed_prefix_resolves);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(xml_write_suite());
}
