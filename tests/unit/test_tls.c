/* SPDX-License-Identifier: ISC */
/* test_tls: Check suite for lib/tls: RFC 6125 name matching, certificate
 * identities, context errors, and real handshakes between two SSL objects
 * joined by an in-memory BIO pair (no sockets, no event loop). */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test_pki.h"
#include "tls.h"
#include "test_suite.h"

/* ---- helpers ---- */

static X509 *load_cert(const char *file)
{
	char *path = test_pki_path(file);
	FILE *in = fopen(path, "r");
	X509 *cert;

	ck_assert_msg(in != NULL, "cannot open %s", path);
	cert = PEM_read_X509(in, NULL, NULL, NULL);
	fclose(in);
	ck_assert_msg(cert != NULL, "cannot read %s", path);
	free(path);
	return cert;
}

/* An unsigned certificate with subject CN and the given dNSName/IP SANs:
 * enough for tls_cert_names, which does not look at signatures.  DNS
 * entries are taken with their LENGTH so they may hold a NUL. */
struct alt_name {
	int type; /* GEN_DNS or GEN_IPADD */
	const char *value;
	int length;
};

static X509 *bare_cert(const char *common_name, const struct alt_name *alt, size_t n_alt)
{
	X509 *cert = X509_new();
	GENERAL_NAMES *names;
	size_t i;

	ck_assert_ptr_nonnull(cert);
	if (common_name != NULL)
		ck_assert(
			X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
						   (const unsigned char *)common_name, -1, -1, 0));
	if (n_alt == 0)
		return cert;
	names = GENERAL_NAMES_new();
	for (i = 0; i < n_alt; i++) {
		GENERAL_NAME *name = GENERAL_NAME_new();
		ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
		ck_assert(ASN1_STRING_set(value, alt[i].value, alt[i].length));
		if (alt[i].type == GEN_DNS) {
			ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
			ck_assert(ASN1_STRING_set(dns, alt[i].value, alt[i].length));
			ASN1_OCTET_STRING_free(value);
			GENERAL_NAME_set0_value(name, GEN_DNS, dns);
		} else {
			GENERAL_NAME_set0_value(name, GEN_IPADD, value);
		}
		sk_GENERAL_NAME_push(names, name);
	}
	ck_assert(X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, 0) == 1);
	GENERAL_NAMES_free(names);
	return cert;
}

static struct listener_config make_listener(enum client_cert_mode mode, bool require_sni)
{
	struct listener_config listener;
	memset(&listener, 0, sizeof(listener));
	listener.name = "internal";
	listener.certificate = test_pki_path("edge.crt");
	listener.key = test_pki_path("edge.key");
	listener.ca_file = test_pki_path("ca.crt");
	listener.client_cert = mode;
	listener.require_sni = require_sni;
	return listener;
}

static void free_listener(struct listener_config *listener)
{
	free(listener->certificate);
	free(listener->key);
	free(listener->ca_file);
}

static const char *const pool_names[] = { "pool1.example.test", "pool2.example.test" };
static const char *const edge_names[] = { "edge.example.test" };

static SSL_CTX *server_context(enum client_cert_mode mode, bool require_sni)
{
	struct listener_config listener = make_listener(mode, require_sni);
	char err[512] = "";
	SSL_CTX *ctx = tls_server_context(&listener, pool_names, 2, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "server context: %s", err);
	free_listener(&listener);
	return ctx;
}

/* A client context presenting BASE.crt/BASE.key (none when BASE is NULL)
 * and trusting TRUST. */
static SSL_CTX *client_context(const char *base, const char *trust)
{
	char cert_file[64], key_file[64], err[512] = "";
	char *certificate = NULL, *key = NULL, *ca_file = test_pki_path(trust);
	SSL_CTX *ctx;

	if (base != NULL) {
		snprintf(cert_file, sizeof(cert_file), "%s.crt", base);
		snprintf(key_file, sizeof(key_file), "%s.key", base);
		certificate = test_pki_path(cert_file);
		key = test_pki_path(key_file);
	}
	ctx = tls_client_context(certificate, key, ca_file, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "client context: %s", err);
	free(certificate);
	free(key);
	free(ca_file);
	return ctx;
}

/* Two SSL objects over a BIO pair; each side's state is 1 (handshake done),
 * -1 (failed, with the earliest OpenSSL error) or 0 (still waiting). */
struct handshake {
	SSL *client;
	SSL *server;
	int client_state;
	int server_state;
	unsigned long client_error;
	unsigned long server_error;
};

/* Joins CLIENT and SERVER, which H takes over. */
static void handshake_join(struct handshake *h, SSL *client, SSL *server)
{
	BIO *client_bio, *server_bio;

	memset(h, 0, sizeof(*h));
	h->client = client;
	h->server = server;
	ck_assert(h->client != NULL && h->server != NULL);
	ck_assert(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1);
	SSL_set_bio(h->client, client_bio, client_bio);
	SSL_set_bio(h->server, server_bio, server_bio);
	SSL_set_connect_state(h->client);
	SSL_set_accept_state(h->server);
}

static void handshake_start(struct handshake *h, SSL_CTX *client_ctx, SSL_CTX *server_ctx)
{
	handshake_join(h, SSL_new(client_ctx), SSL_new(server_ctx));
}

static int handshake_step(SSL *ssl, unsigned long *error)
{
	int result, code;

	ERR_clear_error();
	result = SSL_do_handshake(ssl);
	if (result == 1)
		return 1;
	code = SSL_get_error(ssl, result);
	if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
		return 0;
	*error = ERR_peek_error();
	ERR_clear_error();
	return -1;
}

/* Pumps both sides until neither can move; a side left waiting after the
 * other failed stays 0.  In TLS 1.3 the client finishes before the server
 * has checked the client certificate, so a client may be 1 while the
 * server refused: handshake_client_reads() shows the client learns it. */
static void handshake_run(struct handshake *h)
{
	int round;

	for (round = 0; round < 20; round++) {
		if (h->client_state == 0)
			h->client_state = handshake_step(h->client, &h->client_error);
		if (h->server_state == 0)
			h->server_state = handshake_step(h->server, &h->server_error);
	}
}

static bool handshake_client_reads(struct handshake *h)
{
	char byte;
	int result = SSL_read(h->client, &byte, 1);
	int code = SSL_get_error(h->client, result);
	ERR_clear_error();
	return code == SSL_ERROR_WANT_READ;
}

static void handshake_end(struct handshake *h)
{
	SSL_free(h->client);
	SSL_free(h->server);
}

/* A full handshake: CLIENT_CERT (a test_pki base name or NULL) against a
 * server with MODE, the client sending SNI and expecting EXPECT. */
static void handshake_with(struct handshake *h, const char *client_cert, const char *trust,
			   enum client_cert_mode mode, bool require_sni, const char *sni,
			   const char *expect)
{
	SSL_CTX *client_ctx = client_context(client_cert, trust);
	SSL_CTX *server_ctx = server_context(mode, require_sni);
	const char *names[1] = { expect };

	handshake_start(h, client_ctx, server_ctx);
	ck_assert_int_eq(tls_client_expect(h->client, sni, names, 1), 0);
	handshake_run(h);
	/* The SSL objects hold their own references. */
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(server_ctx);
}

static char *peer_subject(SSL *ssl)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	char *subject = tls_cert_subject(cert);
	X509_free(cert);
	return subject;
}

/* ---- name matching ---- */

struct match_case {
	const char *presented;
	const char *reference;
	bool matches;
};

static const struct match_case match_cases[] = {
	{ "pool1.example.test", "pool1.example.test", true },
	{ "POOL1.Example.TEST", "pool1.example.test", true },
	{ "pool1.example.test", "Pool1.Example.Test", true },
	{ "pool1.example.test", "pool2.example.test", false },
	{ "pool1.example.test", "pool1.example.test.evil", false },
	{ "pool1.example.test", "example.test", false },
	{ "example.test", "pool1.example.test", false },
	{ "pool1.example.test", "pool1.example.test.", true },
	{ "pool1.example.test.", "pool1.example.test", false },
	{ "pool1.example.test", "pool1.example.test..", false },
	{ "*.example.test", "pool1.example.test", true },
	{ "*.EXAMPLE.test", "Pool1.example.TEST.", true },
	{ "*.example.test", "a.b.example.test", false },
	{ "*.example.test", "example.test", false },
	{ "*.example.test", ".example.test", false },
	{ "*.com", "example.com", false },
	{ "*.test", "example.test", false },
	{ "*.co.uk", "example.co.uk", true },
	{ "f*o.example.com", "foo.example.com", false },
	{ "*o.example.com", "foo.example.com", false },
	{ "fo*.example.com", "foo.example.com", false },
	{ "xn--*.example.com", "xn--bcher-kva.example.com", false },
	{ "*.*.example.com", "a.b.example.com", false },
	{ "foo.*.example.com", "foo.bar.example.com", false },
	{ "*", "example", false },
	{ "*.", "example.", false },
	{ "*.0.0.1", "127.0.0.1", false },
	{ "*.example.test", "*.example.test", false },
	{ "", "", false },
	{ "", "example.test", false },
	{ "example.test", "", false },
	{ "example.test", ".", false },
	{ "a..example.test", "a..example.test", false },
};

START_TEST(test_name_matches_table)
{
	const struct match_case *c = &match_cases[_i];
	ck_assert_msg(tls_name_matches(c->presented, c->reference) == c->matches,
		      "presented \"%s\" reference \"%s\": expected %s", c->presented, c->reference,
		      c->matches ? "match" : "no match");
}
END_TEST

START_TEST(test_name_matches_null)
{
	ck_assert(!tls_name_matches(NULL, "example.test"));
	ck_assert(!tls_name_matches("example.test", NULL));
}
END_TEST

/* ---- certificate identities ---- */

START_TEST(test_cert_names_san)
{
	X509 *cert = load_cert("edge.crt");
	char **names;
	size_t n = tls_cert_names(cert, &names);

	/* The IP SAN is no DNS-ID, and the CN is ignored next to dNSNames. */
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "edge.example.test");
	ck_assert_str_eq(names[1], "edge-int.example.test");
	tls_names_free(names, n);
	X509_free(cert);
}
END_TEST

START_TEST(test_cert_names_cn_only)
{
	X509 *cert = load_cert("cn-only.crt");
	char **names;
	size_t n = tls_cert_names(cert, &names);

	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "cnonly.example.test");
	tls_names_free(names, n);
	X509_free(cert);
}
END_TEST

START_TEST(test_cert_names_ip_san_keeps_cn)
{
	static const struct alt_name ip = { GEN_IPADD, "\x0a\x00\x00\x01", 4 };
	X509 *cert = bare_cert("ip.example.test", &ip, 1);
	char **names;
	size_t n = tls_cert_names(cert, &names);

	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "ip.example.test");
	tls_names_free(names, n);
	X509_free(cert);
}
END_TEST

START_TEST(test_cert_names_san_hides_cn)
{
	static const struct alt_name dns = { GEN_DNS, "san.example.test", 16 };
	X509 *cert = bare_cert("cn.example.test", &dns, 1);
	static const char *const cn[] = { "cn.example.test" };
	static const char *const san[] = { "san.example.test" };

	ck_assert(!tls_cert_matches(cert, cn, 1));
	ck_assert(tls_cert_matches(cert, san, 1));
	X509_free(cert);
}
END_TEST

START_TEST(test_cert_names_embedded_nul)
{
	static const struct alt_name alt[] = {
		{ GEN_DNS, "pool1.example.test\0.evil.test", 29 },
		{ GEN_DNS, "good.example.test", 17 },
	};
	X509 *cert = bare_cert("pool1.example.test", alt, 2);
	char **names;
	size_t n = tls_cert_names(cert, &names);

	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "good.example.test");
	tls_names_free(names, n);
	X509_free(cert);

	/* A lone bad dNSName still counts as a dNSName: no fallback to CN. */
	cert = bare_cert("pool1.example.test", alt, 1);
	n = tls_cert_names(cert, &names);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(names);
	X509_free(cert);
}
END_TEST

START_TEST(test_cert_names_none)
{
	X509 *cert = bare_cert(NULL, NULL, 0);
	char **names = (char **)1;

	ck_assert_uint_eq(tls_cert_names(cert, &names), 0);
	ck_assert_ptr_null(names);
	ck_assert_uint_eq(tls_cert_names(NULL, &names), 0);
	X509_free(cert);
	tls_names_free(NULL, 0);
}
END_TEST

START_TEST(test_cert_matches)
{
	static const struct alt_name wildcard = { GEN_DNS, "*.pool.example.test", 19 };
	static const char *const internal[] = { "pool1.example.test", "edge-int.example.test" };
	static const char *const member[] = { "a.pool.example.test" };
	static const char *const deeper[] = { "a.b.pool.example.test" };
	X509 *edge = load_cert("edge.crt");
	X509 *wild = bare_cert(NULL, &wildcard, 1);

	ck_assert(tls_cert_matches(edge, internal, 2));
	ck_assert(!tls_cert_matches(edge, internal, 1));
	ck_assert(!tls_cert_matches(edge, pool_names, 2));
	ck_assert(!tls_cert_matches(edge, internal, 0));
	ck_assert(tls_cert_matches(wild, member, 1));
	ck_assert(!tls_cert_matches(wild, deeper, 1));
	X509_free(edge);
	X509_free(wild);
}
END_TEST

START_TEST(test_cert_subject)
{
	X509 *cert = load_cert("edge.crt");
	char *subject = tls_cert_subject(cert);

	ck_assert_str_eq(subject, "CN=edge.example.test");
	free(subject);
	X509_free(cert);
	ck_assert_ptr_null(tls_cert_subject(NULL));
}
END_TEST

/* ---- contexts ---- */

START_TEST(test_context_ok)
{
	SSL_CTX *ctx = server_context(CLIENT_CERT_REQUIRED, true);

	ck_assert(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
	ck_assert_uint_eq(SSL_CTX_get_num_tickets(ctx), 0);
	ck_assert(SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION);
	ck_assert(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx),
			 SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	ck_assert_int_eq(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(ctx)), 1);
	SSL_CTX_free(ctx);

	ctx = server_context(CLIENT_CERT_OPTIONAL, false);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	SSL_CTX_free(ctx);
	ctx = server_context(CLIENT_CERT_NONE, false);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	SSL_CTX_free(ctx);
}
END_TEST

/* Replaces one file of the listener and expects ERR to start with that file
 * and then WHAT, and to hold DETAIL (from OpenSSL's reason). */
static void expect_server_error(const char *field, const char *value, const char *what,
				const char *detail)
{
	struct listener_config listener = make_listener(CLIENT_CERT_REQUIRED, false);
	char **slot = strcmp(field, "certificate") == 0 ? &listener.certificate
		      : strcmp(field, "key") == 0	? &listener.key
							: &listener.ca_file;
	char expected[512], err[512] = "";
	SSL_CTX *ctx;

	free(*slot);
	*slot = strchr(value, '/') != NULL ? strdup(value) : test_pki_path(value);
	snprintf(expected, sizeof(expected), "%s: %s", *slot, what);
	ctx = tls_server_context(&listener, NULL, 0, err, sizeof(err));
	ck_assert_ptr_null(ctx);
	ck_assert_msg(strncmp(err, expected, strlen(expected)) == 0, "got \"%s\"", err);
	ck_assert_msg(strstr(err, detail) != NULL, "\"%s\" lacks \"%s\"", err, detail);
	free_listener(&listener);
	ck_assert_uint_eq(ERR_peek_error(), 0);
}

START_TEST(test_context_errors)
{
	expect_server_error("certificate", "/nonexistent/edge.crt", "cannot load certificate chain",
			    "No such file or directory");
	expect_server_error("certificate", "edge.key", "cannot load certificate chain",
			    "no start line");
	expect_server_error("key", "/nonexistent/edge.key", "cannot load private key",
			    "No such file or directory");
	expect_server_error("key", "pool1.key", "private key does not match certificate",
			    "key values mismatch");
	expect_server_error("ca_file", "/nonexistent/ca.crt", "cannot load CA certificates",
			    "No such file or directory");
}
END_TEST

START_TEST(test_context_needs_ca_file)
{
	struct listener_config listener = make_listener(CLIENT_CERT_OPTIONAL, false);
	char *ca_file = listener.ca_file;
	char err[256] = "";

	listener.ca_file = NULL;
	ck_assert_ptr_null(tls_server_context(&listener, NULL, 0, err, sizeof(err)));
	ck_assert_str_eq(err, "listener internal: client certificates need a ca_file");
	listener.ca_file = ca_file;
	free_listener(&listener);
}
END_TEST

START_TEST(test_client_context_errors)
{
	char *certificate = test_pki_path("pool1.crt");
	char *key = test_pki_path("other.key");
	char *ca_file = test_pki_path("ca.crt");
	char expected[512], err[512] = "";

	ck_assert_ptr_null(tls_client_context(certificate, key, ca_file, err, sizeof(err)));
	snprintf(expected, sizeof(expected), "%s: private key does not match certificate %s: ", key,
		 certificate);
	ck_assert_msg(strncmp(err, expected, strlen(expected)) == 0, "got \"%s\"", err);
	free(key);
	key = test_pki_path("pool1.key");
	ck_assert_ptr_null(
		tls_client_context(certificate, key, "/nonexistent/ca.crt", err, sizeof(err)));
	ck_assert_msg(strncmp(err, "/nonexistent/ca.crt: cannot load CA certificates: ", 50) == 0,
		      "got \"%s\"", err);
	free(certificate);
	free(key);
	free(ca_file);
}
END_TEST

/* ---- handshakes ---- */

START_TEST(test_mutual_ok)
{
	struct handshake h;
	char *subject;

	handshake_with(&h, "pool1", "ca.crt", CLIENT_CERT_REQUIRED, false, "edge.example.test",
		       "edge.example.test");
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	ck_assert_ptr_null(tls_failure(h.client));
	ck_assert_ptr_null(tls_failure(h.server));
	ck_assert(handshake_client_reads(&h));
	subject = peer_subject(h.server);
	ck_assert_str_eq(subject, "CN=pool1.example.test");
	free(subject);
	subject = peer_subject(h.client);
	ck_assert_str_eq(subject, "CN=edge.example.test");
	free(subject);
	ck_assert_str_eq(SSL_get_servername(h.server, TLSEXT_NAMETYPE_host_name),
			 "edge.example.test");
	handshake_end(&h);
}
END_TEST

START_TEST(test_mutual_tls12_ok)
{
	SSL_CTX *client_ctx = client_context("pool1", "ca.crt");
	SSL_CTX *server_ctx = server_context(CLIENT_CERT_REQUIRED, false);
	struct handshake h;

	ck_assert(SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION));
	handshake_start(&h, client_ctx, server_ctx);
	ck_assert_int_eq(tls_client_expect(h.client, "edge.example.test", edge_names, 1), 0);
	handshake_run(&h);
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	ck_assert_int_eq(SSL_version(h.server), TLS1_2_VERSION);
	handshake_end(&h);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(server_ctx);
}
END_TEST

START_TEST(test_client_cert_rogue_ca)
{
	struct handshake h;

	handshake_with(&h, "rogue-pool1", "ca.crt", CLIENT_CERT_REQUIRED, false,
		       "edge.example.test", "edge.example.test");
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.server));
	ck_assert_str_eq(tls_failure(h.server),
			 "certificate not trusted: unable to get local issuer certificate");
	ck_assert_str_eq(tls_failure_subject(h.server), "CN=pool1.example.test");
	ck_assert_ptr_null(SSL_get0_peer_certificate(h.server));
	ck_assert(!handshake_client_reads(&h));
	ck_assert_ptr_null(tls_failure(h.client));
	handshake_end(&h);
}
END_TEST

START_TEST(test_client_cert_name_not_allowed)
{
	struct handshake h;

	handshake_with(&h, "other", "ca.crt", CLIENT_CERT_REQUIRED, false, "edge.example.test",
		       "edge.example.test");
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.server));
	ck_assert_str_eq(tls_failure(h.server), "certificate name not allowed");
	ck_assert_str_eq(tls_failure_subject(h.server), "CN=other.example.test");
	ck_assert(!handshake_client_reads(&h));
	handshake_end(&h);
}
END_TEST

START_TEST(test_client_cert_optional_still_checked)
{
	struct handshake h;

	handshake_with(&h, "other", "ca.crt", CLIENT_CERT_OPTIONAL, false, "edge.example.test",
		       "edge.example.test");
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.server));
	ck_assert_str_eq(tls_failure(h.server), "certificate name not allowed");
	ck_assert_str_eq(tls_failure_subject(h.server), "CN=other.example.test");
	handshake_end(&h);
}
END_TEST

START_TEST(test_client_cert_missing)
{
	struct handshake h;

	handshake_with(&h, NULL, "ca.crt", CLIENT_CERT_REQUIRED, false, "edge.example.test",
		       "edge.example.test");
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.server));
	ck_assert_str_eq(tls_failure(h.server), "no client certificate");
	ck_assert(!handshake_client_reads(&h));
	handshake_end(&h);
}
END_TEST

START_TEST(test_client_cert_missing_tls12)
{
	SSL_CTX *client_ctx = client_context(NULL, "ca.crt");
	SSL_CTX *server_ctx = server_context(CLIENT_CERT_REQUIRED, false);
	struct handshake h;

	ck_assert(SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION));
	handshake_start(&h, client_ctx, server_ctx);
	handshake_run(&h);
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_int_eq(h.client_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.server));
	ck_assert_str_eq(tls_failure(h.server), "no client certificate");
	handshake_end(&h);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(server_ctx);
}
END_TEST

START_TEST(test_client_cert_optional_absent)
{
	struct handshake h;

	handshake_with(&h, NULL, "ca.crt", CLIENT_CERT_OPTIONAL, false, "edge.example.test",
		       "edge.example.test");
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	ck_assert(handshake_client_reads(&h));
	ck_assert_ptr_null(SSL_get0_peer_certificate(h.server));
	ck_assert_ptr_null(tls_failure(h.server));
	handshake_end(&h);
}
END_TEST

START_TEST(test_other_failures_not_blamed)
{
	/* A TLS 1.1 client fails for its version, which is not ours to explain. */
	SSL_CTX *client_ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX *server_ctx = server_context(CLIENT_CERT_REQUIRED, true);
	struct handshake h;

	ck_assert(SSL_CTX_set_min_proto_version(client_ctx, TLS1_1_VERSION));
	ck_assert(SSL_CTX_set_max_proto_version(client_ctx, TLS1_1_VERSION));
	SSL_CTX_set_security_level(client_ctx, 0);
	ck_assert(SSL_CTX_set_cipher_list(client_ctx, "DEFAULT:@SECLEVEL=0"));
	handshake_start(&h, client_ctx, server_ctx);
	ck_assert(SSL_set_tlsext_host_name(h.client, "edge.example.test"));
	handshake_run(&h);
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_int_eq(h.client_state, -1);
	/* The server saw the hello and refused its version. */
	ck_assert_int_eq(ERR_GET_REASON(h.server_error), SSL_R_UNSUPPORTED_PROTOCOL);
	ck_assert_int_eq(ERR_GET_REASON(h.client_error), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	ck_assert_ptr_null(tls_failure(h.server));
	handshake_end(&h);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(server_ctx);
}
END_TEST

START_TEST(test_require_sni_refuses)
{
	struct handshake h;

	/* An IP literal is never sent as SNI. */
	handshake_with(&h, "pool1", "ca.crt", CLIENT_CERT_REQUIRED, true, "127.0.0.1",
		       "edge.example.test");
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_int_eq(h.client_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.server));
	ck_assert_str_eq(tls_failure(h.server), "no SNI");
	ck_assert_int_eq(ERR_GET_REASON(h.client_error), SSL_R_TLSV1_UNRECOGNIZED_NAME);
	handshake_end(&h);
}
END_TEST

START_TEST(test_require_sni_accepts)
{
	struct handshake h;

	handshake_with(&h, "pool1", "ca.crt", CLIENT_CERT_REQUIRED, true, "edge.example.test.",
		       "edge.example.test");
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	ck_assert(handshake_client_reads(&h));
	/* The trailing dot is not sent (RFC 6066). */
	ck_assert_str_eq(SSL_get_servername(h.server, TLSEXT_NAMETYPE_host_name),
			 "edge.example.test");
	handshake_end(&h);
}
END_TEST

START_TEST(test_no_sni_for_ipv6)
{
	SSL_CTX *client_ctx = client_context(NULL, "ca.crt");
	SSL *ssl = SSL_new(client_ctx);

	ck_assert_int_eq(tls_client_expect(ssl, "::1", edge_names, 1), 0);
	ck_assert_ptr_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	ck_assert_int_eq(tls_client_expect(ssl, "10.1.2.3", edge_names, 1), 0);
	ck_assert_ptr_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	ck_assert_int_eq(tls_client_expect(ssl, "pool1.example.test", edge_names, 1), 0);
	ck_assert_str_eq(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), "pool1.example.test");
	ck_assert_int_eq(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER);
	SSL_free(ssl);
	SSL_CTX_free(client_ctx);
}
END_TEST

START_TEST(test_client_refuses_wrong_server_name)
{
	struct handshake h;

	handshake_with(&h, "pool1", "ca.crt", CLIENT_CERT_REQUIRED, false, "pool1.example.test",
		       "pool1.example.test");
	ck_assert_int_eq(h.client_state, -1);
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.client));
	ck_assert_str_eq(tls_failure(h.client), "certificate name not allowed");
	ck_assert_str_eq(tls_failure_subject(h.client), "CN=edge.example.test");
	ck_assert_int_eq(ERR_GET_REASON(h.server_error), SSL_R_SSLV3_ALERT_BAD_CERTIFICATE);
	ck_assert_ptr_null(tls_failure(h.server));
	handshake_end(&h);
}
END_TEST

START_TEST(test_client_refuses_untrusted_server)
{
	struct handshake h;

	handshake_with(&h, "pool1", "rogue-ca.crt", CLIENT_CERT_REQUIRED, false,
		       "edge.example.test", "edge.example.test");
	ck_assert_int_eq(h.client_state, -1);
	ck_assert_ptr_nonnull(tls_failure(h.client));
	ck_assert_str_eq(tls_failure(h.client),
			 "certificate not trusted: unable to get local issuer certificate");
	ck_assert_str_eq(tls_failure_subject(h.client), "CN=edge.example.test");
	handshake_end(&h);
}
END_TEST

/* XMPP: a tolerant client completes the handshake with a server it does
 * not trust, whose names it was told to expect or not, and says so. */
START_TEST(test_tolerant_client_accepts_untrusted_server)
{
	struct listener_config listener = make_listener(CLIENT_CERT_NONE, false);
	char err[512] = "";
	struct tls_server *server = tls_server_new(&listener, NULL, 0, err, sizeof(err));
	char *ca_file = test_pki_path("rogue-ca.crt");
	struct tls_client *client = tls_client_new(NULL, NULL, ca_file, err, sizeof(err));
	static const char *const other[] = { "other.example.test" };
	const struct tls_expect expect = { "edge.example.test", other, 1 };
	struct handshake h;

	ck_assert(server != NULL && client != NULL);
	tls_client_tolerate_untrusted(client);
	handshake_join(&h, tls_client_open(client, &expect), tls_server_open(server));
	handshake_run(&h);
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	ck_assert(!tls_peer_verified(h.client));
	handshake_end(&h);
	tls_server_release(server);
	tls_client_release(client);
	free(ca_file);
	free_listener(&listener);
}
END_TEST

START_TEST(test_client_accepts_internal_name)
{
	static const char *const names[] = { "pool9.example.test", "EDGE-INT.example.test." };
	SSL_CTX *client_ctx = client_context("pool1", "ca.crt");
	SSL_CTX *server_ctx = server_context(CLIENT_CERT_REQUIRED, false);
	struct handshake h;

	handshake_start(&h, client_ctx, server_ctx);
	ck_assert_int_eq(tls_client_expect(h.client, "edge-int.example.test", names, 2), 0);
	handshake_run(&h);
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	handshake_end(&h);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(server_ctx);
}
END_TEST

START_TEST(test_client_with_no_names_refuses_all)
{
	SSL_CTX *client_ctx = client_context("pool1", "ca.crt");
	SSL_CTX *server_ctx = server_context(CLIENT_CERT_REQUIRED, false);
	struct handshake h;

	handshake_start(&h, client_ctx, server_ctx);
	ck_assert_int_eq(tls_client_expect(h.client, "edge.example.test", edge_names, 0), 0);
	handshake_run(&h);
	ck_assert_int_eq(h.client_state, -1);
	ck_assert_str_eq(tls_failure(h.client), "certificate name not allowed");
	ck_assert_str_eq(tls_failure_subject(h.client), "CN=edge.example.test");
	handshake_end(&h);
	SSL_CTX_free(client_ctx);
	SSL_CTX_free(server_ctx);
}
END_TEST

/* ---- the certificate chosen by SNI ---- */

/* Two names get two certificates; any other name gets what
 * chooser_unknown says. */
struct chooser {
	const struct tls_identity *other;
	const struct tls_identity *pool1;
	enum tls_certificate_choice unknown;
	char last_name[64];
};

static enum tls_certificate_choice choose_by_name(void *arg, void *handshake,
						  const char *server_name,
						  const struct tls_identity **identity)
{
	(void)handshake;
	struct chooser *chooser = arg;
	snprintf(chooser->last_name, sizeof(chooser->last_name), "%s",
		 server_name != NULL ? server_name : "(none)");
	if (server_name != NULL && strcmp(server_name, "other.example.test") == 0) {
		*identity = chooser->other;
		return TLS_CERTIFICATE_CHOSEN;
	}
	if (server_name != NULL && strcmp(server_name, "pool1.example.test") == 0) {
		*identity = chooser->pool1;
		return TLS_CERTIFICATE_CHOSEN;
	}
	return chooser->unknown;
}

static struct tls_identity *identity(const char *base)
{
	char file[64], err[512] = "";
	snprintf(file, sizeof(file), "%s.crt", base);
	char *certificate = test_pki_path(file);
	snprintf(file, sizeof(file), "%s.key", base);
	char *key = test_pki_path(file);
	struct tls_identity *loaded = tls_identity_load(certificate, key, err, sizeof(err));
	ck_assert_msg(loaded != NULL, "identity %s: %s", base, err);
	free(certificate);
	free(key);
	return loaded;
}

/* A handshake with SNI SERVER_NAME against a server (default certificate
 * edge) that asks CHOOSER; the client takes any name, so the subject it
 * saw shows which certificate was sent (NULL when refused). */
static char *handshake_by_name(struct chooser *chooser, const char *server_name,
			       enum tls_failure_kind *failure)
{
	struct listener_config listener = make_listener(CLIENT_CERT_NONE, false);
	char err[512] = "";
	struct tls_server *server = tls_server_new(&listener, NULL, 0, err, sizeof(err));
	char *ca_file = test_pki_path("ca.crt");
	struct tls_client *client = tls_client_new(NULL, NULL, ca_file, err, sizeof(err));
	static const char *const any[] = { "edge.example.test", "other.example.test",
					   "pool1.example.test" };
	const struct tls_expect expect = { server_name, any, 3 };
	struct handshake h;
	char *subject = NULL;

	ck_assert(server != NULL && client != NULL);
	tls_server_choose_certificate(server, choose_by_name, chooser);
	handshake_join(&h, tls_client_open(client, &expect), tls_server_open(server));
	handshake_run(&h);
	*failure = tls_failure_kind(h.server);
	if (h.client_state == 1)
		subject = peer_subject(h.client);
	handshake_end(&h);
	/* The SSL objects hold the contexts; the handles may go first. */
	tls_server_release(server);
	tls_client_release(client);
	free(ca_file);
	free_listener(&listener);
	return subject;
}

START_TEST(test_certificate_chosen_by_sni)
{
	struct chooser chooser = { identity("other"), identity("pool1"), TLS_CERTIFICATE_DEFAULT,
				   "" };
	enum tls_failure_kind failure;
	char *subject;

	subject = handshake_by_name(&chooser, "other.example.test", &failure);
	ck_assert_str_eq(chooser.last_name, "other.example.test");
	ck_assert_pstr_eq(subject, "CN=other.example.test");
	free(subject);
	subject = handshake_by_name(&chooser, "pool1.example.test", &failure);
	ck_assert_pstr_eq(subject, "CN=pool1.example.test");
	free(subject);
	/* An unknown name, and no name at all, get the listener's own. */
	subject = handshake_by_name(&chooser, "nobody.example.test", &failure);
	ck_assert_pstr_eq(subject, "CN=edge.example.test");
	free(subject);
	subject = handshake_by_name(&chooser, NULL, &failure);
	ck_assert_str_eq(chooser.last_name, "(none)");
	ck_assert_pstr_eq(subject, "CN=edge.example.test");
	free(subject);
	tls_identity_free((struct tls_identity *)chooser.other);
	tls_identity_free((struct tls_identity *)chooser.pool1);
}
END_TEST

START_TEST(test_certificate_chooser_refuses)
{
	struct chooser chooser = { identity("other"), identity("pool1"), TLS_CERTIFICATE_REFUSED,
				   "" };
	enum tls_failure_kind failure;
	char *subject = handshake_by_name(&chooser, "nobody.example.test", &failure);

	ck_assert_ptr_null(subject);
	ck_assert_int_eq(failure, TLS_FAILURE_SERVER_NAME_REFUSED);
	subject = handshake_by_name(&chooser, "other.example.test", &failure);
	ck_assert_pstr_eq(subject, "CN=other.example.test");
	ck_assert_int_eq(failure, TLS_FAILURE_NONE);
	free(subject);
	tls_identity_free((struct tls_identity *)chooser.other);
	tls_identity_free((struct tls_identity *)chooser.pool1);
}
END_TEST

START_TEST(test_identity_errors)
{
	char *certificate = test_pki_path("pool1.crt"), *key = test_pki_path("other.key");
	char err[512] = "";
	ck_assert_ptr_null(tls_identity_load(certificate, key, err, sizeof(err)));
	ck_assert_msg(strstr(err, "private key does not match certificate") != NULL, "got \"%s\"",
		      err);
	ck_assert_ptr_null(tls_identity_load("/nonexistent.crt", key, err, sizeof(err)));
	ck_assert_msg(strstr(err, "cannot load certificate chain") != NULL, "got \"%s\"", err);
	free(certificate);
	free(key);
}
END_TEST

START_TEST(test_failure_null)
{
	ck_assert_ptr_null(tls_failure(NULL));
}
END_TEST

/* Each kind has its own stable name (logs' failure=, metrics' reason). */
START_TEST(test_failure_names)
{
	ck_assert_str_eq(tls_failure_name(TLS_FAILURE_NO_SNI), "no_sni");
	ck_assert_str_eq(tls_failure_name(TLS_FAILURE_CERTIFICATE_REFUSED_BY_PEER),
			 "certificate_refused_by_peer");
	for (int i = 0; i < TLS_FAILURE_KINDS; i++) {
		ck_assert_str_ne(tls_failure_name((enum tls_failure_kind)i), "unknown");
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(tls_failure_name((enum tls_failure_kind)i),
					 tls_failure_name((enum tls_failure_kind)j));
	}
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *suite = suite_create("tls");
	TCase *names = tcase_create("names");
	TCase *contexts = tcase_create("contexts");
	TCase *handshakes = tcase_create("handshakes");

	tcase_add_loop_test(names, test_name_matches_table, 0,
			    (int)(sizeof(match_cases) / sizeof(match_cases[0])));
	tcase_add_test(names, test_name_matches_null);
	tcase_add_test(names, test_cert_names_san);
	tcase_add_test(names, test_cert_names_cn_only);
	tcase_add_test(names, test_cert_names_ip_san_keeps_cn);
	tcase_add_test(names, test_cert_names_san_hides_cn);
	tcase_add_test(names, test_cert_names_embedded_nul);
	tcase_add_test(names, test_cert_names_none);
	tcase_add_test(names, test_cert_matches);
	tcase_add_test(names, test_cert_subject);
	suite_add_tcase(suite, names);

	tcase_add_test(contexts, test_context_ok);
	tcase_add_test(contexts, test_context_errors);
	tcase_add_test(contexts, test_context_needs_ca_file);
	tcase_add_test(contexts, test_client_context_errors);
	suite_add_tcase(suite, contexts);

	tcase_add_test(handshakes, test_mutual_ok);
	tcase_add_test(handshakes, test_mutual_tls12_ok);
	tcase_add_test(handshakes, test_client_cert_rogue_ca);
	tcase_add_test(handshakes, test_client_cert_name_not_allowed);
	tcase_add_test(handshakes, test_client_cert_optional_still_checked);
	tcase_add_test(handshakes, test_client_cert_missing);
	tcase_add_test(handshakes, test_client_cert_missing_tls12);
	tcase_add_test(handshakes, test_client_cert_optional_absent);
	tcase_add_test(handshakes, test_other_failures_not_blamed);
	tcase_add_test(handshakes, test_require_sni_refuses);
	tcase_add_test(handshakes, test_require_sni_accepts);
	tcase_add_test(handshakes, test_no_sni_for_ipv6);
	tcase_add_test(handshakes, test_client_refuses_wrong_server_name);
	tcase_add_test(handshakes, test_client_refuses_untrusted_server);
	tcase_add_test(handshakes, test_tolerant_client_accepts_untrusted_server);
	tcase_add_test(handshakes, test_client_accepts_internal_name);
	tcase_add_test(handshakes, test_client_with_no_names_refuses_all);
	tcase_add_test(handshakes, test_failure_null);
	tcase_add_test(handshakes, test_failure_names);
	tcase_add_test(handshakes, test_certificate_chosen_by_sni);
	tcase_add_test(handshakes, test_certificate_chooser_refuses);
	tcase_add_test(handshakes, test_identity_errors);
	suite_add_tcase(suite, handshakes);
	return suite;
}

int main(void)
{
	/* Made once here, so forked tests share one PKI and only this process
	 * removes it. */
	test_pki_dir();
	return test_suite_run(tls_suite());
}
