# shellcheck shell=bash
# debian_mirror: prints the Debian mirror URI heapsoc's scripts fetch packages from:
# HEAPSOC_DEBIAN_MIRROR if set, else the first non-security "deb" URI of the machine's own apt
# sources (deb822 *.sources, then sources.list), else deb.debian.org. The machine's sources are
# only read, never changed. Sourced by guest-images/build.sh and tests/fresh-machine.sh.
debian_mirror() {
	if [ -n "${HEAPSOC_DEBIAN_MIRROR:-}" ]; then
		printf '%s' "$HEAPSOC_DEBIAN_MIRROR"
		return
	fi
	local uri="" f
	# deb822 sources: first URI of a stanza of type deb that is not the security archive
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk '
			function flush() { if (isdeb && u != "" && u !~ /security/ && !found) { print u; found = 1 } isdeb = 0; u = "" }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1 }
			tolower($1) == "uris:" { u = $2 }
			END { flush() }' "$f")
		[ -n "$uri" ] && break
	done
	# one-line sources.list: first "deb" line that is not the security archive
	if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list)
	fi
	printf '%s' "${uri:-http://deb.debian.org/debian}"
}
