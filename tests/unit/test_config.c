/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/config: a full file loads with every value, defaults
 * fill the rest, and every class of mistake gives exactly its
 * "FILE:LINE: message" line (several in one run when there are several).
 * The federation options ([federation], [partner DOMAIN], role = federation),
 * who the daemon runs as ([global] user, group, allow_root) and the metrics
 * endpoint ([metrics]) have their own test cases. */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "federation_config.h"
#include "metrics_config.h"
#include "protocols.h"
#include "roles.h"
#include "sip_config.h"
#include "test_errors.h"
#include "test_suite.h"
#include "xmpp_config.h"

/* ---- Fixture: a folder with certificate files and config files ---- */

static char dir[64];

static void write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");
	ck_assert_ptr_nonnull(file);
	fputs(text, file);
	ck_assert_int_eq(fclose(file), 0);
}

static void setup(void)
{
	static const char *const names[] = { "ca.crt", "edge.crt", "edge.key", "pool.crt" };
	char path[128];

	strcpy(dir, "/tmp/sxedge-test-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		write_file(path, "-----BEGIN CERTIFICATE-----\n");
	}
}

static void teardown(void)
{
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(command), 0);
}

/* Writes TEXT, with every "@DIR@" replaced by the fixture folder, into a
 * fresh file (mkstemp) and returns its malloc'd path. */
static char *write_config(const char *text)
{
	char *path = malloc(strlen(dir) + 32);
	const char *at;
	int fd;
	FILE *file;

	ck_assert_ptr_nonnull(path);
	sprintf(path, "%s/conf-XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	file = fdopen(fd, "w");
	ck_assert_ptr_nonnull(file);
	while ((at = strstr(text, "@DIR@")) != NULL) {
		fwrite(text, 1, (size_t)(at - text), file);
		fputs(dir, file);
		text = at + 5;
	}
	fputs(text, file);
	ck_assert_int_eq(fclose(file), 0);
	return path;
}

struct loaded {
	char *path;
	const struct sxedge_config *config;
	char *errors; /* everything config_load wrote */
	size_t n_errors;
};

static void load_path(struct loaded *loaded, const char *path)
{
	size_t size = 0;
	FILE *errors = open_memstream(&loaded->errors, &size);

	ck_assert_ptr_nonnull(errors);
	loaded->config = config_load(path, errors, &sxedge_protocols.schema);
	fclose(errors);
	loaded->n_errors = 0;
	for (const char *c = loaded->errors; *c != '\0'; c++)
		loaded->n_errors += *c == '\n';
}

static void load(struct loaded *loaded, const char *text)
{
	loaded->path = write_config(text);
	load_path(loaded, loaded->path);
}

static void loaded_free(struct loaded *loaded)
{
	config_unref(loaded->config);
	free(loaded->path);
	free(loaded->errors);
}

/* The error text has a line "PATH:LINE: ..." that holds every one of the
 * NULL-terminated words. */
/* The error text has a line "PATH:LINE: ..." that holds every one of the
 * NULL-terminated words. */
#define has_error(loaded, line, ...) \
	test_errors_have((loaded)->errors, (loaded)->path, line, __VA_ARGS__)

/* Loads TEXT and expects it refused with exactly one error, at LINE,
 * holding the words given. */
#define expect_one_error(text, line, ...)                                                 \
	do {                                                                              \
		struct loaded loaded_;                                                    \
		load(&loaded_, text);                                                     \
		ck_assert_ptr_null(loaded_.config);                                       \
		ck_assert_msg(loaded_.n_errors == 1, "expected one error, got:\n%s",      \
			      loaded_.errors);                                            \
		ck_assert_msg(has_error(&loaded_, line, __VA_ARGS__, (const char *)NULL), \
			      "expected at line %d, got:\n%s", line, loaded_.errors);     \
		loaded_free(&loaded_);                                                    \
	} while (0)

/* ---- Configurations ---- */

#define GLOBAL_OK "[global]\ndomains = example.test\n"
#define ACCESS_OK                                                               \
	"[listener access]\nrole = access\naddress = 127.0.0.1\nport = 10443\n" \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"
#define INTERNAL_OK                                                                 \
	"[listener internal]\nrole = internal\naddress = 127.0.0.1\nport = 15061\n" \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n"
#define POOL_OK "[pool]\nfqdn = pool1.example.test\nrelay = 127.0.0.1:25061\n"
#define MINIMAL GLOBAL_OK ACCESS_OK INTERNAL_OK POOL_OK

/* Line numbers in MINIMAL: [global] 1, [listener access] 3, [listener internal] 9,
 * [pool] 16. */

static const char full_config[] =
	"; every option, none at its default\n"
	"[global]\n"
	"log_level = debug\n"
	"log = syslog\n"
	"syslog_facility = local4\n"
	"syslog_socket = /run/sxedge/log\n"
	"node_id = 7\n"
	"flow_secret = 000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n"
	"domains = Example.TEST, example.org\tthird.test\n"
	"user = nobody\n"
	"group = daemon\n"
	"\n"
	"[limits]\n"
	"sip_max_message = 131072\n"
	"sip_max_headers = 100\n"
	"sip_max_line = 4096\n"
	"handshake_timeout = 5\n"
	"idle_timeout = 0\n"
	"message_timeout = 20\n"
	"output_max = 2097152\n"
	"drain_timeout = 30\n"
	"max_connections = 500\n"
	"\n"
	"[listener outside]\n"
	"role = access\n"
	"address = 0.0.0.0\n"
	"port = 443\n"
	"advertise = edge.example.test\n"
	"certificate = @DIR@/edge.crt\n"
	"key = @DIR@/edge.key ; inline comment\n"
	"ca_file = @DIR@/ca.crt\n"
	"client_certificate = optional\n"
	"require_sni = yes\n"
	"\n"
	"[listener inside]\n"
	"  role = internal\n"
	"address = ::1\n"
	"port = 5061\n"
	"advertise = [fd00::1]:15061\n"
	"certificate = @DIR@/edge.crt\n"
	"key = @DIR@/edge.key\n"
	"ca_file = @DIR@/ca.crt\n"
	"client_certificate = required\n"
	"require_sni = off\n"
	"\n"
	"[pool]\n"
	"fqdn = pool1.example.test pool2.EXAMPLE.test\n"
	"relay = [fd00::10]:5062\n"
	"connections = 4\n"
	"reconnect_min = 2\n"
	"reconnect_max = 60\n";

START_TEST(test_full_file)
{
	struct loaded loaded;
	char path[128];

	load(&loaded, full_config);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(loaded.errors, "");
	const struct sxedge_config *config = loaded.config;

	ck_assert_str_eq(config->path, loaded.path);
	ck_assert_int_eq(config->log_level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(config->log_to, LOG_TO_SYSLOG);
	ck_assert_int_eq(config->syslog_facility, LOG_LOCAL4);
	ck_assert_str_eq(config->syslog_socket, "/run/sxedge/log");
	ck_assert_uint_eq(config->node_id, 7);
	ck_assert(config->flow_secret_set);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_uint_eq(config->flow_secret[i], i);
	ck_assert_uint_eq(config->n_domains, 3);
	ck_assert_str_eq(config->domains[0], "example.test");
	ck_assert_str_eq(config->domains[1], "example.org");
	ck_assert_str_eq(config->domains[2], "third.test");
	ck_assert_str_eq(config->run_as.user, "nobody");
	ck_assert_uint_eq(config->run_as.uid, getpwnam("nobody")->pw_uid);
	ck_assert_str_eq(config->run_as.group, "daemon");
	ck_assert_uint_eq(config->run_as.gid, getgrnam("daemon")->gr_gid);
	ck_assert_int_eq(config->run_as.line, 2);

	const struct limits_config *limits = &config->limits;
	ck_assert_uint_eq(limits->sip_max_message, 131072);
	ck_assert_uint_eq(limits->sip_max_headers, 100);
	ck_assert_uint_eq(limits->sip_max_line, 4096);
	ck_assert_uint_eq(limits->handshake_timeout_s, 5);
	ck_assert_uint_eq(limits->idle_timeout_s, 0);
	ck_assert_uint_eq(limits->message_timeout_s, 20);
	ck_assert_uint_eq(limits->output_max, 2097152);
	ck_assert_uint_eq(limits->drain_timeout_s, 30);
	ck_assert_uint_eq(limits->max_connections, 500);

	ck_assert_uint_eq(config->n_listeners, 2);
	const struct listener_config *outside = &config->listeners[0];
	ck_assert_str_eq(outside->name, "outside");
	ck_assert_int_eq(outside->line, 24);
	ck_assert_int_eq(outside->role, ROLE_ACCESS);
	ck_assert_str_eq(outside->address, "0.0.0.0");
	ck_assert_uint_eq(outside->port, 443);
	ck_assert_str_eq(outside->advertise_host, "edge.example.test");
	ck_assert_uint_eq(outside->advertise_port, 443);
	snprintf(path, sizeof(path), "%s/edge.crt", dir);
	ck_assert_str_eq(outside->certificate, path);
	snprintf(path, sizeof(path), "%s/edge.key", dir);
	ck_assert_str_eq(outside->key, path);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ck_assert_str_eq(outside->ca_file, path);
	ck_assert_int_eq(outside->client_cert, CLIENT_CERT_OPTIONAL);
	ck_assert(outside->require_sni);

	const struct listener_config *inside = &config->listeners[1];
	ck_assert_str_eq(inside->name, "inside");
	ck_assert_int_eq(inside->line, 35);
	ck_assert_int_eq(inside->role, ROLE_INTERNAL);
	ck_assert_str_eq(inside->address, "::1");
	ck_assert_uint_eq(inside->port, 5061);
	ck_assert_str_eq(inside->advertise_host, "fd00::1");
	ck_assert_uint_eq(inside->advertise_port, 15061);
	ck_assert_int_eq(inside->client_cert, CLIENT_CERT_REQUIRED);
	ck_assert(!inside->require_sni);

	const struct pool_config *pool = &sip_config(config)->pool;
	ck_assert_uint_eq(pool->n_fqdns, 2);
	ck_assert_str_eq(pool->fqdns[0], "pool1.example.test");
	ck_assert_str_eq(pool->fqdns[1], "pool2.example.test");
	ck_assert_str_eq(pool->relay_host, "fd00::10");
	ck_assert_uint_eq(pool->relay_port, 5062);
	ck_assert_uint_eq(pool->connections, 4);
	ck_assert_uint_eq(pool->reconnect_min_s, 2);
	ck_assert_uint_eq(pool->reconnect_max_s, 60);

	ck_assert_ptr_eq(config_listener(config, ROLE_ACCESS), outside);
	ck_assert_ptr_eq(config_listener(config, ROLE_INTERNAL), inside);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_defaults)
{
	struct loaded loaded;

	load(&loaded, MINIMAL);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct sxedge_config *config = loaded.config;

	ck_assert_int_eq(config->log_level, LOG_LEVEL_NOTICE);
	ck_assert_int_eq(config->log_to, LOG_TO_STDERR);
	ck_assert_int_eq(config->syslog_facility, LOG_DAEMON);
	ck_assert_str_eq(config->syslog_socket, "/dev/log");
	ck_assert_uint_eq(config->node_id, 1);
	ck_assert(!config->flow_secret_set);
	ck_assert_uint_eq(config->limits.sip_max_message, 65536);
	ck_assert_uint_eq(config->limits.sip_max_headers, 256);
	ck_assert_uint_eq(config->limits.sip_max_line, 8192);
	ck_assert_uint_eq(config->limits.handshake_timeout_s, 10);
	ck_assert_uint_eq(config->limits.idle_timeout_s, 300);
	ck_assert_uint_eq(config->limits.message_timeout_s, 10);
	ck_assert_uint_eq(config->limits.output_max, 1048576);
	ck_assert_uint_eq(config->limits.drain_timeout_s, 10);
	ck_assert_uint_eq(config->limits.max_connections, 10000);
	ck_assert_uint_eq(sip_config(config)->pool.connections, 1);
	ck_assert_uint_eq(sip_config(config)->pool.reconnect_min_s, 1);
	ck_assert_uint_eq(sip_config(config)->pool.reconnect_max_s, 30);
	ck_assert_str_eq(sip_config(config)->pool.relay_host, "127.0.0.1");
	ck_assert_uint_eq(sip_config(config)->pool.relay_port, 25061);

	const struct listener_config *access = config_listener(config, ROLE_ACCESS);
	ck_assert_ptr_nonnull(access);
	ck_assert_str_eq(access->name, "access");
	ck_assert_int_eq(access->line, 3);
	ck_assert_str_eq(access->advertise_host, "127.0.0.1");
	ck_assert_uint_eq(access->advertise_port, 10443);
	ck_assert_int_eq(access->client_cert, CLIENT_CERT_NONE);
	ck_assert_ptr_null(access->ca_file);
	ck_assert(!access->require_sni);

	const struct listener_config *internal = config_listener(config, ROLE_INTERNAL);
	ck_assert_ptr_nonnull(internal);
	ck_assert_int_eq(internal->line, 9);
	ck_assert_int_eq(internal->client_cert, CLIENT_CERT_REQUIRED);
	ck_assert_str_eq(internal->advertise_host, "127.0.0.1");
	ck_assert_uint_eq(internal->advertise_port, 15061);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_syntax_variants)
{
	struct loaded loaded;

	/* A byte order mark, CRLF line ends, '#' and ';' comments, "key: value". */
	load(&loaded, "\xef\xbb\xbf# comment\r\n[ global ] ; trailing comment\r\n"
		      "domains: example.test\r\n\r\n" ACCESS_OK INTERNAL_OK POOL_OK);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(loaded.config->domains[0], "example.test");
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_longest_line)
{
	struct loaded loaded;
	char text[1024], domains[256];
	size_t prefix = strlen("domains = ");

	/* 197 characters is the longest line inih takes whole. */
	memset(domains, 0, sizeof(domains));
	for (size_t i = 0; prefix + i < 197; i++)
		domains[i] = i % 10 == 9 ? ',' : 'a';
	domains[197 - prefix - 1] = 'z';
	snprintf(text, sizeof(text), "[global]\ndomains = %s\n" ACCESS_OK INTERNAL_OK POOL_OK,
		 domains);
	load(&loaded, text);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(loaded.config->n_domains, 19);
	ck_assert_str_eq(loaded.config->domains[18], "aaaaaaz");
	loaded_free(&loaded);

	/* One more is refused, not cut. */
	snprintf(text, sizeof(text), "[global]\ndomains = %sx\n" ACCESS_OK INTERNAL_OK POOL_OK,
		 domains);
	expect_one_error(text, 2, "line too long", "197");
}
END_TEST

/* ---- Each class of error ---- */

START_TEST(test_cannot_open)
{
	struct loaded loaded = { 0 };
	char path[128];

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	loaded.path = strdup(path);
	load_path(&loaded, path);
	ck_assert_ptr_null(loaded.config);
	snprintf(path, sizeof(path), "%s/missing.conf:0: cannot open: %s\n", dir, strerror(ENOENT));
	ck_assert_str_eq(loaded.errors, path);
	loaded_free(&loaded);

	loaded.path = strdup(dir);
	load_path(&loaded, dir);
	ck_assert_ptr_null(loaded.config);
	ck_assert(has_error(&loaded, 0, "cannot open", strerror(EISDIR), NULL));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_unknown_section)
{
	expect_one_error(MINIMAL "[federations]\nfoo = 1\n", 19, "unknown section", "federations",
			 "[partner DOMAIN]");
	expect_one_error(MINIMAL "[partners partner.test]\n", 19, "unknown section");
	expect_one_error(MINIMAL "[listener]\nrole = access\n", 19, "listener", "needs a name");
	expect_one_error(MINIMAL "[listener a/b]\n", 19, "bad listener name", "a/b");
}
END_TEST

START_TEST(test_unknown_key)
{
	expect_one_error(MINIMAL "[limits]\nsip_max_body = 10\n", 20, "unknown key", "sip_max_body",
			 "[limits]");
	expect_one_error("foo = bar\n" MINIMAL, 1, "foo", "outside of any section");
}
END_TEST

START_TEST(test_duplicate_key)
{
	expect_one_error(MINIMAL "[limits]\nidle_timeout = 5\nidle_timeout = 6\n", 21,
			 "duplicate key", "idle_timeout", "first at line 20");
	/* A second [pool] does not hide the repeated key either. */
	struct loaded loaded;
	load(&loaded, MINIMAL "[pool]\nrelay = 127.0.0.1:1\n");
	ck_assert_ptr_null(loaded.config);
	ck_assert_uint_eq(loaded.n_errors, 2);
	ck_assert(has_error(&loaded, 19, "duplicate section [pool]", "first at line 16", NULL));
	ck_assert(has_error(&loaded, 20, "duplicate key relay", "first at line 18", NULL));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_bad_numbers)
{
	static const char *const values[] = { "0",  "65536", "12a",
					      "-1", "+5",    "0x10",
					      "",   "1 2",   "99999999999999999999999" };
	char text[1024];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "[limits]\nmax_connections = %s\n",
			 strcmp(values[i], "65536") == 0 ? "1000001" : values[i]);
		expect_one_error(text, 20, "bad value", "max_connections", "1 to 1000000");
		snprintf(text, sizeof(text),
			 "[global]\ndomains = example.test\nnode_id = %s\n" ACCESS_OK INTERNAL_OK
				 POOL_OK,
			 values[i]);
		expect_one_error(text, 3, "bad value", "node_id", "1 to 65535");
	}
	expect_one_error(MINIMAL "[limits]\nsip_max_message = 1023\n", 20, "sip_max_message",
			 "1024 to 16777216");
	expect_one_error(MINIMAL "[limits]\noutput_max = 1073741825\n", 20, "output_max",
			 "65536 to 1073741824");
}
END_TEST

START_TEST(test_bad_keywords)
{
	expect_one_error(
		"[global]\ndomains = example.test\nlog_level = verbose\n" ACCESS_OK INTERNAL_OK
			POOL_OK,
		3, "bad value \"verbose\" for log_level", "error, warning, notice, info or debug");
	expect_one_error(
		"[global]\ndomains = example.test\nlog = journal\n" ACCESS_OK INTERNAL_OK POOL_OK,
		3, "bad value \"journal\" for log", "stderr or syslog");
	expect_one_error(
		"[global]\ndomains = example.test\nsyslog_facility = kern\n" ACCESS_OK INTERNAL_OK
			POOL_OK,
		3, "syslog_facility", "daemon, user or local0 to local7");
	expect_one_error(
		"[global]\ndomains = example.test\nsyslog_socket = dev/log\n" ACCESS_OK INTERNAL_OK
			POOL_OK,
		3, "syslog_socket", "an absolute path of at most 107 bytes");
	expect_one_error(MINIMAL "[listener x]\nrole = access\naddress = 127.0.0.2\nport = 1\n"
				 "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"
				 "require_sni = maybe\n",
			 25, "require_sni", "yes, no");
	expect_one_error(MINIMAL "[listener x]\nrole = access\naddress = 127.0.0.2\nport = 1\n"
				 "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"
				 "client_certificate = sometimes\n",
			 25, "client_certificate", "none, optional or required");
}
END_TEST

START_TEST(test_bad_role_keeps_quiet_on_roles)
{
	/* A bad role is one error; no "no access listener" guesswork on top. */
	expect_one_error(
		GLOBAL_OK
		"[listener access]\nrole = edge\naddress = 127.0.0.1\n"
		"port = 10443\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK
			POOL_OK,
		4, "bad value \"edge\" for role",
		"access, internal, federation, xmpp_federation, xmpp_internal, turn or turn_tcp");
}
END_TEST

START_TEST(test_bad_addresses)
{
	expect_one_error(
		GLOBAL_OK
		"[listener access]\nrole = access\naddress = localhost\n"
		"port = 10443\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK
			POOL_OK,
		5, "address", "IPv4 or IPv6");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK
			 "[pool]\nfqdn = pool1.example.test\nrelay = 127.0.0.1\n",
			 18, "relay", "IP address and port");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK
			 "[pool]\nfqdn = pool1.example.test\nrelay = ::1:5061\n",
			 18, "relay");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK
			 "[pool]\nfqdn = pool1.example.test\nrelay = [::1]:0\n",
			 18, "relay");
	expect_one_error(GLOBAL_OK ACCESS_OK "advertise = bad_host:5\n" INTERNAL_OK POOL_OK, 9,
			 "advertise");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK
			 "[pool]\nfqdn = pool1.example.test, -bad.test\nrelay = 127.0.0.1:1\n",
			 17, "bad value", "fqdn", "\"-bad.test\" is not one");
	expect_one_error("[global]\ndomains = , ,\n" ACCESS_OK INTERNAL_OK POOL_OK, 2, "domains",
			 "at least one");
}
END_TEST

START_TEST(test_flow_secret)
{
	char text[1024];
	const char *secret63 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1";
	const char *secret_g = "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

	snprintf(text, sizeof(text),
		 "[global]\ndomains = example.test\nflow_secret = %s\n" ACCESS_OK INTERNAL_OK
			 POOL_OK,
		 secret63);
	expect_one_error(text, 3, "flow_secret", "exactly 64 hex digits");
	snprintf(text, sizeof(text),
		 "[global]\ndomains = example.test\nflow_secret = %s\n" ACCESS_OK INTERNAL_OK
			 POOL_OK,
		 secret_g);
	expect_one_error(text, 3, "flow_secret", "exactly 64 hex digits");

	/* The message never repeats the secret. */
	struct loaded loaded;
	load(&loaded, text);
	ck_assert_ptr_null(strstr(loaded.errors, "0102030405"));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_duplicate_listener_name)
{
	struct loaded loaded;

	load(&loaded, MINIMAL "[listener access]\nrole = access\naddress = 127.0.0.2\n"
			      "port = 10443\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n");
	ck_assert_ptr_null(loaded.config);
	ck_assert_msg(loaded.n_errors == 1, "%s", loaded.errors);
	ck_assert(has_error(&loaded, 19, "duplicate listener name \"access\"", "first at line 3",
			    NULL));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_missing_required_key)
{
	/* At the section header's line. */
	expect_one_error(GLOBAL_OK
			 "[listener access]\nrole = access\naddress = 127.0.0.1\n"
			 "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK POOL_OK,
			 3, "missing required key port", "[listener access]");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK "\n[pool]\nfqdn = pool1.example.test\n",
			 17, "missing required key relay", "[pool]");
	expect_one_error("[global]\nlog_level = info\n" ACCESS_OK INTERNAL_OK POOL_OK, 1,
			 "missing required key domains", "[global]");
	/* ca_file once client certificates are asked for. */
	expect_one_error(GLOBAL_OK ACCESS_OK "client_certificate = required\n" INTERNAL_OK POOL_OK,
			 3, "missing required key ca_file", "[listener access]");
	expect_one_error(
		GLOBAL_OK ACCESS_OK
		"[listener internal]\nrole = internal\naddress = 127.0.0.1\n"
		"port = 15061\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" POOL_OK,
		9, "missing required key ca_file", "[listener internal]");
}
END_TEST

START_TEST(test_missing_sections)
{
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK, 0, "missing required section [pool]");
	expect_one_error(ACCESS_OK INTERNAL_OK POOL_OK, 0, "missing required section [global]",
			 "domains");
	expect_one_error(GLOBAL_OK INTERNAL_OK POOL_OK, 0, "no access listener");
	expect_one_error(GLOBAL_OK ACCESS_OK POOL_OK, 0, "no internal listener");

	struct loaded loaded;
	load(&loaded, "; nothing but a comment\n");
	ck_assert_ptr_null(loaded.config);
	ck_assert_uint_eq(loaded.n_errors, 4);
	ck_assert(has_error(&loaded, 0, "[global]", NULL));
	ck_assert(has_error(&loaded, 0, "[pool]", NULL));
	ck_assert(has_error(&loaded, 0, "no access listener", NULL));
	ck_assert(has_error(&loaded, 0, "no internal listener", NULL));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_two_internal_listeners)
{
	expect_one_error(MINIMAL
			 "[listener second]\nrole = internal\naddress = 127.0.0.2\n"
			 "port = 15061\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"
			 "ca_file = @DIR@/ca.crt\n",
			 19, "more than one internal listener", "\"internal\"", "line 9");
}
END_TEST

START_TEST(test_unreadable_files)
{
	struct loaded loaded;
	char expected[512];

	/* The key's own line, the path and strerror. */
	load(&loaded, GLOBAL_OK
	     "[listener access]\nrole = access\naddress = 127.0.0.1\n"
	     "port = 10443\ncertificate = @DIR@/nothere.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK
		     POOL_OK);
	ck_assert_ptr_null(loaded.config);
	snprintf(expected, sizeof(expected),
		 "%s:7: cannot read certificate \"%s/nothere.crt\": %s\n", loaded.path, dir,
		 strerror(ENOENT));
	ck_assert_str_eq(loaded.errors, expected);
	loaded_free(&loaded);

	expect_one_error(
		GLOBAL_OK
		"[listener access]\nrole = access\naddress = 127.0.0.1\n"
		"port = 10443\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.crt/key\n" INTERNAL_OK
			POOL_OK,
		8, "cannot read key", "edge.crt/key", strerror(ENOTDIR));
	expect_one_error(GLOBAL_OK ACCESS_OK
			 "[listener internal]\nrole = internal\n"
			 "address = 127.0.0.1\nport = 15061\ncertificate = @DIR@/edge.crt\n"
			 "key = @DIR@/edge.key\nca_file = @DIR@\n" POOL_OK,
			 15, "cannot read ca_file", "not a regular file");

	/* Permissions mean nothing to root, who runs some test machines. */
	if (geteuid() != 0) {
		char path[128];
		snprintf(path, sizeof(path), "%s/edge.key", dir);
		ck_assert_int_eq(chmod(path, 0), 0);
		load(&loaded, MINIMAL); /* both listeners use that key */
		ck_assert_ptr_null(loaded.config);
		ck_assert_uint_eq(loaded.n_errors, 2);
		ck_assert(has_error(&loaded, 8, "cannot read key", path, strerror(EACCES), NULL));
		ck_assert(has_error(&loaded, 14, "cannot read key", path, strerror(EACCES), NULL));
		loaded_free(&loaded);
	}
}
END_TEST

START_TEST(test_pool_backoff_order)
{
	expect_one_error(MINIMAL "reconnect_min = 10\nreconnect_max = 5\n", 20,
			 "reconnect_max (5) is less than reconnect_min (10)");
	/* reconnect_max at its default: blame the line that was written. */
	expect_one_error(MINIMAL "reconnect_min = 40\n", 19,
			 "reconnect_max (30) is less than reconnect_min (40)");
}
END_TEST

START_TEST(test_line_longer_than_message)
{
	expect_one_error(MINIMAL "[limits]\nsip_max_line = 70000\n", 20,
			 "sip_max_line (70000) is larger than sip_max_message (65536)");
	expect_one_error(MINIMAL "[limits]\nsip_max_message = 2048\n", 20,
			 "sip_max_line (8192) is larger than sip_max_message (2048)");
}
END_TEST

START_TEST(test_output_twice_message)
{
	/* blamed on output_max when it is written */
	expect_one_error(MINIMAL "[limits]\noutput_max = 131071\n", 20, "output_max (131071)",
			 "twice sip_max_message (65536)");
	expect_one_error(MINIMAL "[limits]\nsip_max_message = 600000\noutput_max = 1000000\n", 21,
			 "output_max (1000000)", "twice sip_max_message (600000)");
	expect_one_error(MINIMAL "[limits]\noutput_max = 1000000\nsip_max_message = 600000\n", 20,
			 "output_max (1000000)", "twice sip_max_message (600000)");
	/* else on sip_max_message, against the default output_max */
	expect_one_error(MINIMAL "[limits]\nsip_max_message = 524289\n", 20, "output_max (1048576)",
			 "twice sip_max_message (524289)");
	/* a bad value is its own one error, with no comparison on top */
	expect_one_error(MINIMAL "[limits]\nsip_max_message = 16777217\noutput_max = 65536\n", 20,
			 "bad value", "sip_max_message");
	expect_one_error(MINIMAL "[limits]\nsip_max_message = 600000\noutput_max = 1k\n", 21,
			 "bad value", "output_max");

	/* exactly twice is enough */
	struct loaded loaded;
	load(&loaded, MINIMAL "[limits]\nsip_max_message = 524288\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(loaded.config->limits.output_max, 1048576);
	loaded_free(&loaded);
	load(&loaded, MINIMAL "[limits]\nsip_max_message = 1024\nsip_max_line = 1024\n"
			      "output_max = 65536\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

#define INTERNAL_AT(address)                                                          \
	"[listener internal]\nrole = internal\naddress = " address "\nport = 15061\n" \
	"advertise = edge-int.example.test\ncertificate = @DIR@/edge.crt\n"           \
	"key = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n"
#define POOL_AT(relay) "[pool]\nfqdn = pool1.example.test\nrelay = " relay "\n"

/* Line numbers with INTERNAL_AT: [pool] 17, relay 19. */

START_TEST(test_relay_ip_of_internal_family)
{
	/* names are not resolved */
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK POOL_AT("pool1.example.test:25061"), 18,
			 "bad value \"pool1.example.test:25061\" for relay", "IP address",
			 "names are not resolved");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK POOL_AT("localhost:25061"), 18, "relay",
			 "names are not resolved");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK POOL_AT("[127.0.0.1]:25061"), 18, "relay",
			 "IP address");
	/* the edge connects from the internal listener's address */
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK POOL_AT("[::1]:25061"), 18,
			 "relay ::1 is IPv6", "internal listener \"internal\"",
			 "has an IPv4 address (127.0.0.1, line 11)");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_AT("::1") POOL_AT("127.0.0.1:25061"), 19,
			 "relay 127.0.0.1 is IPv4", "has an IPv6 address (::1, line 11)");
	/* an IPv4-mapped relay is still an IPv6 destination */
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK POOL_AT("[::ffff:127.0.0.1]:25061"), 18,
			 "relay ::ffff:127.0.0.1 is IPv6");
	/* a wildcard matches its own family only */
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_AT("0.0.0.0") POOL_AT("[fd00::10]:5061"), 19,
			 "relay fd00::10 is IPv6", "IPv4 address (0.0.0.0, line 11)");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_AT("::") POOL_AT("10.0.1.10:5061"), 19,
			 "relay 10.0.1.10 is IPv4", "IPv6 address (::, line 11)");
	/* a bad internal address is one error, with no comparison on top */
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_AT("localhost") POOL_AT("[::1]:5061"), 11,
			 "address", "IPv4 or IPv6");

	struct loaded loaded;
	load(&loaded, GLOBAL_OK ACCESS_OK INTERNAL_AT("0.0.0.0") POOL_AT("10.0.1.10:5061"));
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(sip_config(loaded.config)->pool.relay_host, "10.0.1.10");
	loaded_free(&loaded);
	load(&loaded, GLOBAL_OK ACCESS_OK INTERNAL_AT("::") POOL_AT("[fd00::10]:5061"));
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(sip_config(loaded.config)->pool.relay_host, "fd00::10");
	ck_assert_uint_eq(sip_config(loaded.config)->pool.relay_port, 5061);
	loaded_free(&loaded);
	load(&loaded,
	     GLOBAL_OK ACCESS_OK INTERNAL_AT("fd00::1") POOL_AT("[::ffff:10.0.1.10]:5061"));
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_internal_client_certificate)
{
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK "client_certificate = optional\n" POOL_OK,
			 16, "client_certificate must be required", "internal");
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK "client_certificate = none\n" POOL_OK, 16,
			 "client_certificate must be required");
}
END_TEST

START_TEST(test_same_address_and_port)
{
	expect_one_error(MINIMAL
			 "[listener again]\nrole = access\naddress = 127.0.0.1\n"
			 "port = 10443\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n",
			 19, "listener \"again\"", "clashes with listener \"access\"", "line 3");
	/* A wildcard takes the port on every address of its family. */
	expect_one_error(MINIMAL "[listener again]\nrole = access\naddress = 0.0.0.0\n"
				 "port = 15061\nadvertise = edge.example.test\n"
				 "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n",
			 19, "clashes with listener \"internal\"");
	/* Another family, another port or another address is fine. */
	struct loaded loaded;
	load(&loaded, MINIMAL "[listener v6]\nrole = access\naddress = ::1\nport = 10443\n"
			      "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"
			      "[listener other]\nrole = access\naddress = 127.0.0.2\nport = 15061\n"
			      "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(loaded.config->n_listeners, 4);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_sides_advertise_apart)
{
	expect_one_error(GLOBAL_OK
			 "[listener access]\nrole = access\naddress = 127.0.0.1\n"
			 "port = 10443\nadvertise = 127.0.0.1:15061\n"
			 "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK POOL_OK,
			 3, "listener \"access\" advertises 127.0.0.1 port 15061",
			 "internal listener \"internal\"");
}
END_TEST

START_TEST(test_list_keys_add_up)
{
	struct loaded loaded;
	load(&loaded,
	     "[global]\ndomains = example.test\ndomains = Example.ORG, third.test\n" ACCESS_OK
		     INTERNAL_OK "[pool]\nfqdn = pool1.example.test\nfqdn = pool2.example.test\n"
	     "relay = 127.0.0.1:25061\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(loaded.config->n_domains, 3);
	ck_assert_str_eq(loaded.config->domains[1], "example.org");
	ck_assert_str_eq(loaded.config->domains[2], "third.test");
	ck_assert_uint_eq(sip_config(loaded.config)->pool.n_fqdns, 2);
	ck_assert_str_eq(sip_config(loaded.config)->pool.fqdns[1], "pool2.example.test");
	loaded_free(&loaded);
	/* A bad line of a repeated list is still an error on its own line. */
	expect_one_error(
		"[global]\ndomains = example.test\ndomains = bad_name!\n" ACCESS_OK INTERNAL_OK
			POOL_OK,
		3, "bad value", "domains");
}
END_TEST

START_TEST(test_wildcard_needs_advertise)
{
	expect_one_error(
		GLOBAL_OK
		"[listener access]\nrole = access\naddress = ::\n"
		"port = 443\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK
			POOL_OK,
		3, "missing advertise", "wildcard");
}
END_TEST

START_TEST(test_syntax_errors)
{
	expect_one_error(MINIMAL "[limits]\nthis is not a pair\n", 20, "syntax error");
	expect_one_error(MINIMAL "[limits\n", 19, "syntax error", "[section]");
	expect_one_error(MINIMAL "[limits] idle_timeout = 4\n", 19, "syntax error");
	/* A continuation line (inih's multi-line values) is not accepted either. */
	expect_one_error(MINIMAL "[global]\n", 19, "duplicate section [global]");
	expect_one_error(GLOBAL_OK "  example.org\n" ACCESS_OK INTERNAL_OK POOL_OK, 3,
			 "syntax error");
	/* The "missing" key may be on the broken line: no second error for it. */
	expect_one_error(GLOBAL_OK ACCESS_OK INTERNAL_OK "[pool]\nfqdn = pool1.example.test\n"
							 "relay 127.0.0.1 5061\n",
			 18, "syntax error");
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = GLOBAL_OK "[limits]\nidle_timeout = 1\0 2\n";
	struct loaded loaded;

	loaded.path = write_config("");
	FILE *file = fopen(loaded.path, "w");
	ck_assert_ptr_nonnull(file);
	fwrite(text, 1, sizeof(text) - 1, file);
	fclose(file);
	load_path(&loaded, loaded.path);
	ck_assert_ptr_null(loaded.config);
	ck_assert(has_error(&loaded, 4, "NUL", NULL));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_several_errors)
{
	struct loaded loaded;

	load(&loaded, "[global]\n" /* 1 */
		      "domains = example.test\n" /* 2 */
		      "node_id = 70000\n" /* 3 */
		      "[limits]\n" /* 4 */
		      "idle_timout = 5\n" /* 5 */
		      "oops\n" /* 6 */
		      "[listener access]\n" /* 7 */
		      "role = access\n" /* 8 */
		      "address = 127.0.0.1\n" /* 9 */
		      "certificate = @DIR@/missing.crt\n" /* 10 */
		      "key = @DIR@/edge.key\n"); /* 11 */
	ck_assert_ptr_null(loaded.config);
	ck_assert_msg(loaded.n_errors == 7, "%s", loaded.errors);
	ck_assert(has_error(&loaded, 3, "node_id", NULL));
	ck_assert(has_error(&loaded, 5, "unknown key \"idle_timout\"", NULL));
	ck_assert(has_error(&loaded, 6, "syntax error", NULL));
	ck_assert(has_error(&loaded, 7, "missing required key port", NULL));
	ck_assert(has_error(&loaded, 10, "missing.crt", NULL));
	ck_assert(has_error(&loaded, 0, "no internal listener", NULL));
	ck_assert(has_error(&loaded, 0, "missing required section [pool]", NULL));

	/* In line order, the file as a whole last. */
	const char *lines[] = { ":3: ", ":5: ", ":6: ", ":7: ", ":10: ", ":0: " };
	const char *previous = loaded.errors;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *at = strstr(loaded.errors, lines[i]);
		ck_assert_ptr_nonnull(at);
		ck_assert_msg(at >= previous, "%s out of order in:\n%s", lines[i], loaded.errors);
		previous = at;
	}
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_no_error_stream)
{
	char *path = write_config("[global]\n");

	ck_assert_ptr_null(config_load(path, NULL, &sxedge_protocols.schema));
	free(path);
}
END_TEST

/* ---- Federation: [listener] role = federation, [federation], [partner DOMAIN] ---- */

#define FEDERATION_OK                                                                   \
	"[listener federation]\nrole = federation\naddress = 127.0.0.1\nport = 15062\n" \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n"
#define MINIMAL_FEDERATION MINIMAL FEDERATION_OK

/* Line numbers in MINIMAL_FEDERATION: [listener federation] 19 (to 25); what
 * follows starts at line 26. */

static const char full_federation_config[] =
	MINIMAL "[listener outside]\n" /* 19 */
		"role = federation\n"
		"address = 0.0.0.0\n"
		"port = 5061\n"
		"advertise = sip.example.test:5061\n"
		"certificate = @DIR@/edge.crt\n"
		"key = @DIR@/edge.key\n"
		"ca_file = @DIR@/ca.crt\n"
		"client_certificate = required\n"
		"require_sni = yes\n"
		"[federation]\n" /* 29 */
		"open = yes\n"
		"blocked = spam.test, Evil.TEST\n"
		"blocked = worse.test\n"
		"dns_server = [::1]:5353\n"
		"queue_max = 100\n"
		"connect_timeout = 20\n"
		"max_connections_per_address = 4\n"
		"[partner Partner.TEST]\n" /* 37 */
		"type = federated\n"
		"edge = edge1.partner.test, EDGE2.partner.test\n"
		"edge = edge3.partner.test\n"
		"address = 127.0.0.20:5062\n"
		"fingerprint = sha256:00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
		"10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f\n"
		"rate = 50\n"
		"burst = 200\n"
		"[partner im.provider.test]\n" /* 45 */
		"type = Provider\n"
		"edge = sip.provider.test\n"
		"fingerprint = F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFFe0e1e2e3e4e5e6e7e8e9eaebecedeeef\n"
		"rate = 10\n"
		"[partner third.test]\n" /* 50 */
		"edge = edge.third.test\n"
		"address = fd00::20\n"
		"[partner fourth.test]\n" /* 53 */
		"edge = edge.fourth.test\n"
		"address = [fd00::21]:15061\n";

START_TEST(test_full_federation)
{
	struct loaded loaded;

	load(&loaded, full_federation_config);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(loaded.errors, "");
	const struct sxedge_config *config = loaded.config;

	const struct listener_config *listener = config_listener(config, ROLE_FEDERATION);
	ck_assert_ptr_eq(listener, &config->listeners[2]);
	ck_assert_str_eq(listener->name, "outside");
	ck_assert_int_eq(listener->line, 19);
	ck_assert_str_eq(listener->address, "0.0.0.0");
	ck_assert_uint_eq(listener->port, 5061);
	ck_assert_str_eq(listener->advertise_host, "sip.example.test");
	ck_assert_uint_eq(listener->advertise_port, 5061);
	ck_assert_int_eq(listener->client_cert, CLIENT_CERT_REQUIRED);
	ck_assert(listener->require_sni);
	ck_assert_str_eq(role_name(listener->role), "federation");

	const struct federation_config *federation = federation_config(config);
	ck_assert(federation->open);
	ck_assert_uint_eq(federation->n_blocked, 3);
	ck_assert_str_eq(federation->blocked[0], "spam.test");
	ck_assert_str_eq(federation->blocked[1], "evil.test");
	ck_assert_str_eq(federation->blocked[2], "worse.test");
	ck_assert_str_eq(federation->dns_server_host, "::1");
	ck_assert_uint_eq(federation->dns_server_port, 5353);
	ck_assert_uint_eq(federation->queue_max, 100);
	ck_assert_uint_eq(federation->connect_timeout_s, 20);
	ck_assert_uint_eq(federation->max_connections_per_address, 4);

	ck_assert_uint_eq(sip_config(config)->n_partners, 4);
	const struct partner_config *partner = &sip_config(config)->partners[0];
	ck_assert_str_eq(partner->domain, "partner.test");
	ck_assert_int_eq(partner->line, 37);
	ck_assert_int_eq(partner->type, PARTNER_FEDERATED);
	ck_assert_uint_eq(partner->n_edges, 3);
	ck_assert_str_eq(partner->edges[0], "edge1.partner.test");
	ck_assert_str_eq(partner->edges[1], "edge2.partner.test");
	ck_assert_str_eq(partner->edges[2], "edge3.partner.test");
	ck_assert_str_eq(partner->address_host, "127.0.0.20");
	ck_assert_uint_eq(partner->address_port, 5062);
	ck_assert(partner->fingerprint_set);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_uint_eq(partner->fingerprint[i], i);
	ck_assert_uint_eq(partner->rate, 50);
	ck_assert_uint_eq(partner->burst, 200);

	const struct partner_config *provider = &sip_config(config)->partners[1];
	ck_assert_str_eq(provider->domain, "im.provider.test");
	ck_assert_int_eq(provider->line, 45);
	ck_assert_int_eq(provider->type, PARTNER_PROVIDER);
	ck_assert_uint_eq(provider->n_edges, 1);
	ck_assert_str_eq(provider->edges[0], "sip.provider.test");
	ck_assert_ptr_null(provider->address_host);
	ck_assert(provider->fingerprint_set);
	for (unsigned i = 0; i < 16; i++) {
		ck_assert_uint_eq(provider->fingerprint[i], 0xf0 + i);
		ck_assert_uint_eq(provider->fingerprint[16 + i], 0xe0 + i);
	}
	ck_assert_uint_eq(provider->rate, 10);
	ck_assert_uint_eq(provider->burst, 10); /* burst 0: the rate */

	ck_assert_str_eq(sip_config(config)->partners[2].address_host, "fd00::20");
	ck_assert_uint_eq(sip_config(config)->partners[2].address_port, 5061);
	ck_assert(!sip_config(config)->partners[2].fingerprint_set);
	ck_assert_str_eq(sip_config(config)->partners[3].address_host, "fd00::21");
	ck_assert_uint_eq(sip_config(config)->partners[3].address_port, 15061);

	ck_assert_ptr_eq(sip_config_partner(sip_config(config), "partner.test"), partner);
	ck_assert_ptr_eq(sip_config_partner(sip_config(config), "PARTNER.Test"), partner);
	ck_assert_ptr_eq(sip_config_partner(sip_config(config), "IM.provider.test"), provider);
	ck_assert_ptr_null(sip_config_partner(sip_config(config), "sub.partner.test"));
	ck_assert_ptr_null(sip_config_partner(sip_config(config), "partner"));
	ck_assert_ptr_null(sip_config_partner(sip_config(config), "example.test"));
	ck_assert_ptr_null(sip_config_partner(sip_config(config), NULL));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_federation_defaults)
{
	struct loaded loaded;

	/* Without [federation], without any federation listener. */
	load(&loaded, MINIMAL);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct federation_config *federation = federation_config(loaded.config);
	ck_assert(!federation->open);
	ck_assert_uint_eq(federation->n_blocked, 0);
	ck_assert_ptr_null(federation->blocked);
	ck_assert_ptr_null(federation->dns_server_host);
	ck_assert_uint_eq(federation->dns_server_port, 53);
	ck_assert_uint_eq(federation->queue_max, 64);
	ck_assert_uint_eq(federation->connect_timeout_s, 10);
	ck_assert_uint_eq(federation->max_connections_per_address, 16);
	ck_assert_uint_eq(sip_config(loaded.config)->n_partners, 0);
	ck_assert_ptr_null(sip_config(loaded.config)->partners);
	ck_assert_ptr_null(config_listener(loaded.config, ROLE_FEDERATION));
	ck_assert_ptr_null(sip_config_partner(sip_config(loaded.config), "partner.test"));
	loaded_free(&loaded);

	/* An empty [federation] (open = no needs no listener), a DNS server
	 * without a port, and a partner with nothing but its name. */
	load(&loaded, MINIMAL "[federation]\nopen = no\ndns_server = 127.0.0.53\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert(!federation_config(loaded.config)->open);
	ck_assert_str_eq(federation_config(loaded.config)->dns_server_host, "127.0.0.53");
	ck_assert_uint_eq(federation_config(loaded.config)->dns_server_port, 53);
	loaded_free(&loaded);

	load(&loaded, MINIMAL_FEDERATION "[partner partner.test]\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct listener_config *listener = config_listener(loaded.config, ROLE_FEDERATION);
	ck_assert_ptr_nonnull(listener);
	ck_assert_int_eq(listener->client_cert, CLIENT_CERT_REQUIRED);
	ck_assert_str_eq(listener->advertise_host, "127.0.0.1");
	ck_assert_uint_eq(listener->advertise_port, 15062);
	ck_assert(!listener->require_sni);
	ck_assert_uint_eq(sip_config(loaded.config)->n_partners, 1);
	const struct partner_config *partner = &sip_config(loaded.config)->partners[0];
	ck_assert_str_eq(partner->domain, "partner.test");
	ck_assert_int_eq(partner->line, 26);
	ck_assert_int_eq(partner->type, PARTNER_FEDERATED);
	ck_assert_uint_eq(partner->n_edges, 0);
	ck_assert_ptr_null(partner->edges);
	ck_assert_ptr_null(partner->address_host);
	ck_assert_uint_eq(partner->address_port, 5061);
	ck_assert(!partner->fingerprint_set);
	ck_assert_uint_eq(partner->rate, 0);
	ck_assert_uint_eq(partner->burst, 0);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_federation_needs_listener)
{
	struct loaded loaded;

	expect_one_error(MINIMAL "[partner partner.test]\nedge = edge.partner.test\n", 19,
			 "[partner partner.test] needs a federation listener", "role = federation");
	expect_one_error(MINIMAL "[federation]\nqueue_max = 5\nopen = yes\n", 21,
			 "open = yes needs a federation listener");
	/* Each partner at its own line, and open = yes at its own. */
	load(&loaded, MINIMAL "[partner one.test]\n[federation]\nopen = on\n[partner two.test]\n");
	ck_assert_ptr_null(loaded.config);
	ck_assert_msg(loaded.n_errors == 3, "%s", loaded.errors);
	ck_assert(has_error(&loaded, 19, "[partner one.test] needs a federation listener", NULL));
	ck_assert(has_error(&loaded, 21, "open = yes needs a federation listener", NULL));
	ck_assert(has_error(&loaded, 22, "[partner two.test] needs a federation listener", NULL));
	loaded_free(&loaded);
	/* A listener whose role is unknown may be the federation listener:
	 * only its role is reported. */
	expect_one_error(MINIMAL
			 "[listener federation]\nrole = federatoin\naddress = 127.0.0.1\n"
			 "port = 15062\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n"
			 "[partner partner.test]\n",
			 20, "bad value \"federatoin\" for role");
}
END_TEST

START_TEST(test_partner_section_names)
{
	struct loaded loaded;

	expect_one_error(MINIMAL_FEDERATION "[partner]\nedge = edge.partner.test\n", 26,
			 "a partner section needs a domain");
	expect_one_error(MINIMAL_FEDERATION "[partner bad_domain.test]\nrate = x\n", 26,
			 "bad partner domain \"bad_domain.test\"", "expected a domain name");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test.]\n", 26, "bad partner domain");
	expect_one_error(MINIMAL_FEDERATION "[partner -partner.test]\n", 26, "bad partner domain");
	expect_one_error(MINIMAL_FEDERATION "[partner 127.0.0.20]\n", 26,
			 "bad partner domain \"127.0.0.20\"");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test extra]\n", 26,
			 "bad partner domain \"partner.test extra\"");
	/* Tabs and extra blanks around the domain are fine; it is stored lower case. */
	load(&loaded, MINIMAL_FEDERATION "[ partner \t Partner.Test ]\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(sip_config(loaded.config)->partners[0].domain, "partner.test");
	loaded_free(&loaded);
	/* Unknown keys name the section. */
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nedges = e.partner.test\n", 27,
			 "unknown key \"edges\" in [partner partner.test]");
}
END_TEST

START_TEST(test_partner_duplicate)
{
	/* Case-insensitively, with the first line; the duplicate's keys are not read. */
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nedge = edge.partner.test\n"
					    "[partner PARTNER.test]\nrate = bad\n",
			 28, "duplicate [partner] section for partner.test", "first at line 26");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nrate = 1\nrate = 2\n", 28,
			 "duplicate key rate in [partner partner.test]", "first at line 27");
}
END_TEST

START_TEST(test_partner_is_ours)
{
	expect_one_error("[global]\ndomains = example.test, example.org\n" ACCESS_OK INTERNAL_OK
				 POOL_OK FEDERATION_OK
			 "[partner partner.test]\n[partner Example.ORG]\n",
			 27, "[partner example.org] is one of our own domains");
	/* A name below ours is somebody else's. */
	struct loaded loaded;
	load(&loaded, MINIMAL_FEDERATION "[partner sub.example.test]\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_partner_address)
{
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nrate = 1\n"
					    "address = 127.0.0.20\n",
			 28, "address needs edge", "[partner partner.test]");
	/* A bad edge line was reported already: no second message for address. */
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nedge = bad_name\n"
					    "address = 127.0.0.20\n",
			 27, "bad value", "edge", "\"bad_name\" is not one");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nedge = edge.partner.test\n"
					    "address = edge.partner.test:5061\n",
			 28, "bad value", "address", "an IP address");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nedge = edge.partner.test\n"
					    "address = 127.0.0.20:0\n",
			 28, "bad value", "address");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nedge = edge.partner.test\n"
					    "address = [fd00::1:5061\n",
			 28, "bad value", "address");
}
END_TEST

/* "00:01:...:1f" (COLONS) or "000102...1f" into TEXT. */
static void fingerprint_text(char text[128], bool colons)
{
	size_t at = 0;

	for (unsigned i = 0; i < 32; i++)
		at += (size_t)sprintf(text + at, "%s%02x", colons && i > 0 ? ":" : "", i);
}

/* TEXT with CHARACTER put in at POSITION. */
static void insert_at(char text[128], size_t position, char character)
{
	memmove(text + position + 1, text + position, strlen(text + position) + 1);
	text[position] = character;
}

START_TEST(test_partner_fingerprint)
{
	static const char *const bad[] = {
		/* 31 bytes, 33 bytes, a non-hex digit, another digest, nothing */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
		"g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"sha1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"sha256:",
		"",
	};
	char text[1024], fingerprint[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) + 5; i++) {
		const char *value = fingerprint;
		if (i < sizeof(bad) / sizeof(bad[0])) {
			value = bad[i];
		} else {
			/* Colons only between bytes, one at a time. */
			fingerprint_text(fingerprint, true);
			switch (i - sizeof(bad) / sizeof(bad[0])) {
			case 0: /* "00::01" */
				insert_at(fingerprint, 2, ':');
				break;
			case 1: /* ":00:01" */
				insert_at(fingerprint, 0, ':');
				break;
			case 2: /* "1e:1f:" */
				strcat(fingerprint, ":");
				break;
			case 3: /* "0:00102" */
				fingerprint_text(fingerprint, false);
				insert_at(fingerprint, 1, ':');
				break;
			default: /* "sha256::00:01" */
				insert_at(fingerprint, 0, ':');
				insert_at(fingerprint, 0, ':');
				memmove(fingerprint + 6, fingerprint, strlen(fingerprint) + 1);
				memcpy(fingerprint, "sha256", 6);
			}
		}
		snprintf(text, sizeof(text),
			 MINIMAL_FEDERATION "[partner partner.test]\n"
					    "edge = edge.partner.test\nfingerprint = %s\n",
			 value);
		expect_one_error(text, 28, "bad value", "fingerprint", "64 hex digits");
	}

	/* The same bytes with and without colons are good. */
	fingerprint_text(fingerprint, true);
	ck_assert_uint_eq(strlen(fingerprint), 95);
	snprintf(text, sizeof(text),
		 MINIMAL_FEDERATION "[partner partner.test]\n"
				    "fingerprint = %s\n",
		 fingerprint);
	struct loaded loaded;
	load(&loaded, text);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_uint_eq(sip_config(loaded.config)->partners[0].fingerprint[i], i);
	loaded_free(&loaded);

	load(&loaded, MINIMAL_FEDERATION
	     "[partner partner.test]\n"
	     "fingerprint = SHA256:ff:FE:fdfc:FB:fa:f9:f8f7f6f5f4f3f2f1f0:ef:ee:ed:ec:eb:"
	     "ea:e9:e8:e7:e6:e5:e4:e3:e2:e1:e0\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert(sip_config(loaded.config)->partners[0].fingerprint_set);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_uint_eq(sip_config(loaded.config)->partners[0].fingerprint[i], 0xff - i);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_federation_values)
{
	expect_one_error(MINIMAL_FEDERATION "[federation]\nqueue_max = 0\n", 27, "queue_max",
			 "1 to 10000");
	expect_one_error(MINIMAL_FEDERATION "[federation]\nqueue_max = 10001\n", 27, "queue_max");
	expect_one_error(MINIMAL_FEDERATION "[federation]\nconnect_timeout = 301\n", 27,
			 "connect_timeout", "1 to 300");
	expect_one_error(MINIMAL_FEDERATION "[federation]\nconnect_timeout = 0\n", 27,
			 "connect_timeout");
	expect_one_error(MINIMAL_FEDERATION "[federation]\nmax_connections_per_address = 0\n", 27,
			 "max_connections_per_address", "1 to 10000");
	expect_one_error(MINIMAL_FEDERATION "[federation]\nopen = maybe\n", 27, "open", "yes, no");
	expect_one_error(MINIMAL_FEDERATION "[federation]\ndns_server = ns.example.test\n", 27,
			 "bad value", "dns_server", "an IP address");
	expect_one_error(MINIMAL_FEDERATION "[federation]\ndns_server = 127.0.0.53:65536\n", 27,
			 "dns_server");
	expect_one_error(MINIMAL_FEDERATION "[federation]\nblocked = spam.test, spam!\n", 27,
			 "blocked", "\"spam!\" is not one");
	expect_one_error(MINIMAL_FEDERATION "[federation]\nqueue_max = 5\n[federation]\n", 28,
			 "duplicate section [federation]", "first at line 26");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\ntype = peer\n", 27,
			 "bad value \"peer\" for type", "federated or provider");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nrate = 1000001\n", 27, "rate",
			 "0 to 1000000");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nburst = -1\n", 27, "burst",
			 "0 to 1000000");
	expect_one_error(MINIMAL_FEDERATION "[partner partner.test]\nedge = , \n", 27, "edge",
			 "at least one");
}
END_TEST

START_TEST(test_blocked_is_ours)
{
	struct loaded loaded;

	/* The line of the entry, when the list adds up over several lines. */
	expect_one_error(MINIMAL_FEDERATION
			 "[federation]\nblocked = spam.test\n"
			 "blocked = evil.test, EXAMPLE.test\nblocked = worse.test\n",
			 28, "blocked domain example.test is one of our own domains");
	load(&loaded, "[global]\ndomains = example.test, example.org\n" ACCESS_OK INTERNAL_OK
			      POOL_OK FEDERATION_OK "[federation]\nblocked = example.org\n"
		      "blocked = spam.test example.test\n");
	ck_assert_ptr_null(loaded.config);
	ck_assert_msg(loaded.n_errors == 2, "%s", loaded.errors);
	ck_assert(has_error(&loaded, 27, "blocked domain example.org", NULL));
	ck_assert(has_error(&loaded, 28, "blocked domain example.test", NULL));
	loaded_free(&loaded);
	/* Blocking a name below ours, or a partner, is allowed. */
	load(&loaded, MINIMAL_FEDERATION "[federation]\nblocked = sub.example.test partner.test\n"
					 "[partner partner.test]\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_federation_listener_rules)
{
	expect_one_error(MINIMAL_FEDERATION
			 "[listener federation2]\nrole = federation\n"
			 "address = 127.0.0.2\nport = 15062\ncertificate = @DIR@/edge.crt\n"
			 "key = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n",
			 26, "more than one federation listener",
			 "\"federation\" was first (line 19)");
	/* ca_file is required, at the section header. */
	expect_one_error(MINIMAL "[listener federation]\nrole = federation\n"
				 "address = 127.0.0.1\nport = 15062\ncertificate = @DIR@/edge.crt\n"
				 "key = @DIR@/edge.key\n",
			 19, "missing required key ca_file", "[listener federation]", "required");
	expect_one_error(MINIMAL_FEDERATION "client_certificate = optional\n", 26,
			 "client_certificate must be required on a federation listener");
	expect_one_error(MINIMAL_FEDERATION "client_certificate = none\n", 26,
			 "client_certificate must be required on a federation listener");
}
END_TEST

START_TEST(test_federation_advertises_apart)
{
	/* Apart from the internal listener ... */
	expect_one_error(MINIMAL FEDERATION_OK "advertise = 127.0.0.1:15061\n", 19,
			 "listener \"federation\" advertises 127.0.0.1 port 15061",
			 "like the internal listener \"internal\" (line 9)");
	/* ... and from every access listener, host names case-insensitively. */
	expect_one_error(GLOBAL_OK ACCESS_OK
			 "advertise = Edge.example.test:5061\n" INTERNAL_OK POOL_OK FEDERATION_OK
			 "advertise = edge.example.TEST:5061\n",
			 20, "listener \"federation\" advertises edge.example.TEST port 5061",
			 "like the access listener \"access\" (line 3)");
	expect_one_error(
		MINIMAL
		"[listener second]\nrole = access\naddress = 127.0.0.2\n"
		"port = 10443\ncertificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" FEDERATION_OK
		"advertise = 127.0.0.2:10443\n",
		25, "listener \"federation\" advertises 127.0.0.2 port 10443",
		"like the access listener \"second\" (line 19)");
	/* Another port on the same host is another side. */
	struct loaded loaded;
	load(&loaded, MINIMAL FEDERATION_OK "advertise = 127.0.0.1:5061\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_federation_several_errors)
{
	struct loaded loaded;

	load(&loaded, MINIMAL_FEDERATION "[federation]\n" /* 26 */
					 "blocked = example.test\n" /* 27 */
					 "[partner example.test]\n" /* 28 */
					 "[partner partner.test]\n" /* 29 */
					 "address = 127.0.0.20\n" /* 30 */
					 "fingerprint = 12\n" /* 31 */
					 "[partner Partner.test]\n"); /* 32 */
	ck_assert_ptr_null(loaded.config);
	ck_assert_msg(loaded.n_errors == 5, "%s", loaded.errors);
	ck_assert(has_error(&loaded, 27, "blocked domain example.test", NULL));
	ck_assert(has_error(&loaded, 28, "[partner example.test] is one of our own", NULL));
	ck_assert(has_error(&loaded, 30, "address needs edge", NULL));
	ck_assert(has_error(&loaded, 31, "fingerprint", NULL));
	ck_assert(has_error(&loaded, 32, "duplicate [partner]", "first at line 29", NULL));
	loaded_free(&loaded);
}
END_TEST

/* ---- Helpers ---- */

/* ---- [global] user, group and allow_root ---- */

/* MINIMAL with LINES (each ending in \n) after domains, at line 3 on. */
#define GLOBAL_WITH(lines) "[global]\ndomains = example.test\n" lines ACCESS_OK INTERNAL_OK POOL_OK

START_TEST(test_run_as_defaults)
{
	struct loaded loaded;

	load(&loaded, MINIMAL);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct run_as_config *run_as = &loaded.config->run_as;
	ck_assert_ptr_null(run_as->user);
	ck_assert_ptr_null(run_as->group);
	ck_assert(!run_as->allow_root);
	ck_assert_int_eq(run_as->line, 1);
	loaded_free(&loaded);

	load(&loaded, GLOBAL_WITH("allow_root = yes\n"));
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert(loaded.config->run_as.allow_root);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_run_as_user)
{
	struct passwd *nobody = getpwnam("nobody");
	struct group *daemon_group = getgrnam("daemon");
	struct loaded loaded;

	ck_assert_ptr_nonnull(nobody);
	uid_t nobody_uid = nobody->pw_uid;
	gid_t nobody_gid = nobody->pw_gid;
	ck_assert_ptr_nonnull(daemon_group);
	gid_t daemon_gid = daemon_group->gr_gid;

	/* The group defaults to the user's primary group. */
	load(&loaded, GLOBAL_WITH("user = nobody\n"));
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct run_as_config *run_as = &loaded.config->run_as;
	ck_assert_str_eq(run_as->user, "nobody");
	ck_assert_uint_eq(run_as->uid, nobody_uid);
	ck_assert_uint_eq(run_as->user_gid, nobody_gid);
	ck_assert_uint_eq(run_as->gid, nobody_gid);
	ck_assert_ptr_null(run_as->group);
	loaded_free(&loaded);

	load(&loaded, GLOBAL_WITH("user = nobody\ngroup = daemon\n"));
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	run_as = &loaded.config->run_as;
	ck_assert_uint_eq(run_as->uid, nobody_uid);
	ck_assert_str_eq(run_as->group, "daemon");
	ck_assert_uint_eq(run_as->gid, daemon_gid);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_run_as_errors)
{
	expect_one_error(GLOBAL_WITH("user = no-such-user-sxedge\n"), 3, "unknown user",
			 "\"no-such-user-sxedge\"", "no such user");
	expect_one_error(GLOBAL_WITH("user = nobody\ngroup = no-such-group-sxedge\n"), 4,
			 "unknown group", "\"no-such-group-sxedge\"", "no such group");
	expect_one_error(GLOBAL_WITH("group = daemon\n"), 3, "group needs user");
	expect_one_error(GLOBAL_WITH("user = root\n"), 3, "\"root\" has uid 0", "allow_root");
	expect_one_error(GLOBAL_WITH("user = nobody\ngroup = root\n"), 4, "\"root\" has gid 0");
	expect_one_error(GLOBAL_WITH("user = nobody\n\nallow_root = yes\n"), 5,
			 "allow_root = yes contradicts user (line 3)");
	expect_one_error(GLOBAL_WITH("allow_root = maybe\n"), 3, "bad value", "allow_root");
	/* allow_root = no next to a user says nothing false. */
	struct loaded loaded;
	load(&loaded, GLOBAL_WITH("user = nobody\nallow_root = no\n"));
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

/* A reload swaps the worker's snapshot; a connection accepted under the
 * old one keeps it whole until it ends, and the last holder frees it. */
START_TEST(test_snapshot_outlives_swap)
{
	struct loaded first, second;

	load(&first, GLOBAL_WITH("node_id = 1\n"));
	load(&second, GLOBAL_WITH("node_id = 2\n"));
	ck_assert_ptr_nonnull(first.config);
	ck_assert_ptr_nonnull(second.config);

	const struct sxedge_config *worker = config_ref(first.config); /* the worker's */
	const struct sxedge_config *session = config_ref(worker); /* accepted under it */
	config_unref(first.config); /* the loader's reference */
	first.config = NULL;

	/* The swap: the worker gives back the old snapshot for the new one. */
	config_unref(worker);
	worker = config_ref(second.config);
	ck_assert_uint_eq(worker->node_id, 2);

	/* The session's snapshot is still there, and only the session holds it. */
	ck_assert_uint_eq(atomic_load(&session->references), 1);
	ck_assert_uint_eq(session->node_id, 1);
	ck_assert_str_eq(session->domains[0], "example.test");
	ck_assert_str_eq(sip_config(session)->pool.relay_host, "127.0.0.1");
	config_unref(session); /* the last: freed (the leak checks see it go) */

	ck_assert_uint_eq(atomic_load(&worker->references), 2);
	config_unref(worker);
	loaded_free(&first);
	loaded_free(&second);
}
END_TEST

START_TEST(test_helpers)
{
	struct loaded loaded;
	struct sxedge_config empty = { 0 };

	config_unref(NULL);
	ck_assert_str_eq(role_name(ROLE_ACCESS), "access");
	ck_assert_str_eq(role_name(ROLE_INTERNAL), "internal");
	ck_assert_str_eq(role_name(ROLE_FEDERATION), "federation");
	ck_assert_ptr_null(sip_config_partner(&(struct sip_config){ 0 }, "partner.test"));
	ck_assert_ptr_null(config_listener(&empty, ROLE_ACCESS));
	ck_assert(!config_is_our_domain(&empty, "example.test"));

	load(&loaded,
	     "[global]\ndomains = example.test,Example.ORG\n" ACCESS_OK INTERNAL_OK POOL_OK);
	ck_assert_ptr_nonnull(loaded.config);
	ck_assert(config_is_our_domain(loaded.config, "example.test"));
	ck_assert(config_is_our_domain(loaded.config, "EXAMPLE.Test"));
	ck_assert(config_is_our_domain(loaded.config, "example.org"));
	/* A fully qualified name is the same domain (one dot, not two). */
	ck_assert(config_is_our_domain(loaded.config, "example.test."));
	ck_assert(!config_is_our_domain(loaded.config, "example.test.."));
	ck_assert(!config_is_our_domain(loaded.config, "."));
	ck_assert(!config_is_our_domain(loaded.config, "sub.example.test"));
	ck_assert(!config_is_our_domain(loaded.config, "example"));
	ck_assert(!config_is_our_domain(loaded.config, ""));
	ck_assert(!config_is_our_domain(loaded.config, NULL));
	loaded_free(&loaded);
}
END_TEST

/* ---- Connection budgets, first-request timeout, output total ---- */

START_TEST(test_connection_limits_defaults)
{
	struct loaded loaded;

	load(&loaded, MINIMAL);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct limits_config *limits = &loaded.config->limits;
	/* No federation listener: access gets all but the pool's share. */
	ck_assert_uint_eq(limits->max_connections_role[ROLE_INTERNAL], 100);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_ACCESS], 9900);
	ck_assert_uint_eq(limits->max_connections_per_address_access, 256);
	ck_assert_uint_eq(limits->first_request_timeout_s, 10);
	ck_assert_uint_eq(limits->output_total_max, 67108864);
	loaded_free(&loaded);

	load(&loaded, MINIMAL_FEDERATION);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	limits = &loaded.config->limits;
	ck_assert_uint_eq(limits->max_connections_role[ROLE_INTERNAL], 100);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_FEDERATION], 1000);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_ACCESS], 8900);
	loaded_free(&loaded);

	/* A small max_connections: the reserved shares shrink to a tenth. */
	load(&loaded, MINIMAL_FEDERATION "[limits]\nmax_connections = 50\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	limits = &loaded.config->limits;
	ck_assert_uint_eq(limits->max_connections_role[ROLE_INTERNAL], 5);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_FEDERATION], 5);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_ACCESS], 40);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_connection_limits_values)
{
	struct loaded loaded;

	load(&loaded, MINIMAL_FEDERATION "[limits]\n"
					 "max_connections = 3000\n"
					 "max_connections_access = 2000\n"
					 "max_connections_internal = 10\n"
					 "max_connections_federation = 990\n"
					 "max_connections_per_address_access = 50\n"
					 "first_request_timeout = 4\n"
					 "output_max = 131072\n"
					 "output_total_max = 131072\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct limits_config *limits = &loaded.config->limits;
	ck_assert_uint_eq(limits->max_connections, 3000);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_ACCESS], 2000);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_INTERNAL], 10);
	ck_assert_uint_eq(limits->max_connections_role[ROLE_FEDERATION], 990);
	ck_assert_uint_eq(limits->max_connections_per_address_access, 50);
	ck_assert_uint_eq(limits->first_request_timeout_s, 4);
	ck_assert_uint_eq(limits->output_total_max, 131072);
	loaded_free(&loaded);

	/* Set shares leave the rest to access. */
	load(&loaded, MINIMAL "[limits]\nmax_connections = 1000\nmax_connections_internal = 1\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_uint_eq(loaded.config->limits.max_connections_role[ROLE_ACCESS], 999);
	loaded_free(&loaded);

	/* Without a federation listener its share is not taken from access. */
	load(&loaded, MINIMAL "[limits]\nmax_connections = 1000\nmax_connections_access = 900\n"
			      "max_connections_federation = 500\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_connection_limits_errors)
{
	/* Shares that do not fit in max_connections: blamed on the first one set. */
	expect_one_error(MINIMAL_FEDERATION "[limits]\nmax_connections = 1000\n"
					    "max_connections_federation = 500\n"
					    "max_connections_access = 500\n",
			 28, "max_connections_access (500)", "max_connections_internal (100)",
			 "max_connections_federation (500)", "add up to 1100",
			 "max_connections (1000)");
	expect_one_error(MINIMAL "[limits]\nmax_connections = 100\nmax_connections_access = 100\n",
			 21, "add up to 110", "max_connections (100)");
	/* Nothing left for access. */
	expect_one_error(MINIMAL
			 "[limits]\nmax_connections = 100\nmax_connections_internal = 100\n",
			 21, "max_connections (100) leaves no room for access",
			 "max_connections_internal (100)");
	expect_one_error(MINIMAL "[limits]\nmax_connections = 1\n", 20,
			 "max_connections (1) leaves no room for access");
	/* Ranges. */
	expect_one_error(MINIMAL "[limits]\nmax_connections_access = 0\n", 20,
			 "max_connections_access", "1 to 1000000");
	expect_one_error(MINIMAL "[limits]\nmax_connections_internal = 1000001\n", 20,
			 "max_connections_internal", "1 to 1000000");
	expect_one_error(MINIMAL_FEDERATION "[limits]\nmax_connections_federation = x\n", 27,
			 "max_connections_federation", "1 to 1000000");
	expect_one_error(MINIMAL "[limits]\nmax_connections_per_address_access = 0\n", 20,
			 "max_connections_per_address_access", "1 to 1000000");
	expect_one_error(MINIMAL "[limits]\nfirst_request_timeout = 0\n", 20,
			 "first_request_timeout", "1 to 300");
	expect_one_error(MINIMAL "[limits]\nfirst_request_timeout = 301\n", 20,
			 "first_request_timeout", "1 to 300");
	expect_one_error(MINIMAL "[limits]\noutput_total_max = 65535\n", 20, "output_total_max",
			 "65536 to 68719476736");
	/* The total must hold one connection's whole queue. */
	expect_one_error(MINIMAL "[limits]\noutput_max = 2097152\noutput_total_max = 1048576\n", 21,
			 "output_total_max (1048576) is less than output_max (2097152)");
	expect_one_error(MINIMAL "[limits]\noutput_max = 134217728\n", 20,
			 "output_total_max (67108864) is less than output_max (134217728)");
}
END_TEST

/* ---- [metrics] ---- */

/* Line numbers after MINIMAL: [metrics] 19, its keys from 20. */

START_TEST(test_metrics_absent)
{
	struct loaded loaded;

	load(&loaded, MINIMAL);
	ck_assert_ptr_nonnull(loaded.config);
	ck_assert_ptr_null(metrics_config(loaded.config));
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_metrics_defaults)
{
	struct loaded loaded;

	load(&loaded, MINIMAL "[metrics]\nport = 9464\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct metrics_config *metrics = metrics_config(loaded.config);
	ck_assert_ptr_nonnull(metrics);
	ck_assert_int_eq(metrics->line, 19);
	ck_assert_str_eq(metrics->address, "127.0.0.1");
	ck_assert_uint_eq(metrics->port, 9464);
	ck_assert(!metrics->allow_remote);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_metrics_values)
{
	struct loaded loaded;

	load(&loaded, MINIMAL "[metrics]\naddress = ::1\nport = 9100\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	ck_assert_str_eq(metrics_config(loaded.config)->address, "::1");
	loaded_free(&loaded);

	/* A management network's address, said so. */
	load(&loaded, MINIMAL "[metrics]\naddress = 192.0.2.7\nport = 9100\nallow_remote = yes\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct metrics_config *metrics = metrics_config(loaded.config);
	ck_assert_str_eq(metrics->address, "192.0.2.7");
	ck_assert(metrics->allow_remote);
	loaded_free(&loaded);

	/* Another port of a listener's address, or another loopback address. */
	load(&loaded, MINIMAL "[metrics]\nport = 10444\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
	load(&loaded, MINIMAL "[metrics]\naddress = 127.0.0.2\nport = 10443\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_metrics_errors)
{
	expect_one_error(MINIMAL "[metrics]\naddress = 127.0.0.1\n", 19,
			 "missing required key port", "[metrics]");
	expect_one_error(MINIMAL "[metrics]\nport = 0\n", 20, "port");
	expect_one_error(MINIMAL "[metrics]\naddress = localhost\nport = 9100\n", 20, "address",
			 "localhost", "IPv4 or IPv6 address");
	expect_one_error(MINIMAL "[metrics]\nport = 9100\nallow_remote = maybe\n", 21,
			 "allow_remote", "maybe");
	expect_one_error(MINIMAL "[metrics]\nport = 9100\npath = /metrics\n", 21, "unknown key",
			 "path");
	/* Never a wildcard, even with allow_remote: it is the internet side too. */
	expect_one_error(MINIMAL "[metrics]\naddress = 0.0.0.0\nport = 9100\nallow_remote = yes\n",
			 20, "metrics address 0.0.0.0 is a wildcard", "internet side");
	expect_one_error(MINIMAL "[metrics]\nport = 9100\naddress = ::\n", 21,
			 "metrics address :: is a wildcard");
	expect_one_error(MINIMAL "[metrics]\naddress = 192.0.2.7\nport = 9100\n", 20,
			 "metrics address 192.0.2.7 is not a loopback address",
			 "allow_remote = yes");
	/* A listener whose address was refused: that is the one problem (the
	 * fuzz target found the clash check reading the missing address). */
	expect_one_error(GLOBAL_OK
			 "[listener access]\nrole = access\naddress = 127.0.0.1x\nport = 10443\n"
			 "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK POOL_OK
			 "[metrics]\nport = 10443\n",
			 5, "address", "127.0.0.1x");
	/* A listener's socket, or every address of its port. */
	expect_one_error(MINIMAL "[metrics]\nport = 15061\n", 19,
			 "metrics on 127.0.0.1 port 15061 clashes with listener \"internal\"",
			 "(line 9)");
	expect_one_error(GLOBAL_OK
			 "[listener access]\nrole = access\naddress = 0.0.0.0\nport = 10443\n"
			 "advertise = edge.example.test\n"
			 "certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\n" INTERNAL_OK POOL_OK
			 "[metrics]\nport = 10443\n",
			 20, "clashes with listener \"access\" on 0.0.0.0 (line 3)");

	struct loaded loaded;
	load(&loaded, MINIMAL "[metrics]\nport = 9100\n[metrics]\nport = 9101\n");
	ck_assert_ptr_null(loaded.config);
	ck_assert_msg(has_error(&loaded, 21, "duplicate section [metrics]", "line 19", NULL),
		      "got:\n%s", loaded.errors);
	loaded_free(&loaded);
}
END_TEST

/* ---- [xmpp] and the XMPP listeners ---- */

#define XMPP_PUBLIC_OK                                                                 \
	"[listener xmpp]\nrole = xmpp_federation\naddress = 127.0.0.1\nport = 15269\n" \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n"
#define XMPP_INTERNAL_OK                                                             \
	"[listener link]\nrole = xmpp_internal\naddress = 127.0.0.2\nport = 23456\n" \
	"certificate = @DIR@/edge.crt\nkey = @DIR@/edge.key\nca_file = @DIR@/ca.crt\n"
#define LINK_CA_OK "link_ca_certificate = @DIR@/ca.crt\nlink_ca_key = @DIR@/edge.key\n"

/* Line numbers: MINIMAL XMPP_PUBLIC_OK puts [listener xmpp] at 19 (to 25);
 * XMPP_INTERNAL_OK after MINIMAL starts at 19 too, after XMPP_PUBLIC_OK at 26;
 * what follows both at 33. */

START_TEST(test_xmpp_defaults)
{
	struct loaded loaded;

	load(&loaded, MINIMAL XMPP_PUBLIC_OK XMPP_INTERNAL_OK "[xmpp]\n" LINK_CA_OK);
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct xmpp_config *xmpp = xmpp_config(loaded.config);
	ck_assert_int_eq(xmpp->line, 33);
	ck_assert_uint_eq(xmpp->max_stanza, 262144);
	ck_assert_uint_eq(xmpp->negotiation_timeout_s, 30);
	ck_assert_uint_eq(xmpp->link_validity_s, 86400);
	ck_assert(xmpp->bidi);
	ck_assert(!xmpp->dialback_secret_set);
	ck_assert_ptr_null(xmpp->internal_server_host);
	ck_assert_uint_eq(xmpp->n_partners, 0);
	/* STARTTLS asks for a client certificate it does not require. */
	ck_assert_int_eq(config_listener(loaded.config, ROLE_XMPP_FEDERATION)->client_cert,
			 CLIENT_CERT_OPTIONAL);
	ck_assert_int_eq(config_listener(loaded.config, ROLE_XMPP_INTERNAL)->client_cert,
			 CLIENT_CERT_REQUIRED);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_xmpp_values)
{
	struct loaded loaded;

	load(&loaded, MINIMAL XMPP_PUBLIC_OK
	     "[xmpp]\npartners = Partner.Test other.test\nmax_stanza = 65536\n"
	     "negotiation_timeout = 5\ninternal_server = 10.0.1.20:5270\nbidi = no\n"
	     "stanza_rate = 5\nstanza_burst = 20\n"
	     "dialback_secret = "
	     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	ck_assert_msg(loaded.config != NULL, "errors:\n%s", loaded.errors);
	const struct xmpp_config *xmpp = xmpp_config(loaded.config);
	ck_assert_uint_eq(xmpp->n_partners, 2);
	ck_assert(xmpp_config_is_partner(xmpp, "partner.test"));
	ck_assert(xmpp_config_is_partner(xmpp, "OTHER.test"));
	ck_assert(!xmpp_config_is_partner(xmpp, "third.test"));
	ck_assert_uint_eq(xmpp->max_stanza, 65536);
	ck_assert_uint_eq(xmpp->negotiation_timeout_s, 5);
	ck_assert_str_eq(xmpp->internal_server_host, "10.0.1.20");
	ck_assert_uint_eq(xmpp->internal_server_port, 5270);
	ck_assert(!xmpp->bidi);
	ck_assert_uint_eq(xmpp->stanza_rate, 5);
	ck_assert_uint_eq(xmpp->stanza_burst, 20);
	ck_assert(xmpp->dialback_secret_set);
	ck_assert_uint_eq(xmpp->dialback_secret[31], 0x1f);
	loaded_free(&loaded);
}
END_TEST

START_TEST(test_xmpp_errors)
{
	/* The link CA is what the internal listener answers with. */
	expect_one_error(MINIMAL XMPP_INTERNAL_OK "[xmpp]\nlink_ca_key = @DIR@/edge.key\n", 26,
			 "missing link_ca_certificate in [xmpp]", "listener \"link\"");
	/* A STARTTLS listener shows a certificate too. */
	expect_one_error(MINIMAL "[listener xmpp]\nrole = xmpp_federation\naddress = 127.0.0.1\n"
				 "port = 15269\nca_file = @DIR@/ca.crt\nkey = @DIR@/edge.key\n",
			 19, "missing required key certificate");
	/* Our own domain is no partner. */
	expect_one_error(MINIMAL XMPP_PUBLIC_OK "[xmpp]\npartners = example.test\n", 27,
			 "partner example.test is one of our own domains");
	/* [xmpp] without an XMPP listener configures nothing. */
	expect_one_error(MINIMAL "[xmpp]\nbidi = no\n", 19, "[xmpp] needs an XMPP listener");
	expect_one_error(MINIMAL XMPP_PUBLIC_OK "[xmpp]\nmax_stanza = 100\n", 27, "max_stanza");
	expect_one_error(MINIMAL XMPP_PUBLIC_OK "[xmpp]\ndialback_secret = 00\n", 27,
			 "dialback_secret", "64 hex digits");
	expect_one_error(MINIMAL XMPP_PUBLIC_OK "[xmpp]\ninternal_server = inside.test:5270\n", 27,
			 "internal_server");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *suite = suite_create("config");
	TCase *good = tcase_create("good");
	TCase *errors = tcase_create("errors");
	TCase *federation = tcase_create("federation");
	TCase *run_as = tcase_create("run as");

	tcase_add_checked_fixture(good, setup, teardown);
	tcase_add_test(good, test_full_file);
	tcase_add_test(good, test_defaults);
	tcase_add_test(good, test_syntax_variants);
	tcase_add_test(good, test_longest_line);
	suite_add_tcase(suite, good);

	tcase_add_checked_fixture(errors, setup, teardown);
	tcase_add_test(errors, test_cannot_open);
	tcase_add_test(errors, test_unknown_section);
	tcase_add_test(errors, test_unknown_key);
	tcase_add_test(errors, test_duplicate_key);
	tcase_add_test(errors, test_bad_numbers);
	tcase_add_test(errors, test_bad_keywords);
	tcase_add_test(errors, test_bad_role_keeps_quiet_on_roles);
	tcase_add_test(errors, test_bad_addresses);
	tcase_add_test(errors, test_flow_secret);
	tcase_add_test(errors, test_duplicate_listener_name);
	tcase_add_test(errors, test_missing_required_key);
	tcase_add_test(errors, test_missing_sections);
	tcase_add_test(errors, test_two_internal_listeners);
	tcase_add_test(errors, test_unreadable_files);
	tcase_add_test(errors, test_pool_backoff_order);
	tcase_add_test(errors, test_line_longer_than_message);
	tcase_add_test(errors, test_output_twice_message);
	tcase_add_test(errors, test_relay_ip_of_internal_family);
	tcase_add_test(errors, test_internal_client_certificate);
	tcase_add_test(errors, test_same_address_and_port);
	tcase_add_test(errors, test_wildcard_needs_advertise);
	tcase_add_test(errors, test_sides_advertise_apart);
	tcase_add_test(errors, test_list_keys_add_up);
	tcase_add_test(errors, test_syntax_errors);
	tcase_add_test(errors, test_nul_byte);
	tcase_add_test(errors, test_several_errors);
	tcase_add_test(errors, test_no_error_stream);
	tcase_add_test(errors, test_helpers);
	tcase_add_test(errors, test_snapshot_outlives_swap);
	suite_add_tcase(suite, errors);

	tcase_add_checked_fixture(federation, setup, teardown);
	tcase_add_test(federation, test_full_federation);
	tcase_add_test(federation, test_federation_defaults);
	tcase_add_test(federation, test_federation_needs_listener);
	tcase_add_test(federation, test_partner_section_names);
	tcase_add_test(federation, test_partner_duplicate);
	tcase_add_test(federation, test_partner_is_ours);
	tcase_add_test(federation, test_partner_address);
	tcase_add_test(federation, test_partner_fingerprint);
	tcase_add_test(federation, test_federation_values);
	tcase_add_test(federation, test_blocked_is_ours);
	tcase_add_test(federation, test_federation_listener_rules);
	tcase_add_test(federation, test_federation_advertises_apart);
	tcase_add_test(federation, test_federation_several_errors);
	tcase_add_test(federation, test_connection_limits_defaults);
	tcase_add_test(federation, test_connection_limits_values);
	tcase_add_test(federation, test_connection_limits_errors);
	suite_add_tcase(suite, federation);

	TCase *xmpp = tcase_create("xmpp");
	tcase_add_checked_fixture(xmpp, setup, teardown);
	tcase_add_test(xmpp, test_xmpp_defaults);
	tcase_add_test(xmpp, test_xmpp_values);
	tcase_add_test(xmpp, test_xmpp_errors);
	suite_add_tcase(suite, xmpp);

	TCase *metrics = tcase_create("metrics");
	tcase_add_checked_fixture(metrics, setup, teardown);
	tcase_add_test(metrics, test_metrics_absent);
	tcase_add_test(metrics, test_metrics_defaults);
	tcase_add_test(metrics, test_metrics_values);
	tcase_add_test(metrics, test_metrics_errors);
	suite_add_tcase(suite, metrics);

	tcase_add_checked_fixture(run_as, setup, teardown);
	tcase_add_test(run_as, test_run_as_defaults);
	tcase_add_test(run_as, test_run_as_user);
	tcase_add_test(run_as, test_run_as_errors);
	suite_add_tcase(suite, run_as);
	return suite;
}

int main(void)
{
	return test_suite_run(config_suite());
}
