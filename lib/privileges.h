/* SPDX-License-Identifier: ISC */
/* privileges: giving up root for good once the daemon holds what needs it.
 *
 * An edge parses what the internet sends: that code must not run as root.
 * The daemon binds its ports and reads its keys first, then calls
 * privileges_drop(): no supplementary groups, real, effective and saved ids
 * all the target's, no capability left in any set but CAP_NET_BIND_SERVICE
 * (so that a reload can bind a listener below port 1024; it grants nothing
 * else), and no_new_privs so that nothing (not even an exec of a
 * set-user-ID program) can give one back.
 * Every function that changes the process checks the result itself
 * (privileges_verify()) rather than trusting the calls' return values.
 *
 * Users and groups are looked up while the configuration is read, so a
 * name that does not exist is a configuration error with its line. */
#ifndef SXEDGE_PRIVILEGES_H
#define SXEDGE_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* NAME's uid and primary group from the user database.  Returns 0, or -1
 * with the reason in ERR ("no such user", or the lookup's error). */
int privileges_find_user(const char *name, uid_t *uid, gid_t *primary_gid, char *err,
			 size_t err_size);

/* NAME's gid from the group database.  Returns 0, or -1 with ERR. */
int privileges_find_group(const char *name, gid_t *gid, char *err, size_t err_size);

/* The process holds root's uid as its real, effective or saved uid. */
bool privileges_are_root(void);

/* Becomes UID and GID for good: clears the supplementary groups, sets
 * real, effective and saved gid then uid, empties every capability set but
 * for CAP_NET_BIND_SERVICE in the effective and permitted ones when it was
 * permitted (the bounding set too while CAP_SETPCAP allows it) and sets
 * no_new_privs,
 * then checks with privileges_verify().  UID and GID must not be 0.
 * Started as UID and GID already, only the capabilities go.  Returns 0, or
 * -1 with the step that failed in ERR; after a failure the process is in
 * some state between the two and must exit. */
int privileges_drop(uid_t uid, gid_t gid, char *err, size_t err_size);

/* For a process that stays who it is: empties every capability set it may
 * hold but CAP_NET_BIND_SERVICE (which a service manager gives it with
 * AmbientCapabilities=; the ambient set itself is emptied) and sets
 * no_new_privs.  Returns 0, or -1 with ERR. */
int privileges_shed_capabilities(char *err, size_t err_size);

/* Checks what privileges_drop() promises: real, effective and saved uid
 * UID and gid GID, no supplementary group (but GID itself), no effective or permitted
 * capability but CAP_NET_BIND_SERVICE, no inheritable or ambient one,
 * no_new_privs, and that setuid(0) and setgid(0) fail (when UID and GID
 * are not 0).  Returns 0, or -1 with the first thing found wrong in ERR. */
int privileges_verify(uid_t uid, gid_t gid, char *err, size_t err_size);

#endif
