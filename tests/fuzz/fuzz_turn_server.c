/* SPDX-License-Identifier: ISC */
/* Fuzz target: the TURN message handler (turn_server) driven by a script
 * of steps taken from the input, with a turn_io that checks what it is
 * asked to do.
 *
 * The first byte sets the server up (RFC 6062 allowed, a bandwidth cap).
 * Then each step is an operation byte, a 16-bit length and that many bytes:
 *   0  a datagram from one of four UDP clients, as it is
 *   1  bytes on one of four TCP connections, cut with stun_frame_next
 *   2  a request from a client built by the harness and signed with the
 *      right key (or, by a flag, the wrong password) and a fresh nonce:
 *      method, flags, user, then attributes as type, length, value (type
 *      0xFFFF: an XOR-PEER-ADDRESS from 4 address bytes and a port)
 *   3  a datagram from a peer (address, port, data) to a live allocation
 *   4  time passes (ms from the bytes), then turn_server_expire
 *   5  an RFC 6062 peer connection: the pending Connect's outcome, or a
 *      peer arriving at a TCP relay
 *
 * The relays are 198.51.100.1 at ports of the server's relay range, so a
 * peer there is another allocation's relay, which the server delivers to
 * itself when it is live (relay to relay in the edge).
 *
 * Properties: nothing is answered to a packet the codec refuses; no UDP
 * answer without integrity is more than TURN_SERVER_AMPLIFICATION times
 * its datagram; what a client's packet makes the server send to another
 * client goes to a live allocation's; everything sent to a client reads
 * (STUN or ChannelData);
 * every datagram to a peer goes to an IP a CreatePermission or ChannelBind
 * of that relay was granted within 300 s; after an expiry no live
 * allocation is past its lifetime; the allocation count is what was made
 * less what ended, relays open are those allocations, and once freed every
 * relay is closed. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "channel_data.h"
#include "fuzz.h"
#include "stun_attribute.h"
#include "stun_builder.h"
#include "stun_framing.h"
#include "stun_message.h"
#include "turn_credentials.h"
#include "turn_nonce.h"
#include "turn_server.h"

#define CLIENTS	      4
#define LIVE_MAX      16
#define GRANTS_MAX    64
#define PENDING_MAX   16
#define REALM	      "fuzz.example"
#define SECRET	      "the fuzzing shared secret"
#define WALL0	      1700000000u
#define PERMISSION_MS 300000u

static const uint8_t nonce_secret[32] = { 7 };
static const char *const users[] = { "alice", "bob", "carol", "dave" };

/* A permission the harness saw granted: RELAY may send to IP until EXPIRES. */
struct grant {
	void *relay;
	struct transport_address ip;
	uint64_t expires_ms;
};

static struct state {
	struct turn_server *server;
	uint64_t now_ms;
	/* the step under way: a raw datagram from a UDP client bounds answers */
	bool checking_datagram;
	const struct turn_client *sender; /* the client whose packet is being handled */
	bool malformed;
	size_t datagram_size;
	/* allocations, relays and peer connections */
	struct allocation *live[LIVE_MAX];
	unsigned live_count;
	unsigned made, ended, relays_open, relays_closed;
	uint8_t relay_handles[LIVE_MAX * 4];
	unsigned next_relay;
	struct grant grants[GRANTS_MAX];
	unsigned grant_count;
	struct allocation_connection *pending[PENDING_MAX];
	void *pending_handle[PENDING_MAX];
	unsigned pending_count;
	uint8_t peer_handles[PENDING_MAX * 4];
	unsigned next_peer;
	/* the last answer to a client */
	uint8_t answer[STUN_MESSAGE_MAX];
	size_t answer_size;
} state;

static struct stun_hmac hmac;
static struct turn_nonce_key nonce_key;

/* ---- The checking turn_io ---- */

static bool same_client(const struct turn_client *a, const struct turn_client *b)
{
	return transport_address_equal(&a->five_tuple.client, &b->five_tuple.client) &&
	       a->five_tuple.transport == b->five_tuple.transport;
}

/* Has CLIENT a live allocation now? */
static bool live_allocation_of(const struct turn_client *client)
{
	for (unsigned i = 0; i < state.live_count; i++)
		if (transport_address_equal(&state.live[i]->five_tuple.client,
					    &client->five_tuple.client) &&
		    state.live[i]->five_tuple.transport == client->five_tuple.transport &&
		    state.now_ms < state.live[i]->expires_ms)
			return true;
	return false;
}

static void check_to_client(void *arg, const struct turn_client *client, const uint8_t *bytes,
			    size_t size)
{
	(void)arg;
	FUZZ_REQUIRE(!state.malformed);
	FUZZ_REQUIRE(size > 0 && size <= STUN_MESSAGE_MAX);
	bool answer = state.sender == NULL || same_client(client, state.sender);
	if (!answer)
		FUZZ_REQUIRE(live_allocation_of(client));
	if ((bytes[0] & 0xC0) == 0x40) {
		struct channel_data message;
		FUZZ_REQUIRE(channel_data_parse(bytes, size,
						client->five_tuple.transport == TURN_TRANSPORT_TCP,
						&message) == CHANNEL_DATA_OK);
	} else {
		struct stun_message message;
		FUZZ_REQUIRE(stun_message_parse(bytes, size, &message) == STUN_PARSE_OK);
		if (answer && state.checking_datagram && message.integrity < 0 &&
		    message.integrity_sha256 < 0)
			FUZZ_REQUIRE(size <= TURN_SERVER_AMPLIFICATION * state.datagram_size);
	}
	memcpy(state.answer, bytes, size);
	state.answer_size = size;
}

static void *check_relay_open(void *arg, uint8_t relay_transport, struct transport_address *relay)
{
	(void)arg;
	(void)relay_transport;
	if (state.relays_open - state.relays_closed >= LIVE_MAX)
		return NULL;
	/* the server asks for a family it was told it has */
	FUZZ_REQUIRE(relay->family == AF_INET || relay->family == AF_INET6);
	unsigned i = state.next_relay++ % (LIVE_MAX * 4);
	sa_family_t family = relay->family;
	memset(relay, 0, sizeof(*relay));
	relay->family = family;
	relay->ip[0] = family == AF_INET ? 198 : 0x20;
	relay->ip[1] = family == AF_INET ? 51 : 0x01;
	relay->ip[2] = family == AF_INET ? 100 : 0x0d;
	relay->ip[3] = family == AF_INET ? 1 : 0xb8;
	relay->port = (uint16_t)(50000 + i);
	state.relays_open++;
	return &state.relay_handles[i];
}

static void check_relay_close(void *arg, void *relay)
{
	(void)arg;
	FUZZ_REQUIRE(relay != NULL);
	state.relays_closed++;
	FUZZ_REQUIRE(state.relays_closed <= state.relays_open);
}

static void check_to_peer(void *arg, void *relay, const struct transport_address *peer,
			  const uint8_t *bytes, size_t size)
{
	(void)arg;
	(void)bytes;
	(void)size;
	bool granted = false;
	for (unsigned i = 0; i < state.grant_count && !granted; i++)
		granted = state.grants[i].relay == relay &&
			  transport_address_same_ip(&state.grants[i].ip, peer) &&
			  state.now_ms < state.grants[i].expires_ms;
	FUZZ_REQUIRE(granted);
}

static void *check_peer_connect(void *arg, void *relay, const struct transport_address *peer,
				struct allocation_connection *connection)
{
	(void)arg;
	(void)relay;
	(void)peer;
	if (state.pending_count >= PENDING_MAX)
		return NULL;
	void *handle = &state.peer_handles[state.next_peer++ % (PENDING_MAX * 4)];
	state.pending[state.pending_count] = connection;
	state.pending_handle[state.pending_count++] = handle;
	return handle;
}

static void forget_pending(unsigned i)
{
	state.pending[i] = state.pending[--state.pending_count];
	state.pending_handle[i] = state.pending_handle[state.pending_count];
}

static void check_connection_join(void *arg, const struct turn_client *client, void *peer)
{
	(void)arg;
	FUZZ_REQUIRE(client->five_tuple.transport == TURN_TRANSPORT_TCP);
	FUZZ_REQUIRE(peer != NULL);
}

static void check_peer_close(void *arg, void *peer)
{
	(void)arg;
	for (unsigned i = 0; i < state.pending_count; i++)
		if (state.pending_handle[i] == peer) {
			forget_pending(i);
			return;
		}
}

static void check_refused(void *arg, const struct turn_client *client, const char *reason, int code)
{
	(void)arg;
	(void)client;
	FUZZ_REQUIRE(reason != NULL && reason[0] != '\0');
	FUZZ_REQUIRE(code == 0 || (code >= 300 && code <= 699));
}

static void check_allocation_event(void *arg, const struct allocation *allocation, bool made,
				   const char *why)
{
	(void)arg;
	FUZZ_REQUIRE(why != NULL);
	if (made) {
		FUZZ_REQUIRE(state.live_count < LIVE_MAX);
		state.live[state.live_count++] = (struct allocation *)allocation;
		state.made++;
		return;
	}
	state.ended++;
	for (unsigned i = 0; i < state.live_count; i++)
		if (state.live[i] == allocation) {
			state.live[i] = state.live[--state.live_count];
			break;
		}
	/* its peer connections end with it */
	for (unsigned i = 0; i < state.pending_count;)
		if (state.pending[i]->allocation == allocation)
			forget_pending(i);
		else
			i++;
}

static void check_relayed(void *arg, enum allocation_direction direction, size_t bytes)
{
	(void)arg;
	(void)bytes;
	FUZZ_REQUIRE(direction == ALLOCATION_TO_PEER || direction == ALLOCATION_TO_CLIENT);
}

static const struct turn_io io = {
	.to_client = check_to_client,
	.relay_open = check_relay_open,
	.relay_close = check_relay_close,
	.to_peer = check_to_peer,
	.peer_connect = check_peer_connect,
	.connection_join = check_connection_join,
	.peer_close = check_peer_close,
	.refused = check_refused,
	.allocation_event = check_allocation_event,
	.relayed = check_relayed,
};

/* ---- Clients ---- */

static struct turn_client client_of(uint8_t selector, bool tcp)
{
	static uint8_t connections[CLIENTS];
	struct turn_client client;
	unsigned i = selector % CLIENTS;
	memset(&client, 0, sizeof(client));
	client.five_tuple.client.family = AF_INET;
	client.five_tuple.client.ip[0] = 192;
	client.five_tuple.client.ip[1] = 0;
	client.five_tuple.client.ip[2] = 2;
	client.five_tuple.client.ip[3] = (uint8_t)(10 + i);
	client.five_tuple.client.port = (uint16_t)(40000 + i);
	client.five_tuple.server = client.five_tuple.client;
	client.five_tuple.server.ip[3] = 1;
	client.five_tuple.server.port = 3478;
	client.five_tuple.transport = tcp ? TURN_TRANSPORT_TCP : TURN_TRANSPORT_UDP;
	client.connection = tcp ? &connections[i] : NULL;
	return client;
}

/* Sends BYTES from CLIENT with the checks a raw packet gets. */
static void from_client(const struct turn_client *client, const uint8_t *bytes, size_t size)
{
	struct stun_message message;
	struct channel_data channel;
	bool tcp = client->five_tuple.transport == TURN_TRANSPORT_TCP;
	if (size > 0 && (bytes[0] & 0xC0) == 0x40)
		state.malformed = channel_data_parse(bytes, size, tcp, &channel) != CHANNEL_DATA_OK;
	else
		state.malformed = stun_message_parse(bytes, size, &message) != STUN_PARSE_OK;
	state.checking_datagram = !tcp;
	state.sender = client;
	state.datagram_size = size;
	char *copy = fuzz_copy(bytes, size);
	turn_server_from_client(state.server, client, (const uint8_t *)copy, size, state.now_ms,
				WALL0 + state.now_ms / 1000);
	free(copy);
	state.malformed = false;
	state.checking_datagram = false;
	state.sender = NULL;
}

static void stream(const struct turn_client *client, const uint8_t *bytes, size_t size)
{
	struct stun_frame frame;
	while (size > 0) {
		enum stun_frame_result result = stun_frame_next(bytes, size, 4096, &frame);
		if (result == STUN_FRAME_NEED_MORE || result == STUN_FRAME_MALFORMED)
			return;
		from_client(client, bytes, frame.total);
		bytes += frame.total;
		size -= frame.total;
	}
}

/* ---- Signed requests ---- */

static struct allocation *allocation_of(const struct turn_client *client)
{
	for (unsigned i = 0; i < state.live_count; i++)
		if (memcmp(&state.live[i]->five_tuple.client, &client->five_tuple.client,
			   sizeof(client->five_tuple.client)) == 0 &&
		    state.live[i]->five_tuple.transport == client->five_tuple.transport)
			return state.live[i];
	return NULL;
}

/* The peers of a granted CreatePermission or ChannelBind become grants. */
static void note_grants(const struct turn_client *client, const uint8_t *request, size_t size)
{
	struct stun_message sent, answer;
	struct allocation *allocation = allocation_of(client);
	if (allocation == NULL || stun_message_parse(request, size, &sent) != STUN_PARSE_OK ||
	    stun_message_parse(state.answer, state.answer_size, &answer) != STUN_PARSE_OK ||
	    answer.message_class != STUN_CLASS_SUCCESS ||
	    memcmp(answer.transaction_id, sent.transaction_id, STUN_TRANSACTION_ID_SIZE) != 0)
		return;
	const struct stun_attribute *attribute =
		stun_message_find(&sent, STUN_ATTRIBUTE_XOR_PEER_ADDRESS);
	for (; attribute != NULL; attribute = stun_message_find_next(
					  &sent, attribute, STUN_ATTRIBUTE_XOR_PEER_ADDRESS)) {
		struct sockaddr_storage storage;
		struct grant grant = { .relay = allocation->owner,
				       .expires_ms = state.now_ms + PERMISSION_MS };
		if (state.grant_count == GRANTS_MAX ||
		    !stun_attribute_address(&sent, attribute, &storage) ||
		    !transport_address_from_sockaddr((struct sockaddr *)&storage, &grant.ip))
			continue;
		state.grants[state.grant_count++] = grant;
	}
}

static void signed_request(const uint8_t *bytes, size_t size)
{
	if (size < 5)
		return;
	struct turn_client client = client_of(bytes[0], bytes[0] & 0x80);
	uint16_t method = (uint16_t)(stun_read16(bytes + 1) & 0x0FFF);
	uint8_t flags = bytes[3];
	const char *user = users[bytes[4] % 4];
	uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE] = { 0 };
	static uint8_t buffer[4096];
	struct stun_builder builder;
	memcpy(transaction_id, &state.now_ms, sizeof(state.now_ms));
	transaction_id[11] = (uint8_t)size;
	transaction_id[10] = flags;
	stun_builder_start(&builder, buffer, sizeof(buffer), method, STUN_CLASS_REQUEST,
			   transaction_id);
	bytes += 5;
	size -= 5;
	while (size >= 3) {
		uint16_t type = stun_read16(bytes);
		size_t length = bytes[2];
		bytes += 3;
		size -= 3;
		if (type == 0xFFFF) {
			length = 6;
			if (size < length)
				break;
			struct sockaddr_storage peer = { 0 };
			struct sockaddr_in *in = (struct sockaddr_in *)&peer;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, bytes, 4);
			memcpy(&in->sin_port, bytes + 4, 2);
			stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, &peer);
		} else {
			if (size < length)
				break;
			stun_builder_add(&builder, type, bytes, length);
		}
		bytes += length;
		size -= length;
	}
	char username[64], nonce[TURN_NONCE_SIZE], password[TURN_PASSWORD_SIZE];
	uint8_t key[TURN_KEY_MAX_SIZE];
	struct sockaddr_storage from;
	snprintf(username, sizeof(username), "%u:%s", WALL0 + 3600, user);
	transport_address_to_sockaddr(&client.five_tuple.client, &from);
	FUZZ_REQUIRE(turn_nonce_make(&nonce_key, state.now_ms / 1000, &from, nonce) > 0);
	FUZZ_REQUIRE(turn_password(SECRET, strlen(SECRET), username, strlen(username), password));
	if (flags & 4)
		password[0] ^= 1;
	size_t key_length =
		turn_long_term_key(TURN_PASSWORD_ALGORITHM_MD5, username, strlen(username), REALM,
				   strlen(REALM), password, strlen(password), key);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_USERNAME, username);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_REALM, REALM);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_NONCE, nonce);
	stun_builder_add_integrity(&builder, &hmac,
				   (flags & 1) ? STUN_INTEGRITY_SHA256 : STUN_INTEGRITY_SHA1, key,
				   key_length);
	if (flags & 2)
		stun_builder_add_fingerprint(&builder);
	size_t length = stun_builder_finish(&builder);
	if (length == 0)
		return;
	state.answer_size = 0;
	turn_server_from_client(state.server, &client, buffer, length, state.now_ms,
				WALL0 + state.now_ms / 1000);
	note_grants(&client, buffer, length);
}

/* ---- Peers and time ---- */

static void from_peer(const uint8_t *bytes, size_t size)
{
	if (size < 7 || state.live_count == 0)
		return;
	struct allocation *allocation = state.live[bytes[0] % state.live_count];
	if (allocation->relay_transport != TURN_TRANSPORT_UDP)
		return;
	struct transport_address peer = { .family = AF_INET, .port = stun_read16(bytes + 5) };
	memcpy(peer.ip, bytes + 1, 4);
	char *copy = fuzz_copy(bytes + 7, size - 7);
	turn_server_from_peer(state.server, allocation, &peer, (const uint8_t *)copy, size - 7,
			      state.now_ms);
	free(copy);
}

static void check_lifetimes(void)
{
	for (unsigned i = 0; i < state.live_count; i++)
		FUZZ_REQUIRE(state.now_ms < state.live[i]->expires_ms);
	FUZZ_REQUIRE(turn_server_allocations(state.server) == state.made - state.ended);
	FUZZ_REQUIRE(state.made - state.ended == state.live_count);
	FUZZ_REQUIRE(state.relays_open - state.relays_closed == state.live_count);
}

static void time_passes(const uint8_t *bytes, size_t size)
{
	uint64_t step = size >= 2 ? (uint64_t)stun_read16(bytes) * (size >= 3 ? bytes[2] : 1) : 1;
	state.now_ms += step;
	uint64_t due = turn_server_next_expiry(state.server);
	turn_server_expire(state.server, state.now_ms);
	FUZZ_REQUIRE(turn_server_next_expiry(state.server) > state.now_ms);
	if (due <= state.now_ms)
		FUZZ_REQUIRE(turn_server_next_expiry(state.server) >= due);
	check_lifetimes();
}

static void peer_connection(const uint8_t *bytes, size_t size)
{
	if (size < 1)
		return;
	if ((bytes[0] & 1) && state.pending_count > 0) {
		unsigned i = bytes[0] % state.pending_count;
		struct allocation_connection *connection = state.pending[i];
		bool ok = bytes[0] & 2;
		forget_pending(i);
		if (connection->state == ALLOCATION_CONNECTION_CONNECTING)
			turn_server_peer_connected(state.server, connection, ok, state.now_ms);
		return;
	}
	if (size < 7 || state.live_count == 0)
		return;
	struct allocation *allocation = state.live[bytes[1] % state.live_count];
	struct transport_address peer = { .family = AF_INET, .port = stun_read16(bytes + 5) };
	memcpy(peer.ip, bytes + 1, 4);
	void *handle = &state.peer_handles[state.next_peer++ % (PENDING_MAX * 4)];
	struct allocation_connection *connection =
		turn_server_peer_accept(state.server, allocation, &peer, handle, state.now_ms);
	if (connection != NULL && (bytes[0] & 4))
		turn_server_peer_gone(state.server, connection);
}

/* ---- The run ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		FUZZ_REQUIRE(stun_hmac_init(&hmac) == 0);
		FUZZ_REQUIRE(turn_nonce_key_init(&nonce_key, nonce_secret, 600, 0) == 0);
		ready = true;
	}
	if (size < 1)
		return 0;
	memset(&state, 0, sizeof(state));
	state.now_ms = 1000000;
	struct turn_server_settings settings = {
		.realm = REALM,
		.secret = (const uint8_t *)SECRET,
		.secret_length = strlen(SECRET),
		.nonce_lifetime_s = 600,
		.limits = {
			.allocations = 8,
			.allocations_per_user = 3,
			.max_lifetime_s = 3600,
			.permissions_per_allocation = 4,
			.channels_per_allocation = 4,
			.connections_per_allocation = 2,
			.bandwidth_bytes_per_second = (data[0] & 2) ? 1000 : 0,
		},
		.tcp_relays = data[0] & 1,
		.relay_ipv4 = true,
		.relay_ipv6 = data[0] & 4,
		.relay_port_first = 50000, /* check_relay_open's ports */
		.relay_port_last = 50000 + LIVE_MAX * 4 - 1,
	};
	static const struct peer_policy policy;
	settings.peer_policy = &policy;
	state.server = turn_server_new(&settings, &io, 99, nonce_secret);
	FUZZ_REQUIRE(state.server != NULL);
	data++;
	size--;
	while (size >= 3) {
		uint8_t operation = data[0];
		size_t length = stun_read16(data + 1);
		data += 3;
		size -= 3;
		if (length > size)
			length = size;
		switch (operation % 6) {
		case 0: {
			struct turn_client client = client_of(operation >> 4, false);
			from_client(&client, data, length);
			break;
		}
		case 1: {
			struct turn_client client = client_of(operation >> 4, true);
			stream(&client, data, length);
			break;
		}
		case 2:
			signed_request(data, length);
			break;
		case 3:
			from_peer(data, length);
			break;
		case 4:
			time_passes(data, length);
			break;
		default:
			peer_connection(data, length);
			break;
		}
		data += length;
		size -= length;
		FUZZ_REQUIRE(turn_server_allocations(state.server) == state.live_count);
	}
	turn_server_free(state.server);
	FUZZ_REQUIRE(state.relays_open == state.relays_closed);
	FUZZ_REQUIRE(state.made == state.ended);
	return 0;
}
