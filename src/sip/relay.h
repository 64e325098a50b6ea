/* SPDX-License-Identifier: ISC */
/* relay: the two things every path through the edge ends in: relaying a
 * request over the connection routing chose (after the proxy's rewrite), or
 * answering it where it came from.  Relay only sends: its caller tells it
 * the role of the connection a message goes to, and it keeps no state. */
#ifndef SXEDGE_SIP_RELAY_H
#define SXEDGE_SIP_RELAY_H

#include <stdint.h>

#include "conn.h"
#include "context.h"
#include "message.h"
#include "reason.h"
#include "routing.h"

enum sip_relay_result {
	SIP_RELAY_OK,
	SIP_RELAY_FAILED, /* could not be rewritten or written: answer 500 */
	SIP_RELAY_BUSY, /* a shared link's output is full: answer 503 */
};

/* Writes one message the edge built to TARGET, a connection of role
 * TARGET_ROLE, after the last check that it frames as exactly one message
 * (else it is dropped, logged and counted as not_framed_once under
 * TARGET_ROLE in CONTEXT's metrics).  A link that others share (the pool's, a
 * partner's: any role but access) is never closed for lack of room: the
 * message is refused (BUSY) instead. */
enum sip_relay_result sip_send(struct sip_context *context, struct conn *target,
			       enum listener_role target_role, const char *data, size_t len);

/* Writes REQUEST, which arrived on connection ARRIVAL_ID of role
 * ARRIVAL_ROLE, to TARGET (of role TARGET_ROLE) with the edits DECISION
 * asks for.  BRANCH, when not NULL (VIA_BRANCH_SIZE bytes), gets the
 * branch of the Via added. */
enum sip_relay_result sip_relay_request(struct sip_context *context, uint64_t arrival_id,
					enum listener_role arrival_role,
					const struct sip_message *request,
					const struct sip_decision *decision, struct conn *target,
					enum listener_role target_role, char *branch);

/* Answers REQUEST with STATUS and PHRASE (NULL: REASON's phrase), and
 * EXTRA header lines, on connection ARRIVAL_ID (of ARRIVAL_ROLE) if it is
 * still open, and logs the refusal (event=sip_reject ... reason_code=).
 * An ACK is never answered.  Returns -1 when no response can be built
 * from REQUEST. */
int sip_answer_request(struct sip_context *context, uint64_t arrival_id,
		       enum listener_role arrival_role, const struct sip_message *request,
		       int status, enum sip_reason reason, const char *phrase, const char *extra);

/* The same for a request of METHOD that is no longer kept: FIELDS are its
 * sip_response_fields. */
void sip_answer_fields(struct sip_context *context, uint64_t arrival_id,
		       enum listener_role arrival_role, const char *method, const char *fields,
		       size_t fields_len, int status, enum sip_reason reason, const char *extra);

#endif
