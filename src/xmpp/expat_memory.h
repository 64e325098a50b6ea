/* SPDX-License-Identifier: ISC */
/* expat_memory: expat parsers whose every allocation is counted into a
 * counter of their owner's, so that a stream can say exactly how much
 * memory its parser holds (expat's input buffer, tag stack, name pools). */
#ifndef SXEDGE_XMPP_EXPAT_MEMORY_H
#define SXEDGE_XMPP_EXPAT_MEMORY_H

#include <expat.h>
#include <stddef.h>

/* XML_ParserCreate_MM(ENCODING, counting allocator, SEPARATOR); what the
 * parser allocates from now on is added to *COUNTER (and what it frees
 * taken off), which must outlive the parser. */
XML_Parser expat_memory_parser(const XML_Char *encoding, XML_Char separator, size_t *counter);
/* Expat allocations are counted into the counter of whichever parser is
 * running: call this before every XML_Parse with that parser's counter. */
void expat_memory_enter(size_t *counter);

#endif
