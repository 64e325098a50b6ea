/* SPDX-License-Identifier: ISC */
/* headers: where the start line and each header field of a framed SIP
 * message lie in the bytes as received, and what kind each field is.
 *
 * The edge forwards those bytes, edited in place (edit.h), so this index
 * is what the edits work on; libosip2's reading of the same bytes is only
 * used to check and route.  Indexing also refuses what a next hop could
 * read differently from osip: a start line or header name that is not of
 * RFC 3261's form, a line folded onto the start line, or a second From, To,
 * Call-ID, CSeq, Max-Forwards or Content-Type. */
#ifndef SXEDGE_SIP_HEADERS_H
#define SXEDGE_SIP_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

enum sip_header_kind {
	SIP_HEADER_OTHER,
	SIP_HEADER_VIA,
	SIP_HEADER_ROUTE,
	SIP_HEADER_RECORD_ROUTE,
	SIP_HEADER_PATH,
	SIP_HEADER_MAX_FORWARDS,
	SIP_HEADER_CONTENT_LENGTH,
	SIP_HEADER_CONTENT_TYPE,
	SIP_HEADER_FROM,
	SIP_HEADER_TO,
	SIP_HEADER_CALL_ID,
	SIP_HEADER_CSEQ,
	/* Headers by which a request asserts who sent it, which only the pool
	 * may send (RFC 3325 §5; ms-edge-proxy-message-trust is what a
	 * Lync/Skype for Business pool trusts from its edge). */
	SIP_HEADER_IDENTITY,
	SIP_HEADER_KIND_COUNT,
};

/* One header field, continuation lines included.  Offsets are from the
 * start of the message. */
struct sip_header {
	size_t start; /* first byte of its name */
	size_t value; /* first byte after the colon */
	size_t end; /* the CR of the CRLF that ends its last line */
	enum sip_header_kind kind;
};

struct sip_headers {
	size_t start_line_end; /* the CR of the CRLF ending the start line */
	size_t block_end; /* first byte after the blank line: where the body starts */
	struct sip_header *fields; /* in the order received */
	size_t n_fields;
	unsigned counts[SIP_HEADER_KIND_COUNT]; /* fields of each kind */
};

/* Indexes the header block of the LEN bytes at DATA, which framing found
 * to be one message (CRLF line ends only, no control bytes).  Returns 0;
 * or -1 with *REASON, a reason phrase for a 400, when the message is not
 * of the form the edge relays: every field is indexed all the same (a
 * field with a bad name as SIP_HEADER_OTHER), so the 400 can be built.
 * Only "Out Of Memory" leaves the index incomplete.  HEADERS is freed with
 * sip_headers_clear() either way. */
int sip_headers_index(const char *data, size_t len, struct sip_headers *headers,
		      const char **reason);
void sip_headers_clear(struct sip_headers *headers);

/* One comma-separated value of a header field, white space around it and
 * line folds trimmed. */
struct sip_value {
	size_t start;
	size_t end;
};

/* Splits FIELD's value at the commas that separate values (RFC 3261 §7.3.1),
 * not those inside a quoted string or <...>.  Writes at most MAX values to
 * OUT and returns how many there are in all. */
size_t sip_header_values(const char *data, const struct sip_header *field, struct sip_value *out,
			 size_t max);

#endif
