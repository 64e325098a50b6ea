/* SPDX-License-Identifier: ISC */
/* sip_metrics: the SIP families, and their children made on first use. */
#include "sip_metrics.h"

#include <stddef.h>
#include <string.h>

#include "connection_metrics.h"

static const char *const method_names[SIP_METHOD_LABELS] = {
	[SIP_METHOD_INVITE] = "INVITE",	    [SIP_METHOD_ACK] = "ACK",
	[SIP_METHOD_BYE] = "BYE",	    [SIP_METHOD_CANCEL] = "CANCEL",
	[SIP_METHOD_REGISTER] = "REGISTER", [SIP_METHOD_OPTIONS] = "OPTIONS",
	[SIP_METHOD_MESSAGE] = "MESSAGE",   [SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",	    [SIP_METHOD_REFER] = "REFER",
	[SIP_METHOD_INFO] = "INFO",	    [SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_PRACK] = "PRACK",	    [SIP_METHOD_PUBLISH] = "PUBLISH",
	[SIP_METHOD_OTHER] = "other",
};

enum sip_method_label sip_method_label(const char *method)
{
	for (size_t i = 0; method != NULL && i < SIP_METHOD_OTHER; i++)
		if (strcmp(method, method_names[i]) == 0)
			return (enum sip_method_label)i;
	return SIP_METHOD_OTHER;
}

const char *sip_method_label_name(enum sip_method_label label)
{
	return label < SIP_METHOD_LABELS ? method_names[label] : method_names[SIP_METHOD_OTHER];
}

/* The child in SLOT, made from FAMILY and VALUES the first time. */
static struct metric_counter *child(struct metric_counter **slot, struct metric_family *family,
				    const char *const *values)
{
	if (*slot == NULL)
		*slot = metric_counter(family, values);
	return *slot;
}

void sip_metrics_init(struct sip_metrics *metrics, struct metrics *registry)
{
	static const char *const role_reason[] = { "role", "reason", NULL };
	static const char *const role_method[] = { "role", "method", NULL };
	struct connection_families connections;

	memset(metrics, 0, sizeof(*metrics));
	metrics->registry = registry;
	connection_families_register(registry, &connections);
	metrics->accepted = connections.accepted;
	metrics->refused = connections.refused;
	metrics->closed = connections.closed;
	metrics->tls_failures = metrics_register(
		registry, METRIC_COUNTER, "sxedge_tls_handshake_failures_total",
		"TLS handshakes that failed or whose certificate was refused, on accepted "
		"connections and on the edge's own links, by role and kind.",
		role_reason);
	metrics->requests = metrics_register(
		registry, METRIC_COUNTER, "sxedge_sip_requests_relayed_total",
		"SIP requests relayed, by the role they arrived on and method.", role_method);
	metrics->responses = metrics_register(
		registry, METRIC_COUNTER, "sxedge_sip_responses_relayed_total",
		"SIP responses relayed, by the role they arrived on and the CSeq method.",
		role_method);
	metrics->rejected = metrics_register(
		registry, METRIC_COUNTER, "sxedge_sip_rejected_total",
		"SIP requests the edge answered itself with a refusal, by the role they arrived "
		"on and reason.",
		role_reason);
	metrics->dropped = metrics_register(
		registry, METRIC_COUNTER, "sxedge_sip_dropped_total",
		"SIP messages dropped unanswered, and streams closed that could not be cut into "
		"messages, by the role they arrived on and reason.",
		role_reason);
	metrics->reload_closed = metrics_register(
		registry, METRIC_COUNTER, "sxedge_sip_reload_closed_total",
		"Connections and links a configuration reload closed because the new "
		"configuration no longer allows them, by role and reason.",
		role_reason);
	for (size_t role = 0; role < ROLE_COUNT; role++) {
		/* The other protocols count their own roles' connections. */
		if (strcmp(roles[role].protocol, "sip") != 0)
			continue;
		const char *name = role_name((enum listener_role)role);
		const char *const accepted[] = { "sip", name, NULL };
		child(&metrics->accepted_by[role], metrics->accepted, accepted);
		for (size_t verdict = CONN_BUDGET_ADDRESS_FULL; verdict < CONN_BUDGET_VERDICTS;
		     verdict++) {
			const char *const refused[] = {
				"sip", name,
				conn_budget_verdict_name((enum conn_budget_verdict)verdict), NULL
			};
			child(&metrics->refused_by[role][verdict], metrics->refused, refused);
		}
	}
}

void sip_metrics_accepted(struct sip_metrics *metrics, enum listener_role role)
{
	metric_counter_add(metrics->accepted_by[role], 1);
}

void sip_metrics_refused(struct sip_metrics *metrics, enum listener_role role,
			 enum conn_budget_verdict verdict)
{
	metric_counter_add(metrics->refused_by[role][verdict], 1);
}

static void count_tls_failure(struct sip_metrics *metrics, enum listener_role role,
			      enum conn_close_reason reason, enum tls_failure_kind kind)
{
	if ((reason != CONN_CLOSE_TLS_FAILED && reason != CONN_CLOSE_CERTIFICATE_REFUSED) ||
	    kind >= TLS_FAILURE_KINDS)
		return;
	const char *const values[] = { role_name(role), tls_failure_name(kind), NULL };
	metric_counter_add(
		child(&metrics->tls_failures_by[role][kind], metrics->tls_failures, values), 1);
}

void sip_metrics_closed(struct sip_metrics *metrics, enum listener_role role,
			enum conn_close_reason reason, enum tls_failure_kind kind)
{
	if (reason >= CONN_CLOSE_REASONS)
		return;
	const char *const values[] = { "sip", role_name(role), conn_close_reason_name(reason),
				       NULL };
	metric_counter_add(child(&metrics->closed_by[role][reason], metrics->closed, values), 1);
	count_tls_failure(metrics, role, reason, kind);
}

void sip_metrics_link_closed(struct sip_metrics *metrics, enum listener_role role,
			     enum conn_close_reason reason, enum tls_failure_kind kind)
{
	count_tls_failure(metrics, role, reason, kind);
}

void sip_metrics_request_relayed(struct sip_metrics *metrics, enum listener_role role,
				 const char *method)
{
	enum sip_method_label label = sip_method_label(method);
	const char *const values[] = { role_name(role), method_names[label], NULL };
	metric_counter_add(child(&metrics->requests_by[role][label], metrics->requests, values), 1);
}

void sip_metrics_response_relayed(struct sip_metrics *metrics, enum listener_role role,
				  const char *method)
{
	enum sip_method_label label = sip_method_label(method);
	const char *const values[] = { role_name(role), method_names[label], NULL };
	metric_counter_add(child(&metrics->responses_by[role][label], metrics->responses, values),
			   1);
}

/* The child of FAMILY for ROLE and REASON, in CACHE. */
static void count_reason(struct metric_counter *cache[ROLE_COUNT][SIP_REASON_COUNT],
			 struct metric_family *family, enum listener_role role,
			 enum sip_reason reason)
{
	if ((unsigned)reason >= SIP_REASON_COUNT)
		return;
	const char *const values[] = { role_name(role), sip_reason_name(reason), NULL };
	metric_counter_add(child(&cache[role][reason], family, values), 1);
}

void sip_metrics_rejected(struct sip_metrics *metrics, enum listener_role role,
			  enum sip_reason reason)
{
	count_reason(metrics->rejected_by, metrics->rejected, role, reason);
}

void sip_metrics_dropped(struct sip_metrics *metrics, enum listener_role role,
			 enum sip_reason reason)
{
	count_reason(metrics->dropped_by, metrics->dropped, role, reason);
}

void sip_metrics_reload_closed(struct sip_metrics *metrics, enum listener_role role,
			       enum sip_reason reason)
{
	count_reason(metrics->reload_closed_by, metrics->reload_closed, role, reason);
}
