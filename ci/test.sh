#!/usr/bin/env bash
# The test command: set-up, configure, build and ctest, for each preset. By default: fuzz (clang,
# ASan + UBSan + libFuzzer: every test under the sanitizers, and the zoo's fuzz detection), then
# dev (g++, no sanitizers).
#
#   ci/test.sh                     # everything, as CI runs it
#   ci/test.sh --preset asan       # one preset (asan: the sanitizers without libFuzzer)
#   RC_PARAMS="reproduce=..." ci/test.sh --preset asan   # replay a property failure
#   ci/test.sh --plugin ./libmyalloc.so   # the property suite and the seeds on a plugin
#                                         # (plugin ABI or malloc-family library)
set -euo pipefail
cd "$(dirname "$0")/.."

presets=()
plugin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) presets+=("$2"); shift 2 ;;
    --plugin) plugin="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
bash ci/setup.sh

if [ -n "$plugin" ]; then
  preset=${presets[0]:-asan}
  case "$plugin" in */*) [ -e "$plugin" ] && plugin=$(realpath "$plugin") ;; esac
  echo "=== plugin $plugin: build ($preset), then the property suite and the seeds"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)" --target heap_properties_test fuzz_plugin >/dev/null
  export SHADOWHEAP_PLUGIN=$plugin
  status=0
  "build/$preset/properties/tests/heap_properties_test" --gtest_filter='*_plugin' || status=$?
  [ $status -eq 2 ] && exit 2  # the plugin did not load: the message above says why
  [ $status -eq 0 ] || status=1
  runs=(); [ "$preset" = fuzz ] && runs=(-runs=0)
  "build/$preset/fuzz/fuzz_plugin" "${runs[@]}" "build/$preset/corpus/seeds" || status=1
  [ $status -eq 0 ] && echo "plugin $plugin: no violation" || echo "plugin $plugin: VIOLATION (see above)"
  exit $status
fi
[ ${#presets[@]} -gt 0 ] || presets=(fuzz dev)

jobs=$(nproc)
for preset in "${presets[@]}"; do
  echo "=== preset $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== preset $preset: test"
  ctest --test-dir "build/$preset" --output-on-failure -j "$jobs"
done
