/* SPDX-License-Identifier: ISC */
/* partner_targets: the connection plan for a partner domain. */
#include "partner_targets.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"

static int partner_targets_add(struct partner_targets *targets, const char *host, uint16_t port)
{
	struct dns_target *grown = realloc(targets->targets, (targets->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	targets->targets = grown;
	targets->targets[targets->n] = (struct dns_target){ .host = strdup(host), .port = port };
	if (targets->targets[targets->n].host == NULL)
		return -1;
	targets->n++;
	return 0;
}

int partner_targets_configured(const struct partner_config *partner,
			       struct partner_targets *targets)
{
	if (partner == NULL)
		return 0;
	if (partner->address_host != NULL)
		return partner_targets_add(targets, partner->address_host, partner->address_port);
	for (size_t i = 0; i < partner->n_edges; i++)
		if (partner_targets_add(targets, partner->edges[i], PARTNER_PORT) < 0)
			return -1;
	return 0;
}

int partner_targets_from_srv(const char *domain, const struct partner_config *partner,
			     const struct dns_target *srv, size_t n,
			     struct partner_targets *targets)
{
	for (size_t i = 0; i < n; i++)
		if ((partner != NULL || policy_name_in_domain(srv[i].host, domain)) &&
		    partner_targets_add(targets, srv[i].host, srv[i].port) < 0)
			return -1;
	return 0;
}

size_t partner_expected_names(const struct partner_config *partner, const char *target_host,
			      const char **names, size_t max)
{
	size_t n = 0;
	if (partner != NULL && partner->n_edges > 0) {
		for (size_t i = 0; i < partner->n_edges && n < max; i++)
			names[n++] = partner->edges[i];
	} else if (max > 0) {
		names[n++] = target_host;
	}
	return n;
}

void partner_targets_clear(struct partner_targets *targets)
{
	for (size_t i = 0; i < targets->n; i++)
		free(targets->targets[i].host);
	free(targets->targets);
	targets->targets = NULL;
	targets->n = 0;
}
