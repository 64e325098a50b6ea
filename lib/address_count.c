/* SPDX-License-Identifier: ISC */
/* address_count: how many connections each source address holds, for the
 * per-address cap on inbound connections.
 *
 * IPv6 sources are counted by their /64 prefix (the first 8 bytes): one
 * subscriber, host or VM gets a whole /64 and may pick any of its 2^64
 * addresses for each connection, so a count per full address would cap
 * nothing.  IPv4, and IPv4-mapped IPv6 (an IPv4 peer on a dual-stack
 * socket), stay counted by the full address.
 *
 * An open-addressing hash table with linear probing, keyed by the address
 * bytes (4 for IPv4, including IPv4-mapped IPv6; the 8 of the /64 prefix for
 * other IPv6).  An entry whose count drops to 0 is removed by shifting the
 * following entries of its run back, so there are no tombstones and a
 * long-lived table does not fill up with dead slots.  The hash is seeded at
 * random per table: the sources choose their keys (a /48 holds 65536 /64s),
 * and a fixed hash would let them pile every entry into one probe run. */
#include "address_count.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hash_mix.h"

#define INITIAL_CAPACITY  16 /* a power of two */
#define IPV6_PREFIX_BYTES 8 /* a /64 */

struct address_key {
	uint8_t bytes[16]; /* the rest zero, so the hash can read all 16 */
	uint8_t length; /* 4 (IPv4) or 8 (an IPv6 /64); 0 for any other family, counted as one */
};

struct address_entry {
	struct address_key key;
	unsigned count; /* 0: the slot is free */
};

struct address_count {
	struct address_entry *entries;
	size_t capacity; /* a power of two */
	size_t used;
	uint64_t seed;
};

/* ---- Keys ---- */

static void key_from_sockaddr(const struct sockaddr *address, struct address_key *key)
{
	memset(key, 0, sizeof(*key));
	if (address == NULL)
		return;
	if (address->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
		memcpy(key->bytes, &v4->sin_addr, 4);
		key->length = 4;
	} else if (address->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
		if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
			memcpy(key->bytes, &v6->sin6_addr.s6_addr[12], 4);
			key->length = 4;
		} else {
			memcpy(key->bytes, &v6->sin6_addr, IPV6_PREFIX_BYTES);
			key->length = IPV6_PREFIX_BYTES;
		}
	}
}

static bool key_equal(const struct address_key *a, const struct address_key *b)
{
	return a->length == b->length && memcmp(a->bytes, b->bytes, a->length) == 0;
}

/* A seeded mix over the key's two 64-bit halves: cheap, and without the
 * seed an outsider cannot predict which slot a key takes. */
static size_t key_hash(const struct address_count *table, const struct address_key *key)
{
	uint64_t low, high;

	memcpy(&low, key->bytes, 8);
	memcpy(&high, key->bytes + 8, 8);
	return (size_t)hash_mix(hash_mix(table->seed ^ low ^ key->length) ^ high);
}

static uint64_t random_seed(const void *salt)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	/* no entropy yet (early boot): still differs per process and table */
	return hash_mix((uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)salt);
}

/* ---- Slots ---- */

/* The slot holding KEY, or the free slot where it would go. */
static size_t find_slot(const struct address_count *table, const struct address_key *key)
{
	size_t mask = table->capacity - 1;
	size_t slot = key_hash(table, key) & mask;

	while (table->entries[slot].count != 0 && !key_equal(&table->entries[slot].key, key))
		slot = (slot + 1) & mask;
	return slot;
}

/* Moves every entry into a fresh array of CAPACITY slots; false when out of
 * memory (the table is then unchanged). */
static bool resize(struct address_count *table, size_t capacity)
{
	struct address_entry *old_entries = table->entries;
	size_t old_capacity = table->capacity;
	struct address_entry *entries = calloc(capacity, sizeof(*entries));

	if (entries == NULL)
		return false;
	table->entries = entries;
	table->capacity = capacity;
	for (size_t i = 0; i < old_capacity; i++) {
		if (old_entries[i].count != 0)
			entries[find_slot(table, &old_entries[i].key)] = old_entries[i];
	}
	free(old_entries);
	return true;
}

/* Empties SLOT, then pulls back each later entry of the run that may sit
 * there (its home slot is not between the hole and itself), so every
 * lookup still finds its key before reaching a free slot. */
static void remove_slot(struct address_count *table, size_t hole)
{
	size_t mask = table->capacity - 1;
	size_t next = (hole + 1) & mask;

	while (table->entries[next].count != 0) {
		size_t home = key_hash(table, &table->entries[next].key) & mask;
		/* distance travelled from home to next, against from home to hole */
		if (((next - home) & mask) >= ((next - hole) & mask)) {
			table->entries[hole] = table->entries[next];
			hole = next;
		}
		next = (next + 1) & mask;
	}
	memset(&table->entries[hole], 0, sizeof(table->entries[hole]));
	table->used--;
}

/* ---- Interface ---- */

struct address_count *address_count_new(void)
{
	struct address_count *table = calloc(1, sizeof(*table));

	if (table == NULL)
		return NULL;
	table->entries = calloc(INITIAL_CAPACITY, sizeof(*table->entries));
	if (table->entries == NULL) {
		free(table);
		return NULL;
	}
	table->capacity = INITIAL_CAPACITY;
	table->seed = random_seed(table);
	return table;
}

void address_count_free(struct address_count *table)
{
	if (table == NULL)
		return;
	free(table->entries);
	free(table);
}

bool address_count_acquire(struct address_count *table, const struct sockaddr *address,
			   unsigned max)
{
	struct address_key key;
	size_t slot;

	if (table == NULL)
		return false;
	key_from_sockaddr(address, &key);
	slot = find_slot(table, &key);
	if (table->entries[slot].count != 0) {
		if (table->entries[slot].count >= max)
			return false;
		table->entries[slot].count++;
		return true;
	}
	if (max == 0)
		return false;
	/* keep the load at most 3/4 so probe runs stay short */
	if ((table->used + 1) * 4 > table->capacity * 3) {
		if (table->capacity > SIZE_MAX / 2 / sizeof(*table->entries) ||
		    !resize(table, table->capacity * 2))
			return false;
		slot = find_slot(table, &key);
	}
	table->entries[slot].key = key;
	table->entries[slot].count = 1;
	table->used++;
	return true;
}

void address_count_release(struct address_count *table, const struct sockaddr *address)
{
	struct address_key key;
	size_t slot;

	if (table == NULL)
		return;
	key_from_sockaddr(address, &key);
	slot = find_slot(table, &key);
	if (table->entries[slot].count == 0)
		return; /* never acquired: nothing to forget */
	if (--table->entries[slot].count != 0)
		return;
	remove_slot(table, slot);
	/* give memory back after a flood; a failed shrink just keeps the room */
	if (table->capacity > INITIAL_CAPACITY && table->used * 8 < table->capacity)
		resize(table, table->capacity / 2);
}

unsigned address_count_get(const struct address_count *table, const struct sockaddr *address)
{
	struct address_key key;

	if (table == NULL)
		return 0;
	key_from_sockaddr(address, &key);
	return table->entries[find_slot(table, &key)].count;
}
