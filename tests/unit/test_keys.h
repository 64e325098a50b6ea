/* SPDX-License-Identifier: ISC */
/* test_keys: the flow key the routing and Via branch suites share (their
 * known answers were computed with it). */
#ifndef SXEDGE_TEST_KEYS_H
#define SXEDGE_TEST_KEYS_H

#include <stddef.h>

#include "flow_key.h"

/* The key of node 1, boot 7, with the secret 5e c7 01 02 03 fe 80 42 and
 * zeros, BITS flipped in byte BYTE.  Returns flow_key_init()'s result, so
 * main() can build the suite's key before any test runs. */
int test_key_build(struct flow_key *out, size_t byte, unsigned char bits);

/* The same inside a test, which fails when the key cannot be built. */
struct flow_key test_key_flipped(size_t byte, unsigned char bits);

#endif
