/* relay: the two things every path through the edge ends in: relaying a
 * request over the connection routing chose (after the proxy's rewrite), or
 * answering it where it came from.  Shared by the sessions and by the
 * partner links, which relay requests long after they arrived. */
#ifndef SXEDGE_SIP_RELAY_H
#define SXEDGE_SIP_RELAY_H

#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "conn.h"
#include "context.h"
#include "routing.h"

/* Is CONN one of the edge's external connections (access or federation)? */
bool sip_conn_is_external(const struct conn *conn);

enum sip_relay_result {
	SIP_RELAY_OK,
	SIP_RELAY_FAILED, /* could not be rewritten or written: answer 500 */
	SIP_RELAY_BUSY, /* the pool link's output is full: answer 503 */
};

/* Rewrites REQUEST, which arrived on connection ARRIVAL_ID of role
 * ARRIVAL_ROLE, as DECISION says and writes it to TARGET.  When it was not
 * relayed, REQUEST is left as it can be answered (our Via removed). */
enum sip_relay_result sip_relay_request(struct sip_context *context, uint64_t arrival_id,
					enum listener_role arrival_role, osip_message_t *request,
					const struct sip_decision *decision, struct conn *target);

/* Answers REQUEST with STATUS REASON (and EXTRA header lines) on connection
 * ARRIVAL_ID if it is still open, and logs the refusal.  An ACK is never
 * answered.  Returns -1 when no response can be built from REQUEST. */
int sip_answer_request(struct sip_context *context, uint64_t arrival_id,
		       const osip_message_t *request, int status, const char *reason,
		       const char *extra);

#endif
