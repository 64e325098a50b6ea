# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2034 # globals set here are read by the tests
# fedlib.sh: helpers for the sxedge federation integration tests, sourced
# after lib.sh (and after it_begin, inside the sandbox).
#
# Topology (all loopback, one sandbox):
#   dnsmasq 127.0.0.53:53: SRV _sipfederationtls._tcp.<domain> and A records
#     for the *.test names below; every other *.test name is NXDOMAIN.
#   edge A (sxedge, log edge-a.log), domain example.test: access
#     127.0.0.1:443, federation 127.0.0.1:5061, internal 127.0.0.2:5061;
#     pool A = Kamailio 127.0.0.10:5061 (log pool-a.log).
#   edge B (sxedge, log edge-b.log), domains partner.test and failover.test:
#     access 127.0.0.20:443, federation 127.0.0.20:5061, internal
#     127.0.0.21:5061; pool B = Kamailio 127.0.0.30:5061 (log pool-b.log).
#   A names partner.test with `edge = edge.partner.test` (A record); B names
#   example.test without edge (SRV discovery).  Each pool sends requests for
#   foreign domains to its edge's internal listener (kamailio-fedpool.cfg.in).
#   failover.test: SRV priority 10 -> dead.failover.test (127.0.0.40, nothing
#   listens), priority 20 -> edge.partner.test.  slow.test -> edge.slow.test
#   (127.0.0.41, a listener that accepts and never speaks: start_silent).
#   dead.test -> edge.dead.test (127.0.0.40).  blocked.test ->
#   edge.blocked.test (127.0.0.42).  nowhere.test and other.test: no records.
#
# Facts checked here (Debian 12):
# - dnsmasq 2.90 as root in the sandbox: --user=root keeps it from dropping
#   to a user that cannot write its log; --local=/test/ makes it answer
#   NXDOMAIN for unknown *.test names instead of REFUSED (no upstream).
# - Kamailio's tls [client:default] verifies the edge's chain, not its name.

FED_DNS=127.0.0.53
A_ACCESS=127.0.0.1
A_FED=127.0.0.1
A_INTERNAL=127.0.0.2
A_POOL=127.0.0.10
A_DOMAIN=example.test
B_ACCESS=127.0.0.20
B_FED=127.0.0.20
B_INTERNAL=127.0.0.21
B_POOL=127.0.0.30
B_DOMAIN=partner.test
DEAD_ADDR=127.0.0.40
SLOW_ADDR=127.0.0.41
BLOCKED_ADDR=127.0.0.42
FED_CONNECT_TIMEOUT=${FED_CONNECT_TIMEOUT:-3}

# Per-test additions, set before fed_start_edge: extra lines for edge A's
# [federation] section and its [partner partner.test] section, and extra
# sections appended to A's or B's configuration.
FED_A_FEDERATION=${FED_A_FEDERATION:-}
FED_A_PARTNER=${FED_A_PARTNER:-}
FED_A_EXTRA=${FED_A_EXTRA:-}
FED_B_EXTRA=${FED_B_EXTRA:-}

# ---- PKI ----------------------------------------------------------------------

# fed_make_pki: make_pki plus the federation certificates the dev set lacks:
# pool B, edge B's internal listener, a right-CA certificate with a wrong
# name, a rogue-CA certificate carrying edge B's name, and blocked.test's edge.
fed_make_pki() {
	make_pki
	{
		pki_leaf "$PKI" pool1.partner.test ca "DNS:pool1.partner.test,IP:$B_POOL"
		pki_leaf "$PKI" edge-int.partner.test ca "DNS:edge-int.partner.test,IP:$B_INTERNAL"
		pki_leaf "$PKI" edge.wrong.test ca DNS:edge.wrong.test
		pki_leaf "$PKI" rogue-edge.partner.test rogue-ca DNS:edge.partner.test \
			edge.partner.test
		pki_leaf "$PKI" edge.blocked.test ca DNS:edge.blocked.test
	} >>"$WORK/fed-certs.log" 2>&1 || fail "openssl: federation certificates failed"
	local name
	for name in pool1.partner.test edge-int.partner.test edge.wrong.test \
		rogue-edge.partner.test edge.blocked.test; do
		[ -s "$PKI/$name.crt" ] || fail "PKI: $PKI/$name.crt missing"
	done
}

# ---- DNS ----------------------------------------------------------------------

# fed_start_dns: dnsmasq on 127.0.0.53:53 with the records above (log:
# dns.log, one line per query) and /etc/resolv.conf pointing at it.
fed_start_dns() {
	local srv=_sipfederationtls._tcp
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$FED_DNS" >"$WORK/resolv.conf"
	mount --bind "$WORK/resolv.conf" /etc/resolv.conf
	start_bg dns dnsmasq --keep-in-foreground --no-resolv --no-hosts --user=root \
		--listen-address="$FED_DNS" --port=53 --bind-interfaces \
		--pid-file="$WORK/dnsmasq.pid" --log-facility=- --log-queries --local=/test/ \
		--srv-host="$srv.example.test,edge.example.test,5061,0,0" \
		--host-record="edge.example.test,$A_FED" \
		--srv-host="$srv.partner.test,edge.partner.test,5061,0,0" \
		--host-record="edge.partner.test,$B_FED" \
		--srv-host="$srv.failover.test,dead.failover.test,5061,10,0" \
		--srv-host="$srv.failover.test,edge.partner.test,5061,20,0" \
		--host-record="dead.failover.test,$DEAD_ADDR" \
		--srv-host="$srv.slow.test,edge.slow.test,5061,0,0" \
		--host-record="edge.slow.test,$SLOW_ADDR" \
		--srv-host="$srv.dead.test,edge.dead.test,5061,0,0" \
		--host-record="edge.dead.test,$DEAD_ADDR" \
		--srv-host="$srv.blocked.test,edge.blocked.test,5061,0,0" \
		--host-record="edge.blocked.test,$BLOCKED_ADDR"
	local deadline=$((SECONDS + 10))
	until ss -Hlun "src $FED_DNS:53" | grep -q .; do
		[ "$SECONDS" -lt "$deadline" ] || fail "dnsmasq did not listen on $FED_DNS:53"
		sleep 0.1
	done
}

# fed_srv DOMAIN: prints "PRIORITY WEIGHT PORT TARGET" per SRV record of
# _sipfederationtls._tcp.DOMAIN as dnsmasq answers, or "rcode=N" (dns_srv).
fed_srv() {
	dns_srv "_sipfederationtls._tcp.$1" "$FED_DNS"
}

# fed_check_dns: the records the tests rely on are answered (fails otherwise).
fed_check_dns() {
	local got
	got=$(fed_srv partner.test)
	[ "$got" = "0 0 5061 edge.partner.test" ] || fail "SRV partner.test answered '$got'"
	got=$(fed_srv example.test)
	[ "$got" = "0 0 5061 edge.example.test" ] || fail "SRV example.test answered '$got'"
	got=$(fed_srv failover.test | sort | tr '\n' ' ')
	[ "$got" = "10 0 5061 dead.failover.test 20 0 5061 edge.partner.test " ] ||
		fail "SRV failover.test answered '$got'"
	got=$(fed_srv nowhere.test)
	[ "$got" = "rcode=3" ] || fail "SRV nowhere.test answered '$got', expected NXDOMAIN"
	got=$(getent ahosts edge.partner.test | awk 'NR == 1 { print $1 }')
	[ "$got" = "$B_FED" ] || fail "edge.partner.test resolved to '$got'"
	got=$(getent ahosts edge.slow.test | awk 'NR == 1 { print $1 }')
	[ "$got" = "$SLOW_ADDR" ] || fail "edge.slow.test resolved to '$got'"
}

# ---- peers --------------------------------------------------------------------

# fed_start_pool NAME ADDR CERT DOMAIN DOMAIN2 EDGE_INTERNAL: a Kamailio
# pool (kamailio-fedpool.cfg.in; log NAME.log) serving DOMAIN and DOMAIN2
# (give DOMAIN twice for one domain), sending other domains to EDGE_INTERNAL.
fed_start_pool() {
	local name=$1 addr=$2 cert=$3 domain=$4 domain2=$5 internal=$6
	render "$IT_DIR/peers/tls-pool.cfg.in" "$WORK/tls-$name.cfg" POOL_CERT="$cert"
	render "$IT_DIR/peers/kamailio-fedpool.cfg.in" "$WORK/kamailio-$name.cfg" \
		POOL_ADDR="$addr" POOL_PORT=5061 TLS_CFG="$WORK/tls-$name.cfg" DOMAIN="$domain" \
		DOMAIN2="$domain2" EDGE_INTERNAL="$internal" EDGE_INTERNAL_PORT=5061
	mkdir -p "$WORK/$name-run"
	start_bg "$name" kamailio -f "$WORK/kamailio-$name.cfg" -DD -E -m 64 -M 8 \
		-Y "$WORK/$name-run" -P "$WORK/$name-run/kamailio.pid"
}

fed_start_pools() {
	fed_start_pool pool-a "$A_POOL" pool1.example.test "$A_DOMAIN" "$A_DOMAIN" "$A_INTERNAL"
	fed_start_pool pool-b "$B_POOL" pool1.partner.test "$B_DOMAIN" failover.test "$B_INTERNAL"
	wait_port "$A_POOL" 5061 15 || fail "pool A did not listen on $A_POOL:5061"
	wait_port "$B_POOL" 5061 15 || fail "pool B did not listen on $B_POOL:5061"
}

# fed_edge_config A|B FILE: renders edge A's or edge B's configuration.
fed_edge_config() {
	local which=$1 out=$2
	if [ "$which" = A ]; then
		render "$IT_DIR/sxedge-fed.conf.in" "$out" DOMAINS="$A_DOMAIN" ACCESS="$A_ACCESS" \
			FED="$A_FED" INTERNAL="$A_INTERNAL" EDGE_CERT=edge.example.test \
			INTERNAL_CERT=edge.example.test POOL_FQDN=pool1.example.test POOL="$A_POOL" \
			DNS="$FED_DNS" CONNECT_TIMEOUT="$FED_CONNECT_TIMEOUT"
		{
			printf '%s\n' "$FED_A_FEDERATION"
			printf '\n; a partner named by its edge (A record lookup)\n'
			printf '[partner partner.test]\nedge = edge.partner.test\n%s\n' "$FED_A_PARTNER"
			printf '%s\n' "$FED_A_EXTRA"
		} >>"$out"
	else
		render "$IT_DIR/sxedge-fed.conf.in" "$out" DOMAINS="$B_DOMAIN, failover.test" \
			ACCESS="$B_ACCESS" FED="$B_FED" INTERNAL="$B_INTERNAL" EDGE_CERT=edge.partner.test \
			INTERNAL_CERT=edge-int.partner.test POOL_FQDN=pool1.partner.test POOL="$B_POOL" \
			DNS="$FED_DNS" CONNECT_TIMEOUT="$FED_CONNECT_TIMEOUT"
		{
			printf '\n; a partner found by SRV _sipfederationtls._tcp.example.test\n'
			printf '[partner example.test]\ntype = federated\n'
			printf '%s\n' "$FED_B_EXTRA"
		} >>"$out"
	fi
}

# fed_check_config A|B: `sxedge -t` accepts the edge's configuration.
fed_check_config() {
	local which=$1 conf status=0
	conf="$WORK/edge-${which,,}.conf"
	fed_edge_config "$which" "$conf"
	timeout 10 "$SXEDGE" -t -c "$conf" >"$WORK/edge-${which,,}-check.out" 2>&1 || status=$?
	[ "$status" = 0 ] ||
		fail "sxedge -t on edge $which's configuration exited $status: $(head -3 "$WORK/edge-${which,,}-check.out")"
}

# fed_start_edge A|B: edge A or B (log edge-a.log / edge-b.log), waits for
# event=ready and its three listeners.
fed_start_edge() {
	local which=$1 name conf access fed internal
	name="edge-${which,,}"
	conf="$WORK/$name.conf"
	fed_edge_config "$which" "$conf"
	if [ "$which" = A ]; then
		access=$A_ACCESS fed=$A_FED internal=$A_INTERNAL
	else
		access=$B_ACCESS fed=$B_FED internal=$B_INTERNAL
	fi
	start_bg "$name" "$SXEDGE" -c "$conf"
	wait_log "$WORK/$name.log" 'event=ready' 10 || fail "edge $which did not log event=ready"
	wait_port "$access" 443 5 || fail "edge $which not listening on $access:443"
	wait_port "$fed" 5061 5 || fail "edge $which not listening on $fed:5061"
	wait_port "$internal" 5061 5 || fail "edge $which not listening on $internal:5061"
}

# fed_wait_pool_up A|B...: each named edge has its pool link up.
fed_wait_pool_up() {
	local which
	for which in "$@"; do
		wait_log "$WORK/edge-${which,,}.log" 'event=pool_up' 10 ||
			fail "no event=pool_up in edge $which's log"
	done
}

# fed_start_all: DNS, both pools, both edges, both pool links up.
fed_start_all() {
	fed_start_dns
	fed_check_dns
	fed_start_pools
	fed_start_edge A
	fed_start_edge B
	fed_wait_pool_up A B
}

# start_silent ADDR PORT: a TCP listener that accepts and never says a word
# (a partner edge that hangs in the handshake).
start_silent() {
	start_bg "silent" /usr/bin/python3 -c '
import socket, sys, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen(16)
held = []
while True:
    held.append(server.accept()[0])
    print("accepted", held[-1].getpeername(), flush=True)
' "$1" "$2"
	wait_port "$1" "$2" 5 || fail "silent listener did not listen on $1:$2"
}

# fed_tunnel NAME LOCAL_PORT EDGE_ADDR EDGE_HOST: stunnel client tunnel NAME
# from 127.0.0.1:LOCAL_PORT to EDGE_ADDR:443, checking the name EDGE_HOST.
fed_tunnel() {
	local name=$1 port=$2 addr=$3 host=$4
	render "$IT_DIR/peers/stunnel-fed-client.conf.in" "$WORK/stunnel-$name.conf" \
		ACCEPT="127.0.0.1:$port" CONNECT="$addr:443" HOST="$host"
	start_bg "stunnel-$name" stunnel4 "$WORK/stunnel-$name.conf"
	wait_port 127.0.0.1 "$port" 10 || fail "stunnel $name did not listen on $port"
}

# ---- SIP over openssl s_client -------------------------------------------------

# fed_send NAME TARGET SERVERNAME FILE [s_client args...]: sends FILE over a
# TLS connection (tls_open: verifies the server against the test CA) and
# records the send time in FED_SENT[NAME] (seconds since the epoch, float).
declare -A FED_SENT=()
fed_send() {
	local name=$1 target=$2 servername=$3 file=$4
	shift 4
	FED_SENT[$name]=$(date +%s.%N)
	tls_open "$name" "$target" "$file" -servername "$servername" "$@"
}

# fed_final NAME SECONDS: bounded wait for a final (>= 200) answer on
# connection NAME; sets SIP_STATUS, SIP_REASON (the reason phrase) and
# FED_ELAPSED (seconds from fed_send to the answer being seen, 1 decimal).
fed_final() {
	local name=$1 line
	SIP_STATUS=none SIP_REASON='' FED_ELAPSED=''
	wait_log "$WORK/$name.log" '^SIP/2\.0 [2-6][0-9]{2} ' "$2" || return 1
	FED_ELAPSED=$(echo "$(date +%s.%N) ${FED_SENT[$name]}" | awk '{ printf "%.1f", $1 - $2 }')
	line=$(grep -aE '^SIP/2\.0 [2-6][0-9]{2} ' "$WORK/$name.log" | head -1 | tr -d '\r')
	SIP_STATUS=$(cut -d' ' -f2 <<<"$line")
	SIP_REASON=$(cut -d' ' -f3- <<<"$line")
}

# fed_header NAME HEADER: the first value of HEADER in what connection NAME
# received (empty when absent).
fed_header() {
	grep -aiE "^$2:" "$WORK/$1.log" | head -1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'
}

# fed_expect NAME SECONDS STATUS REASON: the final answer on NAME is exactly
# "STATUS REASON" (fails the test otherwise).
fed_expect() {
	local name=$1 seconds=$2 status=$3 reason=$4
	fed_final "$name" "$seconds" ||
		fail "$name: no final answer within ${seconds}s (expected $status $reason)"
	[ "$SIP_STATUS $SIP_REASON" = "$status $reason" ] ||
		fail "$name: got '$SIP_STATUS $SIP_REASON', expected '$status $reason'"
}
