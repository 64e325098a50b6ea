/* SPDX-License-Identifier: ISC */
/* turn_context_reload: a reload of TURN's state in one worker (see
 * turn_context.h): prepared from the new snapshot beside what serves, then
 * committed at once; and the retirement of a context whose [turn] a reload
 * removed. */
#include <stdlib.h>

#include "turn_context.h"
#include "turn_context_private.h"
#include "turn_settings.h"
#include "turn_stream.h"

struct turn_context_change {
	const struct sxedge_config *config;
	struct turn_server_change *server;
	struct sockaddr_storage *own;
	size_t n_own;
	struct sockaddr_storage relay_ipv4, relay_ipv6;
	/* The new table of UDP listeners, and for each its listener_config in
	 * CONFIG and whether it is one serving now (else made for the change). */
	struct turn_udp_listener **listeners;
	const struct listener_config **listener_configs;
	bool *kept;
	size_t n_listeners;
};

void turn_context_abort(struct turn_context_change *change)
{
	if (change == NULL)
		return;
	for (size_t i = 0; i < change->n_listeners; i++)
		if (!change->kept[i])
			free(change->listeners[i]); /* never served: nothing queued, no event */
	free(change->listeners);
	free(change->listener_configs);
	free(change->kept);
	free(change->own);
	turn_server_change_free(change->server);
	free(change);
}

/* The listener serving now at ADDRESS, NULL when none. */
static struct turn_udp_listener *serving_listener(const struct turn_context *context,
						  const struct transport_address *address)
{
	for (size_t i = 0; i < context->n_listeners; i++)
		if (transport_address_equal(&context->listeners[i]->address, address))
			return context->listeners[i];
	return NULL;
}

/* Is LISTENER in the table CHANGE is building (the first N)? */
static bool change_holds(const struct turn_context_change *change, size_t n,
			 const struct turn_udp_listener *listener)
{
	for (size_t i = 0; i < n; i++)
		if (change->listeners[i] == listener)
			return true;
	return false;
}

static int change_listeners(struct turn_context *context, struct turn_context_change *change)
{
	const struct sxedge_config *config = change->config;
	size_t room = config->n_listeners + 1;

	change->listeners = calloc(room, sizeof(*change->listeners));
	change->listener_configs = calloc(room, sizeof(*change->listener_configs));
	change->kept = calloc(room, sizeof(*change->kept));
	if (change->listeners == NULL || change->listener_configs == NULL || change->kept == NULL)
		return -1;
	for (size_t i = 0; i < config->n_listeners; i++) {
		const struct listener_config *at = &config->listeners[i];
		struct transport_address address;
		if (!turn_settings_udp_listener_address(at, &address))
			continue;
		size_t n = change->n_listeners;
		/* the kept one takes AT at the commit */
		struct turn_udp_listener *kept = serving_listener(context, &address);
		if (kept != NULL && change_holds(change, n, kept))
			kept = NULL; /* the file's check refuses a socket twice; were it not */
		change->listeners[n] =
			kept != NULL ? kept : turn_context_listener_new(context, at, &address);
		if (change->listeners[n] == NULL)
			return -1;
		change->listener_configs[n] = at;
		change->kept[n] = kept != NULL;
		change->n_listeners++;
	}
	return 0;
}

struct turn_context_change *turn_context_prepare(struct turn_context *context,
						 const struct sxedge_config *config, FILE *errors)
{
	struct turn_context_change *change = calloc(1, sizeof(*change));

	if (change == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	change->config = config;
	if (turn_settings_relay_addresses(config, &change->relay_ipv4, &change->relay_ipv6,
					  errors) < 0) {
		turn_context_abort(change);
		return NULL;
	}
	/* The server keeps pointing at the context's policy, which the commit
	 * fills from these. */
	struct turn_server_settings settings = turn_settings_server(config, &context->policy);
	if (turn_settings_own_addresses(config, turn_config(config), &change->own, &change->n_own) <
		    0 ||
	    change_listeners(context, change) < 0 ||
	    (change->server = turn_server_change_new(&settings)) == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		turn_context_abort(change);
		return NULL;
	}
	return change;
}

static bool change_keeps(const struct turn_context_change *change,
			 const struct turn_udp_listener *listener)
{
	for (size_t i = 0; i < change->n_listeners; i++)
		if (change->kept[i] && change->listeners[i] == listener)
			return true;
	return false;
}

void turn_context_commit(struct turn_context *context, struct turn_context_change *change)
{
	const struct sxedge_config *config = change->config;
	const struct turn_config *turn = turn_config(config);

	for (size_t i = 0; i < context->n_listeners; i++)
		if (!change_keeps(change, context->listeners[i]))
			turn_context_listener_remove(context, context->listeners[i]);
	free(context->listeners);
	for (size_t i = 0; i < change->n_listeners; i++)
		change->listeners[i]->config = change->listener_configs[i];
	context->listeners = change->listeners;
	context->n_listeners = change->n_listeners;
	free(context->own);
	context->own = change->own;
	context->n_own = change->n_own;
	context->policy = turn_settings_peer_policy(turn, context->own, context->n_own);
	context->relay_ipv4 = change->relay_ipv4;
	context->relay_ipv6 = change->relay_ipv6;
	turn_settings_connection_limits(config, &context->conn_limits, &context->peer_limits);
	conn_budget_set_limits(&context->budget, config->limits.max_connections_role[ROLE_TURN_TCP],
			       turn->max_connections_per_address);
	if (context->server != NULL)
		turn_server_change_apply(context->server, change->server);
	else
		turn_server_change_free(change->server);
	context->config = config;
	context->turn = turn;
	free(change->listener_configs);
	free(change->kept);
	free(change);
	turn_context_after(context);
}

void turn_context_connection_gone(struct turn_context *context)
{
	if (context->retired && context->streams_open == 0 && context->peers_open == 0)
		event_active(context->emptied, EV_TIMEOUT, 0);
}

void turn_context_retire(struct turn_context *context, void (*on_emptied)(void *arg), void *arg)
{
	context->config = config_ref(context->config);
	context->retired = true;
	context->on_emptied = on_emptied;
	context->emptied_arg = arg;
	for (size_t i = 0; i < context->n_listeners; i++)
		turn_context_listener_remove(context, context->listeners[i]);
	context->n_listeners = 0;
	turn_streams_close(context);
	turn_context_connection_gone(context);
}
