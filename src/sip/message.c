/* SPDX-License-Identifier: ISC */
/* message: a received SIP message as its bytes, their index (headers.h)
 * and libosip2's reading of them.  osip is used to check and route, never
 * to write: what the edge sends is the received bytes edited in place
 * (rewrite.c), and its own responses copy the received Via, From, To,
 * Call-ID and CSeq lines.  The checks of RFC 3261 §16.3 give each refusal
 * its own reason phrase.
 *
 * What libosip2 5.3 does that matters here (found by experiment):
 * - osip_message_parse() takes a length and reads no further (no NUL
 *   needed), and is lenient: a header with an empty value ("CSeq:") is
 *   dropped as if absent, a CSeq number or Max-Forwards is any text, a
 *   status code outside 100..699 and a version other than SIP/2.0 pass.
 * - It parses a body only when there is a Content-Type, and refuses a
 *   second Content-Length even with the same value: it is given the header
 *   block without Content-Length, and never sees a body.
 * - Writing a message back is where it goes wrong: a Content-Type
 *   parameter without a value came out with no value and no line end,
 *   gluing the next header onto it (a second message smuggled in the
 *   body), headers came out reordered and some comma lists split.  Hence
 *   no osip_message_to_str() anywhere.
 * - It logs parse errors to stdout unless told otherwise. */
#include "message.h"

#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_line_white(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parsing */

static void discard_osip_trace(const char *file, int line, osip_trace_level_t level,
			       const char *format, va_list args)
{
	(void)file;
	(void)line;
	(void)level;
	(void)format;
	(void)args;
}

void sip_message_init(void)
{
	static bool done;

	if (done)
		return;
	parser_init();
	/* Malformed input from peers is normal here; it is counted and logged
	 * by the caller, not printed by osip. */
	osip_trace_initialize_func(TRACE_LEVEL0, discard_osip_trace);
	done = true;
}

/* osip's reading of the header block indexed in HEADERS, given to it
 * without its Content-Length fields: osip would parse a body (it only knows
 * how to rebuild one), and refuses a Content-Length repeated even with the
 * same value.  Framing has checked the length; the body is never osip's. */
static osip_message_t *osip_reading(const char *data, size_t len, const struct sip_headers *headers)
{
	if (headers->block_end > len || memchr(data, '\0', headers->block_end) != NULL)
		return NULL; /* not a framed header block: osip would misread it */
	char *block = malloc(headers->block_end);
	if (block == NULL)
		return NULL;
	size_t length = headers->start_line_end + 2;
	memcpy(block, data, length);
	for (size_t i = 0; i < headers->n_fields; i++) {
		const struct sip_header *field = &headers->fields[i];
		if (field->kind == SIP_HEADER_CONTENT_LENGTH)
			continue;
		memcpy(block + length, data + field->start, field->end + 2 - field->start);
		length += field->end + 2 - field->start;
	}
	memcpy(block + length, "\r\n", 2);
	length += 2;

	osip_message_t *msg = NULL;
	if (osip_message_init(&msg) != 0 || osip_message_parse(msg, block, length) != 0) {
		osip_message_free(msg);
		msg = NULL;
	}
	free(block);
	return msg;
}

osip_message_t *sip_message_parse(const char *data, size_t len)
{
	struct sip_headers headers;
	const char *refusal;

	sip_headers_index(data, len, &headers, &refusal);
	osip_message_t *msg = osip_reading(data, len, &headers);
	sip_headers_clear(&headers);
	return msg;
}

/* Checks */

static void set_reject(struct sip_reject *reject, int status, const char *reason)
{
	reject->status = status;
	reject->reason = reason;
}

static bool has_text(const char *text)
{
	return text != NULL && text[0] != '\0';
}

/* A decimal number no greater than LIMIT, white space around it allowed
 * (osip trims it, but a folded value may keep some). */
static bool parse_number(const char *text, uint64_t limit, uint64_t *number)
{
	uint64_t value = 0;

	if (text == NULL)
		return false;
	while (is_line_white(*text))
		text++;
	const char *digits = text;
	while (*text >= '0' && *text <= '9') {
		value = value * 10 + (uint64_t)(*text - '0');
		if (value > limit)
			return false;
		text++;
	}
	if (text == digits)
		return false;
	while (is_line_white(*text))
		text++;
	if (*text != '\0')
		return false;
	*number = value;
	return true;
}

static bool uri_has_host(const osip_uri_t *uri)
{
	return uri != NULL && has_text(uri->host);
}

static bool request_uri_ok(const osip_message_t *request)
{
	const osip_uri_t *uri = request->req_uri;

	if (uri == NULL || !has_text(uri->scheme))
		return false;
	/* tel: and other schemes have no host; sip: and sips: must. */
	if (osip_strcasecmp(uri->scheme, "sip") == 0 || osip_strcasecmp(uri->scheme, "sips") == 0)
		return uri_has_host(uri);
	return true;
}

static bool check_cseq(const osip_message_t *request, struct sip_reject *reject)
{
	const osip_cseq_t *cseq = request->cseq;
	uint64_t number;

	if (cseq == NULL) {
		set_reject(reject, 400, "Missing CSeq");
		return false;
	}
	/* RFC 3261 §8.1.1.5: a 32-bit number below 2**31. */
	if (!parse_number(cseq->number, 0x7fffffff, &number) || !has_text(cseq->method)) {
		set_reject(reject, 400, "Bad CSeq");
		return false;
	}
	/* Methods are case-sensitive (RFC 3261 §7.1). */
	if (strcmp(cseq->method, request->sip_method) != 0) {
		set_reject(reject, 400, "CSeq Method Mismatch");
		return false;
	}
	return true;
}

static bool check_max_forwards(const osip_message_t *request, struct sip_reject *reject)
{
	osip_header_t *header = NULL;
	uint64_t hops;

	int pos = osip_message_get_max_forwards(request, 0, &header);
	if (pos < 0)
		return true; /* absent: the proxy adds one (RFC 3261 §16.6 step 3) */
	osip_header_t *another = NULL;
	if (osip_message_get_max_forwards(request, pos + 1, &another) >= 0 ||
	    !parse_number(header->hvalue, 255, &hops)) {
		set_reject(reject, 400, "Bad Max-Forwards");
		return false;
	}
	if (hops == 0) {
		set_reject(reject, 483, "Too Many Hops");
		return false;
	}
	return true;
}

static bool check_request_headers(const osip_message_t *request, struct sip_reject *reject)
{
	if (request->sip_method == NULL || !request_uri_ok(request)) {
		set_reject(reject, 400, "Bad Request-URI");
		return false;
	}
	if (request->sip_version == NULL || osip_strcasecmp(request->sip_version, "SIP/2.0") != 0) {
		set_reject(reject, 505, "Version Not Supported");
		return false;
	}
	if (osip_list_size(&request->vias) <= 0) {
		set_reject(reject, 400, "Missing Via");
		return false;
	}
	if (request->from == NULL) {
		set_reject(reject, 400, "Missing From");
		return false;
	}
	if (!uri_has_host(request->from->url)) {
		set_reject(reject, 400, "Bad From");
		return false;
	}
	if (request->to == NULL) {
		set_reject(reject, 400, "Missing To");
		return false;
	}
	if (!uri_has_host(request->to->url)) {
		set_reject(reject, 400, "Bad To");
		return false;
	}
	if (request->call_id == NULL || !has_text(request->call_id->number)) {
		set_reject(reject, 400, "Missing Call-ID");
		return false;
	}
	return true;
}

bool sip_request_check(const osip_message_t *request, struct sip_reject *reject)
{
	set_reject(reject, 0, NULL);
	/* The From tag is mandatory in RFC 3261 but old clients omit it, and
	 * nothing here needs it: it is not checked. */
	return check_request_headers(request, reject) && check_cseq(request, reject) &&
	       check_max_forwards(request, reject);
}

bool sip_response_check(const osip_message_t *response)
{
	return response->sip_method == NULL && response->status_code >= 100 &&
	       response->status_code <= 699 && osip_list_size(&response->vias) > 0 &&
	       response->from != NULL && response->to != NULL && response->call_id != NULL &&
	       has_text(response->call_id->number) && response->cseq != NULL;
}

/* Responses */

static uint64_t hash_add(uint64_t hash, const char *text)
{
	static const uint64_t fnv_prime = 0x100000001b3ULL;

	/* FNV-1a over TEXT and its terminating 0 byte, so that parts cannot
	 * run together ("ab","c" and "a","bc" differ). */
	if (text != NULL)
		for (; *text != '\0'; text++)
			hash = (hash ^ (unsigned char)*text) * fnv_prime;
	return hash * fnv_prime;
}

/* The To tag of our answer: the same for every retransmission of the
 * request, as RFC 3261 §8.2.6.2 asks, without keeping any state. */
static void response_tag(const osip_message_t *request, char *tag, size_t size)
{
	osip_generic_param_t *from_tag = NULL;
	uint64_t hash = 0xcbf29ce484222325ULL;

	osip_from_get_tag(request->from, &from_tag);
	hash = hash_add(hash, request->call_id->number);
	hash = hash_add(hash, request->call_id->host);
	hash = hash_add(hash, from_tag != NULL ? from_tag->gvalue : NULL);
	hash = hash_add(hash, request->cseq->number);
	hash = hash_add(hash, request->cseq->method);
	snprintf(tag, size, "%016llx", (unsigned long long)hash);
}

static bool response_arguments_ok(int status, const char *reason, const char *extra)
{
	if (status < 100 || status > 699 || reason == NULL || strpbrk(reason, "\r\n") != NULL)
		return false;
	if (extra == NULL || extra[0] == '\0')
		return true;
	size_t length = strlen(extra);
	return length >= 2 && strcmp(extra + length - 2, "\r\n") == 0;
}

/* Whether the response needs our To tag: it has none, and is not a 100
 * (§8.2.6.2).  An empty "tag" parameter is left as it is rather than
 * joined by a second one. */
static bool response_adds_tag(const osip_message_t *request, int status)
{
	osip_generic_param_t *tag = NULL;

	osip_to_get_tag(request->to, &tag);
	return status != 100 && tag == NULL;
}

/* The received fields a response copies (§8.2.6.2), in the order they came. */
static bool copied_to_response(enum sip_header_kind kind)
{
	return kind == SIP_HEADER_VIA || kind == SIP_HEADER_FROM || kind == SIP_HEADER_TO ||
	       kind == SIP_HEADER_CALL_ID || kind == SIP_HEADER_CSEQ;
}

/* Adds the fields of REQUEST a response copies, with our To tag when
 * ADD_TAG, each on its own line. */
static void add_copied_fields(struct text *text, const struct sip_message *request, bool add_tag)
{
	for (size_t i = 0; i < request->headers.n_fields; i++) {
		const struct sip_header *field = &request->headers.fields[i];
		if (!copied_to_response(field->kind))
			continue;
		size_t end = field->end;
		while (end > field->value && is_line_white(request->data[end - 1]))
			end--;
		text_add(text, request->data + field->start, end - field->start);
		if (field->kind == SIP_HEADER_TO && add_tag) {
			char tag[32];
			response_tag(request->osip, tag, sizeof(tag));
			text_add_format(text, ";tag=%s", tag);
		}
		text_add_string(text, "\r\n");
	}
}

static bool response_fields_present(const osip_message_t *parsed)
{
	return osip_list_size(&parsed->vias) > 0 && parsed->from != NULL && parsed->to != NULL &&
	       parsed->call_id != NULL && parsed->cseq != NULL;
}

char *sip_response_build(const struct sip_message *request, int status, const char *reason,
			 const char *extra, size_t *len)
{
	const osip_message_t *parsed = request->osip;
	if (!response_arguments_ok(status, reason, extra) || !response_fields_present(parsed))
		return NULL;

	struct text text = { 0 };
	text_add_format(&text, "SIP/2.0 %d %s\r\n", status, reason);
	add_copied_fields(&text, request, response_adds_tag(parsed, status));
	if (extra != NULL)
		text_add_string(&text, extra);
	text_add_string(&text, "Content-Length: 0\r\n\r\n");
	return text_finish(&text, len);
}

char *sip_response_fields(const struct sip_message *request, size_t *len)
{
	if (!response_fields_present(request->osip))
		return NULL;
	struct text text = { 0 };
	add_copied_fields(&text, request, response_adds_tag(request->osip, 500));
	return text_finish(&text, len);
}

char *sip_response_from_fields(const char *fields, size_t fields_len, int status,
			       const char *reason, const char *extra, size_t *len)
{
	if (status < 200 || !response_arguments_ok(status, reason, extra))
		return NULL;
	struct text text = { 0 };
	text_add_format(&text, "SIP/2.0 %d %s\r\n", status, reason);
	text_add(&text, fields, fields_len);
	if (extra != NULL)
		text_add_string(&text, extra);
	text_add_string(&text, "Content-Length: 0\r\n\r\n");
	return text_finish(&text, len);
}

/* Reading */

/* The values of every field of KIND, counted as headers.h splits them. */
static size_t count_values(const struct sip_message *message, enum sip_header_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < message->headers.n_fields; i++)
		if (message->headers.fields[i].kind == kind)
			n += sip_header_values(message->data, &message->headers.fields[i], NULL, 0);
	return n;
}

/* The edits remove Via and Route values by their place in the received
 * text, where routing chose them by their place in osip's lists: the two
 * must be the same list. */
static const char *readings_differ(const struct sip_message *message)
{
	if (count_values(message, SIP_HEADER_VIA) != (size_t)osip_list_size(&message->osip->vias))
		return "Ambiguous Via";
	if (count_values(message, SIP_HEADER_ROUTE) !=
	    (size_t)osip_list_size(&message->osip->routes))
		return "Ambiguous Route";
	return NULL;
}

struct sip_message *sip_message_read(const char *data, size_t len)
{
	struct sip_message *message = calloc(1, sizeof(*message));
	if (message == NULL)
		return NULL;
	message->data = malloc(len ? len : 1);
	if (message->data == NULL)
		goto fail;
	memcpy(message->data, data, len);
	message->length = len;
	const char *refusal = NULL;
	if (sip_headers_index(message->data, len, &message->headers, &refusal) < 0 &&
	    strcmp(refusal, "Out Of Memory") == 0)
		goto fail;
	message->osip = osip_reading(message->data, len, &message->headers);
	if (message->osip == NULL)
		goto fail;
	message->refusal = refusal != NULL ? refusal : readings_differ(message);
	return message;
fail:
	sip_message_free(message);
	return NULL;
}

void sip_message_free(struct sip_message *message)
{
	if (message == NULL)
		return;
	osip_message_free(message->osip);
	sip_headers_clear(&message->headers);
	free(message->data);
	free(message);
}

/* URIs */

const char *sip_uri_domain(const osip_uri_t *uri)
{
	return uri != NULL && has_text(uri->host) ? uri->host : NULL;
}
