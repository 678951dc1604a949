#!/usr/bin/env bash
# tests/lava.sh - heapsoc as a LAVA device (issue #18), with Debian's lava-dispatcher and no
# lava-server: lava/render.py renders the device dictionary lava/heapsoc-device.jinja2, and
# lava-run runs two jobs against it:
#   1. lava/heapsoc-job.yaml: deploy the guest's kernel, initramfs (LAVA appends its overlay
#      to the cpio) and the board's DTB; boot with LAVA's qemu method (`heapsoc run ...`) to
#      the shell plan's prompt; a lava-test-shell runs the guest's heap tests, one test case
#      per TAP point; the guest powers off and a monitor reads heapsoc's placement verdict.
#      The job must complete, every heap test case and program pass, the verdict pass.
#   2. lava/heapsoc-bad-scanout-job.yaml: the guest points the PL111 at the no-map carveout;
#      the job must complete and the verdict's `placement` case fail.
# Needs root (lava-run insists), lava-dispatcher (installed here when missing, as root) and
# qemu-system-arm (tests/host-deps.sh: LAVA's qemu boot method records its version).
# HEAPSOC_GUEST=DIR picks the guest (default: guest-images/build.sh's, built if needed);
# HEAPSOC_BIN=PATH a heapsoc binary (default: cargo build --release -p heapsoc);
# HEAPSOC_LAVA_KEEP=1 keeps the work directory.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
START=$(date +%s)
PY=/usr/bin/python3 # lava-dispatcher's python, with its jinja2 and yaml

say() { echo "lava: $*"; }
finish() { # finish PASS|FAIL MESSAGE: the one-line summary
	echo "lava: $1: $2 ($(($(date +%s) - START)) s)"
	[ "$1" = PASS ]
}

WORK=""
cleanup() {
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "${HEAPSOC_LAVA_KEEP:-}" = 1 ]; then
			say "work directory kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	finish FAIL "lava-run must run as root"
	exit 1
fi
if ! command -v lava-run >/dev/null; then
	say "installing lava-dispatcher (Debian)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lava-dispatcher >/dev/null
fi
# CallQemuAction.validate reads the version of Debian's qemu-system-arm, else runs
# qemu-system-aarch64 --version; with neither it fails the job before anything boots
if ! dpkg-query -W -f='${Status}' qemu-system-arm 2>/dev/null | grep -q "install ok installed" &&
	! command -v qemu-system-aarch64 >/dev/null; then
	finish FAIL "LAVA's qemu boot method needs qemu-system-arm installed (tests/host-deps.sh)"
	exit 1
fi

if [ -n "${HEAPSOC_BIN:-}" ]; then
	HEAPSOC=$HEAPSOC_BIN
else
	cargo build --release -q -p heapsoc
	HEAPSOC=$ROOT/target/release/heapsoc
fi

GUEST=${HEAPSOC_GUEST:-}
if [ -z "$GUEST" ]; then
	GUEST=$(guest-images/build.sh --print-dir 2>/dev/null) || {
		guest-images/build.sh >/dev/null
		GUEST=$(guest-images/build.sh --print-dir)
	}
fi
for f in Image initramfs.cpio.gz; do
	[ -f "$GUEST/$f" ] || {
		finish FAIL "no $f in the guest directory $GUEST"
		exit 1
	}
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/heapsoc-lava.XXXXXX")
IMAGES=$WORK/images
mkdir -p "$IMAGES"
ln -s "$GUEST/Image" "$IMAGES/Image"
ln -s "$GUEST/initramfs.cpio.gz" "$IMAGES/initramfs.cpio.gz"
cp lava/heapsoc-lava.sh "$IMAGES/heapsoc-lava.sh"
# the board as a kernel build would ship it: a plain DTB
"$HEAPSOC" dtb --dtb device-trees/heap-soc.dts -o "$IMAGES/heap-soc.dtb" 2>"$WORK/dtb.err" || {
	cat "$WORK/dtb.err" >&2
	finish FAIL "heapsoc dtb failed"
	exit 1
}

# lava_job NAME JOB.yaml: render the device for the job's context, run the job; the log
# (lava-run's YAML lines) in $WORK/NAME.log, its results in $WORK/NAME.results
lava_job() {
	local name=$1 job=$2 id
	sed "s|file:///srv/heapsoc/|file://$IMAGES/|" "$job" >"$WORK/$name.yaml"
	$PY lava/render.py lava/heapsoc-device.jinja2 --job "$WORK/$name.yaml" \
		-D "heapsoc_command=$HEAPSOC" -o "$WORK/$name-device.yaml"
	# the job id names LAVA's tmp directory (/var/lib/lava/dispatcher/tmp/ID) and the
	# guest's /lava-ID: unique per run of this script
	id=$(($$ * 10 + ${#name}))
	say "$name: lava-run job $id ($job)"
	local t0 rc=0
	t0=$(date +%s)
	timeout 1800 lava-run --device "$WORK/$name-device.yaml" --output-dir "$WORK/$name-out" \
		--job-id "$id" "$WORK/$name.yaml" >"$WORK/$name.stdout" 2>"$WORK/$name.log" || rc=$?
	# lava-run removes it itself unless it was killed
	rm -rf "/var/lib/lava/dispatcher/tmp/$id"
	$PY lava/results.py "$WORK/$name.log" >"$WORK/$name.results"
	say "$name: lava-run exited $rc after $(($(date +%s) - t0)) s"
}

# result NAME DEFINITION SET CASE: the case's result, or "missing"
result() {
	awk -v d="$2" -v s="$3" -v c="$4" '$1 == d && $2 == s && $3 == c { r = $4 } END { print (r == "" ? "missing" : r) }' \
		"$WORK/$1.results"
}

PROBLEMS=()
problem() { PROBLEMS+=("$*"); }

job_complete() { # job_complete NAME
	local r
	r=$(result "$1" lava - job)
	if [ "$r" != pass ]; then
		if ! grep -q '"lvl": "target", "msg": "heapsoc-verdict: begin' "$WORK/$1.log"; then
			problem "$1: heapsoc printed no 'heapsoc-verdict: begin' block after the guest powered off (the monitor's start)"
		fi
		problem "$1: the job did not complete ($(grep -m1 '^# job error' "$WORK/$1.results" || echo "lava/job $r"))"
	fi
}

verdict() { # verdict NAME CASE EXPECTED
	local r
	r=$(result "$1" heapsoc-verdict - "$2")
	[ "$r" = "$3" ] || problem "$1: verdict case $2 is $r, expected $3"
}

# 1. the heap tests and a passing verdict
lava_job heaps lava/heapsoc-job.yaml
job_complete heaps
for run in 0_heapsoc-heaps 1_heapsoc-power-off; do
	r=$(result heaps lava - "$run")
	[ "$r" = pass ] || problem "heaps: test run $run: $r"
done
for prog in dmabuf-heap heap-placement heap-display; do
	r=$(result heaps 0_heapsoc-heaps "$prog" "$prog")
	[ "$r" = pass ] || problem "heaps: program $prog: $r"
done
CASES=$(awk '$1 == "0_heapsoc-heaps"' "$WORK/heaps.results" | wc -l)
KSELFTEST=$(awk '$1 == "0_heapsoc-heaps" && $2 == "dmabuf-heap" && $4 == "pass"' "$WORK/heaps.results" | wc -l)
FAILED=$(awk '$1 == "0_heapsoc-heaps" && $4 != "pass" && $4 != "skip" { print $2 "/" $3 "=" $4 }' "$WORK/heaps.results")
[ -z "$FAILED" ] || problem "heaps: failed cases: $(echo "$FAILED" | head -n 5 | tr '\n' ' ')"
# the kselftest's 48 points (12 per heap on the reference board's 4 heaps) and its program case
[ "$KSELFTEST" -ge 49 ] || problem "heaps: only $KSELFTEST dmabuf-heap cases passed (want 48 TAP points + the program)"
verdict heaps power_off pass
verdict heaps placement pass

# 2. a scanout from the carveout fails the verdict
lava_job bad-scanout lava/heapsoc-bad-scanout-job.yaml
job_complete bad-scanout
r=$(result bad-scanout 0_heapsoc-bad-scanout - bad-scanout)
[ "$r" = pass ] || problem "bad-scanout: the guest's bad-scanout step: $r"
verdict bad-scanout power_off pass
verdict bad-scanout placement fail

if [ ${#PROBLEMS[@]} -eq 0 ]; then
	finish PASS "job heaps Complete: $CASES heap test cases ($KSELFTEST kselftest), verdict pass; job bad-scanout Complete: verdict placement fail as expected"
else
	for p in "${PROBLEMS[@]}"; do echo "lava: - $p" >&2; done
	for name in heaps bad-scanout; do
		if [ -f "$WORK/$name.log" ]; then
			echo "---- $name: the last console lines" >&2
			$PY - "$WORK/$name.log" <<'EOF' >&2 || true
import sys, yaml
lines = []
for raw in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        rec = yaml.safe_load(raw)
    except yaml.YAMLError:
        continue
    if isinstance(rec, dict) and rec.get("lvl") in ("target", "error", "exception"):
        lines.append("%s %s" % (rec["lvl"][:3], rec.get("msg")))
print("\n".join(lines[-15:]))
EOF
		fi
	done
	finish FAIL "${#PROBLEMS[@]} problem(s), first: ${PROBLEMS[0]}"
fi
