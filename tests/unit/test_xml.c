/* SPDX-License-Identifier: ISC */
/* test_xml: the shared helpers of the XMPP stream-layer suites. */
#include "test_xml.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "xml_write.h"

static char *buffer_string(struct evbuffer *buffer)
{
	size_t len = evbuffer_get_length(buffer);
	char *text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	evbuffer_remove(buffer, text, len);
	text[len] = '\0';
	return text;
}

char *test_xml_write(const struct xml_element *element, const char *default_ns)
{
	struct evbuffer *buffer = evbuffer_new();
	ck_assert_ptr_nonnull(buffer);
	char *text = NULL;
	if (xml_write_element(buffer, element, default_ns) == 0)
		text = buffer_string(buffer);
	else
		ck_assert_uint_eq(evbuffer_get_length(buffer), 0);
	evbuffer_free(buffer);
	return text;
}

static bool on_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	struct test_stream *stream = arg;
	struct evbuffer *buffer = evbuffer_new();
	ck_assert_ptr_null(stream->header);
	ck_assert_int_eq(xml_write_stream_open(buffer, header, default_ns), 0);
	stream->header = buffer_string(buffer);
	stream->default_ns = default_ns != NULL ? strdup(default_ns) : NULL;
	evbuffer_free(buffer);
	return true;
}

static bool on_element(void *arg, struct xml_element *element)
{
	struct test_stream *stream = arg;
	char *text = test_xml_write(element, stream->default_ns);
	ck_assert_ptr_nonnull(text);
	size_t old = stream->elements != NULL ? strlen(stream->elements) : 0;
	stream->elements = realloc(stream->elements, old + strlen(text) + 2);
	ck_assert_ptr_nonnull(stream->elements);
	memcpy(stream->elements + old, text, strlen(text));
	strcpy(stream->elements + old + strlen(text), "\n");
	stream->element_count++;
	free(text);
	xml_element_free(element);
	return true;
}

static void on_close(void *arg)
{
	struct test_stream *stream = arg;
	stream->closed = true;
}

void test_stream_parse(const char *data, size_t len, size_t piece, const struct xmpp_limits *limits,
		       struct test_stream *stream)
{
	static const struct xmpp_parser_events events = { on_open, on_element, on_close };
	struct xmpp_limits defaults;
	xmpp_limits_default(&defaults);
	*stream = (struct test_stream){ 0 };
	struct xmpp_parser *parser =
		xmpp_parser_new(limits != NULL ? limits : &defaults, &events, stream);
	ck_assert_ptr_nonnull(parser);
	if (piece == 0)
		piece = len > 0 ? len : 1;
	for (size_t at = 0; at < len && stream->error == XMPP_STREAM_OK; at += piece) {
		size_t size = len - at < piece ? len - at : piece;
		size_t used;
		stream->error = xmpp_parser_feed(parser, data + at, size, &used);
		ck_assert_uint_eq(used, size);
		size_t memory = xmpp_parser_memory(parser);
		if (memory > stream->max_memory)
			stream->max_memory = memory;
	}
	xmpp_parser_free(parser);
}

void test_stream_clear(struct test_stream *stream)
{
	free(stream->header);
	free(stream->default_ns);
	free(stream->elements);
	*stream = (struct test_stream){ 0 };
}

static bool keep_element(void *arg, struct xml_element *element)
{
	struct xml_element **kept = arg;
	ck_assert_ptr_null(*kept);
	*kept = element;
	return true;
}

struct xml_element *test_xml_parse(const char *element_xml)
{
	static const struct xmpp_parser_events events = { NULL, keep_element, NULL };
	struct xmpp_limits limits;
	struct xml_element *element = NULL;
	size_t used;
	xmpp_limits_default(&limits);
	struct xmpp_parser *parser = xmpp_parser_new(&limits, &events, &element);
	ck_assert_ptr_nonnull(parser);
	enum xmpp_stream_error error =
		xmpp_parser_feed(parser, TEST_XML_STREAM_OPEN, strlen(TEST_XML_STREAM_OPEN), &used);
	if (error == XMPP_STREAM_OK)
		error = xmpp_parser_feed(parser, element_xml, strlen(element_xml), &used);
	xmpp_parser_free(parser);
	if (error != XMPP_STREAM_OK) {
		xml_element_free(element);
		return NULL;
	}
	return element;
}
