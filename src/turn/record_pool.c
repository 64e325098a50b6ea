/* SPDX-License-Identifier: ISC */
/* record_pool: fixed-size records in chunks that never move (see
 * record_pool.h).  Record N is in chunk N / CHUNK_RECORDS; the free list is
 * threaded through the first 4 bytes of the free records themselves. */
#include "record_pool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SHIFT   6
#define CHUNK_RECORDS (UINT32_C(1) << CHUNK_SHIFT) /* 64 records a chunk */

void record_pool_init(struct record_pool *pool, size_t record_size)
{
	memset(pool, 0, sizeof(*pool));
	pool->record_size = record_size < sizeof(uint32_t) ? sizeof(uint32_t) : record_size;
	pool->free_head = RECORD_POOL_NONE;
}

void record_pool_free(struct record_pool *pool)
{
	for (uint32_t i = 0; i < pool->chunk_count; i++)
		free(pool->chunks[i]);
	free(pool->chunks);
	record_pool_init(pool, pool->record_size);
}

void *record_pool_at(const struct record_pool *pool, uint32_t number)
{
	return pool->chunks[number >> CHUNK_SHIFT] +
	       (number & (CHUNK_RECORDS - 1)) * pool->record_size;
}

/* A new chunk at the end; false when out of memory or out of numbers. */
static bool add_chunk(struct record_pool *pool)
{
	unsigned char **chunks;
	unsigned char *chunk;

	if (pool->records > RECORD_POOL_NONE - CHUNK_RECORDS)
		return false;
	chunks = realloc(pool->chunks, (pool->chunk_count + 1) * sizeof(*chunks));
	if (chunks == NULL)
		return false;
	pool->chunks = chunks;
	chunk = malloc(CHUNK_RECORDS * pool->record_size);
	if (chunk == NULL)
		return false;
	pool->chunks[pool->chunk_count++] = chunk;
	return true;
}

void *record_pool_take(struct record_pool *pool, uint32_t *number)
{
	void *record;

	if (pool->free_head != RECORD_POOL_NONE) {
		*number = pool->free_head;
		record = record_pool_at(pool, *number);
		memcpy(&pool->free_head, record, sizeof(pool->free_head));
	} else {
		if (pool->records == pool->chunk_count * CHUNK_RECORDS && !add_chunk(pool))
			return NULL;
		*number = pool->records++;
		record = record_pool_at(pool, *number);
	}
	memset(record, 0, pool->record_size);
	pool->in_use++;
	return record;
}

void record_pool_give(struct record_pool *pool, uint32_t number)
{
	void *record = record_pool_at(pool, number);

	memcpy(record, &pool->free_head, sizeof(pool->free_head));
	pool->free_head = number;
	pool->in_use--;
}

size_t record_pool_bytes(const struct record_pool *pool)
{
	return (size_t)pool->chunk_count *
	       (CHUNK_RECORDS * pool->record_size + sizeof(*pool->chunks));
}
