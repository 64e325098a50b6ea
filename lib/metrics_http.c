/* SPDX-License-Identifier: ISC */
/* metrics_http: binds the scrape endpoint's socket itself (to report why a
 * bind fails and to learn the port picked for port 0), hands it to evhttp,
 * and answers each request from the registry. */
#include "metrics_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "address.h"

#define METRICS_HTTP_PATH	  "/metrics"
#define METRICS_HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Every method libevent parses, so that each one reaches the callback and
 * gets 405 there rather than libevent's 501. */
#define METRICS_HTTP_METHODS                                                                       \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

struct metrics_http {
	struct evhttp *http;
	const struct metrics *registry;
	uint16_t port;
};

/* Answers CODE REASON with the reason as a plain-text body (evhttp_send_error
 * would drop the headers set on the request, such as 405's Allow). */
static void metrics_http_refuse(struct evhttp_request *request, int code, const char *reason)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL || evbuffer_add_printf(body, "%d %s\n", code, reason) < 0) {
		if (body != NULL)
			evbuffer_free(body);
		evhttp_send_error(request, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type",
			  "text/plain; charset=utf-8");
	evhttp_send_reply(request, code, reason, body);
	evbuffer_free(body);
}

static void metrics_http_on_request(struct evhttp_request *request, void *arg)
{
	struct metrics_http *server = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(request);
	const char *path = uri == NULL ? NULL : evhttp_uri_get_path(uri);
	enum evhttp_cmd_type method = evhttp_request_get_command(request);
	struct evkeyvalq *headers = evhttp_request_get_output_headers(request);

	if (path == NULL || strcmp(path, METRICS_HTTP_PATH) != 0) {
		metrics_http_refuse(request, HTTP_NOTFOUND, "Not Found");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		evhttp_add_header(headers, "Allow", "GET, HEAD");
		metrics_http_refuse(request, HTTP_BADMETHOD, "Method Not Allowed");
		return;
	}
	struct evbuffer *page = evbuffer_new();
	if (page == NULL || metrics_render(server->registry, page) < 0) {
		evhttp_send_error(request, HTTP_INTERNAL, NULL);
		if (page != NULL)
			evbuffer_free(page);
		return;
	}
	/* Each scrape sees the counts of its moment. */
	evhttp_add_header(headers, "Content-Type", METRICS_HTTP_CONTENT_TYPE);
	evhttp_add_header(headers, "Cache-Control", "no-store");
	if (method == EVHTTP_REQ_HEAD) {
		/* libevent would send a body even to HEAD: give its length only. */
		char length[24];
		snprintf(length, sizeof(length), "%zu", evbuffer_get_length(page));
		evhttp_add_header(headers, "Content-Length", length);
		evhttp_send_reply(request, HTTP_OK, "OK", NULL);
	} else {
		evhttp_send_reply(request, HTTP_OK, "OK", page);
	}
	evbuffer_free(page);
}

/* A listening, non-blocking socket on ADDRESS, or -1 with the reason in ERROR. */
static evutil_socket_t metrics_http_listen(const struct sockaddr_storage *address, const char *host,
					   uint16_t port, char *error, size_t error_size)
{
	int one = 1;
	evutil_socket_t fd = socket(address->ss_family, SOCK_STREAM, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)address, (socklen_t)address_length(address)) < 0 ||
	    listen(fd, 16) < 0 || evutil_make_socket_nonblocking(fd) < 0 ||
	    evutil_make_socket_closeonexec(fd) < 0) {
		snprintf(error, error_size, "cannot listen on %s port %u: %s", host, port,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The port FD is bound to, or 0. */
static uint16_t metrics_http_bound_port(evutil_socket_t fd)
{
	struct sockaddr_storage bound;
	socklen_t length = sizeof(bound);

	if (getsockname(fd, (struct sockaddr *)&bound, &length) < 0)
		return 0;
	if (bound.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&bound)->sin_port);
	if (bound.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&bound)->sin6_port);
	return 0;
}

struct metrics_http *metrics_http_new(struct event_base *base, const struct metrics *registry,
				      const char *host, uint16_t port, bool allow_remote,
				      char *error, size_t error_size)
{
	struct sockaddr_storage address;

	if (address_parse(host, port, &address) == 0) {
		snprintf(error, error_size, "%s is not an IP address", host);
		return NULL;
	}
	if (address_is_unspecified(&address)) {
		snprintf(error, error_size,
			 "%s listens on every address, the internet side too: name one", host);
		return NULL;
	}
	if (!allow_remote && !address_is_loopback(&address)) {
		snprintf(error, error_size, "%s is not a loopback address (allow_remote is off)",
			 host);
		return NULL;
	}

	struct metrics_http *server = calloc(1, sizeof(*server));
	if (server == NULL) {
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	server->registry = registry;
	server->http = evhttp_new(base);
	if (server->http == NULL) {
		snprintf(error, error_size, "out of memory");
		free(server);
		return NULL;
	}
	evhttp_set_max_headers_size(server->http, METRICS_HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(server->http, 0);
	evhttp_set_timeout(server->http, METRICS_HTTP_TIMEOUT_S);
	evhttp_set_allowed_methods(server->http, METRICS_HTTP_METHODS);
	evhttp_set_gencb(server->http, metrics_http_on_request, server);

	evutil_socket_t fd = metrics_http_listen(&address, host, port, error, error_size);
	if (fd < 0) {
		metrics_http_free(server);
		return NULL;
	}
	server->port = metrics_http_bound_port(fd);
	if (evhttp_accept_socket_with_handle(server->http, fd) == NULL) {
		snprintf(error, error_size, "cannot serve on %s port %u", host, port);
		close(fd);
		metrics_http_free(server);
		return NULL;
	}
	return server;
}

uint16_t metrics_http_port(const struct metrics_http *server)
{
	return server->port;
}

void metrics_http_free(struct metrics_http *server)
{
	if (server == NULL)
		return;
	evhttp_free(server->http);
	free(server);
}
