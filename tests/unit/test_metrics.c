/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/metrics: the naming rules, families shared between
 * modules, children and their counts, gauges read at scrape time, the exact
 * text of the page (order, escaping), the cap on children, NULL handles,
 * and the page as promtool reads it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "test_suite.h"

/* The label lists the tests use. */
#define LABELS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The registry's page as a string the caller frees. */
static char *render(const struct metrics *registry)
{
	struct evbuffer *out = evbuffer_new();

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(metrics_render(registry, out), 0);
	size_t length = evbuffer_get_length(out);
	char *text = malloc(length + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(evbuffer_remove(out, text, length), (int)length);
	text[length] = '\0';
	evbuffer_free(out);
	return text;
}

static void assert_page(const struct metrics *registry, const char *expected)
{
	char *page = render(registry);

	ck_assert_str_eq(page, expected);
	free(page);
}

START_TEST(test_names)
{
	struct metrics *registry = metrics_new();

	ck_assert_ptr_nonnull(registry);
	ck_assert_ptr_nonnull(
		metrics_register(registry, METRIC_COUNTER, "sxedge_a_total", "h", NULL));
	ck_assert_ptr_nonnull(
		metrics_register(registry, METRIC_GAUGE, "sxedge_queue_bytes", "h", NULL));
	ck_assert_ptr_nonnull(metrics_register(registry, METRIC_GAUGE, "sxedge_x2_y", "h", NULL));

	/* the prefix, lower-case words, no colons */
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, "queue_bytes", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, "sxedge_", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, "sxedge_Queue", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, "sxedge_a:b", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, "sxedge_a-b", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, "", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, NULL, "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_GAUGE, "sxedge_no_help", NULL, NULL));

	/* counters end in _total, gauges do not */
	ck_assert_ptr_null(
		metrics_register(registry, METRIC_COUNTER, "sxedge_requests", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_COUNTER, "sxedge_total", "h", NULL));
	ck_assert_ptr_null(
		metrics_register(registry, METRIC_GAUGE, "sxedge_open_total", "h", NULL));

	/* label names: words, not Prometheus' own, no repeats, at most three */
	ck_assert_ptr_nonnull(metrics_register(registry, METRIC_COUNTER, "sxedge_b_total", "h",
					       LABELS("role", "method", "status_class")));
	ck_assert_ptr_null(metrics_register(registry, METRIC_COUNTER, "sxedge_c_total", "h",
					    LABELS("role", "method", "status", "reason")));
	ck_assert_ptr_null(metrics_register(registry, METRIC_COUNTER, "sxedge_d_total", "h",
					    LABELS("__name")));
	ck_assert_ptr_null(
		metrics_register(registry, METRIC_COUNTER, "sxedge_e_total", "h", LABELS("1st")));
	ck_assert_ptr_null(
		metrics_register(registry, METRIC_COUNTER, "sxedge_f_total", "h", LABELS("Role")));
	ck_assert_ptr_null(
		metrics_register(registry, METRIC_COUNTER, "sxedge_g_total", "h", LABELS("")));
	ck_assert_ptr_null(metrics_register(registry, METRIC_COUNTER, "sxedge_h_total", "h",
					    LABELS("role", "role")));
	metrics_free(registry);
}
END_TEST

START_TEST(test_shared_family)
{
	struct metrics *registry = metrics_new();
	struct metric_family *family =
		metrics_register(registry, METRIC_COUNTER, "sxedge_connections_accepted_total",
				 "Connections accepted.", LABELS("role"));

	ck_assert_ptr_nonnull(family);
	/* the same registration again, from another module: the same family */
	ck_assert_ptr_eq(metrics_register(registry, METRIC_COUNTER,
					  "sxedge_connections_accepted_total", "Other words.",
					  LABELS("role")),
			 family);
	/* the same name otherwise: refused */
	ck_assert_ptr_null(metrics_register(registry, METRIC_COUNTER,
					    "sxedge_connections_accepted_total", "h", NULL));
	ck_assert_ptr_null(metrics_register(registry, METRIC_COUNTER,
					    "sxedge_connections_accepted_total", "h",
					    LABELS("protocol")));
	ck_assert_ptr_null(metrics_register(registry, METRIC_COUNTER,
					    "sxedge_connections_accepted_total", "h",
					    LABELS("role", "protocol")));

	/* and one child per set of values, whoever asks */
	struct metric_counter *access = metric_counter(family, LABELS("access"));
	ck_assert_ptr_nonnull(access);
	ck_assert_ptr_eq(metric_counter(family, LABELS("access")), access);
	metric_counter_add(access, 2);
	metric_counter_add(metric_counter(family, LABELS("access")), 3);
	assert_page(registry, "# HELP sxedge_connections_accepted_total Connections accepted.\n"
			      "# TYPE sxedge_connections_accepted_total counter\n"
			      "sxedge_connections_accepted_total{role=\"access\"} 5\n");
	metrics_free(registry);
}
END_TEST

START_TEST(test_children)
{
	struct metrics *registry = metrics_new();
	struct metric_family *counters =
		metrics_register(registry, METRIC_COUNTER, "sxedge_sip_requests_relayed_total", "h",
				 LABELS("role", "method"));
	struct metric_family *gauges =
		metrics_register(registry, METRIC_GAUGE, "sxedge_open", "h", NULL);

	ck_assert_ptr_nonnull(counters);
	ck_assert_ptr_nonnull(gauges);
	/* one value per label, none empty */
	ck_assert_ptr_null(metric_counter(counters, NULL));
	ck_assert_ptr_null(metric_counter(counters, LABELS("access")));
	ck_assert_ptr_null(metric_counter(counters, LABELS("access", "INVITE", "x")));
	ck_assert_ptr_null(metric_counter(counters, LABELS("access", "")));
	ck_assert_ptr_null(metric_gauge(gauges, LABELS("x")));
	/* the handle of the family's type only */
	ck_assert_ptr_null(metric_gauge(counters, LABELS("access", "INVITE")));
	ck_assert_ptr_null(metric_counter(gauges, NULL));
	/* no failed attempt left a child behind */
	assert_page(registry, "");

	struct metric_counter *invite = metric_counter(counters, LABELS("access", "INVITE"));
	struct metric_counter *bye = metric_counter(counters, LABELS("access", "BYE"));
	ck_assert_ptr_nonnull(invite);
	ck_assert_ptr_nonnull(bye);
	ck_assert_ptr_ne(invite, bye);
	ck_assert_ptr_nonnull(metric_gauge(gauges, NULL));
	ck_assert_ptr_eq(metric_gauge(gauges, NULL), metric_gauge(gauges, NULL));
	metrics_free(registry);
}
END_TEST

START_TEST(test_counts_and_order)
{
	struct metrics *registry = metrics_new();
	/* registered out of order: the page sorts families and children */
	struct metric_family *relayed =
		metrics_register(registry, METRIC_COUNTER, "sxedge_sip_requests_relayed_total",
				 "SIP requests relayed.", LABELS("role", "method"));
	struct metric_family *open = metrics_register(
		registry, METRIC_GAUGE, "sxedge_connections_open", "Connections open.", NULL);
	struct metric_family *empty = metrics_register(registry, METRIC_COUNTER,
						       "sxedge_empty_total", "No children.", NULL);

	ck_assert_ptr_nonnull(empty);
	struct metric_counter *register_internal =
		metric_counter(relayed, LABELS("internal", "REGISTER"));
	struct metric_counter *invite_access = metric_counter(relayed, LABELS("access", "INVITE"));
	struct metric_counter *bye_access = metric_counter(relayed, LABELS("access", "BYE"));
	struct metric_gauge *connections = metric_gauge(open, NULL);

	metric_counter_add(invite_access, 1);
	metric_counter_add(invite_access, 1);
	metric_counter_add(register_internal, 40);
	metric_counter_add(register_internal, 2);
	metric_gauge_set(connections, 7);
	metric_gauge_add(connections, -9);
	metric_gauge_add(connections, 1);
	(void)bye_access;
	const char *page =
		"# HELP sxedge_connections_open Connections open.\n"
		"# TYPE sxedge_connections_open gauge\n"
		"sxedge_connections_open -1\n"
		"# HELP sxedge_sip_requests_relayed_total SIP requests relayed.\n"
		"# TYPE sxedge_sip_requests_relayed_total counter\n"
		"sxedge_sip_requests_relayed_total{role=\"access\",method=\"BYE\"} 0\n"
		"sxedge_sip_requests_relayed_total{role=\"access\",method=\"INVITE\"} 2\n"
		"sxedge_sip_requests_relayed_total{role=\"internal\",method=\"REGISTER\"} "
		"42\n";
	assert_page(registry, page);
	/* rendering changes nothing: the same page again */
	assert_page(registry, page);

	/* counters go to the top of 64 bits */
	struct metric_family *bytes =
		metrics_register(registry, METRIC_COUNTER, "sxedge_bytes_total", "Bytes.", NULL);
	metric_counter_add(metric_counter(bytes, NULL), UINT64_MAX);
	char *text = render(registry);
	ck_assert_ptr_nonnull(strstr(text, "# HELP sxedge_bytes_total Bytes.\n"
					   "# TYPE sxedge_bytes_total counter\n"
					   "sxedge_bytes_total 18446744073709551615\n"
					   "# HELP sxedge_connections_open"));
	free(text);
	metrics_free(registry);
}
END_TEST

static int64_t read_depth(void *arg)
{
	return *(const int64_t *)arg;
}

START_TEST(test_gauge_reader)
{
	struct metrics *registry = metrics_new();
	struct metric_family *depth = metrics_register(registry, METRIC_GAUGE, "sxedge_queue_depth",
						       "Queued.", LABELS("queue"));
	struct metric_gauge *pool = metric_gauge(depth, LABELS("pool"));
	struct metric_gauge *partner = metric_gauge(depth, LABELS("partner"));
	int64_t pool_depth = 3;

	metric_gauge_set(pool, 100);
	metric_gauge_set(partner, 5);
	metric_gauge_read_by(pool, read_depth, &pool_depth);
	assert_page(registry, "# HELP sxedge_queue_depth Queued.\n"
			      "# TYPE sxedge_queue_depth gauge\n"
			      "sxedge_queue_depth{queue=\"partner\"} 5\n"
			      "sxedge_queue_depth{queue=\"pool\"} 3\n");
	/* read at each rendering, not at registration */
	pool_depth = -12;
	assert_page(registry, "# HELP sxedge_queue_depth Queued.\n"
			      "# TYPE sxedge_queue_depth gauge\n"
			      "sxedge_queue_depth{queue=\"partner\"} 5\n"
			      "sxedge_queue_depth{queue=\"pool\"} -12\n");
	metrics_free(registry);
}
END_TEST

START_TEST(test_escaping)
{
	struct metrics *registry = metrics_new();
	struct metric_family *family =
		metrics_register(registry, METRIC_COUNTER, "sxedge_odd_total",
				 "Back\\slash, \"quotes\" kept,\nnew line.", LABELS("value"));

	metric_counter_add(metric_counter(family, LABELS("a\\b\"c\nd")), 1);
	/* HELP escapes backslash and new line; a label value the quote too */
	assert_page(registry,
		    "# HELP sxedge_odd_total Back\\\\slash, \"quotes\" kept,\\nnew line.\n"
		    "# TYPE sxedge_odd_total counter\n"
		    "sxedge_odd_total{value=\"a\\\\b\\\"c\\nd\"} 1\n");
	metrics_free(registry);
}
END_TEST

START_TEST(test_cardinality_cap)
{
	struct metrics *registry = metrics_new();
	struct metric_family *family = metrics_register(
		registry, METRIC_COUNTER, "sxedge_capped_total", "h", LABELS("a", "b"));
	struct metric_counter *first = NULL;
	char name[16];

	for (int i = 0; i < METRIC_CHILDREN_MAX; i++) {
		snprintf(name, sizeof(name), "v%03d", i);
		struct metric_counter *counter = metric_counter(family, LABELS(name, "x"));
		ck_assert_ptr_nonnull(counter);
		if (i == 0)
			first = counter;
	}
	/* full: the values already there keep their child */
	ck_assert_ptr_eq(metric_counter(family, LABELS("v000", "x")), first);
	/* a new set goes to the one `other` child */
	struct metric_counter *other = metric_counter(family, LABELS("new", "x"));
	ck_assert_ptr_nonnull(other);
	ck_assert_ptr_ne(other, first);
	ck_assert_ptr_eq(metric_counter(family, LABELS("newer", "y")), other);
	ck_assert_ptr_eq(metric_counter(family, LABELS("other", "other")), other);
	metric_counter_add(other, 4);
	metric_counter_add(metric_counter(family, LABELS("newest", "z")), 1);

	char *page = render(registry);
	ck_assert_ptr_nonnull(strstr(page, "\nsxedge_capped_total{a=\"other\",b=\"other\"} 5\n"));
	ck_assert_ptr_null(strstr(page, "new"));
	/* the cap and `other`: nothing more */
	size_t lines = 0;
	for (const char *c = page; *c != '\0'; c++)
		lines += *c == '\n';
	ck_assert_uint_eq(lines, 2 + METRIC_CHILDREN_MAX + 1);
	free(page);
	metrics_free(registry);
}
END_TEST

START_TEST(test_null_handles)
{
	/* metrics off, or a registration that failed: every call does nothing */
	struct metric_family *family =
		metrics_register(NULL, METRIC_COUNTER, "sxedge_a_total", "h", NULL);

	ck_assert_ptr_null(family);
	ck_assert_ptr_null(metric_counter(NULL, NULL));
	ck_assert_ptr_null(metric_gauge(NULL, LABELS("x")));
	metric_counter_add(NULL, 1);
	metric_gauge_set(NULL, 1);
	metric_gauge_add(NULL, 1);
	metric_gauge_read_by(NULL, read_depth, NULL);
	assert_page(NULL, "");
	metrics_free(NULL);
}
END_TEST

/* A page with every kind of line, as promtool sees it. */
START_TEST(test_promtool_accepts_page)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_metrics: promtool not installed (Debian package prometheus): "
				"page check skipped\n");
		return;
	}
	struct metrics *registry = metrics_new();
	struct metric_family *relayed = metrics_register(
		registry, METRIC_COUNTER, "sxedge_sip_requests_relayed_total",
		"SIP requests relayed, by arrival role and method.", LABELS("role", "method"));
	struct metric_family *open =
		metrics_register(registry, METRIC_GAUGE, "sxedge_connections_open",
				 "Connections open, by role.", LABELS("role"));
	struct metric_family *odd =
		metrics_register(registry, METRIC_COUNTER, "sxedge_odd_total",
				 "Back\\slash and\nnew line in help.", LABELS("value"));
	struct metric_family *plain = metrics_register(registry, METRIC_GAUGE, "sxedge_queue_bytes",
						       "Bytes queued.", NULL);
	int64_t depth = -1;

	metric_counter_add(metric_counter(relayed, LABELS("access", "INVITE")), 3);
	metric_counter_add(metric_counter(relayed, LABELS("internal", "other")), 1);
	metric_gauge_set(metric_gauge(open, LABELS("access")), 2);
	metric_gauge_read_by(metric_gauge(open, LABELS("federation")), read_depth, &depth);
	metric_counter_add(metric_counter(odd, LABELS("a\\b\"c\nd")), 1);
	metric_gauge_set(metric_gauge(plain, NULL), 1 << 20);

	char *page = render(registry);
	FILE *promtool = popen("promtool check metrics", "w");
	ck_assert_ptr_nonnull(promtool);
	ck_assert_uint_eq(fwrite(page, 1, strlen(page), promtool), strlen(page));
	ck_assert_int_eq(pclose(promtool), 0);
	free(page);
	metrics_free(registry);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *suite = suite_create("metrics");
	TCase *tcase = tcase_create("metrics");

	tcase_add_test(tcase, test_names);
	tcase_add_test(tcase, test_shared_family);
	tcase_add_test(tcase, test_children);
	tcase_add_test(tcase, test_counts_and_order);
	tcase_add_test(tcase, test_gauge_reader);
	tcase_add_test(tcase, test_escaping);
	tcase_add_test(tcase, test_cardinality_cap);
	tcase_add_test(tcase, test_null_handles);
	tcase_add_test(tcase, test_promtool_accepts_page);
	tcase_set_timeout(tcase, 30);
	suite_add_tcase(suite, tcase);
	return suite;
}

int main(void)
{
	return test_suite_run(metrics_suite());
}
