# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2034 # globals set here are read by the tests
# lib.sh: helpers sourced by every sxedge integration test.
#
# A test calls `it_begin NAME` first.  Outside the sandbox that creates the
# test's work dir and re-runs the script inside
#   timeout IT_TIMEOUT unshare --net --mount --pid --fork --kill-child --mount-proc
# so ports are free, only loopback exists, and every process the test starts
# dies with the sandbox's pid namespace.  Inside, it brings lo up, installs a
# private /etc/hosts and an EXIT trap that stops every daemon by its pid and, on
# failure, prints the tail of every log in the work dir.
#
# Topology: sxedge access 127.0.0.1:443 (and 127.0.0.1:444 with require_sni),
# internal 127.0.0.2:5061; pool = Kamailio at 127.0.0.10:5061 (registrar with
# Path, mutual TLS); our domain example.test.
#
# Facts about the peers, checked here (Debian 12):
# - sipsak 0.9.8.1 (GnuTLS) sends NO SNI, whether the outbound proxy (-p) is
#   an IP address or a host name (its ClientHello has no server_name
#   extension).  So sipsak can only talk to listeners with require_sni = no;
#   SNI tests use openssl s_client (-servername / -noservername).
# - sipsak handshakes with both RSA (2048) and EC (P-256) server certificates,
#   TLS 1.3 included, provided the server sends no session tickets (sxedge
#   sends none).  Its From/Via host is the local host name unless -H is given;
#   it must be resolvable, hence the private /etc/hosts.
# - sipsak cannot receive requests over TLS and loads no client certificate:
#   users that receive requests are sipp (TCP) behind an stunnel4 client
#   tunnel, and mutual TLS is tested with openssl s_client -cert/-key.
# - sipsak checks the server certificate against the host of its -s URI (not
#   the -p proxy), so we pass -s sip:edge.example.test; the request line
#   comes from the file.
# - sipsak -f FILE sends FILE after inserting its own Via (we write CRLF files
#   and pass -L so it adds nothing else); exit 0 = 200, 1 = other final
#   answer, 3 = no answer within T1 (500 ms) * -D.

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$IT_DIR/../.." && pwd)
SXEDGE=${SXEDGE:-$TOP_DIR/sxedge}
IT_TIMEOUT=${IT_TIMEOUT:-120}

EDGE_ACCESS=127.0.0.1
EDGE_ACCESS_PORT=443
EDGE_SNI_PORT=444
EDGE_INTERNAL=127.0.0.2
EDGE_INTERNAL_PORT=5061
POOL_ADDR=127.0.0.10
POOL_PORT=5061
DOMAIN=example.test

declare -A IT_PID=()
IT_STEP=start
IT_LAST_ERROR=

# ---- sandbox and lifecycle --------------------------------------------------

# it_begin NAME [nosandbox]: enter the sandbox (re-exec) or, inside, set up.
it_begin() {
	TEST_NAME=$1
	if [ "${2:-}" = nosandbox ]; then
		it_make_work
		IT_NOSANDBOX=1
		set -E
		trap it_exit EXIT
		trap 'IT_LAST_ERROR="line $LINENO: $BASH_COMMAND"' ERR
		return
	fi
	if [ "${IT_SANDBOXED:-}" != 1 ]; then
		it_outer
	fi
	ip link set lo up
	printf '127.0.0.1 localhost %s edge.example.test example.test\n127.0.0.2 edge-int.example.test\n127.0.0.10 pool1.example.test\n' \
		"$(hostname)" >"$WORK/hosts"
	mount --bind "$WORK/hosts" /etc/hosts
	set -E
	trap it_exit EXIT
	trap 'IT_LAST_ERROR="line $LINENO: $BASH_COMMAND"' ERR
}

it_make_work() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/sxedge-it-$TEST_NAME.XXXXXX")
	export WORK
}

# Outside the sandbox: run this script again inside it, bounded in time; report
# a verdict if the inside never got to print one (timeout, crash).
it_outer() {
	local status=0
	if [ ! -x "$SXEDGE" ]; then
		echo "FAIL $TEST_NAME: sxedge binary not found at $SXEDGE (set SXEDGE)"
		exit 1
	fi
	it_make_work
	export IT_SANDBOXED=1 SXEDGE
	timeout -k 5 "$IT_TIMEOUT" unshare --net --mount --pid --fork --kill-child --mount-proc \
		bash "$0" || status=$?
	if [ ! -s "$WORK/verdict" ]; then
		if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
			echo "FAIL $TEST_NAME: overall timeout (${IT_TIMEOUT}s)"
		else
			echo "FAIL $TEST_NAME: sandbox exited with status $status without a verdict"
		fi
		it_print_logs
		status=1
	fi
	it_clean_work "$status"
	exit "$status"
}

# it_clean_work STATUS: removes the work dir of a passed test (unless
# IT_KEEP is set), keeps and names it otherwise.
it_clean_work() {
	if [ "$1" -eq 0 ] && [ -z "${IT_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "  (work dir kept: $WORK)" >&2
	fi
}

it_exit() {
	local status=$?
	trap - ERR
	set +e
	stop_all
	if [ ! -s "$WORK/verdict" ]; then
		echo "FAIL $TEST_NAME: [$IT_STEP] unexpected error (status $status) at $IT_LAST_ERROR" |
			tee "$WORK/verdict"
		it_print_logs
		status=1
	fi
	if [ -n "${IT_NOSANDBOX:-}" ]; then
		it_clean_work "$status"
	fi
	exit "$status"
}

# step NAME: names what the test does now (shown in FAIL lines).
step() {
	IT_STEP=$1
	echo "--- step: $1" >>"$WORK/steps.log"
}

# pass: stops every peer, then the edge (with no connection left it exits at
# once; a sanitizer build reports leaks then), and passes unless a log holds
# an AddressSanitizer/LeakSanitizer/UBSan report.
pass() {
	local report
	stop_all edge
	stop_bg edge TERM $((${DRAIN_TIMEOUT:-3} + 2))
	report=$(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK"/*.log \
		2>/dev/null | head -1 || true)
	[ -z "$report" ] || fail "sanitizer report in ${report##*/}"
	echo "PASS $TEST_NAME" | tee "$WORK/verdict"
	exit 0
}

fail() {
	echo "FAIL $TEST_NAME: [$IT_STEP] $*" | tee "$WORK/verdict"
	it_print_logs
	exit 1
}

# Tail of every log and captured exchange in the work dir, on stderr.
it_print_logs() {
	local file
	for file in "$WORK"/*.log "$WORK"/*.out; do
		[ -f "$file" ] || continue
		echo "  ---- ${file##*/} (last ${IT_TAIL:-25} lines)" >&2
		tail -n "${IT_TAIL:-25}" "$file" | sed 's/^/  | /' >&2
	done
}

# ---- the build tree (install, service_unit) --------------------------------

# build_tree_begin: BUILD is the build tree that made $SXEDGE ($SXEDGE_BUILD,
# default the directory of $SXEDGE); only installed into, never reconfigured.
build_tree_begin() {
	BUILD=${SXEDGE_BUILD:-$(dirname "$SXEDGE")}
	[ -f "$BUILD/Makefile" ] || fail "no Makefile in $BUILD (set SXEDGE_BUILD to the build tree)"
}

# build_var NAME: the value of make variable NAME in the build tree.
build_var() {
	# shellcheck disable=SC2016 # $(NAME) is for make
	printf 'it-print-%s:\n\t@echo $(%s)\n' "$1" "$1" >"$WORK/print.mk"
	make -s -C "$BUILD" -f Makefile -f "$WORK/print.mk" "it-print-$1"
}

# build_make LOG TARGET...: make in the build tree, installing under $DEST.
build_make() {
	local log=$1
	shift
	timeout 120 make -C "$BUILD" DESTDIR="$DEST" "$@" >"$WORK/$log.log" 2>&1 ||
		fail "make $* failed: $(tail -3 "$WORK/$log.log")"
}

# ---- processes --------------------------------------------------------------

# start_bg NAME CMD...: run CMD in the background, output to $WORK/NAME.log,
# input from $BG_STDIN (default /dev/null).  The redirection must be on the
# background command itself: bash gives a background command /dev/null as
# stdin, whatever the redirections of the function that starts it.
start_bg() {
	local name=$1
	shift
	"$@" <"${BG_STDIN:-/dev/null}" >"$WORK/$name.log" 2>&1 &
	IT_PID[$name]=$!
}

# stop_bg NAME [SIGNAL] [SECONDS]: signal NAME, wait for it (SIGKILL after
# SECONDS, default 5) and set STOP_STATUS to its exit status.
stop_bg() {
	local name=$1 signal=${2:-TERM} seconds=${3:-5} pid deadline
	pid=${IT_PID[$name]:-}
	STOP_STATUS=
	[ -n "$pid" ] || return 0
	kill "-$signal" "$pid" 2>/dev/null || true
	deadline=$((SECONDS + seconds))
	while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	STOP_STATUS=0
	wait "$pid" 2>/dev/null || STOP_STATUS=$?
	unset "IT_PID[$name]"
}

# is_running NAME: the process is alive (not a zombie).
is_running() {
	local pid=${IT_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		[ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]
}

# stop_all [EXCEPT]: SIGTERM to every process (but EXCEPT), SIGKILL to those
# still running 2 s later.
stop_all() {
	local name deadline=$((SECONDS + 2)) except=${1:-}
	for name in "${!IT_PID[@]}"; do
		[ "$name" = "$except" ] || kill -TERM "${IT_PID[$name]}" 2>/dev/null || true
	done
	for name in "${!IT_PID[@]}"; do
		[ "$name" != "$except" ] || continue
		while is_running "$name" && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.1
		done
		stop_bg "$name" KILL 1
	done
}

# wait_port ADDR PORT [SECONDS]: bounded wait until ADDR:PORT is listening.
wait_port() {
	local addr=$1 port=$2 deadline=$((SECONDS + ${3:-10}))
	until ss -Hltn "src $addr:$port" | grep -q .; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# wait_log FILE REGEX [SECONDS]: bounded wait until FILE has a line matching
# the extended REGEX.
wait_log() {
	local file=$1 regex=$2 deadline=$((SECONDS + ${3:-10}))
	until grep -Eq -- "$regex" "$file" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# wait_exit NAME SECONDS: bounded wait until NAME has exited; sets STOP_STATUS.
wait_exit() {
	local name=$1 deadline=$((SECONDS + $2)) pid
	pid=${IT_PID[$name]:-}
	[ -n "$pid" ] || return 0
	while is_running "$name"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
	STOP_STATUS=0
	wait "$pid" 2>/dev/null || STOP_STATUS=$?
	unset "IT_PID[$name]"
}

# count_lines FILE REGEX: number of lines matching (0 when none).
count_lines() {
	grep -Ec -- "$2" "$1" 2>/dev/null || true
}

# ---- files ------------------------------------------------------------------

# render TEMPLATE OUT [VAR=VALUE...]: replace @WORK@, @PKI@ and every @VAR@.
render() {
	local template=$1 out=$2 pair
	local -a expressions=(-e "s|@WORK@|$WORK|g" -e "s|@PKI@|$PKI|g")
	shift 2
	for pair in "$@"; do
		expressions+=(-e "s|@${pair%%=*}@|${pair#*=}|g")
	done
	sed "${expressions[@]}" "$template" >"$out"
	if grep -q '@[A-Z_]*@' "$out"; then
		fail "render $template: unreplaced $(grep -o '@[A-Z_]*@' "$out" | head -1)"
	fi
}

# make_pki: the development PKI in $WORK/pki (tools/dev-certs, or by hand).
make_pki() {
	PKI=$WORK/pki
	if [ -x "$TOP_DIR/tools/dev-certs" ]; then
		"$TOP_DIR/tools/dev-certs" "$PKI" >"$WORK/dev-certs.log" 2>&1 ||
			fail "tools/dev-certs failed"
	else
		make_pki_by_hand "$PKI" >"$WORK/dev-certs.log" 2>&1 || fail "openssl PKI failed"
	fi
	local name
	for name in ca edge.example.test pool1.example.test edge.partner.test rogue-ca \
		rogue-pool1.example.test link-ca; do
		[ -s "$PKI/$name.crt" ] || fail "PKI: $PKI/$name.crt missing"
	done
}

# Same file names as tools/dev-certs: EC P-256 keys, 30 days.
make_pki_by_hand() {
	local dir=$1
	mkdir -p "$dir"
	pki_ca "$dir" ca "sxedge test CA"
	pki_ca "$dir" rogue-ca "rogue test CA"
	pki_ca "$dir" link-ca "link test CA"
	pki_leaf "$dir" edge.example.test ca \
		DNS:edge.example.test,DNS:edge-int.example.test,IP:127.0.0.1,IP:127.0.0.2
	pki_leaf "$dir" pool1.example.test ca DNS:pool1.example.test,IP:127.0.0.10
	pki_leaf "$dir" edge.partner.test ca DNS:edge.partner.test
	pki_leaf "$dir" rogue-pool1.example.test rogue-ca DNS:pool1.example.test,IP:127.0.0.10 \
		pool1.example.test
}

pki_ca() {
	local dir=$1 name=$2 subject=$3
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key"
	openssl req -x509 -new -key "$dir/$name.key" -subj "/CN=$subject" -days 30 \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -out "$dir/$name.crt"
}

pki_leaf() {
	local dir=$1 name=$2 ca=$3 san=$4 common_name=${5:-$2}
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key"
	openssl req -new -key "$dir/$name.key" -subj "/CN=$common_name" -out "$dir/$name.csr"
	printf '%s\n' "subjectAltName=$san" basicConstraints=CA:FALSE \
		keyUsage=digitalSignature,keyEncipherment extendedKeyUsage=serverAuth,clientAuth \
		>"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
		-CAcreateserial -days 30 -extfile "$dir/$name.ext" -out "$dir/$name.crt"
	rm -f "$dir/$name.csr" "$dir/$name.ext"
}

# ---- peers ------------------------------------------------------------------

# start_pool: the Kamailio pool at 127.0.0.10:5061 (log: pool.log), with the
# certificate named by $POOL_CERT (default pool1.example.test).
start_pool() {
	local cert=${POOL_CERT:-pool1.example.test}
	render "$IT_DIR/peers/tls-pool.cfg.in" "$WORK/tls-pool.cfg" POOL_CERT="$cert"
	render "$IT_DIR/peers/kamailio-pool.cfg.in" "$WORK/kamailio-pool.cfg" \
		POOL_ADDR="$POOL_ADDR" POOL_PORT="$POOL_PORT"
	mkdir -p "$WORK/pool-run"
	start_bg pool kamailio -f "$WORK/kamailio-pool.cfg" -DD -E -m 64 -M 8 \
		-Y "$WORK/pool-run" -P "$WORK/pool-run/kamailio.pid"
	wait_port "$POOL_ADDR" "$POOL_PORT" 15 || fail "pool did not listen on $POOL_ADDR:$POOL_PORT"
}

# start_edge: sxedge with sxedge.conf.in (log: edge.log); drain_timeout is
# $DRAIN_TIMEOUT (default 3).
start_edge() {
	render "$IT_DIR/sxedge.conf.in" "$WORK/sxedge.conf" DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-3}"
	start_bg edge "$SXEDGE" -c "$WORK/sxedge.conf"
	wait_log "$WORK/edge.log" 'event=ready' 10 || fail "sxedge did not log event=ready"
	wait_port "$EDGE_ACCESS" "$EDGE_ACCESS_PORT" 5 || fail "sxedge not listening on 443"
}

# edge_status_kb FIELD: the edge's (IT_PID[edge]) /proc status FIELD, in kB.
edge_status_kb() {
	sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/${IT_PID[edge]}/status"
}

# memory_mark: the edge's resident memory now, and its peak reset to it.
memory_mark() {
	echo 5 >"/proc/${IT_PID[edge]}/clear_refs"
	MEMORY_MARK=$(edge_status_kb VmRSS)
}

# memory_check WHAT: neither the peak since memory_mark nor the resident
# memory now is more than MEMORY_SLACK_KB (the test's) above the mark.
memory_check() {
	local peak resident
	peak=$(edge_status_kb VmHWM)
	resident=$(edge_status_kb VmRSS)
	echo "memory $1: mark ${MEMORY_MARK} kB, peak $peak kB, now $resident kB" >>"$WORK/memory.log"
	[ "$((peak - MEMORY_MARK))" -le "$MEMORY_SLACK_KB" ] ||
		fail "$1: the edge's memory peaked at $peak kB, from $MEMORY_MARK kB"
	[ "$((resident - MEMORY_MARK))" -le "$MEMORY_SLACK_KB" ] ||
		fail "$1: the edge holds $resident kB after it, from $MEMORY_MARK kB"
}

# wait_pool_up: bounded wait for the edge's persistent connection to the pool.
wait_pool_up() {
	wait_log "$WORK/edge.log" 'event=pool_up' 10 || fail "no event=pool_up in edge log"
}

# start_tunnel NAME LOCAL_PORT [EDGE_PORT]: stunnel client tunnel NAME from
# 127.0.0.1:LOCAL_PORT (plain TCP) to the edge's access listener (TLS).
start_tunnel() {
	local name=$1 port=$2 edge_port=${3:-$EDGE_ACCESS_PORT}
	render "$IT_DIR/peers/stunnel-client.conf.in" "$WORK/stunnel-$name.conf" \
		ACCEPT="127.0.0.1:$port" CONNECT="$EDGE_ACCESS:$edge_port"
	start_bg "stunnel-$name" stunnel4 "$WORK/stunnel-$name.conf"
	wait_port 127.0.0.1 "$port" 10 || fail "stunnel $name did not listen on $port"
}

# start_sipp NAME SCENARIO LOCAL_PORT TUNNEL_PORT [EXTRA sipp args...]: sipp
# over TCP to the tunnel, one call, bounded (-timeout), no default behaviours
# (-nd: an aborted call must not send its own BYE), messages traced to
# $WORK/NAME.msg.log, errors to NAME.err.log, <log> actions to NAME.act.log
# and statistics to NAME.stat.csv.
start_sipp() {
	local name=$1 scenario=$2 local_port=$3 tunnel_port=$4
	shift 4
	start_bg "$name" timeout 60 sipp "127.0.0.1:$tunnel_port" -t t1 -sf "$IT_DIR/$scenario" \
		-i 127.0.0.1 -p "$local_port" -m 1 -l 1 -nd -nostdin -timeout 30s -timeout_error \
		-recv_timeout 10s -max_recv_loops 1000 -trace_msg -message_file "$WORK/$name.msg.log" \
		-trace_err -error_file "$WORK/$name.err.log" -trace_logs -log_file "$WORK/$name.act.log" \
		-trace_stat -stf "$WORK/$name.stat.csv" \
		"$@"
}

# ---- listeners and connections ----------------------------------------------

# served_certificate ADDR:PORT SERVERNAME: "serial=HEX subject=..." of the
# certificate a NEW TLS connection to ADDR:PORT gets (verified against the
# test CA), or nothing when the handshake fails.
served_certificate() {
	timeout 5 openssl s_client -connect "$1" -servername "$2" -verify_return_error \
		-CAfile "$PKI/ca.crt" </dev/null 2>/dev/null |
		openssl x509 -noout -serial -subject -nameopt compat 2>/dev/null | tr '\n' ' ' |
		sed 's/ $//' || true
}

# certificate_of FILE: the same "serial=HEX subject=..." for a certificate file.
certificate_of() {
	openssl x509 -in "$1" -noout -serial -subject -nameopt compat | tr '\n' ' ' | sed 's/ $//'
}

# port_refused ADDR PORT: a TCP connection to ADDR:PORT is refused (nothing
# listens there).
port_refused() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	! timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' refused "$1" "$2" 2>/dev/null
}

# edge_connections: the edge's (IT_PID[edge]) established TCP connections,
# "LOCAL PEER" one a line, sorted.
edge_connections() {
	ss -Htnp state established |
		awk -v pid="pid=${IT_PID[edge]}," 'index($0, pid) { print $3, $4 }' | sort
}

# ---- SIP clients ------------------------------------------------------------

# sip_request FILE METHOD REQUEST_URI FROM_URI TO_URI [BODY] [HEADER...]:
# writes a request in CRLF form.  sipsak inserts its own Via on top; for
# requests sent with openssl s_client set SIP_VIA to a host:port and a Via is
# written.  The Call-ID is $SIP_CALL_ID when set, else random.
sip_request() {
	local file=$1 method=$2 uri=$3 from=$4 to=$5 body=${6:-} header
	shift 5
	[ "$#" -eq 0 ] || shift
	{
		printf '%s %s SIP/2.0\r\n' "$method" "$uri"
		if [ -n "${SIP_VIA:-}" ]; then
			printf 'Via: SIP/2.0/TLS %s;branch=z9hG4bK-it-%s;rport\r\n' "$SIP_VIA" "$RANDOM$RANDOM"
		fi
		printf 'Max-Forwards: 70\r\n'
		printf 'From: <%s>;tag=%s\r\n' "$from" "$RANDOM$RANDOM"
		printf 'To: <%s>\r\n' "$to"
		printf 'Call-ID: %s\r\n' "${SIP_CALL_ID:-$RANDOM$RANDOM$RANDOM@sxedge-it}"
		printf 'CSeq: 1 %s\r\n' "$method"
		for header in "$@"; do
			printf '%s\r\n' "$header"
		done
		if [ -n "$body" ]; then
			printf 'Content-Type: text/plain\r\n'
		fi
		printf 'Content-Length: %d\r\n\r\n%s' "${#body}" "$body"
	} >"$file"
}

# sipsak_send NAME FILE [PORT] [SIPSAK args...]: send FILE with sipsak over
# TLS to the access listener; sets SIP_STATUS to the final answer's code
# ("none" if no answer), SIPSAK_STATUS to sipsak's exit status, and keeps
# the exchange in $WORK/NAME.out.
sipsak_send() {
	local name=$1 file=$2 port=${3:-$EDGE_ACCESS_PORT} status=0
	shift 2
	[ "$#" -eq 0 ] || shift
	timeout 15 sipsak -f "$file" -L -s sip:edge.example.test -p "$EDGE_ACCESS" -r "$port" -E tls \
		--tls-ca-cert "$PKI/ca.crt" -H 127.0.0.1 -D 10 -vvv "$@" \
		>"$WORK/$name.out" 2>&1 || status=$?
	SIP_STATUS=$(grep -aE '^SIP/2\.0 [0-9]{3}' "$WORK/$name.out" | tail -1 | cut -d' ' -f2 || true)
	SIP_STATUS=${SIP_STATUS:-none}
	SIPSAK_STATUS=$status
}

# sip_options NAME [PORT]: OPTIONS sip:example.test from alice; the pool
# answers "200 Pool OK".
sip_options() {
	sip_request "$WORK/$1.sip" OPTIONS "sip:$DOMAIN" "sip:alice@$DOMAIN" "sip:$DOMAIN"
	sipsak_send "$1" "$WORK/$1.sip" "${2:-$EDGE_ACCESS_PORT}"
}

# expect_options_ok NAME: a good OPTIONS through the edge gets the pool's 200.
expect_options_ok() {
	sip_options "$1"
	if [ "$SIP_STATUS" != 200 ] || ! grep -aq 'Pool OK' "$WORK/$1.out"; then
		fail "good OPTIONS after '$IT_STEP' got '$SIP_STATUS', not the pool's 200"
	fi
}

# tls_open NAME ADDR:PORT INPUT [s_client args...]: a background openssl
# s_client (verifying the server against the test CA) that sends INPUT and
# then reads until the server closes; everything it prints goes to
# $WORK/NAME.log.  Follow with tls_reply and/or tls_closed.
tls_open() {
	local name=$1 target=$2 input=$3
	shift 3
	BG_STDIN=$input start_bg "$name" timeout 60 openssl s_client -connect "$target" -quiet \
		-verify_return_error -CAfile "$PKI/ca.crt" "$@"
}

# tls_reply NAME SECONDS: bounded wait for a SIP status line from the server
# on connection NAME; sets SIP_STATUS (code) or "none" and returns 1.
tls_reply() {
	SIP_STATUS=none
	wait_log "$WORK/$1.log" '^SIP/2\.0 [0-9]{3} ' "$2" || return 1
	SIP_STATUS=$(grep -aE '^SIP/2\.0 [0-9]{3} ' "$WORK/$1.log" | head -1 | cut -d' ' -f2)
}

# tls_closed NAME SECONDS: the server closed connection NAME (s_client
# exited) within SECONDS; STOP_STATUS is s_client's exit status.
tls_closed() {
	wait_exit "$1" "$2"
}

# tls_is_open NAME: connection NAME is still up.
tls_is_open() {
	is_running "$1"
}

# plain_exchange NAME ADDR PORT INPUT SECONDS: plain TCP (no TLS): send
# INPUT, read until the server closes; output in $WORK/NAME.out.  Sets
# PLAIN_STATUS: 124 when the connection was still open after SECONDS.
plain_exchange() {
	PLAIN_STATUS=0
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout "$5" bash -c 'exec 3<>"/dev/tcp/$1/$2" && cat "$3" >&3 && cat <&3' plain "$2" "$3" \
		"$4" >"$WORK/$1.out" 2>&1 || PLAIN_STATUS=$?
}

# wait_count FILE REGEX N SECONDS: bounded wait until FILE has N or more
# lines matching REGEX.
wait_count() {
	local file=$1 regex=$2 count=$3 deadline=$((SECONDS + $4))
	until [ "$(count_lines "$file" "$regex")" -ge "$count" ]; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# ---- DNS ----------------------------------------------------------------------

# dns_srv NAME SERVER: prints "PRIORITY WEIGHT PORT TARGET" per SRV record of
# NAME as the name server at SERVER:53 answers (no dig here: a raw query over
# UDP), or "rcode=N" when the answer is an error.
dns_srv() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import socket, struct, sys

def name(data, at):
    labels = []
    while True:
        size = data[at]
        if size == 0:
            return ".".join(labels), at + 1
        if size >= 0xC0:
            pointer = struct.unpack("!H", data[at:at + 2])[0] & 0x3FFF
            return ".".join(labels + [name(data, pointer)[0]]), at + 2
        labels.append(data[at + 1:at + 1 + size].decode())
        at += 1 + size

query_name = sys.argv[1]
question = b"".join(bytes([len(p)]) + p.encode() for p in query_name.split(".")) + b"\0"
packet = struct.pack("!HHHHHH", 0x5853, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 33, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(2)
sock.sendto(packet, (sys.argv[2], 53))
data = sock.recv(4096)
flags, qd, an = struct.unpack("!HHH", data[2:8])
if flags & 0xF:
    print("rcode=%d" % (flags & 0xF))
    sys.exit(0)
at = 12
for _ in range(qd):
    at = name(data, at)[1] + 4
for _ in range(an):
    at = name(data, at)[1]
    rtype, _, _, size = struct.unpack("!HHIH", data[at:at + 10])
    at += 10
    if rtype == 33:
        priority, weight, port = struct.unpack("!HHH", data[at:at + 6])
        print(priority, weight, port, name(data, at + 6)[0])
    at += size
EOF
}
