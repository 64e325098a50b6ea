#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""sip_user: one SIP user on ONE TLS connection to the edge's access listener,
for the tests that keep SIP traffic flowing while the edge changes (reload).

The connection is made once (the server checked against --ca for --name) and
never remade: if the edge closes it, the user says so and exits 1.
    --receive SECONDS   REGISTERs --user (Contact on this connection), then for
                        SECONDS answers every MESSAGE 200 (To-tag "rcv-..."),
                        or until it has answered --expect of them
    --send COUNT        sends COUNT MESSAGEs to --to, one every --interval
                        seconds, each waiting up to --wait seconds for its final
                        answer before the next
One line per event on stdout, for the test to count:
    local PORT            registered CODE
    received SEQ          (--receive: the MESSAGE carrying "message SEQ")
    answer SEQ CODE       (--send: the final answer to MESSAGE SEQ; CODE is
                           "none" when it did not come within --wait)
    closed: WHY           done sent N answered M received R
Exit 0 when every MESSAGE sent got a 200 (--send) or the time ran out with the
connection up (--receive).
"""
import argparse
import random
import socket
import ssl
import sys
import time


def say(text):
    print(text, flush=True)


class Connection:
    def __init__(self, args):
        raw = socket.create_connection(args.connect.rsplit(":", 1), timeout=10)
        self.port = raw.getsockname()[1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(args.ca)
        self.tls = context.wrap_socket(raw, server_hostname=args.name,
                                       suppress_ragged_eofs=False)
        self.buffer = b""

    def send(self, text):
        self.tls.sendall(text.replace("\n", "\r\n").encode())

    def read(self, seconds):
        """The next whole message (head, body), or None after SECONDS."""
        deadline = time.monotonic() + seconds
        while True:
            message = self.take()
            if message:
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.tls.settimeout(left)
            try:
                chunk = self.tls.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ConnectionError("end of stream")
            self.buffer += chunk

    def take(self):
        self.buffer = self.buffer.lstrip(b"\r\n")  # keep-alives
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buffer[:end].decode(errors="replace")
        length = int(header(head, "Content-Length") or "0")
        if len(self.buffer) < end + 4 + length:
            return None
        body = self.buffer[end + 4:end + 4 + length].decode(errors="replace")
        self.buffer = self.buffer[end + 4 + length:]
        return head, body


def header(head, name):
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def headers(head, name):
    return [line for line in head.split("\r\n")[1:]
            if line.partition(":")[0].strip().lower() == name.lower()]


def request(method, uri, user, to, port, call_id, extra="", body=""):
    tag = "%08x" % random.getrandbits(32)
    lines = ("%s %s SIP/2.0\n"
             "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-su-%s;rport\n"
             "Max-Forwards: 70\n"
             "From: <sip:%s@example.test>;tag=%s\n"
             "To: <%s>\n"
             "Call-ID: %s\n"
             "CSeq: 1 %s\n%s" % (method, uri, port, tag, user, tag, to, call_id, method, extra))
    if body:
        lines += "Content-Type: text/plain\n"
    return lines + "Content-Length: %d\n\n%s" % (len(body), body)


def final_code(head):
    line = head.split("\r\n", 1)[0]
    if not line.startswith("SIP/2.0 "):
        return None
    code = line.split(" ")[1]
    return code if code >= "200" else None


def receive(args, connection, counts):
    call_id = "su-reg-%08x@127.0.0.1" % random.getrandbits(32)
    connection.send(request(
        "REGISTER", "sip:example.test", args.user, "sip:%s@example.test" % args.user,
        connection.port, call_id,
        "Contact: <sip:%s@127.0.0.1:%d;transport=tls>\nExpires: 300\n"
        % (args.user, connection.port)))
    code = None
    while code is None:
        message = connection.read(args.wait)
        if message is None:
            say("registered none")
            return 1
        code = final_code(message[0])
    say("registered %s" % code)
    if code != "200":
        return 1
    deadline = time.monotonic() + args.receive
    while time.monotonic() < deadline and counts["received"] != args.expect:
        message = connection.read(deadline - time.monotonic())
        if message is None:
            break
        head, body = message
        if not head.startswith("MESSAGE "):
            continue
        counts["received"] += 1
        say("received %s" % body.split(" ")[-1])
        answer = ["SIP/2.0 200 OK"] + headers(head, "Via") + headers(head, "Record-Route")
        answer += headers(head, "From")
        answer += ["%s;tag=rcv-%08x" % (headers(head, "To")[0], random.getrandbits(32))]
        answer += headers(head, "Call-ID") + headers(head, "CSeq") + ["Content-Length: 0", "", ""]
        connection.tls.sendall("\r\n".join(answer).encode())
    return 0


def send(args, connection, counts):
    status = 0
    for sequence in range(1, args.send + 1):
        started = time.monotonic()
        call_id = "su-msg-%d-%08x@127.0.0.1" % (sequence, random.getrandbits(32))
        connection.send(request(
            "MESSAGE", "sip:%s@example.test" % args.to, args.user,
            "sip:%s@example.test" % args.to, connection.port, call_id,
            body="message %d" % sequence))
        counts["sent"] += 1
        code = "none"
        while True:
            message = connection.read(args.wait - (time.monotonic() - started))
            if message is None:
                break
            if header(message[0], "Call-ID") == call_id and final_code(message[0]):
                code = final_code(message[0])
                break
        say("answer %d %s" % (sequence, code))
        if code == "200":
            counts["answered"] += 1
        else:
            status = 1
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    return status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connect", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--name", default="edge.example.test")
    parser.add_argument("--user", required=True)
    parser.add_argument("--to")
    parser.add_argument("--receive", type=float)
    parser.add_argument("--expect", type=int)
    parser.add_argument("--send", type=int)
    parser.add_argument("--interval", type=float, default=0.3)
    parser.add_argument("--wait", type=float, default=5.0)
    args = parser.parse_args()
    counts = {"sent": 0, "answered": 0, "received": 0}
    status = 1
    try:
        connection = Connection(args)
        say("local %d" % connection.port)
        if args.receive is not None:
            status = receive(args, connection, counts)
        else:
            status = send(args, connection, counts)
    except (OSError, ssl.SSLError, ConnectionError) as error:
        say("closed: %s" % error)
        status = 1
    say("done sent %d answered %d received %d" % (counts["sent"], counts["answered"],
                                                  counts["received"]))
    return status


if __name__ == "__main__":
    sys.exit(main())
