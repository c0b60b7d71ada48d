#!/usr/bin/env bash
# The main job: build the fuzz preset and fuzz every registered allocator with libFuzzer.
#
#   ci/fuzz.sh                         # every allocator, 30 s each, as many at once as cores
#   ci/fuzz.sh --time 300 --jobs 1 --allocators bump,tlsf
#   ci/fuzz.sh --plugin ./libmyalloc.so   # an allocator from a shared library (plugin ABI)
#
# Output, under fuzz-out/ (kept between runs; delete it to start over):
#   corpus/<allocator>/      the growing corpus (seeded from corpus/seeds/*.trace)
#   crashes/<allocator>/     every input that made a violation, as libFuzzer saved it
#   regressions/             per violation: the minimized input, its readable trace and report,
#                            and a GoogleTest regression test ready to add
#   logs/<allocator>.log     libFuzzer's own output
# Exit status: 0 when no allocator had a violation, 1 otherwise, 2 on a usage or build error.
set -euo pipefail
cd "$(dirname "$0")/.."

time_per_target=30
jobs=$(nproc)
seed=1
only=""
plugin=""
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_per_target="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --allocators) only="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --plugin) plugin="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

bash ci/setup.sh
echo "=== building the fuzz preset (clang, libFuzzer + ASan + UBSan)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null || {
  echo "fuzz.sh: the build failed; run 'cmake --build --preset fuzz' to see why" >&2; exit 2; }

bin=build/fuzz/fuzz
replay=$bin/shadowheap-replay
out=fuzz-out
mkdir -p "$out"/{corpus,crashes,regressions,logs}

if [ -n "$plugin" ]; then
  [ -f "$plugin" ] || { echo "fuzz.sh: plugin '$plugin' does not exist" >&2; exit 2; }
  export SHADOWHEAP_PLUGIN
  SHADOWHEAP_PLUGIN=$(realpath "$plugin")
  "$replay" --list >/dev/null || exit 2  # the loader reports what is wrong with the plugin
  targets=(plugin)
elif [ -n "$only" ]; then
  IFS=, read -r -a targets <<<"$only"
else
  targets=()
  for f in "$bin"/fuzz_*; do
    [ "$f" = "$bin/fuzz_plugin" ] || targets+=("${f##*/fuzz_}")  # plugin: only with --plugin
  done
fi
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || { echo "fuzz.sh: no fuzz target for allocator '$t' (have: $(ls $bin | sed -n 's/^fuzz_//p' | tr '\n' ' '))" >&2; exit 2; }
done

fuzz_one() {
  local t=$1
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  "$bin/fuzz_$t" -seed="$seed" -max_total_time="$time_per_target" -timeout=10 \
    -rss_limit_mb=8192 -print_final_stats=1 -artifact_prefix="$out/crashes/$t/" \
    -dict=build/fuzz/corpus/shadowheap.dict \
    "$out/corpus/$t" build/fuzz/corpus/seeds >"$out/logs/$t.log" 2>&1 || true
}

progress() {  # one line per running target, from the last status line of its log
  local t line
  for t in "$@"; do
    line=$(grep -aE '^#[0-9]+' "$out/logs/$t.log" 2>/dev/null | tail -n 1 || true)
    if [ -n "$line" ]; then
      printf '  %-24s %s\n' "$t" "$(echo "$line" | sed -E 's/ (lim|L|MS|rss):.*//')"
    fi
  done
}

echo "=== fuzzing ${#targets[@]} allocator(s), ${time_per_target}s each, $jobs at a time, seed $seed"
running=()
declare -A pids
for t in "${targets[@]}" ""; do
  while [ ${#running[@]} -ge "$jobs" ] || { [ -z "$t" ] && [ ${#running[@]} -gt 0 ]; }; do
    sleep 5
    progress "${running[@]}"
    still=()
    for r in "${running[@]}"; do kill -0 "${pids[$r]}" 2>/dev/null && still+=("$r"); done
    running=("${still[@]+"${still[@]}"}")
  done
  [ -z "$t" ] && break
  : >"$out/logs/$t.log"
  fuzz_one "$t" &
  pids[$t]=$!
  running+=("$t")
done
wait

# The summary, and for each violation: minimize, print, write the regression.
status=0
printf '\n%-24s %10s %9s %10s %6s %8s %10s\n' allocator runs exec/s "~ops/s" cov corpus violations
for t in "${targets[@]}"; do
  log="$out/logs/$t.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  cov=$({ grep -aoE 'cov: [0-9]+' "$log" || true; } | tail -n1 | cut -d' ' -f2)
  corpus=$(find "$out/corpus/$t" -type f | wc -l)
  ops_per_input=$("$replay" --count-ops "$out/corpus/$t" 2>/dev/null || echo 0)
  crashes=$(find "$out/crashes/$t" -type f | wc -l)
  printf '%-24s %10s %9s %10s %6s %8s %10s\n' "$t" "${runs:-?}" "${eps:-?}" \
    "$(awk -v e="${eps:-0}" -v o="$ops_per_input" 'BEGIN { printf "%.0f", e * o }')" \
    "${cov:-?}" "$corpus" "$crashes"
  if [ "$crashes" -gt 0 ]; then status=1; fi
done

for t in "${targets[@]}"; do
  for crash in $(find "$out/crashes/$t" -type f 2>/dev/null | sort); do
    name=$(basename "$crash")
    min="$out/regressions/$t-$name.min"
    echo
    echo "=== violation in $t: $crash"
    if [ ! -f "$min" ]; then
      echo "minimizing (30 s)..."
      "$bin/fuzz_$t" -minimize_crash=1 -max_total_time=30 -timeout=10 -rss_limit_mb=8192 \
        -exact_artifact_path="$min" "$crash" >"$out/logs/$t-minimize.log" 2>&1 || true
      [ -s "$min" ] || cp "$crash" "$min"
    fi
    report="$out/regressions/$t-$name.txt"
    "$replay" --allocator "$t" --gtest "$min" >"$report" 2>&1 || true
    sed -n '/^\/\/ Regression test/,$!p' "$report"
    test_file="$out/regressions/${t}_${name}_test.cc"
    sed -n '/^\/\/ Regression test/,$p' "$report" >"$test_file"
    trace="$out/regressions/$t-$name.trace"
    { echo "# allocator: $t"; echo "# expect: none"; sed -n '/^# [0-9]* ops$/,/^$/p' "$report" | sed '1d;$d'; } >"$trace"
    echo "kept: $crash (original), $min (minimized)"
    echo "regression: $trace (copy into corpus/regressions/ once fixed), $test_file"
  done
done
exit $status
