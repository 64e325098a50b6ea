/* SPDX-License-Identifier: ISC */
/* turn_protocol: TURN as the worker sees it.  Without [turn] and without
 * a TURN listener it holds nothing; the nonce secret is drawn once per
 * process, so every worker's nonces are good in every other, and it stays
 * across reloads.  A reload changes the settings of the context serving
 * now (turn_context_prepare, _commit), makes one when [turn] comes, and
 * retires it when [turn] goes. */
#include "turn_protocol.h"

#include <stdlib.h>

#include <openssl/rand.h>

#include "log.h"
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

/* A worker without [turn] serves no TURN (CONTEXT NULL) and holds nothing
 * but what a reload that adds [turn] needs to make one. */
struct turn_state {
	struct event_base *base;
	struct metrics *metrics;
	struct turn_context *context;
	/* [turn] removed by a reload: its TCP clients closing; freed once the
	 * last is gone (or when another reload retires the next one). */
	struct turn_context *retired;
};

static struct turn_context *context_new(struct turn_state *state,
					const struct sxedge_config *config, FILE *errors)
{
	struct turn_context *context = calloc(1, sizeof(*context));

	if (context == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	if (turn_context_init(context, state->base, config, state->metrics, nonce_secret, errors) <
	    0) {
		free(context);
		return NULL;
	}
	return context;
}

static void context_destroy(struct turn_context *context)
{
	if (context == NULL)
		return;
	turn_context_free(context);
	free(context);
}

static void *turn_worker_new(struct event_base *base, const struct sxedge_config *config,
			     struct metrics *metrics, FILE *errors)
{
	struct turn_state *state = calloc(1, sizeof(*state));

	if (state == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	state->base = base;
	state->metrics = metrics;
	if (turn_config(config)->line == 0) {
		if (turn_context_check(config, errors) == 0)
			return state;
		free(state);
		return NULL;
	}
	state->context = context_new(state, config, errors);
	if (state->context == NULL) {
		free(state);
		return NULL;
	}
	return state;
}

static void turn_worker_free(void *arg)
{
	struct turn_state *state = arg;

	if (state == NULL)
		return;
	context_destroy(state->context);
	context_destroy(state->retired);
	free(state);
}

static void turn_accept(void *arg, const struct listener_config *listener, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len)
{
	struct turn_state *state = arg;
	(void)listener;
	if (state->context == NULL) {
		evutil_closesocket(fd);
		return;
	}
	turn_stream_accept(state->context, fd, peer, peer_len);
}

static void turn_datagram(void *arg, const struct listener_config *listener, evutil_socket_t fd,
			  const unsigned char *data, size_t size, const struct sockaddr *peer,
			  socklen_t peer_len)
{
	struct turn_state *state = arg;
	if (state->context != NULL)
		turn_context_datagram(state->context, listener, fd, data, size, peer, peer_len);
}

/* turn: the allocations made over UDP, until the drain closed their
 * listener (they cannot be served then, so the drain waits for none);
 * turn_tcp: clients' TCP connections. */
static unsigned turn_open_connections(const void *arg, unsigned role)
{
	const struct turn_state *state = arg;
	const struct turn_context *context = state->context;

	if (context == NULL)
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
	if (state->context != NULL)
		turn_context_drain(state->context);
}

static void turn_stop(void *arg)
{
	struct turn_state *state = arg;
	if (state->context != NULL)
		turn_context_stop(state->context);
	if (state->retired != NULL)
		turn_context_stop(state->retired);
}

static unsigned context_connections(const struct turn_context *context)
{
	return context != NULL ? context->streams_open + context->peers_open : 0;
}

static unsigned turn_all_connections(const void *arg)
{
	const struct turn_state *state = arg;
	return context_connections(state->context) + context_connections(state->retired);
}

/* ---- SIGHUP ---- */

/* What a reload brings: new settings for the context serving now, a context
 * for a [turn] that was not there, or the end of one no longer there. */
struct turn_reload {
	struct turn_context_change *change;
	struct turn_context *context;
	bool removed;
};

static void *turn_reload_prepare(void *arg, const struct sxedge_config *config, FILE *errors)
{
	struct turn_state *state = arg;
	struct turn_reload *reload = calloc(1, sizeof(*reload));
	bool wanted = turn_config(config)->line != 0;

	if (reload == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	if (turn_context_check(config, errors) < 0) {
		free(reload);
		return NULL;
	}
	if (wanted && state->context != NULL)
		reload->change = turn_context_prepare(state->context, config, errors);
	else if (wanted)
		reload->context = context_new(state, config, errors);
	reload->removed = !wanted && state->context != NULL;
	if (wanted && reload->change == NULL && reload->context == NULL) {
		free(reload);
		return NULL;
	}
	return reload;
}

static void retired_emptied(void *arg)
{
	struct turn_state *state = arg;
	context_destroy(state->retired);
	state->retired = NULL;
}

static void turn_reload_commit(void *arg, void *pending)
{
	struct turn_state *state = arg;
	struct turn_reload *reload = pending;

	if (reload->change != NULL) {
		turn_context_commit(state->context, reload->change);
	} else if (reload->context != NULL) {
		state->context = reload->context;
	} else if (reload->removed) {
		/* at most one retired: one still closing from before goes now */
		context_destroy(state->retired);
		state->retired = state->context;
		state->context = NULL;
		struct turn_server *server = state->retired->server;
		log_event(LOG_LEVEL_NOTICE, "turn_removed", "allocations=%u tcp_clients=%u",
			  server != NULL ? turn_server_allocations(server) : 0,
			  state->retired->streams_open);
		turn_context_retire(state->retired, retired_emptied, state);
	}
	free(reload);
}

static void turn_reload_abort(void *arg, void *pending)
{
	struct turn_reload *reload = pending;
	(void)arg;

	turn_context_abort(reload->change);
	context_destroy(reload->context);
	free(reload);
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
	if (state->context == NULL)
		return;
	const struct turn_config *turn = state->context->turn;
	snprintf(buf, size, " turn_relay=%s%s%s turn_ports=%u-%u", turn->relay_address,
		 turn->relay_address6 != NULL ? "," : "",
		 turn->relay_address6 != NULL ? turn->relay_address6 : "", turn->relay_ports.first,
		 turn->relay_ports.last);
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
	.reload_prepare = turn_reload_prepare,
	.reload_commit = turn_reload_commit,
	.reload_abort = turn_reload_abort,
	.describe = turn_describe,
};
