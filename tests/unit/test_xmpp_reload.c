/* SPDX-License-Identifier: ISC */
/* Unit tests for xmpp_reload, through the XMPP protocol entry over fake
 * connections: a worker's XMPP state built from one configuration, with
 * partners' streams negotiated on it, then another configuration prepared
 * and committed (or aborted).  A partner removed or blocked loses its
 * streams, public and internal, each with a stream error and its named,
 * counted reason; the others go on; a certificate renewed at the same path
 * is read again; new limits reach new streams only; counts, rate buckets
 * and a random dialback secret carry over; a key being verified goes with
 * its partner; listeners go and come back; an abort changes nothing; and
 * the snapshot a reload replaced is given back however many reloads there
 * are. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "address.h"
#include "fake_conn.h"
#include "namespaces.h"
#include "protocols.h"
#include "test_pki.h"
#include "test_suite.h"
#include "xmpp_context.h"
#include "xmpp_protocol.h"
#include "xmpp_stream.h"

#define OURS "example.test"

static char dir[] = "/tmp/sxedge-test-xmpp-reload.XXXXXX";
static struct event_base *base;
static struct metrics *registry;
static struct xmpp_context *context; /* the protocol's state */
static const struct sxedge_config *first; /* what it was built from */

/* ---- configurations ---- */

/* What differs between the configurations of a test. */
struct variant {
	const char *partners; /* [xmpp] partners */
	const char *xmpp; /* more [xmpp] lines */
	const char *federation; /* [federation] lines; NULL: its resolver only */
	const char *limits; /* [limits] lines */
	unsigned public_port; /* 0: no XMPP listener, no [xmpp] */
};

static const struct variant base_variant = {
	.partners = "partner.test, other.test",
	.public_port = 5269,
};

static void copy_file(const char *from_pki, const char *to)
{
	char *from = test_pki_path(from_pki), path[128], text[8192];
	FILE *in = fopen(from, "r");
	ck_assert_ptr_nonnull(in);
	size_t length = fread(text, 1, sizeof(text), in);
	fclose(in);
	free(from);
	snprintf(path, sizeof(path), "%s/%s", dir, to);
	FILE *out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(text, 1, length, out), length);
	fclose(out);
}

static const struct sxedge_config *load(const struct variant *variant)
{
	char *certificate = test_pki_path("edge.crt"), *key = test_pki_path("edge.key");
	char *ca = test_pki_path("ca.crt");
	char *link_ca = test_pki_path("link-ca.crt"), *link_key = test_pki_path("link-ca.key");
	char path[128], xmpp[4096] = "";
	static char text[8192];

	if (variant->public_port != 0)
		snprintf(xmpp, sizeof(xmpp),
			 "[listener xmpp-public]\nrole = xmpp_federation\naddress = 127.0.0.1\n"
			 "port = %u\ncertificate = %s/public.crt\nkey = %s/public.key\n"
			 "ca_file = %s\n"
			 "[listener xmpp-internal]\nrole = xmpp_internal\naddress = 127.0.0.3\n"
			 "port = 23456\ncertificate = %s\nkey = %s\nca_file = %s\n"
			 "[xmpp]\npartners = %s\nlink_ca_certificate = %s\nlink_ca_key = %s\n"
			 "internal_server = 127.0.0.4:5270\nstanza_rate = 1\n%s"
			 "[federation]\n%s",
			 variant->public_port, dir, dir, ca, certificate, key, ca,
			 variant->partners, link_ca, link_key,
			 variant->xmpp != NULL ? variant->xmpp : "",
			 variant->federation != NULL ? variant->federation
						     : "dns_server = 127.0.0.1:53000\n");
	snprintf(text, sizeof(text),
		 "[global]\ndomains = " OURS "\n"
		 "[listener access]\nrole = access\naddress = 127.0.0.1\nport = 443\n"
		 "certificate = %s\nkey = %s\n"
		 "[listener internal]\nrole = internal\naddress = 127.0.0.2\nport = 5061\n"
		 "certificate = %s\nkey = %s\nca_file = %s\nclient_certificate = required\n"
		 "[pool]\nfqdn = pool1.example.test\nrelay = 127.0.0.10:5061\n"
		 "%s%s",
		 certificate, key, certificate, key, ca, xmpp,
		 variant->limits != NULL ? variant->limits : "");
	snprintf(path, sizeof(path), "%s/sxedge.conf", dir);
	FILE *file = fopen(path, "w");
	ck_assert_ptr_nonnull(file);
	fputs(text, file);
	fclose(file);
	const struct sxedge_config *config = config_load(path, stderr, &sxedge_protocols.schema);
	ck_assert_ptr_nonnull(config);
	free(certificate);
	free(key);
	free(ca);
	free(link_ca);
	free(link_key);
	return config;
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	copy_file("edge.crt", "public.crt");
	copy_file("edge.key", "public.key");
	base = event_base_new();
	registry = metrics_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_ptr_nonnull(registry);
	first = load(&base_variant);
	context = xmpp_protocol.worker_new(base, first, registry, stderr);
	ck_assert_ptr_nonnull(context);
}

static void teardown(void)
{
	char path[128];

	xmpp_protocol.worker_free(context);
	fake_conn_free_all();
	config_unref(first);
	metrics_free(registry);
	event_base_free(base);
	for (const char *const *name =
		     (const char *const[]){ "public.crt", "public.key", "sxedge.conf", NULL };
	     *name != NULL; name++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *name);
		unlink(path);
	}
	rmdir(dir);
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

/* Prepares and commits CONFIG (the caller's reference stays its own). */
static void reload(const struct sxedge_config *config)
{
	void *pending = xmpp_protocol.reload_prepare(context, config, stderr);
	ck_assert_ptr_nonnull(pending);
	xmpp_protocol.reload_commit(context, pending);
}

static unsigned references(const struct sxedge_config *config)
{
	return atomic_load(&config->references);
}

/* The value of SERIES on the metrics page; -1 when it has no such line. */
static long long metric(const char *series)
{
	struct evbuffer *page = evbuffer_new();
	long long value = -1;

	ck_assert_int_eq(metrics_render(registry, page), 0);
	evbuffer_add(page, "", 1);
	const char *text = (const char *)evbuffer_pullup(page, -1);
	char start[256];
	snprintf(start, sizeof(start), "\n%s ", series);
	const char *line = strstr(text, start);
	if (line != NULL)
		value = strtoll(line + strlen(start), NULL, 10);
	evbuffer_free(page);
	return value;
}

#define REFUSALS(reason) metric("sxedge_xmpp_stream_refusals_total{reason=\"" reason "\"}")

/* ---- streams ---- */

static char header[512];

static const char *partner_header(const char *partner)
{
	snprintf(header, sizeof(header),
		 "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
		 "xmlns:stream='http://etherx.jabber.org/streams' "
		 "xmlns:db='jabber:server:dialback' to='" OURS "' from='%s' version='1.0'>",
		 partner);
	return header;
}

/* A stream PARTNER opened to 5269, authenticated by its certificate
 * (SASL EXTERNAL) and ready: its conn. */
static struct conn *partner_stream(const char *partner, unsigned short port)
{
	struct sockaddr_storage peer;
	int length = address_parse("192.0.2.7", port, &peer);

	xmpp_protocol.accept(context,
			     config_listener(context->settings.config, ROLE_XMPP_FEDERATION), -1,
			     (struct sockaddr *)&peer, length);
	struct conn *conn = fake_conn_newest();
	fake_conn_receive(conn, partner_header(partner));
	fake_conn_receive(conn, "<starttls xmlns='" XMPP_TLS_NAMESPACE "'/>");
	ck_assert_ptr_nonnull(strstr(fake_conn_output(conn), "<proceed"));
	fake_conn_set_peer_names(conn, (const char *const[]){ partner }, 1);
	fake_conn_ready(conn);
	fake_conn_receive(conn, partner_header(partner));
	fake_conn_receive(conn,
			  "<auth xmlns='" XMPP_SASL_NAMESPACE "' mechanism='EXTERNAL'>=</auth>");
	fake_conn_receive(conn, partner_header(partner));
	ck_assert_ptr_nonnull(strstr(fake_conn_output(conn), "<success"));
	fake_conn_clear_output(conn);
	return conn;
}

/* The edge's stream to the internal server, answering as PARTNER, with TLS
 * up and its header sent: its conn. */
static struct conn *inward_stream(const char *partner)
{
	ck_assert_ptr_nonnull(xmpp_stream_open(context, XMPP_OUT_INTERNAL, partner, OURS));
	event_base_loop(base, EVLOOP_NONBLOCK); /* its first connect */
	struct conn *conn = fake_conn_last_connected();
	ck_assert_ptr_nonnull(conn);
	fake_conn_set_peer_names(conn, (const char *const[]){ OURS }, 1);
	fake_conn_ready(conn);
	ck_assert_ptr_nonnull(strstr(fake_conn_output(conn), "<stream:stream"));
	fake_conn_clear_output(conn);
	return conn;
}

static void assert_dropped(struct conn *conn, const char *condition, const char *reason)
{
	char element[128];
	snprintf(element, sizeof(element), "<%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
		 condition);
	ck_assert_msg(strstr(fake_conn_output(conn), element) != NULL, "no %s in %s", element,
		      fake_conn_output(conn));
	ck_assert_pstr_eq(fake_conn_closed_by_us(conn), reason);
}

static void assert_untouched(struct conn *conn)
{
	ck_assert_ptr_null(strstr(fake_conn_output(conn), "stream:error"));
	ck_assert_ptr_null(fake_conn_closed_by_us(conn));
	ck_assert(conn_ready(conn));
}

/* ---- tests ---- */

START_TEST(test_partner_removed_loses_its_streams)
{
	struct conn *removed = partner_stream("partner.test", 40000);
	struct conn *stays = partner_stream("other.test", 40001);
	struct conn *inward = inward_stream("partner.test");
	struct conn *inward_stays = inward_stream("other.test");
	ck_assert_ptr_nonnull(xmpp_stream_open(context, XMPP_OUT_PUBLIC, OURS, "partner.test"));
	ck_assert_ptr_nonnull(xmpp_stream_open(context, XMPP_OUT_PUBLIC, OURS, "other.test"));
	ck_assert_uint_eq(xmpp_streams_count(context, XMPP_IN_PUBLIC, true), 2);
	ck_assert_uint_eq(context->inbound[ROLE_XMPP_FEDERATION], 2);

	struct variant variant = base_variant;
	variant.partners = "other.test";
	const struct sxedge_config *next = load(&variant);
	reload(next);

	assert_dropped(removed, "policy-violation", "partner_removed");
	assert_dropped(inward, "policy-violation", "partner_removed");
	assert_untouched(stays);
	assert_untouched(inward_stays);
	/* the one still resolving is given up (from the loop), the other not */
	ck_assert_uint_eq(xmpp_streams_count(context, XMPP_OUT_PUBLIC, false), 1);
	ck_assert_uint_eq(REFUSALS("partner_removed"), 3);
	ck_assert_uint_eq(xmpp_streams_count(context, XMPP_IN_PUBLIC, true), 1);
	ck_assert_uint_eq(xmpp_streams_count(context, XMPP_OUT_INTERNAL, false), 1);
	/* counted until it is gone, as any stream */
	ck_assert_uint_eq(context->inbound[ROLE_XMPP_FEDERATION], 2);
	fake_conn_drop(removed, "closed");
	ck_assert_uint_eq(context->inbound[ROLE_XMPP_FEDERATION], 1);
	/* and it cannot come back */
	struct conn *again = fake_conn_newest();
	xmpp_protocol.accept(
		context, config_listener(next, ROLE_XMPP_FEDERATION), -1,
		(const struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET },
		sizeof(struct sockaddr_in));
	ck_assert_ptr_ne(fake_conn_newest(), again);
	fake_conn_receive(fake_conn_newest(), partner_header("partner.test"));
	ck_assert_ptr_nonnull(strstr(fake_conn_output(fake_conn_newest()), "<policy-violation"));
	config_unref(next);
}
END_TEST

/* A partner's stream still proving itself by dialback: the verification in
 * flight goes with the partner. */
START_TEST(test_partner_removed_while_its_key_is_verified)
{
	struct sockaddr_storage peer;
	int length = address_parse("192.0.2.9", 40000, &peer);

	xmpp_protocol.accept(context, config_listener(first, ROLE_XMPP_FEDERATION), -1,
			     (struct sockaddr *)&peer, length);
	struct conn *asking = fake_conn_newest();
	fake_conn_receive(asking, partner_header("partner.test"));
	fake_conn_receive(asking, "<starttls xmlns='" XMPP_TLS_NAMESPACE "'/>");
	fake_conn_ready(asking); /* a certificate naming nobody: dialback it is */
	fake_conn_receive(asking, partner_header("partner.test"));
	fake_conn_receive(asking, "<db:result from='partner.test' to='" OURS
				  "'>0123456789abcdef</db:result>");
	/* asked over the edge's own stream to the partner, still resolving */
	ck_assert_uint_eq(xmpp_streams_count(context, XMPP_OUT_PUBLIC, false), 1);
	fake_conn_clear_output(asking);

	struct variant variant = base_variant;
	variant.partners = "other.test";
	const struct sxedge_config *next = load(&variant);
	reload(next);
	assert_dropped(asking, "policy-violation", "partner_removed");
	ck_assert_uint_eq(REFUSALS("partner_removed"), 2);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(xmpp_streams_count(context, XMPP_OUT_PUBLIC, false), 0);
	config_unref(next);
}
END_TEST

START_TEST(test_partner_blocked_loses_its_streams)
{
	struct conn *blocked = partner_stream("partner.test", 40000);
	struct conn *stays = partner_stream("other.test", 40001);
	struct conn *inward = inward_stream("partner.test");

	struct variant variant = base_variant;
	variant.federation = "dns_server = 127.0.0.1:53000\nblocked = partner.test\n";
	const struct sxedge_config *next = load(&variant);
	reload(next);
	assert_dropped(blocked, "policy-violation", "partner_blocked");
	assert_dropped(inward, "policy-violation", "partner_blocked");
	assert_untouched(stays);
	ck_assert_uint_eq(REFUSALS("partner_blocked"), 2);
	ck_assert_int_eq(REFUSALS("partner_removed"), -1);
	config_unref(next);
}
END_TEST

/* A renewed certificate at the same path: the new handle presents it, the
 * established stream goes on. */
static char *handle_subject(struct tls_server *server)
{
	SSL *ssl = tls_server_open(server);
	ck_assert_ptr_nonnull(ssl);
	char *subject = tls_cert_subject(SSL_get_certificate(ssl));
	SSL_free(ssl);
	return subject;
}

START_TEST(test_certificate_read_again_at_the_same_path)
{
	struct conn *established = partner_stream("partner.test", 40000);
	struct tls_server *old_internal = context->settings.internal_server;
	struct tls_mint *old_mint = context->settings.mint;
	char *before = handle_subject(context->settings.public_server);
	ck_assert_ptr_nonnull(strstr(before, "edge.example.test"));

	copy_file("other.crt", "public.crt");
	copy_file("other.key", "public.key");
	const struct sxedge_config *next = load(&base_variant);
	reload(next);
	char *after = handle_subject(context->settings.public_server);
	ck_assert_ptr_nonnull(strstr(after, "other.example.test"));
	ck_assert_ptr_ne(context->settings.internal_server, old_internal);
	ck_assert_ptr_ne(context->settings.mint, old_mint);
	assert_untouched(established);
	ck_assert_uint_eq(xmpp_streams_count(context, XMPP_IN_PUBLIC, true), 1);
	free(before);
	free(after);
	config_unref(next);
}
END_TEST

/* A file that cannot be read: refused with its FILE:LINE, nothing changed. */
START_TEST(test_unreadable_certificate_refused)
{
	struct tls_server *running = context->settings.public_server;
	char *text = NULL, path[128];
	size_t size = 0;

	const struct sxedge_config *next = load(&base_variant);
	snprintf(path, sizeof(path), "%s/public.crt", dir);
	FILE *file = fopen(path, "w");
	fputs("not a certificate\n", file);
	fclose(file);
	FILE *errors = open_memstream(&text, &size);
	ck_assert_ptr_null(xmpp_protocol.reload_prepare(context, next, errors));
	fclose(errors);
	const struct listener_config *listener = config_listener(next, ROLE_XMPP_FEDERATION);
	char where[256];
	snprintf(where, sizeof(where), "%s:%d: listener xmpp-public: ", next->path, listener->line);
	ck_assert_msg(strncmp(text, where, strlen(where)) == 0, "%s", text);
	ck_assert_ptr_eq(context->settings.public_server, running);
	ck_assert_ptr_eq(context->settings.config, first);
	free(text);
	config_unref(next);
}
END_TEST

START_TEST(test_new_limits_reach_new_streams_only)
{
	struct conn *established = partner_stream("partner.test", 40000);
	char stanza[5000];
	int length = snprintf(stanza, sizeof(stanza),
			      "<message from='a@partner.test' to='b@" OURS "'><body>");
	memset(stanza + length, 'x', 4096);
	strcpy(stanza + length + 4096, "</body></message>");

	struct variant variant = base_variant;
	variant.xmpp = "max_stanza = 2048\n";
	variant.limits = "[limits]\nmax_connections_xmpp_federation = 7\n";
	variant.federation = "dns_server = 127.0.0.1:53000\nmax_connections_per_address = 3\n";
	const struct sxedge_config *next = load(&variant);
	reload(next);
	ck_assert_uint_eq(context->budgets[ROLE_XMPP_FEDERATION].max, 7);
	ck_assert_uint_eq(context->budgets[ROLE_XMPP_FEDERATION].max_per_address, 3);
	ck_assert_uint_eq(context->inbound[ROLE_XMPP_FEDERATION], 1);
	/* the established stream's parser keeps 256 KiB */
	fake_conn_receive(established, stanza);
	assert_untouched(established);
	/* a new one has 2 KiB */
	struct sockaddr_storage peer;
	int peer_length = address_parse("192.0.2.8", 40002, &peer);
	xmpp_protocol.accept(context, config_listener(next, ROLE_XMPP_FEDERATION), -1,
			     (struct sockaddr *)&peer, peer_length);
	struct conn *fresh = fake_conn_newest();
	fake_conn_receive(fresh, partner_header("partner.test"));
	fake_conn_receive(fresh, stanza);
	assert_dropped(fresh, "policy-violation", "xml_over_limit");
	config_unref(next);
}
END_TEST

START_TEST(test_abort_changes_nothing)
{
	struct conn *established = partner_stream("partner.test", 40000);
	struct xmpp_settings running = context->settings;
	struct dns *dns = context->dns;

	copy_file("other.crt", "public.crt");
	copy_file("other.key", "public.key");
	struct variant variant = base_variant;
	variant.partners = "other.test";
	variant.xmpp = "max_stanza = 2048\n";
	variant.federation = "dns_server = 127.0.0.1:53001\n";
	const struct sxedge_config *next = load(&variant);
	void *pending = xmpp_protocol.reload_prepare(context, next, stderr);
	ck_assert_ptr_nonnull(pending);
	ck_assert_uint_eq(references(next), 2);
	xmpp_protocol.reload_abort(context, pending);
	ck_assert_uint_eq(references(next), 1);
	ck_assert_mem_eq(&context->settings, &running, sizeof(running));
	ck_assert_ptr_eq(context->dns, dns);
	assert_untouched(established);
	ck_assert_int_eq(REFUSALS("partner_removed"), -1);
	ck_assert(xmpp_context_partner_allowed(context, "partner.test"));
	config_unref(next);
}
END_TEST

/* Counts, the buckets of partners that stay, and a random secret. */
START_TEST(test_what_carries_over)
{
	char secret[sizeof(context->dialback_secret)];
	memcpy(secret, context->dialback_secret, sizeof(secret));
	ck_assert(xmpp_context_take_stanza(context, "other.test"));
	ck_assert(!xmpp_context_take_stanza(context, "other.test"));
	ck_assert(xmpp_context_take_stanza(context, "partner.test"));
	ck_assert_uint_eq(context->n_rates, 2);
	long long rate_limited = metric("sxedge_xmpp_stanzas_rate_limited_total");
	ck_assert_int_eq(rate_limited, 1);

	struct variant variant = base_variant;
	variant.partners = "other.test";
	const struct sxedge_config *next = load(&variant);
	reload(next);
	ck_assert_str_eq(context->dialback_secret, secret);
	/* other.test's bucket is still empty; partner.test's is gone */
	ck_assert_uint_eq(context->n_rates, 1);
	ck_assert(!xmpp_context_take_stanza(context, "other.test"));
	ck_assert_int_eq(metric("sxedge_xmpp_stanzas_rate_limited_total"), 2);

	/* a secret of the operator's is taken */
	variant.xmpp = "dialback_secret = "
		       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	const struct sxedge_config *configured = load(&variant);
	reload(configured);
	ck_assert_str_eq(context->dialback_secret,
			 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	config_unref(next);
	config_unref(configured);
}
END_TEST

START_TEST(test_listeners_removed_then_added)
{
	struct conn *partner = partner_stream("partner.test", 40000);
	struct conn *inward = inward_stream("partner.test");

	/* moved: what it accepted ends, the edge's own streams go on */
	struct variant moved = base_variant;
	moved.public_port = 5270;
	const struct sxedge_config *next = load(&moved);
	reload(next);
	assert_dropped(partner, "system-shutdown", "listener_removed");
	assert_untouched(inward);
	config_unref(next);

	struct variant none = base_variant;
	none.public_port = 0;
	next = load(&none);
	reload(next);
	assert_dropped(inward, "system-shutdown", "listener_removed");
	ck_assert_ptr_null(context->settings.public_server);
	ck_assert_ptr_null(context->settings.internal_server);
	ck_assert_ptr_null(context->settings.mint);
	ck_assert_ptr_null(context->dns);
	ck_assert_ptr_null(xmpp_stream_open(context, XMPP_OUT_PUBLIC, OURS, "partner.test"));
	config_unref(next);

	next = load(&base_variant);
	reload(next);
	ck_assert_ptr_nonnull(context->settings.public_server);
	ck_assert_ptr_nonnull(context->dns);
	struct conn *back = partner_stream("partner.test", 40001);
	assert_untouched(back);
	ck_assert_ptr_nonnull(xmpp_stream_open(context, XMPP_OUT_PUBLIC, OURS, "partner.test"));
	inward_stream("other.test");
	config_unref(next);
}
END_TEST

/* Reloads back and forth with streams and look-ups in flight (the
 * resolver replaced each time): every snapshot replaced is given back, and
 * under ASan nothing leaks. */
START_TEST(test_many_reloads_keep_nothing)
{
	struct variant variants[2] = { base_variant, base_variant };
	variants[1].federation = "dns_server = 127.0.0.1:53001\nblocked = partner.test\n";
	const struct sxedge_config *previous = NULL;

	for (int i = 0; i < 60; i++) {
		partner_stream("other.test", (unsigned short)(40000 + i));
		if (i % 2 == 1) /* to be blocked by this reload */
			partner_stream("partner.test", (unsigned short)(41000 + i));
		ck_assert_ptr_nonnull(
			xmpp_stream_open(context, XMPP_OUT_PUBLIC, OURS, "other.test"));
		const struct sxedge_config *next = load(&variants[i % 2]);
		reload(next);
		event_base_loop(base, EVLOOP_NONBLOCK);
		ck_assert_uint_eq(references(next), 2);
		if (previous != NULL) {
			ck_assert_uint_eq(references(previous), 1);
			config_unref(previous);
		}
		previous = next;
	}
	ck_assert_uint_eq(references(first), 1);
	ck_assert_uint_eq(REFUSALS("partner_blocked"), 30);
	config_unref(previous);
}
END_TEST

static Suite *xmpp_reload_suite(void)
{
	Suite *suite = suite_create("xmpp_reload");
	TCase *tcase = tcase_create("reload");
	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_set_timeout(tcase, 30);
	tcase_add_test(tcase, test_partner_removed_loses_its_streams);
	tcase_add_test(tcase, test_partner_removed_while_its_key_is_verified);
	tcase_add_test(tcase, test_partner_blocked_loses_its_streams);
	tcase_add_test(tcase, test_certificate_read_again_at_the_same_path);
	tcase_add_test(tcase, test_unreadable_certificate_refused);
	tcase_add_test(tcase, test_new_limits_reach_new_streams_only);
	tcase_add_test(tcase, test_abort_changes_nothing);
	tcase_add_test(tcase, test_what_carries_over);
	tcase_add_test(tcase, test_listeners_removed_then_added);
	tcase_add_test(tcase, test_many_reloads_keep_nothing);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	test_pki_dir();
	return test_suite_run(xmpp_reload_suite());
}
