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

bool xmpp_context_partner_allowed(const struct xmpp_context *context, const char *domain)
{
	switch (policy_domain(context->config, domain, xmpp_partner_lookup, NULL)) {
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
	return config_is_our_domain(context->config, domain);
}

/* ---- stanza rates ---- */

#define XMPP_RATES_MAX 4096

bool xmpp_context_take_stanza(struct xmpp_context *context, const char *domain)
{
	const struct xmpp_config *xmpp = context->xmpp;
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

/* ---- set-up ---- */

static int context_init_tls(struct xmpp_context *context, FILE *errors)
{
	const struct sxedge_config *config = context->config;
	const struct listener_config *public = config_listener(config, ROLE_XMPP_FEDERATION);
	const struct listener_config *internal = config_listener(config, ROLE_XMPP_INTERNAL);
	char err[512];

	if (public != NULL) {
		context->public_server = tls_server_new(public, NULL, 0, err, sizeof(err));
		context->public_client =
			context->public_server == NULL
				? NULL
				: tls_client_new(public->certificate, public->key, public->ca_file,
						 err, sizeof(err));
		if (context->public_client == NULL) {
			fprintf(errors, "%s:%d: listener %s: %s\n", config->path, public->line,
				public->name, err);
			return -1;
		}
		/* A partner without a good certificate may still prove itself
		 * by dialback: the machines decide, not the handshake. */
		tls_server_tolerate_untrusted(context->public_server);
		tls_client_tolerate_untrusted(context->public_client);
	}
	if (internal != NULL) {
		context->mint =
			tls_mint_new(context->xmpp->link_ca_certificate, context->xmpp->link_ca_key,
				     context->xmpp->link_validity_s, err, sizeof(err));
		context->internal_server =
			context->mint == NULL ? NULL
					      : tls_server_new(internal, NULL, 0, err, sizeof(err));
		if (context->internal_server == NULL) {
			fprintf(errors, "%s:%d: %s\n", config->path,
				context->mint == NULL ? context->xmpp->line : internal->line, err);
			return -1;
		}
		context->internal_trust =
			tls_client_new(NULL, NULL, internal->ca_file, err, sizeof(err));
		if (context->internal_trust == NULL) {
			fprintf(errors, "%s:%d: listener %s: %s\n", config->path, internal->line,
				internal->name, err);
			return -1;
		}
	}
	return 0;
}

/* RFC 6120 §4.6.1: a space between stanzas keeps NATs and firewalls from
 * forgetting a quiet stream, and the peer's idle timer from ending it. */
static void context_on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	xmpp_streams_keepalive(arg);
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
	const struct limits_config *limits = &config->limits;
	unsigned char secret[32];
	char err[256];

	memset(context, 0, sizeof(*context));
	context->base = base;
	context->config = config;
	context->xmpp = xmpp_config(config);
	context->federation = federation_config(config);
	if (context->xmpp->dialback_secret_set)
		memcpy(secret, context->xmpp->dialback_secret, sizeof(secret));
	else if (RAND_bytes(secret, sizeof(secret)) != 1) {
		fprintf(errors, "%s: no random numbers for the dialback secret\n", config->path);
		return -1;
	}
	for (size_t i = 0; i < sizeof(secret); i++)
		snprintf(context->dialback_secret + 2 * i, 3, "%02x", secret[i]);
	OPENSSL_cleanse(secret, sizeof(secret));
	xmpp_limits_default(&context->limits);
	context->limits.max_stanza = context->xmpp->max_stanza;
	context->conn_limits = (struct conn_limits){
		.handshake_timeout_s = limits->handshake_timeout_s,
		.idle_timeout_s = limits->idle_timeout_s,
		/* the parser takes what comes; this bounds one read's backlog */
		.input_max = 64 * 1024,
		.output_max = limits->output_max,
		/* a stream still negotiating this long is abandoned */
		.first_request_timeout_s = context->xmpp->negotiation_timeout_s,
	};
	if (conn_budget_init(&context->budgets[ROLE_XMPP_FEDERATION], "xmpp_federation",
			     limits->max_connections_role[ROLE_XMPP_FEDERATION],
			     context->federation->max_connections_per_address) < 0 ||
	    conn_budget_init(&context->budgets[ROLE_XMPP_INTERNAL], "xmpp_internal",
			     limits->max_connections_role[ROLE_XMPP_INTERNAL], 0) < 0) {
		fprintf(errors, "%s: out of memory\n", config->path);
		xmpp_context_free(context);
		return -1;
	}
	if (context->xmpp->internal_server_host != NULL)
		context->internal_len = address_parse(context->xmpp->internal_server_host,
						      context->xmpp->internal_server_port,
						      &context->internal_address);
	context_init_metrics(context, metrics);
	if (context_init_tls(context, errors) < 0) {
		xmpp_context_free(context);
		return -1;
	}
	if (context->xmpp->keepalive_s > 0) {
		struct timeval every = { .tv_sec = context->xmpp->keepalive_s };
		context->keepalive = event_new(base, -1, EV_PERSIST, context_on_keepalive, context);
		if (context->keepalive == NULL || event_add(context->keepalive, &every) < 0) {
			fprintf(errors, "%s: out of memory\n", config->path);
			xmpp_context_free(context);
			return -1;
		}
	}
	if (config_listener(config, ROLE_XMPP_FEDERATION) != NULL) {
		context->dns = dns_new(base, context->federation->dns_server_host,
				       context->federation->dns_server_port, err, sizeof(err));
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
	tls_server_release(context->public_server);
	tls_server_release(context->internal_server);
	tls_client_release(context->public_client);
	tls_client_release(context->internal_trust);
	context->internal_trust = NULL;
	tls_mint_free(context->mint);
	context->public_server = context->internal_server = NULL;
	context->public_client = NULL;
	context->mint = NULL;
	for (int role = 0; role < ROLE_COUNT; role++)
		conn_budget_clear(&context->budgets[role]);
	OPENSSL_cleanse(context->dialback_secret, sizeof(context->dialback_secret));
	for (size_t i = 0; i < context->n_rates; i++)
		free(context->rates[i].domain);
	free(context->rates);
	context->rates = NULL;
	context->n_rates = context->next_rate = 0;
}
