/* SPDX-License-Identifier: ISC */
/* connection_metrics: the core's connection families, which every
 * protocol counts its accepted connections into with its own name as the
 * protocol label, so an operator sees every listener's in one family.
 * Each protocol registers them in the worker's registry; the first
 * registration makes them and the others get the same families. */
#ifndef SXEDGE_CONNECTION_METRICS_H
#define SXEDGE_CONNECTION_METRICS_H

#include "metrics.h"

struct connection_families {
	struct metric_family *accepted; /* {protocol, role} */
	struct metric_family *refused; /* {protocol, role, reason}: a budget verdict */
	struct metric_family *closed; /* {protocol, role, reason}: a conn close reason */
};

/* Fills OUT from REGISTRY (NULL families when REGISTRY is NULL). */
void connection_families_register(struct metrics *registry, struct connection_families *out);

#endif
