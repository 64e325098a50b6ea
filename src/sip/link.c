/* SPDX-License-Identifier: ISC */
/* link: the state, the requests in flight and the back-off of one outbound
 * link; its owner (pool.c, federation.c) opens its connections. */
#include "link.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reason.h"
#include "via_branch.h"

static const char *const state_names[] = {
	[SIP_LINK_IDLE] = "idle",
	[SIP_LINK_RESOLVING] = "resolving",
	[SIP_LINK_ADDRESSING] = "addressing",
	[SIP_LINK_CONNECTING] = "connecting",
	[SIP_LINK_UP] = "up",
	[SIP_LINK_WAITING] = "waiting",
	[SIP_LINK_DRAINING] = "draining",
};

const char *sip_link_state_name(enum sip_link_state state)
{
	return state_names[state];
}

/* ---- intake ---- */

/* Every connection that waited for LINK reads again (those still open). */
static void sip_link_resume_intake(struct sip_link *link)
{
	size_t n = link->n_paused;

	if (n == 0)
		return;
	event_del(&link->intake_check);
	link->n_paused = 0;
	for (size_t i = 0; i < n; i++) {
		struct conn *conn = conn_find(link->paused[i]);
		if (conn != NULL)
			conn_set_reading(conn, true);
	}
	log_event(LOG_LEVEL_INFO, "intake_resumed", "role=%s name=%s in_flight=%zu connections=%zu",
		  role_name(link->role), link->name, link->in_flight.count, n);
}

/* While paused: requests never answered leave the table when they expire,
 * which nothing else would notice while no request comes in. */
static void sip_link_arm_intake_check(struct sip_link *link)
{
	struct timeval check = {
		.tv_sec = SIP_LINK_INTAKE_CHECK_MS / 1000,
		.tv_usec = SIP_LINK_INTAKE_CHECK_MS % 1000 * 1000,
	};
	evtimer_add(&link->intake_check, &check);
}

static void sip_link_on_intake_check(evutil_socket_t fd, short what, void *arg)
{
	struct sip_link *link = arg;
	(void)fd;
	(void)what;

	in_flight_expire(&link->in_flight, sip_context_now_ms(link->context));
	if (link->in_flight.count <= SIP_LINK_INTAKE_RESUME) {
		sip_link_resume_intake(link);
		return;
	}
	sip_link_arm_intake_check(link);
}

/* The connection ARRIVAL_ID (from outside) stops reading until LINK has
 * answers for what it holds; without memory for its id it goes on. */
static void sip_link_pause_intake(struct sip_link *link, uint64_t arrival_id)
{
	struct conn *conn = conn_find(arrival_id);

	if (conn == NULL || !conn_reading(conn))
		return;
	if (link->n_paused == link->paused_size) {
		size_t size = link->paused_size ? link->paused_size * 2 : 16;
		uint64_t *paused = realloc(link->paused, size * sizeof(*paused));
		if (paused == NULL)
			return;
		link->paused = paused;
		link->paused_size = size;
	}
	link->paused[link->n_paused++] = arrival_id;
	conn_set_reading(conn, false);
	if (!evtimer_pending(&link->intake_check, NULL)) {
		sip_link_arm_intake_check(link);
		log_event(LOG_LEVEL_NOTICE, "intake_paused",
			  "role=%s name=%s in_flight=%zu reason_code=%s", role_name(link->role),
			  link->name, link->in_flight.count,
			  sip_reason_name(SIP_REASON_LINK_SATURATED));
	}
}

/* ---- life cycle ---- */

void sip_link_init(struct sip_link *link, struct sip_context *context, enum listener_role role,
		   const char *name, const struct sip_link_handler *handler)
{
	memset(link, 0, sizeof(*link));
	link->context = context;
	link->role = role;
	link->name = name;
	link->handler = handler;
	link->state = SIP_LINK_IDLE;
	in_flight_init(&link->in_flight, SIP_LINK_IN_FLIGHT_MAX);
	evtimer_assign(&link->intake_check, context->base, sip_link_on_intake_check, link);
}

void sip_link_clear(struct sip_link *link)
{
	struct sip_link_waiting *waiting;

	in_flight_clear(&link->in_flight);
	event_del(&link->intake_check);
	free(link->paused);
	link->paused = NULL;
	link->n_paused = link->paused_size = 0;
	while ((waiting = sip_link_dequeue(link)) != NULL) {
		sip_message_free(waiting->request);
		free(waiting);
	}
}

void sip_link_set_state(struct sip_link *link, enum sip_link_state state)
{
	log_event(LOG_LEVEL_DEBUG, "link_state", "role=%s name=%s from=%s to=%s",
		  role_name(link->role), link->name, state_names[link->state], state_names[state]);
	link->state = state;
}

bool sip_link_attach(struct sip_link *link, const struct partner_config *partner)
{
	link->session = link->handler->attach(link, partner);
	return link->session != NULL;
}

void sip_link_forward(struct sip_link *link, struct conn *conn, enum conn_event event)
{
	if (link->session == NULL)
		return;
	link->handler->on_event(conn, event, link->session);
	if (event == CONN_EVENT_CLOSED)
		link->session = NULL;
}

/* ---- requests waiting for the link ---- */

bool sip_link_enqueue(struct sip_link *link, uint64_t arrival_id, struct sip_message *request,
		      const struct sip_decision *decision)
{
	struct sip_link_waiting *waiting = calloc(1, sizeof(*waiting));
	if (waiting == NULL)
		return false;
	waiting->arrival_id = arrival_id;
	waiting->request = request;
	waiting->decision = *decision;
	if (link->queue_tail != NULL)
		link->queue_tail->next = waiting;
	else
		link->queue_head = waiting;
	link->queue_tail = waiting;
	link->queued++;
	return true;
}

struct sip_link_waiting *sip_link_dequeue(struct sip_link *link)
{
	struct sip_link_waiting *waiting = link->queue_head;
	if (waiting == NULL)
		return NULL;
	link->queue_head = waiting->next;
	if (link->queue_head == NULL)
		link->queue_tail = NULL;
	link->queued--;
	return waiting;
}

/* ---- requests in flight ---- */

enum sip_relay_result sip_link_relay(struct sip_link *link, uint64_t arrival_id,
				     enum listener_role arrival_role,
				     const struct sip_message *request,
				     const struct sip_decision *decision)
{
	struct sip_context *context = link->context;
	char branch[VIA_BRANCH_SIZE];
	size_t fields_len;

	enum sip_relay_result result = sip_relay_request(context, arrival_id, arrival_role, request,
							 decision, link->conn, link->role, branch);
	/* An ACK has no response to wait for. */
	if (result != SIP_RELAY_OK || MSG_IS_ACK(request->osip))
		return result;
	char *fields = sip_response_fields(request, &fields_len);
	if (fields == NULL)
		return result;
	switch (in_flight_add(&link->in_flight, branch, request->osip->cseq->method, arrival_id,
			      arrival_role, fields, fields_len, sip_context_now_ms(context))) {
	case IN_FLIGHT_ADDED:
	case IN_FLIGHT_NO_MEMORY:
		break;
	case IN_FLIGHT_EVICTED:
		log_event(LOG_LEVEL_INFO, "link_in_flight_full",
			  "role=%s name=%s in_flight=%zu reason_code=%s", role_name(link->role),
			  link->name, link->in_flight.count,
			  sip_reason_name(SIP_REASON_IN_FLIGHT_FULL));
		break;
	}
	/* The pool's own connections carry everyone's traffic: never paused. */
	if (link->in_flight.count >= SIP_LINK_INTAKE_PAUSE && arrival_role != ROLE_INTERNAL)
		sip_link_pause_intake(link, arrival_id);
	return result;
}

void sip_link_on_response(struct sip_link *link, const struct sip_message *response)
{
	const osip_message_t *parsed = response->osip;
	const osip_via_t *via = osip_list_get(&parsed->vias, 0);
	osip_generic_param_t *branch = NULL;

	if (parsed->status_code < 200 || via == NULL || parsed->cseq == NULL ||
	    parsed->cseq->method == NULL)
		return;
	osip_via_param_get_byname((osip_via_t *)via, "branch", &branch);
	if (branch != NULL && branch->gvalue != NULL)
		in_flight_remove(&link->in_flight, branch->gvalue, parsed->cseq->method);
	if (link->in_flight.count <= SIP_LINK_INTAKE_RESUME)
		sip_link_resume_intake(link);
}

/* Answers every request in flight on LINK with 503 REASON and the header
 * lines EXTRA (or none); returns how many. */
static unsigned sip_link_answer_all(struct sip_link *link, enum sip_reason reason,
				    const char *extra)
{
	struct sip_context *context = link->context;
	struct in_flight_entry *entry;
	unsigned answered = 0;

	while ((entry = in_flight_take_oldest(&link->in_flight, sip_context_now_ms(context))) !=
	       NULL) {
		sip_answer_fields(context, entry->arrival_id, entry->arrival_role, entry->method,
				  entry->fields, entry->fields_len, 503, reason, extra);
		in_flight_entry_free(entry);
		answered++;
	}
	in_flight_clear(&link->in_flight);
	sip_link_resume_intake(link);
	return answered;
}

void sip_link_lost(struct sip_link *link, unsigned retry_after)
{
	enum sip_reason reason = link->role == ROLE_INTERNAL ? SIP_REASON_POOL_LINK_LOST
							     : SIP_REASON_PARTNER_LINK_LOST;
	char extra[48];

	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", retry_after);
	unsigned answered = sip_link_answer_all(link, reason, extra);
	if (answered > 0)
		log_event(LOG_LEVEL_NOTICE, "link_lost",
			  "role=%s name=%s answered=%u retry_after=%u reason_code=%s",
			  role_name(link->role), link->name, answered, retry_after,
			  sip_reason_name(reason));
}

/* ---- draining ---- */

bool sip_link_carries(const struct sip_link *link)
{
	return (link->state == SIP_LINK_UP || link->state == SIP_LINK_DRAINING) &&
	       conn_ready(link->conn);
}

void sip_link_drain(struct sip_link *link)
{
	if (link->state == SIP_LINK_UP)
		sip_link_set_state(link, SIP_LINK_DRAINING);
}

void sip_link_stop(struct sip_link *link)
{
	/* No Retry-After: this edge will not be back, another one answers. */
	unsigned answered = sip_link_answer_all(link, SIP_REASON_EDGE_STOPPING, NULL);
	if (answered > 0)
		log_event(LOG_LEVEL_NOTICE, "link_stopped",
			  "role=%s name=%s answered=%u reason_code=%s", role_name(link->role),
			  link->name, answered, sip_reason_name(SIP_REASON_EDGE_STOPPING));
	if (link->conn != NULL)
		conn_close(link->conn, CONN_CLOSE_LOCAL, "edge stopping");
}

void sip_link_end(struct sip_link *link, enum sip_reason reason)
{
	unsigned answered = sip_link_answer_all(link, reason, NULL);
	log_event(LOG_LEVEL_NOTICE, "link_closed", "role=%s name=%s answered=%u reason_code=%s",
		  role_name(link->role), link->name, answered, sip_reason_name(reason));
	sip_metrics_reload_closed(&link->context->metrics, link->role, reason);
	conn_close(link->conn, CONN_CLOSE_LOCAL, sip_reason_phrase(reason));
}

/* ---- back-off ---- */

unsigned sip_link_back_off(struct sip_link *link, unsigned max_s)
{
	unsigned delay = link->backoff_s;
	link->next_attempt_ms = sip_context_now_ms(link->context) + (uint64_t)delay * 1000;
	link->backoff_s = delay * 2 > max_s ? max_s : delay * 2;
	return delay;
}

unsigned sip_link_retry_after(const struct sip_link *link)
{
	uint64_t now = sip_context_now_ms(link->context);

	switch (link->state) {
	case SIP_LINK_UP:
	case SIP_LINK_DRAINING:
		return 0;
	case SIP_LINK_WAITING:
		if (link->next_attempt_ms > now)
			return (unsigned)((link->next_attempt_ms - now + 999) / 1000);
		return 1;
	case SIP_LINK_IDLE:
	case SIP_LINK_RESOLVING:
	case SIP_LINK_ADDRESSING:
	case SIP_LINK_CONNECTING:
		break;
	}
	return 1;
}
