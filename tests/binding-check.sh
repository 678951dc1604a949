#!/usr/bin/env bash
# tests/binding-check.sh - `heapsoc inspect --validate`: a board against the kernel's DT
# bindings plus a prototype binding (examples/carveout-heap/bindings/heapsoc,carveout-heap.yaml), with dt-schema
# (the `dtschema` package from PyPI, in a venv of its own, cached):
#   1. without dt-validate in PATH, one error line naming the install command;
#   2. examples/carveout-heap/board-typo.dts (no-mpa for no-map) fails with --strict, the
#      finding naming the node and the property;
#   3. examples/carveout-heap/board.dts has no violation in that node.
# The first run processes the kernel's bindings with dt-mk-schema (cached with the guest).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
START=$(date +%s)
DTSCHEMA_VERSION=2026.9
fail() {
	echo "binding-check: FAIL: $*" >&2
	exit 1
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-binding.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q -p heapsoc
HEAPSOC=$ROOT/target/release/heapsoc
NODE=/reserved-memory/carveout-heap@5c000000

# 1. no dt-schema: one line that says what to install
set +e
PATH=/usr/bin:/bin "$HEAPSOC" inspect --dtb examples/carveout-heap/board.dts --validate >/dev/null 2>"$WORK/none.err"
rc=$?
set -e
[ "$rc" != 0 ] || fail "--validate without dt-schema succeeded"
grep -q 'dt-validate (dt-schema) is not installed: pip install dtschema' "$WORK/none.err" ||
	fail "no install hint: $(cat "$WORK/none.err")"
echo "binding-check: without dt-schema: $(grep -m1 -o 'dt-validate (dt-schema) is not installed: pip install dtschema' "$WORK/none.err")"

VENV=${XDG_CACHE_HOME:-$HOME/.cache}/heapsoc-tests/dtschema-$DTSCHEMA_VERSION
if ! "$VENV/bin/dt-validate" --version >/dev/null 2>&1; then
	rm -rf "$VENV"
	python3 -m venv "$VENV" || fail "python3 -m venv (Debian: python3-venv) failed"
	"$VENV/bin/pip" install -q "dtschema==$DTSCHEMA_VERSION" || fail "pip install dtschema==$DTSCHEMA_VERSION failed"
fi
export PATH="$VENV/bin:$PATH"

# 2. the typo, as an error
set +e
"$HEAPSOC" inspect --dtb examples/carveout-heap/board-typo.dts --schema examples/carveout-heap/bindings --strict \
	>/dev/null 2>"$WORK/typo.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "--strict with a binding violation exited $rc: $(tail -n 3 "$WORK/typo.err")"
finding=$(grep -m1 "^heapsoc: error: binding: $NODE: .*no-mpa" "$WORK/typo.err" || true)
[ -n "$finding" ] || fail "no finding naming $NODE and no-mpa: $(grep 'binding' "$WORK/typo.err" | head -n 5)"
echo "binding-check: expected finding: ${finding#heapsoc: error: binding: }"

# 3. the fixed node passes (other nodes may have their own warnings)
"$HEAPSOC" inspect --dtb examples/carveout-heap/board.dts --schema examples/carveout-heap/bindings >/dev/null 2>"$WORK/good.err" ||
	fail "inspect --schema on the fixed board failed: $(tail -n 3 "$WORK/good.err")"
grep -q 'dt-validate: [0-9]* binding violation' "$WORK/good.err" || fail "dt-validate did not run on the fixed board"
if grep -q "binding: $NODE:" "$WORK/good.err"; then
	fail "the fixed node still has violations: $(grep "binding: $NODE:" "$WORK/good.err")"
fi
echo "binding-check: PASS: the fixed node validates; $(grep -o 'dt-validate: [0-9]* binding violation(s)' "$WORK/good.err") elsewhere in the board, as warnings ($(($(date +%s) - START)) s)"
