/* SPDX-License-Identifier: ISC */
/* config_reader: reads a configuration file line by line and says what each
 * line is: a section header, a "key = value" pair, or a line that cannot be
 * read.  libinih does the INI syntax of a pair, but it is handed one line at
 * a time: that way every line carries its number (this inih calls its
 * handler without one), every syntax error is found rather than only the
 * first, and section headers are seen as they come, even empty ones.  The
 * reader knows nothing of what sections and keys mean. */
#ifndef SXEDGE_CONFIG_READER_H
#define SXEDGE_CONFIG_READER_H

#include <stdio.h>

#include <ini.h>

/* inih keeps each line in a buffer of INI_MAX_LINE bytes and needs three of
 * them for the line end and the NUL; a longer line would be cut silently. */
#define CONFIG_LINE_MAX (INI_MAX_LINE - 3)

struct config_reader_handlers {
	/* "[NAME]", NAME trimmed of blanks. */
	void (*section)(void *user, int line, const char *name);
	void (*pair)(void *user, int line, const char *key, const char *value);
	/* A line that is no header and no pair (it belongs to the current section). */
	void (*broken_line)(void *user, int line, const char *message);
	/* A header that cannot be read: its section's keys are to be skipped. */
	void (*broken_header)(void *user, int line, const char *message);
	/* The file could not be read on (LINE is the one after the last read). */
	void (*read_failed)(void *user, int line, const char *message);
};

/* Reads FILE to its end; returns the number of lines read.  The line buffer
 * is wiped before it is freed, as a line may have held a secret. */
int config_read(FILE *file, const struct config_reader_handlers *handlers, void *user);

#endif
