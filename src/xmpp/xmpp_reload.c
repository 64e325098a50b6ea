/* SPDX-License-Identifier: ISC */
/* xmpp_reload: see xmpp_reload.h. */
#include "xmpp_reload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "address.h"
#include "log.h"
#include "xmpp_dialback.h"
#include "xmpp_link.h"
#include "xmpp_stream.h"

struct xmpp_reload {
	struct xmpp_settings settings;
	char dialback_secret[65]; /* empty: the one in use stays */
	struct event *keepalive; /* the new timer, not yet added; NULL: none */
	/* The resolver becomes DNS (NULL: none, without a public listener). */
	bool replace_dns;
	struct dns *dns;
	/* A listener's socket closes: moved elsewhere, or no longer there. */
	bool public_gone, internal_gone;
	/* No listener of the role is left: the edge's streams of that side end too. */
	bool public_removed, internal_removed;
};

static bool same_resolver(const struct federation_config *was, const struct federation_config *is)
{
	if ((was->dns_server_host == NULL) != (is->dns_server_host == NULL))
		return false;
	return was->dns_server_host == NULL ||
	       (strcmp(was->dns_server_host, is->dns_server_host) == 0 &&
		was->dns_server_port == is->dns_server_port);
}

/* Does ROLE's listener of WAS go away with IS?  The worker keeps the
 * socket of one at the same address (however spelt) and port; the role
 * gives the transport. */
static bool listener_gone(const struct sxedge_config *was, const struct sxedge_config *is,
			  unsigned role)
{
	const struct listener_config *before = config_listener(was, role);
	const struct listener_config *after = config_listener(is, role);
	struct sockaddr_storage address_before, address_after;

	if (before == NULL)
		return false;
	if (after == NULL)
		return true;
	int length = address_parse(before->address, before->port, &address_before);
	return length <= 0 ||
	       address_parse(after->address, after->port, &address_after) != length ||
	       memcmp(&address_before, &address_after, (size_t)length) != 0;
}

/* What PENDING still holds (all of it, unless a commit took it). */
static void pending_free(struct xmpp_reload *pending)
{
	xmpp_settings_clear(&pending->settings);
	if (pending->keepalive != NULL)
		event_free(pending->keepalive);
	dns_free(pending->dns);
	OPENSSL_cleanse(pending->dialback_secret, sizeof(pending->dialback_secret));
	free(pending);
}

void xmpp_reload_abort(struct xmpp_reload *pending)
{
	pending_free(pending);
}

struct xmpp_reload *xmpp_reload_prepare(struct xmpp_context *context,
					const struct sxedge_config *config, FILE *errors)
{
	const struct sxedge_config *running = context->settings.config;
	struct xmpp_reload *pending = calloc(1, sizeof(*pending));
	char err[256];

	if (pending == NULL) {
		fprintf(errors, "%s:0: out of memory\n", config->path);
		return NULL;
	}
	if (xmpp_settings_build(&pending->settings, config, errors) < 0) {
		free(pending);
		return NULL;
	}
	const struct xmpp_config *xmpp = pending->settings.xmpp;
	/* A secret of the operator's is taken; a random one is never remade
	 * (keys given out before the reload stay good). */
	if (xmpp->dialback_secret_set)
		xmpp_dialback_secret_hex(xmpp->dialback_secret, pending->dialback_secret);
	if (xmpp->keepalive_s > 0 && (pending->keepalive = xmpp_keepalive_new(context)) == NULL) {
		fprintf(errors, "%s:0: out of memory\n", config->path);
		pending_free(pending);
		return NULL;
	}
	const struct federation_config *federation = pending->settings.federation;
	if (config_listener(config, ROLE_XMPP_FEDERATION) == NULL) {
		pending->replace_dns = context->dns != NULL;
	} else if (context->dns == NULL ||
		   !same_resolver(context->settings.federation, federation)) {
		pending->replace_dns = true;
		pending->dns = dns_new(context->base, federation->dns_server_host,
				       federation->dns_server_port, err, sizeof(err));
		if (pending->dns == NULL) {
			fprintf(errors, "%s:0: [federation] dns_server: %s\n", config->path, err);
			pending_free(pending);
			return NULL;
		}
	}
	pending->public_gone = listener_gone(running, config, ROLE_XMPP_FEDERATION);
	pending->internal_gone = listener_gone(running, config, ROLE_XMPP_INTERNAL);
	pending->public_removed = config_listener(config, ROLE_XMPP_FEDERATION) == NULL;
	pending->internal_removed = config_listener(config, ROLE_XMPP_INTERNAL) == NULL;
	return pending;
}

/* Why the new policy refuses partner DOMAIN, or NULL. */
static const char *partner_refusal(const struct xmpp_context *context, const char *domain)
{
	switch (xmpp_context_policy(context, domain)) {
	case POLICY_OURS:
		return "partner_is_ours";
	case POLICY_BLOCKED:
		return "partner_blocked";
	case POLICY_REFUSED:
		return "partner_removed";
	case POLICY_PARTNER:
	case POLICY_DISCOVER:
		break;
	}
	return NULL;
}

/* Has STREAM's side lost its listener? */
static bool side_gone(const struct xmpp_reload *pending, enum xmpp_stream_kind kind)
{
	switch (kind) {
	case XMPP_IN_PUBLIC:
		return pending->public_gone;
	case XMPP_OUT_PUBLIC:
		return pending->public_removed;
	case XMPP_IN_INTERNAL:
		return pending->internal_gone;
	case XMPP_OUT_INTERNAL:
		return pending->internal_removed;
	}
	return false;
}

static unsigned stream_drop(struct xmpp_stream *stream, enum xmpp_stream_error error,
			    const char *domain, const char *reason)
{
	char quoted[300];
	enum xmpp_stream_kind kind = xmpp_stream_kind(stream);
	uint64_t conn = xmpp_stream_conn_id(stream);

	if (!xmpp_stream_end(stream, error, reason))
		return 0;
	log_event(LOG_LEVEL_NOTICE, "xmpp_stream_dropped",
		  "kind=%s conn=%" PRIu64 " domain=%s reason_code=%s", xmpp_stream_kind_name(kind),
		  conn, domain != NULL ? log_quote(quoted, sizeof(quoted), domain) : "none",
		  reason);
	return 1;
}

/* Ends what the new settings (CONTEXT's now) no longer allow; the count. */
static unsigned streams_drop_refused(struct xmpp_context *context,
				     const struct xmpp_reload *pending)
{
	unsigned dropped = 0;
	struct xmpp_stream *asking;
	const char *domain;

	for (struct xmpp_stream *stream = context->streams; stream != NULL;
	     stream = xmpp_stream_next(stream)) {
		if (side_gone(pending, xmpp_stream_kind(stream))) {
			dropped += stream_drop(stream, XMPP_STREAM_SYSTEM_SHUTDOWN,
					       xmpp_stream_partner(stream, 0), "listener_removed");
			continue;
		}
		const char *reason = NULL;
		for (size_t i = 0;
		     reason == NULL && (domain = xmpp_stream_partner(stream, i)) != NULL; i++)
			reason = partner_refusal(context, domain);
		if (reason != NULL)
			dropped +=
				stream_drop(stream, XMPP_STREAM_POLICY_VIOLATION, domain, reason);
	}
	/* A partner's stream still proving itself by dialback. */
	for (size_t i = 0; xmpp_dialback_pending(context, i, &asking, &domain); i++) {
		const char *reason = partner_refusal(context, domain);
		if (reason != NULL)
			dropped +=
				stream_drop(asking, XMPP_STREAM_POLICY_VIOLATION, domain, reason);
	}
	return dropped;
}

void xmpp_reload_commit(struct xmpp_context *context, struct xmpp_reload *pending)
{
	struct xmpp_settings running = context->settings;

	context->settings = pending->settings;
	xmpp_budgets_reloaded(context, context->settings.config);
	if (pending->dialback_secret[0] != '\0')
		memcpy(context->dialback_secret, pending->dialback_secret,
		       sizeof(context->dialback_secret));
	unsigned dropped = streams_drop_refused(context, pending);
	/* Only once the streams dropped gave up their look-ups on it. */
	if (pending->replace_dns) {
		struct dns *old = context->dns;
		context->dns = pending->dns;
		if (context->dns != NULL)
			xmpp_streams_resolver_replaced(context);
		dns_free(old);
		pending->dns = NULL;
	}
	xmpp_context_rates_reloaded(context);
	if (context->keepalive != NULL)
		event_free(context->keepalive);
	context->keepalive = pending->keepalive;
	pending->keepalive = NULL;
	if (context->keepalive != NULL) {
		struct timeval every = { .tv_sec = context->settings.xmpp->keepalive_s };
		if (event_add(context->keepalive, &every) < 0)
			log_event(LOG_LEVEL_WARNING, "xmpp_keepalive_off", "reason=out_of_memory");
	}
	xmpp_link_serve(context);
	xmpp_settings_clear(&running);
	memset(&pending->settings, 0, sizeof(pending->settings));
	log_event(LOG_LEVEL_NOTICE, "xmpp_reloaded", "partners=%zu streams_dropped=%u",
		  context->settings.xmpp->n_partners, dropped);
	pending_free(pending);
}
