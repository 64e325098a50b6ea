# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2034 # globals set here are read by the tests
# turnlib.sh: helpers for the sxedge TURN integration tests and the
# turn-relay benchmark (coturn's turnutils_* clients, and coturn itself as
# the benchmark's anchor), sourced after lib.sh and called after it_begin,
# inside the sandbox.
#
# Topology (loopback only): the edge's TURN listeners on 127.0.0.1:3478 and
# [::1]:3478, UDP (role turn) and TCP (role turn_tcp), relay addresses on
# 127.0.0.1 from relay ports 50000-59999, [metrics] on 127.0.0.1:9464; the
# echo peer turnutils_peer on $TURN_PEER_ADDR:3480 (and :3481, which
# uclient uses for its RTCP flow).
#
# Facts about the clients (coturn 4.6.1, checked against its turnserver):
# - turnutils_stunclient hangs forever when nothing answers: always under
#   timeout.  Against a server without RFC 5780 it prints
#   "UDP reflexive addr: ADDR:PORT" (twice) and exits 0.  It has no TCP mode.
# - turnutils_uclient exits 0 even when packets were lost: the counters are
#   parsed from its last lines ("tot_send_msgs=N, tot_recv_msgs=N",
#   "tot_send_bytes ~ N, tot_recv_bytes ~ N", "Total lost packets N").  A
#   refused run exits 255 at once with "Cannot complete Allocation" (bad
#   credentials), "channel bind: error 403" or, with -s, "create permission
#   error 403" (peer refused), "error 486" (quota).
# - -W SECRET makes the REST-API username "EXPIRY:USER" from -u USER
#   (expiry a day ahead) and its password; without -u the username is a
#   bare EXPIRY, which the edge refuses.
# - Each uclient client (-m; with -y each pair of endpoints, -m rounded up
#   to even) first makes a probe allocation from a socket of its own, then
#   the real ones (one per endpoint; two without -c, RTP and RTCP), which
#   it refreshes to 0 when done.  The probe is never released: over UDP it
#   stays until its lifetime ends (uclient asks 777 s), over TCP it ends
#   with its connection when uclient exits.  So a UDP run leaves one
#   allocation per client (per pair with -y), a TCP run none.
# - uclient sends EVEN-PORT unless -c is given, and with -c still in about
#   half of its Allocates (R=0, drawn at random); it draws channel numbers
#   in 0x4000-0x7FFF, the RFC 5766 range (RFC 8656 has 0x4000-0x4FFF); with
#   -T its ConnectionBind comes from a new TCP connection and takes no 438
#   (it stops with "connection bind error 0").  The tests pass -c.
# - Loopback peers: -y (client to client) and -T (TCP relay) talk to the
#   other endpoint's relayed address, 127.0.0.1 here, so allowed_peers must
#   allow 127.0.0.1 for them.
#
# Functions:
#   turn_edge_config [TURN_LINE...]  $WORK/sxedge.conf: the SIP listeners of
#                                    sxedge.conf.in, the TURN listeners, [turn]
#                                    (plus each TURN_LINE) and [metrics]
#   turn_start_edge                  sxedge on it (log edge.log), TURN ports up
#   turn_start_peer ADDR...          turnutils_peer on ADDR:3480 (log peer.log)
#   turn_username USER [SECONDS]     "EXPIRY:USER", EXPIRY now + SECONDS (3600)
#   turn_password USERNAME           its password under $TURN_SECRET
#   uclient NAME ARG...              one turnutils_uclient run (below)
#   uclient_counters NAME FILE       its counters, from its output in FILE
#   uclient_expect_clean NAME SENT   run NAME sent and got back SENT messages,
#                                    nothing lost
#   turn_scrape NAME                 the metrics page into $WORK/NAME.prom
#   turn_value NAME SERIES           a series' value in scrape NAME (0: absent)
#   turn_wait_value SERIES VALUE SECONDS
#                                    bounded wait until SERIES is VALUE
#   stun_client ARG...               clients/stun_client.py

TURN_ADDR=127.0.0.1
TURN_ADDR6=::1
TURN_PORT=3478
TURN_PEER_ADDR=${TURN_PEER_ADDR:-127.0.0.1}
TURN_PEER_PORT=3480
TURN_REALM=example.test
TURN_SECRET=sxedge-test-secret-0123456789
TURN_METRICS_PORT=9464

turn_edge_config() {
	local line
	render "$IT_DIR/sxedge.conf.in" "$WORK/sxedge.conf" DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-2}"
	cat >>"$WORK/sxedge.conf" <<EOF

[listener turn-udp]
role = turn
address = $TURN_ADDR
port = $TURN_PORT

[listener turn-udp6]
role = turn
address = $TURN_ADDR6
port = $TURN_PORT

[listener turn-tcp]
role = turn_tcp
address = $TURN_ADDR
port = $TURN_PORT

[listener turn-tcp6]
role = turn_tcp
address = $TURN_ADDR6
port = $TURN_PORT

[metrics]
address = 127.0.0.1
port = $TURN_METRICS_PORT

[turn]
realm = $TURN_REALM
shared_secret = $TURN_SECRET
relay_address = $TURN_ADDR
EOF
	for line in "$@"; do
		printf '%s\n' "$line" >>"$WORK/sxedge.conf"
	done
}

turn_start_edge() {
	start_bg edge "$SXEDGE" -c "$WORK/sxedge.conf"
	wait_log "$WORK/edge.log" 'event=ready' 10 || fail "sxedge did not log event=ready"
	wait_port "$TURN_ADDR" "$TURN_PORT" 5 || fail "sxedge not listening on TCP $TURN_ADDR:$TURN_PORT"
	ss -Hlun "src $TURN_ADDR:$TURN_PORT" | grep -q . ||
		fail "sxedge has no UDP socket on $TURN_ADDR:$TURN_PORT"
}

turn_start_peer() {
	local address
	local -a listen=()
	for address in "$@"; do
		listen+=(-L "$address")
	done
	start_bg peer turnutils_peer "${listen[@]}" -p "$TURN_PEER_PORT"
	local deadline=$((SECONDS + 5))
	until ss -Hlun "sport = :$TURN_PEER_PORT" | grep -q .; do
		[ "$SECONDS" -lt "$deadline" ] || fail "turnutils_peer did not bind port $TURN_PEER_PORT"
		sleep 0.1
	done
}

turn_username() {
	echo "$(($(date +%s) + ${2:-3600})):$1"
}

turn_password() {
	printf %s "$1" | openssl dgst -sha1 -hmac "$TURN_SECRET" -binary | base64
}

# uclient NAME ARG...: turnutils_uclient ARG... (bounded to 30 s), output
# in $WORK/NAME.out, read by uclient_counters.
uclient() {
	local name=$1
	shift
	UCLIENT_STATUS=0
	timeout 30 turnutils_uclient "$@" >"$WORK/$name.out" 2>&1 || UCLIENT_STATUS=$?
	uclient_counters "$name" "$WORK/$name.out"
}

# uclient_counters NAME FILE: from uclient's output in FILE sets
# UCLIENT_SENT, UCLIENT_RECEIVED (messages), UCLIENT_SENT_BYTES,
# UCLIENT_RECEIVED_BYTES and UCLIENT_LOST (-1 for each it did not print).
uclient_counters() {
	local name=$1 out=$2
	UCLIENT_SENT=$(sed -nE 's/.*tot_send_msgs=([0-9]+), tot_recv_msgs=[0-9]+$/\1/p' "$out" | tail -1)
	UCLIENT_RECEIVED=$(sed -nE 's/.*tot_send_msgs=[0-9]+, tot_recv_msgs=([0-9]+)$/\1/p' "$out" | tail -1)
	UCLIENT_SENT_BYTES=$(sed -nE 's/.*tot_send_bytes ~ ([0-9]+), tot_recv_bytes ~ [0-9]+$/\1/p' "$out" | tail -1)
	UCLIENT_RECEIVED_BYTES=$(sed -nE 's/.*tot_send_bytes ~ [0-9]+, tot_recv_bytes ~ ([0-9]+)$/\1/p' "$out" | tail -1)
	UCLIENT_LOST=$(sed -nE 's/.*Total lost packets ([0-9]+) .*/\1/p' "$out" | tail -1)
	UCLIENT_SENT=${UCLIENT_SENT:--1}
	UCLIENT_RECEIVED=${UCLIENT_RECEIVED:--1}
	UCLIENT_SENT_BYTES=${UCLIENT_SENT_BYTES:--1}
	UCLIENT_RECEIVED_BYTES=${UCLIENT_RECEIVED_BYTES:--1}
	UCLIENT_LOST=${UCLIENT_LOST:--1}
	echo "uclient $name: status $UCLIENT_STATUS sent $UCLIENT_SENT received $UCLIENT_RECEIVED" \
		"bytes $UCLIENT_SENT_BYTES/$UCLIENT_RECEIVED_BYTES lost $UCLIENT_LOST" >>"$WORK/steps.log"
}

uclient_expect_clean() {
	local name=$1 sent=$2
	[ "$UCLIENT_STATUS" = 0 ] ||
		fail "uclient $name exited $UCLIENT_STATUS: $(grep -haiE 'error|cannot' "$WORK/$name".* | head -2)"
	[ "$UCLIENT_SENT" = "$sent" ] || fail "uclient $name sent $UCLIENT_SENT messages, expected $sent"
	[ "$UCLIENT_RECEIVED" = "$sent" ] ||
		fail "uclient $name got $UCLIENT_RECEIVED of its $sent messages back"
	[ "$UCLIENT_LOST" = 0 ] || fail "uclient $name lost $UCLIENT_LOST packets"
}

turn_scrape() {
	curl -sf --max-time 5 "http://127.0.0.1:$TURN_METRICS_PORT/metrics" -o "$WORK/$1.prom" ||
		fail "metrics scrape $1 failed"
}

turn_value() {
	awk -v series="$2" '$1 == series { print $2; found = 1 } END { if (!found) print 0 }' \
		"$WORK/$1.prom"
}

turn_wait_value() {
	local series=$1 expected=$2 deadline=$((SECONDS + $3))
	while :; do
		turn_scrape wait
		[ "$(turn_value wait "$series")" != "$expected" ] || return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

stun_client() {
	/usr/bin/python3 "$IT_DIR/clients/stun_client.py" "$@"
}
