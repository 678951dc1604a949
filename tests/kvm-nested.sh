#!/usr/bin/env bash
# tests/kvm-nested.sh - heapsoc's KVM backend, proved on a machine that is not Arm64.
#
# An arm64 host is emulated: qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max
# boots Debian trixie's arm64 kernel (linux-image-arm64, KVM built in) at EL2 with a small
# initramfs (busybox-static:arm64). Inside it, an aarch64 heapsoc runs
#   heapsoc test --accel kvm --dtb BOARD.dtb --kernel Image --initrd initramfs.cpio.gz
# on the guest guest-images/build.sh built, for the reference board, its 4-CPU variant and a
# real vendor board of the kernel tree (TI AM625 SK, unchanged): the heapsoc guest runs on KVM's
# vCPUs (nested: KVM inside TCG), its devices are heapsoc's models, its DMA goes to heapsoc's
# ledger. It also boots crates/vmm/tests/guest/unmapped.S, which must see an external abort.
# The same command runs here on the interpreter (--accel interp), and the two JUnit reports must
# list the same test cases with the same results, every one passing, and both runs must end with
# exit status 0 (placement verdict pass). The KVM run must say that KVM ran it.
#
# heapsoc for aarch64 is built with Debian trixie's rustc/cargo 1.85 and libstd-rust-dev:arm64 in a
# debootstrap'd trixie root (the workspace's declared rust-version), offline, from the crates
# `cargo fetch` put in this machine's cargo registry. The machine's own apt sources are only read
# (for the mirror URI), never changed.
#
# Cached under ${XDG_CACHE_HOME:-~/.cache}/heapsoc/kvm-nested (HEAPSOC_KVM_NESTED_CACHE
# overrides it, e.g. an empty directory to check the set-up from nothing): the trixie root with
# its toolchain, the arm64 kernel and busybox packages, the aarch64 build directory.
#
# Usage: tests/kvm-nested.sh [--plan PLAN]   (default plan: all)
# Needs root (debootstrap, chroot, a bind mount of the cargo registry).
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT_DIR"

say() { printf 'kvm-nested: %s\n' "$*"; }
die() {
	printf 'kvm-nested: FAIL: %s\n' "$*" >&2
	exit 1
}

PLAN=all
while [ $# -gt 0 ]; do
	case $1 in
	--plan) PLAN=$2; shift 2 ;;
	*) die "unknown argument $1 (usage: tests/kvm-nested.sh [--plan PLAN])" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, bind mount)"
# shellcheck source=guest-images/debian-mirror.sh
. "$ROOT_DIR/guest-images/debian-mirror.sh"
MIRROR=$(debian_mirror)
CACHE=${HEAPSOC_KVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/heapsoc/kvm-nested}
TROOT=$CACHE/trixie-root
# Bump when the root's contents change.
ROOT_STAMP="trixie rustc cargo libstd-rust-dev:arm64 gcc-aarch64-linux-gnu libc6-dev:arm64 v1"
T0=$(date +%s)

for tool in debootstrap qemu-system-aarch64 cpio dtc; do
	command -v "$tool" >/dev/null || die "$tool is missing (tests/host-deps.sh installs it)"
done

# --- 1. the trixie root: the aarch64 toolchain and the arm64 packages ------------------------
if [ "$(cat "$TROOT/.heapsoc-root" 2>/dev/null)" != "$ROOT_STAMP" ]; then
	rm -rf "$TROOT"
	mkdir -p "$CACHE"
	say "debootstrap trixie from $MIRROR into $TROOT"
	debootstrap --variant=minbase trixie "$TROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed (log: $CACHE/debootstrap.log)"
	printf 'deb %s trixie main\n' "$MIRROR" >"$TROOT/etc/apt/sources.list"
	say "installing rustc, cargo, libstd-rust-dev:arm64 and the aarch64 linker in the root"
	chroot "$TROOT" sh -c 'dpkg --add-architecture arm64 && apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			rustc cargo libstd-rust-dev:arm64 gcc-aarch64-linux-gnu libc6-dev:arm64' \
		>"$CACHE/apt.log" 2>&1 || die "installing the toolchain failed (log: $CACHE/apt.log)"
	mkdir -p "$TROOT/build/debs"
	kpkg=$(chroot "$TROOT" apt-cache depends linux-image-arm64:arm64 |
		awk '/Depends: linux-image-[0-9]/ { sub(":arm64", "", $2); print $2; exit }')
	[ -n "$kpkg" ] || die "cannot tell which kernel linux-image-arm64 depends on"
	say "downloading $kpkg:arm64 and busybox-static:arm64"
	chroot "$TROOT" sh -c "cd /build/debs && apt-get download -q $kpkg:arm64 busybox-static:arm64" \
		>>"$CACHE/apt.log" 2>&1 || die "downloading the arm64 packages failed (log: $CACHE/apt.log)"
	echo "$ROOT_STAMP" >"$TROOT/.heapsoc-root"
fi
T1=$(date +%s)

# --- 2. heapsoc for aarch64, built in the root ------------------------------------------------
CARGO_REG=${CARGO_HOME:-$HOME/.cargo}/registry
say "cargo fetch (the crates the aarch64 build reads offline)"
cargo fetch --locked -q
REGMOUNT=$TROOT/build/cargo-home/registry
mkdir -p "$REGMOUNT"
cleanup() { mountpoint -q "$REGMOUNT" && umount "$REGMOUNT" || true; }
trap cleanup EXIT
mountpoint -q "$REGMOUNT" || mount --bind "$CARGO_REG" "$REGMOUNT"
# The work tree's tracked files (with their uncommitted changes), not its build output.
rm -rf "$TROOT/build/src"
mkdir -p "$TROOT/build/src"
git ls-files -z --cached --others --exclude-standard |
	(cd "$ROOT_DIR" && tar --null -T - -cf - 2>/dev/null) | tar -x -C "$TROOT/build/src"
say "cargo build --release --workspace --target aarch64-unknown-linux-gnu in the trixie root (and vmm's unit tests)"
chroot "$TROOT" env -i PATH=/usr/bin:/bin HOME=/root CARGO_HOME=/build/cargo-home \
	CARGO_TARGET_DIR=/build/target \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	RUSTFLAGS="-C target-feature=+crt-static" \
	sh -c 'cd /build/src && cargo --version &&
		cargo build --release --locked --offline --target aarch64-unknown-linux-gnu --workspace &&
		cargo test --release --locked --offline --target aarch64-unknown-linux-gnu -p vmm --lib --no-run' \
	>"$CACHE/cross-build.log" 2>&1 ||
	{ tail -30 "$CACHE/cross-build.log"; die "the aarch64 build failed (log: $CACHE/cross-build.log)"; }
cleanup
trap - EXIT
if grep -q '^warning' "$CACHE/cross-build.log"; then
	grep -A6 '^warning' "$CACHE/cross-build.log" | head -40
	die "the aarch64 build has warnings (log: $CACHE/cross-build.log)"
fi
HEAPSOC_A64=$TROOT/build/target/aarch64-unknown-linux-gnu/release/heapsoc
# vmm's unit tests as built for aarch64 (the KVM backend's plan, its register ids, --accel),
# run here under qemu-aarch64: the aarch64 build of that code, which the x86 suite never runs.
VMM_TESTS=$(sed -n 's|.*Executable unittests src/lib.rs (/build/\(target/[^)]*\)).*|\1|p' "$CACHE/cross-build.log" | tail -1)
[ -n "$VMM_TESTS" ] && [ -x "$TROOT/build/$VMM_TESTS" ] || die "cannot find vmm's aarch64 unit-test binary in $CACHE/cross-build.log"
command -v qemu-aarch64 >/dev/null || die "qemu-aarch64 is missing (tests/host-deps.sh installs qemu-user)"
# (The kvm:: tests only: the others read the repository at the path it had in the root.)
qemu-aarch64 "$TROOT/build/$VMM_TESTS" kvm:: >"$CACHE/unit-aarch64.log" 2>&1 ||
	{ tail -30 "$CACHE/unit-aarch64.log"; die "the KVM backend's unit tests failed on aarch64 (log: $CACHE/unit-aarch64.log)"; }
grep -q 'test result: ok. [1-9]' "$CACHE/unit-aarch64.log" || die "no KVM unit test ran on aarch64 (log: $CACHE/unit-aarch64.log)"
say "the KVM backend's unit tests, built for aarch64, under qemu-aarch64: $(grep -o 'test result: ok. [0-9]* passed' "$CACHE/unit-aarch64.log" | tail -1)"
T2=$(date +%s)

# --- 3. the emulated arm64 host: kernel, initramfs with heapsoc and the guest ----------------
guest-images/build.sh >/dev/null
GUEST=$(guest-images/build.sh --print-dir)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvm-nested.XXXXXX")
L1=$WORK/l1
mkdir -p "$L1"/{bin,sbin,proc,sys,dev,tmp,guest,out}
dpkg-deb --fsys-tarfile "$TROOT"/build/debs/linux-image-[0-9]*_arm64.deb | tar -x -C "$WORK" ./boot
VMLINUZ=$(ls "$WORK"/boot/vmlinuz-*)
dpkg-deb --fsys-tarfile "$TROOT"/build/debs/busybox-static_*_arm64.deb | tar -x -C "$WORK" ./usr/bin/busybox
cp "$WORK/usr/bin/busybox" "$L1/bin/busybox"
cp "$HEAPSOC_A64" "$L1/bin/heapsoc"
cp "$GUEST/Image" "$GUEST/initramfs.cpio.gz" "$L1/guest/"
# The boards: the reference board (one CPU) and its four-CPU variant (PSCI CPU_ON answered by
# KVM, one vGICv3 redistributor per vCPU, MPIDRs from the DT), with PLAN; and a real vendor
# board from the guest's kernel tree, unchanged, with the kselftest as tests/vendor-boards.sh
# runs it: TI's AM625 SK (GIC-500 with an ITS heapsoc does not model, PSCI over SMC, 4 CPUs,
# the console on a virtio-console heapsoc adds).
trees=("$(dirname "$(dirname "$GUEST")")"/downloads/src/linux-source-*/linux-source-*)
TREE=${trees[${#trees[@]} - 1]}
[ -d "$TREE/arch/arm64/boot/dts" ] || die "the guest's kernel tree is not unpacked next to $GUEST"
declare -A SRC=([heap-soc]=device-trees/heap-soc.dts [heap-soc-smp4]=device-trees/heap-soc-smp4.dts
	[k3-am625-sk]=$TREE/arch/arm64/boot/dts/ti/k3-am625-sk.dts)
declare -A PLANOF=([heap-soc]=$PLAN [heap-soc-smp4]=$PLAN [k3-am625-sk]=selftest)
BOARDS="heap-soc heap-soc-smp4 k3-am625-sk"
DTC=dtc
[ -x "$TREE/scripts/dtc/dtc" ] && DTC=$TREE/scripts/dtc/dtc
for b in $BOARDS; do
	# As heapsoc compiles a kernel-tree board: cpp with the tree's include directories, then dtc.
	cpp -nostdinc -undef -x assembler-with-cpp -I "$TREE/include" -I "$TREE/arch/arm64/boot/dts" \
		-I "$TREE/scripts/dtc/include-prefixes" "${SRC[$b]}" 2>/dev/null |
		"$DTC" -q -i "$(dirname "${SRC[$b]}")" -I dts -O dtb -o "$L1/$b.dtb" - ||
		die "$b: cannot compile ${SRC[$b]}"
done
GUEST_ARGS="--kernel /guest/Image --initrd /guest/initramfs.cpio.gz"
RUNS=""
for b in $BOARDS; do RUNS="$RUNS $b:${PLANOF[$b]}"; done
# The external-abort Image of vmm's tests (crates/vmm/tests/guest/unmapped.S): a load where
# nothing is mapped must abort under KVM as on the interpreter ("AD" on the console).
GUEST_S=crates/vmm/tests/guest
aarch64-linux-gnu-as -I "$GUEST_S" -o "$WORK/unmapped.o" "$GUEST_S/unmapped.S" &&
	aarch64-linux-gnu-ld -Ttext=0 -o "$WORK/unmapped.elf" "$WORK/unmapped.o" &&
	aarch64-linux-gnu-objcopy -O binary "$WORK/unmapped.elf" "$L1/unmapped.Image" ||
	die "cannot assemble $GUEST_S/unmapped.S (the cross binutils come from tests/host-deps.sh)"
cat >"$L1/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "L1: \$(uname -r) on \$(grep -c ^processor /proc/cpuinfo) CPU(s), /dev/kvm: \$(ls /dev/kvm 2>&1)"
for run in $RUNS; do
	b=\${run%%:*}
	t0=\$(date +%s)
	/bin/heapsoc test --accel kvm --dtb /\$b.dtb --junit /out/\$b.xml $GUEST_ARGS --plan \${run#*:} >/out/\$b.out 2>/out/\$b.err
	rc=\$?
	t1=\$(date +%s)
	echo "KVM-NESTED-BEGIN-STDERR \$b"; cat /out/\$b.err; echo "KVM-NESTED-END-STDERR"
	echo "KVM-NESTED-BEGIN-JUNIT \$b"; cat /out/\$b.xml; echo "KVM-NESTED-END-JUNIT"
	echo "KVM-NESTED-RESULT \$b rc=\$rc seconds=\$((t1 - t0))"
done
/bin/heapsoc run --accel kvm --dtb /heap-soc.dtb --kernel /unmapped.Image \
	--initrd /guest/initramfs.cpio.gz </dev/null >/out/unmapped.out 2>/out/unmapped.err
echo "KVM-NESTED-UNMAPPED rc=\$? console=\$(head -c 2 /out/unmapped.out)"
tail -n 3 /out/unmapped.err
poweroff -f
EOF
chmod +x "$L1/init"
(cd "$L1" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/l1.cpio.gz"

say "booting the emulated arm64 host (QEMU TCG, EL2, GICv3) with heapsoc --accel kvm inside"
set +e
timeout 2400 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
	-cpu max,pauth-impdef=on -smp 2 -m 3072 -nographic -no-reboot -nic none \
	-kernel "$VMLINUZ" -initrd "$WORK/l1.cpio.gz" \
	-append "console=ttyAMA0 rdinit=/init quiet loglevel=3" \
	</dev/null >"$WORK/l1.log" 2>&1
qrc=$?
set -e
T3=$(date +%s)
# Test cases as "suite<TAB>name<TAB>result", one per line, from a JUnit report.
cases() {
	python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
for suite in root.iter("testsuite"):
    for case in suite.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            result = "fail"
        elif case.find("skipped") is not None:
            result = "skip"
        else:
            result = "pass"
        print(f"{suite.get('name')}\t{case.get('name')}\t{result}")
PY
}
# The serial console ends lines with CR LF.
tr -d '\r' <"$WORK/l1.log" >"$WORK/l1.txt"
grep -a -m1 '^L1:' "$WORK/l1.txt" | sed 's/^/kvm-nested: /'
cargo build --release -q -p heapsoc
report=()
for b in $BOARDS; do
	result=$(grep -a -o "KVM-NESTED-RESULT $b rc=[0-9]* seconds=[0-9]*" "$WORK/l1.txt" || true)
	[ -n "$result" ] || {
		tail -40 "$WORK/l1.log"
		die "$b: the emulated host never reported a result (QEMU exit $qrc; log $WORK/l1.log)"
	}
	sed -n "/^KVM-NESTED-BEGIN-STDERR $b\$/,/^KVM-NESTED-END-STDERR/p" "$WORK/l1.txt" |
		sed '1d;$d' >"$WORK/$b.kvm.err"
	sed -n "/^KVM-NESTED-BEGIN-JUNIT $b\$/,/^KVM-NESTED-END-JUNIT/p" "$WORK/l1.txt" |
		sed '1d;$d' >"$WORK/$b.kvm.xml"
	krc=$(sed 's/.*rc=\([0-9]*\).*/\1/' <<<"$result")
	ksecs=$(sed 's/.*seconds=\([0-9]*\).*/\1/' <<<"$result")
	grep -q 'heapsoc: CPU backend: KVM' "$WORK/$b.kvm.err" || {
		tail -30 "$WORK/$b.kvm.err"
		die "$b: the run inside the emulated host did not run on KVM"
	}
	[ "$krc" = 0 ] || {
		tail -40 "$WORK/$b.kvm.err"
		die "$b: heapsoc test --accel kvm exited $krc (stderr above; log $WORK/l1.log)"
	}
	# The same test on the interpreter, here.
	t0=$(date +%s)
	set +e
	./target/release/heapsoc test --accel interp --junit "$WORK/$b.interp.xml" \
		--dtb "${SRC[$b]}" --kernel "$GUEST/Image" --initrd "$GUEST/initramfs.cpio.gz" \
		--plan "${PLANOF[$b]}" >"$WORK/$b.interp.out" 2>"$WORK/$b.interp.err"
	irc=$?
	set -e
	isecs=$(($(date +%s) - t0))
	[ "$irc" = 0 ] || { tail -30 "$WORK/$b.interp.err"; die "$b: heapsoc test --accel interp exited $irc"; }
	cases "$WORK/$b.kvm.xml" | sort >"$WORK/$b.kvm.cases"
	cases "$WORK/$b.interp.xml" | sort >"$WORK/$b.interp.cases"
	n=$(wc -l <"$WORK/$b.kvm.cases")
	[ "$n" -gt 0 ] || die "$b: the KVM run's JUnit report lists no test cases"
	if ! diff -u "$WORK/$b.interp.cases" "$WORK/$b.kvm.cases" >"$WORK/$b.cases.diff"; then
		head -40 "$WORK/$b.cases.diff"
		die "$b: the KVM run's test cases differ from the interpreter's (diff above)"
	fi
	if grep -q $'\tfail$' "$WORK/$b.kvm.cases"; then
		die "$b: test cases failed under KVM: $(grep $'\tfail$' "$WORK/$b.kvm.cases" | head -5 | tr '\n\t' '; ')"
	fi
	grep -q '^verdict: pass' "$WORK/$b.kvm.err" || die "$b: the KVM run's placement verdict is not pass"
	say "$b: $(grep -a -m1 'CPU backend' "$WORK/$b.kvm.err" | sed 's/^heapsoc: //')"
	say "$b: $(grep -a -m1 '^heapsoc: CPUs:' "$WORK/$b.kvm.err" | sed 's/^heapsoc: //')"
	say "$b: $n test cases under KVM, the same as the interpreter's with the same results; placement verdict pass; per suite (passed/total):"
	awk -F'\t' '{ t[$1]++; if ($3 == "pass") ok[$1]++ }
		END { for (s in t) printf "kvm-nested:     %s %d/%d\n", s, ok[s], t[s] }' "$WORK/$b.kvm.cases" | sort
	report+=("$b: KVM ${ksecs} s inside the emulated host, interpreter ${isecs} s here")
done
unmapped=$(grep -a -o 'KVM-NESTED-UNMAPPED rc=[0-9]* console=[A-Z]*' "$WORK/l1.txt" || true)
[ "$unmapped" = "KVM-NESTED-UNMAPPED rc=0 console=AD" ] || {
	grep -a -A3 'KVM-NESTED-UNMAPPED' "$WORK/l1.txt" | head -5
	die "a load where nothing is mapped did not take an external abort under KVM: ${unmapped:-no result}"
}
say "unmapped.S under KVM: the load from 0x0c000000 took a synchronous external abort (EC 0x25, DFSC 0x10, FAR), as on the interpreter"
T4=$(date +%s)
for r in "${report[@]}"; do say "$r"; done
say "PASS in $((T4 - T0)) s: root $((T1 - T0)) s, aarch64 build $((T2 - T1)) s, emulated host $((T3 - T2)) s, interpreter runs and checks $((T4 - T3)) s"
rm -rf "$WORK"
