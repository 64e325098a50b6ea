/* SPDX-License-Identifier: ISC */
/* dns: asynchronous SRV and address look-ups with c-ares on a worker's
 * libevent loop, cached for their TTL.
 *
 * Every answer, cached or not, is delivered from the event loop, never from
 * inside the call that asked, so a caller can rely on its state being as it
 * left it.  A requester that goes away cancels its query; a cancelled query
 * never calls back. */
#ifndef SXEDGE_DNS_H
#define SXEDGE_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

struct dns;
struct dns_query;

enum dns_status {
	DNS_OK,
	DNS_NOT_FOUND, /* NXDOMAIN, no records of the type, or the SRV "." target */
	DNS_FAILED, /* timeout, server failure, refused, malformed answer */
};

struct dns_target {
	char *host; /* lower case, no trailing dot */
	uint16_t port;
	uint16_t priority;
	uint16_t weight;
};

/* TARGETS in the order to try them (RFC 2782); valid during the call only. */
typedef void dns_srv_callback(void *arg, enum dns_status status, const struct dns_target *targets,
			      size_t n);
/* ADDRESSES (port set) in the order to try them; valid during the call only. */
typedef void dns_address_callback(void *arg, enum dns_status status,
				  const struct sockaddr_storage *addresses, size_t n);

/* A resolver on BASE.  SERVER_HOST (an IP literal) and SERVER_PORT name the
 * DNS server to ask; NULL asks those of /etc/resolv.conf.  On failure
 * returns NULL with a message in ERR. */
struct dns *dns_new(struct event_base *base, const char *server_host, uint16_t server_port,
		    char *err, size_t err_size);
/* The resolver starts with the daemon's timeouts: 2000 ms for the first
 * try of a query, twice as long for each try after, 2 tries (a silent
 * server fails a look-up after 6 s).  This sets TIMEOUT_MS for the first
 * try (1 to DNS_TIMEOUT_MAX_MS; each further try waits twice as long as
 * the one before) and TRIES (1 to DNS_TRIES_MAX), e.g. for tests that
 * must not wait seconds for a silent server.  Only before the first
 * look-up; otherwise, or out of range, returns -1 with a message in ERR
 * and keeps the timeouts it had. */
#define DNS_TIMEOUT_MAX_MS 60000
#define DNS_TRIES_MAX	   10
int dns_set_timeout(struct dns *dns, unsigned timeout_ms, unsigned tries, char *err,
		    size_t err_size);
/* Makes CLOCK_MS(ARG) the clock, in milliseconds, by which cached answers
 * expire (by default CLOCK_MONOTONIC), so that a test can let a TTL run
 * out without waiting for it; NULL gives back the default.  c-ares' own
 * timeouts keep the real clock. */
void dns_set_clock(struct dns *dns, int64_t (*clock_ms)(void *arg), void *arg);
/* Cancels every query in flight (without calling back) and frees. */
void dns_free(struct dns *dns);

/* Both look-ups return NULL only when memory runs out, and then never call
 * back. */

/* Looks up the SRV records of NAME (e.g. "_sipfederationtls._tcp.partner.test"). */
struct dns_query *dns_resolve_srv(struct dns *dns, const char *name, dns_srv_callback *callback,
				  void *arg);

/* Looks up HOST's AAAA and A records (an IP literal is answered without
 * asking) and gives them with PORT set. */
struct dns_query *dns_resolve_addresses(struct dns *dns, const char *host, uint16_t port,
					dns_address_callback *callback, void *arg);

/* Forgets QUERY: its callback will not be called.  NULL is fine. */
void dns_cancel(struct dns_query *query);

/* RFC 2782 order, in place: ascending priority; within one priority,
 * repeatedly picks by weight, RANDOM(ARG, MAX) giving a number in [0, MAX]
 * (weight-0 targets first among equals, as the RFC says). */
void dns_srv_order(struct dns_target *targets, size_t n,
		   uint32_t (*random)(void *arg, uint32_t max), void *arg);

#endif
