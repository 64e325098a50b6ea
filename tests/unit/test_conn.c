/* SPDX-License-Identifier: ISC */
/* Check suite for lib/conn: real connections over loopback between a
 * conn_accept() server and a conn_connect() client on one event loop: TLS
 * from the first byte, plain, and plain upgraded in place (STARTTLS).
 * The "pressure" case runs several at once: the first-request timeout, the
 * budget's shedding of a conn on probation, and the output total. */
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>

#include "config.h"
#include "roles.h"
#include "address.h"
#include "conn.h"
#include "tls_hello.h"
#include "test_pki.h"
#include "tls.h"
#include "test_suite.h"

/* What one side of a test connection saw. */
struct side {
	struct conn *conn;
	bool ready;
	bool closed;
	enum conn_close_reason close_reason;
	enum tls_failure_kind tls_failure;
	char reason[256]; /* conn_close_detail() */
	size_t names_at_ready; /* peer certificate names known at TLS_READY */
	bool starttls; /* plain: upgrade on "STARTTLS\r\n" (server) or "PROCEED\r\n" (client) */
	int upgrade_result; /* of conn_start_tls_*() */
	size_t drained_events;
	size_t connected_events; /* CONNECTED: a plain outbound connect completed */
	size_t queued_at_drained;
	char subject[256]; /* the peer's, as known when it closed */
	char received[256];
	size_t received_len; /* what is kept in received */
	size_t received_total; /* everything that arrived */
	bool free_on_data; /* conn_free() from inside the DATA callback */
	bool write_on_ready; /* client: say hello once READY */
	bool hold_input; /* leave DATA in the input buffer */
	bool prove_on_data; /* conn_end_probation() once something arrived */
	bool deaf; /* client: stops reading once READY */
	bool reads_hello; /* server accepted plain: TLS once the ClientHello's name is read */
	char hello_name[256];
	size_t data_events;
};

#define EXTRA_MAX 3

struct fixture {
	struct event_base *base;
	struct evconnlistener *listener;
	struct sockaddr_in address;
	struct tls_server *server_tls;
	struct tls_client *client_tls;
	bool plain; /* accept and connect without TLS */
	struct conn_limits limits;
	struct side server;
	struct side client;
	/* Connections after the first: accepted in order into extra_servers. */
	struct side extra_servers[EXTRA_MAX];
	struct side extra_clients[EXTRA_MAX];
	size_t n_accepted;
	struct conn_budget *budget; /* accepted conns join it when set */
	struct event *deadline;
	struct event *keep_alive; /* the client sends CRLFCRLF every 200 ms */
};

static struct fixture fx;

/* The plaintext phase of STARTTLS: the server answers "STARTTLS" with
 * "PROCEED" and upgrades; the client upgrades on "PROCEED".  Whatever
 * follows the command in the same read stays in the input. */
static void side_on_plain_data(struct side *side, struct conn *conn)
{
	struct evbuffer *input = conn_input(conn);
	bool server = side == &fx.server;
	const char *command = server ? "STARTTLS\r\n" : "PROCEED\r\n";
	size_t len = strlen(command);

	if (evbuffer_get_length(input) < len)
		return;
	ck_assert_int_eq(memcmp(evbuffer_pullup(input, (ev_ssize_t)len), command, len), 0);
	evbuffer_drain(input, len);
	if (server) {
		conn_write(conn, "PROCEED\r\n", 9);
		side->upgrade_result = conn_start_tls_server(conn, fx.server_tls);
	} else {
		const char *names[] = { "edge.example.test" };
		const struct tls_expect expect = { "edge.example.test", names, 1 };
		side->upgrade_result = conn_start_tls_client(conn, fx.client_tls, &expect);
	}
}

static void side_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct side *side = arg;
	struct evbuffer *input;

	switch (event) {
	case CONN_EVENT_TLS_READY:
		conn_peer_names(conn, &side->names_at_ready);
		side->ready = true;
		if (side->write_on_ready)
			conn_write(conn, "hello", 5);
		if (side->deaf)
			conn_set_reading(conn, false);
		break;
	case CONN_EVENT_DATA:
		side->data_events++;
		if (side->reads_hello && !conn_secure(conn)) {
			input = conn_input(conn);
			if (tls_hello_server_name(evbuffer_pullup(input, -1),
						  evbuffer_get_length(input), side->hello_name,
						  sizeof(side->hello_name)) == TLS_HELLO_READ)
				side->upgrade_result =
					conn_start_tls_server_buffered(conn, fx.server_tls);
			break;
		}
		if (side->starttls && !conn_secure(conn)) {
			side_on_plain_data(side, conn);
			break;
		}
		if (side->hold_input)
			break;
		input = conn_input(conn);
		side->received_total += evbuffer_get_length(input);
		side->received_len +=
			evbuffer_remove(input, side->received + side->received_len,
					sizeof(side->received) - 1 - side->received_len);
		evbuffer_drain(input, evbuffer_get_length(input));
		if (side->prove_on_data)
			conn_end_probation(conn);
		if (side->free_on_data) {
			conn_free(conn);
			side->conn = NULL;
			event_base_loopbreak(fx.base);
		}
		break;
	case CONN_EVENT_CONNECTED:
		side->connected_events++;
		break;
	case CONN_EVENT_DRAINED:
		side->drained_events++;
		side->queued_at_drained = conn_output_queued(conn);
		break;
	case CONN_EVENT_CLOSED:
		side->closed = true;
		side->close_reason = conn_close_reason(conn);
		side->tls_failure = conn_tls_failure(conn);
		snprintf(side->reason, sizeof(side->reason), "%s", conn_close_detail(conn));
		snprintf(side->subject, sizeof(side->subject), "%s",
			 conn_peer_subject(conn) ? conn_peer_subject(conn) : "");
		side->conn = NULL;
		break;
	}
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
		      int peer_len, void *arg)
{
	(void)listener;
	(void)arg;
	if (fx.n_accepted > EXTRA_MAX) {
		close(fd);
		return;
	}
	struct side *side = fx.n_accepted == 0 ? &fx.server : &fx.extra_servers[fx.n_accepted - 1];
	fx.n_accepted++;
	const struct conn_owner owner = { CONN_PROTOCOL_SIP, ROLE_FEDERATION, side_on_event, side };
	side->conn = conn_accept(fx.base, fd, peer, peer_len,
				 fx.plain || side->reads_hello ? NULL : fx.server_tls, &fx.limits,
				 &owner);
	if (fx.budget != NULL && side->conn != NULL)
		ck_assert_int_eq(conn_join_budget(side->conn, fx.budget, peer), 0);
}

static void on_keep_alive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (fx.client.conn != NULL && conn_ready(fx.client.conn))
		conn_write(fx.client.conn, "\r\n\r\n", 4);
	struct timeval interval = { .tv_usec = 200000 };
	evtimer_add(fx.keep_alive, &interval);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(fx.base);
}

static struct tls_server *server_tls(enum client_cert_mode mode, const char *allowed)
{
	char *cert = test_pki_path("edge.crt"), *key = test_pki_path("edge.key");
	char *ca = test_pki_path("ca.crt");
	struct listener_config listener = {
		.name = "test",
		.certificate = cert,
		.key = key,
		.ca_file = ca,
		.client_cert = mode,
	};
	char err[256];
	const char *names[] = { allowed };
	struct tls_server *server = tls_server_new(&listener, allowed ? names : NULL,
						   allowed ? 1 : 0, err, sizeof(err));
	ck_assert_msg(server != NULL, "server context: %s", err);
	free(cert);
	free(key);
	free(ca);
	return server;
}

static struct tls_client *client_tls(const char *name)
{
	char file[64];
	snprintf(file, sizeof(file), "%s.crt", name);
	char *cert = test_pki_path(file);
	snprintf(file, sizeof(file), "%s.key", name);
	char *key = test_pki_path(file);
	char *ca = test_pki_path("ca.crt");
	char err[256];
	struct tls_client *client = tls_client_new(cert, key, ca, err, sizeof(err));
	ck_assert_msg(client != NULL, "client context: %s", err);
	free(cert);
	free(key);
	free(ca);
	return client;
}

static void setup(void)
{
	memset(&fx, 0, sizeof(fx));
	fx.base = event_base_new();
	fx.address.sin_family = AF_INET;
	fx.address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fx.listener = evconnlistener_new_bind(fx.base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1,
					      (struct sockaddr *)&fx.address, sizeof(fx.address));
	ck_assert_ptr_nonnull(fx.listener);
	socklen_t len = sizeof(fx.address);
	getsockname(evconnlistener_get_fd(fx.listener), (struct sockaddr *)&fx.address, &len);
	fx.limits = (struct conn_limits){ .handshake_timeout_s = 1,
					  .idle_timeout_s = 0,
					  .output_max = 65536 };
	fx.deadline = evtimer_new(fx.base, on_deadline, NULL);
	fx.keep_alive = evtimer_new(fx.base, on_keep_alive, NULL);
	fx.server_tls = server_tls(CLIENT_CERT_REQUIRED, "pool1.example.test");
	fx.client_tls = client_tls("pool1");
}

static void teardown(void)
{
	conn_free(fx.server.conn);
	conn_free(fx.client.conn);
	for (size_t i = 0; i < EXTRA_MAX; i++) {
		conn_free(fx.extra_servers[i].conn);
		conn_free(fx.extra_clients[i].conn);
	}
	evconnlistener_free(fx.listener);
	event_free(fx.deadline);
	event_free(fx.keep_alive);
	tls_server_release(fx.server_tls);
	tls_client_release(fx.client_tls);
	event_base_free(fx.base);
}

/* Connects SIDE as a client whose input stops at INPUT_MAX bytes (0: none). */
static void connect_side(struct side *side, const char *expected_name, size_t input_max)
{
	const char *names[] = { expected_name };
	const struct tls_expect expect = { expected_name, names, 1 };
	const struct conn_owner owner = { CONN_PROTOCOL_SIP, ROLE_INTERNAL, side_on_event, side };
	/* The client never times out on its own: the server's limits are under test. */
	struct conn_limits client_limits = fx.limits;
	client_limits.idle_timeout_s = 0;
	client_limits.input_max = input_max;
	side->conn =
		conn_connect(fx.base, (struct sockaddr *)&fx.address, sizeof(fx.address), NULL, 0,
			     fx.plain ? NULL : fx.client_tls, &expect, &client_limits, &owner);
	ck_assert_ptr_nonnull(side->conn);
}

static void connect_client(const char *expected_name)
{
	connect_side(&fx.client, expected_name, fx.limits.input_max);
}

/* Runs the loop until CONDITION holds or SECONDS pass. */
#define RUN_UNTIL(condition, seconds)                                      \
	do {                                                               \
		struct timeval limit = { .tv_sec = (seconds) };            \
		evtimer_add(fx.deadline, &limit);                          \
		while (!(condition) && evtimer_pending(fx.deadline, NULL)) \
			event_base_loop(fx.base, EVLOOP_ONCE);             \
		evtimer_del(fx.deadline);                                  \
	} while (0)

START_TEST(test_handshake_and_data)
{
	size_t n;
	fx.client.write_on_ready = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.received_len == 5, 5);
	ck_assert(fx.client.ready);
	ck_assert(fx.server.ready);
	ck_assert_str_eq(fx.server.received, "hello");
	char *const *names = conn_peer_names(fx.server.conn, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "pool1.example.test");
	ck_assert_ptr_nonnull(strstr(conn_peer_subject(fx.server.conn), "pool1"));
	ck_assert_ptr_eq(conn_find(conn_id(fx.server.conn)), fx.server.conn);
	ck_assert_ptr_eq(conn_find(conn_id(fx.client.conn)), fx.client.conn);
	ck_assert_uint_ne(conn_id(fx.server.conn), conn_id(fx.client.conn));
	ck_assert_ptr_nonnull(strstr(conn_peer(fx.server.conn), "127.0.0.1:"));
}
END_TEST

static int socket_option(struct conn *conn, int level, int name)
{
	int value = -1;
	socklen_t len = sizeof(value);
	ck_assert_int_eq(getsockopt(conn_fd(conn), level, name, &value, &len), 0);
	return value;
}

/* Nagle off (small messages go out at once rather than waiting for the
 * peer's delayed ACK) and keep-alive on, at both ends: the options are
 * local to each socket, so each end is read back on its own. */
START_TEST(test_signalling_socket_options)
{
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert(fx.server.ready && fx.client.ready);
	struct conn *conns[] = { fx.server.conn, fx.client.conn };
	for (size_t i = 0; i < 2; i++) {
		ck_assert_msg(socket_option(conns[i], IPPROTO_TCP, TCP_NODELAY) != 0,
			      "%s conn without TCP_NODELAY", i == 0 ? "accepted" : "outbound");
		ck_assert_msg(socket_option(conns[i], SOL_SOCKET, SO_KEEPALIVE) != 0,
			      "%s conn without SO_KEEPALIVE", i == 0 ? "accepted" : "outbound");
		ck_assert_int_eq(socket_option(conns[i], IPPROTO_TCP, TCP_KEEPIDLE), 30);
		ck_assert_int_eq(socket_option(conns[i], IPPROTO_TCP, TCP_KEEPCNT), 3);
		/* A user timeout would override the probe count (one lost probe resets). */
		ck_assert_int_eq(socket_option(conns[i], IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	}
}
END_TEST

START_TEST(test_close_flushes_and_reports)
{
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	uint64_t id = conn_id(fx.server.conn);
	conn_write(fx.server.conn, "bye", 3);
	conn_close(fx.server.conn, CONN_CLOSE_LOCAL, "done here");
	RUN_UNTIL(fx.server.closed && fx.client.closed, 5);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_LOCAL);
	ck_assert_str_eq(fx.server.reason, "done here");
	ck_assert_str_eq(fx.client.received, "bye");
	ck_assert_int_eq(fx.client.close_reason, CONN_CLOSE_PEER);
	ck_assert_str_eq(fx.client.reason, "peer closed");
	ck_assert_ptr_null(conn_find(id));
}
END_TEST

START_TEST(test_handshake_timeout)
{
	/* A TCP client that never speaks TLS. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&fx.address, sizeof(fx.address)), 0);
	RUN_UNTIL(fx.server.closed, 4);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_HANDSHAKE_TIMEOUT);
	ck_assert_str_eq(fx.server.reason, "handshake timeout");
	close(fd);
}
END_TEST

START_TEST(test_plain_bytes_refused)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&fx.address, sizeof(fx.address)), 0);
	const char *plain = "OPTIONS sip:example.test SIP/2.0\r\n\r\n";
	ck_assert_int_eq(write(fd, plain, strlen(plain)), (ssize_t)strlen(plain));
	RUN_UNTIL(fx.server.closed, 4);
	ck_assert_msg(strncmp(fx.server.reason, "handshake failed", 16) == 0, "reason: %s",
		      fx.server.reason);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_TLS_FAILED);
	ck_assert_int_eq(fx.server.tls_failure, TLS_FAILURE_PROTOCOL);
	ck_assert(!fx.server.ready);
	close(fd);
}
END_TEST

START_TEST(test_client_name_not_allowed)
{
	tls_client_release(fx.client_tls);
	fx.client_tls = client_tls("other"); /* right CA, wrong name */
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert(!fx.server.ready);
	ck_assert_msg(strstr(fx.server.reason, "not allowed") != NULL, "reason: %s",
		      fx.server.reason);
	ck_assert_str_eq(fx.server.subject, "CN=other.example.test");
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_CERTIFICATE_REFUSED);
	ck_assert_int_eq(fx.server.tls_failure, TLS_FAILURE_CERTIFICATE_NAME);
}
END_TEST

START_TEST(test_server_name_checked_by_client)
{
	connect_client("pool9.example.test"); /* the server is edge.example.test */
	RUN_UNTIL(fx.client.closed, 5);
	ck_assert(!fx.client.ready);
	ck_assert_msg(strstr(fx.client.reason, "not allowed") != NULL, "reason: %s",
		      fx.client.reason);
	ck_assert_int_eq(fx.client.close_reason, CONN_CLOSE_CERTIFICATE_REFUSED);
}
END_TEST

START_TEST(test_output_limit)
{
	static char block[40000];
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert_int_eq(conn_write(fx.server.conn, block, sizeof(block)), 0);
	ck_assert_int_eq(conn_write(fx.server.conn, block, sizeof(block)), -1);
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_OUTPUT_OVERFLOW);
	ck_assert_str_eq(fx.server.reason, "output limit exceeded");
}
END_TEST

/* With input_max 1000 and the server holding its input: the client's SIZE
 * bytes at BLOCK stop being read at the limit, give or take one TLS
 * record, and all arrive once the owner takes what is buffered. */
static void check_input_limit(const char *block, size_t size)
{
	ck_assert_int_eq(conn_write(fx.client.conn, block, size), 0);
	size_t events = fx.server.data_events;
	RUN_UNTIL(fx.server.data_events > events + 3, 1);
	struct evbuffer *input = conn_input(fx.server.conn);
	ck_assert_uint_ge(evbuffer_get_length(input), 1000);
	ck_assert_uint_le(evbuffer_get_length(input), 1000 + 16384);
	size_t total = evbuffer_get_length(input);
	evbuffer_drain(input, total);
	fx.server.hold_input = false;
	RUN_UNTIL(total + fx.server.received_total >= size, 5);
	ck_assert_uint_eq(total + fx.server.received_total, size);
}

START_TEST(test_input_limit)
{
	static char block[100000];
	fx.limits.input_max = 1000;
	fx.limits.output_max = sizeof(block);
	fx.server.hold_input = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	check_input_limit(block, sizeof(block));
}
END_TEST

START_TEST(test_idle_timeout)
{
	fx.limits.idle_timeout_s = 1;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert(fx.server.ready);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_IDLE_TIMEOUT);
	ck_assert_str_eq(fx.server.reason, "idle timeout");
}
END_TEST

START_TEST(test_free_inside_callback)
{
	fx.client.write_on_ready = true;
	fx.server.free_on_data = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.conn == NULL && fx.server.received_len > 0, 5);
	ck_assert_str_eq(fx.server.received, "hello");
	ck_assert(!fx.server.closed); /* conn_free reports no CLOSED */
	RUN_UNTIL(fx.client.closed, 5);
	ck_assert(fx.client.closed);
}
END_TEST

/* ---- plain, upgraded in place, drained, owned ---- */

START_TEST(test_plain_exchange)
{
	fx.plain = true;
	connect_client(NULL);
	/* Written before the TCP connect completes: it waits for it. */
	ck_assert_int_eq(conn_write(fx.client.conn, "hello", 5), 0);
	RUN_UNTIL(fx.server.received_len == 5, 5);
	ck_assert_str_eq(fx.server.received, "hello");
	ck_assert_int_eq(conn_write(fx.server.conn, "world", 5), 0);
	RUN_UNTIL(fx.client.received_len == 5, 5);
	ck_assert_str_eq(fx.client.received, "world");
	ck_assert(conn_ready(fx.server.conn) && conn_ready(fx.client.conn));
	ck_assert(!conn_secure(fx.server.conn) && !conn_secure(fx.client.conn));
	ck_assert(!fx.server.ready && !fx.client.ready); /* no TLS_READY without TLS */
	ck_assert_ptr_null(conn_peer_subject(fx.server.conn));
	/* The plain connect was reported once, to the side that connected. */
	ck_assert_uint_eq(fx.client.connected_events, 1);
	ck_assert_uint_eq(fx.server.connected_events, 0);
}
END_TEST

/* A listening socket that set SO_REUSEPORT (a TURN relay's, RFC 6062)
 * lends its port to an outbound conn with share_local_port, and to no
 * other. */
START_TEST(test_share_local_port)
{
	struct sockaddr_storage local;
	socklen_t length = sizeof(local);
	int one = 1;
	const struct conn_owner owner = { CONN_PROTOCOL_SIP, ROLE_INTERNAL, side_on_event,
					  &fx.client };
	int holder = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_gt(address_parse("127.0.0.1", 0, &local), 0);
	ck_assert_int_eq(bind(holder, (struct sockaddr *)&local, sizeof(struct sockaddr_in)), 0);
	ck_assert_int_eq(setsockopt(holder, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	ck_assert_int_eq(listen(holder, 1), 0);
	ck_assert_int_eq(getsockname(holder, (struct sockaddr *)&local, &length), 0);
	struct conn_limits limits = fx.limits;
	ck_assert_ptr_null(conn_connect(fx.base, (struct sockaddr *)&fx.address, sizeof(fx.address),
					(struct sockaddr *)&local, (int)length, NULL, NULL, &limits,
					&owner));
	limits.share_local_port = true;
	fx.client.conn =
		conn_connect(fx.base, (struct sockaddr *)&fx.address, sizeof(fx.address),
			     (struct sockaddr *)&local, (int)length, NULL, NULL, &limits, &owner);
	ck_assert_ptr_nonnull(fx.client.conn);
	fx.plain = true;
	RUN_UNTIL(fx.client.connected_events == 1, 5);
	struct sockaddr_storage from;
	socklen_t from_length = sizeof(from);
	ck_assert_int_eq(
		getsockname(conn_fd(fx.client.conn), (struct sockaddr *)&from, &from_length), 0);
	ck_assert_uint_eq(((struct sockaddr_in *)&from)->sin_port,
			  ((struct sockaddr_in *)&local)->sin_port);
	close(holder);
}
END_TEST

START_TEST(test_starttls_upgrade_in_place)
{
	fx.plain = true;
	fx.server.starttls = true;
	fx.client.starttls = true;
	connect_client(NULL);
	ck_assert_int_eq(conn_write(fx.client.conn, "STARTTLS\r\n", 10), 0);
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert_int_eq(fx.server.upgrade_result, 0);
	ck_assert_int_eq(fx.client.upgrade_result, 0);
	ck_assert(conn_secure(fx.server.conn) && conn_secure(fx.client.conn));
	/* Each side knew the other's certificate names when TLS_READY came. */
	ck_assert_uint_eq(fx.server.names_at_ready, 1);
	ck_assert_uint_eq(fx.client.names_at_ready, 2);
	ck_assert_str_eq(conn_peer_subject(fx.server.conn), "CN=pool1.example.test");
	ck_assert_ptr_nonnull(conn_peer_fingerprint(fx.client.conn));
	/* Bytes now go over TLS. */
	ck_assert_int_eq(conn_write(fx.client.conn, "hello", 5), 0);
	RUN_UNTIL(fx.server.received_len == 5, 5);
	ck_assert_str_eq(fx.server.received, "hello");
	/* A conn is upgraded once. */
	ck_assert_int_eq(conn_start_tls_server(fx.server.conn, fx.server_tls), -1);
	ck_assert(conn_ready(fx.server.conn));
}
END_TEST

/* TLS from the first byte, its handshake held back while the server read
 * the ClientHello's name: the handshake then runs on the bytes buffered. */
START_TEST(test_tls_on_buffered_hello)
{
	fx.server.reads_hello = true;
	fx.client.write_on_ready = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.received_len == 5, 5);
	ck_assert_str_eq(fx.server.hello_name, "edge.example.test");
	ck_assert_int_eq(fx.server.upgrade_result, 0);
	ck_assert(fx.server.ready && fx.client.ready);
	ck_assert(conn_secure(fx.server.conn));
	ck_assert_str_eq(conn_server_name(fx.server.conn), "edge.example.test");
	ck_assert_str_eq(conn_peer_subject(fx.server.conn), "CN=pool1.example.test");
	ck_assert_str_eq(fx.server.received, "hello");
	/* An ordinary upgrade still refuses what is buffered. */
	ck_assert_int_eq(conn_start_tls_server(fx.server.conn, fx.server_tls), -1);
}
END_TEST

/* A handshake refused after an upgrade still sends its alert: the peer
 * learns why, rather than seeing the connection just close. */
START_TEST(test_buffered_hello_refusal_sends_alert)
{
	tls_client_release(fx.client_tls);
	fx.client_tls = client_tls("other"); /* right CA, wrong name */
	fx.server.reads_hello = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.closed && fx.client.closed, 5);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_CERTIFICATE_REFUSED);
	ck_assert_msg(strstr(fx.client.reason, "alert") != NULL, "client: %s (%s)",
		      fx.client.reason, conn_close_reason_name(fx.client.close_reason));
}
END_TEST

/* Once upgraded, the input limit still holds: the TLS layer stops taking
 * from the plain one when its own input is full. */
START_TEST(test_starttls_input_limit)
{
	static char block[100000];
	fx.plain = true;
	fx.limits.input_max = 1000;
	fx.limits.output_max = sizeof(block);
	fx.server.starttls = true;
	fx.client.starttls = true;
	fx.server.hold_input = true;
	connect_client(NULL);
	ck_assert_int_eq(conn_write(fx.client.conn, "STARTTLS\r\n", 10), 0);
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	check_input_limit(block, sizeof(block));
}
END_TEST

/* A peer that asks for TLS and then never starts it: the handshake
 * timeout runs from the upgrade, the idle timeout no longer. */
START_TEST(test_starttls_handshake_timeout)
{
	fx.plain = true;
	fx.limits.idle_timeout_s = 30;
	fx.server.starttls = true;
	connect_client(NULL);
	ck_assert_int_eq(conn_write(fx.client.conn, "STARTTLS\r\n", 10), 0);
	RUN_UNTIL(fx.server.closed, 4);
	ck_assert(fx.server.closed);
	ck_assert_int_eq(fx.server.upgrade_result, 0);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_HANDSHAKE_TIMEOUT);
	ck_assert_str_eq(fx.client.received, "PROCEED\r\n");
}
END_TEST

/* What the peer sent after STARTTLS in the same packet must never be
 * taken as if it came over TLS (CVE-2011-0411). */
START_TEST(test_starttls_leftover_plaintext_refused)
{
	fx.plain = true;
	fx.server.starttls = true;
	connect_client(NULL);
	const char *injected = "STARTTLS\r\nINJECTED COMMAND\r\n";
	ck_assert_int_eq(conn_write(fx.client.conn, injected, strlen(injected)), 0);
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert(fx.server.closed);
	ck_assert_int_eq(fx.server.upgrade_result, -1);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_PLAINTEXT_AFTER_UPGRADE);
	ck_assert_str_eq(conn_close_reason_name(fx.server.close_reason), "plaintext_after_upgrade");
	ck_assert(!fx.server.ready);
}
END_TEST

START_TEST(test_drained_below_low_water)
{
	static char block[300000];
	fx.limits.output_max = sizeof(block) * 2;
	fx.limits.output_low_water = 16384;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert_int_eq(conn_write(fx.server.conn, block, sizeof(block)), 0);
	ck_assert_uint_eq(fx.server.drained_events, 0);
	RUN_UNTIL(fx.server.drained_events > 0 && fx.client.received_total == sizeof(block), 5);
	ck_assert_uint_eq(fx.server.drained_events, 1);
	ck_assert_uint_le(fx.server.queued_at_drained, 16384);
	/* The client wrote nothing: it never was above its mark. */
	ck_assert_uint_eq(fx.client.drained_events, 0);
}
END_TEST

struct choices {
	int count;
	void *handshake; /* the last one's */
};

static enum tls_certificate_choice count_choice(void *arg, void *handshake, const char *server_name,
						const struct tls_identity **identity)
{
	struct choices *choices = arg;
	(void)server_name;
	(void)identity;
	choices->count++;
	choices->handshake = handshake;
	return TLS_CERTIFICATE_DEFAULT;
}

/* A reload drops the old handles while their conns are still in their
 * handshake: each conn holds the handle it was accepted with. */
START_TEST(test_conn_keeps_its_server_handle)
{
	struct choices choices = { 0 };
	tls_server_choose_certificate(fx.server_tls, count_choice, &choices);
	connect_client("edge.example.test");
	RUN_UNTIL(fx.n_accepted == 1, 5);
	ck_assert_ptr_nonnull(fx.server.conn);
	tls_server_release(fx.server_tls);
	fx.server_tls = NULL;
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert(fx.server.ready && fx.client.ready);
	ck_assert_int_eq(choices.count, 1);
	/* The chooser knows whose handshake it is: the conn owner's arg. */
	ck_assert_ptr_eq(choices.handshake, &fx.server);
}
END_TEST

/* A port nobody listens on: the connect fails, as its own reason. */
START_TEST(test_connect_refused)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in closed = { .sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(closed);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&closed, sizeof(closed)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&closed, &len), 0);
	close(fd);
	fx.address = closed;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.client.closed, 5);
	ck_assert(fx.client.closed);
	ck_assert_int_eq(fx.client.close_reason, CONN_CLOSE_CONNECT_FAILED);
	ck_assert_str_eq(fx.client.reason, "cannot connect (refused or unreachable)");
}
END_TEST

START_TEST(test_owner_fields)
{
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	const struct conn_owner *server = conn_owner(fx.server.conn);
	const struct conn_owner *client = conn_owner(fx.client.conn);
	ck_assert_int_eq(server->protocol, CONN_PROTOCOL_SIP);
	ck_assert_int_eq(server->role, ROLE_FEDERATION);
	ck_assert_ptr_eq(server->arg, &fx.server);
	ck_assert_int_eq(client->role, ROLE_INTERNAL);
	ck_assert_ptr_eq(client->arg, &fx.client);
}
END_TEST

START_TEST(test_close_reason_names)
{
	ck_assert_str_eq(conn_close_reason_name(CONN_CLOSE_PEER), "peer_closed");
	ck_assert_str_eq(conn_close_reason_name(CONN_CLOSE_CERTIFICATE_REFUSED),
			 "certificate_refused");
	ck_assert_str_eq(conn_close_reason_name(CONN_CLOSE_OUTPUT_OVERFLOW), "output_overflow");
	ck_assert_str_eq(conn_close_reason_name(CONN_CLOSE_OUT_OF_MEMORY), "out_of_memory");
	/* Every reason up to the count has a name of its own. */
	for (int i = 0; i < CONN_CLOSE_REASONS; i++) {
		ck_assert_str_ne(conn_close_reason_name((enum conn_close_reason)i), "unknown");
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(conn_close_reason_name((enum conn_close_reason)i),
					 conn_close_reason_name((enum conn_close_reason)j));
	}
}
END_TEST

/* ---- pressure: probation, budgets, the output total ---- */

static double now_s(void)
{
	struct timeval now;
	event_base_gettimeofday_cached(fx.base, &now);
	return (double)now.tv_sec + (double)now.tv_usec / 1e6;
}

/* Connects extra client I and waits until both ends are READY. */
static void connect_extra(size_t i, size_t input_max)
{
	connect_side(&fx.extra_clients[i], "edge.example.test", input_max);
	RUN_UNTIL(fx.extra_servers[i].ready && fx.extra_clients[i].ready, 5);
	ck_assert(fx.extra_servers[i].ready);
}

START_TEST(test_first_request_timeout_ignores_keep_alives)
{
	fx.limits.first_request_timeout_s = 1;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert(conn_on_probation(fx.server.conn));
	double start = now_s();
	event_active(fx.keep_alive, EV_TIMEOUT, 0);
	RUN_UNTIL(fx.server.closed, 4);
	ck_assert(fx.server.closed);
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_FIRST_REQUEST_TIMEOUT);
	ck_assert_str_eq(fx.server.reason, "first request timeout");
	/* Keep-alives kept coming, and did not push the deadline back. */
	ck_assert_uint_ge(fx.server.received_total, 8);
	ck_assert_msg(now_s() - start < 1.5, "closed after %.2f s", now_s() - start);
}
END_TEST

START_TEST(test_first_request_timeout_covers_handshake)
{
	fx.limits.handshake_timeout_s = 5;
	fx.limits.first_request_timeout_s = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0); /* never speaks TLS */
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&fx.address, sizeof(fx.address)), 0);
	RUN_UNTIL(fx.server.closed, 3);
	ck_assert_str_eq(fx.server.reason, "first request timeout");
	close(fd);
}
END_TEST

START_TEST(test_probation_ended_by_owner)
{
	fx.limits.first_request_timeout_s = 1;
	fx.server.prove_on_data = true;
	fx.client.write_on_ready = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.received_len == 5, 5);
	ck_assert(!conn_on_probation(fx.server.conn));
	RUN_UNTIL(fx.server.closed, 2);
	ck_assert(!fx.server.closed);
	ck_assert(conn_ready(fx.server.conn));
}
END_TEST

START_TEST(test_probation_ended_by_handshake)
{
	fx.limits.first_request_timeout_s = 1;
	fx.limits.proven_by_handshake = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready, 5);
	ck_assert(!conn_on_probation(fx.server.conn));
	RUN_UNTIL(fx.server.closed, 2);
	ck_assert(!fx.server.closed);
}
END_TEST

START_TEST(test_outbound_not_on_probation)
{
	connect_client("edge.example.test");
	ck_assert(!conn_on_probation(fx.client.conn));
}
END_TEST

START_TEST(test_budget_sheds_oldest_on_probation)
{
	struct conn_budget budget;
	ck_assert_int_eq(conn_budget_init(&budget, "access", 2, 0), 0);
	fx.budget = &budget;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	connect_extra(0, 0);
	ck_assert_uint_eq(budget.used, 2);
	ck_assert_int_eq(conn_budget_check(&budget, (struct sockaddr *)&fx.address),
			 CONN_BUDGET_FULL);
	/* The older one proves itself: the newer one is the one to shed. */
	conn_end_probation(fx.server.conn);
	struct conn *oldest = conn_budget_oldest_on_probation(&budget);
	ck_assert_ptr_eq(oldest, fx.extra_servers[0].conn);
	conn_abort(oldest, CONN_CLOSE_BUDGET_SHED, "shed: access connection limit");
	/* Its place is free at once, before its CLOSED. */
	ck_assert_uint_eq(budget.used, 1);
	ck_assert(!fx.extra_servers[0].closed);
	RUN_UNTIL(fx.extra_servers[0].closed && fx.extra_clients[0].closed, 5);
	ck_assert_str_eq(fx.extra_servers[0].reason, "shed: access connection limit");
	ck_assert_int_eq(fx.extra_servers[0].close_reason, CONN_CLOSE_BUDGET_SHED);
	ck_assert_ptr_null(conn_budget_oldest_on_probation(&budget));
	ck_assert(conn_ready(fx.server.conn));
	/* A closed conn gives its place back. */
	conn_close(fx.server.conn, CONN_CLOSE_LOCAL, "bye");
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert_uint_eq(budget.used, 0);
	fx.budget = NULL;
	conn_budget_clear(&budget);
}
END_TEST

START_TEST(test_output_total_counts_queue_and_drain)
{
	static char block[30000];
	fx.limits.output_max = sizeof(block) * 2;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert_uint_eq(conn_output_total(), 0);
	ck_assert_int_eq(conn_write(fx.server.conn, block, sizeof(block)), 0);
	ck_assert_int_eq(conn_write(fx.client.conn, block, 100), 0);
	ck_assert_uint_eq(conn_output_queued(fx.server.conn), sizeof(block));
	ck_assert_uint_eq(conn_output_total(), sizeof(block) + 100);
	/* Once the peers have read it all, nothing is queued. */
	RUN_UNTIL(fx.client.received_total == sizeof(block) && fx.server.received_total == 100, 5);
	ck_assert_uint_eq(conn_output_total(), 0);
	/* A conn freed with output queued takes its share out of the total. */
	ck_assert_int_eq(conn_write(fx.server.conn, block, 1000), 0);
	ck_assert_uint_eq(conn_output_total(), 1000);
	conn_free(fx.server.conn);
	fx.server.conn = NULL;
	ck_assert_uint_eq(conn_output_total(), 0);
}
END_TEST

/* Three conns queue output without the loop running (nothing is sent):
 * over the total, the outsider with the most queued goes first, and the
 * link marked CONN_SHED_LAST only once no outsider holds any output. */
START_TEST(test_output_total_sheds_outsiders_first)
{
	static char block[10000];
	struct conn *outsider_big, *link, *outsider_small;
	fx.limits.output_max = 200000;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	connect_extra(0, 0);
	connect_extra(1, 0);
	outsider_big = fx.server.conn;
	link = fx.extra_servers[0].conn;
	outsider_small = fx.extra_servers[1].conn;
	conn_set_shed_rank(link, CONN_SHED_LAST);
	conn_set_output_total_max(90000);

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(conn_write(outsider_big, block, sizeof(block)), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(conn_write(link, block, sizeof(block)), 0);
	ck_assert_int_eq(conn_write(outsider_small, block, sizeof(block)), 0);
	ck_assert_uint_eq(conn_output_total(), 90000);
	/* 100000: the link holds the most, but outsider_big goes. */
	ck_assert_int_eq(conn_write(outsider_small, block, sizeof(block)), 0);
	ck_assert(!conn_ready(outsider_big));
	ck_assert(conn_ready(link));
	ck_assert(conn_ready(outsider_small));
	ck_assert_uint_eq(conn_output_total(), 70000);
	/* 100000 again: the only outsider left holding output goes, though it
	 * was not the one written to. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(conn_write(link, block, sizeof(block)), 0);
	ck_assert(!conn_ready(outsider_small));
	ck_assert(conn_ready(link));
	ck_assert_uint_eq(conn_output_total(), 80000);
	/* No outsider holds any: now the link itself, and its write fails. */
	ck_assert_int_eq(conn_write(link, block, sizeof(block)), 0);
	ck_assert_int_eq(conn_write(link, block, sizeof(block)), -1);
	ck_assert(!conn_ready(link));
	ck_assert_uint_eq(conn_output_total(), 0);

	RUN_UNTIL(fx.server.closed && fx.extra_servers[0].closed && fx.extra_servers[1].closed, 5);
	ck_assert_str_eq(fx.server.reason, "output total limit");
	ck_assert_int_eq(fx.server.close_reason, CONN_CLOSE_OUTPUT_TOTAL);
	ck_assert_str_eq(fx.extra_servers[0].reason, "output total limit");
	ck_assert_str_eq(fx.extra_servers[1].reason, "output total limit");
}
END_TEST

/* A peer that stops reading: the kernel's buffers fill, then the edge's
 * queue, until the worker's total is passed and that reader is closed,
 * while a peer that reads gets everything sent to it. */
START_TEST(test_slow_reader_closed_at_output_total)
{
	static char block[16384];
	size_t sent_slow = 0, sent_fast = 0;
	fx.limits.output_max = 8 * 1024 * 1024;
	conn_set_output_total_max(1024 * 1024);
	fx.client.deaf = true; /* the slow reader */
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	connect_extra(0, 0);
	struct conn *slow = fx.server.conn, *fast = fx.extra_servers[0].conn;

	for (int round = 0; round < 4000 && !fx.server.closed; round++) {
		if (conn_ready(slow) && conn_write(slow, block, sizeof(block)) == 0)
			sent_slow += sizeof(block);
		if (conn_output_queued(fast) < sizeof(block) * 4 &&
		    conn_write(fast, block, sizeof(block)) == 0)
			sent_fast += sizeof(block);
		event_base_loop(fx.base, EVLOOP_NONBLOCK);
	}
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert(fx.server.closed);
	ck_assert_str_eq(fx.server.reason, "output total limit");
	ck_assert_uint_ge(sent_slow, 1024 * 1024);
	RUN_UNTIL(fx.extra_clients[0].received_total == sent_fast, 5);
	ck_assert_uint_eq(fx.extra_clients[0].received_total, sent_fast);
	ck_assert(conn_ready(fast));
	ck_assert_uint_eq(conn_output_total(), 0);
}
END_TEST

static Suite *conn_suite(void)
{
	Suite *suite = suite_create("conn");
	TCase *tcase = tcase_create("tls");
	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_set_timeout(tcase, 15);
	tcase_add_test(tcase, test_handshake_and_data);
	tcase_add_test(tcase, test_share_local_port);
	tcase_add_test(tcase, test_signalling_socket_options);
	tcase_add_test(tcase, test_close_flushes_and_reports);
	tcase_add_test(tcase, test_handshake_timeout);
	tcase_add_test(tcase, test_plain_bytes_refused);
	tcase_add_test(tcase, test_client_name_not_allowed);
	tcase_add_test(tcase, test_server_name_checked_by_client);
	tcase_add_test(tcase, test_output_limit);
	tcase_add_test(tcase, test_input_limit);
	tcase_add_test(tcase, test_idle_timeout);
	tcase_add_test(tcase, test_free_inside_callback);
	tcase_add_test(tcase, test_plain_exchange);
	tcase_add_test(tcase, test_starttls_upgrade_in_place);
	tcase_add_test(tcase, test_tls_on_buffered_hello);
	tcase_add_test(tcase, test_buffered_hello_refusal_sends_alert);
	tcase_add_test(tcase, test_starttls_input_limit);
	tcase_add_test(tcase, test_starttls_handshake_timeout);
	tcase_add_test(tcase, test_starttls_leftover_plaintext_refused);
	tcase_add_test(tcase, test_drained_below_low_water);
	tcase_add_test(tcase, test_connect_refused);
	tcase_add_test(tcase, test_conn_keeps_its_server_handle);
	tcase_add_test(tcase, test_owner_fields);
	tcase_add_test(tcase, test_close_reason_names);
	suite_add_tcase(suite, tcase);

	TCase *pressure = tcase_create("pressure");
	tcase_add_checked_fixture(pressure, setup, teardown);
	tcase_set_timeout(pressure, 20);
	tcase_add_test(pressure, test_first_request_timeout_ignores_keep_alives);
	tcase_add_test(pressure, test_first_request_timeout_covers_handshake);
	tcase_add_test(pressure, test_probation_ended_by_owner);
	tcase_add_test(pressure, test_probation_ended_by_handshake);
	tcase_add_test(pressure, test_outbound_not_on_probation);
	tcase_add_test(pressure, test_budget_sheds_oldest_on_probation);
	tcase_add_test(pressure, test_output_total_counts_queue_and_drain);
	tcase_add_test(pressure, test_output_total_sheds_outsiders_first);
	tcase_add_test(pressure, test_slow_reader_closed_at_output_total);
	suite_add_tcase(suite, pressure);
	return suite;
}

int main(void)
{
	return test_suite_run(conn_suite());
}
