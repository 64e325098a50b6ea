/* SPDX-License-Identifier: ISC */
/* via_branch: the branch parameter of the Via sxedge adds to every request
 * it relays (RFC 3261 §16.6 step 8, §16.11), and the stamp beside it.
 *
 *   branch = z9hG4bK + "sx" + flow token of the arrival connection
 *            + "." + 16 hex digits of hash + "." + 16 hex digits of MAC
 *   sxt    = 8 hex digits of time (seconds) + 16 hex digits of MAC
 *
 * The flow token lets a response find the connection its request came in
 * on, with no transaction state.  The hash is of the incoming request's top
 * Via branch, Call-ID and CSeq number, so a CANCEL (and the ACK of a
 * failure response) gets the same branch as the INVITE it belongs to, as
 * the next hop's transaction matching needs; the MAC after it makes every
 * branch one the edge made for a request it relayed.  The time cannot be
 * in the branch (a CANCEL comes later than its INVITE), so it is a Via
 * parameter of its own, which transaction matching ignores and every hop
 * copies into the response: a response older than the bound is dropped,
 * so one seen response cannot be replayed for ever. */
#ifndef SXEDGE_SIP_VIA_BRANCH_H
#define SXEDGE_SIP_VIA_BRANCH_H

#include <stddef.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "flow_token.h"

#define VIA_BRANCH_SIZE 96 /* enough for the branch and its NUL */
#define VIA_STAMP_SIZE	32 /* enough for the stamp and its NUL */
#define VIA_STAMP_PARAM "sxt"

/* How old (in seconds) the request of a response may be: longer than an
 * INVITE may ring (Timer C, RFC 3261 §16.6, is over 3 minutes). */
#define VIA_STAMP_MAX_AGE 300

/* Makes the branch for REQUEST arriving on ARRIVAL_CONN into OUT. */
void via_branch_make(const struct flow_key *key, uint64_t arrival_conn,
		     const osip_message_t *request, char out[VIA_BRANCH_SIZE]);

/* Opens a branch that sxedge made; FLOW_OPEN_FORGED for any other string. */
enum flow_open_result via_branch_open(const struct flow_key *key, const char *branch,
				      uint64_t *arrival_conn);

/* The stamp of BRANCH at NOW (seconds of the wall clock). */
void via_stamp_make(const struct flow_key *key, const char *branch, uint64_t now,
		    char out[VIA_STAMP_SIZE]);

enum via_stamp_result {
	VIA_STAMP_OK,
	VIA_STAMP_FORGED, /* absent, or not made by us for this branch */
	VIA_STAMP_EXPIRED, /* made over VIA_STAMP_MAX_AGE seconds before NOW (or after it) */
};

enum via_stamp_result via_stamp_check(const struct flow_key *key, const char *branch,
				      const char *stamp, uint64_t now);

#endif
