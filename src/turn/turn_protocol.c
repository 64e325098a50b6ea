/* SPDX-License-Identifier: ISC */
/* turn_protocol: TURN as the worker sees it.  Without [turn] and without
 * a TURN listener it holds nothing; the nonce secret is drawn once per
 * process, so every worker's nonces are good in every other. */
#include "turn_protocol.h"

#include <stdlib.h>

#include <openssl/rand.h>

#include "roles.h"
#include "turn_context.h"
#include "turn_stream.h"

static uint8_t nonce_secret[32];

static void turn_process_init(void)
{
	if (RAND_bytes(nonce_secret, sizeof(nonce_secret)) != 1)
		abort(); /* no randomness: nonces anyone could forge */
}

static int turn_check(const struct sxedge_config *config, FILE *errors)
{
	return turn_context_check(config, errors);
}

/* A worker without [turn] serves no TURN (SERVING false) and holds nothing. */
struct turn_state {
	bool serving;
	struct turn_context context;
};

static void *turn_worker_new(struct event_base *base, const struct sxedge_config *config,
			     struct metrics *metrics, FILE *errors)
{
	struct turn_state *state = calloc(1, sizeof(*state));

	if (state == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	if (turn_config(config)->line == 0) {
		if (turn_context_check(config, errors) == 0)
			return state;
		free(state);
		return NULL;
	}
	if (turn_context_init(&state->context, base, config, metrics, nonce_secret, errors) < 0) {
		free(state);
		return NULL;
	}
	state->serving = true;
	return state;
}

static void turn_worker_free(void *arg)
{
	struct turn_state *state = arg;

	if (state == NULL)
		return;
	if (state->serving)
		turn_context_free(&state->context);
	free(state);
}

static void turn_accept(void *arg, const struct listener_config *listener, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len)
{
	struct turn_state *state = arg;
	(void)listener;
	turn_stream_accept(&state->context, fd, peer, peer_len);
}

static void turn_datagram(void *arg, const struct listener_config *listener, evutil_socket_t fd,
			  const unsigned char *data, size_t size, const struct sockaddr *peer,
			  socklen_t peer_len)
{
	struct turn_state *state = arg;
	turn_context_datagram(&state->context, listener, fd, data, size, peer, peer_len);
}

/* turn: the allocations made over UDP, until the drain closed their
 * listener (they cannot be served then, so the drain waits for none);
 * turn_tcp: clients' TCP connections. */
static unsigned turn_open_connections(const void *arg, unsigned role)
{
	const struct turn_state *state = arg;
	const struct turn_context *context = &state->context;

	if (!state->serving)
		return 0;
	if (role == ROLE_TURN_TCP)
		return context->streams_open;
	if (role == ROLE_TURN && !context->draining)
		return context->udp_allocations;
	return 0;
}

static void turn_drain(void *arg)
{
	struct turn_state *state = arg;
	if (state->serving)
		turn_context_drain(&state->context);
}

static void turn_stop(void *arg)
{
	struct turn_state *state = arg;
	if (state->serving)
		turn_context_stop(&state->context);
}

static unsigned turn_all_connections(const void *arg)
{
	const struct turn_state *state = arg;
	return state->serving ? state->context.streams_open + state->context.peers_open : 0;
}

/* One relay socket per allocation, which the role budgets bound (UDP
 * clients' by max_connections_turn, TCP clients' by their connections),
 * and RFC 6062 peer connections: a bound one pairs with a data connection
 * of the turn_tcp budget, so as many again; 64 for those being set up. */
static unsigned turn_outbound_links(const struct sxedge_config *config)
{
	const struct turn_config *turn = turn_config(config);
	const unsigned *budget = config->limits.max_connections_role;
	unsigned relays = budget[ROLE_TURN] + budget[ROLE_TURN_TCP];

	if (turn->line == 0)
		return 0;
	if (relays > turn->max_allocations)
		relays = turn->max_allocations;
	return relays + budget[ROLE_TURN_TCP] + 64;
}

static void turn_describe(const void *arg, char *buf, size_t size)
{
	const struct turn_state *state = arg;
	if (!state->serving)
		return;
	const struct turn_config *turn = state->context.turn;
	snprintf(buf, size, " turn_relay=%s turn_ports=%u-%u", turn->relay_address,
		 turn->relay_ports.first, turn->relay_ports.last);
}

const struct protocol turn_protocol = {
	.name = "turn",
	.process_init = turn_process_init,
	.check = turn_check,
	.worker_new = turn_worker_new,
	.worker_free = turn_worker_free,
	.accept = turn_accept,
	.datagram = turn_datagram,
	.open_connections = turn_open_connections,
	.drain = turn_drain,
	.stop = turn_stop,
	.all_connections = turn_all_connections,
	.outbound_links = turn_outbound_links,
	.describe = turn_describe,
};
