/* SPDX-License-Identifier: ISC */
/* test_context: a worker's SIP context for the suites that run SIP modules
 * over fake connections (fake_conn.h): the configuration of a small edge
 * (access 127.0.0.1:443, internal 127.0.0.2:5061, the pool at
 * 127.0.0.10:5061 with reconnect_min 1 and reconnect_max 4, the test PKI's
 * certificates), read from a file as the daemon reads it, counting into a
 * metrics registry of its own. */
#ifndef SXEDGE_TESTS_TEST_CONTEXT_H
#define SXEDGE_TESTS_TEST_CONTEXT_H

#include <event2/event.h>

#include "context.h"

struct test_context {
	struct event_base *base;
	const struct sxedge_config *config;
	struct sip_context sip;
	struct tls_client *client; /* what the pool links present */
	struct metrics *metrics; /* what the SIP module counts into */
};

/* Builds it; with START, the pool links too (their conns are fakes). */
void test_context_init(struct test_context *test, bool start);
void test_context_free(struct test_context *test);

/* A user connected to the access listener from PEER_ADDRESS:PORT, its
 * handshake done: the session's conn. */
struct conn *test_context_user(struct test_context *test, const char *peer_address, uint16_t port);

/* The value of SERIES ("name{labels}", as the page writes it) on the
 * metrics page now; -1 when the page has no such line. */
long long test_context_metric(const struct test_context *test, const char *series);

#endif
