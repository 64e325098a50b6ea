/* SPDX-License-Identifier: ISC */
/* relay: the two things every path through the edge ends in: relaying a
 * request over the connection routing chose (after the proxy's rewrite), or
 * answering it where it came from.  Shared by the sessions and by the
 * partner links, which relay requests long after they arrived. */
#ifndef SXEDGE_SIP_RELAY_H
#define SXEDGE_SIP_RELAY_H

#include <stdint.h>

#include "conn.h"
#include "context.h"
#include "message.h"
#include "routing.h"

/* Is CONN one of the edge's external connections (access or federation)? */
bool sip_conn_is_external(const struct conn *conn);

enum sip_relay_result {
	SIP_RELAY_OK,
	SIP_RELAY_FAILED, /* could not be rewritten or written: answer 500 */
	SIP_RELAY_BUSY, /* a shared link's output is full: answer 503 */
};

/* Writes one message the edge built to TARGET, after the last check that
 * it frames as exactly one message (else it is dropped and logged).  A
 * link that others share (the pool's, a partner's) is never closed for
 * lack of room: the message is refused (BUSY) instead. */
enum sip_relay_result sip_send(struct conn *target, const char *data, size_t len);

/* Writes REQUEST, which arrived on connection ARRIVAL_ID of role
 * ARRIVAL_ROLE, to TARGET with the edits DECISION asks for. */
enum sip_relay_result sip_relay_request(struct sip_context *context, uint64_t arrival_id,
					enum listener_role arrival_role,
					const struct sip_message *request,
					const struct sip_decision *decision, struct conn *target);

/* Answers REQUEST with STATUS REASON (and EXTRA header lines) on connection
 * ARRIVAL_ID if it is still open, and logs the refusal.  An ACK is never
 * answered.  Returns -1 when no response can be built from REQUEST. */
int sip_answer_request(struct sip_context *context, uint64_t arrival_id,
		       const struct sip_message *request, int status, const char *reason,
		       const char *extra);

#endif
