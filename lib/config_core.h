/* SPDX-License-Identifier: ISC */
/* config_core: the core's own sections, [global], [limits] and
 * [listener NAME], which every schema has, and their checks: who the daemon
 * runs as, the limits, the listeners against the role table, and the split
 * of max_connections among the roles. */
#ifndef SXEDGE_CONFIG_CORE_H
#define SXEDGE_CONFIG_CORE_H

#include "config_module.h"

extern const struct config_module config_core_module;

#endif
