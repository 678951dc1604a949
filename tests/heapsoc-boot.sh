#!/usr/bin/env bash
# tests/heapsoc-boot.sh - the guest under heapsoc itself, end to end:
#   1. `heapsoc test` on device-trees/heap-soc.dts boots the real kernel; the kselftest reports
#      "# Totals: pass:N fail:0" with N >= 48, every TAP point passes, the placement verdict passes,
#      and the PL111's scanout buffers lie in display-cma@58000000 (non-ECC bank), contiguous;
#   2. a second identical run, with the translator on x86-64 hosts, gives byte-identical console
#      output, the same instruction count and the same placement report as the interpreter's;
#   3. on device-trees/heap-soc-display-in-ecc.dts, `--expect /display@9100000=non-ecc` fails the
#      run with a finding naming the display and the ECC bank;
#   4. a guest that points the PL111 at the no-map carveout (plan bad-scanout) fails the run with
#      a finding naming the display, the address and the carveout;
#   5. a kernel panic ends the run at once, non-zero, naming the panic;
#   6. `heapsoc run` gives the guest's shell the host's stdin and returns when it powers off; on a
#      terminal the prompt shows at once, an idle prompt costs no CPU, `poweroff` powers off
#      and prints the placement verdict;
#   7. a memory error injected into the ECC bank is reported by the guest's EDAC driver through
#      the DMC-520, one injected into the non-ECC bank corrupts silently;
#   8. JUnit names each kselftest case after its heap and test (stable across boards);
#   9. `--kernel` alone boots with the default guest's initramfs (and says so);
#  10. a kernel Image cut short stops within seconds with an exception-loop error naming the PC,
#      the vector and the truncated Image, instead of running out the instruction budget;
#  11. the guest tests pass on other valid boards: without a DT CMA pool (the kernel's default
#      area must hold the kselftest's 32 x 1 MiB) and with RAM and a pool above 4 GiB (the PL111,
#      a 32-bit DMA master, bounces or refuses what lies there);
#  12. a board whose console is a DesignWare 16550 (reg-shift 2, 32-bit registers) boots with
#      the 8250_dw driver on heapsoc's 16550 model as ttyS0;
#  13. the reference board with 4 CPUs (device-trees/heap-soc-smp4.dts) brings all 4 online, the
#      kselftest, the placement test and the stress test (every CPU on every heap at once) pass,
#      and a second run is byte-identical;
#  14. `--kcidb` output validates with kcidb-io, its test paths are the same across two runs and
#      across boards, and the bad scanout's placement-verdict test fails;
#  15. ECC scenarios on live buffers: a bit flipped in the PL111's scanout buffer (non-ECC pool)
#      changes exactly the reported pixel of the screenshot; a ce in a GPU buffer from
#      default_cma_region (ECC bank) gives the guest's EDAC CE line and a report line naming the
#      buffer; both deterministic; a ue nobody reads again is latent; bad targets are errors;
#  16. --heap-policy: the report says which heap each device got, a GPU buffer from a heap its
#      policy does not allow fails the run with a finding naming buffer and heap;
#  17. --timeout stops a run over its host-time limit with an error naming it.
# Needs the guest image (guest-images/build.sh). Prints the work directory with all outputs.
set -euo pipefail
KCIDB_IO_VERSION=141 # the kcidb-io release whose latest schema (v5.3) --kcidb writes
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-boot.XXXXXX")
echo "heapsoc-boot: work dir $WORK"
fail() {
	echo "heapsoc-boot: FAIL: $*" >&2
	for f in "$WORK"/*.err; do
		[ -f "$f" ] && { echo "---- $f (last 20 lines)" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

cargo build --release -q -p heapsoc
HEAPSOC=$ROOT/target/release/heapsoc

# On the interpreter, also on an arm64 host where --accel auto would pick KVM: these checks are
# about its exactness (the same run twice, instruction counts). The repeated runs of the
# determinism checks use the translator where the host has one (x86-64): the two backends
# must give the same run, not just two runs of one.
SECOND=interp
[ "$(uname -m)" = x86_64 ] && SECOND=translate
run() { # run NAME ARGS... -> $WORK/NAME.out (console), .err (heapsoc), .rc; ACCEL=interp
	local name=$1
	shift
	set +e
	"$HEAPSOC" test --accel "${ACCEL:-interp}" --kcidb "$WORK/$name.kcidb.json" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	echo $? >"$WORK/$name.rc"
	set -e
}

run first --dtb device-trees/heap-soc.dts --junit "$WORK/junit.xml" --report-json "$WORK/placement.json" --svg "$WORK/memory-map.svg" --screenshot "$WORK/display.png"
[ "$(cat "$WORK/first.rc")" = 0 ] || fail "heapsoc test exited $(cat "$WORK/first.rc")"
totals=$(grep -m1 -o 'Totals: pass:[0-9]* fail:[0-9]*' "$WORK/first.out" || true)
[ -n "$totals" ] || fail "no kselftest Totals line"
pass=${totals#*pass:}
pass=${pass%% *}
failn=${totals##*fail:}
if [ "$pass" -lt 48 ] || [ "$failn" != 0 ]; then
	fail "kselftest $totals"
fi
echo "heapsoc-boot: kselftest $totals"
grep -q '^verdict: pass' "$WORK/first.err" || fail "placement verdict did not pass"
python3 - "$WORK/placement.json" <<'PY' || fail "display placement"
import json, sys
p = json.load(open(sys.argv[1]))
d = [x for x in p["devices"] if x["device"] == "/display@9100000"]
assert d, "the display did no DMA"
d = d[0]
assert d["pools"] == ["display-cma@58000000"], d["pools"]
assert d["contiguous"], "scanout not contiguous"
assert all(not b["ecc"] for b in d["banks"]) and d["banks"], d["banks"]
print("heapsoc-boot: display scanout: %d buffer(s) in %s, non-ECC, contiguous" % (d["buffers"], d["pools"][0]))
heaps = {h["heap"]: h for h in p["heaps"] if h["device"] == "/virtio_mmio@a000000"}
for name in ("system", "default_cma_region", "linux,cma", "display-cma@58000000"):
    assert name in heaps and heaps[name]["buffers"] > 0, "no virtio-gpu buffers attributed to heap %s" % name
cma = heaps["display-cma@58000000"]
assert cma["contiguous"] and all(not b["ecc"] for b in cma["banks"]), cma
sysh = heaps["system"]
shares = ", ".join("%s %d%%" % (b["bank"], 100 * b["bytes"] // sysh["bytes"]) for b in sysh["banks"])
print("heapsoc-boot: virtio-gpu imports from the system heap: %d buffer(s), %s" % (sysh["buffers"], shares))
PY
python3 tests/png_check.py bars "$WORK/display.png" | sed 's/^/heapsoc-boot: /' ||
	fail "the PL111 screenshot does not show the guest's colour bars"
grep -m1 'instructions' "$WORK/first.err" | sed 's/^/heapsoc-boot: /'
grep -q 'spurious IRQs 0$' "$WORK/first.err" || fail "the guest took IRQ exceptions for nothing: $(grep -m1 -o 'spurious IRQs [0-9]*' "$WORK/first.err")"

ACCEL=$SECOND run second --dtb device-trees/heap-soc.dts --report-json "$WORK/placement-second.json"
cmp -s "$WORK/first.out" "$WORK/second.out" || fail "console output differs between the interpreter's run and the $SECOND run"
a=$(grep -m1 -o 'after [0-9]* instructions' "$WORK/first.err")
b=$(grep -m1 -o 'after [0-9]* instructions' "$WORK/second.err")
[ "$a" = "$b" ] || fail "instruction counts differ: $a (interp) vs $b ($SECOND)"
cmp -s "$WORK/placement.json" "$WORK/placement-second.json" || fail "the placement reports (DMA ledger) differ: interp vs $SECOND"
grep -m1 '^heapsoc: translator:' "$WORK/second.err" | sed 's/^heapsoc: /heapsoc-boot: /' || true
echo "heapsoc-boot: deterministic: identical console, placement report and $a (interp and $SECOND)"

run ecc --dtb device-trees/heap-soc-display-in-ecc.dts --plan display --expect /display@9100000=non-ecc
[ "$(cat "$WORK/ecc.rc")" != 0 ] || fail "a non-ECC expectation on a display in the ECC bank passed"
grep -q 'expect-non-ecc' "$WORK/ecc.err" || fail "no expect-non-ecc finding"
grep -m1 'expect-non-ecc' "$WORK/ecc.err" | sed 's/^ */heapsoc-boot: expected finding: /'
run bad --dtb device-trees/heap-soc.dts --plan bad-scanout
[ "$(cat "$WORK/bad.rc")" != 0 ] || fail "scanning out of the carveout passed"
finding=$(grep -m1 '\[carveout\]' "$WORK/bad.err" || true)
case "$finding" in
*/display@9100000*0x5f000000*carveout@5f000000*) echo "heapsoc-boot: expected finding:$finding" ;;
*) fail "no carveout finding naming the display, 0x5f000000 and carveout@5f000000: $finding" ;;
esac

run panic --dtb device-trees/heap-soc.dts --bootargs "console=ttyAMA0 rdinit=/nonexistent"
[ "$(cat "$WORK/panic.rc")" != 0 ] || fail "a kernel panic passed"
grep -q 'kernel panic: Kernel panic - not syncing' "$WORK/panic.err" || fail "the panic was not reported"
echo "heapsoc-boot: kernel panic reported: $(grep -m1 -o 'after [0-9]* instructions' "$WORK/panic.err")"

# shellcheck disable=SC2016 # the guest's shell expands it
printf 'echo from-host-$((6*7))\nexit 0\n' |
	"$HEAPSOC" run --dtb device-trees/heap-soc.dts --bootargs "console=ttyAMA0 heapsoc.test=shell" \
		>"$WORK/shell.out" 2>"$WORK/shell.err" || fail "heapsoc run with the shell plan failed"
grep -qx 'from-host-42' <(tr -d '\r' <"$WORK/shell.out") || fail "the guest shell did not run host input"
echo "heapsoc-boot: interactive console: host input reached the guest shell"
# The same on a terminal, as a person or LAVA drives it: the prompt arrives without a
# newline after it, an idle prompt sleeps on the host, `poweroff` powers the board off and
# the placement verdict is printed.
# shellcheck disable=SC2016 # the guest's shell expands it
python3 tests/console-session.py "$WORK/session.txt" 120 'expect:root@heapsoc:/# ' \
	'send:echo from-host-$((6*7))' 'expect:from-host-42' 'expect:root@heapsoc:/# ' 'idle:3' \
	'send:poweroff' 'expect:HEAPSOC-EXIT: 0' 'expect:verdict: pass' eof \
	-- "$HEAPSOC" run --dtb device-trees/heap-soc.dts --plan shell >"$WORK/session.log" ||
	fail "heapsoc run --plan shell on a terminal: $(cat "$WORK/session.log")"
idle_cpu=$(sed -n 's/^console-session: idle 3 s: \([0-9.]*\) s CPU$/\1/p' "$WORK/session.log")
# a guest at its prompt sleeps on the host clock; spinning would cost the whole 3 s
awk -v c="$idle_cpu" 'BEGIN { exit !(c != "" && c < 1.5) }' ||
	fail "the idle prompt used ${idle_cpu:-?} s of CPU in 3 s"
echo "heapsoc-boot: terminal session: prompt, command, poweroff and verdict; idle prompt used $idle_cpu s CPU in 3 s"
run ecc-error --dtb device-trees/heap-soc.dts --plan none --inject ce@0x40123458 --inject ue@0x50000100
grep -q 'EDAC driver reported: EDAC MC0: 1 CE' "$WORK/ecc-error.err" || fail "the guest's EDAC driver did not report the correctable error"
grep -q '0x50000100 in memory@50000000 (non-ECC) .*: no ECC: two bits flipped silently' "$WORK/ecc-error.err" ||
	fail "the non-ECC injection was not reported as silent corruption"
echo "heapsoc-boot: ECC error injection: $(grep -m1 -o 'EDAC MC0: 1 CE [^(]*' "$WORK/ecc-error.err")"

for name in "system: allocation and importing: Import buffer" \
	"display-cma@58000000: expected error cases: Error expected on invalid heap flags (2)"; do
	grep -qF "name=\"$name\"" "$WORK/junit.xml" || fail "JUnit has no case named '$name'"
done
echo "heapsoc-boot: JUnit cases are named after heap and test, e.g. 'system: allocation and importing: Import buffer'"

GUEST=$(guest-images/build.sh --print-dir)
run kernel-only --dtb device-trees/heap-soc.dts --kernel "$GUEST/Image" --plan none
[ "$(cat "$WORK/kernel-only.rc")" = 0 ] || fail "--kernel without --initrd did not boot to the heap tests' /init"
grep -q "default guest's initramfs" "$WORK/kernel-only.err" || fail "--kernel alone: no note about the initramfs used"
echo "heapsoc-boot: --kernel alone boots with the default guest's initramfs"

head -c 100000 "$GUEST/Image" >"$WORK/truncated.Image"
t0=$(date +%s)
run truncated --dtb device-trees/heap-soc.dts --kernel "$WORK/truncated.Image" --plan none
t1=$(date +%s)
[ "$(cat "$WORK/truncated.rc")" != 0 ] || fail "a truncated Image passed"
grep -q 'exception loop: .* at pc 0x.* to vector 0x.*truncated' "$WORK/truncated.err" ||
	fail "a truncated Image did not stop with an exception-loop error naming pc, vector and the truncation"
[ $((t1 - t0)) -le 20 ] || fail "the truncated Image took $((t1 - t0)) s to stop"
echo "heapsoc-boot: truncated Image stopped in $((t1 - t0)) s: $(grep -m1 -o 'exception loop: [^;]*' "$WORK/truncated.err")"

run no-cma --dtb tests/boards/no-cma-pool.dts --plan selftest
[ "$(cat "$WORK/no-cma.rc")" = 0 ] || fail "the kselftest failed on a board without a DT CMA pool"
echo "heapsoc-boot: board without a DT CMA pool: $(grep -m1 -o 'Totals: pass:[0-9]* fail:[0-9]*' "$WORK/no-cma.out")"
run highmem --dtb tests/boards/highmem.dts --plan display
[ "$(cat "$WORK/highmem.rc")" = 0 ] || fail "heap-display failed on a board with RAM above 4 GiB"
refused=$(grep -c 'pl111: .* PRIME import refused with E' "$WORK/highmem.out" || true)
[ "$refused" -gt 0 ] || fail "on the board with RAM above 4 GiB no PL111 import was refused (is the pool above 4 GiB used?)"
echo "heapsoc-boot: board with RAM above 4 GiB: heap-display passes, $refused PL111 import(s) refused as the board predicts"
run uart16550 --dtb tests/boards/uart16550.dts --plan none
[ "$(cat "$WORK/uart16550.rc")" = 0 ] || fail "the board with a 16550 console did not boot"
grep -q 'console: /serial@9010000 (snps,dw-apb-uart)' "$WORK/uart16550.err" || fail "the 16550 was not the console"
grep -q 'ttyS0 MMIO32:0x0000000009010000 .* is a 16550A' "$WORK/uart16550.out" ||
	fail "the guest's 8250 driver did not find a 16550A"
grep -q '^HEAPSOC-EXIT: 0' "$WORK/uart16550.out" || fail "no HEAPSOC-EXIT through the 16550 console"
echo "heapsoc-boot: DesignWare 16550 console: $(grep -m1 -o 'ttyS0 MMIO32.*' "$WORK/uart16550.out")"
run smp4 --dtb device-trees/heap-soc-smp4.dts
[ "$(cat "$WORK/smp4.rc")" = 0 ] || fail "the 4-CPU board: heapsoc test exited $(cat "$WORK/smp4.rc")"
tr -d '\r' <"$WORK/smp4.out" >"$WORK/smp4.txt" # the console's line ends are CRLF
grep -q '^# heapsoc-cpus: 0-3$' "$WORK/smp4.txt" || fail "the 4-CPU board: the guest did not bring CPUs 0-3 online"
grep -q 'CPUs: 4 online' "$WORK/smp4.err" || fail "the 4-CPU board: heapsoc did not report 4 CPUs online"
grep -q 'Totals: pass:[0-9]* fail:0' "$WORK/smp4.out" || fail "the 4-CPU board: kselftest failed"
for prog in heap-placement heap-stress; do
	grep -q "^ok [0-9]* selftests: heapsoc: $prog\$" "$WORK/smp4.txt" || fail "the 4-CPU board: $prog failed"
done
heaps=$(grep -m1 '^# heapsoc-heaps:' "$WORK/smp4.txt" | wc -w)
heaps=$((heaps - 2))
stressed=$(grep -c '^# ok [0-9]* - heap .*: 4 CPUs x [0-9]* rounds$' "$WORK/smp4.txt" || true)
if [ "$heaps" -le 0 ] || [ "$stressed" != "$heaps" ]; then
	fail "the 4-CPU board: $stressed of $heaps heaps stressed from 4 CPUs"
fi
grep -q '^verdict: pass' "$WORK/smp4.err" || fail "the 4-CPU board: placement verdict did not pass"
ACCEL=$SECOND run smp4-again --dtb device-trees/heap-soc-smp4.dts
cmp -s "$WORK/smp4.out" "$WORK/smp4-again.out" || fail "the 4-CPU board: console output differs between the interpreter's run and the $SECOND run"
a=$(grep -m1 -o 'after [0-9]* [a-z ]*instructions' "$WORK/smp4.err")
b=$(grep -m1 -o 'after [0-9]* [a-z ]*instructions' "$WORK/smp4-again.err")
if [ -z "$a" ] || [ "$a" != "$b" ]; then
	fail "the 4-CPU board: instruction counts differ: $a vs $b"
fi
echo "heapsoc-boot: 4 CPUs online, kselftest $(grep -m1 -o 'pass:[0-9]* fail:[0-9]*' "$WORK/smp4.out"), $stressed heaps stressed from every CPU, deterministic: identical console and $a (interp and $SECOND)"

# 15. ECC fault scenarios on live buffers (plan display holds the PL111's frame 400 ms)
run inj-clean --dtb device-trees/heap-soc.dts --plan display --screenshot "$WORK/inj-clean.png"
[ "$(cat "$WORK/inj-clean.rc")" = 0 ] || fail "plan display without injection failed"
for k in 1 2; do
	run "inj-flip$k" --dtb device-trees/heap-soc.dts --plan display --screenshot "$WORK/inj-flip$k.png" \
		--inject flip@buffer:/display@9100000@when:first-scanout
	[ "$(cat "$WORK/inj-flip$k.rc")" = 0 ] || fail "the flip run exited $(cat "$WORK/inj-flip$k.rc")"
done
flip=$(grep -m1 'consumed by /display@9100000 framebuffer' "$WORK/inj-flip1.err" || true)
case "$flip" in
*"/display@9100000 framebuffer"*"a dumb buffer"*"pool display-cma@58000000 in non-ECC bank memory@50000000"*"pixel ("*) ;;
*) fail "no report line naming the display, its buffer, heap, pool and bank: $flip" ;;
esac
pixel=$(sed -n 's/.*the display shows it at pixel (\([0-9]*\), \([0-9]*\)).*/\1 \2/p' <<<"$flip")
python3 tests/png_check.py diff "$WORK/inj-clean.png" "$WORK/inj-flip1.png" >"$WORK/inj-diff.txt"
[ "$(cat "$WORK/inj-diff.txt")" = "size 1024x768 differing 1
$pixel" ] || fail "the flipped screenshot should differ in exactly pixel ($pixel): $(head -3 "$WORK/inj-diff.txt")"
cmp -s "$WORK/inj-flip1.out" "$WORK/inj-flip2.out" || fail "two identical flip runs: console differs"
cmp -s "$WORK/inj-flip1.png" "$WORK/inj-flip2.png" || fail "two identical flip runs: screenshots differ"
[ "$(grep 'inject' "$WORK/inj-flip1.err")" = "$(grep 'inject' "$WORK/inj-flip2.err")" ] ||
	fail "two identical flip runs: the injection reports differ"
echo "heapsoc-boot: flip in the PL111's scanout buffer: screenshot differs in exactly pixel ($pixel), deterministic"
for k in 1 2; do
	run "inj-ce$k" --dtb device-trees/heap-soc.dts --plan display --inject ce@heap:default_cma_region
	[ "$(cat "$WORK/inj-ce$k.rc")" = 0 ] || fail "the ce run exited $(cat "$WORK/inj-ce$k.rc")"
done
ce=$(grep -m1 'in ECC bank memory@40000000: the guest.s EDAC driver reported: EDAC MC0: 1 CE' "$WORK/inj-ce1.err" || true)
case "$ce" in
*"/virtio_mmio@a000000 blob resource"*"heap default_cma_region"*) ;;
*) fail "no report line naming the GPU buffer from default_cma_region with the guest's EDAC CE line: $ce" ;;
esac
[ "$(grep 'inject\|EDAC' "$WORK/inj-ce1.err")" = "$(grep 'inject\|EDAC' "$WORK/inj-ce2.err")" ] ||
	fail "two identical ce runs: the reports differ"
echo "heapsoc-boot: ce in a GPU buffer from default_cma_region: the guest's EDAC CE line, deterministic"
run inj-latent --dtb device-trees/heap-soc.dts --plan display --inject 'ue@buffer:/display@9100000@when:exit'
grep -q 'in non-ECC bank memory@50000000: latent: no device read it afterwards' "$WORK/inj-latent.err" ||
	fail "a ue in a non-ECC buffer nobody reads again was not reported as latent"
run inj-never --dtb device-trees/heap-soc.dts --plan display --inject 'ce@buffer:/display@9100000#9'
[ "$(cat "$WORK/inj-never.rc")" != 0 ] || fail "an injection into a buffer that never existed passed"
grep -q 'never injected: /display@9100000 never read a buffer #9 by DMA' "$WORK/inj-never.err" ||
	fail "no error naming the buffer that never existed"
for bad in 'ce@buffer:/nope' 'ce@0x1000' 'zap@0x40000000'; do
	set +e
	msg=$("$HEAPSOC" test --plan none --inject "$bad" 2>&1 >/dev/null | grep -c 'error')
	set -e
	[ "$msg" = 1 ] || fail "--inject $bad: expected one error line"
done
echo "heapsoc-boot: latent ue reported; a buffer that never existed, an unknown node, an address outside RAM and an unknown kind are one-line errors"

# 16. per-device heap policies
run policy-ok --dtb device-trees/heap-soc.dts --plan display \
	--heap-policy /virtio_mmio@a000000=display-cma@58000000,default_cma_region,linux,cma,system \
	--heap-policy /display@9100000=dumb
[ "$(cat "$WORK/policy-ok.rc")" = 0 ] || fail "heap policies every buffer meets failed the run"
grep -q '^  /virtio_mmio@a000000 may take display-cma@58000000, default_cma_region, linux,cma, system: got .*display-cma@58000000 x[0-9]* (choice 1)' "$WORK/policy-ok.err" ||
	fail "the report does not say which heaps the GPU got"
run policy-bad --dtb device-trees/heap-soc.dts --plan display \
	--heap-policy /virtio_mmio@a000000=display-cma@58000000,default_cma_region
[ "$(cat "$WORK/policy-bad.rc")" != 0 ] || fail "a GPU buffer from a heap its policy does not allow passed"
finding=$(grep -m1 '\[heap-policy\]' "$WORK/policy-bad.err" || true)
case "$finding" in
*"/virtio_mmio@a000000: buffer blob resource "*" came from heap "*"not a heap its policy allows (display-cma@58000000, default_cma_region)"*) ;;
*) fail "no heap-policy finding naming the GPU buffer and its heap: $finding" ;;
esac
echo "heapsoc-boot: heap policies: the report names the heaps each device got; expected finding:$finding"

# 17. --timeout: a run over its host-time limit stops with an error naming it (under KVM, which
# counts no instructions, `test` has one by default)
run timeout --plan none --timeout 0.05
[ "$(cat "$WORK/timeout.rc")" != 0 ] || fail "a run over its --timeout passed"
grep -q 'the guest did not power off: timed out after 0.05 s of host time (--timeout)' "$WORK/timeout.err" ||
	fail "no error naming the timeout: $(tail -n 3 "$WORK/timeout.err")"
echo "heapsoc-boot: --timeout 0.05 stops the run with an error naming it"

# 14. KCIDB: validated with kcidb-io (in a venv of its own, cached)
# outside heapsoc/ (the guest cache, which tests/fresh-machine.sh mounts read-only)
KCIDB_VENV=${XDG_CACHE_HOME:-$HOME/.cache}/heapsoc-tests/kcidb-io-$KCIDB_IO_VERSION
if ! "$KCIDB_VENV/bin/python" -c 'import kcidb_io' 2>/dev/null; then
	rm -rf "$KCIDB_VENV"
	python3 -m venv "$KCIDB_VENV" || fail "python3 -m venv (Debian: python3-venv) failed"
	"$KCIDB_VENV/bin/pip" install -q "kcidb-io==$KCIDB_IO_VERSION" || fail "pip install kcidb-io==$KCIDB_IO_VERSION failed"
fi
"$KCIDB_VENV/bin/python" tests/kcidb-check.py "$WORK/first.kcidb.json" "$WORK/second.kcidb.json" \
	"$WORK/no-cma.kcidb.json" "$WORK/bad.kcidb.json" | sed 's/^kcidb-check/heapsoc-boot/' ||
	fail "KCIDB output"
echo "heapsoc-boot: PASS"
