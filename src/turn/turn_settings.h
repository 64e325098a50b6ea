/* SPDX-License-Identifier: ISC */
/* turn_settings: what a configuration snapshot says for TURN in one worker,
 * as the values the context and the server are built from: the edge's own
 * addresses and the peer policy over them, the server's settings, the
 * limits of TCP connections, the relay addresses by family, and where a
 * turn listener is reached.  Pure functions of the snapshot (and, for the
 * edge's own addresses under a wildcard listener, of the host's), used at
 * start and by a reload alike. */
#ifndef SXEDGE_TURN_TURN_SETTINGS_H
#define SXEDGE_TURN_TURN_SETTINGS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config.h"
#include "conn.h"
#include "peer_policy.h"
#include "transport_address.h"
#include "turn_config.h"
#include "turn_server.h"

/* The edge's own addresses, for the peer policy: the relay and external
 * addresses, every listener's, and with a wildcard listener the host's,
 * into a new array *OWN_OUT of *N_OWN.  -1 when out of memory. */
int turn_settings_own_addresses(const struct sxedge_config *config, const struct turn_config *turn,
				struct sockaddr_storage **own_out, size_t *n_own);
/* The peer policy of TURN over the edge's addresses OWN (which it points at). */
struct peer_policy turn_settings_peer_policy(const struct turn_config *turn,
					     const struct sockaddr_storage *own, size_t n_own);
/* The server's settings; POLICY must outlive the server. */
struct turn_server_settings turn_settings_server(const struct sxedge_config *config,
						 const struct peer_policy *policy);
/* What a new client TCP connection, and a new RFC 6062 connection with a
 * peer, are made with (a conn copies its limits). */
void turn_settings_connection_limits(const struct sxedge_config *config,
				     struct conn_limits *clients, struct conn_limits *peers);
/* The relay addresses by family (relay_address, relay_address6), the one
 * of a family the edge has none of zeroed.  -1 with a line on ERRORS. */
int turn_settings_relay_addresses(const struct sxedge_config *config, struct sockaddr_storage *ipv4,
				  struct sockaddr_storage *ipv6, FILE *errors);
/* The address a turn LISTENER is reached at (the 5-tuple's server side);
 * false for another role's. */
bool turn_settings_udp_listener_address(const struct listener_config *listener,
					struct transport_address *address);

#endif
