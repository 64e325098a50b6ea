/* SPDX-License-Identifier: ISC */
/* Unit tests for stun_framing: STUN and ChannelData messages back to back
 * in a stream, each arriving a byte at a time, the size limit at its edge,
 * and every stream that cannot be cut. */
#include <check.h>
#include <string.h>

#include "stun_framing.h"
#include "stun_message.h"
#include "test_suite.h"

#define NO_LIMIT 0x20000

/* A Binding request with SOFTWARE "abc" (8 bytes of attribute), then
 * ChannelData on 0x4001 with "hello" padded to 8, then ChannelData with
 * nothing. */
static const uint8_t stream[] = {
	0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 1,    2,   3,	 4,    5,    6,	   7,
	8,    9,    10,	  11,	12,   0x80, 0x22, 0x00, 0x03, 'a', 'b',	 'c',  0,    0x40, 0x01,
	0x00, 0x05, 'h',  'e',	'l',  'l',  'o',  0,	0,    0,   0x4f, 0xff, 0x00, 0x00,
};

START_TEST(test_frames_back_to_back)
{
	struct stun_frame frame;
	size_t at = 0;

	ck_assert_int_eq(stun_frame_next(stream, sizeof(stream), NO_LIMIT, &frame),
			 STUN_FRAME_STUN);
	ck_assert_uint_eq(frame.total, 28);
	ck_assert_ptr_null(frame.reason);
	struct stun_message message;
	ck_assert_int_eq(stun_message_parse(stream, frame.total, &message), STUN_PARSE_OK);
	at += frame.total;
	ck_assert_int_eq(stun_frame_next(stream + at, sizeof(stream) - at, NO_LIMIT, &frame),
			 STUN_FRAME_CHANNEL_DATA);
	ck_assert_uint_eq(frame.total, 12);
	at += frame.total;
	ck_assert_int_eq(stun_frame_next(stream + at, sizeof(stream) - at, NO_LIMIT, &frame),
			 STUN_FRAME_CHANNEL_DATA);
	ck_assert_uint_eq(frame.total, 4);
	at += frame.total;
	ck_assert_uint_eq(at, sizeof(stream));
	ck_assert_int_eq(stun_frame_next(stream + at, 0, NO_LIMIT, &frame), STUN_FRAME_NEED_MORE);
	ck_assert_uint_eq(frame.wait_for, 0);
}
END_TEST

/* Every prefix of a message is "need more", with its size once the
 * first four bytes are in. */
START_TEST(test_a_byte_at_a_time)
{
	static const struct {
		size_t offset;
		size_t total;
	} messages[] = { { 0, 28 }, { 28, 12 } };
	struct stun_frame frame;

	for (size_t m = 0; m < 2; m++) {
		const uint8_t *start = stream + messages[m].offset;
		for (size_t length = 0; length < messages[m].total; length++) {
			ck_assert_int_eq(stun_frame_next(start, length, NO_LIMIT, &frame),
					 STUN_FRAME_NEED_MORE);
			ck_assert_uint_eq(frame.total, 0);
			ck_assert_uint_eq(frame.wait_for, length < 4 ? 0 : messages[m].total);
		}
		ck_assert_int_ne(stun_frame_next(start, messages[m].total, NO_LIMIT, &frame),
				 STUN_FRAME_NEED_MORE);
		ck_assert_uint_eq(frame.total, messages[m].total);
	}
}
END_TEST

START_TEST(test_size_limit)
{
	struct stun_frame frame;

	ck_assert_int_eq(stun_frame_next(stream, sizeof(stream), 28, &frame), STUN_FRAME_STUN);
	ck_assert_int_eq(stun_frame_next(stream, sizeof(stream), 27, &frame), STUN_FRAME_MALFORMED);
	ck_assert_str_eq(frame.reason, "frame_too_large");
	/* Refused from the header alone, before the message is in. */
	ck_assert_int_eq(stun_frame_next(stream, 4, 27, &frame), STUN_FRAME_MALFORMED);
	/* ChannelData counts its padding. */
	ck_assert_int_eq(stun_frame_next(stream + 28, 12, 11, &frame), STUN_FRAME_MALFORMED);
	ck_assert_int_eq(stun_frame_next(stream + 28, 12, 12, &frame), STUN_FRAME_CHANNEL_DATA);
}
END_TEST

START_TEST(test_malformed_streams)
{
	struct stun_frame frame;
	uint8_t bytes[sizeof(stream)];

	static const uint8_t not_ours[] = { 0x80, 0xC0, 0xFF, 0x16 /* a TLS record */ };
	for (size_t i = 0; i < sizeof(not_ours); i++) {
		memcpy(bytes, stream, sizeof(bytes));
		bytes[0] = not_ours[i];
		enum stun_frame_result result = stun_frame_next(bytes, 1, NO_LIMIT, &frame);
		if (not_ours[i] >> 6 >= 2) {
			ck_assert_int_eq(result, STUN_FRAME_MALFORMED);
			ck_assert_str_eq(frame.reason, "frame_not_stun_or_channel_data");
			ck_assert_uint_eq(frame.total, 0);
		}
	}
	memcpy(bytes, stream, sizeof(bytes));
	bytes[3] = 0x09;
	ck_assert_int_eq(stun_frame_next(bytes, sizeof(bytes), NO_LIMIT, &frame),
			 STUN_FRAME_MALFORMED);
	ck_assert_str_eq(frame.reason, "frame_length_not_multiple_of_4");

	memcpy(bytes, stream, sizeof(bytes));
	bytes[5] = 0x13;
	ck_assert_int_eq(stun_frame_next(bytes, 7, NO_LIMIT, &frame), STUN_FRAME_NEED_MORE);
	ck_assert_int_eq(stun_frame_next(bytes, 8, NO_LIMIT, &frame), STUN_FRAME_MALFORMED);
	ck_assert_str_eq(frame.reason, "frame_bad_magic_cookie");

	/* Every number whose first bits are 01 is a channel (RFC 5766's range). */
	memcpy(bytes, stream, sizeof(bytes));
	bytes[28] = 0x7F;
	ck_assert_int_eq(stun_frame_next(bytes + 28, 12, NO_LIMIT, &frame),
			 STUN_FRAME_CHANNEL_DATA);
}
END_TEST

START_TEST(test_largest_frames)
{
	static uint8_t bytes[4 + 0x10000];
	struct stun_frame frame;

	memcpy(bytes, stream, 20);
	stun_write16(bytes + 2, 0xFFFC);
	ck_assert_int_eq(stun_frame_next(bytes, STUN_MESSAGE_MAX, NO_LIMIT, &frame),
			 STUN_FRAME_STUN);
	ck_assert_uint_eq(frame.total, STUN_MESSAGE_MAX);
	stun_write16(bytes, 0x4000);
	stun_write16(bytes + 2, 0xFFFF);
	ck_assert_int_eq(stun_frame_next(bytes, sizeof(bytes) - 1, NO_LIMIT, &frame),
			 STUN_FRAME_NEED_MORE);
	ck_assert_uint_eq(frame.wait_for, sizeof(bytes));
	ck_assert_int_eq(stun_frame_next(bytes, sizeof(bytes), NO_LIMIT, &frame),
			 STUN_FRAME_CHANNEL_DATA);
}
END_TEST

static Suite *stun_framing_suite(void)
{
	Suite *suite = suite_create("stun_framing");
	TCase *cases = tcase_create("stun_framing");
	tcase_add_test(cases, test_frames_back_to_back);
	tcase_add_test(cases, test_a_byte_at_a_time);
	tcase_add_test(cases, test_size_limit);
	tcase_add_test(cases, test_malformed_streams);
	tcase_add_test(cases, test_largest_frames);
	suite_add_tcase(suite, cases);
	return suite;
}

int main(void)
{
	return test_suite_run(stun_framing_suite());
}
