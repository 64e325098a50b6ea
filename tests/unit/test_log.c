/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/log: level filtering, the line format as it reaches
 * stderr (captured through a temporary file), and log_quote escaping. */
#include <check.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "test_suite.h"

/* ---- Capturing stderr ---- */

struct capture {
	int saved_stderr;
	int fd;
	char path[64];
};

static void capture_start(struct capture *capture)
{
	strcpy(capture->path, "/tmp/sxedge-test-log-XXXXXX");
	capture->fd = mkstemp(capture->path);
	ck_assert_int_ge(capture->fd, 0);
	unlink(capture->path);
	capture->saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(capture->saved_stderr, 0);
	ck_assert_int_eq(dup2(capture->fd, STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr and returns everything written meanwhile (malloc'd). */
static char *capture_end(struct capture *capture)
{
	off_t size = lseek(capture->fd, 0, SEEK_END);
	char *text = malloc((size_t)size + 1);

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(pread(capture->fd, text, (size_t)size, 0), size);
	text[size] = '\0';
	dup2(capture->saved_stderr, STDERR_FILENO);
	close(capture->saved_stderr);
	close(capture->fd);
	return text;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;
	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

static void setup(void)
{
	log_set_level(LOG_LEVEL_NOTICE);
}

/* ---- Levels ---- */

START_TEST(test_level_names)
{
	enum log_level level = LOG_LEVEL_ERROR;
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };

	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(log_level_name((enum log_level)i), names[i]);
		ck_assert_int_eq(log_level_parse(names[i], &level), 0);
		ck_assert_int_eq(level, i);
	}
	ck_assert_int_eq(log_level_parse("DEBUG", &level), 0);
	ck_assert_int_eq(level, LOG_LEVEL_DEBUG);
	level = LOG_LEVEL_INFO;
	ck_assert_int_eq(log_level_parse("verbose", &level), -1);
	ck_assert_int_eq(log_level_parse("", &level), -1);
	ck_assert_int_eq(log_level_parse("notice ", &level), -1);
	ck_assert_int_eq(log_level_parse(NULL, &level), -1);
	ck_assert_int_eq(level, LOG_LEVEL_INFO); /* untouched on failure */
	ck_assert_str_eq(log_level_name((enum log_level)42), "unknown");
}
END_TEST

START_TEST(test_set_get_level)
{
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_NOTICE);
	log_set_level(LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_DEBUG);
	log_set_level(LOG_LEVEL_ERROR);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_ERROR);
}
END_TEST

START_TEST(test_filtering)
{
	struct capture capture;
	char *text;

	capture_start(&capture);
	log_event(LOG_LEVEL_DEBUG, "e_debug", NULL);
	log_event(LOG_LEVEL_INFO, "e_info", NULL);
	log_event(LOG_LEVEL_NOTICE, "e_notice", NULL);
	log_event(LOG_LEVEL_WARNING, "e_warning", NULL);
	log_event(LOG_LEVEL_ERROR, "e_error", NULL);
	log_set_level(LOG_LEVEL_ERROR);
	log_event(LOG_LEVEL_WARNING, "e_warning2", NULL);
	log_event(LOG_LEVEL_ERROR, "e_error2", NULL);
	log_set_level(LOG_LEVEL_DEBUG);
	log_event(LOG_LEVEL_DEBUG, "e_debug2", NULL);
	text = capture_end(&capture);

	ck_assert_uint_eq(count_lines(text), 5);
	ck_assert_ptr_null(strstr(text, "event=e_debug\n"));
	ck_assert_ptr_null(strstr(text, "event=e_info\n"));
	ck_assert_ptr_null(strstr(text, "event=e_warning2\n"));
	ck_assert_ptr_nonnull(strstr(text, "level=notice event=e_notice\n"));
	ck_assert_ptr_nonnull(strstr(text, "level=warning event=e_warning\n"));
	ck_assert_ptr_nonnull(strstr(text, "level=error event=e_error\n"));
	ck_assert_ptr_nonnull(strstr(text, "level=error event=e_error2\n"));
	ck_assert_ptr_nonnull(strstr(text, "level=debug event=e_debug2\n"));
	free(text);
}
END_TEST

/* ---- Line format ---- */

START_TEST(test_format)
{
	struct capture capture;
	regex_t re;
	regmatch_t match[2];
	char *text;

	capture_start(&capture);
	log_event(LOG_LEVEL_NOTICE, "listening", "role=%s address=%s port=%d", "access",
		  "127.0.0.1", 10443);
	text = capture_end(&capture);

	ck_assert_int_eq(regcomp(&re,
				 "^ts=([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
				 "\\.[0-9]{3}Z level=notice event=listening "
				 "role=access address=127\\.0\\.0\\.1 port=10443\n$",
				 REG_EXTENDED),
			 0);
	ck_assert_msg(regexec(&re, text, 2, match, 0) == 0, "line was: %s", text);
	regfree(&re);

	/* The timestamp is now, in UTC. */
	struct tm tm = { 0 };
	text[match[1].rm_eo] = '\0';
	ck_assert_ptr_nonnull(strptime(text + match[1].rm_so, "%Y-%m-%dT%H:%M:%S", &tm));
	time_t logged = timegm(&tm);
	time_t now = time(NULL);
	ck_assert_int_le(logged, now);
	ck_assert_int_ge(logged, now - 2);
	free(text);
}
END_TEST

START_TEST(test_no_fields)
{
	struct capture capture;
	char *text;

	capture_start(&capture);
	log_event(LOG_LEVEL_NOTICE, "ready", NULL);
	log_event(LOG_LEVEL_WARNING, "stopped", "%s", "");
	text = capture_end(&capture);
	char *second = strchr(text, '\n') + 1;
	ck_assert_str_eq(strstr(second, " level="), " level=warning event=stopped\n");
	second[0] = '\0';
	ck_assert_str_eq(strstr(text, " level="), " level=notice event=ready\n");
	free(text);
}
END_TEST

START_TEST(test_long_line_cut)
{
	struct capture capture;
	char *text, *value = malloc(10000);

	memset(value, 'v', 9999);
	value[9999] = '\0';
	capture_start(&capture);
	log_event(LOG_LEVEL_ERROR, "big", "value=%s end=1", value);
	log_event(LOG_LEVEL_ERROR, "after", NULL);
	text = capture_end(&capture);

	ck_assert_uint_eq(count_lines(text), 2);
	char *end = strchr(text, '\n');
	ck_assert_uint_eq((size_t)(end - text) + 1, 4096); /* PIPE_BUF: one atomic write */
	ck_assert_int_eq(strncmp(end - 4, "v...\n", 5), 0);
	ck_assert_ptr_nonnull(strstr(end + 1, "event=after\n"));
	free(text);
	free(value);
}
END_TEST

START_TEST(test_errno_kept)
{
	struct capture capture;

	capture_start(&capture);
	errno = ECONNRESET;
	log_event(LOG_LEVEL_ERROR, "x", "a=%d", 1);
	ck_assert_int_eq(errno, ECONNRESET);
	free(capture_end(&capture));
}
END_TEST

/* ---- log_quote ---- */

START_TEST(test_quote_plain)
{
	char buf[64];

	ck_assert_str_eq(log_quote(buf, sizeof(buf), "CN=alice,O=Example"),
			 "\"CN=alice,O=Example\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), ""), "\"\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), NULL), "\"\"");
	ck_assert_ptr_eq(log_quote(buf, sizeof(buf), "x"), buf);
	/* UTF-8 passes through untouched. */
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "J\xc3\xa9r\xc3\xb4me"),
			 "\"J\xc3\xa9r\xc3\xb4me\"");
}
END_TEST

START_TEST(test_quote_escapes)
{
	char buf[128];

	ck_assert_str_eq(log_quote(buf, sizeof(buf), "a\"b\\c"), "\"a\\\"b\\\\c\"");
	/* A peer cannot start a new line or field. */
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "x\nts=1 level=error"),
			 "\"x\\x0ats=1 level=error\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "\r\t\x01\x1f\x7f "),
			 "\"\\x0d\\x09\\x01\\x1f\\x7f \"");
}
END_TEST

START_TEST(test_quote_exact_fit)
{
	char buf[6];

	/* "abc" + NUL is exactly 6 bytes: no cut. */
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "abc"), "\"abc\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "abcd"), "\"...\"");
}
END_TEST

START_TEST(test_quote_truncation)
{
	char buf[12];

	ck_assert_str_eq(log_quote(buf, sizeof(buf), "0123456789abcdef"), "\"012345...\"");
	ck_assert_uint_eq(strlen(buf), 11);
	/* An escape is never split: "\x0a" does not fit after "01234". */
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "01234\n6789abcdef"), "\"01234...\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "0123\"56789abcdef"), "\"0123\\\"...\"");
	/* Nor a UTF-8 character: é is two bytes and only one fits after 01234. */
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "01234\xc3\xa9xxxxxxxxx"), "\"01234...\"");
}
END_TEST

START_TEST(test_quote_tiny_buffers)
{
	char buf[8];

	memset(buf, 'z', sizeof(buf));
	log_quote(buf, 0, "abc");
	ck_assert_int_eq(buf[0], 'z'); /* nothing written */
	ck_assert_str_eq(log_quote(buf, 1, "abc"), "");
	ck_assert_str_eq(log_quote(buf, 3, ""), "\"\"");
	ck_assert_str_eq(log_quote(buf, 3, "a"), "");
	ck_assert_str_eq(log_quote(buf, 5, "abc"), "");
}
END_TEST

static Suite *log_suite(void)
{
	Suite *suite = suite_create("log");
	TCase *levels = tcase_create("levels");
	TCase *lines = tcase_create("lines");
	TCase *quote = tcase_create("quote");

	tcase_add_checked_fixture(levels, setup, NULL);
	tcase_add_test(levels, test_level_names);
	tcase_add_test(levels, test_set_get_level);
	tcase_add_test(levels, test_filtering);
	suite_add_tcase(suite, levels);

	tcase_add_checked_fixture(lines, setup, NULL);
	tcase_add_test(lines, test_format);
	tcase_add_test(lines, test_no_fields);
	tcase_add_test(lines, test_long_line_cut);
	tcase_add_test(lines, test_errno_kept);
	suite_add_tcase(suite, lines);

	tcase_add_test(quote, test_quote_plain);
	tcase_add_test(quote, test_quote_escapes);
	tcase_add_test(quote, test_quote_exact_fit);
	tcase_add_test(quote, test_quote_truncation);
	tcase_add_test(quote, test_quote_tiny_buffers);
	suite_add_tcase(suite, quote);
	return suite;
}

int main(void)
{
	return test_suite_run(log_suite());
}
