/* SPDX-License-Identifier: ISC */
/* framing: cuts a SIP byte stream (TLS/TCP) into messages by Content-Length
 * (RFC 3261 §18.3), within the configured limits, and recognises the CRLF
 * keep-alive ping (RFC 5626 §3.5.1).  Pure: works on a byte array, keeps no
 * state between calls.  It is also the last check on what the edge itself
 * writes: sip_frame_is_one_message(). */
#ifndef SXEDGE_SIP_FRAMING_H
#define SXEDGE_SIP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

struct sip_frame_limits {
	size_t max_message; /* header block + body */
	size_t max_line; /* one header line, including continuations */
	unsigned max_headers;
};

enum sip_frame_result {
	SIP_FRAME_NEED_MORE, /* no whole message yet, and no limit broken */
	SIP_FRAME_MESSAGE, /* a whole message of frame.total bytes */
	SIP_FRAME_PING, /* CRLFCRLF: answer with one CRLF, consume frame.total */
	SIP_FRAME_SKIP, /* a lone CRLF between messages: consume frame.total */
	SIP_FRAME_TOO_MANY_HEADERS, /* whole message present (frame.total), too many header lines */
	SIP_FRAME_TOO_LARGE, /* header block known (frame.header_len), message over max_message */
	SIP_FRAME_BAD_LENGTH, /* header block known, Content-Length missing a number, negative, or repeated */
	SIP_FRAME_LINE_TOO_LONG, /* a line over max_line; the stream cannot be trusted */
	SIP_FRAME_HEADER_TOO_LARGE, /* no end of headers within max_message */
	SIP_FRAME_MALFORMED, /* a bare CR or LF, a NUL or another control byte before the
				end of headers: frame.reason says which */
};

struct sip_frame {
	size_t header_len; /* start line and headers, up to and including the blank line */
	size_t body_len; /* Content-Length (0 when absent) */
	size_t total; /* bytes the caller consumes for MESSAGE, PING, SKIP, TOO_MANY_HEADERS */
	size_t wait_for; /* NEED_MORE with a whole header block: the message's full size */
	const char *reason; /* MALFORMED: what was found, e.g. "bare LF" */
};

/* Looks at the first LEN bytes of DATA.  For TOO_LARGE and BAD_LENGTH the
 * header block (DATA, frame.header_len) can still be parsed to answer the
 * sender, but the connection must then be closed; after MALFORMED, and
 * the two other limits, the stream cannot be cut into messages any more. */
enum sip_frame_result sip_frame_next(const char *data, size_t len,
				     const struct sip_frame_limits *limits,
				     struct sip_frame *frame);

/* Whether LEN bytes at DATA frame as exactly one message of LEN bytes,
 * whatever their size: what the edge checks on every message before it
 * writes it, so that nothing it sends can be read as two. */
bool sip_frame_is_one_message(const char *data, size_t len);

#endif
