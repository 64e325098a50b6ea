/* SPDX-License-Identifier: ISC */
/* config_values: the syntax of the values a configuration file holds
 * (numbers, ports, addresses, host names, host:port pairs, hex), as pure
 * functions with no reporting, shared by every section's parsers. */
#ifndef SXEDGE_CONFIG_VALUES_H
#define SXEDGE_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DOMAIN_NAME_MAX 253

/* Decimal digits only: no sign, no spaces, no 0x, no trailing junk. */
bool config_number_parse(const char *text, unsigned long long *number);
/* A port 1 to 65535. */
bool config_port_parse(const char *text, uint16_t *port);
bool config_is_ip_address(const char *text);
/* 0.0.0.0 or :: */
bool config_is_wildcard_address(const char *address);
/* "IPv6" for a literal with a colon, else "IPv4". */
const char *config_address_family_name(const char *address);
/* A letter, digit or hyphen. */
bool config_is_label_char(char c);
/* A DNS host name: dot-separated labels of 1..63 letters, digits and
 * hyphens, no hyphen at either end of a label, 253 characters at most. */
bool config_is_host_name(const char *text);
/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal (no port).
 * On success *HOST is malloc'd (without brackets) and *PORT is 0 when absent. */
bool config_host_port_split(const char *text, char **host, uint16_t *port);
/* The value of a hex digit, or -1. */
int config_hex_digit(char c);
const char *config_skip_spaces(const char *text);
void config_lower_case(char *text);
void config_free_strings(char **strings, size_t n);
/* Whether DOMAIN, from a message, names the CONFIGURED one: case aside, and
 * with or without the trailing dot of a fully qualified name. */
bool config_domain_names(const char *configured, const char *domain);

#endif
