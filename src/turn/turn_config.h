/* SPDX-License-Identifier: ISC */
/* turn_config: the TURN module's section of the configuration, [turn], its
 * checks, and where TURN code finds it in a snapshot (turn_config()).
 *
 * Without [turn] the edge relays no media (line is 0).  With it, these
 * options (each checked where it is read, errors as FILE:LINE):
 *
 *   realm = TEXT
 *	The REALM of TURN's long-term credentials (RFC 8489 §9.2), 1 to 127
 *	printable characters without '"' or '\'.  Default: the first of
 *	[global] domains.
 *   shared_secret = TEXT
 *	The secret the web service that hands out TURN credentials shares
 *	with the edge: a username is "EXPIRY:USER", EXPIRY in seconds since
 *	1970, and its password base64(HMAC-SHA1(secret, username))
 *	(turn_credentials.h).  The bytes of the value
 *	as written, at least 16 of them: anyone holding one credential can try
 *	secrets offline, so a short one is refused.  The value is never
 *	repeated in a message.  As in any value, blanks at either end are
 *	not part of it and " ;" starts a comment: a secret holding those
 *	belongs in shared_secret_file.
 *   shared_secret_file = PATH
 *	The same secret, read from a file (one line; its newline is not part
 *	of it) when the configuration is loaded, so that it need not sit in
 *	the configuration file.  Exactly one of shared_secret and
 *	shared_secret_file is required.
 *   relay_address = IP
 *	The edge's external address the relay sockets bind to, and which is
 *	advertised as the relayed address unless external_address says
 *	otherwise.  Required; not 0.0.0.0 or :: (a client must be told one
 *	address).
 *   external_address = IP
 *	The address clients are told (XOR-RELAYED-ADDRESS) when relay_address
 *	is behind a one-to-one NAT; same family as relay_address, not a
 *	wildcard.  Default: relay_address.
 *   relay_address6 = IPV6
 *	A second relay address, IPv6, on a dual-stack edge whose relay_address
 *	is IPv4: an Allocate with REQUESTED-ADDRESS-FAMILY IPv6 (RFC 8656
 *	§7.2) gets its relay here, from the same relay_ports; one without
 *	gets an IPv4 relay.  Not ::.  Default: none (an IPv6 request gets
 *	440, unless relay_address is itself IPv6).
 *   external_address6 = IPV6
 *	What external_address is for relay_address6: the IPv6 address told
 *	to clients when relay_address6 is behind a one-to-one NAT (NPTv6).
 *	Needs relay_address6.  Default: relay_address6.
 *   relay_ports = FIRST-LAST
 *	The ports relayed addresses are taken from (UDP sockets, and TCP
 *	listeners for RFC 6062 allocations), 1024 to 65535.  Default
 *	50000-59999.  A port in use by anything else is skipped.
 *   max_allocations = N
 *	Allocations held at once, by everybody together (beyond: 508, the
 *	server's capacity); counted per worker, and sxedge runs one.
 *	Default 10000, 1 to 1000000.
 *   max_allocations_per_user = N
 *	Allocations held at once under one USER of the username (the part
 *	after "EXPIRY:"; beyond: 486).  Default 10, 1 to max_allocations.
 *   max_lifetime = SECONDS
 *	The longest lifetime granted to an Allocate or Refresh (RFC 8656 §7:
 *	the default lifetime is 600 s).  Default 3600, 600 to 86400.
 *   max_permissions = N
 *	Peer addresses one allocation may hold permissions for (beyond: 508).
 *	Default 32, 1 to 1024.
 *   max_channels = N
 *	Channels one allocation may bind (beyond: 508).  Default 32, 1 to 4096
 *	(the channel range 0x4000-0x7FFF holds 16384).
 *   max_peer_connections = N
 *	RFC 6062 TCP connections with peers one allocation may hold, being
 *	set up or bound (beyond: 508).  Default 8, 1 to 1024.
 *   max_bandwidth = BYTES
 *	Bytes per second one allocation may relay in each direction; more is
 *	dropped over a UDP relay, and waits (unread) over an RFC 6062 data
 *	connection.  0: no cap.  Default 1048576 (8 Mbit/s), up to 10^9.
 *   allowed_peers = PREFIX ...
 *	Peer addresses allowed although the peer policy refuses them
 *	(loopback, private, link-local, unique-local, the edge's own...):
 *	"ADDRESS/LENGTH" or a bare ADDRESS (a host), IPv4 or IPv6, separated
 *	by commas or blanks; the key may be repeated and its lines add up.
 *	Read by peer_prefix_parse (peer_policy.h): an address with bits set
 *	past LENGTH is refused as a likely typo.  Default: none.
 *   nonce_lifetime = SECONDS
 *	How long a NONCE is accepted before the client is told it is stale
 *	(438).  Default 600, 30 to 86400.
 *   max_connections_per_address = N
 *	TCP connections (turn_tcp listeners) one source address may hold at
 *	once, beyond which its next connection is refused; 0: no cap.
 *	Default 64, up to 1000000. */
#ifndef SXEDGE_TURN_CONFIG_H
#define SXEDGE_TURN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_module.h"
#include "peer_policy.h"
#include "port_range.h"

#define TURN_SECRET_MIN	     16 /* bytes of shared_secret */
#define TURN_SECRET_FILE_MAX 4096 /* bytes read from shared_secret_file */
#define TURN_REALM_MAX	     127 /* characters, as RFC 8489 §14.9 allows */

struct turn_config {
	int line; /* of [turn]; 0: absent, no TURN */
	char *realm;
	unsigned char *secret; /* shared_secret, or shared_secret_file's line */
	size_t secret_length;
	char *relay_address; /* an IP literal, never a wildcard */
	char *external_address; /* told to clients; relay_address by default */
	char *relay_address6; /* the IPv6 relay beside an IPv4 relay_address; NULL: none */
	char *external_address6; /* told for it; relay_address6 by default */
	struct port_range relay_ports;
	unsigned max_allocations;
	unsigned max_allocations_per_user;
	unsigned max_lifetime_s;
	unsigned max_permissions; /* per allocation */
	unsigned max_channels; /* per allocation */
	unsigned max_peer_connections; /* per allocation */
	unsigned max_bandwidth; /* bytes per second, each direction of an allocation; 0: no cap */
	/* allowed_peers, for peer_policy (struct peer_policy's allowed) */
	struct peer_prefix *allowed_peers;
	size_t n_allowed_peers;
	char **allowed_peer_words; /* as read; NULL once turned into allowed_peers */
	size_t n_allowed_peer_words;
	unsigned nonce_lifetime_s;
	unsigned max_connections_per_address; /* turn_tcp, from one source; 0: no cap */
};

extern const struct config_module turn_config_module;

/* The [turn] section of CONFIG, whose schema has turn_config_module. */
const struct turn_config *turn_config(const struct sxedge_config *config);

#endif
