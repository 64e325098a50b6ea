/* SPDX-License-Identifier: ISC */
/* Unit tests for src/worker: the listener table serves whatever protocol
 * the role table names.  A test protocol (no SIP) with a udp role and a tcp
 * role shows that every socket, datagram ones included, is bound by
 * worker_new, that datagrams reach the protocol's datagram handler and
 * accepted sockets its accept handler on the worker's loop, that the
 * SIGTERM drain waits for the protocol's own open connections, and that
 * with [metrics] the endpoint is bound by worker_new (a failure named by
 * the section's line), the protocol gets the registry, and the page shows
 * each role's open connections.  SIGHUP: a reload from the file applies
 * as a whole (a listener moved is bound anew, a kept one keeps its socket,
 * [metrics] may come and go) or, refused by the file, the user it names, a
 * protocol or a bind, not at all. */
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
#include "udp_socket.h"
#include "worker_private.h"
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
	/* Reloads: what the protocol was asked, and whether its prepare fails. */
	unsigned prepares, commits, aborts;
	bool refuse_prepare;
	const struct sxedge_config *prepared; /* the snapshot of the last prepare */
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

static void *echo_reload_prepare(void *state, const struct sxedge_config *next, FILE *errors)
{
	struct echo *e = state;

	e->prepares++;
	e->prepared = next;
	if (e->refuse_prepare) {
		fprintf(errors, "%s:9: echo: refused\n", next->path);
		return NULL;
	}
	return e;
}

static void echo_reload_commit(void *state, void *pending)
{
	struct echo *e = state;
	ck_assert_ptr_eq(pending, e);
	e->commits++;
}

static void echo_reload_abort(void *state, void *pending)
{
	struct echo *e = state;
	ck_assert_ptr_eq(pending, e);
	e->aborts++;
}

static const struct protocol echo_protocol = {
	.name = "echo",
	.reload_prepare = echo_reload_prepare,
	.reload_commit = echo_reload_commit,
	.reload_abort = echo_reload_abort,
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
	/* With a relay's buffers (udp_socket.h), not the kernel's default. */
	udp_socket_size_buffers(fd);
	int got, expected;
	socklen_t length = sizeof(got);
	ck_assert_int_eq(
		getsockopt(worker->listeners.rows[0].fd, SOL_SOCKET, SO_RCVBUF, &got, &length), 0);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &expected, &length), 0);
	ck_assert_int_eq(got, expected);
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

/* Without [metrics] the protocol still counts into a registry (a reload
 * may add the page), and nothing else listens. */
START_TEST(test_no_metrics_section)
{
	struct worker *worker = worker_new(config, &test_table, stderr);
	ck_assert_ptr_nonnull(worker);
	ck_assert_ptr_nonnull(echo.metrics);
	ck_assert_ptr_null(worker->metrics_http);
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

/* ---- SIGHUP ---- */

static char reload_dir[64], reload_path[96];

/* The configuration file a reload reads: the echo listeners on UDP_PORT
 * and TCP_PORT (none when 0), then EXTRA. */
static void reload_write(uint16_t udp_port, uint16_t tcp_port, const char *extra)
{
	FILE *file = fopen(reload_path, "w");
	ck_assert_ptr_nonnull(file);
	fprintf(file, "[global]\ndomains = example.test\n");
	if (udp_port != 0)
		fprintf(file, "[listener udp]\nrole = echo-udp\naddress = 127.0.0.1\nport = %u\n",
			udp_port);
	if (tcp_port != 0)
		fprintf(file, "[listener tcp]\nrole = echo-tcp\naddress = 127.0.0.1\nport = %u\n",
			tcp_port);
	fputs(extra, file);
	ck_assert_int_eq(fclose(file), 0);
}

static struct worker *reload_worker;

static void reload_setup(void)
{
	setup();
	snprintf(reload_dir, sizeof(reload_dir), "/tmp/sxedge-test-worker-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(reload_dir));
	snprintf(reload_path, sizeof(reload_path), "%s/edge.conf", reload_dir);
	reload_write(echo.udp_port, echo.tcp_port, "");
	const struct sxedge_config *loaded =
		config_load(reload_path, stderr, &metrics_table.schema);
	ck_assert_ptr_nonnull(loaded);
	reload_worker = worker_new(loaded, &metrics_table, stderr);
	ck_assert_ptr_nonnull(reload_worker);
	config_unref(loaded);
}

static void reload_teardown(void)
{
	worker_free(reload_worker);
	unlink(reload_path);
	rmdir(reload_dir);
	teardown();
}

static void reload(void)
{
	worker_on_sighup(SIGHUP, EV_SIGNAL, reload_worker);
}

/* Does a TCP connection to PORT on 127.0.0.1 get through (into the
 * backlog: the loop need not run)? */
static bool tcp_listening(uint16_t port)
{
	struct sockaddr_in address = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool connected = connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0;
	close(fd);
	return connected;
}

/* The reload counter of OUTCOME on the worker's registry. */
static unsigned reloads_counted(const char *outcome)
{
	struct evbuffer *page = evbuffer_new();
	char text[8192] = "", pattern[96];
	unsigned count = 0;

	ck_assert_int_eq(metrics_render(reload_worker->metrics, page), 0);
	evbuffer_copyout(page, text, sizeof(text) - 1);
	evbuffer_free(page);
	snprintf(pattern, sizeof(pattern), "sxedge_reloads_total{outcome=\"%s\"} ", outcome);
	const char *found = strstr(text, pattern);
	ck_assert_msg(found != NULL, "no %s in:\n%s", pattern, text);
	ck_assert_int_eq(sscanf(found + strlen(pattern), "%u", &count), 1);
	return count;
}

/* A moved TCP listener is bound anew and the old port closed; the UDP
 * listener keeps its very socket; the protocol committed the snapshot it
 * prepared, which the worker now holds. */
START_TEST(test_reload_applies)
{
	uint16_t moved = free_port(SOCK_STREAM);
	evutil_socket_t udp_fd = reload_worker->listeners.rows[0].fd;

	reload_write(echo.udp_port, moved, "");
	reload();
	ck_assert_uint_eq(echo.prepares, 1);
	ck_assert_uint_eq(echo.commits, 1);
	ck_assert_uint_eq(echo.aborts, 0);
	ck_assert_ptr_eq(reload_worker->config, echo.prepared);
	ck_assert_uint_eq(reloads_counted("applied"), 1);
	ck_assert(!tcp_listening(echo.tcp_port));
	ck_assert(tcp_listening(moved));
	ck_assert_uint_eq(reload_worker->listeners.n_rows, 2);
	ck_assert_int_eq(reload_worker->listeners.rows[0].fd, udp_fd);
	ck_assert_ptr_eq(reload_worker->listeners.rows[0].config, &echo.prepared->listeners[0]);
}
END_TEST

/* Many reloads keep nothing of the snapshots let go (ASan's leak check
 * runs at exit), and a listener removed and added again is bound again. */
START_TEST(test_reload_many_times)
{
	for (int i = 0; i < 20; i++) {
		reload_write(echo.udp_port, i % 2 == 0 ? 0 : echo.tcp_port, "");
		reload();
		ck_assert_uint_eq(tcp_listening(echo.tcp_port), i % 2 != 0);
	}
	ck_assert_uint_eq(echo.commits, 20);
	ck_assert_uint_eq(reloads_counted("applied"), 20);
}
END_TEST

/* A file that does not load is refused before any protocol is asked, and
 * everything running stays. */
START_TEST(test_reload_refuses_a_broken_file)
{
	const struct sxedge_config *running = reload_worker->config;

	reload_write(echo.udp_port, free_port(SOCK_STREAM), "[limits]\nno_such_key = 1\n");
	reload();
	ck_assert_uint_eq(echo.prepares, 0);
	ck_assert_ptr_eq(reload_worker->config, running);
	ck_assert(tcp_listening(echo.tcp_port));
	ck_assert_uint_eq(reloads_counted("refused"), 1);
	ck_assert_uint_eq(reloads_counted("applied"), 0);
}
END_TEST

/* A protocol that cannot prepare refuses the reload: the listener the new
 * file adds is never bound. */
START_TEST(test_reload_refused_by_a_protocol)
{
	uint16_t moved = free_port(SOCK_STREAM);
	const struct sxedge_config *running = reload_worker->config;

	echo.refuse_prepare = true;
	reload_write(echo.udp_port, moved, "");
	reload();
	ck_assert_uint_eq(echo.prepares, 1);
	ck_assert_uint_eq(echo.commits + echo.aborts, 0);
	ck_assert_ptr_eq(reload_worker->config, running);
	ck_assert(tcp_listening(echo.tcp_port));
	ck_assert(!tcp_listening(moved));
	ck_assert_uint_eq(reloads_counted("refused"), 1);
}
END_TEST

/* A listener that cannot be bound refuses the reload once every protocol
 * prepared: each is told to abort, and the old listeners stay. */
START_TEST(test_reload_bind_failure_aborts)
{
	uint16_t taken_port = free_port(SOCK_STREAM);
	struct sockaddr_in address = loopback(taken_port);
	int taken = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(bind(taken, (struct sockaddr *)&address, sizeof(address)), 0);
	ck_assert_int_eq(listen(taken, 1), 0);
	reload_write(echo.udp_port, taken_port, "");
	reload();
	close(taken);
	ck_assert_uint_eq(echo.prepares, 1);
	ck_assert_uint_eq(echo.aborts, 1);
	ck_assert_uint_eq(echo.commits, 0);
	ck_assert(tcp_listening(echo.tcp_port));
	ck_assert_uint_eq(reloads_counted("refused"), 1);
}
END_TEST

/* Root is gone: the user cannot change by reload. */
START_TEST(test_reload_refuses_another_user)
{
	FILE *file = fopen(reload_path, "w");
	ck_assert_ptr_nonnull(file);
	fprintf(file,
		"[global]\ndomains = example.test\nuser = nobody\n"
		"[listener tcp]\nrole = echo-tcp\naddress = 127.0.0.1\nport = %u\n",
		echo.tcp_port);
	ck_assert_int_eq(fclose(file), 0);
	reload();
	ck_assert_uint_eq(echo.prepares, 0);
	ck_assert_uint_eq(reloads_counted("refused"), 1);
}
END_TEST

/* [metrics] added by a reload: the page is served from then on. */
START_TEST(test_reload_adds_the_metrics_page)
{
	uint16_t port = free_port(SOCK_STREAM);
	char extra[96];

	snprintf(extra, sizeof(extra), "[metrics]\naddress = 127.0.0.1\nport = %u\n", port);
	ck_assert(!tcp_listening(port));
	reload_write(echo.udp_port, echo.tcp_port, extra);
	reload();
	ck_assert_uint_eq(echo.commits, 1);
	ck_assert(tcp_listening(port));
	reload_write(echo.udp_port, echo.tcp_port, "");
	reload();
	ck_assert(!tcp_listening(port));
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

	TCase *reload_case = tcase_create("reload");
	tcase_add_checked_fixture(reload_case, reload_setup, reload_teardown);
	tcase_add_test(reload_case, test_reload_applies);
	tcase_add_test(reload_case, test_reload_many_times);
	tcase_add_test(reload_case, test_reload_refuses_a_broken_file);
	tcase_add_test(reload_case, test_reload_refused_by_a_protocol);
	tcase_add_test(reload_case, test_reload_bind_failure_aborts);
	tcase_add_test(reload_case, test_reload_refuses_another_user);
	tcase_add_test(reload_case, test_reload_adds_the_metrics_page);
	tcase_set_timeout(reload_case, 10);
	suite_add_tcase(suite, reload_case);
	return suite;
}

int main(void)
{
	return test_suite_run(worker_suite());
}
