/* message: parsing SIP messages with libosip2, the mandatory-header checks
 * of RFC 3261 §16.3, and stateless responses (§8.2.6). */
#ifndef SXEDGE_SIP_MESSAGE_H
#define SXEDGE_SIP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <osipparser2/osip_parser.h>

/* Once per process, before any parse (osip's parser_init). */
void sip_message_init(void);

/* Parses LEN bytes.  Returns NULL when libosip2 cannot make sense of them. */
osip_message_t *sip_message_parse(const char *data, size_t len);

/* Serialises MSG into a malloc'd buffer; *LEN gets its length.  NULL on failure. */
char *sip_message_serialise(const osip_message_t *msg, size_t *len);

struct sip_reject {
	int status; /* 0 when the message passed */
	const char *reason; /* reason phrase, e.g. "Missing Call-ID" */
};

/* Checks a parsed request: Via, From, To, Call-ID and CSeq present and well
 * formed, CSeq method equal to the request method, Max-Forwards (when
 * present) a number 0..255 and not 0 (483 Too Many Hops).  Fills REJECT and
 * returns false when the request must be refused. */
bool sip_request_check(const osip_message_t *request, struct sip_reject *reject);

/* Checks a parsed response: Via, From, To, Call-ID and CSeq present. */
bool sip_response_check(const osip_message_t *response);

/* Builds the response STATUS REASON to REQUEST (Via list, From, To with a
 * tag added when it has none, Call-ID, CSeq, Content-Length: 0), plus the
 * optional EXTRA header lines (each "Name: value\r\n").  Returns a malloc'd
 * buffer, *LEN its length; NULL when REQUEST lacks what a response needs. */
char *sip_response_build(const osip_message_t *request, int status, const char *reason,
			 const char *extra, size_t *len);

/* The domain (host part) of a From/To/Request-URI, or NULL. */
const char *sip_uri_domain(const osip_uri_t *uri);

#endif
