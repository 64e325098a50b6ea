/* SPDX-License-Identifier: ISC */
/* relay: rewriting and writing a request to its next hop, and answering a
 * request locally.  Both work from connection ids, not session pointers,
 * because a link may relay or answer a request whose arrival connection
 * has gone in the meantime. */
#include "relay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "log.h"
#include "message.h"
#include "rewrite.h"
#include "via_branch.h"

enum sip_relay_result sip_send(struct sip_context *context, struct conn *target,
			       enum listener_role target_role, const char *data, size_t len)
{
	char quoted[64];

	if (!sip_frame_is_one_message(data, len)) {
		log_event(LOG_LEVEL_WARNING, "sip_drop",
			  "conn=%" PRIu64 " peer=%s reason=%s reason_code=%s", conn_id(target),
			  conn_peer(target),
			  log_quote(quoted, sizeof(quoted),
				    sip_reason_phrase(SIP_REASON_NOT_FRAMED_ONCE)),
			  sip_reason_name(SIP_REASON_NOT_FRAMED_ONCE));
		sip_metrics_dropped(&context->metrics, target_role, SIP_REASON_NOT_FRAMED_ONCE);
		return SIP_RELAY_FAILED;
	}
	if (target_role != ROLE_ACCESS && len > conn_output_room(target))
		return SIP_RELAY_BUSY;
	return conn_write(target, data, len) < 0 ? SIP_RELAY_FAILED : SIP_RELAY_OK;
}

/* Logs and counts the refusal and writes RESPONSE to the arrival connection. */
static void answer(struct sip_context *context, uint64_t arrival_id,
		   enum listener_role arrival_role, const char *method, int status,
		   enum sip_reason reason, const char *phrase, const char *response, size_t len)
{
	struct conn *arrival = conn_find(arrival_id);
	char quoted[300], quoted_method[100];

	log_event(LOG_LEVEL_NOTICE, "sip_reject",
		  "role=%s conn=%" PRIu64 " peer=%s method=%s status=%d reason=%s reason_code=%s",
		  role_name(arrival_role), arrival_id,
		  arrival != NULL ? conn_peer(arrival) : "gone",
		  log_quote(quoted_method, sizeof(quoted_method), method), status,
		  log_quote(quoted, sizeof(quoted), phrase), sip_reason_name(reason));
	sip_metrics_rejected(&context->metrics, arrival_role, reason);
	if (response != NULL && arrival != NULL && conn_ready(arrival))
		sip_send(context, arrival, arrival_role, response, len);
}

int sip_answer_request(struct sip_context *context, uint64_t arrival_id,
		       enum listener_role arrival_role, const struct sip_message *request,
		       int status, enum sip_reason reason, const char *phrase, const char *extra)
{
	const osip_message_t *parsed = request->osip;
	size_t len = 0;

	if (phrase == NULL)
		phrase = sip_reason_phrase(reason);
	bool ack = MSG_IS_ACK(parsed); /* an ACK is never answered */
	char *response = ack ? NULL : sip_response_build(request, status, phrase, extra, &len);
	answer(context, arrival_id, arrival_role, parsed->sip_method ? parsed->sip_method : "?",
	       status, reason, phrase, response, len);
	free(response);
	return ack || response != NULL ? 0 : -1;
}

void sip_answer_fields(struct sip_context *context, uint64_t arrival_id,
		       enum listener_role arrival_role, const char *method, const char *fields,
		       size_t fields_len, int status, enum sip_reason reason, const char *extra)
{
	const char *phrase = sip_reason_phrase(reason);
	size_t len = 0;

	char *response = sip_response_from_fields(fields, fields_len, status, phrase, extra, &len);
	answer(context, arrival_id, arrival_role, method, status, reason, phrase, response, len);
	free(response);
}

enum sip_relay_result sip_relay_request(struct sip_context *context, uint64_t arrival_id,
					enum listener_role arrival_role,
					const struct sip_message *request,
					const struct sip_decision *decision, struct conn *target,
					enum listener_role target_role, char *branch_out)
{
	bool external_target = target_role == ROLE_ACCESS || target_role == ROLE_FEDERATION;
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
		.departure = context->edge.hops[target_role],
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
	enum sip_relay_result result = sip_send(context, target, target_role, data, len);
	free(data);
	if (branch_out != NULL)
		memcpy(branch_out, branch, VIA_BRANCH_SIZE);
	if (result == SIP_RELAY_OK)
		sip_metrics_request_relayed(&context->metrics, arrival_role,
					    request->osip->sip_method);
	return result;
}
