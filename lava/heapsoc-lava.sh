#!/bin/sh
# heapsoc-lava: the guest side of heapsoc's LAVA jobs, for the guest's busybox sh.
# The job's ramdisk overlay copies it to /usr/bin/heapsoc-lava (a `format: file` overlay:
# LAVA writes it without the executable bit, so the test definitions run `sh FILE`).
#
#   heapsoc-lava tests [PROG...]  run /tests/PROG (default: dmabuf-heap, then every other
#                                 /tests program, in the order of the `all` plan), each in a
#                                 LAVA test set named after it: one test case per TAP point
#                                 and one named after the program (its exit status: 0 pass,
#                                 4 skip, else fail; fail too when points of its plan are
#                                 missing). Always exits 0: the results are the test cases.
#   heapsoc-lava cases FILE       print "CASE RESULT" for every TAP point of FILE (a program's
#                                 output) and a last line "#plan PLANNED SEEN"; no LAVA needed
#   heapsoc-lava bad-scanout      point the PL111 at the first no-map carveout for a second
#                                 (the host's placement verdict must fail)
#   heapsoc-lava power-off        power the guest off once lava-test-runner has exited, so
#                                 that heapsoc prints its verdict for the job's monitor
#
# Case names are the paths `heapsoc test --kcidb` gives the same points, without its
# heapsoc.PROGRAM. prefix (the LAVA test set is the program): the point's description, for
# the kselftest after HEAP: and GROUP: (its "# Testing heap: NAME" and "# Testing GROUP:"
# lines), without the values it ends with ("Import buffer 0"), one part per ": "-separated
# piece, each lowercase with every run of characters other than [a-z0-9_] one "-", parts
# joined by ".", repeats -2, -3: display-cma-58000000.allocation-and-importing.import-buffer,
# the same on every board.
set -u

OUT=/tmp/heapsoc-lava

cases() { # cases FILE
	awk '
	function part(s) {
		s = tolower(s)
		gsub(/[^a-z0-9_]+/, "-", s)
		sub(/^-+/, "", s)
		sub(/-+$/, "", s)
		return s == "" ? "_" : s
	}
	function is_value(w,   v) {
		v = w
		if (index(v, "=") > 0) v = substr(v, index(v, "=") + 1)
		sub(/[,;)]+$/, "", v)
		sub(/^-/, "", v)
		return v ~ /^0x[0-9A-Fa-f]+$/ || v ~ /^[0-9]+$/
	}
	function without_values(s,   n, w, i, out) {
		n = split(s, w, /[ \t]+/)
		while (n > 1 && is_value(w[n])) n--
		out = ""
		for (i = 1; i <= n; i++)
			if (w[i] != "") out = (out == "" ? w[i] : out " " w[i])
		sub(/:+$/, "", out)
		return out
	}
	BEGIN { planned = -1; seen = 0; heap = ""; group = "" }
	{ sub(/\r$/, "") }
	/^1\.\.[0-9]+/ {
		if (planned < 0) { p = $0; sub(/^1\.\./, "", p); sub(/[^0-9].*$/, "", p); planned = p + 0 }
		next
	}
	/^# Testing heap: / { heap = $0; sub(/^# Testing heap: */, "", heap); group = ""; next }
	/^# Testing .*:[ \t]*$/ { group = $0; sub(/^# Testing */, "", group); sub(/:[ \t]*$/, "", group); next }
	/^(not )?ok([ \t]|$)/ {
		result = "pass"
		d = $0
		if (d ~ /^not ok/) { result = "fail"; sub(/^not ok[ \t]*/, "", d) } else sub(/^ok[ \t]*/, "", d)
		sub(/^[0-9]+[ \t]*/, "", d)
		directive = ""
		if (match(d, /[ \t]*#/)) {
			directive = toupper(substr(d, RSTART + RLENGTH))
			d = substr(d, 1, RSTART - 1)
		}
		sub(/^[ \t]+/, "", directive)
		if (directive ~ /^SKIP/) result = "skip"
		else if (directive ~ /^TODO/ && result == "fail") result = "skip"
		sub(/^-[ \t]*/, "", d)
		d = without_values(d)
		name = ""
		if (heap != "" && index(d, heap) != 1) name = heap ": "
		if (group != "" && index(d, group) != 1) name = name group ": "
		name = name d
		# one part per ": "-separated piece
		id = ""
		while ((i = index(name, ": ")) > 0) {
			id = id part(substr(name, 1, i - 1)) "."
			name = substr(name, i + 2)
		}
		id = id part(name)
		seen++
		n = ++count[id]
		# lava-server keeps 100 characters of a case name
		if (n > 1) id = substr(id, 1, 96) "-" n
		else id = substr(id, 1, 100)
		print id, result
	}
	END { print "#plan", (planned < 0 ? seen : planned), seen }
	' "$1"
}

default_progs() {
	echo dmabuf-heap
	for p in /tests/*; do
		[ "$p" = /tests/dmabuf-heap ] || [ ! -x "$p" ] || echo "${p##*/}"
	done
}

run_tests() {
	mkdir -p "$OUT"
	progs=$*
	[ -n "$progs" ] || progs=$(default_progs)
	for name in $progs; do
		name=${name##*/}
		exe=/tests/$name
		lava-test-set start "$name"
		if [ ! -x "$exe" ]; then
			echo "heapsoc-lava: $exe: no such test program"
			lava-test-case "$name" --result fail
			lava-test-set stop
			continue
		fi
		echo "heapsoc-lava: running $exe"
		# the program's TAP goes to the console (LAVA's log, and heapsoc reads the display
		# test's lines there) and to a file for the cases; its exit status survives the pipe
		{
			rc=0
			"$exe" </dev/null 2>&1 || rc=$?
			echo "$rc" >"$OUT/$name.rc"
		} | tee "$OUT/$name.tap"
		rc=$(cat "$OUT/$name.rc")
		cases "$OUT/$name.tap" >"$OUT/$name.cases"
		planned=0 seen=0
		while read -r id result rest; do
			if [ "$id" = "#plan" ]; then
				planned=$result seen=$rest
				continue
			fi
			lava-test-case "$id" --result "$result"
		done <"$OUT/$name.cases"
		whole=pass
		case "$rc" in
		0) ;;
		4) whole=skip ;;
		*) whole=fail ;;
		esac
		if [ "$seen" -lt "$planned" ]; then
			echo "heapsoc-lava: $name planned $planned TAP points and printed $seen"
			whole=fail
		fi
		echo "heapsoc-lava: $name exited $rc: $whole"
		lava-test-case "$name" --result "$whole"
		lava-test-set stop
	done
	return 0
}

# The first 8 bytes of a DT property as 0x... (a 64-bit address).
dt_addr() {
	printf '0x%s' "$(od -An -tx1 -N8 "$1" | tr -d ' \n')"
}

bad_scanout() {
	dt=/proc/device-tree
	clcd="" carve=""
	for n in "$dt"/*; do
		if grep -q 'arm,pl111' "$n/compatible" 2>/dev/null; then clcd=$(dt_addr "$n/reg"); fi
	done
	for n in "$dt"/reserved-memory/*; do
		if [ -z "$carve" ] && [ -e "$n/no-map" ]; then carve=$(dt_addr "$n/reg"); fi
	done
	if [ -z "$clcd" ] || [ -z "$carve" ] || [ ! -e /dev/mem ]; then
		echo "heapsoc-lava: bad-scanout needs a PL111, a no-map carveout and /dev/mem"
		lava-test-case bad-scanout --result fail
		return 0
	fi
	devmem $((clcd + 0x00)) 32 0xc   # TIM0: 64 pixels per line
	devmem $((clcd + 0x04)) 32 63    # TIM1: 64 lines
	devmem $((clcd + 0x10)) 32 "$carve"
	devmem $((clcd + 0x18)) 32 0x82b # LCDControl: enable, TFT, 24 bpp, power
	sleep 1
	devmem $((clcd + 0x18)) 32 0
	echo "heapsoc-lava: the PL111 at $clcd scanned out the carveout at $carve for 1 s (the host verdict must fail)"
	lava-test-case bad-scanout --result pass
	return 0
}

power_off() {
	runner=""
	for d in /proc/[0-9]*; do
		case "$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" in
		*/lava-test-runner\ *) runner=${d#/proc/} ;;
		esac
	done
	# in the background: LAVA's test shell ends when lava-test-runner prints its EXIT line
	(
		set +x
		if [ -n "$runner" ]; then
			while [ -d "/proc/$runner" ]; do sleep 1; done
		fi
		echo "heapsoc-lava: powering off"
		sync
		# /init's shell plan turns poweroff into its own end (HEAPSOC-EXIT, then poweroff -f);
		# an older /init ignores it, hence the forced one after a while
		poweroff
		sleep 30
		poweroff -f
	) </dev/null >/dev/console 2>&1 &
	echo "heapsoc-lava: the guest powers off once lava-test-runner (pid ${runner:-not found}) exits"
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case "$cmd" in
tests) run_tests "$@" ;;
cases) cases "$1" ;;
bad-scanout) bad_scanout ;;
power-off) power_off ;;
*)
	echo "usage: heapsoc-lava tests [PROG...] | cases FILE | bad-scanout | power-off" >&2
	exit 2
	;;
esac
