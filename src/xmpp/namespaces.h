/* SPDX-License-Identifier: ISC */
/* namespaces: the XML namespaces of XMPP server-to-server negotiation and
 * stanzas (the stream's own and its errors' are in stream_error.h). */
#ifndef SXEDGE_XMPP_NAMESPACES_H
#define SXEDGE_XMPP_NAMESPACES_H

#include "stream_error.h"

#define XMPP_SERVER_NAMESPACE		"jabber:server" /* the default one of s2s streams */
#define XMPP_STANZA_ERRORS_NAMESPACE	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define XMPP_TLS_NAMESPACE		"urn:ietf:params:xml:ns:xmpp-tls"
#define XMPP_SASL_NAMESPACE		"urn:ietf:params:xml:ns:xmpp-sasl"
#define XMPP_DIALBACK_NAMESPACE		"jabber:server:dialback" /* XEP-0220 */
#define XMPP_DIALBACK_FEATURE_NAMESPACE "urn:xmpp:features:dialback"
#define XMPP_BIDI_FEATURE_NAMESPACE	"urn:xmpp:features:bidi" /* XEP-0288 */
#define XMPP_BIDI_NAMESPACE		"urn:xmpp:bidi"

#endif
