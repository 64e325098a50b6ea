/* SPDX-License-Identifier: ISC */
/* config_module: how a module brings its own sections to the configuration.
 *
 * A module (the core, or a protocol such as SIP) describes its sections as
 * rows: each section its name, whether it is named ("[partner DOMAIN]") and
 * its option table; each option its key, its parser, where the value goes,
 * its default, range and whether it is required.  The engine (config.c)
 * reads the file into the module's own struct, zeroed and sized by the
 * module, reports unknown, duplicate and missing keys, and then calls the
 * module's check for defaults that depend on other options and for
 * relations between options.  The parsed struct is kept in the snapshot
 * (config_module_data) and freed with the module's free.
 *
 * Adding a section to a module is adding a row to its sections; adding a
 * module is adding it to the schema (src/protocols.c). */
#ifndef SXEDGE_CONFIG_MODULE_H
#define SXEDGE_CONFIG_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CONFIG_QUOTE_SIZE 128 /* room for a value quoted into a message */

struct config_loader;
struct config_option;

/* Parses VALUE into the fields of BASE that OPTION names.  Returns 0, or
 * reports the problem at the current line and returns -1 with BASE unchanged. */
typedef int config_option_parser(struct config_loader *loader, const struct config_option *option,
				 const char *value, void *base);

struct config_option {
	const char *key;
	config_option_parser *parse;
	size_t offset; /* the field, in the section's struct */
	size_t offset2; /* a second field: a list's count, host:port's port, a "set" flag */
	const char *default_value; /* parsed like a value when the key is absent; NULL: none */
	unsigned long long min, max; /* numbers only */
	bool required;
	/* config_parse_keyword: the words, in the order of the field's enum,
	 * NULL-terminated; the message lists them. */
	const char *const *names;
};

struct config_section {
	const char *name;
	/* NULL for a fixed section ([NAME], at most once); for a named one
	 * ([NAME ARGUMENT], any number) what the argument is, e.g. "DOMAIN". */
	const char *argument;
	/* A named section: the problem reported for a bare [NAME]. */
	const char *argument_missing;
	const struct config_option *options;
	size_t n_options;
	/* Options that depend on the schema (the core's per-role budgets): a
	 * malloc'd block of rows (keys included) the engine frees, or NULL. */
	struct config_option *(*schema_options)(const struct config_schema *schema, size_t *n);
	/* A fixed section: where its struct lies in the module's data. */
	size_t offset;
	/* A named section: makes the instance for ARGUMENT (which it may
	 * rewrite in place, e.g. to lower case) and returns where its fields go,
	 * or NULL, having reported why, to skip the section's keys. */
	void *(*begin)(struct config_loader *loader, void *data, char *argument);
};

struct config_module {
	const char *name;
	size_t data_size; /* its parsed struct; 0 for the core, whose data is the snapshot */
	const struct config_section *sections;
	size_t n_sections;
	/* After the whole file is read and the core checked: defaults that
	 * depend on other options, and relations between options. */
	void (*check)(struct config_loader *loader, void *data);
	/* Frees what DATA holds (not DATA itself); also on a failed load. */
	void (*free)(void *data);
};

/* ---- What a module's parsers and checks may ask of the engine ---- */

void config_report(struct config_loader *loader, int line, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
/* The line being read; 0 while the file as a whole is checked. */
int config_current_line(const struct config_loader *loader);
/* The snapshot being built: the core's parts are complete once checks run. */
struct sxedge_config *config_loading(struct config_loader *loader);
/* Every listener has a good role (else role-dependent checks would guess):
 * the core's listener check says so, before any module's check runs. */
bool config_roles_known(const struct config_loader *loader);
void config_mark_roles_known(struct config_loader *loader);
/* Values are the operator's own, but may hold anything: quoted, a message
 * always stays one readable line. */
const char *config_quote(char buf[CONFIG_QUOTE_SIZE], const char *value);
/* A copy of VALUE to keep, or NULL (reported at the current line). */
char *config_copy_value(struct config_loader *loader, const char *value);
void config_report_bad_value(struct config_loader *loader, const struct config_option *option,
			     const char *value, const char *expected);
/* Notes that the entries of list OPTION up to END were set on the current
 * line (for config_list_entry_line). */
void config_list_origin_note(struct config_loader *loader, const struct config_option *option,
			     size_t end);
/* "a, b or c" for the NULL-terminated NAMES, into BUF. */
void config_names_join(char *buf, size_t size, const char *const *names);

/* What the file held of one section: a fixed one (INSTANCE 0) or a named
 * one's INSTANCE-th instance (in the order their begin accepted them). */
struct config_seen;
const struct config_seen *config_seen(const struct config_loader *loader,
				      const struct config_section *section, size_t instance);
/* What the file held of [listener NAME] of config->listeners[INDEX]. */
const struct config_seen *config_listener_seen(const struct config_loader *loader, size_t index);
/* The line of the header; 0 when the section is not in the file. */
int config_seen_line(const struct config_seen *seen);
/* The section holds a line that could not be read as key = value. */
bool config_seen_broken(const struct config_seen *seen);
/* The line KEY was set on if its value is good, else 0. */
int config_key_line(const struct config_seen *seen, const char *key);
/* The line KEY was set on, good or not, else 0. */
int config_key_set_line(const struct config_seen *seen, const char *key);
bool config_key_valid(const struct config_seen *seen, const char *key);
bool config_key_in_file(const struct config_seen *seen, const char *key);
/* The line to blame for a conflict between two keys: the first one set
 * with a good value, else the other, else the section header. */
int config_conflict_line(const struct config_seen *seen, const char *key, const char *other_key);
/* The line entry INDEX of list KEY came from (list keys add up over
 * several lines), or 0 if unknown. */
int config_list_entry_line(const struct config_loader *loader, const struct config_seen *seen,
			   const char *key, size_t index);
/* Parses the defaults of the keys SEEN did not have into BASE. */
void config_apply_defaults(struct config_loader *loader, const struct config_seen *seen,
			   void *base);
/* Reports each required key SEEN lacks, in section LABEL. */
void config_check_required(struct config_loader *loader, const struct config_seen *seen,
			   const char *label);

/* ---- Parsers, one per kind of value (config_keywords.c) ---- */

/* The list parsers (config_parse_name_list: domain names, lower-cased;
 * config_parse_word_list: any words, as written; both a char ** with its
 * count, a size_t, at offset2) take entries separated by commas and/or
 * blanks; their key may be repeated and its lines add up. */

config_option_parser config_parse_u16, config_parse_unsigned, config_parse_size, config_parse_bool,
	config_parse_keyword, config_parse_log_level, config_parse_log_facility,
	config_parse_socket_path, config_parse_name_list, config_parse_word_list,
	config_parse_ip_address, config_parse_host_optional_port, config_parse_ip_optional_port,
	config_parse_ip_port, config_parse_readable_file, config_parse_secret;

#endif
