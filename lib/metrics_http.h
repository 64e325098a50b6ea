/* SPDX-License-Identifier: ISC */
/* metrics_http: the Prometheus scrape endpoint, a small evhttp server on a
 * worker's event loop that answers `GET /metrics` with a registry's page.
 *
 * The edge faces the internet, and its page tells who it serves, how busy it
 * is and where it refuses, so by default the endpoint listens on a loopback
 * address only.  An operator whose Prometheus scrapes over a management
 * network names that network's address and allows it explicitly
 * (ALLOW_REMOTE); a wildcard address (0.0.0.0, ::) is never accepted, since
 * it would also listen on the internet side.
 *
 * Requests are bounded (header size, no body, a timeout); only GET and HEAD
 * of /metrics are served, any other path gets 404 and any other method on it
 * 405. */
#ifndef SXEDGE_METRICS_HTTP_H
#define SXEDGE_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "metrics.h"

/* What a scrape may send, and how long it may take. */
#define METRICS_HTTP_HEADERS_MAX 8192 /* bytes of request line and headers */
#define METRICS_HTTP_TIMEOUT_S	 10

struct metrics_http;

/* Listens on HOST (an IP literal) and PORT (0: one the kernel picks, see
 * metrics_http_port) and serves REGISTRY's page from BASE.  Returns NULL with
 * the reason in ERROR when HOST is not a literal, is not loopback (unless
 * ALLOW_REMOTE), is a wildcard, or the port cannot be bound. */
struct metrics_http *metrics_http_new(struct event_base *base, const struct metrics *registry,
				      const char *host, uint16_t port, bool allow_remote,
				      char *error, size_t error_size);

/* The port the endpoint listens on. */
uint16_t metrics_http_port(const struct metrics_http *server);

/* Closes the listener and any scrape in progress. */
void metrics_http_free(struct metrics_http *server);

#endif
