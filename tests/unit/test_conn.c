/* Check suite for lib/conn: real TLS connections over loopback between a
 * conn_accept() server and a conn_connect() client on one event loop. */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>

#include "config.h"
#include "conn.h"
#include "test_pki.h"
#include "tls.h"

/* What one side of a test connection saw. */
struct side {
	struct conn *conn;
	bool ready;
	bool closed;
	char reason[256];
	char subject[256]; /* the peer's, as known when it closed */
	char received[256];
	size_t received_len; /* what is kept in received */
	size_t received_total; /* everything that arrived */
	bool free_on_data; /* conn_free() from inside the DATA callback */
	bool write_on_ready; /* client: say hello once READY */
	bool hold_input; /* leave DATA in the input buffer */
	size_t data_events;
};

struct fixture {
	struct event_base *base;
	struct evconnlistener *listener;
	struct sockaddr_in address;
	SSL_CTX *server_ctx;
	SSL_CTX *client_ctx;
	struct conn_limits limits;
	struct side server;
	struct side client;
	struct event *deadline;
};

static struct fixture fx;

static void side_on_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct side *side = arg;
	struct evbuffer *input;

	switch (event) {
	case CONN_EVENT_READY:
		side->ready = true;
		if (side->write_on_ready)
			conn_write(conn, "hello", 5);
		break;
	case CONN_EVENT_DATA:
		side->data_events++;
		if (side->hold_input)
			break;
		input = conn_input(conn);
		side->received_total += evbuffer_get_length(input);
		side->received_len +=
			evbuffer_remove(input, side->received + side->received_len,
					sizeof(side->received) - 1 - side->received_len);
		evbuffer_drain(input, evbuffer_get_length(input));
		if (side->free_on_data) {
			conn_free(conn);
			side->conn = NULL;
			event_base_loopbreak(fx.base);
		}
		break;
	case CONN_EVENT_CLOSED:
		side->closed = true;
		snprintf(side->reason, sizeof(side->reason), "%s", conn_close_reason(conn));
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
	fx.server.conn = conn_accept(fx.base, fx.server_ctx, fd, peer, peer_len, &fx.limits,
				     side_on_event, &fx.server);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(fx.base);
}

static SSL_CTX *server_ctx(enum client_cert_mode mode, const char *allowed)
{
	char *cert = test_pki_path("edge.crt"), *key = test_pki_path("edge.key");
	char *ca = test_pki_path("ca.crt");
	struct listener_config listener = {
		.name = "test",
		.role = ROLE_INTERNAL,
		.certificate = cert,
		.key = key,
		.ca_file = ca,
		.client_cert = mode,
	};
	char err[256];
	const char *names[] = { allowed };
	SSL_CTX *ctx = tls_server_context(&listener, allowed ? names : NULL, allowed ? 1 : 0, err,
					  sizeof(err));
	ck_assert_msg(ctx != NULL, "server context: %s", err);
	free(cert);
	free(key);
	free(ca);
	return ctx;
}

static SSL_CTX *client_ctx(const char *name)
{
	char file[64];
	snprintf(file, sizeof(file), "%s.crt", name);
	char *cert = test_pki_path(file);
	snprintf(file, sizeof(file), "%s.key", name);
	char *key = test_pki_path(file);
	char *ca = test_pki_path("ca.crt");
	char err[256];
	SSL_CTX *ctx = tls_client_context(cert, key, ca, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "client context: %s", err);
	free(cert);
	free(key);
	free(ca);
	return ctx;
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
	fx.server_ctx = server_ctx(CLIENT_CERT_REQUIRED, "pool1.example.test");
	fx.client_ctx = client_ctx("pool1");
}

static void teardown(void)
{
	conn_free(fx.server.conn);
	conn_free(fx.client.conn);
	evconnlistener_free(fx.listener);
	event_free(fx.deadline);
	SSL_CTX_free(fx.server_ctx);
	SSL_CTX_free(fx.client_ctx);
	event_base_free(fx.base);
}

static void connect_client(const char *expected_name)
{
	SSL *ssl = SSL_new(fx.client_ctx);
	const char *names[] = { expected_name };
	ck_assert_int_eq(tls_client_expect(ssl, expected_name, names, 1), 0);
	/* The client never times out on its own: the server's limits are under test. */
	struct conn_limits client_limits = fx.limits;
	client_limits.idle_timeout_s = 0;
	fx.client.conn =
		conn_connect(fx.base, ssl, (struct sockaddr *)&fx.address, sizeof(fx.address), NULL,
			     0, &client_limits, side_on_event, &fx.client);
	ck_assert_ptr_nonnull(fx.client.conn);
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

START_TEST(test_close_flushes_and_reports)
{
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	uint64_t id = conn_id(fx.server.conn);
	conn_write(fx.server.conn, "bye", 3);
	conn_close(fx.server.conn, "done here");
	RUN_UNTIL(fx.server.closed && fx.client.closed, 5);
	ck_assert_str_eq(fx.server.reason, "done here");
	ck_assert_str_eq(fx.client.received, "bye");
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
	ck_assert(!fx.server.ready);
	close(fd);
}
END_TEST

START_TEST(test_client_name_not_allowed)
{
	SSL_CTX_free(fx.client_ctx);
	fx.client_ctx = client_ctx("other"); /* right CA, wrong name */
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert(!fx.server.ready);
	ck_assert_msg(strstr(fx.server.reason, "not allowed") != NULL, "reason: %s",
		      fx.server.reason);
	ck_assert_str_eq(fx.server.subject, "CN=other.example.test");
}
END_TEST

START_TEST(test_server_name_checked_by_client)
{
	connect_client("pool9.example.test"); /* the server is edge.example.test */
	RUN_UNTIL(fx.client.closed, 5);
	ck_assert(!fx.client.ready);
	ck_assert_msg(strstr(fx.client.reason, "not allowed") != NULL, "reason: %s",
		      fx.client.reason);
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
	ck_assert_str_eq(fx.server.reason, "output limit exceeded");
}
END_TEST

START_TEST(test_input_limit)
{
	static char block[100000];
	fx.limits.input_max = 1000;
	fx.limits.output_max = sizeof(block);
	fx.server.hold_input = true;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.ready && fx.client.ready, 5);
	ck_assert_int_eq(conn_write(fx.client.conn, block, sizeof(block)), 0);
	RUN_UNTIL(fx.server.data_events > 3, 1);
	struct evbuffer *input = conn_input(fx.server.conn);
	/* Reading pauses at the limit, give or take one TLS record. */
	ck_assert_uint_ge(evbuffer_get_length(input), 1000);
	ck_assert_uint_le(evbuffer_get_length(input), 1000 + 16384);
	/* Reading resumes once the owner takes what is buffered. */
	size_t total = evbuffer_get_length(input);
	evbuffer_drain(input, total);
	fx.server.hold_input = false;
	RUN_UNTIL(total + fx.server.received_total >= sizeof(block), 5);
	ck_assert_uint_eq(total + fx.server.received_total, sizeof(block));
}
END_TEST

START_TEST(test_idle_timeout)
{
	fx.limits.idle_timeout_s = 1;
	connect_client("edge.example.test");
	RUN_UNTIL(fx.server.closed, 5);
	ck_assert(fx.server.ready);
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

static Suite *conn_suite(void)
{
	Suite *suite = suite_create("conn");
	TCase *tcase = tcase_create("tls");
	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_set_timeout(tcase, 15);
	tcase_add_test(tcase, test_handshake_and_data);
	tcase_add_test(tcase, test_close_flushes_and_reports);
	tcase_add_test(tcase, test_handshake_timeout);
	tcase_add_test(tcase, test_plain_bytes_refused);
	tcase_add_test(tcase, test_client_name_not_allowed);
	tcase_add_test(tcase, test_server_name_checked_by_client);
	tcase_add_test(tcase, test_output_limit);
	tcase_add_test(tcase, test_input_limit);
	tcase_add_test(tcase, test_idle_timeout);
	tcase_add_test(tcase, test_free_inside_callback);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(conn_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
