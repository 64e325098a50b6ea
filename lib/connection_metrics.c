/* SPDX-License-Identifier: ISC */
/* connection_metrics: see connection_metrics.h. */
#include "connection_metrics.h"

void connection_families_register(struct metrics *registry, struct connection_families *out)
{
	static const char *const protocol_role[] = { "protocol", "role", NULL };
	static const char *const protocol_role_reason[] = { "protocol", "role", "reason", NULL };

	out->accepted = metrics_register(
		registry, METRIC_COUNTER, "sxedge_connections_accepted_total",
		"Connections accepted (given a place in their role's budget), by listener role.",
		protocol_role);
	out->refused =
		metrics_register(registry, METRIC_COUNTER, "sxedge_connections_refused_total",
				 "Connections refused at accept, by listener role and reason.",
				 protocol_role_reason);
	out->closed =
		metrics_register(registry, METRIC_COUNTER, "sxedge_connections_closed_total",
				 "Accepted connections closed, by listener role and close reason.",
				 protocol_role_reason);
}
