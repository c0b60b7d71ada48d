#!/usr/bin/env bash
# The test command: set-up, configure, build and ctest, for each preset. By default: fuzz (clang,
# ASan + UBSan + libFuzzer: every test under the sanitizers, and the zoo's fuzz detection), then
# dev (g++, no sanitizers).
#
#   ci/test.sh                     # everything, as CI runs it
#   ci/test.sh --preset asan       # one preset (asan: the sanitizers without libFuzzer)
#   RC_PARAMS="reproduce=..." ci/test.sh --preset asan   # replay a property failure
set -euo pipefail
cd "$(dirname "$0")/.."

presets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) presets+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#presets[@]} -gt 0 ] || presets=(fuzz dev)

bash ci/setup.sh
jobs=$(nproc)
for preset in "${presets[@]}"; do
  echo "=== preset $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== preset $preset: test"
  ctest --test-dir "build/$preset" --output-on-failure -j "$jobs"
done
