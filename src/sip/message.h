/* SPDX-License-Identifier: ISC */
/* message: a received SIP message (its bytes, their index and libosip2's
 * reading of them), the mandatory-header checks of RFC 3261 §16.3, and
 * stateless responses (§8.2.6). */
#ifndef SXEDGE_SIP_MESSAGE_H
#define SXEDGE_SIP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <osipparser2/osip_parser.h>

#include "headers.h"

/* Once per process, before any parse (osip's parser_init). */
void sip_message_init(void);

/* Parses LEN bytes with osip alone.  Returns NULL when libosip2 cannot
 * make sense of them. */
osip_message_t *sip_message_parse(const char *data, size_t len);

struct sip_message {
	char *data; /* the bytes as received: what is forwarded, edited */
	size_t length;
	struct sip_headers headers; /* where its fields are in DATA */
	osip_message_t *osip; /* osip's reading, to check and route; never written */
	const char *refusal; /* NULL, or the 400 reason phrase for a message whose
				form the edge does not relay (headers.h), or whose
				Via or Route osip reads as another list */
};

/* Reads the LEN bytes of one framed message (or of a header block alone,
 * to answer it).  Returns NULL when osip cannot parse them or memory runs
 * out; a message with a refusal is returned, to be answered. */
struct sip_message *sip_message_read(const char *data, size_t len);
void sip_message_free(struct sip_message *message);

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

/* Builds the response STATUS REASON to REQUEST: its Via, From, To (with a
 * tag added when it has none), Call-ID and CSeq lines as received, the
 * optional EXTRA header lines (each "Name: value\r\n"), Content-Length: 0.
 * Returns a malloc'd buffer, *LEN its length; NULL when REQUEST lacks what
 * a response needs. */
char *sip_response_build(const struct sip_message *request, int status, const char *reason,
			 const char *extra, size_t *len);

/* The lines a final response to REQUEST copies from it, as
 * sip_response_build writes them (the To tag added when it has none), so
 * that the request can be answered later without keeping it: a malloc'd
 * buffer, *LEN its length; NULL when REQUEST lacks what a response needs. */
char *sip_response_fields(const struct sip_message *request, size_t *len);

/* The final response STATUS (200..699) REASON made of FIELDS (from
 * sip_response_fields) and EXTRA, as sip_response_build would have made it
 * from the request.  NULL on bad arguments or out of memory. */
char *sip_response_from_fields(const char *fields, size_t fields_len, int status,
			       const char *reason, const char *extra, size_t *len);

/* The domain (host part) of a From/To/Request-URI, or NULL. */
const char *sip_uri_domain(const osip_uri_t *uri);

#endif
