/* SPDX-License-Identifier: ISC */
/* expiry_heap: a binary min-heap of deadlines with positions reported back
 * (see expiry_heap.h).  The parent of position P is (P - 1) / 2. */
#include "expiry_heap.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_CAPACITY 16

void expiry_heap_init(struct expiry_heap *heap, expiry_heap_moved moved, void *context)
{
	memset(heap, 0, sizeof(*heap));
	heap->moved = moved;
	heap->context = context;
}

void expiry_heap_free(struct expiry_heap *heap)
{
	free(heap->entries);
	expiry_heap_init(heap, heap->moved, heap->context);
}

static void put(struct expiry_heap *heap, uint32_t position, struct expiry_entry entry)
{
	heap->entries[position] = entry;
	heap->moved(heap->context, entry.item, position);
}

/* Moves the entry at POSITION up past every later parent, then down past
 * every earlier child: one of the two does nothing. */
static void settle(struct expiry_heap *heap, uint32_t position)
{
	struct expiry_entry entry = heap->entries[position];

	while (position > 0) {
		uint32_t parent = (position - 1) / 2;
		if (heap->entries[parent].expires_ms <= entry.expires_ms)
			break;
		put(heap, position, heap->entries[parent]);
		position = parent;
	}
	for (;;) {
		uint32_t child = 2 * position + 1;
		if (child >= heap->count)
			break;
		if (child + 1 < heap->count &&
		    heap->entries[child + 1].expires_ms < heap->entries[child].expires_ms)
			child++;
		if (entry.expires_ms <= heap->entries[child].expires_ms)
			break;
		put(heap, position, heap->entries[child]);
		position = child;
	}
	put(heap, position, entry);
}

bool expiry_heap_add(struct expiry_heap *heap, uint32_t item, uint64_t expires_ms)
{
	if (heap->count == heap->capacity) {
		uint32_t capacity = heap->capacity == 0 ? INITIAL_CAPACITY : heap->capacity * 2;
		struct expiry_entry *entries;

		if (capacity < heap->capacity)
			return false;
		entries = realloc(heap->entries, capacity * sizeof(*entries));
		if (entries == NULL)
			return false;
		heap->entries = entries;
		heap->capacity = capacity;
	}
	heap->entries[heap->count] =
		(struct expiry_entry){ .expires_ms = expires_ms, .item = item };
	settle(heap, heap->count++);
	return true;
}

void expiry_heap_update(struct expiry_heap *heap, uint32_t position, uint64_t expires_ms)
{
	heap->entries[position].expires_ms = expires_ms;
	settle(heap, position);
}

void expiry_heap_remove(struct expiry_heap *heap, uint32_t position)
{
	heap->count--;
	if (position == heap->count)
		return;
	heap->entries[position] = heap->entries[heap->count];
	settle(heap, position);
}

const struct expiry_entry *expiry_heap_first(const struct expiry_heap *heap)
{
	return heap->count == 0 ? NULL : &heap->entries[0];
}

uint64_t expiry_heap_next(const struct expiry_heap *heap)
{
	return heap->count == 0 ? EXPIRY_HEAP_NONE : heap->entries[0].expires_ms;
}

size_t expiry_heap_bytes(const struct expiry_heap *heap)
{
	return (size_t)heap->capacity * sizeof(struct expiry_entry);
}
