/* SPDX-License-Identifier: ISC */
/* metrics: counters and gauges with labels, and their Prometheus text page.
 *
 * A registry belongs to one worker (one event loop) and is touched only from
 * its thread, so counting takes no lock and no atomic.  A module registers
 * its families once, takes a handle to each child (one set of label values)
 * it will count into, and keeps the handles: counting a relayed message is
 * then one addition, with no lookup and no allocation.
 *
 * Names follow Prometheus' conventions, and the registry refuses others:
 * `sxedge_` and lower-case words, counters end in `_total`, gauges do not,
 * values in base units (seconds, bytes).  Label values must come from the
 * code, never from the wire: roles, the names of reason enums (the same word
 * the log line carries), methods from a fixed list with `other`.  As a last
 * guard a family holds at most METRIC_CHILDREN_MAX children; past that every
 * new set of label values counts into one child whose values are all
 * `other`, and a warning is logged once.
 *
 * Every function takes NULL for a registry, a family or a child and then does
 * nothing (returns NULL), so code keeps its handles unchecked and counts into
 * nothing when metrics are off or a registration failed. */
#ifndef SXEDGE_METRICS_H
#define SXEDGE_METRICS_H

#include <stdint.h>

#include <event2/buffer.h>

/* Labels a family may have, and children it may hold (the `other` child aside). */
#define METRIC_LABELS_MAX   3
#define METRIC_CHILDREN_MAX 256

enum metric_type {
	METRIC_COUNTER, /* only goes up; starts at 0 */
	METRIC_GAUGE, /* a level, set or read at scrape time */
};

struct metrics;
struct metric_family;
struct metric_counter;
struct metric_gauge;

/* Reads a gauge's level when the page is rendered (queue depths, link
 * states, open connections: numbers kept elsewhere anyway). */
typedef int64_t metric_gauge_reader(void *arg);

/* An empty registry, or NULL when out of memory. */
struct metrics *metrics_new(void);

/* Frees the registry with its families and children (handles die with it). */
void metrics_free(struct metrics *registry);

/* Registers the family NAME of TYPE with HELP (what is counted, for the
 * operator reading the page) and LABEL_NAMES (a NULL-terminated list of at
 * most METRIC_LABELS_MAX names; NULL for none).  Registering the same name
 * again with the same type and label names gives the same family, so modules
 * may share one.  Returns NULL for a missing name or help, a name or label
 * name against the rules above, a clash with an existing family, or no
 * memory. */
struct metric_family *metrics_register(struct metrics *registry, enum metric_type type,
				       const char *name, const char *help,
				       const char *const *label_names);

/* The child of a counter (a gauge) family with LABEL_VALUES (NULL-terminated,
 * one non-empty value per label name; NULL for a family without labels),
 * created at 0 on first use.  Returns NULL for a family of the other type,
 * the wrong number of values, or no memory. */
struct metric_counter *metric_counter(struct metric_family *family,
				      const char *const *label_values);
struct metric_gauge *metric_gauge(struct metric_family *family, const char *const *label_values);

/* The hot path: one addition each. */
void metric_counter_add(struct metric_counter *counter, uint64_t amount);
void metric_gauge_set(struct metric_gauge *gauge, int64_t level);
void metric_gauge_add(struct metric_gauge *gauge, int64_t delta);

/* From now on the page shows READ(ARG) for GAUGE instead of its set level. */
void metric_gauge_read_by(struct metric_gauge *gauge, metric_gauge_reader *read, void *arg);

/* Appends the registry's page in Prometheus text format 0.0.4 to OUT: the
 * families sorted by name, each with its HELP and TYPE lines and its
 * children sorted by label values (a family without children is left out),
 * so the same counts always give the same bytes.  Returns 0, or -1 when OUT
 * could not grow (OUT then holds a partial page). */
int metrics_render(const struct metrics *registry, struct evbuffer *out);

#endif
