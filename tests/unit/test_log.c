/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/log: level filtering, the line format as it reaches
 * stderr (captured through a temporary file) and a syslog socket (one the
 * test binds), and log_quote escaping. */
#include <check.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "test_suite.h"

/* Room for any datagram log_event sends, and one byte more to see a cut. */
#define LOG_LINE_TEST_MAX 8192

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

/* ---- Syslog ---- */

/* A syslog daemon's socket: a unix datagram socket bound in a scratch folder. */
struct listener {
	char folder[64];
	char path[96];
	int fd;
};

static void listener_bind(struct listener *listener)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };

	listener->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(listener->fd, 0);
	snprintf(address.sun_path, sizeof(address.sun_path), "%s", listener->path);
	ck_assert_int_eq(bind(listener->fd, (struct sockaddr *)&address, sizeof(address)), 0);
	struct timeval wait = { .tv_sec = 2 };
	setsockopt(listener->fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
}

static void listener_start(struct listener *listener)
{
	strcpy(listener->folder, "/tmp/sxedge-test-syslog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(listener->folder));
	snprintf(listener->path, sizeof(listener->path), "%s/log", listener->folder);
	listener_bind(listener);
}

/* Closes the socket and removes its file, as a syslog daemon that stopped. */
static void listener_stop(struct listener *listener)
{
	close(listener->fd);
	unlink(listener->path);
}

static void listener_end(struct listener *listener)
{
	listener_stop(listener);
	rmdir(listener->folder);
}

/* The next datagram, as a string (one read: one line). */
static void listener_receive(struct listener *listener, char *buf, size_t size)
{
	ssize_t n = recv(listener->fd, buf, size - 1, 0);
	ck_assert_msg(n >= 0, "no datagram: %s", strerror(errno));
	buf[n] = '\0';
}

static void syslog_teardown(void)
{
	ck_assert_int_eq(log_open(LOG_TO_STDERR, NULL, 0), 0);
	log_set_level(LOG_LEVEL_NOTICE);
}

START_TEST(test_facility_names)
{
	static const struct {
		const char *name;
		int code;
	} known[] = { { "daemon", LOG_DAEMON },
		      { "user", LOG_USER },
		      { "local0", LOG_LOCAL0 },
		      { "local5", LOG_LOCAL5 },
		      { "LOCAL7", LOG_LOCAL7 } };
	int facility = -7;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		ck_assert_int_eq(log_facility_parse(known[i].name, &facility), 0);
		ck_assert_int_eq(facility, known[i].code);
	}
	facility = -7;
	ck_assert_int_eq(log_facility_parse("kern", &facility), -1);
	ck_assert_int_eq(log_facility_parse("local8", &facility), -1);
	ck_assert_int_eq(log_facility_parse("", &facility), -1);
	ck_assert_int_eq(log_facility_parse(NULL, &facility), -1);
	ck_assert_int_eq(facility, -7); /* untouched on failure */
}
END_TEST

START_TEST(test_syslog_line)
{
	struct listener listener;
	struct capture capture;
	char line[LOG_LINE_TEST_MAX], expected[256];
	regex_t re;

	listener_start(&listener);
	capture_start(&capture);
	ck_assert_int_eq(log_open(LOG_TO_SYSLOG, listener.path, LOG_LOCAL3), 0);
	log_event(LOG_LEVEL_WARNING, "listening", "role=%s port=%d", "access", 443);
	listener_receive(&listener, line, sizeof(line));

	/* local3 (19 << 3) + warning (4); the header glibc's syslog() writes,
	 * then the line without ts= and without a newline. */
	snprintf(expected, sizeof(expected),
		 "^<156>[A-Z][a-z]{2} [ 0-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} sxedge\\[%ld\\]: "
		 "level=warning event=listening role=access port=443$",
		 (long)getpid());
	ck_assert_int_eq(regcomp(&re, expected, REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "datagram was: %s", line);
	regfree(&re);

	/* Back to stderr: the socket gets nothing more. */
	ck_assert_int_eq(log_open(LOG_TO_STDERR, NULL, 0), 0);
	log_event(LOG_LEVEL_NOTICE, "on_stderr", NULL);
	char *text = capture_end(&capture);
	ck_assert_ptr_nonnull(strstr(text, "level=notice event=on_stderr\n"));
	ck_assert_uint_eq(count_lines(text), 1);
	ck_assert_int_eq(recv(listener.fd, line, sizeof(line), MSG_DONTWAIT), -1);
	free(text);
	listener_end(&listener);
}
END_TEST

START_TEST(test_syslog_priorities)
{
	static const struct {
		enum log_level level;
		int priority;
	} levels[] = { { LOG_LEVEL_ERROR, LOG_ERR },
		       { LOG_LEVEL_WARNING, LOG_WARNING },
		       { LOG_LEVEL_NOTICE, LOG_NOTICE },
		       { LOG_LEVEL_INFO, LOG_INFO },
		       { LOG_LEVEL_DEBUG, LOG_DEBUG } };
	struct listener listener;
	char line[LOG_LINE_TEST_MAX], prefix[16];

	listener_start(&listener);
	log_set_level(LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_open(LOG_TO_SYSLOG, listener.path, LOG_DAEMON), 0);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		log_event(levels[i].level, "x", NULL);
		listener_receive(&listener, line, sizeof(line));
		snprintf(prefix, sizeof(prefix), "<%d>", LOG_DAEMON | levels[i].priority);
		ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0, "%s for %s", line,
			      prefix);
	}
	/* The level filter applies as on stderr. */
	log_set_level(LOG_LEVEL_ERROR);
	log_event(LOG_LEVEL_WARNING, "filtered", NULL);
	ck_assert_int_eq(recv(listener.fd, line, sizeof(line), MSG_DONTWAIT), -1);
	listener_end(&listener);
}
END_TEST

/* A syslog daemon that restarts binds its socket anew: the next line
 * connects again and reaches it. */
START_TEST(test_syslog_reconnect)
{
	struct listener listener;
	char line[LOG_LINE_TEST_MAX];

	listener_start(&listener);
	ck_assert_int_eq(log_open(LOG_TO_SYSLOG, listener.path, LOG_DAEMON), 0);
	log_event(LOG_LEVEL_ERROR, "before", NULL);
	listener_receive(&listener, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "event=before"));

	listener_stop(&listener);
	listener_bind(&listener);
	log_event(LOG_LEVEL_ERROR, "after", "n=%d", 2);
	listener_receive(&listener, line, sizeof(line));
	ck_assert_msg(strstr(line, ": level=error event=after n=2") != NULL, "got %s", line);
	listener_end(&listener);
}
END_TEST

/* Nothing listening: log_open fails, says so, and lines stay on stderr. */
START_TEST(test_syslog_unreachable)
{
	struct capture capture;

	capture_start(&capture);
	errno = 0;
	ck_assert_int_eq(log_open(LOG_TO_SYSLOG, "/nonexistent/sxedge-log", LOG_DAEMON), -1);
	ck_assert_int_eq(errno, ENOENT);
	log_event(LOG_LEVEL_ERROR, "still_here", NULL);
	char *text = capture_end(&capture);
	ck_assert_msg(strstr(text, "level=error event=syslog_unreachable "
				   "socket=\"/nonexistent/sxedge-log\" "
				   "error=\"No such file or directory\"\n") != NULL,
		      "stderr was: %s", text);
	ck_assert_ptr_nonnull(strstr(text, "level=error event=still_here\n"));
	free(text);
}
END_TEST

/* A line too long for one datagram of LOG_LINE_MAX is cut as on stderr. */
START_TEST(test_syslog_long_line_cut)
{
	struct listener listener;
	char line[LOG_LINE_TEST_MAX], *value = malloc(10000);

	memset(value, 'v', 9999);
	value[9999] = '\0';
	listener_start(&listener);
	ck_assert_int_eq(log_open(LOG_TO_SYSLOG, listener.path, LOG_DAEMON), 0);
	log_event(LOG_LEVEL_ERROR, "big", "value=%s end=1", value);
	listener_receive(&listener, line, sizeof(line));
	ck_assert_uint_eq(strlen(line), 4095); /* the 4096-byte line less its newline */
	ck_assert_str_eq(line + strlen(line) - 4, "v...");
	free(value);
	listener_end(&listener);
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
	TCase *syslog_case = tcase_create("syslog");
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
	tcase_add_checked_fixture(syslog_case, setup, syslog_teardown);
	tcase_add_test(syslog_case, test_facility_names);
	tcase_add_test(syslog_case, test_syslog_line);
	tcase_add_test(syslog_case, test_syslog_priorities);
	tcase_add_test(syslog_case, test_syslog_reconnect);
	tcase_add_test(syslog_case, test_syslog_unreachable);
	tcase_add_test(syslog_case, test_syslog_long_line_cut);
	suite_add_tcase(suite, syslog_case);

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
