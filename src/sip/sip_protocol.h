/* SPDX-License-Identifier: ISC */
/* sip_protocol: the SIP module's entry in the protocol table (protocol.h):
 * per worker, its TLS contexts (one per SIP listener, and the client ones
 * of the pool and partner links) and its sip_context. */
#ifndef SXEDGE_SIP_PROTOCOL_H
#define SXEDGE_SIP_PROTOCOL_H

#include "protocol.h"

extern const struct protocol sip_protocol;

#endif
