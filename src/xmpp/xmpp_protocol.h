/* SPDX-License-Identifier: ISC */
/* xmpp_protocol: XMPP server-to-server federation's entry in the protocol
 * table (protocol.h): the xmpp_federation and xmpp_internal roles. */
#ifndef SXEDGE_XMPP_XMPP_PROTOCOL_H
#define SXEDGE_XMPP_XMPP_PROTOCOL_H

#include "protocol.h"

extern const struct protocol xmpp_protocol;

#endif
