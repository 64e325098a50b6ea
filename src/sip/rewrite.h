/* SPDX-License-Identifier: ISC */
/* rewrite: the changes a proxy makes to a request it relays (RFC 3261
 * §16.6) and to a response it returns (§16.7), once routing has decided
 * where it goes.  They are line edits on the received bytes (like
 * Kamailio's lumps): every header line the edge does not change goes out
 * exactly as it came. */
#ifndef SXEDGE_SIP_REWRITE_H
#define SXEDGE_SIP_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "flow_token.h"
#include "message.h"
#include "routing.h" /* struct sip_hop */

struct sip_request_rewrite {
	unsigned routes_to_pop; /* remove this many Route entries from the top */
	struct sip_hop arrival; /* our side the request came in on */
	struct sip_hop departure; /* our side it leaves on: Via sent-by */
	const char *branch; /* via_branch_make() */
	const char *stamp; /* via_stamp_make(): the sxt parameter after the branch */
	const char *flow_token; /* the external (access or federation) connection of this
				     crossing, for Record-Route and Path */
	bool record_route; /* add <sip:TOKEN@arrival;transport=tls;lr> then
				     <sip:TOKEN@departure;transport=tls;lr> on top of it */
	bool add_path; /* add Path <sip:TOKEN@departure;transport=tls;lr>, with ;ob
			  when a Contact carries reg-id (RFC 5626 §5.1) */
	bool strip_identity; /* remove every SIP_HEADER_IDENTITY field (headers.h): set
				for requests from outside the trust domain (access,
				federation; RFC 3325 §5) */
};

/* The request to relay: REQUEST's bytes with the top routes_to_pop Route
 * values removed, asserted identities removed when asked, Max-Forwards
 * counted down (70 inserted when absent), Record-Route/Path as asked and
 * our Via on top, and Content-Length: 0 added when it had none.  Returns a
 * malloc'd buffer, *LEN its length; NULL when it cannot be built (out of
 * memory, fewer routes than asked, a Max-Forwards that is not 1..255). */
char *sip_request_forward(const struct sip_message *request,
			  const struct sip_request_rewrite *rewrite, size_t *len);

/* The response to return: RESPONSE's bytes without their top Via value
 * (ours).  NULL when there is none, or out of memory. */
char *sip_response_forward(const struct sip_message *response, size_t *len);

#endif
