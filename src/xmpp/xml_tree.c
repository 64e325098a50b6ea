/* SPDX-License-Identifier: ISC */
/* xml_tree: elements with their attributes in one array and their children
 * (elements and text runs) in another, in document order.  Arrays grow by
 * doubling so that a parser adding text piece by piece stays linear. */
#include "xml_tree.h"

#include <stdlib.h>
#include <string.h>

/* A child: an element, or (ELEMENT NULL) a text run of LEN bytes. */
struct xml_node {
	struct xml_element *element;
	char *text;
	size_t len;
	size_t capacity; /* of TEXT, which is kept NUL-terminated */
};

struct xml_element {
	char *ns;
	char *name;
	struct xml_element *parent;
	size_t index; /* in the parent's nodes */
	struct xml_attribute *attributes;
	size_t attribute_count, attribute_capacity;
	struct xml_node *nodes;
	size_t node_count, node_capacity;
};

/* Helpers */

static char *copy_namespace(const char *ns, bool *failed)
{
	if (ns == NULL || ns[0] == '\0')
		return NULL;
	char *copy = strdup(ns);
	*failed = copy == NULL;
	return copy;
}

static bool same_namespace(const char *a, const char *b)
{
	if (a == NULL || a[0] == '\0')
		return b == NULL || b[0] == '\0';
	return b != NULL && strcmp(a, b) == 0;
}

/* Makes room for one more of *COUNT items of SIZE bytes in *ARRAY. */
static int grow(void *array, size_t *capacity, size_t count, size_t size)
{
	void **items = array;
	if (count < *capacity)
		return 0;
	size_t wanted = *capacity == 0 ? 4 : *capacity * 2;
	void *bigger = realloc(*items, wanted * size);
	if (bigger == NULL)
		return -1;
	*items = bigger;
	*capacity = wanted;
	return 0;
}

/* Elements */

struct xml_element *xml_element_new(const char *ns, const char *name)
{
	struct xml_element *element = calloc(1, sizeof(*element));
	bool failed = false;
	if (element == NULL)
		return NULL;
	element->ns = copy_namespace(ns, &failed);
	element->name = strdup(name);
	if (failed || element->name == NULL) {
		xml_element_free(element);
		return NULL;
	}
	return element;
}

void xml_element_free(struct xml_element *element)
{
	if (element == NULL)
		return;
	for (size_t i = 0; i < element->attribute_count; i++) {
		free(element->attributes[i].ns);
		free(element->attributes[i].name);
		free(element->attributes[i].value);
	}
	free(element->attributes);
	for (size_t i = 0; i < element->node_count; i++) {
		xml_element_free(element->nodes[i].element);
		free(element->nodes[i].text);
	}
	free(element->nodes);
	free(element->ns);
	free(element->name);
	free(element);
}

struct xml_element *xml_element_copy(const struct xml_element *element)
{
	struct xml_element *copy = xml_element_new(element->ns, element->name);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < element->attribute_count; i++) {
		const struct xml_attribute *attribute = &element->attributes[i];
		if (xml_element_set_attribute(copy, attribute->ns, attribute->name,
					      attribute->value) < 0)
			goto failed;
	}
	for (size_t i = 0; i < element->node_count; i++) {
		const struct xml_node *node = &element->nodes[i];
		int result = node->element != NULL
				     ? xml_element_append(copy, xml_element_copy(node->element))
				     : xml_element_add_text(copy, node->text, node->len);
		if (result < 0)
			goto failed;
	}
	return copy;
failed:
	xml_element_free(copy);
	return NULL;
}

const char *xml_element_ns(const struct xml_element *element)
{
	return element->ns;
}

const char *xml_element_name(const struct xml_element *element)
{
	return element->name;
}

bool xml_element_is(const struct xml_element *element, const char *ns, const char *name)
{
	return same_namespace(element->ns, ns) && strcmp(element->name, name) == 0;
}

struct xml_element *xml_element_parent(const struct xml_element *element)
{
	return element->parent;
}

/* Attributes */

static struct xml_attribute *find_attribute(const struct xml_element *e, const char *ns,
					    const char *name)
{
	for (size_t i = 0; i < e->attribute_count; i++) {
		struct xml_attribute *attribute = &e->attributes[i];
		if (same_namespace(attribute->ns, ns) && strcmp(attribute->name, name) == 0)
			return attribute;
	}
	return NULL;
}

int xml_element_set_attribute(struct xml_element *e, const char *ns, const char *name,
			      const char *value)
{
	struct xml_attribute *attribute = find_attribute(e, ns, name);
	char *copy = strdup(value);
	if (copy == NULL)
		return -1;
	if (attribute != NULL) {
		free(attribute->value);
		attribute->value = copy;
		return 0;
	}
	if (grow(&e->attributes, &e->attribute_capacity, e->attribute_count,
		 sizeof(*e->attributes)) < 0) {
		free(copy);
		return -1;
	}
	bool failed = false;
	struct xml_attribute added = {
		.ns = copy_namespace(ns, &failed),
		.name = strdup(name),
		.value = copy,
	};
	if (failed || added.name == NULL) {
		free(added.ns);
		free(added.name);
		free(copy);
		return -1;
	}
	e->attributes[e->attribute_count++] = added;
	return 0;
}

int xml_element_remove_attribute(struct xml_element *e, const char *ns, const char *name)
{
	struct xml_attribute *attribute = find_attribute(e, ns, name);
	if (attribute == NULL)
		return -1;
	free(attribute->ns);
	free(attribute->name);
	free(attribute->value);
	size_t index = (size_t)(attribute - e->attributes);
	memmove(attribute, attribute + 1, (e->attribute_count - index - 1) * sizeof(*attribute));
	e->attribute_count--;
	return 0;
}

const char *xml_element_attribute(const struct xml_element *e, const char *ns, const char *name)
{
	const struct xml_attribute *attribute = find_attribute(e, ns, name);
	return attribute != NULL ? attribute->value : NULL;
}

size_t xml_element_attribute_count(const struct xml_element *e)
{
	return e->attribute_count;
}

const struct xml_attribute *xml_element_attribute_at(const struct xml_element *e, size_t index)
{
	return index < e->attribute_count ? &e->attributes[index] : NULL;
}

/* Children */

struct xml_element *xml_element_add_child(struct xml_element *parent, const char *ns,
					  const char *name)
{
	struct xml_element *child = xml_element_new(ns, name);
	if (child == NULL || xml_element_append(parent, child) < 0)
		return NULL;
	return child;
}

int xml_element_append(struct xml_element *parent, struct xml_element *child)
{
	if (child == NULL || child->parent != NULL ||
	    grow(&parent->nodes, &parent->node_capacity, parent->node_count,
		 sizeof(*parent->nodes)) < 0) {
		if (child != NULL && child->parent == NULL)
			xml_element_free(child);
		return -1;
	}
	child->parent = parent;
	child->index = parent->node_count;
	parent->nodes[parent->node_count++] = (struct xml_node){ .element = child };
	return 0;
}

int xml_element_add_text(struct xml_element *parent, const char *text, size_t len)
{
	if (len == 0)
		return 0;
	struct xml_node *last =
		parent->node_count > 0 ? &parent->nodes[parent->node_count - 1] : NULL;
	if (last == NULL || last->element != NULL) {
		if (grow(&parent->nodes, &parent->node_capacity, parent->node_count,
			 sizeof(*parent->nodes)) < 0)
			return -1;
		last = &parent->nodes[parent->node_count++];
		*last = (struct xml_node){ 0 };
	}
	if (last->len + len + 1 > last->capacity) {
		size_t wanted = last->capacity == 0 ? 16 : last->capacity;
		while (wanted < last->len + len + 1)
			wanted *= 2;
		char *bigger = realloc(last->text, wanted);
		if (bigger == NULL) {
			if (last->len == 0) /* the run just added stays empty: take it back */
				parent->node_count--;
			return -1;
		}
		last->text = bigger;
		last->capacity = wanted;
	}
	memcpy(last->text + last->len, text, len);
	last->len += len;
	last->text[last->len] = '\0';
	return 0;
}

struct xml_element *xml_element_child(const struct xml_element *e, const char *ns, const char *name)
{
	for (struct xml_element *child = xml_element_first_child(e); child != NULL;
	     child = xml_element_next_sibling(child))
		if (same_namespace(child->ns, ns) &&
		    (name == NULL || strcmp(child->name, name) == 0))
			return child;
	return NULL;
}

static struct xml_element *element_from(const struct xml_element *e, size_t index)
{
	for (; index < e->node_count; index++)
		if (e->nodes[index].element != NULL)
			return e->nodes[index].element;
	return NULL;
}

struct xml_element *xml_element_first_child(const struct xml_element *e)
{
	return element_from(e, 0);
}

struct xml_element *xml_element_next_sibling(const struct xml_element *child)
{
	return child->parent != NULL ? element_from(child->parent, child->index + 1) : NULL;
}

char *xml_element_text(const struct xml_element *e)
{
	size_t total = 0;
	for (size_t i = 0; i < e->node_count; i++)
		total += e->nodes[i].len;
	char *text = malloc(total + 1);
	if (text == NULL)
		return NULL;
	size_t at = 0;
	for (size_t i = 0; i < e->node_count; i++) {
		if (e->nodes[i].element == NULL) {
			memcpy(text + at, e->nodes[i].text, e->nodes[i].len);
			at += e->nodes[i].len;
		}
	}
	text[at] = '\0';
	return text;
}

size_t xml_element_node_count(const struct xml_element *e)
{
	return e->node_count;
}

const struct xml_element *xml_element_node(const struct xml_element *e, size_t index,
					   const char **text, size_t *len)
{
	const struct xml_node *node = &e->nodes[index];
	*text = node->text;
	*len = node->len;
	return node->element;
}

static size_t string_memory(const char *string)
{
	return string != NULL ? strlen(string) + 1 : 0;
}

size_t xml_element_memory(const struct xml_element *e)
{
	size_t total = sizeof(*e) + string_memory(e->ns) + string_memory(e->name) +
		       e->attribute_capacity * sizeof(*e->attributes) +
		       e->node_capacity * sizeof(*e->nodes);
	for (size_t i = 0; i < e->attribute_count; i++)
		total += string_memory(e->attributes[i].ns) + string_memory(e->attributes[i].name) +
			 string_memory(e->attributes[i].value);
	for (size_t i = 0; i < e->node_count; i++)
		total += e->nodes[i].element != NULL ? xml_element_memory(e->nodes[i].element)
						     : e->nodes[i].capacity;
	return total;
}
