/* SPDX-License-Identifier: ISC */
/* fuzz_tls_hello: tls_hello_server_name on any bytes (after the first, which
 * sizes the caller's name buffer, 1 to 256 bytes).  A name read is a
 * NUL-terminated string inside the buffer; it is read only on whole
 * records, so one byte less is only ever "incomplete"; the same bytes give
 * the same answer again (nothing is kept between calls); and no OpenSSL
 * error is left on the thread's queue for another connection to find. */
#include <openssl/err.h>

#include "fuzz.h"
#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t name_size = 1 + (size_t)data[0];
	char *bytes = fuzz_copy(data + 1, size - 1);
	char *name = malloc(name_size); /* exactly: a write past it is caught */
	char again[257], shorter[257];
	FUZZ_REQUIRE(name != NULL);
	memset(name, 'x', name_size);

	enum tls_hello result = tls_hello_server_name(bytes, size - 1, name, name_size);
	FUZZ_REQUIRE(ERR_peek_error() == 0);
	FUZZ_REQUIRE(tls_hello_server_name(bytes, size - 1, again, name_size) == result);
	if (result == TLS_HELLO_READ) {
		FUZZ_REQUIRE(memchr(name, '\0', name_size) != NULL);
		FUZZ_REQUIRE(strcmp(again, name) == 0);
		FUZZ_REQUIRE(size - 1 > 5);
		FUZZ_REQUIRE(tls_hello_server_name(bytes, size - 2, shorter, name_size) ==
			     TLS_HELLO_INCOMPLETE);
	}
	free(name);
	free(bytes);
	return 0;
}
