/* SPDX-License-Identifier: ISC */
/* test_turn_scratch: see test_turn_scratch.h. */
#include "test_turn_scratch.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "federation_config.h"
#include "roles.h"
#include "sip_config.h"
#include "turn_config.h"

static const struct config_module *const modules[] = { &federation_config_module,
						       &sip_config_module, &turn_config_module };
const struct config_schema turn_test_schema = {
	.roles = roles,
	.n_roles = ROLE_COUNT,
	.modules = modules,
	.n_modules = sizeof(modules) / sizeof(modules[0]),
};

char turn_scratch_dir[64];

void turn_scratch_write(const char *name, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", turn_scratch_dir, name);
	FILE *file = fopen(path, "w");
	ck_assert_ptr_nonnull(file);
	fputs(text, file);
	ck_assert_int_eq(fclose(file), 0);
}

void turn_scratch_make(const char *name)
{
	static const char *const names[] = { "ca.crt", "edge.crt", "edge.key" };

	snprintf(turn_scratch_dir, sizeof(turn_scratch_dir), "/tmp/sxedge-test-%s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(turn_scratch_dir));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		turn_scratch_write(names[i], "-----BEGIN CERTIFICATE-----\n");
}

void turn_scratch_remove(void)
{
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", turn_scratch_dir);
	ck_assert_int_eq(system(command), 0);
}
