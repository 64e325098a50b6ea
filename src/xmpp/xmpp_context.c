/* SPDX-License-Identifier: ISC */
/* xmpp_context: see xmpp_context.h. */
#include "xmpp_context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "address.h"
#include "connection_metrics.h"
#include "log.h"
#include "loop_clock.h"
#include "policy.h"
#include "xmpp_dialback.h"
#include "xmpp_stream.h"

static const void *xmpp_partner_lookup(const struct sxedge_config *config, const char *domain)
{
	const struct xmpp_config *xmpp = xmpp_config(config);
	return xmpp_config_is_partner(xmpp, domain) ? xmpp : NULL;
}

enum policy_verdict xmpp_context_policy(const struct xmpp_context *context, const char *domain)
{
	return policy_domain(context->settings.config, domain, xmpp_partner_lookup, NULL);
}

bool xmpp_context_partner_allowed(const struct xmpp_context *context, const char *domain)
{
	switch (xmpp_context_policy(context, domain)) {
	case POLICY_PARTNER:
	case POLICY_DISCOVER:
		return true;
	case POLICY_OURS:
	case POLICY_BLOCKED:
	case POLICY_REFUSED:
		break;
	}
	return false;
}

bool xmpp_context_is_ours(const struct xmpp_context *context, const char *domain)
{
	return config_is_our_domain(context->settings.config, domain);
}

/* ---- stanza rates ---- */

#define XMPP_RATES_MAX 4096

bool xmpp_context_take_stanza(struct xmpp_context *context, const char *domain)
{
	const struct xmpp_config *xmpp = context->settings.xmpp;
	uint64_t now = loop_clock_now_ms(context->base);
	unsigned retry_after;
	struct xmpp_partner_rate *rate = NULL;

	if (xmpp->stanza_rate == 0)
		return true;
	for (size_t i = 0; i < context->n_rates && rate == NULL; i++) {
		if (strcmp(context->rates[i].domain, domain) == 0)
			rate = &context->rates[i];
	}
	if (rate == NULL) {
		char *copy = strdup(domain);
		if (copy == NULL)
			return false;
		if (context->rates == NULL) {
			context->rates = calloc(XMPP_RATES_MAX, sizeof(*context->rates));
			if (context->rates == NULL) {
				free(copy);
				return false;
			}
		}
		if (context->n_rates < XMPP_RATES_MAX) {
			rate = &context->rates[context->n_rates++];
		} else {
			rate = &context->rates[context->next_rate];
			context->next_rate = (context->next_rate + 1) % XMPP_RATES_MAX;
			free(rate->domain);
		}
		rate->domain = copy;
		rate_limit_init(&rate->limit, xmpp->stanza_rate, xmpp->stanza_burst, now);
	}
	if (rate_limit_take(&rate->limit, now, &retry_after))
		return true;
	metric_counter_add(context->metrics.rate_limited, 1);
	return false;
}

/* Reverses rates FIRST to LAST - 1 in place. */
static void rates_reverse(struct xmpp_partner_rate *rates, size_t first, size_t last)
{
	while (first + 1 < last) {
		struct xmpp_partner_rate swap = rates[first];
		rates[first++] = rates[--last];
		rates[last] = swap;
	}
}

void xmpp_context_rates_reloaded(struct xmpp_context *context)
{
	const struct xmpp_config *xmpp = context->settings.xmpp;
	size_t kept = 0;

	/* Oldest first from index 0, so that replacing goes on in age order. */
	rates_reverse(context->rates, 0, context->next_rate);
	rates_reverse(context->rates, context->next_rate, context->n_rates);
	rates_reverse(context->rates, 0, context->n_rates);
	for (size_t i = 0; i < context->n_rates; i++) {
		struct xmpp_partner_rate *rate = &context->rates[i];
		if (xmpp->stanza_rate == 0 ||
		    !xmpp_context_partner_allowed(context, rate->domain)) {
			free(rate->domain);
			continue;
		}
		struct rate_limit retuned;
		rate_limit_init(&retuned, xmpp->stanza_rate, xmpp->stanza_burst,
				rate->limit.last_ms);
		if (rate->limit.tokens < retuned.tokens)
			retuned.tokens = rate->limit.tokens;
		rate->limit = retuned;
		context->rates[kept++] = *rate;
	}
	context->n_rates = kept;
	context->next_rate = 0;
}

/* ---- set-up ---- */

static int settings_build_tls(struct xmpp_settings *settings, FILE *errors)
{
	const struct sxedge_config *config = settings->config;
	const struct listener_config *public = config_listener(config, ROLE_XMPP_FEDERATION);
	const struct listener_config *internal = config_listener(config, ROLE_XMPP_INTERNAL);
	char err[512];

	if (public != NULL) {
		settings->public_server = tls_server_new(public, NULL, 0, err, sizeof(err));
		settings->public_client =
			settings->public_server == NULL
				? NULL
				: tls_client_new(public->certificate, public->key, public->ca_file,
						 err, sizeof(err));
		if (settings->public_client == NULL) {
			fprintf(errors, "%s:%d: listener %s: %s\n", config->path, public->line,
				public->name, err);
			return -1;
		}
		/* A partner without a good certificate may still prove itself
		 * by dialback: the machines decide, not the handshake. */
		tls_server_tolerate_untrusted(settings->public_server);
		tls_client_tolerate_untrusted(settings->public_client);
	}
	if (internal != NULL) {
		const struct xmpp_config *xmpp = settings->xmpp;
		settings->mint = tls_mint_new(xmpp->link_ca_certificate, xmpp->link_ca_key,
					      xmpp->link_validity_s, err, sizeof(err));
		settings->internal_server =
			settings->mint == NULL
				? NULL
				: tls_server_new(internal, NULL, 0, err, sizeof(err));
		if (settings->internal_server == NULL) {
			fprintf(errors, "%s:%d: %s\n", config->path,
				settings->mint == NULL ? xmpp->line : internal->line, err);
			return -1;
		}
		settings->internal_trust =
			tls_client_new(NULL, NULL, internal->ca_file, err, sizeof(err));
		if (settings->internal_trust == NULL) {
			fprintf(errors, "%s:%d: listener %s: %s\n", config->path, internal->line,
				internal->name, err);
			return -1;
		}
	}
	return 0;
}

int xmpp_settings_build(struct xmpp_settings *settings, const struct sxedge_config *config,
			FILE *errors)
{
	const struct limits_config *limits = &config->limits;

	memset(settings, 0, sizeof(*settings));
	settings->config = config_ref(config);
	settings->xmpp = xmpp_config(config);
	settings->federation = federation_config(config);
	xmpp_limits_default(&settings->limits);
	settings->limits.max_stanza = settings->xmpp->max_stanza;
	settings->conn_limits = (struct conn_limits){
		.handshake_timeout_s = limits->handshake_timeout_s,
		.idle_timeout_s = limits->idle_timeout_s,
		/* the parser takes what comes; this bounds one read's backlog */
		.input_max = 64 * 1024,
		.output_max = limits->output_max,
		/* a stream still negotiating this long is abandoned */
		.first_request_timeout_s = settings->xmpp->negotiation_timeout_s,
	};
	if (settings->xmpp->internal_server_host != NULL)
		settings->internal_len = address_parse(settings->xmpp->internal_server_host,
						       settings->xmpp->internal_server_port,
						       &settings->internal_address);
	if (settings_build_tls(settings, errors) < 0) {
		xmpp_settings_clear(settings);
		return -1;
	}
	return 0;
}

void xmpp_settings_clear(struct xmpp_settings *settings)
{
	tls_server_release(settings->public_server);
	tls_server_release(settings->internal_server);
	tls_client_release(settings->public_client);
	tls_client_release(settings->internal_trust);
	tls_mint_free(settings->mint);
	if (settings->config != NULL)
		config_unref(settings->config);
	memset(settings, 0, sizeof(*settings));
}

static int budgets_init(struct xmpp_context *context, const struct sxedge_config *config,
			FILE *errors)
{
	const struct limits_config *limits = &config->limits;

	if (conn_budget_init(&context->budgets[ROLE_XMPP_FEDERATION], "xmpp_federation",
			     limits->max_connections_role[ROLE_XMPP_FEDERATION],
			     federation_config(config)->max_connections_per_address) < 0 ||
	    conn_budget_init(&context->budgets[ROLE_XMPP_INTERNAL], "xmpp_internal",
			     limits->max_connections_role[ROLE_XMPP_INTERNAL], 0) < 0) {
		fprintf(errors, "%s: out of memory\n", config->path);
		return -1;
	}
	return 0;
}

void xmpp_budgets_reloaded(struct xmpp_context *context, const struct sxedge_config *config)
{
	const struct limits_config *limits = &config->limits;

	conn_budget_set_limits(&context->budgets[ROLE_XMPP_FEDERATION],
			       limits->max_connections_role[ROLE_XMPP_FEDERATION],
			       federation_config(config)->max_connections_per_address);
	conn_budget_set_limits(&context->budgets[ROLE_XMPP_INTERNAL],
			       limits->max_connections_role[ROLE_XMPP_INTERNAL], 0);
}

/* RFC 6120 §4.6.1: a space between stanzas keeps NATs and firewalls from
 * forgetting a quiet stream, and the peer's idle timer from ending it. */
static void context_on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	xmpp_streams_keepalive(arg);
}

struct event *xmpp_keepalive_new(struct xmpp_context *context)
{
	return event_new(context->base, -1, EV_PERSIST, context_on_keepalive, context);
}

void xmpp_dialback_secret_hex(const unsigned char secret[32], char hex[65])
{
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", secret[i]);
}

static void context_init_metrics(struct xmpp_context *context, struct metrics *registry)
{
	static const char *const kind_label[] = { "kind", NULL };
	static const char *const reason_label[] = { "reason", NULL };
	static const char *const stanza_labels[] = { "direction", "kind", NULL };

	context->metrics.streams =
		metrics_register(registry, METRIC_COUNTER, "sxedge_xmpp_streams_total",
				 "XMPP server-to-server streams opened, by kind.", kind_label);
	context->metrics.refusals =
		metrics_register(registry, METRIC_COUNTER, "sxedge_xmpp_stream_refusals_total",
				 "XMPP streams the edge ended, by reason.", reason_label);
	context->metrics.stanzas = metrics_register(
		registry, METRIC_COUNTER, "sxedge_xmpp_stanzas_total",
		"Stanzas relayed, by direction (inward, outward) and kind.", stanza_labels);
	static const char *const authentication_labels[] = { "method", "outcome", NULL };
	context->metrics.authentications = metrics_register(
		registry, METRIC_COUNTER, "sxedge_xmpp_authentications_total",
		"Domains authenticated on XMPP streams (outcome success, by SASL EXTERNAL or "
		"dialback) and the verdicts of dialback keys partners gave (method "
		"dialback_key: valid, invalid, timeout, unreachable, refused).",
		authentication_labels);
	struct connection_families connections;
	connection_families_register(registry, &connections);
	context->metrics.accepted = connections.accepted;
	context->metrics.refused = connections.refused;
	struct metric_family *minted =
		metrics_register(registry, METRIC_COUNTER, "sxedge_xmpp_certificates_minted_total",
				 "Certificates the link CA minted for partner domains.", NULL);
	context->metrics.minted = metric_counter(minted, NULL);
	struct metric_family *rate_limited =
		metrics_register(registry, METRIC_COUNTER, "sxedge_xmpp_stanzas_rate_limited_total",
				 "Stanzas from partners refused over [xmpp] stanza_rate.", NULL);
	context->metrics.rate_limited = metric_counter(rate_limited, NULL);
	xmpp_streams_register_gauges(context, registry);
}

int xmpp_context_init(struct xmpp_context *context, struct event_base *base,
		      const struct sxedge_config *config, struct metrics *metrics, FILE *errors)
{
	unsigned char secret[32];
	char err[256];

	memset(context, 0, sizeof(*context));
	context->base = base;
	if (xmpp_settings_build(&context->settings, config, errors) < 0)
		return -1;
	const struct xmpp_config *xmpp = context->settings.xmpp;
	if (xmpp->dialback_secret_set)
		memcpy(secret, xmpp->dialback_secret, sizeof(secret));
	else if (RAND_bytes(secret, sizeof(secret)) != 1) {
		fprintf(errors, "%s: no random numbers for the dialback secret\n", config->path);
		xmpp_context_free(context);
		return -1;
	}
	xmpp_dialback_secret_hex(secret, context->dialback_secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (budgets_init(context, config, errors) < 0) {
		xmpp_context_free(context);
		return -1;
	}
	context_init_metrics(context, metrics);
	if (xmpp->keepalive_s > 0) {
		context->keepalive = xmpp_keepalive_new(context);
		struct timeval every = { .tv_sec = xmpp->keepalive_s };
		if (context->keepalive == NULL || event_add(context->keepalive, &every) < 0) {
			fprintf(errors, "%s: out of memory\n", config->path);
			xmpp_context_free(context);
			return -1;
		}
	}
	if (config_listener(config, ROLE_XMPP_FEDERATION) != NULL) {
		context->dns =
			dns_new(base, context->settings.federation->dns_server_host,
				context->settings.federation->dns_server_port, err, sizeof(err));
		if (context->dns == NULL) {
			fprintf(errors, "%s: %s\n", config->path, err);
			xmpp_context_free(context);
			return -1;
		}
	}
	return 0;
}

void xmpp_context_free(struct xmpp_context *context)
{
	xmpp_dialback_clear(context);
	if (context->keepalive != NULL)
		event_free(context->keepalive);
	context->keepalive = NULL;
	while (context->streams != NULL)
		xmpp_stream_free(context->streams);
	dns_free(context->dns);
	context->dns = NULL;
	xmpp_settings_clear(&context->settings);
	for (int role = 0; role < ROLE_COUNT; role++)
		conn_budget_clear(&context->budgets[role]);
	OPENSSL_cleanse(context->dialback_secret, sizeof(context->dialback_secret));
	for (size_t i = 0; i < context->n_rates; i++)
		free(context->rates[i].domain);
	free(context->rates);
	context->rates = NULL;
	context->n_rates = context->next_rate = 0;
}
