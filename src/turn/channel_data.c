/* SPDX-License-Identifier: ISC */
/* channel_data: reading and writing ChannelData messages (the rules for
 * padding over UDP and TCP in channel_data.h). */
#include "channel_data.h"

#include "stun_message.h"

#define CHANNEL_DATA_NAME(id, name) [CHANNEL_DATA_##id] = name,
static const char *const result_names[] = { CHANNEL_DATA_RESULTS(CHANNEL_DATA_NAME) };
#undef CHANNEL_DATA_NAME

bool channel_number_is_valid(uint16_t channel)
{
	return channel >= CHANNEL_NUMBER_MIN && channel <= CHANNEL_NUMBER_MAX;
}

const char *channel_data_result_name(enum channel_data_result result)
{
	if ((size_t)result >= sizeof(result_names) / sizeof(result_names[0]))
		return "unknown";
	return result_names[result];
}

size_t channel_data_size(uint16_t data_length, bool padded)
{
	size_t size = CHANNEL_DATA_HEADER_SIZE + (size_t)data_length;
	return padded ? (size + 3) & ~(size_t)3 : size;
}

enum channel_data_result channel_data_parse(const uint8_t *bytes, size_t length, bool padded,
					    struct channel_data *out)
{
	if (length < CHANNEL_DATA_HEADER_SIZE)
		return CHANNEL_DATA_SHORTER_THAN_HEADER;
	uint16_t channel = stun_read16(bytes);
	uint16_t data_length = stun_read16(bytes + 2);
	if (!channel_number_is_valid(channel))
		return CHANNEL_DATA_BAD_CHANNEL;
	/* Unpadded is the least a message takes, padded the most. */
	if (length < channel_data_size(data_length, padded))
		return CHANNEL_DATA_LENGTH_BEYOND_DATAGRAM;
	if (length > channel_data_size(data_length, true))
		return CHANNEL_DATA_BYTES_AFTER_MESSAGE;
	*out = (struct channel_data){
		.channel = channel,
		.length = data_length,
		.data = bytes + CHANNEL_DATA_HEADER_SIZE,
	};
	return CHANNEL_DATA_OK;
}

void channel_data_write_header(uint8_t header[CHANNEL_DATA_HEADER_SIZE], uint16_t channel,
			       uint16_t data_length)
{
	stun_write16(header, channel);
	stun_write16(header + 2, data_length);
}
