/* SPDX-License-Identifier: ISC */
/* Unit tests for src/turn/turn_context (with turn_relay and turn_stream)
 * over real loopback sockets on one event loop, as the worker runs them:
 * `sxedge -t`'s TURN checks (a TURN listener needs [turn] and the reverse,
 * no listener inside the relay ports), answers on the UDP listener leaving
 * only after the loop pass (one flush per batch), a relay bound in the
 * range, sending to a peer and giving its port back, the RFC 6062 rule
 * that a TCP relay's port is shared with connections that ask for it (and
 * with nobody else), and TURN over TCP cut into frames however the bytes
 * arrive, with a malformed frame closing the connection and counted, the
 * per-address cap, and a flood of refusals logged at a bounded rate.
 * A reload: new settings for what comes next while an allocation made
 * before keeps its credentials, listeners kept with their sockets or
 * removed with their allocations, an abort that changes nothing, many
 * reloads that keep nothing (ASan's leak check), and through the protocol
 * entry [turn] added and removed.  RFC 6062: a data connection joined with
 * its peer moves bytes no faster than max_bandwidth, each way, losing none. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "address.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "roles.h"
#include "stun_attribute.h"
#include "stun_builder.h"
#include "stun_integrity.h"
#include "stun_message.h"
#include "test_suite.h"
#include "test_turn_scratch.h"
#include "turn_context.h"
#include "turn_credentials.h"
#include "turn_nonce.h"
#include "turn_protocol.h"
#include "turn_relay.h"
#include "turn_server_private.h"
#include "turn_stream.h"

static void setup(void)
{
	turn_scratch_make("turn-context");
}

static void teardown(void)
{
	turn_scratch_remove();
}

#define MINIMAL                                                                        \
	"[global]\ndomains = example.test\n"                                           \
	"[listener access]\nrole = access\naddress = 127.0.0.1\nport = 10443\n"        \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"                         \
	"[listener internal]\nrole = internal\naddress = 127.0.0.1\nport = 15061\n"    \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n" \
	"[pool]\nfqdn = pool1.example.test\nrelay = 127.0.0.1:25061\n"
/* MINIMAL is lines 1 to 18: what follows starts at line 19. */
#define TURN_SECTION                                             \
	"[turn]\nshared_secret = 0123456789abcdef0123\n"         \
	"relay_address = 127.0.0.1\nrelay_ports = 20000-20999\n" \
	"allowed_peers = 127.0.0.1\n"

/* Loads TEXT ("@DIR@" replaced by the fixture folder); NULL with the
 * errors in ERRORS when the file itself is refused. */
static const struct sxedge_config *load(const char *text)
{
	char path[128], *expanded = calloc(1, strlen(text) + 1024), *out = expanded;
	const char *at;

	for (; (at = strstr(text, "@DIR@")) != NULL; text = at + 5) {
		memcpy(out, text, (size_t)(at - text));
		out += at - text;
		out += sprintf(out, "%s", turn_scratch_dir);
	}
	strcpy(out, text);
	turn_scratch_write("sxedge.conf", expanded);
	free(expanded);
	snprintf(path, sizeof(path), "%s/sxedge.conf", turn_scratch_dir);
	return config_load(path, stderr, &turn_test_schema);
}

/* What turn_context_check says of TEXT, in ERRORS (SIZE bytes). */
static int check(const char *text, char *errors, size_t size)
{
	const struct sxedge_config *config = load(text);
	ck_assert_ptr_nonnull(config);
	FILE *out = fmemopen(errors, size, "w");
	int result = turn_context_check(config, out);
	fclose(out);
	config_unref(config);
	return result;
}

START_TEST(test_check_listener_needs_turn)
{
	char errors[1024] = "";

	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn\naddress = 127.0.0.1\n"
				       "port = 3478\n",
			       errors, sizeof(errors)),
			 -1);
	ck_assert_ptr_nonnull(
		strstr(errors, "sxedge.conf:19: listener t: role turn needs a [turn]"));
	memset(errors, 0, sizeof(errors));
	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn_tcp\naddress = 127.0.0.1\n"
				       "port = 3478\n",
			       errors, sizeof(errors)),
			 -1);
	ck_assert_ptr_nonnull(strstr(errors, "role turn_tcp needs a [turn]"));
	/* Neither: nothing to say. */
	memset(errors, 0, sizeof(errors));
	ck_assert_int_eq(check(MINIMAL, errors, sizeof(errors)), 0);
	ck_assert_str_eq(errors, "");
}
END_TEST

START_TEST(test_check_turn_needs_listener)
{
	char errors[1024] = "";

	ck_assert_int_eq(check(MINIMAL TURN_SECTION, errors, sizeof(errors)), -1);
	ck_assert_ptr_nonnull(strstr(errors, "sxedge.conf:19: [turn] without a listener"));
	memset(errors, 0, sizeof(errors));
	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn\naddress = 127.0.0.1\n"
				       "port = 3478\n" TURN_SECTION,
			       errors, sizeof(errors)),
			 0);
	ck_assert_str_eq(errors, "");
}
END_TEST

/* A listener inside the relay ports, on the relay address or a wildcard
 * one, with a relay's transport, would take a relay's port; on another
 * address, or of the other transport, it cannot. */
START_TEST(test_check_relay_ports)
{
	char errors[1024] = "";

	/* on relay_address6 too */
	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn\naddress = ::1\n"
				       "port = 20500\n" TURN_SECTION "relay_address6 = ::1\n",
			       errors, sizeof(errors)),
			 -1);
	ck_assert_ptr_nonnull(strstr(errors, "sxedge.conf:19: listener t: port 20500 on ::1 "
					     "is inside [turn] relay_ports 20000-20999 on "
					     "relay_address6 ::1"));
	memset(errors, 0, sizeof(errors));
	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn\naddress = ::\n"
				       "port = 20500\nadvertise = 127.0.0.1:20500\n" TURN_SECTION
				       "relay_address6 = ::1\n",
			       errors, sizeof(errors)),
			 -1);
	ck_assert_ptr_nonnull(strstr(errors, "port 20500 on :: is inside"));
	memset(errors, 0, sizeof(errors));

	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn\naddress = 127.0.0.1\n"
				       "port = 20500\n" TURN_SECTION,
			       errors, sizeof(errors)),
			 -1);
	ck_assert_ptr_nonnull(strstr(errors, "sxedge.conf:19: listener t: port 20500 on 127.0.0.1 "
					     "is inside [turn] relay_ports 20000-20999"));
	memset(errors, 0, sizeof(errors));
	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn_tcp\naddress = 0.0.0.0\n"
				       "port = 20000\nadvertise = 127.0.0.1:20000\n" TURN_SECTION,
			       errors, sizeof(errors)),
			 -1);
	ck_assert_ptr_nonnull(strstr(errors, "port 20000 on 0.0.0.0 is inside"));
	memset(errors, 0, sizeof(errors));
	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn\naddress = 127.0.0.2\n"
				       "port = 20999\n" TURN_SECTION,
			       errors, sizeof(errors)),
			 0);
	/* A TCP listener leaves the UDP relays' ports alone, and the reverse. */
	ck_assert_int_eq(check(MINIMAL "[listener t]\nrole = turn\naddress = 127.0.0.1\n"
				       "port = 3478\n"
				       "[listener m]\nrole = turn_tcp\naddress = 127.0.0.1\n"
				       "port = 3478\n" TURN_SECTION,
			       errors, sizeof(errors)),
			 0);
	ck_assert_str_eq(errors, "");
}
END_TEST

/* ---- a context on a loop ---- */

static struct {
	struct event_base *base;
	struct metrics *metrics;
	const struct sxedge_config *config;
	struct turn_context context;
	int listener; /* the worker's UDP socket of the turn listener */
	struct sockaddr_storage listener_address;
	int client;
	struct sockaddr_storage client_address;
} fx;

/* The fixture's context made from CONFIG (its reference is the fixture's)
 * with NONCE_SECRET. */
static void context_start(const struct sxedge_config *config, const uint8_t nonce_secret[32])
{
	fx.config = config;
	ck_assert_ptr_nonnull(fx.config);
	ck_assert_int_eq(turn_context_init(&fx.context, fx.base, fx.config, fx.metrics,
					   nonce_secret, stderr),
			 0);
}

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

static void context_setup(void)
{
	char text[2048];
	static const uint8_t nonce_secret[32] = { 1 };

	setup();
	fx.base = event_base_new();
	fx.metrics = metrics_new();
	fx.listener = udp_socket(&fx.listener_address);
	fx.client = udp_socket(&fx.client_address);
	snprintf(text, sizeof(text),
		 MINIMAL
		 "[listener t]\nrole = turn\naddress = 127.0.0.1\nport = %u\n"
		 "[listener c]\nrole = turn_tcp\naddress = 127.0.0.1\nport = %u\n" TURN_SECTION
		 "relay_address6 = ::1\nmax_connections_per_address = 2\n",
		 ntohs(((struct sockaddr_in *)&fx.listener_address)->sin_port),
		 ntohs(((struct sockaddr_in *)&fx.listener_address)->sin_port));
	context_start(load(text), nonce_secret);
}

static void context_teardown(void)
{
	turn_context_free(&fx.context);
	config_unref(fx.config);
	metrics_free(fx.metrics);
	close(fx.listener);
	close(fx.client);
	event_base_free(fx.base);
	teardown();
}

static const struct listener_config *turn_listener(void)
{
	return config_listener(fx.config, ROLE_TURN);
}

/* A Binding request with transaction id byte ID. */
static void binding_request(uint8_t request[20], uint8_t id)
{
	static const uint8_t header[8] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
	memcpy(request, header, sizeof(header));
	memset(request + 8, id, 12);
}

/* The worker hands the listener's datagram over, as it read it. */
static void deliver(const uint8_t *bytes, size_t size)
{
	turn_context_datagram(&fx.context, turn_listener(), fx.listener, bytes, size,
			      (struct sockaddr *)&fx.client_address, sizeof(struct sockaddr_in));
}

static ssize_t receive(int fd, uint8_t *buf, size_t size)
{
	return recv(fd, buf, size, MSG_DONTWAIT);
}

static void wait_readable(int fd)
{
	struct timeval timeout = { .tv_sec = 1 };
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	ck_assert_int_eq(select(fd + 1, &set, NULL, NULL, &timeout), 1);
}

/* Answers wait for the end of the loop pass: three requests handled, none
 * sent; one pass, all three, each a Binding success for its request. */
START_TEST(test_binding_batched)
{
	uint8_t request[20], answer[512];

	for (uint8_t id = 1; id <= 3; id++) {
		binding_request(request, id);
		deliver(request, sizeof(request));
	}
	ck_assert_int_eq(receive(fx.client, answer, sizeof(answer)), -1);
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	for (uint8_t id = 1; id <= 3; id++) {
		wait_readable(fx.client);
		ssize_t n = receive(fx.client, answer, sizeof(answer));
		ck_assert_int_ge(n, 32); /* the header and XOR-MAPPED-ADDRESS */
		ck_assert_uint_eq(answer[0], 0x01);
		ck_assert_uint_eq(answer[1], 0x01);
		ck_assert_uint_eq(answer[8], id);
	}
	ck_assert_int_eq(receive(fx.client, answer, sizeof(answer)), -1);
}
END_TEST

/* A malformed datagram is never answered; it is counted by its reason. */
START_TEST(test_malformed_counted)
{
	uint8_t request[20], answer[512];
	struct evbuffer *page = evbuffer_new();

	binding_request(request, 7);
	request[3] = 8; /* a length past the datagram */
	deliver(request, sizeof(request));
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(receive(fx.client, answer, sizeof(answer)), -1);
	ck_assert_int_eq(metrics_render(fx.metrics, page), 0);
	evbuffer_add(page, "", 1);
	ck_assert_msg(strstr((char *)evbuffer_pullup(page, -1),
			     "sxedge_turn_refusals_total{reason=\"malformed_") != NULL,
		      "%s", (char *)evbuffer_pullup(page, -1));
	evbuffer_free(page);
}
END_TEST

/* ---- stderr, captured ---- */

struct capture {
	int saved_stderr;
	int fd;
};

static void capture_start(struct capture *capture)
{
	char path[] = "/tmp/sxedge-test-turn-log-XXXXXX";
	capture->fd = mkstemp(path);
	ck_assert_int_ge(capture->fd, 0);
	unlink(path);
	fflush(stderr);
	capture->saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_eq(dup2(capture->fd, STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr; returns what was written meanwhile (malloc'd). */
static char *capture_end(struct capture *capture)
{
	fflush(stderr);
	off_t size = lseek(capture->fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)size + 1);
	ck_assert_int_eq(pread(capture->fd, text, (size_t)size, 0), size);
	dup2(capture->saved_stderr, STDERR_FILENO);
	close(capture->saved_stderr);
	close(capture->fd);
	return text;
}

static size_t count(const char *text, const char *word)
{
	size_t n = 0;
	for (const char *at = text; (at = strstr(at, word)) != NULL; at++)
		n++;
	return n;
}

/* A flood of refusals logs TURN_REFUSAL_LOGS_PER_S lines a second and
 * counts every one; the next line logged says how many it left out. */
START_TEST(test_refusal_log_limited)
{
	uint8_t request[20];
	struct capture capture;
	struct evbuffer *page = evbuffer_new();

	log_set_level(LOG_LEVEL_INFO);
	binding_request(request, 9);
	request[3] = 8; /* a length past the datagram */
	while (turn_context_now_ms() % 1000 > 500)
		usleep(10000); /* the flood fits in one second */
	uint64_t second = turn_context_now_ms() / 1000;
	capture_start(&capture);
	for (int i = 0; i < 25; i++)
		deliver(request, sizeof(request));
	char *flood = capture_end(&capture);
	ck_assert_uint_eq(turn_context_now_ms() / 1000, second);
	ck_assert_uint_eq(count(flood, "event=turn_refused"), TURN_REFUSAL_LOGS_PER_S);
	ck_assert_uint_eq(count(flood, "suppressed="), 0);
	while (turn_context_now_ms() / 1000 == second)
		usleep(10000);
	capture_start(&capture);
	deliver(request, sizeof(request));
	char *next = capture_end(&capture);
	ck_assert_uint_eq(count(next, "event=turn_refused"), 1);
	ck_assert_msg(strstr(next, " suppressed=15") != NULL, "%s", next);
	ck_assert_int_eq(metrics_render(fx.metrics, page), 0);
	evbuffer_add(page, "", 1);
	ck_assert_msg(strstr((char *)evbuffer_pullup(page, -1),
			     "sxedge_turn_refusals_total{reason=\"malformed_") != NULL,
		      "%s", (char *)evbuffer_pullup(page, -1));
	ck_assert_ptr_nonnull(strstr((char *)evbuffer_pullup(page, -1), "\"} 26\n"));
	free(flood);
	free(next);
	evbuffer_free(page);
	log_set_level(LOG_LEVEL_NOTICE);
}
END_TEST

static uint16_t port_of(const struct transport_address *address)
{
	return address->port;
}

/* A UDP relay: a port of the range on the relay address; a datagram to a
 * peer leaves at the flush, from that port; closed, the port is free. */
START_TEST(test_udp_relay)
{
	struct transport_address bound = { .family = AF_INET }, peer;
	struct sockaddr_storage peer_address, from;
	socklen_t from_length = sizeof(from);
	int peer_fd = udp_socket(&peer_address);
	uint8_t buf[64];

	struct turn_relay *relay = turn_relay_open(&fx.context, TURN_TRANSPORT_UDP, &bound);
	ck_assert_ptr_nonnull(relay);
	ck_assert_uint_ge(port_of(&bound), 20000);
	ck_assert_uint_le(port_of(&bound), 20999);
	ck_assert(transport_address_from_sockaddr((struct sockaddr *)&peer_address, &peer));
	turn_relay_send(relay, &peer, (const uint8_t *)"media", 5);
	ck_assert_int_eq(receive(peer_fd, buf, sizeof(buf)), -1);
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	wait_readable(peer_fd);
	ck_assert_int_eq(
		recvfrom(peer_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_length), 5);
	ck_assert_int_eq(memcmp(buf, "media", 5), 0);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&from)->sin_port), port_of(&bound));
	turn_relay_close(relay);
	struct sockaddr_storage again;
	transport_address_to_sockaddr(&bound, &again);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&again, sizeof(struct sockaddr_in)), 0);
	close(fd);
	close(peer_fd);
}
END_TEST

/* A relay asked for IPv6 binds relay_address6 (::1) from the same range,
 * and its datagrams leave from there. */
START_TEST(test_udp_relay_ipv6)
{
	struct transport_address bound = { .family = AF_INET6 }, peer;
	struct sockaddr_storage peer_address = { .ss_family = AF_INET6 }, from;
	socklen_t length = sizeof(struct sockaddr_in6), from_length = sizeof(from);
	uint8_t buf[64];

	((struct sockaddr_in6 *)&peer_address)->sin6_addr = in6addr_loopback;
	int peer_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(peer_fd, 0);
	ck_assert_int_eq(bind(peer_fd, (struct sockaddr *)&peer_address, length), 0);
	ck_assert_int_eq(getsockname(peer_fd, (struct sockaddr *)&peer_address, &length), 0);
	struct turn_relay *relay = turn_relay_open(&fx.context, TURN_TRANSPORT_UDP, &bound);
	ck_assert_ptr_nonnull(relay);
	ck_assert_uint_eq(bound.family, AF_INET6);
	ck_assert_mem_eq(bound.ip, &in6addr_loopback, 16);
	ck_assert_uint_ge(bound.port, 20000);
	ck_assert_uint_le(bound.port, 20999);
	ck_assert(transport_address_from_sockaddr((struct sockaddr *)&peer_address, &peer));
	turn_relay_send(relay, &peer, (const uint8_t *)"media", 5);
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	wait_readable(peer_fd);
	ck_assert_int_eq(
		recvfrom(peer_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_length), 5);
	ck_assert_int_eq(from.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&from)->sin6_port), bound.port);
	turn_relay_close(relay);
	close(peer_fd);
}
END_TEST

/* An RFC 6062 relay listens on its port; a connection that sets
 * SO_REUSEPORT (conn's share_local_port) may leave from that port, and a
 * socket that does not, as port_range's never do, may not bind it. */
START_TEST(test_tcp_relay_port_shared)
{
	struct transport_address bound = { .family = AF_INET };
	struct sockaddr_storage at;
	int one = 1;

	struct turn_relay *relay = turn_relay_open(&fx.context, TURN_TRANSPORT_TCP, &bound);
	ck_assert_ptr_nonnull(relay);
	transport_address_to_sockaddr(&bound, &at);
	int plain = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(setsockopt(plain, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(bind(plain, (struct sockaddr *)&at, sizeof(struct sockaddr_in)), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	close(plain);
	int shared = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(setsockopt(shared, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	ck_assert_int_eq(bind(shared, (struct sockaddr *)&at, sizeof(struct sockaddr_in)), 0);
	close(shared);
	turn_relay_close(relay);
}
END_TEST

/* ---- TURN over TCP ---- */

/* A client connected to a turn_tcp "listener"; *ACCEPTED the accepted
 * end (non-blocking), its address in *PEER. */
static int tcp_pair(int *accepted_out, struct sockaddr_storage *peer, socklen_t *peer_length)
{
	struct sockaddr_storage address;
	socklen_t length = sizeof(address);
	int listen_fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_gt(address_parse("127.0.0.1", 0, &address), 0);
	ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&address, sizeof(struct sockaddr_in)),
			 0);
	ck_assert_int_eq(listen(listen_fd, 4), 0);
	ck_assert_int_eq(getsockname(listen_fd, (struct sockaddr *)&address, &length), 0);
	int client = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(client, (struct sockaddr *)&address, sizeof(struct sockaddr_in)),
			 0);
	*peer_length = sizeof(*peer);
	int accepted = accept(listen_fd, (struct sockaddr *)peer, peer_length);
	ck_assert_int_ge(accepted, 0);
	evutil_make_socket_nonblocking(accepted);
	close(listen_fd);
	*accepted_out = accepted;
	return client;
}

/* The same, the accepted end handed to the context as the worker would. */
static int tcp_client(void)
{
	struct sockaddr_storage peer;
	socklen_t peer_length;
	int accepted, client = tcp_pair(&accepted, &peer, &peer_length);
	turn_stream_accept(&fx.context, accepted, (struct sockaddr *)&peer, (int)peer_length);
	return client;
}

static void run_briefly(void)
{
	struct timeval tick = { .tv_usec = 20000 };
	for (int i = 0; i < 10; i++) {
		event_base_loopexit(fx.base, &tick);
		event_base_dispatch(fx.base);
	}
}

/* Two requests, the first cut in two, the second in the same segment as
 * the first's end: both answered, in order, once each is whole. */
START_TEST(test_tcp_frames)
{
	uint8_t requests[40], answer[512];
	int client = tcp_client();
	ssize_t got = 0;

	ck_assert_uint_eq(fx.context.streams_open, 1);
	binding_request(requests, 1);
	binding_request(requests + 20, 2);
	ck_assert_int_eq(write(client, requests, 7), 7);
	run_briefly();
	ck_assert_int_eq(recv(client, answer, sizeof(answer), MSG_DONTWAIT), -1);
	ck_assert_int_eq(write(client, requests + 7, 33), 33);
	run_briefly();
	got = recv(client, answer, sizeof(answer), MSG_DONTWAIT);
	ck_assert_int_ge(got, 2 * 32);
	ck_assert_uint_eq(answer[8], 1);
	size_t first = 20 + ((size_t)answer[2] << 8 | answer[3]);
	ck_assert_uint_eq(answer[first + 8], 2);
	close(client);
	run_briefly();
	ck_assert_uint_eq(fx.context.streams_open, 0);
}
END_TEST

/* A frame that cannot be cut closes the connection, counted by reason;
 * a third connection from the same address is refused (cap of 2). */
START_TEST(test_tcp_malformed_and_cap)
{
	uint8_t junk[8] = { 0xc0, 0, 0, 0, 0, 0, 0, 0 }, answer[64];
	struct evbuffer *page = evbuffer_new();
	int client = tcp_client();

	ck_assert_int_eq(write(client, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	run_briefly();
	ck_assert_int_eq(recv(client, answer, sizeof(answer), 0), 0); /* closed */
	ck_assert_uint_eq(fx.context.streams_open, 0);
	int a = tcp_client(), b = tcp_client(), c = tcp_client();
	ck_assert_uint_eq(fx.context.streams_open, 2);
	ck_assert_int_eq(metrics_render(fx.metrics, page), 0);
	evbuffer_add(page, "", 1);
	const char *text = (const char *)evbuffer_pullup(page, -1);
	ck_assert_msg(strstr(text, "sxedge_turn_refusals_total{reason=\"malformed_") != NULL, "%s",
		      text);
	ck_assert_msg(strstr(text, "sxedge_connections_refused_total{protocol=\"turn\","
				   "role=\"turn_tcp\",reason=\"address_limit\"} 1") != NULL,
		      "%s", text);
	ck_assert_msg(strstr(text, "sxedge_connections_accepted_total{protocol=\"turn\","
				   "role=\"turn_tcp\"} 3") != NULL,
		      "%s", text);
	ck_assert_msg(strstr(text, "sxedge_connections_closed_total{protocol=\"turn\","
				   "role=\"turn_tcp\",reason=\"local\"} 1") != NULL,
		      "%s", text);
	evbuffer_free(page);
	close(a);
	close(b);
	close(c);
	close(client);
}
END_TEST

/* ---- a reload ---- */

#define SECRET_BEFORE "0123456789abcdef0123"
#define SECRET_AFTER  "a-new-secret-after-the-reload"

/* The worker's sockets of two turn listeners, A and B, and clients. */
static struct {
	int a, b;
	uint16_t a_port, b_port;
	struct stun_hmac hmac;
	uint32_t transaction;
	/* the usernames' expiry: a client refreshes with the username it
	 * allocated with */
	unsigned long long expiry;
} rx;

static uint16_t port_in(const struct sockaddr_storage *address)
{
	return ntohs(((const struct sockaddr_in *)address)->sin_port);
}

/* A configuration with listener A (and B when WITH_B), SECRET, and EXTRA
 * lines of [turn]. */
static const struct sxedge_config *turn_load(const char *secret, bool with_b, const char *extra)
{
	char text[2048], b[128] = "";

	if (with_b)
		snprintf(b, sizeof(b),
			 "[listener b]\nrole = turn\naddress = 127.0.0.1\nport = %u\n", rx.b_port);
	snprintf(text, sizeof(text),
		 MINIMAL "[listener a]\nrole = turn\naddress = 127.0.0.1\nport = %u\n%s"
			 "[turn]\nshared_secret = %s\nrelay_address = 127.0.0.1\n"
			 "relay_ports = 20000-20999\nallowed_peers = 127.0.0.1\n%s",
		 rx.a_port, b, secret, extra);
	const struct sxedge_config *config = load(text);
	ck_assert_ptr_nonnull(config);
	return config;
}

static const struct listener_config *listener_named(const struct sxedge_config *config,
						    const char *name)
{
	for (size_t i = 0; i < config->n_listeners; i++)
		if (strcmp(config->listeners[i].name, name) == 0)
			return &config->listeners[i];
	return NULL;
}

static void reload_setup(void)
{
	struct sockaddr_storage address;
	static const uint8_t nonce_secret[32] = { 2 };

	setup();
	fx.base = event_base_new();
	fx.metrics = metrics_new();
	rx.a = udp_socket(&address);
	rx.a_port = port_in(&address);
	rx.b = udp_socket(&address);
	rx.b_port = port_in(&address);
	fx.listener = -1;
	fx.client = udp_socket(&fx.client_address);
	ck_assert_int_eq(stun_hmac_init(&rx.hmac), 0);
	rx.expiry = (unsigned long long)turn_context_wall_s() + 3600;
	context_start(turn_load(SECRET_BEFORE, true, ""), nonce_secret);
}

static void reload_teardown(void)
{
	stun_hmac_clear(&rx.hmac);
	close(rx.a);
	close(rx.b);
	context_teardown();
}

/* What came back for a request. */
struct answer {
	int message_class;
	unsigned code;
	char nonce[TURN_NONCE_SIZE];
};

/* Sends REQUEST (SIZE bytes) from CLIENT on the turn listener named NAME
 * of CONFIG, as the worker would, and reads its answer. */
static struct answer exchange(const struct sxedge_config *config, const char *name, int client,
			      const struct sockaddr_storage *from, const uint8_t *request,
			      size_t size)
{
	int fd = strcmp(name, "a") == 0 ? rx.a : rx.b;
	uint8_t buf[1500];
	struct stun_message message;
	struct answer answer = { 0 };

	turn_context_datagram(&fx.context, listener_named(config, name), fd, request, size,
			      (const struct sockaddr *)from, sizeof(struct sockaddr_in));
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	wait_readable(client);
	ssize_t n = recv(client, buf, sizeof(buf), MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stun_message_parse(buf, (size_t)n, &message), STUN_PARSE_OK);
	answer.message_class = message.message_class;
	const struct stun_attribute *error = stun_message_find(&message, STUN_ATTRIBUTE_ERROR_CODE);
	const uint8_t *phrase;
	size_t phrase_length;
	if (error != NULL)
		ck_assert(stun_attribute_error_code(error, &answer.code, &phrase, &phrase_length));
	const struct stun_attribute *nonce = stun_message_find(&message, STUN_ATTRIBUTE_NONCE);
	if (nonce != NULL && nonce->length < sizeof(answer.nonce))
		memcpy(answer.nonce, nonce->value, nonce->length);
	return answer;
}

/* METHOD (Allocate: a UDP relay) from CLIENT on listener NAME, signed for
 * USER with a password of SECRET, after the 401 that gives the nonce:
 * what the signed one got. */
static struct answer turn_request(const struct sxedge_config *config, const char *name, int client,
				  const struct sockaddr_storage *from, uint16_t method,
				  const char *secret, const char *user)
{
	uint8_t buffer[512], id[STUN_TRANSACTION_ID_SIZE] = { 0 };
	struct stun_builder builder;
	char username[64], password[TURN_PASSWORD_SIZE];
	unsigned char key[TURN_KEY_MAX_SIZE];

	memcpy(id, &(uint32_t){ ++rx.transaction }, 4);
	stun_builder_start(&builder, buffer, sizeof(buffer), method, STUN_CLASS_REQUEST, id);
	/* big enough for the 401 to be within the amplification bound */
	stun_builder_add(&builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	struct answer challenge =
		exchange(config, name, client, from, buffer, stun_builder_finish(&builder));
	ck_assert_uint_eq(challenge.code, 401);
	snprintf(username, sizeof(username), "%llu:%s", rx.expiry, user);
	ck_assert(turn_password(secret, strlen(secret), username, strlen(username), password));
	size_t key_length =
		turn_long_term_key(TURN_PASSWORD_ALGORITHM_MD5, username, strlen(username),
				   "example.test", 12, password, strlen(password), key);
	memcpy(id, &(uint32_t){ ++rx.transaction }, 4);
	stun_builder_start(&builder, buffer, sizeof(buffer), method, STUN_CLASS_REQUEST, id);
	if (method == STUN_METHOD_ALLOCATE)
		stun_builder_add(&builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_USERNAME, username);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_REALM, "example.test");
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_NONCE, challenge.nonce);
	stun_builder_add_integrity(&builder, &rx.hmac, STUN_INTEGRITY_SHA1, key, key_length);
	return exchange(config, name, client, from, buffer, stun_builder_finish(&builder));
}

/* The metrics page holds LINE. */
static bool page_has(const char *line)
{
	struct evbuffer *page = evbuffer_new();
	ck_assert_int_eq(metrics_render(fx.metrics, page), 0);
	evbuffer_add(page, "", 1);
	bool found = strstr((const char *)evbuffer_pullup(page, -1), line) != NULL;
	evbuffer_free(page);
	return found;
}

/* The worker's step: prepare from CONFIG and commit, then give the old
 * snapshot back (nothing of TURN may point into it now). */
static void reload_to(const struct sxedge_config *config)
{
	struct turn_context_change *change = turn_context_prepare(&fx.context, config, stderr);
	ck_assert_ptr_nonnull(change);
	turn_context_commit(&fx.context, change);
	config_unref(fx.config);
	fx.config = config;
}

/* A new shared secret and quota, listener B removed: the allocation made
 * through A refreshes with the credentials it was made with, which make no
 * new allocation; the new secret does, under the new quota; listener A is
 * the same, with its socket, and the allocation made through B ended,
 * logged and counted with its reason. */
START_TEST(test_reload_changes_settings)
{
	struct sockaddr_storage other_address;
	int other = udp_socket(&other_address);

	ck_assert_int_eq(turn_request(fx.config, "a", fx.client, &fx.client_address,
				      STUN_METHOD_ALLOCATE, SECRET_BEFORE, "alice")
				 .message_class,
			 STUN_CLASS_SUCCESS);
	ck_assert_int_eq(turn_request(fx.config, "b", fx.client, &fx.client_address,
				      STUN_METHOD_ALLOCATE, SECRET_BEFORE, "alice")
				 .message_class,
			 STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(fx.context.udp_allocations, 2);
	ck_assert_uint_eq(fx.context.n_listeners, 2);
	struct turn_udp_listener *a = fx.context.listeners[0];
	ck_assert_int_eq(a->fd, rx.a);

	struct capture capture;
	log_set_level(LOG_LEVEL_INFO);
	capture_start(&capture);
	reload_to(turn_load(SECRET_AFTER, false, "max_allocations_per_user = 1\n"));
	char *log = capture_end(&capture);
	log_set_level(LOG_LEVEL_NOTICE);
	ck_assert_msg(strstr(log, "event=turn_allocation_end") != NULL &&
			      strstr(log, "reason=listener_removed") != NULL,
		      "%s", log);
	free(log);
	ck_assert_uint_eq(fx.context.udp_allocations, 1);
	ck_assert(page_has("sxedge_turn_allocations_ended_total{reason=\"listener_removed\"} 1"));
	ck_assert_uint_eq(fx.context.n_listeners, 1);
	ck_assert_ptr_eq(fx.context.listeners[0], a);
	ck_assert_int_eq(a->fd, rx.a);
	ck_assert_ptr_eq(a->config, listener_named(fx.config, "a"));
	ck_assert_ptr_eq(fx.context.turn, turn_config(fx.config));

	/* the allocation made before: its credentials */
	struct answer refresh = turn_request(fx.config, "a", fx.client, &fx.client_address,
					     STUN_METHOD_REFRESH, SECRET_BEFORE, "alice");
	ck_assert_int_eq(refresh.message_class, STUN_CLASS_SUCCESS);
	/* a new one: the new secret, the new quota */
	ck_assert_uint_eq(turn_request(fx.config, "a", other, &other_address, STUN_METHOD_ALLOCATE,
				       SECRET_BEFORE, "bob")
				  .code,
			  401);
	ck_assert_uint_eq(turn_request(fx.config, "a", other, &other_address, STUN_METHOD_ALLOCATE,
				       SECRET_AFTER, "alice")
				  .code,
			  486);
	ck_assert_int_eq(turn_request(fx.config, "a", other, &other_address, STUN_METHOD_ALLOCATE,
				      SECRET_AFTER, "bob")
				 .message_class,
			 STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(fx.context.udp_allocations, 2);
	close(other);
}
END_TEST

/* Prepared, then called off: nothing changed (the old secret still makes
 * allocations, listener B still serves). */
/* relay_address6 and external_address6 come and go with a reload: the
 * IPv6 relay binds there, the server offers the family and tells the
 * external address, and both are the edge's own for the peer policy. */
START_TEST(test_reload_relay_address6)
{
	ck_assert_uint_eq(fx.context.relay_ipv6.ss_family, 0);
	ck_assert(!fx.context.server->relaying.relay_ipv6);
	reload_to(turn_load(SECRET_BEFORE, true,
			    "relay_address6 = ::1\nexternal_address6 = 2001:db8::5\n"));
	ck_assert_uint_eq(fx.context.relay_ipv6.ss_family, AF_INET6);
	ck_assert(fx.context.server->relaying.relay_ipv4);
	ck_assert(fx.context.server->relaying.relay_ipv6);
	struct transport_address external = { .family = AF_INET6 };
	external.ip[0] = 0x20;
	external.ip[1] = 0x01;
	external.ip[2] = 0x0d;
	external.ip[3] = 0xb8;
	external.ip[15] = 5;
	ck_assert(
		transport_address_equal(&fx.context.server->relaying.external_address6, &external));
	struct sockaddr_storage own;
	transport_address_to_sockaddr(&external, &own);
	ck_assert_int_eq(peer_policy_check(&fx.context.policy, &own), PEER_REFUSED_EDGE);
	struct transport_address bound = { .family = AF_INET6 };
	struct turn_relay *relay = turn_relay_open(&fx.context, TURN_TRANSPORT_UDP, &bound);
	ck_assert_ptr_nonnull(relay);
	ck_assert_mem_eq(bound.ip, &in6addr_loopback, 16);
	turn_relay_close(relay);
	reload_to(turn_load(SECRET_BEFORE, true, ""));
	ck_assert_uint_eq(fx.context.relay_ipv6.ss_family, 0);
	ck_assert(!fx.context.server->relaying.relay_ipv6);
	ck_assert_uint_eq(fx.context.server->relaying.external_address6.family, 0);
}
END_TEST

START_TEST(test_reload_abort)
{
	const struct sxedge_config *next = turn_load(SECRET_AFTER, false, "");
	struct turn_context_change *change = turn_context_prepare(&fx.context, next, stderr);
	ck_assert_ptr_nonnull(change);
	turn_context_abort(change);
	config_unref(next);
	ck_assert_ptr_eq(fx.context.config, fx.config);
	ck_assert_uint_eq(fx.context.n_listeners, 2);
	ck_assert_int_eq(turn_request(fx.config, "b", fx.client, &fx.client_address,
				      STUN_METHOD_ALLOCATE, SECRET_BEFORE, "alice")
				 .message_class,
			 STUN_CLASS_SUCCESS);
}
END_TEST

/* Many reloads, some called off, with an allocation made before them all
 * (its limits kept through them): nothing is kept per reload, as ASan's
 * leak check and its use-after-free checks on the snapshots given back
 * see. */
START_TEST(test_reload_many)
{
	ck_assert_int_eq(turn_request(fx.config, "a", fx.client, &fx.client_address,
				      STUN_METHOD_ALLOCATE, SECRET_BEFORE, "alice")
				 .message_class,
			 STUN_CLASS_SUCCESS);
	for (int i = 0; i < 100; i++) {
		const struct sxedge_config *next = turn_load(i % 2 ? SECRET_BEFORE : SECRET_AFTER,
							     i % 3 != 0, "max_channels = 8\n");
		if (i % 5 == 4) {
			turn_context_abort(turn_context_prepare(&fx.context, next, stderr));
			config_unref(next);
			continue;
		}
		reload_to(next);
	}
	ck_assert_uint_eq(fx.context.udp_allocations, 1);
	struct answer refresh = turn_request(fx.config, "a", fx.client, &fx.client_address,
					     STUN_METHOD_REFRESH, SECRET_BEFORE, "alice");
	ck_assert_msg(refresh.message_class == STUN_CLASS_SUCCESS, "error %u", refresh.code);
}
END_TEST

static void count_emptied(void *arg)
{
	(*(unsigned *)arg)++;
}

/* Retired ([turn] removed): the UDP allocations end at once, the TCP client
 * is closed, and once it is gone the owner is told, from the loop, once. */
START_TEST(test_retire)
{
	unsigned emptied = 0;

	ck_assert_int_eq(turn_request(fx.config, "a", fx.client, &fx.client_address,
				      STUN_METHOD_ALLOCATE, SECRET_BEFORE, "alice")
				 .message_class,
			 STUN_CLASS_SUCCESS);
	int client = tcp_client();
	turn_context_retire(&fx.context, count_emptied, &emptied);
	ck_assert_uint_eq(fx.context.udp_allocations, 0);
	ck_assert_uint_eq(fx.context.n_listeners, 0);
	ck_assert(page_has("sxedge_turn_allocations_ended_total{reason=\"listener_removed\"} 1"));
	ck_assert_uint_eq(emptied, 0);
	run_briefly();
	uint8_t byte;
	ck_assert_int_eq(recv(client, &byte, 1, 0), 0); /* closed */
	ck_assert_uint_eq(fx.context.streams_open, 0);
	ck_assert_uint_eq(emptied, 1);
	close(client);
}
END_TEST

/* ---- [turn] added and removed, through the protocol entry ---- */

static struct answer binding_through(void *state, const struct sxedge_config *config)
{
	uint8_t request[20], buf[512];
	struct stun_message message;

	binding_request(request, 5);
	turn_protocol.datagram(state, listener_named(config, "a"), rx.a, request, sizeof(request),
			       (struct sockaddr *)&fx.client_address, sizeof(struct sockaddr_in));
	event_base_loop(fx.base, EVLOOP_NONBLOCK);
	wait_readable(fx.client);
	ssize_t n = recv(fx.client, buf, sizeof(buf), MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stun_message_parse(buf, (size_t)n, &message), STUN_PARSE_OK);
	return (struct answer){ .message_class = message.message_class };
}

static void protocol_reload(void *state, const struct sxedge_config **config,
			    const struct sxedge_config *next)
{
	void *pending = turn_protocol.reload_prepare(state, next, stderr);
	ck_assert_ptr_nonnull(pending);
	turn_protocol.reload_commit(state, pending);
	config_unref(*config);
	*config = next;
}

/* Without [turn], then with it (a listener added: it serves), then without
 * again: the TCP client is closed, and the retired context goes once it
 * has; many times over, and nothing is kept (ASan). */
START_TEST(test_reload_adds_and_removes_turn)
{
	const struct sxedge_config *config = load(MINIMAL);
	void *state = turn_protocol.worker_new(fx.base, config, fx.metrics, stderr);
	ck_assert_ptr_nonnull(state);

	for (int round = 0; round < 20; round++) {
		protocol_reload(state, &config, turn_load(SECRET_BEFORE, false, ""));
		ck_assert_int_eq(binding_through(state, config).message_class, STUN_CLASS_SUCCESS);
		struct sockaddr_storage peer;
		socklen_t peer_length;
		int accepted, client = tcp_pair(&accepted, &peer, &peer_length);
		turn_protocol.accept(state, listener_named(config, "a"), accepted,
				     (struct sockaddr *)&peer, (int)peer_length);
		ck_assert_uint_eq(turn_protocol.all_connections(state), 1);
		protocol_reload(state, &config, load(MINIMAL));
		ck_assert_uint_eq(turn_protocol.open_connections(state, ROLE_TURN_TCP), 0);
		run_briefly();
		uint8_t byte;
		ck_assert_int_eq(recv(client, &byte, 1, 0), 0); /* closed */
		ck_assert_uint_eq(turn_protocol.all_connections(state), 0);
		close(client);
	}
	turn_protocol.worker_free(state);
	config_unref(config);
}
END_TEST

/* ---- the bandwidth cap on RFC 6062 data connections ---- */

#define CAP	   50000 /* bytes a second, each direction */
#define STREAMED   100000 /* bytes sent each way */
#define TCP_SECRET "0123456789abcdef0123"

static void capped_setup(void)
{
	char text[2048];
	static const uint8_t nonce_secret[32] = { 3 };
	struct sockaddr_storage address;

	setup();
	fx.base = event_base_new();
	fx.metrics = metrics_new();
	fx.listener = udp_socket(&address);
	fx.client = -1;
	ck_assert_int_eq(stun_hmac_init(&rx.hmac), 0);
	rx.expiry = (unsigned long long)turn_context_wall_s() + 3600;
	snprintf(text, sizeof(text),
		 MINIMAL "[listener c]\nrole = turn_tcp\naddress = 127.0.0.1\nport = %u\n"
			 "[turn]\nshared_secret = " TCP_SECRET "\nrelay_address = 127.0.0.1\n"
			 "relay_ports = 20000-20999\nallowed_peers = 127.0.0.1\n"
			 "max_bandwidth = %u\n",
		 port_in(&address), CAP);
	context_start(load(text), nonce_secret);
}

static void capped_teardown(void)
{
	stun_hmac_clear(&rx.hmac);
	context_teardown();
}

/* One pass of the loop, its timers included. */
static void run_a_little(void)
{
	struct timeval tick = { .tv_usec = 5000 };
	event_base_loopexit(fx.base, &tick);
	event_base_dispatch(fx.base);
}

/* The next STUN message on the TCP socket FD, the loop running meanwhile. */
static struct stun_message read_message(int fd, uint8_t *buf, size_t size)
{
	size_t have = 0, need = 20;
	struct stun_message message;

	for (int i = 0; i < 400 && have < need; i++) {
		run_a_little();
		ssize_t n = recv(fd, buf + have, need - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		if (have >= 20)
			need = 20 + ((size_t)buf[2] << 8 | buf[3]);
		ck_assert_uint_le(need, size);
	}
	ck_assert_uint_eq(have, need);
	ck_assert_int_eq(stun_message_parse(buf, have, &message), STUN_PARSE_OK);
	return message;
}

/* METHOD over the TCP connection FD, after its 401, signed for alice; with
 * REQUESTED-TRANSPORT TCP for an Allocate, PEER's XOR-PEER-ADDRESS when
 * given, CONNECTION-ID when not 0.  The answer, parsed from BUF. */
static struct stun_message tcp_request(int fd, uint16_t method, const struct sockaddr_storage *peer,
				       uint32_t connection_id, uint8_t *buf, size_t size)
{
	uint8_t request[512], id[STUN_TRANSACTION_ID_SIZE] = { 0 };
	struct stun_builder builder;
	char username[64], password[TURN_PASSWORD_SIZE], nonce[TURN_NONCE_SIZE] = "";
	unsigned char key[TURN_KEY_MAX_SIZE];

	memcpy(id, &(uint32_t){ ++rx.transaction }, 4);
	stun_builder_start(&builder, request, sizeof(request), method, STUN_CLASS_REQUEST, id);
	size_t length = stun_builder_finish(&builder);
	ck_assert_int_eq(write(fd, request, length), (ssize_t)length);
	struct stun_message challenge = read_message(fd, buf, size);
	const struct stun_attribute *attribute =
		stun_message_find(&challenge, STUN_ATTRIBUTE_NONCE);
	ck_assert_ptr_nonnull(attribute);
	memcpy(nonce, attribute->value, attribute->length);
	snprintf(username, sizeof(username), "%llu:alice", rx.expiry);
	ck_assert(turn_password(TCP_SECRET, strlen(TCP_SECRET), username, strlen(username),
				password));
	size_t key_length =
		turn_long_term_key(TURN_PASSWORD_ALGORITHM_MD5, username, strlen(username),
				   "example.test", 12, password, strlen(password), key);
	memcpy(id, &(uint32_t){ ++rx.transaction }, 4);
	stun_builder_start(&builder, request, sizeof(request), method, STUN_CLASS_REQUEST, id);
	if (method == STUN_METHOD_ALLOCATE)
		stun_builder_add(&builder, STUN_ATTRIBUTE_REQUESTED_TRANSPORT, "\x06\0\0\0", 4);
	if (peer != NULL)
		stun_builder_add_address(&builder, STUN_ATTRIBUTE_XOR_PEER_ADDRESS, peer);
	if (connection_id != 0)
		stun_builder_add_u32(&builder, STUN_ATTRIBUTE_CONNECTION_ID, connection_id);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_USERNAME, username);
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_REALM, "example.test");
	stun_builder_add_text(&builder, STUN_ATTRIBUTE_NONCE, nonce);
	stun_builder_add_integrity(&builder, &rx.hmac, STUN_INTEGRITY_SHA1, key, key_length);
	length = stun_builder_finish(&builder);
	ck_assert_int_eq(write(fd, request, length), (ssize_t)length);
	return read_message(fd, buf, size);
}

/* Sends STREAMED bytes of a pattern from FROM while the loop runs, reading
 * them at TO: after a fifth of a second TO has at most the burst and what
 * a fifth of a second earns (and some slack), not all; in the end all of
 * them, in order. */
static void stream_capped(int from, int to)
{
	static uint8_t out[STREAMED], in[STREAMED];
	size_t sent = 0, got = 0;

	for (size_t i = 0; i < STREAMED; i++)
		out[i] = (uint8_t)(i * 7 + i / 251);
	evutil_make_socket_nonblocking(from);
	uint64_t start = turn_context_now_ms();
	while (turn_context_now_ms() - start < 200) {
		ssize_t n = send(from, out + sent, STREAMED - sent, MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		run_a_little();
		n = recv(to, in + got, STREAMED - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	ck_assert_msg(got <= CAP + CAP / 5 + 16384,
		      "%zu bytes passed in 200 ms under a cap of %u/s", got, CAP);
	for (int i = 0; i < 1000 && got < STREAMED; i++) {
		ssize_t n = send(from, out + sent, STREAMED - sent, MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		run_a_little();
		n = recv(to, in + got, STREAMED - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	ck_assert_uint_eq(got, STREAMED);
	ck_assert_int_eq(memcmp(in, out, STREAMED), 0);
	ck_assert_msg(turn_context_now_ms() - start >= 1000 * (STREAMED - CAP) / CAP - 100,
		      "all of it in %llu ms", (unsigned long long)(turn_context_now_ms() - start));
}

/* A TCP allocation's data connection, joined with a peer it connected to,
 * moves bytes both ways no faster than max_bandwidth, and loses none. */
START_TEST(test_rfc6062_bandwidth_cap)
{
	uint8_t buf[1024];
	struct sockaddr_storage peer_address;
	socklen_t peer_length = sizeof(peer_address);
	int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ck_assert_int_gt(address_parse("127.0.0.1", 0, &peer_address), 0);
	ck_assert_int_eq(
		bind(listen_fd, (struct sockaddr *)&peer_address, sizeof(struct sockaddr_in)), 0);
	ck_assert_int_eq(listen(listen_fd, 4), 0);
	ck_assert_int_eq(getsockname(listen_fd, (struct sockaddr *)&peer_address, &peer_length), 0);
	int control = tcp_client();
	struct stun_message answer =
		tcp_request(control, STUN_METHOD_ALLOCATE, NULL, 0, buf, sizeof(buf));
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	answer = tcp_request(control, STUN_METHOD_CONNECT, &peer_address, 0, buf, sizeof(buf));
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);
	uint32_t id = 0;
	ck_assert(
		stun_attribute_u32(stun_message_find(&answer, STUN_ATTRIBUTE_CONNECTION_ID), &id));
	int peer = accept(listen_fd, NULL, NULL);
	ck_assert_int_ge(peer, 0);
	int data = tcp_client();
	answer = tcp_request(data, STUN_METHOD_CONNECTION_BIND, NULL, id, buf, sizeof(buf));
	ck_assert_int_eq(answer.message_class, STUN_CLASS_SUCCESS);

	stream_capped(peer, data);
	stream_capped(data, peer);
	close(peer);
	close(data);
	close(control);
	close(listen_fd);
}
END_TEST

static Suite *turn_context_suite(void)
{
	Suite *suite = suite_create("turn_context");
	TCase *checks = tcase_create("check");
	tcase_add_checked_fixture(checks, setup, teardown);
	tcase_add_test(checks, test_check_listener_needs_turn);
	tcase_add_test(checks, test_check_turn_needs_listener);
	tcase_add_test(checks, test_check_relay_ports);
	suite_add_tcase(suite, checks);
	TCase *io = tcase_create("io");
	tcase_add_checked_fixture(io, context_setup, context_teardown);
	tcase_add_test(io, test_binding_batched);
	tcase_add_test(io, test_malformed_counted);
	tcase_add_test(io, test_refusal_log_limited);
	tcase_add_test(io, test_udp_relay);
	tcase_add_test(io, test_udp_relay_ipv6);
	tcase_add_test(io, test_tcp_relay_port_shared);
	tcase_add_test(io, test_tcp_frames);
	tcase_add_test(io, test_tcp_malformed_and_cap);
	suite_add_tcase(suite, io);
	TCase *reload = tcase_create("reload");
	tcase_add_checked_fixture(reload, reload_setup, reload_teardown);
	tcase_set_timeout(reload, 60);
	tcase_add_test(reload, test_reload_changes_settings);
	tcase_add_test(reload, test_reload_relay_address6);
	tcase_add_test(reload, test_reload_abort);
	tcase_add_test(reload, test_reload_many);
	tcase_add_test(reload, test_retire);
	tcase_add_test(reload, test_reload_adds_and_removes_turn);
	suite_add_tcase(suite, reload);
	TCase *capped = tcase_create("bandwidth");
	tcase_add_checked_fixture(capped, capped_setup, capped_teardown);
	tcase_set_timeout(capped, 30);
	tcase_add_test(capped, test_rfc6062_bandwidth_cap);
	suite_add_tcase(suite, capped);
	return suite;
}

int main(void)
{
	return test_suite_run(turn_context_suite());
}
