/* SPDX-License-Identifier: ISC */
/* Fuzz target: config_load on arbitrary file contents.  It must not crash
 * or leak, and a configuration it accepts must be whole: every rule the
 * loader checks holds in what it returns.
 *
 * The input is written to a file in a scratch folder (config_load takes a
 * path), and the errors go to /dev/null. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "protocols.h"
#include "roles.h"
#include "sip_config.h"

static char scratch[4096]; /* TMPDIR/sxedge-fuzz-config.XXXXXX */
static int scratch_fd = -1;
static char config_path[sizeof(scratch) + 16];
static int config_fd = -1;
static FILE *dev_null;
static bool in_loader;

/* The loader opens the certificate and key paths it is given, to report a
 * typo at its line.  Paths made up by the fuzzer must not reach the
 * machine (opening some devices has effects, and results would depend on
 * what exists), so while config_load runs, this open() finds only bare
 * file names, in the scratch folder: "cert.pem", "key.pem", "ca.pem" (see
 * the seeds), "." (a folder) and "fifo".  Neither the sanitizers nor
 * libFuzzer call open(), and outside config_load it does what libc's does. */
int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list args;
		va_start(args, flags);
		mode = va_arg(args, mode_t);
		va_end(args);
	}
	if (!in_loader)
		return openat(AT_FDCWD, path, flags, mode);
	if (strchr(path, '/') != NULL || strcmp(path, "..") == 0) {
		errno = ENOENT;
		return -1;
	}
	return openat(scratch_fd, path, flags, mode);
}

static void remove_scratch(void)
{
	static const char *const names[] = { "cert.pem", "key.pem", "ca.pem", "fifo",
					     "sxedge.conf" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlinkat(scratch_fd, names[i], 0);
	rmdir(scratch);
}

static void make_scratch(void)
{
	static const char *const files[] = { "cert.pem", "key.pem", "ca.pem" };
	const char *tmp = getenv("TMPDIR");

	int n = snprintf(scratch, sizeof(scratch), "%s/sxedge-fuzz-config.XXXXXX",
			 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	FUZZ_REQUIRE(n > 0 && (size_t)n < sizeof(scratch));
	FUZZ_REQUIRE(mkdtemp(scratch) != NULL);
	scratch_fd = openat(AT_FDCWD, scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_REQUIRE(scratch_fd >= 0);
	atexit(remove_scratch);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = openat(scratch_fd, files[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		FUZZ_REQUIRE(fd >= 0 && write(fd, "-----BEGIN CERTIFICATE-----\n", 28) == 28);
		close(fd);
	}
	FUZZ_REQUIRE(mkfifoat(scratch_fd, "fifo", 0600) == 0);
	snprintf(config_path, sizeof(config_path), "%s/sxedge.conf", scratch);
	config_fd = openat(scratch_fd, "sxedge.conf", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	FUZZ_REQUIRE(config_fd >= 0);
	dev_null = fopen("/dev/null", "we");
	FUZZ_REQUIRE(dev_null != NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_scratch();
	return 0;
}

static void write_config(const uint8_t *data, size_t size)
{
	FUZZ_REQUIRE(ftruncate(config_fd, 0) == 0);
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(config_fd, data + done, size - done, (off_t)done);
		FUZZ_REQUIRE(n > 0);
		done += (size_t)n;
	}
}

/* What config.h and sxedge.conf(5) promise of a loaded configuration. */
static void check_loaded(const struct sxedge_config *config)
{
	const struct limits_config *limits = &config->limits;
	const struct sip_config *sip = sip_config(config);

	FUZZ_REQUIRE(config->n_domains > 0);
	for (size_t i = 0; i < config->n_domains; i++)
		FUZZ_REQUIRE(config_is_our_domain(config, config->domains[i]));
	FUZZ_REQUIRE(config_listener(config, ROLE_ACCESS) != NULL);
	FUZZ_REQUIRE(config_listener(config, ROLE_INTERNAL) != NULL);
	for (size_t i = 0; i < config->n_listeners; i++) {
		const struct listener_config *listener = &config->listeners[i];
		FUZZ_REQUIRE(listener->address != NULL && listener->port != 0);
		FUZZ_REQUIRE(listener->advertise_host != NULL && listener->advertise_port != 0);
		FUZZ_REQUIRE(listener->role < ROLE_COUNT);
		/* Every role of the table is a TLS one today. */
		FUZZ_REQUIRE(listener->certificate != NULL && listener->key != NULL);
		FUZZ_REQUIRE(roles[listener->role].tls != CONFIG_TLS_MUTUAL ||
			     listener->client_cert == CLIENT_CERT_REQUIRED);
		FUZZ_REQUIRE(listener->client_cert == CLIENT_CERT_NONE ||
			     listener->ca_file != NULL);
	}
	FUZZ_REQUIRE(sip->pool.n_fqdns > 0 && sip->pool.relay_host != NULL);
	FUZZ_REQUIRE(sip->pool.reconnect_min_s <= sip->pool.reconnect_max_s);
	FUZZ_REQUIRE(limits->sip_max_line <= limits->sip_max_message);
	FUZZ_REQUIRE(limits->output_max >= 2 * limits->sip_max_message);
	FUZZ_REQUIRE(limits->output_total_max >= limits->output_max);
	/* Every role has room, and the budgets fit in the whole. */
	unsigned long long budgets = 0;
	for (unsigned role = 0; role < ROLE_COUNT; role++) {
		if (!roles[role].required && config_listener(config, role) == NULL)
			continue;
		FUZZ_REQUIRE(limits->max_connections_role[role] > 0);
		budgets += limits->max_connections_role[role];
	}
	FUZZ_REQUIRE(budgets <= limits->max_connections);
	/* Never dropped to root, and root only when allowed. */
	const struct run_as_config *run_as = &config->run_as;
	FUZZ_REQUIRE(run_as->user == NULL || (run_as->uid != 0 && run_as->gid != 0));
	FUZZ_REQUIRE(run_as->user != NULL || run_as->group == NULL);
	FUZZ_REQUIRE(run_as->group != NULL || run_as->gid == run_as->user_gid);
	FUZZ_REQUIRE(!(run_as->allow_root && run_as->user != NULL));
	for (size_t i = 0; i < sip->n_partners; i++) {
		const struct partner_config *partner = &sip->partners[i];
		FUZZ_REQUIRE(sip_config_partner(sip, partner->domain) == partner);
		FUZZ_REQUIRE(!config_is_our_domain(config, partner->domain));
		FUZZ_REQUIRE(partner->address_host == NULL || partner->n_edges > 0);
		FUZZ_REQUIRE(partner->address_port != 0);
	}
	FUZZ_REQUIRE(sip->n_partners == 0 || config_listener(config, ROLE_FEDERATION) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_config(data, size);
	in_loader = true;
	const struct sxedge_config *config =
		config_load(config_path, dev_null, &sxedge_protocols.schema);
	in_loader = false;
	if (config != NULL)
		check_loaded(config);
	config_unref(config);
	return 0;
}
