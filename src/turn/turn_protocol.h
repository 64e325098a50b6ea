/* SPDX-License-Identifier: ISC */
/* turn_protocol: TURN's entry in the protocol table (protocol.h): roles
 * turn (UDP) and turn_tcp (TCP), served by turn_context. */
#ifndef SXEDGE_TURN_TURN_PROTOCOL_H
#define SXEDGE_TURN_TURN_PROTOCOL_H

#include "protocol.h"

extern const struct protocol turn_protocol;

#endif
