/* SPDX-License-Identifier: ISC */
/* Fuzz target: the XMPP stream layer (stream_parser, xml_tree, xml_write)
 * on arbitrary bytes, as a connection feeds them.
 *
 * Input: 6 bytes of settings (how big each read is; max_stanza, depth,
 * attributes, namespaces and name length, small so that every limit is
 * reached in a few hundred bytes), then the stream.  Besides what the
 * sanitizers check, it must hold that:
 * - the stream read in pieces gives the same header and elements as read
 *   whole, and is refused or not as it is read whole (no boundary changes
 *   what a peer's bytes mean; which error says so may: expat reports text
 *   as far as a read goes, so text at stream level can be bad-format in
 *   pieces before a later ]]> makes the whole not-well-formed);
 * - every element handed over writes, and what is written parses back,
 *   inside a stream with the same default namespace, into a tree that
 *   writes the same bytes again (two parsers never disagree about what the
 *   edge wrote), as its copy does;
 * - the parser's memory stays within its bound after every read.
 * An element named proceed restarts the stream from inside its event,
 * as STARTTLS does; one named stop returns false, and the read goes on
 * from where the parser stopped after a restart from outside, so a wrong
 * count of what was used shows as a difference between pieces and whole. */
#include <event2/buffer.h>
#include <stdbool.h>

#include "fuzz.h"

#include "stream_parser.h"
#include "xml_write.h"

#define SETTINGS_SIZE 6

/* What a parse gave, all of it written out. */
struct outcome {
	struct evbuffer *written;
	struct xmpp_parser *parser;
	char *default_ns;
	enum xmpp_stream_error error;
};

static char *buffer_string(struct evbuffer *buffer)
{
	size_t len = evbuffer_get_length(buffer);
	char *text = malloc(len + 1);
	FUZZ_REQUIRE(text != NULL);
	evbuffer_copyout(buffer, text, len);
	text[len] = '\0';
	return text;
}

static bool keep_one(void *arg, struct xml_element *element)
{
	struct xml_element **kept = arg;
	FUZZ_REQUIRE(*kept == NULL);
	*kept = element;
	return true;
}

/* BYTES (one element) read inside a stream declaring DEFAULT_NS. */
static struct xml_element *parse_back(const char *bytes, const char *default_ns)
{
	static const struct xmpp_parser_events events = { NULL, keep_one, NULL };
	struct xmpp_limits limits;
	struct xml_element *element = NULL;
	struct evbuffer *header_bytes = evbuffer_new();
	struct xml_element *header = xml_element_new(XMPP_STREAMS_NAMESPACE, "stream");
	size_t used;

	FUZZ_REQUIRE(header != NULL && header_bytes != NULL);
	FUZZ_REQUIRE(xml_write_stream_open(header_bytes, header, default_ns) == 0);
	char *opening = buffer_string(header_bytes);
	xmpp_limits_default(&limits);
	limits.max_stanza = 16 * 1024 * 1024;
	limits.max_depth = limits.max_attributes = limits.max_namespaces = 1u << 20;
	limits.max_name = 1u << 20;
	struct xmpp_parser *parser = xmpp_parser_new(&limits, &events, &element);
	FUZZ_REQUIRE(parser != NULL);
	FUZZ_REQUIRE(xmpp_parser_feed(parser, opening, strlen(opening), &used) == XMPP_STREAM_OK);
	FUZZ_REQUIRE(xmpp_parser_feed(parser, bytes, strlen(bytes), &used) == XMPP_STREAM_OK);
	FUZZ_REQUIRE(element != NULL);
	xmpp_parser_free(parser);
	xml_element_free(header);
	evbuffer_free(header_bytes);
	free(opening);
	return element;
}

static char *write_string(const struct xml_element *element, const char *default_ns)
{
	struct evbuffer *buffer = evbuffer_new();
	FUZZ_REQUIRE(buffer != NULL);
	FUZZ_REQUIRE(xml_write_element(buffer, element, default_ns) == 0);
	char *text = buffer_string(buffer);
	evbuffer_free(buffer);
	return text;
}

static bool on_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	struct outcome *outcome = arg;
	FUZZ_REQUIRE(xml_write_stream_open(outcome->written, header, default_ns) == 0);
	free(outcome->default_ns);
	outcome->default_ns = default_ns != NULL ? strdup(default_ns) : NULL;
	return true;
}

static bool on_element(void *arg, struct xml_element *element)
{
	struct outcome *outcome = arg;
	char *first = write_string(element, outcome->default_ns);
	struct xml_element *again = parse_back(first, outcome->default_ns);
	char *second = write_string(again, outcome->default_ns);
	FUZZ_REQUIRE(strcmp(first, second) == 0);
	struct xml_element *copy = xml_element_copy(element);
	FUZZ_REQUIRE(copy != NULL);
	char *copied = write_string(copy, outcome->default_ns);
	FUZZ_REQUIRE(strcmp(first, copied) == 0);
	evbuffer_add(outcome->written, first, strlen(first));
	evbuffer_add(outcome->written, "\n", 1);
	bool proceed = strcmp(xml_element_name(element), "proceed") == 0;
	bool stop = strcmp(xml_element_name(element), "stop") == 0;
	free(first);
	free(second);
	free(copied);
	xml_element_free(again);
	xml_element_free(copy);
	xml_element_free(element);
	if (proceed)
		FUZZ_REQUIRE(xmpp_parser_restart(outcome->parser) == 0);
	return !stop;
}

static void on_close(void *arg)
{
	struct outcome *outcome = arg;
	evbuffer_add(outcome->written, "</stream:stream>\n", 17);
}

/* Parses LEN bytes at DATA in reads of PIECE bytes into OUTCOME. */
static void parse(const char *data, size_t len, size_t piece, const struct xmpp_limits *limits,
		  struct outcome *outcome)
{
	static const struct xmpp_parser_events events = { on_open, on_element, on_close };
	size_t bound = xmpp_parser_expat_limit(limits) + 3 * limits->max_stanza + 64 * 1024;

	*outcome = (struct outcome){ .written = evbuffer_new() };
	outcome->parser = xmpp_parser_new(limits, &events, outcome);
	FUZZ_REQUIRE(outcome->written != NULL && outcome->parser != NULL);
	for (size_t at = 0; at < len && outcome->error == XMPP_STREAM_OK;) {
		size_t size = len - at < piece ? len - at : piece, used;
		char *copy = fuzz_copy(data + at, size);
		outcome->error = xmpp_parser_feed(outcome->parser, copy, size, &used);
		free(copy);
		FUZZ_REQUIRE(used <= size);
		FUZZ_REQUIRE(xmpp_parser_memory(outcome->parser) <= bound);
		if (outcome->error == XMPP_STREAM_OK && used < size) {
			/* stopped: the rest is a new stream's */
			evbuffer_add(outcome->written, "(restart)\n", 10);
			FUZZ_REQUIRE(xmpp_parser_restart(outcome->parser) == 0);
		}
		at += used;
	}
	FUZZ_REQUIRE(xmpp_stream_error_name(outcome->error) != NULL);
	xmpp_parser_free(outcome->parser);
	free(outcome->default_ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < SETTINGS_SIZE)
		return 0;
	size_t piece = 1 + data[0] % 64;
	struct xmpp_limits limits = {
		.max_stanza = 128 + (size_t)data[1] * 16,
		.max_depth = 1 + data[2] % 16,
		.max_attributes = data[3] % 16,
		.max_namespaces = data[4] % 8,
		.max_name = 1 + data[5] % 64,
	};
	const char *stream = (const char *)data + SETTINGS_SIZE;
	size_t len = size - SETTINGS_SIZE;
	struct outcome whole, pieces;

	parse(stream, len, len > 0 ? len : 1, &limits, &whole);
	parse(stream, len, piece, &limits, &pieces);
	/* expat's buffer grows with the size of its reads, so only memory may
	 * give up at a different point */
	if (whole.error != XMPP_STREAM_RESOURCE_CONSTRAINT &&
	    pieces.error != XMPP_STREAM_RESOURCE_CONSTRAINT) {
		FUZZ_REQUIRE((whole.error == XMPP_STREAM_OK) == (pieces.error == XMPP_STREAM_OK));
		char *a = buffer_string(whole.written), *b = buffer_string(pieces.written);
		FUZZ_REQUIRE(strcmp(a, b) == 0);
		free(a);
		free(b);
	}
	evbuffer_free(whole.written);
	evbuffer_free(pieces.written);
	return 0;
}
