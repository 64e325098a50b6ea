/* SPDX-License-Identifier: ISC */
/* protocols: the protocol table of sxedge (SIP today): the one place that
 * names every protocol module, for main.c and the worker. */
#ifndef SXEDGE_PROTOCOLS_H
#define SXEDGE_PROTOCOLS_H

#include "protocol.h"

extern const struct protocol_table sxedge_protocols;

#endif
