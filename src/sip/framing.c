/* SPDX-License-Identifier: ISC */
/* framing: finds where one SIP message ends in a stream of bytes (RFC 3261
 * §18.3) and recognises CRLF keep-alives (RFC 5626 §3.5.1).
 *
 * Each call scans the header block once from the start.  Line ends are
 * CRLF and nothing else (RFC 3261 §7): a bare CR or LF, a NUL or another
 * control byte in the header block, or a second Content-Length, is where
 * two parsers could cut the same bytes into different messages, so the
 * stream is refused rather than guessed at.  Limits are checked while
 * scanning, so a flood is refused before the whole of it has arrived. */
#include "framing.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* What one scan of the header block has found so far. */
struct header_scan {
	const struct sip_frame_limits *limits;
	unsigned headers; /* header fields seen, not counting the start line */
	bool bad_length; /* a Content-Length that is not one plain number */
	bool have_length;
	size_t content_length;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_line_white(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool name_equals(const char *name, size_t length, const char *lower)
{
	if (length != strlen(lower))
		return false;
	for (size_t i = 0; i < length; i++)
		if (ascii_lower(name[i]) != lower[i])
			return false;
	return true;
}

/* The value of a Content-Length field: optional white space (which may
 * include folded line ends), digits, optional white space.  Returns false
 * for anything else, including a number that does not fit in size_t. */
static bool content_length_value(const char *value, size_t length, size_t *number)
{
	size_t i = 0;
	size_t result = 0;

	while (i < length && is_line_white(value[i]))
		i++;
	size_t first_digit = i;
	while (i < length && value[i] >= '0' && value[i] <= '9') {
		size_t digit = (size_t)(value[i] - '0');
		if (result > (SIZE_MAX - digit) / 10)
			return false;
		result = result * 10 + digit;
		i++;
	}
	if (i == first_digit)
		return false;
	while (i < length && is_line_white(value[i]))
		i++;
	if (i != length)
		return false;
	*number = result;
	return true;
}

/* Looks at one complete header field (its continuation lines included,
 * the final line end excluded) and records a Content-Length. */
static void scan_header(struct header_scan *scan, const char *field, size_t length)
{
	size_t name_end = 0;
	while (name_end < length && field[name_end] != ':' && !is_blank(field[name_end]))
		name_end++;
	if (!name_equals(field, name_end, "content-length") && !name_equals(field, name_end, "l"))
		return;

	size_t colon = name_end;
	while (colon < length && is_blank(field[colon]))
		colon++;
	if (colon == length || field[colon] != ':')
		return; /* not a header field at all; the parser will refuse it */

	size_t number;
	if (!content_length_value(field + colon + 1, length - colon - 1, &number)) {
		scan->bad_length = true;
		return;
	}
	/* Even an equal second value is refused: a next hop that takes one of
	 * them for a different header (or joins them) would frame otherwise. */
	if (scan->have_length)
		scan->bad_length = true;
	scan->have_length = true;
	scan->content_length = number;
}

/* Leading line ends: keep-alive pings and the empty lines RFC 3261 §7.5
 * lets a sender put between messages.  Returns NEED_MORE with *IS_LINE_END
 * false when DATA does not start with a CR (the caller then looks for a
 * message).  A lone LF is a line end another parser could read differently:
 * refused like every bare LF. */
static enum sip_frame_result leading_line_end(const char *data, size_t len, struct sip_frame *frame,
					      bool *is_line_end)
{
	*is_line_end = true;
	if (data[0] == '\n') {
		frame->reason = "bare LF";
		return SIP_FRAME_MALFORMED;
	}
	if (data[0] != '\r') {
		*is_line_end = false;
		return SIP_FRAME_NEED_MORE;
	}
	if (len < 2)
		return SIP_FRAME_NEED_MORE;
	if (data[1] != '\n') {
		frame->reason = "bare CR";
		return SIP_FRAME_MALFORMED;
	}
	if (len < 3)
		return SIP_FRAME_NEED_MORE;
	if (data[2] != '\r') {
		frame->total = 2;
		return SIP_FRAME_SKIP;
	}
	if (len < 4)
		return SIP_FRAME_NEED_MORE;
	if (data[3] == '\n') {
		frame->total = 4;
		return SIP_FRAME_PING;
	}
	frame->total = 2;
	return SIP_FRAME_SKIP;
}

/* Bytes no header block may hold: control characters but HT, and a CR or
 * LF that is not part of a CRLF (checked by the caller).  Two parsers can
 * disagree on where a line or a value ends at any of them (NUL ends a C
 * string; a bare CR or LF is a line end to some stacks and not to others),
 * which is how one message is smuggled inside another. */
static bool is_forbidden(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
}

/* Checks the content of one line, CONTENT_END excluded (the CR of its CRLF,
 * or the end of the data so far).  Returns the reason it is refused, or NULL. */
static const char *line_refusal(const char *data, size_t start, size_t content_end)
{
	for (size_t i = start; i < content_end; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\r')
			return "bare CR";
		if (is_forbidden(c))
			return c == '\0' ? "NUL byte" : "control character";
	}
	return NULL;
}

/* Scans the header block.  Returns NEED_MORE with *header_len set when the
 * block is complete, NEED_MORE with *header_len 0 when it is not yet, or
 * the limit or rule it breaks (MALFORMED with *REASON). */
static enum sip_frame_result scan_header_block(const char *data, size_t len,
					       struct header_scan *scan, size_t *header_len,
					       const char **reason)
{
	const struct sip_frame_limits *limits = scan->limits;
	size_t scan_end = len < limits->max_message ? len : limits->max_message;
	size_t field_start = 0; /* the start line is field 0; it is never a header */
	size_t field_end = 0; /* end of the last complete line of the current field */
	size_t line_start = 0;

	*header_len = 0;
	while (line_start < scan_end) {
		const char *newline = memchr(data + line_start, '\n', scan_end - line_start);
		size_t line_end = newline ? (size_t)(newline - data) : scan_end;
		size_t content_end = line_end;
		if (newline) {
			if (content_end == line_start || data[content_end - 1] != '\r') {
				*reason = "bare LF";
				return SIP_FRAME_MALFORMED;
			}
			content_end--;
		} else if (content_end > line_start && data[content_end - 1] == '\r') {
			content_end--; /* its LF may be in the next read */
		}
		*reason = line_refusal(data, line_start, content_end);
		if (*reason != NULL)
			return SIP_FRAME_MALFORMED;

		if (newline && content_end == line_start) {
			/* The blank line: the header block ends here. */
			if (field_start > 0)
				scan_header(scan, data + field_start, field_end - field_start);
			*header_len = line_end + 1;
			return SIP_FRAME_NEED_MORE;
		}
		if (content_end == line_start)
			break; /* a line of nothing (or a lone CR) so far: wait for more */

		bool continuation = line_start > 0 && is_blank(data[line_start]);
		if (!continuation) {
			if (field_start > 0)
				scan_header(scan, data + field_start, field_end - field_start);
			field_start = line_start;
			if (line_start > 0 && scan->headers < UINT_MAX)
				scan->headers++;
		}
		if (content_end - field_start > limits->max_line)
			return SIP_FRAME_LINE_TOO_LONG;
		if (!newline)
			break;
		field_end = content_end;
		line_start = line_end + 1;
	}
	if (len >= limits->max_message)
		return SIP_FRAME_HEADER_TOO_LARGE;
	return SIP_FRAME_NEED_MORE;
}

enum sip_frame_result sip_frame_next(const char *data, size_t len,
				     const struct sip_frame_limits *limits, struct sip_frame *frame)
{
	memset(frame, 0, sizeof(*frame));
	if (len == 0)
		return SIP_FRAME_NEED_MORE;

	bool is_line_end;
	enum sip_frame_result result = leading_line_end(data, len, frame, &is_line_end);
	if (is_line_end)
		return result;

	struct header_scan scan = { .limits = limits };
	size_t header_len;
	result = scan_header_block(data, len, &scan, &header_len, &frame->reason);
	if (result != SIP_FRAME_NEED_MORE || header_len == 0)
		return result;

	frame->header_len = header_len;
	if (scan.bad_length)
		return SIP_FRAME_BAD_LENGTH;
	frame->body_len = scan.content_length;
	/* header_len <= max_message here, so the subtraction cannot wrap. */
	if (scan.content_length > limits->max_message - header_len)
		return SIP_FRAME_TOO_LARGE;

	size_t total = header_len + scan.content_length;
	if (len < total) {
		/* Say how much to wait for, so the caller need not scan again
		 * until the body is complete. */
		frame->wait_for = total;
		frame->header_len = 0;
		frame->body_len = 0;
		return SIP_FRAME_NEED_MORE;
	}
	frame->total = total;
	if (scan.headers > limits->max_headers)
		return SIP_FRAME_TOO_MANY_HEADERS;
	return SIP_FRAME_MESSAGE;
}

bool sip_frame_is_one_message(const char *data, size_t len)
{
	const struct sip_frame_limits unlimited = {
		.max_message = len + 1, /* the header block must end before the data does */
		.max_line = len,
		.max_headers = UINT_MAX,
	};
	struct sip_frame frame;

	return sip_frame_next(data, len, &unlimited, &frame) == SIP_FRAME_MESSAGE &&
	       frame.total == len;
}
