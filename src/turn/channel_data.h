/* SPDX-License-Identifier: ISC */
/* channel_data: TURN's ChannelData message (RFC 8656 §12.4): a channel
 * number, a length, and that many bytes of application data, the cheap
 * form of relayed data once a channel is bound.  Pure, no allocation: a
 * parsed message points into the bytes received.
 *
 * Over UDP the padding to 4 bytes is optional, so a datagram carries the
 * header and the data, plus at most 3 bytes of padding; over TCP it is
 * required (§12.5) so that the next message starts on a 4-byte boundary,
 * and stun_frame_next cuts the stream accordingly. */
#ifndef SXEDGE_TURN_CHANNEL_DATA_H
#define SXEDGE_TURN_CHANNEL_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHANNEL_DATA_HEADER_SIZE 4
/* The channel numbers a client may bind: every number whose first two
 * bits are 01, which is what tells ChannelData from STUN (RFC 5766's
 * range; why not RFC 8656's narrower one: allocation_table.h). */
#define CHANNEL_NUMBER_MIN 0x4000
#define CHANNEL_NUMBER_MAX 0x7FFF

/* Why channel_data_parse refused a message, X(ID, name), with stable
 * names for logs and the metric of dropped packets. */
#define CHANNEL_DATA_RESULTS(X)                                                \
	X(OK, "ok")                                                            \
	X(SHORTER_THAN_HEADER, "channel_data_shorter_than_header")             \
	X(BAD_CHANNEL, "channel_data_bad_channel") /* outside 0x4000-0x7FFF */ \
	X(LENGTH_BEYOND_DATAGRAM, "channel_data_length_beyond_datagram")       \
	X(BYTES_AFTER_MESSAGE, "channel_data_bytes_after_message") /* beyond the padding */

#define CHANNEL_DATA_ENUM(id, name) CHANNEL_DATA_##id,
enum channel_data_result {
	CHANNEL_DATA_RESULTS(CHANNEL_DATA_ENUM)
};
#undef CHANNEL_DATA_ENUM

struct channel_data {
	uint16_t channel;
	uint16_t length;
	const uint8_t *data; /* LENGTH bytes inside what was parsed */
};

/* Is CHANNEL one a client may bind? */
bool channel_number_is_valid(uint16_t channel);

/* Reads the LENGTH bytes at BYTES as one ChannelData message: a whole
 * datagram, or (PADDED, over TCP) one frame cut by stun_frame_next, which
 * must then be exactly the padded size.  On CHANNEL_DATA_OK fills OUT. */
enum channel_data_result channel_data_parse(const uint8_t *bytes, size_t length, bool padded,
					    struct channel_data *out);

/* The stable name of RESULT. */
const char *channel_data_result_name(enum channel_data_result result);

/* The bytes a ChannelData message with DATA_LENGTH bytes of data takes:
 * the header, the data and, when PADDED, the padding to 4 bytes. */
size_t channel_data_size(uint16_t data_length, bool padded);

/* Writes the header of a ChannelData message on CHANNEL with DATA_LENGTH
 * bytes of data: the relay puts it in front of data it received, so the
 * data itself is never copied.  A sender over TCP then adds
 * channel_data_size(DATA_LENGTH, true) - 4 - DATA_LENGTH zero bytes. */
void channel_data_write_header(uint8_t header[CHANNEL_DATA_HEADER_SIZE], uint16_t channel,
			       uint16_t data_length);

#endif
