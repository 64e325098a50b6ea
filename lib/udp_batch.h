/* SPDX-License-Identifier: ISC */
/* udp_batch: datagrams in and out of non-blocking sockets, many per system
 * call (recvmmsg, sendmmsg), in memory set aside once, so that a relay
 * moving tens of thousands of packets a second makes no allocation and few
 * system calls per packet.
 *
 * Receiving: a udp_receiver holds SLOTS buffers; udp_receiver_read() fills
 * as many as are waiting on one socket in one call, and the datagrams stay
 * valid until the next read.  One receiver can serve every socket of a
 * thread, since a batch is handled before the next socket is read.
 *
 * Sending: a udp_sender holds the buffers of every datagram waiting to
 * leave, for all the sockets of a thread; each socket has a udp_queue (a
 * few words, kept in the socket's own struct) that threads its datagrams
 * through those buffers in order.  A datagram is written straight into its
 * buffer (udp_queue_slot, then udp_queue_commit), and nothing is sent until
 * a flush, so the datagrams that one received batch produces leave in a few
 * sendmmsg calls.  When a socket cannot take more (EAGAIN), what it did not
 * take stays queued, the queue is "blocked", and the caller waits until the
 * socket is writable and flushes that queue again; a queue holds at most
 * QUEUE_LIMIT datagrams and the sender at most SLOTS in all, and a datagram
 * beyond either is dropped and counted.  A datagram the kernel refuses for
 * another reason (no route, a bad address) is dropped and counted as
 * failed, and the rest of the queue goes on.
 *
 * Counts are per sender: a caller that wants them by direction (towards
 * clients, towards peers) uses one sender per direction.
 *
 * Neither side binds, connects or closes sockets, and neither registers
 * events: the caller owns its sockets and its event loop. */
#ifndef SXEDGE_UDP_BATCH_H
#define SXEDGE_UDP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- Receiving ---- */

struct udp_datagram {
	unsigned char *data; /* in the receiver's buffer */
	size_t length;
	/* It was longer than the buffer: LENGTH bytes are its start, the rest
	 * is lost.  A protocol that cannot use a piece drops it. */
	bool truncated;
	struct sockaddr_storage source;
	socklen_t source_length;
};

struct udp_receiver;

/* A receiver of up to SLOTS datagrams per read, each up to DATAGRAM_MAX
 * bytes, or NULL (out of memory, or a size of 0). */
struct udp_receiver *udp_receiver_new(unsigned slots, size_t datagram_max);
void udp_receiver_free(struct udp_receiver *receiver);

/* Reads what FD has waiting, up to the receiver's SLOTS, without blocking.
 * Returns the number of datagrams read (0: none waiting), or -1 with errno
 * for an error of the socket (which may have read nothing). */
int udp_receiver_read(struct udp_receiver *receiver, int fd);

/* The INDEX-th datagram of the last read (INDEX below what it returned). */
const struct udp_datagram *udp_receiver_datagram(const struct udp_receiver *receiver,
						 unsigned index);

/* ---- Sending ---- */

struct udp_sender;

/* One socket's datagrams waiting in a sender.  The caller keeps it (in its
 * own socket struct), sets it up with udp_queue_init and gives it back with
 * udp_queue_clear before closing the socket; its fields are the sender's. */
struct udp_queue {
	int fd;
	uint32_t head, tail; /* the sender's slots, oldest and newest */
	uint32_t count;
	bool blocked; /* the socket said EAGAIN: flush again once writable */
	bool pending; /* on the sender's list for udp_sender_flush */
	struct udp_queue *pending_previous, *pending_next;
};

/* Told of each queue that udp_sender_flush leaves blocked. */
typedef void udp_queue_blocked_callback(struct udp_queue *queue, void *arg);

struct udp_sender_counts {
	uint64_t sent; /* accepted by the kernel */
	uint64_t dropped; /* no room: the queue at its limit, or the sender full */
	uint64_t failed; /* refused by the kernel, other than EAGAIN */
};

/* A sender of up to SLOTS datagrams waiting in all, each up to DATAGRAM_MAX
 * bytes, at most QUEUE_LIMIT of them for one socket, sent up to BATCH per
 * system call; BLOCKED (may be NULL) is called with ARG for each queue that
 * udp_sender_flush leaves blocked.  NULL when out of memory or a size is 0. */
struct udp_sender *udp_sender_new(unsigned slots, size_t datagram_max, unsigned queue_limit,
				  unsigned batch, udp_queue_blocked_callback *blocked, void *arg);
/* Every queue must have been cleared first. */
void udp_sender_free(struct udp_sender *sender);

/* What the sender has sent, dropped and lost so far. */
struct udp_sender_counts udp_sender_counts(const struct udp_sender *sender);
/* The most bytes a slot holds (DATAGRAM_MAX). */
size_t udp_sender_datagram_max(const struct udp_sender *sender);

void udp_queue_init(struct udp_queue *queue, int fd);

/* Room for one more datagram of QUEUE (udp_sender_datagram_max bytes), to
 * be written and then queued by udp_queue_commit.  The room is the sender's
 * next free slot: commit before asking the sender for room again (asking
 * again without a commit gives the same room).  NULL, counted as dropped,
 * when QUEUE holds its limit or the sender has no free slot: the caller
 * drops the datagram. */
unsigned char *udp_queue_slot(struct udp_sender *sender, struct udp_queue *queue);

/* Queues the LENGTH bytes written at the room udp_queue_slot just gave, to
 * be sent to TO (TO_LENGTH 0: the socket's connected peer), and puts QUEUE
 * on the list udp_sender_flush sends, unless it is blocked.  LENGTH is at
 * most udp_sender_datagram_max; TO_LENGTH at most a sockaddr_storage. */
void udp_queue_commit(struct udp_sender *sender, struct udp_queue *queue, size_t length,
		      const struct sockaddr *to, socklen_t to_length);

/* Sends what QUEUE holds, oldest first, and takes it off the flush list.
 * Returns true when it is empty; false when the socket took only part (the
 * rest stays, QUEUE is blocked: call again once the socket is writable). */
bool udp_queue_flush(struct udp_sender *sender, struct udp_queue *queue);

/* Sends every queue committed to since the last call and not blocked, and
 * tells the BLOCKED callback of each that became blocked. */
void udp_sender_flush(struct udp_sender *sender);

/* Drops what QUEUE holds (counted as dropped) and takes it off the
 * sender's list: for a socket about to be closed. */
void udp_queue_clear(struct udp_sender *sender, struct udp_queue *queue);

#endif
