/* SPDX-License-Identifier: ISC */
/* turn_stream: see turn_stream.h. */
#include "turn_stream.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stun_framing.h"
#include "stun_message.h"
#include "turn_context.h"
#include "turn_relay.h"

/* The largest frame: a STUN message or ChannelData of the largest length
 * field, its header and padding included. */
#define TURN_FRAME_MAX (20 + 65535 + 3)
/* Bytes moved between joined connections per write. */
#define TURN_PIPE_CHUNK 16384

/* ---- joined connections: raw bytes both ways ---- */

/* How many of N bytes PEER's pair may move in DIRECTION now under the
 * allocation's bandwidth cap; none: the side stops reading until the
 * bucket holds a chunk again (its refill timer). */
static size_t pipe_allowance(struct turn_peer *peer, enum allocation_direction direction, size_t n)
{
	struct turn_context *context = peer->context;
	uint64_t wait_ms;

	if (context->server == NULL || peer->connection == NULL)
		return n;
	size_t granted = turn_server_stream_bandwidth(context->server, peer->connection, direction,
						      (uint32_t)n, TURN_PIPE_CHUNK,
						      turn_context_now_ms(), &wait_ms);
	if (granted == 0) {
		struct timeval in = { .tv_sec = (time_t)(wait_ms / 1000),
				      .tv_usec = (suseconds_t)(wait_ms % 1000) * 1000 };
		evtimer_add(peer->refill[direction], &in);
	}
	return granted;
}

/* Moves what one side of PEER's pair holds to the other, as much as the
 * other may queue and the bandwidth cap allows; the side stops reading
 * when the other is full (it resumes when that drains) or the cap is
 * reached (it resumes when the bucket refills), so TCP loses nothing. */
static void pipe_bytes(struct turn_peer *peer, enum allocation_direction direction)
{
	struct turn_context *context = peer->context;
	if (peer->stream == NULL || peer->conn == NULL)
		return;
	struct conn *from = direction == ALLOCATION_TO_PEER ? peer->stream->conn : peer->conn;
	struct conn *to = direction == ALLOCATION_TO_PEER ? peer->conn : peer->stream->conn;
	struct evbuffer *input = conn_input(from);
	size_t length;

	while ((length = evbuffer_get_length(input)) > 0) {
		size_t room = conn_output_room(to);
		if (room == 0) {
			conn_set_reading(from, false);
			return;
		}
		size_t n = length < room ? length : room;
		if (n > TURN_PIPE_CHUNK)
			n = TURN_PIPE_CHUNK;
		n = pipe_allowance(peer, direction, n);
		if (n == 0) {
			conn_set_reading(from, false);
			return;
		}
		if (conn_write(to, evbuffer_pullup(input, (ssize_t)n), n) < 0)
			return;
		evbuffer_drain(input, n);
		metric_counter_add(context->metrics.packets[direction], 1);
		metric_counter_add(context->metrics.bytes[direction], n);
	}
	conn_set_reading(from, true);
}

/* ---- clients ---- */

static void stream_unlink(struct turn_stream *stream)
{
	struct turn_context *context = stream->context;

	if (stream->previous != NULL)
		stream->previous->next = stream->next;
	else
		context->streams = stream->next;
	if (stream->next != NULL)
		stream->next->previous = stream->previous;
}

/* Hands every whole frame in STREAM's input to the server, until the
 * stream is joined (the rest is the peer's) or closes. */
static void stream_read_frames(struct turn_stream *stream)
{
	struct turn_context *context = stream->context;
	struct evbuffer *input = conn_input(stream->conn);
	char reason[96];

	while (stream->peer == NULL && context->server != NULL && conn_ready(stream->conn)) {
		size_t length = evbuffer_get_length(input);
		size_t look = length < 20 ? length : 20;
		struct stun_frame frame;
		if (length == 0)
			return;
		const uint8_t *bytes = evbuffer_pullup(input, (ssize_t)look);
		enum stun_frame_result result =
			stun_frame_next(bytes, look, TURN_FRAME_MAX, &frame);
		if (result == STUN_FRAME_NEED_MORE && frame.wait_for > look &&
		    length >= frame.wait_for) {
			bytes = evbuffer_pullup(input, (ssize_t)frame.wait_for);
			result = stun_frame_next(bytes, frame.wait_for, TURN_FRAME_MAX, &frame);
		}
		if (result == STUN_FRAME_NEED_MORE)
			return;
		if (result == STUN_FRAME_MALFORMED) {
			snprintf(reason, sizeof(reason), "malformed_%s", frame.reason);
			turn_context_refused(context, &stream->client.five_tuple.client, reason, 0);
			conn_close(stream->conn, CONN_CLOSE_LOCAL, "malformed TURN frame");
			return;
		}
		/* A whole STUN message or ChannelData: a TURN client, not a stray. */
		conn_end_probation(stream->conn);
		turn_server_from_client(context->server, &stream->client, bytes, frame.total,
					turn_context_now_ms(), turn_context_wall_s());
		evbuffer_drain(input, frame.total);
	}
	if (stream->peer != NULL)
		pipe_bytes(stream->peer, ALLOCATION_TO_PEER);
}

static void stream_on_closed(struct turn_stream *stream)
{
	struct turn_context *context = stream->context;
	const char *const closed[] = { "turn", role_name(ROLE_TURN_TCP),
				       conn_close_reason_name(conn_close_reason(stream->conn)),
				       NULL };

	metric_counter_add(metric_counter(context->metrics.closed, closed), 1);

	if (stream->peer != NULL) {
		stream->peer->stream = NULL;
		if (stream->peer->conn != NULL)
			conn_close(stream->peer->conn, CONN_CLOSE_LOCAL,
				   "client data connection closed");
	}
	if (context->server != NULL)
		turn_server_client_gone(context->server, &stream->client, turn_context_now_ms());
	stream_unlink(stream);
	context->streams_open--;
	free(stream);
	turn_context_after(context);
	turn_context_connection_gone(context);
}

static void stream_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct turn_stream *stream = arg;
	(void)conn;

	switch (event) {
	case CONN_EVENT_DATA:
		stream_read_frames(stream);
		turn_context_after(stream->context);
		break;
	case CONN_EVENT_DRAINED:
		if (stream->peer != NULL)
			pipe_bytes(stream->peer, ALLOCATION_TO_CLIENT);
		break;
	case CONN_EVENT_CLOSED:
		stream_on_closed(stream);
		break;
	case CONN_EVENT_TLS_READY:
	case CONN_EVENT_CONNECTED:
		break; /* accepted plain: neither comes */
	}
}

void turn_stream_accept(struct turn_context *context, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len)
{
	enum conn_budget_verdict verdict = conn_admit(&context->budget, peer);
	struct sockaddr_storage local;
	socklen_t local_length = sizeof(local);

	if (verdict != CONN_BUDGET_ADMIT) {
		const char *const refused[] = { "turn", role_name(ROLE_TURN_TCP),
						conn_budget_verdict_name(verdict), NULL };
		metric_counter_add(metric_counter(context->metrics.refused, refused), 1);
		evutil_closesocket(fd);
		return;
	}
	struct turn_stream *stream = calloc(1, sizeof(*stream));
	if (stream == NULL || getsockname(fd, (struct sockaddr *)&local, &local_length) < 0 ||
	    !transport_address_from_sockaddr(peer, &stream->client.five_tuple.client) ||
	    !transport_address_from_sockaddr((struct sockaddr *)&local,
					     &stream->client.five_tuple.server)) {
		free(stream);
		evutil_closesocket(fd);
		return;
	}
	stream->context = context;
	stream->client.five_tuple.transport = TURN_TRANSPORT_TCP;
	stream->client.connection = stream;
	const struct conn_owner owner = {
		.protocol = CONN_PROTOCOL_TURN,
		.role = ROLE_TURN_TCP,
		.callback = stream_on_event,
		.arg = stream,
	};
	stream->conn =
		conn_accept(context->base, fd, peer, peer_len, NULL, &context->conn_limits, &owner);
	if (stream->conn == NULL) {
		free(stream);
		return;
	}
	/* Only memory can fail here: conn_admit made the room. */
	if (conn_join_budget(stream->conn, &context->budget, peer) < 0) {
		conn_free(stream->conn);
		free(stream);
		return;
	}
	stream->next = context->streams;
	if (context->streams != NULL)
		context->streams->previous = stream;
	context->streams = stream;
	context->streams_open++;
	const char *const accepted[] = { "turn", role_name(ROLE_TURN_TCP), NULL };
	metric_counter_add(metric_counter(context->metrics.accepted, accepted), 1);
}

void turn_stream_send(struct turn_stream *stream, const uint8_t *bytes, size_t size)
{
	if (stream->conn != NULL && conn_ready(stream->conn))
		conn_write(stream->conn, bytes, size);
}

void turn_stream_join(struct turn_stream *stream, struct turn_peer *peer)
{
	if (peer->conn == NULL || stream->peer != NULL) {
		conn_close(stream->conn, CONN_CLOSE_LOCAL, "peer connection gone");
		return;
	}
	stream->peer = peer;
	peer->stream = stream;
	/* What the peer sent while unbound comes first; what the client sent
	 * after its ConnectionBind, once the frame loop sees the join. */
	conn_set_reading(peer->conn, true);
	pipe_bytes(peer, ALLOCATION_TO_CLIENT);
}

void turn_streams_close(struct turn_context *context)
{
	for (struct turn_stream *stream = context->streams; stream != NULL; stream = stream->next)
		conn_close(stream->conn, CONN_CLOSE_LOCAL, "TURN stopping");
}

/* ---- peers ---- */

/* Frees PEER, in the context's list or not. */
static void peer_discard(struct turn_peer *peer)
{
	for (int i = 0; i < 2; i++)
		if (peer->refill[i] != NULL)
			event_free(peer->refill[i]);
	free(peer);
}

static void peer_on_refill_to_peer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pipe_bytes(arg, ALLOCATION_TO_PEER);
}

static void peer_on_refill_to_client(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pipe_bytes(arg, ALLOCATION_TO_CLIENT);
}

/* A new peer of CONTEXT with its refill timers; NULL when out of memory. */
static struct turn_peer *peer_new(struct turn_context *context)
{
	struct turn_peer *peer = calloc(1, sizeof(*peer));

	if (peer == NULL)
		return NULL;
	peer->context = context;
	peer->refill[ALLOCATION_TO_PEER] = evtimer_new(context->base, peer_on_refill_to_peer, peer);
	peer->refill[ALLOCATION_TO_CLIENT] =
		evtimer_new(context->base, peer_on_refill_to_client, peer);
	if (peer->refill[ALLOCATION_TO_PEER] == NULL ||
	    peer->refill[ALLOCATION_TO_CLIENT] == NULL) {
		peer_discard(peer);
		return NULL;
	}
	return peer;
}

static void peer_link(struct turn_context *context, struct turn_peer *peer)
{
	peer->next = context->peers;
	if (context->peers != NULL)
		context->peers->previous = peer;
	context->peers = peer;
	context->peers_open++;
}

static void peer_free(struct turn_peer *peer)
{
	struct turn_context *context = peer->context;

	if (peer->previous != NULL)
		peer->previous->next = peer->next;
	else
		context->peers = peer->next;
	if (peer->next != NULL)
		peer->next->previous = peer->previous;
	context->peers_open--;
	peer_discard(peer);
	turn_context_connection_gone(context);
}

static void peer_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct turn_peer *peer = arg;
	struct turn_context *context = peer->context;
	(void)conn;

	switch (event) {
	case CONN_EVENT_CONNECTED:
		peer->connecting = false;
		/* Not read until joined: what the peer sends waits in its socket. */
		conn_set_reading(peer->conn, false);
		if (context->server != NULL && peer->connection != NULL)
			turn_server_peer_connected(context->server, peer->connection, true,
						   turn_context_now_ms());
		turn_context_after(context);
		break;
	case CONN_EVENT_DATA:
		if (peer->stream != NULL)
			pipe_bytes(peer, ALLOCATION_TO_CLIENT);
		else
			conn_set_reading(peer->conn, false);
		break;
	case CONN_EVENT_DRAINED:
		if (peer->stream != NULL)
			pipe_bytes(peer, ALLOCATION_TO_PEER);
		break;
	case CONN_EVENT_CLOSED:
		peer->conn = NULL;
		if (peer->stream != NULL) {
			conn_close(peer->stream->conn, CONN_CLOSE_LOCAL, "peer connection closed");
			peer->stream->peer = NULL;
			peer->stream = NULL;
		}
		/* Either way the server lets go of it without a peer_close. */
		if (context->server != NULL && peer->connection != NULL) {
			if (peer->connecting)
				turn_server_peer_connected(context->server, peer->connection, false,
							   turn_context_now_ms());
			else
				turn_server_peer_gone(context->server, peer->connection);
		}
		peer_free(peer);
		turn_context_after(context);
		break;
	case CONN_EVENT_TLS_READY:
		break; /* plain */
	}
}

struct turn_peer *turn_peer_connect(struct turn_context *context, struct turn_relay *relay,
				    const struct transport_address *peer_address,
				    struct allocation_connection *connection)
{
	struct sockaddr_storage to;
	socklen_t to_length = transport_address_to_sockaddr(peer_address, &to);
	if (to_length == 0 || relay == NULL || context->draining)
		return NULL;
	struct turn_peer *peer = peer_new(context);
	if (peer == NULL)
		return NULL;
	peer->connection = connection;
	peer->connecting = true;
	const struct conn_owner owner = {
		.protocol = CONN_PROTOCOL_TURN,
		.role = ROLE_TURN_TCP,
		.callback = peer_on_event,
		.arg = peer,
	};
	peer->conn = conn_connect(context->base, (struct sockaddr *)&to, (int)to_length,
				  (struct sockaddr *)&relay->bound, (int)relay->bound_length, NULL,
				  NULL, &context->peer_limits, &owner);
	if (peer->conn == NULL) {
		peer_discard(peer);
		return NULL;
	}
	peer_link(context, peer);
	return peer;
}

void turn_peer_accepted(struct turn_context *context, struct allocation *allocation, int fd,
			const struct transport_address *peer_address)
{
	struct sockaddr_storage from;
	socklen_t from_length = transport_address_to_sockaddr(peer_address, &from);
	struct turn_peer *peer = peer_new(context);

	if (peer == NULL) {
		close(fd);
		return;
	}
	const struct conn_owner owner = {
		.protocol = CONN_PROTOCOL_TURN,
		.role = ROLE_TURN_TCP,
		.callback = peer_on_event,
		.arg = peer,
	};
	peer->conn = conn_accept(context->base, fd, (struct sockaddr *)&from, (int)from_length,
				 NULL, &context->peer_limits, &owner);
	if (peer->conn == NULL) {
		peer_discard(peer);
		return;
	}
	conn_set_reading(peer->conn, false);
	peer_link(context, peer);
	peer->connection = turn_server_peer_accept(context->server, allocation, peer_address, peer,
						   turn_context_now_ms());
	if (peer->connection == NULL)
		turn_peer_close(peer);
}

void turn_peer_close(struct turn_peer *peer)
{
	if (peer->stream != NULL) {
		peer->stream->peer = NULL;
		conn_close(peer->stream->conn, CONN_CLOSE_LOCAL, "peer connection ended");
	}
	if (peer->conn != NULL)
		conn_free(peer->conn);
	peer_free(peer);
}
