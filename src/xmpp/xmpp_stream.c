/* SPDX-License-Identifier: ISC */
/* xmpp_stream: see xmpp_stream.h.
 *
 * The machines only ever ask; this file does: it writes what they send,
 * upgrades the connection when they say so (after the bytes of the
 * request have left the input, so that none is read as if it came over
 * TLS), restarts the parser between streams, and hands checked stanzas to
 * the router. */
#include "xmpp_stream.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/rand.h>

#include "log.h"
#include "namespaces.h"
#include "tls_hello.h"
#include "s2s_initiator.h"
#include "s2s_receiver.h"
#include "xml_write.h"
#include "xmpp_dialback.h"
#include "xmpp_link.h"
#include "xmpp_router.h"
#include "xmpp_targets.h"

#define STREAM_PAIRS_MAX 16

struct stream_pair {
	char local[JID_DOMAIN_MAX + 1];
	char remote[JID_DOMAIN_MAX + 1];
};

struct xmpp_stream {
	struct xmpp_context *context;
	enum xmpp_stream_kind kind;
	struct conn *conn; /* NULL while an opened stream resolves */
	struct xmpp_parser *parser;
	struct s2s_receiver *receiver; /* accepted streams */
	struct s2s_initiator *initiator; /* opened streams */
	char id[33];
	/* Opened streams: who the edge speaks as, and to whom. */
	char local[JID_DOMAIN_MAX + 1];
	char remote[JID_DOMAIN_MAX + 1];
	struct stream_pair pairs[STREAM_PAIRS_MAX]; /* authenticated, as the peer sends */
	size_t n_pairs;
	bool ready;
	bool restart_pending; /* the machine asked for a parser restart */
	bool tls_pending; /* the machine asked for TLS; done once the input is drained */
	bool ended; /* its machine failed: only the close is left */
	bool counted; /* in context->inbound */
	/* in_internal: accepted plain, its ClientHello read before the
	 * handshake starts (xmpp_link.h); AWAITED the partner it waits for. */
	bool hello_pending;
	char *awaited;
	/* out_public: where to connect, in order. */
	struct dns_query *query; /* an address look-up, or the direct-TLS SRV one */
	struct dns_query *starttls_query; /* the STARTTLS SRV look-up */
	struct dns_target *srv[2]; /* answers to the two SRV look-ups */
	size_t n_srv[2];
	unsigned srv_answers;
	struct xmpp_targets targets;
	size_t next_target;
	struct sockaddr_storage *addresses;
	size_t n_addresses, next_address;
	bool direct_tls; /* of the current target */
	struct event *deadline; /* opened streams: connect_timeout for the set-up */
	const char *end_reason; /* xmpp_stream_end's: no other address is tried */
	/* out_internal: the first connect, from the loop, so that a connect that
	 * fails at once never frees the stream inside xmpp_stream_open. */
	struct event *first_connect;
	struct tls_client *client; /* out_internal: presenting the minted partner certificate */
	/* Stanzas waiting for an opened stream to be ready. */
	struct xml_element **queue;
	size_t queued, queue_size;
	struct xmpp_stream *next, *prev;
};

static const char *const kind_names[] = {
	[XMPP_IN_PUBLIC] = "in_public",
	[XMPP_IN_INTERNAL] = "in_internal",
	[XMPP_OUT_PUBLIC] = "out_public",
	[XMPP_OUT_INTERNAL] = "out_internal",
};

const char *xmpp_stream_kind_name(enum xmpp_stream_kind kind)
{
	return kind_names[kind];
}

enum xmpp_stream_kind xmpp_stream_kind(const struct xmpp_stream *stream)
{
	return stream->kind;
}

bool xmpp_stream_pair(const struct xmpp_stream *stream, size_t index, const char **local,
		      const char **remote)
{
	if (index >= stream->n_pairs)
		return false;
	*local = stream->pairs[index].local;
	*remote = stream->pairs[index].remote;
	return true;
}

uint64_t xmpp_stream_conn_id(const struct xmpp_stream *stream)
{
	return stream != NULL && stream->conn != NULL ? conn_id(stream->conn) : 0;
}

const char *xmpp_stream_peer(const struct xmpp_stream *stream)
{
	return stream != NULL && stream->conn != NULL ? conn_peer(stream->conn) : "none";
}

static bool stream_accepted(const struct xmpp_stream *stream)
{
	return stream->kind == XMPP_IN_PUBLIC || stream->kind == XMPP_IN_INTERNAL;
}

static void stream_connect_next(struct xmpp_stream *stream);
static void stream_forget_attempt(struct xmpp_stream *stream);
static void streams_wake_links(struct xmpp_context *context, const char *partner);

/* ---- what the machines ask ---- */

static void on_send(void *arg, const char *data, size_t len)
{
	struct xmpp_stream *stream = arg;
	if (stream->conn != NULL && conn_write(stream->conn, data, len) < 0)
		stream->ended = true; /* the conn closes itself (output overflow) */
}

static void on_start_tls(void *arg)
{
	struct xmpp_stream *stream = arg;
	stream->tls_pending = true;
}

static void on_restart(void *arg)
{
	struct xmpp_stream *stream = arg;
	stream->restart_pending = true;
}

static void on_authenticated(void *arg, const char *local, const char *remote, bool certificate)
{
	struct xmpp_stream *stream = arg;

	/* Stored as the edge sends: from our side to the peer's. */
	if (stream->n_pairs < STREAM_PAIRS_MAX) {
		struct stream_pair *pair = &stream->pairs[stream->n_pairs++];
		snprintf(pair->local, sizeof(pair->local), "%s", local);
		snprintf(pair->remote, sizeof(pair->remote), "%s", remote);
	}
	const char *const values[] = { certificate ? "sasl_external" : "dialback", "success",
				       NULL };
	metric_counter_add(metric_counter(stream->context->metrics.authentications, values), 1);
	log_event(LOG_LEVEL_NOTICE, "xmpp_authenticated",
		  "kind=%s conn=%" PRIu64 " local=%s remote=%s method=%s", kind_names[stream->kind],
		  conn_id(stream->conn), local, remote, certificate ? "sasl_external" : "dialback");
	if (stream_accepted(stream))
		conn_end_probation(stream->conn);
	if (stream->kind == XMPP_IN_PUBLIC)
		streams_wake_links(stream->context, remote);
}

static void stream_flush_queue(struct xmpp_stream *stream)
{
	for (size_t i = 0; i < stream->queued; i++) {
		if (!stream->ended)
			s2s_initiator_send_stanza(stream->initiator, stream->queue[i]);
		xml_element_free(stream->queue[i]);
	}
	stream->queued = 0;
}

static void on_ready(void *arg)
{
	struct xmpp_stream *stream = arg;

	stream->ready = true;
	if (stream->deadline != NULL)
		event_del(stream->deadline);
	log_event(LOG_LEVEL_INFO, "xmpp_stream_ready", "kind=%s conn=%" PRIu64 " peer=%s",
		  kind_names[stream->kind], conn_id(stream->conn), conn_peer(stream->conn));
	if (stream->initiator != NULL)
		stream_flush_queue(stream);
	else
		xmpp_route_stream_ready(stream->context, stream);
	if (stream->kind == XMPP_OUT_PUBLIC)
		streams_wake_links(stream->context, stream->remote);
}

static void on_stanza(void *arg, struct xml_element *stanza)
{
	struct xmpp_stream *stream = arg;
	xmpp_route(stream->context, stream, stanza);
}

/* What waited for a stream that will never be ready goes back. */
static void stream_bounce_queue(struct xmpp_stream *stream, const char *condition)
{
	for (size_t i = 0; i < stream->queued; i++)
		xmpp_route_bounce(stream->context, stream->queue[i], condition);
	stream->queued = 0;
}

static void on_failed(void *arg, enum xmpp_stream_error error, const char *reason)
{
	struct xmpp_stream *stream = arg;
	const char *const values[] = { reason, NULL };

	stream->ended = true;
	log_event(error == XMPP_STREAM_OK ? LOG_LEVEL_INFO : LOG_LEVEL_NOTICE, "xmpp_stream_end",
		  "kind=%s conn=%" PRIu64 " peer=%s error=%s reason_code=%s",
		  kind_names[stream->kind], conn_id(stream->conn), conn_peer(stream->conn),
		  error == XMPP_STREAM_OK ? "none" : xmpp_stream_error_name(error), reason);
	if (error != XMPP_STREAM_OK)
		metric_counter_add(metric_counter(stream->context->metrics.refusals, values), 1);
	conn_close(stream->conn, CONN_CLOSE_LOCAL, reason);
}

/* out_public: the peer's answer to a <db:verify/> the edge asked. */
static void on_verified(void *arg, const char *id, bool valid)
{
	struct xmpp_stream *stream = arg;
	xmpp_dialback_answer(stream->context, stream, id, valid);
}

static const struct s2s_actions stream_actions = {
	.send = on_send,
	.start_tls = on_start_tls,
	.restart = on_restart,
	.authenticated = on_authenticated,
	.ready = on_ready,
	.stanza = on_stanza,
	.failed = on_failed,
};

/* ---- the parser's events, to the machine ---- */

static bool stream_goes_on(const struct xmpp_stream *stream)
{
	return !stream->ended && !stream->restart_pending && !stream->tls_pending;
}

static bool parser_open(void *arg, const struct xml_element *header, const char *default_ns)
{
	struct xmpp_stream *stream = arg;
	if (stream->receiver != NULL)
		s2s_receiver_stream_open(stream->receiver, header, default_ns);
	else
		s2s_initiator_stream_open(stream->initiator, header, default_ns);
	return stream_goes_on(stream);
}

static bool parser_element(void *arg, struct xml_element *element)
{
	struct xmpp_stream *stream = arg;
	if (stream->receiver != NULL)
		s2s_receiver_element(stream->receiver, element);
	else
		s2s_initiator_element(stream->initiator, element);
	return stream_goes_on(stream);
}

static void parser_close(void *arg)
{
	struct xmpp_stream *stream = arg;
	if (stream->receiver != NULL)
		s2s_receiver_stream_close(stream->receiver);
	else
		s2s_initiator_stream_close(stream->initiator);
}

static const struct xmpp_parser_events parser_events = {
	.stream_open = parser_open,
	.element = parser_element,
	.stream_close = parser_close,
};

static void stream_abort(struct xmpp_stream *stream, enum xmpp_stream_error error,
			 const char *reason)
{
	if (stream->receiver != NULL)
		s2s_receiver_fail(stream->receiver, error, reason);
	else
		s2s_initiator_abort(stream->initiator, error, reason);
}

void xmpp_stream_fail(struct xmpp_stream *stream, enum xmpp_stream_error error, const char *reason)
{
	if (stream->conn == NULL || stream->ended)
		return;
	stream_abort(stream, error, reason);
}

bool xmpp_stream_end(struct xmpp_stream *stream, enum xmpp_stream_error error, const char *reason)
{
	if (stream->ended)
		return false;
	stream->end_reason = reason;
	if (stream->conn != NULL && !stream->hello_pending) {
		stream_abort(stream, error, reason); /* logged and counted by on_failed */
		return true;
	}
	const char *const values[] = { reason, NULL };
	metric_counter_add(metric_counter(stream->context->metrics.refusals, values), 1);
	stream->ended = true;
	if (stream->conn != NULL) {
		/* Before its handshake nothing can be said on it, and it waits
		 * for nobody any more. */
		free(stream->awaited);
		stream->awaited = NULL;
		conn_close(stream->conn, CONN_CLOSE_LOCAL, reason);
		return true;
	}
	stream_forget_attempt(stream);
	if (stream->first_connect != NULL)
		event_del(stream->first_connect);
	const struct timeval now = { 0, 0 };
	evtimer_add(stream->deadline, &now);
	return true;
}

const char *xmpp_stream_partner(const struct xmpp_stream *stream, size_t index)
{
	switch (stream->kind) {
	case XMPP_OUT_PUBLIC:
		return index == 0 ? stream->remote : NULL;
	case XMPP_OUT_INTERNAL:
		return index == 0 ? stream->local : NULL;
	case XMPP_IN_PUBLIC:
		return index < stream->n_pairs ? stream->pairs[index].remote : NULL;
	case XMPP_IN_INTERNAL:
		if (stream->awaited != NULL)
			return index == 0 ? stream->awaited : NULL;
		return index < stream->n_pairs ? stream->pairs[index].local : NULL;
	}
	return NULL;
}

struct xmpp_stream *xmpp_stream_next(const struct xmpp_stream *stream)
{
	return stream->next;
}

/* The peer's certificate as the machines see it. */
static struct s2s_peer_certificate stream_peer(const struct xmpp_stream *stream)
{
	size_t n = 0;
	char *const *names = conn_peer_names(stream->conn, &n);
	return (struct s2s_peer_certificate){ .verified = conn_peer_verified(stream->conn),
					      .names = names,
					      .n_names = n };
}

/* The upgrade the machine asked for, once its request left the input. */
static void stream_start_tls(struct xmpp_stream *stream)
{
	int result;

	stream->tls_pending = false;
	if (stream->receiver != NULL) {
		result = conn_start_tls_server(stream->conn,
					       stream->context->settings.public_server);
	} else {
		const struct tls_expect expect = { .server_name = stream->remote };
		result = conn_start_tls_client(stream->conn,
					       stream->context->settings.public_client, &expect);
	}
	if (result < 0)
		stream->ended = true; /* the conn closes: plaintext after the request */
}

/* The reason a stream the parser refused ends with, by the refusal. */
static const char *parser_refusal_reason(enum xmpp_stream_error error)
{
	switch (error) {
	case XMPP_STREAM_NOT_WELL_FORMED:
		return "xml_not_well_formed";
	case XMPP_STREAM_RESTRICTED_XML:
		return "xml_restricted"; /* DTD, entity, comment, processing instruction */
	case XMPP_STREAM_POLICY_VIOLATION:
		return "xml_over_limit"; /* size, depth, attributes, namespaces, names */
	case XMPP_STREAM_BAD_FORMAT:
		return "xml_bad_format";
	case XMPP_STREAM_INVALID_NAMESPACE:
		return "xml_namespace";
	case XMPP_STREAM_RESOURCE_CONSTRAINT:
		return "xml_memory";
	default:
		return "xml_refused";
	}
}

static void stream_read(struct xmpp_stream *stream)
{
	struct evbuffer *input = conn_input(stream->conn);

	while (!stream->ended && evbuffer_get_length(input) > 0) {
		size_t length = evbuffer_get_length(input), used = 0;
		const char *data = (const char *)evbuffer_pullup(input, -1);
		enum xmpp_stream_error error =
			xmpp_parser_feed(stream->parser, data, length, &used);
		evbuffer_drain(input, used);
		if (error != XMPP_STREAM_OK) {
			stream_abort(stream, error, parser_refusal_reason(error));
			return;
		}
		if (stream->tls_pending) {
			stream_start_tls(stream);
			return;
		}
		if (!stream->restart_pending)
			return; /* all taken, or the machine stopped for good */
		stream->restart_pending = false;
		if (xmpp_parser_restart(stream->parser) < 0) {
			stream_abort(stream, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
			return;
		}
	}
}

/* ---- the internal link's ClientHello ---- */

/* The internal server's handshake goes on, on its ClientHello still in
 * the input. */
static void stream_link_handshake(struct xmpp_stream *stream)
{
	stream->hello_pending = false;
	free(stream->awaited);
	stream->awaited = NULL;
	if (conn_start_tls_server_buffered(stream->conn,
					   stream->context->settings.internal_server) < 0)
		stream->ended = true; /* the conn closes */
}

/* Once the ClientHello's server name is read, the handshake starts now,
 * or once the edge has that partner authenticated (xmpp_link.h). */
static void stream_read_hello(struct xmpp_stream *stream)
{
	struct evbuffer *input = conn_input(stream->conn);
	char name[JID_DOMAIN_MAX + 1], domain[JID_DOMAIN_MAX + 1] = "";

	if (stream->awaited != NULL)
		return; /* the rest of its handshake waits as well */
	switch (tls_hello_server_name(evbuffer_pullup(input, -1), evbuffer_get_length(input), name,
				      sizeof(name))) {
	case TLS_HELLO_INCOMPLETE:
		return;
	case TLS_HELLO_READ:
		if (!jid_domain(name, domain))
			domain[0] = '\0';
		if (!xmpp_link_may_start(stream->context, domain) &&
		    (stream->awaited = strdup(domain)) != NULL) {
			log_event(LOG_LEVEL_INFO, "xmpp_link_waiting",
				  "conn=%" PRIu64 " peer=%s domain=%s", conn_id(stream->conn),
				  conn_peer(stream->conn), domain);
			return;
		}
		break;
	case TLS_HELLO_UNREADABLE:
		break; /* the handshake refuses it itself */
	}
	stream_link_handshake(stream);
}

/* The edge's stream to PARTNER is ready or failed, or PARTNER authenticated
 * on its own stream: the handshakes that waited for it go on. */
static void streams_wake_links(struct xmpp_context *context, const char *partner)
{
	struct xmpp_stream *next;
	for (struct xmpp_stream *stream = context->streams; stream != NULL; stream = next) {
		next = stream->next;
		if (stream->awaited != NULL && strcmp(stream->awaited, partner) == 0)
			stream_link_handshake(stream);
	}
}

bool xmpp_streams_partner_proven(const struct xmpp_context *context, const char *domain)
{
	for (const struct xmpp_stream *stream = context->streams; stream != NULL;
	     stream = stream->next) {
		if (stream->ended)
			continue;
		if (stream->kind == XMPP_OUT_PUBLIC && stream->ready &&
		    strcmp(stream->remote, domain) == 0)
			return true;
		for (size_t i = 0; stream->kind == XMPP_IN_PUBLIC && i < stream->n_pairs; i++) {
			if (strcmp(stream->pairs[i].remote, domain) == 0)
				return true;
		}
	}
	return false;
}

static void stream_on_tls_ready(struct xmpp_stream *stream)
{
	struct s2s_peer_certificate peer = stream_peer(stream);

	if (stream->receiver != NULL) {
		s2s_receiver_tls_up(stream->receiver, &peer);
	} else {
		s2s_initiator_tls_up(
			stream->initiator, &peer,
			peer.verified &&
				tls_names_match(peer.names, peer.n_names,
						(const char *const[]){ stream->remote }, 1));
		/* Direct TLS: nothing was said yet. */
		if (stream->direct_tls || stream->kind == XMPP_OUT_INTERNAL)
			s2s_initiator_start(stream->initiator);
	}
	if (stream->restart_pending && !stream->ended) {
		stream->restart_pending = false;
		if (xmpp_parser_restart(stream->parser) < 0)
			stream_abort(stream, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
	}
}

/* ---- life cycle ---- */

static void stream_link(struct xmpp_stream *stream)
{
	struct xmpp_context *context = stream->context;
	stream->next = context->streams;
	if (stream->next != NULL)
		stream->next->prev = stream;
	context->streams = stream;
}

static void stream_unlink(struct xmpp_stream *stream)
{
	if (stream->prev != NULL)
		stream->prev->next = stream->next;
	else
		stream->context->streams = stream->next;
	if (stream->next != NULL)
		stream->next->prev = stream->prev;
}

static void stream_forget_attempt(struct xmpp_stream *stream)
{
	dns_cancel(stream->query);
	dns_cancel(stream->starttls_query);
	stream->query = stream->starttls_query = NULL;
	for (int i = 0; i < 2; i++) {
		for (size_t j = 0; j < stream->n_srv[i]; j++)
			free(stream->srv[i][j].host);
		free(stream->srv[i]);
		stream->srv[i] = NULL;
		stream->n_srv[i] = 0;
	}
	free(stream->addresses);
	stream->addresses = NULL;
	stream->n_addresses = stream->next_address = 0;
}

void xmpp_stream_free(struct xmpp_stream *stream)
{
	xmpp_dialback_stream_gone(stream->context, stream);
	if (stream->conn != NULL)
		conn_free(stream->conn);
	if (stream->counted)
		stream->context->inbound[stream->kind == XMPP_IN_PUBLIC ? ROLE_XMPP_FEDERATION
									: ROLE_XMPP_INTERNAL]--;
	stream_unlink(stream);
	/* An out_public stream that never got ready: the handshakes waiting
	 * for it go on, to be refused. */
	if (stream->kind == XMPP_OUT_PUBLIC && !stream->ready)
		streams_wake_links(stream->context, stream->remote);
	free(stream->awaited);
	stream_bounce_queue(stream, "remote-server-not-found");
	free(stream->queue);
	stream_forget_attempt(stream);
	xmpp_targets_clear(&stream->targets);
	if (stream->deadline != NULL)
		event_free(stream->deadline);
	if (stream->first_connect != NULL)
		event_free(stream->first_connect);
	s2s_receiver_free(stream->receiver);
	s2s_initiator_free(stream->initiator);
	xmpp_parser_free(stream->parser);
	tls_client_release(stream->client);
	free(stream);
}

static void stream_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct xmpp_stream *stream = arg;

	switch (event) {
	case CONN_EVENT_TLS_READY:
		stream_on_tls_ready(stream);
		if (!stream->ended)
			stream_read(stream);
		break;
	case CONN_EVENT_DATA:
		if (stream->hello_pending)
			stream_read_hello(stream);
		else
			stream_read(stream);
		break;
	case CONN_EVENT_CONNECTED:
		break; /* the stream header was queued before the connect completed */
	case CONN_EVENT_DRAINED:
		break;
	case CONN_EVENT_CLOSED:
		log_event(LOG_LEVEL_INFO, "xmpp_stream_closed",
			  "kind=%s conn=%" PRIu64 " peer=%s close=%s ready=%s",
			  kind_names[stream->kind], conn_id(conn), conn_peer(conn),
			  conn_close_reason_name(conn_close_reason(conn)),
			  stream->ready ? "yes" : "no");
		/* An opened stream that never got ready tries the next address,
		 * unless it was ended on purpose. */
		if (!stream_accepted(stream) && !stream->ready && stream->kind == XMPP_OUT_PUBLIC &&
		    stream->end_reason == NULL) {
			stream->conn = NULL;
			s2s_initiator_free(stream->initiator);
			stream->initiator = NULL;
			stream->ended = false;
			stream_connect_next(stream);
			return;
		}
		stream->conn = NULL;
		xmpp_stream_free(stream);
		break;
	}
}

static struct xmpp_stream *stream_new(struct xmpp_context *context, enum xmpp_stream_kind kind)
{
	struct xmpp_stream *stream = calloc(1, sizeof(*stream));
	unsigned char random[16];

	if (stream == NULL)
		return NULL;
	stream->context = context;
	stream->kind = kind;
	stream->parser = xmpp_parser_new(&context->settings.limits, &parser_events, stream);
	if (stream->parser == NULL || RAND_bytes(random, sizeof(random)) != 1) {
		xmpp_parser_free(stream->parser);
		free(stream);
		return NULL;
	}
	/* Unpredictable: dialback keys are bound to it (XEP-0185 §3). */
	for (size_t i = 0; i < sizeof(random); i++)
		snprintf(stream->id + 2 * i, 3, "%02x", random[i]);
	stream_link(stream);
	context->streams_made++;
	return stream;
}

/* ---- accepted streams ---- */

static bool policy_local_public(void *arg, const char *domain)
{
	struct xmpp_stream *stream = arg;
	return xmpp_context_is_ours(stream->context, domain);
}

static bool policy_remote_public(void *arg, const char *domain)
{
	struct xmpp_stream *stream = arg;
	return xmpp_context_partner_allowed(stream->context, domain);
}

static void policy_verify_public(void *arg, const char *local, const char *remote, const char *key,
				 const char *stream_id)
{
	struct xmpp_stream *stream = arg;
	xmpp_dialback_verify(stream->context, stream, local, remote, key, stream_id);
}

/* A partner authenticates by its certificate (SASL EXTERNAL) or by
 * dialback, the edge then asking the partner's authoritative server
 * (xmpp_dialback.h); it also answers <db:verify/> for our domains. */
static const struct s2s_receiver_policy public_policy = {
	.local_allowed = policy_local_public,
	.remote_allowed = policy_remote_public,
	.verify_dialback = policy_verify_public,
};
/* Internal: the stream's to is the partner the edge answers as, the one
 * whose certificate it presented for the SNI. */
static bool policy_local_internal(void *arg, const char *domain)
{
	struct xmpp_stream *stream = arg;
	const char *server_name = conn_server_name(stream->conn);
	return server_name != NULL && strcasecmp(server_name, domain) == 0 &&
	       xmpp_context_partner_allowed(stream->context, domain);
}

/* Internal: the edge answers as a partner to one of our servers. */
static const struct s2s_receiver_policy internal_policy = {
	.local_allowed = policy_local_internal,
	.remote_allowed = policy_local_public,
};

void xmpp_stream_accept(struct xmpp_context *context, enum listener_role role, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len)
{
	bool internal = role == ROLE_XMPP_INTERNAL;
	enum conn_budget_verdict verdict = conn_admit(&context->budgets[role], peer);
	if (verdict != CONN_BUDGET_ADMIT) {
		const char *const refused[] = { "xmpp", role_name(role),
						conn_budget_verdict_name(verdict), NULL };
		metric_counter_add(metric_counter(context->metrics.refused, refused), 1);
		evutil_closesocket(fd);
		return;
	}
	struct xmpp_stream *stream =
		stream_new(context, internal ? XMPP_IN_INTERNAL : XMPP_IN_PUBLIC);
	if (stream == NULL) {
		evutil_closesocket(fd);
		return;
	}
	const struct s2s_receiver_settings settings = {
		.flavour = internal ? S2S_RECEIVER_INTERNAL : S2S_RECEIVER_PUBLIC,
		.stream_id = stream->id,
		.dialback_secret = context->dialback_secret,
		.offer_bidi = context->settings.xmpp->bidi,
		.offer_dialback = !internal,
	};
	const struct conn_owner owner = {
		.protocol = CONN_PROTOCOL_XMPP,
		.role = (int)role,
		.callback = stream_on_event,
		.arg = stream,
	};
	stream->receiver = s2s_receiver_new(&settings, internal ? &internal_policy : &public_policy,
					    &stream_actions, stream);
	stream->conn = stream->receiver == NULL
			       ? NULL
			       : conn_accept(context->base, fd, peer, peer_len, NULL,
					     &context->settings.conn_limits, &owner);
	if (stream->conn == NULL) {
		if (stream->receiver == NULL)
			evutil_closesocket(fd);
		xmpp_stream_free(stream);
		return;
	}
	/* Only memory can fail here: conn_admit made the room. */
	if (conn_join_budget(stream->conn, &context->budgets[role], peer) < 0) {
		xmpp_stream_free(stream);
		return;
	}
	context->inbound[role]++;
	stream->counted = true;
	/* Internal: TLS from the first byte, started once its ClientHello is
	 * read. */
	stream->hello_pending = internal;
	const char *const accepted[] = { "xmpp", role_name(role), NULL };
	metric_counter_add(metric_counter(context->metrics.accepted, accepted), 1);
	metric_counter_add(metric_counter(context->metrics.streams,
					  (const char *const[]){ kind_names[stream->kind], NULL }),
			   1);
}

/* ---- opened streams ---- */

static void stream_give_up(struct xmpp_stream *stream, const char *condition, const char *why)
{
	log_event(LOG_LEVEL_WARNING, "xmpp_stream_failed", "kind=%s local=%s remote=%s reason=%s",
		  kind_names[stream->kind], stream->local, stream->remote, why);
	stream_bounce_queue(stream, condition);
	xmpp_stream_free(stream);
}

static void stream_on_first_connect(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_connect_next(arg);
}

static void stream_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct xmpp_stream *stream = arg;
	(void)fd;
	(void)what;
	if (stream->end_reason != NULL)
		stream_give_up(stream, "remote-server-not-found", stream->end_reason);
	else
		stream_give_up(stream, "remote-server-timeout", "no stream within connect_timeout");
}

static bool stream_start_machine(struct xmpp_stream *stream)
{
	const struct s2s_initiator_options options = {
		.flavour = stream->kind == XMPP_OUT_PUBLIC ? S2S_INITIATOR_PUBLIC
							   : S2S_INITIATOR_INTERNAL,
		.local = stream->local,
		.remote = stream->remote,
		.dialback_secret =
			stream->kind == XMPP_OUT_PUBLIC ? stream->context->dialback_secret : NULL,
		.bidi = stream->context->settings.xmpp->bidi,
		.verified = on_verified,
	};
	s2s_initiator_free(stream->initiator);
	stream->initiator = s2s_initiator_new(&options, &stream_actions, stream);
	if (stream->initiator == NULL || xmpp_parser_restart(stream->parser) < 0)
		return false;
	if (stream->kind == XMPP_OUT_PUBLIC)
		xmpp_dialback_machine_new(stream->context, stream);
	return true;
}

static void stream_connect(struct xmpp_stream *stream, const struct sockaddr_storage *address)
{
	struct xmpp_context *context = stream->context;
	const struct tls_expect expect = { .server_name = stream->remote };
	const struct conn_owner owner = {
		.protocol = CONN_PROTOCOL_XMPP,
		.role = stream->kind == XMPP_OUT_PUBLIC ? ROLE_XMPP_FEDERATION : ROLE_XMPP_INTERNAL,
		.callback = stream_on_event,
		.arg = stream,
	};
	struct conn_limits limits = context->settings.conn_limits;
	limits.first_request_timeout_s = 0;
	struct tls_client *client = stream->kind == XMPP_OUT_INTERNAL ? stream->client
				    : stream->direct_tls ? context->settings.public_client
							 : NULL;

	if (!stream_start_machine(stream)) {
		stream_give_up(stream, "internal-server-error", "out of memory");
		return;
	}
	socklen_t length = address->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							  : sizeof(struct sockaddr_in);
	stream->conn = conn_connect(context->base, (const struct sockaddr *)address, (int)length,
				    NULL, 0, client, &expect, &limits, &owner);
	if (stream->conn == NULL) {
		stream_connect_next(stream);
		return;
	}
	/* STARTTLS: the header goes as soon as TCP is up. */
	if (client == NULL)
		s2s_initiator_start(stream->initiator);
}

static void stream_on_addresses(void *arg, enum dns_status status,
				const struct sockaddr_storage *addresses, size_t n)
{
	struct xmpp_stream *stream = arg;

	stream->query = NULL;
	if (status == DNS_OK && n > 0) {
		stream->addresses = malloc(n * sizeof(*addresses));
		if (stream->addresses != NULL) {
			memcpy(stream->addresses, addresses, n * sizeof(*addresses));
			stream->n_addresses = n;
			stream->next_address = 0;
		}
	}
	stream_connect_next(stream);
}

/* The next address of this target, else the next target. */
static void stream_connect_next(struct xmpp_stream *stream)
{
	/* A drain opens nothing new, another address neither. */
	if (stream->context->draining) {
		stream_give_up(stream, "remote-server-timeout", "the edge is stopping");
		return;
	}
	if (stream->next_address < stream->n_addresses) {
		stream_connect(stream, &stream->addresses[stream->next_address++]);
		return;
	}
	free(stream->addresses);
	stream->addresses = NULL;
	stream->n_addresses = stream->next_address = 0;
	if (stream->kind == XMPP_OUT_INTERNAL || stream->next_target == stream->targets.n) {
		stream_give_up(stream, "remote-server-not-found", "every address failed");
		return;
	}
	const struct xmpp_target *target = &stream->targets.targets[stream->next_target++];
	stream->direct_tls = target->direct_tls;
	stream->query = dns_resolve_addresses(stream->context->dns, target->host, target->port,
					      stream_on_addresses, stream);
	if (stream->query == NULL)
		stream_give_up(stream, "internal-server-error", "out of memory");
}

static uint32_t stream_random(void *arg, uint32_t max)
{
	uint32_t value = 0;
	(void)arg;
	RAND_bytes((unsigned char *)&value, sizeof(value));
	return max == UINT32_MAX ? value : value % (max + 1);
}

static void stream_on_srv(struct xmpp_stream *stream, int which, enum dns_status status,
			  const struct dns_target *targets, size_t n)
{
	if (status == DNS_OK && n > 0) {
		stream->srv[which] = calloc(n, sizeof(*targets));
		for (size_t i = 0; stream->srv[which] != NULL && i < n; i++) {
			stream->srv[which][i] = targets[i];
			stream->srv[which][i].host = strdup(targets[i].host);
			if (stream->srv[which][i].host != NULL)
				stream->n_srv[which]++;
		}
	}
	if (++stream->srv_answers < 2)
		return;
	if (xmpp_targets_order(stream->remote, stream->srv[0], stream->n_srv[0], stream->srv[1],
			       stream->n_srv[1], stream_random, NULL, &stream->targets) < 0) {
		stream_give_up(stream, "remote-server-not-found", "no server-to-server service");
		return;
	}
	stream_connect_next(stream);
}

static void stream_on_direct_srv(void *arg, enum dns_status status,
				 const struct dns_target *targets, size_t n)
{
	struct xmpp_stream *stream = arg;
	stream->query = NULL;
	stream_on_srv(stream, 0, status, targets, n);
}

static void stream_on_starttls_srv(void *arg, enum dns_status status,
				   const struct dns_target *targets, size_t n)
{
	struct xmpp_stream *stream = arg;
	stream->starttls_query = NULL;
	stream_on_srv(stream, 1, status, targets, n);
}

/* out_public: both SRV look-ups for its remote, the targets from scratch.
 * false when out of memory. */
static bool stream_resolve(struct xmpp_stream *stream)
{
	struct dns *dns = stream->context->dns;
	char name[JID_DOMAIN_MAX + 32];

	xmpp_targets_clear(&stream->targets);
	stream->next_target = 0;
	stream->srv_answers = 0;
	snprintf(name, sizeof(name), "%s%s", XMPP_DIRECT_TLS_SRV_PREFIX, stream->remote);
	stream->query = dns_resolve_srv(dns, name, stream_on_direct_srv, stream);
	snprintf(name, sizeof(name), "%s%s", XMPP_STARTTLS_SRV_PREFIX, stream->remote);
	stream->starttls_query = dns_resolve_srv(dns, name, stream_on_starttls_srv, stream);
	return stream->query != NULL && stream->starttls_query != NULL;
}

void xmpp_streams_resolver_replaced(struct xmpp_context *context)
{
	for (struct xmpp_stream *stream = context->streams; stream != NULL; stream = stream->next) {
		if (stream->query == NULL && stream->starttls_query == NULL)
			continue;
		/* Its answers so far came from the old server: all asked again. */
		stream_forget_attempt(stream);
		if (!stream_resolve(stream))
			xmpp_stream_end(stream, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
	}
}

struct xmpp_stream *xmpp_stream_open(struct xmpp_context *context, enum xmpp_stream_kind kind,
				     const char *local, const char *remote)
{
	/* Inward the edge answers as LOCAL: never as a domain policy refuses. */
	if ((kind == XMPP_OUT_INTERNAL && (context->settings.internal_len == 0 ||
					   !xmpp_context_partner_allowed(context, local))) ||
	    (kind == XMPP_OUT_PUBLIC && context->dns == NULL) || context->draining)
		return NULL;
	struct xmpp_stream *stream = stream_new(context, kind);
	if (stream == NULL)
		return NULL;
	snprintf(stream->local, sizeof(stream->local), "%s", local);
	snprintf(stream->remote, sizeof(stream->remote), "%s", remote);
	stream->deadline = evtimer_new(context->base, stream_on_deadline, stream);
	struct timeval limit = { .tv_sec = context->settings.federation->connect_timeout_s };
	if (stream->deadline == NULL || evtimer_add(stream->deadline, &limit) < 0) {
		xmpp_stream_free(stream);
		return NULL;
	}
	metric_counter_add(metric_counter(context->metrics.streams,
					  (const char *const[]){ kind_names[kind], NULL }),
			   1);
	if (kind == XMPP_OUT_INTERNAL) {
		/* The internal server knows the edge as the partner: its
		 * client certificate names the partner (the link CA's). */
		struct tls_minted minted;
		char err[256] = "";
		if (context->settings.mint == NULL ||
		    tls_mint_identity(context->settings.mint, local, time(NULL), &minted) < 0 ||
		    (stream->client =
			     tls_client_from_identity(context->settings.internal_trust,
						      minted.identity, err, sizeof(err))) == NULL) {
			char quoted[300];
			log_event(LOG_LEVEL_WARNING, "xmpp_stream_failed",
				  "kind=out_internal local=%s remote=%s reason=%s", local, remote,
				  log_quote(quoted, sizeof(quoted),
					    err[0] != '\0' ? err : "no certificate minted"));
			xmpp_stream_free(stream);
			return NULL;
		}
		stream->addresses = malloc(sizeof(*stream->addresses));
		if (stream->addresses == NULL) {
			xmpp_stream_free(stream);
			return NULL;
		}
		stream->addresses[0] = context->settings.internal_address;
		stream->n_addresses = 1;
		stream->first_connect = evtimer_new(context->base, stream_on_first_connect, stream);
		if (stream->first_connect == NULL) {
			xmpp_stream_free(stream);
			return NULL;
		}
		event_active(stream->first_connect, EV_TIMEOUT, 0);
		return stream;
	}
	if (!stream_resolve(stream)) {
		xmpp_stream_free(stream);
		return NULL;
	}
	return stream;
}

/* ---- sending ---- */

static bool stream_pair_is(const struct stream_pair *pair, const char *local, const char *remote)
{
	return strcmp(pair->local, local) == 0 && strcmp(pair->remote, remote) == 0;
}

struct xmpp_stream *xmpp_stream_find(const struct xmpp_context *context, enum xmpp_stream_kind kind,
				     const char *local, const char *remote)
{
	for (struct xmpp_stream *stream = context->streams; stream != NULL; stream = stream->next) {
		if (stream->kind != kind || stream->ended)
			continue;
		if (!stream_accepted(stream)) {
			if (strcmp(stream->local, local) == 0 &&
			    strcmp(stream->remote, remote) == 0)
				return stream;
			continue;
		}
		if (!stream->ready || !s2s_receiver_bidi(stream->receiver))
			continue;
		for (size_t i = 0; i < stream->n_pairs; i++) {
			if (stream_pair_is(&stream->pairs[i], local, remote))
				return stream;
		}
	}
	return NULL;
}

bool xmpp_stream_send(struct xmpp_stream *stream, struct xml_element *stanza)
{
	if (stream->ended)
		return false;
	if (stream->ready) {
		if (stream->initiator != NULL) {
			bool sent = s2s_initiator_send_stanza(stream->initiator, stanza) == 0;
			if (sent)
				xml_element_free(stanza);
			return sent;
		}
		/* An accepted bidirectional stream: written as any stanza. */
		struct evbuffer *out = evbuffer_new();
		bool written = out != NULL &&
			       xml_write_element(out, stanza, XMPP_SERVER_NAMESPACE) == 0 &&
			       conn_write(stream->conn, evbuffer_pullup(out, -1),
					  evbuffer_get_length(out)) == 0;
		evbuffer_free(out);
		if (written)
			xml_element_free(stanza);
		return written;
	}
	if (stream_accepted(stream) ||
	    stream->queued >= stream->context->settings.federation->queue_max)
		return false;
	if (stream->queued == stream->queue_size) {
		size_t size = stream->queue_size ? stream->queue_size * 2 : 8;
		struct xml_element **queue = realloc(stream->queue, size * sizeof(*queue));
		if (queue == NULL)
			return false;
		stream->queue = queue;
		stream->queue_size = size;
	}
	stream->queue[stream->queued++] = stanza;
	return true;
}

bool xmpp_stream_ask_verify(struct xmpp_stream *stream, const char *id, const char *key)
{
	if (stream->kind != XMPP_OUT_PUBLIC || stream->ended)
		return false;
	/* between addresses: asked when the next machine starts */
	return stream->initiator == NULL || s2s_initiator_verify(stream->initiator, id, key) == 0;
}

void xmpp_stream_dialback_verdict(struct xmpp_stream *stream, const char *local, const char *remote,
				  const char *outcome)
{
	bool valid = strcmp(outcome, "valid") == 0;
	const char *const values[] = { "dialback_key", outcome, NULL };
	metric_counter_add(metric_counter(stream->context->metrics.authentications, values), 1);
	log_event(valid ? LOG_LEVEL_INFO : LOG_LEVEL_NOTICE, "xmpp_dialback_verdict",
		  "kind=%s conn=%" PRIu64 " local=%s remote=%s outcome=%s",
		  kind_names[stream->kind], conn_id(stream->conn), local, remote, outcome);
	if (stream->receiver != NULL && !stream->ended)
		s2s_receiver_dialback_verdict(stream->receiver, local, remote, valid);
}

unsigned xmpp_streams_count(const struct xmpp_context *context, enum xmpp_stream_kind kind,
			    bool ready)
{
	unsigned count = 0;
	for (const struct xmpp_stream *stream = context->streams; stream != NULL;
	     stream = stream->next)
		count += stream->kind == kind && stream->ready == ready && !stream->ended;
	return count;
}

static int64_t stream_gauge_read(void *arg)
{
	const struct xmpp_streams_gauge *gauge = arg;
	return xmpp_streams_count(gauge->context, (enum xmpp_stream_kind)gauge->kind, gauge->ready);
}

void xmpp_streams_register_gauges(struct xmpp_context *context, struct metrics *registry)
{
	static const char *const labels[] = { "kind", "state", NULL };
	_Static_assert(XMPP_STREAM_GAUGES == 2 * (XMPP_OUT_INTERNAL + 1),
		       "a gauge per kind and state");
	struct metric_family *family = metrics_register(
		registry, METRIC_GAUGE, "sxedge_xmpp_streams_open",
		"XMPP streams open, by kind and state (negotiating or ready).", labels);

	if (family == NULL)
		return;
	for (int kind = 0; kind <= XMPP_OUT_INTERNAL; kind++) {
		for (int ready = 0; ready < 2; ready++) {
			struct xmpp_streams_gauge *gauge =
				&context->metrics.streams_open[2 * kind + ready];
			*gauge = (struct xmpp_streams_gauge){ context, kind, ready };
			const char *const values[] = { kind_names[kind],
						       ready ? "ready" : "negotiating", NULL };
			metric_gauge_read_by(metric_gauge(family, values), stream_gauge_read,
					     gauge);
		}
	}
}

void xmpp_streams_keepalive(struct xmpp_context *context)
{
	for (struct xmpp_stream *stream = context->streams; stream != NULL; stream = stream->next) {
		/* Only between stanzas of a negotiated stream: nothing else is
		 * ever half written (each stanza is one write). */
		if (stream->conn != NULL && stream->ready && !stream->ended)
			on_send(stream, " ", 1);
	}
}

void xmpp_streams_close(struct xmpp_context *context)
{
	for (struct xmpp_stream *stream = context->streams; stream != NULL; stream = stream->next) {
		if (stream->conn == NULL || stream->ended)
			continue;
		/* Before its handshake nothing can be said on it. */
		if (stream->hello_pending)
			conn_close(stream->conn, CONN_CLOSE_LOCAL, "edge_stopping");
		else
			stream_abort(stream, XMPP_STREAM_SYSTEM_SHUTDOWN, "edge_stopping");
	}
}

unsigned xmpp_streams_open(const struct xmpp_context *context)
{
	unsigned open = 0;
	for (const struct xmpp_stream *stream = context->streams; stream != NULL;
	     stream = stream->next)
		open += stream->conn != NULL;
	return open;
}
