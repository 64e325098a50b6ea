/* SPDX-License-Identifier: ISC */
/* stun_framing: where the next STUN or ChannelData message ends in a TCP
 * stream (what is told apart, and how, in stun_framing.h).  The checks
 * are those a stream needs to stay in step: whatever else is wrong with a
 * message is left to its parser, which refuses one message, not the
 * stream. */
#include "stun_framing.h"

#include "channel_data.h"
#include "stun_message.h"

/* The header bytes needed to know a message's size. */
#define SIZE_KNOWN_AFTER 4

static enum stun_frame_result malformed(struct stun_frame *frame, const char *reason)
{
	frame->reason = reason;
	return STUN_FRAME_MALFORMED;
}

enum stun_frame_result stun_frame_next(const uint8_t *bytes, size_t length, size_t max_frame,
				       struct stun_frame *frame)
{
	enum stun_frame_result kind;
	size_t total;

	*frame = (struct stun_frame){ 0 };
	if (length == 0)
		return STUN_FRAME_NEED_MORE;
	switch (bytes[0] >> 6) {
	case 0:
		kind = STUN_FRAME_STUN;
		break;
	case 1:
		kind = STUN_FRAME_CHANNEL_DATA;
		break;
	default:
		return malformed(frame, "frame_not_stun_or_channel_data");
	}
	if (length < SIZE_KNOWN_AFTER)
		return STUN_FRAME_NEED_MORE;
	uint16_t declared = stun_read16(bytes + 2);
	if (kind == STUN_FRAME_STUN) {
		if (declared % 4 != 0)
			return malformed(frame, "frame_length_not_multiple_of_4");
		/* The cookie, as soon as it is in: a stream of something else
		 * is refused before it is buffered whole. */
		if (length >= 8 && stun_read32(bytes + 4) != STUN_MAGIC_COOKIE)
			return malformed(frame, "frame_bad_magic_cookie");
		total = STUN_HEADER_SIZE + (size_t)declared;
	} else {
		total = channel_data_size(declared, true);
	}
	if (total > max_frame)
		return malformed(frame, "frame_too_large");
	if (total > length) {
		frame->wait_for = total;
		return STUN_FRAME_NEED_MORE;
	}
	frame->total = total;
	return kind;
}
