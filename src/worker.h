/* SPDX-License-Identifier: ISC */
/* worker: one event loop with its listener table, each protocol's state
 * (TLS contexts, sessions, links to the pool) and a reference to the
 * configuration snapshot (docs/design.md §2).  Everything a worker owns is
 * reached from its struct, so more workers can run side by side. */
#ifndef SXEDGE_WORKER_H
#define SXEDGE_WORKER_H

#include <stdio.h>

#include "config.h"
#include "protocol.h"

struct worker;

/* Runs every protocol's check of CONFIG (the certificates and keys it
 * would load): the part of the start-up that `sxedge -t` checks beyond the
 * file.  Writes one line per problem to ERRORS and returns -1, or 0. */
int worker_check(const struct sxedge_config *config, const struct protocol_table *table,
		 FILE *errors);

/* Makes each protocol's state of TABLE (TLS contexts) and binds every
 * listener, stream and datagram alike; NULL (with lines on ERRORS) when one
 * cannot be.  The worker holds its own reference to CONFIG; TABLE must
 * outlive it.  Everything of the start-up that may need root happens here,
 * so that the caller can give root up before worker_run() (run_as.h); keep
 * it so. */
struct worker *worker_new(const struct sxedge_config *config, const struct protocol_table *table,
			  FILE *errors);

/* Starts each protocol, serves until SIGTERM/SIGINT, then drains (until no
 * protocol has a connection open, at most drain_timeout) and returns 0;
 * -1 when the loop failed. */
int worker_run(struct worker *worker);
void worker_free(struct worker *worker);

#endif
