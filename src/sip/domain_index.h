/* SPDX-License-Identifier: ISC */
/* domain_index: values by partner domain, so that finding the connection
 * or link that speaks for a domain costs one hash look-up, not a scan of
 * every connection.  Domains compare case-insensitively.  A domain may have
 * several values (a partner with several connections to us); the newest
 * comes first.  Pure: it does not own its values. */
#ifndef SXEDGE_SIP_DOMAIN_INDEX_H
#define SXEDGE_SIP_DOMAIN_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_INDEX_BUCKETS 256

struct domain_index_entry;

struct domain_index {
	struct domain_index_entry *buckets[DOMAIN_INDEX_BUCKETS];
	size_t count;
};

void domain_index_init(struct domain_index *index);
/* Forgets every entry (not the values). */
void domain_index_clear(struct domain_index *index);

/* Files VALUE under DOMAIN.  Returns -1 when out of memory. */
int domain_index_add(struct domain_index *index, const char *domain, void *value);

/* Takes VALUE out from under DOMAIN; false when it was not there. */
bool domain_index_remove(struct domain_index *index, const char *domain, const void *value);

/* Up to MAX of the values under DOMAIN into VALUES, newest first; returns
 * how many there are in all. */
size_t domain_index_find(const struct domain_index *index, const char *domain, void **values,
			 size_t max);

#endif
