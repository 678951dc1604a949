#!/usr/bin/env bash
# tests/carveout-example.sh - examples/carveout-heap end to end, the commands of its README:
#   1. the patched guest builds (cached; a full kernel build the first time);
#   2. `--plan all` on examples/carveout-heap/board.dts: the kernel creates the heap
#      carveout-heap@5c000000, the kselftest and the placement test pass on it too;
#   3. the display limited to that heap: verdict pass, its buffers in the non-ECC bank,
#      inside the carveout, contiguous, the policy's first choice;
#   4. the display taking buffers from every heap under the same policy: a heap-policy
#      finding naming a display buffer from another heap;
#   5. board-typo.dts against the binding: one binding finding naming the node.
# Needs dt-schema for step 5 (tests/binding-check.sh installs it in a cached venv first).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
START=$(date +%s)
EX=examples/carveout-heap
HEAP=carveout-heap@5c000000
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-carveout.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() {
	echo "carveout-example: FAIL: $*" >&2
	exit 1
}

guest=$(guest-images/build.sh --patch "$EX/0001-dma-buf-heaps-carveout-heap.patch" \
	--fragment "$EX/carveout-heap.fragment" 2>"$WORK/build.err") ||
	fail "the patched guest did not build: $(tail -n 5 "$WORK/build.err")"
cargo build --release -q -p heapsoc
HEAPSOC=$ROOT/target/release/heapsoc
run() { # run NAME ARGS...: heapsoc test on the example board with the patched guest
	local name=$1
	shift
	set +e
	"$HEAPSOC" test --guest "$guest" --dtb "$EX/board.dts" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	echo $? >"$WORK/$name.rc"
	set -e
}

run all --plan all
[ "$(cat "$WORK/all.rc")" = 0 ] || fail "plan all failed: $(grep -m3 'not ok\|FAIL\|heapsoc: heaps' "$WORK/all.err")"
grep -q "^# heapsoc-heaps:.* $HEAP" "$WORK/all.out" || fail "the kernel made no heap $HEAP"
grep -q "also exports the no-map region(s) $HEAP as heap" "$WORK/all.err" || fail "heapsoc did not say the kernel exports $HEAP"
grep -q "^# ok [0-9]* Testing heap: $HEAP\|Testing heap: $HEAP" "$WORK/all.out" || fail "the kselftest did not test $HEAP"
echo "carveout-example: plan all passes with the heap $HEAP ($(grep -m1 -o 'Totals: pass:[0-9]* fail:[0-9]*' "$WORK/all.out") in the kselftest)"

run only --plan display --bootargs "panic=-1 heapsoc.display_heap=$HEAP" \
	--heap-policy "/display@9100000=$HEAP" \
	--expect /display@9100000=non-ecc --expect /display@9100000=contiguous \
	--report-json "$WORK/only.json"
[ "$(cat "$WORK/only.rc")" = 0 ] || fail "the display on $HEAP failed: $(grep -A5 'verdict' "$WORK/only.err" | head -n 6)"
python3 - "$WORK/only.json" "$HEAP" <<'PY' || fail "the display's buffers are not where the binding puts them"
import json, sys
p, heap = json.load(open(sys.argv[1])), sys.argv[2]
d = [x for x in p["devices"] if x["device"] == "/display@9100000"]
assert d, "the display did no DMA"
d = d[0]
assert d["pools"] == [heap], d["pools"]
assert d["contiguous"], "not contiguous"
assert d["banks"] and all(not b["ecc"] for b in d["banks"]), d["banks"]
pol = [x for x in p["policies"] if x["device"] == "/display@9100000"][0]
assert [h for h, _ in pol["got"]] == [heap], pol
print("carveout-example: display: %d buffer(s) inside %s, %s non-ECC, contiguous, the policy's first choice"
      % (d["buffers"], heap, d["banks"][0]["bank"]))
PY

run every --plan display --heap-policy "/display@9100000=$HEAP"
[ "$(cat "$WORK/every.rc")" != 0 ] || fail "display buffers from other heaps passed the policy"
finding=$(grep -m1 '/display@9100000: scanout framebuffer came from heap .*not a heap its policy allows' "$WORK/every.err" || true)
[ -n "$finding" ] || fail "no heap-policy finding for the display: $(grep -A4 'verdict' "$WORK/every.err" | head -n 5)"
echo "carveout-example: wrong heap: ${finding# }"

VENV=${XDG_CACHE_HOME:-$HOME/.cache}/heapsoc-tests/dtschema-2026.9
[ -x "$VENV/bin/dt-validate" ] || fail "no dt-schema venv at $VENV (tests/binding-check.sh makes it)"
set +e
PATH="$VENV/bin:$PATH" "$HEAPSOC" inspect --dtb "$EX/board-typo.dts" --validate --strict --schema "$EX/bindings" \
	>/dev/null 2>"$WORK/typo.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "the typo board passed --validate --strict"
typo=$(grep -m1 "binding: /reserved-memory/$HEAP: .*no-mpa" "$WORK/typo.err" || true)
[ -n "$typo" ] || fail "no binding finding for the typo: $(grep binding "$WORK/typo.err" | head -n 3)"
echo "carveout-example: typo: ${typo#heapsoc: error: binding: }"
echo "carveout-example: PASS ($(($(date +%s) - START)) s)"
