/* SPDX-License-Identifier: ISC */
/* hash_index: open addressing from a key's hash to a record number (see
 * hash_index.h).  A slot's home is its hash masked by the capacity; the
 * stored hash lets both growth and removal find every entry's home without
 * asking the caller for keys. */
#include "hash_index.h"

#include <stdlib.h>
#include <string.h>

#include "hash_mix.h"

#define INITIAL_CAPACITY 16 /* a power of two */
#define MOST_SLOTS	 (UINT32_C(1) << 31)

void hash_index_init(struct hash_index *index)
{
	memset(index, 0, sizeof(*index));
}

void hash_index_free(struct hash_index *index)
{
	free(index->slots);
	hash_index_init(index);
}

/* ---- The hash ---- */

uint32_t hash_index_key(uint64_t seed, const void *key, size_t length)
{
	const unsigned char *bytes = key;
	uint64_t state = hash_mix(seed ^ length);

	while (length >= 8) {
		uint64_t word;
		memcpy(&word, bytes, 8);
		state = hash_mix(state ^ word) + 0x9e3779b97f4a7c15ULL;
		bytes += 8;
		length -= 8;
	}
	if (length > 0) {
		uint64_t word = 0;
		memcpy(&word, bytes, length);
		state = hash_mix(state ^ word) + 0x9e3779b97f4a7c15ULL;
	}
	state = hash_mix(state);
	return (uint32_t)(state ^ (state >> 32));
}

/* ---- Slots ---- */

static uint32_t home(const struct hash_index *index, uint32_t hash)
{
	return hash & (index->capacity - 1);
}

/* Puts an entry in the first free slot of its run (growth and insert). */
static void place(struct hash_index *index, struct hash_index_slot entry)
{
	uint32_t mask = index->capacity - 1;
	uint32_t slot = home(index, entry.hash);

	while (index->slots[slot].record_plus_one != 0)
		slot = (slot + 1) & mask;
	index->slots[slot] = entry;
}

static bool grow(struct hash_index *index)
{
	struct hash_index_slot *old_slots = index->slots;
	uint32_t old_capacity = index->capacity;
	uint32_t capacity = old_capacity == 0 ? INITIAL_CAPACITY : old_capacity * 2;
	struct hash_index_slot *slots;

	if (old_capacity >= MOST_SLOTS)
		return false;
	slots = calloc(capacity, sizeof(*slots));
	if (slots == NULL)
		return false;
	index->slots = slots;
	index->capacity = capacity;
	for (uint32_t i = 0; i < old_capacity; i++) {
		if (old_slots[i].record_plus_one != 0)
			place(index, old_slots[i]);
	}
	free(old_slots);
	return true;
}

bool hash_index_insert(struct hash_index *index, uint32_t hash, uint32_t record)
{
	/* keep the load at most 3/4 after this insert */
	if (((uint64_t)index->used + 1) * 4 > (uint64_t)index->capacity * 3 && !grow(index))
		return false;
	place(index, (struct hash_index_slot){ .hash = hash, .record_plus_one = record + 1 });
	index->used++;
	return true;
}

/* Empties HOLE, then pulls back each later entry of the run whose home is
 * not between the hole and itself, so that every remaining entry is still
 * reached from its home before a free slot. */
static void remove_slot(struct hash_index *index, uint32_t hole)
{
	uint32_t mask = index->capacity - 1;
	uint32_t next = (hole + 1) & mask;

	while (index->slots[next].record_plus_one != 0) {
		uint32_t next_home = home(index, index->slots[next].hash);
		/* distance from its home to next, against from the hole to next */
		if (((next - next_home) & mask) >= ((next - hole) & mask)) {
			index->slots[hole] = index->slots[next];
			hole = next;
		}
		next = (next + 1) & mask;
	}
	index->slots[hole] = (struct hash_index_slot){ 0 };
	index->used--;
}

bool hash_index_remove(struct hash_index *index, uint32_t hash, uint32_t record)
{
	uint32_t mask, slot;

	if (index->capacity == 0)
		return false;
	mask = index->capacity - 1;
	for (slot = home(index, hash); index->slots[slot].record_plus_one != 0;
	     slot = (slot + 1) & mask) {
		if (index->slots[slot].hash == hash &&
		    index->slots[slot].record_plus_one == record + 1) {
			remove_slot(index, slot);
			return true;
		}
	}
	return false;
}

void hash_index_probe(const struct hash_index *index, uint32_t hash, struct hash_probe *probe)
{
	probe->hash = hash;
	probe->slot = index->capacity == 0 ? 0 : home(index, hash);
}

bool hash_index_next(const struct hash_index *index, struct hash_probe *probe, uint32_t *record)
{
	uint32_t mask;

	if (index->capacity == 0)
		return false;
	mask = index->capacity - 1;
	while (index->slots[probe->slot].record_plus_one != 0) {
		const struct hash_index_slot *slot = &index->slots[probe->slot];
		probe->slot = (probe->slot + 1) & mask;
		if (slot->hash == probe->hash) {
			*record = slot->record_plus_one - 1;
			return true;
		}
	}
	return false;
}

size_t hash_index_bytes(const struct hash_index *index)
{
	return (size_t)index->capacity * sizeof(struct hash_index_slot);
}
