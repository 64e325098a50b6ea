/* message: SIP messages as libosip2 structures.  Parsing and serialising
 * wrap osip with the few corrections a transparent proxy needs, the checks
 * of RFC 3261 §16.3 give each refusal its own reason phrase, and stateless
 * responses (§8.2.6) are written as text directly.
 *
 * What libosip2 5.3 does that matters here (found by experiment):
 * - osip_message_parse() takes a length and reads no further (no NUL
 *   needed), and is lenient: a header with an empty value ("CSeq:") is
 *   dropped as if absent, a CSeq number or Max-Forwards is any text, a
 *   status code outside 100..699 and a version other than SIP/2.0 pass.
 * - It parses the body only when there is a Content-Type: without one a
 *   body is silently dropped, and a multipart body is rebuilt on output
 *   (part headers lower-cased, an extra CRLF).  So osip never sees our
 *   bodies: they are kept as one opaque osip_body_t, byte for byte.
 * - Header names it does not know are stored lower-cased and written back
 *   with the first letter upper-cased ("P-asserted-identity"); we put the
 *   sender's spelling back (osip still upper-cases the first letter).
 *   Compact forms it knows (v f t i m l c e) come out in full; others
 *   ("k:", "o:") stay compact.  Headers are written grouped by kind, in
 *   osip's fixed order, not the sender's; within one name the order is
 *   kept.  Some comma lists are split into one header per value
 *   ("Supported: a, b"), and folded lines are joined with spaces.
 * - osip_message_to_str() caches its output in the message and returns the
 *   cache until osip_message_force_update(): changes made through osip's
 *   lists would otherwise be ignored.
 * - It logs parse errors to stdout unless told otherwise. */
#include "message.h"

#include "framing.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Header text, before osip */

struct header_field {
	size_t start; /* offset of the field in the header block */
	size_t length; /* the field with its continuation lines, without the last line end */
	size_t name_length; /* the name, without white space before the colon */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_line_white(char c)
{
	return is_blank(c) || c == '\r' || c == '\n';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool same_name(const char *name, size_t length, const char *other)
{
	if (length != strlen(other))
		return false;
	for (size_t i = 0; i < length; i++)
		if (ascii_lower(name[i]) != ascii_lower(other[i]))
			return false;
	return true;
}

/* Offset of the line after the one starting at POS (LF ends a line). */
static size_t next_line(const char *block, size_t length, size_t pos)
{
	const char *newline = memchr(block + pos, '\n', length - pos);
	return newline ? (size_t)(newline - block) + 1 : length;
}

static bool line_is_empty(const char *block, size_t length, size_t pos)
{
	return pos < length && (block[pos] == '\n' ||
				(block[pos] == '\r' && pos + 1 < length && block[pos + 1] == '\n'));
}

/* Length of the header block up to and including the blank line, or LEN
 * when there is none.  Same rules as framing: LF ends a line, CR before it
 * is optional. */
static size_t header_block_length(const char *data, size_t len)
{
	size_t pos = 0;
	while (line_is_empty(data, len, pos)) /* empty lines before the start line */
		pos = next_line(data, len, pos);
	while (pos < len) {
		pos = next_line(data, len, pos);
		if (line_is_empty(data, len, pos))
			return next_line(data, len, pos);
	}
	return len;
}

/* Walks the header fields of BLOCK: *POS is 0 before the first call (the
 * start line is skipped), and the walk ends at the blank line. */
static bool next_header_field(const char *block, size_t length, size_t *pos,
			      struct header_field *field)
{
	if (*pos == 0) {
		while (line_is_empty(block, length, *pos))
			*pos = next_line(block, length, *pos);
		*pos = next_line(block, length, *pos);
	}
	if (*pos >= length || line_is_empty(block, length, *pos))
		return false;

	field->start = *pos;
	size_t end = next_line(block, length, *pos);
	while (end < length && is_blank(block[end]))
		end = next_line(block, length, end);
	*pos = end;
	while (end > field->start && (block[end - 1] == '\n' || block[end - 1] == '\r'))
		end--;
	field->length = end - field->start;

	size_t name_length = 0;
	while (name_length < field->length && block[field->start + name_length] != ':' &&
	       !is_blank(block[field->start + name_length]))
		name_length++;
	field->name_length = name_length;
	return true;
}

static bool is_content_length(const char *block, const struct header_field *field)
{
	const char *name = block + field->start;
	return same_name(name, field->name_length, "content-length") ||
	       same_name(name, field->name_length, "l");
}

/* Copies the header block BLOCK into COPY (as large) without its
 * Content-Length fields, so that osip sees no body to parse; *COPY_LENGTH
 * gets the length of the copy.  *LENGTH gets the fields' common value and
 * *FOUND whether there was one.  Returns false when one is not a number or
 * they disagree.  (Blanking the fields in place instead fails: osip refuses
 * a second Content-Length even with the same value, and a header continued
 * by two lines of white space.) */
static bool copy_without_length(const char *block, size_t block_length, char *copy,
				size_t *copy_length, bool *found, size_t *length)
{
	struct header_field field;
	size_t pos = 0;
	size_t copied = 0; /* bytes of BLOCK dealt with */
	size_t out = 0;
	bool valid = true;

	*found = false;
	*length = 0;
	while (next_header_field(block, block_length, &pos, &field)) {
		if (!is_content_length(block, &field))
			continue;
		memcpy(copy + out, block + copied, field.start - copied);
		out += field.start - copied;
		copied = pos; /* the field, its continuations and its line end */

		const char *colon = memchr(block + field.start, ':', field.length);
		const char *value = colon != NULL ? colon + 1 : block + field.start + field.length;
		size_t value_length = field.length - (size_t)(value - (block + field.start));
		size_t number;
		if (colon == NULL || !sip_content_length_value(value, value_length, &number) ||
		    (*found && number != *length))
			valid = false;
		else
			*length = number;
		*found = true;
	}
	memcpy(copy + out, block + copied, block_length - copied);
	*copy_length = out + block_length - copied;
	return valid;
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

/* Gives the headers osip does not know their sender's spelling back.  osip
 * keeps them in order of appearance (splitting some comma lists into
 * consecutive entries), so one walk over both suffices. */
static void restore_header_names(osip_message_t *msg, const char *block, size_t block_length)
{
	osip_list_iterator_t iterator;
	osip_header_t *header = osip_list_get_first(&msg->headers, &iterator);
	struct header_field field;
	size_t pos = 0;

	while (header != NULL && next_header_field(block, block_length, &pos, &field)) {
		const char *name = block + field.start;
		while (header != NULL && header->hname != NULL &&
		       same_name(name, field.name_length, header->hname)) {
			if (memcmp(header->hname, name, field.name_length) != 0)
				memcpy(header->hname, name, field.name_length);
			header = osip_list_get_next(&iterator);
		}
	}
}

/* Stores the body as one opaque part (as osip would without a
 * Content-Type), and its length as the message's Content-Length. */
static bool attach_body(osip_message_t *msg, const char *body, size_t length)
{
	char digits[32];

	snprintf(digits, sizeof(digits), "%zu", length);
	/* osip makes a Content-Length of its own when the text has none. */
	if (msg->content_length != NULL) {
		char *value = osip_strdup(digits);
		if (value == NULL)
			return false;
		osip_free(msg->content_length->value);
		msg->content_length->value = value;
	} else if (osip_message_set_content_length(msg, digits) != 0) {
		return false;
	}
	return length == 0 || osip_message_set_body(msg, body, length) == 0;
}

osip_message_t *sip_message_parse(const char *data, size_t len)
{
	size_t header_length = header_block_length(data, len);
	if (header_length == 0 || memchr(data, '\0', header_length) != NULL)
		return NULL; /* osip would stop at a NUL and misread the rest */

	char *block = malloc(header_length);
	if (block == NULL)
		return NULL;

	osip_message_t *msg = NULL;
	size_t block_length;
	bool found;
	size_t body_length;
	bool length_valid = copy_without_length(data, header_length, block, &block_length, &found,
						&body_length);
	if (header_length == len) {
		/* A header block alone: what framing.h offers to answer when the
		 * Content-Length is bad or too large.  It is not trusted. */
		body_length = 0;
	} else if (!length_valid) {
		goto fail;
	} else if (!found) {
		/* Without Content-Length the body runs to the end (a datagram,
		 * RFC 3261 §18.3); the stream framer passes no more bytes then. */
		body_length = len - header_length;
	} else if (body_length > len - header_length) {
		goto fail;
	}

	if (osip_message_init(&msg) != 0)
		goto fail;
	if (osip_message_parse(msg, block, block_length) != 0)
		goto fail;
	restore_header_names(msg, data, header_length);
	if (!attach_body(msg, data + header_length, body_length))
		goto fail;
	free(block);
	return msg;

fail:
	free(block);
	if (msg != NULL)
		osip_message_free(msg);
	return NULL;
}

/* Text building */

struct text {
	char *data;
	size_t length;
	size_t capacity;
	bool failed;
};

static void text_add(struct text *text, const char *bytes, size_t length)
{
	if (text->failed)
		return;
	if (text->capacity - text->length < length + 1) {
		size_t capacity = text->capacity ? text->capacity : 512;
		while (capacity - text->length < length + 1)
			capacity *= 2;
		char *data = realloc(text->data, capacity);
		if (data == NULL) {
			text->failed = true;
			return;
		}
		text->data = data;
		text->capacity = capacity;
	}
	memcpy(text->data + text->length, bytes, length);
	text->length += length;
	text->data[text->length] = '\0';
}

static void text_add_string(struct text *text, const char *string)
{
	text_add(text, string, strlen(string));
}

/* Adds "NAME: VALUE\r\n" with *VALUE from an osip to_str function that
 * returned TO_STR_RESULT, and frees *VALUE. */
static void text_add_header(struct text *text, const char *name, int to_str_result, char **value)
{
	if (to_str_result != 0 || *value == NULL) {
		text->failed = true;
	} else {
		text_add_string(text, name);
		text_add_string(text, ": ");
		text_add_string(text, *value);
		text_add_string(text, "\r\n");
	}
	if (*value != NULL) {
		osip_free(*value);
	}
	*value = NULL;
}

/* Hands over TEXT's buffer, or NULL (freeing it) when building failed. */
static char *text_finish(struct text *text, size_t *len)
{
	if (text->failed || text->data == NULL) {
		free(text->data);
		return NULL;
	}
	*len = text->length;
	return text->data;
}

/* Serialising */

static const char empty_length_tail[] = "Content-Length: 0\r\n\r\n";

/* Multiple bodies, or a body with its own headers, were made with osip's
 * API rather than parsed here: let osip write them as it understands them. */
static char *serialise_by_osip(osip_message_t *msg, size_t *len)
{
	char *osip_text = NULL;
	size_t osip_length;
	struct text text = { 0 };

	osip_message_force_update(msg);
	if (osip_message_to_str(msg, &osip_text, &osip_length) != 0)
		return NULL;
	text_add(&text, osip_text, osip_length);
	osip_free(osip_text);
	return text_finish(&text, len);
}

static bool is_opaque_body(const osip_body_t *body)
{
	return body->content_type == NULL &&
	       (body->headers == NULL || osip_list_size(body->headers) == 0);
}

char *sip_message_serialise(const osip_message_t *message, size_t *len)
{
	/* osip keeps a cache of its output in the message itself, so writing
	 * it out changes the structure though not the message. */
	osip_message_t *msg = (osip_message_t *)message;
	int body_count = osip_list_size(&msg->bodies);
	osip_body_t *body = body_count == 1 ? osip_list_get(&msg->bodies, 0) : NULL;

	if (body_count > 1 || (body != NULL && !is_opaque_body(body)))
		return serialise_by_osip(msg, len);

	/* osip writes the headers with "Content-Length: 0" and no body; the
	 * real length and the body bytes are added here, untouched. */
	osip_list_t bodies = msg->bodies;
	osip_list_init(&msg->bodies);
	osip_message_force_update(msg);
	char *osip_text = NULL;
	size_t osip_length = 0;
	int result = osip_message_to_str(msg, &osip_text, &osip_length);
	msg->bodies = bodies;
	osip_message_force_update(msg); /* its cache lacks the body */
	if (result != 0)
		return NULL;

	size_t tail = sizeof(empty_length_tail) - 1;
	struct text text = { 0 };
	if (osip_length < tail ||
	    memcmp(osip_text + osip_length - tail, empty_length_tail, tail) != 0) {
		text.failed = true;
	} else {
		char length_line[64];
		size_t body_length = body != NULL ? body->length : 0;
		snprintf(length_line, sizeof(length_line), "Content-Length: %zu\r\n\r\n",
			 body_length);
		text_add(&text, osip_text, osip_length - tail);
		text_add_string(&text, length_line);
		if (body_length > 0)
			text_add(&text, body->body, body_length);
	}
	osip_free(osip_text);
	return text_finish(&text, len);
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

/* The To header of the response, with our tag when it has none. */
static int response_to_str(const osip_message_t *request, int status, char **dest)
{
	osip_generic_param_t *tag = NULL;

	osip_to_get_tag(request->to, &tag);
	if (status == 100 || (tag != NULL && has_text(tag->gvalue)))
		return osip_to_to_str(request->to, dest);

	char tag_value[32];
	response_tag(request, tag_value, sizeof(tag_value));
	osip_to_t *to = NULL;
	if (osip_to_clone(request->to, &to) != 0)
		return -1;
	int result = -1;
	osip_generic_param_t *empty_tag = NULL;
	osip_to_get_tag(to, &empty_tag);
	char *value = osip_strdup(tag_value);
	if (value != NULL && empty_tag != NULL) {
		/* "tag" or "tag=" with no value: fill it rather than add a second. */
		osip_free(empty_tag->gvalue);
		empty_tag->gvalue = value;
		result = 0;
	} else if (value != NULL) {
		result = osip_to_set_tag(to, value);
	}
	if (result == 0)
		result = osip_to_to_str(to, dest);
	osip_to_free(to);
	return result;
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

char *sip_response_build(const osip_message_t *request, int status, const char *reason,
			 const char *extra, size_t *len)
{
	if (!response_arguments_ok(status, reason, extra) || osip_list_size(&request->vias) <= 0 ||
	    request->from == NULL || request->to == NULL || request->call_id == NULL ||
	    request->cseq == NULL)
		return NULL;

	struct text text = { 0 };
	char status_line[32];
	snprintf(status_line, sizeof(status_line), "SIP/2.0 %d ", status);
	text_add_string(&text, status_line);
	text_add_string(&text, reason);
	text_add_string(&text, "\r\n");

	osip_list_iterator_t iterator;
	osip_list_t *vias = (osip_list_t *)&request->vias;
	char *value = NULL;
	int result;
	for (osip_via_t *via = osip_list_get_first(vias, &iterator); via != NULL;
	     via = osip_list_get_next(&iterator)) {
		result = osip_via_to_str(via, &value);
		text_add_header(&text, "Via", result, &value);
	}
	result = osip_from_to_str(request->from, &value);
	text_add_header(&text, "From", result, &value);
	result = response_to_str(request, status, &value);
	text_add_header(&text, "To", result, &value);
	result = osip_call_id_to_str(request->call_id, &value);
	text_add_header(&text, "Call-ID", result, &value);
	result = osip_cseq_to_str(request->cseq, &value);
	text_add_header(&text, "CSeq", result, &value);
	if (extra != NULL)
		text_add_string(&text, extra);
	text_add_string(&text, empty_length_tail);
	return text_finish(&text, len);
}

/* URIs */

const char *sip_uri_domain(const osip_uri_t *uri)
{
	return uri != NULL && has_text(uri->host) ? uri->host : NULL;
}
