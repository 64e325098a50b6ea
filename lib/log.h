/* SPDX-License-Identifier: ISC */
/* log: one line per event, as key=value fields, to stderr or to syslog.
 *
 * Every line starts with level= and event= (on stderr after a ts= field,
 * on syslog after the syslog header, which has the time); the caller adds
 * its own fields with a printf format.  Values that come from peers (certificate
 * subjects, host names) must go through log_quote() so a hostile peer cannot
 * forge fields or lines. */
#ifndef SXEDGE_LOG_H
#define SXEDGE_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Where the lines go ([global] log). */
enum log_destination {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
};

/* The syslog socket when [global] syslog_socket is not set. */
#define LOG_SYSLOG_SOCKET "/dev/log"

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

/* NAME ("daemon", "user", "local0" ... "local7") as its syslog facility code
 * (<syslog.h>'s LOG_DAEMON ...); -1 for any other name, FACILITY untouched. */
int log_facility_parse(const char *name, int *facility);

/* Sends the lines that follow to DESTINATION.  For LOG_TO_SYSLOG the
 * datagram socket SOCKET_PATH is connected now, so a process about to drop
 * root opens it while it still may; each line then goes as one datagram
 * "<PRI>Mmm dd hh:mm:ss sxedge[PID]: level=... event=..." with FACILITY
 * (a syslog daemon that restarted is connected again).  On failure logs
 * event=syslog_unreachable where lines went so far, keeps them going there
 * and returns -1 with errno set. */
int log_open(enum log_destination destination, const char *socket_path, int facility);

/* Writes "ts=... level=... event=EVENT <fields>\n" when LEVEL is enabled. */
void log_event(enum log_level level, const char *event, const char *fields, ...)
	__attribute__((format(printf, 3, 4)));

/* Renders VALUE as a double-quoted log value into BUF (always terminated):
 * quotes and backslashes are escaped, control bytes become \xNN, and a value
 * longer than the buffer is cut with "...".  Returns BUF. */
const char *log_quote(char *buf, size_t size, const char *value);

#endif
