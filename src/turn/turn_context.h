/* SPDX-License-Identifier: ISC */
/* turn_context: what TURN holds in one worker: the message handler
 * (turn_server.h) and the turn_io it talks through, the sockets under it
 * (the worker's UDP 3478 sockets for answers, one relay socket per
 * allocation, TURN-over-TCP and RFC 6062 connections), the batched
 * datagram buffers (udp_batch.h) they share, the one expiry timer, and what
 * TURN counts and logs.
 *
 * Datagrams leave in batches: every datagram written during one pass of
 * the event loop waits in the sender's slots, and one flush event sends
 * them all after the pass (sendmmsg per socket), however many listener or
 * relay reads produced them.
 *
 * A reload is prepared beside what serves (turn_context_prepare) and then
 * committed, which cannot fail: new allocations and connections get the new
 * settings, established ones keep theirs (their credentials, limits and
 * bandwidth in the server's table, their relay sockets, the limits their
 * conns copied).  A reload that removes [turn] retires the context. */
#ifndef SXEDGE_TURN_TURN_CONTEXT_H
#define SXEDGE_TURN_TURN_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "allocation_table.h"
#include "config.h"
#include "conn.h"
#include "conn_budget.h"
#include "metrics.h"
#include "peer_policy.h"
#include "roles.h"
#include "turn_config.h"
#include "turn_server.h"
#include "udp_batch.h"

#define TURN_DATAGRAM_MAX    65535 /* the largest UDP payload */
#define TURN_RECEIVE_SLOTS   64 /* datagrams per recvmmsg */
#define TURN_SEND_SLOTS	     4096 /* datagrams waiting to leave, all sockets together */
#define TURN_QUEUE_LIMIT     256 /* of them for one socket */
#define TURN_SEND_BATCH	     64 /* datagrams per sendmmsg */
#define TURN_READS_PER_EVENT 4 /* recvmmsg calls per readable socket, so no one starves the rest */
/* Refusals logged per second at most; the rest are counted (metrics) and
 * summed into the next line logged (suppressed=N). */
#define TURN_REFUSAL_LOGS_PER_S 10

struct turn_relay;
struct turn_stream;
struct turn_peer;

/* A UDP listener of role turn: the worker reads it and hands each datagram
 * over; answers leave from the same socket, through its queue. */
struct turn_udp_listener {
	struct turn_context *context;
	const struct listener_config *config;
	struct transport_address address; /* as configured: the 5-tuple's server side */
	int fd; /* the worker's socket, known from its first datagram; -1 before */
	struct udp_queue queue;
	struct event *writable; /* armed while the queue is blocked */
};

struct turn_metrics {
	struct metric_gauge *allocations[2]; /* open, by relay: udp, tcp */
	struct metric_counter *allocations_made[2];
	struct metric_counter *packets[2]; /* by enum allocation_direction */
	struct metric_counter *bytes[2];
	struct metric_family *refusals; /* {reason} */
	struct metric_family *ended; /* allocations ended, {reason} */
	struct metric_family *accepted; /* the core's, {protocol, role} */
	struct metric_family *refused; /* the core's, {protocol, role, reason} */
	struct metric_family *closed; /* the core's, {protocol, role, reason} */
};

struct turn_context {
	struct event_base *base;
	const struct sxedge_config *config; /* the worker's, or held (config_ref) once retired */
	const struct turn_config *turn;
	struct turn_server *server; /* NULL once stopped */
	struct peer_policy policy;
	struct sockaddr_storage *own; /* the edge's own addresses, for the policy */
	size_t n_own;
	/* Relays bind here, by family ([turn] relay_address and
	 * relay_address6); family 0 when the edge has no relay of it. */
	struct sockaddr_storage relay_ipv4, relay_ipv6;
	struct udp_receiver *receiver; /* every socket's reads, one at a time */
	struct udp_sender *sender; /* every socket's datagrams waiting to leave */
	struct event *flush; /* after a loop pass that queued datagrams */
	bool flush_scheduled;
	struct event *expiry; /* at turn_server_next_expiry */
	uint64_t expiry_at_ms; /* what it is armed for; UINT64_MAX: not armed */
	struct turn_udp_listener **listeners; /* each stays where it is while it serves */
	size_t n_listeners;
	struct turn_relay *relays; /* every relay socket open */
	struct turn_stream *streams; /* every TCP connection of a client */
	struct turn_peer *peers; /* every RFC 6062 connection with a peer */
	struct conn_limits conn_limits; /* clients' TCP connections */
	struct conn_limits peer_limits; /* RFC 6062 peer connections */
	struct conn_budget budget; /* turn_tcp */
	unsigned streams_open; /* accepted TCP connections open (turn_tcp) */
	unsigned peers_open;
	unsigned udp_allocations; /* made over UDP (role turn), open */
	bool udp_client; /* the server is handling a UDP client's datagram */
	bool draining;
	/* A reload removed [turn]: nothing new is served, and once the last
	 * connection is gone `emptied` calls on_emptied(emptied_arg). */
	bool retired;
	struct event *emptied;
	void (*on_emptied)(void *arg);
	void *emptied_arg;
	uint64_t refusal_window_s; /* the second refusals are being logged in */
	unsigned refusals_logged; /* lines in that second */
	unsigned refusals_suppressed; /* not logged since the last line */
	struct turn_metrics metrics;
};

/* Checks what CONFIG says of TURN: a turn or turn_tcp listener needs
 * [turn], [turn] needs one of them, and the relay port range holds no
 * listener's port on the relay address (every listener with the same
 * transport, a wildcard included).  One line per problem on ERRORS; 0 or -1. */
int turn_context_check(const struct sxedge_config *config, FILE *errors);

/* Fills CONTEXT for one worker from CONFIG (which must outlive it), with
 * NONCE_SECRET (32 bytes, one per process).  Returns 0, or -1 with lines
 * on ERRORS. */
int turn_context_init(struct turn_context *context, struct event_base *base,
		      const struct sxedge_config *config, struct metrics *metrics,
		      const uint8_t nonce_secret[32], FILE *errors);
/* Ends every allocation and closes every socket and connection (and gives
 * back the snapshot a retired context holds). */
void turn_context_free(struct turn_context *context);

/* A datagram of SIZE bytes from PEER on the UDP LISTENER (the worker's
 * socket FD). */
void turn_context_datagram(struct turn_context *context, const struct listener_config *listener,
			   int fd, const uint8_t *data, size_t size, const struct sockaddr *peer,
			   socklen_t peer_len);

/* ---- A reload ---- */

struct turn_context_change;

/* What CONTEXT takes from CONFIG, the new snapshot (with [turn], checked by
 * turn_context_check): the server's settings (turn_server_change_new), the
 * peer policy with the edge's own addresses, the relay address, the limits
 * of new TCP connections and of the turn_tcp budget, and the table of UDP
 * listeners, where a listener with the address and port of one serving now
 * is that one (the worker keeps its socket: same descriptor, same queue).
 * Nothing of CONTEXT changes.  NULL with "FILE:LINE: ..." lines on ERRORS. */
struct turn_context_change *turn_context_prepare(struct turn_context *context,
						 const struct sxedge_config *config, FILE *errors);
/* CONTEXT takes CHANGE; cannot fail.  The allocations made through a UDP
 * listener CHANGE does not keep end (reason listener_removed: logged,
 * counted), what was queued for it sent first (the worker closes its socket
 * after the commit); from now on CONTEXT points into the new snapshot only. */
void turn_context_commit(struct turn_context *context, struct turn_context_change *change);
/* Frees a CHANGE never committed. */
void turn_context_abort(struct turn_context_change *change);

/* A reload removed [turn] (and so every TURN listener): CONTEXT takes a
 * reference to its snapshot and serves nothing new; its UDP allocations
 * end (listener_removed), its TCP clients close once flushed (their
 * allocations ending with them), and once the last of its connections is
 * gone ON_EMPTIED(ARG) is called from the loop (to free it). */
void turn_context_retire(struct turn_context *context, void (*on_emptied)(void *arg), void *arg);
/* A stream or peer connection of CONTEXT ended: a retired context that
 * holds none any more is told so (from the loop). */
void turn_context_connection_gone(struct turn_context *context);

/* SIGTERM: the UDP listeners are closed, so their queues go (a UDP
 * allocation can no longer be served); TCP clients go on. */
void turn_context_drain(struct turn_context *context);
/* The drain is over: every allocation ends, every connection closes. */
void turn_context_stop(struct turn_context *context);

/* The clock TURN runs on: monotonic milliseconds, and the wall clock in
 * seconds (username expiry). */
uint64_t turn_context_now_ms(void);
uint64_t turn_context_wall_s(void);

/* Something a client or peer sent was handled: arms the expiry timer for
 * what the server now holds, and the flush for what was queued. */
void turn_context_after(struct turn_context *context);
/* Datagrams were queued: they leave after this pass of the loop. */
void turn_context_schedule_flush(struct turn_context *context);

/* A refusal of TURN's own (not the server's): counted and logged. */
void turn_context_refused(struct turn_context *context, const struct transport_address *client,
			  const char *reason, int code);

/* "ADDR:PORT" of ADDRESS into OUT. */
void turn_context_format(const struct transport_address *address, char *out, size_t size);

#endif
