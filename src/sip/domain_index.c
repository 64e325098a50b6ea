/* SPDX-License-Identifier: ISC */
/* domain_index: a chained hash of (lower-case domain, value) pairs. */
#include "domain_index.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct domain_index_entry {
	char *domain; /* lower case */
	void *value;
	struct domain_index_entry *next;
};

static size_t domain_bucket(const char *domain)
{
	uint64_t hash = 0xcbf29ce484222325ULL;
	for (; *domain != '\0'; domain++)
		hash = (hash ^ (unsigned char)tolower((unsigned char)*domain)) * 0x100000001b3ULL;
	return (size_t)(hash % DOMAIN_INDEX_BUCKETS);
}

void domain_index_init(struct domain_index *index)
{
	memset(index, 0, sizeof(*index));
}

void domain_index_clear(struct domain_index *index)
{
	for (size_t i = 0; i < DOMAIN_INDEX_BUCKETS; i++) {
		while (index->buckets[i] != NULL) {
			struct domain_index_entry *entry = index->buckets[i];
			index->buckets[i] = entry->next;
			free(entry->domain);
			free(entry);
		}
	}
	index->count = 0;
}

int domain_index_add(struct domain_index *index, const char *domain, void *value)
{
	struct domain_index_entry *entry = calloc(1, sizeof(*entry));
	if (entry == NULL || (entry->domain = strdup(domain)) == NULL) {
		free(entry);
		return -1;
	}
	for (char *c = entry->domain; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	entry->value = value;
	size_t bucket = domain_bucket(domain);
	entry->next = index->buckets[bucket];
	index->buckets[bucket] = entry;
	index->count++;
	return 0;
}

bool domain_index_remove(struct domain_index *index, const char *domain, const void *value)
{
	struct domain_index_entry **at = &index->buckets[domain_bucket(domain)];
	for (; *at != NULL; at = &(*at)->next) {
		struct domain_index_entry *entry = *at;
		if (entry->value == value && strcasecmp(entry->domain, domain) == 0) {
			*at = entry->next;
			free(entry->domain);
			free(entry);
			index->count--;
			return true;
		}
	}
	return false;
}

size_t domain_index_find(const struct domain_index *index, const char *domain, void **values,
			 size_t max)
{
	size_t n = 0;
	for (const struct domain_index_entry *entry = index->buckets[domain_bucket(domain)];
	     entry != NULL; entry = entry->next) {
		if (strcasecmp(entry->domain, domain) != 0)
			continue;
		if (n < max)
			values[n] = entry->value;
		n++;
	}
	return n;
}
