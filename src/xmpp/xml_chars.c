/* SPDX-License-Identifier: ISC */
/* xml_chars: a strict UTF-8 decoder (no overlong forms, no surrogates) and
 * the character classes of XML 1.0 fifth edition §2.2 and §2.3. */
#include "xml_chars.h"

#include <stdint.h>
#include <string.h>

#define INVALID UINT32_MAX

/* The code point at *AT (advanced past it), or INVALID. */
static uint32_t decode(const unsigned char *text, size_t len, size_t *at)
{
	unsigned char first = text[*at];
	size_t extra;
	uint32_t point, minimum;

	if (first < 0x80) {
		(*at)++;
		return first;
	} else if ((first & 0xe0) == 0xc0) {
		extra = 1, point = first & 0x1f, minimum = 0x80;
	} else if ((first & 0xf0) == 0xe0) {
		extra = 2, point = first & 0x0f, minimum = 0x800;
	} else if ((first & 0xf8) == 0xf0) {
		extra = 3, point = first & 0x07, minimum = 0x10000;
	} else {
		return INVALID;
	}
	if (len - *at <= extra)
		return INVALID;
	for (size_t i = 1; i <= extra; i++) {
		if ((text[*at + i] & 0xc0) != 0x80)
			return INVALID;
		point = point << 6 | (text[*at + i] & 0x3f);
	}
	*at += extra + 1;
	if (point < minimum || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))
		return INVALID;
	return point;
}

static bool is_char(uint32_t c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	       (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* NameStartChar without ':' */
static bool is_name_start(uint32_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z') ||
	       (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) ||
	       (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) ||
	       (c >= 0x200c && c <= 0x200d) || (c >= 0x2070 && c <= 0x218f) ||
	       (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
	       (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd) ||
	       (c >= 0x10000 && c <= 0xeffff);
}

static bool is_name_char(uint32_t c)
{
	return is_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 0xb7 ||
	       (c >= 0x300 && c <= 0x36f) || (c >= 0x203f && c <= 0x2040);
}

bool xml_chars_valid(const char *text, size_t len)
{
	for (size_t at = 0; at < len;) {
		uint32_t c = decode((const unsigned char *)text, len, &at);
		if (c == INVALID || !is_char(c))
			return false;
	}
	return true;
}

bool xml_chars_ncname(const char *name)
{
	size_t len = strlen(name);
	if (len == 0)
		return false;
	for (size_t at = 0; at < len;) {
		bool first = at == 0;
		uint32_t c = decode((const unsigned char *)name, len, &at);
		if (c == INVALID || !(first ? is_name_start(c) : is_name_char(c)))
			return false;
	}
	return true;
}
