/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/udp_batch with real sockets: UDP on loopback for
 * batches in and out (sources, destinations, order, truncation, a
 * datagram the kernel refuses), and a Unix datagram socket pair for a
 * socket that says EAGAIN (a loopback UDP socket never fills: the kernel
 * drops at the receiver instead), where what was not sent must stay queued,
 * bounded, and the excess be counted as dropped. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "address.h"
#include "test_suite.h"
#include "udp_batch.h"

/* A non-blocking UDP socket on 127.0.0.1 at a port the kernel picks, with
 * its address in *ADDRESS. */
static int udp_socket(struct sockaddr_storage *address)
{
	socklen_t length = sizeof(*address);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(address_parse("127.0.0.1", 0, address), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)address, sizeof(struct sockaddr_in)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)address, &length), 0);
	return fd;
}

static void send_text(int fd, const struct sockaddr_storage *to, const char *text)
{
	ck_assert_int_eq(sendto(fd, text, strlen(text), 0, (const struct sockaddr *)to,
				sizeof(struct sockaddr_in)),
			 (ssize_t)strlen(text));
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
	return x->sin_family == y->sin_family && x->sin_port == y->sin_port &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* Waits up to a second for FD to have a datagram. */
static bool wait_readable(int fd)
{
	struct timeval timeout = { .tv_sec = 1 };
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	return select(fd + 1, &set, NULL, NULL, &timeout) == 1;
}

/* Reads FD's next datagram into BUF (NUL-terminated) once it comes;
 * returns its length, or -1 when none came within a second. */
static ssize_t receive_text(int fd, char *buf, size_t size)
{
	if (!wait_readable(fd))
		return -1;
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Writes TEXT into QUEUE's next slot and commits it towards TO. */
static bool queue_text(struct udp_sender *sender, struct udp_queue *queue,
		       const struct sockaddr_storage *to, const char *text)
{
	unsigned char *room = udp_queue_slot(sender, queue);
	if (room == NULL)
		return false;
	memcpy(room, text, strlen(text));
	udp_queue_commit(sender, queue, strlen(text), (const struct sockaddr *)to,
			 to != NULL ? sizeof(struct sockaddr_in) : 0);
	return true;
}

/* ---- Receiving ---- */

/* Ten datagrams from two sockets come in one read, each with its bytes
 * and its source, in order; then nothing is waiting. */
START_TEST(test_receive_batch)
{
	struct sockaddr_storage server, first, second;
	int server_fd = udp_socket(&server), first_fd = udp_socket(&first),
	    second_fd = udp_socket(&second);
	struct udp_receiver *receiver = udp_receiver_new(16, 1500);
	char text[32];

	ck_assert_ptr_nonnull(receiver);
	for (int i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "datagram %d", i);
		send_text(i % 2 == 0 ? first_fd : second_fd, &server, text);
	}
	ck_assert_int_eq(udp_receiver_read(receiver, server_fd), 10);
	for (unsigned i = 0; i < 10; i++) {
		const struct udp_datagram *datagram = udp_receiver_datagram(receiver, i);
		snprintf(text, sizeof(text), "datagram %u", i);
		ck_assert_uint_eq(datagram->length, strlen(text));
		ck_assert(memcmp(datagram->data, text, strlen(text)) == 0);
		ck_assert(!datagram->truncated);
		ck_assert_uint_eq(datagram->source_length, sizeof(struct sockaddr_in));
		ck_assert(same_address(&datagram->source, i % 2 == 0 ? &first : &second));
	}
	ck_assert_int_eq(udp_receiver_read(receiver, server_fd), 0);
	udp_receiver_free(receiver);
	close(server_fd);
	close(first_fd);
	close(second_fd);
}
END_TEST

/* A read takes no more than the receiver's slots; the rest waits. */
START_TEST(test_receive_slots_bound)
{
	struct sockaddr_storage server, client;
	int server_fd = udp_socket(&server), client_fd = udp_socket(&client);
	struct udp_receiver *receiver = udp_receiver_new(4, 64);

	for (int i = 0; i < 10; i++)
		send_text(client_fd, &server, "x");
	ck_assert_int_eq(udp_receiver_read(receiver, server_fd), 4);
	ck_assert_int_eq(udp_receiver_read(receiver, server_fd), 4);
	ck_assert_int_eq(udp_receiver_read(receiver, server_fd), 2);
	ck_assert_int_eq(udp_receiver_read(receiver, server_fd), 0);
	udp_receiver_free(receiver);
	close(server_fd);
	close(client_fd);
}
END_TEST

/* A datagram longer than a slot is marked, the one after it is whole. */
START_TEST(test_receive_truncated)
{
	struct sockaddr_storage server, client;
	int server_fd = udp_socket(&server), client_fd = udp_socket(&client);
	struct udp_receiver *receiver = udp_receiver_new(4, 8);

	send_text(client_fd, &server, "0123456789abcdef");
	send_text(client_fd, &server, "short");
	ck_assert_int_eq(udp_receiver_read(receiver, server_fd), 2);
	const struct udp_datagram *first = udp_receiver_datagram(receiver, 0);
	ck_assert(first->truncated);
	ck_assert_uint_eq(first->length, 8);
	ck_assert(memcmp(first->data, "01234567", 8) == 0);
	const struct udp_datagram *second = udp_receiver_datagram(receiver, 1);
	ck_assert(!second->truncated);
	ck_assert_uint_eq(second->length, 5);
	udp_receiver_free(receiver);
	close(server_fd);
	close(client_fd);
}
END_TEST

START_TEST(test_receive_error)
{
	struct udp_receiver *receiver = udp_receiver_new(4, 64);

	ck_assert_int_eq(udp_receiver_read(receiver, -1), -1);
	ck_assert_int_eq(errno, EBADF);
	udp_receiver_free(receiver);
	ck_assert_ptr_null(udp_receiver_new(0, 64));
	ck_assert_ptr_null(udp_receiver_new(4, 0));
}
END_TEST

/* ---- Sending ---- */

/* Twenty datagrams on one socket to two destinations, sent by one flush
 * in batches of eight, arrive in order; the queue is empty after. */
START_TEST(test_send_batch)
{
	struct sockaddr_storage source, first, second;
	int source_fd = udp_socket(&source), first_fd = udp_socket(&first),
	    second_fd = udp_socket(&second);
	struct udp_sender *sender = udp_sender_new(32, 1500, 32, 8, NULL, NULL);
	struct udp_queue queue;
	char text[32], got[64];

	ck_assert_ptr_nonnull(sender);
	udp_queue_init(&queue, source_fd);
	for (int i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "to %d", i);
		ck_assert(queue_text(sender, &queue, i % 2 == 0 ? &first : &second, text));
	}
	ck_assert_uint_eq(queue.count, 20);
	ck_assert_uint_eq(udp_sender_counts(sender).sent, 0); /* nothing before a flush */
	udp_sender_flush(sender);
	ck_assert_uint_eq(queue.count, 0);
	ck_assert(!queue.blocked);
	ck_assert_uint_eq(udp_sender_counts(sender).sent, 20);
	for (int i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "to %d", i);
		ck_assert_int_eq(receive_text(i % 2 == 0 ? first_fd : second_fd, got, sizeof(got)),
				 (ssize_t)strlen(text));
		ck_assert_str_eq(got, text);
	}
	/* Every slot is free again: the whole sender can be queued once more. */
	for (int i = 0; i < 32; i++)
		ck_assert(queue_text(sender, &queue, &first, "again"));
	ck_assert(udp_queue_flush(sender, &queue));
	ck_assert_uint_eq(udp_sender_counts(sender).dropped, 0);
	udp_queue_clear(sender, &queue);
	udp_sender_free(sender);
	close(source_fd);
	close(first_fd);
	close(second_fd);
}
END_TEST

/* A datagram the kernel refuses (an IPv6 destination on an IPv4 socket)
 * is counted as failed and does not hold back the ones behind it. */
START_TEST(test_send_failure_skipped)
{
	struct sockaddr_storage source, destination, wrong;
	int source_fd = udp_socket(&source), destination_fd = udp_socket(&destination);
	struct udp_sender *sender = udp_sender_new(8, 64, 8, 8, NULL, NULL);
	struct udp_queue queue;
	char got[64];

	udp_queue_init(&queue, source_fd);
	ck_assert_int_gt(address_parse("::1", 9, &wrong), 0);
	ck_assert(queue_text(sender, &queue, &destination, "before"));
	unsigned char *room = udp_queue_slot(sender, &queue);
	memcpy(room, "lost", 4);
	udp_queue_commit(sender, &queue, 4, (struct sockaddr *)&wrong, sizeof(struct sockaddr_in6));
	ck_assert(queue_text(sender, &queue, &destination, "after"));
	ck_assert(udp_queue_flush(sender, &queue));
	struct udp_sender_counts counts = udp_sender_counts(sender);
	ck_assert_uint_eq(counts.sent, 2);
	ck_assert_uint_eq(counts.failed, 1);
	ck_assert_int_eq(receive_text(destination_fd, got, sizeof(got)), 6);
	ck_assert_str_eq(got, "before");
	ck_assert_int_eq(receive_text(destination_fd, got, sizeof(got)), 5);
	ck_assert_str_eq(got, "after");
	udp_sender_free(sender);
	close(source_fd);
	close(destination_fd);
}
END_TEST

/* A Unix datagram socket pair whose first socket says EAGAIN after a few
 * unread datagrams (its send buffer holds them until they are read). */
static void full_pair(int pair[2])
{
	int size = 4096;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, pair), 0);
	ck_assert_int_eq(setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
}

static unsigned blocked_calls;
static struct udp_queue *blocked_queue;

static void note_blocked(struct udp_queue *queue, void *arg)
{
	ck_assert_ptr_eq(arg, &blocked_calls);
	blocked_calls++;
	blocked_queue = queue;
}

/* A socket that stops taking datagrams: the rest stays queued in order,
 * the queue is blocked (and the callback told), new datagrams queue up to
 * the limit and beyond it are dropped and counted; once the reader has
 * drained the socket a flush sends the rest, and every datagram arrives
 * exactly once, in order. */
START_TEST(test_send_blocked)
{
	int pair[2];
	struct udp_sender *sender = udp_sender_new(64, 64, 24, 8, note_blocked, &blocked_calls);
	struct udp_queue queue;
	char text[32], got[64];
	int queued = 0, received = 0;

	full_pair(pair);
	udp_queue_init(&queue, pair[0]);
	blocked_calls = 0;
	for (; queued < 24; queued++) {
		snprintf(text, sizeof(text), "%d", queued);
		ck_assert(queue_text(sender, &queue, NULL, text));
	}
	udp_sender_flush(sender);
	ck_assert(queue.blocked);
	ck_assert_uint_eq(blocked_calls, 1);
	ck_assert_ptr_eq(blocked_queue, &queue);
	uint64_t sent = udp_sender_counts(sender).sent;
	ck_assert_uint_gt(sent, 0);
	ck_assert_uint_lt(sent, 24);
	ck_assert_uint_eq(queue.count, 24 - sent);

	/* Blocked: more is queued up to the limit, the rest dropped. */
	unsigned dropped = 0;
	for (int i = 0; i < 30; i++) {
		snprintf(text, sizeof(text), "%d", queued);
		if (queue_text(sender, &queue, NULL, text))
			queued++;
		else
			dropped++;
	}
	ck_assert_uint_eq(queue.count, 24);
	ck_assert_uint_eq(dropped, 30 - sent);
	ck_assert_uint_eq(udp_sender_counts(sender).dropped, dropped);
	/* A blocked queue is not on the flush list: no second callback. */
	udp_sender_flush(sender);
	ck_assert_uint_eq(blocked_calls, 1);

	/* The reader drains; flushes until the queue is empty. */
	for (int rounds = 0; queue.count > 0 && rounds < 100; rounds++) {
		while (recv(pair[1], got, sizeof(got) - 1, MSG_DONTWAIT) > 0)
			received++;
		udp_queue_flush(sender, &queue);
	}
	ck_assert_uint_eq(queue.count, 0);
	ck_assert(!queue.blocked);
	ck_assert_uint_eq(udp_sender_counts(sender).sent, (uint64_t)queued);
	while (recv(pair[1], got, sizeof(got) - 1, MSG_DONTWAIT) > 0)
		received++;
	ck_assert_int_eq(received, queued); /* the dropped ones never went */
	udp_sender_free(sender);
	close(pair[0]);
	close(pair[1]);
}
END_TEST

/* The same run, reading every datagram: each arrives once, in order. */
START_TEST(test_send_blocked_order)
{
	int pair[2];
	struct udp_sender *sender = udp_sender_new(64, 64, 64, 8, NULL, NULL);
	struct udp_queue queue;
	char text[32], got[64];
	int next_expected = 0;
	ssize_t n;

	full_pair(pair);
	udp_queue_init(&queue, pair[0]);
	for (int i = 0; i < 64; i++) {
		snprintf(text, sizeof(text), "%d", i);
		ck_assert(queue_text(sender, &queue, NULL, text));
	}
	for (int rounds = 0; rounds < 100 && next_expected < 64; rounds++) {
		udp_queue_flush(sender, &queue);
		while ((n = recv(pair[1], got, sizeof(got) - 1, MSG_DONTWAIT)) > 0) {
			got[n] = '\0';
			snprintf(text, sizeof(text), "%d", next_expected++);
			ck_assert_str_eq(got, text);
		}
	}
	ck_assert_int_eq(next_expected, 64);
	ck_assert_uint_eq(udp_sender_counts(sender).sent, 64);
	udp_sender_free(sender);
	close(pair[0]);
	close(pair[1]);
}
END_TEST

/* Queues share the sender's slots: once they are all taken, any queue's
 * datagram is dropped; clearing a queue gives its slots back, counts them
 * dropped and takes it off the flush list. */
START_TEST(test_shared_slots_and_clear)
{
	struct sockaddr_storage a, b, destination;
	int a_fd = udp_socket(&a), b_fd = udp_socket(&b), destination_fd = udp_socket(&destination);
	struct udp_sender *sender = udp_sender_new(4, 64, 4, 8, NULL, NULL);
	struct udp_queue first, second;
	char got[64];

	udp_queue_init(&first, a_fd);
	udp_queue_init(&second, b_fd);
	for (int i = 0; i < 4; i++)
		ck_assert(queue_text(sender, &first, &destination, "first"));
	ck_assert(!queue_text(sender, &second, &destination, "second"));
	ck_assert_uint_eq(udp_sender_counts(sender).dropped, 1);
	udp_queue_clear(sender, &first);
	ck_assert_uint_eq(first.count, 0);
	ck_assert_uint_eq(udp_sender_counts(sender).dropped, 5);
	memset(&first, 0xa5, sizeof(first)); /* as if its socket's struct were freed */
	ck_assert(queue_text(sender, &second, &destination, "second"));
	udp_sender_flush(sender); /* only second is left on the list */
	ck_assert_uint_eq(udp_sender_counts(sender).sent, 1);
	ck_assert_int_eq(receive_text(destination_fd, got, sizeof(got)), 6);
	ck_assert_str_eq(got, "second");
	ck_assert_int_eq(receive_text(destination_fd, got, sizeof(got)), -1);
	udp_sender_free(sender);
	close(a_fd);
	close(b_fd);
	close(destination_fd);
}
END_TEST

/* One flush sends every queue committed to, each from its own socket. */
START_TEST(test_flush_every_queue)
{
	struct sockaddr_storage address[3], destination;
	int fds[3], destination_fd = udp_socket(&destination);
	struct udp_sender *sender = udp_sender_new(16, 64, 8, 8, NULL, NULL);
	struct udp_queue queues[3];
	struct udp_receiver *receiver = udp_receiver_new(16, 64);
	unsigned from[3] = { 0 };

	for (int i = 0; i < 3; i++) {
		fds[i] = udp_socket(&address[i]);
		udp_queue_init(&queues[i], fds[i]);
		for (int j = 0; j <= i; j++)
			ck_assert(queue_text(sender, &queues[i], &destination, "hello"));
	}
	udp_sender_flush(sender);
	ck_assert_uint_eq(udp_sender_counts(sender).sent, 6);
	for (int got = 0; got < 6;) {
		ck_assert(wait_readable(destination_fd));
		int n = udp_receiver_read(receiver, destination_fd);
		for (int i = 0; i < n; i++, got++) {
			const struct udp_datagram *datagram =
				udp_receiver_datagram(receiver, (unsigned)i);
			for (int k = 0; k < 3; k++)
				from[k] += same_address(&datagram->source, &address[k]);
		}
	}
	ck_assert_uint_eq(from[0], 1);
	ck_assert_uint_eq(from[1], 2);
	ck_assert_uint_eq(from[2], 3);
	udp_receiver_free(receiver);
	udp_sender_free(sender);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(destination_fd);
}
END_TEST

START_TEST(test_sender_sizes)
{
	ck_assert_ptr_null(udp_sender_new(0, 64, 4, 4, NULL, NULL));
	ck_assert_ptr_null(udp_sender_new(4, 0, 4, 4, NULL, NULL));
	ck_assert_ptr_null(udp_sender_new(4, 64, 0, 4, NULL, NULL));
	ck_assert_ptr_null(udp_sender_new(4, 64, 4, 0, NULL, NULL));
	struct udp_sender *sender = udp_sender_new(4, 1472, 4, 4, NULL, NULL);
	ck_assert_uint_eq(udp_sender_datagram_max(sender), 1472);
	udp_sender_free(sender);
}
END_TEST

static Suite *udp_batch_suite(void)
{
	Suite *suite = suite_create("udp_batch");
	TCase *receiving = tcase_create("receiving");
	tcase_add_test(receiving, test_receive_batch);
	tcase_add_test(receiving, test_receive_slots_bound);
	tcase_add_test(receiving, test_receive_truncated);
	tcase_add_test(receiving, test_receive_error);
	suite_add_tcase(suite, receiving);
	TCase *sending = tcase_create("sending");
	tcase_add_test(sending, test_send_batch);
	tcase_add_test(sending, test_send_failure_skipped);
	tcase_add_test(sending, test_send_blocked);
	tcase_add_test(sending, test_send_blocked_order);
	tcase_add_test(sending, test_shared_slots_and_clear);
	tcase_add_test(sending, test_flush_every_queue);
	tcase_add_test(sending, test_sender_sizes);
	suite_add_tcase(suite, sending);
	return suite;
}

int main(void)
{
	return test_suite_run(udp_batch_suite());
}
