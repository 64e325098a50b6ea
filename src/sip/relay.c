/* SPDX-License-Identifier: ISC */
/* relay: rewriting and writing a request to its next hop, and answering a
 * request locally.  Both work from connection ids, not session pointers,
 * because a partner link may relay or answer a request whose arrival
 * connection has gone in the meantime. */
#include "relay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "framing.h"
#include "message.h"
#include "rewrite.h"
#include "session.h"
#include "via_branch.h"

bool sip_conn_is_external(const struct conn *conn)
{
	enum listener_role role = sip_conn_role(conn);
	return role == ROLE_ACCESS || role == ROLE_FEDERATION;
}

static void relay_log_peer(uint64_t conn_id, char *out, size_t size)
{
	struct conn *conn = conn_find(conn_id);
	if (conn != NULL)
		snprintf(out, size, "role=%s conn=%" PRIu64 " peer=%s",
			 role_name(sip_conn_role(conn)), conn_id, conn_peer(conn));
	else
		snprintf(out, size, "conn=%" PRIu64 " peer=gone", conn_id);
}

enum sip_relay_result sip_send(struct conn *target, const char *data, size_t len)
{
	char quoted[64];

	if (!sip_frame_is_one_message(data, len)) {
		log_event(LOG_LEVEL_WARNING, "sip_drop", "conn=%" PRIu64 " peer=%s reason=%s",
			  conn_id(target), conn_peer(target),
			  log_quote(quoted, sizeof(quoted), "output is not one message"));
		return SIP_RELAY_FAILED;
	}
	if (sip_conn_role(target) != ROLE_ACCESS && len > conn_output_room(target))
		return SIP_RELAY_BUSY;
	return conn_write(target, data, len) < 0 ? SIP_RELAY_FAILED : SIP_RELAY_OK;
}

int sip_answer_request(struct sip_context *context, uint64_t arrival_id,
		       const struct sip_message *request, int status, const char *reason,
		       const char *extra)
{
	char who[160], quoted[300], method[100];
	struct conn *arrival = conn_find(arrival_id);
	const osip_message_t *parsed = request->osip;
	size_t len;
	(void)context;

	relay_log_peer(arrival_id, who, sizeof(who));
	log_event(LOG_LEVEL_NOTICE, "sip_reject", "%s method=%s status=%d reason=%s", who,
		  log_quote(method, sizeof(method), parsed->sip_method ? parsed->sip_method : "?"),
		  status, log_quote(quoted, sizeof(quoted), reason));
	if (MSG_IS_ACK(parsed))
		return 0; /* an ACK is never answered */
	char *response = sip_response_build(request, status, reason, extra, &len);
	if (response == NULL)
		return -1;
	if (arrival != NULL && conn_ready(arrival))
		sip_send(arrival, response, len);
	free(response);
	return 0;
}

enum sip_relay_result sip_relay_request(struct sip_context *context, uint64_t arrival_id,
					enum listener_role arrival_role,
					const struct sip_message *request,
					const struct sip_decision *decision, struct conn *target)
{
	enum listener_role departure_role = sip_conn_role(target);
	bool external_target = sip_conn_is_external(target);
	/* Record-Route and Path name the external connection of this crossing:
	 * requests that come back from the pool must find it. */
	uint64_t external_id = external_target ? conn_id(target) : arrival_id;
	/* A request from the pool names no connection in its branch: any pool
	 * link can carry the response back, and a CANCEL that comes over another
	 * link than its INVITE still gets the INVITE's branch (RFC 3261 §16.11). */
	uint64_t branch_id = arrival_role == ROLE_INTERNAL ? 0 : arrival_id;
	char token[FLOW_TOKEN_LEN + 1];
	char branch[VIA_BRANCH_SIZE];
	char stamp[VIA_STAMP_SIZE];
	char method[100];
	size_t len;

	flow_token_seal(&context->flow_key, external_id, token);
	via_branch_make(&context->flow_key, branch_id, request->osip, branch);
	via_stamp_make(&context->flow_key, branch, sip_context_now_ms(context) / 1000, stamp);
	struct sip_request_rewrite rewrite = {
		.routes_to_pop = decision->routes_to_pop,
		.arrival = context->edge.hops[arrival_role],
		.departure = context->edge.hops[departure_role],
		.branch = branch,
		.stamp = stamp,
		.flow_token = token,
		.record_route = decision->record_route,
		.add_path = decision->add_path,
		/* RFC 3325 §5: the edge bounds the trust domain, so identities
		 * asserted by outsiders never reach the pool. */
		.strip_identity = arrival_role == ROLE_ACCESS || arrival_role == ROLE_FEDERATION,
	};
	char *data = sip_request_forward(request, &rewrite, &len);
	if (data == NULL)
		return SIP_RELAY_FAILED;
	log_event(LOG_LEVEL_DEBUG, "sip_relay", "role=%s conn=%" PRIu64 " method=%s to=%" PRIu64,
		  role_name(arrival_role), arrival_id,
		  log_quote(method, sizeof(method), request->osip->sip_method), conn_id(target));
	enum sip_relay_result result = sip_send(target, data, len);
	free(data);
	return result;
}
