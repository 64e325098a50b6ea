#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""xmpp_client: one XMPP user (slixmpp) for the XMPP integration tests.

Logs in as --jid to the c2s listener at --server ADDR:PORT (no DNS: the
address is given; STARTTLS, verified against --ca when given, else not
verified), sends its presence, then runs the ACTIONs in order, each bounded by
--timeout seconds, and exits 0 when all are done.  Subscription requests are
accepted at any time.  One line per event on stdout, for the test to wait on:
    online JID
    sent to JID: TEXT              subscribe sent to JID
    message from JID: TEXT         answered JID: TEXT
    bounced from JID: CONDITION    (an error stanza came back for a message)
    subscribed by JID              (our subscription request was approved)
    subscription from JID accepted
    done
    error WHAT                     (then exit 1: a timeout, a bounce where a
                                    reply was awaited, a failed login, an
                                    untrusted server certificate)
JIDs printed are bare.  Each action takes the first event it waits for that no
earlier action took, in order of arrival, even one that came before it ran.
Actions:
    send JID TEXT        send a chat message
    chat JID TEXT        send it and wait for a message back from JID
    bounce JID TEXT      send it and wait for the error stanza that comes back
    expect JID           wait for a message from JID
    answer TEXT          wait for a message from anyone and answer it with TEXT
    subscribe JID        send a presence subscription, wait for "subscribed"
    accepted JID         wait until a subscription request from JID was accepted
    sleep SECONDS        stay online
    serve SECONDS        stay online SECONDS, answering every message "re: TEXT"
"""
import argparse
import asyncio
import ssl
import sys

import slixmpp

ARITY = {"send": 2, "chat": 2, "bounce": 2, "expect": 1, "answer": 1, "subscribe": 1,
         "accepted": 1, "sleep": 1, "serve": 1}


def say(text):
    print(text, flush=True)


def parse_actions(words):
    actions = []
    while words:
        name = words.pop(0)
        if name not in ARITY or len(words) < ARITY[name]:
            raise SystemExit("error bad action '%s' (or too few arguments)" % name)
        actions.append((name, [words.pop(0) for _ in range(ARITY[name])]))
    return actions


class Failed(Exception):
    pass


class Client(slixmpp.ClientXMPP):
    def __init__(self, options, actions):
        super().__init__(options.jid, options.password)
        self.options = options
        self.actions = actions
        self.status = 1
        self.events = []  # (kind, bare JID, text) not consumed by an action yet
        self.changed = asyncio.Condition()
        self.serving = False
        self.finished = False  # no "error disconnected" once the actions are over
        self.roster.auto_authorize = True
        self.roster.auto_subscribe = False
        if options.ca:
            self.ca_certs = options.ca
        else:
            self.ssl_context.check_hostname = False
            self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler("session_start", self.session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message)
        self.add_event_handler("presence_subscribed", self.on_subscribed)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.add_event_handler("failed_auth", lambda _: self.stop("error login failed"))
        self.add_event_handler("connection_failed",
                               lambda why: self.stop("error connection failed: %s" % why))
        self.add_event_handler("ssl_invalid_chain",
                               lambda _: self.stop("error TLS: server certificate not trusted"))
        self.add_event_handler("disconnected", self.on_disconnected)

    def stop(self, line):
        """Gives up (slixmpp would otherwise reconnect forever)."""
        say(line)
        self.finished = True
        self.disconnect(wait=0)
        # "disconnected" stops the loop; this is for a connection never made
        self.loop.call_later(1, self.loop.stop)

    def on_disconnected(self, _):
        if not self.finished:
            say("error disconnected")
        self.finished = True
        self.loop.stop()

    async def record(self, kind, jid, text):
        async with self.changed:
            self.events.append((kind, jid, text))
            self.changed.notify_all()

    async def on_message(self, msg):
        jid = msg["from"].bare
        if msg["type"] == "error":
            condition = msg["error"]["condition"]
            say("bounced from %s: %s" % (jid, condition))
            await self.record("bounce", jid, condition)
        elif msg["type"] in ("chat", "normal") and msg["body"]:
            say("message from %s: %s" % (jid, msg["body"]))
            if self.serving:
                self.reply_to(jid, "re: " + msg["body"])
            else:
                await self.record("message", jid, msg["body"])

    async def on_subscribed(self, presence):
        say("subscribed by %s" % presence["from"].bare)
        await self.record("subscribed", presence["from"].bare, "")

    async def on_subscribe(self, presence):
        # the roster's auto_authorize has answered "subscribed" already
        say("subscription from %s accepted" % presence["from"].bare)
        await self.record("subscriber", presence["from"].bare, "")

    def reply_to(self, jid, text):
        self.send_message(mto=jid, mbody=text, mtype="chat")
        say("answered %s: %s" % (jid, text))

    def send_text(self, jid, text):
        self.send_message(mto=jid, mbody=text, mtype="chat")
        say("sent to %s: %s" % (jid, text))

    async def take(self, kinds, jid, what):
        """The first recorded event of one of KINDS (from JID, if given)."""

        def find():
            for index, event in enumerate(self.events):
                if event[0] in kinds and (jid is None or event[1] == jid):
                    return self.events.pop(index)
            return None

        async with self.changed:
            try:
                event = await asyncio.wait_for(self.changed.wait_for(find),
                                               self.options.timeout)
            except asyncio.TimeoutError:
                raise Failed("error timeout after %ss waiting for %s" %
                             (self.options.timeout, what)) from None
        return event

    async def run(self, name, args):
        if name in ("send", "chat", "bounce"):
            jid = slixmpp.JID(args[0]).bare
            self.send_text(jid, args[1])
            if name == "chat":
                event = await self.take(("message", "bounce"), jid, "a reply from " + jid)
                if event[0] == "bounce":
                    raise Failed("error message to %s bounced: %s" % (jid, event[2]))
            elif name == "bounce":
                await self.take(("bounce",), jid, "an error from " + jid)
        elif name == "expect":
            jid = slixmpp.JID(args[0]).bare
            await self.take(("message",), jid, "a message from " + jid)
        elif name == "answer":
            event = await self.take(("message",), None, "a message")
            self.reply_to(event[1], args[0])
        elif name == "subscribe":
            jid = slixmpp.JID(args[0]).bare
            self.send_presence(pto=jid, ptype="subscribe")
            say("subscribe sent to %s" % jid)
            await self.take(("subscribed",), jid, "subscribed from " + jid)
        elif name == "accepted":
            jid = slixmpp.JID(args[0]).bare
            await self.take(("subscriber",), jid, "a subscription request from " + jid)
        elif name == "sleep":
            await asyncio.sleep(float(args[0]))
        elif name == "serve":
            self.serving = True
            for _, jid, text in [e for e in self.events if e[0] == "message"]:
                self.reply_to(jid, "re: " + text)
            await asyncio.sleep(float(args[0]))
            self.serving = False

    async def session_start(self, _):
        try:
            await self.get_roster(timeout=self.options.timeout)
            self.send_presence()
            say("online %s" % self.boundjid.bare)
            for name, args in self.actions:
                await self.run(name, args)
            say("done")
            self.status = 0
        except Failed as failure:
            say(str(failure))
        except slixmpp.exceptions.IqTimeout:
            say("error timeout on the roster request")
        self.finished = True
        self.disconnect(wait=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--server", required=True, help="c2s ADDR:PORT")
    parser.add_argument("--ca", help="verify the server against this CA file")
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("actions", nargs="*")
    options = parser.parse_args()
    actions = parse_actions(options.actions)
    address, _, port = options.server.rpartition(":")
    client = Client(options, actions)
    # the whole login is bounded too, whatever the server does
    client.loop.call_later(options.timeout + 1 + sum(
        float(args[0]) for name, args in actions if name in ("sleep", "serve")) +
        options.timeout * len(actions), lambda: client.stop("error overall timeout"))
    client.connect(address=(address, int(port)))
    client.loop.run_forever()
    sys.exit(client.status)


if __name__ == "__main__":
    main()
