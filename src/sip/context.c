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

/* Points CONTEXT at CONFIG and what it derives from it for connections
 * made from now on. */
static void context_take_snapshot(struct sip_context *context, const struct sxedge_config *config)
{
	context->config = config;
	context->sip = sip_config(config);
	context->federation_config = federation_config(config);
	context->edge.config = config;
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
	context->edge.flow_key = &context->flow_key;
	context_take_snapshot(context, config);
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
	struct sip_pool_target target;

	if (sip_pool_target(context->config, &target) < 0)
		return -1;
	context->pool = sip_pool_new(context, &target, pool_client, &sip_session_link_handler);
	if (context->pool == NULL)
		return -1;
	sip_pool_register_metrics(context->pool);
	sip_pool_start(context->pool);
	if (federation_client != NULL) {
		context->federation = sip_federation_new(
			context, config_listener(context->config, ROLE_FEDERATION),
			federation_client, &sip_session_link_handler);
		if (context->federation == NULL)
			return -1;
		sip_federation_register_metrics(context->federation);
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
	flow_key_clear(&context->previous_flow_key);
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

/* ---- reload ---- */

struct sip_context_reload {
	const struct sxedge_config *config;
	bool new_key; /* the secret or the node id changed: flow_key is the new key */
	struct flow_key flow_key;
	struct dns *dns; /* a resolver for a new [federation] dns_server, or NULL */
	struct rate_limit *partner_limits; /* for CONFIG's partners; NULL without federation */
	struct sip_pool_target pool_target;
	struct tls_client *pool_client, *federation_client; /* held */
	struct sip_federation *federation; /* for a federation listener new to the context */
};

static bool same_host(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* The flow key under CONFIG: the one there is while the secret and node
 * id stay (a random secret stays with them), else a new one. */
static int reload_flow_key(const struct sip_context *context, const struct sxedge_config *config,
			   struct sip_context_reload *reload)
{
	const struct sxedge_config *old = context->config;
	unsigned char secret[FLOW_SECRET_SIZE];
	bool same_secret =
		config->flow_secret_set == old->flow_secret_set &&
		(!config->flow_secret_set ||
		 CRYPTO_memcmp(config->flow_secret, old->flow_secret, FLOW_SECRET_SIZE) == 0);

	if (same_secret && config->node_id == old->node_id)
		return 0;
	reload->new_key = true;
	if (same_secret)
		return flow_key_dup(&reload->flow_key, &context->flow_key, config->node_id);
	if (config->flow_secret_set)
		memcpy(secret, config->flow_secret, sizeof(secret));
	else if (RAND_bytes(secret, sizeof(secret)) != 1)
		return -1;
	int result = flow_key_init(&reload->flow_key, secret, config->node_id,
				   context->flow_key.boot_id);
	OPENSSL_cleanse(secret, sizeof(secret));
	return result;
}

/* The resolver and rate limits CONFIG's federation listener needs. */
static int reload_federation(struct sip_context *context, const struct sxedge_config *config,
			     struct sip_context_reload *reload, FILE *errors)
{
	const struct sip_config *sip = sip_config(config);
	const struct federation_config *federation = federation_config(config);
	const struct listener_config *listener = config_listener(config, ROLE_FEDERATION);
	char err[300];

	if (listener == NULL)
		return 0;
	if (context->dns == NULL ||
	    !same_host(federation->dns_server_host, context->federation_config->dns_server_host) ||
	    federation->dns_server_port != context->federation_config->dns_server_port) {
		reload->dns = dns_new(context->base, federation->dns_server_host,
				      federation->dns_server_port, err, sizeof(err));
		if (reload->dns == NULL) {
			fprintf(errors, "%s:%d: listener %s: no resolver: %s\n", config->path,
				listener->line, listener->name, err);
			return -1;
		}
	}
	reload->partner_limits =
		calloc(sip->n_partners ? sip->n_partners : 1, sizeof(*reload->partner_limits));
	if (reload->partner_limits == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return -1;
	}
	uint64_t now = sip_context_now_ms(context);
	for (size_t i = 0; i < sip->n_partners; i++)
		rate_limit_init(&reload->partner_limits[i], sip->partners[i].rate,
				sip->partners[i].burst, now);
	if (context->pool != NULL && context->federation == NULL) {
		reload->federation =
			sip_federation_new(context, config_listener(config, ROLE_FEDERATION),
					   reload->federation_client, &sip_session_link_handler);
		if (reload->federation == NULL) {
			fprintf(errors, "%s: out of memory\n", config->path);
			return -1;
		}
	}
	return 0;
}

struct sip_context_reload *sip_context_prepare(struct sip_context *context,
					       const struct sxedge_config *config,
					       struct tls_client *pool_client,
					       struct tls_client *federation_client, FILE *errors)
{
	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);
	struct sip_context_reload *reload = calloc(1, sizeof(*reload));

	if (reload == NULL) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return NULL;
	}
	reload->config = config_ref(config);
	reload->pool_client = tls_client_hold(pool_client);
	reload->federation_client =
		federation_client != NULL ? tls_client_hold(federation_client) : NULL;
	if (reload_flow_key(context, config, reload) < 0) {
		fprintf(errors, "%s:%d: no HMAC-SHA256 context for the flow key\n", config->path,
			config->run_as.line);
		sip_context_abort(reload);
		return NULL;
	}
	if (sip_pool_target(config, &reload->pool_target) < 0) {
		fprintf(errors,
			"%s:%d: listener %s: [pool] relay is not an address of its family\n",
			config->path, internal->line, internal->name);
		sip_context_abort(reload);
		return NULL;
	}
	if (reload_federation(context, config, reload, errors) < 0) {
		sip_context_abort(reload);
		return NULL;
	}
	return reload;
}

void sip_context_abort(struct sip_context_reload *reload)
{
	if (reload == NULL)
		return;
	flow_key_clear(&reload->flow_key);
	dns_free(reload->dns);
	free(reload->partner_limits);
	sip_federation_free(reload->federation);
	tls_client_release(reload->pool_client);
	tls_client_release(reload->federation_client);
	config_unref(reload->config);
	free(reload);
}

/* The buckets of the partners that stay carry over, at their new rates. */
static void commit_partner_limits(struct sip_context *context, const struct sip_config *old,
				  struct rate_limit *limits)
{
	const struct sip_config *sip = context->sip;

	for (size_t i = 0; limits != NULL && context->partner_limits != NULL && i < sip->n_partners;
	     i++) {
		const struct partner_config *before =
			sip_config_partner(old, sip->partners[i].domain);
		if (before == NULL)
			continue;
		struct rate_limit *limit = &limits[i];
		const struct rate_limit *kept = &context->partner_limits[before - old->partners];
		limit->tokens = kept->tokens < limit->burst ? kept->tokens : limit->burst;
		limit->last_ms = kept->last_ms;
	}
	free(context->partner_limits);
	context->partner_limits = limits;
}

/* The budgets take the new caps and keep their members and counts. */
static void commit_budgets(struct sip_context *context)
{
	const struct limits_config *limits = &context->config->limits;

	conn_budget_set_limits(&context->budgets[ROLE_ACCESS],
			       limits->max_connections_role[ROLE_ACCESS],
			       limits->max_connections_per_address_access);
	conn_budget_set_limits(&context->budgets[ROLE_INTERNAL],
			       limits->max_connections_role[ROLE_INTERNAL], 0);
	conn_budget_set_limits(&context->budgets[ROLE_FEDERATION],
			       limits->max_connections_role[ROLE_FEDERATION],
			       context->federation_config->max_connections_per_address);
}

void sip_context_commit(struct sip_context *context, struct sip_context_reload *reload)
{
	const struct sxedge_config *old = context->config;
	const struct sip_config *old_sip = context->sip;
	struct dns *old_dns = NULL;
	bool resolver_changed = false;

	context_take_snapshot(context, reload->config);
	commit_budgets(context);
	if (reload->new_key) {
		flow_key_clear(&context->previous_flow_key);
		context->previous_flow_key = context->flow_key;
		context->flow_key = reload->flow_key;
		context->edge.previous_flow_key = &context->previous_flow_key;
	}
	commit_partner_limits(context, old_sip, reload->partner_limits);
	if (reload->dns != NULL || config_listener(context->config, ROLE_FEDERATION) == NULL) {
		old_dns = context->dns;
		context->dns = reload->dns;
		resolver_changed = old_dns != NULL && reload->dns != NULL;
	}
	if (reload->federation != NULL) {
		context->federation = reload->federation;
		sip_federation_register_metrics(context->federation);
	} else if (context->federation != NULL) {
		sip_federation_reload(context->federation,
				      config_listener(context->config, ROLE_FEDERATION),
				      reload->federation_client, old, resolver_changed);
	}
	if (context->pool != NULL)
		sip_pool_reload(context->pool, &reload->pool_target, reload->pool_client,
				&old_sip->pool);
	sip_context_reload_sessions(context, old, resolver_changed);
	/* Every look-up of the old resolver was cancelled or started again. */
	dns_free(old_dns);
	/* The worker holds the snapshot now; the context points into it. */
	reload->federation = NULL;
	reload->partner_limits = NULL;
	reload->dns = NULL;
	reload->flow_key.mac = NULL;
	sip_context_abort(reload);
}
