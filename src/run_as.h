/* SPDX-License-Identifier: ISC */
/* run_as: who the daemon serves as, by [global] user, group and allow_root.
 *
 * The daemon starts as root to bind ports below 1024 and read keys only
 * root may read; it must not parse what the internet sends as root.  So a
 * start as root needs either a user to drop to once the worker holds its
 * sockets and keys, or allow_root = yes, which says in the file that the
 * operator wants root.  Started as another user, the daemon stays that user
 * (with no capability left). */
#ifndef SXEDGE_RUN_AS_H
#define SXEDGE_RUN_AS_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* Whether CONFIG may start in a process that AS_ROOT says is root or not.
 * Returns 0, or writes "FILE:LINE: message" (LINE: the [global] header) to
 * ERRORS and returns -1.  Called before anything is bound, and by -t. */
int run_as_check(const struct sxedge_config *config, bool as_root, FILE *errors);

/* After start-up, before serving: drops to [global] user and group, or
 * sheds the capabilities of a process that stays who it is, or, as root
 * with allow_root, logs a warning and keeps root.  Logs what it did and
 * returns 0, or logs why it failed and returns -1 (the daemon must exit). */
int run_as_apply(const struct sxedge_config *config);

#endif
