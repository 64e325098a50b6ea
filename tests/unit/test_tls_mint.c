/* SPDX-License-Identifier: ISC */
/* test_tls_mint: Check suite for lib/tls_mint: the names and validity of a
 * minted leaf read back with OpenSSL, its chain to the link CA for both
 * purposes, the cache and its refresh, the refusals of bad domains and bad
 * CAs, and handshakes in memory (a BIO pair) with a minted identity on
 * either side. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test_pki.h"
#include "tls_mint.h"
#include "test_suite.h"

#define VALIDITY 3600
#define PARTNER	 "partner.example"
#define NOW	 ((time_t)1700000000)

/* ---- helpers ---- */

/* A mint from test_pki's files CERTIFICATE and KEY; NULL and ERR when refused. */
static struct tls_mint *mint_from(const char *certificate, const char *key, char *err,
				  size_t err_size)
{
	char *certificate_path = test_pki_path(certificate), *key_path = test_pki_path(key);
	struct tls_mint *mint = tls_mint_new(certificate_path, key_path, VALIDITY, err, err_size);
	free(certificate_path);
	free(key_path);
	return mint;
}

static struct tls_mint *link_mint(void)
{
	char err[512] = "";
	struct tls_mint *mint = mint_from("link-ca.crt", "link-ca.key", err, sizeof(err));
	ck_assert_msg(mint != NULL, "link CA refused: %s", err);
	return mint;
}

static X509 *load_cert(const char *file)
{
	char *path = test_pki_path(file);
	FILE *in = fopen(path, "r");
	X509 *cert;

	ck_assert_msg(in != NULL, "cannot open %s", path);
	cert = PEM_read_X509(in, NULL, NULL, NULL);
	fclose(in);
	ck_assert_ptr_nonnull(cert);
	free(path);
	return cert;
}

static X509 *minted_certificate(const struct tls_minted *minted)
{
	return tls_identity_certificate(minted->identity);
}

/* Does CERT chain to test_pki's TRUST for PURPOSE (at the current time, and
 * with HOST among its DNS names)? */
static bool verifies(X509 *cert, const char *trust, int purpose, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *anchor = load_cert(trust);
	bool ok;

	ck_assert(store != NULL && ctx != NULL);
	ck_assert(X509_STORE_add_cert(store, anchor) == 1);
	ck_assert(X509_STORE_CTX_init(ctx, store, cert, NULL) == 1);
	ck_assert(X509_STORE_CTX_set_purpose(ctx, purpose) == 1);
	ck_assert(X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0) == 1);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(anchor);
	ERR_clear_error();
	return ok;
}

/* ---- names and validity ---- */

START_TEST(test_names)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;
	GENERAL_NAMES *names;
	char **dns_names;
	size_t n_dns;
	int i, n_xmpp = 0, n_dns_names = 0;
	char *subject;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, time(NULL), &minted), 0);
	subject = tls_cert_subject(minted_certificate(&minted));
	ck_assert_str_eq(subject, "CN=" PARTNER);
	free(subject);
	/* what lib/tls reads as the certificate's identities: the dNSName only */
	n_dns = tls_cert_names(minted_certificate(&minted), &dns_names);
	ck_assert_uint_eq(n_dns, 1);
	ck_assert_str_eq(dns_names[0], PARTNER);
	tls_names_free(dns_names, n_dns);

	names = X509_get_ext_d2i(minted_certificate(&minted), NID_subject_alt_name, NULL, NULL);
	ck_assert_ptr_nonnull(names);
	for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
		char oid[64];
		if (name->type == GEN_DNS) {
			n_dns_names++;
			ck_assert_str_eq((const char *)ASN1_STRING_get0_data(name->d.dNSName),
					 PARTNER);
			continue;
		}
		ck_assert_int_eq(name->type, GEN_OTHERNAME);
		ck_assert(OBJ_obj2txt(oid, sizeof(oid), name->d.otherName->type_id, 1) > 0);
		ck_assert_str_eq(oid, "1.3.6.1.5.5.7.8.5");
		ck_assert_int_eq(name->d.otherName->value->type, V_ASN1_UTF8STRING);
		ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
					 name->d.otherName->value->value.utf8string),
				 PARTNER);
		n_xmpp++;
	}
	ck_assert_int_eq(n_dns_names, 1);
	ck_assert_int_eq(n_xmpp, 1);
	GENERAL_NAMES_free(names);
	tls_mint_free(mint);
}
END_TEST

START_TEST(test_extensions)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;
	X509 *cert;
	int critical = -1;
	BASIC_CONSTRAINTS *constraints;
	BIGNUM *serial;
	char *serial_hex;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, time(NULL), &minted), 0);
	cert = minted_certificate(&minted);
	constraints = X509_get_ext_d2i(cert, NID_basic_constraints, &critical, NULL);
	ck_assert_ptr_nonnull(constraints);
	ck_assert_int_eq(constraints->ca, 0);
	ck_assert_int_eq(critical, 1);
	BASIC_CONSTRAINTS_free(constraints);
	ck_assert_uint_eq(X509_get_key_usage(cert), KU_DIGITAL_SIGNATURE);
	ck_assert_uint_eq(X509_get_extended_key_usage(cert), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	/* the serial: positive, 16 bytes, the one reported */
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	ck_assert(!BN_is_negative(serial));
	ck_assert_int_eq(BN_num_bytes(serial), 16);
	serial_hex = BN_bn2hex(serial);
	ck_assert_int_eq(strcasecmp(serial_hex, minted.serial), 0);
	ck_assert_uint_eq(strlen(minted.serial), 32);
	OPENSSL_free(serial_hex);
	BN_free(serial);
	tls_mint_free(mint);
}
END_TEST

/* Every serial is 16 bytes with the top bit clear, so its DER (tag, length,
 * value) is 18 bytes: no sign byte, never longer than RFC 5280's 20. */
START_TEST(test_serial_encoding)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;
	char domain[64];
	int i;

	for (i = 0; i < 32; i++) {
		snprintf(domain, sizeof(domain), "s%d.example", i);
		ck_assert_int_eq(tls_mint_identity(mint, domain, NOW, &minted), 0);
		ck_assert_int_eq(
			i2d_ASN1_INTEGER(X509_get0_serialNumber(minted_certificate(&minted)), NULL),
			18);
	}
	tls_mint_free(mint);
}
END_TEST

START_TEST(test_validity)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;
	X509 *cert;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW, &minted), 0);
	ck_assert(minted.fresh);
	ck_assert_int_eq(minted.not_before, NOW - TLS_MINT_BACKDATE_S);
	ck_assert_int_eq(minted.not_after, NOW + VALIDITY);
	cert = minted_certificate(&minted);
	ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert), minted.not_before), 0);
	ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert), minted.not_after), 0);
	tls_mint_free(mint);
}
END_TEST

/* The leaf chains to the link CA as a server and as a client, under its
 * own name only, and not to another CA. */
START_TEST(test_verifies_against_link_ca)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;
	X509 *cert;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, time(NULL), &minted), 0);
	cert = minted_certificate(&minted);
	ck_assert(verifies(cert, "link-ca.crt", X509_PURPOSE_SSL_SERVER, PARTNER));
	ck_assert(verifies(cert, "link-ca.crt", X509_PURPOSE_SSL_CLIENT, PARTNER));
	ck_assert(!verifies(cert, "link-ca.crt", X509_PURPOSE_SSL_SERVER, "other.example"));
	ck_assert(!verifies(cert, "ca.crt", X509_PURPOSE_SSL_SERVER, PARTNER));
	tls_mint_free(mint);
}
END_TEST

/* ---- the cache ---- */

START_TEST(test_cache_hit)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted first, again;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW, &first), 0);
	ck_assert(first.fresh);
	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW + 10, &again), 0);
	ck_assert(!again.fresh);
	ck_assert_str_eq(again.serial, first.serial);
	ck_assert_ptr_eq(again.identity, first.identity);
	ck_assert_int_eq(again.not_after, first.not_after);
	tls_mint_free(mint);
}
END_TEST

/* Cached while more than a quarter of the validity is left: up to three
 * quarters after minting, and a new one from then on. */
START_TEST(test_refresh_after_three_quarters)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted first, late, renewed, after;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW, &first), 0);
	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW + VALIDITY * 3 / 4 - 1, &late), 0);
	ck_assert(!late.fresh);
	ck_assert_str_eq(late.serial, first.serial);
	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW + VALIDITY * 3 / 4, &renewed), 0);
	ck_assert(renewed.fresh);
	ck_assert_str_ne(renewed.serial, first.serial);
	ck_assert_int_eq(renewed.not_after, NOW + VALIDITY * 3 / 4 + VALIDITY);
	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW + VALIDITY * 3 / 4 + 1, &after), 0);
	ck_assert(!after.fresh);
	ck_assert_str_eq(after.serial, renewed.serial);
	tls_mint_free(mint);
}
END_TEST

/* A clock set back before the leaf's start gets a new leaf. */
START_TEST(test_refresh_when_clock_goes_back)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted first, earlier;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW, &first), 0);
	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, NOW - TLS_MINT_BACKDATE_S - 1, &earlier),
			 0);
	ck_assert(earlier.fresh);
	tls_mint_free(mint);
}
END_TEST

START_TEST(test_distinct_serials)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted a, b, c;

	ck_assert_int_eq(tls_mint_identity(mint, "a.example", NOW, &a), 0);
	ck_assert_int_eq(tls_mint_identity(mint, "b.example", NOW, &b), 0);
	ck_assert_int_eq(tls_mint_identity(mint, "c.example", NOW, &c), 0);
	ck_assert(a.fresh && b.fresh && c.fresh);
	ck_assert_str_ne(a.serial, b.serial);
	ck_assert_str_ne(b.serial, c.serial);
	ck_assert_str_ne(a.serial, c.serial);
	ck_assert_ptr_ne(a.identity, b.identity);
	tls_mint_free(mint);
}
END_TEST

/* The cache holds TLS_MINT_CACHE_MAX domains; one more drops the oldest. */
START_TEST(test_cache_bounded)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;
	char domain[64];
	int i;

	for (i = 0; i <= TLS_MINT_CACHE_MAX; i++) {
		snprintf(domain, sizeof(domain), "d%d.example", i);
		ck_assert_int_eq(tls_mint_identity(mint, domain, NOW, &minted), 0);
		ck_assert(minted.fresh);
	}
	snprintf(domain, sizeof(domain), "d%d.example", TLS_MINT_CACHE_MAX);
	ck_assert_int_eq(tls_mint_identity(mint, domain, NOW, &minted), 0);
	ck_assert(!minted.fresh);
	ck_assert_int_eq(tls_mint_identity(mint, "d1.example", NOW, &minted), 0);
	ck_assert(!minted.fresh);
	ck_assert_int_eq(tls_mint_identity(mint, "d0.example", NOW, &minted), 0);
	ck_assert(minted.fresh);
	tls_mint_free(mint);
}
END_TEST

/* ---- refusals ---- */

static const char *const bad_domains[] = {
	"",
	".",
	"Partner.example",
	"partner.example.",
	".partner.example",
	"partner..example",
	"*.partner.example",
	"-partner.example",
	"partner-.example",
	"part_ner.example",
	"part ner.example",
	"partner.example/x",
	"127.0.0.1",
	"example.123",
	"b\xc3\xbc"
	"cher.example",
	/* a 64-byte label */
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
};

START_TEST(test_bad_domains)
{
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;

	ck_assert_msg(tls_mint_identity(mint, bad_domains[_i], NOW, &minted) == -1, "minted \"%s\"",
		      bad_domains[_i]);
	ck_assert(!tls_mint_domain_valid(bad_domains[_i]));
	tls_mint_free(mint);
}
END_TEST

START_TEST(test_good_domains)
{
	static const char *const good[] = {
		"localhost",	   "a.b",	    "xn--bcher-kva.example", "1.example",
		"a-b.c-d.example", "x.example.123a"
	};
	struct tls_mint *mint = link_mint();
	struct tls_minted minted;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(tls_mint_identity(mint, good[i], NOW, &minted) == 0, "refused %s",
			      good[i]);
	ck_assert(tls_mint_domain_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		".example"));
	tls_mint_free(mint);
}
END_TEST

/* 253 bytes is the most; 254 is refused. */
START_TEST(test_domain_length)
{
	char name[300];
	size_t i;

	/* 63 "a" labels: "a.a.a...a" has 63 * 2 - 1 = 125 bytes; build by repetition */
	memset(name, 0, sizeof(name));
	for (i = 0; i < 253; i++)
		name[i] = (i % 2 == 0) ? 'a' : '.';
	ck_assert_uint_eq(strlen(name), 253);
	ck_assert(tls_mint_domain_valid(name));
	name[253] = '.';
	name[254] = 'a';
	ck_assert(!tls_mint_domain_valid(name));
	ck_assert(!tls_mint_domain_valid(NULL));
}
END_TEST

/* Each bad CA is refused with the file it is about named. */
struct bad_ca {
	const char *certificate;
	const char *key;
	const char *message; /* what ERR says */
	const char *named; /* the file ERR names */
};

static const struct bad_ca bad_cas[] = {
	{ "link-ca.crt", "ca.key", "private key does not match certificate", "ca.key" },
	{ "not-ca.crt", "not-ca.key", "not a CA certificate", "not-ca.crt" },
	{ "no-cert-sign-ca.crt", "no-cert-sign-ca.key", "keyCertSign", "no-cert-sign-ca.crt" },
	{ "ed25519-ca.crt", "ed25519-ca.key", "must be EC or RSA", "ed25519-ca.key" },
	{ "missing.crt", "link-ca.key", "cannot load certificate", "missing.crt" },
	{ "link-ca.crt", "missing.key", "cannot load private key", "missing.key" },
	/* a certificate where the key should be, and the other way round */
	{ "link-ca.key", "link-ca.key", "cannot load certificate", "link-ca.key" },
	{ "link-ca.crt", "link-ca.crt", "cannot load private key", "link-ca.crt" },
};

START_TEST(test_bad_ca)
{
	const struct bad_ca *bad = &bad_cas[_i];
	char err[512] = "";

	ck_assert_ptr_null(mint_from(bad->certificate, bad->key, err, sizeof(err)));
	ck_assert_msg(strstr(err, bad->message) != NULL, "got \"%s\"", err);
	ck_assert_msg(strstr(err, bad->named) != NULL, "got \"%s\"", err);
}
END_TEST

START_TEST(test_zero_validity)
{
	char *certificate = test_pki_path("link-ca.crt"), *key = test_pki_path("link-ca.key");
	char err[512] = "";

	ck_assert_ptr_null(tls_mint_new(certificate, key, 0, err, sizeof(err)));
	ck_assert_msg(strstr(err, "validity") != NULL, "got \"%s\"", err);
	free(certificate);
	free(key);
}
END_TEST

/* ---- handshakes in memory ---- */

struct handshake {
	SSL *client;
	SSL *server;
	int client_state;
	int server_state;
};

static int handshake_step(SSL *ssl)
{
	int result = SSL_do_handshake(ssl), code;

	if (result == 1)
		return 1;
	code = SSL_get_error(ssl, result);
	ERR_clear_error();
	return code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Runs CLIENT against SERVER over a BIO pair until neither moves; then
 * the client reads once, so that a client certificate the server refused
 * after the client finished (TLS 1.3) shows as a client failure too. */
static void handshake_run(struct handshake *h, SSL *client, SSL *server)
{
	BIO *client_bio, *server_bio;
	char byte;
	int round, result;

	memset(h, 0, sizeof(*h));
	h->client = client;
	h->server = server;
	ck_assert(client != NULL && server != NULL);
	ck_assert(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1);
	SSL_set_bio(client, client_bio, client_bio);
	SSL_set_bio(server, server_bio, server_bio);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	for (round = 0; round < 20; round++) {
		if (h->client_state == 0)
			h->client_state = handshake_step(client);
		if (h->server_state == 0)
			h->server_state = handshake_step(server);
	}
	if (h->client_state == 1) {
		result = SSL_read(client, &byte, 1);
		if (SSL_get_error(client, result) != SSL_ERROR_WANT_READ)
			h->client_state = -1;
		ERR_clear_error();
	}
}

static void handshake_end(struct handshake *h)
{
	SSL_free(h->client);
	SSL_free(h->server);
}

/* test_pki's edge certificate on a listener; client certificates REQUIRED
 * against CA_FILE and naming PEER, or none. */
static struct tls_server *server_handle(const char *ca_file, const char *peer)
{
	struct listener_config listener;
	char err[512] = "";
	const char *const peers[1] = { peer };
	struct tls_server *server;

	memset(&listener, 0, sizeof(listener));
	listener.name = "link";
	listener.certificate = test_pki_path("edge.crt");
	listener.key = test_pki_path("edge.key");
	listener.ca_file = ca_file != NULL ? test_pki_path(ca_file) : NULL;
	listener.client_cert = ca_file != NULL ? CLIENT_CERT_REQUIRED : CLIENT_CERT_NONE;
	server = tls_server_new(&listener, peer != NULL ? peers : NULL, peer != NULL ? 1 : 0, err,
				sizeof(err));
	ck_assert_msg(server != NULL, "server: %s", err);
	free(listener.certificate);
	free(listener.key);
	free(listener.ca_file);
	return server;
}

struct minting_chooser {
	struct tls_mint *mint;
	char asked[64];
};

/* As the internal listener will: a leaf minted for the name asked. */
static enum tls_certificate_choice choose_minted(void *arg, void *handshake,
						 const char *server_name,
						 const struct tls_identity **identity)
{
	(void)handshake;
	struct minting_chooser *chooser = arg;
	struct tls_minted minted;

	snprintf(chooser->asked, sizeof(chooser->asked), "%s",
		 server_name != NULL ? server_name : "");
	if (server_name == NULL ||
	    tls_mint_identity(chooser->mint, server_name, time(NULL), &minted) != 0)
		return TLS_CERTIFICATE_REFUSED;
	*identity = minted.identity;
	return TLS_CERTIFICATE_CHOSEN;
}

/* A client trusting only the link CA, asking for SERVER_NAME and expecting
 * EXPECTED, against a server that mints for the name asked. */
static void handshake_minted_server(struct handshake *h, struct minting_chooser *chooser,
				    const char *server_name, const char *expected)
{
	struct tls_server *server = server_handle(NULL, NULL);
	char *ca_file = test_pki_path("link-ca.crt");
	char err[512] = "";
	struct tls_client *client = tls_client_new(NULL, NULL, ca_file, err, sizeof(err));
	const char *const names[1] = { expected };
	const struct tls_expect expect = { server_name, names, 1 };

	ck_assert_msg(client != NULL, "client: %s", err);
	tls_server_choose_certificate(server, choose_minted, chooser);
	handshake_run(h, tls_client_open(client, &expect), tls_server_open(server));
	tls_server_release(server);
	tls_client_release(client);
	free(ca_file);
}

START_TEST(test_handshake_server_minted)
{
	struct minting_chooser chooser = { link_mint(), "" };
	struct handshake h;
	X509 *peer;
	char *subject;

	handshake_minted_server(&h, &chooser, PARTNER, PARTNER);
	ck_assert_str_eq(chooser.asked, PARTNER);
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	peer = SSL_get1_peer_certificate(h.client);
	subject = tls_cert_subject(peer);
	ck_assert_str_eq(subject, "CN=" PARTNER);
	free(subject);
	X509_free(peer);
	handshake_end(&h);
	tls_mint_free(chooser.mint);
}
END_TEST

/* A leaf minted for the name asked is no good to a client expecting another. */
START_TEST(test_handshake_server_minted_wrong_name)
{
	struct minting_chooser chooser = { link_mint(), "" };
	struct handshake h;

	handshake_minted_server(&h, &chooser, PARTNER, "other.example");
	ck_assert_int_eq(h.client_state, -1);
	ck_assert_int_eq(tls_failure_kind(h.client), TLS_FAILURE_CERTIFICATE_NAME);
	handshake_end(&h);
	tls_mint_free(chooser.mint);
}
END_TEST

/* The other direction: the edge connects inward presenting a leaf minted
 * for the partner, to a server that trusts only the link CA for clients and
 * wants the partner's name. */
START_TEST(test_handshake_client_minted)
{
	struct tls_mint *mint = link_mint();
	struct tls_server *server = server_handle("link-ca.crt", PARTNER);
	char *ca_file = test_pki_path("ca.crt");
	char err[512] = "";
	struct tls_minted minted;
	struct tls_client *client;
	const char *const names[1] = { "edge.example.test" };
	const struct tls_expect expect = { "edge.example.test", names, 1 };
	struct handshake h;
	X509 *peer;
	char *subject;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, time(NULL), &minted), 0);
	struct tls_client *trust = tls_client_new(NULL, NULL, ca_file, err, sizeof(err));
	ck_assert_msg(trust != NULL, "trust: %s", err);
	client = tls_client_from_identity(trust, minted.identity, err, sizeof(err));
	tls_client_release(trust); /* the store is shared, not borrowed */
	ck_assert_msg(client != NULL, "client: %s", err);
	/* the handle holds its own references: the mint may go first */
	tls_mint_free(mint);
	handshake_run(&h, tls_client_open(client, &expect), tls_server_open(server));
	ck_assert_int_eq(h.client_state, 1);
	ck_assert_int_eq(h.server_state, 1);
	peer = SSL_get1_peer_certificate(h.server);
	subject = tls_cert_subject(peer);
	ck_assert_str_eq(subject, "CN=" PARTNER);
	free(subject);
	X509_free(peer);
	handshake_end(&h);
	tls_client_release(client);
	tls_server_release(server);
	free(ca_file);
}
END_TEST

/* A server wanting another domain refuses the partner's minted leaf. */
START_TEST(test_handshake_client_minted_wrong_name)
{
	struct tls_mint *mint = link_mint();
	struct tls_server *server = server_handle("link-ca.crt", "other.example");
	char *ca_file = test_pki_path("ca.crt");
	char err[512] = "";
	struct tls_minted minted;
	struct tls_client *client;
	const char *const names[1] = { "edge.example.test" };
	const struct tls_expect expect = { "edge.example.test", names, 1 };
	struct handshake h;

	ck_assert_int_eq(tls_mint_identity(mint, PARTNER, time(NULL), &minted), 0);
	struct tls_client *trust = tls_client_new(NULL, NULL, ca_file, err, sizeof(err));
	ck_assert_msg(trust != NULL, "trust: %s", err);
	client = tls_client_from_identity(trust, minted.identity, err, sizeof(err));
	tls_client_release(trust); /* the store is shared, not borrowed */
	ck_assert_msg(client != NULL, "client: %s", err);
	handshake_run(&h, tls_client_open(client, &expect), tls_server_open(server));
	ck_assert_int_eq(h.server_state, -1);
	ck_assert_int_eq(tls_failure_kind(h.server), TLS_FAILURE_CERTIFICATE_NAME);
	handshake_end(&h);
	tls_client_release(client);
	tls_server_release(server);
	tls_mint_free(mint);
	free(ca_file);
}
END_TEST

static Suite *tls_mint_suite(void)
{
	Suite *suite = suite_create("tls_mint");
	TCase *certificates = tcase_create("certificates");
	TCase *cache = tcase_create("cache");
	TCase *refusals = tcase_create("refusals");
	TCase *handshakes = tcase_create("handshakes");

	tcase_add_test(certificates, test_names);
	tcase_add_test(certificates, test_extensions);
	tcase_add_test(certificates, test_serial_encoding);
	tcase_add_test(certificates, test_validity);
	tcase_add_test(certificates, test_verifies_against_link_ca);
	suite_add_tcase(suite, certificates);

	tcase_add_test(cache, test_cache_hit);
	tcase_add_test(cache, test_refresh_after_three_quarters);
	tcase_add_test(cache, test_refresh_when_clock_goes_back);
	tcase_add_test(cache, test_distinct_serials);
	tcase_add_test(cache, test_cache_bounded);
	/* 4097 leaves under ASan and valgrind */
	tcase_set_timeout(cache, 120);
	suite_add_tcase(suite, cache);

	tcase_add_loop_test(refusals, test_bad_domains, 0,
			    (int)(sizeof(bad_domains) / sizeof(bad_domains[0])));
	tcase_add_test(refusals, test_good_domains);
	tcase_add_test(refusals, test_domain_length);
	tcase_add_loop_test(refusals, test_bad_ca, 0, (int)(sizeof(bad_cas) / sizeof(bad_cas[0])));
	tcase_add_test(refusals, test_zero_validity);
	suite_add_tcase(suite, refusals);

	tcase_add_test(handshakes, test_handshake_server_minted);
	tcase_add_test(handshakes, test_handshake_server_minted_wrong_name);
	tcase_add_test(handshakes, test_handshake_client_minted);
	tcase_add_test(handshakes, test_handshake_client_minted_wrong_name);
	suite_add_tcase(suite, handshakes);
	return suite;
}

int main(void)
{
	/* Made once here, so forked tests share one PKI and only this process
	 * removes it. */
	test_pki_dir();
	return test_suite_run(tls_mint_suite());
}
