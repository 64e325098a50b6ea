/* SPDX-License-Identifier: ISC */
/* Unit tests for src/turn/allocation_table and the companions under it
 * (record_pool, expiry_heap): quotas per user and in total with their
 * refusals, lifetimes (default, cut to the maximum, Refresh 0, expiry at the
 * exact boundary), one timer for the whole table, permissions (lifetime,
 * port ignored, all-or-nothing limit), channels (range, one peer per channel
 * and one channel per peer, rebinding, expiry, limits), bandwidth, look-ups
 * after 10,000 allocations come and go, RFC 6062 connection ids, and the
 * memory an allocation costs. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocation_table.h"
#include "expiry_heap.h"
#include "record_pool.h"
#include "test_allocator.h"
#include "test_suite.h"

#define SECOND 1000u
#define T0     1000000u /* the tests' start, in ms */

/* ---- Helpers ---- */

static struct transport_address ipv4(uint32_t address, uint16_t port)
{
	struct transport_address out;

	memset(&out, 0, sizeof(out));
	out.family = AF_INET;
	address = htonl(address);
	memcpy(out.ip, &address, 4);
	out.port = port;
	return out;
}

/* Client I: 198.51.0.0/16 plus I, port 10000 + I % 50000, to 192.0.2.1:3478 over UDP. */
static struct five_tuple client(uint32_t i)
{
	struct five_tuple tuple;

	memset(&tuple, 0, sizeof(tuple));
	tuple.client = ipv4(0xc6330000u + i, (uint16_t)(10000 + i % 50000));
	tuple.server = ipv4(0xc0000201u, 3478);
	tuple.transport = TURN_TRANSPORT_UDP;
	return tuple;
}

static struct transport_address relay(uint32_t i)
{
	/* 192.0.2.1, ports from 50000 on, then further addresses */
	return ipv4(0xc0000201u + i / 10000, (uint16_t)(50000 + i % 10000));
}

static struct transport_address peer(uint32_t i, uint16_t port)
{
	return ipv4(0xcb007100u + i, port); /* 203.0.113.0/24 */
}

static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t transaction[12] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k' };

static struct allocation_request request(uint32_t i, const char *user)
{
	struct allocation_request wanted = {
		.five_tuple = client(i),
		.relay_transport = TURN_TRANSPORT_UDP,
		.relay = relay(i),
		.user = user,
		.user_length = strlen(user),
		.key = key,
		.key_length = sizeof(key),
		.transaction_id = transaction,
	};
	return wanted;
}

/* What the hooks saw. */
struct ends {
	unsigned allocations, connections;
	enum allocation_end last_allocation_why, last_connection_why;
	enum allocation_connection_state last_connection_state;
	uint64_t last_expires_ms;
};

static void allocation_ended(void *context, struct allocation *allocation, enum allocation_end why)
{
	struct ends *ends = context;

	ends->allocations++;
	ends->last_allocation_why = why;
	ends->last_expires_ms = allocation->expires_ms;
}

static void connection_ended(void *context, struct allocation_connection *connection,
			     enum allocation_end why)
{
	struct ends *ends = context;

	ends->connections++;
	ends->last_connection_why = why;
	ends->last_connection_state = connection->state;
}

static struct ends ends;

static struct allocation_table *table_with(const struct allocation_limits *limits)
{
	struct allocation_hooks hooks = { .allocation_ended = allocation_ended,
					  .connection_ended = connection_ended,
					  .context = &ends };
	struct allocation_table *table;

	memset(&ends, 0, sizeof(ends));
	table = allocation_table_new(limits, &hooks, 0x5eed5eed5eedULL);
	ck_assert_ptr_nonnull(table);
	return table;
}

static struct allocation *create_ok(struct allocation_table *table, uint32_t i, const char *user,
				    uint64_t now_ms)
{
	struct allocation_request wanted = request(i, user);
	enum allocation_result result;
	struct allocation *allocation = allocation_create(table, &wanted, now_ms, &result);

	ck_assert_msg(allocation != NULL, "allocation %u refused: %s", i,
		      allocation_result_name(result));
	ck_assert_int_eq(result, ALLOCATION_OK);
	return allocation;
}

static enum allocation_result create_refused(struct allocation_table *table, uint32_t i,
					     const char *user, uint64_t now_ms)
{
	struct allocation_request wanted = request(i, user);
	enum allocation_result result;

	ck_assert_ptr_null(allocation_create(table, &wanted, now_ms, &result));
	ck_assert_int_ne(result, ALLOCATION_OK);
	return result;
}

/* ---- The record and its cost ---- */

/* The bound this module promises: all of sxedge's per-allocation memory is
 * to stay under 2 KiB, so the table's record stays at a quarter of that. */
START_TEST(test_record_size_bound)
{
	ck_assert_uint_le(sizeof(struct allocation), 256);
	ck_assert_uint_le(sizeof(struct allocation_connection), 80);
	ck_assert_uint_eq(sizeof(struct transport_address), 20);
}
END_TEST

/* Everything the table holds, indexes and heap included, for 10,000
 * allocations with two permissions and two channels each. */
START_TEST(test_memory_per_allocation)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct allocation_table_counts counts;
	enum {
		ALLOCATIONS = 10000
	};
	char user[32];

	for (uint32_t i = 0; i < ALLOCATIONS; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		struct allocation *allocation = create_ok(table, i, user, T0);
		for (uint16_t p = 0; p < 2; p++) {
			struct transport_address to = peer(p, (uint16_t)(40000 + p));
			ck_assert_int_eq(allocation_permit(table, allocation, &to, 1, T0),
					 ALLOCATION_OK);
			ck_assert_int_eq(allocation_channel_bind(table, allocation,
								 (uint16_t)(0x4000 + p), &to, T0),
					 ALLOCATION_OK);
		}
	}
	allocation_table_counts(table, &counts);
	ck_assert_uint_eq(counts.allocations, ALLOCATIONS);
	ck_assert_uint_eq(counts.users, ALLOCATIONS);
	ck_assert_uint_eq(counts.permissions, 2 * ALLOCATIONS);
	ck_assert_uint_eq(counts.channels, 2 * ALLOCATIONS);
	ck_assert_msg(counts.bytes / ALLOCATIONS <= 1024, "%zu bytes an allocation",
		      counts.bytes / ALLOCATIONS);
	allocation_table_free(table);
}
END_TEST

/* ---- Quotas ---- */

START_TEST(test_quota_per_user)
{
	struct allocation_limits limits = { .allocations_per_user = 2 };
	struct allocation_table *table = table_with(&limits);
	struct five_tuple third = client(2);
	struct allocation *first;

	first = create_ok(table, 0, "alice", T0);
	create_ok(table, 1, "alice", T0);
	ck_assert_uint_eq(allocation_table_user_count(table, "alice", 5), 2);
	ck_assert_int_eq(allocation_table_admit(table, &third, "alice", 5, T0),
			 ALLOCATION_REFUSED_USER_QUOTA);
	ck_assert_int_eq(create_refused(table, 2, "alice", T0), ALLOCATION_REFUSED_USER_QUOTA);
	/* another user is not held back, nor is a longer name sharing the prefix */
	create_ok(table, 3, "bob", T0);
	create_ok(table, 4, "alice2", T0);
	/* one of alice's ends: she may have another */
	allocation_delete(table, first);
	ck_assert_int_eq(ends.last_allocation_why, ALLOCATION_END_DELETED);
	ck_assert_uint_eq(allocation_table_user_count(table, "alice", 5), 1);
	create_ok(table, 2, "alice", T0);
	ck_assert_uint_eq(allocation_table_count(table), 4);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_quota_total)
{
	struct allocation_limits limits = { .allocations = 3 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *early;
	size_t length;

	early = create_ok(table, 0, "a", T0);
	ck_assert_uint_eq(allocation_refresh(table, early, true, 0, T0), 0); /* gone */
	early = create_ok(table, 0, "a", T0 + 60 * SECOND); /* expires first */
	create_ok(table, 1, "b", T0 + 120 * SECOND);
	create_ok(table, 2, "c", T0 + 120 * SECOND);
	ck_assert_int_eq(create_refused(table, 3, "d", T0 + 120 * SECOND),
			 ALLOCATION_REFUSED_TOTAL_QUOTA);
	ck_assert_mem_eq(allocation_user(table, early, &length), "a", 1);
	ck_assert_uint_eq(length, 1);
	/* the first expires at T0 + 660 s: its place is free exactly then */
	ck_assert_int_eq(create_refused(table, 3, "d", T0 + 660 * SECOND - 1),
			 ALLOCATION_REFUSED_TOTAL_QUOTA);
	create_ok(table, 3, "d", T0 + 660 * SECOND);
	ck_assert_int_eq(ends.last_allocation_why, ALLOCATION_END_EXPIRED);
	ck_assert_uint_eq(allocation_table_count(table), 3);
	ck_assert_uint_eq(allocation_table_user_count(table, "a", 1), 0);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_five_tuple_and_relay_in_use)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct allocation_request wanted = request(0, "alice");
	enum allocation_result result;

	create_ok(table, 0, "alice", T0);
	/* the same 5-tuple: 437, whoever asks */
	ck_assert_int_eq(create_refused(table, 0, "bob", T0), ALLOCATION_REFUSED_IN_USE);
	/* the same client over TCP is another 5-tuple; it needs another relay */
	wanted.five_tuple.transport = TURN_TRANSPORT_TCP;
	ck_assert_ptr_null(allocation_create(table, &wanted, T0, &result));
	ck_assert_int_eq(result, ALLOCATION_REFUSED_RELAY_IN_USE);
	/* ...unless it is a TCP relay (RFC 6062): another port space */
	wanted.relay_transport = TURN_TRANSPORT_TCP;
	ck_assert_ptr_nonnull(allocation_create(table, &wanted, T0, &result));
	/* another server address is another 5-tuple too */
	wanted = request(0, "alice");
	wanted.five_tuple.server.port = 3479;
	wanted.relay = relay(1);
	ck_assert_ptr_nonnull(allocation_create(table, &wanted, T0, &result));
	allocation_table_free(table);
}
END_TEST

START_TEST(test_user_too_long)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	static char name[ALLOCATION_USER_MAX + 2];

	memset(name, 'u', ALLOCATION_USER_MAX + 1);
	ck_assert_int_eq(create_refused(table, 0, name, T0), ALLOCATION_REFUSED_USER_TOO_LONG);
	name[ALLOCATION_USER_MAX] = '\0';
	create_ok(table, 0, name, T0);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_result_names_and_codes)
{
	ck_assert_str_eq(allocation_result_name(ALLOCATION_OK), "ok");
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_OK), 0);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_IN_USE), 437);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_USER_QUOTA), 486);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_TOTAL_QUOTA), 508);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_PERMISSION_LIMIT), 508);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_CHANNEL_NUMBER), 400);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_CHANNEL_TAKEN), 400);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_PEER_HAS_CHANNEL), 400);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_CONNECTION_EXISTS), 446);
	ck_assert_int_eq(allocation_result_error_code(ALLOCATION_REFUSED_CONNECTION_UNKNOWN), 400);
	ck_assert_str_eq(allocation_result_name(ALLOCATION_REFUSED_USER_QUOTA), "user_quota");
	ck_assert_str_eq(allocation_result_name(ALLOCATION_REFUSED_TOTAL_QUOTA), "total_quota");
	/* every result has a name */
	for (int r = ALLOCATION_OK; r <= ALLOCATION_REFUSED_NO_MEMORY; r++)
		ck_assert_ptr_nonnull(allocation_result_name((enum allocation_result)r));
	ck_assert_str_eq(allocation_end_name(ALLOCATION_END_EXPIRED), "expired");
	ck_assert_str_eq(allocation_end_name(ALLOCATION_END_REFRESHED_TO_ZERO),
			 "refreshed_to_zero");
}
END_TEST

/* ---- Lifetimes ---- */

START_TEST(test_lifetime_rules)
{
	struct allocation_limits limits = { .max_lifetime_s = 3600 };
	struct allocation_table *table = table_with(&limits);

	ck_assert_uint_eq(allocation_lifetime(table, false, 0), 600);
	ck_assert_uint_eq(allocation_lifetime(table, true, 1200), 1200);
	ck_assert_uint_eq(allocation_lifetime(table, true, 3600), 3600);
	ck_assert_uint_eq(allocation_lifetime(table, true, 3601), 3600); /* cut to the max */
	ck_assert_uint_eq(allocation_lifetime(table, true, UINT32_MAX), 3600);
	ck_assert_uint_eq(allocation_lifetime(table, true, 10), 600); /* raised to the default */
	ck_assert_uint_eq(allocation_lifetime(table, true, 0), 600); /* an Allocate's 0 */
	allocation_table_free(table);

	/* a maximum under the default is raised to it */
	limits = (struct allocation_limits){ .max_lifetime_s = 100 };
	table = table_with(&limits);
	ck_assert_uint_eq(allocation_lifetime(table, true, 3600), 600);
	allocation_table_free(table);

	/* a configured default */
	limits = (struct allocation_limits){ .default_lifetime_s = 300, .max_lifetime_s = 900 };
	table = table_with(&limits);
	ck_assert_uint_eq(allocation_lifetime(table, false, 0), 300);
	ck_assert_uint_eq(allocation_lifetime(table, true, 1000), 900);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_allocate_lifetime_applied)
{
	struct allocation_limits limits = { .max_lifetime_s = 3600 };
	struct allocation_table *table = table_with(&limits);
	struct allocation_request wanted = request(0, "alice");
	enum allocation_result result;
	struct allocation *allocation;

	wanted.has_lifetime = true;
	wanted.lifetime_s = 7200;
	allocation = allocation_create(table, &wanted, T0, &result);
	ck_assert_ptr_nonnull(allocation);
	ck_assert_uint_eq(allocation->expires_ms, T0 + 3600 * SECOND);
	ck_assert_uint_eq(allocation->created_ms, T0);
	ck_assert_uint_eq(allocation_remaining_s(allocation, T0), 3600);
	ck_assert_uint_eq(allocation_remaining_s(allocation, T0 + 1), 3599);
	ck_assert_uint_eq(allocation_remaining_s(allocation, T0 + 3600 * SECOND), 0);
	/* what the handler compares: credentials and the Allocate's transaction */
	ck_assert_uint_eq(allocation->key_length, sizeof(key));
	ck_assert_mem_eq(allocation->key, key, sizeof(key));
	ck_assert_mem_eq(allocation->transaction_id, transaction, sizeof(transaction));
	ck_assert_ptr_null(allocation->owner);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_refresh)
{
	struct allocation_limits limits = { .max_lifetime_s = 3600 };
	struct allocation_table *table = table_with(&limits);
	struct five_tuple tuple = client(0);
	struct transport_address relayed = relay(0);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);

	ck_assert_uint_eq(allocation_refresh(table, allocation, true, 900, T0 + 500 * SECOND), 900);
	ck_assert_uint_eq(allocation->expires_ms, T0 + 1400 * SECOND);
	ck_assert_ptr_nonnull(allocation_find_by_client(table, &tuple, T0 + 1400 * SECOND - 1));
	/* no LIFETIME: the default again, from now */
	ck_assert_uint_eq(allocation_refresh(table, allocation, false, 0, T0 + 600 * SECOND), 600);
	ck_assert_uint_eq(allocation->expires_ms, T0 + 1200 * SECOND);
	ck_assert_uint_eq(allocation_refresh(table, allocation, true, 99999, T0), 3600);
	ck_assert_uint_eq(ends.allocations, 0);
	/* LIFETIME 0 deletes */
	ck_assert_uint_eq(allocation_refresh(table, allocation, true, 0, T0 + SECOND), 0);
	ck_assert_uint_eq(ends.allocations, 1);
	ck_assert_int_eq(ends.last_allocation_why, ALLOCATION_END_REFRESHED_TO_ZERO);
	ck_assert_ptr_null(allocation_find_by_client(table, &tuple, T0 + SECOND));
	ck_assert_ptr_null(
		allocation_find_by_relay(table, TURN_TRANSPORT_UDP, &relayed, T0 + SECOND));
	ck_assert_uint_eq(allocation_table_count(table), 0);
	ck_assert_uint_eq(allocation_table_next_expiry(table), UINT64_MAX);
	allocation_table_free(table);
}
END_TEST

/* Alive while now < expiry, gone at it: the look-ups, the timer and the sweep agree. */
START_TEST(test_expiry_at_the_boundary)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct five_tuple tuple = client(0);
	struct transport_address relayed = relay(0);
	uint64_t deadline = T0 + 600 * SECOND;

	create_ok(table, 0, "alice", T0);
	ck_assert_uint_eq(allocation_table_next_expiry(table), deadline);
	ck_assert_ptr_nonnull(allocation_find_by_client(table, &tuple, deadline - 1));
	ck_assert_ptr_nonnull(
		allocation_find_by_relay(table, TURN_TRANSPORT_UDP, &relayed, deadline - 1));
	ck_assert_ptr_null(allocation_find_by_client(table, &tuple, deadline));
	ck_assert_ptr_null(allocation_find_by_relay(table, TURN_TRANSPORT_UDP, &relayed, deadline));
	ck_assert_uint_eq(allocation_table_expire(table, deadline - 1), 0);
	ck_assert_uint_eq(ends.allocations, 0);
	ck_assert_uint_eq(allocation_table_count(table), 1);
	ck_assert_uint_eq(allocation_table_expire(table, deadline), 1);
	ck_assert_uint_eq(ends.allocations, 1);
	ck_assert_int_eq(ends.last_allocation_why, ALLOCATION_END_EXPIRED);
	ck_assert_uint_eq(allocation_table_count(table), 0);
	ck_assert_uint_eq(allocation_table_user_count(table, "alice", 5), 0);
	allocation_table_free(table);
}
END_TEST

/* Driven only by next_expiry, the one timer ends each allocation at its own
 * deadline, earliest first, and a refresh moves the deadline. */
START_TEST(test_one_timer_for_the_table)
{
	enum {
		COUNT = 200
	};
	struct allocation_limits limits = { .max_lifetime_s = 3600 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocations[COUNT];
	unsigned seed = 7;
	uint64_t now = T0, previous = 0;
	char user[16];

	for (uint32_t i = 0; i < COUNT; i++) {
		snprintf(user, sizeof(user), "u%u", i);
		allocations[i] = create_ok(table, i, user, T0);
		allocation_refresh(table, allocations[i], true,
				   600 + (uint32_t)rand_r(&seed) % 3000,
				   T0 + (uint64_t)(rand_r(&seed) % 1000));
	}
	/* the earliest, pushed back: it may no longer be the next */
	uint64_t earliest = allocation_table_next_expiry(table);
	for (uint32_t i = 0; i < COUNT; i++) {
		if (allocations[i]->expires_ms == earliest)
			allocation_refresh(table, allocations[i], true, 3600, T0);
	}
	ck_assert_uint_gt(allocation_table_next_expiry(table), earliest);
	while (allocation_table_count(table) > 0) {
		unsigned before = ends.allocations;
		now = allocation_table_next_expiry(table);
		ck_assert_uint_ge(now, previous);
		ck_assert_uint_ge(allocation_table_expire(table, now), 1);
		ck_assert_uint_gt(ends.allocations, before);
		ck_assert_uint_eq(ends.last_expires_ms, now);
		previous = now;
	}
	ck_assert_uint_eq(ends.allocations, COUNT);
	ck_assert_uint_eq(allocation_table_next_expiry(table), UINT64_MAX);
	allocation_table_free(table);
}
END_TEST

/* ---- Permissions ---- */

START_TEST(test_permission_lifetime)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct transport_address to = peer(5, 1000);
	struct transport_address other_port = peer(5, 2000);
	struct transport_address other_ip = peer(6, 1000);
	uint64_t deadline = T0 + 300 * SECOND;

	ck_assert(!allocation_permits(table, allocation, &to, T0));
	ck_assert_int_eq(allocation_permit(table, allocation, &to, 1, T0), ALLOCATION_OK);
	ck_assert(allocation_permits(table, allocation, &to, T0));
	ck_assert(allocation_permits(table, allocation, &other_port, T0)); /* the port is ignored */
	ck_assert(!allocation_permits(table, allocation, &other_ip, T0));
	ck_assert(allocation_permits(table, allocation, &to, deadline - 1));
	ck_assert(!allocation_permits(table, allocation, &to, deadline));
	ck_assert_uint_eq(allocation_table_next_expiry(table), deadline);
	/* a refresh before the deadline moves it */
	ck_assert_int_eq(allocation_permit(table, allocation, &other_port, 1, T0 + 200 * SECOND),
			 ALLOCATION_OK);
	ck_assert(allocation_permits(table, allocation, &to, T0 + 500 * SECOND - 1));
	ck_assert(!allocation_permits(table, allocation, &to, T0 + 500 * SECOND));
	/* the sweep drops it, and the allocation lives on */
	ck_assert_uint_eq(allocation_table_expire(table, T0 + 500 * SECOND), 1);
	ck_assert_uint_eq(ends.allocations, 0);
	struct allocation_table_counts counts;
	allocation_table_counts(table, &counts);
	ck_assert_uint_eq(counts.permissions, 0);
	ck_assert_uint_eq(allocation_table_next_expiry(table), T0 + 600 * SECOND);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_permission_limit)
{
	struct allocation_limits limits = { .permissions_per_allocation = 2 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct allocation *other = create_ok(table, 1, "bob", T0);
	struct transport_address a = peer(1, 1), b = peer(2, 1), c = peer(3, 1), d = peer(4, 1);
	struct transport_address a_and_c[2] = { a, c };
	struct transport_address d_twice[2] = { d, peer(4, 2) };

	ck_assert_int_eq(allocation_permit(table, allocation, &a, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_permit(table, allocation, &b, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_permit(table, allocation, &c, 1, T0),
			 ALLOCATION_REFUSED_PERMISSION_LIMIT);
	ck_assert(!allocation_permits(table, allocation, &c, T0));
	/* a refresh needs no room */
	ck_assert_int_eq(allocation_permit(table, allocation, &a, 1, T0 + 100 * SECOND),
			 ALLOCATION_OK);
	/* all or nothing: c has no room, so a is not refreshed either */
	ck_assert_int_eq(allocation_permit(table, allocation, a_and_c, 2, T0 + 200 * SECOND),
			 ALLOCATION_REFUSED_PERMISSION_LIMIT);
	ck_assert(!allocation_permits(table, allocation, &a, T0 + 400 * SECOND));
	ck_assert(!allocation_permits(table, allocation, &c, T0 + 200 * SECOND));
	/* the limit is per allocation */
	ck_assert_int_eq(allocation_permit(table, other, a_and_c, 2, T0), ALLOCATION_OK);
	/* b expired at T0 + 300 s: dropped before the limit is judged */
	ck_assert_int_eq(allocation_permit(table, allocation, &c, 1, T0 + 300 * SECOND),
			 ALLOCATION_OK);
	/* a expired at T0 + 400 s; the same IP twice in one request takes one place */
	ck_assert_int_eq(allocation_permit(table, allocation, d_twice, 2, T0 + 400 * SECOND),
			 ALLOCATION_OK);
	ck_assert_uint_eq(allocation->permission_count, 2);
	ck_assert_int_eq(allocation_permit(table, allocation, &a, 1, T0 + 400 * SECOND),
			 ALLOCATION_REFUSED_PERMISSION_LIMIT);
	allocation_table_free(table);
}
END_TEST

/* A request whose first new address fits and whose second does not takes
 * the first back; a request of thousands of copies of one IP is one place. */
START_TEST(test_permission_refusal_takes_back)
{
	enum {
		COPIES = 5000
	};
	struct allocation_limits limits = { .permissions_per_allocation = 3 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct transport_address a = peer(1, 1), b = peer(2, 1), c = peer(3, 1), d = peer(4, 1);
	struct transport_address c_and_d[2] = { c, d };
	static struct transport_address copies[COPIES];
	struct allocation_table_counts counts;

	ck_assert_int_eq(allocation_permit(table, allocation, &a, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_permit(table, allocation, &b, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_permit(table, allocation, c_and_d, 2, T0),
			 ALLOCATION_REFUSED_PERMISSION_LIMIT);
	ck_assert(!allocation_permits(table, allocation, &c, T0));
	ck_assert(!allocation_permits(table, allocation, &d, T0));
	ck_assert_uint_eq(allocation->permission_count, 2);
	allocation_table_counts(table, &counts);
	ck_assert_uint_eq(counts.permissions, 2);
	ck_assert_uint_eq(allocation_table_next_expiry(table), T0 + 300 * SECOND);
	for (uint32_t i = 0; i < COPIES; i++)
		copies[i] = peer(9, (uint16_t)i);
	ck_assert_int_eq(allocation_permit(table, allocation, copies, COPIES, T0), ALLOCATION_OK);
	ck_assert_uint_eq(allocation->permission_count, 3);
	allocation_table_free(table);
}
END_TEST

/* ---- Channels ---- */

START_TEST(test_channel_number_range)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct transport_address to = peer(1, 1000), to_other = peer(2, 1000);

	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x3FFF, &to, T0),
			 ALLOCATION_REFUSED_CHANNEL_NUMBER);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x8000, &to, T0),
			 ALLOCATION_REFUSED_CHANNEL_NUMBER);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0xFFFF, &to, T0),
			 ALLOCATION_REFUSED_CHANNEL_NUMBER);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0, &to, T0),
			 ALLOCATION_REFUSED_CHANNEL_NUMBER);
	ck_assert(!allocation_permits(table, allocation, &to, T0)); /* a refusal installs nothing */
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4000, &to, T0),
			 ALLOCATION_OK);
	/* RFC 5766's range, which coturn's clients draw from */
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x7FFF, &to_other, T0),
			 ALLOCATION_OK);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_channel_rules)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct allocation *other = create_ok(table, 1, "bob", T0);
	struct transport_address p1 = peer(1, 1000), p2 = peer(2, 1000);
	struct transport_address p1_other_port = peer(1, 1001);
	const struct transport_address *bound;

	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4000, &p1, T0),
			 ALLOCATION_OK);
	bound = allocation_channel_peer(table, allocation, 0x4000, T0);
	ck_assert_ptr_nonnull(bound);
	ck_assert(transport_address_equal(bound, &p1));
	ck_assert_uint_eq(allocation_channel_number(table, allocation, &p1, T0), 0x4000);
	/* a channel is for one transport address: the same IP at another port is not it */
	ck_assert_uint_eq(allocation_channel_number(table, allocation, &p1_other_port, T0), 0);
	ck_assert_ptr_null(allocation_channel_peer(table, allocation, 0x4001, T0));
	/* it installed the permission */
	ck_assert(allocation_permits(table, allocation, &p1, T0));
	/* one peer per channel, one channel per peer */
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4000, &p2, T0),
			 ALLOCATION_REFUSED_CHANNEL_TAKEN);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4001, &p1, T0),
			 ALLOCATION_REFUSED_PEER_HAS_CHANNEL);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4001, &p1_other_port, T0),
			 ALLOCATION_OK);
	ck_assert(!allocation_permits(table, allocation, &p2, T0));
	/* the rules are per allocation */
	ck_assert_int_eq(allocation_channel_bind(table, other, 0x4000, &p2, T0), ALLOCATION_OK);
	ck_assert_uint_eq(allocation_channel_number(table, other, &p1, T0), 0);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_channel_refresh_and_expiry)
{
	struct allocation_limits limits = { .max_lifetime_s = 3600 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct transport_address p1 = peer(1, 1000), p2 = peer(2, 1000);

	allocation_refresh(table, allocation, true, 3600, T0);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4000, &p1, T0),
			 ALLOCATION_OK);
	ck_assert_ptr_nonnull(
		allocation_channel_peer(table, allocation, 0x4000, T0 + 600 * SECOND - 1));
	ck_assert_ptr_null(allocation_channel_peer(table, allocation, 0x4000, T0 + 600 * SECOND));
	ck_assert_uint_eq(allocation_channel_number(table, allocation, &p1, T0 + 600 * SECOND), 0);
	/* rebinding the same pair at 500 s refreshes it, and its permission */
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4000, &p1, T0 + 500 * SECOND),
			 ALLOCATION_OK);
	ck_assert_ptr_nonnull(
		allocation_channel_peer(table, allocation, 0x4000, T0 + 1100 * SECOND - 1));
	ck_assert(allocation_permits(table, allocation, &p1, T0 + 800 * SECOND - 1));
	ck_assert(!allocation_permits(table, allocation, &p1, T0 + 800 * SECOND));
	ck_assert_ptr_null(allocation_channel_peer(table, allocation, 0x4000, T0 + 1100 * SECOND));
	/* expired: the number may go to another peer, the peer to another number */
	ck_assert_int_eq(
		allocation_channel_bind(table, allocation, 0x4000, &p2, T0 + 1100 * SECOND),
		ALLOCATION_OK);
	ck_assert_int_eq(
		allocation_channel_bind(table, allocation, 0x4001, &p1, T0 + 1100 * SECOND),
		ALLOCATION_OK);
	ck_assert(transport_address_equal(
		allocation_channel_peer(table, allocation, 0x4000, T0 + 1100 * SECOND), &p2));
	ck_assert_uint_eq(allocation_channel_number(table, allocation, &p1, T0 + 1100 * SECOND),
			  0x4001);
	/* the sweep drops the bindings at their deadline */
	struct allocation_table_counts counts;
	allocation_table_counts(table, &counts);
	ck_assert_uint_eq(counts.channels, 2);
	allocation_table_expire(table, T0 + 1700 * SECOND);
	allocation_table_counts(table, &counts);
	ck_assert_uint_eq(counts.channels, 0);
	ck_assert_uint_eq(counts.permissions, 0);
	ck_assert_uint_eq(ends.allocations, 0);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_channel_limits)
{
	struct allocation_limits limits = { .channels_per_allocation = 2,
					    .permissions_per_allocation = 3 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct transport_address p1 = peer(1, 1), p2 = peer(2, 1), p3 = peer(3, 1);
	struct transport_address p4 = peer(4, 1), p5 = peer(5, 1);
	struct allocation_table_counts counts;

	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4000, &p1, T0),
			 ALLOCATION_OK);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4001, &p2, T0),
			 ALLOCATION_OK);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4002, &p3, T0),
			 ALLOCATION_REFUSED_CHANNEL_LIMIT);
	ck_assert(!allocation_permits(table, allocation, &p3, T0));
	/* a rebinding needs no room */
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4001, &p2, T0),
			 ALLOCATION_OK);
	/* the permission limit holds for the permission a binding installs */
	ck_assert_int_eq(allocation_permit(table, allocation, &p4, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4000, &p1, T0 + 700 * SECOND),
			 ALLOCATION_OK); /* all expired but this one */
	ck_assert_int_eq(allocation_permit(table, allocation, &p2, 1, T0 + 700 * SECOND),
			 ALLOCATION_OK);
	ck_assert_int_eq(allocation_permit(table, allocation, &p3, 1, T0 + 700 * SECOND),
			 ALLOCATION_OK);
	ck_assert_int_eq(allocation_channel_bind(table, allocation, 0x4002, &p5, T0 + 700 * SECOND),
			 ALLOCATION_REFUSED_PERMISSION_LIMIT);
	ck_assert_ptr_null(allocation_channel_peer(table, allocation, 0x4002, T0 + 700 * SECOND));
	allocation_table_counts(table, &counts);
	ck_assert_uint_eq(counts.channels, 1);
	allocation_table_free(table);
}
END_TEST

/* ---- Bandwidth ---- */

START_TEST(test_bandwidth_per_direction)
{
	struct allocation_limits limits = { .bandwidth_bytes_per_second = 1000 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct allocation *other = create_ok(table, 1, "bob", T0);

	ck_assert(allocation_bandwidth_take(table, allocation, ALLOCATION_TO_PEER, 1000, T0));
	ck_assert(!allocation_bandwidth_take(table, allocation, ALLOCATION_TO_PEER, 1, T0));
	/* the other direction, and another allocation, have buckets of their own */
	ck_assert(allocation_bandwidth_take(table, allocation, ALLOCATION_TO_CLIENT, 1000, T0));
	ck_assert(!allocation_bandwidth_take(table, allocation, ALLOCATION_TO_CLIENT, 1, T0));
	ck_assert(allocation_bandwidth_take(table, other, ALLOCATION_TO_PEER, 1000, T0));
	/* 1000 bytes a second */
	ck_assert(!allocation_bandwidth_take(table, allocation, ALLOCATION_TO_PEER, 500, T0 + 499));
	ck_assert(allocation_bandwidth_take(table, allocation, ALLOCATION_TO_PEER, 500, T0 + 500));
	allocation_table_free(table);

	limits.bandwidth_bytes_per_second = 0;
	table = table_with(&limits);
	allocation = create_ok(table, 0, "alice", T0);
	for (int i = 0; i < 1000; i++)
		ck_assert(allocation_bandwidth_take(table, allocation, ALLOCATION_TO_PEER, 65535,
						    T0));
	allocation_table_free(table);
}
END_TEST

/* ---- New limits (a reload) ---- */

/* The quotas change for every Allocate at once; an allocation made before
 * keeps its permission and channel limits, its lifetime's maximum and its
 * bandwidth (and what it holds past the new limits), one made after gets
 * the new ones; the old limits go with the last allocation under them
 * (the leak check sees them freed). */
START_TEST(test_set_limits)
{
	struct allocation_limits before = { .allocations = 3,
					    .allocations_per_user = 3,
					    .max_lifetime_s = 3600,
					    .permissions_per_allocation = 2,
					    .channels_per_allocation = 2,
					    .bandwidth_bytes_per_second = 1000 };
	struct allocation_limits after = { .allocations = 2,
					   .allocations_per_user = 1,
					   .max_lifetime_s = 600,
					   .permissions_per_allocation = 1,
					   .channels_per_allocation = 1,
					   .bandwidth_bytes_per_second = 100 };
	struct allocation_table *table = table_with(&before);
	struct allocation *old = create_ok(table, 0, "alice", T0);
	struct allocation *second = create_ok(table, 1, "bob", T0);
	struct transport_address a = peer(1, 1), b = peer(2, 1), c = peer(3, 1);

	ck_assert_int_eq(allocation_permit(table, old, &a, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_channel_bind(table, old, 0x4000, &a, T0), ALLOCATION_OK);
	struct allocation_terms *terms = allocation_terms_new(&after);
	ck_assert_ptr_nonnull(terms);
	allocation_table_set_limits(table, terms);
	/* the quotas: two allocations held, so a third is refused now */
	ck_assert_int_eq(create_refused(table, 2, "carol", T0), ALLOCATION_REFUSED_TOTAL_QUOTA);
	allocation_delete(table, second);
	create_ok(table, 2, "carol", T0);
	ck_assert_int_eq(create_refused(table, 3, "carol", T0), ALLOCATION_REFUSED_TOTAL_QUOTA);
	/* the old allocation: its own limits */
	ck_assert_int_eq(allocation_permit(table, old, &b, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_permit(table, old, &c, 1, T0),
			 ALLOCATION_REFUSED_PERMISSION_LIMIT);
	ck_assert_int_eq(allocation_channel_bind(table, old, 0x4001, &b, T0), ALLOCATION_OK);
	ck_assert_uint_eq(allocation_refresh(table, old, true, 3600, T0), 3600);
	ck_assert(allocation_bandwidth_take(table, old, ALLOCATION_TO_PEER, 1000, T0));
	/* a new one: the new limits */
	struct five_tuple carol = client(2);
	struct allocation *fresh = allocation_find_by_client(table, &carol, T0);
	ck_assert_ptr_nonnull(fresh);
	ck_assert_int_eq(allocation_permit(table, fresh, &a, 1, T0), ALLOCATION_OK);
	ck_assert_int_eq(allocation_permit(table, fresh, &b, 1, T0),
			 ALLOCATION_REFUSED_PERMISSION_LIMIT);
	ck_assert_uint_eq(allocation_refresh(table, fresh, true, 3600, T0), 600);
	ck_assert(allocation_bandwidth_take(table, fresh, ALLOCATION_TO_PEER, 100, T0));
	ck_assert(!allocation_bandwidth_take(table, fresh, ALLOCATION_TO_PEER, 100, T0));
	/* and again: the limits of the middle reload go with carol's allocation */
	after.allocations_per_user = 2;
	allocation_table_set_limits(table, allocation_terms_new(&after));
	allocation_delete(table, fresh);
	create_ok(table, 4, "dave", T0);
	allocation_table_free(table);
	/* limits made ready but never given */
	allocation_terms_free(allocation_terms_new(&after));
}
END_TEST

/* ---- Look-ups after churn ---- */

START_TEST(test_lookups_after_many_inserts_and_deletes)
{
	enum {
		COUNT = 10000,
		ROUNDS = 3
	};
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	static struct allocation *live[3 * COUNT];
	char user[16];
	uint32_t next = 0;
	unsigned seed = 99;

	for (uint32_t i = 0; i < COUNT; i++, next++) {
		snprintf(user, sizeof(user), "u%u", next % 977);
		live[next] = create_ok(table, next, user, T0);
		struct transport_address to = peer(next % 200, (uint16_t)next);
		ck_assert_int_eq(allocation_channel_bind(table, live[next],
							 (uint16_t)(0x4000 + next % 4096), &to, T0),
				 ALLOCATION_OK);
	}
	for (int round = 0; round < ROUNDS; round++) {
		/* about half of what lives goes, as many new ones come */
		uint32_t added = 0;
		for (uint32_t i = 0; i < next; i++) {
			if (live[i] != NULL && rand_r(&seed) % 2) {
				allocation_delete(table, live[i]);
				live[i] = NULL;
				added++;
			}
		}
		for (uint32_t i = 0; i < added && next < 3 * COUNT; i++, next++) {
			snprintf(user, sizeof(user), "u%u", next % 977);
			live[next] = create_ok(table, next, user, T0);
			struct transport_address to = peer(next % 200, (uint16_t)next);
			ck_assert_int_eq(allocation_channel_bind(table, live[next],
								 (uint16_t)(0x4000 + next % 4096),
								 &to, T0),
					 ALLOCATION_OK);
		}
	}
	uint32_t alive = 0;
	for (uint32_t i = 0; i < next; i++) {
		struct five_tuple tuple = client(i);
		struct transport_address relayed = relay(i);
		struct transport_address to = peer(i % 200, (uint16_t)i);
		struct allocation *by_client = allocation_find_by_client(table, &tuple, T0);
		struct allocation *by_relay =
			allocation_find_by_relay(table, TURN_TRANSPORT_UDP, &relayed, T0);

		ck_assert_ptr_eq(by_client, live[i]);
		ck_assert_ptr_eq(by_relay, live[i]);
		if (live[i] == NULL)
			continue;
		alive++;
		ck_assert(transport_address_equal(&live[i]->five_tuple.client, &tuple.client));
		const struct transport_address *bound =
			allocation_channel_peer(table, live[i], (uint16_t)(0x4000 + i % 4096), T0);
		ck_assert_ptr_nonnull(bound);
		ck_assert(transport_address_equal(bound, &to));
		ck_assert_uint_eq(allocation_channel_number(table, live[i], &to, T0),
				  0x4000 + i % 4096);
		ck_assert(allocation_permits(table, live[i], &to, T0));
	}
	ck_assert_uint_eq(allocation_table_count(table), alive);
	allocation_table_free(table);
	ck_assert_uint_eq(ends.allocations, next);
}
END_TEST

/* Every look-up a relayed packet makes, over a populated table: not one
 * call to the allocator.  (No ck_assert inside the counted stretch: Check's
 * own bookkeeping allocates.) */
START_TEST(test_packet_path_does_not_allocate)
{
	enum {
		COUNT = 1000
	};
	struct allocation_limits limits = { .bandwidth_bytes_per_second = 100000 };
	struct allocation_table *table = table_with(&limits);
	static struct allocation *allocations[COUNT];
	static uint32_t ids[COUNT];
	enum allocation_result result;
	unsigned long before, found = 0;

	for (uint32_t i = 0; i < COUNT; i++) {
		struct transport_address to = peer(i % 200, (uint16_t)(1 + i));
		allocations[i] = create_ok(table, i, "alice", T0);
		ck_assert_int_eq(allocation_channel_bind(table, allocations[i],
							 (uint16_t)(0x4000 + i % 4096), &to, T0),
				 ALLOCATION_OK);
		struct allocation_connection *connection =
			allocation_connection_open(table, allocations[i], &to,
						   ALLOCATION_CONNECTION_WAITING_BIND, T0, &result);
		ck_assert_ptr_nonnull(connection);
		ids[i] = connection->id;
	}
	before = test_allocator_calls();
	for (uint32_t round = 0; round < 10; round++) {
		for (uint32_t i = 0; i < COUNT; i++) {
			struct five_tuple tuple = client(i);
			struct transport_address relayed = relay(i);
			struct transport_address to = peer(i % 200, (uint16_t)(1 + i));
			uint64_t now = T0 + round;
			struct allocation *allocation =
				allocation_find_by_client(table, &tuple, now);

			found += allocation == allocations[i];
			found += allocation_find_by_relay(table, TURN_TRANSPORT_UDP, &relayed,
							  now) == allocations[i];
			found +=
				allocation_channel_peer(table, allocation,
							(uint16_t)(0x4000 + i % 4096), now) != NULL;
			found += allocation_channel_number(table, allocation, &to, now) != 0;
			found += allocation_permits(table, allocation, &to, now);
			found += allocation_bandwidth_take(table, allocation, ALLOCATION_TO_PEER,
							   100, now);
			found += allocation_bandwidth_take(table, allocation, ALLOCATION_TO_CLIENT,
							   100, now);
			found += allocation_connection_find(table, ids[i], now) != NULL;
		}
	}
	ck_assert_uint_eq(test_allocator_calls(), before);
	ck_assert_uint_eq(found, 10 * COUNT * 8);
	allocation_table_free(table);
}
END_TEST

/* ---- RFC 6062 connections ---- */

START_TEST(test_connection_lifecycle)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct transport_address p1 = peer(1, 80), p2 = peer(2, 80);
	struct allocation_connection *connection, *bound;
	enum allocation_result result;
	uint32_t id;

	/* a Connect */
	connection = allocation_connection_open(table, allocation, &p1,
						ALLOCATION_CONNECTION_CONNECTING, T0, &result);
	ck_assert_ptr_nonnull(connection);
	ck_assert_int_eq(result, ALLOCATION_OK);
	id = connection->id;
	ck_assert_uint_ne(id, 0);
	ck_assert_ptr_eq(connection->allocation, allocation);
	ck_assert_ptr_eq(allocation_connection_find(table, id, T0), connection);
	ck_assert_uint_eq(allocation_table_next_expiry(table), T0 + 30 * SECOND);
	/* a second one to the same peer: 446 */
	ck_assert_ptr_null(allocation_connection_open(
		table, allocation, &p1, ALLOCATION_CONNECTION_CONNECTING, T0, &result));
	ck_assert_int_eq(result, ALLOCATION_REFUSED_CONNECTION_EXISTS);
	ck_assert_int_eq(allocation_result_error_code(result), 446);
	/* not up yet: no bind */
	ck_assert_int_eq(allocation_connection_bind(table, id, T0, &bound),
			 ALLOCATION_REFUSED_CONNECTION_STATE);
	/* up at 10 s: 30 s from then for the ConnectionBind */
	ck_assert_int_eq(allocation_connection_established(table, connection, T0 + 10 * SECOND),
			 ALLOCATION_OK);
	ck_assert_int_eq(allocation_connection_established(table, connection, T0 + 10 * SECOND),
			 ALLOCATION_REFUSED_CONNECTION_STATE);
	ck_assert_ptr_nonnull(allocation_connection_find(table, id, T0 + 40 * SECOND - 1));
	ck_assert_int_eq(allocation_connection_bind(table, id, T0 + 39 * SECOND, &bound),
			 ALLOCATION_OK);
	ck_assert_ptr_eq(bound, connection);
	ck_assert_int_eq(connection->state, ALLOCATION_CONNECTION_BOUND);
	/* bound: no deadline; a second bind is refused */
	ck_assert_ptr_eq(allocation_connection_find(table, id, T0 + 500 * SECOND), connection);
	ck_assert_int_eq(allocation_connection_bind(table, id, T0 + 40 * SECOND, &bound),
			 ALLOCATION_REFUSED_CONNECTION_STATE);
	ck_assert_uint_eq(allocation_table_next_expiry(table), T0 + 600 * SECOND);
	/* still a connection with p1: another Connect to it is refused */
	ck_assert_ptr_null(allocation_connection_open(table, allocation, &p1,
						      ALLOCATION_CONNECTION_CONNECTING,
						      T0 + 50 * SECOND, &result));
	ck_assert_int_eq(result, ALLOCATION_REFUSED_CONNECTION_EXISTS);
	/* a peer connects in */
	connection = allocation_connection_open(table, allocation, &p2,
						ALLOCATION_CONNECTION_WAITING_BIND, T0, &result);
	ck_assert_ptr_nonnull(connection);
	ck_assert_uint_ne(connection->id, id);
	allocation_connection_close(table, connection);
	ck_assert_uint_eq(ends.connections, 1);
	ck_assert_int_eq(ends.last_connection_why, ALLOCATION_END_DELETED);
	/* the allocation's end takes the bound one with it */
	allocation_delete(table, allocation);
	ck_assert_uint_eq(ends.connections, 2);
	ck_assert_int_eq(ends.last_connection_why, ALLOCATION_END_ALLOCATION_ENDED);
	ck_assert_ptr_null(allocation_connection_find(table, id, T0));
	allocation_table_free(table);
}
END_TEST

START_TEST(test_connection_id_expiry)
{
	struct allocation_limits limits = { .max_lifetime_s = 3600 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	struct transport_address p1 = peer(1, 80), p2 = peer(2, 80);
	struct allocation_connection *waiting, *connecting, *bound;
	enum allocation_result result;
	uint32_t waiting_id;

	waiting = allocation_connection_open(table, allocation, &p1,
					     ALLOCATION_CONNECTION_WAITING_BIND, T0, &result);
	connecting = allocation_connection_open(
		table, allocation, &p2, ALLOCATION_CONNECTION_CONNECTING, T0 + SECOND, &result);
	ck_assert_ptr_nonnull(waiting);
	ck_assert_ptr_nonnull(connecting);
	waiting_id = waiting->id;
	/* unbound for 30 s: gone exactly then */
	ck_assert_ptr_nonnull(allocation_connection_find(table, waiting_id, T0 + 30 * SECOND - 1));
	ck_assert_ptr_null(allocation_connection_find(table, waiting_id, T0 + 30 * SECOND));
	ck_assert_int_eq(allocation_connection_bind(table, waiting_id, T0 + 30 * SECOND, &bound),
			 ALLOCATION_REFUSED_CONNECTION_UNKNOWN);
	ck_assert_ptr_null(bound);
	ck_assert_uint_eq(allocation_table_next_expiry(table), T0 + 30 * SECOND);
	ck_assert_uint_eq(allocation_table_expire(table, T0 + 30 * SECOND), 1);
	ck_assert_uint_eq(ends.connections, 1);
	ck_assert_int_eq(ends.last_connection_why, ALLOCATION_END_EXPIRED);
	ck_assert_int_eq(ends.last_connection_state, ALLOCATION_CONNECTION_WAITING_BIND);
	/* a connect that never came up ends the same way (the handler answers 447) */
	ck_assert_uint_eq(allocation_table_expire(table, T0 + 31 * SECOND), 1);
	ck_assert_int_eq(ends.last_connection_state, ALLOCATION_CONNECTION_CONNECTING);
	ck_assert_uint_eq(ends.allocations, 0);
	/* unknown ids */
	ck_assert_ptr_null(allocation_connection_find(table, 0, T0));
	ck_assert_int_eq(allocation_connection_bind(table, 12345, T0, &bound),
			 ALLOCATION_REFUSED_CONNECTION_UNKNOWN);
	/* an expired one not yet swept does not block a new one to its peer */
	waiting = allocation_connection_open(table, allocation, &p1,
					     ALLOCATION_CONNECTION_WAITING_BIND, T0 + 100 * SECOND,
					     &result);
	ck_assert_ptr_nonnull(waiting);
	ck_assert_ptr_nonnull(allocation_connection_open(table, allocation, &p1,
							 ALLOCATION_CONNECTION_CONNECTING,
							 T0 + 130 * SECOND, &result));
	ck_assert_int_eq(ends.last_connection_why, ALLOCATION_END_EXPIRED);
	allocation_table_free(table);
}
END_TEST

START_TEST(test_connection_limit_and_unique_ids)
{
	enum {
		COUNT = 2000
	};
	struct allocation_limits limits = { .connections_per_allocation = 3 };
	struct allocation_table *table = table_with(&limits);
	struct allocation *allocation = create_ok(table, 0, "alice", T0);
	enum allocation_result result;
	static uint32_t ids[COUNT];

	for (uint16_t i = 0; i < 3; i++) {
		struct transport_address to = peer(i, 80);
		ck_assert_ptr_nonnull(allocation_connection_open(
			table, allocation, &to, ALLOCATION_CONNECTION_CONNECTING, T0, &result));
	}
	struct transport_address fourth = peer(9, 80);
	ck_assert_ptr_null(allocation_connection_open(
		table, allocation, &fourth, ALLOCATION_CONNECTION_CONNECTING, T0, &result));
	ck_assert_int_eq(result, ALLOCATION_REFUSED_CONNECTION_LIMIT);
	ck_assert_ptr_null(allocation_connection_open(table, allocation, &fourth,
						      ALLOCATION_CONNECTION_BOUND, T0, &result));
	ck_assert_int_eq(result, ALLOCATION_REFUSED_CONNECTION_STATE);
	allocation_table_free(table);

	/* many ids, none repeated, none 0 */
	limits.connections_per_allocation = 0;
	table = table_with(&limits);
	allocation = create_ok(table, 0, "alice", T0);
	for (uint32_t i = 0; i < COUNT; i++) {
		struct transport_address to = peer(i % 250, (uint16_t)(1 + i));
		struct allocation_connection *connection = allocation_connection_open(
			table, allocation, &to, ALLOCATION_CONNECTION_WAITING_BIND, T0, &result);
		ck_assert_ptr_nonnull(connection);
		ids[i] = connection->id;
		ck_assert_uint_ne(ids[i], 0);
		for (uint32_t j = 0; j < i; j++) {
			if (ids[i] == ids[j])
				ck_abort_msg("connections %u and %u share id %u", j, i, ids[i]);
		}
	}
	for (uint32_t i = 0; i < COUNT; i++)
		ck_assert_ptr_nonnull(allocation_connection_find(table, ids[i], T0));
	allocation_table_free(table);
	ck_assert_uint_eq(ends.connections, COUNT);
	ck_assert_int_eq(ends.last_connection_why, ALLOCATION_END_TABLE_FREED);
}
END_TEST

START_TEST(test_table_free_reports_every_end)
{
	struct allocation_limits limits = { 0 };
	struct allocation_table *table = table_with(&limits);
	struct transport_address to = peer(1, 80);
	enum allocation_result result;

	for (uint32_t i = 0; i < 5; i++) {
		struct allocation *allocation = create_ok(table, i, "alice", T0);
		ck_assert_int_eq(allocation_permit(table, allocation, &to, 1, T0), ALLOCATION_OK);
		ck_assert_ptr_nonnull(allocation_connection_open(
			table, allocation, &to, ALLOCATION_CONNECTION_WAITING_BIND, T0, &result));
	}
	allocation_table_free(table);
	ck_assert_uint_eq(ends.allocations, 5);
	ck_assert_uint_eq(ends.connections, 5);
	ck_assert_int_eq(ends.last_allocation_why, ALLOCATION_END_TABLE_FREED);
	allocation_table_free(NULL);
}
END_TEST

/* ---- The companions ---- */

static void note_position(void *context, uint32_t item, uint32_t position)
{
	uint32_t *positions = context;

	positions[item] = position;
}

/* Random adds, deadline moves and removals; the first is always the
 * earliest left, and every item's reported position is where it sits. */
START_TEST(test_expiry_heap_order)
{
	enum {
		ITEMS = 500
	};
	static uint32_t positions[ITEMS];
	static uint64_t deadline[ITEMS];
	static bool present[ITEMS];
	struct expiry_heap heap;
	unsigned seed = 3;

	expiry_heap_init(&heap, note_position, positions);
	memset(present, 0, sizeof(present));
	ck_assert_uint_eq(expiry_heap_next(&heap), EXPIRY_HEAP_NONE);
	for (int step = 0; step < 20000; step++) {
		uint32_t item = (uint32_t)rand_r(&seed) % ITEMS;
		uint64_t when = (uint64_t)(rand_r(&seed) % 100000);
		if (!present[item]) {
			ck_assert(expiry_heap_add(&heap, item, when));
			present[item] = true;
			deadline[item] = when;
		} else if (rand_r(&seed) % 2) {
			expiry_heap_update(&heap, positions[item], when);
			deadline[item] = when;
		} else {
			expiry_heap_remove(&heap, positions[item]);
			present[item] = false;
		}
		/* plain ifs: a ck_assert a step per item would cost more than the heap */
		uint64_t earliest = EXPIRY_HEAP_NONE;
		for (uint32_t i = 0; i < ITEMS; i++) {
			if (!present[i])
				continue;
			if (heap.entries[positions[i]].item != i ||
			    heap.entries[positions[i]].expires_ms != deadline[i])
				ck_abort_msg("item %u misplaced at step %d", i, step);
			if (deadline[i] < earliest)
				earliest = deadline[i];
		}
		if (expiry_heap_next(&heap) != earliest)
			ck_abort_msg("first is not the earliest at step %d", step);
	}
	expiry_heap_free(&heap);
}
END_TEST

START_TEST(test_record_pool_stable_and_reused)
{
	struct record_pool pool;
	uint32_t *first, *record, number, first_number;

	record_pool_init(&pool, sizeof(uint32_t) * 4);
	first = record_pool_take(&pool, &first_number);
	ck_assert_ptr_nonnull(first);
	*first = 0xfeedu;
	for (uint32_t i = 1; i < 1000; i++) {
		record = record_pool_take(&pool, &number);
		ck_assert_ptr_nonnull(record);
		ck_assert_uint_eq(number, i);
		*record = i;
	}
	/* the first record did not move as the pool grew */
	ck_assert_ptr_eq(record_pool_at(&pool, first_number), first);
	ck_assert_uint_eq(*first, 0xfeedu);
	record_pool_give(&pool, 500);
	record_pool_give(&pool, 7);
	record = record_pool_take(&pool, &number);
	ck_assert_uint_eq(number, 7); /* given back last, reused first */
	ck_assert_uint_eq(*record, 0); /* zeroed */
	record_pool_take(&pool, &number);
	ck_assert_uint_eq(number, 500);
	record_pool_take(&pool, &number);
	ck_assert_uint_eq(number, 1000);
	ck_assert_uint_eq(pool.in_use, 1001);
	ck_assert_uint_ge(record_pool_bytes(&pool), 1001 * 16);
	record_pool_free(&pool);
}
END_TEST

START_TEST(test_transport_address_conversions)
{
	struct sockaddr_storage storage;
	struct transport_address address, back;
	struct sockaddr_in6 v6;

	address = ipv4(0xc0000201u, 3478);
	ck_assert_uint_eq(transport_address_to_sockaddr(&address, &storage),
			  sizeof(struct sockaddr_in));
	ck_assert(transport_address_from_sockaddr((struct sockaddr *)&storage, &back));
	ck_assert(transport_address_equal(&address, &back));
	ck_assert_mem_eq(&address, &back, sizeof(address));

	memset(&v6, 0, sizeof(v6));
	v6.sin6_family = AF_INET6;
	v6.sin6_port = htons(50000);
	inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
	ck_assert(transport_address_from_sockaddr((struct sockaddr *)&v6, &address));
	ck_assert_uint_eq(address.port, 50000);
	ck_assert_uint_eq(transport_address_to_sockaddr(&address, &storage), sizeof(v6));
	ck_assert_mem_eq(&((struct sockaddr_in6 *)&storage)->sin6_addr, &v6.sin6_addr, 16);
	back = address;
	back.port = 1;
	ck_assert(!transport_address_equal(&address, &back));
	ck_assert(transport_address_same_ip(&address, &back));
	back.ip[15] ^= 1;
	ck_assert(!transport_address_same_ip(&address, &back));

	storage.ss_family = AF_UNIX;
	ck_assert(!transport_address_from_sockaddr((struct sockaddr *)&storage, &address));
	ck_assert_uint_eq(address.family, 0);
	ck_assert_uint_eq(transport_address_to_sockaddr(&address, &storage), 0);
}
END_TEST

static Suite *allocation_table_suite(void)
{
	Suite *suite = suite_create("allocation_table");
	TCase *table = tcase_create("table");
	TCase *companions = tcase_create("companions");

	tcase_set_timeout(table, 60);
	tcase_add_test(table, test_record_size_bound);
	tcase_add_test(table, test_memory_per_allocation);
	tcase_add_test(table, test_quota_per_user);
	tcase_add_test(table, test_quota_total);
	tcase_add_test(table, test_five_tuple_and_relay_in_use);
	tcase_add_test(table, test_user_too_long);
	tcase_add_test(table, test_result_names_and_codes);
	tcase_add_test(table, test_lifetime_rules);
	tcase_add_test(table, test_allocate_lifetime_applied);
	tcase_add_test(table, test_refresh);
	tcase_add_test(table, test_expiry_at_the_boundary);
	tcase_add_test(table, test_one_timer_for_the_table);
	tcase_add_test(table, test_permission_lifetime);
	tcase_add_test(table, test_permission_limit);
	tcase_add_test(table, test_permission_refusal_takes_back);
	tcase_add_test(table, test_channel_number_range);
	tcase_add_test(table, test_channel_rules);
	tcase_add_test(table, test_channel_refresh_and_expiry);
	tcase_add_test(table, test_channel_limits);
	tcase_add_test(table, test_bandwidth_per_direction);
	tcase_add_test(table, test_set_limits);
	tcase_add_test(table, test_lookups_after_many_inserts_and_deletes);
	tcase_add_test(table, test_packet_path_does_not_allocate);
	tcase_add_test(table, test_connection_lifecycle);
	tcase_add_test(table, test_connection_id_expiry);
	tcase_add_test(table, test_connection_limit_and_unique_ids);
	tcase_add_test(table, test_table_free_reports_every_end);
	suite_add_tcase(suite, table);
	tcase_set_timeout(companions, 60);
	tcase_add_test(companions, test_expiry_heap_order);
	tcase_add_test(companions, test_record_pool_stable_and_reused);
	tcase_add_test(companions, test_transport_address_conversions);
	suite_add_tcase(suite, companions);
	return suite;
}

int main(void)
{
	return test_suite_run(allocation_table_suite());
}
