/* SPDX-License-Identifier: ISC */
/* sxedge: the access edge daemon.  This file is the command line and the
 * life cycle: load and check the configuration (and whether it may run as
 * who started it), build the worker (TLS contexts, bound listeners), drop
 * root, serve until told to stop, exit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "privileges.h"
#include "protocols.h"
#include "run_as.h"
#include "worker.h"

/* $(sysconfdir)/sxedge/sxedge.conf, from configure by way of Makefile.am. */
#ifndef SXEDGE_DEFAULT_CONFIG
#error "SXEDGE_DEFAULT_CONFIG (the configuration read without -c) comes from Makefile.am"
#endif

static void usage(FILE *out)
{
	fprintf(out, "usage: sxedge [-t] [-c FILE] [-h] [-V]\n"
		     "  -c FILE  configuration file (default " SXEDGE_DEFAULT_CONFIG ")\n"
		     "  -t       check the configuration and certificates, then exit\n"
		     "  -h       this help\n"
		     "  -V       print the version and exit\n");
}

/* Exit status 0 when the whole configuration, certificates included, is usable. */
static int check_only(const char *path)
{
	const struct sxedge_config *config = config_load(path, stderr, &sxedge_protocols.schema);
	if (config == NULL)
		return 1;
	int status = run_as_check(config, privileges_are_root(), stderr) == 0 ? 0 : 1;
	if (worker_check(config, &sxedge_protocols, stderr) != 0)
		status = 1;
	if (status == 0)
		fprintf(stderr, "%s: configuration ok\n", path);
	config_unref(config);
	return status;
}

/* Run once root is given up: the checks a reload runs, as the user that
 * will run them.  What passed as root a moment ago and fails now is a file
 * this user cannot read (a key readable by root only): the edge serves, but
 * says which files would make every reload fail. */
static void warn_unreloadable(const struct sxedge_config *config)
{
	char *problems = NULL, quoted[600];
	size_t size = 0;
	FILE *errors = open_memstream(&problems, &size);

	if (errors == NULL)
		return;
	int status = worker_check(config, &sxedge_protocols, errors);
	fclose(errors);
	for (char *line = strtok(problems, "\n"); status < 0 && line != NULL;
	     line = strtok(NULL, "\n"))
		log_event(LOG_LEVEL_WARNING, "reload_would_fail",
			  "error=%s reason=\"unreadable as the user the edge serves as: make it "
			  "readable by its group\"",
			  log_quote(quoted, sizeof(quoted), line));
	free(problems);
}

static int serve(const char *path)
{
	const struct sxedge_config *config = config_load(path, stderr, &sxedge_protocols.schema);
	if (config == NULL)
		return 1;
	if (run_as_check(config, privileges_are_root(), stderr) < 0) {
		config_unref(config);
		return 1;
	}
	log_set_level(config->log_level);
	if (log_open(config->log_to, config->syslog_socket, config->syslog_facility) < 0) {
		config_unref(config);
		return 1;
	}
	/* A peer that vanishes mid-write must cost one connection, not the process. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sxedge_protocols.n_protocols; i++)
		if (sxedge_protocols.protocols[i]->process_init != NULL)
			sxedge_protocols.protocols[i]->process_init();
	/* Everything that needs root happens in worker_new(): ports bound, keys
	 * and certificates read, the open-files limit raised.  Nothing after it
	 * may need root: outbound links and logs (stderr) do not. */
	struct worker *worker = worker_new(config, &sxedge_protocols, stderr);
	int status = 1;
	if (worker != NULL && run_as_apply(config) == 0) {
		warn_unreloadable(config);
		status = worker_run(worker) == 0 ? 0 : 1;
	} else
		log_event(LOG_LEVEL_ERROR, "start_failed", "config=%s", path);
	worker_free(worker);
	config_unref(config);
	return status;
}

int main(int argc, char **argv)
{
	const char *path = SXEDGE_DEFAULT_CONFIG;
	int check = 0;
	int option;

	while ((option = getopt(argc, argv, "c:thV")) != -1) {
		switch (option) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sxedge %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return check ? check_only(path) : serve(path);
}
