/* SPDX-License-Identifier: ISC */
/* hash_index: an open-addressing hash index from a key to a record number,
 * the look-up structure under the TURN allocation table.  The index keeps no
 * keys: a slot holds the key's 32-bit hash and the record's number, and the
 * caller compares the record's own key for each candidate the probe yields,
 * so one index costs 8 bytes a slot whatever the key.  Linear probing, the
 * load kept under 3/4, and removal by shifting the rest of the run back (no
 * tombstones), so a table that sees millions of inserts and removals keeps
 * short probe runs.  A look-up never allocates; an insert may grow the slot
 * array.  Keys are hashed with a per-table seed (hash_index_key): clients
 * pick their ports and peers, and a fixed hash would let them pile entries
 * into one run. */
#ifndef SXEDGE_TURN_HASH_INDEX_H
#define SXEDGE_TURN_HASH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hash_index_slot {
	uint32_t hash;
	uint32_t record_plus_one; /* 0: the slot is free */
};

struct hash_index {
	struct hash_index_slot *slots;
	uint32_t capacity; /* 0 (nothing allocated yet) or a power of two */
	uint32_t used;
};

/* Where a look-up stands: from hash_index_probe, advanced by hash_index_next. */
struct hash_probe {
	uint32_t hash;
	uint32_t slot;
};

/* An empty index (no memory until the first insert). */
void hash_index_init(struct hash_index *index);
void hash_index_free(struct hash_index *index);

/* The seeded hash of LENGTH bytes at KEY.  Keys that are structs must have
 * their padding zeroed. */
uint32_t hash_index_key(uint64_t seed, const void *key, size_t length);

/* Adds RECORD under HASH (the caller has made sure it is not there yet).
 * False when the slot array could not grow (the index is unchanged). */
bool hash_index_insert(struct hash_index *index, uint32_t hash, uint32_t record);

/* Removes RECORD from under HASH; false when it was not there. */
bool hash_index_remove(struct hash_index *index, uint32_t hash, uint32_t record);

/* A look-up: hash_index_probe, then hash_index_next until it returns false,
 * each true giving in *RECORD one record stored under the same hash (the
 * caller compares its key).  No allocation; the index must not change
 * during the look-up. */
void hash_index_probe(const struct hash_index *index, uint32_t hash, struct hash_probe *probe);
bool hash_index_next(const struct hash_index *index, struct hash_probe *probe, uint32_t *record);

/* The bytes the slot array holds. */
size_t hash_index_bytes(const struct hash_index *index);

#endif
