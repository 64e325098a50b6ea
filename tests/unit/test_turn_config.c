/* SPDX-License-Identifier: ISC */
/* Unit tests for src/turn/turn_config: [turn] read through the
 * configuration engine with a schema of the core's roles, SIP's sections
 * and this module: absent, defaults, every option set, the secret from a
 * file, and every class of mistake with exactly its "FILE:LINE: message"
 * line (and never the secret in it). */
#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test_errors.h"
#include "test_suite.h"
#include "test_turn_scratch.h"
#include "turn_config.h"

static void setup(void)
{
	turn_scratch_make("turn-config");
}

static void teardown(void)
{
	turn_scratch_remove();
}

struct loaded {
	char *path;
	const struct sxedge_config *config;
	char *errors;
	size_t n_errors;
};

/* Writes TEXT, "@DIR@" replaced by the fixture folder, and loads it. */
static void load(struct loaded *loaded, const char *text)
{
	char name[32];
	FILE *file, *errors;
	size_t size = 0;
	const char *at;
	static unsigned serial;

	snprintf(name, sizeof(name), "conf-%u", serial++);
	loaded->path = malloc(strlen(turn_scratch_dir) + sizeof(name) + 1);
	sprintf(loaded->path, "%s/%s", turn_scratch_dir, name);
	file = fopen(loaded->path, "w");
	ck_assert_ptr_nonnull(file);
	while ((at = strstr(text, "@DIR@")) != NULL) {
		fwrite(text, 1, (size_t)(at - text), file);
		fputs(turn_scratch_dir, file);
		text = at + 5;
	}
	fputs(text, file);
	ck_assert_int_eq(fclose(file), 0);
	errors = open_memstream(&loaded->errors, &size);
	loaded->config = config_load(loaded->path, errors, &turn_test_schema);
	fclose(errors);
	loaded->n_errors = 0;
	for (const char *c = loaded->errors; *c != '\0'; c++)
		loaded->n_errors += *c == '\n';
}

static void loaded_free(struct loaded *loaded)
{
	config_unref(loaded->config);
	free(loaded->path);
	free(loaded->errors);
}

/* The errors have a line "PATH:LINE: ..." holding every one of the
 * NULL-terminated words. */
/* The error text has a line "PATH:LINE: ..." that holds every one of the
 * NULL-terminated words. */
#define has_error(loaded, line, ...) \
	test_errors_have((loaded)->errors, (loaded)->path, line, __VA_ARGS__)

#define expect_one_error(text, line, ...)                                                 \
	do {                                                                              \
		struct loaded loaded_;                                                    \
		load(&loaded_, text);                                                     \
		ck_assert_ptr_null(loaded_.config);                                       \
		ck_assert_msg(loaded_.n_errors == 1, "expected one error, got:\n%s",      \
			      loaded_.errors);                                            \
		ck_assert_msg(has_error(&loaded_, line, __VA_ARGS__, (const char *)NULL), \
			      "expected at line %d, got:\n%s", line, loaded_.errors);     \
		ck_assert_msg(strstr(loaded_.errors, "0123456789abcdef") == NULL,         \
			      "the secret in a message:\n%s", loaded_.errors);            \
		loaded_free(&loaded_);                                                    \
	} while (0)

/* ---- Configurations ---- */

#define MINIMAL                                                                        \
	"[global]\ndomains = example.test other.test\n"                                \
	"[listener access]\nrole = access\naddress = 127.0.0.1\nport = 10443\n"        \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"                         \
	"[listener internal]\nrole = internal\naddress = 127.0.0.1\nport = 15061\n"    \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n" \
	"[pool]\nfqdn = pool1.example.test\nrelay = 127.0.0.1:25061\n"
#define SECRET	"shared_secret = 0123456789abcdef\n"
#define RELAY	"relay_address = 192.0.2.10\n"
#define TURN_OK "[turn]\n" SECRET RELAY

/* Line numbers: MINIMAL is lines 1 to 18, so [turn] is at 19, and in
 * TURN_OK shared_secret at 20 and relay_address at 21. */

START_TEST(test_absent)
{
	struct loaded loaded;

	load(&loaded, MINIMAL);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_int_eq(turn_config(loaded.config)->line, 0);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_defaults)
{
	struct loaded loaded;

	load(&loaded, MINIMAL TURN_OK);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct turn_config *turn = turn_config(loaded.config);
	ck_assert_int_eq(turn->line, 19);
	ck_assert_str_eq(turn->realm, "example.test");
	ck_assert_uint_eq(turn->secret_length, 16);
	ck_assert(memcmp(turn->secret, "0123456789abcdef", 16) == 0);
	ck_assert_str_eq(turn->relay_address, "192.0.2.10");
	ck_assert_str_eq(turn->external_address, "192.0.2.10");
	ck_assert_ptr_null(turn->relay_address6);
	ck_assert_ptr_null(turn->external_address6);
	ck_assert_uint_eq(turn->relay_ports.first, 50000);
	ck_assert_uint_eq(turn->relay_ports.last, 59999);
	ck_assert_uint_eq(turn->max_allocations, 10000);
	ck_assert_uint_eq(turn->max_allocations_per_user, 10);
	ck_assert_uint_eq(turn->max_lifetime_s, 3600);
	ck_assert_uint_eq(turn->max_permissions, 32);
	ck_assert_uint_eq(turn->max_channels, 32);
	ck_assert_uint_eq(turn->max_peer_connections, 8);
	ck_assert_uint_eq(turn->max_bandwidth, 1048576);
	ck_assert_uint_eq(turn->n_allowed_peers, 0);
	ck_assert_uint_eq(turn->nonce_lifetime_s, 600);
	ck_assert_uint_eq(turn->max_connections_per_address, 64);
	loaded_free(&loaded);
}
END_TEST

static bool prefix_is(const struct peer_prefix *prefix, int family, const char *address,
		      unsigned length)
{
	unsigned char bytes[16] = { 0 };

	ck_assert_int_eq(inet_pton(family, address, bytes), 1);
	return prefix->family == family && prefix->length == length &&
	       memcmp(prefix->address, bytes, sizeof(bytes)) == 0;
}

START_TEST(test_values)
{
	struct loaded loaded;

	load(&loaded,
	     MINIMAL "[turn]\nrealm = Media Edge\n" SECRET
		     "relay_address = 2001:db8::10\nexternal_address = 2001:db8:1::10\n"
		     "relay_ports = 40000-40999\nmax_allocations = 500\n"
		     "max_allocations_per_user = 500\nmax_lifetime = 600\n"
		     "max_permissions = 1024\nmax_channels = 4096\nmax_peer_connections = 1\n"
		     "max_bandwidth = 0\n"
		     "allowed_peers = 10.0.0.0/8, 192.168.1.7\n"
		     "allowed_peers = fd00:1::/32 ::1\nnonce_lifetime = 30\n"
		     "max_connections_per_address = 0\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct turn_config *turn = turn_config(loaded.config);
	ck_assert_str_eq(turn->realm, "Media Edge");
	ck_assert_str_eq(turn->relay_address, "2001:db8::10");
	ck_assert_str_eq(turn->external_address, "2001:db8:1::10");
	ck_assert_uint_eq(turn->relay_ports.first, 40000);
	ck_assert_uint_eq(turn->relay_ports.last, 40999);
	ck_assert_uint_eq(turn->max_allocations, 500);
	ck_assert_uint_eq(turn->max_allocations_per_user, 500);
	ck_assert_uint_eq(turn->max_lifetime_s, 600);
	ck_assert_uint_eq(turn->max_permissions, 1024);
	ck_assert_uint_eq(turn->max_channels, 4096);
	ck_assert_uint_eq(turn->max_peer_connections, 1);
	ck_assert_uint_eq(turn->max_bandwidth, 0);
	ck_assert_uint_eq(turn->nonce_lifetime_s, 30);
	ck_assert_uint_eq(turn->max_connections_per_address, 0);
	ck_assert_uint_eq(turn->n_allowed_peers, 4);
	ck_assert(prefix_is(&turn->allowed_peers[0], AF_INET, "10.0.0.0", 8));
	ck_assert(prefix_is(&turn->allowed_peers[1], AF_INET, "192.168.1.7", 32));
	ck_assert(prefix_is(&turn->allowed_peers[2], AF_INET6, "fd00:1::", 32));
	ck_assert(prefix_is(&turn->allowed_peers[3], AF_INET6, "::1", 128));
	loaded_free(&loaded);
}
END_TEST

/* A value's blanks at either end and its comment are not the secret's. */
START_TEST(test_secret_value)
{
	struct loaded loaded;

	load(&loaded, MINIMAL "[turn]\nshared_secret =   0123456789abcdef  ; not a secret\n" RELAY);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct turn_config *turn = turn_config(loaded.config);
	ck_assert_uint_eq(turn->secret_length, 16);
	ck_assert(memcmp(turn->secret, "0123456789abcdef", 16) == 0);
	loaded_free(&loaded);
}
END_TEST

/* The file's line is the secret, without its newline (LF or CR LF). */
START_TEST(test_secret_file)
{
	static const char *const contents[] = { "a secret of a file\n", "a secret of a file\r\n",
						"a secret of a file" };
	struct loaded loaded;

	for (size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
		turn_scratch_write("turn.secret", contents[i]);
		load(&loaded, MINIMAL "[turn]\nshared_secret_file = @DIR@/turn.secret\n" RELAY);
		ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
		const struct turn_config *turn = turn_config(loaded.config);
		ck_assert_uint_eq(turn->secret_length, 18);
		ck_assert(memcmp(turn->secret, "a secret of a file", 18) == 0);
		loaded_free(&loaded);
	}
}
END_TEST

START_TEST(test_secret_errors)
{
	char long_secret[TURN_SECRET_FILE_MAX + 2];

	expect_one_error(MINIMAL "[turn]\n" RELAY, 19,
			 "missing shared_secret or shared_secret_file");
	turn_scratch_write("turn.secret", "0123456789abcdef-from-a-file\n");
	expect_one_error(MINIMAL TURN_OK "shared_secret_file = @DIR@/turn.secret\n", 22,
			 "shared_secret and shared_secret_file", "give one secret");
	expect_one_error(MINIMAL "[turn]\nshared_secret = 0123456789abcde\n" RELAY, 20,
			 "shared_secret", "at least 16 bytes");
	expect_one_error(MINIMAL "[turn]\nshared_secret_file = @DIR@/nothere\n" RELAY, 20,
			 "cannot read shared_secret_file", "nothere", "No such file");
	turn_scratch_write("short.secret", "0123456789abcde\n");
	expect_one_error(MINIMAL "[turn]\nshared_secret_file = @DIR@/short.secret\n" RELAY, 20,
			 "short.secret", "fewer than 16 bytes");
	turn_scratch_write("two.secret", "0123456789abcdef\n0123456789abcdef\n");
	expect_one_error(MINIMAL "[turn]\nshared_secret_file = @DIR@/two.secret\n" RELAY, 20,
			 "two.secret", "more than one line");
	memset(long_secret, 'x', sizeof(long_secret) - 1);
	long_secret[sizeof(long_secret) - 1] = '\0';
	turn_scratch_write("long.secret", long_secret);
	expect_one_error(MINIMAL "[turn]\nshared_secret_file = @DIR@/long.secret\n" RELAY, 20,
			 "long.secret", "longer than 4096 bytes");
}
END_TEST

START_TEST(test_address_errors)
{
	expect_one_error(MINIMAL "[turn]\n" SECRET, 19, "missing required key relay_address");
	expect_one_error(MINIMAL "[turn]\n" SECRET "relay_address = edge.example.test\n", 21,
			 "relay_address", "an IPv4 or IPv6 address");
	expect_one_error(MINIMAL "[turn]\n" SECRET "relay_address = 0.0.0.0\n", 21,
			 "relay_address 0.0.0.0 is every address");
	expect_one_error(MINIMAL TURN_OK "external_address = ::\n", 22,
			 "external_address :: is every address");
	expect_one_error(MINIMAL TURN_OK "external_address = 2001:db8::1\n", 22,
			 "external_address 2001:db8::1 is IPv6 but relay_address 192.0.2.10 is "
			 "IPv4");
}
END_TEST

/* A dual-stack edge: the IPv6 relay beside the IPv4 one, told as itself
 * or as its external address. */
START_TEST(test_relay_address6)
{
	struct loaded loaded;

	load(&loaded, MINIMAL TURN_OK "relay_address6 = 2001:db8::10\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(turn_config(loaded.config)->relay_address6, "2001:db8::10");
	ck_assert_str_eq(turn_config(loaded.config)->external_address6, "2001:db8::10");
	ck_assert_str_eq(turn_config(loaded.config)->external_address, "192.0.2.10");
	loaded_free(&loaded);
	load(&loaded, MINIMAL TURN_OK "relay_address6 = 2001:db8::10\n"
				      "external_address6 = 2001:db8:1::10\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(turn_config(loaded.config)->external_address6, "2001:db8:1::10");
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_relay_address6_errors)
{
	expect_one_error(MINIMAL TURN_OK "relay_address6 = 192.0.2.11\n", 22,
			 "relay_address6 192.0.2.11 is not an IPv6 address");
	expect_one_error(MINIMAL TURN_OK "relay_address6 = ::\n", 22,
			 "relay_address6 :: is every address");
	expect_one_error(MINIMAL TURN_OK "relay_address6 = edge.example.test\n", 22,
			 "relay_address6", "an IPv4 or IPv6 address");
	expect_one_error(MINIMAL "[turn]\n" SECRET "relay_address = 2001:db8::10\n"
				 "relay_address6 = 2001:db8::11\n",
			 22, "relay_address6 2001:db8::11 beside relay_address 2001:db8::10");
	expect_one_error(MINIMAL TURN_OK "external_address6 = 2001:db8::1\n", 22,
			 "external_address6 2001:db8::1 without relay_address6");
	expect_one_error(MINIMAL TURN_OK "relay_address6 = 2001:db8::10\n"
					 "external_address6 = 192.0.2.1\n",
			 23,
			 "external_address6 192.0.2.1 is IPv4 but relay_address6 2001:db8::10 is "
			 "IPv6");
	expect_one_error(MINIMAL TURN_OK "relay_address6 = 2001:db8::10\n"
					 "external_address6 = ::\n",
			 23, "external_address6 :: is every address");
}
END_TEST

START_TEST(test_port_range_errors)
{
	static const char *const bad[] = { "50000",	  "60000-50000", "80-90",
					   "50000-70000", "a-b",	 "50000-59999x",
					   "-50000",	  "50000-",	 " 50000-59999 x" };
	char text[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL TURN_OK "relay_ports = %s\n", bad[i]);
		expect_one_error(text, 22, "relay_ports", "FIRST-LAST, ports from 1024 to 65535");
	}
	struct loaded loaded;
	load(&loaded, MINIMAL TURN_OK "relay_ports = 1024-1024\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(turn_config(loaded.config)->relay_ports.last, 1024);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_number_errors)
{
	expect_one_error(MINIMAL TURN_OK "max_allocations = 4\nmax_allocations_per_user = 5\n", 23,
			 "max_allocations_per_user (5) is more than max_allocations (4)");
	/* Against the default of max_allocations too. */
	expect_one_error(MINIMAL TURN_OK "max_allocations_per_user = 10001\n", 22,
			 "max_allocations_per_user (10001) is more than max_allocations (10000)");
	/* A bad value is reported once, not again as a relation. */
	expect_one_error(MINIMAL TURN_OK "max_allocations = 0\nmax_allocations_per_user = 5\n", 22,
			 "max_allocations", "1 to 1000000");
	expect_one_error(MINIMAL TURN_OK "max_lifetime = 599\n", 22, "max_lifetime",
			 "600 to 86400");
	expect_one_error(MINIMAL TURN_OK "max_channels = 4097\n", 22, "max_channels");
	expect_one_error(MINIMAL TURN_OK "max_permissions = 0\n", 22, "max_permissions");
	expect_one_error(MINIMAL TURN_OK "max_peer_connections = 1025\n", 22,
			 "max_peer_connections", "1 to 1024");
	expect_one_error(MINIMAL TURN_OK "max_bandwidth = 1000000001\n", 22, "max_bandwidth");
	expect_one_error(MINIMAL TURN_OK "nonce_lifetime = 29\n", 22, "nonce_lifetime");
	expect_one_error(MINIMAL TURN_OK "max_connections_per_address = 1000001\n", 22,
			 "max_connections_per_address", "0 to 1000000");
	expect_one_error(MINIMAL TURN_OK "lifetime = 600\n", 22,
			 "unknown key \"lifetime\" in [turn]");
}
END_TEST

START_TEST(test_realm_errors)
{
	char text[1024], realm[TURN_REALM_MAX + 2];

	expect_one_error(MINIMAL TURN_OK "realm = say \"hi\"\n", 22, "realm", "printable");
	expect_one_error(MINIMAL TURN_OK "realm = back\\slash\n", 22, "realm");
	memset(realm, 'r', sizeof(realm) - 1);
	realm[sizeof(realm) - 1] = '\0';
	snprintf(text, sizeof(text), MINIMAL TURN_OK "realm = %s\n", realm);
	expect_one_error(text, 22, "realm", "1 to 127");
	realm[TURN_REALM_MAX] = '\0';
	snprintf(text, sizeof(text), MINIMAL TURN_OK "realm = %s\n", realm);
	struct loaded loaded;
	load(&loaded, text);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(strlen(turn_config(loaded.config)->realm), TURN_REALM_MAX);
	loaded_free(&loaded);
}
END_TEST

/* Each entry is read by peer_policy's parser; a bad one is named at the
 * line it came from (a list adds up over lines). */
START_TEST(test_allowed_peer_errors)
{
	expect_one_error(MINIMAL TURN_OK "allowed_peers = 10.0.0.0/8 10.0.0.1/8\n", 22,
			 "bad allowed_peers entry \"10.0.0.1/8\"", "bits are set after");
	expect_one_error(MINIMAL TURN_OK "allowed_peers = 10.0.0.0/33\n", 22, "\"10.0.0.0/33\"",
			 "longer than the address");
	expect_one_error(MINIMAL TURN_OK "allowed_peers = fe80::/129\n", 22,
			 "longer than the address");
	expect_one_error(MINIMAL TURN_OK "allowed_peers = peer.example.test\n", 22,
			 "\"peer.example.test\"", "not an IPv4 or IPv6 address");
	expect_one_error(MINIMAL TURN_OK "allowed_peers = 10.0.0.0/\n", 22, "prefix length");
	expect_one_error(MINIMAL TURN_OK "allowed_peers = ,\n", 22, "allowed_peers",
			 "at least one entry");
	expect_one_error(MINIMAL TURN_OK "allowed_peers = 10.0.0.0/8\nallowed_peers = 1.2.3.4 x\n",
			 23, "\"x\"", "not an IPv4 or IPv6 address");
	/* Two bad entries, each at its own line. */
	struct loaded loaded;
	load(&loaded, MINIMAL TURN_OK "allowed_peers = y\nallowed_peers = ::1 x\n");
	ck_assert_ptr_null(loaded.config);
	ck_assert_uint_eq(loaded.n_errors, 2);
	ck_assert(has_error(&loaded, 22, "\"y\"", NULL));
	ck_assert(has_error(&loaded, 23, "\"x\"", NULL));
	loaded_free(&loaded);
	/* 0.0.0.0/0 allows every IPv4 peer: odd, but what it says. */
	load(&loaded, MINIMAL TURN_OK "allowed_peers = 0.0.0.0/0\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(turn_config(loaded.config)->allowed_peers[0].length, 0);
	loaded_free(&loaded);
}
END_TEST

static Suite *turn_config_suite(void)
{
	Suite *suite = suite_create("turn_config");
	TCase *tcase = tcase_create("turn");
	tcase_add_checked_fixture(tcase, setup, teardown);
	tcase_add_test(tcase, test_absent);
	tcase_add_test(tcase, test_defaults);
	tcase_add_test(tcase, test_values);
	tcase_add_test(tcase, test_relay_address6);
	tcase_add_test(tcase, test_relay_address6_errors);
	tcase_add_test(tcase, test_secret_value);
	tcase_add_test(tcase, test_secret_file);
	tcase_add_test(tcase, test_secret_errors);
	tcase_add_test(tcase, test_address_errors);
	tcase_add_test(tcase, test_port_range_errors);
	tcase_add_test(tcase, test_number_errors);
	tcase_add_test(tcase, test_realm_errors);
	tcase_add_test(tcase, test_allowed_peer_errors);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(turn_config_suite());
}
