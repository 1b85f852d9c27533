# Fake Proxmox `qm` for end-to-end tests (SPEC §13); FakeQM prepends
# D='<state dir>' and VMID='<id>'. One file per field in $D: status
# (running|stopped), qmpstatus, lock, agent (the `agent:` value; absent = no
# key), agent_answers (yes|no), hostpci (config lines), onboot (the
# `onboot:` value; absent = no key), fail_starts (count of next starts that
# fail), stop_hangs (1 = stop blocks), starts, stops, resumes (counters),
# hook-start and hook-stop (run after a start/stop).
# Texts and exit codes: proxmox/qemu-server, see fakeqm.go.
set -u
printf '%s\n' "$*" >>"$D/calls.log"

get() { if [ -f "$D/$1" ]; then cat "$D/$1"; fi; }
put() { printf '%s\n' "$2" >"$D/$1"; }
bump() { n=$(get "$1"); put "$1" $(( ${n:-0} + 1 )); }
die() { printf '%s\n' "$1" >&2; exit 255; }
hook() { if [ -x "$D/hook-$1" ]; then "$D/hook-$1" >/dev/null 2>&1 || true; fi; }

cmd=${1:-}
[ $# -gt 0 ] && shift
if [ "$cmd" = guest ]; then
	sub=${1:-}
	[ $# -gt 0 ] && shift
	cmd="guest-$sub"
fi
id=${1:-}
[ $# -gt 0 ] && shift
[ "$id" = "$VMID" ] || die "Configuration file 'nodes/pve/qemu-server/$id.conf' does not exist"
status=$(get status)
qmpstatus=$(get qmpstatus)
lock=$(get lock)

case "$cmd" in
status)
	if [ "${1:-}" = --verbose ]; then
		echo "cpus: 1"
		[ -n "$lock" ] && echo "lock: $lock"
		echo "maxmem: 536870912"
		echo "name: openwrt"
		[ "$status" = running ] && echo "pid: 4242"
		echo "qmpstatus: $qmpstatus"
		echo "status: $status"
		echo "vmid: $id"
	else
		echo "status: ${qmpstatus:-unknown}"
	fi
	;;
config)
	if [ -f "$D/agent" ]; then echo "agent: $(get agent)"; fi
	echo "cores: 1"
	if [ -f "$D/hostpci" ]; then cat "$D/hostpci"; fi
	[ -n "$lock" ] && echo "lock: $lock"
	echo "memory: 512"
	echo "name: openwrt"
	if [ -f "$D/onboot" ]; then echo "onboot: $(get onboot)"; fi
	;;
start)
	[ "$status" = running ] && die "VM $id already running"
	[ -n "$lock" ] && die "VM is locked ($lock)"
	bump starts
	fails=$(get fail_starts)
	if [ "${fails:-0}" -gt 0 ]; then
		put fail_starts $(( fails - 1 ))
		die "start failed: QEMU exited with code 1"
	fi
	put status running
	put qmpstatus running
	hook start
	;;
stop)
	[ "$status" = running ] || exit 0
	[ -n "$lock" ] && die "VM is locked ($lock)"
	bump stops
	if [ "$(get stop_hangs)" = 1 ]; then exec sleep 3600; fi
	put status stopped
	put qmpstatus stopped
	hook stop
	;;
resume)
	[ "$status" = running ] || die "VM $id not running"
	[ -n "$lock" ] && [ "$lock" != backup ] && die "VM is locked ($lock)"
	bump resumes
	put qmpstatus running
	;;
guest-cmd)
	[ -f "$D/agent" ] || die "No QEMU guest agent configured"
	[ "$status" = running ] || die "VM $id is not running"
	[ "$(get agent_answers)" = yes ] || die "QEMU guest agent is not running"
	;;
*)
	die "fake qm: unknown command '$cmd'"
	;;
esac
exit 0
