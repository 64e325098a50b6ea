#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""s2s_raw: a scripted XMPP server-to-server peer, for the tests that attack
the edge (xmpp_refusals).  Standard library only.

    s2s_raw.py [options] ADDR:PORT STEP...
    s2s_raw.py [options] ADDR:PORT flood COUNT SECONDS FROM TO

Connects to ADDR:PORT (from --bind when given) and runs the STEPs in order;
every read is bounded by --timeout seconds.  One line per event on stdout:
    connected LOCAL_ADDR:LOCAL_PORT      (the edge logs it as peer=...)
    features: NAME...                    (starttls, sasl-EXTERNAL, dialback,
                                          bidi; "none" when empty)
    proceed | tls up VERSION | handshake refused: WHY | tls error: WHY
    sasl success | sasl failure CONDITION
    stream-error CONDITION | stream-end  (the peer closed its XML stream)
    stanza NAME [ATTR=VALUE...]          (anything else at depth 1)
    sent N of M bytes                    (the generated steps)
    closed after SECONDS s               (seconds since the connect)
    timeout after SECONDS s              (nothing within --timeout)
    done                                 (every step ran)
After a stream error or a close the remaining steps are skipped.
Steps:
    tls                  a direct TLS handshake now (XEP-0368, port 23456)
    header FROM TO       our stream header (FROM "-": none), then the edge's
                         header and features
    restart              the stream header again (the last FROM and TO), as
                         after STARTTLS and SASL, then the edge's features
    starttls             <starttls/>, <proceed/>, the TLS handshake
    auth [AUTHZID]       SASL EXTERNAL (AUTHZID default: base64 of FROM; "="
                         for none)
    send TEXT            TEXT as bytes, backslash escapes decoded (\\xff)
    file PATH            the bytes of PATH
    stanza SIZE FROM TO  a <message/> whose body holds SIZE bytes, sent in
                         64 KiB pieces while reading, until the edge stops it
    attributes COUNT FROM TO
                         a <message/> with COUNT distinct attributes, sent
                         the same way
    wait                 read until the edge closes (or --timeout)
    listen SECONDS       read for SECONDS, then "whitespace N": the bytes of
                         whitespace (keep-alives) that came between stanzas
    sleep SECONDS        stay silent
flood: COUNT plain connections spread evenly over SECONDS, each sending a
stream header and then nothing, all kept open; then it waits until the edge
closed every one it answered (at most 2 * --timeout after the last), and
prints
    opened N | answered N | refused N (closed with no answer) |
    refused late N (refused more than 2 s after the connect) |
    most held at once N | still open N
--ca CA checks the edge's certificate for the SNI name (--sni, default the
header's TO; required for direct TLS); without it nothing is checked.
--cert/--key: the client certificate presented.
"""
import argparse
import base64
import codecs
import resource
import selectors
import socket
import ssl
import sys
import time
import xml.etree.ElementTree as ElementTree

STREAMS = "http://etherx.jabber.org/streams"
STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
TLS = "urn:ietf:params:xml:ns:xmpp-tls"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
PIECE = 64 * 1024


def say(text):
    print(text, flush=True)


class Ended(Exception):
    """The stream is over (error, close, timeout): skip the other steps."""


def why(error):
    """An SSL error's reason (the alert), or its text."""
    return getattr(error, "reason", None) or str(error) or type(error).__name__


def local_name(tag):
    return tag.rsplit("}", 1)[-1]


def namespace(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


class Peer:
    def __init__(self, options):
        self.options = options
        self.started = time.monotonic()
        self.sock = None
        self.parser = None
        self.depth = 0
        self.ready = []  # complete depth-1 elements not taken yet
        self.header_seen = False
        self.errored = False
        self.from_domain = None
        self.to_domain = None

    # ---- the connection ----

    def connect(self):
        address, _, port = self.options.target.rpartition(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.options.bind:
            self.sock.bind((self.options.bind, 0))
        self.sock.settimeout(self.options.timeout)
        self.sock.connect((address, int(port)))
        local = self.sock.getsockname()
        say("connected %s:%d" % local)
        self.started = time.monotonic()

    def elapsed(self):
        return time.monotonic() - self.started

    def closed(self):
        say("closed after %.2f s" % self.elapsed())
        raise Ended()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except ssl.SSLError as error:
            say("tls error: %s" % why(error))
            self.drain_then_close()
        except OSError:
            self.drain_then_close()

    def drain_then_close(self):
        """Writing failed: whatever the edge said before it closed."""
        try:
            self.sock.settimeout(1)
            while True:
                data = self.sock.recv(PIECE)
                if not data:
                    break
                self.feed(data)
        except (OSError, ssl.SSLError):
            pass
        self.closed()

    def receive(self):
        """One read; False when the edge closed."""
        try:
            data = self.sock.recv(PIECE)
        except socket.timeout:
            say("timeout after %.2f s" % self.elapsed())
            raise Ended() from None
        except ssl.SSLError as error:
            say("tls error: %s" % why(error))
            self.closed()
        except OSError:
            self.closed()
        if not data:
            self.closed()
        self.feed(data)

    # ---- the edge's XML ----

    def new_stream(self):
        self.parser = ElementTree.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.ready = []
        self.header_seen = False

    def feed(self, data):
        try:
            self.parser.feed(data)
            for event, element in self.parser.read_events():
                if event == "start":
                    self.depth += 1
                    if self.depth == 1:
                        self.header_seen = True
                    continue
                self.depth -= 1
                if self.depth == 1:
                    self.take(element)
                elif self.depth == 0:
                    say("stream-end")
        except ElementTree.ParseError as error:
            say("bad xml from the edge: %s" % error)
            raise Ended() from None
        if self.errored:
            self.read_to_end()

    def take(self, element):
        if element.tag == "{%s}error" % STREAMS:
            conditions = [local_name(child.tag) for child in element
                          if namespace(child.tag) == STREAM_ERRORS and
                          local_name(child.tag) != "text"]
            say("stream-error %s" % (conditions[0] if conditions else "none"))
            self.errored = True
        self.ready.append(element)

    def listen(self, seconds):
        """Reads for SECONDS; a read of whitespace alone is a keep-alive."""
        whitespace = 0
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(PIECE)
            except socket.timeout:
                break
            except (OSError, ssl.SSLError):
                self.closed()
            if not data:
                self.closed()
            if data.strip() == b"" and self.depth == 1:
                whitespace += len(data)
            else:
                self.feed(data)
        self.sock.settimeout(self.options.timeout)
        say("whitespace %d" % whitespace)

    def read_to_end(self):
        """After a stream error only the close can come."""
        self.errored = False
        while True:
            self.receive()

    def next_element(self):
        while not self.ready:
            self.receive()
        return self.ready.pop(0)

    def features(self):
        while not self.header_seen or not self.ready:
            self.receive()
        element = self.next_element()
        if element.tag != "{%s}features" % STREAMS:
            self.other(element)
            return
        names = []
        for child in element:
            name = local_name(child.tag)
            if name == "mechanisms":
                names += ["sasl-" + (m.text or "").strip() for m in child]
            else:
                names.append(name)
        say("features: %s" % (" ".join(names) if names else "none"))

    def other(self, element):
        attributes = " ".join("%s=%s" % item for item in sorted(element.attrib.items()))
        say(("stanza %s %s" % (local_name(element.tag), attributes)).rstrip())

    # ---- steps ----

    def header(self):
        self.new_stream()
        attributes = " to='%s'" % self.to_domain
        if self.from_domain != "-":
            attributes += " from='%s'" % self.from_domain
        self.send(("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                   "xmlns:stream='%s' xmlns:db='jabber:server:dialback' version='1.0'%s>"
                   % (STREAMS, attributes)).encode())
        self.features()

    def tls(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        server_name = self.options.sni or self.to_domain
        if self.options.ca:
            context.load_verify_locations(self.options.ca)
        else:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.options.cert:
            context.load_cert_chain(self.options.cert, self.options.key)
        try:
            self.sock = context.wrap_socket(self.sock, server_hostname=server_name)
        except ssl.SSLError as error:
            say("handshake refused: %s" % why(error))
            self.closed()
        except OSError as error:
            say("handshake refused: %s" % error)
            self.closed()
        say("tls up %s" % self.sock.version())
        self.new_stream()  # the edge's next stream is over TLS

    def starttls(self):
        self.send(("<starttls xmlns='%s'/>" % TLS).encode())
        element = self.next_element()
        if element.tag != "{%s}proceed" % TLS:
            self.other(element)
            raise Ended()
        say("proceed")
        self.tls()

    def auth(self, authzid=None):
        if authzid is None:
            authzid = base64.b64encode(self.from_domain.encode()).decode()
        self.send(("<auth xmlns='%s' mechanism='EXTERNAL'>%s</auth>" % (SASL, authzid)).encode())
        element = self.next_element()
        if element.tag == "{%s}success" % SASL:
            say("sasl success")
        elif element.tag == "{%s}failure" % SASL:
            conditions = [local_name(child.tag) for child in element]
            say("sasl failure %s" % (conditions[0] if conditions else "none"))
        else:
            self.other(element)

    def pieces(self, total, parts):
        """Sends the byte strings PARTS (TOTAL bytes in all) in pieces of
        PIECE, taking what the edge says in between."""
        sent = 0
        buffered = b""
        for part in parts:
            buffered += part
            while len(buffered) >= PIECE:
                sent += self.piece(buffered[:PIECE], sent, total)
                buffered = buffered[PIECE:]
        if buffered:
            sent += self.piece(buffered, sent, total)
        say("sent %d of %d bytes" % (sent, total))

    def piece(self, data, sent, total):
        while self.readable():
            try:
                self.receive()
            except Ended:
                say("sent %d of %d bytes" % (sent, total))
                raise
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError):
            say("sent %d of %d bytes" % (sent, total))
            self.drain_then_close()
        return len(data)

    def readable(self):
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            return bool(selector.select(0))

    def stanza(self, size, from_jid, to_jid):
        head = ("<message from='%s' to='%s' type='chat'><body>" % (from_jid, to_jid)).encode()
        tail = b"</body></message>"
        body = (b"x" * PIECE for _ in range(size // PIECE))
        rest = b"x" * (size % PIECE)
        self.pieces(len(head) + size + len(tail), [head, *body, rest, tail])

    def attributes(self, count, from_jid, to_jid):
        head = ("<message from='%s' to='%s' type='chat'" % (from_jid, to_jid)).encode()
        parts = [head] + [(" a%d='%d'" % (i, i)).encode() for i in range(count)]
        parts.append(b"><body>many attributes</body></message>")
        self.pieces(sum(len(part) for part in parts), parts)

    def run(self, steps):
        while steps:
            name = steps.pop(0)
            if name == "tls":
                self.tls()
            elif name == "header":
                self.from_domain, self.to_domain = steps.pop(0), steps.pop(0)
                self.header()
            elif name == "restart":
                self.header()
            elif name == "starttls":
                self.starttls()
            elif name == "auth":
                self.auth(steps.pop(0) if steps and steps[0] not in STEPS else None)
            elif name == "send":
                data = codecs.escape_decode(steps.pop(0).encode())[0]
                self.send(data)
                say("sent %d bytes" % len(data))
            elif name == "file":
                with open(steps.pop(0), "rb") as source:
                    data = source.read()
                self.send(data)
                say("sent %d bytes" % len(data))
            elif name == "stanza":
                self.stanza(int(steps.pop(0)), steps.pop(0), steps.pop(0))
            elif name == "attributes":
                self.attributes(int(steps.pop(0)), steps.pop(0), steps.pop(0))
            elif name == "wait":
                while True:
                    element = self.next_element()
                    self.other(element)
            elif name == "listen":
                self.listen(float(steps.pop(0)))
            elif name == "sleep":
                time.sleep(float(steps.pop(0)))
            else:
                raise SystemExit("s2s_raw: unknown step '%s'" % name)
        say("done")


STEPS = ("tls", "header", "restart", "starttls", "auth", "send", "file", "stanza", "attributes", "wait",
         "listen", "sleep")


def flood(options, count, seconds, from_domain, to_domain):
    """COUNT abandoned streams: see the top of this file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    address, _, port = options.target.rpartition(":")
    header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='%s' "
              "version='1.0' to='%s' from='%s'>" % (STREAMS, to_domain, from_domain)).encode()
    selector = selectors.DefaultSelector()
    opened = answered = refused = late = held = most_held = 0
    start = time.monotonic()

    def handle(key, now):
        nonlocal answered, refused, late, held
        sock, state = key.fileobj, key.data
        try:
            data = sock.recv(PIECE)
        except OSError:
            data = b""
        if data:
            if not state["answered"]:
                state["answered"] = True
                answered += 1
                held += 1
            return 0
        selector.unregister(sock)
        sock.close()
        if state["answered"]:
            held -= 1
        else:
            refused += 1
            if now - state["opened"] > 2:
                late += 1
        return 1

    def poll(timeout):
        nonlocal most_held
        for key, _ in selector.select(timeout):
            handle(key, time.monotonic())
            most_held = max(most_held, held)

    for index in range(count):
        due = start + seconds * index / count
        while time.monotonic() < due:
            poll(max(0, due - time.monotonic()))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if options.bind:
            sock.bind((options.bind, 0))
        try:
            sock.connect((address, int(port)))
            sock.sendall(header)
        except OSError:
            sock.close()
            refused += 1
            continue
        sock.setblocking(False)
        opened += 1
        selector.register(sock, selectors.EVENT_READ, {"opened": time.monotonic(),
                                                       "answered": False})
        poll(0)
    deadline = time.monotonic() + 2 * options.timeout
    while selector.get_map() and time.monotonic() < deadline:
        # every answered stream closed, and the others left unanswered for 2 s
        now = time.monotonic()
        if held == 0 and all(now - key.data["opened"] > 2
                             for key in selector.get_map().values()):
            break
        poll(0.1)
    still_open = len(selector.get_map())
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    say("opened %d" % opened)
    say("answered %d" % answered)
    say("refused %d" % refused)
    say("refused late %d" % late)
    say("most held at once %d" % most_held)
    say("still open %d" % still_open)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", help="source address")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--ca", help="check the edge's certificate against this CA")
    parser.add_argument("--cert", help="client certificate")
    parser.add_argument("--key", help="its key")
    parser.add_argument("--sni", help="the server name asked for (default: the header's to)")
    parser.add_argument("target", help="ADDR:PORT")
    parser.add_argument("steps", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    if options.steps[:1] == ["flood"]:
        if len(options.steps) != 5:
            raise SystemExit("s2s_raw: flood COUNT SECONDS FROM TO")
        flood(options, int(options.steps[1]), float(options.steps[2]), *options.steps[3:])
        return
    peer = Peer(options)
    try:
        peer.connect()
    except OSError as error:
        say("connect failed: %s" % error)
        sys.exit(1)
    try:
        peer.run(list(options.steps))
    except Ended:
        pass


if __name__ == "__main__":
    main()
