/* SPDX-License-Identifier: ISC */
/* udp_batch: recvmmsg into preallocated buffers, and per-socket queues of
 * datagrams in a shared set of preallocated slots, sent with sendmmsg
 * (udp_batch.h). */
#include "udp_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NO_SLOT UINT32_MAX

/* ---- Receiving ---- */

struct udp_receiver {
	unsigned slots;
	size_t datagram_max;
	struct mmsghdr *messages;
	struct iovec *vectors;
	struct udp_datagram *datagrams;
	unsigned char *buffers; /* slots * datagram_max bytes */
};

struct udp_receiver *udp_receiver_new(unsigned slots, size_t datagram_max)
{
	struct udp_receiver *receiver;

	if (slots == 0 || datagram_max == 0 || datagram_max > SIZE_MAX / slots)
		return NULL;
	receiver = calloc(1, sizeof(*receiver));
	if (receiver == NULL)
		return NULL;
	receiver->slots = slots;
	receiver->datagram_max = datagram_max;
	receiver->messages = calloc(slots, sizeof(*receiver->messages));
	receiver->vectors = calloc(slots, sizeof(*receiver->vectors));
	receiver->datagrams = calloc(slots, sizeof(*receiver->datagrams));
	receiver->buffers = malloc(slots * datagram_max);
	if (receiver->messages == NULL || receiver->vectors == NULL ||
	    receiver->datagrams == NULL || receiver->buffers == NULL) {
		udp_receiver_free(receiver);
		return NULL;
	}
	/* Each message points at its own buffer and source for good; a read
	 * only resets what the kernel overwrites. */
	for (unsigned i = 0; i < slots; i++) {
		struct udp_datagram *datagram = &receiver->datagrams[i];
		datagram->data = receiver->buffers + i * datagram_max;
		receiver->vectors[i] =
			(struct iovec){ .iov_base = datagram->data, .iov_len = datagram_max };
		receiver->messages[i].msg_hdr = (struct msghdr){
			.msg_name = &datagram->source,
			.msg_iov = &receiver->vectors[i],
			.msg_iovlen = 1,
		};
	}
	return receiver;
}

void udp_receiver_free(struct udp_receiver *receiver)
{
	if (receiver == NULL)
		return;
	free(receiver->messages);
	free(receiver->vectors);
	free(receiver->datagrams);
	free(receiver->buffers);
	free(receiver);
}

int udp_receiver_read(struct udp_receiver *receiver, int fd)
{
	int n;

	for (unsigned i = 0; i < receiver->slots; i++) {
		receiver->messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
		receiver->messages[i].msg_hdr.msg_flags = 0;
	}
	do
		n = recvmmsg(fd, receiver->messages, receiver->slots, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct udp_datagram *datagram = &receiver->datagrams[i];
		const struct mmsghdr *message = &receiver->messages[i];
		datagram->length = message->msg_len;
		datagram->truncated = (message->msg_hdr.msg_flags & MSG_TRUNC) != 0;
		datagram->source_length = message->msg_hdr.msg_namelen;
	}
	return n;
}

const struct udp_datagram *udp_receiver_datagram(const struct udp_receiver *receiver,
						 unsigned index)
{
	return &receiver->datagrams[index];
}

/* ---- Sending ---- */

struct udp_slot {
	uint32_t next; /* in its queue, or in the free list */
	socklen_t to_length;
	size_t length;
	struct sockaddr_storage to;
};

struct udp_sender {
	uint32_t slots_total;
	size_t datagram_max;
	uint32_t queue_limit;
	unsigned batch;
	udp_queue_blocked_callback *blocked;
	void *arg;
	struct udp_slot *slots;
	unsigned char *buffers; /* slots_total * datagram_max bytes */
	uint32_t free_head;
	struct udp_queue *pending; /* committed to since the last udp_sender_flush */
	struct mmsghdr *messages; /* batch of each, filled at a flush */
	struct iovec *vectors;
	struct udp_sender_counts counts;
};

struct udp_sender *udp_sender_new(unsigned slots, size_t datagram_max, unsigned queue_limit,
				  unsigned batch, udp_queue_blocked_callback *blocked, void *arg)
{
	struct udp_sender *sender;

	if (slots == 0 || slots >= NO_SLOT || datagram_max == 0 || queue_limit == 0 || batch == 0 ||
	    datagram_max > SIZE_MAX / slots)
		return NULL;
	sender = calloc(1, sizeof(*sender));
	if (sender == NULL)
		return NULL;
	*sender = (struct udp_sender){
		.slots_total = slots,
		.datagram_max = datagram_max,
		.queue_limit = queue_limit,
		.batch = batch,
		.blocked = blocked,
		.arg = arg,
		.slots = calloc(slots, sizeof(struct udp_slot)),
		.buffers = malloc(slots * datagram_max),
		.messages = calloc(batch, sizeof(struct mmsghdr)),
		.vectors = calloc(batch, sizeof(struct iovec)),
	};
	if (sender->slots == NULL || sender->buffers == NULL || sender->messages == NULL ||
	    sender->vectors == NULL) {
		udp_sender_free(sender);
		return NULL;
	}
	for (uint32_t i = 0; i < slots; i++)
		sender->slots[i].next = i + 1 < slots ? i + 1 : NO_SLOT;
	sender->free_head = 0;
	return sender;
}

void udp_sender_free(struct udp_sender *sender)
{
	if (sender == NULL)
		return;
	free(sender->slots);
	free(sender->buffers);
	free(sender->messages);
	free(sender->vectors);
	free(sender);
}

struct udp_sender_counts udp_sender_counts(const struct udp_sender *sender)
{
	return sender->counts;
}

size_t udp_sender_datagram_max(const struct udp_sender *sender)
{
	return sender->datagram_max;
}

static unsigned char *slot_buffer(const struct udp_sender *sender, uint32_t slot)
{
	return sender->buffers + (size_t)slot * sender->datagram_max;
}

void udp_queue_init(struct udp_queue *queue, int fd)
{
	*queue = (struct udp_queue){ .fd = fd, .head = NO_SLOT, .tail = NO_SLOT };
}

static void pending_add(struct udp_sender *sender, struct udp_queue *queue)
{
	queue->pending = true;
	queue->pending_previous = NULL;
	queue->pending_next = sender->pending;
	if (sender->pending != NULL)
		sender->pending->pending_previous = queue;
	sender->pending = queue;
}

static void pending_remove(struct udp_sender *sender, struct udp_queue *queue)
{
	if (!queue->pending)
		return;
	if (queue->pending_previous != NULL)
		queue->pending_previous->pending_next = queue->pending_next;
	else
		sender->pending = queue->pending_next;
	if (queue->pending_next != NULL)
		queue->pending_next->pending_previous = queue->pending_previous;
	queue->pending = false;
	queue->pending_previous = queue->pending_next = NULL;
}

unsigned char *udp_queue_slot(struct udp_sender *sender, struct udp_queue *queue)
{
	if (queue->count >= sender->queue_limit || sender->free_head == NO_SLOT) {
		sender->counts.dropped++;
		return NULL;
	}
	return slot_buffer(sender, sender->free_head);
}

void udp_queue_commit(struct udp_sender *sender, struct udp_queue *queue, size_t length,
		      const struct sockaddr *to, socklen_t to_length)
{
	uint32_t index = sender->free_head;
	struct udp_slot *slot = &sender->slots[index];

	sender->free_head = slot->next;
	slot->next = NO_SLOT;
	slot->length = length;
	slot->to_length = to_length;
	if (to_length != 0)
		memcpy(&slot->to, to, to_length);
	if (queue->tail != NO_SLOT)
		sender->slots[queue->tail].next = index;
	else
		queue->head = index;
	queue->tail = index;
	queue->count++;
	if (!queue->blocked && !queue->pending)
		pending_add(sender, queue);
}

/* Gives the oldest datagram of QUEUE back to the free slots. */
static void release_head(struct udp_sender *sender, struct udp_queue *queue)
{
	uint32_t index = queue->head;
	struct udp_slot *slot = &sender->slots[index];

	queue->head = slot->next;
	if (queue->head == NO_SLOT)
		queue->tail = NO_SLOT;
	queue->count--;
	slot->next = sender->free_head;
	sender->free_head = index;
}

/* Points the sender's messages at up to BATCH of QUEUE's oldest datagrams;
 * returns how many. */
static unsigned fill_batch(struct udp_sender *sender, const struct udp_queue *queue)
{
	unsigned n = 0;

	for (uint32_t index = queue->head; index != NO_SLOT && n < sender->batch;
	     index = sender->slots[index].next, n++) {
		struct udp_slot *slot = &sender->slots[index];
		sender->vectors[n] = (struct iovec){ .iov_base = slot_buffer(sender, index),
						     .iov_len = slot->length };
		sender->messages[n].msg_hdr = (struct msghdr){
			.msg_name = slot->to_length != 0 ? &slot->to : NULL,
			.msg_namelen = slot->to_length,
			.msg_iov = &sender->vectors[n],
			.msg_iovlen = 1,
		};
	}
	return n;
}

bool udp_queue_flush(struct udp_sender *sender, struct udp_queue *queue)
{
	/* Whatever happens it leaves the list: empty, or blocked until the
	 * caller flushes it once the socket is writable. */
	pending_remove(sender, queue);
	while (queue->count > 0) {
		unsigned n = fill_batch(sender, queue);
		int sent = sendmmsg(queue->fd, sender->messages, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent > 0) {
			/* A short count: the next call reports what stopped it. */
			for (int i = 0; i < sent; i++)
				release_head(sender, queue);
			sender->counts.sent += (uint64_t)sent;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			queue->blocked = true;
			return false;
		}
		/* This datagram will never go (no route, a bad address...):
		 * waiting on it would stop the ones behind it for good. */
		release_head(sender, queue);
		sender->counts.failed++;
	}
	queue->blocked = false;
	return true;
}

void udp_sender_flush(struct udp_sender *sender)
{
	while (sender->pending != NULL) {
		struct udp_queue *queue = sender->pending;
		if (!udp_queue_flush(sender, queue) && sender->blocked != NULL)
			sender->blocked(queue, sender->arg);
	}
}

void udp_queue_clear(struct udp_sender *sender, struct udp_queue *queue)
{
	sender->counts.dropped += queue->count;
	while (queue->count > 0)
		release_head(sender, queue);
	pending_remove(sender, queue);
	queue->blocked = false;
}
