/* SPDX-License-Identifier: ISC */
/* s2s_initiator: the machine.  One state per thing awaited from the peer;
 * what it sends is built as trees and written into one buffer that is
 * handed to send once per event. */
#include "s2s_initiator.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "dialback_key.h"
#include "jid.h"
#include "namespaces.h"
#include "xml_write.h"

enum initiator_state {
	STATE_IDLE, /* created, our header not sent yet */
	STATE_HEADER, /* our header sent, the peer's awaited */
	STATE_FEATURES, /* <stream:features/> awaited */
	STATE_PROCEED, /* <starttls/> sent, <proceed/> awaited */
	STATE_TLS, /* start_tls asked, s2s_initiator_tls_up awaited */
	STATE_SASL, /* <auth/> sent, <success/> or <failure/> awaited */
	STATE_DIALBACK, /* <db:result/> sent, its answer awaited */
	STATE_READY,
	STATE_ENDED,
};

/* What an element the state does not expect ends the stream with. */
static const char *const unexpected_reason[] = {
	[STATE_IDLE] = "element_before_header",
	[STATE_HEADER] = "element_before_header",
	[STATE_FEATURES] = "element_instead_of_features",
	[STATE_PROCEED] = "element_instead_of_proceed",
	[STATE_TLS] = "element_during_tls",
	[STATE_SASL] = "element_instead_of_sasl_result",
	[STATE_DIALBACK] = "element_instead_of_dialback_result",
	[STATE_READY] = "unsupported_element",
	[STATE_ENDED] = "ended",
};

/* A <db:verify/> the owner asked for, written or waiting to be. */
struct pending_verify {
	char *id;
	char *key;
	bool sent;
};

struct s2s_initiator {
	enum s2s_initiator_flavour flavour;
	char *local;
	char *remote;
	char *dialback_secret;
	bool want_bidi;
	struct s2s_actions actions;
	void *arg;
	void (*verified)(void *arg, const char *id, bool valid);
	struct pending_verify verifies[S2S_INITIATOR_VERIFIES_MAX];
	size_t n_verifies;

	enum initiator_state state;
	bool header_sent; /* a stream of ours is open on the current transport */
	bool tls;
	bool remote_verified;
	bool sasl_done;
	bool dialback_offered; /* by the features of the authenticating stream */
	bool bidi;
	enum s2s_initiator_method method;
	char *stream_id; /* the peer's id for the current stream */
	struct evbuffer *out;

	/* s2s_initiator_free from inside an action only marks the machine:
	 * the outermost entry frees it on the way out. */
	unsigned depth;
	bool freed;
	bool sending;
};

/* ---- life cycle ---- */

static bool actions_complete(const struct s2s_actions *actions)
{
	return actions->send != NULL && actions->start_tls != NULL && actions->restart != NULL &&
	       actions->authenticated != NULL && actions->ready != NULL &&
	       actions->stanza != NULL && actions->failed != NULL;
}

static void machine_destroy(struct s2s_initiator *machine)
{
	free(machine->local);
	free(machine->remote);
	free(machine->dialback_secret);
	free(machine->stream_id);
	for (size_t i = 0; i < machine->n_verifies; i++) {
		free(machine->verifies[i].id);
		free(machine->verifies[i].key);
	}
	if (machine->out != NULL)
		evbuffer_free(machine->out);
	free(machine);
}

struct s2s_initiator *s2s_initiator_new(const struct s2s_initiator_options *options,
					const struct s2s_actions *actions, void *arg)
{
	if (options->local == NULL || options->local[0] == '\0' || options->remote == NULL ||
	    options->remote[0] == '\0' || !actions_complete(actions))
		return NULL;
	struct s2s_initiator *machine = calloc(1, sizeof(*machine));
	if (machine == NULL)
		return NULL;
	machine->flavour = options->flavour;
	machine->want_bidi = options->bidi;
	if (options->flavour == S2S_INITIATOR_PUBLIC)
		machine->verified = options->verified;
	machine->actions = *actions;
	machine->arg = arg;
	machine->local = strdup(options->local);
	machine->remote = strdup(options->remote);
	machine->out = evbuffer_new();
	/* dialback proves nothing towards our own server: never there */
	if (options->dialback_secret != NULL && options->flavour == S2S_INITIATOR_PUBLIC)
		machine->dialback_secret = strdup(options->dialback_secret);
	if (machine->local == NULL || machine->remote == NULL || machine->out == NULL ||
	    (options->dialback_secret != NULL && options->flavour == S2S_INITIATOR_PUBLIC &&
	     machine->dialback_secret == NULL)) {
		machine_destroy(machine);
		return NULL;
	}
	return machine;
}

void s2s_initiator_free(struct s2s_initiator *machine)
{
	if (machine == NULL)
		return;
	if (machine->depth > 0) {
		machine->freed = true;
		machine->state = STATE_ENDED;
		return;
	}
	machine_destroy(machine);
}

static void enter(struct s2s_initiator *machine)
{
	machine->depth++;
}

static void leave(struct s2s_initiator *machine)
{
	if (--machine->depth == 0 && machine->freed)
		machine_destroy(machine);
}

/* ---- output ---- */

/* Hands what was written to send, a chunk at a time (no copy, so nothing
 * to run out of memory on).  Output written from inside send waits for
 * the loop here rather than overtaking what send holds. */
static void flush(struct s2s_initiator *machine)
{
	if (machine->sending)
		return;
	machine->sending = true;
	while (!machine->freed && evbuffer_get_length(machine->out) > 0) {
		struct evbuffer_iovec chunk;
		if (evbuffer_peek(machine->out, -1, NULL, &chunk, 1) < 1)
			break;
		machine->actions.send(machine->arg, chunk.iov_base, chunk.iov_len);
		evbuffer_drain(machine->out, chunk.iov_len);
	}
	machine->sending = false;
}

/* Writes ELEMENT (taken over; NULL when building it ran out of memory). */
static int write_element(struct s2s_initiator *machine, struct xml_element *element)
{
	if (element == NULL)
		return -1;
	int written = xml_write_element(machine->out, element, XMPP_SERVER_NAMESPACE);
	xml_element_free(element);
	return written;
}

/* An element with TEXT (NULL: none) as its content. */
static struct xml_element *element_with_text(const char *ns, const char *name, const char *text)
{
	struct xml_element *element = xml_element_new(ns, name);
	if (element != NULL && text != NULL &&
	    xml_element_add_text(element, text, strlen(text)) < 0) {
		xml_element_free(element);
		return NULL;
	}
	return element;
}

/* Our stream header: to the peer, from the domain we speak as; the public
 * flavour declares the dialback namespace, which XEP-0220 §2.1.1 asks of
 * every stream that may carry dialback. */
static int write_header(struct s2s_initiator *machine)
{
	struct xml_element *header = xml_element_new(XMPP_STREAMS_NAMESPACE, "stream");
	int written = header != NULL ? 0 : -1;
	if (written == 0 && machine->flavour == S2S_INITIATOR_PUBLIC)
		written = xml_element_set_attribute(header, XMLNS_NAMESPACE, "db",
						    XMPP_DIALBACK_NAMESPACE);
	if (written == 0)
		written = xml_element_set_attribute(header, NULL, "from", machine->local);
	if (written == 0)
		written = xml_element_set_attribute(header, NULL, "to", machine->remote);
	if (written == 0)
		written = xml_element_set_attribute(header, NULL, "version", "1.0");
	if (written == 0)
		written = xml_write_stream_open(machine->out, header, XMPP_SERVER_NAMESPACE);
	xml_element_free(header);
	if (written == 0)
		machine->header_sent = true;
	return written;
}

/* May the <db:verify/> asked for go now?  After our <db:result/>, or once
 * ready: not while SASL or a stream restart is under way. */
static bool verifies_may_go(const struct s2s_initiator *machine)
{
	return machine->state == STATE_DIALBACK || machine->state == STATE_READY;
}

/* Writes the <db:verify/> not written yet (the caller flushes). */
static int write_verifies(struct s2s_initiator *machine)
{
	for (size_t i = 0; i < machine->n_verifies; i++) {
		struct pending_verify *verify = &machine->verifies[i];
		if (verify->sent)
			continue;
		struct xml_element *element =
			element_with_text(XMPP_DIALBACK_NAMESPACE, "verify", verify->key);
		if (element != NULL &&
		    (xml_element_set_attribute(element, NULL, "from", machine->local) < 0 ||
		     xml_element_set_attribute(element, NULL, "to", machine->remote) < 0 ||
		     xml_element_set_attribute(element, NULL, "id", verify->id) < 0)) {
			xml_element_free(element);
			element = NULL;
		}
		if (write_element(machine, element) < 0)
			return -1;
		verify->sent = true;
	}
	return 0;
}

/* ---- the end ---- */

/* Ends the stream: ERROR (unless XMPP_STREAM_OK) and our closing tag when a
 * stream of ours is open, then failed.  Nothing more is taken after. */
static void end_stream(struct s2s_initiator *machine, enum xmpp_stream_error error,
		       bool write_error, const char *reason)
{
	if (machine->state == STATE_ENDED)
		return;
	machine->state = STATE_ENDED;
	if (machine->header_sent) {
		if (write_error && error != XMPP_STREAM_OK)
			xmpp_write_stream_error(machine->out, error, NULL);
		xml_write_stream_close(machine->out);
		machine->header_sent = false;
	}
	flush(machine);
	if (!machine->freed)
		machine->actions.failed(machine->arg, error, reason);
}

static void fail(struct s2s_initiator *machine, enum xmpp_stream_error error, const char *reason)
{
	end_stream(machine, error, true, reason);
}

static void fail_out_of_memory(struct s2s_initiator *machine)
{
	fail(machine, XMPP_STREAM_INTERNAL_SERVER_ERROR, "out_of_memory");
}

/* The peer's <stream:error/>: its condition is the first child in the
 * streams-errors namespace other than <text/>; one we do not know is
 * undefined-condition. */
static enum xmpp_stream_error peer_condition(const struct xml_element *error)
{
	for (const struct xml_element *child = xml_element_first_child(error); child != NULL;
	     child = xml_element_next_sibling(child)) {
		const char *ns = xml_element_ns(child);
		const char *name = xml_element_name(child);
		if (ns == NULL || strcmp(ns, XMPP_STREAM_ERRORS_NAMESPACE) != 0 ||
		    strcmp(name, "text") == 0)
			continue;
		for (int known = XMPP_STREAM_BAD_FORMAT; known <= XMPP_STREAM_UNSUPPORTED_VERSION;
		     known++) {
			const char *known_name = xmpp_stream_error_name(known);
			if (known_name != NULL && strcmp(known_name, name) == 0)
				return known;
		}
		break;
	}
	return XMPP_STREAM_UNDEFINED_CONDITION;
}

/* ---- the steps ---- */

/* Sends our header (again, after a restart) and awaits the peer's. */
static void open_stream(struct s2s_initiator *machine)
{
	if (write_header(machine) < 0) {
		fail_out_of_memory(machine);
		return;
	}
	machine->state = STATE_HEADER;
	flush(machine);
}

/* A stream restart (RFC 6120 §4.3.3): the parser reads a new header, and
 * ours goes out again on the same transport. */
static void restart_stream(struct s2s_initiator *machine)
{
	free(machine->stream_id);
	machine->stream_id = NULL;
	machine->header_sent = false;
	machine->state = STATE_HEADER;
	machine->actions.restart(machine->arg);
	if (machine->freed || machine->state != STATE_HEADER)
		return;
	open_stream(machine);
}

static void become_ready(struct s2s_initiator *machine, enum s2s_initiator_method method)
{
	machine->state = STATE_READY;
	machine->method = method;
	if (write_verifies(machine) < 0) {
		fail_out_of_memory(machine);
		return;
	}
	flush(machine);
	if (machine->freed || machine->state != STATE_READY)
		return;
	/* "by certificate" says the peer proved REMOTE so, whichever way it
	 * accepted us: a dialback stream to a peer whose certificate names
	 * somebody else proves nothing of the peer */
	machine->actions.authenticated(machine->arg, machine->local, machine->remote,
				       machine->remote_verified);
	if (machine->freed || machine->state != STATE_READY)
		return;
	machine->actions.ready(machine->arg);
}

/* <auth mechanism='EXTERNAL'>: the authorization identity is our domain
 * (RFC 6120 §6.4.2, XEP-0178), base64 as SASL data is on XMPP. */
static int write_external(struct s2s_initiator *machine)
{
	size_t len = strlen(machine->local);
	if (len > INT32_MAX / 2)
		return -1;
	char *encoded = malloc(4 * ((len + 2) / 3) + 1);
	if (encoded == NULL)
		return -1;
	EVP_EncodeBlock((unsigned char *)encoded, (const unsigned char *)machine->local, (int)len);
	struct xml_element *auth = element_with_text(XMPP_SASL_NAMESPACE, "auth", encoded);
	free(encoded);
	if (auth != NULL && xml_element_set_attribute(auth, NULL, "mechanism", "EXTERNAL") < 0) {
		xml_element_free(auth);
		auth = NULL;
	}
	return write_element(machine, auth);
}

/* <db:result from=LOCAL to=REMOTE>KEY</db:result>, the key over the id the
 * peer gave this stream (XEP-0220 §2.1.1, XEP-0185). */
static int write_dialback(struct s2s_initiator *machine)
{
	char key[XMPP_DIALBACK_KEY_SIZE];
	xmpp_dialback_key(machine->dialback_secret, machine->remote, machine->local,
			  machine->stream_id, key);
	if (key[0] == '\0')
		return -1;
	struct xml_element *result = element_with_text(XMPP_DIALBACK_NAMESPACE, "result", key);
	if (result != NULL &&
	    (xml_element_set_attribute(result, NULL, "from", machine->local) < 0 ||
	     xml_element_set_attribute(result, NULL, "to", machine->remote) < 0)) {
		xml_element_free(result);
		result = NULL;
	}
	return write_element(machine, result);
}

static void start_dialback(struct s2s_initiator *machine)
{
	machine->state = STATE_DIALBACK;
	if (write_dialback(machine) < 0 || write_verifies(machine) < 0) {
		fail_out_of_memory(machine);
		return;
	}
	flush(machine);
}

/* SASL EXTERNAL among the <mechanisms/> offered (names compared exactly,
 * surrounding white space aside). */
static bool external_offered(const struct xml_element *features, bool *out_of_memory)
{
	const struct xml_element *mechanisms =
		xml_element_child(features, XMPP_SASL_NAMESPACE, "mechanisms");
	if (mechanisms == NULL)
		return false;
	for (const struct xml_element *mechanism = xml_element_first_child(mechanisms);
	     mechanism != NULL; mechanism = xml_element_next_sibling(mechanism)) {
		if (!xml_element_is(mechanism, XMPP_SASL_NAMESPACE, "mechanism"))
			continue;
		char *name = xml_element_text(mechanism);
		if (name == NULL) {
			*out_of_memory = true;
			return false;
		}
		const char *start = name + strspn(name, " \t\r\n");
		size_t len = strcspn(start, " \t\r\n");
		bool external = len == 8 && memcmp(start, "EXTERNAL", 8) == 0 &&
				start[len + strspn(start + len, " \t\r\n")] == '\0';
		free(name);
		if (external)
			return true;
	}
	return false;
}

/* The features before TLS: STARTTLS or nothing, for we never federate in
 * the clear. */
static void features_before_tls(struct s2s_initiator *machine, const struct xml_element *features)
{
	if (xml_element_child(features, XMPP_TLS_NAMESPACE, "starttls") == NULL) {
		fail(machine, XMPP_STREAM_POLICY_VIOLATION, "starttls_not_offered");
		return;
	}
	if (write_element(machine, xml_element_new(XMPP_TLS_NAMESPACE, "starttls")) < 0) {
		fail_out_of_memory(machine);
		return;
	}
	machine->state = STATE_PROCEED;
	flush(machine);
}

/* The features of the secure stream: bidi first when wanted (XEP-0288 §2:
 * before authentication), then EXTERNAL, else dialback. */
static void features_to_authenticate(struct s2s_initiator *machine,
				     const struct xml_element *features)
{
	bool out_of_memory = false;
	bool external = external_offered(features, &out_of_memory);
	if (out_of_memory) {
		fail_out_of_memory(machine);
		return;
	}
	machine->dialback_offered =
		machine->dialback_secret != NULL &&
		xml_element_child(features, XMPP_DIALBACK_FEATURE_NAMESPACE, "dialback") != NULL;
	if (!external && !machine->dialback_offered) {
		fail(machine, XMPP_STREAM_NOT_AUTHORIZED, "no_authentication_method");
		return;
	}
	if (machine->want_bidi && machine->remote_verified &&
	    xml_element_child(features, XMPP_BIDI_FEATURE_NAMESPACE, "bidi") != NULL) {
		if (write_element(machine, xml_element_new(XMPP_BIDI_NAMESPACE, "bidi")) < 0) {
			fail_out_of_memory(machine);
			return;
		}
		machine->bidi = true;
	}
	if (!external) {
		start_dialback(machine);
		return;
	}
	if (write_external(machine) < 0) {
		fail_out_of_memory(machine);
		return;
	}
	machine->state = STATE_SASL;
	flush(machine);
}

static void on_features(struct s2s_initiator *machine, const struct xml_element *features)
{
	if (!machine->tls)
		features_before_tls(machine, features);
	else if (!machine->sasl_done)
		features_to_authenticate(machine, features);
	else /* after SASL: nothing more to negotiate that we ask for */
		become_ready(machine, S2S_INITIATOR_SASL_EXTERNAL);
}

static void on_tls_answer(struct s2s_initiator *machine, const struct xml_element *element)
{
	if (xml_element_is(element, XMPP_TLS_NAMESPACE, "proceed")) {
		/* what follows <proceed/> is the TLS handshake, not our stream */
		machine->header_sent = false;
		machine->state = STATE_TLS;
		machine->actions.start_tls(machine->arg);
	} else if (xml_element_is(element, XMPP_TLS_NAMESPACE, "failure")) {
		fail(machine, XMPP_STREAM_POLICY_VIOLATION, "starttls_failure");
	} else {
		fail(machine, XMPP_STREAM_POLICY_VIOLATION, unexpected_reason[STATE_PROCEED]);
	}
}

static void on_sasl_answer(struct s2s_initiator *machine, const struct xml_element *element)
{
	if (xml_element_is(element, XMPP_SASL_NAMESPACE, "success")) {
		machine->sasl_done = true;
		restart_stream(machine);
	} else if (xml_element_is(element, XMPP_SASL_NAMESPACE, "failure")) {
		if (machine->dialback_offered)
			start_dialback(machine);
		else
			fail(machine, XMPP_STREAM_NOT_AUTHORIZED, "sasl_failure");
	} else {
		fail(machine, XMPP_STREAM_POLICY_VIOLATION, unexpected_reason[STATE_SASL]);
	}
}

static bool same_domain(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static void on_dialback_answer(struct s2s_initiator *machine, const struct xml_element *element)
{
	if (!xml_element_is(element, XMPP_DIALBACK_NAMESPACE, "result")) {
		fail(machine, XMPP_STREAM_POLICY_VIOLATION, unexpected_reason[STATE_DIALBACK]);
		return;
	}
	/* the answer is for the one pair we asked for, or not ours */
	if (!same_domain(xml_element_attribute(element, NULL, "from"), machine->remote) ||
	    !same_domain(xml_element_attribute(element, NULL, "to"), machine->local)) {
		fail(machine, XMPP_STREAM_INVALID_FROM, "dialback_result_mismatch");
		return;
	}
	const char *type = xml_element_attribute(element, NULL, "type");
	if (type != NULL && strcmp(type, "valid") == 0)
		become_ready(machine, S2S_INITIATOR_DIALBACK);
	else if (type != NULL && strcmp(type, "invalid") == 0)
		fail(machine, XMPP_STREAM_NOT_AUTHORIZED, "dialback_invalid");
	else if (type != NULL && strcmp(type, "error") == 0)
		fail(machine, XMPP_STREAM_NOT_AUTHORIZED, "dialback_error");
	else
		fail(machine, XMPP_STREAM_BAD_FORMAT, "dialback_bad_type");
}

/* <db:verify from=REMOTE to=LOCAL id=ID type=valid|invalid|error>: the
 * peer's answer to one we sent (XEP-0220 §2.4); an error is no "valid". */
static void on_verify_answer(struct s2s_initiator *machine, const struct xml_element *element)
{
	const char *id = xml_element_attribute(element, NULL, "id");
	const char *type = xml_element_attribute(element, NULL, "type");
	size_t i = 0;
	while (i < machine->n_verifies && !(machine->verifies[i].sent && id != NULL &&
					    strcmp(machine->verifies[i].id, id) == 0))
		i++;
	if (!same_domain(xml_element_attribute(element, NULL, "from"), machine->remote) ||
	    !same_domain(xml_element_attribute(element, NULL, "to"), machine->local)) {
		fail(machine, XMPP_STREAM_INVALID_FROM, "dialback_verify_mismatch");
		return;
	}
	if (i == machine->n_verifies) {
		fail(machine, XMPP_STREAM_POLICY_VIOLATION, "dialback_verify_not_asked");
		return;
	}
	bool valid = type != NULL && strcmp(type, "valid") == 0;
	if (!valid &&
	    (type == NULL || (strcmp(type, "invalid") != 0 && strcmp(type, "error") != 0))) {
		fail(machine, XMPP_STREAM_BAD_FORMAT, "dialback_bad_type");
		return;
	}
	struct pending_verify answered = machine->verifies[i];
	machine->verifies[i] = machine->verifies[--machine->n_verifies];
	machine->verified(machine->arg, answered.id, valid);
	free(answered.id);
	free(answered.key);
}

/* Is ELEMENT the answer to a <db:verify/> of ours (it has a type; one
 * without is a question, which the edge never takes on its own streams)? */
static bool is_verify_answer(const struct s2s_initiator *machine, const struct xml_element *element)
{
	return verifies_may_go(machine) && machine->n_verifies > 0 &&
	       xml_element_is(element, XMPP_DIALBACK_NAMESPACE, "verify") &&
	       xml_element_attribute(element, NULL, "type") != NULL;
}

static bool stanza_name(const char *name)
{
	return strcmp(name, "message") == 0 || strcmp(name, "presence") == 0 ||
	       strcmp(name, "iq") == 0;
}

/* Is JID's domain (jid.h) DOMAIN? */
static bool jid_in_domain(const char *jid, const char *domain)
{
	char part[JID_DOMAIN_MAX + 1];
	return jid_domain(jid, part) && strcasecmp(part, domain) == 0;
}

/* Why a stanza from the peer is refused (NULL: it is not), and with what.
 * Only a bidi stream (XEP-0288) carries them, from the domain the peer's
 * certificate proved to the one we speak as (RFC 6120 §8.1.1.1, §4.9.3). */
static const char *stanza_refusal(const struct s2s_initiator *machine,
				  const struct xml_element *stanza, enum xmpp_stream_error *error)
{
	const char *from = xml_element_attribute(stanza, NULL, "from");
	const char *to = xml_element_attribute(stanza, NULL, "to");
	if (!machine->bidi) {
		/* a unidirectional stream (RFC 6120 §4.2.2): the peer was
		 * never authenticated to send on it */
		*error = XMPP_STREAM_NOT_AUTHORIZED;
		return "stanza_without_bidi";
	}
	if (from == NULL || to == NULL) {
		*error = XMPP_STREAM_IMPROPER_ADDRESSING;
		return "stanza_addressing";
	}
	if (!jid_in_domain(from, machine->remote)) {
		*error = XMPP_STREAM_INVALID_FROM;
		return "stanza_from_not_authenticated";
	}
	if (!jid_in_domain(to, machine->local)) {
		*error = XMPP_STREAM_HOST_UNKNOWN;
		return "stanza_to_not_served";
	}
	return NULL;
}

static void on_stanza(struct s2s_initiator *machine, struct xml_element *stanza)
{
	enum xmpp_stream_error error;
	const char *reason = stanza_refusal(machine, stanza, &error);
	if (reason != NULL) {
		xml_element_free(stanza);
		fail(machine, error, reason);
		return;
	}
	machine->actions.stanza(machine->arg, stanza);
}

/* ---- events ---- */

void s2s_initiator_tls_up(struct s2s_initiator *machine,
			  const struct s2s_peer_certificate *certificate, bool names_match)
{
	if (machine->state == STATE_ENDED)
		return;
	enter(machine);
	if (machine->state != STATE_IDLE && machine->state != STATE_TLS) {
		fail(machine, XMPP_STREAM_INTERNAL_SERVER_ERROR, "tls_up_unexpected");
	} else {
		machine->tls = true;
		machine->remote_verified =
			certificate != NULL && certificate->verified && names_match;
		/* the edge speaks as a partner only to our own server */
		if (machine->flavour == S2S_INITIATOR_INTERNAL && !machine->remote_verified)
			fail(machine, XMPP_STREAM_POLICY_VIOLATION, "internal_server_unverified");
		else if (machine->state == STATE_TLS)
			restart_stream(machine);
	}
	leave(machine);
}

void s2s_initiator_start(struct s2s_initiator *machine)
{
	if (machine->state != STATE_IDLE)
		return;
	enter(machine);
	if (machine->flavour == S2S_INITIATOR_INTERNAL && !machine->tls)
		fail(machine, XMPP_STREAM_POLICY_VIOLATION, "internal_without_tls");
	else
		open_stream(machine);
	leave(machine);
}

/* The peer's version: 1.x (RFC 6120 §4.7.5: a higher minor version is
 * answered at ours, a higher major one is not understood). */
static bool version_supported(const char *version)
{
	if (version == NULL || strncmp(version, "1.", 2) != 0)
		return false;
	const char *minor = version + 2;
	return minor[0] != '\0' && strspn(minor, "0123456789") == strlen(minor);
}

void s2s_initiator_stream_open(struct s2s_initiator *machine, const struct xml_element *header,
			       const char *default_ns)
{
	if (machine->state == STATE_ENDED)
		return;
	enter(machine);
	const char *from = xml_element_attribute(header, NULL, "from");
	const char *id = xml_element_attribute(header, NULL, "id");
	if (machine->state != STATE_HEADER)
		fail(machine, XMPP_STREAM_BAD_FORMAT, "stream_header_unexpected");
	else if (!xml_element_is(header, XMPP_STREAMS_NAMESPACE, "stream"))
		fail(machine, XMPP_STREAM_INVALID_NAMESPACE, "bad_stream_namespace");
	else if (default_ns == NULL || strcmp(default_ns, XMPP_SERVER_NAMESPACE) != 0)
		fail(machine, XMPP_STREAM_INVALID_NAMESPACE, "bad_content_namespace");
	else if (!version_supported(xml_element_attribute(header, NULL, "version")))
		fail(machine, XMPP_STREAM_UNSUPPORTED_VERSION, "unsupported_version");
	else if (from != NULL && !same_domain(from, machine->remote))
		fail(machine, XMPP_STREAM_INVALID_FROM, "peer_from_mismatch");
	else if (id == NULL || id[0] == '\0')
		fail(machine, XMPP_STREAM_BAD_FORMAT, "stream_id_missing");
	else if ((machine->stream_id = strdup(id)) == NULL)
		fail_out_of_memory(machine);
	else
		machine->state = STATE_FEATURES;
	leave(machine);
}

void s2s_initiator_element(struct s2s_initiator *machine, struct xml_element *element)
{
	if (machine->state == STATE_ENDED) {
		xml_element_free(element);
		return;
	}
	enter(machine);
	const char *ns = xml_element_ns(element);
	bool in_jabber_server = ns != NULL && strcmp(ns, XMPP_SERVER_NAMESPACE) == 0;
	bool stanza = stanza_name(xml_element_name(element));
	if (xml_element_is(element, XMPP_STREAMS_NAMESPACE, "error")) {
		end_stream(machine, peer_condition(element), false, S2S_INITIATOR_PEER_ERROR);
	} else if (stanza && in_jabber_server && machine->state != STATE_READY) {
		fail(machine, XMPP_STREAM_NOT_AUTHORIZED, "stanza_before_ready");
	} else if (stanza && !in_jabber_server) {
		fail(machine, XMPP_STREAM_INVALID_NAMESPACE, "stanza_bad_namespace");
	} else if (stanza && machine->state == STATE_READY) {
		on_stanza(machine, element);
		element = NULL; /* taken over */
	} else if (is_verify_answer(machine, element)) {
		on_verify_answer(machine, element);
	} else if (machine->state == STATE_FEATURES &&
		   xml_element_is(element, XMPP_STREAMS_NAMESPACE, "features")) {
		on_features(machine, element);
	} else if (machine->state == STATE_PROCEED) {
		on_tls_answer(machine, element);
	} else if (machine->state == STATE_SASL) {
		on_sasl_answer(machine, element);
	} else if (machine->state == STATE_DIALBACK) {
		on_dialback_answer(machine, element);
	} else {
		fail(machine,
		     machine->state == STATE_READY ? XMPP_STREAM_UNSUPPORTED_STANZA_TYPE
						   : XMPP_STREAM_POLICY_VIOLATION,
		     unexpected_reason[machine->state]);
	}
	xml_element_free(element);
	leave(machine);
}

void s2s_initiator_stream_close(struct s2s_initiator *machine)
{
	if (machine->state == STATE_ENDED)
		return;
	enter(machine);
	end_stream(machine, XMPP_STREAM_OK, false, S2S_INITIATOR_PEER_CLOSED);
	leave(machine);
}

void s2s_initiator_abort(struct s2s_initiator *machine, enum xmpp_stream_error error,
			 const char *reason)
{
	if (machine->state == STATE_ENDED)
		return;
	enter(machine);
	fail(machine, error, reason);
	leave(machine);
}

int s2s_initiator_send_stanza(struct s2s_initiator *machine, const struct xml_element *stanza)
{
	if (machine->state != STATE_READY)
		return -1;
	if (xml_write_element(machine->out, stanza, XMPP_SERVER_NAMESPACE) < 0)
		return -1;
	enter(machine);
	flush(machine);
	leave(machine);
	return 0;
}

int s2s_initiator_verify(struct s2s_initiator *machine, const char *id, const char *key)
{
	if (machine->state == STATE_ENDED || machine->verified == NULL ||
	    machine->n_verifies == S2S_INITIATOR_VERIFIES_MAX || id == NULL || id[0] == '\0' ||
	    key == NULL)
		return -1;
	struct pending_verify verify = { .id = strdup(id), .key = strdup(key) };
	if (verify.id == NULL || verify.key == NULL) {
		free(verify.id);
		free(verify.key);
		return -1;
	}
	machine->verifies[machine->n_verifies++] = verify;
	if (!verifies_may_go(machine))
		return 0;
	enter(machine);
	if (write_verifies(machine) < 0)
		fail_out_of_memory(machine);
	else
		flush(machine);
	leave(machine);
	return 0;
}

/* ---- what the owner may ask ---- */

bool s2s_initiator_is_ready(const struct s2s_initiator *machine)
{
	return machine->state == STATE_READY;
}

enum s2s_initiator_method s2s_initiator_method(const struct s2s_initiator *machine)
{
	return machine->method;
}

bool s2s_initiator_remote_verified(const struct s2s_initiator *machine)
{
	return machine->remote_verified;
}

bool s2s_initiator_bidi(const struct s2s_initiator *machine)
{
	return machine->bidi;
}
