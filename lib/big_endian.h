/* SPDX-License-Identifier: ISC */
/* big_endian: unsigned fields of 1 to 8 bytes in network order, for the
 * tokens and nonces the edge seals (flow tokens, TURN nonces). */
#ifndef SXEDGE_BIG_ENDIAN_H
#define SXEDGE_BIG_ENDIAN_H

#include <stddef.h>
#include <stdint.h>

/* The low BYTES bytes of VALUE into OUT, most significant first. */
static inline void big_endian_put(unsigned char *out, uint64_t value, size_t bytes)
{
	for (size_t i = bytes; i > 0; i--) {
		out[i - 1] = (unsigned char)(value & 0xff);
		value >>= 8;
	}
}

/* BYTES bytes at IN, most significant first. */
static inline uint64_t big_endian_get(const unsigned char *in, size_t bytes)
{
	uint64_t value = 0;
	for (size_t i = 0; i < bytes; i++)
		value = (value << 8) | in[i];
	return value;
}

#endif
