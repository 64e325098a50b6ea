/* SPDX-License-Identifier: ISC */
/* stream_error: condition names in enum order, and the error element built
 * as a tree so that the writer does the escaping. */
#include "stream_error.h"

#include <string.h>

#include "xml_tree.h"
#include "xml_write.h"

static const char *const names[] = {
	[XMPP_STREAM_OK] = "ok",
	[XMPP_STREAM_BAD_FORMAT] = "bad-format",
	[XMPP_STREAM_CONNECTION_TIMEOUT] = "connection-timeout",
	[XMPP_STREAM_HOST_UNKNOWN] = "host-unknown",
	[XMPP_STREAM_IMPROPER_ADDRESSING] = "improper-addressing",
	[XMPP_STREAM_INTERNAL_SERVER_ERROR] = "internal-server-error",
	[XMPP_STREAM_INVALID_FROM] = "invalid-from",
	[XMPP_STREAM_INVALID_NAMESPACE] = "invalid-namespace",
	[XMPP_STREAM_NOT_AUTHORIZED] = "not-authorized",
	[XMPP_STREAM_NOT_WELL_FORMED] = "not-well-formed",
	[XMPP_STREAM_POLICY_VIOLATION] = "policy-violation",
	[XMPP_STREAM_REMOTE_CONNECTION_FAILED] = "remote-connection-failed",
	[XMPP_STREAM_RESOURCE_CONSTRAINT] = "resource-constraint",
	[XMPP_STREAM_RESTRICTED_XML] = "restricted-xml",
	[XMPP_STREAM_SYSTEM_SHUTDOWN] = "system-shutdown",
	[XMPP_STREAM_UNDEFINED_CONDITION] = "undefined-condition",
	[XMPP_STREAM_UNSUPPORTED_STANZA_TYPE] = "unsupported-stanza-type",
	[XMPP_STREAM_UNSUPPORTED_VERSION] = "unsupported-version",
};

const char *xmpp_stream_error_name(enum xmpp_stream_error error)
{
	if ((unsigned)error >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[error];
}

int xmpp_write_stream_error(struct evbuffer *out, enum xmpp_stream_error error, const char *text)
{
	if (error == XMPP_STREAM_OK || xmpp_stream_error_name(error) == NULL)
		return -1;
	/* The writer gives elements of the streams namespace the stream:
	 * prefix that every stream header declares. */
	struct xml_element *element = xml_element_new(XMPP_STREAMS_NAMESPACE, "error");
	int result = -1;
	if (element == NULL || xml_element_add_child(element, XMPP_STREAM_ERRORS_NAMESPACE,
						     xmpp_stream_error_name(error)) == NULL)
		goto done;
	if (text != NULL) {
		struct xml_element *description =
			xml_element_add_child(element, XMPP_STREAM_ERRORS_NAMESPACE, "text");
		if (description == NULL ||
		    xml_element_add_text(description, text, strlen(text)) < 0)
			goto done;
	}
	result = xml_write_element(out, element, NULL);
done:
	xml_element_free(element);
	return result;
}
