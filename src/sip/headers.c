/* SPDX-License-Identifier: ISC */
/* headers: the index of a received message's start line and header fields.
 *
 * Framing has already refused bare CR, bare LF and control bytes, so every
 * line here ends in CRLF and a field's continuation lines start with a
 * blank.  What is left to refuse is of the message, not the stream: the
 * sender gets a 400 and the connection goes on. */
#include "headers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- characters --------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_white(char c)
{
	return is_blank(c) || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" /
 * "+" / "`" / "'" / "~"). */
static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       (c != '\0' && strchr("-.!%*_+`'~", c) != NULL);
}

/* Length of the token at DATA[AT..END), 0 when there is none. */
static size_t token_length(const char *data, size_t at, size_t end)
{
	size_t i = at;
	while (i < end && is_token_char(data[i]))
		i++;
	return i - at;
}

/* ---- the start line ----------------------------------------------------- */

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; which version is a matter
 * for the checks (505), not for the form.  Returns its length or 0. */
static size_t version_length(const char *data, size_t at, size_t end)
{
	size_t i = at + 4;

	if (end - at < 7 || strncasecmp(data + at, "SIP/", 4) != 0)
		return 0;
	size_t digits = i;
	while (i < end && is_digit(data[i]))
		i++;
	if (i == digits || i == end || data[i] != '.')
		return 0;
	digits = ++i;
	while (i < end && is_digit(data[i]))
		i++;
	return i == digits ? 0 : i - at;
}

/* Request-Line = Method SP Request-URI SP SIP-Version, one space each. */
static bool request_line_ok(const char *data, size_t end)
{
	size_t method = token_length(data, 0, end);
	size_t uri = method + 1;
	size_t i = uri;

	if (method == 0 || i >= end || data[method] != ' ')
		return false;
	while (i < end && data[i] > ' ' && data[i] < 0x7f)
		i++;
	if (i == uri || i == end || data[i] != ' ')
		return false;
	return version_length(data, i + 1, end) == end - i - 1;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase. */
static bool status_line_ok(const char *data, size_t end)
{
	size_t version = version_length(data, 0, end);

	return version > 0 && end - version >= 5 && data[version] == ' ' &&
	       is_digit(data[version + 1]) && is_digit(data[version + 2]) &&
	       is_digit(data[version + 3]) && data[version + 4] == ' ';
}

/* ---- header names ------------------------------------------------------- */

struct header_name {
	const char *name;
	enum sip_header_kind kind;
};

/* Full and compact forms (RFC 3261 §7.3.3) of the headers the edge reads
 * or edits; all others are copied as they came. */
static const struct header_name header_names[] = {
	{ "via", SIP_HEADER_VIA },
	{ "v", SIP_HEADER_VIA },
	{ "route", SIP_HEADER_ROUTE },
	{ "record-route", SIP_HEADER_RECORD_ROUTE },
	{ "path", SIP_HEADER_PATH },
	{ "max-forwards", SIP_HEADER_MAX_FORWARDS },
	{ "content-length", SIP_HEADER_CONTENT_LENGTH },
	{ "l", SIP_HEADER_CONTENT_LENGTH },
	{ "content-type", SIP_HEADER_CONTENT_TYPE },
	{ "c", SIP_HEADER_CONTENT_TYPE },
	{ "from", SIP_HEADER_FROM },
	{ "f", SIP_HEADER_FROM },
	{ "to", SIP_HEADER_TO },
	{ "t", SIP_HEADER_TO },
	{ "call-id", SIP_HEADER_CALL_ID },
	{ "i", SIP_HEADER_CALL_ID },
	{ "cseq", SIP_HEADER_CSEQ },
	{ "p-asserted-identity", SIP_HEADER_IDENTITY },
	{ "p-preferred-identity", SIP_HEADER_IDENTITY },
	{ "remote-party-id", SIP_HEADER_IDENTITY },
	{ "ms-edge-proxy-message-trust", SIP_HEADER_IDENTITY },
};

static enum sip_header_kind header_kind(const char *name, size_t length)
{
	for (size_t i = 0; i < sizeof(header_names) / sizeof(header_names[0]); i++)
		if (strlen(header_names[i].name) == length &&
		    strncasecmp(name, header_names[i].name, length) == 0)
			return header_names[i].kind;
	return SIP_HEADER_OTHER;
}

/* The headers a message may have only once, with the 400 reason for two:
 * with two, osip reads the first and another stack may read the last. */
static const char *duplicate_reason(enum sip_header_kind kind)
{
	switch (kind) {
	case SIP_HEADER_FROM:
		return "Duplicate From";
	case SIP_HEADER_TO:
		return "Duplicate To";
	case SIP_HEADER_CALL_ID:
		return "Duplicate Call-ID";
	case SIP_HEADER_CSEQ:
		return "Duplicate CSeq";
	case SIP_HEADER_MAX_FORWARDS:
		return "Duplicate Max-Forwards";
	case SIP_HEADER_CONTENT_TYPE:
		return "Duplicate Content-Type";
	case SIP_HEADER_CONTENT_LENGTH:
		return "Duplicate Content-Length";
	default:
		return NULL;
	}
}

/* ---- the index ---------------------------------------------------------- */

/* The CR of the CRLF ending the line at AT.  Framing guarantees one; on
 * bytes it did not pass, LEN (or the LF) keeps every offset in bounds and
 * the block end past LEN refuses them. */
static size_t line_end(const char *data, size_t len, size_t at)
{
	const char *newline = at < len ? memchr(data + at, '\n', len - at) : NULL;
	if (newline == NULL)
		return len;
	size_t lf = (size_t)(newline - data);
	return lf > at && data[lf - 1] == '\r' ? lf - 1 : lf;
}

static int headers_add(struct sip_headers *headers, const struct sip_header *field,
		       size_t *capacity)
{
	if (headers->n_fields == *capacity) {
		size_t grown = *capacity ? *capacity * 2 : 16;
		struct sip_header *fields = realloc(headers->fields, grown * sizeof(*fields));
		if (fields == NULL)
			return -1;
		headers->fields = fields;
		*capacity = grown;
	}
	headers->fields[headers->n_fields++] = *field;
	headers->counts[field->kind]++;
	return 0;
}

/* Reads the field starting at AT: its name and colon on the first line.
 * Returns the reason it is refused, or NULL. */
static const char *field_read(const char *data, size_t len, size_t at, struct sip_header *field)
{
	size_t first_end = line_end(data, len, at);
	size_t name = token_length(data, at, first_end);
	size_t colon = at + name;

	while (colon < first_end && is_blank(data[colon]))
		colon++;
	field->start = at;
	field->value = colon + 1;
	field->kind = header_kind(data + at, name);
	const char *refusal = NULL;
	if (name == 0 || colon == first_end || data[colon] != ':') {
		/* Kept as a field of no kind, so that nothing of it is read. */
		refusal = "Bad Header Name";
		field->value = at;
		field->kind = SIP_HEADER_OTHER;
	}
	/* Continuation lines start with a blank (RFC 3261 §7.3.1). */
	field->end = first_end;
	while (field->end + 2 < len && is_blank(data[field->end + 2]))
		field->end = line_end(data, len, field->end + 2);
	return refusal;
}

int sip_headers_index(const char *data, size_t len, struct sip_headers *headers,
		      const char **reason)
{
	size_t capacity = 0;

	memset(headers, 0, sizeof(*headers));
	*reason = NULL;
	headers->start_line_end = line_end(data, len, 0);
	size_t start_end = headers->start_line_end;
	if (start_end >= len ||
	    !(request_line_ok(data, start_end) || status_line_ok(data, start_end)))
		*reason = "Bad Start Line";
	else if (start_end + 2 < len && is_blank(data[start_end + 2]))
		*reason = "Folded Start Line";

	/* Every field is indexed even after a refusal, so that the 400 can
	 * still be built from the Via, From, To, Call-ID and CSeq received. */
	size_t at = start_end + 2;
	while (at + 1 < len && data[at] != '\r') {
		struct sip_header field;
		const char *refusal = field_read(data, len, at, &field);
		if (refusal == NULL && headers->counts[field.kind] > 0)
			refusal = duplicate_reason(field.kind);
		if (*reason == NULL)
			*reason = refusal;
		if (headers_add(headers, &field, &capacity) < 0) {
			*reason = "Out Of Memory";
			return -1;
		}
		at = field.end + 2;
	}
	headers->block_end = at + 2;
	if (*reason == NULL && headers->block_end > len)
		*reason = "Bad Header Block";
	return *reason == NULL ? 0 : -1;
}

void sip_headers_clear(struct sip_headers *headers)
{
	free(headers->fields);
	memset(headers, 0, sizeof(*headers));
}

/* ---- values ------------------------------------------------------------- */

static void value_add(const char *data, size_t start, size_t end, struct sip_value *out, size_t max,
		      size_t *n)
{
	while (start < end && is_white(data[start]))
		start++;
	while (end > start && is_white(data[end - 1]))
		end--;
	if (*n < max)
		out[*n] = (struct sip_value){ start, end };
	(*n)++;
}

size_t sip_header_values(const char *data, const struct sip_header *field, struct sip_value *out,
			 size_t max)
{
	size_t n = 0, start = field->value;
	bool quoted = false;
	unsigned angle = 0;

	for (size_t i = field->value; i < field->end; i++) {
		char c = data[i];
		if (quoted) {
			if (c == '\\' && i + 1 < field->end)
				i++;
			else if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle++;
		} else if (c == '>' && angle > 0) {
			angle--;
		} else if (c == ',' && angle == 0) {
			value_add(data, start, i, out, max, &n);
			start = i + 1;
		}
	}
	value_add(data, start, field->end, out, max, &n);
	return n;
}
