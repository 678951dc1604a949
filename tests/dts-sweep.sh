#!/usr/bin/env bash
# tests/dts-sweep.sh - `heapsoc inspect` over every arm64 board file of a Linux tree.
#
# Runs `heapsoc inspect --dtb FILE` (with `--memory 2G` where the tree gives no RAM) on every
# arch/arm64/boot/dts/**/*.dts of the kernel tree the guest build unpacked (or --tree DIR),
# classifies each result and checks:
#   - no panic (exit status 101, or "panicked" on stderr) and no timeout;
#   - at least 95% of the files are accepted;
#   - every rejection is one line, "heapsoc: error: FILE: ..." naming a node (a DT path);
#   - the summary by kind equals tests/dts-sweep.summary (a change in either direction shows as
#     a diff; --update rewrites the file after an intended change).
# The per-file results go to the work directory it prints (results.tsv: file, kind, message).
#
# usage: tests/dts-sweep.sh [--tree DIR] [--update] [--jobs N] [--heapsoc PATH]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TREE=""
UPDATE=0
JOBS=$(nproc)
HEAPSOC=""
while [ $# -gt 0 ]; do
	case "$1" in
	--tree) TREE=$2; shift 2 ;;
	--update) UPDATE=1; shift ;;
	--jobs) JOBS=$2; shift 2 ;;
	--heapsoc) HEAPSOC=$2; shift 2 ;;
	-h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "dts-sweep: unknown argument $1" >&2; exit 2 ;;
	esac
done
fail() { echo "dts-sweep: FAIL: $*" >&2; exit 1; }
SUMMARY="$ROOT/tests/dts-sweep.summary"

if [ -z "$TREE" ]; then
	GUEST=$("$ROOT/guest-images/build.sh" --print-dir) || fail "no guest built: run guest-images/build.sh (it unpacks the kernel tree)"
	trees=("$(dirname "$(dirname "$GUEST")")"/downloads/src/linux-source-*/linux-source-*)
	TREE=${trees[${#trees[@]} - 1]}
fi
[ -d "$TREE/arch/arm64/boot/dts" ] || fail "no arch/arm64/boot/dts under ${TREE:-(no tree)}"
if [ -z "$HEAPSOC" ]; then
	cargo build --release -q -p heapsoc
	HEAPSOC=$ROOT/target/release/heapsoc
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-dts-sweep.XXXXXX")
echo "dts-sweep: tree $TREE, work dir $WORK"

# one file -> one line "REL<TAB>KIND<TAB>MESSAGE" (KIND: ok, ok-with-memory, error, panic, timeout;
# "unbootable" appended when the board reads but heapsoc cannot build its machine)
one() {
	local tree=$1 heapsoc=$2 f=$3 rel out rc kind msg
	rel=${f#"$tree"/arch/arm64/boot/dts/}
	out=$(timeout 60 "$heapsoc" inspect --dtb "$f" 2>&1 >/dev/null) && rc=0 || rc=$?
	if [ "$rc" = 0 ]; then
		kind=ok
	elif grep -q "has no RAM" <<<"$out"; then
		out=$(timeout 60 "$heapsoc" inspect --dtb "$f" --memory 2G 2>&1 >/dev/null) && rc=0 || rc=$?
		kind=$([ "$rc" = 0 ] && echo ok-with-memory || echo error)
	else
		kind=error
	fi
	if [ "$rc" = 124 ]; then
		kind=timeout
	elif [ "$rc" = 101 ] || grep -q "panicked" <<<"$out"; then
		kind=panic
	fi
	msg=$(grep -m1 '^heapsoc: error: ' <<<"$out" || true)
	if [ -z "$msg" ] && grep -q '^heapsoc: warning: cannot boot this board: ' <<<"$out"; then
		kind="$kind unbootable"
		msg=$(grep -m1 '^heapsoc: warning: cannot boot this board: ' <<<"$out" | sed 's/^heapsoc: warning: cannot boot this board: /heapsoc: error: /')
	fi
	if [ "${kind%% *}" = error ] && [ -z "$msg" ]; then
		msg="(no error line) $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
	fi
	printf '%s\t%s\t%s\n' "$rel" "$kind" "${msg#heapsoc: error: }"
}
export -f one
find "$TREE/arch/arm64/boot/dts" -name '*.dts' | LC_ALL=C sort >"$WORK/files"
TOTAL=$(wc -l <"$WORK/files")
xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ "$TREE" "$HEAPSOC" {} <"$WORK/files" | LC_ALL=C sort >"$WORK/results.tsv"

# the kind of a rejection: its message with the file, node paths, numbers and quoted names
# taken out, so that the same cause on many boards is one line of the summary
classify() {
	awk -F'\t' '
	$2 == "error" || $2 ~ /unbootable/ {
		m = $3
		sub(/^[^ ]*: /, "", m)                 # the file
		gsub(/\/[^ :,;)]*/, "NODE", m)         # DT paths
		gsub(/"[^"]*"/, "\"...\"", m)
		gsub(/0x[0-9a-fA-F]+/, "N", m)
		gsub(/[0-9]+/, "N", m)
		print ($2 == "error" ? "rejected: " : "unbootable: ") m
	}' "$WORK/results.tsv" | LC_ALL=C sort | uniq -c | sort -k1,1rn -k2 | sed 's/^ *//'
}
{
	echo "# heapsoc inspect over the arm64 board files of $(basename "$(dirname "$TREE")"): kind counts, then rejections by cause"
	awk -F'\t' '{ n[$2]++ } END { for (k in n) print n[k], k }' "$WORK/results.tsv" | LC_ALL=C sort -k2
	echo "# rejections (the board does not read) and unbootable boards (it reads, heapsoc cannot build its machine), by cause"
	classify
} >"$WORK/summary"
cat "$WORK/summary"

PANICS=$(awk -F'\t' '$2 == "panic" || $2 == "timeout"' "$WORK/results.tsv")
[ -z "$PANICS" ] || fail "panics or timeouts:
$PANICS"
OK=$(awk -F'\t' '$2 ~ /^ok/' "$WORK/results.tsv" | wc -l)
PCT=$((100 * OK / TOTAL))
echo "dts-sweep: $OK of $TOTAL accepted ($PCT%)"
BAD=$(awk -F'\t' '($2 == "error" || $2 ~ /unbootable/) && $3 !~ /(^| )\/[^ ]*/' "$WORK/results.tsv" | head -n 5)
[ -z "$BAD" ] || fail "rejections that name no node:
$BAD"
if [ "$UPDATE" = 1 ]; then
	cp "$WORK/summary" "$SUMMARY"
	echo "dts-sweep: wrote $SUMMARY"
elif [ -f "$SUMMARY" ]; then
	diff -u "$SUMMARY" "$WORK/summary" || fail "the summary changed (above); if intended, run tests/dts-sweep.sh --update"
fi
[ "$PCT" -ge 95 ] || fail "only $PCT% of the board files are accepted (want at least 95%)"
echo "dts-sweep: PASS"
