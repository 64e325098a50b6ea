/* SPDX-License-Identifier: ISC */
/* Unit tests for xml_tree: names and namespaces, attributes set, replaced
 * and removed, children in document order with text runs merged, finding
 * children, copies, and what the tree says it holds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test_suite.h"
#include "xml_tree.h"

#define SERVER	 "jabber:server"
#define DIALBACK "jabber:server:dialback"

START_TEST(test_names)
{
	struct xml_element *message = xml_element_new(SERVER, "message");
	struct xml_element *bare = xml_element_new("", "x");

	ck_assert_ptr_nonnull(message);
	ck_assert_str_eq(xml_element_ns(message), SERVER);
	ck_assert_str_eq(xml_element_name(message), "message");
	ck_assert(xml_element_is(message, SERVER, "message"));
	ck_assert(!xml_element_is(message, SERVER, "iq"));
	ck_assert(!xml_element_is(message, DIALBACK, "message"));
	ck_assert(!xml_element_is(message, NULL, "message"));
	/* "" is no namespace, as NULL is */
	ck_assert_ptr_null(xml_element_ns(bare));
	ck_assert(xml_element_is(bare, NULL, "x"));
	ck_assert(xml_element_is(bare, "", "x"));
	ck_assert_ptr_null(xml_element_parent(message));
	xml_element_free(message);
	xml_element_free(bare);
}
END_TEST

START_TEST(test_attributes)
{
	struct xml_element *e = xml_element_new(SERVER, "message");

	ck_assert_int_eq(xml_element_set_attribute(e, NULL, "to", "b.example"), 0);
	ck_assert_int_eq(xml_element_set_attribute(e, XML_NAMESPACE, "lang", "en"), 0);
	ck_assert_int_eq(xml_element_set_attribute(e, "urn:x", "to", "other"), 0);
	ck_assert_str_eq(xml_element_attribute(e, NULL, "to"), "b.example");
	ck_assert_str_eq(xml_element_attribute(e, "", "to"), "b.example");
	ck_assert_str_eq(xml_element_attribute(e, "urn:x", "to"), "other");
	ck_assert_str_eq(xml_element_attribute(e, XML_NAMESPACE, "lang"), "en");
	ck_assert_ptr_null(xml_element_attribute(e, NULL, "lang"));
	ck_assert_ptr_null(xml_element_attribute(e, NULL, "from"));
	ck_assert_uint_eq(xml_element_attribute_count(e), 3);

	/* replaced in place, not added */
	ck_assert_int_eq(xml_element_set_attribute(e, NULL, "to", "c.example"), 0);
	ck_assert_uint_eq(xml_element_attribute_count(e), 3);
	ck_assert_str_eq(xml_element_attribute_at(e, 0)->value, "c.example");

	ck_assert_int_eq(xml_element_remove_attribute(e, NULL, "to"), 0);
	ck_assert_int_eq(xml_element_remove_attribute(e, NULL, "to"), -1);
	ck_assert_ptr_null(xml_element_attribute(e, NULL, "to"));
	ck_assert_uint_eq(xml_element_attribute_count(e), 2);
	/* the others keep their order */
	ck_assert_str_eq(xml_element_attribute_at(e, 0)->name, "lang");
	ck_assert_str_eq(xml_element_attribute_at(e, 1)->ns, "urn:x");
	ck_assert_ptr_null(xml_element_attribute_at(e, 2));
	xml_element_free(e);
}
END_TEST

/* <message><body>hi</body> there <x xmlns='urn:x'/>!</message> */
static struct xml_element *mixed(void)
{
	struct xml_element *message = xml_element_new(SERVER, "message");
	struct xml_element *body = xml_element_add_child(message, SERVER, "body");
	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(xml_element_add_text(body, "hi", 2), 0);
	ck_assert_int_eq(xml_element_add_text(message, " the", 4), 0);
	ck_assert_int_eq(xml_element_add_text(message, "re ", 3), 0);
	ck_assert_ptr_nonnull(xml_element_add_child(message, "urn:x", "x"));
	ck_assert_int_eq(xml_element_add_text(message, "!", 1), 0);
	return message;
}

START_TEST(test_children_in_order)
{
	struct xml_element *message = mixed();
	const char *text;
	size_t len;

	/* body, one merged text run, x, text */
	ck_assert_uint_eq(xml_element_node_count(message), 4);
	const struct xml_element *body = xml_element_node(message, 0, &text, &len);
	ck_assert(xml_element_is(body, SERVER, "body"));
	ck_assert_ptr_eq(xml_element_parent(body), message);
	ck_assert_ptr_null(xml_element_node(message, 1, &text, &len));
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(text, " there ");
	ck_assert(xml_element_is(xml_element_node(message, 2, &text, &len), "urn:x", "x"));
	ck_assert_ptr_null(xml_element_node(message, 3, &text, &len));
	ck_assert_str_eq(text, "!");

	char *all = xml_element_text(message);
	ck_assert_str_eq(all, " there !");
	free(all);
	char *inner = xml_element_text(body);
	ck_assert_str_eq(inner, "hi");
	free(inner);
	char *none = xml_element_text(xml_element_child(message, "urn:x", "x"));
	ck_assert_str_eq(none, "");
	free(none);
	/* empty text adds nothing */
	struct xml_element *editable = xml_element_child(message, SERVER, "body");
	ck_assert_int_eq(xml_element_add_text(editable, "", 0), 0);
	ck_assert_uint_eq(xml_element_node_count(editable), 1);
	xml_element_free(message);
}
END_TEST

START_TEST(test_find_children)
{
	struct xml_element *message = mixed();
	struct xml_element *second = xml_element_add_child(message, SERVER, "body");

	struct xml_element *first = xml_element_first_child(message);
	ck_assert(xml_element_is(first, SERVER, "body"));
	struct xml_element *x = xml_element_next_sibling(first);
	ck_assert(xml_element_is(x, "urn:x", "x"));
	ck_assert_ptr_eq(xml_element_next_sibling(x), second);
	ck_assert_ptr_null(xml_element_next_sibling(second));
	ck_assert_ptr_null(xml_element_next_sibling(message));
	ck_assert_ptr_null(xml_element_first_child(x));

	ck_assert_ptr_eq(xml_element_child(message, SERVER, "body"), first);
	ck_assert_ptr_eq(xml_element_child(message, "urn:x", NULL), x);
	ck_assert_ptr_eq(xml_element_child(message, SERVER, NULL), first);
	ck_assert_ptr_null(xml_element_child(message, NULL, "body"));
	ck_assert_ptr_null(xml_element_child(message, SERVER, "subject"));
	xml_element_free(message);
}
END_TEST

START_TEST(test_append_takes_over)
{
	struct xml_element *result = xml_element_new(DIALBACK, "result");
	struct xml_element *child = xml_element_new(NULL, "child");
	struct xml_element *other = xml_element_new(NULL, "other");

	ck_assert_int_eq(xml_element_append(result, child), 0);
	ck_assert_ptr_eq(xml_element_parent(child), result);
	ck_assert_ptr_eq(xml_element_first_child(result), child);
	/* a child that has a parent already is refused, and stays where it is */
	ck_assert_int_eq(xml_element_append(other, child), -1);
	ck_assert_ptr_eq(xml_element_parent(child), result);
	ck_assert_int_eq(xml_element_append(other, NULL), -1);
	xml_element_free(result);
	xml_element_free(other);
}
END_TEST

START_TEST(test_copy)
{
	struct xml_element *message = mixed();
	xml_element_set_attribute(message, XML_NAMESPACE, "lang", "en");
	struct xml_element *copy = xml_element_copy(message);

	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_null(xml_element_parent(copy));
	ck_assert_uint_eq(xml_element_node_count(copy), 4);
	ck_assert_str_eq(xml_element_attribute(copy, XML_NAMESPACE, "lang"), "en");
	char *text = xml_element_text(copy);
	ck_assert_str_eq(text, " there !");
	free(text);
	struct xml_element *body = xml_element_child(copy, SERVER, "body");
	ck_assert_ptr_ne(body, xml_element_child(message, SERVER, "body"));
	ck_assert_ptr_eq(xml_element_parent(body), copy);
	ck_assert(xml_element_is(xml_element_next_sibling(body), "urn:x", "x"));
	/* independent of the original */
	xml_element_free(message);
	text = xml_element_text(body);
	ck_assert_str_eq(text, "hi");
	free(text);
	ck_assert_uint_eq(xml_element_memory(copy) > 0, 1);
	xml_element_free(copy);
}
END_TEST

START_TEST(test_memory_grows_with_content)
{
	struct xml_element *message = xml_element_new(SERVER, "message");
	size_t empty = xml_element_memory(message);
	char text[1000];

	ck_assert_uint_ge(empty, strlen(SERVER) + strlen("message"));
	memset(text, 'a', sizeof(text));
	/* many small pieces merge into one run, in linear time */
	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(xml_element_add_text(message, text, sizeof(text)), 0);
	ck_assert_uint_eq(xml_element_node_count(message), 1);
	ck_assert_uint_ge(xml_element_memory(message), empty + 10000 * sizeof(text));
	ck_assert_uint_le(xml_element_memory(message), empty + 2 * 10000 * sizeof(text) + 256);
	xml_element_free(message);
}
END_TEST

static Suite *xml_tree_suite(void)
{
	Suite *suite = suite_create("xml_tree");
	TCase *tcase = tcase_create("xml_tree");
	tcase_add_test(tcase, test_names);
	tcase_add_test(tcase, test_attributes);
	tcase_add_test(tcase, test_children_in_order);
	tcase_add_test(tcase, test_find_children);
	tcase_add_test(tcase, test_append_takes_over);
	tcase_add_test(tcase, test_copy);
	tcase_add_test(tcase, test_memory_grows_with_content);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(xml_tree_suite());
}
