/* SPDX-License-Identifier: ISC */
/* log: one key=value line per event on stderr or to the syslog socket.
 *
 * A line is built whole in a buffer and handed to a single write(), so lines
 * from several workers (or processes sharing stderr) never interleave: the
 * buffer is PIPE_BUF bytes, which a pipe writes atomically, and a longer
 * line is cut (ending in "...") rather than split over two writes.  To
 * syslog the same line goes as one datagram after the header that glibc's
 * syslog() writes to a local socket (RFC 3164 without the host name), which
 * rsyslog and journald both read; the socket is our own rather than libc's
 * so that its path can be set and a test can listen on it. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Lines up to this size are atomic on a pipe (POSIX PIPE_BUF on Linux). */
#define LOG_LINE_MAX 4096
#define LOG_CUT_MARK "..."

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};
#define LEVEL_COUNT (sizeof(level_names) / sizeof(level_names[0]))

/* The syslog priority of each level (facility added when sent). */
static const int level_priorities[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,	 [LOG_LEVEL_WARNING] = LOG_WARNING,
	[LOG_LEVEL_NOTICE] = LOG_NOTICE, [LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

/* The facilities an operator may pick for a daemon's lines. */
static const struct {
	const char *name;
	int code;
} facilities[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },	    { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

#define SYSLOG_IDENT "sxedge"

/* Set at start and on reload, read by every worker: atomic, not locked. */
static atomic_int current_level = LOG_LEVEL_NOTICE;

/* Where lines go: the syslog socket while fd >= 0, else stderr.
 * Set by log_open() before serving starts (and on reload, in the thread
 * that logs). */
static struct {
	int fd;
	struct sockaddr_un address;
	int facility;
	pid_t pid;
} syslog_target = { .fd = -1 };

/* ---- Levels ---- */

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&current_level, memory_order_relaxed);
}

int log_level_parse(const char *name, enum log_level *level)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < LEVEL_COUNT; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= LEVEL_COUNT)
		return "unknown";
	return level_names[level];
}

int log_facility_parse(const char *name, int *facility)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcasecmp(name, facilities[i].name) == 0) {
			*facility = facilities[i].code;
			return 0;
		}
	}
	return -1;
}

/* ---- Destinations ---- */

/* A datagram socket connected to ADDRESS, or -1 with errno set. */
static int syslog_connect(const struct sockaddr_un *address)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)address, sizeof(*address)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int log_open(enum log_destination destination, const char *socket_path, int facility)
{
	int fd = -1;

	if (destination == LOG_TO_SYSLOG) {
		struct sockaddr_un address = { .sun_family = AF_UNIX };
		if (socket_path == NULL || strlen(socket_path) >= sizeof(address.sun_path)) {
			errno = ENAMETOOLONG; /* the configuration refuses such a path */
			return -1;
		}
		strcpy(address.sun_path, socket_path);
		fd = syslog_connect(&address);
		if (fd < 0) {
			int saved = errno;
			char quoted[256], error[128];
			log_event(LOG_LEVEL_ERROR, "syslog_unreachable", "socket=%s error=%s",
				  log_quote(quoted, sizeof(quoted), socket_path),
				  log_quote(error, sizeof(error), strerror(saved)));
			errno = saved;
			return -1;
		}
		syslog_target.address = address;
		syslog_target.facility = facility;
		syslog_target.pid = getpid();
	}
	if (syslog_target.fd >= 0)
		close(syslog_target.fd);
	syslog_target.fd = fd;
	return 0;
}

/* ---- Lines ---- */

/* Writes the part before "level=": on stderr "ts=2026-11-26T11:40:00.123Z "
 * (UTC, milliseconds), to syslog "<PRI>Nov 26 12:40:00 sxedge[PID]: " (local
 * time, as syslog daemons expect).  Returns its length, as snprintf. */
static int format_prefix(char *buf, size_t size, enum log_level level)
{
	struct timespec now;
	struct tm tm;
	char date[32];

	clock_gettime(CLOCK_REALTIME, &now);
	if (syslog_target.fd >= 0) {
		localtime_r(&now.tv_sec, &tm);
		strftime(date, sizeof(date), "%b %e %H:%M:%S", &tm);
		return snprintf(buf, size, "<%d>%s " SYSLOG_IDENT "[%ld]: ",
				syslog_target.facility | level_priorities[level], date,
				(long)syslog_target.pid);
	}
	gmtime_r(&now.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	return snprintf(buf, size, "ts=%s.%03ldZ ", date, now.tv_nsec / 1000000);
}

/* Hands the whole line to the kernel; retries only what a signal or a
 * short write left over.  A log line that cannot be written is dropped:
 * there is nowhere left to report that. */
static void write_line(const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, line, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		line += n;
		len -= (size_t)n;
	}
}

/* Sends LINE (without its newline) as one datagram.  A syslog daemon that
 * restarted left our socket connected to nothing: connect again once.  A
 * line the socket still refuses goes to stderr rather than nowhere. */
static void send_line(const char *line, size_t len)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t n;
		do
			n = send(syslog_target.fd, line, len - 1, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n >= 0)
			return;
		if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ECONNRESET)
			break;
		int fd = syslog_connect(&syslog_target.address);
		if (fd < 0)
			break;
		close(syslog_target.fd);
		syslog_target.fd = fd;
	}
	write_line(line, len);
}

void log_event(enum log_level level, const char *event, const char *fields, ...)
{
	char line[LOG_LINE_MAX];
	size_t len;
	int saved_errno = errno; /* callers often log, then look at errno */

	if ((int)level > atomic_load_explicit(&current_level, memory_order_relaxed))
		return;

	/* The last byte of LINE is kept for the newline; snprintf's NUL goes before it. */
	const size_t room = sizeof(line) - 1;
	int n = format_prefix(line, room, level);
	len = (size_t)n;
	n = snprintf(line + len, room - len, "level=%s event=%s", log_level_name(level),
		     event != NULL ? event : "-");
	len = (size_t)n >= room - len ? room - 1 : len + (size_t)n;

	if (fields != NULL && fields[0] != '\0' && len < room - 1) {
		va_list args;
		line[len++] = ' ';
		va_start(args, fields);
		n = vsnprintf(line + len, room - len, fields, args);
		va_end(args);
		if (n <= 0) {
			len--; /* nothing after all: no trailing space */
		} else if ((size_t)n >= room - len) {
			/* Too long: cut it and say so rather than split the line. */
			len = room - strlen(LOG_CUT_MARK);
			memcpy(line + len, LOG_CUT_MARK, strlen(LOG_CUT_MARK));
			len += strlen(LOG_CUT_MARK);
		} else {
			len += (size_t)n;
		}
	}
	line[len++] = '\n';
	if (syslog_target.fd >= 0)
		send_line(line, len);
	else
		write_line(line, len);
	errno = saved_errno;
}

/* ---- Quoting values from peers ---- */

/* Bytes that VALUE's byte C takes once escaped. */
static size_t escaped_size(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (c < 0x20 || c == 0x7f)
		return 4; /* \xNN */
	return 1;
}

static size_t put_escaped(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0x0f];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

/* How many bytes of VALUE fit in LIMIT bytes once escaped; never stops
 * inside a UTF-8 sequence, so a cut value is still valid UTF-8. */
static size_t bytes_that_fit(const unsigned char *value, size_t limit)
{
	size_t used = 0, count = 0;

	while (value[count] != '\0' && used + escaped_size(value[count]) <= limit)
		used += escaped_size(value[count++]);
	while (count > 0 && (value[count] & 0xc0) == 0x80)
		count--; /* the next byte continues a character: drop its start too */
	return count;
}

const char *log_quote(char *buf, size_t size, const char *value)
{
	const unsigned char *bytes = (const unsigned char *)(value != NULL ? value : "");
	size_t needed = 0, count, out = 0;
	bool cut;

	if (size == 0)
		return buf;
	for (size_t i = 0; bytes[i] != '\0'; i++)
		needed += escaped_size(bytes[i]);

	cut = needed + 3 > size; /* two quotes and the NUL */
	if (cut && size < 3 + strlen(LOG_CUT_MARK)) {
		buf[0] = '\0'; /* not even "..." fits */
		return buf;
	}
	count = cut ? bytes_that_fit(bytes, size - 3 - strlen(LOG_CUT_MARK))
		    : strlen((const char *)bytes);

	buf[out++] = '"';
	for (size_t i = 0; i < count; i++)
		out += put_escaped(buf + out, bytes[i]);
	if (cut) {
		memcpy(buf + out, LOG_CUT_MARK, strlen(LOG_CUT_MARK));
		out += strlen(LOG_CUT_MARK);
	}
	buf[out++] = '"';
	buf[out] = '\0';
	return buf;
}
