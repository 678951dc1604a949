#!/usr/bin/env bash
# tests/bench-boot.sh - boot figures, heapsoc next to the QEMU reference, measured in one run:
# for each plan (none = boot to /init and power off; selftest = boot + the dmabuf-heaps
# kselftest; all = every guest test), host wall time and guest instructions of
#   qemu-system-aarch64 (TCG, same kernel, initramfs and board; tests/qemu-reference.sh)
#   heapsoc, interpreter alone (`heapsoc test --accel interp`)
#   heapsoc, interpreter and translator (`--accel translate`, x86-64 hosts)
# and the ratios to QEMU (each the whole process: QEMU's own, not the reference script's set-up;
# heapsoc's with its start-up, board compilation and guest lookup); the translator's figures
# (blocks, code size, translation time); then the cost of SMP: plan all on the reference board
# with 1 CPU and on its 4-CPU variant (device-trees/heap-soc-smp4.dts), heapsoc's interpreter
# alone. Not a test: it prints figures. Usage: tests/bench-boot.sh [RUNS] (default 3; the
# median wall time of the runs, QEMU and heapsoc interleaved, is reported).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${1:-3}
cargo build --release -q -p heapsoc
HEAPSOC=$ROOT/target/release/heapsoc

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Whole-process wall time of a heapsoc command (start-up, board compilation and finding the
# guest included), its stderr in $err.
timed() {
	local t0=$EPOCHREALTIME
	err=$("$@" 2>&1 >/dev/null || true)
	wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
}

TRANSLATE=0
[ "$(uname -m)" = x86_64 ] && TRANSLATE=1
printf '%-9s %14s %8s %14s %9s %7s %9s %7s\n' plan qemu-insns qemu-s heapsoc-insns interp-s ratio transl-s ratio
notes=()
for plan in none selftest all; do
	qs=() hs=() ts=()
	qi="" hi="" tl=""""
	# Instructions from one run with the counting plugin (which slows QEMU down), wall times
	# from runs without it.
	out=$(tests/qemu-reference.sh --plan "$plan" --insns 2>&1)
	qi=$(sed -n 's/.*guest instructions: \([0-9]*\).*/\1/p' <<<"$out" | tail -n 1)
	for _ in $(seq "$RUNS"); do
		out=$(tests/qemu-reference.sh --plan "$plan" 2>&1)
		qs+=("$(sed -n 's/.*QEMU exited with status [0-9]* after \([0-9.]*\) s wall.*/\1/p' <<<"$out" | tail -n 1)")
		timed "$HEAPSOC" test --quiet --accel interp --plan "$plan"
		hs+=("$wall")
		hi=$(sed -n 's/.*after \([0-9]*\) instructions.*/\1/p' <<<"$err")
		if [ "$TRANSLATE" = 1 ]; then
			timed "$HEAPSOC" test --quiet --accel translate --plan "$plan"
			ts+=("$wall")
			ti=$(sed -n 's/.*after \([0-9]*\) instructions.*/\1/p' <<<"$err")
			[ "$ti" = "$hi" ] || echo "bench-boot: plan $plan: the translator retired $ti instructions, the interpreter $hi" >&2
			tl=$(sed -n 's/^heapsoc: translator: //p' <<<"$err")
		fi
	done
	q=$(printf '%s\n' "${qs[@]}" | median)
	h=$(printf '%s\n' "${hs[@]}" | median)
	ratio() { awk -v q="$1" -v h="$2" 'BEGIN { if (q > 0 && h > 0) printf "%.2fx", h / q; else print "-" }'; }
	t=-
	[ "$TRANSLATE" = 1 ] && t=$(printf '%s\n' "${ts[@]}" | median)
	printf '%-9s %14s %8s %14s %9s %7s %9s %7s\n' "$plan" "${qi:--}" "$q" "$hi" "$h" "$(ratio "$q" "$h")" "$t" "$(ratio "$q" "$t")"
	[ -n "$tl" ] && notes+=("$plan: translator: $tl")
done
for n in "${notes[@]}"; do echo "$n"; done
echo "(ratio = heapsoc wall / QEMU wall, each its whole process; below 1 means heapsoc is faster. QEMU's guest clock is"
echo " the host's, heapsoc's is virtual: plan all holds frames on screen for seconds of guest time,"
echo " which costs QEMU wall time and heapsoc none.)"

printf '\n%-26s %14s %10s\n' "plan all, interpreter" instructions wall-s
for dts in device-trees/heap-soc.dts device-trees/heap-soc-smp4.dts; do
	hs=()
	for _ in $(seq "$RUNS"); do
		err=$("$HEAPSOC" test --quiet --accel interp --dtb "$dts" --plan all 2>&1 >/dev/null || true)
		hs+=("$(sed -n 's/.*instructions (\([0-9.]*\) s wall.*/\1/p' <<<"$err")")
		hi=$(sed -n 's/.*after \([0-9]*\) instructions.*/\1/p' <<<"$err")
		cpus=$(sed -n 's/^heapsoc: CPUs: \([0-9]*\) online.*/\1/p' <<<"$err")
	done
	printf '%-26s %14s %10s\n' "${cpus:-?} CPU(s): ${dts##*/}" "$hi" "$(printf '%s\n' "${hs[@]}" | median)"
done
