/* SPDX-License-Identifier: ISC */
/* test_turn_fixture: what the turn_server suites share: a fake turn_io
 * that records every call (into fixed arrays: it never allocates, so the
 * packet-path tests can count the allocator), a server with test settings
 * and real credentials, and requests built with stun_builder the way a
 * client builds them (the nonce taken from the server's own 401). */
#ifndef SXEDGE_TESTS_TEST_TURN_FIXTURE_H
#define SXEDGE_TESTS_TEST_TURN_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stun_builder.h"
#include "stun_message.h"
#include "turn_credentials.h"
#include "turn_nonce.h"
#include "turn_server.h"

#define SECOND	  1000u
#define T0_MS	  5000000u /* monotonic start, ms */
#define WALL0	  1700000000u /* wall clock start, s */
#define REALM	  "edge.example"
#define SECRET	  "a-test-shared-secret-0123"
#define RECORDS	  64
#define BYTES_MAX 2048

/* One call of to_client, to_peer, or refused. */
struct sent {
	struct turn_client client;
	void *relay;
	struct transport_address peer;
	uint8_t bytes[BYTES_MAX];
	size_t size;
};

struct refusal {
	const char *reason;
	int code;
};

struct fake_io {
	struct sent to_client[RECORDS];
	unsigned to_client_count;
	struct sent to_peer[RECORDS];
	unsigned to_peer_count;
	struct refusal refused[RECORDS];
	unsigned refused_count;
	/* relay_open: each call gets a handle and the next port; FAIL refuses */
	uint8_t relays[RECORDS];
	uint8_t relay_transport[RECORDS];
	unsigned relay_open_count, relay_close_count;
	void *last_closed;
	bool relay_fail;
	/* RFC 6062 */
	uint8_t peers[RECORDS];
	unsigned peer_connect_count, peer_close_count, join_count;
	struct allocation_connection *last_connection;
	struct transport_address last_connect_peer;
	void *last_join_peer, *last_peer_closed;
	struct turn_client last_join_client;
	bool connect_fail;
	/* events and counts */
	unsigned made, ended;
	const char *last_end;
	struct allocation *last_made;
	unsigned long packets[2], bytes[2];
};

extern struct fake_io fake;
extern struct turn_server *server;
extern struct turn_server_settings settings;
extern struct peer_policy policy;
/* The shared secret the clients' passwords are made with (SECRET unless a
 * test gives the server another by a reload). */
extern const char *client_secret;

/* A server with the settings as the test has set them (call fixture_settings
 * first, change what the test needs, then fixture_start). */
void fixture_settings(void);
void fixture_start(void);
void fixture_stop(void);

/* Clients and addresses. */
struct transport_address address4(const char *text, uint16_t port);
struct transport_address address6(const char *text, uint16_t port);
struct turn_client udp_client(unsigned i);
struct turn_client tcp_client(unsigned i);

/* A username good for an hour from WALL0, for USER. */
const char *username_for(const char *user);

/* A request being built. */
struct request {
	struct stun_builder builder;
	uint8_t buffer[BYTES_MAX];
	uint8_t transaction_id[STUN_TRANSACTION_ID_SIZE];
};

void request_start(struct request *request, uint16_t method, enum stun_class message_class);
void request_add_address(struct request *request, uint16_t type,
			 const struct transport_address *address);
/* USERNAME, REALM and NONCE. */
void request_credentials(struct request *request, const char *username, const char *nonce);
/* MESSAGE-INTEGRITY (or -SHA256) with the key of USERNAME and PASSWORD
 * (NULL: the right one), then optionally FINGERPRINT. */
void request_sign(struct request *request, enum stun_integrity_kind kind, const char *username,
		  const char *password, bool fingerprint);
size_t request_length(const struct request *request);
/* Sends it from CLIENT at NOW_MS. */
void request_send(struct request *request, const struct turn_client *client, uint64_t now_ms);

/* The nonce for CLIENT at NOW_MS, from the 401 the server answers a bare
 * Allocate with (the fake's records are reset after). */
void nonce_for(const struct turn_client *client, uint64_t now_ms, char *nonce, size_t size);

/* An authenticated Allocate from CLIENT for USER with a UDP (or TRANSPORT)
 * relay, answered: the fake's records are reset before it. */
void allocate(const struct turn_client *client, const char *user, uint8_t transport,
	      uint64_t now_ms);

/* A request of METHOD, signed for USER, with nothing else; the caller adds
 * attributes between start and finish. */
void signed_start(struct request *request, uint16_t method, const struct turn_client *client,
		  const char *user, uint64_t now_ms);
void signed_send(struct request *request, const struct turn_client *client, const char *user,
		 uint64_t now_ms);

/* Clears the fake's records (not its settings). */
void fake_reset(void);

/* The last message sent to a client, parsed (asserts it parses). */
struct stun_message last_answer(void);
/* Its ERROR-CODE, 0 for none; *PHRASE_LENGTH the reason's length. */
unsigned answer_error_code(const struct stun_message *answer, size_t *phrase_length);
/* Whether ANSWER's integrity of KIND checks with USER's key. */
bool answer_signed(const struct stun_message *answer, enum stun_integrity_kind kind,
		   const char *user);
/* The last refusal's reason ("" when none). */
const char *last_refusal(void);
/* Is REASON among the refusals recorded? */
bool refused_with(const char *reason, int code);

#endif
