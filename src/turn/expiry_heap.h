/* SPDX-License-Identifier: ISC */
/* expiry_heap: a binary min-heap of deadlines, so that the TURN allocation
 * table can tell its owner the one next moment anything expires and the
 * protocol module runs one timer, not one per allocation, permission,
 * channel or connection.  An entry is a deadline and a 32-bit item (the
 * table's own encoding of what expires).  Each item remembers where it sits
 * (the heap reports every move through a callback), so a refresh moves its
 * entry in O(log n) instead of leaving a stale one behind: a client that
 * refreshes a permission a thousand times a second grows nothing. */
#ifndef SXEDGE_TURN_EXPIRY_HEAP_H
#define SXEDGE_TURN_EXPIRY_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPIRY_HEAP_NONE UINT64_MAX /* no deadline: the heap is empty */

struct expiry_entry {
	uint64_t expires_ms;
	uint32_t item;
};

/* Called whenever ITEM comes to sit at POSITION (on add and every move), so
 * the item can be found again for expiry_heap_update and expiry_heap_remove. */
typedef void (*expiry_heap_moved)(void *context, uint32_t item, uint32_t position);

struct expiry_heap {
	struct expiry_entry *entries;
	uint32_t count, capacity;
	expiry_heap_moved moved;
	void *context;
};

void expiry_heap_init(struct expiry_heap *heap, expiry_heap_moved moved, void *context);
void expiry_heap_free(struct expiry_heap *heap);

/* Adds ITEM due at EXPIRES_MS; false when the heap could not grow. */
bool expiry_heap_add(struct expiry_heap *heap, uint32_t item, uint64_t expires_ms);

/* Moves the entry at POSITION to the new deadline EXPIRES_MS. */
void expiry_heap_update(struct expiry_heap *heap, uint32_t position, uint64_t expires_ms);

/* Removes the entry at POSITION. */
void expiry_heap_remove(struct expiry_heap *heap, uint32_t position);

/* The earliest entry (NULL when empty), and its deadline (EXPIRY_HEAP_NONE when empty). */
const struct expiry_entry *expiry_heap_first(const struct expiry_heap *heap);
uint64_t expiry_heap_next(const struct expiry_heap *heap);

/* The bytes the entry array holds. */
size_t expiry_heap_bytes(const struct expiry_heap *heap);

#endif
