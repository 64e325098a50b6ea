/* SPDX-License-Identifier: ISC */
/* stream_error: the stream error conditions of RFC 6120 §4.9.3 that the
 * edge sends, and the <stream:error/> element that carries one before the
 * stream is closed. */
#ifndef SXEDGE_XMPP_STREAM_ERROR_H
#define SXEDGE_XMPP_STREAM_ERROR_H

#include <event2/buffer.h>

#define XMPP_STREAMS_NAMESPACE	     "http://etherx.jabber.org/streams"
#define XMPP_STREAM_ERRORS_NAMESPACE "urn:ietf:params:xml:ns:xmpp-streams"

enum xmpp_stream_error {
	XMPP_STREAM_OK = 0,
	XMPP_STREAM_BAD_FORMAT,
	XMPP_STREAM_CONNECTION_TIMEOUT,
	XMPP_STREAM_HOST_UNKNOWN,
	XMPP_STREAM_IMPROPER_ADDRESSING,
	XMPP_STREAM_INTERNAL_SERVER_ERROR,
	XMPP_STREAM_INVALID_FROM,
	XMPP_STREAM_INVALID_NAMESPACE,
	XMPP_STREAM_NOT_AUTHORIZED,
	XMPP_STREAM_NOT_WELL_FORMED,
	XMPP_STREAM_POLICY_VIOLATION,
	XMPP_STREAM_REMOTE_CONNECTION_FAILED,
	XMPP_STREAM_RESOURCE_CONSTRAINT,
	XMPP_STREAM_RESTRICTED_XML,
	XMPP_STREAM_SYSTEM_SHUTDOWN,
	XMPP_STREAM_UNDEFINED_CONDITION,
	XMPP_STREAM_UNSUPPORTED_STANZA_TYPE,
	XMPP_STREAM_UNSUPPORTED_VERSION,
};

/* The condition's element name, e.g. "not-well-formed"; "ok" for
 * XMPP_STREAM_OK, NULL for a value outside the enum. */
const char *xmpp_stream_error_name(enum xmpp_stream_error error);

/* <stream:error><CONDITION xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
 * [<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>TEXT</text>]</stream:error>,
 * TEXT escaped.  -1: ERROR is no condition, TEXT is no XML text, or OOM. */
int xmpp_write_stream_error(struct evbuffer *out, enum xmpp_stream_error error, const char *text);

#endif
