/* SPDX-License-Identifier: ISC */
/* xmpp_dialback: see xmpp_dialback.h.  One record per key being verified,
 * in the context's list, with its own timer: the deadline, and the way a
 * verdict known at once still reaches the receiver from the event loop
 * rather than from inside the receiver's own call. */
#include "xmpp_dialback.h"

#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "s2s_initiator.h"
#include "xmpp_stream.h"

struct xmpp_verification {
	struct xmpp_context *context;
	struct xmpp_stream *asking; /* the in_public stream awaiting the verdict */
	struct xmpp_stream *via; /* the out_public stream asked on; NULL: none */
	char local[JID_DOMAIN_MAX + 1];
	char remote[JID_DOMAIN_MAX + 1];
	char *stream_id;
	char *key;
	struct event *timer;
	const char *outcome; /* set once the verdict is known: "valid", "invalid"... */
	struct xmpp_verification *next;
};

static void verification_free(struct xmpp_verification *verification)
{
	struct xmpp_verification **link = &verification->context->verifications;
	while (*link != verification)
		link = &(*link)->next;
	*link = verification->next;
	if (verification->timer != NULL)
		event_free(verification->timer);
	free(verification->stream_id);
	free(verification->key);
	free(verification);
}

/* Gives the verdict and forgets the verification. */
static void verification_end(struct xmpp_verification *verification, const char *outcome)
{
	struct xmpp_stream *asking = verification->asking;
	char local[JID_DOMAIN_MAX + 1], remote[JID_DOMAIN_MAX + 1];
	memcpy(local, verification->local, sizeof(local));
	memcpy(remote, verification->remote, sizeof(remote));
	verification_free(verification);
	xmpp_stream_dialback_verdict(asking, local, remote, outcome);
}

/* The deadline, or a verdict known before the stream could be asked. */
static void verification_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct xmpp_verification *verification = arg;
	(void)fd;
	(void)what;
	verification_end(verification,
			 verification->outcome != NULL ? verification->outcome : "timeout");
}

/* Ends VERIFICATION with OUTCOME (invalid) from the event loop. */
static void verification_end_soon(struct xmpp_verification *verification, const char *outcome)
{
	const struct timeval now = { 0, 0 };
	verification->outcome = outcome;
	verification->via = NULL;
	evtimer_add(verification->timer, &now);
}

void xmpp_dialback_verify(struct xmpp_context *context, struct xmpp_stream *asking,
			  const char *local, const char *remote, const char *key,
			  const char *stream_id)
{
	struct xmpp_verification *verification = calloc(1, sizeof(*verification));
	if (verification == NULL) {
		xmpp_stream_fail(asking, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return;
	}
	verification->context = context;
	verification->asking = asking;
	snprintf(verification->local, sizeof(verification->local), "%s", local);
	snprintf(verification->remote, sizeof(verification->remote), "%s", remote);
	verification->stream_id = strdup(stream_id);
	verification->key = strdup(key);
	verification->timer = evtimer_new(context->base, verification_on_timer, verification);
	verification->next = context->verifications;
	context->verifications = verification;
	const struct timeval limit = { .tv_sec = context->settings.federation->connect_timeout_s };
	if (verification->stream_id == NULL || verification->key == NULL ||
	    verification->timer == NULL || evtimer_add(verification->timer, &limit) < 0) {
		verification_free(verification);
		xmpp_stream_fail(asking, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
		return;
	}
	/* XEP-0220 §2.4: over the stream already there, ready or not. */
	struct xmpp_stream *via = xmpp_stream_find(context, XMPP_OUT_PUBLIC, local, remote);
	if (via == NULL)
		via = xmpp_stream_open(context, XMPP_OUT_PUBLIC, local, remote);
	if (via == NULL) {
		verification_end_soon(verification, "unreachable");
		return;
	}
	verification->via = via;
	if (!xmpp_stream_ask_verify(via, stream_id, key))
		verification_end_soon(verification, "refused");
}

void xmpp_dialback_machine_new(struct xmpp_context *context, struct xmpp_stream *via)
{
	for (struct xmpp_verification *verification = context->verifications; verification != NULL;
	     verification = verification->next) {
		if (verification->via == via && verification->outcome == NULL &&
		    !xmpp_stream_ask_verify(via, verification->stream_id, verification->key))
			verification_end_soon(verification, "refused");
	}
}

void xmpp_dialback_answer(struct xmpp_context *context, struct xmpp_stream *via, const char *id,
			  bool valid)
{
	for (struct xmpp_verification *verification = context->verifications; verification != NULL;
	     verification = verification->next) {
		if (verification->via == via && strcmp(verification->stream_id, id) == 0) {
			verification_end(verification, valid ? "valid" : "invalid");
			return;
		}
	}
}

void xmpp_dialback_stream_gone(struct xmpp_context *context, struct xmpp_stream *stream)
{
	struct xmpp_verification *verification = context->verifications;
	while (verification != NULL) {
		struct xmpp_verification *next = verification->next;
		if (verification->asking == stream)
			verification_free(verification);
		else if (verification->via == stream)
			verification_end_soon(verification, "unreachable");
		verification = next;
	}
}

bool xmpp_dialback_pending(const struct xmpp_context *context, size_t index,
			   struct xmpp_stream **asking, const char **remote)
{
	const struct xmpp_verification *verification = context->verifications;
	while (verification != NULL && index-- > 0)
		verification = verification->next;
	if (verification == NULL)
		return false;
	*asking = verification->asking;
	*remote = verification->remote;
	return true;
}

void xmpp_dialback_clear(struct xmpp_context *context)
{
	while (context->verifications != NULL)
		verification_free(context->verifications);
}
