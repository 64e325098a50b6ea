/* SPDX-License-Identifier: ISC */
/* Check suite for lib/dns: RFC 2782 ordering with a scripted random source,
 * and real look-ups through c-ares against a tiny DNS server that the test
 * runs on 127.0.0.1 (UDP, an ephemeral port) on the same event loop.  The
 * server answers from a table of records with hand-built messages (header,
 * the question copied, answers whose owner is a compression pointer), and
 * counts the queries it sees, so caching is checked from the wire. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns.h"
#include "test_suite.h"

/* ---- dns_srv_order with a scripted random source ---- */

struct script {
	const uint32_t *values;
	size_t n_values;
	size_t used;
	uint32_t maxes[8]; /* the MAX of each call */
};

static uint32_t scripted_random(void *arg, uint32_t max)
{
	struct script *script = arg;
	ck_assert_uint_lt(script->used, script->n_values);
	script->maxes[script->used] = max;
	return script->values[script->used++];
}

static struct dns_target target(const char *host, uint16_t priority, uint16_t weight)
{
	return (struct dns_target){
		.host = (char *)host, .port = 5061, .priority = priority, .weight = weight
	};
}

static void assert_order(const struct dns_target *targets, const char *const *expected, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(targets[i].host, expected[i]);
}

START_TEST(test_order_priorities)
{
	struct dns_target targets[] = { target("c", 30, 5), target("a", 10, 5),
					target("b", 20, 0) };
	struct script script = { 0 };
	dns_srv_order(targets, 3, scripted_random, &script);
	assert_order(targets, (const char *[]){ "a", "b", "c" }, 3);
	ck_assert_uint_eq(script.used, 0); /* one target per priority: nothing to draw */
}
END_TEST

START_TEST(test_order_weights)
{
	/* Priority 10: a (60) then c (40), running sums 60 and 100. */
	struct dns_target targets[] = { target("a", 10, 60), target("d", 20, 5),
					target("c", 10, 40) };
	struct script script = { (const uint32_t[]){ 61 }, 1, 0, { 0 } };
	dns_srv_order(targets, 3, scripted_random, &script);
	assert_order(targets, (const char *[]){ "c", "a", "d" }, 3);
	ck_assert_uint_eq(script.used, 1);
	ck_assert_uint_eq(script.maxes[0], 100);

	/* 60 is a's running sum exactly: a. */
	struct dns_target again[] = { target("a", 10, 60), target("d", 20, 5),
				      target("c", 10, 40) };
	struct script boundary = { (const uint32_t[]){ 60 }, 1, 0, { 0 } };
	dns_srv_order(again, 3, scripted_random, &boundary);
	assert_order(again, (const char *[]){ "a", "c", "d" }, 3);
	ck_assert_uint_eq(boundary.maxes[0], 100);
}
END_TEST

START_TEST(test_order_zero_weights)
{
	/* Arranged a(0) c(0) b(10) d(20): running sums 0 0 10 30. */
	struct dns_target targets[] = { target("b", 10, 10), target("a", 10, 0),
					target("d", 10, 20), target("c", 10, 0) };
	struct script script = { (const uint32_t[]){ 0, 11, 1 }, 3, 0, { 0 } };
	dns_srv_order(targets, 4, scripted_random, &script);
	/* 0 -> a; then c b d (0 10 30): 11 -> d; then c b (0 10): 1 -> b; c. */
	assert_order(targets, (const char *[]){ "a", "d", "b", "c" }, 4);
	ck_assert_uint_eq(script.used, 3);
	ck_assert_uint_eq(script.maxes[0], 30);
	ck_assert_uint_eq(script.maxes[1], 30);
	ck_assert_uint_eq(script.maxes[2], 10);

	/* All zero: every draw would take the first, so the order stands. */
	struct dns_target zeros[] = { target("x", 5, 0), target("y", 5, 0), target("z", 5, 0) };
	struct script none = { 0 };
	dns_srv_order(zeros, 3, scripted_random, &none);
	assert_order(zeros, (const char *[]){ "x", "y", "z" }, 3);
	ck_assert_uint_eq(none.used, 0);
}
END_TEST

START_TEST(test_order_single_target)
{
	struct dns_target targets[] = { target("only", 7, 3) };
	struct script script = { 0 };
	dns_srv_order(targets, 1, scripted_random, &script);
	ck_assert_str_eq(targets[0].host, "only");
	ck_assert_uint_eq(targets[0].priority, 7);
	ck_assert_uint_eq(targets[0].weight, 3);
	dns_srv_order(NULL, 0, scripted_random, &script);
	ck_assert_uint_eq(script.used, 0);
}
END_TEST

/* ---- the test DNS server ---- */

#define TYPE_A	       1
#define TYPE_AAAA      28
#define TYPE_SRV       33
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3

struct record {
	const char *name;
	uint16_t type;
	uint32_t ttl;
	const char *data; /* A, AAAA: the address; SRV: the target ("" is the root) */
	uint16_t priority, weight, port;
};

static const struct record records[] = {
	{ "_sipfederationtls._tcp.partner.test", TYPE_SRV, 300, "Edge1.Partner.Test", 10, 60,
	  5061 },
	{ "_sipfederationtls._tcp.partner.test", TYPE_SRV, 600, "edge2.partner.test", 10, 40,
	  5062 },
	{ "_sipfederationtls._tcp.partner.test", TYPE_SRV, 300, "backup.other.test", 20, 0, 5063 },
	/* The smallest TTL counts, wherever it is. */
	{ "_sipfederationtls._tcp.short.test", TYPE_SRV, 300, "edge.short.test", 10, 0, 5061 },
	{ "_sipfederationtls._tcp.short.test", TYPE_SRV, 1, "backup.short.test", 20, 0, 5061 },
	{ "_sipfederationtls._tcp.none.test", TYPE_SRV, 300, "", 0, 0, 0 },
	{ "_sipfederationtls._tcp.nodata.test", TYPE_A, 300, "192.0.2.99", 0, 0, 0 },
	{ "_sipfederationtls._tcp.short-rdata.test", TYPE_SRV, 300, "edge.short-rdata.test", 10, 0,
	  5061 },
	{ "edge1.partner.test", TYPE_A, 300, "192.0.2.1", 0, 0, 0 },
	{ "edge1.partner.test", TYPE_AAAA, 300, "2001:db8::1", 0, 0, 0 },
	{ "edge1.partner.test", TYPE_A, 300, "192.0.2.2", 0, 0, 0 },
	{ "v4only.test", TYPE_A, 300, "192.0.2.7", 0, 0, 0 },
	{ "short.test", TYPE_A, 1, "192.0.2.8", 0, 0, 0 },
	{ "short.test", TYPE_AAAA, 300, "2001:db8::8", 0, 0, 0 },
};

struct query_count {
	char name[256];
	uint16_t type;
	unsigned count;
};

struct server {
	int fd;
	struct event *event;
	uint16_t port;
	unsigned queries;
	struct query_count counts[32];
};

struct packet {
	unsigned char bytes[1024];
	size_t length;
};

static void put_8(struct packet *packet, unsigned value)
{
	ck_assert_uint_lt(packet->length, sizeof(packet->bytes));
	packet->bytes[packet->length++] = (unsigned char)value;
}

static void put_16(struct packet *packet, unsigned value)
{
	put_8(packet, value >> 8 & 0xFF);
	put_8(packet, value & 0xFF);
}

static void put_32(struct packet *packet, uint32_t value)
{
	put_16(packet, value >> 16);
	put_16(packet, value & 0xFFFF);
}

static void put_bytes(struct packet *packet, const void *bytes, size_t length)
{
	ck_assert_uint_le(packet->length + length, sizeof(packet->bytes));
	memcpy(packet->bytes + packet->length, bytes, length);
	packet->length += length;
}

/* Writes NAME as labels; a tail that is also a tail of the question name
 * QNAME becomes a compression pointer to it (the question starts at 12). */
static void put_name(struct packet *packet, const char *name, const char *qname)
{
	size_t qname_length = strlen(qname);
	const char *label = name;
	while (*label != '\0') {
		size_t tail = strlen(label);
		if (tail <= qname_length && strcasecmp(qname + qname_length - tail, label) == 0 &&
		    (tail == qname_length || qname[qname_length - tail - 1] == '.')) {
			put_16(packet, 0xC000 | (unsigned)(12 + qname_length - tail));
			return;
		}
		const char *dot = strchr(label, '.');
		size_t length = dot != NULL ? (size_t)(dot - label) : strlen(label);
		put_8(packet, (unsigned)length);
		put_bytes(packet, label, length);
		label += length + (dot != NULL);
	}
	put_8(packet, 0);
}

/* Answers one record; SHORT_RDATA declares the SRV data 6 bytes long, so
 * its target lies outside it (a malformed record c-ares itself accepts). */
static void put_record(struct packet *packet, const struct record *record, const char *qname,
		       bool short_rdata)
{
	put_16(packet, 0xC00C); /* the owner: the question's name */
	put_16(packet, record->type);
	put_16(packet, 1); /* IN */
	put_32(packet, record->ttl);
	size_t length_at = packet->length;
	put_16(packet, 0);
	if (record->type == TYPE_A) {
		struct in_addr address;
		ck_assert_int_eq(inet_pton(AF_INET, record->data, &address), 1);
		put_bytes(packet, &address, sizeof(address));
	} else if (record->type == TYPE_AAAA) {
		struct in6_addr address;
		ck_assert_int_eq(inet_pton(AF_INET6, record->data, &address), 1);
		put_bytes(packet, &address, sizeof(address));
	} else {
		put_16(packet, record->priority);
		put_16(packet, record->weight);
		put_16(packet, record->port);
		put_name(packet, record->data, qname);
	}
	size_t length = short_rdata ? 6 : packet->length - length_at - 2;
	packet->bytes[length_at] = (unsigned char)(length >> 8);
	packet->bytes[length_at + 1] = (unsigned char)(length & 0xFF);
}

/* Reads the question's name (lower case, dotted) and where the question ends. */
static bool read_question(const unsigned char *query, size_t length, char *name, uint16_t *type,
			  size_t *end)
{
	size_t offset = 12, used = 0;
	while (offset < length && query[offset] != 0) {
		size_t label = query[offset++];
		if (label > 63 || offset + label > length || used + label + 2 > 256)
			return false;
		if (used > 0)
			name[used++] = '.';
		for (size_t i = 0; i < label; i++) {
			char c = (char)query[offset + i];
			name[used++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		offset += label;
	}
	name[used] = '\0';
	if (offset + 5 > length)
		return false;
	*type = (uint16_t)(query[offset + 1] << 8 | query[offset + 2]);
	*end = offset + 5;
	return true;
}

static struct server server;

static void server_count(const char *name, uint16_t type)
{
	server.queries++;
	for (size_t i = 0; i < sizeof(server.counts) / sizeof(server.counts[0]); i++) {
		struct query_count *count = &server.counts[i];
		if (count->count == 0) {
			snprintf(count->name, sizeof(count->name), "%s", name);
			count->type = type;
		}
		if (count->type == type && strcmp(count->name, name) == 0) {
			count->count++;
			return;
		}
	}
	ck_abort_msg("too many different queries");
}

static unsigned queries_for(const char *name, uint16_t type)
{
	for (size_t i = 0; i < sizeof(server.counts) / sizeof(server.counts[0]); i++)
		if (server.counts[i].type == type && strcmp(server.counts[i].name, name) == 0)
			return server.counts[i].count;
	return 0;
}

static void server_answer(struct packet *response, const char *name, uint16_t type)
{
	size_t answers_at = 6, answers = 0;
	bool name_known = false;
	bool short_rdata = strstr(name, "short-rdata") != NULL;
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		if (strcmp(records[i].name, name) != 0)
			continue;
		name_known = true;
		if (records[i].type != type)
			continue;
		put_record(response, &records[i], name, short_rdata);
		answers++;
	}
	if (strstr(name, "malformed") != NULL) {
		put_record(response, &records[0], name, false);
		answers = 2; /* one more than there is */
	} else if (!name_known) {
		response->bytes[3] |= RCODE_NXDOMAIN;
	}
	response->bytes[answers_at] = (unsigned char)(answers >> 8);
	response->bytes[answers_at + 1] = (unsigned char)(answers & 0xFF);
}

static void server_read(evutil_socket_t fd, short what, void *arg)
{
	unsigned char query[512];
	struct sockaddr_storage from;
	socklen_t from_length = sizeof(from);
	char name[256];
	uint16_t type;
	size_t question_end;
	(void)what;
	(void)arg;

	ssize_t length =
		recvfrom(fd, query, sizeof(query), 0, (struct sockaddr *)&from, &from_length);
	if (length < 12 || !read_question(query, (size_t)length, name, &type, &question_end))
		return;
	server_count(name, type);
	if (strstr(name, "silent") != NULL)
		return;

	struct packet response = { .length = 0 };
	put_bytes(&response, query, 2); /* id */
	put_8(&response, 0x84 | (query[2] & 0x01)); /* response, authoritative, RD copied */
	put_8(&response, 0x80); /* recursion available, no error */
	put_16(&response, 1);
	put_16(&response, 0);
	put_16(&response, 0);
	put_16(&response, 0);
	put_bytes(&response, query + 12, question_end - 12);
	if (strstr(name, "broken") != NULL)
		response.bytes[3] |= RCODE_SERVFAIL;
	else
		server_answer(&response, name, type);
	sendto(fd, response.bytes, response.length, 0, (struct sockaddr *)&from, from_length);
}

static void server_start(struct event_base *base)
{
	struct sockaddr_in address = { .sin_family = AF_INET };
	socklen_t length = sizeof(address);
	memset(&server, 0, sizeof(server));
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server.fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(server.fd, 0);
	ck_assert_int_eq(bind(server.fd, (struct sockaddr *)&address, sizeof(address)), 0);
	ck_assert_int_eq(getsockname(server.fd, (struct sockaddr *)&address, &length), 0);
	server.port = ntohs(address.sin_port);
	server.event = event_new(base, server.fd, EV_READ | EV_PERSIST, server_read, NULL);
	ck_assert_ptr_nonnull(server.event);
	ck_assert_int_eq(event_add(server.event, NULL), 0);
}

static void server_stop(void)
{
	event_free(server.event);
	close(server.fd);
}

/* ---- the fixture ---- */

struct srv_result {
	unsigned calls;
	enum dns_status status;
	size_t n;
	struct dns_target targets[8];
	char hosts[8][64];
};

struct address_result {
	unsigned calls;
	enum dns_status status;
	size_t n;
	struct sockaddr_storage addresses[8];
	bool free_resolver; /* dns_free() from inside the callback */
};

/* The daemon's resolver waits 2 s, then 4 s, for a silent server; the
 * tests' waits 50 ms, then 100 ms, so that a time-out costs no seconds. */
#define TEST_TIMEOUT_MS 50
#define TEST_TRIES	2

static struct {
	struct event_base *base;
	struct event *deadline;
	struct dns *dns;
	int64_t clock_ahead_ms; /* how far the cache's clock is ahead of the real one */
} fx;

/* The cache's clock: the real one, moved on by ADVANCE_CLOCK, so that a
 * test sees a TTL run out without waiting for it. */
static int64_t test_clock_ms(void *arg)
{
	struct timespec now;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + fx.clock_ahead_ms;
}

#define ADVANCE_CLOCK(milliseconds) (fx.clock_ahead_ms += (milliseconds))

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void setup(void)
{
	char err[256] = "";
	memset(&fx, 0, sizeof(fx));
	fx.base = event_base_new();
	ck_assert_ptr_nonnull(fx.base);
	fx.deadline = evtimer_new(fx.base, on_deadline, NULL);
	server_start(fx.base);
	fx.dns = dns_new(fx.base, "127.0.0.1", server.port, err, sizeof(err));
	ck_assert_msg(fx.dns != NULL, "dns_new: %s", err);
	ck_assert_msg(dns_set_timeout(fx.dns, TEST_TIMEOUT_MS, TEST_TRIES, err, sizeof(err)) == 0,
		      "dns_set_timeout: %s", err);
	dns_set_clock(fx.dns, test_clock_ms, NULL);
}

static void teardown(void)
{
	dns_free(fx.dns);
	server_stop();
	event_free(fx.deadline);
	event_base_free(fx.base);
}

/* Runs the loop until CONDITION holds or MILLISECONDS pass. */
#define RUN_UNTIL(condition, milliseconds)                                          \
	do {                                                                        \
		struct timeval limit = { .tv_sec = (milliseconds) / 1000,           \
					 .tv_usec = (milliseconds) % 1000 * 1000 }; \
		evtimer_add(fx.deadline, &limit);                                   \
		while (!(condition) && evtimer_pending(fx.deadline, NULL))          \
			event_base_loop(fx.base, EVLOOP_ONCE);                      \
		evtimer_del(fx.deadline);                                           \
	} while (0)

#define RUN_FOR(milliseconds) RUN_UNTIL(false, milliseconds)

/* How long a test lets the loop run to show that nothing is called back.
 * A delivery is an event made active at once, and the test server answers
 * over loopback within a millisecond, so 20 ms are many turns of the loop;
 * an answer that is waited for as such gets RUN_UNTIL's longer limits. */
#define QUIET_MS 20

static void on_srv(void *arg, enum dns_status status, const struct dns_target *targets, size_t n)
{
	struct srv_result *result = arg;
	result->calls++;
	result->status = status;
	result->n = n;
	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++) {
		result->targets[i] = targets[i];
		snprintf(result->hosts[i], sizeof(result->hosts[i]), "%s", targets[i].host);
		result->targets[i].host = result->hosts[i];
	}
}

static void on_addresses(void *arg, enum dns_status status,
			 const struct sockaddr_storage *addresses, size_t n)
{
	struct address_result *result = arg;
	result->calls++;
	result->status = status;
	result->n = n;
	ck_assert_uint_le(n, 8);
	if (n > 0)
		memcpy(result->addresses, addresses, n * sizeof(*addresses));
	if (result->free_resolver) {
		dns_free(fx.dns);
		fx.dns = NULL;
	}
}

/* Looks NAME's SRV records up and waits for the answer. */
static void resolve_srv(const char *name, struct srv_result *result)
{
	memset(result, 0, sizeof(*result));
	ck_assert_ptr_nonnull(dns_resolve_srv(fx.dns, name, on_srv, result));
	ck_assert_uint_eq(result->calls, 0); /* never from inside the call */
	RUN_UNTIL(result->calls > 0, 3000);
	ck_assert_uint_eq(result->calls, 1);
}

static void resolve_addresses(const char *host, uint16_t port, struct address_result *result)
{
	memset(result, 0, sizeof(*result));
	ck_assert_ptr_nonnull(dns_resolve_addresses(fx.dns, host, port, on_addresses, result));
	ck_assert_uint_eq(result->calls, 0);
	RUN_UNTIL(result->calls > 0, 3000);
	ck_assert_uint_eq(result->calls, 1);
}

static const struct dns_target *find_target(const struct srv_result *result, const char *host)
{
	for (size_t i = 0; i < result->n; i++)
		if (strcmp(result->targets[i].host, host) == 0)
			return &result->targets[i];
	return NULL;
}

static void assert_address(const struct sockaddr_storage *address, const char *expected,
			   uint16_t port)
{
	char text[INET6_ADDRSTRLEN];
	if (address->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		ck_assert_uint_eq(ntohs(in6->sin6_port), port);
	} else {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)address;
		ck_assert_int_eq(address->ss_family, AF_INET);
		inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
		ck_assert_uint_eq(ntohs(in4->sin_port), port);
	}
	ck_assert_str_eq(text, expected);
}

#define PARTNER_SRV "_sipfederationtls._tcp.partner.test"

/* ---- SRV look-ups ---- */

START_TEST(test_srv_answer)
{
	struct srv_result result;
	resolve_srv("_SIPfederationtls._tcp.Partner.Test.", &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 3);
	/* Priority 10 in either order (a weighted draw), then priority 20. */
	ck_assert_uint_eq(result.targets[0].priority, 10);
	ck_assert_uint_eq(result.targets[1].priority, 10);
	ck_assert_str_eq(result.targets[2].host, "backup.other.test");
	ck_assert_uint_eq(result.targets[2].port, 5063);
	ck_assert_uint_eq(result.targets[2].priority, 20);
	ck_assert_uint_eq(result.targets[2].weight, 0);
	const struct dns_target *edge1 = find_target(&result, "edge1.partner.test");
	const struct dns_target *edge2 = find_target(&result, "edge2.partner.test");
	ck_assert_ptr_nonnull(edge1); /* lower-cased */
	ck_assert_ptr_nonnull(edge2); /* the compressed target expanded */
	ck_assert_uint_eq(edge1->port, 5061);
	ck_assert_uint_eq(edge1->weight, 60);
	ck_assert_uint_eq(edge2->port, 5062);
	ck_assert_uint_eq(edge2->weight, 40);
	ck_assert_uint_eq(queries_for(PARTNER_SRV, TYPE_SRV), 1);
}
END_TEST

START_TEST(test_srv_cache_hit)
{
	struct srv_result first, second;
	resolve_srv(PARTNER_SRV, &first);
	resolve_srv(PARTNER_SRV ".", &second); /* the same name */
	ck_assert_int_eq(second.status, DNS_OK);
	ck_assert_uint_eq(second.n, 3);
	ck_assert_str_eq(second.targets[2].host, "backup.other.test");
	ck_assert_ptr_nonnull(find_target(&second, "edge1.partner.test"));
	ck_assert_ptr_nonnull(find_target(&second, "edge2.partner.test"));
	ck_assert_uint_eq(queries_for(PARTNER_SRV, TYPE_SRV), 1);
	ck_assert_uint_eq(server.queries, 1);
}
END_TEST

START_TEST(test_srv_ttl_expiry)
{
	const char *name = "_sipfederationtls._tcp.short.test";
	struct srv_result result;
	resolve_srv(name, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 2);
	ck_assert_str_eq(result.targets[0].host, "edge.short.test");
	ck_assert_str_eq(result.targets[1].host, "backup.short.test");
	resolve_srv(name, &result);
	ck_assert_uint_eq(queries_for(name, TYPE_SRV), 1);
	ADVANCE_CLOCK(1100); /* past the smallest TTL, 1 s */
	resolve_srv(name, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(queries_for(name, TYPE_SRV), 2);
}
END_TEST

START_TEST(test_srv_not_found_is_cached)
{
	const char *name = "_sipfederationtls._tcp.missing.test";
	struct srv_result result;
	resolve_srv(name, &result);
	ck_assert_int_eq(result.status, DNS_NOT_FOUND);
	ck_assert_uint_eq(result.n, 0);
	resolve_srv(name, &result);
	ck_assert_int_eq(result.status, DNS_NOT_FOUND);
	ck_assert_uint_eq(queries_for(name, TYPE_SRV), 1);
}
END_TEST

START_TEST(test_srv_no_data)
{
	struct srv_result result;
	resolve_srv("_sipfederationtls._tcp.nodata.test", &result);
	ck_assert_int_eq(result.status, DNS_NOT_FOUND);
	ck_assert_uint_eq(result.n, 0);
}
END_TEST

START_TEST(test_srv_root_target)
{
	struct srv_result result;
	resolve_srv("_sipfederationtls._tcp.none.test", &result);
	ck_assert_int_eq(result.status, DNS_NOT_FOUND);
	ck_assert_uint_eq(result.n, 0);
}
END_TEST

START_TEST(test_srv_server_failure_not_cached)
{
	const char *name = "_sipfederationtls._tcp.broken.test";
	struct srv_result result;
	resolve_srv(name, &result);
	ck_assert_int_eq(result.status, DNS_FAILED);
	ck_assert_uint_eq(result.n, 0);
	unsigned first = queries_for(name, TYPE_SRV);
	ck_assert_uint_ge(first, 1);
	resolve_srv(name, &result);
	ck_assert_int_eq(result.status, DNS_FAILED);
	ck_assert_uint_gt(queries_for(name, TYPE_SRV), first);
}
END_TEST

START_TEST(test_srv_malformed)
{
	struct srv_result result;
	resolve_srv("_sipfederationtls._tcp.malformed.test", &result);
	ck_assert_int_eq(result.status, DNS_FAILED);
	/* A target outside its record's data: c-ares takes it, the TTL walk
	 * does not. */
	resolve_srv("_sipfederationtls._tcp.short-rdata.test", &result);
	ck_assert_int_eq(result.status, DNS_FAILED);
	ck_assert_uint_eq(result.n, 0);
}
END_TEST

START_TEST(test_srv_silent_server)
{
	struct srv_result result = { 0 };
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	ck_assert_ptr_nonnull(
		dns_resolve_srv(fx.dns, "_sipfederationtls._tcp.silent.test", on_srv, &result));
	RUN_UNTIL(result.calls > 0, 2000);
	clock_gettime(CLOCK_MONOTONIC, &end);
	ck_assert_uint_eq(result.calls, 1);
	ck_assert_int_eq(result.status, DNS_FAILED);
	ck_assert_uint_ge(queries_for("_sipfederationtls._tcp.silent.test", TYPE_SRV), 2);
	/* Both tries were waited for: 50 ms, then 100 ms (less a little for
	 * the timers' granularity). */
	int64_t waited_ms = (int64_t)(end.tv_sec - start.tv_sec) * 1000 +
			    (end.tv_nsec - start.tv_nsec) / 1000000;
	ck_assert_int_ge(waited_ms, 3 * TEST_TIMEOUT_MS - 10);
}
END_TEST

/* ---- address look-ups ---- */

START_TEST(test_addresses_aaaa_first)
{
	struct address_result result;
	resolve_addresses("Edge1.Partner.Test", 5061, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 3);
	assert_address(&result.addresses[0], "2001:db8::1", 5061);
	assert_address(&result.addresses[1], "192.0.2.1", 5061);
	assert_address(&result.addresses[2], "192.0.2.2", 5061);
	ck_assert_uint_eq(queries_for("edge1.partner.test", TYPE_A), 1);
	ck_assert_uint_eq(queries_for("edge1.partner.test", TYPE_AAAA), 1);
}
END_TEST

START_TEST(test_addresses_cached_with_new_port)
{
	struct address_result result;
	resolve_addresses("edge1.partner.test", 5061, &result);
	resolve_addresses("edge1.partner.test", 443, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 3);
	assert_address(&result.addresses[0], "2001:db8::1", 443);
	assert_address(&result.addresses[2], "192.0.2.2", 443);
	ck_assert_uint_eq(server.queries, 2); /* A and AAAA, once */
}
END_TEST

START_TEST(test_addresses_one_family)
{
	struct address_result result;
	resolve_addresses("v4only.test", 5061, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 1);
	assert_address(&result.addresses[0], "192.0.2.7", 5061);
}
END_TEST

START_TEST(test_addresses_not_found_is_cached)
{
	struct address_result result;
	resolve_addresses("missing.test", 5061, &result);
	ck_assert_int_eq(result.status, DNS_NOT_FOUND);
	ck_assert_uint_eq(result.n, 0);
	/* A and AAAA, and no search domain tried after them */
	ck_assert_uint_eq(server.queries, 2);
	resolve_addresses("missing.test", 5061, &result);
	ck_assert_int_eq(result.status, DNS_NOT_FOUND);
	ck_assert_uint_eq(server.queries, 2);
}
END_TEST

START_TEST(test_addresses_ttl_expiry)
{
	struct address_result result;
	resolve_addresses("short.test", 5061, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 2);
	resolve_addresses("short.test", 5061, &result);
	ck_assert_uint_eq(queries_for("short.test", TYPE_A), 1);
	ADVANCE_CLOCK(1100); /* the A record's TTL is 1 s, the AAAA's 300 */
	resolve_addresses("short.test", 5061, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(queries_for("short.test", TYPE_A), 2);
	ck_assert_uint_eq(queries_for("short.test", TYPE_AAAA), 2);
}
END_TEST

START_TEST(test_address_literals)
{
	struct address_result result;
	resolve_addresses("192.0.2.9", 5061, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 1);
	assert_address(&result.addresses[0], "192.0.2.9", 5061);
	resolve_addresses("2001:DB8::9", 5062, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 1);
	assert_address(&result.addresses[0], "2001:db8::9", 5062);
	ck_assert_uint_eq(server.queries, 0);
}
END_TEST

/* ---- cancelling and freeing ---- */

START_TEST(test_cancel_in_flight)
{
	struct srv_result result = { 0 };
	struct dns_query *query =
		dns_resolve_srv(fx.dns, "_sipfederationtls._tcp.silent.test", on_srv, &result);
	ck_assert_ptr_nonnull(query);
	dns_cancel(query);
	dns_cancel(NULL);
	RUN_UNTIL(server.queries > 0, 2000);
	RUN_FOR(QUIET_MS);
	ck_assert_uint_eq(result.calls, 0);
	/* teardown's dns_free releases the query c-ares still holds */
}
END_TEST

START_TEST(test_cancel_then_answer_arrives)
{
	struct srv_result result = { 0 };
	struct dns_query *query = dns_resolve_srv(fx.dns, PARTNER_SRV, on_srv, &result);
	dns_cancel(query);
	RUN_UNTIL(server.queries > 0, 2000);
	RUN_FOR(200);
	ck_assert_uint_eq(result.calls, 0);
	/* The answer that came in for the cancelled query was still cached. */
	resolve_srv(PARTNER_SRV, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(result.n, 3);
	ck_assert_uint_eq(queries_for(PARTNER_SRV, TYPE_SRV), 1);
}
END_TEST

START_TEST(test_cancel_pending_delivery)
{
	struct srv_result warm, cached = { 0 };
	struct address_result literal = { 0 };
	resolve_srv(PARTNER_SRV, &warm);
	dns_cancel(dns_resolve_srv(fx.dns, PARTNER_SRV, on_srv, &cached));
	dns_cancel(dns_resolve_addresses(fx.dns, "192.0.2.9", 5061, on_addresses, &literal));
	RUN_FOR(QUIET_MS);
	ck_assert_uint_eq(cached.calls, 0);
	ck_assert_uint_eq(literal.calls, 0);
}
END_TEST

START_TEST(test_free_with_queries_in_flight)
{
	struct srv_result warm, silent = { 0 }, cached = { 0 };
	struct address_result addresses = { 0 }, literal = { 0 };
	resolve_srv(PARTNER_SRV, &warm);
	ck_assert_ptr_nonnull(
		dns_resolve_srv(fx.dns, "_sipfederationtls._tcp.silent.test", on_srv, &silent));
	ck_assert_ptr_nonnull(
		dns_resolve_addresses(fx.dns, "silent.test", 5061, on_addresses, &addresses));
	RUN_UNTIL(server.queries >= 4, 2000); /* warm, silent SRV, silent A and AAAA */
	ck_assert_uint_eq(server.queries, 4);
	/* And two answers waiting for the loop to deliver them. */
	ck_assert_ptr_nonnull(dns_resolve_srv(fx.dns, PARTNER_SRV, on_srv, &cached));
	ck_assert_ptr_nonnull(
		dns_resolve_addresses(fx.dns, "192.0.2.9", 5061, on_addresses, &literal));
	dns_free(fx.dns);
	fx.dns = NULL;
	RUN_FOR(QUIET_MS);
	ck_assert_uint_eq(silent.calls, 0);
	ck_assert_uint_eq(addresses.calls, 0);
	ck_assert_uint_eq(cached.calls, 0);
	ck_assert_uint_eq(literal.calls, 0);
}
END_TEST

START_TEST(test_free_inside_callback)
{
	struct address_result first = { .free_resolver = true }, second = { 0 };
	ck_assert_ptr_nonnull(
		dns_resolve_addresses(fx.dns, "192.0.2.1", 5061, on_addresses, &first));
	ck_assert_ptr_nonnull(
		dns_resolve_addresses(fx.dns, "192.0.2.2", 5061, on_addresses, &second));
	RUN_FOR(QUIET_MS);
	/* Delivered in order: the first freed the resolver, and with it the
	 * second, which never calls back. */
	ck_assert_uint_eq(first.calls, 1);
	ck_assert_uint_eq(second.calls, 0);
	ck_assert_ptr_null(fx.dns);
}
END_TEST

/* ---- creating a resolver ---- */

START_TEST(test_new_server_addresses)
{
	char err[256] = "";
	ck_assert_ptr_null(dns_new(fx.base, "dns.example.test", 53, err, sizeof(err)));
	ck_assert_str_eq(err, "DNS server dns.example.test: not an IP address");
	struct dns *v6 = dns_new(fx.base, "::1", 5353, err, sizeof(err));
	ck_assert_msg(v6 != NULL, "%s", err);
	dns_free(v6);
	struct dns *system = dns_new(fx.base, NULL, 0, err, sizeof(err));
	ck_assert_msg(system != NULL, "%s", err);
	dns_free(system);
}
END_TEST

START_TEST(test_set_timeout_limits)
{
	char err[256] = "";
	ck_assert_int_eq(dns_set_timeout(fx.dns, 0, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "DNS timeout 0 ms, 2 tries: out of range");
	ck_assert_int_eq(dns_set_timeout(fx.dns, 100, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(dns_set_timeout(fx.dns, DNS_TIMEOUT_MAX_MS + 1, 2, err, sizeof(err)), -1);
	ck_assert_int_eq(dns_set_timeout(fx.dns, 100, DNS_TRIES_MAX + 1, err, sizeof(err)), -1);
	ck_assert_int_eq(
		dns_set_timeout(fx.dns, DNS_TIMEOUT_MAX_MS, DNS_TRIES_MAX, err, sizeof(err)), 0);
	ck_assert_int_eq(dns_set_timeout(fx.dns, TEST_TIMEOUT_MS, TEST_TRIES, err, sizeof(err)), 0);
	/* The channel made again still asks the test's server. */
	struct srv_result result = { 0 };
	resolve_srv(PARTNER_SRV, &result);
	ck_assert_int_eq(result.status, DNS_OK);
	ck_assert_uint_eq(queries_for(PARTNER_SRV, TYPE_SRV), 1);
	/* Once used, the resolver keeps its timeouts. */
	ck_assert_int_eq(dns_set_timeout(fx.dns, 1000, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "DNS timeout: the resolver has been used already");
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *suite = suite_create("dns");
	TCase *order = tcase_create("order");
	tcase_add_test(order, test_order_priorities);
	tcase_add_test(order, test_order_weights);
	tcase_add_test(order, test_order_zero_weights);
	tcase_add_test(order, test_order_single_target);
	suite_add_tcase(suite, order);

	TCase *lookup = tcase_create("lookup");
	tcase_add_checked_fixture(lookup, setup, teardown);
	tcase_set_timeout(lookup, 15);
	tcase_add_test(lookup, test_srv_answer);
	tcase_add_test(lookup, test_srv_cache_hit);
	tcase_add_test(lookup, test_srv_ttl_expiry);
	tcase_add_test(lookup, test_srv_not_found_is_cached);
	tcase_add_test(lookup, test_srv_no_data);
	tcase_add_test(lookup, test_srv_root_target);
	tcase_add_test(lookup, test_srv_server_failure_not_cached);
	tcase_add_test(lookup, test_srv_malformed);
	tcase_add_test(lookup, test_srv_silent_server);
	tcase_add_test(lookup, test_addresses_aaaa_first);
	tcase_add_test(lookup, test_addresses_cached_with_new_port);
	tcase_add_test(lookup, test_addresses_one_family);
	tcase_add_test(lookup, test_addresses_not_found_is_cached);
	tcase_add_test(lookup, test_addresses_ttl_expiry);
	tcase_add_test(lookup, test_address_literals);
	tcase_add_test(lookup, test_cancel_in_flight);
	tcase_add_test(lookup, test_cancel_then_answer_arrives);
	tcase_add_test(lookup, test_cancel_pending_delivery);
	tcase_add_test(lookup, test_free_with_queries_in_flight);
	tcase_add_test(lookup, test_free_inside_callback);
	tcase_add_test(lookup, test_new_server_addresses);
	tcase_add_test(lookup, test_set_timeout_limits);
	suite_add_tcase(suite, lookup);
	return suite;
}

int main(void)
{
	return test_suite_run(dns_suite());
}
