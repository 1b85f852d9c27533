#!/bin/sh
# release.sh: `make release VERSION=X` (SPEC §10). Writes into OUT (release/):
#   netrescue-X-linux-ARCH.tar.gz  per ARCH of RELEASE_ARCHS: the binaries for
#                                  ARCH, install.sh, netrescue.conf.example,
#                                  README.md, RELEASE
#   netrescue_X_ARCH.deb           per ARCH of DEB_ARCHS: the host package
#   SHA256SUMS
# Reproducible: two runs from the same commit give the same bytes. Go builds
# with -trimpath and no VCS stamp; every file gets the mtime SOURCE_DATE_EPOCH
# (the commit's time, from the Makefile) and a fixed mode; archives list their
# entries sorted, owned by 0:0, and gzip -n leaves out name and time;
# dpkg-deb reads SOURCE_DATE_EPOCH itself.
#
# Environment: VERSION, SOURCE_DATE_EPOCH, RELEASE_ARCHS, DEB_ARCHS, GO,
# OUT, DEB_MAINTAINER (all set by the Makefile).
set -eu
# A CDPATH in the environment makes cd print the directory it found, which
# $(cd DIR && pwd) would take in as part of the path.
unset CDPATH

die() {
	printf 'release: error: %s\n' "$1" >&2
	[ $# -lt 2 ] || printf '  fix: %s\n' "$2" >&2
	exit 1
}

cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=${OUT:-release}
RELEASE_ARCHS=${RELEASE_ARCHS:-amd64 arm64 armv7 armv5 mipsle mips}
DEB_ARCHS=${DEB_ARCHS:-amd64 arm64}
VERSION=${VERSION:-}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-}

# A Debian native version (the .deb carries the same one): starts with a
# digit; letters, digits and . + ~ only.
case $VERSION in
'') die "no VERSION" "make release VERSION=1.0.0" ;;
[0-9]*) ;;
*) die "VERSION $VERSION does not start with a digit (a Debian version must)" "make release VERSION=1.0.0" ;;
esac
case $VERSION in
*[!0-9A-Za-z.+~]*) die "VERSION $VERSION may hold only letters, digits and . + ~" "make release VERSION=1.0.0" ;;
esac
case $SOURCE_DATE_EPOCH in
'' | *[!0-9]*) die "SOURCE_DATE_EPOCH is not a number of seconds: '$SOURCE_DATE_EPOCH'" \
	"run make release in a git checkout (it takes the commit's time), or set SOURCE_DATE_EPOCH" ;;
esac
for t in "$GO" tar gzip sha256sum; do
	command -v "$t" >/dev/null 2>&1 || die "$t is not installed" "install it (Go: see README, Development)"
done
if [ -n "$DEB_ARCHS" ]; then
	command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is not installed" "apt-get install dpkg-dev, or make release DEB_ARCHS="
	[ -n "${DEB_MAINTAINER:-}" ] || die "no DEB_MAINTAINER for the .deb" "make release DEB_MAINTAINER='Name <email>'"
fi
export SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C
umask 022

is_host_arch() {
	case $1 in amd64 | arm64) return 0 ;; esac
	return 1
}
for a in $DEB_ARCHS; do
	is_host_arch "$a" || die "DEB_ARCHS: $a is not a host architecture (amd64, arm64)"
done

rm -rf "$OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/netrescue-release.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# build ARCH NAME PIE DEST: one binary. netcheck is static (OpenWrt has
# musl, not glibc); the host's are PIE, which Debian wants and lintian
# checks, needing only the dynamic loader that every Debian/PVE host has.
build() {
	goarch=$1 goarm='' gomips=''
	case $1 in
	armv7) goarch=arm goarm=7 ;;
	armv5) goarch=arm goarm=5 ;;
	mips | mipsle) gomips=softfloat ;;
	esac
	mode=
	[ "$3" = pie ] && mode=-buildmode=pie
	echo "release: building $2 for linux-$1"
	# shellcheck disable=SC2086 # $mode is one flag or nothing
	env CGO_ENABLED=0 GOOS=linux GOARCH="$goarch" GOARM="$goarm" GOMIPS="$gomips" GOFLAGS= \
		"$GO" build -trimpath -buildvcs=false $mode \
		-ldflags "-s -w -X github.com/pve-op/network-rescue/internal/cli.Version=$VERSION" \
		-o "$4" "./cmd/$2"
}

# stamp DIR: fixed mtimes and modes for everything under DIR.
stamp() {
	find "$1" -type d -exec chmod 0755 {} +
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

"$GO" run ./packaging/confexample >"$WORK/netrescue.conf.example"
"$GO" run ./packaging/confexample -role host >"$WORK/host.conf"

for a in $RELEASE_ARCHS; do
	name=netrescue-$VERSION-linux-$a
	d=$WORK/tar/$name
	mkdir -p "$d"
	build "$a" netcheck static "$d/netcheck"
	if is_host_arch "$a"; then
		build "$a" hostcheck pie "$d/hostcheck"
		build "$a" midnight-reset pie "$d/midnight-reset"
	fi
	cp scripts/install.sh "$d/install.sh"
	cp "$WORK/netrescue.conf.example" "$d/netrescue.conf.example"
	cp README.md "$d/README.md"
	# install.sh uses the binaries beside it when RELEASE names this machine.
	printf 'version=%s\narch=%s\n' "$VERSION" "$a" >"$d/RELEASE"
	chmod 0755 "$d/install.sh" "$d/netcheck"
	chmod 0644 "$d/netrescue.conf.example" "$d/README.md" "$d/RELEASE"
	stamp "$d"
	tar -C "$WORK/tar" --sort=name --format=ustar --owner=0 --group=0 --numeric-owner \
		--mtime="@$SOURCE_DATE_EPOCH" -cf - "$name" | gzip -n -9 >"$OUT/$name.tar.gz"
	echo "release: $OUT/$name.tar.gz"
done

# The host package. Its binaries are the archive's when that arch was built.
for a in $DEB_ARCHS; do
	r=$WORK/deb-$a
	mkdir -p "$r/DEBIAN" "$r/usr/bin" "$r/etc/cron.d" "$r/usr/share/netrescue" "$r/usr/share/doc/netrescue"
	for b in hostcheck midnight-reset; do
		if [ -f "$WORK/tar/netrescue-$VERSION-linux-$a/$b" ]; then
			cp "$WORK/tar/netrescue-$VERSION-linux-$a/$b" "$r/usr/bin/$b"
		else
			build "$a" "$b" pie "$r/usr/bin/$b"
		fi
	done
	chmod 0755 "$r/usr/bin/hostcheck" "$r/usr/bin/midnight-reset"
	cp "$WORK/host.conf" "$r/etc/netrescue.conf"
	chmod 0600 "$r/etc/netrescue.conf" # its *_CMD lines run as root
	cp packaging/deb/cron.d "$r/etc/cron.d/netrescue"
	chmod 0644 "$r/etc/cron.d/netrescue"
	# install.sh pairs the router (and, given its binaries, installs it).
	cp scripts/install.sh "$r/usr/share/netrescue/install.sh"
	chmod 0755 "$r/usr/share/netrescue/install.sh"
	cp packaging/deb/copyright "$r/usr/share/doc/netrescue/copyright"
	date=$(date -u -d "@$SOURCE_DATE_EPOCH" -R)
	printf 'netrescue (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
		"$VERSION" "$VERSION" "$DEB_MAINTAINER" "$date" >"$WORK/changelog"
	touch -d "@$SOURCE_DATE_EPOCH" "$WORK/changelog"
	gzip -n -9 -c "$WORK/changelog" >"$r/usr/share/doc/netrescue/changelog.gz"
	chmod 0644 "$r/usr/share/doc/netrescue/copyright" "$r/usr/share/doc/netrescue/changelog.gz"

	# Installed-Size in KiB from the files' lengths (not du, whose blocks
	# depend on the file system): one per directory, rounded-up KiB per file.
	size=0
	for f in $(cd "$r" && find usr etc -type f | sort); do
		n=$(wc -c <"$r/$f")
		size=$((size + (n + 1023) / 1024))
	done
	size=$((size + $(cd "$r" && find usr etc -type d | wc -l)))
	maint=$(printf '%s' "$DEB_MAINTAINER" | sed 's/[&|\\]/\\&/g')
	sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$a|" -e "s|@SIZE@|$size|" \
		-e "s|@MAINTAINER@|$maint|" packaging/deb/control.in >"$r/DEBIAN/control"
	cp packaging/deb/conffiles "$r/DEBIAN/conffiles"
	cp packaging/deb/preinst packaging/deb/postinst packaging/deb/postrm "$r/DEBIAN/"
	(cd "$r" && find usr -type f | sort | xargs md5sum) >"$r/DEBIAN/md5sums"
	chmod 0644 "$r/DEBIAN/control" "$r/DEBIAN/conffiles" "$r/DEBIAN/md5sums"
	chmod 0755 "$r/DEBIAN/preinst" "$r/DEBIAN/postinst" "$r/DEBIAN/postrm"
	stamp "$r"
	dpkg-deb --root-owner-group -Zxz --build "$r" "$OUT/netrescue_${VERSION}_$a.deb" >/dev/null
	echo "release: $OUT/netrescue_${VERSION}_$a.deb"
done

(cd "$OUT" && find . -maxdepth 1 -type f | sed 's|^\./||' | sort | xargs sha256sum) >"$WORK/SHA256SUMS"
cp "$WORK/SHA256SUMS" "$OUT/SHA256SUMS"
touch -d "@$SOURCE_DATE_EPOCH" "$OUT"/*
echo "release: $OUT/SHA256SUMS"
