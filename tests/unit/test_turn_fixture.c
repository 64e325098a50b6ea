/* SPDX-License-Identifier: ISC */
/* test_turn_fixture: the fake turn_io, the server under test and the
 * request builders the turn_server suites share (test_turn_fixture.h). */
#include "test_turn_fixture.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "stun_attribute.h"
#include "stun_integrity.h"

struct fake_io fake;
struct turn_server *server;
struct turn_server_settings settings;
struct peer_policy policy;
const char *client_secret;

static struct stun_hmac test_hmac;
static const uint8_t nonce_secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static char pending_nonce[TURN_NONCE_SIZE];

/* ---- The fake turn_io ---- */

static void record(struct sent *sent, const struct turn_client *client, void *relay,
		   const struct transport_address *peer, const uint8_t *bytes, size_t size)
{
	if (client != NULL)
		sent->client = *client;
	sent->relay = relay;
	if (peer != NULL)
		sent->peer = *peer;
	sent->size = size;
	memcpy(sent->bytes, bytes, size < BYTES_MAX ? size : BYTES_MAX);
}

static void fake_to_client(void *arg, const struct turn_client *client, const uint8_t *bytes,
			   size_t size)
{
	(void)arg;
	record(&fake.to_client[fake.to_client_count++ % RECORDS], client, NULL, NULL, bytes, size);
}

static void *fake_relay_open(void *arg, uint8_t relay_transport, struct transport_address *relay)
{
	(void)arg;
	if (fake.relay_fail)
		return NULL;
	unsigned i = fake.relay_open_count++ % RECORDS;
	fake.relay_transport[i] = relay_transport;
	*relay = relay->family == AF_INET6 ? address6("2001:db8::1", (uint16_t)(50000 + i))
					   : address4("198.51.100.1", (uint16_t)(50000 + i));
	return &fake.relays[i];
}

static void fake_relay_close(void *arg, void *relay)
{
	(void)arg;
	fake.relay_close_count++;
	fake.last_closed = relay;
}

static void fake_to_peer(void *arg, void *relay, const struct transport_address *peer,
			 const uint8_t *bytes, size_t size)
{
	(void)arg;
	record(&fake.to_peer[fake.to_peer_count++ % RECORDS], NULL, relay, peer, bytes, size);
}

static void *fake_peer_connect(void *arg, void *relay, const struct transport_address *peer,
			       struct allocation_connection *connection)
{
	(void)arg;
	(void)relay;
	fake.last_connection = connection;
	fake.last_connect_peer = *peer;
	if (fake.connect_fail)
		return NULL;
	return &fake.peers[fake.peer_connect_count++ % RECORDS];
}

static void fake_connection_join(void *arg, const struct turn_client *client, void *peer)
{
	(void)arg;
	fake.join_count++;
	fake.last_join_client = *client;
	fake.last_join_peer = peer;
}

static void fake_peer_close(void *arg, void *peer)
{
	(void)arg;
	fake.peer_close_count++;
	fake.last_peer_closed = peer;
}

static void fake_refused(void *arg, const struct turn_client *client, const char *reason, int code)
{
	(void)arg;
	(void)client;
	struct refusal *refusal = &fake.refused[fake.refused_count++ % RECORDS];
	refusal->reason = reason;
	refusal->code = code;
}

static void fake_allocation_event(void *arg, const struct allocation *allocation, bool made,
				  const char *why)
{
	(void)arg;
	if (made) {
		fake.made++;
		fake.last_made = (struct allocation *)allocation;
	} else {
		fake.ended++;
		fake.last_end = why;
	}
}

static void fake_relayed(void *arg, enum allocation_direction direction, size_t bytes)
{
	(void)arg;
	fake.packets[direction]++;
	fake.bytes[direction] += bytes;
}

static const struct turn_io fake_io = {
	.to_client = fake_to_client,
	.relay_open = fake_relay_open,
	.relay_close = fake_relay_close,
	.to_peer = fake_to_peer,
	.peer_connect = fake_peer_connect,
	.connection_join = fake_connection_join,
	.peer_close = fake_peer_close,
	.refused = fake_refused,
	.allocation_event = fake_allocation_event,
	.relayed = fake_relayed,
};

void fake_reset(void)
{
	fake.to_client_count = 0;
	fake.to_peer_count = 0;
	fake.refused_count = 0;
}

/* ---- The server ---- */

void fixture_settings(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(&policy, 0, sizeof(policy));
	memset(&settings, 0, sizeof(settings));
	client_secret = SECRET;
	settings.realm = REALM;
	settings.secret = (const uint8_t *)SECRET;
	settings.secret_length = strlen(SECRET);
	settings.nonce_lifetime_s = 600;
	settings.limits.allocations = 100;
	settings.limits.allocations_per_user = 10;
	settings.limits.max_lifetime_s = 3600;
	settings.limits.permissions_per_allocation = 4;
	settings.limits.channels_per_allocation = 4;
	settings.limits.connections_per_allocation = 4;
	settings.limits.bandwidth_bytes_per_second = 0;
	settings.peer_policy = &policy;
	settings.tcp_relays = true;
	settings.relay_ipv4 = true;
	settings.external_address = address4("203.0.113.5", 0);
	settings.relay_port_first = 50000; /* the fake's relays: 198.51.100.1:50000... */
	settings.relay_port_last = 59999;
}

void fixture_start(void)
{
	ck_assert_int_eq(stun_hmac_init(&test_hmac), 0);
	server = turn_server_new(&settings, &fake_io, 42, nonce_secret);
	ck_assert_ptr_nonnull(server);
}

void fixture_stop(void)
{
	turn_server_free(server);
	server = NULL;
	stun_hmac_clear(&test_hmac);
}

/* ---- Addresses ---- */

struct transport_address address4(const char *text, uint16_t port)
{
	struct transport_address address;
	memset(&address, 0, sizeof(address));
	address.family = AF_INET;
	address.port = port;
	ck_assert_int_eq(inet_pton(AF_INET, text, address.ip), 1);
	return address;
}

struct transport_address address6(const char *text, uint16_t port)
{
	struct transport_address address;
	memset(&address, 0, sizeof(address));
	address.family = AF_INET6;
	address.port = port;
	ck_assert_int_eq(inet_pton(AF_INET6, text, address.ip), 1);
	return address;
}

static struct turn_client client_of(unsigned i, uint8_t transport)
{
	char text[32];
	struct turn_client client;
	memset(&client, 0, sizeof(client));
	snprintf(text, sizeof(text), "192.0.2.%u", 10 + i % 200);
	client.five_tuple.client = address4(text, (uint16_t)(40000 + i));
	client.five_tuple.server = address4("198.51.100.1", 3478);
	client.five_tuple.transport = transport;
	/* a TCP connection's handle: any distinct pointer */
	client.connection =
		transport == TURN_TRANSPORT_TCP ? &fake.peers[RECORDS - 1 - i % 8] : NULL;
	return client;
}

struct turn_client udp_client(unsigned i)
{
	return client_of(i, TURN_TRANSPORT_UDP);
}

struct turn_client tcp_client(unsigned i)
{
	return client_of(i, TURN_TRANSPORT_TCP);
}

const char *username_for(const char *user)
{
	static char names[8][128];
	static unsigned next;
	char *name = names[next++ % 8];
	snprintf(name, 128, "%u:%s", WALL0 + 3600, user);
	return name;
}

/* ---- Requests ---- */

void request_start(struct request *request, uint16_t method, enum stun_class message_class)
{
	static uint32_t counter;
	counter++;
	memset(request->transaction_id, 0x5a, STUN_TRANSACTION_ID_SIZE);
	memcpy(request->transaction_id, &counter, sizeof(counter));
	stun_builder_start(&request->builder, request->buffer, sizeof(request->buffer), method,
			   message_class, request->transaction_id);
}

void request_add_address(struct request *request, uint16_t type,
			 const struct transport_address *address)
{
	struct sockaddr_storage storage;
	transport_address_to_sockaddr(address, &storage);
	stun_builder_add_address(&request->builder, type, &storage);
}

void request_credentials(struct request *request, const char *username, const char *nonce)
{
	stun_builder_add_text(&request->builder, STUN_ATTRIBUTE_USERNAME, username);
	stun_builder_add_text(&request->builder, STUN_ATTRIBUTE_REALM, REALM);
	stun_builder_add_text(&request->builder, STUN_ATTRIBUTE_NONCE, nonce);
}

static size_t key_of(const char *username, const char *password, uint8_t key[TURN_KEY_MAX_SIZE])
{
	char right[TURN_PASSWORD_SIZE];
	ck_assert(turn_password(client_secret, strlen(client_secret), username, strlen(username),
				right));
	if (password == NULL)
		password = right;
	return turn_long_term_key(TURN_PASSWORD_ALGORITHM_MD5, username, strlen(username), REALM,
				  strlen(REALM), password, strlen(password), key);
}

void request_sign(struct request *request, enum stun_integrity_kind kind, const char *username,
		  const char *password, bool fingerprint)
{
	uint8_t key[TURN_KEY_MAX_SIZE];
	size_t key_length = key_of(username, password, key);
	stun_builder_add_integrity(&request->builder, &test_hmac, kind, key, key_length);
	if (fingerprint)
		stun_builder_add_fingerprint(&request->builder);
}

size_t request_length(const struct request *request)
{
	size_t length = stun_builder_finish(&request->builder);
	ck_assert_uint_gt(length, 0);
	return length;
}

void request_send(struct request *request, const struct turn_client *client, uint64_t now_ms)
{
	turn_server_from_client(server, client, request->buffer, request_length(request), now_ms,
				WALL0 + (now_ms - T0_MS) / 1000);
}

void nonce_for(const struct turn_client *client, uint64_t now_ms, char *nonce, size_t size)
{
	struct request request;
	request_start(&request, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	fake_reset();
	request_send(&request, client, now_ms);
	struct stun_message answer = last_answer();
	ck_assert_uint_eq(answer_error_code(&answer, NULL), 401);
	const struct stun_attribute *attribute = stun_message_find(&answer, STUN_ATTRIBUTE_NONCE);
	ck_assert_ptr_nonnull(attribute);
	ck_assert_uint_lt(attribute->length, size);
	memcpy(nonce, attribute->value, attribute->length);
	nonce[attribute->length] = '\0';
	fake_reset();
}

void signed_start(struct request *request, uint16_t method, const struct turn_client *client,
		  const char *user, uint64_t now_ms)
{
	(void)user;
	nonce_for(client, now_ms, pending_nonce, sizeof(pending_nonce));
	request_start(request, method, STUN_CLASS_REQUEST);
}

void signed_send(struct request *request, const struct turn_client *client, const char *user,
		 uint64_t now_ms)
{
	const char *username = username_for(user);
	request_credentials(request, username, pending_nonce);
	request_sign(request, STUN_INTEGRITY_SHA1, username, NULL, false);
	request_send(request, client, now_ms);
}

void allocate(const struct turn_client *client, const char *user, uint8_t transport,
	      uint64_t now_ms)
{
	struct request request;
	uint8_t value[4] = { transport, 0, 0, 0 };
	signed_start(&request, STUN_METHOD_ALLOCATE, client, user, now_ms);
	stun_builder_add(&request.builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, value, 4);
	signed_send(&request, client, user, now_ms);
	struct stun_message answer = last_answer();
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
}

/* ---- Answers ---- */

struct stun_message last_answer(void)
{
	struct stun_message message;
	ck_assert_uint_gt(fake.to_client_count, 0);
	const struct sent *sent = &fake.to_client[(fake.to_client_count - 1) % RECORDS];
	ck_assert_uint_le(sent->size, BYTES_MAX);
	ck_assert_int_eq(stun_message_parse(sent->bytes, sent->size, &message), STUN_PARSE_OK);
	return message;
}

unsigned answer_error_code(const struct stun_message *answer, size_t *phrase_length)
{
	const struct stun_attribute *attribute =
		stun_message_find(answer, STUN_ATTRIBUTE_ERROR_CODE);
	unsigned code;
	const uint8_t *phrase;
	size_t length;
	if (attribute == NULL)
		return 0;
	ck_assert(stun_attribute_error_code(attribute, &code, &phrase, &length));
	if (phrase_length != NULL)
		*phrase_length = length;
	return code;
}

bool answer_signed(const struct stun_message *answer, enum stun_integrity_kind kind,
		   const char *user)
{
	uint8_t key[TURN_KEY_MAX_SIZE];
	size_t key_length = key_of(username_for(user), NULL, key);
	return stun_integrity_check(&test_hmac, answer, kind, key, key_length) ==
	       STUN_INTEGRITY_VALID;
}

const char *last_refusal(void)
{
	if (fake.refused_count == 0)
		return "";
	return fake.refused[(fake.refused_count - 1) % RECORDS].reason;
}

bool refused_with(const char *reason, int code)
{
	for (unsigned i = 0; i < fake.refused_count && i < RECORDS; i++)
		if (strcmp(fake.refused[i].reason, reason) == 0 && fake.refused[i].code == code)
			return true;
	return false;
}
