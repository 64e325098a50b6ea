/* SPDX-License-Identifier: ISC */
/* hash_mix: a multiply-xorshift finaliser (MurmurHash3's fmix64) for the
 * edge's own hash tables: cheap, and every input bit reaches every output
 * bit, so with a secret seed mixed in an outsider cannot aim keys at one
 * slot. */
#ifndef SXEDGE_HASH_MIX_H
#define SXEDGE_HASH_MIX_H

#include <stdint.h>

static inline uint64_t hash_mix(uint64_t value)
{
	value ^= value >> 33;
	value *= 0xff51afd7ed558ccdULL;
	value ^= value >> 33;
	value *= 0xc4ceb9fe1a85ec53ULL;
	value ^= value >> 33;
	return value;
}

#endif
