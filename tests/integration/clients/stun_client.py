#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# stun_client.py: raw STUN for the TURN integration tests, where the real
# clients (coturn's turnutils_*) cannot go: a Binding over TCP, a Binding
# whose answer is checked against the socket's own address, and malformed
# datagrams that must go unanswered.
#
#   stun_client.py binding udp|tcp HOST PORT
#       one Binding request (RFC 8489, no attributes); prints
#       "reflexive ADDR PORT local ADDR PORT" from the XOR-MAPPED-ADDRESS of
#       the success response; exit 0 when it is the socket's own address,
#       1 when it is not, 2 when no (or no parsable) answer came in 3 s.
#   stun_client.py silent HOST PORT KIND
#       sends one malformed datagram of KIND from a fresh socket and listens
#       for 1 s; prints "silent" (exit 0) or "answered N bytes" (exit 1).
#       KIND: short_header (a 12-byte Binding header), length_beyond (a
#       header announcing 80 bytes of attributes before 20), oversize (a
#       65,504-byte Binding, whose length field agrees, all zeros after the
#       header: 16,371 empty attributes of type 0), unbound_channel
#       (ChannelData on 0x4001, never bound, from a client with no
#       allocation).
#   stun_client.py flood HOST PORT COUNT
#       COUNT Allocate requests without credentials (REQUESTED-TRANSPORT UDP
#       only, as a flood with forged sources would send), from 2,000 source
#       addresses and ports (8 ports on each of 127.0.1.1 to 127.0.1.250);
#       then reads for 1 s what came back; prints "sent N answered M
#       challenges C" (C: 401s carrying a NONCE); exit 0.
import os
import socket
import struct
import sys
import time

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
XOR_MAPPED_ADDRESS = 0x0020


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def header(method, length, transaction):
    return struct.pack("!HHI", method, length, MAGIC_COOKIE) + transaction


def reflexive(message, transaction):
    """The (address, port) of the XOR-MAPPED-ADDRESS of a Binding success."""
    kind, length, cookie = struct.unpack("!HHI", message[:8])
    if kind != BINDING_SUCCESS or cookie != MAGIC_COOKIE or message[8:20] != transaction:
        raise ValueError("not the Binding success of our request: type 0x%04x" % kind)
    at, end = 20, 20 + length
    while at + 4 <= end:
        attribute, size = struct.unpack("!HH", message[at:at + 4])
        value = message[at + 4:at + 4 + size]
        if attribute == XOR_MAPPED_ADDRESS:
            family = value[1]
            port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC_COOKIE >> 16)
            key = struct.pack("!I", MAGIC_COOKIE) + transaction
            if family == 1:
                raw = bytes(a ^ b for a, b in zip(value[4:8], key[:4]))
                return socket.inet_ntop(socket.AF_INET, raw), port
            raw = bytes(a ^ b for a, b in zip(value[4:20], key))
            return socket.inet_ntop(socket.AF_INET6, raw), port
        at += 4 + (size + 3) // 4 * 4
    raise ValueError("no XOR-MAPPED-ADDRESS in the answer")


def receive_stun_over_tcp(sock):
    data = b""
    while len(data) < 20 or len(data) < 20 + struct.unpack("!H", data[2:4])[0]:
        chunk = sock.recv(4096)
        if not chunk:
            raise ValueError("connection closed after %d bytes" % len(data))
        data += chunk
    return data


def binding(transport, host, port):
    transaction = os.urandom(12)
    request = header(BINDING_REQUEST, 0, transaction)
    kind = socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family_of(host), kind)
    sock.settimeout(3)
    try:
        sock.connect((host, port))
        sock.send(request)
        answer = receive_stun_over_tcp(sock) if transport == "tcp" else sock.recv(65536)
        address, mapped_port = reflexive(answer, transaction)
    except (OSError, ValueError) as error:
        print("error %s" % error)
        return 2
    local = sock.getsockname()
    print("reflexive %s %d local %s %d" % (address, mapped_port, local[0], local[1]))
    return 0 if (address, mapped_port) == (local[0], local[1]) else 1


def malformed(kind):
    transaction = os.urandom(12)
    if kind == "short_header":
        return header(BINDING_REQUEST, 0, transaction)[:12]
    if kind == "length_beyond":
        return header(BINDING_REQUEST, 80, transaction) + b"\0" * 20
    if kind == "oversize":
        size = 65504
        return header(BINDING_REQUEST, size - 20, transaction) + b"\0" * (size - 20)
    if kind == "unbound_channel":
        return struct.pack("!HH", 0x4001, 4) + b"data"
    raise SystemExit("unknown kind %s" % kind)


def silent(host, port, kind):
    sock = socket.socket(family_of(host), socket.SOCK_DGRAM)
    sock.settimeout(1)
    sock.sendto(malformed(kind), (host, port))
    try:
        answer = sock.recv(65536)
    except socket.timeout:
        print("silent")
        return 0
    print("answered %d bytes" % len(answer))
    return 1


ALLOCATE_REQUEST = 0x0003
ALLOCATE_ERROR = 0x0113
REQUESTED_TRANSPORT = 0x0019
NONCE = 0x0015


def allocate_without_credentials():
    body = struct.pack("!HHB3x", REQUESTED_TRANSPORT, 4, 17)
    return header(ALLOCATE_REQUEST, len(body), os.urandom(12)) + body


def is_challenge(answer):
    if len(answer) < 20 or struct.unpack("!H", answer[:2])[0] != ALLOCATE_ERROR:
        return False
    at = 20
    while at + 4 <= len(answer):
        kind, length = struct.unpack("!HH", answer[at:at + 4])
        if kind == NONCE:
            return True
        at += 4 + (length + 3) // 4 * 4
    return False


def flood(host, port, count):
    sockets = []
    for address in range(1, 251):
        for _ in range(8):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.1.%d" % address, 0))
            sock.setblocking(False)
            sockets.append(sock)
    sent = 0
    for i in range(count):
        if i % 500 == 499:
            time.sleep(0.01)  # a flood, but one the socket buffers can take
        try:
            sockets[i % len(sockets)].sendto(allocate_without_credentials(), (host, port))
            sent += 1
        except BlockingIOError:
            pass
    answered = challenges = 0
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        got = False
        for sock in sockets:
            try:
                answer = sock.recv(65536)
            except BlockingIOError:
                continue
            got = True
            answered += 1
            challenges += is_challenge(answer)
        if not got:
            time.sleep(0.05)
    print("sent %d answered %d challenges %d" % (sent, answered, challenges))
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "binding" and sys.argv[2] in ("udp", "tcp"):
        return binding(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    if len(sys.argv) == 5 and sys.argv[1] == "silent":
        return silent(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    if len(sys.argv) == 5 and sys.argv[1] == "flood":
        return flood(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    raise SystemExit("usage: stun_client.py binding udp|tcp HOST PORT | silent HOST PORT KIND"
                     " | flood HOST PORT COUNT")


if __name__ == "__main__":
    sys.exit(main())
