/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/port_range, with real sockets on a loopback address of
 * their own (127.0.31.7, ports below the kernel's ephemeral range): a port
 * from the range, taken ports skipped, a full range refused, a closed port
 * back in the range, a random start, the bound on tries, and the errors. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "port_range.h"
#include "udp_socket.h"
#include "test_suite.h"

#define TEST_ADDRESS "127.0.31.7"

static struct sockaddr_storage test_address(void)
{
	struct sockaddr_storage address;

	ck_assert_int_gt(address_parse(TEST_ADDRESS, 0, &address), 0);
	return address;
}

/* A socket of KIND bound (and listening) at PORT outside port_range, to
 * take that port. */
static int take_port(enum port_range_socket kind, uint16_t port)
{
	struct sockaddr_storage address;
	int fd = socket(AF_INET, kind == PORT_RANGE_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(address_parse(TEST_ADDRESS, port, &address), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&address, sizeof(struct sockaddr_in)), 0);
	if (kind == PORT_RANGE_TCP_LISTENER)
		ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in address;
	socklen_t length = sizeof(address);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
	return ntohs(address.sin_port);
}

START_TEST(test_udp_in_range)
{
	struct port_range range = { 31000, 31015 };
	struct sockaddr_storage address = test_address();
	uint16_t port = 0;
	int fd = port_range_bind(&range, &address, PORT_RANGE_UDP, 16, &port);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_ge(port, 31000);
	ck_assert_uint_le(port, 31015);
	ck_assert_uint_eq(bound_port(fd), port);
	int type;
	socklen_t length = sizeof(type);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length), 0);
	ck_assert_int_eq(type, SOCK_DGRAM);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Its buffers are a relay's (udp_socket.h), not the kernel's default. */
	int sized = socket(AF_INET, SOCK_DGRAM, 0), got, expected;
	udp_socket_size_buffers(sized);
	length = sizeof(got);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &length), 0);
	ck_assert_int_eq(getsockopt(sized, SOL_SOCKET, SO_RCVBUF, &expected, &length), 0);
	ck_assert_int_eq(got, expected);
	close(sized);
	close(fd);
}
END_TEST

/* The listener accepts a connection on the port it reports. */
START_TEST(test_tcp_listener_listens)
{
	struct port_range range = { 31020, 31035 };
	struct sockaddr_storage address = test_address();
	uint16_t port = 0;
	int listener = port_range_bind(&range, &address, PORT_RANGE_TCP_LISTENER, 16, &port);

	ck_assert_int_ge(listener, 0);
	ck_assert_uint_eq(bound_port(listener), port);
	int client = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_storage to;
	address_parse(TEST_ADDRESS, port, &to);
	ck_assert_int_eq(connect(client, (struct sockaddr *)&to, sizeof(struct sockaddr_in)), 0);
	close(client);
	close(listener);
}
END_TEST

/* Seven of eight ports taken: whatever the start, the eighth is found. */
static void check_taken_skipped(enum port_range_socket kind, uint16_t first)
{
	struct port_range range = { first, (uint16_t)(first + 7) };
	struct sockaddr_storage address = test_address();
	int taken[7];
	uint16_t free_port = (uint16_t)(first + 5);

	for (uint16_t port = first, i = 0; port <= range.last; port++) {
		if (port != free_port)
			taken[i++] = take_port(kind, port);
	}
	for (int round = 0; round < 32; round++) {
		uint16_t port = 0;
		int fd = port_range_bind(&range, &address, kind, 8, &port);
		ck_assert_int_ge(fd, 0);
		ck_assert_uint_eq(port, free_port);
		ck_assert_uint_eq(bound_port(fd), free_port);
		close(fd);
	}
	for (int i = 0; i < 7; i++)
		close(taken[i]);
}

START_TEST(test_taken_ports_skipped)
{
	check_taken_skipped(PORT_RANGE_UDP, 31040);
	check_taken_skipped(PORT_RANGE_TCP_LISTENER, 31050);
}
END_TEST

START_TEST(test_full_range)
{
	struct port_range range = { 31060, 31063 };
	struct sockaddr_storage address = test_address();
	int taken[4];
	uint16_t port = 0;

	for (int i = 0; i < 4; i++)
		taken[i] = take_port(PORT_RANGE_UDP, (uint16_t)(31060 + i));
	/* More tries than ports: each port is tried once, then the answer. */
	errno = 0;
	ck_assert_int_eq(port_range_bind(&range, &address, PORT_RANGE_UDP, 1000, &port), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	for (int i = 0; i < 4; i++)
		close(taken[i]);
}
END_TEST

/* A range of one port: taken while its socket lives (also against a socket
 * of this module: no sharing), free once it is closed. */
static void check_closed_port_returns(enum port_range_socket kind, uint16_t only)
{
	struct port_range range = { only, only };
	struct sockaddr_storage address = test_address();
	uint16_t port = 0;

	int fd = port_range_bind(&range, &address, kind, 4, &port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(port_range_bind(&range, &address, kind, 4, &port), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	close(fd);
	fd = port_range_bind(&range, &address, kind, 4, &port);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(port, only);
	close(fd);
}

START_TEST(test_closed_port_returns)
{
	check_closed_port_returns(PORT_RANGE_UDP, 31070);
	check_closed_port_returns(PORT_RANGE_TCP_LISTENER, 31071);
}
END_TEST

/* Twenty binds in a range of 500, each closed before the next, do not all
 * land on one port (a fixed start would give the first port every time). */
START_TEST(test_random_start)
{
	struct port_range range = { 31100, 31599 };
	struct sockaddr_storage address = test_address();
	uint16_t first_port = 0;
	bool differs = false;

	for (int i = 0; i < 20; i++) {
		uint16_t port = 0;
		int fd = port_range_bind(&range, &address, PORT_RANGE_UDP, 500, &port);
		ck_assert_int_ge(fd, 0);
		if (i == 0)
			first_port = port;
		differs |= port != first_port;
		close(fd);
	}
	ck_assert(differs);
}
END_TEST

/* One free port in 32 and one try: most attempts give up (a search that
 * ignored TRIES would always find it), and a success is that port. */
START_TEST(test_tries_bounded)
{
	struct port_range range = { 31600, 31631 };
	struct sockaddr_storage address = test_address();
	int taken[31];
	unsigned refused = 0;

	for (uint16_t port = 31600, i = 0; port <= 31631; port++) {
		if (port != 31610)
			taken[i++] = take_port(PORT_RANGE_UDP, port);
	}
	for (int attempt = 0; attempt < 40; attempt++) {
		uint16_t port = 0;
		int fd = port_range_bind(&range, &address, PORT_RANGE_UDP, 1, &port);
		if (fd < 0) {
			ck_assert_int_eq(errno, EADDRINUSE);
			refused++;
			continue;
		}
		ck_assert_uint_eq(port, 31610);
		close(fd);
	}
	ck_assert_uint_ge(refused, 20);
	for (int i = 0; i < 31; i++)
		close(taken[i]);
}
END_TEST

START_TEST(test_errors)
{
	struct port_range range = { 31700, 31710 }, backwards = { 31710, 31700 }, zero = { 0, 10 };
	struct sockaddr_storage address = test_address(), foreign, none;
	uint16_t port = 0;

	ck_assert_int_eq(port_range_bind(&backwards, &address, PORT_RANGE_UDP, 4, &port), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(port_range_bind(&zero, &address, PORT_RANGE_UDP, 4, &port), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(port_range_bind(&range, &address, PORT_RANGE_UDP, 0, &port), -1);
	ck_assert_int_eq(errno, EINVAL);
	memset(&none, 0, sizeof(none));
	ck_assert_int_eq(port_range_bind(&range, &none, PORT_RANGE_UDP, 4, &port), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Not this host's address (TEST-NET-1): no other port would help. */
	ck_assert_int_gt(address_parse("192.0.2.1", 0, &foreign), 0);
	ck_assert_int_eq(port_range_bind(&range, &foreign, PORT_RANGE_UDP, 4, &port), -1);
	ck_assert_int_eq(errno, EADDRNOTAVAIL);
	ck_assert_uint_eq(port_range_size(&range), 11);
}
END_TEST

static Suite *port_range_suite(void)
{
	Suite *suite = suite_create("port_range");
	TCase *tcase = tcase_create("bind");
	tcase_add_test(tcase, test_udp_in_range);
	tcase_add_test(tcase, test_tcp_listener_listens);
	tcase_add_test(tcase, test_taken_ports_skipped);
	tcase_add_test(tcase, test_full_range);
	tcase_add_test(tcase, test_closed_port_returns);
	tcase_add_test(tcase, test_random_start);
	tcase_add_test(tcase, test_tries_bounded);
	tcase_add_test(tcase, test_errors);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(port_range_suite());
}
