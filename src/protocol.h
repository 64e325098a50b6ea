/* SPDX-License-Identifier: ISC */
/* protocol: what a protocol module gives the core, one entry per protocol.
 *
 * The worker only knows listeners, their roles (roles.h) and this table:
 * it binds every listener of the configuration, stream or datagram, and
 * hands what arrives on it to the protocol its role names: an accepted
 * socket to accept, a datagram to datagram.  Each protocol keeps its own
 * per-worker state (made by worker_new, started by worker_start once every
 * socket is bound and root given up, freed by worker_free), counts its own
 * open connections by role, and closes them all on request; the worker adds
 * the counts of every protocol for its logs, the accept pause and the drain,
 * and shows each role's on the metrics page.  At SIGTERM it tells each
 * protocol to drain, and when the drain is over to stop, and waits a little
 * for what stop closed in order to be gone.  A protocol counts what only
 * it knows (messages relayed, refusals by reason) into families of its own
 * in the worker's metrics registry.
 * At SIGHUP the worker reloads in two steps, so that a reload either
 * applies as a whole or not at all: every protocol prepares from the new
 * snapshot and every listener new to it is bound; only then does each
 * protocol commit.  A listener of the new snapshot with the transport,
 * address and port of one already bound keeps that socket (its datagrams
 * go on arriving on the same descriptor); one the new snapshot does not
 * have is closed after the commit.
 * A protocol's configuration sections come with it (config_module.h).
 *
 * A new protocol is: its rows in the role table (roles.c), one entry here
 * (filled by its module, e.g. sip_protocol.c), listed in protocols.c with
 * its configuration module. */
#ifndef SXEDGE_PROTOCOL_H
#define SXEDGE_PROTOCOL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/util.h>

#include "config.h"
#include "metrics.h"

struct protocol {
	const char *name; /* as the role table's rows name it */
	/* Once per process, before any worker (library set-up); may be NULL. */
	void (*process_init)(void);
	/* What `sxedge -t` checks beyond the file (certificates and keys): one
	 * line per problem on ERRORS and -1, or 0.  May be NULL. */
	int (*check)(const struct sxedge_config *config, FILE *errors);

	/* The protocol's state in one worker: made while the process may still
	 * be root (keys are read here), or NULL with lines on ERRORS.  It
	 * registers its metric families in METRICS, the worker's registry
	 * (NULL when metrics are off: its handles then count into nothing). */
	void *(*worker_new)(struct event_base *base, const struct sxedge_config *config,
			    struct metrics *metrics, FILE *errors);
	/* Once every listener is bound and root given up: outbound links and
	 * the like.  Returns 0 or -1. */
	int (*worker_start)(void *state);
	/* Closes whatever is still open and frees STATE. */
	void (*worker_free)(void *state);

	/* A connection accepted on a stream LISTENER (tcp or tls) of one of its
	 * roles: FD is the protocol's to keep or close.  NULL when it has no
	 * stream roles. */
	void (*accept)(void *state, const struct listener_config *listener, evutil_socket_t fd,
		       const struct sockaddr *peer, int peer_len);
	/* A datagram received on a udp LISTENER of one of its roles; FD is the
	 * listener's, for answers.  NULL when it has no udp roles. */
	void (*datagram)(void *state, const struct listener_config *listener, evutil_socket_t fd,
			 const unsigned char *data, size_t size, const struct sockaddr *peer,
			 socklen_t peer_len);
	/* Accepted connections (or flows) of ROLE, one of its own roles (an
	 * index in the role table), currently open. */
	unsigned (*open_connections)(const void *state, unsigned role);
	/* SIGTERM, once the listeners are closed: it opens no new outbound
	 * link and lets what is open finish.  May be NULL. */
	void (*drain)(void *state);
	/* The drain is over: it answers what is still in flight and closes
	 * every connection in order (flushed, TLS close_notify).  May be NULL. */
	void (*stop)(void *state);
	/* Every connection it still has open, accepted or outbound; the worker
	 * exits once each protocol's is 0 after stop, or a grace time passed.
	 * May be NULL (none beyond open_connections). */
	unsigned (*all_connections)(const void *state);
	/* Descriptors its outbound links may hold at most (counted into the
	 * open-files limit beside max_connections); may be NULL. */
	unsigned (*outbound_links)(const struct sxedge_config *config);
	/* SIGHUP (docs/design.md §2, reload): CONFIG is the new snapshot, loaded
	 * and checked as a whole (every protocol's check passed).  Builds all
	 * the protocol needs from it (TLS handles from the certificates and keys
	 * read again, policy, pins, limits, links to make) without changing what
	 * serves now, and returns it as the pending state; or NULL with one
	 * "FILE:LINE: ..." line per problem on ERRORS, and the reload is refused
	 * with nothing changed.  Runs without root. */
	void *(*reload_prepare)(void *state, const struct sxedge_config *config, FILE *errors);
	/* Every protocol prepared and every new listener bound: STATE takes
	 * PENDING and cannot fail.  From now on accept and datagram get the new
	 * snapshot's listener_config.  New connections get the new settings;
	 * what is established goes on with those it started under (its
	 * snapshot stays alive while anything points into it: config_ref),
	 * except that links and streams to peers the new configuration no
	 * longer allows (a partner removed or blocked, a pool member gone)
	 * close, and what was served by a listener the reload removed ends. */
	void (*reload_commit)(void *state, void *pending);
	/* Another protocol's prepare, or a listener's bind, failed: frees
	 * PENDING; STATE goes on as it was. */
	void (*reload_abort)(void *state, void *pending);
	/* " key=value" fields of the worker's ready line, into BUF; may be NULL. */
	void (*describe)(const void *state, char *buf, size_t size);
};

/* The roles, the protocols and their configuration modules of a build. */
struct protocol_table {
	struct config_schema schema;
	const struct protocol *const *protocols;
	size_t n_protocols;
};

#endif
