/* SPDX-License-Identifier: ISC */
/* Unit tests for src/worker: the listener table serves whatever protocol
 * the role table names.  A test protocol (no SIP) with a udp role and a tcp
 * role shows that every socket, datagram ones included, is bound by
 * worker_new, that datagrams reach the protocol's datagram handler and
 * accepted sockets its accept handler on the worker's loop, that the
 * SIGTERM drain waits for the protocol's own open connections, and that
 * with [metrics] the endpoint is bound by worker_new (a failure named by
 * the section's line), the protocol gets the registry, and the page shows
 * each role's open connections. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics_config.h"
#include "worker.h"
#include "test_suite.h"

enum {
	ROLE_ECHO_UDP,
	ROLE_ECHO_TCP
};

static const struct config_role test_roles[] = {
	[ROLE_ECHO_UDP] = { .name = "echo-udp",
			    .protocol = "echo",
			    .transport = CONFIG_TRANSPORT_UDP,
			    .tls = CONFIG_TLS_NONE },
	[ROLE_ECHO_TCP] = { .name = "echo-tcp",
			    .protocol = "echo",
			    .transport = CONFIG_TRANSPORT_TCP,
			    .tls = CONFIG_TLS_NONE },
};

/* What the echo protocol saw, for the test to read. */
static struct echo {
	uint16_t udp_port, tcp_port;
	bool keep_connections; /* false: close each accepted socket at once */
	int client_udp, client_tcp;
	char datagram[32];
	unsigned datagrams, accepted, open;
	int accepted_fds[4];
	bool stopping;
	struct metrics *metrics; /* the registry worker_new was given */
	char page[4096]; /* the page rendered after the first accept */
} echo;

static void *echo_worker_new(struct event_base *base, const struct sxedge_config *config,
			     struct metrics *metrics, FILE *errors)
{
	(void)base;
	(void)config;
	(void)errors;
	echo.metrics = metrics;
	return &echo;
}

static void echo_worker_free(void *state)
{
	struct echo *e = state;
	for (unsigned i = 0; i < e->open; i++)
		close(e->accepted_fds[i]);
	e->open = 0;
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return address;
}

/* The loop runs: a client sends a datagram and connects. */
static int echo_worker_start(void *state)
{
	struct echo *e = state;
	struct sockaddr_in udp = loopback(e->udp_port), tcp = loopback(e->tcp_port);

	e->client_udp = socket(AF_INET, SOCK_DGRAM, 0);
	e->client_tcp = socket(AF_INET, SOCK_STREAM, 0);
	if (sendto(e->client_udp, "ping", 4, 0, (struct sockaddr *)&udp, sizeof(udp)) != 4 ||
	    connect(e->client_tcp, (struct sockaddr *)&tcp, sizeof(tcp)) < 0)
		return -1;
	return 0;
}

/* Both arrived: stop, as an operator's SIGTERM would. */
static void echo_maybe_stop(struct echo *e)
{
	if (e->datagrams > 0 && e->accepted > 0 && !e->stopping) {
		e->stopping = true;
		raise(SIGTERM);
	}
}

static void echo_accept(void *state, const struct listener_config *listener, evutil_socket_t fd,
			const struct sockaddr *peer, int peer_len)
{
	struct echo *e = state;
	(void)peer;
	(void)peer_len;

	ck_assert_uint_eq(listener->role, ROLE_ECHO_TCP);
	e->accepted++;
	if (e->keep_connections && e->open < 4)
		e->accepted_fds[e->open++] = fd;
	else
		close(fd);
	if (e->metrics != NULL && e->accepted == 1) {
		struct evbuffer *page = evbuffer_new();
		ck_assert_int_eq(metrics_render(e->metrics, page), 0);
		ck_assert_uint_lt(evbuffer_get_length(page), sizeof(e->page));
		evbuffer_copyout(page, e->page, evbuffer_get_length(page));
		evbuffer_free(page);
	}
	echo_maybe_stop(e);
}

static void echo_datagram(void *state, const struct listener_config *listener, evutil_socket_t fd,
			  const unsigned char *data, size_t size, const struct sockaddr *peer,
			  socklen_t peer_len)
{
	struct echo *e = state;

	ck_assert_uint_eq(listener->role, ROLE_ECHO_UDP);
	ck_assert_uint_lt(size, sizeof(e->datagram));
	memcpy(e->datagram, data, size);
	e->datagram[size] = '\0';
	e->datagrams++;
	/* The listener's socket answers. */
	ck_assert_int_eq(sendto(fd, "pong", 4, 0, peer, peer_len), 4);
	echo_maybe_stop(e);
}

static unsigned echo_open_connections(const void *state, unsigned role)
{
	const struct echo *e = state;
	return role == ROLE_ECHO_TCP ? e->open : 0;
}

static const struct protocol echo_protocol = {
	.name = "echo",
	.worker_new = echo_worker_new,
	.worker_start = echo_worker_start,
	.worker_free = echo_worker_free,
	.accept = echo_accept,
	.datagram = echo_datagram,
	.open_connections = echo_open_connections,
};
static const struct protocol *const test_protocols[] = { &echo_protocol };
static const struct protocol_table test_table = {
	.schema = { .roles = test_roles, .n_roles = 2 },
	.protocols = test_protocols,
	.n_protocols = 1,
};

/* A port of TYPE free on 127.0.0.1 just now. */
static uint16_t free_port(int type)
{
	struct sockaddr_in address = loopback(0);
	socklen_t length = sizeof(address);
	int fd = socket(AF_INET, type, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&address, sizeof(address)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
	close(fd);
	return ntohs(address.sin_port);
}

static struct listener_config listeners[2];
static struct sxedge_config *config;

static void setup(void)
{
	memset(&echo, 0, sizeof(echo));
	echo.udp_port = free_port(SOCK_DGRAM);
	echo.tcp_port = free_port(SOCK_STREAM);
	listeners[0] = (struct listener_config){ .name = "udp",
						 .line = 1,
						 .role = ROLE_ECHO_UDP,
						 .address = "127.0.0.1",
						 .port = echo.udp_port };
	listeners[1] = (struct listener_config){ .name = "tcp",
						 .line = 2,
						 .role = ROLE_ECHO_TCP,
						 .address = "127.0.0.1",
						 .port = echo.tcp_port };
	/* Built by hand, as no file is needed: the reference held here is never
	 * given back, so the snapshot is never freed. */
	config = calloc(1, sizeof(*config));
	ck_assert_ptr_nonnull(config);
	atomic_init(&config->references, 1);
	config->schema = &test_table.schema;
	config->path = "test.conf";
	config->listeners = listeners;
	config->n_listeners = 2;
	config->limits.max_connections = 10;
	config->limits.drain_timeout_s = 1;
}

static void teardown(void)
{
	free(config);
	if (echo.client_udp > 0)
		close(echo.client_udp);
	if (echo.client_tcp > 0)
		close(echo.client_tcp);
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

START_TEST(test_binds_udp_before_serving)
{
	struct worker *worker = worker_new(config, &test_table, stderr);
	ck_assert_ptr_nonnull(worker);

	/* Bound by worker_new, before the loop runs: a second bind fails. */
	struct sockaddr_in udp = loopback(echo.udp_port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_lt(bind(fd, (struct sockaddr *)&udp, sizeof(udp)), 0);
	ck_assert_int_eq(errno, EADDRINUSE);
	close(fd);
	worker_free(worker);

	/* And given back with the worker. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&udp, sizeof(udp)), 0);
	close(fd);
}
END_TEST

START_TEST(test_datagrams_and_accepts_reach_the_protocol)
{
	struct worker *worker = worker_new(config, &test_table, stderr);
	char answer[8] = "";

	ck_assert_ptr_nonnull(worker);
	ck_assert_int_eq(worker_run(worker), 0);
	ck_assert_uint_eq(echo.datagrams, 1);
	ck_assert_str_eq(echo.datagram, "ping");
	ck_assert_int_eq(recv(echo.client_udp, answer, sizeof(answer) - 1, MSG_DONTWAIT), 4);
	ck_assert_str_eq(answer, "pong");
	ck_assert_uint_eq(echo.accepted, 1);
	worker_free(worker);
}
END_TEST

/* The drain waits for the protocol's own connections: with one left open
 * it lasts drain_timeout, with none it ends at once. */
START_TEST(test_drain_counts_the_protocols_connections)
{
	struct timespec start;

	echo.keep_connections = true;
	struct worker *worker = worker_new(config, &test_table, stderr);
	ck_assert_ptr_nonnull(worker);
	clock_gettime(CLOCK_MONOTONIC, &start);
	ck_assert_int_eq(worker_run(worker), 0);
	ck_assert_uint_eq(echo.accepted, 1);
	ck_assert_msg(seconds_since(&start) >= 0.9, "drained in %.2f s with a connection open",
		      seconds_since(&start));
	worker_free(worker);

	teardown();
	setup();
	worker = worker_new(config, &test_table, stderr);
	ck_assert_ptr_nonnull(worker);
	clock_gettime(CLOCK_MONOTONIC, &start);
	ck_assert_int_eq(worker_run(worker), 0);
	ck_assert_uint_eq(echo.accepted, 1);
	ck_assert_msg(seconds_since(&start) < 0.5, "drained in %.2f s with nothing open",
		      seconds_since(&start));
	worker_free(worker);
}
END_TEST

/* A role whose protocol is not in the table is refused at start, named by
 * its listener's line. */
START_TEST(test_unknown_protocol)
{
	static const struct config_role other_roles[] = {
		{ .name = "echo-udp", .protocol = "nothing", .transport = CONFIG_TRANSPORT_UDP },
	};
	static const struct protocol_table other = {
		.schema = { .roles = other_roles, .n_roles = 1 },
		.protocols = test_protocols,
		.n_protocols = 1,
	};
	char *text = NULL;
	size_t size = 0;
	FILE *errors = open_memstream(&text, &size);

	listeners[0].role = 0;
	config->schema = &other.schema;
	config->n_listeners = 1;
	ck_assert_ptr_null(worker_new(config, &other, errors));
	fclose(errors);
	ck_assert_str_eq(text, "test.conf:1: listener udp: no protocol nothing in this build\n");
	free(text);
}
END_TEST

/* A udp role served by a protocol without a datagram handler is refused. */
START_TEST(test_protocol_without_handler)
{
	static const struct protocol stream_only = {
		.name = "echo",
		.worker_new = echo_worker_new,
		.worker_free = echo_worker_free,
		.accept = echo_accept,
		.open_connections = echo_open_connections,
	};
	static const struct protocol *const only[] = { &stream_only };
	static const struct protocol_table table = {
		.schema = { .roles = test_roles, .n_roles = 2 },
		.protocols = only,
		.n_protocols = 1,
	};
	char *text = NULL;
	size_t size = 0;
	FILE *errors = open_memstream(&text, &size);

	ck_assert_ptr_null(worker_new(config, &table, errors));
	fclose(errors);
	ck_assert_str_eq(text, "test.conf:1: listener udp: protocol echo takes no udp listeners\n");
	free(text);
}
END_TEST

/* ---- [metrics] ---- */

static const struct config_module *const metrics_modules[] = { &metrics_config_module };
static const struct protocol_table metrics_table = {
	.schema = { .roles = test_roles, .n_roles = 2, .modules = metrics_modules, .n_modules = 1 },
	.protocols = test_protocols,
	.n_protocols = 1,
};
static struct metrics_config metrics_section;

/* The configuration gains a [metrics] section at line 7 on PORT. */
static void enable_metrics(uint16_t port)
{
	metrics_section =
		(struct metrics_config){ .line = 7, .address = "127.0.0.1", .port = port };
	config->schema = &metrics_table.schema;
	config->modules[0] = &metrics_section;
}

/* Without [metrics] the protocol counts into nothing. */
START_TEST(test_no_metrics_section)
{
	struct worker *worker = worker_new(config, &test_table, stderr);
	ck_assert_ptr_nonnull(worker);
	ck_assert_ptr_null(echo.metrics);
	worker_free(worker);
}
END_TEST

/* The endpoint is bound by worker_new, like the listeners; the protocol's
 * worker_new gets the registry; the page reads each role's connections
 * from the protocol. */
START_TEST(test_metrics_endpoint_and_page)
{
	uint16_t port = free_port(SOCK_STREAM);

	echo.keep_connections = true;
	enable_metrics(port);
	struct worker *worker = worker_new(config, &metrics_table, stderr);
	ck_assert_ptr_nonnull(worker);
	ck_assert_ptr_nonnull(echo.metrics);
	struct sockaddr_in address = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_lt(bind(fd, (struct sockaddr *)&address, sizeof(address)), 0);
	ck_assert_int_eq(errno, EADDRINUSE);
	close(fd);

	ck_assert_int_eq(worker_run(worker), 0);
	ck_assert_msg(strstr(echo.page,
			     "sxedge_connections_open{protocol=\"echo\",role=\"echo-tcp\"} "
			     "1\n") != NULL,
		      "page:\n%s", echo.page);
	ck_assert_msg(strstr(echo.page,
			     "sxedge_connections_open{protocol=\"echo\",role=\"echo-udp\"} "
			     "0\n") != NULL,
		      "page:\n%s", echo.page);
	ck_assert_ptr_nonnull(strstr(echo.page, "\nsxedge_output_queued_bytes 0\n"));
	ck_assert_ptr_nonnull(strstr(echo.page, "\nsxedge_accept_pauses_total 0\n"));
	worker_free(worker);
}
END_TEST

/* A port that cannot be bound is a start error at the section's line. */
START_TEST(test_metrics_bind_failure)
{
	uint16_t port = free_port(SOCK_STREAM);
	struct sockaddr_in address = loopback(port);
	int taken = socket(AF_INET, SOCK_STREAM, 0);
	char *text = NULL, expected[128];
	size_t size = 0;
	FILE *errors = open_memstream(&text, &size);

	ck_assert_int_eq(bind(taken, (struct sockaddr *)&address, sizeof(address)), 0);
	ck_assert_int_eq(listen(taken, 1), 0);
	enable_metrics(port);
	ck_assert_ptr_null(worker_new(config, &metrics_table, errors));
	fclose(errors);
	snprintf(expected, sizeof(expected),
		 "test.conf:7: metrics: cannot listen on 127.0.0.1 port %u: ", port);
	ck_assert_msg(strncmp(text, expected, strlen(expected)) == 0, "got: %s", text);
	free(text);
	close(taken);
}
END_TEST

static Suite *worker_suite(void)
{
	Suite *suite = suite_create("worker");
	TCase *listeners_case = tcase_create("listeners");

	tcase_add_checked_fixture(listeners_case, setup, teardown);
	tcase_add_test(listeners_case, test_binds_udp_before_serving);
	tcase_add_test(listeners_case, test_datagrams_and_accepts_reach_the_protocol);
	tcase_add_test(listeners_case, test_drain_counts_the_protocols_connections);
	tcase_add_test(listeners_case, test_unknown_protocol);
	tcase_add_test(listeners_case, test_protocol_without_handler);
	tcase_set_timeout(listeners_case, 10);
	suite_add_tcase(suite, listeners_case);

	TCase *metrics_case = tcase_create("metrics");
	tcase_add_checked_fixture(metrics_case, setup, teardown);
	tcase_add_test(metrics_case, test_no_metrics_section);
	tcase_add_test(metrics_case, test_metrics_endpoint_and_page);
	tcase_add_test(metrics_case, test_metrics_bind_failure);
	tcase_set_timeout(metrics_case, 10);
	suite_add_tcase(suite, metrics_case);
	return suite;
}

int main(void)
{
	return test_suite_run(worker_suite());
}
