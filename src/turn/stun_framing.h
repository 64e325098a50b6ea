/* SPDX-License-Identifier: ISC */
/* stun_framing: cuts a TURN-over-TCP byte stream (RFC 8656 §3.1 and §12.5)
 * into STUN messages and ChannelData messages, from the first four bytes
 * of each: 0b00 in the first two bits is STUN (20 bytes of header and the
 * length field), 0b01 ChannelData (4 bytes of header and the length
 * padded to 4).  Pure: works on a byte array, keeps nothing between calls.
 * What it frames is then read with stun_message_parse or
 * channel_data_parse (padded), which check the rest.
 *
 * After a successful RFC 6062 ConnectionBind the connection carries the
 * peer's bytes as they are: its owner stops framing it. */
#ifndef SXEDGE_TURN_STUN_FRAMING_H
#define SXEDGE_TURN_STUN_FRAMING_H

#include <stddef.h>
#include <stdint.h>

enum stun_frame_result {
	STUN_FRAME_NEED_MORE, /* no whole message yet: frame.wait_for says how many bytes, once known */
	STUN_FRAME_STUN, /* a STUN message of frame.total bytes */
	STUN_FRAME_CHANNEL_DATA, /* a ChannelData message of frame.total bytes, padding included */
	STUN_FRAME_MALFORMED, /* the stream cannot be cut any further: frame.reason says why */
};

struct stun_frame {
	size_t total; /* STUN, CHANNEL_DATA: the bytes to read and consume */
	size_t wait_for; /* NEED_MORE: the whole message's size once the header is in, else 0 */
	const char *reason; /* MALFORMED: a stable name, e.g. "frame_too_large" */
};

/* Looks at the first LENGTH bytes of BYTES.  A message larger than
 * MAX_FRAME bytes is MALFORMED ("frame_too_large") as soon as its header
 * says so.  Never claims more bytes than LENGTH: total <= LENGTH. */
enum stun_frame_result stun_frame_next(const uint8_t *bytes, size_t length, size_t max_frame,
				       struct stun_frame *frame);

#endif
