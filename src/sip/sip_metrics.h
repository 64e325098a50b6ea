/* SPDX-License-Identifier: ISC */
/* sip_metrics: what the SIP module counts (docs/design.md §7), as families
 * of the worker's registry and the handles it counts into.
 *
 * Label values come from the code only: the role of the connection a
 * message or connection arrived on, the stable names of lib's enums (the
 * close reason, the TLS failure kind, the budget's verdict) and of the SIP
 * reasons (reason.h, the log's reason_code=), and the method from a fixed
 * list with `other`.  The links' gauges are registered by their owners
 * (pool.c, federation.c) in the same registry.  Each child is made the first time it is
 * counted into and its handle kept, so counting is one addition after that;
 * connections accepted and refused are made at start, so they show 0 from
 * the first scrape.  With no registry every call counts into nothing. */
#ifndef SXEDGE_SIP_METRICS_H
#define SXEDGE_SIP_METRICS_H

#include "conn.h"
#include "conn_budget.h"
#include "metrics.h"
#include "reason.h"
#include "roles.h"
#include "tls.h"

/* The methods counted by name; any other is `other`. */
enum sip_method_label {
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_INFO,
	SIP_METHOD_UPDATE,
	SIP_METHOD_PRACK,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_OTHER,
};
#define SIP_METHOD_LABELS (SIP_METHOD_OTHER + 1)

/* METHOD as counted (methods are case-sensitive: "invite" is `other`);
 * NULL is `other`. */
enum sip_method_label sip_method_label(const char *method);
/* "INVITE", ..., "other". */
const char *sip_method_label_name(enum sip_method_label label);

struct sip_metrics {
	struct metrics *registry; /* NULL: metrics are off */
	struct metric_family *accepted, *refused, *closed, *tls_failures;
	struct metric_family *requests, *responses, *rejected, *dropped, *reload_closed;
	struct metric_counter *accepted_by[ROLE_COUNT];
	struct metric_counter *refused_by[ROLE_COUNT][CONN_BUDGET_VERDICTS];
	struct metric_counter *closed_by[ROLE_COUNT][CONN_CLOSE_REASONS];
	struct metric_counter *tls_failures_by[ROLE_COUNT][TLS_FAILURE_KINDS];
	struct metric_counter *requests_by[ROLE_COUNT][SIP_METHOD_LABELS];
	struct metric_counter *responses_by[ROLE_COUNT][SIP_METHOD_LABELS];
	struct metric_counter *rejected_by[ROLE_COUNT][SIP_REASON_COUNT];
	struct metric_counter *dropped_by[ROLE_COUNT][SIP_REASON_COUNT];
	struct metric_counter *reload_closed_by[ROLE_COUNT][SIP_REASON_COUNT];
};

/* Registers the SIP families in REGISTRY (NULL: metrics are off). */
void sip_metrics_init(struct sip_metrics *metrics, struct metrics *registry);

/* A connection was accepted on a listener of ROLE (it holds a place in the
 * role's budget), or refused with VERDICT. */
void sip_metrics_accepted(struct sip_metrics *metrics, enum listener_role role);
void sip_metrics_refused(struct sip_metrics *metrics, enum listener_role role,
			 enum conn_budget_verdict verdict);
/* A connection accepted on a listener of ROLE has closed for REASON:
 * counted by it, and when its TLS handshake failed (or a certificate was
 * refused) by the failure's KIND too (conn_close_reason, conn_tls_failure). */
void sip_metrics_closed(struct sip_metrics *metrics, enum listener_role role,
			enum conn_close_reason reason, enum tls_failure_kind kind);
/* One of the edge's own links to ROLE (the pool, a partner) has closed:
 * only a TLS failure is counted (links have their own gauges). */
void sip_metrics_link_closed(struct sip_metrics *metrics, enum listener_role role,
			     enum conn_close_reason reason, enum tls_failure_kind kind);
/* A request (response) that arrived on a connection of ROLE was relayed;
 * METHOD is the request's (the CSeq's). */
void sip_metrics_request_relayed(struct sip_metrics *metrics, enum listener_role role,
				 const char *method);
void sip_metrics_response_relayed(struct sip_metrics *metrics, enum listener_role role,
				  const char *method);
/* The edge answered a request that arrived on a connection of ROLE itself,
 * for REASON (event=sip_reject); or dropped a message of ROLE, or closed a
 * stream of ROLE that could not be cut into messages (event=sip_drop,
 * framing_error). */
void sip_metrics_rejected(struct sip_metrics *metrics, enum listener_role role,
			  enum sip_reason reason);
void sip_metrics_dropped(struct sip_metrics *metrics, enum listener_role role,
			 enum sip_reason reason);
/* A reload closed a connection or link of ROLE that the new configuration
 * no longer allows, for REASON (partner_blocked, pool_member_removed...). */
void sip_metrics_reload_closed(struct sip_metrics *metrics, enum listener_role role,
			       enum sip_reason reason);

#endif
