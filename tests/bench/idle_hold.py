#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""idle_hold: opens many TLS connections to an edge's access port as fast as
it can, sends one request on each (optional), holds them idle, and reports
every connection that did not last: when it closed relative to its open, and
which side ended it.  tests/bench/idle-hold runs it against sxedge or
Kamailio in a network namespace; tests/bench/README.md has the usage.

The work is split over --processes forked processes (each process is capped
at its open-files limit, and one Python process does about 2,000 handshakes
a second).  Every process starts all its connects at once, non-blocking,
then drives connect, handshake, request and answer with one epoll selector;
--in-flight caps the connections of a process that are not yet answered.

Each connection gets one line in OUT/conns.tsv:
    process index port open tcp tls answer close kind detail
(port: the local port, 0 when the connect never completed)
times in seconds since the run started (or "-"), kind one of
    held   still open at the end of the hold
    eof    the server closed it (end of stream, TLS close_notify or not)
    reset  the server reset it (ECONNRESET)
    error  a local error (connect refused, handshake failure, ...)
    timeout  --handshake-timeout passed before the request was answered
The summary (stdout) counts the kinds, gives the spread of connect and
handshake times, and groups the closes that came within --gap seconds of
each other.
"""
import argparse
import errno
import os
import random
import selectors
import socket
import ssl
import sys
import time

OPTIONS = (
    "OPTIONS sip:example.test SIP/2.0\r\n"
    "Via: SIP/2.0/TLS {source}:5998;branch=z9hG4bK-ih-{tag};rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@example.test>;tag={tag}\r\n"
    "To: <sip:example.test>\r\n"
    "Call-ID: ih-{tag}@{source}\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n"
)

CONNECTING, HANDSHAKING, SENDING, AWAITING, HELD, CLOSED = range(6)


class Conn:
    __slots__ = ("index", "port", "sock", "tls", "state", "times", "kind", "detail", "out",
                 "got")

    def __init__(self, index):
        self.index = index
        self.port = 0
        self.sock = None
        self.tls = None
        self.state = CONNECTING
        self.times = {}
        self.kind = "held"
        self.detail = ""
        self.out = b""
        self.got = b""


class Holder:
    def __init__(self, args, process, indexes, start):
        self.args = args
        self.process = process
        self.pending = list(indexes)
        self.pending.reverse()
        self.start = start
        self.selector = selectors.DefaultSelector()
        self.conns = []
        self.unanswered = 0
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.load_verify_locations(args.ca)
        host, port = args.connect.rsplit(":", 1)
        self.target = (host, int(port))

    def now(self):
        return time.monotonic() - self.start

    def open_more(self):
        while self.pending and (
            self.args.in_flight == 0 or self.unanswered < self.args.in_flight
        ):
            conn = Conn(self.pending.pop())
            self.conns.append(conn)
            self.unanswered += 1
            conn.times["open"] = self.now()
            conn.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            conn.sock.setblocking(False)
            try:
                if self.args.source:
                    conn.sock.bind((self.args.source, 0))
                status = conn.sock.connect_ex(self.target)
            except OSError as error:
                self.finish(conn, "error", "connect: %s" % error)
                continue
            if status not in (0, errno.EINPROGRESS):
                self.finish(conn, "error", "connect: %s" % os.strerror(status))
                continue
            self.selector.register(conn.sock, selectors.EVENT_WRITE, conn)

    def finish(self, conn, kind, detail=""):
        if conn.state in (CONNECTING, HANDSHAKING, SENDING, AWAITING):
            self.unanswered -= 1
        conn.state = CLOSED
        conn.kind = kind
        conn.detail = detail
        conn.times["close"] = self.now()
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        (conn.tls or conn.sock).close()
        conn.tls = conn.sock = None

    def watch(self, conn, events):
        self.selector.modify(conn.sock, events, conn)

    def failed(self, conn, error):
        if isinstance(error, (ssl.SSLZeroReturnError, ssl.SSLEOFError)):
            self.finish(conn, "eof", type(error).__name__)
        elif isinstance(error, ConnectionResetError):
            self.finish(conn, "reset", str(error))
        else:
            self.finish(conn, "error", "%s: %s" % (type(error).__name__, error))

    def step(self, conn):
        try:
            if conn.state == CONNECTING:
                status = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if status != 0:
                    self.finish(conn, "error", "connect: %s" % os.strerror(status))
                    return
                conn.times["tcp"] = self.now()
                conn.port = conn.sock.getsockname()[1]
                self.selector.unregister(conn.sock)
                conn.tls = self.context.wrap_socket(
                    conn.sock, server_hostname=self.args.name, do_handshake_on_connect=False
                )
                conn.sock = conn.tls
                self.selector.register(conn.sock, selectors.EVENT_READ, conn)
                conn.state = HANDSHAKING
            if conn.state == HANDSHAKING:
                try:
                    conn.tls.do_handshake()
                except ssl.SSLWantReadError:
                    self.watch(conn, selectors.EVENT_READ)
                    return
                except ssl.SSLWantWriteError:
                    self.watch(conn, selectors.EVENT_WRITE)
                    return
                conn.times["tls"] = self.now()
                if self.args.send == "none":
                    self.unanswered -= 1
                    conn.state = HELD
                    self.watch(conn, selectors.EVENT_READ)
                    return
                tag = "%d-%d-%d" % (self.process, conn.index, random.randrange(1 << 30))
                source = self.args.source or "127.0.0.1"
                conn.out = OPTIONS.format(source=source, tag=tag).encode()
                conn.state = SENDING
            if conn.state == SENDING:
                while conn.out:
                    try:
                        sent = conn.tls.send(conn.out)
                    except (ssl.SSLWantWriteError, BlockingIOError):
                        self.watch(conn, selectors.EVENT_WRITE)
                        return
                    except ssl.SSLWantReadError:
                        self.watch(conn, selectors.EVENT_READ)
                        return
                    conn.out = conn.out[sent:]
                conn.state = AWAITING
                self.watch(conn, selectors.EVENT_READ)
            if conn.state in (AWAITING, HELD):
                self.receive(conn)
        except (OSError, ssl.SSLError) as error:
            self.failed(conn, error)

    def receive(self, conn):
        while True:
            try:
                data = conn.tls.recv(4096)
            except (ssl.SSLWantReadError, BlockingIOError):
                return
            except ssl.SSLWantWriteError:
                self.watch(conn, selectors.EVENT_WRITE)
                return
            if not data:
                self.finish(conn, "eof", "end of stream")
                return
            if conn.state == AWAITING:
                conn.got += data
                if b"\r\n\r\n" in conn.got:
                    line = conn.got.split(b"\r\n", 1)[0].decode(errors="replace")
                    conn.detail = line.split(" ", 2)[1] if line.startswith("SIP/2.0 ") else "?"
                    conn.got = b""
                    conn.times["answer"] = self.now()
                    conn.state = HELD
                    self.unanswered -= 1

    def expire(self):
        limit = self.args.handshake_timeout
        if limit <= 0:
            return
        now = self.now()
        for conn in self.conns:
            if conn.state in (CONNECTING, HANDSHAKING, SENDING, AWAITING):
                if now - conn.times["open"] > limit:
                    self.finish(conn, "timeout", "not answered within %g s" % limit)

    def run(self, report):
        self.open_more()
        end_of_opening = None
        last_report = last_expire = 0.0
        while True:
            now = self.now()
            if end_of_opening is None and not self.pending and self.unanswered == 0:
                end_of_opening = now
            if end_of_opening is not None and now - end_of_opening >= self.args.hold:
                break
            if now > self.args.hold + self.args.open_limit:
                break  # the opening never finished: report what there is
            for key, _ in self.selector.select(timeout=0.5):
                self.step(key.data)
            self.open_more()
            if now - last_expire >= 0.5:
                self.expire()
                last_expire = now
            if report and now - last_report >= 5:
                last_report = now
                counts = [0] * 6
                for conn in self.conns:
                    counts[conn.state] += 1
                print(
                    "t=%.0f process %d: connecting %d handshaking %d awaiting %d held %d "
                    "closed %d waiting %d"
                    % (now, self.process, counts[CONNECTING], counts[HANDSHAKING],
                       counts[SENDING] + counts[AWAITING], counts[HELD], counts[CLOSED],
                       len(self.pending)),
                    file=sys.stderr, flush=True)

    def write(self, path):
        def at(conn, name):
            value = conn.times.get(name)
            return "-" if value is None else "%.3f" % value

        with open(path, "w") as out:
            for conn in self.conns:
                out.write("%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" % (
                    self.process, conn.index, conn.port, at(conn, "open"), at(conn, "tcp"),
                    at(conn, "tls"), at(conn, "answer"), at(conn, "close"), conn.kind,
                    conn.detail.replace("\t", " ")))


def percentiles(values):
    if not values:
        return "none"
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return "p50 %.3f p90 %.3f p99 %.3f max %.3f" % (pick(0.5), pick(0.9), pick(0.99), values[-1])


def summarize(rows, gap):
    def num(text):
        return None if text == "-" else float(text)

    conns = []
    for row in rows:
        process, index, _, opened, tcp, tls, answer, close, kind, detail = row
        conns.append((int(process), int(index), num(opened), num(tcp), num(tls), num(answer),
                      num(close), kind, detail))
    kinds = {}
    for conn in conns:
        kinds[conn[7]] = kinds.get(conn[7], 0) + 1
    print("connections %d: %s" % (len(conns), ", ".join(
        "%s %d" % item for item in sorted(kinds.items()))))
    tcp = [c[3] - c[2] for c in conns if c[3] is not None]
    tls = [c[4] - c[3] for c in conns if c[4] is not None]
    answer = [c[5] - c[4] for c in conns if c[5] is not None]
    print("connect (s after open):   %s" % percentiles(tcp))
    print("handshake (s after connect): %s" % percentiles(tls))
    print("answer (s after handshake):  %s" % percentiles(answer))
    slow = {}
    for value in tcp:
        for bound in (1, 3, 7, 15, 31):
            if value >= bound:
                slow[bound] = slow.get(bound, 0) + 1
    if slow:
        print("connects taking at least 1/3/7/15/31 s: %s" % " / ".join(
            str(slow.get(bound, 0)) for bound in (1, 3, 7, 15, 31)))
    answers = {}
    for conn in conns:
        if conn[5] is not None:
            answers[conn[8]] = answers.get(conn[8], 0) + 1
    if answers:
        print("answers: %s" % ", ".join("%s %d" % item for item in sorted(answers.items())))
    closed = sorted((c for c in conns if c[6] is not None), key=lambda c: c[6])
    groups = []
    for conn in closed:
        if groups and conn[6] - groups[-1][-1][6] <= gap:
            groups[-1].append(conn)
        else:
            groups.append([conn])
    for group in groups:
        lives = [c[6] - c[2] for c in group]
        opens = [c[2] for c in group]
        details = {}
        for c in group:
            key = "%s (%s)" % (c[7], c[8]) if c[8] and c[5] is None else c[7]
            details[key] = details.get(key, 0) + 1
        stage = {}
        for c in group:
            name = ("answered" if c[5] is not None else "handshaken" if c[4] is not None
                    else "connected" if c[3] is not None else "connecting")
            stage[name] = stage.get(name, 0) + 1
        print("closed %d at t=%.2f-%.2f, opened t=%.2f-%.2f, after %.2f-%.2f s; %s; were %s" % (
            len(group), group[0][6], group[-1][6], min(opens), max(opens), min(lives),
            max(lives), ", ".join("%s %d" % item for item in sorted(details.items())),
            ", ".join("%s %d" % item for item in sorted(stage.items()))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connect", required=True, help="ADDR:PORT of the access listener")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--ca", required=True, help="CA file the server is checked against")
    parser.add_argument("--name", default="edge.example.test", help="SNI and checked name")
    parser.add_argument("--source", help="local address to connect from")
    parser.add_argument("--send", choices=["options", "none"], default="options")
    parser.add_argument("--hold", type=float, default=90,
                        help="seconds to hold once every connection is answered or closed")
    parser.add_argument("--open-limit", type=float, default=120,
                        help="seconds the opening may take before the hold starts anyway")
    parser.add_argument("--in-flight", type=int, default=0,
                        help="unanswered connections per process at most (0: no cap)")
    parser.add_argument("--handshake-timeout", type=float, default=0,
                        help="close a connection not answered this long after its open (0: never)")
    parser.add_argument("--gap", type=float, default=1.0,
                        help="closes this close in time are reported as one group")
    parser.add_argument("--out", required=True, help="folder for conns.tsv")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    start = time.monotonic()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
    children = []
    for process in range(args.processes):
        indexes = range(process + 1, args.count + 1, args.processes)
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                holder = Holder(args, process, indexes, start)
                holder.run(report=True)
                holder.write(os.path.join(args.out, "conns.%d.tsv" % process))
                status = 0
            finally:
                os._exit(status)
        children.append(pid)
    failed = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        failed += status != 0
    rows = []
    with open(os.path.join(args.out, "conns.tsv"), "w") as out:
        for process in range(args.processes):
            part = os.path.join(args.out, "conns.%d.tsv" % process)
            if not os.path.exists(part):
                continue
            with open(part) as lines:
                for line in lines:
                    out.write(line)
                    rows.append(line.rstrip("\n").split("\t"))
            os.remove(part)
    print("t=0 is %s" % started_at)
    summarize(rows, args.gap)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
