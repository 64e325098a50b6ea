/* SPDX-License-Identifier: ISC */
/* config_reader: one line at a time, headers by us and pairs by libinih. */
#include "config_reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "config_values.h"

struct reader {
	const struct config_reader_handlers *handlers;
	void *user;
	int line;
};

/* Like inih, but stricter: nothing may follow the closing bracket except a
 * comment.  TEXT starts with '['. */
static void read_header(struct reader *reader, const char *text)
{
	const char *close = strchr(text, ']');
	const char *after = close != NULL ? config_skip_spaces(close + 1) : NULL;

	if (close == NULL || (*after != '\0' && *after != ';' && *after != '#')) {
		reader->handlers->broken_header(reader->user, reader->line,
						"syntax error: expected [section] on this line");
		return;
	}
	const char *start = config_skip_spaces(text + 1);
	size_t length = (size_t)(close - start);
	while (length > 0 && (start[length - 1] == ' ' || start[length - 1] == '\t'))
		length--;
	char *name = strndup(start, length);
	if (name == NULL) {
		reader->handlers->broken_header(reader->user, reader->line, "out of memory");
		return;
	}
	reader->handlers->section(reader->user, reader->line, name);
	free(name);
}

/* Called by inih for the one "key = value" line it was given. */
#if INI_HANDLER_LINENO
static int read_pair(void *user, const char *section, const char *name, const char *value,
		     int lineno)
#else
static int read_pair(void *user, const char *section, const char *name, const char *value)
#endif
{
	struct reader *reader = user;

	(void)section; /* always "": inih sees one line at a time, headers are ours */
#if INI_HANDLER_LINENO
	(void)lineno;
#endif
	reader->handlers->pair(reader->user, reader->line, name, value);
	return 1; /* problems with the pair are the handler's; inih's return is for syntax */
}

static void read_line(struct reader *reader, char *line, size_t length)
{
	char message[64];

	while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
		line[--length] = '\0';
	if (reader->line == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3; /* a UTF-8 byte order mark */
		length -= 3;
	}
	if (strlen(line) != length) {
		reader->handlers->broken_line(reader->user, reader->line,
					      "the line holds a NUL byte");
		return;
	}
	if (length > CONFIG_LINE_MAX) {
		snprintf(message, sizeof(message), "line too long: at most %d characters",
			 CONFIG_LINE_MAX);
		reader->handlers->broken_line(reader->user, reader->line, message);
		return;
	}
	const char *start = config_skip_spaces(line);
	if (*start == '[') {
		read_header(reader, start);
		return;
	}
	if (ini_parse_string(line, read_pair, reader) != 0)
		reader->handlers->broken_line(reader->user, reader->line,
					      "syntax error: expected \"key = value\", [section] "
					      "or a comment");
}

int config_read(FILE *file, const struct config_reader_handlers *handlers, void *user)
{
	struct reader reader = { handlers, user, 0 };
	char *line = NULL;
	size_t capacity = 0;
	ssize_t length;

	while ((length = getline(&line, &capacity, file)) >= 0) {
		reader.line++;
		read_line(&reader, line, (size_t)length);
	}
	if (ferror(file)) {
		char message[128];
		snprintf(message, sizeof(message), "cannot read: %s", strerror(errno));
		handlers->read_failed(user, reader.line + 1, message);
	}
	if (line != NULL)
		explicit_bzero(line, capacity); /* it may have held flow_secret */
	free(line);
	return reader.line;
}
