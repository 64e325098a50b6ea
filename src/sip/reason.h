/* SPDX-License-Identifier: ISC */
/* reason: why the edge refused, answered or dropped a SIP message, as one
 * enum with one table of stable names.  The name (snake_case) goes into
 * the log line as reason_code= and is the label a metric of refusals
 * counts by; the phrase is the reason phrase of a response the edge sends
 * itself, or the text of a drop's log line.  A name never changes once
 * released: operators' alerts match on it. */
#ifndef SXEDGE_SIP_REASON_H
#define SXEDGE_SIP_REASON_H

/* X(ID, name, phrase) */
#define SIP_REASONS(X)                                                                      \
	/* requests: the mandatory-header checks and message form */                        \
	X(MALFORMED_REQUEST, "malformed_request", "Bad Request")                            \
	X(TOO_MANY_HOPS, "too_many_hops", "Too Many Hops")                                  \
	X(VERSION_NOT_SUPPORTED, "version_not_supported", "Version Not Supported")          \
	X(TOO_MANY_HEADERS, "too_many_headers", "Too Many Headers")                         \
	X(MESSAGE_TOO_LARGE, "message_too_large", "Message Too Large")                      \
	X(BAD_CONTENT_LENGTH, "bad_content_length", "Bad Content-Length")                   \
	/* streams closed because they cannot be cut into messages */                       \
	X(STREAM_TOO_LARGE, "stream_too_large", "message too large")                        \
	X(STREAM_BAD_CONTENT_LENGTH, "stream_bad_content_length", "bad Content-Length")     \
	X(LINE_TOO_LONG, "line_too_long", "line too long")                                  \
	X(HEADER_TOO_LARGE, "header_too_large", "header too large")                         \
	X(MALFORMED_STREAM, "malformed_stream", "malformed header block")                   \
	X(UNPARSEABLE_MESSAGE, "unparseable_message", "unparseable message")                \
	X(UNANSWERABLE_REQUEST, "unanswerable_request", "unanswerable request")             \
	X(MESSAGE_TIMEOUT, "message_timeout", "message timeout")                            \
	/* requests from access */                                                          \
	X(FROM_DOMAIN_NOT_SERVED, "from_domain_not_served", "From Domain Not Served")       \
	X(FORGED_ROUTE, "forged_route", "Forged Route")                                     \
	/* requests from federation */                                                      \
	X(DOMAIN_NOT_FEDERATED, "domain_not_federated", "Domain Not Federated")             \
	X(DOMAIN_BLOCKED, "domain_blocked", "Domain Blocked")                               \
	X(FROM_DOMAIN_IS_OURS, "from_domain_is_ours", "From Domain Is Ours")                \
	X(CERTIFICATE_NOT_FOR_DOMAIN, "certificate_not_for_domain",                         \
	  "Certificate Does Not Match Domain")                                              \
	X(CERTIFICATE_PIN_MISMATCH, "certificate_pin_mismatch", "Certificate Pin Mismatch") \
	X(TO_DOMAIN_NOT_OURS, "to_domain_not_ours", "To Domain Not Ours")                   \
	X(REQUEST_URI_NOT_OURS, "request_uri_not_ours", "Request-URI Domain Not Ours")      \
	X(REGISTRATION_NOT_ALLOWED, "registration_not_allowed", "Registration Not Allowed") \
	X(PARTNER_RATE_LIMIT, "partner_rate_limit", "Rate Limit Exceeded")                  \
	X(CANNOT_LOOK_UP_DOMAIN, "cannot_look_up_domain", "Cannot Look Up Domain")          \
	/* requests from the pool */                                                        \
	X(NO_FLOW_TOKEN, "no_flow_token", "No Flow Token")                                  \
	X(FROM_DOMAIN_NOT_OURS, "from_domain_not_ours", "From Domain Not Ours")             \
	X(INVALID_FLOW_TOKEN, "invalid_flow_token", "Invalid Flow Token")                   \
	X(FLOW_FAILED, "flow_failed", "Flow Failed")                                        \
	X(ROLE_NOT_ROUTED, "role_not_routed", "Role Not Routed")                            \
	/* responses */                                                                     \
	X(MALFORMED_RESPONSE, "malformed_response", "Malformed Response")                   \
	X(VIA_NOT_OURS, "via_not_ours", "Via Not Ours")                                     \
	X(RESPONSE_FROM_WRONG_SIDE, "response_from_wrong_side", "Response From Wrong Side") \
	X(FORGED_VIA_BRANCH, "forged_via_branch", "Forged Via Branch")                      \
	X(STALE_VIA_BRANCH, "stale_via_branch", "Stale Via Branch")                         \
	X(FORGED_VIA_STAMP, "forged_via_stamp", "Forged Via Stamp")                         \
	X(EXPIRED_VIA_STAMP, "expired_via_stamp", "Expired Via Stamp")                      \
	X(RESPONSE_ON_UNBOUND, "response_on_unbound", "response on unbound connection")     \
	X(PARTNER_RATE_LIMIT_RESPONSE, "partner_rate_limit_response",                       \
	  "partner rate limit exceeded")                                                    \
	X(CONNECTION_GONE, "connection_gone", "connection gone")                            \
	X(CANNOT_REMOVE_VIA, "cannot_remove_via", "cannot remove our Via")                  \
	/* relaying */                                                                      \
	X(CANNOT_RELAY, "cannot_relay", "Cannot Relay Request")                             \
	X(NOT_FRAMED_ONCE, "not_framed_once", "output is not one message")                  \
	X(NEXT_HOP_BUSY, "next_hop_busy", "next hop busy")                                  \
	X(NEXT_HOP_FAILED, "next_hop_failed", "output to the next hop failed")              \
	X(POOL_BUSY, "pool_busy", "Pool Busy")                                              \
	X(POOL_UNAVAILABLE, "pool_unavailable", "Pool Unavailable")                         \
	X(POOL_LINK_LOST, "pool_link_lost", "Pool Link Lost")                               \
	X(PARTNER_BUSY, "partner_busy", "Partner Busy")                                     \
	X(PARTNER_LINK_LOST, "partner_link_lost", "Partner Link Lost")                      \
	X(PARTNER_QUEUE_FULL, "partner_queue_full", "Partner Queue Full")                   \
	X(PARTNER_NOT_FOUND, "partner_not_found", "Partner Not Found")                      \
	X(PARTNER_UNREACHABLE, "partner_unreachable", "Partner Unreachable")                \
	X(PARTNER_TIMEOUT, "partner_timeout", "Partner Timeout")                            \
	X(PARTNER_CERTIFICATE_REFUSED, "partner_certificate_refused",                       \
	  "Partner Certificate Refused")                                                    \
	X(EDGE_DRAINING, "edge_draining", "Edge Draining")                                  \
	X(EDGE_STOPPING, "edge_stopping", "Edge Stopping")                                  \
	/* a reload closes what the new configuration no longer allows */                   \
	X(PARTNER_BLOCKED, "partner_blocked", "Partner Blocked")                            \
	X(PARTNER_REMOVED, "partner_removed", "Partner Removed")                            \
	X(PARTNER_CHANGED, "partner_changed", "Partner Changed")                            \
	X(FEDERATION_REMOVED, "federation_removed", "Federation Removed")                   \
	X(POOL_MEMBER_REMOVED, "pool_member_removed", "Pool Member Removed")                \
	X(POOL_LINK_REMOVED, "pool_link_removed", "Pool Link Removed")                      \
	X(IN_FLIGHT_FULL, "in_flight_full", "in-flight table full")                         \
	X(LINK_SATURATED, "link_saturated", "link has too many requests in flight")

enum sip_reason {
#define SIP_REASON_ENUM(id, name, phrase) SIP_REASON_##id,
	SIP_REASONS(SIP_REASON_ENUM)
#undef SIP_REASON_ENUM
	SIP_REASON_COUNT
};

/* The stable snake_case name ("forged_route"). */
const char *sip_reason_name(enum sip_reason reason);
/* The reason phrase or log text ("Forged Route"). */
const char *sip_reason_phrase(enum sip_reason reason);

#endif
