/* SPDX-License-Identifier: ISC */
/* tls: OpenSSL contexts for sxedge's listeners and outbound links, and the
 * RFC 6125 identity checks that decide which peer is who.
 *
 * Every context speaks TLS 1.2 or newer only and sends no session tickets
 * (some SIP clients fail on them, and sxedge does no resumption).  A context
 * may carry a list of names that the peer's certificate must match; the
 * check runs inside the handshake, so a peer with the wrong name is refused
 * before it can send a byte, and tls_failure() tells why for the log. */
#ifndef SXEDGE_TLS_H
#define SXEDGE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"

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

/* Does any identity of CERT match any of the N REFERENCES? */
bool tls_cert_matches(X509 *cert, const char *const *references, size_t n);

/* The certificate subject as one RFC 2253 line (malloc'd), or NULL. */
char *tls_cert_subject(X509 *cert);

/* Why our own checks refused the handshake on SSL (no SNI, certificate
 * name not allowed, chain not trusted), or NULL if they did not. */
const char *tls_failure(const SSL *ssl);

/* The subject of the certificate our checks refused on SSL, or NULL. */
const char *tls_failure_subject(const SSL *ssl);

#endif
