/* Unit tests for rewrite: the exact serialised message after each change a
 * relayed request or response goes through. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "rewrite.h"

#define BRANCH "z9hG4bKsxTOKEN.0123456789abcdef"
#define TOKEN  "AAEAAAAHAAAAAAAAAAe2Lq0GWyHHhMr0t1w"

static osip_message_t *parse(const char *text)
{
	osip_message_t *msg = sip_message_parse(text, strlen(text));

	ck_assert_msg(msg != NULL, "cannot parse:\n%s", text);
	return msg;
}

static void assert_serialised(const osip_message_t *msg, const char *expected)
{
	size_t len = 0;
	char *text = sip_message_serialise(msg, &len);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_str_eq(text, expected);
	free(text);
}

/* From access (127.0.0.1:443) to the pool (127.0.0.2:5061). */
static struct sip_request_rewrite to_pool(void)
{
	return (struct sip_request_rewrite){
		.arrival = { "127.0.0.1", 443 },
		.departure = { "127.0.0.2", 5061 },
		.branch = BRANCH,
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
#define OUR_VIA(hostport)	   "Via: SIP/2.0/TLS " hostport ";branch=" BRANCH "\r\n"
#define OUR_URI(hostport)	   "<sip:" TOKEN "@" hostport ";transport=tls;lr>"
#define OUR_RECORD_ROUTE(hostport) "Record-Route: " OUR_URI(hostport) "\r\n"
#define OUR_PATH(hostport)	   "Path: " OUR_URI(hostport) "\r\n"
#define EXTERNAL		   "127.0.0.1:443"
#define INTERNAL		   "127.0.0.2:5061"

START_TEST(test_via_on_top_and_max_forwards_counted_down)
{
	osip_message_t *msg = parse(INVITE_START INVITE_END "Max-Forwards: 10\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			  "Max-Forwards: 9\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

START_TEST(test_max_forwards_inserted_when_absent)
{
	osip_message_t *msg = parse(INVITE_START INVITE_END "Subject: hi\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			  "Subject: hi\r\n"
			  "Max-Forwards: 70\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

START_TEST(test_max_forwards_one_becomes_zero)
{
	osip_message_t *msg = parse(INVITE_START INVITE_END "Max-Forwards: 1\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			  "Max-Forwards: 0\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

START_TEST(test_double_record_route_order)
{
	osip_message_t *msg =
		parse(INVITE_START "Record-Route: <sip:pool.example.test;lr>\r\n" INVITE_END
				   "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.record_route = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	/* Departure (internal) on top, arrival (external) below it. */
	assert_serialised(
		msg,
		INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA OUR_RECORD_ROUTE(INTERNAL)
			OUR_RECORD_ROUTE(
				EXTERNAL) "Record-Route: <sip:pool.example.test;lr>\r\n" INVITE_END
					  "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

/* From the pool to an access client: internal below, external on top, and
 * our Via names the external side. */
START_TEST(test_double_record_route_towards_access)
{
	osip_message_t *msg = parse(INVITE_START INVITE_END "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = {
		.arrival = { "127.0.0.2", 5061 },
		.departure = { "127.0.0.1", 443 },
		.branch = BRANCH,
		.flow_token = TOKEN,
		.record_route = true,
	};

	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(EXTERNAL) CLIENT_VIA OUR_RECORD_ROUTE(EXTERNAL)
				       OUR_RECORD_ROUTE(INTERNAL) INVITE_END
			  "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

START_TEST(test_path_added)
{
	osip_message_t *msg = parse(REGISTER_START REGISTER_END "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.add_path = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, REGISTER_LINE OUR_VIA(INTERNAL) CLIENT_VIA REGISTER_END OUR_PATH(
				       INTERNAL) "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

START_TEST(test_path_goes_above_existing_paths)
{
	osip_message_t *msg =
		parse(REGISTER_START REGISTER_END "Supported: path\r\n"
						  "Path: <sip:proxy1.example.net;lr>, "
						  "<sip:proxy2.example.net;lr>\r\n"
						  "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.add_path = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, REGISTER_LINE OUR_VIA(INTERNAL) CLIENT_VIA REGISTER_END OUR_PATH(
				       INTERNAL) "Supported: path\r\n"
						 "Path: <sip:proxy1.example.net;lr>\r\n"
						 "Path: <sip:proxy2.example.net;lr>\r\n"
						 "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
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
	osip_message_t *msg;
	struct sip_request_rewrite rewrite = to_pool();

	snprintf(in, sizeof(in), "%s%s%s\r\nMax-Forwards: 70\r\n%s", REGISTER_START REGISTER_HEAD,
		 "Contact: ", contact, NO_BODY);
	snprintf(out, sizeof(out), "%s%s%s\r\n%sMax-Forwards: 69\r\n%s",
		 REGISTER_LINE OUR_VIA(INTERNAL) CLIENT_VIA REGISTER_HEAD, "Contact: ", contact,
		 path, NO_BODY);
	msg = parse(in);
	rewrite.add_path = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, out);
	osip_message_free(msg);
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

/* Every spelling and every occurrence of the three identity headers, among
 * others that must stay (P-Asserted-Service is not an identity). */
#define IDENTITY_HEADERS                                                   \
	"P-Asserted-Identity: <sip:ceo@example.test>, <tel:+15551234>\r\n" \
	"Subject: hi\r\n"                                                  \
	"p-preferred-identity: <sip:ceo@example.test>\r\n"                 \
	"P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n"    \
	"REMOTE-PARTY-ID: <sip:ceo@example.test>;party=calling\r\n"        \
	"P-ASSERTED-IDENTITY: \"Boss\" <sip:boss@example.test>\r\n"        \
	"Remote-Party-Id: <sip:cfo@example.test>;party=calling\r\n"

/* RFC 3325 §5: an identity asserted from outside the trust domain is
 * removed; the pool trusts whatever the edge relays. */
START_TEST(test_identity_headers_stripped)
{
	osip_message_t *msg =
		parse(INVITE_START INVITE_END IDENTITY_HEADERS "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.strip_identity = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			  "Subject: hi\r\n"
			  "P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n"
			  "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

/* Without strip_identity (a request from the pool) they all stay. */
START_TEST(test_identity_headers_kept_from_pool)
{
	osip_message_t *msg =
		parse(INVITE_START INVITE_END IDENTITY_HEADERS "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			  "P-Asserted-Identity: <sip:ceo@example.test>\r\n"
			  "P-Asserted-Identity: <tel:+15551234>\r\n"
			  "Subject: hi\r\n"
			  "P-preferred-identity: <sip:ceo@example.test>\r\n"
			  "P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n"
			  "REMOTE-PARTY-ID: <sip:ceo@example.test>;party=calling\r\n"
			  "P-ASSERTED-IDENTITY: \"Boss\" <sip:boss@example.test>\r\n"
			  "Remote-Party-Id: <sip:cfo@example.test>;party=calling\r\n"
			  "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

/* Three entries in two Route headers, one of them comma-separated. */
#define THREE_ROUTES                                              \
	"Route: " OUR_URI(EXTERNAL) ", " OUR_URI(INTERNAL) "\r\n" \
							   "Route: <sip:pool.example.test;lr>\r\n"

START_TEST(test_routes_popped)
{
	osip_message_t *msg =
		parse(INVITE_START THREE_ROUTES INVITE_END "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.routes_to_pop = 2;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA
			  "Route: <sip:pool.example.test;lr>\r\n" INVITE_END
			  "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);

	msg = parse(INVITE_START THREE_ROUTES INVITE_END "Max-Forwards: 70\r\n" NO_BODY);
	rewrite.routes_to_pop = 3;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA(INTERNAL) CLIENT_VIA INVITE_END
			  "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
}
END_TEST

/* A request that cannot be rewritten is refused and left as it came. */
START_TEST(test_refusals_leave_message_unchanged)
{
	static const char *const texts[] = {
		INVITE_START THREE_ROUTES INVITE_END "Max-Forwards: 70\r\n" NO_BODY,
		INVITE_START INVITE_END "Max-Forwards: 0\r\n" NO_BODY,
		INVITE_START INVITE_END "Max-Forwards: ten\r\n" NO_BODY,
	};
	struct sip_request_rewrite rewrite = to_pool();

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		osip_message_t *msg = parse(texts[i]);
		size_t len;
		char *before = sip_message_serialise(msg, &len);

		ck_assert_ptr_nonnull(before);
		rewrite.routes_to_pop = i == 0 ? 4 : 0;
		ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), -1);
		assert_serialised(msg, before);
		free(before);
		osip_message_free(msg);
	}
}
END_TEST

START_TEST(test_record_route_and_path_need_a_token)
{
	osip_message_t *msg = parse(INVITE_START INVITE_END "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = to_pool();

	rewrite.flow_token = NULL;
	rewrite.record_route = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), -1);
	rewrite.record_route = false;
	rewrite.add_path = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), -1);
	osip_message_free(msg);
}
END_TEST

/* RFC 3261 §16.6 step 4: a SIPS Request-URI or next Route makes our
 * Record-Route entries SIPS URIs. */
START_TEST(test_record_route_sips_when_request_is)
{
	static const char sips_line[] = "INVITE sips:bob@example.test SIP/2.0\r\n";
	char text[1024], expected[2048];
	struct sip_request_rewrite rewrite = to_pool();
	osip_message_t *msg;

	rewrite.record_route = true;
	snprintf(text, sizeof(text), "%s" CLIENT_VIA INVITE_END "Max-Forwards: 70\r\n" NO_BODY,
		 sips_line);
	msg = parse(text);
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	snprintf(expected, sizeof(expected),
		 "%s" OUR_VIA(INTERNAL) CLIENT_VIA
		 "Record-Route: <sips:" TOKEN "@" INTERNAL ";lr>\r\nRecord-Route: <sips:" TOKEN
		 "@" EXTERNAL ";lr>\r\n" INVITE_END "Max-Forwards: 69\r\n" NO_BODY,
		 sips_line);
	assert_serialised(msg, expected);
	osip_message_free(msg);

	/* The next Route (after ours are popped) decides too. */
	msg = parse(INVITE_START "Route: <sips:pool.example.test;lr>\r\n" INVITE_END
				 "Max-Forwards: 70\r\n" NO_BODY);
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	osip_record_route_t *top = osip_list_get(&msg->record_routes, 0);
	ck_assert_str_eq(top->url->scheme, "sips");
	osip_message_free(msg);
}
END_TEST

START_TEST(test_ipv6_hosts_bracketed)
{
	osip_message_t *msg = parse(INVITE_START INVITE_END "Max-Forwards: 70\r\n" NO_BODY);
	struct sip_request_rewrite rewrite = {
		.arrival = { "[2001:db8::1]", 443 },
		.departure = { "2001:db8::2", 5061 },
		.branch = BRANCH,
		.flow_token = TOKEN,
		.record_route = true,
	};

	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(msg, INVITE_LINE OUR_VIA("[2001:db8::2]:5061")
				       CLIENT_VIA OUR_RECORD_ROUTE("[2001:db8::2]:5061")
					       OUR_RECORD_ROUTE("[2001:db8::1]:443") INVITE_END
			  "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);

	msg = parse(REGISTER_START REGISTER_END "Max-Forwards: 70\r\n" NO_BODY);
	rewrite.record_route = false;
	rewrite.add_path = true;
	ck_assert_int_eq(sip_request_rewrite(msg, &rewrite), 0);
	assert_serialised(
		msg, REGISTER_LINE OUR_VIA("[2001:db8::2]:5061") CLIENT_VIA REGISTER_END OUR_PATH(
			     "[2001:db8::2]:5061") "Max-Forwards: 69\r\n" NO_BODY);
	osip_message_free(msg);
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
	osip_message_t *msg = parse("SIP/2.0 180 Ringing\r\n" OUR_VIA(INTERNAL) RESPONSE_END);

	ck_assert_int_eq(sip_response_rewrite(msg), 0);
	assert_serialised(msg, "SIP/2.0 180 Ringing\r\n" RESPONSE_END);
	osip_message_free(msg);
}
END_TEST

START_TEST(test_response_without_via_refused)
{
	osip_message_t *msg = parse("SIP/2.0 180 Ringing\r\n" OUR_VIA(INTERNAL) RESPONSE_END);

	ck_assert_int_eq(sip_response_rewrite(msg), 0);
	ck_assert_int_eq(sip_response_rewrite(msg), 0);
	ck_assert_int_eq(sip_response_rewrite(msg), 0);
	ck_assert_int_eq(sip_response_rewrite(msg), -1);
	osip_message_free(msg);
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
	tcase_add_test(requests, test_refusals_leave_message_unchanged);
	tcase_add_test(requests, test_record_route_and_path_need_a_token);
	tcase_add_test(requests, test_ipv6_hosts_bracketed);
	tcase_add_test(requests, test_record_route_sips_when_request_is);
	suite_add_tcase(suite, requests);

	tcase_add_test(responses, test_response_loses_top_via_only);
	tcase_add_test(responses, test_response_without_via_refused);
	suite_add_tcase(suite, responses);
	return suite;
}

int main(void)
{
	SRunner *runner;
	int failed;

	sip_message_init();
	runner = srunner_create(rewrite_suite());
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
