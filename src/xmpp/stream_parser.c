/* SPDX-License-Identifier: ISC */
/* stream_parser: expat drives the handlers below, which build the tree of
 * the element at depth 1, check the limits and refuse what is restricted.
 * A refusal or a callback's false stops expat at once (XML_StopParser);
 * expat may still call a handler or two after that, so every handler
 * first checks whether the parser is still going.
 *
 * Offsets are expat's own (XML_GetCurrentByteIndex counts from the start
 * of the stream): MARK is where the bytes of the unit being parsed begin
 * (after the last element, header or keep-alive), so FED - MARK is what
 * the coming element already holds, and feed never gives expat more than
 * one byte past max_stanza of it. */
#include "stream_parser.h"

#include <expat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expat_memory.h"

/* Expat joins a namespace URI and a local name with this; a local name
 * never holds it (a URI may, so names are split at the last one). */
#define SEPARATOR '\n'

/* Expat gets input in slices of at most this: it copies what it has not
 * parsed of a slice into a buffer of twice the slice's size. */
#define SLICE	   (16 * 1024)
#define NAMES_ROOM (64 * 1024)

struct xmpp_parser {
	struct xmpp_limits limits;
	struct xmpp_parser_events events;
	void *arg;
	XML_Parser expat;
	size_t expat_memory; /* counted by expat_memory */
	enum xmpp_stream_error error; /* not OK: refused, takes nothing more */
	bool stopped; /* a callback returned false: nothing more until a restart */
	bool in_event; /* inside a callback of the caller's */
	bool restart_wanted; /* xmpp_parser_restart from inside an event */
	unsigned depth; /* open elements, the stream's included */
	unsigned namespaces; /* declarations on the element being opened */
	char *default_ns; /* declared on the element being opened */
	struct xml_element *stanza; /* being built, at depth 1 */
	struct xml_element *current; /* its innermost open element */
	uint64_t fed; /* bytes given to expat in this stream */
	uint64_t mark; /* where the unit being parsed begins */
	uint64_t stop_at; /* end of the event that stopped the parser */
};

void xmpp_limits_default(struct xmpp_limits *limits)
{
	*limits = (struct xmpp_limits){
		.max_stanza = 256 * 1024,
		.max_depth = 32,
		.max_attributes = 64,
		.max_namespaces = 16,
		.max_name = 256,
	};
}

size_t xmpp_parser_expat_limit(const struct xmpp_limits *limits)
{
	return 2 * (limits->max_stanza + SLICE) + NAMES_ROOM;
}

/* Stopping */

static bool going(const struct xmpp_parser *parser)
{
	return parser->error == XMPP_STREAM_OK && !parser->stopped && !parser->restart_wanted;
}

/* Only the first refusal counts, and none after a stop: what expat still
 * reports then is past where the caller takes over. */
static void refuse(struct xmpp_parser *parser, enum xmpp_stream_error error)
{
	if (!going(parser))
		return;
	parser->error = error;
	XML_StopParser(parser->expat, XML_FALSE);
}

/* Where the current event's bytes end (for the end of an empty element,
 * expat gives the end of its tag and a count of 0). */
static uint64_t event_end(const struct xmpp_parser *parser)
{
	return (uint64_t)XML_GetCurrentByteIndex(parser->expat) +
	       (uint64_t)XML_GetCurrentByteCount(parser->expat);
}

/* After a callback: KEEP_GOING false, or a restart asked for inside it,
 * stops expat at the end of this event. */
static void after_event(struct xmpp_parser *parser, bool keep_going)
{
	parser->in_event = false;
	if (keep_going && !parser->restart_wanted)
		return;
	parser->stopped = !keep_going;
	parser->stop_at = event_end(parser);
	XML_StopParser(parser->expat, XML_FALSE);
}

/* Names */

/* Splits expat's "URI\nlocal" (or "local") into a copy of the URI (*NS,
 * NULL for none) and the local name; NULL: out of memory. */
static const char *split_name(const char *expanded, char **ns)
{
	const char *separator = strrchr(expanded, SEPARATOR);
	*ns = NULL;
	if (separator == NULL)
		return expanded;
	*ns = strndup(expanded, (size_t)(separator - expanded));
	return *ns != NULL ? separator + 1 : NULL;
}

/* Sets the attributes expat gives (name, value pairs) on ELEMENT. */
static enum xmpp_stream_error add_attributes(const struct xmpp_parser *parser,
					     struct xml_element *element, const char **atts)
{
	unsigned count = 0;
	for (const char **pair = atts; pair[0] != NULL; pair += 2) {
		char *ns;
		if (++count > parser->limits.max_attributes)
			return XMPP_STREAM_POLICY_VIOLATION;
		const char *name = split_name(pair[0], &ns);
		if (name == NULL)
			return XMPP_STREAM_RESOURCE_CONSTRAINT;
		int result = strlen(name) > parser->limits.max_name
				     ? 1
				     : xml_element_set_attribute(element, ns, name, pair[1]);
		free(ns);
		if (result != 0)
			return result > 0 ? XMPP_STREAM_POLICY_VIOLATION
					  : XMPP_STREAM_RESOURCE_CONSTRAINT;
	}
	return XMPP_STREAM_OK;
}

/* A new element named EXPANDED: a root, or (PARENT) its child.  NULL and
 * *ERROR set: refused. */
static struct xml_element *new_element(const struct xmpp_parser *parser, struct xml_element *parent,
				       const char *expanded, const char **atts,
				       enum xmpp_stream_error *error)
{
	char *ns;
	const char *name = split_name(expanded, &ns);
	struct xml_element *element = NULL;

	*error = XMPP_STREAM_RESOURCE_CONSTRAINT;
	if (name == NULL)
		return NULL;
	if (strlen(name) > parser->limits.max_name)
		*error = XMPP_STREAM_POLICY_VIOLATION;
	else if (parent != NULL)
		element = xml_element_add_child(parent, ns, name);
	else
		element = xml_element_new(ns, name);
	free(ns);
	if (element == NULL)
		return NULL;
	*error = add_attributes(parser, element, atts);
	if (*error == XMPP_STREAM_OK)
		return element;
	if (parent == NULL)
		xml_element_free(element);
	return NULL;
}

/* Handlers: the stream */

static void open_stream(struct xmpp_parser *parser, const char *expanded, const char **atts)
{
	enum xmpp_stream_error error;
	struct xml_element *header = new_element(parser, NULL, expanded, atts, &error);

	if (header == NULL) {
		refuse(parser, error);
		return;
	}
	if (!xml_element_is(header, XMPP_STREAMS_NAMESPACE, "stream")) {
		refuse(parser, xml_element_is(header, xml_element_ns(header), "stream")
				       ? XMPP_STREAM_INVALID_NAMESPACE
				       : XMPP_STREAM_BAD_FORMAT);
	} else {
		parser->mark = event_end(parser);
		parser->in_event = true;
		bool keep_going =
			parser->events.stream_open == NULL ||
			parser->events.stream_open(parser->arg, header, parser->default_ns);
		after_event(parser, keep_going);
	}
	xml_element_free(header);
}

static void close_stream(struct xmpp_parser *parser)
{
	parser->mark = event_end(parser);
	if (parser->events.stream_close == NULL)
		return;
	parser->in_event = true;
	parser->events.stream_close(parser->arg);
	after_event(parser, true);
}

/* Handlers: elements */

static void XMLCALL start_element(void *data, const char *expanded, const char **atts)
{
	struct xmpp_parser *parser = data;
	enum xmpp_stream_error error;

	if (!going(parser))
		return;
	parser->namespaces = 0;
	parser->depth++;
	if (parser->depth == 1) {
		open_stream(parser, expanded, atts);
		return;
	}
	if (parser->depth - 1 > parser->limits.max_depth) {
		refuse(parser, XMPP_STREAM_POLICY_VIOLATION);
		return;
	}
	struct xml_element *element = new_element(parser, parser->current, expanded, atts, &error);
	if (element == NULL) {
		refuse(parser, error);
		return;
	}
	if (parser->stanza == NULL)
		parser->stanza = element;
	parser->current = element;
}

static void XMLCALL end_element(void *data, const char *expanded)
{
	struct xmpp_parser *parser = data;
	(void)expanded; /* expat has checked that it matches */

	if (!going(parser))
		return;
	parser->depth--;
	if (parser->depth == 0) {
		close_stream(parser);
		return;
	}
	parser->current = xml_element_parent(parser->current);
	if (parser->depth > 1)
		return;
	uint64_t end = event_end(parser);
	struct xml_element *stanza = parser->stanza;
	if (end - parser->mark > parser->limits.max_stanza) {
		refuse(parser, XMPP_STREAM_POLICY_VIOLATION);
		return;
	}
	parser->mark = end;
	parser->stanza = NULL;
	parser->in_event = true;
	bool keep_going = true;
	if (parser->events.element != NULL)
		keep_going = parser->events.element(parser->arg, stanza);
	else
		xml_element_free(stanza);
	after_event(parser, keep_going);
}

static void XMLCALL character_data(void *data, const char *text, int len)
{
	struct xmpp_parser *parser = data;

	if (!going(parser))
		return;
	if (parser->current != NULL) {
		if (xml_element_add_text(parser->current, text, (size_t)len) < 0)
			refuse(parser, XMPP_STREAM_RESOURCE_CONSTRAINT);
		return;
	}
	/* between stanzas: only whitespace keep-alives (RFC 6120 §4.6.1) */
	for (int i = 0; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
			refuse(parser, XMPP_STREAM_BAD_FORMAT);
			return;
		}
	}
	parser->mark = event_end(parser);
}

static void XMLCALL start_namespace(void *data, const char *prefix, const char *uri)
{
	struct xmpp_parser *parser = data;

	if (!going(parser))
		return;
	if (++parser->namespaces > parser->limits.max_namespaces ||
	    (prefix != NULL && strlen(prefix) > parser->limits.max_name)) {
		refuse(parser, XMPP_STREAM_POLICY_VIOLATION);
		return;
	}
	/* only the header's is kept, so only the stream level records it */
	if (prefix == NULL && parser->depth == 0) {
		free(parser->default_ns);
		parser->default_ns = uri != NULL && uri[0] != '\0' ? strdup(uri) : NULL;
		if (uri != NULL && uri[0] != '\0' && parser->default_ns == NULL)
			refuse(parser, XMPP_STREAM_RESOURCE_CONSTRAINT);
	}
}

/* Handlers: what RFC 6120 §11.1 restricts, refused the moment it starts */

static void XMLCALL start_doctype(void *data, const char *name, const char *system_id,
				  const char *public_id, int has_internal_subset)
{
	(void)name, (void)system_id, (void)public_id, (void)has_internal_subset;
	refuse(data, XMPP_STREAM_RESTRICTED_XML);
}

static void XMLCALL entity_declaration(void *data, const char *name, int is_parameter,
				       const char *value, int value_length, const char *base,
				       const char *system_id, const char *public_id,
				       const char *notation)
{
	(void)name, (void)is_parameter, (void)value, (void)value_length, (void)base;
	(void)system_id, (void)public_id, (void)notation;
	refuse(data, XMPP_STREAM_RESTRICTED_XML);
}

static void XMLCALL skipped_entity(void *data, const char *name, int is_parameter)
{
	(void)name, (void)is_parameter;
	refuse(data, XMPP_STREAM_RESTRICTED_XML);
}

static void XMLCALL comment(void *data, const char *text)
{
	(void)text;
	refuse(data, XMPP_STREAM_RESTRICTED_XML);
}

static void XMLCALL processing_instruction(void *data, const char *target, const char *text)
{
	(void)target, (void)text;
	refuse(data, XMPP_STREAM_RESTRICTED_XML);
}

/* What expat refused, as a stream error. */
static enum xmpp_stream_error expat_refusal(enum XML_Error error)
{
	switch (error) {
	case XML_ERROR_UNDEFINED_ENTITY: /* any reference but the predefined five */
	case XML_ERROR_RECURSIVE_ENTITY_REF:
	case XML_ERROR_BINARY_ENTITY_REF:
	case XML_ERROR_ATTRIBUTE_EXTERNAL_ENTITY_REF:
	case XML_ERROR_EXTERNAL_ENTITY_HANDLING:
	case XML_ERROR_ENTITY_DECLARED_IN_PE:
	case XML_ERROR_NOT_STANDALONE:
	case XML_ERROR_AMPLIFICATION_LIMIT_BREACH:
		return XMPP_STREAM_RESTRICTED_XML;
	case XML_ERROR_NO_MEMORY:
		return XMPP_STREAM_RESOURCE_CONSTRAINT;
	default:
		return XMPP_STREAM_NOT_WELL_FORMED;
	}
}

/* Life */

/* A fresh expat parser for a new stream, every handler set. */
static int start_stream(struct xmpp_parser *parser)
{
	/* UTF-8 given here overrides any encoding a peer declares (RFC 6120 §11.6) */
	XML_Parser expat = expat_memory_parser("UTF-8", SEPARATOR, &parser->expat_memory);
	if (expat == NULL)
		return -1;
	XML_SetUserData(expat, parser);
	XML_SetParamEntityParsing(expat, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
	/* expat 2.6 holds back a large token's events until more input comes:
	 * a stanza must be handed over as soon as its last byte is in */
	XML_SetReparseDeferralEnabled(expat, XML_FALSE);
#endif
	XML_SetElementHandler(expat, start_element, end_element);
	XML_SetCharacterDataHandler(expat, character_data);
	XML_SetStartNamespaceDeclHandler(expat, start_namespace);
	XML_SetStartDoctypeDeclHandler(expat, start_doctype);
	XML_SetEntityDeclHandler(expat, entity_declaration);
	XML_SetSkippedEntityHandler(expat, skipped_entity);
	XML_SetCommentHandler(expat, comment);
	XML_SetProcessingInstructionHandler(expat, processing_instruction);
	parser->expat = expat;
	return 0;
}

/* Forgets the stream: the parser is as new, without an expat parser. */
static void end_stream(struct xmpp_parser *parser)
{
	if (parser->expat != NULL) {
		expat_memory_enter(&parser->expat_memory);
		XML_ParserFree(parser->expat);
		expat_memory_enter(NULL);
	}
	xml_element_free(parser->stanza);
	free(parser->default_ns);
	struct xmpp_parser kept = {
		.limits = parser->limits,
		.events = parser->events,
		.arg = parser->arg,
		.expat_memory = parser->expat_memory,
	};
	*parser = kept;
}

struct xmpp_parser *xmpp_parser_new(const struct xmpp_limits *limits,
				    const struct xmpp_parser_events *events, void *arg)
{
	struct xmpp_parser *parser = calloc(1, sizeof(*parser));
	if (parser == NULL)
		return NULL;
	parser->limits = *limits;
	parser->events = *events;
	parser->arg = arg;
	if (start_stream(parser) < 0) {
		free(parser);
		return NULL;
	}
	return parser;
}

void xmpp_parser_free(struct xmpp_parser *parser)
{
	if (parser == NULL)
		return;
	end_stream(parser);
	free(parser);
}

int xmpp_parser_restart(struct xmpp_parser *parser)
{
	if (parser->in_event) {
		parser->restart_wanted = true;
		return 0;
	}
	end_stream(parser);
	if (start_stream(parser) < 0) {
		parser->error = XMPP_STREAM_RESOURCE_CONSTRAINT;
		return -1;
	}
	return 0;
}

size_t xmpp_parser_memory(const struct xmpp_parser *parser)
{
	size_t total = sizeof(*parser) + parser->expat_memory;
	if (parser->stanza != NULL)
		total += xml_element_memory(parser->stanza);
	if (parser->default_ns != NULL)
		total += strlen(parser->default_ns) + 1;
	return total;
}

/* Feeding */

/* Gives expat LEN bytes (no more than the limit lets the coming element
 * have).  After a stop by an event, *USED is what came before its end. */
static enum xmpp_stream_error parse_slice(struct xmpp_parser *parser, const char *data, size_t len,
					  size_t *used)
{
	/* No XML has a NUL byte in UTF-8, and every UTF-16 document has one
	 * in its first markup: expat guesses UTF-16 from a stream's first two
	 * bytes even when told UTF-8, so refusing NULs keeps every stream
	 * UTF-8 (RFC 6120 §11.6).  What comes before the NUL is parsed first,
	 * so that the refusal comes at the same byte however the input is cut. */
	const char *nul = memchr(data, '\0', len);
	size_t clean = nul != NULL ? (size_t)(nul - data) : len;
	uint64_t base = parser->fed;

	parser->fed += clean;
	*used = len;
	expat_memory_enter(&parser->expat_memory);
	enum XML_Status status = XML_Parse(parser->expat, data, (int)clean, XML_FALSE);
	expat_memory_enter(NULL);
	if (parser->error != XMPP_STREAM_OK)
		return parser->error;
	if (parser->stopped || parser->restart_wanted) {
		*used = (size_t)(parser->stop_at - base);
		return XMPP_STREAM_OK;
	}
	if (status != XML_STATUS_OK)
		parser->error = expat_refusal(XML_GetErrorCode(parser->expat));
	else if (nul != NULL)
		parser->error = XMPP_STREAM_NOT_WELL_FORMED;
	else if (parser->fed - parser->mark > parser->limits.max_stanza)
		parser->error = XMPP_STREAM_POLICY_VIOLATION;
	else if (parser->expat_memory > xmpp_parser_expat_limit(&parser->limits))
		parser->error = XMPP_STREAM_RESOURCE_CONSTRAINT;
	return parser->error;
}

enum xmpp_stream_error xmpp_parser_feed(struct xmpp_parser *parser, const char *data, size_t len,
					size_t *used)
{
	size_t at = 0;

	*used = 0;
	if (parser->error != XMPP_STREAM_OK)
		return parser->error;
	while (at < len && !parser->stopped) {
		/* at most one byte past the limit of what the coming element holds */
		size_t room = parser->limits.max_stanza - (size_t)(parser->fed - parser->mark);
		size_t slice = len - at <= room ? len - at : room + 1;
		size_t parsed;
		if (slice > SLICE)
			slice = SLICE;
		enum xmpp_stream_error error = parse_slice(parser, data + at, slice, &parsed);
		if (error != XMPP_STREAM_OK) {
			*used = len;
			return error;
		}
		at += parsed;
		if (parser->restart_wanted) {
			bool stopped = parser->stopped;
			if (xmpp_parser_restart(parser) < 0) {
				*used = len;
				return parser->error;
			}
			if (stopped)
				break;
		}
	}
	*used = at;
	return XMPP_STREAM_OK;
}
