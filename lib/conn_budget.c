/* SPDX-License-Identifier: ISC */
/* conn_budget: counting a role's connections and queueing those on
 * probation.  The queue is a doubly linked list threaded through the
 * members, so joining, proving and leaving are O(1) whatever the number of
 * connections: a flood makes every one of them happen often. */
#include "conn_budget.h"

#include <netinet/in.h>
#include <string.h>

int conn_budget_init(struct conn_budget *budget, const char *name, unsigned max,
		     unsigned max_per_address)
{
	memset(budget, 0, sizeof(*budget));
	budget->name = name;
	budget->max = max;
	budget->max_per_address = max_per_address;
	if (max_per_address == 0)
		return 0;
	budget->per_address = address_count_new();
	return budget->per_address != NULL ? 0 : -1;
}

void conn_budget_set_limits(struct conn_budget *budget, unsigned max, unsigned max_per_address)
{
	budget->max = max;
	budget->max_per_address = max_per_address;
}

void conn_budget_clear(struct conn_budget *budget)
{
	address_count_free(budget->per_address);
	budget->per_address = NULL;
}

const char *conn_budget_verdict_name(enum conn_budget_verdict verdict)
{
	switch (verdict) {
	case CONN_BUDGET_ADMIT:
		return "admitted";
	case CONN_BUDGET_ADDRESS_FULL:
		return "address_limit";
	case CONN_BUDGET_FULL:
		return "connection_limit";
	}
	return "unknown";
}

enum conn_budget_verdict conn_budget_check(const struct conn_budget *budget,
					   const struct sockaddr *source)
{
	if (budget->max_per_address != 0 && budget->per_address != NULL &&
	    address_count_get(budget->per_address, source) >= budget->max_per_address)
		return CONN_BUDGET_ADDRESS_FULL;
	return budget->used < budget->max ? CONN_BUDGET_ADMIT : CONN_BUDGET_FULL;
}

struct conn *conn_budget_oldest_on_probation(const struct conn_budget *budget)
{
	return budget->oldest != NULL ? budget->oldest->conn : NULL;
}

static void queue_remove(struct conn_budget_member *member)
{
	struct conn_budget *budget = member->budget;

	if (member->older != NULL)
		member->older->newer = member->newer;
	else
		budget->oldest = member->newer;
	if (member->newer != NULL)
		member->newer->older = member->older;
	else
		budget->newest = member->older;
	member->older = member->newer = NULL;
	member->on_probation = false;
}

static size_t source_length(const struct sockaddr *source)
{
	return source->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					     : sizeof(struct sockaddr_in);
}

bool conn_budget_join(struct conn_budget *budget, struct conn_budget_member *member,
		      struct conn *conn, const struct sockaddr *source, bool on_probation)
{
	memset(member, 0, sizeof(*member));
	if (budget->max_per_address != 0) {
		if (budget->per_address == NULL)
			budget->per_address = address_count_new();
		if (source == NULL || budget->per_address == NULL ||
		    !address_count_acquire(budget->per_address, source, budget->max_per_address))
			return false;
		memcpy(&member->source, source, source_length(source));
		member->counted_by_address = true;
	}
	member->budget = budget;
	member->conn = conn;
	budget->used++;
	if (!on_probation)
		return true;
	member->on_probation = true;
	member->older = budget->newest;
	if (budget->newest != NULL)
		budget->newest->newer = member;
	else
		budget->oldest = member;
	budget->newest = member;
	return true;
}

void conn_budget_end_probation(struct conn_budget_member *member)
{
	if (member->budget != NULL && member->on_probation)
		queue_remove(member);
}

void conn_budget_leave(struct conn_budget_member *member)
{
	struct conn_budget *budget = member->budget;

	if (budget == NULL)
		return;
	if (member->on_probation)
		queue_remove(member);
	if (member->counted_by_address)
		address_count_release(budget->per_address,
				      (const struct sockaddr *)&member->source);
	budget->used--;
	member->budget = NULL;
	member->counted_by_address = false;
}
