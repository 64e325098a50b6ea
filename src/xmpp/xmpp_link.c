/* SPDX-License-Identifier: ISC */
/* xmpp_link: see xmpp_link.h. */
#include "xmpp_link.h"

#include <inttypes.h>
#include <time.h>

#include "jid.h"
#include "log.h"
#include "xmpp_stream.h"

/* Why the link CA will not sign for SERVER_NAME (NULL: it will, for the
 * DOMAIN it names). */
static const char *link_refusal(const struct xmpp_context *context, const char *server_name,
				char domain[JID_DOMAIN_MAX + 1])
{
	if (server_name == NULL)
		return "no_server_name";
	if (!jid_domain(server_name, domain))
		return "server_name_invalid";
	/* The internal server would trust the edge as itself. */
	if (xmpp_context_is_ours(context, domain))
		return "our_domain";
	if (!xmpp_context_partner_allowed(context, domain))
		return "domain_not_federated";
	if (!xmpp_streams_partner_proven(context, domain))
		return "partner_not_authenticated";
	return NULL;
}

bool xmpp_link_may_start(struct xmpp_context *context, const char *server_name)
{
	const char *local = context->settings.config->domains[0];

	if (*server_name == '\0' || xmpp_context_is_ours(context, server_name) ||
	    !xmpp_context_partner_allowed(context, server_name) ||
	    xmpp_streams_partner_proven(context, server_name))
		return true;
	/* Ours on that stream is any of our domains: what is proven is the
	 * partner's. */
	if (xmpp_stream_find(context, XMPP_OUT_PUBLIC, local, server_name) != NULL)
		return false;
	/* None can be opened (a drain, memory): the chooser refuses at once. */
	return xmpp_stream_open(context, XMPP_OUT_PUBLIC, local, server_name) == NULL;
}

/* The chooser of the internal listener: HANDSHAKE is the stream. */
static enum tls_certificate_choice link_choose(void *arg, void *handshake, const char *server_name,
					       const struct tls_identity **identity)
{
	struct xmpp_context *context = arg;
	struct xmpp_stream *stream = handshake;
	char domain[JID_DOMAIN_MAX + 1];
	char quoted[300];
	struct tls_minted minted;

	const char *refusal = link_refusal(context, server_name, domain);
	if (refusal == NULL &&
	    tls_mint_identity(context->settings.mint, domain, time(NULL), &minted) < 0)
		refusal = "mint_failed";
	if (refusal != NULL) {
		const char *const values[] = { refusal, NULL };
		metric_counter_add(metric_counter(context->metrics.refusals, values), 1);
		log_event(LOG_LEVEL_NOTICE, "xmpp_mint_refused",
			  "conn=%" PRIu64 " peer=%s domain=%s reason_code=%s",
			  xmpp_stream_conn_id(stream), xmpp_stream_peer(stream),
			  server_name != NULL ? log_quote(quoted, sizeof(quoted), server_name)
					      : "none",
			  refusal);
		return TLS_CERTIFICATE_REFUSED;
	}
	if (minted.fresh) {
		log_event(LOG_LEVEL_NOTICE, "xmpp_minted",
			  "conn=%" PRIu64 " domain=%s serial=%s not_before=%lld not_after=%lld",
			  xmpp_stream_conn_id(stream), domain, minted.serial,
			  (long long)minted.not_before, (long long)minted.not_after);
		metric_counter_add(context->metrics.minted, 1);
	}
	*identity = minted.identity;
	return TLS_CERTIFICATE_CHOSEN;
}

void xmpp_link_serve(struct xmpp_context *context)
{
	if (context->settings.internal_server != NULL)
		tls_server_choose_certificate(context->settings.internal_server, link_choose,
					      context);
}
