/* SPDX-License-Identifier: ISC */
/* dns: SRV and address look-ups with c-ares on a worker's libevent loop.
 *
 * c-ares says which sockets it wants watched (the socket-state callback) and
 * when it next needs to look at its timeouts (ares_timeout); one libevent
 * event per socket and one timer feed both back into ares_process_fd.
 *
 * No answer reaches a requester from inside c-ares or from inside the call
 * that asked: the c-ares callback only stores the answer in the query (and in
 * the cache), then activates the query's own "deliver" event.  A query that
 * c-ares still holds cannot be taken back from it, so cancelling one only
 * marks it and the c-ares callback frees it; dns_free marks them all before
 * ares_destroy, which calls every such callback one last time.
 *
 * Answers are cached per resolver for their TTL (negative ones for 30 s);
 * SRV targets are cached unordered and ordered afresh for every delivery,
 * since RFC 2782's weighted draw is meant to spread load per use. */
#include "dns.h"

#include "address.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

/* What every resolver starts with, and so what the daemon uses (it never
 * calls dns_set_timeout): c-ares waits 2 s for the first try and 4 s for
 * the second (it doubles per round), so a silent server fails a look-up
 * after 6 s, inside [federation] connect_timeout's default of 10 s. */
#define DNS_TIMEOUT_MS 2000
#define DNS_TRIES      2

#define DNS_TTL_MIN_S	   1
#define DNS_TTL_MAX_S	   3600
#define DNS_NEGATIVE_TTL_S 30
#define DNS_CACHE_BUCKETS  256 /* a power of two */
#define DNS_CACHE_MAX	   4096 /* entries; beyond, answers are simply not cached */

#define DNS_CLASS_IN	1
#define DNS_TYPE_CNAME	5
#define DNS_TYPE_SRV	33
#define DNS_HEADER_SIZE 12
#define DNS_NAME_MAX	255

enum dns_kind {
	DNS_KIND_SRV,
	DNS_KIND_ADDRESSES,
};

/* One answer.  SRV targets in the order the server gave them; addresses
 * AAAA first, port 0 (each delivery sets the port its requester asked). */
struct dns_answer {
	enum dns_status status;
	struct dns_target *targets;
	struct sockaddr_storage *addresses;
	size_t n;
};

struct dns_cache_entry {
	struct dns_cache_entry *next;
	enum dns_kind kind;
	char *name;
	int64_t expires_ms; /* CLOCK_MONOTONIC */
	struct dns_answer answer;
};

/* A socket c-ares asked us to watch. */
struct dns_socket {
	struct dns_socket *next;
	ares_socket_t fd;
	short events;
	struct event *event;
};

struct dns_query {
	struct dns_query *previous, *next; /* in dns->queries until cancelled or delivered */
	struct dns *dns;
	enum dns_kind kind;
	char *name; /* lower case, no trailing dot */
	uint16_t port;
	dns_srv_callback *srv_callback;
	dns_address_callback *address_callback;
	void *arg;
	struct event *deliver;
	struct dns_answer answer;
	bool linked;
	bool asking; /* c-ares holds it: only the c-ares callback may free it */
	bool cancelled; /* never call back */
	bool delivering; /* its callback is running */
};

struct dns {
	struct event_base *base;
	ares_channel channel;
	struct event *timer;
	struct dns_socket *sockets;
	struct dns_query *queries;
	struct dns_cache_entry *cache[DNS_CACHE_BUCKETS];
	size_t cache_count;
	size_t sweep_next; /* the bucket the next store also sweeps */
	bool freeing;
	bool used; /* a look-up was asked for: the timeouts are fixed */
	int64_t (*clock_ms)(void *arg); /* the cache's clock; NULL: CLOCK_MONOTONIC */
	void *clock_arg;
	/* The servers as given to ares_set_servers_ports_csv ("" for those of
	 * /etc/resolv.conf), kept so that dns_set_timeout can open the channel
	 * again with them. */
	char servers[INET6_ADDRSTRLEN + 16];
};

static int64_t now_ms(const struct dns *dns)
{
	struct timespec now;
	if (dns->clock_ms != NULL)
		return dns->clock_ms(dns->clock_arg);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static uint32_t ttl_bounded(uint32_t ttl)
{
	if (ttl < DNS_TTL_MIN_S)
		return DNS_TTL_MIN_S;
	return ttl > DNS_TTL_MAX_S ? DNS_TTL_MAX_S : ttl;
}

/* NAME in lower case without its trailing dot (malloc'd), or NULL. */
static char *name_normalised(const char *name)
{
	size_t length = strlen(name);
	if (length > 0 && name[length - 1] == '.')
		length--;
	char *copy = malloc(length + 1);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < length; i++) {
		char c = name[i];
		copy[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	copy[length] = '\0';
	return copy;
}

/* ---- answers ---- */

static void answer_clear(struct dns_answer *answer)
{
	if (answer->targets != NULL)
		for (size_t i = 0; i < answer->n; i++)
			free(answer->targets[i].host);
	free(answer->targets);
	free(answer->addresses);
	*answer = (struct dns_answer){ .status = DNS_FAILED };
}

static int answer_copy(struct dns_answer *copy, const struct dns_answer *answer)
{
	*copy = (struct dns_answer){ .status = answer->status };
	if (answer->n == 0)
		return 0;
	if (answer->addresses != NULL) {
		copy->addresses = malloc(answer->n * sizeof(*copy->addresses));
		if (copy->addresses == NULL)
			return -1;
		memcpy(copy->addresses, answer->addresses, answer->n * sizeof(*copy->addresses));
		copy->n = answer->n;
		return 0;
	}
	copy->targets = calloc(answer->n, sizeof(*copy->targets));
	if (copy->targets == NULL)
		return -1;
	copy->n = answer->n;
	for (size_t i = 0; i < answer->n; i++) {
		copy->targets[i] = answer->targets[i];
		copy->targets[i].host = strdup(answer->targets[i].host);
		if (copy->targets[i].host == NULL) {
			answer_clear(copy);
			return -1;
		}
	}
	return 0;
}

/* ---- the cache ---- */

static size_t cache_bucket(enum dns_kind kind, const char *name)
{
	uint32_t hash = 2166136261u ^ (uint32_t)kind; /* FNV-1a */
	for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++)
		hash = (hash ^ *c) * 16777619u;
	return hash & (DNS_CACHE_BUCKETS - 1);
}

static void cache_entry_free(struct dns_cache_entry *entry)
{
	answer_clear(&entry->answer);
	free(entry->name);
	free(entry);
}

static void cache_sweep(struct dns *dns, size_t bucket, int64_t now)
{
	struct dns_cache_entry **link = &dns->cache[bucket];
	while (*link != NULL) {
		struct dns_cache_entry *entry = *link;
		if (entry->expires_ms > now) {
			link = &entry->next;
			continue;
		}
		*link = entry->next;
		cache_entry_free(entry);
		dns->cache_count--;
	}
}

static struct dns_cache_entry *cache_find(struct dns *dns, enum dns_kind kind, const char *name)
{
	size_t bucket = cache_bucket(kind, name);
	cache_sweep(dns, bucket, now_ms(dns));
	for (struct dns_cache_entry *entry = dns->cache[bucket]; entry != NULL; entry = entry->next)
		if (entry->kind == kind && strcmp(entry->name, name) == 0)
			return entry;
	return NULL;
}

/* Keeps a copy of ANSWER for TTL seconds (bounded).  Failures are not kept:
 * the next requester should get a fresh try. */
static void cache_store(struct dns *dns, enum dns_kind kind, const char *name,
			const struct dns_answer *answer, uint32_t ttl)
{
	if (answer->status == DNS_FAILED)
		return;
	/* Sweeping one more bucket per store visits every entry in time, so
	 * names nobody asks for again do not stay in memory. */
	int64_t now = now_ms(dns);
	cache_sweep(dns, dns->sweep_next, now);
	dns->sweep_next = (dns->sweep_next + 1) & (DNS_CACHE_BUCKETS - 1);

	struct dns_cache_entry *entry = cache_find(dns, kind, name);
	if (entry == NULL) {
		if (dns->cache_count >= DNS_CACHE_MAX)
			return;
		entry = calloc(1, sizeof(*entry));
		if (entry == NULL || (entry->name = strdup(name)) == NULL) {
			free(entry);
			return;
		}
		size_t bucket = cache_bucket(kind, name);
		entry->kind = kind;
		entry->next = dns->cache[bucket];
		dns->cache[bucket] = entry;
		dns->cache_count++;
	}
	answer_clear(&entry->answer);
	if (answer_copy(&entry->answer, answer) != 0) {
		entry->expires_ms = 0; /* swept at the next look-up */
		return;
	}
	entry->expires_ms = now + (int64_t)ttl_bounded(ttl) * 1000;
}

static void cache_clear(struct dns *dns)
{
	for (size_t bucket = 0; bucket < DNS_CACHE_BUCKETS; bucket++)
		while (dns->cache[bucket] != NULL) {
			struct dns_cache_entry *entry = dns->cache[bucket];
			dns->cache[bucket] = entry->next;
			cache_entry_free(entry);
		}
	dns->cache_count = 0;
}

/* ---- reading TTLs from a DNS message (RFC 1035 §4.1) ----
 *
 * ares_parse_srv_reply gives no TTL, so the answer section is walked here.
 * Anything that does not fit the message exactly is refused. */

struct dns_message {
	const unsigned char *bytes;
	size_t length;
	size_t offset;
};

static uint16_t read_16(const unsigned char *bytes)
{
	return (uint16_t)(bytes[0] << 8 | bytes[1]);
}

static uint32_t read_32(const unsigned char *bytes)
{
	return (uint32_t)read_16(bytes) << 16 | read_16(bytes + 2);
}

/* Steps over a name.  A compression pointer ends a name, so skipping never
 * follows one and cannot loop; a pointer must still point back into the
 * message, as every real one does. */
static bool message_skip_name(struct dns_message *message)
{
	size_t name_length = 1;
	for (;;) {
		if (message->offset >= message->length)
			return false;
		size_t label = message->bytes[message->offset];
		if ((label & 0xC0) == 0xC0) {
			if (message->length - message->offset < 2)
				return false;
			size_t target = read_16(message->bytes + message->offset) & 0x3FFF;
			if (target < DNS_HEADER_SIZE || target >= message->offset)
				return false;
			message->offset += 2;
			return true;
		}
		if ((label & 0xC0) != 0) /* the reserved label types */
			return false;
		message->offset++;
		if (label == 0)
			return true;
		name_length += label + 1;
		if (name_length > DNS_NAME_MAX || message->length - message->offset < label)
			return false;
		message->offset += label;
	}
}

/* The smallest TTL of the SRV and CNAME records in the answer section of
 * BYTES, UINT32_MAX if it has none, or -1 if the message is malformed. */
static int64_t message_answer_ttl(const unsigned char *bytes, size_t length)
{
	struct dns_message message = { bytes, length, DNS_HEADER_SIZE };
	if (length < DNS_HEADER_SIZE)
		return -1;
	unsigned questions = read_16(bytes + 4);
	unsigned answers = read_16(bytes + 6);
	for (unsigned i = 0; i < questions; i++) {
		if (!message_skip_name(&message) || length - message.offset < 4)
			return -1;
		message.offset += 4; /* type, class */
	}
	int64_t smallest = UINT32_MAX;
	for (unsigned i = 0; i < answers; i++) {
		if (!message_skip_name(&message) || length - message.offset < 10)
			return -1;
		const unsigned char *fields = bytes + message.offset;
		uint16_t type = read_16(fields);
		uint16_t class = read_16(fields + 2);
		uint32_t ttl = read_32(fields + 4);
		uint16_t data_length = read_16(fields + 8);
		message.offset += 10;
		if (length - message.offset < data_length)
			return -1;
		message.offset += data_length;
		if (class != DNS_CLASS_IN || (type != DNS_TYPE_SRV && type != DNS_TYPE_CNAME))
			continue;
		if (type == DNS_TYPE_SRV && data_length < 7) /* 3 numbers and a name */
			return -1;
		if (ttl > INT32_MAX) /* RFC 2181 §8: treat as zero */
			ttl = 0;
		if (ttl < smallest)
			smallest = ttl;
	}
	return smallest;
}

/* ---- turning c-ares results into answers ---- */

static bool is_root(const char *host)
{
	return host[0] == '\0' || strcmp(host, ".") == 0;
}

/* Fills ANSWER's targets from REPLIES, leaving out the root ("service not
 * here"); none left is NOT_FOUND. */
static void answer_take_targets(struct dns_answer *answer, const struct ares_srv_reply *replies)
{
	size_t count = 0;
	for (const struct ares_srv_reply *reply = replies; reply != NULL; reply = reply->next)
		count++;
	answer->targets = calloc(count > 0 ? count : 1, sizeof(*answer->targets));
	if (answer->targets == NULL) {
		answer->status = DNS_FAILED;
		return;
	}
	for (const struct ares_srv_reply *reply = replies; reply != NULL; reply = reply->next) {
		if (is_root(reply->host))
			continue;
		struct dns_target *target = &answer->targets[answer->n];
		target->host = name_normalised(reply->host);
		if (target->host == NULL) {
			answer_clear(answer);
			return;
		}
		target->port = reply->port;
		target->priority = reply->priority;
		target->weight = reply->weight;
		answer->n++;
	}
	answer->status = answer->n > 0 ? DNS_OK : DNS_NOT_FOUND;
}

/* The answer to an SRV query, and in TTL how long it may be kept. */
static void answer_from_srv(struct dns_answer *answer, uint32_t *ttl, int status,
			    const unsigned char *message, int length)
{
	*answer = (struct dns_answer){ .status = DNS_FAILED };
	*ttl = DNS_NEGATIVE_TTL_S;
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		answer->status = DNS_NOT_FOUND;
		return;
	}
	if (status != ARES_SUCCESS || message == NULL || length <= 0)
		return;
	struct ares_srv_reply *replies = NULL;
	int parsed = ares_parse_srv_reply(message, length, &replies);
	if (parsed == ARES_ENODATA) { /* only records of other types */
		answer->status = DNS_NOT_FOUND;
		return;
	}
	int64_t smallest = message_answer_ttl(message, (size_t)length);
	if (parsed == ARES_SUCCESS && smallest >= 0) {
		answer_take_targets(answer, replies);
		if (answer->status == DNS_OK)
			*ttl = (uint32_t)smallest;
	}
	if (replies != NULL)
		ares_free_data(replies);
}

static bool address_seen(const struct dns_answer *answer, const struct sockaddr *address,
			 size_t size)
{
	for (size_t i = 0; i < answer->n; i++)
		if (memcmp(&answer->addresses[i], address, size) == 0)
			return true;
	return false;
}

/* Appends RESULT's addresses of FAMILY to ANSWER, without duplicates. */
static void answer_take_family(struct dns_answer *answer, const struct ares_addrinfo *result,
			       int family, uint32_t *ttl)
{
	for (const struct ares_addrinfo_node *node = result->nodes; node != NULL;
	     node = node->ai_next) {
		size_t size = family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in);
		if (node->ai_family != family || node->ai_addr == NULL || node->ai_addrlen < size)
			continue;
		struct sockaddr_storage address = { 0 };
		memcpy(&address, node->ai_addr, size);
		if (family == AF_INET6)
			((struct sockaddr_in6 *)&address)->sin6_port = 0;
		else
			((struct sockaddr_in *)&address)->sin_port = 0;
		if (address_seen(answer, (struct sockaddr *)&address, sizeof(address)))
			continue;
		answer->addresses[answer->n++] = address;
		uint32_t node_ttl = node->ai_ttl > 0 ? (uint32_t)node->ai_ttl : 0;
		if (node_ttl < *ttl)
			*ttl = node_ttl;
	}
}

/* The answer to an address look-up: AAAA before A (the order a dual-stack
 * host should try them), and in TTL the smallest of the records and of the
 * CNAMEs that led to them. */
static void answer_from_addrinfo(struct dns_answer *answer, uint32_t *ttl, int status,
				 const struct ares_addrinfo *result)
{
	*answer = (struct dns_answer){ .status = DNS_FAILED };
	*ttl = DNS_NEGATIVE_TTL_S;
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		answer->status = DNS_NOT_FOUND;
		return;
	}
	if (status != ARES_SUCCESS || result == NULL)
		return;
	size_t count = 0;
	for (const struct ares_addrinfo_node *node = result->nodes; node != NULL;
	     node = node->ai_next)
		count++;
	if (count == 0) {
		answer->status = DNS_NOT_FOUND;
		return;
	}
	answer->addresses = calloc(count, sizeof(*answer->addresses));
	if (answer->addresses == NULL)
		return;
	uint32_t smallest = UINT32_MAX;
	answer_take_family(answer, result, AF_INET6, &smallest);
	answer_take_family(answer, result, AF_INET, &smallest);
	for (const struct ares_addrinfo_cname *cname = result->cnames; cname != NULL;
	     cname = cname->next)
		if (cname->ttl >= 0 && (uint32_t)cname->ttl < smallest)
			smallest = (uint32_t)cname->ttl;
	if (answer->n == 0) {
		answer_clear(answer);
		answer->status = DNS_NOT_FOUND;
		return;
	}
	answer->status = DNS_OK;
	*ttl = smallest;
}

/* ---- queries ---- */

static void query_unlink(struct dns_query *query)
{
	if (!query->linked)
		return;
	if (query->previous != NULL)
		query->previous->next = query->next;
	else
		query->dns->queries = query->next;
	if (query->next != NULL)
		query->next->previous = query->previous;
	query->previous = query->next = NULL;
	query->linked = false;
}

static void query_release(struct dns_query *query)
{
	query_unlink(query);
	if (query->deliver != NULL)
		event_free(query->deliver);
	answer_clear(&query->answer);
	free(query->name);
	free(query);
}

static uint32_t dns_random(void *arg, uint32_t max);

static void query_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *query = arg;
	struct dns_answer *answer = &query->answer;
	(void)fd;
	(void)what;
	/* Unlinked first: the callback may free the resolver. */
	query_unlink(query);
	query->delivering = true;
	size_t n = answer->status == DNS_OK ? answer->n : 0;
	if (query->kind == DNS_KIND_SRV) {
		dns_srv_order(answer->targets, n, dns_random, NULL);
		query->srv_callback(query->arg, answer->status, n ? answer->targets : NULL, n);
	} else {
		for (size_t i = 0; i < n; i++) {
			struct sockaddr_storage *address = &answer->addresses[i];
			if (address->ss_family == AF_INET6)
				((struct sockaddr_in6 *)address)->sin6_port = htons(query->port);
			else
				((struct sockaddr_in *)address)->sin_port = htons(query->port);
		}
		query->address_callback(query->arg, answer->status, n ? answer->addresses : NULL,
					n);
	}
	query_release(query);
}

/* The answer is in: deliver it from the loop, or drop a cancelled query. */
static void query_answered(struct dns_query *query)
{
	query->asking = false;
	if (query->cancelled)
		query_release(query);
	else
		event_active(query->deliver, EV_TIMEOUT, 1);
}

static struct dns_query *query_new(struct dns *dns, enum dns_kind kind, const char *name, void *arg)
{
	struct dns_query *query = calloc(1, sizeof(*query));
	if (query == NULL)
		return NULL;
	dns->used = true;
	query->dns = dns;
	query->kind = kind;
	query->arg = arg;
	query->answer.status = DNS_FAILED;
	query->name = name_normalised(name);
	query->deliver = event_new(dns->base, -1, 0, query_deliver, query);
	if (query->name == NULL || query->deliver == NULL) {
		query_release(query);
		return NULL;
	}
	query->next = dns->queries;
	if (dns->queries != NULL)
		dns->queries->previous = query;
	dns->queries = query;
	query->linked = true;
	return query;
}

/* ---- c-ares on the libevent loop ---- */

static void timer_rearm(struct dns *dns)
{
	struct timeval wait;
	if (ares_timeout(dns->channel, NULL, &wait) == NULL)
		evtimer_del(dns->timer);
	else
		evtimer_add(dns->timer, &wait);
}

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct dns *dns = arg;
	(void)fd;
	(void)what;
	ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	timer_rearm(dns);
}

static void socket_ready(evutil_socket_t fd, short what, void *arg)
{
	struct dns *dns = arg;
	ares_process_fd(dns->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	timer_rearm(dns);
}

static void socket_forget(struct dns_socket **link)
{
	struct dns_socket *watched = *link;
	*link = watched->next;
	if (watched->event != NULL)
		event_free(watched->event);
	free(watched);
}

/* c-ares opened, closed or changed its interest in FD.  (It reports a
 * closing socket before closing it, so the event goes first.) */
static void socket_state_changed(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *dns = data;
	short events = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	struct dns_socket **link = &dns->sockets;
	while (*link != NULL && (*link)->fd != fd)
		link = &(*link)->next;
	struct dns_socket *watched = *link;

	if (events == 0) {
		if (watched != NULL)
			socket_forget(link);
		return;
	}
	if (watched != NULL && watched->events == events)
		return;
	if (watched == NULL) {
		watched = calloc(1, sizeof(*watched));
		if (watched == NULL)
			return; /* the query times out through the timer */
		watched->fd = fd;
		watched->next = dns->sockets;
		dns->sockets = watched;
		link = &dns->sockets;
	} else {
		event_free(watched->event);
	}
	watched->events = events;
	watched->event = event_new(dns->base, fd, events | EV_PERSIST, socket_ready, dns);
	if (watched->event == NULL || event_add(watched->event, NULL) != 0)
		socket_forget(link);
}

static void srv_answered(void *arg, int status, int timeouts, unsigned char *message, int length)
{
	struct dns_query *query = arg;
	uint32_t ttl;
	(void)timeouts;
	answer_from_srv(&query->answer, &ttl, status, message, length);
	/* Cached even for a cancelled query: the work is done. */
	if (!query->dns->freeing && status != ARES_ECANCELLED)
		cache_store(query->dns, DNS_KIND_SRV, query->name, &query->answer, ttl);
	query_answered(query);
}

static void addresses_answered(void *arg, int status, int timeouts, struct ares_addrinfo *result)
{
	struct dns_query *query = arg;
	uint32_t ttl;
	(void)timeouts;
	answer_from_addrinfo(&query->answer, &ttl, status, result);
	if (result != NULL)
		ares_freeaddrinfo(result);
	if (!query->dns->freeing && status != ARES_ECANCELLED)
		cache_store(query->dns, DNS_KIND_ADDRESSES, query->name, &query->answer, ttl);
	query_answered(query);
}

static void query_ask(struct dns_query *query)
{
	struct dns *dns = query->dns;
	query->asking = true;
	if (query->kind == DNS_KIND_SRV) {
		ares_query(dns->channel, query->name, DNS_CLASS_IN, DNS_TYPE_SRV, srv_answered,
			   query);
	} else {
		/* Our own AAAA-first order instead of c-ares's RFC 6724 sort,
		 * which connects a UDP socket per address. */
		struct ares_addrinfo_hints hints = { .ai_flags = ARES_AI_NOSORT,
						     .ai_family = AF_UNSPEC };
		ares_getaddrinfo(dns->channel, query->name, NULL, &hints, addresses_answered,
				 query);
	}
	/* (c-ares may have answered already, e.g. from /etc/hosts.) */
	timer_rearm(dns);
}

/* Answers from the cache, or asks. */
static void query_start(struct dns_query *query)
{
	if (query->name[0] == '\0') {
		query_answered(query); /* FAILED */
		return;
	}
	struct dns_cache_entry *entry = cache_find(query->dns, query->kind, query->name);
	if (entry != NULL && answer_copy(&query->answer, &entry->answer) == 0) {
		query_answered(query);
		return;
	}
	query_ask(query);
}

struct dns_query *dns_resolve_srv(struct dns *dns, const char *name, dns_srv_callback *callback,
				  void *arg)
{
	struct dns_query *query = query_new(dns, DNS_KIND_SRV, name, arg);
	if (query == NULL)
		return NULL;
	query->srv_callback = callback;
	query_start(query);
	return query;
}

struct dns_query *dns_resolve_addresses(struct dns *dns, const char *host, uint16_t port,
					dns_address_callback *callback, void *arg)
{
	struct dns_query *query = query_new(dns, DNS_KIND_ADDRESSES, host, arg);
	if (query == NULL)
		return NULL;
	query->address_callback = callback;
	query->port = port;
	struct sockaddr_storage literal;
	if (address_parse(query->name, 0, &literal) == 0) {
		query_start(query);
		return query;
	}
	query->answer.addresses = malloc(sizeof(literal));
	if (query->answer.addresses != NULL) {
		query->answer.addresses[0] = literal;
		query->answer.n = 1;
		query->answer.status = DNS_OK;
	}
	query_answered(query);
	return query;
}

void dns_cancel(struct dns_query *query)
{
	if (query == NULL || query->delivering)
		return;
	if (query->asking) {
		/* c-ares calls back (at the latest from ares_destroy), and
		 * that frees it; until then only c-ares knows it. */
		query->cancelled = true;
		query_unlink(query);
	} else {
		query_release(query);
	}
}

/* ---- the resolver ---- */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_status = ARES_SUCCESS;

static void library_init(void)
{
	library_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static int dns_name_server(struct dns *dns, const char *host, uint16_t port, char *err,
			   size_t err_size)
{
	struct sockaddr_storage address;
	if (address_parse(host, 0, &address) == 0) {
		snprintf(err, err_size, "DNS server %s: not an IP address", host);
		return -1;
	}
	if (address.ss_family == AF_INET6)
		snprintf(dns->servers, sizeof(dns->servers), "[%s]:%u", host, port);
	else
		snprintf(dns->servers, sizeof(dns->servers), "%s:%u", host, port);
	return 0;
}

/* Opens a c-ares channel for DNS into *CHANNEL with these timeouts and
 * DNS's servers. */
static int channel_open(struct dns *dns, ares_channel *channel, unsigned timeout_ms, unsigned tries,
			char *err, size_t err_size)
{
	/* No search domains: every name we look up is fully qualified. */
	struct ares_options options = {
		.timeout = (int)timeout_ms,
		.tries = (int)tries,
		.ndomains = 0,
		.sock_state_cb = socket_state_changed,
		.sock_state_cb_data = dns,
	};
	int status = ares_init_options(channel, &options,
				       ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_DOMAINS |
					       ARES_OPT_SOCK_STATE_CB);
	if (status != ARES_SUCCESS) {
		snprintf(err, err_size, "c-ares: %s", ares_strerror(status));
		return -1;
	}
	if (dns->servers[0] != '\0' &&
	    (status = ares_set_servers_ports_csv(*channel, dns->servers)) != ARES_SUCCESS) {
		snprintf(err, err_size, "DNS server %s: %s", dns->servers, ares_strerror(status));
		ares_destroy(*channel);
		return -1;
	}
	return 0;
}

struct dns *dns_new(struct event_base *base, const char *server_host, uint16_t server_port,
		    char *err, size_t err_size)
{
	pthread_once(&library_once, library_init);
	if (library_status != ARES_SUCCESS) {
		snprintf(err, err_size, "c-ares: %s", ares_strerror(library_status));
		return NULL;
	}
	struct dns *dns = calloc(1, sizeof(*dns));
	if (dns == NULL || (dns->timer = evtimer_new(base, timer_fired, dns)) == NULL) {
		snprintf(err, err_size, "out of memory");
		free(dns);
		return NULL;
	}
	dns->base = base;
	if ((server_host != NULL &&
	     dns_name_server(dns, server_host, server_port, err, err_size) < 0) ||
	    channel_open(dns, &dns->channel, DNS_TIMEOUT_MS, DNS_TRIES, err, err_size) < 0) {
		event_free(dns->timer);
		free(dns);
		return NULL;
	}
	return dns;
}

int dns_set_timeout(struct dns *dns, unsigned timeout_ms, unsigned tries, char *err,
		    size_t err_size)
{
	ares_channel channel;

	if (timeout_ms == 0 || timeout_ms > DNS_TIMEOUT_MAX_MS || tries == 0 ||
	    tries > DNS_TRIES_MAX) {
		snprintf(err, err_size, "DNS timeout %u ms, %u tries: out of range", timeout_ms,
			 tries);
		return -1;
	}
	/* c-ares takes its timeouts only when a channel is made, so this makes
	 * a new one; a query of the old one would be lost with it.  Before the
	 * first look-up there is none, and the timeouts do not change under a
	 * caller that has seen them at work. */
	if (dns->used) {
		snprintf(err, err_size, "DNS timeout: the resolver has been used already");
		return -1;
	}
	if (channel_open(dns, &channel, timeout_ms, tries, err, err_size) < 0)
		return -1;
	ares_destroy(dns->channel);
	dns->channel = channel;
	return 0;
}

void dns_set_clock(struct dns *dns, int64_t (*clock_ms)(void *arg), void *arg)
{
	dns->clock_ms = clock_ms;
	dns->clock_arg = arg;
}

void dns_free(struct dns *dns)
{
	if (dns == NULL)
		return;
	dns->freeing = true;
	for (struct dns_query *query = dns->queries; query != NULL; query = query->next)
		query->cancelled = true;
	ares_destroy(dns->channel); /* calls back (and so frees) every query it holds */
	while (dns->queries != NULL)
		query_release(dns->queries);
	while (dns->sockets != NULL)
		socket_forget(&dns->sockets);
	event_free(dns->timer);
	cache_clear(dns);
	free(dns);
}

/* ---- RFC 2782 ordering ---- */

/* A uniform number in [0, MAX] from OpenSSL's generator (seeded by it). */
static uint32_t dns_random(void *arg, uint32_t max)
{
	(void)arg;
	uint64_t range = (uint64_t)max + 1;
	uint64_t limit = ((uint64_t)UINT32_MAX + 1) / range * range; /* no modulo bias */
	uint32_t value;
	do {
		if (RAND_bytes((unsigned char *)&value, sizeof(value)) != 1)
			return 0; /* the order is still valid, only no longer random */
	} while (value >= limit);
	return (uint32_t)(value % range);
}

/* Stable insertion sort by priority, weight-0 targets first within one. */
static bool target_before(const struct dns_target *a, const struct dns_target *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->weight == 0 && b->weight != 0;
}

static void targets_sort(struct dns_target *targets, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct dns_target moving = targets[i];
		size_t j = i;
		for (; j > 0 && target_before(&moving, &targets[j - 1]); j--)
			targets[j] = targets[j - 1];
		targets[j] = moving;
	}
}

/* Orders one priority's targets by repeated weighted draws.  The ones not
 * yet chosen keep their relative order, so the weight-0 ones stay first. */
static void targets_draw(struct dns_target *targets, size_t n,
			 uint32_t (*random)(void *arg, uint32_t max), void *arg)
{
	for (size_t first = 0; first + 1 < n; first++) {
		uint64_t sum = 0;
		for (size_t i = first; i < n; i++)
			sum += targets[i].weight;
		if (sum == 0)
			return; /* every draw would take the first: the order stands */
		/* A sum above UINT32_MAX would need 65538 targets of one
		 * priority, more than a DNS message holds. */
		uint64_t drawn = random(arg, sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum);
		if (drawn > sum) /* a source that ignores MAX */
			drawn = sum;
		size_t chosen = first;
		for (uint64_t running = targets[first].weight; running < drawn;)
			running += targets[++chosen].weight;
		struct dns_target picked = targets[chosen];
		memmove(&targets[first + 1], &targets[first], (chosen - first) * sizeof(*targets));
		targets[first] = picked;
	}
}

void dns_srv_order(struct dns_target *targets, size_t n,
		   uint32_t (*random)(void *arg, uint32_t max), void *arg)
{
	targets_sort(targets, n);
	for (size_t start = 0; start < n;) {
		size_t end = start + 1;
		while (end < n && targets[end].priority == targets[start].priority)
			end++;
		targets_draw(targets + start, end - start, random, arg);
		start = end;
	}
}
