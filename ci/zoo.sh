#!/usr/bin/env bash
# The zoo's detection table: for every seeded bug, how fast libFuzzer finds it (median over
# several seeds, from an empty corpus), how the property suite catches it, and how short the
# minimized reproducer is. libFuzzer runs as ci/fuzz.sh runs it (its schedule weighs inputs by their
# time: -entropic_scale_per_exec_time).
#
#   ci/zoo.sh                 # 5 seeds per bug, at most 60 s each
#   ci/zoo.sh --seeds 3 --time 30 --bugs slab_class_alignment,buddy_align_ignored
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=5
budget=60
only=""
usage_error() { echo "zoo.sh: $1 (see --help)" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] || usage_error "$1 needs a whole number >= 1, not '$2'"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds|--time|--bugs) [ $# -ge 2 ] || usage_error "$1 needs a value" ;;
  esac
  case "$1" in
    --seeds) number "$1" "$2"; seeds="$2"; shift 2 ;;
    --time) number "$1" "$2"; budget="$2"; shift 2 ;;
    --bugs) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
# Bug names are the rows of the zoo's table (zoo/zoo.cc); those marked Mode::kConcurrent are run
# in the stress mode instead of libFuzzer and the property suite.
known=$(sed -n 's/^ *{"\([a-z0-9_]*\)",$/\1/p' zoo/zoo.cc | tr '\n' ' ')
concurrent=$(awk '/^ *\{"[a-z0-9_]*",$/ { name = $0; gsub(/[ {",]/, "", name) }
                  /Mode::kConcurrent/ { print name }' zoo/zoo.cc | tr '\n' ' ')
IFS=, read -r -a wanted <<<"$only"
for b in "${wanted[@]+"${wanted[@]}"}"; do
  [[ " $known" == *" $b "* ]] || usage_error "no zoo bug '$b' (have: $known)"
done

bash ci/setup.sh
cmake --preset fuzz -DSHADOWHEAP_HARNESS_ASAN=OFF >/dev/null  # as ci/fuzz.sh builds it
cmake --build --preset fuzz -j "$(nproc)" >/dev/null
bin=build/fuzz/zoo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin/tests/zoo_test" --gtest_filter='ZooProperties.*' >"$work/properties.txt" 2>/dev/null || true

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-36s %8s %10s %6s  %-28s %-22s %6s\n' bug "fuzz s" "fuzz execs" found "property (runs)" kind "repro"
missed=0
for bug in $("$bin/zoo-replay" --list | sed -n 's/^zoo_//p'); do
  export SHADOWHEAP_ALLOCATOR="zoo_$bug"  # the zoo's one fuzz target fuzzes this bug
  if [ -n "$only" ] && [[ ",$only," != *",$bug,"* ]]; then continue; fi
  if [[ " $concurrent " == *" $bug "* ]]; then
    # Only threads at the same time reveal it: the stress mode, 4 threads, per seed.
    : >"$work/times"
    found=0
    kind=-
    for seed in $(seq 1 "$seeds"); do
      start=$(date +%s.%N)
      "$bin/zoo-stress" --allocator "zoo_$bug" --threads 4 --seed "$seed" --time "$budget" \
        >"$work/$bug-$seed.log" 2>&1 || true
      end=$(date +%s.%N)
      k=$(sed -n 's/^shadowheap: VIOLATION \([a-z_]*\).*/\1/p' "$work/$bug-$seed.log" | head -n1)
      if [ -n "$k" ]; then
        found=$((found + 1))
        kind=$k
        awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }' >>"$work/times"
      fi
    done
    if [ "$found" -eq 0 ]; then missed=$((missed + 1)); fi
    printf '%-36s %8s %10s %6s  %-28s %-22s %6s\n' "$bug" "$(median <"$work/times")" "-" \
      "$found/$seeds" "stress mode (4 threads)" "$kind" "-"
    continue
  fi
  : >"$work/times"; : >"$work/execs"
  found=0
  for seed in $(seq 1 "$seeds"); do
    dir="$work/$bug-$seed"; mkdir -p "$dir"
    start=$(date +%s.%N)
    ASAN_OPTIONS=detect_leaks=0 "$bin/fuzz_zoo" -seed="$seed" -max_total_time="$budget" -timeout=10 \
      -rss_limit_mb=4096 -print_final_stats=1 -entropic_scale_per_exec_time=1 \
      -artifact_prefix="$dir/" "$dir" >"$dir.log" 2>&1 || true
    end=$(date +%s.%N)
    if compgen -G "$dir/crash-*" >/dev/null || compgen -G "$dir/timeout-*" >/dev/null; then
      found=$((found + 1))
      awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }' >>"$work/times"
      sed -n 's/^stat::number_of_executed_units: *//p' "$dir.log" | tail -n1 >>"$work/execs"
    fi
  done
  repro="-"
  crash=$(compgen -G "$work/$bug-*/crash-*" | head -n1 || true)
  if [ -n "$crash" ]; then
    ASAN_OPTIONS=detect_leaks=0 "$bin/fuzz_zoo" -minimize_crash=1 -max_total_time=10 -timeout=10 \
      -exact_artifact_path="$work/$bug.min" "$crash" >/dev/null 2>&1 || true
    [ -s "$work/$bug.min" ] || cp "$crash" "$work/$bug.min"
    op=$({ "$bin/zoo-replay" --allocator "zoo_$bug" "$work/$bug.min" 2>&1 || true; } |
      sed -n 's/^  op #\([0-9]*\):.*/\1/p' | head -n1)
    [ -n "$op" ] && repro=$((op + 1))
  fi
  prop=$(grep "^ZOO $bug " "$work/properties.txt" || true)
  by=$(echo "$prop" | awk '{ print $4 }'); kind=$(echo "$prop" | awk '{ print $6 }')
  runs=$(echo "$prop" | awk '{ print $8 }'); shrunk=$(echo "$prop" | awk '{ print $12 }')
  if [ "$found" -eq 0 ]; then missed=$((missed + 1)); fi
  printf '%-36s %8s %10s %6s  %-28s %-22s %6s\n' "$bug" "$(median <"$work/times")" \
    "$(median <"$work/execs")" "$found/$seeds" "${by:-MISSED} (${runs:-0}, ${shrunk:-?} ops)" \
    "${kind:--}" "$repro"
done
echo
echo "fuzz s / execs: median over the seeds that found the bug (one core each, from an empty corpus)."
echo "property: the first property of the suite that failed, its runs until the first failure and"
echo "the shrunk trace's length; repro: ops in the libFuzzer-minimized input, up to the violation."
echo "A bug only threads at the same time reveal runs in the stress mode: fuzz s is its time to detect."
exit $((missed > 0))
