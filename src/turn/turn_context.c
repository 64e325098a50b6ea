/* SPDX-License-Identifier: ISC */
/* turn_context: see turn_context.h.  The turn_io the server talks through
 * is here: each call goes to the socket it names (a listener's queue, a
 * relay, a TCP connection) and to the metrics and the log. */
#include "turn_context.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "address.h"
#include "connection_metrics.h"
#include "log.h"
#include "turn_context_private.h"
#include "turn_relay.h"
#include "turn_settings.h"
#include "turn_stream.h"

/* ---- the clock ---- */

uint64_t turn_context_now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

uint64_t turn_context_wall_s(void)
{
	return (uint64_t)time(NULL);
}

void turn_context_format(const struct transport_address *address, char *out, size_t size)
{
	struct sockaddr_storage storage;
	if (transport_address_to_sockaddr(address, &storage) == 0)
		snprintf(out, size, "unknown");
	else
		address_format((struct sockaddr *)&storage, true, out, size);
}

/* ---- `sxedge -t` ---- */

static bool turn_listened(const struct sxedge_config *config)
{
	return config_listener(config, ROLE_TURN) != NULL ||
	       config_listener(config, ROLE_TURN_TCP) != NULL;
}

/* Does LISTENER's socket fall inside the relay ports on RELAY_ADDRESS
 * (for the relay socket of TRANSPORT_UDP's kind)? */
static bool listener_in_relay_range(const struct listener_config *listener, bool udp,
				    const struct turn_config *turn, const char *relay_address)
{
	struct sockaddr_storage listen_at, relay;
	bool listener_udp = roles[listener->role].transport == CONFIG_TRANSPORT_UDP;

	if (listener_udp != udp || listener->port < turn->relay_ports.first ||
	    listener->port > turn->relay_ports.last ||
	    address_parse(listener->address, listener->port, &listen_at) == 0 ||
	    relay_address == NULL || address_parse(relay_address, listener->port, &relay) == 0 ||
	    listen_at.ss_family != relay.ss_family)
		return false;
	return address_is_unspecified(&listen_at) ||
	       memcmp(&listen_at, &relay, (size_t)address_length(&relay)) == 0;
}

int turn_context_check(const struct sxedge_config *config, FILE *errors)
{
	const struct turn_config *turn = turn_config(config);
	int status = 0;

	if (turn->line == 0) {
		for (size_t i = 0; i < config->n_listeners; i++) {
			const struct listener_config *listener = &config->listeners[i];
			if (listener->role != ROLE_TURN && listener->role != ROLE_TURN_TCP)
				continue;
			fprintf(errors,
				"%s:%d: listener %s: role %s needs a [turn] section (realm, "
				"shared secret, relay address)\n",
				config->path, listener->line, listener->name,
				roles[listener->role].name);
			status = -1;
		}
		return status;
	}
	if (!turn_listened(config)) {
		fprintf(errors,
			"%s:%d: [turn] without a listener of role turn or turn_tcp: nothing would "
			"serve it\n",
			config->path, turn->line);
		status = -1;
	}
	const char *relay_keys[] = { "relay_address", "relay_address6" };
	const char *relays[] = { turn->relay_address, turn->relay_address6 };
	for (size_t i = 0; i < config->n_listeners; i++) {
		const struct listener_config *listener = &config->listeners[i];
		for (size_t r = 0; r < 2; r++)
			for (int udp = 0; udp < 2; udp++) {
				if (!listener_in_relay_range(listener, udp, turn, relays[r]))
					continue;
				fprintf(errors,
					"%s:%d: listener %s: port %u on %s is inside [turn] "
					"relay_ports %u-%u on %s %s\n",
					config->path, listener->line, listener->name,
					listener->port, listener->address, turn->relay_ports.first,
					turn->relay_ports.last, relay_keys[r], relays[r]);
				status = -1;
			}
	}
	return status;
}

/* ---- logs and counts ---- */

static void context_log_refusal(struct turn_context *context,
				const struct transport_address *client, const char *reason,
				int code)
{
	uint64_t second = turn_context_now_ms() / 1000;
	char address[INET6_ADDRSTRLEN + 8], suppressed[32] = "";

	if (second != context->refusal_window_s) {
		context->refusal_window_s = second;
		context->refusals_logged = 0;
	}
	if (context->refusals_logged >= TURN_REFUSAL_LOGS_PER_S) {
		context->refusals_suppressed++;
		return;
	}
	context->refusals_logged++;
	if (context->refusals_suppressed > 0)
		snprintf(suppressed, sizeof(suppressed), " suppressed=%u",
			 context->refusals_suppressed);
	context->refusals_suppressed = 0;
	turn_context_format(client, address, sizeof(address));
	log_event(LOG_LEVEL_INFO, "turn_refused", "client=%s reason=%s code=%d%s", address, reason,
		  code, suppressed);
}

void turn_context_refused(struct turn_context *context, const struct transport_address *client,
			  const char *reason, int code)
{
	const char *const values[] = { reason, NULL };
	metric_counter_add(metric_counter(context->metrics.refusals, values), 1);
	context_log_refusal(context, client, reason, code);
}

static void context_init_metrics(struct turn_context *context, struct metrics *registry)
{
	static const char *const relay_label[] = { "relay", NULL };
	static const char *const direction_label[] = { "direction", NULL };
	static const char *const reason_label[] = { "reason", NULL };
	static const char *const relays[2][2] = { { "udp", NULL }, { "tcp", NULL } };
	static const char *const directions[2][2] = { [ALLOCATION_TO_PEER] = { "to_peer", NULL },
						      [ALLOCATION_TO_CLIENT] = { "to_client",
										 NULL } };
	struct turn_metrics *metrics = &context->metrics;

	struct metric_family *open =
		metrics_register(registry, METRIC_GAUGE, "sxedge_turn_allocations",
				 "TURN allocations open, by relay transport.", relay_label);
	struct metric_family *made =
		metrics_register(registry, METRIC_COUNTER, "sxedge_turn_allocations_total",
				 "TURN allocations made, by relay transport.", relay_label);
	struct metric_family *packets = metrics_register(
		registry, METRIC_COUNTER, "sxedge_turn_packets_total",
		"Packets relayed, by direction (to_peer, to_client); over RFC 6062 data "
		"connections, the reads moved.",
		direction_label);
	struct metric_family *bytes = metrics_register(
		registry, METRIC_COUNTER, "sxedge_turn_bytes_total",
		"Payload bytes relayed, by direction (to_peer, to_client).", direction_label);
	metrics->refusals = metrics_register(
		registry, METRIC_COUNTER, "sxedge_turn_refusals_total",
		"STUN and TURN packets and requests refused or dropped, by reason.", reason_label);
	metrics->ended =
		metrics_register(registry, METRIC_COUNTER, "sxedge_turn_allocations_ended_total",
				 "TURN allocations ended, by reason.", reason_label);
	for (int i = 0; i < 2; i++) {
		metrics->allocations[i] = metric_gauge(open, relays[i]);
		metrics->allocations_made[i] = metric_counter(made, relays[i]);
		metrics->packets[i] = metric_counter(packets, directions[i]);
		metrics->bytes[i] = metric_counter(bytes, directions[i]);
	}
	struct connection_families connections;
	connection_families_register(registry, &connections);
	metrics->accepted = connections.accepted;
	metrics->refused = connections.refused;
	metrics->closed = connections.closed;
}

/* ---- the server's turn_io ---- */

static struct turn_udp_listener *context_udp_listener(struct turn_context *context,
						      const struct transport_address *server)
{
	for (size_t i = 0; i < context->n_listeners; i++)
		if (transport_address_equal(&context->listeners[i]->address, server))
			return context->listeners[i];
	return NULL;
}

static void io_to_client(void *arg, const struct turn_client *client, const uint8_t *bytes,
			 size_t size)
{
	struct turn_context *context = arg;

	if (client->connection != NULL) {
		turn_stream_send(client->connection, bytes, size);
		return;
	}
	struct turn_udp_listener *listener =
		context_udp_listener(context, &client->five_tuple.server);
	struct sockaddr_storage to;
	socklen_t to_length = transport_address_to_sockaddr(&client->five_tuple.client, &to);
	if (listener == NULL || listener->fd < 0 || to_length == 0 ||
	    size > udp_sender_datagram_max(context->sender))
		return;
	unsigned char *slot = udp_queue_slot(context->sender, &listener->queue);
	if (slot == NULL) {
		turn_context_refused(context, &client->five_tuple.client, "queue_full", 0);
		return;
	}
	memcpy(slot, bytes, size);
	udp_queue_commit(context->sender, &listener->queue, size, (struct sockaddr *)&to,
			 to_length);
	turn_context_schedule_flush(context);
}

/* A UDP client's allocation takes a place of the turn role's budget
 * ([limits] max_connections_turn); beyond it the Allocate gets 508. */
static void *io_relay_open(void *arg, uint8_t relay_transport, struct transport_address *relay)
{
	struct turn_context *context = arg;

	if (context->retired ||
	    (context->udp_client &&
	     context->udp_allocations >= context->config->limits.max_connections_role[ROLE_TURN]))
		return NULL;
	return turn_relay_open(context, relay_transport, relay);
}

static void io_relay_close(void *arg, void *relay)
{
	(void)arg;
	turn_relay_close(relay);
}

static void io_to_peer(void *arg, void *relay, const struct transport_address *peer,
		       const uint8_t *bytes, size_t size)
{
	(void)arg;
	turn_relay_send(relay, peer, bytes, size);
}

static void *io_peer_connect(void *arg, void *relay, const struct transport_address *peer,
			     struct allocation_connection *connection)
{
	return turn_peer_connect(arg, relay, peer, connection);
}

static void io_connection_join(void *arg, const struct turn_client *client, void *peer)
{
	(void)arg;
	turn_stream_join(client->connection, peer);
}

static void io_peer_close(void *arg, void *peer)
{
	(void)arg;
	turn_peer_close(peer);
}

static void io_refused(void *arg, const struct turn_client *client, const char *reason, int code)
{
	turn_context_refused(arg, &client->five_tuple.client, reason, code);
}

static void io_allocation_event(void *arg, const struct allocation *allocation, bool made,
				const char *why)
{
	struct turn_context *context = arg;
	int tcp = allocation->relay_transport == TURN_TRANSPORT_TCP;
	char client[INET6_ADDRSTRLEN + 8], told[INET6_ADDRSTRLEN + 8];

	turn_context_format(&allocation->five_tuple.client, client, sizeof(client));
	turn_context_format(&allocation->relay, told, sizeof(told));
	if (!made) {
		const char *const reason[] = { why, NULL };
		/* relay_close comes with it, before or after: RELAY may be gone. */
		if (allocation->five_tuple.transport == TURN_TRANSPORT_UDP)
			context->udp_allocations--;
		metric_gauge_add(context->metrics.allocations[tcp], -1);
		metric_counter_add(metric_counter(context->metrics.ended, reason), 1);
		log_event(LOG_LEVEL_INFO, "turn_allocation_end", "client=%s relay=%s reason=%s",
			  client, told, why);
		return;
	}
	struct turn_relay *relay = allocation->owner;
	if (relay != NULL)
		relay->allocation = (struct allocation *)allocation;
	if (allocation->five_tuple.transport == TURN_TRANSPORT_UDP)
		context->udp_allocations++;
	metric_gauge_add(context->metrics.allocations[tcp], 1);
	metric_counter_add(context->metrics.allocations_made[tcp], 1);
	size_t user_length = 0;
	const char *user = turn_server_allocation_user(context->server, allocation, &user_length);
	char user_text[ALLOCATION_USER_MAX + 1], quoted[2 * ALLOCATION_USER_MAX + 8];
	snprintf(user_text, sizeof(user_text), "%.*s", (int)user_length, user != NULL ? user : "");
	log_event(LOG_LEVEL_INFO, "turn_allocated",
		  "client=%s user=%s relay=%s transport=%s lifetime=%" PRIu32, client,
		  log_quote(quoted, sizeof(quoted), user_text), told, tcp ? "tcp" : "udp",
		  allocation_remaining_s(allocation, turn_context_now_ms()));
}

static void io_relayed(void *arg, enum allocation_direction direction, size_t bytes)
{
	struct turn_context *context = arg;
	metric_counter_add(context->metrics.packets[direction], 1);
	metric_counter_add(context->metrics.bytes[direction], bytes);
}

/* ---- batches and the timer ---- */

static void context_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct turn_context *context = arg;
	(void)fd;
	(void)what;
	context->flush_scheduled = false;
	udp_sender_flush(context->sender);
}

void turn_context_schedule_flush(struct turn_context *context)
{
	if (context->flush_scheduled)
		return;
	context->flush_scheduled = true;
	event_active(context->flush, EV_TIMEOUT, 0);
}

static void listener_on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct turn_udp_listener *listener = arg;
	(void)fd;
	(void)what;
	if (!udp_queue_flush(listener->context->sender, &listener->queue))
		event_add(listener->writable, NULL);
}

/* A queue the flush left blocked: a listener's or a relay's. */
static void context_on_blocked(struct udp_queue *queue, void *arg)
{
	struct turn_context *context = arg;

	for (size_t i = 0; i < context->n_listeners; i++) {
		if (queue == &context->listeners[i]->queue) {
			event_add(context->listeners[i]->writable, NULL);
			return;
		}
	}
	turn_relay_blocked(
		(struct turn_relay *)((char *)queue - offsetof(struct turn_relay, queue)));
}

static void context_on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct turn_context *context = arg;
	(void)fd;
	(void)what;
	context->expiry_at_ms = UINT64_MAX;
	if (context->server != NULL)
		turn_server_expire(context->server, turn_context_now_ms());
	turn_context_after(context);
}

void turn_context_after(struct turn_context *context)
{
	uint64_t next =
		context->server != NULL ? turn_server_next_expiry(context->server) : UINT64_MAX;

	if (next == context->expiry_at_ms)
		return;
	context->expiry_at_ms = next;
	if (next == UINT64_MAX) {
		evtimer_del(context->expiry);
		return;
	}
	uint64_t now = turn_context_now_ms();
	uint64_t wait = next > now ? next - now : 0;
	struct timeval in = { .tv_sec = (time_t)(wait / 1000),
			      .tv_usec = (suseconds_t)(wait % 1000) * 1000 };
	evtimer_add(context->expiry, &in);
}

/* ---- UDP listeners ---- */

void turn_context_datagram(struct turn_context *context, const struct listener_config *config,
			   int fd, const uint8_t *data, size_t size, const struct sockaddr *peer,
			   socklen_t peer_len)
{
	struct turn_udp_listener *listener = NULL;
	struct turn_client client = { .connection = NULL };
	(void)peer_len;

	for (size_t i = 0; i < context->n_listeners && listener == NULL; i++)
		if (context->listeners[i]->config == config)
			listener = context->listeners[i];
	if (listener == NULL || context->server == NULL ||
	    !transport_address_from_sockaddr(peer, &client.five_tuple.client))
		return;
	if (listener->fd != fd) {
		udp_queue_clear(context->sender, &listener->queue);
		if (listener->writable != NULL)
			event_free(listener->writable);
		listener->fd = fd;
		udp_queue_init(&listener->queue, fd);
		listener->writable =
			event_new(context->base, fd, EV_WRITE, listener_on_writable, listener);
		if (listener->writable == NULL) {
			listener->fd = -1;
			return;
		}
	}
	client.five_tuple.server = listener->address;
	client.five_tuple.transport = TURN_TRANSPORT_UDP;
	context->udp_client = true;
	turn_server_from_client(context->server, &client, data, size, turn_context_now_ms(),
				turn_context_wall_s());
	context->udp_client = false;
	turn_context_after(context);
}

/* ---- UDP listeners ---- */

struct turn_udp_listener *turn_context_listener_new(struct turn_context *context,
						    const struct listener_config *config,
						    const struct transport_address *address)
{
	struct turn_udp_listener *listener = calloc(1, sizeof(*listener));

	if (listener == NULL)
		return NULL;
	listener->context = context;
	listener->config = config;
	listener->fd = -1;
	listener->address = *address;
	udp_queue_init(&listener->queue, -1);
	return listener;
}

/* Its socket is the worker's: only what TURN keeps for it goes. */
static void listener_free(struct turn_context *context, struct turn_udp_listener *listener)
{
	udp_queue_clear(context->sender, &listener->queue);
	if (listener->writable != NULL)
		event_free(listener->writable);
	free(listener);
}

/* A listener the reload removed: the allocations made through it end (their
 * clients can no longer be answered), and what is queued for it leaves
 * before the worker closes its socket. */
void turn_context_listener_remove(struct turn_context *context, struct turn_udp_listener *listener)
{
	struct turn_relay *next;

	for (struct turn_relay *relay = context->relays; relay != NULL; relay = next) {
		/* A UDP client's allocation holds a UDP relay and nothing else
		 * (RFC 6062 needs a TCP client): ending it closes this relay
		 * only, so NEXT stays. */
		next = relay->next;
		struct allocation *allocation = relay->allocation;
		if (context->server != NULL && allocation != NULL &&
		    allocation->five_tuple.transport == TURN_TRANSPORT_UDP &&
		    transport_address_equal(&allocation->five_tuple.server, &listener->address))
			turn_server_end_allocation(context->server, allocation,
						   ALLOCATION_END_LISTENER_REMOVED);
	}
	if (listener->fd >= 0)
		udp_queue_flush(context->sender, &listener->queue);
	listener_free(context, listener);
}

static int context_init_listeners(struct turn_context *context)
{
	const struct sxedge_config *config = context->config;

	context->listeners = calloc(config->n_listeners + 1, sizeof(*context->listeners));
	if (context->listeners == NULL)
		return -1;
	for (size_t i = 0; i < config->n_listeners; i++) {
		struct transport_address address;
		if (!turn_settings_udp_listener_address(&config->listeners[i], &address))
			continue;
		struct turn_udp_listener *listener =
			turn_context_listener_new(context, &config->listeners[i], &address);
		if (listener == NULL)
			return -1;
		context->listeners[context->n_listeners++] = listener;
	}
	return 0;
}

/* ---- set-up ---- */

static void context_on_emptied(evutil_socket_t fd, short what, void *arg)
{
	struct turn_context *context = arg;
	(void)fd;
	(void)what;
	context->on_emptied(context->emptied_arg);
}

static int context_init_server(struct turn_context *context, const uint8_t nonce_secret[32])
{
	uint64_t seed;

	if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
		return -1;
	struct turn_server_settings settings =
		turn_settings_server(context->config, &context->policy);
	const struct turn_io io = {
		.to_client = io_to_client,
		.relay_open = io_relay_open,
		.relay_close = io_relay_close,
		.to_peer = io_to_peer,
		.peer_connect = io_peer_connect,
		.connection_join = io_connection_join,
		.peer_close = io_peer_close,
		.refused = io_refused,
		.allocation_event = io_allocation_event,
		.relayed = io_relayed,
		.arg = context,
	};
	context->server = turn_server_new(&settings, &io, seed, nonce_secret);
	return context->server != NULL ? 0 : -1;
}

int turn_context_init(struct turn_context *context, struct event_base *base,
		      const struct sxedge_config *config, struct metrics *metrics,
		      const uint8_t nonce_secret[32], FILE *errors)
{
	const struct limits_config *limits = &config->limits;

	memset(context, 0, sizeof(*context));
	context->base = base;
	context->config = config;
	context->turn = turn_config(config);
	context->expiry_at_ms = UINT64_MAX;
	if (turn_context_check(config, errors) < 0)
		return -1;
	context_init_metrics(context, metrics);
	turn_settings_connection_limits(config, &context->conn_limits, &context->peer_limits);
	if (turn_settings_relay_addresses(config, &context->relay_ipv4, &context->relay_ipv6,
					  errors) < 0)
		return -1;
	context->receiver = udp_receiver_new(TURN_RECEIVE_SLOTS, TURN_DATAGRAM_MAX);
	context->sender = udp_sender_new(TURN_SEND_SLOTS, TURN_DATAGRAM_MAX, TURN_QUEUE_LIMIT,
					 TURN_SEND_BATCH, context_on_blocked, context);
	context->flush = event_new(base, -1, 0, context_on_flush, context);
	context->expiry = evtimer_new(base, context_on_expiry, context);
	context->emptied = event_new(base, -1, 0, context_on_emptied, context);
	if (context->receiver == NULL || context->sender == NULL || context->flush == NULL ||
	    context->expiry == NULL || context->emptied == NULL ||
	    conn_budget_init(&context->budget, "turn_tcp",
			     limits->max_connections_role[ROLE_TURN_TCP],
			     context->turn->max_connections_per_address) < 0 ||
	    turn_settings_own_addresses(config, context->turn, &context->own, &context->n_own) <
		    0 ||
	    context_init_listeners(context) < 0) {
		fprintf(errors, "%s: out of memory\n", config->path);
		turn_context_free(context);
		return -1;
	}
	context->policy = turn_settings_peer_policy(context->turn, context->own, context->n_own);
	if (context_init_server(context, nonce_secret) < 0) {
		fprintf(errors, "%s: out of memory\n", config->path);
		turn_context_free(context);
		return -1;
	}
	return 0;
}

/* ---- the end ---- */

/* Every allocation ends (relays and peer connections closed, logged). */
static void context_end_server(struct turn_context *context)
{
	struct turn_server *server = context->server;
	if (server == NULL)
		return;
	turn_server_free(server);
	context->server = NULL;
	context->expiry_at_ms = UINT64_MAX;
	if (context->expiry != NULL)
		evtimer_del(context->expiry);
}

void turn_context_drain(struct turn_context *context)
{
	context->draining = true;
	/* The worker closed the UDP sockets: what waits for them goes. */
	for (size_t i = 0; i < context->n_listeners; i++) {
		struct turn_udp_listener *listener = context->listeners[i];
		udp_queue_clear(context->sender, &listener->queue);
		if (listener->writable != NULL)
			event_free(listener->writable);
		listener->writable = NULL;
		listener->fd = -1;
	}
}

void turn_context_stop(struct turn_context *context)
{
	context_end_server(context);
	turn_streams_close(context);
}

void turn_context_free(struct turn_context *context)
{
	turn_context_drain(context);
	context_end_server(context);
	while (context->peers != NULL)
		turn_peer_close(context->peers);
	while (context->streams != NULL) {
		struct turn_stream *stream = context->streams;
		context->streams = stream->next;
		conn_free(stream->conn);
		free(stream);
	}
	while (context->relays != NULL)
		turn_relay_close(context->relays);
	for (size_t i = 0; i < context->n_listeners; i++)
		listener_free(context, context->listeners[i]);
	free(context->listeners);
	context->listeners = NULL;
	context->n_listeners = 0;
	free(context->own);
	context->own = NULL;
	if (context->flush != NULL)
		event_free(context->flush);
	if (context->expiry != NULL)
		event_free(context->expiry);
	if (context->emptied != NULL)
		event_free(context->emptied);
	context->flush = context->expiry = context->emptied = NULL;
	if (context->sender != NULL)
		udp_sender_free(context->sender);
	context->sender = NULL;
	udp_receiver_free(context->receiver);
	context->receiver = NULL;
	conn_budget_clear(&context->budget);
	if (context->retired)
		config_unref(context->config);
	context->retired = false;
}
