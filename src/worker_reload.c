/* SPDX-License-Identifier: ISC */
/* worker_reload: SIGHUP (docs/design.md §2, reload).
 *
 * A reload applies as a whole or not at all.  The file is loaded and
 * checked like `sxedge -t` does (certificates and keys read again: a
 * renewed certificate at the same path is the common case); every protocol
 * prepares its new state from the new snapshot; every listener new to it,
 * and a moved metrics endpoint, is bound.  Only when all of that worked do
 * the protocols commit, the listener table change and the worker take the
 * new snapshot.  Anything failing before that undoes what was prepared,
 * logs each problem as a `reload_refused` line with its FILE:LINE, and the
 * running configuration stays in force.
 *
 * What cannot change without a restart is refused by name: the user and
 * group the daemon serves as (root is gone). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics_config.h"
#include "service_notify.h"
#include "worker_private.h"

/* What a reload prepares, undone as a whole if any step fails. */
struct worker_reload {
	const struct sxedge_config *config;
	void *pending[CONFIG_MODULES_MAX]; /* each protocol's */
	bool prepared[CONFIG_MODULES_MAX];
	struct worker_listeners listeners;
	bool listeners_prepared;
	bool metrics_moved; /* the endpoint changes: METRICS_HTTP replaces the running one */
	struct metrics_http *metrics_http;
};

static bool same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The user and group stay: the process gave up what it takes to change. */
static int worker_reload_check_run_as(const struct sxedge_config *running,
				      const struct sxedge_config *config, FILE *errors)
{
	const struct run_as_config *now = &running->run_as, *next = &config->run_as;

	if (same_string(now->user, next->user) && same_string(now->group, next->group) &&
	    now->uid == next->uid && now->gid == next->gid && now->allow_root == next->allow_root)
		return 0;
	fprintf(errors,
		"%s:%d: user, group and allow_root in [global] cannot change on reload (the "
		"daemon gave up what it takes to become another user): restart sxedge to apply "
		"them\n",
		config->path, next->line);
	return -1;
}

/* Does the scrape endpoint of CONFIG differ from the running one's? */
static bool worker_metrics_moved(const struct sxedge_config *running,
				 const struct sxedge_config *config)
{
	const struct metrics_config *now = metrics_config(running), *next = metrics_config(config);

	if (now == NULL || next == NULL)
		return now != next;
	return strcmp(now->address, next->address) != 0 || now->port != next->port;
}

static void worker_reload_abort(struct worker *worker, struct worker_reload *reload)
{
	for (size_t i = 0; i < worker->table->n_protocols; i++)
		if (reload->prepared[i])
			worker->table->protocols[i]->reload_abort(worker->states[i],
								  reload->pending[i]);
	if (reload->listeners_prepared)
		worker_listeners_abort(&reload->listeners);
	metrics_http_free(reload->metrics_http);
	config_unref(reload->config);
}

/* Every step that can fail, in order; on failure nothing running changed. */
static int worker_reload_prepare(struct worker *worker, struct worker_reload *reload, FILE *errors)
{
	const struct protocol_table *table = worker->table;

	reload->config = config_load(worker->config->path, errors, &table->schema);
	if (reload->config == NULL ||
	    worker_reload_check_run_as(worker->config, reload->config, errors) < 0 ||
	    worker_check(reload->config, table, errors) < 0)
		return -1;
	for (size_t i = 0; i < table->n_protocols; i++) {
		/* Its state points into the running snapshot, which the worker
		 * is about to let go of. */
		if (table->protocols[i]->reload_prepare == NULL) {
			fprintf(errors,
				"%s:0: protocol %s cannot reload: restart sxedge to apply "
				"a new configuration\n",
				reload->config->path, table->protocols[i]->name);
			return -1;
		}
		reload->pending[i] = table->protocols[i]->reload_prepare(worker->states[i],
									 reload->config, errors);
		if (reload->pending[i] == NULL)
			return -1;
		reload->prepared[i] = true;
	}
	if (worker_listeners_prepare(worker, reload->config, &worker->listeners, &reload->listeners,
				     errors) < 0)
		return -1;
	reload->listeners_prepared = true;
	reload->metrics_moved = worker_metrics_moved(worker->config, reload->config);
	if (reload->metrics_moved &&
	    worker_metrics_listen(worker, reload->config, &reload->metrics_http, errors) < 0)
		return -1;
	return 0;
}

/* Where lines go, when the new file says otherwise: reconnected only
 * then, as a socket only root could reach would fail on every reload.  A
 * failure (logged by log_open) keeps the old destination. */
static void worker_reload_log_destination(const struct sxedge_config *running,
					  const struct sxedge_config *config)
{
	if (running->log_to == config->log_to &&
	    running->syslog_facility == config->syslog_facility &&
	    same_string(running->syslog_socket, config->syslog_socket))
		return;
	log_open(config->log_to, config->syslog_socket, config->syslog_facility);
}

/* Cannot fail: every protocol commits, the listeners and the endpoint
 * change, the worker takes the new snapshot. */
static void worker_reload_commit(struct worker *worker, struct worker_reload *reload)
{
	for (size_t i = 0; i < worker->table->n_protocols; i++)
		if (reload->prepared[i])
			worker->table->protocols[i]->reload_commit(worker->states[i],
								   reload->pending[i]);
	worker_listeners_commit(worker, &reload->listeners, &worker->listeners);
	if (reload->metrics_moved) {
		const struct metrics_config *running = metrics_config(worker->config);
		if (running != NULL)
			log_event(LOG_LEVEL_NOTICE, "listener_closed",
				  "role=metrics address=%s port=%u", running->address,
				  running->port);
		metrics_http_free(worker->metrics_http);
		worker->metrics_http = reload->metrics_http;
	}
	log_set_level(reload->config->log_level);
	worker_reload_log_destination(worker->config, reload->config);
	worker_raise_file_limit(reload->config, worker->table);
	const struct sxedge_config *old = worker->config;
	worker->config = reload->config;
	config_unref(old);
}

/* One `reload_refused` line per problem the reload found. */
static void worker_log_refusal(const struct sxedge_config *running, char *problems)
{
	char path[300], error[600];
	unsigned logged = 0;

	log_quote(path, sizeof(path), running->path);
	for (char *line = strtok(problems, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		log_event(LOG_LEVEL_ERROR, "reload_refused", "config=%s error=%s kept=running",
			  path, log_quote(error, sizeof(error), line));
		logged++;
	}
	if (logged == 0)
		log_event(LOG_LEVEL_ERROR, "reload_refused",
			  "config=%s error=\"out of memory\" kept=running", path);
}

void worker_on_sighup(evutil_socket_t signal_number, short what, void *arg)
{
	struct worker *worker = arg;
	(void)signal_number;
	(void)what;

	if (worker->draining) {
		log_event(LOG_LEVEL_WARNING, "reload_ignored", "reason=draining");
		return;
	}
	service_notify_reloading();
	char *problems = NULL;
	size_t size = 0;
	FILE *errors = open_memstream(&problems, &size);
	struct worker_reload reload = { 0 };
	int status = errors != NULL ? worker_reload_prepare(worker, &reload, errors) : -1;
	if (errors != NULL)
		fclose(errors);
	if (status < 0) {
		worker_reload_abort(worker, &reload);
		metric_counter_add(worker->reloads_refused, 1);
		worker_log_refusal(worker->config, problems != NULL ? problems : "");
		service_notify_status("reload refused: the running configuration stays");
	} else {
		worker_reload_commit(worker, &reload);
		worker->reloads++;
		metric_counter_add(worker->reloads_applied, 1);
		log_event(LOG_LEVEL_NOTICE, "reloaded", "listeners=%zu reloads=%u",
			  worker->listeners.n_rows, worker->reloads);
		service_notify_status("serving");
	}
	free(problems);
	service_notify_ready();
}
