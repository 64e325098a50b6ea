/* SPDX-License-Identifier: ISC */
/* privileges: look up the user and group to run as, drop to them, and
 * check that nothing of root is left (see privileges.h).
 *
 * Capabilities are read and written with the capget/capset system calls
 * directly: glibc has no wrapper, and libcap would be one more dependency
 * for two calls. */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Room for one passwd or group entry when sysconf() gives no hint; grown
 * on ERANGE (a group with many members can need more). */
#define ENTRY_BUFFER_MIN 16384
#define ENTRY_BUFFER_MAX (1024 * 1024)

/* ---- the user and group databases ---- */

/* getpwnam_r() and getgrnam_r() say "not there" with any of these (and 0). */
static bool is_not_found(int error)
{
	return error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM;
}

/* One look-up in a database: getpwnam_r() or getgrnam_r() with the entry
 * they fill, found (or not) as *FOUND. */
struct entry_lookup {
	int (*find)(struct entry_lookup *lookup, const char *name, char *buffer, size_t size,
		    bool *found);
	int size_hint; /* the sysconf() name of the buffer size hint */
	struct passwd user;
	struct group group;
};

static int find_user(struct entry_lookup *lookup, const char *name, char *buffer, size_t size,
		     bool *found)
{
	struct passwd *result = NULL;
	int error = getpwnam_r(name, &lookup->user, buffer, size, &result);
	*found = result != NULL;
	return error;
}

static int find_group(struct entry_lookup *lookup, const char *name, char *buffer, size_t size,
		      bool *found)
{
	struct group *result = NULL;
	int error = getgrnam_r(name, &lookup->group, buffer, size, &result);
	*found = result != NULL;
	return error;
}

/* Runs LOOKUP for NAME with a buffer grown while it is too small (ERANGE).
 * Returns 0 when found; else -1 with ERR naming WHAT ("user", "group"). */
static int entry_find(struct entry_lookup *lookup, const char *name, const char *what, char *err,
		      size_t err_size)
{
	long hint = sysconf(lookup->size_hint);
	size_t size = hint > ENTRY_BUFFER_MIN ? (size_t)hint : ENTRY_BUFFER_MIN;
	char *buffer = NULL;
	bool found = false;
	int error;

	do {
		char *grown = realloc(buffer, size);
		if (grown == NULL) {
			free(buffer);
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		buffer = grown;
		error = lookup->find(lookup, name, buffer, size, &found);
		size *= 2;
	} while (error == ERANGE && size <= ENTRY_BUFFER_MAX);
	/* The entry's strings live in the buffer, but only its ids are used. */
	free(buffer);
	if (found)
		return 0;
	if (is_not_found(error))
		snprintf(err, err_size, "no such %s in the %s database", what, what);
	else
		snprintf(err, err_size, "cannot look up the %s: %s", what, strerror(error));
	return -1;
}

int privileges_find_user(const char *name, uid_t *uid, gid_t *primary_gid, char *err,
			 size_t err_size)
{
	struct entry_lookup lookup = { .find = find_user, .size_hint = _SC_GETPW_R_SIZE_MAX };

	if (entry_find(&lookup, name, "user", err, err_size) < 0)
		return -1;
	*uid = lookup.user.pw_uid;
	*primary_gid = lookup.user.pw_gid;
	return 0;
}

int privileges_find_group(const char *name, gid_t *gid, char *err, size_t err_size)
{
	struct entry_lookup lookup = { .find = find_group, .size_hint = _SC_GETGR_R_SIZE_MAX };

	if (entry_find(&lookup, name, "group", err, err_size) < 0)
		return -1;
	*gid = lookup.group.gr_gid;
	return 0;
}

/* ---- capabilities ---- */

struct capability_sets {
	uint64_t effective, permitted, inheritable;
};

static int capabilities_read(struct capability_sets *sets)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &header, data) < 0)
		return -1;
	sets->effective = (uint64_t)data[1].effective << 32 | data[0].effective;
	sets->permitted = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	sets->inheritable = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
	return 0;
}

/* The one capability the serving process may keep: binding a port below
 * 1024, for a listener a reload adds. */
#define KEPT_CAPABILITIES (1ULL << CAP_NET_BIND_SERVICE)

/* The kernel clears the permitted and effective sets when a root process
 * sets all its uids to another, but not when securebits (keep-caps,
 * no-setuid-fixup) say otherwise, and never the inheritable set: so set
 * every set explicitly, to KEEP (of what is permitted now) in effective
 * and permitted and nothing else.  Lowering a set is always allowed. */
static int capabilities_keep_only(uint64_t keep, char *err, size_t err_size)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	struct capability_sets sets;

	if (capabilities_read(&sets) < 0) {
		snprintf(err, err_size, "cannot read the capabilities: %s", strerror(errno));
		return -1;
	}
	keep &= sets.permitted;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		snprintf(err, err_size, "cannot clear the ambient capabilities: %s",
			 strerror(errno));
		return -1;
	}
	if (syscall(SYS_capset, &header, data) < 0) {
		snprintf(err, err_size, "cannot lower the capabilities: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The bounding set caps what an exec could ever grant.  no_new_privs
 * already rules that out, so this is a second wall, built only while
 * CAP_SETPCAP is there to build it. */
static int bounding_set_clear(char *err, size_t err_size)
{
	struct capability_sets sets;

	if (capabilities_read(&sets) < 0 || (sets.effective & (1ULL << CAP_SETPCAP)) == 0)
		return 0;
	/* PR_CAPBSET_READ fails (EINVAL) past the kernel's last capability. */
	for (unsigned long cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if ((KEPT_CAPABILITIES >> cap & 1) == 0 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			snprintf(err, err_size,
				 "cannot drop capability %lu from the bounding set: %s", cap,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int no_new_privs_set(char *err, size_t err_size)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, err_size, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* No capability in any set but the kept one, and no_new_privs. */
static int verify_capabilities(char *err, size_t err_size)
{
	struct capability_sets sets;

	if (capabilities_read(&sets) < 0) {
		snprintf(err, err_size, "cannot read the capabilities: %s", strerror(errno));
		return -1;
	}
	if ((sets.effective & ~KEPT_CAPABILITIES) != 0 ||
	    (sets.permitted & ~KEPT_CAPABILITIES) != 0 || sets.inheritable != 0) {
		snprintf(err, err_size,
			 "capabilities remain: effective %#llx, permitted %#llx, inheritable %#llx",
			 (unsigned long long)sets.effective, (unsigned long long)sets.permitted,
			 (unsigned long long)sets.inheritable);
		return -1;
	}
	/* PR_CAP_AMBIENT_IS_SET fails (EINVAL) past the last capability. */
	int set;
	for (unsigned long cap = 0;
	     (set = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0)) >= 0; cap++) {
		if (set == 1) {
			snprintf(err, err_size, "ambient capability %lu remains", cap);
			return -1;
		}
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, err_size, "no_new_privs is not set");
		return -1;
	}
	return 0;
}

/* ---- ids ---- */

bool privileges_are_root(void)
{
	uid_t real, effective, saved;

	if (getresuid(&real, &effective, &saved) < 0)
		return true; /* cannot tell: assume the worst */
	return real == 0 || effective == 0 || saved == 0;
}

/* No supplementary group but GID itself, which grants nothing the primary
 * group does not: a service manager starting the daemon as its user gives
 * it that one (initgroups), and dropping it would take CAP_SETGID. */
static bool groups_add_nothing(gid_t gid)
{
	gid_t groups[2];
	int n = getgroups(2, groups);

	return n == 0 || (n == 1 && groups[0] == gid);
}

static int verify_ids(uid_t uid, gid_t gid, char *err, size_t err_size)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0) {
		snprintf(err, err_size, "cannot read the ids: %s", strerror(errno));
		return -1;
	}
	if (ruid != uid || euid != uid || suid != uid) {
		snprintf(err, err_size, "uids are %u, %u, %u (real, effective, saved), not %u",
			 (unsigned)ruid, (unsigned)euid, (unsigned)suid, (unsigned)uid);
		return -1;
	}
	if (rgid != gid || egid != gid || sgid != gid) {
		snprintf(err, err_size, "gids are %u, %u, %u (real, effective, saved), not %u",
			 (unsigned)rgid, (unsigned)egid, (unsigned)sgid, (unsigned)gid);
		return -1;
	}
	if (!groups_add_nothing(gid)) {
		snprintf(err, err_size, "%d supplementary groups remain", getgroups(0, NULL));
		return -1;
	}
	/* The proof that counts: asking for root back is refused. */
	if (uid != 0 && setuid(0) == 0) {
		snprintf(err, err_size, "setuid(0) succeeded: root could be regained");
		return -1;
	}
	if (gid != 0 && setgid(0) == 0) {
		snprintf(err, err_size, "setgid(0) succeeded: root's group could be regained");
		return -1;
	}
	return 0;
}

int privileges_verify(uid_t uid, gid_t gid, char *err, size_t err_size)
{
	if (verify_ids(uid, gid, err, err_size) < 0)
		return -1;
	return verify_capabilities(err, err_size);
}

/* EPERM, the one error a wrong start gives, says what to do about it. */
static const char *id_error(int error)
{
	return error == EPERM ? "Operation not permitted (only root can become another user)"
			      : strerror(error);
}

/* Groups first, then gids, then uids: each step needs a capability that
 * the next one takes away.  A step with nothing to change is skipped, so a
 * process started as the target itself needs no privilege at all. */
static int ids_set(uid_t uid, gid_t gid, char *err, size_t err_size)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0) {
		snprintf(err, err_size, "cannot read the ids: %s", strerror(errno));
		return -1;
	}
	/* Only the one group: keys are read already, nothing needs another. */
	if (!groups_add_nothing(gid) && setgroups(0, NULL) < 0) {
		snprintf(err, err_size, "cannot clear the supplementary groups: %s",
			 id_error(errno));
		return -1;
	}
	if ((rgid != gid || egid != gid || sgid != gid) && setresgid(gid, gid, gid) < 0) {
		snprintf(err, err_size, "cannot set gid %u: %s", (unsigned)gid, id_error(errno));
		return -1;
	}
	if ((ruid != uid || euid != uid || suid != uid) && setresuid(uid, uid, uid) < 0) {
		snprintf(err, err_size, "cannot set uid %u: %s", (unsigned)uid, id_error(errno));
		return -1;
	}
	return 0;
}

int privileges_drop(uid_t uid, gid_t gid, char *err, size_t err_size)
{
	if (uid == 0 || gid == 0) {
		snprintf(err, err_size, "will not drop to uid %u, gid %u: that keeps root's",
			 (unsigned)uid, (unsigned)gid);
		return -1;
	}
	/* keep-caps: the permitted set outlives the change of uid, so that the
	 * kept capability can stay; every other one goes right after. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		snprintf(err, err_size, "cannot keep capabilities across the change of uid: %s",
			 strerror(errno));
		return -1;
	}
	int status = no_new_privs_set(err, err_size) < 0 || bounding_set_clear(err, err_size) < 0 ||
				     ids_set(uid, gid, err, err_size) < 0 ||
				     capabilities_keep_only(KEPT_CAPABILITIES, err, err_size) < 0
			     ? -1
			     : 0;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (status < 0)
		return -1;
	return privileges_verify(uid, gid, err, err_size);
}

int privileges_shed_capabilities(char *err, size_t err_size)
{
	if (no_new_privs_set(err, err_size) < 0 || bounding_set_clear(err, err_size) < 0 ||
	    capabilities_keep_only(KEPT_CAPABILITIES, err, err_size) < 0)
		return -1;
	return verify_capabilities(err, err_size);
}
