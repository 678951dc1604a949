#!/usr/bin/env bash
# tests/heapsoc-boot.sh - the guest under heapsoc itself, end to end:
#   1. `heapsoc test` on device-trees/heap-soc.dts boots the real kernel; the kselftest reports
#      "# Totals: pass:N fail:0" with N >= 48, every TAP point passes, the placement verdict passes,
#      and the PL111's scanout buffers lie in display-cma@58000000 (non-ECC bank), contiguous;
#   2. a second identical run gives byte-identical console output and the same instruction count;
#   3. on device-trees/heap-soc-display-in-ecc.dts, `--expect /display@9100000=non-ecc` fails the
#      run with a finding naming the display and the ECC bank;
#   4. a guest that points the PL111 at the no-map carveout (plan bad-scanout) fails the run with
#      a finding naming the display, the address and the carveout;
#   5. a kernel panic ends the run at once, non-zero, naming the panic;
#   6. `heapsoc run` gives the guest's shell the host's stdin and returns when it powers off;
#   7. a memory error injected into the ECC bank is reported by the guest's EDAC driver through
#      the DMC-520, one injected into the non-ECC bank corrupts silently.
# Needs the guest image (guest-images/build.sh). Prints the work directory with all outputs.
set -euo pipefail
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

run() { # run NAME ARGS... -> $WORK/NAME.out (console), .err (heapsoc), .rc
	local name=$1
	shift
	set +e
	"$HEAPSOC" test "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
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
python3 - "$WORK/display.png" <<'PY' || fail "the PL111 screenshot does not show the guest's colour bars"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, colour = struct.unpack(">IIBB", body[:10])
        assert (depth, colour) == (8, 2), "expected 8-bit RGB"
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride, rows, prev = zlib.decompress(idat), 3 * w, [], bytearray(3 * w)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):  # PNG filters: none, sub, up, average, Paeth
        a = line[i - 3] if i >= 3 else 0
        b, c = prev[i], (prev[i - 3] if i >= 3 else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
# heap-display's bars, left to right, in the top half: white, yellow, cyan, green, magenta, red, blue
want = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255)]
row = rows[h // 4]
got = [tuple(row[3 * x:3 * x + 3]) for x in (w * (2 * k + 1) // 16 for k in range(7))]
assert got == want, "bars %s" % got
print("heapsoc-boot: screenshot %dx%d shows the guest's colour bars" % (w, h))
PY
grep -m1 'instructions' "$WORK/first.err" | sed 's/^/heapsoc-boot: /'

run second --dtb device-trees/heap-soc.dts
cmp -s "$WORK/first.out" "$WORK/second.out" || fail "console output differs between two identical runs"
a=$(grep -m1 -o 'after [0-9]* instructions' "$WORK/first.err")
b=$(grep -m1 -o 'after [0-9]* instructions' "$WORK/second.err")
[ "$a" = "$b" ] || fail "instruction counts differ: $a vs $b"
echo "heapsoc-boot: deterministic: identical console and $a"

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
run ecc-error --dtb device-trees/heap-soc.dts --plan none --inject ce@0x40123458 --inject ue@0x50000100
grep -q 'EDAC driver reported: EDAC MC0: 1 CE' "$WORK/ecc-error.err" || fail "the guest's EDAC driver did not report the correctable error"
grep -q '0x50000100 in memory@50000000 (non-ECC): the data was corrupted silently' "$WORK/ecc-error.err" ||
	fail "the non-ECC injection was not reported as silent corruption"
echo "heapsoc-boot: ECC error injection: $(grep -m1 -o 'EDAC MC0: 1 CE [^(]*' "$WORK/ecc-error.err")"
echo "heapsoc-boot: PASS"
