#!/usr/bin/env bash
# tests/patched-guest.sh - the binding-prototyping loop's guest side (guest-images/build.sh
# --patch/--fragment, heapsoc --guest):
#   1. a patch that does not apply fails the build at once, naming the patch file and the hunk;
#   2. a patch (tests/patches/dma-heap-hello.patch, mbox) and a Kconfig fragment build a
#      guest of their own, in a directory next to the unpatched guest, which stays as it was;
#      --print-dir with the same arguments finds it;
#   3. `heapsoc test --guest DIR` boots it: the kernel log shows the patch, the kernel release
#      the fragment's LOCALVERSION.
# The patched kernel has its own object directory: the first run builds it (~5 minutes on 2
# cores), later runs reuse it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
START=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-patched.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() {
	echo "patched-guest: FAIL: $*" >&2
	exit 1
}
P=tests/patches

set +e
guest-images/build.sh --patch "$P/does-not-apply.patch" >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
set -e
[ "$rc" != 0 ] || fail "a patch that does not apply built a guest"
msg=$(grep 'does not apply' "$WORK/bad.err" || true)
case "$msg" in
*"does-not-apply.patch does not apply"*"drivers/dma-buf/dma-heap.c: hunk #1 FAILED"*) ;;
*) fail "the error does not name the patch and the hunk: $(tail -n 3 "$WORK/bad.err")" ;;
esac
echo "patched-guest: ${msg#build.sh: error: }"

plain=$(guest-images/build.sh 2>/dev/null)
args=(--patch "$P/dma-heap-hello.patch" --fragment "$P/localversion.fragment")
guest=$(guest-images/build.sh "${args[@]}" 2>"$WORK/build.err") ||
	fail "the patched guest did not build: $(tail -n 5 "$WORK/build.err")"
[ "$guest" != "$plain" ] || fail "the patched guest has the unpatched guest's directory $plain"
[ "$(guest-images/build.sh --print-dir)" = "$plain" ] || fail "the unpatched guest is gone"
[ "$(guest-images/build.sh --print-dir "${args[@]}")" = "$guest" ] ||
	fail "--print-dir with the same patch and fragment does not find $guest"
grep -q '"patches": \[{"file": ".*dma-heap-hello.patch"' "$guest/manifest.json" ||
	fail "the manifest does not list the patch"

cargo build --release -q -p heapsoc
target/release/heapsoc test --guest "$guest" --plan none >"$WORK/boot.out" 2>"$WORK/boot.err" ||
	fail "heapsoc test --guest $guest failed: $(tail -n 5 "$WORK/boot.err")"
grep -q "dma_heap: patched by heapsoc's patched-guest test" "$WORK/boot.out" ||
	fail "the patched kernel's message is not in the log"
grep -q '^# heapsoc guest: kernel 7\.3\.[0-9]*-heapsoc-patched,' "$WORK/boot.out" ||
	fail "the kernel release does not carry the fragment's LOCALVERSION: $(grep -m1 'heapsoc guest: kernel' "$WORK/boot.out")"
echo "patched-guest: PASS: $guest boots with the patch and the fragment, next to $plain ($(($(date +%s) - START)) s)"
