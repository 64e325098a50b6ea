/* SPDX-License-Identifier: ISC */
/* Unit tests for message: parsing with libosip2, every refusal of the
 * request checks with its status and reason, reading (bytes kept, two
 * readings refused), and stateless responses built from the received lines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "test_suite.h"

#define REQUEST_LINE	 "INVITE sip:bob@example.test SIP/2.0\r\n"
#define HDR_VIA		 "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK776asdhds\r\n"
#define HDR_FROM	 "From: \"Alice\" <sip:alice@example.test>;tag=1928301774\r\n"
#define HDR_TO		 "To: <sip:bob@example.test>\r\n"
#define HDR_CALL_ID	 "Call-ID: a84b4c76e66710@pc33.example.test\r\n"
#define HDR_CSEQ	 "CSeq: 314159 INVITE\r\n"
#define HDR_MAX_FORWARDS "Max-Forwards: 70\r\n"
#define HDR_END		 "Content-Length: 0\r\n\r\n"

static osip_message_t *parse(const char *text)
{
	osip_message_t *msg = sip_message_parse(text, strlen(text));
	ck_assert_msg(msg != NULL, "osip refused:\n%s", text);
	return msg;
}

/* Parsing */

START_TEST(test_parse_request)
{
	osip_message_t *msg = parse(REQUEST_LINE HDR_VIA
				    "Via: SIP/2.0/TLS 198.51.100.7;branch=z9hG4bK2, "
				    "SIP/2.0/TLS 203.0.113.9;branch=z9hG4bK3\r\n" HDR_FROM HDR_TO
					    HDR_CALL_ID HDR_CSEQ HDR_MAX_FORWARDS HDR_END);
	struct sip_reject reject = { .status = -1, .reason = "unset" };

	ck_assert_str_eq(msg->sip_method, "INVITE");
	ck_assert_str_eq(msg->req_uri->host, "example.test");
	ck_assert_int_eq(osip_list_size(&msg->vias), 3);
	ck_assert_str_eq(msg->from->url->username, "alice");
	ck_assert_str_eq(msg->cseq->number, "314159");
	ck_assert(sip_request_check(msg, &reject));
	ck_assert_int_eq(reject.status, 0);
	ck_assert_ptr_null(reject.reason);
	osip_message_free(msg);
}
END_TEST

START_TEST(test_parse_response)
{
	osip_message_t *msg = parse(
		"SIP/2.0 180 Ringing\r\n" HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);

	ck_assert_ptr_null(msg->sip_method);
	ck_assert_int_eq(msg->status_code, 180);
	ck_assert_str_eq(msg->reason_phrase, "Ringing");
	ck_assert(sip_response_check(msg));
	osip_message_free(msg);
}
END_TEST

static void assert_refused(const char *text, size_t len)
{
	osip_message_t *msg = sip_message_parse(text, len);
	ck_assert_msg(msg == NULL, "accepted:\n%.*s", (int)len, text);
}

START_TEST(test_parse_garbage)
{
	static const char with_nul[] =
		REQUEST_LINE HDR_VIA "X-Nul: a\0b\r\n" HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END;

	assert_refused("", 0);
	assert_refused("hello world\r\n\r\n", 15);
	assert_refused("\r\n\r\n", 4);
	assert_refused("INVITE SIP/2.0\r\n\r\n", 18);
	assert_refused("INVITE sip: SIP/2.0\r\n" HDR_VIA HDR_END,
		       strlen("INVITE sip: SIP/2.0\r\n" HDR_VIA HDR_END));
	assert_refused(with_nul, sizeof(with_nul) - 1);
	/* Two of a header that may appear once. */
	const char *twice =
		REQUEST_LINE HDR_VIA HDR_FROM HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END;
	assert_refused(twice, strlen(twice));
}
END_TEST

/* Content-Length is framing's: osip never sees it, so neither a bad value
 * nor a second one keeps the header block from being read (to answer it). */
START_TEST(test_parse_ignores_content_length)
{
	const char *no_number = REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
		"Content-Length: abc\r\n\r\n";
	const char *twice = REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
		"Content-Length: 1\r\nl: 1\r\n\r\n";
	osip_message_t *msg = parse(no_number);

	ck_assert_str_eq(msg->cseq->number, "314159");
	osip_message_free(msg);
	msg = parse(twice);
	ck_assert_str_eq(msg->cseq->number, "314159");
	osip_message_free(msg);
}
END_TEST

/* framing.h: when Content-Length is bad or too large the header block alone
 * is parsed, to answer the sender before closing. */
static void assert_header_block_parses(const char *length_lines)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "%s" HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
		 "Content-Type: multipart/mixed;boundary=zz\r\n%s\r\n",
		 REQUEST_LINE, length_lines);
	struct sip_message *msg = sip_message_read(text, strlen(text));
	ck_assert_msg(msg != NULL, "refused:\n%s", text);
	ck_assert_int_eq(osip_list_size(&msg->osip->bodies), 0);

	size_t len;
	char *response = sip_response_build(msg, 513, "Message Too Large", NULL, &len);
	ck_assert_ptr_nonnull(response);
	ck_assert_ptr_nonnull(strstr(response, "\r\nCSeq: 314159 INVITE\r\n"));
	free(response);
	sip_message_free(msg);
}

START_TEST(test_parse_header_block_alone)
{
	assert_header_block_parses("Content-Length: 100000\r\n");
	assert_header_block_parses("Content-Length: abc\r\n");
	assert_header_block_parses("Content-Length: -1\r\n");
	assert_header_block_parses("Content-Length: 99999999999999999999999999\r\n");
	assert_header_block_parses("Content-Length: 5\r\nl: 6\r\n");
	assert_header_block_parses("Content-Length:\r\n  12x\r\n");
}
END_TEST

START_TEST(test_parse_reads_only_len)
{
	/* No NUL after the message: osip must not read past LEN (ASan sees it). */
	static const char text[] =
		REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END;
	size_t len = sizeof(text) - 1;
	char *copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);

	osip_message_t *msg = sip_message_parse(copy, len);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(msg->call_id->number, "a84b4c76e66710");
	osip_message_free(msg);
	free(copy);
}
END_TEST

/* Request checks */

static void assert_rejected(const char *text, int status, const char *reason)
{
	osip_message_t *msg = parse(text);
	struct sip_reject reject = { 0 };

	ck_assert_msg(!sip_request_check(msg, &reject), "passed:\n%s", text);
	ck_assert_int_eq(reject.status, status);
	ck_assert_str_eq(reject.reason, reason);
	osip_message_free(msg);
}

static void assert_passes(const char *text)
{
	osip_message_t *msg = parse(text);
	struct sip_reject reject = { .status = -1 };

	ck_assert_msg(sip_request_check(msg, &reject), "refused (%d %s):\n%s", reject.status,
		      reject.reason, text);
	ck_assert_int_eq(reject.status, 0);
	osip_message_free(msg);
}

START_TEST(test_missing_headers)
{
	assert_rejected(REQUEST_LINE HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END, 400,
			"Missing Via");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END, 400,
			"Missing From");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_CALL_ID HDR_CSEQ HDR_END, 400,
			"Missing To");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CSEQ HDR_END, 400,
			"Missing Call-ID");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_END, 400,
			"Missing CSeq");
	/* osip drops a header with an empty value: the same as a missing one. */
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID "CSeq:\r\n" HDR_END, 400,
			"Missing CSeq");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO "Call-ID:\r\n" HDR_CSEQ HDR_END, 400,
			"Missing Call-ID");
}
END_TEST

START_TEST(test_bad_cseq)
{
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			"CSeq: abc INVITE\r\n" HDR_END,
			400, "Bad CSeq");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			"CSeq: -1 INVITE\r\n" HDR_END,
			400, "Bad CSeq");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			"CSeq: 2147483648 INVITE\r\n" HDR_END,
			400, "Bad CSeq");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			"CSeq: 99999999999999999999999 INVITE\r\n" HDR_END,
			400, "Bad CSeq");
	assert_passes(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
		      "CSeq: 2147483647 INVITE\r\n" HDR_END);
	assert_passes(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
		      "CSeq: 0 INVITE\r\n" HDR_END);
}
END_TEST

START_TEST(test_cseq_method_mismatch)
{
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			"CSeq: 1 OPTIONS\r\n" HDR_END,
			400, "CSeq Method Mismatch");
	/* Methods are case-sensitive. */
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			"CSeq: 1 invite\r\n" HDR_END,
			400, "CSeq Method Mismatch");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			"CSeq: 1 INVITE x\r\n" HDR_END,
			400, "CSeq Method Mismatch");
}
END_TEST

START_TEST(test_max_forwards)
{
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
			"Max-Forwards: abc\r\n" HDR_END,
			400, "Bad Max-Forwards");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
			"Max-Forwards: 256\r\n" HDR_END,
			400, "Bad Max-Forwards");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
			"Max-Forwards: -1\r\n" HDR_END,
			400, "Bad Max-Forwards");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
			"Max-Forwards: 70\r\nmax-forwards: 70\r\n" HDR_END,
			400, "Bad Max-Forwards");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
			"Max-Forwards: 0\r\n" HDR_END,
			483, "Too Many Hops");
	assert_passes(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
		      "Max-Forwards: 255\r\n" HDR_END);
	assert_passes(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
		      "Max-Forwards: 1\r\n" HDR_END);
	/* Missing: the proxy adds one. */
	assert_passes(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);
}
END_TEST

START_TEST(test_too_many_hops_after_other_checks)
{
	/* A request that is both malformed and out of hops is malformed. */
	assert_rejected(REQUEST_LINE HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
			"Max-Forwards: 0\r\n" HDR_END,
			400, "Missing Via");
}
END_TEST

START_TEST(test_bad_from_to)
{
	assert_rejected(REQUEST_LINE HDR_VIA
			"From: <tel:+15551234>;tag=1\r\n" HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END,
			400, "Bad From");
	assert_rejected(REQUEST_LINE HDR_VIA HDR_FROM
			"To: <tel:+15551234>\r\n" HDR_CALL_ID HDR_CSEQ HDR_END,
			400, "Bad To");
	/* No From tag: RFC 3261 wants one, old clients omit it; accepted. */
	assert_passes(REQUEST_LINE HDR_VIA
		      "From: <sip:alice@example.test>\r\n" HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);
}
END_TEST

START_TEST(test_bad_request_uri)
{
	osip_message_t *msg =
		parse(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);
	struct sip_reject reject = { 0 };

	/* osip refuses to parse a request without one; one made in code may lack it. */
	osip_uri_free(msg->req_uri);
	msg->req_uri = NULL;
	ck_assert(!sip_request_check(msg, &reject));
	ck_assert_int_eq(reject.status, 400);
	ck_assert_str_eq(reject.reason, "Bad Request-URI");
	osip_message_free(msg);

	/* A tel: URI has no host and is a fine Request-URI. */
	assert_passes("INVITE tel:+15551234 SIP/2.0\r\n" HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID
			      HDR_CSEQ HDR_END);
}
END_TEST

START_TEST(test_version)
{
	/* osip accepts any version; only SIP/2.0 is SIP/2.0. */
	assert_rejected("INVITE sip:bob@example.test SIP/3.0\r\n" HDR_VIA HDR_FROM HDR_TO
				HDR_CALL_ID HDR_CSEQ HDR_END,
			505, "Version Not Supported");
}
END_TEST

/* Response checks */

static void assert_response_refused(const char *text)
{
	osip_message_t *msg = parse(text);
	ck_assert_msg(!sip_response_check(msg), "passed:\n%s", text);
	osip_message_free(msg);
}

START_TEST(test_response_check)
{
	assert_response_refused("SIP/2.0 200 OK\r\n" HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);
	assert_response_refused("SIP/2.0 200 OK\r\n" HDR_VIA HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);
	assert_response_refused("SIP/2.0 200 OK\r\n" HDR_VIA HDR_FROM HDR_CALL_ID HDR_CSEQ HDR_END);
	assert_response_refused("SIP/2.0 200 OK\r\n" HDR_VIA HDR_FROM HDR_TO HDR_CSEQ HDR_END);
	assert_response_refused("SIP/2.0 200 OK\r\n" HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_END);
	/* osip takes any status code. */
	assert_response_refused(
		"SIP/2.0 99 Odd\r\n" HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);
	assert_response_refused(
		"SIP/2.0 700 Odd\r\n" HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);

	osip_message_t *request =
		parse(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END);
	ck_assert(!sip_response_check(request));
	osip_message_free(request);
}
END_TEST

/* Reading: the bytes kept as they came, and the refusals of what osip and
 * the edge's own index would read differently. */

static struct sip_message *read_text(const char *text)
{
	struct sip_message *message = sip_message_read(text, strlen(text));
	ck_assert_msg(message != NULL, "not read:\n%s", text);
	return message;
}

static void assert_read_refusal(const char *text, const char *refusal)
{
	struct sip_message *message = read_text(text);
	ck_assert_msg(message->refusal != NULL && strcmp(message->refusal, refusal) == 0,
		      "refusal %s, expected %s, for:\n%s",
		      message->refusal ? message->refusal : "none", refusal, text);
	sip_message_free(message);
}

START_TEST(test_read_keeps_bytes)
{
	static const char text[] = REQUEST_LINE
		"v: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1\r\n" HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
		"Content-Type: text/plain;x\r\nl: 5\r\n\r\nhello";
	struct sip_message *message = read_text(text);

	ck_assert_ptr_null(message->refusal);
	ck_assert_uint_eq(message->length, strlen(text));
	ck_assert_int_eq(memcmp(message->data, text, message->length), 0);
	ck_assert_uint_eq(message->headers.n_fields, 7);
	ck_assert_uint_eq(message->headers.counts[SIP_HEADER_VIA], 1);
	ck_assert_uint_eq(message->headers.block_end, strlen(text) - 5);
	ck_assert_str_eq(message->osip->sip_method, "INVITE");
	sip_message_free(message);
}
END_TEST

START_TEST(test_read_refuses_two_readings)
{
	/* osip ignores an empty value after a comma; the edits would count it. */
	assert_read_refusal(REQUEST_LINE
			    "Via: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1,\r\n" HDR_FROM HDR_TO
				    HDR_CALL_ID HDR_CSEQ HDR_END,
			    "Ambiguous Via");
	assert_read_refusal(
		REQUEST_LINE HDR_VIA
		"Route: <sip:a@192.0.2.9;lr>,\r\n" HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END,
		"Ambiguous Route");
	/* osip reads the first of two, another stack may read the last (two
	 * From, To or Content-Type osip refuses itself). */
	assert_read_refusal(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ
			    "Max-Forwards: 70\r\nMax-Forwards: 69\r\n" HDR_END,
			    "Duplicate Max-Forwards");
	assert_read_refusal("INV(ITE sip:bob@example.test SIP/2.0\r\n" HDR_VIA HDR_FROM HDR_TO
				    HDR_CALL_ID HDR_CSEQ HDR_END,
			    "Bad Start Line");
	assert_read_refusal(REQUEST_LINE HDR_VIA
			    "X(y): z\r\n" HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END,
			    "Bad Header Name");
}
END_TEST

START_TEST(test_read_unparseable)
{
	static const char text[] = "INVITE sip: SIP/2.0\r\n" HDR_VIA HDR_END;
	ck_assert_ptr_null(sip_message_read(text, strlen(text)));
}
END_TEST

/* Responses */

#define THREE_VIAS                                                                          \
	"Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1;rport=5061;received=192.0.2.1\r\n" \
	"v: SIP/2.0/TLS 198.51.100.7;branch=z9hG4bK2, SIP/2.0/TLS "                         \
	"[2001:db8::9]:5061;branch=z9hG4bK3\r\n"

static char *build(const char *request_text, int status, const char *reason, const char *extra,
		   size_t *len)
{
	struct sip_message *request = read_text(request_text);
	char *text = sip_response_build(request, status, reason, extra, len);
	sip_message_free(request);
	return text;
}

/* The tag the response gave To. */
static void response_tag(const char *response, char *tag, size_t size)
{
	const char *to = strstr(response, "\r\nTo: ");
	ck_assert_ptr_nonnull(to);
	const char *start = strstr(to, ";tag=");
	ck_assert_ptr_nonnull(start);
	start += 5;
	size_t length = strcspn(start, ";\r\n");
	ck_assert_uint_lt(length, size);
	memcpy(tag, start, length);
	tag[length] = '\0';
}

START_TEST(test_response_exact)
{
	static const char request[] =
		REQUEST_LINE THREE_VIAS HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_MAX_FORWARDS
		"Contact: <sip:alice@192.0.2.1:5061;transport=tls>\r\n" HDR_END;
	size_t len;
	char *text = build(request, 403, "Forbidden", NULL, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));

	char tag[64];
	response_tag(text, tag, sizeof(tag));
	ck_assert_uint_eq(strlen(tag), 16);
	ck_assert_uint_eq(strspn(tag, "0123456789abcdef"), 16);

	char expected[2048];
	snprintf(expected, sizeof(expected),
		 "SIP/2.0 403 Forbidden\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1;rport=5061;received=192.0.2.1\r\n"
		 "v: SIP/2.0/TLS 198.51.100.7;branch=z9hG4bK2, SIP/2.0/TLS "
		 "[2001:db8::9]:5061;branch=z9hG4bK3\r\n"
		 "From: \"Alice\" <sip:alice@example.test>;tag=1928301774\r\n"
		 "To: <sip:bob@example.test>;tag=%s\r\n"
		 "Call-ID: a84b4c76e66710@pc33.example.test\r\n"
		 "CSeq: 314159 INVITE\r\n"
		 "Content-Length: 0\r\n"
		 "\r\n",
		 tag);
	ck_assert_str_eq(text, expected);

	/* What we write, we can read. */
	osip_message_t *response = sip_message_parse(text, len);
	ck_assert_ptr_nonnull(response);
	ck_assert(sip_response_check(response));
	osip_message_free(response);
	free(text);
}
END_TEST

START_TEST(test_response_tag_stable)
{
	static const char request[] =
		REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END;
	static const char other_call[] = REQUEST_LINE HDR_VIA HDR_FROM HDR_TO
		"Call-ID: another@pc33.example.test\r\n" HDR_CSEQ HDR_END;
	size_t len;
	char first_tag[64], second_tag[64], other_tag[64];

	char *first = build(request, 480, "Temporarily Unavailable", NULL, &len);
	char *second = build(request, 480, "Temporarily Unavailable", NULL, &len);
	char *other = build(other_call, 480, "Temporarily Unavailable", NULL, &len);
	response_tag(first, first_tag, sizeof(first_tag));
	response_tag(second, second_tag, sizeof(second_tag));
	response_tag(other, other_tag, sizeof(other_tag));

	/* Retransmissions get the same answer, other requests another tag. */
	ck_assert_str_eq(first, second);
	ck_assert_str_eq(first_tag, second_tag);
	ck_assert_str_ne(first_tag, other_tag);
	free(first);
	free(second);
	free(other);
}
END_TEST

START_TEST(test_response_keeps_tag)
{
	size_t len;
	char *text = build(REQUEST_LINE HDR_VIA HDR_FROM
			   "To: <sip:bob@example.test>;tag=abc\r\n" HDR_CALL_ID HDR_CSEQ HDR_END,
			   481, "Call/Transaction Does Not Exist", NULL, &len);
	ck_assert_ptr_nonnull(strstr(text, "\r\nTo: <sip:bob@example.test>;tag=abc\r\n"));
	ck_assert_ptr_null(strstr(text, "tag=abc;"));
	free(text);

	/* 100 Trying gets no tag. */
	text = build(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END, 100,
		     "Trying", NULL, &len);
	ck_assert_ptr_nonnull(strstr(text, "\r\nTo: <sip:bob@example.test>\r\n"));
	free(text);

	/* An empty tag is copied as it came, not doubled. */
	text = build(REQUEST_LINE HDR_VIA HDR_FROM
		     "To: <sip:bob@example.test>;tag=\r\n" HDR_CALL_ID HDR_CSEQ HDR_END,
		     403, "Forbidden", NULL, &len);
	ck_assert_ptr_nonnull(strstr(text, "\r\nTo: <sip:bob@example.test>;tag=\r\n"));
	free(text);

	/* The To line as received, trailing white space and compact name too. */
	text = build(REQUEST_LINE HDR_VIA HDR_FROM
		     "t:  <sip:bob@example.test> \r\n" HDR_CALL_ID HDR_CSEQ HDR_END,
		     403, "Forbidden", NULL, &len);
	ck_assert_ptr_nonnull(strstr(text, "\r\nt:  <sip:bob@example.test>;tag="));
	free(text);
}
END_TEST

START_TEST(test_response_extra)
{
	size_t len;
	char *text = build(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END, 503,
			   "Service Unavailable",
			   "Retry-After: 30\r\nWarning: 399 edge \"busy\"\r\n", &len);
	const char *tail = "CSeq: 314159 INVITE\r\n"
			   "Retry-After: 30\r\n"
			   "Warning: 399 edge \"busy\"\r\n"
			   "Content-Length: 0\r\n\r\n";
	ck_assert_uint_ge(len, strlen(tail));
	ck_assert_str_eq(text + len - strlen(tail), tail);
	free(text);
}
END_TEST

START_TEST(test_response_refused)
{
	size_t len = 12345;

	ck_assert_ptr_null(build(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CSEQ HDR_END, 400,
				 "Missing Call-ID", NULL, &len));
	ck_assert_ptr_null(build(REQUEST_LINE HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END, 400,
				 "Missing Via", NULL, &len));
	ck_assert_ptr_null(build(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_END, 400,
				 "Missing CSeq", NULL, &len));
	ck_assert_ptr_null(build(REQUEST_LINE HDR_VIA HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END, 400,
				 "Missing From", NULL, &len));
	ck_assert_ptr_null(build(REQUEST_LINE HDR_VIA HDR_FROM HDR_CALL_ID HDR_CSEQ HDR_END, 400,
				 "Missing To", NULL, &len));
	/* Nothing a caller passes can break the message apart. */
	ck_assert_ptr_null(build(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END,
				 700, "Odd", NULL, &len));
	ck_assert_ptr_null(build(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END,
				 400, "Bad\r\nX: y", NULL, &len));
	ck_assert_ptr_null(build(REQUEST_LINE HDR_VIA HDR_FROM HDR_TO HDR_CALL_ID HDR_CSEQ HDR_END,
				 503, "Busy", "Retry-After: 30", &len));
	ck_assert_uint_eq(len, 12345);
}
END_TEST

/* URIs */

START_TEST(test_uri_domain)
{
	osip_message_t *msg = parse("INVITE tel:+15551234 SIP/2.0\r\n" HDR_VIA HDR_FROM HDR_TO
					    HDR_CALL_ID HDR_CSEQ HDR_END);

	ck_assert_str_eq(sip_uri_domain(msg->from->url), "example.test");
	ck_assert_str_eq(sip_uri_domain(msg->to->url), "example.test");
	ck_assert_ptr_null(sip_uri_domain(msg->req_uri));
	ck_assert_ptr_null(sip_uri_domain(NULL));
	osip_message_free(msg);
}
END_TEST

static Suite *message_suite(void)
{
	Suite *suite = suite_create("message");
	TCase *parsing = tcase_create("parse");
	tcase_add_test(parsing, test_parse_request);
	tcase_add_test(parsing, test_parse_response);
	tcase_add_test(parsing, test_parse_garbage);
	tcase_add_test(parsing, test_parse_ignores_content_length);
	tcase_add_test(parsing, test_parse_header_block_alone);
	tcase_add_test(parsing, test_parse_reads_only_len);
	suite_add_tcase(suite, parsing);

	TCase *checks = tcase_create("checks");
	tcase_add_test(checks, test_missing_headers);
	tcase_add_test(checks, test_bad_cseq);
	tcase_add_test(checks, test_cseq_method_mismatch);
	tcase_add_test(checks, test_max_forwards);
	tcase_add_test(checks, test_too_many_hops_after_other_checks);
	tcase_add_test(checks, test_bad_from_to);
	tcase_add_test(checks, test_bad_request_uri);
	tcase_add_test(checks, test_version);
	tcase_add_test(checks, test_response_check);
	suite_add_tcase(suite, checks);

	TCase *reading = tcase_create("read");
	tcase_add_test(reading, test_read_keeps_bytes);
	tcase_add_test(reading, test_read_refuses_two_readings);
	tcase_add_test(reading, test_read_unparseable);
	suite_add_tcase(suite, reading);

	TCase *responses = tcase_create("responses");
	tcase_add_test(responses, test_response_exact);
	tcase_add_test(responses, test_response_tag_stable);
	tcase_add_test(responses, test_response_keeps_tag);
	tcase_add_test(responses, test_response_extra);
	tcase_add_test(responses, test_response_refused);
	tcase_add_test(responses, test_uri_domain);
	suite_add_tcase(suite, responses);
	return suite;
}

int main(void)
{
	sip_message_init();
	return test_suite_run(message_suite());
}
