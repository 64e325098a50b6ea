/* SPDX-License-Identifier: ISC */
/* xml_tree: the element tree a stanza is parsed into, edited in, and
 * written from.  Names are namespace-qualified (a namespace URI and a local
 * name, never a prefix: prefixes are the writer's business), and an
 * element's children keep document order, text runs and elements mixed. */
#ifndef SXEDGE_XMPP_XML_TREE_H
#define SXEDGE_XMPP_XML_TREE_H

#include <stdbool.h>
#include <stddef.h>

/* The XML namespace (xml:lang): written with the xml: prefix, never declared. */
#define XML_NAMESPACE "http://www.w3.org/XML/1998/namespace"

struct xml_attribute {
	char *ns; /* namespace URI or NULL */
	char *name; /* local */
	char *value;
};

struct xml_element;

/* A namespace given as "" is no namespace, as NULL is. */
struct xml_element *xml_element_new(const char *ns, const char *name); /* NULL: out of memory */
/* Frees ELEMENT and everything below it; only for an element without a
 * parent (a parent frees its children). */
void xml_element_free(struct xml_element *element);
struct xml_element *xml_element_copy(const struct xml_element *element); /* NULL: OOM */

const char *xml_element_ns(const struct xml_element *element); /* NULL: no namespace */
const char *xml_element_name(const struct xml_element *element);
bool xml_element_is(const struct xml_element *element, const char *ns, const char *name);
struct xml_element *xml_element_parent(const struct xml_element *element); /* NULL: a root */

/* Attributes: at most one per (namespace, local name). */
int xml_element_set_attribute(struct xml_element *e, const char *ns, const char *name,
			      const char *value); /* replaces; -1 OOM */
int xml_element_remove_attribute(struct xml_element *e, const char *ns,
				 const char *name); /* -1: absent */
const char *xml_element_attribute(const struct xml_element *e, const char *ns,
				  const char *name); /* NULL: absent */
size_t xml_element_attribute_count(const struct xml_element *e);
const struct xml_attribute *xml_element_attribute_at(const struct xml_element *e, size_t index);

/* Children */
struct xml_element *xml_element_add_child(struct xml_element *parent, const char *ns,
					  const char *name); /* the new child; NULL: OOM */
/* Takes CHILD (a root) over, also when it fails (-1, OOM: CHILD is freed). */
int xml_element_append(struct xml_element *parent, struct xml_element *child);
int xml_element_add_text(struct xml_element *parent, const char *text,
			 size_t len); /* adjacent text merges; -1 OOM */
/* First element child in NS (NULL: no namespace) named NAME (NULL: any name). */
struct xml_element *xml_element_child(const struct xml_element *e, const char *ns,
				      const char *name);
struct xml_element *xml_element_first_child(const struct xml_element *e); /* or NULL */
struct xml_element *xml_element_next_sibling(const struct xml_element *child); /* or NULL */
char *
xml_element_text(const struct xml_element *e); /* malloc'd direct text, "" if none; NULL OOM */

/* Every child in document order: node INDEX is an element (returned) or,
 * when that is NULL, a run of text (*TEXT, *LEN; never empty). */
size_t xml_element_node_count(const struct xml_element *e);
const struct xml_element *xml_element_node(const struct xml_element *e, size_t index,
					   const char **text, size_t *len);

/* Bytes the tree under E holds on the heap (what its allocations asked for). */
size_t xml_element_memory(const struct xml_element *e);

#endif
