/* SPDX-License-Identifier: ISC */
/* config: the engine that loads a configuration file (format:
 * sxedge.conf(5)) into a snapshot, and the snapshot's life.
 *
 * The reader (config_reader.c) says what each line is; this file finds the
 * section a header names among the modules' rows (config_module.h), the
 * option a key names among that section's rows, keeps what was seen of each
 * section (where each key was set, whether its value was good), and once
 * the file is read has the core and then each module check the whole.
 * Loading never stops at the first problem: each is kept
 * (config_problems.c) and all are written at the end, sorted by line, and
 * the half-built snapshot is freed if there was any. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_core.h"
#include "config_module.h"
#include "config_problems.h"
#include "config_reader.h"
#include "config_values.h"

/* A section the file may hold: a module's row, with its options. */
struct section_type {
	const struct config_section *section;
	const struct config_module *module;
	void *data; /* the module's parsed struct */
	const struct config_option *options;
	size_t n_options;
	struct config_option *schema_options; /* owned: options, when made for the schema */
	size_t instances; /* of a named section, begun so far */
};

/* What was seen of one section (or one instance of a named one). */
struct config_seen {
	const struct section_type *type;
	size_t instance;
	int line; /* of the header; 0: not in the file */
	bool broken; /* holds a line that could not be read as key = value */
	int *key_line; /* where each option was set; 0: not set */
	bool *valid; /* the field holds a good value (from the file or default) */
};

/* Entries up to END of a list key came from LINE. */
struct list_origin {
	const struct config_seen *seen;
	size_t option;
	size_t end;
	int line;
};

struct config_loader {
	struct config_problems problems;
	int line; /* being read; 0 once the file as a whole is checked */
	struct sxedge_config *config;
	const struct config_schema *schema;
	struct section_type *types;
	size_t n_types;
	struct config_seen **seen;
	size_t n_seen;
	struct list_origin *list_origins;
	size_t n_list_origins;
	bool roles_known;
	bool out_of_memory;

	/* The section the current line belongs to: NULL before the first
	 * header and after one that was reported (SKIPPING). */
	struct config_seen *current;
	bool skipping;
	void *base;
	char label[CONFIG_DOMAIN_NAME_MAX + 16]; /* "global", "partner partner.test" */
};

/* ---- For modules ---- */

void config_report(struct config_loader *loader, int line, const char *format, ...)
{
	char *text = NULL;
	va_list args;

	va_start(args, format);
	int n = vasprintf(&text, format, args);
	va_end(args);
	config_problem(&loader->problems, line, "%s", n < 0 ? "(out of memory)" : text);
	if (n >= 0)
		free(text);
}

int config_current_line(const struct config_loader *loader)
{
	return loader->line;
}

struct sxedge_config *config_loading(struct config_loader *loader)
{
	return loader->config;
}

bool config_roles_known(const struct config_loader *loader)
{
	return loader->roles_known;
}

void config_mark_roles_known(struct config_loader *loader)
{
	loader->roles_known = true;
}

const char *config_quote(char buf[CONFIG_QUOTE_SIZE], const char *value)
{
	return log_quote(buf, CONFIG_QUOTE_SIZE, value);
}

char *config_copy_value(struct config_loader *loader, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL)
		config_report(loader, loader->line, "out of memory");
	return copy;
}

void config_report_bad_value(struct config_loader *loader, const struct config_option *option,
			     const char *value, const char *expected)
{
	char quoted[CONFIG_QUOTE_SIZE];

	config_report(loader, loader->line, "bad value %s for %s: expected %s",
		      config_quote(quoted, value), option->key, expected);
}

/* ---- What was seen ---- */

static size_t option_index(const struct section_type *type, const char *key)
{
	for (size_t i = 0; i < type->n_options; i++) {
		if (strcmp(type->options[i].key, key) == 0)
			return i;
	}
	return type->n_options;
}

static struct config_seen *seen_new(struct config_loader *loader, const struct section_type *type,
				    size_t instance, int line)
{
	struct config_seen **grown = realloc(loader->seen, (loader->n_seen + 1) * sizeof(*grown));
	struct config_seen *seen = calloc(1, sizeof(*seen));
	size_t n = type->n_options > 0 ? type->n_options : 1;

	if (grown != NULL)
		loader->seen = grown;
	if (seen != NULL) {
		seen->key_line = calloc(n, sizeof(*seen->key_line));
		seen->valid = calloc(n, sizeof(*seen->valid));
	}
	if (grown == NULL || seen == NULL || seen->key_line == NULL || seen->valid == NULL) {
		if (seen != NULL) {
			free(seen->key_line);
			free(seen->valid);
		}
		free(seen);
		config_report(loader, line, "out of memory");
		loader->out_of_memory = true;
		return NULL;
	}
	seen->type = type;
	seen->instance = instance;
	seen->line = line;
	loader->seen[loader->n_seen++] = seen;
	return seen;
}

const struct config_seen *config_seen(const struct config_loader *loader,
				      const struct config_section *section, size_t instance)
{
	for (size_t i = 0; i < loader->n_seen; i++) {
		const struct config_seen *seen = loader->seen[i];
		if (seen->type->section == section && seen->instance == instance)
			return seen;
	}
	return NULL;
}

int config_seen_line(const struct config_seen *seen)
{
	return seen->line;
}

bool config_seen_broken(const struct config_seen *seen)
{
	return seen->broken;
}

int config_key_set_line(const struct config_seen *seen, const char *key)
{
	size_t i = option_index(seen->type, key);
	return i < seen->type->n_options ? seen->key_line[i] : 0;
}

bool config_key_valid(const struct config_seen *seen, const char *key)
{
	size_t i = option_index(seen->type, key);
	return i < seen->type->n_options && seen->valid[i];
}

int config_key_line(const struct config_seen *seen, const char *key)
{
	return config_key_valid(seen, key) ? config_key_set_line(seen, key) : 0;
}

bool config_key_in_file(const struct config_seen *seen, const char *key)
{
	return config_key_set_line(seen, key) != 0;
}

int config_conflict_line(const struct config_seen *seen, const char *key, const char *other_key)
{
	int line = config_key_line(seen, key);
	if (line == 0)
		line = config_key_line(seen, other_key);
	return line != 0 ? line : seen->line;
}

void config_list_origin_note(struct config_loader *loader, const struct config_option *option,
			     size_t end)
{
	struct list_origin *grown =
		realloc(loader->list_origins, (loader->n_list_origins + 1) * sizeof(*grown));

	if (grown == NULL || loader->current == NULL)
		return; /* checks on single entries then blame the section header */
	loader->list_origins = grown;
	grown[loader->n_list_origins++] = (struct list_origin){
		.seen = loader->current,
		.option = (size_t)(option - loader->current->type->options),
		.end = end,
		.line = loader->line,
	};
}

int config_list_entry_line(const struct config_loader *loader, const struct config_seen *seen,
			   const char *key, size_t index)
{
	size_t option = option_index(seen->type, key);

	for (size_t i = 0; i < loader->n_list_origins; i++) {
		const struct list_origin *origin = &loader->list_origins[i];
		if (origin->seen == seen && origin->option == option && index < origin->end)
			return origin->line;
	}
	return 0;
}

void config_apply_defaults(struct config_loader *loader, const struct config_seen *seen, void *base)
{
	const struct section_type *type = seen->type;

	for (size_t i = 0; i < type->n_options; i++) {
		const struct config_option *option = &type->options[i];
		if (seen->key_line[i] != 0 || option->default_value == NULL)
			continue;
		/* Defaults are in range by construction; a failure here is our bug,
		 * and is reported like any other so it cannot go unnoticed. */
		seen->valid[i] = option->parse(loader, option, option->default_value, base) == 0;
	}
}

void config_check_required(struct config_loader *loader, const struct config_seen *seen,
			   const char *label)
{
	/* The "missing" key may well be on the broken line: one error is enough. */
	if (seen->broken)
		return;
	for (size_t i = 0; i < seen->type->n_options; i++) {
		if (seen->type->options[i].required && seen->key_line[i] == 0)
			config_report(loader, seen->line, "missing required key %s in [%s]",
				      seen->type->options[i].key, label);
	}
}

/* ---- Reading ---- */

static void section_enter(struct config_loader *loader, struct config_seen *seen, void *base,
			  const char *label)
{
	loader->current = seen;
	loader->skipping = false;
	loader->base = base;
	snprintf(loader->label, sizeof(loader->label), "%s", label);
}

static void section_skip(struct config_loader *loader)
{
	section_enter(loader, NULL, NULL, "");
	loader->skipping = true;
}

/* NAME is "KEYWORD", "KEYWORD NAME" or something else: returns NAME for the
 * second (the keyword and blanks skipped), "" for the first, else NULL. */
static const char *section_argument(const char *name, const char *keyword)
{
	size_t length = strlen(keyword);

	if (strncmp(name, keyword, length) != 0)
		return NULL;
	if (name[length] == '\0')
		return "";
	if (name[length] != ' ' && name[length] != '\t')
		return NULL;
	return config_skip_spaces(name + length);
}

static void fixed_section_begin(struct config_loader *loader, struct section_type *type)
{
	struct config_seen *seen = (struct config_seen *)config_seen(loader, type->section, 0);

	if (seen == NULL) {
		section_skip(loader);
		return;
	}
	/* Merging two [pool] sections would hide a copy-and-paste mistake. */
	if (seen->line != 0)
		config_report(loader, loader->line, "duplicate section [%s] (first at line %d)",
			      type->section->name, seen->line);
	else
		seen->line = loader->line;
	section_enter(loader, seen, (char *)type->data + type->section->offset,
		      type->section->name);
}

static void named_section_begin(struct config_loader *loader, struct section_type *type,
				const char *argument)
{
	char *name = strdup(argument);
	if (name == NULL) {
		config_report(loader, loader->line, "out of memory");
		section_skip(loader);
		return;
	}
	void *base = type->section->begin(loader, type->data, name);
	struct config_seen *seen =
		base == NULL ? NULL : seen_new(loader, type, type->instances, loader->line);
	if (seen == NULL) {
		free(name);
		section_skip(loader);
		return;
	}
	type->instances++;
	char label[sizeof(loader->label)];
	snprintf(label, sizeof(label), "%s %s", type->section->name, name);
	section_enter(loader, seen, base, label);
	free(name);
}

/* "[global], [limits], [listener NAME] or [partner DOMAIN]" */
static void report_unknown_section(struct config_loader *loader, const char *name)
{
	char quoted[CONFIG_QUOTE_SIZE], expected[512];
	size_t used = 0;

	expected[0] = '\0';
	for (size_t i = 0; i < loader->n_types && used < sizeof(expected); i++) {
		const struct config_section *section = loader->types[i].section;
		const char *separator = i == 0 ? "" : i + 1 == loader->n_types ? " or " : ", ";
		int n = snprintf(expected + used, sizeof(expected) - used, "%s[%s%s%s]", separator,
				 section->name, section->argument != NULL ? " " : "",
				 section->argument != NULL ? section->argument : "");
		if (n < 0)
			break;
		used += (size_t)n;
	}
	config_report(loader, loader->line, "unknown section %s: expected %s",
		      config_quote(quoted, name), expected);
}

static void on_section(void *user, int line, const char *name)
{
	struct config_loader *loader = user;

	loader->line = line;
	for (size_t i = 0; i < loader->n_types; i++) {
		if (loader->types[i].section->argument == NULL &&
		    strcmp(name, loader->types[i].section->name) == 0) {
			fixed_section_begin(loader, &loader->types[i]);
			return;
		}
	}
	for (size_t i = 0; i < loader->n_types; i++) {
		const struct config_section *section = loader->types[i].section;
		const char *argument =
			section->argument == NULL ? NULL : section_argument(name, section->name);
		if (argument == NULL)
			continue;
		if (*argument == '\0') {
			config_report(loader, line, "%s", section->argument_missing);
			section_skip(loader);
		} else {
			named_section_begin(loader, &loader->types[i], argument);
		}
		return;
	}
	report_unknown_section(loader, name);
	section_skip(loader);
}

/* A list's key may be repeated: its lines add up. */
static bool is_list(const struct config_option *option)
{
	return option->parse == config_parse_name_list || option->parse == config_parse_word_list;
}

static void on_pair(void *user, int line, const char *key, const char *value)
{
	struct config_loader *loader = user;
	char quoted[CONFIG_QUOTE_SIZE];

	loader->line = line;
	if (loader->skipping)
		return; /* the header was reported; its keys would only add noise */
	if (loader->current == NULL) {
		config_report(loader, line, "key %s outside of any section",
			      config_quote(quoted, key));
		return;
	}
	struct config_seen *seen = loader->current;
	size_t i = option_index(seen->type, key);
	if (i == seen->type->n_options) {
		config_report(loader, line, "unknown key %s in [%s]", config_quote(quoted, key),
			      loader->label);
		return;
	}
	const struct config_option *option = &seen->type->options[i];
	if (seen->key_line[i] != 0 && !is_list(option)) {
		config_report(loader, line, "duplicate key %s in [%s] (first at line %d)",
			      option->key, loader->label, seen->key_line[i]);
		return;
	}
	seen->key_line[i] = line;
	seen->valid[i] = option->parse(loader, option, value, loader->base) == 0;
}

static void on_broken_line(void *user, int line, const char *message)
{
	struct config_loader *loader = user;

	config_report(loader, line, "%s", message);
	if (loader->current != NULL)
		loader->current->broken = true;
}

static void on_broken_header(void *user, int line, const char *message)
{
	struct config_loader *loader = user;

	config_report(loader, line, "%s", message);
	section_skip(loader);
}

static void on_read_failed(void *user, int line, const char *message)
{
	config_report(user, line, "%s", message);
}

static const struct config_reader_handlers handlers = {
	.section = on_section,
	.pair = on_pair,
	.broken_line = on_broken_line,
	.broken_header = on_broken_header,
	.read_failed = on_read_failed,
};

/* ---- Loading ---- */

static int add_types(struct config_loader *loader, const struct config_module *module, void *data)
{
	for (size_t i = 0; i < module->n_sections; i++) {
		const struct config_section *section = &module->sections[i];
		struct section_type *type = &loader->types[loader->n_types++];
		*type = (struct section_type){ .section = section,
					       .module = module,
					       .data = data,
					       .options = section->options,
					       .n_options = section->n_options };
		if (section->schema_options != NULL) {
			type->schema_options =
				section->schema_options(loader->schema, &type->n_options);
			if (type->schema_options == NULL)
				return -1;
			type->options = type->schema_options;
		}
		if (section->argument == NULL && seen_new(loader, type, 0, 0) == NULL)
			return -1;
	}
	return 0;
}

/* The snapshot's module structs, and the section types of every module
 * (in one array that never moves: what was seen points into it). */
static int loader_prepare(struct config_loader *loader)
{
	struct sxedge_config *config = loader->config;
	const struct config_schema *schema = loader->schema;
	size_t n_sections = config_core_module.n_sections;

	if (schema->n_modules > CONFIG_MODULES_MAX || schema->n_roles > CONFIG_ROLES_MAX)
		return -1;
	for (size_t i = 0; i < schema->n_modules; i++)
		n_sections += schema->modules[i]->n_sections;
	loader->types = calloc(n_sections, sizeof(*loader->types));
	if (loader->types == NULL || add_types(loader, &config_core_module, config) < 0)
		return -1;
	for (size_t i = 0; i < schema->n_modules; i++) {
		const struct config_module *module = schema->modules[i];
		config->modules[i] = calloc(1, module->data_size > 0 ? module->data_size : 1);
		if (config->modules[i] == NULL || add_types(loader, module, config->modules[i]) < 0)
			return -1;
	}
	return 0;
}

static void loader_clear(struct config_loader *loader)
{
	for (size_t i = 0; i < loader->n_seen; i++) {
		free(loader->seen[i]->key_line);
		free(loader->seen[i]->valid);
		free(loader->seen[i]);
	}
	free(loader->seen);
	for (size_t i = 0; i < loader->n_types; i++)
		free(loader->types[i].schema_options);
	free(loader->types);
	free(loader->list_origins);
}

static void config_free(struct sxedge_config *config)
{
	const struct config_schema *schema = config->schema;

	for (size_t i = 0; i < schema->n_modules; i++) {
		if (config->modules[i] == NULL)
			continue;
		schema->modules[i]->free(config->modules[i]);
		free(config->modules[i]);
	}
	config_core_module.free(config);
	free(config->path);
	explicit_bzero(config, sizeof(*config)); /* the flow secret */
	free(config);
}

static FILE *open_file(const char *path)
{
	struct stat status;
	FILE *file = fopen(path, "re");

	if (file != NULL && fstat(fileno(file), &status) == 0 && S_ISDIR(status.st_mode)) {
		fclose(file);
		file = NULL;
		errno = EISDIR;
	}
	return file;
}

const struct sxedge_config *config_load(const char *path, FILE *errors,
					const struct config_schema *schema)
{
	struct config_loader loader = { .schema = schema };
	FILE *file;

	config_problems_init(&loader.problems, path, errors);
	file = open_file(path);
	if (file == NULL) {
		config_report(&loader, 0, "cannot open: %s", strerror(errno));
		config_problems_write(&loader.problems);
		return NULL;
	}
	loader.config = calloc(1, sizeof(*loader.config));
	if (loader.config != NULL) {
		loader.config->schema = schema;
		atomic_init(&loader.config->references, 1);
	}
	if (loader.config == NULL || (loader.config->path = strdup(path)) == NULL ||
	    loader_prepare(&loader) < 0) {
		config_report(&loader, 0, "out of memory");
	} else {
		config_read(file, &handlers, &loader);
		loader.line = 0;
		if (!loader.out_of_memory) {
			config_core_module.check(&loader, loader.config);
			for (size_t i = 0; i < schema->n_modules; i++)
				schema->modules[i]->check(&loader, loader.config->modules[i]);
		}
	}
	fclose(file);
	loader_clear(&loader);
	config_problems_write(&loader.problems);
	if (loader.problems.count > 0) {
		if (loader.config != NULL)
			config_free(loader.config);
		return NULL;
	}
	return loader.config;
}

/* ---- The snapshot ---- */

const struct sxedge_config *config_ref(const struct sxedge_config *config)
{
	struct sxedge_config *shared = (struct sxedge_config *)config;
	atomic_fetch_add_explicit(&shared->references, 1, memory_order_relaxed);
	return config;
}

void config_unref(const struct sxedge_config *config)
{
	struct sxedge_config *shared = (struct sxedge_config *)config;

	if (config == NULL)
		return;
	/* The last holder frees it; what the others wrote is theirs to see
	 * before (acquire/release), as with any shared object. */
	if (atomic_fetch_sub_explicit(&shared->references, 1, memory_order_acq_rel) == 1)
		config_free(shared);
}

const void *config_module_data(const struct sxedge_config *config,
			       const struct config_module *module)
{
	for (size_t i = 0; i < config->schema->n_modules; i++) {
		if (config->schema->modules[i] == module)
			return config->modules[i];
	}
	return NULL;
}

const struct listener_config *config_listener(const struct sxedge_config *config, unsigned role)
{
	for (size_t i = 0; i < config->n_listeners; i++) {
		if (config->listeners[i].role == role)
			return &config->listeners[i];
	}
	return NULL;
}

const struct config_role *config_listener_role(const struct sxedge_config *config,
					       const struct listener_config *listener)
{
	return &config->schema->roles[listener->role];
}

bool config_is_our_domain(const struct sxedge_config *config, const char *domain)
{
	if (domain == NULL)
		return false;
	for (size_t i = 0; i < config->n_domains; i++) {
		if (config_domain_names(config->domains[i], domain))
			return true;
	}
	return false;
}
