#!/usr/bin/env bash
# tests/vendor-boards.sh - real boards from the Linux tree, unchanged, under heapsoc.
#
# Each board file of the guest's own kernel tree boots to the dmabuf-heaps kselftest
# (`heapsoc test --plan selftest`), given `--memory 2G` only when its tree has no RAM (the
# bootloader fills /memory in on hardware). Checked for each: exit status 0, the kselftest's
# "Totals: pass:N fail:0" with N > 0, the heaps the guest found equal to those predicted from
# the DT, every CPU the DT declares online in the guest, a console (the board's own UART or the
# virtio-console heapsoc adds, with the reason), and a placement verdict. The boards come from many vendors on purpose: heapsoc is built for
# the class of boards (PSCI over SMC or spin-table, GICv2/v3 with 3 or 4 interrupt cells,
# interrupt maps, vendor UARTs with SoC clocks), not for this list.
#
# usage: tests/vendor-boards.sh [BOARD ...]   (default: the list below; BOARD is vendor/name)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BOARDS=(arm/juno arm/fvp-base-revc arm/corstone1000-fvp hisilicon/hi3660-hikey960
	broadcom/bcm2711-rpi-4-b rockchip/rk3399-rock-pi-4b allwinner/sun50i-h6-pine-h64
	freescale/imx8mp-evk ti/k3-am625-sk qcom/qcm6490-idp mediatek/mt8195-demo
	xilinx/zynqmp-zcu102-rev1.0)
[ $# -eq 0 ] || BOARDS=("$@")
fail() { echo "vendor-boards: FAIL: $*" >&2; exit 1; }

GUEST=$(guest-images/build.sh --print-dir) || fail "no guest built: run guest-images/build.sh"
trees=("$(dirname "$(dirname "$GUEST")")"/downloads/src/linux-source-*/linux-source-*)
TREE=${trees[${#trees[@]} - 1]}
DTS=$TREE/arch/arm64/boot/dts
[ -d "$DTS" ] || fail "the guest's kernel tree is not unpacked under $(dirname "$(dirname "$GUEST")")/downloads/src"
cargo build --release -q -p heapsoc
HEAPSOC=$ROOT/target/release/heapsoc
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-vendor-boards.XXXXXX")
echo "vendor-boards: kernel tree $TREE, work dir $WORK"

failed=0
for b in "${BOARDS[@]}"; do
	name=${b//\//-}
	mem=()
	inspect=$("$HEAPSOC" inspect --dtb "$DTS/$b.dts" 2>&1 >/dev/null || true)
	if grep -q "has no RAM" <<<"$inspect"; then
		mem=(--memory 2G)
	fi
	set +e
	"$HEAPSOC" test --dtb "$DTS/$b.dts" "${mem[@]}" --plan selftest \
		--junit "$WORK/$name.xml" >"$WORK/$name.out" 2>"$WORK/$name.err"
	rc=$?
	set -e
	totals=$(grep -m1 -o 'Totals: pass:[0-9]* fail:[0-9]*' "$WORK/$name.out" || true)
	pass=${totals#*pass:}
	pass=${pass%% *}
	why=""
	[ "$rc" = 0 ] || why="exit status $rc"
	case "$totals" in *" fail:0") [ "${pass:-0}" -gt 0 ] || why="${why:+$why; }no kselftest case ran" ;;
	*) why="${why:+$why; }kselftest ${totals:-printed no Totals}" ;; esac
	grep -q '^heapsoc: heaps: the guest has the' "$WORK/$name.err" ||
		why="${why:+$why; }heaps differ from the prediction"
	cpus=$(sed -n 's/^heapsoc: CPUs: \([0-9]*\) online .* of \([0-9]*\) started$/\1 \2/p' "$WORK/$name.err")
	online="" started=""
	read -r online started <<<"$cpus" || true
	if [ -z "$online" ] || [ "$online" != "$started" ]; then
		why="${why:+$why; }CPUs online: ${cpus:-none reported} (online, started)"
	fi
	grep -q '^heapsoc: console: ' "$WORK/$name.err" || why="${why:+$why; }no console"
	grep -q '^verdict: ' "$WORK/$name.err" || why="${why:+$why; }no placement verdict"
	console=$(sed -n 's/^heapsoc: console: //p' "$WORK/$name.err" | cut -c1-90)
	if [ -n "$why" ]; then
		echo "vendor-boards: $b${mem[*]:+ (${mem[*]})}: FAIL: $why" >&2
		tail -n 15 "$WORK/$name.err" | sed 's/^/    /' >&2
		failed=$((failed + 1))
	else
		echo "vendor-boards: $b${mem[*]:+ (${mem[*]})}: $totals; $online CPUs online; console $console"
	fi
done
[ "$failed" = 0 ] || fail "$failed of ${#BOARDS[@]} boards"
echo "vendor-boards: PASS (${#BOARDS[@]} boards)"
