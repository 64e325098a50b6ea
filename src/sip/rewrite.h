/* rewrite: the changes a proxy makes to a request it relays (RFC 3261
 * §16.6) and to a response it returns (§16.7), applied to a parsed message
 * after routing has decided where it goes. */
#ifndef SXEDGE_SIP_REWRITE_H
#define SXEDGE_SIP_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "flow_token.h"
#include "routing.h" /* struct sip_hop */

struct sip_request_rewrite {
	unsigned routes_to_pop; /* remove this many Route entries from the top */
	struct sip_hop arrival; /* our side the request came in on */
	struct sip_hop departure; /* our side it leaves on: Via sent-by */
	const char *branch; /* via_branch_make() */
	const char *flow_token; /* the external (access or federation) connection of this
				     crossing, for Record-Route and Path */
	bool record_route; /* add <sip:TOKEN@arrival;transport=tls;lr> then
				     <sip:TOKEN@departure;transport=tls;lr> on top of it */
	bool add_path; /* add Path <sip:TOKEN@departure;transport=tls;lr>, with ;ob
			  when a Contact carries reg-id (RFC 5626 §5.1) */
	bool strip_identity; /* remove P-Asserted-Identity, P-Preferred-Identity and
				Remote-Party-ID: set for requests from outside the
				trust domain (access, federation; RFC 3325 §5) */
};

/* Pops routes, removes asserted identities when asked, decrements
 * Max-Forwards (inserting 70 when absent), adds Record-Route/Path as asked
 * and our Via on top.  Returns 0, or -1 when the message cannot be changed
 * (out of memory, fewer routes than asked). */
int sip_request_rewrite(osip_message_t *request, const struct sip_request_rewrite *rewrite);

/* Removes the top Via (ours).  Returns 0, or -1 when there is none. */
int sip_response_rewrite(osip_message_t *response);

#endif
