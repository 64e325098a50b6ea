/* SPDX-License-Identifier: ISC */
/* namespaces: the XML namespaces of XMPP server-to-server streams. */
#ifndef SXEDGE_XMPP_NAMESPACES_H
#define SXEDGE_XMPP_NAMESPACES_H

#define XMPP_NS_STREAMS		 "http://etherx.jabber.org/streams"
#define XMPP_NS_SERVER		 "jabber:server" /* the default namespace of s2s streams */
#define XMPP_NS_STREAM_ERRORS	 "urn:ietf:params:xml:ns:xmpp-streams"
#define XMPP_NS_STANZA_ERRORS	 "urn:ietf:params:xml:ns:xmpp-stanzas"
#define XMPP_NS_TLS		 "urn:ietf:params:xml:ns:xmpp-tls"
#define XMPP_NS_SASL		 "urn:ietf:params:xml:ns:xmpp-sasl"
#define XMPP_NS_DIALBACK	 "jabber:server:dialback" /* XEP-0220 */
#define XMPP_NS_DIALBACK_FEATURE "urn:xmpp:features:dialback"
#define XMPP_NS_BIDI_FEATURE	 "urn:xmpp:features:bidi" /* XEP-0288 */
#define XMPP_NS_BIDI		 "urn:xmpp:bidi"
#define XMPP_NS_XML		 "http://www.w3.org/XML/1998/namespace"

#endif
