#!/bin/sh
# install.sh: finds the binary built for this machine and runs its
# `install` with the arguments; the installer is `netcheck install` /
# `hostcheck install` (SPEC §10; sh install.sh -h lists its options). POSIX
# sh: busybox ash on OpenWrt, dash on Proxmox VE. The binaries are those of
# --bin DIR; else those of the unpacked release archive it is in (RELEASE
# names the arch) or of the same release's archive for this arch beside it;
# the .deb's (this script in /usr/share/netrescue, them in /usr/bin);
# dist/linux-ARCH/ of this checkout; else built with Go.
#   sh install.sh --print-arch      this machine's arch (run on the router too)
#   sh install.sh --print-bin ARCH  the directory with netcheck for ARCH (a go
#                                   build goes to $NETRESCUE_BUILD_DIR)

# A CDPATH in the environment makes cd print the directory it found, which
# $(cd DIR && pwd) would take in as part of the path.
unset CDPATH

die() { # MESSAGE [FIX [STATUS]]
	printf 'error: %s\n' "$1" >&2
	[ -z "${2:-}" ] || printf '  fix: %s\n' "$2" >&2
	exit "${3:-1}"
}

# arch: this machine's dist/linux-ARCH name; nothing for one we do not
# build for. NETRESCUE_UNAME_M and NETRESCUE_CPUINFO stand in for tests.
arch() {
	case ${NETRESCUE_UNAME_M:-$(uname -m)} in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7* | armv8l) # GOARM=7 needs VFPv3 (in the kernel's Features): without, SIGILL.
		if grep -Eqw 'vfpv3|vfpv3d16' "${NETRESCUE_CPUINFO:-/proc/cpuinfo}" 2>/dev/null; then echo armv7; else echo armv5; fi ;;
	armv5* | armv6*) echo armv5 ;;
	mips64*) ;;
	mips*) # OpenWrt's DISTRIB_ARCH, else EI_DATA (ELF byte 6) of /bin/sh: 2 is big-endian.
		case $(sed -n "s/^DISTRIB_ARCH=['\"]*\([^'\"]*\).*/\1/p" /etc/openwrt_release 2>/dev/null) in
		mipsel* | mipsle*) echo mipsle ;;
		mips_* | mips) echo mips ;;
		*) if [ "$(head -c 6 /bin/sh | tail -c 1)" = "$(printf '\002')" ]; then echo mips; else echo mipsle; fi ;;
		esac ;;
	esac
}

HERE='' SELF='' REPO='' REL_ARCH='' REL_VERSION=''
if [ -f "$0" ]; then
	HERE=$(cd "$(dirname "$0")" && pwd) && SELF=$HERE/${0##*/} && REPO=$(dirname "$HERE")
	if [ -f "$HERE/RELEASE" ]; then
		REL_ARCH=$(sed -n 's/^arch=//p' "$HERE/RELEASE") REL_VERSION=$(sed -n 's/^version=//p' "$HERE/RELEASE") REPO=''
	fi
fi

# holds DIR: DIR has one of the binaries in NEED.
holds() {
	for n in $NEED; do [ -f "$1/$n" ] && return 0; done
	return 1
}

# find_bins ARCH: print the directory holding the binaries for linux-ARCH.
find_bins() {
	if [ -n "$REL_ARCH" ]; then
		for d in "$HERE" "$(dirname "$HERE")/netrescue-$REL_VERSION-linux-$1"; do
			[ "$(sed -n 's/^arch=//p' "$d/RELEASE" 2>/dev/null)" = "$1" ] && holds "$d" && echo "$d" && return 0
		done
	fi
	if [ "${HERE##*/share/}" = netrescue ] && holds "$HERE/../../bin" && [ "$1" = "$(arch)" ]; then
		(cd "$HERE/../../bin" && pwd) && return 0
	fi
	[ -n "$REPO" ] && holds "$REPO/dist/linux-$1" && echo "$REPO/dist/linux-$1" && return 0
	return 1
}

# nobins ARCH FLAG: say why there are no binaries for linux-ARCH, and stop.
nobins() {
	msg="no binaries for linux-$1: no $2 given"
	fix="run make dist on a machine with Go and copy dist/ next to scripts/, or pass $2 DIR"
	if [ -n "$REL_ARCH" ]; then
		msg="$msg, and $HERE is the release archive for linux-$REL_ARCH"
		[ "$REL_ARCH" != "$1" ] || msg="$msg, but it does not hold $NEED"
		fix="download netrescue-$REL_VERSION-linux-$1.tar.gz and unpack it beside this one, or pass $2 DIR"
	else
		[ -z "$REPO" ] || msg="$msg, $REPO/dist/linux-$1/ does not hold $NEED"
		msg="$msg, and Go is not installed to build them"
	fi
	die "$msg" "$fix"
}

# build ARCH OUT FLAG NAME...: go build NAMEs for linux-ARCH into OUT.
build() {
	a=$1 out=$2 flag=$3
	shift 3
	{ [ -n "$REPO" ] && [ -f "$REPO/go.mod" ] && command -v go >/dev/null; } || nobins "$a" "$flag"
	[ -n "$out" ] || die "no directory to build into" "set NETRESCUE_BUILD_DIR"
	goarch=$a goarm='' gomips=''
	case $a in armv7) goarch=arm goarm=7 ;; armv5) goarch=arm goarm=5 ;; mips | mipsle) gomips=softfloat ;; esac
	printf '==> Building %s for linux-%s with Go\n' "$*" "$a" >&2
	for n; do
		(cd "$REPO" && CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm GOMIPS=$gomips \
			go build -trimpath -ldflags='-s -w' -o "$out/$n" "./cmd/$n") >&2 ||
			die "go build ./cmd/$n failed (output above)" "fix the build, or build elsewhere with make dist and pass $flag DIR"
	done
}

case ${1:-} in
--print-arch)
	a=$(arch)
	[ -n "$a" ] || die "this machine ($(uname -m)) is not one we build for (amd64, arm64, armv7, armv5, mips, mipsle)"
	echo "$a" && exit 0
	;;
--print-bin)
	[ -n "${2:-}" ] || die "--print-bin needs an architecture"
	NEED=netcheck
	if ! find_bins "$2"; then
		build "$2" "${NETRESCUE_BUILD_DIR:-}" --router-bin netcheck
		echo "$NETRESCUE_BUILD_DIR"
	fi
	exit 0
	;;
esac

# usage: the help when there is no binary yet to print the installer's
# own (hostcheck install -h): -h must not build them with Go first.
usage() {
	cat <<EOF
usage: sh $0 [flags]

Installs PVE-Op-Network-Rescue with the binaries built for this machine (those
of --bin DIR, of the release archive or package this script is in, or of
dist/linux-ARCH in this checkout; else it builds them with Go) by running their
installer, hostcheck install or netcheck install, with these flags. No binaries
are here yet, so this is the short list; with them (make dist, then
sh $0 --bin dist/linux-ARCH -h) -h prints the installer's full one.

  --role router|host   which side this machine is (default: detected)
  --router IP          host only: also set up the router over SSH
  --bin DIR            where the binaries to install are
  --prefix DIR         install into the tree DIR instead of /
  --uninstall          remove our cron lines and binaries; keep config, logs, state
  --purge              with --uninstall: also remove config, logs and state
  -n, --dry-run        print every step, change nothing
  -h, --help           show this help
EOF
}

# netcheck (static, for OpenWrt's musl too) installs the router side;
# hostcheck either side; the .deb has hostcheck alone.
NEED='netcheck hostcheck'
# valued: the flags whose value is the next argument, when not given
# with an = (-flag and --flag alike, as the binary's installer reads them).
valued() {
	case ${1#-} in
	-bin | -role | -prefix | -router | -router-bin | -router-prefix | -port | -identity) return 0 ;;
	bin | role | prefix | router | router-bin | router-prefix | port | identity) return 0 ;;
	esac
	return 1
}
BIN='' prev='' UNINSTALL='' HELP=''
for a; do
	if valued "$prev"; then
		# a value, never a flag: --prefix -h is a directory left out,
		# not a call for help
		case $a in -*) die "$prev needs a value, not $a" "see sh $0 --help" 2 ;; esac
		case $prev in --bin | -bin) BIN=$a ;; esac
		prev=
		continue
	fi
	case $a in
	--bin=* | -bin=*) BIN=${a#*=} ;;
	--uninstall | -uninstall) UNINSTALL=1 ;;
	-h | --help | -help) HELP=1 ;;
	esac
	prev=$a
done
! valued "$prev" || die "$prev needs a value" "see sh $0 --help" 2
LOCAL=$(arch)
WORK=
if [ -z "$BIN" ] && [ -n "$HELP" ] && { [ -z "$LOCAL" ] || ! find_bins "$LOCAL" >/dev/null; }; then
	usage
	exit 0
elif [ -n "$BIN" ]; then
	holds "$BIN" || die "$BIN does not hold netcheck or hostcheck (for linux-${LOCAL:-?})" \
		"build them (make dist) and pass the directory holding them: --bin dist/linux-${LOCAL:-ARCH}"
elif [ -z "$LOCAL" ]; then
	die "this machine ($(uname -m)) is not one we build for (amd64, arm64, armv7, armv5, mips, mipsle)" \
		"build the binaries for it yourself (GOOS=linux go build ./cmd/...) and pass --bin DIR"
elif BIN=$(find_bins "$LOCAL"); then
	:
elif [ -n "$UNINSTALL" ] && B=$(command -v netcheck || command -v hostcheck); then
	BIN=$(dirname "$B") # the installed binary removes itself
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/netrescue-build.XXXXXX") || die "cannot create a temporary directory" "set TMPDIR"
	trap 'rm -rf "$WORK"' EXIT
	trap 'exit 130' INT TERM HUP
	build "$LOCAL" "$WORK" --bin netcheck hostcheck midnight-reset # the role is the binary's to find
	BIN=$WORK
fi
# hostcheck installs either side; netcheck the router's only (it links no
# SSH, to stay small on the router), and is what a router's archive holds.
# hostcheck is used only when it runs here: the amd64/arm64 archives build
# it as PIE for glibc, which OpenWrt's musl cannot exec ("not found"),
# while netcheck is static and runs on both.
B=$BIN/hostcheck
if [ ! -f "$B" ] || ! "$B" -version >/dev/null 2>&1; then
	if [ -f "$BIN/netcheck" ]; then
		B=$BIN/netcheck
	elif [ -f "$B" ]; then
		die "$B does not run on this machine (linux-${LOCAL:-?}): it needs a C library or CPU this machine lacks" \
			"use the binaries built for this machine: the release archive for linux-${LOCAL:-ARCH}, or make dist and --bin dist/linux-${LOCAL:-ARCH}"
	fi
fi
NETRESCUE_INSTALL_SH=$SELF
export NETRESCUE_INSTALL_SH
[ -n "$WORK" ] || exec "$B" install "$@"
"$B" install "$@" # the build is removed on exit
