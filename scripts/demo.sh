#!/bin/sh
# demo.sh — watch PVE-Op-Network-Rescue rescue a broken WAN, live (`make demo`).
#
# Builds netcheck and hostcheck into a temporary directory, then builds a
# small lab out of three network namespaces on this machine:
#
#   isp    198.51.100.1, 203.0.113.1: "the internet" (documentation addresses)
#   router forwarding + masquerade, Dropbear (its /root is a temp dir), netcheck
#   host   hostcheck, the router's host key pinned
#
# and breaks the WAN twice. Each "minute" of the demo is one cron run of
# netcheck on the router (and every second one, hostcheck on the host), with
# thresholds shrunk so that the whole ladder fits in a minute of real time.
# Every disruptive command is a stand-in that says what it would have done.
# Nothing leaves this machine; everything is removed on exit or Ctrl-C.
#
# Needs: root, Linux with iproute2, nftables, dropbear-bin, and Go to build.
# DEMO_TICK=SECONDS sets the pause between minutes (default 1).
set -eu

die() { printf 'demo.sh: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "needs root for network namespaces: sudo make demo"
for tool in ip nft dropbear dropbearkey dropbearconvert unshare mount go; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool not found (apt-get install iproute2 nftables dropbear-bin util-linux golang)"
done

repo=$(cd "$(dirname "$0")/.." && pwd)
pause=${DEMO_TICK:-1}
p=nrdemo$$
ISP=${p}i
RT=${p}r
HOST=${p}h
GW=10.79.0.1
RLAN=10.79.1.1
T=$(mktemp -d "/tmp/$p.XXXXXX")
dropbear_pid=

cleanup() {
	status=$?
	trap - EXIT INT TERM
	if [ -n "$dropbear_pid" ]; then
		kill "$dropbear_pid" 2>/dev/null || true
		wait "$dropbear_pid" 2>/dev/null || true
	fi
	for ns in "$RT" "$HOST" "$ISP"; do
		# What still runs in our namespaces was started by this demo.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$T"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -t 1 ]; then
	B=$(printf '\033[1m') DIM=$(printf '\033[2m') RED=$(printf '\033[1;31m')
	GRN=$(printf '\033[1;32m') YEL=$(printf '\033[1;33m') CYA=$(printf '\033[1;36m') OFF=$(printf '\033[0m')
else
	B='' DIM='' RED='' GRN='' YEL='' CYA='' OFF=''
fi
say() { printf '%s%s%s\n' "$B" "$*" "$OFF"; }

# --- build --------------------------------------------------------------
say "Building netcheck and hostcheck into $T/bin …"
mkdir -p "$T/bin"
for b in netcheck hostcheck; do
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$T/bin/$b" "./cmd/$b")
done

# --- the lab ------------------------------------------------------------
say "Building the lab: namespaces $ISP (internet), $RT (router), $HOST (host) …"
for ns in "$ISP" "$RT" "$HOST"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add wan netns "$RT" type veth peer name up0 netns "$ISP"
ip link add lan netns "$RT" type veth peer name lan0 netns "$HOST"
ip -n "$ISP" addr add "$GW/30" dev up0
ip -n "$ISP" addr add 198.51.100.1/32 dev lo
ip -n "$ISP" addr add 203.0.113.1/32 dev lo
ip -n "$RT" addr add 10.79.0.2/30 dev wan
ip -n "$RT" addr add "$RLAN/24" dev lan
ip -n "$HOST" addr add 10.79.1.2/24 dev lan0
for pair in "$ISP up0" "$RT wan" "$RT lan" "$HOST lan0"; do
	# shellcheck disable=SC2086 # "namespace device" on purpose
	set -- $pair
	ip -n "$1" link set "$2" up
done
ip -n "$RT" route add default via "$GW"
ip -n "$HOST" route add default via "$RLAN"
ip netns exec "$RT" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' # sysctl, per namespace
ip netns exec "$RT" nft -f - <<EOF
table ip nat {
  chain post {
    type nat hook postrouting priority 100; policy accept;
    oifname "wan" masquerade
  }
}
EOF

# The router's /root (state files, authorized_keys) is a temp dir that
# Dropbear sees as /root inside its own mount namespace.
mkdir -p "$T/root/.ssh" "$T/host"
chmod 700 "$T/root" "$T/root/.ssh"
dropbearkey -t ed25519 -f "$T/dropbear_ed25519_host_key" >/dev/null 2>&1
dropbearkey -t ed25519 -f "$T/client.dropbear" >/dev/null 2>&1
dropbearkey -y -f "$T/client.dropbear" | grep '^ssh-ed25519 ' >"$T/root/.ssh/authorized_keys"
dropbearconvert dropbear openssh "$T/client.dropbear" "$T/host/id_ed25519" >/dev/null 2>&1
chmod 600 "$T/root/.ssh/authorized_keys" "$T/host/id_ed25519"
# shellcheck disable=SC2016 # expanded by the inner sh
ip netns exec "$RT" unshare -m --propagation private sh -c \
	'mount --bind "$1" /root && exec dropbear -F -E -s -r "$2" -p "$3" -P "$4"' \
	sh "$T/root" "$T/dropbear_ed25519_host_key" "$RLAN:22" "$T/dropbear.pid" >"$T/dropbear.log" 2>&1 &
dropbear_pid=$!

# --- stand-ins for the disruptive commands ------------------------------
A=$T/actions.log
: >"$A"
recorder() { # name, what it stands for, shell that does its part in the lab
	printf '#!/bin/sh\necho "%s" >> "%s"\n%s\n' "$2" "$A" "$3" >"$T/$1"
	chmod 755 "$T/$1"
}
recorder L1 "L1_CMD  ifdown wan; sleep 10; ifup wan (redial)" \
	"ip link set wan down; ip link set wan up; ip route replace default via $GW dev wan"
recorder L2 "L2_CMD  /etc/init.d/network restart; /etc/init.d/firewall restart" "exit 0"
recorder L3 "L3_CMD  sync; reboot -f   (the router reboots: its tmpfs RUN_DIR is emptied)" \
	"rm -rf '$T/router-run'/*"
recorder REBOOT "REBOOT_CMD  systemctl reboot   (the host power-cycles: the hung WAN NIC revives, the router VM boots)" \
	"ip netns exec $ISP ip link set up0 up
ip netns exec $RT ip route replace default via $GW dev wan
rm -rf '$T/router-run'/*
p=\$PPID
while [ \"\$p\" -gt 1 ]; do
  if [ \"\$(cat /proc/\$p/comm)\" = hostcheck ]; then (sleep 0.5; kill -TERM \"\$p\") >/dev/null 2>&1 & exit 0; fi
  p=\$(cut -d' ' -f4 /proc/\$p/stat)
done"
recorder FALLBACK "REBOOT_FALLBACK_CMD  reboot" "exit 0"
printf '#!/bin/sh\necho running\n' >"$T/systemctl"
chmod 755 "$T/systemctl"

cat >"$T/router.conf" <<EOF
# The router (OpenWrt) side, thresholds shrunk for the demo.
CHECK_TARGETS=198.51.100.1,203.0.113.1
PROBE_TIMEOUT=500ms
L1_THRESHOLD=1
L2_THRESHOLD=2
L3_THRESHOLD=3
L4_SOS_THRESHOLD=2
SAFE_UPTIME=0
STATE_DIR=$T/root
RUN_DIR=$T/router-run
LOG_FILE=$T/root/network_monitor.log
SYSLOG=0
L1_CMD=$T/L1
L2_CMD=$T/L2
L3_CMD=$T/L3
EOF
cat >"$T/host.conf" <<EOF
# The host (PVE) side.
CHECK_TARGETS=198.51.100.1,203.0.113.1
PROBE_TIMEOUT=500ms
OP_IP=$RLAN
# The demo's router serves no DNS: no DNS_CHECK through it.
DNS_CHECK=
OP_STATE_DIR=/root
SSH_KEY=$T/host/id_ed25519
KNOWN_HOSTS=$T/host/known_hosts
SSH_TIMEOUT=3s
PVE_MARK=$T/host/pve_did_reboot_today
STATE_DIR=$T/host/state
RUN_DIR=$T/host/run
LOG_FILE=$T/host/pve_host_monitor.log
SYSLOG=0
MIN_HOST_UPTIME=0
REBOOT_DELAY=1s
REBOOT_CONFIRM=5s
REBOOT_CMD=$T/REBOOT
REBOOT_FALLBACK_CMD=$T/FALLBACK
SYSTEMCTL=$T/systemctl
EOF
chmod 600 "$T/router.conf" "$T/host.conf"

say "Pinning the router's host key on the host (hostcheck pin -yes) …"
tries=0
until ip netns exec "$HOST" "$T/bin/hostcheck" -config "$T/host.conf" pin -yes >"$T/pin.out" 2>&1; do
	tries=$((tries + 1))
	[ "$tries" -lt 50 ] || { cat "$T/pin.out" "$T/dropbear.log" >&2; die "Dropbear did not answer"; }
	sleep 0.1
done
sed 's/^/  /' "$T/pin.out"

# --- the clock ----------------------------------------------------------
minute=0
shown=0
show_actions() {
	total=$(wc -l <"$A")
	if [ "$total" -gt "$shown" ]; then
		tail -n "$((total - shown))" "$A" | while IFS= read -r line; do
			printf '  %s⚙ ran %s%s\n' "$YEL" "$line" "$OFF"
		done
		shown=$total
	fi
}
tick() {
	minute=$((minute + 1))
	printf '\n%s── minute %d ─────────────────────────────────────────%s\n' "$DIM" "$minute" "$OFF"
	printf '%srouter#%s netcheck -v\n' "$CYA" "$OFF"
	ip netns exec "$RT" "$T/bin/netcheck" -config "$T/router.conf" -v || true
	show_actions
	if [ $((minute % 2)) -eq 0 ]; then
		printf '%shost#%s hostcheck -v\n' "$GRN" "$OFF"
		ip netns exec "$HOST" "$T/bin/hostcheck" -config "$T/host.conf" -v || true
		show_actions
	fi
	sleep "$pause"
}
recovered() { grep -c '【状态恢复】网络已恢复' "$T/root/network_monitor.log" 2>/dev/null || true; }

# --- act 1 ----------------------------------------------------------------
printf '\n%sAct 1: the WAN link drops (a stale PPPoE session). A redial fixes it.%s\n' "$RED" "$OFF"
tick
tick
ip -n "$RT" link set wan down
printf '%s!! fault injected: ip link set wan down (on the router)%s\n' "$RED" "$OFF"
act1=$minute
while [ "$(recovered)" -lt 1 ] && [ "$minute" -lt $((act1 + 6)) ]; do tick; done
act1_took=$((minute - act1))
act1_actions=$(wc -l <"$A")

# --- act 2 ----------------------------------------------------------------
printf '\n%sAct 2: the WAN NIC hangs (passthrough NIC). Only a power cycle of the host revives it.%s\n' "$RED" "$OFF"
ip -n "$ISP" link set up0 down
printf '%s!! fault injected: the line goes dark on the router'"'"'s WAN (carrier lost)%s\n' "$RED" "$OFF"
act2=$minute
while [ "$(recovered)" -lt 2 ] && [ "$minute" -lt $((act2 + 16)) ]; do tick; done
act2_took=$((minute - act2))
tick # the day goes on: the host's mark holds, nothing more happens
tick

# --- summary --------------------------------------------------------------
hostlog=$T/host/pve_host_monitor.log
routerlog=$T/root/network_monitor.log
n_l3=$(grep -c '^L3_CMD' "$A" || true)
n_reboot=$(grep -c '^REBOOT' "$A" || true)
misfires=$(grep -cE '严重错误|回退' "$hostlog" || true)
printf '\n%s══ Summary ══════════════════════════════════════════════%s\n' "$B" "$OFF"
printf 'Act 1  WAN link down:  back after %d minute(s); command(s) run:\n' "$act1_took"
head -n "$act1_actions" "$A" | sed 's/^/         /'
printf 'Act 2  hung WAN NIC:   back after %d minute(s); command(s) run:\n' "$act2_took"
tail -n "+$((act1_actions + 1))" "$A" | sed 's/^/         /'
printf '       router reboots: %d, SOS raised: %s, host reboots: %d (at most one a day)\n' \
	"$n_l3" "$(grep -q '【SOS】' "$routerlog" && echo yes || echo no)" "$n_reboot"
printf '       host mark: %s\n' "$(grep '^date=' "$T/host/pve_did_reboot_today" 2>/dev/null || echo none)"
printf '       grep -E "严重错误|回退" on the host log: %d line(s)\n' "$misfires"
printf 'Logs were %s and %s; the lab is removed now.\n' "$routerlog" "$hostlog"
if [ "$n_reboot" -eq 1 ] && [ "$misfires" -eq 0 ] && [ "$(recovered)" -ge 2 ]; then
	printf '%s✓ the internet is back, and the trail says how.%s\n' "$GRN" "$OFF"
else
	printf '%s✗ the demo did not end as expected; see the output above.%s\n' "$RED" "$OFF"
	exit 1
fi
