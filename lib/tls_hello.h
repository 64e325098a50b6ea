/* SPDX-License-Identifier: ISC */
/* tls_hello: the server name a TLS client asks for, read from the bytes of
 * its ClientHello before any handshake starts.
 *
 * The edge answers the internal XMPP server on 23456 with a certificate
 * for the partner it asks for (SNI), minted only once that partner is
 * authenticated on the public side.  Authenticating it takes a stream of
 * its own, seconds; libevent's TLS bufferevent cannot pause a handshake for
 * that, so the connection is accepted plain, its owner reads the name here
 * while the ClientHello waits in the input, and the handshake starts on
 * those same bytes once the answer is known (conn_start_tls_server_buffered).
 *
 * The ClientHello is parsed by OpenSSL itself, in a scratch handshake on a
 * memory copy that stops once the name is read: the name read here is the
 * one the real handshake sees, from the same parser. */
#ifndef SXEDGE_TLS_HELLO_H
#define SXEDGE_TLS_HELLO_H

#include <stddef.h>

enum tls_hello {
	TLS_HELLO_INCOMPLETE, /* more bytes are needed */
	TLS_HELLO_READ, /* the ClientHello was read: NAME holds its SNI ("" without one) */
	TLS_HELLO_UNREADABLE, /* not a ClientHello OpenSSL accepts, or one past the limits:
				 the handshake itself fails it, with its alert */
};

/* At most this many records are looked at (a ClientHello may be split
 * over several; a peer sending one byte per record must not make the edge
 * parse the same bytes thousands of times). */
#define TLS_HELLO_RECORDS_MAX 4

/* Reads the first SIZE bytes a client sent on a TLS connection, DATA.
 * OpenSSL looks at them only once they form whole TLS records.  NAME gets
 * the server name (at most NAME_SIZE - 1 bytes; a longer one, or one with
 * a NUL, makes the hello UNREADABLE). */
enum tls_hello tls_hello_server_name(const void *data, size_t size, char *name, size_t name_size);

#endif
