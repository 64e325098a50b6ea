/* SPDX-License-Identifier: ISC */
/* metrics: the registry, its naming rules, and the Prometheus text page.
 *
 * Families and children live in arrays of pointers kept sorted (by name, by
 * label values) as they are registered, which is rare, so rendering walks
 * them in order and a handle never moves. */
#include "metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define METRIC_NAME_PREFIX "sxedge_"
#define METRIC_OTHER	   "other"

struct metric_child {
	char *label_values[METRIC_LABELS_MAX];
	uint64_t count; /* counters */
	int64_t level; /* gauges without a reader */
	metric_gauge_reader *read;
	void *read_arg;
};

/* The handles a module holds: a child seen through its type, so counting
 * into a gauge or setting a counter does not compile. */
struct metric_counter {
	struct metric_child child;
};

struct metric_gauge {
	struct metric_child child;
};

struct metric_family {
	enum metric_type type;
	char *name;
	char *help;
	char *label_names[METRIC_LABELS_MAX];
	size_t label_count;
	struct metric_child **children; /* sorted by label values */
	size_t child_count;
	size_t child_slots;
	bool full_logged;
};

struct metrics {
	struct metric_family **families; /* sorted by name */
	size_t family_count;
	size_t family_slots;
};

/* ---- names ---- */

static bool metric_is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* sxedge_ and lower-case words; counters end in _total, gauges do not.  No
 * colons: Prometheus keeps them for recording rules. */
static bool metric_name_valid(enum metric_type type, const char *name)
{
	size_t length = strlen(name);
	size_t prefix = strlen(METRIC_NAME_PREFIX);
	static const char total[] = "_total";
	size_t total_length = sizeof(total) - 1;

	if (length <= prefix || strncmp(name, METRIC_NAME_PREFIX, prefix) != 0)
		return false;
	for (size_t i = prefix; i < length; i++)
		if (!metric_is_word_char(name[i]))
			return false;
	bool ends_total = length >= prefix + 1 + total_length &&
			  strcmp(name + length - total_length, total) == 0;
	return type == METRIC_COUNTER ? ends_total : !ends_total;
}

/* A lower-case word not starting with a digit; names starting with __ are
 * Prometheus' own. */
static bool metric_label_name_valid(const char *name)
{
	if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9') || strncmp(name, "__", 2) == 0)
		return false;
	for (const char *c = name; *c != '\0'; c++)
		if (!metric_is_word_char(*c))
			return false;
	return true;
}

/* ---- the registry ---- */

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

static void metric_child_free(struct metric_child *child)
{
	for (size_t i = 0; i < METRIC_LABELS_MAX; i++)
		free(child->label_values[i]);
	free(child);
}

static void metric_family_free(struct metric_family *family)
{
	for (size_t i = 0; i < family->child_count; i++)
		metric_child_free(family->children[i]);
	free(family->children);
	for (size_t i = 0; i < METRIC_LABELS_MAX; i++)
		free(family->label_names[i]);
	free(family->name);
	free(family->help);
	free(family);
}

void metrics_free(struct metrics *registry)
{
	if (registry == NULL)
		return;
	for (size_t i = 0; i < registry->family_count; i++)
		metric_family_free(registry->families[i]);
	free(registry->families);
	free(registry);
}

/* ITEMS (COUNT of them, room for *SLOTS) with room for one more of SIZE
 * bytes, or NULL without memory (ITEMS is then left as it was). */
static void *metric_array_reserve(void *items, size_t count, size_t *slots, size_t size)
{
	if (count < *slots)
		return items;
	size_t grown = *slots == 0 ? 8 : *slots * 2;
	void *more = realloc(items, grown * size);
	if (more != NULL)
		*slots = grown;
	return more;
}

static bool metric_family_matches(const struct metric_family *family, enum metric_type type,
				  const char *const *label_names, size_t label_count)
{
	if (family->type != type || family->label_count != label_count)
		return false;
	for (size_t i = 0; i < label_count; i++)
		if (strcmp(family->label_names[i], label_names[i]) != 0)
			return false;
	return true;
}

static struct metric_family *metric_family_new(enum metric_type type, const char *name,
					       const char *help, const char *const *label_names,
					       size_t label_count)
{
	struct metric_family *family = calloc(1, sizeof(*family));

	if (family == NULL)
		return NULL;
	family->type = type;
	family->label_count = label_count;
	family->name = strdup(name);
	family->help = strdup(help);
	bool complete = family->name != NULL && family->help != NULL;
	for (size_t i = 0; i < label_count; i++) {
		family->label_names[i] = strdup(label_names[i]);
		complete = complete && family->label_names[i] != NULL;
	}
	if (!complete) {
		metric_family_free(family);
		return NULL;
	}
	return family;
}

struct metric_family *metrics_register(struct metrics *registry, enum metric_type type,
				       const char *name, const char *help,
				       const char *const *label_names)
{
	size_t label_count = 0;

	if (registry == NULL || name == NULL || help == NULL || !metric_name_valid(type, name))
		return NULL;
	for (; label_names != NULL && label_names[label_count] != NULL; label_count++) {
		if (label_count == METRIC_LABELS_MAX ||
		    !metric_label_name_valid(label_names[label_count]))
			return NULL;
		for (size_t i = 0; i < label_count; i++)
			if (strcmp(label_names[i], label_names[label_count]) == 0)
				return NULL;
	}

	/* Where NAME goes in the sorted list, or the family already there. */
	size_t at = 0;
	for (; at < registry->family_count; at++) {
		int order = strcmp(registry->families[at]->name, name);
		if (order == 0) {
			struct metric_family *existing = registry->families[at];
			return metric_family_matches(existing, type, label_names, label_count)
				       ? existing
				       : NULL;
		}
		if (order > 0)
			break;
	}
	struct metric_family **families =
		metric_array_reserve(registry->families, registry->family_count,
				     &registry->family_slots, sizeof(*families));
	if (families == NULL)
		return NULL;
	registry->families = families;
	struct metric_family *family =
		metric_family_new(type, name, help, label_names, label_count);
	if (family == NULL)
		return NULL;
	memmove(&registry->families[at + 1], &registry->families[at],
		(registry->family_count - at) * sizeof(*registry->families));
	registry->families[at] = family;
	registry->family_count++;
	return family;
}

/* ---- children ---- */

/* Orders label value lists as tuples, so children render sorted. */
static int metric_values_compare(const struct metric_family *family, char *const *values,
				 const char *const *other)
{
	for (size_t i = 0; i < family->label_count; i++) {
		int order = strcmp(values[i], other[i]);
		if (order != 0)
			return order;
	}
	return 0;
}

/* Where the child with VALUES is in FAMILY (*FOUND) or would go. */
static size_t metric_child_position(const struct metric_family *family, const char *const *values,
				    bool *found)
{
	size_t at = 0;

	*found = false;
	for (; at < family->child_count; at++) {
		int order =
			metric_values_compare(family, family->children[at]->label_values, values);
		if (order >= 0) {
			*found = order == 0;
			break;
		}
	}
	return at;
}

/* A new child with VALUES at position AT; NULL without memory.  It is
 * allocated as the handle type of its family, which the handles are cast
 * back to. */
static struct metric_child *metric_child_insert(struct metric_family *family, size_t at,
						const char *const *values)
{
	struct metric_child *child;

	struct metric_child **children = metric_array_reserve(
		family->children, family->child_count, &family->child_slots, sizeof(*children));
	if (children == NULL)
		return NULL;
	family->children = children;
	if (family->type == METRIC_COUNTER) {
		struct metric_counter *counter = calloc(1, sizeof(*counter));
		child = counter == NULL ? NULL : &counter->child;
	} else {
		struct metric_gauge *gauge = calloc(1, sizeof(*gauge));
		child = gauge == NULL ? NULL : &gauge->child;
	}
	if (child == NULL)
		return NULL;
	for (size_t i = 0; i < family->label_count; i++) {
		child->label_values[i] = strdup(values[i]);
		if (child->label_values[i] == NULL) {
			metric_child_free(child);
			return NULL;
		}
	}
	memmove(&family->children[at + 1], &family->children[at],
		(family->child_count - at) * sizeof(*family->children));
	family->children[at] = child;
	family->child_count++;
	return child;
}

/* The child with LABEL_VALUES, created when missing, or the `other` child
 * when the family is full. */
static struct metric_child *metric_child_find(struct metric_family *family, enum metric_type type,
					      const char *const *label_values)
{
	const char *other[METRIC_LABELS_MAX];
	size_t count = 0;
	bool found;

	if (family == NULL || family->type != type)
		return NULL;
	for (; label_values != NULL && label_values[count] != NULL; count++) {
		if (count == family->label_count || label_values[count][0] == '\0')
			return NULL;
	}
	if (count != family->label_count)
		return NULL;

	size_t at = metric_child_position(family, label_values, &found);
	if (found)
		return family->children[at];
	if (family->child_count < METRIC_CHILDREN_MAX)
		return metric_child_insert(family, at, label_values);

	/* Full: a new set of values counts as `other`, beyond the cap once. */
	if (!family->full_logged) {
		family->full_logged = true;
		log_event(LOG_LEVEL_WARNING, "metrics_family_full", "family=%s children_max=%d",
			  family->name, METRIC_CHILDREN_MAX);
	}
	for (size_t i = 0; i < family->label_count; i++)
		other[i] = METRIC_OTHER;
	at = metric_child_position(family, other, &found);
	return found ? family->children[at] : metric_child_insert(family, at, other);
}

struct metric_counter *metric_counter(struct metric_family *family, const char *const *label_values)
{
	return (struct metric_counter *)metric_child_find(family, METRIC_COUNTER, label_values);
}

struct metric_gauge *metric_gauge(struct metric_family *family, const char *const *label_values)
{
	return (struct metric_gauge *)metric_child_find(family, METRIC_GAUGE, label_values);
}

void metric_counter_add(struct metric_counter *counter, uint64_t amount)
{
	if (counter != NULL)
		counter->child.count += amount;
}

void metric_gauge_set(struct metric_gauge *gauge, int64_t level)
{
	if (gauge != NULL)
		gauge->child.level = level;
}

void metric_gauge_add(struct metric_gauge *gauge, int64_t delta)
{
	if (gauge != NULL)
		gauge->child.level += delta;
}

void metric_gauge_read_by(struct metric_gauge *gauge, metric_gauge_reader *read, void *arg)
{
	if (gauge == NULL)
		return;
	gauge->child.read = read;
	gauge->child.read_arg = arg;
}

/* ---- the text page ---- */

/* Appends TEXT with backslash and newline escaped, and the double quote too
 * when IN_LABEL (a HELP text leaves quotes as they are). */
static int metric_append_escaped(struct evbuffer *out, const char *text, bool in_label)
{
	const char *run = text;

	for (const char *c = text;; c++) {
		const char *escape = NULL;
		if (*c == '\\')
			escape = "\\\\";
		else if (*c == '\n')
			escape = "\\n";
		else if (*c == '"' && in_label)
			escape = "\\\"";
		else if (*c != '\0')
			continue;
		if (evbuffer_add(out, run, (size_t)(c - run)) < 0)
			return -1;
		if (escape == NULL)
			return 0;
		if (evbuffer_add(out, escape, 2) < 0)
			return -1;
		run = c + 1;
	}
}

static int metric_render_child(const struct metric_family *family, const struct metric_child *child,
			       struct evbuffer *out)
{
	if (evbuffer_add(out, family->name, strlen(family->name)) < 0)
		return -1;
	for (size_t i = 0; i < family->label_count; i++) {
		if (evbuffer_add_printf(out, "%c%s=\"", i == 0 ? '{' : ',',
					family->label_names[i]) < 0 ||
		    metric_append_escaped(out, child->label_values[i], true) < 0 ||
		    evbuffer_add(out, "\"", 1) < 0)
			return -1;
	}
	if (family->label_count > 0 && evbuffer_add(out, "}", 1) < 0)
		return -1;
	int written;
	if (family->type == METRIC_COUNTER)
		written = evbuffer_add_printf(out, " %" PRIu64 "\n", child->count);
	else if (child->read != NULL)
		written = evbuffer_add_printf(out, " %" PRId64 "\n", child->read(child->read_arg));
	else
		written = evbuffer_add_printf(out, " %" PRId64 "\n", child->level);
	return written < 0 ? -1 : 0;
}

static int metric_render_family(const struct metric_family *family, struct evbuffer *out)
{
	if (family->child_count == 0)
		return 0;
	if (evbuffer_add_printf(out, "# HELP %s ", family->name) < 0 ||
	    metric_append_escaped(out, family->help, false) < 0 ||
	    evbuffer_add_printf(out, "\n# TYPE %s %s\n", family->name,
				family->type == METRIC_COUNTER ? "counter" : "gauge") < 0)
		return -1;
	for (size_t i = 0; i < family->child_count; i++)
		if (metric_render_child(family, family->children[i], out) < 0)
			return -1;
	return 0;
}

int metrics_render(const struct metrics *registry, struct evbuffer *out)
{
	if (registry == NULL)
		return 0;
	for (size_t i = 0; i < registry->family_count; i++)
		if (metric_render_family(registry->families[i], out) < 0)
			return -1;
	return 0;
}
