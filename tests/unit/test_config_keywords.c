/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/config_keywords and the module side of the engine
 * (config_module.h): a test module brings its own sections ([echo] and
 * [peer NAME]) to a schema with its own role table, and the engine reads
 * them with the same rules as the core's: keyword rows carry their names,
 * defaults and ranges come from the rows, required keys and unknown
 * sections are reported with their lines, a word list keeps its words as
 * written over repeated lines, the module's check runs after the core's,
 * and roles are counted and budgeted from the role table (a
 * udp role needs no certificate and may share a tcp role's port). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_module.h"
#include "test_suite.h"

enum echo_mode {
	ECHO_OFF,
	ECHO_ON,
	ECHO_LOUD
};

struct echo_peer {
	char *name;
	unsigned weight;
};

struct echo_config {
	enum echo_mode mode;
	unsigned count;
	struct echo_peer *peers;
	size_t n_peers;
	char **tags; /* a word list */
	size_t n_tags;
	bool checked; /* the module's check ran */
	bool core_done; /* ... after the core's: the budgets were there */
};

static const char *const mode_names[] = { "off", "on", "loud", NULL };

static const struct config_option echo_options[] = {
	{ "mode", config_parse_keyword, offsetof(struct echo_config, mode), 0, "off", 0, 0, false,
	  mode_names },
	{ "count", config_parse_unsigned, offsetof(struct echo_config, count), 0, "3", 1, 9, false,
	  NULL },
	{ "tags", config_parse_word_list, offsetof(struct echo_config, tags),
	  offsetof(struct echo_config, n_tags), NULL, 0, 0, false, NULL },
};

static const struct config_option peer_options[] = {
	{ "weight", config_parse_unsigned, offsetof(struct echo_peer, weight), 0, NULL, 1, 100,
	  true, NULL },
};

static void *peer_begin(struct config_loader *loader, void *data, char *name)
{
	struct echo_config *echo = data;
	(void)loader;
	struct echo_peer *grown = realloc(echo->peers, (echo->n_peers + 1) * sizeof(*grown));
	ck_assert_ptr_nonnull(grown);
	echo->peers = grown;
	grown[echo->n_peers] = (struct echo_peer){ .name = strdup(name) };
	return &grown[echo->n_peers++];
}

static const struct config_section echo_sections[] = {
	{ .name = "echo", .options = echo_options, .n_options = 3, .offset = 0 },
	{ .name = "peer",
	  .argument = "NAME",
	  .argument_missing = "a peer section needs a name",
	  .options = peer_options,
	  .n_options = 1,
	  .begin = peer_begin },
};

static void echo_check(struct config_loader *loader, void *data)
{
	struct echo_config *echo = data;
	const struct config_seen *seen = config_seen(loader, &echo_sections[0], 0);

	config_apply_defaults(loader, seen, echo);
	for (size_t i = 0; i < echo->n_peers; i++) {
		char label[64];
		snprintf(label, sizeof(label), "peer %s", echo->peers[i].name);
		config_check_required(loader, config_seen(loader, &echo_sections[1], i), label);
	}
	echo->checked = true;
	echo->core_done = config_loading(loader)->limits.max_connections_role[0] != 0;
}

static void echo_free(void *data)
{
	struct echo_config *echo = data;
	for (size_t i = 0; i < echo->n_peers; i++)
		free(echo->peers[i].name);
	free(echo->peers);
	for (size_t i = 0; i < echo->n_tags; i++)
		free(echo->tags[i]);
	free(echo->tags);
}

static const struct config_module echo_module = {
	.name = "echo",
	.data_size = sizeof(struct echo_config),
	.sections = echo_sections,
	.n_sections = 2,
	.check = echo_check,
	.free = echo_free,
};

static const struct config_role test_roles[] = {
	{ .name = "access",
	  .protocol = "echo",
	  .transport = CONFIG_TRANSPORT_TLS,
	  .tls = CONFIG_TLS_SERVER_AUTH,
	  .required = true },
	{ .name = "relay",
	  .protocol = "echo",
	  .transport = CONFIG_TRANSPORT_UDP,
	  .tls = CONFIG_TLS_NONE,
	  .unique = true,
	  .reserved_connections = 10 },
};
static const struct config_module *const modules[] = { &echo_module };
static const struct config_schema schema = {
	.roles = test_roles,
	.n_roles = 2,
	.modules = modules,
	.n_modules = 1,
};

static char certificate[64], path[64];
static char *errors;
static const struct sxedge_config *config;

/* Loads the [global] and access listener every file needs, then TEXT. */
static void load(const char *text)
{
	FILE *file;
	size_t size = 0;

	strcpy(certificate, "/tmp/sxedge-test-keywords-XXXXXX");
	ck_assert_int_ge(mkstemp(certificate), 0);
	strcpy(path, "/tmp/sxedge-test-keywords-XXXXXX");
	ck_assert_int_ge(mkstemp(path), 0);
	file = fopen(path, "w");
	ck_assert_ptr_nonnull(file);
	fprintf(file,
		"[global]\ndomains = example.test\n"
		"[listener a]\nrole = access\naddress = 127.0.0.1\nport = 10443\n"
		"certificate = %s\nkey = %s\n%s",
		certificate, certificate, text);
	fclose(file);
	FILE *stream = open_memstream(&errors, &size);
	config = config_load(path, stream, &schema);
	fclose(stream);
}

static void unload(void)
{
	config_unref(config);
	config = NULL;
	free(errors);
	unlink(path);
	unlink(certificate);
}

static const struct echo_config *echo(void)
{
	return config_module_data(config, &echo_module);
}

START_TEST(test_module_sections)
{
	load("[echo]\nmode = LOUD\n[peer one]\nweight = 5\n[peer two]\nweight = 7\n");
	ck_assert_msg(config != NULL, "errors:\n%s", errors);
	ck_assert_int_eq(echo()->mode, ECHO_LOUD);
	ck_assert_uint_eq(echo()->count, 3); /* the row's default */
	ck_assert_uint_eq(echo()->n_peers, 2);
	ck_assert_str_eq(echo()->peers[1].name, "two");
	ck_assert_uint_eq(echo()->peers[1].weight, 7);
	ck_assert(echo()->checked);
	ck_assert(echo()->core_done);
	unload();
}
END_TEST

START_TEST(test_module_problems)
{
	char expected[1024];

	load("[echo]\nmode = quiet\ncount = 10\nloud = yes\n[peer one]\n[peer]\n[nothing]\n");
	ck_assert_ptr_null(config);
	snprintf(expected, sizeof(expected),
		 "%s:10: bad value \"quiet\" for mode: expected off, on or loud\n"
		 "%s:11: bad value \"10\" for count: expected a whole number from 1 to 9\n"
		 "%s:12: unknown key \"loud\" in [echo]\n"
		 "%s:13: missing required key weight in [peer one]\n"
		 "%s:14: a peer section needs a name\n"
		 "%s:15: unknown section \"nothing\": expected [global], [limits], "
		 "[listener NAME], [echo] or [peer NAME]\n",
		 path, path, path, path, path, path);
	ck_assert_str_eq(errors, expected);
	unload();
}
END_TEST

/* A word list keeps its words as written, any characters but the
 * separators, and its lines add up; a line of separators only is refused. */
START_TEST(test_word_list)
{
	char expected[512];

	load("[echo]\ntags = Ab/8,c:d  e\ntags = 10.0.0.1/8\n");
	ck_assert_msg(config != NULL, "errors:\n%s", errors);
	ck_assert_uint_eq(echo()->n_tags, 4);
	ck_assert_str_eq(echo()->tags[0], "Ab/8");
	ck_assert_str_eq(echo()->tags[1], "c:d");
	ck_assert_str_eq(echo()->tags[2], "e");
	ck_assert_str_eq(echo()->tags[3], "10.0.0.1/8");
	unload();
	load("[echo]\ntags = a\ntags = ,\n");
	ck_assert_ptr_null(config);
	snprintf(expected, sizeof(expected),
		 "%s:11: bad value \",\" for tags: expected at least one entry\n", path);
	ck_assert_str_eq(errors, expected);
	unload();
}
END_TEST

/* The relay role's row: udp, so no certificate and no clash with the
 * access listener's tcp port; unique; its budget is max_connections_relay
 * and counts only with a relay listener. */
START_TEST(test_role_table)
{
	char expected[1024];

	load("[listener r]\nrole = relay\naddress = 127.0.0.1\nport = 10443\n");
	ck_assert_msg(config != NULL, "errors:\n%s", errors);
	ck_assert_uint_eq(config->listeners[1].role, 1);
	ck_assert_int_eq(config->listeners[1].client_cert, CLIENT_CERT_NONE);
	ck_assert_uint_eq(config->limits.max_connections_role[1], 10);
	ck_assert_uint_eq(config->limits.max_connections_role[0], 10000 - 10);
	unload();

	load("[limits]\nmax_connections_relay = 20\n");
	ck_assert_msg(config != NULL, "errors:\n%s", errors);
	/* No relay listener: nothing reserved for it. */
	ck_assert_uint_eq(config->limits.max_connections_role[0], 10000);
	unload();

	load("[limits]\nmax_connections = 100\nmax_connections_relay = 100\n"
	     "[listener r]\nrole = relay\naddress = 127.0.0.1\nport = 1\n"
	     "[listener s]\nrole = relay\naddress = 127.0.0.1\nport = 2\n"
	     "[listener t]\nrole = echo\naddress = 127.0.0.1\nport = 3\n");
	ck_assert_ptr_null(config);
	/* The role names come from the table. */
	snprintf(expected, sizeof(expected),
		 "%s:21: bad value \"echo\" for role: expected access or relay\n", path);
	ck_assert_ptr_nonnull(strstr(errors, expected));
	unload();

	load("[limits]\nmax_connections = 100\nmax_connections_relay = 100\n"
	     "[listener r]\nrole = relay\naddress = 127.0.0.1\nport = 1\n"
	     "[listener s]\nrole = relay\naddress = 127.0.0.1\nport = 2\n");
	ck_assert_ptr_null(config);
	snprintf(expected, sizeof(expected),
		 "%s:11: max_connections (100) leaves no room for access connections after "
		 "max_connections_relay (100): raise max_connections\n"
		 "%s:16: more than one relay listener: \"r\" was first (line 12)\n",
		 path, path);
	ck_assert_str_eq(errors, expected);
	unload();
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("config_keywords");
	TCase *tcase = tcase_create("modules");
	tcase_add_test(tcase, test_module_sections);
	tcase_add_test(tcase, test_module_problems);
	tcase_add_test(tcase, test_word_list);
	tcase_add_test(tcase, test_role_table);
	suite_add_tcase(suite, tcase);
	return test_suite_run(suite);
}
