#!/bin/sh
# install.sh: install, upgrade, migrate to or remove PVE-Op-Network-Rescue
# (SPEC §10). POSIX sh: it runs under busybox ash on OpenWrt and dash on
# Proxmox VE. Every step checks before it changes anything, so running it
# twice changes nothing. `sh install.sh -h` lists the options.
#
# The cron lines below must stay equal to crontab.Lines in the Go package
# github.com/pve-op/network-rescue/crontab, and the merge below must give the
# same bytes as crontab.Merge(crontab.RemoveLegacy(old), role); the Go tests
# in internal/installtest run this script and compare.

MARKER='# netrescue'
ROUTER_CRON1='* * * * * /usr/bin/netcheck # netrescue'
ROUTER_CRON2='0 0 * * * /usr/bin/midnight-reset # netrescue'
HOST_CRON1='*/5 * * * * /usr/local/bin/hostcheck # netrescue'
HOST_CRON2='@reboot /usr/local/bin/hostcheck boot # netrescue'
HOST_CRON3='0 0 * * * /usr/local/bin/midnight-reset # netrescue'

DEFAULT_ROUTER_IP=192.168.10.1

usage() {
	cat <<'EOF'
Usage: sh install.sh [options]

Installs PVE-Op-Network-Rescue on this machine: the router side (OpenWrt:
netcheck every minute, midnight-reset (a link to netcheck) at 0:00) or the host side (Proxmox VE:
hostcheck every 5 minutes and at boot, midnight-reset at 0:00), with their
cron lines and a default /etc/netrescue.conf. It migrates from the original
scripts (network_monitor, pve_host_monitor.sh) and keeps their state and logs.

Options:
  --role router|host   which side this machine is (default: router when
                       /etc/openwrt_release exists, host when pveversion runs)
  --bin DIR            where the built binaries are (default: dist/linux-ARCH/
                       of this repository for this machine, else `go build`)
  --prefix DIR         install into the tree DIR instead of / (tests, packages)
  --router IP          host only: also set up the router over SSH: pin its host
                       key, install this host's key (one password prompt) and
                       install the router side there
  --router-bin DIR     with --router: binaries for the router's architecture
  --router-prefix DIR  with --router: install into DIR on the router
  --port N             with --router: the router's SSH port (default 22)
  -y, --yes            with --router: pin the router's host key without asking
  --uninstall          remove our cron lines and binaries; keep config, logs, state
  --purge              with --uninstall: also remove config, logs and state
  --dry-run            print every step, change nothing
  -h, --help           show this help

Environment: NETRESCUE_ROUTER_PREFIX, NETRESCUE_ROUTER_BIN, NETRESCUE_SSH_PORT
(as the flags), NETRESCUE_SSH_OPTS (more ssh options, e.g. "-F FILE -i KEY").

Examples:
  on the OpenWrt router:  sh install.sh
  on the Proxmox host:    sh install.sh --router 192.168.10.1
  remove (keep logs):     sh install.sh --uninstall
EOF
}

# ---------------------------------------------------------------- messages

SUMMARY=
WARNINGS=0

say() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
# note WHAT: a line of the final summary (a change, or under --dry-run
# one that would have been made).
note() {
	if [ "$DRY" = 1 ]; then
		note_raw "(would have) $*"
	else
		note_raw "$*"
	fi
}
note_raw() {
	SUMMARY="$SUMMARY
    - $*"
}

# warn MESSAGE [FIX]
warn() {
	printf 'warning: %s\n' "$1" >&2
	[ $# -lt 2 ] || printf '  fix: %s\n' "$2" >&2
	WARNINGS=$((WARNINGS + 1))
	note_raw "warning: $1"
}

# die MESSAGE [FIX [STATUS]]: a failure, with what fixes it.
die() {
	printf 'error: %s\n' "$1" >&2
	[ $# -lt 2 ] || [ -z "$2" ] || printf '  fix: %s\n' "$2" >&2
	exit "${3:-1}"
}

usage_error() {
	printf 'error: %s\n' "$1" >&2
	printf '  fix: see sh %s -h\n' "$0" >&2
	exit 2
}

# shq VALUE: VALUE quoted for a shell command line (as is when it is safe).
shq() {
	case $1 in
	'' | *[!A-Za-z0-9_./=:@+-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

# ---------------------------------------------------------------- arguments

ROLE=
BIN=
PREFIX=
ROUTER=
ROUTER_BIN=${NETRESCUE_ROUTER_BIN:-}
ROUTER_PREFIX=${NETRESCUE_ROUTER_PREFIX:-}
SSH_PORT=${NETRESCUE_SSH_PORT:-}
SSH_OPTS=${NETRESCUE_SSH_OPTS:-}
UNINSTALL=0
PURGE=0
DRY=0
YES=0

# need OPTION VALUE-COUNT: an option that takes a value got one.
need() {
	[ "$2" -ge 2 ] || usage_error "$1 needs a value"
}

while [ $# -gt 0 ]; do
	case $1 in
	--role) need "$1" $# && ROLE=$2 && shift ;;
	--role=*) ROLE=${1#*=} ;;
	--bin) need "$1" $# && BIN=$2 && shift ;;
	--bin=*) BIN=${1#*=} ;;
	--prefix) need "$1" $# && PREFIX=$2 && shift ;;
	--prefix=*) PREFIX=${1#*=} ;;
	--router) need "$1" $# && ROUTER=$2 && shift ;;
	--router=*) ROUTER=${1#*=} ;;
	--router-bin) need "$1" $# && ROUTER_BIN=$2 && shift ;;
	--router-bin=*) ROUTER_BIN=${1#*=} ;;
	--router-prefix) need "$1" $# && ROUTER_PREFIX=$2 && shift ;;
	--router-prefix=*) ROUTER_PREFIX=${1#*=} ;;
	--port) need "$1" $# && SSH_PORT=$2 && shift ;;
	--port=*) SSH_PORT=${1#*=} ;;
	-y | --yes) YES=1 ;;
	--uninstall) UNINSTALL=1 ;;
	--purge) PURGE=1 ;;
	--dry-run | -n) DRY=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown option $1" ;;
	esac
	shift
done

case $ROLE in
'' | router | host) ;;
*) usage_error "--role must be router or host, not $ROLE" ;;
esac
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || usage_error "--purge only goes with --uninstall"
case $SSH_PORT in
'') ;;
*[!0-9]*) usage_error "--port must be a number, not $SSH_PORT" ;;
esac
case $ROUTER in
*[!A-Za-z0-9.:_-]*) usage_error "--router must be an IP address or host name, not $ROUTER" ;;
esac

# ---------------------------------------------------------------- where we are

SELF=
REPO=
SCRIPT_DIR=
REL_ARCH=
REL_VERSION=
if [ -f "$0" ]; then
	SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
	SELF=$SCRIPT_DIR/$(basename "$0")
	REPO=$(dirname "$SCRIPT_DIR")
	# An unpacked release archive (make release): RELEASE beside the script
	# names its version and architecture, and the binaries are beside it.
	if [ -f "$SCRIPT_DIR/RELEASE" ]; then
		REL_ARCH=$(sed -n 's/^arch=//p' "$SCRIPT_DIR/RELEASE")
		REL_VERSION=$(sed -n 's/^version=//p' "$SCRIPT_DIR/RELEASE")
		REPO=
	fi
fi

IS_ROOT=0
[ "$(id -u)" != 0 ] || IS_ROOT=1

if [ -n "$PREFIX" ]; then
	case $PREFIX in
	/*) ;;
	*) PREFIX=$(pwd)/$PREFIX ;;
	esac
	while :; do
		case $PREFIX in
		*/) PREFIX=${PREFIX%/} ;;
		*) break ;;
		esac
	done
fi
if [ -z "$PREFIX" ] && [ "$IS_ROOT" = 0 ] && [ "$DRY" = 0 ]; then
	die "installing into / needs root" "run it as root (sudo sh $0 ...), or pass --prefix DIR"
fi

if [ -z "$ROLE" ]; then
	if [ -f "$PREFIX/etc/openwrt_release" ]; then
		ROLE=router
	elif command -v pveversion >/dev/null 2>&1; then
		ROLE=host
	else
		die "cannot tell which side this machine is: there is no $PREFIX/etc/openwrt_release (OpenWrt) and no pveversion command (Proxmox VE)" \
			"pass --role router on the OpenWrt router or --role host on the Proxmox host" 2
	fi
fi
if [ -n "$ROUTER" ] && [ "$ROLE" != host ]; then
	usage_error "--router is for the Proxmox host (--role host); on the router run install.sh without it"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/netrescue-install.XXXXXX") ||
	die "cannot create a temporary directory in ${TMPDIR:-/tmp}" "check that it exists and is writable, or set TMPDIR"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

CR=$(printf '\r')
TAB=$(printf '\t')
CONF=$PREFIX/etc/netrescue.conf
if [ "$ROLE" = router ]; then
	BINDIR=$PREFIX/usr/bin
	# One binary: midnight-reset is a symlink to netcheck (busybox style).
	BIN_NAMES=netcheck
	STATUS_BIN=$BINDIR/netcheck
else
	BINDIR=$PREFIX/usr/local/bin
	BIN_NAMES="hostcheck midnight-reset"
	STATUS_BIN=$BINDIR/hostcheck
fi
if [ "$DRY" = 1 ]; then
	say "Dry run: nothing will be changed"
fi
say "Role: $ROLE side, into ${PREFIX:-/}"

# The host package (netrescue_X_ARCH.deb, SPEC §10) puts the host side in
# /usr/bin and /etc/cron.d/netrescue. Then this script installs no second
# copy (every rescue would run twice): it only pairs the router.
PKG=0
# pkg_unpacked: dpkg has the package's files on disk (installed, or
# unpacked and not yet configured); removed with its config kept is not.
pkg_unpacked() {
	if command -v dpkg-query >/dev/null 2>&1; then
		pu_admin=--admindir=$PREFIX/var/lib/dpkg
		[ -n "$PREFIX" ] || pu_admin=--admindir=/var/lib/dpkg
		case $(dpkg-query "$pu_admin" -W -f '${db:Status-Status}' netrescue 2>/dev/null) in
		installed | half-configured | unpacked | triggers-awaited | triggers-pending) return 0 ;;
		esac
		return 1
	fi
	[ -f "$PREFIX/var/lib/dpkg/info/netrescue.list" ]
}
if [ "$ROLE" = host ] && [ -e "$PREFIX/usr/bin/hostcheck" ] && pkg_unpacked; then
	PKG=1
	STATUS_BIN=$PREFIX/usr/bin/hostcheck
fi

# ---------------------------------------------------------------- files

# run COMMAND...: run a command that changes the system, or show it (--dry-run).
run() {
	if [ "$DRY" = 1 ]; then
		info "would run: $*"
		return 0
	fi
	"$@"
}

# same_file A B: both exist with the same bytes.
same_file() {
	[ -f "$1" ] && [ -f "$2" ] || return 1
	if command -v cmp >/dev/null 2>&1; then
		cmp -s "$1" "$2"
		return
	fi
	[ "$(md5sum <"$1")" = "$(md5sum <"$2")" ]
}

# mode_is FILE MODE: FILE has MODE (600, 644 or 755).
mode_is() {
	case $2 in
	600) want=-rw------- ;;
	644) want=-rw-r--r-- ;;
	755) want=-rwxr-xr-x ;;
	*) return 1 ;;
	esac
	# shellcheck disable=SC2012 # ls -ln is the portable way (no stat on OpenWrt)
	got=$(ls -ln "$1" 2>/dev/null | cut -c1-10)
	[ "$got" = "$want" ]
}

# mkdirp DIR: create DIR (and its parents) unless it exists.
mkdirp() {
	[ -d "$1" ] && return 0
	if [ "$DRY" = 1 ]; then
		info "would create $1/"
		return 0
	fi
	mkdir -p "$1" || die "cannot create $1" "check that its parent is writable and the disk is not full (df -h)"
}

# put SRC DST MODE: make DST a root-owned copy of SRC with MODE, replaced in
# one rename. Returns 1 when DST was already so (nothing done).
put() {
	if same_file "$1" "$2" && mode_is "$2" "$3"; then
		return 1
	fi
	if [ "$DRY" = 1 ]; then
		info "would write $2 (mode $3)"
		return 0
	fi
	mkdirp "$(dirname "$2")"
	put_tmp=$2.netrescue-new
	if cp "$1" "$put_tmp" && chmod "$3" "$put_tmp" &&
		{ [ "$IS_ROOT" = 0 ] || chown 0:0 "$put_tmp"; } && mv -f "$put_tmp" "$2"; then
		return 0
	fi
	rm -f "$put_tmp"
	die "cannot write $2" "check that $(dirname "$2") is writable and has free space (df -h; on OpenWrt the overlay: df -h /overlay)"
}

# remove FILE: delete FILE if it exists, saying so.
remove() {
	[ -e "$1" ] || [ -L "$1" ] || return 1
	if [ "$DRY" = 1 ]; then
		info "would remove $1"
		return 0
	fi
	rm -f "$1" || die "cannot remove $1" "check the permissions of $(dirname "$1")"
	info "removed $1"
}

# conf_get KEY DEFAULT: KEY's value in the config file, else DEFAULT.
conf_get() {
	cg=
	if [ -f "$CONF" ]; then
		cg=$(sed -n "s/^[ $TAB]*\(export[ $TAB]*\)\{0,1\}$1[ $TAB]*=[ $TAB]*//p" "$CONF" | tail -n 1)
	fi
	case $cg in
	\"*) cg=${cg#\"} && cg=${cg%%\"*} ;;
	\'*) cg=${cg#\'} && cg=${cg%%\'*} ;;
	*)
		cg=${cg%% #*}
		cg=${cg%%"$TAB"#*}
		;;
	esac
	while :; do
		case $cg in
		*" " | *"$TAB" | *"$CR") cg=${cg%?} ;;
		*) break ;;
		esac
	done
	printf '%s\n' "${cg:-$2}"
}

# ---------------------------------------------------------------- crontab

# is_ours LINE: LINE ends in the marker, trailing blanks and CR aside (as
# crontab.IsOurs).
is_ours() {
	io=$1
	while :; do
		case $io in
		*" " | *"$TAB" | *"$CR") io=${io%?} ;;
		*) break ;;
		esac
	done
	case $io in
	*"$MARKER") return 0 ;;
	esac
	return 1
}

# is_legacy LINE: an active cron line of the original scripts (as
# crontab.IsLegacy).
is_legacy() {
	il=$1
	while :; do
		case $il in
		" "* | "$TAB"*) il=${il#?} ;;
		*) break ;;
		esac
	done
	case $il in
	'' | '#'*) return 1 ;;
	esac
	is_ours "$1" && return 1
	case $1 in
	*network_monitor* | *pve_host_monitor.sh* | *pve_did_reboot_today* | *net_rb_count* | *net_cooling_ts* | *SOS_SYSTEM*) return 0 ;;
	esac
	return 1
}

our_lines() {
	if [ "$ROLE" = router ]; then
		printf '%s\n' "$ROUTER_CRON1" "$ROUTER_CRON2"
	else
		printf '%s\n' "$HOST_CRON1" "$HOST_CRON2" "$HOST_CRON3"
	fi
}

# cron_edit MODE <OLD >NEW, byte for byte except for the lines it drops:
#   merge    our stale lines out, ours in at the first of them or at the end
#            (crontab.Merge)
#   remove   our lines out (crontab.Remove)
#   unlegacy the original scripts' lines out (crontab.RemoveLegacy)
#   legacy   print only the original scripts' lines (crontab.Legacy)
cron_edit() {
	ce_inserted=0
	ce_prev_eol=1
	while :; do
		ce_eol=1
		if ! IFS= read -r ce_line; then
			[ -n "$ce_line" ] || break
			ce_eol=0
		fi
		ce_keep=1
		case $1 in
		remove) is_ours "$ce_line" && ce_keep=0 ;;
		unlegacy) is_legacy "$ce_line" && ce_keep=0 ;;
		legacy)
			ce_keep=0
			is_legacy "$ce_line" && printf '%s\n' "$ce_line"
			;;
		merge)
			if is_ours "$ce_line"; then
				ce_keep=0
				if [ "$ce_inserted" = 0 ]; then
					our_lines
					ce_inserted=1
				fi
			fi
			;;
		esac
		if [ "$ce_keep" = 1 ]; then
			if [ "$ce_eol" = 1 ]; then
				printf '%s\n' "$ce_line"
			else
				printf '%s' "$ce_line"
			fi
			ce_prev_eol=$ce_eol
		fi
		[ "$ce_eol" = 1 ] || break
	done
	if [ "$1" = merge ]; then
		[ "$ce_prev_eol" = 1 ] || printf '\n'
		[ "$ce_inserted" = 1 ] || our_lines
	fi
}

if [ "$ROLE" = router ]; then
	CRONFILE=$PREFIX/etc/crontabs/root
elif [ -n "$PREFIX" ]; then
	CRONFILE=$PREFIX/var/spool/cron/crontabs/root
else
	CRONFILE=
fi

cron_where() {
	if [ -n "$CRONFILE" ]; then
		printf '%s\n' "$CRONFILE"
	else
		printf 'root'"'"'s crontab (crontab -l)\n'
	fi
}

# cron_read >FILE: the current crontab, empty when there is none.
cron_read() {
	if [ -n "$CRONFILE" ]; then
		[ ! -f "$CRONFILE" ] || cat "$CRONFILE"
		return
	fi
	command -v crontab >/dev/null 2>&1 ||
		die "the crontab command is missing" "install cron: apt-get install cron"
	# "no crontab for root" is an empty crontab.
	crontab -l 2>/dev/null || true
}

# cron_write FILE: make FILE the crontab. Returns 1 when it already was.
cron_write() {
	if [ -n "$CRONFILE" ]; then
		put "$1" "$CRONFILE" 600
		return
	fi
	cron_read >"$WORK/cron.now"
	if same_file "$1" "$WORK/cron.now"; then
		return 1
	fi
	if [ "$DRY" = 1 ]; then
		info "would run: crontab - (with the lines above)"
		return 0
	fi
	crontab - <"$1" || die "crontab - refused the new crontab" "check the cron service: systemctl status cron"
}

# cron_step install|uninstall: merge or remove our lines (and migrate the
# original scripts' lines away). Sets CRON_CHANGED.
cron_step() {
	CRON_CHANGED=0
	say "Cron lines in $(cron_where)"
	cron_read >"$WORK/cron.old"
	if [ "$1" = install ]; then
		cron_edit legacy <"$WORK/cron.old" >"$WORK/cron.legacy"
		if [ -s "$WORK/cron.legacy" ]; then
			info "removing the original scripts' cron lines:"
			while IFS= read -r l; do
				info "  - $l"
			done <"$WORK/cron.legacy"
			note "removed the original scripts' cron lines from $(cron_where)"
		fi
		cron_edit unlegacy <"$WORK/cron.old" | cron_edit merge >"$WORK/cron.new"
	else
		cron_edit remove <"$WORK/cron.old" >"$WORK/cron.new"
	fi
	if cron_write "$WORK/cron.new"; then
		CRON_CHANGED=1
		if [ "$1" = install ]; then
			info "our lines are now:"
			our_lines | while IFS= read -r l; do info "  $l"; done
			note "cron lines merged into $(cron_where)"
		else
			info "removed our lines (marked '$MARKER'); other lines untouched"
			note "cron lines removed from $(cron_where)"
		fi
	else
		if [ "$1" = install ]; then
			info "already in place, nothing to change"
		else
			info "none of our lines there, nothing to change"
		fi
	fi
}

# restart_cron: make busybox crond on OpenWrt read the new crontab.
restart_cron() {
	[ "$ROLE" = router ] || return 0
	if [ "$CRON_CHANGED" = 0 ]; then
		return 0
	fi
	say "Restarting cron"
	if [ -n "$PREFIX" ]; then
		info "would run: /etc/init.d/cron enable; /etc/init.d/cron restart (not under --prefix)"
		return 0
	fi
	if [ ! -x /etc/init.d/cron ]; then
		warn "/etc/init.d/cron is missing, so the new cron lines may not run" \
			"install busybox crond (opkg install busybox) or restart your cron daemon by hand"
		return 0
	fi
	run /etc/init.d/cron enable
	run /etc/init.d/cron restart ||
		warn "/etc/init.d/cron restart failed" "run it by hand and check: logread | grep cron"
}

# ---------------------------------------------------------------- binaries

# ARCH_PROBE prints what a machine's binaries must be built for; it runs here
# with sh -c and on the router over SSH, so both read it the same way.
ARCH_PROBE=$(
	cat <<'EOF'
echo "machine=${NETRESCUE_UNAME_M:-$(uname -m)}"
# GOARM=7 needs VFPv3 (SPEC §10): the kernel lists it in Features.
if grep -Eqw 'vfpv3|vfpv3d16' "${NETRESCUE_CPUINFO:-/proc/cpuinfo}" 2>/dev/null; then echo vfpv3=yes; else echo vfpv3=no; fi
a=
if [ -r /etc/openwrt_release ]; then
	a=$(sed -n "s/^DISTRIB_ARCH=['\"]*\([^'\"]*\).*/\1/p" /etc/openwrt_release)
fi
echo "distrib=$a"
b=$(head -c 6 /bin/sh 2>/dev/null | tail -c 1)
if [ "$b" = "$(printf '\002')" ]; then echo endian=big; else echo endian=little; fi
EOF
)

# map_arch PROBE-OUTPUT-FILE: the dist/linux-ARCH name (amd64, arm64, armv7,
# armv5, mips, mipsle); returns 1 for a machine we build nothing for.
map_arch() {
	ma_m=$(sed -n 's/^machine=//p' "$1")
	ma_d=$(sed -n 's/^distrib=//p' "$1")
	ma_e=$(sed -n 's/^endian=//p' "$1")
	case $ma_m in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7* | armv8l)
		# An ARMv7 without VFPv3 dies of SIGILL on the armv7 build.
		if [ "$(sed -n 's/^vfpv3=//p' "$1")" = yes ]; then echo armv7; else echo armv5; fi
		;;
	armv5* | armv6*) echo armv5 ;;
	mips64*) return 1 ;;
	mips*)
		case $ma_d in
		mipsel* | mipsle*) echo mipsle ;;
		mips_* | mips) echo mips ;;
		*)
			if [ "$ma_e" = big ]; then
				echo mips
			else
				echo mipsle
			fi
			;;
		esac
		;;
	*) return 1 ;;
	esac
}

# has_bins DIR NAME...: DIR holds every NAME.
has_bins() {
	hb_dir=$1
	shift
	[ -n "$hb_dir" ] && [ -d "$hb_dir" ] || return 1
	for hb_n; do
		[ -f "$hb_dir/$hb_n" ] || return 1
	done
}

# resolve_bins EXPLICIT-DIR ARCH WHAT NAME...: sets RESOLVED to a directory
# holding every NAME for linux-ARCH: EXPLICIT-DIR, else dist/linux-ARCH/ of
# this repository, else a `go build` of it.
resolve_bins() {
	rb_dir=$1 rb_arch=$2 rb_flag=$3
	shift 3
	if [ -n "$rb_dir" ]; then
		has_bins "$rb_dir" "$@" ||
			die "$rb_dir does not hold $* (for linux-$rb_arch)" \
				"build them (make dist) and pass the directory holding them: $rb_flag dist/linux-$rb_arch"
		RESOLVED=$(cd "$rb_dir" && pwd)
		return
	fi
	if [ -n "$REL_ARCH" ]; then
		# This archive's binaries, or those of the archive of the same
		# release for rb_arch unpacked beside it (a router of another kind).
		for rb_try in "$SCRIPT_DIR" "$(dirname "$SCRIPT_DIR")/netrescue-$REL_VERSION-linux-$rb_arch"; do
			if [ "$(sed -n 's/^arch=//p' "$rb_try/RELEASE" 2>/dev/null)" = "$rb_arch" ] && has_bins "$rb_try" "$@"; then
				RESOLVED=$(cd "$rb_try" && pwd)
				return
			fi
		done
	fi
	if [ -n "$REPO" ] && has_bins "$REPO/dist/linux-$rb_arch" "$@"; then
		RESOLVED=$REPO/dist/linux-$rb_arch
		return
	fi
	if [ -n "$REPO" ] && [ -f "$REPO/go.mod" ] && command -v go >/dev/null 2>&1; then
		if [ "$DRY" = 1 ]; then
			info "would build $* for linux-$rb_arch with go build in $REPO"
			RESOLVED=
			return
		fi
		say "Building $* for linux-$rb_arch with Go"
		rb_out=$WORK/build-$rb_arch
		mkdir -p "$rb_out"
		rb_goarch=$rb_arch rb_goarm='' rb_gomips=''
		case $rb_arch in
		armv7) rb_goarch=arm rb_goarm=7 ;;
		armv5) rb_goarch=arm rb_goarm=5 ;;
		mips | mipsle) rb_gomips=softfloat ;;
		esac
		for rb_n; do
			(cd "$REPO" && CGO_ENABLED=0 GOOS=linux GOARCH=$rb_goarch GOARM=$rb_goarm GOMIPS=$rb_gomips \
				go build -trimpath -ldflags='-s -w' -o "$rb_out/$rb_n" "./cmd/$rb_n") ||
				die "go build ./cmd/$rb_n failed (output above)" "fix the build, or build elsewhere with make dist and pass $rb_flag DIR"
		done
		RESOLVED=$rb_out
		return
	fi
	rb_msg="no binaries for linux-$rb_arch: no $rb_flag given"
	rb_fix="run make dist on a machine with Go and copy dist/ next to scripts/, or pass $rb_flag DIR"
	if [ -n "$REL_ARCH" ]; then
		rb_msg="$rb_msg, and $SCRIPT_DIR is the release archive for linux-$REL_ARCH"
		[ "$REL_ARCH" != "$rb_arch" ] || rb_msg="$rb_msg, but it does not hold $*"
		rb_fix="download netrescue-$REL_VERSION-linux-$rb_arch.tar.gz and unpack it beside this one, or pass $rb_flag DIR"
	else
		[ -z "$REPO" ] || rb_msg="$rb_msg, $REPO/dist/linux-$rb_arch/ does not hold $*"
		rb_msg="$rb_msg, and Go is not installed to build them"
	fi
	if [ "$DRY" = 1 ]; then
		warn "$rb_msg" "$rb_fix"
		RESOLVED=
		return
	fi
	if [ "${RESOLVE_SOFT:-0}" = 1 ]; then
		RESOLVE_WHY=$rb_msg
		return 1
	fi
	die "$rb_msg" "$rb_fix"
}

# LOCAL_ARCH: this machine's dist/linux-ARCH name, empty when we build
# nothing for it.
sh -c "$ARCH_PROBE" >"$WORK/arch.local"
LOCAL_ARCH=$(map_arch "$WORK/arch.local") || LOCAL_ARCH=

install_bins() {
	say "Binaries into $BINDIR"
	if [ -z "$SRC_BIN" ]; then
		info "would install: $BIN_NAMES"
		return
	fi
	info "from $SRC_BIN"
	mkdirp "$BINDIR"
	for ib_n in $BIN_NAMES; do
		if put "$SRC_BIN/$ib_n" "$BINDIR/$ib_n" 755; then
			[ "$DRY" = 1 ] || info "installed $BINDIR/$ib_n"
			note "installed $BINDIR/$ib_n"
		else
			info "$BINDIR/$ib_n is up to date"
		fi
	done
	[ "$ROLE" != router ] || link_reset
}

# link_reset: on the router midnight-reset is netcheck run under that name,
# a symlink busybox style, so the router carries one binary (SPEC §10). A
# separate midnight-reset binary of an earlier install is replaced.
link_reset() {
	lr_path=$BINDIR/midnight-reset
	if [ -L "$lr_path" ] && [ "$(readlink "$lr_path")" = netcheck ]; then
		info "$lr_path -> netcheck is up to date"
		return
	fi
	lr_what="linked $lr_path -> netcheck"
	[ ! -e "$lr_path" ] || [ -L "$lr_path" ] || lr_what="$lr_what (replaced the separate midnight-reset binary: netcheck is both now)"
	if [ "$DRY" = 1 ]; then
		info "would link $lr_path -> netcheck"
		note "$lr_what"
		return
	fi
	lr_tmp=$lr_path.netrescue-new
	rm -f "$lr_tmp"
	if ln -s netcheck "$lr_tmp" && mv -f "$lr_tmp" "$lr_path"; then
		info "$lr_what"
		note "$lr_what"
		return
	fi
	rm -f "$lr_tmp"
	die "cannot link $lr_path to netcheck" "check that $BINDIR is writable and has free space (df -h /overlay)"
}

remove_bins() {
	say "Removing binaries from $BINDIR"
	rbn_any=0
	rbn_names=$BIN_NAMES
	[ "$ROLE" != router ] || rbn_names="$rbn_names midnight-reset"
	for rbn_n in $rbn_names; do
		if remove "$BINDIR/$rbn_n"; then
			rbn_any=1
			note "removed $BINDIR/$rbn_n"
		fi
	done
	[ "$rbn_any" = 1 ] || info "none installed"
}

# ---------------------------------------------------------------- config

router_config() {
	cat <<'EOF'
# /etc/netrescue.conf: PVE-Op-Network-Rescue, router side (OpenWrt).
#
# Every setting is commented out, so the built-in default shown applies.
# To change one, delete the "# " in front of it and edit the value.
# Format: KEY=value, optionally in 'single' or "double" quotes. Durations are
# written 90s, 1h30m or as bare seconds.
# Check this file and the whole setup with:  netcheck status
# See when each rescue step would fire with: netcheck plan

# Probing. The first reply from any target means the internet is up.
# (CHECK_IP, the original script's name, is accepted too.)
# CHECK_TARGETS=223.5.5.5,119.29.29.29,1.1.1.1,8.8.8.8
# host:port list; a TCP connect counts as up too, for networks that drop ping.
# CHECK_TCP=
# PROBE_TIMEOUT=3s

# The ladder, counted in failed minutes in a row: L1 restarts the WAN
# interface, L2 restarts network and firewall, L3 reboots the router.
# L1_THRESHOLD=2
# L2_THRESHOLD=5
# L3_THRESHOLD=10
# Reboots in one day after which the router raises SOS and asks the Proxmox
# host for help, or a profile: conservative (15), balanced (10), aggressive (5).
# L4_SOS_THRESHOLD=10
# PROFILE=
# No reboot while the router has been up for less than this.
# SAFE_UPTIME=600
# Cooling: the first COOLING_FREE_REBOOTS reboots of a day are free, then
# each one waits COOLING_STEP longer than the one before, up to COOLING_MAX.
# COOLING_FREE_REBOOTS=6
# COOLING_STEP=1h
# COOLING_MAX=3h
# How long the internet must stay up before the reboot count is reset.
# RECOVERY_STABLE=30m
# The netifd interface (of /etc/config/network) that the default L1_CMD
# redials and status checks with ifstatus.
# WAN_IFACE=wan
# IFSTATUS=/sbin/ifstatus
# The commands of each step, run as /bin/sh -c (an explicit L1_CMD wins
# over WAN_IFACE).
# L1_CMD="/sbin/ifstatus wan >/dev/null 2>&1 || { echo 'Interface wan not found: set WAN_IFACE' >&2; exit 1; }; /sbin/ifdown wan; /bin/sleep 10; /sbin/ifup wan"
# L2_CMD='/etc/init.d/network restart; /etc/init.d/firewall restart'
# L3_CMD='/bin/sync; /sbin/reboot -f'
# Run when the host asks for it (netcheck assist dns): restarts the DNS
# forwarder, which the router itself cannot see dead.
# DNS_CMD='/etc/init.d/dnsmasq restart'
# The next hop pinged on a failed run: auto (the default route's gateway,
# or the peer of a point-to-point WAN such as pppoe-wan), off, or an IP
# address. While it answers, the outage is the ISP's: L1 and L2 still run,
# but no router reboot and no SOS.
# WAN_GATEWAY=auto

# Files. The state files and the log are the original scripts' own.
# STATE_DIR=/root
# RUN_DIR=/tmp/netrescue
# LOG_FILE=/root/network_monitor.log
# LOG_MAX_BYTES=256KiB
# SYSLOG=1
# 1: decide and log (lines marked 【演练】) but run no command.
# DRY_RUN=0
# A command run once per transition (down, up, l1, l2, l3, sos ...) with
# NETRESCUE_EVENT, NETRESCUE_DETAIL and NETRESCUE_OUTAGE_SECONDS set.
# ON_EVENT_CMD=
EOF
}

host_config() {
	cat <<'EOF'
# /etc/netrescue.conf: PVE-Op-Network-Rescue, host side (Proxmox VE).
#
# Every setting is commented out, so the built-in default shown applies.
# To change one, delete the "# " in front of it and edit the value.
# Format: KEY=value, optionally in 'single' or "double" quotes. Durations are
# written 90s, 1h30m or as bare seconds.
# Check this file and the whole setup with:  hostcheck status
# Rehearse a rescue safely with:             hostcheck drill

# The OpenWrt router and how to reach it over SSH (key only, pinned host key).
# OP_IP=192.168.10.1
# OP_SSH_PORT=22
# OP_SSH_USER=root
# SSH_KEY=/root/.ssh/id_ed25519
# KNOWN_HOSTS=/etc/netrescue/known_hosts
# SSH_TIMEOUT=10s
# Where the router keeps its state files (SOS_SYSTEM, net_rb_count).
# OP_STATE_DIR=/root

# Probing. The first reply from any target means the internet is up.
# (TARGET_IP, the original script's name, is accepted too.)
# CHECK_TARGETS=223.5.5.5,119.29.29.29,1.1.1.1,8.8.8.8
# CHECK_TCP=
# PROBE_TIMEOUT=3s

# The router VM: when set, a hung router VM is cold-restarted (at most once a
# day), and a restart of the VM is tried before a reboot of the host.
# VM_ID=
# VM_RESTART_FIRST=1
# ROUTER_HUNG_AFTER=20m
# VM_START_MAX=3
# A running VM with no SSH, no LAN ping and a silent guest agent is hung
# after VM_HUNG_AFTER; a cold restart stops it with qm stop --timeout.
# VM_HUNG_AFTER=10m
# VM_STOP_TIMEOUT=30s

# Rebooting the host (at most once a day).
# PVE_MARK=/root/pve_did_reboot_today
# MIN_HOST_UPTIME=600
# REBOOT_DELAY=10s
# REBOOT_CMD='/usr/bin/systemctl reboot'
# REBOOT_FALLBACK_CMD=/usr/sbin/reboot
# REBOOT_CONFIRM=30s
# Reboot the host only in this daily window, e.g. 1-6 or 22-5 (empty: any time).
# HOST_REBOOT_HOURS=

# Files. The log is the original script's own.
# STATE_DIR=/var/lib/netrescue
# RUN_DIR=/run/netrescue
# LOG_FILE=/var/log/pve_host_monitor.log
# LOG_MAX_BYTES=1MiB
# SYSLOG=1
# 1: decide and log (lines marked 【演练】) but run no command.
# DRY_RUN=0
# Notifications (Bark, ServerChan, PushPlus, Telegram, ntfy or a JSON webhook).
# NOTIFY_URL=
# A command run once per transition (down, up, vm-start, host-reboot ...) with
# NETRESCUE_EVENT, NETRESCUE_DETAIL and NETRESCUE_OUTAGE_SECONDS set.
# ON_EVENT_CMD=
# A dead man's switch pinged while the internet is up (healthchecks.io, an
# Uptime Kuma push URL), at most once per HEARTBEAT_EVERY (whole minutes).
# HEARTBEAT_URL=
# HEARTBEAT_EVERY=5m
# Prometheus metrics for node_exporter's textfile collector, e.g.
# /var/lib/prometheus/node-exporter/netrescue.prom
# METRICS_FILE=
# Where Proxmox's tools are (VM actions, shutdown detection, quorum guard).
# QM=/usr/sbin/qm
# SYSTEMCTL=/usr/bin/systemctl
# PVECM=/usr/bin/pvecm
EOF
	# A router that is not at the default address or port needs saying so.
	if [ -n "$ROUTER" ] && [ "$ROUTER" != "$DEFAULT_ROUTER_IP" ]; then
		printf '\n# Set by install.sh --router.\nOP_IP=%s\n' "$ROUTER"
	fi
	if [ -n "$SSH_PORT" ] && [ "$SSH_PORT" != 22 ]; then
		printf '\n# Set by install.sh --port.\nOP_SSH_PORT=%s\n' "$SSH_PORT"
	fi
}

config_step() {
	say "Configuration $CONF"
	if [ -e "$CONF" ]; then
		info "kept your existing file"
		if [ "$IS_ROOT" = 1 ]; then
			# shellcheck disable=SC2012 # ls -ln is the portable way
			cs_ls=$(ls -ln "$CONF")
			cs_perm=$(printf '%s\n' "$cs_ls" | cut -c1-10)
			cs_uid=$(printf '%s\n' "$cs_ls" | awk '{print $3}')
			case $cs_perm in
			?????w* | ????????w*)
				warn "$CONF is writable by group or others, so the binaries will refuse it" \
					"chmod go-w ${CONF#"$PREFIX"}"
				;;
			esac
			[ "$cs_uid" = 0 ] ||
				warn "$CONF is owned by uid $cs_uid, not root, so the binaries will refuse it" \
					"chown root:root ${CONF#"$PREFIX"}"
		fi
		if [ -n "$ROUTER" ]; then
			cs_ip=$(conf_get OP_IP "$DEFAULT_ROUTER_IP")
			[ "$cs_ip" = "$ROUTER" ] ||
				warn "$CONF sets the router to OP_IP=$cs_ip, but --router is $ROUTER" \
					"set OP_IP=$ROUTER in ${CONF#"$PREFIX"}"
		fi
		return
	fi
	if [ "$ROLE" = router ]; then
		router_config >"$WORK/conf"
	else
		host_config >"$WORK/conf"
	fi
	put "$WORK/conf" "$CONF" 600
	[ "$DRY" = 1 ] || info "wrote the defaults, all commented out (mode 0600)"
	note "wrote the default ${CONF} (edit it to change a setting)"
}

# ---------------------------------------------------------------- router extras

SYSUPGRADE=$PREFIX/etc/sysupgrade.conf

# sysupgrade_step add|remove PATH...: keep PATHs across OpenWrt firmware
# upgrades (/etc/sysupgrade.conf), or stop doing so.
sysupgrade_step() {
	su_mode=$1
	shift
	say "Firmware upgrades keep our files ($SYSUPGRADE)"
	if [ -f "$SYSUPGRADE" ]; then
		cp "$SYSUPGRADE" "$WORK/sysup"
	else
		: >"$WORK/sysup"
	fi
	su_changed=0
	for su_p; do
		if [ "$su_mode" = add ]; then
			grep -qxF "$su_p" "$WORK/sysup" && continue
			if [ -s "$WORK/sysup" ] && [ -n "$(tail -c 1 "$WORK/sysup")" ]; then
				printf '\n' >>"$WORK/sysup"
			fi
			printf '%s\n' "$su_p" >>"$WORK/sysup"
			info "adding $su_p"
		else
			grep -qxF "$su_p" "$WORK/sysup" || continue
			grep -vxF "$su_p" "$WORK/sysup" >"$WORK/sysup.tmp"
			mv "$WORK/sysup.tmp" "$WORK/sysup"
			info "removing $su_p"
		fi
		su_changed=1
	done
	if [ "$su_changed" = 1 ]; then
		put "$WORK/sysup" "$SYSUPGRADE" 644 || true
		if [ "$su_mode" = add ]; then
			note "listed our files in $SYSUPGRADE"
		else
			note "unlisted our files in $SYSUPGRADE"
		fi
	else
		info "nothing to change"
	fi
}

# ---------------------------------------------------------------- migration

# kept_files FILE...: tell which of the original scripts' files stay.
kept_files() {
	for kf; do
		if [ -e "$PREFIX$kf" ]; then
			info "kept $PREFIX$kf"
			note "kept the original script's $kf"
		fi
	done
}

migrate_router() {
	mr_svc=$PREFIX/etc/init.d/network_monitor
	mr_logic=$PREFIX/usr/bin/network_monitor_logic.sh
	[ -e "$mr_svc" ] || [ -e "$mr_logic" ] || return 0
	say "Migrating from the original network_monitor service"
	if [ -z "$PREFIX" ]; then
		if [ -x "$mr_svc" ]; then
			run "$mr_svc" stop || warn "$mr_svc stop failed" "stop it by hand: /etc/init.d/network_monitor stop"
			run "$mr_svc" disable || warn "$mr_svc disable failed" "remove its link: rm -f /etc/rc.d/S*network_monitor"
		fi
	else
		info "would run: /etc/init.d/network_monitor stop; /etc/init.d/network_monitor disable (not under --prefix)"
		for mr_l in "$PREFIX"/etc/rc.d/[SK][0-9]*network_monitor; do
			remove "$mr_l" || true
		done
	fi
	remove "$mr_svc" || true
	remove "$mr_logic" || true
	note "stopped and removed the original network_monitor service"
	kept_files /root/net_rb_count /root/net_cooling_ts /root/SOS_SYSTEM /root/network_monitor.log
}

migrate_host() {
	mh_old=$PREFIX/root/pve_host_monitor.sh
	mh_pids=
	if [ -z "$PREFIX" ]; then
		if command -v pgrep >/dev/null 2>&1; then
			mh_pids=$(pgrep -f 'pve_host_monitor[.]sh' | tr '\n' ' ')
		fi
	fi
	[ -e "$mh_old" ] || [ -n "$mh_pids" ] || return 0
	say "Migrating from the original pve_host_monitor.sh"
	if [ -n "$PREFIX" ]; then
		info "would stop its running loop: kill \$(pgrep -f pve_host_monitor.sh) (not under --prefix)"
	elif [ -n "$mh_pids" ]; then
		# shellcheck disable=SC2086 # one argument per PID
		run kill $mh_pids || warn "could not stop the old loop (PIDs $mh_pids)" "kill $mh_pids"
	fi
	remove "$mh_old" || true
	note "stopped and removed the original pve_host_monitor.sh"
	kept_files /root/pve_did_reboot_today /var/log/pve_host_monitor.log
}

# ---------------------------------------------------------------- host: SSH

# host_ssh_key [find]: set HOST_KEY to the key hostcheck uses (under
# PREFIX); create an ed25519 key when there is none, unless told to find only.
host_ssh_key() {
	hk_cfg=$(conf_get SSH_KEY /root/.ssh/id_ed25519)
	HOST_KEY=$PREFIX$hk_cfg
	if [ "$hk_cfg" = /root/.ssh/id_ed25519 ] && [ ! -f "$HOST_KEY" ] && [ -f "$PREFIX/root/.ssh/id_rsa" ]; then
		HOST_KEY=$PREFIX/root/.ssh/id_rsa
	fi
	[ "${1:-}" != find ] || return 0
	say "SSH key for the router"
	if [ -f "$HOST_KEY" ]; then
		info "using $HOST_KEY"
		return
	fi
	command -v ssh-keygen >/dev/null 2>&1 ||
		die "ssh-keygen is missing" "apt-get install openssh-client"
	if [ "$DRY" = 1 ]; then
		info "would run: ssh-keygen -t ed25519 -N '' -f $HOST_KEY"
		return
	fi
	mkdirp "$(dirname "$HOST_KEY")"
	chmod 700 "$(dirname "$HOST_KEY")"
	ssh-keygen -q -t ed25519 -N '' -C "netrescue@$(uname -n)" -f "$HOST_KEY" </dev/null ||
		die "ssh-keygen could not create $HOST_KEY" "check that $(dirname "$HOST_KEY") is writable"
	info "created $HOST_KEY"
	note "created the SSH key $HOST_KEY"
}

# rssh ARGS...: ssh to the router with the pinned host key and our key.
rssh() {
	# shellcheck disable=SC2086 # NETRESCUE_SSH_OPTS is a list of options
	ssh -o UserKnownHostsFile="$R_KH" -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes -o ConnectTimeout=15 \
		-p "$R_PORT" -i "$HOST_KEY" -l "$R_USER" $SSH_OPTS "$@"
}

router_setup_vars() {
	R_PORT=${SSH_PORT:-$(conf_get OP_SSH_PORT 22)}
	R_USER=$(conf_get OP_SSH_USER root)
	R_KH=$PREFIX$(conf_get KNOWN_HOSTS /etc/netrescue/known_hosts)
	R_HOSTPAT=$ROUTER
	[ "$R_PORT" = 22 ] || R_HOSTPAT="[$ROUTER]:$R_PORT"
	R_PREFIX=$ROUTER_PREFIX
	while :; do
		case $R_PREFIX in
		*/) R_PREFIX=${R_PREFIX%/} ;;
		*) break ;;
		esac
	done
}

# pin_router_key: read the router's host key, show its fingerprint and pin
# it into KNOWN_HOSTS after a yes (or --yes); nothing to ask when the same
# key is pinned already.
pin_router_key() {
	say "Router host key for $R_HOSTPAT, pinned in $R_KH"
	if [ "$DRY" = 1 ]; then
		info "would run: ssh-keyscan -p $R_PORT -t ed25519 $ROUTER, show its fingerprint and pin it"
		return
	fi
	for pk_t in ssh-keyscan ssh-keygen ssh; do
		command -v "$pk_t" >/dev/null 2>&1 || die "$pk_t is missing" "apt-get install openssh-client"
	done
	ssh-keyscan -T 10 -p "$R_PORT" -t ed25519 "$ROUTER" >"$WORK/scan" 2>"$WORK/scan.err"
	if ! grep -q '^[^#]' "$WORK/scan"; then
		ssh-keyscan -T 10 -p "$R_PORT" -t ecdsa,rsa "$ROUTER" >"$WORK/scan" 2>>"$WORK/scan.err"
	fi
	pk_line=$(grep '^[^#]' "$WORK/scan" | head -n 1)
	if [ -z "$pk_line" ]; then
		pk_why=$(grep -v '^#' "$WORK/scan.err" | tail -n 1)
		die "cannot read the SSH host key of $ROUTER port $R_PORT${pk_why:+ ($pk_why)}" \
			"check that the router is on and that $ROUTER is its LAN address (ping $ROUTER), and that Dropbear listens on port $R_PORT (on the router: uci show dropbear)"
	fi
	printf '%s\n' "$pk_line" >"$WORK/pin"
	pk_fp=$(ssh-keygen -lf "$WORK/pin" | head -n 1)
	info "the router presents: $pk_fp"
	pk_key=$(printf '%s\n' "$pk_line" | awk '{print $2 " " $3}')
	pk_state=absent
	if [ -f "$R_KH" ]; then
		pk_state=$(awk -v h="$R_HOSTPAT" -v k="$pk_key" '
			{ n = split($1, a, ","); for (i = 1; i <= n; i++) if (a[i] == h) { if ($2 " " $3 == k) same = 1; else other = 1 } }
			END { if (same) print "same"; else if (other) print "other"; else print "absent" }' "$R_KH")
	fi
	if [ "$pk_state" = same ]; then
		info "already pinned"
		return
	fi
	if [ "$pk_state" = other ]; then
		warn "the router's host key changed since it was pinned in $R_KH (was the router reinstalled?)" \
			"if you did not reinstall or reset the router, stop and find out why before answering yes"
	fi
	if [ "$YES" = 0 ]; then
		if [ ! -t 0 ]; then
			die "cannot ask whether to trust the router's host key: no terminal" \
				"compare the fingerprint above with the router's (on the router: dropbearkey -y -f /etc/dropbear/dropbear_ed25519_host_key) and re-run with --yes"
		fi
		printf 'Is this your router'"'"'s key? Compare it on the router with\n  dropbearkey -y -f /etc/dropbear/dropbear_ed25519_host_key\nPin it? [y/N] '
		read -r pk_ans || pk_ans=
		case $pk_ans in
		y | Y | yes | YES | Yes) ;;
		*) die "the router's host key was not accepted; nothing was changed on the router" "check the fingerprint on the router, then run this again" ;;
		esac
	fi
	if [ -f "$R_KH" ]; then
		awk -v h="$R_HOSTPAT" '{ n = split($1, a, ","); for (i = 1; i <= n; i++) if (a[i] == h) next; print }' "$R_KH" >"$WORK/kh"
	else
		: >"$WORK/kh"
	fi
	printf '%s\n' "$pk_line" >>"$WORK/kh"
	mkdirp "$(dirname "$R_KH")"
	put "$WORK/kh" "$R_KH" 644 || true
	info "pinned"
	note "pinned the router's host key ($pk_fp) in $R_KH"
}

# REMOTE_KEY appends $k (set in front of it) to the router's authorized keys
# once; the output of ARCH_PROBE follows it in the same session.
REMOTE_KEY=$(
	cat <<'EOF'
set -f
set -- $k
if [ -d /etc/dropbear ]; then
	f=/etc/dropbear/authorized_keys
else
	mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh" || exit 1
	f=$HOME/.ssh/authorized_keys
fi
if grep -qF "$1 $2" "$f" 2>/dev/null; then
	echo "key=present $f"
else
	if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >>"$f"; fi
	printf '%s\n' "$k" >>"$f" && chmod 600 "$f" && echo "key=added $f" || exit 1
fi
set +f
EOF
)

# router_key_and_arch: one SSH session (the one password prompt) installs our
# public key on the router and reads its architecture into ROUTER_ARCH.
router_key_and_arch() {
	say "This host's key on the router (asks for the router's root password once, if the key is not there yet)"
	[ -f "$HOST_KEY.pub" ] ||
		die "$HOST_KEY.pub is missing" "recreate it: ssh-keygen -y -f ${HOST_KEY#"$PREFIX"} > ${HOST_KEY#"$PREFIX"}.pub"
	rk_pub=$(head -n 1 "$HOST_KEY.pub")
	if ! rssh "$ROUTER" "k=$(shq "$rk_pub")
$REMOTE_KEY
$ARCH_PROBE" >"$WORK/arch.router"; then
		die "cannot log in to $R_USER@$ROUTER port $R_PORT to install this host's key" \
			"check the router's root password (set one on the router with: passwd), or add the key by hand: cat ${HOST_KEY#"$PREFIX"}.pub | ssh $R_USER@$ROUTER 'cat >> /etc/dropbear/authorized_keys'"
	fi
	case $(sed -n 's/^key=\([a-z]*\).*/\1/p' "$WORK/arch.router") in
	added)
		info "added $(sed -n 's/^key=added //p' "$WORK/arch.router")"
		note "installed this host's key on the router"
		;;
	*) info "already there" ;;
	esac
	ROUTER_ARCH=$(map_arch "$WORK/arch.router") ||
		die "the router's machine ($(sed -n 's/^machine=//p' "$WORK/arch.router")) is not one we build for (amd64, arm64, armv7, armv5, mips, mipsle)" \
			"build the router binaries for it and pass --router-bin DIR"
	info "router architecture: linux-$ROUTER_ARCH"
}

# router_stream NAME DIR: send DIR/NAME to the router's /usr/bin in one
# rename; an identical binary is left alone.
router_stream() {
	rs_d=$R_PREFIX/usr/bin
	rs_new=$(shq "$rs_d/$1.new")
	rs_dst=$(shq "$rs_d/$1")
	rs_out=$(rssh -o BatchMode=yes "$ROUTER" "mkdir -p $(shq "$rs_d") && cat > $rs_new && if cmp -s $rs_new $rs_dst 2>/dev/null; then rm -f $rs_new; echo same; else chmod 755 $rs_new && mv -f $rs_new $rs_dst && echo updated; fi" <"$2/$1") ||
		die "cannot copy $1 to the router's $rs_d" \
			"check free space on the router (df -h /overlay) and that key login works: ssh -i ${HOST_KEY#"$PREFIX"} $R_USER@$ROUTER true"
	case $rs_out in
	same) info "$rs_d/$1 is up to date" ;;
	*)
		info "copied $rs_d/$1"
		note "copied $1 to the router's $rs_d"
		;;
	esac
}

# router_run_install ARGS...: stream this script to the router and run it
# there with ARGS.
router_run_install() {
	rri_args=--role\ router
	for rri_a; do
		rri_args="$rri_args $(shq "$rri_a")"
	done
	[ -z "$R_PREFIX" ] || rri_args="$rri_args --prefix $(shq "$R_PREFIX")"
	say "Router side: install.sh $rri_args on $ROUTER (its output follows)"
	rssh -o BatchMode=yes "$ROUTER" "f=\$(mktemp /tmp/netrescue-install.XXXXXX) && cat > \"\$f\" && sh \"\$f\" $rri_args; rc=\$?; rm -f \"\$f\"; exit \$rc" <"$SELF" ||
		die "the router side of the install failed (its messages are above)" \
			"fix what it says, then run this again; or run install.sh on the router itself"
}

deploy_router() {
	[ -n "$SELF" ] ||
		die "cannot find install.sh itself to send to the router" "run it from a file: sh /path/to/install.sh --router $ROUTER"
	router_setup_vars
	pin_router_key
	if [ "$UNINSTALL" = 1 ]; then
		if [ "$DRY" = 1 ]; then
			info "would run install.sh --role router --uninstall on $ROUTER over SSH"
			return
		fi
		if [ "$PURGE" = 1 ]; then
			router_run_install --uninstall --purge
		else
			router_run_install --uninstall
		fi
		note "uninstalled the router side on $ROUTER"
		return
	fi
	if [ "$DRY" = 1 ]; then
		info "would install this host's key on $ROUTER over SSH (one password prompt) and read its architecture"
		info "would copy netcheck to $R_PREFIX/usr/bin on $ROUTER and run install.sh --role router there (it links midnight-reset to netcheck)"
		return
	fi
	router_key_and_arch
	rd_bin=$ROUTER_BIN
	if [ -z "$rd_bin" ] && [ -n "$BIN" ] && [ "$ROUTER_ARCH" = "$LOCAL_ARCH" ]; then
		rd_bin=$BIN
	fi
	if [ "$PKG" = 1 ]; then
		# The package carries the host side only: without the router's
		# binary at hand, pairing is all this run does.
		RESOLVE_SOFT=1
		if ! resolve_bins "$rd_bin" "$ROUTER_ARCH" --router-bin netcheck; then
			warn "the router side was not installed on $ROUTER: $RESOLVE_WHY" \
				"install it on the router from netrescue-VERSION-linux-$ROUTER_ARCH.tar.gz (unpack it there and run sh install.sh), or run this again with --router-bin DIR (that archive unpacked here)"
			note "paired with the router $ROUTER (host key pinned, this host's key installed)"
			return
		fi
		RESOLVE_SOFT=0
	else
		resolve_bins "$rd_bin" "$ROUTER_ARCH" --router-bin netcheck
	fi
	say "Router binary to $ROUTER:$R_PREFIX/usr/bin (from $RESOLVED)"
	router_stream netcheck "$RESOLVED"
	router_run_install --bin "$R_PREFIX/usr/bin"
	note "installed the router side on $ROUTER"
}

# ---------------------------------------------------------------- purge

# purge_dir DIR: remove a directory of ours (its name says netrescue).
purge_dir() {
	case $1 in
	/*/netrescue | /netrescue) ;;
	*)
		info "kept $PREFIX$1 (not ours alone; remove our files from it by hand)"
		return
		;;
	esac
	[ -d "$PREFIX$1" ] || return 0
	if [ "$DRY" = 1 ]; then
		info "would remove $PREFIX$1/"
		return
	fi
	rm -rf "$PREFIX$1" && info "removed $PREFIX$1/"
}

purge_step() {
	say "Purging configuration, logs and state"
	pg_state=$(conf_get STATE_DIR "")
	pg_run=$(conf_get RUN_DIR "")
	pg_log=$(conf_get LOG_FILE "")
	if [ "$ROLE" = router ]; then
		pg_state=${pg_state:-/root} pg_run=${pg_run:-/tmp/netrescue} pg_log=${pg_log:-/root/network_monitor.log}
		for pg_f in net_rb_count net_cooling_ts SOS_SYSTEM; do
			remove "$PREFIX$pg_state/$pg_f" || true
		done
	else
		pg_state=${pg_state:-/var/lib/netrescue} pg_run=${pg_run:-/run/netrescue} pg_log=${pg_log:-/var/log/pve_host_monitor.log}
		remove "$PREFIX$(conf_get PVE_MARK /root/pve_did_reboot_today)" || true
		pg_kh=$(conf_get KNOWN_HOSTS /etc/netrescue/known_hosts)
		remove "$PREFIX$pg_kh" || true
		[ "$DRY" = 1 ] || rmdir "$PREFIX/etc/netrescue" 2>/dev/null || true
		info "kept the SSH key ($(conf_get SSH_KEY /root/.ssh/id_ed25519)); it may serve other logins"
	fi
	for pg_f in "$PREFIX$pg_state"/netrescue*; do
		remove "$pg_f" || true
	done
	purge_dir "$pg_state"
	purge_dir "$pg_run"
	remove "$PREFIX$pg_log" || true
	remove "$PREFIX$pg_log.1" || true
	remove "$CONF" || true
	note "purged configuration, logs and state"
}

# ---------------------------------------------------------------- status

status_step() {
	[ -x "$STATUS_BIN" ] || return 0
	if [ -n "$PREFIX" ]; then
		# status probes CHECK_TARGETS from this machine and reads the state
		# at the config's paths (/root …), not the tree: under --prefix only
		# the config is checked, offline (plan reads nothing else).
		say "Checking the config: $STATUS_BIN -config $CONF plan"
		info "status is not run under --prefix: it would probe the network from this machine and read its own state; on the target run: ${STATUS_BIN#"$PREFIX"} status"
		[ "$DRY" = 0 ] || return 0
		if "$STATUS_BIN" -config "$CONF" plan >"$WORK/status" 2>&1; then
			note "config accepted by ${STATUS_BIN##*/}"
		else
			while IFS= read -r st_l || [ -n "$st_l" ]; do
				info "$st_l"
			done <"$WORK/status"
			warn "${STATUS_BIN##*/} refused $CONF (the lines above say why)" "edit ${CONF#"$PREFIX"}"
		fi
		return 0
	fi
	st_cmd="$STATUS_BIN status"
	say "Checking: $st_cmd"
	if [ "$DRY" = 1 ]; then
		info "would run: $st_cmd"
		return
	fi
	st_to=
	command -v timeout >/dev/null 2>&1 && st_to="timeout 120"
	$st_to "$STATUS_BIN" status >"$WORK/status" 2>&1
	st_rc=$?
	while IFS= read -r st_l || [ -n "$st_l" ]; do
		info "$st_l"
	done <"$WORK/status"
	if [ "$st_rc" = 0 ]; then
		note "status: all checks passed"
	else
		info "(status exited $st_rc: the ✗ lines above say what is not right yet; the install itself is complete)"
		note "status reported problems (exit $st_rc); run $st_cmd to see them again"
	fi
}

# ---------------------------------------------------------------- host package

# pkg_host_step: the netrescue package has the host side. A copy from this
# script beside it is refused (the fix removes it); without --router there
# is nothing to do but say so; with it, this run only pairs the router.
pkg_host_step() {
	say "Host side: the netrescue package (dpkg) installed it"
	ph_dup=
	for ph_n in $BIN_NAMES; do
		[ ! -e "$BINDIR/$ph_n" ] || ph_dup="$ph_dup $BINDIR/$ph_n"
	done
	cron_read >"$WORK/cron.pkg"
	while IFS= read -r ph_l || [ -n "$ph_l" ]; do
		if is_ours "$ph_l"; then
			ph_dup="$ph_dup $(cron_where)"
			break
		fi
	done <"$WORK/cron.pkg"
	if [ -n "$ph_dup" ]; then
		die "this host is set up twice, by the netrescue package and by install.sh ($ph_dup), so every rescue would run twice" \
			"remove install.sh's copy: sh ${SELF:-install.sh} --role host --uninstall"
	fi
	if [ -z "$ROUTER" ]; then
		die "the netrescue package already installs the host side here ($PREFIX/usr/bin/hostcheck, $PREFIX/etc/cron.d/netrescue); a second copy from install.sh would run every rescue twice" \
			"keep the package and pair the router with: sh ${SELF:-install.sh} --router IP (with the package it only pairs), or remove the package first: dpkg -r netrescue"
	fi
	info "kept as it is: this run only pairs the router"
	config_step
	host_ssh_key
}

# ---------------------------------------------------------------- main

if [ "$UNINSTALL" = 0 ]; then
	if [ "$PKG" = 1 ]; then
		pkg_host_step
	else
		if [ -z "$BIN" ] && [ -z "$LOCAL_ARCH" ]; then
			die "this machine ($(uname -m)) is not one we build for (amd64, arm64, armv7, armv5, mips, mipsle)" \
				"build the binaries for it yourself (GOOS=linux go build ./cmd/...) and pass --bin DIR"
		fi
		# shellcheck disable=SC2086 # BIN_NAMES is a list
		resolve_bins "$BIN" "$LOCAL_ARCH" --bin $BIN_NAMES
		SRC_BIN=$RESOLVED
	fi
	[ -n "$PREFIX" ] && [ ! -d "$PREFIX" ] && mkdirp "$PREFIX"

	if [ "$ROLE" = router ]; then
		migrate_router
		install_bins
		config_step
		cron_step install
		restart_cron
		sysupgrade_step add /etc/netrescue.conf /usr/bin/netcheck /usr/bin/midnight-reset
	else
		if [ "$PKG" = 0 ]; then
			migrate_host
			install_bins
			config_step
			host_ssh_key
			cron_step install
		fi
		if [ -n "$ROUTER" ]; then
			deploy_router
		else
			say "Pairing with the router"
			pair_ip=$(conf_get OP_IP "$DEFAULT_ROUTER_IP")
			pair_cmd="sh ${SELF:-install.sh} --role host --router $pair_ip"
			[ -z "$PREFIX" ] || pair_cmd="$pair_cmd --prefix $PREFIX"
			info "not contacting the router now. To finish, run (it asks for the router's root password once):"
			info "  $pair_cmd"
			note "to pair with the router, run: $pair_cmd"
		fi
	fi
	status_step
	if [ "$DRY" = 1 ]; then
		say "Done: dry run of installing the $ROLE side in ${PREFIX:-/}"
	elif [ "$PKG" = 1 ]; then
		say "Done: the router is paired; the host side is the netrescue package's"
	else
		say "Done: the $ROLE side is installed in ${PREFIX:-/}"
	fi
else
	if [ "$ROLE" = router ]; then
		cron_step uninstall
		restart_cron
		remove_bins
		if [ "$PURGE" = 1 ]; then
			sysupgrade_step remove /etc/netrescue.conf /usr/bin/netcheck /usr/bin/midnight-reset
		else
			sysupgrade_step remove /usr/bin/netcheck /usr/bin/midnight-reset
		fi
	else
		if [ "$PKG" = 1 ] && [ "$PURGE" = 1 ]; then
			die "the netrescue package owns the configuration, logs and state here, so --purge leaves them to it" \
				"sh ${SELF:-install.sh} --role host --uninstall removes install.sh's copy; dpkg -P netrescue purges the package"
		fi
		cron_step uninstall
		remove_bins
		if [ -n "$ROUTER" ]; then
			host_ssh_key find
			deploy_router
		fi
	fi
	if [ "$PURGE" = 1 ]; then
		purge_step
	else
		info "kept $CONF, the logs and the state files (add --purge to remove them too)"
		note "kept configuration, logs and state"
	fi
	if [ "$DRY" = 1 ]; then
		say "Done: dry run of uninstalling the $ROLE side from ${PREFIX:-/}"
	else
		say "Done: the $ROLE side is uninstalled from ${PREFIX:-/}"
	fi
fi

[ "$DRY" = 0 ] || note_raw "dry run: nothing was changed"
if [ -n "$SUMMARY" ]; then
	printf 'Summary:%s\n' "$SUMMARY"
fi
if [ "$WARNINGS" -gt 0 ]; then
	printf '%s warning(s): see the fixes above.\n' "$WARNINGS"
fi
exit 0
