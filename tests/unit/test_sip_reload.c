/* SPDX-License-Identifier: ISC */
/* Unit tests for the SIP protocol's reload (sip_protocol.c and what it
 * calls in context.c, pool.c, federation.c and session.c), through the
 * protocol entry as the worker calls it, over fake connections: a worker
 * is built from one configuration, then prepares and commits (or aborts)
 * another, and the tests look at what serves, what closed and why. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "address.h"
#include "context.h"
#include "fake_conn.h"
#include "flow_token.h"
#include "protocols.h"
#include "sip_protocol.h"
#include "test_context.h"
#include "test_errors.h"
#include "test_pki.h"
#include "test_suite.h"
#include "tls.h"

/* The certificate and key the listeners name, copies of the test PKI's
 * edge ones in a folder of this process: a test renews them in place. */
static char scratch[] = "/tmp/sxedge-sip-reload.XXXXXX";
static char certificate[96], key[96];

static struct event_base *base;
static struct metrics *metrics;
static const struct sxedge_config *config; /* the worker's snapshot, held as the worker does */
static void *state;
static struct conn *pool_conn;

static const char pool_one[] = "fqdn = pool1.example.test\n"
			       "relay = 127.0.0.10:5061\n"
			       "connections = 1\n";

static const char partners[] = "[partner partner.test]\n"
			       "edge = sip.partner.test\n"
			       "address = 127.0.0.20:5061\n"
			       "[partner other.test]\n"
			       "edge = sip.other.test\n"
			       "address = 127.0.0.21:5061\n";

static void copy_file(const char *from_name, const char *to)
{
	char *from = test_pki_path(from_name);
	char data[8192];
	FILE *in = fopen(from, "r");
	ck_assert_ptr_nonnull(in);
	size_t len = fread(data, 1, sizeof(data), in);
	fclose(in);
	free(from);
	/* Renewed as a tool renews it: a new file put in the old one's place. */
	char temporary[128];
	snprintf(temporary, sizeof(temporary), "%s.new", to);
	FILE *out = fopen(temporary, "w");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(data, 1, len, out), len);
	fclose(out);
	ck_assert_int_eq(rename(temporary, to), 0);
}

/* The edge serves the test PKI's certificate NAME (edge, other) from now on. */
static void install_certificate(const char *name)
{
	char file[32];
	snprintf(file, sizeof(file), "%s.crt", name);
	copy_file(file, certificate);
	snprintf(file, sizeof(file), "%s.key", name);
	copy_file(file, key);
}

/* A snapshot: [global] with GLOBAL, the access and internal listeners,
 * [pool] with POOL, then EXTRA; with FEDERATION a federation listener and
 * a [federation] section holding FEDERATION. */
static const struct sxedge_config *load(const char *global, const char *pool,
					const char *federation, const char *extra)
{
	char path[] = "/tmp/sxedge-sip-reload-config.XXXXXX";
	char *ca = test_pki_path("ca.crt");
	char listener[600] = "", text[4096];

	if (federation != NULL)
		snprintf(listener, sizeof(listener),
			 "[listener federation]\nrole = federation\naddress = 127.0.0.3\n"
			 "port = 5061\ncertificate = %s\nkey = %s\nca_file = %s\n"
			 "[federation]\n%s%s",
			 certificate, key, ca,
			 strstr(federation, "dns_server") ? "" : "dns_server = 127.0.0.1\n",
			 federation);
	int len = snprintf(text, sizeof(text),
			   "[global]\ndomains = example.test\n%s"
			   "[listener access]\nrole = access\naddress = 127.0.0.1\nport = 443\n"
			   "certificate = %s\nkey = %s\n"
			   "[listener internal]\nrole = internal\naddress = 127.0.0.2\n"
			   "port = 5061\ncertificate = %s\nkey = %s\nca_file = %s\n"
			   "client_certificate = required\n"
			   "%s[pool]\n%sreconnect_min = 1\nreconnect_max = 4\n%s",
			   global, certificate, key, certificate, key, ca, listener, pool, extra);
	ck_assert_int_lt(len, (int)sizeof(text));
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, (size_t)len), len);
	close(fd);
	const struct sxedge_config *loaded = config_load(path, stderr, &sxedge_protocols.schema);
	unlink(path);
	free(ca);
	ck_assert_ptr_nonnull(loaded);
	return loaded;
}

/* The worker's SIP context: the first member of its state (sip_protocol.c). */
static struct sip_context *context(void)
{
	return state;
}

static void start(const char *global, const char *pool, const char *federation, const char *extra)
{
	config = load(global, pool, federation, extra);
	state = sip_protocol.worker_new(base, config, metrics, stderr);
	ck_assert_ptr_nonnull(state);
	ck_assert_int_eq(sip_protocol.worker_start(state), 0);
	pool_conn = fake_conn_last_connected();
	fake_conn_ready(pool_conn);
}

/* Prepares NEXT; commits it and makes it the worker's snapshot, or aborts
 * (ABORT).  Returns what prepare returned. */
static void *reload_with(const struct sxedge_config *next, bool abort)
{
	void *pending = sip_protocol.reload_prepare(state, next, stderr);
	if (pending == NULL || abort) {
		sip_protocol.reload_abort(state, pending);
		config_unref(next);
		return pending;
	}
	sip_protocol.reload_commit(state, pending);
	config_unref(config);
	config = next;
	return pending;
}

static void reload(const char *global, const char *pool, const char *federation, const char *extra)
{
	ck_assert_ptr_nonnull(reload_with(load(global, pool, federation, extra), false));
}

static const struct listener_config *listener(const char *name)
{
	for (size_t i = 0; i < config->n_listeners; i++)
		if (strcmp(config->listeners[i].name, name) == 0)
			return &config->listeners[i];
	ck_abort_msg("no listener %s", name);
	return NULL;
}

/* A connection accepted on listener NAME from ADDRESS:PORT, whose
 * certificate names PEER_NAME (NULL: none), its handshake done. */
static struct conn *accept_from(const char *name, const char *address, uint16_t port,
				const char *peer_name)
{
	struct sockaddr_storage peer;
	int peer_len = address_parse(address, port, &peer);
	ck_assert_int_gt(peer_len, 0);
	unsigned before = context()->inbound[listener(name)->role];
	sip_protocol.accept(state, listener(name), -1, (struct sockaddr *)&peer, peer_len);
	struct conn *conn = fake_conn_newest();
	ck_assert_uint_eq(context()->inbound[listener(name)->role], before + 1);
	if (peer_name != NULL)
		fake_conn_set_peer_names(conn, &peer_name, 1);
	fake_conn_ready(conn);
	return conn;
}

/* A MESSAGE to bob@example.test from alice@FROM over CONN, with PAD
 * bytes of padding. */
static void send_message(struct conn *conn, const char *from, const char *call_id, size_t pad)
{
	char text[8192], padding[4096];
	ck_assert_uint_lt(pad, sizeof(padding));
	memset(padding, 'x', pad);
	padding[pad] = '\0';
	snprintf(text, sizeof(text),
		 "MESSAGE sip:bob@example.test SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 192.0.2.1:40000;branch=z9hG4bK-%s\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@%s>;tag=a1\r\n"
		 "To: <sip:bob@example.test>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 MESSAGE\r\n"
		 "%s%s%s"
		 "Content-Length: 0\r\n\r\n",
		 call_id, from, call_id, pad > 0 ? "X-Pad: " : "", padding, pad > 0 ? "\r\n" : "");
	fake_conn_receive(conn, text);
}

/* The pool sends a MESSAGE to bob@DOMAIN (a partner's), with a ROUTE line
 * when not NULL. */
static void pool_sends(const char *uri, const char *call_id, const char *route)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "MESSAGE %s SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bK-%s\r\n"
		 "%s"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:carol@example.test>;tag=c1\r\n"
		 "To: <%s>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 MESSAGE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 uri, call_id, route != NULL ? route : "", uri, call_id);
	fake_conn_receive(pool_conn, text);
}

/* The link the edge opened to partner DOMAIN's edge NAME, up. */
static struct conn *partner_link(const char *domain, const char *name)
{
	char uri[128];
	unsigned connects = fake_conn_connects();
	snprintf(uri, sizeof(uri), "sip:bob@%s", domain);
	pool_sends(uri, domain, NULL);
	event_base_loop(base, EVLOOP_NONBLOCK); /* the address literal's answer */
	ck_assert_uint_eq(fake_conn_connects(), connects + 1);
	struct conn *conn = fake_conn_last_connected();
	fake_conn_set_peer_names(conn, &name, 1);
	fake_conn_ready(conn);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(conn), "MESSAGE sip:bob@"));
	return conn;
}

/* The subject CN the handle CONN was accepted with presents. */
static void assert_serves(const struct conn *conn, const char *common_name)
{
	char cn[128] = "";
	SSL *ssl = tls_server_open(fake_conn_tls_server(conn));
	ck_assert_ptr_nonnull(ssl);
	X509_NAME_get_text_by_NID(X509_get_subject_name(SSL_get_certificate(ssl)), NID_commonName,
				  cn, sizeof(cn));
	SSL_free(ssl);
	ck_assert_str_eq(cn, common_name);
}

static long long metric(const char *series)
{
	const struct test_context view = { .metrics = metrics };
	return test_context_metric(&view, series);
}

static void setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	metrics = metrics_new();
	ck_assert_ptr_nonnull(metrics);
	install_certificate("edge");
}

static void teardown(void)
{
	sip_protocol.worker_free(state);
	state = NULL;
	fake_conn_free_all();
	config_unref(config);
	config = NULL;
	metrics_free(metrics);
	event_base_free(base);
}

/* ---- TLS handles ---- */

/* A renewed certificate at the same path: new connections get it, the
 * connection accepted before keeps the handle it was accepted with. */
START_TEST(test_renewed_certificate)
{
	start("", pool_one, NULL, "");
	struct conn *before = accept_from("access", "192.0.2.1", 40000, NULL);
	assert_serves(before, "edge.example.test");

	install_certificate("other");
	reload("", pool_one, NULL, "");
	struct conn *after = accept_from("access", "192.0.2.2", 40000, NULL);
	assert_serves(after, "other.example.test");
	assert_serves(before, "edge.example.test");
	ck_assert_ptr_null(fake_conn_closed_by_us(before));
	ck_assert_uint_eq(context()->inbound[ROLE_ACCESS], 2);
}
END_TEST

/* A key that cannot be read refuses the reload with its file and line,
 * and the worker serves on as it was. */
START_TEST(test_unreadable_key_refused)
{
	start("", pool_one, NULL, "");
	const struct sxedge_config *next = load("", pool_one, NULL, "");
	ck_assert_int_eq(unlink(key), 0);
	char *errors = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&errors, &size);
	ck_assert_ptr_null(sip_protocol.reload_prepare(state, next, stream));
	fclose(stream);
	/* The access listener's section starts on line 3. */
	ck_assert_msg(test_errors_have(errors, next->path, 3, "listener", "access", NULL), "%s",
		      errors);
	free(errors);
	config_unref(next);
	install_certificate("edge");
	struct conn *user = accept_from("access", "192.0.2.1", 40000, NULL);
	assert_serves(user, "edge.example.test");
	ck_assert_ptr_eq(context()->config, config);
}
END_TEST

/* ---- abort ---- */

/* A prepared reload that is aborted changes nothing: the old certificate,
 * the old policy, the links and connections as they were. */
START_TEST(test_abort_changes_nothing)
{
	start("", pool_one, "", partners);
	struct conn *link = partner_link("partner.test", "sip.partner.test");
	struct conn *partner = accept_from("federation", "127.0.0.20", 40000, "sip.partner.test");
	send_message(partner, "partner.test", "abort-1", 0);

	install_certificate("other");
	ck_assert_ptr_nonnull(reload_with(
		load("", "fqdn = pool1.example.test\nrelay = 127.0.0.11:5061\nconnections = 2\n",
		     "blocked = partner.test\n", partners),
		true));
	ck_assert_ptr_null(fake_conn_closed_by_us(partner));
	ck_assert_ptr_null(fake_conn_closed_by_us(link));
	ck_assert_ptr_null(fake_conn_closed_by_us(pool_conn));
	ck_assert_ptr_eq(context()->config, config);
	struct conn *user = accept_from("access", "192.0.2.1", 40000, NULL);
	assert_serves(user, "edge.example.test");
	/* The partner is not blocked: its requests still reach the pool. */
	fake_conn_clear_output(pool_conn);
	send_message(partner, "partner.test", "abort-2", 0);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(pool_conn), "Call-ID: abort-2\r\n"));
}
END_TEST

/* ---- partners ---- */

/* A partner the new policy blocks loses its outbound link and the
 * connections it made to us, each closed in order with the reason named
 * and counted; another partner keeps its own. */
START_TEST(test_partner_blocked_loses_links)
{
	start("", pool_one, "", partners);
	/* The links first: a partner's own connection, once bound, would carry
	 * our requests to it instead. */
	struct conn *link = partner_link("partner.test", "sip.partner.test");
	struct conn *other_link = partner_link("other.test", "sip.other.test");
	struct conn *partner = accept_from("federation", "127.0.0.20", 40000, "sip.partner.test");
	send_message(partner, "partner.test", "block-1", 0);
	struct conn *other = accept_from("federation", "127.0.0.21", 40000, "sip.other.test");
	send_message(other, "other.test", "block-2", 0);

	reload("", pool_one, "blocked = partner.test\n", partners);
	ck_assert_str_eq(fake_conn_closed_by_us(partner), "Partner Blocked");
	ck_assert_str_eq(fake_conn_closed_by_us(link), "Partner Blocked");
	ck_assert_ptr_null(fake_conn_closed_by_us(other));
	ck_assert_ptr_null(fake_conn_closed_by_us(other_link));
	ck_assert_int_eq(metric("sxedge_sip_reload_closed_total{role=\"federation\",reason="
				"\"partner_blocked\"}"),
			 2);
	/* The other partner's requests still flow both ways. */
	fake_conn_clear_output(pool_conn);
	send_message(other, "other.test", "block-3", 0);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(pool_conn), "Call-ID: block-3\r\n"));
	fake_conn_clear_output(other_link);
	pool_sends("sip:bob@other.test", "block-4", NULL);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(other_link), "Call-ID: block-4\r\n"));
}
END_TEST

/* A partner whose section goes (closed federation) loses its links too;
 * the request in flight on its link is answered to the pool. */
START_TEST(test_partner_removed_loses_links)
{
	start("", pool_one, "", partners);
	struct conn *link = partner_link("partner.test", "sip.partner.test");
	struct conn *partner = accept_from("federation", "127.0.0.20", 40000, "sip.partner.test");
	send_message(partner, "partner.test", "remove-1", 0);
	fake_conn_clear_output(pool_conn);

	reload("", pool_one, "", "[partner other.test]\nedge = sip.other.test\n");
	ck_assert_str_eq(fake_conn_closed_by_us(partner), "Partner Removed");
	ck_assert_str_eq(fake_conn_closed_by_us(link), "Partner Removed");
	const char *answer = fake_conn_output(pool_conn);
	ck_assert_ptr_eq(strstr(answer, "SIP/2.0 503 Partner Removed\r\n"), answer);
	fake_conn_drop(link, "closed");
	fake_conn_drop(partner, "closed");
	ck_assert_uint_eq(context()->inbound[ROLE_FEDERATION], 0);
}
END_TEST

/* A new pin that the partner's certificate does not match ends its links. */
START_TEST(test_partner_pin_changed)
{
	start("", pool_one, "", partners);
	struct conn *partner = accept_from("federation", "127.0.0.20", 40000, "sip.partner.test");
	send_message(partner, "partner.test", "pin-1", 0);

	char pinned[512];
	snprintf(pinned, sizeof(pinned), "%sfingerprint = sha256:%064d\n", partners, 1);
	/* The pin is the last key of the last section: other.test's. */
	reload("", pool_one, "", pinned);
	ck_assert_ptr_null(fake_conn_closed_by_us(partner));
	char moved[512];
	snprintf(moved, sizeof(moved),
		 "[partner partner.test]\nedge = sip.partner.test\nfingerprint = sha256:%064d\n",
		 1);
	reload("", pool_one, "", moved);
	ck_assert_str_eq(fake_conn_closed_by_us(partner), "Partner Changed");
}
END_TEST

/* The rate bucket of a partner that stays carries over a reload. */
START_TEST(test_partner_rate_bucket_carries_over)
{
	static const char limited[] = "[partner partner.test]\nedge = sip.partner.test\n"
				      "rate = 1\nburst = 1\n";
	start("", pool_one, "", limited);
	struct conn *partner = accept_from("federation", "127.0.0.20", 40000, "sip.partner.test");
	send_message(partner, "partner.test", "rate-1", 0);
	ck_assert_str_eq(fake_conn_output(partner), "");

	reload("", pool_one, "queue_max = 10\n", limited);
	send_message(partner, "partner.test", "rate-2", 0);
	const char *answer = fake_conn_output(partner);
	ck_assert_ptr_eq(strstr(answer, "SIP/2.0 503 "), answer);
	ck_assert_ptr_null(fake_conn_closed_by_us(partner));
}
END_TEST

/* ---- the pool ---- */

/* A new relay: the link to the old one closes in order (what it carries
 * answered) and one to the new relay is made at once. */
START_TEST(test_pool_member_replaced)
{
	start("", pool_one, NULL, "");
	struct conn *user = accept_from("access", "192.0.2.1", 40000, NULL);
	send_message(user, "example.test", "pool-1", 0);
	unsigned connects = fake_conn_connects();

	reload("", "fqdn = pool1.example.test\nrelay = 127.0.0.11:5061\nconnections = 1\n", NULL,
	       "");
	ck_assert_str_eq(fake_conn_closed_by_us(pool_conn), "Pool Member Removed");
	const char *answer = fake_conn_output(user);
	ck_assert_ptr_eq(strstr(answer, "SIP/2.0 503 Pool Member Removed\r\n"), answer);
	ck_assert_int_eq(metric("sxedge_sip_reload_closed_total{role=\"internal\","
				"reason=\"pool_member_removed\"}"),
			 1);
	fake_conn_drop(pool_conn, "closed");
	ck_assert_uint_eq(fake_conn_connects(), connects + 1);
	ck_assert_str_eq(conn_peer(fake_conn_last_connected()), "127.0.0.11:5061");
	ck_assert_ptr_null(fake_conn_closed_by_us(user));
}
END_TEST

/* More [pool] connections start new links at once; fewer close the links
 * beyond, which are not made again. */
START_TEST(test_pool_connections_changed)
{
	static const char pool_two[] = "fqdn = pool1.example.test\n"
				       "relay = 127.0.0.10:5061\n"
				       "connections = 2\n";
	start("", pool_one, NULL, "");
	unsigned connects = fake_conn_connects();
	reload("", pool_two, NULL, "");
	ck_assert_uint_eq(fake_conn_connects(), connects + 1);
	struct conn *second = fake_conn_last_connected();
	fake_conn_ready(second);
	ck_assert_ptr_null(fake_conn_closed_by_us(pool_conn));

	reload("", pool_one, NULL, "");
	ck_assert_ptr_null(fake_conn_closed_by_us(pool_conn));
	ck_assert_str_eq(fake_conn_closed_by_us(second), "Pool Link Removed");
	fake_conn_drop(second, "closed");
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(fake_conn_connects(), connects + 1);
	ck_assert_uint_eq(sip_protocol.all_connections(state), 1);
}
END_TEST

/* A pool server whose name leaves [pool] fqdn loses its connection to the
 * internal listener; one still named keeps its own. */
START_TEST(test_pool_name_removed)
{
	static const char two_names[] = "fqdn = pool1.example.test, pool2.example.test\n"
					"relay = 127.0.0.10:5061\n"
					"connections = 1\n";
	start("", two_names, NULL, "");
	struct conn *one = accept_from("internal", "127.0.0.10", 40000, "pool1.example.test");
	struct conn *two = accept_from("internal", "127.0.0.11", 40000, "pool2.example.test");

	reload("", pool_one, NULL, "");
	ck_assert_ptr_null(fake_conn_closed_by_us(one));
	ck_assert_str_eq(fake_conn_closed_by_us(two), "Pool Member Removed");
}
END_TEST

/* ---- limits and counts ---- */

/* Connections open before a reload keep their places in their role's
 * budget (fakes hold none: two members stand for them, as conn.c joins
 * them): a higher limit lets one more in, the same limit again does not. */
START_TEST(test_budget_counts_carry_over)
{
	start("", pool_one, NULL, "[limits]\nmax_connections_access = 2\n");
	struct conn_budget_member members[2];
	struct sockaddr_storage peer;
	int peer_len = address_parse("192.0.2.9", 40000, &peer);
	for (int i = 0; i < 2; i++)
		ck_assert(conn_budget_join(&context()->budgets[ROLE_ACCESS], &members[i], NULL,
					   (struct sockaddr *)&peer, false));
	sip_protocol.accept(state, listener("access"), -1, (struct sockaddr *)&peer, peer_len);
	ck_assert_uint_eq(sip_protocol.open_connections(state, ROLE_ACCESS), 0);

	reload("", pool_one, NULL, "[limits]\nmax_connections_access = 3\n");
	accept_from("access", "192.0.2.1", 40000, NULL);
	reload("", pool_one, NULL, "[limits]\nmax_connections_access = 2\n");
	sip_protocol.accept(state, listener("access"), -1, (struct sockaddr *)&peer, peer_len);
	ck_assert_uint_eq(sip_protocol.open_connections(state, ROLE_ACCESS), 1);
	ck_assert_int_eq(metric("sxedge_connections_refused_total{protocol=\"sip\",role=\"access\","
				"reason=\"connection_limit\"}"),
			 2);
	for (int i = 0; i < 2; i++)
		conn_budget_leave(&members[i]);
}
END_TEST

/* A smaller sip_max_message applies to connections made after the reload;
 * one made before goes on under the limit it was made with. */
START_TEST(test_message_limit_for_new_connections)
{
	start("", pool_one, NULL, "[limits]\nsip_max_message = 4096\nsip_max_line = 4096\n");
	struct conn *before = accept_from("access", "192.0.2.1", 40000, NULL);
	reload("", pool_one, NULL, "[limits]\nsip_max_message = 1024\nsip_max_line = 1024\n");
	struct conn *after = accept_from("access", "192.0.2.2", 40000, NULL);

	send_message(before, "example.test", "limit-1", 1500);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(pool_conn), "Call-ID: limit-1\r\n"));
	ck_assert_ptr_null(fake_conn_closed_by_us(before));
	send_message(after, "example.test", "limit-2", 1500);
	ck_assert_ptr_null(strstr(fake_conn_output(pool_conn), "Call-ID: limit-2\r\n"));
	ck_assert_ptr_nonnull(fake_conn_closed_by_us(after));
}
END_TEST

/* ---- flow tokens ---- */

static const char secret_a[] = "flow_secret = "
			       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
static const char secret_b[] = "flow_secret = "
			       "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";

static const char secret_c[] = "flow_secret = "
			       "0000000000000000000000000000000000000000000000000000000000000001\n";

/* The pool reaches USER by a flow token made before the reload. */
static void assert_reached_by_token(struct conn *user, const char *token, const char *call_id)
{
	char route[160];
	snprintf(route, sizeof(route), "Route: <sip:%s@127.0.0.2:5061;transport=tls;lr>\r\n",
		 token);
	fake_conn_clear_output(pool_conn);
	pool_sends("sip:alice@192.0.2.1:40000;transport=tls", call_id, route);
	ck_assert_str_eq(fake_conn_output(pool_conn), "");
	ck_assert_ptr_nonnull(strstr(fake_conn_output(user), call_id));
}

/* A flow secret the operator changed: tokens sealed with the previous one
 * still reach their users, and new tokens use the new one. */
START_TEST(test_changed_flow_secret_keeps_tokens)
{
	start(secret_a, pool_one, NULL, "");
	struct conn *user = accept_from("access", "192.0.2.1", 40000, NULL);
	char token[FLOW_TOKEN_LEN + 1];
	flow_token_seal(&context()->flow_key, conn_id(user), token);

	reload(secret_b, pool_one, NULL, "");
	uint64_t id;
	ck_assert_int_eq(flow_token_open(&context()->flow_key, token, FLOW_TOKEN_LEN, &id),
			 FLOW_OPEN_FORGED);
	assert_reached_by_token(user, token, "secret-1");
	/* Only the one before is kept: two changes on, the token is forged. */
	reload(secret_c, pool_one, NULL, "");
	fake_conn_clear_output(user);
	fake_conn_clear_output(pool_conn);
	char route[160];
	snprintf(route, sizeof(route), "Route: <sip:%s@127.0.0.2:5061;transport=tls;lr>\r\n",
		 token);
	pool_sends("sip:alice@192.0.2.1:40000;transport=tls", "secret-2", route);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(pool_conn), "403 Invalid Flow Token"));
}
END_TEST

/* Without flow_secret, the random one made at start stays. */
START_TEST(test_random_flow_secret_kept)
{
	start("", pool_one, NULL, "");
	struct conn *user = accept_from("access", "192.0.2.1", 40000, NULL);
	char token[FLOW_TOKEN_LEN + 1];
	flow_token_seal(&context()->flow_key, conn_id(user), token);

	reload("node_id = 1\n", pool_one, "", partners);
	uint64_t id = 0;
	ck_assert_int_eq(flow_token_open(&context()->flow_key, token, FLOW_TOKEN_LEN, &id),
			 FLOW_OPEN_OK);
	ck_assert_uint_eq(id, conn_id(user));
	ck_assert_ptr_null(context()->edge.previous_flow_key);
	assert_reached_by_token(user, token, "random-1");
}
END_TEST

/* A new node id with the random secret kept: the token sealed under the old
 * node id, stale to the new key, still reaches its user. */
START_TEST(test_node_id_changed_keeps_tokens)
{
	start("", pool_one, NULL, "");
	struct conn *user = accept_from("access", "192.0.2.1", 40000, NULL);
	char token[FLOW_TOKEN_LEN + 1];
	flow_token_seal(&context()->flow_key, conn_id(user), token);

	reload("node_id = 2\n", pool_one, NULL, "");
	ck_assert_int_eq(flow_token_open(&context()->flow_key, token, FLOW_TOKEN_LEN, NULL),
			 FLOW_OPEN_STALE);
	assert_reached_by_token(user, token, "node-1");
}
END_TEST

/* A token of an earlier boot under the current secret stays stale (430:
 * the pool tries the user's other flow) though the key before, of another
 * secret, finds it forged. */
START_TEST(test_stale_token_stays_stale)
{
	static const unsigned char secret[FLOW_SECRET_SIZE] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
		0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
		0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	}; /* secret_a's */
	start(secret_b, pool_one, NULL, "");
	reload(secret_a, pool_one, NULL, "");
	struct flow_key earlier;
	ck_assert_int_eq(flow_key_init(&earlier, secret, 1, context()->flow_key.boot_id + 1), 0);
	char token[FLOW_TOKEN_LEN + 1], route[160];
	flow_token_seal(&earlier, 7, token);
	flow_key_clear(&earlier);
	snprintf(route, sizeof(route), "Route: <sip:%s@127.0.0.2:5061;transport=tls;lr>\r\n",
		 token);
	pool_sends("sip:alice@192.0.2.1:40000;transport=tls", "stale-1", route);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(pool_conn), "SIP/2.0 430 Flow Failed\r\n"));
}
END_TEST

/* ---- the federation listener ---- */

/* A federation listener added by a reload brings the resolver and the
 * partner links; removed, its connections and links close and the
 * resolver ends; added again, it works again. */
START_TEST(test_federation_added_and_removed)
{
	start("", pool_one, NULL, "");
	ck_assert_ptr_null(context()->dns);
	ck_assert_ptr_null(context()->federation);

	reload("", pool_one, "", partners);
	ck_assert_ptr_nonnull(context()->dns);
	ck_assert_ptr_nonnull(context()->federation);
	struct conn *link = partner_link("partner.test", "sip.partner.test");
	struct conn *partner = accept_from("federation", "127.0.0.20", 40000, "sip.partner.test");
	send_message(partner, "partner.test", "added-1", 0);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(pool_conn), "Call-ID: added-1\r\n"));

	reload("", pool_one, NULL, "");
	ck_assert_ptr_null(context()->dns);
	ck_assert_str_eq(fake_conn_closed_by_us(partner), "Federation Removed");
	ck_assert_str_eq(fake_conn_closed_by_us(link), "Federation Removed");
	fake_conn_drop(partner, "closed");
	fake_conn_drop(link, "closed");
	ck_assert_uint_eq(sip_protocol.all_connections(state), 1);

	reload("", pool_one, "", partners);
	struct conn *again = partner_link("partner.test", "sip.partner.test");
	ck_assert_ptr_null(fake_conn_closed_by_us(again));
}
END_TEST

/* A DNS server that never answers, on 127.0.0.1: its port. */
static int silent_dns(uint16_t *port)
{
	struct sockaddr_in address = { .sin_family = AF_INET };
	socklen_t length = sizeof(address);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&address, sizeof(address)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
	*port = ntohs(address.sin_port);
	return fd;
}

/* Did the server on FD get a query naming LABEL within a second? */
static bool asked_for(int fd, const char *label)
{
	for (int turn = 0; turn < 20; turn++) {
		unsigned char query[512];
		event_base_loop(base, EVLOOP_NONBLOCK);
		struct pollfd wait = { .fd = fd, .events = POLLIN };
		if (poll(&wait, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, query, sizeof(query), 0);
		if (n > 0 && memmem(query, (size_t)n, label, strlen(label)) != NULL)
			return true;
	}
	return false;
}

/* A new dns_server: look-ups under way, a partner link's and an accepted
 * connection's, ask the new server. */
START_TEST(test_dns_server_changed)
{
	uint16_t first_port, second_port;
	int first = silent_dns(&first_port), second = silent_dns(&second_port);
	char federation[2][80];
	snprintf(federation[0], sizeof(federation[0]), "open = yes\ndns_server = 127.0.0.1:%u\n",
		 first_port);
	snprintf(federation[1], sizeof(federation[1]), "open = yes\ndns_server = 127.0.0.1:%u\n",
		 second_port);
	static const char slow[] = "[partner slow.test]\nedge = sip.slow.test\n";
	start("", pool_one, federation[0], slow);
	pool_sends("sip:bob@slow.test", "dns-1", NULL);
	ck_assert(asked_for(first, "slow"));
	struct conn *stranger = accept_from("federation", "127.0.0.30", 40000, "sip.unknown.test");
	send_message(stranger, "unknown.test", "dns-2", 0);
	ck_assert(asked_for(first, "unknown"));

	reload("", pool_one, federation[1], slow);
	ck_assert(asked_for(second, "slow"));
	ck_assert(asked_for(second, "unknown"));
	ck_assert_ptr_null(fake_conn_closed_by_us(stranger));
	close(first);
	close(second);
}
END_TEST

/* ---- many reloads ---- */

/* Fifty reloads back and forth between two configurations while
 * connections come and go: everything keeps working, and (under ASan) no
 * snapshot, handle or resolver is left behind. */
START_TEST(test_many_reloads)
{
	start(secret_a, pool_one, "", partners);
	for (int i = 0; i < 50; i++) {
		struct conn *user = accept_from("access", "192.0.2.1", (uint16_t)(40000 + i), NULL);
		if (i % 2 == 0) {
			struct conn *partner =
				accept_from("federation", "127.0.0.20", 40000, "sip.partner.test");
			send_message(partner, "partner.test", "many", 0);
			reload(secret_b,
			       "fqdn = pool1.example.test\nrelay = 127.0.0.11:5061\n"
			       "connections = 2\n",
			       NULL, "");
		} else {
			install_certificate(i % 4 == 1 ? "other" : "edge");
			reload(secret_a, pool_one, "", partners);
		}
		/* What the reload closed is gone once its peer saw the close. */
		fake_conn_drop_closed();
		fake_conn_drop(user, "closed");
		pool_conn = fake_conn_last_connected();
		fake_conn_ready(pool_conn);
	}
	ck_assert_uint_eq(context()->inbound[ROLE_ACCESS], 0);
}
END_TEST

static Suite *sip_reload_suite(void)
{
	Suite *suite = suite_create("sip_reload");
	TCase *tls = tcase_create("tls");
	tcase_add_checked_fixture(tls, setup, teardown);
	tcase_add_test(tls, test_renewed_certificate);
	tcase_add_test(tls, test_unreadable_key_refused);
	tcase_add_test(tls, test_abort_changes_nothing);
	suite_add_tcase(suite, tls);
	TCase *partner = tcase_create("partners");
	tcase_add_checked_fixture(partner, setup, teardown);
	tcase_add_test(partner, test_partner_blocked_loses_links);
	tcase_add_test(partner, test_partner_removed_loses_links);
	tcase_add_test(partner, test_partner_pin_changed);
	tcase_add_test(partner, test_partner_rate_bucket_carries_over);
	tcase_add_test(partner, test_federation_added_and_removed);
	tcase_add_test(partner, test_dns_server_changed);
	suite_add_tcase(suite, partner);
	TCase *pool = tcase_create("pool");
	tcase_add_checked_fixture(pool, setup, teardown);
	tcase_add_test(pool, test_pool_member_replaced);
	tcase_add_test(pool, test_pool_connections_changed);
	tcase_add_test(pool, test_pool_name_removed);
	suite_add_tcase(suite, pool);
	TCase *limits = tcase_create("limits");
	tcase_add_checked_fixture(limits, setup, teardown);
	tcase_add_test(limits, test_budget_counts_carry_over);
	tcase_add_test(limits, test_message_limit_for_new_connections);
	tcase_add_test(limits, test_changed_flow_secret_keeps_tokens);
	tcase_add_test(limits, test_random_flow_secret_kept);
	tcase_add_test(limits, test_node_id_changed_keeps_tokens);
	tcase_add_test(limits, test_stale_token_stays_stale);
	tcase_add_test(limits, test_many_reloads);
	suite_add_tcase(suite, limits);
	return suite;
}

int main(void)
{
	if (mkdtemp(scratch) == NULL)
		return EXIT_FAILURE;
	sip_protocol.process_init();
	snprintf(certificate, sizeof(certificate), "%s/edge.crt", scratch);
	snprintf(key, sizeof(key), "%s/edge.key", scratch);
	int result = test_suite_run(sip_reload_suite());
	unlink(certificate);
	unlink(key);
	rmdir(scratch);
	return result;
}
