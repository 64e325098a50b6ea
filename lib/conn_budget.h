/* SPDX-License-Identifier: ISC */
/* conn_budget: the inbound connections one kind of listener (a role) may
 * hold, in all and per source address, and which of them are still on
 * probation (have not yet shown they are real clients), oldest first.
 *
 * A budget of its own per role keeps one kind of peer from starving the
 * others: a flood on the public access port cannot take the room the pool
 * and the partner edges need.  Within a full budget, a newcomer may take the
 * place of the oldest connection still on probation (the owner decides: see
 * conn_budget_oldest_on_probation), so idle connections that never sent a
 * valid request cannot lock real clients out.
 *
 * One budget per worker; conn.c keeps each conn's membership up to date
 * (conn_join_budget, conn_end_probation, close). */
#ifndef SXEDGE_CONN_BUDGET_H
#define SXEDGE_CONN_BUDGET_H

#include <stdbool.h>
#include <sys/socket.h>

#include "address_count.h"

struct conn;

/* A conn's place in a budget, kept inside the conn. */
struct conn_budget_member {
	struct conn_budget *budget; /* NULL: in none */
	struct conn *conn;
	struct sockaddr_storage source; /* what the per-address count holds */
	bool counted_by_address;
	bool on_probation;
	struct conn_budget_member *older, *newer; /* the probation queue, while on it */
};

struct conn_budget {
	const char *name; /* the role, for the logs: "access" */
	unsigned max; /* connections in all */
	unsigned used;
	unsigned max_per_address; /* 0: no per-address cap */
	struct address_count *per_address; /* NULL when there is no cap */
	/* Members on probation, in the order they joined. */
	struct conn_budget_member *oldest, *newest;
};

enum conn_budget_verdict {
	CONN_BUDGET_ADMIT, /* room for one more */
	CONN_BUDGET_ADDRESS_FULL, /* its source holds max_per_address already */
	CONN_BUDGET_FULL, /* the budget holds max */
};
#define CONN_BUDGET_VERDICTS (CONN_BUDGET_FULL + 1)

/* The verdict's stable name, for logs (reason_code=) and metrics: a refusal
 * is "address_limit" or "connection_limit". */
const char *conn_budget_verdict_name(enum conn_budget_verdict verdict);

/* Sets up BUDGET; MAX_PER_ADDRESS 0 means no per-address cap.  Returns -1
 * when out of memory. */
int conn_budget_init(struct conn_budget *budget, const char *name, unsigned max,
		     unsigned max_per_address);
/* A reload: from now on BUDGET admits MAX connections in all and
 * MAX_PER_ADDRESS from one source (0: no cap).  Those in it keep their
 * places, even beyond a lower cap; under a cap where there was none, only
 * those that join from now on are counted by address (the table the cap
 * needs is made at the first of them: its join fails when out of memory). */
void conn_budget_set_limits(struct conn_budget *budget, unsigned max, unsigned max_per_address);
/* Frees what BUDGET holds; every member must have left. */
void conn_budget_clear(struct conn_budget *budget);

/* May a connection from SOURCE join?  The address is checked first: one
 * source over its cap is refused, and never makes room by shedding others. */
enum conn_budget_verdict conn_budget_check(const struct conn_budget *budget,
					   const struct sockaddr *source);

/* The member that has been on probation longest, or NULL when every member
 * has proven itself. */
struct conn *conn_budget_oldest_on_probation(const struct conn_budget *budget);

/* For conn.c: MEMBER (of CONN, from SOURCE) joins BUDGET on probation (or
 * not, when ON_PROBATION is false).  Returns false, joining nothing, when
 * the per-address table is out of memory or over its cap. */
bool conn_budget_join(struct conn_budget *budget, struct conn_budget_member *member,
		      struct conn *conn, const struct sockaddr *source, bool on_probation);
/* MEMBER has proven itself: it leaves the probation queue, keeps its place. */
void conn_budget_end_probation(struct conn_budget_member *member);
/* MEMBER gives its place back (a no-op when it holds none). */
void conn_budget_leave(struct conn_budget_member *member);

#endif
