/* SPDX-License-Identifier: ISC */
/* fuzz: what the fuzz targets share.  A broken invariant aborts with its
 * text, so libFuzzer saves the input and the log says what went wrong. */
#ifndef SXEDGE_FUZZ_H
#define SXEDGE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(condition)                                                              \
	do {                                                                                 \
		if (!(condition)) {                                                          \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
				#condition);                                                 \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* A malloc'd copy of exactly SIZE bytes, so AddressSanitizer catches a
 * read of even one byte past the end (malloc(0) gives it a poisoned byte). */
static inline char *fuzz_copy(const void *data, size_t size)
{
	char *copy = malloc(size);
	FUZZ_REQUIRE(copy != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	return copy;
}

#endif
