/* SPDX-License-Identifier: ISC */
/* stream_parser: one direction of an XMPP stream (RFC 6120 §4), parsed
 * with expat in streaming mode with namespaces: the stream header at depth
 * 0, each complete element at depth 1 (a stanza or a negotiation element)
 * handed over as a tree, whitespace keep-alives between them.  Everything
 * RFC 6120 §11.1 restricts is refused at once with its stream error: a
 * DOCTYPE, entity declarations and references (but the five predefined
 * and character references), comments, processing instructions (the XML
 * declaration aside); and whatever passes a limit (xmpp_limits).  The
 * bytes of one element are counted as they arrive, so a parser never
 * holds more than about one max_stanza of input. */
#ifndef SXEDGE_XMPP_STREAM_PARSER_H
#define SXEDGE_XMPP_STREAM_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "stream_error.h"
#include "xml_tree.h"

/* Every limit passed gives policy-violation. */
struct xmpp_limits {
	size_t max_stanza; /* bytes of one top-level element (and of the header), 256 KiB */
	unsigned max_depth; /* elements nested in a stanza, the stanza itself 1: 32 */
	unsigned max_attributes; /* per element: 64 */
	unsigned max_namespaces; /* declarations per element: 16 */
	size_t max_name; /* bytes of a local name or a prefix: 256 */
};
void xmpp_limits_default(struct xmpp_limits *limits);

/* The most expat itself may hold for a stream with LIMITS: room for one
 * max_stanza token in its buffer (which grows by doubling), and 64 KiB for
 * the names it keeps for the whole stream (each new attribute name and
 * prefix), which grow with what a peer sends.  A stream whose parser needs
 * more gets resource-constraint. */
size_t xmpp_parser_expat_limit(const struct xmpp_limits *limits);

struct xmpp_parser_events {
	/* <stream:stream …> opened: HEADER carries its attributes
	 * (namespace-qualified: xml:lang has XML_NAMESPACE), DEFAULT_NS is the
	 * default namespace it declared (NULL if none).  Return false to stop. */
	bool (*stream_open)(void *arg, const struct xml_element *header, const char *default_ns);
	/* One complete child of the stream, taken over.  false: stop. */
	bool (*element)(void *arg, struct xml_element *element);
	void (*stream_close)(void *arg); /* </stream:stream> */
};

struct xmpp_parser *xmpp_parser_new(const struct xmpp_limits *limits,
				    const struct xmpp_parser_events *events, void *arg);
/* Never from inside one of the parser's own events. */
void xmpp_parser_free(struct xmpp_parser *parser);

/* Parses LEN bytes; events are called from inside.  Returns XMPP_STREAM_OK,
 * or the stream error to close with (the parser then takes nothing more,
 * and says the same error again).  *USED is set to the bytes consumed:
 * less than LEN only when a callback returned false, and then the bytes
 * up to the end of that event's element; until xmpp_parser_restart the
 * parser takes nothing more (*USED 0). */
enum xmpp_stream_error xmpp_parser_feed(struct xmpp_parser *parser, const char *data, size_t len,
					size_t *used);

/* A stream restart (RFC 6120 §4.3.3, after STARTTLS or SASL): the next
 * bytes are a new header.  From inside an event it takes effect at the
 * end of that event's element: the rest of what is being fed is the new
 * stream's (or, when the event returns false, left to the caller to feed
 * again).  -1: out of memory (the parser then refuses with
 * resource-constraint). */
int xmpp_parser_restart(struct xmpp_parser *parser);

/* Bytes the parser holds: itself, expat's allocations (its buffer of
 * input not yet parsed, tag stack, names) and the element being built. */
size_t xmpp_parser_memory(const struct xmpp_parser *parser);

#endif
