/* SPDX-License-Identifier: ISC */
/* Unit tests for channel_data: the channel range at its edges, datagrams
 * with and without padding, the padding required over TCP, and every
 * refusal. */
#include <check.h>
#include <string.h>

#include "channel_data.h"
#include "test_suite.h"

/* Channel 0x4001 carrying "hello" (5 bytes), padded with 3 zeros. */
static const uint8_t hello[] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };

START_TEST(test_channel_range)
{
	ck_assert(!channel_number_is_valid(0x3FFF));
	ck_assert(channel_number_is_valid(0x4000));
	ck_assert(channel_number_is_valid(0x4FFF));
	ck_assert(channel_number_is_valid(0x5000)); /* RFC 5766's range */
	ck_assert(channel_number_is_valid(0x7FFF));
	ck_assert(!channel_number_is_valid(0x8000));
	ck_assert(!channel_number_is_valid(0x0000));
}
END_TEST

START_TEST(test_datagram_any_padding)
{
	struct channel_data message;

	/* Unpadded, and with 1, 2 or 3 bytes of padding. */
	for (size_t length = 9; length <= 12; length++) {
		ck_assert_int_eq(channel_data_parse(hello, length, false, &message),
				 CHANNEL_DATA_OK);
		ck_assert_uint_eq(message.channel, 0x4001);
		ck_assert_uint_eq(message.length, 5);
		ck_assert_ptr_eq(message.data, hello + 4);
	}
	ck_assert_int_eq(channel_data_parse(hello, 8, false, &message),
			 CHANNEL_DATA_LENGTH_BEYOND_DATAGRAM);

	uint8_t longer[16] = { 0 };
	memcpy(longer, hello, sizeof(hello));
	ck_assert_int_eq(channel_data_parse(longer, 13, false, &message),
			 CHANNEL_DATA_BYTES_AFTER_MESSAGE);
}
END_TEST

START_TEST(test_stream_padding_required)
{
	struct channel_data message;

	ck_assert_int_eq(channel_data_parse(hello, 12, true, &message), CHANNEL_DATA_OK);
	for (size_t length = 9; length < 12; length++)
		ck_assert_int_eq(channel_data_parse(hello, length, true, &message),
				 CHANNEL_DATA_LENGTH_BEYOND_DATAGRAM);
}
END_TEST

START_TEST(test_empty_and_largest)
{
	struct channel_data message;
	static uint8_t largest[4 + 0xFFFF + 1];

	ck_assert_int_eq(channel_data_parse((const uint8_t *)"\x4f\xff\x00\x00", 4, true, &message),
			 CHANNEL_DATA_OK);
	ck_assert_uint_eq(message.length, 0);
	channel_data_write_header(largest, 0x4000, 0xFFFF);
	ck_assert_int_eq(channel_data_parse(largest, sizeof(largest), true, &message),
			 CHANNEL_DATA_OK);
	ck_assert_uint_eq(message.length, 0xFFFF);
	ck_assert_int_eq(channel_data_parse(largest, sizeof(largest) - 1, false, &message),
			 CHANNEL_DATA_OK);
	ck_assert_int_eq(channel_data_parse(largest, sizeof(largest) - 1, true, &message),
			 CHANNEL_DATA_LENGTH_BEYOND_DATAGRAM);
}
END_TEST

START_TEST(test_refusals)
{
	struct channel_data message;
	uint8_t bytes[12];

	ck_assert_int_eq(channel_data_parse(hello, 3, false, &message),
			 CHANNEL_DATA_SHORTER_THAN_HEADER);
	memcpy(bytes, hello, sizeof(bytes));
	bytes[0] = 0x80;
	ck_assert_int_eq(channel_data_parse(bytes, sizeof(bytes), false, &message),
			 CHANNEL_DATA_BAD_CHANNEL);
	bytes[0] = 0x3F;
	bytes[1] = 0xFF;
	ck_assert_int_eq(channel_data_parse(bytes, sizeof(bytes), false, &message),
			 CHANNEL_DATA_BAD_CHANNEL);
	ck_assert_str_eq(channel_data_result_name(CHANNEL_DATA_BAD_CHANNEL),
			 "channel_data_bad_channel");
	ck_assert_str_eq(channel_data_result_name((enum channel_data_result)42), "unknown");
}
END_TEST

START_TEST(test_write)
{
	uint8_t header[CHANNEL_DATA_HEADER_SIZE];

	channel_data_write_header(header, 0x4001, 5);
	ck_assert_mem_eq(header, hello, 4);
	ck_assert_uint_eq(channel_data_size(5, false), 9);
	ck_assert_uint_eq(channel_data_size(5, true), 12);
	ck_assert_uint_eq(channel_data_size(8, true), 12);
	ck_assert_uint_eq(channel_data_size(0, true), 4);
	ck_assert_uint_eq(channel_data_size(0xFFFF, true), 4 + 0x10000);
}
END_TEST

static Suite *channel_data_suite(void)
{
	Suite *suite = suite_create("channel_data");
	TCase *cases = tcase_create("channel_data");
	tcase_add_test(cases, test_channel_range);
	tcase_add_test(cases, test_datagram_any_padding);
	tcase_add_test(cases, test_stream_padding_required);
	tcase_add_test(cases, test_empty_and_largest);
	tcase_add_test(cases, test_refusals);
	tcase_add_test(cases, test_write);
	suite_add_tcase(suite, cases);
	return suite;
}

int main(void)
{
	return test_suite_run(channel_data_suite());
}
