/* SPDX-License-Identifier: ISC */
/* expat_memory: expat's memory handling suite takes no user pointer, so
 * each block carries its size and the counter it was counted into in a
 * header before it; a new block goes to the counter set by
 * expat_memory_enter (per thread, as each worker runs its own parsers). */
#include "expat_memory.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

union header {
	struct {
		size_t size;
		size_t *counter;
	} block;
	max_align_t align; /* keeps what follows aligned for any type */
};

static _Thread_local size_t *current_counter;

static void *counted_malloc(size_t size)
{
	if (size > SIZE_MAX - sizeof(union header))
		return NULL;
	union header *header = malloc(sizeof(*header) + size);
	if (header == NULL)
		return NULL;
	header->block.size = size;
	header->block.counter = current_counter;
	if (current_counter != NULL)
		*current_counter += size;
	return header + 1;
}

static void counted_free(void *pointer)
{
	if (pointer == NULL)
		return;
	union header *header = (union header *)pointer - 1;
	if (header->block.counter != NULL)
		*header->block.counter -= header->block.size;
	free(header);
}

static void *counted_realloc(void *pointer, size_t size)
{
	if (pointer == NULL)
		return counted_malloc(size);
	if (size > SIZE_MAX - sizeof(union header))
		return NULL;
	union header *header = (union header *)pointer - 1;
	size_t old_size = header->block.size;
	union header *moved = realloc(header, sizeof(*moved) + size);
	if (moved == NULL)
		return NULL;
	moved->block.size = size;
	if (moved->block.counter != NULL)
		*moved->block.counter += size - old_size; /* wraps back when it shrinks */
	return moved + 1;
}

static const XML_Memory_Handling_Suite counted_suite = {
	.malloc_fcn = counted_malloc,
	.realloc_fcn = counted_realloc,
	.free_fcn = counted_free,
};

XML_Parser expat_memory_parser(const XML_Char *encoding, XML_Char separator, size_t *counter)
{
	const XML_Char separators[2] = { separator, '\0' };
	expat_memory_enter(counter);
	return XML_ParserCreate_MM(encoding, &counted_suite, separators);
}

void expat_memory_enter(size_t *counter)
{
	current_counter = counter;
}
