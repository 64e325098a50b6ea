#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""replay_responses: a hostile user for the sxedge integration test
hostile_sip.  Over one TLS connection to the edge's access listener it
registers (Contact: its own address, so the pool relays requests for the
user back over this connection), waits for one request, answers it 200 once
and then sends that same 200 COUNT more times in one burst, as fast as the
connection takes it.  Then it reads what the edge still sends for LINGER
seconds and exits.  With --go FILE it waits, after the first 200, until
FILE exists before the burst (the test pauses the pool first).  Standard
library only.

It prints one line per stage, flushed, for the test to wait on:
  connected local=ADDR:PORT
  registered status=CODE
  request method=METHOD call-id=CALL-ID
  answered status=200
  replayed count=N bytes=B seconds=S
  linger received=N closed=yes|no
and "error ..." (exit status 1) when a stage fails or times out.
"""
import argparse
import os
import random
import socket
import ssl
import sys
import time


def say(text):
    print(text, flush=True)


def die(text):
    say("error " + text)
    sys.exit(1)


class Reader:
    """Cuts SIP messages (header block and Content-Length body) from a stream."""

    def __init__(self, sock):
        self.sock = sock
        self.data = b""
        self.closed = False

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except (ConnectionError, ssl.SSLError):
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.data += chunk
        return True

    def message(self, deadline):
        """The next message as (start line, [(name, value)], raw), or None."""
        while True:
            self.data = self.data.lstrip(b"\r\n")  # keep-alives
            end = self.data.find(b"\r\n\r\n")
            if end >= 0:
                head = self.data[:end].decode("latin-1")
                lines = head.split("\r\n")
                fields = []
                for line in lines[1:]:
                    if line[:1] in (" ", "\t") and fields:
                        fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
                    elif ":" in line:
                        name, value = line.split(":", 1)
                        fields.append((name.strip(), value.strip()))
                length = 0
                for name, value in fields:
                    if name.lower() in ("content-length", "l"):
                        length = int(value)
                total = end + 4 + length
                if len(self.data) >= total:
                    raw = self.data[:total]
                    self.data = self.data[total:]
                    return lines[0], fields, raw
            if not self._fill(deadline):
                return None


def header_lines(fields, *names):
    """The fields named NAMES (any case, compact forms included), in order."""
    wanted = {name.lower() for name in names}
    return [(name, value) for name, value in fields if name.lower() in wanted]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ca", required=True)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--servername", default="edge.example.test")
    parser.add_argument("--user", default="mallory")
    parser.add_argument("--domain", default="example.test")
    parser.add_argument("--count", type=int, default=6000)
    parser.add_argument("--timeout", type=float, default=15)
    parser.add_argument("--linger", type=float, default=3)
    parser.add_argument("--go", help="after the first 200, wait until this file exists")
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca)
    raw = socket.create_connection((args.address, args.port), timeout=args.timeout)
    sock = context.wrap_socket(raw, server_hostname=args.servername)
    local_addr, local_port = sock.getsockname()[:2]
    say("connected local=%s:%d" % (local_addr, local_port))
    reader = Reader(sock)
    deadline = time.monotonic() + args.timeout

    aor = "sip:%s@%s" % (args.user, args.domain)
    register = (
        "REGISTER sip:%s SIP/2.0\r\n"
        "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK-replay-%d;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <%s>;tag=replay-%d\r\n"
        "To: <%s>\r\n"
        "Call-ID: replay-register-%d@sxedge-it\r\n"
        "CSeq: 1 REGISTER\r\n"
        "Contact: <sip:%s@%s:%d;transport=tls>\r\n"
        "Expires: 300\r\n"
        "Content-Length: 0\r\n\r\n"
    ) % (args.domain, local_addr, local_port, random.getrandbits(32), aor,
         random.getrandbits(32), aor, random.getrandbits(32), args.user, local_addr,
         local_port)
    sock.sendall(register.encode())

    request = None
    while True:
        message = reader.message(deadline)
        if message is None:
            die("no answer to REGISTER (closed=%s)" % reader.closed)
        start, fields, _ = message
        if start.startswith("SIP/2.0 "):
            status = start.split(" ")[1]
            if status.startswith("1"):
                continue
            say("registered status=%s" % status)
            if status != "200":
                sys.exit(1)
            break
        request = message  # a request before the 200: keep it
        break

    while request is None:
        message = reader.message(deadline)
        if message is None:
            die("no request relayed to us (closed=%s)" % reader.closed)
        if not message[0].startswith("SIP/2.0 "):
            request = message
    start, fields, _ = request
    method = start.split(" ")[0]
    call_id = "".join(value for _, value in header_lines(fields, "call-id", "i"))
    say("request method=%s call-id=%s" % (method, call_id))

    lines = ["SIP/2.0 200 OK"]
    for name, value in header_lines(fields, "via", "v"):
        lines.append("Via: " + value)
    for name, value in header_lines(fields, "from", "f"):
        lines.append("From: " + value)
    for name, value in header_lines(fields, "to", "t"):
        lines.append("To: " + value + ("" if ";tag=" in value else ";tag=replay-answer"))
    lines.append("Call-ID: " + call_id)
    for name, value in header_lines(fields, "cseq"):
        lines.append("CSeq: " + value)
    lines.append("Content-Length: 0")
    response = ("\r\n".join(lines) + "\r\n\r\n").encode()
    sock.sendall(response)
    say("answered status=200")

    if args.go:
        while not os.path.exists(args.go):
            if time.monotonic() > deadline:
                die("no go (%s)" % args.go)
            time.sleep(0.05)

    started = time.monotonic()
    sock.settimeout(args.timeout)
    try:
        sock.sendall(response * args.count)
    except (OSError, ssl.SSLError) as error:
        die("burst cut short: %s" % error)
    say("replayed count=%d bytes=%d seconds=%.2f"
        % (args.count, len(response) * args.count, time.monotonic() - started))

    received = 0
    linger_end = time.monotonic() + args.linger
    while reader.message(linger_end) is not None:
        received += 1
    say("linger received=%d closed=%s" % (received, "yes" if reader.closed else "no"))
    sock.close()


if __name__ == "__main__":
    main()
