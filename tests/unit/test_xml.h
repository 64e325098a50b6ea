/* SPDX-License-Identifier: ISC */
/* test_xml: what the XMPP stream-layer suites share: writing a tree to a
 * string, and parsing a whole stream (in pieces of any size) into what it
 * gave: the header, every element re-serialised, the error. */
#ifndef SXEDGE_TESTS_TEST_XML_H
#define SXEDGE_TESTS_TEST_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "stream_parser.h"
#include "xml_tree.h"

#define TEST_XML_SERVER "jabber:server"
#define TEST_XML_STREAM_OPEN                                         \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:server' " \
	"xmlns:stream='http://etherx.jabber.org/streams' to='b.example' version='1.0'>"

/* xml_write_element(ELEMENT, DEFAULT_NS) as a malloc'd string; NULL: refused. */
char *test_xml_write(const struct xml_element *element, const char *default_ns);

struct test_stream {
	enum xmpp_stream_error error;
	char *header; /* xml_write_stream_open of what stream_open gave, or NULL */
	char *default_ns; /* as stream_open gave it */
	char *elements; /* each element written (in the header's default ns), one a line */
	unsigned element_count;
	bool closed;
	size_t max_memory; /* the most xmpp_parser_memory said after a feed */
};

/* Feeds LEN bytes of DATA in pieces of PIECE bytes (0: whole) to a new
 * parser with LIMITS (NULL: defaults), stopping at the first error. */
void test_stream_parse(const char *data, size_t len, size_t piece, const struct xmpp_limits *limits,
		       struct test_stream *stream);
void test_stream_clear(struct test_stream *stream);

/* The one element that ELEMENT_XML is, parsed inside TEST_XML_STREAM_OPEN;
 * NULL when the parser refused it. */
struct xml_element *test_xml_parse(const char *element_xml);

#endif
