/* SPDX-License-Identifier: ISC */
/* text: building messages in one growing buffer. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_add(struct text *text, const char *bytes, size_t length)
{
	if (text->failed)
		return;
	if (text->capacity - text->length < length + 1) {
		size_t capacity = text->capacity ? text->capacity : 512;
		while (capacity - text->length < length + 1)
			capacity *= 2;
		char *data = realloc(text->data, capacity);
		if (data == NULL) {
			text->failed = true;
			return;
		}
		text->data = data;
		text->capacity = capacity;
	}
	memcpy(text->data + text->length, bytes, length);
	text->length += length;
	text->data[text->length] = '\0';
}

void text_add_string(struct text *text, const char *string)
{
	text_add(text, string, strlen(string));
}

void text_add_format(struct text *text, const char *format, ...)
{
	char small[256];
	va_list args;

	va_start(args, format);
	int needed = vsnprintf(small, sizeof(small), format, args);
	va_end(args);
	if (needed < 0) {
		text->failed = true;
		return;
	}
	if ((size_t)needed < sizeof(small)) {
		text_add(text, small, (size_t)needed);
		return;
	}
	char *large = malloc((size_t)needed + 1);
	if (large == NULL) {
		text->failed = true;
		return;
	}
	va_start(args, format);
	vsnprintf(large, (size_t)needed + 1, format, args);
	va_end(args);
	text_add(text, large, (size_t)needed);
	free(large);
}

char *text_finish(struct text *text, size_t *len)
{
	if (text->failed || text->data == NULL) {
		free(text->data);
		text->data = NULL;
		return NULL;
	}
	*len = text->length;
	return text->data;
}
