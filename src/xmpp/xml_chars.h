/* SPDX-License-Identifier: ISC */
/* xml_chars: what XML 1.0 (fifth edition) allows as characters and as
 * names without a colon (NCName, Namespaces in XML §3), checked on UTF-8
 * strings before the writer puts them in markup. */
#ifndef SXEDGE_XMPP_XML_CHARS_H
#define SXEDGE_XMPP_XML_CHARS_H

#include <stdbool.h>
#include <stddef.h>

/* LEN bytes of well-formed UTF-8, every code point a Char (XML 1.0 §2.2). */
bool xml_chars_valid(const char *text, size_t len);
/* A non-empty NCName in UTF-8. */
bool xml_chars_ncname(const char *name);

#endif
