/* SPDX-License-Identifier: ISC */
/* test_turn_scratch: what the suites that load TURN configurations share:
 * a schema of the core's roles with the [federation], SIP and [turn]
 * modules, and a scratch folder holding the files a configuration names
 * (placeholder certificates, secrets, the configuration itself). */
#ifndef SXEDGE_TESTS_TEST_TURN_SCRATCH_H
#define SXEDGE_TESTS_TEST_TURN_SCRATCH_H

#include "config.h"

extern const struct config_schema turn_test_schema;

/* The scratch folder, made by turn_scratch_make. */
extern char turn_scratch_dir[64];

/* A fresh folder /tmp/sxedge-test-NAME-XXXXXX with ca.crt, edge.crt and
 * edge.key in it (placeholders: nothing reads them as certificates). */
void turn_scratch_make(const char *name);
/* Writes TEXT into the folder's file NAME. */
void turn_scratch_write(const char *name, const char *text);
/* Removes the folder and all in it. */
void turn_scratch_remove(void);

#endif
