/* SPDX-License-Identifier: ISC */
/* in_flight: the requests relayed over one outbound link (to the pool or a
 * partner edge) that have not had their final response yet, so that when
 * the link dies each of them is answered (503 with the time until the next
 * attempt) instead of being left to its client's timer.
 *
 * An entry is known by the Via branch the edge put on the request and its
 * CSeq method (a CANCEL has its INVITE's branch, RFC 3261 §16.11), and
 * keeps only what the answer needs: the arrival connection and the fields a
 * response copies (sip_response_fields).  The table is bounded: when full,
 * the oldest entry gives way.  An entry lives as long as its client waits:
 * 32 s (64*T1, Timer F) for a non-INVITE, VIA_STAMP_MAX_AGE for an INVITE
 * (routing drops a response older than that anyway).  Pure: no sockets, the
 * caller gives the time. */
#ifndef SXEDGE_SIP_IN_FLIGHT_H
#define SXEDGE_SIP_IN_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roles.h"

#define IN_FLIGHT_BUCKETS 256

struct in_flight_entry {
	char *key; /* "BRANCH METHOD" */
	const char *method; /* inside key */
	uint64_t arrival_id;
	enum listener_role arrival_role;
	char *fields; /* sip_response_fields of the request */
	size_t fields_len;
	uint64_t expires_ms;
	struct in_flight_entry *hash_next;
	struct in_flight_entry *older, *newer;
};

struct in_flight {
	struct in_flight_entry *buckets[IN_FLIGHT_BUCKETS];
	struct in_flight_entry *oldest, *newest;
	size_t count, max;
};

void in_flight_init(struct in_flight *table, size_t max);
/* Frees every entry. */
void in_flight_clear(struct in_flight *table);
/* Frees the entries whose client stopped waiting by NOW_MS. */
void in_flight_expire(struct in_flight *table, uint64_t now_ms);

enum in_flight_add_result {
	IN_FLIGHT_ADDED,
	IN_FLIGHT_EVICTED, /* added; the oldest entry gave way (it is freed) */
	IN_FLIGHT_NO_MEMORY, /* not added */
};

/* Remembers the request with BRANCH and METHOD, relayed at NOW_MS for
 * ARRIVAL_ID (of ARRIVAL_ROLE), taking over FIELDS (malloc'd).  Entries that expired by NOW_MS
 * are dropped first.  A second add with the same branch and method (a
 * retransmission) replaces the first. */
enum in_flight_add_result in_flight_add(struct in_flight *table, const char *branch,
					const char *method, uint64_t arrival_id,
					enum listener_role arrival_role, char *fields,
					size_t fields_len, uint64_t now_ms);

/* Forgets the request a final response with BRANCH and METHOD answers;
 * false when none is remembered. */
bool in_flight_remove(struct in_flight *table, const char *branch, const char *method);

/* Takes the oldest entry whose client still waits at NOW_MS out (NULL when
 * none is left), for the caller to answer and free with
 * in_flight_entry_free; expired ones on the way are freed. */
struct in_flight_entry *in_flight_take_oldest(struct in_flight *table, uint64_t now_ms);
void in_flight_entry_free(struct in_flight_entry *entry);

/* How long the client of a request with METHOD waits for its final answer. */
uint64_t in_flight_lifetime_ms(const char *method);

#endif
