/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/udp_socket: a socket is granted what the kernel allows
 * of UDP_SOCKET_BUFFER each way, beyond the default it starts with. */
#include <check.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_suite.h"
#include "udp_socket.h"

/* A number from /proc/sys/net/core/NAME, or 0. */
static long core_setting(const char *name)
{
	char path[96];
	long value = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/core/%s", name);
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return 0;
	if (fscanf(file, "%ld", &value) != 1)
		value = 0;
	fclose(file);
	return value;
}

static int option(int fd, int name)
{
	int value = 0;
	socklen_t length = sizeof(value);

	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, name, &value, &length), 0);
	return value;
}

/* The kernel reports twice what it granted (its bookkeeping share). */
static void assert_granted(int fd, int name, const char *max_setting)
{
	long max = core_setting(max_setting);
	long expected = max < UDP_SOCKET_BUFFER ? max : UDP_SOCKET_BUFFER;

	ck_assert_int_eq(option(fd, name), 2 * expected);
}

START_TEST(test_buffers_sized)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	int receive_before = option(fd, SO_RCVBUF);

	udp_socket_size_buffers(fd);
	assert_granted(fd, SO_RCVBUF, "rmem_max");
	assert_granted(fd, SO_SNDBUF, "wmem_max");
	if (core_setting("rmem_max") > core_setting("rmem_default"))
		ck_assert_int_gt(option(fd, SO_RCVBUF), receive_before);
	close(fd);
}
END_TEST

static Suite *udp_socket_suite(void)
{
	Suite *suite = suite_create("udp_socket");
	TCase *sizes = tcase_create("buffers");

	tcase_add_test(sizes, test_buffers_sized);
	suite_add_tcase(suite, sizes);
	return suite;
}

int main(void)
{
	return test_suite_run(udp_socket_suite());
}
