#!/usr/bin/env bash
# Installs the Debian packages shadowheap needs, only those missing. Safe to run again.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev clang-format
  libgtest-dev googletest librapidcheck-dev libbenchmark-dev
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev
  zip rustc cargo  # cargo: the Rust crate (bindings/rust) and its example, offline
  electric-fence libdmalloc5  # third-party malloc libraries the plugin tests load
  librsvg2-bin python3  # rsvg-convert renders the heap maps in ctest; python3 reads the PNGs
  chromium  # ctest opens fuzz.sh's report.html headless and checks a screenshot
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "setup: these Debian packages are missing and installing them needs root:" >&2
    echo "  apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
${SUDO:-} apt-get update -qq
DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
