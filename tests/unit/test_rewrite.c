/* SPDX-License-Identifier: ISC */
/* Unit tests for rewrite: the exact bytes that leave after each change a
 * relayed request or response goes through: the edge's own lines after
 * the start line, every received line as it came but for the edits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "message.h"
#include "rewrite.h"
#include "test_suite.h"

#define BRANCH "z9hG4bKsxTOKEN.0123456789abcdef"
#define TOKEN  "AAEAAAAHAAAAAAAAAAe2Lq0GWyHHhMr0t1w"
#define STAMP  "692cda800123456789abcdef"

static struct sip_message *read_text(const char *text)
{
	struct sip_message *msg = sip_message_read(text, strlen(text));

	ck_assert_msg(msg != NULL, "cannot read:\n%s", text);
	return msg;
}

/* The request TEXT relayed with REWRITE, or NULL when it was refused. */
static char *forward(const char *text, const struct sip_request_rewrite *rewrite)
{
	struct sip_message *msg = read_text(text);
	size_t len = 0;
	char *out = sip_request_forward(msg, rewrite, &len);

	if (out != NULL) {
		ck_assert_uint_eq(len, strlen(out));
		ck_assert_msg(sip_frame_is_one_message(out, len), "not one message:\n%s", out);
	}
	sip_message_free(msg);
	return out;
}

static void assert_forwarded(const char *text, const struct sip_request_rewrite *rewrite,
			     const char *expected)
{
	char *out = forward(text, rewrite);

	ck_assert_msg(out != NULL, "refused:\n%s", text);
	ck_assert_str_eq(out, expected);
	free(out);
}

static void assert_response_forwarded(const char *text, const char *expected)
{
	struct sip_message *msg = read_text(text);
	size_t len = 0;
	char *out = sip_response_forward(msg, &len);

	ck_assert_msg(out != NULL, "refused:\n%s", text);
	ck_assert_uint_eq(len, strlen(out));
	ck_assert_str_eq(out, expected);
	free(out);
	sip_message_free(msg);
}

/* From access (127.0.0.1:443) to the pool (127.0.0.2:5061). */
static struct sip_request_rewrite to_pool(void)
{
	return (struct sip_request_rewrite){
		.arrival = { "127.0.0.1", 443 },
		.departure = { "127.0.0.2", 5061 },
		.branch = BRANCH,
		.stamp = STAMP,
		.flow_token = TOKEN,
	};
}

#define CLIENT_VIA   "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKclient1\r\n"
#define INVITE_LINE  "INVITE sip:bob@example.test SIP/2.0\r\n"
#define INVITE_START INVITE_LINE CLIENT_VIA
#define INVITE_END                                  \
	"From: <sip:alice@example.test>;tag=a1\r\n" \
	"To: <sip:bob@example.test>\r\n"            \
	"Call-ID: call1@192.0.2.10\r\n"             \
	"CSeq: 1 INVITE\r\n"
#define REGISTER_LINE  "REGISTER sip:example.test SIP/2.0\r\n"
#define REGISTER_START REGISTER_LINE CLIENT_VIA
#define REGISTER_END                                \
	"From: <sip:alice@example.test>;tag=a1\r\n" \
	"To: <sip:alice@example.test>\r\n"          \
	"Call-ID: reg1@192.0.2.10\r\n"              \
	"CSeq: 1 REGISTER\r\n"                      \
	"Contact: <sip:alice@192.0.2.10:5061;transport=tls>\r\n"
#define NO_BODY "Content-Length: 0\r\n\r\n"

/* What we add, for our side at HOSTPORT. */
#define OUR_VIA(hostport)	   "Via: SIP/2.0/TLS " hostport ";branch=" BRANCH ";sxt=" STAMP "\r\n"
#define OUR_URI(hostport)	   "<sip:" TOKEN "@" hostport ";transport=tls;lr>"
#define OUR_RECORD_ROUTE(hostport) "Record-Route: " OUR_URI(hostport) "\r\n"
#define OUR_PATH(hostport)	   "Path: " OUR_URI(hostport) "\r\n"
#define EXTERNAL		   "127.0.0.1:443"
#define INTERNAL		   "127.0.0.2:5061"

START_TEST(test_via_on_top_and_max_forwards_counted_down)
{
	struct sip_request_rewrite rewrite = to_pool();

	assert_forwarded(INVITE_START INVITE_END "Max-Forwards: 10\r\n" NO_BODY, &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			 "Max-Forwards: 9\r\n" NO_BODY);
}
END_TEST

START_TEST(test_max_forwards_inserted_when_absent)
{
	struct sip_request_rewrite rewrite = to_pool();

	assert_forwarded(INVITE_START INVITE_END "Subject: hi\r\n" NO_BODY, &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) "Max-Forwards: 70\r\n" CLIENT_VIA INVITE_END
						       "Subject: hi\r\n" NO_BODY);
}
END_TEST

START_TEST(test_max_forwards_one_becomes_zero)
{
	struct sip_request_rewrite rewrite = to_pool();

	assert_forwarded(INVITE_START INVITE_END "Max-Forwards:  1 \r\n" NO_BODY, &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			 "Max-Forwards: 0\r\n" NO_BODY);
}
END_TEST

START_TEST(test_double_record_route_order)
{
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.record_route = true;
	/* Departure (internal) on top, arrival (external) below it, both above
	 * the Record-Route that came. */
	assert_forwarded(INVITE_START "Record-Route: <sip:pool.example.test;lr>\r\n" INVITE_END
				      "Max-Forwards: 70\r\n" NO_BODY,
			 &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) OUR_RECORD_ROUTE(INTERNAL)
				 OUR_RECORD_ROUTE(EXTERNAL) CLIENT_VIA
			 "Record-Route: <sip:pool.example.test;lr>\r\n" INVITE_END
			 "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

/* From the pool to an access client: internal below, external on top, and
 * our Via names the external side. */
START_TEST(test_double_record_route_towards_access)
{
	struct sip_request_rewrite rewrite = {
		.arrival = { "127.0.0.2", 5061 },
		.departure = { "127.0.0.1", 443 },
		.branch = BRANCH,
		.stamp = STAMP,
		.flow_token = TOKEN,
		.record_route = true,
	};

	assert_forwarded(INVITE_START INVITE_END "Max-Forwards: 70\r\n" NO_BODY, &rewrite,
			 INVITE_LINE OUR_VIA(EXTERNAL) OUR_RECORD_ROUTE(EXTERNAL)
				 OUR_RECORD_ROUTE(INTERNAL) CLIENT_VIA INVITE_END
			 "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

START_TEST(test_path_added)
{
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.add_path = true;
	assert_forwarded(REGISTER_START REGISTER_END "Max-Forwards: 70\r\n" NO_BODY, &rewrite,
			 REGISTER_LINE OUR_VIA(INTERNAL) OUR_PATH(INTERNAL) CLIENT_VIA REGISTER_END
			 "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

START_TEST(test_path_goes_above_existing_paths)
{
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.add_path = true;
	assert_forwarded(REGISTER_START REGISTER_END "Supported: path\r\n"
						     "Path: <sip:proxy1.example.net;lr>, "
						     "<sip:proxy2.example.net;lr>\r\n"
						     "Max-Forwards: 70\r\n" NO_BODY,
			 &rewrite,
			 REGISTER_LINE OUR_VIA(INTERNAL) OUR_PATH(INTERNAL) CLIENT_VIA REGISTER_END
			 "Supported: path\r\n"
			 "Path: <sip:proxy1.example.net;lr>, <sip:proxy2.example.net;lr>\r\n"
			 "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

#define OUTBOUND_PATH(hostport) "Path: <sip:" TOKEN "@" hostport ";transport=tls;lr;ob>\r\n"
#define REGISTER_HEAD                               \
	"From: <sip:alice@example.test>;tag=a1\r\n" \
	"To: <sip:alice@example.test>\r\n"          \
	"Call-ID: reg1@192.0.2.10\r\n"              \
	"CSeq: 1 REGISTER\r\n"
#define INSTANCE "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""

/* A REGISTER with CONTACT, relayed with add_path, must come out with PATH. */
static void assert_path_for_contact(const char *contact, const char *path)
{
	char in[1024], out[1024];
	struct sip_request_rewrite rewrite = to_pool();

	snprintf(in, sizeof(in), "%s%s%s\r\nMax-Forwards: 70\r\n%s", REGISTER_START REGISTER_HEAD,
		 "Contact: ", contact, NO_BODY);
	snprintf(out, sizeof(out), "%s%s%s%s%s\r\nMax-Forwards: 69\r\n%s",
		 REGISTER_LINE OUR_VIA(INTERNAL), path, CLIENT_VIA REGISTER_HEAD,
		 "Contact: ", contact, NO_BODY);
	rewrite.add_path = true;
	assert_forwarded(in, &rewrite, out);
}

/* RFC 5626 §5.1: an outbound client's REGISTER (a Contact with reg-id) gets
 * our Path with "ob"; any other REGISTER gets it without. */
START_TEST(test_path_ob_for_outbound_client)
{
	assert_path_for_contact("<sip:alice@192.0.2.10:5061;transport=tls>;reg-id=1;" INSTANCE,
				OUTBOUND_PATH(INTERNAL));
	/* Parameter names compare case-insensitively. */
	assert_path_for_contact("<sip:alice@192.0.2.10:5061;transport=tls>;Reg-ID=2",
				OUTBOUND_PATH(INTERNAL));
	/* Any of several Contacts. */
	assert_path_for_contact("<sip:alice@192.0.2.10:5061;transport=tls>\r\n"
				"Contact: <sip:alice@192.0.2.10:5062;transport=tls>;reg-id=1",
				OUTBOUND_PATH(INTERNAL));
	/* Not outbound: an instance id alone, or reg-id inside the URI. */
	assert_path_for_contact("<sip:alice@192.0.2.10:5061;transport=tls>;" INSTANCE,
				OUR_PATH(INTERNAL));
	assert_path_for_contact("<sip:alice@192.0.2.10:5061;transport=tls;reg-id=1>",
				OUR_PATH(INTERNAL));
	assert_path_for_contact("*", OUR_PATH(INTERNAL));
}
END_TEST

/* Every spelling and every occurrence of the identity headers, white space
 * before the colon included, among others that must stay
 * (P-Asserted-Service is not an identity). */
#define IDENTITY_HEADERS                                                   \
	"P-Asserted-Identity: <sip:ceo@example.test>, <tel:+15551234>\r\n" \
	"Subject: hi\r\n"                                                  \
	"p-preferred-identity: <sip:ceo@example.test>\r\n"                 \
	"P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n"    \
	"REMOTE-PARTY-ID: <sip:ceo@example.test>;party=calling\r\n"        \
	"P-ASSERTED-IDENTITY \t: \"Boss\" <sip:boss@example.test>\r\n"     \
	"ms-edge-proxy-message-trust: ms-source-type=InternalUser\r\n"     \
	"Remote-Party-Id: <sip:cfo@example.test>;party=calling,\r\n"       \
	" <sip:cfo2@example.test>\r\n"                                     \
	"MS-EDGE-PROXY-MESSAGE-TRUST:ms-source-type=AutoGenerated\r\n"

/* RFC 3325 §5: an identity asserted from outside the trust domain is
 * removed; the pool trusts whatever the edge relays. */
START_TEST(test_identity_headers_stripped)
{
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.strip_identity = true;
	assert_forwarded(INVITE_START INVITE_END IDENTITY_HEADERS "Max-Forwards: 70\r\n" NO_BODY,
			 &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			 "Subject: hi\r\n"
			 "P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n"
			 "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

/* Without strip_identity (a request from the pool) they all stay. */
START_TEST(test_identity_headers_kept_from_pool)
{
	struct sip_request_rewrite rewrite = to_pool();

	assert_forwarded(INVITE_START INVITE_END IDENTITY_HEADERS "Max-Forwards: 70\r\n" NO_BODY,
			 &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END IDENTITY_HEADERS
			 "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

/* Three entries in two Route headers, one of them comma-separated. */
#define THREE_ROUTES                                              \
	"Route: " OUR_URI(EXTERNAL) ", " OUR_URI(INTERNAL) "\r\n" \
							   "Route: <sip:pool.example.test;lr>\r\n"

START_TEST(test_routes_popped)
{
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.routes_to_pop = 1;
	assert_forwarded(
		INVITE_START THREE_ROUTES INVITE_END "Max-Forwards: 70\r\n" NO_BODY, &rewrite,
		INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA
		"Route: " OUR_URI(INTERNAL) "\r\n"
					    "Route: <sip:pool.example.test;lr>\r\n" INVITE_END
					    "Max-Forwards: 69\r\n" NO_BODY);
	rewrite.routes_to_pop = 2;
	assert_forwarded(
		INVITE_START THREE_ROUTES INVITE_END "Max-Forwards: 70\r\n" NO_BODY, &rewrite,
		INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA
		"Route: <sip:pool.example.test;lr>\r\n" INVITE_END "Max-Forwards: 69\r\n" NO_BODY);
	rewrite.routes_to_pop = 3;
	assert_forwarded(
		INVITE_START THREE_ROUTES INVITE_END "Max-Forwards: 70\r\n" NO_BODY, &rewrite,
		INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

/* A request that cannot be rewritten is refused. */
START_TEST(test_refusals)
{
	static const char *const texts[] = {
		INVITE_START THREE_ROUTES INVITE_END "Max-Forwards: 70\r\n" NO_BODY,
		INVITE_START INVITE_END "Max-Forwards: 0\r\n" NO_BODY,
		INVITE_START INVITE_END "Max-Forwards: ten\r\n" NO_BODY,
		INVITE_START INVITE_END "Max-Forwards: 256\r\n" NO_BODY,
		/* one the reading refused (osip reads one Via, the edits two) */
		INVITE_LINE
		"Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK1,\r\n" INVITE_END NO_BODY,
	};
	struct sip_request_rewrite rewrite = to_pool();

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		rewrite.routes_to_pop = i == 0 ? 4 : 0;
		ck_assert_ptr_null(forward(texts[i], &rewrite));
	}
}
END_TEST

START_TEST(test_record_route_and_path_need_a_token)
{
	static const char text[] = INVITE_START INVITE_END "Max-Forwards: 70\r\n" NO_BODY;
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.flow_token = NULL;
	rewrite.record_route = true;
	ck_assert_ptr_null(forward(text, &rewrite));
	rewrite.record_route = false;
	rewrite.add_path = true;
	ck_assert_ptr_null(forward(text, &rewrite));
}
END_TEST

/* RFC 3261 §16.6 step 4: a SIPS Request-URI or next Route makes our
 * Record-Route entries SIPS URIs. */
START_TEST(test_record_route_sips_when_request_is)
{
	static const char sips_line[] = "INVITE sips:bob@example.test SIP/2.0\r\n";
	char text[1024], expected[2048];
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.record_route = true;
	snprintf(text, sizeof(text), "%s" CLIENT_VIA INVITE_END "Max-Forwards: 70\r\n" NO_BODY,
		 sips_line);
	snprintf(expected, sizeof(expected),
		 "%s" OUR_VIA(INTERNAL) "Record-Route: <sips:" TOKEN "@" INTERNAL
					";lr>\r\nRecord-Route: <sips:" TOKEN "@" EXTERNAL
					";lr>\r\n" CLIENT_VIA INVITE_END
					"Max-Forwards: 69\r\n" NO_BODY,
		 sips_line);
	assert_forwarded(text, &rewrite, expected);

	/* The next Route (after ours are popped) decides too. */
	rewrite.routes_to_pop = 1;
	char *out =
		forward(INVITE_START
			"Route: " OUR_URI(EXTERNAL) ", <sips:pool.example.test;lr>\r\n" INVITE_END
						    "Max-Forwards: 70\r\n" NO_BODY,
			&rewrite);
	ck_assert_ptr_nonnull(strstr(out, "\r\nRecord-Route: <sips:"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nRoute: <sips:pool.example.test;lr>\r\n"));
	free(out);
}
END_TEST

START_TEST(test_ipv6_hosts_bracketed)
{
	struct sip_request_rewrite rewrite = {
		.arrival = { "[2001:db8::1]", 443 },
		.departure = { "2001:db8::2", 5061 },
		.branch = BRANCH,
		.stamp = STAMP,
		.flow_token = TOKEN,
		.record_route = true,
	};

	assert_forwarded(INVITE_START INVITE_END "Max-Forwards: 70\r\n" NO_BODY, &rewrite,
			 INVITE_LINE OUR_VIA("[2001:db8::2]:5061")
				 OUR_RECORD_ROUTE("[2001:db8::2]:5061")
					 OUR_RECORD_ROUTE("[2001:db8::1]:443") CLIENT_VIA INVITE_END
			 "Max-Forwards: 69\r\n" NO_BODY);
	rewrite.record_route = false;
	rewrite.add_path = true;
	assert_forwarded(REGISTER_START REGISTER_END "Max-Forwards: 70\r\n" NO_BODY, &rewrite,
			 REGISTER_LINE OUR_VIA("[2001:db8::2]:5061") OUR_PATH("[2001:db8::2]:5061")
				 CLIENT_VIA REGISTER_END "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

/* The review's smuggling: libosip2 wrote "Content-Type: text/plain;x" back
 * without its value and line end, so the next header (Max-Forwards here,
 * Content-Length in a response) was glued on and the body was read as a
 * second message.  Now every received line goes out as it came, the body
 * behind the same Content-Length, and the result frames as one message. */
#define SMUGGLED_REQUEST                                    \
	"MESSAGE sip:bob@example.test SIP/2.0\r\n"          \
	"Via: SIP/2.0/TLS 10.0.0.66;branch=z9hG4bKevil\r\n" \
	"From: <sip:eve@example.test>;tag=e1\r\n"           \
	"To: <sip:bob@example.test>\r\n"                    \
	"Call-ID: smuggle@10.0.0.66\r\n"                    \
	"CSeq: 1 MESSAGE\r\n"                               \
	"P-Asserted-Identity: <sip:ceo@example.test>\r\n"   \
	"Max-Forwards: 70\r\n"                              \
	"Content-Length: 0\r\n\r\n"
#define SMUGGLING_HEAD                                        \
	"MESSAGE sip:bob@example.test SIP/2.0\r\n" CLIENT_VIA \
	"From: <sip:alice@example.test>;tag=a1\r\n"           \
	"To: <sip:bob@example.test>\r\n"                      \
	"Call-ID: carrier@192.0.2.10\r\n"                     \
	"CSeq: 1 MESSAGE\r\n"                                 \
	"Content-Type: text/plain;x\r\n"

START_TEST(test_content_type_without_value_smuggles_nothing)
{
	char text[2048], expected[2048];
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.strip_identity = true;
	snprintf(text, sizeof(text),
		 SMUGGLING_HEAD "Max-Forwards: 70\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(SMUGGLED_REQUEST), SMUGGLED_REQUEST);
	snprintf(expected, sizeof(expected),
		 "MESSAGE sip:bob@example.test SIP/2.0\r\n" OUR_VIA(INTERNAL) CLIENT_VIA
		 "From: <sip:alice@example.test>;tag=a1\r\n"
		 "To: <sip:bob@example.test>\r\n"
		 "Call-ID: carrier@192.0.2.10\r\n"
		 "CSeq: 1 MESSAGE\r\n"
		 "Content-Type: text/plain;x\r\n"
		 "Max-Forwards: 69\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(SMUGGLED_REQUEST), SMUGGLED_REQUEST);
	assert_forwarded(text, &rewrite, expected);

	/* And the response that carried it the other way. */
	snprintf(text, sizeof(text),
		 "SIP/2.0 200 OK\r\n" OUR_VIA(EXTERNAL) CLIENT_VIA
		 "From: <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>;tag=b1\r\n"
		 "Call-ID: carrier@192.0.2.10\r\nCSeq: 1 MESSAGE\r\nContent-Type: application/s; "
		 "p\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen(SMUGGLED_REQUEST), SMUGGLED_REQUEST);
	snprintf(expected, sizeof(expected), "%s", text);
	memmove(expected + strlen("SIP/2.0 200 OK\r\n"),
		expected + strlen("SIP/2.0 200 OK\r\n" OUR_VIA(EXTERNAL)),
		strlen(expected) - strlen("SIP/2.0 200 OK\r\n" OUR_VIA(EXTERNAL)) + 1);
	assert_response_forwarded(text, expected);
}
END_TEST

START_TEST(test_content_length_added_when_absent)
{
	struct sip_request_rewrite rewrite = to_pool();

	assert_forwarded(INVITE_START INVITE_END "Max-Forwards: 70\r\n\r\n", &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			 "Max-Forwards: 69\r\n" NO_BODY);
}
END_TEST

/* Folded and compact lines the edge does not edit go out byte for byte. */
START_TEST(test_other_lines_untouched)
{
	struct sip_request_rewrite rewrite = to_pool();
#define ODD_LINES               \
	"Subject: folded\r\n"   \
	" \t subject\r\n"       \
	"k: path, gruu\r\n"     \
	"X-MS-Custom : one\r\n" \
	"c: text/plain\r\n"     \
	"l: 5\r\n\r\nhello"

	assert_forwarded(INVITE_START INVITE_END "Max-Forwards: 70\r\n" ODD_LINES, &rewrite,
			 INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			 "Max-Forwards: 69\r\n" ODD_LINES);
}
END_TEST

#define RESPONSE_END                                                 \
	"Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKclient1\r\n" \
	"Via: SIP/2.0/TLS 192.0.2.11:5061;branch=z9hG4bKclient0\r\n" \
	"From: <sip:alice@example.test>;tag=a1\r\n"                  \
	"To: <sip:bob@example.test>;tag=b1\r\n"                      \
	"Call-ID: call1@192.0.2.10\r\n"                              \
	"CSeq: 1 INVITE\r\n"                                         \
	"Content-Length: 0\r\n\r\n"

START_TEST(test_response_loses_top_via_only)
{
	assert_response_forwarded("SIP/2.0 180 Ringing\r\n" OUR_VIA(INTERNAL) RESPONSE_END,
				  "SIP/2.0 180 Ringing\r\n" RESPONSE_END);
	/* Ours first in a comma list, compact name, white space before the colon. */
	assert_response_forwarded(
		"SIP/2.0 180 Ringing\r\nv : SIP/2.0/TLS " INTERNAL ";branch=" BRANCH ";sxt=" STAMP
		" ,\r\n SIP/2.0/TLS 192.0.2.9;branch=z9hG4bK9\r\n" RESPONSE_END,
		"SIP/2.0 180 Ringing\r\nv: SIP/2.0/TLS 192.0.2.9;branch=z9hG4bK9\r\n" RESPONSE_END);
}
END_TEST

START_TEST(test_response_without_via_refused)
{
	struct sip_message *msg =
		read_text("SIP/2.0 180 Ringing\r\n"
			  "From: <sip:alice@example.test>;tag=a1\r\n"
			  "To: <sip:bob@example.test>;tag=b1\r\n"
			  "Call-ID: call1@192.0.2.10\r\nCSeq: 1 INVITE\r\n" NO_BODY);
	size_t len = 0;

	ck_assert_ptr_null(sip_response_forward(msg, &len));
	sip_message_free(msg);
}
END_TEST

static Suite *rewrite_suite(void)
{
	Suite *suite = suite_create("rewrite");
	TCase *requests = tcase_create("requests");
	TCase *responses = tcase_create("responses");

	tcase_add_test(requests, test_via_on_top_and_max_forwards_counted_down);
	tcase_add_test(requests, test_max_forwards_inserted_when_absent);
	tcase_add_test(requests, test_max_forwards_one_becomes_zero);
	tcase_add_test(requests, test_double_record_route_order);
	tcase_add_test(requests, test_double_record_route_towards_access);
	tcase_add_test(requests, test_path_added);
	tcase_add_test(requests, test_path_goes_above_existing_paths);
	tcase_add_test(requests, test_path_ob_for_outbound_client);
	tcase_add_test(requests, test_identity_headers_stripped);
	tcase_add_test(requests, test_identity_headers_kept_from_pool);
	tcase_add_test(requests, test_routes_popped);
	tcase_add_test(requests, test_refusals);
	tcase_add_test(requests, test_record_route_and_path_need_a_token);
	tcase_add_test(requests, test_ipv6_hosts_bracketed);
	tcase_add_test(requests, test_record_route_sips_when_request_is);
	tcase_add_test(requests, test_content_type_without_value_smuggles_nothing);
	tcase_add_test(requests, test_content_length_added_when_absent);
	tcase_add_test(requests, test_other_lines_untouched);
	suite_add_tcase(suite, requests);

	tcase_add_test(responses, test_response_loses_top_via_only);
	tcase_add_test(responses, test_response_without_via_refused);
	suite_add_tcase(suite, responses);
	return suite;
}

int main(void)
{
	sip_message_init();
	return test_suite_run(rewrite_suite());
}
