/* SPDX-License-Identifier: ISC */
/* xmpp_context: what every XMPP stream of one worker shares: the
 * configuration, the TLS handles, the link CA, the resolver, the budgets,
 * the streams themselves and what they count. */
#ifndef SXEDGE_XMPP_XMPP_CONTEXT_H
#define SXEDGE_XMPP_XMPP_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "config.h"
#include "conn.h"
#include "conn_budget.h"
#include "dns.h"
#include "federation_config.h"
#include "metrics.h"
#include "policy.h"
#include "ratelimit.h"
#include "roles.h"
#include "stream_parser.h"
#include "tls.h"
#include "tls_mint.h"
#include "xmpp_config.h"

struct xmpp_stream;

/* A partner domain's stanza-rate bucket ([xmpp] stanza_rate). */
struct xmpp_partner_rate {
	char *domain;
	struct rate_limit limit;
};
struct xmpp_verification;

/* What one child of sxedge_xmpp_streams_open reads (xmpp_stream.c). */
struct xmpp_streams_gauge {
	const struct xmpp_context *context;
	int kind; /* enum xmpp_stream_kind */
	bool ready;
};
#define XMPP_STREAM_GAUGES 8 /* four kinds, negotiating or ready */

/* The families XMPP counts into (metrics.h); handles into nothing when
 * metrics are off. */
struct xmpp_metrics {
	struct metric_family *streams; /* opened, by kind */
	struct metric_family *refusals; /* streams ended by us, by reason */
	struct metric_family *stanzas; /* relayed, by direction and kind */
	struct metric_family *authentications; /* by method and outcome */
	struct metric_counter *minted;
	struct metric_counter *rate_limited; /* stanzas refused over stanza_rate */
	struct xmpp_streams_gauge streams_open[XMPP_STREAM_GAUGES];
	/* The core's families, with protocol="xmpp", by role. */
	struct metric_family *accepted; /* {protocol, role} */
	struct metric_family *refused; /* {protocol, role, reason} */
};

/* What the streams of one worker take from one configuration snapshot,
 * built whole before anything serves with it: at start, and beside the
 * running one at a reload (xmpp_reload.h). */
struct xmpp_settings {
	const struct sxedge_config *config; /* a reference of its own */
	const struct xmpp_config *xmpp;
	const struct federation_config *federation;
	struct xmpp_limits limits; /* copied into each new stream's parser */
	struct conn_limits conn_limits; /* copied into each new connection */
	/* Held handles; NULL without the listener that needs them.  A
	 * connection holds the ones it was set up with. */
	struct tls_server *public_server; /* xmpp_federation: STARTTLS, tolerant */
	struct tls_server *internal_server; /* xmpp_internal: mints per SNI */
	struct tls_client *public_client; /* towards partners, tolerant */
	struct tls_mint *mint; /* the link CA */
	/* The internal listener's CAs, for the streams the edge opens inward
	 * (read with the rest: the file may be unreadable later). */
	struct tls_client *internal_trust;
	struct sockaddr_storage internal_address; /* [xmpp] internal_server */
	int internal_len; /* 0: none configured */
};

struct xmpp_context {
	struct event_base *base;
	struct xmpp_settings settings;
	char dialback_secret[65]; /* hex: what dialback keys are made with */
	struct dns *dns;
	struct conn_budget budgets[ROLE_COUNT];
	unsigned inbound[ROLE_COUNT]; /* accepted streams open, by role */
	struct xmpp_stream *streams; /* every stream, accepted and opened */
	struct xmpp_verification *verifications; /* dialback keys being checked */
	uint64_t streams_made; /* for stream ids */
	struct event *keepalive; /* every [xmpp] keepalive seconds, when set */
	bool draining;
	/* Buckets of the partner domains seen, at most XMPP_RATES_MAX (the
	 * oldest replaced first: open federation may bring any number). */
	struct xmpp_partner_rate *rates;
	size_t n_rates, next_rate;
	struct xmpp_metrics metrics;
};

/* Builds SETTINGS from CONFIG (taking a reference): the TLS handles from
 * the certificate and key files read now, the link CA from its files, the
 * limits and the internal server's address.  Returns 0, or -1 with one
 * "FILE:LINE: message" line per problem on ERRORS and nothing held. */
int xmpp_settings_build(struct xmpp_settings *settings, const struct sxedge_config *config,
			FILE *errors);
/* Gives back what SETTINGS holds (handles, the snapshot's reference). */
void xmpp_settings_clear(struct xmpp_settings *settings);

/* A reload: CONTEXT's budgets take the caps of CONFIG, for the
 * connections that come next. */
void xmpp_budgets_reloaded(struct xmpp_context *context, const struct sxedge_config *config);

/* Fills CONTEXT from CONFIG, with TLS handles built while the process may
 * still read root's keys.  Returns 0, or -1 with lines on ERRORS. */
int xmpp_context_init(struct xmpp_context *context, struct event_base *base,
		      const struct sxedge_config *config, struct metrics *metrics, FILE *errors);
/* The keep-alive timer of CONTEXT, not yet added (NULL: out of memory). */
struct event *xmpp_keepalive_new(struct xmpp_context *context);
/* The dialback secret as CONTEXT keeps it: SECRET in lower-case hex. */
void xmpp_dialback_secret_hex(const unsigned char secret[32], char hex[65]);

/* Closes every stream and frees what the context holds. */
void xmpp_context_free(struct xmpp_context *context);

/* Policy (policy.h) as XMPP asks it, for DOMAIN: [xmpp] partners are
 * XMPP's own. */
enum policy_verdict xmpp_context_policy(const struct xmpp_context *context, const char *domain);
/* May DOMAIN be a partner (a [xmpp] partner, or any domain with open
 * federation; never ours or blocked)? */
bool xmpp_context_partner_allowed(const struct xmpp_context *context, const char *domain);
/* May one more stanza from partner DOMAIN pass now ([xmpp] stanza_rate)? */
bool xmpp_context_take_stanza(struct xmpp_context *context, const char *domain);

/* Is DOMAIN one of ours ([global] domains)? */
bool xmpp_context_is_ours(const struct xmpp_context *context, const char *domain);

/* A reload committed: the buckets of domains the new policy refuses are
 * dropped, the others go on with the tokens they hold, under the new
 * stanza_rate and stanza_burst (all dropped when the rate is now 0). */
void xmpp_context_rates_reloaded(struct xmpp_context *context);

#endif
