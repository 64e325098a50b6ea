/* SPDX-License-Identifier: ISC */
/* context: building and tearing down what a worker's SIP sessions share. */
#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "federation.h"
#include "loop_clock.h"
#include "pool.h"
#include "session.h"

static struct sip_hop context_hop(const struct sxedge_config *config, enum listener_role role)
{
	const struct listener_config *listener = config_listener(config, role);
	if (listener == NULL)
		return (struct sip_hop){ NULL, 0 };
	return (struct sip_hop){ listener->advertise_host, listener->advertise_port };
}

static int context_init_federation(struct sip_context *context, char *err, size_t err_size)
{
	const struct sip_config *sip = context->sip;
	const struct federation_config *federation = context->federation_config;
	uint64_t now = sip_context_now_ms(context);

	context->dns = dns_new(context->base, federation->dns_server_host,
			       federation->dns_server_port, err, err_size);
	if (context->dns == NULL)
		return -1;
	context->partner_limits =
		calloc(sip->n_partners ? sip->n_partners : 1, sizeof(*context->partner_limits));
	if (context->partner_limits == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sip->n_partners; i++)
		rate_limit_init(&context->partner_limits[i], sip->partners[i].rate,
				sip->partners[i].burst, now);
	return 0;
}

/* A user behind a NAT shares its address with many others, a partner edge
 * needs a few connections, the pool is known by its certificate. */
static int context_init_budgets(struct sip_context *context)
{
	const struct limits_config *limits = &context->config->limits;
	if (conn_budget_init(&context->budgets[ROLE_ACCESS], "access",
			     limits->max_connections_role[ROLE_ACCESS],
			     limits->max_connections_per_address_access) < 0 ||
	    conn_budget_init(&context->budgets[ROLE_INTERNAL], "internal",
			     limits->max_connections_role[ROLE_INTERNAL], 0) < 0 ||
	    conn_budget_init(&context->budgets[ROLE_FEDERATION], "federation",
			     limits->max_connections_role[ROLE_FEDERATION],
			     context->federation_config->max_connections_per_address) < 0)
		return -1;
	return 0;
}

/* The key for this worker's flow tokens and Via branches: its own keyed
 * MAC context, as the context changes with every MAC (flow_key.h). */
static int context_init_flow_key(struct sip_context *context, char *err, size_t err_size)
{
	const struct sxedge_config *config = context->config;
	unsigned char secret[FLOW_SECRET_SIZE];
	uint32_t boot_id;
	int result = -1;

	_Static_assert(sizeof(config->flow_secret) == FLOW_SECRET_SIZE, "flow secret size");
	if (RAND_bytes((unsigned char *)&boot_id, sizeof(boot_id)) != 1 ||
	    (!config->flow_secret_set && RAND_bytes(secret, sizeof(secret)) != 1)) {
		snprintf(err, err_size, "no random numbers");
		goto done;
	}
	if (config->flow_secret_set)
		memcpy(secret, config->flow_secret, sizeof(secret));
	if (flow_key_init(&context->flow_key, secret, config->node_id, boot_id) < 0) {
		snprintf(err, err_size, "no HMAC-SHA256 context for the flow key");
		goto done;
	}
	result = 0;
done:
	OPENSSL_cleanse(secret, sizeof(secret));
	return result;
}

int sip_context_init(struct sip_context *context, struct event_base *base,
		     const struct sxedge_config *config, char *err, size_t err_size)
{
	memset(context, 0, sizeof(*context));
	context->base = base;
	context->config = config;
	context->sip = sip_config(config);
	context->federation_config = federation_config(config);
	if (context_init_flow_key(context, err, err_size) < 0)
		return -1;
	context->edge.config = config;
	context->edge.flow_key = &context->flow_key;
	for (int role = 0; role < ROLE_COUNT; role++)
		context->edge.hops[role] = context_hop(config, (enum listener_role)role);
	context->frame_limits = (struct sip_frame_limits){
		.max_message = config->limits.sip_max_message,
		.max_line = config->limits.sip_max_line,
		.max_headers = config->limits.sip_max_headers,
	};
	context->conn_limits = (struct conn_limits){
		.handshake_timeout_s = config->limits.handshake_timeout_s,
		.idle_timeout_s = config->limits.idle_timeout_s,
		/* framing always decides once it holds sip_max_message bytes */
		.input_max = config->limits.sip_max_message,
		.output_max = config->limits.output_max,
	};
	conn_set_output_total_max(config->limits.output_total_max);
	if (context_init_budgets(context) < 0) {
		snprintf(err, err_size, "out of memory");
		sip_context_free(context);
		return -1;
	}
	if (context->edge.hops[ROLE_FEDERATION].host != NULL &&
	    context_init_federation(context, err, err_size) < 0) {
		sip_context_free(context);
		return -1;
	}
	return 0;
}

int sip_context_start(struct sip_context *context, struct tls_client *pool_client,
		      struct tls_client *federation_client)
{
	context->pool = sip_pool_new(context, pool_client, &sip_session_link_handler);
	if (context->pool == NULL)
		return -1;
	if (federation_client != NULL) {
		context->federation =
			sip_federation_new(context, federation_client, &sip_session_link_handler);
		if (context->federation == NULL)
			return -1;
	}
	return 0;
}

void sip_context_free(struct sip_context *context)
{
	sip_context_close_all(context);
	domain_index_clear(&context->bound);
	sip_federation_free(context->federation);
	context->federation = NULL;
	sip_pool_free(context->pool);
	context->pool = NULL;
	dns_free(context->dns);
	context->dns = NULL;
	for (int role = 0; role < ROLE_COUNT; role++)
		conn_budget_clear(&context->budgets[role]);
	free(context->partner_limits);
	context->partner_limits = NULL;
	flow_key_clear(&context->flow_key);
}

void sip_context_drain(struct sip_context *context)
{
	context->draining = true;
	if (context->pool != NULL)
		sip_pool_drain(context->pool);
	if (context->federation != NULL)
		sip_federation_drain(context->federation);
}

void sip_context_stop(struct sip_context *context)
{
	/* The links' answers go out on the accepted connections, which
	 * therefore close after them. */
	if (context->pool != NULL)
		sip_pool_stop(context->pool);
	if (context->federation != NULL)
		sip_federation_stop(context->federation);
	sip_context_close_inbound(context);
}

unsigned sip_context_open_connections(const struct sip_context *context)
{
	unsigned open = 0;
	for (int role = 0; role < ROLE_COUNT; role++)
		open += context->inbound[role];
	if (context->pool != NULL)
		open += sip_pool_open_links(context->pool);
	if (context->federation != NULL)
		open += sip_federation_open_links(context->federation);
	return open;
}

uint64_t sip_context_now_ms(const struct sip_context *context)
{
	return loop_clock_now_ms(context->base);
}
