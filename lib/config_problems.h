/* SPDX-License-Identifier: ISC */
/* config_problems: the problems found in one configuration file, kept until
 * the whole file is read and then written sorted by line as "FILE:LINE:
 * message" (LINE 0, the file as a whole, last), so an operator reads them
 * in the order of the file and fixes them all in one go. */
#ifndef SXEDGE_CONFIG_PROBLEMS_H
#define SXEDGE_CONFIG_PROBLEMS_H

#include <stddef.h>
#include <stdio.h>

struct config_problem;

struct config_problems {
	const char *path;
	FILE *errors; /* NULL: counted, never written */
	unsigned count; /* every problem reported, written or not */
	struct config_problem *list;
	size_t n_list;
};

void config_problems_init(struct config_problems *problems, const char *path, FILE *errors);

/* Notes a problem at LINE (0: the file as a whole). */
void config_problem(struct config_problems *problems, int line, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes every problem noted, by line and then in the order found, and
 * forgets them (the count stays). */
void config_problems_write(struct config_problems *problems);

#endif
