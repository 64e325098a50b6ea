/* SPDX-License-Identifier: ISC */
/* test_keys: building the suites' shared flow key (test_keys.h). */
#include "test_keys.h"

#include <check.h>

int test_key_build(struct flow_key *out, size_t byte, unsigned char bits)
{
	unsigned char secret[FLOW_SECRET_SIZE] = { 0x5e, 0xc7, 0x01, 0x02, 0x03, 0xfe, 0x80, 0x42 };

	secret[byte] ^= bits;
	return flow_key_init(out, secret, 1, 7);
}

struct flow_key test_key_flipped(size_t byte, unsigned char bits)
{
	struct flow_key built;
	ck_assert_int_eq(test_key_build(&built, byte, bits), 0);
	return built;
}
