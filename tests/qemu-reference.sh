#!/usr/bin/env bash
# tests/qemu-reference.sh - the QEMU reference oracle for the heapsoc guest.
#
# Boots the guest built by guest-images/build.sh on qemu-system-aarch64 (virt, GICv3, Cortex-A53,
# 512 MiB) with the heap-soc.dts board, and checks what the guest reports:
#   - the dmabuf-heaps kselftest printed "# Totals: pass:N fail:0" with N >= 48,
#   - our heap-placement test printed no "not ok",
#   - every CMA heap of the board (each reusable shared-dma-pool, and default_cma_region) had
#     buffers located, each inside that heap's pool as the device tree describes it,
#   - virtio_gpu bound to the board's virtio-mmio slot, with +resource_blob when blob resources
#     are on, and our heap-display test printed no "not ok", a virtio_gpu result for 3 buffers
#     of every heap (imported as guest blobs with blob resources, refused with ENODEV without)
#     and a scanout of the last one (pl111 lines are SKIPs: virt has no PL111),
#   - the guest's last word was "HEAPSOC-EXIT: 0".
#
# QEMU is given neither -kernel nor -dtb (with -dtb QEMU rewrites /memory and the banks' ECC
# properties are lost): the DTB, Image and initramfs are placed with `-device loader` and a
# six-instruction boot stub enters the kernel at EL1 with x0 = DTB, x1..x3 = 0 (booting.rst).
# The PL111 display, its panel and the DMC-520 are disabled in QEMU's copy of the DT (virt has
# neither).
#
# virtio-gpu: virt creates 32 virtio-mmio transports at 0x0a000000 + N * 0x200 (SPI 16 + N), bus
# virtio-mmio-bus.N; a plain -device lands on the *highest* free one (N = 31), so the GPU is put
# on the bus of the DT's virtio,mmio node (heap-soc.dts: 0x0a000000, SPI 16 -> bus .0), as a
# virtio 1.x transport (virt's transports are legacy unless virtio-mmio.force-legacy=false).
# Blob resources (VIRTIO_GPU_F_RESOURCE_BLOB, which Linux 7.3 needs to import foreign dma-bufs):
# QEMU 7.2 enables blob=true only with guest RAM in a memfd backend and /dev/udmabuf on the host
# (else "cannot enable blob resources without udmabuf"). --blob picks:
#   host      blob=true with the host's /dev/udmabuf: the guest imports, QEMU also shows the frames
#   stand-in  the host has no udmabuf (CONFIG_UDMABUF off): QEMU runs in a private mount namespace
#             (unshare -m, an overlay on /dev) where /dev/udmabuf is an empty file, so blob=true
#             is accepted and the guest gets +resource_blob and imports; QEMU's UDMABUF_CREATE_LIST
#             then fails (warnings in qemu-stderr.log) and it cannot map the blobs, so the guest's
#             SET_SCANOUT_BLOB/RESOURCE_FLUSH get error replies: the frames' pixels are not checked
#   off       blob=false: the guest's imports fail with ENODEV (checked as such)
#   auto      (default) host if /dev/udmabuf is a character device, else stand-in if unshare
#             works, else off
# QEMU 7.2 maps a blob of one contiguous guest range straight from guest RAM, without udmabuf: with
# the stand-in, CMA heap frames are really shown and only scattered (system heap) ones are not.
# Each frame heap-display shows is held heapsoc.display_hold_ms (1000 here); the script takes a
# `screendump` through a monitor socket during the hold and checks the colour bars and the tag
# barcode (which buffer it is) of every frame QEMU can show (all with host udmabuf; CMA and dumb
# buffers with the stand-in; the dumb buffer without blob resources).
#
# usage: tests/qemu-reference.sh [--plan all|selftest|placement|display|none] [--blob MODE]
#                                [--insns] [--timeout S] [-v]
#   --plan     heapsoc.test= for the guest (default all; "none" boots to /init and powers off)
#   --blob     auto|host|stand-in|off: virtio-gpu blob resources (see above; default auto)
#   --insns    count guest instructions with a small TCG plugin built here (needs gcc)
#   -v         copy the console to stdout while it runs
# Environment: HEAPSOC_QEMU (default qemu-system-aarch64), HEAPSOC_WORKDIR (default: a new
# directory under ${TMPDIR:-/tmp}); the console log is kept there (QEMU's own messages in
# qemu-stderr.log beside it) and its path printed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QEMU=${HEAPSOC_QEMU:-qemu-system-aarch64}
PLAN=all
BLOB=auto
INSNS=0
TIMEOUT=300
VERBOSE=0
while [ $# -gt 0 ]; do
	case "$1" in
	--plan) PLAN=$2; shift 2 ;;
	--blob) BLOB=$2; shift 2 ;;
	--insns) INSNS=1; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	-v) VERBOSE=1; shift ;;
	-h | --help) sed -n '2,52p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "qemu-reference: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$PLAN" in all | selftest | placement | display | none) ;; *) echo "qemu-reference: bad --plan $PLAN" >&2; exit 2 ;; esac
case "$BLOB" in auto | host | stand-in | off) ;; *) echo "qemu-reference: bad --blob $BLOB" >&2; exit 2 ;; esac

# guest-physical layout: stub 1 MiB into the first bank (QEMU keeps its own generated DTB at the
# bottom, unused), the Image 2 MiB aligned above it;
# the DTB and initramfs in the second (non-ECC) bank below display-cma@58000000, away from the
# kernel and from the default CMA pool that the kernel places in the first bank.
STUB_ADDR=0x40100000
KERNEL_ADDR=0x40200000
DTB_ADDR=0x54000000
INITRD_ADDR=0x54100000
INITRD_LIMIT=0x58000000

fail() {
	echo "qemu-reference: FAIL: $*" >&2
	if [ -n "${LOG:-}" ] && [ -f "$LOG" ]; then
		echo "---- last 40 console lines ($LOG) ----" >&2
		tail -n 40 "$LOG" >&2
	fi
	if [ -n "${QERR:-}" ] && [ -s "$QERR" ]; then
		echo "---- last 10 lines of QEMU's messages ($QERR) ----" >&2
		tail -n 10 "$QERR" >&2
	fi
	exit 1
}

need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || fail "$1 not found (apt-get install $2)"
}
need "$QEMU" qemu-system-arm
need dtc device-tree-compiler
need fdtput device-tree-compiler
need fdtget device-tree-compiler
need timeout coreutils

GUEST=$("$ROOT/guest-images/build.sh" --print-dir) ||
	fail "the guest is not built for the current inputs: run guest-images/build.sh first"
for f in Image initramfs.cpio.gz manifest.json; do
	[ -s "$GUEST/$f" ] || fail "$GUEST/$f missing"
done

WORK=${HEAPSOC_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-qemu-ref.XXXXXX")}
mkdir -p "$WORK"
LOG="$WORK/console.log"
QERR="$WORK/qemu-stderr.log"
: >"$LOG"
: >"$QERR"
echo "qemu-reference: guest $GUEST"
echo "qemu-reference: work dir $WORK, console log $LOG"

# ---- device tree: heap-soc.dts minus what QEMU's virt lacks (the PL111 display and its panel,
# the DMC-520 memory controller), plus /chosen for this boot ----
DTB="$WORK/heap-soc-qemu.dtb"
dtc -q -I dts -O dtb -o "$DTB" "$ROOT/device-trees/heap-soc.dts"
for node in $(fdtget -l "$DTB" /); do
	compat=$(fdtget "$DTB" "/$node" compatible 2>/dev/null || true)
	case "$compat" in
	*arm,pl111* | *arm,rtsm-display* | *panel-dpi* | *arm,dmc-520*) fdtput -t s "$DTB" "/$node" status disabled ;;
	esac
done
INITRD="$GUEST/initramfs.cpio.gz"
INITRD_END=$((INITRD_ADDR + $(stat -c %s "$INITRD")))
[ "$INITRD_END" -le $((INITRD_LIMIT)) ] || fail "initramfs too large for the window below $INITRD_LIMIT"
HOLD_MS=1000
fdtput -t s "$DTB" /chosen bootargs \
	"console=ttyAMA0 earlycon panic=-1 heapsoc.test=$PLAN heapsoc.display_hold_ms=$HOLD_MS"
fdtput -t x "$DTB" /chosen linux,initrd-start 0 "$(printf '%x' $((INITRD_ADDR)))"
fdtput -t x "$DTB" /chosen linux,initrd-end 0 "$(printf '%x' "$INITRD_END")"
[ "$(stat -c %s "$DTB")" -lt $((INITRD_ADDR - DTB_ADDR)) ] || fail "DTB overlaps the initramfs"

# ---- virtio-gpu: on the virt transport that the DT's virtio,mmio node describes ----
VIRTIO_BASE=0x0a000000 VIRTIO_STRIDE=0x200 VIRTIO_COUNT=32 VIRTIO_SPI0=16 # QEMU 7.2 hw/arm/virt.c
GPU_BUS=""
for node in $(fdtget -l "$DTB" /); do
	fdtget "$DTB" "/$node" compatible 2>/dev/null | grep -qx 'virtio,mmio' || continue
	[ "$(fdtget "$DTB" "/$node" status 2>/dev/null || echo okay)" = disabled ] && continue
	read -r _ addr _ _ < <(fdtget -t x "$DTB" "/$node" reg)
	read -r _ spi _ < <(fdtget -t u "$DTB" "/$node" interrupts)
	n=$(((0x$addr - VIRTIO_BASE) / VIRTIO_STRIDE))
	if [ $((0x$addr)) -lt $((VIRTIO_BASE)) ] || [ $(((0x$addr - VIRTIO_BASE) % VIRTIO_STRIDE)) != 0 ] ||
		[ "$n" -ge "$VIRTIO_COUNT" ]; then
		fail "/$node at 0x$addr is not one of virt's virtio-mmio transports ($VIRTIO_BASE + N * $VIRTIO_STRIDE)"
	fi
	[ "$spi" = $((VIRTIO_SPI0 + n)) ] ||
		fail "/$node: interrupt SPI $spi, but virt wires transport $n to SPI $((VIRTIO_SPI0 + n))"
	GPU_BUS=virtio-mmio-bus.$n
	GPU_NODE=$node
	break
done
[ -n "$GPU_BUS" ] || fail "no enabled virtio,mmio node in the DT for the virtio-gpu"
if [ "$BLOB" = auto ]; then
	if [ -c /dev/udmabuf ]; then
		BLOB=host
	elif unshare -m --propagation private true 2>/dev/null; then
		BLOB=stand-in
	else
		BLOB=off
	fi
fi
GPU_OPTS=()
RUN_PREFIX=()
if [ "$BLOB" != off ]; then
	[ "$BLOB" != host ] || [ -c /dev/udmabuf ] || fail "--blob host: no /dev/udmabuf (modprobe udmabuf)"
	# shellcheck disable=SC2054 # commas are QEMU's option syntax
	GPU_OPTS=(-object memory-backend-memfd,id=ram,size=512M -machine memory-backend=ram)
fi
if [ "$BLOB" = stand-in ]; then
	# an overlay on /dev, private to QEMU's mount namespace, holding an empty /dev/udmabuf
	# shellcheck disable=SC2016 # expanded by the inner shell
	overlay='d=$1; shift; mount -t tmpfs heapsoc-dev "$d" && mkdir "$d/u" "$d/w" && '
	# shellcheck disable=SC2016
	overlay+='mount -t overlay heapsoc-dev -o "lowerdir=/dev,upperdir=$d/u,workdir=$d/w" /dev && '
	overlay+=': >/dev/udmabuf && exec "$@"'
	RUN_PREFIX=(unshare -m --propagation private sh -c "$overlay" sh "$WORK/devoverlay")
	mkdir -p "$WORK/devoverlay"
fi
GPU_BLOB=$([ "$BLOB" = off ] && echo false || echo true)
echo "qemu-reference: virtio-gpu on $GPU_BUS (DT /$GPU_NODE), blob resources: $BLOB"

# ---- boot stub: x0 = DTB, x1 = x2 = x3 = 0, branch to the Image ----
# shellcheck disable=SC2059 # the format is the data: \xNN escapes of the word's bytes
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 24 & 255)))"; }
le64() { le32 $(($1 & 0xffffffff)); le32 $(($1 >> 32)); }
STUB="$WORK/stub.bin"
{
	le32 0x580000c0 # ldr x0, .+0x18  (DTB address)
	le32 0xaa1f03e1 # mov x1, xzr
	le32 0xaa1f03e2 # mov x2, xzr
	le32 0xaa1f03e3 # mov x3, xzr
	le32 0x58000084 # ldr x4, .+0x10  (Image address)
	le32 0xd61f0080 # br  x4
	le64 $((DTB_ADDR))
	le64 $((KERNEL_ADDR))
} >"$STUB"

# ---- optional instruction counter (TCG plugin, declared against QEMU 7.x's plugin ABI) ----
PLUGIN_ARGS=()
if [ "$INSNS" = 1 ]; then
	need gcc gcc
	cat >"$WORK/insn.c" <<'EOF'
#include <inttypes.h>
#include <stdio.h>
#include <stddef.h>
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*tb_trans_cb)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*udata_cb)(qemu_plugin_id_t, void *);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, tb_trans_cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op, void *, uint64_t);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, udata_cb, void *);
void qemu_plugin_outs(const char *);
__attribute__((visibility("default"))) int qemu_plugin_version = 1;
static uint64_t insns;
static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, qemu_plugin_tb_n_insns(tb));
}
static void done(qemu_plugin_id_t id, void *p)
{
	char buf[64];
	(void)id; (void)p;
	snprintf(buf, sizeof(buf), "guest-insns: %" PRIu64 "\n", insns);
	qemu_plugin_outs(buf);
}
__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info; (void)argc; (void)argv;
	qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
	qemu_plugin_register_atexit_cb(id, done, NULL);
	return 0;
}
EOF
	gcc -shared -fPIC -O2 -o "$WORK/insn.so" "$WORK/insn.c" -Wl,--unresolved-symbols=ignore-all ||
		fail "cannot build the instruction-count plugin"
	PLUGIN_ARGS=(-plugin "$WORK/insn.so" -d plugin -D "$WORK/plugin.log")
fi

# ---- screenshots: a monitor socket, and a screendump for every frame heap-display announces ----
MON="$WORK/monitor.sock"
hmp() { # hmp COMMAND: run a human-monitor command, wait for its prompt
	perl -MIO::Socket::UNIX -e '
		alarm 10;
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect $ARGV[0]: $!\n";
		my $buf = "";
		sub prompt { while ($buf !~ /\(qemu\) $/) { sysread($s, my $b, 4096) or die "eof\n"; $buf .= $b } }
		prompt(); $buf = "";
		print $s "$ARGV[1]\n";
		prompt();' "$MON" "$1"
}
scanout_watcher() { # screendump scanout-N.ppm as soon as the Nth heapsoc-scanout line appears
	local seen=0 n
	while :; do
		n=$(grep -c '^# # heapsoc-scanout: ' "$LOG" || true)
		while [ "$seen" -lt "$n" ]; do
			seen=$((seen + 1))
			hmp "screendump $WORK/scanout-$seen.ppm" >/dev/null 2>&1 || true
		done
		sleep 0.05
	done
}
# ppm_frame FILE: "W H TAG" of a heap-display frame in a PPM screendump (bars checked), or an error
ppm_frame() {
	perl -e '
		open(my $f, "<:raw", $ARGV[0]) or die "open: $!\n";
		local $/; my $d = <$f>;
		$d =~ s/^P6\s+(\d+)\s+(\d+)\s+255\s//s or die "not a P6 PPM\n";
		my ($w, $h) = ($1, $2);
		sub px { my ($x, $y) = @_; return unpack("H6", substr($d, 3 * ($y * $w + $x), 3)) }
		my @bars = qw(ffffff ffff00 00ffff 00ff00 ff00ff ff0000 0000ff 000000);
		for my $i (0 .. 7) {
			my $p = px(int((2 * $i + 1) * $w / 16), int($h * 7 / 16));
			$p eq $bars[$i] or die "bar $i is $p, want $bars[$i]\n";
		}
		my $tag = 0;
		for my $j (0 .. 15) {
			my $p = px(int((2 * $j + 1) * $w / 32), int($h * 15 / 16));
			$p eq "ffffff" || $p eq "000000" or die "tag cell $j is $p\n";
			$tag = $tag * 2 + ($p eq "ffffff" ? 1 : 0);
		}
		print "$w $h $tag\n";' "$1" 2>&1
}

# ---- boot ----
# shellcheck disable=SC2054 # commas are QEMU's option syntax
# -nodefaults: none of virt's default devices (its NIC wants an option ROM, efi-virtio.rom, from
# the ipxe-qemu package that a --no-install-recommends install lacks); the console is the one
# serial port, on stdio; -nic none says it again for the network.
QEMU_CMD=("$QEMU" -M virt,gic-version=3 -cpu cortex-a53 -m 512M -no-reboot
	-nodefaults -nic none -display none -serial stdio
	"${GPU_OPTS[@]}"
	-global virtio-mmio.force-legacy=false
	-device "virtio-gpu-device,bus=$GPU_BUS,blob=$GPU_BLOB"
	-device "loader,file=$DTB,addr=$DTB_ADDR,force-raw=on"
	-device "loader,file=$GUEST/Image,addr=$KERNEL_ADDR,force-raw=on"
	-device "loader,file=$INITRD,addr=$INITRD_ADDR,force-raw=on"
	-device "loader,file=$STUB,addr=$STUB_ADDR,cpu-num=0"
	-monitor "unix:$MON,server=on,wait=off"
	"${PLUGIN_ARGS[@]}")
echo "${RUN_PREFIX[*]}${RUN_PREFIX[*]:+ }${QEMU_CMD[*]}" >"$WORK/qemu-command.txt"
echo >>"$WORK/qemu-command.txt"
echo "qemu-reference: booting (plan=$PLAN, timeout ${TIMEOUT}s): $(cat "$WORK/qemu-command.txt")"
T0=$(date +%s%N)
rm -f "$WORK"/scanout-*.ppm
scanout_watcher &
WATCHER=$!
set +e
if [ "$VERBOSE" = 1 ]; then
	timeout "$TIMEOUT" "${RUN_PREFIX[@]}" "${QEMU_CMD[@]}" </dev/null 2>"$QERR" | tee "$LOG"
	RC=${PIPESTATUS[0]}
else
	timeout "$TIMEOUT" "${RUN_PREFIX[@]}" "${QEMU_CMD[@]}" </dev/null >"$LOG" 2>"$QERR"
	RC=$?
fi
set -e
kill "$WATCHER" 2>/dev/null || true
wait "$WATCHER" 2>/dev/null || true
T1=$(date +%s%N)
WALL_MS=$(((T1 - T0) / 1000000))
WALL=$(printf '%d.%03d' $((WALL_MS / 1000)) $((WALL_MS % 1000)))
tr -d '\r' <"$LOG" >"$LOG.tmp" && mv "$LOG.tmp" "$LOG"
echo "qemu-reference: QEMU exited with status $RC after ${WALL} s wall"
INSN_COUNT=""
if [ "$INSNS" = 1 ]; then
	INSN_COUNT=$(sed -n 's/^guest-insns: //p' "$WORK/plugin.log" 2>/dev/null | tail -n 1)
	echo "qemu-reference: guest instructions: ${INSN_COUNT:-unknown (see $WORK/plugin.log)}"
fi
[ "$RC" != 124 ] || fail "timed out after ${TIMEOUT}s"

# ---- verdict ----
grep -q '^HEAPSOC-EXIT: ' "$LOG" || fail "no HEAPSOC-EXIT marker: the guest did not finish its plan"
EXIT_LINE=$(grep '^HEAPSOC-EXIT: ' "$LOG" | tail -n 1)

# the lines a test program printed (nested under "# selftests: heapsoc: NAME"), prefix removed
section() {
	awk -v name="$1" '
		$0 == "# selftests: heapsoc: " name { on = 1; next }
		on && /^(not )?ok [0-9]+ selftests: heapsoc: / { on = 0 }
		on { sub(/^# /, ""); print }' "$LOG"
}

if [ "$PLAN" = all ] || [ "$PLAN" = selftest ]; then
	TOTALS=$(section dmabuf-heap | grep -E '^# Totals: pass:' | tail -n 1 || true)
	[ -n "$TOTALS" ] || fail "the dmabuf-heap kselftest printed no Totals line"
	echo "qemu-reference: kselftest ${TOTALS#\# }"
	PASS=$(printf '%s' "$TOTALS" | sed -n 's/.*Totals: pass:\([0-9]*\).*/\1/p')
	FAILS=$(printf '%s' "$TOTALS" | sed -n 's/.*Totals: pass:[0-9]* fail:\([0-9]*\).*/\1/p')
	[ "${FAILS:-1}" = 0 ] || fail "dmabuf-heap kselftest: $TOTALS"
	[ "${PASS:-0}" -ge 48 ] || fail "dmabuf-heap kselftest passed only ${PASS:-0} (want >= 48): $TOTALS"
fi

if [ "$PLAN" = all ] || [ "$PLAN" = placement ]; then
	PL=$(section heap-placement)
	[ -n "$PL" ] || fail "no output from heap-placement"
	echo "qemu-reference: heap-placement TAP:"
	printf '%s\n' "$PL" | grep -E '^(not )?ok |^# Totals' | sed 's/^/    /'
	# here-strings, not pipes: with pipefail, `printf | grep -q` fails when grep exits early
	if grep -q '^not ok' <<<"$PL"; then
		fail "heap-placement: $(printf '%s\n' "$PL" | grep '^not ok' | head -n 5 | tr '\n' ';')"
	fi
	grep -q '^ok ' <<<"$PL" || fail "heap-placement printed no ok line"

	# host-side check of every located buffer against the DT this boot used
	RMEM=/reserved-memory
	dt_range() { # dt_range NODE PROP -> "base size" of its first entry (2 address, 2 size cells)
		local a0 a1 s0 s1
		read -r a0 a1 s0 s1 < <(fdtget -t x "$DTB" "$RMEM/$1" "$2")
		echo "$(((0x$a0 << 32) | 0x$a1)) $(((0x$s0 << 32) | 0x$s1))"
	}
	ac=$(fdtget -t u "$DTB" "$RMEM" '#address-cells'); sc=$(fdtget -t u "$DTB" "$RMEM" '#size-cells')
	if [ "$ac" != 2 ] || [ "$sc" != 2 ]; then
		fail "this check expects #address-cells = #size-cells = 2 in /reserved-memory"
	fi
	cma_heaps=""
	default_node=""
	for node in $(fdtget -l "$DTB" "$RMEM"); do
		grep -qx reusable <<<"$(fdtget -p "$DTB" "$RMEM/$node")" || continue
		grep -q shared-dma-pool <<<"$(fdtget "$DTB" "$RMEM/$node" compatible 2>/dev/null)" || continue
		cma_heaps="$cma_heaps $node"
		if grep -qx linux,cma-default <<<"$(fdtget -p "$DTB" "$RMEM/$node")"; then
			default_node=$node
			cma_heaps="$cma_heaps default_cma_region"
		fi
	done
	PLACEMENTS=$(printf '%s\n' "$PL" | grep '^# heapsoc-placement: ' || true)
	for heap in $cma_heaps; do
		node=$heap
		[ "$heap" != default_cma_region ] || node=$default_node
		lines=$(printf '%s\n' "$PLACEMENTS" | grep -F "heap=$heap " || true)
		[ -n "$lines" ] || fail "no buffer of CMA heap $heap was located"
		if grep -qx reg <<<"$(fdtget -p "$DTB" "$RMEM/$node")"; then
			read -r pbase psize < <(dt_range "$node" reg)
			what="DT reg"
		else
			read -r pbase psize < <(dt_range "$node" alloc-ranges)
			what="DT alloc-ranges"
		fi
		while read -r line; do
			phys=$(printf '%s' "$line" | sed -n 's/.* phys=\(0x[0-9a-f]*\).*/\1/p')
			len=$(printf '%s' "$line" | sed -n 's/.* len=\(0x[0-9a-f]*\).*/\1/p')
			if [ -z "$phys" ] || [ -z "$len" ]; then fail "bad placement line: $line"; fi
			if [ $((phys)) -lt "$pbase" ] || [ $((phys + len)) -gt $((pbase + psize)) ]; then
				fail "$heap buffer $phys+$len outside its pool ($what $(printf '0x%x+0x%x' "$pbase" "$psize"))"
			fi
		done <<<"$lines"
		echo "qemu-reference: $heap: $(printf '%s\n' "$lines" | wc -l) buffers inside $what $(printf '0x%x+0x%x' "$pbase" "$psize")"
	done
fi

if [ "$PLAN" = all ] || [ "$PLAN" = display ]; then
	grep -qE '\[drm\] Initialized virtio_gpu ' "$LOG" || fail "virtio_gpu did not bind to $GPU_BUS (/$GPU_NODE)"
	FEATURES=$(grep -m 1 -E '\[drm\] features: ' "$LOG" | sed 's/.*\[drm\] //' || true)
	echo "qemu-reference: virtio_gpu ${FEATURES:-(no features line)}"
	want_blob=$([ "$BLOB" = off ] && echo - || echo +)
	case "$FEATURES" in
	*" ${want_blob}resource_blob"*) ;;
	*) fail "virtio_gpu features lack ${want_blob}resource_blob (--blob $BLOB): $FEATURES" ;;
	esac
	DP=$(section heap-display)
	[ -n "$DP" ] || fail "no output from heap-display"
	echo "qemu-reference: heap-display TAP:"
	printf '%s\n' "$DP" | grep -E '^(not )?ok |^# Totals' | sed 's/^/    /'
	if printf '%s\n' "$DP" | grep -q '^not ok'; then
		fail "heap-display: $(printf '%s\n' "$DP" | grep '^not ok' | head -n 5 | tr '\n' ';')"
	fi
	printf '%s\n' "$DP" | grep -qE '^ok [0-9]+ - pl111: .*# SKIP' ||
		fail "heap-display: no pl111 SKIP line (QEMU's DT has the PL111 disabled)"
	HEAPS=$(printf '%s\n' "$DP" | sed -n 's/^# virtio_gpu: heap \(.*\)$/\1/p')
	[ -n "$HEAPS" ] || fail "heap-display tested no heap on virtio_gpu"
	VG=$(printf '%s\n' "$DP" | grep '^# heapsoc-display: device=virtio_gpu ' || true)
	if [ "$BLOB" = off ]; then want='import=ENODEV result=refused'; else want='import=ok result=(ok|shown)'; fi
	while read -r heap; do
		lines=$(printf '%s\n' "$VG" | grep -F " heap=$heap size=" || true)
		n=$(printf '%s' "$lines" | grep -c . || true)
		[ "$n" = 3 ] || fail "heap-display: $n virtio_gpu results for heap $heap (want 3)"
		bad=$(printf '%s\n' "$lines" | grep -vE " $want( |\$)" || true)
		[ -z "$bad" ] || fail "heap-display: want $want: $bad"
		echo "qemu-reference: virtio_gpu + $heap: $(printf '%s\n' "$lines" |
			sed -n 's/.* size=\([0-9]*\) .* import=\([^ ]*\) result=\([^ ]*\).*/\1 B \2\/\3/p' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
	done <<<"$HEAPS"
	SCANOUT=$(printf '%s\n' "$DP" | grep '^# heapsoc-scanout: device=virtio_gpu ' | tail -n 1 || true)
	[ -n "$SCANOUT" ] || fail "heap-display: no frame was shown on virtio_gpu"
	case "$BLOB:$SCANOUT" in
	off:*" heap=dumb "*) ;;
	off:*) fail "heap-display: without blob resources the frame must be the dumb buffer: $SCANOUT" ;;
	*:*" heap=dumb "*) fail "heap-display: no heap buffer was shown on virtio_gpu: $SCANOUT" ;;
	esac
	echo "qemu-reference: last frame ${SCANOUT#\# heapsoc-scanout: }"

	# the screendumps: which frames QEMU showed, by their tag barcode
	SHOTS=""
	for f in "$WORK"/scanout-*.ppm; do
		[ -e "$f" ] || continue
		r=$(ppm_frame "$f" || true)
		case "$r" in
		[0-9]*" "[0-9]*" "[0-9]*) SHOTS="$SHOTS ${r// /x}" ;;
		*) echo "qemu-reference: $(basename "$f"): not a heap-display frame: $r" ;;
		esac
	done
	while read -r line; do
		heap=$(printf '%s' "$line" | sed -n 's/.* heap=\([^ ]*\) .*/\1/p')
		w=$(printf '%s' "$line" | sed -n 's/.* width=\([0-9]*\) .*/\1/p')
		h=$(printf '%s' "$line" | sed -n 's/.* height=\([0-9]*\) .*/\1/p')
		tag=$(printf '%s' "$line" | sed -n 's/.* tag=\([0-9]*\) .*/\1/p')
		if [ "$BLOB" = stand-in ] && [ "$heap" = system ]; then
			echo "qemu-reference: screendump of the $heap frame (tag $tag) not checked: a scattered blob needs host udmabuf"
			continue
		fi
		case " $SHOTS " in
		*" ${w}x${h}x$tag "*) echo "qemu-reference: screendump of the $heap frame (tag $tag): ${w}x$h, colour bars and tag OK" ;;
		*) fail "no screendump showed the $heap frame (tag $tag, ${w}x$h); screendumps: ${SHOTS:-none}" ;;
		esac
	done < <(printf '%s\n' "$DP" | grep '^# heapsoc-scanout: device=virtio_gpu ')
fi

[ "$EXIT_LINE" = "HEAPSOC-EXIT: 0" ] || fail "guest reported $EXIT_LINE"
echo "qemu-reference: PASS (plan=$PLAN, blob=$BLOB, ${WALL} s wall${INSN_COUNT:+, $INSN_COUNT guest instructions}); console log $LOG"
