/* SPDX-License-Identifier: ISC */
/* tls: OpenSSL contexts for sxedge's listeners and outbound links, and the
 * RFC 6125 identity checks that run inside the handshake (see tls.h).
 *
 * The names a peer certificate must match live in OpenSSL ex_data: on the
 * SSL_CTX for a listener (one list for every client of that listener), on
 * the SSL for an outbound connection (one list per connection).  One verify
 * callback serves both.  When our own checks refuse a handshake, the reason
 * (with the certificate subject) is kept in the SSL's ex_data for
 * tls_failure(), because the OpenSSL error queue is per thread and is gone
 * by the time the connection code logs the failure. */
#include "tls.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* TLS 1.2 suites: forward secret AEAD only (TLS 1.3 keeps OpenSSL's own). */
#define TLS12_CIPHERS                                                \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"

#define DNS_NAME_MAX 253

/* ---- name lists kept in ex_data ---- */

struct name_list {
	char **names;
	size_t n;
};

static void name_list_free(struct name_list *list)
{
	if (list == NULL)
		return;
	tls_names_free(list->names, list->n);
	free(list);
}

static struct name_list *name_list_copy(const char *const *names, size_t n)
{
	struct name_list *list = calloc(1, sizeof(*list));
	if (list == NULL)
		return NULL;
	list->names = calloc(n + 1, sizeof(*list->names));
	if (list->names == NULL) {
		free(list);
		return NULL;
	}
	for (; list->n < n; list->n++) {
		list->names[list->n] = strdup(names[list->n]);
		if (list->names[list->n] == NULL) {
			name_list_free(list);
			return NULL;
		}
	}
	return list;
}

/* ---- ex_data slots, created once per process and read-only after ---- */

static CRYPTO_ONCE index_once = CRYPTO_ONCE_STATIC_INIT;
static int ctx_names_index = -1; /* SSL_CTX: names a client certificate must match */
static int ssl_names_index = -1; /* SSL: names the server certificate must match */
static int ssl_failure_index = -1; /* SSL: why our checks refused the handshake */

static void names_free_callback(void *parent, void *ptr, CRYPTO_EX_DATA *data, int index, long argl,
				void *argp)
{
	(void)parent, (void)data, (void)index, (void)argl, (void)argp;
	name_list_free(ptr);
}

/* SSL_dup() copies ex_data pointers: give the copy its own list, so that
 * freeing either SSL leaves the other intact. */
static int names_dup_callback(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_data,
			      int index, long argl, void *argp)
{
	const struct name_list *list = *from_data;
	(void)to, (void)from, (void)index, (void)argl, (void)argp;
	if (list == NULL)
		return 1;
	*from_data = name_list_copy((const char *const *)list->names, list->n);
	return *from_data != NULL;
}

/* Why our checks refused a handshake, and whom (NULL when no certificate). */
struct tls_refusal {
	enum tls_failure_kind kind;
	char *subject;
	char text[];
};

static void failure_free_callback(void *parent, void *ptr, CRYPTO_EX_DATA *data, int index,
				  long argl, void *argp)
{
	struct tls_refusal *refusal = ptr;
	(void)parent, (void)data, (void)index, (void)argl, (void)argp;
	if (refusal != NULL)
		free(refusal->subject);
	free(refusal);
}

/* A copied SSL has not failed anything yet. */
static int failure_dup_callback(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_data,
				int index, long argl, void *argp)
{
	(void)to, (void)from, (void)index, (void)argl, (void)argp;
	*from_data = NULL;
	return 1;
}

static void tls_create_indexes(void)
{
	ctx_names_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, names_free_callback);
	ssl_names_index =
		SSL_get_ex_new_index(0, NULL, NULL, names_dup_callback, names_free_callback);
	ssl_failure_index =
		SSL_get_ex_new_index(0, NULL, NULL, failure_dup_callback, failure_free_callback);
}

static bool tls_indexes_ready(void)
{
	return CRYPTO_THREAD_run_once(&index_once, tls_create_indexes) && ctx_names_index >= 0 &&
	       ssl_names_index >= 0 && ssl_failure_index >= 0;
}

/* ---- errors ---- */

void tls_error(char *err, size_t err_size, const char *format, ...)
{
	char reason[256] = "no further detail";
	unsigned long code = ERR_get_error();
	va_list args;
	int used;

	if (code != 0)
		ERR_error_string_n(code, reason, sizeof(reason));
	ERR_clear_error();
	if (err == NULL || err_size == 0)
		return;
	va_start(args, format);
	used = vsnprintf(err, err_size, format, args);
	va_end(args);
	if (used >= 0 && (size_t)used < err_size)
		snprintf(err + used, err_size - (size_t)used, ": %s", reason);
}

/* Keeps the first reason our checks refused SSL, and CERT's subject apart
 * from it (the log gives each its own field). */
static void tls_refuse(SSL *ssl, enum tls_failure_kind kind, const char *reason, X509 *cert)
{
	struct tls_refusal *refusal;
	char *subject;
	size_t size;

	if (SSL_get_ex_data(ssl, ssl_failure_index) != NULL)
		return;
	subject = cert != NULL ? tls_cert_subject(cert) : NULL;
	size = strlen(reason) + 1;
	refusal = malloc(sizeof(*refusal) + size);
	if (refusal == NULL) {
		free(subject);
		return;
	}
	refusal->kind = kind;
	refusal->subject = subject;
	memcpy(refusal->text, reason, size);
	if (!SSL_set_ex_data(ssl, ssl_failure_index, refusal))
		failure_free_callback(NULL, refusal, NULL, 0, 0, NULL);
}

static const struct tls_refusal *tls_refusal(const SSL *ssl)
{
	if (ssl == NULL || !tls_indexes_ready())
		return NULL;
	return SSL_get_ex_data(ssl, ssl_failure_index);
}

const char *tls_failure(const SSL *ssl)
{
	const struct tls_refusal *refusal = tls_refusal(ssl);
	return refusal != NULL ? refusal->text : NULL;
}

enum tls_failure_kind tls_failure_kind(const SSL *ssl)
{
	const struct tls_refusal *refusal = tls_refusal(ssl);
	return refusal != NULL ? refusal->kind : TLS_FAILURE_NONE;
}

const char *tls_failure_name(enum tls_failure_kind kind)
{
	switch (kind) {
	case TLS_FAILURE_NONE:
		return "none";
	case TLS_FAILURE_PROTOCOL:
		return "protocol";
	case TLS_FAILURE_NO_SNI:
		return "no_sni";
	case TLS_FAILURE_SERVER_NAME_REFUSED:
		return "server_name_refused";
	case TLS_FAILURE_NO_CERTIFICATE:
		return "no_certificate";
	case TLS_FAILURE_CERTIFICATE_UNTRUSTED:
		return "certificate_untrusted";
	case TLS_FAILURE_CERTIFICATE_NAME:
		return "certificate_name";
	case TLS_FAILURE_CERTIFICATE_REFUSED_BY_PEER:
		return "certificate_refused_by_peer";
	}
	return "unknown";
}

bool tls_failure_is_certificate(enum tls_failure_kind kind)
{
	return kind == TLS_FAILURE_NO_CERTIFICATE || kind == TLS_FAILURE_CERTIFICATE_UNTRUSTED ||
	       kind == TLS_FAILURE_CERTIFICATE_NAME ||
	       kind == TLS_FAILURE_CERTIFICATE_REFUSED_BY_PEER;
}

enum tls_failure_kind tls_error_kind(unsigned long error)
{
	if (ERR_GET_LIB(error) != ERR_LIB_SSL)
		return TLS_FAILURE_PROTOCOL;
	switch (ERR_GET_REASON(error)) {
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		return TLS_FAILURE_CERTIFICATE_REFUSED_BY_PEER;
	default:
		return TLS_FAILURE_PROTOCOL;
	}
}

const char *tls_failure_subject(const SSL *ssl)
{
	const struct tls_refusal *refusal = tls_refusal(ssl);
	return refusal != NULL ? refusal->subject : NULL;
}

/* ---- callbacks run inside the handshake ---- */

static const struct name_list *tls_allowed_names(SSL *ssl)
{
	const struct name_list *list = SSL_get_ex_data(ssl, ssl_names_index);
	if (list != NULL)
		return list;
	return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_names_index);
}

/* Chain errors at any depth are recorded and fatal; once OpenSSL reports the
 * leaf (depth 0) as fine, the leaf must also carry an allowed name. */
static int tls_verify_callback(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	X509 *leaf = X509_STORE_CTX_get0_cert(store);
	const struct name_list *allowed;
	char reason[300];

	if (ssl == NULL)
		return preverify_ok;
	if (!preverify_ok) {
		snprintf(reason, sizeof(reason), "certificate not trusted: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
		tls_refuse(ssl, TLS_FAILURE_CERTIFICATE_UNTRUSTED, reason, leaf);
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	allowed = tls_allowed_names(ssl);
	if (allowed == NULL ||
	    tls_cert_matches(leaf, (const char *const *)allowed->names, allowed->n))
		return 1;
	tls_refuse(ssl, TLS_FAILURE_CERTIFICATE_NAME, "certificate name not allowed", leaf);
	/* Makes OpenSSL send "bad certificate" rather than a generic alert. */
	X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/* XMPP: an untrusted chain ends nothing (SSL_get_verify_result keeps the
 * verdict for tls_peer_verified); the owner checks the names itself. */
static int tls_verify_tolerant(int preverify_ok, X509_STORE_CTX *store)
{
	(void)preverify_ok;
	(void)store;
	return 1;
}

static int tls_client_hello_callback(SSL *ssl, int *alert, void *arg)
{
	const unsigned char *extension;
	size_t length;

	(void)arg;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &extension, &length) == 1 &&
	    length > 0)
		return SSL_CLIENT_HELLO_SUCCESS;
	tls_refuse(ssl, TLS_FAILURE_NO_SNI, "no SNI", NULL);
	*alert = SSL_AD_UNRECOGNIZED_NAME;
	return SSL_CLIENT_HELLO_ERROR;
}

/* A missing client certificate never reaches the verify callback: OpenSSL
 * refuses it on its own.  It raises SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE
 * and sends the fatal alert at once, in the same call on this thread, so the
 * newest queued error at that moment names the cause exactly. */
static void tls_info_callback(const SSL *ssl, int where, int value)
{
	unsigned long error;

	if (!(where & SSL_CB_WRITE_ALERT) || (value >> 8) != SSL3_AL_FATAL || !SSL_is_server(ssl))
		return;
	error = ERR_peek_last_error();
	if (ERR_GET_LIB(error) == ERR_LIB_SSL &&
	    ERR_GET_REASON(error) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		/* the SSL is ours */
		tls_refuse((SSL *)ssl, TLS_FAILURE_NO_CERTIFICATE, "no client certificate", NULL);
}

/* ---- contexts ---- */

static SSL_CTX *tls_new_context(const SSL_METHOD *method, char *err, size_t err_size)
{
	static const unsigned char session_context[] = "sxedge";
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		tls_error(err, err_size, "cannot create a TLS context");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_num_tickets(ctx, 0) || !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    !SSL_CTX_set_session_id_context(ctx, session_context, sizeof(session_context) - 1)) {
		tls_error(err, err_size, "cannot set up a TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* No tickets and no session cache: sxedge does no resumption, and
	 * some SIP clients break on TLS 1.3 tickets. */
	/* SIP frames by Content-Length, so a peer that closes without
	 * close_notify (many SIP clients do) has simply closed. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Idle connections are the common case; do not hold 2 x 16 KiB each.
	 * Send exactly the configured chain, not one completed from ca_file, so
	 * what peers see does not depend on the client certificate settings. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
	SSL_CTX_set_dh_auto(ctx, 1);
	SSL_CTX_set_info_callback(ctx, tls_info_callback);
	return ctx;
}

/* Refuses encrypted keys instead of prompting on a terminal. */
static int tls_no_password(char *buffer, int size, int rwflag, void *arg)
{
	(void)buffer, (void)size, (void)rwflag, (void)arg;
	return -1;
}

EVP_PKEY *tls_read_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *key;

	if (bio == NULL)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, tls_no_password, NULL);
	BIO_free(bio);
	return key;
}

X509 *tls_read_certificate(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *certificate;

	if (bio == NULL)
		return NULL;
	certificate = PEM_read_bio_X509(bio, NULL, tls_no_password, NULL);
	BIO_free(bio);
	return certificate;
}

static int tls_load_identity(SSL_CTX *ctx, const char *certificate, const char *key_path, char *err,
			     size_t err_size)
{
	EVP_PKEY *key;

	if (SSL_CTX_use_certificate_chain_file(ctx, certificate) != 1) {
		tls_error(err, err_size, "%s: cannot load certificate chain", certificate);
		return -1;
	}
	key = tls_read_key(key_path);
	if (key == NULL) {
		tls_error(err, err_size, "%s: cannot load private key", key_path);
		return -1;
	}
	if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), key) != 1) {
		tls_error(err, err_size, "%s: private key does not match certificate %s", key_path,
			  certificate);
		EVP_PKEY_free(key);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, err_size, "%s: cannot use private key", key_path);
		EVP_PKEY_free(key);
		return -1;
	}
	EVP_PKEY_free(key);
	return 0;
}

/* Trusts CA_FILE; a server also offers its subjects as acceptable issuers,
 * which lets clients holding several certificates pick the right one. */
static int tls_load_ca(SSL_CTX *ctx, const char *ca_file, bool send_names, char *err,
		       size_t err_size)
{
	STACK_OF(X509_NAME) * names;

	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		tls_error(err, err_size, "%s: cannot load CA certificates", ca_file);
		return -1;
	}
	if (!send_names)
		return 0;
	names = SSL_load_client_CA_file(ca_file);
	if (names == NULL) {
		tls_error(err, err_size, "%s: cannot read CA certificate names", ca_file);
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	return 0;
}

static int tls_verify_mode(enum client_cert_mode mode)
{
	switch (mode) {
	case CLIENT_CERT_NONE:
		return SSL_VERIFY_NONE;
	case CLIENT_CERT_OPTIONAL:
		return SSL_VERIFY_PEER;
	case CLIENT_CERT_REQUIRED:
		break;
	}
	return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
}

static int tls_set_peer_names(SSL_CTX *ctx, const char *const *peer_names, size_t n, char *err,
			      size_t err_size)
{
	struct name_list *list;

	if (peer_names == NULL)
		return 0;
	list = name_list_copy(peer_names, n);
	if (list == NULL || !SSL_CTX_set_ex_data(ctx, ctx_names_index, list)) {
		name_list_free(list);
		tls_error(err, err_size, "out of memory");
		return -1;
	}
	return 0;
}

SSL_CTX *tls_server_context(const struct listener_config *listener, const char *const *peer_names,
			    size_t n_peer_names, char *err, size_t err_size)
{
	bool wants_client_cert = listener->client_cert != CLIENT_CERT_NONE;
	SSL_CTX *ctx;

	ERR_clear_error();
	if (!tls_indexes_ready()) {
		tls_error(err, err_size, "cannot initialise TLS");
		return NULL;
	}
	if (wants_client_cert && listener->ca_file == NULL) {
		snprintf(err, err_size, "listener %s: client certificates need a ca_file",
			 listener->name != NULL ? listener->name : "?");
		return NULL;
	}
	ctx = tls_new_context(TLS_server_method(), err, err_size);
	if (ctx == NULL)
		return NULL;
	if (tls_load_identity(ctx, listener->certificate, listener->key, err, err_size) != 0 ||
	    (wants_client_cert && tls_load_ca(ctx, listener->ca_file, true, err, err_size) != 0) ||
	    tls_set_peer_names(ctx, peer_names, n_peer_names, err, err_size) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, tls_verify_mode(listener->client_cert), tls_verify_callback);
	if (listener->require_sni)
		SSL_CTX_set_client_hello_cb(ctx, tls_client_hello_callback, NULL);
	return ctx;
}

SSL_CTX *tls_client_context(const char *certificate, const char *key, const char *ca_file,
			    char *err, size_t err_size)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if (!tls_indexes_ready()) {
		tls_error(err, err_size, "cannot initialise TLS");
		return NULL;
	}
	ctx = tls_new_context(TLS_client_method(), err, err_size);
	if (ctx == NULL)
		return NULL;
	/* Without a certificate the context simply presents none. */
	if (certificate != NULL &&
	    tls_load_identity(ctx, certificate, key != NULL ? key : certificate, err, err_size) !=
		    0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ca_file != NULL) {
		if (tls_load_ca(ctx, ca_file, false, err, err_size) != 0) {
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_error(err, err_size, "cannot load the system CA certificates");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify_callback);
	return ctx;
}

/* ---- outbound connections ---- */

/* Is the last label of NAME all digits?  No top-level domain is, so NAME is
 * then an IPv4 literal rather than a DNS name. */
static bool numeric_last_label(const char *name, size_t length)
{
	size_t i;

	for (i = length; i > 0 && name[i - 1] != '.'; i--) {
		if (name[i - 1] < '0' || name[i - 1] > '9')
			return false;
	}
	return i < length;
}

/* SNI carries DNS names only (RFC 6066 §3): no IP literals, no trailing dot. */
static bool tls_sni_name(const char *host, char *out, size_t size)
{
	size_t length = strlen(host);

	if (length > 0 && host[length - 1] == '.')
		length--;
	if (length == 0 || length >= size || length > DNS_NAME_MAX)
		return false;
	if (memchr(host, ':', length) != NULL || numeric_last_label(host, length))
		return false; /* an IPv6 or IPv4 literal */
	memcpy(out, host, length);
	out[length] = '\0';
	return true;
}

int tls_client_expect(SSL *ssl, const char *sni, const char *const *names, size_t n_names)
{
	char server_name[DNS_NAME_MAX + 1];
	struct name_list *list, *old;

	if (!tls_indexes_ready())
		return -1;
	if (sni != NULL && tls_sni_name(sni, server_name, sizeof(server_name)) &&
	    SSL_set_tlsext_host_name(ssl, server_name) != 1)
		return -1;
	if (names != NULL) {
		list = name_list_copy(names, n_names);
		old = SSL_get_ex_data(ssl, ssl_names_index);
		if (list == NULL || !SSL_set_ex_data(ssl, ssl_names_index, list)) {
			name_list_free(list);
			return -1;
		}
		name_list_free(old);
	}
	/* A tolerant context (tls_client_tolerate_untrusted) stays tolerant:
	 * its owner checks the certificate itself. */
	SSL_verify_cb callback = SSL_CTX_get_verify_callback(SSL_get_SSL_CTX(ssl));
	SSL_set_verify(ssl, SSL_VERIFY_PEER,
		       callback == tls_verify_tolerant ? tls_verify_tolerant : tls_verify_callback);
	return 0;
}

/* ---- RFC 6125 name matching ---- */

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Locale-independent: certificates carry A-labels, so ASCII folding is right. */
static bool ascii_equal(const char *a, const char *b, size_t length)
{
	size_t i;
	for (i = 0; i < length; i++) {
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	}
	return true;
}

/* A name made of non-empty dot-separated labels, none holding a '*'. */
static bool plain_dns_name(const char *name, size_t length)
{
	size_t i;
	size_t label = 0;

	if (length == 0 || length > DNS_NAME_MAX)
		return false;
	for (i = 0; i < length; i++) {
		if (name[i] == '*')
			return false;
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else {
			label++;
		}
	}
	return label > 0;
}

/* "*.SUFFIX" matches exactly one label in front of SUFFIX, and SUFFIX must
 * have two labels at least, so "*.com" matches nothing. */
static bool wildcard_matches(const char *presented, size_t presented_length, const char *reference,
			     size_t reference_length)
{
	const char *suffix = presented + 2;
	size_t suffix_length = presented_length - 2;
	const char *dot;

	if (presented_length < 2 || presented[1] != '.' || !plain_dns_name(suffix, suffix_length) ||
	    memchr(suffix, '.', suffix_length) == NULL)
		return false;
	/* An IP address is no DNS name: "*.0.0.1" must not match "127.0.0.1". */
	if (numeric_last_label(reference, reference_length))
		return false;
	dot = memchr(reference, '.', reference_length);
	if (dot == NULL || dot == reference)
		return false;
	dot++;
	return (size_t)(reference + reference_length - dot) == suffix_length &&
	       ascii_equal(dot, suffix, suffix_length);
}

bool tls_name_matches(const char *presented, const char *reference)
{
	size_t presented_length, reference_length;

	if (presented == NULL || reference == NULL)
		return false;
	presented_length = strlen(presented);
	reference_length = strlen(reference);
	/* "example.com." and "example.com" are the same reference identity. */
	if (reference_length > 0 && reference[reference_length - 1] == '.')
		reference_length--;
	if (!plain_dns_name(reference, reference_length))
		return false;
	if (presented_length > 0 && presented[0] == '*')
		return wildcard_matches(presented, presented_length, reference, reference_length);
	return plain_dns_name(presented, presented_length) &&
	       presented_length == reference_length &&
	       ascii_equal(presented, reference, reference_length);
}

/* ---- certificate identities ---- */

/* Appends a copy of DATA to NAMES unless it is empty or hides a NUL (the
 * classic "good.example\0.evil.example" trick). */
static void names_add(char **names, size_t *n, const unsigned char *data, int length)
{
	char *copy;

	if (data == NULL || length <= 0 || memchr(data, '\0', (size_t)length) != NULL)
		return;
	copy = strndup((const char *)data, (size_t)length);
	if (copy != NULL)
		names[(*n)++] = copy;
}

static void names_add_common_name(X509 *cert, char **names, size_t *n)
{
	X509_NAME *subject = X509_get_subject_name(cert);
	int index = -1, last = -1;
	unsigned char *utf8 = NULL;
	int length;

	/* The most specific (last) CN, as other RFC 6125 clients do. */
	while ((index = X509_NAME_get_index_by_NID(subject, NID_commonName, index)) >= 0)
		last = index;
	if (last < 0)
		return;
	length = ASN1_STRING_to_UTF8(&utf8,
				     X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last)));
	if (length > 0)
		names_add(names, n, utf8, length);
	OPENSSL_free(utf8);
}

size_t tls_cert_names(X509 *cert, char ***names)
{
	GENERAL_NAMES *alt_names;
	char **list;
	size_t n = 0;
	int critical = -1;
	int count, i;
	bool has_dns_name = false;

	*names = NULL;
	if (cert == NULL)
		return 0;
	alt_names = X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, NULL);
	/* Present but unreadable, or twice: trust neither SAN nor CN. */
	if (alt_names == NULL && critical != -1)
		return 0;
	count = alt_names != NULL ? sk_GENERAL_NAME_num(alt_names) : 0;
	list = calloc((size_t)count + 1, sizeof(*list));
	if (list == NULL) {
		GENERAL_NAMES_free(alt_names);
		return 0;
	}
	for (i = 0; i < count; i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(alt_names, i);
		if (name->type != GEN_DNS)
			continue;
		has_dns_name = true;
		names_add(list, &n, ASN1_STRING_get0_data(name->d.dNSName),
			  ASN1_STRING_length(name->d.dNSName));
	}
	GENERAL_NAMES_free(alt_names);
	if (!has_dns_name)
		names_add_common_name(cert, list, &n);
	if (n == 0) {
		free(list);
		return 0;
	}
	*names = list;
	return n;
}

void tls_names_free(char **names, size_t n)
{
	size_t i;
	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

bool tls_names_match(char *const *names, size_t n_names, const char *const *references,
		     size_t n_references)
{
	for (size_t i = 0; i < n_names; i++) {
		for (size_t j = 0; j < n_references; j++) {
			if (tls_name_matches(names[i], references[j]))
				return true;
		}
	}
	return false;
}

bool tls_cert_matches(X509 *cert, const char *const *references, size_t n)
{
	char **names;
	size_t n_names = tls_cert_names(cert, &names);
	bool found = tls_names_match(names, n_names, references, n);
	tls_names_free(names, n_names);
	return found;
}

char *tls_cert_subject(X509 *cert)
{
	BIO *bio;
	char *data;
	long length;
	char *subject = NULL;

	if (cert == NULL)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return NULL;
	/* RFC 2253 escaping keeps control bytes and non-ASCII out of logs. */
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
		length = BIO_get_mem_data(bio, &data);
		if (length >= 0)
			subject = strndup(length > 0 ? data : "", (size_t)length);
	}
	BIO_free(bio);
	return subject;
}

/* ---- handles ---- */

struct tls_server {
	SSL_CTX *ctx;
	atomic_uint references;
	tls_certificate_chooser *chooser;
	void *chooser_arg;
};

struct tls_client {
	SSL_CTX *ctx;
	atomic_uint references;
};

struct tls_identity {
	X509 *certificate;
	EVP_PKEY *key;
	STACK_OF(X509) * chain; /* after the leaf, as in the file */
};

struct tls_server *tls_server_new(const struct listener_config *listener,
				  const char *const *peer_names, size_t n_peer_names, char *err,
				  size_t err_size)
{
	struct tls_server *server = calloc(1, sizeof(*server));
	if (server == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	server->ctx = tls_server_context(listener, peer_names, n_peer_names, err, err_size);
	if (server->ctx == NULL) {
		free(server);
		return NULL;
	}
	atomic_init(&server->references, 1);
	return server;
}

struct tls_server *tls_server_hold(struct tls_server *server)
{
	atomic_fetch_add(&server->references, 1);
	return server;
}

void tls_server_release(struct tls_server *server)
{
	if (server == NULL || atomic_fetch_sub(&server->references, 1) != 1)
		return;
	SSL_CTX_free(server->ctx);
	free(server);
}

/* Runs once the ClientHello is read (after require_sni's check, which is a
 * client hello callback) and before the certificate is chosen, so the
 * identity set here is the one sent. */
static int tls_servername_callback(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *server = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct tls_identity *identity = NULL;

	switch (server->chooser(server->chooser_arg, SSL_get_app_data(ssl), name, &identity)) {
	case TLS_CERTIFICATE_DEFAULT:
		return SSL_TLSEXT_ERR_OK;
	case TLS_CERTIFICATE_CHOSEN:
		if (identity != NULL &&
		    SSL_use_cert_and_key(ssl, identity->certificate, identity->key, identity->chain,
					 1) == 1)
			return SSL_TLSEXT_ERR_OK;
		tls_refuse(ssl, TLS_FAILURE_PROTOCOL, "cannot use the chosen certificate", NULL);
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	case TLS_CERTIFICATE_REFUSED:
		break;
	}
	tls_refuse(ssl, TLS_FAILURE_SERVER_NAME_REFUSED, "server name refused", NULL);
	*alert = SSL_AD_UNRECOGNIZED_NAME;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void tls_server_tolerate_untrusted(struct tls_server *server)
{
	SSL_CTX_set_verify(server->ctx, SSL_VERIFY_PEER, tls_verify_tolerant);
}

void tls_client_tolerate_untrusted(struct tls_client *client)
{
	SSL_CTX_set_verify(client->ctx, SSL_VERIFY_PEER, tls_verify_tolerant);
}

bool tls_peer_verified(const SSL *ssl)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	return peer != NULL && SSL_get_verify_result(ssl) == X509_V_OK;
}

void tls_server_choose_certificate(struct tls_server *server, tls_certificate_chooser *chooser,
				   void *arg)
{
	server->chooser = chooser;
	server->chooser_arg = arg;
	SSL_CTX_set_tlsext_servername_callback(server->ctx, tls_servername_callback);
	SSL_CTX_set_tlsext_servername_arg(server->ctx, server);
}

SSL *tls_server_open(struct tls_server *server)
{
	return SSL_new(server->ctx);
}

void tls_set_handshake_owner(SSL *ssl, void *owner)
{
	SSL_set_app_data(ssl, owner);
}

struct tls_client *tls_client_new(const char *certificate, const char *key, const char *ca_file,
				  char *err, size_t err_size)
{
	struct tls_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	client->ctx = tls_client_context(certificate, key, ca_file, err, err_size);
	if (client->ctx == NULL) {
		free(client);
		return NULL;
	}
	atomic_init(&client->references, 1);
	return client;
}

struct tls_client *tls_client_from_identity(const struct tls_client *trust,
					    const struct tls_identity *identity, char *err,
					    size_t err_size)
{
	struct tls_client *client = tls_client_new(NULL, NULL, NULL, err, err_size);

	if (client == NULL)
		return NULL;
	X509_STORE *store = SSL_CTX_get_cert_store(trust->ctx);
	if (X509_STORE_up_ref(store) != 1) {
		tls_error(err, err_size, "cannot share the trusted CAs");
		tls_client_release(client);
		return NULL;
	}
	SSL_CTX_set_cert_store(client->ctx, store);
	SSL_CTX_set_verify(client->ctx, SSL_CTX_get_verify_mode(trust->ctx),
			   SSL_CTX_get_verify_callback(trust->ctx));
	if (SSL_CTX_use_cert_and_key(client->ctx, identity->certificate, identity->key,
				     identity->chain, 1) != 1) {
		tls_error(err, err_size, "cannot use the certificate to present");
		tls_client_release(client);
		return NULL;
	}
	return client;
}

struct tls_client *tls_client_hold(struct tls_client *client)
{
	atomic_fetch_add(&client->references, 1);
	return client;
}

void tls_client_release(struct tls_client *client)
{
	if (client == NULL || atomic_fetch_sub(&client->references, 1) != 1)
		return;
	SSL_CTX_free(client->ctx);
	free(client);
}

SSL *tls_client_open(struct tls_client *client, const struct tls_expect *expect)
{
	SSL *ssl = SSL_new(client->ctx);
	if (ssl == NULL ||
	    tls_client_expect(ssl, expect->server_name, expect->names, expect->n_names) < 0) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* ---- identities chosen per connection ---- */

void tls_identity_free(struct tls_identity *identity)
{
	if (identity == NULL)
		return;
	X509_free(identity->certificate);
	EVP_PKEY_free(identity->key);
	sk_X509_pop_free(identity->chain, X509_free);
	free(identity);
}

struct tls_identity *tls_identity_new(X509 *certificate, EVP_PKEY *key)
{
	struct tls_identity *identity = calloc(1, sizeof(*identity));

	if (identity == NULL)
		return NULL;
	identity->chain = sk_X509_new_null();
	if (identity->chain == NULL || !X509_up_ref(certificate)) {
		tls_identity_free(identity);
		return NULL;
	}
	identity->certificate = certificate;
	if (!EVP_PKEY_up_ref(key)) {
		tls_identity_free(identity);
		return NULL;
	}
	identity->key = key;
	return identity;
}

X509 *tls_identity_certificate(const struct tls_identity *identity)
{
	return identity->certificate;
}

/* The leaf, then every further certificate of the file as its chain. */
static int tls_identity_read_chain(struct tls_identity *identity, const char *certificate)
{
	BIO *bio = BIO_new_file(certificate, "r");
	X509 *next;

	if (bio == NULL)
		return -1;
	identity->certificate = PEM_read_bio_X509(bio, NULL, tls_no_password, NULL);
	identity->chain = sk_X509_new_null();
	if (identity->certificate == NULL || identity->chain == NULL) {
		BIO_free(bio);
		return -1;
	}
	while ((next = PEM_read_bio_X509(bio, NULL, tls_no_password, NULL)) != NULL) {
		if (!sk_X509_push(identity->chain, next)) {
			X509_free(next);
			BIO_free(bio);
			return -1;
		}
	}
	BIO_free(bio);
	ERR_clear_error(); /* the end of the file reads as "no start line" */
	return 0;
}

struct tls_identity *tls_identity_load(const char *certificate, const char *key, char *err,
				       size_t err_size)
{
	struct tls_identity *identity = calloc(1, sizeof(*identity));

	ERR_clear_error();
	if (identity == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	if (tls_identity_read_chain(identity, certificate) < 0) {
		tls_error(err, err_size, "%s: cannot load certificate chain", certificate);
		tls_identity_free(identity);
		return NULL;
	}
	identity->key = tls_read_key(key);
	if (identity->key == NULL) {
		tls_error(err, err_size, "%s: cannot load private key", key);
		tls_identity_free(identity);
		return NULL;
	}
	if (X509_check_private_key(identity->certificate, identity->key) != 1) {
		tls_error(err, err_size, "%s: private key does not match certificate %s", key,
			  certificate);
		tls_identity_free(identity);
		return NULL;
	}
	return identity;
}
