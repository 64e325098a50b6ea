/* SPDX-License-Identifier: ISC */
/* config_values: value syntax for the configuration file. */
#include "config_values.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool config_number_parse(const char *text, unsigned long long *number)
{
	unsigned long long value = 0;

	if (*text == '\0')
		return false;
	for (; *text != '\0'; text++) {
		if (*text < '0' || *text > '9')
			return false;
		if (value > (~0ULL - 9) / 10)
			return false; /* would overflow; far outside every range anyway */
		value = value * 10 + (unsigned long long)(*text - '0');
	}
	*number = value;
	return true;
}

bool config_port_parse(const char *text, uint16_t *port)
{
	unsigned long long number;

	if (!config_number_parse(text, &number) || number < 1 || number > 65535)
		return false;
	*port = (uint16_t)number;
	return true;
}

bool config_is_ip_address(const char *text)
{
	unsigned char address[16];

	return inet_pton(AF_INET, text, address) == 1 || inet_pton(AF_INET6, text, address) == 1;
}

bool config_is_wildcard_address(const char *address)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, address, &v4) == 1)
		return v4.s_addr == htonl(INADDR_ANY);
	return inet_pton(AF_INET6, address, &v6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&v6);
}

const char *config_address_family_name(const char *address)
{
	return strchr(address, ':') != NULL ? "IPv6" : "IPv4";
}

bool config_is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

bool config_is_host_name(const char *text)
{
	size_t label = 0, length = strlen(text);

	if (length == 0 || length > CONFIG_DOMAIN_NAME_MAX)
		return false;
	for (size_t i = 0; i <= length; i++) {
		char c = text[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || text[i - 1] == '-')
				return false;
			label = 0;
		} else if (!config_is_label_char(c) || (label == 0 && c == '-')) {
			return false;
		} else {
			label++;
		}
	}
	return true;
}

bool config_host_port_split(const char *text, char **host, uint16_t *port)
{
	const char *colon = strchr(text, ':');
	size_t host_length;
	const char *port_text = NULL;
	unsigned char address[16];
	bool bracketed = text[0] == '[';

	*port = 0;
	if (bracketed) {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return false;
		text++;
		host_length = (size_t)(close - text);
		if (close[1] == ':')
			port_text = close + 2;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		host_length = (size_t)(colon - text);
		port_text = colon + 1;
	} else {
		host_length = strlen(text); /* no colon, or a bare IPv6 literal */
	}
	if (port_text != NULL && !config_port_parse(port_text, port))
		return false;

	char *name = strndup(text, host_length);
	if (name == NULL)
		return false;
	/* An IPv4 literal passes as a host name. */
	bool ok = (bracketed || strchr(name, ':') != NULL) ? inet_pton(AF_INET6, name, address) == 1
							   : config_is_host_name(name);
	if (!ok) {
		free(name);
		return false;
	}
	*host = name;
	return true;
}

int config_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *config_skip_spaces(const char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	return text;
}

void config_lower_case(char *text)
{
	for (; *text != '\0'; text++) {
		if (*text >= 'A' && *text <= 'Z')
			*text = (char)(*text - 'A' + 'a');
	}
}

void config_free_strings(char **strings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

bool config_domain_names(const char *configured, const char *domain)
{
	size_t length = strlen(domain);

	if (length > 1 && domain[length - 1] == '.')
		length--;
	return strlen(configured) == length && strncasecmp(configured, domain, length) == 0;
}
