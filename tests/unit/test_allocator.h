/* SPDX-License-Identifier: ISC */
/* test_allocator: counts the allocator's calls in a suite linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (ALLOCATOR_COUNTED
 * in Makefile.am), to prove that a packet path makes none. */
#ifndef SXEDGE_TESTS_TEST_ALLOCATOR_H
#define SXEDGE_TESTS_TEST_ALLOCATOR_H

/* malloc, calloc and realloc calls since the suite started. */
unsigned long test_allocator_calls(void);

#endif
