# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2034 # globals set here are read by the tests
# xmpplib.sh: helpers for the sxedge XMPP integration tests (real Prosody
# servers, slixmpp clients, two DNS views), sourced after lib.sh and called
# after it_begin, inside the sandbox.
#
# Topology (all loopback, one sandbox):
#   public DNS view   dnsmasq $XMPP_PUBLIC_DNS:53 (log dns-public.log): the
#     internet's records, which sxedge's own resolver and the partner use.
#   internal DNS view dnsmasq $XMPP_INTERNAL_DNS:53 (log dns-internal.log):
#     what the organisation's own server sees, normally only
#     _xmpps-server._tcp.<partner> -> the edge's internal address, port 23456.
#   the partner        Prosody for partner.test at $XMPP_PARTNER_ADDR.
#   the edge           public s2s $XMPP_EDGE_PUBLIC:5269, internal link
#                      $XMPP_EDGE_INTERNAL:$XMPP_LINK_PORT.
#   the inside server  Prosody for example.test at $XMPP_INSIDE_ADDR.
#
# Functions:
#   xmpp_make_pki                 the XMPP PKI in $XMPP_PKI (below)
#   xmpp_leaf NAME CA SAN [CN]    one more certificate in $XMPP_PKI
#   xmpp_start_dns VIEW ADDR SPEC...
#                                 dnsmasq for one view (log dns-VIEW.log); SPEC
#                                 is srv:DOMAIN=ADDR:PORT (_xmpp-server._tcp),
#                                 srvs:DOMAIN=ADDR:PORT (_xmpps-server._tcp,
#                                 XEP-0368) or a:NAME=ADDR; every other *.test
#                                 name is NXDOMAIN.  One SRV record per name.
#   xmpp_srv NAME ADDR            the SRV records of NAME in the view at ADDR
#   xmpp_start_prosody NAME DOMAIN ADDR CERT
#                                 a Prosody (log NAME.log, files in
#                                 $WORK/NAME/) serving DOMAIN on ADDR with
#                                 $XMPP_PKI/CERT.{crt,key}; options below
#   xmpp_register NAME USER [PASSWORD]
#                                 an account on Prosody NAME (default
#                                 password $XMPP_PASSWORD)
#   xmpp_stop NAME                stops Prosody NAME by its pid
#   xmpp_client NAME SERVER USER@DOMAIN ACTION...
#                                 clients/xmpp_client.py in the background
#                                 (log NAME.log), logged in to the Prosody
#                                 named SERVER (its c2s address); see there
#                                 for the actions and the lines it prints
#   xmpp_wait NAME REGEX [SECONDS]
#                                 a line of client NAME matches REGEX
#   xmpp_client_done NAME [SECONDS]
#                                 client NAME exited 0 (fails the test with
#                                 its "error" line otherwise)
#
# xmpp_start_prosody options, as variables set for the call
# (`PROSODY_BIDI=yes xmpp_start_prosody ...`):
#   PROSODY_SECURE_AUTH  true|false    s2s_secure_auth (default true)
#   PROSODY_CAFILE       FILE          the CAs it trusts for s2s (default the
#                                      public CA)
#   PROSODY_DIALBACK     yes|no        mod_dialback loaded (default yes)
#   PROSODY_BIDI         yes|no        mod_s2s_bidi, XEP-0288 (default no)
#   PROSODY_S2S_TLS_PORT PORT          a direct TLS s2s listener (default none)
#   PROSODY_DNS          ADDR          its name server (default public view)
#   PROSODY_REDIRECT     ADDR:PORT     instead of DNS, its own resolver
#                                      answers every SRV look-up with ADDR:PORT
#   PROSODY_C2S_PORT / PROSODY_S2S_PORT  (default 5222 / 5269)
#   PROSODY_S2S_TIMEOUT  SECONDS       s2s_timeout (default 10)
#   PROSODY_EXTRA        LINES         more global options, Lua
# Dialback only: PROSODY_SECURE_AUTH=false and a PROSODY_CAFILE that signed
# neither side's certificate (the rogue CA): EXTERNAL is then never offered.
#
# A test with sxedge between the partner and the inside server, for example:
#   xmpp_make_pki
#   xmpp_start_dns public "$XMPP_PUBLIC_DNS" srv:partner.test=$XMPP_PARTNER_ADDR:5269 \
#       srv:example.test=$XMPP_EDGE_PUBLIC:5269
#   xmpp_start_dns internal "$XMPP_INTERNAL_DNS" srvs:partner.test=$XMPP_EDGE_INTERNAL:23456
#   xmpp_start_prosody partner partner.test "$XMPP_PARTNER_ADDR" partner.test
#   PROSODY_DNS=$XMPP_INTERNAL_DNS PROSODY_CAFILE=$XMPP_PKI/link-ca.crt PROSODY_BIDI=yes \
#       PROSODY_S2S_TLS_PORT=5270 xmpp_start_prosody inside example.test \
#       "$XMPP_INSIDE_ADDR" inside-example.test
#   xmpp_register partner bob; xmpp_register inside alice
#   (sxedge: public certificate example.test, partner CA public-ca, client CA
#   internal-ca, link CA link-ca, name server $XMPP_PUBLIC_DNS, inward
#   $XMPP_INSIDE_ADDR:5270 when the inside server does not negotiate bidi)
#   xmpp_client bob partner bob@partner.test answer "hi alice"
#   xmpp_wait bob '^online'
#   xmpp_client alice inside alice@example.test chat bob@partner.test "hello bob"
#   xmpp_client_done alice; xmpp_client_done bob
#
# The XMPP PKI ($XMPP_PKI, EC P-256, 30 days, tools/dev-certs is not used):
#   public-ca            the internet's CA: partner.test (the partner's
#                        certificate) and example.test (the edge's public one)
#   internal-ca          the organisation's own CA: inside-example.test (CN and
#                        SAN example.test), the inside server's certificate,
#                        which it presents as client certificate on 23456
#   link-ca              the edge's link CA (key and certificate), which only
#                        the inside server trusts; the edge mints partner
#                        certificates with it.  link-partner.test is one such
#                        certificate made here, for stand-ins of the edge.
#   rogue-ca             trusted by nobody: rogue-partner.test (SAN
#                        partner.test) and the dialback-only runs' cafile
#   wrong-partner.test   public CA, SAN wrong.test: a partner whose
#                        certificate does not name its domain
#
# Facts about Prosody 0.12.3 (Debian 12, lua-unbound 1.0.0), checked with
# this file (two Prosodys federating without sxedge, and an inside Prosody
# against a TLS stand-in for the edge on 23456):
# - Start: `/usr/bin/prosody -F --config FILE` with run_as_root = true (never
#   `prosody --version`: no such flag, it starts a server on /etc/prosody).  It
#   listens about 0.15 s after the start; `prosodyctl --config FILE register`
#   takes 0.1 s and works while the server runs.  A slixmpp client is online
#   about 0.4 s after its start (it prints "Using slower stringprep" on
#   stderr: harmless).
# - Resolver: lua-unbound must be installed (Debian only recommends it; without
#   it Prosody falls back to its own resolver, which reads /etc/resolv.conf and
#   ignores the `unbound` table).  `unbound = { resolvconf = false; hoststxt =
#   false; forward = "ADDR"; options = { ["local-zone:"] = "test. transparent" } }`
#   sends every query to ADDR only; without the local-zone, libunbound answers
#   NXDOMAIN for *.test itself (RFC 6761).  Order of look-ups outbound:
#   _xmpps-server._tcp (direct TLS, SNI = the remote domain), then
#   _xmpp-server._tcp, then the domain's A/AAAA on 5269.
# - Resolver override instead of a DNS view (PROSODY_REDIRECT):
#   options = { ["local-zone:"] = "test. redirect"; ["local-data:"] =
#   "test. 60 IN SRV 0 0 23456 127.0.0.2." } answers every SRV look-up under
#   test. with the edge (an IP address as target works).  The zone must be
#   "test.", not ".": libunbound's built-in test. zone is more specific than
#   "." and wins (NXDOMAIN).  Only one local-zone and one local-data fit.
# - Federation with certificates (s2s_secure_auth = true, cafile = the CA that
#   signed the other side): STARTTLS, then SASL EXTERNAL both ways (log lines
#   "SASL EXTERNAL with partner.test succeeded", "Accepting SASL EXTERNAL
#   identity from example.test").  Dialback only (s2s_secure_auth = false,
#   cafile = the rogue CA): STARTTLS still, EXTERNAL never offered, XEP-0220
#   <db:result>/<db:verify> ("verified dialback key... it is valid").  The
#   first message and its answer (streams set up both ways) take 0.1 s with
#   certificates, 0.2 s with dialback; that and a presence subscription each
#   way and a second message 0.2-0.5 s in all.
# - Outgoing s2s connections come from 127.0.0.1, whatever `interfaces` says.
# - Behind an edge (checked against a TLS stand-in on 127.0.0.2:23456 holding
#   a link-CA certificate for partner.test): the inside server connects with
#   SNI partner.test and presents its own certificate (inside-example.test,
#   SAN example.test) as client certificate; TLS 1.3.  It sends first, right
#   after the handshake:
#     <?xml version='1.0'?><stream:stream xmlns='jabber:server'
#     xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'
#     from='example.test' to='partner.test' version='1.0' xml:lang='en' id=''>
#   (attribute order varies).  Offered <mechanisms><mechanism>EXTERNAL
#   </mechanism></mechanisms> it answers <auth mechanism='EXTERNAL'>
#   ZXhhbXBsZS50ZXN0</auth> (base64 of its domain, not "="), restarts the
#   stream after <success/> with the same header, and after the new features
#   (empty is fine) sends the queued stanzas: <message from='alice@example.test/RES'
#   to='bob@partner.test' type='chat' xml:lang='en' id=...>.
# - XEP-0288 (PROSODY_BIDI=yes): only when the features before SASL carry
#   <bidi xmlns='urn:xmpp:features:bidi'/> it sends <bidi xmlns='urn:xmpp:bidi'/>
#   and <auth> in one go; stanzas from partner.test sent back on that stream are
#   then delivered.  Without bidi a stanza from partner.test on its outgoing
#   stream gets <stream:error><not-authorized/> and the stream is closed
#   ("Received a stanza claiming to be from partner.test, over a stream authed
#   for example.test").
# - Inward (no bidi): the inside server with PROSODY_S2S_TLS_PORT accepts direct
#   TLS (SNI example.test) with a link-CA client certificate for partner.test,
#   offers dialback and EXTERNAL, takes <auth mechanism='EXTERNAL'> with
#   base64("partner.test") and delivers bob@partner.test's message.
# - Refusals seen from the inside server: an edge certificate from another CA
#   gets <stream:error><not-authorized/><text>Your server's certificate is not
#   trusted</text> instead of <auth>, and the queued message bounces with
#   remote-server-timeout; a stream the edge closes after the header bounces
#   with remote-server-not-found.

XMPP_PUBLIC_DNS=127.0.0.53
XMPP_INTERNAL_DNS=127.0.0.54
XMPP_EDGE_PUBLIC=127.0.0.1
XMPP_EDGE_INTERNAL=127.0.0.2
XMPP_LINK_PORT=23456
XMPP_PARTNER_ADDR=127.0.0.20
XMPP_INSIDE_ADDR=127.0.0.11
XMPP_PARTNER=partner.test
XMPP_DOMAIN=example.test
XMPP_PASSWORD=secret

declare -A PROSODY_DIR=() PROSODY_ADDR=() PROSODY_DOMAIN=() PROSODY_C2S=()

# ---- PKI ----------------------------------------------------------------------

# xmpp_make_pki: the XMPP PKI above.  Also sets PKI (render's @PKI@) to it
# unless make_pki has set it already.
xmpp_make_pki() {
	XMPP_PKI=$WORK/xmpp-pki
	PKI=${PKI:-$XMPP_PKI}
	mkdir -p "$XMPP_PKI"
	{
		pki_ca "$XMPP_PKI" public-ca "public test CA"
		pki_ca "$XMPP_PKI" internal-ca "internal test CA"
		pki_ca "$XMPP_PKI" link-ca "sxedge link CA"
		pki_ca "$XMPP_PKI" rogue-ca "rogue test CA"
		pki_leaf "$XMPP_PKI" partner.test public-ca DNS:partner.test
		pki_leaf "$XMPP_PKI" example.test public-ca DNS:example.test
		pki_leaf "$XMPP_PKI" inside-example.test internal-ca DNS:example.test example.test
		pki_leaf "$XMPP_PKI" link-partner.test link-ca DNS:partner.test partner.test
		pki_leaf "$XMPP_PKI" rogue-partner.test rogue-ca DNS:partner.test partner.test
		pki_leaf "$XMPP_PKI" wrong-partner.test public-ca DNS:wrong.test wrong.test
	} >>"$WORK/xmpp-certs.log" 2>&1 || fail "openssl: XMPP certificates failed"
	local name
	for name in public-ca internal-ca link-ca rogue-ca partner.test example.test \
		inside-example.test link-partner.test rogue-partner.test wrong-partner.test; do
		[ -s "$XMPP_PKI/$name.crt" ] || fail "PKI: $XMPP_PKI/$name.crt missing"
	done
}

# xmpp_leaf NAME CA SAN [CN]: $XMPP_PKI/NAME.{crt,key} signed by CA.
xmpp_leaf() {
	pki_leaf "$XMPP_PKI" "$@" >>"$WORK/xmpp-certs.log" 2>&1 ||
		fail "openssl: certificate $1 failed"
}

# ---- DNS ----------------------------------------------------------------------

# xmpp_start_dns VIEW ADDR SPEC...: see the top of this file.  SRV targets are
# made-up names (s2s-N.DOMAIN) with A records, since a certificate names the
# XMPP domain, never the SRV target.
xmpp_start_dns() {
	local view=$1 addr=$2 spec kind domain target count=0
	shift 2
	local -a records=()
	for spec in "$@"; do
		kind=${spec%%:*}
		domain=${spec#*:}
		domain=${domain%%=*}
		target=${spec#*=}
		count=$((count + 1))
		case $kind in
		srv | srvs)
			local service=_xmpp-server._tcp
			[ "$kind" = srv ] || service=_xmpps-server._tcp
			records+=(--srv-host="$service.$domain,s2s-$count.$domain,${target##*:},0,0"
				--host-record="s2s-$count.$domain,${target%:*}")
			;;
		a) records+=(--host-record="$domain,$target") ;;
		*) fail "xmpp_start_dns: bad record '$spec'" ;;
		esac
	done
	start_bg "dns-$view" dnsmasq --keep-in-foreground --no-resolv --no-hosts --user=root \
		--listen-address="$addr" --port=53 --bind-interfaces \
		--pid-file="$WORK/dnsmasq-$view.pid" --log-facility=- --log-queries --local=/test/ \
		"${records[@]}"
	local deadline=$((SECONDS + 10))
	until ss -Hlun "src $addr:53" | grep -q .; do
		[ "$SECONDS" -lt "$deadline" ] || fail "dnsmasq $view did not listen on $addr:53"
		sleep 0.1
	done
}

# xmpp_srv NAME ADDR: "PRIORITY WEIGHT PORT TARGET" per SRV record of NAME in
# the view at ADDR, or "rcode=N".
xmpp_srv() {
	dns_srv "$1" "$2"
}

# ---- Prosody ------------------------------------------------------------------

# xmpp_start_prosody NAME DOMAIN ADDR CERT: see the top of this file.  Waits
# until every port it was given listens.
xmpp_start_prosody() {
	local name=$1 domain=$2 addr=$3 cert=$4 dir modules="" unbound
	local c2s=${PROSODY_C2S_PORT:-5222} s2s=${PROSODY_S2S_PORT:-5269}
	local tls_port=${PROSODY_S2S_TLS_PORT:-}
	dir=$WORK/$name
	mkdir -p "$dir/data" "$dir/certs"
	cp "$XMPP_PKI/$cert.crt" "$dir/certs/$domain.crt"
	cp "$XMPP_PKI/$cert.key" "$dir/certs/$domain.key"
	[ "${PROSODY_DIALBACK:-yes}" = no ] || modules+='"dialback"; '
	[ "${PROSODY_BIDI:-no}" = no ] || modules+='"s2s_bidi"; '
	if [ -n "${PROSODY_REDIRECT:-}" ]; then
		# libunbound takes one local-zone and one local-data this way
		unbound="options = { [\"local-zone:\"] = \"test. redirect\"; [\"local-data:\"] = \"test. 60 IN SRV 0 0 ${PROSODY_REDIRECT##*:} ${PROSODY_REDIRECT%:*}.\" }"
	else
		# libunbound answers NXDOMAIN for *.test itself (RFC 6761) unless told
		unbound="forward = \"${PROSODY_DNS:-$XMPP_PUBLIC_DNS}\"; options = { [\"local-zone:\"] = \"test. transparent\" }"
	fi
	printf '%s\n' "${PROSODY_EXTRA:-}" >"$dir/extra.cfg.lua"
	render "$IT_DIR/peers/prosody.cfg.lua.in" "$dir/prosody.cfg.lua" DIR="$dir" ADDR="$addr" \
		C2S_PORT="$c2s" S2S_PORT="$s2s" S2S_TLS_PORT="$tls_port" MODULES="$modules" \
		SECURE_AUTH="${PROSODY_SECURE_AUTH:-true}" S2S_TIMEOUT="${PROSODY_S2S_TIMEOUT:-10}" \
		UNBOUND="$unbound" CAFILE="${PROSODY_CAFILE:-$XMPP_PKI/public-ca.crt}" DOMAIN="$domain"
	PROSODY_DIR[$name]=$dir
	PROSODY_ADDR[$name]=$addr
	PROSODY_DOMAIN[$name]=$domain
	PROSODY_C2S[$name]=$c2s
	# -F: in the foreground, so the pid start_bg keeps is Prosody's own
	start_bg "$name" /usr/bin/prosody -F --config "$dir/prosody.cfg.lua"
	wait_port "$addr" "$c2s" 10 || fail "Prosody $name did not listen on $addr:$c2s"
	wait_port "$addr" "$s2s" 5 || fail "Prosody $name did not listen on $addr:$s2s"
	[ -z "$tls_port" ] || wait_port "$addr" "$tls_port" 5 ||
		fail "Prosody $name did not listen on $addr:$tls_port"
}

# xmpp_register NAME USER [PASSWORD]: USER@<NAME's domain> exists.  prosodyctl
# writes the account to the data folder directly (the running server reads it
# from there).
xmpp_register() {
	local name=$1 user=$2 password=${3:-$XMPP_PASSWORD}
	prosodyctl --config "${PROSODY_DIR[$name]}/prosody.cfg.lua" register "$user" \
		"${PROSODY_DOMAIN[$name]}" "$password" >>"$WORK/prosodyctl.log" 2>&1 ||
		fail "prosodyctl register $user@${PROSODY_DOMAIN[$name]} failed"
}

xmpp_stop() {
	stop_bg "$1" TERM 5
}

# ---- clients ------------------------------------------------------------------

# xmpp_client NAME SERVER JID ACTION...: see the top of this file.  TLS is
# verified against the CA in $XMPP_CLIENT_CA when set, else not at all.
xmpp_client() {
	local name=$1 server=$2 jid=$3
	shift 3
	local -a ca=()
	[ -z "${XMPP_CLIENT_CA:-}" ] || ca=(--ca "$XMPP_CLIENT_CA")
	start_bg "$name" timeout 90 /usr/bin/python3 "$IT_DIR/clients/xmpp_client.py" \
		--jid "$jid" --password "${XMPP_CLIENT_PASSWORD:-$XMPP_PASSWORD}" \
		--server "${PROSODY_ADDR[$server]}:${PROSODY_C2S[$server]}" \
		--timeout "${XMPP_CLIENT_TIMEOUT:-20}" "${ca[@]}" "$@"
}

# xmpp_wait NAME REGEX [SECONDS]: bounded wait for a line of client NAME.
xmpp_wait() {
	wait_log "$WORK/$1.log" "$2" "${3:-20}" ||
		fail "client $1: no line matching '$2' within ${3:-20}s ($(grep -a '^error' "$WORK/$1.log" | head -1))"
}

# xmpp_client_done NAME [SECONDS]: client NAME finished its actions (exit 0).
xmpp_client_done() {
	wait_exit "$1" "${2:-30}" || fail "client $1 did not finish within ${2:-30}s"
	[ "$STOP_STATUS" = 0 ] ||
		fail "client $1 exited $STOP_STATUS: $(grep -a '^error' "$WORK/$1.log" | head -1)"
}
