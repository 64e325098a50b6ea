/* SPDX-License-Identifier: ISC */
/* allocation_table: the state of TURN allocations (see allocation_table.h).
 *
 * Layout.  Allocations, permissions, channels, connections and quota users
 * are fixed-size records in record pools, known by 32-bit numbers.  Seven
 * hash indexes find them: allocations by 5-tuple and by relay address,
 * permissions by (allocation, peer IP), channels by (allocation, number)
 * and by (allocation, peer), connections by id, users by name.  The indexes
 * hold only hashes and numbers; each probe candidate is compared against the
 * record's own key.  Each allocation links its permissions, channels and
 * connections in lists (through record numbers), which only the control
 * path walks: to drop them all when it ends, and to drop its expired ones
 * before a limit refuses.  One heap holds every deadline; an item in it is
 * a record's kind in the top two bits and its number below.
 *
 * Limits.  The table's terms (its limits and the bandwidth rate they make)
 * are one counted block that every allocation points to; a reload gives the
 * table a new block and the old one stays as long as an allocation made
 * under it does. */
#include "allocation_table.h"

#include <stdlib.h>
#include <string.h>

#include "expiry_heap.h"
#include "hash_index.h"
#include "record_pool.h"

#define NONE	    RECORD_POOL_NONE
#define MS	    UINT64_C(1000)
#define KIND_SHIFT  30
#define NUMBER_MASK ((UINT32_C(1) << KIND_SHIFT) - 1)
#define NO_DEADLINE UINT64_MAX

/* A salt for connection ids, so they do not follow the index hashes. */
#define CONNECTION_ID_SALT 0x636f6e6e65637469ULL

enum item_kind {
	ITEM_ALLOCATION,
	ITEM_PERMISSION,
	ITEM_CHANNEL,
	ITEM_CONNECTION,
};

struct permission {
	struct transport_address peer; /* the port is not compared */
	uint64_t expires_ms;
	uint32_t allocation, heap_position;
	struct allocation_links links;
};

struct channel {
	struct transport_address peer;
	uint16_t number;
	uint64_t expires_ms;
	uint32_t allocation, heap_position;
	struct allocation_links links;
};

struct quota_user {
	char *name; /* length bytes, malloc'd */
	uint32_t length;
	uint32_t allocations;
};

struct allocation_terms {
	struct allocation_limits limits;
	struct byte_rate bandwidth; /* from limits.bandwidth_bytes_per_second */
	uint32_t allocations; /* made under these and not ended */
};

struct allocation_table {
	struct allocation_terms *terms; /* for what is made from now on */
	struct allocation_hooks hooks;
	uint64_t seed;
	uint64_t connection_counter;
	size_t user_name_bytes;
	struct record_pool allocations, permissions, channels, connections, users;
	struct hash_index by_client, by_relay, permission_index, channel_by_number, channel_by_peer,
		connection_index, user_index;
	struct expiry_heap heap;
};

/* ---- Names and codes ---- */

static const struct {
	const char *name;
	int error_code;
} results[] = {
	[ALLOCATION_OK] = { "ok", 0 },
	[ALLOCATION_REFUSED_IN_USE] = { "in_use", 437 },
	[ALLOCATION_REFUSED_USER_QUOTA] = { "user_quota", 486 },
	/* RFC 8656 §6.2 keeps 486 for the username's quota; the server's own
	 * capacity is 508 */
	[ALLOCATION_REFUSED_TOTAL_QUOTA] = { "total_quota", 508 },
	[ALLOCATION_REFUSED_RELAY_IN_USE] = { "relay_in_use", 508 },
	[ALLOCATION_REFUSED_USER_TOO_LONG] = { "user_too_long", 400 },
	[ALLOCATION_REFUSED_PERMISSION_LIMIT] = { "permission_limit", 508 },
	[ALLOCATION_REFUSED_CHANNEL_NUMBER] = { "channel_number", 400 },
	[ALLOCATION_REFUSED_CHANNEL_TAKEN] = { "channel_taken", 400 },
	[ALLOCATION_REFUSED_PEER_HAS_CHANNEL] = { "peer_has_channel", 400 },
	[ALLOCATION_REFUSED_CHANNEL_LIMIT] = { "channel_limit", 508 },
	[ALLOCATION_REFUSED_CONNECTION_EXISTS] = { "connection_exists", 446 },
	[ALLOCATION_REFUSED_CONNECTION_LIMIT] = { "connection_limit", 508 },
	[ALLOCATION_REFUSED_CONNECTION_UNKNOWN] = { "connection_unknown", 400 },
	[ALLOCATION_REFUSED_CONNECTION_STATE] = { "connection_state", 400 },
	[ALLOCATION_REFUSED_NO_MEMORY] = { "no_memory", 508 },
};

const char *allocation_result_name(enum allocation_result result)
{
	return results[result].name;
}

int allocation_result_error_code(enum allocation_result result)
{
	return results[result].error_code;
}

const char *allocation_end_name(enum allocation_end why)
{
	static const char *const names[] = {
		[ALLOCATION_END_EXPIRED] = "expired",
		[ALLOCATION_END_REFRESHED_TO_ZERO] = "refreshed_to_zero",
		[ALLOCATION_END_DELETED] = "deleted",
		[ALLOCATION_END_ALLOCATION_ENDED] = "allocation_ended",
		[ALLOCATION_END_TABLE_FREED] = "table_freed",
		[ALLOCATION_END_LISTENER_REMOVED] = "listener_removed",
	};
	return names[why];
}

/* ---- Keys ---- */

/* The seeded hash of two byte strings one after the other (every key
 * here is at most 44 bytes). */
static uint32_t hash_two(const struct allocation_table *table, const void *first,
			 size_t first_length, const void *second, size_t second_length)
{
	unsigned char key[48];

	memcpy(key, first, first_length);
	memcpy(key + first_length, second, second_length);
	return hash_index_key(table->seed, key, first_length + second_length);
}

static uint32_t five_tuple_hash(const struct allocation_table *table, const struct five_tuple *key)
{
	unsigned char addresses[2 * sizeof(struct transport_address)];

	memcpy(addresses, &key->client, sizeof(key->client));
	memcpy(addresses + sizeof(key->client), &key->server, sizeof(key->server));
	return hash_two(table, addresses, sizeof(addresses), &key->transport,
			sizeof(key->transport));
}

static bool five_tuple_equal(const struct five_tuple *a, const struct five_tuple *b)
{
	return a->transport == b->transport && transport_address_equal(&a->client, &b->client) &&
	       transport_address_equal(&a->server, &b->server);
}

static uint32_t relay_hash(const struct allocation_table *table, uint8_t transport,
			   const struct transport_address *relay)
{
	return hash_two(table, &transport, sizeof(transport), relay, sizeof(*relay));
}

static uint32_t permission_hash(const struct allocation_table *table, uint32_t allocation,
				const struct transport_address *peer)
{
	unsigned char ip[sizeof(peer->ip) + sizeof(peer->family)];

	memcpy(ip, peer->ip, sizeof(peer->ip));
	memcpy(ip + sizeof(peer->ip), &peer->family, sizeof(peer->family));
	return hash_two(table, &allocation, sizeof(allocation), ip, sizeof(ip));
}

static uint32_t channel_number_hash(const struct allocation_table *table, uint32_t allocation,
				    uint16_t number)
{
	return hash_two(table, &allocation, sizeof(allocation), &number, sizeof(number));
}

static uint32_t channel_peer_hash(const struct allocation_table *table, uint32_t allocation,
				  const struct transport_address *peer)
{
	return hash_two(table, &allocation, sizeof(allocation), peer, sizeof(*peer));
}

static uint32_t connection_hash(const struct allocation_table *table, uint32_t id)
{
	return hash_index_key(table->seed, &id, sizeof(id));
}

static uint32_t user_hash(const struct allocation_table *table, const char *name, size_t length)
{
	return hash_index_key(table->seed, name, length);
}

/* ---- Records ---- */

static struct allocation *allocation_at(const struct allocation_table *table, uint32_t number)
{
	return record_pool_at(&table->allocations, number);
}

static struct permission *permission_at(const struct allocation_table *table, uint32_t number)
{
	return record_pool_at(&table->permissions, number);
}

static struct channel *channel_at(const struct allocation_table *table, uint32_t number)
{
	return record_pool_at(&table->channels, number);
}

static struct allocation_connection *connection_at(const struct allocation_table *table,
						   uint32_t number)
{
	return record_pool_at(&table->connections, number);
}

static struct quota_user *user_at(const struct allocation_table *table, uint32_t number)
{
	return record_pool_at(&table->users, number);
}

/* A record from POOL whose number fits under the kind bits of a heap item. */
static void *take_record(struct record_pool *pool, uint32_t *number)
{
	void *record = record_pool_take(pool, number);

	if (record != NULL && *number > NUMBER_MASK) {
		record_pool_give(pool, *number);
		return NULL;
	}
	return record;
}

static uint32_t item(enum item_kind kind, uint32_t number)
{
	return (uint32_t)kind << KIND_SHIFT | number;
}

/* The heap reports each move here: the record keeps its position. */
static void heap_moved(void *context, uint32_t moved_item, uint32_t position)
{
	struct allocation_table *table = context;
	uint32_t number = moved_item & NUMBER_MASK;

	switch ((enum item_kind)(moved_item >> KIND_SHIFT)) {
	case ITEM_ALLOCATION:
		allocation_at(table, number)->heap_position = position;
		break;
	case ITEM_PERMISSION:
		permission_at(table, number)->heap_position = position;
		break;
	case ITEM_CHANNEL:
		channel_at(table, number)->heap_position = position;
		break;
	case ITEM_CONNECTION:
		connection_at(table, number)->heap_position = position;
		break;
	}
}

/* ---- Lists of an allocation's records ---- */

typedef struct allocation_links *(*links_of)(const struct allocation_table *table, uint32_t number);

static struct allocation_links *permission_links(const struct allocation_table *table,
						 uint32_t number)
{
	return &permission_at(table, number)->links;
}

static struct allocation_links *channel_links(const struct allocation_table *table, uint32_t number)
{
	return &channel_at(table, number)->links;
}

static struct allocation_links *connection_links(const struct allocation_table *table,
						 uint32_t number)
{
	return &connection_at(table, number)->links;
}

static void list_push(const struct allocation_table *table, links_of links, uint32_t *head,
		      uint32_t number)
{
	struct allocation_links *added = links(table, number);

	added->previous = NONE;
	added->next = *head;
	if (*head != NONE)
		links(table, *head)->previous = number;
	*head = number;
}

static void list_unlink(const struct allocation_table *table, links_of links, uint32_t *head,
			uint32_t number)
{
	struct allocation_links *gone = links(table, number);

	if (gone->previous != NONE)
		links(table, gone->previous)->next = gone->next;
	else
		*head = gone->next;
	if (gone->next != NONE)
		links(table, gone->next)->previous = gone->previous;
}

/* ---- Users (whom the quota counts) ---- */

static uint32_t find_user(const struct allocation_table *table, const char *name, size_t length)
{
	struct hash_probe probe;
	uint32_t number;

	hash_index_probe(&table->user_index, user_hash(table, name, length), &probe);
	while (hash_index_next(&table->user_index, &probe, &number)) {
		const struct quota_user *user = user_at(table, number);
		if (user->length == length && memcmp(user->name, name, length) == 0)
			return number;
	}
	return NONE;
}

/* USER's record, made with no allocations when new; NONE when out of memory. */
static uint32_t hold_user(struct allocation_table *table, const char *name, size_t length)
{
	uint32_t number = find_user(table, name, length);
	struct quota_user *user;

	if (number != NONE)
		return number;
	user = take_record(&table->users, &number);
	if (user == NULL)
		return NONE;
	user->name = malloc(length > 0 ? length : 1);
	if (user->name == NULL ||
	    !hash_index_insert(&table->user_index, user_hash(table, name, length), number)) {
		free(user->name);
		record_pool_give(&table->users, number);
		return NONE;
	}
	memcpy(user->name, name, length);
	user->length = (uint32_t)length;
	table->user_name_bytes += length;
	return number;
}

/* Forgets a user with no allocations left. */
static void drop_user_if_unused(struct allocation_table *table, uint32_t number)
{
	struct quota_user *user = user_at(table, number);

	if (user->allocations > 0)
		return;
	hash_index_remove(&table->user_index, user_hash(table, user->name, user->length), number);
	table->user_name_bytes -= user->length;
	free(user->name);
	record_pool_give(&table->users, number);
}

/* ---- Permissions ---- */

static uint32_t find_permission(const struct allocation_table *table,
				const struct allocation *allocation,
				const struct transport_address *peer)
{
	struct hash_probe probe;
	uint32_t number;

	hash_index_probe(&table->permission_index, permission_hash(table, allocation->number, peer),
			 &probe);
	while (hash_index_next(&table->permission_index, &probe, &number)) {
		const struct permission *permission = permission_at(table, number);
		if (permission->allocation == allocation->number &&
		    transport_address_same_ip(&permission->peer, peer))
			return number;
	}
	return NONE;
}

static void remove_permission(struct allocation_table *table, uint32_t number)
{
	struct permission *permission = permission_at(table, number);
	struct allocation *allocation = allocation_at(table, permission->allocation);

	hash_index_remove(&table->permission_index,
			  permission_hash(table, permission->allocation, &permission->peer),
			  number);
	expiry_heap_remove(&table->heap, permission->heap_position);
	list_unlink(table, permission_links, &allocation->permissions, number);
	allocation->permission_count--;
	record_pool_give(&table->permissions, number);
}

static bool add_permission(struct allocation_table *table, struct allocation *allocation,
			   const struct transport_address *peer, uint64_t expires_ms)
{
	uint32_t number;
	struct permission *permission = take_record(&table->permissions, &number);

	if (permission == NULL)
		return false;
	permission->peer = *peer;
	permission->peer.port = 0;
	permission->allocation = allocation->number;
	permission->expires_ms = expires_ms;
	if (!hash_index_insert(&table->permission_index,
			       permission_hash(table, allocation->number, peer), number)) {
		record_pool_give(&table->permissions, number);
		return false;
	}
	if (!expiry_heap_add(&table->heap, item(ITEM_PERMISSION, number), expires_ms)) {
		hash_index_remove(&table->permission_index,
				  permission_hash(table, allocation->number, peer), number);
		record_pool_give(&table->permissions, number);
		return false;
	}
	list_push(table, permission_links, &allocation->permissions, number);
	allocation->permission_count++;
	return true;
}

static void drop_expired_permissions(struct allocation_table *table, struct allocation *allocation,
				     uint64_t now_ms)
{
	uint32_t number = allocation->permissions;

	while (number != NONE) {
		const struct permission *permission = permission_at(table, number);
		uint32_t next = permission->links.next;
		if (permission->expires_ms <= now_ms)
			remove_permission(table, number);
		number = next;
	}
}

/* A CreatePermission may carry thousands of addresses: the new ones are
 * added as they come (a repeated IP then finds the record its first copy
 * made, so it counts once, in one hash probe), and if the limit or memory
 * runs out they are taken back off the head of the allocation's list, where
 * each was pushed.  Refreshes wait until every address has its place. */
enum allocation_result allocation_permit(struct allocation_table *table,
					 struct allocation *allocation,
					 const struct transport_address *peers, size_t count,
					 uint64_t now_ms)
{
	uint64_t expires_ms = now_ms + ALLOCATION_PERMISSION_LIFETIME_S * MS;
	uint32_t limit = allocation->terms->limits.permissions_per_allocation;
	enum allocation_result result = ALLOCATION_OK;
	size_t added = 0;

	/* expired ones are gone already for every look-up: they take no place */
	if (limit != 0 && allocation->permission_count + count > limit)
		drop_expired_permissions(table, allocation, now_ms);
	for (size_t i = 0; i < count && result == ALLOCATION_OK; i++) {
		if (find_permission(table, allocation, &peers[i]) != NONE)
			continue;
		if (limit != 0 && allocation->permission_count >= limit)
			result = ALLOCATION_REFUSED_PERMISSION_LIMIT;
		else if (!add_permission(table, allocation, &peers[i], expires_ms))
			result = ALLOCATION_REFUSED_NO_MEMORY;
		else
			added++;
	}
	if (result != ALLOCATION_OK) {
		while (added-- > 0)
			remove_permission(table, allocation->permissions);
		return result;
	}
	for (size_t i = 0; i < count; i++) {
		struct permission *permission =
			permission_at(table, find_permission(table, allocation, &peers[i]));
		permission->expires_ms = expires_ms;
		expiry_heap_update(&table->heap, permission->heap_position, expires_ms);
	}
	return ALLOCATION_OK;
}

bool allocation_permits(const struct allocation_table *table, const struct allocation *allocation,
			const struct transport_address *peer, uint64_t now_ms)
{
	uint32_t number = find_permission(table, allocation, peer);

	return number != NONE && now_ms < permission_at(table, number)->expires_ms;
}

/* ---- Channels ---- */

static uint32_t find_channel_by_number(const struct allocation_table *table,
				       const struct allocation *allocation, uint16_t channel)
{
	struct hash_probe probe;
	uint32_t number;

	hash_index_probe(&table->channel_by_number,
			 channel_number_hash(table, allocation->number, channel), &probe);
	while (hash_index_next(&table->channel_by_number, &probe, &number)) {
		const struct channel *found = channel_at(table, number);
		if (found->allocation == allocation->number && found->number == channel)
			return number;
	}
	return NONE;
}

static uint32_t find_channel_by_peer(const struct allocation_table *table,
				     const struct allocation *allocation,
				     const struct transport_address *peer)
{
	struct hash_probe probe;
	uint32_t number;

	hash_index_probe(&table->channel_by_peer,
			 channel_peer_hash(table, allocation->number, peer), &probe);
	while (hash_index_next(&table->channel_by_peer, &probe, &number)) {
		const struct channel *found = channel_at(table, number);
		if (found->allocation == allocation->number &&
		    transport_address_equal(&found->peer, peer))
			return number;
	}
	return NONE;
}

static void remove_channel(struct allocation_table *table, uint32_t number)
{
	struct channel *channel = channel_at(table, number);
	struct allocation *allocation = allocation_at(table, channel->allocation);

	hash_index_remove(&table->channel_by_number,
			  channel_number_hash(table, channel->allocation, channel->number), number);
	hash_index_remove(&table->channel_by_peer,
			  channel_peer_hash(table, channel->allocation, &channel->peer), number);
	expiry_heap_remove(&table->heap, channel->heap_position);
	list_unlink(table, channel_links, &allocation->channels, number);
	allocation->channel_count--;
	record_pool_give(&table->channels, number);
}

static bool add_channel(struct allocation_table *table, struct allocation *allocation,
			uint16_t channel_number, const struct transport_address *peer,
			uint64_t expires_ms)
{
	uint32_t number;
	struct channel *channel = take_record(&table->channels, &number);
	uint32_t by_number = channel_number_hash(table, allocation->number, channel_number);
	uint32_t by_peer = channel_peer_hash(table, allocation->number, peer);

	if (channel == NULL)
		return false;
	channel->peer = *peer;
	channel->number = channel_number;
	channel->allocation = allocation->number;
	channel->expires_ms = expires_ms;
	if (!hash_index_insert(&table->channel_by_number, by_number, number))
		goto no_number;
	if (!hash_index_insert(&table->channel_by_peer, by_peer, number))
		goto no_peer;
	if (!expiry_heap_add(&table->heap, item(ITEM_CHANNEL, number), expires_ms))
		goto no_deadline;
	list_push(table, channel_links, &allocation->channels, number);
	allocation->channel_count++;
	return true;

no_deadline:
	hash_index_remove(&table->channel_by_peer, by_peer, number);
no_peer:
	hash_index_remove(&table->channel_by_number, by_number, number);
no_number:
	record_pool_give(&table->channels, number);
	return false;
}

static void drop_expired_channels(struct allocation_table *table, struct allocation *allocation,
				  uint64_t now_ms)
{
	uint32_t number = allocation->channels;

	while (number != NONE) {
		const struct channel *channel = channel_at(table, number);
		uint32_t next = channel->links.next;
		if (channel->expires_ms <= now_ms)
			remove_channel(table, number);
		number = next;
	}
}

enum allocation_result allocation_channel_bind(struct allocation_table *table,
					       struct allocation *allocation, uint16_t number,
					       const struct transport_address *peer,
					       uint64_t now_ms)
{
	uint64_t expires_ms = now_ms + ALLOCATION_CHANNEL_LIFETIME_S * MS;
	uint32_t limit = allocation->terms->limits.channels_per_allocation;
	uint32_t by_number, by_peer;
	enum allocation_result permitted;

	if (number < ALLOCATION_CHANNEL_FIRST || number > ALLOCATION_CHANNEL_LAST)
		return ALLOCATION_REFUSED_CHANNEL_NUMBER;
	by_number = find_channel_by_number(table, allocation, number);
	by_peer = find_channel_by_peer(table, allocation, peer);
	if (by_number != NONE && by_number != by_peer) {
		if (now_ms < channel_at(table, by_number)->expires_ms)
			return ALLOCATION_REFUSED_CHANNEL_TAKEN;
	}
	if (by_peer != NONE && by_peer != by_number) {
		if (now_ms < channel_at(table, by_peer)->expires_ms)
			return ALLOCATION_REFUSED_PEER_HAS_CHANNEL;
	}
	if (by_number != NONE && by_number == by_peer) {
		/* the same binding again: a refresh (of the permission too) */
		permitted = allocation_permit(table, allocation, peer, 1, now_ms);
		if (permitted != ALLOCATION_OK)
			return permitted;
		channel_at(table, by_number)->expires_ms = expires_ms;
		expiry_heap_update(&table->heap, channel_at(table, by_number)->heap_position,
				   expires_ms);
		return ALLOCATION_OK;
	}
	/* what is left in the way expired: the number and the peer are free */
	if (by_number != NONE)
		remove_channel(table, by_number);
	if (by_peer != NONE)
		remove_channel(table, by_peer);
	if (limit != 0 && allocation->channel_count >= limit) {
		drop_expired_channels(table, allocation, now_ms);
		if (allocation->channel_count >= limit)
			return ALLOCATION_REFUSED_CHANNEL_LIMIT;
	}
	permitted = allocation_permit(table, allocation, peer, 1, now_ms);
	if (permitted != ALLOCATION_OK)
		return permitted;
	if (!add_channel(table, allocation, number, peer, expires_ms))
		return ALLOCATION_REFUSED_NO_MEMORY;
	return ALLOCATION_OK;
}

const struct transport_address *allocation_channel_peer(const struct allocation_table *table,
							const struct allocation *allocation,
							uint16_t number, uint64_t now_ms)
{
	uint32_t found = find_channel_by_number(table, allocation, number);

	if (found == NONE || now_ms >= channel_at(table, found)->expires_ms)
		return NULL;
	return &channel_at(table, found)->peer;
}

uint16_t allocation_channel_number(const struct allocation_table *table,
				   const struct allocation *allocation,
				   const struct transport_address *peer, uint64_t now_ms)
{
	uint32_t found = find_channel_by_peer(table, allocation, peer);

	if (found == NONE || now_ms >= channel_at(table, found)->expires_ms)
		return 0;
	return channel_at(table, found)->number;
}

/* ---- Connections (RFC 6062) ---- */

static uint32_t find_connection(const struct allocation_table *table, uint32_t id)
{
	struct hash_probe probe;
	uint32_t number;

	hash_index_probe(&table->connection_index, connection_hash(table, id), &probe);
	while (hash_index_next(&table->connection_index, &probe, &number)) {
		if (connection_at(table, number)->id == id)
			return number;
	}
	return NONE;
}

static bool connection_alive(const struct allocation_connection *connection, uint64_t now_ms)
{
	return connection->state == ALLOCATION_CONNECTION_BOUND || now_ms < connection->expires_ms;
}

static void end_connection(struct allocation_table *table, uint32_t number, enum allocation_end why)
{
	struct allocation_connection *connection = connection_at(table, number);
	struct allocation *allocation = connection->allocation;

	if (table->hooks.connection_ended != NULL)
		table->hooks.connection_ended(table->hooks.context, connection, why);
	hash_index_remove(&table->connection_index, connection_hash(table, connection->id), number);
	if (connection->heap_position != NONE)
		expiry_heap_remove(&table->heap, connection->heap_position);
	list_unlink(table, connection_links, &allocation->connections, number);
	allocation->connection_count--;
	record_pool_give(&table->connections, number);
}

/* A fresh CONNECTION-ID: non-zero, unused, from the seed and a counter. */
static uint32_t new_connection_id(struct allocation_table *table)
{
	uint32_t id;

	do {
		table->connection_counter++;
		id = hash_index_key(table->seed ^ CONNECTION_ID_SALT, &table->connection_counter,
				    sizeof(table->connection_counter));
	} while (id == 0 || find_connection(table, id) != NONE);
	return id;
}

struct allocation_connection *allocation_connection_open(struct allocation_table *table,
							 struct allocation *allocation,
							 const struct transport_address *peer,
							 enum allocation_connection_state state,
							 uint64_t now_ms,
							 enum allocation_result *result)
{
	uint32_t limit = allocation->terms->limits.connections_per_allocation;
	struct allocation_connection *connection;
	uint32_t number;

	if (state == ALLOCATION_CONNECTION_BOUND) {
		*result = ALLOCATION_REFUSED_CONNECTION_STATE;
		return NULL;
	}
	for (number = allocation->connections; number != NONE;) {
		connection = connection_at(table, number);
		uint32_t next = connection->links.next;
		if (!connection_alive(connection, now_ms)) {
			end_connection(table, number, ALLOCATION_END_EXPIRED);
		} else if (transport_address_equal(&connection->peer, peer)) {
			*result = ALLOCATION_REFUSED_CONNECTION_EXISTS;
			return NULL;
		}
		number = next;
	}
	if (limit != 0 && allocation->connection_count >= limit) {
		*result = ALLOCATION_REFUSED_CONNECTION_LIMIT;
		return NULL;
	}
	*result = ALLOCATION_REFUSED_NO_MEMORY;
	connection = take_record(&table->connections, &number);
	if (connection == NULL)
		return NULL;
	connection->number = number;
	connection->id = new_connection_id(table);
	connection->state = state;
	connection->peer = *peer;
	connection->expires_ms = now_ms + ALLOCATION_CONNECTION_BIND_S * MS;
	connection->allocation = allocation;
	if (!hash_index_insert(&table->connection_index, connection_hash(table, connection->id),
			       number)) {
		record_pool_give(&table->connections, number);
		return NULL;
	}
	if (!expiry_heap_add(&table->heap, item(ITEM_CONNECTION, number), connection->expires_ms)) {
		hash_index_remove(&table->connection_index, connection_hash(table, connection->id),
				  number);
		record_pool_give(&table->connections, number);
		return NULL;
	}
	list_push(table, connection_links, &allocation->connections, number);
	allocation->connection_count++;
	*result = ALLOCATION_OK;
	return connection;
}

struct allocation_connection *allocation_connection_find(const struct allocation_table *table,
							 uint32_t id, uint64_t now_ms)
{
	uint32_t number = find_connection(table, id);

	if (number == NONE || !connection_alive(connection_at(table, number), now_ms))
		return NULL;
	return connection_at(table, number);
}

enum allocation_result allocation_connection_established(struct allocation_table *table,
							 struct allocation_connection *connection,
							 uint64_t now_ms)
{
	if (connection->state != ALLOCATION_CONNECTION_CONNECTING)
		return ALLOCATION_REFUSED_CONNECTION_STATE;
	connection->state = ALLOCATION_CONNECTION_WAITING_BIND;
	connection->expires_ms = now_ms + ALLOCATION_CONNECTION_BIND_S * MS;
	expiry_heap_update(&table->heap, connection->heap_position, connection->expires_ms);
	return ALLOCATION_OK;
}

enum allocation_result allocation_connection_bind(struct allocation_table *table, uint32_t id,
						  uint64_t now_ms,
						  struct allocation_connection **bound)
{
	struct allocation_connection *connection = allocation_connection_find(table, id, now_ms);

	*bound = NULL;
	if (connection == NULL)
		return ALLOCATION_REFUSED_CONNECTION_UNKNOWN;
	if (connection->state != ALLOCATION_CONNECTION_WAITING_BIND)
		return ALLOCATION_REFUSED_CONNECTION_STATE;
	connection->state = ALLOCATION_CONNECTION_BOUND;
	connection->expires_ms = NO_DEADLINE;
	expiry_heap_remove(&table->heap, connection->heap_position);
	connection->heap_position = NONE;
	*bound = connection;
	return ALLOCATION_OK;
}

void allocation_connection_close(struct allocation_table *table,
				 struct allocation_connection *connection)
{
	end_connection(table, connection->number, ALLOCATION_END_DELETED);
}

/* ---- Allocations ---- */

static struct allocation *find_by_client(const struct allocation_table *table,
					 const struct five_tuple *five_tuple)
{
	struct hash_probe probe;
	uint32_t number;

	hash_index_probe(&table->by_client, five_tuple_hash(table, five_tuple), &probe);
	while (hash_index_next(&table->by_client, &probe, &number)) {
		struct allocation *allocation = allocation_at(table, number);
		if (five_tuple_equal(&allocation->five_tuple, five_tuple))
			return allocation;
	}
	return NULL;
}

static struct allocation *find_by_relay(const struct allocation_table *table, uint8_t transport,
					const struct transport_address *relay)
{
	struct hash_probe probe;
	uint32_t number;

	hash_index_probe(&table->by_relay, relay_hash(table, transport, relay), &probe);
	while (hash_index_next(&table->by_relay, &probe, &number)) {
		struct allocation *allocation = allocation_at(table, number);
		if (allocation->relay_transport == transport &&
		    transport_address_equal(&allocation->relay, relay))
			return allocation;
	}
	return NULL;
}

struct allocation *allocation_find_by_client(const struct allocation_table *table,
					     const struct five_tuple *five_tuple, uint64_t now_ms)
{
	struct allocation *allocation = find_by_client(table, five_tuple);

	return allocation != NULL && now_ms < allocation->expires_ms ? allocation : NULL;
}

struct allocation *allocation_find_by_relay(const struct allocation_table *table,
					    uint8_t relay_transport,
					    const struct transport_address *relay, uint64_t now_ms)
{
	struct allocation *allocation = find_by_relay(table, relay_transport, relay);

	return allocation != NULL && now_ms < allocation->expires_ms ? allocation : NULL;
}

/* ---- Limits ---- */

struct allocation_terms *allocation_terms_new(const struct allocation_limits *limits)
{
	struct allocation_terms *terms = calloc(1, sizeof(*terms));

	if (terms == NULL)
		return NULL;
	terms->limits = *limits;
	if (terms->limits.default_lifetime_s == 0)
		terms->limits.default_lifetime_s = ALLOCATION_DEFAULT_LIFETIME_S;
	if (terms->limits.max_lifetime_s < terms->limits.default_lifetime_s)
		terms->limits.max_lifetime_s = terms->limits.default_lifetime_s;
	terms->bandwidth = byte_rate_make(limits->bandwidth_bytes_per_second, 0);
	return terms;
}

void allocation_terms_free(struct allocation_terms *terms)
{
	free(terms);
}

/* An allocation made under TERMS ended: old terms go with the last one. */
static void release_terms(struct allocation_table *table, struct allocation_terms *terms)
{
	terms->allocations--;
	if (terms->allocations == 0 && terms != table->terms)
		free(terms);
}

void allocation_table_set_limits(struct allocation_table *table, struct allocation_terms *terms)
{
	struct allocation_terms *old = table->terms;

	table->terms = terms;
	if (old->allocations == 0)
		free(old);
}

/* ---- Ending ---- */

/* Reports the end, then takes down everything that hangs off ALLOCATION. */
static void end_allocation(struct allocation_table *table, struct allocation *allocation,
			   enum allocation_end why)
{
	uint32_t number = allocation->number;

	while (allocation->connections != NONE)
		end_connection(table, allocation->connections,
			       why == ALLOCATION_END_TABLE_FREED ? why
								 : ALLOCATION_END_ALLOCATION_ENDED);
	if (table->hooks.allocation_ended != NULL)
		table->hooks.allocation_ended(table->hooks.context, allocation, why);
	while (allocation->permissions != NONE)
		remove_permission(table, allocation->permissions);
	while (allocation->channels != NONE)
		remove_channel(table, allocation->channels);
	expiry_heap_remove(&table->heap, allocation->heap_position);
	hash_index_remove(&table->by_client, five_tuple_hash(table, &allocation->five_tuple),
			  number);
	hash_index_remove(&table->by_relay,
			  relay_hash(table, allocation->relay_transport, &allocation->relay),
			  number);
	user_at(table, allocation->user)->allocations--;
	drop_user_if_unused(table, allocation->user);
	release_terms(table, allocation->terms);
	record_pool_give(&table->allocations, number);
}

void allocation_delete(struct allocation_table *table, struct allocation *allocation)
{
	end_allocation(table, allocation, ALLOCATION_END_DELETED);
}

void allocation_table_end(struct allocation_table *table, struct allocation *allocation,
			  enum allocation_end why)
{
	end_allocation(table, allocation, why);
}

/* Ends or drops the item of a heap entry that is due. */
static void end_item(struct allocation_table *table, uint32_t due, enum allocation_end why)
{
	uint32_t number = due & NUMBER_MASK;

	switch ((enum item_kind)(due >> KIND_SHIFT)) {
	case ITEM_ALLOCATION:
		end_allocation(table, allocation_at(table, number), why);
		break;
	case ITEM_PERMISSION:
		remove_permission(table, number);
		break;
	case ITEM_CHANNEL:
		remove_channel(table, number);
		break;
	case ITEM_CONNECTION:
		end_connection(table, number, why);
		break;
	}
}

size_t allocation_table_expire(struct allocation_table *table, uint64_t now_ms)
{
	const struct expiry_entry *first;
	size_t removed = 0;

	while ((first = expiry_heap_first(&table->heap)) != NULL && first->expires_ms <= now_ms) {
		end_item(table, first->item, ALLOCATION_END_EXPIRED);
		removed++;
	}
	return removed;
}

uint64_t allocation_table_next_expiry(const struct allocation_table *table)
{
	return expiry_heap_next(&table->heap);
}

static uint32_t terms_lifetime(const struct allocation_terms *terms, bool has_lifetime,
			       uint32_t requested_s)
{
	const struct allocation_limits *limits = &terms->limits;
	uint32_t lifetime;

	if (!has_lifetime)
		return limits->default_lifetime_s;
	lifetime = requested_s < limits->max_lifetime_s ? requested_s : limits->max_lifetime_s;
	return lifetime > limits->default_lifetime_s ? lifetime : limits->default_lifetime_s;
}

uint32_t allocation_lifetime(const struct allocation_table *table, bool has_lifetime,
			     uint32_t requested_s)
{
	return terms_lifetime(table->terms, has_lifetime, requested_s);
}

enum allocation_result allocation_table_admit(struct allocation_table *table,
					      const struct five_tuple *five_tuple, const char *user,
					      size_t user_length, uint64_t now_ms)
{
	const struct allocation_limits *limits = &table->terms->limits;
	uint32_t per_user = limits->allocations_per_user;
	uint32_t holder;

	allocation_table_expire(table, now_ms);
	if (user_length > ALLOCATION_USER_MAX)
		return ALLOCATION_REFUSED_USER_TOO_LONG;
	if (find_by_client(table, five_tuple) != NULL)
		return ALLOCATION_REFUSED_IN_USE;
	if (limits->allocations != 0 && table->allocations.in_use >= limits->allocations)
		return ALLOCATION_REFUSED_TOTAL_QUOTA;
	holder = per_user != 0 ? find_user(table, user, user_length) : NONE;
	if (holder != NONE && user_at(table, holder)->allocations >= per_user)
		return ALLOCATION_REFUSED_USER_QUOTA;
	return ALLOCATION_OK;
}

struct allocation *allocation_create(struct allocation_table *table,
				     const struct allocation_request *request, uint64_t now_ms,
				     enum allocation_result *result)
{
	const struct five_tuple *five_tuple = &request->five_tuple;
	uint32_t client_hash = five_tuple_hash(table, five_tuple);
	uint32_t relay_key = relay_hash(table, request->relay_transport, &request->relay);
	struct allocation *allocation;
	uint32_t number, user;

	*result = allocation_table_admit(table, five_tuple, request->user, request->user_length,
					 now_ms);
	if (*result != ALLOCATION_OK)
		return NULL;
	if (find_by_relay(table, request->relay_transport, &request->relay) != NULL) {
		*result = ALLOCATION_REFUSED_RELAY_IN_USE;
		return NULL;
	}
	*result = ALLOCATION_REFUSED_NO_MEMORY;
	user = hold_user(table, request->user, request->user_length);
	if (user == NONE)
		return NULL;
	allocation = take_record(&table->allocations, &number);
	if (allocation == NULL)
		goto no_record;
	allocation->five_tuple = *five_tuple;
	allocation->relay_transport = request->relay_transport;
	allocation->relay = request->relay;
	allocation->key_length =
		(uint8_t)(request->key_length < ALLOCATION_KEY_MAX ? request->key_length
								   : ALLOCATION_KEY_MAX);
	if (allocation->key_length > 0)
		memcpy(allocation->key, request->key, allocation->key_length);
	if (request->transaction_id != NULL)
		memcpy(allocation->transaction_id, request->transaction_id,
		       ALLOCATION_TRANSACTION_ID_BYTES);
	allocation->created_ms = now_ms;
	allocation->terms = table->terms;
	allocation->expires_ms =
		now_ms +
		terms_lifetime(allocation->terms, request->has_lifetime, request->lifetime_s) * MS;
	byte_bucket_fill(&allocation->to_peer, &allocation->terms->bandwidth, now_ms);
	byte_bucket_fill(&allocation->to_client, &allocation->terms->bandwidth, now_ms);
	allocation->number = number;
	allocation->user = user;
	allocation->permissions = allocation->channels = allocation->connections = NONE;
	if (!hash_index_insert(&table->by_client, client_hash, number))
		goto no_client_index;
	if (!hash_index_insert(&table->by_relay, relay_key, number))
		goto no_relay_index;
	if (!expiry_heap_add(&table->heap, item(ITEM_ALLOCATION, number), allocation->expires_ms))
		goto no_deadline;
	user_at(table, user)->allocations++;
	allocation->terms->allocations++;
	*result = ALLOCATION_OK;
	return allocation;

no_deadline:
	hash_index_remove(&table->by_relay, relay_key, number);
no_relay_index:
	hash_index_remove(&table->by_client, client_hash, number);
no_client_index:
	record_pool_give(&table->allocations, number);
no_record:
	drop_user_if_unused(table, user);
	return NULL;
}

uint32_t allocation_refresh(struct allocation_table *table, struct allocation *allocation,
			    bool has_lifetime, uint32_t requested_s, uint64_t now_ms)
{
	uint32_t lifetime;

	if (has_lifetime && requested_s == 0) {
		end_allocation(table, allocation, ALLOCATION_END_REFRESHED_TO_ZERO);
		return 0;
	}
	lifetime = terms_lifetime(allocation->terms, has_lifetime, requested_s);
	allocation->expires_ms = now_ms + lifetime * MS;
	expiry_heap_update(&table->heap, allocation->heap_position, allocation->expires_ms);
	return lifetime;
}

uint32_t allocation_remaining_s(const struct allocation *allocation, uint64_t now_ms)
{
	return now_ms < allocation->expires_ms ? (uint32_t)((allocation->expires_ms - now_ms) / MS)
					       : 0;
}

const char *allocation_user(const struct allocation_table *table,
			    const struct allocation *allocation, size_t *length)
{
	const struct quota_user *user = user_at(table, allocation->user);

	*length = user->length;
	return user->name;
}

uint32_t allocation_table_count(const struct allocation_table *table)
{
	return table->allocations.in_use;
}

uint32_t allocation_table_user_count(const struct allocation_table *table, const char *user,
				     size_t user_length)
{
	uint32_t number = find_user(table, user, user_length);

	return number == NONE ? 0 : user_at(table, number)->allocations;
}

bool allocation_bandwidth_take(const struct allocation_table *table, struct allocation *allocation,
			       enum allocation_direction direction, uint32_t bytes, uint64_t now_ms)
{
	struct byte_bucket *bucket =
		direction == ALLOCATION_TO_PEER ? &allocation->to_peer : &allocation->to_client;

	(void)table;
	return byte_bucket_take(bucket, &allocation->terms->bandwidth, bytes, now_ms);
}

uint32_t allocation_bandwidth_take_some(const struct allocation_table *table,
					struct allocation *allocation,
					enum allocation_direction direction, uint32_t bytes,
					uint32_t wanted, uint64_t now_ms, uint64_t *wait_ms)
{
	struct byte_bucket *bucket =
		direction == ALLOCATION_TO_PEER ? &allocation->to_peer : &allocation->to_client;
	const struct byte_rate *rate = &allocation->terms->bandwidth;

	(void)table;
	uint32_t granted = byte_bucket_take_some(bucket, rate, bytes, now_ms);
	*wait_ms = granted == 0 ? byte_bucket_wait_ms(bucket, rate, wanted, now_ms) : 0;
	return granted;
}

/* ---- The table ---- */

struct allocation_table *allocation_table_new(const struct allocation_limits *limits,
					      const struct allocation_hooks *hooks, uint64_t seed)
{
	struct allocation_table *table = calloc(1, sizeof(*table));

	if (table == NULL)
		return NULL;
	table->terms = allocation_terms_new(limits);
	if (table->terms == NULL) {
		free(table);
		return NULL;
	}
	if (hooks != NULL)
		table->hooks = *hooks;
	table->seed = seed;
	record_pool_init(&table->allocations, sizeof(struct allocation));
	record_pool_init(&table->permissions, sizeof(struct permission));
	record_pool_init(&table->channels, sizeof(struct channel));
	record_pool_init(&table->connections, sizeof(struct allocation_connection));
	record_pool_init(&table->users, sizeof(struct quota_user));
	hash_index_init(&table->by_client);
	hash_index_init(&table->by_relay);
	hash_index_init(&table->permission_index);
	hash_index_init(&table->channel_by_number);
	hash_index_init(&table->channel_by_peer);
	hash_index_init(&table->connection_index);
	hash_index_init(&table->user_index);
	expiry_heap_init(&table->heap, heap_moved, table);
	return table;
}

void allocation_table_free(struct allocation_table *table)
{
	const struct expiry_entry *first;

	if (table == NULL)
		return;
	/* every allocation is in the heap, and takes down what hangs off it */
	while ((first = expiry_heap_first(&table->heap)) != NULL)
		end_item(table, first->item, ALLOCATION_END_TABLE_FREED);
	record_pool_free(&table->allocations);
	record_pool_free(&table->permissions);
	record_pool_free(&table->channels);
	record_pool_free(&table->connections);
	record_pool_free(&table->users);
	hash_index_free(&table->by_client);
	hash_index_free(&table->by_relay);
	hash_index_free(&table->permission_index);
	hash_index_free(&table->channel_by_number);
	hash_index_free(&table->channel_by_peer);
	hash_index_free(&table->connection_index);
	hash_index_free(&table->user_index);
	expiry_heap_free(&table->heap);
	free(table->terms);
	free(table);
}

void allocation_table_counts(const struct allocation_table *table,
			     struct allocation_table_counts *counts)
{
	counts->allocations = table->allocations.in_use;
	counts->users = table->users.in_use;
	counts->permissions = table->permissions.in_use;
	counts->channels = table->channels.in_use;
	counts->connections = table->connections.in_use;
	counts->bytes =
		sizeof(*table) + sizeof(*table->terms) + record_pool_bytes(&table->allocations) +
		record_pool_bytes(&table->permissions) + record_pool_bytes(&table->channels) +
		record_pool_bytes(&table->connections) + record_pool_bytes(&table->users) +
		hash_index_bytes(&table->by_client) + hash_index_bytes(&table->by_relay) +
		hash_index_bytes(&table->permission_index) +
		hash_index_bytes(&table->channel_by_number) +
		hash_index_bytes(&table->channel_by_peer) +
		hash_index_bytes(&table->connection_index) + hash_index_bytes(&table->user_index) +
		expiry_heap_bytes(&table->heap) + table->user_name_bytes;
}
