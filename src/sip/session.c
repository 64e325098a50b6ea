/* SPDX-License-Identifier: ISC */
/* session: the SIP pipeline of one connection (docs/design.md §3):
 * bytes in -> framing -> parse -> check and route -> rewrite -> bytes out.
 *
 * Each step is its own module; this file only sequences them, answers
 * locally where they say so, and logs every refusal with the peer it came
 * from.  A session never touches sockets or OpenSSL: it sees its conn. */
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "federation.h"
#include "link.h"
#include "log.h"
#include "message.h"
#include "partner_policy.h"
#include "partner_targets.h"
#include "pool.h"
#include "reason.h"
#include "relay.h"
#include "rewrite.h"
#include "tls.h"

#define SESSION_BOUND_MAX 4 /* partner domains one connection may speak for */

struct sip_session {
	struct sip_context *context;
	/* The snapshot the connection was accepted (or made) under: a reload
	 * gives the worker a new one, and this one lives on until the
	 * connection ends. */
	const struct sxedge_config *config;
	/* Its framing limits, from that snapshot: a reload does not change
	 * what a connection already open may send. */
	struct sip_frame_limits frame_limits;
	struct conn *conn;
	enum listener_role role;
	bool inbound;
	struct event *message_timer; /* a started message must complete in time */
	struct sip_session *prev, *next; /* the context's inbound sessions */
	/* Framing scans from the start of the input, so it runs again only when
	 * its answer can have changed: the input reached frame_wait bytes, or
	 * (while the header block is incomplete) a blank line may have arrived
	 * after the first `scanned` bytes.  This keeps a peer that trickles
	 * bytes from making the edge rescan the same header block each time. */
	size_t frame_wait;
	size_t scanned;
	bool awaiting_body;
	/* Open federation: while the edges of a From domain are looked up, its
	 * request waits here and reading stops, so requests keep their order. */
	struct sip_message *waiting;
	struct dns_query *discovery;
	char *discovered_domain;
	char **discovered; /* its SRV targets that lie inside it */
	size_t n_discovered;
	/* Federation: the partner domains this connection's certificate was
	 * found to speak for, so requests to them can reuse it (RFC 5923). */
	char *bound[SESSION_BOUND_MAX];
	size_t n_bound;
	/* Federation: the [partner] section whose rate limit its traffic
	 * counts against (NULL: none known, or a discovered domain), in the
	 * worker's current snapshot (a reload points it at the new one). */
	const struct partner_config *partner;
	bool speaks_for_partner; /* an outbound link, or a domain was bound */
	struct sip_link *link; /* the outbound link it runs on, or NULL */
};

/* ---- logging ---- */

static void session_log(const struct sip_session *session, enum log_level level, const char *event,
			const char *what, const char *reason)
{
	char quoted[300];
	log_event(level, event, "role=%s conn=%" PRIu64 " peer=%s %sreason=%s",
		  role_name(session->role), conn_id(session->conn), conn_peer(session->conn), what,
		  log_quote(quoted, sizeof(quoted), reason));
}

/* A dropped message, logged and counted with the name of its reason. */
static void session_drop(const struct sip_session *session, enum log_level level,
			 enum sip_reason reason, const char *phrase)
{
	char quoted[300];
	sip_metrics_dropped(&session->context->metrics, session->role, reason);
	log_event(level, "sip_drop", "role=%s conn=%" PRIu64 " peer=%s reason=%s reason_code=%s",
		  role_name(session->role), conn_id(session->conn), conn_peer(session->conn),
		  log_quote(quoted, sizeof(quoted),
			    phrase != NULL ? phrase : sip_reason_phrase(reason)),
		  sip_reason_name(reason));
}

/* ---- answering ---- */

/* Closes a stream that cannot be cut into messages, for REASON (PHRASE,
 * when not NULL, says more). */
static void session_fail(struct sip_session *session, enum sip_reason reason, const char *phrase)
{
	char quoted[300];
	if (phrase == NULL)
		phrase = sip_reason_phrase(reason);
	sip_metrics_dropped(&session->context->metrics, session->role, reason);
	log_event(LOG_LEVEL_NOTICE, "framing_error",
		  "role=%s conn=%" PRIu64 " peer=%s reason=%s reason_code=%s",
		  role_name(session->role), conn_id(session->conn), conn_peer(session->conn),
		  log_quote(quoted, sizeof(quoted), phrase), sip_reason_name(reason));
	conn_close(session->conn, CONN_CLOSE_LOCAL, phrase);
}

/* Answers REQUEST with STATUS and REASON's phrase (or PHRASE when not NULL). */
static void session_reply(struct sip_session *session, const struct sip_message *request,
			  int status, enum sip_reason reason, const char *phrase, const char *extra)
{
	/* Without Via, From, To, Call-ID and CSeq no response can be matched:
	 * a peer sending such requests is not speaking SIP. */
	if (sip_answer_request(session->context, conn_id(session->conn), session->role, request,
			       status, reason, phrase, extra) < 0)
		session_fail(session, SIP_REASON_UNANSWERABLE_REQUEST, NULL);
}

/* Answers a request the relay could not pass on (RESULT). */
static void session_relay_failed(struct sip_session *session, const struct sip_message *request,
				 enum sip_relay_result result, enum listener_role target_role)
{
	switch (result) {
	case SIP_RELAY_OK:
		break;
	case SIP_RELAY_FAILED:
		session_reply(session, request, 500, SIP_REASON_CANNOT_RELAY, NULL, NULL);
		break;
	case SIP_RELAY_BUSY:
		session_reply(session, request, 503,
			      target_role == ROLE_INTERNAL ? SIP_REASON_POOL_BUSY
							   : SIP_REASON_PARTNER_BUSY,
			      NULL, "Retry-After: 1\r\n");
		break;
	}
}

static void session_relay(struct sip_session *session, const struct sip_message *request,
			  const struct sip_decision *decision, struct conn *target)
{
	enum listener_role target_role = sip_conn_role(target);
	session_relay_failed(session, request,
			     sip_relay_request(session->context, conn_id(session->conn),
					       session->role, request, decision, target,
					       target_role, NULL),
			     target_role);
}

/* ---- requests ---- */

static void session_peer(const struct sip_session *session, struct sip_peer *peer)
{
	memset(peer, 0, sizeof(*peer));
	peer->role = session->role;
	peer->names = conn_peer_names(session->conn, &peer->n_names);
	peer->fingerprint = conn_peer_fingerprint(session->conn);
	peer->discovered_domain = session->discovered_domain;
	peer->discovered = session->discovered;
	peer->n_discovered = session->n_discovered;
}

/* Takes one message from PARTNER's rate limit; false, with the seconds
 * until the next one in *RETRY_AFTER, when it is over its rate. */
static bool session_partner_take(struct sip_session *session, const struct partner_config *partner,
				 unsigned *retry_after)
{
	struct sip_context *context = session->context;

	if (partner == NULL)
		return true;
	struct rate_limit *limit = &context->partner_limits[partner - context->sip->partners];
	return rate_limit_take(limit, sip_context_now_ms(context), retry_after);
}

/* A partner over its message rate gets 503 with the time a token frees up. */
static bool session_within_rate(struct sip_session *session, const struct sip_message *request,
				const struct partner_config *partner)
{
	unsigned retry_after;
	char extra[48];

	if (session_partner_take(session, partner, &retry_after))
		return true;
	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", retry_after);
	session_reply(session, request, 503, SIP_REASON_PARTNER_RATE_LIMIT, NULL, extra);
	return false;
}

/* An accepted connection whose certificate spoke for DOMAIN can carry our
 * requests to it: the context's index finds it. */
static void session_remember_binding(struct sip_session *session, const char *domain)
{
	if (!session->inbound)
		return;
	for (size_t i = 0; i < session->n_bound; i++)
		if (strcasecmp(session->bound[i], domain) == 0)
			return;
	if (session->n_bound >= SESSION_BOUND_MAX)
		return;
	char *copy = strdup(domain);
	if (copy == NULL || domain_index_add(&session->context->bound, copy, session->conn) < 0) {
		free(copy);
		return;
	}
	session->bound[session->n_bound++] = copy;
}

static void session_to_pool(struct sip_session *session, const struct sip_message *request,
			    const struct sip_decision *decision)
{
	struct sip_context *context = session->context;
	char retry_after[48];

	if (session->role == ROLE_FEDERATION) {
		if (!session_within_rate(session, request, decision->partner))
			return;
		if (decision->domain != NULL)
			session_remember_binding(session, decision->domain);
		session->speaks_for_partner = true;
		if (session->partner == NULL)
			session->partner = decision->partner;
	}
	struct sip_link *link = sip_pool_pick(context->pool);
	if (link == NULL) {
		/* The time until a link to the pool is tried again. */
		snprintf(retry_after, sizeof(retry_after), "Retry-After: %u\r\n",
			 sip_pool_retry_after(context->pool));
		session_reply(session, request, 503, SIP_REASON_POOL_UNAVAILABLE, NULL,
			      retry_after);
		return;
	}
	session_relay_failed(
		session, request,
		sip_link_relay(link, conn_id(session->conn), session->role, request, decision),
		ROLE_INTERNAL);
}

static void session_discover(struct sip_session *session, struct sip_message *request,
			     const char *domain);

/* Routes REQUEST, which it takes over. */
static void session_route(struct sip_session *session, struct sip_message *request)
{
	struct sip_context *context = session->context;
	struct sip_decision decision;
	struct sip_peer peer;
	struct conn *target;

	if (request->refusal != NULL) {
		session_reply(session, request, 400, SIP_REASON_MALFORMED_REQUEST, request->refusal,
			      NULL);
		sip_message_free(request);
		return;
	}
	session_peer(session, &peer);
	sip_route_request(request->osip, &peer, &context->edge, &decision);
	/* Routing only ever answers to refuse: a request it sends on has passed
	 * every check, which is what ends a connection's probation. */
	if (decision.action == SIP_ACTION_TO_POOL || decision.action == SIP_ACTION_TO_CONN ||
	    decision.action == SIP_ACTION_TO_PARTNER)
		conn_end_probation(session->conn);
	switch (decision.action) {
	case SIP_ACTION_REPLY:
		session_reply(session, request, decision.status, decision.code, decision.reason,
			      NULL);
		break;
	case SIP_ACTION_DROP:
		session_drop(session, LOG_LEVEL_INFO, decision.code, decision.reason);
		break;
	case SIP_ACTION_DISCOVER:
		session_discover(session, request, decision.domain);
		return;
	case SIP_ACTION_TO_POOL:
		session_to_pool(session, request, &decision);
		break;
	case SIP_ACTION_TO_CONN:
		target = conn_find(decision.conn_id);
		if (target != NULL && conn_ready(target) && sip_conn_is_external(target)) {
			session_relay(session, request, &decision, target);
			break;
		}
		sip_route_flow_gone(&decision);
		if (decision.action == SIP_ACTION_REPLY) {
			session_reply(session, request, decision.status, decision.code,
				      decision.reason, NULL);
			break;
		}
		/* TO_PARTNER */
		/* fall through */
	case SIP_ACTION_TO_PARTNER:
		sip_federation_relay(context->federation, conn_id(session->conn), request,
				     &decision);
		return;
	}
	sip_message_free(request);
}

/* ---- open federation: finding a domain's edges ---- */

static void session_forget_discovery(struct sip_session *session)
{
	for (size_t i = 0; i < session->n_discovered; i++)
		free(session->discovered[i]);
	free(session->discovered);
	free(session->discovered_domain);
	session->discovered = NULL;
	session->n_discovered = 0;
	session->discovered_domain = NULL;
}

static void session_on_discovered(void *arg, enum dns_status status,
				  const struct dns_target *targets, size_t n)
{
	struct sip_session *session = arg;
	struct sip_message *request = session->waiting;
	struct partner_targets found = { 0 };

	session->discovery = NULL;
	session->waiting = NULL;
	/* The same targets our own link to the domain would trust. */
	if (status == DNS_OK)
		partner_targets_from_srv(
			session->discovered_domain,
			sip_config_partner(session->context->sip, session->discovered_domain),
			targets, n, &found);
	session->discovered = calloc(found.n ? found.n : 1, sizeof(*session->discovered));
	for (size_t i = 0; session->discovered != NULL && i < found.n; i++) {
		session->discovered[session->n_discovered++] = found.targets[i].host;
		found.targets[i].host = NULL;
	}
	partner_targets_clear(&found);
	/* With no edges found, the binding check refuses the request. */
	session_route(session, request);
	conn_set_reading(session->conn, true);
}

static void session_discover(struct sip_session *session, struct sip_message *request,
			     const char *domain)
{
	char name[300];

	session_forget_discovery(session);
	session->discovered_domain = strdup(domain);
	snprintf(name, sizeof(name), "%s%s", PARTNER_SRV_PREFIX, domain);
	if (session->discovered_domain == NULL || session->context->dns == NULL) {
		session_reply(session, request, 500, SIP_REASON_CANNOT_LOOK_UP_DOMAIN, NULL, NULL);
		sip_message_free(request);
		return;
	}
	session->waiting = request;
	conn_set_reading(session->conn, false);
	session->discovery =
		dns_resolve_srv(session->context->dns, name, session_on_discovered, session);
	if (session->discovery == NULL)
		session_on_discovered(session, DNS_FAILED, NULL, 0);
}

/* ---- responses ---- */

static void session_on_response(struct sip_session *session, const struct sip_message *response)
{
	struct sip_context *context = session->context;
	struct sip_decision decision;
	size_t len;

	if (response->refusal != NULL) {
		session_drop(session, LOG_LEVEL_INFO, SIP_REASON_MALFORMED_RESPONSE,
			     response->refusal);
		return;
	}
	/* A final answer over an outbound link ends its request's wait there. */
	if (session->link != NULL)
		sip_link_on_response(session->link, response);
	/* Our requests reach a partner over its link or over its own
	 * connection once that proved a domain: a response on any other
	 * federation connection answers nothing we sent there.  And a
	 * partner's responses count against its rate, like its requests, so
	 * that one seen response cannot be replayed at line rate. */
	unsigned retry_after;
	if (session->role == ROLE_FEDERATION && !session->speaks_for_partner) {
		session_drop(session, LOG_LEVEL_INFO, SIP_REASON_RESPONSE_ON_UNBOUND, NULL);
		return;
	}
	if (session->role == ROLE_FEDERATION &&
	    !session_partner_take(session, session->partner, &retry_after)) {
		session_drop(session, LOG_LEVEL_INFO, SIP_REASON_PARTNER_RATE_LIMIT_RESPONSE, NULL);
		return;
	}
	sip_route_response(response->osip, session->role, &context->edge,
			   sip_context_now_ms(context) / 1000, &decision);
	if (decision.action != SIP_ACTION_TO_CONN) {
		session_drop(session, LOG_LEVEL_INFO, decision.code, decision.reason);
		return;
	}
	struct conn *target = conn_find(decision.conn_id);
	enum listener_role target_role = ROLE_INTERNAL;
	switch (sip_route_response_target(&decision, target != NULL && conn_ready(target),
					  target != NULL ? sip_conn_role(target) : ROLE_INTERNAL)) {
	case SIP_RESPONSE_TO_CONN:
		target_role = sip_conn_role(target);
		break;
	case SIP_RESPONSE_TO_POOL: {
		struct sip_link *link = sip_pool_pick(context->pool);
		target = link != NULL ? link->conn : NULL;
		break;
	}
	case SIP_RESPONSE_DROP:
		target = NULL;
		break;
	}
	if (target == NULL) {
		session_drop(session, LOG_LEVEL_INFO, SIP_REASON_CONNECTION_GONE, NULL);
		return;
	}
	char *data = sip_response_forward(response, &len);
	if (data == NULL) {
		session_drop(session, LOG_LEVEL_INFO, SIP_REASON_CANNOT_REMOVE_VIA, NULL);
		return;
	}
	switch (sip_send(context, target, target_role, data, len)) {
	case SIP_RELAY_OK:
		sip_metrics_response_relayed(&context->metrics, session->role,
					     osip_message_get_cseq(response->osip)->method);
		break;
	case SIP_RELAY_BUSY:
		session_drop(session, LOG_LEVEL_WARNING, SIP_REASON_NEXT_HOP_BUSY, NULL);
		break;
	case SIP_RELAY_FAILED:
		session_drop(session, LOG_LEVEL_WARNING, SIP_REASON_NEXT_HOP_FAILED, NULL);
		break;
	}
	free(data);
}

/* ---- framing ---- */

/* Answers a message whose framing failed but whose header block is whole,
 * when it is a request; the stream is closed by the caller if need be. */
static void session_refuse_block(struct sip_session *session, const char *data, size_t len,
				 int status, enum sip_reason reason)
{
	struct sip_message *message = sip_message_read(data, len);
	if (message != NULL && MSG_IS_REQUEST(message->osip))
		session_reply(session, message, status, reason, NULL, NULL);
	sip_message_free(message);
}

static void session_on_message(struct sip_session *session, const char *data, size_t len)
{
	struct sip_message *message = sip_message_read(data, len);
	if (message == NULL) {
		session_fail(session, SIP_REASON_UNPARSEABLE_MESSAGE, NULL);
		return;
	}
	if (MSG_IS_REQUEST(message->osip)) {
		session_route(session, message);
		return;
	}
	session_on_response(session, message);
	sip_message_free(message);
}

static void session_wait_for_more(struct sip_session *session, size_t len, size_t wait_for)
{
	size_t max = session->frame_limits.max_message;
	session->awaiting_body = wait_for > 0;
	session->frame_wait = wait_for > 0 ? wait_for : (len * 2 < max ? len * 2 : max);
	session->scanned = len;
}

/* Could a blank line (the end of a header block) be among the bytes that
 * came after the first SCANNED ones? */
static bool session_header_end_after(struct evbuffer *input, size_t scanned)
{
	struct evbuffer_ptr from;
	static const char *const ends[] = { "\n\n", "\n\r\n" };

	for (size_t i = 0; i < 2; i++) {
		evbuffer_ptr_set(input, &from, scanned > 3 ? scanned - 3 : 0, EVBUFFER_PTR_SET);
		if (evbuffer_search_range(input, ends[i], strlen(ends[i]), &from, NULL).pos >= 0)
			return true;
	}
	return false;
}

static bool session_should_frame(struct sip_session *session, struct evbuffer *input, size_t len)
{
	if (session->frame_wait == 0 || len >= session->frame_wait)
		return true;
	return !session->awaiting_body && session_header_end_after(input, session->scanned);
}

/* Handles one framing result.  Returns the bytes to consume, or 0 to stop
 * reading (more bytes needed, or the stream was closed). */
static size_t session_on_frame(struct sip_session *session, const char *data, size_t len)
{
	struct sip_frame frame;
	switch (sip_frame_next(data, len, &session->frame_limits, &frame)) {
	case SIP_FRAME_NEED_MORE:
		session_wait_for_more(session, len, frame.wait_for);
		return 0;
	case SIP_FRAME_PING:
		conn_write(session->conn, "\r\n", 2);
		return frame.total;
	case SIP_FRAME_SKIP:
		return frame.total;
	case SIP_FRAME_MESSAGE:
		session_on_message(session, data, frame.total);
		return frame.total;
	case SIP_FRAME_TOO_MANY_HEADERS:
		session_refuse_block(session, data, frame.total, 513, SIP_REASON_TOO_MANY_HEADERS);
		return frame.total;
	case SIP_FRAME_TOO_LARGE:
		session_refuse_block(session, data, frame.header_len, 513,
				     SIP_REASON_MESSAGE_TOO_LARGE);
		session_fail(session, SIP_REASON_STREAM_TOO_LARGE, NULL);
		return 0;
	case SIP_FRAME_BAD_LENGTH:
		session_refuse_block(session, data, frame.header_len, 400,
				     SIP_REASON_BAD_CONTENT_LENGTH);
		session_fail(session, SIP_REASON_STREAM_BAD_CONTENT_LENGTH, NULL);
		return 0;
	case SIP_FRAME_LINE_TOO_LONG:
		session_fail(session, SIP_REASON_LINE_TOO_LONG, NULL);
		return 0;
	case SIP_FRAME_HEADER_TOO_LARGE:
		session_fail(session, SIP_REASON_HEADER_TOO_LARGE, NULL);
		return 0;
	case SIP_FRAME_MALFORMED:
		session_fail(session, SIP_REASON_MALFORMED_STREAM, frame.reason);
		return 0;
	}
	return 0;
}

static void session_on_data(struct sip_session *session)
{
	struct evbuffer *input = conn_input(session->conn);
	size_t max = session->frame_limits.max_message;

	bool progressed = false;

	/* Not reading: a link asked its intake to wait (link.h), or a domain
	 * is being looked up; what is buffered waits with it. */
	while (conn_ready(session->conn) && conn_reading(session->conn) &&
	       session->waiting == NULL && evbuffer_get_length(input) > 0) {
		size_t len = evbuffer_get_length(input);
		if (len > max)
			len = max;
		if (!session_should_frame(session, input, len))
			break;
		const char *data = (const char *)evbuffer_pullup(input, (ev_ssize_t)len);
		size_t used = session_on_frame(session, data, len);
		if (used == 0)
			break;
		evbuffer_drain(input, used);
		session->frame_wait = 0;
		progressed = true;
	}
	/* The timer runs from the first byte of a message to its last. */
	if (evbuffer_get_length(input) == 0 || !conn_ready(session->conn) ||
	    !conn_reading(session->conn) || session->waiting != NULL) {
		event_del(session->message_timer);
	} else if (progressed || !evtimer_pending(session->message_timer, NULL)) {
		struct timeval limit = { .tv_sec = session->config->limits.message_timeout_s };
		evtimer_add(session->message_timer, &limit);
	}
}

static void session_on_message_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sip_session *session = arg;
	(void)fd;
	(void)what;
	session_fail(session, SIP_REASON_MESSAGE_TIMEOUT, NULL);
}

/* ---- life cycle ---- */

static void session_free(struct sip_session *session)
{
	if (session->inbound) {
		session->context->inbound[session->role]--;
		if (session->prev != NULL)
			session->prev->next = session->next;
		else
			session->context->sessions = session->next;
		if (session->next != NULL)
			session->next->prev = session->prev;
	}
	dns_cancel(session->discovery);
	sip_message_free(session->waiting);
	session_forget_discovery(session);
	for (size_t i = 0; i < session->n_bound; i++) {
		domain_index_remove(&session->context->bound, session->bound[i], session->conn);
		free(session->bound[i]);
	}
	event_free(session->message_timer);
	config_unref(session->config);
	free(session);
}

static void session_on_closed(struct sip_session *session)
{
	struct conn *conn = session->conn;
	char reason[300], subject[300] = "", quoted[300], close[64];
	const char *name = conn_close_reason_name(conn_close_reason(conn));

	if (!session->inbound) {
		/* outbound links are logged by their owner (pool_down) */
	} else if (!conn_secure(conn)) {
		/* the handshake failed, was refused or never finished */
		if (conn_peer_subject(conn) != NULL)
			snprintf(subject, sizeof(subject), " subject=%s",
				 log_quote(quoted, sizeof(quoted), conn_peer_subject(conn)));
		log_event(LOG_LEVEL_NOTICE, "tls_refused",
			  "role=%s peer=%s reason=%s%s close=%s failure=%s",
			  role_name(session->role), conn_peer(conn),
			  log_quote(reason, sizeof(reason), conn_close_detail(conn)), subject, name,
			  tls_failure_name(conn_tls_failure(conn)));
	} else {
		snprintf(close, sizeof(close), "close=%s ", name);
		session_log(session, LOG_LEVEL_INFO, "conn_close", close, conn_close_detail(conn));
	}
	if (session->inbound)
		sip_metrics_closed(&session->context->metrics, session->role,
				   conn_close_reason(conn), conn_tls_failure(conn));
	session_free(session);
}

void sip_session_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct sip_session *session = arg;
	(void)conn; /* the session's own */

	switch (event) {
	case CONN_EVENT_TLS_READY:
		if (session->inbound)
			session_log(session, LOG_LEVEL_INFO, "conn_open", "", "handshake done");
		break;
	case CONN_EVENT_DATA:
		session_on_data(session);
		break;
	case CONN_EVENT_CONNECTED:
		break; /* accepted, or TLS: never plain outbound */
	case CONN_EVENT_DRAINED:
		break; /* SIP sets no low-water mark: relay checks the room before each write */
	case CONN_EVENT_CLOSED:
		session_on_closed(session);
		break;
	}
}

static struct sip_session *session_new(struct sip_context *context, enum listener_role role)
{
	struct sip_session *session = calloc(1, sizeof(*session));
	if (session == NULL)
		return NULL;
	session->context = context;
	session->role = role;
	session->message_timer = evtimer_new(context->base, session_on_message_timeout, session);
	if (session->message_timer == NULL) {
		free(session);
		return NULL;
	}
	session->config = config_ref(context->config);
	session->frame_limits = context->frame_limits;
	return session;
}

/* Room in ROLE's budget for a connection from PEER (conn_admit); false
 * when it is refused, counted by its reason. */
static bool session_admit(struct sip_context *context, enum listener_role role,
			  const struct sockaddr *peer)
{
	enum conn_budget_verdict verdict = conn_admit(&context->budgets[role], peer);
	if (verdict == CONN_BUDGET_ADMIT)
		return true;
	sip_metrics_refused(&context->metrics, role, verdict);
	return false;
}

void sip_session_accept(struct sip_context *context, enum listener_role role,
			struct tls_server *server, evutil_socket_t fd, const struct sockaddr *peer,
			int peer_len)
{
	if (!session_admit(context, role, peer)) {
		evutil_closesocket(fd);
		return;
	}
	struct sip_session *session = session_new(context, role);
	if (session == NULL) {
		evutil_closesocket(fd);
		return;
	}
	session->inbound = true;
	context->inbound[role]++;
	session->next = context->sessions;
	if (session->next != NULL)
		session->next->prev = session;
	context->sessions = session;
	/* The pool is known by its certificate; outsiders by their requests. */
	struct conn_limits limits = context->conn_limits;
	limits.first_request_timeout_s = context->config->limits.first_request_timeout_s;
	limits.proven_by_handshake = role == ROLE_INTERNAL;
	const struct conn_owner owner = {
		.protocol = CONN_PROTOCOL_SIP,
		.role = (int)role,
		.callback = sip_session_on_event,
		.arg = session,
	};
	session->conn = conn_accept(context->base, fd, peer, peer_len, server, &limits, &owner);
	if (session->conn == NULL) {
		session_free(session);
		return;
	}
	conn_set_shed_rank(session->conn, role == ROLE_INTERNAL ? CONN_SHED_LAST : CONN_SHED_FIRST);
	if (conn_join_budget(session->conn, &context->budgets[role], peer) < 0) {
		conn_free(session->conn);
		session_free(session);
		return;
	}
	sip_metrics_accepted(&context->metrics, role);
}

static struct sip_session *session_attach(struct sip_link *link,
					  const struct partner_config *partner)
{
	struct sip_session *session = session_new(link->context, link->role);
	if (session == NULL)
		return NULL;
	session->conn = link->conn;
	session->partner = partner;
	session->link = link;
	session->speaks_for_partner = link->role == ROLE_FEDERATION;
	return session;
}

static void session_follow_partner(struct sip_session *session,
				   const struct partner_config *partner)
{
	session->partner = partner;
}

const struct sip_link_handler sip_session_link_handler = {
	.attach = session_attach,
	.on_event = sip_session_on_event,
	.follow_partner = session_follow_partner,
};

/* ---- reload ---- */

/* Closes SESSION, which the new configuration no longer allows, in order
 * (flushed, close_notify), logged and counted with REASON. */
static void session_end(struct sip_session *session, enum sip_reason reason)
{
	char quoted[64];
	dns_cancel(session->discovery);
	session->discovery = NULL;
	sip_message_free(session->waiting);
	session->waiting = NULL;
	log_event(LOG_LEVEL_NOTICE, "reload_closed",
		  "role=%s conn=%" PRIu64 " peer=%s reason=%s reason_code=%s",
		  role_name(session->role), conn_id(session->conn), conn_peer(session->conn),
		  log_quote(quoted, sizeof(quoted), sip_reason_phrase(reason)),
		  sip_reason_name(reason));
	sip_metrics_reload_closed(&session->context->metrics, session->role, reason);
	conn_close(session->conn, CONN_CLOSE_LOCAL, sip_reason_phrase(reason));
}

/* Why the configuration the context now has (OLD before) no longer allows
 * SESSION, or SIP_REASON_COUNT; its partner section follows the reload. */
static enum sip_reason session_reload_reason(struct sip_session *session,
					     const struct sxedge_config *old)
{
	struct sip_context *context = session->context;
	const struct pool_config *pool = &context->sip->pool;
	const unsigned char *fingerprint = conn_peer_fingerprint(session->conn);
	const struct partner_config *partner;
	size_t n_names;
	char *const *names = conn_peer_names(session->conn, &n_names);

	/* The rate buckets go with the federation listener. */
	if (session->partner != NULL)
		session->partner =
			context->partner_limits != NULL
				? sip_config_partner(context->sip, session->partner->domain)
				: NULL;
	switch (session->role) {
	case ROLE_INTERNAL:
		/* Still in its handshake (no names yet): the handle it was
		 * accepted with checks it. */
		if (names == NULL ||
		    tls_names_match(names, n_names, (const char *const *)pool->fqdns,
				    pool->n_fqdns))
			return SIP_REASON_COUNT;
		return SIP_REASON_POOL_MEMBER_REMOVED;
	case ROLE_FEDERATION:
		if (context->edge.hops[ROLE_FEDERATION].host == NULL)
			return SIP_REASON_FEDERATION_REMOVED;
		for (size_t i = 0; i < session->n_bound; i++) {
			enum sip_reason reason =
				partner_reload_verdict(old, context->config, session->bound[i],
						       names, n_names, fingerprint, &partner);
			if (reason != SIP_REASON_COUNT)
				return reason;
		}
		return SIP_REASON_COUNT;
	default:
		return SIP_REASON_COUNT;
	}
}

/* SESSION's look-up was the old resolver's: it asks the new one. */
static void session_restart_discovery(struct sip_session *session)
{
	char name[300];

	dns_cancel(session->discovery);
	snprintf(name, sizeof(name), "%s%s", PARTNER_SRV_PREFIX, session->discovered_domain);
	session->discovery =
		dns_resolve_srv(session->context->dns, name, session_on_discovered, session);
	if (session->discovery == NULL)
		session_on_discovered(session, DNS_FAILED, NULL, 0);
}

void sip_context_reload_sessions(struct sip_context *context, const struct sxedge_config *old,
				 bool resolver_changed)
{
	for (struct sip_session *session = context->sessions; session != NULL;
	     session = session->next) {
		enum sip_reason reason = session_reload_reason(session, old);
		if (reason != SIP_REASON_COUNT)
			session_end(session, reason);
		else if (resolver_changed && session->discovery != NULL)
			session_restart_discovery(session);
	}
}

void sip_context_close_all(struct sip_context *context)
{
	while (context->sessions != NULL) {
		struct sip_session *session = context->sessions;
		conn_free(session->conn);
		session_free(session);
	}
}

void sip_context_close_inbound(struct sip_context *context)
{
	for (struct sip_session *session = context->sessions; session != NULL;
	     session = session->next)
		conn_close(session->conn, CONN_CLOSE_LOCAL, "edge stopping");
}

bool sip_conn_is_external(const struct conn *conn)
{
	enum listener_role role = sip_conn_role(conn);
	return role == ROLE_ACCESS || role == ROLE_FEDERATION;
}

enum listener_role sip_conn_role(const struct conn *conn)
{
	return (enum listener_role)conn_owner(conn)->role;
}
