/* SPDX-License-Identifier: ISC */
/* fuzz_sip_pipeline: the whole SIP path of the edge on arbitrary bytes:
 * frame -> read (index, osip) -> check and route -> edit -> frame again.
 *
 * The first byte chooses the role the bytes arrive on (access, internal or
 * federation), the rest is the stream.  For every message the properties
 * the security review asked for must hold:
 * - whatever the edge writes (a relayed request or response, its own
 *   answer) frames as exactly one message of its own length;
 * - nothing that arrived on an external role is routed to an external one;
 * - no identity header survives a request from outside. */
#include <stdbool.h>
#include <strings.h>

#include "fuzz.h"

#include "framing.h"
#include "message.h"
#include "protocols.h"
#include "federation_config.h"
#include "rewrite.h"
#include "routing.h"
#include "via_branch.h"

#define NOW 1764547200u

static char *domains[] = { "example.test" };
static char *partner_edges[] = { "edge.partner.test" };
static struct partner_config partners[] = {
	{ .domain = "partner.test", .edges = partner_edges, .n_edges = 1 },
};
static struct federation_config federation = { .open = true,
					       .queue_max = 8,
					       .connect_timeout_s = 1 };
static struct sip_config sip = {
	.partners = partners,
	.n_partners = 1,
};
static struct sxedge_config config = {
	.schema = &sxedge_protocols.schema,
	.domains = domains,
	.n_domains = 1,
	.modules = { &federation, &sip },
};
/* Secret 01 02 03 and zeros, node 1, boot 7: built on the first input. */
static struct flow_key key;
static const struct sip_edge edge = {
	.config = &config,
	.flow_key = &key,
	.hops = { [ROLE_ACCESS] = { "127.0.0.1", 443 },
		  [ROLE_INTERNAL] = { "127.0.0.2", 5061 },
		  [ROLE_FEDERATION] = { "127.0.0.3", 5061 } },
};
static char *partner_names[] = { "edge.partner.test" };

static bool is_external(enum listener_role role)
{
	return role == ROLE_ACCESS || role == ROLE_FEDERATION;
}

/* Checked with no help from headers.c: no line of the header block starts
 * with an identity header's name. */
static bool has_identity_line(const char *out, size_t len)
{
	static const char *const names[] = { "p-asserted-identity", "p-preferred-identity",
					     "remote-party-id", "ms-edge-proxy-message-trust" };
	for (size_t at = 0; at + 1 < len;) {
		if (out[at] == '\r' && out[at + 1] == '\n')
			return false; /* the blank line: the body is not headers */
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t n = strlen(names[i]);
			if (len - at > n && strncasecmp(out + at, names[i], n) == 0 &&
			    (out[at + n] == ':' || out[at + n] == ' ' || out[at + n] == '\t'))
				return true;
		}
		const char *lf = memchr(out + at, '\n', len - at);
		if (lf == NULL)
			return false;
		at = (size_t)(lf - out) + 1;
	}
	return false;
}

static void check_written(char *out, size_t len)
{
	if (out == NULL)
		return;
	FUZZ_REQUIRE(sip_frame_is_one_message(out, len));
	free(out);
}

static void relay_request(const struct sip_message *request, enum listener_role arrival,
			  const struct sip_decision *decision)
{
	enum listener_role departure = is_external(arrival)			   ? ROLE_INTERNAL
				       : decision->action == SIP_ACTION_TO_PARTNER ? ROLE_FEDERATION
										   : ROLE_ACCESS;
	char token[FLOW_TOKEN_LEN + 1], branch[VIA_BRANCH_SIZE], stamp[VIA_STAMP_SIZE];
	size_t len = 0;

	flow_token_seal(&key, 9, token);
	via_branch_make(&key, 9, request->osip, branch);
	via_stamp_make(&key, branch, NOW, stamp);
	struct sip_request_rewrite rewrite = {
		.routes_to_pop = decision->routes_to_pop,
		.arrival = edge.hops[arrival],
		.departure = edge.hops[departure],
		.branch = branch,
		.stamp = stamp,
		.flow_token = token,
		.record_route = decision->record_route,
		.add_path = decision->add_path,
		.strip_identity = is_external(arrival),
	};
	char *out = sip_request_forward(request, &rewrite, &len);
	FUZZ_REQUIRE(out == NULL || !is_external(arrival) || !has_identity_line(out, len));
	check_written(out, len);
}

static void on_request(const struct sip_message *request, enum listener_role arrival)
{
	struct sip_decision decision;
	size_t len = 0;

	if (request->refusal != NULL) {
		check_written(sip_response_build(request, 400, request->refusal, NULL, &len), len);
		return;
	}
	struct sip_peer peer = { .role = arrival };
	if (arrival == ROLE_FEDERATION) {
		peer.names = partner_names;
		peer.n_names = 1;
	}
	sip_route_request(request->osip, &peer, &edge, &decision);
	switch (decision.action) {
	case SIP_ACTION_TO_CONN:
	case SIP_ACTION_TO_PARTNER:
		FUZZ_REQUIRE(!is_external(arrival)); /* else an open relay */
		relay_request(request, arrival, &decision);
		break;
	case SIP_ACTION_TO_POOL:
		relay_request(request, arrival, &decision);
		break;
	case SIP_ACTION_REPLY:
		check_written(
			sip_response_build(request, decision.status, decision.reason, NULL, &len),
			len);
		break;
	case SIP_ACTION_DISCOVER:
	case SIP_ACTION_DROP:
		break;
	}
}

static void on_response(const struct sip_message *response, enum listener_role arrival)
{
	struct sip_decision decision;
	size_t len = 0;

	if (response->refusal != NULL)
		return;
	sip_route_response(response->osip, arrival, &edge, NOW, &decision);
	check_written(sip_response_forward(response, &len), len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sip_frame_limits limits = {
		.max_message = 8192,
		.max_line = 2048,
		.max_headers = 64,
	};
	static bool initialised;

	if (!initialised) {
		static const unsigned char secret[FLOW_SECRET_SIZE] = { 1, 2, 3 };
		sip_message_init();
		FUZZ_REQUIRE(flow_key_init(&key, secret, 1, 7) == 0);
		initialised = true;
	}
	if (size < 1)
		return 0;
	enum listener_role arrival = (enum listener_role)(data[0] % ROLE_COUNT);
	const char *stream = (const char *)data + 1;
	size_t left = size - 1;

	while (left > 0) {
		struct sip_frame frame;
		enum sip_frame_result result = sip_frame_next(stream, left, &limits, &frame);
		if (result == SIP_FRAME_MESSAGE || result == SIP_FRAME_TOO_MANY_HEADERS) {
			/* An exactly-sized copy, so ASan sees any read past the message. */
			char *copy = fuzz_copy(stream, frame.total);
			struct sip_message *message = sip_message_read(copy, frame.total);
			free(copy);
			if (message != NULL) {
				if (MSG_IS_REQUEST(message->osip))
					on_request(message, arrival);
				else
					on_response(message, arrival);
				sip_message_free(message);
			}
		} else if (result != SIP_FRAME_PING && result != SIP_FRAME_SKIP) {
			break; /* the session closes the stream (or waits for more) */
		}
		stream += frame.total;
		left -= frame.total;
	}
	return 0;
}
