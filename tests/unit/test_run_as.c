/* SPDX-License-Identifier: ISC */
/* Unit tests for src/run_as: a start as root is refused without user or
 * allow_root, with "FILE:LINE:" and both option names; anything else may
 * start.  As root, run_as_apply() in a forked child: user drops to it,
 * allow_root keeps root, and a process that is not root keeps its ids but
 * no capability.  The drop itself is tested in test_privileges. */
#include <check.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privileges.h"
#include "run_as.h"
#include "test_suite.h"

static struct sxedge_config config;

static void setup(void)
{
	memset(&config, 0, sizeof(config));
	config.path = "/etc/sxedge/test.conf";
	config.run_as.line = 3;
}

/* run_as_check() on CONFIG; returns its status, *TEXT what it wrote. */
static int check(bool as_root, char **text)
{
	size_t size = 0;
	FILE *errors = open_memstream(text, &size);

	ck_assert_ptr_nonnull(errors);
	int status = run_as_check(&config, as_root, errors);
	fclose(errors);
	return status;
}

START_TEST(test_root_without_user_is_refused)
{
	char *text = NULL;

	ck_assert_int_eq(check(true, &text), -1);
	ck_assert_msg(strncmp(text, "/etc/sxedge/test.conf:3: refusing to run as root", 48) == 0,
		      "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "user"));
	ck_assert_ptr_nonnull(strstr(text, "allow_root = yes"));
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	free(text);
}
END_TEST

START_TEST(test_may_start)
{
	char *text = NULL;

	/* Not root: nothing to drop. */
	ck_assert_int_eq(check(false, &text), 0);
	ck_assert_str_eq(text, "");
	free(text);

	config.run_as.allow_root = true;
	ck_assert_int_eq(check(true, &text), 0);
	ck_assert_str_eq(text, "");
	free(text);

	config.run_as.allow_root = false;
	config.run_as.user = "nobody";
	ck_assert_int_eq(check(true, &text), 0);
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

/* ---- run_as_apply() as root, in a child ---- */

struct outcome {
	int status;
	uid_t uid, euid, suid;
	bool are_root;
	int no_new_privs;
};

/* Runs run_as_apply(&config) in a child, after SETUP if not NULL. */
static struct outcome apply_in_child(void (*setup_child)(void))
{
	struct outcome outcome;
	int pipe_fds[2], status;

	memset(&outcome, 0, sizeof(outcome));
	ck_assert_int_eq(pipe(pipe_fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipe_fds[0]);
		log_set_level(LOG_LEVEL_ERROR); /* keep the notices out of the test output */
		if (setup_child != NULL)
			setup_child();
		outcome.status = run_as_apply(&config);
		getresuid(&outcome.uid, &outcome.euid, &outcome.suid);
		outcome.are_root = privileges_are_root();
		outcome.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
		ssize_t written = write(pipe_fds[1], &outcome, sizeof(outcome));
		_exit(written == (ssize_t)sizeof(outcome) ? 0 : 1);
	}
	close(pipe_fds[1]);
	ssize_t got = read(pipe_fds[0], &outcome, sizeof(outcome));
	close(pipe_fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(got, (ssize_t)sizeof(outcome));
	return outcome;
}

static uid_t nobody_uid;
static gid_t nobody_gid;

static void setup_root(void)
{
	char err[128];

	setup();
	ck_assert_msg(privileges_find_user("nobody", &nobody_uid, &nobody_gid, err, sizeof(err)) ==
			      0,
		      "%s", err);
}

START_TEST(test_apply_drops_to_user)
{
	config.run_as.user = "nobody";
	config.run_as.uid = nobody_uid;
	config.run_as.gid = nobody_gid;
	struct outcome outcome = apply_in_child(NULL);

	ck_assert_int_eq(outcome.status, 0);
	ck_assert_uint_eq(outcome.uid, nobody_uid);
	ck_assert_uint_eq(outcome.euid, nobody_uid);
	ck_assert_uint_eq(outcome.suid, nobody_uid);
	ck_assert(!outcome.are_root);
	ck_assert_int_eq(outcome.no_new_privs, 1);
}
END_TEST

START_TEST(test_apply_keeps_root_when_allowed)
{
	config.run_as.allow_root = true;
	struct outcome outcome = apply_in_child(NULL);

	ck_assert_int_eq(outcome.status, 0);
	ck_assert(outcome.are_root);
	ck_assert_uint_eq(outcome.euid, 0);
}
END_TEST

static void become_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(nobody_gid, nobody_gid, nobody_gid) < 0 ||
	    setresuid(nobody_uid, nobody_uid, nobody_uid) < 0)
		_exit(2);
}

START_TEST(test_apply_without_user_as_another_user)
{
	struct outcome outcome = apply_in_child(become_nobody);

	ck_assert_int_eq(outcome.status, 0);
	ck_assert_uint_eq(outcome.euid, nobody_uid);
	ck_assert_int_eq(outcome.no_new_privs, 1);
}
END_TEST

static Suite *run_as_suite(void)
{
	Suite *suite = suite_create("run_as");
	TCase *rules = tcase_create("rules");
	TCase *apply = tcase_create("apply as root");

	tcase_add_checked_fixture(rules, setup, NULL);
	tcase_add_test(rules, test_root_without_user_is_refused);
	tcase_add_test(rules, test_may_start);
	suite_add_tcase(suite, rules);

	if (geteuid() != 0) {
		fprintf(stderr, "test_run_as: not root, so run_as_apply() is not tested\n");
		return suite;
	}
	tcase_add_checked_fixture(apply, setup_root, NULL);
	tcase_add_test(apply, test_apply_drops_to_user);
	tcase_add_test(apply, test_apply_keeps_root_when_allowed);
	tcase_add_test(apply, test_apply_without_user_as_another_user);
	suite_add_tcase(suite, apply);
	return suite;
}

int main(void)
{
	return test_suite_run(run_as_suite());
}
