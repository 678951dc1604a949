#!/usr/bin/env bash
# tests/fresh-machine.sh - the README's test command on a fresh Debian bookworm machine.
#
# CI runs on a machine that keeps what earlier sessions installed, so a package missing from
# tests/host-deps.sh can hide there. This script makes a clean bookworm root with debootstrap,
# from the same mirror the guest build reads (guest-images/debian-mirror.sh), holding only what
# every machine of this kind starts with (gcc, git, python3, ca-certificates, the Rust
# toolchain), clones the repository's HEAD into it and runs, inside it as root:
#     apt-get update && tests/host-deps.sh && tests/run
# Everything Debian that the tests need must come from tests/host-deps.sh. The host's Rust
# toolchain is bind-mounted read-only and the guest-image cache is seen through an overlay
# that keeps the host's copy untouched (a fresh machine has the toolchain; the guest build itself
# is the same from nothing, ~5 minutes, and is what the cache holds). It prints what host-deps.sh installed and how long each part took.
#
# usage: tests/fresh-machine.sh [--keep] [--root DIR]
#   --root DIR  where the root goes (default: a new directory under ${TMPDIR:-/var/tmp});
#               an existing root from an earlier --keep run is reused (no debootstrap)
#   --keep      leave the root in place afterwards
# Needs root (debootstrap, chroot, mounts) and debootstrap (installed here if missing).
# Too slow for every CI run (about 20-30 minutes): run it before resolving anything that
# touches dependencies.
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP=0
FRESH=""
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) KEEP=1; shift ;;
	--root) FRESH=$2; shift 2 ;;
	-h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "fresh-machine: unknown argument $1" >&2; exit 2 ;;
	esac
done
say() { printf 'fresh-machine: %s\n' "$*"; }
die() { printf 'fresh-machine: FAIL: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, bind mounts)"

# shellcheck source=guest-images/debian-mirror.sh
. "$ROOT_DIR/guest-images/debian-mirror.sh"
MIRROR=$(debian_mirror)
SUITE=bookworm
# what a new machine of this kind has before the project installs anything
BASELINE=gcc,g++,make,git,python3,ca-certificates,curl,xz-utils

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap (for this script, on the host)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
command -v rustup >/dev/null || die "no rustup on the host: the Rust toolchain is bind-mounted from it"
TOOLCHAIN=$(cd "$(dirname "$(rustup which rustc)")/.." && pwd)
CACHE=${HEAPSOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/heapsoc}
[ -d "$CACHE/guest" ] || die "no guest-image cache at $CACHE: run guest-images/build.sh on the host first"

FRESH=${FRESH:-$(mktemp -d "${TMPDIR:-/var/tmp}/heapsoc-fresh.XXXXXX")}
mkdir -p "$FRESH"
MOUNTS=()
cleanup() {
	local m i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${MOUNTS[$i]}
		umount -l "$m" 2>/dev/null || true
	done
	if [ "$KEEP" = 0 ]; then
		rm -rf --one-file-system "$FRESH"
	else
		say "root kept at $FRESH"
	fi
}
trap cleanup EXIT
bind() { # bind SRC DEST [ro]
	mkdir -p "$2"
	mount --bind "$1" "$2"
	MOUNTS+=("$2")
	[ "${3:-}" != ro ] || mount -o remount,bind,ro "$2"
}

T0=$(date +%s)
if [ ! -x "$FRESH/bin/bash" ]; then
	say "debootstrap $SUITE from $MIRROR into $FRESH (with $BASELINE)"
	debootstrap --variant=minbase --include="$BASELINE" "$SUITE" "$FRESH" "$MIRROR" \
		>"$FRESH.debootstrap.log" 2>&1 || die "debootstrap failed (log: $FRESH.debootstrap.log)"
fi
T1=$(date +%s)
cp /etc/resolv.conf "$FRESH/etc/resolv.conf"
# the machine's network: the certificate authorities it trusts beyond Debian's (a TLS proxy's)
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
	mkdir -p "$FRESH/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$FRESH/usr/local/share/ca-certificates/"
	chroot "$FRESH" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the root"
fi
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$FRESH/etc/apt/sources.list"
mkdir -p "$FRESH/proc" "$FRESH/sys" "$FRESH/dev"
mount -t proc proc "$FRESH/proc" && MOUNTS+=("$FRESH/proc")
bind /sys "$FRESH/sys"
bind /dev "$FRESH/dev"
bind /dev/pts "$FRESH/dev/pts"
bind "$TOOLCHAIN" "$FRESH/opt/rust" ro
# the host's cache stays untouched: the root sees it through an overlay whose writes (patched
# guests, their kernel objects, processed binding schemas) go to a layer of the root's own
mkdir -p "$FRESH/root/.cache/heapsoc" "$FRESH/var/cache-upper/u" "$FRESH/var/cache-upper/w"
mount -t overlay overlay \
	-o "lowerdir=$CACHE,upperdir=$FRESH/var/cache-upper/u,workdir=$FRESH/var/cache-upper/w" \
	"$FRESH/root/.cache/heapsoc" || die "cannot mount the guest cache as an overlay"
MOUNTS+=("$FRESH/root/.cache/heapsoc")
rm -rf "$FRESH/work/heapsoc"
mkdir -p "$FRESH/work"
git clone -q "$ROOT_DIR" "$FRESH/work/heapsoc"
say "clean clone of $(git -C "$ROOT_DIR" rev-parse --short HEAD) in the root; toolchain $(basename "$TOOLCHAIN") read-only, guest cache through an overlay"

LOG="$FRESH.run.log"
set +e
# shellcheck disable=SC2016 # expanded by the shell inside the root
chroot "$FRESH" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	CARGO_HOME=/root/.cargo \
	/bin/bash -c '
		set -euo pipefail
		cd /work/heapsoc
		t0=$(date +%s)
		apt-get update -qq
		tests/host-deps.sh
		t1=$(date +%s)
		echo "fresh-machine: host-deps.sh took $((t1 - t0)) s"
		tests/run
		echo "fresh-machine: tests/run took $(($(date +%s) - t1)) s"
	' >"$LOG" 2>&1
RC=$?
set -e
T2=$(date +%s)
say "debootstrap $((T1 - T0)) s, host-deps.sh + tests/run $((T2 - T1)) s (log: $LOG)"
grep -E '^heapsoc: installing |^fresh-machine: ' "$LOG" | sed 's/^/  /' || true
if [ "$RC" != 0 ]; then
	echo "---- last 40 lines of $LOG" >&2
	tail -n 40 "$LOG" >&2
	die "tests/run failed in the fresh root (status $RC)"
fi
say "PASS: tests/run passed on a fresh bookworm root in $((T2 - T0)) s"
