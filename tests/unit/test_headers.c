/* SPDX-License-Identifier: ISC */
/* Unit tests for headers: the index of start line and fields, the kinds of
 * full and compact names, what the index refuses (with every field still
 * indexed), and splitting comma lists the way the edits need. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "test_suite.h"

#define START "MESSAGE sip:bob@example.test SIP/2.0\r\n"

static void index_text(const char *text, struct sip_headers *headers, const char *expected_reason)
{
	const char *reason = NULL;
	int result = sip_headers_index(text, strlen(text), headers, &reason);

	if (expected_reason == NULL) {
		ck_assert_msg(result == 0, "refused (%s):\n%s", reason ? reason : "?", text);
		ck_assert_ptr_null(reason);
	} else {
		ck_assert_msg(result == -1 && reason != NULL &&
				      strcmp(reason, expected_reason) == 0,
			      "reason %s, expected %s, for:\n%s", reason ? reason : "none",
			      expected_reason, text);
	}
}

static void assert_refused(const char *text, const char *reason)
{
	struct sip_headers headers;
	index_text(text, &headers, reason);
	sip_headers_clear(&headers);
}

START_TEST(test_fields_and_kinds)
{
	static const char text[] = START "v: SIP/2.0/TLS a;branch=z9hG4bK1\r\n"
					 "Route : <sip:r@x;lr>\r\n"
					 "f:<sip:a@x>;tag=1\r\n"
					 "Subject: one\r\n"
					 "\ttwo\r\n"
					 "P-Asserted-Identity: <sip:x@y>\r\n"
					 "MS-Edge-Proxy-Message-Trust: x\r\n"
					 "l: 2\r\n"
					 "\r\nhi";
	struct sip_headers headers;

	index_text(text, &headers, NULL);
	ck_assert_uint_eq(headers.n_fields, 7);
	ck_assert_uint_eq(headers.start_line_end, strlen(START) - 2);
	ck_assert_uint_eq(headers.block_end, strlen(text) - 2);
	ck_assert_int_eq(headers.fields[0].kind, SIP_HEADER_VIA);
	ck_assert_int_eq(headers.fields[1].kind, SIP_HEADER_ROUTE);
	ck_assert_int_eq(text[headers.fields[1].value - 1], ':');
	ck_assert_int_eq(headers.fields[2].kind, SIP_HEADER_FROM);
	ck_assert_int_eq(headers.fields[3].kind, SIP_HEADER_OTHER);
	/* A folded field ends with its last continuation line. */
	ck_assert_int_eq(memcmp(text + headers.fields[3].end - 3, "two", 3), 0);
	ck_assert_int_eq(headers.fields[4].kind, SIP_HEADER_IDENTITY);
	ck_assert_int_eq(headers.fields[5].kind, SIP_HEADER_IDENTITY);
	ck_assert_int_eq(headers.fields[6].kind, SIP_HEADER_CONTENT_LENGTH);
	ck_assert_uint_eq(headers.counts[SIP_HEADER_IDENTITY], 2);
	sip_headers_clear(&headers);
}
END_TEST

START_TEST(test_start_lines)
{
	assert_refused("SIP/2.0 200 OK\r\nl: 0\r\n\r\n", NULL);
	assert_refused("SIP/2.0 200 OK\r\n\r\n", NULL);
	assert_refused("SIP/2.0 180 \r\n\r\n", NULL);
	/* Another version is for the checks (505), not the form. */
	assert_refused("OPTIONS sip:a@b SIP/3.0\r\n\r\n", NULL);
	assert_refused("INV(ITE sip:a@b SIP/2.0\r\n\r\n", "Bad Start Line");
	assert_refused("INVITE  sip:a@b SIP/2.0\r\n\r\n", "Bad Start Line");
	assert_refused("INVITE sip:a@b\tSIP/2.0\r\n\r\n", "Bad Start Line");
	assert_refused("INVITE sip:a@b SIP/2.0 \r\n\r\n", "Bad Start Line");
	assert_refused("INVITE sip:a@b HTTP/1.1\r\n\r\n", "Bad Start Line");
	assert_refused("INVITE sip:a@b\xc3\xa9 SIP/2.0\r\n\r\n", "Bad Start Line");
	assert_refused("SIP/2.0 20 OK\r\n\r\n", "Bad Start Line");
	assert_refused("SIP/2.0 200OK\r\n\r\n", "Bad Start Line");
	assert_refused(START " folded: onto the start line\r\n\r\n", "Folded Start Line");
}
END_TEST

START_TEST(test_refusals_keep_indexing)
{
	struct sip_headers headers;

	index_text(START "X(y): z\r\nCSeq: 1 MESSAGE\r\n\r\n", &headers, "Bad Header Name");
	ck_assert_uint_eq(headers.n_fields, 2);
	ck_assert_int_eq(headers.fields[0].kind, SIP_HEADER_OTHER);
	ck_assert_int_eq(headers.fields[1].kind, SIP_HEADER_CSEQ);
	sip_headers_clear(&headers);

	assert_refused(START "No colon here\r\n\r\n", "Bad Header Name");
	assert_refused(START ": no name\r\n\r\n", "Bad Header Name");
	assert_refused(START "Content Length: 5\r\n\r\n", "Bad Header Name");
	assert_refused(START "To: <sip:a@b>\r\nt: <sip:c@d>\r\n\r\n", "Duplicate To");
	assert_refused(START "Call-ID: a\r\ni: b\r\n\r\n", "Duplicate Call-ID");
	assert_refused(START "CSeq: 1 MESSAGE\r\nCSeq: 2 MESSAGE\r\n\r\n", "Duplicate CSeq");
	assert_refused(START "Max-Forwards: 1\r\nmax-forwards: 70\r\n\r\n",
		       "Duplicate Max-Forwards");
	assert_refused(START "f: <sip:a@b>\r\nFrom: <sip:c@d>\r\n\r\n", "Duplicate From");
	/* Lists may repeat. */
	assert_refused(START "Via: a\r\nVia: b\r\nRoute: <sip:x>\r\nRoute: <sip:y>\r\n\r\n", NULL);
}
END_TEST

static size_t values_of(const char *field_text, struct sip_value *values, size_t max,
			struct sip_headers *headers, const char **text)
{
	static char buffer[512];
	snprintf(buffer, sizeof(buffer), START "%s\r\n\r\n", field_text);
	*text = buffer;
	index_text(buffer, headers, NULL);
	return sip_header_values(buffer, &headers->fields[0], values, max);
}

START_TEST(test_values)
{
	struct sip_headers headers;
	struct sip_value values[4];
	const char *text;

	ck_assert_uint_eq(values_of("Route: <sip:a,b@x;lr> , \"c, d\" <sip:e@x>,\r\n <sip:f@x>",
				    values, 4, &headers, &text),
			  3);
	ck_assert_int_eq(strncmp(text + values[0].start, "<sip:a,b@x;lr>", 14), 0);
	ck_assert_uint_eq(values[0].end - values[0].start, 14);
	ck_assert_int_eq(strncmp(text + values[1].start, "\"c, d\" <sip:e@x>", 16), 0);
	ck_assert_int_eq(strncmp(text + values[2].start, "<sip:f@x>", 9), 0);
	sip_headers_clear(&headers);

	/* An escaped quote does not end the quoted string; an empty value counts. */
	ck_assert_uint_eq(values_of("Via: a;x=\"q\\\",r\", b,", values, 4, &headers, &text), 3);
	ck_assert_uint_eq(values[2].start, values[2].end);
	sip_headers_clear(&headers);

	/* More values than room: all counted, MAX written. */
	ck_assert_uint_eq(values_of("Via: a, b, c", values, 1, &headers, &text), 3);
	ck_assert_int_eq(text[values[0].start], 'a');
	sip_headers_clear(&headers);
}
END_TEST

static Suite *headers_suite(void)
{
	Suite *suite = suite_create("headers");
	TCase *index = tcase_create("index");
	tcase_add_test(index, test_fields_and_kinds);
	tcase_add_test(index, test_start_lines);
	tcase_add_test(index, test_refusals_keep_indexing);
	tcase_add_test(index, test_values);
	suite_add_tcase(suite, index);
	return suite;
}

int main(void)
{
	return test_suite_run(headers_suite());
}
