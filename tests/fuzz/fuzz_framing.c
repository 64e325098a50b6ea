/* SPDX-License-Identifier: ISC */
/* Fuzz target: sip_frame_next over arbitrary bytes, as a connection feeds
 * it (frame after frame until one is refused or more is needed).
 *
 * Input: 5 bytes of limits (max_message and max_line, 16 bits each, and
 * max_headers), then the stream.  Small limits on purpose: every limit is
 * then reached in a few hundred bytes.  Besides what the sanitizers check
 * (the stream is an exactly-sized heap copy, so a read past its end is
 * caught), every result must keep the promises of framing.h, and every
 * message framed under them is one message to sip_frame_is_one_message, the
 * check on what the edge writes. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "framing.h"
#include "fuzz.h"

#define LIMITS_SIZE 5

static enum sip_frame_result frame_copy(const char *data, size_t len,
					const struct sip_frame_limits *limits,
					struct sip_frame *frame)
{
	char *copy = fuzz_copy(data, len);
	enum sip_frame_result result = sip_frame_next(copy, len, limits, frame);
	free(copy);
	return result;
}

static bool same_frame(const struct sip_frame *a, const struct sip_frame *b)
{
	return a->header_len == b->header_len && a->body_len == b->body_len &&
	       a->total == b->total && a->wait_for == b->wait_for;
}

static bool is_one_message_copy(const char *data, size_t len)
{
	char *copy = fuzz_copy(data, len);
	bool one = sip_frame_is_one_message(copy, len);
	free(copy);
	return one;
}

/* A complete message (MESSAGE or TOO_MANY_HEADERS) of FRAME->total bytes:
 * framed alone it is the same, and every shorter prefix of it is only
 * "need more", so a message split across reads frames like a whole one.
 * Without limits it is one message. */
static void check_whole_message(const char *data, const struct sip_frame_limits *limits,
				enum sip_frame_result result, const struct sip_frame *frame)
{
	struct sip_frame again;
	size_t cuts[3] = { frame->total - 1, frame->header_len - 1, frame->header_len };

	FUZZ_REQUIRE(frame_copy(data, frame->total, limits, &again) == result);
	FUZZ_REQUIRE(same_frame(frame, &again));
	FUZZ_REQUIRE(is_one_message_copy(data, frame->total));
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		if (cuts[i] == 0 || cuts[i] >= frame->total)
			continue;
		FUZZ_REQUIRE(frame_copy(data, cuts[i], limits, &again) == SIP_FRAME_NEED_MORE);
		FUZZ_REQUIRE(again.total == 0);
	}
}

static void check_frame(const char *data, size_t len, const struct sip_frame_limits *limits,
			enum sip_frame_result result, const struct sip_frame *frame)
{
	FUZZ_REQUIRE((result == SIP_FRAME_MALFORMED) == (frame->reason != NULL));
	switch (result) {
	case SIP_FRAME_NEED_MORE:
		FUZZ_REQUIRE(frame->total == 0 && frame->header_len == 0 && frame->body_len == 0);
		FUZZ_REQUIRE(frame->wait_for == 0 ||
			     (frame->wait_for > len && frame->wait_for <= limits->max_message));
		break;
	case SIP_FRAME_MESSAGE:
	case SIP_FRAME_TOO_MANY_HEADERS:
		FUZZ_REQUIRE(frame->total <= len && frame->total <= limits->max_message);
		FUZZ_REQUIRE(frame->header_len > 0 && frame->header_len <= frame->total);
		FUZZ_REQUIRE(frame->body_len == frame->total - frame->header_len);
		FUZZ_REQUIRE(data[frame->header_len - 1] == '\n');
		check_whole_message(data, limits, result, frame);
		break;
	case SIP_FRAME_PING:
		FUZZ_REQUIRE(frame->total == 4 && len >= 4 && memcmp(data, "\r\n\r\n", 4) == 0);
		break;
	case SIP_FRAME_SKIP:
		FUZZ_REQUIRE(frame->total == 2 && len >= 2 && memcmp(data, "\r\n", 2) == 0);
		break;
	case SIP_FRAME_TOO_LARGE:
	case SIP_FRAME_BAD_LENGTH:
		/* The header block can still be parsed for the answer. */
		FUZZ_REQUIRE(frame->total == 0);
		FUZZ_REQUIRE(frame->header_len > 0 && frame->header_len <= len &&
			     frame->header_len <= limits->max_message);
		break;
	case SIP_FRAME_HEADER_TOO_LARGE:
		FUZZ_REQUIRE(len >= limits->max_message);
		/* fall through */
	case SIP_FRAME_LINE_TOO_LONG:
	case SIP_FRAME_MALFORMED:
		FUZZ_REQUIRE(frame->total == 0 && frame->header_len == 0);
		break;
	default:
		FUZZ_REQUIRE(!"a result framing.h does not list");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < LIMITS_SIZE)
		return 0;
	struct sip_frame_limits limits = {
		.max_message = 1 + (size_t)(data[0] | data[1] << 8) % 4096,
		.max_line = 1 + (size_t)(data[2] | data[3] << 8) % 4096,
		.max_headers = data[4],
	};
	const char *stream = (const char *)data + LIMITS_SIZE;
	size_t len = size - LIMITS_SIZE;

	/* What the edge's check on its own output says of the whole stream is
	 * what framing without limits says. */
	if (is_one_message_copy(stream, len)) {
		struct sip_frame frame;
		struct sip_frame_limits unlimited = { len + 1, len, UINT_MAX };
		FUZZ_REQUIRE(frame_copy(stream, len, &unlimited, &frame) == SIP_FRAME_MESSAGE);
		FUZZ_REQUIRE(frame.total == len);
	}
	/* Frame after frame, as a connection consumes them. */
	for (size_t offset = 0; offset < len;) {
		struct sip_frame frame;
		enum sip_frame_result result =
			frame_copy(stream + offset, len - offset, &limits, &frame);
		check_frame(stream + offset, len - offset, &limits, result, &frame);
		if (result != SIP_FRAME_MESSAGE && result != SIP_FRAME_PING &&
		    result != SIP_FRAME_SKIP && result != SIP_FRAME_TOO_MANY_HEADERS)
			break;
		offset += frame.total;
	}
	return 0;
}
