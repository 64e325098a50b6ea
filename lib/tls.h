/* SPDX-License-Identifier: ISC */
/* tls: OpenSSL contexts for sxedge's listeners and outbound links, and the
 * RFC 6125 identity checks that decide which peer is who.
 *
 * Every context speaks TLS 1.2 or newer only and sends no session tickets
 * (some SIP clients fail on them, and sxedge does no resumption).  A context
 * may carry a list of names that the peer's certificate must match; the
 * check runs inside the handshake, so a peer with the wrong name is refused
 * before it can send a byte, and tls_failure() tells why for the log.
 *
 * The protocol code holds contexts only as handles: a struct tls_server
 * (one listener's certificate, client certificate rules, and optionally a
 * per-connection certificate choice by SNI) or a struct tls_client (the
 * identity the edge presents on its outbound links).  Handles are counted:
 * every connection holds the handle it was set up with, so a reload can
 * build new handles from a new configuration beside the old ones while old
 * connections keep theirs.  Only lib/conn opens SSL objects from them. */
#ifndef SXEDGE_TLS_H
#define SXEDGE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"

/* ---- handles for the protocol code ---- */

struct tls_server;
struct tls_client;

/* What an outbound connection sends as SNI (NULL or an IP literal: none)
 * and the names the server certificate must match (one of N). */
struct tls_expect {
	const char *server_name;
	const char *const *names;
	size_t n_names;
};

/* Why a handshake failed, as far as sxedge can tell. */
enum tls_failure_kind {
	TLS_FAILURE_NONE,
	TLS_FAILURE_PROTOCOL, /* OpenSSL refused: version, cipher, bad record, peer's alert */
	TLS_FAILURE_NO_SNI, /* require_sni and the client sent none */
	TLS_FAILURE_SERVER_NAME_REFUSED, /* the certificate chooser refused the SNI */
	TLS_FAILURE_NO_CERTIFICATE, /* a required client certificate was missing */
	TLS_FAILURE_CERTIFICATE_UNTRUSTED, /* the chain does not lead to a trusted CA */
	TLS_FAILURE_CERTIFICATE_NAME, /* trusted, but no allowed name */
	TLS_FAILURE_CERTIFICATE_REFUSED_BY_PEER, /* the peer's alert refused ours */
};
#define TLS_FAILURE_KINDS (TLS_FAILURE_CERTIFICATE_REFUSED_BY_PEER + 1)

/* The kind's stable name, for logs (failure=) and metrics: "no_sni". */
const char *tls_failure_name(enum tls_failure_kind kind);

/* The kinds that mean "a certificate was refused", on either side. */
bool tls_failure_is_certificate(enum tls_failure_kind kind);

/* The kind of a handshake failure that our checks did not cause, from the
 * OpenSSL error it left (a peer's certificate alert, or any other). */
enum tls_failure_kind tls_error_kind(unsigned long error);

/* A server handle for LISTENER, as tls_server_context(); one reference.
 * On failure returns NULL and writes a message naming the file into ERR. */
struct tls_server *tls_server_new(const struct listener_config *listener,
				  const char *const *peer_names, size_t n_peer_names, char *err,
				  size_t err_size);

/* A certificate and key to present, with the chain after the leaf. */
struct tls_identity;
struct tls_identity *tls_identity_load(const char *certificate, const char *key, char *err,
				       size_t err_size);
/* An identity of CERTIFICATE and KEY with no chain, for code that makes
 * its certificates itself (lib/tls_mint); it takes a reference on each.
 * NULL when out of memory. */
struct tls_identity *tls_identity_new(X509 *certificate, EVP_PKEY *key);
void tls_identity_free(struct tls_identity *identity);
/* The leaf certificate IDENTITY presents (IDENTITY keeps the reference). */
X509 *tls_identity_certificate(const struct tls_identity *identity);

enum tls_certificate_choice {
	TLS_CERTIFICATE_DEFAULT, /* the listener's own certificate */
	TLS_CERTIFICATE_CHOSEN, /* the identity the chooser set */
	TLS_CERTIFICATE_REFUSED, /* end the handshake (alert unrecognized_name) */
};

/* Picks the certificate for one handshake from the SNI the client sent
 * (SERVER_NAME, NULL without one).  HANDSHAKE is what the connection's
 * owner set with tls_set_handshake_owner (lib/conn: the conn owner's arg),
 * NULL when nothing was.  With TLS_CERTIFICATE_CHOSEN it sets *IDENTITY,
 * which needs to stay valid only until the chooser returns: the connection
 * takes its own references on what it presents. */
typedef enum tls_certificate_choice tls_certificate_chooser(void *arg, void *handshake,
							    const char *server_name,
							    const struct tls_identity **identity);

/* Makes SERVER ask CHOOSER (with ARG, which must outlive SERVER) on every
 * handshake.  Runs after require_sni's check. */
void tls_server_choose_certificate(struct tls_server *server, tls_certificate_chooser *chooser,
				   void *arg);

/* XMPP federation: a peer certificate that is missing, untrusted or names
 * somebody else does not end the handshake (the peer may still prove its
 * domain by dialback); tls_peer_verified says whether it verified, and the
 * owner matches its names itself.  For a client, the names of the
 * tls_expect it connects with are then not enforced either. */
void tls_server_tolerate_untrusted(struct tls_server *server);
void tls_client_tolerate_untrusted(struct tls_client *client);
/* After the handshake: a peer certificate came and its chain verified. */
bool tls_peer_verified(const SSL *ssl);

struct tls_server *tls_server_hold(struct tls_server *server);
void tls_server_release(struct tls_server *server);

/* A client handle, as tls_client_context(); one reference. */
struct tls_client *tls_client_new(const char *certificate, const char *key, const char *ca_file,
				  char *err, size_t err_size);
/* A client handle presenting IDENTITY (its certificate, key and chain,
 * referenced: IDENTITY may go first), verifying servers as TRUST does
 * (its CAs, shared: a handle made at start, while the CA file could be
 * read, serves every identity minted later).  On failure NULL, and ERR
 * says why. */
struct tls_client *tls_client_from_identity(const struct tls_client *trust,
					    const struct tls_identity *identity, char *err,
					    size_t err_size);
struct tls_client *tls_client_hold(struct tls_client *client);
void tls_client_release(struct tls_client *client);

/* For lib/conn: a new SSL for one connection (NULL when out of memory). */
SSL *tls_server_open(struct tls_server *server);
/* What a certificate chooser gets as HANDSHAKE for SSL. */
void tls_set_handshake_owner(SSL *ssl, void *owner);
SSL *tls_client_open(struct tls_client *client, const struct tls_expect *expect);

/* ---- the OpenSSL layer under the handles (lib/conn and the tests) ---- */

/* A server context for LISTENER: its certificate and key, its client
 * certificate mode (verified against ca_file) and require_sni.  When
 * PEER_NAMES is not NULL, a client certificate must match one of the N names.
 * On failure returns NULL and writes a message naming the file into ERR. */
SSL_CTX *tls_server_context(const struct listener_config *listener, const char *const *peer_names,
			    size_t n_peer_names, char *err, size_t err_size);

/* A client context that presents CERTIFICATE/KEY and verifies servers
 * against CA_FILE.  Server names are checked per connection, see
 * tls_client_expect(). */
SSL_CTX *tls_client_context(const char *certificate, const char *key, const char *ca_file,
			    char *err, size_t err_size);

/* Prepares an outbound SSL: sends SNI (when SNI is a DNS name, not an IP
 * literal) and requires the server certificate to match one of NAMES.
 * Returns 0, or -1 when out of memory. */
int tls_client_expect(SSL *ssl, const char *sni, const char *const *names, size_t n_names);

/* The private key, or the first certificate, of the PEM file PATH; NULL
 * when it cannot be read (an encrypted key is refused, never prompted for). */
EVP_PKEY *tls_read_key(const char *path);
X509 *tls_read_certificate(const char *path);

/* Writes the formatted message, ": ", and the earliest queued OpenSSL error
 * (the root cause; later entries only say which call gave up) into ERR, and
 * clears the queue. */
void tls_error(char *err, size_t err_size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* RFC 6125 §6.4: does the DNS-ID PRESENTED in a certificate match the
 * REFERENCE identity?  Case-insensitive; a wildcard is accepted only as the
 * whole left-most label ("*.example.com"), matches exactly one label, and
 * never matches a public-suffix-like two-label name ("*.com"). */
bool tls_name_matches(const char *presented, const char *reference);

/* The certificate's identities: its subjectAltName dNSNames, or its subject
 * CN only when it has no dNSName at all.  Returns the count and a malloc'd
 * array of malloc'd strings in *NAMES (free with tls_names_free). */
size_t tls_cert_names(X509 *cert, char ***names);
void tls_names_free(char **names, size_t n);

/* Does any of the N_NAMES presented identities NAMES (tls_cert_names,
 * conn_peer_names) match any of the N_REFERENCES names (tls_name_matches)? */
bool tls_names_match(char *const *names, size_t n_names, const char *const *references,
		     size_t n_references);

/* Does any identity of CERT match any of the N REFERENCES? */
bool tls_cert_matches(X509 *cert, const char *const *references, size_t n);

/* The certificate subject as one RFC 2253 line (malloc'd), or NULL. */
char *tls_cert_subject(X509 *cert);

/* Why our own checks refused the handshake on SSL (no SNI, certificate
 * name not allowed, chain not trusted), or NULL if they did not. */
const char *tls_failure(const SSL *ssl);
/* The same refusal as a kind: TLS_FAILURE_NONE when our checks did not
 * refuse (OpenSSL itself may still have). */
enum tls_failure_kind tls_failure_kind(const SSL *ssl);

/* The subject of the certificate our checks refused on SSL, or NULL. */
const char *tls_failure_subject(const SSL *ssl);

#endif
