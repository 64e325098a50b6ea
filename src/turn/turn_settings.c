/* SPDX-License-Identifier: ISC */
/* turn_settings: see turn_settings.h. */
#include "turn_settings.h"

#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "roles.h"
#include "turn_config.h"

int turn_settings_own_addresses(const struct sxedge_config *config, const struct turn_config *turn,
				struct sockaddr_storage **own_out, size_t *n_own)
{
	size_t room = config->n_listeners + 4, count = 0;
	struct ifaddrs *interfaces = NULL;
	bool wildcard = false;

	for (size_t i = 0; i < config->n_listeners; i++) {
		struct sockaddr_storage at;
		wildcard = wildcard || (address_parse(config->listeners[i].address, 0, &at) > 0 &&
					address_is_unspecified(&at));
	}
	if (wildcard && getifaddrs(&interfaces) == 0)
		for (struct ifaddrs *at = interfaces; at != NULL; at = at->ifa_next)
			room++;
	struct sockaddr_storage *own = calloc(room, sizeof(*own));
	if (own == NULL) {
		freeifaddrs(interfaces);
		return -1;
	}
	const char *named[] = { turn->relay_address, turn->external_address, turn->relay_address6,
				turn->external_address6 };
	for (size_t i = 0; i < 4; i++)
		if (named[i] != NULL && address_parse(named[i], 0, &own[count]) > 0)
			count++;
	for (size_t i = 0; i < config->n_listeners; i++) {
		struct sockaddr_storage *at = &own[count];
		if (address_parse(config->listeners[i].address, 0, at) > 0 &&
		    !address_is_unspecified(at))
			count++;
	}
	for (struct ifaddrs *at = interfaces; at != NULL; at = at->ifa_next) {
		if (at->ifa_addr == NULL ||
		    (at->ifa_addr->sa_family != AF_INET && at->ifa_addr->sa_family != AF_INET6))
			continue;
		memcpy(&own[count++], at->ifa_addr,
		       at->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
							  : sizeof(struct sockaddr_in6));
	}
	freeifaddrs(interfaces);
	*own_out = own;
	*n_own = count;
	return 0;
}

struct peer_policy turn_settings_peer_policy(const struct turn_config *turn,
					     const struct sockaddr_storage *own, size_t n_own)
{
	return (struct peer_policy){
		.allowed = turn->allowed_peers,
		.allowed_count = turn->n_allowed_peers,
		.own = own,
		.own_count = n_own,
	};
}

/* The server's settings; POLICY must outlive the server. */
struct turn_server_settings turn_settings_server(const struct sxedge_config *config,
						 const struct peer_policy *policy)
{
	const struct turn_config *turn = turn_config(config);
	struct sockaddr_storage address;
	struct turn_server_settings settings = {
		.realm = turn->realm,
		.secret = turn->secret,
		.secret_length = turn->secret_length,
		.nonce_lifetime_s = turn->nonce_lifetime_s,
		.limits = {
			.allocations = turn->max_allocations,
			.allocations_per_user = turn->max_allocations_per_user,
			.max_lifetime_s = turn->max_lifetime_s,
			.permissions_per_allocation = turn->max_permissions,
			.channels_per_allocation = turn->max_channels,
			.connections_per_allocation = turn->max_peer_connections,
			.bandwidth_bytes_per_second = turn->max_bandwidth,
		},
		.peer_policy = policy,
		.tcp_relays = config_listener(config, ROLE_TURN_TCP) != NULL,
		.relay_port_first = turn->relay_ports.first,
		.relay_port_last = turn->relay_ports.last,
	};
	if (address_parse(turn->relay_address, 0, &address) > 0) {
		settings.relay_ipv4 = address.ss_family == AF_INET;
		settings.relay_ipv6 = address.ss_family == AF_INET6;
	}
	settings.relay_ipv6 = settings.relay_ipv6 || turn->relay_address6 != NULL;
	if (address_parse(turn->external_address, 0, &address) > 0)
		transport_address_from_sockaddr((struct sockaddr *)&address,
						&settings.external_address);
	if (turn->external_address6 != NULL &&
	    address_parse(turn->external_address6, 0, &address) > 0)
		transport_address_from_sockaddr((struct sockaddr *)&address,
						&settings.external_address6);
	return settings;
}

void turn_settings_connection_limits(const struct sxedge_config *config,
				     struct conn_limits *clients, struct conn_limits *peers)
{
	const struct limits_config *limits = &config->limits;
	const struct turn_config *turn = turn_config(config);

	*clients = (struct conn_limits){
		.handshake_timeout_s = limits->handshake_timeout_s,
		/* a client refreshes within its allocation's lifetime */
		.idle_timeout_s = turn->max_lifetime_s,
		.input_max = 2 * 65536,
		.output_max = limits->output_max,
		.first_request_timeout_s = limits->first_request_timeout_s,
		.output_low_water = limits->output_max / 2,
	};
	*peers = (struct conn_limits){
		.handshake_timeout_s = limits->handshake_timeout_s,
		.idle_timeout_s = turn->max_lifetime_s,
		.input_max = 65536,
		.output_max = limits->output_max,
		.output_low_water = limits->output_max / 2,
		.share_local_port = true,
	};
}

int turn_settings_relay_addresses(const struct sxedge_config *config, struct sockaddr_storage *ipv4,
				  struct sockaddr_storage *ipv6, FILE *errors)
{
	const struct turn_config *turn = turn_config(config);
	const char *named[] = { turn->relay_address, turn->relay_address6 };
	struct sockaddr_storage address;

	memset(ipv4, 0, sizeof(*ipv4));
	memset(ipv6, 0, sizeof(*ipv6));
	for (size_t i = 0; i < 2; i++) {
		if (named[i] == NULL)
			continue;
		if (address_parse(named[i], 0, &address) <= 0) {
			fprintf(errors, "%s:%d: [turn]: bad relay address %s\n", config->path,
				turn->line, named[i]);
			return -1;
		}
		*(address.ss_family == AF_INET ? ipv4 : ipv6) = address;
	}
	return 0;
}

bool turn_settings_udp_listener_address(const struct listener_config *listener,
					struct transport_address *address)
{
	struct sockaddr_storage at;

	return listener->role == ROLE_TURN &&
	       address_parse(listener->address, listener->port, &at) > 0 &&
	       transport_address_from_sockaddr((struct sockaddr *)&at, address);
}
