#!/usr/bin/env bash
# The test command: set-up, configure, build and ctest, for each preset. By default: fuzz (clang,
# ASan + UBSan + libFuzzer: every test under the sanitizers, and the zoo's fuzz detection), then
# dev (g++, no sanitizers), then tsan (clang, ThreadSanitizer: the threaded layer only: the
# stress mode, the threaded properties, the zoo's concurrent bugs).
#
#   ci/test.sh                     # everything, as CI runs it
#   ci/test.sh --preset asan       # one preset (asan: the sanitizers without libFuzzer)
#   ci/test.sh --preset tsan       # the threaded layer under ThreadSanitizer
#   RC_PARAMS="reproduce=..." ci/test.sh --preset asan   # replay a property failure
#   ci/test.sh --plugin ./libmyalloc.so   # the property suite and the seeds on a plugin
#                                         # (plugin ABI or malloc-family library)
#   options with --plugin: --plugin-opt OPTS (what the library cannot declare:
#   max_align=N,capacity=N,prefix=NAME,bind=own; SHADOWHEAP_PLUGIN_OPTS), --time-limit SECONDS
#   for each of the two runs (default 900),
#   --op-timeout SECONDS per op (default 10; SHADOWHEAP_OP_TIMEOUT), --no-build (use the
#   preset's build as it is).
#   ci/test.sh --isolate           # every property case in a worker process (always so for
#                                  # plugins): a crash fails the case, is shrunk, and the rest run
# A plugin run passes only if every run finished (the properties, the seeds, and for a plugin
# that declares thread safety the stress mode): an allocator that exits, hangs or is killed
# fails it, with what happened. Exit status: 0 pass, 1 violation or unfinished run, 2 usage.
set -euo pipefail
caller=$PWD  # relative paths in the arguments are relative to where it was run
cd "$(dirname "$0")/.."

usage_error() { echo "test.sh: $1 (see --help)" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge "${3:-0}" ] || usage_error "$1 needs a whole number >= ${3:-0}, not '$2'"; }
presets=()
plugin=""
time_limit=900
op_timeout=${SHADOWHEAP_OP_TIMEOUT:-10}
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --preset|--plugin|--plugin-opt|--time-limit|--op-timeout) [ $# -ge 2 ] || usage_error "$1 needs a value" ;;
  esac
  case "$1" in
    --preset) presets+=("$2"); shift 2 ;;
    --plugin) plugin="$2"; shift 2 ;;
    --plugin-opt) export SHADOWHEAP_PLUGIN_OPTS="$2"; shift 2 ;;
    --time-limit) number "$1" "$2" 1; time_limit="$2"; shift 2 ;;
    --op-timeout) number "$1" "$2" 0; op_timeout="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --isolate) export SHADOWHEAP_ISOLATE=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
for p in "${presets[@]+"${presets[@]}"}"; do
  case "$p" in dev|asan|fuzz|tsan) ;; *) usage_error "no preset '$p' (have: dev, asan, fuzz, tsan)" ;; esac
done
if [ -n "$plugin" ]; then
  case "$plugin" in
    /*) ;;
    */*) plugin="$caller/$plugin" ;;
  esac
  case "$plugin" in
    */*) [ -f "$plugin" ] || usage_error "plugin '$plugin' does not exist"; plugin=$(realpath "$plugin") ;;
  esac
fi
[ $build -eq 1 ] && bash ci/setup.sh

# run_checked WHAT MARKER COMMAND...: runs COMMAND with the time limit; it passed only if it
# exited 0 and printed MARKER (the proof that it ran to its end). Prints what happened.
run_checked() {
  local what=$1 marker=$2 log status=0
  shift 2
  log=$(mktemp)
  { timeout --signal=KILL "$time_limit" "$@" 2>&1 || echo $? >"$log.status"; } | tee "$log"
  [ -f "$log.status" ] && status=$(cat "$log.status")
  if [ $status -eq 137 ] && [ "$(( $(date +%s) - start ))" -ge "$time_limit" ]; then
    echo "test.sh: $what did not finish within $time_limit s (hang; see --time-limit)"
    hung=1
  elif [ $status -gt 128 ]; then
    echo "test.sh: $what was killed by signal $((status - 128)) (exit status $status)"
  elif ! grep -q -- "$marker" "$log"; then
    echo "test.sh: $what ended before finishing (exit status $status; no '$marker' in its output)"
    [ $status -eq 0 ] && status=1
  elif [ $status -ne 0 ]; then
    echo "test.sh: $what found a violation (exit status $status; see above)"
  fi
  rm -f "$log" "$log.status"
  return $status
}

if [ -n "$plugin" ]; then
  preset=${presets[0]:-asan}
  echo "=== plugin $plugin: the property suite and the seeds ($preset preset)"
  if [ $build -eq 1 ]; then
    cmake --preset "$preset" -DSHADOWHEAP_HARNESS_ASAN=OFF >/dev/null  # the plugin is the subject
    cmake --build --preset "$preset" -j "$(nproc)" --target heap_properties_test fuzz_plugin \
      shadowheap-replay shadowheap-stress >/dev/null
  fi
  export SHADOWHEAP_PLUGIN=$plugin SHADOWHEAP_OP_TIMEOUT=$op_timeout
  status=0
  hung=0
  start=$(date +%s)
  run_checked "the property suite" "test suites\{0,1\} ran\." \
    "build/$preset/properties/tests/heap_properties_test" --gtest_filter='*_plugin' || status=$?
  [ $status -eq 2 ] && exit 2  # the plugin did not load: the message above says why
  seeds_status=0
  start=$(date +%s)
  if [ $hung -eq 1 ]; then
    echo "test.sh: the seed replay is skipped: it would hang where the property suite did"
  elif [ "$preset" = fuzz ]; then
    run_checked "the seed replay" "stat::number_of_executed_units" \
      "build/$preset/fuzz/fuzz_plugin" -runs=0 -print_final_stats=1 "build/$preset/corpus/seeds" ||
      seeds_status=$?
  else
    run_checked "the seed replay" "no violation" \
      "build/$preset/fuzz/fuzz_plugin" "build/$preset/corpus/seeds" || seeds_status=$?
  fi
  # A plugin that declares thread safety (AUT_THREAD_SAFE) also runs the stress mode: 4 threads
  # at once on one instance (the properties above ran its thread-tagged ops one at a time).
  stress_status=0
  declared=""
  if [ $hung -eq 0 ] && [ $status -eq 0 ] && [ $seeds_status -eq 0 ]; then
    declared=$(timeout --signal=KILL 60 "build/$preset/fuzz/shadowheap-replay" --describe plugin \
      2>/dev/null || true)
  fi
  if [ $hung -eq 1 ] || [ $status -ne 0 ] || [ $seeds_status -ne 0 ]; then
    echo "test.sh: the stress mode is skipped: the runs above did not pass"
  elif ! grep -q '^thread_safe: yes' <<<"$declared"; then
    echo "the stress mode is skipped: the plugin does not declare thread safety (AUT_THREAD_SAFE)"
  else
    start=$(date +%s)
    run_checked "the stress mode (4 threads at once)" "no violation" \
      "build/$preset/stress/shadowheap-stress" --allocator plugin --threads 4 --ops 20000 ||
      stress_status=$?
  fi
  if [ $status -eq 0 ] && [ $seeds_status -eq 0 ] && [ $stress_status -eq 0 ]; then
    echo "plugin $plugin: no violation (every run finished)"
    exit 0
  fi
  echo "plugin $plugin: FAILED (see above)"
  exit 1
fi
[ ${#presets[@]} -gt 0 ] || presets=(fuzz dev tsan)

jobs=$(nproc)
# The tsan preset builds and runs the threaded layer only (what threads reach; the rest is the
# other presets' and costs ThreadSanitizer's 5-15x for nothing).
tsan_targets=(stress_tests heap_properties_test zoo_test zoo-stress)
tsan_tests='IntervalIndex|^Stress\.|Thread|ZooConcurrent.*threadcache'
for preset in "${presets[@]}"; do
  echo "=== preset $preset: configure and build"
  # The tests check the harness's own code under ASan too (CMakeLists.txt: SHADOWHEAP_HARNESS_ASAN).
  cmake --preset "$preset" -DSHADOWHEAP_HARNESS_ASAN=ON >/dev/null
  if [ "$preset" = tsan ]; then
    cmake --build --preset "$preset" -j "$jobs" --target "${tsan_targets[@]}"
  else
    cmake --build --preset "$preset" -j "$jobs"
  fi
  echo "=== preset $preset: test"
  filter=()
  [ "$preset" = tsan ] && filter=(-R "$tsan_tests")
  ctest --test-dir "build/$preset" --output-on-failure -j "$jobs" "${filter[@]+"${filter[@]}"}"
done
