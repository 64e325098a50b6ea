/* SPDX-License-Identifier: ISC */
/* xml_write: the serializer.  Everything the edge writes on an XMPP stream
 * is written from a tree, never copied from received bytes, so that what a
 * peer reads is exactly the tree the edge checked.  Output uses no element
 * prefixes but stream: (declared by every stream header) and generated
 * ones for namespaced attributes, and refuses what it cannot write so that
 * it reads back the same: a name that is no NCName, text or a value that is
 * not XML characters in UTF-8, a reserved namespace in the wrong place. */
#ifndef SXEDGE_XMPP_XML_WRITE_H
#define SXEDGE_XMPP_XML_WRITE_H

#include <event2/buffer.h>

#include "xml_tree.h"

/* The namespace of namespace declarations: a header attribute in it is
 * written as a declaration (xmlns:db='jabber:server:dialback'). */
#define XMLNS_NAMESPACE "http://www.w3.org/2000/xmlns/"

/* Writes ELEMENT as XML into OUT as it must appear inside a stream whose
 * default namespace is DEFAULT_NS ("jabber:server"; NULL: none):
 * unprefixed element names (elements of the streams namespace as
 * stream:NAME), xmlns='…' wherever an element's namespace differs from the
 * one in scope, attribute namespaces with generated prefixes (ns1, ns2…)
 * declared on the element (xml: for the XML namespace, never declared),
 * text and attribute values escaped (& < > " ', and in values tab, CR and
 * LF, which a parser would otherwise normalise), so that any conforming
 * parser reads back exactly the tree.  -1 (OUT unchanged): something in the
 * tree cannot be written so, or OOM. */
int xml_write_element(struct evbuffer *out, const struct xml_element *element,
		      const char *default_ns);

/* "<?xml version='1.0'?><stream:stream xmlns='DEFAULT_NS'
 * xmlns:stream='http://etherx.jabber.org/streams'" + HEADER's attributes
 * (to, from, id, version, xml:lang…; those in XMLNS_NAMESPACE as further
 * declarations) + ">" (never closed here).  HEADER's name and children are
 * not written.  -1 (OUT unchanged): as for xml_write_element. */
int xml_write_stream_open(struct evbuffer *out, const struct xml_element *header,
			  const char *default_ns);
int xml_write_stream_close(struct evbuffer *out); /* "</stream:stream>" */

#endif
