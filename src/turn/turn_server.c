/* SPDX-License-Identifier: ISC */
/* turn_server: the TURN message handler's core: the server's state, what
 * comes from a client sorted by kind, long-term authentication (RFC 8489
 * §9.2.4), the answers with their amplification bound, Binding, and the
 * ends the allocation table reports.  The methods are in
 * turn_server_allocate.c, turn_server_relay.c and turn_server_tcp.c. */
#include "turn_server.h"

#include <stdlib.h>
#include <string.h>

#include "channel_data.h"
#include "stun_attribute.h"
#include "turn_server_private.h"

/* ---- Refusal names ---- */

#define MALFORMED_STUN(id, name) [STUN_PARSE_##id] = "malformed_" name,
static const char *const malformed_stun[] = { STUN_PARSE_RESULTS(MALFORMED_STUN) };
#undef MALFORMED_STUN

#define MALFORMED_CHANNEL_DATA(id, name) [CHANNEL_DATA_##id] = "malformed_" name,
static const char *const malformed_channel_data[] = { CHANNEL_DATA_RESULTS(
	MALFORMED_CHANNEL_DATA) };
#undef MALFORMED_CHANNEL_DATA

static const char *const username_refusals[] = {
	[TURN_USERNAME_OK] = "username_ok",
	[TURN_USERNAME_EXPIRED] = "expired_username",
	[TURN_USERNAME_EMPTY] = "username_empty",
	[TURN_USERNAME_TOO_LONG] = "username_too_long",
	[TURN_USERNAME_NO_COLON] = "username_no_colon",
	[TURN_USERNAME_BAD_EXPIRY] = "username_bad_expiry",
	[TURN_USERNAME_EXPIRY_OVERFLOW] = "username_expiry_overflow",
	[TURN_USERNAME_EMPTY_USER] = "username_empty_user",
	[TURN_USERNAME_CONTROL_CHARACTER] = "username_control_character",
};

static const char *const peer_refusals[] = {
	[PEER_ALLOWED] = "peer_allowed",
	[PEER_REFUSED_FAMILY] = "peer_family",
	[PEER_REFUSED_UNSPECIFIED] = "peer_unspecified",
	[PEER_REFUSED_THIS_NETWORK] = "peer_this_network",
	[PEER_REFUSED_LOOPBACK] = "peer_loopback",
	[PEER_REFUSED_PRIVATE] = "peer_private",
	[PEER_REFUSED_SHARED] = "peer_shared",
	[PEER_REFUSED_LINK_LOCAL] = "peer_link_local",
	[PEER_REFUSED_SITE_LOCAL] = "peer_site_local",
	[PEER_REFUSED_UNIQUE_LOCAL] = "peer_unique_local",
	[PEER_REFUSED_MULTICAST] = "peer_multicast",
	[PEER_REFUSED_BROADCAST] = "peer_broadcast",
	[PEER_REFUSED_DOCUMENTATION] = "peer_documentation",
	[PEER_REFUSED_BENCHMARKING] = "peer_benchmarking",
	[PEER_REFUSED_RESERVED] = "peer_reserved",
	[PEER_REFUSED_EDGE] = "peer_edge",
};

/* The comprehension-required attributes the handler acts on (or, for
 * USERNAME, REALM and NONCE in a Binding, may ignore): anything else
 * below 0x8000 in a request is a 420. */
static const uint16_t understood[] = {
	STUN_ATTRIBUTE_USERNAME,
	STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
	STUN_ATTRIBUTE_MESSAGE_INTEGRITY_SHA256,
	STUN_ATTRIBUTE_REALM,
	STUN_ATTRIBUTE_NONCE,
	STUN_ATTRIBUTE_LIFETIME,
	STUN_ATTRIBUTE_REQUESTED_TRANSPORT,
	STUN_ATTRIBUTE_REQUESTED_ADDRESS_FAMILY,
	STUN_ATTRIBUTE_EVEN_PORT,
	STUN_ATTRIBUTE_XOR_PEER_ADDRESS,
	STUN_ATTRIBUTE_DATA,
	STUN_ATTRIBUTE_CHANNEL_NUMBER,
	STUN_ATTRIBUTE_CONNECTION_ID,
};
#define UNDERSTOOD_COUNT (sizeof(understood) / sizeof(understood[0]))

/* An empty policy (no allow list, no own addresses) when none is given. */
static const struct peer_policy no_policy;

static struct turn_server_relaying relaying_of(const struct turn_server_settings *settings)
{
	return (struct turn_server_relaying){
		.peer_policy = settings->peer_policy != NULL ? settings->peer_policy : &no_policy,
		.tcp_relays = settings->tcp_relays,
		.relay_ipv4 = settings->relay_ipv4,
		.relay_ipv6 = settings->relay_ipv6,
		.external_address = settings->external_address,
		.external_address6 = settings->external_address6,
		.relay_port_first = settings->relay_port_first,
		.relay_port_last = settings->relay_port_last,
	};
}

/* ---- Small helpers shared by the files ---- */

void turn_server_refuse(struct turn_server *server, const struct turn_client *client,
			const char *reason, int code)
{
	server->io.refused(server->io.arg, client, reason, code);
}

struct sockaddr_storage turn_sockaddr(const struct transport_address *address)
{
	struct sockaddr_storage storage;
	transport_address_to_sockaddr(address, &storage);
	return storage;
}

bool turn_read_address(const struct stun_message *message, const struct stun_attribute *attribute,
		       struct transport_address *out)
{
	struct sockaddr_storage storage;
	return attribute != NULL && stun_attribute_address(message, attribute, &storage) &&
	       transport_address_from_sockaddr((const struct sockaddr *)&storage, out);
}

const struct transport_address *turn_external_address(const struct turn_server *server,
						      sa_family_t family)
{
	if (family != 0 && server->relaying.external_address.family == family)
		return &server->relaying.external_address;
	if (family != 0 && server->relaying.external_address6.family == family)
		return &server->relaying.external_address6;
	return NULL;
}

bool turn_peer_is_edge(const struct turn_server *server, const struct allocation *allocation,
		       const struct transport_address *peer, bool *relay)
{
	const struct transport_address *external = turn_external_address(server, peer->family);
	bool edge = transport_address_same_ip(peer, &allocation->relay) ||
		    (external != NULL && transport_address_same_ip(peer, external));
	*relay = edge && peer->port >= server->relaying.relay_port_first &&
		 peer->port <= server->relaying.relay_port_last &&
		 server->relaying.relay_port_first != 0;
	return edge;
}

bool turn_read_peer(struct turn_server *server, const struct turn_request *request,
		    const struct allocation *allocation, const struct stun_attribute *attribute,
		    struct transport_address *peer)
{
	if (!turn_read_address(request->message, attribute, peer)) {
		turn_answer_error(server, request, 400, NULL, "bad_request");
		return false;
	}
	if (peer->family != allocation->relay.family) {
		turn_answer_error(server, request, 443, NULL, "peer_address_family");
		return false;
	}
	bool relay;
	if (turn_peer_is_edge(server, allocation, peer, &relay) && relay)
		return true;
	struct sockaddr_storage storage = turn_sockaddr(peer);
	enum peer_verdict verdict = peer_policy_check(server->relaying.peer_policy, &storage);
	if (verdict != PEER_ALLOWED) {
		turn_answer_error(server, request, 403, peer_verdict_name(verdict),
				  peer_refusals[verdict]);
		return false;
	}
	return true;
}

struct turn_client turn_allocation_client(const struct allocation *allocation)
{
	struct turn_client client = { .five_tuple = allocation->five_tuple,
				      .connection = allocation->connection };
	return client;
}

void turn_indication_id(struct turn_server *server, uint8_t out[STUN_TRANSACTION_ID_SIZE])
{
	memcpy(out, server->indication_id, STUN_TRANSACTION_ID_SIZE);
	uint64_t count = ++server->indications;
	for (int i = 0; i < 8; i++)
		out[STUN_TRANSACTION_ID_SIZE - 1 - i] ^= (uint8_t)(count >> (8 * i));
}

/* ---- Answers ---- */

void turn_answer_start(struct turn_server *server, const struct turn_request *request,
		       enum stun_class message_class, struct stun_builder *builder)
{
	stun_builder_start_response(builder, server->buffer, request->reply.limit, request->message,
				    message_class);
}

bool turn_answer_send(struct turn_server *server, const struct turn_reply *reply,
		      struct stun_builder *builder)
{
	if (reply->integrity != STUN_INTEGRITY_NONE)
		stun_builder_add_integrity(builder, &server->hmac, reply->integrity, reply->key,
					   reply->key_length);
	if (reply->fingerprint)
		stun_builder_add_fingerprint(builder);
	size_t length = stun_builder_finish(builder);
	if (length == 0) {
		bool amplification = reply->bounded && builder->result == STUN_BUILD_NO_ROOM;
		turn_server_refuse(server, &reply->client,
				   amplification ? "amplification" : "answer_failed", 0);
		return false;
	}
	server->io.to_client(server->io.arg, &reply->client, server->buffer, length);
	return true;
}

void turn_add_error_code(struct stun_builder *builder, const struct turn_reply *reply,
			 unsigned code, const char *phrase)
{
	stun_builder_add_error_code(builder, code, reply->bounded ? "" : phrase);
}

void turn_answer_error(struct turn_server *server, const struct turn_request *request,
		       unsigned code, const char *phrase, const char *reason)
{
	struct stun_builder builder;
	turn_answer_start(server, request, STUN_CLASS_ERROR, &builder);
	turn_add_error_code(&builder, &request->reply, code, phrase);
	if (turn_answer_send(server, &request->reply, &builder))
		turn_server_refuse(server, &request->reply.client, reason, (int)code);
}

void turn_answer_table_error(struct turn_server *server, const struct turn_request *request,
			     enum allocation_result result)
{
	turn_answer_error(server, request, (unsigned)allocation_result_error_code(result), NULL,
			  allocation_result_name(result));
}

/* 401 or 438 with REALM and a fresh NONCE (RFC 8489 §9.2.4). */
static void challenge(struct turn_server *server, const struct turn_request *request, unsigned code,
		      const char *reason)
{
	struct sockaddr_storage from = turn_sockaddr(&request->reply.client.five_tuple.client);
	char nonce[TURN_NONCE_SIZE];
	struct stun_builder builder;

	turn_answer_start(server, request, STUN_CLASS_ERROR, &builder);
	turn_add_error_code(&builder, &request->reply, code, NULL);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_REALM, server->realm);
	if (turn_nonce_make(&server->nonce_key, request->now_ms / 1000, &from, nonce) == 0) {
		turn_server_refuse(server, &request->reply.client, "nonce_failed", 0);
		return;
	}
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_NONCE, nonce);
	if (turn_answer_send(server, &request->reply, &builder))
		turn_server_refuse(server, &request->reply.client, reason, (int)code);
}

/* ---- Authentication ---- */

/* The allocation whose credentials REQUEST must carry (RFC 8656 §5): its
 * 5-tuple's, or for a ConnectionBind that of the connection it names; NULL
 * when none. */
static const struct allocation *credentials_holder(const struct turn_server *server,
						   const struct turn_request *request)
{
	const struct stun_message *message = request->message;
	if (message->method != STUN_METHOD_CONNECTION_BIND)
		return allocation_find_by_client(server->table, &request->reply.client.five_tuple,
						 request->now_ms);
	const struct stun_attribute *attribute =
		stun_message_find(message, STUN_ATTRIBUTE_CONNECTION_ID);
	uint32_t id;
	if (attribute == NULL || !stun_attribute_u32(attribute, &id))
		return NULL;
	const struct allocation_connection *connection =
		allocation_connection_find(server->table, id, request->now_ms);
	return connection != NULL ? connection->allocation : NULL;
}

/* A MAC that does not check with the key of the current secret and realm
 * may be made with the credentials an allocation got before a reload
 * changed them: its requests go on with those until it ends.  On success
 * REQUEST holds that key. */
static enum stun_integrity_result check_with_allocation_key(struct turn_server *server,
							    struct turn_request *request,
							    enum stun_integrity_kind integrity)
{
	const struct allocation *holder = credentials_holder(server, request);
	if (holder == NULL || holder->key_length == 0 ||
	    (holder->key_length == request->key_length &&
	     memcmp(holder->key, request->key, request->key_length) == 0))
		return STUN_INTEGRITY_INVALID;
	enum stun_integrity_result checked = stun_integrity_check(
		&server->hmac, request->message, integrity, holder->key, holder->key_length);
	if (checked == STUN_INTEGRITY_VALID) {
		memcpy(request->key, holder->key, holder->key_length);
		request->key_length = holder->key_length;
	}
	return checked;
}

/* RFC 8489 §9.2.4 in its order: integrity at all (401), the attributes it
 * needs (400), the nonce (438), the username (401), the MAC (401).  On
 * success REQUEST holds the key, the user, and answers are signed. */
static bool authenticate(struct turn_server *server, struct turn_request *request)
{
	const struct stun_message *message = request->message;
	enum stun_integrity_kind integrity = stun_integrity_strongest(message);
	if (integrity == STUN_INTEGRITY_NONE) {
		challenge(server, request, 401, "unauthorized");
		return false;
	}
	const struct stun_attribute *username = stun_message_find(message, STUN_ATTRIBUTE_USERNAME);
	const struct stun_attribute *realm = stun_message_find(message, STUN_ATTRIBUTE_REALM);
	const struct stun_attribute *nonce = stun_message_find(message, STUN_ATTRIBUTE_NONCE);
	if (username == NULL || realm == NULL || nonce == NULL) {
		turn_answer_error(server, request, 400, NULL, "missing_credentials");
		return false;
	}
	struct sockaddr_storage from = turn_sockaddr(&request->reply.client.five_tuple.client);
	enum turn_nonce_status nonce_status =
		turn_nonce_check(&server->nonce_key, request->now_ms / 1000, &from,
				 (const char *)nonce->value, nonce->length);
	if (nonce_status != TURN_NONCE_VALID) {
		challenge(server, request, 438,
			  nonce_status == TURN_NONCE_STALE ? "stale_nonce" : "invalid_nonce");
		return false;
	}
	struct turn_username parsed;
	enum turn_username_status username_status = turn_username_parse(
		(const char *)username->value, username->length, request->wall_s, &parsed);
	if (username_status != TURN_USERNAME_OK) {
		challenge(server, request, 401, username_refusals[username_status]);
		return false;
	}
	request->key_length = turn_ephemeral_key(
		server->secret, server->secret_length, TURN_PASSWORD_ALGORITHM_MD5,
		(const char *)username->value, username->length, server->realm,
		strlen(server->realm), request->key);
	enum stun_integrity_result checked =
		request->key_length == 0 ? STUN_INTEGRITY_FAILED
					 : stun_integrity_check(&server->hmac, message, integrity,
								request->key, request->key_length);
	if (checked == STUN_INTEGRITY_INVALID)
		checked = check_with_allocation_key(server, request, integrity);
	if (checked == STUN_INTEGRITY_FAILED) {
		turn_answer_error(server, request, 500, NULL, "integrity_failed");
		return false;
	}
	if (checked != STUN_INTEGRITY_VALID) {
		challenge(server, request, 401, "wrong_credentials");
		return false;
	}
	request->user = parsed.user;
	request->user_length = parsed.user_length;
	request->reply.integrity = integrity;
	request->reply.key = request->key;
	request->reply.key_length = request->key_length;
	request->reply.limit = TURN_SERVER_BUFFER_SIZE;
	request->reply.bounded = false;
	return true;
}

/* ---- What comes from a client ---- */

/* 420 listing what REQUEST carries that is not understood; false when none. */
static bool refuse_unknown(struct turn_server *server, const struct turn_request *request)
{
	uint16_t unknown[STUN_ATTRIBUTES_MAX];
	size_t count = stun_message_unknown_required(request->message, understood, UNDERSTOOD_COUNT,
						     unknown, STUN_ATTRIBUTES_MAX);
	if (count == 0)
		return false;
	struct stun_builder builder;
	turn_answer_start(server, request, STUN_CLASS_ERROR, &builder);
	turn_add_error_code(&builder, &request->reply, 420, NULL);
	stun_builder_add_unknown_attributes(&builder, unknown, count);
	if (turn_answer_send(server, &request->reply, &builder))
		turn_server_refuse(server, &request->reply.client, "unknown_attributes", 420);
	return true;
}

/* RFC 8489 §3: the client's reflexive address, unauthenticated. */
static void handle_binding(struct turn_server *server, const struct turn_request *request)
{
	if (refuse_unknown(server, request))
		return;
	struct sockaddr_storage mapped = turn_sockaddr(&request->reply.client.five_tuple.client);
	struct stun_builder builder;
	turn_answer_start(server, request, STUN_CLASS_SUCCESS, &builder);
	stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &mapped);
	turn_answer_send(server, &request->reply, &builder);
}

static bool needs_allocation(uint16_t method)
{
	return method == STUN_METHOD_REFRESH || method == STUN_METHOD_CREATE_PERMISSION ||
	       method == STUN_METHOD_CHANNEL_BIND || method == STUN_METHOD_CONNECT;
}

/* A TURN request: authenticated, then understood, then its allocation. */
static void handle_turn_request(struct turn_server *server, struct turn_request *request)
{
	if (!authenticate(server, request) || refuse_unknown(server, request))
		return;
	uint16_t method = request->message->method;
	request->allocation = allocation_find_by_client(
		server->table, &request->reply.client.five_tuple, request->now_ms);
	if (needs_allocation(method)) {
		if (request->allocation == NULL) {
			turn_answer_error(server, request, 437, NULL, "no_allocation");
			return;
		}
		/* RFC 8656 §5: later requests use the allocation's credentials */
		if (request->allocation->key_length != request->key_length ||
		    memcmp(request->allocation->key, request->key, request->key_length) != 0) {
			turn_answer_error(server, request, 441, NULL,
					  "wrong_allocation_credentials");
			return;
		}
	}
	switch (method) {
	case STUN_METHOD_ALLOCATE:
		turn_handle_allocate(server, request);
		break;
	case STUN_METHOD_REFRESH:
		turn_handle_refresh(server, request);
		break;
	case STUN_METHOD_CREATE_PERMISSION:
		turn_handle_create_permission(server, request);
		break;
	case STUN_METHOD_CHANNEL_BIND:
		turn_handle_channel_bind(server, request);
		break;
	case STUN_METHOD_CONNECT:
		turn_handle_connect(server, request);
		break;
	default:
		turn_handle_connection_bind(server, request);
		break;
	}
}

static void handle_request(struct turn_server *server, const struct turn_client *client,
			   const struct stun_message *message, uint64_t now_ms, uint64_t wall_s)
{
	bool udp = client->five_tuple.transport == TURN_TRANSPORT_UDP;
	struct turn_request request = {
		.message = message,
		.now_ms = now_ms,
		.wall_s = wall_s,
		.reply = {
			.client = *client,
			.fingerprint = message->fingerprint >= 0,
			.bounded = udp,
			.limit = udp && message->length < TURN_SERVER_BUFFER_SIZE /
								  TURN_SERVER_AMPLIFICATION
					 ? message->length * TURN_SERVER_AMPLIFICATION
					 : TURN_SERVER_BUFFER_SIZE,
		},
	};
	switch (message->method) {
	case STUN_METHOD_BINDING:
		handle_binding(server, &request);
		break;
	case STUN_METHOD_ALLOCATE:
	case STUN_METHOD_REFRESH:
	case STUN_METHOD_CREATE_PERMISSION:
	case STUN_METHOD_CHANNEL_BIND:
	case STUN_METHOD_CONNECT:
	case STUN_METHOD_CONNECTION_BIND:
		handle_turn_request(server, &request);
		break;
	default:
		turn_answer_error(server, &request, 400, NULL, "unknown_method");
		break;
	}
}

void turn_server_from_client(struct turn_server *server, const struct turn_client *client,
			     const uint8_t *bytes, size_t size, uint64_t now_ms, uint64_t wall_s)
{
	/* the first two bits: 0b01 is ChannelData, 0b00 STUN, the rest neither */
	if (size > 0 && (bytes[0] & 0xC0) == 0x40) {
		turn_handle_channel_data(server, client, bytes, size, now_ms);
		return;
	}
	struct stun_message message;
	enum stun_parse_result parsed = stun_message_parse(bytes, size, &message);
	if (parsed != STUN_PARSE_OK) {
		turn_server_refuse(server, client, malformed_stun[parsed], 0);
		return;
	}
	if (message.message_class == STUN_CLASS_REQUEST)
		handle_request(server, client, &message, now_ms, wall_s);
	else if (message.message_class == STUN_CLASS_INDICATION &&
		 message.method == STUN_METHOD_SEND)
		turn_handle_send(server, client, &message, now_ms);
	else if (message.message_class != STUN_CLASS_INDICATION ||
		 message.method != STUN_METHOD_BINDING)
		turn_server_refuse(server, client, "unexpected_class", 0);
	/* a Binding indication is a keepalive (RFC 8489 §3): nothing to do */
}

const char *turn_channel_data_refusal(enum channel_data_result result)
{
	return malformed_channel_data[result];
}

/* ---- Ends, reported by the table ---- */

static void allocation_ended(void *context, struct allocation *allocation, enum allocation_end why)
{
	struct turn_server *server = context;
	if (allocation->owner != NULL)
		server->io.relay_close(server->io.arg, allocation->owner);
	server->io.allocation_event(server->io.arg, allocation, false, allocation_end_name(why));
}

static void connection_ended(void *context, struct allocation_connection *connection,
			     enum allocation_end why)
{
	struct turn_server *server = context;
	if (connection->state == ALLOCATION_CONNECTION_CONNECTING && why == ALLOCATION_END_EXPIRED)
		turn_connect_expired(server, connection);
	if (connection->owner != NULL)
		server->io.peer_close(server->io.arg, connection->owner);
}

/* ---- The server ---- */

/* What a reload changes, made ready (turn_server_change_new). */
struct turn_server_change {
	char *realm;
	uint8_t *secret;
	size_t secret_length;
	uint32_t nonce_lifetime_s;
	struct allocation_terms *terms;
	struct turn_server_relaying relaying;
};

static void secret_free(uint8_t *secret, size_t length)
{
	if (secret == NULL)
		return;
	memset(secret, 0, length);
	free(secret);
}

struct turn_server *turn_server_new(const struct turn_server_settings *settings,
				    const struct turn_io *io, uint64_t seed,
				    const uint8_t nonce_secret[32])
{
	struct turn_server *server = calloc(1, sizeof(*server));
	if (server == NULL)
		return NULL;
	server->io = *io;
	server->realm = strdup(settings->realm);
	server->secret = malloc(settings->secret_length > 0 ? settings->secret_length : 1);
	server->secret_length = settings->secret_length;
	server->relaying = relaying_of(settings);
	for (int i = 0; i < STUN_TRANSACTION_ID_SIZE; i++)
		server->indication_id[i] = (uint8_t)(seed >> (8 * (i % 8)) ^ (uint8_t)(i * 0x9d));
	struct allocation_hooks hooks = {
		.allocation_ended = allocation_ended,
		.connection_ended = connection_ended,
		.context = server,
	};
	if (server->realm == NULL || server->secret == NULL || stun_hmac_init(&server->hmac) != 0) {
		turn_server_free(server);
		return NULL;
	}
	if (turn_nonce_key_init(&server->nonce_key, nonce_secret, settings->nonce_lifetime_s, 0) !=
	    0) {
		turn_server_free(server);
		return NULL;
	}
	memcpy(server->secret, settings->secret, settings->secret_length);
	server->table = allocation_table_new(&settings->limits, &hooks, seed);
	if (server->table == NULL) {
		turn_server_free(server);
		return NULL;
	}
	return server;
}

void turn_server_free(struct turn_server *server)
{
	if (server == NULL)
		return;
	if (server->table != NULL)
		allocation_table_free(server->table);
	turn_nonce_key_clear(&server->nonce_key);
	stun_hmac_clear(&server->hmac);
	secret_free(server->secret, server->secret_length);
	free(server->connects);
	free(server->realm);
	free(server);
}

struct turn_server_change *turn_server_change_new(const struct turn_server_settings *settings)
{
	struct turn_server_change *change = calloc(1, sizeof(*change));
	if (change == NULL)
		return NULL;
	change->realm = strdup(settings->realm);
	change->secret = malloc(settings->secret_length > 0 ? settings->secret_length : 1);
	change->secret_length = settings->secret_length;
	change->terms = allocation_terms_new(&settings->limits);
	if (change->realm == NULL || change->secret == NULL || change->terms == NULL) {
		turn_server_change_free(change);
		return NULL;
	}
	memcpy(change->secret, settings->secret, settings->secret_length);
	change->nonce_lifetime_s = settings->nonce_lifetime_s;
	change->relaying = relaying_of(settings);
	return change;
}

void turn_server_change_free(struct turn_server_change *change)
{
	if (change == NULL)
		return;
	free(change->realm);
	secret_free(change->secret, change->secret_length);
	allocation_terms_free(change->terms);
	free(change);
}

void turn_server_change_apply(struct turn_server *server, struct turn_server_change *change)
{
	free(server->realm);
	server->realm = change->realm;
	secret_free(server->secret, server->secret_length);
	server->secret = change->secret;
	server->secret_length = change->secret_length;
	server->nonce_key.lifetime = change->nonce_lifetime_s;
	allocation_table_set_limits(server->table, change->terms);
	server->relaying = change->relaying;
	free(change);
}

void turn_server_end_allocation(struct turn_server *server, struct allocation *allocation,
				enum allocation_end why)
{
	allocation_table_end(server->table, allocation, why);
}

void turn_server_client_gone(struct turn_server *server, const struct turn_client *client,
			     uint64_t now_ms)
{
	struct allocation *allocation =
		allocation_find_by_client(server->table, &client->five_tuple, now_ms);
	if (allocation != NULL)
		allocation_delete(server->table, allocation);
}

uint64_t turn_server_next_expiry(const struct turn_server *server)
{
	return allocation_table_next_expiry(server->table);
}

void turn_server_expire(struct turn_server *server, uint64_t now_ms)
{
	allocation_table_expire(server->table, now_ms);
}

uint32_t turn_server_allocations(const struct turn_server *server)
{
	return allocation_table_count(server->table);
}

const char *turn_server_allocation_user(const struct turn_server *server,
					const struct allocation *allocation, size_t *length)
{
	return allocation_user(server->table, allocation, length);
}
