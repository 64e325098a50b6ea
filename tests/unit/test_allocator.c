/* SPDX-License-Identifier: ISC */
/* test_allocator: see test_allocator.h.  The linker sends every call of
 * the wrapped functions here, and __real_NAME reaches the C library's. */
#include "test_allocator.h"

#include <stddef.h>

static unsigned long allocator_calls;

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *pointer, size_t size);

void *__wrap_malloc(size_t size)
{
	allocator_calls++;
	return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
	allocator_calls++;
	return __real_calloc(count, size);
}

void *__wrap_realloc(void *pointer, size_t size)
{
	allocator_calls++;
	return __real_realloc(pointer, size);
}

unsigned long test_allocator_calls(void)
{
	return allocator_calls;
}
