/* SPDX-License-Identifier: ISC */
/* xml_write: writes into a scratch buffer that is handed over whole, so a
 * refusal half-way leaves nothing behind on the stream. */
#include "xml_write.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream_error.h"
#include "xml_chars.h"

static bool same_namespace(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Escapes LEN bytes of TEXT; IN_VALUE: inside an attribute value, where a
 * parser turns a literal tab, CR or LF into a space. */
static int add_escaped(struct evbuffer *out, const char *text, size_t len, bool in_value)
{
	if (!xml_chars_valid(text, len))
		return -1;
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *escape = NULL;
		switch (text[i]) {
		case '&':
			escape = "&amp;";
			break;
		case '<':
			escape = "&lt;";
			break;
		case '>':
			escape = "&gt;";
			break;
		case '"':
			escape = "&quot;";
			break;
		case '\'':
			escape = "&apos;";
			break;
		case '\r': /* normalised to LF even in text */
			escape = "&#13;";
			break;
		case '\n':
			escape = in_value ? "&#10;" : NULL;
			break;
		case '\t':
			escape = in_value ? "&#9;" : NULL;
			break;
		}
		if (escape == NULL)
			continue;
		if (evbuffer_add(out, text + start, i - start) < 0 ||
		    evbuffer_add(out, escape, strlen(escape)) < 0)
			return -1;
		start = i + 1;
	}
	return evbuffer_add(out, text + start, len - start);
}

/* " NAME='VALUE'", PREFIX: before NAME with a colon. */
static int add_attribute(struct evbuffer *out, const char *prefix, const char *name,
			 const char *value)
{
	if (evbuffer_add_printf(out, " %s%s%s='", prefix != NULL ? prefix : "",
				prefix != NULL ? ":" : "", name) < 0 ||
	    add_escaped(out, value, strlen(value), true) < 0)
		return -1;
	return evbuffer_add(out, "'", 1);
}

/* Attributes */

/* An attribute namespace that gets a generated prefix. */
static bool prefixed(const char *ns)
{
	return ns != NULL && strcmp(ns, XML_NAMESPACE) != 0 && strcmp(ns, XMLNS_NAMESPACE) != 0;
}

/* nsN, a prefix the writer makes itself. */
static bool generated_prefix(const char *name)
{
	return strncmp(name, "ns", 2) == 0 && name[2] != '\0' &&
	       strspn(name + 2, "0123456789") == strlen(name + 2);
}

/* Writes attribute INDEX of E.  Each namespace that needs a prefix gets
 * nsN, N counted in the order namespaces first appear (NUMBERS[INDEX],
 * *NEXT the next free one), declared where it first appears.
 * DECLARATIONS: an attribute in XMLNS_NAMESPACE is a declaration (the
 * stream header's), else it is refused. */
static int add_one_attribute(struct evbuffer *out, const struct xml_element *e, size_t index,
			     bool declarations, unsigned *numbers, unsigned *next)
{
	const struct xml_attribute *attribute = xml_element_attribute_at(e, index);
	bool first = true;
	char prefix[24];

	if (!xml_chars_ncname(attribute->name))
		return -1;
	if (attribute->ns == NULL) /* an unprefixed xmlns would be a declaration */
		return strcmp(attribute->name, "xmlns") == 0
			       ? -1
			       : add_attribute(out, NULL, attribute->name, attribute->value);
	if (strcmp(attribute->ns, XML_NAMESPACE) == 0)
		return add_attribute(out, "xml", attribute->name, attribute->value);
	if (strcmp(attribute->ns, XMLNS_NAMESPACE) == 0) {
		/* never a prefix the writer uses itself, nor an undeclaration */
		if (!declarations || strncmp(attribute->name, "xml", 3) == 0 ||
		    strcmp(attribute->name, "stream") == 0 || generated_prefix(attribute->name) ||
		    attribute->value[0] == '\0')
			return -1;
		return add_attribute(out, "xmlns", attribute->name, attribute->value);
	}
	numbers[index] = *next;
	for (size_t j = 0; j < index && first; j++) {
		const char *earlier = xml_element_attribute_at(e, j)->ns;
		if (prefixed(earlier) && strcmp(earlier, attribute->ns) == 0) {
			numbers[index] = numbers[j];
			first = false;
		}
	}
	snprintf(prefix, sizeof(prefix), "ns%u", numbers[index]);
	if (first) {
		(*next)++;
		if (add_attribute(out, "xmlns", prefix, attribute->ns) < 0)
			return -1;
	}
	return add_attribute(out, prefix, attribute->name, attribute->value);
}

static int add_attributes(struct evbuffer *out, const struct xml_element *e, bool declarations)
{
	size_t count = xml_element_attribute_count(e);
	unsigned *numbers = calloc(count > 0 ? count : 1, sizeof(*numbers));
	unsigned next = 1;
	int result = numbers != NULL ? 0 : -1;

	for (size_t i = 0; i < count && result == 0; i++)
		result = add_one_attribute(out, e, i, declarations, numbers, &next);
	free(numbers);
	return result;
}

/* Elements */

/* A namespace no element may be in (a parser refuses to declare them). */
static bool reserved_namespace(const char *ns)
{
	return ns != NULL && (strcmp(ns, XML_NAMESPACE) == 0 || strcmp(ns, XMLNS_NAMESPACE) == 0);
}

static int add_element(struct evbuffer *out, const struct xml_element *e, const char *in_scope)
{
	const char *ns = xml_element_ns(e);
	const char *name = xml_element_name(e);
	bool stream_prefix = same_namespace(ns, XMPP_STREAMS_NAMESPACE);

	if (!xml_chars_ncname(name) || reserved_namespace(ns))
		return -1;
	if (evbuffer_add_printf(out, "<%s%s", stream_prefix ? "stream:" : "", name) < 0)
		return -1;
	if (!stream_prefix && !same_namespace(ns, in_scope)) {
		if (add_attribute(out, NULL, "xmlns", ns != NULL ? ns : "") < 0)
			return -1;
		in_scope = ns;
	}
	if (add_attributes(out, e, false) < 0)
		return -1;
	size_t count = xml_element_node_count(e);
	if (count == 0)
		return evbuffer_add(out, "/>", 2);
	if (evbuffer_add(out, ">", 1) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const char *text;
		size_t len;
		const struct xml_element *child = xml_element_node(e, i, &text, &len);
		if (child != NULL ? add_element(out, child, in_scope) < 0
				  : add_escaped(out, text, len, false) < 0)
			return -1;
	}
	return evbuffer_add_printf(out, "</%s%s>", stream_prefix ? "stream:" : "", name) < 0 ? -1
											     : 0;
}

/* Hands SCRATCH over to OUT when WRITTEN succeeded; frees it either way. */
static int hand_over(struct evbuffer *out, struct evbuffer *scratch, int written)
{
	int result = written == 0 && evbuffer_add_buffer(out, scratch) == 0 ? 0 : -1;
	evbuffer_free(scratch);
	return result;
}

int xml_write_element(struct evbuffer *out, const struct xml_element *element,
		      const char *default_ns)
{
	struct evbuffer *scratch = evbuffer_new();
	if (scratch == NULL)
		return -1;
	if (default_ns != NULL && default_ns[0] == '\0')
		default_ns = NULL;
	return hand_over(out, scratch, add_element(scratch, element, default_ns));
}

/* Streams */

static int add_stream_open(struct evbuffer *out, const struct xml_element *header,
			   const char *default_ns)
{
	if (evbuffer_add_printf(out, "<?xml version='1.0'?><stream:stream") < 0)
		return -1;
	if (default_ns != NULL && default_ns[0] != '\0' &&
	    (reserved_namespace(default_ns) || add_attribute(out, NULL, "xmlns", default_ns) < 0))
		return -1;
	if (add_attribute(out, "xmlns", "stream", XMPP_STREAMS_NAMESPACE) < 0 ||
	    add_attributes(out, header, true) < 0)
		return -1;
	return evbuffer_add(out, ">", 1);
}

int xml_write_stream_open(struct evbuffer *out, const struct xml_element *header,
			  const char *default_ns)
{
	struct evbuffer *scratch = evbuffer_new();
	if (scratch == NULL)
		return -1;
	return hand_over(out, scratch, add_stream_open(scratch, header, default_ns));
}

int xml_write_stream_close(struct evbuffer *out)
{
	static const char close[] = "</stream:stream>";
	return evbuffer_add(out, close, sizeof(close) - 1);
}
