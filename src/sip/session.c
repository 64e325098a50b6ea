/* session: the SIP pipeline of one connection (DESIGN.md §3):
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

#include <openssl/rand.h>

#include "log.h"
#include "message.h"
#include "pool.h"
#include "rewrite.h"
#include "via_branch.h"

struct sip_session {
	struct sip_context *context;
	struct conn *conn;
	enum listener_role role;
	bool inbound;
	struct event *message_timer; /* a started message must complete in time */
	/* Framing scans from the start of the input, so it runs again only when
	 * its answer can have changed: the input reached frame_wait bytes, or
	 * (while the header block is incomplete) a blank line may have arrived
	 * after the first `scanned` bytes.  This keeps a peer that trickles
	 * bytes from making the edge rescan the same header block each time. */
	size_t frame_wait;
	size_t scanned;
	bool awaiting_body;
	struct sip_session *prev, *next; /* the context's inbound sessions */
};

/* ---- context ---- */

int sip_context_init(struct sip_context *context, struct event_base *base,
		     const struct sxedge_config *config)
{
	const struct listener_config *external = config_listener(config, ROLE_ACCESS);
	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);

	memset(context, 0, sizeof(*context));
	context->base = base;
	context->config = config;
	context->flow_key.node_id = config->node_id;
	if (RAND_bytes((unsigned char *)&context->flow_key.boot_id,
		       sizeof(context->flow_key.boot_id)) != 1)
		return -1;
	if (config->flow_secret_set)
		memcpy(context->flow_key.secret, config->flow_secret, sizeof(config->flow_secret));
	else if (RAND_bytes(context->flow_key.secret, sizeof(context->flow_key.secret)) != 1)
		return -1;
	context->edge = (struct sip_edge){
		.config = config,
		.flow_key = &context->flow_key,
		.external_host = external->advertise_host,
		.external_port = external->advertise_port,
		.internal_host = internal->advertise_host,
		.internal_port = internal->advertise_port,
	};
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
	return 0;
}

/* ---- logging ---- */

static void session_log(const struct sip_session *session, enum log_level level,
			const char *event, const char *what, const char *reason)
{
	char quoted[300];
	log_event(level, event, "role=%s conn=%" PRIu64 " peer=%s %sreason=%s",
		  config_role_name(session->role), conn_id(session->conn),
		  conn_peer(session->conn), what, log_quote(quoted, sizeof(quoted), reason));
}

static void session_log_reject(const struct sip_session *session, const osip_message_t *request,
			       int status, const char *reason)
{
	char what[96];
	snprintf(what, sizeof(what), "method=%.32s status=%d ",
		 request->sip_method ? request->sip_method : "?", status);
	session_log(session, LOG_LEVEL_NOTICE, "sip_reject", what, reason);
}

/* ---- answering and sending ---- */

static void session_send(struct sip_session *session, struct conn *target, const char *data,
			 size_t len)
{
	if (conn_write(target, data, len) < 0)
		session_log(session, LOG_LEVEL_WARNING, "sip_drop", "",
			    "output to the next hop failed");
}

static void session_fail(struct sip_session *session, const char *reason)
{
	session_log(session, LOG_LEVEL_NOTICE, "framing_error", "", reason);
	conn_close(session->conn, reason);
}

static void session_reply(struct sip_session *session, const osip_message_t *request,
			  int status, const char *reason, const char *extra)
{
	size_t len;
	char *response;

	session_log_reject(session, request, status, reason);
	if (MSG_IS_ACK(request))
		return; /* an ACK is never answered */
	response = sip_response_build(request, status, reason, extra, &len);
	if (response == NULL) {
		/* Without Via, From, To, Call-ID and CSeq no response can be
		 * matched: a peer sending such requests is not speaking SIP. */
		session_fail(session, "unanswerable request");
		return;
	}
	session_send(session, session->conn, response, len);
	free(response);
}

static bool session_is_access(const struct conn *conn)
{
	const struct sip_session *session = conn_user(conn);
	return session != NULL && session->role == ROLE_ACCESS;
}

/* The side of the edge a connection is on, as advertised in SIP. */
static struct sip_hop session_hop(const struct sip_context *context, bool access)
{
	if (access)
		return (struct sip_hop){ context->edge.external_host, context->edge.external_port };
	return (struct sip_hop){ context->edge.internal_host, context->edge.internal_port };
}

static void session_forward(struct sip_session *session, osip_message_t *request,
			    const struct sip_decision *decision, struct conn *target)
{
	struct sip_context *context = session->context;
	bool target_access = session_is_access(target);
	struct conn *access_conn = target_access ? target : session->conn;
	char token[FLOW_TOKEN_LEN + 1];
	char branch[VIA_BRANCH_SIZE];
	size_t len;

	flow_token_seal(&context->flow_key, conn_id(access_conn), token);
	via_branch_make(&context->flow_key, conn_id(session->conn), request, branch);
	struct sip_request_rewrite rewrite = {
		.routes_to_pop = decision->routes_to_pop,
		.arrival = session_hop(context, session->role == ROLE_ACCESS),
		.departure = session_hop(context, target_access),
		.branch = branch,
		.flow_token = token,
		.record_route = decision->record_route,
		.add_path = decision->add_path,
	};
	if (sip_request_rewrite(request, &rewrite) < 0) {
		session_reply(session, request, 500, "Cannot Relay Request", NULL);
		return;
	}
	char *data = sip_message_serialise(request, &len);
	if (data == NULL) {
		session_reply(session, request, 500, "Cannot Relay Request", NULL);
		return;
	}
	log_event(LOG_LEVEL_DEBUG, "sip_relay", "role=%s conn=%" PRIu64 " method=%.32s to=%" PRIu64,
		  config_role_name(session->role), conn_id(session->conn), request->sip_method,
		  conn_id(target));
	session_send(session, target, data, len);
	free(data);
}

/* ---- requests and responses ---- */

static void session_on_request(struct sip_session *session, osip_message_t *request)
{
	struct sip_context *context = session->context;
	struct sip_decision decision;
	struct conn *target;
	char retry_after[48];

	sip_route_request(request, session->role, &context->edge, &decision);
	switch (decision.action) {
	case SIP_ACTION_REPLY:
		session_reply(session, request, decision.status, decision.reason, NULL);
		return;
	case SIP_ACTION_DROP:
		session_log(session, LOG_LEVEL_INFO, "sip_drop", "", decision.reason);
		return;
	case SIP_ACTION_TO_POOL:
		target = sip_pool_pick(context->pool);
		if (target == NULL) {
			snprintf(retry_after, sizeof(retry_after), "Retry-After: %u\r\n",
				 context->config->pool.reconnect_min_s);
			session_reply(session, request, 503, "Pool Unavailable", retry_after);
			return;
		}
		break;
	case SIP_ACTION_TO_CONN:
		target = conn_find(decision.conn_id);
		if (target == NULL || !conn_ready(target) || !session_is_access(target)) {
			session_reply(session, request, 430, "Flow Failed", NULL);
			return;
		}
		break;
	default:
		return;
	}
	session_forward(session, request, &decision, target);
}

static void session_on_response(struct sip_session *session, osip_message_t *response)
{
	struct sip_context *context = session->context;
	struct sip_decision decision;
	struct conn *target = NULL;
	size_t len;

	sip_route_response(response, session->role, &context->edge, &decision);
	if (decision.action != SIP_ACTION_TO_CONN) {
		session_log(session, LOG_LEVEL_INFO, "sip_drop", "", decision.reason);
		return;
	}
	target = conn_find(decision.conn_id);
	if (target != NULL && session_is_access(target) == decision.pool_fallback)
		target = NULL; /* a branch naming a connection on the wrong side */
	if ((target == NULL || !conn_ready(target)) && decision.pool_fallback)
		target = sip_pool_pick(context->pool);
	if (target == NULL || !conn_ready(target)) {
		session_log(session, LOG_LEVEL_INFO, "sip_drop", "", "connection gone");
		return;
	}
	if (sip_response_rewrite(response) < 0) {
		session_log(session, LOG_LEVEL_INFO, "sip_drop", "", "no Via to remove");
		return;
	}
	char *data = sip_message_serialise(response, &len);
	if (data != NULL)
		session_send(session, target, data, len);
	free(data);
}

/* ---- framing ---- */

/* Answers a message whose framing failed but whose header block is whole,
 * when it is a request; the stream is closed by the caller if need be. */
static void session_refuse_block(struct sip_session *session, const char *data, size_t len,
				 int status, const char *reason)
{
	osip_message_t *message = sip_message_parse(data, len);
	if (message != NULL && MSG_IS_REQUEST(message))
		session_reply(session, message, status, reason, NULL);
	osip_message_free(message);
}

static void session_on_message(struct sip_session *session, const char *data, size_t len)
{
	osip_message_t *message = sip_message_parse(data, len);
	if (message == NULL) {
		session_fail(session, "unparseable message");
		return;
	}
	if (MSG_IS_REQUEST(message))
		session_on_request(session, message);
	else
		session_on_response(session, message);
	osip_message_free(message);
}

static void session_wait_for_more(struct sip_session *session, size_t len, size_t wait_for)
{
	size_t max = session->context->frame_limits.max_message;
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
	switch (sip_frame_next(data, len, &session->context->frame_limits, &frame)) {
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
		session_refuse_block(session, data, frame.total, 513, "Too Many Headers");
		return frame.total;
	case SIP_FRAME_TOO_LARGE:
		session_refuse_block(session, data, frame.header_len, 513, "Message Too Large");
		session_fail(session, "message too large");
		return 0;
	case SIP_FRAME_BAD_LENGTH:
		session_refuse_block(session, data, frame.header_len, 400, "Bad Content-Length");
		session_fail(session, "bad Content-Length");
		return 0;
	case SIP_FRAME_LINE_TOO_LONG:
		session_fail(session, "line too long");
		return 0;
	case SIP_FRAME_HEADER_TOO_LARGE:
		session_fail(session, "header too large");
		return 0;
	}
	return 0;
}

static void session_on_data(struct sip_session *session)
{
	struct evbuffer *input = conn_input(session->conn);
	size_t max = session->context->frame_limits.max_message;

	bool progressed = false;

	while (conn_ready(session->conn) && evbuffer_get_length(input) > 0) {
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
	if (evbuffer_get_length(input) == 0 || !conn_ready(session->conn)) {
		event_del(session->message_timer);
	} else if (progressed || !evtimer_pending(session->message_timer, NULL)) {
		struct timeval limit = { .tv_sec = session->context->config->limits.message_timeout_s };
		evtimer_add(session->message_timer, &limit);
	}
}

static void session_on_message_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sip_session *session = arg;
	(void)fd;
	(void)what;
	session_fail(session, "message timeout");
}

/* ---- life cycle ---- */

static void session_free(struct sip_session *session)
{
	if (session->inbound) {
		session->context->inbound--;
		if (session->prev != NULL)
			session->prev->next = session->next;
		else
			session->context->sessions = session->next;
		if (session->next != NULL)
			session->next->prev = session->prev;
	}
	event_free(session->message_timer);
	free(session);
}

static void session_on_closed(struct sip_session *session)
{
	struct conn *conn = session->conn;
	char reason[300], subject[300] = "", quoted[300];

	if (!session->inbound) {
		/* outbound links are logged by their owner (pool_down) */
	} else if (conn_user(conn) == NULL) {
		/* never became READY: the handshake failed or was refused */
		if (conn_peer_subject(conn) != NULL)
			snprintf(subject, sizeof(subject), " subject=%s",
				 log_quote(quoted, sizeof(quoted), conn_peer_subject(conn)));
		log_event(LOG_LEVEL_NOTICE, "tls_refused", "role=%s peer=%s reason=%s%s",
			  config_role_name(session->role), conn_peer(conn),
			  log_quote(reason, sizeof(reason), conn_close_reason(conn)), subject);
	} else {
		session_log(session, LOG_LEVEL_INFO, "conn_close", "", conn_close_reason(conn));
	}
	session_free(session);
}

void sip_session_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct sip_session *session = arg;

	switch (event) {
	case CONN_EVENT_READY:
		conn_set_user(conn, session);
		if (session->inbound)
			session_log(session, LOG_LEVEL_INFO, "conn_open", "", "handshake done");
		break;
	case CONN_EVENT_DATA:
		session_on_data(session);
		break;
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
	return session;
}

void sip_session_accept(struct sip_context *context, enum listener_role role, SSL_CTX *ctx,
			evutil_socket_t fd, const struct sockaddr *peer, int peer_len)
{
	struct sip_session *session = session_new(context, role);
	if (session == NULL) {
		evutil_closesocket(fd);
		return;
	}
	session->inbound = true;
	context->inbound++;
	session->next = context->sessions;
	if (session->next != NULL)
		session->next->prev = session;
	context->sessions = session;
	session->conn = conn_accept(context->base, ctx, fd, peer, peer_len, &context->conn_limits,
				    sip_session_on_event, session);
	if (session->conn == NULL)
		session_free(session);
}

struct sip_session *sip_session_attach(struct sip_context *context, struct conn *conn,
				       enum listener_role role)
{
	struct sip_session *session = session_new(context, role);
	if (session == NULL)
		return NULL;
	session->conn = conn;
	conn_set_user(conn, session);
	return session;
}

void sip_context_close_all(struct sip_context *context)
{
	while (context->sessions != NULL) {
		struct sip_session *session = context->sessions;
		conn_free(session->conn);
		session_free(session);
	}
}
