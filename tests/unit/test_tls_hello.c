/* SPDX-License-Identifier: ISC */
/* test_tls_hello: Check suite for lib/tls_hello: the server name of real
 * ClientHellos made by an OpenSSL client in memory, with and without SNI,
 * whole, cut short at every byte, split over records, and the refusals
 * (another record type, empty or oversized records, too many records, a
 * name too long for the caller). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "test_suite.h"
#include "tls_hello.h"

/* ---- helpers ---- */

struct hello {
	unsigned char bytes[4096];
	size_t size;
};

/* The first flight of an OpenSSL client asking for SERVER_NAME (NULL: no
 * SNI): one handshake record holding the ClientHello. */
static struct hello client_hello(const char *server_name)
{
	struct hello hello = { .size = 0 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());

	ck_assert_ptr_nonnull(ssl);
	SSL_set_bio(ssl, in, out);
	if (server_name != NULL)
		ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, server_name), 1);
	ck_assert_int_le(SSL_connect(ssl), 0); /* waits for the ServerHello */
	int read = BIO_read(out, hello.bytes, sizeof(hello.bytes));
	ck_assert_int_gt(read, 5);
	hello.size = (size_t)read;
	ck_assert_int_eq(hello.bytes[0], 22);
	ck_assert_uint_eq(hello.size, 5 + ((size_t)hello.bytes[3] << 8 | hello.bytes[4]));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return hello;
}

/* HELLO's handshake message re-framed into records of at most PIECE bytes. */
static struct hello split(const struct hello *hello, size_t piece)
{
	struct hello records = { .size = 0 };
	const unsigned char *message = hello->bytes + 5;
	size_t length = hello->size - 5;

	for (size_t at = 0; at < length; at += piece) {
		size_t n = length - at < piece ? length - at : piece;
		ck_assert_uint_le(records.size + 5 + n, sizeof(records.bytes));
		memcpy(records.bytes + records.size, hello->bytes, 3); /* type, version */
		records.bytes[records.size + 3] = (unsigned char)(n >> 8);
		records.bytes[records.size + 4] = (unsigned char)n;
		memcpy(records.bytes + records.size + 5, message + at, n);
		records.size += 5 + n;
	}
	return records;
}

/* ---- tests ---- */

START_TEST(test_server_name_read)
{
	struct hello hello = client_hello("partner.test");
	char name[256] = "unset";
	ck_assert_int_eq(tls_hello_server_name(hello.bytes, hello.size, name, sizeof(name)),
			 TLS_HELLO_READ);
	ck_assert_str_eq(name, "partner.test");
	/* Nothing left on the thread's error queue for others to find. */
	ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_no_server_name)
{
	struct hello hello = client_hello(NULL);
	char name[256] = "unset";
	ck_assert_int_eq(tls_hello_server_name(hello.bytes, hello.size, name, sizeof(name)),
			 TLS_HELLO_READ);
	ck_assert_str_eq(name, "");
}
END_TEST

START_TEST(test_every_prefix_incomplete)
{
	struct hello hello = client_hello("partner.test");
	char name[256];
	for (size_t size = 0; size < hello.size; size++)
		ck_assert_msg(tls_hello_server_name(hello.bytes, size, name, sizeof(name)) ==
				      TLS_HELLO_INCOMPLETE,
			      "prefix of %zu bytes", size);
}
END_TEST

/* A ClientHello fragmented over records (RFC 8446 §5.1 allows it), at
 * most TLS_HELLO_RECORDS_MAX of them. */
START_TEST(test_split_over_records)
{
	struct hello hello = client_hello("partner.test");
	size_t message = hello.size - 5;
	size_t piece = (message + TLS_HELLO_RECORDS_MAX - 1) / TLS_HELLO_RECORDS_MAX;
	struct hello records = split(&hello, piece);
	char name[256] = "unset";

	ck_assert_int_eq(tls_hello_server_name(records.bytes, records.size, name, sizeof(name)),
			 TLS_HELLO_READ);
	ck_assert_str_eq(name, "partner.test");
	/* Every prefix short of the last record's end waits for more. */
	for (size_t size = 0; size < records.size; size++)
		ck_assert_int_eq(tls_hello_server_name(records.bytes, size, name, sizeof(name)),
				 TLS_HELLO_INCOMPLETE);
}
END_TEST

/* A hello trickled over many tiny records is not parsed again and again. */
START_TEST(test_too_many_records)
{
	struct hello hello = client_hello("partner.test");
	struct hello records = split(&hello, 8);
	char name[256];
	ck_assert_int_eq(tls_hello_server_name(records.bytes, records.size, name, sizeof(name)),
			 TLS_HELLO_UNREADABLE);
}
END_TEST

START_TEST(test_not_a_handshake)
{
	struct hello hello = client_hello("partner.test");
	char name[256];

	hello.bytes[0] = 23; /* application data */
	ck_assert_int_eq(tls_hello_server_name(hello.bytes, hello.size, name, sizeof(name)),
			 TLS_HELLO_UNREADABLE);
	/* a plaintext XMPP header, as from a server that forgot direct TLS */
	const char *xml = "<?xml version='1.0'?><stream:stream>";
	ck_assert_int_eq(tls_hello_server_name(xml, strlen(xml), name, sizeof(name)),
			 TLS_HELLO_UNREADABLE);
}
END_TEST

START_TEST(test_record_lengths_refused)
{
	unsigned char empty[] = { 22, 3, 1, 0, 0 };
	unsigned char oversized[] = { 22, 3, 1, 0x40, 0x01 }; /* 2^14 + 1 */
	char name[256];
	ck_assert_int_eq(tls_hello_server_name(empty, sizeof(empty), name, sizeof(name)),
			 TLS_HELLO_UNREADABLE);
	ck_assert_int_eq(tls_hello_server_name(oversized, sizeof(oversized), name, sizeof(name)),
			 TLS_HELLO_UNREADABLE);
}
END_TEST

START_TEST(test_garbage_handshake_refused)
{
	struct hello hello = client_hello("partner.test");
	char name[256];

	memset(hello.bytes + 5, 0xff, hello.size - 5);
	ck_assert_int_eq(tls_hello_server_name(hello.bytes, hello.size, name, sizeof(name)),
			 TLS_HELLO_UNREADABLE);
	ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_name_too_long_for_caller)
{
	struct hello hello = client_hello("partner.test");
	char name[12]; /* "partner.test" needs 13 */
	ck_assert_int_eq(tls_hello_server_name(hello.bytes, hello.size, name, sizeof(name)),
			 TLS_HELLO_UNREADABLE);
	char exact[13];
	ck_assert_int_eq(tls_hello_server_name(hello.bytes, hello.size, exact, sizeof(exact)),
			 TLS_HELLO_READ);
	ck_assert_str_eq(exact, "partner.test");
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("tls_hello");
	TCase *tcase = tcase_create("hello");
	tcase_add_test(tcase, test_server_name_read);
	tcase_add_test(tcase, test_no_server_name);
	tcase_add_test(tcase, test_every_prefix_incomplete);
	tcase_add_test(tcase, test_split_over_records);
	tcase_add_test(tcase, test_too_many_records);
	tcase_add_test(tcase, test_not_a_handshake);
	tcase_add_test(tcase, test_record_lengths_refused);
	tcase_add_test(tcase, test_garbage_handshake_refused);
	tcase_add_test(tcase, test_name_too_long_for_caller);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
