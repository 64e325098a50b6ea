/* SPDX-License-Identifier: ISC */
/* metrics_config: the [metrics] section (sxedge.conf(5)), where the
 * Prometheus scrape endpoint listens (metrics_http.h).  Without the section
 * there is no endpoint and nothing is counted.
 *
 * The checks are the endpoint's own rules, made at load time so that
 * `sxedge -t` finds a mistake at its line: never a wildcard address, a
 * loopback one unless allow_remote says a management network's address is
 * meant, and no socket shared with a stream listener. */
#ifndef SXEDGE_METRICS_CONFIG_H
#define SXEDGE_METRICS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "config_module.h"

struct metrics_config {
	int line; /* of the [metrics] header; 0: no section, no endpoint */
	char *address; /* IP literal, default 127.0.0.1 */
	uint16_t port;
	bool allow_remote; /* may listen on an address other than loopback, default no */
};

extern const struct config_module metrics_config_module;

/* The [metrics] section of CONFIG, or NULL when the file has none (or the
 * schema has no metrics module). */
const struct metrics_config *metrics_config(const struct sxedge_config *config);

#endif
