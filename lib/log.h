/* SPDX-License-Identifier: ISC */
/* log: one line per event, as key=value fields, to stderr.
 *
 * Every line starts with ts=, level= and event=; the caller adds its own
 * fields with a printf format.  Values that come from peers (certificate
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

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

/* Writes "ts=... level=... event=EVENT <fields>\n" when LEVEL is enabled. */
void log_event(enum log_level level, const char *event, const char *fields, ...)
	__attribute__((format(printf, 3, 4)));

/* Renders VALUE as a double-quoted log value into BUF (always terminated):
 * quotes and backslashes are escaped, control bytes become \xNN, and a value
 * longer than the buffer is cut with "...".  Returns BUF. */
const char *log_quote(char *buf, size_t size, const char *value);

#endif
