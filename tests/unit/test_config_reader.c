/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/config_reader: each line is said to be a header, a
 * pair or a broken line, with its own line number, however the file is
 * written (CRLF, a byte order mark, comments, blank lines). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_reader.h"
#include "test_suite.h"

/* Every callback, one line each: "KIND LINE TEXT". */
static char seen[4096];

static void note(const char *kind, int line, const char *a, const char *b)
{
	size_t used = strlen(seen);
	snprintf(seen + used, sizeof(seen) - used, "%s %d %s%s%s\n", kind, line, a,
		 b != NULL ? "=" : "", b != NULL ? b : "");
}

static void on_section(void *user, int line, const char *name)
{
	(void)user;
	note("section", line, name, NULL);
}

static void on_pair(void *user, int line, const char *key, const char *value)
{
	(void)user;
	note("pair", line, key, value);
}

static void on_broken_line(void *user, int line, const char *message)
{
	(void)user;
	note("broken", line, message, NULL);
}

static void on_broken_header(void *user, int line, const char *message)
{
	(void)user;
	note("header", line, message, NULL);
}

static void on_read_failed(void *user, int line, const char *message)
{
	(void)user;
	note("failed", line, message, NULL);
}

static const struct config_reader_handlers handlers = {
	on_section, on_pair, on_broken_line, on_broken_header, on_read_failed,
};

static int read_text(const char *text, size_t length)
{
	FILE *file = fmemopen((void *)text, length, "r");
	ck_assert_ptr_nonnull(file);
	seen[0] = '\0';
	int lines = config_read(file, &handlers, NULL);
	fclose(file);
	return lines;
}

START_TEST(test_lines)
{
	static const char text[] = "\xef\xbb\xbf[global]\r\n"
				   "; a comment\n"
				   "\n"
				   "  key = some value  \n"
				   "[ listener  access ] # why\n"
				   "other=1\n";

	ck_assert_int_eq(read_text(text, sizeof(text) - 1), 6);
	ck_assert_str_eq(seen, "section 1 global\n"
			       "pair 4 key=some value\n"
			       "section 5 listener  access\n"
			       "pair 6 other=1\n");
}
END_TEST

START_TEST(test_broken_lines)
{
	static const char text[] = "[global\n"
				   "[global] junk\n"
				   "no equals sign\n"
				   "nul\0byte\n"
				   "[ok]\n";

	ck_assert_int_eq(read_text(text, sizeof(text) - 1), 5);
	ck_assert_str_eq(seen, "header 1 syntax error: expected [section] on this line\n"
			       "header 2 syntax error: expected [section] on this line\n"
			       "broken 3 syntax error: expected \"key = value\", [section] or a "
			       "comment\n"
			       "broken 4 the line holds a NUL byte\n"
			       "section 5 ok\n");
}
END_TEST

START_TEST(test_long_line)
{
	size_t length = CONFIG_LINE_MAX + 1;
	char *text = malloc(length + 2);
	char expected[96];

	ck_assert_ptr_nonnull(text);
	memset(text, 'a', length);
	text[0] = 'k';
	text[1] = '=';
	text[length] = '\n';
	text[length + 1] = '\0';
	ck_assert_int_eq(read_text(text, length + 1), 1);
	snprintf(expected, sizeof(expected), "broken 1 line too long: at most %d characters\n",
		 CONFIG_LINE_MAX);
	ck_assert_str_eq(seen, expected);
	/* One shorter is a pair. */
	text[length - 1] = '\n';
	ck_assert_int_eq(read_text(text, length), 1);
	ck_assert(strncmp(seen, "pair 1 k=", 9) == 0);
	free(text);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("config_reader");
	TCase *tcase = tcase_create("reader");
	tcase_add_test(tcase, test_lines);
	tcase_add_test(tcase, test_broken_lines);
	tcase_add_test(tcase, test_long_line);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
