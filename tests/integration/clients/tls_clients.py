#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""tls_clients: many TLS clients from one source address, for the tests that
hold the edge's connections (connection_budgets).

Each of COUNT connections is opened in turn from SOURCE (port chosen by the
kernel), completes its handshake (the server checked against CA for NAME),
optionally sends one message (--send), then stays open sending a CRLFCRLF
keep-alive every --keep-alive seconds until the server closes it or the
process is stopped.  One line per event on stdout, each starting with the
connection's number:
    I local PORT | I handshake ok | I handshake failed: WHY
    I answer CODE | I closed after SECONDS: WHY | I flooded N
WHY is "end of stream" when the server closed in order (TLS close_notify),
and the SSL error ("EOF occurred in violation of protocol") when the TCP
connection ended without one.
--send options: a good OPTIONS from alice (the pool answers 200);
--send refused: an OPTIONS from a domain the edge does not serve (403);
--send response: a SIP response, which no request of the edge awaits.
--flood N: after --send, N refused requests without ever reading again (a
slow reader; all COUNT start together; --rcvbuf keeps the kernel from buffering much for it, and
--pad BYTES in their Via, which the answers copy, makes the answers large).
"""
import argparse
import random
import socket
import ssl
import sys
import threading
import time

LOCK = threading.Lock()


def say(index, text):
    with LOCK:
        print("%d %s" % (index, text), flush=True)


def options(source, index, from_domain, pad=0):
    tag = "%d%d" % (index, random.randrange(1 << 30))
    return (
        "OPTIONS sip:example.test SIP/2.0\r\n"
        "Via: SIP/2.0/TLS %s:5998;branch=z9hG4bK-tc-%s;rport%s\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@%s>;tag=%s\r\n"
        "To: <sip:example.test>\r\n"
        "Call-ID: tc-%s@%s\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
        % (source, tag, ";pad=" + "x" * pad if pad else "", from_domain, tag, tag, source)
    ).encode()


def response(source, index):
    return (
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/TLS 127.0.0.1:443;branch=z9hG4bK-forged-%d\r\n"
        "From: <sip:alice@example.test>;tag=1\r\n"
        "To: <sip:bob@example.test>;tag=2\r\n"
        "Call-ID: forged-%d@%s\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n" % (index, index, source)
    ).encode()


def read_answer(tls):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk:
            return "none (closed)"
        data += chunk
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    return line.split(" ")[1] if line.startswith("SIP/2.0 ") else "none (%s)" % line


def connect(args, index):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if args.rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    raw.settimeout(10)
    raw.bind((args.source, 0))
    host, port = args.connect.rsplit(":", 1)
    raw.connect((host, int(port)))
    say(index, "local %d" % raw.getsockname()[1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(args.ca)
    if args.cert:
        context.load_cert_chain(args.cert, args.key)
    # A bare TCP close must not pass for close_notify.
    return context.wrap_socket(raw, server_hostname=args.name, suppress_ragged_eofs=False)


def flood(args, index, tls, ready):
    sent = 0
    try:
        ready.wait(10)  # every connection floods at once
        for _ in range(args.flood):
            tls.sendall(options(args.source, index, "elsewhere.test", args.pad))
            sent += 1
        say(index, "flooded %d" % sent)
        time.sleep(3600)
    except (OSError, ssl.SSLError) as error:
        say(index, "closed after flooding %d: %s" % (sent, error))


def hold(args, index, tls, started):
    tls.settimeout(args.keep_alive)
    while True:
        try:
            data = tls.recv(4096)
            if not data:
                why = "end of stream"
                break
        except socket.timeout:
            try:
                tls.sendall(b"\r\n\r\n")
            except (OSError, ssl.SSLError) as error:
                why = str(error)
                break
        except (OSError, ssl.SSLError) as error:
            why = str(error)
            break
    say(index, "closed after %.1f: %s" % (time.monotonic() - started, why))


def run(args, index, tls, started, ready):
    try:
        if args.send == "options":
            tls.sendall(options(args.source, index, "example.test"))
            say(index, "answer %s" % read_answer(tls))
        elif args.send == "refused":
            tls.sendall(options(args.source, index, "elsewhere.test"))
            say(index, "answer %s" % read_answer(tls))
        elif args.send == "response":
            tls.sendall(response(args.source, index))
    except (OSError, ssl.SSLError) as error:
        say(index, "closed after %.1f: %s" % (time.monotonic() - started, error))
        return
    if args.flood:
        flood(args, index, tls, ready)
    else:
        hold(args, index, tls, started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--connect", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--name", default="edge.example.test")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--send", choices=["options", "refused", "response"])
    parser.add_argument("--keep-alive", type=float, default=1.0)
    parser.add_argument("--flood", type=int, default=0)
    parser.add_argument("--rcvbuf", type=int, default=0)
    parser.add_argument("--pad", type=int, default=0)
    args = parser.parse_args()
    threads = []
    ready = threading.Barrier(args.count)
    for index in range(1, args.count + 1):
        started = time.monotonic()
        try:
            tls = connect(args, index)
        except (OSError, ssl.SSLError) as error:
            say(index, "handshake failed: %s" % error)
            continue
        say(index, "handshake ok")
        thread = threading.Thread(target=run, args=(args, index, tls, started, ready), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
