/* via_branch: the branch parameter of the Via sxedge adds to every request
 * it relays (RFC 3261 §16.6 step 8, §16.11).
 *
 *   z9hG4bK + "sx" + flow token of the arrival connection + "." + 16 hex digits
 *
 * The flow token lets a response find the connection its request came in
 * on, with no transaction state.  The hex digits are a hash of the incoming
 * request's top Via branch, Call-ID and CSeq number, so a CANCEL (and the ACK
 * of a failure response) gets the same branch as the INVITE it belongs to,
 * as the next hop's transaction matching needs. */
#ifndef SXEDGE_SIP_VIA_BRANCH_H
#define SXEDGE_SIP_VIA_BRANCH_H

#include <stddef.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "flow_token.h"

#define VIA_BRANCH_SIZE 64 /* enough for the branch and its NUL */

/* Makes the branch for REQUEST arriving on ARRIVAL_CONN into OUT. */
void via_branch_make(const struct flow_key *key, uint64_t arrival_conn,
		     const osip_message_t *request, char out[VIA_BRANCH_SIZE]);

/* Opens a branch that sxedge made; FLOW_OPEN_FORGED for any other string. */
enum flow_open_result via_branch_open(const struct flow_key *key, const char *branch,
				      uint64_t *arrival_conn);

#endif
