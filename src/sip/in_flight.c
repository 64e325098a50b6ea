/* SPDX-License-Identifier: ISC */
/* in_flight: a hash of the requests in flight on one link, by Via branch
 * and method, threaded on a list from oldest to newest so that expiry and
 * eviction take from one end. */
#include "in_flight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "via_branch.h"

#define TIMER_F_MS (64 * 500) /* 64*T1: a non-INVITE client gives up then */

uint64_t in_flight_lifetime_ms(const char *method)
{
	return strcmp(method, "INVITE") == 0 ? (uint64_t)VIA_STAMP_MAX_AGE * 1000 : TIMER_F_MS;
}

static size_t key_bucket(const char *key)
{
	uint64_t hash = 0xcbf29ce484222325ULL;
	for (; *key != '\0'; key++)
		hash = (hash ^ (unsigned char)*key) * 0x100000001b3ULL;
	return (size_t)(hash % IN_FLIGHT_BUCKETS);
}

void in_flight_init(struct in_flight *table, size_t max)
{
	memset(table, 0, sizeof(*table));
	table->max = max;
}

void in_flight_entry_free(struct in_flight_entry *entry)
{
	if (entry == NULL)
		return;
	free(entry->key);
	free(entry->fields);
	free(entry);
}

/* Unlinks ENTRY from its bucket and from the age list. */
static void unlink_entry(struct in_flight *table, struct in_flight_entry *entry)
{
	struct in_flight_entry **at = &table->buckets[key_bucket(entry->key)];
	while (*at != entry)
		at = &(*at)->hash_next;
	*at = entry->hash_next;
	if (entry->older != NULL)
		entry->older->newer = entry->newer;
	else
		table->oldest = entry->newer;
	if (entry->newer != NULL)
		entry->newer->older = entry->older;
	else
		table->newest = entry->older;
	table->count--;
}

static struct in_flight_entry *find(const struct in_flight *table, const char *key)
{
	struct in_flight_entry *entry = table->buckets[key_bucket(key)];
	while (entry != NULL && strcmp(entry->key, key) != 0)
		entry = entry->hash_next;
	return entry;
}

static struct in_flight_entry *take_oldest(struct in_flight *table)
{
	struct in_flight_entry *entry = table->oldest;
	if (entry != NULL)
		unlink_entry(table, entry);
	return entry;
}

struct in_flight_entry *in_flight_take_oldest(struct in_flight *table, uint64_t now_ms)
{
	struct in_flight_entry *entry;
	while ((entry = take_oldest(table)) != NULL && entry->expires_ms <= now_ms)
		in_flight_entry_free(entry);
	return entry;
}

void in_flight_expire(struct in_flight *table, uint64_t now_ms)
{
	while (table->oldest != NULL && table->oldest->expires_ms <= now_ms)
		in_flight_entry_free(take_oldest(table));
}

void in_flight_clear(struct in_flight *table)
{
	struct in_flight_entry *entry;
	while ((entry = take_oldest(table)) != NULL)
		in_flight_entry_free(entry);
}

/* "BRANCH METHOD" in a malloc'd buffer, or NULL. */
static char *make_key(const char *branch, const char *method)
{
	size_t size = strlen(branch) + 1 + strlen(method) + 1;
	char *key = malloc(size);
	if (key != NULL)
		snprintf(key, size, "%s %s", branch, method);
	return key;
}

enum in_flight_add_result in_flight_add(struct in_flight *table, const char *branch,
					const char *method, uint64_t arrival_id,
					enum listener_role arrival_role, char *fields,
					size_t fields_len, uint64_t now_ms)
{
	enum in_flight_add_result result = IN_FLIGHT_ADDED;
	struct in_flight_entry *entry = calloc(1, sizeof(*entry));
	char *key = make_key(branch, method);

	if (entry == NULL || key == NULL) {
		free(entry);
		free(key);
		free(fields);
		return IN_FLIGHT_NO_MEMORY;
	}
	/* Oldest first: an INVITE may outlive the non-INVITEs after it, which
	 * then wait for it to go, still within the bound. */
	in_flight_expire(table, now_ms);
	struct in_flight_entry *earlier = find(table, key);
	if (earlier != NULL) {
		unlink_entry(table, earlier);
		in_flight_entry_free(earlier);
	}
	if (table->max > 0 && table->count >= table->max) {
		in_flight_entry_free(take_oldest(table));
		result = IN_FLIGHT_EVICTED;
	}
	entry->key = key;
	entry->method = key + strlen(branch) + 1;
	entry->arrival_id = arrival_id;
	entry->arrival_role = arrival_role;
	entry->fields = fields;
	entry->fields_len = fields_len;
	entry->expires_ms = now_ms + in_flight_lifetime_ms(method);
	size_t bucket = key_bucket(key);
	entry->hash_next = table->buckets[bucket];
	table->buckets[bucket] = entry;
	entry->older = table->newest;
	if (table->newest != NULL)
		table->newest->newer = entry;
	else
		table->oldest = entry;
	table->newest = entry;
	table->count++;
	return result;
}

bool in_flight_remove(struct in_flight *table, const char *branch, const char *method)
{
	char *key = make_key(branch, method);
	struct in_flight_entry *entry = key != NULL ? find(table, key) : NULL;
	free(key);
	if (entry == NULL)
		return false;
	unlink_entry(table, entry);
	in_flight_entry_free(entry);
	return true;
}
