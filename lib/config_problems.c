/* SPDX-License-Identifier: ISC */
/* config_problems: collecting and writing a file's problems in line order. */
#include "config_problems.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

struct config_problem {
	int line;
	size_t order; /* found as the ORDER-th: keeps the sort stable */
	char *text;
};

void config_problems_init(struct config_problems *problems, const char *path, FILE *errors)
{
	*problems = (struct config_problems){ .path = path, .errors = errors };
}

void config_problem(struct config_problems *problems, int line, const char *format, ...)
{
	struct config_problem *grown;
	char *text = NULL;
	va_list args;
	int n;

	problems->count++;
	va_start(args, format);
	n = vasprintf(&text, format, args);
	va_end(args);
	grown = n < 0 ? NULL : realloc(problems->list, (problems->n_list + 1) * sizeof(*grown));
	if (grown == NULL) {
		/* Out of memory: say so at once rather than lose the message. */
		if (problems->errors != NULL)
			fprintf(problems->errors, "%s:%d: %s\n", problems->path, line,
				n < 0 ? "(out of memory)" : text);
		if (n >= 0)
			free(text);
		return;
	}
	problems->list = grown;
	grown[problems->n_list] = (struct config_problem){ line, problems->n_list, text };
	problems->n_list++;
}

/* By line, LINE 0 (the file as a whole) last; otherwise in the order found. */
static int problem_compare(const void *a, const void *b)
{
	const struct config_problem *first = a, *second = b;
	unsigned first_line = first->line == 0 ? UINT_MAX : (unsigned)first->line;
	unsigned second_line = second->line == 0 ? UINT_MAX : (unsigned)second->line;

	if (first_line != second_line)
		return first_line < second_line ? -1 : 1;
	return first->order < second->order ? -1 : first->order > second->order;
}

void config_problems_write(struct config_problems *problems)
{
	if (problems->n_list > 1)
		qsort(problems->list, problems->n_list, sizeof(*problems->list), problem_compare);
	for (size_t i = 0; i < problems->n_list; i++) {
		if (problems->errors != NULL)
			fprintf(problems->errors, "%s:%d: %s\n", problems->path,
				problems->list[i].line, problems->list[i].text);
		free(problems->list[i].text);
	}
	free(problems->list);
	problems->list = NULL;
	problems->n_list = 0;
}
