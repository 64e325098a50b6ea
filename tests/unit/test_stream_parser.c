/* SPDX-License-Identifier: ISC */
/* Unit tests for stream_parser: a stream gives the same header and
 * elements however its bytes are split; prefixed names resolve to their
 * namespace; every limit at its edge and one past it; every refusal with
 * its exact stream error, memory staying bounded while hostile input comes
 * in; callbacks that stop, and restarts from outside and inside them. */
#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream_parser.h"
#include "test_suite.h"
#include "test_xml.h"
#include "xml_write.h"

#define DIALBACK "jabber:server:dialback"

/* A Prosody-like s2s stream: header, dialback, stanzas, keep-alives, close. */
static const char stream_text[] =
	"<?xml version='1.0'?>\n"
	"<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'"
	" xmlns:db='jabber:server:dialback' xml:lang='en' version='1.0' to='b.example'"
	" from='a.example' id='x1'>"
	"<db:result from='a.example' to='b.example'>c2VjcmV0</db:result> \n"
	"<message from='alice@a.example/r' to='bob@b.example' type='chat' id='1'>"
	"<body>Hello &amp; &#x263A; &lt;there&gt;</body>"
	"<active xmlns='http://jabber.org/protocol/chatstates'/></message>"
	"\n\n \t"
	"<presence from='alice@a.example' to='bob@b.example' type='subscribe'/>"
	" "
	"<iq type='get' id='v'><query xmlns='jabber:iq:version'><![CDATA[a<b]]></query></iq>"
	"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"
	"  </stream:stream>\n";

static const char expected_elements[] =
	"<result xmlns='jabber:server:dialback' from='a.example' to='b.example'>c2VjcmV0</result>\n"
	"<message from='alice@a.example/r' to='bob@b.example' type='chat' id='1'>"
	"<body>Hello &amp; \xe2\x98\xba &lt;there&gt;</body>"
	"<active xmlns='http://jabber.org/protocol/chatstates'/></message>\n"
	"<presence from='alice@a.example' to='bob@b.example' type='subscribe'/>\n"
	"<iq type='get' id='v'><query xmlns='jabber:iq:version'>a&lt;b</query></iq>\n"
	"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>\n";

static const char expected_header[] =
	"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
	"xmlns:stream='http://etherx.jabber.org/streams' xml:lang='en' version='1.0' "
	"to='b.example' from='a.example' id='x1'>";

static void assert_whole_stream(const struct test_stream *stream)
{
	ck_assert_int_eq(stream->error, XMPP_STREAM_OK);
	ck_assert_str_eq(stream->header, expected_header);
	ck_assert_str_eq(stream->default_ns, "jabber:server");
	ck_assert_str_eq(stream->elements, expected_elements);
	ck_assert_uint_eq(stream->element_count, 5);
	ck_assert(stream->closed);
}

/* Splits */

START_TEST(test_whole_stream)
{
	struct test_stream stream;
	test_stream_parse(stream_text, strlen(stream_text), 0, NULL, &stream);
	assert_whole_stream(&stream);
	test_stream_clear(&stream);
}
END_TEST

START_TEST(test_byte_by_byte)
{
	struct test_stream stream;
	test_stream_parse(stream_text, strlen(stream_text), 1, NULL, &stream);
	assert_whole_stream(&stream);
	test_stream_clear(&stream);
}
END_TEST

static bool collect(void *arg, struct xml_element *element);
static bool note_open(void *arg, const struct xml_element *header, const char *default_ns);
static void note_close(void *arg);

/* Each split point: the bytes before it in one feed, the rest in another. */
START_TEST(test_every_split)
{
	size_t len = strlen(stream_text);
	for (size_t cut = 1; cut < len; cut++) {
		struct test_stream stream = { 0 };
		struct xmpp_limits limits;
		static const struct xmpp_parser_events events = { note_open, collect, note_close };
		size_t used;
		xmpp_limits_default(&limits);
		struct xmpp_parser *parser = xmpp_parser_new(&limits, &events, &stream);
		ck_assert_int_eq(xmpp_parser_feed(parser, stream_text, cut, &used), XMPP_STREAM_OK);
		ck_assert_uint_eq(used, cut);
		ck_assert_int_eq(xmpp_parser_feed(parser, stream_text + cut, len - cut, &used),
				 XMPP_STREAM_OK);
		ck_assert_uint_eq(used, len - cut);
		xmpp_parser_free(parser);
		assert_whole_stream(&stream);
		test_stream_clear(&stream);
	}
}
END_TEST

/* The events test_xml's parse gives, for a parser made here. */
static bool collect(void *arg, struct xml_element *element)
{
	struct test_stream *stream = arg;
	char *text = test_xml_write(element, stream->default_ns);
	size_t old = stream->elements != NULL ? strlen(stream->elements) : 0;
	stream->elements = realloc(stream->elements, old + strlen(text) + 2);
	strcpy(stream->elements + old, text);
	strcat(stream->elements, "\n");
	stream->element_count++;
	free(text);
	xml_element_free(element);
	return true;
}

static bool note_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	struct test_stream *stream = arg;
	struct evbuffer *out = evbuffer_new();
	ck_assert_int_eq(xml_write_stream_open(out, header, default_ns), 0);
	size_t len = evbuffer_get_length(out);
	free(stream->header);
	stream->header = calloc(1, len + 1);
	evbuffer_remove(out, stream->header, len);
	evbuffer_free(out);
	free(stream->default_ns);
	stream->default_ns = default_ns != NULL ? strdup(default_ns) : NULL;
	return true;
}

static void note_close(void *arg)
{
	((struct test_stream *)arg)->closed = true;
}

/* Namespaces */

START_TEST(test_header_namespaces)
{
	struct test_stream stream;
	const char *text = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
			   "to='b.example'>";
	test_stream_parse(text, strlen(text), 0, NULL, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_OK);
	ck_assert_ptr_null(stream.default_ns);
	test_stream_clear(&stream);

	/* any prefix for the streams namespace */
	text = "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:client'>"
	       "<s:features/>";
	test_stream_parse(text, strlen(text), 0, NULL, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_OK);
	ck_assert_str_eq(stream.default_ns, "jabber:client");
	ck_assert_str_eq(stream.elements, "<stream:features/>\n");
	test_stream_clear(&stream);
}
END_TEST

START_TEST(test_prefixed_stanza_elements)
{
	struct xml_element *result = test_xml_parse(
		"<db:verify xmlns:db='jabber:server:dialback' from='a.example' id='x'>"
		"<db:inner/><other xmlns='urn:o' db:attr='1'/></db:verify>");
	ck_assert_ptr_nonnull(result);
	ck_assert(xml_element_is(result, DIALBACK, "verify"));
	ck_assert_str_eq(xml_element_attribute(result, NULL, "from"), "a.example");
	struct xml_element *inner = xml_element_first_child(result);
	ck_assert(xml_element_is(inner, DIALBACK, "inner"));
	struct xml_element *other = xml_element_next_sibling(inner);
	ck_assert(xml_element_is(other, "urn:o", "other"));
	ck_assert_str_eq(xml_element_attribute(other, DIALBACK, "attr"), "1");
	xml_element_free(result);

	/* the prefix the header declared holds in every stanza */
	struct test_stream stream;
	test_stream_parse(stream_text, strlen(stream_text), 0, NULL, &stream);
	ck_assert(strncmp(stream.elements, "<result xmlns='jabber:server:dialback'", 38) == 0);
	test_stream_clear(&stream);
}
END_TEST

/* Errors */

static enum xmpp_stream_error parse_error_with(const char *after_header,
					       const struct xmpp_limits *limits)
{
	struct test_stream stream;
	size_t len = strlen(TEST_XML_STREAM_OPEN) + strlen(after_header);
	char *text = malloc(len + 1);
	strcpy(text, TEST_XML_STREAM_OPEN);
	strcat(text, after_header);
	test_stream_parse(text, len, 0, limits, &stream);
	enum xmpp_stream_error error = stream.error;
	/* the same byte by byte */
	test_stream_clear(&stream);
	test_stream_parse(text, len, 1, limits, &stream);
	ck_assert_int_eq(stream.error, error);
	test_stream_clear(&stream);
	free(text);
	return error;
}

static enum xmpp_stream_error parse_error(const char *after_header)
{
	return parse_error_with(after_header, NULL);
}

static enum xmpp_stream_error whole_error(const char *text)
{
	struct test_stream stream;
	test_stream_parse(text, strlen(text), 0, NULL, &stream);
	enum xmpp_stream_error error = stream.error;
	test_stream_clear(&stream);
	return error;
}

START_TEST(test_header_refused)
{
	ck_assert_int_eq(whole_error("<stream:stream xmlns:stream='urn:wrong'>"),
			 XMPP_STREAM_INVALID_NAMESPACE);
	ck_assert_int_eq(whole_error("<stream xmlns='jabber:server'>"),
			 XMPP_STREAM_INVALID_NAMESPACE);
	ck_assert_int_eq(whole_error("<stream:other xmlns:stream='http://etherx.jabber.org/"
				     "streams'>"),
			 XMPP_STREAM_BAD_FORMAT);
	ck_assert_int_eq(whole_error("<stream:stream>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(whole_error("hello "), XMPP_STREAM_NOT_WELL_FORMED);
}
END_TEST

START_TEST(test_restricted_xml)
{
	ck_assert_int_eq(whole_error("<?xml version='1.0'?><!DOCTYPE stream>"),
			 XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(whole_error("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>"),
			 XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(whole_error("<!-- hi --><stream:stream/>"), XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(whole_error("<?php x?>"), XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(parse_error("<message><!-- c --></message>"), XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(parse_error("<!-- c -->"), XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(parse_error("<message><?pi data?></message>"), XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(parse_error("<?pi data?>"), XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(parse_error("<message><body>&lol;</body></message>"),
			 XMPP_STREAM_RESTRICTED_XML);
	ck_assert_int_eq(parse_error("<message a='&lol;'/>"), XMPP_STREAM_RESTRICTED_XML);
	/* the five predefined and character references are fine */
	ck_assert_int_eq(parse_error("<message a='&quot;&#65;'>&amp;&lt;&gt;&apos;&#x41;"
				     "</message>"),
			 XMPP_STREAM_OK);
}
END_TEST

START_TEST(test_billion_laughs)
{
	static const char laughs[] =
		"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
		"<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
		"<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
		"<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>"
		"<!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>"
		"<!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>"
		"<!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>"
		"<!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>"
		"<!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>]>"
		"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
		"<message><body>&lol9;</body></message>";
	struct test_stream stream;
	test_stream_parse(laughs, strlen(laughs), 0, NULL, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_RESTRICTED_XML);
	ck_assert_ptr_null(stream.header);
	ck_assert_uint_lt(stream.max_memory, 64 * 1024);
	test_stream_clear(&stream);
	/* refused at the DOCTYPE, before a single entity is declared */
	test_stream_parse(laughs, strlen(laughs), 1, NULL, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_RESTRICTED_XML);
	ck_assert_uint_lt(stream.max_memory, 64 * 1024);
	test_stream_clear(&stream);
}
END_TEST

START_TEST(test_not_well_formed)
{
	ck_assert_int_eq(parse_error("<message><body>\xff</body></message>"),
			 XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<message a='\xc0\xaf'/>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<message>\xed\xa0\x80</message>"),
			 XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<m\xe2\x82/>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<message>&#0;</message>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<message>\x01</message>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<message></iq>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<message a='1' a='2'/>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("<x:message/>"), XMPP_STREAM_NOT_WELL_FORMED);
	ck_assert_int_eq(parse_error("</stream:stream><message/>"), XMPP_STREAM_NOT_WELL_FORMED);
	/* UTF-16, which expat would guess from the first bytes, is refused */
	static const char utf16[] = "\xff\xfe<\0s\0:\0s\0t\0r\0e\0a\0m\0/\0>\0";
	struct test_stream stream;
	test_stream_parse(utf16, sizeof(utf16) - 1, 0, NULL, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_NOT_WELL_FORMED);
	test_stream_clear(&stream);
	test_stream_parse("s\0me", 4, 0, NULL, &stream); /* found by fuzz_xmpp_stream */
	ck_assert_int_eq(stream.error, XMPP_STREAM_NOT_WELL_FORMED);
	test_stream_clear(&stream);
	test_stream_parse(TEST_XML_STREAM_OPEN "<a>\0</a>", strlen(TEST_XML_STREAM_OPEN) + 8, 0,
			  NULL, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_NOT_WELL_FORMED);
	test_stream_clear(&stream);
	/* a declared encoding other than UTF-8 changes nothing (RFC 6120 §11.6) */
	ck_assert_int_eq(whole_error("<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream"
				     " xmlns:stream='http://etherx.jabber.org/streams'>\xe9<a/>"),
			 XMPP_STREAM_NOT_WELL_FORMED);
}
END_TEST

START_TEST(test_text_between_stanzas)
{
	ck_assert_int_eq(parse_error(" \t\r\n<message/>\n"), XMPP_STREAM_OK);
	ck_assert_int_eq(parse_error("hello<message/>"), XMPP_STREAM_BAD_FORMAT);
	ck_assert_int_eq(parse_error("<message/> x"), XMPP_STREAM_BAD_FORMAT);
	ck_assert_int_eq(parse_error("&amp;"), XMPP_STREAM_BAD_FORMAT);
	ck_assert_int_eq(parse_error("\xc2\xa0"), XMPP_STREAM_BAD_FORMAT);
}
END_TEST

/* Limits */

static struct xmpp_limits small_limits(void)
{
	struct xmpp_limits limits;
	xmpp_limits_default(&limits);
	return limits;
}

/* A stanza of exactly SIZE bytes. */
static char *stanza_of(size_t size)
{
	char *text = malloc(size + 1);
	size_t head = strlen("<message>"), tail = strlen("</message>");
	ck_assert_uint_ge(size, head + tail);
	memcpy(text, "<message>", head);
	memset(text + head, 'a', size - head - tail);
	memcpy(text + size - tail, "</message>", tail + 1);
	return text;
}

START_TEST(test_max_stanza)
{
	struct xmpp_limits limits = small_limits();
	limits.max_stanza = 200; /* the header must fit too */
	char *exact = stanza_of(200), *over = stanza_of(201);
	ck_assert_int_eq(parse_error_with(exact, &limits), XMPP_STREAM_OK);
	ck_assert_int_eq(parse_error_with(over, &limits), XMPP_STREAM_POLICY_VIOLATION);
	/* keep-alives between stanzas are no stanza's */
	char *three = malloc(700);
	snprintf(three, 700, "%s\n\n\n   %s \n%s", exact, exact, exact);
	ck_assert_int_eq(parse_error_with(three, &limits), XMPP_STREAM_OK);
	/* an unfinished element counts too */
	char *unfinished = stanza_of(400);
	unfinished[200] = '\0';
	ck_assert_int_eq(parse_error_with(unfinished, &limits), XMPP_STREAM_OK);
	unfinished[200] = 'a';
	unfinished[201] = '\0';
	ck_assert_int_eq(parse_error_with(unfinished, &limits), XMPP_STREAM_POLICY_VIOLATION);
	/* in an attribute value, which expat holds, too */
	memcpy(unfinished, "<message a='", 12);
	ck_assert_int_eq(parse_error_with(unfinished, &limits), XMPP_STREAM_POLICY_VIOLATION);
	unfinished[200] = '\0';
	ck_assert_int_eq(parse_error_with(unfinished, &limits), XMPP_STREAM_OK);
	free(unfinished);
	free(exact);
	free(over);
	free(three);
}
END_TEST

/* 10 MiB in 16 KiB reads: refused once 256 KiB are in, never holding much more. */
START_TEST(test_ten_megabyte_stanza)
{
	static const struct xmpp_parser_events events = { NULL, NULL, NULL };
	struct xmpp_limits limits = small_limits();
	size_t total = 10 * 1024 * 1024, fed = 0, used, most = 0;
	char *stanza = stanza_of(total);
	struct xmpp_parser *parser = xmpp_parser_new(&limits, &events, NULL);
	enum xmpp_stream_error error =
		xmpp_parser_feed(parser, TEST_XML_STREAM_OPEN, strlen(TEST_XML_STREAM_OPEN), &used);
	while (error == XMPP_STREAM_OK && fed < total) {
		error = xmpp_parser_feed(parser, stanza + fed, 16384, &used);
		fed += 16384;
		if (xmpp_parser_memory(parser) > most)
			most = xmpp_parser_memory(parser);
	}
	ck_assert_int_eq(error, XMPP_STREAM_POLICY_VIOLATION);
	ck_assert_uint_le(fed, limits.max_stanza + 16384);
	ck_assert_uint_lt(most, 4 * limits.max_stanza);
	xmpp_parser_free(parser);

	/* all of it in one feed: still only one max_stanza goes to expat */
	struct test_stream stream;
	char *whole = malloc(strlen(TEST_XML_STREAM_OPEN) + total + 1);
	strcpy(whole, TEST_XML_STREAM_OPEN);
	strcat(whole, stanza);
	test_stream_parse(whole, strlen(whole), 0, &limits, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_POLICY_VIOLATION);
	ck_assert_uint_lt(stream.max_memory, 4 * limits.max_stanza);
	test_stream_clear(&stream);
	/* with a small limit: what is held is about the limit, not a read */
	limits.max_stanza = 1000;
	test_stream_parse(whole, strlen(whole), 0, &limits, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_POLICY_VIOLATION);
	ck_assert_uint_lt(stream.max_memory, 16 * 1024);
	test_stream_clear(&stream);
	free(whole);
	free(stanza);
}
END_TEST

/* <message NAME0='' NAME1=''…/> with COUNT attributes. */
static char *with_attributes(size_t count)
{
	char *text = malloc(32 + count * 16);
	size_t len = (size_t)sprintf(text, "<message");
	for (size_t i = 0; i < count; i++)
		len += (size_t)sprintf(text + len, " a%zu=''", i);
	strcpy(text + len, "/>");
	return text;
}

START_TEST(test_max_attributes)
{
	struct xmpp_limits limits = small_limits();
	char *at_limit = with_attributes(64), *over = with_attributes(65);
	ck_assert_int_eq(parse_error_with(at_limit, &limits), XMPP_STREAM_OK);
	ck_assert_int_eq(parse_error_with(over, &limits), XMPP_STREAM_POLICY_VIOLATION);
	free(at_limit);
	free(over);

	/* 100,000: over max_stanza first, and over the count where the size would pass */
	char *many = with_attributes(100000);
	struct test_stream stream;
	size_t len = strlen(TEST_XML_STREAM_OPEN) + strlen(many);
	char *text = malloc(len + 1);
	strcpy(text, TEST_XML_STREAM_OPEN);
	strcat(text, many);
	test_stream_parse(text, len, 4096, &limits, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_POLICY_VIOLATION);
	ck_assert_uint_lt(stream.max_memory, 4 * limits.max_stanza);
	test_stream_clear(&stream);
	limits.max_stanza = 10 * 1024 * 1024;
	test_stream_parse(text, len, 0, &limits, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_POLICY_VIOLATION);
	test_stream_clear(&stream);
	free(text);
	free(many);
}
END_TEST

/* COUNT elements nested in each other. */
static char *nested(unsigned count)
{
	char *text = malloc(count * 7 + 1);
	size_t len = 0;
	for (unsigned i = 0; i < count; i++)
		len += (size_t)sprintf(text + len, "<a>");
	for (unsigned i = 0; i < count; i++)
		len += (size_t)sprintf(text + len, "</a>");
	return text;
}

START_TEST(test_max_depth)
{
	char *at_limit = nested(32), *over = nested(33);
	ck_assert_int_eq(parse_error(at_limit), XMPP_STREAM_OK);
	ck_assert_int_eq(parse_error(over), XMPP_STREAM_POLICY_VIOLATION);
	free(at_limit);
	free(over);
}
END_TEST

/* An element declaring COUNT namespaces. */
static char *with_namespaces(size_t count)
{
	char *text = malloc(32 + count * 24);
	size_t len = (size_t)sprintf(text, "<message");
	for (size_t i = 0; i < count; i++)
		len += (size_t)sprintf(text + len, " xmlns:p%zu='urn:%zu'", i, i);
	strcpy(text + len, "><x xmlns:q='urn:q'/></message>");
	return text;
}

START_TEST(test_max_namespaces)
{
	char *at_limit = with_namespaces(16), *over = with_namespaces(17);
	ck_assert_int_eq(parse_error(at_limit), XMPP_STREAM_OK);
	ck_assert_int_eq(parse_error(over), XMPP_STREAM_POLICY_VIOLATION);
	/* a default declaration counts as one */
	char *with_default = with_namespaces(15);
	char *default_too = malloc(strlen(over) + 16);
	sprintf(default_too, "<message xmlns='urn:d'%s", with_default + strlen("<message"));
	ck_assert_int_eq(parse_error(default_too), XMPP_STREAM_OK);
	sprintf(default_too, "<message xmlns='urn:d'%s", over + strlen("<message"));
	ck_assert_int_eq(parse_error(default_too), XMPP_STREAM_POLICY_VIOLATION);
	free(default_too);
	free(at_limit);
	free(over);
	free(with_default);
}
END_TEST

START_TEST(test_max_name)
{
	char name[300], text[800];
	memset(name, 'n', sizeof(name));
	name[256] = '\0';
	snprintf(text, sizeof(text), "<%s/>", name);
	ck_assert_int_eq(parse_error(text), XMPP_STREAM_OK);
	snprintf(text, sizeof(text), "<message %s='1'/>", name);
	ck_assert_int_eq(parse_error(text), XMPP_STREAM_OK);
	snprintf(text, sizeof(text), "<%s:m xmlns:%s='urn:x'/>", name, name);
	ck_assert_int_eq(parse_error(text), XMPP_STREAM_OK);
	name[256] = 'n';
	name[257] = '\0';
	snprintf(text, sizeof(text), "<%s/>", name);
	ck_assert_int_eq(parse_error(text), XMPP_STREAM_POLICY_VIOLATION);
	snprintf(text, sizeof(text), "<message><x %s='1'/></message>", name);
	ck_assert_int_eq(parse_error(text), XMPP_STREAM_POLICY_VIOLATION);
	snprintf(text, sizeof(text), "<m xmlns:%s='urn:x'/>", name);
	ck_assert_int_eq(parse_error(text), XMPP_STREAM_POLICY_VIOLATION);
	snprintf(text, sizeof(text), "<stream:%s xmlns:stream='http://etherx.jabber.org/streams'>",
		 name);
	ck_assert_int_eq(whole_error(text), XMPP_STREAM_POLICY_VIOLATION);
}
END_TEST

START_TEST(test_unauthenticated_stream_is_small)
{
	static const struct xmpp_parser_events events = { NULL, NULL, NULL };
	struct xmpp_limits limits = small_limits();
	size_t used;
	struct xmpp_parser *parser = xmpp_parser_new(&limits, &events, NULL);
	size_t fresh = xmpp_parser_memory(parser);
	ck_assert_int_eq(
		xmpp_parser_feed(parser, TEST_XML_STREAM_OPEN, strlen(TEST_XML_STREAM_OPEN), &used),
		XMPP_STREAM_OK);
	size_t opened = xmpp_parser_memory(parser);
	ck_assert_uint_gt(fresh, 1000); /* expat's own is counted */
	ck_assert_uint_lt(opened, 16 * 1024);
	/* half a stanza: what it holds is counted */
	char *stanza = stanza_of(20000);
	ck_assert_int_eq(xmpp_parser_feed(parser, stanza, 10000, &used), XMPP_STREAM_OK);
	ck_assert_uint_gt(xmpp_parser_memory(parser), opened + 5000);
	ck_assert_int_eq(xmpp_parser_feed(parser, stanza + 10000, 10000, &used), XMPP_STREAM_OK);
	free(stanza);
	xmpp_parser_free(parser);
}
END_TEST

/* A big read of keep-alives and a bit of a stanza leaves expat holding a
 * buffer of what it did not parse, not of twice the read. */
START_TEST(test_big_read_leaves_little)
{
	struct xmpp_limits limits = small_limits();
	size_t spaces = 200 * 1024, len = strlen(TEST_XML_STREAM_OPEN) + spaces + 5;
	char *text = malloc(len + 1);
	struct test_stream stream;
	strcpy(text, TEST_XML_STREAM_OPEN);
	memset(text + strlen(TEST_XML_STREAM_OPEN), ' ', spaces);
	strcpy(text + len - 5, "<mess");
	test_stream_parse(text, len, 0, &limits, &stream);
	ck_assert_int_eq(stream.error, XMPP_STREAM_OK);
	ck_assert_uint_lt(stream.max_memory, 64 * 1024);
	test_stream_clear(&stream);
	free(text);
}
END_TEST

/* Names expat keeps for the whole stream are bounded too. */
START_TEST(test_names_kept_by_expat_bounded)
{
	static const struct xmpp_parser_events events = { NULL, NULL, NULL };
	struct xmpp_limits limits = small_limits();
	enum xmpp_stream_error error;
	size_t used;
	char stanza[400];
	limits.max_stanza = 4096;
	struct xmpp_parser *parser = xmpp_parser_new(&limits, &events, NULL);
	error = xmpp_parser_feed(parser, TEST_XML_STREAM_OPEN, strlen(TEST_XML_STREAM_OPEN), &used);
	unsigned i;
	for (i = 0; i < 100000 && error == XMPP_STREAM_OK; i++) {
		int len = snprintf(stanza, sizeof(stanza),
				   "<m xmlns:p%u='urn:%u' a%u='' p%u:b%u=''/>", i, i, i, i, i);
		error = xmpp_parser_feed(parser, stanza, (size_t)len, &used);
		ck_assert_uint_le(xmpp_parser_memory(parser),
				  xmpp_parser_expat_limit(&limits) + 2 * limits.max_stanza);
	}
	ck_assert_int_eq(error, XMPP_STREAM_RESOURCE_CONSTRAINT);
	xmpp_parser_free(parser);
}
END_TEST

/* Stops and restarts */

struct restarts {
	struct xmpp_parser *parser;
	unsigned opens, elements;
	bool restart_on_element; /* inside the element event */
	bool stop_on_element;
};

static bool restart_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	(void)header, (void)default_ns;
	((struct restarts *)arg)->opens++;
	return true;
}

static bool restart_element(void *arg, struct xml_element *element)
{
	struct restarts *state = arg;
	state->elements++;
	bool proceed = xml_element_is(element, "urn:ietf:params:xml:ns:xmpp-tls", "proceed");
	xml_element_free(element);
	if (proceed && state->restart_on_element)
		ck_assert_int_eq(xmpp_parser_restart(state->parser), 0);
	return !(proceed && state->stop_on_element);
}

static const struct xmpp_parser_events restart_events = { restart_open, restart_element, NULL };

static const char before_restart[] =
	TEST_XML_STREAM_OPEN "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
static const char after_restart[] = TEST_XML_STREAM_OPEN "<message/>";

static struct xmpp_parser *restart_parser(struct restarts *state)
{
	struct xmpp_limits limits = small_limits();
	*state = (struct restarts){ 0 };
	state->parser = xmpp_parser_new(&limits, &restart_events, state);
	return state->parser;
}

START_TEST(test_stop_then_restart_outside)
{
	struct restarts state;
	struct xmpp_parser *parser = restart_parser(&state);
	char both[sizeof(before_restart) + sizeof(after_restart)];
	size_t used;
	state.stop_on_element = true;
	snprintf(both, sizeof(both), "%s%s", before_restart, after_restart);

	ck_assert_int_eq(xmpp_parser_feed(parser, both, strlen(both), &used), XMPP_STREAM_OK);
	ck_assert_uint_eq(used, strlen(before_restart));
	ck_assert_uint_eq(state.elements, 1);
	/* stopped: nothing taken until the restart */
	ck_assert_int_eq(xmpp_parser_feed(parser, both + used, strlen(both) - used, &used),
			 XMPP_STREAM_OK);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(xmpp_parser_restart(parser), 0);
	ck_assert_int_eq(xmpp_parser_feed(parser, after_restart, strlen(after_restart), &used),
			 XMPP_STREAM_OK);
	ck_assert_uint_eq(used, strlen(after_restart));
	ck_assert_uint_eq(state.opens, 2);
	ck_assert_uint_eq(state.elements, 2);
	xmpp_parser_free(parser);

	/* what follows a stop is not this stream's to refuse */
	parser = restart_parser(&state);
	state.stop_on_element = true;
	snprintf(both, sizeof(both), "%s<!-- TLS bytes -->", before_restart);
	ck_assert_int_eq(xmpp_parser_feed(parser, both, strlen(both), &used), XMPP_STREAM_OK);
	ck_assert_uint_eq(used, strlen(before_restart));
	xmpp_parser_free(parser);
}
END_TEST

START_TEST(test_restart_inside_event)
{
	char both[sizeof(before_restart) + sizeof(after_restart)];
	snprintf(both, sizeof(both), "%s%s", before_restart, after_restart);
	for (int stop = 0; stop <= 1; stop++) {
		for (size_t piece = 1; piece <= strlen(both); piece++) {
			struct restarts state;
			struct xmpp_parser *parser = restart_parser(&state);
			state.restart_on_element = true;
			state.stop_on_element = stop;
			for (size_t at = 0; at < strlen(both);) {
				size_t len = strlen(both) - at < piece ? strlen(both) - at : piece;
				size_t used;
				ck_assert_int_eq(xmpp_parser_feed(parser, both + at, len, &used),
						 XMPP_STREAM_OK);
				/* the restart took effect at the end of <proceed/> */
				ck_assert(used == len || at + used == strlen(before_restart));
				at += used;
			}
			ck_assert_uint_eq(state.opens, 2);
			ck_assert_uint_eq(state.elements, 2);
			xmpp_parser_free(parser);
		}
	}
}
END_TEST

START_TEST(test_restart_after_error)
{
	struct restarts state;
	struct xmpp_parser *parser = restart_parser(&state);
	size_t used;
	ck_assert_int_eq(xmpp_parser_feed(parser, "<!-- -->", 8, &used),
			 XMPP_STREAM_RESTRICTED_XML);
	/* refused: the same again, nothing taken */
	ck_assert_int_eq(xmpp_parser_feed(parser, after_restart, strlen(after_restart), &used),
			 XMPP_STREAM_RESTRICTED_XML);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(xmpp_parser_restart(parser), 0);
	ck_assert_int_eq(xmpp_parser_feed(parser, after_restart, strlen(after_restart), &used),
			 XMPP_STREAM_OK);
	ck_assert_uint_eq(state.opens, 1);
	xmpp_parser_free(parser);
}
END_TEST

static Suite *stream_parser_suite(void)
{
	Suite *suite = suite_create("stream_parser");
	TCase *splits = tcase_create("splits");
	tcase_add_test(splits, test_whole_stream);
	tcase_add_test(splits, test_byte_by_byte);
	tcase_add_test(splits, test_every_split);
	suite_add_tcase(suite, splits);
	TCase *namespaces = tcase_create("namespaces");
	tcase_add_test(namespaces, test_header_namespaces);
	tcase_add_test(namespaces, test_prefixed_stanza_elements);
	suite_add_tcase(suite, namespaces);
	TCase *refusals = tcase_create("refusals");
	tcase_add_test(refusals, test_header_refused);
	tcase_add_test(refusals, test_restricted_xml);
	tcase_add_test(refusals, test_billion_laughs);
	tcase_add_test(refusals, test_not_well_formed);
	tcase_add_test(refusals, test_text_between_stanzas);
	suite_add_tcase(suite, refusals);
	TCase *limits = tcase_create("limits");
	tcase_set_timeout(limits, 30);
	tcase_add_test(limits, test_max_stanza);
	tcase_add_test(limits, test_ten_megabyte_stanza);
	tcase_add_test(limits, test_max_attributes);
	tcase_add_test(limits, test_max_depth);
	tcase_add_test(limits, test_max_namespaces);
	tcase_add_test(limits, test_max_name);
	tcase_add_test(limits, test_unauthenticated_stream_is_small);
	tcase_add_test(limits, test_big_read_leaves_little);
	tcase_add_test(limits, test_names_kept_by_expat_bounded);
	suite_add_tcase(suite, limits);
	TCase *restarts = tcase_create("restarts");
	tcase_add_test(restarts, test_stop_then_restart_outside);
	tcase_add_test(restarts, test_restart_inside_event);
	tcase_add_test(restarts, test_restart_after_error);
	suite_add_tcase(suite, restarts);
	return suite;
}

int main(void)
{
	return test_suite_run(stream_parser_suite());
}
