/* SPDX-License-Identifier: ISC */
/* test_errors: see test_errors.h. */
#include "test_errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool test_errors_have(const char *errors, const char *path, int line, ...)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	for (const char *start = errors; *start != '\0'; start = strchr(start, '\n') + 1) {
		char *text = strndup(start, (size_t)(strchr(start, '\n') - start));
		bool match = text != NULL && strncmp(text, prefix, strlen(prefix)) == 0;
		va_list words;
		va_start(words, line);
		for (const char *word; match && (word = va_arg(words, const char *)) != NULL;)
			match = strstr(text + strlen(prefix), word) != NULL;
		va_end(words);
		free(text);
		if (match)
			return true;
	}
	return false;
}
