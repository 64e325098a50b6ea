/* SPDX-License-Identifier: ISC */
/* worker: one event loop with its listeners, its TLS contexts, its SIP
 * context and its links to the pool (docs/design.md §2).  Everything a worker
 * owns is reached from its struct, so more workers can run side by side. */
#ifndef SXEDGE_WORKER_H
#define SXEDGE_WORKER_H

#include <stdio.h>

#include "config.h"

struct worker;

/* Builds every TLS context CONFIG names, then frees them: the part of the
 * start-up that `sxedge -t` checks beyond the file.  Writes one line per
 * problem to ERRORS and returns -1, or returns 0. */
int worker_check_tls(const struct sxedge_config *config, FILE *errors);

/* Loads TLS contexts and binds every listener; NULL (with lines on ERRORS)
 * when one cannot be.  CONFIG must outlive the worker.  Everything of the
 * start-up that may need root happens here, so that the caller can give
 * root up before worker_run() (run_as.h); keep it so. */
struct worker *worker_new(const struct sxedge_config *config, FILE *errors);

/* Serves until SIGTERM/SIGINT, then drains (at most drain_timeout) and
 * returns 0; -1 when the loop failed. */
int worker_run(struct worker *worker);
void worker_free(struct worker *worker);

#endif
