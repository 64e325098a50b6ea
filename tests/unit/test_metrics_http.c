/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/metrics_http: a server on 127.0.0.1 with a port the
 * kernel picks, asked by a raw socket on the same event loop: the page and
 * its headers, counts that move between scrapes, HEAD, 404, 405, oversized
 * requests, and the addresses it refuses to listen on. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "metrics_http.h"
#include "test_suite.h"

/* A test gives up on a response after this long. */
#define FETCH_TIMEOUT_S 5

struct fixture {
	struct event_base *base;
	struct metrics *registry;
	struct metric_counter *relayed;
	struct metrics_http *server;
};

struct fetch {
	struct event_base *base;
	struct evbuffer *response;
	bool closed;
};

static void fixture_start(struct fixture *fixture)
{
	char error[200] = "";

	fixture->base = event_base_new();
	fixture->registry = metrics_new();
	ck_assert_ptr_nonnull(fixture->base);
	ck_assert_ptr_nonnull(fixture->registry);
	struct metric_family *family = metrics_register(
		fixture->registry, METRIC_COUNTER, "sxedge_sip_requests_relayed_total",
		"SIP requests relayed.", (const char *const[]){ "role", "method", NULL });
	fixture->relayed =
		metric_counter(family, (const char *const[]){ "access", "INVITE", NULL });
	ck_assert_ptr_nonnull(fixture->relayed);
	fixture->server = metrics_http_new(fixture->base, fixture->registry, "127.0.0.1", 0, false,
					   error, sizeof(error));
	ck_assert_msg(fixture->server != NULL, "%s", error);
	ck_assert_uint_ne(metrics_http_port(fixture->server), 0);
}

static void fixture_stop(struct fixture *fixture)
{
	metrics_http_free(fixture->server);
	metrics_free(fixture->registry);
	event_base_free(fixture->base);
}

static void fetch_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *fetch = arg;
	char chunk[4096];

	if (what & EV_TIMEOUT) {
		event_base_loopbreak(fetch->base);
		return;
	}
	ssize_t got = read(fd, chunk, sizeof(chunk));
	if (got > 0) {
		evbuffer_add(fetch->response, chunk, (size_t)got);
		return;
	}
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	fetch->closed = true;
	event_base_loopbreak(fetch->base);
}

/* Sends REQUEST (LENGTH bytes) to the server, runs the loop until the server
 * closes the connection, and returns all it answered (the caller frees). */
static char *fetch_raw(struct fixture *fixture, const char *request, size_t length)
{
	struct sockaddr_in address = { .sin_family = AF_INET,
				       .sin_port = htons(metrics_http_port(fixture->server)) };
	struct fetch fetch = { .base = fixture->base, .response = evbuffer_new() };
	struct timeval timeout = { .tv_sec = FETCH_TIMEOUT_S };

	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&address, sizeof(address)), 0);
	/* A loopback socket takes a small request whole before anyone reads. */
	ck_assert_int_eq(write(fd, request, length), (ssize_t)length);
	ck_assert_int_eq(evutil_make_socket_nonblocking(fd), 0);
	struct event *reading =
		event_new(fixture->base, fd, EV_READ | EV_PERSIST, fetch_on_read, &fetch);
	ck_assert_ptr_nonnull(reading);
	event_add(reading, &timeout);
	event_base_dispatch(fixture->base);
	ck_assert_msg(fetch.closed, "no end of response within %d s", FETCH_TIMEOUT_S);
	event_free(reading);
	close(fd);

	size_t size = evbuffer_get_length(fetch.response);
	char *text = malloc(size + 1);
	ck_assert_ptr_nonnull(text);
	evbuffer_remove(fetch.response, text, size);
	text[size] = '\0';
	evbuffer_free(fetch.response);
	return text;
}

static char *fetch_text(struct fixture *fixture, const char *request)
{
	return fetch_raw(fixture, request, strlen(request));
}

/* The body of RESPONSE (after its header block), asserting there is one. */
static const char *response_body(const char *response)
{
	const char *end = strstr(response, "\r\n\r\n");

	ck_assert_ptr_nonnull(end);
	return end + 4;
}

/* Asserts RESPONSE's status code and phrase (libevent answers errors as
 * HTTP/1.1 whatever the request's version). */
static void assert_status(const char *response, const char *status)
{
	size_t length = strlen(status);

	ck_assert_msg((strncmp(response, "HTTP/1.0 ", 9) == 0 ||
		       strncmp(response, "HTTP/1.1 ", 9) == 0) &&
			      strncmp(response + 9, status, length) == 0 &&
			      response[9 + length] == '\r',
		      "expected %s, got: %.60s", status, response);
}

START_TEST(test_page)
{
	struct fixture fixture;

	fixture_start(&fixture);
	metric_counter_add(fixture.relayed, 3);
	char *response = fetch_text(&fixture, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
					      "Connection: close\r\n\r\n");
	assert_status(response, "200 OK");
	ck_assert_ptr_nonnull(
		strstr(response, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	ck_assert_str_eq(
		response_body(response),
		"# HELP sxedge_sip_requests_relayed_total SIP requests relayed.\n"
		"# TYPE sxedge_sip_requests_relayed_total counter\n"
		"sxedge_sip_requests_relayed_total{role=\"access\",method=\"INVITE\"} 3\n");
	free(response);

	/* the next scrape sees the counts of its own moment */
	metric_counter_add(fixture.relayed, 4);
	response = fetch_text(&fixture, "GET /metrics?ignored=1 HTTP/1.0\r\n\r\n");
	assert_status(response, "200 OK");
	ck_assert_ptr_nonnull(
		strstr(response_body(response), "{role=\"access\",method=\"INVITE\"} 7\n"));
	free(response);
	fixture_stop(&fixture);
}
END_TEST

START_TEST(test_keep_alive)
{
	struct fixture fixture;

	fixture_start(&fixture);
	/* a scraper keeps its connection: two requests on it, two pages */
	char *response = fetch_text(&fixture, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"
					      "GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
					      "Connection: close\r\n\r\n");
	const char *second = strstr(response_body(response), "HTTP/1.1 200 OK\r\n");
	assert_status(response, "200 OK");
	ck_assert_ptr_nonnull(second);
	assert_status(second, "200 OK");
	ck_assert_ptr_nonnull(strstr(response_body(second), "method=\"INVITE\"} 0\n"));
	free(response);
	fixture_stop(&fixture);
}
END_TEST

START_TEST(test_head)
{
	struct fixture fixture;

	fixture_start(&fixture);
	char *page = fetch_text(&fixture, "GET /metrics HTTP/1.0\r\n\r\n");
	char *response = fetch_text(&fixture, "HEAD /metrics HTTP/1.0\r\n\r\n");
	char length[64];

	/* the headers of the page, its length included, and no body */
	assert_status(response, "200 OK");
	ck_assert_str_eq(response_body(response), "");
	snprintf(length, sizeof(length), "\r\nContent-Length: %zu\r\n",
		 strlen(response_body(page)));
	ck_assert_ptr_nonnull(strstr(response, length));
	ck_assert_ptr_nonnull(
		strstr(response, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	free(response);
	free(page);
	fixture_stop(&fixture);
}
END_TEST

START_TEST(test_other_paths)
{
	static const char *const requests[] = {
		"GET / HTTP/1.0\r\n\r\n",
		"GET /metrics/ HTTP/1.0\r\n\r\n",
		"GET /metricsx HTTP/1.0\r\n\r\n",
		"POST /other HTTP/1.0\r\n\r\n",
	};
	struct fixture fixture;

	fixture_start(&fixture);
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		char *response = fetch_text(&fixture, requests[i]);
		assert_status(response, "404 Not Found");
		ck_assert_ptr_null(strstr(response, "sxedge_"));
		free(response);
	}
	fixture_stop(&fixture);
}
END_TEST

START_TEST(test_other_methods)
{
	static const char *const methods[] = {
		"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"
	};
	struct fixture fixture;
	char request[100];

	fixture_start(&fixture);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(request, sizeof(request), "%s /metrics HTTP/1.0\r\n\r\n", methods[i]);
		char *response = fetch_text(&fixture, request);
		assert_status(response, "405 Method Not Allowed");
		ck_assert_ptr_nonnull(strstr(response, "\r\nAllow: GET, HEAD\r\n"));
		ck_assert_ptr_null(strstr(response, "sxedge_"));
		free(response);
	}
	fixture_stop(&fixture);
}
END_TEST

START_TEST(test_bounded_requests)
{
	struct fixture fixture;
	size_t filler = METRICS_HTTP_HEADERS_MAX + 100;
	char *request = malloc(filler + 100);

	fixture_start(&fixture);
	ck_assert_ptr_nonnull(request);
	/* a header block past the limit: refused, no page */
	int length = sprintf(request, "GET /metrics HTTP/1.0\r\nX-Filler: ");
	memset(request + length, 'a', filler);
	length += (int)filler;
	length += sprintf(request + length, "\r\n\r\n");
	char *response = fetch_raw(&fixture, request, (size_t)length);
	assert_status(response, "400 Bad Request");
	ck_assert_ptr_null(strstr(response, "sxedge_"));
	free(response);

	/* so is a request line past it (the path itself is /metrics) */
	length = sprintf(request, "GET /metrics?");
	memset(request + length, 'a', filler);
	length += (int)filler;
	length += sprintf(request + length, " HTTP/1.0\r\n\r\n");
	response = fetch_raw(&fixture, request, (size_t)length);
	assert_status(response, "400 Bad Request");
	ck_assert_ptr_null(strstr(response, "sxedge_"));
	free(response);

	/* a body: refused, no page */
	response = fetch_text(&fixture, "GET /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
	assert_status(response, "413 Request Entity Too Large");
	ck_assert_ptr_null(strstr(response, "sxedge_"));
	free(response);
	free(request);
	fixture_stop(&fixture);
}
END_TEST

/* Asserts that the endpoint refuses HOST, with an error containing REASON. */
static void assert_refused(struct event_base *base, const char *host, uint16_t port,
			   bool allow_remote, const char *reason)
{
	char error[200] = "";
	struct metrics_http *server =
		metrics_http_new(base, NULL, host, port, allow_remote, error, sizeof(error));

	ck_assert_msg(server == NULL, "%s accepted", host);
	ck_assert_msg(strstr(error, reason) != NULL, "%s: %s", host, error);
}

START_TEST(test_refused_addresses)
{
	struct event_base *base = event_base_new();

	ck_assert_ptr_nonnull(base);
	assert_refused(base, "localhost", 0, false, "not an IP address");
	assert_refused(base, "0.0.0.0", 0, false, "every address");
	assert_refused(base, "0.0.0.0", 0, true, "every address");
	assert_refused(base, "::", 0, true, "every address");
	assert_refused(base, "192.0.2.1", 0, false, "not a loopback address");
	assert_refused(base, "2001:db8::1", 0, false, "not a loopback address");
	/* allowed, the check lets a remote address through to bind(), which
	 * fails here because this host has no such address */
	assert_refused(base, "192.0.2.1", 0, true, "cannot listen on 192.0.2.1 port 0");
	event_base_free(base);
}
END_TEST

START_TEST(test_port_taken)
{
	struct fixture fixture;
	char expected[64];

	fixture_start(&fixture);
	uint16_t port = metrics_http_port(fixture.server);
	snprintf(expected, sizeof(expected), "cannot listen on 127.0.0.1 port %u", port);
	assert_refused(fixture.base, "127.0.0.1", port, false, expected);
	fixture_stop(&fixture);
}
END_TEST

static Suite *metrics_http_suite(void)
{
	Suite *suite = suite_create("metrics_http");
	TCase *tcase = tcase_create("metrics_http");

	tcase_add_test(tcase, test_page);
	tcase_add_test(tcase, test_keep_alive);
	tcase_add_test(tcase, test_head);
	tcase_add_test(tcase, test_other_paths);
	tcase_add_test(tcase, test_other_methods);
	tcase_add_test(tcase, test_bounded_requests);
	tcase_add_test(tcase, test_refused_addresses);
	tcase_add_test(tcase, test_port_taken);
	tcase_set_timeout(tcase, 30);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(metrics_http_suite());
}
