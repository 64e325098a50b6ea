/* SPDX-License-Identifier: ISC */
/* Unit tests for framing: every result of sip_frame_next, the limits at
 * and just past their edges, and messages arriving a byte at a time. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "test_suite.h"

static const struct sip_frame_limits default_limits = {
	.max_message = 65536,
	.max_line = 8192,
	.max_headers = 100,
};

#define HEADERS                                                       \
	"Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK776asdhds\r\n" \
	"Max-Forwards: 70\r\n"                                        \
	"To: <sip:bob@example.test>\r\n"                              \
	"From: <sip:alice@example.test>;tag=1928301774\r\n"           \
	"Call-ID: a84b4c76e66710\r\n"                                 \
	"CSeq: 314159 MESSAGE\r\n"

static const char message_with_body[] =
	"MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS "Content-Type: text/plain\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"hello";

static enum sip_frame_result frame_text(const char *text, struct sip_frame *frame)
{
	return sip_frame_next(text, strlen(text), &default_limits, frame);
}

/* A growing buffer to build large messages. */
struct text {
	char *data;
	size_t len;
};

static void text_add(struct text *text, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *text, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	int needed = vsnprintf(NULL, 0, format, args);
	va_end(args);
	ck_assert_int_ge(needed, 0);
	text->data = realloc(text->data, text->len + (size_t)needed + 1);
	ck_assert_ptr_nonnull(text->data);
	va_start(args, format);
	vsnprintf(text->data + text->len, (size_t)needed + 1, format, args);
	va_end(args);
	text->len += (size_t)needed;
}

static void text_add_repeated(struct text *text, char c, size_t count)
{
	text->data = realloc(text->data, text->len + count + 1);
	ck_assert_ptr_nonnull(text->data);
	memset(text->data + text->len, c, count);
	text->len += count;
	text->data[text->len] = '\0';
}

/* Whole messages */

START_TEST(test_one_message_exact)
{
	struct sip_frame frame;
	size_t len = strlen(message_with_body);

	ck_assert_int_eq(frame_text(message_with_body, &frame), SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.header_len, len - 5);
	ck_assert_uint_eq(frame.body_len, 5);
	ck_assert_uint_eq(frame.total, len);
}
END_TEST

START_TEST(test_split_byte_by_byte)
{
	struct sip_frame frame;
	size_t len = strlen(message_with_body);

	for (size_t i = 0; i < len; i++) {
		ck_assert_msg(sip_frame_next(message_with_body, i, &default_limits, &frame) ==
				      SIP_FRAME_NEED_MORE,
			      "not NEED_MORE at %zu bytes", i);
		ck_assert_uint_eq(frame.total, 0);
		/* Once the header block is whole, the full size is known. */
		ck_assert_uint_eq(frame.wait_for, i >= len - 5 ? len : 0);
	}
	ck_assert_int_eq(sip_frame_next(message_with_body, len, &default_limits, &frame),
			 SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.total, len);
}
END_TEST

START_TEST(test_two_messages_back_to_back)
{
	static const char second[] = "SIP/2.0 200 OK\r\n" HEADERS "Content-Length: 0\r\n\r\n";
	struct text text = { 0 };
	struct sip_frame frame;

	text_add(&text, "%s%s", message_with_body, second);
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.total, strlen(message_with_body));

	size_t first = frame.total;
	ck_assert_int_eq(
		sip_frame_next(text.data + first, text.len - first, &default_limits, &frame),
		SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.total, strlen(second));
	ck_assert_uint_eq(frame.body_len, 0);
	free(text.data);
}
END_TEST

START_TEST(test_body_bytes_are_not_headers)
{
	/* A body that looks like a header block, blank line included, and has
	 * NUL bytes. */
	static const char head[] =
		"MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS "Content-Length: 40\r\n\r\n";
	char message[sizeof(head) - 1 + 40];
	memcpy(message, head, sizeof(head) - 1);
	memcpy(message + sizeof(head) - 1,
	       "Content-Length: 9\r\n\r\n\0\0\r\n\r\nl: 3\r\nxxxxxxxxxx", 40);
	struct sip_frame frame;

	ck_assert_int_eq(sip_frame_next(message, sizeof(message), &default_limits, &frame),
			 SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.header_len, sizeof(head) - 1);
	ck_assert_uint_eq(frame.body_len, 40);
	ck_assert_uint_eq(frame.total, sizeof(message));
	ck_assert_int_eq(sip_frame_next(message, sizeof(message) - 1, &default_limits, &frame),
			 SIP_FRAME_NEED_MORE);
}
END_TEST

static void assert_body_len(const char *length_header, size_t body_len);

/* A message whose extra header line HEADER is accepted. */
static void assert_body_len_in(const char *header)
{
	char line[256];
	snprintf(line, sizeof(line), "%sContent-Length: 0\r\n", header);
	assert_body_len(line, 0);
}

/* Line ends are CRLF only: a bare LF or CR, or a control byte, is where
 * another parser could cut the stream differently. */
static void assert_malformed(const char *text, size_t len, const char *reason)
{
	struct sip_frame frame;

	ck_assert_msg(sip_frame_next(text, len, &default_limits, &frame) == SIP_FRAME_MALFORMED,
		      "not MALFORMED: %.*s", (int)len, text);
	ck_assert_str_eq(frame.reason, reason);
	ck_assert_uint_eq(frame.total, 0);
}

START_TEST(test_lf_line_ends_refused)
{
	static const char lf_only[] = "MESSAGE sip:bob@example.test SIP/2.0\n"
				      "Via: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1\n"
				      "Content-Length: 3\n"
				      "\n"
				      "abc";
	static const char mixed[] = "OPTIONS sip:bob@example.test SIP/2.0\r\n"
				    "l: 2\n"
				    "\r\n"
				    "ab";
	static const char lf_blank[] = "OPTIONS sip:bob@example.test SIP/2.0\r\n"
				       "l: 0\r\n"
				       "\n";

	assert_malformed(lf_only, strlen(lf_only), "bare LF");
	assert_malformed(mixed, strlen(mixed), "bare LF");
	assert_malformed(lf_blank, strlen(lf_blank), "bare LF");
	/* Refused as soon as seen, before the header block ends. */
	assert_malformed("OPTIONS sip:bob@example.test SIP/2.0\nVia", 40, "bare LF");
	assert_malformed("\nOPTIONS", 8, "bare LF");
}
END_TEST

START_TEST(test_bare_cr_and_control_bytes_refused)
{
	static const char nul[] = "OPTIONS sip:bob@example.test SIP/2.0\r\nX: a\0b\r\n\r\n";

	assert_malformed("OPTIONS sip:bob@example.test SIP/2.0\r\nX: a\rb\r\n\r\n", 48, "bare CR");
	assert_malformed("OPTIONS sip:bob@example.test SIP/2.0\r\nX: a\r\r\n\r\n", 48, "bare CR");
	assert_malformed("\r\r\n", 3, "bare CR");
	assert_malformed(nul, sizeof(nul) - 1, "NUL byte");
	assert_malformed("OPTIONS sip:bob@example.test SIP/2.0\r\nX: \x1b[31m\r\n\r\n", 49,
			 "control character");
	assert_malformed("OPTIONS sip:bob@example.test SIP/2.0\r\nX: \x7f\r\n\r\n", 45,
			 "control character");
	/* A tab is white space, and bytes over 0x7f are UTF-8 text. */
	assert_body_len_in("X: a\tb \xc3\xa9\r\n");
}
END_TEST

START_TEST(test_body_may_hold_any_byte)
{
	static const char text[] = "MESSAGE sip:bob@example.test SIP/2.0\r\n"
				   "Content-Length: 6\r\n"
				   "\r\n"
				   "\0\r\n\n\r\x1b";
	struct sip_frame frame;

	ck_assert_int_eq(sip_frame_next(text, sizeof(text) - 1, &default_limits, &frame),
			 SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.body_len, 6);
}
END_TEST

START_TEST(test_one_message_check)
{
	static const char one[] = "MESSAGE sip:bob@example.test SIP/2.0\r\nl: 2\r\n\r\nhi";
	static const char two[] = "MESSAGE sip:bob@example.test SIP/2.0\r\nl: 0\r\n\r\n"
				  "MESSAGE sip:bob@example.test SIP/2.0\r\nl: 0\r\n\r\n";
	static const char glued[] = "MESSAGE sip:bob@example.test SIP/2.0\r\n"
				    "Content-Type: Content-Length: 2\r\n\r\nhi";

	ck_assert(sip_frame_is_one_message(one, sizeof(one) - 1));
	ck_assert(!sip_frame_is_one_message(one, sizeof(one) - 2));
	ck_assert(!sip_frame_is_one_message(two, sizeof(two) - 1));
	/* The review's glued header: no Content-Length, so "hi" is left over. */
	ck_assert(!sip_frame_is_one_message(glued, sizeof(glued) - 1));
	ck_assert(!sip_frame_is_one_message("\r\n\r\n", 4));
	ck_assert(!sip_frame_is_one_message("", 0));
	/* Larger than any input limit, still one message. */
	struct text big = { 0 };
	text_add(&big, "MESSAGE sip:bob@example.test SIP/2.0\r\nl: 300000\r\n\r\n");
	text_add_repeated(&big, 'x', 300000);
	ck_assert(sip_frame_is_one_message(big.data, big.len));
	free(big.data);
}
END_TEST

/* Content-Length */

static void assert_body_len(const char *length_header, size_t body_len)
{
	struct text text = { 0 };
	struct sip_frame frame;

	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS "%s\r\n", length_header);
	size_t header_len = text.len;
	text_add_repeated(&text, 'x', body_len);
	ck_assert_msg(sip_frame_next(text.data, text.len, &default_limits, &frame) ==
			      SIP_FRAME_MESSAGE,
		      "not a message with \"%s\"", length_header);
	ck_assert_uint_eq(frame.header_len, header_len);
	ck_assert_uint_eq(frame.body_len, body_len);
	ck_assert_uint_eq(frame.total, header_len + body_len);
	free(text.data);
}

static void assert_bad_length(const char *length_header)
{
	struct text text = { 0 };
	struct sip_frame frame;

	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS "%s\r\n", length_header);
	ck_assert_msg(sip_frame_next(text.data, text.len, &default_limits, &frame) ==
			      SIP_FRAME_BAD_LENGTH,
		      "not BAD_LENGTH with \"%s\"", length_header);
	ck_assert_uint_eq(frame.header_len, text.len);
	ck_assert_uint_eq(frame.total, 0);
	free(text.data);
}

START_TEST(test_compact_length)
{
	assert_body_len("l: 7\r\n", 7);
	assert_body_len("L:7\r\n", 7);
}
END_TEST

START_TEST(test_length_case_and_white_space)
{
	assert_body_len("content-length: 3\r\n", 3);
	assert_body_len("CONTENT-LENGTH: 3\r\n", 3);
	assert_body_len("Content-Length   :\t  12  \t\r\n", 12);
	assert_body_len("Content-Length: 0012\r\n", 12);
	/* A folded value is still one number. */
	assert_body_len("Content-Length:\r\n 4\r\n", 4);
}
END_TEST

START_TEST(test_missing_length_is_zero)
{
	assert_body_len("", 0);
	/* Names that only start or end like Content-Length are other headers. */
	assert_body_len("Content-Length-Extra: 9\r\nX-Content-Length: 9\r\nLr: 9\r\n", 0);
}
END_TEST

START_TEST(test_bad_lengths)
{
	assert_bad_length("Content-Length: -1\r\n");
	assert_bad_length("Content-Length: 12abc\r\n");
	assert_bad_length("Content-Length: 1 2\r\n");
	assert_bad_length("Content-Length: +5\r\n");
	assert_bad_length("Content-Length:\r\n");
	assert_bad_length("Content-Length:   \r\n");
	assert_bad_length("l: 0x10\r\n");
	/* Over SIZE_MAX. */
	assert_bad_length("Content-Length: 99999999999999999999999999\r\n");
}
END_TEST

START_TEST(test_repeated_length)
{
	/* Even an equal second value: another stack may take only one. */
	assert_bad_length("Content-Length: 5\r\nContent-Length: 5\r\n");
	assert_bad_length("Content-Length: 5\r\nl: 005\r\n");
	assert_bad_length("Content-Length: 5\r\nContent-Length: 6\r\n");
	assert_bad_length("l: 0\r\nContent-Length: 1\r\n");
}
END_TEST

START_TEST(test_length_over_max_message)
{
	struct text text = { 0 };
	struct sip_frame frame;

	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS
			"Content-Length: 100000\r\n\r\n");
	/* Known at once, before any of the body has arrived. */
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_TOO_LARGE);
	ck_assert_uint_eq(frame.header_len, text.len);
	ck_assert_uint_eq(frame.body_len, 100000);
	ck_assert_uint_eq(frame.total, 0);
	free(text.data);
}
END_TEST

START_TEST(test_length_at_max_message)
{
	struct text text = { 0 };
	struct sip_frame frame;

	/* header_len + body_len == max_message is allowed; one more is not. */
	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS
			"Content-Length: 00000\r\n\r\n");
	size_t header_len = text.len;
	size_t body_len = default_limits.max_message - header_len;
	free(text.data);
	text = (struct text){ 0 };
	text_add(&text,
		 "MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS "Content-Length: %05zu\r\n\r\n",
		 body_len);
	ck_assert_uint_eq(text.len, header_len);
	text_add_repeated(&text, 'x', body_len);
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.total, default_limits.max_message);

	struct sip_frame_limits smaller = default_limits;
	smaller.max_message--;
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &smaller, &frame),
			 SIP_FRAME_TOO_LARGE);
	ck_assert_uint_eq(frame.header_len, header_len);
	ck_assert_uint_eq(frame.body_len, body_len);
	free(text.data);
}
END_TEST

/* Limits */

static void add_headers(struct text *text, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		text_add(text, "X-Header-%u: value\r\n", i);
}

START_TEST(test_too_many_headers)
{
	struct text text = { 0 };
	struct sip_frame frame;

	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n");
	add_headers(&text, 1000);
	text_add(&text, "Content-Length: 4\r\n\r\n");
	size_t header_len = text.len;
	text_add(&text, "body");

	/* Only once the whole message is there, so the stream stays usable. */
	ck_assert_int_eq(sip_frame_next(text.data, header_len - 2, &default_limits, &frame),
			 SIP_FRAME_NEED_MORE);
	ck_assert_int_eq(sip_frame_next(text.data, header_len + 3, &default_limits, &frame),
			 SIP_FRAME_NEED_MORE);
	ck_assert_uint_eq(frame.total, 0);
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_TOO_MANY_HEADERS);
	ck_assert_uint_eq(frame.header_len, header_len);
	ck_assert_uint_eq(frame.body_len, 4);
	ck_assert_uint_eq(frame.total, text.len);
	free(text.data);
}
END_TEST

START_TEST(test_header_count_edge)
{
	struct text text = { 0 };
	struct sip_frame frame;
	struct sip_frame_limits limits = default_limits;

	/* The start line is not a header; a continuation line is part of the
	 * header above it. */
	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n");
	add_headers(&text, 9);
	text_add(&text, "Subject: one\r\n two\r\n\tthree\r\n\r\n");
	limits.max_headers = 10;
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &limits, &frame), SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.total, text.len);
	limits.max_headers = 9;
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &limits, &frame),
			 SIP_FRAME_TOO_MANY_HEADERS);
	ck_assert_uint_eq(frame.total, text.len);
	free(text.data);
}
END_TEST

START_TEST(test_header_block_too_large)
{
	struct text text = { 0 };
	struct sip_frame frame;
	struct sip_frame_limits limits = default_limits;

	/* 200 KiB of headers and no end of them. */
	limits.max_headers = 100000;
	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n");
	while (text.len < 200 * 1024)
		add_headers(&text, 100);
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &limits, &frame),
			 SIP_FRAME_HEADER_TOO_LARGE);
	/* Known as soon as max_message bytes are there without an end... */
	ck_assert_int_eq(sip_frame_next(text.data, limits.max_message, &limits, &frame),
			 SIP_FRAME_HEADER_TOO_LARGE);
	/* ... and not before. */
	ck_assert_int_eq(sip_frame_next(text.data, limits.max_message - 1, &limits, &frame),
			 SIP_FRAME_NEED_MORE);
	/* Too many headers waits for the end, so this limit wins. */
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_HEADER_TOO_LARGE);
	free(text.data);
}
END_TEST

START_TEST(test_large_body_too_large)
{
	struct text text = { 0 };
	struct sip_frame frame;

	/* A 200 KiB message whose header block is small: the body is the problem. */
	text_add(&text,
		 "MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS "Content-Length: %u\r\n\r\n",
		 200 * 1024);
	size_t header_len = text.len;
	text_add_repeated(&text, 'x', 200 * 1024);
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_TOO_LARGE);
	ck_assert_uint_eq(frame.header_len, header_len);
	ck_assert_uint_eq(frame.body_len, 200 * 1024);
	free(text.data);
}
END_TEST

START_TEST(test_header_block_exactly_max_message)
{
	struct text text = { 0 };
	struct sip_frame frame;
	struct sip_frame_limits limits = default_limits;

	text_add(&text, "OPTIONS sip:bob@example.test SIP/2.0\r\nX: ");
	text_add_repeated(&text, 'y', 100);
	text_add(&text, "\r\n\r\n");
	limits.max_message = text.len;
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &limits, &frame), SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.total, text.len);
	limits.max_message = text.len - 1;
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &limits, &frame),
			 SIP_FRAME_HEADER_TOO_LARGE);
	free(text.data);
}
END_TEST

START_TEST(test_line_too_long)
{
	struct text text = { 0 };
	struct sip_frame frame;

	text_add(&text, "MESSAGE sip:bob@example.test SIP/2.0\r\n" HEADERS "X-Long: ");
	text_add_repeated(&text, 'a', 10 * 1000);
	text_add(&text, "\r\nContent-Length: 0\r\n\r\n");
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_LINE_TOO_LONG);
	/* At once: the end of the line has not arrived yet. */
	size_t line_start = strstr(text.data, "X-Long") - text.data;
	ck_assert_int_eq(sip_frame_next(text.data, line_start + 8192, &default_limits, &frame),
			 SIP_FRAME_NEED_MORE);
	ck_assert_int_eq(sip_frame_next(text.data, line_start + 8193, &default_limits, &frame),
			 SIP_FRAME_LINE_TOO_LONG);
	free(text.data);
}
END_TEST

START_TEST(test_line_at_max_line)
{
	struct text text = { 0 };
	struct sip_frame frame;

	/* 8192 bytes of line, not counting its CRLF, is allowed. */
	text_add(&text, "OPTIONS sip:bob@example.test SIP/2.0\r\nX: ");
	text_add_repeated(&text, 'a', 8192 - 3);
	text_add(&text, "\r\n\r\n");
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.total, text.len);

	struct sip_frame_limits limits = default_limits;
	limits.max_line = 8191;
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &limits, &frame),
			 SIP_FRAME_LINE_TOO_LONG);
	free(text.data);
}
END_TEST

START_TEST(test_long_start_line)
{
	struct text text = { 0 };
	struct sip_frame frame;

	text_add(&text, "OPTIONS sip:");
	text_add_repeated(&text, 'b', 9000);
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_LINE_TOO_LONG);
	free(text.data);
}
END_TEST

START_TEST(test_folded_line_too_long)
{
	struct text text = { 0 };
	struct sip_frame frame;

	/* Each physical line is short, the header they make is not. */
	text_add(&text, "OPTIONS sip:bob@example.test SIP/2.0\r\nSubject: ");
	text_add_repeated(&text, 'a', 5000);
	text_add(&text, "\r\n ");
	text_add_repeated(&text, 'b', 5000);
	text_add(&text, "\r\n\r\n");
	ck_assert_int_eq(sip_frame_next(text.data, text.len, &default_limits, &frame),
			 SIP_FRAME_LINE_TOO_LONG);
	free(text.data);
}
END_TEST

START_TEST(test_continuation_lines)
{
	static const char message[] = "OPTIONS sip:bob@example.test SIP/2.0\r\n"
				      "Subject: one\r\n"
				      "  two\r\n"
				      "Content-Length:\r\n"
				      "\t 2\r\n"
				      "\r\n"
				      "ok";
	struct sip_frame frame;
	struct sip_frame_limits limits = default_limits;

	limits.max_headers = 2;
	ck_assert_int_eq(sip_frame_next(message, strlen(message), &limits, &frame),
			 SIP_FRAME_MESSAGE);
	ck_assert_uint_eq(frame.body_len, 2);
	ck_assert_uint_eq(frame.total, strlen(message));
}
END_TEST

/* Keep-alives and empty lines */

START_TEST(test_ping)
{
	struct sip_frame frame;

	ck_assert_int_eq(frame_text("\r\n\r\n", &frame), SIP_FRAME_PING);
	ck_assert_uint_eq(frame.total, 4);
	ck_assert_int_eq(frame_text("\r\n\r\nOPTIONS", &frame), SIP_FRAME_PING);
	ck_assert_uint_eq(frame.total, 4);
	ck_assert_int_eq(frame_text("\r\n\r\n\r\n\r\n", &frame), SIP_FRAME_PING);
	ck_assert_uint_eq(frame.total, 4);
}
END_TEST

START_TEST(test_skip)
{
	struct sip_frame frame;

	ck_assert_int_eq(frame_text("\r\nOPTIONS", &frame), SIP_FRAME_SKIP);
	ck_assert_uint_eq(frame.total, 2);
	ck_assert_int_eq(frame_text("\r\n\rX", &frame), SIP_FRAME_SKIP);
	ck_assert_uint_eq(frame.total, 2);
	ck_assert_int_eq(frame_text("\r\n\n", &frame), SIP_FRAME_SKIP);
	ck_assert_uint_eq(frame.total, 2);
}
END_TEST

START_TEST(test_need_more)
{
	struct sip_frame frame;

	ck_assert_int_eq(frame_text("", &frame), SIP_FRAME_NEED_MORE);
	ck_assert_int_eq(frame_text("\r", &frame), SIP_FRAME_NEED_MORE);
	ck_assert_int_eq(frame_text("\r\n", &frame), SIP_FRAME_NEED_MORE);
	ck_assert_int_eq(frame_text("\r\n\r", &frame), SIP_FRAME_NEED_MORE);
	ck_assert_int_eq(frame_text("OPTIONS sip:bob@example.test SIP/2.0\r\n", &frame),
			 SIP_FRAME_NEED_MORE);
	ck_assert_int_eq(frame_text("OPTIONS sip:bob@example.test SIP/2.0\r\n\r", &frame),
			 SIP_FRAME_NEED_MORE);
	ck_assert_uint_eq(frame.total, 0);
	ck_assert_uint_eq(frame.header_len, 0);
}
END_TEST

static Suite *framing_suite(void)
{
	Suite *suite = suite_create("framing");
	TCase *messages = tcase_create("messages");
	tcase_add_test(messages, test_one_message_exact);
	tcase_add_test(messages, test_split_byte_by_byte);
	tcase_add_test(messages, test_two_messages_back_to_back);
	tcase_add_test(messages, test_body_bytes_are_not_headers);
	tcase_add_test(messages, test_lf_line_ends_refused);
	tcase_add_test(messages, test_bare_cr_and_control_bytes_refused);
	tcase_add_test(messages, test_body_may_hold_any_byte);
	tcase_add_test(messages, test_one_message_check);
	suite_add_tcase(suite, messages);

	TCase *length = tcase_create("content-length");
	tcase_add_test(length, test_compact_length);
	tcase_add_test(length, test_length_case_and_white_space);
	tcase_add_test(length, test_missing_length_is_zero);
	tcase_add_test(length, test_bad_lengths);
	tcase_add_test(length, test_repeated_length);
	tcase_add_test(length, test_length_over_max_message);
	tcase_add_test(length, test_length_at_max_message);
	suite_add_tcase(suite, length);

	TCase *limits = tcase_create("limits");
	tcase_add_test(limits, test_too_many_headers);
	tcase_add_test(limits, test_header_count_edge);
	tcase_add_test(limits, test_header_block_too_large);
	tcase_add_test(limits, test_large_body_too_large);
	tcase_add_test(limits, test_header_block_exactly_max_message);
	tcase_add_test(limits, test_line_too_long);
	tcase_add_test(limits, test_line_at_max_line);
	tcase_add_test(limits, test_long_start_line);
	tcase_add_test(limits, test_folded_line_too_long);
	tcase_add_test(limits, test_continuation_lines);
	suite_add_tcase(suite, limits);

	TCase *keepalive = tcase_create("keep-alive");
	tcase_add_test(keepalive, test_ping);
	tcase_add_test(keepalive, test_skip);
	tcase_add_test(keepalive, test_need_more);
	suite_add_tcase(suite, keepalive);
	return suite;
}

int main(void)
{
	return test_suite_run(framing_suite());
}
