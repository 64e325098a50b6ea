/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/privileges.  Any user: user and group look-ups, and
 * the refusal to "drop" to root.  As root (the suites run as root here and
 * in CI; elsewhere that case is left out, saying so): a forked child drops
 * to nobody and reports what the kernel says of it, from /proc/self/status
 * and from calls that must now fail, so the module is judged by the
 * kernel and not by itself; verify is shown to catch a saved root uid and
 * kept capabilities, and drop to clear the latter but CAP_NET_BIND_SERVICE. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privileges.h"
#include "test_suite.h"

/* ---- What a child reports back ---- */

#define BIND_SERVICE (1ULL << CAP_NET_BIND_SERVICE) /* the one capability a drop keeps */

struct report {
	int status; /* of the call under test */
	char err[256];
	char uid[64], gid[64], groups[256]; /* /proc/self/status lines, after the colon */
	unsigned long long cap_eff, cap_prm, cap_inh, cap_bnd, cap_amb;
	int no_new_privs;
	bool had_setpcap; /* at the call: CAP_SETPCAP, so the bounding set can be emptied */
	bool had_bind_service; /* at the call: CAP_NET_BIND_SERVICE permitted, so it stays */
	int setuid_root, setuid_errno; /* setuid(0) */
	int setresuid_root; /* setresuid(0, 0, 0) */
	int setgid_root; /* setgid(0) */
	int open_errno; /* opening a file only root may read; 0: it opened */
	bool are_root; /* privileges_are_root() after the call */
};

/* The text after "NAME:" on its line of /proc/self/status, blanks trimmed. */
static void status_field(const char *name, char *value, size_t size)
{
	FILE *status = fopen("/proc/self/status", "re");
	char line[512];
	size_t length = strlen(name);

	value[0] = '\0';
	if (status == NULL)
		return;
	while (fgets(line, sizeof(line), status) != NULL) {
		if (strncmp(line, name, length) != 0 || line[length] != ':')
			continue;
		const char *start = line + length + 1;
		start += strspn(start, " \t");
		snprintf(value, size, "%s", start);
		size_t end = strlen(value);
		while (end > 0 &&
		       (value[end - 1] == '\n' || value[end - 1] == ' ' || value[end - 1] == '\t'))
			value[--end] = '\0';
		break;
	}
	fclose(status);
}

static unsigned long long status_hex(const char *name)
{
	char value[64];

	status_field(name, value, sizeof(value));
	return value[0] == '\0' ? ~0ULL : strtoull(value, NULL, 16);
}

/* A file only root may read, made by the parent before the fork. */
static char secret[64];

static void fill_report(struct report *report)
{
	status_field("Uid", report->uid, sizeof(report->uid));
	status_field("Gid", report->gid, sizeof(report->gid));
	status_field("Groups", report->groups, sizeof(report->groups));
	report->cap_eff = status_hex("CapEff");
	report->cap_prm = status_hex("CapPrm");
	report->cap_inh = status_hex("CapInh");
	report->cap_bnd = status_hex("CapBnd");
	report->cap_amb = status_hex("CapAmb");
	char value[16];
	status_field("NoNewPrivs", value, sizeof(value));
	report->no_new_privs = value[0] != '\0' ? atoi(value) : -1;
	report->are_root = privileges_are_root();

	int fd = open(secret, O_RDONLY | O_CLOEXEC);
	report->open_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	/* Last: if these succeed the child is root again, and reports it. */
	report->setgid_root = setgid(0);
	report->setresuid_root = setresuid(0, 0, 0);
	report->setuid_root = setuid(0);
	report->setuid_errno = errno;
}

typedef void child_body(struct report *report);

/* Runs BODY in a forked child and returns what it reported. */
static struct report run_child(child_body *body)
{
	struct report report;
	int pipe_fds[2], status;

	memset(&report, 0, sizeof(report));
	ck_assert_int_eq(pipe(pipe_fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipe_fds[0]);
		report.had_setpcap = status_hex("CapEff") & (1ULL << CAP_SETPCAP);
		report.had_bind_service = status_hex("CapPrm") & BIND_SERVICE;
		body(&report);
		fill_report(&report);
		ssize_t written = write(pipe_fds[1], &report, sizeof(report));
		_exit(written == (ssize_t)sizeof(report) ? 0 : 1);
	}
	close(pipe_fds[1]);
	ssize_t got = read(pipe_fds[0], &report, sizeof(report));
	close(pipe_fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
	ck_assert_int_eq(got, (ssize_t)sizeof(report));
	return report;
}

/* ---- Ids of the test users ---- */

static uid_t nobody_uid;
static gid_t nobody_gid;

static void find_nobody(void)
{
	char err[128];

	ck_assert_msg(privileges_find_user("nobody", &nobody_uid, &nobody_gid, err, sizeof(err)) ==
			      0,
		      "%s", err);
	ck_assert_uint_ne(nobody_uid, 0);
	ck_assert_uint_ne(nobody_gid, 0);
}

/* "5 5 5 5": every field of a Uid or Gid line is ID. */
static void assert_all_ids(const char *line, unsigned id)
{
	char expected[64];

	snprintf(expected, sizeof(expected), "%u\t%u\t%u\t%u", id, id, id, id);
	ck_assert_str_eq(line, expected);
}

/* The drop took: nobody's ids, nothing of root left but the binding of
 * low ports (when it was there to keep), root refused. */
static void assert_dropped(const struct report *report, unsigned uid, unsigned gid)
{
	unsigned long long kept = report->had_bind_service ? BIND_SERVICE : 0;

	ck_assert_msg(report->status == 0, "drop failed: %s", report->err);
	assert_all_ids(report->uid, uid);
	assert_all_ids(report->gid, gid);
	ck_assert_str_eq(report->groups, "");
	ck_assert_uint_eq(report->cap_eff, kept);
	ck_assert_uint_eq(report->cap_prm, kept);
	ck_assert_uint_eq(report->cap_inh, 0);
	ck_assert_uint_eq(report->cap_amb, 0);
	if (report->had_setpcap)
		ck_assert_uint_eq(report->cap_bnd, BIND_SERVICE);
	ck_assert_int_eq(report->no_new_privs, 1);
	ck_assert(!report->are_root);
	ck_assert_int_eq(report->setuid_root, -1);
	ck_assert_int_eq(report->setuid_errno, EPERM);
	ck_assert_int_eq(report->setresuid_root, -1);
	ck_assert_int_eq(report->setgid_root, -1);
	ck_assert_int_eq(report->open_errno, EACCES);
}

/* ---- Any user ---- */

START_TEST(test_find_user)
{
	struct passwd *expected = getpwnam("nobody");
	uid_t uid = 7;
	gid_t gid = 7;
	char err[128] = "";

	ck_assert_ptr_nonnull(expected);
	ck_assert_int_eq(privileges_find_user("nobody", &uid, &gid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, expected->pw_uid);
	ck_assert_uint_eq(gid, expected->pw_gid);
	ck_assert_int_eq(privileges_find_user("root", &uid, &gid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, 0);

	uid = 7;
	ck_assert_int_eq(privileges_find_user("no-such-user-sxedge", &uid, &gid, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "no such user in the user database");
	ck_assert_uint_eq(uid, 7);
	/* A number is not a name. */
	ck_assert_int_eq(privileges_find_user("65534", &uid, &gid, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_find_group)
{
	struct passwd *nobody = getpwnam("nobody");
	gid_t gid = 7;
	char err[128] = "";

	ck_assert_ptr_nonnull(nobody);
	struct group *expected = getgrgid(nobody->pw_gid);
	ck_assert_ptr_nonnull(expected);
	char *name = strdup(expected->gr_name);
	ck_assert_int_eq(privileges_find_group(name, &gid, err, sizeof(err)), 0);
	ck_assert_uint_eq(gid, nobody->pw_gid);
	free(name);

	gid = 7;
	ck_assert_int_eq(privileges_find_group("no-such-group-sxedge", &gid, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no such group in the group database");
	ck_assert_uint_eq(gid, 7);
}
END_TEST

START_TEST(test_will_not_drop_to_root)
{
	char err[128] = "";

	ck_assert_int_eq(privileges_drop(0, 65534, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "will not drop to uid 0"));
	ck_assert_int_eq(privileges_drop(65534, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "gid 0"));
}
END_TEST

/* ---- As root, in a child ---- */

static void setup_root(void)
{
	find_nobody();
	strcpy(secret, "/tmp/sxedge-test-privileges-XXXXXX");
	int fd = mkstemp(secret);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0600), 0);
	close(fd);
}

static void teardown_root(void)
{
	unlink(secret);
}

static void drop_to_nobody(struct report *report)
{
	report->status = privileges_drop(nobody_uid, nobody_gid, report->err, sizeof(report->err));
}

START_TEST(test_drop_to_nobody)
{
	struct report report = run_child(drop_to_nobody);

	assert_dropped(&report, nobody_uid, nobody_gid);
}
END_TEST

/* Before the drop the child is root: the checks that follow are ones a
 * root process fails, so they can fail at all. */
static void stay_root(struct report *report)
{
	report->status = 0;
}

START_TEST(test_root_is_seen_as_root)
{
	struct report report = run_child(stay_root);

	ck_assert(report.are_root);
	ck_assert_uint_ne(report.cap_eff, 0);
	ck_assert_int_eq(report.open_errno, 0);
	ck_assert_int_eq(report.setuid_root, 0);
}
END_TEST

static gid_t other_gid; /* a group that is not nobody's primary one */

static void drop_to_other_group(struct report *report)
{
	report->status = privileges_drop(nobody_uid, other_gid, report->err, sizeof(report->err));
}

START_TEST(test_drop_to_named_group)
{
	char err[128];

	ck_assert_int_eq(privileges_find_group("daemon", &other_gid, err, sizeof(err)), 0);
	ck_assert_uint_ne(other_gid, nobody_gid);
	struct report report = run_child(drop_to_other_group);

	assert_dropped(&report, nobody_uid, other_gid);
}
END_TEST

/* Once dropped, a second drop to someone else is refused by the kernel. */
static void drop_twice(struct report *report)
{
	char err[200];
	uid_t daemon_uid;
	gid_t daemon_gid;

	drop_to_nobody(report);
	if (report->status != 0)
		return;
	if (privileges_find_user("daemon", &daemon_uid, &daemon_gid, err, sizeof(err)) < 0) {
		report->status = -2;
		snprintf(report->err, sizeof(report->err), "no user daemon: %s", err);
		return;
	}
	if (privileges_drop(daemon_uid, daemon_gid, err, sizeof(err)) == 0) {
		report->status = -3;
		snprintf(report->err, sizeof(report->err), "dropped to daemon from nobody");
		return;
	}
	snprintf(report->err, sizeof(report->err), "%s", err);
}

START_TEST(test_cannot_drop_again)
{
	struct report report = run_child(drop_twice);

	assert_dropped(&report, nobody_uid, nobody_gid);
	ck_assert_msg(strstr(report.err, "Operation not permitted") != NULL, "%s", report.err);
}
END_TEST

/* The kernel's own switch, with nothing else: the starting point of a
 * process started as the target user. */
static int plain_switch(struct report *report, uid_t saved_uid)
{
	if (setgroups(0, NULL) < 0 || setresgid(nobody_gid, nobody_gid, nobody_gid) < 0 ||
	    setresuid(nobody_uid, nobody_uid, saved_uid) < 0)
		return -1;
	report->had_setpcap = false; /* the effective set is gone */
	report->had_bind_service = false; /* and the permitted one */
	return 0;
}

static void started_as_nobody(struct report *report)
{
	if (plain_switch(report, nobody_uid) < 0) {
		report->status = -2;
		snprintf(report->err, sizeof(report->err), "switch: %s", strerror(errno));
		return;
	}
	report->status = privileges_drop(nobody_uid, nobody_gid, report->err, sizeof(report->err));
}

START_TEST(test_drop_as_the_user_itself)
{
	struct report report = run_child(started_as_nobody);

	assert_dropped(&report, nobody_uid, nobody_gid);
}
END_TEST

/* As a service manager starts it (User=, initgroups): the user's own group
 * as its one supplementary group, which grants nothing and stays; another
 * group cannot be shed without root, and the drop fails. */
static void started_with_groups(struct report *report, gid_t group)
{
	if (setgroups(1, &group) < 0 || setresgid(nobody_gid, nobody_gid, nobody_gid) < 0 ||
	    setresuid(nobody_uid, nobody_uid, nobody_uid) < 0) {
		report->status = -2;
		snprintf(report->err, sizeof(report->err), "switch: %s", strerror(errno));
		return;
	}
	report->had_setpcap = false;
	report->had_bind_service = false;
	report->status = privileges_drop(nobody_uid, nobody_gid, report->err, sizeof(report->err));
}

static void started_with_own_group(struct report *report)
{
	started_with_groups(report, nobody_gid);
}

static void started_with_root_group(struct report *report)
{
	started_with_groups(report, 0);
}

START_TEST(test_drop_keeps_the_users_own_group)
{
	struct report report = run_child(started_with_own_group);
	char own[16];

	ck_assert_msg(report.status == 0, "drop failed: %s", report.err);
	snprintf(own, sizeof(own), "%u", (unsigned)nobody_gid);
	ck_assert_str_eq(report.groups, own);
	ck_assert_uint_eq(report.cap_eff, 0);
	ck_assert_int_eq(report.setuid_root, -1);

	report = run_child(started_with_root_group);
	ck_assert_int_eq(report.status, -1);
	ck_assert_msg(strstr(report.err, "cannot clear the supplementary groups") != NULL, "%s",
		      report.err);
}
END_TEST

/* A switch that leaves root as the saved uid can be undone: verify says so. */
static void saved_root(struct report *report)
{
	if (plain_switch(report, 0) < 0) {
		report->status = -2;
		snprintf(report->err, sizeof(report->err), "switch: %s", strerror(errno));
		return;
	}
	report->status =
		privileges_verify(nobody_uid, nobody_gid, report->err, sizeof(report->err));
}

START_TEST(test_verify_finds_saved_root)
{
	struct report report = run_child(saved_root);

	ck_assert_int_eq(report.status, -1);
	ck_assert_msg(strstr(report.err, "uids are") != NULL, "%s", report.err);
	ck_assert(report.are_root);
	ck_assert_int_eq(report.setuid_root, 0); /* and it could */
}
END_TEST

/* keep-caps: the kernel leaves the permitted set after setresuid. */
static int keep_caps_switch(struct report *report)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || plain_switch(report, nobody_uid) < 0)
		return -1;
	report->had_bind_service = true;
	return 0;
}

static void kept_capabilities(struct report *report)
{
	if (keep_caps_switch(report) < 0) {
		report->status = -2;
		snprintf(report->err, sizeof(report->err), "switch: %s", strerror(errno));
		return;
	}
	report->status =
		privileges_verify(nobody_uid, nobody_gid, report->err, sizeof(report->err));
}

START_TEST(test_verify_finds_kept_capabilities)
{
	struct report report = run_child(kept_capabilities);

	ck_assert_int_eq(report.status, -1);
	ck_assert_msg(strstr(report.err, "capabilities remain") != NULL, "%s", report.err);
	ck_assert_uint_ne(report.cap_prm, 0);
}
END_TEST

static void drop_after_kept_capabilities(struct report *report)
{
	if (keep_caps_switch(report) < 0) {
		report->status = -2;
		snprintf(report->err, sizeof(report->err), "switch: %s", strerror(errno));
		return;
	}
	report->status = privileges_drop(nobody_uid, nobody_gid, report->err, sizeof(report->err));
}

START_TEST(test_drop_clears_kept_capabilities)
{
	struct report report = run_child(drop_after_kept_capabilities);

	assert_dropped(&report, nobody_uid, nobody_gid);
}
END_TEST

static void shed_as_nobody(struct report *report)
{
	if (keep_caps_switch(report) < 0) {
		report->status = -2;
		snprintf(report->err, sizeof(report->err), "switch: %s", strerror(errno));
		return;
	}
	report->status = privileges_shed_capabilities(report->err, sizeof(report->err));
}

START_TEST(test_shed_capabilities)
{
	struct report report = run_child(shed_as_nobody);

	assert_dropped(&report, nobody_uid, nobody_gid);
}
END_TEST

static Suite *privileges_suite(void)
{
	Suite *suite = suite_create("privileges");
	TCase *any = tcase_create("any user");
	TCase *root = tcase_create("as root");

	tcase_add_test(any, test_find_user);
	tcase_add_test(any, test_find_group);
	tcase_add_test(any, test_will_not_drop_to_root);
	suite_add_tcase(suite, any);

	if (geteuid() != 0) {
		fprintf(stderr, "test_privileges: not root, so the drop itself is not tested\n");
		return suite;
	}
	tcase_add_checked_fixture(root, setup_root, teardown_root);
	tcase_add_test(root, test_drop_to_nobody);
	tcase_add_test(root, test_root_is_seen_as_root);
	tcase_add_test(root, test_drop_to_named_group);
	tcase_add_test(root, test_cannot_drop_again);
	tcase_add_test(root, test_drop_as_the_user_itself);
	tcase_add_test(root, test_drop_keeps_the_users_own_group);
	tcase_add_test(root, test_verify_finds_saved_root);
	tcase_add_test(root, test_verify_finds_kept_capabilities);
	tcase_add_test(root, test_drop_clears_kept_capabilities);
	tcase_add_test(root, test_shed_capabilities);
	suite_add_tcase(suite, root);
	return suite;
}

int main(void)
{
	return test_suite_run(privileges_suite());
}
