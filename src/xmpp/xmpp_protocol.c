/* SPDX-License-Identifier: ISC */
/* xmpp_protocol: XMPP as the worker sees it.  The TLS handles and the link
 * CA are made in worker_new, while the process may still read root's keys,
 * and again by a reload (xmpp_reload.h); streams are opened on demand, so
 * worker_start has nothing to do. */
#include "xmpp_protocol.h"

#include <stdlib.h>

#include "roles.h"
#include "xmpp_context.h"
#include "xmpp_link.h"
#include "xmpp_reload.h"
#include "xmpp_stream.h"

/* `sxedge -t`: what a worker would build, certificates, keys and the link
 * CA included. */
static int xmpp_check(const struct sxedge_config *config, FILE *errors)
{
	struct xmpp_context context;
	struct event_base *base = event_base_new();

	if (base == NULL)
		return -1;
	int result = xmpp_context_init(&context, base, config, NULL, errors);
	if (result == 0)
		xmpp_context_free(&context);
	event_base_free(base);
	return result;
}

static void *xmpp_worker_new(struct event_base *base, const struct sxedge_config *config,
			     struct metrics *metrics, FILE *errors)
{
	struct xmpp_context *context = malloc(sizeof(*context));

	if (context == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	if (xmpp_context_init(context, base, config, metrics, errors) < 0) {
		free(context);
		return NULL;
	}
	xmpp_link_serve(context);
	return context;
}

static int xmpp_worker_start(void *state)
{
	(void)state;
	return 0;
}

static void xmpp_worker_free(void *state)
{
	if (state == NULL)
		return;
	xmpp_context_free(state);
	free(state);
}

static void xmpp_accept(void *state, const struct listener_config *listener, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len)
{
	xmpp_stream_accept(state, (enum listener_role)listener->role, fd, peer, peer_len);
}

static unsigned xmpp_open_connections(const void *state, unsigned role)
{
	const struct xmpp_context *context = state;
	return role < ROLE_COUNT ? context->inbound[role] : 0;
}

static void xmpp_drain(void *state)
{
	struct xmpp_context *context = state;
	context->draining = true;
}

static void xmpp_stop(void *state)
{
	xmpp_streams_close(state);
}

static unsigned xmpp_all_connections(const void *state)
{
	return xmpp_streams_open(state);
}

static void *xmpp_reload_prepare_state(void *state, const struct sxedge_config *config,
				       FILE *errors)
{
	return xmpp_reload_prepare(state, config, errors);
}

static void xmpp_reload_commit_state(void *state, void *pending)
{
	xmpp_reload_commit(state, pending);
}

static void xmpp_reload_abort_state(void *state, void *pending)
{
	(void)state;
	xmpp_reload_abort(pending);
}

/* One stream out per configured partner and as many again inward; open
 * federation adds what its traffic needs within the same limit. */
static unsigned xmpp_outbound_links(const struct sxedge_config *config)
{
	return 2 * (unsigned)xmpp_config(config)->n_partners + 64;
}

const struct protocol xmpp_protocol = {
	.name = "xmpp",
	.check = xmpp_check,
	.worker_new = xmpp_worker_new,
	.worker_start = xmpp_worker_start,
	.worker_free = xmpp_worker_free,
	.accept = xmpp_accept,
	.open_connections = xmpp_open_connections,
	.drain = xmpp_drain,
	.stop = xmpp_stop,
	.all_connections = xmpp_all_connections,
	.outbound_links = xmpp_outbound_links,
	.reload_prepare = xmpp_reload_prepare_state,
	.reload_commit = xmpp_reload_commit_state,
	.reload_abort = xmpp_reload_abort_state,
};
