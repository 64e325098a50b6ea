/* SPDX-License-Identifier: ISC */
/* tls_hello: see tls_hello.h. */
#include "tls_hello.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define RECORD_HEADER	   5
#define RECORD_HANDSHAKE   22
#define RECORD_PAYLOAD_MAX 16384 /* RFC 8446 §5.1: 2^14 */

/* What the scratch handshake learnt. */
struct hello_answer {
	bool read;
	bool fits;
	char *name;
	size_t name_size;
};

/* Called by OpenSSL once the ClientHello's extensions are parsed, with or
 * without SNI; nothing after it is wanted, so the scratch handshake ends. */
static int hello_on_server_name(SSL *ssl, int *alert, void *arg)
{
	struct hello_answer *answer = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	(void)arg;

	answer->read = true;
	if (name == NULL)
		name = "";
	answer->fits = strlen(name) < answer->name_size;
	if (answer->fits)
		memcpy(answer->name, name, strlen(name) + 1);
	*alert = SSL_AD_INTERNAL_ERROR;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static CRYPTO_ONCE hello_once = CRYPTO_ONCE_STATIC_INIT;
static SSL_CTX *hello_context; /* made once per process, read-only after */

static void hello_make_context(void)
{
	hello_context = SSL_CTX_new(TLS_server_method());
	if (hello_context != NULL)
		SSL_CTX_set_tlsext_servername_callback(hello_context, hello_on_server_name);
}

/* One scratch handshake over the SIZE bytes of whole records at DATA. */
static enum tls_hello hello_parse(const unsigned char *data, size_t size, char *name,
				  size_t name_size)
{
	struct hello_answer answer = { .name = name, .name_size = name_size };
	enum tls_hello result = TLS_HELLO_UNREADABLE;

	if (!CRYPTO_THREAD_run_once(&hello_once, hello_make_context) || hello_context == NULL)
		return TLS_HELLO_UNREADABLE;
	SSL *ssl = SSL_new(hello_context);
	BIO *in = BIO_new(BIO_s_mem());
	BIO *out = BIO_new(BIO_s_null());
	if (ssl == NULL || in == NULL || out == NULL ||
	    BIO_write(in, data, (int)size) != (int)size) {
		BIO_free(in);
		BIO_free(out);
		SSL_free(ssl);
		return TLS_HELLO_UNREADABLE;
	}
	/* An empty memory BIO says "retry": a hello cut short asks for more. */
	SSL_set_bio(ssl, in, out);
	SSL_set_app_data(ssl, &answer);
	SSL_set_accept_state(ssl);
	int done = SSL_do_handshake(ssl);
	if (answer.read)
		result = answer.fits ? TLS_HELLO_READ : TLS_HELLO_UNREADABLE;
	else if (done <= 0 && SSL_get_error(ssl, done) == SSL_ERROR_WANT_READ)
		result = TLS_HELLO_INCOMPLETE;
	SSL_free(ssl);
	/* The queue is the thread's: leave nothing for another connection's
	 * error report to find. */
	ERR_clear_error();
	return result;
}

enum tls_hello tls_hello_server_name(const void *data, size_t size, char *name, size_t name_size)
{
	const unsigned char *bytes = data;
	size_t whole = 0;

	for (unsigned records = 0; records < TLS_HELLO_RECORDS_MAX; records++) {
		if (size - whole < RECORD_HEADER)
			return TLS_HELLO_INCOMPLETE;
		size_t length = (size_t)bytes[whole + 3] << 8 | bytes[whole + 4];
		if (bytes[whole] != RECORD_HANDSHAKE || length == 0 || length > RECORD_PAYLOAD_MAX)
			return TLS_HELLO_UNREADABLE;
		if (size - whole - RECORD_HEADER < length)
			return TLS_HELLO_INCOMPLETE;
		whole += RECORD_HEADER + length;
		/* OpenSSL runs only when the bytes end on a record boundary: a
		 * record trickling in byte by byte is parsed once, not per byte. */
		if (whole < size)
			continue;
		enum tls_hello result = hello_parse(bytes, whole, name, name_size);
		if (result != TLS_HELLO_INCOMPLETE)
			return result;
	}
	return TLS_HELLO_UNREADABLE;
}
