/* SPDX-License-Identifier: ISC */
/* record_pool: fixed-size records known by a 32-bit number, for the TURN
 * allocation table (allocations, permissions, channels, connections).
 * Records live in chunks that never move, so a pointer to a record stays
 * good until the record is given back; a number is what the hash indexes
 * and the expiry heap store (4 bytes, not a pointer's 8).  Given-back
 * records are reused first; chunks are kept for the next peak (a pool
 * grows to its busiest moment and stays there, bounded by the quotas). */
#ifndef SXEDGE_TURN_RECORD_POOL_H
#define SXEDGE_TURN_RECORD_POOL_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_POOL_NONE UINT32_MAX /* no record */

struct record_pool {
	unsigned char **chunks;
	size_t record_size; /* at least 4: a free record holds the next free number */
	uint32_t chunk_count;
	uint32_t records; /* numbers handed out so far, in use or free */
	uint32_t in_use;
	uint32_t free_head; /* RECORD_POOL_NONE: none free */
};

/* An empty pool of records of RECORD_SIZE bytes (no memory until the first take). */
void record_pool_init(struct record_pool *pool, size_t record_size);
void record_pool_free(struct record_pool *pool);

/* A zeroed record, its number in *NUMBER; NULL when out of memory. */
void *record_pool_take(struct record_pool *pool, uint32_t *number);

/* Gives record NUMBER back (its memory is reused by a later take). */
void record_pool_give(struct record_pool *pool, uint32_t number);

/* The record NUMBER (which must have been taken). */
void *record_pool_at(const struct record_pool *pool, uint32_t number);

/* The bytes the pool holds, chunks and chunk list. */
size_t record_pool_bytes(const struct record_pool *pool);

#endif
