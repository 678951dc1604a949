#!/usr/bin/env bash
# guest-images/build.sh - build the heapsoc guest: an arm64 Linux 7.3 Image (allnoconfig +
# kernel.fragment) and a gzip'd newc initramfs (busybox-static, /init, the dmabuf-heaps kselftest
# and our own tests from tests/*.c), cached under a hash of every input.
#
#   guest-images/build.sh              build (or reuse) and print the output directory on stdout
#   guest-images/build.sh --print-dir  print the output directory for the current inputs; exit 1
#                                      if that guest has not been built
#   guest-images/build.sh --refresh    re-read the package lists first (newer Debian packages)
#   guest-images/build.sh --force      rebuild even if the output directory is complete
#   --patch FILE ...                   apply these patches (mbox or diff, -p1, in the order given)
#                                      to a copy of the kernel tree; a patch that does not apply
#                                      fails naming the file and hunk
#   --fragment FILE ...                extra Kconfig lines after kernel.fragment (later settings of
#                                      an option win), checked against .config like the main one
#   Patched guests are cached by the hash of everything that went in, next to the unpatched one;
#   each patch set keeps its own kernel object directory (incremental rebuilds).
#
# Cache: ${HEAPSOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/heapsoc}
#   downloads/  private apt configurations, .debs, the unpacked kernel tree, busybox (shared by
#               all builds: a fragment change does not download again)
#   kbuild/     the kernel's out-of-tree object directory per kernel package version (incremental)
#   guest/<hash>/  Image, initramfs.cpio.gz, config, kernel.fragment, manifest.json, logs/
#
# Environment: HEAPSOC_CACHE, HEAPSOC_JOBS (make -j, default nproc), HEAPSOC_DEBIAN_MIRROR (the
# Debian mirror URI; default: the one the machine's own apt sources use).
# The machine's apt sources are never modified: the kernel source (trixie-backports) and the arm64
# busybox (bookworm) are fetched with `apt-get download` through private apt configurations.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
CACHE_ROOT=${HEAPSOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/heapsoc}
DL="$CACHE_ROOT/downloads"
JOBS=${HEAPSOC_JOBS:-$(nproc)}

KERNEL_PKG=linux-source-7.3
KERNEL_SUITE=trixie-backports
BUSYBOX_PKG=busybox-static
BUSYBOX_ARCH=arm64
BUSYBOX_SUITE=bookworm
CROSS=aarch64-linux-gnu-
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
NSTEPS=7
HOST_ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)

# busybox applets linked in the initramfs (the ones /init and an interactive shell use)
APPLETS="sh ash cat echo printf test [ mount umount mkdir ls ln rm cp mv grep egrep sed awk head
tail wc cut tr sort uniq find xargs od hexdump xxd stat dmesg uname sleep sync poweroff reboot
halt setsid cttyhack free ps kill true false env date vi less more clear tee seq basename
dirname readlink realpath timeout time sha256sum md5sum devmem mknod"

MODE=build
REFRESH=0
FORCE=0
PATCHES=()
FRAGMENTS=()
abspath() { # abspath FILE: the absolute path of an existing file, else exit 2 naming it
	[ -f "$1" ] || { echo "build.sh: $2 $1: no such file" >&2; exit 2; }
	printf '%s/%s' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"
}
while [ $# -gt 0 ]; do
	case "$1" in
	--print-dir) MODE=print ;;
	--refresh) REFRESH=1 ;;
	--force) FORCE=1 ;;
	--patch | --fragment)
		[ $# -ge 2 ] || { echo "build.sh: $1 needs a file" >&2; exit 2; }
		if [ "$1" = --patch ]; then
			PATCHES+=("$(abspath "$2" --patch)")
		else
			FRAGMENTS+=("$(abspath "$2" --fragment)")
		fi
		shift
		;;
	-h | --help)
		sed -n '2,30p' "$SELF" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "build.sh: unknown argument '$1' (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

T0=$(date +%s)
log() { printf '%s\n' "$*" >&2; }
die() {
	printf 'build.sh: error: %s\n' "$*" >&2
	exit 1
}
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
STEP_T=0
step() { # step N "text"
	STEP_T=$(date +%s)
	log "[$1/$NSTEPS] $2 ... (t+$(fmt_secs $((STEP_T - T0))))"
}
step_done() { log "      done in $(fmt_secs $(($(date +%s) - STEP_T)))"; }
# run a noisy command with its output in a log file; on failure show the log's tail
run_logged() { # run_logged LOGFILE cmd...
	local logf=$1
	shift
	if ! "$@" >"$logf" 2>&1; then
		log "---- last 40 lines of $logf ----"
		tail -n 40 "$logf" >&2
		die "command failed: $* (full log: $logf)"
	fi
}
sanitize() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------------------------------------
# host tools
# command:package pairs; "path=/file:package" checks for a file instead of a command
HOST_TOOLS="make:make gcc:gcc ${CROSS}gcc:gcc-aarch64-linux-gnu ${CROSS}as:binutils-aarch64-linux-gnu
flex:flex bison:bison bc:bc rsync:rsync cpio:cpio gzip:gzip xz:xz-utils perl:perl
dpkg-deb:dpkg apt-get:apt sha256sum:coreutils flock:util-linux patch:patch
path=/usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross
path=$KEYRING:debian-archive-keyring
path=/usr/include/stdio.h:libc6-dev"

missing_host_packages() {
	local pair what pkg missing=""
	for pair in $HOST_TOOLS; do
		what=${pair%:*}
		pkg=${pair##*:}
		case "$what" in
		path=*) [ -e "${what#path=}" ] && continue ;;
		*) command -v "$what" >/dev/null 2>&1 && continue ;;
		esac
		case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	done
	printf '%s' "${missing# }"
}

ensure_host_tools() {
	local missing release
	missing=$(missing_host_packages)
	[ -z "$missing" ] && return 0
	if ! is_root; then
		die "missing host packages: $missing
    install them with:  sudo apt-get install $missing"
	fi
	# shellcheck source=/dev/null
	release=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	log "      installing missing host packages: $missing"
	run_logged "$CACHE_ROOT/apt-install.log" apt-get update
	# -t <this release>: machines that carry extra suites keep the toolchain of their own release
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive run_logged "$CACHE_ROOT/apt-install.log" \
		apt-get install -y --no-install-recommends ${release:+-t "$release"} $missing
	missing=$(missing_host_packages)
	[ -z "$missing" ] || die "still missing after apt-get install: $missing"
}

# ---------------------------------------------------------------------------------------------
# private apt configurations (never touching the machine's apt sources)
# debian_mirror: the Debian mirror URI (HEAPSOC_DEBIAN_MIRROR, else the machine's own apt sources)
# shellcheck source=guest-images/debian-mirror.sh
. "$HERE/debian-mirror.sh"

# apt_dir SUITE -> prints the private apt directory for SUITE (arch-qualified lists are separate)
apt_dir() { printf '%s' "$DL/apt/$1"; }

apt_opts() { # apt_opts SUITE -> fills the APT_OPTS array
	local d
	d=$(apt_dir "$1")
	APT_OPTS=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache"
		-o "APT::Architectures::=$HOST_ARCH" -o "APT::Architectures::=$BUSYBOX_ARCH"
		-o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false)
	is_root && APT_OPTS+=(-o APT::Sandbox::User=root)
	return 0
}

apt_lists_present() { compgen -G "$(apt_dir "$1")/lists/*_Packages*" >/dev/null; }

apt_update() { # apt_update SUITE ARCH
	local suite=$1 arch=$2 d mirror
	d=$(apt_dir "$suite")
	mirror=$(debian_mirror)
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$arch" "$KEYRING" "$mirror" "$suite" >"$d/sources.list"
	apt_opts "$suite"
	log "      apt-get update ($suite from $mirror, private lists in $d)"
	run_logged "$d/update.log" apt-get "${APT_OPTS[@]}" update
}

pkg_version() { # pkg_version SUITE PKG[:ARCH] -> candidate version from the private lists
	apt_opts "$1"
	apt-cache "${APT_OPTS[@]}" show --no-all-versions "$2" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1
}

deb_path() { # deb_path PKG VERSION ARCH -> cached .deb file name (apt's own naming)
	printf '%s/debs/%s_%s_%s.deb' "$DL" "$1" "$(printf '%s' "$2" | sed 's/:/%3a/')" "$3"
}

download_deb() { # download_deb SUITE PKG[:ARCH] VERSION ARCH -> 0 if the .deb is in the cache
	local suite=$1 spec=$2 ver=$3 arch=$4 pkg=${2%%:*} f
	f=$(deb_path "$pkg" "$ver" "$arch")
	[ -s "$f" ] && return 0
	mkdir -p "$DL/debs"
	apt_opts "$suite"
	log "      apt-get download $spec=$ver ($suite)"
	if ! (cd "$DL/debs" && apt-get "${APT_OPTS[@]}" download "$spec=$ver") >"$DL/debs/download-$pkg.log" 2>&1; then
		log "      download failed (log: $DL/debs/download-$pkg.log)"
		return 1
	fi
	[ -s "$f" ] || { log "      apt-get download did not produce $f"; return 1; }
}

# sets KVER and BBVER from the private package lists (reading the network only when the lists are
# missing or --refresh was given, or when allow_update=1 and a version cannot be resolved)
resolve_versions() { # resolve_versions ALLOW_UPDATE
	local allow=$1 s arch
	for s in "$KERNEL_SUITE:$HOST_ARCH" "$BUSYBOX_SUITE:$BUSYBOX_ARCH"; do
		arch=${s#*:}
		s=${s%%:*}
		if [ "$REFRESH" = 1 ] || ! apt_lists_present "$s"; then
			[ "$allow" = 1 ] || return 1
			apt_update "$s" "$arch"
		fi
	done
	KVER=$(pkg_version "$KERNEL_SUITE" "$KERNEL_PKG")
	BBVER=$(pkg_version "$BUSYBOX_SUITE" "$BUSYBOX_PKG:$BUSYBOX_ARCH")
	[ -n "$KVER" ] || { [ "$allow" = 1 ] && die "$KERNEL_PKG not found in $KERNEL_SUITE (see $(apt_dir "$KERNEL_SUITE")/update.log)"; return 1; }
	[ -n "$BBVER" ] || { [ "$allow" = 1 ] && die "$BUSYBOX_PKG:$BUSYBOX_ARCH not found in $BUSYBOX_SUITE"; return 1; }
	return 0
}

# ---------------------------------------------------------------------------------------------
# input hash
toolchain_versions() {
	local p v out=""
	for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu gcc; do
		v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || true)
		out="$out$p=${v:-none} "
	done
	printf '%s' "$out"
}

input_files() { # every file the guest is built from, relative to $HERE
	(cd "$HERE" && printf '%s\n' build.sh kernel.fragment init && find tests -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
}

compute_hash() {
	{
		printf 'format=1\n'
		printf '%s=%s\n' "$KERNEL_PKG" "$KVER" "$BUSYBOX_PKG:$BUSYBOX_ARCH" "$BBVER"
		printf 'toolchain=%s\n' "$(toolchain_versions)"
		local f
		while IFS= read -r f; do
			[ -f "$HERE/$f" ] || die "missing input $HERE/$f"
			printf '%s %s\n' "$(sha256sum <"$HERE/$f" | cut -d' ' -f1)" "$f"
		done < <(input_files)
		local p
		for p in ${PATCHES[@]+"${PATCHES[@]}"}; do
			printf 'patch %s\n' "$(sha256sum <"$p" | cut -d' ' -f1)"
		done
		for p in ${FRAGMENTS[@]+"${FRAGMENTS[@]}"}; do
			printf 'fragment %s\n' "$(sha256sum <"$p" | cut -d' ' -f1)"
		done
	} | sha256sum | cut -c1-16
}

patch_set_hash() { # the patches alone, in order: names the patched tree and its object directory
	local p
	for p in "${PATCHES[@]}"; do sha256sum <"$p" | cut -d' ' -f1; done | sha256sum | cut -c1-16
}

# apply_patches TREE: the patches in order; a failure names the patch file and the hunk
apply_patches() {
	local tree=$1 p out failed
	for p in "${PATCHES[@]}"; do
		if ! out=$(patch -d "$tree" -p1 --forward --batch --fuzz=0 --no-backup-if-mismatch -r - <"$p" 2>&1); then
			failed=$(printf '%s\n' "$out" | awk '
				/^patching file / { f = $3 }
				/^Hunk #[0-9]+ FAILED/ { print f ": hunk " $2 " " $3 " " $4 " " $5; n++ }
				/can.t find file to patch/ { print "a file it changes is not in the tree"; n++ }
				/Reversed .* patch detected/ { print (f ? f ": " : "") "already applied (reversed patch detected)"; n++ }
				/^patch: \*\*\*\* / { sub(/^patch: \*\*\*\* /, ""); print; n++ }
				END { if (!n) print "patch said: " last }
				{ if (NF) last = $0 }' | head -n 3 | paste -sd ';' -)
			rm -rf "$(dirname "$tree")" # the half-patched copy
			die "patch $p does not apply to $KERNEL_PKG $KVER: $failed"
		fi
	done
}

# The lookup record: which guest directory the current inputs of this source tree give, with
# the size and modification time of everything the hash reads (inputs, the directories new
# inputs would appear in, the private package lists, the dpkg database for the toolchain).
# heapsoc finds its guest from it in microseconds while nothing changed, instead of running
# --print-dir (a second: apt-cache and dpkg-query). Unpatched guests only.
write_lookup_record() { # write_lookup_record OUT
	[ ${#PATCHES[@]} -eq 0 ] && [ ${#FRAGMENTS[@]} -eq 0 ] || return 0
	local dir="$CACHE_ROOT/guest/lookup" rec f
	rec="$dir/$(sanitize "$(cd "$HERE" && pwd -P)")"
	mkdir -p "$dir" 2>/dev/null || return 0
	{
		printf 'heapsoc-guest-lookup 1\n'
		printf 'dir %s\n' "$1"
		while IFS= read -r f; do
			stat -c 'stat %s %.9Y %n' "$HERE/$f"
		done < <(input_files)
		stat -c 'stat %s %.9Y %n' "$HERE" "$HERE/tests" "$(apt_dir "$KERNEL_SUITE")/lists" \
			"$(apt_dir "$BUSYBOX_SUITE")/lists" /var/lib/dpkg/status
	} >"$rec.tmp" 2>/dev/null || { rm -f "$rec.tmp"; return 0; }
	mv "$rec.tmp" "$rec"
}

manifest_complete() { # manifest_complete DIR
	[ -s "$1/manifest.json" ] && [ -s "$1/Image" ] && [ -s "$1/initramfs.cpio.gz" ]
}

# ---------------------------------------------------------------------------------------------
# fast paths: --print-dir, and an already built guest
if [ "$MODE" = print ]; then
	resolve_versions 0 || die "guest not built (no package lists under $DL/apt yet): run $SELF"
	OUT="$CACHE_ROOT/guest/$(compute_hash)"
	if manifest_complete "$OUT"; then
		write_lookup_record "$OUT"
		printf '%s\n' "$OUT"
		exit 0
	fi
	log "build.sh: guest for the current inputs is not built ($OUT): run $SELF"
	exit 1
fi

mkdir -p "$CACHE_ROOT"
resolve_versions 1
HASH=$(compute_hash)
OUT="$CACHE_ROOT/guest/$HASH"
if [ "$FORCE" = 0 ] && manifest_complete "$OUT"; then
	log "guest up to date (inputs $HASH)"
	write_lookup_record "$OUT"
	printf '%s\n' "$OUT"
	exit 0
fi

# one build at a time per cache (they share the kernel object directory)
exec 9>"$CACHE_ROOT/.build.lock"
flock 9

step 1 "checking host tools"
ensure_host_tools
HASH=$(compute_hash) # the toolchain versions are part of the hash
OUT="$CACHE_ROOT/guest/$HASH"
if [ "$FORCE" = 0 ] && manifest_complete "$OUT"; then
	log "guest up to date (inputs $HASH)"
	printf '%s\n' "$OUT"
	exit 0
fi
log "      inputs hash $HASH -> $OUT"
WORK="$OUT.partial"
rm -rf "$WORK"
mkdir -p "$WORK/logs"
step_done

# ---------------------------------------------------------------------------------------------
step 2 "fetching $KERNEL_PKG $KVER and $BUSYBOX_PKG:$BUSYBOX_ARCH $BBVER"
if ! download_deb "$KERNEL_SUITE" "$KERNEL_PKG" "$KVER" all ||
	! download_deb "$BUSYBOX_SUITE" "$BUSYBOX_PKG:$BUSYBOX_ARCH" "$BBVER" "$BUSYBOX_ARCH"; then
	# the mirror may have moved on: re-read the lists once
	REFRESH=1
	resolve_versions 1
	download_deb "$KERNEL_SUITE" "$KERNEL_PKG" "$KVER" all || die "cannot download $KERNEL_PKG=$KVER"
	download_deb "$BUSYBOX_SUITE" "$BUSYBOX_PKG:$BUSYBOX_ARCH" "$BBVER" "$BUSYBOX_ARCH" ||
		die "cannot download $BUSYBOX_PKG:$BUSYBOX_ARCH=$BBVER"
	NEWHASH=$(compute_hash)
	if [ "$NEWHASH" != "$HASH" ]; then
		rm -rf "$WORK"
		HASH=$NEWHASH
		OUT="$CACHE_ROOT/guest/$HASH"
		WORK="$OUT.partial"
		rm -rf "$WORK"
		mkdir -p "$WORK/logs"
		log "      package versions changed: inputs hash $HASH -> $OUT"
	fi
fi
SRCBASE="$DL/src/$(sanitize "$KERNEL_PKG-$KVER")"
SRC="$SRCBASE/$KERNEL_PKG"
PRISTINE=$SRC
if [ ! -e "$SRCBASE/.unpacked" ]; then
	log "      unpacking $KERNEL_PKG into $SRCBASE"
	rm -rf "$SRCBASE"
	mkdir -p "$SRCBASE/deb"
	dpkg-deb -x "$(deb_path "$KERNEL_PKG" "$KVER" all)" "$SRCBASE/deb"
	tarball=$(find "$SRCBASE/deb/usr/src" -maxdepth 1 -name "$KERNEL_PKG.tar.*" | head -n 1)
	[ -n "$tarball" ] || die "no $KERNEL_PKG.tar.* under usr/src in the package"
	tar -C "$SRCBASE" -xf "$tarball"
	rm -rf "$SRCBASE/deb"
	[ -f "$SRC/Makefile" ] || die "unpacked kernel tree not found at $SRC"
	touch "$SRCBASE/.unpacked"
fi
KBUILD="$CACHE_ROOT/kbuild/$(sanitize "$KERNEL_PKG-$KVER")"
if [ ${#PATCHES[@]} -gt 0 ]; then
	# a copy of the tree (hard links: patch replaces the files it changes) per patch set
	PSET=$(patch_set_hash)
	PBASE="$DL/src/patched/$(sanitize "$KERNEL_PKG-$KVER")-$PSET"
	if [ ! -e "$PBASE/.patched" ]; then
		log "      applying ${#PATCHES[@]} patch(es) to a copy of $KERNEL_PKG in $PBASE"
		rm -rf "$PBASE"
		mkdir -p "$PBASE"
		cp -al "$PRISTINE" "$PBASE/$KERNEL_PKG"
		apply_patches "$PBASE/$KERNEL_PKG"
		touch "$PBASE/.patched"
	fi
	SRC="$PBASE/$KERNEL_PKG"
	KBUILD="$KBUILD-$PSET"
fi
BBDIR="$DL/busybox/$(sanitize "$BUSYBOX_PKG-$BUSYBOX_ARCH-$BBVER")"
if [ ! -e "$BBDIR/.unpacked" ]; then
	rm -rf "$BBDIR"
	mkdir -p "$BBDIR"
	dpkg-deb -x "$(deb_path "$BUSYBOX_PKG" "$BBVER" "$BUSYBOX_ARCH")" "$BBDIR"
	[ -x "$BBDIR/bin/busybox" ] || die "no bin/busybox in $BUSYBOX_PKG"
	touch "$BBDIR/.unpacked"
fi
step_done

# ---------------------------------------------------------------------------------------------
mkdir -p "$KBUILD"
# reproducible-ish builds: no user/host/date of this machine in the Image
export KBUILD_BUILD_USER=heapsoc KBUILD_BUILD_HOST=heapsoc KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970"
KMAKE=(make -C "$SRC" O="$KBUILD" ARCH=arm64 CROSS_COMPILE="$CROSS")

step 3 "configuring kernel (allnoconfig + kernel.fragment) and checking .config"
fragment_options() { # the options a fragment sets or unsets
	sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p' -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p' "$1"
}
for f in "$HERE/kernel.fragment" ${FRAGMENTS[@]+"${FRAGMENTS[@]}"}; do
	dups=$(fragment_options "$f" | sort | uniq -d | tr '\n' ' ')
	[ -z "$dups" ] || die "$f sets these options more than once: $dups"
done
# kernel.fragment, then each --fragment; an option set again later replaces the earlier line
cp "$HERE/kernel.fragment" "$WORK/kernel.fragment"
for f in ${FRAGMENTS[@]+"${FRAGMENTS[@]}"}; do
	while IFS= read -r opt; do
		sed -i -e "/^$opt=/d" -e "/^# $opt is not set\$/d" "$WORK/kernel.fragment"
	done < <(fragment_options "$f")
	{
		printf '\n# --fragment %s\n' "$f"
		cat "$f"
	} >>"$WORK/kernel.fragment"
done
run_logged "$WORK/logs/kernel-config.log" "${KMAKE[@]}" KCONFIG_ALLCONFIG="$WORK/kernel.fragment" allnoconfig
bad=""
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$KBUILD/.config" ||
			bad="$bad
    wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$KBUILD/.config" || echo "(absent: unknown option or unmet dependencies)")"
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -qE "^$opt=" "$KBUILD/.config"; then
			bad="$bad
    wanted $opt not set, got: $(grep -E "^$opt=" "$KBUILD/.config")"
		fi
		;;
	esac
done <"$WORK/kernel.fragment"
[ -z "$bad" ] || die "the kernel .config does not match kernel.fragment:$bad"
cp "$KBUILD/.config" "$WORK/config"
step_done

step 4 "building Image (make -j$JOBS)"
run_logged "$WORK/logs/kernel-build.log" "${KMAKE[@]}" -j"$JOBS" Image
cp "$KBUILD/arch/arm64/boot/Image" "$WORK/Image"
KRELEASE=$("${KMAKE[@]}" -s kernelrelease)
KBUILD_SECS=$(($(date +%s) - STEP_T))
step_done

step 5 "installing kernel headers"
run_logged "$WORK/logs/headers.log" "${KMAKE[@]}" headers_install INSTALL_HDR_PATH="$WORK/headers"
[ -f "$WORK/headers/include/linux/dma-heap.h" ] || die "headers_install produced no linux/dma-heap.h"
step_done

step 6 "building guest tests (dmabuf-heaps kselftest, tests/*.c)"
mkdir -p "$WORK/bin"
CC="${CROSS}gcc"
KST="$SRC/tools/testing/selftests"
run_logged "$WORK/logs/tests.log" "$CC" -static -O2 -Wall -Wl,-no-as-needed \
	-isystem "$WORK/headers/include" -I "$KST" \
	-o "$WORK/bin/dmabuf-heap" "$KST/dmabuf-heaps/dmabuf-heap.c"
for c in "$HERE"/tests/*.c; do
	[ -e "$c" ] || continue
	name=$(basename "$c" .c)
	run_logged "$WORK/logs/test-$name.log" "$CC" -static -O2 -Wall -Wextra \
		-isystem "$WORK/headers/include" -o "$WORK/bin/$name" "$c"
done
step_done

# ---------------------------------------------------------------------------------------------
step 7 "assembling initramfs and manifest"
run_logged "$WORK/logs/gen_init_cpio.log" gcc -O2 -o "$WORK/gen_init_cpio" "$SRC/usr/gen_init_cpio.c"
LIST="$WORK/initramfs.list"
{
	printf '# heapsoc initramfs (gen_init_cpio list)\n'
	for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /root /etc /tests; do
		printf 'dir %s 0755 0 0\n' "$d"
	done
	printf 'nod /dev/console 0600 0 0 c 5 1\n'
	printf 'nod /dev/null 0666 0 0 c 1 3\n'
	printf 'file /bin/busybox %s 0755 0 0\n' "$BBDIR/bin/busybox"
	for a in $APPLETS; do
		printf 'slink /bin/%s busybox 0777 0 0\n' "$a"
	done
	printf 'file /init %s 0755 0 0\n' "$HERE/init"
	for b in "$WORK"/bin/*; do
		printf 'file /tests/%s %s 0755 0 0\n' "$(basename "$b")" "$b"
	done
} >"$LIST"
"$WORK/gen_init_cpio" -t 0 "$LIST" | gzip -9 -n >"$WORK/initramfs.cpio.gz"
rm -f "$WORK/gen_init_cpio"

sha() { sha256sum "$1" | cut -d' ' -f1; }
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
{
	printf '{\n'
	printf '  "format": 1,\n'
	printf '  "input_hash": %s,\n' "$(json_str "$HASH")"
	printf '  "kernel_release": %s,\n' "$(json_str "$KRELEASE")"
	printf '  "packages": {\n'
	printf '    %s: %s,\n' "$(json_str "$KERNEL_PKG")" "$(json_str "$KVER")"
	printf '    %s: %s\n' "$(json_str "$BUSYBOX_PKG:$BUSYBOX_ARCH")" "$(json_str "$BBVER")"
	printf '  },\n'
	printf '  "toolchain": %s,\n' "$(json_str "$(toolchain_versions)")"
	printf '  "patches": [%s],\n' "$(for f in ${PATCHES[@]+"${PATCHES[@]}"}; do printf '{"file": %s, "sha256": "%s"},' "$(json_str "$f")" "$(sha "$f")"; done | sed 's/,$//')"
	printf '  "fragments": [%s],\n' "$(for f in ${FRAGMENTS[@]+"${FRAGMENTS[@]}"}; do printf '{"file": %s, "sha256": "%s"},' "$(json_str "$f")" "$(sha "$f")"; done | sed 's/,$//')"
	printf '  "files": {\n'
	printf '    "Image": {"sha256": "%s", "size": %d},\n' "$(sha "$WORK/Image")" "$(stat -c %s "$WORK/Image")"
	printf '    "initramfs.cpio.gz": {"sha256": "%s", "size": %d},\n' "$(sha "$WORK/initramfs.cpio.gz")" "$(stat -c %s "$WORK/initramfs.cpio.gz")"
	printf '    "config": {"sha256": "%s"},\n' "$(sha "$WORK/config")"
	printf '    "kernel.fragment": {"sha256": "%s"}\n' "$(sha "$WORK/kernel.fragment")"
	printf '  },\n'
	printf '  "tests": [%s],\n' "$(for b in "$WORK"/bin/*; do printf '"/tests/%s",' "$(basename "$b")"; done | sed 's/,$//')"
	printf '  "kernel_build_seconds": %d,\n' "$KBUILD_SECS"
	printf '  "built_at": %s\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
	printf '}\n'
} >"$WORK/manifest.json.tmp"
mv "$WORK/manifest.json.tmp" "$WORK/manifest.json"
rm -rf "$OUT"
mv "$WORK" "$OUT"
write_lookup_record "$OUT"
step_done
log "guest built in $(fmt_secs $(($(date +%s) - T0))): $OUT"
printf '%s\n' "$OUT"
