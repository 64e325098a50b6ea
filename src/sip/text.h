/* SPDX-License-Identifier: ISC */
/* text: a growing byte buffer for the messages the edge writes.  A failed
 * allocation is remembered, so a message is built with no check per part
 * and refused once, at the end. */
#ifndef SXEDGE_SIP_TEXT_H
#define SXEDGE_SIP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct text {
	char *data; /* NUL-terminated while not failed */
	size_t length;
	size_t capacity;
	bool failed;
};

void text_add(struct text *text, const char *bytes, size_t length);
void text_add_string(struct text *text, const char *string);
/* Adds printf-formatted text. */
void text_add_format(struct text *text, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Hands over TEXT's buffer (*LEN its length), or NULL, freeing it, when
 * building failed. */
char *text_finish(struct text *text, size_t *len);

#endif
