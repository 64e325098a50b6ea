/* SPDX-License-Identifier: ISC */
/* fake_conn: every function of lib/conn.h over two evbuffers and a list,
 * linked into the suites instead of lib/conn.c.  A freed conn stays in
 * memory (out of conn_find's reach, reporting nothing) until
 * fake_conn_free_all, so a test can still read what was written to it. */
#include "fake_conn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "tls.h"

struct conn {
	uint64_t id;
	char peer[INET6_ADDRSTRLEN + 8];
	bool ready, secure, reading, freed, on_probation;
	enum conn_close_reason close_reason;
	enum tls_failure_kind tls_failure;
	char close_detail[128];
	char closed_by_us[128];
	struct conn_owner owner;
	struct evbuffer *input, *output;
	char *output_text;
	char **peer_names; /* fake_conn_set_peer_names */
	size_t n_peer_names;
	struct tls_server *server; /* held: what conn_accept got */
	size_t output_max;
	struct conn *next;
};

static struct conn *conns;
static uint64_t next_id = 1;
static unsigned connects;
static struct conn *last_connected;

struct conn *fake_conn_new(const char *peer, int role, size_t output_max, conn_callback *callback,
			   void *arg)
{
	struct conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		abort();
	conn->id = next_id++;
	snprintf(conn->peer, sizeof(conn->peer), "%s", peer);
	conn->reading = true;
	conn->on_probation = true;
	conn->owner = (struct conn_owner){
		.protocol = CONN_PROTOCOL_SIP,
		.role = role,
		.callback = callback,
		.arg = arg,
	};
	conn->close_reason = CONN_CLOSE_LOCAL;
	conn->output_max = output_max;
	conn->input = evbuffer_new();
	conn->output = evbuffer_new();
	conn->next = conns;
	conns = conn;
	return conn;
}

static void report(struct conn *conn, enum conn_event event)
{
	if (!conn->freed && conn->owner.callback != NULL)
		conn->owner.callback(conn, event, conn->owner.arg);
}

void fake_conn_ready(struct conn *conn)
{
	conn->ready = true;
	conn->secure = true;
	report(conn, CONN_EVENT_TLS_READY);
}

void fake_conn_receive(struct conn *conn, const char *text)
{
	evbuffer_add(conn->input, text, strlen(text));
	if (conn->reading)
		report(conn, CONN_EVENT_DATA);
}

void fake_conn_drop(struct conn *conn, const char *detail)
{
	if (conn->freed)
		return;
	conn->close_reason = CONN_CLOSE_PEER;
	snprintf(conn->close_detail, sizeof(conn->close_detail), "%s", detail);
	conn->ready = false;
	report(conn, CONN_EVENT_CLOSED);
	conn->freed = true;
}

void fake_conn_fail_handshake(struct conn *conn, enum conn_close_reason reason,
			      enum tls_failure_kind kind)
{
	if (conn->freed)
		return;
	conn->close_reason = reason;
	conn->tls_failure = kind;
	snprintf(conn->close_detail, sizeof(conn->close_detail), "%s", tls_failure_name(kind));
	conn->ready = false;
	report(conn, CONN_EVENT_CLOSED);
	conn->freed = true;
}

const char *fake_conn_output(struct conn *conn)
{
	size_t len = evbuffer_get_length(conn->output);
	free(conn->output_text);
	conn->output_text = malloc(len + 1);
	if (conn->output_text == NULL)
		abort();
	evbuffer_copyout(conn->output, conn->output_text, len);
	conn->output_text[len] = '\0';
	return conn->output_text;
}

void fake_conn_clear_output(struct conn *conn)
{
	evbuffer_drain(conn->output, evbuffer_get_length(conn->output));
}

const char *fake_conn_closed_by_us(const struct conn *conn)
{
	return conn->closed_by_us[0] != '\0' ? conn->closed_by_us : NULL;
}

void fake_conn_drop_closed(void)
{
	for (struct conn *conn = conns; conn != NULL; conn = conn->next)
		if (!conn->freed && conn->closed_by_us[0] != '\0')
			fake_conn_drop(conn, "closed");
}

void fake_conn_set_peer_names(struct conn *conn, const char *const *names, size_t n)
{
	conn->peer_names = calloc(n, sizeof(*conn->peer_names));
	if (conn->peer_names == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((conn->peer_names[i] = strdup(names[i])) == NULL)
			abort();
	conn->n_peer_names = n;
}

struct tls_server *fake_conn_tls_server(const struct conn *conn)
{
	return conn->server;
}

unsigned fake_conn_connects(void)
{
	return connects;
}

struct conn *fake_conn_last_connected(void)
{
	return last_connected;
}

struct conn *fake_conn_newest(void)
{
	return conns;
}

void fake_conn_free_all(void)
{
	/* Owners still holding a conn hear it close, so they free themselves. */
	for (struct conn *conn = conns; conn != NULL; conn = conn->next)
		if (!conn->freed)
			fake_conn_drop(conn, "test over");
	while (conns != NULL) {
		struct conn *conn = conns;
		conns = conn->next;
		evbuffer_free(conn->input);
		tls_names_free(conn->peer_names, conn->n_peer_names);
		tls_server_release(conn->server);
		evbuffer_free(conn->output);
		free(conn->output_text);
		free(conn);
	}
	connects = 0;
	last_connected = NULL;
}

/* ---- lib/conn.h ---- */

struct conn *conn_accept(struct event_base *base, evutil_socket_t fd, const struct sockaddr *peer,
			 int peer_len, struct tls_server *server, const struct conn_limits *limits,
			 const struct conn_owner *owner)
{
	char text[INET6_ADDRSTRLEN + 8];
	(void)base;
	(void)peer_len;
	if (fd >= 0)
		evutil_closesocket(fd);
	address_format(peer, true, text, sizeof(text));
	struct conn *conn =
		fake_conn_new(text, owner->role, limits->output_max, owner->callback, owner->arg);
	conn->on_probation = !limits->proven_by_handshake;
	conn->server = server != NULL ? tls_server_hold(server) : NULL;
	return conn;
}

struct conn *conn_connect(struct event_base *base, const struct sockaddr *peer, int peer_len,
			  const struct sockaddr *local, int local_len, struct tls_client *client,
			  const struct tls_expect *expect, const struct conn_limits *limits,
			  const struct conn_owner *owner)
{
	char text[INET6_ADDRSTRLEN + 8];
	(void)base;
	(void)peer_len;
	(void)local;
	(void)local_len;
	(void)client;
	(void)expect;
	address_format(peer, true, text, sizeof(text));
	connects++;
	last_connected =
		fake_conn_new(text, owner->role, limits->output_max, owner->callback, owner->arg);
	last_connected->on_probation = false;
	return last_connected;
}

/* Upgrades in place are XMPP's: the test completes them (fake_conn_ready). */
static int fake_upgrade(const struct conn *conn, const void *handle)
{
	return conn->freed || conn->secure || handle == NULL ? -1 : 0;
}

int conn_start_tls_server(struct conn *conn, struct tls_server *server)
{
	return fake_upgrade(conn, server);
}

int conn_start_tls_server_buffered(struct conn *conn, struct tls_server *server)
{
	return fake_upgrade(conn, server);
}

int conn_start_tls_client(struct conn *conn, struct tls_client *client,
			  const struct tls_expect *expect)
{
	(void)expect;
	return fake_upgrade(conn, client);
}

void conn_free(struct conn *conn)
{
	conn->freed = true;
	conn->ready = false;
}

void conn_close(struct conn *conn, enum conn_close_reason reason, const char *detail)
{
	conn->close_reason = reason;
	snprintf(conn->closed_by_us, sizeof(conn->closed_by_us), "%s",
		 detail != NULL ? detail : conn_close_reason_name(reason));
	conn->ready = false;
}

void conn_abort(struct conn *conn, enum conn_close_reason reason, const char *detail)
{
	conn_close(conn, reason, detail);
}

/* Fakes never join their budget (below), so there is never one to shed. */
enum conn_budget_verdict conn_admit(struct conn_budget *budget, const struct sockaddr *peer)
{
	return conn_budget_check(budget, peer);
}

int conn_join_budget(struct conn *conn, struct conn_budget *budget, const struct sockaddr *peer)
{
	(void)conn;
	(void)budget;
	(void)peer;
	return 0;
}

void conn_end_probation(struct conn *conn)
{
	conn->on_probation = false;
}

bool conn_on_probation(const struct conn *conn)
{
	return conn->on_probation;
}

void conn_set_shed_rank(struct conn *conn, enum conn_shed_rank rank)
{
	(void)conn;
	(void)rank;
}

void conn_set_output_total_max(size_t max)
{
	(void)max;
}

size_t conn_output_total(void)
{
	size_t total = 0;
	for (const struct conn *conn = conns; conn != NULL; conn = conn->next)
		total += evbuffer_get_length(conn->output);
	return total;
}

size_t conn_output_queued(const struct conn *conn)
{
	return evbuffer_get_length(conn->output);
}

struct evbuffer *conn_input(struct conn *conn)
{
	return conn->input;
}

size_t conn_output_room(const struct conn *conn)
{
	size_t queued = evbuffer_get_length(conn->output);
	if (conn->output_max == 0)
		return SIZE_MAX;
	return queued < conn->output_max ? conn->output_max - queued : 0;
}

int conn_write(struct conn *conn, const void *data, size_t len)
{
	if (conn->freed || len > conn_output_room(conn)) {
		conn_close(conn, CONN_CLOSE_OUTPUT_OVERFLOW, "output limit");
		return -1;
	}
	evbuffer_add(conn->output, data, len);
	return 0;
}

uint64_t conn_id(const struct conn *conn)
{
	return conn->id;
}

evutil_socket_t conn_fd(const struct conn *conn)
{
	(void)conn;
	return -1;
}

bool conn_ready(const struct conn *conn)
{
	return conn->ready && !conn->freed;
}

const char *conn_peer(const struct conn *conn)
{
	return conn->peer;
}

const char *conn_peer_subject(const struct conn *conn)
{
	(void)conn;
	return NULL;
}

char *const *conn_peer_names(const struct conn *conn, size_t *n)
{
	*n = conn->n_peer_names;
	return conn->peer_names;
}

const unsigned char *conn_peer_fingerprint(const struct conn *conn)
{
	(void)conn;
	return NULL;
}

const char *conn_server_name(const struct conn *conn)
{
	(void)conn;
	return NULL;
}

bool conn_peer_verified(const struct conn *conn)
{
	return conn->ready; /* a fake's handshake is always a good one */
}

bool conn_secure(const struct conn *conn)
{
	return conn->secure;
}

const char *conn_close_reason_name(enum conn_close_reason reason)
{
	/* The fake's own words: the suites match on details, not names. */
	return reason == CONN_CLOSE_PEER ? "fake_peer" : "fake_local";
}

enum conn_close_reason conn_close_reason(const struct conn *conn)
{
	return conn->close_reason;
}

const char *conn_close_detail(const struct conn *conn)
{
	return conn->close_detail[0] != '\0' ? conn->close_detail : conn->closed_by_us;
}

enum tls_failure_kind conn_tls_failure(const struct conn *conn)
{
	return conn->tls_failure;
}

void conn_set_reading(struct conn *conn, bool reading)
{
	conn->reading = reading;
	/* As lib/conn: what arrived while paused is reported on resuming. */
	if (reading && evbuffer_get_length(conn->input) > 0)
		report(conn, CONN_EVENT_DATA);
}

bool conn_reading(const struct conn *conn)
{
	return conn->reading;
}

const struct conn_owner *conn_owner(const struct conn *conn)
{
	return &conn->owner;
}

struct conn *conn_find(uint64_t id)
{
	for (struct conn *conn = conns; conn != NULL; conn = conn->next)
		if (conn->id == id && !conn->freed)
			return conn;
	return NULL;
}
