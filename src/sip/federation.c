/* SPDX-License-Identifier: ISC */
/* federation: outbound links to partner edges.
 *
 * A link is a state machine with named states:
 *
 *   idle -> resolving (SRV) -> addressing (A/AAAA of one target) ->
 *   connecting (TCP + mutual TLS, names and pin checked) -> up
 *
 * Failing one address tries the next, then the next target; when every
 * target failed, or connect_timeout passed, the waiting requests are answered
 * to the pool with the most telling failure seen, and the link is idle again
 * until the pool sends the next request.  A link that is up carries a SIP
 * session of role federation, so whatever the partner sends on it (responses,
 * and its own requests) goes through the same checks as on our listener.
 * While the edge drains, no link is set up: a request for a partner without
 * a link up (or a bound connection of its own) is answered 503 at once. */
#include "federation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "address.h"
#include "dns.h"
#include "link.h"
#include "log.h"
#include "partner_policy.h"
#include "partner_targets.h"
#include "relay.h"
#include "tls.h"

/* Why the last attempt failed, in order of how much it tells the pool. */
enum link_failure {
	FAILURE_NOT_FOUND, /* 503: no SRV or address records */
	FAILURE_UNREACHABLE, /* 503: connections refused or reset */
	FAILURE_TIMEOUT, /* 504: a handshake that never finished */
	FAILURE_REFUSED, /* 502: the partner's certificate failed our checks */
};

struct partner_link {
	struct sip_federation *federation;
	char *domain;
	const struct partner_config *partner; /* NULL: discovered (open federation) */
	struct sip_link out; /* its state, connection, session, requests in flight */
	struct dns_query *query;
	struct partner_targets plan; /* in the order to try */
	size_t next_target;
	struct sockaddr_storage *addresses; /* of the current target */
	size_t n_addresses;
	size_t next_address;
	struct event *deadline; /* connect_timeout for the whole set-up */
	enum link_failure failure;
	char failure_detail[300];
	struct partner_link *next;
};

/* What a child of sxedge_partner_links reads: how many links are in STATE. */
struct federation_state_gauge {
	const struct sip_federation *federation;
	enum sip_link_state state;
};

struct sip_federation {
	struct sip_context *context;
	struct tls_client *client; /* held */
	struct sockaddr_storage local; /* the federation listener's address, any port */
	int local_len;
	struct partner_link *links;
	size_t n_links;
	struct domain_index links_by_domain;
	const struct sip_link_handler *handler;
	struct federation_state_gauge gauges[SIP_LINK_STATES];
};

#define FEDERATION_IDLE_SWEEP 256 /* links kept before idle ones are dropped */
#define FEDERATION_BOUND_FIND 16 /* bound connections of a domain looked at for a ready one */

/* ---- logging and the state machine ---- */

/* Keeps the most telling failure of this set-up. */
static void link_note_failure(struct partner_link *link, enum link_failure failure,
			      const char *detail)
{
	if (failure < link->failure && link->failure_detail[0] != '\0')
		return;
	link->failure = failure;
	snprintf(link->failure_detail, sizeof(link->failure_detail), "%s", detail);
}

/* ---- answering the pool ---- */

/* Answers REQUEST from the pool with STATUS REASON and a Warning saying
 * what failed towards the link's partner (RFC 3261 §20.43: 399 is the
 * miscellaneous code; the text carries the detail). */
static void link_refuse(struct partner_link *link, uint64_t arrival_id,
			const struct sip_message *request, int status, enum sip_reason reason,
			const char *detail)
{
	struct sip_context *context = link->federation->context;
	const struct listener_config *listener = config_listener(context->config, ROLE_FEDERATION);
	bool ipv6 = strchr(listener->advertise_host, ':') != NULL;
	char text[301], warning[900];
	size_t i;

	/* The detail goes inside a quoted string (a certificate subject may
	 * hold quotes): quotes, backslashes and control bytes become blanks. */
	for (i = 0; detail[i] != '\0' && i < sizeof(text) - 1; i++)
		text[i] = detail[i] == '"' || detail[i] == '\\' || (unsigned char)detail[i] < 0x20
				  ? ' '
				  : detail[i];
	text[i] = '\0';
	snprintf(warning, sizeof(warning), "Warning: 399 %s%.255s%s \"%.255s: %s\"\r\n",
		 ipv6 ? "[" : "", listener->advertise_host, ipv6 ? "]" : "", link->domain, text);
	sip_answer_request(context, arrival_id, ROLE_INTERNAL, request, status, reason, NULL,
			   warning);
}

static void link_enqueue(struct partner_link *link, uint64_t arrival_id,
			 struct sip_message *request, const struct sip_decision *decision)
{
	if (!sip_link_enqueue(&link->out, arrival_id, request, decision)) {
		link_refuse(link, arrival_id, request, 503, SIP_REASON_PARTNER_QUEUE_FULL,
			    "out of memory");
		sip_message_free(request);
	}
}

/* Relays REQUEST from the pool over CONN, a connection with the partner. */
static void federation_relay_over(struct sip_context *context, struct conn *conn,
				  uint64_t arrival_id, struct sip_message *request,
				  const struct sip_decision *decision)
{
	if (sip_relay_request(context, arrival_id, ROLE_INTERNAL, request, decision, conn,
			      ROLE_FEDERATION, NULL) != SIP_RELAY_OK)
		sip_answer_request(context, arrival_id, ROLE_INTERNAL, request, 500,
				   SIP_REASON_CANNOT_RELAY, NULL, NULL);
	sip_message_free(request);
}

static void link_relay(struct partner_link *link, uint64_t arrival_id, struct sip_message *request,
		       const struct sip_decision *decision)
{
	struct sip_context *context = link->federation->context;
	if (sip_link_relay(&link->out, arrival_id, ROLE_INTERNAL, request, decision) !=
	    SIP_RELAY_OK)
		sip_answer_request(context, arrival_id, ROLE_INTERNAL, request, 500,
				   SIP_REASON_CANNOT_RELAY, NULL, NULL);
	sip_message_free(request);
}

/* ---- ending a set-up ---- */

static void link_forget_targets(struct partner_link *link)
{
	free(link->addresses);
	link->addresses = NULL;
	link->n_addresses = link->next_address = 0;
	partner_targets_clear(&link->plan);
	link->next_target = 0;
}

static void link_stop_attempt(struct partner_link *link)
{
	dns_cancel(link->query);
	link->query = NULL;
	if (link->out.conn != NULL && link->out.session == NULL) {
		conn_free(link->out.conn);
		link->out.conn = NULL;
	}
	link_forget_targets(link);
	event_del(link->deadline);
}

/* Answers every waiting request with STATUS REASON and goes idle. */
static void link_fail(struct partner_link *link, int status, enum sip_reason reason,
		      const char *detail)
{
	char quoted[240];
	struct sip_link_waiting *waiting;

	link_stop_attempt(link);
	sip_link_set_state(&link->out, SIP_LINK_IDLE);
	log_event(LOG_LEVEL_WARNING, "partner_failed",
		  "domain=%s status=%d reason=%s waiting=%u reason_code=%s", link->domain, status,
		  log_quote(quoted, sizeof(quoted), detail), link->out.queued,
		  sip_reason_name(reason));
	while ((waiting = sip_link_dequeue(&link->out)) != NULL) {
		link_refuse(link, waiting->arrival_id, waiting->request, status, reason, detail);
		sip_message_free(waiting->request);
		free(waiting);
	}
	link->failure_detail[0] = '\0';
}

static void link_fail_with_best(struct partner_link *link)
{
	switch (link->failure) {
	case FAILURE_REFUSED:
		link_fail(link, 502, SIP_REASON_PARTNER_CERTIFICATE_REFUSED, link->failure_detail);
		break;
	case FAILURE_UNREACHABLE:
		link_fail(link, 503, SIP_REASON_PARTNER_UNREACHABLE, link->failure_detail);
		break;
	case FAILURE_TIMEOUT:
		link_fail(link, 504, SIP_REASON_PARTNER_TIMEOUT, link->failure_detail);
		break;
	case FAILURE_NOT_FOUND:
		link_fail(link, 503, SIP_REASON_PARTNER_NOT_FOUND, link->failure_detail);
		break;
	}
}

static void link_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct partner_link *link = arg;
	char detail[80];
	(void)fd;
	(void)what;
	snprintf(detail, sizeof(detail), "no answer within %u s (%s)",
		 link->federation->context->federation_config->connect_timeout_s,
		 sip_link_state_name(link->out.state));
	link_fail(link, 504, SIP_REASON_PARTNER_TIMEOUT, detail);
}

/* ---- connecting ---- */

static void link_next_target(struct partner_link *link);
static void link_start(struct partner_link *link);

static bool link_pin_matches(const struct partner_link *link)
{
	const unsigned char *fingerprint = conn_peer_fingerprint(link->out.conn);
	if (link->partner == NULL || !link->partner->fingerprint_set)
		return true;
	return fingerprint != NULL &&
	       CRYPTO_memcmp(fingerprint, link->partner->fingerprint, 32) == 0;
}

static void link_up(struct partner_link *link)
{
	struct sip_link_waiting *waiting;

	if (!sip_link_attach(&link->out, link->partner)) {
		conn_close(link->out.conn, CONN_CLOSE_OUT_OF_MEMORY, "out of memory");
		return;
	}
	event_del(link->deadline);
	link_forget_targets(link);
	sip_link_set_state(&link->out, SIP_LINK_UP);
	log_event(LOG_LEVEL_NOTICE, "partner_up", "domain=%s conn=%" PRIu64 " peer=%s",
		  link->domain, conn_id(link->out.conn), conn_peer(link->out.conn));
	while ((waiting = sip_link_dequeue(&link->out)) != NULL) {
		link_relay(link, waiting->arrival_id, waiting->request, &waiting->decision);
		free(waiting);
	}
}

static void link_connect_next(struct partner_link *link);

static enum link_failure link_failure_of(enum conn_close_reason reason)
{
	switch (reason) {
	case CONN_CLOSE_CERTIFICATE_REFUSED:
		return FAILURE_REFUSED;
	case CONN_CLOSE_HANDSHAKE_TIMEOUT:
		return FAILURE_TIMEOUT;
	default:
		return FAILURE_UNREACHABLE;
	}
}

static void link_on_conn_event(struct conn *conn, enum conn_event event, void *arg)
{
	struct partner_link *link = arg;
	char quoted[300], detail[300];

	switch (event) {
	case CONN_EVENT_TLS_READY:
		if (!link_pin_matches(link)) {
			link_note_failure(link, FAILURE_REFUSED, "certificate pin mismatch");
			conn_free(conn);
			link->out.conn = NULL;
			link_connect_next(link);
			return;
		}
		link_up(link);
		break;
	case CONN_EVENT_DATA:
	case CONN_EVENT_DRAINED:
		sip_link_forward(&link->out, conn, event);
		break;
	case CONN_EVENT_CONNECTED:
		break; /* TLS: TLS_READY follows */
	case CONN_EVENT_CLOSED:
		sip_metrics_link_closed(&link->federation->context->metrics, ROLE_FEDERATION,
					conn_close_reason(conn), conn_tls_failure(conn));
		link->out.conn = NULL;
		if (link->out.session != NULL) {
			sip_link_forward(&link->out, conn, event);
			log_event(LOG_LEVEL_NOTICE, "partner_down", "domain=%s reason=%s",
				  link->domain,
				  log_quote(quoted, sizeof(quoted), conn_close_detail(conn)));
			sip_link_set_state(&link->out, SIP_LINK_IDLE);
			/* What was relayed over it is answered: the next request
			 * from the pool sets up a new link at once. */
			sip_link_lost(&link->out, 1);
			/* Requests that came while it was closing wait for a new link. */
			if (link->out.queue_head != NULL)
				link_start(link);
			return;
		}
		snprintf(detail, sizeof(detail), "%s%s%s%s", conn_close_detail(conn),
			 conn_peer_subject(conn) ? " (subject " : "",
			 conn_peer_subject(conn) ? conn_peer_subject(conn) : "",
			 conn_peer_subject(conn) ? ")" : "");
		link_note_failure(link, link_failure_of(conn_close_reason(conn)), detail);
		link_connect_next(link);
		break;
	}
}

static void link_connect_next(struct partner_link *link)
{
	struct sip_federation *federation = link->federation;
	struct sip_context *context = federation->context;
	const char *names[16];
	size_t n_names;

	while (link->next_address < link->n_addresses) {
		const struct sockaddr_storage *address = &link->addresses[link->next_address++];
		const struct dns_target *target = &link->plan.targets[link->next_target - 1];
		n_names = partner_expected_names(link->partner, target->host, names, 16);
		const struct tls_expect expect = {
			.server_name = target->host,
			.names = names,
			.n_names = n_names,
		};
		const struct conn_owner owner = {
			.protocol = CONN_PROTOCOL_SIP,
			.role = ROLE_FEDERATION,
			.callback = link_on_conn_event,
			.arg = link,
		};
		bool same_family = address->ss_family == federation->local.ss_family;
		link->out.conn = conn_connect(
			context->base, (const struct sockaddr *)address, address_length(address),
			same_family ? (const struct sockaddr *)&federation->local : NULL,
			same_family ? federation->local_len : 0, federation->client, &expect,
			&context->conn_limits, &owner);
		if (link->out.conn != NULL) {
			/* Every user's traffic to the partner depends on it. */
			conn_set_shed_rank(link->out.conn, CONN_SHED_LAST);
			sip_link_set_state(&link->out, SIP_LINK_CONNECTING);
			return;
		}
	}
	link_next_target(link);
}

static void link_on_addresses(void *arg, enum dns_status status,
			      const struct sockaddr_storage *addresses, size_t n)
{
	struct partner_link *link = arg;
	char detail[300];

	link->query = NULL;
	if (status != DNS_OK || n == 0) {
		snprintf(detail, sizeof(detail), "no address for %s",
			 link->plan.targets[link->next_target - 1].host);
		link_note_failure(link, FAILURE_NOT_FOUND, detail);
		link_next_target(link);
		return;
	}
	link->addresses = malloc(n * sizeof(*addresses));
	if (link->addresses == NULL) {
		link_next_target(link);
		return;
	}
	memcpy(link->addresses, addresses, n * sizeof(*addresses));
	link->n_addresses = n;
	link->next_address = 0;
	link_connect_next(link);
}

static void link_next_target(struct partner_link *link)
{
	struct sip_context *context = link->federation->context;

	free(link->addresses);
	link->addresses = NULL;
	link->n_addresses = link->next_address = 0;
	if (link->next_target >= link->plan.n) {
		link_fail_with_best(link);
		return;
	}
	const struct dns_target *target = &link->plan.targets[link->next_target++];
	sip_link_set_state(&link->out, SIP_LINK_ADDRESSING);
	link->query = dns_resolve_addresses(context->dns, target->host, target->port,
					    link_on_addresses, link);
	if (link->query == NULL)
		link_on_addresses(link, DNS_FAILED, NULL, 0);
}

/* ---- choosing targets ---- */

static void link_on_srv(void *arg, enum dns_status status, const struct dns_target *targets,
			size_t n)
{
	struct partner_link *link = arg;
	char detail[300];

	link->query = NULL;
	if (status == DNS_OK)
		partner_targets_from_srv(link->domain, link->partner, targets, n, &link->plan);
	if (link->plan.n == 0) {
		snprintf(detail, sizeof(detail), "no usable %s%s record", PARTNER_SRV_PREFIX,
			 link->domain);
		link_note_failure(link, FAILURE_NOT_FOUND, detail);
	}
	link_next_target(link);
}

static void link_start(struct partner_link *link)
{
	struct sip_context *context = link->federation->context;
	const struct partner_config *partner = link->partner;
	struct timeval limit = { .tv_sec = context->federation_config->connect_timeout_s };
	char name[300];

	link->failure = FAILURE_NOT_FOUND;
	link->failure_detail[0] = '\0';
	evtimer_add(link->deadline, &limit);
	partner_targets_configured(partner, &link->plan);
	if (link->plan.n == 0) {
		snprintf(name, sizeof(name), "%s%s", PARTNER_SRV_PREFIX, link->domain);
		sip_link_set_state(&link->out, SIP_LINK_RESOLVING);
		link->query = dns_resolve_srv(context->dns, name, link_on_srv, link);
		if (link->query == NULL)
			link_on_srv(link, DNS_FAILED, NULL, 0);
		return;
	}
	link_next_target(link);
}

/* ---- the links ---- */

static void link_free(struct partner_link *link)
{
	link_stop_attempt(link);
	if (link->out.conn != NULL) {
		sip_link_forward(&link->out, link->out.conn, CONN_EVENT_CLOSED);
		conn_free(link->out.conn);
	}
	sip_link_clear(&link->out);
	event_free(link->deadline);
	free(link->domain);
	free(link);
}

/* Open federation makes a link for every domain the pool sends to: those
 * idle with nothing waiting are dropped when there are many, so a user
 * calling one made-up domain after another cannot grow the edge for ever. */
static void federation_sweep_idle(struct sip_federation *federation)
{
	struct partner_link **at = &federation->links;
	while (*at != NULL) {
		struct partner_link *link = *at;
		if (link->out.state == SIP_LINK_IDLE && link->out.queue_head == NULL) {
			*at = link->next;
			federation->n_links--;
			domain_index_remove(&federation->links_by_domain, link->domain, link);
			link_free(link);
		} else {
			at = &link->next;
		}
	}
}

static struct partner_link *federation_link(struct sip_federation *federation, const char *domain,
					    const struct partner_config *partner)
{
	struct partner_link *link;

	void *found;
	if (domain_index_find(&federation->links_by_domain, domain, &found, 1) > 0)
		return found;
	if (federation->n_links >= FEDERATION_IDLE_SWEEP)
		federation_sweep_idle(federation);
	link = calloc(1, sizeof(*link));
	if (link == NULL)
		return NULL;
	link->federation = federation;
	link->partner = partner;
	link->domain = strdup(domain);
	sip_link_init(&link->out, federation->context, ROLE_FEDERATION, link->domain,
		      federation->handler);
	link->deadline = evtimer_new(federation->context->base, link_on_deadline, link);
	if (link->domain == NULL || link->deadline == NULL ||
	    domain_index_add(&federation->links_by_domain, link->domain, link) < 0) {
		free(link->domain);
		if (link->deadline != NULL)
			event_free(link->deadline);
		free(link);
		return NULL;
	}
	link->next = federation->links;
	federation->links = link;
	federation->n_links++;
	return link;
}

/* An accepted connection whose certificate was found to speak for DOMAIN
 * and that is still up (context.h: the index of bound connections). */
static struct conn *federation_bound_conn(const struct sip_context *context, const char *domain)
{
	void *found[FEDERATION_BOUND_FIND];
	size_t n = domain_index_find(&context->bound, domain, found, FEDERATION_BOUND_FIND);

	for (size_t i = 0; i < n && i < FEDERATION_BOUND_FIND; i++)
		if (conn_ready(found[i]))
			return found[i];
	return NULL;
}

void sip_federation_relay(struct sip_federation *federation, uint64_t arrival_id,
			  struct sip_message *request, const struct sip_decision *decision)
{
	struct sip_context *context = federation->context;
	struct partner_link *link =
		federation_link(federation, decision->domain, decision->partner);
	if (link == NULL) {
		sip_answer_request(context, arrival_id, ROLE_INTERNAL, request, 500,
				   SIP_REASON_CANNOT_RELAY, NULL, NULL);
		sip_message_free(request);
		return;
	}
	if (sip_link_carries(&link->out)) {
		link_relay(link, arrival_id, request, decision);
		return;
	}
	/* The partner's own connection to us, once its certificate proved the
	 * domain, carries our requests too (RFC 5923): one connection between
	 * two edges, whichever opened it. */
	struct conn *inbound = federation_bound_conn(context, decision->domain);
	if (inbound != NULL) {
		log_event(LOG_LEVEL_INFO, "partner_reuse", "domain=%s conn=%" PRIu64 " peer=%s",
			  decision->domain, conn_id(inbound), conn_peer(inbound));
		federation_relay_over(context, inbound, arrival_id, request, decision);
		return;
	}
	if (context->draining) {
		link_refuse(link, arrival_id, request, 503, SIP_REASON_EDGE_DRAINING,
			    "the edge is shutting down");
		sip_message_free(request);
		return;
	}
	if (link->out.queued >= context->federation_config->queue_max) {
		char detail[80];
		snprintf(detail, sizeof(detail), "%u requests already wait for the link",
			 link->out.queued);
		link_refuse(link, arrival_id, request, 503, SIP_REASON_PARTNER_QUEUE_FULL, detail);
		sip_message_free(request);
		return;
	}
	link_enqueue(link, arrival_id, request, decision);
	if (link->out.state == SIP_LINK_IDLE)
		link_start(link);
}

void sip_federation_drain(struct sip_federation *federation)
{
	for (struct partner_link *link = federation->links; link != NULL; link = link->next) {
		sip_link_drain(&link->out);
		if (link->out.state != SIP_LINK_IDLE && link->out.state != SIP_LINK_DRAINING)
			link_fail(link, 503, SIP_REASON_EDGE_DRAINING, "the edge is shutting down");
	}
}

void sip_federation_stop(struct sip_federation *federation)
{
	for (struct partner_link *link = federation->links; link != NULL; link = link->next)
		sip_link_stop(&link->out);
}

unsigned sip_federation_open_links(const struct sip_federation *federation)
{
	unsigned open = 0;
	for (const struct partner_link *link = federation->links; link != NULL; link = link->next)
		open += link->out.conn != NULL;
	return open;
}

/* ---- metrics ---- */

static int64_t federation_read_links(void *arg)
{
	const struct federation_state_gauge *gauge = arg;
	int64_t count = 0;
	for (const struct partner_link *link = gauge->federation->links; link != NULL;
	     link = link->next)
		count += link->out.state == gauge->state;
	return count;
}

static int64_t federation_read_in_flight(void *arg)
{
	const struct sip_federation *federation = arg;
	int64_t count = 0;
	for (const struct partner_link *link = federation->links; link != NULL; link = link->next)
		count += (int64_t)link->out.in_flight.count;
	return count;
}

static int64_t federation_read_queued(void *arg)
{
	const struct sip_federation *federation = arg;
	int64_t count = 0;
	for (const struct partner_link *link = federation->links; link != NULL; link = link->next)
		count += link->out.queued;
	return count;
}

/* The partner links by state (no domain: that is the peers' word), the
 * requests in flight over them and those waiting for one to come up, read
 * when the page is rendered. */
void sip_federation_register_metrics(struct sip_federation *federation)
{
	static const char *const state_label[] = { "state", NULL };
	static const char *const role_label[] = { "role", NULL };
	static const char *const role_federation[] = { "federation", NULL };
	struct metrics *registry = federation->context->metrics.registry;

	struct metric_family *links =
		metrics_register(registry, METRIC_GAUGE, "sxedge_partner_links",
				 "The edge's links to partner edges, by state.", state_label);
	for (int state = 0; state < SIP_LINK_STATES; state++) {
		struct federation_state_gauge *gauge = &federation->gauges[state];
		*gauge = (struct federation_state_gauge){ .federation = federation,
							  .state = (enum sip_link_state)state };
		const char *const values[] = { sip_link_state_name(gauge->state), NULL };
		metric_gauge_read_by(metric_gauge(links, values), federation_read_links, gauge);
	}
	struct metric_family *in_flight = metrics_register(
		registry, METRIC_GAUGE, "sxedge_sip_in_flight_requests",
		"Requests relayed over the edge's links that await their final response, by the "
		"role of the far end.",
		role_label);
	metric_gauge_read_by(metric_gauge(in_flight, role_federation), federation_read_in_flight,
			     federation);
	struct metric_family *queued = metrics_register(
		registry, METRIC_GAUGE, "sxedge_partner_queued_requests",
		"Requests from the pool waiting for their partner link to come up.", NULL);
	metric_gauge_read_by(metric_gauge(queued, NULL), federation_read_queued, federation);
}

/* ---- life cycle ---- */

/* Outbound links leave from the external interface, as partners expect.
 * A wildcard listener address binds nothing in particular. */
static void federation_set_local(struct sip_federation *federation,
				 const struct listener_config *listener)
{
	federation->local_len = address_parse(listener->address, 0, &federation->local);
	if (address_is_unspecified(&federation->local)) {
		memset(&federation->local, 0, sizeof(federation->local));
		federation->local_len = 0;
	}
}

struct sip_federation *sip_federation_new(struct sip_context *context,
					  const struct listener_config *listener,
					  struct tls_client *client,
					  const struct sip_link_handler *handler)
{
	struct sip_federation *federation = calloc(1, sizeof(*federation));

	if (federation == NULL)
		return NULL;
	federation->context = context;
	federation->client = tls_client_hold(client);
	federation->handler = handler;
	federation_set_local(federation, listener);
	return federation;
}

/* Why LINK may not go on under the context's new configuration (OLD
 * before; the federation listener gone when LISTENER is NULL), or
 * SIP_REASON_COUNT; *PARTNER is its domain's section now.  A link not up
 * yet proves its partner with the new section when it comes up. */
static enum sip_reason link_reload_reason(const struct partner_link *link,
					  const struct listener_config *listener,
					  const struct sxedge_config *old,
					  const struct partner_config **partner)
{
	const struct sip_context *context = link->federation->context;
	bool up = link->out.session != NULL && link->out.conn != NULL;
	size_t n_names = 0;
	char *const *names = up ? conn_peer_names(link->out.conn, &n_names) : NULL;

	*partner = NULL;
	if (listener == NULL)
		return SIP_REASON_FEDERATION_REMOVED;
	enum sip_reason reason =
		partner_reload_verdict(old, context->config, link->domain, names, n_names,
				       up ? conn_peer_fingerprint(link->out.conn) : NULL, partner);
	return reason == SIP_REASON_PARTNER_CHANGED && !up ? SIP_REASON_COUNT : reason;
}

/* A reload does not allow LINK any more: what it carries or waits for is
 * answered, and it closes (up) or stops its set-up, for REASON. */
static void link_end(struct partner_link *link, enum sip_reason reason)
{
	if (link->out.session != NULL && link->out.conn != NULL) {
		sip_link_end(&link->out, reason);
		return;
	}
	if (link->out.state == SIP_LINK_IDLE)
		return;
	sip_metrics_reload_closed(&link->federation->context->metrics, ROLE_FEDERATION, reason);
	link_fail(link, 503, reason, sip_reason_phrase(reason));
}

void sip_federation_reload(struct sip_federation *federation,
			   const struct listener_config *listener, struct tls_client *client,
			   const struct sxedge_config *old, bool resolver_changed)
{
	if (listener != NULL)
		federation_set_local(federation, listener);
	tls_client_release(federation->client);
	federation->client = client != NULL ? tls_client_hold(client) : NULL;
	for (struct partner_link *link = federation->links; link != NULL; link = link->next) {
		const struct partner_config *partner;
		enum sip_reason reason = link_reload_reason(link, listener, old, &partner);
		link->partner = partner;
		if (link->out.session != NULL)
			federation->handler->follow_partner(link->out.session, partner);
		if (reason != SIP_REASON_COUNT) {
			link_end(link, reason);
		} else if (resolver_changed && link->query != NULL) {
			/* Its look-up was the old resolver's: it starts again. */
			link_stop_attempt(link);
			link_start(link);
		}
	}
}

void sip_federation_free(struct sip_federation *federation)
{
	if (federation == NULL)
		return;
	while (federation->links != NULL) {
		struct partner_link *link = federation->links;
		federation->links = link->next;
		link_free(link);
	}
	domain_index_clear(&federation->links_by_domain);
	tls_client_release(federation->client);
	free(federation);
}
