#!/usr/bin/env bash
# Debian packages heapsoc's tests and guest build need. Run as root, it installs the
# missing ones (apt-get update first); otherwise it names them and fails.
set -euo pipefail

packages=(
  device-tree-compiler          # dtc: compiles board .dts files
  cpp                           # #include in kernel-style .dts files
  gcc-aarch64-linux-gnu         # guest kernel, guest tests, CPU differential tests
  binutils-aarch64-linux-gnu
  libc6-dev-arm64-cross
  qemu-user                     # qemu-aarch64: the CPU's reference oracle
  qemu-system-arm               # qemu-system-aarch64: the guest's reference oracle
  make bc flex bison rsync cpio xz-utils kmod  # kernel build
  patch                         # guest-images/build.sh --patch
  ca-certificates
  python3 python3-venv          # tests: the console session driver; kcidb-io in a venv
  swig python3-dev              # tests/binding-check.sh: dtschema's pylibfdt builds from source
  lava-dispatcher               # tests/lava.sh: lava-run, LAVA without a server
  debootstrap                   # tests/kvm-nested.sh: the trixie root that builds heapsoc for aarch64
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "heapsoc: missing Debian packages: ${missing[*]}" >&2
  echo "heapsoc: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "heapsoc: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
