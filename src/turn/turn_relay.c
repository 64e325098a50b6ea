/* SPDX-License-Identifier: ISC */
/* turn_relay: see turn_relay.h. */
#include "turn_relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "address.h"
#include "log.h"
#include "port_range.h"
#include "turn_context.h"
#include "turn_stream.h"

/* Ports tried for one relay: a nearly full range costs at most this many
 * bind() calls. */
#define TURN_RELAY_BIND_TRIES 64
/* Peers accepted per readable TCP relay listener, so one cannot starve the rest. */
#define TURN_RELAY_ACCEPTS 16

/* Datagrams from peers, a batch per recvmmsg, each to the server. */
static void relay_on_datagrams(struct turn_relay *relay)
{
	struct turn_context *context = relay->context;

	for (int round = 0; round < TURN_READS_PER_EVENT; round++) {
		int n = udp_receiver_read(context->receiver, relay->fd);
		if (n <= 0)
			break;
		uint64_t now_ms = turn_context_now_ms();
		for (int i = 0; i < n; i++) {
			const struct udp_datagram *datagram =
				udp_receiver_datagram(context->receiver, (unsigned)i);
			struct transport_address peer;
			if (relay->allocation == NULL || context->server == NULL)
				return;
			if (datagram->truncated ||
			    !transport_address_from_sockaddr(
				    (const struct sockaddr *)&datagram->source, &peer))
				continue; /* a piece of a datagram is no datagram to relay */
			turn_server_from_peer(context->server, relay->allocation, &peer,
					      datagram->data, datagram->length, now_ms);
		}
		if (n < TURN_RECEIVE_SLOTS)
			break;
	}
	turn_context_after(context);
}

/* Peers connecting to an RFC 6062 relay: each offered to the server. */
static void relay_on_peers(struct turn_relay *relay)
{
	struct turn_context *context = relay->context;

	for (int i = 0; i < TURN_RELAY_ACCEPTS; i++) {
		struct sockaddr_storage source;
		socklen_t length = sizeof(source);
		int fd = accept4(relay->fd, (struct sockaddr *)&source, &length,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		struct transport_address peer;
		if (relay->allocation == NULL || context->server == NULL ||
		    !transport_address_from_sockaddr((struct sockaddr *)&source, &peer)) {
			close(fd);
			continue;
		}
		turn_peer_accepted(context, relay->allocation, fd, &peer);
	}
	turn_context_after(context);
}

static void relay_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct turn_relay *relay = arg;
	(void)fd;
	(void)what;

	if (relay->transport == TURN_TRANSPORT_UDP)
		relay_on_datagrams(relay);
	else
		relay_on_peers(relay);
}

static void relay_on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct turn_relay *relay = arg;
	(void)fd;
	(void)what;

	if (!udp_queue_flush(relay->context->sender, &relay->queue))
		event_add(relay->writable, NULL);
}

void turn_relay_blocked(struct turn_relay *relay)
{
	event_add(relay->writable, NULL);
}

static bool relay_share_port(int fd)
{
	int one = 1;
	return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0;
}

struct turn_relay *turn_relay_open(struct turn_context *context, uint8_t transport,
				   struct transport_address *bound)
{
	bool udp = transport == TURN_TRANSPORT_UDP;
	struct turn_relay *relay = calloc(1, sizeof(*relay));
	uint16_t port = 0;
	char address[INET6_ADDRSTRLEN + 8];

	if (relay == NULL)
		return NULL;
	relay->context = context;
	relay->transport = transport;
	const struct sockaddr_storage *relay_address =
		bound->family == AF_INET6 ? &context->relay_ipv6 : &context->relay_ipv4;
	relay->fd = port_range_bind(&context->turn->relay_ports, relay_address,
				    udp ? PORT_RANGE_UDP : PORT_RANGE_TCP_LISTENER,
				    TURN_RELAY_BIND_TRIES, &port);
	if (relay->fd < 0 || (!udp && !relay_share_port(relay->fd))) {
		log_event(LOG_LEVEL_WARNING, "turn_relay_unavailable",
			  "transport=%s ports=%u-%u reason=\"%s\"", udp ? "udp" : "tcp",
			  context->turn->relay_ports.first, context->turn->relay_ports.last,
			  strerror(errno));
		if (relay->fd >= 0)
			close(relay->fd);
		free(relay);
		return NULL;
	}
	relay->bound = *relay_address;
	if (relay->bound.ss_family == AF_INET)
		((struct sockaddr_in *)&relay->bound)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&relay->bound)->sin6_port = htons(port);
	relay->bound_length = (socklen_t)address_length(&relay->bound);
	relay->readable =
		event_new(context->base, relay->fd, EV_READ | EV_PERSIST, relay_on_readable, relay);
	relay->writable =
		udp ? event_new(context->base, relay->fd, EV_WRITE, relay_on_writable, relay)
		    : NULL;
	if (relay->readable == NULL || (udp && relay->writable == NULL) ||
	    event_add(relay->readable, NULL) < 0) {
		address_format((struct sockaddr *)&relay->bound, true, address, sizeof(address));
		log_event(LOG_LEVEL_WARNING, "turn_relay_unavailable",
			  "transport=%s relay=%s reason=\"out of memory\"", udp ? "udp" : "tcp",
			  address);
		if (relay->readable != NULL)
			event_free(relay->readable);
		if (relay->writable != NULL)
			event_free(relay->writable);
		close(relay->fd);
		free(relay);
		return NULL;
	}
	udp_queue_init(&relay->queue, relay->fd);
	transport_address_from_sockaddr((struct sockaddr *)&relay->bound, bound);
	relay->next = context->relays;
	if (context->relays != NULL)
		context->relays->previous = relay;
	context->relays = relay;
	return relay;
}

void turn_relay_close(struct turn_relay *relay)
{
	struct turn_context *context = relay->context;

	if (relay->previous != NULL)
		relay->previous->next = relay->next;
	else
		context->relays = relay->next;
	if (relay->next != NULL)
		relay->next->previous = relay->previous;
	udp_queue_clear(context->sender, &relay->queue);
	event_free(relay->readable);
	if (relay->writable != NULL)
		event_free(relay->writable);
	close(relay->fd);
	free(relay);
}

void turn_relay_send(struct turn_relay *relay, const struct transport_address *peer,
		     const uint8_t *bytes, size_t size)
{
	struct turn_context *context = relay->context;
	struct sockaddr_storage to;
	socklen_t to_length = transport_address_to_sockaddr(peer, &to);

	if (to_length == 0 || size > udp_sender_datagram_max(context->sender))
		return;
	unsigned char *slot = udp_queue_slot(context->sender, &relay->queue);
	if (slot == NULL) {
		turn_context_refused(context, peer, "queue_full", 0);
		return;
	}
	memcpy(slot, bytes, size);
	udp_queue_commit(context->sender, &relay->queue, size, (struct sockaddr *)&to, to_length);
	turn_context_schedule_flush(context);
}
